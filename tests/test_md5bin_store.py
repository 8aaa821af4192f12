"""The md5bin store: ids are MD5 prefixes, one row per content, safe under concurrency."""

from __future__ import annotations

import hashlib
import itertools
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from md5bin_server import corrupt_table_pages
from md5steg.errors import Md5stegError
from md5steg.md5bin import (
    DEFAULT_MAX_SIZE,
    EmptyPasteError,
    IdLengthMismatchError,
    IdRemovedError,
    IdTakenError,
    InvalidIdLengthError,
    Md5binError,
    Md5binStore,
    PasteTooLargeError,
    StorageError,
    StorageFullError,
    StorageLostError,
    StoreBusyError,
    default_db_path,
)


@pytest.fixture
def store(tmp_path: Path):
    with Md5binStore(tmp_path / "md5bin.sqlite3") as opened:
        yield opened


def colliding_contents(id_length: int) -> tuple[bytes, bytes]:
    """Two different small texts whose MD5s share their first ``id_length`` hex digits."""
    seen: dict[str, bytes] = {}
    for number in itertools.count():
        content = f"collision candidate {number}\n".encode()
        prefix = hashlib.md5(content).hexdigest()[:id_length]
        if prefix in seen:
            return seen[prefix], content
        seen[prefix] = content
    raise AssertionError("unreachable")


def row_count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT COUNT(*) FROM pastes").fetchone()[0]


def test_paste_id_is_the_md5_prefix_of_the_exact_bytes(store: Md5binStore) -> None:
    content = b"Once upon a time \t\x0b\x0c\n"
    assert store.id_length == 6
    result = store.put(content)
    assert result.paste_id == hashlib.md5(content).hexdigest()[:6]
    assert result.md5 == hashlib.md5(content).hexdigest()
    assert result.created is True


def test_get_returns_exact_bytes_and_metadata(store: Md5binStore) -> None:
    content = "line one\r\nzero\u200bwidth \x0b\x0c  \n".encode()
    result = store.put(content)
    paste = store.get(result.paste_id)
    assert paste is not None
    assert paste.content == content
    assert paste.md5 == result.md5
    assert paste.size == len(content)
    assert paste.paste_id == result.paste_id
    assert isinstance(paste.created, float) and paste.created > 0


def test_same_content_again_adds_no_row(tmp_path: Path) -> None:
    path = tmp_path / "md5bin.sqlite3"
    with Md5binStore(path) as store:
        first = store.put(b"chapter one\n")
        second = store.put(b"chapter one\n")
        assert first.created is True
        assert second.created is False
        assert second.paste_id == first.paste_id
        assert store.count() == 1
    assert row_count(path) == 1


def test_different_content_with_a_taken_id_raises_id_taken(tmp_path: Path) -> None:
    first, second = colliding_contents(4)
    with Md5binStore(tmp_path / "short.sqlite3", id_length=4) as store:
        taken = store.put(first)
        with pytest.raises(IdTakenError) as caught:
            store.put(second)
        assert caught.value.paste_id == taken.paste_id
        assert taken.paste_id in str(caught.value)
        assert isinstance(caught.value, Md5binError)
        assert isinstance(caught.value, Md5stegError)
        assert store.get(taken.paste_id).content == first
        assert store.count() == 1


def test_is_taken_reports_used_ids_only(store: Md5binStore) -> None:
    result = store.put(b"taken\n")
    assert store.is_taken(result.paste_id)
    free = "000000" if result.paste_id != "000000" else "ffffff"
    assert not store.is_taken(free)
    assert not store.is_taken("not-hex")


@pytest.mark.parametrize(
    "content",
    [b"", b" ", b"\n\n", b" \t\n\r\x0b\x0c", "\u200b\u200c\u200d\u2060\ufeff \n".encode()],
    ids=["empty", "space", "newlines", "ascii-whitespace", "zero-width"],
)
def test_blank_content_is_refused(store: Md5binStore, content: bytes) -> None:
    with pytest.raises(EmptyPasteError):
        store.put(content)
    assert store.count() == 0


