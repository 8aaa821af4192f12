"""The httptools protocol with md5bin's deadline, cap and shutdown (needs ``uvicorn[standard]``).

A module of its own because importing it needs httptools; ``server.py``
imports it only when httptools is installed and chosen.
"""

from __future__ import annotations

from typing import Any, Optional

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from .protocol import RequestDeadlineMixin


class HttpToolsDeadlineProtocol(RequestDeadlineMixin, HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's httptools (llhttp) protocol with md5bin's deadline, cap and shutdown."""

    _running_cycle: Optional[RequestResponseCycle] = None

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        self._running_cycle = cycle
        super()._start_asgi_task(cycle, app)

    def _live_cycles(self) -> list[Any]:
        """Pipelined requests: ``self.cycle`` is the newest; the running one may be older."""
        queued = [cycle for cycle, _ in self.pipeline]
        return [c for c in (self._running_cycle, self.cycle, *queued) if c is not None]
