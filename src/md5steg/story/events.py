"""What a publish reports back: events while it runs, the result at the end.

Kept apart from ``publish.py`` so that callers (the CLI, ``md5steg paste``)
import the vocabulary without the machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_ALPHABET = "ws2"
"""Space and tab only: invisible in every viewer (ws5's VT and FF show as boxes in browsers)."""


@dataclass(frozen=True)
class PublishEvent:
    """Something the user may want to see: ``notice``, ``search`` (starting) or ``pasted``."""

    kind: str
    page: str = ""
    url: str = ""
    paste_id: str = ""
    message: str = ""
    searched: bool = False
    """For ``pasted``: a suffix search was run for this page."""
    seconds: float = 0.0


EventCallback = Callable[[PublishEvent], None]


@dataclass
class PublishResult:
    """Where every page is now, and what this run did."""

    start: str
    start_url: str
    urls: dict[str, str]
    pasted: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    """Pages the pastebin already held, byte for byte (published before, by anyone)."""
    searches: int = 0
    candidates: int = 0
    seconds: float = 0.0
