"""Runs one search: calibrate in this process, then hand ranges to a backend in order, resumably.

``search.find`` prepares the job and checks the answer; this module finds it.
Ranges go out in increasing nonce order, and once a hit is known only ranges
below it still matter. Progress is the set of ranges searched without a hit
(``resume.Coverage``), kept in a resume record while the search runs, so a
rerun skips them and still returns the lowest hit. With no backend asked for,
a search the CPU would need more than GPU_STARTUP_SECONDS for runs on an
OpenCL GPU when one is present (never on a CPU OpenCL device).
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from ._engine import Scanner
from .backends import Backend, SearchJob
from .backends.pool import ProcessPoolBackend
from .cores import available_cores
from .durations import format_duration
from .errors import TooMuchWorkError
from .resume import RECORD_INTERVAL, Coverage, Record, RecordError

CALIBRATION_SECONDS = 0.02
"""In-process scanning before any backend starts: tiny searches end here, the rest get a rate."""

PROGRESS_INTERVAL = 0.1
CHUNKS_IN_FLIGHT_PER_SLOT = 2

GPU_STARTUP_SECONDS = 0.5
"""What starting the OpenCL backend costs (import, context, cached kernel): a search the CPU
would finish sooner than this stays on the CPU."""


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running search, for progress bars."""

    candidates: int
    seconds: float
    expected_candidates: int
    resumed_candidates: int = 0
    """Candidates an interrupted earlier run of this search had already tried (not in ``candidates``)."""

    @property
    def rate(self) -> float:
        return self.candidates / self.seconds if self.seconds > 0 else 0.0

    @property
    def probability(self) -> float:
        """Chance that a match exists among the candidates tried so far (earlier runs included)."""
        return -math.expm1(-(self.candidates + self.resumed_candidates) / self.expected_candidates)

    @property
    def expected_seconds_left(self) -> float:
        """Expected time to a hit from now; constant, because each candidate is a fresh trial."""
        return self.expected_candidates / self.rate if self.rate else math.inf


ProgressCallback = Callable[[Progress], None]


