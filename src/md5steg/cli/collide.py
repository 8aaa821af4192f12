"""``md5steg collide``: write two different files with the same MD5."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from typing import BinaryIO, Optional

import click

from ..collision import MAX_SEED, CollideProgress, Collision, collide
from ..cores import max_jobs
from ..errors import InvalidTargetError, Md5stegError
from ..files import describe_file_type, writable_directory_problem, write_atomic_group
from ..search import make_target
from ..target import Target
from .options import digest_target_options

MAX_PREFIX_BYTES = 64 << 20
"""The most FILE may hold: both outputs carry a copy of it, in memory until written."""
DEFAULT_MAX_EXPECTED_SECONDS = 3600.0
PROGRESS_INTERVAL_SECONDS = 0.25


def _read_prefix(file: Optional[str]) -> bytes:
    """FILE's bytes (or stdin's), at most MAX_PREFIX_BYTES; only a regular file or a stream."""
    if file is None:
        return b""
    if file == "-":
        try:
            return _read_bounded(sys.stdin.buffer, "stdin")
        except OSError as exc:  # a closed stdin (`<&-`) among others
            raise click.ClickException(f"cannot read stdin: {exc.strerror or exc}") from None
    try:
        status = os.stat(file)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(status.st_mode):
        raise click.ClickException(f"cannot read {file}: it is {describe_file_type(status.st_mode)}, not a regular file")
    try:
        with open(file, "rb") as stream:
            return _read_bounded(stream, file)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None


def _read_bounded(stream: BinaryIO, name: str) -> bytes:
    data = stream.read(MAX_PREFIX_BYTES + 1)
    if len(data) > MAX_PREFIX_BYTES:
        raise click.ClickException(
            f"{name} is larger than {MAX_PREFIX_BYTES >> 20} MiB; both outputs carry a copy of it, "
            f"so collide takes at most that much"
        )
    return data


def _check_outputs(first: str, second: str) -> None:
    """Two different paths, each a new or regular file in a writable folder (exit 2 otherwise)."""
    same = os.path.realpath(first) == os.path.realpath(second)
    if not same and os.path.exists(first) and os.path.exists(second):
        same = os.path.samefile(first, second)
    if same:
        raise click.BadParameter(f"{first} and {second} are the same file; give two different outputs", param_hint="-o")
    for path in (first, second):
        problem = writable_directory_problem(path)
        if problem is None and os.path.lexists(path):
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:
                problem = exc.strerror or str(exc)
            else:
                if not stat.S_ISREG(mode):
                    problem = f"it is {describe_file_type(mode)}; only a regular file is replaced"
        if problem is not None:
            raise click.BadParameter(f"cannot write {path}: {problem}", param_hint="-o")


def _write_pair(collision: Collision, first: str, second: str) -> None:
    """Both files or neither: both temp files are complete before either is renamed into place."""
    try:
        write_atomic_group([(first, collision.data1), (second, collision.data2)])
    except (OSError, Md5stegError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise click.ClickException(f"cannot write {first} and {second}: {reason} (neither was changed)") from None


def _print_result(text: str, first: str, second: str) -> None:
    """The result on stdout, flushed now: a stdout that takes no bytes (/dev/full, a closed pipe) is one line, exit 1.

    Fd 1 is then pointed at /dev/null, so Python's own flush at exit cannot fail again.
    """
    try:
        click.echo(os.fsencode(text))  # a file name's bytes as given, as md5sum prints them, even if not UTF-8
        sys.stdout.flush()
    except OSError as exc:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        raise click.ClickException(
            f"{first} and {second} were written, but cannot write to stdout: {exc.strerror or exc}"
        ) from None


class _ProgressLine:
    """One line on stderr, rewritten in place: attempts and time so far (no ETA: the run time is heavy-tailed)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.shown_at = 0.0
        self.width = 0

    def __call__(self, progress: CollideProgress) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.shown_at < PROGRESS_INTERVAL_SECONDS:
            return
        self.shown_at = now
        if progress.phase == "collision":
            text = (
                f"collide: {progress.attempts:,} attempts, {progress.seconds:.1f} s "
                f"(the time per collision varies widely: no ETA)"
            )
        else:
            text = f"collide: collision found; vanity suffix: {progress.attempts:,} tried, {progress.seconds:.1f} s"
        sys.stderr.write("\r" + text.ljust(self.width))
        sys.stderr.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _report(collision: Collision, first: str, second: str) -> dict[str, object]:
    return {
        "md5": collision.md5,
        "files": [first, second],
        "seconds": round(collision.seconds, 6),
        "attempts": collision.attempts,
        "seed": collision.seed,
        "jobs": collision.jobs,
        "engine": collision.engine,
        "prefix_bytes": collision.prefix_length,
        "block_offsets": list(collision.block_offsets),
        "suffix_hex": collision.suffix.hex(),
        "target": collision.target,
        "size": len(collision.data1),
    }


