"""``md5steg find``: append a suffix so the file's MD5 matches a prefix or pattern."""

from __future__ import annotations

import json
import os
import sys
from typing import Optional

import click

from ..errors import InvalidTargetError, Md5stegError
from ..files import writable_directory_problem, write_atomic
from ..search import Match, SearchOptions, find, make_target
from .options import alphabet_options, resolve_alphabet_options, search_options
from .progress import search_progress

DEFAULT_MAX_EXPECTED_SECONDS = 3600.0


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None


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
@click.option("--prefix", metavar="HEX", help="Hex prefix the MD5 must start with (1..32 digits).")
@click.option("--pattern", metavar="PATTERN", help="Hex digits and _ wildcards, position by position (<= 32).")
@click.option(
    "-o",
    "--output",
    metavar="OUT",
    help="Write the result to OUT (or - for stdout) and leave FILE alone.",
)
@alphabet_options
@search_options
@click.option("--replace", is_flag=True, help="First strip every trailing alphabet character (an earlier suffix).")
@click.option("--force", is_flag=True, help="Search even when the expected time exceeds an hour.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
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

    FILE is rewritten atomically (its mode kept) unless -o is given; `-` reads
    stdin and then writes stdout. The suffix is the lowest matching nonce, so
    the same input always gives the same result.
    """
    if prefix is not None and pattern is not None:
        raise click.UsageError("use either --prefix or --pattern, not both")
    if prefix is None and pattern is None:
        raise click.UsageError("give a target: --prefix HEX or --pattern PATTERN")
    try:
        target = make_target(prefix, pattern)
    except InvalidTargetError as exc:
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

    data = _read_input(file)
    if replace:
        data = alphabet.strip_suffix(data)
    shown_name = "<stdin>" if file == "-" else file
    try:
        with search_progress(not quiet, f"md5 {target.pattern}") as progress:
            match = find(
                data,
                pattern=target.pattern,
                alphabet=alphabet,
                **search.find_kwargs(),
                progress=progress,
                max_expected_seconds=None if force else DEFAULT_MAX_EXPECTED_SECONDS,
            )
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None

    for notice in match.notices:
        click.echo(f"notice: {notice}", err=True)
    result = match.apply(data)
    if destination == "-":
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
    else:
        try:
            write_atomic(destination, result)
        except OSError as exc:
            raise click.ClickException(f"cannot write {destination}: {exc.strerror or exc}") from None

    report = _report(match, shown_name, None if destination == "-" else os.fspath(destination))
    report_to_stderr = destination == "-"
    if as_json:
        click.echo(json.dumps(report), err=report_to_stderr)
    else:
        click.echo(
            f"{match.md5}  {destination if destination != '-' else '<stdout>'}  +{len(match.suffix)} bytes  "
            f"{match.candidates:,} candidates  {match.seconds:.3f} s  {match.rate / 1e6:.2f} M/s",
            err=report_to_stderr,
        )
