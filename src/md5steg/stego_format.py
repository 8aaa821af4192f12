"""The sealed part of a hidden message: KDFs, the AEAD, size buckets and the digit encoding (v1, v2).

``md5steg.stego`` places what this module seals in front of find's nonce and
reads it back; the layout and the guarantees are described there. Here: one
``Format`` per version (label, KDF, the ciphertext lengths reveal tries), the
key-derived pads and headroom, and the plaintext's header.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Callable, Optional

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .alphabets import Alphabet
from .errors import InvalidTargetError, Md5stegError
from .layout import LATE_WORD_MAX_SUFFIX_BYTES
from .target import Target

VERSION = 2
LABEL_V1 = b"md5steg hide v1"
LABEL_V2 = b"md5steg hide v2"
"""Binds keys, pads and ciphertexts to one format version (AEAD associated data, HKDF info, Argon2 ad)."""

ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_LANES = 3, 64 * 1024, 4
"""RFC 9106 section 4, second recommended option (64 MiB): above OWASP's minimum (19 MiB, t=2)."""

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
"""Format v1's KDF, kept to open v1 files."""

SALT_BITS = 128
SLACK_BITS = 64
ANCHOR_BITS = 64
ANCHORS = 4
TAG_BYTES = 16
V1_HEADER_BYTES = 4
"""v1: version, q, p, pattern length; the pattern's ASCII characters follow."""
COVER_DIGEST_BYTES = 32
LENGTH_BYTES = 2
MAX_PATTERN_CHARS = 32

MAX_MESSAGE_BYTES = 4096
BUCKETS = (128, 256, 512, 1024, 2048, 3072, 4096, 5120)
"""v2 plaintext sizes (header + message + zeros): a message length is known only to within its bucket."""

AEAD_NONCE = bytes(12)
"""Each key is used once (fresh random salt per message), so a fixed AEAD nonce is safe."""

_cheap_kdf = False



@contextlib.contextmanager
def cheap_kdf_for_tests() -> Iterator[None]:
    """TEST HOOK: both KDFs at a tiny cost inside the block. Files written inside cannot be read outside."""
    global _cheap_kdf
    saved, _cheap_kdf = _cheap_kdf, True
    try:
        yield
    finally:
        _cheap_kdf = saved



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


def bucket(plaintext_length: int) -> int:
    """The v2 plaintext size for ``plaintext_length`` bytes of header and message."""
    return next(size for size in BUCKETS if size >= plaintext_length)


def v2_header_bytes(pattern: str) -> int:
    return 4 + len(pattern) + COVER_DIGEST_BYTES + LENGTH_BYTES


def v2_plaintext(lead: int, tail: int, pattern: str, cover_digest: bytes, message: bytes) -> bytes:
    """What v2 seals: the header, the message, and zeros up to the message's bucket."""
    header = bytes([VERSION, lead, tail, len(pattern)]) + pattern.encode("ascii") + cover_digest
    body = header + len(message).to_bytes(LENGTH_BYTES, "big") + message
    return body.ljust(bucket(len(body)), b"\0")


@dataclass(frozen=True)
class Format:
    """What differs between format versions: label, KDF and which ciphertext lengths to try."""

    version: int
    label: bytes
    derive: Callable[[bytes, bytes], bytes]
    sealed_lengths: Sequence[int]

    def keys(self, secret: bytes, salt: list[int]) -> tuple[ChaCha20Poly1305, bytes]:
        """The AEAD and the pad key, from one KDF derivation over the salt digits."""
        try:
            material = self.derive(secret, bytes(salt))
        except MemoryError:  # Argon2id takes 64 MiB, scrypt 32 MiB, in one allocation
            raise Md5stegError(
                f"not enough memory for format v{self.version}'s key derivation (Argon2id needs 64 MiB, scrypt 32 MiB)"
            ) from None
        return ChaCha20Poly1305(material[:32]), material[32:]

    def associated_data(self, alphabet: Alphabet) -> bytes:
        if self.version == 1:
            return self.label
        symbols = b"".join(len(symbol).to_bytes(1, "big") + symbol for symbol in alphabet.symbols)
        return self.label + hashlib.sha256(symbols).digest()


def _argon2id(secret: bytes, salt: bytes) -> bytes:
    iterations, lanes, memory = (1, 1, 8) if _cheap_kdf else (ARGON2_ITERATIONS, ARGON2_LANES, ARGON2_MEMORY_KIB)
    try:
        kdf = Argon2id(salt=salt, length=64, iterations=iterations, lanes=lanes, memory_cost=memory, ad=LABEL_V2)
    except UnsupportedAlgorithm:
        raise Md5stegError(
            "this cryptography build has no Argon2id (it needs OpenSSL 3.2 or later); "
            "install the wheel: pip install --upgrade 'cryptography>=44'"
        ) from None
    return kdf.derive(secret)


