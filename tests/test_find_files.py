"""`md5steg find` and the user's files: what it refuses, and what it never destroys or loses."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from md5steg.files import NotRegularFileError, write_atomic, write_atomic_group
from md5steg.rewrite import FileChangedError, FileRewrite

MD5STEG = [sys.executable, "-c", "from md5steg.cli import main; main()"]
WAIT = 60.0


def md5steg(*arguments: str, **options: Any) -> subprocess.CompletedProcess[bytes]:
    if "stdout" not in options:
        options.setdefault("capture_output", True)
    return subprocess.run([*MD5STEG, *arguments], timeout=WAIT, **options)


def one_line_error(completed: subprocess.CompletedProcess[bytes]) -> str:
    """The single stderr line of a failed run (and proof that there was no traceback)."""
    text = completed.stderr.decode()
    assert "Traceback" not in text, text
    assert text.strip() and text.strip().count("\n") == 0, f"not one line: {text!r}"
    return text


def listing(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


@pytest.fixture()
def page(tmp_path: Path) -> Path:
    path = tmp_path / "page.txt"
    path.write_bytes(b"You stand at the mouth of a cave.\nGo in? [[cave]]\n")
    return path


# 1. Only regular files are rewritten in place.


def test_fifo_is_refused_in_place_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    completed = md5steg("find", "-q", "--prefix", "00", str(fifo))
    assert completed.returncode == 1
    assert "FIFO" in one_line_error(completed) and "-o OUT" in completed.stderr.decode()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert listing(tmp_path) == ["pipe"]


def test_device_node_is_refused_in_place_and_stays_a_device(tmp_path: Path) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    completed = md5steg("find", "-q", "--prefix", "00", str(device))
    assert completed.returncode == 1
    assert "character device" in one_line_error(completed)
    assert stat.S_ISCHR(device.lstat().st_mode)
    assert listing(tmp_path) == ["null"]


def test_socket_is_refused_in_place(tmp_path: Path) -> None:
    path = tmp_path / "listener"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        completed = md5steg("find", "-q", "--prefix", "00", str(path))
    finally:
        server.close()
    assert completed.returncode == 1
    assert "is a socket" in one_line_error(completed)
    assert stat.S_ISSOCK(path.lstat().st_mode)


def feed_fifo(fifo: Path, content: bytes) -> threading.Thread:
    def write() -> None:
        with open(fifo, "wb") as writer:
            writer.write(content)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_fifo_can_be_read_when_the_result_goes_elsewhere(tmp_path: Path, engine: str) -> None:
    fifo, result = tmp_path / "pipe", tmp_path / "result.txt"
    os.mkfifo(fifo)
    writer = feed_fifo(fifo, b"made by a command, as with <(cmd)\n" * 1000)
    completed = md5steg("find", "-q", "--engine", engine, "--prefix", "00", "-o", str(result), str(fifo))
    writer.join(WAIT)
    assert completed.returncode == 0, completed.stderr
    assert result.read_bytes().startswith(b"made by a command, as with <(cmd)\n" * 1000)
    reported = completed.stdout.split()[0].decode()
    assert hashlib.md5(result.read_bytes()).hexdigest() == reported and reported.startswith("00")
    assert listing(tmp_path) == ["pipe", "result.txt"]


def read_fifo_in_background(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as reader:
            received.append(reader.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, received


def test_a_fifo_at_the_destination_is_written_into_and_stays_a_fifo(page: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    reader, received = read_fifo_in_background(fifo)
    completed = md5steg("find", "-q", "--prefix", "00", "-o", str(fifo), str(page))
    reader.join(WAIT)
    assert completed.returncode == 0, completed.stderr
    assert received[0].startswith(page.read_bytes())
    assert hashlib.md5(received[0]).hexdigest() == completed.stdout.split()[0].decode()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert listing(tmp_path) == ["out", "page.txt"]


def special_files(tmp_path: Path) -> dict[str, Path]:
    """A folder, a socket and (where mknod is allowed) a copy of /dev/null's device node."""
    made = {"folder": tmp_path / "folder", "socket": tmp_path / "socket"}
    made["folder"].mkdir()
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(made["socket"]))
    listener.close()  # the socket file stays
    with contextlib.suppress(PermissionError):
        os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        made["character device"] = tmp_path / "null"
    return made


