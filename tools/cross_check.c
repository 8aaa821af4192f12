/*
 * Differential check of md5steg's C core, built outside Python: every fast-word kernel this
 * build has (and this CPU runs) against an independent reference MD5 written here from
 * RFC 1321 (its own loop, its constants from the sine formula; nothing from md5_schedule.h).
 *
 * For each fast-word position 0..12 the reference hashes every table candidate. Then, for each
 * candidate, targets built from its own digest (masked in digest word 0, 1, 2, 3 and in all four
 * at once, with a full-word mask and a sparse one that also matches other candidates) are
 * scanned over a ragged range ending at it: the kernel must return exactly the lowest candidate
 * in the range whose reference digest matches. So every candidate's every digest word passes
 * through every kernel, and every hit a kernel reports is checked. Then the whole search
 * (md5steg_scan) runs on each kernel over aligned layouts, every hit in ranges where slow digits
 * carry (into the final block, the block before it, and the four-steps-at-once path), against
 * the reference hashing each whole message.
 *
 * tools/cross_check.sh builds it for aarch64 (GCC and Clang) and runs it under qemu-user;
 * .ci/package-check.sh builds it natively. Build:
 *   cc -O2 -Wall -Wextra -Werror -I src/md5steg [-DMD5STEG_CHECK_SIMD] tools/cross_check.c -lm
 * Prints one line per kernel ("kernel neon: N candidates, 0 mismatches") and exits 1 if any
 * check failed.
 */
#ifdef MD5STEG_CHECK_SIMD
#include "md5steg_simd.h"
#else
#include "md5steg_core.h"
#endif

#include <math.h>
#include <stdio.h>

static int failures = 0;

