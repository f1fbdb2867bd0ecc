#!/usr/bin/env bash
# Installs the Debian packages the test suite uses (bubblewrap, chromium) when they are missing
# and apt-get is usable.
set -euo pipefail
want=()
command -v bwrap >/dev/null 2>&1 || want+=(bubblewrap)
# Debian's Chromium for the inspector's browser tests (Playwright drives it; no browser download).
[ -x /usr/bin/chromium ] || want+=(chromium)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "sysdeps: missing ${want[*]} (install them with your package manager); tests that need them skip" >&2
  exit 0
fi
echo "sysdeps: installing ${want[*]}" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null
