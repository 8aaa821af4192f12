"""``md5steg paste``: pipe anything into a pastebin, with a vanity id or a page that holds its own URL."""

from __future__ import annotations

import json
import os
import sys
from typing import BinaryIO, Optional

import click

from ..alphabets import NAMED_ALPHABETS
from ..errors import Md5stegError
from ..search import SearchOptions
from ..story.events import DEFAULT_ALPHABET, PublishEvent
from ..story.loader import HEX_RE
from ..story.paste import DEFAULT_SELF_TOKEN, paste_content
from ..story.records import PasteRecords
from .options import search_options
from .story import TargetOptions, target_options

DEFAULT_MAX_EXPECTED_SECONDS = 3600.0
FALLBACK_READ_LIMIT = 64 * 1024 * 1024
"""Bytes read when the pastebin states no limit (so /dev/zero cannot fill the memory)."""


def _read(file: str, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of FILE (``-``: stdin): one more than fits shows it is too large."""
    try:
        if file == "-":
            stream: BinaryIO = sys.stdin.buffer
            return stream.read(limit + 1)
        with open(file, "rb") as handle:
            return handle.read(limit + 1)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None


def _hex_or_none(context: click.Context, parameter: click.Parameter, value: Optional[str]) -> Optional[str]:
    if value is not None and not HEX_RE.fullmatch(value.lower()):
        raise click.BadParameter(f"{value!r} is not hex; use only 0-9 and a-f")
    return value.lower() if value is not None else None


def _check_input_source(file: str, self_token: Optional[str]) -> None:
    """Usage errors for the two ways of reading the wrong input: a terminal, or a file taken as a token."""
    if file != "-":
        return
    if self_token is not None and os.path.isfile(self_token):
        raise click.UsageError(
            f"--self took {self_token!r} as its token, so there is no FILE; to paste {self_token} "
            f"with the default token write: md5steg paste {self_token} --self"
        )
    if sys.stdin.isatty():
        raise click.UsageError("no input: give FILE, or pipe text into md5steg paste")


@click.command("paste")
@click.argument("file", default="-", type=click.Path(dir_okay=False, allow_dash=True))
@target_options
@click.option(
    "--vanity",
    metavar="HEX",
    callback=_hex_or_none,
    help="The paste's id starts with these hex digits (md5bin only): an invisible suffix is searched.",
)
@click.option(
    "--self",
    "self_token",
    metavar="TOKEN",
    is_flag=False,
    flag_value=DEFAULT_SELF_TOKEN,
    default=None,
    help=f"Replace every TOKEN (default {DEFAULT_SELF_TOKEN}) in the input by the paste's own URL "
    f"(md5bin only).",
)
@click.option(
    "--alphabet",
    type=click.Choice(sorted(NAMED_ALPHABETS)),
    default=DEFAULT_ALPHABET,
    show_default=True,
    help="Symbols of the suffix searched for --vanity and --self.",
)
@search_options
@click.option("--force", is_flag=True, help="Search even when the expected time exceeds an hour.")
@click.option("--json", "as_json", is_flag=True, help="Print url, id, md5, bytes added and the search figures as one line of JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No search notice on stderr.")
def paste_command(
    file: str,
    target: TargetOptions,
    vanity: Optional[str],
    self_token: Optional[str],
    alphabet: str,
    search: SearchOptions,
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Paste FILE (or stdin, when FILE is - or absent) and print its URL.

    With --vanity the id starts with the given hex digits; with --self every
    {{url}} (or the token given) becomes the paste's own URL, so a script can
    print or fetch where it lives (write FILE first: `md5steg paste me.sh
    --self`). The same input pasted again prints the same URL and adds
    nothing (on pinnwand, whose ids are random: when this user pasted it from
    this machine, as recorded in the user's data folder).

    \b
    Examples:
      uptime | md5steg paste --vanity c0de          # prints http://127.0.0.1:8000/c0de…
      md5steg paste whereami.sh --self --to https://bin.example.com
    """
    _check_input_source(file, self_token)
    pastebin = target.open()

    def report(event: PublishEvent) -> None:
        if event.kind == "search" and not quiet:
            click.echo(f"searching a suffix to get id {event.paste_id}...", err=True)
        elif event.kind == "notice":
            click.echo(f"warning: {event.message}", err=True)

    records = None
    if not pastebin.predictable_ids:
        records, problem = PasteRecords.load()
        if problem:
            click.echo(f"warning: {problem}", err=True)
    try:
        with pastebin:
            if pastebin.predictable_ids:
                pastebin.id_length  # noqa: B018 - learns a remote md5bin's id length and size limit
            content = _read(file, pastebin.max_size or FALLBACK_READ_LIMIT)
            result = paste_content(
                content,
                pastebin,
                source="<stdin>" if file == "-" else file,
                vanity=vanity,
                self_token=self_token,
                search=search,
                alphabet=alphabet,
                max_expected_seconds=None if force else DEFAULT_MAX_EXPECTED_SECONDS,
                on_event=report,
                records=records,
            )
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        report_json = {
            "url": result.url,
            "id": result.paste_id,
            "md5": result.md5,
            "added": len(result.added),
            "suffix_hex": result.added.hex(),
            "already_pasted": result.found,
            "searches": result.searches,
            "candidates": result.candidates,
            "seconds": round(result.seconds, 3),
        }
        click.echo(json.dumps(report_json))
        return
    if result.found and not quiet:
        click.echo("already pasted: nothing added", err=True)
    click.echo(result.url)