class SearchRun:
    """One search's state: calibrate in this process, then hand ranges to a backend in order.

    ``coverage`` holds what is known to hold no match and the lowest hit found
    so far (``coverage.hit``), whether this run or a recorded earlier one
    found it; the answer is certain once nothing below that hit is unsearched.
    """

    def __init__(
        self,
        job: SearchJob,
        scanner: Scanner,
        progress: Optional[ProgressCallback],
        started: float,
        record: Optional[Record] = None,
    ) -> None:
        self.job = job
        self.scanner = scanner
        self.progress = progress
        self.started = started
        self.candidates = 0
        self.resumed_candidates = 0
        self.coverage = Coverage(job.layout.capacity)
        self.record = record  # None once writing it failed
        self._record_file = record
        self.record_used = False  # read or written: removed when the search ends
        self._recorded = (0, -1)  # (searched, hit) as last written or read
        self.backend: Optional[Backend] = None
        self.scanning = False
        """True once the search proper began (after calibration and the backend's start): an error
        from then on interrupted a search, one before refused it, and a refusal keeps no record."""
        self.notices: list[str] = []
        self._fallback: Optional[Backend] = None

    def report(self) -> None:
        record = self.record
        if record is not None and self.record_used and time.monotonic() - record.last_write >= RECORD_INTERVAL:
            self.save_progress()
        if self.progress is not None:
            self.progress(
                Progress(
                    self.candidates,
                    time.perf_counter() - self.started,
                    self.job.target.expected_candidates,
                    self.resumed_candidates,
                )
            )

    def save_progress(self) -> None:
        """Write the resume record if this run searched more than it says (failures: one notice)."""
        record = self.record
        if record is None or not self.record_used:
            return
        state = (self.coverage.searched, self.coverage.hit)
        if state == self._recorded:
            record.last_write = time.monotonic()
            return
        try:
            record.save(self.coverage)
        except OSError as exc:
            self.notices.append(
                f"cannot keep a resume record in {record.directory} ({exc.strerror or exc}); "
                f"an interrupted search will start over"
            )
            self.record = None
            return
        self._recorded = state

    def forget_record(self) -> None:
        """The search ended: remove its record (one an earlier run left, or this run's)."""
        if self._record_file is not None and self.record_used:
            self._record_file.remove()

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()

    @property
    def limit(self) -> int:
        """Nonces at or above this need no search: the lowest hit known, else the capacity."""
        hit = self.coverage.hit
        return hit if hit >= 0 else self.job.layout.capacity

    def finished(self) -> bool:
        return self.coverage.next_range(0, 1, self.limit) is None

    def run(
        self,
        chosen: Optional[Backend],
        jobs: Optional[int],
        max_expected_seconds: Optional[float],
        auto_gpu: bool = False,
    ) -> int:
        """The lowest matching nonce index, or -1 when the whole nonce space has none."""
        # An earlier run's record first, so that calibration starts where it stopped; short
        # searches end in calibration, without starting any backend or writing a record.
        self._resume()
        rate = self._calibrate()
        self.report()
        if self.finished():
            return self.coverage.hit
        if auto_gpu:
            chosen = self._default_gpu(rate, jobs)
        backend = self._pick_backend(chosen, jobs)
        fast_size = self.job.layout.fast_size
        if backend is not None:
            backend.open(self.job)
            self.notices.extend(backend.notices())
            total_rate = backend.expected_rate(rate)
        else:
            total_rate = rate
        if max_expected_seconds is not None:
            self._refuse_hopeless(total_rate, max_expected_seconds, backend)
        self.scanning = True
        if backend is None:
            return self._scan_here(ProcessPoolBackend(1).chunk_size(rate, fast_size))
        return self._run_backend(backend, lambda: backend.chunk_size(rate, fast_size))

    def _resume(self) -> None:
        """Merge an earlier run's record into ``coverage`` (a record that cannot be trusted: a notice)."""
        record = self.record
        if record is None:
            return
        self.record_used = True
        try:
            loaded = record.load()
        except RecordError as exc:
            self.notices.append(f"ignored the resume record {record.path}: {exc}; searching from the start")
            loaded = None
        if loaded is not None:
            earlier, hit = loaded, loaded.hit
            self.resumed_candidates = earlier.searched
            for start, stop in earlier.ranges:
                self.coverage.add(start, stop)
            if hit >= 0 and (self.coverage.hit < 0 or hit < self.coverage.hit):
                self.coverage.hit = hit
            self._recorded = (earlier.searched, hit)
        record.last_write = time.monotonic()  # the first write comes RECORD_INTERVAL from now

    def _default_gpu(self, cpu_rate: float, jobs: Optional[int]) -> Optional[Backend]:
        """An OpenCL backend on this machine's GPUs when the CPU would take longer than starting it."""
        slots = jobs or available_cores()
        cpu_seconds = self.job.target.expected_candidates / max(cpu_rate * slots, 1.0)
        if cpu_seconds <= GPU_STARTUP_SECONDS or importlib.util.find_spec("pyopencl") is None:
            return None
        from .backends.opencl import OpenCLBackend
        from .backends.opencl_devices import OpenCLUnavailableError

        backend = OpenCLBackend("gpu")
        try:
            backend.devices()
        except OpenCLUnavailableError:  # no GPU (pocl's CPU device is never picked by itself)
            return None
        if backend.unsupported_reason(self.job) is not None:
            backend.close()
            return None
        self._fallback = backend
        self.notices.append(
            f"searched on {', '.join(backend.devices())}: the CPU would need "
            f"~{format_duration(cpu_seconds)} (--cpu searches on the CPU)"
        )
        return backend

    def _pick_backend(self, chosen: Optional[Backend], jobs: Optional[int]) -> Optional[Backend]:
        """``chosen`` if it can run this job, else local processes (or None: this process only)."""
        if chosen is not None:
            reason = chosen.unsupported_reason(self.job)
            if reason is None:
                self.backend = chosen
                return chosen
            self.notices.append(f"{reason}; searching on this machine's cores instead")
        slots = jobs or available_cores()
        if slots == 1:
            return None
        self.backend = self._fallback = ProcessPoolBackend(slots)
        return self._fallback

    def _scan(self, start: int, stop: int) -> bool:
        """Scan [start, stop) here and note it in ``coverage``; True on a hit."""
        hit, tried = self.scanner.scan(start, stop)
        self.candidates += tried
        if hit >= 0:
            self.coverage.add(start, hit)
            self.coverage.hit = hit
            return True
        self.coverage.add(start, stop)
        return False

    def _calibrate(self) -> float:
        """Scan the first unsearched nonces here for CALIBRATION_SECONDS, in doubling ranges: candidates/s."""
        size = self.job.layout.fast_size
        calibration_started = time.perf_counter()
        while True:
            gap = self.coverage.next_range(0, size, self.limit)
            if gap is None or self._scan(*gap):
                break
            if time.perf_counter() - calibration_started >= CALIBRATION_SECONDS:
                break
            size *= 2
        return self.candidates / max(time.perf_counter() - calibration_started, 1e-9)

    def _refuse_hopeless(
        self, total_rate: float, max_expected_seconds: float, backend: Optional[Backend]
    ) -> None:
        target = self.job.target
        expected = target.expected_candidates / total_rate
        if expected > max_expected_seconds:
            where = ", ".join(backend.devices()) if backend is not None else "1 core"
            raise TooMuchWorkError(
                f"target {target} needs about {target.expected_candidates:.3g} candidates: "
                f"~{format_duration(expected)} at {total_rate / 1e6:.3g} M/s on {where}; "
                "use --force (max_expected_seconds=None from Python) to search anyway, "
                "or a GPU (--gpu) or Dask cluster (--scheduler)"
            )

    def _scan_here(self, chunk: int) -> int:
        """Scan the rest in this process, reporting progress after every chunk."""
        while True:
            gap = self.coverage.next_range(0, chunk, self.limit)
            if gap is None:
                return self.coverage.hit
            self._scan(*gap)
            self.report()

    def _run_backend(self, backend: Backend, chunk_size: Callable[[], int]) -> int:
        def report(candidates: int) -> None:
            self.candidates = candidates
            self.report()

        hit, self.candidates = scan_ranges(
            backend, self.job, 0, chunk_size, self.candidates, report, self.coverage
        )
        return hit


