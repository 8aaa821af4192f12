"""The OpenCL kernel's rate: candidates/s through the real backend, by fast-word position.

    python benchmarks/opencl_rate.py --device gpu            # table by fast-word position
    python benchmarks/opencl_rate.py --device 0 --seconds 3 --positions 12

Each measurement opens an ``OpenCLBackend`` on a 17-digit ws5 layout with an 8-hex target
(what ``find`` uses), keeps two chunks per device in flight like the coordinator and counts
the candidates of the chunks that come back: host work, launches and reads included.
``run.py`` imports ``device_measures`` for its OpenCL rows.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from md5steg._engine import available_engines, load_engine
from md5steg.alphabets import Alphabet
from md5steg.layout import Layout
from md5steg.target import Target

WS5 = Alphabet.named("ws5")
TARGET = Target.from_prefix("0f1e2d3c")
DIGITS = 17
"""ws5 symbols of an 8-hex search's shortest layout (5**17 >= 64 * 16**8)."""


def layout_at(position: int) -> tuple[bytes, Layout]:
    """Content and a 17-digit layout whose fast word is word ``position`` of the final block."""
    length = (4 * (position + 1) - DIGITS) % 64 + 64
    return bytes((5 * i + 1) % 256 for i in range(length)), Layout(WS5, length, DIGITS, 4, True)


def kernel_rate(selector: str, position: int, seconds: float) -> dict[str, Any]:
    """Candidates/s of the backend over ``seconds`` of steady scanning at one fast-word position."""
    from md5steg.backends.base import SearchJob
    from md5steg.backends.opencl import OpenCLBackend

    content, layout = layout_at(position)
    engine = load_engine(available_engines()[0])
    job = SearchJob(content, layout, TARGET, engine.ENGINE_NAME, engine.default_simd_path())
    backend = OpenCLBackend(selector)
    try:
        backend.open(job)
        chunk = backend.chunk_size(1.0, layout.fast_size)
        cursor = 10**15 // layout.fast_size * layout.fast_size
        in_flight, done, began = 0, 0, time.perf_counter()
        while True:
            while in_flight < 2 * backend.slots:
                backend.submit(cursor, cursor + chunk)
                cursor, in_flight = cursor + chunk, in_flight + 1
            for result in backend.wait(0.1):
                in_flight -= 1
                done += result.stop - result.start  # the launch ran to its end, hit or not
            elapsed = time.perf_counter() - began
            if elapsed >= seconds:
                break
        return {
            "position": position,
            "rate": done / elapsed,
            "devices": backend.devices(),
            "chunk": chunk,
            "expected_rate": backend.expected_rate(1.0),
        }
    finally:
        backend.close()


def device_measures() -> list[tuple[str, str, Callable[[float], dict[str, float]]]]:
    """(name, label, measure) per OpenCL device present, for run.py; none without pyopencl."""
    try:
        from md5steg.backends.opencl_devices import list_devices
    except ImportError:
        return []
    measures = []
    for info in list_devices():

        def measure(sample_seconds: float, index: int = info.index) -> dict[str, float]:
            rate = kernel_rate(str(index), 12, sample_seconds)["rate"]
            return {"rate": rate, "cpu_rate": rate}

        measures.append((f"opencl-{info.index}", f"OpenCL kernel, {info.label}", measure))
    return measures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="OpenCL kernel rate by fast-word position (8-hex ws5 target)."
    )
    parser.add_argument("--device", default="gpu", help="OpenCL device selector (default: gpu)")
    parser.add_argument("--seconds", type=float, default=2.0, help="steady scanning per position")
    parser.add_argument(
        "--positions", default="0-12", help="fast-word positions, e.g. 0-12 or 3,9,12"
    )
    args = parser.parse_args(argv)
    if "-" in args.positions:
        low, high = (int(part) for part in args.positions.split("-"))
        positions = list(range(low, high + 1))
    else:
        positions = [int(part) for part in args.positions.split(",")]
    rows = []
    for position in positions:
        row = kernel_rate(args.device, position, args.seconds)
        rows.append(row)
        print(f"position {position:2d}: {row['rate'] / 1e9:.3g} G/s", file=sys.stderr, flush=True)
    print(
        f"Kernel rate, 8-hex target `{TARGET}`, ws5, {DIGITS}-symbol suffix, on {', '.join(rows[0]['devices'])}:\n"
    )
    print("| fast word | G candidates/s |")
    print("|---:|---:|")
    for row in rows:
        print(f"| {row['position']} | {row['rate'] / 1e9:.3g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
