"""md5steg.collide: two different byte strings with one MD5, checked with hashlib every time.

A whole collision takes the compiled core about a second (seeds below were picked to finish
fast) and the pure engine on CPython minutes, so the pure engine is held to the compiled one on bounded
work instead: the same PRNG draws attempt by attempt, and the same blocks from the same
state on the attempts that win.
"""

from __future__ import annotations

import hashlib
import multiprocessing

import pytest

import md5steg
from md5steg import _collide_py
from md5steg._engine import available_engines
from md5steg.collision import CollisionError, padded, path_violations, seed_words
from md5steg.content import Content
from md5steg.errors import InvalidTargetError, Md5stegError
from md5steg.target import Target

MD5_IV = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)

# The first published MD5 collision (Wang, Feng, Lai and Yu, 2004), two blocks from MD5's IV.
PUBLISHED_1 = bytes.fromhex(
    "d131dd02c5e6eec4693d9a0698aff95c2fcab58712467eab4004583eb8fb7f89"
    "55ad340609f4b30283e488832571415a085125e8f7cdc99fd91dbdf280373c5b"
    "d8823e3156348f5bae6dacd436c919c6dd53e2b487da03fd02396306d248cda0"
    "e99f33420f577ee8ce54b67080a80d1ec69821bcb6a8839396f9652b6ff72a70"
)
PUBLISHED_2 = bytes.fromhex(
    "d131dd02c5e6eec4693d9a0698aff95c2fcab50712467eab4004583eb8fb7f89"
    "55ad340609f4b30283e4888325f1415a085125e8f7cdc99fd91dbd7280373c5b"
    "d8823e3156348f5bae6dacd436c919c6dd53e23487da03fd02396306d248cda0"
    "e99f33420f577ee8ce54b67080280d1ec69821bcb6a8839396f965ab6ff72a70"
)

# Seed words whose winning attempts are short for the pure engine too (found with the compiled
# core): the PRNG state before block 0's winning attempt and before block 1's, and the pair.
SHORT_SEED_WORDS = (37, 0x9E3779B9)
BLOCK0_WIN_STATE = (45830640, 3567572965)
BLOCK1_WIN_STATE = (3937540705, 2673495233)
SHORT_SEED_PAIR_MD5 = "0fff07026f628e1e0a7cb95d4755bfc8"

# collide() seeds that finish in few attempts for each prefix below (compiled core, jobs=1).
FAST_SEEDS = {
    b"": 8,
    b"a": 11,
    b"x" * 55: 1,
    b"y" * 56: 10,
    b"z" * 63: 0,
    b"w" * 64: 16,
    b"v" * 65: 1,
    bytes(range(256)) + bytes(range(44)): 3,
    b"abc": 16,
}

needs_compiled = pytest.mark.skipif(
    "cython" not in available_engines(), reason="whole collisions in the suite need the compiled core (pure Python: minutes each)"
)


def assert_collision(collision: md5steg.Collision, prefix: bytes) -> None:
    """The spec of every pair: different bytes, one MD5 (hashlib's), both start with the prefix."""
    assert collision.data1 != collision.data2
    assert hashlib.md5(collision.data1).hexdigest() == hashlib.md5(collision.data2).hexdigest() == collision.md5
    assert collision.data1.startswith(prefix) and collision.data2.startswith(prefix)


def test_published_collision_follows_the_wang_yu_path() -> None:
    assert hashlib.md5(PUBLISHED_1).hexdigest() == hashlib.md5(PUBLISHED_2).hexdigest()
    assert path_violations(MD5_IV, PUBLISHED_1, PUBLISHED_2) == []


def test_path_checker_finds_a_pair_that_leaves_the_path() -> None:
    flipped = bytearray(PUBLISHED_2)
    flipped[100] ^= 1  # one bit of block 1's m9 in message 2 only
    problems = path_violations(MD5_IV, PUBLISHED_1, bytes(flipped))
    assert any("m9" in problem for problem in problems)
    assert "the chaining values after block 1 differ: no collision" in problems
    # Swapping the messages keeps the collision but reverses every difference.
    assert path_violations(MD5_IV, PUBLISHED_2, PUBLISHED_1) != []


@needs_compiled
@pytest.mark.parametrize("prefix", list(FAST_SEEDS), ids=lambda prefix: f"{len(prefix)}-bytes")
def test_collide_gives_two_files_with_one_md5_after_the_prefix(prefix: bytes) -> None:
    collision = md5steg.collide(prefix, seed=FAST_SEEDS[prefix], jobs=1, engine="cython")
    assert_collision(collision, prefix)
    head = padded(prefix)
    assert len(head) % 64 == 0 and head == prefix + bytes(len(head) - len(prefix)) and len(head) - len(prefix) < 64
    assert collision.data1[: len(head)] == collision.data2[: len(head)] == head
    assert len(collision.data1) == len(collision.data2) == len(head) + 128
    assert collision.block_offsets == (len(head), len(head) + 64)
    differing = [i for i in range(len(collision.data1)) if collision.data1[i] != collision.data2[i]]
    assert differing and len(head) <= differing[0] and differing[-1] < len(head) + 128
    assert path_violations(Content.from_bytes(head).state, collision.data1[len(head):], collision.data2[len(head):]) == []
    assert (collision.prefix_length, collision.suffix, collision.jobs) == (len(prefix), b"", 1)


