#!/usr/bin/env bash
# The headless browser for the console's browser tests: Debian's Chromium package (Playwright
# drives it; no test tool downloads a browser of its own). Does nothing when one is installed.
set -euo pipefail
for candidate in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1; then
    exit 0
  fi
done
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: no Chromium and no apt-get; install Chromium and set CHROMIUM=<its path>" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo -n"
fi
echo "install-browser: installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null \
  || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null; }
command -v chromium >/dev/null
