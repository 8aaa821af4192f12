"""The end of a file and the hash states of everything before it: how hide and reveal read a cover.

A hidden message, with its pads, salt and nonce, lies in a file's last few
hundred KB, but it is bound to the SHA-256 of the whole cover and the MD5 of
the whole file. ``Ending`` reads a stream once, keeps its last ``keep`` bytes
and the running SHA-256 and MD5 states of the rest, so a file of any size is
handled in bounded memory.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from .content import Content, _block_compressor


class _HeadReader:
    """Reads a stream, holding back its last ``keep`` bytes (``tail``) and hashing the rest with SHA-256."""

    def __init__(self, stream: Any, keep: int) -> None:
        self._stream, self._keep = stream, keep
        self._buffer = bytearray()
        self._ended = False
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        size = size if size > 0 else 1 << 20
        while not self._ended and len(self._buffer) < size + self._keep:
            chunk = self._stream.read(size)
            if not chunk:
                self._ended = True
            self._buffer += chunk
        count = min(size, max(0, len(self._buffer) - self._keep))
        head = bytes(self._buffer[:count])
        del self._buffer[:count]
        self.sha256.update(head)
        return head

    @property
    def tail(self) -> bytes:
        return bytes(self._buffer)


class Ending:
    """A file as hide and reveal need it: its last bytes, and MD5/SHA-256 states of everything before."""

    def __init__(self, length: int, tail: bytes, head: Content, head_sha256: hashlib._Hash) -> None:
        self.length, self.tail = length, tail
        self._head, self._head_sha256 = head, head_sha256

    @classmethod
    def from_stream(cls, stream: Any, keep: int) -> Ending:
        """Read ``stream`` to its end in chunks; keep its last ``keep`` bytes."""
        reader = _HeadReader(stream, keep)
        head = Content.from_stream(reader)
        tail = reader.tail
        return cls(head.length + len(tail), tail, head, reader.sha256)

    @classmethod
    def from_bytes(cls, data: bytes, keep: int) -> Ending:
        return cls.from_stream(io.BytesIO(data), keep)

    @property
    def tail_start(self) -> int:
        return self.length - len(self.tail)

    def _tail_part(self, length: int) -> bytes:
        if not self.tail_start <= length <= self.length:
            raise ValueError(f"a prefix of {length} bytes does not end in the tail kept")
        return self.tail[: length - self.tail_start]

    def prefix(self, length: int) -> Ending:
        """The first ``length`` bytes (which end inside the tail): what ``--replace`` keeps."""
        return Ending(length, self._tail_part(length), self._head, self._head_sha256)

    def sha256(self, length: int) -> bytes:
        """SHA-256 of the first ``length`` bytes (which end inside the tail)."""
        hasher = self._head_sha256.copy()
        hasher.update(self._tail_part(length))
        return hasher.digest()

    def content(self, length: int, extra: bytes = b"") -> Content:
        """The first ``length`` bytes, then ``extra``, as find's ``Content`` (no copy of the head)."""
        more = self._tail_part(length) + extra
        hasher = self._head.hasher()
        hasher.update(more)
        pending = self._head.tail + more
        whole = len(pending) - len(pending) % 64
        state = _block_compressor()(self._head.state, pending[:whole]) if whole else self._head.state
        return Content(length + len(extra), pending[whole:], state, None, hasher)

    def md5_hexdigest(self) -> str:
        hasher = self._head.hasher()
        hasher.update(self.tail)
        return hasher.hexdigest()
