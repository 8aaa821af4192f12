"""``md5steg serve`` against slow, stalled and numerous clients, over real sockets.

Each test starts a real server process with short limits (about a second), so
a stalled client is dealt with quickly; the socket timeouts below are only
generous upper bounds that turn "never answered" into a failure.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from md5bin_server import SERVE_COMMAND, launch_md5bin_server, server_log, stop_md5bin_server
from md5steg.md5bin.headers import SECURITY_HEADERS

NEVER_SECONDS = 20.0  # longer than any limit the servers here are given
PARSERS = ["h11", "httptools"]


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[subprocess.Popen]]:  # type: ignore[type-arg]
    started: list[subprocess.Popen] = []  # type: ignore[type-arg]
    yield started
    for process in started:
        stop_md5bin_server(process)


def start(
    servers: list[subprocess.Popen],  # type: ignore[type-arg]
    directory: Path,
    *options: str,
) -> tuple[str, subprocess.Popen]:  # type: ignore[type-arg]
    base_url, process = launch_md5bin_server(directory, 6, extra_args=options)
    servers.append(process)
    return base_url, process


def connect(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    connection = socket.create_connection((parts.hostname, parts.port), timeout=NEVER_SECONDS)
    return connection


def assert_raw_security_headers(answer: bytes) -> None:
    """The headers the README promises on every response, in a raw answer read off the socket."""
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    for name, value in SECURITY_HEADERS.items():
        assert f"\r\n{name.lower()}: {value.lower()}\r\n" in head + "\r\n", name


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes; socket.timeout if it never does."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def stalled_post(base_url: str) -> socket.socket:
    """A connection that sent a POST head promising 100 body bytes, and 10 of them."""
    connection = connect(base_url)
    connection.sendall(
        b"POST / HTTP/1.1\r\nHost: md5bin\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 100\r\n\r\n" + b"0123456789"
    )
    return connection


@pytest.mark.parametrize("parser", PARSERS)
def test_a_stalled_body_is_answered_408_and_closed(servers, tmp_path: Path, parser: str) -> None:
    base_url, process = start(servers, tmp_path, "--http", parser, "--request-timeout", "1")
    with stalled_post(base_url) as connection:
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive" in answer
    assert_raw_security_headers(answer)
    assert httpx.get(f"{base_url}/api/info", timeout=30).status_code == 200
    assert "Traceback" not in server_log(process)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_connection_that_sends_nothing_is_closed(servers, tmp_path: Path, parser: str) -> None:
    base_url, _ = start(servers, tmp_path, "--http", parser, "--request-timeout", "1")
    with connect(base_url) as connection:
        assert read_until_closed(connection) == b""


@pytest.mark.parametrize("parser", PARSERS)
def test_headers_dribbled_after_a_response_do_not_hold_the_connection(
    servers, tmp_path: Path, parser: str
) -> None:
    # Each byte restarts uvicorn's keep-alive timer; the request deadline does not restart.
    base_url, _ = start(servers, tmp_path, "--http", parser, "--request-timeout", "1")
    with connect(base_url) as connection:
        connection.sendall(b"GET /api/info HTTP/1.1\r\nHost: md5bin\r\n\r\n")
        assert connection.recv(65536).startswith(b"HTTP/1.1 200 ")
        connection.sendall(b"GET /api/info HTTP/1.1\r\n")
        closed = False
        for _ in range(int(NEVER_SECONDS / 0.25)):
            try:
                connection.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.25)
        assert closed


def test_an_idle_keep_alive_connection_is_closed(servers, tmp_path: Path) -> None:
    base_url, _ = start(servers, tmp_path, "--keep-alive-timeout", "1")
    with connect(base_url) as connection:
        connection.sendall(b"GET /api/info HTTP/1.1\r\nHost: md5bin\r\n\r\n")
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("parser", PARSERS)
def test_connections_over_the_limit_are_refused_not_held(
    servers, tmp_path: Path, parser: str
) -> None:
    # A long request deadline: the extra connection must be refused at once, not timed out.
    base_url, _ = start(
        servers, tmp_path, "--http", parser, "--max-connections", "3", "--request-timeout", "120"
    )
    with ExitStack() as idle:
        for _ in range(3):
            idle.enter_context(connect(base_url))
        time.sleep(0.5)  # let the server accept them before the next one
        with connect(base_url) as extra:
            answer = read_until_closed(extra)
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert_raw_security_headers(answer)
    assert httpx.get(f"{base_url}/api/info", timeout=30).status_code == 200


@pytest.mark.parametrize(("parser", "status"), [("h11", b"400"), ("httptools", b"431")])
def test_a_request_head_without_end_is_refused_not_read(
    servers, tmp_path: Path, parser: str, status: bytes
) -> None:
    base_url, _ = start(servers, tmp_path, "--http", parser)
    with connect(base_url) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: md5bin\r\n")
        sent = 0
        try:
            while sent < 4_000_000:  # the old httptools server read all of it
                connection.sendall(b"X-Filler: " + b"a" * 1000 + b"\r\n")
                sent += 1012
        except OSError:  # the server closed the connection: what the test wants
            pass
        answer = read_until_closed(connection)  # never answered before: socket.timeout
    assert answer.startswith(b"HTTP/1.1 " + status + b" ")
    assert_raw_security_headers(answer)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_request_that_cannot_be_parsed_gets_400_with_the_security_headers(
    servers, tmp_path: Path, parser: str
) -> None:
    base_url, process = start(servers, tmp_path, "--http", parser)
    with connect(base_url) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost md5bin\r\n\r\n")  # no colon: not a header
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert_raw_security_headers(answer)
    assert "Traceback" not in server_log(process)


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize(
    ("stop_signal", "status"), [(signal.SIGINT, {130}), (signal.SIGTERM, {143, -signal.SIGTERM})]
)
def test_one_signal_stops_the_server_while_a_client_stalls(
    servers, tmp_path: Path, workers: str, stop_signal: int, status: set[int]
) -> None:
    base_url, process = start(servers, tmp_path, "--workers", workers, "--shutdown-timeout", "2")
    with stalled_post(base_url) as connection:
        time.sleep(0.5)  # the server has the request head and is waiting for the body
        process.send_signal(stop_signal)
        returncode = process.wait(timeout=NEVER_SECONDS)
        answer = read_until_closed(connection)
    assert returncode in status  # a shell shows both SIGTERM exits as 143
    assert answer == b"" or answer.startswith(b"HTTP/1.1 503 ")
    log = server_log(process)
    assert "Traceback" not in log
    if stop_signal == signal.SIGINT:
        assert log.strip().splitlines()[-1] == "md5steg: interrupted"


@pytest.mark.parametrize("parser", PARSERS)
def test_one_ctrl_c_stops_the_server_while_a_client_does_not_read(
    servers, tmp_path: Path, parser: str
) -> None:
    base_url, process = start(servers, tmp_path, "--http", parser, "--shutdown-timeout", "2")
    big = b"a paste too big for the socket buffers\n" * 26000
    paste_id = httpx.post(f"{base_url}/", content=big, timeout=30).text.strip().rsplit("/", 1)[-1]
    parts = urlsplit(base_url)
    with socket.socket() as reader:
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.connect((parts.hostname, parts.port))
        reader.sendall(f"GET /raw/{paste_id} HTTP/1.1\r\nHost: md5bin\r\n\r\n".encode() * 8)
        time.sleep(1)  # responses fill the buffers; the client reads nothing
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=NEVER_SECONDS)
    assert returncode == 130
    log = server_log(process)
    assert "Traceback" not in log
    assert "graceful shutdown exceeded" not in log
    assert log.strip().splitlines()[-1] == "md5steg: interrupted"


def test_workers_share_the_port_and_the_database(servers, tmp_path: Path) -> None:
    base_url, process = start(servers, tmp_path, "--workers", "2")
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    workers = [pid for pid in children.read_text().split() if _is_python(pid)]
    assert len(workers) >= 2
    content = b"posted to every worker at once\n"
    with httpx.Client(timeout=30) as client:
        statuses = sorted(
            client.post(
                f"{base_url}/", content=content, headers={"Connection": "close"}
            ).status_code
            for _ in range(12)
        )
        assert statuses == [200] * 11 + [201]
        location = f"{base_url}/raw/" + hashlib.md5(content).hexdigest()[:6]
        assert all(
            client.get(location, headers={"Connection": "close"}).content == content
            for _ in range(6)
        )


def _is_python(pid: str) -> bool:
    try:
        return "python" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def test_access_log_logs_each_request(servers, tmp_path: Path) -> None:
    base_url, process = start(servers, tmp_path, "--access-log")
    httpx.get(f"{base_url}/raw/abcdef", timeout=30)
    httpx.post(f"{base_url}/", content=b"logged\n", timeout=30)
    deadline = time.monotonic() + NEVER_SECONDS
    while time.monotonic() < deadline and '"POST / HTTP/1.1" 201' not in server_log(process):
        time.sleep(0.1)
    log = server_log(process)
    assert '"GET /raw/abcdef HTTP/1.1" 404' in log
    assert '"POST / HTTP/1.1" 201' in log


def test_without_access_log_requests_are_not_logged(servers, tmp_path: Path) -> None:
    base_url, process = start(servers, tmp_path)
    httpx.get(f"{base_url}/raw/abcdef", timeout=30)
    stop_md5bin_server(process)
    assert "/raw/abcdef" not in server_log(process)


def test_serve_help_lists_the_limits() -> None:
    result = subprocess.run(
        [*SERVE_COMMAND, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    for option in [
        "--workers",
        "--request-timeout",
        "--keep-alive-timeout",
        "--max-connections",
        "--shutdown-timeout",
    ]:
        assert option in result.stdout


@pytest.mark.parametrize(
    ("option", "module"), [("--http=httptools", "httptools"), ("--loop=uvloop", "uvloop")]
)
def test_a_missing_uvicorn_standard_package_is_a_one_line_error(
    tmp_path: Path, option: str, module: str
) -> None:
    # Python skips a module set to None in sys.modules, as if it were not installed.
    code = f"import sys; sys.modules[{module!r}] = None; from md5steg.cli import main; main()"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "serve",
            "--db",
            str(tmp_path / "db.sqlite3"),
            "--port",
            "0",
            option,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {module} is not installed; pip install 'uvicorn[standard]', or leave the choice to auto"
    ]
