"""A hostile pass over `md5steg hide` / `md5steg reveal` (format v2): each test is a defect it found.

The forgeries (edited cover, moved sealed part, respelling, changed, missing
and extra characters) held and are tested in ``test_hide.py``; what follows
are the ways in that did not: stdin read for two things at once, bytes typed
at a prompt, a passphrase ``str`` that cannot be encoded, ``reveal -o -`` and
a FIFO as the output of a stream.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import md5steg
from md5steg import stego
from md5steg.cli import cli

MAIN = "from md5steg.cli import main; main()"
COVER = b"Dear diary,\ntoday was fine.\n"
MESSAGE = b"meet at noon"


@pytest.fixture(scope="module", autouse=True)
def cheap_kdf() -> Iterator[None]:
    """In-process commands use the cheap test KDF; the pseudo-terminal tests stop before any KDF."""
    with stego.cheap_kdf_for_tests():
        yield


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MD5STEG_PASSPHRASE", "s3cret")
    return CliRunner()


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cover.txt").write_bytes(COVER)
    (tmp_path / "message.txt").write_bytes(MESSAGE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- stdin is read once -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["hide", "-", "--prefix", "ab", "--message-file", "message.txt", "--passphrase-file", "-"],
        ["hide", "cover.txt", "--prefix", "ab", "--message-file", "-", "--passphrase-file", "-"],
        ["reveal", "-", "--passphrase-file", "-"],
    ],
    ids=["hide-file-and-passphrase", "hide-message-and-passphrase", "reveal-file-and-passphrase"],
)
def test_stdin_cannot_be_two_of_file_message_and_passphrase(runner: CliRunner, folder: Path, args: list[str]) -> None:
    """`cat cover | md5steg hide - --passphrase-file -` once took the cover as the passphrase and hid
    the message behind an empty cover, exit 0: the output had lost the cover."""
    done = runner.invoke(cli, args, input=COVER)
    assert done.exit_code == 2, done.output
    assert "cannot both be stdin" in done.output
    assert (folder / "cover.txt").read_bytes() == COVER


# --- bytes typed at a prompt --------------------------------------------------------------------


def converse(args: list[str], answers: list[bytes]) -> tuple[int, bytes]:
    """Run md5steg on a new pseudo-terminal (UTF-8 locale), answering each prompt: (exit status, transcript)."""
    import pty  # POSIX only

    environment = {name: value for name, value in os.environ.items() if name != "MD5STEG_PASSPHRASE"}
    environment["LC_ALL"] = "C.UTF-8"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal
        os.execve(sys.executable, [sys.executable, "-c", MAIN, *args], environment)
    transcript = b""
    pending = list(answers)
    while select.select([fd], [], [], 60)[0]:
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        transcript += chunk
        if pending and transcript.endswith((b"assphrase: ", b"(not shown): ")):
            os.write(fd, pending.pop(0) + b"\n")
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), transcript


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize(
    "args",
    [
        ["hide", "cover.txt", "--prefix", "ab", "--message-file", "message.txt"],
        ["reveal", "cover.txt"],
        ["hide", "cover.txt", "--prefix", "ab", "--passphrase-file", "message.txt"],
    ],
    ids=["hide-passphrase", "reveal-passphrase", "hide-message"],
)
def test_bytes_that_are_not_utf8_typed_at_a_prompt_give_one_line_and_are_never_shown(folder: Path, args: list[str]) -> None:
    """They once ended in a UnicodeDecodeError traceback naming the byte and its position in the secret."""
    status, transcript = converse(args, [b"pw\xffsecret", b"pw\xffsecret"])
    assert status == 2, transcript
    assert b"Traceback" not in transcript and b"0xff" not in transcript and b"position" not in transcript
    assert b"not text in this terminal's encoding" in transcript
    assert (folder / "cover.txt").read_bytes() == COVER


# --- the Python API -----------------------------------------------------------------------------


@pytest.mark.parametrize("surrogate", ["\ud800", "\udbff", "\udc00", "\udfff"])
def test_a_passphrase_str_that_cannot_be_encoded_is_an_md5steg_error_that_does_not_quote_it(surrogate: str) -> None:
    """Only U+DC80..U+DCFF are escaped bytes; other lone surrogates once raised UnicodeEncodeError,
    whose message quotes the passphrase's character and its position."""
    passphrase = "ab" + surrogate + "cd"
    hidden = COVER + md5steg.hide(COVER, MESSAGE, passphrase="s3cret", prefix="ab").suffix
    for call in (
        lambda: md5steg.hide(COVER, MESSAGE, passphrase=passphrase, prefix="ab"),
        lambda: md5steg.reveal(hidden, passphrase=passphrase),
    ):
        with pytest.raises(md5steg.Md5stegError) as caught:
            call()
        assert surrogate not in str(caught.value) and "position" not in str(caught.value)


