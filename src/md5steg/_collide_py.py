"""The collision search of ``md5_collide.h``, in pure Python, step for step.

Same draws from the same PRNG in the same order, so for one chaining value and seed it finds
the pair the compiled core finds (the tests hold the two engines to that). It is the fallback
where the extension does not build, and the CPython/PyPy rows of the benchmark: about 180x
slower than the C on CPython, 12x on PyPy. Read the C header for the why of each step.
"""

from __future__ import annotations

from collections.abc import Sequence

MASK = 0xFFFFFFFF

K = (
    0xD76AA478, 0xE8C7B756, 0x242070DB, 0xC1BDCEEE, 0xF57C0FAF, 0x4787C62A, 0xA8304613, 0xFD469501,
    0x698098D8, 0x8B44F7AF, 0xFFFF5BB1, 0x895CD7BE, 0x6B901122, 0xFD987193, 0xA679438E, 0x49B40821,
    0xF61E2562, 0xC040B340, 0x265E5A51, 0xE9B6C7AA, 0xD62F105D, 0x02441453, 0xD8A1E681, 0xE7D3FBC8,
    0x21E1CDE6, 0xC33707D6, 0xF4D50D87, 0x455A14ED, 0xA9E3E905, 0xFCEFA3F8, 0x676F02D9, 0x8D2A4C8A,
    0xFFFA3942, 0x8771F681, 0x6D9D6122, 0xFDE5380C, 0xA4BEEA44, 0x4BDECFA9, 0xF6BB4B60, 0xBEBFBC70,
    0x289B7EC6, 0xEAA127FA, 0xD4EF3085, 0x04881D05, 0xD9D4D039, 0xE6DB99E5, 0x1FA27CF8, 0xC4AC5665,
    0xF4292244, 0x432AFF97, 0xAB9423A7, 0xFC93A039, 0x655B59C3, 0x8F0CCC92, 0xFFEFF47D, 0x85845DD1,
    0x6FA87E4F, 0xFE2CE6E0, 0xA3014314, 0x4E0811A1, 0xF7537E82, 0xBD3AF235, 0x2AD7D2BB, 0xEB86D391,
)  # fmt: skip
ORDER = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    1, 6, 11, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12,
    5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2,
    0, 7, 14, 5, 12, 3, 10, 1, 8, 15, 6, 13, 4, 11, 2, 9,
)  # fmt: skip
ROT = (7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21)
R1 = (7, 12, 17, 22) * 4
SIGN = 0x80000000

# Conditions as (draw, ones, same_prev, flip_prev, same_q0_sign, flip_q0_sign) per Q[t]; see
# md5c_q_row. A dict because block 1 starts at Q2 and block 0 skips Q2.
Row = tuple[int, int, int, int, int, int]

BLOCK0_ROWS: dict[int, Row] = {
    1: (0xFFFFFFFF, 0, 0, 0, 0, 0),
    3: (0xFE87BC3F, 0x017841C0, 0, 0, 0, 0),
    4: (0x44000033, 0x000002C0, 0x0287BC00, 0, 0, 0),
    5: (0, 0x41FFFFC8, 0x04000033, 0, 0, 0),
    6: (0, 0xB84B82D6, 0, 0, 0, 0),
    7: (0x68000084, 0x02401B43, 0, 0, 0, 0),
    8: (0x2B8F6E04, 0x005090D3, 0, 0x40000000, 0, 0),
    9: (0, 0x20040068, 0x00020000, 0x40000000, 0, 0),
    10: (0x40000000, 0x1040B089, 0, 0, 0, 0),
    11: (0x10408008, 0x0FBB7F16, 0, 0x40000000, 0, 0),
    12: (0x1ED9DF7F, 0x00022080, 0, 0x40200000, 0, 0),
    13: (0x5EFB4F77, 0x20049008, 0, 0, 0, 0),
    14: (0x1FFF5F77, 0x0000A088, 0, 0x40000000, 0, 0),
    15: (0x5EFE7FF7, 0x80008000, 0, 0x00010000, 0, 0),
    16: (0x1FFDFFFF, 0xA0000000, 0, 0x40020000, 0, 0),
}
BLOCK0_IHV_DELTA = (0x80000000, 0x82000000, 0x82000000, 0x82000000)


