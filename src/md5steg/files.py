"""Atomic file writes: readers see the old bytes or the new ones, never half a file.

Every path md5steg writes (``find -o``, ``hide -o``, ``reveal -o``, manifests,
records) goes through ``write_atomic`` or ``FileRewrite``, and both decide with
``destination_kind`` what may happen there: a regular file or a new path gets
a temp file renamed into place; a FIFO is opened and written into, never
replaced; a device, socket or folder is refused (``NotRegularFileError``)
before anything is opened or created. As root, ``-o /dev/null`` would
otherwise replace the system's ``/dev/null`` with a regular file.

Every temp file is created beside the file it will replace (a rename never
crosses file systems), named ``.md5steg-<pid>-<random>.tmp`` and held under an
``flock`` for as long as its writer lives. A run killed with SIGKILL leaves its
temp file behind; the next run that writes into the same folder removes it
(``remove_stale_temp_files``), and touches nothing else there.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Optional, Union

from .errors import Md5stegError

PathLike = Union[str, "os.PathLike[str]"]

CHUNK_SIZE = 1 << 20
"""Bytes read or copied at a time: memory stays this small whatever the file's size."""

Sink = Callable[[bytes], object]
"""Where a stream's chunks are copied as they are read (the spool)."""

TEMP_FILE_PATTERN = re.compile(r"\.md5steg-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.tmp")


class NotRegularFileError(Md5stegError):
    """A FIFO, device, socket or folder where md5steg must read or replace a regular file."""


NEW, REGULAR, FIFO = "new", "regular", "fifo"
"""What ``destination_kind`` finds at a path md5steg is about to write."""


def destination_kind(target: str) -> str:
    """NEW, REGULAR or FIFO for the (resolved) path ``target``; anything else is refused.

    A device, socket or folder is never replaced and never written: it raises
    ``NotRegularFileError`` naming the path and what it is.
    """
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return NEW
    if stat.S_ISREG(status.st_mode):
        return REGULAR
    if stat.S_ISFIFO(status.st_mode):
        return FIFO
    raise NotRegularFileError(
        f"{target} is {describe_file_type(status.st_mode)}; md5steg writes only regular files, "
        "new paths and FIFOs (nothing was written)"
    )


def resolve_destination(path: PathLike) -> str:
    """The real path md5steg writes for ``path``, refusing a path the kernel would not open as a file.

    ``os.path.realpath`` drops a trailing slash and folds ``file/..``, so
    ``-o keep.txt/`` would replace keep.txt and ``-o new/`` create a file
    named new. As ``cp`` does ("Not a directory"), a path ending in ``/``,
    ``/.`` or ``/..`` names a folder, and a path whose folder part is not a
    folder names nothing: both raise ``NotRegularFileError`` before anything
    is opened or created.
    """
    given = os.fspath(path)
    if given and os.path.basename(given) in ("", os.curdir, os.pardir) and not os.path.isdir(given):
        raise NotRegularFileError(
            f"{given}: Not a directory (a path ending in /, /. or /.. names a folder; nothing was written)"
        )
    parent = os.path.dirname(given)
    if parent:
        try:
            os.stat(parent)
        except NotADirectoryError:
            raise NotRegularFileError(f"{given}: Not a directory (nothing was written)") from None
        except OSError:
            pass  # a missing or unreadable folder is reported by the caller, as before
    return os.path.realpath(given)


