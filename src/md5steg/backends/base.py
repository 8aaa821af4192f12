"""The contract between the search coordinator and whatever runs the scans.

A backend runs scans of one ``SearchJob`` somewhere (local processes, a Dask
cluster, OpenCL devices) and hands back ``ChunkResult``\\ s; it decides
nothing about the answer. The coordinator in ``search.py`` chooses which
ranges to scan, keeps the lowest hit and tells the backend to stop. A new
backend is one subclass of ``Backend`` plus one line in ``BACKENDS``
(``backends/__init__.py``); its ``options`` become command-line options of
every command that searches.
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from ..content import Content
from ..layout import Layout
from ..target import Target

if TYPE_CHECKING:
    from .._engine import Scanner

CHUNK_SECONDS = 0.03
"""Default duration of one range: long enough to amortise scheduling, short enough to stop fast."""


@dataclass(frozen=True)
class SearchJob:
    """Everything a worker needs to scan any range of one search (picklable)."""

    content: Content = field(repr=False)  # bytes are wrapped on construction
    layout: Layout
    target: Target
    engine: str
    simd: str

    @cached_property
    def key(self) -> str:
        """Identifies the job so workers can reuse a scanner across chunks (hashed once)."""
        identity = repr((self.layout, self.target.pattern, self.engine, self.simd)).encode()
        return hashlib.sha256(self.content.md5_with(b"").encode() + identity).hexdigest()[:24]

    def __post_init__(self) -> None:
        if isinstance(self.content, bytes):
            object.__setattr__(self, "content", Content.from_bytes(self.content))

    def scanner(self) -> Scanner:
        """A fresh engine scanner for this job, built where it will run."""
        from .._engine import load_engine

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
    cached: tuple[str, Scanner] | None = getattr(_thread_state, "scanner", None)
    if cached is None or cached[0] != job.key:
        cached = _thread_state.scanner = (job.key, job.scanner())
    hit, tried = cached[1].scan(start, stop)
    return ChunkResult(start, stop, hit, tried)


@dataclass(frozen=True)
class BackendOption:
    """One command-line option a backend adds to every searching command.

    Giving any of a backend's options on the command line selects that
    backend; its value reaches ``Backend.from_settings`` under ``keyword``.
    """

    flag: str
    keyword: str
    help: str
    metavar: Optional[str] = None
    envvar: Optional[str] = None
    is_flag: bool = False


class Backend(ABC):
    """Runs range scans in parallel; ``slots`` is how many run at once.

    The coordinator calls ``open``, then ``expected_rate`` and ``chunk_size``,
    then ``submit``/``wait`` until it knows the lowest hit, and ``close``
    always. Ranges arrive in increasing order and may start or stop anywhere;
    a scan must report the lowest matching index of its range exactly.
    """

    name: ClassVar[str]
    """Registry key, also the value of ``--backend``."""

    options: ClassVar[tuple[BackendOption, ...]] = ()

    slots: int

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Mapping[str, Any], jobs: Optional[int]) -> Backend:
        """Build the backend from its options' values (keyword -> value) and ``-j``."""

    @classmethod
    def warm_up(cls, settings: Mapping[str, Any]) -> None:
        """Start, in the background, the slow part of building this backend (imports, device contexts).

        Called as soon as the command line is parsed, so it overlaps reading
        and hashing the content; must never raise, and may do nothing (the default).
        """
        return None

    def unsupported_reason(self, job: SearchJob) -> Optional[str]:
        """Why this backend cannot run ``job`` (the search then runs on local processes), or None."""
        return None

    @abstractmethod
    def open(self, job: SearchJob) -> None:
        """Get ready to scan ranges of ``job`` (start workers, ship the content, build kernels)."""

    def expected_rate(self, cpu_rate: float) -> float:
        """Candidates per second of the whole backend, given the one-core rate measured here."""
        return cpu_rate * self.slots

    def chunk_size(self, cpu_rate: float, fast_size: int) -> int:
        """Candidates per submitted range: about CHUNK_SECONDS of one core, in whole outer steps."""
        steps = max(1, int(cpu_rate * CHUNK_SECONDS) // fast_size)
        return steps * fast_size

    @abstractmethod
    def submit(self, start: int, stop: int) -> None:
        """Queue the scan of [start, stop); its result comes back from ``wait``."""

    @abstractmethod
    def wait(self, timeout: float) -> list[ChunkResult]:
        """Results that arrived within ``timeout`` seconds (possibly none); raises on worker failure."""

    @abstractmethod
    def close(self) -> None:
        """Stop all scans at once and leave no worker running; safe to call twice."""

    def notices(self) -> list[str]:
        """Things the user should hear about how the search ran (after ``open``), one line each."""
        return []

    def devices(self) -> list[str]:
        """What ran the search, for the report: ``["2 processes"]``, ``["NVIDIA H200"]``."""
        return [f"{self.slots} {self.name} slot(s)"]
