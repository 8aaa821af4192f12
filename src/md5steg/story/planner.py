"""Decide how a story gets published: paste order, which pages need an id in advance, every URL.

Pages must be pasted after the pages they link to, because a link is the
target's URL (order and cycles: ``graph.py``). On a content-addressed pastebin
(md5bin) a cycle is broken by giving a few pages (a feedback vertex set) their
ids in advance (``ids.py``): everything else is pasted first with links to
those ids, then each of those pages gets a whitespace suffix that makes its
MD5 start with its id (``md5steg.find``). Vanity prefixes use the same
mechanism. On a pastebin with random ids a cycle is an error.

Whether a candidate id can be used is asked through an ``IdCheck``: the
publisher asks the pastebin (what does the id hold?), ``md5steg plan`` asks
the manifest and assumes every other id is free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Optional, Union

from ..addresses import content_id, md5_hex
from ..alphabets import Alphabet
from ..pastebins.base import Pastebin
from ..pastebins.errors import PasteMissingError, PasteRemovedError
from .errors import CycleError, StoryError
from .events import DEFAULT_ALPHABET
from .graph import feedback_vertex_set, find_cycle, topological_paste_order
from .ids import candidate_id, holds_page, id_attempts
from .loader import Story, check_for_target
from .manifest import PageRecord

MAX_SUFFIX_ALLOWANCE = 64
"""Bytes a search suffix may add (a 6-hex search with ws5 needs about a dozen)."""


class IdState(Enum):
    """What a candidate id holds, as far as one page is concerned."""

    FREE = "free"
    DONE = "done"
    """It holds exactly the bytes this page would get: already published."""
    TAKEN = "taken"


IdCheck = Callable[[str, str, bytes], IdState]
"""``check(page name, candidate id, the page's rendered bytes)``: what the id holds."""


@dataclass
class PlannedPage:
    """One page of the plan: its place, whether it needs a search, and what is known of its URL."""

    name: str
    needs_search: bool = False
    reason: str = ""
    paste_id: Optional[str] = None
    url: Optional[str] = None
    rendered: Optional[bytes] = None
    up_to_date: bool = False


@dataclass
class Plan:
    """Everything ``publish`` will do, computed without pasting anything."""

    story: Story
    pages: list[PlannedPage]
    preassigned: dict[str, str] = field(default_factory=dict)
    id_length: Optional[int] = None
    predictable: bool = True

    @property
    def searches(self) -> list[PlannedPage]:
        """Pages that will need an MD5 search in this run (not the up-to-date ones)."""
        return [page for page in self.pages if page.needs_search and not page.up_to_date]

    @property
    def expected_candidates_per_search(self) -> int:
        return int(16 ** (self.id_length or 0))

    @property
    def expected_candidates(self) -> int:
        return len(self.searches) * self.expected_candidates_per_search

    @property
    def start_url(self) -> Optional[str]:
        return self.page(self.story.start).url

    def page(self, name: str) -> PlannedPage:
        return next(page for page in self.pages if page.name == name)


def manifest_check(previous: Mapping[str, PageRecord]) -> IdCheck:
    """An ``IdCheck`` that knows only what the manifest recorded (``md5steg plan``: offline)."""
    holders = {record.id: (name, record) for name, record in previous.items() if record.pasted}

    def check(name: str, paste_id: str, rendered: bytes) -> IdState:
        holder = holders.get(paste_id)
        if holder is None:
            return IdState.FREE
        holder_name, record = holder
        same = holder_name == name and record.rendered_md5 == md5_hex(rendered)
        return IdState.DONE if same else IdState.TAKEN

    return check


def plan_story(
    story: Story,
    *,
    predictable: bool,
    id_length: Optional[int],
    max_size: Optional[int],
    url_for: Callable[[str], str],
    previous: Optional[Mapping[str, PageRecord]] = None,
    check_id: Optional[IdCheck] = None,
    burned: Iterable[str] = (),
) -> Plan:
    """Work out order, pre-assigned ids, URLs and what is already published.

    ``previous`` is the manifest's page records for this target; ``check_id``
    says what a candidate id holds (default: what ``previous`` records);
    ``burned`` are ids that must not be used (found taken while publishing).
    """
    check_for_target(story, id_length if predictable else None, max_size)
    previous = previous or {}
    if not predictable:
        return _plan_random(story, previous, url_for)
    assert id_length is not None, "a content-addressed pastebin always has an id length"
    vanity = story.vanity
    graph = story.graph
    without_vanity = {node: set(t) - set(vanity) for node, t in graph.items() if node not in vanity}
    preassigned = set(vanity) | feedback_vertex_set(without_vanity)
    order = topological_paste_order(graph, preassigned)

    def resolve(ids: Mapping[str, str]) -> dict[str, PlannedPage]:
        return _resolve(story, order, ids, url_for, previous, id_length)

    chooser = _IdChooser(story, id_length, check_id or manifest_check(previous), set(burned))
    ids, planned, done = chooser.choose(sorted(preassigned), resolve)
    for name in preassigned:
        page = planned[name]
        page.needs_search = True
        page.reason = "vanity " + vanity[name] if name in vanity else "cycle"
        page.up_to_date = name in done
    _check_sizes(story, planned.values(), max_size)
    return Plan(
        story=story,
        pages=[planned[name] for name in order],
        preassigned=ids,
        id_length=id_length,
        predictable=True,
    )


class _IdChooser:
    """Gives each pre-assigned page the first candidate id that is free or already holds it."""

    def __init__(self, story: Story, id_length: int, check: IdCheck, burned: set[str]) -> None:
        self.story = story
        self.id_length = id_length
        self.check = check
        self.burned = burned
        self.attempt: dict[str, int] = {}
        self.ids: dict[str, str] = {}
        self._verdicts: dict[tuple[str, str, str], IdState] = {}

    def _next(self, name: str) -> str:
        page = self.story.pages[name]
        prefix = self.story.vanity.get(name, "")
        in_use = set(self.ids.values()) | self.burned
        limit = id_attempts(self.id_length, prefix)
        while self.attempt.get(name, -1) + 1 < limit:
            attempt = self.attempt[name] = self.attempt.get(name, -1) + 1
            paste_id = candidate_id(name, page.source, prefix, self.id_length, attempt)
            if paste_id not in in_use:
                return paste_id
        raise StoryError(
            f"no free {self.id_length}-hex id starting with {prefix!r} for page {name!r}: pastes "
            f"never change, so each version of a page needs an id of its own; shorten its prefix "
            f"(story.toml's [prefix], or paste's --vanity), or give the pages distinct prefixes"
        )

    def _state(self, name: str, paste_id: str, rendered: bytes) -> IdState:
        key = (name, paste_id, md5_hex(rendered))
        if key not in self._verdicts:
            self._verdicts[key] = self.check(name, paste_id, rendered)
        return self._verdicts[key]

    def choose(
        self,
        names: list[str],
        resolve: Callable[[Mapping[str, str]], dict[str, PlannedPage]],
    ) -> tuple[dict[str, str], dict[str, PlannedPage], set[str]]:
        """Ids, the pages rendered with them, and the names whose id already holds them.

        A page's bytes depend on the ids of the pages it links to, so moving
        one page off a taken id can change others: repeat until every id is
        free or done. Each round burns at least one id, so this ends.
        """
        for name in names:
            self.ids[name] = self._next(name)
        while True:
            planned = resolve(self.ids)
            states = {
                name: self._state(name, self.ids[name], planned[name].rendered or b"")
                for name in names
            }
            taken = [name for name in names if states[name] is IdState.TAKEN]
            if not taken:
                done = {name for name in names if states[name] is IdState.DONE}
                return dict(self.ids), planned, done
            for name in taken:
                self.burned.add(self.ids[name])
                self.ids[name] = self._next(name)


def _resolve(
    story: Story,
    order: list[str],
    ids: Mapping[str, str],
    url_for: Callable[[str], str],
    previous: Mapping[str, PageRecord],
    id_length: int,
) -> dict[str, PlannedPage]:
    """Every page's rendered bytes and id, given the pre-assigned ids (no search needed)."""
    urls = {name: url_for(paste_id) for name, paste_id in ids.items()}
    planned: dict[str, PlannedPage] = {}
    for name in order:
        rendered = story.pages[name].render(urls)
        if name in ids:
            planned[name] = PlannedPage(name, paste_id=ids[name], url=urls[name], rendered=rendered)
            continue
        record = previous.get(name)
        up_to_date = bool(record and record.pasted and record.rendered_md5 == md5_hex(rendered))
        # A page moved off a taken id (md5bin 409) keeps the id it was moved to.
        paste_id = record.id if record and up_to_date else content_id(rendered, id_length)
        urls[name] = url_for(paste_id)
        planned[name] = PlannedPage(
            name, paste_id=paste_id, url=urls[name], rendered=rendered, up_to_date=up_to_date
        )
    return planned


def _check_sizes(story: Story, pages: Iterable[PlannedPage], max_size: Optional[int]) -> None:
    if max_size is None:
        return
    for page in pages:
        size = len(page.rendered or b"") + (MAX_SUFFIX_ALLOWANCE if page.needs_search else 0)
        if size > max_size:
            raise StoryError(
                f"{story.pages[page.name].path}: page {page.name!r} is {size} bytes with its links "
                f"replaced by URLs; this pastebin accepts at most {max_size} bytes; split the page"
            )


def _plan_random(
    story: Story, previous: Mapping[str, PageRecord], url_for: Callable[[str], str]
) -> Plan:
    """Random ids (pinnwand): DAG only; a page is up to date if it renders as recorded.

    URLs come from ``url_for``, never from the record (the manifest may be someone else's).
    """
    cycle = find_cycle(story.graph, story.start)
    if cycle is not None:
        raise CycleError(
            f"the story has a cycle ({' -> '.join(cycle)}); this pastebin assigns random ids, "
            f"so a page cannot link to one not yet pasted; publish to md5bin, or break the cycle"
        )
    pages = []
    urls: dict[str, str] = {}
    for name in topological_paste_order(story.graph, set()):
        page = story.pages[name]
        record = previous.get(name)
        planned = PlannedPage(name)
        if record and record.pasted and all(target in urls for target in page.targets):
            rendered = page.render(urls)
            if record.rendered_md5 == md5_hex(rendered):
                urls[name] = url_for(record.id)
                planned = PlannedPage(
                    name, paste_id=record.id, url=urls[name], rendered=rendered, up_to_date=True
                )
        pages.append(planned)
    return Plan(story=story, pages=pages, predictable=False)


def server_check(pastebin: Pastebin, alphabet: Union[str, Alphabet] = DEFAULT_ALPHABET) -> IdCheck:
    """An ``IdCheck`` that asks the pastebin what a candidate id holds."""

    def check(name: str, paste_id: str, rendered: bytes) -> IdState:
        try:
            stored = pastebin.fetch(paste_id)
        except PasteRemovedError:  # retired for good: no content may take it again
            return IdState.TAKEN
        except PasteMissingError:
            return IdState.FREE
        return IdState.DONE if holds_page(stored, rendered, paste_id, alphabet) else IdState.TAKEN

    return check


def make_plan(
    story: Story,
    pastebin: Pastebin,
    previous: Optional[dict[str, PageRecord]] = None,
    *,
    online: bool = False,
    burned: frozenset[str] = frozenset(),
    alphabet: Union[str, Alphabet] = DEFAULT_ALPHABET,
) -> Plan:
    """The plan for ``story`` on ``pastebin``; ``online`` lets it ask the server what ids hold.

    Records in ``previous`` whose id is not one of this pastebin's are left out.
    """
    predictable = pastebin.predictable_ids
    previous = {
        name: record
        for name, record in (previous or {}).items()
        if pastebin.is_valid_id(record.id)
    }
    return plan_story(
        story,
        predictable=predictable,
        id_length=pastebin.id_length if predictable else None,
        max_size=pastebin.max_size,
        url_for=pastebin.url_for,
        previous=previous,
        check_id=server_check(pastebin, alphabet) if (predictable and online) else None,
        burned=burned,
    )
