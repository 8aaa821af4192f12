"""What the OpenCL kernel needs for one search: compile-time defines and per-launch constants.

Pure Python, no pyopencl: it can be tested (and read) without an OpenCL device.
The kernel (``md5_prefix.cl``) runs one work item per outer step. Of the slow
digits, the ``vary_digits`` lowest are written by each work item (counted up
from ``low0``); the rest, the "high" digits, are the same for a whole launch, so
the host writes them once per launch into the fixed words, compresses the
blocks in front of the ones the work items touch, folds the final block's fixed
words into the step constants and runs the round-1 steps before the first
per-item word. Launches never cross a change of the high digits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional, Union

from .. import _md5py
from ..content import Content
from ..layout import BLOCK, WORD, Layout
from ..target import Target

VARY_MIN_OUTER = 2**26
"""Fewest outer steps between two changes of the high digits (so few launches are cut short)."""

VARY_MAX_OUTER = 2**32
"""The kernel counts the varying digits in 32 bits."""

MAX_LAUNCH_CANDIDATES = 2**32 - 1
"""Hit offsets are reduced with a 32-bit atomic_min, so one launch covers fewer candidates."""

CONSTANT_TABLE_BYTES = 32768
"""Fast-value tables up to this size go in __constant memory, larger ones in __global."""

State = tuple[int, int, int, int]
MASK32 = 0xFFFFFFFF


@dataclass(frozen=True)
class Midstate:
    """The content as the kernel sees it: MD5 state after its whole blocks, and the bytes after.

    Built from bytes today; ``md5steg.content.Content`` exposes the same three facts.
    """

    state: State
    tail: bytes
    length: int


def content_midstate(content: Union[bytes, Content]) -> Midstate:
    """The content's state after its whole blocks (hashed once, compiled core when built)."""
    if isinstance(content, bytes):
        content = Content.from_bytes(content)
    return Midstate(content.state, content.tail, content.length)


def vary_digits_for(base: int) -> int:
    """How many low slow digits the work items of one launch count through (base**it <= 2**32)."""
    digits = 0
    while base ** (digits + 1) <= VARY_MAX_OUTER and base**digits < VARY_MIN_OUTER:
        digits += 1
    return digits


def unsupported_reason(layout: Layout) -> Optional[str]:
    """Why the kernel cannot run this layout, or None (it needs one-byte symbols, aligned)."""
    if layout.alphabet.symbol_width != 1:
        return (
            f"the OpenCL kernel needs an alphabet of one-byte symbols; {layout.alphabet.name!r} "
            "has multi-byte symbols"
        )
    if not layout.aligned:
        return "the OpenCL kernel needs a word-aligned layout"
    return None


@dataclass(frozen=True)
class LaunchConstants:
    """What one group of launches (same high digits) passes to the kernel."""

    mk: tuple[int, ...]  # 64 step constants of the final block
    pre_words: tuple[int, ...]  # 16 words of the block before the final one (PRE_BLOCK)
    state: State  # MD5 state before the final block (or before the block in front of it)
    start: State  # variables a, b, c, d entering step first_step (not PRE_BLOCK)
    base_word: int  # the fast word's fixed bytes


@dataclass(frozen=True)
class Launch:
    """One kernel launch: ``items`` outer steps from ``outer``, fast indices first_j..last_j-1 at the ends."""

    outer: int
    items: int
    first_j: int
    last_j: int


