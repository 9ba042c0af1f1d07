/* bench/bench_clock.h -- the clocks the benchmarks time with, and their
 * random-number step.
 * Single-threaded timings use the calling thread's CPU time, so that other
 * processes on a shared machine do not inflate them; multi-threaded work
 * also reports wall-clock time (bench_wall) and process CPU time. */
#ifndef VOUCH_BENCH_CLOCK_H
#define VOUCH_BENCH_CLOCK_H
#include <stdint.h>
#include <time.h>

static inline double bench_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static inline double now(void) { return bench_clock(CLOCK_THREAD_CPUTIME_ID); }
static inline double wall(void) { return bench_clock(CLOCK_MONOTONIC); }
static inline double proc_cpu(void) { return bench_clock(CLOCK_PROCESS_CPUTIME_ID); }

/* One xorshift64 step of *s (Marsaglia's 13, 7, 17): the benches' test data. */
static inline uint64_t bench_xorshift64(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

#endif
