"""md5bin over HTTP: a Starlette app around ``Md5binStore``.

Routes (every response carries a strict Content-Security-Policy and nosniff):

- ``POST /``: the raw body, or a form field ``content`` (urlencoded or
  multipart), becomes a paste. 201 + ``Location`` for new content, 200 for
  content already here, 409 when different content holds the id, 400 when
  blank, 413 when over ``max_size``. The body is the paste URL and a newline.
- ``GET /raw/<id>``: the exact bytes as ``text/plain; charset=utf-8``.
- ``GET /<id>``: the text, HTML-escaped in a ``<pre>``, with http(s) URLs as
  links, so a published story can be read by clicking.
- ``GET /<id>.json``: metadata. ``GET /api/info``: id length, max size, base URL.
- ``GET /``: how to post with curl, and a small form.

``curl --data-binary @file`` sends ``application/x-www-form-urlencoded``, so such
a body counts as a form only when it is well-formed urlencoding with a
``content`` field; anything else (a story has raw spaces and newlines) is
stored as sent.
"""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from email.message import Message
from typing import Optional
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from .._version import __version__
from .errors import EmptyPasteError, IdTakenError, Md5binError, PasteTooLargeError
from .store import DEFAULT_MAX_SIZE, Md5binStore, PathLike

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# A paste never changes once stored, so its pages can be cached for good.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
TEXT_PLAIN = "text/plain; charset=utf-8"

# Form encodings inflate text (``%0A`` is 3 bytes for 1), so form bodies may be
# this much larger than max_size before the decoded field is checked.
FORM_OVERHEAD_FACTOR = 3
FORM_OVERHEAD_BYTES = 64 * 1024

# Well-formed urlencoding: no raw spaces, newlines or non-ASCII bytes.
_URLENCODED_BODY = re.compile(rb"[A-Za-z0-9\-._~*+%=&!'(),/:;?@$]*")
# http(s) URLs up to whitespace, quotes, angle brackets, controls or invisible characters.
_URL_IN_TEXT = re.compile(
    "https?://[^\\s<>\"'`\\x00-\\x1f\\x7f\u200b\u200c\u200d\u2060\ufeff]+", re.IGNORECASE
)
_URL_TRAILING_PUNCTUATION = ".,;:!?)]}*"


class _BodyTooLarge(Exception):
    """The request body grew past the limit while it was being read."""


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


_SECURITY_HEADER_NAMES = {name.lower() for name in SECURITY_HEADERS}
_SECURITY_RAW_HEADERS = [
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in SECURITY_HEADERS.items()
]


