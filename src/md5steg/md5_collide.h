/*
 * Identical-prefix MD5 collisions: two 64-byte blocks per message, on the differential paths of
 * Wang and Yu (EUROCRYPT 2005), searched with Stevens' speed-ups ("Fast Collision Attack on MD5",
 * 2006; "On Collisions for MD5", 2007) and Klima's tunnels ("Tunnels in Hash Functions", 2006).
 *
 * The two messages differ by dM = (+2^31 in m4, +2^15 in m11, +2^31 in m14) in block 0 and by
 * the same words with -2^15 in m11 in block 1. Block 0 turns the common chaining value IV into
 * IHV and IHV' = IHV + (2^31, 2^31+2^25, 2^31+2^25, 2^31+2^25); block 1 cancels that difference.
 *
 * How one search for a block goes (the bit conditions on Q1..Q24 come from the papers' tables):
 *   1. Draw Q1..Q16 at random inside their conditions (a row of `md5c_q_row`), and compute the
 *      message words those fix (an MD5 step run backwards: Q[t+1] and Q[t-3..t] give m[t]).
 *   2. Draw the one free word left (block 0: Q17; block 1: Q1) until Q17..Q21 meet theirs.
 *   3. Tunnels: flip bits of Q4 (block 0, Wang's block 1), of Q9/Q10 and then of Q9 alone that
 *      leave every earlier condition and most message words unchanged, so each flip costs only
 *      the steps from 24 on; the conditions of rounds 3 and 4 are checked as the steps run.
 *   4. A candidate that survives is checked with two whole compressions.
 *
 * One "attempt" is one draw of step 1 with everything it leads to; attempts are atomic, so a
 * search cut into calls of any size (`md5c_collide_run`'s budget) finds the same pair. The
 * pure engine (_collide_py.py) runs the same steps in the same order, with the same PRNG.
 *
 * Plain C99, static functions only, no allocation: _core.pyx includes it.
 */
#ifndef MD5STEG_COLLIDE_H
#define MD5STEG_COLLIDE_H

#include <stdint.h>
#include <string.h>

#define MD5C_ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define MD5C_ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define MD5C_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define MD5C_G(b, c, d) ((c) ^ ((d) & ((b) ^ (c))))
#define MD5C_H(b, c, d) ((b) ^ (c) ^ (d))
#define MD5C_I(b, c, d) ((c) ^ ((b) | ~(d)))
#define MD5C_STEP(f, a, b, c, d, m, k, r) ((a) += f((b), (c), (d)) + (m) + (k), (a) = MD5C_ROTL((a), (r)) + (b))

/* Q[t] lives at q[t + 3], so that Q[-3..0] (the chaining value) fit in front. */
#define MD5C_Q(t) q[(t) + 3]

static const uint32_t md5c_k[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au, 0xa8304613u, 0xfd469501u,
    0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu, 0x6b901122u, 0xfd987193u, 0xa679438eu, 0x49b40821u,
    0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau, 0xd62f105du, 0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u,
    0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu, 0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au,
    0xfffa3942u, 0x8771f681u, 0x6d9d6122u, 0xfde5380cu, 0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u,
    0x289b7ec6u, 0xeaa127fau, 0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u,
    0xf4292244u, 0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u, 0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, 0xeb86d391u,
};

/* The first-round rotations, for running a step backwards. */
static const int md5c_r1[16] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22};

/* Marsaglia's xorshift generator (period 2^64 - 1): small, fast, and easy to port exactly. */
typedef struct {
    uint32_t x, y;
} md5c_rng;

static inline uint32_t md5c_next(md5c_rng *rng) {
    uint32_t t = rng->x ^ (rng->x << 10);
    rng->x = rng->y;
    rng->y = (rng->y ^ (rng->y >> 10)) ^ (t ^ (t >> 13));
    return rng->x;
}

/* m[t] from Q[t-3..t+1]: step t of round 1 run backwards. */
static inline uint32_t md5c_word_from_q(const uint32_t *q, int t) {
    return MD5C_ROTR(MD5C_Q(t + 1) - MD5C_Q(t), md5c_r1[t]) - MD5C_F(MD5C_Q(t), MD5C_Q(t - 1), MD5C_Q(t - 2))
           - MD5C_Q(t - 3) - md5c_k[t];
}

static void md5c_compress(uint32_t ihv[4], const uint32_t m[16]) {
    static const int order[64] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                  1, 6, 11, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12,
                                  5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2,
                                  0, 7, 14, 5, 12, 3, 10, 1, 8, 15, 6, 13, 4, 11, 2, 9};
    static const int rot[16] = {7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21};
    uint32_t a = ihv[0], b = ihv[1], c = ihv[2], d = ihv[3];
    for (int i = 0; i < 64; ++i) {
        uint32_t f = i < 16 ? MD5C_F(b, c, d) : i < 32 ? MD5C_G(b, c, d) : i < 48 ? MD5C_H(b, c, d) : MD5C_I(b, c, d);
        uint32_t sum = a + f + md5c_k[i] + m[order[i]];
        int r = rot[(i >> 4) * 4 + (i & 3)];
        a = d;
        d = c;
        c = b;
        b = b + MD5C_ROTL(sum, r);
    }
    ihv[0] += a;
    ihv[1] += b;
    ihv[2] += c;
    ihv[3] += d;
}

/*
 * Steps 24..63 from (Q21, Q22, Q23, Q24), checking the conditions that rounds 3 and 4 put on
 * the path as they run: bit 15 of step 34's sum before rotation (0 on the paths of block 0 and
 * Stevens' block 1, 1 on Wang's), then the sign bits that keep the difference at +-2^31.
 * Returns 1 when all hold; the state after step 63 goes to out.
 */
