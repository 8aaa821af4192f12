"""Reading story folders: pages as exact bytes, links with file:line, story.toml, every mistake up front."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from md5steg.story import StoryError, load_story
from md5steg.story.loader import MAX_CONFIG_BYTES, MAX_PAGE_BYTES, check_for_target
from story_helpers import EXAMPLE_STORY, write_story


def test_example_story_loads_with_branches_loop_self_link_vanity_and_endings() -> None:
    story = load_story(EXAMPLE_STORY)
    assert 10 <= len(story.pages) <= 20
    assert story.start == "start"
    assert story.vanity == {"start": "c0ffee"}
    assert story.warnings == ()
    graph = story.graph
    assert "stairs" in graph["stairs"]  # a page that links to itself
    assert any(story.start in targets for name, targets in graph.items() if name != story.start)
    endings = [name for name, targets in graph.items() if not targets]
    assert len(endings) >= 2


def test_pages_are_kept_as_exact_bytes_and_links_rendered_in_place(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "Hi\r\nGo [[end]] or [[ end ]].\r\n", "end": "Bye\n"})
    story = load_story(tmp_path)
    page = story.pages["start"]
    assert page.source == b"Hi\r\nGo [[end]] or [[ end ]].\r\n"
    assert [(link.target, link.line) for link in page.links] == [("end", 2), ("end", 2)]
    assert page.render({"end": "http://x/1"}) == b"Hi\r\nGo http://x/1 or http://x/1.\r\n"


def test_md_and_txt_pages_both_count_and_other_files_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "start.md").write_bytes(b"# Start\n[[next]]\n")
    (tmp_path / "next.txt").write_bytes(b"next\n")
    (tmp_path / "notes.rst").write_bytes(b"[[nowhere]]\n")
    assert sorted(load_story(tmp_path).pages) == ["next", "start"]


def test_link_to_a_missing_page_names_file_and_line(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "one\ntwo\nsee [[cave]]\n"})
    with pytest.raises(StoryError, match=r"start\.txt:3: link \[\[cave\]\] names no page"):
        load_story(tmp_path)


def test_invalid_link_name_names_file_and_line(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "x\n[[the cave]]\n"})
    with pytest.raises(
        StoryError, match=r"start\.txt:2: link \[\[the cave\]\] is not a valid page name"
    ):
        load_story(tmp_path)


def test_invalid_page_file_name_is_refused(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "x\n"})
    (tmp_path / "my page.txt").write_bytes(b"hello\n")
    with pytest.raises(StoryError, match="'my page' is not a valid page name"):
        load_story(tmp_path)


def test_same_name_as_txt_and_md_is_refused(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "x\n"})
    (tmp_path / "start.md").write_bytes(b"y\n")
    with pytest.raises(StoryError, match="also exists"):
        load_story(tmp_path)


@pytest.mark.parametrize("text", ["", " \n\t\n"])
def test_empty_or_whitespace_page_is_refused(tmp_path: Path, text: str) -> None:
    write_story(tmp_path, {"start": "x [[blank]]\n", "blank": text})
    with pytest.raises(StoryError, match="blank.txt: page 'blank' is empty or only whitespace"):
        load_story(tmp_path)


def test_page_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "start.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(StoryError, match="not valid UTF-8"):
        load_story(tmp_path)


def test_default_start_is_start_then_index(tmp_path: Path) -> None:
    write_story(tmp_path / "a", {"index": "[[start]]\n", "start": "s\n"})
    assert load_story(tmp_path / "a").start == "start"
    write_story(tmp_path / "b", {"index": "i\n", "other": "[[index]]\n"})
    assert load_story(tmp_path / "b").start == "index"
    write_story(tmp_path / "c", {"other": "o\n"})
    with pytest.raises(StoryError, match="no start page"):
        load_story(tmp_path / "c")


def test_story_toml_start_must_name_a_page(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "s\n"}, 'start = "nowhere"\n')
    with pytest.raises(StoryError, match="names no page"):
        load_story(tmp_path)


def test_story_toml_unknown_key_is_refused(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "s\n"}, 'strat = "start"\n')
    with pytest.raises(StoryError, match="unknown key"):
        load_story(tmp_path)


def test_vanity_prefix_that_is_not_hex_is_refused(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "s\n"}, '[prefix]\nstart = "coffee"\n')
    with pytest.raises(StoryError, match="vanity prefix 'coffee' for page 'start' is not hex"):
        load_story(tmp_path)


def test_vanity_prefix_longer_than_the_id_is_refused(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "s\n"}, '[prefix]\nstart = "c0ffee00"\n')
    story = load_story(tmp_path)
    with pytest.raises(StoryError, match="has 8 hex digits; this pastebin's ids have only 6"):
        check_for_target(story, id_length=6, max_size=None)


def test_page_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "x" * 100 + "\n"})
    with pytest.raises(
        StoryError, match="start.txt: page 'start' is 101 bytes; this pastebin accepts at most 50"
    ):
        check_for_target(load_story(tmp_path), id_length=6, max_size=50)


def test_unreachable_pages_are_left_out_with_a_warning(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "s\n", "lost": "l [[start]]\n"}, '[prefix]\nlost = "ab"\n')
    story = load_story(tmp_path)
    assert sorted(story.pages) == ["start"]
    assert dict(story.vanity) == {}
    assert story.warnings == (
        "page(s) not reachable from 'start': lost (left out; --include-unreachable publishes them)",
    )


def test_unreachable_pages_are_kept_when_asked(tmp_path: Path) -> None:
    write_story(tmp_path, {"start": "s\n", "lost": "l [[start]]\n"})
    story = load_story(tmp_path, include_unreachable=True)
    assert sorted(story.pages) == ["lost", "start"]
    assert story.warnings == ("page(s) not reachable from 'start': lost (published anyway)",)


def test_a_page_with_another_hard_link_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"root:x:0:0\n")
    folder = write_story(tmp_path / "story", {"start": "Hello [[pw]]\n"})
    os.link(secret, folder / "pw.txt")
    with pytest.raises(StoryError, match=r"pw\.txt: page 'pw' has 2 hard links.*--follow-symlinks"):
        load_story(folder)
    assert load_story(folder, follow_symlinks=True).pages["pw"].source == b"root:x:0:0\n"


def test_a_hard_linked_page_no_link_reaches_is_not_published_even_when_links_are_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"root:x:0:0\n")
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    os.link(secret, folder / "pw.txt")
    assert sorted(load_story(folder, follow_symlinks=True).pages) == ["start"]


def test_a_page_over_the_read_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    with open(folder / "huge.txt", "wb") as handle:
        handle.truncate(MAX_PAGE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(StoryError, match=r"huge\.txt: page 'huge' is larger than 16 MiB"):
        load_story(folder)


def test_a_story_toml_over_the_read_limit_is_refused(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    with open(folder / "story.toml", "wb") as handle:
        handle.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(StoryError, match=r"story\.toml: story\.toml is larger than 1 MiB"):
        load_story(folder)


def test_a_story_toml_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    os.mkfifo(folder / "story.toml")
    with pytest.raises(StoryError, match=r"story\.toml is a FIFO, not a regular file"):
        load_story(folder)


# --- only the story's own files ------------------------------------------------------------------


def test_a_page_that_is_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0\n")
    folder = write_story(tmp_path / "story", {"start": "Hello [[passwd]]\n"})
    (folder / "passwd.txt").symlink_to(secret)
    with pytest.raises(StoryError, match=r"passwd\.txt: page 'passwd' is a symbolic link .*--follow-symlinks"):
        load_story(folder)
    story = load_story(folder, follow_symlinks=True)
    assert story.pages["passwd"].source == b"root:x:0:0\n"


def test_a_symlink_to_another_page_of_the_folder_is_refused_too(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    (folder / "index.txt").symlink_to(folder / "start.txt")
    with pytest.raises(StoryError, match="page 'index' is a symbolic link"):
        load_story(folder)


def test_a_dangling_page_link_is_refused_not_skipped(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(StoryError, match="page 'gone' is a symbolic link"):
        load_story(folder)


def test_a_symlinked_story_toml_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text('start = "end"\n')
    folder = write_story(tmp_path / "story", {"start": "Hello [[end]]\n", "end": "Bye\n"})
    (folder / "story.toml").symlink_to(elsewhere)
    with pytest.raises(StoryError, match="story.toml is a symbolic link"):
        load_story(folder)
    assert load_story(folder, follow_symlinks=True).start == "end"


def test_a_story_folder_reached_through_a_symlink_is_fine(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello\n"}, 'start = "start"\n')
    (tmp_path / "link").symlink_to(folder, target_is_directory=True)
    assert sorted(load_story(tmp_path / "link").pages) == ["start"]


def test_a_fifo_named_like_a_page_is_refused_by_name_without_blocking(tmp_path: Path) -> None:
    """README: a FIFO where a page should be is refused at once (it was skipped in silence)."""
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    os.mkfifo(folder / "pipe.txt")
    with pytest.raises(StoryError, match=r"pipe\.txt: page 'pipe' is a FIFO, not a regular file$"):
        load_story(folder)


def test_a_story_toml_that_is_a_fifo_is_not_told_to_follow_symlinks(tmp_path: Path) -> None:
    """Following links cannot make a FIFO readable: the hint is only for links."""
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    os.mkfifo(folder / "story.toml")
    with pytest.raises(StoryError) as refused:
        load_story(folder, follow_symlinks=True)
    assert "--follow-symlinks" not in str(refused.value), refused.value


def test_a_dangling_page_link_followed_on_purpose_is_refused_by_name(tmp_path: Path) -> None:
    """It was skipped, and a link to it then said 'names no page; create gone.txt'."""
    folder = write_story(tmp_path / "story", {"start": "Hello [[gone]]\n"})
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(StoryError, match=r"gone\.txt: page 'gone' is a symbolic link to .*nowhere\.txt, which does not exist"):
        load_story(folder, follow_symlinks=True)


def test_a_story_toml_that_is_not_utf8_is_one_error_with_its_line(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    (folder / "story.toml").write_bytes(b'start = "start"\n# caf\xe9\n')
    with pytest.raises(StoryError, match=r"story\.toml:2: not valid UTF-8 \(byte 21\); save story\.toml as UTF-8"):
        load_story(folder)


def test_a_symlink_loop_followed_on_purpose_is_one_error(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    with pytest.raises(StoryError, match="page 'loop' is a symbolic link"):
        load_story(folder)
    # Followed, a link to itself is no file at all: refused by name like any other non-page.
    with pytest.raises(StoryError, match=r"cannot read page 'loop' .*loop\.txt: Too many levels"):
        load_story(folder, follow_symlinks=True)


@pytest.mark.parametrize("nested", ["start = " + "[" * 8000, "x = " + "{a=" * 8000])
def test_a_story_toml_nested_too_deeply_is_one_error(tmp_path: Path, nested: str) -> None:
    """The TOML parser recurses: this raised RecursionError, a traceback."""
    folder = write_story(tmp_path / "story", {"start": "Hello\n"})
    (folder / "story.toml").write_text(nested)
    with pytest.raises(StoryError, match=r"story\.toml: nested too deeply to be a story\.toml"):
        load_story(folder)