@needs_compiled
def test_same_seed_gives_the_same_pair_with_one_job() -> None:
    first = md5steg.collide(b"", seed=8, jobs=1)
    second = md5steg.collide(b"", seed=8, jobs=1)
    assert (first.data1, first.data2, first.attempts) == (second.data1, second.data2, second.attempts)
    assert first.seed == 8


@needs_compiled
def test_parallel_winner_reports_a_seed_that_reproduces_its_pair() -> None:
    raced = md5steg.collide(b"", seed=8, jobs=2)  # seeds 8 and 9
    assert_collision(raced, b"")
    assert raced.seed in (8, 9) and raced.jobs == 2
    again = md5steg.collide(b"", seed=raced.seed, jobs=1)
    assert (again.data1, again.data2) == (raced.data1, raced.data2)


@needs_compiled
def test_parallel_search_stops_the_losers() -> None:
    md5steg.collide(b"", seed=8, jobs=2)  # seed 9 takes several times longer than seed 8
    assert multiprocessing.active_children() == []


@needs_compiled
def test_target_gives_both_files_a_vanity_md5() -> None:
    collision = md5steg.collide(b"abc", target="ab", seed=FAST_SEEDS[b"abc"], jobs=1)
    assert_collision(collision, b"abc")
    assert collision.md5.startswith("ab") and collision.target == "ab"
    assert collision.suffix and collision.data1.endswith(collision.suffix) and collision.data2.endswith(collision.suffix)
    assert collision.suffix.decode("utf-8").isspace()
    blocks_end = collision.block_offsets[1] + 64
    assert hashlib.md5(collision.data1[:blocks_end]).digest() == hashlib.md5(collision.data2[:blocks_end]).digest()


@needs_compiled
def test_pattern_target_is_matched_position_by_position() -> None:
    collision = md5steg.collide(b"", target=Target.from_pattern("_0"), seed=FAST_SEEDS[b""], jobs=1)
    assert_collision(collision, b"")
    assert collision.md5[1] == "0"


@pytest.mark.parametrize(
    "arguments",
    [
        {"seed": -1},
        {"seed": 1 << 64},
        {"seed": "7"},
        {"seed": True},
        {"target": 12},
        {"jobs": 0},
        {"engine": "fortran"},
    ],
    ids=lambda arguments: "-".join(f"{key}={value}" for key, value in arguments.items()),
)
def test_bad_arguments_raise_md5steg_errors(arguments: dict[str, object]) -> None:
    with pytest.raises(Md5stegError):
        md5steg.collide(b"", **arguments)  # type: ignore[arg-type]


def test_a_text_prefix_is_refused() -> None:
    with pytest.raises(CollisionError, match="must be bytes"):
        md5steg.collide("hello")  # type: ignore[arg-type]


def test_an_invalid_target_is_refused_before_searching() -> None:
    with pytest.raises(InvalidTargetError):
        md5steg.collide(b"", target="xyz", engine="python")


def test_seed_words_differ_for_neighbouring_seeds() -> None:
    words = {seed_words(seed) for seed in range(1000)}
    assert len(words) == 1000 and (0, 0) not in words


def test_pure_engine_finds_the_blocks_the_compiled_one_finds_from_the_same_state() -> None:
    block0 = [0] * 16
    assert _collide_py.block0_attempt(MD5_IV, block0, _collide_py._Rng(*BLOCK0_WIN_STATE))
    block1 = [0] * 16
    ihv = _collide_py.compress(MD5_IV, block0)
    assert _collide_py.block1_attempt_after(ihv, block1, _collide_py._Rng(*BLOCK1_WIN_STATE))
    first = _collide_py._words_to_bytes(block0) + _collide_py._words_to_bytes(block1)
    second = _collide_py._words_to_bytes(_collide_py.message2(block0, 0)) + _collide_py._words_to_bytes(
        _collide_py.message2(block1, 1)
    )
    assert first != second and hashlib.md5(first).hexdigest() == hashlib.md5(second).hexdigest()
    assert hashlib.md5(first).hexdigest() == SHORT_SEED_PAIR_MD5
    assert path_violations(MD5_IV, first, second) == []


@needs_compiled
def test_compiled_engine_passes_through_the_states_the_pure_test_starts_from() -> None:
    from md5steg import _core

    search = _core.CollisionSearch(MD5_IV, *SHORT_SEED_WORDS)
    before_win = {}
    while search.stage < 2:
        state, stage = search.rng_state, search.stage
        search.run(1)
        if search.stage != stage:
            before_win[stage] = state
    assert before_win == {0: BLOCK0_WIN_STATE, 1: BLOCK1_WIN_STATE}
    assert hashlib.md5(search.pair()[0]).hexdigest() == SHORT_SEED_PAIR_MD5


@needs_compiled
def test_engines_draw_the_same_numbers_attempt_by_attempt() -> None:
    from md5steg import _core

    compiled = _core.CollisionSearch(MD5_IV, 2, 0x9E3779B9)
    pure = _collide_py.CollisionSearch(MD5_IV, 2, 0x9E3779B9)
    for attempt in range(1, 11):  # these ten attempts are cheap; the fourteenth is not
        compiled.run(1)
        pure.run(1)
        assert (pure.rng_state, pure.stage, pure.attempts) == (compiled.rng_state, compiled.stage, attempt)
