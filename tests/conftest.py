"""Shared fixtures: every core test runs against both engines (as propcache does)."""

from __future__ import annotations

import os
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
