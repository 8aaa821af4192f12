"""The benchmark harness runs and reports in the shape ``make bench`` relies on (no timing asserts)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

harness = pytest.importorskip("harness")
report = pytest.importorskip("report")
run = pytest.importorskip("run")


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A whole run in miniature: every per-core row, the pool on 1..N processes, one CLI call."""
    args = run.parse_args(["--quick", "--seconds", "0.01", "--repeats", "2", "--skip", "pypy", "--skip", "opencl"])
    args.scaling_seconds, args.scaling_repeats = 0.02, 1
    args.e2e_runs, args.e2e_budget = (
        {6: 1, 8: 1},
        0.0,
    )  # both skipped by the budget: no long searches
    inputs = harness.make_inputs(seed=1, content_length=100)
    machine = run.machine_info(None)
    per_core = run.per_core(args, inputs, machine)
    return {
        "command": "python benchmarks/run.py (smoke)",
        "mode": "quick",
        "settings": {"seconds": args.seconds, "repeats": args.repeats, "scaling_seconds": args.scaling_seconds,
                     "scaling_repeats": args.scaling_repeats, "e2e_runs": args.e2e_runs},
        "machine": machine,
        "inputs": inputs.describe(),
        "per_core": per_core,
        "scaling": run.scaling(args, inputs, machine, per_core["rows"][0]["median"]),
        "end_to_end": run.end_to_end(args, machine, 1e6),
        "wall_seconds": 1.0,
    }  # fmt: skip


def test_per_core_measures_every_implementation_with_positive_rates(
    tiny_results: dict[str, Any],
) -> None:
    rows = {row["name"]: row for row in tiny_results["per_core"]["rows"]}
    expected = {"naive-cpython", "pure-hashlib-cpython", "pure-unrolled-cpython"}
    expected |= {f"cython-{path}" for path in harness.compiled_simd_paths()}
    assert set(rows) == expected
    for row in rows.values():
        assert len(row["samples"]) == 2
        assert 0 < row["min"] <= row["median"] <= row["max"]
        assert row["cpu_median"] > 0
    assert rows["naive-cpython"]["speedup_vs_naive"] == 1.0
    assert all(check["ok"] for check in tiny_results["per_core"]["cpython_verified"])


def test_pypy_skip_is_reported_not_hidden(tiny_results: dict[str, Any]) -> None:
    assert tiny_results["per_core"]["pypy"]["status"] == "skipped (--skip pypy)"
    assert "PyPy skipped (--skip pypy)" in tiny_results["per_core"]["notes"]
    assert not any(name.endswith("-pypy") for name in (row["name"] for row in tiny_results["per_core"]["rows"]))


def test_scaling_covers_one_to_all_cores(tiny_results: dict[str, Any]) -> None:
    scaling = tiny_results["scaling"]
    assert [row["processes"] for row in scaling["rows"]] == list(
        range(1, tiny_results["machine"]["cores"] + 1)
    )
    assert scaling["rows"][0]["speedup"] == 1.0


def test_end_to_end_skips_searches_over_budget(tiny_results: dict[str, Any]) -> None:
    rows = tiny_results["end_to_end"]["rows"]
    assert [row["digits"] for row in rows] == [6, 8]
    assert all(row["status"].startswith("skipped") for row in rows)


def test_one_cli_find_is_timed_and_checked(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(b"hello\n")
    result = harness.run_cli_find("a", source, tmp_path / "out.txt", timeout=120)
    assert result["prefix"] == "a" and result["candidates"] >= 1
    assert isinstance(result["seconds"], float), "the run is timed"


def test_reports_have_every_table_and_serialise(
    tiny_results: dict[str, Any], tmp_path: Path
) -> None:
    text = report.markdown(tiny_results)
    for heading in ("## One core", "## Scaling over processes", "## End to end", "| naive loop"):
        assert heading in text
    summary = report.without_samples(tiny_results)
    assert "samples" not in summary["per_core"]["rows"][0]
    json.dumps(summary)
    pytest.importorskip("matplotlib")
    assert report.plot(tiny_results, tmp_path / "throughput.png") is None
    assert (tmp_path / "throughput.png").read_bytes().startswith(b"\x89PNG")


def test_summarize_gives_median_spread_and_quartiles() -> None:
    assert harness.summarize([3.0, 1.0, 2.0, 10.0]) == {
        "n": 4, "median": 2.5, "min": 1.0, "max": 10.0, "q1": 1.75, "q3": 4.75,
    }  # fmt: skip
    assert harness.summarize([5.0])["q1"] == 5.0


def test_interleaved_rotates_the_order_each_round() -> None:
    calls = []
    measures = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    samples = harness.interleaved(measures, 3)
    assert calls == list("abcbcacab")
    assert {name: len(values) for name, values in samples.items()} == {"a": 3, "b": 3, "c": 3}
