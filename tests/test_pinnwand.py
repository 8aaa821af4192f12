"""Publishing to a real pinnwand 1.5.0: random ids, so DAG stories only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fault_server import Answer, FaultServer, refused_port
from md5steg.pastebins import (
    AmbiguousRequestError,
    PastebinError,
    PastebinUnreachableError,
    PasteMissingError,
)
from md5steg.pastebins.http import HttpSession
from md5steg.pastebins.pinnwand import Pinnwand
from md5steg.story import load_story, publish
from story_helpers import check_published, graph_story, write_story

CLI = [sys.executable, "-c", "from md5steg.cli import main; main()"]
DAG = {
    "start": ["left", "right"],
    "left": ["treasure", "right"],
    "right": ["end"],
    "treasure": [],
    "end": [],
}


def raw(url: str) -> bytes:
    base, paste_id = url.rsplit("/", 1)
    response = httpx.get(f"{base}/raw/{paste_id}", timeout=10)
    assert response.status_code == 200
    return response.content


def test_a_dag_story_published_to_pinnwand_can_be_crawled(
    pinnwand_url: str, tmp_path: Path
) -> None:
    folder = graph_story(tmp_path / "story", DAG, "start")
    manifest = tmp_path / "manifest.json"
    result = subprocess.run(
        [
            *CLI,
            "publish",
            str(folder),
            "--target",
            "pinnwand",
            "--to",
            pinnwand_url,
            "--manifest",
            str(manifest),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    mapping = json.loads(result.stdout)
    assert sorted(mapping["pasted"]) == sorted(DAG)
    assert (
        check_published(folder, mapping["start_url"], raw, expected_pages=len(DAG))
        == mapping["pages"]
    )


def test_republishing_an_unchanged_story_to_pinnwand_pastes_nothing(
    pinnwand_url: str, tmp_path: Path
) -> None:
    folder = graph_story(tmp_path / "story", DAG, "start")
    story = load_story(folder)
    with Pinnwand(pinnwand_url) as pastebin:
        first = publish(story, pastebin, tmp_path / "manifest.json")
        again = publish(story, pastebin, tmp_path / "manifest.json")
    assert sorted(first.pasted) == sorted(DAG)
    assert again.pasted == []
    assert again.urls == first.urls


def test_pinnwand_keeps_exact_bytes_including_crlf_and_trailing_spaces(
    pinnwand_url: str, tmp_path: Path
) -> None:
    folder = write_story(
        tmp_path / "story", {"start": "Windows line\r\nthen [[end]]  \r\n", "end": "bye \t\n"}
    )
    with Pinnwand(pinnwand_url) as pastebin:
        result = publish(load_story(folder), pastebin, tmp_path / "manifest.json")
    check_published(folder, result.start_url, raw, expected_pages=2)


def test_a_cyclic_story_gives_a_clear_error_before_pasting(
    pinnwand_url: str, tmp_path: Path
) -> None:
    folder = graph_story(
        tmp_path / "story", {"start": ["cave"], "cave": ["start", "cave"]}, "start"
    )
    result = subprocess.run(
        [*CLI, "publish", str(folder), "--target", "pinnwand", "--to", pinnwand_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "cycle (start -> cave -> start)" in result.stderr
    assert result.stdout == ""


# --- the adapter's error paths: a real pinnwand where it can refuse, else tests/fault_server.py ---


def test_pinnwand_refusing_a_paste_is_one_line_with_its_reason(pinnwand_url: str) -> None:
    pastebin = Pinnwand(pinnwand_url, expiry="forever")
    with pastebin, pytest.raises(PastebinError, match="refused the paste: HTTP 400") as caught:
        pastebin.paste(b"a page\n")
    assert "\n" not in str(caught.value)


def test_a_paste_pinnwand_does_not_have_is_missing(pinnwand_url: str) -> None:
    with Pinnwand(pinnwand_url) as pastebin, pytest.raises(PasteMissingError):
        pastebin.fetch("NOSUCHPASTE")


def test_pinnwand_refuses_bytes_that_are_not_utf8_before_sending() -> None:
    with FaultServer() as server, Pinnwand(server.url) as pastebin:
        with pytest.raises(PastebinError, match="not valid UTF-8"):
            pastebin.paste(b"caf\xe9\n")
        assert server.requests == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(200, b"<html>welcome</html>"), "did not answer pinnwand's JSON"),
        (Answer.json({"removal": "http://x/remove/abc"}), "did not answer pinnwand's JSON"),
        (Answer.json({"link": "http://127.0.0.1/"}), "answered a link without a paste id"),
    ],
    ids=["html", "json-without-link", "link-without-id"],
)
def test_answers_no_pinnwand_gives_are_errors_and_the_paste_is_sent_once(
    answer: Answer, message: str
) -> None:
    with FaultServer(answer) as server, Pinnwand(server.url) as pastebin:
        with pytest.raises(PastebinError, match=message):
            pastebin.paste(b"a page\n")
        assert [request.path for request in server.requests] == ["/api/v1/paste"]


def test_a_pinnwand_nothing_listens_on_is_unreachable_after_retries() -> None:
    waits: list[float] = []
    session = HttpSession(max_retries=2, backoff_seconds=0.5, sleep=waits.append)
    with refused_port() as url, pytest.raises(PastebinUnreachableError, match="is running"):
        Pinnwand(url, session=session).paste(b"a page\n")
    assert waits == [0.5, 1.0]


def test_a_pinnwand_paste_that_may_have_arrived_is_not_sent_twice() -> None:
    with FaultServer(Answer(action="drop"), Answer.json({"link": "http://x/ABC"})) as server:
        with Pinnwand(server.url) as pastebin, pytest.raises(AmbiguousRequestError):
            pastebin.paste(b"a page\n")
        assert len(server.requests) == 1
