"""How ``md5steg serve`` treats connections: the limits it promises, with their defaults.

Kept apart from ``server.py`` so that the CLI can show these options without
importing uvicorn (the ``serve`` extra may be missing).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from .errors import Md5binError

DEFAULT_REQUEST_TIMEOUT = 20.0
HTTP_PARSERS = ("auto", "h11", "httptools")
EVENT_LOOPS = ("auto", "asyncio", "uvloop")
# Choices that need a package ``uvicorn[standard]`` brings.
_NEEDS = {"httptools": "httptools", "uvloop": "uvloop"}


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

    def check(self) -> None:
        """Raise ``Md5binError`` when ``--http``/``--loop`` names a package that is missing."""
        for choice in (self.http, self.loop):
            module = _NEEDS.get(choice)
            if module and importlib.util.find_spec(module) is None:
                raise Md5binError(
                    f"{choice} is not installed; pip install 'uvicorn[standard]', "
                    f"or leave the choice to auto"
                )
