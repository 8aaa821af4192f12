#!/usr/bin/env bash
# Debian packages the test suite uses when present: headless Chromium for the
# browser test. Installed only when missing and when we are root with apt-get;
# elsewhere the tests that need them skip with a reason.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: not root or no apt-get; browser tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
