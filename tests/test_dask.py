"""The Dask backend against real `dask scheduler` / `dask worker` processes on 127.0.0.1.

A search on the cluster must give the local pool's answer, survive a worker
dying, and fail with one clear line when the cluster cannot run it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers run this file's helpers

from md5steg import (  # noqa: E402
    BackendError,
    Progress,
    find,
)
from md5steg._engine import available_engines, load_engine, resolve_simd  # noqa: E402
from md5steg.alphabets import resolve_alphabet  # noqa: E402
from md5steg.backends import dask as dask_backend  # noqa: E402
from md5steg.backends.base import Backend, ChunkResult, SearchJob  # noqa: E402
from md5steg.backends.dask import DaskBackend  # noqa: E402
from md5steg.backends.pool import ProcessPoolBackend  # noqa: E402
from md5steg.layout import choose_layout  # noqa: E402
from md5steg.search import make_target, scan_ranges  # noqa: E402

DASK = str(Path(sys.executable).with_name("dask"))
MD5STEG = [str(Path(sys.executable).with_name("md5steg"))]
START_TIMEOUT = 60.0
HAS_COMPILED = "cython" in available_engines()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A scheduler and its workers, each in its own process group so a kill takes the nanny too."""

    def __init__(self, workers: int) -> None:
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.scheduler = self._spawn(
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                self.address.rsplit(":", 1)[1],
                "--no-dashboard",
            ]
        )
        self.workers: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(workers):
                self.add_worker()
            self.wait_for_workers(workers)
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _spawn(command: list[str], env: Optional[dict[str, str]] = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=None if env is None else {**os.environ, **env},
        )

    def add_worker(self, env: Optional[dict[str, str]] = None) -> None:
        command = [
            DASK,
            "worker",
            self.address,
            "--host",
            "127.0.0.1",
            "--nthreads",
            "1",
            "--no-dashboard",
        ]
        self.workers.append(self._spawn(command, env))

    def client(self) -> distributed.Client:
        return distributed.Client(self.address, timeout=START_TIMEOUT, set_as_default=False)

    def wait_for_workers(self, count: int) -> None:
        with self.client() as client:
            client.wait_for_workers(count, timeout=START_TIMEOUT)

    def worker_addresses(self) -> list[str]:
        with self.client() as client:
            return sorted(client.nthreads())

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            self.kill(process)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Two one-thread workers shared by the tests that leave the cluster as they found it."""
    running = Cluster(workers=2)
    yield running
    running.stop()


@pytest.fixture
def disposable_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A cluster of its own, for tests that kill workers."""
    running = Cluster(workers=getattr(request, "param", 2))
    yield running
    running.stop()


def _job(
    data: bytes, prefix: str, engine: Optional[str] = None, alphabet: str = "ws5"
) -> SearchJob:
    target = make_target(prefix, None)
    layout = choose_layout(len(data), resolve_alphabet(alphabet), target)
    module = load_engine(engine)
    return SearchJob(data, layout, target, module.ENGINE_NAME, resolve_simd(module, None))


def _scan(backend: Backend, job: SearchJob, chunk: int) -> tuple[int, int]:
    """(lowest hit, candidates) of the coordinator's loop over ``backend`` from nonce 0."""
    try:
        backend.open(job)
        return scan_ranges(backend, job, 0, lambda: chunk, 0, lambda candidates: None)
    finally:
        backend.close()


@pytest.mark.parametrize(
    "data, prefix, engine, alphabet, fast_steps_per_chunk",
    [
        (b"hello world\n", "c0ff", None, "ws5", 4),
        (bytes(range(256)) * 3, "beef", None, "ws5", 1),
        (b"", "a1b", None, "ws2", 3),
        (b"x" * 1000, "5ca1", "python", "ws5", 2),
        (b"early", "00", None, "ws5", 1),
    ],
    ids=["hello-c0ff", "768-bytes-beef", "empty-ws2", "python-engine", "hit-in-first-task"],
)
def test_cluster_scans_give_the_local_pools_lowest_hit(
    cluster: Cluster,
    data: bytes,
    prefix: str,
    engine: Optional[str],
    alphabet: str,
    fast_steps_per_chunk: int,
) -> None:
    job = _job(data, prefix, engine, alphabet)
    # Small ranges: many tasks, so hits land in a task after others have run.
    chunk = fast_steps_per_chunk * job.layout.fast_size
    on_cluster = _scan(DaskBackend(cluster.address), job, chunk)
    local = _scan(ProcessPoolBackend(2), job, chunk)
    assert on_cluster[0] == local[0] >= 0


