"""Planner and publisher logic in-process, against the fake pastebins and the embedded md5bin store.

Idempotence (the same story twice pastes nothing), conflicts and re-plans,
moves that run out of ids, pastebins that lose or change text: every raise
path of ``story/publish.py`` is reached here without starting a process.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fake_pastebin import FakeMd5bin, FakeRandomPastebin
from md5steg import find
from md5steg.addresses import content_id, md5_hex
from md5steg.errors import TooMuchWorkError
from md5steg.pastebins.errors import AmbiguousRequestError, PastebinError
from md5steg.pastebins.md5bin import EmbeddedMd5bin
from md5steg.search import SearchOptions
from md5steg.story import PublishError, PublishEvent, load_story, make_plan, publish
from md5steg.story.ids import holds_page
from md5steg.story.manifest import MANIFEST_NAME, load_manifest
from md5steg.story.publish import MAX_MOVE_ATTEMPTS, MAX_REPLANS, describe_change
from story_helpers import check_published, copy_example, graph_story, write_story

LOOPS = {"start": ["cave", "end"], "cave": ["start", "cave"], "end": []}


def _fetcher(pastebin: FakeMd5bin) -> object:
    return lambda url: pastebin.fetch(url.rsplit("/", 1)[-1])


def _search(engine: str) -> SearchOptions:
    return SearchOptions(engine=engine, jobs=1)


def _copy(folder: Path, destination: Path) -> Path:
    """A fresh copy of a story folder: its pages and story.toml, no manifest."""
    destination.mkdir(parents=True)
    for path in folder.iterdir():
        if not path.name.startswith("."):
            shutil.copy(path, destination / path.name)
    return destination


# --- the same story twice ------------------------------------------------------------------------


def test_a_fresh_copy_of_a_story_with_loops_pastes_nothing_and_gets_the_same_urls(
    fake_md5bin: FakeMd5bin, tmp_path: Path, engine: str
) -> None:
    first = write_story(
        tmp_path / "first",
        {"start": "Go [[cave]] or [[end]]\n", "cave": "Back [[start]], down [[cave]]\n", "end": "Bye\n"},
        '[prefix]\nstart = "c0"\n',
    )
    published = publish(load_story(first), fake_md5bin, search=_search(engine))
    posts = len(fake_md5bin.posts)
    second = _copy(first, tmp_path / "second")
    again = publish(load_story(second), fake_md5bin, search=_search(engine))
    assert again.urls == published.urls and again.start_url.startswith("http://fake.test/c0")
    assert again.pasted == [] and sorted(again.found) == ["cave", "end", "start"]
    assert len(fake_md5bin.posts) == posts, "a page was pasted again"
    assert again.searches == 0


def test_the_example_story_published_twice_into_one_store_adds_no_row(
    tmp_path: Path, engine: str
) -> None:
    from md5steg.md5bin.store import Md5binStore

    database = tmp_path / "db.sqlite3"
    urls = []
    for copy in ("alice", "bob"):
        folder = copy_example(tmp_path / copy)
        with EmbeddedMd5bin(database, id_length=4) as pastebin:
            result = publish(load_story(folder), pastebin, search=_search(engine))
        urls.append(result.urls)
        with Md5binStore(database) as store:
            assert store.count() == 15
    assert urls[0] == urls[1]
    assert result.pasted == []


def test_a_page_is_pasted_once_even_when_the_manifest_was_lost_mid_run(
    fake_md5bin: FakeMd5bin, tmp_path: Path, engine: str
) -> None:
    folder = graph_story(tmp_path / "story", LOOPS, "start")
    story = load_story(folder)
    publish(story, fake_md5bin, tmp_path / "one.json", search=_search(engine))
    # The pastebin holds everything; a run with no manifest must recognise every page.
    before = dict(fake_md5bin.pastes)
    result = publish(story, fake_md5bin, tmp_path / "two.json", search=_search(engine))
    assert fake_md5bin.pastes == before and result.pasted == []


def test_holds_page_accepts_only_the_page_plus_a_suffix_of_the_right_width(engine: str) -> None:
    rendered = b"A page [[x]] rendered.\n"
    match = find(rendered, prefix="be", alphabet="ws2", engine=engine, jobs=1)
    stored = match.apply(rendered)
    assert holds_page(stored, rendered, "be", "ws2")
    assert not holds_page(stored, rendered + b"!", "be", "ws2"), "other visible bytes"
    assert not holds_page(stored, rendered, "ef", "ws2"), "the MD5 does not start with the id"
    assert not holds_page(stored + b" \t", rendered, "be", "ws2"), "a longer suffix"
    assert not holds_page(rendered + b"x" * len(match.suffix), rendered, "be", "ws2")
    assert not holds_page(stored, rendered, "be", "hex"), "symbols of another alphabet"


def test_a_preassigned_id_holding_other_content_is_skipped(
    fake_md5bin: FakeMd5bin, tmp_path: Path, engine: str
) -> None:
    folder = graph_story(tmp_path / "story", LOOPS, "start")
    story = load_story(folder)
    planned = make_plan(story, fake_md5bin, online=True).preassigned
    for paste_id in planned.values():
        fake_md5bin.squat(paste_id)
    result = publish(story, fake_md5bin, search=_search(engine))
    moved = make_plan(story, fake_md5bin, online=True).preassigned
    assert not set(moved.values()) & set(planned.values())
    assert {name: result.urls[name] for name in moved} == {
        name: fake_md5bin.url_for(paste_id) for name, paste_id in moved.items()
    }
    check_published(folder, result.start_url, _fetcher(fake_md5bin), 3)  # type: ignore[arg-type]


def test_random_id_pastebins_paste_only_what_changed(
    fake_pinnwand: FakeRandomPastebin, tmp_path: Path
) -> None:
    folder = graph_story(tmp_path / "story", {"start": ["end"], "end": []}, "start")
    first = publish(load_story(folder), fake_pinnwand)
    second = publish(load_story(folder), fake_pinnwand)
    assert second.pasted == [] and second.urls == first.urls
    (folder / "start.txt").write_bytes(b"changed [[end]]\n")
    third = publish(load_story(folder), fake_pinnwand)
    assert third.pasted == ["start"] and third.urls["end"] == first.urls["end"]


def test_a_random_id_paste_without_a_clear_answer_is_reported_on_the_next_run(
    fake_pinnwand: FakeRandomPastebin, tmp_path: Path
) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")

    def fail(content: bytes) -> None:
        raise AmbiguousRequestError("POST http://fake.test/api/v1/paste answered HTTP 500")

    fake_pinnwand.before_paste = fail
    with pytest.raises(PublishError, match="page 'start': .*HTTP 500; the pastebin may have kept a copy"):
        publish(load_story(folder), fake_pinnwand)
    fake_pinnwand.before_paste = None
    events: list[PublishEvent] = []
    publish(load_story(folder), fake_pinnwand, on_event=events.append)
    (notice,) = [event.message for event in events if event.kind == "notice"]
    assert "got no clear answer (a server error, a timeout or an interruption)" in notice
    assert "was interrupted" not in notice


def test_a_random_id_paste_the_server_refused_leaves_no_notice(
    fake_pinnwand: FakeRandomPastebin, tmp_path: Path
) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")

    def refuse(content: bytes) -> None:
        raise PastebinError("http://fake.test refused the paste: HTTP 400 bad lexer")

    fake_pinnwand.before_paste = refuse
    with pytest.raises(PublishError, match="refused the paste: HTTP 400"):
        publish(load_story(folder), fake_pinnwand)
    fake_pinnwand.before_paste = None
    events: list[PublishEvent] = []
    publish(load_story(folder), fake_pinnwand, on_event=events.append)
    assert [event for event in events if event.kind == "notice"] == []


# --- conflicts, re-plans and moves ---------------------------------------------------------------


def _is_searched(content: bytes) -> bool:
    """Pages of graph_story end in a newline; a searched page ends in its space/tab suffix."""
    return content.endswith((b" ", b"\t"))


def test_a_preassigned_id_taken_meanwhile_makes_a_new_plan(
    fake_md5bin: FakeMd5bin, tmp_path: Path, engine: str
) -> None:
    folder = graph_story(tmp_path / "story", LOOPS, "start")
    rivals: list[str] = []

    def rival_first(content: bytes) -> None:
        if _is_searched(content) and not rivals:
            rivals.append(fake_md5bin.id_for(content))
            fake_md5bin.squat(rivals[0])

    fake_md5bin.before_paste = rival_first
    events: list[PublishEvent] = []
    result = publish(load_story(folder), fake_md5bin, search=_search(engine), on_event=events.append)
    assert [event.message for event in events if "meanwhile" in event.message] == [
        f"id {rivals[0]} was taken meanwhile; planning again"
    ]
    assert fake_md5bin.url_for(rivals[0]) not in result.urls.values()
    check_published(folder, result.start_url, _fetcher(fake_md5bin), 3)  # type: ignore[arg-type]


def test_publish_gives_up_when_preassigned_ids_keep_being_taken(
    fake_md5bin: FakeMd5bin, tmp_path: Path, engine: str
) -> None:
    folder = graph_story(tmp_path / "story", {"start": ["start"]}, "start")

    def rival(content: bytes) -> None:
        if _is_searched(content):
            fake_md5bin.squat(fake_md5bin.id_for(content))

    fake_md5bin.before_paste = rival
    with pytest.raises(PublishError, match=f"gave up after {MAX_REPLANS} re-plans"):
        publish(load_story(folder), fake_md5bin, search=_search(engine))
    assert len(fake_md5bin.posts) == MAX_REPLANS + 1


def test_a_move_that_finds_every_fresh_id_taken_stops_with_an_error(
    fake_md5bin: FakeMd5bin, tmp_path: Path, engine: str
) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    fake_md5bin.before_paste = lambda content: fake_md5bin.squat(fake_md5bin.id_for(content))
    with pytest.raises(PublishError, match=f"{MAX_MOVE_ATTEMPTS} fresh ids in a row were taken"):
        publish(load_story(folder), fake_md5bin, search=_search(engine))
    assert len(fake_md5bin.posts) == 1 + MAX_MOVE_ATTEMPTS


def test_a_moved_page_is_found_again_at_its_fresh_id_without_a_search(
    fake_md5bin: FakeMd5bin, tmp_path: Path, engine: str
) -> None:
    folder = graph_story(tmp_path / "story", {"start": ["end"], "end": []}, "start")
    story = load_story(folder)
    natural = make_plan(story, fake_md5bin).page("end").paste_id
    assert natural is not None
    fake_md5bin.squat(natural)
    first = publish(story, fake_md5bin, tmp_path / "a.json", search=_search(engine))
    assert first.searches == 1 and first.urls["end"] != fake_md5bin.url_for(natural)
    again = publish(story, fake_md5bin, tmp_path / "b.json", search=_search(engine))
    assert again.searches == 0 and again.pasted == [] and again.urls == first.urls


# --- pastebins that lose or change text -----------------------------------------------------------


def test_a_paste_that_cannot_be_read_back_stops_the_run_naming_the_page(
    fake_md5bin: FakeMd5bin, tmp_path: Path
) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello.\n"})
    fake_md5bin.before_paste = lambda content: fake_md5bin.unreadable.add(content_id(content, 4))
    with pytest.raises(PublishError, match=r"page 'start': pasted at .*, but reading it back failed"):
        publish(load_story(folder), fake_md5bin)


@pytest.mark.parametrize(
    ("sent", "received", "words"),
    [
        (b"text  \n", b"text", "it trimmed trailing whitespace"),
        (b"\n text\n", b"text", "it trimmed leading or trailing whitespace"),
        (b"a\r\nb\r\n", b"a\nb\n", "it changed the line endings"),
        (b"0123456789", b"01234", "it truncated the text to 5 of 10 bytes"),
        (b"text\n", b"TEXT\n", "it changed the text"),
    ],
)
def test_describe_change_names_what_the_pastebin_did(sent: bytes, received: bytes, words: str) -> None:
    assert describe_change(sent, received) == words


def test_a_pastebin_that_rewrites_line_endings_is_caught_naming_the_page(
    fake_md5bin: FakeMd5bin, tmp_path: Path
) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello.\r\nBye.\r\n"})
    fake_md5bin.transform = lambda content: content.replace(b"\r\n", b"\n")
    with pytest.raises(PublishError, match="page 'start': .*it changed the line endings"):
        publish(load_story(folder), fake_md5bin)


def test_pages_whose_pastes_vanished_are_pasted_again(
    fake_md5bin: FakeMd5bin, tmp_path: Path
) -> None:
    folder = graph_story(tmp_path / "story", {"start": ["end"], "end": []}, "start")
    first = publish(load_story(folder), fake_md5bin)
    fake_md5bin.pastes.clear()
    notices: list[str] = []
    second = publish(load_story(folder), fake_md5bin, on_event=lambda e: notices.append(e.message))
    assert sorted(second.pasted) == ["end", "start"] and second.urls == first.urls
    assert sum("is gone" in notice for notice in notices) == 2


def test_a_pastebin_that_fails_to_say_what_an_id_holds_stops_the_run(
    fake_md5bin: FakeMd5bin, tmp_path: Path
) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello.\n"})
    fake_md5bin.unreadable.add(content_id(b"Hello.\n", 4))
    with pytest.raises(PublishError, match="cannot read http://fake.test/.*HTTP 500"):
        publish(load_story(folder), fake_md5bin)
    assert fake_md5bin.posts == []


def test_the_offline_plan_marks_what_the_manifest_shows_published(
    fake_md5bin: FakeMd5bin, tmp_path: Path, engine: str
) -> None:
    from md5steg.story import Manifest

    folder = graph_story(tmp_path / "story", LOOPS, "start")
    publish(load_story(folder), fake_md5bin, tmp_path / "m.json", search=_search(engine))
    records = Manifest.load(tmp_path / "m.json").pages(fake_md5bin.target_key)
    plan = make_plan(load_story(folder), fake_md5bin, records)
    assert all(page.up_to_date for page in plan.pages) and plan.searches == []
    # An edit to a pre-assigned page: its recorded id now holds other bytes, so it moves.
    (folder / "cave.txt").write_bytes(b"page cave, edited\ngo to [[start]] now\ngo to [[cave]] now\n")
    edited = make_plan(load_story(folder), fake_md5bin, records)
    assert {page.name for page in edited.pages if not page.up_to_date} >= {"cave"}
    assert edited.preassigned["cave"] != plan.preassigned["cave"]


# --- a manifest from someone else -----------------------------------------------------------------
# The manifest lives in the story folder, which may be received: it is a cache, never an authority.


def _forge_manifest(folder: Path, target_key: str, name: str, **record: object) -> None:
    """Write the story folder's manifest with one page record, as a forger would."""
    forged = {"version": 1, "targets": {target_key: {"pages": {name: record}}}}
    (folder / MANIFEST_NAME).write_text(json.dumps(forged))


