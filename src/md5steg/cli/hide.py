"""``md5steg hide`` and ``md5steg reveal``: an encrypted message inside the suffix, the MD5 target kept.

The library (``md5steg.stego``) needs the optional ``cryptography`` package, so
it is imported inside the commands: without it they say which extra to install.
Neither the message nor the passphrase is ever an option value (other local
users can read command lines): the message comes from ``--message-file`` or a
no-echo prompt, the passphrase from ``--passphrase-file``, then
``MD5STEG_PASSPHRASE``, then a prompt. Every read is bounded: message and
passphrase by their size limits, FILE by streaming it (``stego.read_ending``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO, Optional, Union

import click

from ..alphabets import NAMED_ALPHABETS, Alphabet
from ..ending import TeeReader
from ..errors import InvalidTargetError, Md5stegError
from ..files import writable_directory_problem, write_atomic
from ..rewrite import FileRewrite
from ..search import SearchOptions, make_target
from ..target import Target
from .options import (
    alphabet_options,
    digest_target_options,
    resolve_alphabet_options,
    search_options,
    search_run_options,
)
from .progress import search_progress
from .secret_inputs import (
    ask,
    open_readable,
    passphrase_file_option,
    read_bounded,
    read_passphrase,
    stdin_read_once,
    terminal_available,
)

if TYPE_CHECKING:
    from ..ending import Ending, EndingBuilder
    from ..stego import HiddenMatch

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


def _check_destination(destination: str, from_option: bool) -> None:
    problem = None if destination == "-" else writable_directory_problem(destination)
    if problem is not None and from_option:
        raise click.BadParameter(f"cannot write {destination}: {problem}", param_hint="-o/--output")
    if problem is not None:
        raise click.ClickException(f"cannot rewrite {destination}: {problem}")


def _message(message_file: Optional[str], limit: int) -> bytes:
    """The exact bytes of --message-file, or one line typed at a no-echo prompt."""
    if message_file is not None:
        return read_bounded(message_file, limit, "message", "--message-file")
    if not terminal_available():
        raise click.UsageError("no message: give --message-file PATH (or - for stdin); there is no terminal to ask on")
    typed = ask("Message (not shown): ", "message").encode("utf-8", "surrogateescape")
    if len(typed) > limit:
        raise click.UsageError(f"the message has {len(typed)} bytes; at most {limit} can be hidden")
    return typed


def _refuse_message_option(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> None:
    if value is not None:
        raise click.UsageError(
            "--message is gone: other users can read a command line; use --message-file PATH (- for stdin), "
            "or leave it out to type the message at a prompt"
        )


def _cover(rewrite: FileRewrite, source: Union[str, BinaryIO], builder: Optional[EndingBuilder]) -> Ending:
    """The input as an ``Ending``, in bounded memory.

    FileRewrite reads (and locks, and spools) the input for the commit. stdin
    passes through a ``TeeReader`` on the way, which builds the Ending; a
    regular file is streamed once more, and the two reads must agree.
    """
    content = rewrite.read()
    if builder is not None:
        ending: Ending = builder.ending()
        return ending
    assert isinstance(source, str), "a stream source always comes with its builder"
    try:
        with open(source, "rb") as handle:
            cover: Ending = _stego().read_ending(handle)
    except OSError as exc:
        raise click.ClickException(f"cannot read {source}: {exc.strerror or exc}") from None
    if cover.length != content.length or cover.md5_hexdigest() != content.md5_with(b""):
        raise click.ClickException(f"{source} changed while md5steg read it; nothing was written: run it again")
    return cover


def _source(file: str, elsewhere: bool, stego: ModuleType) -> tuple[Union[str, BinaryIO], Optional[EndingBuilder]]:
    """What FileRewrite reads: a regular file by path; stdin, or a FIFO written elsewhere, through a TeeReader.

    A path that is not a regular file and is rewritten in place stays a path,
    so FileRewrite refuses it.
    """
    if file != "-" and (not elsewhere or stat.S_ISREG(os.stat(file).st_mode)):
        return file, None
    builder: EndingBuilder = stego.ending_builder()
    stream = sys.stdin.buffer if file == "-" else open_readable(file, "cover", "FILE")
    return TeeReader(stream, builder), builder  # type: ignore[return-value]


@contextlib.contextmanager
def _closing(source: Union[str, BinaryIO]) -> Iterator[None]:
    """Close a FIFO opened for a TeeReader when done (never stdin)."""
    try:
        yield
    finally:
        stream = getattr(source, "stream", None)
        if stream is not None and stream is not sys.stdin.buffer:
            stream.close()


def _hide_and_write(
    rewrite: FileRewrite,
    source: Union[str, BinaryIO],
    builder: Optional[EndingBuilder],
    message: bytes,
    passphrase: Union[str, bytes],
    target: Target,
    alphabet: Alphabet,
    flags: dict[str, bool],
    search: SearchOptions,
) -> tuple[HiddenMatch, str, list[str]]:
    """Read, strip an earlier message (--replace), hide, write: (match, MD5 written, notices)."""
    stego = _stego()
    cover = _cover(rewrite, source, builder)
    notices = []
    if flags["replace"]:
        kept, exact = stego.without_hidden_message(cover, passphrase=passphrase, alphabet=alphabet)
        cover = cover.prefix(kept)
        if not exact:
            notices.append("no earlier message opens with this passphrase: stripped every trailing alphabet character")
    with search_progress(not flags["quiet"], f"md5 {target.pattern}") as progress:
        match: HiddenMatch = stego.hide(
            cover,
            message,
            passphrase=passphrase,
            pattern=target.pattern,
            alphabet=alphabet,
            progress=progress,
            max_expected_seconds=None if flags["force"] else stego.DEFAULT_MAX_EXPECTED_SECONDS,
            **search.find_kwargs(),
        )
    try:
        written_md5 = rewrite.commit(match.suffix, keep_bytes=cover.length, expected_md5=match.md5)
    except OSError as exc:  # only a stream (stdout) raises OSError
        raise click.ClickException(f"cannot write to stdout: {exc.strerror or exc}") from None
    return match, written_md5, notices + list(match.notices)


HIDE_EXAMPLES = """
\b
Examples:
  printf 'meet at noon' > message.txt
  md5steg hide note.txt --prefix c0ffee --message-file message.txt --passphrase-file key.txt
  pass show notes | md5steg hide note.txt --prefix c0f --message-file - -o out.txt