class Block1Path:
    """One block-1 differential path: its Q conditions and tunnels (md5c_block1_path)."""

    def __init__(
        self,
        rows: dict[int, Row],
        q1: tuple[int, int, int, int],
        q17_mask: int,
        q17_value: int,
        q18_value: int,
        q19_value: int,
        q4_tunnel: int,
        q10_tunnel: int,
        q9_with_q10_tunnel: int,
        q9_tunnel: int,
        q22_sign: int,
        step34_bit15: int,
    ) -> None:
        self.rows = rows
        self.q1_ones, self.q1_from_q0, self.q1_from_q2, self.q1_draw = q1
        self.q17_mask, self.q17_value = q17_mask, q17_value
        self.q18_value, self.q19_value = q18_value, q19_value
        self.q4_tunnel = q4_tunnel
        self.q10_tunnel, self.q9_with_q10_tunnel, self.q9_tunnel = q10_tunnel, q9_with_q10_tunnel, q9_tunnel
        self.q22_sign, self.step34_bit15 = q22_sign, step34_bit15


PATH_WANG = Block1Path(
    {
        2: (0x71DE7799, 0x0C008840, 0, 0, 0, SIGN),
        3: (0x01C06601, 0x3E1F0966, 0x80000018, 0, 0, 0),
        4: (0, 0x3A040010, 0x80000601, 0, 0, 0),
        5: (0x03C0E000, 0x482F0E50, 0, 0, SIGN, 0),
        6: (0x600C0000, 0x05E2EC56, 0, 0, SIGN, 0),
        7: (0x604C203E, 0x16819E01, 0x01000000, 0, 0, SIGN),
        8: (0x604C7C1C, 0x043283E0, 0x80000002, 0, 0, 0),
        9: (0x00002800, 0x1C0101C1, 0x80001000, 0, 0, 0),
        10: (0, 0x078BCBC0, 0, 0, 0, SIGN),
        11: (0x07800000, 0x607DC7DF, 0, 0, 0, SIGN),
        12: (0x00F00F7F, 0x00081080, 0xE7000000, 0, 0, 0),
        13: (0x00701F77, 0x3F0FE008, 0, 0, SIGN, 0),
        14: (0x00701F77, 0x408BE088, 0, 0, SIGN, 0),
        15: (0x00FF3FF7, 0x7D000000, 0, 0, 0, 0),
        16: (0x4FFDFFFF, 0x20000000, 0, 0x00020000, 0, 0),
    },
    (0x04200040, 0, 0xF01E1080, 0x01C0E71F),
    0xC0008008, 0x40000000, 0x00020000, 0,
    0x01C0E000, 0x18000020, 0x00084000, 0x6074041C, 0, 1 << 15,
)  # fmt: skip

