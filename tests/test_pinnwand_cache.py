"""The shared pinnwand venv: built under a lock and renamed into place, so runs at once both pass.

A real pip install into a real venv, of a tiny wheel made here (no network):
the protocol is the same whatever is installed.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pinnwand_server import READY_MARKER, cached_venv

PROBE = "md5steg_probe"


def make_wheel(folder: Path) -> Path:
    """A minimal pure-Python wheel of the module ``md5steg_probe``."""
    files = {
        f"{PROBE}.py": b"ANSWER = 42\n",
        f"{PROBE}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {PROBE}\nVersion: 1.0\n".encode(),
        f"{PROBE}-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for name, data in files.items()
    ]
    files[f"{PROBE}-1.0.dist-info/RECORD"] = ("\n".join([*record, f"{PROBE}-1.0.dist-info/RECORD,,"]) + "\n").encode()
    wheel = folder / f"{PROBE}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


@pytest.fixture()
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    make_wheel(folder)
    return folder


BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from pinnwand_server import cached_venv
print(cached_venv(Path(sys.argv[1]), [{probe!r}], ["--no-index", "--find-links", sys.argv[2]]))
"""


def test_two_runs_building_the_venv_at_once_both_get_a_complete_one(tmp_path: Path, wheels: Path) -> None:
    venv = tmp_path / "cache" / "venv"
    script = BUILD.format(tests=str(Path(__file__).parent), probe=PROBE)
    builders = [
        subprocess.Popen([sys.executable, "-c", script, str(venv), str(wheels)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [builder.communicate(timeout=300) for builder in builders]
    for builder, (stdout, stderr) in zip(builders, results):
        assert builder.returncode == 0, stderr
        python = Path(stdout.decode().strip())
        assert python == venv / "bin" / "python"
        used = subprocess.run([str(python), "-c", f"import {PROBE}; print({PROBE}.ANSWER)"], capture_output=True)
        assert used.stdout == b"42\n", used.stderr
    assert sorted(path.name for path in venv.parent.iterdir()) == ["venv", "venv.lock"], "no temp folder is left"
    assert (venv / READY_MARKER).exists()


def test_an_unfinished_venv_is_built_again_instead_of_being_used(tmp_path: Path, wheels: Path) -> None:
    """What an interrupted build of the old kind left: a python, but nothing installed."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = cached_venv(venv, [PROBE], ["--no-index", "--find-links", str(wheels)])
    used = subprocess.run([str(python), "-c", f"import {PROBE}; print({PROBE}.ANSWER)"], capture_output=True)
    assert used.stdout == b"42\n", used.stderr
