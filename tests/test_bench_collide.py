"""benchmarks/collide.py runs and reports in the shape ``make bench`` relies on (no timing asserts)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "collide.py"


@pytest.fixture(scope="module")
def bench() -> Any:
    spec = importlib.util.spec_from_file_location("collide_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_work_unit_finds_block_0_on_every_engine(bench: Any, engine: str) -> None:
    assert bench.engine_work(engine, min_seconds=0.0) > 0


def test_report_has_a_row_per_implementation_and_the_verdicts(bench: Any, tmp_path: Path) -> None:
    samples = {
        name: [{"seed": seed, "cpu": 0.1 * seed, "wall": 0.2 * seed} for seed in (1, 2, 3)]
        for name in ("fastcoll", "md5steg -j 1", "md5steg -j 2")
    }
    tables = [bench.table(name, samples[name], key) for name in samples for key in ("cpu", "wall")]
    results = {
        "machine": {"cpu": "test CPU", "cores": 2, "python": "CPython", "fastcoll": "/bin/fastcoll",
                    "loadavg_start": None, "loadavg_end": None, "date": "now"},
        "runs": 3,
        "first_seed": 1,
        "tables": tables,
        "verdicts": bench.judge({(row["name"], row["measure"]): row for row in tables}),
        "engines": [{"label": "Cython (compiled core)", "seconds": 0.001, "ratio": 1.0, "per_collision": 0.2}],
        "engine_note": "note",
        "samples": samples,
    }
    text = bench.markdown(results)
    for name in samples:
        assert f"| {name} | cpu | 3 |" in text and f"| {name} | wall | 3 |" in text
    assert "median **1.00x**, mean **1.00x**" in text
    assert "seeds 1..3" in text and "| Cython (compiled core) |" in text