def test_a_forged_manifest_url_is_not_linked_on_a_random_id_pastebin(
    fake_pinnwand: FakeRandomPastebin, tmp_path: Path
) -> None:
    folder = write_story(tmp_path / "received", {"start": "Go to [[leaf]].\n", "leaf": "The leaf.\n"})
    leaf = fake_pinnwand.paste(b"The leaf.\n")
    digest = md5_hex(b"The leaf.\n")
    _forge_manifest(
        folder,
        fake_pinnwand.target_key,
        "leaf",
        id=leaf.paste_id,
        url="https://evil.example/phish",
        md5=digest,
        rendered_md5=digest,
    )
    published = publish(load_story(folder), fake_pinnwand)
    start = fake_pinnwand.fetch(published.start_url.rsplit("/", 1)[-1])
    assert start == f"Go to {fake_pinnwand.url_for(leaf.paste_id)}.\n".encode()
    assert published.urls["leaf"] == fake_pinnwand.url_for(leaf.paste_id)


def test_a_manifest_record_whose_paste_holds_other_text_is_pasted_again(
    fake_md5bin: FakeMd5bin, tmp_path: Path
) -> None:
    """The record's MD5 matches what the paste serves, but the paste is not the page it claims."""
    folder = write_story(tmp_path / "received", {"start": "Go to [[leaf]].\n", "leaf": "The leaf.\n"})
    other = fake_md5bin.paste(b"Something else entirely.\n")
    _forge_manifest(
        folder,
        fake_md5bin.target_key,
        "leaf",
        id=other.paste_id,
        url=other.url,
        md5=md5_hex(b"Something else entirely.\n"),
        rendered_md5=md5_hex(b"The leaf.\n"),
    )
    published = publish(load_story(folder), fake_md5bin)
    assert published.urls["leaf"] == fake_md5bin.url_for(content_id(b"The leaf.\n", 4))
    assert fake_md5bin.fetch(published.urls["leaf"].rsplit("/", 1)[-1]) == b"The leaf.\n"