static inline int md5c_rounds_3_4_hold(const uint32_t *m, uint32_t a, uint32_t d, uint32_t c, uint32_t b,
                                       uint32_t step34_bit15, uint32_t out[4]) {
    MD5C_STEP(MD5C_G, a, b, c, d, m[9], 0x21e1cde6u, 5);
    MD5C_STEP(MD5C_G, d, a, b, c, m[14], 0xc33707d6u, 9);
    MD5C_STEP(MD5C_G, c, d, a, b, m[3], 0xf4d50d87u, 14);
    MD5C_STEP(MD5C_G, b, c, d, a, m[8], 0x455a14edu, 20);
    MD5C_STEP(MD5C_G, a, b, c, d, m[13], 0xa9e3e905u, 5);
    MD5C_STEP(MD5C_G, d, a, b, c, m[2], 0xfcefa3f8u, 9);
    MD5C_STEP(MD5C_G, c, d, a, b, m[7], 0x676f02d9u, 14);
    MD5C_STEP(MD5C_G, b, c, d, a, m[12], 0x8d2a4c8au, 20);
    MD5C_STEP(MD5C_H, a, b, c, d, m[5], 0xfffa3942u, 4);
    MD5C_STEP(MD5C_H, d, a, b, c, m[8], 0x8771f681u, 11);
    c += MD5C_H(d, a, b) + m[11] + 0x6d9d6122u;
    if ((c & (1u << 15)) != step34_bit15) return 0;
    c = MD5C_ROTL(c, 16) + d;
    MD5C_STEP(MD5C_H, b, c, d, a, m[14], 0xfde5380cu, 23);
    MD5C_STEP(MD5C_H, a, b, c, d, m[1], 0xa4beea44u, 4);
    MD5C_STEP(MD5C_H, d, a, b, c, m[4], 0x4bdecfa9u, 11);
    MD5C_STEP(MD5C_H, c, d, a, b, m[7], 0xf6bb4b60u, 16);
    MD5C_STEP(MD5C_H, b, c, d, a, m[10], 0xbebfbc70u, 23);
    MD5C_STEP(MD5C_H, a, b, c, d, m[13], 0x289b7ec6u, 4);
    MD5C_STEP(MD5C_H, d, a, b, c, m[0], 0xeaa127fau, 11);
    MD5C_STEP(MD5C_H, c, d, a, b, m[3], 0xd4ef3085u, 16);
    MD5C_STEP(MD5C_H, b, c, d, a, m[6], 0x04881d05u, 23);
    MD5C_STEP(MD5C_H, a, b, c, d, m[9], 0xd9d4d039u, 4);
    MD5C_STEP(MD5C_H, d, a, b, c, m[12], 0xe6db99e5u, 11);
    MD5C_STEP(MD5C_H, c, d, a, b, m[15], 0x1fa27cf8u, 16);
    MD5C_STEP(MD5C_H, b, c, d, a, m[2], 0xc4ac5665u, 23);
    if ((b ^ d) >> 31) return 0;
    /* Round 4: Q[t] and Q[t-2] agree in their sign bit, except after steps 49 and 59. */
    MD5C_STEP(MD5C_I, a, b, c, d, m[0], 0xf4292244u, 6);
    if ((a ^ c) >> 31) return 0;
    MD5C_STEP(MD5C_I, d, a, b, c, m[7], 0x432aff97u, 10);
    if (!((b ^ d) >> 31)) return 0;
    MD5C_STEP(MD5C_I, c, d, a, b, m[14], 0xab9423a7u, 15);
    if ((a ^ c) >> 31) return 0;
    MD5C_STEP(MD5C_I, b, c, d, a, m[5], 0xfc93a039u, 21);
    if ((b ^ d) >> 31) return 0;
    MD5C_STEP(MD5C_I, a, b, c, d, m[12], 0x655b59c3u, 6);
    if ((a ^ c) >> 31) return 0;
    MD5C_STEP(MD5C_I, d, a, b, c, m[3], 0x8f0ccc92u, 10);
    if ((b ^ d) >> 31) return 0;
    MD5C_STEP(MD5C_I, c, d, a, b, m[10], 0xffeff47du, 15);
    if ((a ^ c) >> 31) return 0;
    MD5C_STEP(MD5C_I, b, c, d, a, m[1], 0x85845dd1u, 21);
    if ((b ^ d) >> 31) return 0;
    MD5C_STEP(MD5C_I, a, b, c, d, m[8], 0x6fa87e4fu, 6);
    if ((a ^ c) >> 31) return 0;
    MD5C_STEP(MD5C_I, d, a, b, c, m[15], 0xfe2ce6e0u, 10);
    if ((b ^ d) >> 31) return 0;
    MD5C_STEP(MD5C_I, c, d, a, b, m[6], 0xa3014314u, 15);
    if ((a ^ c) >> 31) return 0;
    MD5C_STEP(MD5C_I, b, c, d, a, m[13], 0x4e0811a1u, 21);
    if (!((b ^ d) >> 31)) return 0;
    MD5C_STEP(MD5C_I, a, b, c, d, m[4], 0xf7537e82u, 6);
    if ((a ^ c) >> 31) return 0;
    MD5C_STEP(MD5C_I, d, a, b, c, m[11], 0xbd3af235u, 10);
    if ((b ^ d) >> 31) return 0;
    MD5C_STEP(MD5C_I, c, d, a, b, m[2], 0x2ad7d2bbu, 15);
    if ((a ^ c) >> 31) return 0;
    MD5C_STEP(MD5C_I, b, c, d, a, m[9], 0xeb86d391u, 21);
    out[0] = a;
    out[1] = b;
    out[2] = c;
    out[3] = d;
    return 1;
}

/*
 * The bit conditions on one Q[t], as a recipe to draw it: free bits from the PRNG, bits fixed
 * to 1, bits equal to / opposite of Q[t-1], and (Wang's block 1) the sign bit equal to / opposite
 * of Q0's. Bits in none of these are 0. A row with draw == 0 takes no number from the PRNG.
 */
typedef struct {
    uint32_t draw, ones, same_prev, flip_prev, same_q0_sign, flip_q0_sign;
} md5c_q_row;

