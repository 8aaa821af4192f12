"""Orchestrates one search: choose the layout, calibrate, split the nonce space, keep the lowest hit.

The answer is the lowest nonce index whose digest matches, so it is the same
for any number of processes, any backend and either engine. Ranges are handed
out in increasing order; once a hit is known, only ranges below it still
matter, and everything above is stopped.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from ._engine import load_engine, resolve_simd
from .alphabets import Alphabet, resolve_alphabet
from .backend import Backend, SearchJob
from .errors import EngineError, InvalidTargetError, SearchExhaustedError, TooMuchWorkError
from .layout import MAX_SUFFIX_BYTES, choose_layout
from .pool import ProcessPoolBackend, available_cores
from .target import Target

CALIBRATION_SECONDS = 0.02
"""In-process scanning before any pool starts: tiny searches end here, the rest get a rate."""

CHUNK_SECONDS = 0.03
"""Target duration of one chunk: long enough to amortise scheduling, short enough to stop fast."""

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

    @property
    def rate(self) -> float:
        """Candidates per second over the whole search."""
        return self.candidates / self.seconds if self.seconds > 0 else 0.0

    def apply(self, data: bytes) -> bytes:
        """The content with the suffix appended."""
        return data + self.suffix


def make_target(prefix: Optional[str], pattern: Optional[str]) -> Target:
    """Exactly one of a prefix or a pattern, validated."""
    if (prefix is None) == (pattern is None):
        raise InvalidTargetError("give exactly one of a prefix or a pattern")
    return Target.from_prefix(prefix) if prefix is not None else Target.from_pattern(pattern or "")


def _chunk_size(rate: float, fast_size: int) -> int:
    """Candidates per chunk: about CHUNK_SECONDS of work, whole outer steps."""
    steps = max(1, int(rate * CHUNK_SECONDS) // fast_size)
    return steps * fast_size


def find(
    data: bytes,
    prefix: Optional[str] = None,
    *,
    pattern: Optional[str] = None,
    alphabet: Union[str, Alphabet] = "ws5",
    jobs: Optional[int] = None,
    engine: Optional[str] = None,
    simd: Optional[str] = None,
    progress: Optional[ProgressCallback] = None,
    max_expected_seconds: Optional[float] = None,
    scheduler: Optional[str] = None,
) -> Match:
    """Find the suffix of alphabet symbols that gives ``data`` an MD5 matching ``prefix``/``pattern``.

    The result is deterministic: the lowest nonce index that matches, whatever
    ``jobs``, ``engine`` or ``scheduler``. ``max_expected_seconds`` refuses
    targets whose expected time (from a measured rate) exceeds it.
    """
    started = time.perf_counter()
    target = make_target(prefix, pattern)
    resolved_alphabet = resolve_alphabet(alphabet)
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    layout = choose_layout(len(data), resolved_alphabet, target)
    longest_symbol = max(len(symbol) for symbol in resolved_alphabet.symbols)
    if layout.digits * longest_symbol > MAX_SUFFIX_BYTES:
        raise TooMuchWorkError(
            f"target {target} with alphabet {resolved_alphabet.name!r} would need a {layout.digits}-symbol "
            f"suffix; use a shorter prefix or a larger alphabet"
        )
    engine_module = load_engine(engine)
    simd_path = resolve_simd(engine_module, simd)
    job = SearchJob(data, layout, target, engine_module.ENGINE_NAME, simd_path)
    scanner = engine_module.Scanner(data, layout, target, simd_path)

    def report(candidates: int) -> None:
        if progress is not None:
            progress(Progress(candidates, time.perf_counter() - started, target.expected_candidates))

    backend: Optional[Backend] = None
    if scheduler is not None:
        from .dask_backend import DaskBackend

        backend = DaskBackend(scheduler)
    try:
        slots = backend.slots if backend is not None else (jobs or available_cores())
        hit, candidates = _search(job, scanner, backend, slots, report, max_expected_seconds)
    finally:
        if backend is not None:
            backend.close()
    if hit < 0:
        raise SearchExhaustedError(
            f"all {layout.capacity} nonces of {layout.digits} symbols were tried without a match for "
            f"{target}; try another alphabet"
        )
    suffix = layout.suffix(hit)
    digest = hashlib.md5(data + suffix).hexdigest()
    if not target.matches(digest):
        raise EngineError(
            f"the {engine_module.ENGINE_NAME}/{simd_path} engine reported nonce {hit}, but hashlib gives "
            f"{digest}, which does not match {target}; please report this bug"
        )
    return Match(
        suffix=suffix,
        md5=digest,
        nonce_index=hit,
        candidates=candidates,
        seconds=time.perf_counter() - started,
        jobs=slots,
        engine=engine_module.ENGINE_NAME,
        simd=simd_path,
        alphabet=resolved_alphabet.name,
        target=target.pattern,
    )


def _calibrate(scanner: Any, capacity: int, first_size: int) -> tuple[int, int, float]:
    """Scan from 0 in this process for CALIBRATION_SECONDS: (hit or -1, candidates, rate)."""
    next_start, hit, size = 0, -1, first_size
    calibration_started = time.perf_counter()
    while next_start < capacity:
        stop = min(capacity, next_start + size)
        hit, _ = scanner.scan(next_start, stop)
        next_start = stop
        if hit >= 0 or time.perf_counter() - calibration_started >= CALIBRATION_SECONDS:
            break
        size *= 2
    candidates = next_start if hit < 0 else hit + 1
    return hit, candidates, candidates / max(time.perf_counter() - calibration_started, 1e-9)


def _search(
    job: SearchJob,
    scanner: Any,
    backend: Optional[Backend],
    slots: int,
    report: Callable[[int], None],
    max_expected_seconds: Optional[float],
) -> tuple[int, int]:
    """Calibrate, refuse hopeless targets, then scan the rest here or on a backend."""
    layout, target = job.layout, job.target
    capacity = layout.capacity
    # Short searches end in calibration, without starting any worker.
    hit, candidates, rate = _calibrate(scanner, capacity, layout.fast_size)
    report(candidates)
    if hit >= 0 or candidates >= capacity:
        return hit, candidates
    if max_expected_seconds is not None:
        expected = target.expected_candidates / (rate * slots)
        if expected > max_expected_seconds:
            raise TooMuchWorkError(
                f"target {target} needs about {target.expected_candidates:.3g} candidates: "
                f"~{_duration(expected)} at {rate * slots / 1e6:.3g} M/s on {slots} core(s); "
                f"use --force to search anyway, or a Dask cluster (--scheduler)"
            )
    chunk = _chunk_size(rate, layout.fast_size)
    if backend is None and slots == 1:
        next_start = candidates
        while next_start < capacity:
            stop = min(capacity, next_start + chunk)
            hit, tried = scanner.scan(next_start, stop)
            candidates += tried
            next_start = stop
            report(candidates)
            if hit >= 0:
                break
        return hit, candidates
    return _run_backend(backend or ProcessPoolBackend(slots), job, candidates, chunk, candidates, report)


def _run_backend(
    backend: Backend,
    job: SearchJob,
    next_start: int,
    chunk: int,
    candidates: int,
    report: Callable[[int], None],
) -> tuple[int, int]:
    """Hand out ranges in order until the lowest hit is certain; returns (hit or -1, candidates)."""
    capacity = job.layout.capacity
    in_flight: dict[int, int] = {}
    best = -1
    last_report = 0.0
    try:
        backend.open(job)
        while True:
            while best < 0 and next_start < capacity and len(in_flight) < CHUNKS_IN_FLIGHT_PER_SLOT * backend.slots:
                stop = min(capacity, next_start + chunk)
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
    finally:
        backend.close()


def _duration(seconds: float) -> str:
    """A human duration: 42 s, 3.5 min, 7.1 h, 12 days, 3.2e4 years."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = seconds / size
            return f"{amount:.3g} {unit}" if amount < 1e4 else f"{amount:.2g} {unit}"
    return f"{seconds:.2g} s"


def measure_rate(
    alphabet: Union[str, Alphabet] = "ws5", engine: Optional[str] = None, simd: Optional[str] = None
) -> float:
    """Candidates per second on one core for a typical layout, measured for ~50 ms (for estimates)."""
    target = Target.from_prefix("0" * 12)
    resolved = resolve_alphabet(alphabet)
    layout = choose_layout(100, resolved, target)
    engine_module = load_engine(engine)
    scanner = engine_module.Scanner(b"\0" * 100, layout, target, resolve_simd(engine_module, simd))
    size, started = layout.fast_size, time.perf_counter()
    tried = 0
    while time.perf_counter() - started < 0.05:
        _, count = scanner.scan(tried, tried + size)
        tried += count
        size *= 2
    return tried / (time.perf_counter() - started)