def test_content_over_max_size_is_refused(tmp_path: Path) -> None:
    with Md5binStore(tmp_path / "small.sqlite3", max_size=10) as store:
        assert store.put(b"x" * 10).created is True
        with pytest.raises(PasteTooLargeError) as caught:
            store.put(b"y" * 11)
        assert caught.value.size == 11 and caught.value.max_size == 10
        assert store.count() == 1


def test_default_max_size_is_one_mebibyte(store: Md5binStore) -> None:
    assert store.max_size == DEFAULT_MAX_SIZE == 1048576
    assert store.put(b"a" * DEFAULT_MAX_SIZE).created is True
    with pytest.raises(PasteTooLargeError):
        store.put(b"b" * (DEFAULT_MAX_SIZE + 1))


def test_get_unknown_or_malformed_id_returns_none(store: Md5binStore) -> None:
    store.put(b"something\n")
    for paste_id in ["000000", "ABCDEF", "abc", "abcdefa", "../etc", "zzzzzz", ""]:
        if store.is_taken(paste_id):
            continue
        assert store.get(paste_id) is None


def test_id_length_is_recorded_at_creation(tmp_path: Path) -> None:
    path = tmp_path / "eight.sqlite3"
    with Md5binStore(path, id_length=8) as store:
        assert store.id_length == 8
        store.put(b"eight\n")
    with Md5binStore(path) as reopened:
        assert reopened.id_length == 8
        assert reopened.get(hashlib.md5(b"eight\n").hexdigest()[:8]).content == b"eight\n"
    with Md5binStore(path, id_length=8) as same:
        assert same.id_length == 8


def test_opening_with_a_different_id_length_raises(tmp_path: Path) -> None:
    path = tmp_path / "six.sqlite3"
    Md5binStore(path).close()
    with pytest.raises(IdLengthMismatchError, match="created with 6-character ids, not 8"):
        Md5binStore(path, id_length=8)
    assert issubclass(IdLengthMismatchError, Md5binError)


@pytest.mark.parametrize("id_length", [3, 33, 0, -1])
def test_id_length_out_of_range_is_refused(tmp_path: Path, id_length: int) -> None:
    with pytest.raises(InvalidIdLengthError, match="4..32"):
        Md5binStore(tmp_path / "bad.sqlite3", id_length=id_length)


