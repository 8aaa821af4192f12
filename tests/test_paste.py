"""``md5steg paste``: into a real ``md5steg serve`` and into the embedded store, on both engines."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from md5steg.md5bin.store import Md5binStore
from md5steg.story.records import PasteRecords
from story_helpers import http_fetch

CLI = [sys.executable, "-c", "from md5steg.cli import main; main()"]
SCRIPT = b'#!/bin/sh\n# This script lives at {{url}}\necho "fetch me again: curl -s {{url}}"\n'


def paste(*args: str, data: bytes = b"", check: bool = True) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run([*CLI, "paste", *args], input=data, capture_output=True, timeout=240)
    if check:
        assert result.returncode == 0, result.stderr.decode()
    return result


def stored(database: Path, paste_id: str) -> bytes:
    with Md5binStore(database) as store:
        found = store.get(paste_id)
        assert found is not None, paste_id
        return bytes(found.content)


def raw_from_store(database: Path, url: str) -> bytes:
    return stored(database, url.rsplit("/", 1)[1])


def rows(database: Path) -> int:
    with Md5binStore(database) as store:
        return int(store.count())


def url_of(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stdout.decode().strip()


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's data folder, for every paste run here: the paste records land in tmp_path."""
    folder = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder / "md5steg"


@pytest.fixture
def server(start_md5bin_server: Any, tmp_path: Path) -> tuple[str, Path]:
    # 4-hex ids keep the searches short on the pure-Python engine.
    base_url, process = start_md5bin_server(tmp_path, id_length=4)
    return base_url, process.md5bin_db_path


def test_stdin_round_trips_byte_for_byte_under_its_md5_prefix(server: tuple[str, Path]) -> None:
    base_url, _ = server
    data = b"binary \x00\xff\xfe and text\r\n  trailing spaces   \n"
    url = url_of(paste("--to", base_url, data=data))
    assert http_fetch(url) == data
    assert url == f"{base_url}/{hashlib.md5(data).hexdigest()[:4]}"


def test_a_file_goes_into_the_embedded_store_under_its_md5_prefix(tmp_path: Path) -> None:
    (tmp_path / "note.txt").write_bytes(b"a note\n")
    database = tmp_path / "db.sqlite3"
    url = url_of(paste(str(tmp_path / "note.txt"), "--db", str(database)))
    paste_id = hashlib.md5(b"a note\n").hexdigest()[:6]
    assert url == f"http://127.0.0.1:8000/{paste_id}"
    assert stored(database, paste_id) == b"a note\n"


def test_vanity_gives_an_id_that_starts_with_it(server: tuple[str, Path], engine: str) -> None:
    base_url, _ = server
    data = b"hello, vanity\n"
    url = url_of(paste("--to", base_url, "--vanity", "c0de", "--engine", engine, data=data))
    paste_id = url.rsplit("/", 1)[1]
    served = http_fetch(url)
    assert paste_id.startswith("c0de") and hashlib.md5(served).hexdigest().startswith(paste_id)
    assert served.startswith(data) and not served[len(data) :].strip(b" \t")


@pytest.mark.parametrize("token", [None, "@@ME@@"])
def test_self_puts_the_paste_url_wherever_the_token_was(
    server: tuple[str, Path], engine: str, token: Optional[str]
) -> None:
    base_url, _ = server
    script = SCRIPT if token is None else SCRIPT.replace(b"{{url}}", token.encode())
    option = ["--self"] if token is None else ["--self", token]
    url = url_of(paste("-", "--to", base_url, *option, "--engine", engine, data=script))
    served = http_fetch(url)
    expected = script.replace((token or "{{url}}").encode(), url.encode())
    assert served.startswith(expected) and not served[len(expected) :].strip(b" \t")
    assert served.count(url.encode()) == 2
    assert hashlib.md5(served).hexdigest().startswith(url.rsplit("/", 1)[1])


