"""Resume records: what an interrupted search had already searched, kept in the user's state folder.

The answer of a search is the lowest matching nonce index, and nonces are
tried in a fixed order, so progress is a set of nonce ranges known to hold no
match (``Coverage``), plus the lowest hit seen above them, if any. A rerun of
the same search (same content, target, alphabet and layout: ``search_key``)
skips those ranges and returns exactly what one uninterrupted run returns.

A record is one small JSON file per search key in ``state_dir()``
(``platformdirs.user_state_dir("md5steg")``, or ``$MD5STEG_STATE_DIR``),
mode 0600, written atomically. It holds a key derived by SHA-256 from the
content's MD5 state, never the content: a hidden message's ciphertext stays
out. Reading is bounded and strict: a record that is damaged, forged, made for
another search or inconsistent is ignored (``RecordError``), never trusted,
and a claimed hit is re-checked with hashlib before it is believed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import time
from bisect import bisect_right
from pathlib import Path
from typing import Any, Optional

from .content import Content
from .files import write_atomic
from .layout import Layout
from .target import Target

STATE_DIR_ENV = "MD5STEG_STATE_DIR"
"""Overrides where records live (tests, and users who keep state elsewhere)."""

RECORD_FORMAT = "md5steg-resume"
RECORD_VERSION = 1
MAX_RECORD_BYTES = 8192
"""A record is read only this far; a longer file is not a record of ours."""

MAX_RANGES = 64
"""Searched ranges kept in a record (the lowest ones; dropping coverage is always safe)."""

RECORD_INTERVAL = 2.0
"""Seconds between writes of a running search's record (a crash loses at most this much)."""

STALE_AFTER_SECONDS = 30 * 24 * 3600.0
"""Records not updated for this long belong to searches nobody reran: removed."""

RECORD_NAME = re.compile(r"[0-9a-f]{32}\.json")


class RecordError(ValueError):
    """A resume record that cannot be trusted; the message says why (it is then ignored)."""


def state_dir() -> Path:
    """The folder holding resume records: ``$MD5STEG_STATE_DIR``, else the user's state folder."""
    override = os.environ.get(STATE_DIR_ENV, "").strip()
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir("md5steg")) / "searches"


def search_key(content: Content, layout: Layout, target: Target) -> str:
    """What determines the answer, hashed: content state and length, target, alphabet, layout.

    The engine, SIMD path and backend are left out: they give the same answer.
    """
    identity = {
        "state": list(content.state),
        "tail": content.tail.hex(),
        "length": content.length,
        "target": target.pattern,
        "symbols": [symbol.hex() for symbol in layout.alphabet.symbols],
        "digits": layout.digits,
        "fast_digits": layout.fast_digits,
        "aligned": layout.aligned,
    }
    encoded = json.dumps(identity, sort_keys=True).encode()
    return hashlib.sha256(b"md5steg resume key 1\0" + encoded).hexdigest()[:32]


class Coverage:
    """Nonce ranges [start, stop) known to hold no match (sorted, disjoint, merged), and a hit.

    ``hit`` is the lowest matching nonce found so far, or -1: the answer once
    every nonce below it is covered.

    The starts and stops live in one tuple of two lists that are never changed
    in place: ``add`` builds new lists and swaps the tuple in one assignment. A
    signal handler that saves the record in the middle of an ``add`` thus sees
    the ranges before it or after it, never new starts with old stops (a gap
    claimed as searched).
    """

    def __init__(self, capacity: int, ranges: tuple[tuple[int, int], ...] = ()) -> None:
        self.capacity = capacity
        self.hit = -1
        self._bounds: tuple[list[int], list[int]] = ([], [])
        for start, stop in ranges:
            self.add(start, stop)

    @property
    def ranges(self) -> list[tuple[int, int]]:
        return list(zip(*self._bounds))

    @property
    def searched(self) -> int:
        """How many nonces are covered."""
        return sum(stop - start for start, stop in zip(*self._bounds))

    def add(self, start: int, stop: int) -> None:
        """Mark [start, stop) as searched, merging with the ranges it touches."""
        if stop <= start:
            return
        starts, stops = self._bounds
        first = bisect_right(stops, start - 1)  # first range ending at or after start
        last = bisect_right(starts, stop)  # ranges from here on start after stop
        if first < last:
            start = min(start, starts[first])
            stop = max(stop, stops[last - 1])
        self._bounds = ([*starts[:first], start, *starts[last:]], [*stops[:first], stop, *stops[last:]])

    def next_range(self, start: int, size: int, limit: int) -> Optional[tuple[int, int]]:
        """The first unsearched range from ``start`` on: at most ``size`` long, below ``limit``."""
        starts, stops = self._bounds
        index = bisect_right(starts, start) - 1
        if index >= 0 and stops[index] > start:
            start = stops[index]
            index += 1
        else:
            index += 1
        if start >= limit:
            return None
        stop = min(start + size, limit)
        if index < len(starts):
            stop = min(stop, starts[index])
        return start, stop


