# mypy: allow-untyped-calls
"""The Dask backend: scan the coordinator's chunks on a ``distributed`` cluster.

Every worker thread runs one task at a time; the compiled core releases the
GIL while it scans, so ``dask worker --nthreads N`` (or ``--nworkers``) sets
how many tasks a machine runs in parallel, and ``slots`` is the cluster's
total thread count. The job (content included) is scattered to every worker
once; tasks carry only their range. Dask reruns the tasks of a worker that
dies, so a lost worker loses no range. Only this module imports Dask: a
local search never pays for it.

A task covers several of the coordinator's chunks (about ``TASK_SECONDS`` of
work), and the backend keeps ``TASKS_PER_THREAD`` tasks per worker thread
running ahead of the coordinator: the coordinator's ~30 ms chunks are too
short for Dask's per-task cost and round trips, and its two chunks in flight
per slot too few to hide them. A chunk's result is cut out of its task's
result exactly (a task returns the lowest hit of its range, so a chunk below
the hit has none, the chunk holding it has it, and a chunk past it is never
reported), so the coordinator's lowest-hit-wins logic stays exact.
"""

from __future__ import annotations

import bisect
import contextlib
import queue
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, Optional

import distributed

from . import _version
from .backend import Backend, ChunkResult, SearchJob, scan_chunk
from .errors import BackendError

NO_WORKERS_TIMEOUT = 120.0
"""Seconds a search waits for a worker to (re)join a cluster that lost all of them."""

MAX_RESCATTERS = 10
"""Times a search re-sends its job after the cluster lost every copy, before giving up."""

SIZE_CHECK_INTERVAL = 2.0
"""Seconds between reads of the cluster's thread count (workers join and leave)."""

TASK_SECONDS = 0.25
"""Target duration of one Dask task: far above Dask's ~1 ms per-task cost, short enough to stop."""

TASKS_PER_THREAD = 2
"""Tasks not yet used up by the coordinator, per worker thread: one running, one queued."""

CLOSE_TIMEOUT = 5.0



class WorkerMismatchError(RuntimeError):
    """A worker runs another md5steg version than the client (raised on the worker)."""


def _worker_facts() -> dict[str, Any]:
    """What a worker can run: its md5steg version, engines and SIMD paths (runs on each worker)."""
    from ._engine import available_engines, load_engine

    engines = available_engines()
    simd_paths = list(load_engine("cython").simd_paths()) if "cython" in engines else []
    return {"version": _version.__version__, "engines": engines, "simd_paths": simd_paths}


def _scan_on_worker(
    job: SearchJob, start: int, stop: int, client_version: str
) -> tuple[ChunkResult, float]:
    """Scan one range in a worker thread (``scan_chunk`` keeps one scanner per thread)."""
    if _version.__version__ != client_version:
        raise WorkerMismatchError(
            f"this worker runs md5steg {_version.__version__}, the client {client_version}"
        )
    started = time.perf_counter()
    result = scan_chunk(job, start, stop)
    return result, time.perf_counter() - started


@dataclass
class _Task:
    """One Dask task scanning [start, stop); ``hit`` is known once it is done."""

    start: int
    stop: int
    future: Any = None
    done: bool = False
    hit: int = -1


