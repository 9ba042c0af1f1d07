/*
 * src/common/internal.h -- helpers shared by the library's modules.
 * Not API: programs must not include this.  Cross-file internal symbols use
 * the vouch__ prefix; file-local ones are static.
 */
#ifndef VOUCH_INTERNAL_H
#define VOUCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "vouch/errors.h"

#define VOUCH_HIDDEN __attribute__((visibility("hidden")))

/* All library allocations go through these, so tests can inject failures. */
VOUCH_HIDDEN void *vouch__malloc(size_t n);
VOUCH_HIDDEN void *vouch__calloc(size_t n, size_t size);
VOUCH_HIDDEN void *vouch__realloc(void *p, size_t n);
VOUCH_HIDDEN void vouch__free(void *p);

/* Test hook: after `n` more successful allocations in this thread, every
 * allocation fails until reset with a negative n.  Per thread, so parallel
 * tests do not disturb each other.  Exported for the test programs only
 * (declared here, not in include/). */
VOUCH_API void vouch__test_fail_allocs_after(long n);

/* Runs fn on each of n jobs (an array of job_size-byte elements): job 0 on
 * the calling thread, the others on threads of their own (up to
 * VOUCH__MAX_JOB_THREADS; a job whose thread cannot start, or past that,
 * runs on the calling thread).  Returns when all are done.  Each job
 * reports its result in its own element. */
#define VOUCH__MAX_JOB_THREADS 256U
VOUCH_HIDDEN void vouch__run_jobs(void *(*fn)(void *), void *jobs, size_t job_size, unsigned n);

/* Error detail (vouch/errors.h, "Error detail"): formats the detail into
 * buf (cap bytes, always NUL-terminated; nothing if buf is NULL or cap 0)
 * and returns rc, so a failure reads `return vouch__errf(h->errmsg, sizeof
 * h->errmsg, VOUCH_E_IO, "%s: ...", path);`.  For handles' errmsg fields and
 * callers' err/err_cap buffers alike. */
VOUCH_HIDDEN int vouch__errf(char *buf, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Grows the array whose pointer is at `pp` (any object pointer type:
 * `&o->v`) and whose capacity in elements is *cap to hold at least `need`
 * elements of `size` bytes: capacity doubles, starting from `first`.
 * @return : VOUCH_OK (also when there was room), or VOUCH_E_NOMEM with the
 *           array and *cap unchanged. */
VOUCH_HIDDEN int vouch__grow(void *pp, size_t *cap, size_t need, size_t size, size_t first);

/* Returns rc from the enclosing function if the expression is not VOUCH_OK. */
#define VOUCH_TRY(expr)                 \
  do {                                  \
    int vouch__rc_ = (expr);            \
    if (vouch__rc_ != VOUCH_OK)         \
      return vouch__rc_;                \
  } while (0)

/* Overflow-checked size arithmetic: returns 0 on overflow. */
static inline int vouch__mul_ok(size_t a, size_t b, size_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}
static inline int vouch__add_ok(size_t a, size_t b, size_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

/* Fixed byte order loads and stores. */
static inline uint32_t vouch__load32_le(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void vouch__store32_le(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint64_t vouch__load64_le(const uint8_t *p) {
  return (uint64_t)vouch__load32_le(p) | (uint64_t)vouch__load32_le(p + 4) << 32;
}
static inline void vouch__store64_le(uint8_t *p, uint64_t v) {
  vouch__store32_le(p, (uint32_t)v);
  vouch__store32_le(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t vouch__load16_le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint16_t vouch__load16_be(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t vouch__load32_be(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

#endif /* VOUCH_INTERNAL_H */
