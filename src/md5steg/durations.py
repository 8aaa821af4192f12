"""Human durations for estimates and progress: one format wherever a time is shown."""

from __future__ import annotations

import math


def format_duration(seconds: float) -> str:
    """A human duration: 0.42 s, 42 s, 3.5 min, 7.1 h, 12 days, 3.2e+04 years."""
    if math.isinf(seconds) or math.isnan(seconds):
        return "forever"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = seconds / size
            return f"{amount:.3g} {unit}" if amount < 1e4 else f"{amount:.2g} {unit}"
    return f"{seconds:.2g} s"
