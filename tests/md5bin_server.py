"""Start real ``md5steg serve`` processes for tests, on a free port with a temp database.

The fixture is registered for every test by ``pytest_plugins`` in conftest.py::

    def test_publish(start_md5bin_server, tmp_path):
        base_url, process = start_md5bin_server(tmp_path, id_length=6)

Every server the fixture started is stopped (SIGINT, then kill) at teardown.
Outside pytest, ``launch_md5bin_server`` and ``stop_md5bin_server`` do the same.
The server listens on port 0 (the kernel picks a free port, so no race) and the
helper reads the URL from the one line the server prints to stderr.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Optional

import pytest

SERVE_COMMAND = [sys.executable, "-c", "from md5steg.cli import main; main()", "serve"]
STARTUP_TIMEOUT_SECONDS = 60.0
_SERVING_LINE = re.compile(r"md5bin: serving (http://\S+)")
_server_numbers = itertools.count()


def server_log(process: subprocess.Popen) -> str:  # type: ignore[type-arg]
    """What the server wrote to stderr so far (kept in a file beside its database)."""
    log_path: Path = process.md5bin_log_path  # type: ignore[attr-defined]
    return log_path.read_text(errors="replace")


def launch_md5bin_server(
    directory: Path,
    id_length: Optional[int] = 6,
    *,
    db_path: Optional[Path] = None,
    extra_args: Sequence[str] = (),
    file_size_limit: Optional[int] = None,
) -> tuple[str, subprocess.Popen]:  # type: ignore[type-arg]
    """Start ``md5steg serve`` and wait until it answers; returns (base URL, process).

    The process has ``md5bin_db_path`` and ``md5bin_log_path`` attributes.
    ``file_size_limit`` caps every file the server writes (RLIMIT_FSIZE, with
    SIGXFSZ ignored, so a write past it fails with EFBIG as on a full quota).
    """
    number = next(_server_numbers)
    db_path = db_path or directory / f"md5bin-{number}.sqlite3"
    log_path = directory / f"md5bin-{number}.log"
    arguments = [*SERVE_COMMAND, "--db", str(db_path), "--port", "0", *extra_args]
    if id_length is not None:
        arguments += ["--id-length", str(id_length)]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            arguments,
            stdout=subprocess.DEVNULL,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=environment,
            preexec_fn=_limit_file_size(file_size_limit) if file_size_limit else None,
        )
    process.md5bin_db_path = db_path  # type: ignore[attr-defined]
    process.md5bin_log_path = log_path  # type: ignore[attr-defined]
    try:
        base_url = _wait_until_answering(process)
    except BaseException:
        stop_md5bin_server(process)
        raise
    return base_url, process


def _limit_file_size(limit: int) -> Callable[[], None]:
    def limit_in_child() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_in_child


def _wait_until_answering(process: subprocess.Popen) -> str:  # type: ignore[type-arg]
    import httpx  # only where a server starts: plain core test runs lack it

    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    base_url: Optional[str] = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"md5steg serve exited with {process.returncode}: {server_log(process)}"
            )
        if base_url is None:
            match = _SERVING_LINE.search(server_log(process))
            if match:
                base_url = match.group(1)
        if base_url is not None:
            try:
                if httpx.get(f"{base_url}/api/info", timeout=5).status_code == 200:
                    return base_url
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"md5steg serve did not answer in time: {server_log(process)}")


def stop_md5bin_server(process: subprocess.Popen) -> Optional[int]:  # type: ignore[type-arg]
    """Stop a server as Ctrl-C would; kill it if it does not stop. Returns its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    return process.returncode


def corrupt_table_pages(path: Path) -> None:
    """Overwrite the b-tree root pages of ``pastes`` (and its key index) with junk."""
    with sqlite3.connect(path) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        roots = [
            row[0]
            for row in connection.execute(
                "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'pastes'"
            )
        ]
    assert roots
    with open(path, "r+b") as handle:
        for root in roots:
            handle.seek((root - 1) * page_size)
            handle.write(b"\xa5" * page_size)


SMALL_FILESYSTEM_BYTES = 256 * 1024


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A folder on a 256 KiB tmpfs (mounted as root), so a database there fills the disk for real.

    Skips where mounting is not allowed (not root, or no CAP_SYS_ADMIN).
    """
    mount_point = tmp_path / "small-filesystem"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_FILESYSTEM_BYTES}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


@pytest.fixture
def start_md5bin_server() -> Iterator[Callable[..., tuple[str, subprocess.Popen]]]:  # type: ignore[type-arg]
    """A function ``(tmp_path, id_length=6, **options) -> (base_url, process)``.

    Every server it started is stopped at teardown.
    """
    started: list[subprocess.Popen] = []  # type: ignore[type-arg]

    def start(
        directory: Path, id_length: Optional[int] = 6, **options: object
    ) -> tuple[str, subprocess.Popen]:  # type: ignore[type-arg]
        base_url, process = launch_md5bin_server(directory, id_length, **options)  # type: ignore[arg-type]
        started.append(process)
        return base_url, process

    yield start
    for process in started:
        stop_md5bin_server(process)
