"""The pure-Python engine: standard library only, so it runs wherever Python does (PyPy too).

It follows the same layout as the compiled core and returns the same lowest
index. Two ways to hash a candidate, chosen per interpreter:

* ``hashlib`` (CPython's default): the content and the slow digits are hashed
  once per outer step, then each candidate copies that state, feeds only the
  fast digits and compares the digest bytes against a precomputed range.
  The builtin ``_md5`` type is preferred over OpenSSL's because its ``copy``
  is a plain struct copy, about twice as fast per candidate.
* ``unrolled`` (PyPy's default, aligned layouts only): straight-line MD5 from
  the state before the final block, varying one message word over a table
  (see ``_md5py``); PyPy's JIT compiles it to machine code.

Same names as ``_core``; ``Scanner`` also takes ``method=`` to force a path.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from typing import Optional, Union

from . import _md5py
from ._collide_py import CollisionSearch as CollisionSearch
from .content import Content
from .layout import Layout
from .target import Target

ENGINE_NAME = "python"

METHODS = ("hashlib", "unrolled")
"""The ways this engine can hash candidates; ``unrolled`` needs an aligned layout."""

DEFAULT_METHOD = "unrolled" if platform.python_implementation() == "PyPy" else "hashlib"
"""What ``Scanner`` uses when no ``method`` is given: whichever is faster on this interpreter."""


def simd_paths() -> list[str]:
    """The pure engine has no SIMD; it reports ``none`` so callers can treat both alike."""
    return ["none"]


def default_simd_path() -> str:
    return "none"


def _leading_range(pattern: str) -> tuple[bytes, bytes]:
    """Digest bytes ``low <= digest < high`` exactly when the pattern's leading fixed digits match.

    Two byte-string comparisons are the cheapest test CPython has: no method
    call, no int conversion, and they stop at the first differing byte.
    """
    lead = pattern.split("_", 1)[0]
    if not lead:
        return b"", b"\xff" * 17
    low = bytes.fromhex(lead + "0" * (len(lead) % 2))
    above = int(lead, 16) + 1
    if above >= 16 ** len(lead):  # all f: no upper bound within 16 bytes
        return low, b"\xff" * 17
    high_hex = format(above, f"0{len(lead)}x")
    return low, bytes.fromhex(high_hex + "0" * (len(high_hex) % 2))


class Scanner:
    """Tests nonce indices of one layout against one target; ``method`` forces ``hashlib``/``unrolled``."""

    def __init__(
        self,
        content: Union[Content, bytes],
        layout: Layout,
        target: Target,
        simd: Optional[str] = None,
        *,
        method: Optional[str] = None,
    ) -> None:
        if simd not in (None, "none"):
            raise ValueError(f"the pure engine has no SIMD path {simd!r}")
        wanted = method or DEFAULT_METHOD
        if wanted not in METHODS:
            raise ValueError(
                f"unknown pure-engine method {wanted!r}; choose one of {', '.join(METHODS)}"
            )
        self.simd_path = "none"
        self.method = wanted if layout.aligned else "hashlib"
        self._layout = layout
        self._slow_digits = layout.digits - layout.fast_digits
        masks, values = target.mask_and_value()
        if isinstance(content, bytes):
            content = Content.from_bytes(content)
        if self.method == "unrolled":
            self._init_unrolled(content, masks, values)
        else:
            self._init_hashlib(content, target, masks, values)

    # -- shared ---------------------------------------------------------------

    def _slow_bytes(self, outer: int) -> bytes:
        """The suffix's slow digits (all but the last ``fast_digits``) for outer step ``outer``."""
        layout = self._layout
        symbols = layout.alphabet.symbols
        base = layout.base
        values = [0] * self._slow_digits
        for position in range(self._slow_digits - 1, -1, -1):
            outer, values[position] = divmod(outer, base)
        return b"".join([symbols[value] for value in values])

    def scan(self, start: int, stop: int) -> tuple[int, int]:
        """Lowest matching nonce index in [start, stop) (or -1), and the candidates that covers."""
        if stop <= start:
            return -1, 0
        scan_outer = self._scan_outer
        fast_size = self._layout.fast_size
        index = start
        while index < stop:
            outer, first = divmod(index, fast_size)
            last = min(fast_size, first + (stop - index))
            hit = scan_outer(outer, first, last)
            if hit >= 0:
                found = outer * fast_size + hit
                return found, found - start + 1
            index = outer * fast_size + last
        return -1, stop - start

    # -- hashlib: copy a saved hash state per candidate -------------------------

    def _init_hashlib(
        self, content: Content, target: Target, masks: Sequence[int], values: Sequence[int]
    ) -> None:
        self._head = content.hasher()
        self._fast_suffixes: list[bytes] = self._layout.fast_suffixes()
        self._low, self._high = _leading_range(target.pattern)
        lead = target.pattern.split("_", 1)[0]
        self._exact = len(lead) == target.fixed_digits
        digest_mask = b"".join(word.to_bytes(4, "little") for word in masks)
        digest_value = b"".join(word.to_bytes(4, "little") for word in values)
        self._mask = int.from_bytes(digest_mask, "big")
        self._value = int.from_bytes(digest_value, "big")
        self._scan_outer = self._scan_outer_hashlib

    def _scan_outer_hashlib(self, outer: int, first: int, last: int) -> int:
        """Lowest fast index in [first, last) that matches under outer step ``outer``, or -1."""
        suffixes = self._fast_suffixes
        if first or last != len(suffixes):
            suffixes = suffixes[first:last]
        base = self._head.copy()
        base.update(self._slow_bytes(outer))
        copy = base.copy
        low, high, exact = self._low, self._high, self._exact
        for suffix in suffixes:
            state = copy()
            state.update(suffix)
            digest = state.digest()
            # Nearly every digest fails the range test; only wildcard patterns need the mask.
            if low <= digest < high and (
                exact or int.from_bytes(digest, "big") & self._mask == self._value
            ):
                return first + suffixes.index(suffix)
        return -1

    # -- unrolled: straight-line MD5 of the final block, one varying word -------

    def _init_unrolled(self, content: Content, masks: Sequence[int], values: Sequence[int]) -> None:
        layout = self._layout
        width = layout.alphabet.symbol_width or 0
        self._head_state, head_len = content.state, content.head_length
        self._tail = content.tail
        message_length = content.length + layout.digits * width
        self._fast_zeros = b"\0" * (layout.fast_digits * width)
        self._padding = _md5py.padding(message_length)
        self._final_offset = layout.final_block_offset - head_len  # in tail + suffix + padding
        fast_shift = 8 * (4 - layout.fast_digits * width)
        self._fast_words = [
            int.from_bytes(suffix, "little") << fast_shift for suffix in layout.fast_suffixes()
        ]
        self._kernel = _md5py.fast_word_kernel(layout.fast_word_index, masks, values)
        self._scan_outer = self._scan_outer_unrolled

    def _scan_outer_unrolled(self, outer: int, first: int, last: int) -> int:
        """Lowest fast index in [first, last) that matches under outer step ``outer``, or -1."""
        message = self._tail + self._slow_bytes(outer) + self._fast_zeros + self._padding
        state = self._head_state
        final = self._final_offset
        for offset in range(0, final, 64):
            state = _md5py.compress(state, message[offset : offset + 64])
        words = _md5py.block_words(message, final)
        return self._kernel(state, words, self._fast_words, first, last)
