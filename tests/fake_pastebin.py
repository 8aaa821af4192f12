"""In-memory pastebins that keep ``md5steg.pastebins.base.Pastebin``'s contract, with fault hooks.

As pip-tools keeps a ``FakeRepository``, the planner and publisher are tested
in-process against these instead of by shelling out to the CLI: they answer
exactly as the contract says (409 for other content at an id, 200 for the same
bytes again, ``PasteMissingError`` for an unknown id), and a test can make
them misbehave in ways a real server cannot be made to on demand.
Registered by ``pytest_plugins`` in conftest.py; the fixtures are
``fake_md5bin`` (content-addressed, 4-hex ids) and ``fake_pinnwand`` (random ids).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Optional

import pytest

from md5steg.addresses import content_id
from md5steg.pastebins import (
    Pastebin,
    PastebinError,
    PastebinOptions,
    PasteConflictError,
    PasteMissingError,
    PasteReceipt,
)


class FakePastebin(Pastebin):
    """What every fake shares: stored pastes, a log of posts, and fault hooks.

    - ``before_paste(content)`` runs before each paste is stored (to let a
      rival paste something first, or to raise);
    - ``transform(content)`` is what gets stored instead of ``content`` (a
      pastebin that trims or rewrites text);
    - ``unreadable``: ids whose ``fetch`` fails with ``PastebinError``.
    """

    kind = "fake"
    base_url = "http://fake.test"

    def __init__(self, max_size: Optional[int] = None) -> None:
        self.pastes: dict[str, bytes] = {}
        self.posts: list[bytes] = []
        self.fetches: list[str] = []
        self.before_paste: Optional[Callable[[bytes], None]] = None
        self.transform: Callable[[bytes], bytes] = lambda content: content
        self.unreadable: set[str] = set()
        self._max_size = max_size
        self.closed = False

    @classmethod
    def from_options(cls, options: PastebinOptions) -> FakePastebin:
        """A fresh, empty fake (the options name no real place)."""
        return cls()

    @property
    def target_key(self) -> str:
        return f"{self.kind}:{self.base_url}"

    @property
    def description(self) -> str:
        return f"{self.kind} pastebin in memory"

    @property
    def max_size(self) -> Optional[int]:
        return self._max_size

    def url_for(self, paste_id: str) -> str:
        return f"{self.base_url}/{paste_id}"

    def _new_id(self, content: bytes) -> str:
        raise NotImplementedError

    def paste(self, content: bytes) -> PasteReceipt:
        self.posts.append(content)
        if self.before_paste is not None:
            self.before_paste(content)
        paste_id = self._new_id(content)
        self.pastes[paste_id] = self.transform(content)
        return PasteReceipt(paste_id, self.url_for(paste_id))

    def fetch(self, paste_id: str) -> bytes:
        self.fetches.append(paste_id)
        if paste_id in self.unreadable:
            raise PastebinError(f"{self.url_for(paste_id)} answered HTTP 500")
        try:
            return self.pastes[paste_id]
        except KeyError:
            raise PasteMissingError(f"{self.url_for(paste_id)} is not there") from None

    def close(self) -> None:
        self.closed = True


class FakeMd5bin(FakePastebin):
    """Content-addressed like md5bin: the id is the MD5 prefix; the same bytes again are fine."""

    kind = "fake-md5bin"
    predictable_ids = True

    def __init__(self, id_length: int = 4, max_size: Optional[int] = None) -> None:
        super().__init__(max_size)
        self._id_length = id_length

    @property
    def id_length(self) -> int:
        return self._id_length

    def id_for(self, content: bytes) -> str:
        return content_id(content, self._id_length)

    def is_taken(self, paste_id: str) -> bool:
        return paste_id in self.pastes

    def _new_id(self, content: bytes) -> str:
        paste_id = self.id_for(content)
        held = self.pastes.get(paste_id)
        if held is not None and held != self.transform(content):
            raise PasteConflictError(paste_id)
        return paste_id

    def squat(self, paste_id: str, content: bytes = b"somebody else's paste\n") -> None:
        """Put other content at ``paste_id``, as a rival would (no MD5 check: a fake may cheat)."""
        self.pastes[paste_id] = content


class FakeRandomPastebin(FakePastebin):
    """Random ids like pinnwand: every paste is new, even of the same bytes."""

    kind = "fake-pinnwand"
    predictable_ids = False

    def __init__(self, max_size: Optional[int] = None) -> None:
        super().__init__(max_size)
        self._numbers = itertools.count(1)

    def _new_id(self, content: bytes) -> str:
        return f"r{next(self._numbers):05d}"


@pytest.fixture
def fake_md5bin() -> FakeMd5bin:
    return FakeMd5bin(id_length=4)


@pytest.fixture
def fake_pinnwand() -> FakeRandomPastebin:
    return FakeRandomPastebin()
