"""A hostile pass over ``md5steg collide`` and ``md5steg.collide``: each test is one finding.

Every test here failed on the code as first merged (commit c65778a); see each docstring.
"""

from __future__ import annotations

import array
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import md5steg
from md5steg._engine import available_engines
from md5steg.cli import cli
from md5steg.cli.collide import _write_pair
from md5steg.errors import Md5stegError

SRC = str(Path(__file__).resolve().parents[1] / "src")
FAST_SEED = 8

needs_compiled = pytest.mark.skipif(
    "cython" not in available_engines(), reason="a whole collision needs the compiled core (pure Python: ~45 s each)"
)
"""With an empty prefix, seed 8 finds its collision in about 0.1 s on the compiled core."""


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": SRC,
        "MD5STEG_STATE_DIR": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "xdg"),
        **extra,
    }


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def test_collide_help_shows_an_example() -> None:
    """Every command's --help shows a runnable example; collide's had none."""
    shown = CliRunner().invoke(cli, ["collide", "--help"]).stdout
    assert "Examples:" in shown
    examples = shown.split("Examples:", 1)[1].split("Options:", 1)[0]
    assert "md5steg collide" in examples and " -o " in examples


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the worker processes")
def test_sigterm_with_two_jobs_exits_143_terminated_and_leaves_no_worker(tmp_path: Path) -> None:
    """SIGTERM exits 143 with "md5steg: terminated" for every command; collide -j 2 said "interrupted", 130.

    The pure engine takes minutes per collision, so the workers are surely still searching
    when the signal comes.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "md5steg", "collide", "--engine", "python", "-j", "2", "-q", "-o", "a", "b"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(process.pid)
        assert len(workers) == 2
        time.sleep(0.3)  # past the forks, into the wait for the first result
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert stderr.decode().strip() == "md5steg: terminated"
    assert process.returncode == 143
    assert not [worker for worker in workers if Path(f"/proc/{worker}").exists()]
    assert not {"a", "b"} & set(os.listdir(tmp_path))


@needs_compiled
def test_a_second_output_that_cannot_be_written_leaves_the_first_as_it_was(tmp_path: Path) -> None:
    """OUT1 and OUT2 are written both or neither: an existing OUT1 was replaced when OUT2 then failed.

    (A full disk does this for real: OUT1 fits, OUT2 does not. Here OUT2's folder is gone.)
    """
    pair = md5steg.collide(b"", seed=FAST_SEED, jobs=1)
    first = tmp_path / "first.bin"
    first.write_bytes(b"the old first file\n")
    with pytest.raises(Exception, match="cannot write"):
        _write_pair(pair, str(first), str(tmp_path / "gone" / "second.bin"))
    assert first.read_bytes() == b"the old first file\n"
    assert [name for name in os.listdir(tmp_path) if name.startswith(".md5steg-")] == []


def test_a_progress_that_is_not_callable_is_refused_before_the_search() -> None:
    """It raised TypeError (no Md5stegError), and only after the whole collision search."""
    with pytest.raises(Md5stegError, match="progress"):
        md5steg.collide(b"", seed=FAST_SEED, jobs=1, progress=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("seconds", ["an hour", -1, float("nan")])
def test_a_bad_max_expected_seconds_is_refused_without_a_target_too(seconds: object) -> None:
    """It was checked only by the vanity search, so without a target any value passed silently."""
    with pytest.raises(Md5stegError, match="max_expected_seconds"):
        md5steg.collide(b"", seed=FAST_SEED, jobs=1, max_expected_seconds=seconds)  # type: ignore[arg-type]


@needs_compiled
def test_prefix_length_counts_bytes_for_a_memoryview_of_wider_items() -> None:
    """A memoryview of 32-bit items is accepted; prefix_length gave its item count (3), not its 12 bytes."""
    prefix = memoryview(array.array("I", [1, 2, 3]))
    pair = md5steg.collide(prefix, seed=FAST_SEED, jobs=1)
    assert pair.prefix_length == prefix.nbytes == 12
    assert pair.data1.startswith(prefix.tobytes()) and pair.block_offsets == (64, 128)
    assert hashlib.md5(pair.data1).digest() == hashlib.md5(pair.data2).digest()


@needs_compiled
def test_output_names_that_are_not_utf8_are_printed_as_given_with_no_traceback(tmp_path: Path) -> None:
    """With a strict UTF-8 stdout (PYTHONIOENCODING=utf-8, or any UTF-8 locale but C.UTF-8),
    printing a name with byte 0xff raised UnicodeEncodeError: a traceback and exit 1 after both
    files were written. md5sum prints such names byte for byte."""
    names = [b"one\xff.bin", b"two\xff.bin"]
    completed = subprocess.run(
        [sys.executable, "-m", "md5steg", "collide", "--seed", str(FAST_SEED), "-j", "1", "-q", "-o", *names],
        cwd=tmp_path,
        env=_environment(tmp_path, PYTHONIOENCODING="utf-8"),
        capture_output=True,
        timeout=60,
    )
    assert completed.stderr == b"" and completed.returncode == 0
    first, second = (tmp_path / os.fsdecode(name) for name in names)
    digest = hashlib.md5(first.read_bytes()).hexdigest()
    assert digest == hashlib.md5(second.read_bytes()).hexdigest()
    assert completed.stdout == b"".join(digest.encode() + b"  " + name + b"\n" for name in names)


def test_a_closed_stdin_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """`md5steg collide - <&-`: Python sets sys.stdin to None, and reading it raised AttributeError."""
    completed = subprocess.run(
        [sys.executable, "-m", "md5steg", "collide", "-", "--seed", str(FAST_SEED), "-j", "1", "-q", "-o", "a", "b"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        preexec_fn=lambda: os.close(0),
    )
    assert completed.stderr == b"Error: cannot read stdin: stdin is closed\n"
    assert completed.returncode == 1 and not {"a", "b"} & set(os.listdir(tmp_path))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the worker processes")
def test_workers_die_with_a_parent_killed_by_sigkill(tmp_path: Path) -> None:
    """SIGKILL leaves no cleanup to the parent: pure-engine workers, which looked for a dead parent only
    between attempts (one can take minutes), went on burning a core each for minutes."""
    process = subprocess.Popen(
        [sys.executable, "-m", "md5steg", "collide", "--engine", "python", "-j", "2", "-q", "-o", "a", "b"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(process.pid)
        assert len(workers) == 2
        time.sleep(1.0)  # into their first attempts
    finally:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and [worker for worker in workers if _running(worker)]:
        time.sleep(0.1)
    assert not [worker for worker in workers if _running(worker)]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
