#!/bin/sh
# Installs everything vouch needs to build and test on Debian 12, from Debian packages.
# Run as root (or through sudo).  Safe to run again: apt-get skips what is installed.
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev \
  libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev \
  libsodium-dev libsqlite3-dev sqlite3 libpq-dev postgresql libmicrohttpd-dev libjansson-dev libxml2-dev libcurl4-openssl-dev \
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg \
  curl imagemagick python3 gnuplot-nox \
  python3-cffi python3-pytest python3-pip \
  dpkg-dev file systemd \
  chromium"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo "$0" "$@"; fi
  echo "install-deps.sh: must run as root (apt-get)" >&2; exit 2
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
# The review console's browser test: puppeteer-core from npm (pinned lockfile)
sh "$(dirname "$0")/install-browser-deps.sh"
