/* src/index/delta.c -- snapshot + delta (vouch_index_derive()).
 *
 * A derived handle is a copy of its snapshot's fields, so the engines of
 * search.c and mih.c run on it unchanged over the snapshot's entries; it
 * borrows the snapshot's mapping, bank names and MIH tables through one
 * reference (index_internal.h) and owns its delta:
 *   - the added entries, copied and sorted in canonical order, numbered
 *     count, count + 1, ... after the snapshot's;
 *   - the removed entry ids, sorted: snapshot entries with these ids are
 *     never reported.
 * The contract it keeps is that of a file rebuilt from the same state: per
 * query, matches ordered by (distance, canonical entry order).  The
 * snapshot's results come in that order (entry numbers are canonical); the
 * added entries are scanned in canonical order and sorted by (distance,
 * entry number), which is canonical among them; the two lists are merged
 * with vouch__entry_cmp() between a snapshot entry and an added one.
 */
#include <stdlib.h>
#include <string.h>
#include "index_internal.h"

struct vidx_delta {
  size_t n;          /* added entries */
  uint8_t *hashes;   /* n * hash_bytes */
  uint64_t *ids;
  uint32_t *bank;
  size_t *ext_off, *ext_len, *src_off, *src_len; /* into str */
  char *str;
  uint64_t *rem;     /* removed entry ids, sorted, unique, no 0 */
  size_t nrem;
  size_t bytes;      /* heap held */
};

void vouch__delta_free(struct vidx_delta *d) {
  if (!d) return;
  vouch__free(d->hashes);
  vouch__free(d->ids);
  vouch__free(d->bank);
  vouch__free(d->ext_off);
  vouch__free(d->ext_len);
  vouch__free(d->src_off);
  vouch__free(d->src_len);
  vouch__free(d->str);
  vouch__free(d->rem);
  vouch__free(d);
}

size_t vouch__delta_count(const vouch_index *idx) { return idx && idx->delta ? idx->delta->n : 0; }
size_t vouch__delta_memory(const vouch_index *idx) { return idx && idx->delta ? idx->delta->bytes : 0; }

void vouch_index_delta_size(const vouch_index *idx, size_t *nadd, size_t *nrem) {
  const struct vidx_delta *d = idx ? idx->delta : NULL;
  if (nadd) *nadd = d ? d->n : 0;
  if (nrem) *nrem = d ? d->nrem : 0;
}

int vouch__delta_get(const vouch_index *idx, size_t k, vouch_index_entry *e) {
  const struct vidx_delta *d = idx->delta;
  if (!d || k >= d->n)
    return VOUCH_E_INVALID;
  e->hash = d->hashes + k * idx->hash_bytes;
  e->bank = d->bank[k];
  e->entry_id = d->ids[k];
  e->ext_id = d->str + d->ext_off[k];
  e->ext_len = d->ext_len[k];
  e->source = d->str + d->src_off[k];
  e->src_len = d->src_len[k];
  return VOUCH_OK;
}

/* ------------------------------------------------------------ deriving */

typedef struct ditem {
  vouch_index_entry e;
  const vouch_index *idx;
} ditem;

static int cmp_ditem(const void *pa, const void *pb) {
  const ditem *a = pa, *b = pb;
  return vouch__entry_cmp(a->idx, &a->e, &b->e);
}

static int cmp_u64(const void *pa, const void *pb) {
  const uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
  return a < b ? -1 : a > b;
}