static inline void md5c_draw_q(uint32_t *q, const md5c_q_row *rows, int first, int last, md5c_rng *rng) {
    const uint32_t q0_sign = MD5C_Q(0) & 0x80000000u;
    for (int t = first; t <= last; ++t) {
        const md5c_q_row *row = &rows[t];
        uint32_t value = row->ones | (MD5C_Q(t - 1) & row->same_prev) | (~MD5C_Q(t - 1) & row->flip_prev)
                         | (q0_sign & row->same_q0_sign) | (~q0_sign & row->flip_q0_sign);
        if (row->draw) value |= md5c_next(rng) & row->draw;
        MD5C_Q(t) = value;
    }
}

/* The next subset of mask after sub, in the order 0, lowest bit, ...; 0 again after the last. */
static inline uint32_t md5c_next_subset(uint32_t sub, uint32_t mask) { return (sub - mask) & mask; }

/* The chaining-value conditions block 1 needs (Stevens' paths, else Wang's). */
static inline int md5c_ihv_fits_stevens(const uint32_t ihv[4]) {
    return !((ihv[1] ^ ihv[2]) >> 31) && !((ihv[1] ^ ihv[3]) >> 31)
           && !((ihv[1] | ihv[2] | ihv[3]) & (1u << 25)) && !((ihv[1] ^ ihv[2]) & 1u);
}

static inline int md5c_ihv_fits_wang(const uint32_t ihv[4]) {
    return ((ihv[1] ^ ihv[2]) & 0x86000000u) == 0x02000000u && !((ihv[1] ^ ihv[3]) & 0x82000000u)
           && !(ihv[1] & 0x06000020u);
}

/* ------------------------------------------------------------------------------------------ */
/* Block 0 */

static const md5c_q_row md5c_block0_rows[17] = {
    [1] = {0xffffffffu, 0, 0, 0, 0, 0},
    [3] = {0xfe87bc3fu, 0x017841c0u, 0, 0, 0, 0},
    [4] = {0x44000033u, 0x000002c0u, 0x0287bc00u, 0, 0, 0},
    [5] = {0, 0x41ffffc8u, 0x04000033u, 0, 0, 0},
    [6] = {0, 0xb84b82d6u, 0, 0, 0, 0},
    [7] = {0x68000084u, 0x02401b43u, 0, 0, 0, 0},
    [8] = {0x2b8f6e04u, 0x005090d3u, 0, 0x40000000u, 0, 0},
    [9] = {0, 0x20040068u, 0x00020000u, 0x40000000u, 0, 0},
    [10] = {0x40000000u, 0x1040b089u, 0, 0, 0, 0},
    [11] = {0x10408008u, 0x0fbb7f16u, 0, 0x40000000u, 0, 0},
    [12] = {0x1ed9df7fu, 0x00022080u, 0, 0x40200000u, 0, 0},
    [13] = {0x5efb4f77u, 0x20049008u, 0, 0, 0, 0},
    [14] = {0x1fff5f77u, 0x0000a088u, 0, 0x40000000u, 0, 0},
    [15] = {0x5efe7ff7u, 0x80008000u, 0, 0x00010000u, 0, 0},
    [16] = {0x1ffdffffu, 0xa0000000u, 0, 0x40020000u, 0, 0},
};

/* The difference block 0 must leave: IHV' - IHV. */
static const uint32_t md5c_block0_ihv_delta[4] = {0x80000000u, 0x82000000u, 0x82000000u, 0x82000000u};