class Record:
    """The resume record of one search: where it lives, what it says, and writing it."""

    def __init__(self, content: Content, layout: Layout, target: Target) -> None:
        self.key = search_key(content, layout, target)
        self.directory = state_dir()
        self.path = self.directory / f"{self.key}.json"
        self._content, self._layout, self._target = content, layout, target
        self.written = False
        self.last_write = 0.0

    def load(self) -> Optional[Coverage]:
        """What an earlier run searched (and its hit), or None when there is no record.

        Raises ``RecordError`` for a record that exists but cannot be trusted.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RecordError(f"cannot open it ({exc.strerror or exc})") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise RecordError("it is not a regular file")
            if info.st_uid != os.geteuid():
                raise RecordError("another user owns it")
            raw = os.read(fd, MAX_RECORD_BYTES + 1)
        except OSError as exc:
            raise RecordError(f"cannot read it ({exc.strerror or exc})") from None
        finally:
            os.close(fd)
        if len(raw) > MAX_RECORD_BYTES:
            raise RecordError(f"it is longer than {MAX_RECORD_BYTES} bytes")
        return self._parse(raw)

    def _parse(self, raw: bytes) -> Coverage:
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise RecordError("it is not JSON") from None
        except RecursionError:  # 8 KiB of '[' fit in the read; json's decoder recurses per level
            raise RecordError("it is JSON nested too deep") from None
        expected_keys = {"format", "version", "key", "capacity", "searched", "hit"}
        if not isinstance(record, dict) or set(record) != expected_keys:
            raise RecordError("it does not have the fields of a resume record")
        if record["format"] != RECORD_FORMAT or record["version"] != RECORD_VERSION:
            raise RecordError("it is not a version-1 md5steg resume record")
        capacity = self._layout.capacity
        if record["key"] != self.key or not _is_int(record["capacity"]) or record["capacity"] != capacity:
            raise RecordError("it belongs to another search")
        searched = record["searched"]
        if not isinstance(searched, list) or len(searched) > MAX_RANGES:
            raise RecordError("its searched ranges are malformed")
        coverage = Coverage(capacity)
        previous_stop = -1
        for entry in searched:
            if not (isinstance(entry, list) and len(entry) == 2 and all(_is_int(value) for value in entry)):
                raise RecordError("its searched ranges are malformed")
            start, stop = entry
            if not previous_stop < start < stop <= capacity:
                raise RecordError("its searched ranges overlap, are out of order or out of bounds")
            coverage.add(start, stop)
            previous_stop = stop
        hit = record["hit"]
        if not _is_int(hit) or not -1 <= hit < capacity:
            raise RecordError("its hit is out of bounds")
        if hit >= 0:
            if coverage.next_range(hit, 1, hit + 1) is None:
                raise RecordError("its hit lies in a range it says holds no match")
            digest = self._content.md5_with(self._layout.suffix(hit))
            if not self._target.matches(digest):
                raise RecordError(f"its hit (nonce {hit}) does not give a matching MD5")
        coverage.hit = hit
        return coverage

    def save(self, coverage: Coverage) -> None:
        """Write the record atomically (0600), creating the folder (0700); raises OSError."""
        if not self.written:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            remove_stale_records(self.directory)
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISREG(os.lstat(self.path).st_mode):
                raise OSError(f"{self.path} exists and is not a regular file")
        record: dict[str, Any] = {
            "format": RECORD_FORMAT,
            "version": RECORD_VERSION,
            "key": self.key,
            "capacity": self._layout.capacity,
            "searched": [list(entry) for entry in coverage.ranges[:MAX_RANGES]],
            "hit": coverage.hit,
        }
        write_atomic(self.path, json.dumps(record).encode(), mode=0o600)
        self.written = True
        self.last_write = time.monotonic()

    def remove(self) -> None:
        """Delete the record (the search finished); a missing one, or a folder in its place, stays."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def remove_stale_records(directory: Path, now: Optional[float] = None) -> list[str]:
    """Delete records in ``directory`` not updated for STALE_AFTER_SECONDS; returns their names."""
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not RECORD_NAME.fullmatch(name):
            continue
        path = directory / name
        with contextlib.suppress(OSError):
            info = os.lstat(path)
            if now - info.st_mtime > STALE_AFTER_SECONDS:
                os.unlink(path)
                removed.append(name)
    return removed


def resuming_message(searched: int, expected_candidates: float) -> str:
    """The one line a resumed search starts with."""
    return (
        f"resuming: {short_count(searched)} of ~{short_count(expected_candidates)} "
        f"expected candidates already searched"
    )


def short_count(value: float) -> str:
    """1234 -> '1234', 1.2e9 -> '1.2e9': counts at a glance."""
    if value < 10_000:
        return f"{value:.0f}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
