/* tests/fuzz/fuzz_classify_model.c -- the classifier model loader on
 * arbitrary bytes.  Most inputs fail the checksum; so that the structural
 * checks behind it are fuzzed too, an input starting with '!' gets the
 * magic written over its first bytes and its checksum recomputed first.
 * Invariants: no crash or sanitizer report; the rc is one of the documented
 * ones with a message; a model that loads classifies a small image (with
 * both kernels) into a probability distribution or a DB_CORRUPT error when
 * its arbitrary weights overflow. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "vouch/vouch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0)
    abort();
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  if (size >= 104 && buf[0] == '!') {
    memcpy(buf, "VOUCHCLS", 8);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, buf, 72);
    crypto_hash_sha256_update(&st, buf + 104, size - 104);
    crypto_hash_sha256_final(&st, buf + 72);
  }
  vouch_classify_model *m = NULL;
  char why[VOUCH_ERRMSG_MAX];
  memset(why, 'x', sizeof why);
  int rc = vouch_classify_model_load(&m, buf, size, why, sizeof why);
  if (!memchr(why, 0, sizeof why)) /* always a terminated string */
    abort();
  if (rc != VOUCH_OK) {
    if (m || !why[0] || (rc != VOUCH_E_DB_CORRUPT && rc != VOUCH_E_DB_VERSION && rc != VOUCH_E_NOMEM))
      abort();
  } else {
    vouch_classifier *a = NULL, *b = NULL;
    vouch_classifier_opts scalar = {1};
    vouch_image img = {0};
    if (vouch_classifier_create(&a, m, NULL) == VOUCH_OK && vouch_classifier_create(&b, m, &scalar) == VOUCH_OK &&
        vouch_image_init(&img, 17, 9, 3) == VOUCH_OK) {
      for (size_t i = 0; i < img.stride * img.height; i++)
        img.pixels[i] = (uint8_t)(i * 31);
      float pa[5], pb[5];
      int ra = vouch_classifier_run(a, &img, pa), rb = vouch_classifier_run(b, &img, pb);
      if ((ra != VOUCH_OK && ra != VOUCH_E_DB_CORRUPT) || (rb != VOUCH_OK && rb != VOUCH_E_DB_CORRUPT))
        abort();
      /* weights are finite but arbitrary, so the output may overflow: then
       * the run says so (DB_CORRUPT); otherwise it is a distribution */
      if (ra == VOUCH_OK) {
        double sum = 0;
        for (int k = 0; k < 5; k++) {
          if (!(pa[k] >= 0.0f && pa[k] <= 1.0f))
            abort();
          sum += pa[k];
        }
        if (fabs(sum - 1.0) > 1e-4)
          abort();
      }
    }
    vouch_image_clear(&img);
    vouch_classifier_free(a);
    vouch_classifier_free(b);
    vouch_classify_model_free(m);
  }
  free(buf);
  return 0;
}
