"""A real pinnwand 1.5.0 for tests, installed once into a cached venv and bound to 127.0.0.1.

pinnwand's own ``http`` command listens on every interface and rate-limits
creates (2 per IP), and its spam score refuses link-heavy pastes (a story
page is mostly links). The wrapper below loads a TOML configuration the way
``pinnwand --configuration-path`` does, raises those limits, and serves on
127.0.0.1 on a free port, printing the URL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PINNWAND_VERSION = "1.5.0"
VENV = Path(
    os.environ.get(
        "MD5STEG_PINNWAND_VENV",
        Path(tempfile.gettempdir()) / f"md5steg-pinnwand-{PINNWAND_VERSION}",
    )
)

WRAPPER = """
import asyncio, sys
try:
    import tomllib
except ImportError:
    import tomli as tomllib
from pinnwand import configuration
with open(sys.argv[1], "rb") as handle:
    for key, value in tomllib.load(handle).items():
        setattr(configuration, key, value)
from pinnwand import database
database.Base.metadata.create_all(database._engine)
from pinnwand.http import make_application
import tornado.httpserver, tornado.netutil

async def main():
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(make_application(False), xheaders=True)
    server.add_sockets(sockets)
    print(f"pinnwand: serving http://127.0.0.1:{sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""

CONFIGURATION = """
database_uri = "sqlite:///{database}"
spamscore = 101
paste_size = 262144

[ratelimit.read]
capacity = 100000
consume = 1
refill = 100000

[ratelimit.create]
capacity = 100000
consume = 1
refill = 100000

[ratelimit.delete]
capacity = 100000
consume = 1
refill = 100000
"""


def pinnwand_python() -> Path:
    """The venv's Python with pinnwand installed (built once, then reused); skips if it cannot be."""
    python = VENV / "bin" / "python"
    if python.exists():
        return python
    building = Path(tempfile.mkdtemp(prefix="md5steg-pinnwand-build-"))
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(building)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        installed = subprocess.run(
            [
                str(building / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                f"pinnwand=={PINNWAND_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if installed.returncode != 0:
            pytest.skip(
                f"cannot install pinnwand=={PINNWAND_VERSION} (no network?): {installed.stderr.strip()[-300:]}"
            )
        # Recreate at the final path: a venv's scripts hold its absolute path.
        if not VENV.exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)],
                check=True,
                capture_output=True,
                timeout=120,
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", f"pinnwand=={PINNWAND_VERSION}"],
                check=True,
                capture_output=True,
                timeout=300,
            )
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return python


@pytest.fixture(scope="session")
def pinnwand_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running pinnwand on 127.0.0.1 for the whole session; its URL."""
    import httpx  # only where a server starts: plain core test runs lack it

    python = pinnwand_python()
    directory = tmp_path_factory.mktemp("pinnwand")
    (directory / "serve.py").write_text(WRAPPER)
    (directory / "config.toml").write_text(
        CONFIGURATION.format(database=directory / "pinnwand.sqlite3")
    )
    log = open(directory / "log", "w+")  # noqa: SIM115 - open for the server's whole life
    process = subprocess.Popen(
        [str(python), str(directory / "serve.py"), str(directory / "config.toml")],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("pinnwand: serving "):
            log.seek(0)
            raise RuntimeError(f"pinnwand did not start: {line!r} {log.read()[-2000:]}")
        url = line.split()[-1]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/v1/lexer", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
