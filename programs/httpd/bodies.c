/* programs/httpd/bodies.c -- see bodies.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>
#include "vouch/hash.h"
#include "vouch/bank.h"
#include "bodies.h"

static int fail(vd_body_error *e, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(vd_body_error *e, unsigned status, const char *code, const char *fmt, ...) {
  va_list ap;
  e->status = status;
  e->code = code;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---- UTF-8 (RFC 3629 table 4): the library's check, vouch_utf8_valid() ---- */

int vd_utf8_valid(const char *s, size_t len) { return vouch_utf8_valid(s, len); }

void vd_utf8_scrub(char *s) {
  size_t len = strlen(s);
  for (size_t i = 0; i < len;) {
    /* the well-formed sequence at i is the shortest valid prefix (1..4 bytes) */
    size_t n = 0;
    for (size_t k = 1; k <= 4 && i + k <= len && !n; k++)
      if (vouch_utf8_valid(s + i, k)) n = k;
    if (n) {
      i += n;
    } else {
      s[i] = '?';
      i++;
    }
  }
}

size_t vd_json_count_values(const char *body, size_t len) {
  size_t n = 1;
  int in_str = 0;
  for (size_t i = 0; i < len; i++) {
    const char c = body[i];
    if (in_str) {
      if (c == '\\') i++;
      else if (c == '"') in_str = 0;
    } else if (c == '"') {
      in_str = 1;
    } else if (c == '[' || c == '{' || c == ',') {
      n++;
    }
  }
  return n;
}

int vd_parse_match_json(const char *body, size_t len, int algo, size_t max_batch, uint8_t **queries,
                        size_t *nq_out, unsigned *nvar_out, vd_body_error *err) {
  const size_t hb = vouch_algo_list_bytes(algo);
  *queries = NULL;
  /* at most max_batch photos of 8 hashes, plus the object, its key and the outer array */
  if (vd_json_count_values(body, len) > 8 + max_batch * (1 + VOUCH_DIHEDRAL_N))
    return fail(err, 413, "batch_too_large", "more JSON values than %zu queries can hold; nothing was parsed",
                max_batch);
  json_error_t jerr;
  json_t *doc = json_loadb(body, len, 0, &jerr);
  json_t *arr = doc ? json_object_get(doc, "hashes") : NULL;
  json_t *photos = doc ? json_object_get(doc, "photos") : NULL;
  size_t nq;
  unsigned nvar = 1;
  if (!doc || (!json_is_array(arr) && !json_is_array(photos))) {
    json_decref(doc);
    return fail(err, 400, "bad_json", "expected {\"hashes\":[HEX,...]} or {\"photos\":[[HEX,...],...]}%s%s",
                doc ? "" : ": ", doc ? "" : jerr.text);
  }
  if (json_is_array(photos)) {
    nq = json_array_size(photos);
    nvar = nq ? (unsigned)json_array_size(json_array_get(photos, 0)) : 0;
    if (nq && (nvar < 1 || nvar > VOUCH_DIHEDRAL_N)) {
      json_decref(doc);
      return fail(err, 400, "bad_json", "each photo is an array of 1 to 8 hashes");
    }
  } else {
    photos = NULL;
    nq = json_array_size(arr);
  }
  if (nq == 0 || nq > max_batch) {
    json_decref(doc);
    return fail(err, nq ? 413 : 400, nq ? "batch_too_large" : "bad_request",
                "between 1 and %zu queries per request", max_batch);
  }
  uint8_t *q = malloc(nq * nvar * hb);
  if (!q) {
    json_decref(doc);
    return fail(err, 413, "batch_too_large", "no memory for %zu queries", nq);
  }
  for (size_t i = 0; i < nq; i++) {
    json_t *group = photos ? json_array_get(photos, i) : NULL;
    if (photos && (!json_is_array(group) || json_array_size(group) != nvar)) {
      free(q);
      json_decref(doc);
      return fail(err, 400, "bad_json", "photos[%zu] must have %u hashes like photos[0]", i, nvar);
    }
    for (unsigned v = 0; v < nvar; v++) {
      const char *txt = json_string_value(photos ? json_array_get(group, v) : json_array_get(arr, i));
      if (!txt || vouch_hash_from_hex(txt, strlen(txt), q + (i * nvar + v) * hb, hb) != VOUCH_OK) {
        free(q);
        json_decref(doc);
        if (photos)
          return fail(err, 400, "bad_hash", "photos[%zu][%u] is not %zu hex digits (a %s hash)", i, v, 2 * hb,
                      vouch_algo_name(algo));
        return fail(err, 400, "bad_hash", "hashes[%zu] is not %zu hex digits (a %s hash)", i, 2 * hb,
                    vouch_algo_name(algo));
      }
    }
  }
  json_decref(doc);
  *queries = q;
  *nq_out = nq;
  *nvar_out = nvar;
  return 0;
}

