"""The collision search of ``md5_collide.h``, in pure Python, step for step.

Same draws from the same PRNG in the same order, so for one chaining value and seed it finds
the pair the compiled core finds (the tests hold the two engines to that). It is the fallback
where the extension does not build, and the CPython/PyPy rows of the benchmark: 200-350x
slower than the C on CPython, about 15x on PyPy. Read the C header for the why of each step.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._collide_paths import (
    BLOCK0_IHV_DELTA,
    BLOCK0_ROWS,
    MASK,
    ORDER,
    PATH_WANG,
    PATHS_STEVENS,
    R1,
    ROT,
    SIGN,
    Block1Path,
    K,
    Row,
    compress,
    fF,
    fG,
    rotl,
    rotr,
)


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