PATHS_STEVENS = (
    Block1Path(  # 00
        {
            2: (0x49A0E73E, 0x221F00C1, 0, 0, SIGN, 0),
            3: (0x0000040C, 0x3FCE1A71, 0x8000E000, 0, 0, 0),
            4: (0x00000004, 0x25F281A2, 0x00000008, 0x80000000, 0, 0),
            5: (0x00000004, 0x67FD823B, 0, 0, 0, 0),
            6: (0x00001044, 0x15E5829A, 0, 0, 0, 0),
            7: (0x00200806, 0x950430B0, 0, 0, 0, 0),
            8: (0x60050110, 0x1BD29CA2, 0x00000004, 0, 0, 0),
            9: (0x40044000, 0xB8820004, 0, 0, 0, 0),
            10: (0, 0xF288B209, 0x00044000, 0, 0, 0),
            11: (0x12888008, 0x85712F57, 0, 0, 0, 0),
            12: (0x1ED98D7F, 0xC0023080, 0, 0x00200000, 0, 0),
            13: (0x0EFB1D77, 0x1000C008, 0, 0, 0, 0),
            14: (0x0FFF5D77, 0xA000A288, 0, 0, 0, 0),
            15: (0x0EFE7FF7, 0xE0008000, 0, 0x00010000, 0, 0),
            16: (0x0FFDFFFF, 0xF0000000, 0, 0x00020000, 0, 0),
        },
        (0x02020801, 0x80000000, 0, 0x7DFDF7BE),
        0x80008008, 0x80000000, 0x80020000, 0x80000000,
        0, 0x08000020, 0x00002000, 0x04310D12, 1, 0,
    ),
    Block1Path(  # 01
        {
            2: (0x4DB0E03E, 0x32460441, 0, 0, SIGN, 0),
            3: (0x0C000008, 0x123C3AF1, 0x80800002, 0, 0, 0),
            4: (0, 0x6398F812, 0x08000000, 0x80000000, 0, 0),
            5: (0x82000000, 0x4C66E99E, 0, 0, 0, 0),
            6: (0x80000000, 0x27180590, 0, 0, 0, 0),
            7: (0x00010130, 0x51EA9E47, 0, 0, 0, 0),
            8: (0x40200800, 0xB7C291E5, 0, 0, 0, 0),
            9: (0x00044000, 0x380002B4, 0, 0, 0, 0),
            10: (0, 0xB282B208, 0x00044000, 0, 0, 0),
            11: (0x12808008, 0xC5712F47, 0, 0, 0, 0),
            12: (0x1EF18D7F, 0x000A3080, 0, 0, 0, 0),
            13: (0x1EFB1D77, 0x4004C008, 0, 0, 0, 0),
            14: (0x1FFF5D77, 0x6000A288, 0, 0, 0, 0),
            15: (0x1EFE7FF7, 0xA0008000, 0, 0x00010000, 0, 0),
            16: (0x1FFDFFFF, 0x20000000, 0, 0x00020000, 0, 0),
        },
        (0x02000021, 0x80000020, 0, 0x7DFFF39E),
        0x80008008, 0x80000000, 0x80020000, 0,
        0, 0x08000030, 0x80002000, 0x44310D02, 0, 0,
    ),
    Block1Path(  # 10
        {
            2: (0x79B0C6BA, 0x024C3841, 0, 0, SIGN, 0),
            3: (0x19300210, 0x2603096D, 0x80000082, 0, 0, 0),
            4: (0x10300000, 0xE4CAE30C, 0x01000030, 0, 0, 0),
            5: (0x10000000, 0x63494061, 0x00300000, 0, 0, 0),
            6: (0, 0x7DEAFF68, 0, 0, 0, 0),
            7: (0x20444000, 0x09091EE0, 0, 0, 0, 0),
            8: (0x09040000, 0xB2529F6D, 0, 0, 0, 0),
            9: (0x00040000, 0x10885184, 0, 0, 0, 0),
            10: (0x00000080, 0x428AFB11, 0x00040000, 0, 0, 0),
            11: (0x128A8110, 0x6571266B, 0x00000080, 0, 0, 0),
            12: (0x3EF38D7F, 0x00003080, 0, 0x00080000, 0, 0),
            13: (0x3EFB1D77, 0x0004C008, 0, 0, 0, 0),
            14: (0x5FFF5D77, 0x8000A288, 0, 0, 0, 0),
            15: (0x1EFE7FF7, 0xE0008000, 0, 0x00010000, 0, 0),
            16: (0x5FFDFFFF, 0x20000000, 0, 0x00020000, 0, 0),
        },
        (0x02000941, 0x80000000, 0, 0x7DFDF6BE),
        0x80008008, 0x80000000, 0x80020000, 0,
        0, 0x08000004, 0x00004200, 0x2471042A, 0, 0,
    ),
    Block1Path(  # 11
        {
            2: (0x75BEF63E, 0x0A410041, 0, 0, SIGN, 0),
            3: (0x10345614, 0x0202A9E1, 0x84000002, 0, 0, 0),
            4: (0x00145400, 0xE84BA909, 0x00000014, 0, 0, 0),
            5: (0x80000000, 0x75E90B1D, 0x00145400, 0, 0, 0),
            6: (0, 0x7C23FF5A, 0x80000000, 0, 0, 0),
            7: (0x40000880, 0x114BF41A, 0, 0, 0, 0),
            8: (0x00002090, 0xB352DD01, 0, 0, 0, 0),
            9: (0x00044000, 0x7A803124, 0, 0, 0, 0),
            10: (0x00002000, 0xF28A92C9, 0x00044000, 0, 0, 0),
            11: (0x128A8108, 0xC5710ED7, 0x00002000, 0, 0, 0),
            12: (0x9EDB8D7F, 0x20003080, 0, 0x00200000, 0, 0),
            13: (0x3EFB1D77, 0x4004C008, 0x80000000, 0, 0, 0),
            14: (0x1FFF5D77, 0x0000A288, 0, 0, 0, 0),
            15: (0x1EFE7FF7, 0x20008000, 0, 0x00010000, 0, 0),
            16: (0x1FFDFFFF, 0x20000000, 0, 0x40020000, 0, 0),
        },
        (0x02000861, 0x80000020, 0, 0x7DFFF79E),
        0xC0008008, 0x40000000, 0x80020000, 0x80000000,
        0, 0x08000000, 0x80000280, 0x04710C12, 1, 0,
    ),
)  # fmt: skip


