"""md5bin (``md5steg serve``) against pinnwand 1.5 on loopback, with wrk as the load generator.

    PYTHONPATH=src .venv/bin/python benchmarks/serve_vs_pinnwand.py            # ~6 minutes
    PYTHONPATH=src .venv/bin/python benchmarks/serve_vs_pinnwand.py --rounds 1 --seconds 2

Both servers use file-backed SQLite and serve the same paste (a 1.2 kB story
page full of links). wrk (Debian's ``wrk`` package; C, epoll, a Lua script
for POSTs) keeps 20 connections busy for ``--seconds`` per run, from one
thread: on a 2-core machine the load generator is the servers' competitor, and
one wrk thread drives 20 connections at far more than these servers answer.

- ``raw``: ``GET /raw/ID``, the exact bytes;
- ``html``: ``GET /ID``, the rendered page;
- ``post``: ``POST`` of new content each time (a counter per wrk thread, and a
  nonce per run, so no post is "already here"): md5bin takes the raw body,
  pinnwand its JSON API.

md5bin runs in several set-ups (h11 + asyncio, i.e. plain ``uvicorn``;
httptools + uvloop, i.e. ``uvicorn[standard]``; 1 and 2 workers). The runs are
interleaved (every set-up once per scenario per round), because other
processes share this machine; the table gives the median of the rounds' req/s
and of their p50/p99 latencies, and each md5bin row's ratio to pinnwand's median.

Writes ``benchmarks/results/serve_vs_pinnwand.md`` (and ``.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the pinnwand installer the tests use

from pinnwand_server import CONFIGURATION, WRAPPER, pinnwand_python  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
SCENARIOS = ("raw", "html", "post")
CONNECTIONS = 20
STORY = (
    "Chapter 3. The lighthouse keeper's ledger\n\n"
    + "".join(
        f"Line {number}: the tide came in at {number}:00; see https://example.org/page/{number} "
        f"and the note on the {number}th shelf.\n"
        for number in range(1, 13)
    )
    + "\nGo left: https://example.org/left\nGo right: https://example.org/right\n"
)
# wrk's Lua for POSTs: a counter per wrk thread and a nonce per run make every body new.
POST_SCRIPT = string.Template(
    """
local counter = 0
local prefix = ""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end
function init(args)
  prefix = args[1] .. "-" .. tostring(number)
  wrk.method = "POST"
  wrk.path = "$path"
  wrk.headers["Content-Type"] = "$content_type"
end
function request()
  counter = counter + 1
  local text = "benchmark paste " .. prefix .. "-" .. counter .. "$newline" .. string.rep("filler ", 100)
  return wrk.format(nil, nil, nil, $body)
