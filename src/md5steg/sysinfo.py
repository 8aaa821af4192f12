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


# Linux on arm64 names no model in /proc/cpuinfo, only the core's implementer and part numbers
# (Arm's technical reference manuals list them): the cores of AWS Graviton 2-4, Ampere Altra and
# Raspberry Pi 4-5.
_ARM_CORES = {
    ("0x41", "0xd08"): "Arm Cortex-A72",
    ("0x41", "0xd0b"): "Arm Cortex-A76",
    ("0x41", "0xd0c"): "Arm Neoverse N1",
    ("0x41", "0xd40"): "Arm Neoverse V1",
    ("0x41", "0xd49"): "Arm Neoverse N2",
    ("0x41", "0xd4f"): "Arm Neoverse V2",
}
_CPUINFO_LIMIT = 64 * 1024  # the first processor's lines are all we read


def parse_cpuinfo(text: str) -> tuple[Optional[str], list[str]]:
    """The model and SIMD flags of the first processor in /proc/cpuinfo's text (model None if the
    text names none), so that x86 and arm64 reports name their CPU alike."""
    model: Optional[str] = None
    flags: list[str] = []
    implementer: Optional[str] = None
    part: Optional[str] = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key in ("model name", "cpu model") and model is None:
            model = value
        elif key in ("flags", "features") and not flags:
            flags = [flag for flag in value.split() if flag in _SIMD_FLAGS]
        elif key == "cpu implementer" and implementer is None:
            implementer = value.lower()
        elif key == "cpu part" and part is None:
            part = value.lower()
    if model is None and implementer is not None and part is not None:
        model = _ARM_CORES.get((implementer, part), f"Arm CPU (implementer {implementer}, part {part})")
    return model, flags


def cpu_model_and_flags() -> tuple[str, list[str]]:
    """CPU model name and the SIMD-relevant feature flags (Linux /proc/cpuinfo, else platform)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            cpuinfo_model, flags = parse_cpuinfo(handle.read(_CPUINFO_LIMIT))
    except OSError:
        return model, []
    if cpuinfo_model and model in ("", platform.machine(), platform.processor()):
        model = cpuinfo_model
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
