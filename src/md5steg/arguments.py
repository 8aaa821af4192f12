"""Checks on what library callers pass in, so a bad call fails at once with an ``Md5stegError``.

Python's own errors for a wrong type (``'int' object has no attribute
'strip'``) say nothing about the argument; these say which one, what it must
be, and how to fix it. Value checks that need more context (a prefix's
digits, an engine's availability) stay with the code that has it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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


def check_find_arguments(
    data: object,
    jobs: object,
    progress: object,
    max_expected_seconds: object,
    flags: Mapping[str, object],
    names: Mapping[str, object],
) -> None:
    """The types and ranges ``find`` needs before it starts; targets and alphabets check themselves.

    ``flags`` holds the on/off options (gpu, cpu, resume): each a bool.
    ``names`` holds the options given by name (engine, SIMD path, backend,
    scheduler, OpenCL device): each is None or a str (a backend may also be a
    ``Backend``). ``cpu=True`` with an OpenCL backend asked for is refused, as
    the CLI refuses ``--cpu --backend opencl``: silently running on the CPU
    would ignore half of the call.
    """
    from .backends.base import Backend
    from .content import Content

    if isinstance(data, str):
        raise ArgumentTypeError("data must be bytes, not str; encode the text first, e.g. text.encode('utf-8')")
    require(data, (*BYTES_LIKE, Content), "data")
    for name, value in names.items():
        if value is not None and not (name == "backend" and isinstance(value, Backend)):
            require(value, str, name)
    check_jobs(jobs)
    if progress is not None and not callable(progress):
        raise ArgumentTypeError(f"progress must be a callable taking a Progress, not {type(progress).__name__}")
    check_max_expected_seconds(max_expected_seconds)
    for name, value in flags.items():
        require(value, bool, name)
    if flags.get("cpu"):
        backend = names.get("backend")
        backend_name = backend.name if isinstance(backend, Backend) else backend
        if backend_name == "opencl" or flags.get("gpu") or names.get("opencl_device") is not None:
            raise InvalidArgumentError(
                "cpu=True contradicts an OpenCL search (backend='opencl', gpu=True or opencl_device=); choose one"
            )
