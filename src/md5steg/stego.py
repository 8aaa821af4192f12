"""Hide an encrypted message in the suffix, in front of find's nonce, so the MD5 target still holds.

Layout of the suffix, in alphabet digits, left to right (formats v1 and v2)::

    cover | lead pad (q) | sealed body (m) | salt (S) | tail pad (p) | nonce (d)
                                                     \\______ A = p + d ______/

* ``nonce`` is find's own suffix for ``data + blob``: it keeps its place in
  the final block, so hiding searches exactly as fast as ``find``.
* ``A``, the distance from the end of the file to the salt, is a multiple of
  ``anchor_step(base)`` (64 bits' worth of digits, at least 10), at most
  ``ANCHORS`` steps. ``hide`` picks the tail pad ``p`` (and a lead pad ``q``,
  because a fixed-width layout ends the file on a word boundary) so that
  ``p + d`` lands on an anchor. ``reveal`` does not know the target, but the
  nonce width follows from public data (the file's length, the alphabet and
  how many hex digits of its MD5 were fixed), so it derives keys only for the
  anchors some target length allows (``allowed_anchors``), and always for all
  of those, whatever it finds.
* ``salt``: ``S`` uniform random digits (>= 128 bits). v2 derives the keys
  with Argon2id (RFC 9106's second recommended setting: t=3, 64 MiB, 4 lanes;
  the format label is Argon2's associated data), v1 with scrypt N=2**15.
* ``sealed body``: ChaCha20-Poly1305, read as a big-endian integer
  ``v < 256**n`` and written as ``m`` digits with
  ``base**m >= 256**n * 2**SLACK_BITS``; the room above ``256**n`` holds a
  multiple of ``256**n`` that the key derives (HKDF), checked before the AEAD
  is tried: body digits are within 2**-64 of uniform, and none can change.
* v2 plaintext: version, q, p, pattern length, pattern, SHA-256 of the cover,
  message length (2 bytes), message, zeros up to the next of ``BUCKETS``. The
  AEAD's associated data is the format label and a digest of the alphabet's
  symbols. So the message is bound to its cover (an edited cover, or the
  sealed part moved onto another cover, is refused however the MD5 target is
  forced again), to its alphabet and to its target; the length of the
  plaintext is one of ``len(BUCKETS)`` values.
* ``nonce``: bound by the sealed target (the file's MD5 must match it) and
  the layout (its width must be the one ``find`` uses for this cover and
  target); for targets of <= 4 hex digits it must be the lowest one ``find``
  gives. For longer targets another matching nonce of the same width is
  accepted: finding one costs as much as the original search, and the nonce
  carries nothing of the message, the cover or the key.
* v1 (read only): plaintext version, q, p, pattern length, pattern, message,
  with no padding and no cover digest; every body length is tried.

The KDF parameters are fixed by the format version (the header is encrypted,
so it cannot carry them).
"""

from __future__ import annotations

import functools
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, fields
from typing import Any, BinaryIO, Optional, Union

from .alphabets import NAMED_ALPHABETS, Alphabet, resolve_alphabet
from .ending import Ending, EndingBuilder
from .errors import ArgumentTypeError, InvalidArgumentError, Md5stegError
from .layout import LATE_WORD_MIN_CANDIDATES, _is_aligned, choose_layout
from .search import Match, check_search_options, find, make_target
from .stego_format import (
    AEAD_NONCE,
    ANCHORS,
    FORMATS,
    LABEL_V2,
    MAX_MESSAGE_BYTES,
    TAG_BYTES,
    V1,
    V1_HEADER_BYTES,
    V2,
    VERSION,
    Format,
    anchor_step,
    body_digits,
    bucket,
    encode_body,
    open_bodies,
    pad_digits,
    parse_plaintext,
    salt_digits,
    v2_header_bytes,
    v2_plaintext,
)
from .stego_format import BUCKETS as BUCKETS  # re-exported: the format's public names live here too
from .stego_format import MAX_PATTERN_CHARS as MAX_PATTERN_CHARS
from .stego_format import cheap_kdf_for_tests as cheap_kdf_for_tests
from .target import Target

