"""md5bin over HTTP: a Starlette app around ``Md5binStore``.

Routes (every response carries a strict Content-Security-Policy and nosniff;
the handlers live in ``handlers.py``):

- ``POST /``: the raw body, or a form field ``content`` (urlencoded or
  multipart), becomes a paste. 201 + ``Location`` for new content, 200 for
  content already here, 409 when different content holds the id (or the id
  was removed), 400 when blank, 413 when over ``max_size``, 503/507 when the
  database cannot store it (nothing is acknowledged that is not on disk).
  The body is the paste URL; a browser gets 303 See Other to the paste.
- ``GET /raw/<id>``: the exact bytes as ``text/plain; charset=utf-8``.
- ``GET /<id>``: the text, HTML-escaped in a ``<pre>``, with http(s) URLs as links.
- ``GET /<id>.json``: metadata. ``GET /api/info``: id length, max size, base URL.
- ``GET /``: how to post with curl, and a small form.
- A missing paste is 404, a removed one 410 (an HTML page for a browser).
  A path with a trailing slash is sent, with 307, to the path without it on
  the base URL: no ``Location`` is ever built from the request's ``Host``.

Pastes never change, so the three paste routes send the MD5 as ``ETag`` with
an immutable ``Cache-Control``, and answer ``If-None-Match`` with 304.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Optional

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from ..addresses import normalise_base_url
from . import handlers, pages
from .errors import (
    EmptyPasteError,
    IdTakenError,
    PasteTooLargeError,
    StorageError,
    StoreBusyError,
)
from .handlers import Refused, Site, text_response
from .headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from .pages import linkify
from .store import DEFAULT_MAX_SIZE, Md5binStore, PathLike

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "create_app", "linkify"]

_SECURITY_HEADER_NAMES = {name.lower() for name in SECURITY_HEADERS}
_SECURITY_RAW_HEADERS = [
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in SECURITY_HEADERS.items()
]
# Failures a client caused, and the status that tells it so.
_CLIENT_ERRORS: Mapping[type[Exception], int] = {
    EmptyPasteError: 400,
    PasteTooLargeError: 413,
    IdTakenError: 409,
}

logger = logging.getLogger("md5steg.md5bin")


class SecurityHeadersMiddleware:
    """Adds ``SECURITY_HEADERS`` to every HTTP response the app sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.decode("latin-1").lower() not in _SECURITY_HEADER_NAMES
                ]
                headers.extend(_SECURITY_RAW_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _client_error(request: Request, exc: Exception) -> Response:
    status_code = next(code for kind, code in _CLIENT_ERRORS.items() if isinstance(exc, kind))
    return text_response(str(exc), status_code)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return text_response(str(exc), exc.status_code)


async def _storage_failed(request: Request, exc: Exception) -> Response:
    """503/507 with the reason, and one log line: the paste was not stored, nothing is lost."""
    assert isinstance(exc, StorageError)
    logger.error("%s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": "1"} if isinstance(exc, StoreBusyError) else None
    return text_response(f"not stored: {exc}", exc.http_status, headers)


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client disconnected (or was cut off by a timeout) mid-body: nobody reads this.
    return text_response("the request body did not arrive in full", 400)


_ERROR_STATUS_LINES = {404: "404 Not Found", 410: "410 Gone"}


async def _http_error(request: Request, exc: Exception) -> Response:
    """404 and 410 say what is missing (as a page with a way home, for a browser); others as they are."""
    assert isinstance(exc, HTTPException)
    if exc.status_code not in _ERROR_STATUS_LINES:
        return text_response(str(exc.detail), exc.status_code, exc.headers)
    site = handlers.site_of(request)
    message = str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":  # no route, or a malformed id
        message = f"no paste at {request.url.path}; ids are {site.store.id_length} lowercase hex digits"
    if handlers.wants_html(request):
        page = pages.error_page(_ERROR_STATUS_LINES[exc.status_code], message, f"{site.base_url}/")
        return HTMLResponse(page, status_code=exc.status_code)
    return text_response(message, exc.status_code)


async def _internal_error(request: Request, exc: Exception) -> Response:
    # Runs outside the middleware stack, so it sets the security headers itself.
    return text_response(
        "internal error in md5bin; see the server's log", 500, dict(SECURITY_HEADERS)
    )


def _exception_handlers() -> dict[type[Exception], Callable[[Request, Exception], object]]:
    table: dict[type[Exception], Callable[[Request, Exception], object]] = {
        kind: _client_error for kind in _CLIENT_ERRORS
    }
    table.update(
        {
            Refused: _refused,
            StorageError: _storage_failed,
            ClientDisconnect: _client_gone,
            HTTPException: _http_error,
            Exception: _internal_error,
        }
    )
    return table


def create_app(
    store_path: PathLike,
    *,
    id_length: Optional[int] = None,
    base_url: str,
    max_size: int = DEFAULT_MAX_SIZE,
) -> Starlette:
    """The md5bin web app over the store at ``store_path`` (opened now, closed on shutdown).

    Raises ``Md5binError`` (e.g. ``IdLengthMismatchError``) or ``InvalidUrlError``
    before serving anything. Called with no request in sight, it is also the
    app factory each ``--workers`` process runs (through ``functools.partial``).
    """
    base = normalise_base_url(base_url)
    store = Md5binStore(store_path, id_length, max_size=max_size)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    routes = [
        Route("/", handlers.index, methods=["GET", "HEAD", "POST"]),
        Route("/api/info", handlers.api_info, methods=["GET", "HEAD"]),
        Route("/raw/{paste_id}", handlers.raw_paste, methods=["GET", "HEAD"]),
        Route("/{name}", handlers.paste_view, methods=["GET", "HEAD"]),
        Route("/{rest:path}/", handlers.without_trailing_slash, methods=["GET", "HEAD"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers=_exception_handlers(),  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    # Starlette's own slash redirect builds Location from the Host header: replaced by a route.
    app.router.redirect_slashes = False
    app.add_middleware(SecurityHeadersMiddleware)
    app.state.site = Site(store=store, base_url=base, max_size=max_size)
    return app
