"""The pastebin registry, the options each adapter refuses, and the md5bin adapters' error paths.

md5bin over HTTP runs against a real ``md5steg serve`` where the fault is one a
real md5bin gives (id length, size, conflict, missing paste), and against
tests/fault_server.py where only a broken or foreign server would answer so.
"""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fault_server import Answer, FaultServer, refused_port
from md5steg.addresses import content_id
from md5steg.errors import InvalidUrlError
from md5steg.md5bin import store as md5bin_store
from md5steg.pastebins import (
    PASTEBINS,
    PastebinError,
    PastebinOptions,
    PastebinOptionsError,
    PasteConflictError,
    PasteMissingError,
    open_pastebin,
)
from md5steg.pastebins.http import HttpSession
from md5steg.pastebins.md5bin import EmbeddedMd5bin, HttpMd5bin

PAGE = b"a page of the story\n"


def same_prefix_pair(id_length: int) -> tuple[bytes, bytes]:
    """Two different texts whose MD5s share the first ``id_length`` hex digits."""
    seen: dict[str, bytes] = {}
    for number in itertools.count():
        text = f"page {number}\n".encode()
        prefix = content_id(text, id_length)
        if prefix in seen:
            return seen[prefix], text
        seen[prefix] = text
    raise AssertionError("itertools.count() ended")


def no_wait_session() -> HttpSession:
    return HttpSession(timeout=5.0, max_retries=1, sleep=lambda seconds: None)


# --- the registry and its options ---------------------------------------------------------------


def test_every_registered_pastebin_is_filed_under_its_own_kind() -> None:
    assert sorted(PASTEBINS) == ["md5bin", "pinnwand"]
    assert all(adapter.kind == name for name, adapter in PASTEBINS.items())


def test_an_unknown_pastebin_names_the_ones_there_are() -> None:
    with pytest.raises(PastebinOptionsError, match="choose one of md5bin, pinnwand"):
        open_pastebin("gist", PastebinOptions(url="http://127.0.0.1:9"))


def test_md5bin_without_to_is_the_local_store_and_with_to_the_server(tmp_path: Path) -> None:
    local = open_pastebin("md5bin", PastebinOptions(db_path=str(tmp_path / "db"), id_length=4))
    remote = open_pastebin("md5bin", PastebinOptions(url="http://127.0.0.1:9/", id_length=8))
    assert isinstance(local, EmbeddedMd5bin) and local.id_length == 4
    assert isinstance(remote, HttpMd5bin) and remote.url == "http://127.0.0.1:9"
    assert remote.id_for(PAGE) == content_id(PAGE, 8)
    assert remote.url_for("abcd1234") == "http://127.0.0.1:9/abcd1234"


def test_md5bin_refuses_db_with_to(tmp_path: Path) -> None:
    options = PastebinOptions(url="http://127.0.0.1:9", db_path=str(tmp_path / "db"))
    with pytest.raises(PastebinOptionsError, match="--db is for the local md5bin store"):
        open_pastebin("md5bin", options)


def test_an_offline_md5bin_plan_assumes_the_default_id_length_without_asking() -> None:
    with refused_port() as url:
        pastebin = open_pastebin("md5bin", PastebinOptions(url=url, offline=True))
        assert pastebin.id_length == md5bin_store.DEFAULT_ID_LENGTH


def test_pinnwand_needs_to() -> None:
    with pytest.raises(PastebinOptionsError, match="needs --to URL"):
        open_pastebin("pinnwand", PastebinOptions())


def test_pinnwand_refuses_every_md5bin_option_given() -> None:
    options = PastebinOptions(url="http://127.0.0.1:9", db_path="db", id_length=6)
    with pytest.raises(PastebinOptionsError, match="^--db, --id-length are md5bin options; .* leave them out$"):
        open_pastebin("pinnwand", options)


@pytest.mark.parametrize("name", sorted(PASTEBINS))
@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:8000", "http://"])
def test_a_url_that_is_not_http_is_refused_in_one_line(name: str, url: str) -> None:
    with pytest.raises(InvalidUrlError) as caught:
        open_pastebin(name, PastebinOptions(url=url))
    assert "\n" not in str(caught.value)


