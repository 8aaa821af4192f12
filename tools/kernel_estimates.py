"""Speed of the fast-word kernels on paper, for CPUs we do not have (arm64 here).

Three numbers per kernel, none of them a timing:
  * instructions each candidate executes in the real kernel: tools/count_instructions.c run
    under qemu-aarch64, which logs one line per executed instruction (aarch64 only);
  * llvm-mca's cycles per candidate for one group of the kernel (tools/kernel_groups.c: the
    straight-line body of its inner loop) on each CPU model;
  * a pipe-count bound: the group's integer, vector and memory instructions over the number of
    pipes of each kind (issue only, no latency), for a CPU that llvm-mca models poorly.
Prints a Markdown table. `--arch x86_64` gives the same for this machine's x86 kernels, to
calibrate the method against the rates measured in benchmarks/results/.

    python3 tools/kernel_estimates.py
    python3 tools/kernel_estimates.py --arch x86_64 --fast-word 3 --fast-word 12
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORE = REPO / "src" / "md5steg"

# Candidates per group (lanes x chains), as md5steg_simd.h and md5steg_core.h set them.
CANDIDATES = {"scalar": 3, "neon": 24, "sse2": 12, "avx2": 24, "avx512": 64}
KERNELS = {"aarch64": ["scalar", "neon"], "x86_64": ["scalar", "sse2", "avx2", "avx512"]}
COMPILERS = {
    "aarch64": {"clang": ["clang", "--target=aarch64-linux-gnu"], "gcc": ["aarch64-linux-gnu-gcc"]},
    "x86_64": {"clang": ["clang"], "gcc": ["gcc"]},
}
# llvm-mca CPU models, each with the clock (GHz) that turns cycles into candidates per second.
DEFAULT_CPUS = {
    "aarch64": "apple-m1=3.2,neoverse-v1=2.6,neoverse-n1=2.5",
    "x86_64": "cascadelake=2.5",
}
# Apple M1 (Firestorm): 6 integer ALUs, 4 SIMD pipes, 3 load pipes.
DEFAULT_PIPES = {"aarch64": ["M1-pipes=3.2:6,4,3"], "x86_64": []}
FLAGS = ["-O3", "-fno-strict-aliasing", "-I", str(CORE)]  # as setup.py builds the core
COUNT_STEP = 480  # candidates: a whole number of groups of each kernel (3 and 24)
INSTRUCTION = re.compile(r"^\s+([a-z][\w.]*)\b")  # directives start with a dot, labels in column 0
COMMENT = re.compile(r"\s+(//|# ).*$")  # not AArch64's immediates (#22)


def group_body(assembly: str, kernel: str) -> list[str]:
    """The instructions of group_<kernel> in compiler assembly output, without its return."""
    lines = assembly.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"group_{kernel}:")) + 1
    body = []
    for line in lines[start:]:
        if line.startswith(".Lfunc_end") or line.strip().startswith((".size", ".cfi_endproc")):
            break
        match = INSTRUCTION.match(line)
        if match and match.group(1) not in ("ret", "retq"):
            body.append(COMMENT.sub("", line))
    return body


def mca_cycles(llvm_mca: str, arch: str, cpu: str, body: list[str]) -> float:
    """llvm-mca's steady-state cycles for one pass over body (Total Cycles / iterations)."""
    iterations = 200
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


def instruction_mix(body: list[str]) -> tuple[int, int, int]:
    """(integer, vector, memory) instruction counts. Memory: any instruction with an address
    operand; vector: any other naming a SIMD register (AArch64 v/q/d, x86 xmm/ymm/zmm/k)."""
    integer = vector = memory = 0
    for line in body:
        operands = line.strip().partition("\t")[2]
        if "[" in operands or "(" in operands:
            memory += 1
        elif re.search(r"\b[vqd]\d+\b|%[xyz]mm\d+|%k\d", operands):
            vector += 1
        else:
            integer += 1
    return integer, vector, memory


