"""``md5steg hide`` and ``md5steg reveal``: an encrypted message inside the suffix, the MD5 target kept.

The library (``md5steg.stego``) needs the optional ``cryptography`` package, so
it is imported inside the commands: without it they say which extra to install.
The passphrase is never an option value (other users can read command lines):
``--passphrase-file``, then ``MD5STEG_PASSPHRASE``, then a prompt on the terminal.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO, Optional, Union

import click

from ..alphabets import Alphabet
from ..errors import InvalidTargetError, Md5stegError
from ..files import writable_directory_problem, write_atomic
from ..rewrite import FileRewrite
from ..search import SearchOptions, make_target
from ..target import Target
from .find import DEFAULT_MAX_EXPECTED_SECONDS
from .options import (
    alphabet_options,
    digest_target_options,
    resolve_alphabet_options,
    search_options,
    search_run_options,
)
from .progress import search_progress

if TYPE_CHECKING:
    from ..stego import HiddenMatch

PASSPHRASE_ENV = "MD5STEG_PASSPHRASE"


def _stego() -> ModuleType:
    """The library, or a one-line error naming the extra that provides it."""
    try:
        from .. import stego
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("cryptography"):
            raise
        raise click.ClickException(
            "hide and reveal need the cryptography package; install it with: pip install 'md5steg[hide]'"
        ) from None
    return stego


def _terminal_available() -> bool:
    """Whether getpass can ask someone: a controlling terminal (or a console on Windows)."""
    if os.name == "nt":
        return sys.stdin.isatty()
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


def _passphrase(passphrase_file: Optional[str], confirm: bool) -> str:
    """From the file, the environment or the terminal, in that order; never empty."""
    if passphrase_file is not None:
        try:
            with open(passphrase_file, encoding="utf-8") as handle:
                passphrase = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
            raise click.BadParameter(f"cannot read {passphrase_file}: {reason}", param_hint="--passphrase-file") from None
        passphrase = passphrase.removesuffix("\n").removesuffix("\r")
    elif os.environ.get(PASSPHRASE_ENV):
        passphrase = os.environ[PASSPHRASE_ENV]
    elif not _terminal_available():
        raise click.UsageError(
            f"no passphrase: give --passphrase-file PATH or set {PASSPHRASE_ENV} (there is no terminal to ask on)"
        )
    else:
        passphrase = getpass.getpass("Passphrase: ")
        if confirm and getpass.getpass("Repeat passphrase: ") != passphrase:
            raise click.UsageError("the two passphrases differ; nothing was written")
    if not passphrase:
        raise click.UsageError("the passphrase is empty")
    return passphrase


def _read(path: str, what: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise click.ClickException(f"cannot read {what} {path}: {exc.strerror}") from None


def _write(destination: str, data: bytes) -> None:
    """Where results go: stdout for ``-``, else an atomic rewrite (the one place file I/O happens)."""
    if destination == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        write_atomic(destination, data)
    except OSError as exc:
        raise click.ClickException(f"cannot write {destination}: {exc.strerror or exc}") from None


def _check_destination(destination: str, from_option: bool) -> None:
    problem = None if destination == "-" else writable_directory_problem(destination)
    if problem is not None and from_option:
        raise click.BadParameter(f"cannot write {destination}: {problem}", param_hint="-o/--output")
    if problem is not None:
        raise click.ClickException(f"cannot rewrite {destination}: {problem}")


passphrase_file_option = click.option(
    "--passphrase-file",
    metavar="PATH",
    help=f"Read the passphrase from PATH (one trailing newline dropped); else env {PASSPHRASE_ENV}, else a prompt.",
)


def _message(message: Optional[str], message_file: Optional[str], file: str) -> bytes:
    if (message is None) == (message_file is None):
        raise click.UsageError("give the message with exactly one of --message TEXT or --message-file PATH")
    if message is not None:
        return message.encode("utf-8")
    if message_file == "-" and file == "-":
        raise click.UsageError("FILE and --message-file cannot both be stdin")
    return _read(message_file or "-", "message file")


def _hide_and_write(
    rewrite: FileRewrite,
    message: bytes,
    passphrase: str,
    target: Target,
    alphabet: Alphabet,
    flags: dict[str, bool],
    search: SearchOptions,
) -> tuple[HiddenMatch, str, list[str]]:
    """Read, strip an earlier message (--replace), hide, write: (match, MD5 written, notices)."""
    stego = _stego()
    data = rewrite.read_bytes()
    notices = []
    if flags["replace"]:
        data, exact = stego.without_hidden_message(data, passphrase=passphrase, alphabet=alphabet)
        if not exact:
            notices.append("no earlier message opens with this passphrase: stripped every trailing alphabet character")
    with search_progress(not flags["quiet"], f"md5 {target.pattern}") as progress:
        match: HiddenMatch = stego.hide(
            data,
            message,
            passphrase=passphrase,
            pattern=target.pattern,
            alphabet=alphabet,
            progress=progress,
            max_expected_seconds=None if flags["force"] else DEFAULT_MAX_EXPECTED_SECONDS,
            **search.find_kwargs(),
        )
    try:
        written_md5 = rewrite.commit(match.suffix, keep_bytes=len(data), expected_md5=match.md5)
    except OSError as exc:  # only a stream (stdout) raises OSError
        raise click.ClickException(f"cannot write to stdout: {exc.strerror or exc}") from None
    return match, written_md5, notices + list(match.notices)


@click.command("hide")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@digest_target_options
@click.option("--message", metavar="TEXT", help="The message to hide (UTF-8).")
@click.option("--message-file", metavar="PATH", help="Hide the exact bytes of PATH (- for stdin).")
@passphrase_file_option
@click.option("-o", "--output", metavar="OUT", help="Write the result to OUT (or - for stdout) and leave FILE alone.")
@alphabet_options
@search_options
@click.option("--replace", is_flag=True, help="First strip an earlier hidden message (or suffix) and its nonce.")
@search_run_options
def hide_command(
    file: str,
    prefix: Optional[str],
    pattern: Optional[str],
    message: Optional[str],
    message_file: Optional[str],
    passphrase_file: Optional[str],
    output: Optional[str],
    alphabet_name: Optional[str],
    alphabet_chars: Optional[str],
    search: SearchOptions,
    replace: bool,
    force: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Hide an encrypted message at the end of FILE and make its MD5 match --prefix or --pattern.

    The message is sealed with a passphrase (scrypt, ChaCha20-Poly1305) and
    written in the alphabet's invisible characters, followed by find's nonce.
    FILE is rewritten as find rewrites it unless -o is given; `-` reads stdin
    and writes stdout. `md5steg reveal` gets the message back.
    """
    if (prefix is None) == (pattern is None):
        raise click.UsageError("give a target: exactly one of --prefix HEX or --pattern PATTERN")
    try:
        target = make_target(prefix, pattern)
    except InvalidTargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--prefix" if prefix is not None else "--pattern") from None
    alphabet = resolve_alphabet_options(alphabet_name, alphabet_chars)
    secret = _message(message, message_file, file)
    destination = output or ("-" if file == "-" else file)
    _check_destination(destination, output is not None)
    _stego()
    passphrase = _passphrase(passphrase_file, confirm=True)
    source: Union[str, BinaryIO] = sys.stdin.buffer if file == "-" else file
    written_to: Union[str, BinaryIO, None] = sys.stdout.buffer if destination == "-" else output
    flags = {"replace": replace, "force": force, "quiet": quiet}
    try:
        with FileRewrite(source, written_to) as rewrite:
            match, written_md5, notices = _hide_and_write(rewrite, secret, passphrase, target, alphabet, flags, search)
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    for notice in notices:
        click.echo(f"notice: {notice}", err=True)
    _print_report(match, written_md5, len(secret), file, destination, as_json)


