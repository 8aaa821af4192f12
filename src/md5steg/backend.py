"""The contract between the search coordinator and whatever runs the scans.

A backend runs ``Chunk`` scans of one ``SearchJob`` somewhere (local
processes, a Dask cluster) and hands back ``ChunkResult``\\ s; it decides
nothing. The coordinator in ``search.py`` chooses which ranges to scan, keeps
the lowest hit and tells the backend to stop. A new backend is one subclass.
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .layout import Layout
from .target import Target


@dataclass(frozen=True)
class SearchJob:
    """Everything a worker needs to scan any range of one search (picklable)."""

    content: bytes = field(repr=False)
    layout: Layout
    target: Target
    engine: str
    simd: str

    @cached_property
    def key(self) -> str:
        """Identifies the job so workers can reuse a scanner across chunks (hashed once)."""
        identity = repr((self.layout, self.target.pattern, self.engine, self.simd)).encode()
        return hashlib.sha256(hashlib.md5(self.content).digest() + identity).hexdigest()[:24]

    def scanner(self) -> Any:
        """A fresh engine scanner for this job, built where it will run."""
        from ._engine import load_engine

        return load_engine(self.engine).Scanner(self.content, self.layout, self.target, self.simd)


@dataclass(frozen=True)
class ChunkResult:
    """The outcome of scanning nonce indices [start, stop)."""

    start: int
    stop: int
    hit: int  # lowest matching index in the range, or -1
    tried: int


_thread_state = threading.local()


def scan_chunk(job: SearchJob, start: int, stop: int) -> ChunkResult:
    """Scan one range here, reusing this thread's scanner for the job (scanners are not thread-safe)."""
    cached: tuple[str, Any] | None = getattr(_thread_state, "scanner", None)
    if cached is None or cached[0] != job.key:
        cached = _thread_state.scanner = (job.key, job.scanner())
    hit, tried = cached[1].scan(start, stop)
    return ChunkResult(start, stop, hit, tried)


class Backend(ABC):
    """Runs chunk scans in parallel; ``slots`` is how many run at once."""

    slots: int

    @abstractmethod
    def open(self, job: SearchJob) -> None:
        """Get ready to scan ranges of ``job`` (start workers, ship the content)."""

    @abstractmethod
    def submit(self, start: int, stop: int) -> None:
        """Queue the scan of [start, stop); its result comes back from ``wait``."""

    @abstractmethod
    def wait(self, timeout: float) -> list[ChunkResult]:
        """Results that arrived within ``timeout`` seconds (possibly none); raises on worker failure."""

    @abstractmethod
    def close(self) -> None:
        """Stop all scans at once and leave no worker running; safe to call twice."""