def test_pasting_again_prints_the_same_url_and_adds_no_row(tmp_path: Path, engine: str) -> None:
    database = tmp_path / "db.sqlite3"
    args = ["--db", str(database), "--id-length", "4", "--self", "--vanity", "5e", "--engine", engine]
    first = paste("-", *args, data=SCRIPT)
    count = rows(database)
    again = paste("-", *args, "--json", data=SCRIPT)
    report = json.loads(again.stdout)
    assert report["url"] == url_of(first) and report["already_pasted"] is True
    assert report["searches"] == 0 and rows(database) == count == 1
    plain = paste("-", "--db", str(database), data=b"plain\n")
    assert url_of(paste("-", "--db", str(database), data=b"plain\n")) == url_of(plain)
    assert rows(database) == 2


@pytest.mark.parametrize("option", [["--self"], ["--vanity", "c0de"]])
def test_pinnwand_with_self_or_vanity_is_refused_before_anything_is_sent(option: list[str]) -> None:
    # Port 9 is closed: had anything been sent, the error would be a connection error.
    result = paste("-", "--target", "pinnwand", "--to", "http://127.0.0.1:9", *option, data=b"x\n", check=False)
    assert result.returncode == 1
    message = result.stderr.decode().strip()
    assert len(message.splitlines()) == 1 and "pinnwand assigns random ids" in message


