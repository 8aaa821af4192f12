/*
 * Portability check for md5steg's C core, built outside Python: known MD5 digests through
 * md5steg_compress, then every fast-word kernel this build has (and this CPU runs) against a
 * brute-force reference. .ci/package-check.sh compiles it with GCC, Clang and an aarch64
 * cross GCC (run under qemu-aarch64) using -Wall -Wextra -Werror.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -I src/md5steg [-DMD5STEG_CHECK_SIMD] tools/cross_check.c
 * Prints one line per check and exits 1 if any failed.
 */
#ifdef MD5STEG_CHECK_SIMD
#include "md5steg_simd.h"
#else
#include "md5steg_core.h"
#endif

#include <stdio.h>

static int failures = 0;

static void report(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

/* MD5 of a message shorter than 56 bytes: one padded block through md5steg_compress. */
static void md5_short(const char *message, char hex[33]) {
    unsigned char block[64] = {0};
    size_t length = strlen(message);
    uint32_t words[16];
    uint32_t state[4];
    memcpy(block, message, length);
    block[length] = 0x80;
    for (int i = 0; i < 8; i++) block[56 + i] = (unsigned char)(((uint64_t)length * 8u) >> (8 * i));
    md5steg_load_block(words, block);
    memcpy(state, md5steg_iv, sizeof state);
    md5steg_compress(state, words);
    for (int i = 0; i < 16; i++) {
        snprintf(hex + 2 * i, 3, "%02x", (unsigned)((state[i / 4] >> (8 * (i % 4))) & 0xffu));
    }
}

static void check_digest(const char *message, const char *expected) {
    char hex[33];
    char what[160];
    md5_short(message, hex);
    snprintf(what, sizeof what, "md5(\"%s\") = %s", message, hex);
    report(strcmp(hex, expected) == 0, what);
}

/* Lowest j in [j0, j1) whose compressed block matches, by full compressions: the reference. */
static int64_t reference_scan(const uint32_t state[4], const uint32_t block[16], int word_index,
                              const uint32_t *fast_words, uint32_t j0, uint32_t j1,
                              const uint32_t mask[4], const uint32_t value[4]) {
    uint32_t words[16];
    memcpy(words, block, sizeof words);
    for (uint32_t j = j0; j < j1; j++) {
        uint32_t out[4] = {state[0], state[1], state[2], state[3]};
        words[word_index] = block[word_index] | fast_words[j];
        md5steg_compress(out, words);
        if (md5steg_state_matches(out, mask, value)) return (int64_t)j;
    }
    return -1;
}

#define TABLE_SIZE 3000u

/* One kernel over every word index, two target widths and a few ragged [j0, j1) ranges. */
static void check_kernel(const char *name, md5steg_fast_scan_fn scan) {
    static uint32_t fast_words[TABLE_SIZE];
    const uint32_t state[4] = {0x01234567u, 0x89abcdefu, 0xfedcba98u, 0x76543210u};
    const uint32_t ranges[][2] = {{0, TABLE_SIZE}, {1, 2999}, {17, 18}, {5, 70}, {100, 100}};
    int mismatches = 0, checks = 0, hits = 0;
    uint32_t block[16];
    for (uint32_t j = 0; j < TABLE_SIZE; j++) fast_words[j] = (j * 2654435761u) & 0xffff0000u;
    for (int word_index = 0; word_index <= MD5STEG_MAX_FAST_WORD; word_index++) {
        for (int i = 0; i < 16; i++) block[i] = 0x9e3779b9u * (uint32_t)(i + 1) + 0x7f4a7c15u;
        block[word_index] &= 0x0000ffffu;
        for (int words_needed = 1; words_needed <= 4; words_needed += 3) {
            /* Target the digest of table entry 2024 so that a hit exists in most ranges. */
            uint32_t mask[4] = {0x0000ffffu, 0, 0, 0}, value[4] = {0, 0, 0, 0};
            uint32_t words[16], out[4] = {state[0], state[1], state[2], state[3]};
            if (words_needed == 4) mask[1] = mask[2] = mask[3] = 0x000000ffu;
            memcpy(words, block, sizeof words);
            words[word_index] |= fast_words[2024];
            md5steg_compress(out, words);
            for (int k = 0; k < 4; k++) value[k] = out[k] & mask[k];
            for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
                int64_t want = reference_scan(state, block, word_index, fast_words, ranges[r][0],
                                              ranges[r][1], mask, value);
                int64_t got = scan(state, block, word_index, fast_words, ranges[r][0], ranges[r][1],
                                   mask, value, words_needed);
                checks++;
                hits += want >= 0;
                if (want != got) {
                    mismatches++;
                    printf("     %s word %d words_needed %d range [%u, %u): want %lld got %lld\n",
                           name, word_index, words_needed, (unsigned)ranges[r][0],
                           (unsigned)ranges[r][1], (long long)want, (long long)got);
                }
            }
        }
    }
    char what[160];
    snprintf(what, sizeof what, "kernel %s agrees with the reference (%d scans, %d hits)", name,
             checks, hits);
    report(mismatches == 0 && hits > 0, what);
}

int main(void) {
    check_digest("", "d41d8cd98f00b204e9800998ecf8427e");
    check_digest("abc", "900150983cd24fb0d6963f7d28e17f72");
    check_digest("The quick brown fox jumps over the lazy dog", "9e107d9d372bb6826bd81d3542a419d6");
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
