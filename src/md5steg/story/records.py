"""What ``md5steg paste`` put on random-id pastebins, so pasting the same input again adds nothing.

md5bin needs no record: an id is a function of the content, so the pastebin
itself says whether the input is there. pinnwand gives random ids and cannot
be searched by content, so ``md5steg paste`` keeps one small JSON file in the
user's data folder (``platformdirs.user_data_dir("md5steg")``, e.g.
``~/.local/share/md5steg/paste-records.json``)::

    {"version": 1, "pastes": {"<target key> <MD5 of the input>":
                              {"id": "...", "url": "...", "time": 1733300000.0}}}

Limits: the record is per user and per machine (another machine, or a
deleted record, pastes a new copy), and it keeps the newest ``MAX_RECORDS``
pastes. A recorded paste is read back before its URL is reused, so an
expired or deleted paste is pasted again.

The file is read bounded (``MAX_RECORDS_BYTES``), written atomically with
mode 0600 (the URLs of a user's pastes are theirs), and a damaged file is
ignored with a warning, then replaced on the next save.
"""

from __future__ import annotations

import json
import math
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import platformdirs

from ..files import write_atomic
from .errors import ManifestError
from .reading import MIB, read_regular_file

RECORDS_NAME = "paste-records.json"
RECORDS_VERSION = 1
MAX_RECORDS = 1000
"""Pastes remembered; the oldest are forgotten first (about 200 bytes each)."""
MAX_RECORDS_BYTES = 4 * MIB
"""The largest record file read: far above ``MAX_RECORDS`` records."""


def default_records_path() -> Path:
    """``paste-records.json`` in the user's data folder (the md5bin store's folder)."""
    return Path(platformdirs.user_data_dir("md5steg", appauthor=False)) / RECORDS_NAME


@dataclass(frozen=True)
class PasteRecord:
    """Where one input was pasted, and when (Unix seconds)."""

    paste_id: str
    url: str
    time: float


class PasteRecords:
    """The record file, loaded; ``find`` before pasting, ``add`` (which saves) after."""

    def __init__(self, path: Union[str, Path], records: Optional[dict[str, PasteRecord]] = None):
        self.path = Path(path)
        self.records: dict[str, PasteRecord] = records if records is not None else {}

    @classmethod
    def load(cls, path: Optional[Union[str, Path]] = None) -> tuple[PasteRecords, Optional[str]]:
        """The records at ``path`` (default: the user's), and a warning if the file was unusable."""
        path = Path(path) if path is not None else default_records_path()
        try:
            data = read_regular_file(
                path,
                MAX_RECORDS_BYTES,
                what="the paste record",
                error=ManifestError,
                follow_symlinks=True,  # the user's own data folder
            )
        except FileNotFoundError:
            return cls(path), None
        except ManifestError as exc:
            return cls(path), f"{exc}; it is ignored, and replaced on the next paste"
        try:
            records = _parse(json.loads(data.decode("utf-8")))
        # RecursionError: what json raises for arrays nested ~1000 deep, instead of ValueError.
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
            return cls(path), (
                f"the paste record {path} is damaged; it is ignored, and replaced on the next paste"
            )
        return cls(path, records), None

    @staticmethod
    def key(target_key: str, content_md5: str) -> str:
        return f"{target_key} {content_md5}"

    def find(self, target_key: str, content_md5: str) -> Optional[PasteRecord]:
        """Where this input went on this target, if it was pasted from here before."""
        return self.records.get(self.key(target_key, content_md5))

    def add(self, target_key: str, content_md5: str, paste_id: str, url: str) -> None:
        """Remember a paste and save the file (atomically, 0600), keeping the newest records."""
        self.records[self.key(target_key, content_md5)] = PasteRecord(paste_id, url, time.time())
        newest = sorted(self.records.items(), key=lambda item: item[1].time)[-MAX_RECORDS:]
        self.records = dict(newest)
        self.save()

    def forget(self, target_key: str, content_md5: str) -> None:
        """Drop a record whose paste is gone (expired, deleted)."""
        if self.records.pop(self.key(target_key, content_md5), None) is not None:
            self.save()

    def save(self) -> None:
        """Write the records, unless the path holds something other than a regular file.

        A FIFO or a device there was reported when loading; writing would
        block or go nowhere, so the records are then kept for this run only.
        """
        try:
            if not stat.S_ISREG(os.stat(self.path).st_mode):
                return
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise ManifestError(f"cannot write the paste record {self.path}: {exc.strerror}") from None
        document = {
            "version": RECORDS_VERSION,
            "pastes": {
                key: {"id": record.paste_id, "url": record.url, "time": record.time}
                for key, record in self.records.items()
            },
        }
        text = json.dumps(document, indent=1, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(self.path, text.encode("utf-8"), mode=0o600)
        except OSError as exc:
            raise ManifestError(
                f"cannot write the paste record {self.path}: {exc.strerror or exc}"
            ) from None


def _parse(document: Any) -> dict[str, PasteRecord]:
    """The records of a loaded document; ``ValueError``/``KeyError``/``TypeError`` if malformed."""
    if not isinstance(document, dict) or document.get("version") != RECORDS_VERSION:
        raise ValueError("not a version 1 paste record")
    pastes = document["pastes"]
    if not isinstance(pastes, dict):
        raise TypeError("pastes is not an object")
    records = {}
    for key, entry in pastes.items():
        paste_id, url, when = entry["id"], entry["url"], entry["time"]
        if not (isinstance(paste_id, str) and isinstance(url, str) and isinstance(when, (int, float))):
            raise TypeError(key)
        if not math.isfinite(when):  # NaN or 1e999 would break the newest-first order
            raise ValueError(key)
        records[str(key)] = PasteRecord(paste_id, url, float(when))
    return records

