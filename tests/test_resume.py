"""Resume: an interrupted search, run again, continues where it stopped and returns the same answer.

The suite's conftest points ``MD5STEG_STATE_DIR`` at a temp folder, so records
never land in the real home. Searches are interrupted the way a user's Ctrl-C
reaches the library (a ``KeyboardInterrupt`` out of the progress callback) and,
for the CLI, with real SIGINT and SIGTERM to a real process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from md5steg import Match, Progress, find
from md5steg._engine import available_engines
from md5steg.alphabets import Alphabet
from md5steg.backends import Backend, ChunkResult, SearchJob
from md5steg.content import Content
from md5steg.errors import BackendError
from md5steg.layout import choose_layout
from md5steg.resume import (
    MAX_RECORD_BYTES,
    STALE_AFTER_SECONDS,
    Coverage,
    Record,
    remove_stale_records,
    resuming_message,
)
from md5steg.target import Target

HAS_COMPILED = "cython" in available_engines()


@dataclass(frozen=True)
class Case:
    """A search whose lowest hit lies far beyond calibration, and where to interrupt it."""

    data: bytes
    prefix: str
    interrupt_after: int  # candidates


# Lowest hits (found once, and checked below against an uninterrupted run): 314,704,562 for
# LONG with the compiled core, 2,027,725 for the 5-hex case, 35,084,954 for SHORT.
LONG = (
    Case(b"an interrupted search, take 1\n", "0000000", 60_000_000)
    if HAS_COMPILED
    else Case(b"an interrupted search, take 4\n", "00000", 400_000)
)
SHORT = (
    Case(b"a record to resume from, take 7\n", "000000", 0)
    if HAS_COMPILED
    else Case(b"an interrupted search, take 4\n", "00000", 0)
)


class Interrupt:
    """A progress callback that raises KeyboardInterrupt (Ctrl-C) once ``after`` candidates are tried."""

    def __init__(self, after: int) -> None:
        self.after = after

    def __call__(self, progress: Progress) -> None:
        if progress.candidates >= self.after:
            raise KeyboardInterrupt


class ResumedSeen:
    """Collects the ``resumed_candidates`` the progress reports of a search carry."""

    def __init__(self) -> None:
        self.values: set[int] = set()

    def __call__(self, progress: Progress) -> None:
        self.values.add(progress.resumed_candidates)


def record_path(case: Case, state_dir: Path) -> Path:
    content = Content.from_bytes(case.data)
    target = Target.from_prefix(case.prefix)
    layout = choose_layout(content.length, Alphabet.named("ws5"), target)
    path = Record(content, layout, target).path
    assert path.parent == state_dir
    return path


def searched_in(path: Path) -> int:
    return sum(stop - start for start, stop in json.loads(path.read_bytes())["searched"])


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("MD5STEG_STATE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def long_answer() -> Match:
    """One uninterrupted run of LONG (no record read or written)."""
    return find(LONG.data, LONG.prefix, jobs=2, resume=False)


@pytest.fixture(scope="module")
def short_answer() -> Match:
    return find(SHORT.data, SHORT.prefix, jobs=1, resume=False)


def interrupt(case: Case, jobs: int) -> None:
    with pytest.raises(KeyboardInterrupt):
        find(case.data, case.prefix, jobs=jobs, progress=Interrupt(case.interrupt_after))


@pytest.mark.parametrize("jobs", [1, 2], ids=["this-process", "pool"])
def test_interrupted_search_resumes_where_it_stopped_with_the_same_answer(
    jobs: int, state_dir: Path, long_answer: Match
) -> None:
    interrupt(LONG, jobs)
    path = record_path(LONG, state_dir)
    searched = searched_in(path)
    assert searched >= LONG.interrupt_after

    watch = ResumedSeen()
    resumed = find(LONG.data, LONG.prefix, jobs=jobs, progress=watch)

    assert (resumed.nonce_index, resumed.suffix, resumed.md5) == (
        long_answer.nonce_index,
        long_answer.suffix,
        long_answer.md5,
    )
    assert resumed.resumed_candidates == searched
    assert searched in watch.values, "the progress reports say how much was resumed"
    # The rerun skipped what was recorded (it re-scans only its ~20 ms calibration): both runs
    # together did about one run's work.
    assert resumed.candidates + searched <= long_answer.candidates * 1.1
    assert not path.exists(), "a finished search removes its record"


def test_an_interrupted_rerun_keeps_adding_to_the_record(state_dir: Path, long_answer: Match) -> None:
    # One process scans in small chunks, so each interruption stops well short of the answer
    # (the pool's chunks in flight can carry the pure engine's first run close to it).
    interrupt(LONG, 1)
    path = record_path(LONG, state_dir)
    first = searched_in(path)
    interrupt(Case(LONG.data, LONG.prefix, LONG.interrupt_after), 1)
    second = searched_in(path)
    assert second >= first + LONG.interrupt_after * 0.5
    resumed = find(LONG.data, LONG.prefix, jobs=2)
    assert resumed.nonce_index == long_answer.nonce_index
    assert resumed.resumed_candidates == second


def test_no_resume_starts_afresh_and_leaves_the_record_alone(state_dir: Path, long_answer: Match) -> None:
    interrupt(LONG, 2)
    path = record_path(LONG, state_dir)
    before = path.read_bytes()
    fresh = find(LONG.data, LONG.prefix, jobs=2, resume=False)
    assert fresh.nonce_index == long_answer.nonce_index
    assert fresh.resumed_candidates == 0
    assert fresh.candidates >= long_answer.nonce_index
    assert path.read_bytes() == before


def test_record_is_private_and_holds_no_content(state_dir: Path) -> None:
    secret = b"SECRET plaintext of a sealed message 0123456789"
    case = Case(secret + LONG.data, LONG.prefix, 1)  # at the first report after calibration
    interrupt(case, 2)
    [path] = list(state_dir.iterdir())
    text = path.read_bytes()
    content = Content.from_bytes(case.data)
    for leak in (b"SECRET", secret.hex().encode(), content.tail, content.tail.hex().encode()):
        assert leak not in text
    assert not any(str(word).encode() in text for word in content.state)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert sorted(json.loads(text)) == ["capacity", "format", "hit", "key", "searched", "version"]


def test_short_searches_never_touch_the_state_folder(state_dir: Path) -> None:
    find(b"hello\n", "ab", jobs=1)
    assert not state_dir.exists()


def write_record(case: Case, ranges: list[tuple[int, int]], hit: int) -> Path:
    """A record as a real run writes it (through ``Record.save``)."""
    content = Content.from_bytes(case.data)
    target = Target.from_prefix(case.prefix)
    layout = choose_layout(content.length, Alphabet.named("ws5"), target)
    record = Record(content, layout, target)
    coverage = Coverage(layout.capacity, tuple(ranges))
    coverage.hit = hit
    record.save(coverage)
    return record.path


def next_hit_after(case: Case, nonce: int) -> int:
    """The lowest hit above ``nonce`` (a valid hit that is not the answer)."""
    content = Content.from_bytes(case.data)
    target = Target.from_prefix(case.prefix)
    layout = choose_layout(content.length, Alphabet.named("ws5"), target)
    engine = available_engines()[0]
    from md5steg._engine import load_engine

    module = load_engine(engine)
    scanner = module.Scanner(content, layout, target, module.default_simd_path())
    start = nonce + 1
    while True:
        hit, _ = scanner.scan(start, start + 1_000_000)
        if hit >= 0:
            return int(hit)
        start += 1_000_000


def test_a_recorded_hit_is_rechecked_and_then_bounds_the_search(state_dir: Path, short_answer: Match) -> None:
    answer = short_answer.nonce_index
    write_record(SHORT, [(0, answer // 2)], answer)
    resumed = find(SHORT.data, SHORT.prefix, jobs=1)
    assert resumed.nonce_index == answer
    assert resumed.resumed_candidates == answer // 2
    assert not resumed.notices


def test_a_recorded_hit_that_is_not_the_lowest_still_gives_the_lowest(
    state_dir: Path, short_answer: Match
) -> None:
    later = next_hit_after(SHORT, short_answer.nonce_index)
    write_record(SHORT, [(0, 1000)], later)
    resumed = find(SHORT.data, SHORT.prefix, jobs=1)
    assert resumed.nonce_index == short_answer.nonce_index


def _mutations(answer: int) -> dict[str, object]:
    return {
        "not JSON": b"{not json",
        "not UTF-8": b"\xff\xfe{}",
        "a list": b"[]",
        "another search": {"key": "0" * 32},
        "another capacity": {"capacity": 12},
        "a missing field": {"hit": None, "_drop": "hit"},
        "an extra field": {"note": "x"},
        "a newer version": {"version": 2},
        "ranges out of order": {"searched": [[2000, 3000], [0, 1000]]},
        "overlapping ranges": {"searched": [[0, 2000], [1000, 3000]]},
        "a negative range": {"searched": [[-5, 1000]]},
        "an empty range": {"searched": [[10, 10]]},
        "a range past the end": {"searched": [[0, 10**30]]},
        "booleans for numbers": {"searched": [[False, True]]},
        "too many ranges": {"searched": [[2 * i, 2 * i + 1] for i in range(1000)]},
        "a hit that does not match": {"hit": answer - 1},
        "a hit inside a searched range": {"searched": [[0, answer + 1]], "hit": answer},
        "a float hit": {"hit": 1.5},
        "JSON nested too deep": b"[" * 8000,
    }


@pytest.mark.parametrize("damage", list(_mutations(0)))
def test_a_record_that_cannot_be_trusted_is_ignored_with_a_notice(
    damage: str, state_dir: Path, short_answer: Match
) -> None:
    answer = short_answer.nonce_index
    path = write_record(SHORT, [(0, answer - 100)], -1)
    change = _mutations(answer)[damage]
    if isinstance(change, bytes):
        path.write_bytes(change)
    else:
        record = json.loads(path.read_bytes())
        record.update({key: value for key, value in change.items() if key != "_drop"})
        if "_drop" in change:
            del record[str(change["_drop"])]
        path.write_text(json.dumps(record))
    resumed = find(SHORT.data, SHORT.prefix, jobs=1)
    assert resumed.nonce_index == answer
    assert resumed.resumed_candidates == 0
    assert resumed.candidates >= answer
    [notice] = resumed.notices
    assert notice.startswith(f"ignored the resume record {path}: ") and "searching from the start" in notice
    assert not path.exists(), "the finished search removes the untrusted record too"


def test_an_oversized_record_is_not_read_past_its_limit(state_dir: Path, short_answer: Match) -> None:
    path = write_record(SHORT, [(0, 1000)], -1)
    path.write_bytes(b" " * (MAX_RECORD_BYTES + 1) + b"{}")
    resumed = find(SHORT.data, SHORT.prefix, jobs=1)
    assert resumed.nonce_index == short_answer.nonce_index
    assert "longer than" in resumed.notices[0]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "directory"])
def test_a_record_that_is_not_a_regular_file_is_ignored(
    kind: str, state_dir: Path, tmp_path: Path, short_answer: Match
) -> None:
    path = write_record(SHORT, [(0, short_answer.nonce_index - 10)], -1)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(path.read_bytes())
    path.unlink()
    if kind == "symlink":
        path.symlink_to(elsewhere)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    resumed = find(SHORT.data, SHORT.prefix, jobs=1)
    assert resumed.nonce_index == short_answer.nonce_index
    assert resumed.resumed_candidates == 0
    assert resumed.notices[0].startswith("ignored the resume record")
    assert elsewhere.read_bytes() == json.dumps(json.loads(elsewhere.read_bytes())).encode()


def test_stale_records_are_removed_and_nothing_else(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o700)
    stale = state_dir / ("a" * 32 + ".json")
    fresh = state_dir / ("b" * 32 + ".json")
    other = state_dir / "notes.txt"
    for path in (stale, fresh, other):
        path.write_text("{}")
    old = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    interrupt(LONG, 2)  # writing a record sweeps the folder
    assert not stale.exists()
    assert fresh.exists() and other.exists()
    assert remove_stale_records(state_dir) == []


def test_an_unwritable_state_folder_never_replaces_the_interrupt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("MD5STEG_STATE_DIR", str(blocker / "state"))
    with pytest.raises(KeyboardInterrupt):  # not the OSError of the record that cannot be written
        find(LONG.data, LONG.prefix, jobs=1, progress=Interrupt(LONG.interrupt_after))
    assert blocker.read_text() == ""


class FailingBackend(Backend):
    """A backend that fails where it is told: ``open`` (a refusal) or ``wait`` (an error mid-search)."""

    name = "failing"
    slots = 1

    def __init__(self, fails_in: str) -> None:
        self.fails_in = fails_in

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], jobs: Optional[int]) -> FailingBackend:
        return cls("open")

    def open(self, job: SearchJob) -> None:
        if self.fails_in == "open":
            raise BackendError("no device matches this selector")

    def submit(self, start: int, stop: int) -> None:
        pass

    def wait(self, timeout: float) -> list[ChunkResult]:
        raise BackendError("the cluster went away")

    def close(self) -> None:
        pass


def test_a_search_its_backend_refuses_leaves_no_record(state_dir: Path) -> None:
    """Refused before the search proper (calibration only): nothing worth keeping for 30 days."""
    with pytest.raises(BackendError, match="no device"):
        find(LONG.data, LONG.prefix, backend=FailingBackend("open"))
    assert not record_path(LONG, state_dir).exists()


def test_a_search_its_backend_fails_during_keeps_its_record(state_dir: Path) -> None:
    """An error once ranges went out interrupted a search: what was searched is kept."""
    with pytest.raises(BackendError, match="went away"):
        find(LONG.data, LONG.prefix, backend=FailingBackend("wait"))
    assert searched_in(record_path(LONG, state_dir)) > 0


@pytest.mark.skipif(importlib.util.find_spec("pyopencl") is None, reason="needs pyopencl for its device list")
def test_cli_find_refused_for_an_unknown_opencl_device_leaves_no_record(
    cli_env: dict[str, str], state_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(LONG.data)
    command = [*MD5STEG, "find", str(source), "--prefix", LONG.prefix, "--opencl-device", "nonesuch"]
    refused = subprocess.run(command, env=cli_env, capture_output=True, timeout=120)
    assert refused.returncode in (1, 2) and b"Traceback" not in refused.stderr, refused.stderr
    assert source.read_bytes() == LONG.data
    assert not state_dir.exists() or os.listdir(state_dir) == []


def test_resuming_message_reads_at_a_glance() -> None:
    assert resuming_message(1_234_567_890, 4.3e9) == (
        "resuming: 1.2e9 of ~4.3e9 expected candidates already searched"
    )


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=30), st.integers(0, 260))
def test_coverage_skips_exactly_what_was_added(added: list[tuple[int, int]], start: int) -> None:
    capacity = 250
    coverage = Coverage(capacity)
    model: set[int] = set()
    for begin, length in added:
        stop = min(capacity, begin + length)
        coverage.add(begin, stop)
        model.update(range(begin, stop))
    assert coverage.searched == len(model)
    ranges = coverage.ranges
    assert all(a < b < c for (a, b), (c, _) in zip(ranges, ranges[1:]))
    gap = coverage.next_range(start, 7, capacity)
    free = [nonce for nonce in range(start, capacity) if nonce not in model]
    if not free:
        assert gap is None
    else:
        assert gap is not None and gap[0] == free[0]
        assert all(nonce not in model for nonce in range(*gap)) and gap[1] - gap[0] <= 7


# The command line, as a user runs it: a real process, real signals.

MD5STEG = [sys.executable, "-m", "md5steg"]


@pytest.fixture
def cli_env(state_dir: Path) -> Iterator[dict[str, str]]:
    env = dict(os.environ, MD5STEG_STATE_DIR=str(state_dir))
    src = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    yield env


def wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.skipif(not HAS_COMPILED, reason="the rerun needs the compiled core to finish in seconds")
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_find_resumes_after_a_signal(
    signal_number: int, cli_env: dict[str, str], state_dir: Path, tmp_path: Path, long_answer: Match
) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(LONG.data)
    command = [*MD5STEG, "find", str(source), "--prefix", LONG.prefix, "-o", str(tmp_path / "out.txt")]
    # The pure engine on one process is slow enough to be stopped mid-search, every time.
    slow = subprocess.Popen(
        [*command, "--engine", "python", "-j", "1"], env=cli_env, stderr=subprocess.PIPE
    )
    path = record_path(LONG, state_dir)
    wait_for(path)  # the first periodic record: the search is well under way
    slow.send_signal(signal_number)
    _, err = slow.communicate(timeout=60)
    assert slow.returncode == (130 if signal_number == signal.SIGINT else 143)
    searched = searched_in(path)
    assert searched > 0

    rerun = subprocess.run(command, env=cli_env, capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "out.txt").read_bytes() == LONG.data + long_answer.suffix
    assert rerun.stderr.decode().splitlines()[0].startswith("resuming: ")
    assert not path.exists()


def test_cli_no_resume_says_nothing_and_leaves_the_record(
    cli_env: dict[str, str], state_dir: Path, tmp_path: Path, short_answer: Match
) -> None:
    path = write_record(SHORT, [(0, short_answer.nonce_index // 2)], -1)
    before = path.read_bytes()
    source = tmp_path / "in.txt"
    source.write_bytes(SHORT.data)
    base = [*MD5STEG, "find", str(source), "--prefix", SHORT.prefix, "-j", "1", "-o", str(tmp_path / "out.txt")]
    fresh = subprocess.run([*base, "--no-resume"], env=cli_env, capture_output=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr
    assert b"resuming" not in fresh.stderr
    assert path.read_bytes() == before
    resumed = subprocess.run(base, env=cli_env, capture_output=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.decode().startswith("resuming: ")
    assert (tmp_path / "out.txt").read_bytes() == SHORT.data + short_answer.suffix


def test_cli_json_reports_the_candidates_an_earlier_run_searched(
    cli_env: dict[str, str], state_dir: Path, tmp_path: Path, short_answer: Match
) -> None:
    half = short_answer.nonce_index // 2
    write_record(SHORT, [(0, half)], -1)
    source = tmp_path / "in.txt"
    source.write_bytes(SHORT.data)
    command = [*MD5STEG, "find", str(source), "--prefix", SHORT.prefix, "-j", "1", "--json", "-o", str(tmp_path / "out.txt")]
    completed = subprocess.run(command, env=cli_env, capture_output=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert (report["resumed_candidates"], report["nonce_index"]) == (half, short_answer.nonce_index)
