/*
 * md5steg's C core: MD5 (RFC 1321) on uint32_t words, and the nonce search.
 *
 * The search hashes the content once (the "midstate"), then for each outer
 * step writes the slow digits of the nonce, compresses any block they fill,
 * and hands the final block to a fast-word kernel that varies one message
 * word over a table of precomputed values. The kernel returns the lowest
 * matching table index, so results do not depend on lanes or processes.
 */
#ifndef MD5STEG_CORE_H
#define MD5STEG_CORE_H

#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#define MD5STEG_BUF_BYTES 1152 /* tail (<64) + suffix (<=900) + padding, block multiple */

static const uint32_t md5steg_iv[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

#define MD5STEG_ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))
#define MD5STEG_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MD5STEG_G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define MD5STEG_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD5STEG_I(x, y, z) ((y) ^ ((x) | ~(z)))
#define MD5STEG_STEP(f, a, b, c, d, m, k, s) \
    (a) += f((b), (c), (d)) + (m) + (k);     \
    (a) = MD5STEG_ROTL((a), (s)) + (b);

/* One MD5 compression of the 16 little-endian words M into state. */
static inline void md5steg_compress(uint32_t state[4], const uint32_t M[16]) {
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    MD5STEG_STEP(MD5STEG_F, a, b, c, d, M[0], 0xd76aa478u, 7)
    MD5STEG_STEP(MD5STEG_F, d, a, b, c, M[1], 0xe8c7b756u, 12)
    MD5STEG_STEP(MD5STEG_F, c, d, a, b, M[2], 0x242070dbu, 17)
    MD5STEG_STEP(MD5STEG_F, b, c, d, a, M[3], 0xc1bdceeeu, 22)
    MD5STEG_STEP(MD5STEG_F, a, b, c, d, M[4], 0xf57c0fafu, 7)
    MD5STEG_STEP(MD5STEG_F, d, a, b, c, M[5], 0x4787c62au, 12)
    MD5STEG_STEP(MD5STEG_F, c, d, a, b, M[6], 0xa8304613u, 17)
    MD5STEG_STEP(MD5STEG_F, b, c, d, a, M[7], 0xfd469501u, 22)
    MD5STEG_STEP(MD5STEG_F, a, b, c, d, M[8], 0x698098d8u, 7)
    MD5STEG_STEP(MD5STEG_F, d, a, b, c, M[9], 0x8b44f7afu, 12)
    MD5STEG_STEP(MD5STEG_F, c, d, a, b, M[10], 0xffff5bb1u, 17)
    MD5STEG_STEP(MD5STEG_F, b, c, d, a, M[11], 0x895cd7beu, 22)
    MD5STEG_STEP(MD5STEG_F, a, b, c, d, M[12], 0x6b901122u, 7)
    MD5STEG_STEP(MD5STEG_F, d, a, b, c, M[13], 0xfd987193u, 12)
    MD5STEG_STEP(MD5STEG_F, c, d, a, b, M[14], 0xa679438eu, 17)
    MD5STEG_STEP(MD5STEG_F, b, c, d, a, M[15], 0x49b40821u, 22)
    MD5STEG_STEP(MD5STEG_G, a, b, c, d, M[1], 0xf61e2562u, 5)
    MD5STEG_STEP(MD5STEG_G, d, a, b, c, M[6], 0xc040b340u, 9)
    MD5STEG_STEP(MD5STEG_G, c, d, a, b, M[11], 0x265e5a51u, 14)
    MD5STEG_STEP(MD5STEG_G, b, c, d, a, M[0], 0xe9b6c7aau, 20)
    MD5STEG_STEP(MD5STEG_G, a, b, c, d, M[5], 0xd62f105du, 5)
    MD5STEG_STEP(MD5STEG_G, d, a, b, c, M[10], 0x02441453u, 9)
    MD5STEG_STEP(MD5STEG_G, c, d, a, b, M[15], 0xd8a1e681u, 14)
    MD5STEG_STEP(MD5STEG_G, b, c, d, a, M[4], 0xe7d3fbc8u, 20)
    MD5STEG_STEP(MD5STEG_G, a, b, c, d, M[9], 0x21e1cde6u, 5)
    MD5STEG_STEP(MD5STEG_G, d, a, b, c, M[14], 0xc33707d6u, 9)
    MD5STEG_STEP(MD5STEG_G, c, d, a, b, M[3], 0xf4d50d87u, 14)
    MD5STEG_STEP(MD5STEG_G, b, c, d, a, M[8], 0x455a14edu, 20)
    MD5STEG_STEP(MD5STEG_G, a, b, c, d, M[13], 0xa9e3e905u, 5)
    MD5STEG_STEP(MD5STEG_G, d, a, b, c, M[2], 0xfcefa3f8u, 9)
    MD5STEG_STEP(MD5STEG_G, c, d, a, b, M[7], 0x676f02d9u, 14)
    MD5STEG_STEP(MD5STEG_G, b, c, d, a, M[12], 0x8d2a4c8au, 20)
    MD5STEG_STEP(MD5STEG_H, a, b, c, d, M[5], 0xfffa3942u, 4)
    MD5STEG_STEP(MD5STEG_H, d, a, b, c, M[8], 0x8771f681u, 11)
    MD5STEG_STEP(MD5STEG_H, c, d, a, b, M[11], 0x6d9d6122u, 16)
    MD5STEG_STEP(MD5STEG_H, b, c, d, a, M[14], 0xfde5380cu, 23)
    MD5STEG_STEP(MD5STEG_H, a, b, c, d, M[1], 0xa4beea44u, 4)
    MD5STEG_STEP(MD5STEG_H, d, a, b, c, M[4], 0x4bdecfa9u, 11)
    MD5STEG_STEP(MD5STEG_H, c, d, a, b, M[7], 0xf6bb4b60u, 16)
    MD5STEG_STEP(MD5STEG_H, b, c, d, a, M[10], 0xbebfbc70u, 23)
    MD5STEG_STEP(MD5STEG_H, a, b, c, d, M[13], 0x289b7ec6u, 4)
    MD5STEG_STEP(MD5STEG_H, d, a, b, c, M[0], 0xeaa127fau, 11)
    MD5STEG_STEP(MD5STEG_H, c, d, a, b, M[3], 0xd4ef3085u, 16)
    MD5STEG_STEP(MD5STEG_H, b, c, d, a, M[6], 0x04881d05u, 23)
    MD5STEG_STEP(MD5STEG_H, a, b, c, d, M[9], 0xd9d4d039u, 4)
    MD5STEG_STEP(MD5STEG_H, d, a, b, c, M[12], 0xe6db99e5u, 11)
    MD5STEG_STEP(MD5STEG_H, c, d, a, b, M[15], 0x1fa27cf8u, 16)
    MD5STEG_STEP(MD5STEG_H, b, c, d, a, M[2], 0xc4ac5665u, 23)
    MD5STEG_STEP(MD5STEG_I, a, b, c, d, M[0], 0xf4292244u, 6)
    MD5STEG_STEP(MD5STEG_I, d, a, b, c, M[7], 0x432aff97u, 10)
    MD5STEG_STEP(MD5STEG_I, c, d, a, b, M[14], 0xab9423a7u, 15)
    MD5STEG_STEP(MD5STEG_I, b, c, d, a, M[5], 0xfc93a039u, 21)
    MD5STEG_STEP(MD5STEG_I, a, b, c, d, M[12], 0x655b59c3u, 6)
    MD5STEG_STEP(MD5STEG_I, d, a, b, c, M[3], 0x8f0ccc92u, 10)
    MD5STEG_STEP(MD5STEG_I, c, d, a, b, M[10], 0xffeff47du, 15)
    MD5STEG_STEP(MD5STEG_I, b, c, d, a, M[1], 0x85845dd1u, 21)
    MD5STEG_STEP(MD5STEG_I, a, b, c, d, M[8], 0x6fa87e4fu, 6)
    MD5STEG_STEP(MD5STEG_I, d, a, b, c, M[15], 0xfe2ce6e0u, 10)
    MD5STEG_STEP(MD5STEG_I, c, d, a, b, M[6], 0xa3014314u, 15)
    MD5STEG_STEP(MD5STEG_I, b, c, d, a, M[13], 0x4e0811a1u, 21)
    MD5STEG_STEP(MD5STEG_I, a, b, c, d, M[4], 0xf7537e82u, 6)
    MD5STEG_STEP(MD5STEG_I, d, a, b, c, M[11], 0xbd3af235u, 10)
    MD5STEG_STEP(MD5STEG_I, c, d, a, b, M[2], 0x2ad7d2bbu, 15)
    MD5STEG_STEP(MD5STEG_I, b, c, d, a, M[9], 0xeb86d391u, 21)
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

static int64_t md5steg_fast_scan_scalar(const uint32_t state[4], const uint32_t block[16],
                                        int word_index, const uint32_t *fast_words, uint32_t j0,
                                        uint32_t j1, const uint32_t mask[4],
                                        const uint32_t value[4], int words_needed) {
    uint32_t M[16];
    (void)words_needed;
    memcpy(M, block, sizeof M);
    const uint32_t base_word = block[word_index];
    for (uint32_t j = j0; j < j1; j++) {
        uint32_t out[4] = {state[0], state[1], state[2], state[3]};
        M[word_index] = base_word | fast_words[j];
        md5steg_compress(out, M);
        if (md5steg_state_matches(out, mask, value)) return (int64_t)j;
    }
    return -1;
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

/* Aligned layout: lowest matching nonce in [start, stop), or -1. */
static int64_t md5steg_scan_aligned(md5steg_problem *p, uint64_t start, uint64_t stop) {
    const uint64_t F = p->fast_size;
    const int slow_digits = p->digits - p->fast_digits;
    const int width = p->symbol_len[0];
    const int fast_bytes = p->fast_digits * width;
    const int msg_len = p->tail_len + p->suffix_len;
    uint64_t n = start;
    while (n < stop) {
        uint64_t outer = n / F;
        uint32_t j0 = (uint32_t)(n % F);
        uint64_t remaining = stop - n;
        uint32_t j1 = remaining < F - j0 ? (uint32_t)(j0 + remaining) : (uint32_t)F;
        md5steg_write_digits(p, outer, slow_digits, p->buf + p->tail_len);
        memset(p->buf + msg_len - fast_bytes, 0, (size_t)fast_bytes);
        /* Final block: message end, 0x80, zeros, bit length. */
        unsigned char *final = p->buf + p->final_block_offset;
        int end_in_block = msg_len - p->final_block_offset;
        uint64_t bits = (p->head_len + (uint64_t)msg_len) * 8u;
        final[end_in_block] = 0x80;
        memset(final + end_in_block + 1, 0, (size_t)(55 - end_in_block));
        for (int i = 0; i < 8; i++) final[56 + i] = (unsigned char)(bits >> (8 * i));
        uint32_t state[4];
        memcpy(state, p->head_state, 16);
        md5steg_blocks(state, p->buf, (uint64_t)(p->final_block_offset / 64));
        uint32_t block[16];
        md5steg_load_block(block, final);
        int64_t hit = p->fast_scan(state, block, p->fast_word_index, p->fast_words, j0, j1,
                                   p->mask, p->value, p->words_needed);
        if (hit >= 0) return (int64_t)(outer * F + (uint64_t)hit);
        n = outer * F + j1;
    }
    return -1;
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
