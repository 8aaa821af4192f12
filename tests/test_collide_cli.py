"""``md5steg collide``: two files with one MD5 on disk, and every way it must refuse or stop."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from md5steg._engine import available_engines
from md5steg.cli import cli

needs_compiled = pytest.mark.skipif(
    "cython" not in available_engines(), reason="whole collisions in the suite need the compiled core (pure Python: minutes each)"
)
HELLO = b"hello\n"
HELLO_SEED = "7"  # finishes in few attempts after HELLO (as in the README)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def assert_colliding_files(first: Path, second: Path, prefix: bytes) -> None:
    data1, data2 = first.read_bytes(), second.read_bytes()
    assert data1 != data2 and md5_of(first) == md5_of(second)
    assert data1.startswith(prefix) and data2.startswith(prefix)


@needs_compiled
def test_collide_writes_two_files_with_one_md5(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "hello.txt"
    source.write_bytes(HELLO)
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    result = runner.invoke(cli, ["collide", str(source), "-o", str(first), str(second), "--seed", HELLO_SEED, "-j", "1"])
    assert result.exit_code == 0, result.output
    assert_colliding_files(first, second, HELLO)
    assert first.read_bytes()[:64] == HELLO + bytes(64 - len(HELLO))
    assert len(first.read_bytes()) == 64 + 128
    digest = md5_of(first)
    assert result.stdout == f"{digest}  {first}\n{digest}  {second}\n"
    assert source.read_bytes() == HELLO


@needs_compiled
def test_collide_reads_stdin_and_reports_json(runner: CliRunner, tmp_path: Path) -> None:
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    result = runner.invoke(
        cli,
        ["collide", "-", "-o", str(first), str(second), "--seed", HELLO_SEED, "-j", "1", "--json"],
        input=HELLO,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert_colliding_files(first, second, HELLO)
    assert report["md5"] == md5_of(first) and report["files"] == [str(first), str(second)]
    assert report["seed"] == int(HELLO_SEED) and report["jobs"] == 1 and report["engine"] == "cython"
    assert report["block_offsets"] == [64, 128] and report["attempts"] > 0 and report["seconds"] > 0
    assert report["prefix_bytes"] == len(HELLO) and report["suffix_hex"] == "" and report["target"] is None


@needs_compiled
def test_same_seed_writes_the_same_files(runner: CliRunner, tmp_path: Path) -> None:
    runs = []
    for name in ("one", "two"):
        first, second = tmp_path / f"{name}1", tmp_path / f"{name}2"
        result = runner.invoke(cli, ["collide", "-o", str(first), str(second), "--seed", "8", "-j", "1", "-q"])
        assert result.exit_code == 0, result.output
        runs.append((first.read_bytes(), second.read_bytes()))
    assert runs[0] == runs[1]


@needs_compiled
def test_prefix_option_gives_a_vanity_collision(runner: CliRunner, tmp_path: Path) -> None:
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    result = runner.invoke(cli, ["collide", "-o", str(first), str(second), "--prefix", "c0", "--seed", "8", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert_colliding_files(first, second, b"")
    assert md5_of(first).startswith("c0")


def test_no_outputs_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["collide"])
    assert result.exit_code == 2 and "-o" in result.output


@pytest.mark.parametrize("how", ["same-path", "dot-slash", "symlink", "hard-link"])
def test_the_same_output_twice_is_refused(runner: CliRunner, tmp_path: Path, how: str) -> None:
    first = tmp_path / "a.bin"
    first.write_bytes(b"keep me\n")
    second = {"same-path": first, "dot-slash": Path(f"{tmp_path}/./a.bin")}.get(how, tmp_path / "b.bin")
    if how == "symlink":
        second.symlink_to(first)
    elif how == "hard-link":
        os.link(first, second)
    result = runner.invoke(cli, ["collide", "-o", str(first), str(second), "--engine", "python"])
    assert result.exit_code == 2 and "same file" in result.output
    assert first.read_bytes() == b"keep me\n"


def test_an_unwritable_output_is_refused_before_searching(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["collide", "-o", str(tmp_path / "missing" / "a"), str(tmp_path / "b"), "--engine", "python"]
    )
    assert result.exit_code == 2 and "does not exist" in result.output
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_an_output_that_is_not_a_regular_file_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = runner.invoke(cli, ["collide", "-o", str(fifo), str(tmp_path / "b"), "--engine", "python"])
    assert result.exit_code == 2 and "FIFO" in result.output
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


@pytest.mark.parametrize("kind", ["folder", "fifo", "missing"])
def test_an_input_that_is_not_a_regular_file_is_refused(runner: CliRunner, tmp_path: Path, kind: str) -> None:
    source = tmp_path / "input"
    if kind == "folder":
        source.mkdir()
    elif kind == "fifo":
        os.mkfifo(source)
    outputs = [str(tmp_path / "a"), str(tmp_path / "b")]
    result = runner.invoke(cli, ["collide", str(source), "-o", *outputs, "--engine", "python"])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "Traceback" not in result.output
    assert not any(os.path.exists(path) for path in outputs)


def test_a_huge_input_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "huge"
    with open(source, "wb") as stream:
        stream.truncate((64 << 20) + 1)  # sparse: costs no disk
    outputs = [str(tmp_path / "a"), str(tmp_path / "b")]
    result = runner.invoke(cli, ["collide", str(source), "-o", *outputs, "--engine", "python"])
    assert result.exit_code == 1 and "larger than 64 MiB" in result.output
    assert not any(os.path.exists(path) for path in outputs)


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to see worker processes")
@pytest.mark.parametrize(("signum", "jobs", "status"), [
    (signal.SIGINT, "1", 130),
    (signal.SIGINT, "2", 130),
    (signal.SIGTERM, "2", 143),
])
def test_interrupt_writes_nothing_and_leaves_no_worker(tmp_path: Path, signum: int, jobs: str, status: int) -> None:
    # Seeds 9 and 10 take the pure engine minutes: the signal surely comes mid-search.
    process = subprocess.Popen(
        [sys.executable, "-c", "from md5steg.cli import main; main()", "collide", "-q", "--engine", "python",
         "--seed", "9", "-j", jobs, "-o", str(tmp_path / "a"), str(tmp_path / "b")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + (2 if jobs == "1" else 30)  # one job searches in the parent
        while time.monotonic() < deadline:
            workers = children_of(process.pid)
            if jobs != "1" and len(workers) >= int(jobs):
                break
            time.sleep(0.05)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == status, stderr
    assert stderr.strip() == (b"md5steg: terminated" if signum == signal.SIGTERM else b"md5steg: interrupted")
    assert not [pid for pid in workers if alive(pid)], "a worker process survived"
    assert os.listdir(tmp_path) == []


@needs_compiled
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_stdout_is_one_line_and_exit_1(tmp_path: Path) -> None:
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-c", "from md5steg.cli import main; main()", "collide", "-q", "--seed", "8",
             "-j", "1", "-o", str(first), str(second)],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    assert completed.returncode == 1
    assert completed.stderr.count(b"\n") == 1 and b"cannot write to stdout" in completed.stderr
    assert_colliding_files(first, second, b"")
