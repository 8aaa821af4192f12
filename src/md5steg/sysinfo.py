"""What this installation runs on: versions, engines, SIMD paths, CPU and compiler.

Used by ``md5steg info``, ``make info`` and the benchmarks, so every report
names the same facts.
"""

from __future__ import annotations

import os
import platform
import sysconfig
from typing import Any, Optional

from ._engine import available_engines, load_engine
from ._version import __version__
from .cores import available_cores

_SIMD_FLAGS = ("sse2", "ssse3", "sse4_1", "avx", "avx2", "bmi2", "avx512f", "avx512bw", "avx512vl", "asimd", "neon")


def cpu_model_and_flags() -> tuple[str, list[str]]:
    """CPU model name and the SIMD-relevant feature flags (Linux /proc/cpuinfo, else platform)."""
    model = platform.processor() or platform.machine()
    flags: list[str] = []
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in ("model name", "cpu model") and model in ("", platform.machine(), platform.processor()):
                    model = value.strip()
                elif key in ("flags", "features") and not flags:
                    flags = [flag for flag in value.split() if flag in _SIMD_FLAGS]
    except OSError:
        pass
    return model, flags


def describe() -> dict[str, Any]:
    """Everything ``md5steg info`` prints, as a dict."""
    engines = available_engines()
    best = load_engine(engines[0])
    cython_version: Optional[str]
    try:
        from Cython.Shadow import __version__ as cython_version
    except ImportError:
        cython_version = None
    model, flags = cpu_model_and_flags()
    return {
        "md5steg": __version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "engines": engines,
        "engine": best.ENGINE_NAME,
        "simd_paths": list(best.simd_paths()),
        "simd": os.environ.get("MD5STEG_SIMD") or best.default_simd_path(),
        "cython": cython_version,
        "compiler": sysconfig.get_config_var("CC"),
        "machine": platform.machine(),
        "cpu": model,
        "cpu_flags": flags,
        "cores": available_cores(),
        "opencl_devices": _opencl_devices(),
    }


def _opencl_devices() -> list[str]:
    """OpenCL devices as ``md5steg find --opencl-device`` indexes them, or why there are none."""
    from .backends.opencl_devices import inventory

    devices, reason = inventory()
    if not devices:
        return [f"none: {reason}"]
    return [f"{device.index}: {device.label} [{device.kind}]" for device in devices]
