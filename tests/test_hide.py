"""md5steg.hide / reveal: the message comes back exactly, the MD5 target holds, any change is refused.

Every test here uses ``cheap_kdf_for_tests`` (a documented test hook: scrypt
with a tiny cost), so hundreds of round trips stay fast; the real cost is
checked by the format test in ``test_hide_format.py``.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import md5steg
from md5steg import stego, stego_format
from md5steg.alphabets import NAMED_ALPHABETS, Alphabet, resolve_alphabet
from md5steg.errors import Md5stegError

PASSPHRASE = "correct horse battery staple"
WHITESPACE_TAILS = ["", " ", "\n", " \t \n", "\u200b", "\x0b\x0c", "  \t\t\n\n\n"]


@pytest.fixture(scope="module", autouse=True)
def cheap_kdf() -> Iterator[None]:
    with stego.cheap_kdf_for_tests():
        yield


def hidden(data: bytes, message: bytes, prefix: str = "a5", alphabet: object = "ws5", **options: object) -> bytes:
    """Hide, check the target and the alphabet-only suffix, and return the new bytes."""
    match = md5steg.hide(data, message, passphrase=PASSPHRASE, prefix=prefix, alphabet=alphabet, **options)
    result = data + match.suffix
    chosen = resolve_alphabet(alphabet)  # type: ignore[arg-type]
    assert hashlib.md5(result).hexdigest().startswith(prefix) and match.md5 == hashlib.md5(result).hexdigest()
    assert chosen.strip_suffix(match.suffix) == b"", "the suffix holds only alphabet symbols"
    assert match.sealed_length + match.nonce_length == len(match.suffix)
    return result


def assert_refused(data: bytes, alphabet: object = None) -> None:
    with pytest.raises(Md5stegError):
        md5steg.reveal(data, passphrase=PASSPHRASE, alphabet=alphabet)  # type: ignore[arg-type]


covers = st.one_of(
    st.binary(max_size=150),
    st.builds(lambda text, tail: (text + tail).encode(), st.text(max_size=80), st.sampled_from(WHITESPACE_TAILS)),
)
messages = st.one_of(st.binary(max_size=4096), st.text(max_size=1200).map(str.encode))


@settings(max_examples=25)
@given(cover=covers, message=messages, name=st.sampled_from(sorted(NAMED_ALPHABETS)))
def test_round_trip_property(engine: str, cover: bytes, message: bytes, name: str) -> None:
    result = hidden(cover, message, alphabet=name, engine=engine, jobs=1)
    found = stego.find_hidden(result, passphrase=PASSPHRASE, alphabet=name)
    assert found.message == message
    assert found.cover_length == len(cover), "reveal knows exactly where the cover ends"
    assert md5steg.reveal(result, passphrase=PASSPHRASE) == message, "the named alphabet is detected"


@settings(max_examples=15)
@given(
    chars=st.lists(st.characters(blacklist_categories=("Cs",)), min_size=2, max_size=40, unique=True),
    cover=st.binary(max_size=130),
    message=st.binary(max_size=300),
)
def test_round_trip_with_custom_alphabets_including_multibyte_symbols(
    engine: str, chars: list[str], cover: bytes, message: bytes
) -> None:
    alphabet = Alphabet.from_chars("".join(chars))
    result = hidden(cover, message, prefix="7", alphabet=alphabet, engine=engine, jobs=1)
    assert md5steg.reveal(result, passphrase=PASSPHRASE, alphabet=alphabet) == message


@pytest.mark.parametrize("name", ["ws5", "zw", "ws2"])
def test_round_trip_for_every_cover_length_around_the_block_boundaries(engine: str, name: str) -> None:
    for length in range(0, 140):
        cover = bytes((index * 7 + length) % 256 for index in range(length))
        result = hidden(cover, b"block boundary", prefix="c", alphabet=name, engine=engine, jobs=1)
        assert md5steg.reveal(result, passphrase=PASSPHRASE, alphabet=name) == b"block boundary"


@pytest.mark.parametrize("name", sorted(NAMED_ALPHABETS))
def test_cover_ending_in_its_own_alphabet_characters(engine: str, name: str) -> None:
    tail = "".join(reversed(NAMED_ALPHABETS[name])) * 3
    cover = ("The visible text" + tail).encode()
    result = hidden(cover, "ünïcode message ✓".encode(), prefix="1f", alphabet=name, engine=engine, jobs=1)
    found = stego.find_hidden(result, passphrase=PASSPHRASE)
    assert (found.message, found.cover_length, found.alphabet.name) == ("ünïcode message ✓".encode(), len(cover), name)


def test_six_hex_target(engine: str) -> None:
    prefix = "c0ffee" if engine == "cython" else "c0f"
    result = hidden(b"Dear diary,\n", b"x" * 100, prefix=prefix, engine=engine)
    assert md5steg.reveal(result, passphrase=PASSPHRASE) == b"x" * 100


def test_wrong_passphrase_is_refused_with_one_line() -> None:
    result = hidden(b"cover\n", b"secret")
    with pytest.raises(stego.MessageNotFoundError) as raised:
        md5steg.reveal(result, passphrase="Correct horse battery staple")
    assert str(raised.value) == "no message for this passphrase, or the text was altered"


def suffix_digits(result: bytes, cover: bytes, alphabet: Alphabet) -> list[bytes]:
    suffix, symbols = result[len(cover) :], []
    while suffix:
        symbol = next(symbol for symbol in alphabet.symbols if suffix.startswith(symbol))
        symbols.append(symbol)
        suffix = suffix[len(symbol) :]
    return symbols


@pytest.mark.parametrize(
    ("name", "message", "sample"), [("ws5", b"short", 1), ("zw", b"z" * 20, 1), ("ws2", b"", 1), ("ws5", b"m" * 1024, 257)]
)
def test_every_single_character_change_of_the_suffix_is_refused(name: str, message: bytes, sample: int) -> None:
    """Changed, missing and extra characters at every position (every ``sample``-th for a long suffix,
    and every fifth of the last 150: salt, pads and nonce)."""
    alphabet, cover = Alphabet.named(name), b"cover text \n"
    result = hidden(cover, message, prefix="b7", alphabet=name)
    symbols = suffix_digits(result, cover, alphabet)
    tail = range(len(symbols) - 150, len(symbols), 1 if sample == 1 else 5)
    for position in sorted(set(range(0, len(symbols), sample)) | set(tail)):
        before, after = b"".join(symbols[:position]), b"".join(symbols[position + 1 :])
        for other in [*alphabet.symbols, b"x"]:
            if other != symbols[position]:
                assert_refused(cover + before + other + after, name)
        assert_refused(cover + before + after, name)  # missing
        assert_refused(cover + before + alphabet.symbols[0] + symbols[position] + after, name)  # extra
    assert md5steg.reveal(result, passphrase=PASSPHRASE) == message, "the unchanged file still opens"


def test_truncation_is_refused() -> None:
    cover = b"cover\n"
    result = hidden(cover, b"truncate me")
    for cut in range(1, len(result) - len(cover) + 1):
        assert_refused(result[:-cut], "ws5")


def test_an_extra_character_after_the_nonce_is_refused() -> None:
    result = hidden(b"cover\n", b"message")
    for symbol in Alphabet.named("ws5").symbols:
        assert_refused(result + symbol)


def test_find_output_has_no_hidden_message() -> None:
    plain = b"just a find result\n" + md5steg.find(b"just a find result\n", "abc").suffix
    with pytest.raises(stego.NoHiddenMessageError, match="no hidden message"):
        md5steg.reveal(plain, passphrase=PASSPHRASE)
    with pytest.raises(stego.NoHiddenMessageError, match="ends in .* characters of alphabet 'ws5'"):
        md5steg.reveal(plain, passphrase=PASSPHRASE, alphabet="ws5")


def test_hide_refuses_an_empty_passphrase_and_a_too_long_message() -> None:
    with pytest.raises(Md5stegError, match="passphrase is empty"):
        md5steg.hide(b"", b"m", passphrase="", prefix="a")
    with pytest.raises(Md5stegError, match="at most 4096"):
        md5steg.hide(b"", bytes(stego.MAX_MESSAGE_BYTES + 1), passphrase=PASSPHRASE, prefix="a")


def test_replace_strips_exactly_the_earlier_message_and_keeps_the_covers_whitespace() -> None:
    cover = b"cover ending in whitespace \t\n\n"
    first = hidden(cover, b"first message")
    kept, exact = stego.without_hidden_message(first, passphrase=PASSPHRASE, alphabet=Alphabet.named("ws5"))
    assert (first[:kept], exact) == (cover, True)
    second = hidden(first[:kept], b"second")
    assert md5steg.reveal(second, passphrase=PASSPHRASE) == b"second"
    kept, exact = stego.without_hidden_message(first, passphrase="another", alphabet=Alphabet.named("ws5"))
    assert (first[:kept], exact) == (b"cover ending in whitespace", False), "unknown passphrase: strip the whole run"


def chi_square(counts: list[int]) -> float:
    expected = sum(counts) / len(counts)
    return sum((count - expected) ** 2 / expected for count in counts)


@pytest.mark.parametrize("name", ["ws5", "ws2", "zw"])
def test_sealed_digits_are_uniform_at_every_position_class(name: str) -> None:
    """The first digit (the body's top digit whenever there is no lead pad) and all sealed digits."""
    alphabet = Alphabet.named(name)
    first, every = [0] * alphabet.base, [0] * alphabet.base
    for index in range(300):
        match = md5steg.hide(b"c" * (index % 70), b"m" * (index % 5), passphrase=PASSPHRASE, prefix="1", alphabet=name)
        digits = [alphabet.symbols.index(symbol) for symbol in suffix_digits(match.suffix, b"", alphabet)]
        sealed = digits[: len(digits) - len(suffix_digits(match.suffix[match.sealed_length :], b"", alphabet))]
        first[sealed[0]] += 1
        for digit in sealed:
            every[digit] += 1
    # Chi-square critical values at p = 1e-6 for base - 1 degrees of freedom (well above the 99.9999th percentile).
    limit = 24 + 5 * math.sqrt(alphabet.base)
    assert chi_square(first) < limit, first
    assert chi_square(every) < limit, every


@pytest.mark.parametrize("base", [2, 3, 5, 62, 94])
def test_the_top_digit_of_an_encoded_body_is_uniform(base: int) -> None:
    """Random bytes in base-b digits: the SLACK_BITS of key-derived headroom keep even the top digit unbiased."""
    counts = [0] * base
    for _ in range(3000):
        counts[stego_format.encode_body(os.urandom(21), base, os.urandom(32))[0]] += 1
    limit = base - 1 + 6 * math.sqrt(2 * (base - 1)) + 20  # far beyond the 1e-6 quantile of chi-square(base - 1)
    assert chi_square(counts) < limit, counts


def test_a_changed_digit_in_the_bodys_spare_room_is_refused_even_when_the_md5_target_is_forced_again(
    engine: str,
) -> None:
    """The top body digits only fill room above the ciphertext: the key fixes them, reveal checks them."""
    for name in ("ws2", "ws5"):
        alphabet = Alphabet.named(name)
        base, cover = alphabet.base, b"cover text \n"
        match = md5steg.hide(cover, b"", passphrase=PASSPHRASE, prefix="b7", alphabet=name, engine=engine, jobs=1)
        sealed = cover + match.suffix[: match.sealed_length]
        body = stego.body_digits(base, stego.bucket(stego.v2_header_bytes("b7")) + stego.TAG_BYTES)
        tail = -match.nonce_length % stego.anchor_step(base)
        lead = match.sealed_length - body - stego.salt_digits(base) - tail
        for offset in range(len(cover) + lead, len(cover) + lead + 6):  # the body's top digits
            other = alphabet.symbols[(alphabet.symbols.index(sealed[offset : offset + 1]) + 1) % base]
            edited = sealed[:offset] + other + sealed[offset + 1 :]
            assert_refused(edited + md5steg.find(edited, "b7", alphabet=name, engine=engine, jobs=1).suffix, name)


def test_a_changed_pad_is_refused_even_when_the_md5_target_is_forced_again(engine: str) -> None:
    """Someone edits a digit in front of the nonce and re-runs find: only the sealed pads can tell."""
    alphabet = Alphabet.named("ws5")
    for length in range(0, 64, 9):
        cover = b"p" * length
        match = md5steg.hide(cover, b"pads", passphrase=PASSPHRASE, prefix="b7", engine=engine, jobs=1)
        sealed = cover + match.suffix[: match.sealed_length]
        for back in range(1, 6):
            digit = sealed[-back : len(sealed) - back + 1]
            other = alphabet.symbols[(alphabet.symbols.index(digit) + 1) % alphabet.base]
            edited = sealed[:-back] + other + sealed[len(sealed) - back + 1 :]
            assert_refused(edited + md5steg.find(edited, "b7", engine=engine, jobs=1).suffix)


def force_again(edited: bytes, prefix: str, alphabet: str = "ws5") -> bytes:
    """What a forger does after editing: strip the nonce, keep the sealed part, find a new nonce."""
    return edited + md5steg.find(edited, prefix, alphabet=alphabet, jobs=1).suffix


def test_an_edited_cover_is_refused_even_when_the_md5_target_is_forced_again() -> None:
    """The review's forgery: "21" becomes "29" in the notes, the sealed part stays, the 4-hex prefix is forced again."""
    cover = b"Meeting notes: we meet on the 21st.\n"
    match = md5steg.hide(cover, b"bring the files", passphrase=PASSPHRASE, prefix="c0de", jobs=1)
    sealed = match.suffix[: match.sealed_length]
    assert md5steg.reveal(cover + match.suffix, passphrase=PASSPHRASE) == b"bring the files"
    forged = force_again(cover.replace(b"21", b"29") + sealed, "c0de")
    assert hashlib.md5(forged).hexdigest().startswith("c0de")
    assert_refused(forged)


def test_a_sealed_part_moved_onto_another_cover_is_refused() -> None:
    match = md5steg.hide(b"the real cover\n", b"for the real cover", passphrase=PASSPHRASE, prefix="c0de", jobs=1)
    sealed = match.suffix[: match.sealed_length]
    for other in (b"an unrelated cover\n", b"", b"the real cover\n\n"):
        assert_refused(force_again(other + sealed, "c0de"))


def test_a_message_moved_into_another_alphabet_of_the_same_base_is_refused() -> None:
    """ws5 digits respelled as zw digits (both base 5) open the AEAD only if the alphabet is not sealed."""
    ws5, zw = Alphabet.named("ws5"), Alphabet.named("zw")
    cover = b"cover\n"
    match = md5steg.hide(cover, b"ws5 only", passphrase=PASSPHRASE, prefix="ab", jobs=1)
    digits = suffix_digits(cover + match.suffix[: match.sealed_length], cover, ws5)
    respelled = cover + b"".join(zw.symbols[ws5.symbols.index(symbol)] for symbol in digits)
    assert_refused(force_again(respelled, "ab", "zw"), "zw")


@pytest.mark.parametrize("name", ["ws5", "ws2", "zw"])
def test_message_lengths_1_to_64_give_at_most_two_suffix_lengths(name: str) -> None:
    """The plaintext is padded to a size bucket, so the suffix length hides the message length."""
    lengths = {
        len(md5steg.hide(b"Dear diary,\n", b"m" * size, passphrase=PASSPHRASE, prefix="ab", alphabet=name, jobs=1).suffix)
        for size in range(1, 65)
    }
    assert len(lengths) == 1, lengths
    long_pattern = {
        len(md5steg.hide(b"x", b"m" * size, passphrase=PASSPHRASE, pattern="a" + "_" * 31, alphabet=name, jobs=1).suffix)
        for size in range(1, 65, 7)
    }
    assert len(long_pattern) <= 2, long_pattern


def test_buckets_cover_every_message_length() -> None:
    header = stego.v2_header_bytes("_" * stego.MAX_PATTERN_CHARS)
    assert stego.bucket(header + stego.MAX_MESSAGE_BYTES) == stego.BUCKETS[-1]
    assert [stego.bucket(size) for size in (1, 128, 129, 2049, 3073)] == [128, 128, 256, 3072, 4096]


def test_library_calls_with_wrong_types_raise_md5steg_errors() -> None:
    cover = hidden(b"cover\n", b"typed")
    calls = [
        lambda: md5steg.hide(b"x", "a str message", passphrase=PASSPHRASE, prefix="a"),
        lambda: md5steg.hide("a str cover", b"m", passphrase=PASSPHRASE, prefix="a"),
        lambda: md5steg.hide(b"x", b"m", passphrase=5, prefix="a"),
        lambda: md5steg.reveal(cover, passphrase=5),
        lambda: md5steg.reveal(cover.decode("latin-1"), passphrase=PASSPHRASE),
        lambda: md5steg.hide(b"x", 42, passphrase=PASSPHRASE, prefix="a"),
        lambda: md5steg.hide(b"x", b"m", passphrase=PASSPHRASE, prefix="a", jobs="2"),
        lambda: md5steg.hide(b"x", b"m", passphrase=PASSPHRASE, prefix="a", cpu="yes"),
        lambda: md5steg.hide(b"x", b"m", passphrase=PASSPHRASE, prefix="a", max_expected_seconds="60"),
        lambda: md5steg.hide(b"x", b"m", passphrase=PASSPHRASE, prefix="a", job=2),  # misspelt: find() had no 'job'
        lambda: stego.read_ending(io.StringIO("a cover opened as text")),
        lambda: stego.read_ending(5),
        lambda: stego.Ending.from_bytes("a str cover", 10),
    ]
    for call in calls:
        with pytest.raises(Md5stegError) as raised:
            call()
        assert isinstance(raised.value, TypeError), raised.value


def test_an_ending_asked_for_a_prefix_outside_its_tail_raises_an_md5steg_error() -> None:
    with pytest.raises(md5steg.InvalidArgumentError, match="does not end in the tail kept"):
        stego.Ending.from_bytes(b"cover", 10).prefix(-1)


def test_library_hide_refuses_a_hopeless_target_unless_told_otherwise() -> None:
    with pytest.raises(md5steg.TooMuchWorkError):
        md5steg.hide(b"cover", b"m", passphrase=PASSPHRASE, prefix="0123456789ab", jobs=1)


def test_reveal_and_hide_stream_a_cover_through_an_ending() -> None:
    """An Ending (tail + hash states) gives the same answers as the bytes, with a tail far shorter than the file."""
    cover = os.urandom(300_000) + b"  \n"
    match = md5steg.hide(stego.read_ending(io.BytesIO(cover)), b"streamed", passphrase=PASSPHRASE, prefix="5e", jobs=1)
    result = cover + match.suffix
    assert hashlib.md5(result).hexdigest() == match.md5 and match.md5.startswith("5e")
    ending = stego.read_ending(io.BytesIO(result))
    assert len(ending.tail) == stego.TAIL_BYTES < len(result)
    found = stego.find_hidden(ending, passphrase=PASSPHRASE)
    assert (found.message, found.cover_length, found.version) == (b"streamed", len(cover), 2)
    assert md5steg.reveal(result, passphrase=PASSPHRASE) == b"streamed"


def test_reveal_tries_only_anchors_a_target_allows_and_the_hidden_one_is_among_them() -> None:
    for name in ("ws5", "printable"):
        alphabet = Alphabet.named(name)
        step = stego.anchor_step(alphabet.base)
        for size in range(0, 200, 13):
            for prefix in ("a", "abc"):
                match = md5steg.hide(b"c" * size, b"anchor", passphrase=PASSPHRASE, prefix=prefix, alphabet=name, jobs=1)
                nonce = len(suffix_digits(match.suffix[match.sealed_length :], b"", alphabet))
                allowed = stego.allowed_anchors(size + len(match.suffix), alphabet)
                assert -(-nonce // step) * step in allowed and len(allowed) < stego.ANCHORS, (name, size, allowed)


def test_an_interrupted_hide_leaves_no_resume_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hide seals with a fresh salt, so a record of its search could never be resumed."""
    state = tmp_path / "state"
    monkeypatch.setenv("MD5STEG_STATE_DIR", str(state))

    def ctrl_c(progress: md5steg.Progress) -> None:
        if progress.candidates > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        md5steg.hide(b"Dear diary,\n", b"secret", passphrase=PASSPHRASE, prefix="0000000", progress=ctrl_c, jobs=1)
    assert not state.exists() or list(state.iterdir()) == []
