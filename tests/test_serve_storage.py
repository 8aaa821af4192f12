"""``md5steg serve`` when its storage fails for real: deleted, corrupted, full.

The rule: a paste is acknowledged (201/200) only when it is on disk where a
restarted server finds it; otherwise 503 (507 for a full disk) with the reason,
and one log line per failed request, never a traceback.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from md5bin_server import (
    corrupt_table_pages,
    launch_md5bin_server,
    server_log,
    stop_md5bin_server,
)
from md5steg.md5bin import Md5binStore


def paste_id(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()[:6]


def assert_logged_once_without_traceback(log: str, reason: str, requests: int) -> None:
    assert "Traceback" not in log
    assert sum(reason in line for line in log.splitlines()) == requests


def test_a_database_deleted_while_serving_refuses_posts_with_503(tmp_path: Path) -> None:
    db_path = tmp_path / "deleted.sqlite3"
    base_url, process = launch_md5bin_server(tmp_path, 6, db_path=db_path)
    try:
        before = b"stored while the file existed\n"
        assert httpx.post(f"{base_url}/", content=before, timeout=30).status_code == 201
        for leftover in tmp_path.glob("deleted.sqlite3*"):
            leftover.unlink()
        lost = b"posted after the file was deleted\n"
        response = httpx.post(f"{base_url}/", content=lost, timeout=30)
        again = httpx.post(f"{base_url}/", content=before, timeout=30)
    finally:
        stop_md5bin_server(process)
    assert response.status_code == 503
    assert "deleted or replaced" in response.text
    assert again.status_code == 503  # not "already here": that copy went with the file
    assert_logged_once_without_traceback(server_log(process), "deleted or replaced", 2)
    with Md5binStore(db_path) as restarted:
        assert restarted.get(paste_id(lost)) is None


def test_corrupted_pages_answer_503_and_log_one_line(tmp_path: Path) -> None:
    db_path = tmp_path / "corrupt.sqlite3"
    with Md5binStore(db_path) as store:
        for number in range(50):
            store.put(f"filler paste {number}\n".encode() * 20)
    corrupt_table_pages(db_path)
    base_url, process = launch_md5bin_server(tmp_path, 6, db_path=db_path)
    try:
        posted = httpx.post(f"{base_url}/", content=b"into a broken table\n", timeout=30)
        filler_id = paste_id(b"filler paste 0\n" * 20)
        read = httpx.get(f"{base_url}/raw/{filler_id}", timeout=30)
    finally:
        stop_md5bin_server(process)
    assert posted.status_code == 503
    assert posted.text.startswith("not stored: ")
    assert "malformed" in posted.text
    assert read.status_code == 503
    assert_logged_once_without_traceback(server_log(process), "malformed", 2)


def post_until_refused(base_url: str) -> tuple[list[bytes], httpx.Response]:
    """Post new pastes until one is not acknowledged; the acknowledged ones and that answer."""
    acknowledged: list[bytes] = []
    with httpx.Client(timeout=30) as client:
        for number in range(2000):
            content = f"{number} ".encode() + bytes(range(32, 127)) * 20
            response = client.post(f"{base_url}/", content=content)
            if response.status_code != 201:
                return acknowledged, response
            acknowledged.append(content)
    raise AssertionError("2000 pastes fitted: the storage never failed")


def assert_all_kept(db_path: Path, acknowledged: list[bytes]) -> None:
    assert acknowledged, "the storage failed before the first paste"
    with Md5binStore(db_path) as restarted:
        for content in acknowledged:
            stored = restarted.get(paste_id(content))
            assert stored is not None and stored.content == content


def test_a_full_disk_answers_507_and_never_acknowledges_a_lost_paste(
    tmp_path: Path, small_filesystem: Path
) -> None:
    db_path = small_filesystem / "full.sqlite3"
    base_url, process = launch_md5bin_server(tmp_path, 6, db_path=db_path)
    try:
        acknowledged, refused = post_until_refused(base_url)
    finally:
        stop_md5bin_server(process)
    assert refused.status_code == 507
    assert "disk is full" in refused.text
    assert_logged_once_without_traceback(server_log(process), "disk is full", 1)
    assert_all_kept(db_path, acknowledged)


def test_a_file_size_limit_answers_503_and_never_acknowledges_a_lost_paste(
    tmp_path: Path,
) -> None:
    # Needs no root: the same fault as a full quota, from RLIMIT_FSIZE on the server.
    db_path = tmp_path / "limited.sqlite3"
    base_url, process = launch_md5bin_server(
        tmp_path, 6, db_path=db_path, file_size_limit=256 * 1024
    )
    try:
        acknowledged, refused = post_until_refused(base_url)
    finally:
        stop_md5bin_server(process)
    assert refused.status_code == 503
    assert refused.text.startswith("not stored: ")
    assert "disk I/O error" in refused.text
    assert_logged_once_without_traceback(server_log(process), "disk I/O error", 1)
    assert_all_kept(db_path, acknowledged)
