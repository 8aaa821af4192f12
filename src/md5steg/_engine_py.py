"""The pure-Python engine: standard library only, so it runs wherever Python does (PyPy too).

It follows the same layout as the compiled core: the content and the slow
digits are hashed once per outer step with ``hashlib``, then each candidate
copies that state and feeds only the fast digits. Same names as ``_core``.
"""

from __future__ import annotations

import hashlib
from typing import Optional

from .layout import Layout
from .target import Target

ENGINE_NAME = "python"


def simd_paths() -> list[str]:
    """The pure engine has no SIMD; it reports ``none`` so callers can treat both alike."""
    return ["none"]


def default_simd_path() -> str:
    return "none"


class Scanner:
    """Tests nonce indices of one layout against one target, from one shared hashlib state."""

    def __init__(self, content: bytes, layout: Layout, target: Target, simd: Optional[str] = None) -> None:
        if simd not in (None, "none"):
            raise ValueError(f"the pure engine has no SIMD path {simd!r}")
        self.simd_path = "none"
        self._head = hashlib.md5(content)
        self._layout = layout
        self._fast_suffixes = layout.fast_suffixes()
        self._slow_digits = layout.digits - layout.fast_digits
        masks, values = target.mask_and_value()
        digest_mask = b"".join(word.to_bytes(4, "little") for word in masks)
        digest_value = b"".join(word.to_bytes(4, "little") for word in values)
        self._mask = int.from_bytes(digest_mask, "big")
        self._value = int.from_bytes(digest_value, "big")
        lead = 0
        while lead < 16 and digest_mask[lead] == 0xFF:
            lead += 1
        self._lead = digest_value[:lead]
        self._exact = lead * 2 == target.fixed_digits

    def _slow_bytes(self, outer: int) -> bytes:
        layout = self._layout
        symbols = layout.alphabet.symbols
        values = [0] * self._slow_digits
        for position in range(self._slow_digits - 1, -1, -1):
            outer, values[position] = divmod(outer, layout.base)
        return b"".join(symbols[value] for value in values)

    def scan(self, start: int, stop: int) -> tuple[int, int]:
        """Lowest matching nonce index in [start, stop) (or -1), and the candidates that covers."""
        fast_size = self._layout.fast_size
        fast_suffixes = self._fast_suffixes
        lead, mask, value, exact = self._lead, self._mask, self._value, self._exact
        from_bytes = int.from_bytes
        index = start
        while index < stop:
            outer, first = divmod(index, fast_size)
            last = min(fast_size, first + (stop - index))
            base = self._head.copy()
            base.update(self._slow_bytes(outer))
            copy = base.copy
            for fast_index in range(first, last):
                state = copy()
                state.update(fast_suffixes[fast_index])
                digest = state.digest()
                if digest.startswith(lead) and (exact or from_bytes(digest, "big") & mask == value):
                    hit = outer * fast_size + fast_index
                    return hit, hit - start + 1
            index = outer * fast_size + last
        return -1, stop - start
