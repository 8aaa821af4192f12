"""Ids chosen before pasting, and the test of whether an id already holds a page.

A pre-assigned id is the vanity prefix (if any) padded with hex from a SHA-256
of the page's name, bytes and an attempt counter: as good as random for
avoiding collisions, yet a pure function of the story, so ``md5steg plan``, a
re-run and a fresh copy of the story on another machine all compute the same
ids. An id is skipped (the counter bumped) only when it holds something other
than this page: an id that already holds exactly the bytes the page would get
is not taken, it is done.
"""

from __future__ import annotations

import hashlib
from typing import Optional, Union

from ..addresses import md5_hex
from ..alphabets import Alphabet, resolve_alphabet
from ..errors import Md5stegError
from ..layout import choose_layout
from ..target import Target

MAX_ID_ATTEMPTS = 10_000
"""Ids tried for one pre-assigned page before giving up (its prefix leaves too few free)."""


def candidate_id(name: str, source: bytes, vanity: str, id_length: int, attempt: int) -> str:
    """The ``attempt``-th id to try for a pre-assigned page: vanity prefix + pseudo-random hex."""
    padding = hashlib.sha256(f"{name}\0{attempt}\0".encode() + source).hexdigest()
    return (vanity + padding)[:id_length]


def id_attempts(id_length: int, vanity: str) -> int:
    """How many candidates to try: the free hex digits after the vanity prefix bound the ids there are."""
    return int(min(MAX_ID_ATTEMPTS, 4 * 16 ** (id_length - len(vanity))))


def _symbol_count(suffix: bytes, alphabet: Alphabet) -> Optional[int]:
    """How many of the alphabet's symbols ``suffix`` is made of, or None if it is not made of them."""
    count = position = 0
    while position < len(suffix):
        symbol = next((s for s in alphabet.symbols if suffix.startswith(s, position)), None)
        if symbol is None:
            return None
        position += len(symbol)
        count += 1
    return count


def holds_page(
    stored: bytes, rendered: bytes, paste_id: str, alphabet: Union[str, Alphabet]
) -> bool:
    """True when ``stored`` is exactly what pasting ``rendered`` at ``paste_id`` produces.

    That is ``rendered`` followed by a suffix of ``alphabet``'s symbols of the
    width ``md5steg.find`` uses for this length and id, with an MD5 that starts
    with ``paste_id``: the page, already pasted (by an earlier run, a fresh copy
    of the story, or someone else publishing the same story).
    """
    if not stored.startswith(rendered) or not md5_hex(stored).startswith(paste_id):
        return False
    try:
        layout = choose_layout(
            len(rendered), resolve_alphabet(alphabet), Target.from_prefix(paste_id)
        )
    except Md5stegError:
        return False
    return _symbol_count(stored[len(rendered) :], layout.alphabet) == layout.digits