static int fill_delta(struct vidx_delta *d, const vouch_index *snap, const vouch_index_input *in, size_t n,
                      const uint64_t *removed, size_t nrem) {
  const size_t hb = snap->hash_bytes;
  ditem *it = vouch__malloc((n ? n : 1) * sizeof *it);
  size_t slen = 0;
  if (!it) return VOUCH_E_NOMEM;
  for (size_t k = 0; k < n; k++) {
    const char *ext = in[k].ext_id ? in[k].ext_id : "", *src = in[k].source ? in[k].source : "";
    it[k] = (ditem){.e = {.hash = in[k].hash, .bank = in[k].bank, .entry_id = in[k].entry_id, .ext_id = ext,
                          .ext_len = strlen(ext), .source = src, .src_len = strlen(src)},
                    .idx = snap};
    if (!in[k].hash || in[k].bank >= snap->nbanks) {
      vouch__free(it);
      return VOUCH_E_INVALID;
    }
    if (it[k].e.ext_len > VOUCH_INDEX_MAX_STRING || it[k].e.src_len > VOUCH_INDEX_MAX_STRING) {
      vouch__free(it);
      return VOUCH_E_LIMIT;
    }
    slen += it[k].e.ext_len + it[k].e.src_len;
  }
  qsort(it, n, sizeof *it, cmp_ditem);
  const size_t m = n ? n : 1;
  d->hashes = vouch__malloc(m * hb);
  d->ids = vouch__malloc(m * sizeof *d->ids);
  d->bank = vouch__malloc(m * sizeof *d->bank);
  d->ext_off = vouch__malloc(m * sizeof(size_t));
  d->ext_len = vouch__malloc(m * sizeof(size_t));
  d->src_off = vouch__malloc(m * sizeof(size_t));
  d->src_len = vouch__malloc(m * sizeof(size_t));
  d->str = vouch__malloc(slen ? slen : 1);
  d->rem = vouch__malloc((nrem ? nrem : 1) * sizeof *d->rem);
  if (!d->hashes || !d->ids || !d->bank || !d->ext_off || !d->ext_len || !d->src_off || !d->src_len || !d->str ||
      !d->rem) {
    vouch__free(it);
    return VOUCH_E_NOMEM;
  }
  size_t off = 0;
  for (size_t k = 0; k < n; k++) {
    memcpy(d->hashes + k * hb, it[k].e.hash, hb);
    d->ids[k] = it[k].e.entry_id;
    d->bank[k] = it[k].e.bank;
    d->ext_off[k] = off;
    d->ext_len[k] = it[k].e.ext_len;
    memcpy(d->str + off, it[k].e.ext_id, it[k].e.ext_len);
    off += it[k].e.ext_len;
    d->src_off[k] = off;
    d->src_len[k] = it[k].e.src_len;
    memcpy(d->str + off, it[k].e.source, it[k].e.src_len);
    off += it[k].e.src_len;
  }
  vouch__free(it);
  d->n = n;
  if (nrem) memcpy(d->rem, removed, nrem * sizeof *d->rem);
  qsort(d->rem, nrem, sizeof *d->rem, cmp_u64);
  size_t w = 0;
  for (size_t k = 0; k < nrem; k++)
    if (d->rem[k] != 0 && (w == 0 || d->rem[w - 1] != d->rem[k])) d->rem[w++] = d->rem[k];
  d->nrem = w;
  d->bytes = sizeof *d + m * (hb + sizeof(uint64_t) + sizeof(uint32_t) + 4 * sizeof(size_t)) + slen +
             (nrem ? nrem : 1) * sizeof *d->rem;
  return VOUCH_OK;
}

int vouch_index_derive(vouch_index **out, vouch_index *snap, const vouch_index_input *added, size_t nadd,
                       const uint64_t *removed, size_t nrem) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  if (!snap || snap->hash_bytes == 0 || (nadd && !added) || (nrem && !removed)) return VOUCH_E_INVALID;
  vouch_index *base = snap->shared ? snap->shared : snap;
  if (nadd > VOUCH_INDEX_MAX_ENTRIES - base->count) return VOUCH_E_LIMIT;
  struct vidx_delta *d = vouch__calloc(1, sizeof *d);
  if (!d) return VOUCH_E_NOMEM;
  int rc = fill_delta(d, base, added, nadd, removed, nrem);
  vouch_index *idx = rc == VOUCH_OK ? vouch__malloc(sizeof *idx) : NULL;
  if (!idx) {
    vouch__delta_free(d);
    return rc == VOUCH_OK ? VOUCH_E_NOMEM : rc;
  }
  memcpy(idx, base, sizeof *idx);
  idx->errmsg[0] = 0;
  idx->refs = 0;
  idx->shared = base;
  idx->delta = d;
  __atomic_add_fetch(&base->refs, 1, __ATOMIC_ACQ_REL);
  *out = idx;
  return VOUCH_OK;
}

/* ------------------------------------------------------------ searching */

