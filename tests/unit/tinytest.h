/* tests/unit/tinytest.h -- the smallest test harness that does the job.
 * CHECK(cond) records a failure and goes on; REQUIRE(cond) stops the test.
 * TT_RUN(fn) runs one test function.  TT_MAIN_END returns 1 if anything
 * failed.  Tests that need ../shared data call tt_shared_dir(), which makes
 * the program exit 77 (ctest "skipped") when the data is absent. */
#ifndef TINYTEST_H
#define TINYTEST_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The tests' deterministic random numbers: xorshift64* on the caller's state. */
static inline uint64_t tt_xorshift(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static int tt_failures;
static int tt_checks;

#define CHECK(cond)                                                        \
  do {                                                                     \
    tt_checks++;                                                           \
    if (!(cond)) {                                                         \
      tt_failures++;                                                       \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                 \
  do {                                                                     \
    long long tt_a_ = (long long)(a), tt_b_ = (long long)(b);              \
    tt_checks++;                                                           \
    if (tt_a_ != tt_b_) {                                                  \
      tt_failures++;                                                       \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,  \
              __LINE__, #a, #b, tt_a_, tt_b_);                             \
    }                                                                      \
  } while (0)

#define CHECK_EQ_STR(a, b)                                                 \
  do {                                                                     \
    const char *tt_a_ = (a), *tt_b_ = (b);                                 \
    tt_checks++;                                                           \
    if (strcmp(tt_a_, tt_b_) != 0) {                                       \
      tt_failures++;                                                       \
      fprintf(stderr, "%s:%d: %s == %s failed:\n  got  %s\n  want %s\n",   \
              __FILE__, __LINE__, #a, #b, tt_a_, tt_b_);                   \
    }                                                                      \
  } while (0)

#define REQUIRE(cond)                                                      \
  do {                                                                     \
    tt_checks++;                                                           \
    if (!(cond)) {                                                         \
      tt_failures++;                                                       \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
      return;                                                              \
    }                                                                      \
  } while (0)

#define TT_RUN(fn)                                                         \
  do {                                                                     \
    int tt_before_ = tt_failures;                                          \
    fn();                                                                  \
    fprintf(stderr, "%-40s %s\n", #fn, tt_failures == tt_before_ ? "ok" : "FAILED"); \
  } while (0)

#define TT_MAIN_END                                                        \
  do {                                                                     \
    fprintf(stderr, "%d checks, %d failed\n", tt_checks, tt_failures);     \
    return tt_failures ? 1 : 0;                                            \
  } while (0)

/* The shared/ folder (test vectors), or exit 77 (skip) when absent. */
static inline const char *tt_shared_dir(void) {
  const char *d = getenv("VOUCH_SHARED");
  struct stat st;
  if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "shared test data not found (VOUCH_SHARED); skipping\n");
    exit(77);
  }
  return d;
}

/* Reads a whole file into a malloc'd buffer (caller frees); NULL on error. */
static inline unsigned char *tt_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  if (buf) *len = (size_t)n;
  return buf;
}
#endif