DEFAULT_MAX_EXPECTED_SECONDS = 3600.0
"""``hide`` refuses a target whose expected search time exceeds this unless told otherwise (as the CLI does)."""

EXACT_NONCE_CHECK = 16**4
"""Up to this much expected work, reveal re-runs find to prove the nonce is the canonical one."""


class NoHiddenMessageError(Md5stegError):
    """The data cannot hold a hidden message at all (e.g. a plain ``find`` suffix)."""


class MessageNotFoundError(Md5stegError):
    """Wrong passphrase, or the file was changed: the two cannot be told apart, by design."""

    def __init__(self) -> None:
        super().__init__("no message for this passphrase, or the text was altered")


@dataclass(frozen=True)
class HiddenMatch(Match):
    """find's Match for the whole suffix; ``sealed_length`` bytes of it carry the message."""

    sealed_length: int = 0

    @property
    def nonce_length(self) -> int:
        return len(self.suffix) - self.sealed_length


@dataclass(frozen=True)
class HiddenMessage:
    """A revealed message, where the cover ends (what ``--replace`` keeps) and the format version."""

    message: bytes
    cover_length: int
    alphabet: Alphabet
    version: int = VERSION


def _secret(passphrase: object) -> bytes:
    """The passphrase as KDF input: str is NFC-normalised UTF-8 (lone surrogates kept as bytes)."""
    if isinstance(passphrase, str):
        try:
            return unicodedata.normalize("NFC", passphrase).encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # its message would quote the passphrase's character
            raise InvalidArgumentError("the passphrase holds a lone surrogate that is not an escaped byte; give it as bytes") from None
    if isinstance(passphrase, (bytes, bytearray)):
        return bytes(passphrase)
    raise ArgumentTypeError(f"passphrase must be str or bytes, not {type(passphrase).__name__}")


