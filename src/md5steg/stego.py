"""Hide an encrypted message in the suffix, in front of find's nonce, so the MD5 target still holds.

Layout of the suffix, in alphabet digits, left to right (format v1)::

    cover | lead pad (q) | sealed body (m) | salt (S) | tail pad (p) | nonce (d)
                                                     \\______ A = p + d ______/

* ``nonce`` is find's own suffix for ``data + blob``: it keeps its place in
  the final block, so hiding searches exactly as fast as ``find``.
* ``A``, the distance from the end of the file to the salt, is a multiple of
  ``anchor_step(base)`` (64 bits' worth of digits, at least 10), at most
  ``ANCHORS`` steps. ``reveal`` cannot know the target and therefore the nonce
  width, but it only has to try these few anchors: one key derivation each.
  ``hide`` picks the tail pad ``p`` (and a lead pad ``q``, because a fixed-width
  layout ends the file on a word boundary) so that ``p + d`` lands on an anchor.
* ``salt``: ``S`` uniform random digits (>= 128 bits), fed to scrypt.
* ``sealed body``: ChaCha20-Poly1305 over ``header + message``, the ciphertext
  read as a big-endian integer ``v < 256**n`` and written as ``m`` digits with
  ``base**m >= 256**n * 2**SLACK_BITS``; the spare room above ``256**n`` is
  filled with a random multiple of ``256**n``. The body is then uniform on a
  subset holding all but a fraction < 2**-64 of the ``base**m`` strings:
  statistical distance < 2**-64 from uniform digits.
* ``header`` (inside the ciphertext, so nothing is visible in the clear):
  version, q, p, and the target pattern. ``reveal`` decrypts, then checks that
  the pads equal the digits the key derives for them, that the file's MD5
  still matches the sealed target and, for targets of <= 4 hex digits, that
  the nonce is the lowest one ``find`` gives. So any changed, missing or extra
  suffix character fails (for a longer target a changed nonce digit slips
  through only if the new MD5 still matches: chance 16**-k).
* The body length is not stored: ``reveal`` tries every length that fits,
  which costs one cheap AEAD check each (capped by ``MAX_MESSAGE_BYTES``).

The KDF parameters are fixed by the format version (the header is encrypted,
so it cannot carry them). scrypt rather than Argon2id: every ``cryptography``
build has it, so a file written anywhere can be read anywhere.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any, Optional, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .alphabets import NAMED_ALPHABETS, Alphabet, resolve_alphabet
from .errors import Md5stegError
from .layout import LATE_WORD_MAX_SUFFIX_BYTES, choose_layout
from .search import Match, find, make_target
from .target import Target

VERSION = 1
FORMAT_LABEL = b"md5steg hide v1"
"""Associated data of the AEAD and the HKDF info prefix: binds keys and ciphertexts to this format."""

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
"""32 MiB and ~0.15-0.3 s per derivation on one EPYC core; reveal derives at most ANCHORS keys."""

SALT_BITS = 128
SLACK_BITS = 64
ANCHOR_BITS = 64
ANCHORS = 4
TAG_BYTES = 16
HEADER_BYTES = 4
"""version, q, p, pattern length; the pattern's ASCII characters follow."""

MAX_MESSAGE_BYTES = 4096
"""reveal tries every body length up to this, so its cost grows with the square of it."""

_AEAD_NONCE = bytes(12)
"""Each key is used once (fresh random salt per message), so a fixed AEAD nonce is safe."""

_kdf_n = SCRYPT_N


class NoHiddenMessageError(Md5stegError):
    """The data cannot hold a hidden message at all (e.g. a plain ``find`` suffix)."""


class MessageNotFoundError(Md5stegError):
    """Wrong passphrase, or the suffix was changed: the two cannot be told apart, by design."""

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
    """A revealed message and where the cover ends (what ``--replace`` keeps)."""

    message: bytes
    cover_length: int
    alphabet: Alphabet


