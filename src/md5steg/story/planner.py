"""Decide how a story gets published: paste order, which pages need an id in advance, every URL.

Pages must be pasted after the pages they link to, because a link is the
target's URL. A DAG is pasted in reverse topological order (``graphlib``). On a
content-addressed pastebin (md5bin) a cycle is broken by giving a few pages
(a feedback vertex set) their ids in advance: everything else is pasted first
with links to those ids, then each of those pages gets a whitespace suffix that
makes its MD5 start with its id (``md5steg.find``). Vanity prefixes use the
same mechanism. On a pastebin with random ids a cycle is an error.

Feedback vertex set: exact (smallest) for every strongly connected component
of at most ``EXACT_COMPONENT_LIMIT`` pages, by trying subsets in increasing
size; beyond that a greedy heuristic removes the page with the largest
in-degree x out-degree inside its component (self-linked pages first) until
each remaining component is small enough to solve exactly, then drops picks
that turn out to be unnecessary.

Pre-assigned ids are the vanity prefix (if any) padded with hex from a SHA-256
of the page's name, bytes and an attempt counter: as good as random for
avoiding collisions, yet the same on every run, so ``md5steg plan`` can show
the URLs ``md5steg publish`` will use. An id already taken on the server is
skipped by bumping the counter.
"""

from __future__ import annotations

import graphlib
import hashlib
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Callable, Optional

from .errors import CycleError, StoryError
from .loader import Story, check_for_target

MAX_ID_ATTEMPTS = 10_000
"""Ids tried for one pre-assigned page before giving up (its prefix leaves too few free)."""

EXACT_COMPONENT_LIMIT = 12
MAX_SUFFIX_ALLOWANCE = 64
"""Bytes a search suffix may add (a 6-hex search with ws5 needs about a dozen)."""

Graph = Mapping[str, Iterable[str]]


# --- graph algorithms --------------------------------------------------------------------------


