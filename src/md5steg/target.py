"""What a digest must look like: a hex prefix or a pattern with ``_`` wildcards.

A target is kept as a mask and a value over the four little-endian 32-bit words
of the MD5 state, the form the C core compares against without converting the
digest to hex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ArgumentTypeError, InvalidTargetError

MAX_HEX_DIGITS = 32
PATTERN_RULE = "it may hold only hex digits and '_' wildcards"


@dataclass(frozen=True)
class Target:
    """A digest pattern: 1..32 characters of hex digits and ``_`` wildcards."""

    pattern: str

    def __post_init__(self) -> None:
        """Built directly, the pattern must already be in the form ``from_pattern`` gives."""
        if not isinstance(self.pattern, str):
            raise ArgumentTypeError(f"a target pattern must be a str, not {type(self.pattern).__name__}")
        if _checked(self.pattern, "pattern", "[0-9a-f_]+", "dead____beef", PATTERN_RULE) != self.pattern:
            raise InvalidTargetError(
                f"the pattern {self.pattern!r} is not in lowercase; use Target.from_prefix or Target.from_pattern"
            )
        if set(self.pattern) == {"_"}:
            raise InvalidTargetError(f"the pattern {self.pattern!r} fixes no digit; every digest matches it")

    @classmethod
    def from_prefix(cls, prefix: str) -> Target:
        """A hex prefix the digest must start with (case-insensitive)."""
        text = _checked(prefix, "prefix", "[0-9a-f]+", "--prefix c0ffee", "use only 0-9 and a-f")
        return cls(text)

    @classmethod
    def from_pattern(cls, pattern: str) -> Target:
        """A position-by-position pattern; ``_`` matches any hex digit."""
        return cls(_checked(pattern, "pattern", "[0-9a-f_]+", "dead____beef", PATTERN_RULE))

    @property
    def fixed_digits(self) -> int:
        """How many hex digits the target pins down; the search needs 16**this tries on average."""
        return sum(1 for char in self.pattern if char != "_")

    @property
    def expected_candidates(self) -> int:
        return int(16**self.fixed_digits)

    @property
    def words_needed(self) -> int:
        """How many state words (of 4) the comparison needs; 1 lets the core stop after step 60."""
        last_fixed = max(index for index, char in enumerate(self.pattern) if char != "_")
        return last_fixed // 8 + 1

    def mask_and_value(self) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        """Mask and value per little-endian state word, as the C core compares them."""
        mask = bytearray(16)
        value = bytearray(16)
        for index, char in enumerate(self.pattern):
            if char == "_":
                continue
            shift = 4 if index % 2 == 0 else 0
            mask[index // 2] |= 0xF << shift
            value[index // 2] |= int(char, 16) << shift
        mask_words = tuple(int.from_bytes(mask[i : i + 4], "little") for i in range(0, 16, 4))
        value_words = tuple(int.from_bytes(value[i : i + 4], "little") for i in range(0, 16, 4))
        return mask_words, value_words  # type: ignore[return-value]

    def matches(self, hexdigest: str) -> bool:
        """The reference check every reported hit is held to."""
        return all(want in ("_", got) for want, got in zip(self.pattern, hexdigest))

    def __str__(self) -> str:
        return self.pattern


def _checked(given: str, kind: str, allowed: str, example: str, rule: str) -> str:
    """``given`` stripped and lowercased, if it is 1..32 characters matching ``allowed``."""
    if not isinstance(given, str):
        raise ArgumentTypeError(f"the {kind} must be a str of hex digits, not {type(given).__name__}")
    text = given.strip().lower()
    if not text:
        raise InvalidTargetError(f"the {kind} is empty; give 1 to {MAX_HEX_DIGITS} hex digits, e.g. {example}")
    if len(text) > MAX_HEX_DIGITS:
        raise InvalidTargetError(
            f"the {kind} {given!r} has {len(text)} characters; an MD5 digest has only {MAX_HEX_DIGITS} hex digits"
        )
    if not re.fullmatch(allowed, text):
        raise InvalidTargetError(f"the {kind} {given!r} is not valid; {rule}")
    return text
