"""md5bin's HTML: the index, a paste's page and the error pages, all escaped.

Pure functions from values to strings, so the handlers stay small and the
escaping rules live in one place.
"""

from __future__ import annotations

import html
import re

from .._version import __version__

# http(s) URLs up to whitespace, quotes, angle brackets, controls or invisible characters.
_URL_IN_TEXT = re.compile(
    "https?://[^\\s<>\"'`\\x00-\\x1f\\x7f\u200b\u200c\u200d\u2060\ufeff]+", re.IGNORECASE
)
_URL_TRAILING_PUNCTUATION = ".,;:!?)]}*"


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


def page(title: str, body: str) -> str:
    """A whole HTML document around ``body`` (already escaped) with md5bin's style."""
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


def first_line(text: str, limit: int = 80) -> str:
    """The first non-blank line of ``text`` without Markdown's heading ``#``s, shortened to ``limit``
    characters (a title)."""
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        if stripped:
            return stripped if len(stripped) <= limit else stripped[: limit - 1] + "\u2026"
    return ""


def index_page(base_url: str, id_length: int, max_size: int) -> str:
    """The front page: how to post with curl, how to read, and a small form."""
    escaped_base = html.escape(base_url)
    body = (
        "<h1>md5bin</h1>\n"
        "<p>A pastebin where a paste's id is the first "
        f"{id_length} hex digits of the MD5 of its exact bytes, so md5steg "
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
    return page("md5bin", body)


def paste_page(paste_id: str, content: bytes, md5: str) -> str:
    """A paste as a readable page: escaped text with links, and its raw and json links."""
    text = content.decode("utf-8", errors="replace")
    title = first_line(text) or f"paste {paste_id}"
    escaped_id = html.escape(paste_id)
    body = (
        f'<nav><a href="./">md5bin</a> \u00b7 {escaped_id} \u00b7 '
        f'<a href="raw/{escaped_id}">raw</a> \u00b7 '
        f'<a href="{escaped_id}.json">json</a> \u00b7 '
        f"{len(content)} bytes \u00b7 md5 <code>{html.escape(md5)}</code></nav>\n"
        f"<pre>{linkify(text)}</pre>"
    )
    return page(f"{title} \u2014 md5bin {paste_id}", body)


def error_page(status_line: str, message: str, home_url: str) -> str:
    """A 404 or 410 for a browser: what went wrong, and the way back to the front page."""
    body = (
        f"<h1>{html.escape(status_line)}</h1>\n"
        f"<p>{html.escape(message)}</p>\n"
        f'<p><a href="{html.escape(home_url, quote=True)}">md5bin front page</a></p>'
    )
    return page(f"{status_line} \u2014 md5bin", body)
