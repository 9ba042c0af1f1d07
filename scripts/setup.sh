#!/bin/sh
# First command of the README: installs the Debian packages vouch needs (as
# root, via apt-get) and the classifier's model, builds build/vouch and build/vouchd,
# and runs the main jobs on the bundled examples: hashing, matching, classifying.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
sh scripts/fetch-model.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
echo
echo "== vouch hash: PDQ hash, quality and file of each example image"
./build/vouch hash examples/*.jpg
echo
echo "== the same, with the 8 rotations/flips, as JSON (first line)"
./build/vouch hash --dihedral --json examples/bridge.jpg
echo
echo "== bridge-rotated.jpg is bridge.jpg turned 90 degrees: its hash is close to the rot90 variant"
./build/vouch hash --dihedral --json examples/bridge.jpg examples/bridge-rotated.jpg |
  python3 -c 'import json,sys
a,b=[json.loads(l) for l in sys.stdin]
d=lambda x,y: bin(int(x,16)^int(y,16)).count("1")
print("distance original vs rotated photo: %d bits" % d(a["hash"], b["hash"]))
print("distance rot90 variant vs rotated photo: %d bits" % d(a["dihedral"][1], b["hash"]))'
echo
echo "== vouch bank + index + match: a list holding bridge.jpg's hash finds its rotated copy, not wee.jpg"
T=$(mktemp -d)
./build/vouch hash --exact --json examples/bridge.jpg > "$T/list.jsonl"
./build/vouch bank create --db "$T/demo.sqlite" demo-list
./build/vouch bank import --db "$T/demo.sqlite" demo-list "$T/list.jsonl" --source demo 2>/dev/null
./build/vouch index build --db "$T/demo.sqlite" -o "$T/demo.vidx" >/dev/null
./build/vouch match --index "$T/demo.vidx" --dihedral --json examples/bridge-rotated.jpg examples/wee.jpg || true
rm -rf "$T"
echo
echo "== vouch classify: the on-device classifier (nsfwjs MobileNetV2 in C); nothing leaves the machine"
./build/vouch classify examples/*.jpg || true
