"""A real pinnwand 1.5.0 for tests, installed once into a cached venv and bound to 127.0.0.1.

pinnwand's own ``http`` command listens on every interface and rate-limits
creates (2 per IP), and its spam score refuses link-heavy pastes (a story
page is mostly links). The wrapper below loads a TOML configuration the way
``pinnwand --configuration-path`` does, raises those limits, and serves on
127.0.0.1 on a free port, printing the URL.

The venv is shared by every test run on the machine (``MD5STEG_PINNWAND_VENV``
moves it). ``cached_venv`` builds it under a lock into a temp folder beside
it and renames that into place, with a ready marker inside: two runs at once
both get a complete venv, and an interrupted build is started over instead of
being taken for a finished one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

PINNWAND_VERSION = "1.5.0"
VENV = Path(
    os.environ.get(
        "MD5STEG_PINNWAND_VENV",
        # One per Python version: a venv's python is a link to the interpreter that built it.
        Path(tempfile.gettempdir()) / f"md5steg-pinnwand-{PINNWAND_VERSION}-py{sys.version_info[0]}.{sys.version_info[1]}",
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


READY_MARKER = ".md5steg-ready"
"""Written last inside a finished venv: a venv without it is a build that did not finish."""


class VenvBuildError(Exception):
    """The packages could not be installed (no network, no such version)."""


def cached_venv(venv: Path, requirements: Sequence[str], pip_options: Sequence[str] = ()) -> Path:
    """The Python of the venv at ``venv`` with ``requirements`` installed, built once and then reused.

    Built under ``<venv>.lock`` into a temp folder beside ``venv`` and renamed
    into place when complete, so a concurrent run waits and then reuses it, and
    an interrupted build leaves only a temp folder the next build ignores.
    """
    python = venv / "bin" / "python"
    if (venv / READY_MARKER).exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run building: wait for it, then reuse its venv
        if (venv / READY_MARKER).exists():
            return python
        building = Path(tempfile.mkdtemp(prefix=f"{venv.name}.building-", dir=venv.parent))
        try:
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(building)], check=True, capture_output=True, timeout=120)
            installed = subprocess.run(
                [sys.executable, "-m", "pip", "--python", str(building / "bin" / "python"), "install", "-q",
                 *pip_options, *requirements],
                capture_output=True,
                text=True,
                timeout=300,
            )
            if installed.returncode != 0:
                raise VenvBuildError(installed.stderr.strip()[-300:])
            (building / READY_MARKER).write_text(" ".join(requirements) + "\n")
            if venv.exists():  # what an interrupted build of the old kind left: never complete
                shutil.rmtree(venv)
            os.rename(building, venv)  # the venv's python finds its prefix from where it is: it moves
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return python


def pinnwand_python() -> Path:
    """The venv's Python with pinnwand installed (built once, then reused); skips if it cannot be."""
    try:
        return cached_venv(VENV, [f"pinnwand=={PINNWAND_VERSION}"])
    except VenvBuildError as exc:
        pytest.skip(f"cannot install pinnwand=={PINNWAND_VERSION} (no network?): {exc}")


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
