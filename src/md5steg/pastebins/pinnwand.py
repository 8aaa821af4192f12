"""pinnwand (https://github.com/supakeen/pinnwand), a third-party pastebin with random ids.

Create: ``POST /api/v1/paste`` with JSON ``{"expiry": ..., "files": [{"lexer":
"text", "content": ...}]}``; the answer's ``link`` is the paste's page and its
last path segment the id; ``GET /raw/<id>`` serves the text.

Retries: a POST creates a new paste every time it is received, and pinnwand
cannot be searched by content, so a POST is retried only when it certainly
did not arrive (connection refused) or was refused (429). After any other
failure the publisher has recorded the attempt in the manifest and reports
that an orphan copy may exist; the residual risk is one unlinked duplicate
paste, which expires with the paste's expiry.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit

from .base import HttpPastebin, PastebinError, PasteReceipt

DEFAULT_EXPIRY = "1week"
DEFAULT_MAX_SIZE = 256 * 1024


class Pinnwand(HttpPastebin):
    """A pinnwand server; only stories whose links form a DAG can be published to it."""

    kind = "pinnwand"
    predictable_ids = False

    def __init__(self, url: str, expiry: str = DEFAULT_EXPIRY, session: Any = None) -> None:
        stripped = url.strip().rstrip("/")
        parts = urlsplit(stripped)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PastebinError(f"{url!r} is not an http:// or https:// URL of a pinnwand server")
        self.url = stripped
        self.expiry = expiry
        self._session = session

    @property
    def target_key(self) -> str:
        return f"pinnwand:{self.url}"

    @property
    def description(self) -> str:
        return f"pinnwand at {self.url} (random ids, expiry {self.expiry})"

    @property
    def max_size(self) -> Optional[int]:
        # pinnwand counts characters; counting bytes is the safe side of that.
        return DEFAULT_MAX_SIZE

    def url_for(self, paste_id: str) -> str:
        return f"{self.url}/{paste_id}"

    def paste(self, content: bytes) -> PasteReceipt:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise PastebinError("pinnwand stores text; the page is not valid UTF-8") from None
        body = {"expiry": self.expiry, "files": [{"lexer": "text", "content": text}]}
        response = self.session.request(
            "POST", f"{self.url}/api/v1/paste", json=body, idempotent=False
        )
        if response.status_code != 200:
            raise PastebinError(
                f"{self.url} refused the paste: HTTP {response.status_code} {response.text.strip()[:200]}".rstrip()
            )
        try:
            link = str(response.json()["link"])
        except (ValueError, KeyError, TypeError):
            raise PastebinError(f"{self.url}/api/v1/paste did not answer pinnwand's JSON") from None
        paste_id = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]
        if not paste_id:
            raise PastebinError(f"{self.url} answered a link without a paste id: {link!r}")
        return PasteReceipt(paste_id, self.url_for(paste_id))

