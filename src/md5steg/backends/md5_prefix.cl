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

/* The schedule and constants come from md5_schedule.h, which the host puts in front of this
 * file: MD5STEG_STEPS_0_15 / _16_60 / _61_63 and MD5STEG_K_VALUES. OpenCL's one-instruction
 * XOR needs no H1/H2 split. */
#define H1 H
#define H2 H
__constant uint K[64] = {MD5STEG_K_VALUES};

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
        MD5STEG_STEPS_0_15(BLOCK_STEP)
        MD5STEG_STEPS_16_60(BLOCK_STEP)
        MD5STEG_STEPS_61_63(BLOCK_STEP)
        final_state = state + (uint4)(a, b, c, d);
        a = final_state.s0, b = final_state.s1, c = final_state.s2, d = final_state.s3;
    }
#else
    final_state = state;
    a = start.s0, b = start.s1, c = start.s2, d = start.s3;
#endif
    MD5STEG_STEPS_0_15(PRE_STEP)

    const uint pa = a, pb = b, pc = c, pd = d;
    const uint fast_base = base_word | vary[16 + FAST_WORD];
    const uint j_begin = item == 0 ? first_j : 0u;
    const uint j_end = item == n_items - 1 ? last_j : (uint)FAST_SIZE;
    for (uint j = j_begin; j < j_end; j++) {
        const uint x = fast_base | fast_words[j];
        a = pa, b = pb, c = pc, d = pd;
        MD5STEG_STEPS_0_15(FAST_STEP)
        MD5STEG_STEPS_16_60(FAST_STEP)
        if (((final_state.s0 + a) & mask.s0) != value.s0) continue;
#if FULL
        MD5STEG_STEPS_61_63(FAST_STEP)
        if (((final_state.s1 + b) & mask.s1) != value.s1 ||
            ((final_state.s2 + c) & mask.s2) != value.s2 ||
            ((final_state.s3 + d) & mask.s3) != value.s3)
            continue;
#endif
        atomic_min(best, item * (uint)FAST_SIZE + j);
        break;
    }
}