def test_each_reported_chunk_is_what_a_local_scan_of_it_gives(cluster: Cluster) -> None:
    job = _job(b"cut", "abcd")  # the hit lies many ranges in
    backend = DaskBackend(cluster.address)
    reported: list[ChunkResult] = []
    wait = backend.wait

    def recording_wait(timeout: float) -> list[ChunkResult]:
        results = wait(timeout)
        reported.extend(results)
        return results

    backend.wait = recording_wait  # type: ignore[method-assign]
    hit, _ = _scan(backend, job, job.layout.fast_size)
    assert hit >= 0 and any(result.hit == hit for result in reported)
    scanner = job.scanner()
    for result in reported:
        assert (result.hit, result.tried) == scanner.scan(result.start, result.stop), result


def test_find_with_scheduler_gives_the_local_suffix(cluster: Cluster) -> None:
    data = b"hello world\n"
    local = find(
        data, "facade", jobs=2, simd="scalar"
    )  # scalar: the answer is past calibration's reach
    on_cluster = find(data, "facade", scheduler=cluster.address, simd="scalar")
    assert (on_cluster.suffix, on_cluster.nonce_index, on_cluster.md5) == (
        local.suffix,
        local.nonce_index,
        local.md5,
    )
    assert on_cluster.jobs == 2


def test_cli_find_with_scheduler_writes_the_local_result(cluster: Cluster, tmp_path: Path) -> None:
    source = tmp_path / "note.txt"
    source.write_bytes(b"hello world\n")
    outputs = {}
    for name, extra in [("local", ["-j", "2"]), ("cluster", ["--scheduler", cluster.address])]:
        output = tmp_path / f"{name}.txt"
        completed = subprocess.run(
            [
                *MD5STEG,
                "find",
                str(source),
                "--prefix",
                "decade",
                "--simd",
                "scalar",
                "-q",
                "-o",
                str(output),
                *extra,
            ],
            capture_output=True,
            timeout=120,
        )
        assert completed.returncode == 0, completed.stderr.decode()
        outputs[name] = output.read_bytes()
    assert outputs["cluster"] == outputs["local"]
    assert source.read_bytes() == b"hello world\n"


def test_unreachable_scheduler_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    source = tmp_path / "note.txt"
    source.write_bytes(b"hello world\n")
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    completed = subprocess.run(
        [*MD5STEG, "find", str(source), "--prefix", "abcdef", "-q", "--scheduler", address],
        capture_output=True,
        timeout=120,
    )
    assert completed.returncode == 1
    message = completed.stderr.decode().strip()
    assert message.startswith(f"Error: cannot reach the Dask scheduler at {address} within 10 s")
    assert "check that `dask scheduler` runs there" in message
    assert len(message.splitlines()) == 1
    assert source.read_bytes() == b"hello world\n"


def test_unreachable_scheduler_raises_backend_error_within_the_connect_timeout() -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(BackendError, match=r"cannot reach the Dask scheduler at .* within 1 s"):
        DaskBackend(address, connect_timeout=1)


def test_malformed_scheduler_address_is_refused_at_once() -> None:
    with pytest.raises(BackendError, match="'tcp://nohost' is not a Dask scheduler address"):
        DaskBackend("tcp://nohost", connect_timeout=60)


def test_worker_that_cannot_run_md5steg_is_named(cluster: Cluster) -> None:
    victim = cluster.worker_addresses()[0]
    with cluster.client() as client:
        client.run(_break_worker_facts, workers=[victim])
        try:
            backend = DaskBackend(cluster.address)
            try:
                with pytest.raises(
                    BackendError,
                    match=f"cannot run md5steg on worker {victim} .ImportError: no md5steg here.",
                ):
                    backend.open(_job(b"data", "abcdef"))
            finally:
                backend.close()
        finally:
            client.run(_repair_worker_facts, workers=[victim])