@contextlib.contextmanager
def cheap_kdf_for_tests(n: int = 2**4) -> Iterator[None]:
    """TEST HOOK: scrypt with a tiny cost inside the block. Files written inside cannot be read outside."""
    global _kdf_n
    saved, _kdf_n = _kdf_n, n
    try:
        yield
    finally:
        _kdf_n = saved


def salt_digits(base: int) -> int:
    return math.ceil(SALT_BITS / math.log2(base))


def anchor_step(base: int) -> int:
    """Digits between two anchors: 64 bits' worth, and enough for the 40-byte late-word layouts."""
    return max(math.ceil(ANCHOR_BITS / math.log2(base)), math.ceil(LATE_WORD_MAX_SUFFIX_BYTES / ANCHORS))


@functools.cache
def body_digits(base: int, length: int) -> int:
    """Digits for ``length`` ciphertext bytes plus SLACK_BITS of random headroom.

    The smallest ``m`` with ``base**m >= 2**(8*length + SLACK_BITS)``: a float
    quotient, checked with exact integers when it is too close to call.
    """
    bits = 8 * length + SLACK_BITS
    estimate = bits / math.log2(base)
    nearest = round(estimate)
    if abs(estimate - nearest) > 1e-6:
        return math.ceil(estimate)
    return nearest if base**nearest >= 1 << bits else nearest + 1


def _keys(passphrase: Union[str, bytes], salt: list[int]) -> tuple[ChaCha20Poly1305, bytes]:
    """The AEAD and the pad key, from one scrypt derivation over the salt digits."""
    secret = passphrase if isinstance(passphrase, bytes) else unicodedata.normalize("NFC", passphrase).encode()
    material = Scrypt(salt=bytes(salt), length=64, n=_kdf_n, r=SCRYPT_R, p=SCRYPT_P).derive(secret)
    return ChaCha20Poly1305(material[:32]), material[32:]


def _pad_digits(pad_key: bytes, base: int, count: int) -> list[int]:
    """``count`` uniform digits from HKDF output, by rejection sampling (exactly uniform)."""
    limit = 256 - 256 % base
    stream = HKDFExpand(hashes.SHA256(), 8160, FORMAT_LABEL + b" pads").derive(pad_key)
    digits = [byte % base for byte in stream if byte < limit][:count]
    if len(digits) < count:
        raise Md5stegError(f"cannot derive {count} pad digits in base {base}; please report this bug")
    return digits


def _to_digits(value: int, base: int, count: int) -> list[int]:
    """``value`` as exactly ``count`` base-``base`` digits, most significant first (divide and conquer)."""
    if count <= 64:
        out = [0] * count
        for position in range(count - 1, -1, -1):
            value, out[position] = divmod(value, base)
        return out
    half = count // 2
    high, low = divmod(value, base**half)
    return _to_digits(high, base, count - half) + _to_digits(low, base, half)


