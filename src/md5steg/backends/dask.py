# mypy: allow-untyped-calls
"""The Dask backend: scan the coordinator's ranges as tasks on a ``distributed`` cluster.

Every worker thread runs one task at a time; the compiled core releases the
GIL while it scans, so ``dask worker --nthreads N`` (or ``--nworkers``) sets
how many tasks a machine runs in parallel, and ``slots`` is the cluster's
total thread count. The job (content included) is scattered to every worker
once; tasks carry only their range. Dask reruns the tasks of a worker that
dies, and tasks whose job copy was lost are resubmitted, so a lost worker
loses no range. Only this module imports Dask, and only when a search uses
it: a local search never pays for it.

One range is one task of about ``TASK_SECONDS`` (``chunk_size``): far above
Dask's per-task cost, short enough to stop fast. The coordinator keeps two
ranges in flight per worker thread, one running and one queued.

With an OpenCL selector (``--gpu``, ``--opencl-device``), each worker searches
on its own matching devices (``opencl_worker``); only such workers get tasks,
``slots`` is their number and ``chunk_size`` follows their measured rate.
"""

from __future__ import annotations

import contextlib
import queue
import time
import uuid
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from .. import _version
from ..errors import BackendError
from .base import Backend, BackendOption, ChunkResult, SearchJob, scan_chunk

if TYPE_CHECKING:
    import distributed

NO_WORKERS_TIMEOUT = 120.0
"""Seconds a search waits for a worker to (re)join a cluster that lost all of them."""

MAX_RESCATTERS = 10
"""Times a search re-sends its job after the cluster lost every copy, before giving up."""

SIZE_CHECK_INTERVAL = 2.0
"""Seconds between reads of the cluster's thread count (workers join and leave)."""

TASK_SECONDS = 0.25
"""Target duration of one Dask task: far above Dask's ~1 ms per-task cost, short enough to stop."""

CLOSE_TIMEOUT = 5.0


class WorkerMismatchError(RuntimeError):
    """A worker runs another md5steg version than the client (raised on the worker)."""


def _worker_facts() -> dict[str, Any]:
    """What a worker can run: its md5steg version, engines and SIMD paths (runs on each worker)."""
    from .._engine import available_engines, load_engine

    engines = available_engines()
    simd_paths = list(load_engine("cython").simd_paths()) if "cython" in engines else []
    return {"version": _version.__version__, "engines": engines, "simd_paths": simd_paths}


def _scan_on_worker(
    job: SearchJob, start: int, stop: int, client_version: str, opencl_selector: Optional[str] = None
) -> tuple[ChunkResult, float]:
    """Scan one range in a worker thread (``scan_chunk`` keeps one scanner per thread), or on its OpenCL devices."""
    if _version.__version__ != client_version:
        raise WorkerMismatchError(
            f"this worker runs md5steg {_version.__version__}, the client {client_version}"
        )
    if opencl_selector is not None:
        from .opencl_worker import scan_on_devices

        return scan_on_devices(job, opencl_selector, start, stop)
    started = time.perf_counter()
    result = scan_chunk(job, start, stop)
    return result, time.perf_counter() - started