class DaskBackend(Backend):
    """Scans chunks as tasks on the Dask cluster whose scheduler listens at ``scheduler_address``.

    Connects at construction (the coordinator needs ``slots`` before
    ``open``), so an unreachable scheduler or an empty cluster is a
    ``BackendError`` within ``connect_timeout`` seconds. ``slots`` follows
    workers joining and leaving during the search.
    """

    def __init__(
        self,
        scheduler_address: str,
        *,
        connect_timeout: float = 10,
        no_workers_timeout: float = NO_WORKERS_TIMEOUT,
    ) -> None:
        self.address = scheduler_address
        self.no_workers_timeout = no_workers_timeout
        self._search_id = uuid.uuid4().hex[:12]
        self._job: Optional[SearchJob] = None
        self._job_future: Optional[distributed.Future[Any]] = None
        self._tasks: list[_Task] = []  # contiguous and in order: each starts where the last stops
        self._task_starts: list[int] = []
        self._running: dict[str, _Task] = {}  # by Dask key, until their result is in
        self._chunks: dict[
            int, int
        ] = {}  # the coordinator's chunks not reported yet: start -> stop
        self._ready: list[ChunkResult] = []
        self._submitted_until = 0
        self._chunk_size = 0
        self._chunks_per_task = 1  # until a task's duration is measured
        self._lowest_hit = -1
        self._task_count = 0
        self._rescatters = 0
        self._done: queue.SimpleQueue[distributed.Future[Any]] = queue.SimpleQueue()
        self._closed = False
        _check_address(scheduler_address)
        try:
            self._client = distributed.Client(
                scheduler_address, timeout=connect_timeout, set_as_default=False, name="md5steg"
            )
        except OSError as exc:  # refused or timed out
            raise BackendError(
                f"cannot reach the Dask scheduler at {scheduler_address} within "
                f"{connect_timeout:g} s ({_first_line(exc)}); check that `dask scheduler` "
                f"runs there and that its port is open"
            ) from None
        # find() may return before open()/close() (a hit during calibration): never leak the client.
        self._finalizer = weakref.finalize(self, _close_client, self._client)
        try:
            self._client.wait_for_workers(1, timeout=connect_timeout)
        except TimeoutError:
            self.close()
            raise BackendError(
                f"the Dask scheduler at {scheduler_address} has no workers after "
                f"{connect_timeout:g} s; start some with `dask worker {scheduler_address}`"
            ) from None
        self.slots = self._count_threads() or 1
        self._last_size_check = time.monotonic()

    def _count_threads(self) -> int:
        """Worker threads on the cluster now (0 when it has no worker)."""
        return sum(self._client.nthreads().values())

    def open(self, job: SearchJob) -> None:
        """Check every worker can run ``job`` like this client, then put the job on each of them."""
        try:
            answers: dict[str, Any] = self._client.run(_worker_facts, on_error="return")
        except OSError as exc:
            raise BackendError(
                f"cannot ask the workers of {self.address} what they run ({_first_line(exc)}); "
                f"check the connection to the scheduler"
            ) from None
        facts = {}
        for worker, answer in answers.items():
            if isinstance(answer, OSError):  # the worker left while answering; Dask replaces it
                continue
            if isinstance(answer, BaseException):
                raise BackendError(
                    f"cannot run md5steg on worker {worker} "
                    f"({type(answer).__name__}: {_first_line(answer)}); "
                    f"install md5steg[dask] {_version.__version__} on every worker"
                )
            facts[worker] = answer
        _check_workers(facts, job)
        self._job = job
        self._scatter_job()

    def _scatter_job(self) -> None:
        self._job_future = self._client.scatter(self._job, broadcast=True, hash=False)

    def submit(self, start: int, stop: int) -> None:
        """Take the chunk [start, stop): covered by a task already, or by new ones from here."""
        if not self._chunk_size:
            self._chunk_size = stop - start
        self._chunks[start] = stop
        self._submitted_until = max(self._submitted_until, stop)
        frontier = self._tasks[-1].stop if self._tasks else start
        if not self._tasks or start > frontier:
            # Only the first chunk starts a coverage: the coordinator leaves no gap.
            frontier = start
        while frontier < stop:
            frontier = self._add_task(frontier, stop)
        self._run_ahead()
        self._resolve([start])

    def _add_task(self, start: int, at_least_until: int) -> int:
        """Start a task at ``start`` of the current size (reaching ``at_least_until``); its stop."""
        assert self._job is not None
        stop = max(at_least_until, start + self._chunks_per_task * self._chunk_size)
        stop = min(stop, self._job.layout.capacity)
        if self._tasks and self._tasks[-1].stop != start:  # a gap: coverage restarts here
            self._tasks, self._task_starts = [], []
        task = _Task(start, stop)
        self._tasks.append(task)
        self._task_starts.append(start)
        self._launch(task)
        return stop

    def _launch(self, task: _Task) -> None:
        self._task_count += 1
        key = f"md5steg-scan-{self._search_id}-{self._task_count}"
        task.future = self._client.submit(
            _scan_on_worker,
            self._job_future,
            task.start,
            task.stop,
            _version.__version__,
            key=key,
            pure=False,
        )
        self._running[key] = task
        task.future.add_done_callback(self._done.put)

    def _run_ahead(self) -> None:
        """Keep TASKS_PER_THREAD tasks per thread that the coordinator has not used up."""
        assert self._job is not None
        ahead = sum(1 for task in self._tasks if task.stop > self._submitted_until)
        while ahead < TASKS_PER_THREAD * self.slots and self._tasks:
            frontier = self._tasks[-1].stop
            if frontier >= self._job.layout.capacity or 0 <= self._lowest_hit < frontier:
                break  # nothing left to scan, or nothing past a known hit matters
            self._add_task(frontier, frontier)
            ahead += 1

    def _resolve(self, starts: list[int]) -> None:
        """Move the chunks at ``starts`` whose tasks are done to the results ``wait`` returns."""
        for start in starts:
            stop = self._chunks.get(start)
            if stop is None:
                continue
            result = self._chunk_result(start, stop)
            if result is not None:
                del self._chunks[start]
                self._ready.append(result)

    def _chunk_result(self, start: int, stop: int) -> Optional[ChunkResult]:
        """The chunk's result from the tasks covering it, once they are done; None until then.

        A task reports the lowest hit of its range: the part of it below the hit
        was scanned without a match, the part past the hit was not scanned at all.
        """
        index = bisect.bisect_right(self._task_starts, start) - 1
        position = start
        while position < stop:
            if index < 0 or index >= len(self._tasks) or self._tasks[index].stop <= position:
                return None  # not covered (cannot happen with the coordinator's ranges)
            task = self._tasks[index]
            if not task.done:
                return None
            if task.hit >= 0:
                if task.hit < position:
                    return None  # past the task's hit: never scanned, and never needed
                if task.hit < stop:
                    return ChunkResult(start, stop, task.hit, task.hit - start + 1)
            position = task.stop
            index += 1
        return ChunkResult(start, stop, -1, stop - start)

    def wait(self, timeout: float) -> list[ChunkResult]:
        self._follow_cluster_size()
        if self._ready:
            timeout = 0
        done = []
        try:
            done.append(self._done.get(timeout=timeout) if timeout > 0 else self._done.get_nowait())
            while True:
                done.append(self._done.get_nowait())
        except queue.Empty:
            pass
        finished, dropped = [], []
        for future in done:
            task = self._running.pop(str(future.key), None)
            if task is None:
                continue
            if future.status == "finished":
                finished.append((task, future))
            elif future.status == "error":
                raise BackendError(_task_failure(future.exception(), self.address)) from None
            else:
                dropped.append(task)
        if dropped:
            self._relaunch(dropped)
        if finished:
            outcomes: list[tuple[ChunkResult, float]] = self._client.gather(
                [future for _, future in finished]
            )
            for (task, _), (result, seconds) in zip(finished, outcomes):
                self._task_done(task, result, seconds)
            self._prune()
            self._run_ahead()
            self._resolve(list(self._chunks))
        ready, self._ready = self._ready, []
        return ready

    def _task_done(self, task: _Task, result: ChunkResult, seconds: float) -> None:
        task.done, task.hit = True, result.hit
        task.future = None  # releases its result on the cluster
        if result.hit >= 0 and (self._lowest_hit < 0 or result.hit < self._lowest_hit):
            self._lowest_hit = result.hit
        if result.hit < 0 and seconds > 0 and self._chunk_size:
            # Size later tasks to about TASK_SECONDS of work, whatever the chunks last; grow at
            # most 8x per measurement, as one short task's timing is noisy.
            chunk_seconds = seconds * self._chunk_size / (result.stop - result.start)
            wanted = round(TASK_SECONDS / chunk_seconds)
            self._chunks_per_task = max(1, min(wanted, 8 * self._chunks_per_task))

    def _prune(self) -> None:
        """Forget done tasks the coordinator has used up (they only grow the lists)."""
        lowest_pending = min(self._chunks, default=self._submitted_until)
        keep = 0
        while (
            keep < len(self._tasks) - 1
            and self._tasks[keep].done
            and self._tasks[keep].stop <= min(lowest_pending, self._submitted_until)
        ):
            keep += 1
        if keep:
            del self._tasks[:keep], self._task_starts[:keep]

    def _relaunch(self, tasks: list[_Task]) -> None:
        """Run again tasks Dask dropped (the job's last copy died, or the scheduler restarted)."""
        if self._client.status != "running":
            raise BackendError(
                f"lost the connection to the Dask scheduler at {self.address}; "
                f"check it and run the search again"
            )
        if self._job_future is None or self._job_future.status != "finished":
            self._rescatters += 1
            if self._rescatters > MAX_RESCATTERS:
                raise BackendError(
                    f"the Dask cluster at {self.address} lost every worker {MAX_RESCATTERS} "
                    f"times during this search; check the workers' logs and memory"
                )
            try:
                self._client.wait_for_workers(1, timeout=self.no_workers_timeout)
            except TimeoutError:
                raise BackendError(
                    f"the Dask cluster at {self.address} has had no worker for "
                    f"{self.no_workers_timeout:g} s; start some with `dask worker {self.address}`"
                ) from None
            self._scatter_job()
        for task in tasks:
            self._launch(task)

    def _follow_cluster_size(self) -> None:
        """Keep ``slots`` at the cluster's thread count as workers join and leave (never 0)."""
        now = time.monotonic()
        if now - self._last_size_check >= SIZE_CHECK_INTERVAL:
            self._last_size_check = now
            self.slots = self._count_threads() or self.slots

    def close(self) -> None:
        """Cancel every task of this search on the cluster and disconnect; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            outstanding = [task.future for task in self._running.values()]
            if self._job_future is not None:
                outstanding.append(self._job_future)
            if outstanding and self._client.status == "running":
                self._client.cancel(outstanding, force=True)
        finally:
            self._running.clear()
            self._tasks.clear()
            self._task_starts.clear()
            self._job_future = None
            self._finalizer()


def _check_address(address: str) -> None:
    """Refuse a malformed address at once (Dask would retry it until the timeout)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)
        else:
            get_backend(scheme)
    except ValueError as exc:
        raise BackendError(
            f"{address!r} is not a Dask scheduler address ({exc}); "
            f"give one like tcp://10.0.0.5:8786"
        ) from None


