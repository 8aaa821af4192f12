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

from collections.abc import Callable
from typing import Optional
from urllib.parse import urlsplit

from .base import DEFAULT_TIMEOUT_SECONDS, PastebinOptions, PasteReceipt
from .errors import PastebinError, PastebinOptionsError
from .http import HttpPastebin, HttpSession, refusal

DEFAULT_EXPIRY = "1week"
DEFAULT_MAX_SIZE = 256 * 1024


class Pinnwand(HttpPastebin):
    """A pinnwand server; only stories whose links form a DAG can be published to it."""

    kind = "pinnwand"
    predictable_ids = False

    def __init__(
        self,
        url: str,
        expiry: str = DEFAULT_EXPIRY,
        session: Optional[HttpSession] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        on_retry: Optional[Callable[[str], None]] = None,
    ) -> None:
        super().__init__(
            url, what="pinnwand URL (--to)", session=session, timeout=timeout, on_retry=on_retry
        )
        self.expiry = expiry

    @classmethod
    def from_options(cls, options: PastebinOptions) -> Pinnwand:
        """The pinnwand at ``url``; md5bin's options (``--db``, ``--base-url``, ``--id-length``) are refused."""
        if options.url is None:
            raise PastebinOptionsError(
                "--target pinnwand needs --to URL, the pinnwand server's address"
            )
        md5bin_only = {
            "--db": options.db_path,
            "--base-url": options.base_url,
            "--id-length": options.id_length,
        }
        given = [flag for flag, value in md5bin_only.items() if value is not None]
        if given:
            one = len(given) == 1
            raise PastebinOptionsError(
                f"{', '.join(given)} {'is an md5bin option' if one else 'are md5bin options'}; "
                f"pinnwand keeps its own random ids and links, so leave {'it' if one else 'them'} out"
            )
        return cls(options.url, timeout=options.timeout, on_retry=options.on_retry)

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
        create_url = f"{self.url}/api/v1/paste"
        response = self.session.request("POST", create_url, json=body, idempotent=False)
        if response.status_code != 200:
            raise refusal(self.url, response)
        try:
            link = str(response.json()["link"])
        except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: nested too deep
            raise PastebinError(f"{create_url} did not answer pinnwand's JSON") from None
        paste_id = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]
        if not self.is_valid_id(paste_id):
            raise PastebinError(f"{self.url} answered a link without a paste id: {link!r}")
        return PasteReceipt(paste_id, self.url_for(paste_id))
