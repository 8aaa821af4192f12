"""The publish manifest: what has been pasted where, so a re-run continues instead of starting over.

One JSON file (default ``<story>/.md5steg-manifest.json``) holds a record per
target (``Pastebin.target_key``), and in it one record per page::

    {"id": "c0ffee", "url": "http://127.0.0.1:8000/c0ffee",
     "md5": "<MD5 of the pasted bytes>", "source_md5": "<MD5 of the page file>",
     "rendered_md5": "<MD5 of the page with links replaced, before any suffix>",
     "preassigned": true, "suffix_hex": "20090a"}

A pre-assigned page gets a record without ``md5`` before anything is pasted,
so an interrupted run reuses its id. The file is rewritten atomically after
every paste: a crash leaves the old record or the new one, never half a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Union

from ..files import write_atomic
from .errors import ManifestError

MANIFEST_NAME = ".md5steg-manifest.json"
MANIFEST_VERSION = 1


def default_manifest_path(story_folder: Union[str, Path]) -> Path:
    """Where the manifest lives unless ``--manifest`` says otherwise."""
    return Path(story_folder) / MANIFEST_NAME


class Manifest:
    """The manifest file, loaded; change it with ``record`` and persist with ``save``."""

    def __init__(self, path: Union[str, Path], data: dict[str, Any]) -> None:
        self.path = Path(path)
        self.data = data

    @classmethod
    def load(cls, path: Union[str, Path]) -> Manifest:
        """Read the manifest at ``path``; a missing file is an empty manifest."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path, {"version": MANIFEST_VERSION, "targets": {}})
        except OSError as exc:
            raise ManifestError(f"cannot read the manifest {path}: {exc.strerror}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(
                f"the manifest {path} is not valid JSON ({exc.msg}, line {exc.lineno}); "
                f"delete it to publish every page again"
            ) from None
        if (
            not isinstance(data, dict)
            or data.get("version") != MANIFEST_VERSION
            or not isinstance(data.get("targets"), dict)
        ):
            raise ManifestError(
                f"the manifest {path} is not an md5steg manifest of version {MANIFEST_VERSION}; "
                f"delete it or pass another path with --manifest"
            )
        return cls(path, data)

    def target(self, key: str, description: str = "") -> dict[str, Any]:
        """The record of one target, created empty if new."""
        targets: dict[str, Any] = self.data["targets"]
        record = targets.setdefault(key, {"target": description, "pages": {}, "attempts": {}})
        if description:
            record["target"] = description
        record.setdefault("pages", {})
        record.setdefault("attempts", {})
        return record  # type: ignore[no-any-return]

    def pages(self, key: str) -> dict[str, dict[str, Any]]:
        """Page records for target ``key`` (a live dict: changes go into the manifest)."""
        return self.target(key)["pages"]  # type: ignore[no-any-return]

    def save(self) -> None:
        """Write the manifest atomically."""
        text = json.dumps(self.data, indent=2, sort_keys=True) + "\n"
        try:
            write_atomic(self.path, text.encode("utf-8"))
        except OSError as exc:
            raise ManifestError(
                f"cannot write the manifest {self.path}: {exc.strerror or exc}; "
                f"choose another place with --manifest"
            ) from None
