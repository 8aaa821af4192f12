"""`md5steg hide` / `md5steg reveal` from the command line: files, passphrase sources, one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from md5steg import stego
from md5steg.cli import cli

REFUSAL = "Error: no message for this passphrase, or the text was altered\n"
MAIN = "from md5steg.cli import main; main()"


@pytest.fixture(scope="module", autouse=True)
def cheap_kdf() -> Iterator[None]:
    """In-process commands use the cheap test KDF; subprocess ones pay the real cost."""
    with stego.cheap_kdf_for_tests():
        yield


@pytest.fixture()
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("MD5STEG_PASSPHRASE", "s3cret")
    return CliRunner()


def message_file(folder: Path, text: str) -> str:
    """The message in a file (it never goes on the command line)."""
    path = folder / "message.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture()
def cover(tmp_path: Path) -> Path:
    path = tmp_path / "note.txt"
    path.write_bytes(b"Dear diary,\ntoday was fine.  \n")
    path.chmod(0o640)
    return path


def test_hide_rewrites_the_file_and_reveal_prints_the_exact_message(runner: CliRunner, cover: Path, engine: str) -> None:
    original = cover.read_bytes()
    result = runner.invoke(cli, ["hide", str(cover), "--prefix", "c0f", "--message-file", message_file(cover.parent, "meet at noon ✓"), "-q", "--engine", engine])
    assert result.exit_code == 0, result.output
    data = cover.read_bytes()
    assert data.startswith(original) and hashlib.md5(data).hexdigest().startswith("c0f")
    assert oct(cover.stat().st_mode & 0o777) == "0o640"
    fields = result.stdout.rstrip("\n").split("  ")
    assert fields[0] == hashlib.md5(data).hexdigest() and fields[1] == str(cover)
    parsed = re.fullmatch(r"\+(\d+) bytes \(message (\d+), nonce (\d+)\)", fields[2])
    assert parsed is not None, fields[2]
    added, message_part, nonce_part = map(int, parsed.groups())
    assert added == len(data) - len(original) == message_part + nonce_part
    revealed = runner.invoke(cli, ["reveal", str(cover)])
    assert revealed.exit_code == 0 and revealed.stdout_bytes == "meet at noon ✓".encode()


def test_json_report_splits_message_and_nonce_bytes(runner: CliRunner, cover: Path, engine: str, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    message = tmp_path / "message.bin"
    message.write_bytes(bytes(range(256)))
    args = ["hide", str(cover), "--pattern", "a_b", "--message-file", str(message), "--alphabet", "zw"]
    result = runner.invoke(cli, [*args, "--json", "-o", str(out), "--engine", engine])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "message_bytes" not in report, "the exact message length stays out of logs"
    assert report["alphabet"] == "zw" and report["output"] == str(out)
    assert report["md5"] == hashlib.md5(out.read_bytes()).hexdigest() and report["backend"]
    assert report["message_bytes_added"] + report["nonce_bytes_added"] == report["bytes_added"]
    assert out.stat().st_size == cover.stat().st_size + report["bytes_added"]
    revealed = runner.invoke(cli, ["reveal", str(out), "-o", str(tmp_path / "back.bin")])
    assert revealed.exit_code == 0 and (tmp_path / "back.bin").read_bytes() == bytes(range(256))


def test_hide_twice_with_replace_keeps_only_the_second_message(runner: CliRunner, cover: Path) -> None:
    original = cover.read_bytes()
    assert runner.invoke(cli, ["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, "first"), "-q"]).exit_code == 0
    once = cover.stat().st_size
    assert runner.invoke(cli, ["hide", str(cover), "--prefix", "cd", "--message-file", message_file(cover.parent, "2nd"), "-q", "--replace"]).exit_code == 0
    assert runner.invoke(cli, ["reveal", str(cover)]).stdout_bytes == b"2nd"
    assert cover.read_bytes().startswith(original), "the cover's own trailing whitespace is kept"
    assert cover.stat().st_size < once + 100, "the first message and its nonce are gone"


def test_stdin_to_stdout(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["hide", "-", "--prefix", "1", "--message-file", message_file(tmp_path, "piped"), "-q"], input=b"cover\n")
    assert result.exit_code == 0, result.output
    assert runner.invoke(cli, ["reveal", "-"], input=result.stdout_bytes).stdout_bytes == b"piped"


def test_wrong_passphrase_prints_one_line_and_no_plaintext(runner: CliRunner, cover: Path) -> None:
    assert runner.invoke(cli, ["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, "secret"), "-q"]).exit_code == 0
    result = runner.invoke(cli, ["reveal", str(cover)], env={"MD5STEG_PASSPHRASE": "S3cret"})
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", REFUSAL)


def test_altered_suffix_prints_the_same_line(runner: CliRunner, cover: Path) -> None:
    assert runner.invoke(cli, ["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, "secret"), "-q"]).exit_code == 0
    data = cover.read_bytes()
    cover.write_bytes(data[:-40] + (b"\t" if data[-40:-39] == b" " else b" ") + data[-39:])
    result = runner.invoke(cli, ["reveal", str(cover)])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", REFUSAL)


def test_reveal_on_find_output_says_there_is_no_message(runner: CliRunner, cover: Path) -> None:
    assert runner.invoke(cli, ["find", str(cover), "--prefix", "ab", "-q"]).exit_code == 0
    result = runner.invoke(cli, ["reveal", str(cover)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: no hidden message") and result.stderr.count("\n") == 1


def test_passphrase_file_drops_one_trailing_newline(runner: CliRunner, cover: Path, tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    secret.write_text("s3cret\n")
    args = ["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, "m"), "-q", "--passphrase-file", str(secret)]
    assert runner.invoke(cli, args, env={"MD5STEG_PASSPHRASE": "ignored"}).exit_code == 0
    assert runner.invoke(cli, ["reveal", str(cover)]).stdout_bytes == b"m", "the file wins over the environment"


def run_md5steg(args: list[str], env: dict[str, str], **options: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", MAIN, *args], env=env, capture_output=True, timeout=120, **options)  # type: ignore[call-overload, no-any-return]


def environment_without_passphrase() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "MD5STEG_PASSPHRASE"}


def test_no_passphrase_and_no_terminal_exits_2_with_one_line(cover: Path) -> None:
    before = cover.read_bytes()
    for args in (["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, "m")], ["reveal", str(cover)]):
        done = run_md5steg(args, environment_without_passphrase(), stdin=subprocess.DEVNULL, start_new_session=True)
        assert done.returncode == 2 and done.stdout == b""
        assert done.stderr.count(b"\n") == 1 and b"no passphrase" in done.stderr
    assert cover.read_bytes() == before


def converse(args: list[str], answers: list[bytes]) -> tuple[int, bytes]:
    """Run md5steg on a new pseudo-terminal, answering each prompt in turn: (exit status, transcript)."""
    import pty  # POSIX only

    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal
        os.execve(sys.executable, [sys.executable, "-c", MAIN, *args], environment_without_passphrase())
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
        if pending and transcript.endswith((b"assphrase: ", b"(not shown): ")):  # getpass flushes input first
            os.write(fd, pending.pop(0) + b"\n")
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), transcript


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_hide_asks_twice_on_the_terminal_and_reveal_once(cover: Path) -> None:
    status, transcript = converse(["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, "typed"), "-q"], [b"pw", b"pw"])
    assert status == 0, transcript
    assert transcript.count(b"assphrase:") == 2
    status, transcript = converse(["reveal", str(cover)], [b"pw"])
    assert status == 0 and transcript.endswith(b"typed\r\n"), "a terminal gets a final newline"


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_hide_refuses_two_different_passphrases_and_writes_nothing(cover: Path) -> None:
    before = cover.read_bytes()
    status, transcript = converse(["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, "m")], [b"pw", b"pv"])
    assert status == 2 and b"differ" in transcript
    assert cover.read_bytes() == before


def test_without_cryptography_the_command_names_the_extra(cover: Path) -> None:
    blocked = "import sys; sys.modules['cryptography'] = None; " + MAIN
    done = subprocess.run(
        [sys.executable, "-c", blocked, "reveal", str(cover)], capture_output=True, timeout=60, env=os.environ | {"MD5STEG_PASSPHRASE": "x"}
    )
    assert done.returncode == 1 and done.stderr.count(b"\n") == 1
    assert b"pip install 'md5steg[hide]'" in done.stderr


def test_importing_md5steg_does_not_import_cryptography() -> None:
    code = "import sys, md5steg; assert 'cryptography' not in sys.modules; assert callable(md5steg.hide)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_message_on_the_command_line_is_refused_in_one_line(cover: Path) -> None:
    """Other local users read /proc/PID/cmdline: --message TEXT would show them the plaintext."""
    before = cover.read_bytes()
    done = run_md5steg(["hide", str(cover), "--prefix", "ab", "--message", "plaintext"], os.environ | {"MD5STEG_PASSPHRASE": "pw"})
    assert done.returncode == 2 and done.stdout == b"" and done.stderr.count(b"\n") == 1, done.stderr
    assert b"--message-file" in done.stderr and b"plaintext" not in done.stderr
    assert cover.read_bytes() == before


@pytest.mark.skipif(not os.path.exists("/proc/self/cmdline"), reason="needs /proc")
def test_the_plaintext_is_never_in_the_process_command_line(cover: Path, tmp_path: Path) -> None:
    """While hide runs (a 6-hex search), its /proc/PID/cmdline holds the message file's path, not the message."""
    secret = b"the plaintext nobody may see"
    message = tmp_path / "m.bin"
    message.write_bytes(secret)
    args = [sys.executable, "-c", MAIN, "hide", str(cover), "--prefix", "c0ffee", "--message-file", str(message), "-q", "-j", "1"]
    process = subprocess.Popen(args, env=os.environ | {"MD5STEG_PASSPHRASE": "pw"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        command_line = b""
        while not command_line and process.poll() is None:  # empty until the child has exec'd
            command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    finally:
        process.kill()
        process.communicate()
    assert str(message).encode() in command_line and secret not in command_line


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_without_a_message_file_the_message_is_typed_at_a_prompt_that_does_not_echo(cover: Path) -> None:
    status, transcript = converse(["hide", str(cover), "--prefix", "ab", "-q"], [b"typed secret", b"pw", b"pw"])
    assert status == 0, transcript
    assert b"typed secret" not in transcript, "the message is not echoed"
    status, transcript = converse(["reveal", str(cover)], [b"pw"])
    assert status == 0 and transcript.endswith(b"typed secret\r\n"), transcript


def test_no_message_and_no_terminal_exits_2_with_one_line(cover: Path) -> None:
    done = run_md5steg(["hide", str(cover), "--prefix", "ab"], os.environ | {"MD5STEG_PASSPHRASE": "pw"}, stdin=subprocess.DEVNULL, start_new_session=True)
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and b"no message" in done.stderr


def test_reveal_output_file_is_private(runner: CliRunner, cover: Path, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["hide", str(cover), "--prefix", "ab", "--message-file", message_file(tmp_path, "m"), "-q"]).exit_code == 0
    out = tmp_path / "revealed.txt"
    old_umask = os.umask(0o022)
    try:
        assert runner.invoke(cli, ["reveal", str(cover), "-o", str(out)]).exit_code == 0
    finally:
        os.umask(old_umask)
    assert out.read_bytes() == b"m" and oct(out.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("where", ["--message-file", "--passphrase-file", "FILE"])
def test_endless_devices_are_refused_in_one_line(cover: Path, where: str) -> None:
    """/dev/zero never ends: refused before anything is read, never read into memory."""
    message = ["--message-file", "/dev/zero" if where == "--message-file" else str(cover)]
    passphrase = ["--passphrase-file", "/dev/zero"] if where == "--passphrase-file" else []
    args = ["reveal", "/dev/zero"] if where == "FILE" else ["hide", str(cover), "--prefix", "ab", *message, *passphrase]
    done = run_md5steg(args, os.environ | {"MD5STEG_PASSPHRASE": "pw"}, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and b"character device" in done.stderr, done.stderr


def test_too_long_message_and_passphrase_files_are_refused(runner: CliRunner, cover: Path, tmp_path: Path) -> None:
    long = tmp_path / "long"
    long.write_bytes(b"x" * (stego.MAX_MESSAGE_BYTES + 1))
    result = runner.invoke(cli, ["hide", str(cover), "--prefix", "ab", "--message-file", str(long)])
    assert result.exit_code == 2 and "more than 4096 bytes" in result.output
    result = runner.invoke(cli, ["hide", str(cover), "--prefix", "ab", "--message-file", str(cover), "--passphrase-file", str(long)])
    assert result.exit_code == 2 and "more than 4096 bytes" in result.output


def test_a_passphrase_that_is_not_utf8_is_used_as_given_and_never_echoed(cover: Path, tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"\xff\xfe secret \x80\n")
    env = environment_without_passphrase()
    hide = ["hide", str(cover), "--prefix", "ab", "--message-file", message_file(tmp_path, "latin"), "-q", "--passphrase-file", str(key)]
    done = run_md5steg(hide, env)
    assert done.returncode == 0, done.stderr
    done = run_md5steg(["reveal", str(cover), "--passphrase-file", str(key)], env)
    assert (done.returncode, done.stdout) == (0, b"latin")
    done = run_md5steg(["reveal", str(cover)], env | {"MD5STEG_PASSPHRASE": "wrong"})
    assert done.returncode == 1 and done.stderr == REFUSAL.encode()


def compiled_core_in_use() -> bool:
    from md5steg import content

    return content._block_compressor() is not content._md5py.compress_blocks


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmHWM from /proc")
@pytest.mark.skipif(not compiled_core_in_use(), reason="the pure engine keeps up to 64 MiB in memory, by design")
def test_reveal_reads_a_large_stdin_in_bounded_memory() -> None:
    """64 MiB of cover through stdin: reveal keeps its tail and hash states, not the file (peak RSS well under it)."""
    cover = b"x" * (64 << 20)
    match = md5steg_hide_cheap(cover)
    script = (
        "import sys; from md5steg import stego; from md5steg.cli import main\n"
        "with stego.cheap_kdf_for_tests():\n"
        "    try:\n        main(['reveal', '-'])\n    except SystemExit:\n        pass\n"
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0], file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", script], input=cover + match, capture_output=True, timeout=120,
                          env=os.environ | {"MD5STEG_PASSPHRASE": "pw"})
    assert done.stdout == b"big cover", done.stderr
    assert int(done.stderr.split()[-1]) < 60 * 1024, "peak RSS (VmHWM, KiB) stays below the 64 MiB input"


def md5steg_hide_cheap(cover: bytes) -> bytes:
    return stego.hide(cover, b"big cover", passphrase="pw", prefix="a").suffix


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmHWM from /proc")
@pytest.mark.skipif(not compiled_core_in_use(), reason="the pure engine keeps up to 64 MiB in memory, by design")
def test_hide_reads_a_large_stdin_in_bounded_memory(tmp_path: Path) -> None:
    """64 MiB of cover through stdin, hidden into -o: the input is spooled, hashed and tailed, never held."""
    out = tmp_path / "out.bin"
    script = (
        "import sys; from md5steg import stego; from md5steg.cli import main\n"
        "with stego.cheap_kdf_for_tests():\n"
        f"    try:\n        main(['hide', '-', '--prefix', 'a', '-q', '--message-file', {message_file(tmp_path, 'big')!r}, '-o', {str(out)!r}])\n"
        "    except SystemExit:\n        pass\n"
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0], file=sys.stderr)"
    )
    cover = b"y" * (64 << 20)
    done = subprocess.run([sys.executable, "-c", script], input=cover, capture_output=True, timeout=120,
                          env=os.environ | {"MD5STEG_PASSPHRASE": "pw"})
    assert out.read_bytes().startswith(cover), done.stderr
    with stego.cheap_kdf_for_tests():
        assert stego.reveal(out.read_bytes(), passphrase="pw") == b"big"
    assert int(done.stderr.split()[-1]) < 60 * 1024, "peak RSS (VmHWM, KiB) stays below the 64 MiB input"


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_reveal_shows_control_bytes_escaped_on_a_terminal_and_exact_elsewhere(cover: Path) -> None:
    """Whoever hid the message chose its bytes: raw escape sequences never reach a terminal."""
    hostile = "\x1b]0;owned\x07\x1b[2Jhi\tthere"
    args = ["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, hostile), "-q"]
    env = {**os.environ, "MD5STEG_PASSPHRASE": "s3cret"}
    assert run_md5steg(args, env).returncode == 0  # the real KDF, as the terminal's reveal uses
    assert run_md5steg(["reveal", str(cover)], env).stdout == hostile.encode(), "a pipe gets the exact bytes"
    status, transcript = converse(["reveal", str(cover)], [b"s3cret"])
    assert status == 0, transcript
    assert transcript.endswith(b"\\x1b]0;owned\\x07\\x1b[2Jhi\tthere\r\n") and b"\x1b" not in transcript


def test_reveal_refuses_to_write_the_plaintext_over_its_own_input(runner: CliRunner, cover: Path) -> None:
    assert runner.invoke(cli, ["hide", str(cover), "--prefix", "ab", "--message-file", message_file(cover.parent, "m"), "-q"]).exit_code == 0
    before = cover.read_bytes()
    result = runner.invoke(cli, ["reveal", str(cover), "-o", str(cover)])
    assert result.exit_code == 2 and result.stderr.endswith("is FILE itself: the plaintext would replace the cover\n")
    assert cover.read_bytes() == before
