#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (Playwright drives it).
set -u
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0
echo "Chromium is missing ($CHROMIUM); installing Debian's chromium…"
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; else
    echo "Install it with: apt-get install chromium (needs root)" >&2; exit 1
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1
[ -x "$CHROMIUM" ] || { echo "Could not install chromium; install it with: apt-get install chromium" >&2; exit 1; }
