/* src/common/common.c -- version, init, error strings, the allocator, the
 * job runner. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <stdatomic.h>
#include "vouch/common.h"
#include "vouch/errors.h"
#include "internal.h"

int vouch_version_number(void) { return VOUCH_VERSION_NUMBER; }
const char *vouch_version_string(void) { return VOUCH_VERSION_STRING; }

#ifdef VOUCH_HAVE_SODIUM
#include <sodium.h>
#endif

int vouch_init(void) {
  static atomic_int state; /* 0 = not yet, 1 = done: process-wide by nature */
  int expected = 0;
  if (atomic_load(&state) == 1)
    return 1;
#ifdef VOUCH_HAVE_SODIUM
  if (sodium_init() < 0)
    return -1;
#endif
  if (!atomic_compare_exchange_strong(&state, &expected, 1))
    return 1;
  return 0;
}

const char *vouch_strerror(int rc) {
  switch (rc) {
  case VOUCH_OK: return "ok";
  case VOUCH_E_NOMEM: return "out of memory";
  case VOUCH_E_INVALID: return "invalid argument";
  case VOUCH_E_LIMIT: return "limit exceeded";
  case VOUCH_E_UNSUPPORTED: return "not supported";
  case VOUCH_E_INTERNAL: return "internal error";
  case VOUCH_E_NOT_FOUND: return "not found";
  case VOUCH_E_EXISTS: return "already exists";
  case VOUCH_E_IMAGE_FORMAT: return "not a supported image format";
  case VOUCH_E_IMAGE_CORRUPT: return "corrupt or truncated image";
  case VOUCH_E_IMAGE_TOO_LARGE: return "image too large";
  case VOUCH_E_IMAGE_EMPTY: return "empty image";
  case VOUCH_E_IMAGE_TOO_SMALL: return "image too small";
  case VOUCH_E_VIDEO_FORMAT: return "not a video we can decode";
  case VOUCH_E_VIDEO_CORRUPT: return "corrupt or truncated video";
  case VOUCH_E_VIDEO_TOO_LARGE: return "video frame too large";
  case VOUCH_E_VIDEO_TOO_LONG: return "video too long";
  case VOUCH_E_HASH_PARSE: return "malformed hash";
  case VOUCH_E_DB_CORRUPT: return "corrupt database or index file";
  case VOUCH_E_DB_VERSION: return "unsupported file format version";
  case VOUCH_E_DB: return "database error";
  case VOUCH_E_ALGO_MISMATCH: return "hash algorithm mismatch";
  case VOUCH_E_DB_BUSY: return "database locked by another connection";
  case VOUCH_E_PSI_FORMAT: return "malformed protocol message";
  case VOUCH_E_PSI_AUTH: return "protocol message failed authentication";
  case VOUCH_E_PSI_PARAMS: return "inconsistent protocol parameters";
  case VOUCH_E_PSI_VERSION: return "protocol data of an older format version (made by an older vouch for exact keys only; regenerate the public data and vouchers)";
  case VOUCH_E_AUDIT_PROOF: return "proof does not verify";
  case VOUCH_E_AUDIT_SIGNATURE: return "signature does not verify";
  case VOUCH_E_AUDIT_POLICY: return "audit policy not met";
  case VOUCH_E_AUDIT_FORMAT: return "malformed audit file";
  case VOUCH_E_AUDIT_FORK: return "log fork: two heads for one version";
  case VOUCH_E_AUDIT_UNTRUSTED: return "not signed by a trusted key or not linked to a trusted root";
  case VOUCH_E_IO: return "I/O error";
  default: return "unknown error";
  }
}

int vouch_rc_class(int rc) {
  if (rc < 10 || rc > 99)
    return 0;
  return rc - rc % 10;
}

/* ---- allocator with per-thread failure injection (tests only) ---- */
static _Thread_local long fail_after = -1;

void vouch__test_fail_allocs_after(long n) { fail_after = n; }

static int should_fail(void) {
  if (fail_after < 0)
    return 0;
  if (fail_after == 0)
    return 1;
  fail_after--;
  return 0;
}

void *vouch__malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *vouch__calloc(size_t n, size_t size) { return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1); }
void *vouch__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void vouch__free(void *p) { free(p); }

void vouch__run_jobs(void *(*fn)(void *), void *jobs, size_t job_size, unsigned n) {
  pthread_t th[VOUCH__MAX_JOB_THREADS];
  int started[VOUCH__MAX_JOB_THREADS] = {0};
  char *j = jobs;
  for (unsigned t = 1; t < n && t < VOUCH__MAX_JOB_THREADS; t++)
    started[t] = pthread_create(&th[t], NULL, fn, j + t * job_size) == 0;
  if (n)
    fn(j);
  for (unsigned t = 1; t < n; t++) {
    if (t < VOUCH__MAX_JOB_THREADS && started[t])
      pthread_join(th[t], NULL);
    else
      fn(j + t * job_size); /* no thread for it: its share runs here */
  }
}

void vouch_free(void *p) { vouch__free(p); }

int vouch__errf(char *buf, size_t cap, int rc, const char *fmt, ...) {
  if (!buf || cap == 0)
    return rc;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  return rc;
}

int vouch__grow(void *pp, size_t *cap, size_t need, size_t size, size_t first) {
  if (need <= *cap)
    return VOUCH_OK;
  size_t nc = *cap ? *cap : (first ? first : 1), bytes;
  while (nc < need) {
    if (!vouch__mul_ok(nc, 2, &nc))
      return VOUCH_E_NOMEM;
  }
  if (!vouch__mul_ok(nc, size, &bytes))
    return VOUCH_E_NOMEM;
  void *p, *np;
  memcpy(&p, pp, sizeof p); /* the caller's pointer, whatever its type */
  if (!(np = vouch__realloc(p, bytes)))
    return VOUCH_E_NOMEM;
  memcpy(pp, &np, sizeof np);
  *cap = nc;
  return VOUCH_OK;
}
