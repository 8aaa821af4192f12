"""Publishing end to end: md5bin over HTTP and embedded, resume after kill -9, edits, faults."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from md5steg import find
from md5steg.md5bin.store import Md5binStore
from md5steg.pastebins.http import AmbiguousRequestError, HttpSession
from md5steg.pastebins.md5bin import EmbeddedMd5bin
from md5steg.story import StoryError, load_story, make_plan, publish
from story_helpers import (
    EXAMPLE_STORY,
    check_published,
    copy_example,
    graph_story,
    http_fetch,
    write_story,
)

CLI = [sys.executable, "-c", "from md5steg.cli import main; main()"]


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=240)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def pasted_pages(stdout: str) -> list[str]:
    return [
        line.split()[0] for line in stdout.splitlines() if line and not line.startswith("start:")
    ]


def test_example_story_published_over_http_can_be_crawled_from_the_start_url(
    start_md5bin_server: Any, tmp_path: Path
) -> None:
    base_url, _ = start_md5bin_server(tmp_path, id_length=6)
    manifest = tmp_path / "manifest.json"
    result = run_cli("publish", str(EXAMPLE_STORY), "--to", base_url, "--manifest", str(manifest))
    start_url = result.stdout.strip().splitlines()[-1].removeprefix("start: ")
    assert start_url == f"{base_url}/c0ffee"
    story = load_story(EXAMPLE_STORY)
    assert sorted(pasted_pages(result.stdout)) == sorted(story.pages)
    reached = check_published(EXAMPLE_STORY, start_url, http_fetch, expected_pages=len(story.pages))
    # A page that links to itself carries its own URL.
    assert reached["stairs"].encode() in http_fetch(reached["stairs"])
    # The HTML page shows the links as links.
    page = httpx.get(start_url, timeout=10).text
    assert f'href="{reached["lighthouse"]}"' in page
    recorded = json.loads(manifest.read_text())["targets"]
    (record,) = recorded.values()
    assert record["start_url"] == start_url
    assert {name: entry["url"] for name, entry in record["pages"].items()} == reached


def test_default_publish_goes_to_the_local_store_that_serve_serves(
    start_md5bin_server: Any, tmp_path: Path
) -> None:
    folder = graph_story(
        tmp_path / "story",
        {"start": ["cave", "end"], "cave": ["start", "cave"], "end": []},
        "start",
    )
    db_path = tmp_path / "md5bin.sqlite3"
    environment = {**os.environ, "MD5STEG_DB": str(db_path)}
    published = subprocess.run(
        [*CLI, "publish", str(folder), "--id-length", "4", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert published.returncode == 0, published.stderr
    mapping = json.loads(published.stdout)
    assert mapping["start_url"].startswith("http://127.0.0.1:8000/")
    base_url, _ = start_md5bin_server(tmp_path, id_length=None, db_path=db_path)

    def fetch(url: str) -> bytes:
        return http_fetch(url.replace("http://127.0.0.1:8000", base_url))

    urls = check_published(folder, mapping["start_url"], fetch, expected_pages=3)
    assert urls == mapping["pages"]


def test_plan_prints_the_urls_publish_then_uses(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite3")
    story = str(copy_example(tmp_path / "story"))
    planned = run_cli(
        "plan",
        story,
        "--db",
        db,
        "--id-length",
        "4",
        "--manifest",
        str(tmp_path / "m.json"),
        "--json",
    )
    plan = json.loads(planned.stdout)
    assert plan["searches"] == sum(1 for page in plan["order"] if page["search"]) >= 2
    published = run_cli(
        "publish",
        story,
        "--db",
        db,
        "--id-length",
        "4",
        "--manifest",
        str(tmp_path / "m.json"),
        "--json",
    )
    assert json.loads(published.stdout)["pages"] == {
        page["page"]: page["url"] for page in plan["order"]
    }


def test_plan_text_shows_searches_then_what_is_already_published(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from md5steg.cli import cli

    folder = graph_story(tmp_path / "story", {"start": ["cave"], "cave": ["start"]}, "start")
    args = ["--db", str(tmp_path / "db"), "--id-length", "4"]
    before = CliRunner().invoke(cli, ["plan", str(folder), *args, "-j", "1"])
    assert before.exit_code == 0, before.output
    assert "1 page(s) need a search: ~0.0655 M candidates each" in before.output
    assert "[search 4 hex (cycle)]" in before.output
    published = CliRunner().invoke(cli, ["publish", str(folder), *args, "-j", "1", "-q"])
    assert published.exit_code == 0, published.output
    after = CliRunner().invoke(cli, ["plan", str(folder), *args])
    assert after.exit_code == 0, after.output
    lines = after.output.splitlines()
    assert sum("already published" in line for line in lines) == 2
    assert "no search needed" in lines and lines[-1] == published.output.splitlines()[-1]


def test_nothing_is_pasted_again_when_nothing_changed(tmp_path: Path) -> None:
    story = load_story(copy_example(tmp_path / "story"))
    with EmbeddedMd5bin(tmp_path / "db", id_length=4) as pastebin:
        first = publish(story, pastebin, tmp_path / "m.json")
        second = publish(story, pastebin, tmp_path / "m.json")
    assert len(first.pasted) == 15
    assert second.pasted == [] and second.found == [] and second.searches == 0
    assert second.start_url == first.start_url


def _ancestors(graph: dict[str, frozenset[str]], page: str) -> set[str]:
    found = {page}
    changed = True
    while changed:
        changed = False
        for name, targets in graph.items():
            if name not in found and targets & found:
                found.add(name)
                changed = True
    return found


@pytest.mark.parametrize("edited", ["crab", "stairs", "ending-fairy", "start"])
def test_editing_one_page_repastes_only_it_and_the_pages_that_reach_it(
    tmp_path: Path, edited: str
) -> None:
    folder = copy_example(tmp_path / "story")
    with EmbeddedMd5bin(tmp_path / "db", id_length=4) as pastebin:
        publish(load_story(folder), pastebin)
        page_file = next(folder.glob(f"{edited}.*"))
        page_file.write_bytes(page_file.read_bytes() + b"\nA gull watches you.\n")
        story = load_story(folder)
        result = publish(story, pastebin)
        assert set(result.pasted) == _ancestors(story.graph, edited)
        check_published(
            folder, result.start_url, lambda url: pastebin.fetch(url.rsplit("/", 1)[-1]), 15
        )


def test_a_taken_id_moves_the_page_and_its_linkers_follow(tmp_path: Path) -> None:
    folder = graph_story(
        tmp_path / "story", {"start": ["middle"], "middle": ["end"], "end": []}, "start"
    )
    story = load_story(folder)
    with EmbeddedMd5bin(tmp_path / "db", id_length=4) as pastebin:
        natural_id = make_plan(story, pastebin).page("middle").paste_id
        assert natural_id is not None
        squatter = find(b"somebody else's paste\n", prefix=natural_id).apply(
            b"somebody else's paste\n"
        )
        pastebin.paste(squatter)
        notices: list[str] = []
        result = publish(story, pastebin, on_event=lambda event: notices.append(event.message))
        assert result.urls["middle"] != pastebin.url_for(natural_id)
        assert any(f"id {natural_id} is taken" in notice for notice in notices)
        check_published(
            folder, result.start_url, lambda url: pastebin.fetch(url.rsplit("/", 1)[-1]), 3
        )
        assert pastebin.fetch(natural_id) == squatter


def test_publish_resumes_after_kill_9_without_pasting_any_page_twice(tmp_path: Path) -> None:
    # Six quick pages, then a cycle whose pages need 6-hex searches (seconds each): kill in between.
    graph = {f"leaf{index}": [] for index in range(6)}
    graph.update({"start": ["a", *graph], "a": ["b"], "b": ["c"], "c": ["a", "start"]})
    folder = graph_story(tmp_path / "story", graph, "start")
    db_path = tmp_path / "db.sqlite3"
    args = [*CLI, "publish", str(folder), "--db", str(db_path), "-j", "1"]
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    first_run: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        first_run.append(line.split()[0])
        if len(first_run) == 7:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    # Lines printed before the kill that the loop above had not read yet.
    first_run += pasted_pages(process.stdout.read())
    assert len(first_run) >= 7

    second = run_cli(*args[len(CLI) :], "--json")
    report = json.loads(second.stdout)
    second_run = report["pasted"]
    assert not set(first_run) & set(second_run), "a page was pasted by both runs"
    # A page pasted just before the kill, but not yet recorded, is found again, not pasted.
    assert sorted(first_run + second_run + report["found"]) == sorted(graph)
    with Md5binStore(db_path) as store:
        assert store.count() == len(graph)
        start_url = report["start_url"]
        check_published(
            folder, start_url, lambda url: store.get(url.rsplit("/", 1)[-1]).content, len(graph)
        )


class _TrimmingPastebin(BaseHTTPRequestHandler):
    """Speaks md5bin's API but stores each paste with trailing whitespace removed."""

    pastes: dict[str, bytes] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/api/info":
            self._send(
                200,
                json.dumps(
                    {"id_length": 4, "max_size": 100000, "base_url": "", "version": "x"}
                ).encode(),
            )
        elif self.path.startswith("/raw/") and self.path[5:] in self.pastes:
            self._send(200, self.pastes[self.path[5:]])
        else:
            self._send(404, b"no such paste\n")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        paste_id = hashlib.md5(body).hexdigest()[:4]
        self.pastes[paste_id] = body.rstrip()
        host = self.headers["Host"]
        self._send(201, b"ok\n", {"Location": f"http://{host}/{paste_id}"})


