"""``python -m md5steg`` and the console script: Ctrl-C while starting up exits 130, no traceback.

Only this module and the (lazy) package are imported before the ``try``, so
the time in which Ctrl-C can still print a traceback is the interpreter's own
start-up, a few milliseconds.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import the CLI, then run it; a Ctrl-C during the imports ends like one during the run."""
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("md5steg: interrupted\n")
        raise SystemExit(130) from None
    cli_main()


if __name__ == "__main__":
    main()
