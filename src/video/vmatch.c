/*
 * src/video/vmatch.c -- vPDQ video matching: the plain pairwise loop, an
 * index of video frames, and matching a query video against it.
 *
 * Semantics (python-threatexchange, signal_type/vpdq): drop frames of
 * quality < 50, count frames with equal hashes once, a frame matches when a
 * frame of the other video is within distance <= 31; query_pct = matched
 * unique query frames / unique query frames, and the same the other way.
 *
 * The database side is an ordinary PDQ index whose entries are the unique
 * frames of each video (entry id = the video): the index's exact engines
 * (scan or multi-index hashing) find every frame within the radius, and we
 * only count, per video, the distinct query frames and the distinct video
 * frames among the hits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video_internal.h"
#include "vouch/index.h"

/* ------------------------------------------------------------ unique frames */

static int cmp_hash(const void *a, const void *b) { return memcmp(a, b, VOUCH_PDQ_BYTES); }

/* The distinct hashes of frames with quality >= quality_min, sorted, in a
 * vouch__malloc'd array (NULL when there are none). */
static int unique_frames(const vouch_vpdq *h, int quality_min, uint8_t **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!h->n) return VOUCH_OK;
  size_t bytes;
  if (!vouch__mul_ok(h->n, VOUCH_PDQ_BYTES, &bytes)) return VOUCH_E_NOMEM;
  uint8_t *a = vouch__malloc(bytes);
  if (!a) return VOUCH_E_NOMEM;
  size_t k = 0;
  for (size_t i = 0; i < h->n; i++)
    if (h->frames[i].quality >= quality_min) memcpy(a + VOUCH_PDQ_BYTES * k++, h->frames[i].hash, VOUCH_PDQ_BYTES);
  qsort(a, k, VOUCH_PDQ_BYTES, cmp_hash);
  size_t u = 0;
  for (size_t i = 0; i < k; i++)
    if (u == 0 || memcmp(a + VOUCH_PDQ_BYTES * (u - 1), a + VOUCH_PDQ_BYTES * i, VOUCH_PDQ_BYTES) != 0)
      memmove(a + VOUCH_PDQ_BYTES * u++, a + VOUCH_PDQ_BYTES * i, VOUCH_PDQ_BYTES);
  if (u == 0) {
    vouch__free(a);
    a = NULL;
  }
  *out = a;
  *n = u;
  return VOUCH_OK;
}

static double pct(size_t part, size_t whole) { return whole ? 100.0 * (double)part / (double)whole : 0.0; }

/* ------------------------------------------------------------ the plain loop */

static size_t matched_in(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, unsigned radius) {
  size_t cnt = 0;
  for (size_t i = 0; i < na; i++)
    for (size_t j = 0; j < nb; j++)
      if (vouch_hamming(a + VOUCH_PDQ_BYTES * i, b + VOUCH_PDQ_BYTES * j, VOUCH_PDQ_BYTES) <= radius) {
        cnt++;
        break;
      }
  return cnt;
}

int vouch_vpdq_compare(const vouch_vpdq *query, const vouch_vpdq *target, unsigned radius, int quality_min,
                       vouch_vpdq_similarity *out) {
  if (!query || !target || !out || radius > 8 * VOUCH_PDQ_BYTES) return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  uint8_t *q = NULL, *t = NULL;
  int rc = unique_frames(query, quality_min, &q, &out->query_unique);
  if (rc == VOUCH_OK) rc = unique_frames(target, quality_min, &t, &out->target_unique);
  if (rc == VOUCH_OK) {
    out->query_matched = matched_in(q, out->query_unique, t, out->target_unique, radius);
    out->target_matched = matched_in(t, out->target_unique, q, out->query_unique, radius);
    out->query_pct = pct(out->query_matched, out->query_unique);
    out->target_pct = pct(out->target_matched, out->target_unique);
  }
  vouch__free(q);
  vouch__free(t);
  return rc;
}

/* ------------------------------------------------------------ index of frames */

