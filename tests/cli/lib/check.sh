# tests/cli/lib/check.sh -- sourced by test scripts: a scratch directory $T,
# removed on exit, and check NAME COMMAND..., which runs COMMAND and counts it
# into $pass or $fail (printing "FAIL: NAME" on stderr).  The script ends with
#   echo "name: $pass passed, $fail failed"; [ "$fail" -eq 0 ]
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
check() { # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $name" >&2; fail=$((fail + 1)); fi
}
