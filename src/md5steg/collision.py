"""Real MD5 collisions: two different files with one MD5, after a prefix both share.

``collide`` pads the prefix with zero bytes to a 64-byte boundary (as fastcoll does), searches
two 128-byte suffixes that collide from the chaining value there (the engine's
``CollisionSearch``: Wang-Yu paths, Stevens' block-1 paths, Klima's tunnels; md5_collide.h),
and optionally searches one invisible suffix for both, so that the shared MD5 also starts with
a chosen prefix: two colliding messages stay colliding when the same bytes follow both.

With ``jobs > 1`` independent searches with seeds ``seed, seed + 1, ...`` run in worker
processes; the first to finish wins and the others are killed at once. The ``seed`` reported
is the winner's, so ``collide(prefix, seed=that, jobs=1)`` gives the same pair again.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import multiprocessing
import os
import secrets
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Optional, Union

from . import _collide_paths
from ._engine import load_engine
from .arguments import check_jobs, check_max_expected_seconds
from .content import Content
from .cores import available_cores
from .errors import BackendError, EngineError, Md5stegError
from .search import find, make_target
from .target import Target

BLOCK = 64
MAX_SEED = (1 << 64) - 1
CHUNK_SECONDS = 0.1
"""How long one call into the engine may run: the bound on how late Ctrl-C and progress come."""
TERMINATE_GRACE_SECONDS = 1.0
PR_SET_PDEATHSIG = 1
"""prctl(2): the signal a Linux process gets when its parent dies."""


class CollisionError(Md5stegError, ValueError):
    """A collision search was asked for something it cannot do (bad seed, target, jobs)."""


@dataclass(frozen=True)
class CollideProgress:
    """Where a collision search stands: ``phase`` is "collision" or then "vanity" (the --prefix)."""

    phase: str
    attempts: int
    seconds: float


CollideProgressCallback = Callable[[CollideProgress], None]


@dataclass(frozen=True)
class Collision:
    """Two different byte strings with one MD5, and what finding them took."""

    data1: bytes
    data2: bytes
    md5: str
    prefix_length: int
    """Bytes of the caller's prefix at the start of both."""
    blocks_offset: int
    """Where the two differing 64-byte blocks start: the prefix rounded up to 64 bytes."""
    suffix: bytes
    """The bytes after the blocks, the same in both (empty unless a target was given)."""
    seconds: float
    attempts: int
    seed: int
    jobs: int
    engine: str
    target: Optional[str] = None

    @property
    def block_offsets(self) -> tuple[int, int]:
        """Offsets of the two 64-byte blocks in which the files differ."""
        return self.blocks_offset, self.blocks_offset + BLOCK


MESSAGE_DIFFERENCE = ({4: 1 << 31, 11: 1 << 15, 14: 1 << 31}, {4: 1 << 31, 11: (1 << 32) - (1 << 15), 14: 1 << 31})
"""M' - M word by word, in block 0 and block 1 (Wang and Yu, 2005)."""
IHV_DIFFERENCE_AFTER_BLOCK0 = (1 << 31, (1 << 31) + (1 << 25), (1 << 31) + (1 << 25), (1 << 31) + (1 << 25))


def _q_difference(t: int, block_index: int) -> int:
    """Q'[t] - Q[t] on the path for steps 23..64: zero, then the sign bit, then +-2^25 more."""
    if t <= 34:
        return 0
    if t <= 61:
        return 1 << 31
    return ((1 << 31) + (1 << 25) if block_index == 0 else (1 << 31) - (1 << 25)) & 0xFFFFFFFF