def file_kind(path: Path) -> int:
    return stat.S_IFMT(path.lstat().st_mode)


@pytest.mark.parametrize("kind", ["folder", "socket", "character device"])
def test_write_atomic_refuses_a_special_file_and_leaves_it_alone(tmp_path: Path, kind: str) -> None:
    made = special_files(tmp_path)
    if kind not in made:
        pytest.skip("creating a device node needs CAP_MKNOD")
    before, names = file_kind(made[kind]), listing(tmp_path)
    with pytest.raises(NotRegularFileError, match=f"{made[kind]} is an? {kind}"):
        write_atomic(made[kind], b"secret")
    assert file_kind(made[kind]) == before and listing(tmp_path) == names
    os.symlink(made[kind], tmp_path / "link")
    with pytest.raises(NotRegularFileError):
        write_atomic(tmp_path / "link", b"secret")  # followed, and refused just the same
    assert file_kind(made[kind]) == before and listing(tmp_path) == sorted([*names, "link"])


def test_write_atomic_writes_into_a_fifo_instead_of_replacing_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader, received = read_fifo_in_background(fifo)
    write_atomic(fifo, b"through the pipe")
    reader.join(WAIT)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and listing(tmp_path) == ["pipe"]


@pytest.mark.parametrize("written", ["keep.txt/", "keep.txt/.", "keep.txt/..", "keep.txt/../new", "new/"])
def test_write_atomic_refuses_a_path_through_a_file_as_cp_does(tmp_path: Path, written: str) -> None:
    """``keep.txt/`` names a folder: the kernel says "Not a directory", and so does md5steg.

    ``os.path.realpath`` drops the slash (and folds ``keep.txt/..``), so the old
    code replaced keep.txt or created a file named ``new``.
    """
    (tmp_path / "keep.txt").write_bytes(b"precious\n")
    with pytest.raises(NotRegularFileError, match="Not a directory"):
        write_atomic(f"{tmp_path}/{written}", b"secret")
    assert (tmp_path / "keep.txt").read_bytes() == b"precious\n" and listing(tmp_path) == ["keep.txt"]


