"""Publish a story: paste every page in plan order, search suffixes for pre-assigned ids, verify.

This layer decides and records; adapters talk to pastebins; the CLI reports.
Progress goes through the ``on_event`` callback, never to the terminal.

Guarantees:

- The manifest is rewritten (atomically) after every paste, so an interrupted
  run continues where it stopped; a page is pasted again only when the bytes
  it would get differ from the ones recorded (it, or a page it links to,
  changed). With nothing changed, nothing is pasted.
- On md5bin the manifest is only a cache: every id is a pure function of the
  story, and an id that already holds exactly the bytes a page would get is
  that page, already published. So the same story published again from a
  fresh copy, or by someone else, pastes nothing new and gets the same URLs.
- Every paste is read back and its MD5 compared with what was sent; a
  pastebin that trims, rewrites line endings or truncates stops the run with
  an error naming the page.
- md5bin 409 (other content holds the id): a page without a pre-assigned id
  moves to a fresh id with a whitespace suffix, and the pages linking to it,
  pasted later, use the new URL. A pre-assigned id found taken is given up
  and the plan is made again (up to ``MAX_REPLANS`` times).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from ..addresses import content_id, md5_hex
from ..alphabets import Alphabet
from ..pastebins.base import Pastebin, PasteReceipt
from ..pastebins.errors import (
    AmbiguousRequestError,
    PastebinError,
    PasteConflictError,
    PasteMissingError,
    PasteRemovedError,
)
from ..resume import resuming_message
from ..search import DEFAULT_MAX_EXPECTED_SECONDS, Match, Progress, SearchOptions, find
from .errors import PublishError
from .events import DEFAULT_ALPHABET, EventCallback, PublishEvent, PublishResult
from .ids import candidate_id, holds_page
from .loader import Story
from .manifest import Manifest, PageRecord, TargetRecord, load_manifest
from .planner import Plan, make_plan

MAX_REPLANS = 5

MAX_MOVE_ATTEMPTS = 20
"""Fresh ids tried for a page whose natural md5bin id holds other content."""

class _Replan(Exception):
    def __init__(self, paste_id: str, removed: bool) -> None:
        self.paste_id = paste_id
        self.removed = removed


def describe_change(sent: bytes, received: bytes) -> str:
    """What a pastebin did to the text, in words."""
    if received == sent.rstrip():
        return "it trimmed trailing whitespace"
    if received.strip() == sent.strip():
        return "it trimmed leading or trailing whitespace"
    if received.replace(b"\r\n", b"\n") == sent.replace(b"\r\n", b"\n"):
        return "it changed the line endings"
    if sent.startswith(received):
        return f"it truncated the text to {len(received)} of {len(sent)} bytes"
    return "it changed the text"


@dataclass
class _Outcome:
    """How one page got where it is: the bytes it holds, and the search that made them (if any)."""

    receipt: PasteReceipt
    content: bytes
    match: Optional[Match] = None
    pasted: bool = True


class Publisher:
    """Runs one publish of ``story`` to ``pastebin``, recording progress in ``manifest``."""

    def __init__(
        self,
        story: Story,
        pastebin: Pastebin,
        manifest: Manifest,
        search: Optional[SearchOptions] = None,
        on_event: Optional[EventCallback] = None,
        alphabet: Union[str, Alphabet] = DEFAULT_ALPHABET,
        max_expected_seconds: Optional[float] = DEFAULT_MAX_EXPECTED_SECONDS,
    ) -> None:
        self.story = story
        self.pastebin = pastebin
        self.manifest = manifest
        self.search = search or SearchOptions()
        self.alphabet = alphabet
        self.max_expected_seconds = max_expected_seconds
        self._emit = on_event or (lambda event: None)
        self.target: TargetRecord = manifest.target(pastebin.target_key, pastebin.description)
        self.records = self.target.pages
        self.result = PublishResult(start=story.start, start_url="", urls={})
        self._served: dict[str, bytes] = {}
        """Page -> the bytes its recorded paste serves (read this run, or pasted by it)."""

    def run(self) -> PublishResult:
        started = time.perf_counter()
        for warning in self.story.warnings:
            self._emit(PublishEvent("notice", message=warning))
        self._check_recorded_pastes()
        burned: set[str] = set()
        for _ in range(MAX_REPLANS + 1):
            plan = make_plan(
                self.story,
                self.pastebin,
                self.records,
                online=True,
                burned=frozenset(burned),
                alphabet=self.alphabet,
            )
            try:
                if self.pastebin.predictable_ids:
                    self._publish_predictable(plan)
                else:
                    self._publish_random(plan)
                break
            except _Replan as replan:
                burned.add(replan.paste_id)
                happened = "was removed from the pastebin" if replan.removed else "was taken meanwhile"
                message = f"id {replan.paste_id} {happened}; planning again"
                self._emit(PublishEvent("notice", message=message))
        else:
            raise PublishError(
                f"gave up after {MAX_REPLANS} re-plans: pre-assigned ids kept being taken "
                f"by other content while publishing; try again later"
            )
        self.result.start_url = self.result.urls[self.story.start]
        self.target.start = self.story.start
        self.target.start_url = self.result.start_url
        self.manifest.save()
        self.result.seconds = time.perf_counter() - started
        return self.result

    # -- helpers ---------------------------------------------------------------------------------

    def _check_recorded_pastes(self) -> None:
        """Believe a manifest record only as far as the pastebin bears it out.

        The manifest sits in the story folder, which may come from someone
        else: a record whose id is not this pastebin's kind of id is dropped,
        and one whose paste is gone (database reset, expiry) or serves bytes
        with another MD5 is marked not yet pasted. What each surviving paste
        serves is kept, so ``_up_to_date`` can check it against the page.
        """
        for name, record in list(self.records.items()):
            if not record.pasted:
                continue
            if not self.pastebin.is_valid_id(record.id):
                del self.records[name]
                message = (
                    f"the manifest records {name!r} at {record.id!r}, which cannot be a "
                    f"{self.pastebin.kind} paste id; pasting {name!r} again"
                )
                self._emit(PublishEvent("notice", page=name, message=message))
                continue
            try:
                served = self.pastebin.fetch(record.id)
            except PasteMissingError as missing:
                record.md5 = None
                gone = "was removed" if isinstance(missing, PasteRemovedError) else "is gone"
                message = f"paste {record.id} {gone}; pasting {name!r} again"
                self._emit(PublishEvent("notice", page=name, message=message))
                continue
            if md5_hex(served) != record.md5:
                record.md5 = None
                message = (
                    f"paste {record.id} does not hold what the manifest records for {name!r}; "
                    f"pasting {name!r} again"
                )
                self._emit(PublishEvent("notice", page=name, message=message))
                continue
            self._served[name] = served

    def _up_to_date(self, name: str, rendered: bytes, paste_id: Optional[str]) -> Optional[str]:
        """The page's URL if it is published with these bytes, as the manifest says and the pastebin shows.

        The URL is made from the id (``url_for``), never taken from the manifest.
        """
        record = self.records.get(name)
        served = self._served.get(name)
        if (
            record is None
            or served is None
            or not record.pasted
            or record.rendered_md5 != md5_hex(rendered)
            or (paste_id is not None and record.id != paste_id)
        ):
            return None
        if served != rendered and not holds_page(served, rendered, record.id, self.alphabet):
            return None
        return self.pastebin.url_for(record.id)

    def _already_there(self, paste_id: str, rendered: bytes, searched: bool) -> Optional[_Outcome]:
        """The page as the pastebin already holds it at ``paste_id`` (pasted before), or None."""
        try:
            stored = self.pastebin.fetch(paste_id)
        except PasteMissingError:
            return None
        except PastebinError as exc:
            raise PublishError(f"cannot read {self.pastebin.url_for(paste_id)}: {exc}") from None
        if stored == rendered if not searched else holds_page(stored, rendered, paste_id, self.alphabet):
            receipt = PasteReceipt(paste_id, self.pastebin.url_for(paste_id))
            return _Outcome(receipt, stored, pasted=False)
        return None

    def _search(self, name: str, rendered: bytes, paste_id: str) -> Match:
        self._emit(PublishEvent("search", page=name, paste_id=paste_id))
        resumed = False

        def announce_resume(progress: Progress) -> None:
            """An interrupted publish continues each page's search: say so once, as find does."""
            nonlocal resumed
            if progress.resumed_candidates and not resumed:
                resumed = True
                message = resuming_message(progress.resumed_candidates, progress.expected_candidates)
                self._emit(PublishEvent("notice", page=name, message=f"{name}: {message}"))

        match = find(
            rendered,
            prefix=paste_id,
            alphabet=self.alphabet,
            max_expected_seconds=self.max_expected_seconds,
            progress=announce_resume,
            **self.search.find_kwargs(),
        )
        self.result.searches += 1
        self.result.candidates += match.candidates
        return match

    def _search_and_paste(self, name: str, rendered: bytes, paste_id: str) -> _Outcome:
        """The page at ``paste_id``: found there already, or searched and pasted.

        Raises ``PasteConflictError`` when other content holds the id.
        """
        found = self._already_there(paste_id, rendered, searched=True)
        if found is not None:
            return found
        match = self._search(name, rendered, paste_id)
        content = match.apply(rendered)
        return _Outcome(self._paste(name, content), content, match)

    def _paste(self, name: str, content: bytes) -> PasteReceipt:
        try:
            receipt = self.pastebin.paste(content)
        except PasteConflictError:
            raise
        except PastebinError as exc:
            raise PublishError(f"page {name!r}: {exc}") from None
        self._verify(name, content, receipt)
        return receipt

    def _verify(self, name: str, sent: bytes, receipt: PasteReceipt) -> None:
        try:
            received = self.pastebin.fetch(receipt.paste_id)
        except PastebinError as exc:
            raise PublishError(
                f"page {name!r}: pasted at {receipt.url}, but reading it back failed: {exc}"
            ) from None
        if md5_hex(received) != md5_hex(sent):
            raise PublishError(
                f"page {name!r}: the pastebin changed the text ({describe_change(sent, received)}; "
                f"sent {len(sent)} bytes with MD5 {md5_hex(sent)}, {receipt.url} serves {len(received)} bytes "
                f"with MD5 {md5_hex(received)}); links and suffixes rely on exact bytes, so use a pastebin "
                f"that keeps text byte for byte"
            )

    def _record(
        self, name: str, outcome: _Outcome, rendered: bytes, preassigned: bool, seconds: float
    ) -> None:
        self._served[name] = outcome.content
        self.records[name] = PageRecord(
            id=outcome.receipt.paste_id,
            url=outcome.receipt.url,
            md5=md5_hex(outcome.content),
            source_md5=self.story.pages[name].source_md5,
            rendered_md5=md5_hex(rendered),
            preassigned=preassigned,
            suffix_hex=outcome.content[len(rendered) :].hex(),
        )
        self.manifest.save()
        if not outcome.pasted:
            self.result.found.append(name)
            return
        if name not in self.result.pasted:
            self.result.pasted.append(name)
        self._emit(
            PublishEvent(
                "pasted",
                page=name,
                url=outcome.receipt.url,
                paste_id=outcome.receipt.paste_id,
                searched=outcome.match is not None,
                seconds=seconds,
            )
        )

    # -- md5bin-like: ids known in advance -------------------------------------------------------

    def _publish_predictable(self, plan: Plan) -> None:
        urls = {name: self.pastebin.url_for(paste_id) for name, paste_id in plan.preassigned.items()}
        for planned in plan.pages:
            name = planned.name
            rendered = self.story.pages[name].render(urls)
            preassigned_id = plan.preassigned.get(name)
            current = self._up_to_date(name, rendered, preassigned_id)
            if current is not None:
                urls[name] = current
                continue
            started = time.perf_counter()
            if preassigned_id is not None:
                outcome = self._publish_preassigned(name, rendered, preassigned_id)
            else:
                outcome = self._publish_natural(name, rendered)
            urls[name] = outcome.receipt.url
            self._record(
                name, outcome, rendered, preassigned_id is not None, time.perf_counter() - started
            )
        self.result.urls = urls

    def _publish_preassigned(self, name: str, rendered: bytes, paste_id: str) -> _Outcome:
        try:
            return self._search_and_paste(name, rendered, paste_id)
        except PasteConflictError as conflict:
            raise _Replan(paste_id, conflict.removed) from None

    def _publish_natural(self, name: str, rendered: bytes) -> _Outcome:
        natural_id = content_id(rendered, self.pastebin.id_length or 32)
        found = self._already_there(natural_id, rendered, searched=False)
        if found is not None:
            return found
        try:
            return _Outcome(self._paste(name, rendered), rendered)
        except PasteConflictError as conflict:
            return self._move(name, rendered, conflict)

    def _move(self, name: str, rendered: bytes, conflict: PasteConflictError) -> _Outcome:
        """Other content holds this page's natural id, or it was retired: search a suffix for a free id."""
        taken_id = conflict.paste_id
        if conflict.removed:
            message = f"id {taken_id} was removed from the pastebin and is not given out again; moving {name!r}"
        else:
            message = f"id {taken_id} is taken by other content; moving {name!r}"
        self._emit(PublishEvent("notice", page=name, message=message))
        id_length = self.pastebin.id_length or len(taken_id)
        # The candidates are a pure function of the page, so a fresh copy of the story (or a
        # run after a crash) finds the page's earlier copy at one of them instead of pasting again.
        for attempt in range(1, MAX_MOVE_ATTEMPTS + 1):
            paste_id = candidate_id(name, rendered, "", id_length, attempt)
            try:
                return self._search_and_paste(name, rendered, paste_id)
            except PasteConflictError:
                continue
        raise PublishError(
            f"page {name!r}: {MAX_MOVE_ATTEMPTS} fresh ids in a row were taken; is the pastebin full?"
        )

    # -- random ids: DAG only --------------------------------------------------------------------

    def _publish_random(self, plan: Plan) -> None:
        attempts = self.target.attempts
        urls: dict[str, str] = {}
        for planned in plan.pages:
            name = planned.name
            rendered = self.story.pages[name].render(urls)
            current = self._up_to_date(name, rendered, None)
            if current is not None:
                urls[name] = current
                continue
            if attempts.get(name) == md5_hex(rendered):
                message = (
                    f"an earlier attempt to paste {name!r} got no clear answer (a server error, "
                    f"a timeout or an interruption); the pastebin may hold an unlinked copy"
                )
                self._emit(PublishEvent("notice", page=name, message=message))
            attempts[name] = md5_hex(rendered)
            self.manifest.save()
            started = time.perf_counter()
            receipt = self._paste_random(name, rendered)
            urls[name] = receipt.url
            attempts.pop(name, None)
            self._record(name, _Outcome(receipt, rendered), rendered, False, time.perf_counter() - started)
        self.result.urls = urls

    def _paste_random(self, name: str, rendered: bytes) -> PasteReceipt:
        """Paste to a random-id pastebin; the attempt stays recorded only if a copy may exist.

        A clear refusal (HTTP 4xx, a bad answer) made nothing, so the attempt
        is forgotten; a server error, a timeout or a cut connection may have
        made a copy, so the next run says so.
        """
        try:
            receipt = self.pastebin.paste(rendered)
        except AmbiguousRequestError as exc:
            raise PublishError(f"page {name!r}: {exc}; the pastebin may have kept a copy") from None
        except PastebinError as exc:
            self.target.attempts.pop(name, None)
            self.manifest.save()
            raise PublishError(f"page {name!r}: {exc}") from None
        self._verify(name, rendered, receipt)
        return receipt


def publish(
    story: Story,
    pastebin: Pastebin,
    manifest_path: Optional[Union[str, Path]] = None,
    *,
    search: Optional[SearchOptions] = None,
    on_event: Optional[EventCallback] = None,
    follow_symlinks: bool = False,
    max_expected_seconds: Optional[float] = DEFAULT_MAX_EXPECTED_SECONDS,
) -> PublishResult:
    """Publish ``story`` to ``pastebin``, continuing from the manifest; returns every page's URL.

    The story folder's own manifest is refused when it is a symbolic link,
    unless ``follow_symlinks``; a ``manifest_path`` given is used as named.
    A page whose search is expected to take longer than ``max_expected_seconds``
    (None: no limit) stops the run with ``TooMuchWorkError`` before it starts,
    as ``find`` does; pages pasted until then stay recorded.
    """
    manifest = load_manifest(story.folder, manifest_path, follow_symlinks=follow_symlinks)
    publisher = Publisher(
        story, pastebin, manifest, search, on_event, max_expected_seconds=max_expected_seconds
    )
    return publisher.run()
