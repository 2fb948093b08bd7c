#!/bin/sh
# Makes a headless Chromium available for the browser tests (tests/browser.py).
#
# Usage: sh tests/browser_setup.sh [STATUS_FILE]
#
# If chromium, chromium-browser or google-chrome is on PATH, nothing is done. Otherwise, as
# root (or with passwordless sudo) and where apt-get exists, Debian's `chromium` package is
# installed; only the browser: no fonts, because the report embeds its own CJK font and the
# tests must show that it renders without any system font. The apt calls are time-boxed.
#
# Prints one line saying what it did. It never fails the build: when Chromium cannot be had
# it prints why and exits 0, and the browser tests skip with that line. The line is also
# written to STATUS_FILE (the Makefile passes .venv/browser-setup.txt), where the tests
# read the reason they skip.

STATUS_FILE=${1:-}
APT_TIMEOUT=${BROWSER_SETUP_TIMEOUT:-300}

report() {
    echo "browser_setup: $1"
    if [ -n "$STATUS_FILE" ] && [ -d "$(dirname "$STATUS_FILE")" ]; then
        echo "$1" > "$STATUS_FILE" 2>/dev/null || true
    fi
    exit 0
}

find_browser() {
    for name in chromium chromium-browser google-chrome; do
        path=$(command -v "$name" 2>/dev/null) && { echo "$path"; return 0; }
    done
    return 1
}

if found=$(find_browser); then
    report "headless Chromium found at $found; nothing to install"
fi

if [ "$(id -u)" = 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    SUDO="sudo -n"
else
    report "no chromium on PATH and not root (no passwordless sudo) to install it; install the package chromium"
fi

if ! command -v apt-get >/dev/null 2>&1; then
    report "no chromium on PATH and no apt-get to install it; install Chromium or Chrome by hand"
fi

if command -v timeout >/dev/null 2>&1; then
    TIMEOUT="timeout $APT_TIMEOUT"
else
    TIMEOUT=
fi

apt_update() {
    $SUDO $TIMEOUT apt-get update -qq >/dev/null 2>&1
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive $SUDO $TIMEOUT apt-get install -y -qq \
        --no-install-recommends -o DPkg::Lock::Timeout=60 chromium >/dev/null 2>&1
}

has_candidate() {
    candidate=$(apt-cache policy chromium 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    [ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

start=$(date +%s)
updated=no
# Refresh the package lists only when they do not know chromium yet, or when an install
# from stale lists fails (a mirror that has moved on gives 404s).
if ! has_candidate; then
    apt_update && updated=yes
fi
if ! apt_install && [ "$updated" = no ]; then
    apt_update && updated=yes && apt_install
fi
seconds=$(( $(date +%s) - start ))

if found=$(find_browser); then
    version=$("$found" --version 2>/dev/null | head -n 1)
    report "installed ${version:-chromium} at $found with apt-get in ${seconds}s (apt-get update: $updated)"
fi
report "could not install chromium with apt-get (apt-get update: $updated, ${seconds}s, time limit ${APT_TIMEOUT}s per call); the browser tests skip"
