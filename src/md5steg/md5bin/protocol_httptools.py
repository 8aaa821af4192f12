"""The httptools protocol with md5bin's deadline, cap and shutdown (needs ``uvicorn[standard]``).

A module of its own because importing it needs httptools; ``server.py``
imports it only when httptools is installed and chosen.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .protocol import RequestDeadlineMixin


class HttpToolsDeadlineProtocol(RequestDeadlineMixin, HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's httptools (llhttp) protocol with md5bin's deadline, cap and shutdown."""
