"""How many cores this process may use, and how many workers that allows."""

from __future__ import annotations

import os

MAX_JOBS_PER_CORE = 4
"""Workers beyond this many per core only add forks and context switches (``-j`` is capped here)."""


def available_cores() -> int:
    """Cores this process may run on (affinity-aware where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def max_jobs() -> int:
    """The most local worker processes a search may start."""
    return MAX_JOBS_PER_CORE * available_cores()
