"""Where hide and reveal get their inputs: passphrases and messages, bounded, never echoed.

A passphrase comes from --passphrase-file, then the environment, then a no-echo
prompt, never from the command line; every file is read up to a bound that a
valid input stays under, and bytes that are not text are used as given.
"""

from __future__ import annotations

import getpass
import os
import stat
import sys
from typing import BinaryIO, Optional, Union

import click

from ..files import describe_file_type

PASSPHRASE_ENV = "MD5STEG_PASSPHRASE"
MAX_PASSPHRASE_BYTES = 4096
"""A passphrase file longer than this is refused: it is the wrong file (or /dev/zero)."""


def terminal_available() -> bool:
    """Whether getpass can ask someone: a controlling terminal (or a console on Windows)."""
    if os.name == "nt":
        return sys.stdin.isatty()
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def open_readable(path: str, what: str, option: str) -> BinaryIO:
    """Open a file, FIFO or ``-`` (stdin) to read; a device, socket or folder is refused in one line."""
    if path == "-":
        return sys.stdin.buffer
    try:
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise click.BadParameter(
                f"{path} is {describe_file_type(mode)}; give the {what} in a file, or - for stdin", param_hint=option
            )
        return open(path, "rb")  # noqa: SIM115 (the caller closes it)
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror or exc}", param_hint=option) from None


def read_bounded(path: str, limit: int, what: str, option: str) -> bytes:
    """At most ``limit`` bytes of ``path``: one more means the file is too long, and it is refused."""
    handle = open_readable(path, what, option)
    try:
        data = handle.read(limit + 1)
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror or exc}", param_hint=option) from None
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    if len(data) > limit:
        shown = "stdin" if path == "-" else path
        raise click.BadParameter(f"{shown} holds more than {limit} bytes; a {what} is at most {limit}", param_hint=option)
    return data


def as_passphrase(raw: bytes) -> Union[str, bytes]:
    """UTF-8 text as str (NFC-normalised by the library), any other bytes as given: never decoded in an error."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def ask(prompt: str, what: str) -> str:
    """One line typed at a no-echo prompt; bytes the terminal's encoding cannot decode are refused, never shown."""
    try:
        return getpass.getpass(prompt)
    except UnicodeDecodeError:
        raise click.UsageError(f"the {what} typed is not text in this terminal's encoding; give it in a file instead") from None


def stdin_read_once(**sources: Optional[str]) -> None:
    """stdin can be read once: at most one of FILE, --message-file and --passphrase-file may be ``-``."""
    readers = [name for name, source in sources.items() if source == "-"]
    if len(readers) > 1:
        raise click.UsageError(f"{' and '.join(readers)} cannot both be stdin (-)")


def read_passphrase(passphrase_file: Optional[str], confirm: bool) -> Union[str, bytes]:
    """From the file, the environment or the terminal, in that order; never empty."""
    passphrase: Union[str, bytes]
    if passphrase_file is not None:
        raw = read_bounded(passphrase_file, MAX_PASSPHRASE_BYTES, "passphrase", "--passphrase-file")
        passphrase = as_passphrase(raw.removesuffix(b"\n").removesuffix(b"\r"))
    elif os.environ.get(PASSPHRASE_ENV):
        passphrase = as_passphrase(os.environb[PASSPHRASE_ENV.encode()]) if os.name != "nt" else os.environ[PASSPHRASE_ENV]
    elif not terminal_available():
        raise click.UsageError(
            f"no passphrase: give --passphrase-file PATH or set {PASSPHRASE_ENV} (there is no terminal to ask on)"
        )
    else:
        passphrase = ask("Passphrase: ", "passphrase")
        if confirm and ask("Repeat passphrase: ", "passphrase") != passphrase:
            raise click.UsageError("the two passphrases differ; nothing was written")
    if not passphrase:
        raise click.UsageError("the passphrase is empty")
    return passphrase


passphrase_file_option = click.option(
    "--passphrase-file",
    metavar="PATH",
    help=f"Read the passphrase from PATH (one trailing newline dropped); else env {PASSPHRASE_ENV}, else a prompt.",
)
