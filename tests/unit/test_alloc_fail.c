/* tests/unit/test_alloc_fail.c -- every allocation failure is handled.
 * Fails the n-th allocation for n = 0, 1, 2, ... (SQLite's fault-injection
 * idea, curl's torture mode) through decoding and hashing a real photo with
 * every algorithm, until a run completes without hitting the injected
 * failure.  Each run must end in VOUCH_OK or VOUCH_E_NOMEM -- never a crash,
 * never another code; ASan's leak checker sees every path in the ASan build. */
#include <stdlib.h>
#include <string.h>
#include "tinytest.h"
#include "vouch/vouch.h"
#include "common/internal.h"

static unsigned char *photo;
static size_t photo_len;

/* One full run; returns the first non-OK code, or VOUCH_OK. */
static int run_once(int exact) {
  vouch_decode_opts o = vouch_decode_opts_default();
  if (!exact) o.min_side = 64; /* the scaled path */
  vouch_decoder *dec = NULL;
  vouch_hasher *h = NULL;
  vouch_image img = {0};
  int rc = vouch_decoder_create(&dec, &o);
  if (rc == VOUCH_OK) rc = vouch_hasher_create(&h);
  if (rc == VOUCH_OK) rc = vouch_decoder_decode(dec, photo, photo_len, &img);
  static const int algos[4] = {VOUCH_ALGO_PDQ, VOUCH_ALGO_PHASH, VOUCH_ALGO_DHASH, VOUCH_ALGO_AHASH};
  for (int k = 0; k < 4 && rc == VOUCH_OK; k++) {
    uint8_t out[8 * 32];
    rc = vouch_hash_image(h, algos[k], &img, VOUCH_HASH_DIHEDRAL, out, sizeof out, NULL);
  }
  vouch_image_clear(&img);
  vouch_hasher_free(h);
  vouch_decoder_free(dec);
  return rc;
}

/* The streamed path: vouch_hash_encoded() on the JPEG bytes. */
static int run_encoded(void) {
  vouch_decode_opts o = vouch_decode_opts_default();
  vouch_decoder *dec = NULL;
  vouch_hasher *h = NULL;
  int rc = vouch_decoder_create(&dec, &o);
  if (rc == VOUCH_OK) rc = vouch_hasher_create(&h);
  uint8_t out[8 * 32];
  if (rc == VOUCH_OK)
    rc = vouch_hash_encoded(h, dec, photo, photo_len, VOUCH_ALGO_PDQ, VOUCH_HASH_DIHEDRAL, out, sizeof out, NULL, NULL, NULL);
  vouch_hasher_free(h);
  vouch_decoder_free(dec);
  return rc;
}

static void test_encoded_failure_points(void) {
  long n;
  int completed = 0;
  for (n = 0; n < 10000; n++) {
    vouch__test_fail_allocs_after(n);
    int rc = run_encoded();
    vouch__test_fail_allocs_after(-1);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
    if (rc == VOUCH_OK) {
      completed = 1;
      break;
    }
  }
  fprintf(stderr, "streamed path: %ld allocation failure points, each handled\n", n);
  CHECK(completed);
  CHECK(n >= 3);
}

static void test_every_failure_point(void) {
  for (int exact = 0; exact < 2; exact++) {
    long n;
    int completed = 0;
    for (n = 0; n < 10000; n++) {
      vouch__test_fail_allocs_after(n);
      int rc = run_once(exact);
      vouch__test_fail_allocs_after(-1);
      if (rc != VOUCH_OK && rc != VOUCH_E_NOMEM)
        fprintf(stderr, "fail after %ld allocations: unexpected %s\n", n, vouch_strerror(rc));
      CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
      if (rc == VOUCH_OK) {
        completed = 1;
        break;
      }
    }
    fprintf(stderr, "%s path: %ld allocation failure points, each handled\n", exact ? "exact" : "scaled", n);
    CHECK(completed);
    CHECK(n > 3); /* the run really allocates, so the injection really bit */
  }
}

int main(void) {
  const char *src = getenv("VOUCH_SRC");
  char path[4096];
  snprintf(path, sizeof path, "%s/examples/bridge-square.jpg", src ? src : ".");
  photo = tt_read_file(path, &photo_len);
  if (!photo) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  TT_RUN(test_every_failure_point);
  TT_RUN(test_encoded_failure_points);
  free(photo);
  TT_MAIN_END;
}