def _scrypt(secret: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=64, n=2**4 if _cheap_kdf else SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(secret)


V2 = Format(2, LABEL_V2, _argon2id, tuple(size + TAG_BYTES for size in BUCKETS))
V1 = Format(
    1,
    LABEL_V1,
    _scrypt,
    range(V1_HEADER_BYTES + 1 + TAG_BYTES, V1_HEADER_BYTES + MAX_PATTERN_CHARS + MAX_MESSAGE_BYTES + TAG_BYTES + 1),
)
FORMATS = (V2, V1)


def pad_digits(pad_key: bytes, label: bytes, base: int, count: int) -> list[int]:
    """``count`` uniform digits from HKDF output, by rejection sampling (exactly uniform)."""
    limit = 256 - 256 % base
    stream = HKDFExpand(hashes.SHA256(), 8160, label + b" pads").derive(pad_key)
    digits = [byte % base for byte in stream if byte < limit][:count]
    if len(digits) < count:
        raise Md5stegError(f"cannot derive {count} pad digits in base {base}; please report this bug")
    return digits


def to_digits(value: int, base: int, count: int) -> list[int]:
    """``value`` as exactly ``count`` base-``base`` digits, most significant first (divide and conquer)."""
    if count <= 64:
        out = [0] * count
        for position in range(count - 1, -1, -1):
            value, out[position] = divmod(value, base)
        return out
    half = count // 2
    high, low = divmod(value, base**half)
    return to_digits(high, base, count - half) + to_digits(low, base, half)


def from_digits(digits: list[int], base: int) -> int:
    """The inverse of ``to_digits`` (divide and conquer: long bodies stay fast)."""
    if len(digits) <= 64:
        value = 0
        for digit in digits:
            value = value * base + digit
        return value
    half = len(digits) // 2
    scale: int = base**half
    return from_digits(digits[:-half], base) * scale + from_digits(digits[-half:], base)


def headroom_multiple(pad_key: bytes, label: bytes, base: int, length: int) -> int:
    """The multiple of ``256**length`` that fills the body's spare room, derived from the key.

    Uniform below ``headroom = floor(base**m / 256**n) >= 2**SLACK_BITS`` to
    within 2**-64 (64 more bits than needed, reduced modulo ``headroom``).
    """
    headroom = base ** body_digits(base, length) >> (8 * length)
    size = (headroom.bit_length() + 64 + 7) // 8
    stream = HKDFExpand(hashes.SHA256(), size, label + b" headroom").derive(pad_key)
    multiple: int = int.from_bytes(stream, "big") % headroom
    return multiple


def encode_body(ciphertext: bytes, base: int, pad_key: bytes, label: bytes = LABEL_V2) -> list[int]:
    length = len(ciphertext)
    value = int.from_bytes(ciphertext, "big") + (headroom_multiple(pad_key, label, base, length) << (8 * length))
    return to_digits(value, base, body_digits(base, length))


def open_bodies(
    form: Format, aead: ChaCha20Poly1305, pad_key: bytes, run: list[int], body_end: int, alphabet: Alphabet
) -> Iterator[tuple[int, bytes]]:
    """(digits used, plaintext) for every ciphertext length ending at ``body_end`` that opens.

    A body opens when its spare room holds exactly the multiple the key
    derives (so no digit there can change) and its ciphertext passes the
    AEAD. v2 checks the room first (few lengths); v1 tries thousands of
    lengths, so the AEAD, which rejects almost all, goes first there.

    ``value`` is the number the last ``used`` digits spell; each longer body
    adds its new top digits in one step.
    """
    base = alphabet.base
    associated = form.associated_data(alphabet)
    value, power, used = 0, 1, 0
    for length in form.sealed_lengths:
        needed = body_digits(base, length)
        if needed > body_end:
            return
        value += from_digits(run[body_end - needed : body_end - used], base) * power
        power *= base ** (needed - used)
        used = needed
        if form.version > 1 and value >> (8 * length) != headroom_multiple(pad_key, form.label, base, length):
            continue
        try:
            plaintext = aead.decrypt(AEAD_NONCE, (value & ((1 << (8 * length)) - 1)).to_bytes(length, "big"), associated)
        except InvalidTag:
            continue
        if value >> (8 * length) == headroom_multiple(pad_key, form.label, base, length):
            yield used, plaintext


def parse_plaintext(form: Format, plaintext: bytes) -> Optional[tuple[int, int, Target, Optional[bytes], bytes]]:
    """(lead, tail, target, cover digest or None for v1, message), or None if the plaintext is malformed."""
    version, lead, tail, pattern_length = plaintext[:4]
    at = 4 + pattern_length
    if version != form.version or not 1 <= pattern_length <= MAX_PATTERN_CHARS or len(plaintext) < at:
        return None
    try:
        target = Target.from_pattern(plaintext[4:at].decode("ascii"))
    except (UnicodeDecodeError, InvalidTargetError):
        return None
    if form.version == 1:
        return lead, tail, target, None, plaintext[at:]
    digest, at = plaintext[at : at + COVER_DIGEST_BYTES], at + COVER_DIGEST_BYTES
    length, at = int.from_bytes(plaintext[at : at + LENGTH_BYTES], "big"), at + LENGTH_BYTES
    message, padding = plaintext[at : at + length], plaintext[at + length :]
    if len(message) != length or padding.strip(b"\0") or len(plaintext) != bucket(at + length):
        return None
    return lead, tail, target, digest, message