def normalise_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash, after checking it is an http(s) URL."""
    stripped = base_url.strip().rstrip("/")
    if not re.fullmatch(r"https?://[!-~]+", stripped, flags=re.IGNORECASE):
        raise Md5binError(
            f"base URL {base_url!r} is not an http:// or https:// URL of printable ASCII; "
            f"give one like http://127.0.0.1:8000 or https://bin.example.com"
        )
    return stripped


def linkify(text: str) -> str:
    """``text`` HTML-escaped, with each http(s) URL turned into a link (also escaped)."""
    pieces: list[str] = []
    position = 0
    for match in _URL_IN_TEXT.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILING_PUNCTUATION)
        if len(url) <= len("https://"):
            continue
        start = match.start()
        pieces.append(html.escape(text[position:start]))
        escaped = html.escape(url, quote=True)
        pieces.append(f'<a href="{escaped}" rel="nofollow noopener noreferrer">{escaped}</a>')
        position = start + len(url)
    pieces.append(html.escape(text[position:]))
    return "".join(pieces)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>"
        "body{font-family:system-ui,sans-serif;max-width:52rem;margin:1.5rem auto;padding:0 1rem;"
        "line-height:1.45;color:#222;background:#fdfdfb}"
        "pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:1rem;background:#f4f4ef;"
        "padding:1rem;border-radius:4px}"
        "nav,footer{font-size:.9rem;color:#666}code{background:#eee;padding:0 .2em}"
        "textarea{width:100%;min-height:10rem;font-family:monospace}"
        "</style></head><body>\n"
        f"{body}\n</body></html>\n"
    )


def _first_line(text: str, limit: int = 80) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped:
            return stripped if len(stripped) <= limit else stripped[: limit - 1] + "\u2026"
    return ""


def _text(message: str, status_code: int, headers: Optional[dict[str, str]] = None) -> Response:
    return PlainTextResponse(message.rstrip("\n") + "\n", status_code=status_code, headers=headers)


def _form_field(fields: list[tuple[bytes, bytes]], name: bytes) -> Optional[bytes]:
    for key, value in fields:
        if key == name:
            return value
    return None


def parse_urlencoded(body: bytes) -> Optional[list[tuple[bytes, bytes]]]:
    """The fields of a well-formed urlencoded body, or None if it is not one (keeps bytes exact)."""
    if b"=" not in body or not _URLENCODED_BODY.fullmatch(body):
        return None
    fields: list[tuple[bytes, bytes]] = []
    for pair in body.split(b"&"):
        if not pair:
            continue
        key, _, value = pair.partition(b"=")
        fields.append(
            (
                unquote_to_bytes(key.replace(b"+", b" ")),
                unquote_to_bytes(value.replace(b"+", b" ")),
            )
        )
    return fields


def _header_parameter(header_name: str, header_value: str, parameter: str) -> Optional[str]:
    message = Message()
    message[header_name] = header_value
    value = message.get_param(parameter, header=header_name)
    if value is None or isinstance(value, tuple):
        return None
    return str(value)


def parse_multipart(body: bytes, boundary: str) -> list[tuple[bytes, bytes]]:
    """The named fields of a ``multipart/form-data`` body, each value byte-exact."""
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    sections = (b"\r\n" + body).split(delimiter)
    fields: list[tuple[bytes, bytes]] = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            break
        head, separator, value = section.partition(b"\r\n\r\n")
        if not separator:
            continue
        disposition = ""
        for line in head.split(b"\r\n"):
            name, _, header_value = line.partition(b":")
            if name.strip().lower() == b"content-disposition":
                disposition = header_value.decode("utf-8", "replace").strip()
        field_name = _header_parameter("Content-Disposition", disposition, "name")
        if field_name is not None:
            fields.append((field_name.encode("utf-8"), value))
    return fields


def create_app(
    store_path: PathLike,
    *,
    id_length: Optional[int] = None,
    base_url: str,
    max_size: int = DEFAULT_MAX_SIZE,
) -> Starlette:
    """The md5bin web app over the store at ``store_path`` (opened now, closed on shutdown).

    Raises ``Md5binError`` (e.g. ``IdLengthMismatchError``) before serving anything.
    """
    base = normalise_base_url(base_url)
    store = Md5binStore(store_path, id_length, max_size=max_size)
    form_limit = max_size * FORM_OVERHEAD_FACTOR + FORM_OVERHEAD_BYTES

    def paste_url(paste_id: str) -> str:
        return f"{base}/{paste_id}"

    def raw_url(paste_id: str) -> str:
        return f"{base}/raw/{paste_id}"

    def too_large(size: Optional[int] = None) -> Response:
        shown = f"{size} bytes" if size is not None else "too large"
        return _text(
            f"the paste is {shown}; this md5bin accepts at most {max_size} bytes",
            413,
        )

    async def read_body(request: Request, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise _BodyTooLarge()
            chunks.append(chunk)
        return b"".join(chunks)

    async def extract_content(request: Request) -> tuple[Optional[bytes], Optional[Response]]:
        """The paste text from the request, or the error response to send instead."""
        content_type = request.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        is_form = media_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        limit = form_limit if is_form else max_size
        declared = request.headers.get("content-length")
        if declared is not None:
            if not re.fullmatch(r"[0-9]{1,20}", declared.strip()):
                return None, _text(f"malformed Content-Length header {declared!r}", 400)
            if int(declared.strip()) > limit:
                return None, too_large(int(declared.strip()) if not is_form else None)
        try:
            body = await read_body(request, limit)
        except _BodyTooLarge:
            return None, too_large()
        if media_type == "multipart/form-data":
            boundary = _header_parameter("Content-Type", content_type, "boundary")
            if not boundary:
                return None, _text("multipart body without a boundary parameter", 400)
            field = _form_field(parse_multipart(body, boundary), b"content")
            if field is None:
                return None, _text(
                    "no form field named 'content'; send the text as the request body "
                    "(curl --data-binary @file.txt URL) "
                    "or as the field content (curl -F content=@file.txt URL)",
                    400,
                )
            return field, None
        if media_type == "application/x-www-form-urlencoded":
            fields = parse_urlencoded(body)
            field = _form_field(fields, b"content") if fields is not None else None
            if field is not None:
                return field, None
        return body, None

    def wants_html(request: Request) -> bool:
        return "text/html" in request.headers.get("accept", "")

    async def post_paste(request: Request) -> Response:
        content, error = await extract_content(request)
        if error is not None:
            return error
        assert content is not None
        try:
            result = await run_in_threadpool(store.put, content)
        except EmptyPasteError as exc:
            return _text(str(exc), 400)
        except PasteTooLargeError as exc:
            return too_large(exc.size)
        except IdTakenError as exc:
            return _text(str(exc), 409)
        url = paste_url(result.paste_id)
        status_code = 201 if result.created else 200
        headers = {"Location": url}
        if wants_html(request):
            what = "Posted" if result.created else "Already here"
            body = _page(
                f"md5bin {result.paste_id}",
                f'<p>{what}: <a href="{html.escape(url)}">{html.escape(url)}</a></p>',
            )
            return HTMLResponse(body, status_code=status_code, headers=headers)
        return _text(url, status_code, headers)

    async def index(request: Request) -> Response:
        if request.method == "POST":
            return await post_paste(request)
        escaped_base = html.escape(base)
        body = (
            "<h1>md5bin</h1>\n"
            "<p>A pastebin where a paste's id is the first "
            f"{store.id_length} hex digits of the MD5 of its exact bytes, so md5steg "
            "can choose ids by appending invisible whitespace.</p>\n"
            "<h2>Post</h2>\n"
            f"<pre>curl --data-binary @file.txt {escaped_base}/</pre>\n"
            "<p>The answer is the paste's URL (201 when new, 200 when the same text was "
            "already here, 409 when other text holds the id). A form field named "
            "<code>content</code> works too: "
            f"<code>curl -F content=@file.txt {escaped_base}/</code>.</p>\n"
            "<h2>Read</h2>\n"
            f"<p><code>{escaped_base}/ID</code> (page), <code>{escaped_base}/raw/ID</code> "
            f"(exact bytes), <code>{escaped_base}/ID.json</code> (metadata), "
            f"<code>{escaped_base}/api/info</code> (settings).</p>\n"
            f"<p>Pastes up to {max_size} bytes; empty or whitespace-only pastes are refused.</p>\n"
            "<h2>Paste here</h2>\n"
            '<form method="post" action="./" enctype="multipart/form-data">'
            '<textarea name="content" aria-label="paste text"></textarea>'
            '<p><button type="submit">Post</button></p></form>\n'
            f"<footer>md5steg {html.escape(__version__)}</footer>"
        )
        return HTMLResponse(_page("md5bin", body))

    async def api_info(request: Request) -> Response:
        return JSONResponse(
            {
                "id_length": store.id_length,
                "max_size": max_size,
                "base_url": base,
                "version": __version__,
            }
        )

    async def raw(request: Request) -> Response:
        paste = await run_in_threadpool(store.get, request.path_params["paste_id"])
        if paste is None:
            raise HTTPException(404)
        return Response(
            paste.content,
            media_type=TEXT_PLAIN,
            headers={"Cache-Control": IMMUTABLE_CACHE, "ETag": f'"{paste.md5}"'},
        )

    async def paste_page(request: Request) -> Response:
        name: str = request.path_params["name"]
        as_json = name.endswith(".json")
        paste_id = name[: -len(".json")] if as_json else name
        paste = await run_in_threadpool(store.get, paste_id)
        if paste is None:
            raise HTTPException(404)
        cache_headers = {"Cache-Control": IMMUTABLE_CACHE}
        if as_json:
            return JSONResponse(
                {
                    "id": paste.paste_id,
                    "md5": paste.md5,
                    "size": paste.size,
                    "created": paste.created,
                    "url": paste_url(paste.paste_id),
                    "raw_url": raw_url(paste.paste_id),
                },
                headers=cache_headers,
            )
        text = paste.content.decode("utf-8", errors="replace")
        title = _first_line(text) or f"paste {paste.paste_id}"
        body = (
            f'<nav><a href="./">md5bin</a> \u00b7 {html.escape(paste.paste_id)} \u00b7 '
            f'<a href="raw/{html.escape(paste.paste_id)}">raw</a> \u00b7 '
            f'<a href="{html.escape(paste.paste_id)}.json">json</a> \u00b7 '
            f"{paste.size} bytes \u00b7 md5 <code>{html.escape(paste.md5)}</code></nav>\n"
            f"<pre>{linkify(text)}</pre>"
        )
        return HTMLResponse(
            _page(f"{title} \u2014 md5bin {paste.paste_id}", body),
            headers={**cache_headers, "ETag": f'"{paste.md5}"'},
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        status_code = getattr(exc, "status_code", 404)
        if status_code == 404:
            return _text(
                f"no paste at {request.url.path}; ids are {store.id_length} lowercase hex digits",
                404,
            )
        detail = getattr(exc, "detail", "error")
        return _text(str(detail), status_code, getattr(exc, "headers", None))

    async def internal_error(request: Request, exc: Exception) -> Response:
        # Runs outside the middleware stack, so it sets the security headers itself.
        return _text("internal error in md5bin; see the server's log", 500, dict(SECURITY_HEADERS))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    routes = [
        Route("/", index, methods=["GET", "HEAD", "POST"]),
        Route("/api/info", api_info, methods=["GET", "HEAD"]),
        Route("/raw/{paste_id}", raw, methods=["GET", "HEAD"]),
        Route("/{name}", paste_page, methods=["GET", "HEAD"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[],
        exception_handlers={HTTPException: not_found, Exception: internal_error},
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.state.store = store
    app.state.base_url = base
    return app