int vd_valid_account(const char *a) {
  size_t n = strlen(a);
  if (n == 0 || n > 128) return 0;
  for (const char *p = a; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("._-:@", *p)))
      return 0;
  return 1;
}

void vd_free_vouchers(uint8_t **bufs, size_t *lens, size_t n) {
  for (size_t i = 0; bufs && i < n; i++) free(bufs[i]);
  free(bufs);
  free(lens);
}

int vd_parse_vouchers_json(const char *body, size_t len, size_t max_batch, size_t max_bytes,
                           char account[160], uint8_t ***bufs_out, size_t **lens_out, size_t *n_out,
                           vd_body_error *err) {
  *bufs_out = NULL;
  *lens_out = NULL;
  *n_out = 0;
  if (vd_json_count_values(body, len) > 8 + max_batch)
    return fail(err, 413, "batch_too_large", "more JSON values than %zu vouchers; nothing was parsed", max_batch);
  json_error_t jerr;
  json_t *doc = len ? json_loadb(body, len, 0, &jerr) : NULL;
  const char *acct = doc ? json_string_value(json_object_get(doc, "account")) : NULL;
  json_t *arr = doc ? json_object_get(doc, "vouchers") : NULL;
  *bufs_out = NULL;
  *lens_out = NULL;
  *n_out = 0;
  if (!acct || !json_is_array(arr)) {
    json_decref(doc);
    return fail(err, 400, "bad_json", "expected {\"account\":ID,\"vouchers\":[BASE64,...]}");
  }
  if (!vd_valid_account(acct)) {
    json_decref(doc);
    return fail(err, 400, "bad_account", "account ids are 1..128 letters, digits and . _ - : @");
  }
  size_t n = json_array_size(arr);
  if (n == 0 || n > max_batch) {
    json_decref(doc);
    return fail(err, n ? 413 : 400, n ? "batch_too_large" : "bad_request", "between 1 and %zu vouchers per request",
                max_batch);
  }
  uint8_t **bufs = calloc(n, sizeof *bufs);
  size_t *lens = calloc(n, sizeof *lens);
  if (!bufs || !lens) {
    free(bufs);
    free(lens);
    json_decref(doc);
    return fail(err, 413, "batch_too_large", "no memory for %zu vouchers", n);
  }
  for (size_t i = 0; i < n; i++) {
    const char *b64 = json_string_value(json_array_get(arr, i));
    size_t bl = b64 ? strlen(b64) : 0;
    bufs[i] = malloc(bl ? bl : 1);
    if (!b64 || !bufs[i] ||
        sodium_base642bin(bufs[i], bl, b64, bl, NULL, &lens[i], NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        lens[i] == 0 || lens[i] > max_bytes) {
      vd_free_vouchers(bufs, lens, n);
      json_decref(doc);
      return fail(err, 400, "bad_voucher", "vouchers[%zu]: not base64, or an impossible size; nothing was stored", i);
    }
  }
  snprintf(account, 160, "%s", acct);
  json_decref(doc);
  *bufs_out = bufs;
  *lens_out = lens;
  *n_out = n;
  return 0;
}
