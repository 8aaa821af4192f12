"""Checks on what library callers pass in, so a bad call fails at once with an ``Md5stegError``.

Python's own errors for a wrong type (``'int' object has no attribute
'strip'``) say nothing about the argument; these say which one, what it must
be, and how to fix it. Value checks that need more context (a prefix's
digits, an engine's availability) stay with the code that has it.
"""

from __future__ import annotations

import math
from typing import Union

from .cores import available_cores, max_jobs
from .errors import ArgumentTypeError, InvalidArgumentError

BYTES_LIKE = (bytes, bytearray, memoryview)


def require(value: object, expected: Union[type, tuple[type, ...]], what: str, hint: str = "") -> None:
    """Raise ``ArgumentTypeError`` unless ``value`` is an instance of ``expected`` (a bool is no number here)."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, kinds) and (bool in kinds or not isinstance(value, bool)):
        return
    names = " or ".join(kind.__name__ for kind in kinds)
    raise ArgumentTypeError(f"{what} must be {names}, not {type(value).__name__}{'; ' + hint if hint else ''}")


def check_jobs(jobs: object) -> None:
    """Refuse worker counts that are not whole numbers from 1 to ``max_jobs()`` (thousands of forks help nobody)."""
    if jobs is None:
        return
    require(jobs, int, "jobs", "give a whole number of worker processes")
    assert isinstance(jobs, int)
    if not 1 <= jobs <= max_jobs():
        raise InvalidArgumentError(
            f"jobs must be between 1 and {max_jobs()} ({available_cores()} core(s) here), not {jobs}"
        )


def check_max_expected_seconds(seconds: object) -> None:
    """A positive number of seconds, ``math.inf`` or None (both: no bound)."""
    if seconds is None:
        return
    require(seconds, (int, float), "max_expected_seconds", "give seconds, or None for no bound")
    assert isinstance(seconds, (int, float))
    if math.isnan(seconds) or seconds <= 0:
        raise InvalidArgumentError(
            f"max_expected_seconds must be a positive number of seconds (or None for no bound), not {seconds}"
        )
