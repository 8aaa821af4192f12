"""What can go wrong while loading, planning and publishing a story."""

from __future__ import annotations

from ..errors import Md5stegError


class StoryError(Md5stegError):
    """A mistake in the story folder, found before anything is pasted (file and line where known)."""


class CycleError(StoryError):
    """The story has a cycle and the target's ids are random, so links cannot be known in advance."""


class ManifestError(Md5stegError):
    """The publish manifest cannot be read or written."""


class PublishError(Md5stegError):
    """Publishing stopped: a paste failed, or the pastebin changed what was sent."""
