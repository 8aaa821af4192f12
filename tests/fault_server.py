"""Real sockets on 127.0.0.1 that misbehave on cue, for the pastebin adapters' error paths.

``FaultServer`` is a real HTTP server that gives scripted answers in turn (the
last one repeats) and records every request it received, so a test can say how
many times a POST reached it. An answer can also drop the connection without
a word, hang until the test ends (the client then times out), or send a body
without end (``endless``, until the client hangs up).
``refused_port`` is an address nothing listens on.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Optional

HANG_LIMIT_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    """What the server does with one request: answer it, ``drop`` the connection, ``hang``, or ``endless``."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    action: str = "answer"

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Answer:
        return cls(status, json.dumps(value).encode(), {"Content-Type": "application/json"})


@dataclass(frozen=True)
class Received:
    """One request as the server read it."""

    method: str
    path: str
    body: bytes


class FaultServer:
    """An HTTP server on a free 127.0.0.1 port; use as a context manager, read ``url`` and ``requests``."""

    def __init__(self, *answers: Answer) -> None:
        self._answers = list(answers) or [Answer()]
        self.requests: list[Received] = []
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _next_answer(self, received: Received) -> Answer:
        with self._lock:
            self.requests.append(received)
            return self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = owner._next_answer(Received(self.command, self.path, body))
                if answer.action == "hang":
                    owner._released.wait(HANG_LIMIT_SECONDS)
                if answer.action in ("drop", "hang"):
                    self.close_connection = True
                    return
                if answer.action == "endless":
                    self._send_endless(answer)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def _send_endless(self, answer: Answer) -> None:
                self.close_connection = True
                self.send_response(answer.status)
                self.send_header("Connection", "close")  # no length: the body ends when the socket does
                self.end_headers()
                chunk = b"x" * 65536
                with contextlib.suppress(OSError):
                    while not owner._released.is_set():
                        self.wfile.write(chunk)

            do_GET = do_POST = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test reads ``requests`` instead."""

        return Handler

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextlib.contextmanager
def refused_port() -> Iterator[str]:
    """The URL of a 127.0.0.1 port that is bound but not listening: every connect is refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"
