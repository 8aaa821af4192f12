"""Orchestrates one search: choose the layout, calibrate, split the nonce space, keep the lowest hit.

The answer is the lowest nonce index whose digest matches, so it is the same
for any number of processes, any backend and either engine. Ranges are handed
out in increasing order; once a hit is known, only ranges below it still
matter, and everything above is stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ._engine import Scanner, load_engine, resolve_simd
from .alphabets import Alphabet, resolve_alphabet
from .arguments import check_find_arguments
from .backends import Backend, SearchJob, create_backend, selected_backend
from .backends.pool import ProcessPoolBackend
from .content import Content
from .cores import available_cores
from .durations import format_duration
from .errors import EngineError, InvalidTargetError, SearchExhaustedError, TooMuchWorkError
from .layout import MAX_SUFFIX_BYTES, choose_layout
from .target import Target

CALIBRATION_SECONDS = 0.02
"""In-process scanning before any backend starts: tiny searches end here, the rest get a rate."""

DEFAULT_MAX_EXPECTED_SECONDS = 3600.0
"""``find`` refuses a target whose expected time is longer, as the CLI does without --force."""

PROGRESS_INTERVAL = 0.1
CHUNKS_IN_FLIGHT_PER_SLOT = 2


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running search, for progress bars."""

    candidates: int
    seconds: float
    expected_candidates: int

    @property
    def rate(self) -> float:
        return self.candidates / self.seconds if self.seconds > 0 else 0.0

    @property
    def probability(self) -> float:
        """Chance that a match exists among the candidates tried so far."""
        return -math.expm1(-self.candidates / self.expected_candidates)

    @property
    def expected_seconds_left(self) -> float:
        """Expected time to a hit from now; constant, because each candidate is a fresh trial."""
        return self.expected_candidates / self.rate if self.rate else math.inf


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class Match:
    """A suffix that makes ``md5(data + suffix)`` match the target, and what finding it took."""

    suffix: bytes
    md5: str
    nonce_index: int
    candidates: int
    seconds: float
    jobs: int
    engine: str
    simd: str
    alphabet: str
    target: str
    backend: str = "local"
    devices: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    """Things the caller should tell the user, e.g. that a backend could not run this search."""

    @property
    def rate(self) -> float:
        """Candidates per second over the whole search."""
        return self.candidates / self.seconds if self.seconds > 0 else 0.0

    def apply(self, data: bytes) -> bytes:
        """The content with the suffix appended."""
        return data + self.suffix


