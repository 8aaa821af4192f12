"""The httptools protocol with md5bin's deadline, cap and shutdown (needs ``uvicorn[standard]``).

A module of its own because importing it needs httptools; ``server.py``
imports it only when httptools is installed and chosen.

h11 refuses a request head over 16 KiB; llhttp (httptools) has no limit, so
a client could send megabytes of headers within the request deadline. Here a
head over ``MAX_HEAD_BYTES`` is answered 431 and the connection closed.
"""

from __future__ import annotations

from typing import Any, Optional

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from .protocol import RequestDeadlineMixin

MAX_HEAD_BYTES = 64 * 1024
"""The largest request line plus headers read (h11's own limit is 16 KiB)."""


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop llhttp; the 431 is already written."""


class HttpToolsDeadlineProtocol(RequestDeadlineMixin, HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's httptools (llhttp) protocol with md5bin's deadline, cap and shutdown."""

    _running_cycle: Optional[RequestResponseCycle] = None
    _head_bytes = 0

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(
                "431 Request Header Fields Too Large",
                f"the request line and headers exceed {MAX_HEAD_BYTES // 1024} KiB",
            )
            raise _HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        if self.transport.is_closing():  # the 431 went out already
            return
        super().send_400_response(msg)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        self._running_cycle = cycle
        super()._start_asgi_task(cycle, app)

    def _live_cycles(self) -> list[Any]:
        """Pipelined requests: ``self.cycle`` is the newest; the running one may be older."""
        queued = [cycle for cycle, _ in self.pipeline]
        return [c for c in (self._running_cycle, self.cycle, *queued) if c is not None]
