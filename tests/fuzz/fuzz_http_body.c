/* tests/fuzz/fuzz_http_body.c -- vouchd's JSON request bodies.
 * The first byte picks the parser (match body for PDQ or a 64-bit index, or
 * the voucher batch); the rest is the body.  Invariants: any bytes give
 * success or an error with status 400/413 and a code; on success the counts
 * are within the limits, every hash round-trips through hex, the account is
 * valid and every voucher is within its size bounds.  On every input, also:
 * vd_utf8_valid() agrees with jansson's own UTF-8 check, vd_utf8_scrub()
 * leaves valid UTF-8 of the same length, and vd_json_count_values() is never
 * below the number of values jansson builds (the bound the server relies on
 * to refuse a huge array before parsing it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "vouch/hash.h"
#include "../../programs/httpd/bodies.h"

#define MAX_BATCH 64

static size_t count_values(json_t *j) {
  size_t n = 1;
  if (json_is_array(j))
    for (size_t i = 0; i < json_array_size(j); i++) n += count_values(json_array_get(j, i));
  else if (json_is_object(j))
    for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it))
      n += count_values(json_object_iter_value(it));
  return n;
}

static void check_text_helpers(const char *p, size_t n) {
  json_t *s = json_stringn(p, n);
  if (vd_utf8_valid(p, n) != (s != NULL)) abort();
  json_decref(s);
  char *copy = malloc(n + 1);
  if (!copy) return;
  memcpy(copy, p, n);
  copy[n] = 0;
  size_t cl = strlen(copy);
  vd_utf8_scrub(copy);
  if (strlen(copy) != cl || !vd_utf8_valid(copy, cl)) abort();
  free(copy);
  json_error_t jerr;
  json_t *doc = json_loadb(p, n, JSON_DECODE_ANY, &jerr);
  if (doc && count_values(doc) > vd_json_count_values(p, n)) abort();
  json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  check_text_helpers((const char *)data + 1, size - 1);
  const char *body = (const char *)data + 1;
  size_t len = size - 1;
  vd_body_error err;
  memset(&err, 0, sizeof err);
  if (data[0] % 3 != 2) {
    int algo = data[0] % 3 == 0 ? VOUCH_ALGO_PDQ : VOUCH_ALGO_PHASH;
    size_t hb = vouch_algo_bytes(algo);
    uint8_t *q = NULL;
    size_t nq = 0;
    unsigned nvar = 0;
    if (vd_parse_match_json(body, len, algo, MAX_BATCH, &q, &nq, &nvar, &err) == 0) {
      if (!q || nq < 1 || nq > MAX_BATCH || nvar < 1 || nvar > 8) abort();
      for (size_t i = 0; i < nq * nvar; i++) {
        char hex[VOUCH_HASH_HEX_BYTES];
        uint8_t back[VOUCH_HASH_MAX_BYTES];
        if (vouch_hash_to_hex(q + i * hb, hb, hex, sizeof hex) != VOUCH_OK ||
            vouch_hash_from_hex(hex, 2 * hb, back, hb) != VOUCH_OK || memcmp(back, q + i * hb, hb) != 0)
          abort();
      }
      free(q);
    } else if ((err.status != 400 && err.status != 413) || !err.code || q) {
      abort();
    }
  } else {
    char account[160];
    uint8_t **bufs = NULL;
    size_t *lens = NULL, n = 0;
    if (vd_parse_vouchers_json(body, len, MAX_BATCH, 4096, account, &bufs, &lens, &n, &err) == 0) {
      if (!vd_valid_account(account) || n < 1 || n > MAX_BATCH) abort();
      for (size_t i = 0; i < n; i++)
        if (lens[i] < 1 || lens[i] > 4096) abort();
      vd_free_vouchers(bufs, lens, n);
    } else if ((err.status != 400 && err.status != 413) || !err.code || bufs) {
      abort();
    }
  }
  return 0;
}
