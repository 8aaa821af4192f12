"""MD5's constants and steps, and the bit conditions of the collision paths (md5_collide.h's tables).

Shared by the pure collision search (``_collide_py``) and the path checker
(``md5steg.collision.path_violations``). Rows and paths mean what ``md5c_q_row`` and
``md5c_block1_path`` mean in the C header; the values come from the papers' condition tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import _md5py

MASK = 0xFFFFFFFF

K = tuple(_md5py._K)
"""MD5's additive constants, step by step (the same table the pure MD5 uses)."""
ORDER = tuple(_md5py._WORD_ORDER)
"""Which message word each step reads."""
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
