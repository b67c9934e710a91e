#!/usr/bin/env bash
# Make sure GNU gettext is installed: makemessages needs xgettext, compilemessages msgfmt
# (tests/test_translation_ready.py runs both).
set -u
command -v xgettext >/dev/null && command -v msgfmt >/dev/null && exit 0
echo "GNU gettext is missing (xgettext, msgfmt); installing Debian's gettext…"
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO=sudo; else
    echo "Install it with: apt-get install gettext (needs root)" >&2; exit 1
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null 2>&1
command -v xgettext >/dev/null || { echo "Could not install gettext; install it with: apt-get install gettext" >&2; exit 1; }
