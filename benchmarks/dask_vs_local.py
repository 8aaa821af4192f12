"""A Dask cluster against the local process pool, same cores, same search, side by side.

    .venv/bin/python benchmarks/dask_vs_local.py             # ~2.5 minutes
    .venv/bin/python benchmarks/dask_vs_local.py --quick     # ~30 s, for checking the harness
    .venv/bin/python benchmarks/dask_vs_local.py --opencl-device cpu --workers 1
                                                             # pocl: workers' devices vs local

Starts ``dask scheduler`` and WORKERS ``dask worker --nthreads 1`` processes on
127.0.0.1, then runs ``md5steg.find`` on a target that cannot hit (a full
32-digit pattern) for a fixed time, once through the local pool of WORKERS
processes and once through the cluster, alternating, several rounds. The rate
is candidates per second between the first progress report after WARMUP
seconds and the last one (start-up excluded); each round's dask/local ratio
compares two runs seconds apart, and the headline is their median. Prints a
markdown table and writes it to ``benchmarks/results/dask.md``.

With ``--opencl-device SELECTOR`` both sides search on OpenCL: the local run on
this machine's devices, the cluster's workers each on their own (the same
devices here, so one worker compares like with like); the table goes to
``benchmarks/results/dask_opencl.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import distributed
import psutil  # a dependency of distributed

from md5steg import Progress, find
from md5steg.sysinfo import describe

UNHITTABLE = "0123456789abcdef0123456789abcdef"
"""A full digest: no search ever matches it, so every run scans for its whole time."""

RESULTS = Path(__file__).resolve().parent / "results" / "dask.md"
RATIO_GOAL = 0.9


class StopMeasuring(Exception):
    """Raised from the progress callback to end a timed run (the coordinator closes the backend)."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_cluster(workers: int) -> tuple[str, list[subprocess.Popen[bytes]]]:
    """A scheduler and ``workers`` one-thread workers on 127.0.0.1, as real processes."""
    dask = str(Path(sys.executable).with_name("dask"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    worker = [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"]
    commands += [worker] * workers
    # Each in a process group of its own (one kill takes a nanny and its worker) but in this
    # session: Linux's autogroup shares CPU per session, so a session of their own would give
    # the cluster a larger share of a loaded machine than the local pool gets.
    processes = [
        subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=os.setpgrp
        )
        for command in commands
    ]
    with distributed.Client(address, timeout=60, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=60)
    return address, processes


def stop_cluster(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def tree(root: int) -> list[psutil.Process]:
    """A process and all its descendants (an empty list once it has gone)."""
    try:
        process = psutil.Process(root)
        return [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def search_processes(scheduler: Optional[str], cluster_pids: list[int]) -> list[psutil.Process]:
    """The processes a search runs on, once it runs (listing them is slow: do it once).

    Local: this process and its children but the cluster's (they idle meanwhile).
    Dask: this process alone and the cluster's processes (scheduler, nannies, workers).
    """
    cluster = [member for pid in cluster_pids for member in tree(pid)]
    if scheduler is not None:
        return [psutil.Process(), *cluster]
    cluster_pid_set = {member.pid for member in cluster}
    return [member for member in tree(os.getpid()) if member.pid not in cluster_pid_set]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds these processes have used so far."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def timed_rate(
    scheduler: Optional[str],
    jobs: int,
    seconds: float,
    warmup: float,
    cluster_pids: list[int],
    opencl_device: Optional[str] = None,
) -> tuple[float, float]:
    """Candidates per wall second and per CPU second of one unhittable search, after ``warmup``.

    CPU seconds count every process the search runs on: this one and its pool,
    or this one and the whole cluster (scheduler, nannies, workers), so the
    second figure is the backend's cost whatever else loads the machine.
    """
    snapshots: list[tuple[float, int, float]] = []
    processes: list[psutil.Process] = []

    def watch(progress: Progress) -> None:
        if progress.seconds >= warmup:
            if not processes:
                processes.extend(search_processes(scheduler, cluster_pids))
            snapshots.append((progress.seconds, progress.candidates, cpu_seconds(processes)))
        if progress.seconds >= seconds:
            raise StopMeasuring

    with contextlib.suppress(StopMeasuring):
        find(
            b"md5steg dask benchmark\n" * 40,
            pattern=UNHITTABLE,
            jobs=jobs,
            scheduler=scheduler,
            progress=watch,
            max_expected_seconds=None,
            opencl_device=opencl_device,
            resume=False,
        )
    first_seconds, first_candidates, first_cpu = snapshots[0]
    last_seconds, last_candidates, last_cpu = snapshots[-1]
    candidates = last_candidates - first_candidates
    return candidates / (last_seconds - first_seconds), candidates / (last_cpu - first_cpu)


def idle_cpu_share(cluster_pids: list[int], seconds: float = 3.0) -> float:
    """CPU-seconds per second the cluster's processes use while no search runs (heartbeats)."""
    processes = search_processes("idle", cluster_pids)[1:]
    before = cpu_seconds(processes)
    time.sleep(seconds)
    return (cpu_seconds(processes) - before) / seconds


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="workers = pool processes (2)")
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds (8)")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one run (8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds ignored first (2)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 5 s runs")
    parser.add_argument("--output", type=Path, default=None, help="markdown file to write")
    parser.add_argument("--opencl-device", default=None, help="search on OpenCL devices on both sides")
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS.with_name("dask_opencl.md") if args.opencl_device else RESULTS
    if args.quick:
        args.rounds, args.seconds, args.warmup = 2, 5.0, 1.5

    info = describe()
    load_before = os.getloadavg()
    log(f"starting a scheduler and {args.workers} one-thread workers ...")
    address, processes = start_cluster(args.workers)
    cluster_pids = [process.pid for process in processes]
    rates: dict[str, list[float]] = {"local": [], "dask": []}
    cpu_rates: dict[str, list[float]] = {"local": [], "dask": []}
    try:
        idle = idle_cpu_share(cluster_pids)
        for round_index in range(args.rounds):
            for name, scheduler in (("local", None), ("dask", address)):
                rate, cpu_rate = timed_rate(
                    scheduler, args.workers, args.seconds, args.warmup, cluster_pids, args.opencl_device
                )
                rates[name].append(rate)
                cpu_rates[name].append(cpu_rate)
                log(
                    f"round {round_index + 1}: {name:5} {rate / 1e6:8.2f} M/s "
                    f"{cpu_rate / 1e6:8.2f} M/CPU-s"
                )
    finally:
        stop_cluster(processes)
    load_after = os.getloadavg()

    # Each round's two runs are seconds apart: their ratio cancels most of the load drift.
    paired = [dask / local for local, dask in zip(rates["local"], rates["dask"])]
    cpu_paired = [dask / local for local, dask in zip(cpu_rates["local"], cpu_rates["dask"])]
    ratio, cpu_ratio = statistics.median(paired), statistics.median(cpu_paired)
    arguments = "".join(f" {word}" for word in (argv if argv is not None else sys.argv[1:]))
    title = (
        f"# Dask workers on their OpenCL devices ({args.opencl_device}) vs local OpenCL"
        if args.opencl_device
        else "# Dask cluster vs local process pool"
    )
    lines = [
        title,
        "",
        f"Command: `.venv/bin/python benchmarks/dask_vs_local.py{arguments}`",
        "",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- Machine: {info['cpu']} ({platform.machine()}), {os.cpu_count()} logical CPUs, "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after",
        f"- md5steg {info['md5steg']}, engine {info['engine']}/{info['simd']}, "
        f"Python {platform.python_version()}, dask.distributed {distributed.__version__}",
        (f"- OpenCL devices: {'; '.join(info.get('opencl_devices') or [])}; selector {args.opencl_device!r} "
         f"on both sides\n" if args.opencl_device else "")
        + f"- {'one local OpenCL search' if args.opencl_device else f'{args.workers} pool processes'}"
        f" vs a scheduler and {args.workers} "
        f"`dask worker --nthreads 1` processes on 127.0.0.1, target {UNHITTABLE} (never hits), "
        f"{args.rounds} rounds of one run each (local, then dask), {args.seconds:g} s per run, "
        f"the first {args.warmup:g} s ignored",
        "- Wall: candidates per second. CPU: candidates per CPU-second of every process the "
        "search runs on (this one and its pool, or this one and the whole cluster: scheduler, "
        "nannies, workers); it counts the backend's overhead whatever else loads the machine.",
        f"- The idle cluster uses {idle:.3f} CPU-seconds per second (heartbeats, event loops).",
        "",
        "| round | local M/s | dask M/s | dask/local "
        "| local M/CPU-s | dask M/CPU-s | dask/local CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for index in range(args.rounds):
        lines.append(
            f"| {index + 1} | {rates['local'][index] / 1e6:.1f} | "
            f"{rates['dask'][index] / 1e6:.1f} | "
            f"{paired[index]:.3f} | {cpu_rates['local'][index] / 1e6:.1f} | "
            f"{cpu_rates['dask'][index] / 1e6:.1f} | {cpu_paired[index]:.3f} |"
        )
    lines.append(
        f"| median | {statistics.median(rates['local']) / 1e6:.1f} | "
        f"{statistics.median(rates['dask']) / 1e6:.1f} | **{ratio:.3f}** | "
        f"{statistics.median(cpu_rates['local']) / 1e6:.1f} | "
        f"{statistics.median(cpu_rates['dask']) / 1e6:.1f} | **{cpu_ratio:.3f}** |"
    )
    verdict = "met" if ratio >= RATIO_GOAL else "not met"
    lines += [
        "",
        f"Dask / local, median of the rounds: **{ratio:.3f}x** wall (goal >= {RATIO_GOAL}x: "
        f"{verdict}), **{cpu_ratio:.3f}x** per CPU-second.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
