# tests/cli/lib/vouchd_attack.sh -- sourced after vouchd_harness.sh by the
# attack tests (tests/cli/vouchd_attack_*.sh): start a server, read its peak
# RSS, and time /healthz.  Attacks come from 127.0.0.2 and up (the whole of
# 127/8 is loopback) so that the per-address connection limit does not also
# refuse the probes, which come from 127.0.0.1.
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
command -v python3 >/dev/null || { echo "python3 not installed; skipping"; exit 77; }
# start_vouchd ARGS...: sets PID, P (port) and U (base URL)
start_vouchd() {
  rm -f "$T/port"
  "$D" --listen 127.0.0.1:0 --port-file "$T/port" --no-access-log "$@" 2>> "$T/log" &
  PID=$!
  for _ in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
  P=$(cat "$T/port")
  U=http://127.0.0.1:$P
}
stop_vouchd() { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }
# peak resident set of the server so far, in MB
hwm_mb() { awk '/^VmHWM/{print int($2/1024)}' "/proc/$PID/status"; }
# resident set now, in MB
rss_mb() { awk '/^VmRSS/{print int($2/1024)}' "/proc/$PID/status"; }
# Time limits are the targets in release builds; sanitizer builds (several
# times slower) set VOUCH_TIME_SCALE (CMakeLists.txt) and the limits scale.
S=${VOUCH_TIME_SCALE:-1}
# ms_lt MS LIMIT: MS < LIMIT x S
ms_lt() { test "$1" -lt $(( $2 * S )); }
# healthz_within SECONDS: /healthz answers 200 in time (x S)
healthz_within() { test "$(curl -s -o /dev/null -w '%{http_code}' --max-time $(( $1 * S )) "$U/healthz")" = 200; }
# code ARGS...: the HTTP status of a curl request; the body lands in $T/body
CODE_MAX_TIME=30  # seconds per request for code() (lib/vouchd_harness.sh)