def test_write_atomic_with_a_trailing_slash_on_a_folder_refuses_the_folder(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(NotRegularFileError, match="is a folder"):
        write_atomic(f"{tmp_path}/folder/", b"secret")
    assert listing(tmp_path) == ["folder"] and listing(tmp_path / "folder") == []


@pytest.mark.parametrize("written", ["keep.txt/", "new/"])
def test_find_refuses_an_output_path_with_a_trailing_slash_in_one_line(page: Path, tmp_path: Path, written: str) -> None:
    (tmp_path / "keep.txt").write_bytes(b"precious\n")
    names, original = listing(tmp_path), page.read_bytes()
    completed = md5steg("find", "-q", "--prefix", "0", "-o", f"{tmp_path}/{written}", str(page))
    assert completed.returncode == 1
    assert "Not a directory" in one_line_error(completed)
    assert listing(tmp_path) == names and (tmp_path / "keep.txt").read_bytes() == b"precious\n"
    assert page.read_bytes() == original


@pytest.mark.parametrize("kind", ["folder", "socket", "character device"])
def test_find_refuses_a_special_destination_in_one_line_and_leaves_it_alone(
    page: Path, tmp_path: Path, kind: str
) -> None:
    made = special_files(tmp_path)
    if kind not in made:
        pytest.skip("creating a device node needs CAP_MKNOD")
    before, names = file_kind(made[kind]), listing(tmp_path)
    original = page.read_bytes()
    completed = md5steg("find", "-q", "--prefix", "00", "-o", str(made[kind]), str(page))
    assert completed.returncode == 1
    assert f"{made[kind]} is a" in one_line_error(completed) and kind in completed.stderr.decode()
    assert file_kind(made[kind]) == before and listing(tmp_path) == names and page.read_bytes() == original


def test_a_destination_that_becomes_a_device_before_the_rename_is_not_replaced(page: Path, tmp_path: Path) -> None:
    """The kind is checked again just before the rename, not only when the run starts."""
    result = tmp_path / "result.txt"
    with FileRewrite(page, result) as rewrite:
        content = rewrite.read()
        os.mkdir(result)  # what another program put there meanwhile
        with pytest.raises(NotRegularFileError, match="became a folder"):
            rewrite.commit(b"", keep_bytes=content.length)
    assert result.is_dir() and listing(result) == [] and listing(tmp_path) == ["page.txt", "result.txt"]


def test_find_refuses_the_real_dev_null_as_output(page: Path) -> None:
    """Safe only because the refusal is in place; the session guard in conftest.py catches a regression."""
    completed = md5steg("find", "-q", "--prefix", "00", "-o", "/dev/null", str(page))
    assert completed.returncode == 1 and "/dev/null is a character device" in one_line_error(completed)


# 2. The output is written by copying; input that cannot be read twice is spooled while read.


def test_stdin_is_spooled_beside_the_destination_while_it_is_read(tmp_path: Path) -> None:
    result = tmp_path / "result.txt"
    process = subprocess.Popen(
        [*MD5STEG, "find", "-q", "--prefix", "00", "-o", str(result), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    first_part = b"x" * (3 << 20)
    process.stdin.write(first_part)
    process.stdin.flush()
    deadline = time.monotonic() + WAIT
    spooled = 0
    while time.monotonic() < deadline and spooled < len(first_part):
        spooled = sum(path.stat().st_size for path in tmp_path.glob(".md5steg-*.tmp"))
        time.sleep(0.02)
    process.stdin.write(b"the end\n")
    stdout, stderr = process.communicate(timeout=WAIT)
    assert spooled >= len(first_part), "nothing was spooled to disk while stdin was read"
    assert process.returncode == 0, stderr
    assert result.read_bytes().startswith(first_part + b"the end\n")
    assert listing(tmp_path) == ["result.txt"]


@pytest.mark.parametrize("destination", ["in-place", "other-file", "stream"])
def test_commit_copies_in_chunks_instead_of_holding_the_result(tmp_path: Path, destination: str) -> None:
    big = tmp_path / "big.bin"
    size = 48 << 20
    with open(big, "wb") as handle:
        handle.truncate(size)
    sink = open(os.devnull, "wb")  # noqa: SIM115 (closed below)
    written_to = {"in-place": None, "other-file": tmp_path / "out.bin", "stream": sink}[destination]
    with FileRewrite(big, written_to) as rewrite:
        assert len(rewrite.read()) == size
        tracemalloc.start()
        try:
            md5 = rewrite.commit(b"\t\t", keep_bytes=size - 1)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    sink.close()
    assert peak < 4 << 20, f"commit allocated {peak >> 20} MiB for a {size >> 20} MiB file"
    assert md5 == hashlib.md5(bytes(size - 1) + b"\t\t").hexdigest()
    if destination != "stream":
        assert (written_to or big).stat().st_size == size + 1


def test_copy_detects_bytes_changed_after_reading(page: Path) -> None:
    import md5steg

    data = page.read_bytes()
    with FileRewrite(page) as rewrite:
        match = md5steg.find(rewrite.read(), "00", jobs=1)
        status = page.stat()
        with open(page, "r+b") as writer:  # same size, same mtime: only the bytes differ
            writer.write(b"Y")
        os.utime(page, ns=(status.st_atime_ns, status.st_mtime_ns))
        with pytest.raises(FileChangedError):
            rewrite.commit(match.suffix, expected_md5=match.md5)
    assert page.read_bytes() == b"Y" + data[1:]
    assert listing(page.parent) == ["page.txt"]


# 3. Lost updates: one run per file at a time, and a change made meanwhile is kept, not overwritten.


def test_parallel_runs_on_one_file_lose_no_update(page: Path, engine: str) -> None:
    original = page.read_bytes()
    runs = [
        subprocess.Popen(
            [*MD5STEG, "find", "-q", "-j", "1", "--engine", engine, "--json", "--prefix", "000", str(page)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(5)
    ]
    outcomes = [(run.communicate(timeout=WAIT), run.returncode) for run in runs]
    final = page.read_bytes()
    reports = []
    for (stdout, stderr), returncode in outcomes:
        if returncode == 0:
            reports.append(json.loads(stdout))
        else:
            assert returncode == 1 and b"Traceback" not in stderr, stderr
            assert stderr.strip().count(b"\n") == 0, stderr
    assert reports, "no run succeeded"
    # Every success is one step of a serial history: its MD5 is that of the file right after its
    # own step, the steps follow one another, and the last one is the file as it is now.
    length_of = {hashlib.md5(final[:end]).hexdigest(): end for end in range(len(original), len(final) + 1)}
    assert all(report["md5"] in length_of for report in reports), "an MD5 the file never had"
    end = len(original)
    for report in sorted(reports, key=lambda report: length_of[report["md5"]]):
        end += report["bytes_added"]
        assert length_of[report["md5"]] == end, "two runs wrote on top of the same content"
    assert end == len(final)
    assert listing(page.parent) == ["page.txt"]


def test_a_run_fails_at_once_while_another_holds_the_file(page: Path) -> None:
    before = page.read_bytes()
    with open(page, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        completed = md5steg("find", "-q", "--prefix", "00", str(page))
    assert completed.returncode == 1
    assert "another md5steg run" in one_line_error(completed)
    assert page.read_bytes() == before


SLOW_CONTENT = b"another program writes this file while md5steg searches (57)\n"  # lowest match: nonce 5,006,574


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_in_place(path: Path, content: bytes) -> None:
    path.write_bytes(content)


def write_and_rename(path: Path, content: bytes) -> None:
    (path.parent / "editor.swp").write_bytes(content)
    os.replace(path.parent / "editor.swp", path)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to see the search running")
@pytest.mark.parametrize("other_writer", [write_in_place, write_and_rename], ids=lambda writer: writer.__name__)
def test_a_write_during_the_search_is_kept_and_no_md5_is_reported(tmp_path: Path, other_writer: Any) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(SLOW_CONTENT)
    # The pure-Python engine needs seconds for this match, whatever the machine's load.
    process = subprocess.Popen(
        [*MD5STEG, "find", "-q", "-j", "1", "--engine", "python", "--prefix", "00000", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + WAIT
    while cpu_seconds(process.pid) < 0.6 and time.monotonic() < deadline:  # imports and read are done
        time.sleep(0.02)
    other_writer(path, b"the other writer's words\n")
    stdout, stderr = process.communicate(timeout=WAIT * 4)
    assert process.returncode == 1, (stdout, stderr)
    assert b"changed" in stderr and b"Traceback" not in stderr and stderr.strip().count(b"\n") == 0
    assert stdout == b"", "an MD5 was reported"
    assert path.read_bytes() == b"the other writer's words\n"
    assert listing(tmp_path) == ["page.txt"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to see the search running")
def test_the_lock_of_a_killed_run_does_not_block_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(SLOW_CONTENT)
    killed = subprocess.Popen(
        [*MD5STEG, "find", "-q", "-j", "1", "--engine", "python", "--prefix", "00000", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + WAIT
    while cpu_seconds(killed.pid) < 0.6 and time.monotonic() < deadline:  # it holds the lock now
        time.sleep(0.02)
    killed.kill()
    killed.wait()
    completed = md5steg("find", "-q", "--prefix", "00", str(path))
    assert completed.returncode == 0, completed.stderr
    assert hashlib.md5(path.read_bytes()).hexdigest().startswith("00")


def test_a_file_deleted_during_the_search_is_not_recreated(page: Path) -> None:
    import md5steg

    with FileRewrite(page) as rewrite:
        match = md5steg.find(rewrite.read(), "00", jobs=1)
        page.unlink()
        with pytest.raises(FileChangedError, match="deleted"):
            rewrite.commit(match.suffix, expected_md5=match.md5)
    assert listing(page.parent) == []


# 4. Identity: owner, group and mode are kept; a symlink's target is rewritten in its own folder.


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_root_keeps_the_owner_group_and_mode_of_another_users_file(page: Path) -> None:
    os.chown(page, 4321, 8765)
    page.chmod(0o604)
    completed = md5steg("find", "-q", "--prefix", "00", str(page))
    assert completed.returncode == 0, completed.stderr
    status = page.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (4321, 8765, 0o604)
    assert hashlib.md5(page.read_bytes()).hexdigest().startswith("00")


def test_a_symlinks_target_is_rewritten_and_the_temp_file_lies_beside_it(tmp_path: Path) -> None:
    links, targets = tmp_path / "links", tmp_path / "targets"
    links.mkdir()
    targets.mkdir()
    real = targets / "page.txt"
    real.write_bytes(b"the real file\n")
    link = links / "page.txt"
    link.symlink_to(real)
    process = subprocess.Popen(
        [*MD5STEG, "find", "-q", "-j", "1", "--prefix", "00", "-o", str(link), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write(b"written through the link\n")
    process.stdin.flush()
    deadline = time.monotonic() + WAIT
    while not list(targets.glob(".md5steg-*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.02)
    spooled_beside_target = bool(list(targets.glob(".md5steg-*.tmp")))
    spooled_beside_link = bool(list(links.glob(".md5steg-*.tmp")))
    _, stderr = process.communicate(timeout=WAIT)
    assert process.returncode == 0, stderr
    assert spooled_beside_target and not spooled_beside_link
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes().startswith(b"written through the link\n")
    assert listing(links) == ["page.txt"] and listing(targets) == ["page.txt"]


# 6. Write errors, endless input and Ctrl-C: one line and the documented exit code, never a traceback.


@pytest.mark.parametrize(
    "arguments", [["-o", "-"], ["--json"], []], ids=["output-to-stdout", "json-report", "report"]
)
def test_stdout_on_a_full_disk_is_one_line(page: Path, arguments: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        completed = md5steg("find", "-q", "--prefix", "00", *arguments, str(page), stdout=full, stderr=subprocess.PIPE)
    assert completed.returncode == 1
    assert "No space left on device" in one_line_error(completed)


@pytest.mark.parametrize("arguments", [["-o", "-"], ["--json"]], ids=["output-to-stdout", "json-report"])
def test_stdout_closed_by_its_reader_is_one_line(page: Path, arguments: list[str]) -> None:
    reader, writer = os.pipe()
    os.close(reader)
    try:
        completed = md5steg("find", "-q", "--prefix", "00", *arguments, str(page), stdout=writer, stderr=subprocess.PIPE)
    finally:
        os.close(writer)
    assert completed.returncode == 1
    assert "broken pipe" in one_line_error(completed)


def limit_file_size() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))


@pytest.mark.parametrize("output", ["result.txt", "-"])
def test_an_endless_device_is_refused_at_once(tmp_path: Path, output: str) -> None:
    completed = subprocess.run(
        [*MD5STEG, "find", "-q", "--prefix", "00", "-o", output if output == "-" else str(tmp_path / output), "/dev/zero"],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=WAIT,
    )
    assert completed.returncode == 1
    assert "/dev/zero is a character device" in one_line_error(completed)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("output", ["result.txt", "-"])
def test_endless_stdin_ends_with_one_line_and_no_temp_file_when_the_spool_hits_a_limit(
    tmp_path: Path, output: str
) -> None:
    with open("/dev/zero", "rb") as endless:
        completed = subprocess.run(
            [*MD5STEG, "find", "-q", "--prefix", "00", "-o", output if output == "-" else str(tmp_path / output), "-"],
            env={**os.environ, "TMPDIR": str(tmp_path)},
            preexec_fn=limit_file_size,
            stdin=endless,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=WAIT * 4,
        )
    assert completed.returncode == 1
    assert "<stdin>" in one_line_error(completed)
    assert listing(tmp_path) == []


HIDE_ARGUMENTS = ["hide", "--message-file"]  # the message file's path is added per test


@pytest.mark.parametrize(
    ("how", "status", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
@pytest.mark.parametrize("command", [["find"], HIDE_ARGUMENTS], ids=["find", "hide"])
def test_a_signal_while_reading_stdin_exits_in_one_line_and_removes_the_spool(
    tmp_path: Path, command: list[str], how: signal.Signals, status: int, word: str
) -> None:
    """SIGTERM (kill, timeout, systemd) ends a run as Ctrl-C does: once it left a 138 MB spool behind."""
    if command == HIDE_ARGUMENTS:
        pytest.importorskip("cryptography")
        message = tmp_path / "message.txt"
        message.write_bytes(b"meet at noon")
        command = [*command, str(message)]
    output = tmp_path / "out"
    output.mkdir()
    process = subprocess.Popen(
        [*MD5STEG, *command, "-q", "--prefix", "00", "-o", str(output / "result.txt"), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "MD5STEG_PASSPHRASE": "s3cret"},
    )
    assert process.stdin is not None
    process.stdin.write(b"half a file")
    process.stdin.flush()
    deadline = time.monotonic() + WAIT
    while not list(output.glob(".md5steg-*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(output.glob(".md5steg-*.tmp")), "the spool was not created"
    process.send_signal(how)
    _, stderr = process.communicate(timeout=WAIT)
    assert process.returncode == status
    assert one_line_error(subprocess.CompletedProcess([], status, b"", stderr)).strip() == f"md5steg: {word}"
    assert listing(output) == []


# 7. Temp files of killed runs are removed by the next run, and nothing else is.


def test_temp_file_of_a_killed_run_is_removed_by_the_next_run(tmp_path: Path, page: Path) -> None:
    killed = subprocess.Popen(
        [*MD5STEG, "find", "-q", "--prefix", "00", "-o", str(tmp_path / "result.txt"), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert killed.stdin is not None
    killed.stdin.write(b"a spool that will be orphaned\n" * 1000)
    killed.stdin.flush()
    deadline = time.monotonic() + WAIT
    while not list(tmp_path.glob(".md5steg-*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.kill()
    killed.wait()
    killed.stdin.close()
    orphans = [path.name for path in tmp_path.glob(".md5steg-*.tmp")]
    assert len(orphans) == 1, "the killed run should have left its spool"

    not_ours = tmp_path / ".md5steg-notes.tmp"
    not_ours.write_text("a file of the user that only looks like ours")
    with open(tmp_path / f".md5steg-{os.getpid()}-alive.tmp", "wb") as alive:
        fcntl.flock(alive, fcntl.LOCK_EX)  # a run that is still working
        completed = md5steg("find", "-q", "--prefix", "00", str(page))
    assert completed.returncode == 0, completed.stderr
    assert listing(tmp_path) == sorted([".md5steg-notes.tmp", f".md5steg-{os.getpid()}-alive.tmp", "page.txt"])


def test_a_file_over_2_gib_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    """Issue 9 item 2: 2 GiB + 100 bytes once gave OverflowError and needed 4.2 GB; now < 1 GB."""
    from md5steg._engine import available_engines

    if "cython" not in available_engines():
        pytest.skip("the pure engine hashes a 2 GiB stream at ~1 MB/s")
    big = tmp_path / "big.bin"
    with open(big, "wb") as handle:  # sparse: costs no disk
        handle.truncate(2**31)
        handle.seek(2**31)
        handle.write(b"tail of a big file\n" * 5 + b"\n" * 5)
    process = subprocess.Popen(
        [*MD5STEG, "find", "-q", "-j", "1", "--prefix", "0", "-o", "-", str(big)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    digest, written = hashlib.md5(), 0
    while chunk := process.stdout.read(1 << 24):
        digest.update(chunk)
        written += len(chunk)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0
    assert usage.ru_maxrss < 1 << 20, f"peak RSS {usage.ru_maxrss} KiB"
    assert written > big.stat().st_size
    assert digest.hexdigest().startswith("0")


def test_a_manifest_is_saved_through_the_same_refusals(tmp_path: Path) -> None:
    """Manifests (publish's records) take the one write path: a socket is refused, not replaced."""
    from md5steg.story.manifest import Manifest

    made = special_files(tmp_path)
    manifest = Manifest(made["socket"])
    manifest.target("http://127.0.0.1:1/", "a pastebin")
    with pytest.raises(NotRegularFileError, match="is a socket"):
        manifest.save()
    assert stat.S_ISSOCK(made["socket"].lstat().st_mode)


def test_a_group_of_files_is_written_all_or_none(tmp_path: Path) -> None:
    """collide's two outputs: when the second cannot be written, the first keeps its old bytes."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_bytes(b"old first\n")
    second.mkdir()  # refused as a destination, after the first's temp file was written
    with pytest.raises(NotRegularFileError):
        write_atomic_group([(first, b"new first\n"), (second, b"new second\n")])
    assert first.read_bytes() == b"old first\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["first", "second"]
    second.rmdir()
    write_atomic_group([(first, b"new first\n"), (second, b"new second\n")])
    assert (first.read_bytes(), second.read_bytes()) == (b"new first\n", b"new second\n")
