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
from typing import Any, Optional

from . import _md5py
from .arguments import BYTES_LIKE, require
from .content import BLOCK, PURE_KEEP_BYTES, Content, _block_compressor
from .errors import ArgumentTypeError, InvalidArgumentError

CHUNK_BYTES = 1 << 20


class EndingBuilder:
    """Takes a stream's bytes as they pass (``feed``) and builds their ``Ending``: memory O(``keep``).

    Everything but the last ``keep`` bytes goes into SHA-256 and MD5 at once;
    the MD5 chaining state is computed as ``Content.from_stream`` computes it
    (with the pure engine, up to ``PURE_KEEP_BYTES`` are kept instead, and
    hashed only when needed).
    """

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._buffer = bytearray()
        self._sha256 = hashlib.sha256()
        self._md5 = hashlib.md5()
        self._compress = _block_compressor()
        self._kept: Optional[list[bytes]] = [] if self._compress is _md5py.compress_blocks else None
        self._state, self._carry, self._head_length = _md5py.IV, b"", 0

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        excess = len(self._buffer) - self._keep
        if excess > 0:
            head = bytes(self._buffer[:excess])
            del self._buffer[:excess]
            self._absorb(head)

    def _absorb(self, head: bytes) -> None:
        self._sha256.update(head)
        self._md5.update(head)
        self._head_length += len(head)
        if self._kept is not None:
            self._kept.append(head)
            if self._head_length <= PURE_KEEP_BYTES:
                return
            head, self._kept = b"".join(self._kept), None  # past the limit: hash what was kept
        pending = self._carry + head
        whole = len(pending) - len(pending) % BLOCK
        if whole:
            self._state = self._compress(self._state, pending[:whole])
        self._carry = pending[whole:]

    def ending(self) -> Ending:
        length = self._head_length
        if self._kept is not None:
            data = b"".join(self._kept)
            head = Content(length, data[length - length % BLOCK :], None, data, self._md5)
        else:
            head = Content(length, self._carry, self._state, None, self._md5)
        return Ending(length + len(self._buffer), bytes(self._buffer), head, self._sha256)


class TeeReader:
    """A stream that hands every chunk read through it to an ``EndingBuilder`` as well."""

    def __init__(self, stream: Any, builder: EndingBuilder) -> None:
        self.stream, self._builder = stream, builder

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self.stream.read(size)
        self._builder.feed(chunk)
        return chunk


class Ending:
    """A file as hide and reveal need it: its last bytes, and MD5/SHA-256 states of everything before."""

    def __init__(self, length: int, tail: bytes, head: Content, head_sha256: hashlib._Hash) -> None:
        self.length, self.tail = length, tail
        self._head, self._head_sha256 = head, head_sha256

    @classmethod
    def from_stream(cls, stream: Any, keep: int) -> Ending:
        """Read ``stream`` to its end in chunks; keep its last ``keep`` bytes.

        A stream that is not binary (``open(path)`` instead of ``open(path, "rb")``)
        raises ``ArgumentTypeError``, as ``Content.from_stream`` does.
        """
        if not callable(getattr(stream, "read", None)):
            raise ArgumentTypeError(f"a cover must be read from a binary stream, not {type(stream).__name__}")
        require(keep, int, "keep")
        builder = EndingBuilder(keep)
        while chunk := stream.read(CHUNK_BYTES):
            if not isinstance(chunk, bytes):
                raise ArgumentTypeError(f"the stream gave {type(chunk).__name__}, not bytes; open it in binary mode ('rb')")
            builder.feed(chunk)
        return builder.ending()

    @classmethod
    def from_bytes(cls, data: bytes, keep: int) -> Ending:
        require(data, BYTES_LIKE, "data", "encode text first")
        return cls.from_stream(io.BytesIO(data), keep)

    @property
    def tail_start(self) -> int:
        return self.length - len(self.tail)

    def _tail_part(self, length: int) -> bytes:
        if not self.tail_start <= length <= self.length:
            raise InvalidArgumentError(f"a prefix of {length} bytes does not end in the tail kept")
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
