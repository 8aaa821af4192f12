/*
 * md5steg's OpenCL kernel: the same search as the C core (md5steg_core.h), one work item per
 * outer step (one value of the slow digits), each looping over the FAST_SIZE fast values.
 *
 * The message is content + suffix + padding; the suffix is a fixed-width base-BASE number,
 * most significant digit first, one byte per digit. Per launch the host fixes the high slow
 * digits and hands over what does not vary:
 *   - mk[i] = M[g(i)] + K[i] for the final block's words (zero where the varying digits and
 *     the fast word go), in __constant memory;
 *   - the MD5 state before the final block (or, when the varying digits reach into it, before
 *     the block in front of it, plus that block's words in pre_words);
 *   - the variables entering step FIRST_STEP, round-1 steps before it being run once on the host.
 * Each work item writes its vary_digits low slow digits (low0 + its id, counted in base BASE)
 * into the words they occupy, runs what depends on them once, then varies the fast word.
 *
 * Compile-time constants (-D): FAST_WORD (0..12), FAST_SIZE, FAST_START (where the fast bytes
 * start, counted from the start of the block before the final one), VARY_MAX (the most varying
 * digits any launch has), FINAL_VARY_LO (first final-block word that may hold varying digits;
 * FAST_WORD when none), PRE_BLOCK (1: they may reach into the block before the final one, which
 * each work item then compresses), FIRST_STEP, BASE, FULL (0: the target lies in digest word A,
 * stop after step 60), FAST_TABLE (__constant or __global). Only these shape the code, so one
 * build serves every content length with the same fast-word position, and every target.
 *
 * The lowest hit of a launch is reduced with a 32-bit atomic_min over its offset
 * (item * FAST_SIZE + fast index); the host keeps every launch below 2**32 candidates, so the
 * reduction is exact on every device, with or without 64-bit atomics.
 */

#define F(x, y, z) bitselect((z), (y), (x))
#define G(x, y, z) bitselect((y), (x), (z))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define I(x, y, z) ((y) ^ ((x) | ~(z)))

/* STEP(i, function, a, b, c, d, message word, rotation); a is the variable the step updates. */
#define STEPS_0_15(STEP) \
    STEP(0, F, a, b, c, d, 0, 7) STEP(1, F, d, a, b, c, 1, 12) STEP(2, F, c, d, a, b, 2, 17) STEP(3, F, b, c, d, a, 3, 22) \
    STEP(4, F, a, b, c, d, 4, 7) STEP(5, F, d, a, b, c, 5, 12) STEP(6, F, c, d, a, b, 6, 17) STEP(7, F, b, c, d, a, 7, 22) \
    STEP(8, F, a, b, c, d, 8, 7) STEP(9, F, d, a, b, c, 9, 12) STEP(10, F, c, d, a, b, 10, 17) STEP(11, F, b, c, d, a, 11, 22) \
    STEP(12, F, a, b, c, d, 12, 7) STEP(13, F, d, a, b, c, 13, 12) STEP(14, F, c, d, a, b, 14, 17) STEP(15, F, b, c, d, a, 15, 22)
#define STEPS_16_60(STEP) \
    STEP(16, G, a, b, c, d, 1, 5) STEP(17, G, d, a, b, c, 6, 9) STEP(18, G, c, d, a, b, 11, 14) STEP(19, G, b, c, d, a, 0, 20) \
    STEP(20, G, a, b, c, d, 5, 5) STEP(21, G, d, a, b, c, 10, 9) STEP(22, G, c, d, a, b, 15, 14) STEP(23, G, b, c, d, a, 4, 20) \
    STEP(24, G, a, b, c, d, 9, 5) STEP(25, G, d, a, b, c, 14, 9) STEP(26, G, c, d, a, b, 3, 14) STEP(27, G, b, c, d, a, 8, 20) \
    STEP(28, G, a, b, c, d, 13, 5) STEP(29, G, d, a, b, c, 2, 9) STEP(30, G, c, d, a, b, 7, 14) STEP(31, G, b, c, d, a, 12, 20) \
    STEP(32, H, a, b, c, d, 5, 4) STEP(33, H, d, a, b, c, 8, 11) STEP(34, H, c, d, a, b, 11, 16) STEP(35, H, b, c, d, a, 14, 23) \
    STEP(36, H, a, b, c, d, 1, 4) STEP(37, H, d, a, b, c, 4, 11) STEP(38, H, c, d, a, b, 7, 16) STEP(39, H, b, c, d, a, 10, 23) \
    STEP(40, H, a, b, c, d, 13, 4) STEP(41, H, d, a, b, c, 0, 11) STEP(42, H, c, d, a, b, 3, 16) STEP(43, H, b, c, d, a, 6, 23) \
    STEP(44, H, a, b, c, d, 9, 4) STEP(45, H, d, a, b, c, 12, 11) STEP(46, H, c, d, a, b, 15, 16) STEP(47, H, b, c, d, a, 2, 23) \
    STEP(48, I, a, b, c, d, 0, 6) STEP(49, I, d, a, b, c, 7, 10) STEP(50, I, c, d, a, b, 14, 15) STEP(51, I, b, c, d, a, 5, 21) \
    STEP(52, I, a, b, c, d, 12, 6) STEP(53, I, d, a, b, c, 3, 10) STEP(54, I, c, d, a, b, 10, 15) STEP(55, I, b, c, d, a, 1, 21) \
    STEP(56, I, a, b, c, d, 8, 6) STEP(57, I, d, a, b, c, 15, 10) STEP(58, I, c, d, a, b, 6, 15) STEP(59, I, b, c, d, a, 13, 21) \
    STEP(60, I, a, b, c, d, 4, 6)
#define STEPS_61_63(STEP) \
    STEP(61, I, d, a, b, c, 11, 10) STEP(62, I, c, d, a, b, 2, 15) STEP(63, I, b, c, d, a, 9, 21)

__constant uint K[64] = {
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au, 0xa8304613u,
    0xfd469501u, 0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu, 0x6b901122u, 0xfd987193u,
    0xa679438eu, 0x49b40821u, 0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau, 0xd62f105du,
    0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u, 0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu,
    0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au, 0xfffa3942u, 0x8771f681u, 0x6d9d6122u,
    0xfde5380cu, 0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u, 0x289b7ec6u, 0xeaa127fau,
    0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u, 0xf4292244u,
    0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u,
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u, 0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu,
    0xeb86d391u};

#define STEP_WITH(a, b, c, d, FN, addend, s) \
    a += FN(b, c, d) + (addend);             \
    a = rotate(a, (uint)(s)) + b;

/* A final-block word that holds varying digits (a per-item register; zero elsewhere). */
#define VARYING(g) (((g) >= FINAL_VARY_LO && (g) < FAST_WORD) ? vary[16 + (g)] : 0u)

/* Steps FIRST_STEP .. FAST_WORD - 1: once per work item (they read no fast word). */
#define PRE_STEP(i, FN, a, b, c, d, g, s) \
    if ((i) >= FIRST_STEP && (i) < FAST_WORD) { STEP_WITH(a, b, c, d, FN, mk[i] + VARYING(g), s) }

/* Steps FAST_WORD .. 63: per candidate; x is the fast word. */
#define FAST_STEP(i, FN, a, b, c, d, g, s)                                              \
    if ((i) >= FAST_WORD) {                                                             \
        STEP_WITH(a, b, c, d, FN, ((g) == FAST_WORD ? x : VARYING(g)) + mk[i], s)      \
    }

/* One whole compression of the block before the final one (PRE_BLOCK: per work item). */
#define BLOCK_STEP(i, FN, a, b, c, d, g, s) STEP_WITH(a, b, c, d, FN, words[g] + K[i], s)

__kernel void md5_prefix(__constant uint *mk, __constant uint *pre_words,
                         FAST_TABLE const uint *fast_words, __constant uchar *symbols,
                         uint4 state, uint4 start, uint base_word, uint low0, uint vary_digits, uint first_j,
                         uint last_j, uint n_items, uint4 mask, uint4 value,
                         __global uint *best) {
    const uint item = (uint)get_global_id(0);
    if (item >= n_items) return;

    /* The vary_digits low slow digits of this outer step, least significant first, written
       where they sit: they end where the fast bytes start (byte FAST_START of the window
       made of the block before the final one and the final block). */
    uint vary[32];
#pragma unroll
    for (int w = 0; w < 32; w++) vary[w] = 0u;
    uint low = low0 + item;
#pragma unroll
    for (int k = 0; k < VARY_MAX; k++) {
        if (k < vary_digits) {
            const uint digit = low % BASE;
            low /= BASE;
            vary[(FAST_START - 1 - k) >> 2] |= (uint)symbols[digit] << (((FAST_START - 1 - k) & 3) * 8);
        }
    }

    uint a, b, c, d;
    uint4 final_state;
#if PRE_BLOCK
    {
        uint words[16];
#pragma unroll
        for (int w = 0; w < 16; w++) words[w] = pre_words[w] + vary[w];
        a = state.s0, b = state.s1, c = state.s2, d = state.s3;
        STEPS_0_15(BLOCK_STEP)
        STEPS_16_60(BLOCK_STEP)
        STEPS_61_63(BLOCK_STEP)
        final_state = state + (uint4)(a, b, c, d);
        a = final_state.s0, b = final_state.s1, c = final_state.s2, d = final_state.s3;
    }
#else
    final_state = state;
    a = start.s0, b = start.s1, c = start.s2, d = start.s3;
#endif
    STEPS_0_15(PRE_STEP)

    const uint pa = a, pb = b, pc = c, pd = d;
    const uint fast_base = base_word | vary[16 + FAST_WORD];
    const uint j_begin = item == 0 ? first_j : 0u;
    const uint j_end = item == n_items - 1 ? last_j : (uint)FAST_SIZE;
    for (uint j = j_begin; j < j_end; j++) {
        const uint x = fast_base | fast_words[j];
        a = pa, b = pb, c = pc, d = pd;
        STEPS_0_15(FAST_STEP)
        STEPS_16_60(FAST_STEP)
        if (((final_state.s0 + a) & mask.s0) != value.s0) continue;
#if FULL
        STEPS_61_63(FAST_STEP)
        if (((final_state.s1 + b) & mask.s1) != value.s1 ||
            ((final_state.s2 + c) & mask.s2) != value.s2 ||
            ((final_state.s3 + d) & mask.s3) != value.s3)
            continue;
#endif
        atomic_min(best, item * (uint)FAST_SIZE + j);
        break;
    }
}
