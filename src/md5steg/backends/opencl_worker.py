"""The OpenCL backend inside a Dask worker: one per process, kept across a search's tasks.

A Dask task is one range; ``scan_on_devices`` runs it on the worker's own
OpenCL devices (the selector is applied there), split into one part per
device, in nonce order, and returns its lowest hit, as a local
``OpenCLBackend`` would. The client only ships the job and the ranges.
"""

from __future__ import annotations

import threading
import time
from typing import Optional

from .base import ChunkResult, SearchJob
from .opencl import OpenCLBackend
from .opencl_devices import select_devices

_process_backend: Optional[tuple[tuple[str, str], OpenCLBackend]] = None
_process_lock = threading.Lock()


def scan_on_devices(job: SearchJob, selector: str, start: int, stop: int) -> tuple[ChunkResult, float]:
    """Scan [start, stop) on this process's OpenCL devices matching ``selector`` (a Dask task).

    The backend (contexts, kernel) is kept for the process, so a worker builds
    the kernel once per search. The range is split into one part per device,
    in order; the lowest hit of the parts is the range's. Tasks run one at a
    time per process: the devices are what runs in parallel. Returns the
    result and the seconds the devices took (the rate the client sizes tasks by).
    """
    global _process_backend
    with _process_lock:
        key = (job.key, selector)
        if _process_backend is None or _process_backend[0] != key:
            if _process_backend is not None:
                _process_backend[1].close()
                _process_backend = None
            backend = OpenCLBackend(selector)
            backend.open(job)
            _process_backend = (key, backend)
        backend = _process_backend[1]
        started = time.perf_counter()
        fast = job.layout.fast_size
        parts = max(1, min(backend.slots, (stop - start) // fast))
        step = -(-(stop - start) // parts // fast) * fast
        bounds = [(part, min(stop, part + step)) for part in range(start, stop, step)]
        for part_start, part_stop in bounds:
            backend.submit(part_start, part_stop)
        results: dict[int, ChunkResult] = {}
        while len(results) < len(bounds):
            for result in backend.wait(1.0):
                results[result.start] = result
        hits = [result.hit for result in results.values() if result.hit >= 0]
        hit = min(hits) if hits else -1
        tried = sum(result.tried for result in results.values())
        return ChunkResult(start, stop, hit, tried), time.perf_counter() - started


def prepare_devices(job: SearchJob, selector: str) -> tuple[list[str], float]:
    """Build the kernel on this process's devices for ``job``: (device labels, candidates/s)."""
    scan_on_devices(job, selector, 0, job.layout.fast_size)
    assert _process_backend is not None
    backend = _process_backend[1]
    return backend.devices(), backend.expected_rate(0.0)


def device_labels(selector: str) -> list[str]:
    """This process's OpenCL devices that ``selector`` picks (empty when none, or no OpenCL)."""
    from .opencl_devices import OpenCLUnavailableError

    try:
        return [info.label for info, _ in select_devices(selector)]
    except OpenCLUnavailableError:
        return []
