#!/usr/bin/env bash
# Packaging check: what we ship builds, installs and passes its tests outside the source tree.
#
#   1. python -m build: sdist + wheel (wheel built from the sdist); check what each contains
#   2. install the wheel into a fresh venv outside the tree; run the core tests from a temp dir
#   3. auditwheel show on the Linux wheel
#   4. cibuildwheel --print-build-identifiers for linux, macos and windows
#   5. PyPy (Debian's pypy3): install from the sdist (pure engine) and run the pure tests
#   6. the C core (and SIMD kernels) with gcc, clang and aarch64 gcc under qemu, -Werror
# 5 and 6 run in the background beside the wheel build and tests; their logs print at the end.
#
# Needs network access to PyPI and (as root, for missing tools) Debian. Writes only to a temp
# dir and the ignored src/md5steg.egg-info. Usage: .ci/package-check.sh  (PYTHON=python3.11 to
# pick the interpreter; KEEP_WORK=1 keeps the temp dir). Exits non-zero on any failure.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
# Same version as the pypa/cibuildwheel action in .github/workflows/wheels.yml.
CIBUILDWHEEL_VERSION=4.3.3
START=$SECONDS
WORK=$(mktemp -d "${TMPDIR:-/tmp}/md5steg-package-check.XXXXXX")
CURRENT_STEP="setup"
BACKGROUND_PIDS=() BACKGROUND_NAMES=() BACKGROUND_LOGS=()

