/*
 * One group of each fast-word kernel as a plain function, for tools/kernel_estimates.sh: the
 * straight-line body of the kernel's inner loop (LANES x CHAINS candidates), for a prefix
 * target (digest word 0 only, so steps 61..63 are left out as in the real loop) and fast word
 * FAST_WORD (default 3). Counting its instructions gives instructions per candidate; llvm-mca
 * turns it into cycles per candidate on a CPU model.
 */
#include "md5steg_simd.h"

#ifndef FAST_WORD
#define FAST_WORD 3
#endif

/* The lane bitmask goes to memory, not to the return register: returned, it would come back as
   the next pass's `su` pointer in llvm-mca's loop and chain the passes, which the real loop
   (where it only feeds a predicted branch) does not. */
#define MD5STEG_GROUP_FN(name, kernel, chains, target)                                         \
    void group_##name(const md5steg_fast_setup *su, const uint32_t *mk, const uint32_t *words, \
                      uint64_t *bits);                                                         \
    target void group_##name(const md5steg_fast_setup *su, const uint32_t *mk,                 \
                             const uint32_t *words, uint64_t *bits) {                          \
        if (su->full) __builtin_unreachable(); /* a prefix target */                           \
        *bits = kernel##_group(FAST_WORD, chains, su, mk, words);                              \
    }

MD5STEG_GROUP_FN(scalar, md5steg_fast_scan_scalar, MD5STEG_SCALAR_CHAINS, )
#ifdef MD5STEG_AARCH64
MD5STEG_GROUP_FN(neon, md5steg_fast_scan_neon, MD5STEG_NEON_CHAINS, )
#endif
#ifdef MD5STEG_X86_64
MD5STEG_GROUP_FN(sse2, md5steg_fast_scan_sse2, MD5STEG_SSE2_CHAINS, MD5STEG_TARGET("sse2"))
MD5STEG_GROUP_FN(avx2, md5steg_fast_scan_avx2, MD5STEG_AVX2_CHAINS, MD5STEG_TARGET("avx2"))
MD5STEG_GROUP_FN(avx512, md5steg_fast_scan_avx512, MD5STEG_AVX512_CHAINS, MD5STEG_TARGET("avx512f"))
#endif
