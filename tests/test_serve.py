"""``md5steg serve``: posting and the command itself, driven against real server processes."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from md5bin_server import SERVE_COMMAND, launch_md5bin_server, server_log
from md5steg.md5bin.store import Md5binStore
from serve_helpers import (
    SMALL_MAX_SIZE,
    Server,
    assert_security_headers,
    md5_prefix,
    serve_for_module,
    unique,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One default server (6-character ids, small max size) shared by this module's tests."""
    yield from serve_for_module(tmp_path_factory, 6, "--max-size", str(SMALL_MAX_SIZE))


@pytest.fixture(scope="module")
def short_id_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with 4-character ids, where collisions are easy to find."""
    yield from serve_for_module(tmp_path_factory, 4)


def colliding_contents(id_length: int) -> tuple[bytes, bytes]:
    """Two different small texts whose MD5s share their first ``id_length`` hex digits."""
    seen: dict[str, bytes] = {}
    for number in itertools.count():
        content = f"serve collision {number}\n".encode()
        prefix = md5_prefix(content, id_length)
        if prefix in seen:
            return seen[prefix], content
        seen[prefix] = content
    raise AssertionError("unreachable")


def run_serve(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [*SERVE_COMMAND, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


# --- posting ---------------------------------------------------------------------------------


def test_post_new_content_returns_201_with_location_and_url(server: Server) -> None:
    content = unique("a new chapter")
    response = server.post(content)
    expected_url = f"{server.base_url}/{md5_prefix(content)}"
    assert response.status_code == 201
    assert response.headers["location"] == expected_url
    assert response.text == expected_url + "\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert_security_headers(response)


def test_posting_the_same_content_again_returns_200_and_adds_no_row(server: Server) -> None:
    content = unique("posted twice")
    first = server.post(content)
    rows_after_first = server.row_count()
    second = server.post(content)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.text == first.text
    assert second.headers["location"] == first.headers["location"]
    assert server.row_count() == rows_after_first


def test_different_content_with_a_taken_id_returns_409_naming_the_id(
    short_id_server: Server,
) -> None:
    first, second = colliding_contents(4)
    taken_id = md5_prefix(first, 4)
    assert short_id_server.post(first).status_code == 201
    response = short_id_server.post(second)
    assert response.status_code == 409
    assert taken_id in response.text
    assert "taken" in response.text
    assert_security_headers(response)
    assert short_id_server.get(f"/raw/{taken_id}").content == first


def test_short_id_server_reports_its_id_length(short_id_server: Server) -> None:
    assert short_id_server.get("/api/info").json()["id_length"] == 4
    content = unique("four")
    assert short_id_server.post(content).headers["location"].endswith("/" + md5_prefix(content, 4))


def test_form_field_content_urlencoded_is_stored_exactly(server: Server) -> None:
    content = "form text \t with\r\nlines \x0b\x0c \u200b\n".encode() + unique("urlencoded")
    response = server.post_form(data={"content": content.decode()})
    assert response.status_code == 201
    assert response.headers["location"].endswith("/" + md5_prefix(content))
    assert server.get(f"/raw/{md5_prefix(content)}").content == content


def test_form_field_content_multipart_is_stored_exactly(server: Server) -> None:
    content = b"multipart\r\n\r\n--not-a-boundary\r\n trailing \t\x0b\x0c" + unique("multipart")
    response = server.post_form(files={"content": ("story.txt", content)})
    assert response.status_code == 201
    assert server.get(f"/raw/{md5_prefix(content)}").content == content


def test_multipart_without_content_field_is_400(server: Server) -> None:
    response = server.post_form(files={"text": ("story.txt", b"hello")})
    assert response.status_code == 400
    assert "content" in response.text


def test_multipart_without_a_boundary_is_400(server: Server) -> None:
    response = server.post(b"content=x", headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 400
    assert "boundary" in response.text
    assert_security_headers(response)


def test_urlencoded_body_without_a_content_field_is_stored_raw(server: Server) -> None:
    content = b"name=value&other=" + unique("no-content-field").strip().replace(b" ", b"+")
    response = server.post(content, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 201
    assert server.get(f"/raw/{md5_prefix(content)}").content == content


def test_curl_style_body_with_form_content_type_is_stored_raw(server: Server) -> None:
    # `curl --data-binary @file` labels the raw file application/x-www-form-urlencoded.
    content = b"content=this is a story, not a form\nwith lines & ampersands\n" + unique("curl")
    response = server.post(content, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 201
    assert server.get(f"/raw/{md5_prefix(content)}").content == content


@pytest.mark.parametrize(
    "content",
    [b"", b"   ", b"\n\r\n\t\x0b\x0c", "\u200b\u200d\ufeff\n".encode()],
    ids=["empty", "spaces", "ascii-whitespace", "zero-width"],
)
def test_blank_content_is_400(server: Server, content: bytes) -> None:
    rows_before = server.row_count()
    response = server.post(content)
    assert response.status_code == 400
    assert "empty" in response.text or "whitespace" in response.text
    assert_security_headers(response)
    assert server.row_count() == rows_before


def test_content_over_max_size_is_413(server: Server) -> None:
    assert server.post(b"x" * (SMALL_MAX_SIZE - 1) + b"\n").status_code in (200, 201)
    response = server.post(b"y" * (SMALL_MAX_SIZE + 1))
    assert response.status_code == 413
    assert str(SMALL_MAX_SIZE) in response.text
    assert_security_headers(response)


def test_chunked_body_over_max_size_is_413(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"z" * (SMALL_MAX_SIZE // 2)

    response = server.post(chunks())  # type: ignore[arg-type]
    assert response.status_code == 413


def test_form_field_over_max_size_is_413(server: Server) -> None:
    response = server.post_form(data={"content": "w" * (SMALL_MAX_SIZE + 1)})
    assert response.status_code == 413


def test_concurrent_posts_of_the_same_content_leave_one_row(server: Server) -> None:
    content = unique("everyone posts this at once")
    rows_before = server.row_count()
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(lambda _: server.post(content).status_code, range(24)))
    assert statuses == [200] * 23 + [201]
    assert server.row_count() == rows_before + 1


CURL = shutil.which("curl")


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
@pytest.mark.parametrize(
    "how", [["--data-binary", "@{file}"], ["-F", "content=@{file}"]], ids=["raw", "form-file"]
)
def test_curl_posts_as_the_readme_says_are_stored_byte_exact(
    server: Server, tmp_path: Path, how: list[str]
) -> None:
    content = b"a story=with & signs %41\r\nand\ttabs \x0b\n" + unique("curl") + b"  \n\n"
    story = tmp_path / "story.txt"
    story.write_bytes(content)
    arguments = [argument.format(file=story) for argument in how]
    posted = subprocess.run(
        [CURL, "-sS", *arguments, f"{server.base_url}/"], capture_output=True, timeout=60
    )
    assert posted.stdout.decode() == f"{server.base_url}/{md5_prefix(content)}\n"
    assert server.get(f"/raw/{md5_prefix(content)}").content == content


def test_a_browser_post_is_sent_on_to_the_paste_with_303(server: Server) -> None:
    # Post/Redirect/Get: a reload then reads the paste instead of posting again.
    content = unique("browser")
    browser = {"Accept": "text/html,application/xhtml+xml"}
    response = server.post_form(files={"content": (None, content)}, headers=browser)
    assert response.status_code == 303
    assert response.headers["location"] == f"{server.base_url}/{md5_prefix(content)}"
    assert_security_headers(response)
    page = server.client.get(response.headers["location"], headers=browser)
    assert page.status_code == 200 and content.decode().strip() in page.text


@pytest.mark.parametrize(
    "content",
    [b"latin-1 caf\xe9\n", b"\xff\xfe not UTF-8 at all \x80\n", "caf\u00e9 UTF-8\n".encode()],
    ids=["latin-1", "invalid-utf8", "utf8"],
)
def test_a_multipart_text_field_is_stored_as_the_exact_bytes_sent(server: Server, content: bytes) -> None:
    content += unique("text field")
    response = server.post_form(files={"content": (None, content)})  # a text field, not a file
    assert response.status_code == 201, response.text
    assert server.get(f"/raw/{md5_prefix(content)}").content == content


def test_a_urlencoded_field_that_is_not_utf8_is_stored_as_the_exact_bytes_sent(server: Server) -> None:
    content = b"\xff\xfe caf\xe9 " + unique("urlencoded bytes")
    body = b"content=" + urllib.parse.quote_from_bytes(content).encode()
    response = server.post(body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 201, response.text
    assert server.get(f"/raw/{md5_prefix(content)}").content == content


@pytest.mark.parametrize("kind", ["urlencoded", "multipart"])
def test_a_form_with_two_content_fields_is_400(server: Server, kind: str) -> None:
    if kind == "urlencoded":
        response = server.post(
            b"content=one&content=two", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    else:
        response = server.post_form(files=[("content", (None, b"one")), ("content", (None, b"two"))])
    assert response.status_code == 400
    assert "more than one field named 'content'" in response.text


# --- the command itself ----------------------------------------------------------------------


def test_base_url_option_sets_paste_urls(start_md5bin_server, tmp_path: Path) -> None:  # noqa: F811
    base_url, _ = start_md5bin_server(
        tmp_path, 6, extra_args=["--base-url", "https://bin.example.com/"]
    )
    content = b"behind a proxy\n"
    response = httpx.post(f"{base_url}/", content=content, timeout=30)
    assert response.headers["location"] == f"https://bin.example.com/{md5_prefix(content)}"
    assert (
        httpx.get(f"{base_url}/api/info", timeout=30).json()["base_url"]
        == "https://bin.example.com"
    )


def test_serve_prints_url_and_database_on_one_line(start_md5bin_server, tmp_path: Path) -> None:  # noqa: F811
    base_url, process = start_md5bin_server(tmp_path, 6)
    first_line = server_log(process).splitlines()[0]
    assert first_line.startswith(f"md5bin: serving {base_url} from ")
    assert str(process.md5bin_db_path) in first_line


def test_ctrl_c_stops_the_server_with_130_and_no_traceback(tmp_path: Path) -> None:
    _, process = launch_md5bin_server(tmp_path, 6)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    log = server_log(process)
    assert "Traceback" not in log
    assert log.strip().splitlines()[-1] == "md5steg: interrupted"


def test_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as occupier:
        occupier.bind(("127.0.0.1", 0))
        occupier.listen()
        port = occupier.getsockname()[1]
        result = run_serve("--db", str(tmp_path / "db.sqlite3"), "--port", str(port))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: the port is already in use; "
        "stop the other server or choose another --port (0 picks a free one)"
    ]


@pytest.mark.parametrize("id_length", ["3", "33", "six"])
def test_bad_id_length_is_a_usage_error(tmp_path: Path, id_length: str) -> None:
    result = run_serve(
        "--db", str(tmp_path / "db.sqlite3"), "--port", "0", "--id-length", id_length
    )
    assert result.returncode == 2
    assert "--id-length" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()


def test_id_length_mismatch_with_the_database_exits_1(tmp_path: Path) -> None:
    from md5steg.md5bin import Md5binStore

    Md5binStore(tmp_path / "db.sqlite3", id_length=6).close()
    result = run_serve("--db", str(tmp_path / "db.sqlite3"), "--port", "0", "--id-length", "8")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "created with 6-character ids, not 8" in result.stderr


def test_bad_base_url_exits_1(tmp_path: Path) -> None:
    result = run_serve("--db", str(tmp_path / "db.sqlite3"), "--port", "0", "--base-url", "ftp://x")
    assert result.returncode == 1
    assert "base URL" in result.stderr


def test_serve_has_help_text() -> None:
    result = run_serve("--help")
    assert result.returncode == 0
    for option in ["--db", "--host", "--port", "--id-length", "--base-url", "--max-size"]:
        assert option in result.stdout


def test_find_does_not_import_the_web_stack() -> None:
    code = (
        "import sys; from md5steg.cli import cli; cli.get_command(None, 'find'); "
        "import md5steg.md5bin; "
        "web = ('starlette', 'uvicorn'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in web)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# --- the operator removes a paste ----------------------------------------------------------------


def test_a_removed_paste_answers_410_and_its_id_is_never_given_out_again(
    start_md5bin_server, tmp_path: Path  # noqa: F811
) -> None:
    base_url, process = start_md5bin_server(tmp_path, id_length=6)
    database = process.md5bin_db_path
    content = b"something that must go\n"
    paste_id = md5_prefix(content)
    assert httpx.post(f"{base_url}/", content=content, timeout=30).status_code == 201
    removed = subprocess.run(
        [*SERVE_COMMAND, "--db", str(database), "--remove", paste_id],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == f"{paste_id}: removed (23 bytes); it now answers 410 Gone\n"
    for path in (f"/{paste_id}", f"/raw/{paste_id}", f"/{paste_id}.json"):
        gone = httpx.get(base_url + path, timeout=30)
        assert gone.status_code == 410 and gone.text == f"paste {paste_id} was removed from this md5bin\n"
        assert_security_headers(gone)
    page = httpx.get(f"{base_url}/{paste_id}", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 410 and "<h1>410 Gone</h1>" in page.text
    again = httpx.post(f"{base_url}/", content=content, timeout=30)
    assert again.status_code == 409 and "was removed from this md5bin" in again.text
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM pastes").fetchone()[0] == 0


def test_remove_with_a_wrong_id_removes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    with Md5binStore(database, 6) as store:
        kept = store.put(b"keep me\n").paste_id
    for bad in ("zz", "000000"):
        result = subprocess.run(
            [*SERVE_COMMAND, "--db", str(database), "--remove", kept, "--remove", bad],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1 and result.stderr.count("\n") == 1
        assert "nothing was removed" in result.stderr
    with Md5binStore(database) as store:
        assert store.get(kept) is not None


@pytest.mark.parametrize("host", [b"\xff", b"", b"h\xc3\xa9te"], ids=["not-utf8", "empty", "non-ascii"])
def test_a_host_that_is_not_ascii_is_a_usage_error_not_a_traceback(tmp_path: Path, host: bytes) -> None:
    result = subprocess.run(
        [*SERVE_COMMAND, "--db", str(tmp_path / "db"), "--port", "0", "--host", host],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert b"Traceback" not in result.stderr and b"is not an address to listen on" in result.stderr
