"""Options shared by several commands, defined once (as sqlite-utils does)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Optional

import click

from .._engine import SIMD_PATH_NAMES
from ..alphabets import NAMED_ALPHABETS, Alphabet
from ..backends import BACKENDS, backend_classes
from ..cores import max_jobs
from ..errors import InvalidAlphabetError
from ..search import SearchOptions

Command = Callable[..., Any]

# --simd offers the compiled core's kernels; one this CPU or build lacks is refused at run time
# (exit 1), and the pure engine ignores the choice, so the same command line works everywhere.


def digest_target_options(function: Command) -> Command:
    """--prefix HEX / --pattern PATTERN: what the MD5 must look like (exactly one; see make_target)."""
    function = click.option(
        "--pattern", metavar="PATTERN", help="Hex digits and _ wildcards, position by position (<= 32)."
    )(function)
    return click.option("--prefix", metavar="HEX", help="Hex prefix the MD5 must start with (1..32 digits).")(
        function
    )


def search_run_options(function: Command) -> Command:
    """--force, --json, -q: how a file-rewriting search (find, hide) runs and reports."""
    function = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")(function)
    function = click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")(function)
    return click.option("--force", is_flag=True, help="Search even when the expected time exceeds an hour.")(
        function
    )


def alphabet_options(function: Command) -> Command:
    """--alphabet NAME / --alphabet-chars STRING, resolved into an ``Alphabet``."""
    function = click.option(
        "--alphabet-chars",
        metavar="STRING",
        help="Custom alphabet: 2..256 distinct characters, digit 0 first (UTF-8).",
    )(function)
    function = click.option(
        "--alphabet",
        "alphabet_name",
        type=click.Choice(sorted(NAMED_ALPHABETS)),
        default=None,
        help="Suffix alphabet (default ws5). See `md5steg alphabets`.",
    )(function)
    return function


def resolve_alphabet_options(alphabet_name: Optional[str], alphabet_chars: Optional[str]) -> Alphabet:
    """The alphabet the two options describe; both at once is a usage error."""
    if alphabet_name is not None and alphabet_chars is not None:
        raise click.UsageError("use either --alphabet or --alphabet-chars, not both")
    if alphabet_chars is None:
        return Alphabet.named(alphabet_name or "ws5")
    try:
        return Alphabet.from_chars(alphabet_chars)
    except InvalidAlphabetError as exc:
        raise click.BadParameter(str(exc), param_hint="--alphabet-chars") from None


def search_options(function: Command) -> Command:
    """-j, --engine, --simd, --backend, --cpu, --no-resume and every registered backend's own options.

    The command receives them as one keyword argument, ``search``: a
    ``SearchOptions`` to pass on as ``find(..., **search.find_kwargs())``.
    A new backend's options appear here by themselves (``md5steg.backends``).
    """
    keywords = ["jobs", "engine", "simd", "backend", "cpu", "resume"]
    backend_keywords = []
    for cls in backend_classes():
        for option in cls.options:
            backend_keywords.append(option.keyword)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = {keyword: kwargs.pop(keyword) for keyword in keywords}
        backend_options = {keyword: kwargs.pop(keyword) for keyword in backend_keywords}
        if settings["cpu"]:  # forces the CPU, whatever --gpu, --opencl-device or the environment say
            if settings["backend"] == "opencl":
                raise click.UsageError("--cpu contradicts --backend opencl; choose one")
            backend_options.update(gpu=False, opencl_device=None)
        kwargs["search"] = SearchOptions(**settings, backend_options=backend_options)
        return function(*args, **kwargs)

    decorated: Command = wrapper
    for cls in reversed(backend_classes()):
        for option in reversed(cls.options):
            decorated = click.option(
                option.flag,
                option.keyword,
                is_flag=option.is_flag,
                default=None if not option.is_flag else False,
                envvar=option.envvar,
                metavar=option.metavar,
                help=option.help,
            )(decorated)
    decorated = click.option(
        "--no-resume",
        "resume",
        flag_value=False,
        default=True,
        help="Start afresh: ignore what an interrupted run of the same search recorded, record nothing.",
    )(decorated)
    decorated = click.option(
        "--cpu",
        is_flag=True,
        help="Search on the CPU: no OpenCL GPU by default, and over --gpu/--opencl-device.",
    )(decorated)
    decorated = click.option(
        "--backend",
        type=click.Choice(list(BACKENDS)),
        help="Where the search runs (default: local processes; a backend's own option selects it too).",
    )(decorated)
    decorated = click.option(
        "--simd",
        type=click.Choice(list(SIMD_PATH_NAMES)),
        help="Force a SIMD path of the compiled core (env MD5STEG_SIMD); default: the fastest.",
    )(decorated)
    decorated = click.option(
        "--engine",
        type=click.Choice(["cython", "python"]),
        help="Search engine; default: the compiled core when built, else pure Python.",
    )(decorated)
    decorated = click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1, max=max_jobs()),
        help=f"Worker processes (default: every core this process may use; at most {max_jobs()}).",
    )(decorated)
    return decorated
