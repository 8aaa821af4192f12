"""md5steg collide against fastcoll: time per collision, side by side, interleaved, one machine.

    .venv/bin/python benchmarks/collide.py --fastcoll /path/to/fastcoll      # 21 seeds each
    .venv/bin/python benchmarks/collide.py --quick                           # 5 seeds, no fastcoll needed

Per seed, in rotating order: fastcoll (built from HashClash's source with -O3 -march=native,
see benchmarks/README.md) from MD5's IV, ``md5steg.collide(seed=..., jobs=1)`` and the same
with ``jobs=2``, all from MD5's IV (no prefix). The time of one collision is heavy-tailed
(geometric in the attempts), so the table gives quartiles and extremes, not only the median.
Each run's CPU time is reported beside its wall time: on a shared machine CPU time is what
compares per-core speed; jobs=2 can only be judged by wall time.

Engine rows: one fixed piece of work (ten attempts from one seed plus block 0's winning
attempt of another, as in the test suite), timed on the compiled core, the pure
engine on CPython and on PyPy; a whole collision on the pure engine would take hours, so its
time per collision is that ratio times the compiled core's median.

Writes benchmarks/results/collide.md and collide.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402 - puts src/ on sys.path
from md5steg._engine import available_engines, load_engine  # noqa: E402
from md5steg.collision import collide  # noqa: E402

RESULTS = harness.REPO / "benchmarks" / "results"
MD5_IV = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
FASTCOLL_SEED2 = 0x12345678  # fastcoll's own default for --seed2
# The fixed work unit of the engine rows (see tests/test_collide.py).
CHEAP_ATTEMPTS_SEED = (2, 0x9E3779B9)
CHEAP_ATTEMPTS = 10
BLOCK0_WIN_STATE = (45830640, 3567572965)
PER_CORE_GOAL = 1.0
"""md5steg -j 1's median CPU time per collision over fastcoll's, at most."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark md5steg collide against fastcoll.")
    parser.add_argument("--fastcoll", default=os.environ.get("FASTCOLL") or shutil.which("fastcoll"),
                        help="fastcoll executable (default: $FASTCOLL, else fastcoll on PATH)")
    parser.add_argument("--pypy", default=shutil.which("pypy3"), help="PyPy executable (default: pypy3 on PATH)")
    parser.add_argument("--runs", type=int, default=21, help="seeds per implementation (default 21)")
    parser.add_argument("--first-seed", type=int, default=1, help="seed of the first round (default 1)")
    parser.add_argument("--quick", action="store_true", help="5 seeds, for checking the harness")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for collide.md and collide.json")
    parser.add_argument("--render", type=Path, help="rewrite collide.md from this collide.json and exit")
    parser.add_argument("--engine-work", help=argparse.SUPPRESS)  # the PyPy child: time the work unit
    return parser.parse_args(argv)