end
"""
)
POST_APIS = {
    "md5bin": {"path": "/", "content_type": "text/plain", "newline": "\\n", "body": "text"},
    "pinnwand": {
        "path": "/api/v1/paste",
        "content_type": "application/json",
        "newline": "\\\\n",
        "body": '\'{"expiry": "1day", "files": [{"lexer": "text", "content": "\' .. text .. \'"}]}\'',
    },
}


@dataclass(frozen=True)
class Setup:
    """One server configuration to measure."""

    name: str
    kind: str  # "md5bin" or "pinnwand"
    arguments: tuple[str, ...] = ()


SETUPS = (
    Setup("pinnwand 1.5 (tornado)", "pinnwand"),
    Setup(
        "md5bin, uvicorn (h11, asyncio), 1 worker", "md5bin", ("--http", "h11", "--loop", "asyncio")
    ),
    Setup(
        "md5bin, uvicorn[standard] (httptools, uvloop), 1 worker",
        "md5bin",
        ("--http", "httptools", "--loop", "uvloop"),
    ),
    Setup(
        "md5bin, uvicorn (h11, asyncio), 2 workers",
        "md5bin",
        ("--http", "h11", "--loop", "asyncio", "--workers", "2"),
    ),
    Setup(
        "md5bin, uvicorn[standard] (httptools, uvloop), 2 workers",
        "md5bin",
        ("--http", "httptools", "--loop", "uvloop", "--workers", "2"),
    ),
)


class Server:
    """A running server process, its URL and the path of the shared paste."""

    def __init__(self, process: subprocess.Popen, url: str, paste_id: str, log: Path) -> None:  # type: ignore[type-arg]
        self.process = process
        self.url = url
        self.paste_id = paste_id
        self.log = log

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _wait_for_line(log: Path, pattern: str, process: subprocess.Popen) -> str:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(pattern, log.read_text(errors="replace"))
        if match:
            return match.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"server did not start: {log.read_text(errors='replace')[-2000:]}")


def _wait_until_answering(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} does not answer")


def start_md5bin(setup: Setup, directory: Path) -> Server:
    log = directory / "md5bin.log"
    command = [sys.executable, "-c", "from md5steg.cli import main; main()", "serve"]
    # 16-hex ids: thousands of new posts would collide on 6 (409 for different content).
    command += ["--db", str(directory / "md5bin.sqlite3"), "--port", "0", "--id-length", "16"]
    command += setup.arguments
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=output, env=environment
        )
    url = _wait_for_line(log, r"md5bin: serving (http://\S+)", process)
    _wait_until_answering(f"{url}/api/info")
    response = httpx.post(f"{url}/", content=STORY.encode(), timeout=30)
    paste_id = response.text.strip().rsplit("/", 1)[-1]
    return Server(process, url, paste_id, log)


def start_pinnwand(directory: Path) -> Server:
    python = pinnwand_python()
    (directory / "serve.py").write_text(WRAPPER)
    (directory / "config.toml").write_text(
        CONFIGURATION.format(database=directory / "pinnwand.sqlite3")
    )
    log = directory / "pinnwand.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(python), str(directory / "serve.py"), str(directory / "config.toml")],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = _wait_for_line(log, r"pinnwand: serving (http://\S+)", process)
    _wait_until_answering(f"{url}/api/v1/lexer")
    body = {"expiry": "1day", "files": [{"lexer": "text", "content": STORY}]}
    link = httpx.post(f"{url}/api/v1/paste", json=body, timeout=30).json()["link"]
    return Server(process, url, link.rstrip("/").rsplit("/", 1)[-1], log)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by ``pid`` and its live descendants (the workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (OSError, IndexError):
        pass
    return total


def wrk_run(
    server: Server, scenario: str, seconds: float, kind: str, scratch: Path
) -> dict[str, float]:
    """One wrk run: req/s, p50 and p99 in ms, and how many answers were not 2xx/3xx."""
    command = ["wrk", "-t", "1", "-c", str(CONNECTIONS), "-d", f"{seconds:g}s", "--latency"]
    if scenario == "post":
        script = scratch / f"post-{kind}.lua"
        script.write_text(POST_SCRIPT.substitute(POST_APIS[kind]))
        command += ["-s", str(script), server.url, "--", secrets.token_hex(6)]
    else:
        path = f"/raw/{server.paste_id}" if scenario == "raw" else f"/{server.paste_id}"
        command.append(server.url + path)
    cpu_before = cpu_seconds(server.process.pid)
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    cpu = cpu_seconds(server.process.pid) - cpu_before
    sample = parse_wrk(output)
    sample["cpu_ms"] = 1000 * cpu / sample["requests"] if sample["requests"] else 0.0
    return sample


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> dict[str, float]:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    requests = re.search(r"(\d+) requests in", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rate and requests and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(rate.group(1)),
        "requests": float(requests.group(1)),
        "p50_ms": _milliseconds(p50.group(1)),
        "p99_ms": _milliseconds(p99.group(1)),
        "bad": float(bad.group(1)) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def measure(
    rounds: int, seconds: float, scratch: Path
) -> dict[str, dict[str, list[dict[str, float]]]]:
    """Every set-up on every scenario, once per round, interleaved; samples by set-up and scenario."""
    samples: dict[str, dict[str, list[dict[str, float]]]] = {
        setup.name: {scenario: [] for scenario in SCENARIOS} for setup in SETUPS
    }
    servers: dict[str, Server] = {}
    try:
        for number, setup in enumerate(SETUPS):
            directory = scratch / f"server-{number}"
            directory.mkdir()
            servers[setup.name] = (
                start_pinnwand(directory)
                if setup.kind == "pinnwand"
                else start_md5bin(setup, directory)
            )
        for round_number in range(rounds):
            for scenario in SCENARIOS:
                for setup in SETUPS:
                    sample = wrk_run(servers[setup.name], scenario, seconds, setup.kind, scratch)
                    samples[setup.name][scenario].append(sample)
                    print(
                        f"round {round_number + 1}/{rounds} {scenario:4} {setup.name}: "
                        f"{sample['rps']:.0f} req/s, p50 {sample['p50_ms']:.1f} ms, "
                        f"p99 {sample['p99_ms']:.1f} ms, server CPU {sample['cpu_ms']:.2f} ms/request, "
                        f"non-2xx {sample['bad']:.0f}",
                        flush=True,
                    )
    finally:
        for server in servers.values():
            server.stop()
    return samples


def summarise(
    samples: dict[str, dict[str, list[dict[str, float]]]],
) -> dict[str, dict[str, dict[str, float]]]:
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for name, by_scenario in samples.items():
        summary[name] = {}
        for scenario, runs in by_scenario.items():
            summary[name][scenario] = {
                key: statistics.median(run[key] for run in runs)
                for key in ("rps", "p50_ms", "p99_ms", "cpu_ms")
            }
            summary[name][scenario]["bad"] = sum(run["bad"] for run in runs)
            summary[name][scenario]["rps_min"] = min(run["rps"] for run in runs)
            summary[name][scenario]["rps_max"] = max(run["rps"] for run in runs)
    return summary


def table(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    baseline = summary[SETUPS[0].name]
    lines = [
        "| server | scenario | req/s (median, min-max) | vs pinnwand | p50 ms | p99 ms "
        "| server CPU ms/request | non-2xx |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for scenario in SCENARIOS:
        for setup in SETUPS:
            row = summary[setup.name][scenario]
            ratio = row["rps"] / baseline[scenario]["rps"] if baseline[scenario]["rps"] else 0.0
            lines.append(
                f"| {setup.name} | {scenario} | {row['rps']:.0f} ({row['rps_min']:.0f}-{row['rps_max']:.0f}) "
                f"| {ratio:.2f}x | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['cpu_ms']:.2f} "
                f"| {row['bad']:.0f} |"
            )
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds (median over them)"
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each wrk run")
    parser.add_argument("--output", type=Path, default=RESULTS / "serve_vs_pinnwand.md")
    options = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="md5bin-bench-") as scratch:
        samples = measure(options.rounds, options.seconds, Path(scratch))
    summary = summarise(samples)
    command = f"PYTHONPATH=src python benchmarks/serve_vs_pinnwand.py --rounds {options.rounds} --seconds {options.seconds:g}"
    load = os.getloadavg()
    report = (
        "# md5bin vs pinnwand 1.5 on loopback\n\n"
        f"`{command}`; wrk 4.1, 1 thread, {CONNECTIONS} connections, {options.seconds:g} s per run, "
        f"{options.rounds} interleaved rounds, medians.\n\n"
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores (shared with other work; "
        f"load average after the run {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}); "
        f"Python {platform.python_version()}.\n\n"
        f"{table(summary)}\n"
    )
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(report)
    options.output.with_suffix(".json").write_text(
        json.dumps(
            {"command": command, "cpu": cpu_model(), "summary": summary, "samples": samples},
            indent=1,
        )
    )
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