def path_violations(iv: tuple[int, int, int, int], blocks1: bytes, blocks2: bytes) -> list[str]:
    """Where two 128-byte block pairs leave the Wang-Yu differential path from chaining value ``iv``.

    Checks the message differences, every Q difference of rounds 2..4 (Q23..Q64), the
    chaining difference between the blocks, the round-3/4 bit conditions on message 1 (step
    34's carry-free 2^15, the sign bits of Q46..Q63) and the final collision. Empty when the
    pair follows the path, as every pair ``collide`` returns and the published ones do.
    """
    if len(blocks1) != 2 * BLOCK or len(blocks2) != 2 * BLOCK:
        return ["each message must be exactly two 64-byte blocks"]
    problems: list[str] = []
    ihv1, ihv2 = list(iv), list(iv)
    for block_index in range(2):
        window = slice(block_index * BLOCK, (block_index + 1) * BLOCK)
        words1 = [int.from_bytes(blocks1[window][i : i + 4], "little") for i in range(0, BLOCK, 4)]
        words2 = [int.from_bytes(blocks2[window][i : i + 4], "little") for i in range(0, BLOCK, 4)]
        for index in range(16):
            want = MESSAGE_DIFFERENCE[block_index].get(index, 0)
            if (words2[index] - words1[index]) & 0xFFFFFFFF != want:
                problems.append(f"block {block_index}: m{index}' - m{index} is not {want:#x}")
        q1, sum1 = _collide_paths.step_outputs(ihv1, words1)
        q2, sum2 = _collide_paths.step_outputs(ihv2, words2)
        for t in range(23, 65):
            if (q2[t - 1] - q1[t - 1]) & 0xFFFFFFFF != _q_difference(t, block_index):
                problems.append(f"block {block_index}: Q{t}' - Q{t} is {(q2[t - 1] - q1[t - 1]) & 0xFFFFFFFF:#x}")
        if sum1 ^ sum2 != 1 << 15:
            problems.append(f"block {block_index}: step 34's sums do not differ in bit 15 alone")
        for t in range(48, 64):  # Q[t] and Q[t-2] agree in sign, except Q50/Q48 and Q60/Q58
            differ = (q1[t - 1] ^ q1[t - 3]) >> 31
            if differ != (t in (50, 60)):
                problems.append(f"block {block_index}: the sign bits of Q{t} and Q{t - 2} break the path")
        ihv1, ihv2 = _collide_paths.compress(ihv1, words1), _collide_paths.compress(ihv2, words2)
        if block_index == 0:
            delta = tuple((ihv2[i] - ihv1[i]) & 0xFFFFFFFF for i in range(4))
            if delta != IHV_DIFFERENCE_AFTER_BLOCK0:
                problems.append("block 0 does not leave the chaining difference (2^31, 2^31+2^25, ...)")
    if ihv1 != ihv2:
        problems.append("the chaining values after block 1 differ: no collision")
    return problems


def padded(prefix: bytes) -> bytes:
    """The prefix with zero bytes up to the next 64-byte boundary (none when already on one)."""
    return prefix + bytes(-len(prefix) % BLOCK)


def seed_words(seed: int) -> tuple[int, int]:
    """The PRNG's two 32-bit words for ``seed``: splitmix64, so neighbouring seeds diverge at once."""
    z = (seed + 0x9E3779B97F4A7C15) & MAX_SEED
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MAX_SEED
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MAX_SEED
    z ^= z >> 31
    return z & 0xFFFFFFFF, z >> 32


def _check_seed(seed: Optional[int]) -> int:
    if seed is None:
        return secrets.randbits(63)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise CollisionError(f"the seed must be an integer from 0 to 2**64-1, not {seed!r}")
    return seed


def _check_target(target: Union[str, Target, None]) -> Optional[Target]:
    if target is None or isinstance(target, Target):
        return target
    if not isinstance(target, str):
        raise CollisionError(f"the target must be a hex prefix or a Target, not {type(target).__name__}")
    return make_target(target, None)


