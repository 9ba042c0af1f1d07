#!/bin/sh
# Installs what the browser test of the review console needs
# (tests/browser/review.sh): puppeteer-core, pinned with its sha512 in
# tests/browser/package-lock.json, into .cache/browser/ (gitignored).  It
# drives Debian's chromium (scripts/install-deps.sh installs it); puppeteer's
# own browser download is never used (puppeteer-core has none, and
# --ignore-scripts runs no install scripts).  Idempotent: does nothing when
# the installed copy was made from the same lockfile.
#
#   sh scripts/install-browser-deps.sh      (as root it may apt-get nodejs + npm)
set -eu
cd "$(dirname "$0")/.."
CACHE=${VOUCH_BROWSER_CACHE:-$(pwd)/.cache/browser}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm
  else
    echo "install-browser-deps.sh: node and npm are needed (apt-get install nodejs npm)" >&2
    exit 2
  fi
fi
stamp=$(sha256sum tests/browser/package-lock.json | cut -d' ' -f1)
if [ -f "$CACHE/stamp" ] && [ "$(cat "$CACHE/stamp")" = "$stamp" ] && [ -d "$CACHE/node_modules/puppeteer-core" ]; then
  echo "install-browser-deps.sh: $CACHE is up to date"
  exit 0
fi
mkdir -p "$CACHE"
cp tests/browser/package.json tests/browser/package-lock.json "$CACHE/"
# npm ci installs exactly the lockfile and checks each tarball's sha512.
(cd "$CACHE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
echo "$stamp" > "$CACHE/stamp"
echo "install-browser-deps.sh: puppeteer-core installed in $CACHE"
