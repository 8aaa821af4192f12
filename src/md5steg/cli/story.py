"""``md5steg plan`` and ``md5steg publish``: put a folder of linked pages on a pastebin."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

import click

from ..durations import format_duration
from ..errors import Md5stegError
from ..pastebins import PASTEBINS, Pastebin, PastebinOptions, open_pastebin
from ..search import DEFAULT_MAX_EXPECTED_SECONDS, SearchOptions
from ..story import (
    Plan,
    PublishEvent,
    load_manifest,
    load_story,
    make_plan,
    publish,
)
from .options import search_options

CommandFunction = Callable[..., Any]

TARGET_KINDS = sorted(PASTEBINS)
"""``--target`` choices: every registered pastebin adapter."""


@dataclass(frozen=True)
class TargetOptions:
    """Where pastes go, as the command line said: ``--target``, ``--to``, ``--db``, ``--base-url``, ``--id-length``."""

    kind: str
    url: Optional[str]
    db_path: Optional[str]
    base_url: Optional[str]
    id_length: Optional[int]

    def open(self, *, offline: bool = False) -> Pastebin:
        """The pastebin adapter; bad combinations and unusable URLs are usage errors (exit 2).

        ``offline``: for ``plan``, which must not touch the network.
        """
        options = PastebinOptions(
            url=self.url,
            db_path=self.db_path,
            base_url=self.base_url,
            id_length=self.id_length,
            offline=offline,
            on_retry=_say_retrying,
        )
        try:
            return open_pastebin(self.kind, options)
        except Md5stegError as exc:
            raise click.UsageError(str(exc)) from None


def _say_retrying(message: str) -> None:
    """The pastebin adapter's one notice that it is waiting for a server, on stderr."""
    click.echo(f"warning: {message}", err=True)


_TARGET_KEYWORDS = ("kind", "url", "db_path", "base_url", "id_length")


def target_options(function: CommandFunction) -> CommandFunction:
    """--to, --target, --db, --base-url, --id-length, handed to the command as one ``target: TargetOptions``."""

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        kwargs["target"] = TargetOptions(*(kwargs.pop(keyword) for keyword in _TARGET_KEYWORDS))
        return function(*args, **kwargs)

    for decorator in reversed(
        [
            click.option(
                "--to",
                "url",
                metavar="URL",
                help="The pastebin's address (default: the local md5bin store).",
            ),
            click.option(
                "--target",
                "kind",
                type=click.Choice(TARGET_KINDS),
                default="md5bin",
                show_default=True,
                help="What kind of pastebin --to is.",
            ),
            click.option(
                "--db",
                "db_path",
                type=click.Path(dir_okay=False),
                help="md5bin SQLite file when there is no --to (default: the one `md5steg serve` uses).",
            ),
            click.option(
                "--base-url",
                metavar="URL",
                help="What links start with (default http://127.0.0.1:8000 for the local store, else --to).",
            ),
            click.option(
                "--id-length",
                type=click.IntRange(4, 32),
                help="md5bin id length: for a new local store, or for `plan --to` (offline; default 6).",
            ),
        ]
    ):
        command = decorator(command)
    return command


def story_options(function: CommandFunction) -> CommandFunction:
    """--manifest, --follow-symlinks, --include-unreachable: the options of commands that read a story folder."""
    function = click.option(
        "--include-unreachable",
        is_flag=True,
        help="Also publish pages that no chain of links from the start page reaches "
        "(left out by default: no reader finds them).",
    )(function)
    function = click.option(
        "--follow-symlinks",
        is_flag=True,
        help="Follow links: read pages and story.toml that are symbolic links or have other hard "
        "links, and a manifest that is a symbolic link (all refused by default, so a link to a "
        "private file is never pasted nor overwritten).",
    )(function)
    return click.option(
        "--manifest",
        "manifest_path",
        type=click.Path(dir_okay=False),
        help="Publish record (default STORY/.md5steg-manifest.json; a symbolic link there is "
        "refused, one named here is followed).",
    )(function)


def _expected_seconds(plan: Plan, search: SearchOptions) -> tuple[float, float, float]:
    """(candidates/s, cores, seconds) the plan's searches should take on this machine, measured briefly."""
    if not plan.searches:
        return 0.0, 0.0, 0.0
    from ..cores import available_cores
    from ..search import measure_rate

    cores = float(search.jobs or available_cores())
    try:
        rate = measure_rate(engine=search.engine, simd=search.simd) * cores
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    return rate, cores, plan.expected_candidates / rate


def _plan_report(plan: Plan, description: str, expected_seconds: float) -> dict[str, Any]:
    """``plan --json``: one object."""
    return {
        "target": description,
        "start": plan.story.start,
        "start_url": plan.start_url,
        "order": [
            {
                "page": page.name,
                "url": page.url,
                "id": page.paste_id,
                "search": page.needs_search and not page.up_to_date,
                "reason": page.reason,
                "up_to_date": page.up_to_date,
            }
            for page in plan.pages
        ],
        "searches": len(plan.searches),
        "expected_candidates": plan.expected_candidates,
        "expected_seconds": round(expected_seconds, 3),
        "warnings": list(plan.story.warnings),
    }