def collide(
    prefix: bytes = b"",
    *,
    target: Union[str, Target, None] = None,
    jobs: Optional[int] = None,
    seed: Optional[int] = None,
    engine: Optional[str] = None,
    progress: Optional[CollideProgressCallback] = None,
    max_expected_seconds: Optional[float] = None,
) -> Collision:
    """Two files that start with ``prefix`` and share one MD5 (that also matches ``target``).

    ``target`` is a hex prefix (``"c0ffee"``) or a ``Target`` (``Target.from_pattern``).
    ``jobs`` defaults to every core; ``seed`` (random when None) makes a ``jobs=1`` run
    repeatable. ``max_expected_seconds`` refuses a ``target`` whose suffix search is expected
    to take longer (as ``find`` does). Both results are checked with hashlib before they are returned.
    """
    if not isinstance(prefix, (bytes, bytearray, memoryview)):
        raise CollisionError(f"the prefix must be bytes, not {type(prefix).__name__}")
    check_jobs(jobs)
    if progress is not None and not callable(progress):
        raise CollisionError(f"progress must be a callable taking a CollideProgress, not {type(progress).__name__}")
    check_max_expected_seconds(max_expected_seconds)
    base_seed = _check_seed(seed)
    wanted = _check_target(target)
    engine_module = load_engine(engine)
    workers = jobs or available_cores()
    started = time.perf_counter()
    prefix = bytes(prefix)  # a memoryview's len() counts items, not bytes
    head = padded(prefix)
    iv = Content.from_bytes(head).state

    def report(attempts: int) -> None:
        if progress is not None:
            progress(CollideProgress("collision", attempts, time.perf_counter() - started))

    if workers == 1:
        winner_seed = base_seed
        (tail1, tail2), attempts = _search_here(engine_module, iv, base_seed, report)
    else:
        winner_seed, (tail1, tail2), attempts = _search_in_processes(
            engine_module.ENGINE_NAME, iv, base_seed, workers, report
        )
    violations = path_violations(iv, tail1, tail2)
    if violations:
        raise EngineError(
            f"the {engine_module.ENGINE_NAME} engine returned blocks off the differential path "
            f"(seed {winner_seed}: {violations[0]}); please report this bug"
        )
    data1, data2 = head + tail1, head + tail2
    suffix = b""
    if wanted is not None:
        suffix = _vanity_suffix(data1, wanted, jobs, engine, progress, started, max_expected_seconds)
        data1, data2 = data1 + suffix, data2 + suffix
    digest1, digest2 = hashlib.md5(data1).hexdigest(), hashlib.md5(data2).hexdigest()
    if data1 == data2 or digest1 != digest2 or (wanted is not None and not wanted.matches(digest1)):
        raise EngineError(
            f"the {engine_module.ENGINE_NAME} engine returned blocks that hashlib does not confirm as a "
            f"collision (seed {winner_seed}: {digest1} vs {digest2}); please report this bug"
        )
    return Collision(
        data1=data1,
        data2=data2,
        md5=digest1,
        prefix_length=len(prefix),
        blocks_offset=len(head),
        suffix=suffix,
        seconds=time.perf_counter() - started,
        attempts=attempts,
        seed=winner_seed,
        jobs=workers,
        engine=engine_module.ENGINE_NAME,
        target=wanted.pattern if wanted is not None else None,
    )


def _vanity_suffix(
    data: bytes,
    wanted: Target,
    jobs: Optional[int],
    engine: Optional[str],
    progress: Optional[CollideProgressCallback],
    started: float,
    max_expected_seconds: Optional[float],
) -> bytes:
    """One invisible suffix that gives ``data`` (and so its twin) a digest matching ``wanted``."""

    def forward(found: Any) -> None:
        if progress is not None:
            progress(CollideProgress("vanity", found.candidates, time.perf_counter() - started))

    match = find(
        data,
        pattern=wanted.pattern,
        jobs=jobs,
        engine=engine,
        progress=forward,
        max_expected_seconds=max_expected_seconds,
    )
    return match.suffix


