"""The compiled fast-word kernels against hashlib, on every SIMD path this build and CPU run.

Every path must return exactly the lowest matching nonce index, the same as the scalar kernel
and as a brute-force hashlib search, for any content length (every fast-word position in the
final block), any target shape (prefixes, and patterns fixing digits in any digest word) and
any range, including ranges that start or end in the middle of a vector or an outer step.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import sys

import pytest

_core = pytest.importorskip("md5steg._core")

from hypothesis import given, settings
from hypothesis import strategies as st

from md5steg.alphabets import Alphabet
from md5steg.layout import Layout, choose_layout
from md5steg.target import Target

SIMD_PATHS = _core.simd_paths()
# AArch64 with GCC or Clang (Linux, macOS): NEON is baseline there. (MSVC on Windows ARM64 builds
# the scalar kernel only.)
ARM64 = platform.machine().lower() in ("aarch64", "arm64") and sys.platform != "win32"
WS5 = Alphabet.named("ws5")
MIXED_WIDTHS = Alphabet.from_chars(" \t\u00a0\u2003", name="mixed")  # 1, 1, 2 and 3 bytes
BIG_LAYOUT_TARGET = Target.from_prefix("0000000000")  # 32-digit ws5 suffixes, like real searches


@pytest.fixture(params=SIMD_PATHS, ids=lambda path: f"simd={path}")
def simd(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def digest(content: bytes, layout: Layout, nonce_index: int) -> str:
    return hashlib.md5(content + layout.suffix(nonce_index)).hexdigest()


@functools.cache
def brute_force_matches(
    content: bytes, layout: Layout, target: Target, stop: int
) -> tuple[int, ...]:
    """Every nonce index below ``stop`` whose digest matches, by hashlib (cached across paths)."""
    return tuple(n for n in range(stop) if target.matches(digest(content, layout, n)))


@functools.lru_cache(maxsize=4096)
def lowest_match(content: bytes, layout: Layout, target: Target, start: int, stop: int) -> int:
    """Lowest matching index in [start, stop) by hashlib, or -1 (cached across paths)."""
    for n in range(start, stop):
        if target.matches(digest(content, layout, n)):
            return n
    return -1


def scan(content: bytes, layout: Layout, target: Target, simd: str, start: int, stop: int) -> int:
    hit, tried = _core.Scanner(content, layout, target, simd=simd).scan(start, stop)
    assert tried == (hit - start + 1 if hit >= 0 else max(stop - start, 0))
    return int(hit)


def test_simd_paths_are_distinct_and_end_in_scalar() -> None:
    assert SIMD_PATHS[-1] == "scalar"
    assert len(set(SIMD_PATHS)) == len(SIMD_PATHS)
    assert set(SIMD_PATHS) <= {"avx512", "avx2", "sse2", "neon", "scalar"}
    assert _core.default_simd_path() == SIMD_PATHS[0]


def test_arm64_runs_the_neon_kernel_by_default_and_only_arm64_has_it() -> None:
    if ARM64:
        assert SIMD_PATHS == ["neon", "scalar"]
        assert _core.default_simd_path() == "neon"
    else:
        assert "neon" not in SIMD_PATHS


@pytest.mark.parametrize("name", ["avx1024", "", "SCALAR"])
def test_scanner_rejects_unknown_simd_path(name: str) -> None:
    target = Target.from_prefix("ab")
    layout = choose_layout(10, WS5, target)
    if name == "":  # empty means "the default", as None does
        assert _core.Scanner(b"0123456789", layout, target, simd=name).simd_path == SIMD_PATHS[0]
        return
    with pytest.raises(ValueError, match="not available"):
        _core.Scanner(b"0123456789", layout, target, simd=name)


def test_scanner_reports_the_path_it_runs(simd: str) -> None:
    target = Target.from_prefix("ab")
    assert _core.Scanner(b"", choose_layout(0, WS5, target), target, simd=simd).simd_path == simd


@pytest.mark.parametrize("alphabet", [WS5, MIXED_WIDTHS], ids=["aligned", "generic"])
def test_first_hit_matches_hashlib_for_every_content_length(simd: str, alphabet: Alphabet) -> None:
    target = Target.from_prefix("a5")
    seen_fast_words = set()
    for length in range(301):
        content = bytes((7 * i + length) % 256 for i in range(length))
        layout = choose_layout(length, alphabet, target)
        assert layout.aligned == (alphabet is WS5)
        if layout.aligned:
            seen_fast_words.add(layout.fast_word_index)
        stop = min(layout.capacity, 4096)
        assert scan(content, layout, target, simd, 0, stop) == lowest_match(
            content, layout, target, 0, stop
        )
    if alphabet is WS5:
        assert seen_fast_words == set(range(13))


@pytest.mark.parametrize("alphabet_name", ["ws2", "ws5", "hex", "zw"])
def test_aligned_alphabets_match_hashlib(simd: str, alphabet_name: str) -> None:
    # ws2 has a 16-entry fast table (smaller than a vector group); zw leaves a fixed byte in the
    # fast word, so base_word | fast_words[j] is not just the table value.
    alphabet = Alphabet.named(alphabet_name)
    target = Target.from_prefix("7")
    for length in (0, 3, 57, 64, 100, 131):
        content = b"q" * length
        layout = choose_layout(length, alphabet, target)
        assert layout.aligned
        stop = min(layout.capacity, 3000)
        for start in (0, 1, 17, 45, 333):
            expected = lowest_match(content, layout, target, start, stop)
            assert scan(content, layout, target, simd, start, stop) == expected


@pytest.mark.parametrize("prefix_digits", [1, 2, 3, 4, 5, 6])
def test_prefix_search_finds_the_scalar_answer(simd: str, prefix_digits: int) -> None:
    content = b"md5steg kernel test\n" * 5
    layout = choose_layout(len(content), WS5, BIG_LAYOUT_TARGET)
    known = 150_000 + 7 * prefix_digits  # a candidate the target is built from: a hit exists
    target = Target.from_prefix(digest(content, layout, known)[:prefix_digits])
    hit = scan(content, layout, target, simd, 0, layout.capacity)
    assert 0 <= hit <= known
    assert hit == scan(content, layout, target, "scalar", 0, layout.capacity)
    assert target.matches(digest(content, layout, hit))


def test_scalar_prefix_search_is_lowest_by_hashlib() -> None:
    content = b"md5steg kernel test\n" * 5
    layout = choose_layout(len(content), WS5, BIG_LAYOUT_TARGET)
    for prefix_digits in (1, 2, 3):
        target = Target.from_prefix(digest(content, layout, 4000 + prefix_digits)[:prefix_digits])
        expected = lowest_match(content, layout, target, 0, 4001 + prefix_digits)
        assert scan(content, layout, target, "scalar", 0, layout.capacity) == expected


def keep_digits(full_digest: str, positions: range | list[int]) -> str:
    """A pattern fixing the digest's digits at ``positions`` and wildcarding the rest."""
    return "".join(char if index in positions else "_" for index, char in enumerate(full_digest))


