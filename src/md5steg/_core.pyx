# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled engine: MD5 midstate plus a C-level candidate loop (see md5steg_core.h).

Exposes the same names as ``_engine_py`` so the selector can swap them.
"""

from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

cdef extern from "md5steg_core.h" nogil:
    ctypedef int64_t (*md5steg_fast_scan_fn)(const uint32_t *state, const uint32_t *block,
                                             int word_index, const uint32_t *fast_words,
                                             uint32_t j0, uint32_t j1, const uint32_t *mask,
                                             const uint32_t *value, int words_needed)
    ctypedef struct md5steg_problem:
        uint32_t head_state[4]
        uint64_t head_len
        unsigned char buf[1152]
        int tail_len
        int base
        unsigned char symbols[256][4]
        int symbol_len[256]
        int digits
        int fast_digits
        uint64_t fast_size
        int aligned
        int fast_word_index
        int final_block_offset
        int suffix_len
        const uint32_t *fast_words
        uint32_t mask[4]
        uint32_t value[4]
        int words_needed
        md5steg_fast_scan_fn fast_scan
    const uint32_t *md5steg_iv
    void md5steg_blocks(uint32_t *state, const unsigned char *data, uint64_t nblocks)
    int64_t md5steg_scan(md5steg_problem *p, uint64_t start, uint64_t stop)

cdef extern from "md5steg_simd.h" nogil:
    ctypedef struct md5steg_kernel:
        const char *name
        md5steg_fast_scan_fn scan
    const md5steg_kernel *md5steg_kernels
    int MD5STEG_KERNEL_COUNT
    int MD5STEG_MAX_FAST_WORD
    int md5steg_kernel_runs_here(int index)

ENGINE_NAME = "cython"


cdef dict _detect_kernels():
    """Kernels this build has and this CPU runs: name -> index in the C table, fastest first."""
    cdef int index
    return {
        md5steg_kernels[index].name.decode("ascii"): index
        for index in range(MD5STEG_KERNEL_COUNT)
        if md5steg_kernel_runs_here(index)
    }


_KERNEL_INDEX = _detect_kernels()
IV = (md5steg_iv[0], md5steg_iv[1], md5steg_iv[2], md5steg_iv[3])
"""MD5's initial chaining state."""


def simd_paths():
    """SIMD paths this build has and this CPU can run, fastest first; always ends in "scalar"."""
    return list(_KERNEL_INDEX)


def default_simd_path():
    """The path a search uses when none is forced (``MD5STEG_SIMD`` or ``simd=``)."""
    return simd_paths()[0]


def compress(state, const unsigned char[:] data):
    """The MD5 state (4 words) after compressing ``data``, whole 64-byte blocks, into ``state``."""
    cdef uint32_t words[4]
    cdef uint64_t nblocks = <uint64_t>data.shape[0] // 64
    cdef int i
    if <uint64_t>data.shape[0] % 64:
        raise ValueError(f"compress needs whole 64-byte blocks, not {data.shape[0]} bytes")
    for i in range(4):
        words[i] = state[i]
    if nblocks:
        with nogil:
            md5steg_blocks(words, &data[0], nblocks)
    return (words[0], words[1], words[2], words[3])


