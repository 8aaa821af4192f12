"""``md5steg find``: append a suffix so the file's MD5 matches a prefix or pattern."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from typing import IO, Any, BinaryIO, Optional, Union

import click

from ..alphabets import Alphabet
from ..errors import InvalidTargetError, Md5stegError
from ..files import NotRegularFileError, writable_directory_problem
from ..rewrite import FileRewrite
from ..search import (
    DEFAULT_MAX_EXPECTED_SECONDS as DEFAULT_MAX_EXPECTED_SECONDS,  # hide.py imports it from here
)
from ..search import Match, SearchOptions, find, make_target
from ..target import Target
from .options import (
    alphabet_options,
    digest_target_options,
    resolve_alphabet_options,
    search_options,
    search_run_options,
)
from .progress import search_progress

LOCAL_BACKENDS = ("local", "pool")
"""Searches in this process or its process pool: the text report does not name them."""


class _QuietExit(click.ClickException):
    """Exit 1 without a message: stderr itself cannot be written."""

    def __init__(self) -> None:
        super().__init__("")

    def show(self, file: Optional[IO[Any]] = None) -> None:
        pass


def _stdout_failed(error: OSError, done: str = "") -> click.ClickException:
    """One line for a stdout that takes no more bytes (closed pipe, /dev/full), exit 1.

    A closed pipe is reported too, as coreutils do when SIGPIPE is ignored (it
    is in every Python program): stdout carries a whole file, or the only
    record of the MD5 a rewritten file now has. Fd 1 is then pointed at
    /dev/null, so Python's own flush at exit cannot fail again with a traceback.
    """
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    reason = "its reader has gone (broken pipe)" if error.errno == errno.EPIPE else error.strerror or str(error)
    return click.ClickException(f"{done}cannot write to stdout: {reason}")


def _emit(text: str, to_stderr: bool, done: str) -> None:
    """Print the result line and flush now, so a write error is ours to report."""
    try:
        click.echo(text, err=to_stderr)
        (sys.stderr if to_stderr else sys.stdout).flush()
    except OSError as exc:
        if to_stderr:
            raise _QuietExit() from None
        raise _stdout_failed(exc, done) from None


def _search_and_write(
    rewrite: FileRewrite,
    target: Target,
    alphabet: Alphabet,
    replace: bool,
    quiet: bool,
    search: SearchOptions,
    max_expected_seconds: Optional[float],
) -> tuple[Match, str]:
    """Read, search, write: the match and the MD5 of what was really written."""
    content = rewrite.read()
    if replace:
        content = rewrite.strip_trailing(alphabet)
    with search_progress(not quiet, f"md5 {target.pattern}") as progress:
        match = find(
            content,
            pattern=target.pattern,
            alphabet=alphabet,
            progress=progress,
            max_expected_seconds=max_expected_seconds,
            **search.find_kwargs(),
        )
    try:
        return match, rewrite.commit(match.suffix, keep_bytes=content.length, expected_md5=match.md5)
    except OSError as exc:  # only a stream (stdout) raises OSError; files raise Md5stegError
        raise _stdout_failed(exc) from None


def _report(match: Match, shown_name: str, output: Optional[str]) -> dict[str, object]:
    return {
        "md5": match.md5,
        "file": shown_name,
        "output": output,
        "suffix": match.suffix.decode("utf-8"),
        "suffix_hex": match.suffix.hex(),
        "bytes_added": len(match.suffix),
        "nonce_index": match.nonce_index,
        "candidates": match.candidates,
        "resumed_candidates": match.resumed_candidates,
        "seconds": round(match.seconds, 6),
        "rate": round(match.rate, 1),
        "jobs": match.jobs,
        "backend": match.backend,
        "devices": list(match.devices),
        "engine": match.engine,
        "simd": match.simd,
        "alphabet": match.alphabet,
        "target": match.target,
    }


@click.command("find")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@digest_target_options
@click.option(
    "-o",
    "--output",
    metavar="OUT",
    help="Write the result to OUT (or - for stdout) and leave FILE alone.",
)
@alphabet_options
@search_options
@click.option("--replace", is_flag=True, help="First strip every trailing alphabet character (an earlier suffix).")
@search_run_options
def find_command(
    file: str,
    prefix: Optional[str],
    pattern: Optional[str],
    output: Optional[str],
    alphabet_name: Optional[str],
    alphabet_chars: Optional[str],
    search: SearchOptions,
    replace: bool,
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Make FILE's MD5 match --prefix or --pattern by appending invisible characters.

    FILE must be a regular file; it is rewritten atomically (owner, group and
    mode kept; a symlink's target is rewritten) unless -o is given, and a run
    fails rather than overwrite a change made meanwhile. `-` reads stdin and
    then writes stdout; with -o, FILE may also be a FIFO such as <(cmd), and OUT a
    FIFO (written into, not replaced). The suffix is the lowest matching nonce, so
    the same input always gives the same result.

    Examples:

    \b
      md5steg find page.txt --prefix c0ffee
      md5steg find data.bin --pattern dead____beef -o marked.bin --json
      curl -s https://example.org/ | md5steg find - --prefix 00 > page.html
    """
    try:
        target = make_target(prefix, pattern)
    except InvalidTargetError as exc:
        if (prefix is None) == (pattern is None):
            raise click.UsageError(f"{exc}: --prefix HEX or --pattern PATTERN") from None
        hint = "--prefix" if prefix is not None else "--pattern"
        raise click.BadParameter(str(exc), param_hint=hint) from None
    alphabet = resolve_alphabet_options(alphabet_name, alphabet_chars)
    if output is None and file == "-":
        output = "-"
    destination = output or file
    if destination != "-":
        problem = writable_directory_problem(destination)
        if problem is not None:
            if output is not None:
                raise click.BadParameter(f"cannot write {destination}: {problem}", param_hint="-o/--output")
            raise click.ClickException(f"cannot rewrite {destination}: {problem}")

    source: Union[str, BinaryIO] = sys.stdin.buffer if file == "-" else file
    written_to: Union[str, BinaryIO, None] = sys.stdout.buffer if destination == "-" else output
    limit = None if force else DEFAULT_MAX_EXPECTED_SECONDS
    try:
        with FileRewrite(source, written_to) as rewrite:
            match, written_md5 = _search_and_write(
                rewrite, target, alphabet, replace, quiet, search, limit,
            )
    except NotRegularFileError as exc:
        raise click.ClickException(f"{exc} with -o OUT" if output is None else str(exc)) from None
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None

    for notice in match.notices:
        _emit(f"notice: {notice}", True, "")
    shown_name = "<stdin>" if file == "-" else file
    report = _report(match, shown_name, None if destination == "-" else os.fspath(destination))
    report["md5"] = written_md5
    done = "" if destination == "-" else f"{destination} was written (MD5 {written_md5}), but "
    if as_json:
        _emit(json.dumps(report), destination == "-", done)
    else:
        shown_destination = destination if destination != "-" else "<stdout>"
        _emit(
            f"{written_md5}  {shown_destination}  +{len(match.suffix)} bytes  "
            f"{match.candidates:,} candidates  {match.seconds:.3f} s  {match.rate / 1e6:.2f} M/s"
            f"{_where(match)}",
            destination == "-",
            done,
        )


def _where(match: Match) -> str:
    """``  on BACKEND: DEVICES`` when the search left this machine's process pool (a GPU, a cluster)."""
    if match.backend in LOCAL_BACKENDS:
        return ""
    return f"  on {match.backend}: {', '.join(match.devices)}"