@dataclass(frozen=True)
class SearchOptions:
    """How searches run, as the command line gave it: workers, engine, SIMD path and backend.

    ``backend_options`` holds the values of the backends' own options
    (``{"scheduler": "tcp://...", "gpu": True}``); ``backend`` names one
    explicitly. Each ``find_kwargs()`` call builds a fresh backend, since a
    search closes the backend it ran on.
    """

    jobs: Optional[int] = None
    engine: Optional[str] = None
    simd: Optional[str] = None
    backend: Optional[str] = None
    backend_options: Mapping[str, Any] = field(default_factory=dict)

    def find_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``find`` (and ``hide``) that run a search this way."""
        return {
            "jobs": self.jobs,
            "engine": self.engine,
            "simd": self.simd,
            "backend": resolve_backend(self.backend, self.jobs, self.backend_options),
        }


def make_target(prefix: Optional[str], pattern: Optional[str]) -> Target:
    """Exactly one of a prefix or a pattern, validated."""
    if (prefix is None) == (pattern is None):
        raise InvalidTargetError("give exactly one of a prefix or a pattern")
    return Target.from_prefix(prefix) if prefix is not None else Target.from_pattern(pattern or "")


def resolve_backend(
    backend: Union[Backend, str, None],
    jobs: Optional[int],
    settings: Mapping[str, Any],
) -> Optional[Backend]:
    """The backend a search runs on: the one given, else the one its options select, else None (local)."""
    if isinstance(backend, Backend):
        return backend
    name = backend or selected_backend(settings)
    if name is None:
        return None
    return create_backend(name, settings, jobs)


def find(
    data: Union[bytes, Content],
    prefix: Optional[str] = None,
    *,
    pattern: Optional[str] = None,
    alphabet: Union[str, Alphabet] = "ws5",
    jobs: Optional[int] = None,
    engine: Optional[str] = None,
    simd: Optional[str] = None,
    backend: Union[Backend, str, None] = None,
    progress: Optional[ProgressCallback] = None,
    max_expected_seconds: Optional[float] = DEFAULT_MAX_EXPECTED_SECONDS,
    scheduler: Optional[str] = None,
    gpu: bool = False,
    opencl_device: Optional[str] = None,
) -> Match:
    """Find the suffix of alphabet symbols that gives ``data`` an MD5 matching ``prefix``/``pattern``.

    The result is deterministic: the lowest nonce index that matches, whatever
    ``jobs``, ``engine`` or backend. ``backend`` is a ``Backend`` or a name from
    ``md5steg.backends.BACKENDS``; ``scheduler=`` (Dask), ``gpu=True`` and
    ``opencl_device=`` (OpenCL) are shortcuts for those backends. The search
    closes the backend it ran on. ``max_expected_seconds`` (default an hour, as the CLI) refuses
    a target whose expected time exceeds it; ``None`` or ``math.inf`` lifts the bound. ``data`` may be a
    ``Content`` (``Content.from_stream``), so files of any size fit in memory.
    """
    started = time.perf_counter()
    names = {"engine": engine, "simd": simd, "backend": backend, "scheduler": scheduler, "opencl_device": opencl_device}
    check_find_arguments(data, jobs, progress, max_expected_seconds, gpu, names)
    content = data if isinstance(data, Content) else Content.from_bytes(data)
    target = make_target(prefix, pattern)
    resolved_alphabet = resolve_alphabet(alphabet)
    layout = choose_layout(content.length, resolved_alphabet, target)
    longest_symbol = max(len(symbol) for symbol in resolved_alphabet.symbols)
    if layout.digits * longest_symbol > MAX_SUFFIX_BYTES:
        raise TooMuchWorkError(
            f"target {target} with alphabet {resolved_alphabet.name!r} would need a {layout.digits}-symbol "
            f"suffix; use a shorter prefix or a larger alphabet"
        )
    engine_module = load_engine(engine)
    simd_path = resolve_simd(engine_module, simd)
    job = SearchJob(content, layout, target, engine_module.ENGINE_NAME, simd_path)
    settings = {"scheduler": scheduler, "gpu": gpu, "opencl_device": opencl_device}
    search = _Search(job, engine_module.Scanner(content, layout, target, simd_path), progress, started)
    chosen = resolve_backend(backend, jobs, settings)
    try:
        hit = search.run(chosen, jobs, max_expected_seconds)
    finally:
        search.close()
        if chosen is not None:
            chosen.close()
    if hit < 0:
        raise SearchExhaustedError(
            f"all {layout.capacity} nonces of {layout.digits} symbols were tried without a match for "
            f"{target}; try another alphabet"
        )
    suffix = layout.suffix(hit)
    digest = content.md5_with(suffix)
    if not target.matches(digest):
        raise EngineError(
            f"the {engine_module.ENGINE_NAME}/{simd_path} engine reported nonce {hit}, but hashlib gives "
            f"{digest}, which does not match {target}; please report this bug"
        )
    used = search.backend
    return Match(
        suffix=suffix,
        md5=digest,
        nonce_index=hit,
        candidates=search.candidates,
        seconds=time.perf_counter() - started,
        jobs=used.slots if used is not None else 1,
        engine=engine_module.ENGINE_NAME,
        simd=simd_path,
        alphabet=resolved_alphabet.name,
        target=target.pattern,
        backend=used.name if used is not None else "local",
        devices=tuple(used.devices()) if used is not None else ("this process",),
        notices=tuple(search.notices),
    )


class _Search:
    """One search's state: calibrate in this process, then hand ranges to a backend in order."""

    def __init__(
        self, job: SearchJob, scanner: Scanner, progress: Optional[ProgressCallback], started: float
    ) -> None:
        self.job = job
        self.scanner = scanner
        self.progress = progress
        self.started = started
        self.candidates = 0
        self.backend: Optional[Backend] = None
        self.notices: list[str] = []
        self._fallback: Optional[Backend] = None

    def report(self) -> None:
        if self.progress is not None:
            self.progress(
                Progress(
                    self.candidates,
                    time.perf_counter() - self.started,
                    self.job.target.expected_candidates,
                )
            )

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()

    def run(
        self, chosen: Optional[Backend], jobs: Optional[int], max_expected_seconds: Optional[float]
    ) -> int:
        """The lowest matching nonce index, or -1 when the whole nonce space has none."""
        capacity = self.job.layout.capacity
        # Short searches end in calibration, without starting any backend.
        hit, rate = self._calibrate()
        self.report()
        if hit >= 0 or self.candidates >= capacity:
            return hit
        backend = self._pick_backend(chosen, jobs)
        fast_size = self.job.layout.fast_size
        if backend is not None:
            backend.open(self.job)
            total_rate = backend.expected_rate(rate)
        else:
            total_rate = rate
        if max_expected_seconds is not None:
            self._refuse_hopeless(total_rate, max_expected_seconds, backend)
        if backend is None:
            return self._scan_here(ProcessPoolBackend(1).chunk_size(rate, fast_size))
        return self._run_backend(backend, lambda: backend.chunk_size(rate, fast_size))

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

    def _calibrate(self) -> tuple[int, float]:
        """Scan from 0 here for CALIBRATION_SECONDS: (hit or -1, candidates per second)."""
        capacity = self.job.layout.capacity
        next_start, hit, size = 0, -1, self.job.layout.fast_size
        calibration_started = time.perf_counter()
        while next_start < capacity:
            stop = min(capacity, next_start + size)
            hit, _ = self.scanner.scan(next_start, stop)
            next_start = stop
            if hit >= 0 or time.perf_counter() - calibration_started >= CALIBRATION_SECONDS:
                break
            size *= 2
        self.candidates = next_start if hit < 0 else hit + 1
        return hit, self.candidates / max(time.perf_counter() - calibration_started, 1e-9)

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
                f"use --force to search anyway, or a GPU (--gpu) or Dask cluster (--scheduler)"
            )

    def _scan_here(self, chunk: int) -> int:
        """Scan the rest in this process, reporting progress after every chunk."""
        capacity = self.job.layout.capacity
        next_start, hit = self.candidates, -1
        while next_start < capacity:
            stop = min(capacity, next_start + chunk)
            hit, tried = self.scanner.scan(next_start, stop)
            self.candidates += tried
            next_start = stop
            self.report()
            if hit >= 0:
                break
        return hit

    def _run_backend(self, backend: Backend, chunk_size: Callable[[], int]) -> int:
        def report(candidates: int) -> None:
            self.candidates = candidates
            self.report()

        hit, self.candidates = scan_ranges(
            backend, self.job, self.candidates, chunk_size, self.candidates, report
        )
        return hit


