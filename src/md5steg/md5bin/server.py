"""Run the md5bin app with uvicorn: one process, or ``workers`` processes on one socket.

The limits (request deadline, keep-alive, connection cap, shutdown grace) are
what ``md5steg serve`` promises; ``protocol.py`` adds what uvicorn lacks.
Workers are separate processes sharing the listening socket and the SQLite
file (WAL mode); each builds its own app from ``app_factory``, which must
pickle (``functools.partial`` of a module-level function does).
"""

from __future__ import annotations

import copy
import importlib.util
import signal
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.supervisors import Multiprocess

from .options import ServeOptions
from .protocol import H11DeadlineProtocol, ServerConfig


def protocol_class(http: str) -> type[Any]:
    """The HTTP protocol for ``http`` ("auto" takes httptools when it is installed)."""
    if http == "httptools" or (http == "auto" and importlib.util.find_spec("httptools")):
        from .protocol_httptools import HttpToolsDeadlineProtocol

        return HttpToolsDeadlineProtocol
    return H11DeadlineProtocol


def logging_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging, on stderr: warnings, md5bin's own lines, and requests if asked."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["uvicorn"]["level"] = "WARNING"
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    config["loggers"]["md5steg.md5bin"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config


class _Supervisor(Multiprocess):
    """uvicorn's worker supervisor, remembering which signal stopped it."""

    stopped_by: int = 0

    def handle_int(self) -> None:
        self.stopped_by = self.stopped_by or signal.SIGINT
        super().handle_int()

    def handle_term(self) -> None:
        self.stopped_by = self.stopped_by or signal.SIGTERM
        super().handle_term()


def run(app_factory: Callable[[], Any], listener: socket.socket, options: ServeOptions) -> None:
    """Serve until SIGINT (raised again as KeyboardInterrupt) or SIGTERM (raised again as is)."""
    config = ServerConfig(
        app_factory,
        factory=True,
        http=protocol_class(options.http),
        loop=options.loop,
        workers=options.workers,
        request_timeout=options.request_timeout,
        timeout_keep_alive=options.keep_alive_timeout,
        limit_concurrency=options.max_connections,
        timeout_graceful_shutdown=options.shutdown_timeout,
        log_config=logging_config(options.access_log),
        log_level=None,
        access_log=options.access_log,
        server_header=False,
        lifespan="on",
    )
    if options.workers == 1:
        uvicorn.Server(config).run(sockets=[listener])
        return
    supervisor = _Supervisor(config, sockets=[listener])
    supervisor.run()
    if supervisor.stopped_by == signal.SIGINT:
        raise KeyboardInterrupt
    if supervisor.stopped_by:
        signal.signal(supervisor.stopped_by, signal.SIG_DFL)
        signal.raise_signal(supervisor.stopped_by)
