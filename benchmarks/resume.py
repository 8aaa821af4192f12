"""Resume's cost: one search interrupted at 10 random points and resumed, against one uninterrupted run.

    .venv/bin/python benchmarks/resume.py                     # 8 hex on every core (minutes here)
    .venv/bin/python benchmarks/resume.py --prefix 0000000    # 7 hex, for checking the harness
    .venv/bin/python benchmarks/resume.py --opencl-device gpu # the same on a GPU

First one uninterrupted run (no record) gives the answer and its candidate count U. Then the
same search runs again 11 times: each of the first 10 is interrupted (a KeyboardInterrupt from
its progress callback, as Ctrl-C arrives) once the candidates searched so far, earlier runs
included, pass the next of 10 sorted random points in (0, U); the 11th finishes. The table
compares the sum of the 11 runs' candidates with U (the target: within 2%), their summed
wall time with the uninterrupted run's, and checks the answers agree. Writes
benchmarks/results/resume.md (or --output).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from md5steg import Progress, find  # noqa: E402
from md5steg.sysinfo import describe  # noqa: E402

PAGE = b"Meet me at the usual place at noon. Bring the blue folder.\n" * 20


class StopAt:
    """Raises KeyboardInterrupt once earlier runs' and this run's candidates pass ``point``."""

    def __init__(self, point: int) -> None:
        self.point = point
        self.candidates = 0

    def __call__(self, progress: Progress) -> None:
        self.candidates = progress.candidates
        if progress.candidates + progress.resumed_candidates >= self.point:
            raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="0f1e2d3c")
    parser.add_argument("--interruptions", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--opencl-device", default=None)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "resume.md")
    args = parser.parse_args()
    where: dict[str, Any] = {"opencl_device": args.opencl_device} if args.opencl_device else {"cpu": True}
    os.environ["MD5STEG_STATE_DIR"] = tempfile.mkdtemp(prefix="md5steg-resume-bench-")

    began = time.perf_counter()
    whole = find(PAGE, args.prefix, resume=False, **where)
    whole_seconds = time.perf_counter() - began
    print(f"uninterrupted: nonce {whole.nonce_index}, {whole.candidates:,} candidates, {whole_seconds:.1f} s", flush=True)

    rng = random.Random(args.seed)
    points = sorted(rng.randrange(1, whole.candidates) for _ in range(args.interruptions))
    total_candidates, total_seconds, rows = 0, 0.0, []
    last = None
    for number, point in enumerate(points, 1):
        stop = StopAt(point)
        began = time.perf_counter()
        with contextlib.suppress(KeyboardInterrupt):
            last = find(PAGE, args.prefix, progress=stop, **where)
        seconds = time.perf_counter() - began
        total_seconds += seconds
        if last is not None:  # finished before its point (the points were closer than one report)
            total_candidates += last.candidates
            rows.append((number, None, last.candidates, seconds))
            break
        total_candidates += stop.candidates
        rows.append((number, point, stop.candidates, seconds))
        print(f"run {number}: interrupted past {point:,}, {stop.candidates:,} candidates, {seconds:.2f} s", flush=True)
    if last is None:
        began = time.perf_counter()
        last = find(PAGE, args.prefix, **where)
        seconds = time.perf_counter() - began
        total_candidates += last.candidates
        total_seconds += seconds
        rows.append((len(points) + 1, None, last.candidates, seconds))
    assert (last.nonce_index, last.suffix) == (whole.nonce_index, whole.suffix), "the answers differ"
    interrupted = sum(1 for _, point, _, _ in rows if point is not None)

    info = describe()
    excess = total_candidates / whole.candidates - 1
    lines = [
        f"## Resume: one {len(args.prefix)}-hex search interrupted {interrupted} times",
        "",
        f"{info['cpu']}, {info['cores']} cores, {info['implementation']} {info['python']}; "
        f"{whole.backend} ({', '.join(whole.devices)}); `benchmarks/resume.py --prefix {args.prefix}"
        f"{' --opencl-device ' + args.opencl_device if args.opencl_device else ''}`.",
        "",
        "| run | interrupted once past | candidates | seconds |",
        "|---:|---:|---:|---:|",
        *(
            f"| {number} | {'-' if point is None else f'{point:,}'} | {candidates:,} | {seconds:.2f} |"
            for number, point, candidates, seconds in rows
        ),
        "",
        f"- uninterrupted: {whole.candidates:,} candidates in {whole_seconds:.2f} s (nonce {whole.nonce_index:,})",
        f"- interrupted {interrupted} times and resumed: {total_candidates:,} candidates in {total_seconds:.2f} s, "
        f"same answer",
        f"- candidates over all runs: {excess:+.2%} against one run (target: within 2%); "
        f"time: {total_seconds / whole_seconds - 1:+.1%} (each run's start-up and calibration included)",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
