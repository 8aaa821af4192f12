"""Atomic file writes: readers see the old bytes or the new ones, never half a file."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from typing import Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: PathLike, data: bytes, mode: Optional[int] = None) -> None:
    """Replace ``path`` with ``data`` via a temp file in the same folder, fsync and rename.

    The file's permission bits are kept (or ``mode``, or the umask default for a
    new file). A symlink is followed, so the link stays and its target changes.
    On any failure the temp file is removed and ``path`` is untouched.
    """
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(target) or "."
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = _default_mode()
    fd, temp_path = tempfile.mkstemp(prefix=".md5steg-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_path, mode)
        os.replace(temp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise
    with contextlib.suppress(OSError):
        directory_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)


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
