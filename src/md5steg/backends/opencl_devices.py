"""OpenCL platforms and devices: what ``md5steg info`` lists and what ``--opencl-device`` picks.

Everything here returns plain data or raises one ``OpenCLUnavailableError``
whose message names what to install, because a missing OpenCL stack is the
usual failure: pyopencl absent, no ICD file for the vendor's driver (NVIDIA
containers often lack ``/etc/OpenCL/vendors/nvidia.icd``), or only a CPU
device where a GPU was asked for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Optional

from ..errors import BackendError

INSTALL_PYOPENCL = "install it with pip install 'md5steg[gpu]'"
INSTALL_DRIVER = (
    "install your GPU vendor's OpenCL driver (on NVIDIA, /etc/OpenCL/vendors/nvidia.icd must "
    "name libnvidia-opencl.so.1, which containers often lack); for CPUs, install pocl "
    "(Debian: pocl-opencl-icd)"
)
KINDS = ("gpu", "cpu", "accelerator")


class OpenCLUnavailableError(BackendError):
    """No usable OpenCL device: pyopencl, the driver or the device asked for is missing."""


@dataclass(frozen=True)
class DeviceInfo:
    """One OpenCL device, numbered across all platforms in the order they are listed."""

    index: int
    platform: str
    name: str
    kind: str
    compute_units: int
    memory_bytes: int
    version: str

    @property
    def label(self) -> str:
        """How reports name the device, e.g. ``NVIDIA H200 (OpenCL, NVIDIA CUDA)``."""
        return f"{self.name} (OpenCL, {self.platform})"


def _kind(device_type: int, cl: Any) -> str:
    if device_type & cl.device_type.GPU:
        return "gpu"
    if device_type & cl.device_type.CPU:
        return "cpu"
    if device_type & cl.device_type.ACCELERATOR:
        return "accelerator"
    return "other"


def _import_pyopencl() -> Any:
    try:
        import pyopencl
    except ImportError as exc:
        raise OpenCLUnavailableError(
            f"pyopencl is not installed ({exc}); {INSTALL_PYOPENCL}"
        ) from None
    return pyopencl


_found: Optional[list[tuple[DeviceInfo, Any]]] = None
_found_lock = threading.Lock()


def opencl_devices() -> list[tuple[DeviceInfo, Any]]:
    """Every device of every platform with its pyopencl object; raises when there is none.

    Enumerated once per process (the ICD loader costs tens of ms per call);
    a start-up thread (``OpenCLBackend.warm_up``) may have done it already.
    """
    global _found
    with _found_lock:
        if _found is None:
            _found = _enumerate_devices()
        return list(_found)


def _enumerate_devices() -> list[tuple[DeviceInfo, Any]]:
    cl = _import_pyopencl()
    try:
        platforms = cl.get_platforms()
    except cl.Error as exc:
        raise OpenCLUnavailableError(
            f"no OpenCL platform found ({str(exc).strip() or type(exc).__name__}); {INSTALL_DRIVER}"
        ) from None
    found: list[tuple[DeviceInfo, Any]] = []
    for platform in platforms:
        try:
            devices = platform.get_devices()
        except cl.Error:  # a platform without devices raises DEVICE_NOT_FOUND
            continue
        for device in devices:
            info = DeviceInfo(
                index=len(found),
                platform=platform.name.strip(),
                name=device.name.strip(),
                kind=_kind(device.type, cl),
                compute_units=int(device.max_compute_units),
                memory_bytes=int(device.global_mem_size),
                version=device.version.strip(),
            )
            found.append((info, device))
    if not found:
        names = ", ".join(platform.name.strip() for platform in platforms) or "none"
        raise OpenCLUnavailableError(f"OpenCL platforms ({names}) list no device; {INSTALL_DRIVER}")
    return found


def inventory() -> tuple[list[DeviceInfo], str]:
    """The OpenCL devices and, when there are none, why (one line naming what to install).

    What ``md5steg info`` shows: it enumerates the platforms once.
    """
    try:
        return [info for info, _ in opencl_devices()], ""
    except OpenCLUnavailableError as exc:
        return [], str(exc)


def list_devices() -> list[DeviceInfo]:
    """The OpenCL devices; empty when there are none (see ``why_none``)."""
    return inventory()[0]


def why_none() -> str:
    """Why ``list_devices`` is empty, in one line that says what to install ('' if it is not)."""
    return inventory()[1]


def _matches(info: DeviceInfo, word: str) -> bool:
    if word == "all":
        return True
    if word in KINDS:
        return info.kind == word
    return word in info.name.lower() or word in info.platform.lower()


def select_devices(selector: str) -> list[tuple[DeviceInfo, Any]]:
    """Devices picked by ``selector``, in listing order; a device named twice is used twice.

    SELECTOR is comma-separated words: ``all``, ``gpu``, ``cpu``, ``accelerator``, an
    index as ``md5steg info`` lists it, or a case-insensitive substring of the platform
    or device name.
    """
    words = [word.strip().lower() for word in selector.split(",") if word.strip()]
    if not words:
        raise OpenCLUnavailableError(
            "the OpenCL device selector is empty; give all, gpu, cpu, an index or part of a device name"
        )
    available = opencl_devices()
    chosen: list[tuple[DeviceInfo, Any]] = []
    for word in words:
        if word.isdigit():
            picked = [entry for entry in available if entry[0].index == int(word)]
        else:
            picked = [entry for entry in available if _matches(entry[0], word)]
        if not picked:
            raise OpenCLUnavailableError(_no_match_message(word, available))
        chosen.extend(picked)
    return chosen


def _no_match_message(word: str, available: list[tuple[DeviceInfo, Any]]) -> str:
    listing = "; ".join(f"{info.index}: {info.label} [{info.kind}]" for info, _ in available)
    if word == "gpu":
        return f"no OpenCL GPU device found (devices: {listing}); {INSTALL_DRIVER}"
    return f"no OpenCL device matches {word!r} (devices: {listing}); choose all, gpu, cpu, an index or part of a name"
