#!/bin/sh
# Installs what bench/faiss_compare.py needs (Debian 12): FAISS's Python module
# and numpy.  Only for benchmarks; building and testing vouch does not need it.
# Run as root (or through sudo).
set -eu
PKGS="python3 python3-numpy python3-faiss"
. "$(dirname "$0")/lib/apt.sh"
# shellcheck disable=SC2086
apt_install install-bench-deps.sh $PKGS
