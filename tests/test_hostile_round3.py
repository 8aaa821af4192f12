"""Hostile pass, round 3: what an outside tester found in the surfaces added since round 2.

Each test states the promise it checks (README, ATTACK.md) and failed on the
code it was written against; the lead fixes the code and keeps the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import md5steg
from fake_pastebin import FakeRandomPastebin
from fault_server import Answer, FaultServer
from md5steg.addresses import md5_hex
from md5steg.alphabets import resolve_alphabet
from md5steg.content import Content
from md5steg.errors import Md5stegError
from md5steg.layout import choose_layout
from md5steg.pastebins import PASTEBINS
from md5steg.pastebins.base import PastebinOptions
from md5steg.pastebins.errors import PastebinError
from md5steg.pastebins.md5bin import EmbeddedMd5bin
from md5steg.resume import Record
from md5steg.search import SearchOptions
from md5steg.story import StoryError, load_story, publish
from md5steg.story.errors import ManifestError
from md5steg.story.loader import MAX_PAGE_BYTES
from md5steg.story.manifest import MANIFEST_NAME, load_manifest
from md5steg.story.paste import paste_content
from md5steg.story.records import PasteRecords
from md5steg.target import Target
from story_helpers import write_story

SRC = Path(__file__).resolve().parents[1] / "src"


def run_md5steg(
    *args: str, cwd: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    full_env = {**os.environ, "PYTHONPATH": str(SRC), **env}
    return subprocess.run(
        [sys.executable, "-m", "md5steg", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        timeout=timeout,
    )


# --- the publish manifest ------------------------------------------------------------------------


def test_a_manifest_shipped_inside_a_story_folder_cannot_make_a_link_point_off_the_pastebin(
    tmp_path: Path,
) -> None:
    """A story folder may come from someone else (README); its manifest is only a cache.

    A forged manifest that says the leaf page is already published at an
    outside URL must not put that URL into the pages md5steg pastes.
    """
    folder = write_story(
        tmp_path / "received", {"start": "Go to [[leaf]].\n", "leaf": "The leaf.\n"}
    )
    database = tmp_path / "store.sqlite3"
    with EmbeddedMd5bin(database) as pastebin:
        leaf = pastebin.paste(b"The leaf.\n")  # the leaf is there already, as the forger made sure
        forged = {
            "version": 1,
            "targets": {
                pastebin.target_key: {
                    "pages": {
                        "leaf": {
                            "id": leaf.paste_id,
                            "url": "https://evil.example/phish",
                            "md5": md5_hex(b"The leaf.\n"),
                            "rendered_md5": md5_hex(b"The leaf.\n"),
                        }
                    }
                }
            },
        }
        (folder / MANIFEST_NAME).write_text(json.dumps(forged))
        result = publish(load_story(folder), pastebin, search=SearchOptions(jobs=1))
        start = pastebin.fetch(result.start_url.rsplit("/", 1)[-1])
    assert b"evil.example" not in start, start
    assert all(url.startswith(pastebin.base_url + "/") for url in result.urls.values()), result.urls


def test_a_manifest_page_id_that_is_a_path_does_not_pass_for_a_paste_on_a_remote_md5bin(
    start_md5bin_server: Any, tmp_path: Path
) -> None:
    """The forger need not even paste anything: an id of '../' was "found" (GET /raw/../ is the
    index page, 200), and the record's URL was then linked from the start page."""
    base_url, _ = start_md5bin_server(tmp_path)
    folder = write_story(
        tmp_path / "received", {"start": "Go to [[leaf]].\n", "leaf": "The leaf.\n"}
    )
    pastebin = PASTEBINS["md5bin"].from_options(PastebinOptions(url=base_url))
    try:
        forged = {
            "version": 1,
            "targets": {
                pastebin.target_key: {
                    "pages": {
                        "leaf": {
                            "id": "../",
                            "url": "https://evil.example/phish",
                            "md5": md5_hex(b"The leaf.\n"),
                            "rendered_md5": md5_hex(b"The leaf.\n"),
                        }
                    }
                }
            },
        }
        (folder / MANIFEST_NAME).write_text(json.dumps(forged))
        result = publish(load_story(folder), pastebin, search=SearchOptions(jobs=1))
        start = pastebin.fetch(result.start_url.rsplit("/", 1)[-1])
    finally:
        pastebin.close()
    assert b"evil.example" not in start, start


