"""Measures the pure engine under PyPy on request from ``run.py`` (one JSON line in, one out).

Started as ``PYTHONPATH=src MD5STEG_NO_EXTENSIONS=1 pypy3 benchmarks/pypy_worker.py ...``.
It first checks both pure paths against hashlib, warms the JIT up on the
benchmark inputs, prints a ``ready`` line, then answers each request
``{"method": ..., "seconds": ...}`` with ``{"rate": ...}`` until stdin closes.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--content-length", type=int, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--alphabet", default="ws5")
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()

    inputs = harness.make_inputs(args.seed, args.content_length, len(args.prefix), args.alphabet)
    if inputs.target.pattern != args.prefix:
        print(
            json.dumps(
                {
                    "error": f"inputs differ from the parent's: {inputs.target.pattern} != {args.prefix}"
                }
            )
        )
        return 1
    verified = [harness.verify_pure(method) for method in ("hashlib", "unrolled")]
    measures = {}
    for method in ("hashlib", "unrolled"):
        measures[method] = harness.pure_measure(
            inputs, method, start=0 if method == "hashlib" else 2**40
        )
        measures[method](args.warmup)
    print(json.dumps({
        "ready": True,
        "pypy": platform.python_version(),
        "pypy_version": ".".join(str(part) for part in sys.pypy_version_info[:3])  # type: ignore[attr-defined]
        if hasattr(sys, "pypy_version_info") else None,
        "implementation": platform.python_implementation(),
        "verified": verified,
    }), flush=True)  # fmt: skip
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps(measures[request["method"]](float(request["seconds"]))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