cdef class Scanner:
    """Tests nonce indices of one layout against one target, from the content's midstate."""

    cdef md5steg_problem problem
    cdef uint32_t *fast_words
    cdef readonly str simd_path

    def __cinit__(self):
        self.fast_words = NULL

    def __init__(self, content, layout, target, simd=None):
        cdef md5steg_problem *p = &self.problem
        cdef int i
        path = simd or default_simd_path()
        if path not in _KERNEL_INDEX:
            raise ValueError(f"SIMD path {path!r} is not available here; choose from {simd_paths()}")
        self.simd_path = path
        memset(p, 0, sizeof(md5steg_problem))
        if isinstance(content, bytes):  # content already in memory: hash its whole blocks here
            head_len = len(content) - len(content) % 64
            state = compress(IV, memoryview(content)[:head_len])
            tail = content[head_len:]
        else:  # a md5steg.content.Content (duck-typed: importing it here would be a cycle)
            state, tail, head_len = content.state, content.tail, content.head_length
        for i in range(4):
            p.head_state[i] = state[i]
        p.head_len = head_len
        p.tail_len = len(tail)
        memcpy(p.buf, <const unsigned char *>tail, p.tail_len)
        alphabet = layout.alphabet
        p.base = alphabet.base
        for i, symbol in enumerate(alphabet.symbols):
            p.symbol_len[i] = len(symbol)
            memcpy(p.symbols[i], <const unsigned char *>symbol, len(symbol))
        p.digits = layout.digits
        p.fast_digits = layout.fast_digits
        p.fast_size = layout.fast_size
        p.aligned = 1 if layout.aligned else 0
        masks, values = target.mask_and_value()
        for i in range(4):
            p.mask[i] = masks[i]
            p.value[i] = values[i]
        p.words_needed = target.words_needed
        p.fast_scan = md5steg_kernels[<int>_KERNEL_INDEX[path]].scan
        if layout.aligned:
            width = alphabet.symbol_width
            p.suffix_len = layout.digits * width
            # Relative to buf (tail, suffix, padding): small even when the content is huge.
            p.final_block_offset = layout.final_block_offset - head_len
            p.fast_word_index = layout.fast_word_index
            if not 0 <= p.fast_word_index <= MD5STEG_MAX_FAST_WORD:  # aligned layouts give 0..12
                raise ValueError(f"fast word {p.fast_word_index} is outside 0..{MD5STEG_MAX_FAST_WORD}")
            self.fast_words = <uint32_t *>malloc(layout.fast_size * sizeof(uint32_t))
            if self.fast_words == NULL:
                raise MemoryError()
            fast_shift = 8 * (4 - layout.fast_digits * width)
            for i, word_bytes in enumerate(layout.fast_suffixes()):
                self.fast_words[i] = <uint32_t>(int.from_bytes(word_bytes, "little") << fast_shift)
            p.fast_words = self.fast_words

    def __dealloc__(self):
        if self.fast_words != NULL:
            free(self.fast_words)

    def scan(self, uint64_t start, uint64_t stop):
        """Lowest matching nonce index in [start, stop) (or -1), and the candidates that covers."""
        cdef int64_t hit
        if stop <= start:
            return -1, 0
        with nogil:
            hit = md5steg_scan(&self.problem, start, stop)
        if hit < 0:
            return -1, stop - start
        return hit, hit - start + 1


# --- MD5 collisions (md5_collide.h); kept apart from the prefix search above. ---

cdef extern from "md5_collide.h" nogil:
    ctypedef struct md5c_rng:
        uint32_t x
        uint32_t y
    ctypedef struct md5c_search:
        md5c_rng rng
        int stage
        uint64_t attempts
        uint32_t block0[16]
        uint32_t block1[16]
    void md5c_search_init(md5c_search *s, const uint32_t *iv, uint32_t seed_x, uint32_t seed_y)
    int md5c_search_run(md5c_search *s, uint64_t budget)
    void md5c_message2(const uint32_t *m, int block_index, uint32_t *out)


cdef bytes _words_to_bytes(const uint32_t *words, int count):
    return b"".join(int(words[i]).to_bytes(4, "little") for i in range(count))


cdef class CollisionSearch:
    """A resumable search for two 128-byte suffixes that collide from chaining value ``iv``.

    Attempts are atomic, so ``run`` may be called with any budget and the pair depends
    only on ``iv`` and the seed: the pure engine's ``CollisionSearch`` finds the same one.
    """

    cdef md5c_search search

    def __init__(self, iv, uint32_t seed_x, uint32_t seed_y):
        cdef uint32_t words[4]
        for index in range(4):
            words[index] = iv[index]
        md5c_search_init(&self.search, words, seed_x, seed_y)

    def run(self, uint64_t budget):
        """Up to ``budget`` more attempts, without the GIL; True once the pair is found."""
        cdef int done
        with nogil:
            done = md5c_search_run(&self.search, budget)
        return bool(done)

    @property
    def attempts(self):
        """Attempts made so far (both blocks)."""
        return self.search.attempts

    @property
    def stage(self):
        """0 while searching block 0, 1 while searching block 1, 2 when done."""
        return self.search.stage

    @property
    def rng_state(self):
        """The PRNG's two words now (for checking the engines step by step)."""
        return self.search.rng.x, self.search.rng.y

    def pair(self):
        """The two 128-byte suffixes (message 1's blocks, message 2's blocks), once found."""
        cdef uint32_t other[16]
        if self.search.stage != 2:
            raise ValueError("the collision search has not finished")
        first = _words_to_bytes(self.search.block0, 16) + _words_to_bytes(self.search.block1, 16)
        md5c_message2(self.search.block0, 0, other)
        second = _words_to_bytes(other, 16)
        md5c_message2(self.search.block1, 1, other)
        return first, second + _words_to_bytes(other, 16)