cleanup() {
    local status=$?
    if [[ $status -ne 0 ]]; then
        echo "package-check: FAILED in step: $CURRENT_STEP (exit $status)" >&2
    fi
    for pid in "${BACKGROUND_PIDS[@]}"; do # a failure elsewhere: stop our own background steps
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
    done
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "package-check: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

step() {
    CURRENT_STEP=$1
    printf '\n=== %s (%ds)\n' "$1" $((SECONDS - START))
}
fail() {
    echo "package-check: $*" >&2
    exit 1
}
warn() { echo "package-check: WARNING: $*" >&2; }
# start_background NAME COMMAND...: run a step beside the others; its log prints at the end.
start_background() {
    local name=$1 log="$WORK/background-${#BACKGROUND_PIDS[@]}.log"
    shift
    "$@" >"$log" 2>&1 &
    BACKGROUND_PIDS+=($!) BACKGROUND_NAMES+=("$name") BACKGROUND_LOGS+=("$log")
    echo "step $name: started in the background"
}

# Run pytest on copies of the tests, from a directory outside the checkout.
run_tests_outside() {
    local python=$1 run_dir=$2
    shift 2
    mkdir -p "$run_dir"
    cp -r "$REPO/tests" "$run_dir/tests"
    (cd "$run_dir" && "$python" -m pytest -p no:cacheprovider --rootdir "$run_dir" -q -ra "$@")
}

# Where `import md5steg` resolves, and which engines it offers; fails if inside the checkout.
check_import_location() {
    local python=$1 want_engine=$2
    (cd "$WORK" && "$python" - "$REPO" "$want_engine" <<'EOF'
import sys
from pathlib import Path

import md5steg
from md5steg import _engine

repo, want_engine = Path(sys.argv[1]).resolve(), sys.argv[2]
location = Path(md5steg.__file__).resolve()
engines = _engine.available_engines()
print(f"{sys.implementation.name} {sys.version.split()[0]}: md5steg {md5steg.__version__} from {location.parent}; engines {engines}")
assert repo not in location.parents, f"md5steg imported from the checkout ({location}), not the install"
assert "site-packages" in location.parts, f"md5steg is not in site-packages: {location}"
assert engines[0] == want_engine, f"expected the {want_engine} engine first, got {engines}"
EOF
    )
}

# ---- 5. PyPy: the pure engine --------------------------------------------------------------
pypy_check() {
    local PYPY_VENV="$WORK/pypy-venv"
    pypy3 -m venv "$PYPY_VENV"
    "$PYPY_VENV/bin/python" -m pip install -q "$SDIST" pytest hypothesis pytest-timeout
    check_import_location "$PYPY_VENV/bin/python" python
    local PYPY_TESTS=()
    for path in tests/test_engine_py.py tests/test_find.py; do
        if [[ -f "$REPO/$path" ]]; then PYPY_TESTS+=("$path"); else warn "$path is missing; not run on PyPy"; fi
    done
    ((${#PYPY_TESTS[@]})) || fail "no pure-engine tests to run on PyPy"
    run_tests_outside "$PYPY_VENV/bin/python" "$WORK/run-pypy" --timeout=300 "${PYPY_TESTS[@]}"
}

# ---- 6. the C core on other compilers and aarch64 -------------------------------------------
c_core_check() {
    local CFLAGS=(-O2 -Wall -Wextra -Werror -I "$REPO/src/md5steg")
    if [[ -f "$REPO/src/md5steg/md5steg_simd.h" ]]; then CFLAGS+=(-DMD5STEG_CHECK_SIMD); fi
    local DRIVER="$REPO/tools/cross_check.c"
    local OUTDIR="$WORK/cross"
    mkdir -p "$OUTDIR"
    echo "-- gcc -std=c99 -Wpedantic (native)"
    gcc -std=c99 -Wpedantic "${CFLAGS[@]}" "$DRIVER" -o "$OUTDIR/gcc"
    "$OUTDIR/gcc"
    echo "-- clang (native)"
    clang "${CFLAGS[@]}" "$DRIVER" -o "$OUTDIR/clang"
    "$OUTDIR/clang"
    echo "-- aarch64-linux-gnu-gcc, static, under qemu-aarch64"
    aarch64-linux-gnu-gcc "${CFLAGS[@]}" -c "$DRIVER" -o "$OUTDIR/aarch64.o"
    aarch64-linux-gnu-gcc -static "$OUTDIR/aarch64.o" -o "$OUTDIR/aarch64"
    qemu-aarch64 "$OUTDIR/aarch64"
    echo "-- clang --target=aarch64-linux-gnu (compile only)"
    clang --target=aarch64-linux-gnu "${CFLAGS[@]}" -c "$DRIVER" -o "$OUTDIR/clang-aarch64.o"
}

# ---- 0. tools ---------------------------------------------------------------------------------
step "0. install tools"
debs=()
deb_missing() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
command -v dpkg-query >/dev/null || fail "needs a Debian-like system (dpkg-query) for pypy3 and the cross compiler"
for deb in gcc clang pypy3 pypy3-venv gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user; do
    if deb_missing "$deb"; then debs+=("$deb"); fi
done
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then debs+=(python3-venv); fi
if ! "$PYTHON" -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null; then
    debs+=(python3-dev)
fi
if ((${#debs[@]})); then
    [[ $(id -u) -eq 0 ]] || fail "missing Debian packages (${debs[*]}); install them or run as root"
    echo "apt-get install ${debs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
fi
"$PYTHON" -m venv "$WORK/tools"
TOOLS="$WORK/tools/bin"
"$TOOLS/python" -m pip install -q --upgrade pip
"$TOOLS/python" -m pip install -q build "cibuildwheel==$CIBUILDWHEEL_VERSION" auditwheel twine check-jsonschema

start_background "6. C core with gcc, clang and aarch64 (qemu), -Wall -Wextra -Werror" c_core_check

# ---- 1. sdist and wheel -----------------------------------------------------------------------
step "1. build sdist and wheel"
DIST="$WORK/dist"
"$TOOLS/python" -m build --sdist --outdir "$DIST" "$REPO" >"$WORK/build.log" 2>&1 ||
    { tail -40 "$WORK/build.log"; fail "python -m build --sdist failed (log above)"; }
SDIST=$(ls "$DIST"/*.tar.gz)
start_background "5. PyPy: install from the sdist (pure engine) and run the pure tests" pypy_check
# The wheel is built from the sdist, so a file missing from the sdist breaks it. A compile error
# must fail here, not quietly give a pure-Python wheel (setup.py), as in [tool.cibuildwheel].
MD5STEG_REQUIRE_EXTENSIONS=1 "$TOOLS/python" -m build --wheel --outdir "$DIST" "$SDIST" \
    >>"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; fail "python -m build --wheel failed (log above)"; }
WHEEL=$(ls "$DIST"/*.whl)
echo "built $(basename "$SDIST") and $(basename "$WHEEL")"
"$TOOLS/twine" check --strict "$SDIST" "$WHEEL"

# Files the sdist must hold: every tracked file under src/ and tests/, plus the build inputs.
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$REPO" ls-files -- src tests >"$WORK/tracked.txt"
else
    (cd "$REPO" && find src tests -type f ! -path '*/__pycache__/*' ! -name '*.so' ! -name '_core.c') >"$WORK/tracked.txt"
fi
"$TOOLS/python" - "$SDIST" "$WHEEL" "$WORK/tracked.txt" <<'EOF'
import sys, tarfile, zipfile
from pathlib import PurePosixPath

sdist, wheel, tracked_list = sys.argv[1:]
problems, warnings = [], []

with tarfile.open(sdist) as archive:
    names = archive.getnames()
root = names[0].split("/")[0]
sdist_files = {name[len(root) + 1:] for name in names if "/" in name}
required = {"pyproject.toml", "setup.py", "README.md", "PKG-INFO",
            "src/md5steg/_core.pyx", "src/md5steg/md5steg_core.h", "src/md5steg/py.typed"}
tracked = {line.strip() for line in open(tracked_list) if line.strip()}
for name in sorted((required | tracked) - sdist_files):
    problems.append(f"sdist lacks {name}")
for name in sorted(sdist_files):
    path = PurePosixPath(name)
    if path.name == "_core.c" or path.suffix in {".so", ".pyd", ".pyc", ".o"} or "__pycache__" in path.parts:
        problems.append(f"sdist ships a build output: {name}")
headers = sorted(n for n in sdist_files if n.endswith(".h"))
tests = sorted(n for n in sdist_files if n.startswith("tests/"))
print(f"sdist: {len(sdist_files)} files; headers {headers}; {len(tests)} files under tests/")

with zipfile.ZipFile(wheel) as archive:
    wheel_files = set(archive.namelist())
    metadata = archive.read(next(n for n in wheel_files if n.endswith(".dist-info/METADATA"))).decode()
package = {n for n in wheel_files if n.startswith("md5steg/")}
if not any(PurePosixPath(n).name.startswith("_core.") and n.endswith((".so", ".pyd")) for n in package):
    problems.append("wheel lacks the compiled md5steg/_core extension")
if "md5steg/py.typed" not in package:
    problems.append("wheel lacks md5steg/py.typed")
if "md5steg/_core.pyi" not in package:
    warnings.append("wheel has no md5steg/_core.pyi stub yet")
for name in sorted(t for t in tracked if t.startswith("src/md5steg/") and t.endswith((".py", ".pyi"))):
    if name[len("src/"):] not in package:
        problems.append(f"wheel lacks {name[len('src/'):]}")
for name in sorted(wheel_files):
    path = PurePosixPath(name)
    if path.name in {"_core.c", "_core.html"} or path.suffix in {".o", ".obj", ".pyc"} or "__pycache__" in path.parts:
        problems.append(f"wheel ships a build leftover: {name}")
    if path.parts[0] not in {"md5steg"} and not path.parts[0].endswith(".dist-info"):
        problems.append(f"wheel installs something outside the package: {name}")
for needed in ("Requires-Python: >=3.9", "Requires-Dist: click", "Requires-Dist: rich",
               "Provides-Extra: serve", "Provides-Extra: dask", "Provides-Extra: bench",
               "Provides-Extra: test"):
    if needed not in metadata:
        problems.append(f"wheel METADATA lacks {needed!r}")
print(f"wheel: {len(wheel_files)} files; compiled: {sorted(n for n in package if n.endswith(('.so', '.pyd')))}")
for line in warnings:
    print(f"package-check: WARNING: {line}", file=sys.stderr)
for line in problems:
    print(f"package-check: {line}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

# The core tests: the ones [tool.cibuildwheel] test-command runs against every built wheel.
cibw_setting() {
    "$TOOLS/python" - "$REPO/pyproject.toml" "$1" <<'EOF'
import re, sys, tomllib
with open(sys.argv[1], "rb") as handle:
    config = tomllib.load(handle)["tool"]["cibuildwheel"]
value = config.get("test-command" if sys.argv[2] == "tests" else sys.argv[2], [])
value = [value] if isinstance(value, str) else value
if sys.argv[2] == "tests":
    value = re.findall(r"\{project\}/(tests/\S+\.py)", " ".join(value))
print("\n".join(value))
EOF
}
mapfile -t CORE_TESTS < <(cibw_setting tests)
mapfile -t CIBW_TEST_REQUIRES < <(cibw_setting test-requires)
mapfile -t CIBW_TEST_COMMANDS < <(cibw_setting test-command)
((${#CORE_TESTS[@]})) || fail "found no test files in [tool.cibuildwheel] test-command"
for path in "${CORE_TESTS[@]}"; do
    [[ -f "$REPO/$path" ]] || fail "[tool.cibuildwheel] test-command names $path, which does not exist"
done
echo "core tests: ${CORE_TESTS[*]}"


# ---- 2. the installed wheel, tested outside the tree --------------------------------------

step "2. install the wheel into a fresh venv and run the core tests outside the tree"
VENV="$WORK/venv"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "$WHEEL[test,serve]"
check_import_location "$VENV/bin/python" cython
"$VENV/bin/md5steg" --help >/dev/null || fail "the md5steg console script does not run"
run_tests_outside "$VENV/bin/python" "$WORK/run-cpython" --timeout=300 "${CORE_TESTS[@]}"

step "2b. the [tool.cibuildwheel] test-command with only its test-requires, as cibuildwheel runs it"
CIBW_VENV="$WORK/cibw-venv"
"$PYTHON" -m venv "$CIBW_VENV"
"$CIBW_VENV/bin/python" -m pip install -q "$WHEEL" "${CIBW_TEST_REQUIRES[@]}"
mkdir -p "$WORK/cibw-project" "$WORK/cibw-cwd"
cp -r "$REPO/tests" "$WORK/cibw-project/tests"
cp "$REPO/pyproject.toml" "$WORK/cibw-project/" # for its [tool.pytest.ini_options], as in {project}
for command in "${CIBW_TEST_COMMANDS[@]}"; do
    command=${command//\{project\}/$WORK/cibw-project}
    echo "+ $command"
    (cd "$WORK/cibw-cwd" && PATH="$CIBW_VENV/bin:$PATH" bash -c "$command")
done

# ---- 3. auditwheel ------------------------------------------------------------------------
step "3. auditwheel show"
"$TOOLS/auditwheel" show "$WHEEL"

# ---- 4. cibuildwheel build identifiers -----------------------------------------------------
step "4. cibuildwheel build identifiers; the wheels workflow validates"
"$TOOLS/check-jsonschema" --builtin-schema vendor.github-workflows "$REPO/.github/workflows/wheels.yml"
IDENTIFIERS="$WORK/identifiers.txt"
for platform in linux macos windows; do
    (cd "$REPO" && "$TOOLS/cibuildwheel" --print-build-identifiers --platform "$platform" .) >>"$IDENTIFIERS"
done
tr '\n' ' ' <"$IDENTIFIERS"
echo
"$TOOLS/python" - "$IDENTIFIERS" <<'EOF'
import re, sys
found = set(open(sys.argv[1]).read().split())
platforms = ["manylinux_x86_64", "manylinux_aarch64", "musllinux_x86_64", "musllinux_aarch64",
             "macosx_x86_64", "macosx_arm64", "win_amd64"]
expected = {f"cp{version}-{platform}" for version in (39, 310, 311, 312, 313, 314) for platform in platforms}
problems = [f"missing {name}" for name in sorted(expected - found)]
for name in sorted(found):
    python, platform = name.split("-", 1)
    if not re.fullmatch(r"cp3\d+", python) or platform not in platforms:
        problems.append(f"unexpected {name} (only CPython, non-free-threaded, on the 7 platforms)")
for line in problems:
    print(f"package-check: {line}", file=sys.stderr)
print(f"{len(found)} build identifiers, {len(expected)} required present" if not problems else "")
sys.exit(1 if problems else 0)
EOF

# ---- 5 and 6: collect the background steps --------------------------------------------------
background_failed=()
for index in "${!BACKGROUND_PIDS[@]}"; do
    step "${BACKGROUND_NAMES[$index]} (ran in the background)"
    status=0
    wait "${BACKGROUND_PIDS[$index]}" || status=$?
    cat "${BACKGROUND_LOGS[$index]}"
    if ((status != 0)); then background_failed+=("${BACKGROUND_NAMES[$index]}"); fi
done
BACKGROUND_PIDS=()
CURRENT_STEP="background: ${background_failed[*]:-}"
((${#background_failed[@]} == 0)) || exit 1

# ---- summary --------------------------------------------------------------------------------
CURRENT_STEP="summary"
printf '\n=== summary\n'
echo "build identifiers: $(wc -w <"$IDENTIFIERS") (linux, macos, windows)"
echo "wheel: $(basename "$WHEEL") $(($(stat -c %s "$WHEEL") / 1024)) KiB"
echo "sdist: $(basename "$SDIST") $(($(stat -c %s "$SDIST") / 1024)) KiB"
echo "package-check: all passed in $((SECONDS - START))s"
