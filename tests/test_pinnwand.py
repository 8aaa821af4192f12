"""Publishing to a real pinnwand 1.5.0: random ids, so DAG stories only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

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
