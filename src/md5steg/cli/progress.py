"""The live progress bar on stderr: candidates, rate, chance of a hit so far, expected time left.

The bar exists only when stderr is a terminal and --quiet is off. Without
--quiet, a search resumed from an interrupted run says so in one line on
stderr either way.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Optional

from ..durations import format_duration
from ..resume import resuming_message
from ..search import Progress, ProgressCallback


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

    bar = Bar(
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        TextColumn("{task.fields[status]}"),
        console=Console(stderr=True),
        auto_refresh=False,
        transient=True,
    )
    task = bar.add_task(label, total=1.0, status="")
    announce = _resume_notice(print_line=bar.console.print)

    def update(progress: Progress) -> None:
        announce(progress)
        status = (
            f"{progress.candidates:,} tried  {progress.rate / 1e6:.1f} M/s  "
            f"P(hit so far) {progress.probability:.0%}  expected {format_duration(progress.expected_seconds_left)} more"
        )
        bar.update(task, completed=progress.probability, status=status)
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