def test_the_local_store_needs_neither_httpx_nor_tenacity(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from md5steg.pastebins import PastebinOptions, open_pastebin\n"
        f"with open_pastebin('md5bin', PastebinOptions(db_path={str(tmp_path / 'db')!r})) as bin:\n"
        "    bin.fetch(bin.paste(b'page').paste_id)\n"
        "print(sorted({'httpx', 'tenacity'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# --- the local store -----------------------------------------------------------------------------


def test_a_store_locked_by_another_process_is_a_pastebin_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(md5bin_store, "BUSY_TIMEOUT_SECONDS", 0.05)
    database = tmp_path / "db"
    with EmbeddedMd5bin(database, id_length=4) as pastebin:
        assert not pastebin.is_taken("abcd")  # opens the store before the lock is taken
        holder = sqlite3.connect(database, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            with pytest.raises(PastebinError, match="is locked by another process; try again"):
                pastebin.paste(PAGE)
        finally:
            holder.close()
        assert pastebin.paste(PAGE).paste_id == content_id(PAGE, 4)


def test_a_store_made_for_other_id_lengths_is_a_pastebin_error(tmp_path: Path) -> None:
    with EmbeddedMd5bin(tmp_path / "db", id_length=4) as pastebin:
        pastebin.paste(PAGE)
    with EmbeddedMd5bin(tmp_path / "db", id_length=6) as pastebin, pytest.raises(
        PastebinError, match="created with 4-character ids, not 6"
    ):
        pastebin.paste(PAGE)


def test_the_local_store_reports_a_taken_id_and_a_missing_paste(tmp_path: Path) -> None:
    first, second = same_prefix_pair(4)
    with EmbeddedMd5bin(tmp_path / "db", id_length=4) as pastebin:
        receipt = pastebin.paste(first)
        with pytest.raises(PasteConflictError) as caught:
            pastebin.paste(second)
        assert caught.value.paste_id == receipt.paste_id
        assert pastebin.fetch(receipt.paste_id) == first
        missing = next(i for i in ("0000", "ffff") if i != receipt.paste_id)
        with pytest.raises(PasteMissingError):
            pastebin.fetch(missing)


# --- md5bin over HTTP, against a real md5bin -----------------------------------------------------

StartServer = Callable[..., tuple[str, subprocess.Popen]]  # type: ignore[type-arg]


def test_an_id_length_the_server_does_not_use_is_refused_before_pasting(
    start_md5bin_server: StartServer, tmp_path: Path
) -> None:
    url, process = start_md5bin_server(tmp_path, id_length=6)
    with HttpMd5bin(url, id_length=8) as pastebin:
        with pytest.raises(PastebinError, match="uses 6-hex ids, not 8; drop --id-length"):
            pastebin.paste(PAGE)
        with pytest.raises(PastebinError, match="uses 6-hex ids, not 8"):
            pastebin.is_taken("abcdef12")
    with md5bin_store.Md5binStore(process.md5bin_db_path) as store:  # type: ignore[attr-defined]
        assert store.count() == 0


def test_a_real_md5bin_refuses_too_large_and_taken_and_misses_unknown_ids(
    start_md5bin_server: StartServer, tmp_path: Path
) -> None:
    url, _ = start_md5bin_server(tmp_path, id_length=4, extra_args=["--max-size", "100"])
    first, second = same_prefix_pair(4)
    with HttpMd5bin(url) as pastebin:
        assert (pastebin.id_length, pastebin.max_size) == (4, 100)
        with pytest.raises(PastebinError, match=r"refused the paste: HTTP 413 \S"):
            pastebin.paste(b"x" * 101)
        receipt = pastebin.paste(first)
        assert pastebin.is_taken(receipt.paste_id)
        with pytest.raises(PasteConflictError):
            pastebin.paste(second)
        with pytest.raises(PasteMissingError):
            pastebin.fetch(next(i for i in ("0000", "ffff") if i != receipt.paste_id))


# --- md5bin over HTTP, against servers that answer what no md5bin would --------------------------

INFO = Answer.json({"id_length": 4, "max_size": 1000})


@pytest.mark.parametrize(
    ("info", "message"),
    [
        (Answer(404, b"Not Found"), "answered HTTP 404; is http://127.0.0.1:"),
        (Answer(200, b"<html>hello</html>"), "did not answer md5bin's JSON"),
        (Answer.json({"id_length": 4}), "did not answer md5bin's JSON"),
    ],
    ids=["no-info-page", "html", "json-without-max-size"],
)
def test_a_server_that_is_not_an_md5bin_is_refused_before_pasting(
    info: Answer, message: str
) -> None:
    with FaultServer(info) as server, HttpMd5bin(server.url, session=no_wait_session()) as pastebin:
        with pytest.raises(PastebinError, match=message):
            pastebin.paste(PAGE)
        assert [request.method for request in server.requests] == ["GET"]


def test_a_server_that_files_the_paste_under_another_id_is_caught() -> None:
    wrong_place = Answer(201, b"", {"Location": "/ffff"})
    with FaultServer(INFO, wrong_place) as server, HttpMd5bin(
        server.url, session=no_wait_session()
    ) as pastebin, pytest.raises(PastebinError, match="the server changed the text"):
        pastebin.paste(b"not ffff\n")


def test_unexpected_answers_to_is_taken_and_fetch_are_errors() -> None:
    with FaultServer(INFO, Answer(403, b"forbidden")) as server, HttpMd5bin(
        server.url, session=no_wait_session()
    ) as pastebin:
        with pytest.raises(PastebinError, match=r"/abcd\.json answered HTTP 403"):
            pastebin.is_taken("abcd")
        with pytest.raises(PastebinError, match=r"/raw/abcd answered HTTP 403"):
            pastebin.fetch("abcd")