def _encode_body(ciphertext: bytes, base: int) -> list[int]:
    length = len(ciphertext)
    digits = body_digits(base, length)
    headroom = base**digits >> (8 * length)  # floor(base**m / 256**n) >= 2**SLACK_BITS
    value = int.from_bytes(ciphertext, "big") + (secrets.randbelow(headroom) << (8 * length))
    return _to_digits(value, base, digits)


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
    data: bytes,
    message: bytes,
    *,
    passphrase: Union[str, bytes],
    prefix: Optional[str] = None,
    pattern: Optional[str] = None,
    alphabet: Union[str, Alphabet] = "ws5",
    **find_options: Any,
) -> HiddenMatch:
    """Seal ``message`` into a suffix whose end is find's nonce: ``data + match.suffix`` hits the target."""
    target = make_target(prefix, pattern)
    chosen = resolve_alphabet(alphabet)
    if not passphrase:
        raise Md5stegError("the passphrase is empty; choose one to seal the message with")
    if len(message) > MAX_MESSAGE_BYTES:
        raise Md5stegError(f"the message has {len(message)} bytes; at most {MAX_MESSAGE_BYTES} can be hidden")
    base = chosen.base
    salt = [secrets.randbelow(base) for _ in range(salt_digits(base))]
    aead, pad_key = _keys(passphrase, salt)
    sealed_length = HEADER_BYTES + len(target.pattern) + len(message) + TAG_BYTES
    inner = body_digits(base, sealed_length) + len(salt)
    # Fixed-width alphabets: byte lengths follow from digit counts, so the pads come first.
    lead, tail, nonce_width = _placement(len(data), inner, chosen, target)
    header = bytes([VERSION, lead, tail, len(target.pattern)]) + target.pattern.encode("ascii")
    body = _encode_body(aead.encrypt(_AEAD_NONCE, header + message, FORMAT_LABEL), base)
    pads = _pad_digits(pad_key, base, lead + tail)
    digits = pads[:lead] + body + salt + pads[lead:]
    blob = b"".join(chosen.symbols[digit] for digit in digits)
    match = find(data + blob, pattern=target.pattern, alphabet=chosen, **find_options)
    if len(_trailing_digits(match.suffix, chosen, len(match.suffix))) != nonce_width:
        raise Md5stegError("find chose another nonce width than its layout promised; please report this bug")
    values = {field.name: getattr(match, field.name) for field in fields(Match)}
    values["suffix"] = blob + match.suffix
    return HiddenMatch(**values, sealed_length=len(blob))


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
    """Fewest trailing digits that can hold a v1 message (empty message, 1-digit target)."""
    return body_digits(base, HEADER_BYTES + 1 + TAG_BYTES) + salt_digits(base) + anchor_step(base)


@functools.cache
def _longest_run(base: int) -> int:
    longest_body = HEADER_BYTES + 32 + MAX_MESSAGE_BYTES + TAG_BYTES
    return 2 * (ANCHORS * anchor_step(base) + 64) + body_digits(base, longest_body) + salt_digits(base)


EXACT_NONCE_CHECK = 16**4
"""Up to this much expected work, reveal re-runs find to prove the nonce is the canonical one."""


def detect_alphabet(data: bytes) -> Alphabet:
    """The smallest named alphabet whose trailing run could hold a message.

    A message in a larger alphabet leaves almost no trailing run of a smaller
    one (ws5 digits are all space or tab with chance (2/5)**n), so the smallest
    alphabet with room is the one that was used.
    """
    for name in sorted(NAMED_ALPHABETS, key=lambda known: len(NAMED_ALPHABETS[known])):
        alphabet = Alphabet.named(name)
        needed = _minimum_run(alphabet.base)
        if len(_trailing_digits(data, alphabet, needed)) >= needed:
            return alphabet
    raise NoHiddenMessageError(
        "no hidden message: the data does not end in enough characters of any named alphabet to hold "
        "one; if it was hidden with a custom alphabet, give that alphabet"
    )


def find_hidden(
    data: bytes, *, passphrase: Union[str, bytes], alphabet: Union[str, Alphabet, None] = None
) -> HiddenMessage:
    """Open the message hidden at the end of ``data``, or raise MessageNotFoundError/NoHiddenMessageError."""
    if not passphrase:
        raise Md5stegError("the passphrase is empty; give the one the message was hidden with")
    chosen = detect_alphabet(data) if alphabet is None else resolve_alphabet(alphabet)
    base = chosen.base
    run = _trailing_digits(data, chosen, _longest_run(base))
    if len(run) < _minimum_run(base):
        raise NoHiddenMessageError(
            f"no hidden message: the data ends in {len(run)} characters of alphabet {chosen.name!r}, "
            f"and a hidden message takes at least {_minimum_run(base)}"
        )
    step, salt_length = anchor_step(base), salt_digits(base)
    for anchor in range(step, ANCHORS * step + 1, step):
        body_end = len(run) - anchor - salt_length
        if body_end < body_digits(base, HEADER_BYTES + 1 + TAG_BYTES):
            break
        aead, pad_key = _keys(passphrase, run[body_end : body_end + salt_length])
        opened = _open_body(aead, run, body_end, base)
        if opened is not None:
            used, plaintext = opened
            return _checked_message(data, chosen, run, body_end - used, anchor, plaintext, pad_key)
    raise MessageNotFoundError()