def _print_report(
    match: HiddenMatch, written_md5: str, message_length: int, file: str, destination: str, as_json: bool
) -> None:
    """One line (or one JSON object) on stdout; on stderr when the result went to stdout."""
    report = {
        "md5": written_md5,
        "file": "<stdin>" if file == "-" else file,
        "output": None if destination == "-" else destination,
        "message_bytes": message_length,
        "bytes_added": len(match.suffix),
        "message_bytes_added": match.sealed_length,
        "nonce_bytes_added": match.nonce_length,
        "candidates": match.candidates,
        "seconds": round(match.seconds, 6),
        "backend": match.backend,
        "devices": list(match.devices),
        "alphabet": match.alphabet,
        "target": match.target,
    }
    shown = "<stdout>" if destination == "-" else destination
    click.echo(
        json.dumps(report)
        if as_json
        else f"{written_md5}  {shown}  +{len(match.suffix)} bytes (message {match.sealed_length}, "
        f"nonce {match.nonce_length})  {match.candidates:,} candidates  {match.seconds:.3f} s",
        err=destination == "-",
    )


@click.command("reveal")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@passphrase_file_option
@click.option("-o", "--output", metavar="OUT", help="Write the message to OUT instead of stdout.")
@alphabet_options
def reveal_command(
    file: str,
    passphrase_file: Optional[str],
    output: Optional[str],
    alphabet_name: Optional[str],
    alphabet_chars: Optional[str],
) -> None:
    """Write the exact bytes of the message hidden at the end of FILE (or - for stdin).

    The alphabet is detected among the named ones unless --alphabet or
    --alphabet-chars is given. A wrong passphrase and a changed suffix give the
    same one-line error: they cannot be told apart.
    """
    alphabet = None
    if alphabet_name is not None or alphabet_chars is not None:
        alphabet = resolve_alphabet_options(alphabet_name, alphabet_chars)
    if output is not None:
        _check_destination(output, from_option=True)
    stego = _stego()
    data = _read(file, "file")
    passphrase = _passphrase(passphrase_file, confirm=False)
    try:
        message = stego.reveal(data, passphrase=passphrase, alphabet=alphabet)
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    _write(output or "-", message)
