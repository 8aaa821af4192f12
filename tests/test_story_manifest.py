"""The publish manifest: typed records, one-line errors for every damaged file, no temp file left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from md5steg.story import ManifestError
from md5steg.story.manifest import Manifest, PageRecord, TargetRecord

GOOD_PAGE = {"id": "c0ffee", "url": "http://x/c0ffee", "md5": "ab", "preassigned": True}


def _manifest(path: Path, targets: object, version: object = 1) -> Path:
    path.write_text(json.dumps({"version": version, "targets": targets}), encoding="utf-8")
    return path


def test_records_survive_a_save_and_load_as_typed_records(tmp_path: Path) -> None:
    manifest = Manifest.load(tmp_path / "m.json")
    target = manifest.target("md5bin:x", "md5bin at x")
    target.pages["start"] = PageRecord(id="c0ffee", url="http://x/c0ffee", md5="ab", preassigned=True)
    target.attempts["end"] = "cd"
    target.start, target.start_url = "start", "http://x/c0ffee"
    manifest.save()
    loaded = Manifest.load(tmp_path / "m.json")
    assert loaded.targets == {"md5bin:x": target}
    assert isinstance(loaded.targets["md5bin:x"], TargetRecord)
    assert loaded.pages("md5bin:x")["start"].pasted


def test_a_record_written_before_the_paste_loads_as_not_pasted(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "m.json", {"k": {"pages": {"start": {"id": "ab", "url": "u"}}}})
    assert not Manifest.load(path).pages("k")["start"].pasted


@pytest.mark.parametrize(
    ("targets", "complaint"),
    [
        ({"k": []}, "targets.k is list, not dict"),
        ({"k": {"pages": []}}, "targets.k.pages is list, not dict"),
        ({"k": {"pages": None}}, "targets.k.pages is NoneType, not dict"),
        ({"k": {"pages": {"start": None}}}, "targets.k.pages.start is NoneType, not dict"),
        ({"k": {"pages": {"start": {"url": "u"}}}}, "targets.k.pages.start has no 'id'"),
        ({"k": {"pages": {"start": {**GOOD_PAGE, "id": 7}}}}, "targets.k.pages.start.id is int"),
        (
            {"k": {"pages": {"start": {**GOOD_PAGE, "preassigned": "yes"}}}},
            "targets.k.pages.start.preassigned is str, not bool",
        ),
        ({"k": {"attempts": {"start": 1}}}, "targets.k.attempts.start is int"),
        ({"k": {"start_url": ["x"]}}, "targets.k.start_url is list"),
        ([], "targets is list, not dict"),
    ],
)
def test_a_damaged_manifest_is_one_error_naming_the_field(
    tmp_path: Path, targets: object, complaint: str
) -> None:
    path = _manifest(tmp_path / "m.json", targets)
    with pytest.raises(ManifestError, match="is damaged") as caught:
        Manifest.load(path)
    message = str(caught.value)
    assert complaint in message and "delete it" in message and "\n" not in message


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"\xff\xfe{}", "is not UTF-8 text (byte 0)"),
        (b"{nope", "is not valid JSON"),
        (b"[]", "is not an md5steg manifest of version 1"),
        (b'{"version": 2, "targets": {}}', "is not an md5steg manifest of version 1"),
    ],
)
def test_a_manifest_that_is_not_ours_is_one_error(
    tmp_path: Path, content: bytes, complaint: str
) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError, match=re.escape(complaint)):
        Manifest.load(path)


def test_a_manifest_that_cannot_be_read_or_written_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="the manifest is a folder, not a regular file"):
        Manifest.load(tmp_path)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ManifestError, match="cannot read the manifest .*Not a directory"):
        Manifest.load(tmp_path / "file" / "m.json")
    with pytest.raises(ManifestError, match="cannot write the manifest .*--manifest"):
        Manifest(tmp_path / "file" / "m.json").save()


def test_a_temp_file_left_by_a_killed_writer_is_removed_on_the_next_load(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    # A real writer killed with SIGKILL between writing its temp file and renaming it.
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time\n"
            "from md5steg.story.manifest import Manifest\n"
            "def stall(*args):\n"
            "    print('written', flush=True)\n"
            "    time.sleep(120)\n"
            "os.replace = stall\n"
            "Manifest.load(sys.argv[1]).save()\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline() == "written\n"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    (left,) = tmp_path.glob(f".md5steg-{writer.pid}-*.tmp")
    assert left.read_bytes().startswith(b"{")
    alive = tmp_path / f".md5steg-{os.getppid()}-stillwriting.tmp"  # its writer still runs
    alive.write_bytes(b"{}")
    Manifest.load(path)
    assert not left.exists() and alive.exists()
    assert not path.exists(), "the killed run's manifest was never renamed into place"


def test_a_manifest_that_is_a_socket_is_named_a_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a socket fails with ENXIO, which read 'No such device or address'."""
    monkeypatch.chdir(tmp_path)  # a short relative name: socket paths are limited to ~100 bytes
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind("manifest.sock")
        with pytest.raises(ManifestError, match=r"manifest\.sock: the manifest is a socket, not a regular file"):
            Manifest.load("manifest.sock")
