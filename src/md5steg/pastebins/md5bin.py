"""md5bin adapters: the local SQLite store (no server needed) and a running md5bin over HTTP.

md5bin files a paste under the first ``id_length`` hex digits of its MD5
(``md5steg.addresses.content_id``), so ids are known before pasting
(``predictable_ids``), posting the same bytes twice is harmless (the second
answer is 200), and a 409 means other content already holds the id.

``Md5bin`` is the one registry entry: without ``--to`` it opens the local
store (``EmbeddedMd5bin``), with ``--to`` it talks to that server
(``HttpMd5bin``). Both share the id rule and the link format through it.
"""

from __future__ import annotations

import contextlib
import os
from abc import abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Optional, Union

from ..addresses import content_id, is_content_id, normalise_base_url
from ..md5bin.errors import IdRemovedError, IdTakenError, Md5binError
from ..md5bin.store import (
    DEFAULT_ID_LENGTH,
    DEFAULT_MAX_SIZE,
    MAX_ID_LENGTH,
    MIN_ID_LENGTH,
    Md5binStore,
    default_db_path,
)
from .base import DEFAULT_TIMEOUT_SECONDS, Pastebin, PastebinOptions, PasteReceipt
from .errors import (
    PastebinError,
    PastebinOptionsError,
    PasteConflictError,
    PasteMissingError,
    PasteRemovedError,
)
from .http import HttpPastebin, HttpSession, refusal

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
TEXT_PLAIN = "text/plain; charset=utf-8"