# --- outputs -------------------------------------------------------------------------------------


def test_an_output_path_with_a_trailing_slash_never_replaces_a_file(tmp_path: Path) -> None:
    """``-o keep.txt/`` names a folder; cp and the shell refuse it ("Not a directory").

    md5steg resolved the path, dropped the slash and replaced keep.txt.
    """
    (tmp_path / "notes.txt").write_bytes(b"a note\n")
    (tmp_path / "keep.txt").write_bytes(b"precious\n")
    done = run_md5steg(
        "find",
        "--prefix",
        "0",
        "-j",
        "1",
        "-o",
        "keep.txt/",
        "notes.txt",
        cwd=tmp_path,
        env={"MD5STEG_STATE_DIR": str(tmp_path / "state")},
    )
    assert done.returncode in (1, 2), done
    assert b"Traceback" not in done.stderr
    assert (tmp_path / "keep.txt").read_bytes() == b"precious\n"


def test_an_output_path_with_a_trailing_slash_creates_no_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"a note\n")
    done = run_md5steg(
        "find",
        "--prefix",
        "0",
        "-j",
        "1",
        "-o",
        "new/",
        "notes.txt",
        cwd=tmp_path,
        env={"MD5STEG_STATE_DIR": str(tmp_path / "state")},
    )
    assert done.returncode in (1, 2), done
    assert not (tmp_path / "new").exists()


# --- resume records ------------------------------------------------------------------------------