class DaskBackend(Backend):
    """Scans ranges as tasks on the Dask cluster whose scheduler listens at ``scheduler_address``.

    Connects at construction, so an unreachable scheduler or an empty cluster
    is a ``BackendError`` within ``connect_timeout`` seconds. Each range the
    coordinator submits is one task; ``chunk_size`` sizes ranges to about
    TASK_SECONDS of a worker thread's measured speed. ``slots`` follows
    workers joining and leaving during the search.
    """

    name = "dask"
    options = (
        BackendOption(
            flag="--scheduler",
            keyword="scheduler",
            metavar="ADDRESS",
            envvar="MD5STEG_SCHEDULER",
            help="Run the search on a Dask cluster, e.g. tcp://10.0.0.5:8786 (env MD5STEG_SCHEDULER); "
            "with --gpu or --opencl-device, on each worker's OpenCL devices.",
        ),
    )

    def __init__(
        self,
        scheduler_address: str,
        *,
        connect_timeout: float = 10,
        no_workers_timeout: float = NO_WORKERS_TIMEOUT,
        opencl_selector: Optional[str] = None,
    ) -> None:
        self.address = scheduler_address
        self.opencl_selector = opencl_selector
        self._device_workers: dict[str, list[str]] = {}  # worker -> its matching OpenCL devices
        self._device_rate = 0.0
        self._notices: list[str] = []
        self.no_workers_timeout = no_workers_timeout
        self._search_id = uuid.uuid4().hex[:12]
        self._job_future: Optional[distributed.Future[Any]] = None
        self._running: dict[str, tuple[int, int, Any]] = {}  # Dask key -> (start, stop, future)
        self._seconds_per_candidate = 0.0  # a worker thread's, once a task has been timed
        self._last_chunk = 0
        self._task_count = 0
        self._rescatters = 0
        self._done: queue.SimpleQueue[distributed.Future[Any]] = queue.SimpleQueue()
        self._closed = False
        _check_address(scheduler_address)
        import distributed

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

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], jobs: Optional[int]) -> DaskBackend:
        address = settings.get("scheduler")
        if not address:
            raise BackendError("the dask backend needs a scheduler address: --scheduler tcp://HOST:8786")
        selector = settings.get("opencl_device") or ("gpu" if settings.get("gpu") else None)
        return cls(str(address), opencl_selector=selector)

    def devices(self) -> list[str]:
        if self.opencl_selector is not None:
            count = sum(len(devices) for devices in self._device_workers.values())
            workers = len(self._device_workers)
            return [f"Dask cluster at {self.address} ({count} OpenCL device(s) on {workers} worker(s))"]
        return [f"Dask cluster at {self.address} ({self.slots} worker threads)"]

    def notices(self) -> list[str]:
        return list(self._notices)

    def unsupported_reason(self, job: SearchJob) -> Optional[str]:
        if self.opencl_selector is None:
            return None
        from .opencl_plan import unsupported_reason

        return unsupported_reason(job.layout)

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
        if self.opencl_selector is not None:
            self._prepare_devices(job, list(facts))

    def _prepare_devices(self, job: SearchJob, workers: list[str]) -> None:
        """Find the workers with a matching OpenCL device, build the kernel there and time it."""
        from .opencl_worker import device_labels, prepare_devices

        selector = self.opencl_selector
        assert selector is not None
        found: dict[str, Any] = self._client.run(device_labels, selector, workers=workers, on_error="return")
        with_devices = sorted(worker for worker, labels in found.items() if isinstance(labels, list) and labels)
        without = sorted(set(found) - set(with_devices))
        if not with_devices:
            raise BackendError(
                f"no worker of {self.address} has an OpenCL device matching {selector!r}; install "
                f"md5steg[gpu] and an OpenCL driver on the workers, or search on their CPUs without --gpu"
            )
        if without:
            self._notices.append(
                f"{len(without)} worker(s) of {self.address} have no OpenCL device matching "
                f"{selector!r} and get no tasks: {', '.join(without)}"
            )
        futures = [
            self._client.submit(
                prepare_devices, self._job_future, selector, workers=[worker],
                allow_other_workers=False, pure=False, key=f"md5steg-prepare-{self._search_id}-{index}",
            )
            for index, worker in enumerate(with_devices)
        ]
        try:
            prepared: list[tuple[list[str], float]] = self._client.gather(futures)
        except Exception as exc:  # noqa: BLE001 - a worker's OpenCL failure, reported in one line
            raise BackendError(
                f"the OpenCL devices of a worker of {self.address} failed: {_first_line(exc)}"
            ) from None
        self._device_workers = {worker: labels for worker, (labels, _) in zip(with_devices, prepared)}
        self._device_rate = sum(rate for _, rate in prepared)
        self.slots = len(with_devices)

    def expected_rate(self, cpu_rate: float) -> float:
        if self.opencl_selector is not None and self._device_rate:
            return self._device_rate
        return super().expected_rate(cpu_rate)

    def _scatter_job(self) -> None:
        self._job_future = self._client.scatter(self._job, broadcast=True, hash=False)

    def chunk_size(self, cpu_rate: float, fast_size: int) -> int:
        """About TASK_SECONDS of one worker thread, far above Dask's per-task cost.

        Starts from the rate measured in this process and follows the workers'
        own timing once tasks finish, growing at most 8x at a time (one short
        task's timing is noisy).
        """
        if self._seconds_per_candidate:
            rate = 1 / self._seconds_per_candidate
        elif self._device_rate:
            rate = self._device_rate / max(1, self.slots)
        else:
            rate = cpu_rate
        wanted = max(fast_size, int(rate * TASK_SECONDS) // fast_size * fast_size)
        if self._last_chunk:
            wanted = min(wanted, 8 * self._last_chunk)
        self._last_chunk = wanted
        return wanted

    def submit(self, start: int, stop: int) -> None:
        self._task_count += 1
        key = f"md5steg-scan-{self._search_id}-{self._task_count}"
        placement: dict[str, Any] = {}
        if self._device_workers:
            placement = {"workers": sorted(self._device_workers), "allow_other_workers": False}
        future = self._client.submit(
            _scan_on_worker, self._job_future, start, stop, _version.__version__, self.opencl_selector,
            key=key, pure=False, **placement,
        )
        self._running[key] = (start, stop, future)
        future.add_done_callback(self._done.put)

    def wait(self, timeout: float) -> list[ChunkResult]:
        self._follow_cluster_size()
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
                finished.append(future)
            elif future.status == "error":
                raise BackendError(_task_failure(future.exception(), self.address)) from None
            else:
                dropped.append(task[:2])
        if dropped:
            self._relaunch(dropped)
        if not finished:
            return []
        outcomes: list[tuple[ChunkResult, float]] = self._client.gather(finished)
        for result, seconds in outcomes:
            if result.hit < 0 and seconds > 0:
                self._seconds_per_candidate = seconds / max(1, result.tried)
        return [result for result, _ in outcomes]

    def _relaunch(self, ranges: list[tuple[int, int]]) -> None:
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
        for start, stop in ranges:
            self.submit(start, stop)

    def _follow_cluster_size(self) -> None:
        """Keep ``slots`` at the cluster's thread count as workers join and leave (never 0)."""
        now = time.monotonic()
        if self._device_workers:  # slots are the workers with devices, counted in open()
            return
        if now - self._last_size_check >= SIZE_CHECK_INTERVAL:
            self._last_size_check = now
            self.slots = self._count_threads() or self.slots

    def close(self) -> None:
        """Cancel every task of this search on the cluster and disconnect; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            outstanding = [future for _, _, future in self._running.values()]
            if self._job_future is not None:
                outstanding.append(self._job_future)
            if outstanding and self._client.status == "running":
                self._client.cancel(outstanding, force=True)
        finally:
            self._running.clear()
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
    import distributed

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
