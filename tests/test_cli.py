"""`md5steg find` from the command line: output, files, exit codes, and nothing written on error."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from md5steg.cli import LAZY_COMMANDS, cli
from md5steg.cli.progress import fit_status
from md5steg.search import Progress

MAIN = "from md5steg.cli import main; main()"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def story_file(tmp_path: Path) -> Path:
    path = tmp_path / "page.txt"
    path.write_bytes(b"You stand at the mouth of a cave.\r\nGo in? [[cave]]\n")
    path.chmod(0o640)
    return path


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def folder_listing(path: Path) -> list[str]:
    return sorted(entry.name for entry in path.iterdir())


def test_find_rewrites_the_file_and_prints_one_line(runner: CliRunner, story_file: Path, engine: str) -> None:
    original = story_file.read_bytes()
    result = runner.invoke(cli, ["find", "--prefix", "C0F", "--engine", engine, "-q", str(story_file)])
    assert result.exit_code == 0, result.output
    digest = md5_of(story_file)
    assert digest.startswith("c0f")
    assert story_file.read_bytes().startswith(original), "the content is kept byte for byte"
    assert stat.S_IMODE(story_file.stat().st_mode) == 0o640, "the file's mode is kept"
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    fields = lines[0].split("  ")
    assert fields[0] == digest and fields[1] == str(story_file)
    added = len(story_file.read_bytes()) - len(original)
    assert fields[2] == f"+{added} bytes"
    assert fields[3].endswith("candidates") and fields[4].endswith(" s") and fields[5].endswith("M/s")
    assert folder_listing(story_file.parent) == ["page.txt"], "no temp file is left behind"


def test_json_output_has_every_field(runner: CliRunner, story_file: Path, engine: str) -> None:
    result = runner.invoke(cli, ["find", "--prefix", "abc", "--json", "--engine", engine, str(story_file)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"md5", "suffix", "suffix_hex", "candidates", "seconds", "rate", "jobs", "engine"}
    assert report["md5"] == md5_of(story_file)
    assert story_file.read_bytes().endswith(report["suffix"].encode())
    assert bytes.fromhex(report["suffix_hex"]) == report["suffix"].encode()
    assert report["engine"] == engine


def test_output_option_leaves_the_input_alone(
    runner: CliRunner, story_file: Path, tmp_path: Path, engine: str
) -> None:
    before = story_file.read_bytes()
    out = tmp_path / "out.txt"
    result = runner.invoke(cli, ["find", "--pattern", "a_b", "--engine", engine, "-o", str(out), str(story_file)])
    assert result.exit_code == 0, result.output
    assert story_file.read_bytes() == before
    digest = md5_of(out)
    assert digest[0] == "a" and digest[2] == "b"


def test_stdin_to_stdout_puts_the_report_on_stderr(runner: CliRunner, engine: str) -> None:
    result = runner.invoke(cli, ["find", "--prefix", "00", "--engine", engine, "--json", "-"], input=b"from a pipe\n")
    assert result.exit_code == 0, result.output
    assert hashlib.md5(result.stdout_bytes).hexdigest().startswith("00")
    assert result.stdout_bytes.startswith(b"from a pipe\n")
    assert json.loads(result.stderr)["md5"] == hashlib.md5(result.stdout_bytes).hexdigest()


def test_file_to_stdout_with_dash_output(runner: CliRunner, story_file: Path, engine: str) -> None:
    before = story_file.read_bytes()
    result = runner.invoke(cli, ["find", "--prefix", "11", "--engine", engine, "-o", "-", str(story_file)])
    assert result.exit_code == 0
    assert hashlib.md5(result.stdout_bytes).hexdigest().startswith("11")
    assert story_file.read_bytes() == before
    assert "<stdout>" in result.stderr


def test_replace_keeps_the_file_from_growing(runner: CliRunner, story_file: Path, engine: str) -> None:
    sizes = []
    for prefix in ("aa", "bb", "cc", "dd"):
        result = runner.invoke(cli, ["find", "--prefix", prefix, "--engine", engine, "--replace", str(story_file)])
        assert result.exit_code == 0, result.output
        assert md5_of(story_file).startswith(prefix)
        sizes.append(story_file.stat().st_size)
    assert max(sizes) - min(sizes) <= 8


def test_custom_and_named_alphabets(runner: CliRunner, story_file: Path, engine: str) -> None:
    original = story_file.read_bytes()
    result = runner.invoke(cli, ["find", "--prefix", "12", "--engine", engine, "--alphabet", "zw", str(story_file)])
    assert result.exit_code == 0, result.output
    suffix = story_file.read_bytes()[len(original) :].decode("utf-8")
    assert set(suffix) <= set("\u200b\u200c\u200d\u2060\ufeff")
    result = runner.invoke(
        cli, ["find", "--prefix", "34", "--engine", engine, "--alphabet-chars", "AB", "--json", str(story_file)]
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["suffix"]) <= {"A", "B"}


@pytest.mark.parametrize(
    "arguments",
    [
        ["--prefix", ""],
        ["--prefix", "xyz"],
        ["--prefix", "0" * 33],
        ["--pattern", "ab_z"],
        ["--pattern", "a" * 33],
        ["--prefix", "ab", "--pattern", "ab"],
        [],
        ["--prefix", "ab", "--alphabet-chars", "a"],
        ["--prefix", "ab", "--alphabet-chars", "abca"],
        ["--prefix", "ab", "--alphabet", "klingon"],
        ["--prefix", "ab", "--alphabet", "ws2", "--alphabet-chars", "ab"],
        ["--prefix", "ab", "--jobs", "0"],
        ["--prefix", "ab", "--jobs", "-3"],
        ["--prefix", "ab", "-o", "/no/such/folder/out.txt"],
        ["--prefix", "ab", "-o", "{file}/inside-a-file.txt"],
    ],
    ids=lambda arguments: " ".join(arguments) or "no-target",
)
def test_usage_errors_exit_2_and_write_nothing(runner: CliRunner, story_file: Path, arguments: list[str]) -> None:
    before = story_file.read_bytes()
    arguments = [argument.replace("{file}", str(story_file)) for argument in arguments]
    result = runner.invoke(cli, ["find", *arguments, str(story_file)])
    assert result.exit_code == 2, result.output
    assert "Error" in result.stderr and "Traceback" not in result.output
    assert story_file.read_bytes() == before
    assert folder_listing(story_file.parent) == ["page.txt"]


def test_missing_file_and_directory_are_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    for path in (tmp_path / "missing.txt", tmp_path):
        result = runner.invoke(cli, ["find", "--prefix", "ab", str(path)])
        assert result.exit_code == 2
        assert "Error" in result.stderr


def test_too_much_work_exits_1_with_the_estimate(runner: CliRunner, story_file: Path, engine: str) -> None:
    before = story_file.read_bytes()
    result = runner.invoke(cli, ["find", "--prefix", "0" * 16, "--engine", engine, str(story_file)])
    assert result.exit_code == 1
    assert "--force" in result.stderr and "years" in result.stderr
    assert story_file.read_bytes() == before


def run_md5steg(*arguments: str) -> subprocess.CompletedProcess[bytes]:
    """Run the real CLI; as root, without the capabilities that bypass file permissions."""
    command = [sys.executable, "-c", "from md5steg.cli import main; main()", *arguments]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: file permissions cannot be enforced")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    return subprocess.run(command, capture_output=True, timeout=60)


def test_unreadable_file_is_a_one_line_usage_error(story_file: Path) -> None:
    story_file.chmod(0)
    completed = run_md5steg("find", "--prefix", "ab", str(story_file))
    story_file.chmod(0o640)
    assert completed.returncode == 2, completed.stderr
    assert b"not readable" in completed.stderr and b"Traceback" not in completed.stderr
    assert completed.stderr.strip().count(b"\n") == 0, "one line"


def test_unwritable_folder_for_in_place_rewrite_exits_1(story_file: Path) -> None:
    before = story_file.read_bytes()
    story_file.parent.chmod(0o555)
    try:
        completed = run_md5steg("find", "--prefix", "ab", str(story_file))
    finally:
        story_file.parent.chmod(0o755)
    assert completed.returncode == 1, completed.stderr
    assert b"not writable" in completed.stderr and b"Traceback" not in completed.stderr
    assert story_file.read_bytes() == before


def test_unwritable_output_folder_is_a_usage_error(story_file: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    completed = run_md5steg("find", "--prefix", "ab", "-o", str(locked / "out.txt"), str(story_file))
    locked.chmod(0o755)
    assert completed.returncode == 2, completed.stderr
    assert b"not writable" in completed.stderr
    assert completed.stderr.strip().count(b"\n") == 0, "one line"
    assert list(locked.iterdir()) == []


def test_every_command_has_help_text(runner: CliRunner) -> None:
    for name in LAZY_COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.help, f"`md5steg {name}` has no help text"
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        first_line = " ".join(command.help.split("\n")[0].split())
        assert first_line in " ".join(result.stdout.split())


def test_info_reports_engine_and_simd_path(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["info", "--json"])
    assert result.exit_code == 0
    facts = json.loads(result.stdout)
    assert facts["engine"] in ("cython", "python")
    assert facts["simd"] in facts["simd_paths"]


def test_info_lists_opencl_devices_or_says_what_to_install(tmp_path: Path) -> None:
    env = {**os.environ, "OCL_ICD_VENDORS": str(tmp_path)}  # an empty vendors folder: no platform
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("md5steg")), "info", "--json"], capture_output=True, env=env, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    (line,) = json.loads(completed.stdout)["opencl_devices"]
    assert line.startswith("none: ") and "pocl" in line


@pytest.mark.parametrize(
    "module, extra", [("uvicorn", "serve"), ("distributed", "dask"), ("pyopencl", "gpu"), ("cryptography", "hide")]
)
def test_a_command_missing_its_extra_names_that_extra(runner: CliRunner, module: str, extra: str) -> None:
    from md5steg.cli import _unavailable_command

    command = _unavailable_command("demo", ImportError(f"No module named {module!r}", name=module))
    result = runner.invoke(command, [])
    assert result.exit_code == 1
    assert f"needs {module}, which is not installed; install the extra with: pip install 'md5steg[{extra}]'" in result.output


@pytest.mark.parametrize("command", ["hide", "reveal"])
def test_hide_and_reveal_refuse_a_socket_or_device_as_output_in_one_line(
    runner: CliRunner, story_file: Path, tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o on a device or socket is refused before anything is written (as root it once replaced /dev/null)."""
    stego = pytest.importorskip("md5steg.stego")
    monkeypatch.setenv("MD5STEG_PASSPHRASE", "s3cret")
    message = tmp_path / "message.txt"
    message.write_bytes(b"hi")
    with stego.cheap_kdf_for_tests():
        hidden = runner.invoke(cli, ["hide", str(story_file), "--prefix", "0", "--message-file", str(message), "-q"])
        assert hidden.exit_code == 0, hidden.output
        outputs = [tmp_path / "socket"]
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(outputs[0]))
        listener.close()
        try:
            os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
            outputs.append(tmp_path / "null")
        except PermissionError:
            pass
        before = story_file.read_bytes()
        for output in outputs:
            extra = ["--prefix", "1", "--message-file", str(message), "-q"] if command == "hide" else []
            result = runner.invoke(cli, [command, str(story_file), *extra, "-o", str(output)])
            kind = "a socket" if output.name == "socket" else "a character device"
            assert result.exit_code == 1, result.output
            assert result.stderr == (
                f"Error: {output} is {kind}; md5steg writes only regular files, new paths and FIFOs "
                "(nothing was written)\n"
            )
            assert not stat.S_ISREG(output.lstat().st_mode)
        assert story_file.read_bytes() == before


