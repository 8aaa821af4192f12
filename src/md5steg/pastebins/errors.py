"""The pastebin errors: one family under ``PastebinError``, so the publisher can catch them all.

They live apart from the adapters so that ``base.py`` and ``http.py`` both
import from here and never from each other's side of the package.
"""

from __future__ import annotations

from ..errors import Md5stegError


class PastebinError(Md5stegError):
    """A pastebin refused a paste, could not be reached, or answered something unexpected."""


class PastebinOptionsError(PastebinError, ValueError):
    """Options a pastebin cannot use (``--db`` with pinnwand, a missing ``--to``): a usage error."""


class PasteMissingError(PastebinError):
    """The pastebin has no paste under that id (never stored, expired, or its database reset)."""


class PasteRemovedError(PasteMissingError):
    """The pastebin's operator removed the paste; md5bin retires the id (410 Gone) for good."""


class PasteConflictError(PastebinError):
    """A content-addressed pastebin already holds this id with other content, or retired it.

    ``removed``: the id held a paste its operator removed (``md5steg serve
    --remove``); md5bin never gives such an id out again, to any content.
    """

    def __init__(self, paste_id: str, *, removed: bool = False) -> None:
        self.paste_id = paste_id
        self.removed = removed
        if removed:
            super().__init__(f"paste id {paste_id} was removed from the pastebin and is not given out again")
        else:
            super().__init__(f"paste id {paste_id} is already taken by other content")


class PastebinUnreachableError(PastebinError):
    """The pastebin did not answer usefully after every retry the policy allows."""


class AmbiguousRequestError(PastebinError):
    """A non-idempotent request failed in a way that leaves unknown whether the server acted on it."""
