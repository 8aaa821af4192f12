#!/usr/bin/env bash
# Packaging check: what we ship builds, installs and passes its tests outside the source tree.
#   1. check-manifest (sdist == tracked files), sdist + wheel (from the sdist), twine check
#   2. the wheel in a fresh venv: console script, import location, [tool.cibuildwheel] test-command
#   3. auditwheel show;  4. cibuildwheel build identifiers and the workflow schema
#   5. PyPy: install the sdist (pure engine), run the pure tests     } in the background
#   6. the C core's kernels with gcc and clang, -Werror              } beside 1-4
#      (aarch64 and its NEON kernel: tools/cross_check.sh, `make cross-check`)
# Needs PyPI and (as root, for missing tools) Debian. Writes only to a temp dir.
# Usage: .ci/package-check.sh  (PYTHON=python3.11 picks the interpreter; KEEP_WORK=1 keeps the temp dir)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/md5steg-package-check.XXXXXX")
cleanup() { # stop our background steps, then remove (or keep) the temp dir
    kill $(jobs -p) 2>/dev/null || true
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
step() { printf '\n=== %s (%ds)\n' "$1" "$SECONDS"; }
fail() { echo "package-check: $*" >&2; exit 1; }

# Copy the tests to $2, check from there that $1 imports md5steg from site-packages, not the checkout.
outside() {
    mkdir -p "$2/cwd" && cp -r "$REPO/tests" "$REPO/pyproject.toml" "$2/"
    (cd "$2/cwd" && "$1" -c "import md5steg; p = md5steg.__file__; print(p)
assert 'site-packages' in p and not p.startswith('$REPO'), 'md5steg imported from the checkout'")
}
pypy_check() {
    pypy3 -m venv "$WORK/pypy"
    "$WORK/pypy/bin/python" -m pip install -q "$SDIST" pytest hypothesis pytest-timeout
    outside "$WORK/pypy/bin/python" "$WORK/run-pypy"
    cd "$WORK/run-pypy" && "$WORK/pypy/bin/python" -m pytest -p no:cacheprovider -q tests/test_engine_py.py tests/test_content.py tests/test_find.py
}
c_core_check() {
    local flags=(-O2 -Wall -Wextra -Werror -I "$REPO/src/md5steg" -DMD5STEG_CHECK_SIMD "$REPO/tools/cross_check.c" -lm) out=$WORK/cross
    mkdir -p "$out"
    gcc -std=c99 -Wpedantic "${flags[@]}" -o "$out/gcc"
    "$out/gcc"
    clang "${flags[@]}" -o "$out/clang"
    "$out/clang"
}
background() { # background NAME FUNCTION: run beside the other steps; `collect` waits for it
    "$2" >"$WORK/$2.log" 2>&1 & PIDS+=("$!:$2:$1")
}
collect() {
    local entry status=0
    for entry in "${PIDS[@]}"; do
        step "${entry#*:*:} (in the background)"
        wait "${entry%%:*}" || status=1
        cat "$WORK/$(cut -d: -f2 <<<"$entry").log"
    done
    ((status == 0)) || fail "a background step failed (log above)"
}

step "0. tools"
missing=()
for deb in gcc clang pypy3 pypy3-venv python3-dev python3-venv; do
    dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q 'install ok installed' || missing+=("$deb")
done
if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || fail "missing Debian packages (${missing[*]}); install them or run as root"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$PYTHON" -m venv "$WORK/tools"
TOOLS=$WORK/tools/bin
"$TOOLS/pip" install -q build cibuildwheel==4.3.3 auditwheel twine check-manifest check-jsonschema # cibuildwheel: as in wheels.yml
PIDS=()
background "6. C core: every kernel with gcc and clang" c_core_check

step "1. check-manifest, sdist and wheel, twine check"
"$TOOLS/check-manifest" "$REPO" --ignore '.gitignore,.ci/**,.github/**,benchmarks/**,docs/**,examples/**,tools/**,Makefile' ||
    fail "the sdist and the tracked files differ: fix MANIFEST.in"
"$TOOLS/python" -m build --sdist --outdir "$WORK/dist" "$REPO" >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; fail "sdist build failed"; }
SDIST=$(ls "$WORK"/dist/*.tar.gz)
background "5. PyPy: the pure engine from the sdist" pypy_check
# Built from the sdist, so a file missing from it breaks the wheel; a compile error must fail it.
MD5STEG_REQUIRE_EXTENSIONS=1 "$TOOLS/python" -m build --wheel --outdir "$WORK/dist" "$SDIST" >>"$WORK/build.log" 2>&1 ||
    { tail -40 "$WORK/build.log"; fail "wheel build failed"; }
WHEEL=$(ls "$WORK"/dist/*.whl)
"$TOOLS/twine" check --strict "$SDIST" "$WHEEL"
"$TOOLS/python" -m zipfile -l "$WHEEL" | awk '{print $1}' >"$WORK/wheel.txt"
for needed in 'md5steg/_core\..*(so|pyd)$' 'md5steg/_core\.pyi$' 'md5steg/py\.typed$' 'md5steg/content\.py$'; do
    grep -Eq "$needed" "$WORK/wheel.txt" || fail "the wheel lacks $needed"
done
! grep -E '\.(c|o|pyc|html)$|__pycache__' "$WORK/wheel.txt" || fail "the wheel ships build leftovers (above)"

step "2. the wheel in a fresh venv, tested outside the tree as cibuildwheel does"
"$PYTHON" -m venv "$WORK/venv"
read -r -a REQUIRES < <("$TOOLS/python" -c "import tomllib; print(*tomllib.load(open('$REPO/pyproject.toml', 'rb'))['tool']['cibuildwheel']['test-requires'])")
"$WORK/venv/bin/pip" install -q "$WHEEL" "${REQUIRES[@]}"
"$WORK/venv/bin/md5steg" --help >/dev/null || fail "the md5steg console script does not run"
outside "$WORK/venv/bin/python" "$WORK/project"
"$TOOLS/python" -c "import tomllib; print(*tomllib.load(open('$REPO/pyproject.toml', 'rb'))['tool']['cibuildwheel']['test-command'], sep='\n')" |
    while read -r command; do
        echo "+ $command"
        (cd "$WORK/project/cwd" && PATH="$WORK/venv/bin:$PATH" bash -c "${command//\{project\}/$WORK/project}")
    done

step "3. auditwheel show"
"$TOOLS/auditwheel" show "$WHEEL"

step "4. cibuildwheel build identifiers; the wheels workflow validates"
"$TOOLS/check-jsonschema" --builtin-schema vendor.github-workflows "$REPO/.github/workflows/wheels.yml"
for platform in linux macos windows; do
    (cd "$REPO" && "$TOOLS/cibuildwheel" --print-build-identifiers --platform "$platform" .)
done | tee "$WORK/ids.txt" | tr '\n' ' '
# Only CPython, not free-threaded, on 7 platforms; at least 3.9-3.14 on each.
! grep -Ev '^cp3[0-9]+-((many|musl)linux_(x86_64|aarch64)|macosx_(x86_64|arm64)|win_amd64)$' "$WORK/ids.txt" ||
    fail "unexpected build identifiers (above)"
for version in 39 310 311 312 313 314; do
    for platform in {many,musl}linux_{x86_64,aarch64} macosx_{x86_64,arm64} win_amd64; do
        grep -qx "cp$version-$platform" "$WORK/ids.txt" || fail "no cp$version-$platform wheel would be built"
    done
done

collect
echo "package-check: all passed in ${SECONDS}s ($(basename "$WHEEL"))"
