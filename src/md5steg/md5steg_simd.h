/*
 * md5steg's SIMD fast-word kernels (x86-64: SSE2, AVX2, AVX-512; AArch64: NEON) and their
 * run-time dispatch.
 *
 * Each kernel is md5steg_kernel.inc's schedule on a different vector
 * width; results equal the scalar kernel's exactly (lowest matching index). The build is
 * portable: nothing is compiled with -march; each kernel carries its own target attribute
 * (GCC/Clang) and runs only when the CPU has the instructions and the OS saves the registers.
 * MSVC needs no attributes. NEON is part of the AArch64 baseline, so it needs neither an attribute
 * nor a run-time check. Other architectures get the scalar kernel only.
 */
#ifndef MD5STEG_SIMD_H
#define MD5STEG_SIMD_H

#include "md5steg_core.h"

/* x86-64 SIMD paths with GCC, Clang and MSVC. Left out (scalar only) under clang-cl, whose
   immintrin.h hides AVX intrinsics without -mavx2 and which links no __cpu_model, and under
   ARM64EC, which defines _M_X64 but cannot run them. */
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(_M_ARM64EC) && \
    !(defined(_MSC_VER) && defined(__clang__))
#define MD5STEG_X86_64 1
#include <immintrin.h>
#if defined(_MSC_VER) && !defined(__clang__)
#define MD5STEG_TARGET(features)
#else
#include <cpuid.h>
#define MD5STEG_TARGET(features) __attribute__((target(features)))
#endif
#endif

/* AArch64 NEON with GCC and Clang (Linux, macOS). Not 32-bit ARM: its NEON lacks vaddvq_u32. */
#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(MD5STEG_X86_64)
#define MD5STEG_AARCH64 1
#include <arm_neon.h>
#endif

#ifdef MD5STEG_X86_64

/* ---- SSE2: 4 lanes (every x86-64 CPU) ----------------------------------------------------- */

#define MD5STEG_V_SET1(x) _mm_set1_epi32((int)(x))
#define MD5STEG_V_LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define MD5STEG_V_OR(x, y) _mm_or_si128((x), (y))
#define MD5STEG_V_ADD(x, y) _mm_add_epi32((x), (y))
/* Rotating by 16 swaps the 16-bit halves: two shuffles instead of two shifts and an OR. */
#define MD5STEG_V_ROL(x, s)                                                                 \
    ((s) == 16 ? _mm_shufflehi_epi16(_mm_shufflelo_epi16((x), 0xb1), 0xb1)                   \
               : _mm_or_si128(_mm_slli_epi32((x), (s)), _mm_srli_epi32((x), 32 - (s))))
/* acc + (z ^ (x & (y ^ z))): y ^ z does not wait for x, the newest value. */
#define MD5STEG_V_ADD_F(acc, x, y, z, X) \
    _mm_add_epi32((acc), _mm_xor_si128((z), _mm_and_si128((x), _mm_xor_si128((y), (z)))))
/* acc + (x & z) + (y & ~z): the two terms have no common bit, so OR is ADD. */
#define MD5STEG_V_ADD_G(acc, x, y, z, X) \
    _mm_add_epi32(_mm_add_epi32((acc), _mm_andnot_si128((z), (y))), _mm_and_si128((x), (z)))
