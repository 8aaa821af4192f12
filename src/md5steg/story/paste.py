"""One paste, through the story machinery: a vanity id, or a page that holds its own URL.

``paste_content`` turns the input into a one-page story and publishes it with
the same planner and publisher as a whole story. Every occurrence of the
``self_token`` becomes a link from the page to itself, so the planner gives
the page its id in advance (a one-page cycle) and the publisher searches the
whitespace suffix that makes the MD5 match that id; a ``vanity`` prefix is the
story's ``[prefix]`` for that page. So ``md5steg paste`` inherits what publish
promises: the same input pasted again gets the same URL and adds nothing, and
every paste is read back and checked. On a random-id pastebin (pinnwand)
"again" needs a memory: ``records`` (``records.py``) remembers where each input
went, and a recorded paste that still holds the input is reused.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from ..addresses import md5_hex
from ..alphabets import Alphabet
from ..pastebins.base import Pastebin
from ..pastebins.errors import PasteMissingError
from ..search import DEFAULT_MAX_EXPECTED_SECONDS, SearchOptions
from .errors import ManifestError, StoryError
from .events import DEFAULT_ALPHABET, EventCallback, PublishEvent
from .loader import HEX_RE, Link, Page, Story, line_of
from .manifest import Manifest
from .publish import Publisher
from .records import PasteRecords

PAGE_NAME = "paste"
DEFAULT_SELF_TOKEN = "{{url}}"


class PasteInputError(StoryError):
    """The input or the options cannot be pasted (empty, too large, a vanity id that cannot be)."""


@dataclass(frozen=True)
class PasteResult:
    """Where the input went and what it took."""

    url: str
    paste_id: str
    md5: str
    added: bytes
    """The suffix appended to make the MD5 match (empty when no search was needed)."""
    found: bool
    """The pastebin already held exactly these bytes: nothing was pasted."""
    searches: int
    candidates: int
    seconds: float


def token_bytes(self_token: Union[str, bytes]) -> bytes:
    """The token as the bytes to find: a ``str`` as the command line gave it (``os.fsencode``).

    Arguments that are not UTF-8 reach Python as lone surrogates
    (surrogateescape); ``os.fsencode`` turns them back into the bytes typed,
    so ``--self $'\\xff'`` finds the byte 0xff, not a traceback.
    """
    return self_token if isinstance(self_token, bytes) else os.fsencode(self_token)


def _one_page_story(content: bytes, source: Path, token: Optional[bytes], vanity: str) -> Story:
    links = []
    if token:
        start = content.find(token)
        while start >= 0:
            links.append(Link(PAGE_NAME, line_of(content, start), start, start + len(token)))
            start = content.find(token, start + len(token))
    page = Page(name=PAGE_NAME, path=source, source=content, links=tuple(links))
    return Story(
        folder=source.parent,
        pages={PAGE_NAME: page},
        start=PAGE_NAME,
        vanity={PAGE_NAME: vanity} if vanity else {},
    )


def _check(content: bytes, pastebin: Pastebin, vanity: str, self_token: Optional[bytes]) -> None:
    """Everything that can be refused before a byte is sent."""
    if not content.strip():
        raise PasteInputError("the input is empty or only whitespace; there is nothing to paste")
    if (vanity or self_token) and not pastebin.predictable_ids:
        option = "--vanity" if vanity else "--self"
        raise PasteInputError(
            f"{pastebin.kind} assigns random ids, so {option} cannot choose one; "
            f"paste to md5bin (the default) instead"
        )
    if vanity and not HEX_RE.fullmatch(vanity):
        raise PasteInputError(f"vanity prefix {vanity!r} is not hex; use only 0-9 and a-f")
    id_length = pastebin.id_length
    if vanity and id_length is not None and len(vanity) > id_length:
        raise PasteInputError(
            f"vanity prefix {vanity!r} has {len(vanity)} hex digits; {pastebin.description} "
            f"has ids of {id_length}"
        )
    if self_token is not None and not self_token:
        raise PasteInputError("the --self token is empty; give the text to replace, e.g. {{url}}")
    limit = pastebin.max_size
    if limit is not None and len(content) > limit:
        raise PasteInputError(
            f"the input is {len(content)} bytes; {pastebin.description} accepts at most {limit}"
        )


def _recorded_copy(content: bytes, pastebin: Pastebin, records: PasteRecords) -> Optional[PasteResult]:
    """The copy of ``content`` the records name on ``pastebin``, if it still holds exactly that.

    Only the recorded id is used, and only if it is one of this pastebin's ids;
    the URL is made from it (``url_for``), never read from the record file.
    """
    started = time.perf_counter()
    content_md5 = md5_hex(content)
    known = records.find(pastebin.target_key, content_md5)
    if known is None:
        return None
    stored: Optional[bytes] = None
    if pastebin.is_valid_id(known.paste_id):
        with contextlib.suppress(PasteMissingError):  # expired or deleted: pasted again below
            stored = pastebin.fetch(known.paste_id)
    if stored != content:  # expired, deleted, not what was recorded, or not an id at all
        records.forget(pastebin.target_key, content_md5)
        return None
    return PasteResult(
        url=pastebin.url_for(known.paste_id),
        paste_id=known.paste_id,
        md5=content_md5,
        added=b"",
        found=True,
        searches=0,
        candidates=0,
        seconds=time.perf_counter() - started,
    )


def paste_content(
    content: bytes,
    pastebin: Pastebin,
    *,
    source: Union[str, Path] = "<stdin>",
    vanity: Optional[str] = None,
    self_token: Optional[Union[str, bytes]] = None,
    search: Optional[SearchOptions] = None,
    alphabet: Union[str, Alphabet] = DEFAULT_ALPHABET,
    max_expected_seconds: Optional[float] = DEFAULT_MAX_EXPECTED_SECONDS,
    on_event: Optional[EventCallback] = None,
    records: Optional[PasteRecords] = None,
) -> PasteResult:
    """Paste ``content`` (its ``self_token``s replaced by its own URL) with an id starting ``vanity``.

    Raises ``PasteInputError`` before sending anything when the input or the
    options cannot work on ``pastebin``, and ``TooMuchWorkError`` when the
    search would take longer than ``max_expected_seconds``. With ``records``,
    a random-id pastebin is asked first for the copy recorded there, and a new
    paste is recorded.
    """
    vanity = (vanity or "").lower()
    token = token_bytes(self_token) if self_token is not None else None
    _check(content, pastebin, vanity, token)
    story = _one_page_story(content, Path(source), token, vanity)
    if token and on_event is not None and not story.pages[PAGE_NAME].links:
        shown = token.decode("utf-8", errors="backslashreplace")
        message = f"the input holds no {shown}; it is pasted as it is"
        on_event(PublishEvent("notice", message=message))
    remembered = records if records is not None and not pastebin.predictable_ids else None
    if remembered is not None:
        found = _recorded_copy(content, pastebin, remembered)
        if found is not None:
            return found
    manifest = Manifest(None)  # one paste: nothing to resume, the pastebin itself is the record
    publisher = Publisher(
        story,
        pastebin,
        manifest,
        search,
        on_event,
        alphabet=alphabet,
        max_expected_seconds=max_expected_seconds,
    )
    result = publisher.run()
    record = manifest.pages(pastebin.target_key)[PAGE_NAME]
    url = pastebin.url_for(record.id)
    if remembered is not None and not result.found:
        try:
            remembered.add(pastebin.target_key, md5_hex(content), record.id, url)
        except ManifestError as exc:  # the paste is done: say so, and still give its URL
            if on_event is not None:
                message = f"{exc}; pasting this input again will make a new copy"
                on_event(PublishEvent("notice", message=message))
    return PasteResult(
        url=url,
        paste_id=record.id,
        md5=record.md5 or "",
        added=bytes.fromhex(record.suffix_hex),
        found=bool(result.found),
        searches=result.searches,
        candidates=result.candidates,
        seconds=result.seconds,
    )
