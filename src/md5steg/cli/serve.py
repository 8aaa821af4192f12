"""``md5steg serve``: run md5bin, the MD5-addressed pastebin, with uvicorn.

The listening socket is bound here, before uvicorn starts, so a port already in
use is a one-line error (exit 1) and ``--port 0`` picks a free port whose URL is
printed. Ctrl-C stops the server and exits 130 with the one line
``md5steg: interrupted``, as every md5steg command does; SIGTERM also stops it.
Either waits at most ``--shutdown-timeout`` seconds for responses in progress.
``--remove ID`` takes a paste out of the store instead of serving (a running
server answers 410 Gone for it from then on).
"""

from __future__ import annotations

import errno
import functools
import os
import socket
from typing import Any, Optional

import click

from ..addresses import normalise_base_url
from ..errors import Md5stegError
from ..md5bin.options import DEFAULT_REQUEST_TIMEOUT, EVENT_LOOPS, HTTP_PARSERS, ServeOptions
from ..md5bin.store import (
    DEFAULT_MAX_SIZE,
    MAX_ID_LENGTH,
    MIN_ID_LENGTH,
    Md5binStore,
    default_db_path,
)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _ascii_host(host: str) -> str:
    """``--host`` as given, if it can name a local address: printable ASCII (exit 2 otherwise)."""
    if not host or not host.isascii() or not host.isprintable():
        raise click.BadParameter(
            f"{host!r} is not an address to listen on; give an IP address or a host name in "
            f"ASCII, e.g. 127.0.0.1 or 0.0.0.0"
        )
    return host


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, or a ClickException saying why not."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise click.ClickException(
            f"cannot listen on {host}: {exc.strerror}; check --host"
        ) from None
    family, kind, protocol, _, address = addresses[0]
    listener = socket.socket(family, kind, protocol)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        where = f"{_url_host(host)}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"cannot listen on {where}: the port is already in use; "
                f"stop the other server or choose another --port (0 picks a free one)"
            ) from None
        raise click.ClickException(f"cannot listen on {where}: {exc.strerror}") from None
    listener.set_inheritable(True)
    return listener


def _remove_pastes(database: str, paste_ids: tuple[str, ...]) -> None:
    """``serve --remove``: take each paste out of the store, one line each on stdout."""
    if not os.path.exists(database):
        raise click.ClickException(f"there is no md5bin database at {database}; check --db")
    try:
        with Md5binStore(database) as store:
            # Every id is checked before any is removed: a typo removes nothing.
            for paste_id in paste_ids:
                if not store.is_valid_id(paste_id):
                    raise click.ClickException(
                        f"{paste_id!r} is not a paste id of {database}: ids are "
                        f"{store.id_length} lowercase hex digits; nothing was removed"
                    )
                if store.get(paste_id) is None:
                    gone = "was removed already" if store.is_removed(paste_id) else "holds no paste"
                    raise click.ClickException(
                        f"{paste_id!r} {gone} in {database}; nothing was removed"
                    )
            for paste_id in paste_ids:
                removed = store.remove(paste_id)
                size = removed.size if removed is not None else 0
                click.echo(f"{paste_id}: removed ({size} bytes); it now answers 410 Gone")
    except Md5stegError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("serve")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help=(
        "SQLite file holding the pastes (default $MD5STEG_DB, else md5bin.sqlite3 in the user's "
        "data folder: ~/.local/share/md5steg on Linux)."
    ),
)
@click.option(
    "--remove",
    "remove_ids",
    metavar="ID",
    multiple=True,
    help="Remove this paste from the store and exit, without serving (repeatable). The id "
    "then answers 410 Gone and is never given to other content.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=lambda context, parameter, value: _ascii_host(value),
    help="Address to listen on.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--id-length",
    type=click.IntRange(MIN_ID_LENGTH, MAX_ID_LENGTH),
    help="Hex digits per paste id, fixed when the database is created (default 6).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Public URL that paste URLs start with (default http://HOST:PORT).",
)
@click.option(
    "--max-size",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_SIZE,
    show_default=True,
    help="Largest paste accepted, in bytes.",
)
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes sharing the port and the database (SQLite WAL).",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(0.1, 600),
    default=DEFAULT_REQUEST_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="A request must arrive in full within this time of the connection opening or of "
    "the previous response: a late body gets 408, a late head a closed connection.",
)
@click.option(
    "--keep-alive-timeout",
    type=click.IntRange(1, 600),
    default=5,
    show_default=True,
    metavar="SECONDS",
    help="Close a connection idle this long between requests.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    default=512,
    show_default=True,
    help="Open connections per worker; more are answered 503 and closed.",
)
@click.option(
    "--shutdown-timeout",
    type=click.IntRange(1, 60),
    default=3,
    show_default=True,
    metavar="SECONDS",
    help="On Ctrl-C or SIGTERM, wait at most this long for responses in progress.",
)
@click.option(
    "--http",
    type=click.Choice(HTTP_PARSERS),
    default="auto",
    show_default=True,
    help="HTTP parser: httptools (uvicorn[standard]) or h11; auto takes httptools if installed.",
)
@click.option(
    "--loop",
    type=click.Choice(EVENT_LOOPS),
    default="auto",
    show_default=True,
    help="Event loop: uvloop (uvicorn[standard]) or asyncio; auto takes uvloop if installed.",
)
def serve_command(
    db_path: Optional[str],
    remove_ids: tuple[str, ...],
    host: str,
    port: int,
    id_length: Optional[int],
    base_url: Optional[str],
    max_size: int,
    access_log: bool,
    **limits: Any,
) -> None:
    """Serve md5bin, a pastebin whose paste ids are MD5 prefixes, until Ctrl-C.

    \b
    Examples:
      md5steg serve                                  # http://127.0.0.1:8000, the default store
      md5steg serve --host 0.0.0.0 --port 8080 --base-url https://bin.example.com
      md5steg serve --remove 3f2a9c                  # take one paste down, then exit
    """
    database = db_path if db_path else str(default_db_path())
    if remove_ids:
        _remove_pastes(database, remove_ids)
        return
    from ..md5bin.app import create_app
    from ..md5bin.server import run

    listener = bind_listening_socket(host, port)
    try:
        bound_port = listener.getsockname()[1]
        listen_url = f"http://{_url_host(host)}:{bound_port}"
        options = ServeOptions(access_log=access_log, **limits)
        try:
            options.check()
            public_url = normalise_base_url(base_url or listen_url)
            # Opened once here so that a bad file is a one-line error before serving.
            Md5binStore(database, id_length, max_size=max_size).close()
        except Md5stegError as exc:
            raise click.ClickException(str(exc)) from None
        app_factory = functools.partial(
            create_app, database, id_length=id_length, base_url=public_url, max_size=max_size
        )
        shown = (
            listen_url if public_url == listen_url else f"{listen_url} (paste URLs {public_url}/ID)"
        )
        click.echo(f"md5bin: serving {shown} from {database}; Ctrl-C stops", err=True)
        run(app_factory, listener, options)
    finally:
        listener.close()
