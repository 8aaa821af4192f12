"""md5bin: md5steg's own pastebin, where a paste's id is a prefix of its MD5.

The store (``Md5binStore``) needs only the standard library; the HTTP server
(``md5steg.md5bin.app.create_app``) needs Starlette and is imported on its own,
so ``import md5steg.md5bin`` stays cheap.
"""

from ..addresses import md5_hex
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
from .store import (
    DEFAULT_ID_LENGTH,
    DEFAULT_MAX_SIZE,
    MAX_ID_LENGTH,
    MIN_ID_LENGTH,
    Md5binStore,
    Paste,
    PutResult,
    default_db_path,
)

__all__ = [
    "DEFAULT_ID_LENGTH",
    "DEFAULT_MAX_SIZE",
    "MAX_ID_LENGTH",
    "MIN_ID_LENGTH",
    "EmptyPasteError",
    "IdLengthMismatchError",
    "IdRemovedError",
    "IdTakenError",
    "InvalidIdLengthError",
    "Md5binError",
    "Md5binStore",
    "Paste",
    "PasteTooLargeError",
    "PutResult",
    "StorageError",
    "StorageFullError",
    "StorageLostError",
    "StoreBusyError",
    "default_db_path",
    "md5_hex",
]