def scan_ranges(
    backend: Backend,
    job: SearchJob,
    next_start: int,
    chunk_size: Callable[[], int],
    candidates: int,
    report: Callable[[int], None],
) -> tuple[int, int]:
    """Hand ranges from ``next_start`` on to an opened backend in order until the lowest hit is certain.

    ``chunk_size`` is asked before every range, so a backend can follow its own
    measured speed. Returns (lowest hit or -1, candidates tried in all);
    ``report`` gets the running count about every PROGRESS_INTERVAL.
    """
    capacity = job.layout.capacity
    in_flight: dict[int, int] = {}
    best = -1
    last_report = 0.0
    while True:
        while best < 0 and next_start < capacity and len(in_flight) < CHUNKS_IN_FLIGHT_PER_SLOT * backend.slots:
            stop = min(capacity, next_start + chunk_size())
            backend.submit(next_start, stop)
            in_flight[next_start] = stop
            next_start = stop
        if best >= 0 and all(start > best for start in in_flight):
            return best, candidates
        if not in_flight:
            return -1, candidates
        for result in backend.wait(PROGRESS_INTERVAL):
            if in_flight.pop(result.start, None) is None:
                continue
            candidates += result.tried
            if result.hit >= 0 and (best < 0 or result.hit < best):
                best = result.hit
        now = time.perf_counter()
        if now - last_report >= PROGRESS_INTERVAL:
            last_report = now
            report(candidates)


def measure_rate(
    alphabet: Union[str, Alphabet] = "ws5", engine: Optional[str] = None, simd: Optional[str] = None
) -> float:
    """Candidates per second on one core for a typical layout, measured for ~50 ms (for estimates)."""
    target = Target.from_prefix("0" * 12)
    resolved = resolve_alphabet(alphabet)
    layout = choose_layout(100, resolved, target)
    engine_module = load_engine(engine)
    scanner = engine_module.Scanner(Content.from_bytes(b"\0" * 100), layout, target, resolve_simd(engine_module, simd))
    size, started = layout.fast_size, time.perf_counter()
    tried = 0
    while time.perf_counter() - started < 0.05:
        _, count = scanner.scan(tried, tried + size)
        tried += count
        size *= 2
    return tried / (time.perf_counter() - started)
