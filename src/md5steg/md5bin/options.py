"""How ``md5steg serve`` treats connections: the limits it promises, with their defaults.

Kept apart from ``server.py`` so that the CLI can show these options without
importing uvicorn (the ``serve`` extra may be missing).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REQUEST_TIMEOUT = 20.0
HTTP_PARSERS = ("auto", "h11", "httptools")
EVENT_LOOPS = ("auto", "asyncio", "uvloop")


@dataclass(frozen=True)
class ServeOptions:
    """Connection limits and server choices; see ``md5steg serve --help``."""

    workers: int = 1
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    keep_alive_timeout: int = 5
    max_connections: int = 512
    shutdown_timeout: int = 3
    access_log: bool = False
    http: str = "auto"
    loop: str = "auto"
