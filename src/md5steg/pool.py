"""The local backend: one process per core, forked so start-up stays in milliseconds.

Workers ignore SIGINT; the parent owns Ctrl-C and terminates them, so an
interrupted search leaves no process behind.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
from typing import Any, Optional

from .backend import Backend, ChunkResult, SearchJob, scan_chunk
from .errors import BackendError

_worker_job: Optional[SearchJob] = None


def _init_worker(job: SearchJob) -> None:
    global _worker_job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_job = job


def _scan_in_worker(start: int, stop: int) -> ChunkResult:
    assert _worker_job is not None
    return scan_chunk(_worker_job, start, stop)


def available_cores() -> int:
    """Cores this process may run on (affinity-aware where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class ProcessPoolBackend(Backend):
    """Scans chunks in ``jobs`` local worker processes."""

    def __init__(self, jobs: int) -> None:
        self.slots = jobs
        self._pool: Any = None
        self._results: "queue.SimpleQueue[Any]" = queue.SimpleQueue()

    def open(self, job: SearchJob) -> None:
        method = "fork" if sys.platform.startswith("linux") else None
        context = multiprocessing.get_context(method)
        self._pool = context.Pool(self.slots, initializer=_init_worker, initargs=(job,))

    def submit(self, start: int, stop: int) -> None:
        self._pool.apply_async(
            _scan_in_worker, (start, stop), callback=self._results.put, error_callback=self._results.put
        )

    def wait(self, timeout: float) -> list[ChunkResult]:
        try:
            items = [self._results.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                items.append(self._results.get_nowait())
            except queue.Empty:
                break
        for item in items:
            if isinstance(item, BaseException):
                raise BackendError(f"a search worker failed: {item!r}")
        return items

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
