"""What the ``md5steg serve`` test modules share: a client for one running server, and content helpers."""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from md5bin_server import launch_md5bin_server, stop_md5bin_server
from md5steg.md5bin.app import CONTENT_SECURITY_POLICY

SMALL_MAX_SIZE = 1000


class Server:
    """A running server: its base URL, process and database file."""

    def __init__(self, base_url: str, process: subprocess.Popen) -> None:  # type: ignore[type-arg]
        self.base_url = base_url
        self.process = process
        self.db_path: Path = process.md5bin_db_path  # type: ignore[attr-defined]
        # One client for all requests: building one per request costs far more than the request.
        self.client = httpx.Client(timeout=30)

    def post(self, content: bytes, **kwargs: object) -> httpx.Response:
        return self.client.post(f"{self.base_url}/", content=content, **kwargs)  # type: ignore[arg-type]

    def post_form(self, **kwargs: object) -> httpx.Response:
        return self.client.post(f"{self.base_url}/", **kwargs)  # type: ignore[arg-type]

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.client.get(f"{self.base_url}{path}", **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.client.close()
        stop_md5bin_server(self.process)

    def row_count(self) -> int:
        with sqlite3.connect(self.db_path) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM pastes").fetchone()[0])


def serve_for_module(
    tmp_path_factory: pytest.TempPathFactory, id_length: int = 6, *options: str
) -> Iterator[Server]:
    """Body of a module-scoped fixture: one server shared by a test module, stopped after it."""
    base_url, process = launch_md5bin_server(
        tmp_path_factory.mktemp("md5bin"), id_length, extra_args=options
    )
    running = Server(base_url, process)
    yield running
    running.stop()


def md5_prefix(content: bytes, length: int = 6) -> str:
    return hashlib.md5(content).hexdigest()[:length]


def unique(label: str) -> bytes:
    """Content no other test posts, so module-scoped servers do not mix tests up."""
    return f"{label} {next(_unique_numbers)} {id(label)}\n".encode()


_unique_numbers = itertools.count()


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