def strongly_connected_components(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components come out in reverse topological order."""
    index_of: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index_of:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index_of[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in graph:
                    continue
                if successor not in index_of:
                    index_of[successor] = lowlink[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index_of[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _subgraph(graph: Graph, nodes: Iterable[str]) -> dict[str, set[str]]:
    keep = set(nodes)
    return {node: {target for target in graph[node] if target in keep} for node in keep}


def is_acyclic(graph: Graph) -> bool:
    """True when following links can never lead back to where it started."""
    try:
        graphlib.TopologicalSorter(
            {node: set(targets) for node, targets in graph.items()}
        ).prepare()
    except graphlib.CycleError:
        return False
    return True


def find_cycle(graph: Graph, prefer: Optional[str] = None) -> Optional[list[str]]:
    """One cycle as a closed walk (``['start', 'cave', 'start']``), or None for a DAG.

    A cycle through ``prefer`` (the start page) is shown when there is one.
    """
    if prefer is not None and prefer in graph.get(prefer, ()):
        return [prefer, prefer]
    components = sorted(
        strongly_connected_components(graph), key=lambda component: prefer not in component
    )
    for component in components:
        if len(component) < 2:
            if component[0] in graph[component[0]]:
                return [component[0], component[0]]
            continue
        members = set(component)
        start = prefer if prefer in members else component[0]
        # Breadth-first search from start back to start inside the component: a shortest cycle through it.
        parents: dict[str, str] = {}
        frontier = [start]
        while frontier:
            next_frontier = []
            for node in frontier:
                for target in sorted(graph[node]):
                    if target == start:
                        if node == start:
                            return [start, start]
                        path = [node]
                        while path[-1] != start:
                            path.append(parents[path[-1]])
                        return [start, *reversed(path[:-1]), start]
                    if target in members and target not in parents and target != start:
                        parents[target] = node
                        next_frontier.append(target)
            frontier = next_frontier
    return None


def _exact_feedback_set(graph: Graph, component: list[str]) -> set[str]:
    sub = _subgraph(graph, component)
    for size in range(1, len(component) + 1):
        for removed in itertools.combinations(component, size):
            gone = set(removed)
            if is_acyclic(
                {node: targets - gone for node, targets in sub.items() if node not in gone}
            ):
                return gone
    return set(component)  # unreachable: removing every node leaves an empty graph


def feedback_vertex_set(graph: Graph, exact_limit: int = EXACT_COMPONENT_LIMIT) -> set[str]:
    """A small set of pages whose removal leaves no cycle (smallest for small components)."""
    chosen: set[str] = set()
    remaining = _subgraph(graph, graph)
    while True:
        cyclic = [
            component
            for component in strongly_connected_components(remaining)
            if len(component) > 1 or component[0] in remaining[component[0]]
        ]
        if not cyclic:
            break
        for component in cyclic:
            if len(component) <= exact_limit:
                picks = _exact_feedback_set(remaining, component)
            else:
                members = set(component)
                in_degree = {node: 0 for node in component}
                for node in component:
                    for target in remaining[node] & members:
                        in_degree[target] += 1

                picks = {max(component, key=lambda node: _greedy_score(node, remaining, members, in_degree))}
            chosen |= picks
            for node in picks:
                remaining.pop(node)
            for targets in remaining.values():
                targets -= picks
    # Greedy picks can be redundant once later picks are made: put back any that is not needed.
    for node in sorted(chosen):
        trial = chosen - {node}
        if is_acyclic({n: set(t) - trial for n, t in graph.items() if n not in trial}):
            chosen = trial
    return chosen


def topological_paste_order(graph: Graph, preassigned: set[str]) -> list[str]:
    """Pages without a pre-assigned id, each after every page it links to; then the pre-assigned ones."""
    dependencies = {
        node: {target for target in targets if target not in preassigned and target != node}
        for node, targets in graph.items()
        if node not in preassigned
    }
    try:
        sorter = graphlib.TopologicalSorter(dependencies)
        sorter.prepare()
    except graphlib.CycleError as exc:  # the feedback set guarantees this cannot happen
        raise StoryError(
            f"internal error: cycle {exc.args[1]} left after removing the feedback set"
        ) from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order + sorted(preassigned)


# --- ids ---------------------------------------------------------------------------------------


def md5_hex(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


def candidate_id(name: str, source: bytes, vanity: str, id_length: int, attempt: int) -> str:
    """The ``attempt``-th id to try for a pre-assigned page: vanity prefix + pseudo-random hex."""
    padding = hashlib.sha256(f"{name}\0{attempt}\0".encode() + source).hexdigest()
    return (vanity + padding)[:id_length]


# --- the plan ----------------------------------------------------------------------------------


@dataclass
class PlannedPage:
    """One page of the plan: its place, whether it needs a search, and what is known of its URL."""

    name: str
    searched: bool = False
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
    feedback_set: set[str] = field(default_factory=set)
    id_length: Optional[int] = None
    predictable: bool = True

    @property
    def searches(self) -> list[PlannedPage]:
        """Pages that will need an MD5 search in this run (not the up-to-date ones)."""
        return [page for page in self.pages if page.searched and not page.up_to_date]

    @property
    def expected_candidates_per_search(self) -> int:
        return int(16 ** (self.id_length or 0))

    @property
    def expected_candidates(self) -> int:
        return len(self.searches) * self.expected_candidates_per_search

    @property
    def start_url(self) -> Optional[str]:
        return next(page.url for page in self.pages if page.name == self.story.start)

    def page(self, name: str) -> PlannedPage:
        return next(page for page in self.pages if page.name == name)


ManifestPages = Mapping[str, Mapping[str, object]]


def plan_story(
    story: Story,
    *,
    predictable: bool,
    id_length: Optional[int],
    max_size: Optional[int],
    url_for: Callable[[str], str],
    previous: Optional[ManifestPages] = None,
    is_taken: Optional[Callable[[str], bool]] = None,
    burned: Iterable[str] = (),
) -> Plan:
    """Work out order, pre-assigned ids, URLs and what is already published (from ``previous``).

    ``previous`` is the manifest's page records for this target; ``is_taken``
    asks the server about a candidate id (None: assume free, as ``plan`` does);
    ``burned`` are ids that must not be used (found taken while publishing).
    """
    check_for_target(story, id_length if predictable else None, max_size)
    graph = story.graph
    previous = previous or {}
    if not predictable:
        cycle = find_cycle(graph, story.start)
        if cycle is not None:
            raise CycleError(
                f"the story has a cycle ({' -> '.join(cycle)}); this pastebin assigns random ids, "
                f"so a page cannot link to one not yet pasted; publish to md5bin, or break the cycle"
            )
        order = topological_paste_order(graph, set())
        pages = []
        for name in order:
            record = previous.get(name, {})
            pages.append(
                PlannedPage(name=name, paste_id=_str(record.get("id")), url=_str(record.get("url")))
            )
        _mark_up_to_date_random(story, pages, previous)
        return Plan(story=story, pages=pages, predictable=False)

    assert id_length is not None
    vanity = dict(story.vanity)
    without_vanity = {node: set(t) - set(vanity) for node, t in graph.items() if node not in vanity}
    feedback = feedback_vertex_set(without_vanity)
    preassigned_names = set(vanity) | feedback
    order = topological_paste_order(graph, preassigned_names)
    burned_ids = set(burned)

    ids: dict[str, str] = {}
    reused_pasted: set[str] = set()

    def valid_reuse(name: str, record: Mapping[str, object]) -> bool:
        paste_id = _str(record.get("id"))
        return (
            paste_id is not None
            and len(paste_id) == id_length
            and paste_id.startswith(vanity.get(name, ""))
            and paste_id not in burned_ids
            and record.get("source_md5") == story.pages[name].source_md5
            and bool(record.get("preassigned"))
        )

    def fresh_id(name: str) -> str:
        page = story.pages[name]
        prefix = vanity.get(name, "")
        taken_here = set(ids.values()) | burned_ids
        # Free hex digits after the vanity prefix bound the ids there are to try.
        attempts = min(MAX_ID_ATTEMPTS, 4 * 16 ** (id_length - len(prefix)))
        for attempt in range(attempts):
            paste_id = candidate_id(name, page.source, prefix, id_length, attempt)
            if paste_id in taken_here:
                continue
            if is_taken is not None and is_taken(paste_id):
                continue
            return paste_id
        raise StoryError(
            f"no free {id_length}-hex id starting with {prefix!r} for page {name!r}: pastes never "
            f"change, so each version of a page needs an id of its own; shorten its prefix in "
            f"story.toml (or give the pages distinct prefixes)"
        )

    for name in sorted(preassigned_names):
        record = previous.get(name, {})
        if valid_reuse(name, record):
            ids[name] = _str(record["id"]) or ""
            if record.get("md5"):
                reused_pasted.add(name)
    for name in sorted(preassigned_names - set(ids)):
        ids[name] = fresh_id(name)

    # A page whose id is reused from an earlier paste must render exactly as then (the id holds
    # those bytes); if it does not, it moves to a fresh id, which can change other pages: repeat.
    while True:
        planned = _resolve(story, order, ids, url_for, previous, id_length)
        moved = [
            name
            for name in sorted(reused_pasted)
            if previous[name].get("rendered_md5") != md5_hex(planned[name].rendered or b"")
        ]
        if not moved:
            break
        for name in moved:
            reused_pasted.discard(name)
            burned_ids.add(ids[name])
            ids[name] = fresh_id(name)

    for name in preassigned_names:
        page = planned[name]
        page.searched = True
        page.reason = "vanity " + vanity[name] if name in vanity else "cycle"
        page.up_to_date = name in reused_pasted
    if max_size is not None:
        for page in planned.values():
            size = len(page.rendered or b"") + (MAX_SUFFIX_ALLOWANCE if page.searched else 0)
            if size > max_size:
                raise StoryError(
                    f"{story.pages[page.name].path}: page {page.name!r} is {size} bytes with its links "
                    f"replaced by URLs; this pastebin accepts at most {max_size} bytes; split the page"
                )
    return Plan(
        story=story,
        pages=[planned[name] for name in order],
        preassigned=ids,
        feedback_set=feedback,
        id_length=id_length,
        predictable=True,
    )


def _resolve(
    story: Story,
    order: list[str],
    ids: Mapping[str, str],
    url_for: Callable[[str], str],
    previous: ManifestPages,
    id_length: int,
) -> dict[str, PlannedPage]:
    """Every page's rendered bytes and id, given the pre-assigned ids (no search needed)."""
    urls = {name: url_for(paste_id) for name, paste_id in ids.items()}
    planned: dict[str, PlannedPage] = {}
    for name in order:
        page = story.pages[name]
        rendered = page.render(urls)
        if name in ids:
            planned[name] = PlannedPage(
                name=name, paste_id=ids[name], url=urls[name], rendered=rendered
            )
            continue
        record = previous.get(name, {})
        digest = md5_hex(rendered)
        if record.get("md5") and record.get("rendered_md5") == digest and record.get("id"):
            paste_id = str(record["id"])  # already pasted, perhaps moved after a 409
            up_to_date = True
        else:
            paste_id = digest[:id_length]
            up_to_date = False
        urls[name] = url_for(paste_id)
        planned[name] = PlannedPage(
            name=name, paste_id=paste_id, url=urls[name], rendered=rendered, up_to_date=up_to_date
        )
    return planned


def _mark_up_to_date_random(
    story: Story, pages: list[PlannedPage], previous: ManifestPages
) -> None:
    """For random-id pastebins: a page is up to date if it rendered the same over up-to-date links."""
    urls: dict[str, str] = {}
    for planned in pages:
        page = story.pages[planned.name]
        record = previous.get(planned.name, {})
        url = _str(record.get("url"))
        if url and record.get("md5") and all(target in urls for target in page.targets):
            rendered = page.render(urls)
            if record.get("rendered_md5") == md5_hex(rendered):
                planned.rendered, planned.url, planned.up_to_date = rendered, url, True
                urls[planned.name] = url
                continue
        planned.up_to_date, planned.url, planned.paste_id, planned.rendered = (
            False,
            None,
            None,
            None,
        )


def _str(value: object) -> Optional[str]:
    return value if isinstance(value, str) else None


def _greedy_score(
    node: str, remaining: dict[str, set[str]], members: set[str], in_degree: dict[str, int]
) -> tuple[int, int, str]:
    """Greedy feedback-vertex choice: self-loops first, then most cycles through (in x out degree)."""
    self_linked = int(node in remaining[node])
    out_degree = len(remaining[node] & members)
    return (self_linked, in_degree[node] * out_degree, node)
