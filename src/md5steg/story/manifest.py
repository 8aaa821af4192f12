"""The publish manifest: what has been pasted where, so a re-run continues instead of starting over.

One JSON file (default ``<story>/.md5steg-manifest.json``) holds a record per
target (``Pastebin.target_key``), and in it one record per page::

    {"id": "c0ffee", "url": "http://127.0.0.1:8000/c0ffee",
     "md5": "<MD5 of the pasted bytes>", "source_md5": "<MD5 of the page file>",
     "rendered_md5": "<MD5 of the page with links replaced, before any suffix>",
     "preassigned": true, "suffix_hex": "20090a"}

The file is rewritten atomically after every paste: a crash leaves the old
record or the new one, never half a file.
Everything read is checked once, in ``Manifest.load``: a file that is not
UTF-8, not JSON, or has a field of the wrong type is one ``ManifestError``.

The manifest is only a cache of what the pastebin holds: losing it costs
nothing on md5bin, where a fresh copy of the story finds its pages again.

The default manifest sits in the story folder, which may come from someone
else: there a symbolic link would make ``publish`` create or replace a file
anywhere the user can write, so ``Manifest.load`` and ``save`` refuse one
unless ``follow_symlinks`` (``--follow-symlinks``, or a ``--manifest PATH`` the
user names). Only a regular file of at most ``MAX_MANIFEST_BYTES`` is read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from ..files import remove_stale_temp_files, write_atomic
from .errors import ManifestError
from .reading import MIB, read_regular_file

MANIFEST_NAME = ".md5steg-manifest.json"
MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 8 * MIB
"""The largest manifest read: a record per page is some 300 bytes, so ample for any story."""


def default_manifest_path(story_folder: Union[str, Path]) -> Path:
    """Where the manifest lives unless ``--manifest`` says otherwise."""
    return Path(story_folder) / MANIFEST_NAME


def load_manifest(
    story_folder: Union[str, Path],
    manifest_path: Optional[Union[str, Path]] = None,
    *,
    follow_symlinks: bool = False,
) -> Manifest:
    """The manifest a command uses: ``manifest_path`` as named (a link there is the user's
    choice), else the story folder's own, whose link is refused unless ``follow_symlinks``."""
    if manifest_path is not None:
        return Manifest.load(manifest_path, follow_symlinks=True)
    return Manifest.load(default_manifest_path(story_folder), follow_symlinks=follow_symlinks)


@dataclass
class PageRecord:
    """Where one page lives on one target; ``md5`` is None until the paste is done."""

    id: str
    url: str
    source_md5: str = ""
    preassigned: bool = False
    md5: Optional[str] = None
    rendered_md5: Optional[str] = None
    suffix_hex: str = ""

    @property
    def pasted(self) -> bool:
        return self.md5 is not None


@dataclass
class TargetRecord:
    """Everything published to one target: pages, start page, interrupted random-id pastes."""

    target: str = ""
    pages: dict[str, PageRecord] = field(default_factory=dict)
    attempts: dict[str, str] = field(default_factory=dict)
    """Page -> MD5 of the bytes being pasted to a random-id pastebin (cleared once done)."""
    start: Optional[str] = None
    start_url: Optional[str] = None


_PAGE_FIELDS: dict[str, tuple[type, bool]] = {
    # field: (type, required)
    "id": (str, True),
    "url": (str, True),
    "source_md5": (str, False),
    "preassigned": (bool, False),
    "md5": (str, False),
    "rendered_md5": (str, False),
    "suffix_hex": (str, False),
}


class _Invalid(Exception):
    """A field of the wrong shape; ``Manifest.load`` turns it into one ``ManifestError``."""