int vouch_vpdq_index_write(const char *path, const char *bank, const vouch_vpdq *videos, const char *const *names,
                           size_t n, int quality_min, uint8_t root[32], size_t *count, char *err, size_t err_cap) {
  if (!path || !bank || (n && (!videos || !names))) return VOUCH_E_INVALID;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += videos[i].n;
  uint8_t **uniq = vouch__calloc(n ? n : 1, sizeof *uniq);
  vouch_index_input *in = vouch__calloc(total ? total : 1, sizeof *in);
  int rc = uniq && in ? VOUCH_OK : VOUCH_E_NOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n && rc == VOUCH_OK; i++) {
    size_t u = 0;
    rc = unique_frames(&videos[i], quality_min, &uniq[i], &u);
    for (size_t j = 0; j < u && rc == VOUCH_OK; j++) {
      in[k].hash = uniq[i] + VOUCH_PDQ_BYTES * j;
      in[k].bank = 0;
      in[k].entry_id = (uint64_t)i + 1;
      in[k].ext_id = names[i];
      in[k].source = "";
      k++;
    }
  }
  if (rc == VOUCH_OK) rc = vouch_index_write(path, VOUCH_ALGO_PDQ, &bank, 1, in, k, root, err, err_cap);
  if (rc == VOUCH_OK && count) *count = k;
  if (rc == VOUCH_E_NOMEM && err && err_cap) snprintf(err, err_cap, "out of memory");
  for (size_t i = 0; uniq && i < n; i++) vouch__free(uniq[i]);
  vouch__free(uniq);
  vouch__free(in);
  return rc;
}

/* ------------------------------------------------------------ database */

typedef struct {
  uint32_t bank;
  uint64_t entry_id;
  uint32_t entry; /* the first entry of the video met */
  uint32_t count; /* its unique frames */
} video_row;

struct vouch_vpdq_db {
  vouch_index *idx;
  uint32_t *video_of; /* entry -> video row */
  video_row *videos;
  size_t nvideos;
};

typedef struct {
  uint32_t bank;
  uint64_t entry_id;
  uint32_t entry;
} key_row;

static int cmp_key(const void *pa, const void *pb) {
  const key_row *a = pa, *b = pb;
  if (a->bank != b->bank) return a->bank < b->bank ? -1 : 1;
  if (a->entry_id != b->entry_id) return a->entry_id < b->entry_id ? -1 : 1;
  return a->entry < b->entry ? -1 : a->entry > b->entry;
}

int vouch_vpdq_db_open(vouch_vpdq_db **out, vouch_index *idx) {
  if (!out || !idx) return VOUCH_E_INVALID;
  *out = NULL;
  if (vouch_index_algo(idx) != VOUCH_ALGO_PDQ) return VOUCH_E_INVALID;
  const size_t n = vouch_index_count(idx);
  vouch_vpdq_db *db = vouch__calloc(1, sizeof *db);
  key_row *keys = vouch__malloc((n ? n : 1) * sizeof *keys);
  if (db) {
    db->video_of = vouch__malloc((n ? n : 1) * sizeof *db->video_of);
    db->videos = vouch__malloc((n ? n : 1) * sizeof *db->videos);
  }
  if (!db || !keys || !db->video_of || !db->videos) {
    vouch__free(keys);
    vouch_vpdq_db_free(db);
    return VOUCH_E_NOMEM;
  }
  db->idx = idx;
  for (size_t i = 0; i < n; i++) {
    vouch_index_entry e;
    vouch_index_get(idx, i, &e);
    keys[i] = (key_row){.bank = e.bank, .entry_id = e.entry_id, .entry = (uint32_t)i};
  }
  /* entries of one video are apart in the index (it is sorted by hash):
   * group them by sorting their keys */
  qsort(keys, n, sizeof *keys, cmp_key);
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || keys[i].bank != keys[i - 1].bank || keys[i].entry_id != keys[i - 1].entry_id)
      db->videos[db->nvideos++] =
          (video_row){.bank = keys[i].bank, .entry_id = keys[i].entry_id, .entry = keys[i].entry, .count = 0};
    video_row *v = &db->videos[db->nvideos - 1];
    v->count++;
    db->video_of[keys[i].entry] = (uint32_t)(db->nvideos - 1);
  }
  vouch__free(keys);
  *out = db;
  return VOUCH_OK;
}

void vouch_vpdq_db_free(vouch_vpdq_db *db) {
  if (!db) return;
  vouch__free(db->video_of);
  vouch__free(db->videos);
  vouch__free(db);
}

size_t vouch_vpdq_db_videos(const vouch_vpdq_db *db) { return db ? db->nvideos : 0; }

vouch_vpdq_match_opts vouch_vpdq_match_opts_default(void) {
  vouch_vpdq_match_opts o = {.radius = VOUCH_VPDQ_RADIUS,
                             .quality_min = VOUCH_VPDQ_QUALITY_MIN,
                             .query_match = VOUCH_VPDQ_QUERY_MATCH_DEFAULT,
                             .index_match = VOUCH_VPDQ_INDEX_MATCH_DEFAULT,
                             .threads = 1};
  return o;
}

