"""Rewrite a user's file with a suffix appended, or write the result elsewhere: ``FileRewrite``.

This is the library side of ``md5steg find`` (and of any command that appends
to a file). What it promises, after git's ``index.lock`` and coreutils' care:

- Only a regular file is rewritten in place. A FIFO, device, socket or folder
  is refused before it is opened for anything that could block or change it.
  Written elsewhere (``destination``), a FIFO or a block device may still be
  read. A destination is what ``files.destination_kind`` allows: a regular
  file or new path (replaced by a rename), or a FIFO (written into).
- One md5steg run per file at a time: the file itself is ``flock``-ed. The
  kernel drops the lock when its process ends, however it ends, so a killed
  run never leaves a lock behind (git's lock file can be left, and then needs
  a manual ``rm``). A second run fails at once instead of waiting.
- The new file is written by copying the old one into a temp file beside the
  real target (a symlink's target is rewritten, the link stays), then the
  suffix. The MD5 of what was copied is computed on the way and must be the one
  the caller expects; the file must still have the inode, size, mtime and
  ctime it had when it was read. Otherwise nothing is renamed: the other
  writer's content stays, and ``FileChangedError`` says so.
- Owner, group (where allowed) and mode are kept; the temp file is removed on
  every failure, and temp files of killed runs are removed by the next run.
- Input that cannot be read twice (stdin, a FIFO) is spooled while it is read:
  into the destination's temp file, or an anonymous temp file for a stream.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from types import TracebackType
from typing import Any, BinaryIO, Optional, Union

from .alphabets import Alphabet
from .content import Content
from .errors import Md5stegError
from .files import (
    CHUNK_SIZE,
    FIFO,
    FileIdentity,
    NotRegularFileError,
    PathLike,
    PrefixReader,
    Sink,
    create_temp_file,
    default_mode,
    describe_file_type,
    destination_kind,
    discard_temp_file,
    fsync_directory,
    keep_owner,
    open_fifo_for_writing,
    read_content,
    remove_stale_temp_files,
    replace_file,
    resolve_destination,
    write_all,
)

LOCK_ATTEMPTS = 8


class FileBusyError(Md5stegError):
    """Another md5steg run holds the file's lock."""


class FileChangedError(Md5stegError):
    """The file changed while md5steg worked on it; nothing was written."""


class RewriteIOError(Md5stegError):
    """Reading the input or writing the result failed (permission, disk full, ...)."""


class InputTooLargeError(Md5stegError):
    """The input does not fit in memory."""


def _refuse_unless_regular(status: os.stat_result, shown: str) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise NotRegularFileError(
            f"{shown} is {describe_file_type(status.st_mode)}, not a regular file; md5steg rewrites only "
            "regular files in place (write the result to another file instead)"
        )


def _open_regular(path: str, shown: str) -> int:
    """Open a regular file for reading without blocking on a FIFO or touching a device."""
    _refuse_unless_regular(os.stat(path), shown)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        _refuse_unless_regular(os.fstat(fd), shown)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_locked(path: str, shown: str) -> int:
    """Open and ``flock`` the file at ``path``, retrying while it is being replaced."""
    for _ in range(LOCK_ATTEMPTS):
        fd = _open_regular(path, shown)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FileBusyError(
                f"another md5steg run is rewriting {shown}; wait for it to finish and try again"
            ) from None
        except OSError:
            pass  # no flock on this file system: the identity check before the rename still holds
        opened, current = os.fstat(fd), os.stat(path)
        if (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino):
            return fd
        os.close(fd)  # replaced between open and lock (by the run that held it): open the new one
    raise FileChangedError(f"{shown} kept being replaced while md5steg tried to lock it; try again")


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike))


