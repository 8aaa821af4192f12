"""The ``md5steg`` command: a thin click layer over the library.

Subcommands are imported only when used, so ``md5steg find`` never pays for
the web server's or Dask's imports. Library errors (``Md5stegError``) become
one-line messages with exit 1; bad arguments exit 2; Ctrl-C exits 130, and
SIGTERM (``kill``, ``timeout``, systemd) takes the same path and exits 143.
"""

from __future__ import annotations

import difflib
import errno
import functools
import importlib
import io
import os
import signal
import sys
from types import FrameType
from typing import Any, Optional

import click

from .._version import __version__
from ..errors import Md5stegError

LAZY_COMMANDS = {
    "find": "md5steg.cli.find:find_command",
    "collide": "md5steg.cli.collide:collide_command",
    "hide": "md5steg.cli.hide:hide_command",
    "reveal": "md5steg.cli.hide:reveal_command",
    "info": "md5steg.cli.info:info_command",
    "alphabets": "md5steg.cli.info:alphabets_command",
    "plan": "md5steg.cli.story:plan_command",
    "paste": "md5steg.cli.paste:paste_command",
    "publish": "md5steg.cli.story:publish_command",
    "serve": "md5steg.cli.serve:serve_command",
}


class LazyGroup(click.Group):
    """A group whose subcommands live in other modules and load on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        if cmd_name in LAZY_COMMANDS:
            module_name, attribute = LAZY_COMMANDS[cmd_name].split(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                return _unavailable_command(cmd_name, exc)
            command: click.Command = getattr(module, attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[Optional[str], Optional[click.Command], list[str]]:
        """The subcommand named first in ``args``; a mistyped name gets the closest one suggested."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            close = difflib.get_close_matches(args[0], self.list_commands(ctx), n=1) if args else []
            if not close:
                raise
            raise click.UsageError(f"no command {args[0]!r}; did you mean {close[0]}?", ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; a library error it did not map itself is still one line, exit 1."""
        try:
            return super().invoke(ctx)
        except Md5stegError as exc:
            raise click.ClickException(str(exc)) from None


EXTRA_FOR_MODULE = {
    "starlette": "serve",
    "uvicorn": "serve",
    "httpx": "serve",
    "multipart": "serve",
    "python_multipart": "serve",
    "tenacity": "serve",
    "distributed": "dask",
    "dask": "dask",
    "pyopencl": "gpu",
    "cryptography": "hide",
}
"""Which extra (``pip install 'md5steg[EXTRA]'``) brings each optional top-level module."""


def _unavailable_command(name: str, error: ImportError) -> click.Command:
    """Stands in for a subcommand whose optional dependencies are not installed."""
    missing = error.name or str(error)
    extra = EXTRA_FOR_MODULE.get(missing.split(".")[0], "serve")
    install = f"pip install 'md5steg[{extra}]'"

    def explain() -> None:
        raise click.ClickException(
            f"`md5steg {name}` needs {missing}, which is not installed; install the extra with: {install}"
        )

    return click.Command(
        name,
        callback=explain,
        help=f"(unavailable: {missing} is not installed; {install})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="md5steg")
def cli() -> None:
    """Make a file's MD5 start with any hex prefix by appending invisible whitespace."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so every Ctrl-C cleanup runs for it too."""


def _raise_terminated(signum: int, frame: Optional[FrameType]) -> None:
    """The SIGTERM handler: raise ``Terminated`` once; a second SIGTERM waits for the cleanup."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


@functools.cache
def _default_sigterm_in_forked_children() -> None:
    """A forked search worker gets SIGTERM's default back: the pool's ``terminate`` just ends it.

    SIGTERM is blocked across the fork and unblocked only after the default is
    restored: a worker terminated at once (a search refused right after the pool
    started) otherwise ran our handler inside another at-fork hook (random's
    reseed) and printed "Exception ignored ... Terminated" on stderr.
    """
    terminate = {signal.SIGTERM}

    def default_then_unblock() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, terminate)

    os.register_at_fork(
        before=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, terminate),
        after_in_parent=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, terminate),
        after_in_child=default_then_unblock,
    )


def _interrupted(error: BaseException) -> None:
    """Ctrl-C: exit 130; SIGTERM: exit 143 (128 + the signal), one line either way."""
    if isinstance(error, Terminated) or isinstance(error.__cause__, Terminated):
        click.echo("md5steg: terminated", err=True)
        sys.exit(128 + signal.SIGTERM)
    click.echo("md5steg: interrupted", err=True)
    sys.exit(130)


class _ClosedStdin(io.RawIOBase):
    """Stands in for a stdin the shell closed (``<&-``): reading it is an OSError, as reading fd 0 would be."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise OSError(errno.EBADF, "stdin is closed")


def _standard_streams() -> None:
    """File names are bytes: print them as given (as md5sum does), and read a closed stdin as an error.

    Without surrogateescape a name that is not UTF-8 (``-o $'g\\xff'``) ended a
    finished run in a UnicodeEncodeError traceback; without a stand-in a closed
    stdin (``sys.stdin is None``) ended ``find -`` in an AttributeError.
    """
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
    if sys.stdin is None:
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_ClosedStdin()))


def main(argv: Optional[list[str]] = None) -> Any:
    """Console entry point: run the CLI, turning Ctrl-C into exit status 130 and SIGTERM into 143."""
    _default_sigterm_in_forked_children()
    signal.signal(signal.SIGTERM, _raise_terminated)
    _standard_streams()
    arguments = sys.argv[1:] if argv is None else argv
    try:
        return cli.main(args=arguments or ["--help"], prog_name="md5steg", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "md5steg"
        click.echo(f"Error: {exc.format_message()} (see '{command} --help')", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt) as exc:
        _interrupted(exc)
