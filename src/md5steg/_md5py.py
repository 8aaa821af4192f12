"""MD5 in pure Python, written out step by step so PyPy's JIT turns it into machine code.

The functions are generated as straight-line source (64 steps, no loops, no
tables) and compiled once with ``exec``: a loop over step tables costs PyPy
guards and list reads on every step, written-out steps cost only the
arithmetic. Two shapes are generated:

* ``compress``: one full compression (``compress_blocks`` for many; ``Md5``
  resumes a hash from a chaining state);
* ``fast_word_kernel(word_index, mask, value)``: the search kernel. From a
  saved state and a final block whose words are all fixed except one, it
  varies that word over a table and returns the lowest table index whose
  digest matches. Fixed words are folded into their round constants once per
  block, the steps before the varying word first appears run once per block,
  and the first state word is checked after step 60, so most candidates
  skip the last three steps.

Standard library only; on CPython the same code runs, about 80x slower than
``hashlib``, which is why the engine only picks it on PyPy.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Union

State = tuple[int, int, int, int]
FastScan = Callable[[State, Sequence[int], Sequence[int], int, int], int]

IV: State = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
MASK32 = 0xFFFFFFFF

_K = [
    0xD76AA478, 0xE8C7B756, 0x242070DB, 0xC1BDCEEE, 0xF57C0FAF, 0x4787C62A, 0xA8304613, 0xFD469501,
    0x698098D8, 0x8B44F7AF, 0xFFFF5BB1, 0x895CD7BE, 0x6B901122, 0xFD987193, 0xA679438E, 0x49B40821,
    0xF61E2562, 0xC040B340, 0x265E5A51, 0xE9B6C7AA, 0xD62F105D, 0x02441453, 0xD8A1E681, 0xE7D3FBC8,
    0x21E1CDE6, 0xC33707D6, 0xF4D50D87, 0x455A14ED, 0xA9E3E905, 0xFCEFA3F8, 0x676F02D9, 0x8D2A4C8A,
    0xFFFA3942, 0x8771F681, 0x6D9D6122, 0xFDE5380C, 0xA4BEEA44, 0x4BDECFA9, 0xF6BB4B60, 0xBEBFBC70,
    0x289B7EC6, 0xEAA127FA, 0xD4EF3085, 0x04881D05, 0xD9D4D039, 0xE6DB99E5, 0x1FA27CF8, 0xC4AC5665,
    0xF4292244, 0x432AFF97, 0xAB9423A7, 0xFC93A039, 0x655B59C3, 0x8F0CCC92, 0xFFEFF47D, 0x85845DD1,
    0x6FA87E4F, 0xFE2CE6E0, 0xA3014314, 0x4E0811A1, 0xF7537E82, 0xBD3AF235, 0x2AD7D2BB, 0xEB86D391,
]  # fmt: skip
_SHIFTS = [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4
_WORD_ORDER = (
    list(range(16))
    + [(1 + 5 * i) % 16 for i in range(16)]
    + [(5 + 3 * i) % 16 for i in range(16)]
    + [(7 * i) % 16 for i in range(16)]
)
_ROTATION = ("a", "d", "c", "b")  # the state word each step of a round of four updates

_BLOCK = struct.Struct("<16I")


def _step_source(step: int, addend: str) -> list[str]:
    """Source lines of MD5 step ``step`` adding ``addend`` (message word plus constant).

    Only the low 32 bits of the state variables matter, so most masks are
    left out: the sum is masked before the rotation (which needs exact low
    bits), the rotation is not, and the four variables are masked at the end
    of each round. Within a round the leftover high bits stay below 2**60,
    so every value remains a machine integer on PyPy (no overflow to a long).
    """
    a = _ROTATION[step % 4]
    b, c, d = _ROTATION[(step + 3) % 4], _ROTATION[(step + 2) % 4], _ROTATION[(step + 1) % 4]
    round_function = (
        f"({d} ^ ({b} & ({c} ^ {d})))",  # F
        f"({c} ^ ({d} & ({b} ^ {c})))",  # G
        f"({b} ^ {c} ^ {d})",  # H
        f"({c} ^ ({b} | ~{d}))",  # I
    )[step // 16]
    shift = _SHIFTS[step]
    lines = [
        f"t = ({a} + {round_function} + {addend}) & 0xFFFFFFFF",
        f"{a} = ((t << {shift}) | (t >> {32 - shift})) + {b}",
    ]
    if step % 16 == 15:
        lines += [f"{name} &= 0xFFFFFFFF" for name in "abcd"]
    return lines


def _compile(source: str, name: str) -> Callable[..., object]:
    namespace: dict[str, object] = {}
    # Our own generated source, never user input: exec is how the steps get unrolled.
    exec(compile(source, f"<md5steg._md5py {name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]  # type: ignore[return-value]


def _compress_source() -> str:
    lines = ["def compress(state, words):", "    a, b, c, d = state"]
    lines += [f"    w{i} = words[{i}]" for i in range(16)]
    for step in range(64):
        addend = f"w{_WORD_ORDER[step]} + {_K[step]:#x}"
        lines += ["    " + line for line in _step_source(step, addend)]
    lines.append(
        "    return ((state[0] + a) & 0xFFFFFFFF, (state[1] + b) & 0xFFFFFFFF,"
        " (state[2] + c) & 0xFFFFFFFF, (state[3] + d) & 0xFFFFFFFF)"
    )
    return "\n".join(lines) + "\n"


_compress_words: Callable[[State, Sequence[int]], State] = _compile(_compress_source(), "compress")  # type: ignore[assignment]


def compress(state: State, block: bytes) -> State:
    """The MD5 state after compressing one 64-byte block into ``state``."""
    return _compress_words(state, _BLOCK.unpack(block))


def compress_blocks(state: State, data: Union[bytes, memoryview]) -> State:
    """The MD5 state after compressing ``data`` (whole 64-byte blocks) into ``state``."""
    if len(data) % 64:
        raise ValueError(f"compress_blocks needs whole 64-byte blocks, not {len(data)} bytes")
    words = _compress_words
    unpack = _BLOCK.unpack_from
    for offset in range(0, len(data), 64):
        state = words(state, unpack(data, offset))
    return state


def block_words(data: bytes, offset: int = 0) -> tuple[int, ...]:
    """The 16 little-endian message words of the 64-byte block at ``offset``."""
    return _BLOCK.unpack_from(data, offset)


def padding(message_length: int) -> bytes:
    """MD5's padding for a message of ``message_length`` bytes: 0x80, zeros, bit length."""
    zeros = (55 - message_length) % 64
    return b"\x80" + b"\0" * zeros + struct.pack("<Q", (message_length * 8) & (2**64 - 1))


