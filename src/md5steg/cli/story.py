"""``md5steg plan`` and ``md5steg publish``: put a folder of linked pages on a pastebin."""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

import click

from ..addresses import normalise_base_url
from ..durations import format_duration
from ..errors import InvalidUrlError, Md5stegError
from ..pastebins import ADAPTERS, Pastebin, open_pastebin
from ..story import (
    PublishEvent,
    SearchSettings,
    default_manifest_path,
    load_story,
    make_plan,
    publish,
)
from ..story.manifest import Manifest
from .options import search_options

CommandFunction = Callable[..., Any]

TARGET_KINDS = sorted(ADAPTERS)
"""``--target`` choices: every registered pastebin adapter."""


def target_options(function: CommandFunction) -> CommandFunction:
    """--to, --target, --db, --base-url, --id-length, --manifest: where the story goes."""
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
            click.option(
                "--manifest",
                "manifest_path",
                type=click.Path(dir_okay=False),
                help="Publish record (default STORY/.md5steg-manifest.json).",
            ),
        ]
    ):
        function = decorator(function)
    return function


def follow_symlinks_option(function: CommandFunction) -> CommandFunction:
    """--follow-symlinks: read pages that are symbolic links (refused by default)."""
    return click.option(
        "--follow-symlinks",
        is_flag=True,
        help="Read pages and story.toml that are symbolic links (refused by default, so a link "
        "to a private file is never pasted).",
    )(function)


def _checked_url(value: Optional[str], option: str) -> Optional[str]:
    """``value`` as a base URL, or a usage error (exit 2) naming ``option``."""
    if value is None:
        return None
    try:
        return normalise_base_url(value, what=f"{option}")
    except InvalidUrlError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _open_target(
    kind: str,
    url: Optional[str],
    db_path: Optional[str],
    base_url: Optional[str],
    id_length: Optional[int],
    offline: bool,
) -> Pastebin:
    if url is not None and db_path is not None:
        raise click.UsageError("--db is for the local md5bin store; leave it out with --to")
    if kind != "md5bin" and url is None:
        raise click.UsageError(f"--target {kind} needs --to URL")
    if offline and kind == "md5bin" and url is not None and id_length is None:
        id_length = 6
    url, base_url = _checked_url(url, "--to"), _checked_url(base_url, "--base-url")
    try:
        return open_pastebin(kind, url, db_path=db_path, base_url=base_url, id_length=id_length)
    except Md5stegError as exc:
        raise click.BadParameter(str(exc), param_hint="--to/--base-url") from None


@click.command("plan")
@click.argument("story_folder", metavar="STORY", type=click.Path(exists=True, file_okay=False))
@target_options
@follow_symlinks_option
@search_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
def plan_command(
    story_folder: str,
    url: Optional[str],
    kind: str,
    db_path: Optional[str],
    base_url: Optional[str],
    id_length: Optional[int],
    manifest_path: Optional[str],
    follow_symlinks: bool,
    jobs: Optional[int],
    engine: Optional[str],
    simd: Optional[str],
    scheduler: Optional[str],
    as_json: bool,
) -> None:
    """Show how STORY would be published, without pasting anything or touching the network.

    Prints the paste order, which pages need an MD5 search (pages in a cycle,
    and vanity prefixes) with the expected work and time, and for md5bin every
    page's URL. Pages the manifest shows as already published are marked.
    """
    pastebin = _open_target(kind, url, db_path, base_url, id_length, offline=True)
    try:
        with pastebin:
            story = load_story(story_folder, follow_symlinks=follow_symlinks)
            manifest = Manifest.load(manifest_path or default_manifest_path(story.folder))
            plan = make_plan(story, pastebin, manifest.pages(pastebin.target_key))
            description = pastebin.description
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    from ..pool import available_cores
    from ..search import measure_rate

    searches = plan.searches
    rate = cores = 0.0
    if searches:
        cores = float(jobs or available_cores())
        try:
            rate = measure_rate(engine=engine, simd=simd) * cores
        except Md5stegError as exc:
            raise click.ClickException(str(exc)) from None
    expected_seconds = plan.expected_candidates / rate if rate else 0.0
    if as_json:
        report = {
            "target": description,
            "start": story.start,
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
            "searches": len(searches),
            "expected_candidates": plan.expected_candidates,
            "expected_seconds": round(expected_seconds, 3),
            "warnings": list(story.warnings),
        }
        click.echo(json.dumps(report, indent=2))
        return
    for warning in story.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"target: {description}")
    click.echo(f"start page: {story.start}")
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
    if searches:
        per_search = plan.expected_candidates_per_search
        where = (
            f"on the Dask cluster {scheduler}"
            if scheduler
            else f"at {rate / 1e6:.1f} M/s on {cores:g} core(s)"
        )
        click.echo(
            f"{len(searches)} page(s) need a search: ~{per_search / 1e6:.3g} M candidates each, "
            f"~{plan.expected_candidates / 1e6:.3g} M in all; about {format_duration(expected_seconds)} {where}"
        )
    else:
        click.echo("no search needed")
    if plan.start_url:
        click.echo(f"start: {plan.start_url}")


@click.command("publish")
@click.argument("story_folder", metavar="STORY", type=click.Path(exists=True, file_okay=False))
@target_options
@follow_symlinks_option
@search_options
@click.option(
    "--json", "as_json", is_flag=True, help="Print the final page -> URL mapping as JSON."
)
@click.option("-q", "--quiet", is_flag=True, help="No search notices on stderr.")
def publish_command(
    story_folder: str,
    url: Optional[str],
    kind: str,
    db_path: Optional[str],
    base_url: Optional[str],
    id_length: Optional[int],
    manifest_path: Optional[str],
    follow_symlinks: bool,
    jobs: Optional[int],
    engine: Optional[str],
    simd: Optional[str],
    scheduler: Optional[str],
    as_json: bool,
    quiet: bool,
) -> None:
    """Paste every page of STORY so that each [[link]] is the linked page's URL.

    Without --to the pages go into the local md5bin store, which `md5steg serve`
    serves. Re-running continues an interrupted publish and re-pastes only
    pages that changed (or link to pages that changed); on md5bin the same
    story published again, even from a fresh copy, pastes nothing and gets
    the same URLs. Pages that are symbolic links are refused unless
    --follow-symlinks. Prints one line per page pasted, then the start URL.
    """
    pastebin = _open_target(kind, url, db_path, base_url, id_length, offline=False)

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

    search = SearchSettings(jobs=jobs, engine=engine, simd=simd, scheduler=scheduler)
    try:
        with pastebin:
            story = load_story(story_folder, follow_symlinks=follow_symlinks)
            result = publish(story, pastebin, manifest_path, search=search, on_event=report)
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
                },
                indent=2,
            )
        )
    else:
        if not result.pasted:
            click.echo("nothing to paste: every page is already published", err=True)
        click.echo(f"start: {result.start_url}")
