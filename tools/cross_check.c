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
 * through every kernel, and every hit a kernel reports is checked.
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

/* MD5 of a whole message (any length up to 1000 bytes) as 32 hex digits, through `compress`. */
static void md5_hex(void (*compress)(uint32_t[4], const uint32_t[16]), const char *message,
                    char hex[33]) {
    unsigned char padded[1088] = {0};
    const size_t length = strlen(message);
    const size_t blocks = (length + 8) / 64 + 1;
    uint32_t state[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    memcpy(padded, message, length);
    padded[length] = 0x80;
    for (int i = 0; i < 8; i++) padded[64 * blocks - 8 + i] = (unsigned char)(((uint64_t)length * 8u) >> (8 * i));
    for (size_t block = 0; block < blocks; block++) {
        uint32_t words[16];
        for (int i = 0; i < 16; i++) {
            const unsigned char *p = padded + 64 * block + 4 * i;
            words[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        }
        compress(state, words);
    }
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
    char what[200];
    snprintf(what, sizeof what, "kernel %s: %llu candidates, %llu mismatches (%llu scans, %llu hits)",
             name, (unsigned long long)t.candidates, (unsigned long long)t.mismatches,
             (unsigned long long)t.scans, (unsigned long long)t.hits);
    report(t.mismatches == 0 && t.hits == t.scans - (MD5STEG_MAX_FAST_WORD + 1), what);
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
