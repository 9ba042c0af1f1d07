#!/bin/sh
# Builds vouch with ThreadSanitizer (build-tsan/) and runs the test suite
# there: the threaded search, hashing jobs, table builds and vouchd's index
# swap under load must show no data race.  scripts/test.sh runs only the
# threaded CLI and vouchd tests under ThreadSanitizer; this runs all of them
# (about 4 minutes here).  Run it after changing threaded code.
# Skips unit/test_classify_ref (the slow reference comparison; no threads)
# and ct/psi (valgrind on an instrumented binary).
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc)
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOUCH_TSAN=ON >/dev/null
cmake --build build-tsan -j"$JOBS"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  ctest --test-dir build-tsan --output-on-failure -j"$JOBS" -E "classify_ref|ct/" --timeout 1800