def _expect(value: object, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        raise _Invalid(f"{where} is {type(value).__name__}, not {kind.__name__}")
    return value


def _page_record(value: object, where: str) -> PageRecord:
    record = _expect(value, dict, where)
    values: dict[str, Any] = {}
    for name, (kind, required) in _PAGE_FIELDS.items():
        if record.get(name) is None:
            if required:
                raise _Invalid(f"{where} has no {name!r}")
            continue
        values[name] = _expect(record[name], kind, f"{where}.{name}")
    return PageRecord(**values)


def _target_record(value: object, where: str) -> TargetRecord:
    record = _expect(value, dict, where)
    pages = _expect(record.get("pages", {}), dict, f"{where}.pages")
    attempts = _expect(record.get("attempts", {}), dict, f"{where}.attempts")
    for name, digest in attempts.items():
        _expect(digest, str, f"{where}.attempts.{name}")
    optional = {
        key: _expect(record[key], str, f"{where}.{key}")
        for key in ("target", "start", "start_url")
        if record.get(key) is not None
    }
    return TargetRecord(
        pages={name: _page_record(page, f"{where}.pages.{name}") for name, page in pages.items()},
        attempts=dict(attempts),
        **optional,
    )


def _as_json(targets: dict[str, TargetRecord]) -> dict[str, Any]:
    def page(record: PageRecord) -> dict[str, Any]:
        return {key: value for key, value in vars(record).items() if value is not None}

    return {
        "version": MANIFEST_VERSION,
        "targets": {
            key: {
                "target": record.target,
                "start": record.start,
                "start_url": record.start_url,
                "pages": {name: page(entry) for name, entry in record.pages.items()},
                "attempts": record.attempts,
            }
            for key, record in targets.items()
        },
    }


class Manifest:
    """The manifest file, loaded and checked; change its records and persist with ``save``.

    With ``path`` None it lives in memory only (``md5steg paste``: one page,
    nothing to resume).
    """

    def __init__(
        self,
        path: Optional[Union[str, Path]],
        targets: Optional[dict[str, TargetRecord]] = None,
        *,
        follow_symlinks: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.follow_symlinks = follow_symlinks
        self.targets: dict[str, TargetRecord] = targets if targets is not None else {}

    @classmethod
    def load(cls, path: Union[str, Path], *, follow_symlinks: bool = False) -> Manifest:
        """Read and check the manifest at ``path``; a missing file is an empty manifest.

        A symbolic link is refused unless ``follow_symlinks`` (and so is every
        later ``save`` through one); so are FIFOs, devices and files over
        ``MAX_MANIFEST_BYTES``. Temp files that a killed run left beside it
        are removed first (``md5steg.files.remove_stale_temp_files``).
        """
        path = Path(path)
        manifest = cls(path, follow_symlinks=follow_symlinks)
        manifest._check_not_a_link()
        remove_stale_temp_files(os.path.dirname(os.path.realpath(path)) or ".")
        try:
            data = read_regular_file(
                path,
                MAX_MANIFEST_BYTES,
                what="the manifest",
                error=ManifestError,
                follow_symlinks=follow_symlinks,
                hint="pass another path with --manifest",
            )
        except FileNotFoundError:
            return manifest
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ManifestError(
                f"the manifest {path} is not UTF-8 text (byte {exc.start}); "
                f"delete it or pass another path with --manifest"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(
                f"the manifest {path} is not valid JSON ({exc.msg}, line {exc.lineno}); "
                f"delete it or pass another path with --manifest"
            ) from None
        except RecursionError:  # json raises it, not ValueError, past ~1000 levels of nesting
            raise ManifestError(
                f"the manifest {path} is JSON nested too deeply to be a manifest; "
                f"delete it or pass another path with --manifest"
            ) from None
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            raise ManifestError(
                f"the manifest {path} is not an md5steg manifest of version {MANIFEST_VERSION}; "
                f"delete it or pass another path with --manifest"
            )
        try:
            targets = _expect(data.get("targets"), dict, "targets")
            records = {key: _target_record(value, f"targets.{key}") for key, value in targets.items()}
        except _Invalid as exc:
            raise ManifestError(
                f"the manifest {path} is damaged: {exc}; delete it or pass another path with --manifest"
            ) from None
        manifest.targets = records
        return manifest

    def _check_not_a_link(self) -> None:
        """Refuse a manifest path that is a symbolic link, unless told to follow it."""
        if self.path is not None and not self.follow_symlinks and self.path.is_symlink():
            raise ManifestError(
                f"the manifest {self.path} is a symbolic link (to {os.readlink(self.path)}); "
                f"md5steg would write where it points; delete the link, pass --manifest PATH, "
                f"or --follow-symlinks"
            )

    def target(self, key: str, description: str = "") -> TargetRecord:
        """The record of one target, created empty if new."""
        record = self.targets.setdefault(key, TargetRecord())
        if description:
            record.target = description
        return record

    def pages(self, key: str) -> dict[str, PageRecord]:
        """Page records for target ``key`` (live: changes go into the manifest)."""
        return self.target(key).pages

    def save(self) -> None:
        """Write the manifest atomically (an in-memory manifest: nothing to do)."""
        if self.path is None:
            return
        self._check_not_a_link()
        text = json.dumps(_as_json(self.targets), indent=2, sort_keys=True) + "\n"
        try:
            write_atomic(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise ManifestError(
                f"cannot write the manifest {self.path}: {exc.strerror or exc}; "
                f"choose another place with --manifest"
            ) from None