def rotl(x: int, n: int) -> int:
    x &= MASK
    return ((x << n) | (x >> (32 - n))) & MASK


def rotr(x: int, n: int) -> int:
    x &= MASK
    return ((x >> n) | (x << (32 - n))) & MASK


def fF(b: int, c: int, d: int) -> int:  # noqa: N802 - MD5's round functions are F, G, H, I
    return d ^ (b & (c ^ d))


def fG(b: int, c: int, d: int) -> int:  # noqa: N802
    return c ^ (d & (b ^ c))


def compress(ihv: Sequence[int], m: Sequence[int]) -> list[int]:
    """MD5's compression function on words: the chaining value after block ``m``."""
    a, b, c, d = ihv
    for i in range(64):
        if i < 16:
            f = d ^ (b & (c ^ d))
        elif i < 32:
            f = c ^ (d & (b ^ c))
        elif i < 48:
            f = b ^ c ^ d
        else:
            f = c ^ (b | (~d & MASK))
        total = (a + f + K[i] + m[ORDER[i]]) & MASK
        a, d, c = d, c, b
        b = (b + rotl(total, ROT[(i >> 4) * 4 + (i & 3)])) & MASK
    return [(ihv[0] + a) & MASK, (ihv[1] + b) & MASK, (ihv[2] + c) & MASK, (ihv[3] + d) & MASK]


def step_outputs(ihv: Sequence[int], m: Sequence[int]) -> tuple[list[int], int]:
    """Q1..Q64 of one compression (index t-1 holds Q[t]), and step 34's sum before rotation."""
    a, b, c, d = ihv
    outputs, step34_sum = [], 0
    for i in range(64):
        if i < 16:
            f = d ^ (b & (c ^ d))
        elif i < 32:
            f = c ^ (d & (b ^ c))
        elif i < 48:
            f = b ^ c ^ d
        else:
            f = c ^ (b | (~d & MASK))
        total = (a + f + K[i] + m[ORDER[i]]) & MASK
        if i == 34:
            step34_sum = total
        a, d, c = d, c, b
        b = (b + rotl(total, ROT[(i >> 4) * 4 + (i & 3)])) & MASK
        outputs.append(b)
    return outputs, step34_sum


def rounds_3_4_hold(m: Sequence[int], q21: int, q22: int, q23: int, q24: int, step34_bit15: int) -> list[int] | None:
    """Steps 24..63 with the path's conditions on rounds 3 and 4; the end state, or None."""
    a, d, c, b = q21, q22, q23, q24
    for i in range(24, 64):
        if i < 32:
            f = c ^ (d & (b ^ c))
        elif i < 48:
            f = b ^ c ^ d
        else:
            f = c ^ (b | (~d & MASK))
        total = (a + f + K[i] + m[ORDER[i]]) & MASK
        if i == 34 and (total & 0x8000) != step34_bit15:
            return None
        a, d, c = d, c, b
        b = (b + rotl(total, ROT[(i >> 4) * 4 + (i & 3)])) & MASK
        # b is Q[i+1]; d (the old c) is Q[i-1]: round 4 wants their sign bits as the path says.
        if i == 47 or i >= 48 and i != 63:
            differ = (b ^ d) >> 31
            if differ != (1 if i in (49, 59) else 0):
                return None
    # The C code keeps the last four Q in (a, b, c, d) by step position; map them back.
    return [a, b, c, d]


class _Rng:
    """Marsaglia's xorshift, as md5c_next."""

    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def next(self) -> int:
        t = (self.x ^ (self.x << 10)) & MASK
        self.x = self.y
        self.y = (self.y ^ (self.y >> 10)) ^ (t ^ (t >> 13))
        return self.x


def next_subset(sub: int, mask: int) -> int:
    return (sub - mask) & mask


