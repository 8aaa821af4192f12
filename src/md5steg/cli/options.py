"""Options shared by several commands, defined once (as sqlite-utils does)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import click

from ..alphabets import NAMED_ALPHABETS, Alphabet
from ..errors import InvalidAlphabetError

F = Callable[..., Any]


def alphabet_options(function: F) -> F:
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


def search_options(function: F) -> F:
    """-j/--jobs, --engine, --simd and --scheduler: where and how the search runs."""
    function = click.option(
        "--scheduler",
        envvar="MD5STEG_SCHEDULER",
        metavar="ADDRESS",
        help="Run the search on a Dask cluster, e.g. tcp://10.0.0.5:8786 (env MD5STEG_SCHEDULER).",
    )(function)
    function = click.option(
        "--simd",
        type=click.Choice(["avx512", "avx2", "sse2", "neon", "scalar"]),
        help="Force a SIMD path of the compiled core (env MD5STEG_SIMD); default: the fastest.",
    )(function)
    function = click.option(
        "--engine",
        type=click.Choice(["cython", "python"]),
        help="Search engine; default: the compiled core when built, else pure Python.",
    )(function)
    function = click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        help="Worker processes (default: every core this process may use).",
    )(function)
    return function
