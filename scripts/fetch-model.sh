#!/bin/sh
# Installs the pinned nsfwjs npm package (and the tfjs reference used by the
# classify tests and benchmark) into a cache folder, verifies it, and converts
# its MobileNetV2 weights once into the vouch model file that `vouch classify`
# reads.  The weights are never committed and never fetched at run time.
#
#   sh scripts/fetch-model.sh            (as root it may apt-get nodejs + npm)
#
# Cache: $VOUCH_CLASSIFY_CACHE, default .cache/classify/ in the source tree
# (gitignored).  Output: $CACHE/nsfw-mobilenet-v2.vcm.  Idempotent: when the
# model is there and was made from the same lockfile and converter, it does
# nothing (a few milliseconds).
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
CACHE=${VOUCH_CLASSIFY_CACHE:-$SRC/.cache/classify}
MODEL=$CACHE/nsfw-mobilenet-v2.vcm
# npm's own integrity string for nsfwjs 4.4.0 (npm view nsfwjs@4.4.0 dist.integrity)
NSFWJS_INTEGRITY='sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA=='

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
  else
    echo "fetch-model.sh: node and npm are needed (apt-get install nodejs npm)" >&2
    exit 2
  fi
fi

# The lockfile pins every package with its sha512; make sure nobody changed
# the one whose weights we convert.
grep -q "\"integrity\": \"$NSFWJS_INTEGRITY\"" scripts/classify/package-lock.json || {
  echo "fetch-model.sh: scripts/classify/package-lock.json does not pin nsfwjs 4.4.0 ($NSFWJS_INTEGRITY)" >&2
  exit 1
}

stamp=$(cat scripts/classify/package-lock.json scripts/classify/convert.js | sha256sum | cut -d' ' -f1)
if [ -f "$MODEL" ] && [ -f "$CACHE/stamp" ] && [ "$(cat "$CACHE/stamp")" = "$stamp" ] &&
   [ -d "$CACHE/node_modules/@tensorflow/tfjs" ]; then
  echo "fetch-model.sh: $MODEL is up to date"
  exit 0
fi

mkdir -p "$CACHE"
cp scripts/classify/package.json scripts/classify/package-lock.json "$CACHE/"
# npm ci installs exactly the lockfile and checks each tarball's sha512.
(cd "$CACHE" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
# Check the installed copy against the pinned integrity too (npm ci already
# refuses a tarball whose sha512 differs; this guards the lockfile itself).
node -e '
const l = require(process.argv[1]);
const p = l.packages["node_modules/nsfwjs"];
if (!p || p.version !== "4.4.0" || p.integrity !== process.argv[2]) { console.error("nsfwjs is not the pinned 4.4.0"); process.exit(1); }
' "$CACHE/node_modules/.package-lock.json" "$NSFWJS_INTEGRITY"
node scripts/classify/convert.js "$CACHE/node_modules" "$MODEL"
echo "$stamp" > "$CACHE/stamp"
