"""The live progress bar on stderr: candidates, rate, chance of a hit so far, expected time left.

The bar exists only when stderr is a terminal and --quiet is off. Without
--quiet, a search resumed from an interrupted run says so in one line on
stderr either way. On a narrow terminal the line loses the bar first, then
the counts, the rate and the probability, so the expected time left, what a
person waits for, is the last thing to go.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Optional

from ..durations import format_duration
from ..resume import resuming_message
from ..search import Progress, ProgressCallback

BAR_WIDTH = 24


def status_fields(progress: Progress) -> list[str]:
    """The status fields, least important first: counts, rate, probability, expected time left."""
    return [
        f"{progress.candidates:,} tried",
        f"{progress.rate / 1e6:.1f} M/s",
        f"P(hit so far) {progress.probability:.0%}",
        f"expected {format_duration(progress.expected_seconds_left)} more",
    ]


def fit_status(label: str, progress: Progress, width: int) -> tuple[str, bool]:
    """The status text and whether the bar is drawn, for a terminal ``width`` columns wide."""
    fields = status_fields(progress)
    show_bar = True
    while True:
        used = len(label) + 1 + (BAR_WIDTH + 1 if show_bar else 0) + len("  ".join(fields))
        if used < width or len(fields) == 1:
            return "  ".join(fields), show_bar
        if show_bar:
            show_bar = False
        else:
            fields = fields[1:]


@contextlib.contextmanager
def search_progress(enabled: bool, label: str) -> Iterator[Optional[ProgressCallback]]:
    """A progress callback for ``find`` that draws a rich bar, or None when disabled."""
    if not enabled:
        yield None
        return
    if not sys.stderr.isatty():
        yield _resume_notice(print_line=lambda line: print(line, file=sys.stderr, flush=True))
        return
    from rich.console import Console
    from rich.progress import BarColumn, TextColumn
    from rich.progress import Progress as Bar

    description, bar_column, status = TextColumn("{task.description}"), BarColumn(bar_width=BAR_WIDTH), TextColumn("{task.fields[status]}")
    console = Console(stderr=True)
    bar = Bar(description, bar_column, status, console=console, auto_refresh=False, transient=True)
    task = bar.add_task(label, total=1.0, status="")
    announce = _resume_notice(print_line=bar.console.print)

    def update(progress: Progress) -> None:
        announce(progress)
        text, show_bar = fit_status(label, progress, console.width)
        bar.columns = (description, bar_column, status) if show_bar else (description, status)
        bar.update(task, completed=progress.probability, status=text)
        bar.refresh()

    with bar:
        yield update


def _resume_notice(print_line: Callable[[str], None]) -> ProgressCallback:
    """A callback that prints the "resuming: ..." line once, when a search continues an earlier run."""
    said = False

    def announce(progress: Progress) -> None:
        nonlocal said
        if progress.resumed_candidates and not said:
            said = True
            print_line(resuming_message(progress.resumed_candidates, progress.expected_candidates))

    return announce