@pytest.mark.parametrize("forged_id", ["../", "..", "abcd?x", "ABCD", "abc"])
def test_a_manifest_id_that_is_not_a_pastebin_id_is_dropped_with_a_notice(
    tmp_path: Path, forged_id: str
) -> None:
    folder = write_story(tmp_path / "received", {"start": "Go to [[leaf]].\n", "leaf": "The leaf.\n"})
    digest = md5_hex(b"The leaf.\n")
    notices: list[str] = []
    with EmbeddedMd5bin(tmp_path / "store.sqlite3", id_length=4) as pastebin:
        _forge_manifest(
            folder, pastebin.target_key, "leaf", id=forged_id, url="x", md5=digest, rendered_md5=digest
        )
        published = publish(
            load_story(folder),
            pastebin,
            on_event=lambda event: notices.append(event.message) if event.kind == "notice" else None,
        )
        assert published.urls["leaf"] == pastebin.url_for(content_id(b"The leaf.\n", 4))
        assert "leaf" in published.pasted
    assert any(f"{forged_id!r}, which cannot be a md5bin paste id" in notice for notice in notices), notices


def test_plan_leaves_out_a_manifest_record_whose_id_is_not_a_pastebin_id(
    fake_pinnwand: FakeRandomPastebin, tmp_path: Path
) -> None:
    folder = write_story(tmp_path / "received", {"start": "Go to [[leaf]].\n", "leaf": "The leaf.\n"})
    digest = md5_hex(b"The leaf.\n")
    _forge_manifest(
        folder, fake_pinnwand.target_key, "leaf", id="../admin", url="x", md5=digest, rendered_md5=digest
    )
    story = load_story(folder)
    plan = make_plan(story, fake_pinnwand, load_manifest(folder).pages(fake_pinnwand.target_key))
    assert not plan.page("leaf").up_to_date and plan.page("leaf").url is None


# --- searches too long to start ------------------------------------------------------------------


def test_publish_refuses_a_page_search_expected_to_take_over_an_hour(tmp_path: Path) -> None:
    """As find does by default: a 12-hex id (~2.8e14 candidates) is refused with the estimate."""
    folder = write_story(tmp_path / "story", {"start": "Go [[b]].\n", "b": "Back to [[start]].\n"})
    pastebin = FakeMd5bin(id_length=12)
    with pytest.raises(TooMuchWorkError, match="needs about 2.81e\\+14 candidates"):
        publish(load_story(folder), pastebin, search=SearchOptions(jobs=1, cpu=True))
    assert not any(post.startswith(b"Back") for post in pastebin.posts), pastebin.posts