def _print_plan(plan: Plan, description: str, where: str, expected_seconds: float) -> None:
    for warning in plan.story.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"target: {description}")
    click.echo(f"start page: {plan.story.start}")
    width = max(len(page.name) for page in plan.pages)
    for number, page in enumerate(plan.pages, 1):
        notes = []
        if page.needs_search:
            notes.append(f"search {plan.id_length} hex ({page.reason})")
        if page.up_to_date:
            notes.append("already published")
        url_text = page.url or "(random id, known once pasted)"
        click.echo(
            f"{number:3}. {page.name:<{width}}  {url_text}"
            + (f"  [{'; '.join(notes)}]" if notes else "")
        )
    if plan.searches:
        per_search = plan.expected_candidates_per_search
        click.echo(
            f"{len(plan.searches)} page(s) need a search: ~{per_search / 1e6:.3g} M candidates each, "
            f"~{plan.expected_candidates / 1e6:.3g} M in all; about {format_duration(expected_seconds)} {where}"
        )
    else:
        click.echo("no search needed")
    if plan.start_url:
        click.echo(f"start: {plan.start_url}")


@click.command("plan")
@click.argument("story_folder", metavar="STORY", type=click.Path(exists=True, file_okay=False))
@target_options
@story_options
@search_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one line of JSON.")
def plan_command(
    story_folder: str,
    target: TargetOptions,
    manifest_path: Optional[str],
    follow_symlinks: bool,
    include_unreachable: bool,
    search: SearchOptions,
    as_json: bool,
) -> None:
    """Show how STORY would be published, without pasting anything or touching the network.

    Prints the paste order, which pages need an MD5 search (pages in a cycle,
    and vanity prefixes) with the expected work and time, and for md5bin every
    page's URL. Pages the manifest shows as already published are marked.

    \b
    Examples:
      md5steg plan examples/story                    # for the local md5bin store
      md5steg plan examples/story --to https://bin.example.com --id-length 6 --json
    """
    pastebin = target.open(offline=True)
    try:
        with pastebin:
            story = load_story(
                story_folder, follow_symlinks=follow_symlinks, include_unreachable=include_unreachable
            )
            manifest = load_manifest(story.folder, manifest_path, follow_symlinks=follow_symlinks)
            plan = make_plan(story, pastebin, manifest.pages(pastebin.target_key))
            description = pastebin.description
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    rate, cores, expected_seconds = _expected_seconds(plan, search)
    if as_json:
        click.echo(json.dumps(_plan_report(plan, description, expected_seconds)))
        return
    where = f"at {rate / 1e6:.1f} M/s on {cores:g} core(s)"
    if search.backend or any(search.backend_options.values()):
        where += " here (the chosen backend may be faster)"
    _print_plan(plan, description, where, expected_seconds)


@click.command("publish")
@click.argument("story_folder", metavar="STORY", type=click.Path(exists=True, file_okay=False))
@target_options
@story_options
@search_options
@click.option(
    "--json", "as_json", is_flag=True, help="Print the final page -> URL mapping as one line of JSON."
)
@click.option(
    "--force", is_flag=True, help="Search even when a page's expected search time exceeds an hour."
)
@click.option("-q", "--quiet", is_flag=True, help="No search notices on stderr.")
def publish_command(
    story_folder: str,
    target: TargetOptions,
    manifest_path: Optional[str],
    follow_symlinks: bool,
    include_unreachable: bool,
    search: SearchOptions,
    as_json: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Paste every page of STORY so that each [[link]] is the linked page's URL.

    Without --to the pages go into the local md5bin store, which `md5steg serve`
    serves. Re-running continues an interrupted publish and re-pastes only
    pages that changed (or link to pages that changed); on md5bin the same
    story published again, even from a fresh copy, pastes nothing and gets
    the same URLs. Pages that are symbolic links or have other hard links
    are refused unless --follow-symlinks, and pages no link leads to are left
    out unless --include-unreachable. A page whose search is expected to take
    over an hour stops the run with the estimate, as in find, unless --force.
    Prints one line per page pasted, then the start URL.

    \b
    Examples:
      md5steg publish examples/story                 # into the store `md5steg serve` serves
      md5steg publish examples/story --target pinnwand --to https://bpa.st
    """
    pastebin = target.open()

    def report(event: PublishEvent) -> None:
        if event.kind == "pasted":
            note = "  (searched)" if event.searched else ""
            click.echo(f"{event.page}  {event.url}{note}", err=as_json)
        elif event.kind == "search":
            if not quiet:
                click.echo(
                    f"searching a suffix for {event.page!r} to get id {event.paste_id}...", err=True
                )
        elif event.kind == "notice":
            click.echo(f"warning: {event.message}", err=True)

    try:
        with pastebin:
            story = load_story(
                story_folder, follow_symlinks=follow_symlinks, include_unreachable=include_unreachable
            )
            result = publish(
                story,
                pastebin,
                manifest_path,
                search=search,
                on_event=report,
                follow_symlinks=follow_symlinks,
                max_expected_seconds=None if force else DEFAULT_MAX_EXPECTED_SECONDS,
            )
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "start": result.start,
                    "start_url": result.start_url,
                    "pages": result.urls,
                    "pasted": result.pasted,
                    "found": result.found,
                    "searches": result.searches,
                    "seconds": round(result.seconds, 3),
                }
            )
        )
    else:
        if not result.pasted:
            click.echo("nothing to paste: every page is already published", err=True)
        click.echo(f"start: {result.start_url}")