def draw_q(q: list[int], rows: dict[int, Row], first: int, last: int, rng: _Rng) -> None:
    q0_sign = q[3] & SIGN
    for t in range(first, last + 1):
        draw, ones, same_prev, flip_prev, same_sign, flip_sign = rows[t]
        prev = q[t + 2]
        value = ones | (prev & same_prev) | (~prev & flip_prev) | (q0_sign & same_sign) | (~q0_sign & flip_sign)
        if draw:
            value |= rng.next() & draw
        q[t + 3] = value & MASK


def word_from_q(q: list[int], t: int) -> int:
    """m[t] from Q[t-3..t+1] (q holds Q[t] at t + 3)."""
    return (rotr(q[t + 4] - q[t + 3], R1[t]) - fF(q[t + 3], q[t + 2], q[t + 1]) - q[t] - K[t]) & MASK


def ihv_fits_stevens(ihv: Sequence[int]) -> bool:
    return (
        not ((ihv[1] ^ ihv[2]) >> 31)
        and not ((ihv[1] ^ ihv[3]) >> 31)
        and not ((ihv[1] | ihv[2] | ihv[3]) & (1 << 25))
        and not ((ihv[1] ^ ihv[2]) & 1)
    )


def ihv_fits_wang(ihv: Sequence[int]) -> bool:
    return (
        ((ihv[1] ^ ihv[2]) & 0x86000000) == 0x02000000
        and not ((ihv[1] ^ ihv[3]) & 0x82000000)
        and not (ihv[1] & 0x06000020)
    )


def _new_q(iv: Sequence[int]) -> list[int]:
    q = [0] * 68
    q[0], q[1], q[2], q[3] = iv[0], iv[3], iv[2], iv[1]
    return q


def block0_attempt(iv: Sequence[int], m: list[int], rng: _Rng) -> bool:
    """md5c_block0_attempt."""
    q = _new_q(iv)
    draw_q(q, BLOCK0_ROWS, 1, 1, rng)
    draw_q(q, BLOCK0_ROWS, 3, 16, rng)
    for t in (0, 6, 7, 11, 14, 15):
        m[t] = word_from_q(q, t)
    tt1 = (fF(q[4], q[3], q[2]) + q[1] + K[1]) & MASK
    tt17 = (fG(q[19], q[18], q[17]) + q[16] + K[16]) & MASK
    tt18 = (q[17] + K[17] + m[6]) & MASK
    tt19 = (q[18] + K[18] + m[11]) & MASK
    tt20 = (q[19] + K[19] + m[0]) & MASK
    tt5 = (rotr(q[9] - q[8], 12) - fF(q[8], q[7], q[6]) - K[5]) & MASK

    found = False
    for _ in range(1 << 7):
        q16 = q[19]
        q17 = ((rng.next() & 0x3FFD7FF7) | (q16 & 0xC0008008)) ^ 0x40000000
        q18 = (rotl(fG(q17, q16, q[18]) + tt18, 9) + q17) & MASK
        if ((q18 ^ q17) & 0xA0020000) != 0x00020000:
            continue
        q19 = (rotl(fG(q18, q17, q16) + tt19, 14) + q18) & MASK
        if (q19 & 0x80020000) != 0x80000000:
            continue
        q20 = (rotl(fG(q19, q18, q17) + tt20, 20) + q19) & MASK
        if ((q20 ^ q19) & 0x80040000) != 0x00040000:
            continue
        m[1] = (rotr(q17 - q16, 5) - tt17) & MASK
        q2 = (rotl(m[1] + tt1, 12) + q[4]) & MASK
        m[5] = (tt5 - q2) & MASK
        q[5], q[20], q[21], q[22], q[23] = q2, q17, q18, q19, q20
        m[2] = word_from_q(q, 2)
        found = True
        break
    if not found:
        return False

    q4_base, q9_base, q10 = q[7], q[12], q[13]
    tt21 = (fG(q[23], q[22], q[21]) + q[20] + K[20]) & MASK
    q4_flip = 0
    while True:
        q[7] = q4_base ^ q4_flip
        q4_flip = next_subset(q4_flip, 0x38000004)
        m[5] = word_from_q(q, 5)
        q21 = (rotl(tt21 + m[5], 5) + q[23]) & MASK
        if not ((q21 ^ q[23]) & 0x80020000):
            q[24] = q21
            m[3] = word_from_q(q, 3)
            m[4] = word_from_q(q, 4)
            m[7] = word_from_q(q, 7)
            if _block0_tunnels(iv, m, q, q9_base, q10):
                return True
        if not q4_flip:
            return False


