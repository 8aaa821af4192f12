"""The md5bin store: pastes in SQLite, each filed under a prefix of its own MD5.

A paste's id is the first ``id_length`` hex digits of the MD5 of its exact bytes,
so the publisher can predict every URL before posting and ``md5steg find`` can
choose ids. The id length is fixed when a store is created (it is part of every
URL ever handed out) and recorded in a ``meta`` table.

Concurrency: SQLite in WAL mode with a busy timeout; ``put`` is a single
``INSERT OR IGNORE`` on the primary key, so any number of threads or processes
posting the same text leave exactly one row. Rows are never changed; the
operator may ``remove`` one (``md5steg serve --remove ID``), and its id is then
recorded in ``removed`` and never given to other content: a URL once handed
out never shows something else (the server answers 410 Gone).

Durability: every commit is synced (``synchronous = FULL``), and ``put``
checks that the file it writes is still the one at ``path`` (not deleted or
replaced) before and after writing, so a paste is acknowledged only once it
is on disk where a restarted server will find it. SQLite failures become
``StorageError`` subclasses with one-line messages.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Optional, Union

import platformdirs

from ..addresses import md5_hex
from ..files import describe_file_type
from .errors import (
    EmptyPasteError,
    IdLengthMismatchError,
    IdRemovedError,
    IdTakenError,
    InvalidIdLengthError,
    Md5binError,
    PasteTooLargeError,
    StorageError,
    StorageFullError,
    StorageLostError,
    StoreBusyError,
)

DEFAULT_ID_LENGTH = 6
MIN_ID_LENGTH = 4
MAX_ID_LENGTH = 32
DEFAULT_MAX_SIZE = 1024 * 1024
BUSY_TIMEOUT_SECONDS = 30.0

# Characters that show nothing: a paste made only of these (and whitespace) is
# blank to a reader, e.g. a bare md5steg suffix in the ``zw`` alphabet.
INVISIBLE_CHARACTERS = frozenset("\u200b\u200c\u200d\u2060\ufeff")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pastes (
    id TEXT PRIMARY KEY,
    md5 TEXT NOT NULL,
    content BLOB NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS removed (
    id TEXT PRIMARY KEY,
    removed REAL NOT NULL
);
"""

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class PutResult:
    """What ``put`` did: the paste's id, whether a row was added, the full MD5."""

    paste_id: str
    created: bool
    md5: str


@dataclass(frozen=True)
class Paste:
    """One stored paste; ``created`` is a Unix time in seconds."""

    paste_id: str
    content: bytes
    md5: str
    size: int
    created: float


def default_db_path() -> Path:
    """Where ``md5steg serve`` keeps pastes: $MD5STEG_DB, else the user's data folder.

    The folder is platformdirs' (``~/.local/share/md5steg`` on Linux, or
    ``$XDG_DATA_HOME/md5steg``; ``~/Library/Application Support/md5steg`` on
    macOS; ``%LOCALAPPDATA%\\md5steg`` on Windows).
    """
    override = os.environ.get("MD5STEG_DB")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("md5steg", appauthor=False)) / "md5bin.sqlite3"


def validate_id_length(id_length: int) -> int:
    """Check an id length is 4..32 (shorter ids collide, MD5 has only 32 hex digits)."""
    if isinstance(id_length, bool) or not isinstance(id_length, int):
        raise InvalidIdLengthError(f"id length must be an integer, not {id_length!r}")
    if not MIN_ID_LENGTH <= id_length <= MAX_ID_LENGTH:
        raise InvalidIdLengthError(
            f"id length {id_length} is out of range; "
            f"choose {MIN_ID_LENGTH}..{MAX_ID_LENGTH} hex digits"
        )
    return id_length


