"""Speed of the fast-word kernels on paper: instructions and llvm-mca cycles per candidate.

Compiles tools/kernel_groups.c (one group of each kernel: the straight-line body of its inner
loop) to assembly, counts the instructions of each group function, and runs llvm-mca on that
body for a list of CPU models. Prints a Markdown table; nothing here runs a kernel, so the
numbers are estimates. The x86 rows of this machine's CPU calibrate the method against the
measured rates in benchmarks/results/.

    python3 tools/kernel_estimates.py                      # aarch64: scalar and NEON
    python3 tools/kernel_estimates.py --arch x86_64 --cpu cascadelake=2.5
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GROUPS = REPO / "tools" / "kernel_groups.c"

# Candidates per group: lanes x chains, as md5steg_simd.h / md5steg_core.h define them.
CANDIDATES = {"scalar": 3, "neon": 24, "sse2": 12, "avx2": 24, "avx512": 64}
KERNELS = {"aarch64": ["scalar", "neon"], "x86_64": ["scalar", "sse2", "avx2", "avx512"]}
COMPILERS = {
    "aarch64": {"clang": ["clang", "--target=aarch64-linux-gnu"], "gcc": ["aarch64-linux-gnu-gcc"]},
    "x86_64": {"clang": ["clang"], "gcc": ["gcc"]},
}
# CPU model for llvm-mca = clock in GHz (used only to turn cycles into candidates per second).
DEFAULT_CPUS = {"aarch64": "apple-m1=3.2,neoverse-v1=2.6,neoverse-n1=2.5", "x86_64": "cascadelake=2.5"}
INSTRUCTION = re.compile(r"^\s+([a-z][\w.]*)\b")  # directives start with a dot, labels in column 0
COMMENT = re.compile(r"\s+(//|# ).*$")  # not AArch64's immediates (#22)


def group_body(assembly: str, kernel: str) -> list[str]:
    """The instructions of group_<kernel> in compiler assembly output, without its return."""
    lines = assembly.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"group_{kernel}:")) + 1
    body = []
    for line in lines[start:]:
        if line.startswith(".Lfunc_end") or line.lstrip().startswith(".size") or line.strip() == ".cfi_endproc":
            break
        match = INSTRUCTION.match(line)
        if match and match.group(1) not in ("ret", "retq"):
            body.append(COMMENT.sub("", line))
    return body


def mca_cycles(llvm_mca: str, arch: str, cpu: str, body: list[str], iterations: int = 200) -> float:
    """llvm-mca's steady-state cycles for one pass over body (Total Cycles / iterations)."""
    result = subprocess.run(
        [llvm_mca, f"-mtriple={arch}", f"-mcpu={cpu}", f"-iterations={iterations}"],
        input="\n".join(body) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    total = re.search(r"^Total Cycles:\s+(\d+)", result.stdout, re.MULTILINE)
    if total is None:
        raise RuntimeError(f"no Total Cycles in llvm-mca's output:\n{result.stdout}{result.stderr}")
    return int(total.group(1)) / iterations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(KERNELS), default="aarch64")
    parser.add_argument("--cpu", help="llvm-mca CPU=GHz, comma-separated (default: per --arch)")
    parser.add_argument("--fast-word", type=int, action="append", help="fast word index 0..12 (repeatable; default 3 and 8)")
    parser.add_argument("--compiler", choices=["clang", "gcc"], action="append", help="default: both")
    parser.add_argument("--llvm-mca", default=shutil.which("llvm-mca-19") or "llvm-mca")
    args = parser.parse_args()
    cpus = [(name, float(ghz)) for name, ghz in (item.split("=") for item in (args.cpu or DEFAULT_CPUS[args.arch]).split(","))]
    fast_words = args.fast_word or [3, 8]
    compilers = args.compiler or ["clang", "gcc"]
    version = subprocess.run([args.llvm_mca, "--version"], capture_output=True, text=True).stdout
    print(f"llvm-mca: {' '.join(version.split()[version.split().index('version') + 1:][:1])} ({args.llvm_mca})")
    header = "| compiler | fast word | kernel | instructions / candidate |"
    header += "".join(f" {cpu} cycles / candidate | {cpu} M/s at {ghz} GHz |" for cpu, ghz in cpus)
    print(header)
    print("|" + "---|" * (4 + 2 * len(cpus)))
    for compiler in compilers:
        command = COMPILERS[args.arch][compiler]
        compiler_version = subprocess.run([command[0], "-dumpversion"], capture_output=True, text=True).stdout.strip()
        for fast_word in fast_words:
            assembly = subprocess.run(
                [*command, "-O3", "-S", "-o", "-", f"-DFAST_WORD={fast_word}", "-I", str(REPO / "src" / "md5steg"), str(GROUPS)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for kernel in KERNELS[args.arch]:
                body = group_body(assembly, kernel)
                per_candidate = CANDIDATES[kernel]
                row = f"| {compiler} {compiler_version} -O3 | {fast_word} | {kernel} | {len(body) / per_candidate:.1f} |"
                for cpu, ghz in cpus:
                    cycles = mca_cycles(args.llvm_mca, args.arch, cpu, body) / per_candidate
                    row += f" {cycles:.2f} | {ghz * 1000 / cycles:.0f} |"
                print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
