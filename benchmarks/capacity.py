"""Capacity and cost of `md5steg hide`, next to stegsnow: bytes added per message byte, fixed overhead, time.

Usage: PYTHONPATH=src python benchmarks/capacity.py [--reps N]
Writes benchmarks/results/capacity.md (and prints it). stegsnow (Debian package
``stegsnow``) is measured when it is on PATH, on the same cover and message.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

import md5steg
from md5steg import stego
from md5steg.sysinfo import cpu_model_and_flags

MESSAGE = (b"Meet me by the old oak at nine. Bring the map, the lamp and the blue notebook; tell no one. -- J")[:100]
MESSAGE = MESSAGE.ljust(100, b".")
COVER = b"".join(b"Line %d of an ordinary text file that goes on for a while.\n" % line for line in range(40))
PASSPHRASE = "benchmark passphrase"
ALPHABETS = ["ws5", "ws2", "zw"]
TARGET = "c0ffee"


def hide_added(alphabet: str, message: bytes) -> tuple[int, int, int]:
    """(bytes added, of which sealed message, of which nonce) for one hide with the 6-hex target."""
    match = md5steg.hide(COVER, message, passphrase=PASSPHRASE, prefix=TARGET, alphabet=alphabet)
    assert md5steg.reveal(COVER + match.suffix, passphrase=PASSPHRASE) == message
    return len(match.suffix), match.sealed_length, match.nonce_length


def stegsnow_added(extra: list[str]) -> int | None:
    """Bytes stegsnow adds to the cover for MESSAGE, or None when it is not installed."""
    if shutil.which("stegsnow") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        cover, message, out = (Path(folder) / name for name in ("cover", "message", "out"))
        cover.write_bytes(COVER)
        message.write_bytes(MESSAGE)
        subprocess.run(["stegsnow", *extra, "-f", str(message), str(cover), str(out)], check=True, capture_output=True)
        back = subprocess.run(["stegsnow", *extra, str(out)], check=True, capture_output=True).stdout
        assert back == MESSAGE, "stegsnow round trip"
        return out.stat().st_size - len(COVER)


def capacity_rows() -> list[str]:
    rows = ["| tool | bytes added (100-byte message) | per message byte | marginal per byte | fixed overhead |", "|---|---|---|---|---|"]
    for alphabet in ALPHABETS:
        full, sealed, nonce = hide_added(alphabet, MESSAGE)
        empty, _, _ = hide_added(alphabet, b"")
        symbol = len(md5steg.Alphabet.named(alphabet).symbols[0])
        marginal = 8 / math.log2(md5steg.Alphabet.named(alphabet).base) * symbol
        rows.append(
            f"| md5steg hide --alphabet {alphabet} (message {sealed} + nonce {nonce}) | {full} | {full / 100:.2f} | "
            f"{marginal:.2f} | {empty} (empty message, incl. nonce) |"
        )
    for label, extra in (("stegsnow", []), ("stegsnow -C (compressed)", ["-C"]), ("stegsnow -C -p (ICE)", ["-C", "-p", PASSPHRASE])):
        added = stegsnow_added(extra)
        rows.append(f"| {label} | {added} | {added / 100:.2f} | | |" if added is not None else f"| {label} | not installed | | | |")
    return rows


def median_seconds(action, reps: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def timing_rows(reps: int) -> list[str]:
    covers = [COVER + b"%d\n" % index for index in range(reps)]
    finds, hides, find_rates, hide_rates = [], [], [], []
    for cover in covers:  # interleaved, so load from other processes hits both alike
        started = time.perf_counter()
        found = md5steg.find(cover, TARGET)
        finds.append(time.perf_counter() - started)
        started = time.perf_counter()
        match = md5steg.hide(cover, MESSAGE, passphrase=PASSPHRASE, prefix=TARGET)
        hides.append(time.perf_counter() - started)
        hidden = cover + match.suffix
        find_rates.append(found.rate / 1e6)
        hide_rates.append(match.rate / 1e6)
    kdf = median_seconds(lambda: stego._keys(PASSPHRASE, [0] * stego.salt_digits(5)), reps)
    right = median_seconds(lambda: md5steg.reveal(hidden, passphrase=PASSPHRASE), reps)

    def wrong() -> None:
        try:
            md5steg.reveal(hidden, passphrase="not it")
        except stego.MessageNotFoundError:
            return
        raise AssertionError("a wrong passphrase opened the message")

    refused = median_seconds(wrong, reps)
    return [
        "| step (ws5, 100-byte message) | median seconds | search rate, median M/s |",
        "|---|---|---|",
        f"| find --prefix {TARGET} | {statistics.median(finds):.2f} (each: {', '.join(f'{s:.2f}' for s in finds)}) "
        f"| {statistics.median(find_rates):.1f} |",
        f"| hide --prefix {TARGET} (KDF + search) | {statistics.median(hides):.2f} (each: {', '.join(f'{s:.2f}' for s in hides)}) "
        f"| {statistics.median(hide_rates):.1f} |",
        f"| one scrypt derivation (n=2**15, r=8, p=1) | {kdf:.2f} | |",
        f"| reveal, right passphrase | {right:.2f} | |",
        f"| reveal, wrong passphrase (tries every anchor) | {refused:.2f} | |",
        "",
        "A search's time is random (geometric: each candidate is a fresh 1-in-16**6 trial), so",
        "compare the rates; hide's seconds also include one scrypt derivation.",
    ]


def overhead_rows() -> list[str]:
    rows = ["| alphabet | salt digits | body slack digits | header + tag bytes (6-hex target) | anchor step (digits) |", "|---|---|---|---|---|"]
    for alphabet in ALPHABETS:
        base = md5steg.Alphabet.named(alphabet).base
        rows.append(
            f"| {alphabet} | {stego.salt_digits(base)} | {math.ceil(stego.SLACK_BITS / math.log2(base))} | "
            f"{stego.HEADER_BYTES + len(TARGET)} + {stego.TAG_BYTES} | {stego.anchor_step(base)} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    model, _ = cpu_model_and_flags()
    lines = [
        "# md5steg hide: capacity and cost",
        "",
        f"CPU: {model}, {os.cpu_count()} logical cores; load average at start {os.getloadavg()[0]:.1f}; "
        f"Python {sys.version.split()[0]}; command: `PYTHONPATH=src python benchmarks/capacity.py --reps {args.reps}`",
        "",
        f"Same cover ({len(COVER)} bytes of text) and the same 100-byte message for every tool; target {TARGET}.",
        "",
        *capacity_rows(),
        "",
        "Fixed parts of a hidden message (format v1):",
        "",
        *overhead_rows(),
        "",
        *timing_rows(args.reps),
        "",
    ]
    text = "\n".join(lines)
    out = REPO / "benchmarks" / "results" / "capacity.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
