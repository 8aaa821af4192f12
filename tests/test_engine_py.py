"""The pure engine, both hashing paths, held to hashlib candidate by candidate.

Runs under CPython and PyPy (``PYTHONPATH=src MD5STEG_NO_EXTENSIONS=1 pypy3
-m pytest tests/test_engine_py.py``); standard library and pytest only.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import struct
from pathlib import Path

import pytest

from md5steg import _engine_py, _md5py
from md5steg.alphabets import Alphabet
from md5steg.layout import Layout, choose_layout
from md5steg.target import Target

METHODS = ["hashlib", "unrolled"]


@pytest.fixture(params=METHODS, ids=[f"method={name}" for name in METHODS])
def method(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def reference_scan(
    content: bytes, layout: Layout, target: Target, start: int, stop: int
) -> tuple[int, int]:
    """What every engine must return: the lowest index whose hashlib digest matches."""
    for nonce_index in range(start, stop):
        if target.matches(hashlib.md5(content + layout.suffix(nonce_index)).hexdigest()):
            return nonce_index, nonce_index - start + 1
    return -1, stop - start


def content_of(length: int) -> bytes:
    return bytes((7 * i + length) % 256 for i in range(length))


def check(
    content: bytes,
    alphabet: str,
    target: Target,
    method: str,
    start: int = 0,
    stop: int | None = None,
) -> None:
    layout = choose_layout(len(content), Alphabet.named(alphabet), target)
    stop = stop if stop is not None else start + 40 * target.expected_candidates
    scanner = _engine_py.Scanner(content, layout, target, method=method)
    assert scanner.scan(start, stop) == reference_scan(content, layout, target, start, stop)


# -- the MD5 itself ----------------------------------------------------------


def test_pure_md5_equals_hashlib_for_lengths_0_to_300() -> None:
    for length in range(301):
        data = content_of(length)
        pure = _md5py.Md5()
        pure.update(data[: length // 2])
        pure.update(data[length // 2 :])
        assert pure.digest() == hashlib.md5(data).digest(), length


def test_blocks_then_padding_gives_the_digest() -> None:
    data = content_of(1000)
    state = _md5py.compress_blocks(_md5py.IV, data[:960])
    tail = data[960:] + _md5py.padding(len(data))
    for offset in range(0, len(tail), 64):
        state = _md5py.compress(state, tail[offset : offset + 64])
    assert _md5py.state_digest(state) == hashlib.md5(data).digest()
    with pytest.raises(ValueError, match="whole 64-byte blocks"):
        _md5py.compress_blocks(_md5py.IV, data[:100])


def test_md5py_tables_are_md5s_and_the_c_cores_schedule() -> None:
    """_md5py's step tables against RFC 1321's formula and md5_schedule.h's X-macro, step by step.

    md5_schedule.h is the schedule of the C core and the OpenCL kernel alike."""
    assert [int(abs(math.sin(i + 1)) * 2**32) for i in range(64)] == _md5py._K
    header = Path(_md5py.__file__).with_name("md5_schedule.h")  # in src/ or installed beside it
    if not header.exists():
        pytest.skip(f"{header} is not installed here")
    text = header.read_text(encoding="utf-8")
    step = r"STEP\((\d+), (F|G|H1|H2|I), ([abcd]), ([abcd]), ([abcd]), ([abcd]), (\d+), (\d+)\)"
    steps = re.findall(step, text)
    assert [int(fields[0]) for fields in steps] == list(range(64))
    assert [fields[1][0] for fields in steps] == [r for r in "FGHI" for _ in range(16)]
    assert [fields[2] for fields in steps] == [_md5py._ROTATION[i % 4] for i in range(64)]
    assert [int(fields[6]) for fields in steps] == _md5py._WORD_ORDER
    assert [int(fields[7]) for fields in steps] == _md5py._SHIFTS
    constants = re.search(r"#define MD5STEG_K_VALUES(.*?)\n\n", text, re.DOTALL)
    assert constants is not None
    assert [int(k[:-1], 16) for k in re.findall(r"0x[0-9a-f]+u", constants.group(1))] == _md5py._K


@pytest.mark.parametrize("word_index", range(16))
def test_fast_word_kernel_returns_lowest_matching_table_index(word_index: int) -> None:
    rng = random.Random(word_index)
    state = tuple(rng.getrandbits(32) for _ in range(4))
    words = [rng.getrandbits(32) for _ in range(16)]
    words[word_index] &= 0x0000FFFF
    fast_words = [rng.getrandbits(16) << 16 for _ in range(600)]
    target = Target.from_pattern("_" * (2 * word_index % 9) + "5a")
    masks, values = target.mask_and_value()
    expected = -1
    for j, fast in enumerate(fast_words[10:500], start=10):
        block = list(words)
        block[word_index] |= fast
        digest = _md5py.state_digest(_md5py.compress(state, struct.pack("<16I", *block)))  # type: ignore[arg-type]
        if target.matches(digest.hex()):
            expected = j
            break
    kernel = _md5py.fast_word_kernel(word_index, masks, values)
    assert kernel(state, words, fast_words, 10, 500) == expected  # type: ignore[arg-type]


def test_fast_word_kernel_rejects_a_word_index_outside_the_block() -> None:
    with pytest.raises(ValueError, match="0..15"):
        _md5py.fast_word_kernel(16, (0xF, 0, 0, 0), (0, 0, 0, 0))


# -- scans against the hashlib reference -------------------------------------


def test_scan_matches_hashlib_for_content_lengths_0_to_300(method: str) -> None:
    for length in range(301):
        prefix = "0123456789abcdef"[length % 16] * (1 + length % 2)
        check(content_of(length), "ws5", Target.from_prefix(prefix), method)


@pytest.mark.parametrize("alphabet", ["ws5", "ws2", "ws6", "zw", "hex", "alnum", "printable"])
def test_scan_matches_hashlib_for_every_alphabet(method: str, alphabet: str) -> None:
    for length in range(0, 300, 23):
        check(content_of(length), alphabet, Target.from_prefix("c7"[: 1 + length % 2]), method)


@pytest.mark.parametrize("prefix", ["e", "9d", "0ff", "ffff"])
def test_scan_matches_hashlib_for_prefixes_of_1_to_4_hex(method: str, prefix: str) -> None:
    target = Target.from_prefix(prefix)
    for length in (0, 55, 64, 119, 200)[: 5 - len(prefix)]:
        content = content_of(length)
        layout = choose_layout(length, Alphabet.named("ws5"), target)
        hit, _ = reference_scan(content, layout, target, 0, 64 * target.expected_candidates)
        assert hit >= 0
        # The unrolled path is slow on CPython: scan a window ending just past the first hit.
        start = max(0, hit - 3000)
        scanner = _engine_py.Scanner(content, layout, target, method=method)
        assert scanner.scan(start, hit + 700) == (hit, hit - start + 1)


@pytest.mark.parametrize(
    "pattern", ["_a", "a_b", "__ff", "________1", "1______________________________f"]
)
def test_scan_matches_hashlib_for_patterns_with_wildcards(method: str, pattern: str) -> None:
    target = Target.from_pattern(pattern)
    for length in (3, 64, 77):
        check(content_of(length), "ws5", target, method, stop=8 * target.expected_candidates)


def test_scan_starts_and_stops_inside_outer_steps(method: str) -> None:
    target = Target.from_prefix("b")
    layout = choose_layout(40, Alphabet.named("ws5"), target)
    content = content_of(40)
    scanner = _engine_py.Scanner(content, layout, target, method=method)
    for start, stop in [(1, 2), (624, 626), (300, 1900), (1249, 1251), (7, 7)]:
        assert scanner.scan(start, stop) == reference_scan(content, layout, target, start, stop)


def test_scan_without_a_match_reports_every_candidate_tried(method: str) -> None:
    target = Target.from_prefix("0" * 12)
    layout = choose_layout(100, Alphabet.named("ws5"), target)
    scanner = _engine_py.Scanner(content_of(100), layout, target, method=method)
    assert scanner.scan(5, 2000) == (-1, 1995)


def test_scan_matches_the_compiled_engine(method: str) -> None:
    try:
        from md5steg import _core
    except ImportError:
        pytest.skip("the compiled core is not built")
    for length, prefix in [(0, "ab"), (61, "3"), (130, "fe1"), (200, "_7_c")]:
        target = Target.from_pattern(prefix)
        layout = choose_layout(length, Alphabet.named("ws5"), target)
        content = content_of(length)
        ours = _engine_py.Scanner(content, layout, target, method=method).scan(17, 100_000)
        for simd in _core.simd_paths():
            theirs = _core.Scanner(content, layout, target, simd).scan(17, 100_000)
            assert ours == theirs, f"{simd}, content length {length}, target {prefix}"


# -- choosing the path -------------------------------------------------------


def test_scanner_without_a_method_uses_the_default_for_aligned_layouts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layout = choose_layout(1, Alphabet.named("ws5"), Target.from_prefix("7"))
    for default in METHODS:
        monkeypatch.setattr(_engine_py, "DEFAULT_METHOD", default)
        assert _engine_py.Scanner(b"x", layout, Target.from_prefix("7")).method == default


def test_unrolled_falls_back_to_hashlib_for_the_generic_layout() -> None:
    mixed = Alphabet.from_chars(" \u200b", name="mixed")
    layout = choose_layout(10, mixed, Target.from_prefix("7"))
    assert not layout.aligned
    scanner = _engine_py.Scanner(b"0123456789", layout, Target.from_prefix("7"), method="unrolled")
    assert scanner.method == "hashlib"
    assert scanner.scan(0, 2000) == reference_scan(
        b"0123456789", layout, Target.from_prefix("7"), 0, 2000
    )


def test_unknown_method_is_refused() -> None:
    layout = choose_layout(1, Alphabet.named("ws5"), Target.from_prefix("7"))
    with pytest.raises(ValueError, match="unknown pure-engine method 'numpy'"):
        _engine_py.Scanner(b"x", layout, Target.from_prefix("7"), method="numpy")


def test_a_simd_path_is_refused() -> None:
    layout = choose_layout(1, Alphabet.named("ws5"), Target.from_prefix("7"))
    with pytest.raises(ValueError, match="no SIMD path 'avx2'"):
        _engine_py.Scanner(b"x", layout, Target.from_prefix("7"), "avx2")
    assert _engine_py.Scanner(b"x", layout, Target.from_prefix("7"), "none").simd_path == "none"


@pytest.mark.parametrize(
    ("pattern", "low", "high"),
    [
        ("ab", b"\xab", b"\xac"),
        ("abc", b"\xab\xc0", b"\xab\xd0"),
        ("ff", b"\xff", b"\xff" * 17),
        ("a_b", b"\xa0", b"\xb0"),
        ("_1", b"", b"\xff" * 17),
    ],
)
def test_leading_range_brackets_exactly_the_matching_digests(
    pattern: str, low: bytes, high: bytes
) -> None:
    assert _engine_py._leading_range(pattern) == (low, high)
