"""Atomic file writes: readers see the old bytes or the new ones, never half a file.

Every temp file is created beside the file it will replace (a rename never
crosses file systems), named ``.md5steg-<pid>-<random>.tmp`` and held under an
``flock`` for as long as its writer lives. A run killed with SIGKILL leaves its
temp file behind; the next run that writes into the same folder removes it
(``remove_stale_temp_files``), and touches nothing else there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]

CHUNK_SIZE = 1 << 20
"""Bytes read or copied at a time: memory stays this small whatever the file's size."""

Sink = Callable[[bytes], object]
"""Where a stream's chunks are copied as they are read (the spool)."""

TEMP_FILE_PATTERN = re.compile(r"\.md5steg-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.tmp")


def default_mode() -> int:
    """The permission bits a new file gets under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def create_temp_file(directory: str) -> tuple[int, str]:
    """A new, locked ``.md5steg-<pid>-<random>.tmp`` in ``directory``: (descriptor, path).

    The lock is what tells a later run that the file still has an owner; the
    pid in the name only lets it skip the lock test for living processes.
    """
    fd, temp_path = tempfile.mkstemp(prefix=f".md5steg-{os.getpid()}-", suffix=".tmp", dir=directory)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise
    return fd, temp_path


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_if_unowned(path: str) -> bool:
    """Remove ``path`` if no process holds its lock; True when removed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            return False
        if opened.st_uid != os.geteuid() and os.geteuid() != 0:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        current = os.lstat(path)
        if (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
            return False
        os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def remove_stale_temp_files(directory: str) -> list[str]:
    """Delete md5steg temp files in ``directory`` whose writer is gone; return their names.

    Only names of our own pattern are considered, only when the pid in the name
    is not running and nobody holds the file's lock, and only files we own.
    """
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        found = TEMP_FILE_PATTERN.fullmatch(name)
        if found is None or _process_alive(int(found["pid"])):
            continue
        if _remove_if_unowned(os.path.join(directory, name)):
            removed.append(name)
    return removed


def keep_owner(fd: int, uid: int, gid: int) -> None:
    """Give the open file ``fd`` this owner and group, as far as we are allowed.

    Root keeps both; another user keeps at least the group where it is one of
    theirs, and otherwise the new file is theirs (as with ``sed -i``).
    """
    if (uid, gid) == (os.geteuid(), os.getegid()):
        return
    try:
        os.fchown(fd, uid, gid)
    except PermissionError:
        with contextlib.suppress(PermissionError):
            os.fchown(fd, -1, gid)


def fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        directory_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)


def discard_temp_file(fd: int, temp_path: str) -> None:
    """Close and remove a temp file that will not be renamed into place."""
    with contextlib.suppress(OSError):
        os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(temp_path)


def write_atomic(path: PathLike, data: bytes, mode: Optional[int] = None) -> None:
    """Replace ``path`` with ``data`` via a temp file in the same folder, fsync and rename.

    The file's owner, group (where allowed) and permission bits are kept (or
    ``mode``, or the umask default for a new file). A symlink is followed, so
    the link stays and its target changes. On any failure the temp file is
    removed and ``path`` is untouched. Stale temp files of killed runs in the
    same folder are removed first.
    """
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(target) or "."
    owner: Optional[tuple[int, int]] = None
    try:
        existing = os.stat(target)
        owner = (existing.st_uid, existing.st_gid)
        mode = stat.S_IMODE(existing.st_mode) if mode is None else mode
    except FileNotFoundError:
        mode = default_mode() if mode is None else mode
    remove_stale_temp_files(directory)
    fd, temp_path = create_temp_file(directory)
    try:
        write_all(fd, data)
        os.fsync(fd)
        if owner is not None:
            keep_owner(fd, *owner)
        os.fchmod(fd, mode)
        os.replace(temp_path, target)
    except BaseException:
        discard_temp_file(fd, temp_path)
        raise
    os.close(fd)
    fsync_directory(directory)


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (it may write only part)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def writable_directory_problem(path: PathLike) -> Optional[str]:
    """Why a file could not be created at ``path`` (missing or read-only folder), or None."""
    directory = os.path.dirname(os.path.realpath(os.fspath(path))) or "."
    if not os.path.exists(directory):
        return f"the folder {directory} does not exist"
    if not os.path.isdir(directory):
        return f"{directory} is not a folder"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"the folder {directory} is not writable"
    if os.path.isdir(os.fspath(path)):
        return f"{os.fspath(path)} is a folder"
    return None


def read_content(stream: BinaryIO, sink: Optional[Sink] = None) -> bytes:
    """Read ``stream`` to its end, handing every chunk to ``sink`` as well (the spool).

    What ``FileRewrite.read_bytes`` reads with; ``FileRewrite.read`` streams the
    same way through ``md5steg.content.Content.from_stream`` instead.
    """
    if sink is None:
        return stream.read()
    chunks: list[bytes] = []
    while True:
        chunk = stream.read(CHUNK_SIZE)
        if not chunk:
            return b"".join(chunks)
        sink(chunk)
        chunks.append(chunk)


class PrefixReader:
    """The first ``length`` bytes of a file descriptor as a stream (``os.pread``: no shared offset)."""

    def __init__(self, fd: int, length: int) -> None:
        self._fd, self._length, self._offset = fd, length, 0

    def read(self, size: int = -1) -> bytes:
        left = self._length - self._offset
        chunk = os.pread(self._fd, left if size < 0 else min(size, left), self._offset) if left > 0 else b""
        self._offset += len(chunk)
        return chunk


def describe_file_type(mode: int) -> str:
    """'a FIFO', 'a character device', ... for a non-regular file."""
    kinds = [
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symlink"),
    ]
    return next((kind for test, kind in kinds if test(mode)), "not a regular file")


@dataclass(frozen=True)
class FileIdentity:
    """What must not change between reading a file and renaming over it."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileIdentity:
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
