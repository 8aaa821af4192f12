"""The find() API: every answer agrees with hashlib, for every engine, layout and alphabet."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import md5steg
from md5steg.alphabets import NAMED_ALPHABETS, Alphabet
from md5steg.layout import choose_layout
from md5steg.target import Target


def check(data: bytes, match: md5steg.Match, target: str, alphabet: Alphabet) -> None:
    digest = hashlib.md5(data + match.suffix).hexdigest()
    assert match.md5 == digest
    assert all(want in ("_", got) for want, got in zip(target, digest))
    assert alphabet.strip_suffix(match.suffix) == b"", "the suffix holds only alphabet symbols"


def test_find_matches_hashlib_for_every_content_length_around_the_block_boundary(engine: str) -> None:
    alphabet = Alphabet.named("ws5")
    for length in range(0, 301):
        data = bytes((i * 7 + length) % 256 for i in range(length))
        match = md5steg.find(data, "a5", engine=engine, jobs=1)
        check(data, match, "a5", alphabet)


@pytest.mark.parametrize("name", sorted(NAMED_ALPHABETS))
def test_find_works_with_every_named_alphabet(engine: str, name: str) -> None:
    alphabet = Alphabet.named(name)
    for length in (0, 1, 47, 55, 56, 63, 64, 65, 119, 200):
        data = b"x" * length
        match = md5steg.find(data, "7e", alphabet=name, engine=engine, jobs=1)
        check(data, match, "7e", alphabet)


@given(
    data=st.binary(max_size=300),
    prefix=st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=3),
)
def test_find_prefix_property(engine: str, data: bytes, prefix: str) -> None:
    match = md5steg.find(data, prefix, engine=engine, jobs=1)
    check(data, match, prefix.lower(), Alphabet.named("ws5"))


@given(
    data=st.binary(max_size=200),
    pattern=st.text(alphabet="0123456789abcdef_", min_size=1, max_size=32).filter(
        lambda text: 1 <= sum(c != "_" for c in text) <= 3
    ),
)
def test_find_pattern_property(engine: str, data: bytes, pattern: str) -> None:
    match = md5steg.find(data, pattern=pattern, engine=engine, jobs=1)
    check(data, match, pattern, Alphabet.named("ws5"))


@given(
    chars=st.lists(st.characters(blacklist_categories=("Cs",)), min_size=2, max_size=12, unique=True),
    data=st.binary(max_size=130),
)
def test_find_with_custom_alphabets_including_multibyte_symbols(engine: str, chars: list[str], data: bytes) -> None:
    alphabet = Alphabet.from_chars("".join(chars))
    match = md5steg.find(data, "c", alphabet=alphabet, engine=engine, jobs=1)
    check(data, match, "c", alphabet)


def test_six_hex_prefix_end_to_end(engine: str) -> None:
    data = b"The quick brown fox jumps over the lazy dog\n"
    prefix = "c0ffee" if engine == "cython" else "c0ff"
    match = md5steg.find(data, prefix, engine=engine)
    check(data, match, prefix, Alphabet.named("ws5"))
    assert match.engine == engine


def test_engines_agree_on_the_lowest_matching_nonce() -> None:
    if "cython" not in md5steg._engine.available_engines():
        pytest.skip("needs the compiled engine")
    for length in (0, 13, 52, 60, 64, 100, 250):
        data = bytes(range(length % 256)) * (length // 256 + 1)
        data = data[:length]
        results = {md5steg.find(data, "beef", engine=name, jobs=1).suffix for name in ("cython", "python")}
        assert len(results) == 1


def test_result_does_not_depend_on_the_number_of_jobs(engine: str) -> None:
    data = b"determinism\n"
    prefix = "12345" if engine == "cython" else "1234"
    one = md5steg.find(data, prefix, engine=engine, jobs=1)
    two = md5steg.find(data, prefix, engine=engine, jobs=2)
    assert (one.suffix, one.nonce_index) == (two.suffix, two.nonce_index)


def test_suffix_stays_short_for_prefixes_up_to_8_hex() -> None:
    alphabet = Alphabet.named("ws5")
    for digits in range(1, 9):
        target = Target.from_prefix("f" * digits)
        longest = max(len(choose_layout(length, alphabet, target).suffix(0)) for length in range(0, 200))
        assert longest <= 40


def test_every_hit_is_rechecked_with_hashlib(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from md5steg import _engine

    real = _engine.load_engine(engine)

    class LyingScanner:
        def __init__(self, *args: object) -> None:
            self.inner = real.Scanner(*args)

        def scan(self, start: int, stop: int) -> tuple[int, int]:
            return start, 1  # claims the first candidate matches

    class LyingEngine:
        ENGINE_NAME = real.ENGINE_NAME
        Scanner = LyingScanner
        simd_paths = staticmethod(real.simd_paths)
        default_simd_path = staticmethod(real.default_simd_path)

    monkeypatch.setattr("md5steg.search.load_engine", lambda name: LyingEngine)
    with pytest.raises(md5steg.EngineError, match="does not match"):
        md5steg.find(b"data", "abcdef", engine=engine, jobs=1)


def test_progress_callback_reports_growing_candidate_counts(engine: str) -> None:
    seen: list[md5steg.Progress] = []
    md5steg.find(b"progress", "abcd", engine=engine, jobs=1, progress=seen.append)
    assert seen, "the callback is called at least once"
    counts = [snapshot.candidates for snapshot in seen]
    assert counts == sorted(counts)
    assert all(0.0 <= snapshot.probability <= 1.0 for snapshot in seen)


def test_too_much_work_is_refused_with_an_estimate() -> None:
    with pytest.raises(md5steg.TooMuchWorkError, match="candidates"):
        md5steg.find(b"x", "0" * 20, max_expected_seconds=60)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"prefix": ""}, md5steg.InvalidTargetError),
        ({"prefix": "xyz"}, md5steg.InvalidTargetError),
        ({"prefix": "0" * 33}, md5steg.InvalidTargetError),
        ({"pattern": "zz__"}, md5steg.InvalidTargetError),
        ({"pattern": "_" * 8}, md5steg.InvalidTargetError),
        ({"pattern": "a" * 33}, md5steg.InvalidTargetError),
        ({"prefix": "ab", "pattern": "ab"}, md5steg.InvalidTargetError),
        ({"prefix": "ab", "alphabet": "nope"}, md5steg.InvalidAlphabetError),
        ({"prefix": "ab", "engine": "fortran"}, md5steg.EngineError),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        md5steg.find(b"data", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("chars", ["a", "", "aba", "x" * 300])
def test_bad_custom_alphabets_are_refused(chars: str) -> None:
    with pytest.raises(md5steg.InvalidAlphabetError):
        Alphabet.from_chars(chars)


def test_replace_strips_only_trailing_alphabet_symbols() -> None:
    alphabet = Alphabet.named("ws5")
    assert alphabet.strip_suffix(b"hello \tworld\n \t\x0b\x0c\n") == b"hello \tworld"
    zero_width = Alphabet.named("zw")
    assert zero_width.strip_suffix("page\u200b\ufeff\u2060".encode()) == b"page"