def is_blank(content: bytes) -> bool:
    """True when ``content`` would show nothing: empty, whitespace or zero-width characters."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return not content.strip()
    return all(char.isspace() or char in INVISIBLE_CHARACTERS for char in text)


class Md5binStore:
    """Pastes addressed by MD5 prefix, in one SQLite file shared safely between processes."""

    def __init__(
        self,
        path: PathLike,
        id_length: Optional[int] = None,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        if id_length is not None:
            validate_id_length(id_length)
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise Md5binError(f"max_size must be a positive number of bytes, not {max_size!r}")
        self.max_size = max_size
        self.path = (
            Path(os.fspath(path)).expanduser()
            if os.fspath(path) != ":memory:"
            else Path(":memory:")
        )
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._connection = self._connect()
        # Reads get their own connection: in WAL mode they never wait for a writer's
        # lock or fsync, so the server can run them on its event loop.
        self._read_lock, self._reader = self._lock, self._connection
        try:
            self._id_length = self._initialise(id_length)
            self._identity = self._file_identity()
            if self._identity is not None:
                self._read_lock, self._reader = threading.Lock(), self._connect()
        except BaseException:
            self._connection.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        if str(self.path) != ":memory:":
            self._check_regular_file()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise Md5binError(
                    f"cannot create the folder {self.path.parent} for the md5bin database: "
                    f"{exc.strerror}; choose another path with --db or MD5STEG_DB"
                ) from None
        try:
            connection = sqlite3.connect(
                str(self.path),
                timeout=self._busy_timeout,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,  # shared by threads, serialised by self._lock
            )
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            connection.execute("PRAGMA journal_mode = WAL")
            # FULL syncs the WAL at every commit: an acknowledged paste survives power loss.
            connection.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise Md5binError(
                f"cannot open the md5bin database {self.path}: {exc}; "
                f"check the path (--db or MD5STEG_DB) and its permissions"
            ) from None
        return connection

    def _check_regular_file(self) -> None:
        """Refuse a FIFO, a device or a folder at ``path``: SQLite would fail on it, and first
        create ``PATH-journal`` beside it (``/dev/null-journal``)."""
        try:
            mode = os.stat(self.path).st_mode
        except (FileNotFoundError, NotADirectoryError):  # created later, or mkdir says why not
            return
        except OSError as exc:
            raise Md5binError(f"cannot open the md5bin database {self.path}: {exc.strerror}") from None
        if not stat.S_ISREG(mode):
            raise Md5binError(
                f"{self.path} is {describe_file_type(mode)}, not a regular file; point --db or "
                f"MD5STEG_DB at a new file"
            )

    def _initialise(self, requested_id_length: Optional[int]) -> int:
        """Create the tables and record the id length, or check it against the recorded one."""
        try:
            with self._lock:
                self._connection.executescript(_SCHEMA)
                self._connection.execute("BEGIN IMMEDIATE")
                try:
                    self._connection.execute(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES ('id_length', ?)",
                        (str(requested_id_length or DEFAULT_ID_LENGTH),),
                    )
                    row = self._connection.execute(
                        "SELECT value FROM meta WHERE key = 'id_length'"
                    ).fetchone()
                    self._connection.execute("COMMIT")
                except BaseException:
                    self._connection.execute("ROLLBACK")
                    raise
        except sqlite3.DatabaseError as exc:
            raise Md5binError(
                f"{self.path} is not a usable md5bin database ({exc}); "
                f"point --db or MD5STEG_DB at a new file"
            ) from None
        stored_id_length = int(row[0])
        if requested_id_length is not None and requested_id_length != stored_id_length:
            raise IdLengthMismatchError(
                f"the md5bin database {self.path} was created with "
                f"{stored_id_length}-character ids, "
                f"not {requested_id_length}; leave out the id length to use {stored_id_length}, "
                f"or use a new database file for {requested_id_length}-character ids"
            )
        return stored_id_length

    @property
    def id_length(self) -> int:
        """How many MD5 hex digits make an id; fixed when the store was created."""
        return self._id_length

    def _file_identity(self) -> Optional[tuple[int, int]]:
        """(device, inode) of the database file, or None for an in-memory store."""
        if str(self.path) == ":memory:":
            return None
        status = os.stat(self.path)
        return (status.st_dev, status.st_ino)

    def _check_file(self) -> None:
        """Raise ``StorageLostError`` unless ``path`` is still the file this store opened."""
        if self._identity is None:
            return
        try:
            current: Optional[tuple[int, int]] = self._file_identity()
        except OSError:
            current = None
        if current != self._identity:
            raise StorageLostError(
                f"the md5bin database {self.path} was deleted or replaced while in use, "
                f"so nothing can be stored durably; restore the file and restart the server"
            )

    def is_valid_id(self, paste_id: str) -> bool:
        """True when ``paste_id`` is lowercase hex of exactly this store's id length."""
        return (
            isinstance(paste_id, str)
            and len(paste_id) == self._id_length
            and all(char in "0123456789abcdef" for char in paste_id)
        )

    def check(self, content: bytes) -> None:
        """Raise ``EmptyPasteError`` or ``PasteTooLargeError`` where ``put`` would refuse."""
        if len(content) > self.max_size:
            raise PasteTooLargeError(len(content), self.max_size)
        if is_blank(content):
            raise EmptyPasteError(
                "the paste is empty or holds only whitespace; there is nothing to publish"
            )

    @contextlib.contextmanager
    def _guarded(self, lock: threading.Lock) -> Iterator[None]:
        """Hold a connection's lock; SQLite failures become one clear ``StorageError``."""
        with lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise storage_error(self.path, exc) from None

    def put(self, content: bytes) -> PutResult:
        """Store ``content`` under its MD5-prefix id; the same bytes again add no row."""
        content = bytes(content)
        self.check(content)
        digest = md5_hex(content)
        paste_id = digest[: self._id_length]
        with self._guarded(self._lock):
            self._check_file()
            # One statement, so a concurrent ``remove`` cannot slip between check and insert.
            cursor = self._connection.execute(
                "INSERT OR IGNORE INTO pastes (id, md5, content, size, created) "
                "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM removed WHERE id = ?)",
                (paste_id, digest, sqlite3.Binary(content), len(content), time.time(), paste_id),
            )
            self._check_file()
            if cursor.rowcount == 1:
                return PutResult(paste_id=paste_id, created=True, md5=digest)
            row = self._connection.execute(
                "SELECT md5, content FROM pastes WHERE id = ?", (paste_id,)
            ).fetchone()
        if row is not None and row[0] == digest and bytes(row[1]) == content:
            return PutResult(paste_id=paste_id, created=False, md5=digest)
        if row is None:
            raise IdRemovedError(paste_id)
        raise IdTakenError(paste_id)

    def remove(self, paste_id: str) -> Optional[Paste]:
        """Delete the paste at ``paste_id`` and retire the id for good; returns what was removed.

        None when the id held nothing (it is retired all the same, so nothing
        can take it later; ``md5steg serve --remove`` refuses such an id
        first). The bytes are overwritten on disk too
        (``secure_delete``): a removal is usually for content that must go.
        """
        if not self.is_valid_id(paste_id):
            raise Md5binError(
                f"{paste_id!r} is not a paste id of this md5bin; ids are {self._id_length} "
                f"lowercase hex digits"
            )
        paste = self.get(paste_id)
        with self._guarded(self._lock):
            self._check_file()
            self._connection.execute("PRAGMA secure_delete = ON")
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                self._connection.execute("DELETE FROM pastes WHERE id = ?", (paste_id,))
                self._connection.execute(
                    "INSERT OR IGNORE INTO removed (id, removed) VALUES (?, ?)",
                    (paste_id, time.time()),
                )
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
        return paste

    def is_removed(self, paste_id: str) -> bool:
        """True when the operator removed ``paste_id``: it answers 410 and takes no new paste."""
        if not self.is_valid_id(paste_id):
            return False
        with self._guarded(self._read_lock):
            row = self._reader.execute("SELECT 1 FROM removed WHERE id = ?", (paste_id,)).fetchone()
        return row is not None

    def get(self, paste_id: str) -> Optional[Paste]:
        """The paste filed under ``paste_id``, or None (also for a malformed id)."""
        if not self.is_valid_id(paste_id):
            return None
        with self._guarded(self._read_lock):
            row = self._reader.execute(
                "SELECT id, content, md5, size, created FROM pastes WHERE id = ?", (paste_id,)
            ).fetchone()
        if row is None:
            return None
        return Paste(
            paste_id=row[0], content=bytes(row[1]), md5=row[2], size=row[3], created=row[4]
        )

    def is_taken(self, paste_id: str) -> bool:
        """True when some paste holds ``paste_id``, or held it and was removed."""
        if not self.is_valid_id(paste_id):
            return False
        with self._guarded(self._read_lock):
            row = self._reader.execute(
                "SELECT 1 FROM pastes WHERE id = ? UNION ALL SELECT 1 FROM removed WHERE id = ?",
                (paste_id, paste_id),
            ).fetchone()
        return row is not None

    def count(self) -> int:
        """How many pastes the store holds."""
        with self._guarded(self._lock):
            (total,) = self._connection.execute("SELECT COUNT(*) FROM pastes").fetchone()
        return int(total)

    def journal_mode(self) -> str:
        """SQLite's journal mode for this file (``wal`` unless the filesystem refuses it)."""
        with self._guarded(self._lock):
            (mode,) = self._connection.execute("PRAGMA journal_mode").fetchone()
        return str(mode).lower()

    def close(self) -> None:
        """Close the database connections; the store is unusable afterwards."""
        with self._read_lock:
            self._reader.close()
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Md5binStore:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Md5binStore({str(self.path)!r}, id_length={self._id_length})"


def storage_error(path: Path, exc: sqlite3.Error) -> StorageError:
    """The ``StorageError`` for an SQLite failure on ``path``: busy, full, or broken."""
    name = getattr(exc, "sqlite_errorname", "")  # Python 3.11+; the message otherwise
    message = str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in message:
        return StoreBusyError(f"the md5bin database {path} is locked by another process; try again")
    if name == "SQLITE_FULL" or "disk is full" in message:
        return StorageFullError(
            f"the md5bin database {path} cannot grow: the disk is full ({message}); free some space"
        )
    return StorageError(
        f"the md5bin database {path} failed ({message}); "
        f"check the disk and the file, e.g. sqlite3 {path} 'PRAGMA integrity_check'"
    )