/* One attempt at block 0 from iv; 1 with the block in m when it succeeds. */
static int md5c_block0_attempt(const uint32_t iv[4], uint32_t m[16], md5c_rng *rng) {
    uint32_t q[68];
    MD5C_Q(-3) = iv[0];
    MD5C_Q(-2) = iv[3];
    MD5C_Q(-1) = iv[2];
    MD5C_Q(0) = iv[1];
    MD5C_Q(2) = 0; /* drawn below, from Q17 */
    md5c_draw_q(q, md5c_block0_rows, 1, 1, rng);
    md5c_draw_q(q, md5c_block0_rows, 3, 16, rng);
    m[0] = md5c_word_from_q(q, 0);
    m[6] = md5c_word_from_q(q, 6);
    m[7] = md5c_word_from_q(q, 7);
    m[11] = md5c_word_from_q(q, 11);
    m[14] = md5c_word_from_q(q, 14);
    m[15] = md5c_word_from_q(q, 15);

    const uint32_t tt1 = MD5C_F(MD5C_Q(1), MD5C_Q(0), MD5C_Q(-1)) + MD5C_Q(-2) + md5c_k[1];
    const uint32_t tt17 = MD5C_G(MD5C_Q(16), MD5C_Q(15), MD5C_Q(14)) + MD5C_Q(13) + md5c_k[16];
    const uint32_t tt18 = MD5C_Q(14) + md5c_k[17] + m[6];
    const uint32_t tt19 = MD5C_Q(15) + md5c_k[18] + m[11];
    const uint32_t tt20 = MD5C_Q(16) + md5c_k[19] + m[0];
    const uint32_t tt5 = MD5C_ROTR(MD5C_Q(6) - MD5C_Q(5), 12) - MD5C_F(MD5C_Q(5), MD5C_Q(4), MD5C_Q(3)) - md5c_k[5];

    /* Q17 is the free word: draw it until Q18..Q20 meet their conditions; m1, Q2, m5 follow. */
    int found = 0;
    for (int tries = 0; tries < (1 << 7) && !found; ++tries) {
        const uint32_t q16 = MD5C_Q(16);
        const uint32_t q17 = ((md5c_next(rng) & 0x3ffd7ff7u) | (q16 & 0xc0008008u)) ^ 0x40000000u;
        uint32_t q18 = MD5C_G(q17, q16, MD5C_Q(15)) + tt18;
        q18 = MD5C_ROTL(q18, 9) + q17;
        if (((q18 ^ q17) & 0xa0020000u) != 0x00020000u) continue;
        uint32_t q19 = MD5C_G(q18, q17, q16) + tt19;
        q19 = MD5C_ROTL(q19, 14) + q18;
        if ((q19 & 0x80020000u) != 0x80000000u) continue;
        uint32_t q20 = MD5C_G(q19, q18, q17) + tt20;
        q20 = MD5C_ROTL(q20, 20) + q19;
        if (((q20 ^ q19) & 0x80040000u) != 0x00040000u) continue;
        m[1] = MD5C_ROTR(q17 - q16, 5) - tt17;
        const uint32_t q2 = MD5C_ROTL(m[1] + tt1, 12) + MD5C_Q(1);
        m[5] = tt5 - q2;
        MD5C_Q(2) = q2;
        MD5C_Q(17) = q17;
        MD5C_Q(18) = q18;
        MD5C_Q(19) = q19;
        MD5C_Q(20) = q20;
        m[2] = md5c_word_from_q(q, 2);
        found = 1;
    }
    if (!found) return 0;

    const uint32_t q4_base = MD5C_Q(4), q9_base = MD5C_Q(9), q10 = MD5C_Q(10);
    const uint32_t tt21 = MD5C_G(MD5C_Q(20), MD5C_Q(19), MD5C_Q(18)) + MD5C_Q(17) + md5c_k[20];
    /* Tunnel on Q4: changes m3, m4, m5, m7 and keeps Q1..Q20. */
    uint32_t q4_flip = 0;
    do {
        MD5C_Q(4) = q4_base ^ q4_flip;
        q4_flip = md5c_next_subset(q4_flip, 0x38000004u);
        m[5] = md5c_word_from_q(q, 5);
        uint32_t q21 = MD5C_ROTL(tt21 + m[5], 5) + MD5C_Q(20);
        if ((q21 ^ MD5C_Q(20)) & 0x80020000u) continue;
        MD5C_Q(21) = q21;
        m[3] = md5c_word_from_q(q, 3);
        m[4] = md5c_word_from_q(q, 4);
        m[7] = md5c_word_from_q(q, 7);
        const uint32_t tt22 = MD5C_G(MD5C_Q(21), MD5C_Q(20), MD5C_Q(19)) + MD5C_Q(18) + md5c_k[21];
        const uint32_t tt23 = MD5C_Q(19) + md5c_k[22] + m[15];
        const uint32_t tt24 = MD5C_Q(20) + md5c_k[23] + m[4];
        const uint32_t tt8 = MD5C_F(MD5C_Q(8), MD5C_Q(7), MD5C_Q(6)) + MD5C_Q(5) + md5c_k[8];
        const uint32_t tt9 = MD5C_Q(6) + md5c_k[9];
        const uint32_t tt10 = MD5C_Q(7) + md5c_k[10];
        const uint32_t tt12 = MD5C_ROTR(MD5C_Q(13) - MD5C_Q(12), 7) - md5c_k[12];
        const uint32_t tt13 = MD5C_ROTR(MD5C_Q(14) - MD5C_Q(13), 12) - MD5C_F(MD5C_Q(13), MD5C_Q(12), MD5C_Q(11))
                              - md5c_k[13];
        /* Tunnel on Q9 and Q10 together: changes m8, m9, m10, m12, m13, keeps m11. */
        uint32_t q9q10_flip = 0;
        do {
            const uint32_t q10x = q10 ^ (q9q10_flip & 0x00000060u);
            const uint32_t q9x = q9_base ^ (q9q10_flip & 0x00002000u);
            q9q10_flip = md5c_next_subset(q9q10_flip, 0x00002060u);
            const uint32_t m10 = MD5C_ROTR(MD5C_Q(11) - q10x, 17) - (MD5C_F(q10x, q9x, MD5C_Q(8)) + tt10);
            const uint32_t q21 = MD5C_Q(21);
            uint32_t q22 = MD5C_ROTL(tt22 + m10, 9) + q21;
            if (!(q22 >> 31)) continue;
            uint32_t q23 = tt23 + MD5C_G(q22, q21, MD5C_Q(20));
            if (q23 & 0x00020000u) continue;
            q23 = MD5C_ROTL(q23, 14) + q22;
            if (q23 >> 31) continue;
            const uint32_t q24 = MD5C_ROTL(tt24 + MD5C_G(q23, q22, q21), 20) + q23;
            if (!(q24 >> 31)) continue;
            m[10] = m10;
            m[13] = tt13 - q10x;
            /* Tunnel on Q9 alone: changes m8, m9, m12 only; Q1..Q24 stay. */
            uint32_t q9_flip = 0;
            do {
                const uint32_t q9 = q9x ^ q9_flip;
                q9_flip = md5c_next_subset(q9_flip, 0x0eb94f16u);
                m[12] = tt12 - MD5C_F(MD5C_Q(12), MD5C_Q(11), q10x) - q9;
                m[8] = MD5C_ROTR(q9 - MD5C_Q(8), 7) - tt8;
                m[9] = MD5C_ROTR(q10x - q9, 12) - MD5C_F(q9, MD5C_Q(8), MD5C_Q(7)) - tt9;
                uint32_t end[4];
                if (!md5c_rounds_3_4_hold(m, q21, q22, q23, q24, 0, end)) continue;
                uint32_t ihv[4] = {iv[0] + end[0], iv[1] + end[1], iv[2] + end[2], iv[3] + end[3]};
                if (!md5c_ihv_fits_stevens(ihv) && !md5c_ihv_fits_wang(ihv)) continue;
                uint32_t ihv1[4], ihv2[4], m2[16];
                memcpy(ihv1, iv, sizeof ihv1);
                memcpy(ihv2, iv, sizeof ihv2);
                memcpy(m2, m, sizeof m2);
                m2[4] += 0x80000000u;
                m2[11] += 0x00008000u;
                m2[14] += 0x80000000u;
                md5c_compress(ihv1, m);
                md5c_compress(ihv2, m2);
                int differs_as_planned = 1;
                for (int i = 0; i < 4; ++i) differs_as_planned &= ihv2[i] - ihv1[i] == md5c_block0_ihv_delta[i];
                if (differs_as_planned) return 1;
            } while (q9_flip);
        } while (q9q10_flip);
    } while (q4_flip);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Block 1: Wang's path, or one of Stevens' four (chosen by bits 0 and 6 of IHV1). */

typedef struct {
    md5c_q_row rows[17];      /* Q2..Q16 */
    uint32_t q1_ones, q1_from_q0, q1_from_q2, q1_draw;
    uint32_t q17_mask, q17_value; /* on Q17 ^ Q16 */
    uint32_t q18_value;           /* on (Q18 ^ Q17) & 0xa0020000 */
    uint32_t q19_value;           /* on Q19 & 0x80020000 */
    uint32_t q4_tunnel;           /* 0: no tunnel on Q4, and Q21 is settled with Q1 */
    uint32_t q10_tunnel, q9_with_q10_tunnel, q9_tunnel;
    uint32_t q22_sign;
    uint32_t step34_bit15;
} md5c_block1_path;

#define MD5C_STEVENS_Q15_16 \
    [15] = {0, 0, 0, 0x00010000u, 0, 0}, [16] = {0, 0, 0, 0x00020000u, 0, 0}

static const md5c_block1_path md5c_path_wang = {
    .rows = {
        [2] = {0x71de7799u, 0x0c008840u, 0, 0, 0, 0x80000000u},
        [3] = {0x01c06601u, 0x3e1f0966u, 0x80000018u, 0, 0, 0},
        [4] = {0, 0x3a040010u, 0x80000601u, 0, 0, 0},
        [5] = {0x03c0e000u, 0x482f0e50u, 0, 0, 0x80000000u, 0},
        [6] = {0x600c0000u, 0x05e2ec56u, 0, 0, 0x80000000u, 0},
        [7] = {0x604c203eu, 0x16819e01u, 0x01000000u, 0, 0, 0x80000000u},
        [8] = {0x604c7c1cu, 0x043283e0u, 0x80000002u, 0, 0, 0},
        [9] = {0x00002800u, 0x1c0101c1u, 0x80001000u, 0, 0, 0},
        [10] = {0, 0x078bcbc0u, 0, 0, 0, 0x80000000u},
        [11] = {0x07800000u, 0x607dc7dfu, 0, 0, 0, 0x80000000u},
        [12] = {0x00f00f7fu, 0x00081080u, 0xe7000000u, 0, 0, 0},
        [13] = {0x00701f77u, 0x3f0fe008u, 0, 0, 0x80000000u, 0},
        [14] = {0x00701f77u, 0x408be088u, 0, 0, 0x80000000u, 0},
        [15] = {0x00ff3ff7u, 0x7d000000u, 0, 0, 0, 0},
        [16] = {0x4ffdffffu, 0x20000000u, 0, 0x00020000u, 0, 0},
    },
    .q1_ones = 0x04200040u, .q1_from_q0 = 0, .q1_from_q2 = 0xf01e1080u, .q1_draw = 0x01c0e71fu,
    .q17_mask = 0xc0008008u, .q17_value = 0x40000000u, .q18_value = 0x00020000u, .q19_value = 0,
    .q4_tunnel = 0x01c0e000u,
    .q10_tunnel = 0x18000020u, .q9_with_q10_tunnel = 0x00084000u, .q9_tunnel = 0x6074041cu,
    .q22_sign = 0, .step34_bit15 = 1u << 15,
};

/* Stevens' paths, indexed by (bit 6 of IHV1) * 2 + (bit 0 of IHV1). */
static const md5c_block1_path md5c_path_stevens[4] = {
    { /* 00 */
        .rows = {
            [2] = {0x49a0e73eu, 0x221f00c1u, 0, 0, 0x80000000u, 0},
            [3] = {0x0000040cu, 0x3fce1a71u, 0x8000e000u, 0, 0, 0},
            [4] = {0x00000004u, 0x25f281a2u, 0x00000008u, 0x80000000u, 0, 0},
            [5] = {0x00000004u, 0x67fd823bu, 0, 0, 0, 0},
            [6] = {0x00001044u, 0x15e5829au, 0, 0, 0, 0},
            [7] = {0x00200806u, 0x950430b0u, 0, 0, 0, 0},
            [8] = {0x60050110u, 0x1bd29ca2u, 0x00000004u, 0, 0, 0},
            [9] = {0x40044000u, 0xb8820004u, 0, 0, 0, 0},
            [10] = {0, 0xf288b209u, 0x00044000u, 0, 0, 0},
            [11] = {0x12888008u, 0x85712f57u, 0, 0, 0, 0},
            [12] = {0x1ed98d7fu, 0xc0023080u, 0, 0x00200000u, 0, 0},
            [13] = {0x0efb1d77u, 0x1000c008u, 0, 0, 0, 0},
            [14] = {0x0fff5d77u, 0xa000a288u, 0, 0, 0, 0},
            [15] = {0x0efe7ff7u, 0xe0008000u, 0, 0x00010000u, 0, 0},
            [16] = {0x0ffdffffu, 0xf0000000u, 0, 0x00020000u, 0, 0},
        },
        .q1_ones = 0x02020801u, .q1_from_q0 = 0x80000000u, .q1_from_q2 = 0, .q1_draw = 0x7dfdf7beu,
        .q17_mask = 0x80008008u, .q17_value = 0x80000000u, .q18_value = 0x80020000u, .q19_value = 0x80000000u,
        .q4_tunnel = 0, .q10_tunnel = 0x08000020u, .q9_with_q10_tunnel = 0x00002000u, .q9_tunnel = 0x04310d12u,
        .q22_sign = 1, .step34_bit15 = 0,
    },
    { /* 01 */
        .rows = {
            [2] = {0x4db0e03eu, 0x32460441u, 0, 0, 0x80000000u, 0},
            [3] = {0x0c000008u, 0x123c3af1u, 0x80800002u, 0, 0, 0},
            [4] = {0, 0x6398f812u, 0x08000000u, 0x80000000u, 0, 0},
            [5] = {0x82000000u, 0x4c66e99eu, 0, 0, 0, 0},
            [6] = {0x80000000u, 0x27180590u, 0, 0, 0, 0},
            [7] = {0x00010130u, 0x51ea9e47u, 0, 0, 0, 0},
            [8] = {0x40200800u, 0xb7c291e5u, 0, 0, 0, 0},
            [9] = {0x00044000u, 0x380002b4u, 0, 0, 0, 0},
            [10] = {0, 0xb282b208u, 0x00044000u, 0, 0, 0},
            [11] = {0x12808008u, 0xc5712f47u, 0, 0, 0, 0},
            [12] = {0x1ef18d7fu, 0x000a3080u, 0, 0, 0, 0},
            [13] = {0x1efb1d77u, 0x4004c008u, 0, 0, 0, 0},
            [14] = {0x1fff5d77u, 0x6000a288u, 0, 0, 0, 0},
            [15] = {0x1efe7ff7u, 0xa0008000u, 0, 0x00010000u, 0, 0},
            [16] = {0x1ffdffffu, 0x20000000u, 0, 0x00020000u, 0, 0},
        },
        .q1_ones = 0x02000021u, .q1_from_q0 = 0x80000020u, .q1_from_q2 = 0, .q1_draw = 0x7dfff39eu,
        .q17_mask = 0x80008008u, .q17_value = 0x80000000u, .q18_value = 0x80020000u, .q19_value = 0,
        .q4_tunnel = 0, .q10_tunnel = 0x08000030u, .q9_with_q10_tunnel = 0x80002000u, .q9_tunnel = 0x44310d02u,
        .q22_sign = 0, .step34_bit15 = 0,
    },
    { /* 10 */
        .rows = {
            [2] = {0x79b0c6bau, 0x024c3841u, 0, 0, 0x80000000u, 0},
            [3] = {0x19300210u, 0x2603096du, 0x80000082u, 0, 0, 0},
            [4] = {0x10300000u, 0xe4cae30cu, 0x01000030u, 0, 0, 0},
            [5] = {0x10000000u, 0x63494061u, 0x00300000u, 0, 0, 0},
            [6] = {0, 0x7deaff68u, 0, 0, 0, 0},
            [7] = {0x20444000u, 0x09091ee0u, 0, 0, 0, 0},
            [8] = {0x09040000u, 0xb2529f6du, 0, 0, 0, 0},
            [9] = {0x00040000u, 0x10885184u, 0, 0, 0, 0},
            [10] = {0x00000080u, 0x428afb11u, 0x00040000u, 0, 0, 0},
            [11] = {0x128a8110u, 0x6571266bu, 0x00000080u, 0, 0, 0},
            [12] = {0x3ef38d7fu, 0x00003080u, 0, 0x00080000u, 0, 0},
            [13] = {0x3efb1d77u, 0x0004c008u, 0, 0, 0, 0},
            [14] = {0x5fff5d77u, 0x8000a288u, 0, 0, 0, 0},
            [15] = {0x1efe7ff7u, 0xe0008000u, 0, 0x00010000u, 0, 0},
            [16] = {0x5ffdffffu, 0x20000000u, 0, 0x00020000u, 0, 0},
        },
        .q1_ones = 0x02000941u, .q1_from_q0 = 0x80000000u, .q1_from_q2 = 0, .q1_draw = 0x7dfdf6beu,
        .q17_mask = 0x80008008u, .q17_value = 0x80000000u, .q18_value = 0x80020000u, .q19_value = 0,
        .q4_tunnel = 0, .q10_tunnel = 0x08000004u, .q9_with_q10_tunnel = 0x00004200u, .q9_tunnel = 0x2471042au,
        .q22_sign = 0, .step34_bit15 = 0,
    },
    { /* 11 */
        .rows = {
            [2] = {0x75bef63eu, 0x0a410041u, 0, 0, 0x80000000u, 0},
            [3] = {0x10345614u, 0x0202a9e1u, 0x84000002u, 0, 0, 0},
            [4] = {0x00145400u, 0xe84ba909u, 0x00000014u, 0, 0, 0},
            [5] = {0x80000000u, 0x75e90b1du, 0x00145400u, 0, 0, 0},
            [6] = {0, 0x7c23ff5au, 0x80000000u, 0, 0, 0},
            [7] = {0x40000880u, 0x114bf41au, 0, 0, 0, 0},
            [8] = {0x00002090u, 0xb352dd01u, 0, 0, 0, 0},
            [9] = {0x00044000u, 0x7a803124u, 0, 0, 0, 0},
            [10] = {0x00002000u, 0xf28a92c9u, 0x00044000u, 0, 0, 0},
            [11] = {0x128a8108u, 0xc5710ed7u, 0x00002000u, 0, 0, 0},
            [12] = {0x9edb8d7fu, 0x20003080u, 0, 0x00200000u, 0, 0},
            [13] = {0x3efb1d77u, 0x4004c008u, 0x80000000u, 0, 0, 0},
            [14] = {0x1fff5d77u, 0x0000a288u, 0, 0, 0, 0},
            [15] = {0x1efe7ff7u, 0x20008000u, 0, 0x00010000u, 0, 0},
            [16] = {0x1ffdffffu, 0x20000000u, 0, 0x40020000u, 0, 0},
        },
        .q1_ones = 0x02000861u, .q1_from_q0 = 0x80000020u, .q1_from_q2 = 0, .q1_draw = 0x7dfff79eu,
        .q17_mask = 0xc0008008u, .q17_value = 0x40000000u, .q18_value = 0x80020000u, .q19_value = 0x80000000u,
        .q4_tunnel = 0, .q10_tunnel = 0x08000000u, .q9_with_q10_tunnel = 0x80000280u, .q9_tunnel = 0x04710c12u,
        .q22_sign = 1, .step34_bit15 = 0,
    },
};

/*
 * One attempt at block 1 on `path` from chaining value iv (for Stevens' paths, iv is the second
 * message's); 1 with the block in m when compress(iv, m) == compress(iv + iv_delta, m + m_delta).
 */
static int md5c_block1_attempt(const md5c_block1_path *path, const uint32_t iv[4], const uint32_t iv_delta[4],
                               uint32_t m11_delta, uint32_t m[16], md5c_rng *rng) {
    uint32_t q[68];
    MD5C_Q(-3) = iv[0];
    MD5C_Q(-2) = iv[3];
    MD5C_Q(-1) = iv[2];
    MD5C_Q(0) = iv[1];
    MD5C_Q(1) = 0; /* drawn below, until Q17..Q20 fit */
    md5c_draw_q(q, path->rows, 2, 16, rng);
    m[5] = md5c_word_from_q(q, 5);
    m[6] = md5c_word_from_q(q, 6);
    m[7] = md5c_word_from_q(q, 7);
    m[11] = md5c_word_from_q(q, 11);
    m[14] = md5c_word_from_q(q, 14);
    m[15] = md5c_word_from_q(q, 15);

    const uint32_t tt17 = MD5C_G(MD5C_Q(16), MD5C_Q(15), MD5C_Q(14)) + MD5C_Q(13) + md5c_k[16];
    const uint32_t tt18 = MD5C_Q(14) + md5c_k[17] + m[6];
    const uint32_t tt19 = MD5C_Q(15) + md5c_k[18] + m[11];
    const uint32_t tt0 = MD5C_F(MD5C_Q(0), MD5C_Q(-1), MD5C_Q(-2)) + MD5C_Q(-3) + md5c_k[0];
    const uint32_t tt1 = MD5C_Q(-2) + md5c_k[1];
    const uint32_t q1_base = path->q1_ones ^ (MD5C_Q(0) & path->q1_from_q0) ^ (MD5C_Q(2) & path->q1_from_q2);

    /* Q1 is the free word: it fixes m0 and m1, hence Q17..Q20 (and Q21 without a Q4 tunnel). */
    int found = 0;
    for (int tries = 0; tries < (1 << 12) && !found; ++tries) {
        const uint32_t q1 = q1_base | (md5c_next(rng) & path->q1_draw);
        const uint32_t m1 = MD5C_ROTR(MD5C_Q(2) - q1, 12) - MD5C_F(q1, MD5C_Q(0), MD5C_Q(-1)) - tt1;
        const uint32_t q16 = MD5C_Q(16);
        const uint32_t q17 = MD5C_ROTL(tt17 + m1, 5) + q16;
        if (((q17 ^ q16) & path->q17_mask) != path->q17_value) continue;
        if (q17 & 0x00020000u) continue;
        const uint32_t q18 = MD5C_ROTL(MD5C_G(q17, q16, MD5C_Q(15)) + tt18, 9) + q17;
        if (((q18 ^ q17) & 0xa0020000u) != path->q18_value) continue;
        const uint32_t q19 = MD5C_ROTL(MD5C_G(q18, q17, q16) + tt19, 14) + q18;
        if ((q19 & 0x80020000u) != path->q19_value) continue;
        const uint32_t m0 = MD5C_ROTR(q1 - MD5C_Q(0), 7) - tt0;
        const uint32_t q20 = MD5C_ROTL(MD5C_G(q19, q18, q17) + q16 + md5c_k[19] + m0, 20) + q19;
        if (((q20 ^ q19) & 0x80040000u) != 0x00040000u) continue;
        if (!path->q4_tunnel) {
            const uint32_t q21 = MD5C_ROTL(MD5C_G(q20, q19, q18) + q17 + md5c_k[20] + m[5], 5) + q20;
            if ((q21 ^ q20) & 0x80020000u) continue;
            MD5C_Q(21) = q21;
        }
        MD5C_Q(1) = q1;
        MD5C_Q(17) = q17;
        MD5C_Q(18) = q18;
        MD5C_Q(19) = q19;
        MD5C_Q(20) = q20;
        m[0] = m0;
        m[1] = m1;
        found = 1;
    }
    if (!found) return 0;
    m[2] = md5c_word_from_q(q, 2);

    const uint32_t q4_base = MD5C_Q(4), q9_base = MD5C_Q(9), q10_base = MD5C_Q(10);
    const uint32_t tt21 = MD5C_G(MD5C_Q(20), MD5C_Q(19), MD5C_Q(18)) + MD5C_Q(17) + md5c_k[20];
    /* Tunnel on Q4 (Wang's path only; without it this loop runs once, on Q4 as drawn). */
    uint32_t q4_flip = 0;
    do {
        MD5C_Q(4) = q4_base ^ q4_flip;
        q4_flip = md5c_next_subset(q4_flip, path->q4_tunnel);
        if (path->q4_tunnel) {
            m[5] = md5c_word_from_q(q, 5);
            const uint32_t q21 = MD5C_ROTL(tt21 + m[5], 5) + MD5C_Q(20);
            if ((q21 ^ MD5C_Q(20)) & 0x80020000u) continue;
            MD5C_Q(21) = q21;
        }
        m[3] = md5c_word_from_q(q, 3);
        m[4] = md5c_word_from_q(q, 4);
        m[7] = md5c_word_from_q(q, 7);
        const uint32_t tt10 = MD5C_Q(7) + md5c_k[10];
        const uint32_t tt22 = MD5C_G(MD5C_Q(21), MD5C_Q(20), MD5C_Q(19)) + MD5C_Q(18) + md5c_k[21];
        const uint32_t tt23 = MD5C_Q(19) + md5c_k[22] + m[15];
        const uint32_t tt24 = MD5C_Q(20) + md5c_k[23] + m[4];
        /* Tunnel on Q9 and Q10 together, then on Q9 alone (as in block 0). */
        const uint32_t q9q10_mask = path->q10_tunnel | path->q9_with_q10_tunnel;
        uint32_t q9q10_flip = 0;
        do {
            /* OR, not XOR: a tunnel bit that a path fixes to 1 stays 1 (Stevens' 10 has one). */
            const uint32_t q10 = q10_base | (q9q10_flip & path->q10_tunnel);
            const uint32_t q9 = q9_base | (q9q10_flip & path->q9_with_q10_tunnel);
            q9q10_flip = md5c_next_subset(q9q10_flip, q9q10_mask);
            const uint32_t m10 = MD5C_ROTR(MD5C_Q(11) - q10, 17) - (MD5C_F(q10, q9, MD5C_Q(8)) + tt10);
            const uint32_t q21 = MD5C_Q(21);
            const uint32_t q22 = MD5C_ROTL(tt22 + m10, 9) + q21;
            if ((q22 >> 31) != path->q22_sign) continue;
            uint32_t q23 = tt23 + MD5C_G(q22, q21, MD5C_Q(20));
            if (q23 & 0x00020000u) continue;
            q23 = MD5C_ROTL(q23, 14) + q22;
            if (q23 >> 31) continue;
            const uint32_t q24 = MD5C_ROTL(tt24 + MD5C_G(q23, q22, q21), 20) + q23;
            if (!(q24 >> 31)) continue;
            m[10] = m10;
            MD5C_Q(9) = q9;
            MD5C_Q(10) = q10;
            m[13] = md5c_word_from_q(q, 13);
            uint32_t q9_flip = 0;
            do {
                MD5C_Q(9) = q9 ^ q9_flip;
                q9_flip = md5c_next_subset(q9_flip, path->q9_tunnel);
                m[8] = md5c_word_from_q(q, 8);
                m[9] = md5c_word_from_q(q, 9);
                m[12] = md5c_word_from_q(q, 12);
                uint32_t end[4];
                if (!md5c_rounds_3_4_hold(m, q21, q22, q23, q24, path->step34_bit15, end)) continue;
                uint32_t ihv1[4], ihv2[4], m2[16];
                for (int i = 0; i < 4; ++i) {
                    ihv1[i] = iv[i];
                    ihv2[i] = iv[i] + iv_delta[i];
                }
                memcpy(m2, m, sizeof m2);
                m2[4] += 0x80000000u;
                m2[11] += m11_delta;
                m2[14] += 0x80000000u;
                md5c_compress(ihv1, m);
                md5c_compress(ihv2, m2);
                if (!memcmp(ihv1, ihv2, sizeof ihv1)) return 1;
            } while (q9_flip);
            MD5C_Q(9) = q9_base;
            MD5C_Q(10) = q10_base;
        } while (q9q10_flip);
    } while (q4_flip);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The whole search, resumable: block 0, then block 1. */

typedef struct {
    uint32_t iv[4];      /* the chaining value after the common prefix */
    md5c_rng rng;
    int stage;           /* 0: searching block 0; 1: block 1; 2: done */
    uint64_t attempts;   /* attempts so far, both blocks */
    uint32_t ihv[4];     /* after block 0 (message 1) */
    uint32_t block0[16]; /* message 1's blocks; message 2's differ by md5c_message2 */
    uint32_t block1[16];
} md5c_search;

static void md5c_search_init(md5c_search *s, const uint32_t iv[4], uint32_t seed_x, uint32_t seed_y) {
    memset(s, 0, sizeof *s);
    memcpy(s->iv, iv, sizeof s->iv);
    s->rng.x = seed_x;
    s->rng.y = seed_y;
    if (!seed_x && !seed_y) s->rng.y = 0x12345678u; /* xorshift's one fixed point */
}

/* One attempt at the current stage; advances the stage when it succeeds. */
static void md5c_search_attempt(md5c_search *s) {
    s->attempts++;
    if (s->stage == 0) {
        if (!md5c_block0_attempt(s->iv, s->block0, &s->rng)) return;
        memcpy(s->ihv, s->iv, sizeof s->ihv);
        md5c_compress(s->ihv, s->block0);
        s->stage = 1;
        return;
    }
    const uint32_t *ihv = s->ihv;
    if (md5c_ihv_fits_stevens(ihv)) {
        /* Stevens' paths are written for message 2's chaining value, which block 0 made
           IHV + (2^31, 2^31+2^25, ...); the block found is message 2's, and message 1's adds dM. */
        static const uint32_t back[4] = {0x80000000u, 0x7e000000u, 0x7e000000u, 0x7e000000u};
        uint32_t iv2[4];
        for (int i = 0; i < 4; ++i) iv2[i] = ihv[i] + md5c_block0_ihv_delta[i];
        const md5c_block1_path *path = &md5c_path_stevens[((ihv[1] >> 6) & 1u) * 2 + (ihv[1] & 1u)];
        if (!md5c_block1_attempt(path, iv2, back, 0x00008000u, s->block1, &s->rng)) return;
        s->block1[4] += 0x80000000u;
        s->block1[11] += 0x00008000u;
        s->block1[14] += 0x80000000u;
    } else {
        if (!md5c_block1_attempt(&md5c_path_wang, ihv, md5c_block0_ihv_delta, 0xffff8000u, s->block1, &s->rng))
            return;
    }
    s->stage = 2;
}

/* Runs up to budget attempts; 1 when the pair is complete. */
static int md5c_search_run(md5c_search *s, uint64_t budget) {
    for (uint64_t i = 0; i < budget && s->stage < 2; ++i) md5c_search_attempt(s);
    return s->stage == 2;
}

/* Message 2's block from message 1's: block 0 adds dM, block 1 adds dM with -2^15 in m11. */
static void md5c_message2(const uint32_t m[16], int block_index, uint32_t out[16]) {
    memcpy(out, m, 16 * sizeof *out);
    out[4] += 0x80000000u;
    out[11] += block_index == 0 ? 0x00008000u : 0xffff8000u;
    out[14] += 0x80000000u;
}

#endif /* MD5STEG_COLLIDE_H */