@pytest.mark.parametrize(
    "positions",
    [
        [4, 5],  # "____ab__": word 0, not a prefix
        [0, 1, 2, 3, 4, 5, 6, 7, 8],  # nine-digit prefix: word 1 is needed
        [10, 11, 12],  # word 1 only
        [16, 17, 22],  # word 2 only
        [30, 31],  # "______________________________ab": word 3 only
        [0, 13, 20, 31],  # one digit in each word
        list(range(32)),  # the whole digest
    ],
    ids=lambda positions: "digits-" + "-".join(map(str, positions[:5])),
)
def test_pattern_with_digits_in_any_word_finds_the_known_candidate(
    simd: str, positions: list[int]
) -> None:
    content = b"pattern test " * 9
    layout = choose_layout(len(content), WS5, BIG_LAYOUT_TARGET)
    known = 2 * layout.fast_size + 333  # mid-way through the third outer step
    target = Target.from_pattern(keep_digits(digest(content, layout, known), positions))
    start = known - 700  # starts mid-outer-step, mid-vector
    expected = lowest_match(content, layout, target, start, known + 1)
    assert expected != -1
    assert scan(content, layout, target, simd, start, known + 1) == expected
    assert scan(content, layout, target, simd, start, known + 50) == expected
    assert scan(content, layout, target, simd, start, known + 50) == scan(
        content, layout, target, "scalar", start, known + 50
    )
    if expected == known:  # a target this narrow matches nothing before it
        assert scan(content, layout, target, simd, start, known) == -1
        assert scan(content, layout, target, simd, known + 1, known + 3000) == lowest_match(
            content, layout, target, known + 1, known + 3000
        )


def test_lowest_hit_wins_when_several_lanes_match(simd: str) -> None:
    content = b"two hits in one vector"
    layout = choose_layout(len(content), WS5, BIG_LAYOUT_TARGET)
    target = Target.from_prefix("3")  # one candidate in 16 matches: vectors often hold several
    matches = brute_force_matches(content, layout, target, 2 * layout.fast_size)
    triples = [(a, b, c) for a, b, c in zip((-1,) + matches, matches, matches[1:]) if c - b < 4]
    assert triples, "the fixture content should give two close matches"
    for previous, first, second in triples[:10]:
        for start in range(max(previous + 1, first - 20), first + 1):
            assert scan(content, layout, target, simd, start, second + 1) == first
        assert scan(content, layout, target, simd, first + 1, second + 1) == second


def test_ranges_start_and_stop_anywhere(simd: str) -> None:
    content = bytes(range(77))
    layout = choose_layout(len(content), WS5, BIG_LAYOUT_TARGET)
    target = Target.from_prefix("5c")
    stop_limit = 3 * layout.fast_size
    matches = brute_force_matches(content, layout, target, stop_limit)
    edges = [0, 1, 15, 16, 17, 31, 47, 48, 49, 63, 64, 65, 100, 575, 576, 600, 623, 624, 625, 626]
    edges += [layout.fast_size + edge for edge in edges] + [stop_limit]
    for start in edges:
        for stop in edges:
            expected = next((n for n in matches if start <= n < stop), -1)
            assert scan(content, layout, target, simd, start, stop) == expected, (start, stop)