"""


@click.command("hide", epilog=HIDE_EXAMPLES)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@digest_target_options
@click.option("--message", hidden=True, expose_value=False, callback=_refuse_message_option)
@click.option(
    "--message-file", metavar="PATH", help="Hide the exact bytes of PATH (- for stdin); else a prompt asks (not shown)."
)
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

    The message (up to 4 KiB, from --message-file or typed at a prompt; never
    a command-line value) is sealed with a passphrase (Argon2id,
    ChaCha20-Poly1305) together with the SHA-256 of FILE, and written in the
    alphabet's invisible characters, followed by find's nonce. FILE is
    rewritten as find rewrites it unless -o is given; `-` reads stdin and
    writes stdout. `md5steg reveal` gets the message back.
    """
    if (prefix is None) == (pattern is None):
        raise click.UsageError("give a target: exactly one of --prefix HEX or --pattern PATTERN")
    try:
        target = make_target(prefix, pattern)
    except InvalidTargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--prefix" if prefix is not None else "--pattern") from None
    alphabet = resolve_alphabet_options(alphabet_name, alphabet_chars)
    destination = output or ("-" if file == "-" else file)
    _check_destination(destination, output is not None)
    stdin_read_once(FILE=file, **{"--message-file": message_file, "--passphrase-file": passphrase_file})
    stego = _stego()
    secret = _message(message_file, stego.MAX_MESSAGE_BYTES)
    passphrase = read_passphrase(passphrase_file, confirm=True)
    source, builder = _source(file, output is not None, stego)
    written_to: Union[str, BinaryIO, None] = sys.stdout.buffer if destination == "-" else output
    flags = {"replace": replace, "force": force, "quiet": quiet}
    try:
        with _closing(source), FileRewrite(source, written_to) as rewrite:
            match, written_md5, notices = _hide_and_write(
                rewrite, source, builder, secret, passphrase, target, alphabet, flags, search
            )
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    for notice in notices:
        click.echo(f"notice: {notice}", err=True)
    _print_report(match, written_md5, file, destination, as_json)


