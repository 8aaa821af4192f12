/*
 * Runs one fast-word kernel over `count` candidates that never match, for
 * tools/kernel_estimates.py: under `qemu-aarch64 -one-insn-per-tb -d exec,nochain` every
 * executed instruction is one log line, so two counts give the real kernel's instructions per
 * candidate, loop overhead included.
 *
 * Usage: count_instructions KERNEL FAST_WORD COUNT   (KERNEL as in md5steg_kernels: neon, scalar)
 */
#include "md5steg_simd.h"

#include <stdio.h>

#define MAX_COUNT 100000u

int main(int argc, char **argv) {
    static uint32_t fast_words[MAX_COUNT];
    const uint32_t state[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    /* A prefix target (digest word 0 only), as the estimates' groups assume; a chance match (2^-32
       per candidate) shows as exit status 1. */
    const uint32_t mask[4] = {0xffffffffu, 0, 0, 0}, value[4] = {0x12345678u, 0, 0, 0};
    uint32_t block[16] = {0};
    if (argc != 4) {
        fprintf(stderr, "usage: %s KERNEL FAST_WORD COUNT\n", argv[0]);
        return 2;
    }
    const int word_index = atoi(argv[2]);
    const uint32_t count = (uint32_t)strtoul(argv[3], NULL, 10);
    if (word_index < 0 || word_index > MD5STEG_MAX_FAST_WORD || count > MAX_COUNT) {
        fprintf(stderr, "FAST_WORD must be 0..%d and COUNT at most %u\n", MD5STEG_MAX_FAST_WORD, MAX_COUNT);
        return 2;
    }
    for (uint32_t j = 0; j < count; j++) fast_words[j] = j << 16;
    for (int k = 0; k < MD5STEG_KERNEL_COUNT; k++) {
        if (strcmp(md5steg_kernels[k].name, argv[1]) == 0) {
            const int64_t hit = md5steg_kernels[k].scan(state, block, word_index, fast_words, 0, count,
                                                        mask, value, 1);
            return hit == -1 ? 0 : 1;
        }
    }
    fprintf(stderr, "no kernel %s in this build\n", argv[1]);
    return 2;
}
