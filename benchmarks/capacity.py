"""Capacity and cost of `md5steg hide`, next to stegsnow: bytes per message byte, size buckets, rates, KDF, reveal timing.

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
from md5steg import stego, stego_format
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


def rate_rows(reps: int) -> list[str]:
    """find and hide on the same covers, interleaved, one core each, compiled engine: rates side by side."""
    target = "c0ffee0"  # 268 M candidates expected: long enough that start-up costs vanish from the rate
    find_rates, hide_rates = [], []
    for index in range(reps):
        cover = COVER + b"%d\n" % index
        find_rates.append(md5steg.find(cover, target, jobs=1, engine="cython").rate / 1e6)
        hide_rates.append(md5steg.hide(cover, MESSAGE, passphrase=PASSPHRASE, prefix=target, jobs=1, engine="cython").rate / 1e6)
    return [
        f"| search, one core, compiled engine, target {target} | median M/s | each run |",
        "|---|---|---|",
        f"| find | {statistics.median(find_rates):.1f} | {', '.join(f'{rate:.1f}' for rate in find_rates)} |",
        f"| hide | {statistics.median(hide_rates):.1f} | {', '.join(f'{rate:.1f}' for rate in hide_rates)} |",
    ]


def _refused(data: bytes) -> None:
    try:
        md5steg.reveal(data, passphrase=PASSPHRASE)
    except stego.MessageNotFoundError:
        return
    raise AssertionError("an altered file or a wrong passphrase opened the message")


def timing_rows(reps: int) -> list[str]:
    """The KDFs, and reveal's failure cases side by side on a 4 KiB message (interleaved, same process)."""
    v2 = median_seconds(lambda: stego.V2.keys(PASSPHRASE.encode(), [0] * stego.salt_digits(5)), reps)
    v1 = median_seconds(lambda: stego.V1.keys(PASSPHRASE.encode(), [0] * stego.salt_digits(5)), reps)
    cover = COVER
    match = md5steg.hide(cover, bytes(4096), passphrase=PASSPHRASE, prefix="c0f")
    good = cover + match.suffix
    cases = {
        "right passphrase": lambda: md5steg.reveal(good, passphrase=PASSPHRASE),
        "wrong passphrase": lambda: _refused_with(good, "not it"),
        "right passphrase, a tail-pad digit changed": lambda: _refused(_flip(good, len(good) - match.nonce_length - 1)),
        "right passphrase, cover edited (MD5 forced again)": lambda: _refused(_forged(cover, match)),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(reps):
        for name, action in cases.items():
            started = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - started)
    rows = [
        "| one derivation | median seconds |",
        "|---|---|",
        f"| Argon2id t={stego_format.ARGON2_ITERATIONS}, {stego_format.ARGON2_MEMORY_KIB // 1024} MiB, {stego_format.ARGON2_LANES} lanes (v2) | {v2:.3f} |",
        f"| scrypt N=2**15, r=8, p=1 (v1, read only) | {v1:.3f} |",
        "",
        f"reveal of a 4 KiB message (ws5, target c0f), {reps} runs each, interleaved; anchors tried: "
        f"{len(stego.allowed_anchors(len(good), md5steg.Alphabet.named('ws5')))} per format",
        "",
        "| case | median seconds | min | max |",
        "|---|---|---|---|",
    ]
    for name, times in samples.items():
        rows.append(f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} |")
    return rows


def _refused_with(data: bytes, passphrase: str) -> None:
    try:
        md5steg.reveal(data, passphrase=passphrase)
    except stego.MessageNotFoundError:
        return
    raise AssertionError("a wrong passphrase opened the message")


def _flip(data: bytes, offset: int) -> bytes:
    symbols = md5steg.Alphabet.named("ws5").symbols
    other = symbols[(symbols.index(data[offset : offset + 1]) + 1) % len(symbols)]
    return data[:offset] + other + data[offset + 1 :]


def _forged(cover: bytes, match: stego.HiddenMatch) -> bytes:
    edited = cover.replace(b"Line 21", b"Line 29") + match.suffix[: match.sealed_length]
    return edited + md5steg.find(edited, "c0f").suffix


def bucket_rows() -> list[str]:
    """Every size bucket: the message lengths it holds (6-hex target) and the suffix it costs per alphabet."""
    header = stego.v2_header_bytes(TARGET)
    rows = [
        "| bucket (plaintext bytes) | message bytes it holds (6-hex target) | "
        + " | ".join(f"{name} bytes added" for name in ALPHABETS)
        + " |",
        "|---|---|" + "---|" * len(ALPHABETS),
    ]
    low = 0
    for size in stego.BUCKETS:
        high = min(size - header, stego.MAX_MESSAGE_BYTES)
        if high < low:
            continue
        added = [len(md5steg.hide(COVER, bytes(high), passphrase=PASSPHRASE, prefix=TARGET, alphabet=name).suffix) for name in ALPHABETS]
        rows.append(f"| {size} | {low}-{high} | " + " | ".join(str(value) for value in added) + " |")
        low = high + 1
    return rows


def overhead_rows() -> list[str]:
    rows = ["| alphabet | salt digits | body slack digits | header + tag bytes (6-hex target) | anchor step (digits) |", "|---|---|---|---|---|"]
    for alphabet in ALPHABETS:
        base = md5steg.Alphabet.named(alphabet).base
        rows.append(
            f"| {alphabet} | {stego.salt_digits(base)} | {math.ceil(stego.SLACK_BITS / math.log2(base))} | "
            f"{stego.v2_header_bytes(TARGET)} + {stego.TAG_BYTES} | {stego.anchor_step(base)} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    model, _ = cpu_model_and_flags()
    lines = [
        "# md5steg hide: capacity and cost (format v2)",
        "",
        f"CPU: {model}, {os.cpu_count()} logical cores; load average at start {os.getloadavg()[0]:.1f}; "
        f"Python {sys.version.split()[0]}; command: `PYTHONPATH=src python benchmarks/capacity.py --reps {args.reps}`",
        "",
        f"Same cover ({len(COVER)} bytes of text) and the same 100-byte message for every tool; target {TARGET}.",
        "",
        *capacity_rows(),
        "",
        "Size buckets: the suffix length shows the bucket, not the message length.",
        "",
        *bucket_rows(),
        "",
        "Fixed parts of a hidden message:",
        "",
        *overhead_rows(),
        "",
        *rate_rows(args.reps),
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