@pytest.mark.parametrize(
    ("args", "data", "code", "complaint"),
    [
        ([], b"", 1, "the input is empty"),
        ([], b"  \n\t\n", 1, "the input is empty"),
        (["--vanity", "xyz"], b"x\n", 2, "'xyz' is not hex"),
        (["--vanity", "0123456"], b"x\n", 1, "has 7 hex digits; md5bin store"),
        (["--id-length", "16", "--vanity", "0123456789abcdef"], b"x\n", 1, "needs about 1.84e+19 candidates"),
        ([], b"x" * (1024 * 1024 + 1), 1, "the input is 1048577 bytes; md5bin store"),
    ],
    ids=["empty", "blank", "vanity-not-hex", "vanity-too-long", "over-an-hour", "over-the-limit"],
)
def test_what_cannot_be_pasted_is_one_line_and_stores_nothing(
    tmp_path: Path, args: list[str], data: bytes, code: int, complaint: str
) -> None:
    database = tmp_path / "db.sqlite3"
    result = paste("-", "--db", str(database), *args, data=data, check=False)
    message = result.stderr.decode().strip()
    assert result.returncode == code, message
    errors = [line for line in message.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and complaint in errors[0] and "Traceback" not in message, message
    assert not database.exists() or rows(database) == 0


def test_an_input_over_a_servers_limit_is_refused_before_sending(
    start_md5bin_server: Any, tmp_path: Path
) -> None:
    base_url, process = start_md5bin_server(tmp_path, id_length=6, extra_args=["--max-size", "100"])
    result = paste("-", "--to", base_url, data=b"y" * 101, check=False)
    assert result.returncode == 1
    assert "the input is 101 bytes; md5bin at" in result.stderr.decode()
    assert rows(process.md5bin_db_path) == 0


def test_self_without_the_token_in_the_input_says_so(tmp_path: Path) -> None:
    result = paste("-", "--db", str(tmp_path / "db"), "--self", data=b"no token here\n")
    assert "warning: the input holds no {{url}}; it is pasted as it is" in result.stderr.decode()
    assert raw_from_store(tmp_path / "db", url_of(result)) == b"no token here\n"


def test_an_unreachable_pastebin_says_retrying_once_then_one_error_line() -> None:
    result = paste("-", "--to", "http://127.0.0.1:9", data=b"x\n", check=False)
    assert result.returncode == 1
    notice, error = result.stderr.decode().strip().splitlines()
    assert notice.startswith("warning: http://127.0.0.1:9/api/info: cannot connect (")
    assert notice.endswith("retrying up to 5 times with growing waits")
    assert error.startswith("Error: ") and "Connection refused" in error


def test_a_file_mistaken_for_the_self_token_is_a_usage_error(tmp_path: Path) -> None:
    script = tmp_path / "me.sh"
    script.write_bytes(SCRIPT)
    result = paste("--self", str(script), "--db", str(tmp_path / "db"), check=False)
    assert result.returncode == 2
    assert f"write: md5steg paste {script} --self" in result.stderr.decode()


def test_a_paste_into_pinnwand_round_trips_under_its_random_id(pinnwand_url: str) -> None:
    data = b"piped into pinnwand\r\n  with trailing spaces   \n"
    url = url_of(paste("-", "--target", "pinnwand", "--to", pinnwand_url, data=data))
    assert url.startswith(f"{pinnwand_url}/") and http_fetch(url) == data


def test_a_full_length_vanity_id_holding_other_text_is_one_clear_error(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    args = ["--db", str(database), "--id-length", "4", "--vanity", "c0de"]
    first = paste("-", *args, data=b"version one\n")
    assert url_of(first).endswith("/c0de")
    again = paste("-", *args, data=b"version two\n", check=False)
    assert again.returncode == 1
    assert "no free 4-hex id starting with 'c0de'" in again.stderr.decode()
    assert "paste's --vanity" in again.stderr.decode() and rows(database) == 1


def test_a_self_token_that_is_not_utf8_is_matched_as_the_bytes_given(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    data = b"I live at \xff, and only there\n"
    result = subprocess.run(
        [*CLI, "paste", "-", "--db", str(database), "--id-length", "4", "--self", b"\xff"],
        input=data,
        capture_output=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr.decode()  # was a UnicodeEncodeError traceback
    url = url_of(result)
    served = raw_from_store(database, url)
    assert served.startswith(b"I live at " + url.encode() + b", and only there\n")
    assert hashlib.md5(served).hexdigest().startswith(url.rsplit("/", 1)[1])


def test_a_self_token_not_in_the_input_is_named_even_when_not_utf8(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "paste", "-", "--db", str(tmp_path / "db"), "--self", b"tok\xfe"],
        input=b"no token here\n",
        capture_output=True,
        timeout=240,
    )
    assert result.returncode == 0
    assert b"warning: the input holds no tok\\xfe; it is pasted as it is" in result.stderr



# --- pinnwand: pasting again reuses the recorded copy --------------------------------------------


def test_pasting_the_same_input_to_pinnwand_again_prints_the_same_url(
    pinnwand_url: str, data_folder: Path
) -> None:
    data = b"the same text, pasted twice into pinnwand\n"
    first = paste("-", "--target", "pinnwand", "--to", pinnwand_url, data=data)
    again = paste("-", "--target", "pinnwand", "--to", pinnwand_url, "--json", data=data)
    report = json.loads(again.stdout)
    assert report["url"] == url_of(first) and report["already_pasted"] is True
    assert again.stdout.count(b"\n") == 1, "--json is one line"
    record = data_folder / "paste-records.json"
    assert oct(record.stat().st_mode & 0o777) == "0o600"
    assert url_of(first) in record.read_text()
    other = paste("-", "--target", "pinnwand", "--to", pinnwand_url, data=b"other text\n")
    assert url_of(other) != url_of(first)


@pytest.mark.parametrize(
    "damage", ["not-json", "wrong-shape", "fifo", "too-large"], ids=lambda damage: damage
)
def test_a_damaged_paste_record_is_a_warning_and_ignored(
    pinnwand_url: str, data_folder: Path, damage: str
) -> None:
    from md5steg.story.records import MAX_RECORDS_BYTES

    data_folder.mkdir(parents=True)
    record = data_folder / "paste-records.json"
    if damage == "not-json":
        record.write_bytes(b"\xff{")
    elif damage == "wrong-shape":
        record.write_text('{"version": 1, "pastes": {"k": []}}')
    elif damage == "fifo":
        os.mkfifo(record)
    else:
        with open(record, "wb") as handle:
            handle.truncate(MAX_RECORDS_BYTES + 1)
    result = paste("-", "--target", "pinnwand", "--to", pinnwand_url, data=b"after damage\n")
    warning = result.stderr.decode()
    assert warning.startswith("warning: ") and warning.count("\n") == 1
    assert "paste record" in warning and "ignored" in warning
    if damage == "fifo":
        assert stat.S_ISFIFO(record.stat().st_mode), "a FIFO is never written to nor replaced"
    else:
        assert url_of(result) in record.read_text(), "the record was replaced by a good one"


def test_a_record_that_cannot_be_written_is_a_warning_and_the_url_is_still_printed(
    pinnwand_url: str, data_folder: Path
) -> None:
    data_folder.parent.mkdir(parents=True)
    data_folder.write_bytes(b"a file where the folder should be\n")
    result = paste("-", "--target", "pinnwand", "--to", pinnwand_url, data=b"unrecorded\n")
    assert url_of(result).startswith(f"{pinnwand_url}/")
    warnings = result.stderr.decode().splitlines()
    assert all(line.startswith("warning: ") for line in warnings)
    assert warnings[-1].startswith("warning: cannot write the paste record")
    assert warnings[-1].endswith("pasting this input again will make a new copy")


def test_a_paste_whose_search_was_interrupted_says_it_resumes(tmp_path: Path) -> None:
    """publish and paste continue an interrupted suffix search from its record, and say so once."""
    from md5steg import Alphabet, Target, find
    from md5steg.content import Content
    from md5steg.layout import choose_layout
    from md5steg.resume import Coverage, Record

    data = b"a vanity paste, interrupted once\n"
    answer = find(data, "c0de", alphabet="ws2", resume=False)
    content, target = Content.from_bytes(data), Target.from_prefix("c0de")
    layout = choose_layout(content.length, Alphabet.named("ws2"), target)
    record = Record(content, layout, target)
    record.save(Coverage(layout.capacity, ((0, answer.nonce_index // 2),)))

    database = tmp_path / "db.sqlite3"
    result = paste("-", "--db", str(database), "--id-length", "4", "--vanity", "c0de", data=data)
    assert raw_from_store(database, url_of(result)) == answer.apply(data)
    notices = [line for line in result.stderr.decode().splitlines() if "resuming: " in line]
    assert len(notices) == 1 and "already searched" in notices[0]
    assert not record.path.exists()


# --- ids the operator removed --------------------------------------------------------------------


@pytest.mark.parametrize("where", ["store", "server"])
def test_pasting_content_whose_id_was_removed_says_it_was_removed(
    start_md5bin_server: Any, tmp_path: Path, where: str
) -> None:
    """`serve --remove` retires an id for good; the warning said it was 'taken by other content'."""
    data = b"taken down once\n"
    if where == "server":
        base_url, process = start_md5bin_server(tmp_path, id_length=4)
        database, target = process.md5bin_db_path, ["--to", base_url]
    else:
        database = tmp_path / "db.sqlite3"
        target = ["--db", str(database), "--id-length", "4"]
    first = url_of(paste(*target, "-j", "1", data=data))
    with Md5binStore(database) as store:
        assert store.remove(first.rsplit("/", 1)[1]) is not None
    again = paste(*target, "-j", "1", data=data)
    warnings = again.stderr.decode()
    assert f"id {first.rsplit('/', 1)[1]} was removed from the pastebin" in warnings, warnings
    assert "taken by other content" not in warnings
    moved = url_of(again)
    assert moved != first and raw_from_store(database, moved).startswith(data)


@pytest.mark.parametrize(
    "document",
    [
        '{"version": 1, "pastes": []}',
        '{"version": 1, "pastes": {"k": {"id": "a", "url": "u", "time": NaN}}}',
        '{"version": 1, "pastes": {"k": {"id": "a", "url": "u", "time": 1e999}}}',
    ],
    ids=["pastes a list", "time NaN", "time infinite"],
)
def test_a_paste_record_of_the_wrong_shape_is_a_warning(tmp_path: Path, document: str) -> None:
    """A list raised AttributeError (a traceback); NaN or infinity broke the newest-first order."""
    path = tmp_path / "paste-records.json"
    path.write_text(document)
    records, warning = PasteRecords.load(path)
    assert records.records == {} and warning is not None and "damaged" in warning