def scan_ranges(
    backend: Backend,
    job: SearchJob,
    next_start: int,
    chunk_size: Callable[[], int],
    candidates: int,
    report: Callable[[int], None],
    coverage: Optional[Coverage] = None,
) -> tuple[int, int]:
    """Hand ranges from ``next_start`` on to an opened backend in order until the lowest hit is certain.

    ``chunk_size`` is asked before every range, so a backend can follow its own
    measured speed. Ranges ``coverage`` holds are skipped, each finished range
    is added to it, and a hit it already knows (``coverage.hit``) bounds the
    search. Returns (lowest hit or -1, candidates tried in all); ``report``
    gets the running count about every PROGRESS_INTERVAL.
    """
    capacity = job.layout.capacity
    coverage = coverage if coverage is not None else Coverage(capacity)
    in_flight: dict[int, int] = {}
    last_report = 0.0
    while True:
        best = coverage.hit
        limit = best if best >= 0 else capacity
        while len(in_flight) < CHUNKS_IN_FLIGHT_PER_SLOT * backend.slots:
            gap = coverage.next_range(next_start, chunk_size(), limit)
            if gap is None:
                break
            start, next_start = gap
            backend.submit(start, next_start)
            in_flight[start] = next_start
        if all(start > best for start in in_flight) if best >= 0 else not in_flight:
            return best, candidates
        for result in backend.wait(PROGRESS_INTERVAL):
            if in_flight.pop(result.start, None) is None:
                continue
            candidates += result.tried
            if result.hit >= 0:
                coverage.add(result.start, result.hit)
                if coverage.hit < 0 or result.hit < coverage.hit:
                    coverage.hit = result.hit
            else:
                coverage.add(result.start, result.stop)
        now = time.perf_counter()
        if now - last_report >= PROGRESS_INTERVAL:
            last_report = now
            report(candidates)
