/* src/index/exact.c -- the search of an index of exact file digests (md5,
 * sha1, sha256; vouch_algo_is_digest()).  Entries are stored in canonical
 * order, which sorts them by hash first (docs/index-format.md), and the
 * loader has checked that order: a binary search finds the run of entries
 * equal to a query.  Only equal digests match (distance 0); the radius and
 * the engine do not apply. */
#include <stdlib.h>
#include <string.h>
#include "index_internal.h"

/* The first entry whose hash is >= h. */
static size_t lower_bound(const vouch_index *idx, const uint8_t *h) {
  size_t lo = 0, hi = idx->count;
  const size_t hb = idx->hash_bytes;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (memcmp(idx->hashes + mid * hb, h, hb) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static int cmp_entry(const void *pa, const void *pb) {
  const vouch_match *a = pa, *b = pb;
  return a->entry < b->entry ? -1 : a->entry > b->entry;
}

int vouch__exact_search(const vouch_index *idx, const uint8_t *queries, size_t nq, unsigned nvar,
                        vouch_match **out, size_t *nout) {
  vidx_out o = {0};
  const size_t hb = idx->hash_bytes;
  int rc = VOUCH_OK;
  for (size_t q = 0; q < nq && rc == VOUCH_OK; q++) {
    const size_t before = o.n;
    const uint8_t *qh = queries + q * nvar * hb;
    for (unsigned v = 0; v < nvar && rc == VOUCH_OK; v++) {
      const uint8_t *h = qh + v * hb;
      /* entries equal to two variants are the same run: report it once, with the lowest */
      int earlier = 0;
      for (unsigned u = 0; u < v && !earlier; u++) earlier = !memcmp(qh + u * hb, h, hb);
      if (earlier) continue;
      for (size_t e = lower_bound(idx, h); e < idx->count && !memcmp(idx->hashes + e * hb, h, hb) && rc == VOUCH_OK; e++)
        rc = vouch__out_push(&o, (uint32_t)q, (uint32_t)e, 0, v);
    }
    /* by entry within the query, as the other engines order equal distances
     * (one variant's run is in entry order already) */
    if (rc == VOUCH_OK && nvar > 1 && o.n - before > 1) qsort(o.v + before, o.n - before, sizeof *o.v, cmp_entry);
  }
  if (rc != VOUCH_OK) {
    vouch__free(o.v);
    return rc;
  }
  *out = o.v;
  *nout = o.n;
  return VOUCH_OK;
}