def test_worker_with_another_version_is_refused_by_name(cluster: Cluster) -> None:
    victim = cluster.worker_addresses()[0]
    with cluster.client() as client:
        client.run(_set_version, "0.0.0+fake", workers=[victim])
        try:
            backend = DaskBackend(cluster.address)
            try:
                with pytest.raises(BackendError) as caught:
                    backend.open(_job(b"data", "abcdef"))
            finally:
                backend.close()
        finally:
            client.run(_restore_version, workers=[victim])
    message = str(caught.value)
    assert f"{victim} has 0.0.0+fake" in message
    assert "md5steg versions differ" in message


def test_worker_changing_version_mid_search_fails_its_task(cluster: Cluster) -> None:
    victim = cluster.worker_addresses()[0]
    job = _job(b"data", "0123456789ab")  # never hits: every task runs to its end
    backend = DaskBackend(cluster.address)
    with cluster.client() as client:
        try:
            backend.open(job)
            client.run(_set_version, "0.0.0+fake", workers=[victim])
            for index in range(8):
                backend.submit(index * job.layout.fast_size, (index + 1) * job.layout.fast_size)
            with pytest.raises(BackendError, match="joined with another md5steg version"):
                _wait_until_error(backend)
        finally:
            backend.close()
            client.run(_restore_version, workers=[victim])


@pytest.mark.skipif(not HAS_COMPILED, reason="the compiled core is not built here")
def test_worker_without_the_compiled_engine_is_refused_by_name(cluster: Cluster) -> None:
    victim = cluster.worker_addresses()[1]
    with cluster.client() as client:
        client.run(_set_environment, "MD5STEG_NO_EXTENSIONS", "1", workers=[victim])
        try:
            backend = DaskBackend(cluster.address)
            try:
                with pytest.raises(
                    BackendError, match=f"cython engine is missing on worker\\(s\\) {victim};"
                ):
                    backend.open(_job(b"data", "abcdef", engine="cython"))
            finally:
                backend.close()
        finally:
            client.run(_set_environment, "MD5STEG_NO_EXTENSIONS", None, workers=[victim])


def test_close_cancels_the_searchs_tasks_on_the_cluster(cluster: Cluster) -> None:
    job = _job(b"data", "0123456789ab")
    size = 50 * job.layout.fast_size
    backend = DaskBackend(cluster.address)
    backend.open(job)
    for index in range(20):
        backend.submit(index * size, (index + 1) * size)
    backend.close()
    backend.close()  # idempotent
    with cluster.client() as client:
        deadline = time.monotonic() + 30
        while _scan_tasks_on_scheduler(client) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _scan_tasks_on_scheduler(client) == []


def test_search_survives_workers_killed_midway(disposable_cluster: Cluster) -> None:
    data = bytes(range(256)) * 3
    # The scalar path keeps this search a few seconds long even where SIMD is fast.
    local = find(data, "c0ffee", jobs=2, simd="scalar")
    first, second = disposable_cluster.workers
    reports: list[int] = []

    def kill_workers_while_scanning(progress: Progress) -> None:
        reports.append(progress.candidates)
        if len(reports) == 2:  # the cluster's first results are in: both workers are busy
            Cluster.kill(first)
        elif len(reports) == 3:  # then lose every copy of the job, and bring up a fresh worker
            Cluster.kill(second)
            disposable_cluster.add_worker()

    on_cluster = find(
        data,
        "c0ffee",
        scheduler=disposable_cluster.address,
        simd="scalar",
        progress=kill_workers_while_scanning,
    )
    assert len(reports) > 3 and first.poll() is not None and second.poll() is not None
    assert (on_cluster.suffix, on_cluster.nonce_index) == (local.suffix, local.nonce_index)


