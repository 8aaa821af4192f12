"""The local backend: one forked process per core, each fed ranges through its own pipe.

A hand-rolled pool rather than ``multiprocessing.Pool``: closing must kill
workers at once and never hang, whatever state an interrupt left the pipes in.
Workers ignore SIGINT (the parent owns Ctrl-C) and exit when the parent's end
of their pipe closes, so no worker outlives the search.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections.abc import Mapping
from multiprocessing.connection import Connection, wait
from typing import Any, Optional

from ..cores import available_cores
from ..errors import BackendError
from .base import Backend, ChunkResult, SearchJob, scan_chunk

TERMINATE_GRACE_SECONDS = 1.0


def _worker_main(job: SearchJob, connection: Connection, parent_ends: list[Connection]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # A forked worker inherits the parent's ends of the pipes opened so far; close
    # them so that the parent's death closes every pipe and each worker sees EOF.
    for parent_end in parent_ends:
        parent_end.close()
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        start, stop = task
        try:
            result: Any = scan_chunk(job, start, stop)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises BackendError
            result = f"{type(exc).__name__}: {exc}"
        try:
            connection.send(result)
        except (BrokenPipeError, OSError):
            return


class ProcessPoolBackend(Backend):
    """Scans chunks in ``jobs`` local worker processes."""

    name = "pool"

    def __init__(self, jobs: Optional[int] = None) -> None:
        self.slots = jobs or available_cores()
        self._workers: list[Any] = []
        self._connections: list[Connection] = []
        self._outstanding: dict[Connection, int] = {}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], jobs: Optional[int]) -> ProcessPoolBackend:
        return cls(jobs)

    def devices(self) -> list[str]:
        return [f"{self.slots} local process{'es' if self.slots > 1 else ''}"]

    def open(self, job: SearchJob) -> None:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        context: Any = multiprocessing.get_context(method)
        # Children start with SIGINT blocked until they ignore it, so a Ctrl-C
        # during the fork reaches only the parent (after the unblock below).
        masked = hasattr(signal, "pthread_sigmask")
        if masked:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for _ in range(self.slots):
                parent_end, child_end = context.Pipe()
                inherited = [*self._connections, parent_end] if method == "fork" else []
                worker = context.Process(
                    target=_worker_main, args=(job, child_end, inherited), daemon=True
                )
                worker.start()
                child_end.close()
                self._workers.append(worker)
                self._connections.append(parent_end)
                self._outstanding[parent_end] = 0
        finally:
            if masked:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def submit(self, start: int, stop: int) -> None:
        connection = min(self._connections, key=self._outstanding.__getitem__)
        connection.send((start, stop))
        self._outstanding[connection] += 1

    def wait(self, timeout: float) -> list[ChunkResult]:
        busy = [connection for connection in self._connections if self._outstanding[connection]]
        results = []
        for ready in wait(busy, timeout):
            connection: Connection = ready  # type: ignore[assignment]
            try:
                item = connection.recv()
            except (EOFError, OSError):
                worker = self._workers[self._connections.index(connection)]
                worker.join(0.1)
                raise BackendError(
                    f"a search worker (pid {worker.pid}) died unexpectedly (exit code {worker.exitcode})"
                ) from None
            if isinstance(item, str):
                raise BackendError(f"a search worker failed: {item}")
            self._outstanding[connection] -= 1
            results.append(item)
        return results

    def close(self) -> None:
        for worker in self._workers:
            if worker.is_alive():
                worker.terminate()
        for worker in self._workers:
            worker.join(TERMINATE_GRACE_SECONDS)
            if worker.is_alive():
                worker.kill()
                worker.join()
        for connection in self._connections:
            connection.close()
        self._workers, self._connections, self._outstanding = [], [], {}