def test_an_escaped_byte_in_a_passphrase_str_still_means_that_byte() -> None:
    hidden = COVER + md5steg.hide(COVER, MESSAGE, passphrase=b"pw\xff", prefix="ab").suffix
    assert md5steg.reveal(hidden, passphrase="pw\udcff") == MESSAGE


# --- outputs ------------------------------------------------------------------------------------


def test_reveal_dash_o_dash_writes_stdout_as_hide_and_find_do(runner: CliRunner, folder: Path) -> None:
    """`reveal -o -` once wrote the message into a new file named `-`."""
    assert runner.invoke(cli, ["hide", "cover.txt", "--prefix", "ab", "--message-file", "message.txt", "-q"]).exit_code == 0
    done = runner.invoke(cli, ["reveal", "cover.txt", "-o", "-"])
    assert done.exit_code == 0 and done.stdout_bytes == MESSAGE
    assert not (folder / "-").exists()


@contextlib.contextmanager
def fifo_reader(path: Path) -> Iterator[list[bytes]]:
    """A FIFO at ``path`` with a reader: what it read is in the list once the block ends."""
    os.mkfifo(path)
    received: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as fifo:
            received.append(fifo.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield received
    finally:
        with contextlib.suppress(OSError):  # a run that never opened the FIFO: release the reader
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)


@pytest.mark.skipif(sys.platform == "win32", reason="needs FIFOs")
@pytest.mark.parametrize("command", ["hide", "find"])
def test_stdin_into_a_fifo_output(runner: CliRunner, folder: Path, command: str) -> None:
    """`md5steg hide - -o FIFO` (and find's) once failed with "FIFO became a FIFO while md5steg worked"."""
    extra = ["--message-file", "message.txt"] if command == "hide" else []
    with fifo_reader(folder / "out") as received:
        done = runner.invoke(cli, [command, "-", "-o", "out", "--prefix", "ab", "-q", *extra], input=COVER)
    assert done.exit_code == 0, done.output
    assert received and received[0].startswith(COVER) and hashlib.md5(received[0]).hexdigest().startswith("ab")
    assert (folder / "out").is_fifo()
    if command == "hide":
        assert md5steg.reveal(received[0], passphrase="s3cret") == MESSAGE


@pytest.mark.skipif(sys.platform == "win32", reason="needs FIFOs")
def test_hide_from_a_fifo_into_a_fifo(runner: CliRunner, folder: Path) -> None:
    os.mkfifo(folder / "in")

    def write() -> None:
        with open(folder / "in", "wb") as fifo:
            fifo.write(COVER)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with fifo_reader(folder / "out") as received:
        done = runner.invoke(cli, ["hide", "in", "-o", "out", "--prefix", "ab", "-q", "--message-file", "message.txt"])
    writer.join(10)
    assert done.exit_code == 0, done.output
    assert received and md5steg.reveal(received[0], passphrase="s3cret") == MESSAGE


# --- memory -------------------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmSize from /proc")
def test_too_little_memory_for_the_kdf_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Argon2id takes 64 MiB; under a tighter address-space limit reveal once died with a MemoryError traceback."""
    from test_hide_format import V2_FILE

    hidden = tmp_path / "v2.txt"
    hidden.write_bytes(V2_FILE)
    script = (
        "import resource; import md5steg.stego; from md5steg.cli import main\n"
        "size = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024 + (32 << 20)\n"
        "resource.setrlimit(resource.RLIMIT_AS, (size, size))\n"
        f"main(['reveal', {str(hidden)!r}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=60, env=os.environ | {"MD5STEG_PASSPHRASE": "pinned"}
    )
    assert done.returncode == 1 and done.stdout == b"", done.stderr
    assert done.stderr.count(b"\n") == 1 and b"Traceback" not in done.stderr and b"memory" in done.stderr
