"""Pastebin adapters: where a story can be published.

``ADAPTERS`` maps a ``--target`` name to a factory; add a pastebin by writing
one ``Pastebin`` subclass (contract in ``base.py``) and one entry here.
"""

from __future__ import annotations

from typing import Callable, Optional

from .base import Pastebin, PastebinError, PasteConflictError, PasteReceipt


def _md5bin(
    url: Optional[str], *, db_path: Optional[str], base_url: Optional[str], id_length: Optional[int]
) -> Pastebin:
    from .md5bin import DEFAULT_BASE_URL, EmbeddedMd5bin, HttpMd5bin

    if url is None:
        if db_path is None:
            from ..md5bin.store import default_db_path

            db_path = str(default_db_path())
        return EmbeddedMd5bin(db_path, base_url or DEFAULT_BASE_URL, id_length)
    return HttpMd5bin(url, base_url, id_length)


def _pinnwand(
    url: Optional[str], *, db_path: Optional[str], base_url: Optional[str], id_length: Optional[int]
) -> Pastebin:
    from .pinnwand import Pinnwand

    if url is None:
        raise PastebinError("--target pinnwand needs --to URL, the pinnwand server's address")
    return Pinnwand(url)


AdapterFactory = Callable[..., Pastebin]
ADAPTERS: dict[str, AdapterFactory] = {"md5bin": _md5bin, "pinnwand": _pinnwand}


def open_pastebin(
    kind: str,
    url: Optional[str] = None,
    *,
    db_path: Optional[str] = None,
    base_url: Optional[str] = None,
    id_length: Optional[int] = None,
) -> Pastebin:
    """The adapter for ``kind`` at ``url`` (md5bin without a URL: the local store at ``db_path``)."""
    try:
        factory = ADAPTERS[kind]
    except KeyError:
        raise PastebinError(
            f"unknown pastebin kind {kind!r}; choose one of {', '.join(ADAPTERS)}"
        ) from None
    return factory(url, db_path=db_path, base_url=base_url, id_length=id_length)


__all__ = [
    "ADAPTERS",
    "PasteConflictError",
    "PasteReceipt",
    "Pastebin",
    "PastebinError",
    "open_pastebin",
]