def _close_client(client: distributed.Client) -> None:
    with contextlib.suppress(OSError, RuntimeError):  # the scheduler is gone: nothing to release
        client.close(timeout=CLOSE_TIMEOUT)


def _check_workers(facts: dict[str, dict[str, Any]], job: SearchJob) -> None:
    """Raise a ``BackendError`` naming every worker that would scan ``job`` differently."""
    expected = _version.__version__
    wrong_version = {
        worker: fact["version"] for worker, fact in facts.items() if fact["version"] != expected
    }
    if wrong_version:
        listed = ", ".join(
            f"{worker} has {version}" for worker, version in sorted(wrong_version.items())
        )
        raise BackendError(
            f"md5steg versions differ: this client has {expected}, but {listed}; "
            f"install md5steg {expected} on every worker"
        )
    no_engine = sorted(
        worker for worker, fact in facts.items() if job.engine not in fact["engines"]
    )
    if no_engine:
        hint = (
            "install md5steg from a wheel or with a C compiler there, or use --engine python"
            if job.engine == "cython"
            else "reinstall md5steg there"
        )
        raise BackendError(
            f"the {job.engine} engine is missing on worker(s) {', '.join(no_engine)}; {hint}"
        )
    if job.engine == "cython":
        no_simd = sorted(
            worker for worker, fact in facts.items() if job.simd not in fact["simd_paths"]
        )
        if no_simd:
            raise BackendError(
                f"SIMD path {job.simd!r} is not available on worker(s) {', '.join(no_simd)}; "
                f"choose one every worker has with --simd (e.g. --simd scalar)"
            )


def _task_failure(exc: Optional[BaseException], address: str) -> str:
    """The one-line message for a scan task that raised on a worker."""
    if isinstance(exc, WorkerMismatchError):
        return (
            f"a worker of {address} joined with another md5steg version ({exc}); "
            f"install one version everywhere"
        )
    if isinstance(exc, distributed.KilledWorker):
        return (
            f"a search task kept killing the workers of {address} ({_first_line(exc)}); "
            f"check their memory and logs"
        )
    return (
        f"a search task failed on the Dask cluster at {address}: "
        f"{type(exc).__name__}: {_first_line(exc)}"
    )


def _first_line(exc: Optional[BaseException]) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
