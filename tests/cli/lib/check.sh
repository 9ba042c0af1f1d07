# tests/cli/lib/check.sh -- sourced by CLI tests: $V (the vouch binary),
# $SRC (the source tree), $EX (the bundled examples), a scratch directory
# $T removed on exit, and check NAME COMMAND... counting into $pass/$fail.
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { local n=$1; shift; if "$@"; then pass=$((pass+1)); else echo "FAIL: $n" >&2; fail=$((fail+1)); fi; }
