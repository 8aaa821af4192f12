"""Turns a benchmark run's results into the markdown tables, the JSON summary and the plot."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


def _mps(rate: float | None) -> str:
    """Candidates/s as M/s with three significant digits."""
    if rate is None:
        return "-"
    return f"{rate / 1e6:.3g}"


def _verdict(meets: bool | None) -> str:
    return "-" if meets is None else ("yes" if meets else "**no**")


def machine_text(machine: dict[str, Any]) -> str:
    lines = [
        f"CPU:       {machine['cpu']} ({machine['cores']} cores usable)",
        (
            f"SIMD:      {' '.join(machine['simd_flags']) or '-'}; compiled core paths: "
            f"{', '.join(machine['compiled_simd_paths']) or 'not built'}"
        ),
        f"Compiler:  CC={machine['cc']}; {machine['compiler'] or '?'}",
        f"Python:    {machine['python']}; Cython {machine['cython'] or '-'}; PyPy: {machine['pypy'] or 'not found'}",
        f"md5steg:   {machine['md5steg']} ({machine['commit'] or 'no git'}); OS {machine['os']}",
        f"Load avg:  start {machine.get('loadavg_start')} end {machine.get('loadavg_end', '-')}",
    ]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The whole report: machine, per-core table, scaling table, end-to-end table."""
    out: list[str] = [
        "# md5steg benchmark results",
        "",
        (
            f"Command: `{results['command']}` ({results['mode']} mode, {results['machine']['date']}, "
            f"{results['wall_seconds']:.0f} s). Rates are candidates/s measured on wall-clock time; "
            "medians over interleaved rounds, spread is min-max."
        ),
        "",
        "```",
        machine_text(results["machine"]),
        "```",
        "",
    ]
    inputs = results["inputs"]
    settings = results["settings"]
    per_core = results["per_core"]
    out += [
        "## One core",
        "",
        (
            f"Same inputs for every row: {inputs['content_bytes']} bytes of seeded content, alphabet "
            f"`{inputs['alphabet']}`, target prefix `{inputs['target']}` ({len(inputs['target'])} hex), "
            f"{inputs['suffix_symbols']}-symbol suffix, {inputs['fast_digits']} fast digits. "
            f"{settings['repeats']} rounds x {settings['seconds']} s per implementation, order rotated each round."
        ),
        "",
        (
            "| implementation | M cand/s (median) | spread (min-max) | IQR | speed-up vs naive "
            "| M cand/CPU-s (median) | target | meets |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for row in per_core["rows"]:
        out.append(
            f"| {row['label']} (`{row['name']}`) | {_mps(row['median'])} | {_mps(row['min'])}-{_mps(row['max'])} "
            f"| {_mps(row['q1'])}-{_mps(row['q3'])} | {row['speedup_vs_naive']:.3g}x | {_mps(row['cpu_median'])} "
            f"| {_mps(row['target']) + ' M/s' if row['target'] else '-'} | {_verdict(row['meets_target'])} |"
        )
    out.append("")
    missing = [
        name
        for name in ("cython-avx512", "cython-avx2")
        if name not in {r["name"] for r in per_core["rows"]}
    ]
    notes = list(per_core["notes"])
    if missing:
        notes.append(
            f"targets without a row here ({', '.join(missing)}): that SIMD path is not built or this CPU lacks it"
        )
    pypy = per_core["pypy"]
    if pypy.get("verified"):
        checks = ", ".join(f"{c['method']}: hit {c['hit']} vs hashlib {c['expected']} {'ok' if c['ok'] else 'MISMATCH'}"
                           for c in pypy["verified"])  # fmt: skip
        notes.append(
            f"PyPy {pypy.get('pypy_version') or pypy.get('pypy')}: results checked against hashlib ({checks})"
        )
    cpython_checks = ", ".join(
        f"{c['method']}: {'ok' if c['ok'] else 'MISMATCH'}" for c in per_core["cpython_verified"]
    )
    notes.append(f"CPython pure paths checked against hashlib ({cpython_checks})")
    notes.append(
        "M cand/CPU-s divides by the measuring thread's CPU time instead of wall time: what an unshared "
        "core would do; when it is far above the wall-clock median, other processes were competing for the CPU. "
        "Targets are judged on the wall-clock median."
    )
    out += [f"- {note}" for note in notes] + [""]

    scaling = results.get("scaling")
    if scaling:
        out += [
            "## Scaling over processes",
            "",
            (
                f"The `{scaling['engine']}/{scaling['simd']}` core through the real coordinator (`search.scan_ranges`) "
                f"and `ProcessPoolBackend`, a target that never hits, ~{settings['scaling_seconds']} s of work per run "
                f"(chunks of {scaling['chunk']:,} candidates), pool start-up and shutdown included; "
                f"{settings['scaling_repeats']} interleaved rounds."
            ),
            "",
            (
                "| processes | M cand/s (median) | spread (min-max) | speed-up vs 1 | efficiency "
                "| CPU used (cores) | target | meets |"
            ),
            "|---:|---:|---:|---:|---:|---:|---:|:---:|",
        ]
        for row in scaling["rows"]:
            target = f">= {row['target_speedup']}x" if row["target_speedup"] else "-"
            out.append(
                f"| {row['processes']} | {_mps(row['median'])} | {_mps(row['min'])}-{_mps(row['max'])} "
                f"| {row['speedup']:.2f}x | {row['efficiency']:.0%} | {row['cores_used']:.2f} "
                f"| {target} | {_verdict(row['meets_target'])} |"
            )
        out += [
            "",
            (
                "- CPU used: the workers' CPU-seconds over wall seconds; when it stays below the number of "
                "processes, other load on the machine took the rest and the speed-up understates the pool."
            ),
            "",
        ]

    e2e = results.get("end_to_end")
    if e2e:
        out += ["## End to end", ""]
        if not e2e["rows"]:
            out += [f"- {e2e['status']}", ""]
        else:
            out += [
                (
                    f"`{e2e['command']}` on a {1200}-byte text file, timed from the parent (Python start-up, "
                    "imports, calibration, pool and file write included); a different random prefix each run, "
                    "so the spread includes the luck of the search."
                ),
                "",
                "| prefix | runs | median s | spread (min-max) | median candidates | target | meets |",
                "|---|---:|---:|---:|---:|---:|:---:|",
            ]
            for row in e2e["rows"]:
                if row["status"] != "measured":
                    out.append(
                        f"| {row['digits']} hex | 0 | - | - | - | < {row['target_seconds']} s | {row['status']} |"
                    )
                    continue
                out.append(
                    f"| {row['digits']} hex | {row['n']} | {row['median']:.3f} | {row['min']:.3f}-{row['max']:.3f} "
                    f"| {row['median_candidates']:,.0f} | < {row['target_seconds']} s | {_verdict(row['meets_target'])} |"
                )
            out.append("")
    return "\n".join(out)


def without_samples(results: dict[str, Any]) -> dict[str, Any]:
    """The summary for ``results.json``: everything but the per-sample lists."""
    summary = copy.deepcopy(results)
    for section in ("per_core", "scaling"):
        for row in (summary.get(section) or {}).get("rows", []):
            row.pop("samples", None)
    for row in (summary.get("end_to_end") or {}).get("rows", []):
        row.pop("runs", None)
    return summary


def plot(results: dict[str, Any], path: Path) -> str | None:
    """Log-scale bar chart of per-core medians with min-max whiskers; returns why not, if it can't."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (`.venv/bin/pip install matplotlib`)"
    rows = sorted(results["per_core"]["rows"], key=lambda row: row["median"])
    names = [row["name"] for row in rows]
    medians = [row["median"] / 1e6 for row in rows]
    low = [(row["median"] - row["min"]) / 1e6 for row in rows]
    high = [(row["max"] - row["median"]) / 1e6 for row in rows]
    figure, axes = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.6))
    colours = [
        "#c44e52" if n.startswith("naive") else "#4c72b0" if n.startswith("cython") else "#55a868"
        for n in names
    ]
    axes.barh(names, medians, xerr=[low, high], color=colours, capsize=3)
    for index, row in enumerate(rows):
        label_at = max(row["max"], row.get("target") or 0, row.get("cpu_median") or 0) / 1e6 * 1.2
        axes.text(label_at, index, f"{medians[index]:.3g} M/s ({row['speedup_vs_naive']:.3g}x)",
                  va="center", fontsize=8)  # fmt: skip
        if row.get("target"):
            axes.plot([row["target"] / 1e6], [index], marker="|", color="black", markersize=14)
        if row.get("cpu_median"):
            axes.plot(
                [row["cpu_median"] / 1e6],
                [index],
                marker="o",
                mfc="none",
                color="black",
                markersize=5,
            )
    axes.set_xscale("log")
    axes.set_xlabel(
        "M candidates/s, one core (log); bar = wall-clock median, o = per CPU-second, | = target"
    )
    machine = results["machine"]
    axes.set_title(f"md5steg throughput per core: {machine['cpu']}", fontsize=10)
    axes.set_xlim(
        min(medians) / 2, max(medians + [r["target"] / 1e6 for r in rows if r.get("target")]) * 8
    )
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return None
