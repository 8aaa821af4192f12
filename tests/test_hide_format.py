"""Format v1 is pinned: a file hidden by this version (with the real KDF) must always reveal.

Changing the layout, the KDF parameters, the header or the encoding breaks
this test on purpose: such a change needs a new VERSION, and reveal must keep
reading v1 files.
"""

from __future__ import annotations

import hashlib

import pytest

import md5steg
from md5steg import stego

V1_FILE = bytes.fromhex(
    "666f726d61742076310a0909090b0a0a20200a0a090a200a200b0b200b0b0a090920200b0b200b09090b200c0a0c0c200c090b0b"
    "0a09200c0a0a200a200b0a0a0c090a0a0c0b20200b200b0b20200a200b2020090b0c200a20090b0c0b0c090a0c200b200a0b200a"
    "0b0b090b0909202020200b0b200c0a0a0a0b0b0a0b0a200a0c090a0b09200b0c0a200c090c200a0c090b0c09200b20200c0a200a"
    "0b090a09200c0c09200b090b090c2009090c0c2009090c0c0b200a0b20200a09200b0c0a0a200b0a20090b200b200c0a0920090c"
    "0a0b20202020200920200a0a"
)
"""b"format v1\\n" + the suffix of md5steg.hide(..., b"golden", passphrase="pinned", prefix="ab")."""


def test_a_v1_file_reveals_with_the_default_kdf() -> None:
    assert hashlib.md5(V1_FILE).hexdigest().startswith("ab")
    found = stego.find_hidden(V1_FILE, passphrase="pinned")
    assert (found.message, found.cover_length, found.alphabet.name) == (b"golden", len(b"format v1\n"), "ws5")


def test_the_test_hook_changes_the_key_so_its_files_never_pass_for_real_ones() -> None:
    with stego.cheap_kdf_for_tests(), pytest.raises(stego.MessageNotFoundError):
        md5steg.reveal(V1_FILE, passphrase="pinned", alphabet="ws5")