@pytest.fixture
def trimming_pastebin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TrimmingPastebin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_pastebin_that_trims_trailing_whitespace_is_caught_naming_the_page(
    trimming_pastebin: str, tmp_path: Path
) -> None:
    folder = write_story(tmp_path / "story", {"start": "Hello.\n[[end]]\n", "end": "The end.   \n"})
    result = run_cli("publish", str(folder), "--to", trimming_pastebin, check=False)
    assert result.returncode == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "page 'end'" in message and "trimmed trailing whitespace" in message


def test_cycle_on_pinnwand_fails_before_anything_is_pasted(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "story", {"start": ["cave"], "cave": ["start"]}, "start")
    # Port 9 (discard) is closed: had publish tried to paste, the error would be a connection error.
    result = run_cli(
        "publish", str(folder), "--target", "pinnwand", "--to", "http://127.0.0.1:9", check=False
    )
    assert result.returncode == 1
    assert "cycle (start -> cave -> start)" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    result = run_cli("publish", str(folder), "--target", "pinnwand", check=False)
    assert result.returncode == 2
    assert "--to" in result.stderr
    result = run_cli("publish", str(folder), "--to", "http://127.0.0.1:9", "--db", "x", check=False)
    assert result.returncode == 2


def test_story_errors_exit_1_with_one_line(tmp_path: Path) -> None:
    folder = write_story(tmp_path / "story", {"start": "go [[nowhere]]\n"})
    result = run_cli("plan", str(folder), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        "start.txt:1: link [[nowhere]] names no page; create nowhere.txt or fix the link"
    )
    assert len(result.stderr.strip().splitlines()) == 1


