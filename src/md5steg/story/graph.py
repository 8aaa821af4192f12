"""Graph algorithms on a story's links: strongly connected components, cycles, feedback vertex sets, order.

A story is a directed graph (page -> pages it links to). Pages must be pasted
after the pages they link to, so a DAG is pasted in reverse topological order
(``graphlib``). A cycle is broken by giving a few pages (a feedback vertex set)
their ids in advance.

Feedback vertex set: exact (smallest) for every strongly connected component
of at most ``EXACT_COMPONENT_LIMIT`` pages, by trying subsets in increasing
size; beyond that a greedy heuristic removes the page with the largest
in-degree x out-degree inside its component (self-linked pages first) until
each remaining component is small enough to solve exactly, then drops picks
that turn out to be unnecessary.
"""

from __future__ import annotations

import graphlib
import itertools
from collections.abc import Iterable, Mapping
from typing import Optional

from .errors import StoryError

EXACT_COMPONENT_LIMIT = 12
"""Largest strongly connected component whose feedback vertex set is found exactly."""

Graph = Mapping[str, Iterable[str]]


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


def _greedy_score(
    node: str, remaining: dict[str, set[str]], members: set[str], in_degree: dict[str, int]
) -> tuple[int, int, str]:
    """Greedy feedback-vertex choice: self-loops first, then most cycles through (in x out degree)."""
    self_linked = int(node in remaining[node])
    out_degree = len(remaining[node] & members)
    return (self_linked, in_degree[node] * out_degree, node)