def state_digest(state: State) -> bytes:
    """The 16 digest bytes of a final MD5 state."""
    return struct.pack("<4I", *state)


class Md5:
    """An MD5 object resumed from a chaining state, which ``hashlib`` cannot do.

    Used for content that arrived pickled (its ``hashlib`` object stayed
    behind); same ``update``/``copy``/``digest`` as ``hashlib.md5()``.
    """

    __slots__ = ("_state", "_pending", "_length")

    def __init__(self, state: State = IV, pending: bytes = b"", length: int = 0) -> None:
        self._state = state
        self._pending = pending  # the bytes after the whole blocks seen so far (< 64)
        self._length = length

    def update(self, data: bytes, /) -> None:
        pending = self._pending + data
        whole = len(pending) - len(pending) % 64
        self._state = compress_blocks(self._state, pending[:whole])
        self._pending = pending[whole:]
        self._length += len(data)

    def copy(self) -> Md5:
        return Md5(self._state, self._pending, self._length)

    def digest(self) -> bytes:
        return state_digest(compress_blocks(self._state, self._pending + padding(self._length)))

    def hexdigest(self) -> str:
        return self.digest().hex()


def _fast_word_kernel_source(word_index: int, mask: Sequence[int], value: Sequence[int]) -> str:
    """Source of ``scan(state, words, fast_words, first, last)`` for one varying word and target."""
    lines = [
        "def scan(state, words, fast_words, first, last):",
        "    a0, b0, c0, d0 = state",
        f"    base_word = words[{word_index}]",
    ]
    # Fixed message words folded into their step constants, once per block.
    for step in range(64):
        if _WORD_ORDER[step] != word_index:
            lines.append(f"    k{step} = words[{_WORD_ORDER[step]}] + {_K[step]:#x}")
    # Steps before the varying word is first used are the same for every candidate.
    lines.append("    a, b, c, d = a0, b0, c0, d0")
    for step in range(word_index):
        lines += ["    " + line for line in _step_source(step, f"k{step}")]
    lines += [
        "    pa, pb, pc, pd = a, b, c, d",
        "    for j in range(first, last):",
        "        x = base_word | fast_words[j]",
        "        a = pa",
        "        b = pb",
        "        c = pc",
        "        d = pd",
    ]
    for step in range(word_index, 64):
        if _WORD_ORDER[step] == word_index:
            addend = f"x + {_K[step]:#x}"
        else:
            addend = f"k{step}"
        lines += ["        " + line for line in _step_source(step, addend)]
        if step == 60 and mask[0]:
            # Word 0 is final after step 60: reject most candidates three steps early.
            lines.append(f"        if (a0 + a) & {mask[0]:#x} != {value[0]:#x}:")
            lines.append("            continue")
    checks = [
        f"(({start} + {name}) & {mask[i]:#x}) == {value[i]:#x}"
        for i, (start, name) in enumerate((("a0", "a"), ("b0", "b"), ("c0", "c"), ("d0", "d")))
        if mask[i] and i > 0
    ]
    if checks:
        lines.append(f"        if {' and '.join(checks)}:")
        lines.append("            return j")
    else:
        lines.append("        return j")
    lines.append("    return -1")
    return "\n".join(lines) + "\n"


_kernel_cache: dict[tuple[int, tuple[int, ...], tuple[int, ...]], FastScan] = {}


def fast_word_kernel(word_index: int, mask: Sequence[int], value: Sequence[int]) -> FastScan:
    """The search kernel for one varying word (0..15) and one target mask/value (4 LE words).

    ``scan(state, words, fast_words, first, last)`` compresses the block
    ``words`` from ``state`` with word ``word_index`` replaced by
    ``words[word_index] | fast_words[j]`` for j in [first, last), and returns
    the lowest j whose final state matches, or -1.
    """
    if not 0 <= word_index < 16:
        raise ValueError(f"word_index must be 0..15, not {word_index}")
    key = (word_index, tuple(mask), tuple(value))
    kernel = _kernel_cache.get(key)
    if kernel is None:
        if len(_kernel_cache) > 64:
            _kernel_cache.clear()
        source = _fast_word_kernel_source(word_index, mask, value)
        kernel = _kernel_cache[key] = _compile(source, "scan")  # type: ignore[assignment]
    return kernel  # type: ignore[return-value]
