"""What uvicorn's HTTP protocols lack against slow and stalled clients, added as a mixin.

uvicorn times out a connection only while it is idle *between* requests
(``timeout_keep_alive``, cancelled by any byte that arrives): a client that
opens a connection and sends nothing, dribbles its headers, or sends 10 of
100 body bytes and stalls is held forever, with neither h11 nor httptools.
``limit_concurrency`` answers 503 only once a request head is complete. And on
shutdown uvicorn waits for every request in progress, including one whose
body will never come.

``RequestDeadlineMixin`` adds, to either protocol:

- a deadline: each request must arrive in full (head and body) within
  ``request_timeout`` seconds of the connection opening or of the previous
  response. A connection without a complete request head by then is closed;
  one whose body is still incomplete is answered 408 and closed;
- a cap: a connection beyond ``limit_concurrency`` is answered 503 and closed
  at once, instead of being held until it sends a request;
- a prompt shutdown: a request still receiving its body when the server stops
  is answered 503 and closed (nothing was acknowledged), and a response the
  client does not read is cut off just before the shutdown grace ends, so
  shutdown never waits on a stalled client, nor cancels the app mid-send;
- the security headers (``headers.py``) on these raw 408 and 503 answers and
  on uvicorn's own 400 for a request it cannot parse, which never pass
  through the app's middleware.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Optional

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .headers import SECURITY_HEADERS
from .options import DEFAULT_REQUEST_TIMEOUT

if TYPE_CHECKING:  # the mixin is checked against the interface both protocols share
    _ProtocolBase = H11Protocol
else:
    _ProtocolBase = object


class ServerConfig(uvicorn.Config):
    """uvicorn's Config plus ``request_timeout``; pickled into ``--workers`` processes as is."""

    def __init__(self, *args: Any, request_timeout: float = DEFAULT_REQUEST_TIMEOUT, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.request_timeout = request_timeout


def _raw_response(status_line: str, message: str) -> bytes:
    """A complete ``Connection: close`` text response, for a connection about to be closed.

    It carries the same security headers as every response of the app.
    """
    body = message.encode("utf-8") + b"\n"
    security = "".join(f"{name.lower()}: {value}\r\n" for name, value in SECURITY_HEADERS.items())
    head = (
        f"HTTP/1.1 {status_line}\r\n"
        "content-type: text/plain; charset=utf-8\r\n"
        f"{security}"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class RequestDeadlineMixin(_ProtocolBase):
    """The deadline, cap and prompt shutdown described in the module docstring."""

    _deadline: Optional[asyncio.TimerHandle] = None
    _deadline_cycle: object = None

    @property
    def _request_timeout(self) -> float:
        timeout: float = getattr(self.config, "request_timeout", DEFAULT_REQUEST_TIMEOUT)
        return timeout

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limit = self.limit_concurrency
        if limit is not None and len(self.connections) > limit:
            self._refuse("503 Service Unavailable", "md5bin is at its connection limit; retry")
            return
        self._arm_deadline()

    def on_response_complete(self) -> None:
        # Armed before uvicorn starts a pipelined request, which then counts as new.
        self._arm_deadline()
        super().on_response_complete()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._disarm_deadline()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # uvicorn's own answer to a request it cannot parse, with md5bin's headers.
        self._refuse("400 Bad Request", msg)

    def shutdown(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not cycle.response_started:
            self._refuse("503 Service Unavailable", "md5bin is shutting down; post again later")
            return
        super().shutdown()
        grace = self.config.timeout_graceful_shutdown
        if grace is not None:
            # A client that does not read its response would hold the connection (and
            # maybe the app's task) until uvicorn cancels it with a traceback: cut it first.
            self.loop.call_later(max(grace - 0.5, 0.0), self._cut_off)

    def _arm_deadline(self) -> None:
        self._disarm_deadline()
        self._deadline_cycle = self.cycle
        self._deadline = self.loop.call_later(self._request_timeout, self._deadline_passed)

    def _disarm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle is self._deadline_cycle:
            self.timeout_keep_alive_handler()  # no whole request head in time: close
        elif cycle.more_body and not cycle.response_started:
            self._refuse(
                "408 Request Timeout",
                f"the request body did not arrive within {self._request_timeout:g} s; "
                f"send it in one go",
            )

    def _live_cycles(self) -> list[Any]:
        """The request cycles that may still send: h11 runs one at a time, ``self.cycle``."""
        return [self.cycle] if self.cycle is not None else []

    def _cut_off(self) -> None:
        """Drop a connection still open, and what it had yet to send; the app's sends return."""
        if self not in self.connections:
            return
        for cycle in self._live_cycles():
            cycle.disconnected = True  # before abort() lets a paused send resume
        self.transport.abort()

    def _refuse(self, status_line: str, message: str) -> None:
        self._disarm_deadline()
        self.transport.write(_raw_response(status_line, message))
        self.transport.close()


class H11DeadlineProtocol(RequestDeadlineMixin, H11Protocol):
    """uvicorn's pure-Python h11 protocol with md5bin's deadline, cap and shutdown."""
