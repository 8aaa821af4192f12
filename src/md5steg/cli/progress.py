"""The live progress bar on stderr: candidates, rate, chance of a hit so far, expected time left.

It exists only when stderr is a terminal and --quiet is off; otherwise the
search gets no callback at all.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Optional

from ..durations import format_duration
from ..search import Progress, ProgressCallback


@contextlib.contextmanager
def search_progress(enabled: bool, label: str) -> Iterator[Optional[ProgressCallback]]:
    """A progress callback for ``find`` that draws a rich bar, or None when disabled."""
    if not enabled or not sys.stderr.isatty():
        yield None
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

    def update(progress: Progress) -> None:
        status = (
            f"{progress.candidates:,} tried  {progress.rate / 1e6:.1f} M/s  "
            f"P(hit so far) {progress.probability:.0%}  expected {format_duration(progress.expected_seconds_left)} more"
        )
        bar.update(task, completed=progress.probability, status=status)
        bar.refresh()

    with bar:
        yield update
