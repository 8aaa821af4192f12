/*
 * md5steg's C core: MD5 (RFC 1321) on uint32_t words, and the nonce search.
 *
 * The search hashes the content once (the "midstate"), then for each outer
 * step writes the slow digits of the nonce, compresses any block they fill,
 * and hands the final block to a fast-word kernel that varies one message
 * word over a table of precomputed values. The kernel returns the lowest
 * matching table index, so results do not depend on lanes or processes.
 *
 * MD5's step schedule is written once, as the X-macro MD5STEG_STEPS_* below
 * (plus the constants md5steg_K); every C path expands it, and
 * tests/test_kernel.py checks _md5py.py's tables against this file.
 */
#ifndef MD5STEG_CORE_H
#define MD5STEG_CORE_H

#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "md5_schedule.h"

#define MD5STEG_BUF_BYTES 1152 /* tail (<64) + suffix (<=900) + padding, block multiple */
#define MD5STEG_CAT_(a, b) a##b
#define MD5STEG_CAT(a, b) MD5STEG_CAT_(a, b)

static const uint32_t md5steg_iv[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

/* ---- Compiler portability ---------------------------------------------------------------- */

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define MD5STEG_ALWAYS_INLINE static __forceinline
static __forceinline int md5steg_ctz64(uint64_t x) {
    unsigned long index;
#if defined(_M_X64) || defined(_M_ARM64)
    _BitScanForward64(&index, x);
#else /* 32-bit targets have no 64-bit scan */
    if (_BitScanForward(&index, (unsigned long)x)) return (int)index;
    _BitScanForward(&index, (unsigned long)(x >> 32));
    index += 32;
#endif
    return (int)index;
}
#else
#define MD5STEG_ALWAYS_INLINE static inline __attribute__((always_inline))
#define md5steg_ctz64(x) __builtin_ctzll(x)
#endif

/* ---- MD5's schedule, written once ----------------------------------------------------------- */

#define MD5STEG_ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
#define MD5STEG_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MD5STEG_G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define MD5STEG_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD5STEG_I(x, y, z) ((y) ^ ((x) | ~(z)))
#define MD5STEG_FN_F MD5STEG_F
#define MD5STEG_FN_G MD5STEG_G
#define MD5STEG_FN_H1 MD5STEG_H
#define MD5STEG_FN_H2 MD5STEG_H
#define MD5STEG_FN_I MD5STEG_I

static const uint32_t md5steg_K[64] = {MD5STEG_K_VALUES};

/* The schedule: MD5STEG_STEPS_0_60 and MD5STEG_STEPS_61_63 (md5_schedule.h). */

/* Message word and rotation of each step, from the schedule. */
#define MD5STEG_WORD_OF(i, FN, a, b, c, d, g, s) g,
#define MD5STEG_SHIFT_OF(i, FN, a, b, c, d, g, s) s,
static const unsigned char md5steg_step_word[64] = {
    MD5STEG_STEPS_0_60(MD5STEG_WORD_OF) MD5STEG_STEPS_61_63(MD5STEG_WORD_OF)};
static const unsigned char md5steg_step_shift[64] = {
    MD5STEG_STEPS_0_60(MD5STEG_SHIFT_OF) MD5STEG_STEPS_61_63(MD5STEG_SHIFT_OF)};

/* One step on plain variables: a = b + ((a + f(b, c, d) + m + k) <<< s). */
#define MD5STEG_SCALAR_STEP(FN, a, b, c, d, m, k, s) \
    a += MD5STEG_FN_##FN(b, c, d) + (m) + (k);        \
    a = MD5STEG_ROTL(a, s) + b;
#define MD5STEG_C1_STEP(i, FN, a, b, c, d, g, s) MD5STEG_SCALAR_STEP(FN, a, b, c, d, M[g], md5steg_K[i], s)

/* One MD5 compression of the 16 little-endian words M into state. */
static inline void md5steg_compress(uint32_t state[4], const uint32_t M[16]) {
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    MD5STEG_STEPS_0_60(MD5STEG_C1_STEP)
    MD5STEG_STEPS_61_63(MD5STEG_C1_STEP)
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

static inline uint32_t md5steg_load_le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void md5steg_load_block(uint32_t M[16], const unsigned char *p) {
    for (int i = 0; i < 16; i++) M[i] = md5steg_load_le32(p + 4 * i);
}

/* Compress nblocks consecutive 64-byte blocks of data into state. */
static inline void md5steg_blocks(uint32_t state[4], const unsigned char *data, uint64_t nblocks) {
    uint32_t M[16];
    for (uint64_t i = 0; i < nblocks; i++) {
        md5steg_load_block(M, data + 64 * i);
        md5steg_compress(state, M);
    }
}

static inline int md5steg_state_matches(const uint32_t out[4], const uint32_t mask[4],
                                        const uint32_t value[4]) {
    return ((out[0] & mask[0]) == value[0]) & ((out[1] & mask[1]) == value[1]) &
           ((out[2] & mask[2]) == value[2]) & ((out[3] & mask[3]) == value[3]);
}

/*
 * A fast-word kernel: lowest j in [j0, j1) such that compressing `block` with
 * word `word_index` replaced by (block[word_index] | fast_words[j]) from
 * `state` gives a chaining value matching mask/value; -1 if none.
 * `words_needed` (1..4) says which state words the target looks at.
 */
typedef int64_t (*md5steg_fast_scan_fn)(const uint32_t state[4], const uint32_t block[16],
                                        int word_index, const uint32_t *fast_words, uint32_t j0,
                                        uint32_t j1, const uint32_t mask[4],
                                        const uint32_t value[4], int words_needed);

/* ---- What every fast-word kernel shares ----------------------------------------------------
 *
 * Per call (one outer step) the kernels precompute, once:
 *   - mk[i] = M[g(i)] + K[i] for the 60-odd steps whose message word does not vary, and K[i]
 *     alone for the four steps that read the fast word (its value is added per candidate);
 *   - the state after round-1 steps 0..word_index-1, which read only fixed words.
 * Per candidate they then run steps word_index..60 and, only when the target looks past
 * digest word 0 (words_needed > 1), steps 61..63: after step 60 word A is final.
 */

#define MD5STEG_MAX_FAST_WORD 12 /* aligned layouts end the message at byte 4..52 of the block */

typedef struct {
    uint32_t mk[64];       /* M[g(i)] + K[i], or K[i] where g(i) is the fast word */
    uint32_t start[4];     /* variables a, b, c, d entering step word_index */
    uint32_t base_word;    /* block[word_index]; candidates OR a table value into it */
    uint32_t state[4], mask[4], value[4];
    int full;              /* 1: compare all four words (steps 61..63 needed) */
} md5steg_fast_setup;

static inline void md5steg_fast_prepare(md5steg_fast_setup *su, const uint32_t state[4],
                                        const uint32_t block[16], int word_index,
                                        const uint32_t mask[4], const uint32_t value[4],
                                        int words_needed) {
    uint32_t roles[4] = {state[0], state[1], state[2], state[3]};
    for (int i = 0; i < 64; i++) {
        int g = md5steg_step_word[i];
        su->mk[i] = (g == word_index ? 0u : block[g]) + md5steg_K[i];
    }
    for (int i = 0; i < word_index; i++) {
        uint32_t sum = roles[0] + MD5STEG_F(roles[1], roles[2], roles[3]) + su->mk[i];
        uint32_t updated = roles[1] + MD5STEG_ROTL(sum, md5steg_step_shift[i]);
        roles[0] = roles[3];
        roles[3] = roles[2];
        roles[2] = roles[1];
        roles[1] = updated;
    }
    /* The role k (a, b, c, d of step word_index) lives in variable (k - word_index) mod 4. */
    for (int k = 0; k < 4; k++) su->start[(k - word_index) & 3] = roles[k];
    su->base_word = block[word_index];
    memcpy(su->state, state, sizeof su->state);
    memcpy(su->mask, mask, sizeof su->mask);
    memcpy(su->value, value, sizeof su->value);
    /* A target past digest word 0 needs the last three steps; do not trust words_needed alone. */
    su->full = words_needed > 1 || (mask[1] | mask[2] | mask[3]) != 0;
}

/*
 * md5steg_kernel.inc defines one kernel from the vector operations MD5STEG_V_* in force where it
 * is included; these two macros are its step, expanded by the schedule for each of its chains.
 */
#define MD5STEG_VSTEP_CHAIN(FN, a, b, c, d, g, s, X)                  \
    a##X = MD5STEG_V_ADD(a##X, k_);                                   \
    if ((g) == W) a##X = MD5STEG_V_ADD(a##X, mv##X);                  \
    a##X = MD5STEG_V_ADD_##FN(a##X, b##X, c##X, d##X, X);             \
    a##X = MD5STEG_V_ADD(MD5STEG_V_ROL(a##X, s), b##X);

#define MD5STEG_VSTEP(i, FN, a, b, c, d, g, s)                           \
    if ((i) >= W) {                                                      \
        const md5steg_vec k_ = MD5STEG_V_SET1(mk[i]);                    \
        MD5STEG_VSTEP_CHAIN(FN, a, b, c, d, g, s, 0)                     \
        if (CH > 1) { MD5STEG_VSTEP_CHAIN(FN, a, b, c, d, g, s, 1) }     \
        if (CH > 2) { MD5STEG_VSTEP_CHAIN(FN, a, b, c, d, g, s, 2) }     \
        if (CH > 3) { MD5STEG_VSTEP_CHAIN(FN, a, b, c, d, g, s, 3) }     \
        if (CH > 4) { MD5STEG_VSTEP_CHAIN(FN, a, b, c, d, g, s, 4) }     \
        if (CH > 5) { MD5STEG_VSTEP_CHAIN(FN, a, b, c, d, g, s, 5) }     \
    }

/* ---- The scalar kernel: the same schedule on uint32_t, three candidates interleaved ---------- */

#define MD5STEG_V_SET1(x) (x)
#define MD5STEG_V_LOAD(p) (*(p))
#define MD5STEG_V_OR(x, y) ((x) | (y))
#define MD5STEG_V_ADD(x, y) ((x) + (y))
#define MD5STEG_V_ROL(x, s) MD5STEG_ROTL((x), (s))
#define MD5STEG_V_ADD_F(acc, x, y, z, X) ((acc) + MD5STEG_F((x), (y), (z)))
#define MD5STEG_V_ADD_G(acc, x, y, z, X) ((acc) + MD5STEG_G((x), (y), (z)))
#define MD5STEG_V_ADD_H1(acc, x, y, z, X) ((acc) + MD5STEG_H((x), (y), (z)))
#define MD5STEG_V_ADD_H2(acc, x, y, z, X) ((acc) + MD5STEG_H((x), (y), (z)))
#define MD5STEG_V_ADD_I(acc, x, y, z, X) ((acc) + MD5STEG_I((x), (y), (z)))
#define MD5STEG_V_I_BIAS 0u
#define MD5STEG_V_MATCH1(a, su) ((uint64_t)((((a) + (su)->state[0]) & (su)->mask[0]) == (su)->value[0]))
#define MD5STEG_V_MATCH4(a, b, c, d, su)                                     \
    ((uint64_t)(((((a) + (su)->state[0]) & (su)->mask[0]) == (su)->value[0]) & \
                ((((b) + (su)->state[1]) & (su)->mask[1]) == (su)->value[1]) & \
                ((((c) + (su)->state[2]) & (su)->mask[2]) == (su)->value[2]) & \
                ((((d) + (su)->state[3]) & (su)->mask[3]) == (su)->value[3])))
#ifndef MD5STEG_SCALAR_CHAINS
#define MD5STEG_SCALAR_CHAINS 3
#endif
#define MD5STEG_KERNEL md5steg_fast_scan_scalar
#define MD5STEG_KERNEL_TARGET
#define MD5STEG_LANES 1
#define MD5STEG_CHAINS MD5STEG_SCALAR_CHAINS
#define MD5STEG_VEC uint32_t
#include "md5steg_kernel.inc"

/* ---- Four blocks from one state, interleaved so that their step latencies overlap ---------- */

#define MD5STEG_C4_CHAIN(FN, a, b, c, d, g, i, s, X) \
    MD5STEG_SCALAR_STEP(FN, a##X, b##X, c##X, d##X, M[X][g], md5steg_K[i], s)
#define MD5STEG_C4_STEP(i, FN, a, b, c, d, g, s)                                \
    MD5STEG_C4_CHAIN(FN, a, b, c, d, g, i, s, 0) MD5STEG_C4_CHAIN(FN, a, b, c, d, g, i, s, 1) \
    MD5STEG_C4_CHAIN(FN, a, b, c, d, g, i, s, 2) MD5STEG_C4_CHAIN(FN, a, b, c, d, g, i, s, 3)

static void md5steg_compress4(const uint32_t in[4], const uint32_t M[4][16], uint32_t out[4][4]) {
    uint32_t a0 = in[0], b0 = in[1], c0 = in[2], d0 = in[3];
    uint32_t a1 = a0, b1 = b0, c1 = c0, d1 = d0, a2 = a0, b2 = b0, c2 = c0, d2 = d0;
    uint32_t a3 = a0, b3 = b0, c3 = c0, d3 = d0;
    MD5STEG_STEPS_0_60(MD5STEG_C4_STEP)
    MD5STEG_STEPS_61_63(MD5STEG_C4_STEP)
    out[0][0] = in[0] + a0, out[0][1] = in[1] + b0, out[0][2] = in[2] + c0, out[0][3] = in[3] + d0;
    out[1][0] = in[0] + a1, out[1][1] = in[1] + b1, out[1][2] = in[2] + c1, out[1][3] = in[3] + d1;
    out[2][0] = in[0] + a2, out[2][1] = in[1] + b2, out[2][2] = in[2] + c2, out[2][3] = in[3] + d2;
    out[3][0] = in[0] + a3, out[3][1] = in[1] + b3, out[3][2] = in[2] + c3, out[3][3] = in[3] + d3;
}

typedef struct {
    uint32_t head_state[4];      /* MD5 state after the content's full blocks */
    uint64_t head_len;           /* bytes those blocks hold */
    unsigned char buf[MD5STEG_BUF_BYTES]; /* content tail, then the suffix */
    int tail_len;                /* content bytes after head_len */
    int base;                    /* alphabet size */
    unsigned char symbols[256][4];
    int symbol_len[256];
    int digits;                  /* nonce width in symbols */
    int fast_digits;             /* lowest digits varied by the kernel */
    uint64_t fast_size;          /* base ** fast_digits */
    int aligned;                 /* 1: the fast word layout; 0: generic */
    int fast_word_index;         /* aligned: word of the final block that varies */
    int final_block_offset;      /* aligned: offset of the final block in buf */
    int suffix_len;              /* aligned: digits * symbol width */
    const uint32_t *fast_words;  /* aligned: fast_size precomputed word values */
    uint32_t mask[4], value[4];
    int words_needed;
    md5steg_fast_scan_fn fast_scan;
} md5steg_problem;

/* Write the top (digits - skip_low) digits of `number`'s base-b form, MSB first, into out;
   `number` is the nonce divided by base**skip_low. Returns the bytes written. */
static inline int md5steg_write_digits(const md5steg_problem *p, uint64_t number, int count,
                                       unsigned char *out) {
    unsigned char values[1024];
    for (int i = count - 1; i >= 0; i--) {
        values[i] = (unsigned char)(number % (uint64_t)p->base);
        number /= (uint64_t)p->base;
    }
    int written = 0;
    for (int i = 0; i < count; i++) {
        memcpy(out + written, p->symbols[values[i]], (size_t)p->symbol_len[values[i]]);
        written += p->symbol_len[values[i]];
    }
    return written;
}

/* Pad buf[0..len) as MD5's final blocks and compress them from state into out. */
static inline void md5steg_finish(const md5steg_problem *p, unsigned char *buf, int len,
                                  uint32_t out[4]) {
    uint64_t bits = (p->head_len + (uint64_t)len) * 8u;
    int padded = ((len + 8) / 64 + 1) * 64;
    buf[len] = 0x80;
    memset(buf + len + 1, 0, (size_t)(padded - len - 1));
    for (int i = 0; i < 8; i++) buf[padded - 8 + i] = (unsigned char)(bits >> (8 * i));
    memcpy(out, p->head_state, 16);
    md5steg_blocks(out, buf, (uint64_t)(padded / 64));
}

/* The most significant slow digit that counting up by one changes (-1: every digit wraps). */
static inline int md5steg_carry_position(const md5steg_problem *p, const unsigned char *digit,
                                         int count) {
    int position = count - 1;
    while (position >= 0 && digit[position] == p->base - 1) position--;
    return position;
}

/* Count the slow digits up by one (digits from `position` on change) and write their symbols
   where buf would hold them, shifted down by `bias` bytes. A carry out of the top wraps. */
static inline void md5steg_count_up(const md5steg_problem *p, unsigned char *digit, int count,
                                    int position, unsigned char *dst, int bias) {
    const int width = p->symbol_len[0];
    for (int i = position < 0 ? 0 : position; i < count; i++) {
        digit[i] = i == position ? (unsigned char)(digit[i] + 1) : 0;
        memcpy(dst + p->tail_len + i * width - bias, p->symbols[digit[i]], (size_t)width);
    }
}

/*
 * Aligned layout: lowest matching nonce in [start, stop), or -1.
 *
 * The slow digits are written once and then counted up in place like an odometer, so an outer
 * step costs no division; the blocks before the final one are recompressed only from the first
 * block whose bytes the carry touched. When the lowest slow digit lies in the last of those
 * blocks (fast word 0), that block changes at every outer step: it is compressed for four outer
 * steps at once, which overlaps four dependency chains instead of waiting on one.
 */
static int64_t md5steg_scan_aligned(md5steg_problem *p, uint64_t start, uint64_t stop) {
    enum { MAX_BLOCKS = MD5STEG_BUF_BYTES / 64, AHEAD = 4 };
    const uint64_t F = p->fast_size;
    const int slow_digits = p->digits - p->fast_digits;
    const int width = p->symbol_len[0];
    const int fast_bytes = p->fast_digits * width;
    const int msg_len = p->tail_len + p->suffix_len;
    const int prefix_blocks = p->final_block_offset / 64;
    const int last = prefix_blocks - 1; /* the block before the final one, if any */
    const int batch = slow_digits > 0 && last >= 0 &&
                      (p->tail_len + (slow_digits - 1) * width) / 64 == last;
    unsigned char *final = p->buf + p->final_block_offset;
    const int end_in_block = msg_len - p->final_block_offset;
    const uint64_t bits = (p->head_len + (uint64_t)msg_len) * 8u;
    unsigned char digit[1024];
    uint32_t states[MAX_BLOCKS + 1][4]; /* states[k]: MD5 state before block k of buf */
    uint32_t ahead[AHEAD][4];           /* batch: states after block `last`, next outer steps */
    int ahead_count = 0, ahead_used = 0;
    if (start >= stop) return -1;

    uint64_t outer = start / F;
    uint32_t j0 = (uint32_t)(start % F);
    uint64_t number = outer;
    for (int i = slow_digits - 1; i >= 0; i--) {
        digit[i] = (unsigned char)(number % (uint64_t)p->base);
        number /= (uint64_t)p->base;
    }
    md5steg_write_digits(p, outer, slow_digits, p->buf + p->tail_len);
    memset(p->buf + msg_len - fast_bytes, 0, (size_t)fast_bytes);
    /* Final block: message end, 0x80, zeros, bit length. */
    final[end_in_block] = 0x80;
    memset(final + end_in_block + 1, 0, (size_t)(55 - end_in_block));
    for (int i = 0; i < 8; i++) final[56 + i] = (unsigned char)(bits >> (8 * i));
    memcpy(states[0], p->head_state, 16);
    int dirty_block = 0; /* first block of buf whose bytes changed since states[] was computed */

    for (;;) {
        const uint32_t *final_state;
        if (batch) {
            if (dirty_block < last || ahead_used == ahead_count) {
                for (int k = dirty_block; k < last; k++) {
                    memcpy(states[k + 1], states[k], 16);
                    md5steg_blocks(states[k + 1], p->buf + 64 * k, 1);
                }
                /* Block `last` for this and the next outer steps, until a carry leaves it. */
                unsigned char ahead_digit[1024];
                unsigned char blocks[AHEAD][64 + 4];
                uint32_t M[AHEAD][16];
                memcpy(ahead_digit, digit, (size_t)slow_digits);
                memcpy(blocks[0], p->buf + 64 * last, 64 + 4);
                ahead_count = 1;
                while (ahead_count < AHEAD) {
                    int position = md5steg_carry_position(p, ahead_digit, slow_digits);
                    if (position < 0 || (p->tail_len + position * width) / 64 < last) break;
                    memcpy(blocks[ahead_count], blocks[ahead_count - 1], 64 + 4);
                    md5steg_count_up(p, ahead_digit, slow_digits, position, blocks[ahead_count],
                                     64 * last);
                    ahead_count++;
                }
                for (int k = 0; k < AHEAD; k++)
                    md5steg_load_block(M[k], blocks[k < ahead_count ? k : 0]);
                md5steg_compress4(states[last], (const uint32_t(*)[16])M, ahead);
                ahead_used = 0;
            }
            final_state = ahead[ahead_used++];
        } else {
            for (int k = dirty_block; k < prefix_blocks; k++) {
                memcpy(states[k + 1], states[k], 16);
                md5steg_blocks(states[k + 1], p->buf + 64 * k, 1);
            }
            final_state = states[prefix_blocks];
        }
        dirty_block = prefix_blocks;
        uint64_t remaining = stop - outer * F - j0;
        uint32_t j1 = remaining < F - j0 ? (uint32_t)(j0 + remaining) : (uint32_t)F;
        uint32_t block[16];
        md5steg_load_block(block, final);
        int64_t hit = p->fast_scan(final_state, block, p->fast_word_index, p->fast_words, j0, j1,
                                   p->mask, p->value, p->words_needed);
        if (hit >= 0) return (int64_t)(outer * F + (uint64_t)hit);
        if (j1 < F || outer * F + F >= stop) return -1;
        outer++;
        j0 = 0;
        int position = md5steg_carry_position(p, digit, slow_digits);
        md5steg_count_up(p, digit, slow_digits, position, p->buf, 0);
        int changed_block = (p->tail_len + (position < 0 ? 0 : position) * width) / 64;
        if (changed_block < dirty_block) dirty_block = changed_block;
    }
}

/* Generic layout (mixed symbol widths): every candidate is padded and hashed in full. */
static int64_t md5steg_scan_generic(md5steg_problem *p, uint64_t start, uint64_t stop) {
    unsigned char work[MD5STEG_BUF_BYTES];
    const uint64_t F = p->fast_size;
    const int slow_digits = p->digits - p->fast_digits;
    uint64_t n = start;
    while (n < stop) {
        uint64_t outer = n / F;
        int slow_end = p->tail_len + md5steg_write_digits(p, outer, slow_digits,
                                                          p->buf + p->tail_len);
        uint64_t j_stop = (outer + 1) * F < stop ? F : stop - outer * F;
        for (uint64_t j = n - outer * F; j < j_stop; j++) {
            memcpy(work, p->buf, (size_t)slow_end);
            int len = slow_end + md5steg_write_digits(p, j, p->fast_digits, work + slow_end);
            uint32_t out[4];
            md5steg_finish(p, work, len, out);
            if (md5steg_state_matches(out, p->mask, p->value)) return (int64_t)(outer * F + j);
        }
        n = outer * F + j_stop;
    }
    return -1;
}

static inline int64_t md5steg_scan(md5steg_problem *p, uint64_t start, uint64_t stop) {
    return p->aligned ? md5steg_scan_aligned(p, start, stop) : md5steg_scan_generic(p, start, stop);
}

#endif /* MD5STEG_CORE_H */
