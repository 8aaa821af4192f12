"""One exception family, so callers can catch md5steg's failures and nothing else.

Every message says what was tried and how to fix it; the CLI prints it on one
line and exits 1.
"""

from __future__ import annotations


class Md5stegError(Exception):
    """Base class of every error md5steg raises on purpose."""


class InvalidArgumentError(Md5stegError, ValueError):
    """An argument out of range: ``jobs=0``, a negative time bound, an alphabet of one symbol."""


class ArgumentTypeError(Md5stegError, TypeError):
    """An argument of the wrong type: text where bytes are needed, a number where a prefix is."""


class InvalidTargetError(Md5stegError, ValueError):
    """A prefix or pattern that is not 1..32 hex digits (or `_` wildcards)."""


class InvalidAlphabetError(Md5stegError, ValueError):
    """An alphabet with too few, too many or repeated symbols, or an unknown name."""


class TooMuchWorkError(Md5stegError):
    """The expected search time is far beyond what this machine can do."""


class SearchExhaustedError(Md5stegError):
    """Every nonce of the chosen width was tried without a match (astronomically rare)."""


class EngineError(Md5stegError):
    """The requested engine or SIMD path is not available here."""


class BackendError(Md5stegError):
    """A search backend (process pool, Dask cluster) failed or could not be reached."""


class InvalidUrlError(Md5stegError, ValueError):
    """A pastebin or base URL that is not a usable http(s) URL."""
