"""Formats v1 and v2 are pinned: a file hidden by either (with the real KDFs) must always reveal.

Changing the layout, the KDF parameters, the header or the encoding breaks
these tests on purpose: such a change needs a new VERSION, and reveal must
keep reading every earlier version's files.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

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

V2_FILE = bytes.fromhex(
    "666f726d61742076320a0c0a09090a0a0c20200c0a0c0b09200a0b200c090a0a20200c0a0b200a0b0b0b200a092009090c0a200b200a"
    "0c200c0b200b0a0b0909090c0b200a0920090c0c0a0a0b0b0a0a200a0b200a0b0a0c09090b0b0a200c0b200a200c0c090a090c0c0b09"
    "0c0a200b0c090a0a0b090c0b0c0a090b0b0c0a0a0c0c0c0c0c20200b0a0a090b0a200909090b09090c090c090c0c0b0a0a2009090b09"
    "0a0b0b0c20200b0b090c0a092009200c0b0c0a0a200a0a090b0b0a20200b09090b200c09090b090a0c0c0a090c0b0b0b0b0c090c0c0a"
    "200a0b090c0a090a200a20090920200b200c0c0a0b0c0b0c0a0a0a0b0b09200c0a20200a090c0b0b0c090c0b0c0b0b09090b0a0a0a20"
    "0a0b0b0c0b200c0a0a20200a0a0a200c0b0c0c200b0c0c0c0b200b200a0c0c0b0b0c0920090a090a090c09090c0b0c0a0c0b200c200a"
    "0c090b200b0b0c0c0c200c09090a0a09090c090a0b200c0c0b09200c0b0a0a0c20090a200a0c09090a090a0a090c0b090c0a0c0c0b0c"
    "09200b0b09200c0c0c200a2009200b0a090b0909090b200a09090c0a200b0c0b200c20200b0b0c0b0b2020090c20090b09090c0b0b0c"
    "20090b090c0c09090c200a0b09090a0a0a0a0b0c0b090a0b0b200a200a0c200920090c0b0c200c200a0a0b090a0c090c0a0b0b090909"
    "0b0c0c0a0b0b0c090c0b0c090a09090c0a090a0a0a090c200c200b0c090a090c0b0b0b0b20090a0a0c0b20090b20090b20090c0b0a0a"
    "0c200c09200b09200c0c090b090c200a20200c200a090c0c0a0a20090b090a0b0b2009090a0b0b0a0a0c0a200b200b0b20090b090c0b"
    "0a200a0c200a0a0a200c0b0a0c0920092020202020202020200b"
)
"""b"format v2\\n" + the suffix of md5steg.hide(..., b"golden", passphrase="pinned", prefix="ab") (Argon2id)."""


def test_v1_and_v2_files_reveal_with_the_real_kdfs() -> None:
    """The one test that pays for the real Argon2id and scrypt (a few tenths of a second each)."""
    for data, cover, version in ((V1_FILE, b"format v1\n", 1), (V2_FILE, b"format v2\n", 2)):
        assert hashlib.md5(data).hexdigest().startswith("ab")
        found = stego.find_hidden(data, passphrase="pinned")
        assert (found.message, found.cover_length, found.alphabet.name, found.version) == (b"golden", len(cover), "ws5", version)


@pytest.mark.parametrize("data", [V1_FILE, V2_FILE], ids=["v1", "v2"])
def test_the_test_hook_changes_the_key_so_its_files_never_pass_for_real_ones(data: bytes) -> None:
    with stego.cheap_kdf_for_tests(), pytest.raises(stego.MessageNotFoundError):
        md5steg.reveal(data, passphrase="pinned", alphabet="ws5")


def test_reveal_says_a_v1_message_is_not_bound_to_its_cover(tmp_path: Path) -> None:
    """v1 sealed no hash of the cover: the CLI says so when it opens one."""
    hidden = tmp_path / "v1.txt"
    hidden.write_bytes(V1_FILE)
    done = subprocess.run(
        [sys.executable, "-c", "from md5steg.cli import main; main()", "reveal", str(hidden)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "MD5STEG_PASSPHRASE": "pinned"},
    )
    assert (done.returncode, done.stdout) == (0, b"golden")
    assert done.stderr == b"notice: a format v1 message: it is not bound to its cover; hide it again for v2\n"