def _block0_tunnels(iv: Sequence[int], m: list[int], q: list[int], q9_base: int, q10: int) -> bool:
    """Block 0's tunnels on Q9/Q10 and on Q9 alone, for one Q4."""
    tt22 = (fG(q[24], q[23], q[22]) + q[21] + K[21]) & MASK
    tt23 = (q[22] + K[22] + m[15]) & MASK
    tt24 = (q[23] + K[23] + m[4]) & MASK
    tt8 = (fF(q[11], q[10], q[9]) + q[8] + K[8]) & MASK
    tt9 = (q[9] + K[9]) & MASK
    tt10 = (q[10] + K[10]) & MASK
    tt12 = (rotr(q[16] - q[15], 7) - K[12]) & MASK
    tt13 = (rotr(q[17] - q[16], 12) - fF(q[16], q[15], q[14]) - K[13]) & MASK
    q8, q7, q11, q12 = q[11], q[10], q[14], q[15]
    q9q10_flip = 0
    while True:
        q10x = q10 ^ (q9q10_flip & 0x60)
        q9x = q9_base ^ (q9q10_flip & 0x2000)
        q9q10_flip = next_subset(q9q10_flip, 0x2060)
        m10 = (rotr(q11 - q10x, 17) - (fF(q10x, q9x, q8) + tt10)) & MASK
        q21 = q[24]
        q22 = (rotl(tt22 + m10, 9) + q21) & MASK
        q23 = q24 = 0
        ok = bool(q22 >> 31)
        if ok:
            q23 = (tt23 + fG(q22, q21, q[23])) & MASK
            ok = not (q23 & 0x20000)
        if ok:
            q23 = (rotl(q23, 14) + q22) & MASK
            ok = not (q23 >> 31)
        if ok:
            q24 = (rotl(tt24 + fG(q23, q22, q21), 20) + q23) & MASK
            ok = bool(q24 >> 31)
        if ok:
            m[10] = m10
            m[13] = (tt13 - q10x) & MASK
            q9_flip = 0
            while True:
                q9 = q9x ^ q9_flip
                q9_flip = next_subset(q9_flip, 0x0EB94F16)
                m[12] = (tt12 - fF(q12, q11, q10x) - q9) & MASK
                m[8] = (rotr(q9 - q8, 7) - tt8) & MASK
                m[9] = (rotr(q10x - q9, 12) - fF(q9, q8, q7) - tt9) & MASK
                end = rounds_3_4_hold(m, q21, q22, q23, q24, 0)
                if end is not None and _block0_accepts(iv, m, end):
                    return True
                if not q9_flip:
                    break
        if not q9q10_flip:
            return False


def _block0_accepts(iv: Sequence[int], m: list[int], end: Sequence[int]) -> bool:
    ihv = [(iv[i] + end[i]) & MASK for i in range(4)]
    if not ihv_fits_stevens(ihv) and not ihv_fits_wang(ihv):
        return False
    m2 = list(m)
    m2[4] = (m2[4] + SIGN) & MASK
    m2[11] = (m2[11] + 0x8000) & MASK
    m2[14] = (m2[14] + SIGN) & MASK
    ihv1 = compress(iv, m)
    ihv2 = compress(iv, m2)
    return all((ihv2[i] - ihv1[i]) & MASK == BLOCK0_IHV_DELTA[i] for i in range(4))