def _is_int(value: object) -> bool:
    """A JSON integer (``bool`` is an ``int`` to Python, not to JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


class Md5bin(Pastebin):
    """md5bin, local or remote: what both forms share (the id rule, links on ``base_url``)."""

    kind = "md5bin"
    predictable_ids = True
    base_url: str

    @classmethod
    def from_options(cls, options: PastebinOptions) -> Md5bin:
        """The local store (``db_path``, or the default one) without ``url``; the server at ``url``."""
        if options.url is None:
            db_path = options.db_path if options.db_path is not None else default_db_path()
            return EmbeddedMd5bin(db_path, options.base_url or DEFAULT_BASE_URL, options.id_length)
        if options.db_path is not None:
            raise PastebinOptionsError(
                "--db is for the local md5bin store; leave it out with --to"
            )
        id_length = options.id_length
        if options.offline and id_length is None:
            id_length = DEFAULT_ID_LENGTH
        return HttpMd5bin(
            options.url,
            options.base_url,
            id_length,
            timeout=options.timeout,
            on_retry=options.on_retry,
        )

    @property
    @abstractmethod
    def id_length(self) -> int:
        """Hex digits in every id of this md5bin."""

    def url_for(self, paste_id: str) -> str:
        return f"{self.base_url}/{paste_id}"

    def id_for(self, content: bytes) -> str:
        return content_id(content, self.id_length)

    def is_valid_id(self, paste_id: str) -> bool:
        return is_content_id(paste_id, self.id_length)


class EmbeddedMd5bin(Md5bin):
    """Pastes straight into an md5bin SQLite file; ``md5steg serve`` on the same file serves them."""

    def __init__(
        self,
        db_path: Union[str, os.PathLike[str]],
        base_url: str = DEFAULT_BASE_URL,
        id_length: Optional[int] = None,
    ) -> None:
        self.db_path = Path(db_path).expanduser()
        self.base_url = normalise_base_url(base_url, "base URL (--base-url)")
        self._requested_id_length = id_length
        self._store: Optional[Md5binStore] = None

    @contextlib.contextmanager
    def _store_errors(self) -> Iterator[Md5binStore]:
        """The open store; its errors (locked, id length mismatch) become ``PastebinError``."""
        try:
            if self._store is None:
                self._store = Md5binStore(self.db_path, self._requested_id_length)
            yield self._store
        except IdRemovedError as exc:
            raise PasteConflictError(exc.paste_id, removed=True) from None
        except IdTakenError as exc:
            raise PasteConflictError(exc.paste_id) from None
        except Md5binError as exc:
            raise PastebinError(str(exc)) from None

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
        with self._store_errors() as store:
            return store.id_length

    @property
    def max_size(self) -> int:
        return self._store.max_size if self._store is not None else DEFAULT_MAX_SIZE

    def is_taken(self, paste_id: str) -> bool:
        with self._store_errors() as store:
            return store.is_taken(paste_id)

    def paste(self, content: bytes) -> PasteReceipt:
        with self._store_errors() as store:
            result = store.put(content)
        return PasteReceipt(result.paste_id, self.url_for(result.paste_id))

    def fetch(self, paste_id: str) -> bytes:
        with self._store_errors() as store:
            paste = store.get(paste_id)
            if paste is None and store.is_removed(paste_id):
                raise PasteRemovedError(f"paste {paste_id} was removed from {self.db_path}")
        if paste is None:
            raise PasteMissingError(f"paste {paste_id} is not in {self.db_path}")
        return bytes(paste.content)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class HttpMd5bin(Md5bin, HttpPastebin):
    """A running md5bin (``md5steg serve``) reached over HTTP.

    Requests go to ``url``; links use ``base_url`` (default: ``url``). The id
    length and size limit come from ``GET /api/info`` before the first request
    that depends on them, and a given ``id_length`` that differs is refused.
    ``md5steg plan`` gives ``id_length`` and stays offline.
    """

    def __init__(
        self,
        url: str,
        base_url: Optional[str] = None,
        id_length: Optional[int] = None,
        session: Optional[HttpSession] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        on_retry: Optional[Callable[[str], None]] = None,
    ) -> None:
        super().__init__(
            url, what="md5bin URL (--to)", session=session, timeout=timeout, on_retry=on_retry
        )
        self.base_url = normalise_base_url(base_url, "base URL (--base-url)") if base_url else self.url
        self._id_length = id_length
        self._max_size: Optional[int] = None
        self._server_checked = False

    def _check_server(self) -> None:
        """Learn the server's id length and size limit once; refuse an id length that differs."""
        if self._server_checked:
            return
        info_url = f"{self.url}/api/info"
        response = self.session.request("GET", info_url, idempotent=True)
        if response.status_code != 200:
            raise PastebinError(
                f"{info_url} answered HTTP {response.status_code}; is {self.url} an md5bin (md5steg serve)?"
            )
        not_md5bin = PastebinError(f"{info_url} did not answer md5bin's JSON; is it an md5bin?")
        try:
            info = response.json()
            server_id_length = info["id_length"]
            max_size = info["max_size"]
        # RecursionError: what json raises for arrays nested ~1000 deep, instead of ValueError.
        except (ValueError, KeyError, TypeError, RecursionError):
            raise not_md5bin from None
        # Exact integers in md5bin's own ranges: 1e999 (infinity), 6.5 or "6" is not an md5bin.
        if not (_is_int(server_id_length) and MIN_ID_LENGTH <= server_id_length <= MAX_ID_LENGTH):
            raise not_md5bin
        if not (_is_int(max_size) and max_size > 0):
            raise not_md5bin
        if self._id_length is not None and self._id_length != server_id_length:
            raise PastebinError(
                f"{self.url} uses {server_id_length}-hex ids, not {self._id_length}; drop --id-length"
            )
        self._id_length, self._max_size = server_id_length, max_size
        self._server_checked = True

    @property
    def target_key(self) -> str:
        return f"md5bin:{self.url}|{self.base_url}"

    @property
    def description(self) -> str:
        return f"md5bin at {self.url} ({self.id_length}-hex ids)"

    @property
    def id_length(self) -> int:
        if self._id_length is None:
            self._check_server()
        assert self._id_length is not None  # _check_server set it or raised
        return self._id_length

    @property
    def max_size(self) -> int:
        return self._max_size if self._max_size is not None else DEFAULT_MAX_SIZE

    def is_taken(self, paste_id: str) -> bool:
        self._check_server()
        json_url = f"{self.url}/{paste_id}.json"
        response = self.session.request("GET", json_url, idempotent=True)
        if response.status_code in (200, 410):  # 410: removed, and never given out again
            return True
        if response.status_code == 404:
            return False
        raise PastebinError(f"{json_url} answered HTTP {response.status_code}")

    def _is_removed(self, paste_id: str) -> bool:
        """True when the server answers 410 Gone for ``paste_id``: its operator removed it."""
        response = self.session.request("GET", f"{self.url}/{paste_id}.json", idempotent=True)
        return response.status_code == 410

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
            raise PasteConflictError(expected_id, removed=self._is_removed(expected_id))
        if response.status_code not in (200, 201):
            raise refusal(self.url, response)
        location = response.headers.get("Location", "")
        paste_id = location.rstrip("/").rsplit("/", 1)[-1]
        if paste_id != expected_id:
            raise PastebinError(
                f"{self.url} filed the paste under {paste_id!r}, but the MD5 of the bytes sent gives "
                f"{expected_id!r}; the server changed the text (or is not an md5bin)"
            )
        return PasteReceipt(paste_id, self.url_for(paste_id))
