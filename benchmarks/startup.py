"""What a `find --gpu` pays before its kernel searches: the start-up, part by part, beside the CPU path.

    .venv/bin/python benchmarks/startup.py                  # pocl's CPU device (any machine)
    .venv/bin/python benchmarks/startup.py --device gpu     # on a GPU machine (gpu_check.sh runs it)

Each part runs in a fresh process, RUNS times; the table gives medians. The end-to-end rows
time the whole command (`md5steg find`, a fresh process) on a 6-hex target whose hit lies past
calibration, once on the OpenCL device and once on the CPU pool, so the difference is what
OpenCL's start-up costs there. Writes benchmarks/results/startup.md (or --output).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from md5steg.sysinfo import describe  # noqa: E402

PARTS = {
    "Python start-up (`python -c pass`)": "pass",
    "import the find command (`md5steg.cli.find`)": "import md5steg.cli.find",
    "import numpy and pyopencl": "import numpy, pyopencl",
    "... and list the OpenCL devices": (
        "from md5steg.backends.opencl_devices import select_devices; select_devices({device!r})"
    ),
    "... and create a context per device": (
        "from md5steg.backends.opencl_devices import select_devices\n"
        "from md5steg.backends.opencl import _device_context\n"
        "[_device_context(device, 0) for _, device in select_devices({device!r})]"
    ),
    "... and build the kernel (PyOpenCL's cache) and time it: `OpenCLBackend.open`": (
        "from md5steg.backends.opencl import OpenCLBackend\n"
        "from md5steg.backends.base import SearchJob\n"
        "from md5steg.layout import choose_layout\n"
        "from md5steg.alphabets import Alphabet\n"
        "from md5steg.target import Target\n"
        "target = Target.from_prefix('00000000')\n"
        "data = b'x' * 1200\n"
        "job = SearchJob(data, choose_layout(len(data), Alphabet.named('ws5'), target), target, 'cython', 'scalar')\n"
        "backend = OpenCLBackend({device!r}); backend.open(job); backend.close()"
    ),
}

DATA = b"a record to resume from, take 7\n"
PREFIX = "000000"  # lowest hit 35,084,954: past calibration everywhere
TINY_PREFIX = "000"  # ends in calibration: OpenCL is never started


def machine() -> str:
    """The CPU, its cores, the Python and the OpenCL devices, in one line."""
    info = describe()
    devices = "; ".join(info.get("opencl_devices") or ["no OpenCL device"])
    return f"{info['cpu']}, {info['cores']} cores, {info['implementation']} {info['python']}, OpenCL: {devices}"


def timed(command: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env, timeout=600)
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="OpenCL selector (default cpu: pocl)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "startup.md")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])))
    rows = []
    for label, code in PARTS.items():
        times = timed([sys.executable, "-c", code.format(device=args.device)], args.runs, env)
        rows.append((label, statistics.median(times), min(times)))
        print(f"{label}: median {rows[-1][1]:.3f} s", flush=True)

    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "page.txt"
        page.write_bytes(DATA)
        env["MD5STEG_STATE_DIR"] = str(Path(folder) / "state")
        base = [sys.executable, "-m", "md5steg", "find", str(page), "-o", str(Path(folder) / "out.txt"),
                "-q", "--json", "--no-resume"]  # fmt: skip
        flag = ["--gpu"] if args.device == "gpu" else ["--opencl-device", args.device]
        for prefix, what in ((TINY_PREFIX, "3 hex (ends in calibration)"), (PREFIX, "6 hex (hit at 35 M)")):
            for name, extra in ((" ".join(flag), flag), (f"--cpu -j {cores}", ["--cpu", "-j", str(cores)])):
                command = [*base, "--prefix", prefix, *extra]
                times = timed(command, args.runs, env)
                report = json.loads(subprocess.run(command, capture_output=True, env=env, check=True).stdout)
                rows.append(
                    (f"`find {name}`, {what}: whole command ({report['backend']})",
                     statistics.median(times), min(times))
                )
                print(f"{rows[-1][0]}: median {rows[-1][1]:.3f} s", flush=True)

    lines = [
        f"## Start-up of `find` on OpenCL ({args.device}) beside the CPU path",
        "",
        f"{machine()}; {args.runs} fresh processes per row; `benchmarks/startup.py --device {args.device}`.",
        "",
        "| what | median s | min s |",
        "|---|---:|---:|",
        *(f"| {label} | {median:.3f} | {low:.3f} |" for label, median, low in rows),
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
