"""md5steg benchmarks: every implementation side by side, in one run, on the same inputs.

    .venv/bin/python benchmarks/run.py           # full run (several minutes)
    .venv/bin/python benchmarks/run.py --quick   # about a minute, for checking the harness

Measures, on one core, candidates per second of the seed's naive loop, the
pure engine (each path) on CPython and on PyPy, and the compiled core on each
SIMD path this CPU runs; then the compiled core through the real process pool
on 1..N processes; then ``md5steg find`` end to end as a subprocess. Writes
``results.md``, ``results.json``, ``results.raw.json`` and ``throughput.png``
to ``benchmarks/results/`` and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import opencl_rate
import report

PER_CORE_TARGETS = {
    "cython-avx512": 300e6,
    "cython-avx2": 130e6,
    "cython-scalar": 12e6,
    "pure-hashlib-cpython": 1.5e6,
    "pure-unrolled-pypy": 3e6,
}
"""Candidates/s per core each implementation should reach (prefix <= 8 hex)."""

TWO_PROCESS_SPEEDUP_TARGET = 1.9
E2E_TARGETS = {6: 0.5, 8: 8.0}
"""Median seconds of ``md5steg find`` for a random prefix of this many hex digits."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark md5steg's engines, process pool and CLI."
    )
    parser.add_argument(
        "--quick", action="store_true", help="short samples and few repeats (~1 minute)"
    )
    parser.add_argument(
        "--seconds", type=float, help="length of one per-core sample (default 1.0; quick 0.3)"
    )
    parser.add_argument(
        "--repeats", type=int, help="interleaved rounds per implementation (default 7; quick 3)"
    )
    parser.add_argument(
        "--seed", type=int, default=2026, help="seed for the content and the prefixes"
    )
    parser.add_argument(
        "--pypy", default=shutil.which("pypy3"), help="PyPy executable (default: pypy3 on PATH)"
    )
    parser.add_argument("--skip", action="append", default=[], choices=["pypy", "opencl", "scaling", "e2e", "plot"],
                        help="leave a section out (repeatable)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results",
                        help="directory for results.md, results.json and throughput.png")  # fmt: skip
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (0.3 if args.quick else 1.0)
    args.repeats = args.repeats or (3 if args.quick else 7)
    args.scaling_seconds = 1.0 if args.quick else 3.0
    args.scaling_repeats = 2 if args.quick else 3
    args.e2e_runs = {6: 5, 8: 1} if args.quick else {6: 15, 8: 7}
    args.e2e_budget = 10.0 if args.quick else 600.0
    return args


# -- the machine ------------------------------------------------------------------


def _first_line(command: list[str]) -> str | None:
    try:
        completed = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (completed.stdout or completed.stderr).strip()
    return text.splitlines()[0] if text else None