def _bytes(value: object, name: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise ArgumentTypeError(f"{name} must be bytes, not {type(value).__name__}")


def _ending(data: object) -> Ending:
    return data if isinstance(data, Ending) else Ending.from_bytes(_bytes(data, "data"), TAIL_BYTES)


def read_ending(stream: BinaryIO) -> Ending:
    """A file or stream read once, in bounded memory, keeping every byte a hidden message can occupy."""
    return Ending.from_stream(stream, TAIL_BYTES)


def ending_builder() -> EndingBuilder:
    """An ``EndingBuilder`` for bytes another reader pulls (``TeeReader``): hide from stdin."""
    return EndingBuilder(TAIL_BYTES)


def _checked_secret(passphrase: object, action: str) -> bytes:
    secret = _secret(passphrase)
    if not secret:
        raise Md5stegError(f"the passphrase is empty; {action}")
    return secret


# --- hide -----------------------------------------------------------------------------------------


def _placement(cover_bytes: int, inner_digits: int, alphabet: Alphabet, target: Target) -> tuple[int, int, int]:
    """(q, p, d): lead pad, tail pad and nonce width such that p + d is an anchor.

    A fixed-width layout ends the file on a word boundary, so its nonce width
    depends on the content length; the search tries the shortest pads first.
    """
    step = anchor_step(alphabet.base)
    width = alphabet.symbol_width
    if width is None:  # the generic layout's width does not depend on the length
        nonce = choose_layout(cover_bytes, alphabet, target).digits
        candidates = [(0, -nonce % step, nonce)]
    else:
        candidates = []
        for total in range(ANCHORS * step + 64):
            nonce = choose_layout(cover_bytes + (inner_digits + total) * width, alphabet, target).digits
            tail = -nonce % step
            if tail <= total:
                candidates = [(total - tail, tail, nonce)]
                break
    for lead, tail, nonce in candidates:
        if (tail + nonce) // step <= ANCHORS and lead <= 255:
            return lead, tail, nonce
    raise Md5stegError(
        f"target {target} is too long to hide a message behind with alphabet {alphabet.name!r} "
        f"(its nonce would pass {ANCHORS * step} symbols); use a shorter prefix"
    )


def hide(
    data: Union[bytes, Ending],
    message: bytes,
    *,
    passphrase: Union[str, bytes],
    prefix: Optional[str] = None,
    pattern: Optional[str] = None,
    alphabet: Union[str, Alphabet] = "ws5",
    max_expected_seconds: Optional[float] = DEFAULT_MAX_EXPECTED_SECONDS,
    **find_options: Any,
) -> HiddenMatch:
    """Seal ``message`` into a suffix whose end is find's nonce: ``data + match.suffix`` hits the target.

    ``data`` may be an ``Ending`` (``Ending.from_stream``) so a file of any
    size is hidden in bounded memory. Like the CLI, a target whose expected
    search time passes ``max_expected_seconds`` is refused (``None``: never).
    """
    cover = _ending(data)
    message = _bytes(message, "message")
    check_search_options(find_options, max_expected_seconds)  # before the KDF's deliberate slowness
    target = make_target(prefix, pattern)
    chosen = resolve_alphabet(alphabet)
    secret = _checked_secret(passphrase, "choose one to seal the message with")
    if len(message) > MAX_MESSAGE_BYTES:
        raise Md5stegError(f"the message has {len(message)} bytes; at most {MAX_MESSAGE_BYTES} can be hidden")
    base = chosen.base
    salt = [secrets.randbelow(base) for _ in range(salt_digits(base))]
    aead, pad_key = V2.keys(secret, salt)
    size = bucket(v2_header_bytes(target.pattern) + len(message))
    inner = body_digits(base, size + TAG_BYTES) + len(salt)
    # Fixed-width alphabets: byte lengths follow from digit counts, so the pads come first.
    lead, tail, nonce_width = _placement(cover.length, inner, chosen, target)
    plaintext = v2_plaintext(lead, tail, target.pattern, cover.sha256(cover.length), message)
    ciphertext = aead.encrypt(AEAD_NONCE, plaintext, V2.associated_data(chosen))
    body = encode_body(ciphertext, base, pad_key, LABEL_V2)
    pads = pad_digits(pad_key, LABEL_V2, base, lead + tail)
    blob = b"".join(chosen.symbols[digit] for digit in pads[:lead] + body + salt + pads[lead:])
    match = find(
        cover.content(cover.length, blob),
        pattern=target.pattern,
        alphabet=chosen,
        max_expected_seconds=max_expected_seconds,
        **{**find_options, "resume": False},  # a fresh salt makes every run a new search: nothing to resume
    )
    if len(_trailing_digits(match.suffix, chosen, len(match.suffix))) != nonce_width:
        raise Md5stegError("find chose another nonce width than its layout promised; please report this bug")
    values = {field.name: getattr(match, field.name) for field in fields(Match)}
    values["suffix"] = blob + match.suffix
    return HiddenMatch(**values, sealed_length=len(blob))


# --- reveal ---------------------------------------------------------------------------------------


def _trailing_digits(data: bytes, alphabet: Alphabet, limit: int) -> list[int]:
    """The digit values of the last run of alphabet symbols (at most ``limit``), in order.

    Each symbol is one character's UTF-8 encoding, and no complete UTF-8
    character ends another, so reading from the end is unambiguous.
    """
    value_of = {symbol: value for value, symbol in enumerate(alphabet.symbols)}
    widths = sorted({len(symbol) for symbol in alphabet.symbols})
    digits: list[int] = []
    end = len(data)
    while end and len(digits) < limit:
        for width in widths:
            value = value_of.get(data[max(0, end - width) : end])
            if value is not None:
                digits.append(value)
                end -= width
                break
        else:
            break
    digits.reverse()
    return digits


def _symbols_bytes(alphabet: Alphabet, digits: list[int]) -> int:
    return sum(len(alphabet.symbols[digit]) for digit in digits)


@functools.cache
def _minimum_run(base: int) -> int:
    """Fewest trailing digits that can hold a message of either format (v1: empty message, 1-digit target)."""
    return body_digits(base, V1_HEADER_BYTES + 1 + TAG_BYTES) + salt_digits(base) + anchor_step(base)


@functools.cache
def _longest_run(base: int) -> int:
    longest_body = max(max(V1.sealed_lengths), max(V2.sealed_lengths))
    return 2 * (ANCHORS * anchor_step(base) + 64) + body_digits(base, longest_body) + salt_digits(base)


TAIL_BYTES = 4 * _longest_run(2)
"""Bytes at the end of a file that can belong to a hidden message (base 2, 4-byte symbols: the most)."""


def detect_alphabet(tail: bytes) -> Alphabet:
    """The smallest named alphabet whose trailing run could hold a message.

    A message in a larger alphabet leaves almost no trailing run of a smaller
    one (ws5 digits are all space or tab with chance (2/5)**n), so the smallest
    alphabet with room is the one that was used.
    """
    for name in sorted(NAMED_ALPHABETS, key=lambda known: len(NAMED_ALPHABETS[known])):
        alphabet = Alphabet.named(name)
        needed = _minimum_run(alphabet.base)
        if len(_trailing_digits(tail, alphabet, needed)) >= needed:
            return alphabet
    raise NoHiddenMessageError(
        "no hidden message: the data does not end in enough characters of any named alphabet to hold "
        "one; if it was hidden with a custom alphabet, give that alphabet"
    )


def _nonce_widths(length: int, alphabet: Alphabet, target: Target) -> set[int]:
    """Every nonce width find could have used for ``target`` on a file of ``length`` bytes ending in it.

    A fixed-width layout depends on the content length in front of the nonce,
    which is not known, so several widths can fit.
    """
    generic = choose_layout(0, alphabet, target).digits
    width = alphabet.symbol_width
    if width is None:
        return {generic}
    # An aligned layout ends the file on a word boundary; otherwise only the generic width can fit.
    limit = min(generic + 65, ANCHORS * anchor_step(alphabet.base) + 1)
    candidates = range(generic, limit) if _is_aligned(length) else [generic]
    return {digits for digits in candidates if choose_layout(length - digits * width, alphabet, target).digits == digits}


@functools.lru_cache(maxsize=256)
def allowed_anchors(length: int, alphabet: Alphabet) -> tuple[int, ...]:
    """The anchors (p + d) that some target (1..32 fixed hex digits) allows for a file of ``length`` bytes.

    Public data only, so skipping the others tells nobody anything: an
    observer computes the same set.
    """
    step = anchor_step(alphabet.base)
    anchors, seen = set(), set()
    for fixed in range(1, 33):
        target = Target.from_prefix("0" * fixed)
        # The layout sees a target only through its minimum width and whether it is a long search.
        kind = (choose_layout(0, alphabet, target).digits, target.expected_candidates >= LATE_WORD_MIN_CANDIDATES)
        if kind in seen:
            continue
        seen.add(kind)
        for digits in _nonce_widths(length, alphabet, target):
            if digits <= ANCHORS * step:
                anchors.add(-(-digits // step) * step)
    return tuple(sorted(anchors))


@dataclass(frozen=True)
class _Opened:
    """A body that passed the headroom check and the AEAD: where it lies, what it holds."""

    form: Format
    anchor: int
    body_start: int
    plaintext: bytes
    pad_key: bytes


def find_hidden(
    data: Union[bytes, Ending], *, passphrase: Union[str, bytes], alphabet: Union[str, Alphabet, None] = None
) -> HiddenMessage:
    """Open the message hidden at the end of ``data``, or raise MessageNotFoundError/NoHiddenMessageError.

    Every allowed anchor of both formats is tried, whatever is found, so a
    wrong passphrase and an altered file cost the same work.
    """
    ending = _ending(data)
    secret = _checked_secret(passphrase, "give the one the message was hidden with")
    chosen = detect_alphabet(ending.tail) if alphabet is None else resolve_alphabet(alphabet)
    base = chosen.base
    run = _trailing_digits(ending.tail, chosen, _longest_run(base))
    if len(run) < _minimum_run(base):
        raise NoHiddenMessageError(
            f"no hidden message: the data ends in {len(run)} characters of alphabet {chosen.name!r}, "
            f"and a hidden message takes at least {_minimum_run(base)}"
        )
    salt_length = salt_digits(base)
    opened: list[_Opened] = []
    for form in FORMATS:
        for anchor in allowed_anchors(ending.length, chosen):
            body_end = len(run) - anchor - salt_length
            if body_end < body_digits(base, min(form.sealed_lengths)):
                continue
            aead, pad_key = form.keys(secret, run[body_end : body_end + salt_length])
            for used, plaintext in open_bodies(form, aead, pad_key, run, body_end, chosen):
                opened.append(_Opened(form, anchor, body_end - used, plaintext, pad_key))
    for candidate in opened:
        found = _checked_message(ending, chosen, run, candidate)
        if found is not None:
            return found
    raise MessageNotFoundError()


def reveal(
    data: Union[bytes, Ending], *, passphrase: Union[str, bytes], alphabet: Union[str, Alphabet, None] = None
) -> bytes:
    """The exact bytes hidden by ``hide`` (the alphabet is detected among the named ones if not given)."""
    return find_hidden(data, passphrase=passphrase, alphabet=alphabet).message


def without_hidden_message(
    data: Union[bytes, Ending], *, passphrase: Union[str, bytes], alphabet: Alphabet
) -> tuple[int, bool]:
    """How many bytes of ``data`` stay once an earlier hidden message and its nonce go (``--replace``).

    With the passphrase that opens it, exactly the old suffix goes and the
    cover's own trailing whitespace stays (True); otherwise every trailing
    alphabet character of the tail goes, as ``find --replace`` does (False).
    """
    ending = _ending(data)
    try:
        found = find_hidden(ending, passphrase=passphrase, alphabet=alphabet)
    except (MessageNotFoundError, NoHiddenMessageError):
        return ending.tail_start + len(alphabet.strip_suffix(ending.tail)), False
    return found.cover_length, True


def _checked_message(ending: Ending, alphabet: Alphabet, run: list[int], opened: _Opened) -> Optional[HiddenMessage]:
    """Accept an opened body only if the pads, the cover, the MD5 target and the nonce are as sealed."""
    parsed = parse_plaintext(opened.form, opened.plaintext)
    if parsed is None:
        return None
    lead, tail, target, cover_digest, message = parsed
    start, tail_start = opened.body_start - lead, len(run) - opened.anchor
    pads = pad_digits(opened.pad_key, opened.form.label, alphabet.base, lead + tail)
    if (
        start < 0
        or tail >= opened.anchor
        or run[start : opened.body_start] != pads[:lead]
        or run[tail_start : tail_start + tail] != pads[lead:]
        or not target.matches(ending.md5_hexdigest())
    ):
        return None
    cover_length = ending.length - _symbols_bytes(alphabet, run[start:])
    if cover_digest is not None and not hmac.compare_digest(cover_digest, ending.sha256(cover_length)):
        return None
    nonce_start = ending.length - _symbols_bytes(alphabet, run[tail_start + tail :])
    if choose_layout(nonce_start, alphabet, target).digits != opened.anchor - tail:
        return None
    if target.expected_candidates <= EXACT_NONCE_CHECK:
        canonical = find(ending.content(nonce_start), pattern=target.pattern, alphabet=alphabet, jobs=1, resume=False)
        if canonical.suffix != ending.tail[nonce_start - ending.tail_start :]:
            return None
    return HiddenMessage(message, cover_length, alphabet, opened.form.version)