@click.command("collide")
@click.argument("file", required=False, type=click.Path(dir_okay=True, allow_dash=True))
@click.option(
    "-o",
    "--output",
    "outputs",
    nargs=2,
    required=True,
    metavar="OUT1 OUT2",
    help="The two files to write (both are replaced atomically).",
)
@digest_target_options
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1, max=max_jobs()),
    help="Independent searches in parallel; the first to finish wins (default: every core).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0, max=MAX_SEED),
    help="Seed of the first search (the others take the next ones); with -j 1 the same pair every time.",
)
@click.option(
    "--engine",
    type=click.Choice(["cython", "python"]),
    help="Search engine; default: the compiled core when built (pure Python: minutes per collision).",
)
@click.option("--force", is_flag=True, help="Search the --prefix suffix even when it is expected to take over an hour.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no summary on stderr.")
def collide_command(
    file: Optional[str],
    outputs: tuple[str, str],
    prefix: Optional[str],
    pattern: Optional[str],
    jobs: Optional[int],
    seed: Optional[int],
    engine: Optional[str],
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Write OUT1 and OUT2: FILE's bytes, then two blocks that differ, with one MD5.

    Both files start with FILE (`-`: stdin; none when omitted), padded with zero bytes to a
    multiple of 64, followed by two 64-byte blocks that differ between them (an identical-prefix
    MD5 collision). --prefix/--pattern appends one more invisible suffix to both, so that the
    shared MD5 also starts with chosen digits. This is a collision, not a preimage: it cannot
    give a new file the MD5 of an existing one.

    Examples:

    \b
      md5steg collide hello.txt -o a.bin b.bin
      md5steg collide hello.txt -o c.bin d.bin --prefix c0ffee --seed 7 -j 1 --json
      printf 'hello\\n' | md5steg collide - -o a.bin b.bin -q
    """
    first, second = outputs
    target: Optional[Target] = None
    if prefix is not None or pattern is not None:
        try:
            target = make_target(prefix, pattern)
        except InvalidTargetError as exc:
            hint = "--prefix/--pattern" if prefix is not None and pattern is not None else (
                "--prefix" if prefix is not None else "--pattern"
            )
            raise click.BadParameter(str(exc), param_hint=hint) from None
    _check_outputs(first, second)
    data = _read_prefix(file)
    line = _ProgressLine(not quiet)
    try:
        collision = collide(
            data,
            target=target,
            jobs=jobs,
            seed=seed,
            engine=engine,
            progress=line,
            max_expected_seconds=None if force else DEFAULT_MAX_EXPECTED_SECONDS,
        )
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        line.clear()
    _write_pair(collision, first, second)
    if as_json:
        _print_result(json.dumps(_report(collision, first, second)), first, second)
        return
    _print_result(f"{collision.md5}  {first}\n{collision.md5}  {second}", first, second)
    if not quiet:
        start, _ = collision.block_offsets
        click.echo(
            f"collision in {collision.seconds:.2f} s, {collision.attempts:,} attempts, seed {collision.seed} "
            f"({collision.jobs} job{'s' if collision.jobs > 1 else ''}, {collision.engine}); "
            f"the files differ only in bytes {start}..{start + 127}",
            err=True,
        )