def machine_info(pypy: str | None) -> dict[str, Any]:
    from md5steg import __version__
    from md5steg.cores import available_cores

    try:
        from md5steg.sysinfo import cpu_model_and_flags

        cpu, flags = cpu_model_and_flags()
    except ImportError:
        cpu, flags = platform.processor(), []
    try:
        import Cython

        cython_version: str | None = Cython.__version__
    except ImportError:
        cython_version = None
    cc = sysconfig.get_config_var("CC") or "cc"
    return {
        "cpu": cpu,
        "simd_flags": flags,
        "cores": available_cores(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "pypy": _first_line([pypy, "--version"]) if pypy else None,
        "cython": cython_version,
        "cc": cc,
        "compiler": _first_line([cc.split()[0], "--version"]),
        "md5steg": __version__,
        "commit": _first_line(["git", "-C", str(harness.REPO), "describe", "--always", "--dirty"]),
        "compiled_simd_paths": harness.compiled_simd_paths(),
        "loadavg_start": harness.loadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


# -- sections ---------------------------------------------------------------------------


def per_core(
    args: argparse.Namespace, inputs: harness.Inputs, machine: dict[str, Any]
) -> dict[str, Any]:
    """Every single-core implementation, interleaved round by round on the same inputs."""
    labels: dict[str, str] = {}
    measures: dict[str, harness.Measure] = {}

    def add(name: str, label: str, measure: harness.Measure) -> None:
        labels[name] = label
        measures[name] = measure

    # Each implementation scans its own stretch of the nonce space.
    add(
        "naive-cpython",
        "naive loop, CPython (hashlib copy + hexdigest)",
        harness.naive_measure(inputs, 0),
    )
    add(
        "pure-hashlib-cpython",
        "pure engine, hashlib path, CPython",
        harness.pure_measure(inputs, "hashlib", 2**40),
    )
    add("pure-unrolled-cpython", "pure engine, unrolled path, CPython",
        harness.pure_measure(inputs, "unrolled", 2 * 2**40))  # fmt: skip
    for offset, path in enumerate(machine["compiled_simd_paths"], start=3):
        add(
            f"cython-{path}",
            f"Cython core, {path}",
            harness.compiled_measure(inputs, path, offset * 2**40),
        )
    for name, label, measure in opencl_rate.device_measures() if "opencl" not in args.skip else []:
        add(name, label, measure)  # one row per OpenCL device present; none without pyopencl
    notes: list[str] = []
    if not machine["compiled_simd_paths"]:
        notes.append("compiled core not built: no Cython rows (build with `pip install -e .`)")

    worker: harness.PyPyWorker | None = None
    pypy_info: dict[str, Any] = {"status": "skipped (--skip pypy)"} if "pypy" in args.skip else {}
    if "pypy" not in args.skip:
        if not args.pypy:
            pypy_info = {
                "status": "skipped: no pypy3 on PATH (install Debian's pypy3 or pass --pypy)"
            }
        else:
            log(f"starting the PyPy worker ({args.pypy}) and warming its JIT up ...")
            try:
                worker = harness.PyPyWorker(
                    args.pypy, inputs, warmup_seconds=2.0 if args.quick else 5.0
                )
            except (OSError, RuntimeError, ValueError) as exc:
                pypy_info = {"status": f"skipped: the PyPy worker failed to start ({exc})"}
            else:
                pypy_info = {"status": "measured", **worker.ready}
                if not all(check["ok"] for check in worker.ready["verified"]):
                    pypy_info["status"] = (
                        "measured, but a PyPy result differed from hashlib (see verified)"
                    )
                for method in ("hashlib", "unrolled"):
                    active = worker

                    def sample(
                        seconds: float, method: str = method, active: harness.PyPyWorker = active
                    ) -> dict[str, float]:
                        return active.measure(method, seconds)

                    add(f"pure-{method}-pypy", f"pure engine, {method} path, PyPy", sample)
    if pypy_info["status"].startswith("skipped"):
        notes.append(f"PyPy {pypy_info['status']}")
        log(f"PyPy {pypy_info['status']}")

    cpython_checks = [harness.verify_pure(method) for method in ("hashlib", "unrolled")]
    try:
        log(f"per core: {len(measures)} implementations x {args.repeats} rounds x {args.seconds} s")
        for measure in measures.values():  # warm-up: first calls, caches, allocator
            measure(args.seconds / 2)
        samples = harness.interleaved({name: _bind(measure, args.seconds) for name, measure in measures.items()},
                                      args.repeats)  # fmt: skip
    finally:
        if worker is not None:
            worker.close()

    naive = harness.summarize([s["rate"] for s in samples["naive-cpython"]])["median"]
    naive_cpu = harness.summarize([s["cpu_rate"] for s in samples["naive-cpython"]])["median"]
    rows = []
    for name, taken in samples.items():
        stats = harness.summarize([s["rate"] for s in taken])
        cpu = harness.summarize([s["cpu_rate"] for s in taken])
        target = PER_CORE_TARGETS.get(name)
        rows.append({
            "name": name,
            "label": labels[name],
            **stats,
            "cpu_median": cpu["median"],
            "speedup_vs_naive": stats["median"] / naive,
            "cpu_speedup_vs_naive": cpu["median"] / naive_cpu,
            "target": target,
            "meets_target": None if target is None else stats["median"] >= target,
            "samples": taken,
        })  # fmt: skip
    return {"rows": rows, "pypy": pypy_info, "cpython_verified": cpython_checks, "notes": notes}


def _bind(measure: harness.Measure, seconds: float) -> Callable[[], dict[str, float]]:
    return lambda: measure(seconds)


def scaling(
    args: argparse.Namespace, inputs: harness.Inputs, machine: dict[str, Any], one_core_rate: float
) -> dict[str, Any]:
    """The best compiled path through the real coordinator and process pool on 1..N processes."""
    from md5steg.backends.pool import ProcessPoolBackend

    if machine["compiled_simd_paths"]:
        engine, simd = "cython", machine["compiled_simd_paths"][0]
    else:
        engine, simd = "python", "none"
    chunk = ProcessPoolBackend(1).chunk_size(one_core_rate, inputs.layout.fast_size)
    counts = list(range(1, machine["cores"] + 1))
    log(
        f"scaling: {engine}/{simd} on {counts} processes, {args.scaling_repeats} rounds of ~{args.scaling_seconds} s"
    )

    def run(processes: int) -> Callable[[], dict[str, float]]:
        candidates = max(chunk, int(one_core_rate * args.scaling_seconds * processes))
        return lambda: harness.pool_measure(inputs, processes, candidates, chunk, engine, simd)

    samples = harness.interleaved({str(k): run(k) for k in counts}, args.scaling_repeats)
    base = harness.summarize([s["rate"] for s in samples["1"]])["median"]
    rows = []
    for k in counts:
        stats = harness.summarize([s["rate"] for s in samples[str(k)]])
        speedup = stats["median"] / base
        rows.append({
            "processes": k, **stats, "speedup": speedup, "efficiency": speedup / k,
            "cores_used": harness.summarize([s["cores_used"] for s in samples[str(k)]])["median"],
            "target_speedup": TWO_PROCESS_SPEEDUP_TARGET if k == 2 else None,
            "meets_target": (speedup >= TWO_PROCESS_SPEEDUP_TARGET) if k == 2 else None,
            "samples": samples[str(k)],
        })  # fmt: skip
    return {"engine": engine, "simd": simd, "chunk": chunk, "rows": rows}


def end_to_end(
    args: argparse.Namespace, machine: dict[str, Any], best_rate: float
) -> dict[str, Any]:
    """``md5steg find`` as a user runs it, Python start-up included, on random prefixes."""
    cores = machine["cores"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="md5steg-bench-") as scratch:
        source = Path(scratch) / "note.txt"
        source.write_bytes(b"Meet me at the usual place at noon. Bring the blue folder.\n" * 20)
        output = Path(scratch) / "out.txt"
        try:
            harness.run_cli_find(
                "0", source, output, timeout=120
            )  # warm-up: page cache, .pyc files
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            return {"rows": [], "status": f"skipped: `md5steg find` does not run ({exc})"}
        for digits, runs in args.e2e_runs.items():
            expected = 16**digits / max(best_rate * cores, 1.0)
            row: dict[str, Any] = {"digits": digits, "target_seconds": E2E_TARGETS[digits],
                                   "expected_search_seconds": expected}  # fmt: skip
            if expected * runs > args.e2e_budget:
                row["status"] = (f"skipped: {runs} runs would take ~{expected * runs:.0f} s at "
                                 f"{best_rate * cores / 1e6:.1f} M/s on {cores} cores (budget {args.e2e_budget:.0f} s)")  # fmt: skip
                log(f"end to end {digits} hex {row['status']}")
                rows.append(row)
                continue
            log(f"end to end: {runs} x md5steg find --prefix <{digits} random hex>")
            results = [harness.run_cli_find(prefix, source, output, timeout=max(120.0, 50 * expected))
                       for prefix in harness.random_prefixes(args.seed, digits, runs)]  # fmt: skip
            stats = harness.summarize([r["seconds"] for r in results])
            row.update(stats)
            row["status"] = "measured"
            row["meets_target"] = stats["median"] < E2E_TARGETS[digits]
            row["median_candidates"] = harness.summarize([r["candidates"] or 0 for r in results])[
                "median"
            ]
            row["runs"] = results
            rows.append(row)
    return {
        "rows": rows,
        "status": "measured",
        "command": " ".join(harness.cli_command()) + " find --prefix P FILE -o OUT --json --quiet",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    inputs = harness.make_inputs(args.seed)
    machine = machine_info(args.pypy if "pypy" not in args.skip else None)
    log(report.machine_text(machine))
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, "benchmarks/run.py"] + (argv if argv is not None else sys.argv[1:])),
        "mode": "quick" if args.quick else "full",
        "settings": {"seconds": args.seconds, "repeats": args.repeats, "scaling_seconds": args.scaling_seconds,
                     "scaling_repeats": args.scaling_repeats, "e2e_runs": args.e2e_runs},
        "machine": machine,
        "inputs": inputs.describe(),
    }  # fmt: skip
    results["per_core"] = per_core(args, inputs, machine)
    compiled = [row for row in results["per_core"]["rows"] if row["name"].startswith("cython-")]
    best = max(compiled or results["per_core"]["rows"], key=lambda row: row["median"])
    one_core = (
        best["median"]
        if compiled
        else next(
            r["median"] for r in results["per_core"]["rows"] if r["name"] == "pure-hashlib-cpython"
        )
    )
    if "scaling" not in args.skip:
        results["scaling"] = scaling(args, inputs, machine, one_core)
    if "e2e" not in args.skip:
        results["end_to_end"] = end_to_end(args, machine, one_core)
    machine["loadavg_end"] = harness.loadavg()
    results["wall_seconds"] = time.perf_counter() - began

    args.out.mkdir(parents=True, exist_ok=True)
    markdown = report.markdown(results)
    (args.out / "results.md").write_text(markdown, encoding="utf-8")
    (args.out / "results.raw.json").write_text(
        json.dumps(results, indent=1) + "\n", encoding="utf-8"
    )
    (args.out / "results.json").write_text(
        json.dumps(report.without_samples(results), indent=1) + "\n", encoding="utf-8"
    )
    written = ["results.md", "results.json", "results.raw.json"]
    if "plot" not in args.skip:
        problem = report.plot(results, args.out / "throughput.png")
        if problem:
            log(f"plot skipped: {problem}")
        else:
            written.append("throughput.png")
    print(markdown)
    log(f"wrote {', '.join(written)} to {args.out} in {results['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
