"""The backend contract and registry: one class per backend, chosen by name, instance or option."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

import click
import pytest

from md5steg import BackendError, find
from md5steg.backends import BACKENDS, backend_class, backend_classes, selected_backend
from md5steg.backends.base import Backend, ChunkResult, SearchJob, scan_chunk
from md5steg.cli.options import search_options
from md5steg.cores import max_jobs
from md5steg.search import SearchOptions

DATA = b"backends under test\n"
PREFIX = "c0ff"  # its lowest hit lies past the first outer step, so a backend gets ranges


@pytest.fixture(autouse=True)
def calibrate_one_step_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calibration stops after its first outer step, so every search here reaches its backend."""
    from md5steg import coordinator

    monkeypatch.setattr(coordinator, "CALIBRATION_SECONDS", 0.0)


class InlineBackend(Backend):
    """A third-party backend in one class: scans each range at once in this thread."""

    name = "inline"

    def __init__(self, refuse: Optional[str] = None) -> None:
        self.slots = 3
        self.refuse = refuse
        self.job: Optional[SearchJob] = None
        self.results: list[ChunkResult] = []
        self.ranges: list[tuple[int, int]] = []
        self.closed = 0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], jobs: Optional[int]) -> InlineBackend:
        return cls()

    def unsupported_reason(self, job: SearchJob) -> Optional[str]:
        return self.refuse

    def open(self, job: SearchJob) -> None:
        self.job = job

    def submit(self, start: int, stop: int) -> None:
        assert self.job is not None
        self.ranges.append((start, stop))
        self.results.append(scan_chunk(self.job, start, stop))

    def wait(self, timeout: float) -> list[ChunkResult]:
        results, self.results = self.results, []
        return results

    def close(self) -> None:
        self.closed += 1

    def devices(self) -> list[str]:
        return ["the test's own thread"]


def test_registry_names_match_their_classes() -> None:
    for name in BACKENDS:
        assert backend_class(name).name == name


def test_unknown_backend_name_is_a_clear_error() -> None:
    with pytest.raises(BackendError, match="unknown backend 'nope'; choose one of pool"):
        find(DATA, "0", backend="nope")


def test_a_backend_instance_runs_the_search_and_is_closed(engine: str) -> None:
    backend = InlineBackend()
    match = find(DATA, PREFIX, engine=engine, backend=backend)
    assert hashlib.md5(DATA + match.suffix).hexdigest().startswith(PREFIX)
    assert match.backend == "inline" and match.devices == ("the test's own thread",)
    assert backend.ranges, "the search ended in calibration; use a longer prefix"
    assert match.nonce_index >= 625
    assert backend.closed >= 1
    assert match.suffix == find(DATA, PREFIX, engine=engine, jobs=1).suffix


def test_a_backend_that_cannot_run_the_job_falls_back_with_a_notice(engine: str) -> None:
    backend = InlineBackend(refuse="the inline backend dislikes this job")
    match = find(DATA, PREFIX, engine=engine, jobs=2, backend=backend)
    assert backend.ranges == []
    assert match.backend == "pool"
    assert match.notices == ("the inline backend dislikes this job; searching on this machine's cores instead",)
    assert hashlib.md5(DATA + match.suffix).hexdigest().startswith(PREFIX)


def test_the_pool_by_name_gives_the_same_answer_as_one_process(engine: str) -> None:
    pooled = find(DATA, PREFIX, engine=engine, jobs=2, backend="pool")
    assert pooled.backend == "pool" and pooled.jobs == 2
    assert pooled.suffix == find(DATA, PREFIX, engine=engine, jobs=1).suffix


def test_a_scheduler_with_opencl_options_is_dask_on_the_workers_devices() -> None:
    assert selected_backend({"scheduler": "tcp://127.0.0.1:8786", "gpu": True}) == "dask"
    assert selected_backend({"scheduler": "tcp://127.0.0.1:8786", "opencl_device": "cpu"}) == "dask"
    assert selected_backend({"gpu": True}) == "opencl"
    assert selected_backend({"scheduler": "tcp://127.0.0.1:8786"}) == "dask"


