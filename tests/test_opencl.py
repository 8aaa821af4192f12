"""The OpenCL backend: the real kernel, run on pocl's CPU device (or a GPU), against the CPU.

The GPU must return exactly the CPU's answer, the lowest matching nonce index, for every
content length (every fast-word position, with and without varying digits in the block
before the final one), targets in every digest word, alphabets of one-byte symbols and any
range [start, stop), including ranges where a carry rewrites an earlier block.
``MD5STEG_TEST_OPENCL_DEVICE`` picks the device (default ``cpu``: pocl); the tests skip where
pyopencl or such a device is missing. Kernels are compiled once per shape and reused.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from md5steg._engine import available_engines, load_engine
from md5steg.alphabets import Alphabet
from md5steg.backends import opencl_plan
from md5steg.backends.base import SearchJob
from md5steg.layout import Layout, choose_layout
from md5steg.target import Target

SELECTOR = os.environ.get("MD5STEG_TEST_OPENCL_DEVICE", "cpu")
WS5 = Alphabet.named("ws5")
COUNTS: dict[str, int] = {}
"""Candidates compared per kind of test, printed when the module ends (``-s`` shows them)."""


@pytest.fixture(scope="module", autouse=True)
def print_counts() -> Iterator[None]:
    yield
    for name, count in sorted(COUNTS.items()):
        print(f"opencl differential: {name}: {count} candidates")


@pytest.fixture(scope="session")
def selector() -> str:
    """The device selector for the tests; skips when pyopencl or the device is missing."""
    pytest.importorskip("pyopencl")
    from md5steg.backends.opencl_devices import OpenCLUnavailableError, select_devices

    try:
        select_devices(SELECTOR)
    except OpenCLUnavailableError as exc:
        pytest.skip(f"no OpenCL device for {SELECTOR!r}: {exc}")
    return SELECTOR


def make_job(content: bytes, layout: Layout, target: Target) -> SearchJob:
    engine = load_engine(available_engines()[0])
    return SearchJob(content, layout, target, engine.ENGINE_NAME, engine.default_simd_path())


def gpu_chunks(
    selector: str, job: SearchJob, ranges: list[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """The lowest hit the backend reports for each range (all submitted at once)."""
    from md5steg.backends.opencl import OpenCLBackend

    backend = OpenCLBackend(selector)
    try:
        backend.open(job)
        for start, stop in ranges:
            backend.submit(start, stop)
        found: dict[tuple[int, int], int] = {}
        while len(found) < len(ranges):
            for result in backend.wait(5.0):
                found[(result.start, result.stop)] = result.hit
                assert result.tried == (
                    result.hit - result.start + 1 if result.hit >= 0 else result.stop - result.start
                )
        return found
    finally:
        backend.close()


def cpu_hit(job: SearchJob, start: int, stop: int) -> int:
    return int(job.scanner().scan(start, stop)[0])


def assert_same_as_cpu(
    selector: str, job: SearchJob, ranges: list[tuple[int, int]], counter: str
) -> None:
    found = gpu_chunks(selector, job, ranges)
    for start, stop in ranges:
        expected = cpu_hit(job, start, stop)
        assert found[(start, stop)] == expected, (job.layout, job.target, start, stop)
        if expected >= 0:
            digest = job.content.md5_with(job.layout.suffix(expected))
            assert job.target.matches(digest)
        COUNTS[counter] = COUNTS.get(counter, 0) + stop - start


@pytest.mark.parametrize("prefix", ["ab", "c0f"])
def test_every_content_length_0_to_300_gives_the_lowest_hit_like_hashlib(
    selector: str, prefix: str
) -> None:
    target = Target.from_prefix(prefix)
    for length in range(301):
        content = bytes((7 * i + length) % 251 for i in range(length))
        layout = choose_layout(length, WS5, target)
        job = make_job(content, layout, target)
        stop = 4 * target.expected_candidates + 17
        odd = (length % 97 + 1, stop + 1000)
        found = gpu_chunks(selector, job, [(0, stop), odd])
        assert found[odd] == cpu_hit(job, *odd), (length, layout)
        if len(prefix) <= 2:  # hashlib brute force: no lower index matches
            lowest = next(
                (
                    n
                    for n in range(stop)
                    if target.matches(hashlib.md5(content + layout.suffix(n)).hexdigest())
                ),
                -1,
            )
            assert found[(0, stop)] == lowest, (length, layout)
            COUNTS["lengths 0..300, hashlib brute force"] = (
                COUNTS.get("lengths 0..300, hashlib brute force", 0) + stop
            )
        else:
            assert found[(0, stop)] == cpu_hit(job, 0, stop), (length, layout)
        COUNTS["lengths 0..300, CPU engine"] = (
            COUNTS.get("lengths 0..300, CPU engine", 0) + 2 * stop + 1000 - odd[0]
        )


def long_layouts() -> Iterator[tuple[int, Layout]]:
    """40-digit ws5 layouts (what 8-hex searches use) at every fast-word position."""
    for word in range(13):
        for content_length in (4 * (word + 1) - 40 + 64, 4 * (word + 1) - 40 + 128 + 64):
            if content_length >= 0:
                yield content_length, Layout(WS5, content_length, 40, 4, True)


@pytest.mark.parametrize(
    "content_length,layout",
    list(long_layouts()),
    ids=lambda v: str(v) if isinstance(v, int) else f"word={v.fast_word_index}",
)
def test_carries_across_launch_groups_and_earlier_blocks(
    selector: str, content_length: int, layout: Layout
) -> None:
    content = bytes(range(256))[:content_length] if content_length <= 256 else b"z" * content_length
    target = Target.from_prefix("a")
    job = make_job(content, layout, target)
    period = WS5.base ** opencl_plan.vary_digits_for(WS5.base) * layout.fast_size
    ranges = []
    for boundary in (
        period,
        7 * period * 5**3,
        5**22 * layout.fast_size,
        layout.capacity - 3 * period,
    ):
        start = boundary - 40 - boundary % 7
        ranges += [(start + 37 * k, start + 37 * (k + 1)) for k in range(6)]
    assert_same_as_cpu(selector, job, ranges, "40-digit layouts, carries")


@pytest.mark.parametrize(
    "pattern",
    [
        "________a",
        "________________ab",
        "________________________abc",
        "a______________________________b",
        "_b__c",
    ],
)
def test_targets_in_every_digest_word(selector: str, pattern: str) -> None:
    target = Target.from_pattern(pattern)
    for length in (21, 150):
        content = b"p" * length
        layout = choose_layout(length, WS5, target)
        job = make_job(content, layout, target)
        stop = 3 * target.expected_candidates
        assert_same_as_cpu(selector, job, [(0, stop), (11, stop // 2 + 5)], "patterns in words B-D")


@pytest.mark.parametrize("alphabet", ["ws2", "hex", "printable"])
def test_other_one_byte_alphabets(selector: str, alphabet: str) -> None:
    target = Target.from_prefix("5a")
    for length in (3, 70):
        content = b"q" * length
        layout = choose_layout(length, Alphabet.named(alphabet), target)
        job = make_job(content, layout, target)
        assert_same_as_cpu(
            selector, job, [(0, 3000), (5, 20001), (99, 4096 * 3 + 1)], f"alphabet {alphabet}"
        )


@settings(max_examples=25)
@given(
    start=st.integers(0, 2**63 - 6000),
    size=st.integers(1, 5000),
    pattern=st.sampled_from(["7", "e1", "__3"]),
)
def test_random_ranges_match_the_cpu(selector: str, start: int, size: int, pattern: str) -> None:
    layout = Layout(WS5, 200, 40, 4, True)
    job = make_job(b"h" * 200, layout, Target.from_pattern(pattern))
    assert_same_as_cpu(selector, job, [(start, start + size)], "random ranges (hypothesis)")


def test_lowest_hit_wins_across_launches_and_two_devices(selector: str) -> None:
    """Two copies of the device (two contexts, two threads) share in-order chunks of many launches."""
    target = Target.from_prefix("9")
    layout = Layout(WS5, 100, 40, 4, True)
    job = make_job(b"m" * 100, layout, target)
    from md5steg.backends.opencl import OpenCLBackend

    backend = OpenCLBackend(f"{selector},{selector}")
    assert backend.slots == 2
    backend.close()
    ranges = [(start, start + 4000) for start in range(10**6, 10**6 + 40 * 4000, 4000)]
    assert_same_as_cpu(f"{selector},{selector}", job, ranges, "two devices")
    big = (0, 3_000_000)
    plan = opencl_plan.KernelPlan(layout, target, opencl_plan.content_midstate(job.content))
    assert len(list(plan.launches(*big, 200_000))) > 10
    assert_same_as_cpu(selector, job, [big], "one chunk, many launches")


def test_launches_cover_the_range_in_order_within_groups() -> None:
    layout = Layout(WS5, 100, 40, 4, True)
    plan = opencl_plan.KernelPlan(
        layout, Target.from_prefix("0"), opencl_plan.content_midstate(b"m" * 100)
    )
    start, stop = plan.vary_period * 625 - 7000 + 3, plan.vary_period * 625 + 5000 - 1
    launches = list(plan.launches(start, stop, 3 * 625))
    covered = [
        (
            launch.outer * 625 + launch.first_j,
            (launch.outer + launch.items - 1) * 625 + launch.last_j,
        )
        for launch in launches
    ]
    assert covered[0][0] == start and covered[-1][1] == stop
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))
    assert all(
        launch.outer // plan.vary_period == (launch.outer + launch.items - 1) // plan.vary_period
        for launch in launches
    )
    assert all(launch.items * 625 <= 3 * 625 for launch in launches)


def test_multibyte_alphabet_is_unsupported_with_a_reason() -> None:
    target = Target.from_prefix("ab")
    layout = choose_layout(10, Alphabet.named("zw"), target)
    reason = opencl_plan.unsupported_reason(layout)
    assert reason is not None and "one-byte" in reason and "\n" not in reason
    assert opencl_plan.unsupported_reason(choose_layout(10, WS5, target)) is None


def test_selectors_pick_devices_by_kind_index_and_name(selector: str) -> None:
    from md5steg.backends.opencl_devices import OpenCLUnavailableError, list_devices, select_devices

    devices = list_devices()
    first = devices[0]
    assert [info for info, _ in select_devices("all")] == devices
    assert [info for info, _ in select_devices("0")] == [first]
    assert [info for info, _ in select_devices("0,0")] == [first, first]
    assert first in [info for info, _ in select_devices(first.kind)]
    assert first in [info for info, _ in select_devices(first.name[:6].upper())]
    assert first in [info for info, _ in select_devices(first.platform[-5:].lower())]
    for bad in ("no-such-device-xyz", str(len(devices)), " , "):
        with pytest.raises(OpenCLUnavailableError) as caught:
            select_devices(bad)
        assert "\n" not in str(caught.value)


def test_find_runs_on_the_device_names_it_and_gives_the_cpu_answer(selector: str) -> None:
    from md5steg import find
    from md5steg.backends.opencl import OpenCLBackend

    # Its lowest c0ffee nonce is 44,908,099: far past what calibration scans in this process
    # (~0.02 s), so the device does the search however idle the machine is.
    data = b"a page for the GPU 1\n"
    match = find(data, "c0ffee", opencl_device=selector)
    assert match.backend == "opencl" and match.devices == tuple(OpenCLBackend(selector).devices())
    assert hashlib.md5(match.apply(data)).hexdigest().startswith("c0ffee")
    target = Target.from_prefix("c0ffee")
    job = make_job(data, choose_layout(len(data), WS5, target), target)
    assert cpu_hit(job, 0, match.nonce_index + 1) == match.nonce_index


@pytest.mark.skipif(
    "cython" not in available_engines(), reason="the pure engine takes minutes for this fallback"
)
def test_multibyte_alphabet_falls_back_to_the_cpu_with_a_notice(selector: str) -> None:
    from md5steg import find
    from md5steg.backends.opencl import OpenCLBackend

    data = b"a page for the GPU\n"
    match = find(data, "c0ffee", alphabet="zw", jobs=2, backend=OpenCLBackend(selector))
    assert hashlib.md5(match.apply(data)).hexdigest().startswith("c0ffee")
    assert match.backend == "pool"
    assert [
        notice for notice in match.notices if "one-byte symbols" in notice and "\n" not in notice
    ]


def test_ctrl_c_exits_130_and_leaves_the_file(selector: str, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(b"an interrupted GPU search must not touch me\n")
    command = [sys.executable, "-c", "from md5steg.cli import main; main()", "find", "--force", "-q",
               "--opencl-device", selector, "--prefix", "0123456789abcdef", str(page)]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)  # through start-up, the build and into the search
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert b"interrupted" in stderr and b"Traceback" not in stderr
    assert page.read_bytes() == b"an interrupted GPU search must not touch me\n"
    assert [path.name for path in tmp_path.iterdir()] == ["page.txt"]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("MD5STEG_OPENCL_DEVICE", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=environment
    )


def test_no_platform_names_the_driver_to_install() -> None:
    pytest.importorskip("pyopencl")
    result = run_python(
        "from md5steg.backends.opencl_devices import inventory\n"
        "devices, reason = inventory()\nassert devices == []\nprint(reason)",
        OCL_ICD_VENDORS="/nonexistent-md5steg-vendors",
    )
    assert result.returncode == 0, result.stderr
    assert (
        "no OpenCL platform" in result.stdout
        and "nvidia.icd" in result.stdout
        and "pocl" in result.stdout
    )


def test_missing_pyopencl_names_the_extra() -> None:
    result = run_python(
        "import sys\nsys.modules['pyopencl'] = None\n"
        "from md5steg.backends.opencl_devices import why_none\nprint(why_none())"
    )
    assert result.returncode == 0, result.stderr
    assert "md5steg[gpu]" in result.stdout


def test_a_kernel_that_fails_to_build_says_where_the_log_is(
    selector: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from md5steg.backends import opencl

    broken = tmp_path / "broken.cl"
    broken.write_text("__kernel void md5_prefix(__global uint *x) { this is not OpenCL C; }\n")
    monkeypatch.setattr(opencl, "KERNEL_SOURCE", broken)
    target = Target.from_prefix("ab")
    job = make_job(b"x", choose_layout(1, WS5, target), target)
    backend = opencl.OpenCLBackend(selector)
    with pytest.raises(opencl.KernelBuildError) as caught:
        backend.open(job)
    backend.close()
    message = str(caught.value)
    assert "\n" not in message and "build log is in" in message
    log = Path(message.rsplit(" ", 1)[1])
    assert log.exists() and "error" in log.read_text().lower()
    log.unlink()


@pytest.mark.skipif("cython" not in available_engines(), reason="the CPU's uninterrupted run takes minutes in pure Python")
def test_an_interrupted_device_search_resumes_with_the_uninterrupted_answer(
    selector: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from md5steg import Progress, find

    monkeypatch.setenv("MD5STEG_STATE_DIR", str(tmp_path))
    data, prefix = b"a record to resume from, take 7\n", "000000"  # lowest hit: 35,084,954
    uninterrupted = find(data, prefix, jobs=2, resume=False)
    interrupt_after = uninterrupted.nonce_index // 3

    def ctrl_c(progress: Progress) -> None:
        if progress.candidates >= interrupt_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        find(data, prefix, opencl_device=selector, progress=ctrl_c)
    [record] = list(tmp_path.iterdir())
    searched = sum(stop - start for start, stop in json.loads(record.read_bytes())["searched"])
    assert searched >= interrupt_after

    resumed = find(data, prefix, opencl_device=selector)
    assert (resumed.nonce_index, resumed.suffix) == (uninterrupted.nonce_index, uninterrupted.suffix)
    assert resumed.backend == "opencl"
    assert resumed.resumed_candidates == searched
    assert resumed.candidates + searched <= uninterrupted.candidates * 1.25
    assert not record.exists()


@pytest.mark.skipif("cython" not in available_engines(), reason="the pure engine takes minutes here")
def test_a_long_search_never_picks_a_cpu_opencl_device_by_itself(selector: str) -> None:
    from md5steg import find
    from md5steg.backends.opencl_devices import list_devices
    from md5steg.search import GPU_STARTUP_SECONDS, measure_rate

    if any(info.kind == "gpu" for info in list_devices()):
        pytest.skip("a GPU is present: a long search would rightly run there")
    target = Target.from_prefix("0000000")
    # Long enough on one core here that a GPU would be used, were there one; its hit comes early.
    if target.expected_candidates / measure_rate() <= GPU_STARTUP_SECONDS:
        pytest.skip("this CPU is fast enough that no GPU would be used")
    data = b"no GPU by default, take 7\n"  # lowest hit: 16,129,069
    match = find(data, "0000000", jobs=1, resume=False)
    assert match.backend == "local" and not match.notices
    assert hashlib.md5(match.apply(data)).hexdigest().startswith("0000000")