def open_fifo_for_writing(target: str) -> int:
    """A descriptor open for writing on the FIFO at ``target``, waiting for its reader as a shell would.

    It is opened without following a symlink and checked with ``fstat``, so a
    path swapped for a device meanwhile is refused, not written.
    """
    flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(target, flags | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # ENXIO: a FIFO with no reader yet
            raise
        fd = os.open(target, flags)
    try:
        status = os.fstat(fd)
        if not stat.S_ISFIFO(status.st_mode):
            raise NotRegularFileError(
                f"{target} became {describe_file_type(status.st_mode)} while md5steg opened it; nothing was written"
            )
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def replace_file(temp_path: str, target: str) -> None:
    """Rename ``temp_path`` over ``target``, checking first that ``target`` is still a regular file or absent.

    The check narrows the window in which another program could put a device
    or folder there to the gap between one ``lstat`` and the rename.
    """
    with contextlib.suppress(FileNotFoundError):
        status = os.lstat(target)
        if not stat.S_ISREG(status.st_mode):
            raise NotRegularFileError(
                f"{target} became {describe_file_type(status.st_mode)} while md5steg worked; nothing was written"
            )
    os.replace(temp_path, target)


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
    the link stays and its target changes. A FIFO is written into, not
    replaced; a device, socket or folder raises ``NotRegularFileError`` and is
    not touched (see ``destination_kind``). On any failure the temp file is
    removed and ``path`` is untouched. Stale temp files of killed runs in the
    same folder are removed first.
    """
    write_atomic_group([(path, data)], mode)


def write_atomic_group(files: Sequence[tuple[PathLike, bytes]], mode: Optional[int] = None) -> None:
    """``write_atomic`` for files that belong together (``collide``'s pair): all or none.

    Every temp file is written, synced and given its owner and mode before the
    first rename, so a full disk, a refused path or Ctrl-C while writing leaves
    every path as it was. Only the renames themselves (metadata operations that
    do not need room for data) come after the point of no return.
    """
    staged: list[_StagedFile] = []
    try:
        for path, data in files:
            staged.append(_StagedFile.write(path, data, mode))
        for item in staged:
            item.commit()
    finally:
        for item in staged:
            item.discard()


@dataclass
class _StagedFile:
    """One file of a ``write_atomic_group``: its temp copy, written but not yet renamed into place."""

    target: str
    data: bytes
    temp: Optional[tuple[int, str]] = None
    """(descriptor, path) of the temp file; None for a FIFO, which is written into at commit."""

    @classmethod
    def write(cls, path: PathLike, data: bytes, mode: Optional[int]) -> _StagedFile:
        target = resolve_destination(path)
        if destination_kind(target) == FIFO:
            return cls(target, data)
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
        staged = cls(target, data, (fd, temp_path))
        try:
            write_all(fd, data)
            os.fsync(fd)
            if owner is not None:
                keep_owner(fd, *owner)
            os.fchmod(fd, mode)
        except BaseException:
            staged.discard()
            raise
        return staged

    def commit(self) -> None:
        """Rename the temp file into place (or write the FIFO)."""
        if self.temp is None:
            fifo = open_fifo_for_writing(self.target)
            try:
                write_all(fifo, self.data)
            finally:
                os.close(fifo)
            return
        fd, temp_path = self.temp
        replace_file(temp_path, self.target)
        self.temp = None
        os.close(fd)
        fsync_directory(os.path.dirname(self.target) or ".")

    def discard(self) -> None:
        """Remove the temp file if it was not renamed into place (safe to call twice)."""
        if self.temp is not None:
            discard_temp_file(*self.temp)
            self.temp = None


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (it may write only part)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def writable_directory_problem(path: PathLike) -> Optional[str]:
    """Why a file could not be created at ``path`` (missing or read-only folder), or None.

    Checked before any work starts. What is at ``path`` itself is checked too:
    a device, socket or folder raises ``NotRegularFileError`` (see
    ``destination_kind``), and so does a path with a trailing slash that names
    no folder (see ``resolve_destination``), so every command refuses it the
    same way (exit 1).
    """
    target = resolve_destination(path)
    directory = os.path.dirname(target) or "."
    if not os.path.exists(directory):
        return f"the folder {directory} does not exist"
    if not os.path.isdir(directory):
        return f"{directory} is not a folder"
    if destination_kind(target) == FIFO:
        return None  # written into: the folder need not be writable
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"the folder {directory} is not writable"
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
