"""``md5steg info`` and ``md5steg alphabets``: what runs here, and the suffix alphabets."""

from __future__ import annotations

import json

import click

from ..alphabets import DESCRIPTIONS, NAMED_ALPHABETS
from ..sysinfo import describe


@click.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print as one JSON object.")
def info_command(as_json: bool) -> None:
    """Show versions, the engine and SIMD path in use, CPU flags, compiler and OpenCL devices.

    Examples:

    \b
      md5steg info
      md5steg info --json | python3 -m json.tool
    """
    facts = describe()
    if as_json:
        click.echo(json.dumps(facts))
        return
    for key, value in facts.items():
        if key == "opencl_devices":
            click.echo(f"{key:15} " + f"\n{'':16}".join(value))
            continue
        if isinstance(value, list):
            value = " ".join(value) or "-"
        click.echo(f"{key:15} {value if value is not None else '-'}")


@click.command("alphabets")
def alphabets_command() -> None:
    """List the named suffix alphabets (digit 0 first), to choose one with --alphabet.

    Examples:

    \b
      md5steg alphabets
      md5steg find page.txt --prefix c0f --alphabet zw
    """
    for name, chars in NAMED_ALPHABETS.items():
        click.echo(f"{name:10} {len(chars):3} symbols  {DESCRIPTIONS[name]}")
