#!/usr/bin/env bash
# Debian packages the test suite uses when present: headless Chromium for the browser
# test, and pocl (OpenCL on the CPU) so the OpenCL backend's tests run the real kernel.
# Installed only when missing and when we are root with apt-get; elsewhere the tests
# that need them skip with a reason.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg-query -W -f='${Status}' pocl-opencl-icd 2>/dev/null | grep -q "ok installed" ||
  missing+=(pocl-opencl-icd ocl-icd-libopencl1)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: not root or no apt-get; tests needing ${missing[*]} will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