# --- the HTTP retry policy, against httpx's mock transport -------------------------------------


def _session(responses: list[Any], sleeps: list[float]) -> HttpSession:
    def handler(request: httpx.Request) -> httpx.Response:
        outcome = responses.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return HttpSession(
        transport=httpx.MockTransport(handler), sleep=sleeps.append, backoff_seconds=0.5
    )


def test_retry_after_is_honoured_on_429() -> None:
    sleeps: list[float] = []
    session = _session(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)], sleeps
    )
    assert session.request("POST", "http://x/", idempotent=False).status_code == 200
    assert sleeps == [7.0]


def test_5xx_and_connection_errors_are_retried_with_backoff_when_idempotent() -> None:
    sleeps: list[float] = []
    request = httpx.Request("GET", "http://x/")
    responses = [
        httpx.ConnectError("refused", request=request),
        httpx.Response(503),
        httpx.Response(200),
    ]
    assert (
        _session(responses, sleeps).request("GET", "http://x/", idempotent=True).status_code == 200
    )
    assert sleeps == [0.5, 1.0]


def test_a_non_idempotent_post_is_not_repeated_after_an_ambiguous_failure() -> None:
    sleeps: list[float] = []
    request = httpx.Request("POST", "http://x/")
    with pytest.raises(AmbiguousRequestError):
        _session([httpx.ReadTimeout("slow", request=request), httpx.Response(200)], sleeps).request(
            "POST", "http://x/", idempotent=False
        )
    with pytest.raises(AmbiguousRequestError):
        _session([httpx.Response(502), httpx.Response(200)], sleeps).request(
            "POST", "http://x/", idempotent=False
        )
    assert sleeps == []


