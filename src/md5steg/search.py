"""Orchestrates one search: choose the layout, calibrate, split the nonce space, keep the lowest hit.

The answer is the lowest nonce index whose digest matches, so it is the same
for any number of processes, any backend and either engine. Ranges are handed
out in increasing order; once a hit is known, only ranges below it still
matter, and everything above is stopped.

The running search itself (calibration, resume records, the default GPU,
handing out ranges) lives in ``coordinator``; this module prepares the job and
checks the answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ._engine import load_engine, resolve_simd
from .alphabets import Alphabet, resolve_alphabet
from .arguments import BYTES_LIKE, check_jobs, check_max_expected_seconds, require
from .backends import Backend, SearchJob, backend_class, create_backend, selected_backend
from .content import Content
from .coordinator import GPU_STARTUP_SECONDS as GPU_STARTUP_SECONDS
from .coordinator import Progress as Progress
from .coordinator import ProgressCallback as ProgressCallback
from .coordinator import SearchRun
from .coordinator import scan_ranges as scan_ranges
from .errors import (
    ArgumentTypeError,
    EngineError,
    InvalidArgumentError,
    InvalidTargetError,
    Md5stegError,
    SearchExhaustedError,
    TooMuchWorkError,
)
from .layout import MAX_SUFFIX_BYTES, choose_layout
from .resume import Record
from .target import Target

DEFAULT_MAX_EXPECTED_SECONDS = 3600.0
"""``find`` refuses a target whose expected time is longer, as the CLI does without --force."""

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
    resumed_candidates: int = 0
    """Candidates earlier, interrupted runs had tried; ``candidates`` counts this run's only."""

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
    explicitly. ``cpu`` keeps a search off a GPU it would otherwise pick,
    ``resume`` turns resume records on or off. Each ``find_kwargs()`` call
    builds a fresh backend, since a search closes the backend it ran on.
    """

    jobs: Optional[int] = None
    engine: Optional[str] = None
    simd: Optional[str] = None
    backend: Optional[str] = None
    backend_options: Mapping[str, Any] = field(default_factory=dict)
    cpu: bool = False
    resume: bool = True

    def __post_init__(self) -> None:
        """Start the chosen backend's slow start-up now, while the content is read and hashed."""
        try:
            name = self.backend or selected_backend(self.backend_options)
            if name is not None:
                backend_class(name).warm_up(self.backend_options)
        except Md5stegError:  # reported when the search builds the backend
            pass

    def find_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``find`` (and ``hide``) that run a search this way."""
        return {
            "jobs": self.jobs,
            "engine": self.engine,
            "simd": self.simd,
            "backend": resolve_backend(self.backend, self.jobs, self.backend_options),
            "cpu": self.cpu,
            "resume": self.resume,
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


SEARCH_OPTION_NAMES = frozenset(
    {"jobs", "engine", "simd", "backend", "progress", "scheduler", "gpu", "opencl_device", "cpu", "resume"}
)
"""``find``'s keywords that say how a search runs (what ``hide`` passes on as ``**find_options``)."""


def check_find_arguments(
    data: object,
    jobs: object,
    progress: object,
    max_expected_seconds: object,
    flags: Mapping[str, object],
    names: Mapping[str, object],
) -> None:
    """The types and ranges ``find`` needs before it starts; targets and alphabets check themselves.

    ``flags`` holds the on/off options (gpu, cpu, resume): each a bool.
    ``names`` holds the options given by name (engine, SIMD path, backend,
    scheduler, OpenCL device): each is None or a str (a backend may also be a
    ``Backend``). ``cpu=True`` with an OpenCL backend asked for is refused, as
    the CLI refuses ``--cpu --backend opencl``: silently running on the CPU
    would ignore half of the call.
    """
    if isinstance(data, str):
        raise ArgumentTypeError("data must be bytes, not str; encode the text first, e.g. text.encode('utf-8')")
    require(data, (*BYTES_LIKE, Content), "data")
    for name, value in names.items():
        if value is not None and not (name == "backend" and isinstance(value, Backend)):
            require(value, str, name)
    check_jobs(jobs)
    if progress is not None and not callable(progress):
        raise ArgumentTypeError(f"progress must be a callable taking a Progress, not {type(progress).__name__}")
    check_max_expected_seconds(max_expected_seconds)
    for name, value in flags.items():
        require(value, bool, name)
    if flags.get("cpu"):
        backend = names.get("backend")
        backend_name = backend.name if isinstance(backend, Backend) else backend
        if backend_name == "opencl" or flags.get("gpu") or names.get("opencl_device") is not None:
            raise InvalidArgumentError(
                "cpu=True contradicts an OpenCL search (backend='opencl', gpu=True or opencl_device=); choose one"
            )


