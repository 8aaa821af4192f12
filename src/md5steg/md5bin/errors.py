"""md5bin's failures, all under ``Md5stegError`` so the CLI reports them on one line."""

from __future__ import annotations

from ..errors import Md5stegError


class Md5binError(Md5stegError):
    """Base class of every error the md5bin store or server raises on purpose."""


class InvalidIdLengthError(Md5binError, ValueError):
    """An id length outside 4..32 hex characters."""


class IdLengthMismatchError(Md5binError):
    """A store opened with an id length other than the one it was created with."""


class EmptyPasteError(Md5binError, ValueError):
    """A paste that is empty or holds only whitespace and invisible characters."""


class PasteTooLargeError(Md5binError, ValueError):
    """A paste larger than the store's ``max_size``."""

    def __init__(self, size: int, max_size: int) -> None:
        self.size = size
        self.max_size = max_size
        super().__init__(
            f"the paste is {size} bytes; this md5bin accepts at most {max_size} bytes "
            f"(split the text, or start the server with a larger --max-size)"
        )


class IdTakenError(Md5binError):
    """Different content already holds the id this content's MD5 prefix maps to."""

    def __init__(self, paste_id: str) -> None:
        self.paste_id = paste_id
        super().__init__(
            f"paste id {paste_id} is already taken by different content "
            f"(same first {len(paste_id)} MD5 hex digits); change the text slightly, "
            f"e.g. re-run `md5steg find` for another prefix, and post again"
        )


class IdRemovedError(IdTakenError):
    """The id was removed by the operator; it is retired, so no content may take it again."""

    def __init__(self, paste_id: str) -> None:
        Md5binError.__init__(
            self,
            f"paste id {paste_id} was removed from this md5bin and is not given out again; "
            f"change the text slightly (a publish moves the page by itself) and post again",
        )
        self.paste_id = paste_id


class StorageError(Md5binError):
    """The database could not store or read a paste; nothing was acknowledged.

    The server answers ``http_status`` (503, or 507 for a full disk) and logs
    the one-line message instead of a traceback.
    """

    http_status = 503


class StoreBusyError(StorageError):
    """Another process held the database's write lock for longer than the busy timeout."""


class StorageFullError(StorageError):
    """The disk (or the file size limit) has no room for the paste."""

    http_status = 507


class StorageLostError(StorageError):
    """The database file was deleted or replaced while the store had it open."""
