#!/bin/sh
# Install the Debian packages of the given groups (build, test, bench) that are missing.
# Reads scripts/packages.txt. Needs root to install; without root it only reports.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
groups="${*:-build test}"
want=""
for g in $groups; do
    want="$want $(awk -v g="$g" '$1 == g { print $2 }' "$here/packages.txt")"
done
missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
    fi
done
if [ -z "$missing" ]; then
    echo "install-deps: all packages for [$groups] are present"
    exit 0
fi
echo "install-deps: missing:$missing"
if [ "$(id -u)" != "0" ]; then
    echo "install-deps: not root; install them with: sudo apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: installed$missing"
