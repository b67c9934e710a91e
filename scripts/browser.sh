#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (Playwright drives it), with the
# CJK fonts the demo data's Chinese needs (without them screenshots show empty boxes).
set -u
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
has_cjk_fonts() { command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .; }
[ -x "$CHROMIUM" ] && has_cjk_fonts && exit 0
echo "Chromium or CJK fonts missing; installing Debian's chromium and fonts-noto-cjk…"
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; else
    echo "Install them with: apt-get install chromium fonts-noto-cjk (needs root)" >&2; exit 1
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1
[ -x "$CHROMIUM" ] || { echo "Could not install chromium; install it with: apt-get install chromium fonts-noto-cjk" >&2; exit 1; }
has_cjk_fonts || echo "warning: no CJK font found (apt-get install fonts-noto-cjk); screenshots will show boxes" >&2
