"""Shared fixtures: every core test runs against both engines (as propcache does)."""

from __future__ import annotations

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
