"""Planning: paste order, feedback vertex sets, cycles, and that published links always resolve."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md5steg.pastebins.md5bin import EmbeddedMd5bin, HttpMd5bin
from md5steg.pastebins.pinnwand import Pinnwand
from md5steg.story import CycleError, load_story, make_plan, publish
from md5steg.story.graph import EXACT_COMPONENT_LIMIT, feedback_vertex_set, find_cycle, is_acyclic
from story_helpers import EXAMPLE_STORY, check_published, graph_story, write_story

NAMES = [f"p{index}" for index in range(8)]


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 7) -> dict[str, list[str]]:
    """Small directed graphs, self-links and cycles allowed."""
    count = draw(st.integers(1, max_nodes))
    names = NAMES[:count]
    return {name: sorted(draw(st.sets(st.sampled_from(names), max_size=3))) for name in names}


def _without(graph: dict[str, list[str]], removed: set[str]) -> dict[str, set[str]]:
    return {node: set(targets) - removed for node, targets in graph.items() if node not in removed}


@given(graphs())
def test_feedback_vertex_set_leaves_a_dag_and_is_smallest(graph: dict[str, list[str]]) -> None:
    chosen = feedback_vertex_set(graph)
    assert is_acyclic(_without(graph, chosen))
    smaller = [
        set(subset)
        for size in range(len(chosen))
        for subset in itertools.combinations(sorted(graph), size)
        if is_acyclic(_without(graph, set(subset)))
    ]
    assert not smaller, f"{smaller[0]} also breaks every cycle, and is smaller than {chosen}"


def test_feedback_vertex_set_always_contains_self_linked_pages() -> None:
    assert feedback_vertex_set({"a": ["a"], "b": ["a"]}) == {"a"}


@pytest.mark.parametrize(
    ("graph", "smallest"),
    [
        # 30 pages, each linking to the next three (mod 30): a cycle must lose three pages in a
        # row, since any gap of two is jumped over.
        ({f"n{i}": [f"n{(i + step) % 30}" for step in (1, 2, 3)] for i in range(30)}, 3),
        # 20 pages in a ring, linked both ways: every neighbouring pair is a 2-cycle, so every
        # other page must go (a vertex cover of the ring).
        ({f"n{i}": [f"n{(i + 1) % 20}", f"n{(i - 1) % 20}"] for i in range(20)}, 10),
    ],
    ids=["circulant-30", "two-way-ring-20"],
)
def test_greedy_feedback_vertex_set_is_smallest_on_large_components_of_known_answer(
    graph: dict[str, list[str]], smallest: int
) -> None:
    # Both components are beyond the exact search's limit, so the greedy pass and its clean-up run.
    assert len(graph) > EXACT_COMPONENT_LIMIT
    chosen = feedback_vertex_set(graph)
    assert is_acyclic(_without(graph, chosen))
    assert len(chosen) == smallest


@given(graphs())
def test_find_cycle_returns_a_real_closed_walk_or_none_for_a_dag(
    graph: dict[str, list[str]],
) -> None:
    cycle = find_cycle(graph)
    if cycle is None:
        assert is_acyclic(graph)
    else:
        assert cycle[0] == cycle[-1]
        assert all(b in graph[a] for a, b in zip(cycle, cycle[1:]))


def test_dag_on_md5bin_is_pasted_leaves_first_with_no_search(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "s", {"start": ["a", "b"], "a": ["b"], "b": []}, "start")
    plan = make_plan(load_story(folder), HttpMd5bin("http://127.0.0.1:9", id_length=6))
    assert [page.name for page in plan.pages] == ["b", "a", "start"]
    assert plan.searches == []
    assert all(page.url and page.url.startswith("http://127.0.0.1:9/") for page in plan.pages)


def test_cycle_on_a_random_id_pastebin_names_one_cycle(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "s", {"start": ["cave"], "cave": ["start"]}, "start")
    with pytest.raises(CycleError, match=r"cycle \(start -> cave -> start\)"):
        make_plan(load_story(folder), Pinnwand("http://127.0.0.1:9"))


def test_self_link_on_a_random_id_pastebin_is_a_cycle(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "s", {"start": ["stairs"], "stairs": ["stairs"]}, "start")
    with pytest.raises(CycleError, match=r"stairs -> stairs"):
        make_plan(load_story(folder), Pinnwand("http://127.0.0.1:9"))


def test_example_story_plan_searches_only_the_feedback_set_and_the_vanity_page() -> None:
    story = load_story(EXAMPLE_STORY)
    plan = make_plan(story, HttpMd5bin("http://127.0.0.1:9", id_length=6))
    searched = {page.name for page in plan.searches}
    assert "stairs" in searched and "start" in searched
    assert plan.page("start").paste_id == "c0ffee"
    assert searched == set(plan.preassigned)
    assert is_acyclic(_without({n: sorted(t) for n, t in story.graph.items()}, searched))
    assert plan.expected_candidates == len(searched) * 16**6


def test_vanity_page_id_is_the_prefix_padded_to_the_id_length(tmp_path: Path) -> None:
    write_story(
        tmp_path / "s", {"start": "hello [[end]]\n", "end": "bye\n"}, '[prefix]\nend = "be"\n'
    )
    plan = make_plan(load_story(tmp_path / "s"), HttpMd5bin("http://127.0.0.1:9", id_length=6))
    end_id = plan.page("end").paste_id
    assert end_id is not None and end_id.startswith("be") and len(end_id) == 6


def test_predicted_urls_are_the_published_urls(tmp_path: Path) -> None:
    folder = graph_story(
        tmp_path / "s", {"start": ["cave", "end"], "cave": ["start", "cave"], "end": []}, "start"
    )
    story = load_story(folder)
    with EmbeddedMd5bin(tmp_path / "db.sqlite3", id_length=4) as pastebin:
        predicted = {page.name: page.url for page in make_plan(story, pastebin).pages}
        result = publish(story, pastebin, tmp_path / "manifest.json")
    assert result.urls == predicted


@settings(max_examples=15)
@given(graph=graphs(max_nodes=6))
def test_every_link_of_a_published_random_graph_resolves_to_its_page(
    graph: dict[str, list[str]],
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        folder = graph_story(root / "story", graph, "p0")
        story = load_story(folder)
        with EmbeddedMd5bin(root / "db.sqlite3", id_length=4) as pastebin:
            result = publish(story, pastebin, root / "manifest.json")

            def fetch(url: str) -> bytes:
                return pastebin.fetch(url.rsplit("/", 1)[-1])

            reached = check_published(folder, result.start_url, fetch)
            for name, url in reached.items():
                assert fetch(url).startswith(f"page {name}\n".encode())
                assert result.urls[name] == url
