#!/usr/bin/env bash
# One run on a machine with a GPU and no network: build, run the OpenCL tests on the GPU,
# measure the kernel rate by fast-word position, `find`'s start-up part by part, `md5steg find
# --gpu` end to end beside `-j <all cores>` and beside plain `find` (which should pick the GPU by
# itself), and resume on the GPU (a 10-hex search interrupted 10 times), and write a markdown
# table to $OUT/gpu_table.md (and stdout). ~4-6 min.
#
# Needs python3 (3.12) with numpy, Cython, pytest, hypothesis, click, rich, pytest-timeout, a C
# compiler, the NVIDIA driver, and these wheels in .whl/ at the repository root (no network):
#   pyopencl==2026.1.4 pytools==2026.1.1 platformdirs==4.14.8 siphash24==1.9 typing_extensions==4.16.0
# fetched with:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
#     -d .whl pyopencl==2026.1.4 pytools==2026.1.1 platformdirs==4.14.8 siphash24==1.9 typing_extensions==4.16.0
#
# Every step reports ok/FAILED and the script goes on; the table says what could not be measured.
# Dry run elsewhere (pocl, no ICD file written, no rebuild):
#   PYTHON=.venv/bin/python GPU_CHECK_DEVICE=cpu GPU_CHECK_DIGITS="5 6" GPU_CHECK_RESUME_PREFIX=0f1e2d \
#     GPU_CHECK_SKIP_BUILD=1 bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-/tmp/md5steg-gpu-check}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
export PYTHONPATH="/tmp/site:$PWD/src"
export PYTHONUNBUFFERED=1
DEVICE="${GPU_CHECK_DEVICE:-gpu}"
DIGITS="${GPU_CHECK_DIGITS:-8 10}"
RESUME_PREFIX="${GPU_CHECK_RESUME_PREFIX:-0f1e2d3c4b}"  # 10 hex: ~11 s on an H200
BEGAN=$(date +%s)
NOTES="$OUT/notes.txt"
export PY OUT BEGAN NOTES DEVICE DIGITS  # the steps below run as `bash -c function`
: >"$NOTES"

step() {  # step LABEL TIMEOUT COMMAND...: run, report, never stop the script (functions: export -f)
  local label=$1 limit=$2
  shift 2
  echo "=== $label ($(($(date +%s) - BEGAN)) s)"
  if timeout "$limit" "$@"; then
    echo "--- ok: $label"
  else
    local status=$?
    echo "--- FAILED ($status): $label"
    echo "FAILED ($status): $label" >>"$NOTES"
  fi
}

step "install the wheels from .whl/" 120 \
  $PY -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl

icd() {
  if [ ! -e /etc/OpenCL/vendors/nvidia.icd ]; then
    mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 >/etc/OpenCL/vendors/nvidia.icd
    echo "created /etc/OpenCL/vendors/nvidia.icd"
  fi
  echo "nvidia.icd: $(cat /etc/OpenCL/vendors/nvidia.icd)"
  local found
  found=$( (ldconfig -p 2>/dev/null | grep -o '/.*libnvidia-opencl.so.1' | head -1) || true)
  [ -z "$found" ] && found=$(ls /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 /usr/lib64/libnvidia-opencl.so.1 /usr/local/nvidia/lib64/libnvidia-opencl.so.1 2>/dev/null | head -1)
  echo "libnvidia-opencl.so.1: ${found:-NOT FOUND}" | tee -a "$NOTES"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | tee -a "$NOTES"
}
export -f icd
[ "$DEVICE" = gpu ] && step "OpenCL ICD for NVIDIA" 30 bash -c icd

[ -z "${GPU_CHECK_SKIP_BUILD:-}" ] && step "build the C core in place" 180 $PY setup.py -q build_ext --inplace

devices() {
  $PY - <<'EOF'
from md5steg.backends.opencl_devices import list_devices, why_none
devices = list_devices()
for info in devices:
    print(f"{info.index}: {info.label} [{info.kind}] {info.compute_units} CUs, {info.memory_bytes / 2**30:.0f} GiB, {info.version}")
if not devices:
    print("no OpenCL device:", why_none())
    raise SystemExit(1)
EOF
}
export -f devices
step "OpenCL devices" 60 bash -c devices

step "tests/test_opencl.py on the GPU" 200 env MD5STEG_TEST_OPENCL_DEVICE="$DEVICE" \
  $PY -m pytest tests/test_opencl.py -x -q -p no:cacheprovider -s --timeout 180

step "kernel rate by fast-word position" 150 bash -c \
  "$PY benchmarks/opencl_rate.py --device $DEVICE --seconds 1.5 --positions 0-12 > '$OUT/kernel_rate.md'"

step "find's start-up, part by part (benchmarks/startup.py)" 150 bash -c \
  "$PY benchmarks/startup.py --device $DEVICE --runs 5 --output '$OUT/startup.md'"

