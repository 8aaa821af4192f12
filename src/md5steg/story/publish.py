"""Publish a story: paste every page in plan order, search suffixes for pre-assigned ids, verify.

This layer decides and records; adapters talk to pastebins; the CLI reports.
Progress goes through the ``on_event`` callback, never to the terminal.

Guarantees:

- The manifest is rewritten (atomically) after every paste, so an interrupted
  run continues where it stopped; a page is pasted again only when the bytes
  it would get differ from the ones recorded (it, or a page it links to,
  changed). With nothing changed, nothing is pasted.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

from ..pastebins.base import (
    Pastebin,
    PastebinError,
    PasteConflictError,
    PasteMissingError,
    PasteReceipt,
)
from ..search import Match, SearchOptions, find
from .errors import PublishError
from .loader import Story
from .manifest import Manifest, default_manifest_path
from .planner import Plan, candidate_id, md5_hex, plan_story

MAX_REPLANS = 5

MAX_MOVE_ATTEMPTS = 20
"""Fresh ids tried for a page whose natural md5bin id holds other content."""


@dataclass(frozen=True)
class PublishEvent:
    """Something the user may want to see: ``notice``, ``search`` (starting) or ``pasted``."""

    kind: str
    page: str = ""
    url: str = ""
    paste_id: str = ""
    message: str = ""
    searched: bool = False
    seconds: float = 0.0


EventCallback = Callable[[PublishEvent], None]


@dataclass
class PublishResult:
    """Where every page is now, and what this run did."""

    start: str
    start_url: str
    urls: dict[str, str]
    pasted: list[str] = field(default_factory=list)
    searches: int = 0
    candidates: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class SearchSettings:
    """How ``md5steg.find`` runs for pre-assigned ids (the CLI's search options) and its alphabet."""

    search: SearchOptions = field(default_factory=SearchOptions)
    alphabet: str = "ws2"
    """Space and tab only: invisible in every viewer (ws5's VT and FF show as boxes in browsers)."""


class _Replan(Exception):
    def __init__(self, paste_id: str) -> None:
        self.paste_id = paste_id


def make_plan(
    story: Story,
    pastebin: Pastebin,
    previous: Optional[dict[str, Any]] = None,
    *,
    online: bool = False,
    burned: frozenset[str] = frozenset(),
) -> Plan:
    """The plan for ``story`` on ``pastebin``; ``online`` lets it ask the server which ids are taken."""
    predictable = pastebin.predictable_ids
    return plan_story(
        story,
        predictable=predictable,
        id_length=pastebin.id_length if predictable else None,
        max_size=pastebin.max_size,
        url_for=pastebin.url_for,
        previous=previous,
        is_taken=pastebin.is_taken if (predictable and online) else None,
        burned=burned,
    )


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


class Publisher:
    """Runs one publish of ``story`` to ``pastebin``, recording progress in ``manifest``."""

    def __init__(
        self,
        story: Story,
        pastebin: Pastebin,
        manifest: Manifest,
        settings: SearchSettings = SearchSettings(),
        on_event: Optional[EventCallback] = None,
    ) -> None:
        self.story = story
        self.pastebin = pastebin
        self.manifest = manifest
        self.settings = settings
        self._emit = on_event or (lambda event: None)
        self.key = pastebin.target_key
        self.target = manifest.target(self.key, pastebin.description)
        self.records: dict[str, dict[str, Any]] = self.target["pages"]
        self.result = PublishResult(start=story.start, start_url="", urls={})

    def run(self) -> PublishResult:
        started = time.perf_counter()
        for warning in self.story.warnings:
            self._emit(PublishEvent("notice", message=warning))
        self._forget_vanished_pastes()
        burned: set[str] = set()
        for _ in range(MAX_REPLANS + 1):
            plan = make_plan(
                self.story, self.pastebin, self.records, online=True, burned=frozenset(burned)
            )
            try:
                if self.pastebin.predictable_ids:
                    self._publish_predictable(plan)
                else:
                    self._publish_random(plan)
                break
            except _Replan as replan:
                burned.add(replan.paste_id)
                self._emit(
                    PublishEvent(
                        "notice",
                        message=f"id {replan.paste_id} was taken meanwhile; planning again",
                    )
                )
        else:
            raise PublishError(
                f"gave up after {MAX_REPLANS} re-plans: pre-assigned ids kept being taken"
            )
        self.result.start_url = self.result.urls[self.story.start]
        self.target["start"] = self.story.start
        self.target["start_url"] = self.result.start_url
        self.manifest.save()
        self.result.seconds = time.perf_counter() - started
        return self.result

    # -- helpers ---------------------------------------------------------------------------------

    def _forget_vanished_pastes(self) -> None:
        """Mark pages whose recorded paste is gone (database reset, expiry) as not yet pasted."""
        for name, record in self.records.items():
            paste_id = record.get("id")
            if not record.get("md5") or not paste_id:
                continue
            try:
                self.pastebin.fetch(str(paste_id))
            except PasteMissingError:
                record.pop("md5")
                self._emit(
                    PublishEvent(
                        "notice", page=name, message=f"paste {paste_id} is gone; pasting {name!r} again"
                    )
                )

    def _up_to_date(
        self, name: str, rendered_md5: str, paste_id: Optional[str] = None
    ) -> Optional[str]:
        record = self.records.get(name, {})
        if (
            record.get("md5")
            and record.get("rendered_md5") == rendered_md5
            and record.get("url")
            and (paste_id is None or record.get("id") == paste_id)
        ):
            return str(record["url"])
        return None

    def _search(self, name: str, rendered: bytes, paste_id: str) -> Match:
        self._emit(PublishEvent("search", page=name, paste_id=paste_id))
        settings = self.settings
        match = find(
            rendered,
            prefix=paste_id,
            alphabet=settings.alphabet,
            **settings.search.find_kwargs(),
        )
        self.result.searches += 1
        self.result.candidates += match.candidates
        return match

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
        self,
        name: str,
        receipt: PasteReceipt,
        content: bytes,
        rendered: bytes,
        match: Optional[Match],
        preassigned: bool,
        seconds: float,
    ) -> None:
        self.records[name] = {
            "id": receipt.paste_id,
            "url": receipt.url,
            "md5": md5_hex(content),
            "source_md5": self.story.pages[name].source_md5,
            "rendered_md5": md5_hex(rendered),
            "preassigned": preassigned,
            "suffix_hex": match.suffix.hex() if match is not None else "",
        }
        self.manifest.save()
        if name not in self.result.pasted:
            self.result.pasted.append(name)
        self._emit(
            PublishEvent(
                "pasted",
                page=name,
                url=receipt.url,
                paste_id=receipt.paste_id,
                searched=match is not None,
                seconds=seconds,
            )
        )

    # -- md5bin-like: ids known in advance -------------------------------------------------------

    def _publish_predictable(self, plan: Plan) -> None:
        pastebin = self.pastebin
        for name, paste_id in plan.preassigned.items():
            record = self.records.get(name, {})
            if record.get("id") != paste_id:
                self.records[name] = {
                    "id": paste_id,
                    "url": pastebin.url_for(paste_id),
                    "source_md5": self.story.pages[name].source_md5,
                    "preassigned": True,
                }
        self.manifest.save()
        urls = {name: pastebin.url_for(paste_id) for name, paste_id in plan.preassigned.items()}
        for planned in plan.pages:
            name = planned.name
            rendered = self.story.pages[name].render(urls)
            preassigned_id = plan.preassigned.get(name)
            current = self._up_to_date(name, md5_hex(rendered), preassigned_id)
            if current is not None:
                urls[name] = current
                continue
            started = time.perf_counter()
            if preassigned_id is not None:
                match: Optional[Match] = self._search(name, rendered, preassigned_id)
                assert match is not None
                content = match.apply(rendered)
                try:
                    receipt = self._paste(name, content)
                except PasteConflictError:
                    raise _Replan(preassigned_id) from None
            else:
                match = None
                content = rendered
                try:
                    receipt = self._paste(name, content)
                except PasteConflictError as conflict:
                    receipt, content, match = self._move(name, rendered, conflict.paste_id)
            urls[name] = receipt.url
            self._record(
                name,
                receipt,
                content,
                rendered,
                match,
                preassigned_id is not None,
                time.perf_counter() - started,
            )
        self.result.urls = urls

    def _move(self, name: str, rendered: bytes, taken_id: str) -> tuple[PasteReceipt, bytes, Match]:
        """Other content holds this page's natural id: search a suffix for a free id instead."""
        self._emit(
            PublishEvent(
                "notice",
                page=name,
                message=f"id {taken_id} is taken by other content; moving {name!r}",
            )
        )
        id_length = self.pastebin.id_length or len(taken_id)
        # No is_taken() pre-check: the search is deterministic, so after a crash the page's
        # own earlier copy at an id answers 200 and is reused instead of pasted twice.
        for attempt in range(1, MAX_MOVE_ATTEMPTS + 1):
            paste_id = candidate_id(name, rendered, "", id_length, attempt)
            match = self._search(name, rendered, paste_id)
            content = match.apply(rendered)
            try:
                return self._paste(name, content), content, match
            except PasteConflictError:
                continue
        raise PublishError(
            f"page {name!r}: {MAX_MOVE_ATTEMPTS} fresh ids in a row were taken; is the pastebin full?"
        )

    # -- random ids: DAG only --------------------------------------------------------------------

    def _publish_random(self, plan: Plan) -> None:
        attempts: dict[str, str] = self.target["attempts"]
        urls: dict[str, str] = {}
        for planned in plan.pages:
            name = planned.name
            rendered = self.story.pages[name].render(urls)
            rendered_md5 = md5_hex(rendered)
            current = self._up_to_date(name, rendered_md5)
            if current is not None:
                urls[name] = current
                continue
            if attempts.get(name) == rendered_md5:
                self._emit(
                    PublishEvent(
                        "notice",
                        page=name,
                        message=f"an earlier attempt to paste {name!r} was interrupted; an unlinked copy may exist",
                    )
                )
            attempts[name] = rendered_md5
            self.manifest.save()
            started = time.perf_counter()
            try:
                receipt = self._paste(name, rendered)
            except PasteConflictError as conflict:  # not expected from a random-id pastebin
                raise PublishError(f"page {name!r}: {conflict}") from None
            urls[name] = receipt.url
            attempts.pop(name, None)
            self._record(
                name, receipt, rendered, rendered, None, False, time.perf_counter() - started
            )
        self.result.urls = urls


def publish(
    story: Story,
    pastebin: Pastebin,
    manifest_path: Optional[Union[str, Path]] = None,
    *,
    settings: SearchSettings = SearchSettings(),
    on_event: Optional[EventCallback] = None,
) -> PublishResult:
    """Publish ``story`` to ``pastebin``, continuing from the manifest; returns every page's URL."""
    manifest = Manifest.load(manifest_path or default_manifest_path(story.folder))
    return Publisher(story, pastebin, manifest, settings, on_event).run()