def test_a_full_length_vanity_id_that_is_taken_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    folder = write_story(
        tmp_path / "story",
        {"start": "Front door. [[cave]]\n", "cave": "Back to [[start]]\n"},
        '[prefix]\nstart = "c0ff"\n',
    )
    with EmbeddedMd5bin(tmp_path / "db", id_length=4) as pastebin:
        publish(load_story(folder), pastebin, tmp_path / "m.json")
        (folder / "start.txt").write_text("The front door, repainted. [[cave]]\n")
        with pytest.raises(StoryError, match="no free 4-hex id starting with 'c0ff'.*shorten its prefix"):
            publish(load_story(folder), pastebin, tmp_path / "m.json")


def test_plan_with_an_unavailable_engine_is_one_line_exit_1(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "story", {"start": ["start"]}, "start")
    completed = subprocess.run(
        [*CLI, "plan", str(folder), "--engine", "cython", "--db", str(tmp_path / "db")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MD5STEG_NO_EXTENSIONS": "1"},
    )
    assert completed.returncode == 1, completed.stderr
    assert "no compiled engine here" in completed.stderr and "Traceback" not in completed.stderr


def test_a_wrong_id_length_for_a_remote_md5bin_is_refused_before_pasting(
    start_md5bin_server: Any, tmp_path: Path
) -> None:
    base_url, _ = start_md5bin_server(tmp_path, id_length=6)
    folder = graph_story(tmp_path / "story", {"start": ["end"], "end": []}, "start")
    completed = subprocess.run(
        [*CLI, "publish", str(folder), "--to", base_url, "--id-length", "8",
         "--manifest", str(tmp_path / "m.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1, completed.stderr
    assert "uses 6-hex ids" in completed.stderr and "Traceback" not in completed.stderr
    assert httpx.get(f"{base_url}/api/info").json()["id_length"] == 6
    assert pasted_pages(completed.stdout) == []


# --- only the story, and the same story twice is fine ---------------------------------------------


def test_a_page_linked_to_a_private_file_is_refused_before_anything_is_pasted(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "passwd"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    pages = {"start": "Users: [[users]], then [[end]]\n", "end": "Bye\n"}
    folder = write_story(tmp_path / "story", pages)
    (folder / "users.txt").symlink_to(secret)
    database = tmp_path / "db.sqlite3"
    refused = run_cli("publish", str(folder), "--db", str(database), check=False)
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "users.txt: page 'users' is a symbolic link" in refused.stderr
    assert not database.exists(), "the store was opened: something may have been pasted"
    followed = run_cli("publish", str(folder), "--db", str(database), "--follow-symlinks", "--json")
    assert sorted(json.loads(followed.stdout)["pages"]) == ["end", "start", "users"]


@pytest.mark.parametrize("option", ["--to", "--base-url"])
def test_an_unparseable_url_is_a_usage_error_of_one_line(tmp_path: Path, option: str) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    result = run_cli("publish", str(folder), option, "http://[::1", check=False)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"({option}) 'http://[::1' is not a valid URL" in result.stderr


@pytest.mark.parametrize(
    ("manifest", "complaint"),
    [
        (b"\xff{}", "is not UTF-8 text"),
        (b'{"version": 1, "targets": {"k": []}}', "targets.k is list, not dict"),
        (b'{"version": 1, "targets": {"k": {"pages": []}}}', "targets.k.pages is list"),
        (b'{"version": 1, "targets": {"k": {"pages": null}}}', "targets.k.pages is NoneType"),
    ],
    ids=["not-utf8", "target-is-a-list", "pages-is-a-list", "pages-is-null"],
)
def test_a_damaged_manifest_is_one_line_exit_1(
    tmp_path: Path, manifest: bytes, complaint: str
) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    (folder / ".md5steg-manifest.json").write_bytes(manifest)
    result = run_cli("publish", str(folder), "--db", str(tmp_path / "db"), check=False)
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and complaint in result.stderr


def test_a_story_toml_that_is_not_utf8_is_one_line_exit_1(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    (folder / "story.toml").write_bytes(b'start = "st\xe4rt"\n')
    result = run_cli("plan", str(folder), check=False)
    assert result.returncode == 1
    assert result.stderr.strip().endswith("story.toml:1: not valid UTF-8 (byte 11); save story.toml as UTF-8")


def test_make_demo_twice_from_fresh_clones_gives_the_same_start_url_and_pastes_nothing(
    tmp_path: Path,
) -> None:
    # `make demo` publishes examples/story (start page: vanity c0ffee) into the default store.
    environment = {**os.environ, "MD5STEG_DB": str(tmp_path / "md5bin.sqlite3")}
    runs = []
    for clone in ("first", "second"):
        folder = tmp_path / clone / "examples" / "story"
        shutil.copytree(EXAMPLE_STORY, folder, ignore=shutil.ignore_patterns(".*"))
        runs.append(
            subprocess.run(
                [*CLI, "publish", str(folder)], capture_output=True, text=True, timeout=240, env=environment
            )
        )
    first, second = runs
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1] == "start: http://127.0.0.1:8000/c0ffee"
    assert len(pasted_pages(first.stdout)) == 15 and pasted_pages(second.stdout) == []
    assert "nothing to paste" in second.stderr
    with Md5binStore(tmp_path / "md5bin.sqlite3") as store:
        assert store.count() == 15


def test_two_people_publishing_one_story_to_one_md5bin_at_once_get_the_same_urls(
    start_md5bin_server: Any, tmp_path: Path
) -> None:
    base_url, server = start_md5bin_server(tmp_path, id_length=4)
    processes = [
        subprocess.Popen(
            [*CLI, "publish", str(copy_example(tmp_path / person)), "--to", base_url, "--json", "-j", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for person in ("alice", "bob")
    ]
    outputs = [process.communicate(timeout=240) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    alice, bob = (json.loads(stdout) for stdout, _ in outputs)
    assert alice["pages"] == bob["pages"]
    with Md5binStore(server.md5bin_db_path) as store:
        assert store.count() == 15
    check_published(
        tmp_path / "alice", alice["start_url"], http_fetch, expected_pages=15
    )


# --- nothing outside the story: symlinked manifests, hard links, unreachable pages, special files --


def test_a_symlinked_manifest_in_the_story_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    (folder / ".md5steg-manifest.json").symlink_to(victim)
    database = tmp_path / "db.sqlite3"
    for command in ("plan", "publish"):
        refused = run_cli(command, str(folder), "--db", str(database), check=False)
        assert refused.returncode == 1, refused.stderr
        assert refused.stderr.count("\n") == 1, refused.stderr
        assert ".md5steg-manifest.json is a symbolic link" in refused.stderr
    assert victim.read_bytes() == b"precious\n"
    assert not database.exists(), "the store was opened: something may have been pasted"
    # A dangling link would be created by the write: refused just the same.
    (folder / ".md5steg-manifest.json").unlink()
    (folder / ".md5steg-manifest.json").symlink_to(tmp_path / "created-by-publish")
    assert run_cli("publish", str(folder), "--db", str(database), check=False).returncode == 1
    assert not (tmp_path / "created-by-publish").exists()


def test_a_manifest_link_the_user_names_or_follows_is_used(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    record = tmp_path / "record.json"
    (tmp_path / "named-link").symlink_to(record)
    database = tmp_path / "db.sqlite3"
    run_cli("publish", str(folder), "--db", str(database), "--manifest", str(tmp_path / "named-link"))
    assert (tmp_path / "named-link").is_symlink() and "targets" in json.loads(record.read_text())
    (folder / ".md5steg-manifest.json").symlink_to(record)
    followed = run_cli("publish", str(folder), "--db", str(database), "--follow-symlinks")
    assert "nothing to paste" in followed.stderr


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_manifest_that_is_a_device_or_a_fifo_is_refused_at_once(tmp_path: Path, special: str) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    if special == "fifo":
        special = str(tmp_path / "fifo")
        os.mkfifo(special)
    result = subprocess.run(
        [*CLI, "publish", str(folder), "--db", str(tmp_path / "db"), "--manifest", special],
        capture_output=True,
        text=True,
        timeout=60,  # the old code read /dev/zero until memory ran out, and a FIFO for ever
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1
    assert "the manifest is a character device" in result.stderr or "the manifest is a FIFO" in result.stderr


def test_a_manifest_over_the_read_limit_is_refused(tmp_path: Path) -> None:
    from md5steg.story.manifest import MAX_MANIFEST_BYTES

    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    with open(folder / ".md5steg-manifest.json", "wb") as handle:
        handle.truncate(MAX_MANIFEST_BYTES + 1)
    result = run_cli("publish", str(folder), "--db", str(tmp_path / "db"), check=False)
    assert result.returncode == 1
    assert "the manifest is larger than 8 MiB" in result.stderr


def test_a_hard_link_to_a_private_file_is_not_published(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    os.link(secret, folder / "pw.txt")
    database = tmp_path / "db.sqlite3"
    refused = run_cli("publish", str(folder), "--db", str(database), check=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "pw.txt: page 'pw' has 2 hard links" in refused.stderr
    assert not database.exists()
    # Even with links followed, a page no link reaches is left out.
    followed = run_cli("publish", str(folder), "--db", str(database), "--follow-symlinks", "--json")
    assert sorted(json.loads(followed.stdout)["pages"]) == ["start"]
    assert "pw (left out; --include-unreachable publishes them)" in followed.stderr
    with Md5binStore(database) as store:
        assert store.count() == 1


def test_unreachable_pages_are_published_only_when_asked(tmp_path: Path) -> None:
    folder = graph_story(tmp_path / "story", {"start": [], "draft": ["start"]}, "start")
    database = tmp_path / "db.sqlite3"
    plan = json.loads(run_cli("plan", str(folder), "--db", str(database), "--json").stdout)
    assert [page["page"] for page in plan["order"]] == ["start"]
    published = run_cli("publish", str(folder), "--db", str(database), "--include-unreachable", "--json")
    assert sorted(json.loads(published.stdout)["pages"]) == ["draft", "start"]


@pytest.mark.parametrize("command", ["publish", "plan", "paste", "serve"])
def test_help_shows_examples_one_per_line(command: str) -> None:
    help_text = run_cli(command, "--help").stdout
    examples = help_text.split("Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert examples
    for example in examples:
        # The first md5steg of the line is this command (paste's may read a pipe first).
        assert example.split("md5steg ", 1)[1].startswith(f"{command} "), example


@pytest.mark.parametrize("command", ["publish", "plan"])
def test_json_is_one_line(tmp_path: Path, command: str) -> None:
    folder = graph_story(tmp_path / "story", {"start": []}, "start")
    output = run_cli(command, str(folder), "--db", str(tmp_path / "db"), "--json").stdout
    assert output.count("\n") == 1 and json.loads(output)["start"] == "start"