def check_search_options(options: Mapping[str, Any], max_expected_seconds: object) -> None:
    """Refuse search options of unknown names or wrong types before costly work starts (``hide``'s KDF).

    Raises ``ArgumentTypeError``/``InvalidArgumentError`` as ``find`` itself
    would, instead of a bare ``TypeError`` for a misspelt keyword.
    """
    unknown = sorted(set(options) - SEARCH_OPTION_NAMES)
    if unknown:
        raise ArgumentTypeError(
            f"unknown search option(s) {', '.join(unknown)}; choose from {', '.join(sorted(SEARCH_OPTION_NAMES))}"
        )
    names = {name: options.get(name) for name in ("engine", "simd", "backend", "scheduler", "opencl_device")}
    flags = {"gpu": options.get("gpu", False), "cpu": options.get("cpu", False), "resume": options.get("resume", True)}
    check_find_arguments(b"", options.get("jobs"), options.get("progress"), max_expected_seconds, flags, names)


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
    cpu: bool = False,
    resume: bool = True,
) -> Match:
    """Find the suffix of alphabet symbols that gives ``data`` an MD5 matching ``prefix``/``pattern``.

    The result is deterministic: the lowest nonce index that matches, whatever
    ``jobs``, ``engine`` or backend. ``backend`` is a ``Backend`` or a name from
    ``md5steg.backends.BACKENDS``; ``scheduler=`` (Dask), ``gpu=True`` and
    ``opencl_device=`` (OpenCL) are shortcuts for those backends. The search
    closes the backend it ran on. ``max_expected_seconds`` (default an hour, as the CLI) refuses
    a target whose expected time exceeds it; ``None`` or ``math.inf`` lifts the bound. ``data`` may be a
    ``Content`` (``Content.from_stream``), so files of any size fit in memory.

    With no backend given, a search the CPU would need more than
    GPU_STARTUP_SECONDS for runs on an OpenCL GPU if there is one (``cpu=True``
    keeps it on the CPU). With ``resume`` (the default), a search that outlasts
    its calibration records its progress in the user's state folder
    (``md5steg.resume``) and continues from an earlier run's record; the
    record is removed when the search ends.
    """
    started = time.perf_counter()
    names = {"engine": engine, "simd": simd, "backend": backend, "scheduler": scheduler, "opencl_device": opencl_device}
    flags = {"gpu": gpu, "cpu": cpu, "resume": resume}
    check_find_arguments(data, jobs, progress, max_expected_seconds, flags, names)
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
    scanner = engine_module.Scanner(content, layout, target, simd_path)
    record = Record(content, layout, target) if resume else None
    search = SearchRun(job, scanner, progress, started, record)
    chosen = resolve_backend(backend, jobs, settings)
    hit = _run(search, chosen, jobs, max_expected_seconds, auto_gpu=chosen is None and not cpu)
    return _checked_match(search, hit, resolved_alphabet.name)


def _run(
    search: SearchRun,
    chosen: Optional[Backend],
    jobs: Optional[int],
    max_expected_seconds: Optional[float],
    auto_gpu: bool,
) -> int:
    """Run the search to its lowest hit (or -1); keep its progress when interrupted, drop it when done.

    Interrupted means Ctrl-C or SIGTERM (``KeyboardInterrupt``) at any point, or
    any error once the search proper runs. A refusal before that (too much
    work, no such OpenCL device, a backend that cannot start) searched
    nothing worth keeping beyond calibration, and writes no record.
    """
    try:
        hit = search.run(chosen, jobs, max_expected_seconds, auto_gpu)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) or search.scanning:
            search.save_progress()
        raise
    finally:
        search.close()
        if chosen is not None:
            chosen.close()
    search.forget_record()
    return hit


def _checked_match(search: SearchRun, hit: int, alphabet_name: str) -> Match:
    """The ``Match`` for ``hit``, after hashlib confirms it."""
    job = search.job
    layout, target = job.layout, job.target
    if hit < 0:
        raise SearchExhaustedError(
            f"all {layout.capacity} nonces of {layout.digits} symbols were tried without a match for "
            f"{target}; try another alphabet"
        )
    suffix = layout.suffix(hit)
    digest = job.content.md5_with(suffix)
    if not target.matches(digest):
        raise EngineError(
            f"the {job.engine}/{job.simd} engine reported nonce {hit}, but hashlib gives "
            f"{digest}, which does not match {target}; please report this bug"
        )
    used = search.backend
    return Match(
        suffix=suffix,
        md5=digest,
        nonce_index=hit,
        candidates=search.candidates,
        seconds=time.perf_counter() - search.started,
        jobs=used.slots if used is not None else 1,
        engine=job.engine,
        simd=job.simd,
        alphabet=alphabet_name,
        target=target.pattern,
        backend=used.name if used is not None else "local",
        devices=tuple(used.devices()) if used is not None else ("this process",),
        notices=tuple(search.notices),
        resumed_candidates=search.resumed_candidates,
    )


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