static int removed(const struct vidx_delta *d, uint64_t id) {
  size_t lo = 0, hi = d->nrem;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->rem[mid] == id) return 1;
    if (d->rem[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

static int cmp_qde(const void *pa, const void *pb) {
  const vouch_match *a = pa, *b = pb;
  if (a->query != b->query) return a->query < b->query ? -1 : 1;
  if (a->distance != b->distance) return a->distance < b->distance ? -1 : 1;
  return a->entry < b->entry ? -1 : a->entry > b->entry;
}

/* Every added entry within `radius` of one of the variants of each query,
 * appended to `o` ordered by (query, distance, entry). */
static int scan_added(const vouch_index *idx, const uint8_t *queries, size_t nq, unsigned nvar, unsigned radius,
                      vidx_out *o) {
  const struct vidx_delta *d = idx->delta;
  const unsigned words = idx->words, hb = idx->hash_bytes;
  uint64_t qn[VOUCH_DIHEDRAL_N * 4], ew[4];
  for (size_t q = 0; q < nq; q++) {
    for (unsigned v = 0; v < nvar; v++)
      vidx_load_native(queries + (q * nvar + v) * hb, words, qn + v * words);
    for (size_t k = 0; k < d->n; k++) {
      vidx_load_native(d->hashes + k * hb, words, ew);
      unsigned best = ~0U, bv = 0;
      for (unsigned v = 0; v < nvar; v++) {
        const unsigned dist = vidx_dist(ew, qn + v * words, words);
        if (dist < best) {
          best = dist;
          bv = v;
        }
      }
      if (best <= radius) VOUCH_TRY(vouch__out_push(o, (uint32_t)q, (uint32_t)(idx->count + k), best, bv));
    }
  }
  if (o->n > 1) qsort(o->v, o->n, sizeof *o->v, cmp_qde);
  return VOUCH_OK;
}

/* a (a snapshot match) before b (an added one)? */
static int snap_first(const vouch_index *idx, const vouch_match *a, const vouch_match *b) {
  if (a->query != b->query) return a->query < b->query;
  if (a->distance != b->distance) return a->distance < b->distance;
  vouch_index_entry ea, eb;
  if (vouch_index_get(idx, a->entry, &ea) != VOUCH_OK || vouch__delta_get(idx, b->entry - idx->count, &eb) != VOUCH_OK)
    return 1;
  return vouch__entry_cmp(idx, &ea, &eb) < 0;
}

int vouch__delta_search(vouch_index *idx, const uint8_t *queries, size_t nq, unsigned nvar,
                        const vouch_search_opts *opts, vouch_match **out, size_t *nout) {
  vouch_match *sm = NULL;
  size_t ns = 0;
  VOUCH_TRY(vouch__index_search_snapshot(idx, queries, nq, nvar, opts, &sm, &ns));
  const struct vidx_delta *d = idx->delta;
  if (d->nrem) { /* drop the snapshot entries the delta removed or superseded */
    size_t w = 0;
    for (size_t k = 0; k < ns; k++)
      if (!removed(d, vouch__load64_le(idx->records + (size_t)sm[k].entry * VIDX_RECORD_BYTES))) sm[w++] = sm[k];
    ns = w;
  }
  unsigned radius = opts->radius > idx->hash_bytes * 8 ? idx->hash_bytes * 8 : opts->radius;
  vidx_out am = {0};
  int rc = scan_added(idx, queries, nq, nvar, radius, &am);
  if (rc != VOUCH_OK || am.n == 0) {
    vouch__free(am.v);
    if (rc != VOUCH_OK) {
      vouch_matches_free(sm);
      return rc;
    }
    *out = sm;
    *nout = ns;
    return VOUCH_OK;
  }
  if (ns > UINT32_MAX - am.n) rc = VOUCH_E_LIMIT;
  vouch_match *all = rc == VOUCH_OK ? vouch__malloc((ns + am.n) * sizeof *all) : NULL;
  if (!all) {
    vouch_matches_free(sm);
    vouch__free(am.v);
    return rc == VOUCH_OK ? VOUCH_E_NOMEM : rc;
  }
  size_t i = 0, j = 0, k = 0;
  while (i < ns && j < am.n)
    all[k++] = snap_first(idx, &sm[i], &am.v[j]) ? sm[i++] : am.v[j++];
  while (i < ns) all[k++] = sm[i++];
  while (j < am.n) all[k++] = am.v[j++];
  vouch_matches_free(sm);
  vouch__free(am.v);
  *out = all;
  *nout = k;
  return VOUCH_OK;
}
