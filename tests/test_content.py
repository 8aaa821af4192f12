"""Content read in chunks: the midstate, tail and re-check digest agree with hashlib for any length."""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
import time

import pytest

from md5steg import _md5py
from md5steg import content as content_module
from md5steg._engine import load_engine
from md5steg.alphabets import Alphabet
from md5steg.content import Content
from md5steg.layout import choose_layout
from md5steg.target import Target

LENGTHS = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 191, 192, 193, 300]
CHUNK_SIZES = [1, 3, 64, 65, 1 << 20]
SUFFIX = b" \t \t\t  "


def data_of(length: int) -> bytes:
    return bytes((31 * i + length) % 251 for i in range(length))


def resumed_digest(content: Content) -> str:
    """MD5 finished from the content's state words alone: equals hashlib's only if they are right."""
    return _md5py.Md5(content.state, content.tail, content.length).hexdigest()


@pytest.fixture(params=["compiled-or-pure", "pure-keeps-100-bytes"])
def compressor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How ``from_stream`` hashes: as this install does, or pure and keeping up to 100 bytes."""
    if request.param == "pure-keeps-100-bytes":
        monkeypatch.setenv("MD5STEG_NO_EXTENSIONS", "1")
        monkeypatch.setattr(content_module, "PURE_KEEP_BYTES", 100)
    return str(request.param)


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize("length", LENGTHS)
def test_from_stream_matches_hashlib_at_every_block_boundary(
    length: int, chunk_size: int, compressor: str
) -> None:
    data = data_of(length)
    chunks: list[bytes] = []
    content = Content.from_stream(io.BytesIO(data), sink=chunks.append, chunk_size=chunk_size)
    assert b"".join(chunks) == data
    assert content.length == len(content) == length
    assert content.head_length == length - length % 64
    assert content.tail == data[content.head_length :]
    assert resumed_digest(content) == hashlib.md5(data).hexdigest()
    assert content.md5_with(b"") == hashlib.md5(data).hexdigest()
    assert content.md5_with(SUFFIX) == hashlib.md5(data + SUFFIX).hexdigest()


@pytest.mark.parametrize("length", LENGTHS)
def test_from_bytes_equals_from_stream(length: int) -> None:
    data = data_of(length)
    in_memory, streamed = Content.from_bytes(data), Content.from_stream(io.BytesIO(data), chunk_size=7)
    assert (in_memory.state, in_memory.tail) == (streamed.state, streamed.tail)
    assert in_memory.md5_with(SUFFIX) == streamed.md5_with(SUFFIX)


def test_md5_with_does_not_disturb_the_next_call() -> None:
    content = Content.from_bytes(b"x" * 100)
    first = content.md5_with(b"a")
    content.md5_with(b"bbbb")
    assert content.md5_with(b"a") == first == hashlib.md5(b"x" * 100 + b"a").hexdigest()


@pytest.mark.parametrize("length", [0, 63, 64, 65, 200])
def test_pickled_streamed_content_rebuilds_its_hasher_from_the_state_words(
    length: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content_module, "PURE_KEEP_BYTES", 0)  # even a pure install keeps nothing
    data = data_of(length)
    copy = pickle.loads(pickle.dumps(Content.from_stream(io.BytesIO(data), chunk_size=5)))
    assert isinstance(copy.hasher(), _md5py.Md5)
    assert (copy.length, copy.tail) == (length, data[length - length % 64 :])
    assert resumed_digest(copy) == hashlib.md5(data).hexdigest()
    for suffix in (b"", SUFFIX, SUFFIX * 20):
        assert copy.md5_with(suffix) == hashlib.md5(data + suffix).hexdigest()


def test_pickled_content_from_bytes_keeps_a_hashlib_hasher() -> None:
    copy = pickle.loads(pickle.dumps(Content.from_bytes(b"abc")))
    assert not isinstance(copy.hasher(), _md5py.Md5)
    assert copy.md5_with(b"d") == hashlib.md5(b"abcd").hexdigest()


def test_a_tail_that_does_not_fit_the_length_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        Content(65, b"", _md5py.IV)


ALPHABETS = {
    "ws5": Alphabet.named("ws5"),  # aligned: the fast-word kernels
    "zw": Alphabet.named("zw"),  # 3-byte symbols
    "mixed": Alphabet.from_chars(" \t\u00a0\u2003", name="mixed"),  # generic layout
}


def reference_hit(data: bytes, alphabet: str, target: Target, stop: int) -> int:
    layout = choose_layout(len(data), ALPHABETS[alphabet], target)
    for nonce_index in range(stop):
        if target.matches(hashlib.md5(data + layout.suffix(nonce_index)).hexdigest()):
            return nonce_index
    return -1


@pytest.mark.parametrize("alphabet", list(ALPHABETS))
@pytest.mark.parametrize("how", ["streamed", "pickled"])
@pytest.mark.parametrize("length", [0, 60, 64, 130, 1000])
def test_engines_scan_streamed_content_like_hashlib(
    engine: str, how: str, length: int, alphabet: str
) -> None:
    data = data_of(length)
    content = Content.from_stream(io.BytesIO(data), chunk_size=3)
    if how == "pickled":
        content = pickle.loads(pickle.dumps(content))
    target = Target.from_prefix("7e")
    layout = choose_layout(content.length, ALPHABETS[alphabet], target)
    stop = 20 * target.expected_candidates
    hit, _ = load_engine(engine).Scanner(content, layout, target).scan(0, stop)
    assert hit == reference_hit(data, alphabet, target, stop)
    assert target.matches(content.md5_with(layout.suffix(hit)))


HUGE = 2**31 + 1000  # past every signed 32-bit length


@pytest.fixture(scope="module")
def huge_content(tmp_path_factory: pytest.TempPathFactory) -> Content:
    """A 2 GiB + 1000 B sparse file (zeros, then "!"), read once through ``from_stream``.

    About 5-15 s on a loaded 2-core machine; memory is the process's peak RSS,
    so the bound covers everything the test run did, not only the read.
    """
    if content_module._block_compressor() is _md5py.compress_blocks:
        pytest.skip("without the compiled core, 2 GiB of pure-Python MD5 takes minutes to hours")
    import resource  # POSIX only; the test that uses this fixture is skipped on Windows

    path = tmp_path_factory.mktemp("huge") / "huge.bin"
    with path.open("wb") as file:
        file.truncate(HUGE - 1)
        file.seek(HUGE - 1)
        file.write(b"!")
    started = time.perf_counter()
    with path.open("rb") as file:
        content = Content.from_stream(file)
    path.unlink()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{HUGE} bytes streamed in {time.perf_counter() - started:.1f} s; peak RSS {peak_mib:.0f} MiB")
    assert peak_mib < 1024
    return content


@pytest.mark.skipif(sys.platform == "win32", reason="sparse files and ru_maxrss as on POSIX")
def test_content_past_2_gib_streams_in_bounded_memory_and_scans(
    engine: str, huge_content: Content
) -> None:
    assert huge_content.length == HUGE
    assert huge_content.tail == b"\0" * (HUGE % 64 - 1) + b"!"
    target = Target.from_prefix("5a")
    layout = choose_layout(huge_content.length, Alphabet.named("ws5"), target)
    hit, _ = load_engine(engine).Scanner(huge_content, layout, target).scan(0, 8192)
    # md5_with is hashlib over the streamed bytes, independent of the engines' midstate.
    assert hit >= 0 and target.matches(huge_content.md5_with(layout.suffix(hit)))
    assert not any(target.matches(huge_content.md5_with(layout.suffix(n))) for n in range(hit))