def test_no_backend_option_selects_nothing() -> None:
    assert selected_backend({}) is None
    assert selected_backend({"scheduler": None}) is None


def test_jobs_beyond_the_cap_are_refused() -> None:
    with pytest.raises(ValueError, match=f"between 1 and {max_jobs()}"):
        find(DATA, "0", jobs=max_jobs() + 1)


def test_cli_refuses_ten_thousand_jobs_with_a_usage_error(tmp_path: Any) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(DATA)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("md5steg")), "find", "--prefix", "00", "-j", "10000", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "10000 is not in the range 1<=x<=" in result.stderr
    assert path.read_bytes() == DATA


def test_search_options_hand_the_command_one_settings_object() -> None:
    seen: list[SearchOptions] = []

    @click.command()
    @search_options
    def command(search: SearchOptions) -> None:
        seen.append(search)

    flags = [option.flag for cls in backend_classes() for option in cls.options]
    assert "--scheduler" in flags
    command.main(["-j", "1", "--engine", "python", "--scheduler", "tcp://127.0.0.1:1"], standalone_mode=False)
    (search,) = seen
    assert (search.jobs, search.engine, search.simd, search.backend) == (1, "python", None, None)
    assert search.backend_options["scheduler"] == "tcp://127.0.0.1:1"


def _never_hitting_job(engine: str) -> SearchJob:
    from md5steg._engine import load_engine, resolve_simd
    from md5steg.alphabets import resolve_alphabet
    from md5steg.layout import choose_layout
    from md5steg.target import Target

    target = Target.from_prefix("0" * 20)
    layout = choose_layout(len(DATA), resolve_alphabet("ws5"), target)
    module = load_engine(engine)
    return SearchJob(DATA, layout, target, module.ENGINE_NAME, resolve_simd(module, None))


def test_a_pool_worker_killed_mid_scan_is_a_backend_error(engine: str) -> None:
    import os
    import signal
    import time

    from md5steg.backends.pool import ProcessPoolBackend

    pool = ProcessPoolBackend(2)
    try:
        pool.open(_never_hitting_job(engine))
        pool.submit(0, 10**12)  # minutes of work: still running when the worker is killed
        time.sleep(0.2)
        victim = pool._workers[0].pid
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(BackendError, match=rf"worker \(pid {victim}\) died unexpectedly \(exit code -9\)"):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                pool.wait(0.5)
    finally:
        pool.close()


def test_a_pool_worker_that_cannot_scan_reports_why() -> None:
    from dataclasses import replace

    from md5steg.backends.pool import ProcessPoolBackend

    pool = ProcessPoolBackend(2)
    try:
        pool.open(replace(_never_hitting_job("python"), engine="no-such-engine"))
        pool.submit(0, 625)
        with pytest.raises(BackendError, match="a search worker failed: EngineError: unknown engine 'no-such-engine'"):
            for _ in range(60):
                pool.wait(0.5)
    finally:
        pool.close()


def test_cpu_forces_the_cpu_over_opencl_options_and_the_environment(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(b"a record to resume from, take 7\n")  # its 6-hex hit lies past calibration
    md5steg = str(Path(sys.executable).with_name("md5steg"))
    command = [md5steg, "find", "--prefix", "000000", "--json", "-q", "-j", "2", "-o", str(tmp_path / "out.txt")]
    env = {**os.environ, "MD5STEG_OPENCL_DEVICE": "cpu"}  # an OpenCL device from the environment
    done = subprocess.run([*command, "--cpu", "--gpu", str(page)], capture_output=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert b'"backend": "pool"' in done.stdout
    refused = subprocess.run([*command, "--cpu", "--backend", "opencl", str(page)], capture_output=True, timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.decode().count("\n") == 1 and "--cpu contradicts --backend opencl" in refused.stderr.decode()