@pytest.mark.parametrize("disposable_cluster", [1], indirect=True)
def test_search_gives_up_when_the_last_worker_is_gone(disposable_cluster: Cluster) -> None:
    job = _job(b"data", "0123456789ab")
    backend = DaskBackend(disposable_cluster.address, no_workers_timeout=1)
    try:
        backend.open(job)
        backend.submit(0, 10**9)  # minutes of work: only the worker's death ends it
        Cluster.kill(disposable_cluster.workers[0])
        with pytest.raises(
            BackendError, match="has had no worker for 1 s; start some with `dask worker"
        ):
            _wait_until_error(backend)
    finally:
        backend.close()
    with pytest.raises(
        BackendError, match="has no workers after 1 s; start some with `dask worker"
    ):
        DaskBackend(disposable_cluster.address, connect_timeout=1)


def test_worker_threads_scan_with_their_own_scanner() -> None:
    job = _job(b"threads", "a")  # a hit every ~16 candidates: a shared buffer would misplace them
    ranges = [(start, start + 997) for start in range(0, 200 * 997, 997)]
    expected = [
        dask_backend._scan_on_worker(job, start, stop, dask_backend._version.__version__)
        for start, stop in ranges
    ]
    results: dict[int, object] = {}

    def scan_all(offset: int) -> None:
        for index in range(offset, len(ranges), 4):
            start, stop = ranges[index]
            results[index] = dask_backend._scan_on_worker(
                job, start, stop, dask_backend._version.__version__
            )

    threads = [threading.Thread(target=scan_all, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[index][0] for index in range(len(ranges))] == [result for result, _ in expected]


def test_local_search_does_not_import_dask() -> None:
    code = "import sys, md5steg; md5steg.find(b'x', 'ab'); print('distributed' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert completed.stdout.strip() == "False", completed.stderr


def _set_version(version: str) -> None:
    from md5steg import _version

    real = getattr(_version, "real_version", _version.__version__)
    _version.real_version = real  # type: ignore[attr-defined]
    _version.__version__ = version


def _break_worker_facts() -> None:
    from md5steg.backends import dask as dask_backend

    def fail() -> None:
        raise ImportError("no md5steg here")

    dask_backend.real_worker_facts = dask_backend._worker_facts  # type: ignore[attr-defined]
    dask_backend._worker_facts = fail  # type: ignore[assignment]


def _repair_worker_facts() -> None:
    from md5steg.backends import dask as dask_backend

    dask_backend._worker_facts = dask_backend.real_worker_facts  # type: ignore[attr-defined]


def _set_environment(name: str, value: Optional[str]) -> None:
    import os

    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _restore_version() -> None:
    from md5steg import _version

    _version.__version__ = _version.real_version  # type: ignore[attr-defined]


def _wait_until_error(backend: DaskBackend) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        backend.wait(0.1)
    pytest.fail("no BackendError within 60 s")


def _scan_tasks_on_scheduler(client: distributed.Client) -> list[str]:
    def scan_keys(dask_scheduler: Any) -> list[str]:
        return [str(key) for key in dask_scheduler.tasks if str(key).startswith("md5steg-scan-")]

    return list(client.run_on_scheduler(scan_keys))


# Resume and OpenCL workers.

LONG_DATA, LONG_PREFIX, INTERRUPT_AFTER = (
    (b"an interrupted search, take 1\n", "0000000", 60_000_000)  # lowest hit 314,704,562
    if HAS_COMPILED
    # Lowest hit 5,840,107: past what the cluster's tasks in flight can finish after the interrupt,
    # so the rerun still has work for the cluster (at 2,027,725 it could end in calibration).
    else (b"an interrupted search, take 88\n", "00000", 400_000)
)


def test_interrupted_search_on_the_cluster_resumes_with_the_same_answer(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MD5STEG_STATE_DIR", str(tmp_path))
    uninterrupted = find(LONG_DATA, LONG_PREFIX, jobs=2, resume=False)

    def ctrl_c(progress: Progress) -> None:
        if progress.candidates >= INTERRUPT_AFTER:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        find(LONG_DATA, LONG_PREFIX, scheduler=cluster.address, progress=ctrl_c)
    [record] = list(tmp_path.iterdir())
    searched = sum(stop - start for start, stop in json.loads(record.read_bytes())["searched"])
    assert searched >= INTERRUPT_AFTER

    resumed = find(LONG_DATA, LONG_PREFIX, scheduler=cluster.address)
    assert (resumed.nonce_index, resumed.suffix) == (uninterrupted.nonce_index, uninterrupted.suffix)
    assert resumed.backend == "dask" and resumed.resumed_candidates == searched
    # Cluster tasks are large (TASK_SECONDS each), so chunks finished above the hit can add a
    # few tasks' worth on a loaded machine; searching again from 0 would add all of `searched`.
    assert resumed.candidates + searched <= uninterrupted.candidates * 2
    assert not record.exists()


@pytest.fixture(scope="module")
def opencl_cpu() -> str:
    """pocl's CPU device, which the workers (same machine) have too; skips without it."""
    pytest.importorskip("pyopencl")
    from md5steg.backends.opencl_devices import OpenCLUnavailableError, select_devices

    try:
        select_devices("cpu")
    except OpenCLUnavailableError as exc:
        pytest.skip(f"no OpenCL CPU device (pocl): {exc}")
    return "cpu"


def test_workers_search_on_their_own_opencl_devices_with_the_local_answer(
    cluster: Cluster, opencl_cpu: str
) -> None:
    data = b"a page for the GPU\n"
    local = find(data, "c0ffee", jobs=2, resume=False)
    on_devices = find(data, "c0ffee", scheduler=cluster.address, opencl_device=opencl_cpu, resume=False)
    assert (on_devices.nonce_index, on_devices.suffix) == (local.nonce_index, local.suffix)
    assert on_devices.backend == "dask"
    assert on_devices.devices == (f"Dask cluster at {cluster.address} (2 OpenCL device(s) on 2 worker(s))",)
    assert on_devices.notices == ()


@pytest.mark.parametrize("disposable_cluster", [1], indirect=True)
def test_workers_without_a_matching_device_are_named_in_one_line(
    disposable_cluster: Cluster, opencl_cpu: str, tmp_path: Path
) -> None:
    before = set(disposable_cluster.worker_addresses())
    disposable_cluster.add_worker(env={"OCL_ICD_VENDORS": str(tmp_path)})  # no OpenCL driver there
    disposable_cluster.wait_for_workers(2)
    [blind] = set(disposable_cluster.worker_addresses()) - before
    data = b"a page for the GPU\n"
    local = find(data, "c0ffee", jobs=2, resume=False)
    on_devices = find(data, "c0ffee", scheduler=disposable_cluster.address, opencl_device=opencl_cpu, resume=False)
    assert on_devices.nonce_index == local.nonce_index
    assert on_devices.notices == (
        f"1 worker(s) of {disposable_cluster.address} have no OpenCL device matching 'cpu' "
        f"and get no tasks: {blind}",
    )

    with pytest.raises(BackendError, match="no worker of .* has an OpenCL device matching 'no-such-device'"):
        find(data, "c0ffee", scheduler=disposable_cluster.address, opencl_device="no-such-device")


@pytest.mark.skipif(not HAS_COMPILED, reason="the CPU's uninterrupted run takes minutes in pure Python")
def test_interrupted_search_on_the_workers_devices_resumes_with_the_same_answer(
    cluster: Cluster, opencl_cpu: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MD5STEG_STATE_DIR", str(tmp_path))
    data, prefix = b"a record to resume from, take 7\n", "000000"  # lowest hit: 35,084,954
    uninterrupted = find(data, prefix, jobs=2, resume=False)
    on_devices = {"scheduler": cluster.address, "opencl_device": opencl_cpu}

    def ctrl_c(progress: Progress) -> None:
        if progress.candidates >= uninterrupted.nonce_index // 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        find(data, prefix, progress=ctrl_c, **on_devices)
    [record] = list(tmp_path.iterdir())
    searched = sum(stop - start for start, stop in json.loads(record.read_bytes())["searched"])
    assert searched >= uninterrupted.nonce_index // 3

    resumed = find(data, prefix, **on_devices)
    assert (resumed.nonce_index, resumed.suffix) == (uninterrupted.nonce_index, uninterrupted.suffix)
    assert resumed.backend == "dask" and resumed.resumed_candidates == searched
    assert not record.exists()
