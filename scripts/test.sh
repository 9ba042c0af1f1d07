#!/bin/sh
# Second command of the README: builds and runs the whole test suite three
# times: the portable scalar build (build-portable/: no SIMD intrinsics or
# multi-versioned kernels), under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/), and the normal optimised build (build/), whose summary comes
# last.  Before that summary it builds the libFuzzer targets with clang
# (build-fuzz/, ASan+UBSan) and runs each once over its corpus, so the real
# fuzzers keep compiling and agree with the regression drivers, and runs the
# threaded CLI and vouchd tests under ThreadSanitizer (build-tsan/).  The
# portable and release runs also include the Python package's pytest suite on
# Debian's python3 (ctest python/pytest) and the Debian package test (pkg/deb).
# Installs dependencies first when run as root.  Exits non-zero if any test
# fails.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
  sh scripts/install-deps.sh
  sh scripts/fetch-model.sh   # the classifier's model (npm package, converted once)
elif command -v npm >/dev/null 2>&1; then
  sh scripts/fetch-model.sh || echo "fetch-model.sh failed: the classify tests will be skipped" >&2
fi
JOBS=$(nproc)
status=0
echo "== release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
echo "== portable (scalar) build"
cmake -S . -B build-portable -DCMAKE_BUILD_TYPE=Release -DVOUCH_PORTABLE=ON >/dev/null
cmake --build build-portable -j"$JOBS"
echo "== tests (portable scalar build)"
ctest --test-dir build-portable --output-on-failure -j"$JOBS" || status=1
echo "== ASan+UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVOUCH_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$JOBS" || status=1
if command -v clang >/dev/null 2>&1; then
  echo "== libFuzzer targets (clang, ASan+UBSan): each runs once over its corpus"
  CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOUCH_FUZZ=ON -DVOUCH_SANITIZE=ON >/dev/null
  targets=$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c; done)
  # shellcheck disable=SC2086
  cmake --build build-fuzz -j"$JOBS" --target $targets
  for t in $targets; do
    c=tests/fuzz/corpus/${t#fuzz_}
    if ASAN_OPTIONS=detect_leaks=1 build-fuzz/fuzz/"$t" -runs=0 "$c" >build-fuzz/"$t".log 2>&1; then
      echo "$t: $(ls "$c" | wc -l) inputs ok"
    else
      echo "$t: FAILED (build-fuzz/$t.log)"; tail -20 build-fuzz/"$t".log; status=1
    fi
  done
fi
echo "== ThreadSanitizer: the threaded CLI and vouchd tests (scripts/test-tsan.sh runs everything)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOUCH_TSAN=ON >/dev/null
cmake --build build-tsan -j"$JOBS"
if build-tsan/vouch --version >/dev/null 2>&1; then
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    ctest --test-dir build-tsan --output-on-failure -j"$JOBS" -R 'cli/(vouchd|vouchd_api|vouchd_stress|vouchd_attack_work|vouchd_attack_slow|vouchd_video|vouchd_hma|vouchd_hma_exchange|vouchd_hma_types|vouchd_review|vouchd_second_bank|review_pg|vouchd_sync|vouchd_follow|hash|video|bank_match)$' || status=1
else
  echo "ThreadSanitizer binaries do not start on this machine (kernel address-space layout); skipped"
fi
echo "== tests (release build)"
ctest --test-dir build --output-on-failure -j"$JOBS" || status=1
exit $status