def block1_attempt(
    path: Block1Path, iv: Sequence[int], iv_delta: Sequence[int], m11_delta: int, m: list[int], rng: _Rng
) -> bool:
    """md5c_block1_attempt."""
    q = _new_q(iv)
    draw_q(q, path.rows, 2, 16, rng)
    for t in (5, 6, 7, 11, 14, 15):
        m[t] = word_from_q(q, t)
    tt17 = (fG(q[19], q[18], q[17]) + q[16] + K[16]) & MASK
    tt18 = (q[17] + K[17] + m[6]) & MASK
    tt19 = (q[18] + K[18] + m[11]) & MASK
    tt0 = (fF(q[3], q[2], q[1]) + q[0] + K[0]) & MASK
    tt1 = (q[1] + K[1]) & MASK
    q1_base = path.q1_ones ^ (q[3] & path.q1_from_q0) ^ (q[5] & path.q1_from_q2)

    found = False
    for _ in range(1 << 12):
        q1 = q1_base | (rng.next() & path.q1_draw)
        m1 = (rotr(q[5] - q1, 12) - fF(q1, q[3], q[2]) - tt1) & MASK
        q16 = q[19]
        q17 = (rotl(tt17 + m1, 5) + q16) & MASK
        if ((q17 ^ q16) & path.q17_mask) != path.q17_value or q17 & 0x20000:
            continue
        q18 = (rotl(fG(q17, q16, q[18]) + tt18, 9) + q17) & MASK
        if ((q18 ^ q17) & 0xA0020000) != path.q18_value:
            continue
        q19 = (rotl(fG(q18, q17, q16) + tt19, 14) + q18) & MASK
        if (q19 & 0x80020000) != path.q19_value:
            continue
        m0 = (rotr(q1 - q[3], 7) - tt0) & MASK
        q20 = (rotl(fG(q19, q18, q17) + q16 + K[19] + m0, 20) + q19) & MASK
        if ((q20 ^ q19) & 0x80040000) != 0x00040000:
            continue
        if not path.q4_tunnel:
            q21 = (rotl(fG(q20, q19, q18) + q17 + K[20] + m[5], 5) + q20) & MASK
            if (q21 ^ q20) & 0x80020000:
                continue
            q[24] = q21
        q[4], q[20], q[21], q[22], q[23] = q1, q17, q18, q19, q20
        m[0], m[1] = m0, m1
        found = True
        break
    if not found:
        return False
    m[2] = word_from_q(q, 2)

    q4_base = q[7]
    tt21 = (fG(q[23], q[22], q[21]) + q[20] + K[20]) & MASK
    q4_flip = 0
    while True:
        q[7] = q4_base ^ q4_flip
        q4_flip = next_subset(q4_flip, path.q4_tunnel)
        ok = True
        if path.q4_tunnel:
            m[5] = word_from_q(q, 5)
            q21 = (rotl(tt21 + m[5], 5) + q[23]) & MASK
            ok = not ((q21 ^ q[23]) & 0x80020000)
            if ok:
                q[24] = q21
        if ok:
            m[3] = word_from_q(q, 3)
            m[4] = word_from_q(q, 4)
            m[7] = word_from_q(q, 7)
            if _block1_tunnels(path, iv, iv_delta, m11_delta, m, q):
                return True
        if not q4_flip:
            return False


def _block1_tunnels(
    path: Block1Path, iv: Sequence[int], iv_delta: Sequence[int], m11_delta: int, m: list[int], q: list[int]
) -> bool:
    """Block 1's tunnels on Q9/Q10 and on Q9 alone, for one Q4."""
    q9_base, q10_base = q[12], q[13]
    tt10 = (q[10] + K[10]) & MASK
    tt22 = (fG(q[24], q[23], q[22]) + q[21] + K[21]) & MASK
    tt23 = (q[22] + K[22] + m[15]) & MASK
    tt24 = (q[23] + K[23] + m[4]) & MASK
    q9q10_mask = path.q10_tunnel | path.q9_with_q10_tunnel
    q9q10_flip = 0
    while True:
        q10 = q10_base | (q9q10_flip & path.q10_tunnel)
        q9 = q9_base | (q9q10_flip & path.q9_with_q10_tunnel)
        q9q10_flip = next_subset(q9q10_flip, q9q10_mask)
        m10 = (rotr(q[14] - q10, 17) - (fF(q10, q9, q[11]) + tt10)) & MASK
        q21 = q[24]
        q22 = (rotl(tt22 + m10, 9) + q21) & MASK
        q23 = q24 = 0
        ok = (q22 >> 31) == path.q22_sign
        if ok:
            q23 = (tt23 + fG(q22, q21, q[23])) & MASK
            ok = not (q23 & 0x20000)
        if ok:
            q23 = (rotl(q23, 14) + q22) & MASK
            ok = not (q23 >> 31)
        if ok:
            q24 = (rotl(tt24 + fG(q23, q22, q21), 20) + q23) & MASK
            ok = bool(q24 >> 31)
        if ok:
            m[10] = m10
            q[12], q[13] = q9, q10
            m[13] = word_from_q(q, 13)
            q9_flip = 0
            while True:
                q[12] = q9 ^ q9_flip
                q9_flip = next_subset(q9_flip, path.q9_tunnel)
                m[8] = word_from_q(q, 8)
                m[9] = word_from_q(q, 9)
                m[12] = word_from_q(q, 12)
                end = rounds_3_4_hold(m, q21, q22, q23, q24, path.step34_bit15)
                if end is not None:
                    m2 = list(m)
                    m2[4] = (m2[4] + SIGN) & MASK
                    m2[11] = (m2[11] + m11_delta) & MASK
                    m2[14] = (m2[14] + SIGN) & MASK
                    iv2 = [(iv[i] + iv_delta[i]) & MASK for i in range(4)]
                    if compress(iv, m) == compress(iv2, m2):
                        return True
                if not q9_flip:
                    break
            q[12], q[13] = q9_base, q10_base
        if not q9q10_flip:
            return False