class FileRewrite:
    """Read a file (or stream) once, then write it with a suffix appended, atomically.

    ``FileRewrite(path)`` rewrites ``path`` in place; ``FileRewrite(source,
    destination)`` leaves the source alone and writes ``destination`` (a path,
    replaced atomically, or a binary stream such as stdout). ``source`` may be
    a path or a binary stream (stdin). Use it as a context manager::

        with FileRewrite("page.txt") as rewrite:
            content = rewrite.read()
            match = md5steg.find(content, "c0ffee")
            md5 = rewrite.commit(match.suffix, expected_md5=match.md5)

    Leaving the block without ``commit`` (an error, Ctrl-C) writes nothing and
    removes every temp file.
    """

    def __init__(self, source: Union[PathLike, BinaryIO], destination: Union[PathLike, BinaryIO, None] = None):
        self.name = os.fspath(source) if _is_path(source) else "<stdin>"  # type: ignore[arg-type]
        self.length = 0
        self._source = source
        self._destination = destination
        self._target: Optional[str] = None  # real path of the file to replace
        self._fifo: Optional[str] = None  # real path of a FIFO to write into instead
        self._in_place = False
        self._identity: Optional[FileIdentity] = None
        self._copy_fd: Optional[int] = None  # a regular source file to copy from
        self._stream: Optional[BinaryIO] = None  # what read() reads
        self._temp: Optional[tuple[int, str]] = None
        self._spool: Optional[BinaryIO] = None  # anonymous spool for a stream destination
        self._stack = contextlib.ExitStack()
        self._read_done = False
        self._committed = False

    def __enter__(self) -> FileRewrite:
        try:
            self._open()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]
    ) -> None:
        if self._temp is not None:
            discard_temp_file(*self._temp)
            self._temp = None
        self._stack.close()

    def _open(self) -> None:
        destination = self._destination if self._destination is not None else self._source
        if _is_path(destination):
            self._target = resolve_destination(destination)  # type: ignore[arg-type]
            remove_stale_temp_files(os.path.dirname(self._target) or ".")
        path = os.fspath(self._source) if _is_path(self._source) else None  # type: ignore[arg-type]
        self._in_place = path is not None and self._target is not None and self._same_file(path, self._target)
        if self._target is not None and not self._in_place and destination_kind(self._target) == FIFO:
            self._fifo, self._target = self._target, None
        if path is None:
            self._stream = self._source  # type: ignore[assignment]
            return
        try:
            fd = _open_locked(self._target, self.name) if self._in_place else self._open_source(path)  # type: ignore[arg-type]
        except FileNotFoundError:
            raise RewriteIOError(f"cannot read {self.name}: it does not exist") from None
        except OSError as exc:
            raise RewriteIOError(f"cannot read {self.name}: {exc.strerror or exc}") from None
        self._stack.callback(os.close, fd)
        status = os.fstat(fd)
        if self._in_place:
            self._identity = FileIdentity.of(status)
        if stat.S_ISREG(status.st_mode):
            self._copy_fd = fd
        self._stream = self._stack.enter_context(os.fdopen(os.dup(fd), "rb"))

    @staticmethod
    def _same_file(path: str, target: str) -> bool:
        with contextlib.suppress(OSError):
            return os.path.samefile(path, target)
        return os.path.realpath(path) == target

    def _open_source(self, path: str) -> int:
        """Open a source that is only read: a FIFO or block device may be; a folder, socket or
        character device not (``/dev/zero`` and ``/dev/urandom`` never end: the spool would fill
        the disk; pipe such a stream through stdin with a size limit, e.g. ``head -c``)."""
        status = os.stat(path)
        mode = status.st_mode
        if stat.S_ISDIR(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode):
            raise NotRegularFileError(
                f"{self.name} is {describe_file_type(mode)}; give a file, a FIFO such as <(cmd), "
                f"or a block device to read"
            )
        return os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_CLOEXEC)

    def _spool_sink(self) -> Optional[Sink]:
        """Where a source that cannot be read twice is copied while it is read."""
        if self._copy_fd is not None:
            return None
        if self._target is not None:
            self._temp = create_temp_file(os.path.dirname(self._target) or ".")
            temp_fd, temp_path = self._temp
            where = temp_path
        else:
            self._spool = self._stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed by the stack)
            temp_fd, where = self._spool.fileno(), "a temp file"

        def spool(chunk: bytes) -> None:
            try:
                write_all(temp_fd, chunk)
            except OSError as exc:
                raise RewriteIOError(f"cannot spool {self.name} into {where}: {exc.strerror or exc}") from None

        return spool

    def read(self) -> Content:
        """The content, streamed once through its MD5 midstate (spooled where it cannot be read again).

        Memory stays bounded whatever the input's size; ``strip_trailing`` and
        ``commit`` read the bytes again from the file or the spool.
        """
        content: Content = self._read(lambda stream, sink: Content.from_stream(stream, sink=sink))
        return content

    def read_bytes(self) -> bytes:
        """The whole content in memory, for callers that need every byte (``hide`` seals a message)."""
        data: bytes = self._read(read_content)
        return data

    def _read(self, reader: Callable[[BinaryIO, Optional[Sink]], Any]) -> Any:
        assert self._stream is not None, "use FileRewrite as a context manager"
        if self._read_done:
            raise RuntimeError("FileRewrite reads the input once")
        try:
            sink = self._spool_sink()
        except OSError as exc:
            raise RewriteIOError(f"cannot create a temp file to spool {self.name}: {exc.strerror or exc}") from None
        try:
            result = reader(self._stream, sink)
        except MemoryError:
            raise InputTooLargeError(
                f"{self.name} does not fit in memory; give a smaller file (is it endless, like /dev/zero?)"
            ) from None
        except OSError as exc:
            raise RewriteIOError(f"cannot read {self.name}: {exc.strerror or exc}") from None
        self.length = len(result)
        self._read_done = True
        return result

    def strip_trailing(self, alphabet: Alphabet) -> Content:
        """The content read, without its trailing run of ``alphabet`` symbols (``--replace``).

        Reads the end of the input again, longer and longer until the run
        starts inside what was read, then streams the kept part once more;
        commit it with ``keep_bytes=len(result)``.
        """
        if not self._read_done:
            raise RuntimeError("FileRewrite.strip_trailing() comes after read()")
        source_fd = self._readback_fd()
        span = 256
        while True:
            span = min(span, self.length)
            tail = os.pread(source_fd, span, self.length - span)
            kept = alphabet.strip_suffix(tail)
            # At least one whole UTF-8 character kept: the run starts inside this tail.
            if len(kept) >= 4 or span == self.length:
                break
            span *= 4
        keep = self.length - (len(tail) - len(kept))
        return Content.from_stream(PrefixReader(source_fd, keep))

    def _readback_fd(self) -> int:
        """Where the bytes read can be read again: the source file, or its spool."""
        if self._copy_fd is not None:
            return self._copy_fd
        if self._spool is not None:
            self._spool.flush()
            return self._spool.fileno()
        assert self._temp is not None
        return self._temp[0]

    def commit(self, suffix: bytes, *, keep_bytes: Optional[int] = None, expected_md5: Optional[str] = None) -> str:
        """Write the first ``keep_bytes`` bytes read (default: all) plus ``suffix``; return its MD5.

        ``keep_bytes`` drops an earlier suffix (``--replace``). With
        ``expected_md5``, a result with another MD5 (the input changed under
        us) raises ``FileChangedError`` and nothing is renamed.
        """
        if not self._read_done or self._committed:
            raise RuntimeError("FileRewrite.commit() comes once, after read()")
        self._committed = True
        length = self.length if keep_bytes is None else keep_bytes
        if not 0 <= length <= self.length:
            raise ValueError(f"keep_bytes must be within 0..{self.length}, not {keep_bytes}")
        if self._fifo is not None:
            return self._commit_to_fifo(self._fifo, suffix, length, expected_md5)
        if self._target is None:
            return self._commit_to_stream(suffix, length, expected_md5)
        try:
            return self._commit_to_file(suffix, length, expected_md5)
        except OSError as exc:
            raise RewriteIOError(f"cannot write {self._target}: {exc.strerror or exc}") from None

    def _copy(self, source_fd: int, length: int, write: Callable[[bytes], object]) -> hashlib._Hash:
        """Copy ``length`` bytes from offset 0 of ``source_fd`` through ``write``, hashing them."""
        hasher = hashlib.md5()
        offset = 0
        while offset < length:
            chunk = os.pread(source_fd, min(CHUNK_SIZE, length - offset), offset)
            if not chunk:
                raise self._changed("it got shorter")
            write(chunk)
            hasher.update(chunk)
            offset += len(chunk)
        return hasher

    def _changed(self, how: str) -> FileChangedError:
        if self._target is None:
            return FileChangedError(
                f"{self.name} changed while md5steg worked on it ({how}); the output written is not "
                "the matched content: discard it and run md5steg again"
            )
        return FileChangedError(
            f"{self.name} changed while md5steg worked on it ({how}); nothing was written and "
            "the new content is kept: run md5steg again"
        )

    def _check_md5(self, hasher: hashlib._Hash, suffix: bytes, expected_md5: Optional[str]) -> str:
        hasher.update(suffix)
        digest = hasher.hexdigest()
        if expected_md5 is not None and digest != expected_md5:
            raise self._changed(f"its MD5 with the suffix would be {digest}, not {expected_md5}")
        return digest

    def _commit_to_fifo(self, fifo: str, suffix: bytes, length: int, expected_md5: Optional[str]) -> str:
        """Write into the FIFO at the destination (a reader takes the bytes; the FIFO stays)."""
        try:
            with open(open_fifo_for_writing(fifo), "wb", closefd=True) as output:
                return self._commit_to_stream(suffix, length, expected_md5, output)
        except OSError as exc:
            raise RewriteIOError(f"cannot write the FIFO {fifo}: {exc.strerror or exc}") from None

    def _commit_to_stream(
        self, suffix: bytes, length: int, expected_md5: Optional[str], output: Optional[BinaryIO] = None
    ) -> str:
        if output is None:
            assert self._destination is not None and not _is_path(self._destination)
            output = self._destination  # type: ignore[assignment]
        assert output is not None
        hasher = self._copy(self._readback_fd(), length, output.write)
        output.write(suffix)
        output.flush()
        return self._check_md5(hasher, suffix, expected_md5)

    def _commit_to_file(self, suffix: bytes, length: int, expected_md5: Optional[str]) -> str:
        assert self._target is not None
        if self._temp is None:
            self._temp = create_temp_file(os.path.dirname(self._target) or ".")
            temp_fd, _ = self._temp
            hasher = self._copy(self._copy_fd, length, lambda chunk: write_all(temp_fd, chunk))  # type: ignore[arg-type]
        else:
            temp_fd, _ = self._temp
            os.ftruncate(temp_fd, length)
            hasher = self._copy(temp_fd, length, lambda chunk: None)
            os.lseek(temp_fd, length, os.SEEK_SET)
        write_all(temp_fd, suffix)
        digest = self._check_md5(hasher, suffix, expected_md5)
        os.fsync(temp_fd)
        self._give_identity(temp_fd)
        if self._identity is not None:
            try:
                now = FileIdentity.of(os.stat(self._target))
            except FileNotFoundError:
                raise self._changed("it was deleted") from None
            if now != self._identity:
                raise self._changed("another program wrote or replaced it")
        temp_fd, temp_path = self._temp
        replace_file(temp_path, self._target)
        self._temp = None
        os.close(temp_fd)
        fsync_directory(os.path.dirname(self._target) or ".")
        return digest

    def _give_identity(self, temp_fd: int) -> None:
        """Owner, group and mode of the file being replaced (umask default for a new one)."""
        assert self._target is not None
        try:
            existing = os.stat(self._target)
        except FileNotFoundError:
            os.fchmod(temp_fd, default_mode())
            return
        keep_owner(temp_fd, existing.st_uid, existing.st_gid)
        os.fchmod(temp_fd, stat.S_IMODE(existing.st_mode))