def cpu_model() -> str:
    try:
        from md5steg.sysinfo import cpu_model_and_flags

        return cpu_model_and_flags()[0]
    except ImportError:
        return platform.processor()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_fastcoll(fastcoll: str, seed: int, folder: Path) -> dict[str, float]:
    """One fastcoll run from MD5's IV; checks its pair with hashlib."""
    out1, out2 = folder / "fc1", folder / "fc2"
    cpu, wall = children_cpu(), time.perf_counter()
    subprocess.run([fastcoll, "--seed1", str(seed), "--seed2", str(FASTCOLL_SEED2), "-o", str(out1), str(out2)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    data1, data2 = out1.read_bytes(), out2.read_bytes()
    if data1 == data2 or hashlib.md5(data1).digest() != hashlib.md5(data2).digest():
        raise SystemExit(f"fastcoll seed {seed} did not write a collision")
    return {"wall": wall, "cpu": cpu}


def run_md5steg(seed: int, jobs: int) -> dict[str, float]:
    """One md5steg collision (checked with hashlib inside collide) from MD5's IV."""
    cpu, children, wall = self_cpu(), children_cpu(), time.perf_counter()
    result = collide(b"", seed=seed, jobs=jobs, engine="cython")
    wall = time.perf_counter() - wall
    return {"wall": wall, "cpu": self_cpu() - cpu + children_cpu() - children, "attempts": result.attempts}


def engine_work(engine: str, min_seconds: float = 0.5) -> float:
    """Seconds for the fixed work unit on one engine (this interpreter), repeated to at least min_seconds."""
    module = load_engine(engine)
    started, units = time.perf_counter(), 0
    while True:
        search = module.CollisionSearch(MD5_IV, *CHEAP_ATTEMPTS_SEED)
        search.run(CHEAP_ATTEMPTS)
        # A search seeded with the PRNG state before block 0's winning attempt runs that attempt first.
        block0 = module.CollisionSearch(MD5_IV, *BLOCK0_WIN_STATE)
        block0.run(1)
        if block0.stage != 1:
            raise SystemExit(f"the {engine} engine did not find block 0 from the recorded state")
        units += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return elapsed / units


def engine_rows(pypy: str | None, quick: bool) -> list[dict[str, Any]]:
    repeats = 1 if quick else 3
    rows = []
    measures: list[tuple[str, str, Callable[[], float]]] = []
    if "cython" in available_engines():
        measures.append(("cython", "Cython (compiled core)", lambda: engine_work("cython")))
    measures.append(("python-cpython", f"pure engine, CPython {platform.python_version()}", lambda: engine_work("python")))
    if pypy:
        measures.append(("python-pypy", "pure engine, PyPy", lambda: pypy_engine_work(pypy)))
    for key, label, measure in measures:
        log(f"engine work unit: {label} ...")
        times = [measure() for _ in range(repeats)]
        rows.append({"key": key, "label": label, "seconds": min(times), "samples": times})
    return rows


def pypy_engine_work(pypy: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(harness.SRC), "MD5STEG_NO_EXTENSIONS": "1"}
    completed = subprocess.run([pypy, __file__, "--engine-work", "python"], env=env, check=True,
                               capture_output=True, text=True)
    return float(json.loads(completed.stdout.strip().splitlines()[-1])["seconds"])


def table(name: str, samples: list[dict[str, float]], key: str) -> dict[str, Any]:
    values = [sample[key] for sample in samples]
    return {"name": name, "measure": key, "mean": sum(values) / len(values), **harness.summarize(values)}


def judge(by: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """The sentences under the table: md5steg -j 1 against fastcoll, and -j 2 against -j 1."""
    verdicts = []
    one = by[("md5steg -j 1", "cpu")]
    if ("fastcoll", "cpu") in by:
        fastcoll = by[("fastcoll", "cpu")]
        ratio, mean_ratio = one["median"] / fastcoll["median"], one["mean"] / fastcoll["mean"]
        verdicts.append(
            f"md5steg -j 1 / fastcoll, CPU seconds per collision: median **{ratio:.2f}x**, mean "
            f"**{mean_ratio:.2f}x** (goal <= {PER_CORE_GOAL:.1f}x). The time is heavy-tailed (roughly "
            f"exponential), so over {one['n']} seeds each ratio is uncertain by about "
            f"+-{2 * 100 / one['n'] ** 0.5:.0f}%: read it as 'the same speed per core' unless it is far from 1."
        )
    two_wall = by[("md5steg -j 2", "wall")]["median"] / by[("md5steg -j 1", "wall")]["median"]
    two_cpu = by[("md5steg -j 2", "cpu")]["mean"] / 2 / one["mean"]
    verdicts.append(
        f"md5steg -j 2 / -j 1: median wall seconds **{two_wall:.2f}**; mean CPU seconds of one -j 2 worker "
        f"(both together / 2, the time the winner ran) over -j 1's: **{two_cpu:.2f}** (0.5 wanted). "
        f"Wall time shows it only when two cores are idle."
    )
    return verdicts


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        "# md5steg collide vs fastcoll",
        "",
        f"CPU: {machine['cpu']} ({machine['cores']} cores usable; load average at start "
        f"{machine['loadavg_start']}, at end {machine['loadavg_end']}). {machine['python']}; "
        f"fastcoll: {machine['fastcoll'] or 'not given'}. {machine['date']}.",
        "",
        f"One collision from MD5's IV (no prefix), seeds {results['first_seed']}.."
        f"{results['first_seed'] + results['runs'] - 1} for each, interleaved. Seconds.",
        "",
        "| implementation | measure | runs | min | q1 | median | q3 | max | mean |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["tables"]:
        lines.append(
            f"| {row['name']} | {row['measure']} | {row['n']} | {row['min']:.3f} | {row['q1']:.3f} | "
            f"{row['median']:.3f} | {row['q3']:.3f} | {row['max']:.3f} | {row['mean']:.3f} |"
        )
    lines += ["", *results["verdicts"], "", "## Engines: one fixed piece of work", "",
              "| engine | seconds per unit (best of runs) | x compiled | est. seconds per collision |", "|---|---:|---:|---:|"]
    for row in results["engines"]:
        lines.append(f"| {row['label']} | {row['seconds']:.5f} | {row['ratio']:.0f} | {row['per_collision']:.1f} |")
    lines += ["", results["engine_note"], "", "## Every run", "", "```", json.dumps(results["samples"]), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.engine_work:
        print(json.dumps({"seconds": engine_work(args.engine_work)}))
        return 0
    if args.render:
        results = json.loads(args.render.read_text())
        results["verdicts"] = judge({(row["name"], row["measure"]): row for row in results["tables"]})
        (args.out / "collide.md").write_text(markdown(results))
        (args.out / "collide.json").write_text(json.dumps(results, indent=1) + "\n")
        return 0
    runs = 5 if args.quick else args.runs
    machine = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "fastcoll": args.fastcoll,
        "loadavg_start": harness.loadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }
    log(f"{runs} seeds; CPU {machine['cpu']}; fastcoll {args.fastcoll or 'not found (pass --fastcoll PATH)'}")
    samples: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        measures: dict[str, Callable[[], dict[str, float]]] = {}
        seeds = iter(range(args.first_seed, args.first_seed + runs))
        current = {"seed": 0}

        def next_seed() -> None:
            current["seed"] = next(seeds)

        if args.fastcoll:
            measures["fastcoll"] = lambda: run_fastcoll(args.fastcoll, current["seed"], Path(folder))
        measures["md5steg -j 1"] = lambda: run_md5steg(current["seed"], 1)
        measures["md5steg -j 2"] = lambda: run_md5steg(current["seed"], 2)
        samples = {name: [] for name in measures}
        names = list(measures)
        for round_index in range(runs):
            next_seed()
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                samples[name].append({"seed": current["seed"], **measures[name]()})
            log(f"seed {current['seed']}: " + ", ".join(
                f"{name} {samples[name][-1]['cpu']:.2f} s CPU / {samples[name][-1]['wall']:.2f} s" for name in names))
    tables = []
    for name in samples:
        tables.append(table(name, samples[name], "cpu"))
        tables.append(table(name, samples[name], "wall"))
    by = {(row["name"], row["measure"]): row for row in tables}
    one = by[("md5steg -j 1", "cpu")]["median"]
    verdicts = judge(by)
    engines = engine_rows(args.pypy, args.quick)
    compiled = next((row["seconds"] for row in engines if row["key"] == "cython"), None)
    for row in engines:
        row["ratio"] = row["seconds"] / compiled if compiled else float("nan")
        row["per_collision"] = row["ratio"] * one
    engine_note = (
        "The work unit is ten attempts from seed words (2, 0x9e3779b9) plus block 0's winning attempt "
        "from the state in tests/test_collide.py (most of the unit: it runs the tunnels). Estimated seconds per collision = "
        "(work time / compiled work time) x the compiled core's median CPU seconds above."
        + ("" if args.pypy else " PyPy: skipped, no pypy3 on PATH (pass --pypy).")
    )
    machine["loadavg_end"] = harness.loadavg()
    results = {"machine": machine, "runs": runs, "first_seed": args.first_seed, "tables": tables, "verdicts": verdicts, "engines": engines,
               "engine_note": engine_note, "samples": samples}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "collide.json").write_text(json.dumps(results, indent=1) + "\n")
    text = markdown(results)
    (args.out / "collide.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