def test_store_uses_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite3"
    with Md5binStore(path) as store:
        assert store.journal_mode() == "wal"
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_parent_folders_are_created_on_open(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "md5bin.sqlite3"
    with Md5binStore(path) as store:
        store.put(b"deep\n")
    assert path.exists()


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(Md5binError, match="md5bin database .*not a database"):
        Md5binStore(path)


def test_default_db_path_prefers_md5steg_db(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MD5STEG_DB", str(tmp_path / "chosen.sqlite3"))
    assert default_db_path() == tmp_path / "chosen.sqlite3"


def test_default_db_path_follows_xdg_data_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MD5STEG_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "md5steg" / "md5bin.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_db_path() == Path.home() / ".local" / "share" / "md5steg" / "md5bin.sqlite3"


def test_concurrent_puts_from_threads_leave_one_row(store: Md5binStore) -> None:
    content = b"the same chapter, posted by everyone\n"
    results = []
    barrier = threading.Barrier(8)

    def post() -> None:
        barrier.wait()
        results.append(store.put(content))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(result.created for result in results) == [False] * 7 + [True]
    assert store.count() == 1


def _put_from_process(
    path: str, content: bytes, start: multiprocessing.synchronize.Event, queue
) -> None:
    start.wait()
    with Md5binStore(path) as store:
        result = store.put(content)
    queue.put(result.created)


def test_concurrent_puts_from_processes_leave_one_row(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    content = b"posted by six processes at once\n"
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    queue = context.Queue()
    processes = [
        context.Process(target=_put_from_process, args=(str(path), content, start, queue))
        for _ in range(6)
    ]
    for process in processes:
        process.start()
    start.set()
    created = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert sorted(created) == [False] * 5 + [True]
    assert row_count(path) == 1


# --- storage that fails: one clear error, and nothing acknowledged that is not on disk -------


def test_a_locked_store_is_a_busy_error_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    with Md5binStore(path, busy_timeout=0.2) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreBusyError, match="locked by another process"):
                store.put(b"waits for the lock\n")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.put(b"waits for the lock\n").created


@pytest.mark.parametrize("replace", [False, True], ids=["deleted", "replaced"])
def test_a_deleted_or_replaced_database_refuses_puts(tmp_path: Path, replace: bool) -> None:
    path = tmp_path / "gone.sqlite3"
    with Md5binStore(path) as store:
        store.put(b"stored before\n")
        for leftover in tmp_path.glob("gone.sqlite3*"):
            leftover.unlink()
        if replace:
            Md5binStore(path).close()
        with pytest.raises(StorageLostError, match="deleted or replaced"):
            store.put(b"would be lost\n")
        with pytest.raises(StorageLostError):
            store.put(b"stored before\n")  # not "already here": that copy is gone too


def test_corrupted_pages_are_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.sqlite3"
    with Md5binStore(path) as store:
        for number in range(50):
            store.put(f"filler paste {number}\n".encode() * 20)
    corrupt_table_pages(path)
    with Md5binStore(path) as store:
        with pytest.raises(StorageError, match="malformed"):
            store.put(b"into a broken table\n")
        with pytest.raises(StorageError, match="malformed"):
            store.get(hashlib.md5(b"filler paste 0\n" * 20).hexdigest()[:6])


def test_a_full_disk_is_a_storage_full_error(small_filesystem: Path) -> None:
    with Md5binStore(small_filesystem / "full.sqlite3") as store:
        stored = []
        with pytest.raises(StorageFullError, match="disk is full"):
            for number in range(10_000):
                content = f"{number} ".encode() + bytes(range(256)) * 8
                store.put(content)
                stored.append(content)
        assert stored, "the disk filled before the first paste"
    with Md5binStore(small_filesystem / "full.sqlite3") as reopened:
        for content in stored:
            assert reopened.get(hashlib.md5(content).hexdigest()[:6]) is not None


@pytest.mark.parametrize("max_size", [0, -1, True, 1.5])
def test_max_size_must_be_a_positive_integer(tmp_path: Path, max_size: object) -> None:
    with pytest.raises(Md5binError, match="max_size must be a positive number of bytes"):
        Md5binStore(tmp_path / "db.sqlite3", max_size=max_size)  # type: ignore[arg-type]
    assert not (tmp_path / "db.sqlite3").exists()


def test_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("in the way\n")
    with pytest.raises(Md5binError, match="cannot create the folder .*a-file"):
        Md5binStore(tmp_path / "a-file" / "db.sqlite3")


def test_a_database_path_that_is_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "folder.sqlite3").mkdir()
    with pytest.raises(Md5binError, match="folder.sqlite3 is a folder, not a regular file"):
        Md5binStore(tmp_path / "folder.sqlite3")


def test_an_in_memory_store_reads_what_it_wrote() -> None:
    with Md5binStore(":memory:") as store:
        result = store.put(b"kept in memory\n")
        assert store.get(result.paste_id).content == b"kept in memory\n"
        assert store.is_taken(result.paste_id)


def test_a_removed_paste_is_gone_and_its_id_retired(store: Md5binStore) -> None:
    content = b"take me down\n"
    paste_id = store.put(content).paste_id
    removed = store.remove(paste_id)
    assert removed is not None and removed.content == content
    assert store.get(paste_id) is None and store.is_removed(paste_id)
    assert store.is_taken(paste_id), "a retired id must not look free to the publisher"
    with pytest.raises(IdRemovedError, match=f"paste id {paste_id} was removed"):
        store.put(content)
    assert isinstance(IdRemovedError(paste_id), IdTakenError)  # publish moves the page
    assert store.count() == 0


def test_removing_a_malformed_id_is_an_error(store: Md5binStore) -> None:
    with pytest.raises(Md5binError, match="not a paste id of this md5bin"):
        store.remove("zz")


def test_a_fifo_as_the_database_is_refused_and_nothing_created_beside_it(tmp_path: Path) -> None:
    # Not /dev/null itself: the old code created /dev/null-journal beside it.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(Md5binError, match="fifo is a FIFO, not a regular file"):
        Md5binStore(fifo)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fifo"]
