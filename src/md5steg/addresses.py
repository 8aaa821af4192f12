"""Content addresses and base URLs: the rules md5bin, the pastebin adapters and publish share.

An md5bin paste's id is the first N hex digits of the MD5 of its exact bytes;
that rule, and what counts as a usable http(s) base URL, are written here once.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from .errors import InvalidUrlError


def md5_hex(content: bytes) -> str:
    """The MD5 of ``content`` as 32 lowercase hex digits (an address, not a security hash)."""
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def content_id(content: bytes, id_length: int) -> str:
    """md5bin's id for ``content``: the first ``id_length`` hex digits of its MD5."""
    return md5_hex(content)[:id_length]


def is_content_id(paste_id: str, id_length: int) -> bool:
    """True when ``paste_id`` has the shape of an md5bin id: ``id_length`` lowercase hex digits.

    An id read from a file or an answer must pass this before it goes into a
    URL: ``../`` or ``x?y`` would name another page of the server.
    """
    return len(paste_id) == id_length and all(char in "0123456789abcdef" for char in paste_id)


def normalise_base_url(url: str, what: str = "base URL") -> str:
    """``url`` without surrounding blanks or trailing slashes, after checking it is http(s).

    ``what`` names the URL in the error (``"pinnwand URL"``), so the one-line
    message says which option was wrong.
    """
    stripped = url.strip().rstrip("/")
    try:
        parts = urlsplit(stripped)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise InvalidUrlError(f"{what} {url!r} is not a valid URL ({exc})") from None
    printable = all("!" <= char <= "~" for char in stripped)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not printable:
        raise InvalidUrlError(
            f"{what} {url!r} is not an http:// or https:// URL of printable ASCII; "
            f"give one like http://127.0.0.1:8000 or https://bin.example.com"
        )
    return stripped
