"""Measurement functions for the md5steg benchmarks: one input, many implementations.

Every per-core measurement scans the same content, alphabet and target from
its own cursor in the nonce space, so no two samples hash the same
candidates; ``run.py`` interleaves the implementations round by round so load
from other processes hits all of them alike. The rate is candidates actually
tried (as the scanners report them) over wall-clock time.

This module imports only md5steg and the standard library, so the PyPy
worker (``pypy_worker.py``) can use it too.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
if str(SRC) not in sys.path:  # run from a checkout without installing (PyPy does this)
    sys.path.insert(0, str(SRC))

from md5steg.alphabets import Alphabet
from md5steg.layout import Layout, choose_layout
from md5steg.target import Target

Measure = Callable[[float], dict[str, float]]
"""Runs one timed sample of about ``seconds``: candidates per wall-clock second (``rate``)
and per second of this thread's CPU time (``cpu_rate``, what an unshared core would do)."""


# -- inputs --------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """What every implementation hashes: the same content, alphabet and target."""

    content: bytes
    alphabet: Alphabet
    target: Target
    layout: Layout
    seed: int

    def describe(self) -> dict[str, Any]:
        return {
            "content_bytes": len(self.content),
            "alphabet": self.alphabet.name,
            "target": self.target.pattern,
            "suffix_symbols": self.layout.digits,
            "fast_digits": self.layout.fast_digits,
            "aligned": self.layout.aligned,
            "seed": self.seed,
        }


def make_inputs(
    seed: int = 2026, content_length: int = 1000, prefix_digits: int = 8, alphabet: str = "ws5"
) -> Inputs:
    """Seeded content and a random ``prefix_digits``-hex prefix (<= 8 lets the C core check one word)."""
    rng = random.Random(seed)
    content = bytes(rng.getrandbits(8) for _ in range(content_length))
    prefix = "".join(rng.choice("0123456789abcdef") for _ in range(prefix_digits))
    resolved = Alphabet.named(alphabet)
    target = Target.from_prefix(prefix)
    return Inputs(content, resolved, target, choose_layout(len(content), resolved, target), seed)


# -- statistics ----------------------------------------------------------------


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Median, min, max and quartiles of a sample (quartiles need at least two values)."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "q1": q1,
        "q3": q3,
    }


# -- timed scans ---------------------------------------------------------------


class ScanMeasure:
    """Times ``scan(start, stop) -> (hit, tried)`` over fresh ranges of the nonce space."""

    def __init__(self, scan: Callable[[int, int], Any], step: int, start: int = 0) -> None:
        self._scan = scan
        self._step = max(1, step)
        self._chunk = self._step
        self._cursor = start

    def __call__(self, seconds: float) -> dict[str, float]:
        scan = self._scan
        tried_total = 0
        began, cpu_began = time.perf_counter(), time.thread_time()
        while True:
            chunk_began = time.perf_counter()
            _, tried = scan(self._cursor, self._cursor + self._chunk)
            now = time.perf_counter()
            self._cursor += self._chunk
            tried_total += tried
            if now - chunk_began < seconds / 20:  # keep the timer's share small
                self._chunk *= 2
            if now - began >= seconds:
                cpu = max(time.thread_time() - cpu_began, 1e-9)
                return {"rate": tried_total / (now - began), "cpu_rate": tried_total / cpu}


def naive_measure(inputs: Inputs, start: int = 0) -> Measure:
    """The seed's loop: suffix built per candidate, OpenSSL hashlib copy, hexdigest, startswith."""
    layout = inputs.layout
    prefix = inputs.target.pattern
    base = hashlib.md5(inputs.content)

    def scan(first: int, stop: int) -> tuple[int, int]:
        for nonce_index in range(first, stop):
            h = base.copy()
            h.update(layout.suffix(nonce_index))
            if h.hexdigest().startswith(prefix):
                return nonce_index, nonce_index - first + 1
        return -1, stop - first

    return ScanMeasure(scan, 256, start)


def scanner_measure(scanner: Any, inputs: Inputs, start: int = 0) -> Measure:
    """Times an engine ``Scanner`` (pure or compiled) on the shared inputs."""
    return ScanMeasure(scanner.scan, inputs.layout.fast_size, start)


def pure_measure(inputs: Inputs, method: str, start: int = 0) -> Measure:
    from md5steg import _engine_py

    scanner = _engine_py.Scanner(inputs.content, inputs.layout, inputs.target, method=method)
    return scanner_measure(scanner, inputs, start)


def compiled_measure(inputs: Inputs, simd: str, start: int = 0) -> Measure:
    from md5steg._engine import load_engine

    scanner = load_engine("cython").Scanner(inputs.content, inputs.layout, inputs.target, simd)
    return scanner_measure(scanner, inputs, start)


def compiled_simd_paths() -> list[str]:
    """SIMD paths of the compiled core on this CPU (empty when not built or MD5STEG_NO_EXTENSIONS=1)."""
    from md5steg._engine import available_engines, load_engine

    if "cython" not in available_engines():
        return []
    return list(load_engine("cython").simd_paths())


def verify_pure(
    method: str, prefix: str = "a7", content_length: int = 77, stop: int = 20000
) -> dict[str, Any]:
    """Scan a short target with the pure engine and check the hit against hashlib candidate by candidate."""
    from md5steg import _engine_py

    content = bytes(range(content_length))
    target = Target.from_prefix(prefix)
    layout = choose_layout(len(content), Alphabet.named("ws5"), target)
    scanner = _engine_py.Scanner(content, layout, target, method=method)
    hit, _tried = scanner.scan(0, stop)
    expected = next(
        (
            n
            for n in range(stop)
            if hashlib.md5(content + layout.suffix(n)).hexdigest().startswith(prefix)
        ),
        -1,
    )
    return {
        "method": scanner.method,
        "hit": hit,
        "expected": expected,
        "ok": hit == expected and hit >= 0,
    }