static void report(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

/* ---- The reference: RFC 1321, section 3.4, as a plain loop ------------------------------------ */

static uint32_t reference_t[64];

static void reference_init(void) {
    for (int i = 0; i < 64; i++) reference_t[i] = (uint32_t)(fabs(sin((double)(i + 1))) * 4294967296.0);
}

static uint32_t rotate_left(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

/* One compression of the 16 words X into state, the RFC's four rounds written as one loop. */
static void reference_compress(uint32_t state[4], const uint32_t X[16]) {
    static const int shifts[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int i = 0; i < 64; i++) {
        const int round = i / 16;
        uint32_t f;
        int k;
        if (round == 0) {
            f = (b & c) | (~b & d);
            k = i;
        } else if (round == 1) {
            f = (b & d) | (c & ~d);
            k = (5 * i + 1) % 16;
        } else if (round == 2) {
            f = b ^ c ^ d;
            k = (3 * i + 5) % 16;
        } else {
            f = c ^ (b | ~d);
            k = (7 * i) % 16;
        }
        const uint32_t rotated = b + rotate_left(a + f + X[k] + reference_t[i], shifts[round][i % 4]);
        a = d;
        d = c;
        c = b;
        b = rotated;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

/* MD5 state of a whole message (up to 1000 bytes) through `compress`. */
static void md5_words(void (*compress)(uint32_t[4], const uint32_t[16]), const unsigned char *message,
                      size_t length, uint32_t state[4]) {
    unsigned char padded[1088] = {0};
    const size_t blocks = (length + 8) / 64 + 1;
    memcpy(padded, message, length);
    padded[length] = 0x80;
    for (int i = 0; i < 8; i++) padded[64 * blocks - 8 + i] = (unsigned char)(((uint64_t)length * 8u) >> (8 * i));
    state[0] = 0x67452301u, state[1] = 0xefcdab89u, state[2] = 0x98badcfeu, state[3] = 0x10325476u;
    for (size_t block = 0; block < blocks; block++) {
        uint32_t words[16];
        for (int i = 0; i < 16; i++) {
            const unsigned char *p = padded + 64 * block + 4 * i;
            words[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        }
        compress(state, words);
    }
}

static void md5_hex(void (*compress)(uint32_t[4], const uint32_t[16]), const char *message,
                    char hex[33]) {
    uint32_t state[4];
    md5_words(compress, (const unsigned char *)message, strlen(message), state);
    for (int i = 0; i < 16; i++) {
        snprintf(hex + 2 * i, 3, "%02x", (unsigned)((state[i / 4] >> (8 * (i % 4))) & 0xffu));
    }
}

static void core_compress(uint32_t state[4], const uint32_t words[16]) { md5steg_compress(state, words); }

/* RFC 1321's test suite (appendix A.5), through the reference and through the core's compress. */
static void check_digests(void) {
    static const char *const suite[][2] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    int reference_ok = 1, core_ok = 1;
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++) {
        char hex[33];
        md5_hex(reference_compress, suite[i][0], hex);
        reference_ok &= strcmp(hex, suite[i][1]) == 0;
        md5_hex(core_compress, suite[i][0], hex);
        core_ok &= strcmp(hex, suite[i][1]) == 0;
    }
    report(reference_ok, "the reference MD5 gives RFC 1321's test digests");
    report(core_ok, "md5steg_compress gives RFC 1321's test digests");
}

/* ---- The kernels against the reference -------------------------------------------------------- */

#define TABLE_SIZE 600u
#define MAX_SPAN 70u /* ranges reach up to this far back: whole groups of every kernel, and a ragged end */

static uint32_t next_random(uint32_t *seed) {
    *seed = *seed * 1664525u + 1013904223u;
    return *seed ^ (*seed >> 15);
}

typedef struct {
    uint64_t candidates, scans, hits, mismatches;
} tally;

/* Scan [j0, j1) for one target; compare with the lowest reference match. */
static void check_range(md5steg_fast_scan_fn scan, const char *name, const uint32_t state[4],
                        const uint32_t block[16], int word_index, const uint32_t *fast_words,
                        const uint32_t (*digest)[4], uint32_t j0, uint32_t j1, const uint32_t mask[4],
                        const uint32_t value[4], int words_needed, tally *t) {
    int64_t want = -1;
    for (uint32_t j = j0; j < j1 && want < 0; j++) {
        if (md5steg_state_matches(digest[j], mask, value)) want = (int64_t)j;
    }
    const int64_t got = scan(state, block, word_index, fast_words, j0, j1, mask, value, words_needed);
    t->candidates += j1 - j0;
    t->scans++;
    t->hits += want >= 0;
    if (got != want) {
        if (t->mismatches < 10) {
            printf("     %s word %d mask %08x %08x %08x %08x words_needed %d range [%u, %u): "
                   "want %lld got %lld\n",
                   name, word_index, (unsigned)mask[0], (unsigned)mask[1], (unsigned)mask[2],
                   (unsigned)mask[3], words_needed,
                   (unsigned)j0, (unsigned)j1, (long long)want, (long long)got);
        }
        t->mismatches++;
    }
}

static void check_scan(md5steg_fast_scan_fn scan, const char *name, tally *t);

static void check_kernel(const char *name, md5steg_fast_scan_fn scan) {
    static uint32_t fast_words[TABLE_SIZE];
    static uint32_t digest[TABLE_SIZE][4];
    /* Full-word masks find one candidate; the sparse ones (1 in 256) find earlier ones too. */
    static const uint32_t word_masks[2] = {0xffffffffu, 0x0f00000fu};
    tally t = {0, 0, 0, 0};
    uint32_t seed = 2024u;
    for (int word_index = 0; word_index <= MD5STEG_MAX_FAST_WORD; word_index++) {
        uint32_t state[4], block[16], words[16];
        for (int i = 0; i < 4; i++) state[i] = next_random(&seed);
        for (int i = 0; i < 16; i++) block[i] = next_random(&seed);
        /* As in a real layout: the candidates own the word's top bytes, the block the rest. */
        const int fast_bytes = 1 + word_index % 4;
        const uint32_t fast_mask = fast_bytes == 4 ? 0xffffffffu : ~(0xffffffffu >> (8 * fast_bytes));
        block[word_index] &= ~fast_mask;
        for (uint32_t j = 0; j < TABLE_SIZE; j++) fast_words[j] = next_random(&seed) & fast_mask;
        memcpy(words, block, sizeof words);
        for (uint32_t j = 0; j < TABLE_SIZE; j++) {
            words[word_index] = block[word_index] | fast_words[j];
            memcpy(digest[j], state, sizeof digest[j]);
            reference_compress(digest[j], words);
        }
        /* Targets in digest word 0, 1, 2, 3, then (4) in all four at once. */
        for (int target_word = 0; target_word <= 4; target_word++) {
            for (int m = 0; m < 2; m++) {
                uint32_t mask[4] = {0, 0, 0, 0};
                if (target_word < 4) {
                    mask[target_word] = word_masks[m];
                } else {
                    for (int k = 0; k < 4; k++) mask[k] = word_masks[m] >> (8 * k);
                }
                /* Word 0 alone also runs the full path (words_needed 4 with zero masks beyond). */
                for (int words_needed = target_word < 4 ? target_word + 1 : 4; words_needed <= 4;
                     words_needed = words_needed == 1 ? 4 : 5) {
                    for (uint32_t j = 0; j < TABLE_SIZE; j++) {
                        uint32_t value[4];
                        for (int k = 0; k < 4; k++) value[k] = digest[j][k] & mask[k];
                        const uint32_t back = (j * 7u + (uint32_t)m) % MAX_SPAN;
                        const uint32_t j0 = j > back ? j - back : 0;
                        const uint32_t j1 = j + 1 + (j % 3 == 0 ? j % 29 : 0);
                        check_range(scan, name, state, block, word_index, fast_words,
                                    (const uint32_t(*)[4])digest, j0, j1 < TABLE_SIZE ? j1 : TABLE_SIZE,
                                    mask, value, words_needed, &t);
                    }
                }
            }
        }
        /* Empty ranges find nothing. */
        const uint32_t no_mask[4] = {0, 0, 0, 0}, no_value[4] = {0, 0, 0, 0};
        check_range(scan, name, state, block, word_index, fast_words, (const uint32_t(*)[4])digest,
                    7, 7, no_mask, no_value, 1, &t);
    }
    const int every_range_found_its_candidate = t.hits == t.scans - (MD5STEG_MAX_FAST_WORD + 1);
    const uint64_t kernel_hits = t.hits;
    check_scan(scan, name, &t);
    char what[200];
    snprintf(what, sizeof what, "kernel %s: %llu candidates, %llu mismatches (%llu scans, %llu hits)",
             name, (unsigned long long)t.candidates, (unsigned long long)t.mismatches,
             (unsigned long long)t.scans, (unsigned long long)t.hits);
    report(t.mismatches == 0 && every_range_found_its_candidate && t.hits > kernel_hits, what);
}

/* ---- The whole search, md5steg_scan, around slow-digit carries ------------------------------- */

typedef struct {
    int tail_len, base, digits, fast_digits;
} scan_case;

static const char digit_symbols[] = "0123456789abcdef";

/* Nonce n as `digits` base-`base` symbols, most significant first (as md5steg's layouts write). */
static void write_nonce(uint64_t n, int base, int digits, unsigned char *out) {
    for (int i = digits - 1; i >= 0; i--) {
        out[i] = (unsigned char)digit_symbols[n % (uint64_t)base];
        n /= (uint64_t)base;
    }
}

/* md5steg_scan with `scan` as its kernel over aligned layouts (one symbol = one byte) against the
   reference hashing each whole message: every hit in ranges that cross outer steps where slow
   digits carry, including carries into the block before the final one. */
static void check_scan(md5steg_fast_scan_fn scan, const char *name, tally *t) {
    static const scan_case cases[] = {
        {56, 16, 12, 2}, /* fast word 0; the slow digits cross from block 0 into the final block */
        {50, 4, 18, 4},  /* word 0 all fast digits: block 0 compressed for 4 outer steps at once */
        {20, 16, 24, 2}, /* fast word 10 of a one-block message */
        {5, 16, 11, 2},  /* fast word 3 */
        {63, 16, 45, 2}, /* fast word 10 of the second block; the suffix spans the boundary */
    };
    /* Digest byte 0 (a 2-hex prefix), or digest byte 15 (the full path): 1 in 256 matches. */
    static const uint32_t target_masks[2][4] = {{0xffu, 0, 0, 0}, {0, 0, 0, 0xff000000u}};
    static md5steg_problem problem;
    static uint32_t fast_words[256];
    static unsigned char matches[2000];
    md5steg_problem *p = &problem;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const scan_case sc = cases[c];
        const int msg_len = sc.tail_len + sc.digits;
        uint64_t fast_size = 1;
        for (int i = 0; i < sc.fast_digits; i++) fast_size *= (uint64_t)sc.base;
        memset(p, 0, sizeof *p);
        memcpy(p->head_state, md5steg_iv, sizeof p->head_state);
        for (int i = 0; i < sc.tail_len; i++) p->buf[i] = (unsigned char)('A' + i % 26);
        p->tail_len = sc.tail_len;
        p->base = sc.base;
        for (int i = 0; i < sc.base; i++) {
            p->symbols[i][0] = (unsigned char)digit_symbols[i];
            p->symbol_len[i] = 1;
        }
        p->digits = sc.digits;
        p->fast_digits = sc.fast_digits;
        p->fast_size = fast_size;
        p->aligned = 1;
        p->final_block_offset = (msg_len - 1) / 64 * 64;
        p->fast_word_index = (msg_len - p->final_block_offset) / 4 - 1;
        p->suffix_len = sc.digits;
        for (uint32_t j = 0; j < fast_size; j++) {
            unsigned char bytes[4] = {0, 0, 0, 0};
            write_nonce(j, sc.base, sc.fast_digits, bytes);
            uint32_t word = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
                            (uint32_t)bytes[3] << 24;
            fast_words[j] = word << (8 * (4 - sc.fast_digits));
        }
        p->fast_words = fast_words;
        p->fast_scan = scan;
        for (int m = 0; m < 2; m++) {
            memcpy(p->mask, target_masks[m], sizeof p->mask);
            p->words_needed = m == 0 ? 1 : 4;
            for (int k = 0; k < 4; k++) p->value[k] = (0x5a3c96e1u * (uint32_t)(c + 1)) & p->mask[k];
            for (int k = 0; k <= 3; k++) {
                /* [0, 300), then 700 either side of the outer step where slow digit k from the
                   end carries (outer base**k). */
                uint64_t carry = fast_size;
                for (int i = 0; i < k; i++) carry *= (uint64_t)sc.base;
                const uint64_t start = k == 0 ? 0 : carry - 700, stop = k == 0 ? 300 : carry + 700;
                for (uint64_t n = start; n < stop; n++) {
                    unsigned char message[128];
                    uint32_t state[4];
                    memcpy(message, p->buf, (size_t)sc.tail_len);
                    write_nonce(n, sc.base, sc.digits, message + sc.tail_len);
                    md5_words(reference_compress, message, (size_t)msg_len, state);
                    matches[n - start] = (unsigned char)md5steg_state_matches(state, p->mask, p->value);
                }
                /* Every hit in turn: scan from just after the previous one. */
                for (uint64_t from = start; from < stop;) {
                    int64_t want = -1;
                    for (uint64_t n = from; n < stop && want < 0; n++) {
                        if (matches[n - start]) want = (int64_t)n;
                    }
                    const int64_t got = md5steg_scan(p, from, stop);
                    t->scans++;
                    t->hits += want >= 0;
                    t->candidates += (want >= 0 ? (uint64_t)want + 1 : stop) - from;
                    if (got != want) {
                        if (t->mismatches < 10) {
                            printf("     %s scan case %d target %d [%llu, %llu): want %lld got %lld\n",
                                   name, (int)c, m, (unsigned long long)from,
                                   (unsigned long long)stop, (long long)want, (long long)got);
                        }
                        t->mismatches++;
                        break;
                    }
                    if (want < 0) break;
                    from = (uint64_t)want + 1;
                }
            }
        }
    }
}

int main(void) {
    reference_init();
    check_digests();
#ifdef MD5STEG_CHECK_SIMD
    for (int k = 0; k < MD5STEG_KERNEL_COUNT; k++) {
        if (md5steg_kernel_runs_here(k)) {
            check_kernel(md5steg_kernels[k].name, md5steg_kernels[k].scan);
        } else {
            printf("skip kernel %s (this CPU lacks it)\n", md5steg_kernels[k].name);
        }
    }
#else
    check_kernel("scalar", md5steg_fast_scan_scalar);
#endif
    printf("%s\n", failures ? "cross_check: FAILED" : "cross_check: all passed");
    return failures ? 1 : 0;
}