@dataclass
class KernelPlan:
    """The kernel's specialisation for one layout and target, and its per-launch constants."""

    layout: Layout
    target: Target
    midstate: Midstate
    _constants: dict[int, LaunchConstants] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        layout = self.layout
        self.fast_size = layout.fast_size
        self.slow_digits = layout.digits - layout.fast_digits
        self.fast_word = layout.fast_word_index
        self.vary_max = vary_digits_for(layout.base)
        self.vary_digits = min(self.slow_digits, self.vary_max)
        self.vary_period = layout.base**self.vary_digits
        tail = len(self.midstate.tail)
        self.final_offset = layout.final_block_offset - (self.midstate.length - tail)
        # Byte offsets in the window of the block before the final one and the final block.
        self.fast_start = BLOCK + WORD * (self.fast_word + 1) - layout.fast_digits
        lowest = self.fast_start - self.vary_max
        self.pre_block = self.final_offset > 0 and lowest < BLOCK
        self.final_vary_lo = max(0, lowest - BLOCK) // WORD
        self.first_step = 0 if self.pre_block else min(self.final_vary_lo, self.fast_word)
        shift = 8 * (WORD - layout.fast_digits)
        self.fast_words = [int.from_bytes(s, "little") << shift for s in layout.fast_suffixes()]
        self.symbols = b"".join(layout.alphabet.symbols).ljust(256, b"\0")
        mask, value = self.target.mask_and_value()
        self.mask, self.value = mask, value
        self.full = any(mask[1:])

    def defines(self) -> dict[str, str]:
        """The -D values that specialise the kernel (the target's values are arguments)."""
        constant_table = len(self.fast_words) * 4 <= CONSTANT_TABLE_BYTES
        return {
            "FAST_WORD": str(self.fast_word),
            "FAST_SIZE": f"{self.fast_size}u",
            "FAST_START": str(self.fast_start),
            "VARY_MAX": str(self.vary_max),
            "FINAL_VARY_LO": str(self.final_vary_lo),
            "FIRST_STEP": str(self.first_step),
            "PRE_BLOCK": str(int(self.pre_block)),
            "BASE": f"{self.layout.base}u",
            "FULL": str(int(self.full)),
            "FAST_TABLE": "__constant" if constant_table else "__global",
        }

    def launches(self, start: int, stop: int, max_candidates: int) -> Iterator[Launch]:
        """Split nonce indices [start, stop) into launches in increasing order.

        Each stays within one group of high digits and under ``max_candidates``
        (itself under 2**32, the range of the kernel's hit offsets).
        """
        fast = self.fast_size
        most_items = max(1, min(max_candidates, MAX_LAUNCH_CANDIDATES) // fast)
        nonce = start
        while nonce < stop:
            outer, first_j = divmod(nonce, fast)
            group_end = (outer // self.vary_period + 1) * self.vary_period
            end = min(stop, group_end * fast, (outer + most_items) * fast)
            last_outer, last_j = divmod(end - 1, fast)
            yield Launch(outer, last_outer - outer + 1, first_j, last_j + 1)
            nonce = end

    def constants(self, outer: int) -> LaunchConstants:
        """The fixed part of the launches whose high digits are those of ``outer`` (cached)."""
        high = outer // self.vary_period
        cached = self._constants.get(high)
        if cached is None:
            if len(self._constants) > 16:
                self._constants.clear()
            cached = self._constants[high] = self._build_constants(high)
        return cached

    def _build_constants(self, high: int) -> LaunchConstants:
        layout = self.layout
        suffix = bytearray(layout.suffix(high * self.vary_period * self.fast_size))
        suffix[self.slow_digits - self.vary_digits :] = bytes(
            layout.digits - self.slow_digits + self.vary_digits
        )
        message = (
            self.midstate.tail
            + bytes(suffix)
            + _md5py.padding(self.midstate.length + layout.digits)
        )
        window = self.final_offset - BLOCK if self.pre_block else self.final_offset
        state = self.midstate.state
        for offset in range(0, window, BLOCK):
            state = _md5py.compress(state, message[offset : offset + BLOCK])
        pre_words = _md5py.block_words(message, window) if self.pre_block else (0,) * 16
        final = _md5py.block_words(message, self.final_offset)
        order, constants = _md5py._WORD_ORDER, _md5py._K
        mk = tuple(
            ((0 if order[i] == self.fast_word else final[order[i]]) + constants[i]) & MASK32
            for i in range(64)
        )
        start = state if self.pre_block else round1_start(state, mk, self.first_step)
        return LaunchConstants(mk, tuple(pre_words), state, start, final[self.fast_word])


def round1_start(state: State, mk: tuple[int, ...], steps: int) -> State:
    """Run MD5 steps 0..steps-1 (round 1, constants folded in ``mk``) from ``state``.

    Returns the kernel's variables a, b, c, d as they enter step ``steps``
    (the variable a step updates rotates a, d, c, b), as md5steg_fast_prepare does.
    """
    roles = list(state)  # roles[k]: role k (a, b, c, d) of the next step
    for i in range(steps):
        total = (roles[0] + (roles[3] ^ (roles[1] & (roles[2] ^ roles[3]))) + mk[i]) & MASK32
        shift = _md5py._SHIFTS[i]
        rotated = ((total << shift) | (total >> (32 - shift))) & MASK32
        roles = [roles[3], (roles[1] + rotated) & MASK32, roles[1], roles[2]]
    variables = [0, 0, 0, 0]
    for k in range(4):
        variables[(k - steps) % 4] = roles[k]
    return (variables[0], variables[1], variables[2], variables[3])
