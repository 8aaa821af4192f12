"""The content a search appends to, read once and kept as an MD5 midstate, not as bytes.

A search only ever needs three things about the content: its length, the MD5
chaining state after its whole 64-byte blocks (the engines start every
candidate from it), and the fewer than 64 bytes after those blocks. A
``Content`` keeps just these, so a file of any size is searched in memory
O(chunk): ``from_stream`` reads it once, in chunks, and can hand each chunk to
a ``sink`` (the temp file the output is copied into).

It also keeps a ``hashlib`` MD5 object over the whole content: every hit is
re-checked with it (``md5_with``), independently of the engines' own MD5, and
the pure engine copies it per outer step. ``hashlib`` objects do not pickle, so
a pickled ``Content`` (a job shipped to a worker process) leaves it out; the
copy rebuilds an equivalent hasher from the state words with ``_md5py``
(``hasher()``), which gives the same digests, only slower on CPython.

The chaining state is computed with the compiled core's ``compress`` when it
imports (and ``MD5STEG_NO_EXTENSIONS`` is not set), else with ``_md5py``.
Content made ``from_bytes`` computes it only when first asked for.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from typing import Optional, Protocol, Union

from . import _md5py
from ._md5py import State
from .arguments import BYTES_LIKE, require
from .errors import ArgumentTypeError, InvalidArgumentError

BLOCK = 64
PURE_KEEP_BYTES = 64 << 20
"""Without the compiled core, ``from_stream`` keeps streams up to this long in memory (see there)."""


def extensions_disabled() -> bool:
    """True when ``MD5STEG_NO_EXTENSIONS`` asks for pure Python everywhere (as msgpack's does)."""
    return os.environ.get("MD5STEG_NO_EXTENSIONS", "").strip() not in ("", "0")


def _block_compressor() -> Callable[[State, Union[bytes, memoryview]], State]:
    """Compresses whole 64-byte blocks into a state: the compiled core's, else ``_md5py``'s."""
    if not extensions_disabled():
        try:
            from ._core import compress
        except ImportError:
            pass
        else:
            return compress
    return _md5py.compress_blocks


def _fastest_md5() -> Callable[[], Hasher]:
    """The MD5 constructor whose ``copy``/``update``/``digest`` cost least per call.

    The interpreter's builtin ``_md5`` (what ``hashlib`` falls back to) beats
    OpenSSL's: on CPython its copy is a struct copy instead of an OpenSSL
    context copy (2x per candidate of the pure engine), on PyPy it is RPython
    instead of cffi-wrapped OpenSSL (7x). Either is independent of our own MD5.
    """
    try:
        builtin = importlib.import_module("_md5")
    except ImportError:  # builds without it (FIPS-only Pythons)
        return hashlib.md5
    return builtin.md5  # type: ignore[no-any-return]


class ByteStream(Protocol):
    """Anything ``from_stream`` can read: a binary file, stdin's buffer, a pread-backed view."""

    def read(self, size: int = -1, /) -> bytes: ...


class Hasher(Protocol):
    """The part of a ``hashlib`` MD5 object the engines use."""

    def update(self, data: bytes, /) -> None: ...
    def copy(self) -> Hasher: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


_new_md5 = _fastest_md5()


class Content:
    """A file's bytes as MD5 sees them: length, state after the whole blocks, and the tail."""

    __slots__ = ("length", "tail", "_state", "_data", "_hasher")

    def __init__(
        self,
        length: int,
        tail: bytes,
        state: Optional[State],
        data: Optional[bytes] = None,
        hasher: Optional[Hasher] = None,
    ) -> None:
        require(length, int, "length", "the content's length in bytes")
        require(tail, bytes, "tail", "the bytes after the content's whole 64-byte blocks")
        if data is not None:
            require(data, bytes, "data")
        if state is not None and not _is_state(state):
            raise ArgumentTypeError("state must be four 32-bit words (ints from 0 to 2**32 - 1) or None")
        if length < 0 or len(tail) != length % BLOCK:
            raise InvalidArgumentError(f"a tail of {len(tail)} bytes does not fit a length of {length}")
        if data is not None and len(data) != length:
            raise InvalidArgumentError(f"data of {len(data)} bytes does not fit a length of {length}")
        if state is None and data is None:
            raise InvalidArgumentError("a Content needs the state words or the data they come from")
        self.length = length
        self.tail = tail
        self._state = state
        self._data = data
        self._hasher = hasher

    @classmethod
    def from_bytes(cls, data: bytes) -> Content:
        """Content already in memory (small files, stdin, tests); the state is computed lazily."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ArgumentTypeError(f"content must be bytes, not {type(data).__name__}; encode text first")
        data = bytes(data)
        hasher = _new_md5()
        hasher.update(data)
        return cls(len(data), data[len(data) - len(data) % BLOCK :], None, data, hasher)

    @classmethod
    def from_stream(
        cls,
        stream: ByteStream,
        *,
        sink: Optional[Callable[[bytes], object]] = None,
        chunk_size: int = 1 << 20,
    ) -> Content:
        """Read ``stream`` to EOF in chunks of ``chunk_size``, passing each to ``sink`` too.

        Memory stays O(chunk_size) whatever the stream's length. Without the
        compiled core, the state words cost ``_md5py`` time (slow on CPython),
        so up to ``PURE_KEEP_BYTES`` are kept in memory instead and hashed only
        when needed, as for ``from_bytes``; longer streams are hashed as read.
        """
        if not callable(getattr(stream, "read", None)):
            raise ArgumentTypeError(f"content must be read from a binary stream, not {type(stream).__name__}")
        require(chunk_size, int, "chunk_size")
        if chunk_size < 1:
            raise InvalidArgumentError(f"chunk_size must be positive, not {chunk_size}")
        compress = _block_compressor()
        keep = PURE_KEEP_BYTES if compress is _md5py.compress_blocks else 0
        kept: list[bytes] = []
        hasher = _new_md5()
        state, length, carry = _md5py.IV, 0, b""
        while chunk := stream.read(chunk_size):
            if not isinstance(chunk, bytes):
                raise ArgumentTypeError(f"the stream gave {type(chunk).__name__}, not bytes; open it in binary mode ('rb')")
            if sink is not None:
                sink(chunk)
            hasher.update(chunk)
            length += len(chunk)
            if length <= keep:
                kept.append(chunk)
                continue
            if keep:  # past the limit: hash what was kept, then stream as with the compiled core
                chunk, kept, keep = b"".join(kept) + chunk, [], 0
            pending = carry + chunk if carry else chunk
            whole = len(pending) - len(pending) % BLOCK
            if whole:
                state = compress(state, pending[:whole])
            carry = pending[whole:]
        if keep:
            data = b"".join(kept)
            return cls(length, data[length - length % BLOCK :], None, data, hasher)
        return cls(length, carry, state, None, hasher)

    @property
    def state(self) -> State:
        """The MD5 chaining state after the whole 64-byte blocks (four little-endian words)."""
        if self._state is None:
            assert self._data is not None  # __init__ refuses a Content with neither
            whole = self.length - len(self.tail)
            self._state = _block_compressor()(_md5py.IV, memoryview(self._data)[:whole])  # no copy
        return self._state

    @property
    def head_length(self) -> int:
        """Bytes in the whole blocks ``state`` covers."""
        return self.length - len(self.tail)

    def hasher(self) -> Hasher:
        """A fresh MD5 object that has seen the content (``hashlib``'s, or ``_md5py``'s after pickling)."""
        if self._hasher is None:
            return _md5py.Md5(self.state, self.tail, self.length)
        return self._hasher.copy()

    def md5_with(self, suffix: bytes) -> str:
        """The MD5 hex digest of the content followed by ``suffix``: the re-check every hit gets."""
        require(suffix, BYTES_LIKE, "suffix", "encode text first")
        hasher = self.hasher()
        hasher.update(suffix)
        return hasher.hexdigest()

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        return f"Content(length={self.length})"

    def __getstate__(self) -> tuple[int, bytes, Optional[State], Optional[bytes]]:
        """Pickle without the hashlib object (it does not pickle); content from bytes keeps them."""
        return self.length, self.tail, self._state, self._data

    def __setstate__(self, saved: tuple[int, bytes, Optional[State], Optional[bytes]]) -> None:
        self.length, self.tail, self._state, self._data = saved
        self._hasher = None
        if self._data is not None:
            self._hasher = _new_md5()
            self._hasher.update(self._data)


def _is_state(value: object) -> bool:
    """Four MD5 chaining words: what ``Content`` is built from when its bytes are not kept."""
    return (
        isinstance(value, tuple)
        and len(value) == 4
        and all(isinstance(word, int) and not isinstance(word, bool) and 0 <= word < 1 << 32 for word in value)
    )
