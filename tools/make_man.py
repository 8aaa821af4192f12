"""Write docs/md5steg.1, the man page, from the click commands themselves (``make man``).

One page: the group's help, then each command's usage, help and options, in
roff that ``man`` renders. Generated, not written by hand, so it cannot drift
from ``--help``; tests/test_cli.py checks that the committed page still names
every command and option.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from md5steg._version import __version__
from md5steg.cli import cli


def roff(text: str) -> str:
    """Escape text for roff: backslashes, and a leading dot or quote that would start a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.splitlines())


def paragraphs(help_text: str) -> list[str]:
    """Help text as roff paragraphs; click's ``\\b`` blocks (examples) keep their lines."""
    blocks = []
    for block in help_text.strip().split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines()]
        if lines and lines[0] == "\b":
            blocks.append(".RS\n.nf\n" + roff("\n".join(lines[1:])) + "\n.fi\n.RE")
        else:
            blocks.append(roff(" ".join(lines)))
    return blocks


def command_section(name: str, command: click.Command, context: click.Context) -> list[str]:
    lines = [f".SS {roff('md5steg ' + name)}"]
    usage = " ".join(command.collect_usage_pieces(context))
    lines += [f".B md5steg {roff(name)}", roff(usage), ".PP"]
    for block in paragraphs(command.help or ""):
        lines += [block, ".PP"]
    for parameter in command.get_params(context):
        record = None if isinstance(parameter, click.Argument) else parameter.get_help_record(context)
        if record is None:
            continue
        names, description = record
        lines += [".TP", f".B {roff(names)}", roff(description)]
    return lines


def man_page() -> str:
    context = click.Context(cli, info_name="md5steg")
    lines = [
        f'.TH MD5STEG 1 "" "md5steg {__version__}" "User Commands"',
        ".SH NAME",
        "md5steg \\- " + roff((cli.help or "").strip().splitlines()[0]),
        ".SH SYNOPSIS",
        ".B md5steg",
        "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH COMMANDS",
    ]
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None
        with click.Context(command, info_name=name, parent=context) as sub:
            lines += command_section(name, command, sub)
    lines += [
        ".SH SHELL COMPLETION",
        "Add one line to your shell's start-up file:",
        ".nf",
        roff('eval "$(_MD5STEG_COMPLETE=bash_source md5steg)"     # ~/.bashrc'),
        roff('eval "$(_MD5STEG_COMPLETE=zsh_source md5steg)"      # ~/.zshrc'),
        roff("_MD5STEG_COMPLETE=fish_source md5steg | source       # ~/.config/fish/config.fish"),
        ".fi",
        ".SH EXIT STATUS",
        "0 on success, 1 when md5steg refuses or fails (one line on stderr), 2 for a usage error, "
        "130 after Ctrl\\-C, 143 after SIGTERM.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/md5steg.1")
    target.write_text(man_page(), encoding="utf-8")
    print(f"wrote {target}")