def test_a_search_refused_for_an_unknown_opencl_device_leaves_no_resume_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'a refused search writes no resume record' (ac4e166): it held for TooMuchWorkError only.

    No device matching the selector is a refusal like any other: nothing was
    searched beyond calibration, and the record would outlive the run for 30 days.
    """
    monkeypatch.setenv("MD5STEG_STATE_DIR", str(tmp_path / "state"))
    with pytest.raises(Md5stegError):
        md5steg.find(b"refused", "0000000000", opencl_device="no-such-device-anywhere", jobs=1)
    state = tmp_path / "state"
    assert not state.exists() or os.listdir(state) == []


# --- the Python API ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, message",
    [("cover as text", b"message"), (b"cover", "message as text"), (b"cover", 42)],
    ids=["str data", "str message", "int message"],
)
def test_hide_with_a_wrong_type_raises_an_md5steg_error(data: object, message: object) -> None:
    """Library errors derive from Md5stegError (PREAMBLE); hide raised a bare TypeError from the
    AEAD or from bytes concatenation, after a full scrypt derivation."""
    pytest.importorskip("cryptography")
    with pytest.raises(Md5stegError):
        md5steg.hide(data, message, passphrase="p", prefix="00", jobs=1)  # type: ignore[arg-type]


# --- paste records -------------------------------------------------------------------------------


def test_a_paste_record_cannot_hand_back_a_url_off_the_pastebin(
    fake_pinnwand: FakeRandomPastebin, tmp_path: Path
) -> None:
    """A recorded paste is read back before its URL is reused (records.py), but only its id was
    read back: the URL printed came from the record file unchecked."""
    content = b"uptime: 3 days\n"
    receipt = fake_pinnwand.paste(content)
    records = PasteRecords(tmp_path / "paste-records.json")
    records.add(
        fake_pinnwand.target_key, md5_hex(content), receipt.paste_id, "https://evil.example/x"
    )
    result = paste_content(content, fake_pinnwand, records=PasteRecords.load(records.path)[0])
    assert result.url == fake_pinnwand.url_for(result.paste_id), result


# --- story folders -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_page_that_is_not_a_regular_file_is_refused_by_name(tmp_path: Path, kind: str) -> None:
    """'FIFOs and devices refused' (README): a FIFO b.txt was skipped in silence, and the error
    then said to create b.txt, which is there."""
    folder = write_story(tmp_path / "story", {"start": "Go [[b]].\n"})
    if kind == "fifo":
        os.mkfifo(folder / "b.txt")
    else:
        (folder / "b.txt").mkdir()
    with pytest.raises(StoryError) as refused:
        load_story(folder)
    assert "create b.txt" not in str(refused.value), refused.value
    assert "b.txt" in str(refused.value)


def test_an_oversized_page_is_not_told_to_use_follow_symlinks(tmp_path: Path) -> None:
    """The size refusal ends with the symlink hint ('or pass --follow-symlinks to read links'),
    which cannot help: the limit holds with --follow-symlinks too."""
    folder = write_story(tmp_path / "story", {"start": "Go [[big]].\n"})
    with open(folder / "big.txt", "wb") as big:
        big.truncate(MAX_PAGE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(StoryError) as refused:
        load_story(folder)
    assert "larger than 16 MiB" in str(refused.value)
    assert "--follow-symlinks" not in str(refused.value), refused.value


# --- long searches -------------------------------------------------------------------------------


def test_publish_refuses_a_search_of_days_as_find_hide_and_paste_do(tmp_path: Path) -> None:
    """find, hide and paste refuse a search expected to take over an hour (README) and offer
    --force; publish has no --force and started a 12-hex search (~2.8e14 candidates, days on
    two cores) in silence, with no estimate."""
    folder = write_story(
        tmp_path / "story", {"start": "Start. Go [[b]].\n", "b": "B, back to [[start]].\n"}
    )
    try:
        done = run_md5steg(
            "publish",
            str(folder),
            "--db",
            str(tmp_path / "store.sqlite3"),
            "--id-length",
            "12",
            "-j",
            "1",
            "--cpu",
            cwd=tmp_path,
            env={"MD5STEG_STATE_DIR": str(tmp_path / "state")},
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("publish was still searching for a 12-hex id after 30 s")
    assert done.returncode == 1, done
    assert b"Traceback" not in done.stderr


# --- JSON that is nested too deep ----------------------------------------------------------------
# json.loads raises RecursionError (not ValueError) past ~1000 levels; every reader caught only
# ValueError, so a small file or answer crashed the command with a traceback.

NESTED = b"[" * 8000  # under every read limit (a resume record is read to 8 KiB)


def test_a_deeply_nested_resume_record_is_ignored_with_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MD5STEG_STATE_DIR", str(tmp_path / "state"))
    data = b"a record nested too deep\n"
    content = Content.from_bytes(data)
    target = Target.from_prefix("0000")
    record = Record(content, choose_layout(content.length, resolve_alphabet("ws5"), target), target)
    record.directory.mkdir(parents=True)
    record.path.write_bytes(NESTED)
    match = md5steg.find(data, "0000", jobs=1)
    assert match.nonce_index == md5steg.find(data, "0000", jobs=1, resume=False).nonce_index
    assert any("ignored the resume record" in notice for notice in match.notices), match.notices


def test_a_deeply_nested_manifest_in_a_story_folder_is_one_error(tmp_path: Path) -> None:
    folder = write_story(
        tmp_path / "received", {"start": "Go to [[leaf]].\n", "leaf": "The leaf.\n"}
    )
    (folder / MANIFEST_NAME).write_bytes(NESTED)
    with pytest.raises(ManifestError):
        load_manifest(folder)


def test_deeply_nested_paste_records_are_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "paste-records.json"
    path.write_bytes(NESTED)
    records, warning = PasteRecords.load(path)
    assert records.records == {} and warning is not None


@pytest.mark.parametrize(
    "answer",
    [NESTED, b'{"id_length": 1e999, "max_size": 100}'],
    ids=["nested JSON", "an id length of infinity"],
)
def test_a_server_that_is_not_an_md5bin_is_one_pastebin_error(answer: bytes) -> None:
    """``--to`` names any server; its /api/info answer is read as md5bin's JSON."""
    with FaultServer(Answer(200, answer, {"Content-Type": "application/json"})) as server:
        pastebin = PASTEBINS["md5bin"].from_options(PastebinOptions(url=server.url))
        try:
            with pytest.raises(PastebinError):
                pastebin.paste(b"hello\n")
        finally:
            pastebin.close()


def test_a_server_that_answers_a_pinnwand_post_with_nested_json_is_one_pastebin_error() -> None:
    with FaultServer(Answer(200, NESTED, {"Content-Type": "application/json"})) as server:
        pastebin = PASTEBINS["pinnwand"].from_options(PastebinOptions(url=server.url))
        try:
            with pytest.raises(PastebinError):
                pastebin.paste(b"hello\n")
        finally:
            pastebin.close()
