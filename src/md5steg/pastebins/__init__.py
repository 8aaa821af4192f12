"""Pastebin adapters: where a story can be published.

``PASTEBINS`` maps a ``--target`` name to its adapter class. Add a pastebin by
writing one ``Pastebin`` subclass (contract in ``base.py``) and one line
there; ``open_pastebin`` and the CLI's ``--target`` choices follow. Importing
this package needs no optional dependency: httpx and tenacity are imported
when a network adapter first talks to its server.
"""

from __future__ import annotations

from typing import Optional

from .base import Pastebin, PastebinOptions, PasteReceipt
from .errors import (
    AmbiguousRequestError,
    PastebinError,
    PastebinOptionsError,
    PastebinUnreachableError,
    PasteConflictError,
    PasteMissingError,
)
from .md5bin import Md5bin
from .pinnwand import Pinnwand

PASTEBINS: dict[str, type[Pastebin]] = {
    # Abstract on purpose: Md5bin.from_options picks the local store or the HTTP form.
    Md5bin.kind: Md5bin,  # type: ignore[type-abstract]
    Pinnwand.kind: Pinnwand,
}


def open_pastebin(name: str, options: Optional[PastebinOptions] = None) -> Pastebin:
    """The adapter registered as ``name``, built from ``options`` (nothing is contacted yet)."""
    try:
        adapter_class = PASTEBINS[name]
    except KeyError:
        raise PastebinOptionsError(
            f"unknown pastebin {name!r}; choose one of {', '.join(sorted(PASTEBINS))}"
        ) from None
    return adapter_class.from_options(options or PastebinOptions())


__all__ = [
    "PASTEBINS",
    "AmbiguousRequestError",
    "PasteConflictError",
    "PasteMissingError",
    "PasteReceipt",
    "Pastebin",
    "PastebinError",
    "PastebinOptions",
    "PastebinOptionsError",
    "PastebinUnreachableError",
    "open_pastebin",
]
