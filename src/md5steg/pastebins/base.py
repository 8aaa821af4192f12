"""The pastebin adapter interface: what the publisher needs from a pastebin, and nothing more.

Adding a pastebin means writing one subclass of ``Pastebin`` (see
``pinnwand.py`` for a small one) and adding one line to
``md5steg.pastebins.PASTEBINS``; the planner, the publisher and the CLI's
``--target`` choices need no change.

Contract, for every adapter:

- ``from_options(options)`` builds the adapter from the CLI's target options
  (``PastebinOptions``) and raises ``PastebinOptionsError`` (one line, naming
  the option) for options it cannot use, such as ``--db`` for a remote server.
- ``paste(content)`` stores the exact bytes and returns the new paste's id and
  URL. It must not print, and must raise ``PastebinError`` (or a subclass) on
  failure. It may retry, but a retry must never leave two copies of a page:
  retry only requests that are idempotent on the server, or that certainly did
  not reach it (connection refused).
- ``fetch(paste_id)`` returns the raw bytes the pastebin serves for that paste;
  the publisher compares their MD5 with what it sent, so a pastebin that trims
  whitespace or rewrites line endings is caught.
- ``url_for(paste_id)`` is the URL a reader follows; it is pasted into the
  pages that link there. It is the only source of URLs: one recorded in a
  file (a manifest, the paste records) is never reused, since a story folder
  may come from someone else.
- ``is_valid_id(paste_id)`` says whether a string read from outside (a
  manifest, a record, a server's answer) has the shape of this pastebin's
  ids; only such ids are fetched or turned into URLs.
- Adapters with ``predictable_ids = True`` (content-addressed, like md5bin) also
  implement ``id_for(content)`` (the id the content will get) and
  ``is_taken(paste_id)``, and raise ``PasteConflictError`` when an id is held
  by other content. With those, the publisher can give pages ids before
  pasting them, and so publish stories with cycles.
- Adapters with random ids (``predictable_ids = False``) can publish only
  stories whose links form a DAG; the planner refuses cycles for them.
- Nothing touches the network before the first ``paste``/``fetch``/``is_taken``
  call, so ``md5steg plan`` can build an adapter offline.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Optional

# Re-exported: story/publish.py and older callers import the errors from here.
from .errors import PastebinError as PastebinError
from .errors import PasteConflictError as PasteConflictError
from .errors import PasteMissingError as PasteMissingError

DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_ID_CHARACTERS = 64
_PLAIN_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_CHARACTERS}}}")


@dataclass(frozen=True)
class PastebinOptions:
    """Where a story goes, as the CLI's target options say; each adapter takes what it can use.

    ``url`` is ``--to``, ``db_path`` ``--db``, ``base_url`` ``--base-url``,
    ``id_length`` ``--id-length``. ``offline`` is for ``md5steg plan``: the
    adapter must answer everything the planner asks without the network.
    ``on_retry`` hears, once, that a request failed and is being retried
    (network adapters only; the CLI prints it).
    """

    url: Optional[str] = None
    db_path: Optional[str] = None
    base_url: Optional[str] = None
    id_length: Optional[int] = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    offline: bool = False
    on_retry: Optional[Callable[[str], None]] = None


@dataclass(frozen=True)
class PasteReceipt:
    """Where a paste landed."""

    paste_id: str
    url: str


class Pastebin(ABC):
    """One pastebin the publisher can write to; see the module docstring for the contract."""

    kind: ClassVar[str]
    """The registry name, which is also the CLI's ``--target`` value."""
    predictable_ids: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def from_options(cls, options: PastebinOptions) -> Pastebin:
        """The adapter ``options`` describe; ``PastebinOptionsError`` for options it cannot use."""

    @property
    @abstractmethod
    def target_key(self) -> str:
        """A stable name for this destination; the manifest keeps one record per key."""

    @property
    @abstractmethod
    def description(self) -> str:
        """One line for people: kind, where, and anything that matters (id length)."""

    @property
    def id_length(self) -> Optional[int]:
        """Hex digits in an id, for predictable-id pastebins; None otherwise."""
        return None

    @property
    def max_size(self) -> Optional[int]:
        """Largest paste in bytes this pastebin accepts, when known."""
        return None

    @abstractmethod
    def url_for(self, paste_id: str) -> str:
        """The URL a reader follows to see paste ``paste_id``."""

    def is_valid_id(self, paste_id: str) -> bool:
        """True when ``paste_id`` can be one of this pastebin's ids (default: one plain path segment).

        Letters, digits, ``_`` and ``-``, at most ``MAX_ID_CHARACTERS``: never
        ``..``, ``/``, ``?`` or ``#``, which would make ``url_for`` name
        another page of the server.
        """
        return _PLAIN_ID.fullmatch(paste_id) is not None

    @abstractmethod
    def paste(self, content: bytes) -> PasteReceipt:
        """Store ``content`` byte for byte; raises ``PastebinError`` on failure."""

    @abstractmethod
    def fetch(self, paste_id: str) -> bytes:
        """The raw bytes the pastebin now serves for ``paste_id``; ``PasteMissingError`` if none."""

    def id_for(self, content: bytes) -> str:
        """The id ``content`` will get (predictable-id pastebins only)."""
        raise NotImplementedError(f"{self.kind} assigns random ids")

    def is_taken(self, paste_id: str) -> bool:
        """True when ``paste_id`` already holds some paste (predictable-id pastebins only)."""
        raise NotImplementedError(f"{self.kind} assigns random ids")

    def close(self) -> None:  # noqa: B027 - an optional hook; most adapters hold nothing
        """Release connections or files; the adapter is unusable afterwards."""

    def __enter__(self) -> Pastebin:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

