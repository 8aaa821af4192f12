/*
 * The MD5 step schedule and constants of RFC 1321, written once for every kernel: the C core
 * (md5steg_core.h) includes this file, and the OpenCL host puts it in front of
 * backends/md5_prefix.cl. Plain preprocessor, so both languages read it; a test checks it
 * against RFC 1321's formula and against the pure engine's tables (_md5py).
 *
 * STEP(i, function, a, b, c, d, message word, rotation), where a is the variable the step
 * updates. Round 3 alternates H1/H2 so that kernels without a three-input XOR can reuse
 * x ^ y of one step as y ^ z of the next (kernels that have one define both as H).
 */
#ifndef MD5STEG_SCHEDULE_H
#define MD5STEG_SCHEDULE_H

#define MD5STEG_K_VALUES \
    0xd76aa478u, 0xe8c7b756u, 0x242070dbu, 0xc1bdceeeu, 0xf57c0fafu, 0x4787c62au, 0xa8304613u, \
    0xfd469501u, 0x698098d8u, 0x8b44f7afu, 0xffff5bb1u, 0x895cd7beu, 0x6b901122u, 0xfd987193u, \
    0xa679438eu, 0x49b40821u, 0xf61e2562u, 0xc040b340u, 0x265e5a51u, 0xe9b6c7aau, 0xd62f105du, \
    0x02441453u, 0xd8a1e681u, 0xe7d3fbc8u, 0x21e1cde6u, 0xc33707d6u, 0xf4d50d87u, 0x455a14edu, \
    0xa9e3e905u, 0xfcefa3f8u, 0x676f02d9u, 0x8d2a4c8au, 0xfffa3942u, 0x8771f681u, 0x6d9d6122u, \
    0xfde5380cu, 0xa4beea44u, 0x4bdecfa9u, 0xf6bb4b60u, 0xbebfbc70u, 0x289b7ec6u, 0xeaa127fau, \
    0xd4ef3085u, 0x04881d05u, 0xd9d4d039u, 0xe6db99e5u, 0x1fa27cf8u, 0xc4ac5665u, 0xf4292244u, \
    0x432aff97u, 0xab9423a7u, 0xfc93a039u, 0x655b59c3u, 0x8f0ccc92u, 0xffeff47du, 0x85845dd1u, \
    0x6fa87e4fu, 0xfe2ce6e0u, 0xa3014314u, 0x4e0811a1u, 0xf7537e82u, 0xbd3af235u, 0x2ad7d2bbu, \
    0xeb86d391u

#define MD5STEG_STEPS_0_15(STEP) \
    STEP(0, F, a, b, c, d, 0, 7) STEP(1, F, d, a, b, c, 1, 12) STEP(2, F, c, d, a, b, 2, 17) STEP(3, F, b, c, d, a, 3, 22) \
    STEP(4, F, a, b, c, d, 4, 7) STEP(5, F, d, a, b, c, 5, 12) STEP(6, F, c, d, a, b, 6, 17) STEP(7, F, b, c, d, a, 7, 22) \
    STEP(8, F, a, b, c, d, 8, 7) STEP(9, F, d, a, b, c, 9, 12) STEP(10, F, c, d, a, b, 10, 17) STEP(11, F, b, c, d, a, 11, 22) \
    STEP(12, F, a, b, c, d, 12, 7) STEP(13, F, d, a, b, c, 13, 12) STEP(14, F, c, d, a, b, 14, 17) STEP(15, F, b, c, d, a, 15, 22)
#define MD5STEG_STEPS_16_60(STEP) \
    STEP(16, G, a, b, c, d, 1, 5) STEP(17, G, d, a, b, c, 6, 9) STEP(18, G, c, d, a, b, 11, 14) STEP(19, G, b, c, d, a, 0, 20) \
    STEP(20, G, a, b, c, d, 5, 5) STEP(21, G, d, a, b, c, 10, 9) STEP(22, G, c, d, a, b, 15, 14) STEP(23, G, b, c, d, a, 4, 20) \
    STEP(24, G, a, b, c, d, 9, 5) STEP(25, G, d, a, b, c, 14, 9) STEP(26, G, c, d, a, b, 3, 14) STEP(27, G, b, c, d, a, 8, 20) \
    STEP(28, G, a, b, c, d, 13, 5) STEP(29, G, d, a, b, c, 2, 9) STEP(30, G, c, d, a, b, 7, 14) STEP(31, G, b, c, d, a, 12, 20) \
    STEP(32, H1, a, b, c, d, 5, 4) STEP(33, H2, d, a, b, c, 8, 11) STEP(34, H1, c, d, a, b, 11, 16) STEP(35, H2, b, c, d, a, 14, 23) \
    STEP(36, H1, a, b, c, d, 1, 4) STEP(37, H2, d, a, b, c, 4, 11) STEP(38, H1, c, d, a, b, 7, 16) STEP(39, H2, b, c, d, a, 10, 23) \
    STEP(40, H1, a, b, c, d, 13, 4) STEP(41, H2, d, a, b, c, 0, 11) STEP(42, H1, c, d, a, b, 3, 16) STEP(43, H2, b, c, d, a, 6, 23) \
    STEP(44, H1, a, b, c, d, 9, 4) STEP(45, H2, d, a, b, c, 12, 11) STEP(46, H1, c, d, a, b, 15, 16) STEP(47, H2, b, c, d, a, 2, 23) \
    STEP(48, I, a, b, c, d, 0, 6) STEP(49, I, d, a, b, c, 7, 10) STEP(50, I, c, d, a, b, 14, 15) STEP(51, I, b, c, d, a, 5, 21) \
    STEP(52, I, a, b, c, d, 12, 6) STEP(53, I, d, a, b, c, 3, 10) STEP(54, I, c, d, a, b, 10, 15) STEP(55, I, b, c, d, a, 1, 21) \
    STEP(56, I, a, b, c, d, 8, 6) STEP(57, I, d, a, b, c, 15, 10) STEP(58, I, c, d, a, b, 6, 15) STEP(59, I, b, c, d, a, 13, 21) \
    STEP(60, I, a, b, c, d, 4, 6)
#define MD5STEG_STEPS_0_60(STEP) MD5STEG_STEPS_0_15(STEP) MD5STEG_STEPS_16_60(STEP)
#define MD5STEG_STEPS_61_63(STEP) \
    STEP(61, I, d, a, b, c, 11, 10) STEP(62, I, c, d, a, b, 2, 15) STEP(63, I, b, c, d, a, 9, 21)

#endif /* MD5STEG_SCHEDULE_H */
