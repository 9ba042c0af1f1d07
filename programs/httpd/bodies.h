/* programs/httpd/bodies.h -- parsing of JSON request bodies, apart from the
 * HTTP plumbing so it can be fuzzed (tests/fuzz/fuzz_http_body.c).  Bodies
 * are untrusted: any bytes give either success or an error with an HTTP
 * status, a stable code and a message naming the offending field. */
#ifndef VOUCHD_BODIES_H
#define VOUCHD_BODIES_H
#include <stddef.h>
#include <stdint.h>

typedef struct vd_body_error {
  unsigned status;   /* 400 or 413 */
  const char *code;  /* "bad_json", "bad_hash", "batch_too_large", "bad_request", "bad_account", "bad_voucher" */
  char message[256];
} vd_body_error;

/* 1 iff s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * surrogates or code points past U+10FFFF). */
int vd_utf8_valid(const char *s, size_t len);
/* Replaces every byte of an invalid UTF-8 sequence in the C string by '?'. */
void vd_utf8_scrub(char *s);

/* An upper bound on the number of JSON values in body[0..len), counted
 * without building anything: every '[' '{' and ',' outside strings, plus one.
 * Lets a caller refuse a huge array before jansson materialises it. */
size_t vd_json_count_values(const char *body, size_t len);

/* {"hashes":[HEX,...]} (each hash one query, nvar = 1) or
 * {"photos":[[HEX x 1..8], ...]} (each inner array one photo's variants).
 * On success *queries (malloc'd, caller frees) holds nq * nvar hashes of
 * hash_bytes each.  Returns 0, or -1 with *err set. */
int vd_parse_match_json(const char *body, size_t len, int algo, size_t max_batch, uint8_t **queries,
                        size_t *nq, unsigned *nvar, vd_body_error *err);

/* Account ids: 1..128 of letters, digits and . _ - : @ */
int vd_valid_account(const char *a);

/* {"account":ID,"vouchers":[BASE64,...]}: decodes every voucher (1 to
 * max_bytes bytes each, at most max_batch of them).  On success `account`
 * holds the id, and *bufs and *lens (free with vd_free_vouchers) the vouchers.
 * Returns 0, or -1 with *err set. */
int vd_parse_vouchers_json(const char *body, size_t len, size_t max_batch, size_t max_bytes,
                           char account[160], uint8_t ***bufs, size_t **lens, size_t *n,
                           vd_body_error *err);
void vd_free_vouchers(uint8_t **bufs, size_t *lens, size_t n);
#endif
