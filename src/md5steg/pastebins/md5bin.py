"""md5bin adapters: the local SQLite store (no server needed) and a running md5bin over HTTP.

md5bin files a paste under the first ``id_length`` hex digits of its MD5, so
ids are known before pasting (``predictable_ids``), posting the same bytes
twice is harmless (the second answer is 200), and a 409 means other content
already holds the id.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import urlsplit

from .base import (
    HttpPastebin,
    Pastebin,
    PastebinError,
    PasteConflictError,
    PasteMissingError,
    PasteReceipt,
)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_ID_LENGTH = 6
DEFAULT_MAX_SIZE = 1024 * 1024
TEXT_PLAIN = "text/plain; charset=utf-8"


def _normalise_base_url(base_url: str) -> str:
    stripped = base_url.strip().rstrip("/")
    parts = urlsplit(stripped)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PastebinError(
            f"{base_url!r} is not an http:// or https:// URL, e.g. http://127.0.0.1:8000"
        )
    return stripped


class EmbeddedMd5bin(Pastebin):
    """Pastes straight into an md5bin SQLite file; ``md5steg serve`` on the same file serves them."""

    kind = "md5bin"
    predictable_ids = True

    def __init__(
        self,
        db_path: Union[str, os.PathLike[str]],
        base_url: str = DEFAULT_BASE_URL,
        id_length: Optional[int] = None,
    ) -> None:
        self.db_path = Path(db_path).expanduser()
        self.base_url = _normalise_base_url(base_url)
        self._requested_id_length = id_length
        self._store: Any = None

    def _open(self) -> Any:
        if self._store is None:
            from ..md5bin.store import Md5binStore

            self._store = Md5binStore(self.db_path, self._requested_id_length)
        return self._store

    @property
    def target_key(self) -> str:
        return f"md5bin-db:{self.db_path.resolve()}|{self.base_url}"

    @property
    def description(self) -> str:
        return f"md5bin store {self.db_path} (links on {self.base_url}, {self.id_length}-hex ids)"

    @property
    def id_length(self) -> int:
        if self._store is None and not self.db_path.exists():
            return self._requested_id_length or DEFAULT_ID_LENGTH
        return int(self._open().id_length)

    @property
    def max_size(self) -> int:
        return int(self._open().max_size) if self._store is not None else DEFAULT_MAX_SIZE

    def url_for(self, paste_id: str) -> str:
        return f"{self.base_url}/{paste_id}"

    def id_for(self, content: bytes) -> str:
        return hashlib.md5(content).hexdigest()[: self.id_length]

    def is_taken(self, paste_id: str) -> bool:
        return bool(self._open().is_taken(paste_id))

    def paste(self, content: bytes) -> PasteReceipt:
        from ..md5bin.errors import IdTakenError, Md5binError

        try:
            result = self._open().put(content)
        except IdTakenError as exc:
            raise PasteConflictError(exc.paste_id) from None
        except Md5binError as exc:
            raise PastebinError(str(exc)) from None
        return PasteReceipt(result.paste_id, self.url_for(result.paste_id))

    def fetch(self, paste_id: str) -> bytes:
        paste = self._open().get(paste_id)
        if paste is None:
            raise PasteMissingError(f"paste {paste_id} is not in {self.db_path}")
        return bytes(paste.content)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class HttpMd5bin(HttpPastebin):
    """A running md5bin (``md5steg serve``) reached over HTTP.

    Requests go to ``url``; links use ``base_url`` (default: ``url``). The id
    length and size limit come from ``GET /api/info`` on first use, unless
    ``id_length`` is given (``md5steg plan`` gives it, and stays offline).
    """

    kind = "md5bin"
    predictable_ids = True

    def __init__(
        self,
        url: str,
        base_url: Optional[str] = None,
        id_length: Optional[int] = None,
        session: Any = None,
    ) -> None:
        self.url = _normalise_base_url(url)
        self.base_url = _normalise_base_url(base_url) if base_url else self.url
        self._id_length = id_length
        self._max_size: Optional[int] = None
        self._session = session
        self._info_checked = False

    def _info(self) -> None:
        self._info_checked = True
        response = self.session.request("GET", f"{self.url}/api/info", idempotent=True)
        if response.status_code != 200:
            raise PastebinError(
                f"{self.url}/api/info answered HTTP {response.status_code}; is {self.url} an md5bin (md5steg serve)?"
            )
        try:
            info = response.json()
            server_id_length = int(info["id_length"])
            self._max_size = int(info["max_size"])
        except (ValueError, KeyError, TypeError):
            raise PastebinError(
                f"{self.url}/api/info did not answer md5bin's JSON; is it an md5bin?"
            ) from None
        if self._id_length is not None and self._id_length != server_id_length:
            raise PastebinError(
                f"{self.url} uses {server_id_length}-hex ids, not {self._id_length}; drop --id-length"
            )
        self._id_length = server_id_length

    @property
    def target_key(self) -> str:
        return f"md5bin:{self.url}|{self.base_url}"

    @property
    def description(self) -> str:
        return f"md5bin at {self.url} ({self.id_length}-hex ids)"

    @property
    def id_length(self) -> int:
        if self._id_length is None:
            self._info()
        assert self._id_length is not None
        return self._id_length

    def _check_server(self) -> None:
        """Before the first network call, learn the server's id length (and refuse a mismatch)."""
        if not self._info_checked:
            self._info()

    @property
    def max_size(self) -> int:
        return self._max_size if self._max_size is not None else DEFAULT_MAX_SIZE

    def url_for(self, paste_id: str) -> str:
        return f"{self.base_url}/{paste_id}"

    def id_for(self, content: bytes) -> str:
        return hashlib.md5(content).hexdigest()[: self.id_length]

    def is_taken(self, paste_id: str) -> bool:
        self._check_server()
        response = self.session.request("GET", f"{self.url}/{paste_id}.json", idempotent=True)
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise PastebinError(f"{self.url}/{paste_id}.json answered HTTP {response.status_code}")

    def paste(self, content: bytes) -> PasteReceipt:
        self._check_server()
        expected_id = self.id_for(content)
        # Content-addressed, so a repeated POST cannot make a second copy: retry freely.
        response = self.session.request(
            "POST",
            f"{self.url}/",
            content=content,
            headers={"Content-Type": TEXT_PLAIN},
            idempotent=True,
        )
        if response.status_code == 409:
            raise PasteConflictError(expected_id)
        if response.status_code not in (200, 201):
            detail = response.text.strip().splitlines()[0] if response.text.strip() else ""
            raise PastebinError(
                f"{self.url} refused the paste: HTTP {response.status_code} {detail}".rstrip()
            )
        location = response.headers.get("Location", "")
        paste_id = location.rstrip("/").rsplit("/", 1)[-1]
        if paste_id != expected_id:
            raise PastebinError(
                f"{self.url} filed the paste under {paste_id!r}, but the MD5 of the bytes sent gives "
                f"{expected_id!r}; the server changed the text (or is not an md5bin)"
            )
        return PasteReceipt(paste_id, self.url_for(paste_id))