STEVENS_BACK = (0x80000000, 0x7E000000, 0x7E000000, 0x7E000000)


def block1_attempt_after(ihv: Sequence[int], m: list[int], rng: _Rng) -> bool:
    """One attempt at block 1 after block 0 left ``ihv``, on the path ``ihv`` allows (as md5c_search_attempt)."""
    if ihv_fits_stevens(ihv):
        # Stevens' paths are written for message 2's chaining value; the block found is message
        # 2's, and message 1's adds dM.
        iv2 = [(ihv[i] + BLOCK0_IHV_DELTA[i]) & MASK for i in range(4)]
        path = PATHS_STEVENS[((ihv[1] >> 6) & 1) * 2 + (ihv[1] & 1)]
        if not block1_attempt(path, iv2, STEVENS_BACK, 0x8000, m, rng):
            return False
        m[:] = message2(m, 0)
        return True
    return block1_attempt(PATH_WANG, ihv, BLOCK0_IHV_DELTA, 0xFFFF8000, m, rng)


def message2(m: Sequence[int], block_index: int) -> list[int]:
    """Message 2's block from message 1's (md5c_message2)."""
    out = list(m)
    out[4] = (out[4] + SIGN) & MASK
    out[11] = (out[11] + (0x8000 if block_index == 0 else 0xFFFF8000)) & MASK
    out[14] = (out[14] + SIGN) & MASK
    return out


def _words_to_bytes(words: Sequence[int]) -> bytes:
    return b"".join(word.to_bytes(4, "little") for word in words)


class CollisionSearch:
    """The pure engine's twin of ``_core.CollisionSearch``: same seed, same pair."""

    def __init__(self, iv: Sequence[int], seed_x: int, seed_y: int) -> None:
        self.iv = [int(word) & MASK for word in iv]
        if not seed_x and not seed_y:
            seed_y = 0x12345678
        self._rng = _Rng(seed_x & MASK, seed_y & MASK)
        self.stage = 0
        self.attempts = 0
        self._ihv = [0, 0, 0, 0]
        self._block0 = [0] * 16
        self._block1 = [0] * 16

    @property
    def rng_state(self) -> tuple[int, int]:
        """The PRNG's two words now (for checking the engines step by step)."""
        return self._rng.x, self._rng.y

    def _attempt(self) -> None:
        self.attempts += 1
        if self.stage == 0:
            if block0_attempt(self.iv, self._block0, self._rng):
                self._ihv = compress(self.iv, self._block0)
                self.stage = 1
            return
        if block1_attempt_after(self._ihv, self._block1, self._rng):
            self.stage = 2

    def run(self, budget: int) -> bool:
        """Up to ``budget`` more attempts; True once the pair is found."""
        for _ in range(budget):
            if self.stage == 2:
                break
            self._attempt()
        return self.stage == 2

    def pair(self) -> tuple[bytes, bytes]:
        """The two 128-byte suffixes (message 1's blocks, message 2's blocks), once found."""
        if self.stage != 2:
            raise ValueError("the collision search has not finished")
        first = _words_to_bytes(self._block0) + _words_to_bytes(self._block1)
        second = _words_to_bytes(message2(self._block0, 0)) + _words_to_bytes(message2(self._block1, 1))
        return first, second