end_to_end() {
  $PY - "$OUT" "$BEGAN" "$DEVICE" $DIGITS <<'EOF'
import json, os, random, statistics, subprocess, sys, time
out, began, device = sys.argv[1], float(sys.argv[2]), sys.argv[3]
short_digits, long_digits = (int(value) for value in sys.argv[4:6])
gpu_flag = ["--gpu"] if device == "gpu" else ["--opencl-device", device]
budget_end = time.time() + 270  # stop starting runs before the step's 300 s timeout
cores = len(os.sched_getaffinity(0))
page = os.path.join(out, "note.txt")
with open(page, "wb") as handle:
    handle.write(b"Meet me at the usual place at noon. Bring the blue folder.\n" * 20)
rng = random.Random(2026)
command = [sys.executable, "-c", "import sys; from md5steg.cli import main; sys.exit(main())", "find"]

def run(prefix, extra):
    target = os.path.join(out, "found.txt")
    began = time.perf_counter()
    done = subprocess.run(command + extra + ["--prefix", prefix, page, "-o", target, "--json", "--quiet", "--force"],
                          capture_output=True, text=True, timeout=150)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(extra)} {prefix}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return seconds, json.loads(done.stdout)

rows, nonces = [], {}
for digits, runs, cpu_runs in ((short_digits, 7, 5), (long_digits, 3, 0)):
    prefixes = ["".join(rng.choice("0123456789abcdef") for _ in range(digits)) for _ in range(runs)]
    default_runs = 3 if digits == short_digits and device == "gpu" else 0  # plain `find` picks the GPU
    for label, extra, count in ((" ".join(gpu_flag), gpu_flag, runs), (f"-j {cores}", ["-j", str(cores)], cpu_runs),
                                ("(no flag)", [], default_runs)):
        times, reports = [], []
        for prefix in prefixes[:count]:
            if time.time() > budget_end:
                break
            try:
                seconds, report = run(prefix, extra)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"run failed: {exc}", flush=True)
                continue
            times.append(seconds)
            reports.append(report)
            nonces.setdefault(prefix, []).append(report.get("nonce_index"))
            print(f"{label} {prefix}: {seconds:.2f} s, {report.get('candidates', 0):.3g} candidates, "
                  f"suffix nonce {report.get('nonce_index')}, {report.get('devices') or report.get('jobs')}", flush=True)
        if times:
            rate = statistics.median(r["candidates"] / max(r["seconds"], 1e-9) for r in reports)
            rows.append((f"{digits} hex", label, len(times), statistics.median(times), min(times), max(times), rate))
            backends = sorted({r.get("backend") for r in reports})
            with open(os.path.join(out, "notes.txt"), "a") as notes:
                notes.write(f"find {label}, {digits} hex: backend {', '.join(map(str, backends))}\n")
                if digits == 8 and extra == gpu_flag:
                    median = statistics.median(times)
                    notes.write(f"8-hex find --gpu median {median:.2f} s: target < 0.5 s "
                                f"{'met' if median < 0.5 else 'NOT met'}\n")
        elif count:
            rows.append((f"{digits} hex", label, 0, None, None, None, None))
differ = sorted(prefix for prefix, found in nonces.items() if len(set(found)) > 1)
with open(os.path.join(out, "notes.txt"), "a") as notes:
    compared = sum(1 for found in nonces.values() if len(found) > 1)
    notes.write(f"GPU and CPU answers differ for {differ}\n" if differ else f"GPU and -j answers agree for every prefix both ran ({compared} prefixes)\n")
with open(os.path.join(out, "e2e.md"), "w") as handle:
    handle.write("| target | command | runs | median s | min s | max s | search rate G/s |\n|---|---|---:|---:|---:|---:|---:|\n")
    for target, label, count, median, low, high, rate in rows:
        if median is None:
            handle.write(f"| {target} | find {label} | 0 | not measured (time budget or failure) | | | |\n")
        else:
            handle.write(f"| {target} | find {label} | {count} | {median:.2f} | {low:.2f} | {high:.2f} | {rate / 1e9:.3g} |\n")
EOF
}
export -f end_to_end
step "md5steg find --gpu and -j N end to end" 300 bash -c end_to_end

step "resume on the device: $RESUME_PREFIX interrupted 10 times (benchmarks/resume.py)" 150 bash -c \
  "MD5STEG_STATE_DIR='$OUT/state' $PY benchmarks/resume.py --opencl-device $DEVICE --prefix $RESUME_PREFIX --output '$OUT/resume.md'"

{
  echo "## md5steg on $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1) ($(nproc) cores)"
  echo
  echo "Commit $(git describe --always --dirty 2>/dev/null), $(date -u '+%Y-%m-%d %H:%M UTC'), script benchmarks/gpu_check.sh."
  echo
  cat "$OUT/kernel_rate.md" 2>/dev/null || echo "kernel rate: not measured"
  echo
  echo "End to end (\`md5steg find\`, fresh process each run: Python start, OpenCL context, cached build):"
  echo
  cat "$OUT/e2e.md" 2>/dev/null || echo "end to end: not measured"
  echo
  cat "$OUT/startup.md" 2>/dev/null || echo "start-up: not measured"
  echo
  cat "$OUT/resume.md" 2>/dev/null || echo "resume: not measured"
  echo
  echo "Notes:"
  sed 's/^/- /' "$NOTES"
} >"$OUT/gpu_table.md"
echo
cat "$OUT/gpu_table.md"
echo "=== done in $(($(date +%s) - BEGAN)) s"
