#!/usr/bin/env bash
# `make cross-check`: the C core for aarch64, built with GCC and Clang (-Werror), and every
# kernel it has (NEON and scalar) checked against tools/cross_check.c's reference MD5 under
# qemu-user. Prints one line per compiler and kernel with its candidate count and mismatches;
# fails if any check fails or a build has no NEON kernel.
# Installs what it lacks from Debian when root (quietly); otherwise says what to install.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SYSROOT=/usr/aarch64-linux-gnu
WORK=$(mktemp -d "${TMPDIR:-/tmp}/md5steg-cross-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "cross-check: $*" >&2; exit 1; }

missing=()
for deb in gcc-aarch64-linux-gnu libc6-dev-arm64-cross clang qemu-user; do
    dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q 'install ok installed' || missing+=("$deb")
done
if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null ||
        fail "missing Debian packages (${missing[*]}); install them or run as root"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

flags=(-O2 -Wall -Wextra -Werror -static -I "$REPO/src/md5steg" -DMD5STEG_CHECK_SIMD "$REPO/tools/cross_check.c" -lm)
status=0
for compiler in gcc clang; do
    case $compiler in
        gcc) command=(aarch64-linux-gnu-gcc -std=c99 -Wpedantic) ;;
        clang) command=(clang --target=aarch64-linux-gnu --sysroot="$SYSROOT") ;;
    esac
    "${command[@]}" "${flags[@]}" -o "$WORK/$compiler"
    label="aarch64 $compiler $("${command[0]}" -dumpversion)"
    qemu-aarch64 -L "$SYSROOT" "$WORK/$compiler" >"$WORK/$compiler.log" || status=1
    # "ok   kernel neon: N candidates, 0 mismatches (...)" -> "aarch64 gcc 12: kernel neon: ..."
    awk -v label="$label" '$2 == "kernel" { sub(/^ok +/, ""); print label ": " $0 } /^ /' "$WORK/$compiler.log"
    grep -q '^ok   kernel neon: .*, 0 mismatches' "$WORK/$compiler.log" ||
        { cat "$WORK/$compiler.log"; fail "$label: no passing NEON kernel"; }
    if grep -q '^FAIL' "$WORK/$compiler.log"; then cat "$WORK/$compiler.log"; status=1; fi
done
((status == 0)) || fail "a kernel disagrees with the reference MD5 (above)"
echo "cross-check: all kernels agree with the reference MD5 on aarch64 (gcc and clang, qemu-user)"