def _print_report(match: HiddenMatch, written_md5: str, file: str, destination: str, as_json: bool) -> None:
    """One line (or one JSON object) on stdout; on stderr when the result went to stdout.

    The message's own length is not reported: the sealed part shows only its
    size bucket, and a log line should not tell more.
    """
    report = {
        "md5": written_md5,
        "file": "<stdin>" if file == "-" else file,
        "output": None if destination == "-" else destination,
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


REVEAL_EXAMPLES = """
\b
Examples:
  md5steg reveal note.txt --passphrase-file key.txt
  md5steg reveal - -o message.txt < note.txt
"""


def _reveal_source(file: str) -> BinaryIO:
    """stdin, a regular file or a FIFO; /dev/zero and other devices are refused (they never end)."""
    return open_readable(file, "hidden message", "FILE")


@click.command("reveal", epilog=REVEAL_EXAMPLES)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@passphrase_file_option
@click.option("-o", "--output", metavar="OUT", help="Write the message to OUT (mode 0600) instead of stdout (- is stdout).")
@click.option(
    "--alphabet",
    "alphabet_name",
    type=click.Choice(sorted(NAMED_ALPHABETS)),
    default=None,
    help="The alphabet it was hidden with (default: detected among the named ones).",
)
@click.option("--alphabet-chars", metavar="STRING", help="The custom alphabet it was hidden with (digit 0 first).")
def reveal_command(
    file: str,
    passphrase_file: Optional[str],
    output: Optional[str],
    alphabet_name: Optional[str],
    alphabet_chars: Optional[str],
) -> None:
    """Write the exact bytes of the message hidden at the end of FILE (or - for stdin).

    FILE is read once, in bounded memory. A wrong passphrase and a changed
    file give the same one-line error, after the same work: they cannot be
    told apart. On a terminal control bytes show as \\xNN and a final newline
    is added if the message lacks one; a pipe or -o OUT gets the exact bytes.
    """
    alphabet = None
    if alphabet_name is not None or alphabet_chars is not None:
        alphabet = resolve_alphabet_options(alphabet_name, alphabet_chars)
    stdin_read_once(FILE=file, **{"--passphrase-file": passphrase_file})
    if output == "-":  # stdout, as for hide and find
        output = None
    if output is not None:
        _check_destination(output, from_option=True)
        if file != "-" and os.path.exists(output) and os.path.samefile(file, output):
            raise click.UsageError(f"-o {output} is FILE itself: the plaintext would replace the cover")
    stego = _stego()
    handle = _reveal_source(file)
    try:
        ending = stego.read_ending(handle)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    passphrase = read_passphrase(passphrase_file, confirm=False)
    try:
        found = stego.find_hidden(ending, passphrase=passphrase, alphabet=alphabet)
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None
    if found.version == 1:
        click.echo("notice: a format v1 message: it is not bound to its cover; hide it again for v2", err=True)
    message = found.message
    if output is not None:
        try:
            write_atomic(output, message, mode=0o600)
        except (OSError, Md5stegError) as exc:
            raise click.ClickException(f"cannot write {output}: {getattr(exc, 'strerror', None) or exc}") from None
        return
    if sys.stdout.isatty():
        message = _safe_for_terminal(message)
    sys.stdout.buffer.write(message)
    sys.stdout.buffer.flush()


TERMINAL_CONTROLS = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
"""Bytes a terminal acts on (escape sequences, bells, carriage returns), but not tab and newline."""


def _safe_for_terminal(message: bytes) -> bytes:
    """The message as a terminal shows it harmlessly: control bytes as \\xNN, and a final newline.

    A revealed message comes from whoever hid it; raw escape sequences could
    retitle the window, hide text or worse. A pipe or -o gets the exact bytes.
    """
    shown = TERMINAL_CONTROLS.sub(lambda control: b"\\x%02x" % control.group()[0], message)
    return shown if shown.endswith(b"\n") else shown + b"\n"