def test_empty_range_tries_nothing(simd: str) -> None:
    target = Target.from_prefix("0")
    layout = choose_layout(5, WS5, BIG_LAYOUT_TARGET)
    scanner = _core.Scanner(b"empty", layout, target, simd=simd)
    assert scanner.scan(1000, 1000) == (-1, 0)
    assert scanner.scan(1000, 10) == (-1, 0)


@settings(max_examples=40, deadline=None)
@given(
    content=st.binary(max_size=200),
    start=st.integers(min_value=0, max_value=2000),
    length=st.integers(min_value=0, max_value=1500),
    generic=st.booleans(),
)
def test_any_content_and_range_matches_hashlib(
    content: bytes, start: int, length: int, generic: bool
) -> None:
    target = Target.from_prefix("e")
    layout = choose_layout(len(content), MIXED_WIDTHS if generic else WS5, BIG_LAYOUT_TARGET)
    expected = lowest_match(content, layout, target, start, start + length)
    for simd in SIMD_PATHS:
        assert scan(content, layout, target, simd, start, start + length) == expected


def carry_cases() -> list[tuple[str, int, int]]:
    """(alphabet, content length, slow digit k) around whose carry an outer step rewrites blocks."""
    cases = []
    for name, lengths in (("zw", range(0, 64, 7)), ("ws2", (0, 9, 40, 61)), ("ws5", (36, 100))):
        alphabet = Alphabet.named(name)
        for length in lengths:
            layout = choose_layout(length, alphabet, BIG_LAYOUT_TARGET)
            slow_digits = layout.digits - layout.fast_digits
            ks = range(1, slow_digits + 1) if alphabet.base < 5 or name == "zw" else (1, 2, 3, 7)
            cases += [(name, length, k) for k in ks if k <= slow_digits]
    return cases


def test_carry_cases_cover_fast_word_zero() -> None:
    layouts = {(name, length) for name, length, _ in carry_cases()}
    fast_words = {
        choose_layout(length, Alphabet.named(name), BIG_LAYOUT_TARGET).fast_word_index
        for name, length in layouts
    }
    assert 0 in fast_words and len(fast_words) > 3


@functools.cache
def matches_between(
    content: bytes, layout: Layout, target: Target, start: int, stop: int
) -> list[int]:
    """Every matching index in [start, stop), by hashlib (cached across paths)."""
    return [n for n in range(start, stop) if target.matches(digest(content, layout, n))]


def test_scans_across_slow_digit_carries_match_hashlib(simd: str) -> None:
    # A carry out of the k-th lowest slow digit rewrites bytes further back, possibly in an
    # earlier block than the one the last slow digits share: outer steps must pick that up.
    # Scanning on from each hit lists every match of the range; starting 1..4 outer steps
    # before the carry puts it at every position of the core's four-step batches.
    target = Target.from_prefix("e")  # dense: a stale block state shows up within a few steps
    for name, length, k in carry_cases():
        alphabet = Alphabet.named(name)
        layout = choose_layout(length, alphabet, BIG_LAYOUT_TARGET)
        content = bytes(range(length))
        # The digit k places up goes 0 -> 1, then (base - 2) -> (base - 1): zw symbols share
        # leading bytes, so only some of its steps rewrite the first byte.
        for digit in (1, alphabet.base - 1):
            carry = digit * alphabet.base**k * layout.fast_size
            check_carry(content, layout, target, simd, carry, (name, length, k))


def check_carry(
    content: bytes,
    layout: Layout,
    target: Target,
    simd: str,
    carry: int,
    case: tuple[str, int, int],
) -> None:
    """Every match around nonce ``carry``, listed by scanning on from each hit, equals hashlib's."""
    fast_size = layout.fast_size
    stop = carry + 3 * fast_size + 5
    if stop <= layout.capacity:
        everything = matches_between(
            content, layout, target, max(0, carry - 4 * fast_size - 1), stop
        )
        for steps_before in (1, 2, 3, 4):
            first = max(0, carry - steps_before * fast_size - 1)
            start, found = first, []
            while True:
                hit = scan(content, layout, target, simd, start, stop)
                if hit < 0:
                    break
                found.append(hit)
                start = hit + 1
            assert found == [n for n in everything if n >= first], (case, carry, steps_before)


def test_compress_takes_whole_blocks_only_and_agrees_with_the_pure_md5() -> None:
    from md5steg import _md5py

    data = bytes(range(256)) * 3
    assert _core.compress(_core.IV, data) == _md5py.compress_blocks(_md5py.IV, data)
    assert _core.compress(_core.IV, memoryview(data)[:64]) == _md5py.compress_blocks(_md5py.IV, data[:64])
    assert _core.compress(_core.IV, b"") == _core.IV == _md5py.IV
    with pytest.raises(ValueError, match="whole 64-byte blocks"):
        _core.compress(_core.IV, data[:100])