def test_md5steg_alone_prints_the_help_and_no_error() -> None:
    completed = subprocess.run([sys.executable, "-c", MAIN], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
    assert completed.stdout.startswith("Usage: md5steg [OPTIONS] COMMAND") and "find" in completed.stdout
    assert "Error" not in completed.stdout + completed.stderr


def test_a_mistyped_command_gets_the_closest_one_suggested() -> None:
    completed = subprocess.run([sys.executable, "-c", MAIN, "fnid"], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert completed.stderr == "Error: no command 'fnid'; did you mean find? (see 'md5steg --help')\n"


@pytest.mark.parametrize("command", ["find", "info", "alphabets"])
def test_help_shows_real_examples(runner: CliRunner, command: str) -> None:
    shown = runner.invoke(cli, [command, "--help"]).stdout
    examples = shown.split("Examples:", 1)[1].split("Options:", 1)[0]
    assert f"md5steg {command}" in examples


def test_a_narrow_progress_line_drops_the_bar_and_counts_before_the_time_left() -> None:
    progress = Progress(candidates=123_456_789, seconds=2.0, expected_candidates=16**8)
    wide, bar_on_wide = fit_status("md5 c0ffee00", progress, 160)
    assert bar_on_wide and "tried" in wide and "M/s" in wide
    narrow, bar_on_narrow = fit_status("md5 c0ffee00", progress, 60)
    assert not bar_on_narrow and "tried" not in narrow
    assert narrow.endswith("more") and narrow.startswith(("P(hit", "expected", "61.7 M/s"))
    assert len("md5 c0ffee00") + 1 + len(narrow) < 60
    tiny, _ = fit_status("md5 c0ffee00", progress, 20)
    assert tiny.startswith("expected ") and tiny.endswith(" more")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_the_progress_bar_at_60_columns_shows_the_expected_time_left(story_file: Path, tmp_path: Path) -> None:
    """Drawn on a real (pseudo-)terminal 60 columns wide, as a person sees it."""
    import fcntl
    import struct
    import termios

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-c", MAIN, "find", "--prefix", "0" * 12, "--force", "-j", "1", "-o", str(tmp_path / "out.txt"), str(story_file)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, env={**env, "TERM": "xterm"},
    )
    os.close(follower)
    seen = b""
    try:
        while b" more" not in seen:
            ready, _, _ = select.select([leader], [], [], 30)
            if not ready:
                break
            seen += os.read(leader, 65536)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        os.close(leader)
    assert b"expected " in seen and b" more" in seen, seen[-500:]
    assert b"tried" not in seen


def load_man_page_tool() -> Any:
    spec = importlib.util.spec_from_file_location("make_man", Path(__file__).parent.parent / "tools" / "make_man.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_man_page_names_every_command_and_option(runner: CliRunner) -> None:
    """docs/md5steg.1 comes from `make man`; run it again when a command or option changes."""
    committed = (Path(__file__).parent.parent / "docs" / "md5steg.1").read_text(encoding="utf-8")
    generated = load_man_page_tool().man_page()
    context = click.Context(cli, info_name="md5steg")
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None
        if (command.help or "").startswith("(unavailable"):
            continue  # an extra that is not installed here
        assert f".SS md5steg {name}" in committed and f".SS md5steg {name}" in generated
        for parameter in command.params:
            for flag in getattr(parameter, "opts", []) if isinstance(parameter, click.Option) else []:
                escaped = flag.replace("-", "\\-")
                assert escaped in committed, f"docs/md5steg.1 lacks {name} {flag}: run make man"


def test_the_text_report_names_the_backend_and_devices_when_the_search_left_the_local_pool() -> None:
    from md5steg.cli.find import _where
    from md5steg.search import Match

    def match(backend: str, devices: tuple[str, ...]) -> Match:
        return Match(b" ", "0" * 32, 0, 1, 0.1, 1, "cython", "avx2", "ws5", "0", backend=backend, devices=devices)

    assert _where(match("opencl", ("NVIDIA H200", "pocl cpu"))) == "  on opencl: NVIDIA H200, pocl cpu"
    assert _where(match("dask", ("tcp://10.0.0.5:8786 (3 workers, 48 threads)",))).startswith("  on dask: tcp://")
    assert _where(match("pool", ("2 local processes",))) == _where(match("local", ("this process",))) == ""


def test_a_file_name_that_is_not_utf8_is_printed_as_its_bytes(tmp_path: Path) -> None:
    """As md5sum does; it once ended a finished run in a UnicodeEncodeError traceback."""
    source = tmp_path / "in.txt"
    source.write_bytes(b"x\n")
    output = os.fsencode(tmp_path) + b"/g\xff"
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "find", "--prefix", "0", "-o", output, str(source)],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 0, done.stderr
    assert b"/g\xff  +" in done.stdout and done.stderr == b""
    assert hashlib.md5(Path(os.fsdecode(output)).read_bytes()).hexdigest().startswith("0")


@pytest.mark.parametrize("command", [["find", "--prefix", "0", "-o", "out", "-"], ["reveal", "-"], ["paste", "--db", "db", "-"]])
def test_a_closed_stdin_is_one_line_not_a_traceback(tmp_path: Path, command: list[str]) -> None:
    """Python starts with sys.stdin None; `find -` ended in an AttributeError traceback."""
    done = subprocess.run(
        ["bash", "-c", 'exec "$@" <&-', "closed-stdin", sys.executable, "-c", MAIN, *command],  # as a shell's <&-
        capture_output=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "MD5STEG_PASSPHRASE": "x"},
    )
    assert done.returncode == 1
    assert done.stderr.endswith(b"stdin is closed\n") and done.stderr.count(b"\n") == 1, done.stderr
