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
    "666f726d61742076310a200c200c20200b2020090a0a0c0a0a09090a0b200b0a0a20090a0a09200b0c0c0b0a0a090a200a0a0a0c200b"
    "2009090c0c0b200909090c0a0c09092020090b0b0c0b09200a0b0b20090c0b0c09090b0c0c200b0a0c0b09090c20200b0c0c20090c20"
    "090c200a0c0b0a0b0a20200b0b0b0c0c0b200b0c0a090b0c090b0a0a0c090b200a090c0a0a09200b20200c090a2009200b0a090b0a0c"
    "0a0a0b0a090920200a0b200b200c200b2020200b090a0b090b0c20200b0a090a0a09092020090c09090a0a090c090a09202020202020"
    "2020200b"
)
"""b"format v1\\n" + the suffix of md5steg.hide(..., b"golden", passphrase="pinned", prefix="ab")."""


def test_a_v1_file_reveals_with_the_default_kdf() -> None:
    assert hashlib.md5(V1_FILE).hexdigest().startswith("ab")
    found = stego.find_hidden(V1_FILE, passphrase="pinned")
    assert (found.message, found.cover_length, found.alphabet.name) == (b"golden", len(b"format v1\n"), "ws5")


def test_the_test_hook_changes_the_key_so_its_files_never_pass_for_real_ones() -> None:
    with stego.cheap_kdf_for_tests(), pytest.raises(stego.MessageNotFoundError):
        md5steg.reveal(V1_FILE, passphrase="pinned", alphabet="ws5")