/* (video, item) pairs, counted once each */
typedef struct {
  uint32_t video, item;
} pair;

static int cmp_pair(const void *pa, const void *pb) {
  const pair *a = pa, *b = pb;
  if (a->video != b->video) return a->video < b->video ? -1 : 1;
  return a->item < b->item ? -1 : a->item > b->item;
}

static int cmp_result(const void *pa, const void *pb) {
  const vouch_vpdq_video_match *a = pa, *b = pb;
  if (a->match != b->match) return a->match ? -1 : 1;
  if (a->query_pct != b->query_pct) return a->query_pct > b->query_pct ? -1 : 1;
  if (a->index_pct != b->index_pct) return a->index_pct > b->index_pct ? -1 : 1;
  return a->entry < b->entry ? -1 : a->entry > b->entry;
}

int vouch_vpdq_db_match(vouch_vpdq_db *db, const vouch_vpdq *query, const vouch_vpdq_match_opts *opts,
                        vouch_vpdq_video_match **out, size_t *nout, size_t *query_unique) {
  if (!db || !query || !out || !nout) return VOUCH_E_INVALID;
  *out = NULL;
  *nout = 0;
  const vouch_vpdq_match_opts o = opts ? *opts : vouch_vpdq_match_opts_default();
  if (o.radius > 8 * VOUCH_PDQ_BYTES) return VOUCH_E_INVALID;
  uint8_t *q = NULL;
  size_t nq = 0;
  VOUCH_TRY(unique_frames(query, o.quality_min, &q, &nq));
  if (query_unique) *query_unique = nq;
  if (nq == 0 || db->nvideos == 0) {
    vouch__free(q);
    return VOUCH_OK;
  }
  vouch_search_opts so = {.radius = o.radius, .engine = VOUCH_ENGINE_AUTO, .threads = o.threads};
  vouch_match *m = NULL;
  size_t nm = 0;
  int rc = vouch_index_search(db->idx, q, nq, 1, &so, &m, &nm);
  vouch__free(q);
  if (rc != VOUCH_OK) return rc;
  pair *qp = vouch__malloc((nm ? nm : 1) * sizeof *qp), *ep = vouch__malloc((nm ? nm : 1) * sizeof *ep);
  vouch_vpdq_video_match *res = NULL;
  if (!qp || !ep) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  for (size_t i = 0; i < nm; i++) {
    const uint32_t v = db->video_of[m[i].entry];
    qp[i] = (pair){v, m[i].query};
    ep[i] = (pair){v, m[i].entry};
  }
  qsort(qp, nm, sizeof *qp, cmp_pair);
  qsort(ep, nm, sizeof *ep, cmp_pair);
  /* the videos hit, each with its distinct query frames and distinct frames */
  size_t nres = 0;
  for (size_t i = 0; i < nm; i++) nres += i == 0 || qp[i].video != qp[i - 1].video;
  res = vouch__calloc(nres ? nres : 1, sizeof *res);
  if (!res) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  size_t r = 0, j = 0;
  for (size_t i = 0; i < nm; r++) {
    const uint32_t v = qp[i].video;
    size_t dq = 0, de = 0;
    for (; i < nm && qp[i].video == v; i++) dq += i == 0 || qp[i - 1].video != v || qp[i - 1].item != qp[i].item;
    for (; j < nm && ep[j].video == v; j++) de += j == 0 || ep[j - 1].video != v || ep[j - 1].item != ep[j].item;
    const video_row *vr = &db->videos[v];
    vouch_vpdq_video_match *x = &res[r];
    x->entry = vr->entry;
    x->entry_id = vr->entry_id;
    x->index_unique = vr->count;
    x->query_matched = dq;
    x->index_matched = de;
    x->query_pct = pct(dq, nq);
    x->index_pct = pct(de, vr->count);
    x->match = x->query_pct >= o.query_match && x->index_pct >= o.index_match;
  }
  qsort(res, nres, sizeof *res, cmp_result);
  *out = res;
  *nout = nres;
  res = NULL;
done:
  vouch__free(res);
  vouch__free(qp);
  vouch__free(ep);
  vouch_matches_free(m);
  return rc;
}

void vouch_vpdq_video_matches_free(vouch_vpdq_video_match *m) { vouch__free(m); }