def reveal(data: bytes, *, passphrase: Union[str, bytes], alphabet: Union[str, Alphabet, None] = None) -> bytes:
    """The exact bytes hidden by ``hide`` (the alphabet is detected among the named ones if not given)."""
    return find_hidden(data, passphrase=passphrase, alphabet=alphabet).message


def without_hidden_message(data: bytes, *, passphrase: Union[str, bytes], alphabet: Alphabet) -> tuple[bytes, bool]:
    """``data`` minus an earlier hidden message and its nonce (what ``--replace`` keeps).

    With the passphrase that opens it, exactly the old suffix goes and the
    cover's own trailing whitespace stays (True); otherwise every trailing
    alphabet character goes, as ``find --replace`` does (False).
    """
    try:
        found = find_hidden(data, passphrase=passphrase, alphabet=alphabet)
    except (MessageNotFoundError, NoHiddenMessageError):
        return alphabet.strip_suffix(data), False
    return data[: found.cover_length], True


def _open_body(aead: ChaCha20Poly1305, run: list[int], body_end: int, base: int) -> Optional[tuple[int, bytes]]:
    """Try every body length ending at ``body_end``: (digits used, plaintext) for the one that opens.

    ``value`` is the number the last ``used`` digits spell; each longer body
    adds its new top digits in one step, so a try costs a few big-integer
    operations plus one AEAD check.
    """
    value, power, used = 0, 1, 0
    for length in range(HEADER_BYTES + 1 + TAG_BYTES, HEADER_BYTES + 32 + MAX_MESSAGE_BYTES + TAG_BYTES + 1):
        needed = body_digits(base, length)
        if needed > body_end:
            return None
        top = 0
        for digit in run[body_end - needed : body_end - used]:
            top = top * base + digit
        value += top * power
        power *= base ** (needed - used)
        used = needed
        ciphertext = value.to_bytes(length + SLACK_BITS // 8 + 2, "big")[-length:]
        try:
            return used, aead.decrypt(_AEAD_NONCE, ciphertext, FORMAT_LABEL)
        except InvalidTag:
            continue
    return None


def _checked_message(
    data: bytes, alphabet: Alphabet, run: list[int], body_start: int, anchor: int, plaintext: bytes, pad_key: bytes
) -> HiddenMessage:
    """Accept an opened body only if the pads, the MD5 target and the nonce are all as sealed."""
    version, lead, tail, pattern_length = plaintext[:HEADER_BYTES]
    message = plaintext[HEADER_BYTES + pattern_length :]
    try:
        target = Target.from_pattern(plaintext[HEADER_BYTES : HEADER_BYTES + pattern_length].decode("ascii"))
    except (UnicodeDecodeError, Md5stegError):
        raise MessageNotFoundError() from None
    start, tail_start = body_start - lead, len(run) - anchor
    pads = _pad_digits(pad_key, alphabet.base, lead + tail)
    if (
        version != VERSION
        or start < 0
        or tail >= anchor
        or run[start:body_start] != pads[:lead]
        or run[tail_start : tail_start + tail] != pads[lead:]
        or not target.matches(hashlib.md5(data).hexdigest())
    ):
        raise MessageNotFoundError()
    if target.expected_candidates <= EXACT_NONCE_CHECK:
        nonce_start = len(data) - _symbols_bytes(alphabet, run[tail_start + tail :])
        canonical = find(data[:nonce_start], pattern=target.pattern, alphabet=alphabet, jobs=1)
        if canonical.suffix != data[nonce_start:]:
            raise MessageNotFoundError()
    return HiddenMessage(message, len(data) - _symbols_bytes(alphabet, run[start:]), alphabet)
