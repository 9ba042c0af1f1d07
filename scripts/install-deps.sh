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
. "$(dirname "$0")/lib/apt.sh"
# shellcheck disable=SC2086
apt_install install-deps.sh $PKGS
# The review console's browser test: puppeteer-core from npm (pinned lockfile)
sh "$(dirname "$0")/install-browser-deps.sh"