def _search_here(
    engine_module: Any, iv: tuple[int, int, int, int], seed: int, report: Callable[[int], None]
) -> tuple[tuple[bytes, bytes], int]:
    """Runs the search in this process, in short calls, so Ctrl-C and progress get through."""
    search = engine_module.CollisionSearch(iv, *seed_words(seed))
    for _ in _chunks(search):
        report(search.attempts)
    return search.pair(), search.attempts


def _chunks(search: Any) -> Iterator[None]:
    """Calls ``search.run`` with budgets sized to about CHUNK_SECONDS each, until it finishes."""
    budget = 1
    while True:
        begun = time.perf_counter()
        if search.run(budget):
            return
        took = time.perf_counter() - begun
        if took < CHUNK_SECONDS / 2:
            budget = min(budget * 2, 1 << 20)
        elif took > CHUNK_SECONDS * 2 and budget > 1:
            budget //= 2
        yield


def _worker_main(engine_name: str, iv: tuple[int, int, int, int], seed: int, connection: Connection) -> None:
    """One search in a worker: sends ("progress", None, attempts) now and then, then ("done", pair, attempts)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    parent = os.getppid()
    _die_with_parent()
    try:
        search = load_engine(engine_name).CollisionSearch(iv, *seed_words(seed))
        for _ in _chunks(search):
            if os.getppid() != parent:  # the parent died without killing us
                return
            connection.send(("progress", None, search.attempts))
        connection.send(("done", search.pair(), search.attempts))
    except (BrokenPipeError, EOFError, OSError):
        return
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises BackendError
        connection.send(("error", f"{type(exc).__name__}: {exc}", 0))


def _die_with_parent() -> None:
    """On Linux the kernel kills this worker when its parent dies, even by SIGKILL in mid-attempt.

    The ``getppid`` check between chunks is the fallback (other systems, a parent already gone):
    a pure-engine attempt can take minutes.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt while workers run, so the cleanup below always runs.

    A handler the caller installed (the CLI's raises its own KeyboardInterrupt, for exit 143) is kept.
    """

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if callable(signal.getsignal(signal.SIGTERM)):  # the caller's own handler (the CLI's exits 143)
        yield
        return
    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: the caller owns signals
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _search_in_processes(
    engine_name: str, iv: tuple[int, int, int, int], seed: int, workers: int, report: Callable[[int], None]
) -> tuple[int, tuple[bytes, bytes], int]:
    """``workers`` searches with seeds seed, seed+1, ...; the first to finish wins, the rest are killed."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context: Any = multiprocessing.get_context(method)
    processes: list[Any] = []
    connections: dict[Connection, int] = {}
    attempts: dict[Connection, int] = {}
    with _sigterm_as_interrupt():
        masked = hasattr(signal, "pthread_sigmask")
        try:
            if masked:  # a Ctrl-C during the forks reaches only the parent
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            try:
                for index in range(workers):
                    parent_end, child_end = context.Pipe(duplex=False)
                    worker_seed = (seed + index) & MAX_SEED
                    process = context.Process(
                        target=_worker_main, args=(engine_name, iv, worker_seed, child_end), daemon=True
                    )
                    process.start()
                    child_end.close()
                    processes.append(process)
                    connections[parent_end] = worker_seed
                    attempts[parent_end] = 0
            finally:
                if masked:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
            while True:
                for ready in wait(list(connections), CHUNK_SECONDS * 2):
                    connection: Connection = ready  # type: ignore[assignment]
                    try:
                        kind, payload, count = connection.recv()
                    except (EOFError, OSError):
                        raise BackendError("a collision worker died unexpectedly") from None
                    if kind == "error":
                        raise BackendError(f"a collision worker failed: {payload}")
                    attempts[connection] = count
                    if kind == "done":
                        return connections[connection], payload, sum(attempts.values())
                report(sum(attempts.values()))
        finally:
            _stop(processes)
            for connection in connections:
                connection.close()


def _stop(processes: list[Any]) -> None:
    """Kills every worker now (they hold no files and no locks) and reaps it."""
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(TERMINATE_GRACE_SECONDS)