/* H1 keeps x ^ y; the next step's H2(x', x, y) reuses it as its y ^ z. */
#define MD5STEG_V_ADD_H1(acc, x, y, z, X) \
    _mm_add_epi32((acc), _mm_xor_si128((h##X = _mm_xor_si128((x), (y))), (z)))
#define MD5STEG_V_ADD_H2(acc, x, y, z, X) _mm_add_epi32((acc), _mm_xor_si128((x), h##X))
/* y ^ (x | ~z) == ~(y ^ (~x & z)), and acc + ~t == acc - t - 1: the -1 is in the constants. */
#define MD5STEG_V_ADD_I(acc, x, y, z, X) \
    _mm_sub_epi32((acc), _mm_xor_si128((y), _mm_andnot_si128((x), (z))))
#define MD5STEG_V_I_BIAS 1u
#define MD5STEG_SSE2_EQ(x, i, su)                                                              \
    _mm_cmpeq_epi32(_mm_and_si128(_mm_add_epi32((x), _mm_set1_epi32((int)(su)->state[i])),      \
                                  _mm_set1_epi32((int)(su)->mask[i])),                          \
                    _mm_set1_epi32((int)(su)->value[i]))
#define MD5STEG_V_MATCH1(a, su) \
    ((uint64_t)(unsigned)_mm_movemask_ps(_mm_castsi128_ps(MD5STEG_SSE2_EQ(a, 0, su))))
#define MD5STEG_V_MATCH4(a, b, c, d, su)                                                      \
    ((uint64_t)(unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_and_si128(                       \
        _mm_and_si128(MD5STEG_SSE2_EQ(a, 0, su), MD5STEG_SSE2_EQ(b, 1, su)),                    \
        _mm_and_si128(MD5STEG_SSE2_EQ(c, 2, su), MD5STEG_SSE2_EQ(d, 3, su))))))

#ifndef MD5STEG_SSE2_CHAINS
#define MD5STEG_SSE2_CHAINS 3
#endif
#define MD5STEG_KERNEL md5steg_fast_scan_sse2
#define MD5STEG_KERNEL_TARGET MD5STEG_TARGET("sse2")
#define MD5STEG_LANES 4
#define MD5STEG_CHAINS MD5STEG_SSE2_CHAINS
#define MD5STEG_VEC __m128i
#include "md5steg_kernel.inc"

/* ---- AVX2: 8 lanes, the same operations on 256 bits ---------------------------------------- */

#define MD5STEG_V_SET1(x) _mm256_set1_epi32((int)(x))
#define MD5STEG_V_LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define MD5STEG_V_OR(x, y) _mm256_or_si256((x), (y))
#define MD5STEG_V_ADD(x, y) _mm256_add_epi32((x), (y))
/* Rotating by 16 is one byte shuffle. */
#define MD5STEG_V_ROL(x, s)                                                                    \
    ((s) == 16 ? _mm256_shuffle_epi8((x), _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, \
                                                          6, 1, 0, 3, 2, 13, 12, 15, 14, 9, 8,  \
                                                          11, 10, 5, 4, 7, 6, 1, 0, 3, 2))       \
               : _mm256_or_si256(_mm256_slli_epi32((x), (s)), _mm256_srli_epi32((x), 32 - (s))))
#define MD5STEG_V_ADD_F(acc, x, y, z, X) \
    _mm256_add_epi32((acc),              \
                     _mm256_xor_si256((z), _mm256_and_si256((x), _mm256_xor_si256((y), (z)))))
#define MD5STEG_V_ADD_G(acc, x, y, z, X)                                                 \
    _mm256_add_epi32(_mm256_add_epi32((acc), _mm256_andnot_si256((z), (y))),             \
                     _mm256_and_si256((x), (z)))
#define MD5STEG_V_ADD_H1(acc, x, y, z, X) \
    _mm256_add_epi32((acc), _mm256_xor_si256((h##X = _mm256_xor_si256((x), (y))), (z)))
#define MD5STEG_V_ADD_H2(acc, x, y, z, X) _mm256_add_epi32((acc), _mm256_xor_si256((x), h##X))
#define MD5STEG_V_ADD_I(acc, x, y, z, X) \
    _mm256_sub_epi32((acc), _mm256_xor_si256((y), _mm256_andnot_si256((x), (z))))
#define MD5STEG_V_I_BIAS 1u
#define MD5STEG_AVX2_EQ(x, i, su)                                                                \
    _mm256_cmpeq_epi32(                                                                           \
        _mm256_and_si256(_mm256_add_epi32((x), _mm256_set1_epi32((int)(su)->state[i])),           \
                         _mm256_set1_epi32((int)(su)->mask[i])),                                  \
        _mm256_set1_epi32((int)(su)->value[i]))
#define MD5STEG_V_MATCH1(a, su) \
    ((uint64_t)(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(MD5STEG_AVX2_EQ(a, 0, su))))
#define MD5STEG_V_MATCH4(a, b, c, d, su)                                                       \
    ((uint64_t)(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_and_si256(                \
        _mm256_and_si256(MD5STEG_AVX2_EQ(a, 0, su), MD5STEG_AVX2_EQ(b, 1, su)),                  \
        _mm256_and_si256(MD5STEG_AVX2_EQ(c, 2, su), MD5STEG_AVX2_EQ(d, 3, su))))))

#ifndef MD5STEG_AVX2_CHAINS
#define MD5STEG_AVX2_CHAINS 3
#endif
#define MD5STEG_KERNEL md5steg_fast_scan_avx2
#define MD5STEG_KERNEL_TARGET MD5STEG_TARGET("avx2")
#define MD5STEG_LANES 8
#define MD5STEG_CHAINS MD5STEG_AVX2_CHAINS
#define MD5STEG_VEC __m256i
#include "md5steg_kernel.inc"

/* ---- AVX-512F: 16 lanes, one vpternlogd per round function and vprold ---------------------- */

#define MD5STEG_V_SET1(x) _mm512_set1_epi32((int)(x))
#define MD5STEG_V_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define MD5STEG_V_OR(x, y) _mm512_or_si512((x), (y))
#define MD5STEG_V_ADD(x, y) _mm512_add_epi32((x), (y))
#define MD5STEG_V_ROL(x, s) _mm512_rol_epi32((x), (s))
/* Truth tables over x = 0xf0, y = 0xcc, z = 0xaa. */
#define MD5STEG_V_ADD_F(acc, x, y, z, X) \
    _mm512_add_epi32((acc), _mm512_ternarylogic_epi32((x), (y), (z), 0xca))
#define MD5STEG_V_ADD_G(acc, x, y, z, X) \
    _mm512_add_epi32((acc), _mm512_ternarylogic_epi32((x), (y), (z), 0xe4))
#define MD5STEG_V_ADD_H1(acc, x, y, z, X) \
    _mm512_add_epi32((acc), _mm512_ternarylogic_epi32((x), (y), (z), 0x96))
#define MD5STEG_V_ADD_H2(acc, x, y, z, X) MD5STEG_V_ADD_H1(acc, x, y, z, X)
#define MD5STEG_V_ADD_I(acc, x, y, z, X) \
    _mm512_add_epi32((acc), _mm512_ternarylogic_epi32((x), (y), (z), 0x39))
#define MD5STEG_V_I_BIAS 0u
#define MD5STEG_AVX512_EQ(x, i, su)                                                               \
    _mm512_cmpeq_epi32_mask(                                                                       \
        _mm512_and_si512(_mm512_add_epi32((x), _mm512_set1_epi32((int)(su)->state[i])),            \
                         _mm512_set1_epi32((int)(su)->mask[i])),                                   \
        _mm512_set1_epi32((int)(su)->value[i]))
#define MD5STEG_V_MATCH1(a, su) ((uint64_t)MD5STEG_AVX512_EQ(a, 0, su))
#define MD5STEG_V_MATCH4(a, b, c, d, su)                                                     \
    ((uint64_t)(MD5STEG_AVX512_EQ(a, 0, su) & MD5STEG_AVX512_EQ(b, 1, su) &                   \
                MD5STEG_AVX512_EQ(c, 2, su) & MD5STEG_AVX512_EQ(d, 3, su)))

#ifndef MD5STEG_AVX512_CHAINS
#define MD5STEG_AVX512_CHAINS 4
#endif
#define MD5STEG_KERNEL md5steg_fast_scan_avx512
#define MD5STEG_KERNEL_TARGET MD5STEG_TARGET("avx512f")
#define MD5STEG_LANES 16
#define MD5STEG_CHAINS MD5STEG_AVX512_CHAINS
#define MD5STEG_VEC __m512i
#include "md5steg_kernel.inc"

/* ---- Run-time detection -------------------------------------------------------------------- */

static void md5steg_cpuid(unsigned leaf, unsigned subleaf, unsigned regs[4]) {
#if defined(_MSC_VER) && !defined(__clang__)
    int out[4];
    __cpuidex(out, (int)leaf, (int)subleaf);
    for (int i = 0; i < 4; i++) regs[i] = (unsigned)out[i];
#else
    regs[0] = regs[1] = regs[2] = regs[3] = 0;
    __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
}

/* XCR0: which register states the OS saves on a context switch. */
static uint64_t md5steg_xcr0(void) {
#if defined(_MSC_VER) && !defined(__clang__)
    return (uint64_t)_xgetbv(0);
#else
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
#endif
}

enum { MD5STEG_CPU_AVX2 = 1, MD5STEG_CPU_AVX512F = 2 };

static int md5steg_cpu_features(void) {
    unsigned regs[4];
    int features = 0;
    md5steg_cpuid(0, 0, regs);
    const unsigned max_leaf = regs[0];
    if (max_leaf < 7) return 0;
    md5steg_cpuid(1, 0, regs);
    const int osxsave = (regs[2] >> 27) & 1, avx = (regs[2] >> 28) & 1;
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = md5steg_xcr0();
    const int ymm_saved = (xcr0 & 0x6) == 0x6;     /* XMM and YMM state */
    const int zmm_saved = (xcr0 & 0xe6) == 0xe6;   /* plus opmask, ZMM_Hi256, Hi16_ZMM */
    md5steg_cpuid(7, 0, regs);
    if (ymm_saved && ((regs[1] >> 5) & 1)) features |= MD5STEG_CPU_AVX2;
    if (ymm_saved && zmm_saved && ((regs[1] >> 16) & 1)) features |= MD5STEG_CPU_AVX512F;
#if !defined(_MSC_VER) || defined(__clang__)
    /* Agree with the compiler runtime too (it also knows about OS support). */
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) features &= ~MD5STEG_CPU_AVX2;
    if (!__builtin_cpu_supports("avx512f")) features &= ~MD5STEG_CPU_AVX512F;
#endif
    return features;
}

#endif /* MD5STEG_X86_64 */

#ifdef MD5STEG_AARCH64

/* ---- NEON: 4 lanes, with a bit-select for F and G and an OR-NOT for I ----------------------- */

#define MD5STEG_V_SET1(x) vdupq_n_u32((uint32_t)(x))
#define MD5STEG_V_LOAD(p) vld1q_u32((const uint32_t *)(p))
#define MD5STEG_V_OR(x, y) vorrq_u32((x), (y))
#define MD5STEG_V_ADD(x, y) vaddq_u32((x), (y))
/* Rotating by 16 is one REV32 of the 16-bit halves; otherwise shift right, then shift left and
   insert (SLI keeps the low s bits the right shift left there). */
#define MD5STEG_V_ROL(x, s)                                                                  \
    ((s) == 16 ? vreinterpretq_u32_u16(vrev32q_u16(vreinterpretq_u16_u32(x)))                  \
               : vsliq_n_u32(vshrq_n_u32((x), 32 - (s)), (x), (s)))
/* F(x, y, z) = x ? y : z and G(x, y, z) = z ? x : y, bit by bit: one BSL each. */
#define MD5STEG_V_ADD_F(acc, x, y, z, X) vaddq_u32((acc), vbslq_u32((x), (y), (z)))
#define MD5STEG_V_ADD_G(acc, x, y, z, X) vaddq_u32((acc), vbslq_u32((z), (x), (y)))
/* H1 keeps x ^ y; the next step's H2(x', x, y) reuses it as its y ^ z (no three-way EOR in the
   baseline). */
#define MD5STEG_V_ADD_H1(acc, x, y, z, X) \
    vaddq_u32((acc), veorq_u32((h##X = veorq_u32((x), (y))), (z)))
#define MD5STEG_V_ADD_H2(acc, x, y, z, X) vaddq_u32((acc), veorq_u32((x), h##X))
/* I(x, y, z) = y ^ (x | ~z): ORN is x | ~z. */
#define MD5STEG_V_ADD_I(acc, x, y, z, X) vaddq_u32((acc), veorq_u32((y), vornq_u32((x), (z))))
#define MD5STEG_V_I_BIAS 0u
#define MD5STEG_NEON_EQ(x, i, su)                                                        \
    vceqq_u32(vandq_u32(vaddq_u32((x), vdupq_n_u32((su)->state[i])), vdupq_n_u32((su)->mask[i])), \
              vdupq_n_u32((su)->value[i]))
/* A lane bitmask from all-ones/all-zeros lanes: keep bit k in lane k, then add across. */
static const uint32_t md5steg_neon_lane_bits[4] = {1u, 2u, 4u, 8u};
#define MD5STEG_NEON_BITS(eq) ((uint64_t)vaddvq_u32(vandq_u32((eq), vld1q_u32(md5steg_neon_lane_bits))))
#define MD5STEG_V_MATCH1(a, su) MD5STEG_NEON_BITS(MD5STEG_NEON_EQ(a, 0, su))
#define MD5STEG_V_MATCH4(a, b, c, d, su)                                                    \
    MD5STEG_NEON_BITS(vandq_u32(vandq_u32(MD5STEG_NEON_EQ(a, 0, su), MD5STEG_NEON_EQ(b, 1, su)), \
                                vandq_u32(MD5STEG_NEON_EQ(c, 2, su), MD5STEG_NEON_EQ(d, 3, su))))

/* 6 chains: a step is 5 dependent 2-cycle operations, and with 4 chains Neoverse V1 and M1 wait
   on them (llvm-mca: 20-27% more cycles per candidate; benchmarks/results/neon_estimates.md). */
#ifndef MD5STEG_NEON_CHAINS
#define MD5STEG_NEON_CHAINS 6
#endif
#define MD5STEG_KERNEL md5steg_fast_scan_neon
#define MD5STEG_KERNEL_TARGET
#define MD5STEG_LANES 4
#define MD5STEG_CHAINS MD5STEG_NEON_CHAINS
#define MD5STEG_VEC uint32x4_t
#include "md5steg_kernel.inc"

#endif /* MD5STEG_AARCH64 */

/* ---- The kernels this build has, fastest first ---------------------------------------------- */

typedef struct {
    const char *name;
    md5steg_fast_scan_fn scan;
    int required_features; /* MD5STEG_CPU_* bits, 0 for none */
} md5steg_kernel;

static const md5steg_kernel md5steg_kernels[] = {
#ifdef MD5STEG_X86_64
    {"avx512", md5steg_fast_scan_avx512, MD5STEG_CPU_AVX512F},
    {"avx2", md5steg_fast_scan_avx2, MD5STEG_CPU_AVX2},
    {"sse2", md5steg_fast_scan_sse2, 0},
#endif
#ifdef MD5STEG_AARCH64
    {"neon", md5steg_fast_scan_neon, 0}, /* baseline on AArch64: every CPU runs it */
#endif
    {"scalar", md5steg_fast_scan_scalar, 0},
};

#define MD5STEG_KERNEL_COUNT ((int)(sizeof md5steg_kernels / sizeof md5steg_kernels[0]))

/* 1 if this CPU (and OS) can run kernel number `index` of md5steg_kernels. */
static int md5steg_kernel_runs_here(int index) {
    if (index < 0 || index >= MD5STEG_KERNEL_COUNT) return 0;
    const int needed = md5steg_kernels[index].required_features;
    if (needed == 0) return 1;
#ifdef MD5STEG_X86_64
    return (md5steg_cpu_features() & needed) == needed;
#else
    return 0;
#endif
}

#endif /* MD5STEG_SIMD_H */
