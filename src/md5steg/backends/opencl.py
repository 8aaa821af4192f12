"""The OpenCL backend: the search kernel on GPUs (or on CPUs through pocl), exact like the CPU.

One thread per selected device takes chunks from a shared queue in increasing
order, splits each into kernel launches of ~25 ms (see ``opencl_plan`` for
what a launch computes), keeps two chunks enqueued so the device never waits
on Python, and reports the lowest hit of each chunk. The coordinator keeps
the lowest hit overall, so devices interleave and the answer is the CPU's.

pyopencl and numpy are imported only when this backend runs (``md5steg[gpu]``).
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import time
import warnings
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Optional

from ..errors import BackendError
from .base import Backend, BackendOption, ChunkResult, SearchJob
from .opencl_devices import DeviceInfo, select_devices
from .opencl_plan import MAX_LAUNCH_CANDIDATES, KernelPlan, Launch, content_midstate
from .opencl_plan import unsupported_reason as plan_unsupported_reason

KERNEL_SOURCE = Path(__file__).with_name("md5_prefix.cl")
SCHEDULE_SOURCE = Path(__file__).parent.parent / "md5_schedule.h"
"""The MD5 schedule the C core uses too, put in front of the kernel (so the build cache sees it)."""
LAUNCH_SECONDS = 0.025
"""Target duration of one kernel launch: progress and Ctrl-C stay responsive."""

CHUNK_SECONDS = 0.03
"""Target duration of one chunk the coordinator submits, on one device."""

CALIBRATION_SECONDS = 0.005
"""Kernel time the rate measurement in ``open`` grows its launches to."""

CHUNKS_ENQUEUED = 2
"""Chunks a device thread keeps enqueued, so the device never waits on Python."""

WORK_GROUP = 256
NO_HIT = 0xFFFFFFFF


class KernelBuildError(BackendError):
    """The OpenCL compiler rejected the kernel; the message says where its log is."""


class OpenCLBackend(Backend):
    """Scans chunks with the md5_prefix kernel on one or more OpenCL devices."""

    name: ClassVar[str] = "opencl"
    options: ClassVar[tuple[BackendOption, ...]] = (
        BackendOption(
            flag="--gpu",
            keyword="gpu",
            help="Search on every OpenCL GPU device (needs md5steg[gpu] and the vendor's OpenCL driver)",
            is_flag=True,
        ),
        BackendOption(
            flag="--opencl-device",
            keyword="opencl_device",
            help="OpenCL devices to search on: all, gpu, cpu, an index as `md5steg info` lists, "
            "or part of a platform/device name; comma-separated",
            metavar="SELECTOR",
            envvar="MD5STEG_OPENCL_DEVICE",
        ),
    )

    def __init__(self, selector: str = "gpu") -> None:
        self.selector = selector
        self._chosen: Optional[list[tuple[DeviceInfo, Any]]] = None
        self._workers: list[_DeviceWorker] = []
        self._tasks: queue.Queue[Optional[tuple[int, int]]] = queue.Queue()
        self._results: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def warm_up(cls, settings: Mapping[str, Any]) -> None:
        """Import pyopencl, list the devices and create their contexts in a daemon thread."""
        selector = settings.get("opencl_device") or "gpu"
        threading.Thread(target=_warm_up, args=(selector,), daemon=True, name="md5steg-opencl-warm-up").start()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], jobs: Optional[int]) -> OpenCLBackend:
        """``--opencl-device`` picks the devices; ``--gpu`` alone means every GPU."""
        return cls(settings.get("opencl_device") or "gpu")

    def unsupported_reason(self, job: SearchJob) -> Optional[str]:
        """Multi-byte alphabets and unaligned layouts run on the CPU (the coordinator says so)."""
        return plan_unsupported_reason(job.layout)

    @property
    def _selected(self) -> list[tuple[DeviceInfo, Any]]:
        """The devices ``selector`` picks, listed on first use: a search that ends in calibration
        never waits for pyopencl (``OpenCLUnavailableError`` when there is none)."""
        if self._chosen is None:
            self._chosen = select_devices(self.selector)
        return self._chosen

    @property
    def slots(self) -> int:  # type: ignore[override]  # read-only here: one slot per selected device
        return len(self._selected)

    def devices(self) -> list[str]:
        return [info.label for info, _ in self._selected]

    def open(self, job: SearchJob) -> None:
        """Build the kernel on every device (in threads, so Ctrl-C stays prompt) and time it."""
        reason = plan_unsupported_reason(job.layout)
        if reason is not None:
            raise BackendError(reason)
        plan = KernelPlan(job.layout, job.target, content_midstate(job.content))
        self._workers = [
            _DeviceWorker(info, device, self._selected[:position].count((info, device)), plan)
            for position, (info, device) in enumerate(self._selected)
        ]
        errors: list[BaseException] = []
        builders = [
            threading.Thread(target=_collect_errors, args=(worker.prepare, errors), daemon=True)
            for worker in self._workers
        ]
        for builder in builders:
            builder.start()
        for builder in builders:
            while builder.is_alive():
                builder.join(0.05)
        if errors:
            raise errors[0]
        for worker in self._workers:
            thread = threading.Thread(
                target=worker.serve, args=(self._tasks, self._results, self._stop), daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def expected_rate(self, cpu_rate: float) -> float:
        return sum(worker.rate for worker in self._workers) or cpu_rate

    def chunk_size(self, cpu_rate: float, fast_size: int) -> int:
        per_device = self.expected_rate(cpu_rate) / max(1, len(self._workers))
        steps = max(1, min(int(per_device * CHUNK_SECONDS), MAX_LAUNCH_CANDIDATES) // fast_size)
        return steps * fast_size

    def submit(self, start: int, stop: int) -> None:
        self._tasks.put((start, stop))

    def wait(self, timeout: float) -> list[ChunkResult]:
        results: list[ChunkResult] = []
        try:
            item = self._results.get(timeout=timeout)
            while True:
                if isinstance(item, BaseException):
                    raise item
                results.append(item)
                item = self._results.get_nowait()
        except queue.Empty:
            return results

    def close(self) -> None:
        """Stop every device thread after its current launches (each ~25 ms); safe twice."""
        self._stop.set()
        for _ in self._threads:
            self._tasks.put(None)  # wakes a thread waiting for work
        deadline = time.monotonic() + 0.5
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []


def _collect_errors(function: Any, errors: list[BaseException]) -> None:
    try:
        function()
    except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
        errors.append(exc)


_kernels: dict[tuple[Any, ...], Any] = {}
_contexts: dict[tuple[int, int], tuple[Any, Any]] = {}
_cache_lock = threading.Lock()


def _warm_up(selector: str) -> None:
    """What ``open`` will need first: pyopencl, numpy, the devices and one context each (cached)."""
    try:
        import numpy  # noqa: F401 - imported here so the search thread finds it loaded

        for _, device in select_devices(selector):
            _device_context(device, 0)
    except Exception:  # noqa: BLE001 - the search itself reports what is wrong, in one line
        pass


def _device_context(device: Any, copy: int) -> tuple[Any, Any]:
    """The context and profiling queue of one device (per copy), created once per process."""
    import pyopencl as cl

    key = (int(device.int_ptr), copy)
    with _cache_lock:
        if key not in _contexts:
            context = cl.Context([device])
            properties = cl.command_queue_properties.PROFILING_ENABLE
            _contexts[key] = (context, cl.CommandQueue(context, properties=properties))
        return _contexts[key]


def _device_kernel(
    info: DeviceInfo, device: Any, copy: int, plan: KernelPlan
) -> tuple[Any, Any, Any]:
    """Context, queue and built kernel for one device, kept for the process's later searches.

    ``publish`` searches many times; building once per layout saves the compile, and
    the context. A device selected twice (``0,0``) gets a context per copy, because a
    kernel's arguments belong to one thread at a time.
    """
    import pyopencl as cl

    key = (int(device.int_ptr), copy)
    context, command_queue = _device_context(device, copy)
    options = [f"-D{name}={value}" for name, value in plan.defines().items()]
    source = (
        SCHEDULE_SOURCE.read_text(encoding="utf-8")
        + '\n#line 1 "md5_prefix.cl"\n'
        + KERNEL_SOURCE.read_text(encoding="utf-8")
    )
    kernel_key = (key, source, tuple(options))
    kernel = _kernels.get(kernel_key)
    if kernel is None:
        program = cl.Program(context, source)
        try:
            # Drivers that print notes on success make PyOpenCL warn; the CLI stays quiet.
            with _cache_lock, warnings.catch_warnings():
                warnings.simplefilter("ignore", cl.CompilerWarning)
                built = program.build(options=options)
        except cl.Error as exc:
            handle, log_path = tempfile.mkstemp(prefix="md5steg-opencl-build-", suffix=".log")
            with os.fdopen(handle, "w", encoding="utf-8") as log:
                log.write(f"device: {info.label}\noptions: {' '.join(options)}\n\n{exc}\n")
            raise KernelBuildError(
                f"the OpenCL kernel failed to build on {info.label}; the build log is in {log_path}"
            ) from None
        kernel = _kernels[kernel_key] = built.md5_prefix
    return context, command_queue, kernel


class _DeviceWorker:
    """One device: its context, queue, built kernel and launch size."""

    def __init__(self, info: DeviceInfo, device: Any, copy: int, plan: KernelPlan) -> None:
        self.info = info
        self.device = device
        self.copy = copy
        self.plan = plan
        self.rate = 0.0
        self.launch_candidates = plan.fast_size
        self._buffers: dict[int, tuple[Any, Any]] = {}

    def prepare(self) -> None:
        """Context, queue, kernel (cached per process, and on disk by PyOpenCL) and rate."""
        import numpy as np
        import pyopencl as cl

        self._np, self._cl = np, cl
        try:
            self.context, self.queue, self.kernel = _device_kernel(
                self.info, self.device, self.copy, self.plan
            )
        except cl.Error as exc:
            raise BackendError(
                f"OpenCL device {self.info.label} failed: {str(exc).strip()}"
            ) from None
        plan = self.plan
        flags = cl.mem_flags.READ_ONLY | cl.mem_flags.COPY_HOST_PTR
        self.fast_words = cl.Buffer(
            self.context, flags, hostbuf=np.array(plan.fast_words, np.uint32)
        )
        self.symbols = cl.Buffer(self.context, flags, hostbuf=np.frombuffer(plan.symbols, np.uint8))
        limit = self.kernel.get_work_group_info(
            cl.kernel_work_group_info.WORK_GROUP_SIZE, self.device
        )
        self.work_group = max(1, min(WORK_GROUP, int(limit)))
        self.rate = self._measure()

    def _measure(self) -> float:
        """Candidates/s of this device: launches from nonce 0, doubled until one takes 5 ms."""
        size = self.plan.fast_size * 16
        while True:
            launches = list(self.plan.launches(0, size, MAX_LAUNCH_CANDIDATES))
            _, seconds = self._finish([self._enqueue(launch) for launch in launches])
            if seconds >= CALIBRATION_SECONDS or size >= MAX_LAUNCH_CANDIDATES // 2:
                break
            size *= 2
        self._adapt(size, seconds)
        return self.rate

    def _adapt(self, candidates: int, seconds: float) -> None:
        measured = candidates / max(seconds, 1e-9)
        self.rate = measured if not self.rate else 0.7 * self.rate + 0.3 * measured
        wanted = int(self.rate * LAUNCH_SECONDS)
        self.launch_candidates = max(self.plan.fast_size, min(wanted, MAX_LAUNCH_CANDIDATES))

    def _group_buffers(self, outer: int) -> tuple[Any, Any]:
        high = outer // self.plan.vary_period
        buffers = self._buffers.get(high)
        if buffers is None:
            np, cl = self._np, self._cl
            constants = self.plan.constants(outer)
            flags = cl.mem_flags.READ_ONLY | cl.mem_flags.COPY_HOST_PTR
            if len(self._buffers) > 8:
                self._buffers.clear()
            buffers = self._buffers[high] = (
                cl.Buffer(self.context, flags, hostbuf=np.array(constants.mk, np.uint32)),
                cl.Buffer(self.context, flags, hostbuf=np.array(constants.pre_words, np.uint32)),
            )
        return buffers

    def _enqueue(self, launch: Launch) -> tuple[Launch, Any, Any, Any]:
        """Queue one launch and the read of its result; returns what ``_finish`` waits on."""
        np, cl = self._np, self._cl
        plan = self.plan
        constants = plan.constants(launch.outer)
        mk, pre_words = self._group_buffers(launch.outer)
        result = np.array([NO_HIT], np.uint32)
        best = cl.Buffer(
            self.context, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR, hostbuf=result
        )
        uint4 = cl.cltypes.make_uint4
        groups = -(-launch.items // self.work_group)
        event = self.kernel(
            self.queue,
            (groups * self.work_group,),
            (self.work_group,),
            mk,
            pre_words,
            self.fast_words,
            self.symbols,
            uint4(*constants.state),
            uint4(*constants.start),
            np.uint32(constants.base_word),
            np.uint32(launch.outer % plan.vary_period),
            np.uint32(plan.vary_digits),
            np.uint32(launch.first_j),
            np.uint32(launch.last_j),
            np.uint32(launch.items),
            uint4(*plan.mask),
            uint4(*plan.value),
            best,
        )
        read = cl.enqueue_copy(self.queue, result, best, is_blocking=False)
        return launch, event, read, result

    def _finish(self, enqueued: list[tuple[Launch, Any, Any, Any]]) -> tuple[int, float]:
        """Wait for launches; the lowest hit's nonce index (or -1) and their kernel seconds."""
        hit, seconds = -1, 0.0
        for launch, event, read, result in enqueued:
            read.wait()
            seconds += (event.profile.end - event.profile.start) * 1e-9
            offset = int(result[0])
            if offset != NO_HIT and hit < 0:
                hit = launch.outer * self.plan.fast_size + offset
        return hit, seconds

    def _start_chunk(self, start: int, stop: int) -> tuple[int, int, list[Any]]:
        launches = self.plan.launches(start, stop, self.launch_candidates)
        return start, stop, [self._enqueue(launch) for launch in launches]

    def serve(
        self,
        tasks: queue.Queue[Optional[tuple[int, int]]],
        results: queue.Queue[Any],
        stop: threading.Event,
    ) -> None:
        """Take chunks until told to stop, keeping CHUNKS_ENQUEUED of them on the device."""
        pending: deque[tuple[int, int, list[Any]]] = deque()
        try:
            while not stop.is_set():
                if len(pending) < CHUNKS_ENQUEUED:
                    try:
                        task = tasks.get(timeout=0 if pending else 0.05)
                    except queue.Empty:
                        task = None
                    if task is None and stop.is_set():
                        break
                    if task is not None:
                        pending.append(self._start_chunk(*task))
                        continue
                if not pending:
                    continue
                start, end, enqueued = pending.popleft()
                hit, seconds = self._finish(enqueued)
                self._adapt(end - start, seconds)
                tried = hit - start + 1 if hit >= 0 else end - start
                results.put(ChunkResult(start, end, hit, tried))
        except self._cl.Error as exc:
            results.put(BackendError(f"OpenCL device {self.info.label} failed: {str(exc).strip()}"))
        except Exception as exc:  # noqa: BLE001 - handed to the coordinator's thread
            results.put(BackendError(f"the OpenCL search on {self.info.label} failed: {exc}"))
        finally:
            for _, _, enqueued in pending:
                for _, _, read, _ in enqueued:
                    read.wait()

