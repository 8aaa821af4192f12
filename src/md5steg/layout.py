"""Where the nonce goes: a fixed-width base-b number appended after the content.

The nonce index ``n`` is written most-significant digit first with exactly
``digits`` symbols, so every candidate of one search has the same length and
the lowest index that matches is a well-defined answer, whatever the engine,
the number of processes or the machine.

For alphabets whose symbols all have the same UTF-8 width the width is chosen
so that the message ends on a 32-bit word boundary inside a single final
block (offset 4..52 in the block): the last word then holds the fastest-
changing digits, the cores vary only that word in their inner loop, and every
candidate costs one MD5 compression. Other alphabets use the generic layout,
which is correct but slower.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .alphabets import Alphabet
from .target import Target

SAFETY_FACTOR = 64
"""The nonce space holds this many times the expected work: P(no match) ~ e**-64."""

MAX_FAST_TABLE = 65536
"""Largest table of fast-word values the cores precompute (256 KiB of uint32)."""

INDEX_LIMIT = 2**63
"""Nonce indices are searched below this bound (the cores count in 64 bits)."""

MAX_SUFFIX_BYTES = 900
"""Longest suffix the C core's buffer holds; only absurd alphabet/target pairs reach it."""

LATE_WORD_MIN_CANDIDATES = 16**7
"""From this much expected work on, the layout trades suffix bytes for speed (see below)."""

LATE_WORD_MAX_SUFFIX_BYTES = 40
"""The longest suffix that trade may produce; ws5 suffixes for prefixes <= 8 hex stay within it."""

BLOCK = 64
WORD = 4
_LAST_GOOD_END = 52  # message end offset in its block: 0x80 and the 8-byte length still fit


@dataclass(frozen=True)
class Layout:
    """How nonce indices become suffix bytes for one content length, alphabet and target."""

    alphabet: Alphabet
    content_length: int
    digits: int
    fast_digits: int
    aligned: bool

    @property
    def base(self) -> int:
        return self.alphabet.base

    @property
    def capacity(self) -> int:
        """Number of nonce indices searched (``base**digits``, capped at 2**63)."""
        return min(int(self.base**self.digits), INDEX_LIMIT)

    @property
    def fast_size(self) -> int:
        """Candidates per outer step: ``base**fast_digits``."""
        return int(self.base**self.fast_digits)

    def digit_values(self, nonce_index: int) -> list[int]:
        """The nonce's digits, most significant first, exactly ``digits`` of them."""
        values = [0] * self.digits
        position = self.digits - 1
        while nonce_index and position >= 0:
            nonce_index, values[position] = divmod(nonce_index, self.base)
            position -= 1
        return values

    def suffix(self, nonce_index: int) -> bytes:
        """The bytes appended to the content for this nonce index."""
        symbols = self.alphabet.symbols
        return b"".join(symbols[value] for value in self.digit_values(nonce_index))

    def fast_suffixes(self) -> list[bytes]:
        """The last ``fast_digits`` symbols for every fast index, in index order."""
        return [b"".join(t) for t in itertools.product(self.alphabet.symbols, repeat=self.fast_digits)]

    @property
    def final_block_offset(self) -> int:
        """Offset, from the start of the content, of the block holding the fast word (aligned)."""
        end = self.content_length + self.digits * (self.alphabet.symbol_width or 0)
        return end - end % BLOCK

    @property
    def fast_word_index(self) -> int:
        """Index (0..12) of the fast message word in the final block (aligned layouts)."""
        end = self.content_length + self.digits * (self.alphabet.symbol_width or 0)
        return (end % BLOCK) // WORD - 1


def _is_aligned(end: int) -> bool:
    """The message ends on a word boundary with 0x80 and the length fitting in its block."""
    return end % WORD == 0 and WORD <= end % BLOCK <= _LAST_GOOD_END


def _min_digits(base: int, target: Target) -> int:
    wanted = SAFETY_FACTOR * target.expected_candidates
    digits, reach = 1, base
    while reach < wanted:
        digits += 1
        reach *= base
    return digits


def _fast_digits(base: int, width: int, digits: int) -> int:
    per_word = max(1, WORD // width)
    fast = 1
    while fast < per_word and base ** (fast + 1) <= MAX_FAST_TABLE:
        fast += 1
    return min(fast, digits)


def choose_layout(content_length: int, alphabet: Alphabet, target: Target) -> Layout:
    """Pick the shortest suffix width that leaves room for the search and suits the cores."""
    digits = _min_digits(alphabet.base, target)
    width = alphabet.symbol_width
    if width is not None:
        aligned = [
            Layout(alphabet, content_length, candidate, _fast_digits(alphabet.base, width, candidate), True)
            for candidate in range(digits, digits + BLOCK + 1)
            if _is_aligned(content_length + candidate * width)
            and _fast_digits(alphabet.base, width, candidate) * width <= WORD
        ]
        if aligned:
            # Long searches: the later the fast word sits in the block, the more
            # round-1 steps the cores compute once per outer step instead of per
            # candidate (up to 12 of 64), so spend a few suffix bytes on it.
            if target.expected_candidates >= LATE_WORD_MIN_CANDIDATES:
                room = max(digits, LATE_WORD_MAX_SUFFIX_BYTES // width)
                affordable = [layout for layout in aligned if layout.digits <= room] or aligned[:1]
                return max(affordable, key=lambda layout: (layout.fast_word_index, -layout.digits))
            return aligned[0]
    generic_fast = 1
    while generic_fast < digits and alphabet.base ** (generic_fast + 1) <= MAX_FAST_TABLE // 16:
        generic_fast += 1
    return Layout(alphabet, content_length, digits, generic_fast, aligned=False)
