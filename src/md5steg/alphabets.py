"""Suffix alphabets: the symbols that spell the nonce, digit 0 first.

The default, ``ws5``, is the five ASCII whitespace characters that survive most
editors and terminals without showing: space, tab, newline, vertical tab, form
feed. Symbols are stored as UTF-8 bytes so multi-byte alphabets (``zw``) work
everywhere a symbol is used.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from .errors import ArgumentTypeError, InvalidAlphabetError

MIN_SYMBOLS = 2
MAX_SYMBOLS = 256

NAMED_ALPHABETS: dict[str, str] = {
    "ws5": " \t\n\x0b\x0c",
    "ws2": " \t",
    "ws6": " \t\n\x0b\x0c\r",
    "zw": "\u200b\u200c\u200d\u2060\ufeff",
    "hex": "0123456789abcdef",
    "alnum": string.digits + string.ascii_uppercase + string.ascii_lowercase,
    "printable": "".join(chr(code) for code in range(0x21, 0x7F)),
}

DESCRIPTIONS: dict[str, str] = {
    "ws5": "space, tab, LF, VT, FF (default; invisible in most viewers)",
    "ws2": "space, tab (survives tools that rewrite line endings)",
    "ws6": "ws5 plus CR",
    "zw": "zero-width U+200B U+200C U+200D U+2060 U+FEFF (3 bytes each in UTF-8)",
    "hex": "0-9a-f (proof-of-work answers)",
    "alnum": "0-9A-Za-z (proof-of-work answers)",
    "printable": "visible ASCII 0x21-0x7e, no space (proof-of-work answers)",
}


@dataclass(frozen=True)
class Alphabet:
    """An ordered set of distinct symbols; symbol i is the digit i of the nonce."""

    name: str
    symbols: tuple[bytes, ...]

    def __post_init__(self) -> None:
        """2..256 distinct non-empty byte strings, none the start of another, so a suffix reads back one way."""
        if not isinstance(self.name, str):
            raise ArgumentTypeError(f"an alphabet's name must be a str, not {type(self.name).__name__}")
        if not isinstance(self.symbols, tuple) or not all(isinstance(symbol, bytes) for symbol in self.symbols):
            raise ArgumentTypeError(
                f"alphabet {self.name!r} needs a tuple of bytes symbols; build one from text with Alphabet.from_chars"
            )
        if not MIN_SYMBOLS <= len(self.symbols) <= MAX_SYMBOLS:
            raise InvalidAlphabetError(
                f"alphabet {self.name!r} has {len(self.symbols)} symbol(s); it needs {MIN_SYMBOLS} to {MAX_SYMBOLS}"
            )
        for index, symbol in enumerate(self.symbols):
            if not symbol:
                raise InvalidAlphabetError(f"alphabet {self.name!r} has an empty symbol")
            others = self.symbols[:index] + self.symbols[index + 1 :]
            clash = next((other for other in others if other.startswith(symbol)), None)
            if clash is not None:
                raise InvalidAlphabetError(
                    f"alphabet {self.name!r} has the symbol {symbol!r} "
                    f"{'twice' if clash == symbol else f'at the start of {clash!r}'}; every symbol must be distinct"
                )

    @classmethod
    def from_chars(cls, chars: str, name: str = "custom") -> Alphabet:
        """Build an alphabet from a string, one symbol per character (UTF-8 encoded)."""
        if not isinstance(chars, str):
            raise ArgumentTypeError(f"alphabet characters must be a str, not {type(chars).__name__}")
        if len(chars) < MIN_SYMBOLS:
            raise InvalidAlphabetError(
                f"alphabet {name!r} has {len(chars)} character(s); it needs at least {MIN_SYMBOLS}"
            )
        if len(chars) > MAX_SYMBOLS:
            raise InvalidAlphabetError(
                f"alphabet {name!r} has {len(chars)} characters; at most {MAX_SYMBOLS} are allowed"
            )
        seen: set[str] = set()
        for char in chars:
            if char in seen:
                raise InvalidAlphabetError(
                    f"alphabet {name!r} repeats the character {char!r}; every symbol must be distinct"
                )
            seen.add(char)
        try:
            symbols = tuple(char.encode("utf-8") for char in chars)
        except UnicodeEncodeError as exc:
            raise InvalidAlphabetError(
                f"alphabet {name!r} holds a character that is not valid UTF-8 ({exc.reason})"
            ) from None
        return cls(name=name, symbols=symbols)

    @classmethod
    def named(cls, name: str) -> Alphabet:
        """Look up one of the built-in alphabets (see ``NAMED_ALPHABETS``)."""
        if not isinstance(name, str):
            raise ArgumentTypeError(f"an alphabet name must be a str such as 'ws5', not {type(name).__name__}")
        try:
            chars = NAMED_ALPHABETS[name]
        except KeyError:
            known = ", ".join(NAMED_ALPHABETS)
            raise InvalidAlphabetError(f"unknown alphabet {name!r}; choose one of {known}") from None
        return cls.from_chars(chars, name=name)

    @property
    def base(self) -> int:
        return len(self.symbols)

    @property
    def symbol_width(self) -> int | None:
        """Bytes per symbol when every symbol has the same UTF-8 length, else None."""
        widths = {len(symbol) for symbol in self.symbols}
        return widths.pop() if len(widths) == 1 else None

    def strip_suffix(self, data: bytes) -> bytes:
        """Drop every trailing run of this alphabet's symbols (what ``--replace`` removes)."""
        end = len(data)
        while end:
            for symbol in self.symbols:
                if data.endswith(symbol, 0, end):
                    end -= len(symbol)
                    break
            else:
                break
        return data[:end]


def resolve_alphabet(alphabet: str | Alphabet) -> Alphabet:
    """Accept a built-in name or an ``Alphabet`` wherever the API takes an alphabet."""
    if isinstance(alphabet, Alphabet):
        return alphabet
    if not isinstance(alphabet, str):
        raise ArgumentTypeError(f"alphabet must be a name such as 'ws5' or an Alphabet, not {type(alphabet).__name__}")
    return Alphabet.named(alphabet)
