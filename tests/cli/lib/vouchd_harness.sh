# tests/cli/lib/vouchd_harness.sh -- sourced by the vouchd tests: skips
# without curl; a scratch directory $T, removed on exit along with the
# server whose pid is in $PID; check NAME COMMAND... counts into $pass/$fail;
# code ARGS... runs curl and prints the HTTP status, the body in $T/body
# (at most $CODE_MAX_TIME seconds, default 60).
command -v curl >/dev/null || { echo "curl not installed; skipping"; exit 77; }
T=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
check() { local n=$1; shift; if "$@"; then pass=$((pass+1)); else echo "FAIL: $n" >&2; fail=$((fail+1)); fi; }
code() { curl -s -o "$T/body" -w '%{http_code}' --max-time "${CODE_MAX_TIME:-60}" "$@"; }
