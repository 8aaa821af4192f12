"""Shared fixtures: every core test runs against both engines (as propcache does)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from md5steg._engine import available_engines

settings.register_profile(
    "md5steg", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
settings.load_profile("md5steg")

pytest_plugins = ("md5bin_server", "pinnwand_server", "fake_pastebin")
"""Fixtures that start real servers: ``start_md5bin_server`` and ``pinnwand_url``."""

ENGINES = ["cython", "python"]


@pytest.fixture(scope="session", params=ENGINES, ids=lambda name: f"engine={name}")
def engine(request: pytest.FixtureRequest) -> str:
    """The engine name to search with; the compiled one is skipped where it is not built."""
    if request.param not in available_engines():
        pytest.skip(f"the {request.param} engine is not available in this environment")
    return str(request.param)


SYSTEM_DEVICES = ("/dev/null", "/dev/zero", "/dev/full")


@pytest.fixture(scope="session", autouse=True)
def system_devices_survive() -> Iterator[None]:
    """Fail the run if a test left /dev/null, /dev/zero or /dev/full as anything but a character device.

    md5steg once replaced /dev/null with a regular file when run as root with
    ``-o /dev/null``; every later program on the machine would then have
    written into that file.
    """
    yield
    broken = [path for path in SYSTEM_DEVICES if not stat.S_ISCHR(os.lstat(path).st_mode)]
    assert not broken, f"the test run replaced {', '.join(broken)}: restore with mknod (as root) now"


@pytest.fixture(scope="session", autouse=True)
def private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Resume records of the suite's searches (and its CLI subprocesses) go to a temp folder, never ~."""
    folder = tmp_path_factory.mktemp("state")
    previous = os.environ.get("MD5STEG_STATE_DIR")
    os.environ["MD5STEG_STATE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("MD5STEG_STATE_DIR", None)
    else:
        os.environ["MD5STEG_STATE_DIR"] = previous
