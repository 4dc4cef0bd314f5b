#!/usr/bin/env bash
# Check the Debian/Ubuntu packages a make target needs; install the missing ones where we can.
#
#   scripts/system-deps.sh [--for WHAT] [--warn] [--dry-run] PACKAGE...
#
# Installed already: silent, exit 0. Missing: as root (or with password-less sudo) they are
# installed with apt-get (index updated first, output kept quiet); otherwise one line names the
# command to run and the exit status is 1 (with --warn: 0, for targets that work without them).
# --dry-run installs nothing and says what it would run. Without dpkg (not Debian) nothing can
# be checked: a note names the Debian packages to look for and the script carries on.
set -euo pipefail

usage="usage: system-deps.sh [--for WHAT] [--warn] [--dry-run] PACKAGE..."
what="tui-speech"  # who needs the packages, for the messages
warn=0
dry_run=0
packages=()
while [ $# -gt 0 ]; do
    case "$1" in
        --for) what=${2:?$usage}; shift ;;
        --warn) warn=1 ;;
        --dry-run) dry_run=1 ;;
        -*) echo "system-deps.sh: unknown option $1" >&2; exit 2 ;;
        *) packages+=("$1") ;;
    esac
    shift
done
[ ${#packages[@]} -gt 0 ] || { echo "$usage" >&2; exit 2; }

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "note: cannot check system packages here (no dpkg); $what needs the equivalents of" \
        "these Debian packages: ${packages[*]}" >&2
    exit 0
fi

missing() {
    local pkg
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || echo "$pkg"
    done
}

mapfile -t absent < <(missing)
[ ${#absent[@]} -eq 0 ] && exit 0

give_up() {
    echo "$what needs system packages that are missing: ${absent[*]}; install them with:" >&2
    echo "    sudo apt-get install ${absent[*]}" >&2
    [ "$warn" -eq 1 ] && exit 0
    exit 1
}

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)  # never a password prompt: CI has no stdin
else
    give_up
fi
command -v apt-get >/dev/null 2>&1 || give_up

if [ "$dry_run" -eq 1 ]; then
    echo "would run: ${as_root[*]:+${as_root[*]} }apt-get update -qq &&" \
        "${as_root[*]:+${as_root[*]} }apt-get install -y -qq --no-install-recommends ${absent[*]}" >&2
    give_up
fi

echo "$what: installing system packages: ${absent[*]} (apt-get)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${absent[@]}"; } >"$log" 2>&1; then
    tail -n 5 "$log" >&2
    give_up
fi
mapfile -t absent < <(missing)
[ ${#absent[@]} -eq 0 ] || give_up