def executed_per_candidate(command: list[str], kernel: str, fast_word: int, work: Path) -> float:
    """Instructions the real kernel executes per candidate: qemu-aarch64 logs every instruction
    (one per translation block), and the difference of two scan lengths drops the set-up."""
    binary = work / "count_instructions"
    source = REPO / "tools" / "count_instructions.c"
    subprocess.run([*command, *FLAGS, "-static", str(source), "-o", str(binary)], check=True)
    usage = subprocess.run(["qemu-aarch64", "-h"], capture_output=True, text=True).stdout
    one_per_block = "-one-insn-per-tb" if "one-insn-per-tb" in usage else "-singlestep"  # < 8.1
    counts = []
    for candidates in (COUNT_STEP, 2 * COUNT_STEP):
        log = work / "exec.log"
        qemu = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", one_per_block]
        qemu += ["-d", "exec,nochain", "-D", str(log)]
        subprocess.run([*qemu, str(binary), kernel, str(fast_word), str(candidates)], check=True)
        with log.open("rb") as handle:
            counts.append(sum(1 for line in handle if line.startswith(b"Trace")))
        log.unlink()
    return (counts[1] - counts[0]) / COUNT_STEP


def parse_pipes(text: str) -> tuple[str, float, tuple[float, ...]]:
    """NAME=GHz:INT,VEC,MEM -> (name, clock, pipes of each kind)."""
    name, _, rest = text.partition("=")
    ghz, _, pipes = rest.partition(":")
    return name, float(ghz), tuple(float(count) for count in pipes.split(","))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(KERNELS), default="aarch64")
    parser.add_argument("--cpu", help="llvm-mca CPU=GHz, comma-separated (default: per --arch)")
    parser.add_argument("--pipes", action="append", help="NAME=GHz:INT,VEC,MEM pipe-count bound")
    parser.add_argument("--fast-word", type=int, action="append", help="0..12 (default: 3 and 8)")
    parser.add_argument("--compiler", choices=["clang", "gcc"], action="append")
    parser.add_argument("--llvm-mca", default=shutil.which("llvm-mca-19") or "llvm-mca")
    args = parser.parse_args()
    cpu_list = (args.cpu or DEFAULT_CPUS[args.arch]).split(",")
    cpus = [(name, float(ghz)) for name, _, ghz in (item.partition("=") for item in cpu_list)]
    bounds = [parse_pipes(text) for text in args.pipes or DEFAULT_PIPES[args.arch]]
    version = subprocess.run([args.llvm_mca, "--version"], capture_output=True, text=True).stdout
    version_line = next(line.strip() for line in version.splitlines() if "version" in line)
    print(f"{args.llvm_mca}: {version_line}")
    print()
    columns = ["compiler", "fast word", "kernel", "instructions / cand. executed (qemu)"]
    columns += ["in one group (int + vec + mem)"]
    for name, ghz in [*cpus, *((name, ghz) for name, ghz, _ in bounds)]:
        columns += [f"{name} cycles / cand.", f"M/s at {ghz} GHz"]
    print("| " + " | ".join(columns) + " |")
    print("|---|---:|---|" + "---:|" * (len(columns) - 3))
    work = Path(tempfile.mkdtemp(prefix="md5steg-estimates-"))
    try:
        for compiler in args.compiler or ["clang", "gcc"]:
            command = COMPILERS[args.arch][compiler]
            dumped = subprocess.run([command[0], "-dumpversion"], capture_output=True, text=True)
            for fast_word in args.fast_word or [3, 8]:
                source = REPO / "tools" / "kernel_groups.c"
                assembly = subprocess.run(
                    [*command, *FLAGS, "-S", "-o", "-", f"-DFAST_WORD={fast_word}", str(source)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                for kernel in KERNELS[args.arch]:
                    body = group_body(assembly, kernel)
                    per = CANDIDATES[kernel]
                    mix = instruction_mix(body)
                    executed = "-"
                    if args.arch == "aarch64":
                        executed = f"{executed_per_candidate(command, kernel, fast_word, work):.0f}"
                    split = " + ".join(f"{count / per:.0f}" for count in mix)
                    cells = [f"{compiler} {dumped.stdout.strip()}", str(fast_word), kernel]
                    cells += [executed, f"{len(body) / per:.0f} ({split})"]
                    for cpu, ghz in cpus:
                        cycles = mca_cycles(args.llvm_mca, args.arch, cpu, body) / per
                        cells += [f"{cycles:.1f}", f"{ghz * 1000 / cycles:.0f}"]
                    for _, ghz, pipes in bounds:
                        cycles = max(count / width for count, width in zip(mix, pipes)) / per
                        cells += [f"{cycles:.1f}", f"{ghz * 1000 / cycles:.0f}"]
                    print("| " + " | ".join(cells) + " |", flush=True)
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
