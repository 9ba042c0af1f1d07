#!/bin/sh
# Installs what bench/faiss_compare.py needs (Debian 12): FAISS's Python module
# and numpy.  Only for benchmarks; building and testing vouch does not need it.
# Run as root (or through sudo).
set -eu
PKGS="python3 python3-numpy python3-faiss"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo "$0" "$@"; fi
  echo "install-bench-deps.sh: must run as root (apt-get)" >&2; exit 2
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi
