"""Read a file the user named, bounded: a regular file only, never more than a limit.

Every file the story machinery reads (pages, ``story.toml``, the manifest,
paste records) goes through ``read_regular_file``: a FIFO would block for
ever, ``/dev/zero`` would fill the memory, and a symbolic link or a hard link
could bring in a private file, so each is refused with one line naming it.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Optional

from ..errors import Md5stegError
from ..files import describe_file_type

KIB = 1024
MIB = 1024 * KIB


def size_text(size: int) -> str:
    """``16 MiB``, ``64 KiB``, ``300 bytes``: a limit as people write it."""
    for unit, name in ((MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def _special_file_type(path: Path, follow_symlinks: bool) -> Optional[str]:
    """``a socket``, ``a FIFO``...: what ``path`` is when it is not a regular file; None otherwise."""
    try:
        mode = os.stat(path, follow_symlinks=follow_symlinks).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else describe_file_type(mode)


def read_regular_file(
    path: Path,
    limit: int,
    *,
    what: str,
    error: type[Md5stegError],
    follow_symlinks: bool = False,
    single_link: bool = False,
    hint: str = "",
    link_hint: str = "",
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them; ``error`` otherwise.

    ``follow_symlinks=False`` refuses a symbolic link, also one swapped in
    after the check (``O_NOFOLLOW``); ``single_link`` refuses a file with
    another hard link (a name for a file elsewhere). The file is opened
    non-blocking, so a FIFO is refused rather than waited on. ``hint`` ends
    each refusal: what the user can do instead; ``link_hint`` ends only the
    refusals of links (symbolic or hard), where following them would help. A
    missing file raises ``FileNotFoundError``, for the caller to decide what
    absence means.
    """
    suffix = "".join(f"; {text}" for text in (hint,) if text)
    link_suffix = "".join(f"; {text}" for text in (hint, link_hint) if text)
    if not follow_symlinks and path.is_symlink():
        raise error(
            f"{path}: {what} is a symbolic link (to {os.readlink(path)}); md5steg reads only "
            f"the files themselves{link_suffix}"
        )
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise error(f"{path}: {what} became a symbolic link while being read{link_suffix}") from None
        if exc.errno == errno.ENOENT:
            raise
        kind = _special_file_type(path, follow_symlinks)
        if kind is not None:  # a socket cannot be opened at all (ENXIO: "No such device or address")
            raise error(f"{path}: {what} is {kind}, not a regular file{suffix}") from None
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise error(
                f"{path}: {what} is {describe_file_type(status.st_mode)}, not a regular file{suffix}"
            )
        if single_link and status.st_nlink > 1:
            raise error(
                f"{path}: {what} has {status.st_nlink} hard links, so it may be a file from "
                f"elsewhere{link_suffix}"
            )
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise error(f"{path}: {what} is larger than {size_text(limit)}, the most md5steg reads{suffix}")
    return data
