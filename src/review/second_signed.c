/* src/review/second_signed.c -- a source's signed second hashes for one of
 * its signed lists (review.h, docs/review.md "Signed second hashes"): the
 * file `vouch audit source seconds` writes and `vouch bank import --signed
 * LIST.vsl --seconds LIST.vss` reads.  A .vsl (docs/audit.md) is left as it
 * is, so every signed list made before verifies and builds audit tables as
 * before; the second hashes travel next to it, signed by the same source key
 * and bound to that one list by its key, version and hashes digest.
 *
 *   0    8   "VCHSSH01"
 *   8    32  the list's source public key
 *   40   8   the list's version
 *   48   32  the list's hashes digest (SHA-256 of its hashes)
 *   80   1   the list's algorithm
 *   81   8   count n (at most the list's count)
 *   89   n * (hb + VOUCH_DERIV_HASH_BYTES)  (hash, second hash) pairs, hashes
 *            strictly ascending and each one of the list's
 *   ...  64  Ed25519 signature over "vouch/source-seconds/v1" || 0x00 ||
 *            SHA-256(bytes 0 .. end of the pairs)
 * Integers are little-endian.  No trailing bytes. */
#include <string.h>
#include <sodium.h>
#include "vouch/review.h"
#include "audit/audit_internal.h"
#include "common/internal.h"

#define SSH_MAGIC "VCHSSH01"
#define SSH_HEADER (8U + 32U + 8U + 32U + 1U + 8U)
#define CTX_SECONDS "vouch/source-seconds/v1"

/* Position of `hash` among the list's hashes (ascending), or -1. */
static int64_t list_find(const vouch_audit_list *l, const uint8_t *hash) {
  uint64_t lo = 0, hi = l->count;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    int c = memcmp(l->hashes + mid * l->hash_bytes, hash, l->hash_bytes);
    if (c == 0) return (int64_t)mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

static void header(const vouch_audit_list *l, uint64_t n, uint8_t *p) {
  memcpy(p, SSH_MAGIC, 8);
  memcpy(p + 8, l->source.pk, 32);
  vouch__store64_le(p + 40, l->list_version);
  memcpy(p + 48, l->hashes_digest, 32);
  p[80] = (uint8_t)l->algo;
  vouch__store64_le(p + 81, n);
}

int vouch_second_signed_make(const vouch_audit_secret_key *key, const uint8_t *vsl, size_t vsl_len,
                             const vouch_second_list *seconds, uint8_t **out, size_t *out_len) {
  if (out) *out = NULL;
  if (out_len) *out_len = 0;
  if (!key || !vsl || !seconds || !out || !out_len) return VOUCH_E_INVALID;
  vouch_audit_list l;
  VOUCH_TRY(vouch_audit_list_open(vsl, vsl_len, &l));
  if (memcmp(l.source.pk, key->id.pk, 32) != 0) return VOUCH_E_AUDIT_SIGNATURE; /* another source's list */
  if (l.algo != VOUCH_ALGO_PDQ) return VOUCH_E_ALGO_MISMATCH;                 /* second hashes are PDQ's */
  const size_t pair = l.hash_bytes + VOUCH_DERIV_HASH_BYTES, ns = vouch_second_list_count(seconds);
  /* which of the list's hashes have a second hash: the first for each */
  uint8_t *have = vouch__calloc(l.count ? l.count : 1, 1);
  const uint8_t **sec = vouch__calloc(l.count ? l.count : 1, sizeof *sec);
  if (!have || !sec) {
    vouch__free(have);
    vouch__free(sec);
    return VOUCH_E_NOMEM;
  }
  uint64_t n = 0;
  for (size_t i = 0; i < ns; i++) {
    const uint8_t *h, *s;
    if (vouch_second_list_get(seconds, i, &h, &s) != VOUCH_OK || !s) continue;
    int64_t k = list_find(&l, h);
    if (k >= 0 && !have[k]) have[k] = 1, sec[k] = s, n++;
  }
  size_t total = SSH_HEADER + (size_t)n * pair + VOUCH_AUDIT_SIG_BYTES;
  uint8_t *buf = vouch__malloc(total);
  int rc = VOUCH_OK;
  if (!buf) {
    rc = VOUCH_E_NOMEM;
  } else {
    header(&l, n, buf);
    size_t o = SSH_HEADER;
    for (uint64_t k = 0; k < l.count; k++) {
      if (!have[k]) continue;
      memcpy(buf + o, l.hashes + k * l.hash_bytes, l.hash_bytes);
      memcpy(buf + o + l.hash_bytes, sec[k], VOUCH_DERIV_HASH_BYTES);
      o += pair;
    }
    uint8_t d[32];
    crypto_hash_sha256(d, buf, o);
    vouch__sign_digest(CTX_SECONDS, d, key->sk, buf + o);
    *out = buf;
    *out_len = total;
  }
  vouch__free(have);
  vouch__free(sec);
  return rc;
}

int vouch_second_signed_open(const uint8_t *buf, size_t len, const vouch_audit_list *list, vouch_second_signed *out) {
  if (!buf || !list || !out) return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  if (len < 8 || memcmp(buf, SSH_MAGIC, 6) != 0) return VOUCH_E_AUDIT_FORMAT;
  if (memcmp(buf, SSH_MAGIC, 8) != 0) return VOUCH_E_DB_VERSION; /* a later version of the format */
  if (len < SSH_HEADER + VOUCH_AUDIT_SIG_BYTES) return VOUCH_E_AUDIT_FORMAT;
  /* bound to this list: its key, version, hashes and algorithm */
  if (memcmp(buf + 8, list->source.pk, 32) != 0 || vouch__load64_le(buf + 40) != list->list_version ||
      memcmp(buf + 48, list->hashes_digest, 32) != 0 || buf[80] != (uint8_t)list->algo)
    return VOUCH_E_AUDIT_POLICY;
  const size_t hb = list->hash_bytes, pair = hb + VOUCH_DERIV_HASH_BYTES;
  const uint64_t n = vouch__load64_le(buf + 81);
  if (hb == 0 || n > list->count || (len - SSH_HEADER - VOUCH_AUDIT_SIG_BYTES) % pair != 0 ||
      (len - SSH_HEADER - VOUCH_AUDIT_SIG_BYTES) / pair != n)
    return VOUCH_E_AUDIT_FORMAT;
  const uint8_t *pairs = buf + SSH_HEADER;
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *p = pairs + i * pair;
    if ((i && memcmp(p - pair, p, hb) >= 0) || list_find(list, p) < 0 || p[hb] != VOUCH_DERIV_HASH_VERSION)
      return VOUCH_E_AUDIT_FORMAT;
  }
  uint8_t d[32];
  crypto_hash_sha256(d, buf, SSH_HEADER + (size_t)n * pair);
  VOUCH_TRY(vouch__verify_digest(CTX_SECONDS, d, list->source.pk, buf + SSH_HEADER + (size_t)n * pair));
  out->count = n;
  out->hash_bytes = hb;
  out->pairs = pairs;
  return VOUCH_OK;
}

const uint8_t *vouch_second_signed_find(const vouch_second_signed *s, const uint8_t *hash) {
  if (!s || !hash || !s->hash_bytes) return NULL;
  const size_t pair = s->hash_bytes + VOUCH_DERIV_HASH_BYTES;
  uint64_t lo = 0, hi = s->count;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    int c = memcmp(s->pairs + mid * pair, hash, s->hash_bytes);
    if (c == 0) return s->pairs + mid * pair + s->hash_bytes;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}