# -- the PyPy worker, driven over a pipe -----------------------------------------


class PyPyWorker:
    """A long-lived ``pypy3 pypy_worker.py`` process: warmed up once, then sampled on request.

    Keeping one process means the JIT warms up once, and the parent can
    interleave PyPy samples with the in-process ones.
    """

    def __init__(self, executable: str, inputs: Inputs, warmup_seconds: float) -> None:
        env = dict(os.environ, PYTHONPATH=str(SRC), MD5STEG_NO_EXTENSIONS="1")
        worker = Path(__file__).resolve().parent / "pypy_worker.py"
        self._process = subprocess.Popen(
            [executable, str(worker), "--seed", str(inputs.seed), "--content-length", str(len(inputs.content)),
             "--prefix", inputs.target.pattern, "--alphabet", inputs.alphabet.name,
             "--warmup", str(warmup_seconds)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, cwd=str(REPO),
        )  # fmt: skip
        self.ready: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the PyPy worker exited with status {self._process.wait()}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"the PyPy worker failed: {reply['error']}")
        return reply

    def measure(self, method: str, seconds: float) -> dict[str, float]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"method": method, "seconds": seconds}) + "\n")
        self._process.stdin.flush()
        reply = self._read()
        return {"rate": float(reply["rate"]), "cpu_rate": float(reply["cpu_rate"])}

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


# -- the process pool -------------------------------------------------------------


def pool_measure(
    inputs: Inputs, processes: int, candidates: int, chunk: int, engine: str, simd: str
) -> dict[str, float]:
    """Throughput of the real coordinator and process pool over a fixed number of candidates.

    The job's layout is capped at ``candidates`` nonces, so ``scan_ranges``
    hands out ranges, collects results and stops exactly as a search that
    never hits would; the time includes starting and stopping the pool.
    """
    from md5steg.backends.base import SearchJob
    from md5steg.backends.pool import ProcessPoolBackend
    from md5steg.search import scan_ranges

    layout = CappedLayout(
        inputs.alphabet, inputs.layout.content_length, inputs.layout.digits, inputs.layout.fast_digits,
        inputs.layout.aligned, limit=candidates,
    )  # fmt: skip
    unreachable = Target.from_prefix("0" * 24)  # never hits, so every candidate is scanned
    job = SearchJob(inputs.content, layout, unreachable, engine, simd)
    workers_cpu = _children_cpu_seconds()
    began = time.perf_counter()
    pool = ProcessPoolBackend(processes)
    try:
        pool.open(job)
        hit, tried = scan_ranges(pool, job, 0, lambda: chunk, 0, lambda _: None)
    finally:
        pool.close()
    seconds = time.perf_counter() - began
    workers_cpu = _children_cpu_seconds() - workers_cpu  # the pool's workers are reaped by now
    if hit >= 0 or tried != layout.capacity:
        raise RuntimeError(
            f"pool scan of {layout.capacity} candidates reported hit {hit}, tried {tried}"
        )
    return {
        "rate": tried / seconds,
        "seconds": seconds,
        "candidates": tried,
        "cores_used": workers_cpu / seconds,  # below `processes`: other load took CPU time
    }


def _children_cpu_seconds() -> float:
    """CPU time of this process's reaped children (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class CappedLayout(Layout):
    """A layout whose nonce space ends at ``limit``: a fixed amount of work for the pool."""

    limit: int = field(default=0)

    @property
    def capacity(self) -> int:
        return min(super().capacity, self.limit)


# -- end to end ---------------------------------------------------------------------


def cli_command() -> list[str]:
    """How to start ``md5steg`` the way a user does: the console script beside this Python."""
    script = Path(sys.executable).parent / "md5steg"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from md5steg.cli import main; sys.exit(main())"]


def run_cli_find(prefix: str, source: Path, output: Path, timeout: float) -> dict[str, Any]:
    """Time one ``md5steg find --prefix P FILE -o OUT --json`` subprocess, start-up included."""
    command = cli_command() + [
        "find",
        "--prefix",
        prefix,
        str(source),
        "-o",
        str(output),
        "--json",
        "--quiet",
    ]
    began = time.perf_counter()
    completed = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=timeout
    )
    seconds = time.perf_counter() - began
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {completed.returncode}: {completed.stderr.strip()}"
        )
    report: dict[str, Any] = json.loads(completed.stdout)
    digest = hashlib.md5(output.read_bytes()).hexdigest()
    if not digest.startswith(prefix):
        raise RuntimeError(
            f"md5steg find wrote a file with MD5 {digest}, which does not start with {prefix}"
        )
    return {"prefix": prefix, "seconds": seconds, "candidates": report.get("candidates"),
            "search_seconds": report.get("seconds"), "jobs": report.get("jobs"),
            "engine": report.get("engine"), "simd": report.get("simd")}  # fmt: skip


def random_prefixes(seed: int, digits: int, count: int) -> list[str]:
    rng = random.Random(f"{seed}-{digits}")
    return ["".join(rng.choice("0123456789abcdef") for _ in range(digits)) for _ in range(count)]


def interleaved(measures: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[Any]]:
    """Run every measure once per round, rotating the order each round; samples per name."""
    names = list(measures)
    samples: dict[str, list[Any]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            samples[name].append(measures[name]())
    return samples


def loadavg() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None
