/* programs/httpd/routes_match.c -- the index holder and POST /v1/match.
 *
 * The index is reference counted: a request takes a reference for as long as
 * it searches, and a reload (SIGHUP, POST /v1/index/rebuild) opens the new
 * file completely -- validation and MIH tables -- before swapping it in, so
 * no request waits and none is dropped; the old index is freed by the last
 * request still using it.  With --index-dir there is one such slot per bank
 * algorithm (s->index[VOUCH_ALGO_*]), each swapped on its own: a reload of
 * one never touches a lookup in another. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vouchd.h"
#include "bodies.h"

struct vd_index_ref {
  vouch_index *idx;
  atomic_int refs;
  /* the index's entries grouped by video, made by the first video match
   * (routes_video.c) and kept with the index */
  pthread_mutex_t vdb_mu;
  vouch_vpdq_db *vdb;
  int vdb_rc;
  int video; /* an index of video frames (judged at load from --db's bank algorithms) */
  unsigned long entries, heap; /* for the metrics */
  /* each index bank's own radius (vouch bank radius), UINT_MAX for none,
   * read from --db at load; nown: how many have one */
  unsigned *radius;
  size_t nown;
};

int vd_index_video_db(vd_index_ref *r, vouch_vpdq_db **out) {
  pthread_mutex_lock(&r->vdb_mu);
  if (!r->vdb && r->vdb_rc == VOUCH_OK) r->vdb_rc = vouch_vpdq_db_open(&r->vdb, r->idx);
  int rc = r->vdb ? VOUCH_OK : r->vdb_rc;
  if (r->vdb_rc == VOUCH_E_NOMEM) r->vdb_rc = VOUCH_OK; /* try again next time */
  *out = r->vdb;
  pthread_mutex_unlock(&r->vdb_mu);
  return rc;
}

/* Video frames when every bank of the index is a vpdq bank of `db`. */
static int index_of_videos(vouch_bank *db, const vouch_index *idx) {
  const uint32_t nb = vouch_index_bank_count(idx);
  int all = db && nb > 0;
  for (uint32_t b = 0; all && b < nb; b++) {
    int a = 0; /* vouch_bank_settings(), not vouch_bank_list(): no COUNT of the bank's entries */
    all = vouch_bank_settings(db, vouch_index_bank_name(idx, b), &a, NULL, NULL) == VOUCH_OK && a == VOUCH_ALGO_VPDQ;
  }
  return all;
}

int vd_index_is_video(const vd_index_ref *r) { return r && r->video; }

static vd_index_ref *acquire_slot(vd_server *s, int slot) {
  pthread_mutex_lock(&s->index_mu);
  vd_index_ref *r = s->index[slot];
  if (r) atomic_fetch_add(&r->refs, 1);
  pthread_mutex_unlock(&s->index_mu);
  return r;
}

vd_index_ref *vd_index_acquire(vd_server *s) {
  if (!s->index_dir) return acquire_slot(s, 0);
  pthread_mutex_lock(&s->index_mu);
  vd_index_ref *r = s->index[VOUCH_ALGO_PDQ];
  for (int a = 1; !r && a < VD_NALGO; a++) r = s->index[a];
  if (r) atomic_fetch_add(&r->refs, 1);
  pthread_mutex_unlock(&s->index_mu);
  return r;
}

vd_index_ref *vd_index_for(vd_server *s, int algo) {
  if (!s->index_dir) return acquire_slot(s, 0);
  return algo > VOUCH_ALGO_NONE && algo < VD_NALGO ? acquire_slot(s, algo) : NULL;
}

void vd_index_release(vd_index_ref *r) {
  if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
    vouch_vpdq_db_free(r->vdb);
    pthread_mutex_destroy(&r->vdb_mu);
    free(r->radius);
    vouch_index_free(r->idx);
    free(r);
  }
}

vouch_index *vd_index_handle(vd_index_ref *r) { return r ? r->idx : NULL; }

/* The banks' own radii and whether the index is of videos, from the bank database. */
static void index_banks(vd_server *s, vd_index_ref *r, vouch_index *idx) {
  vouch_bank *db = NULL;
  if (vouch_bank_open(&db, s->db_path, VOUCH_BANK_OPEN_READONLY) != VOUCH_OK) {
    vouch_bank_free(db);
    db = NULL;
  }
  if (r->radius && db)
    (void)vouch_bank_radii(db, idx, UINT_MAX, r->radius, vouch_index_bank_count(idx), &r->nown);
  r->video = index_of_videos(db, idx);
  vouch_bank_free(db);
}

int vd_index_load(vd_server *s, int algo, const char *path, char *err, size_t errcap) {
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_threads = s->threads;
  vouch_index *idx = NULL;
  int rc = vouch_index_open(&idx, path, &cfg);
  if (rc != VOUCH_OK) {
    snprintf(err, errcap, "%s: %s: %s", path, vouch_strerror(rc), vouch_index_errmsg(idx));
    vouch_index_free(idx);
    return -1;
  }
  return vd_index_install(s, algo, idx, 0, err, errcap);
}

int vd_index_reload(vd_server *s, char *err, size_t errcap) {
  if (!s->index_dir) {
    if (s->index_path) return vd_index_load(s, VOUCH_ALGO_NONE, s->index_path, err, errcap);
    snprintf(err, errcap, "no --index configured");
    return -1;
  }
  for (int a = 1; a < VD_NALGO; a++) {
    char path[4096];
    if (vd_index_file(s, a, path, sizeof path) != 0 || access(path, F_OK) != 0) {
      vd_index_drop_slot(s, a);
      continue;
    }
    if (vd_index_load(s, a, path, err, errcap) != 0) return -1;
  }
  return 0;
}

/* The metrics describe all loaded indexes; under s->index_mu. */
static void update_metrics(vd_server *s) {
  unsigned long entries = 0, heap = 0;
  for (int a = 0; a < VD_NALGO; a++)
    if (s->index[a]) {
      entries += s->index[a]->entries;
      heap += s->index[a]->heap;
    }
  atomic_store(&s->index_entries, entries);
  atomic_store(&s->index_heap_bytes, heap);
}

int vd_index_install(vd_server *s, int algo, vouch_index *idx, int same_banks, char *err, size_t errcap) {
  if (algo < 0 || algo >= VD_NALGO) {
    vouch_index_free(idx);
    snprintf(err, errcap, "no index slot for algorithm %d", algo);
    return -1;
  }
  vd_index_ref *r = malloc(sizeof *r);
  if (!r) {
    vouch_index_free(idx);
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  r->idx = idx;
  atomic_init(&r->refs, 1); /* the server's own reference */
  pthread_mutex_init(&r->vdb_mu, NULL);
  r->vdb = NULL;
  r->vdb_rc = VOUCH_OK;
  /* the banks' own radii: without them (no bank file, out of memory) every
   * bank is matched at the request's radius */
  r->nown = 0;
  r->radius = malloc(((size_t)vouch_index_bank_count(idx) + 1) * sizeof *r->radius);
  vd_index_ref *cur = same_banks ? acquire_slot(s, algo) : NULL;
  if (cur && r->radius && cur->radius && vouch_index_bank_count(cur->idx) == vouch_index_bank_count(idx)) {
    /* the same banks as the served index (a new delta over its snapshot): its radii and kind, without
     * reading the database (listing the banks counts their entries: seconds at 10M) */
    memcpy(r->radius, cur->radius, ((size_t)vouch_index_bank_count(idx) + 1) * sizeof *r->radius);
    r->nown = cur->nown;
    r->video = cur->video;
    vd_index_release(cur);
  } else {
    vd_index_release(cur);
    index_banks(s, r, idx);
    if (algo != VOUCH_ALGO_NONE) r->video = algo == VOUCH_ALGO_VPDQ; /* --index-dir: the slot says */
  }
  /* Once published, idx may be replaced and freed by a concurrent reload
   * (SIGHUP and a rebuild request at once): read it before, and update the
   * metrics under the lock so they always describe the published indexes. */
  r->entries = (unsigned long)vouch_index_count(idx);
  r->heap = (unsigned long)vouch_index_memory(idx);
  pthread_mutex_lock(&s->index_mu);
  vd_index_ref *old = s->index[algo];
  s->index[algo] = r;
  update_metrics(s);
  pthread_mutex_unlock(&s->index_mu);
  vd_index_release(old);
  return 0;
}

void vd_index_drop_slot(vd_server *s, int algo) {
  if (algo < 0 || algo >= VD_NALGO) return;
  pthread_mutex_lock(&s->index_mu);
  vd_index_ref *old = s->index[algo];
  s->index[algo] = NULL;
  update_metrics(s);
  pthread_mutex_unlock(&s->index_mu);
  vd_index_release(old);
}

void vd_index_drop(vd_server *s) {
  for (int a = 0; a < VD_NALGO; a++) vd_index_drop_slot(s, a);
}

/* The name an index in slot `slot` is reported under: its algorithm; slot 0
 * (--index) is named by its content, vpdq for video frames. */
static const char *slot_name(const vd_index_ref *r, int slot) {
  return r->video ? "vpdq" : vouch_algo_name(slot ? slot : vouch_index_algo(r->idx));
}

int vd_index_status(vd_server *s, char *out, size_t cap) {
  int n = snprintf(out, cap, "\"indexes\":{");
  for (int a = 0; a < VD_NALGO; a++) {
    vd_index_ref *r = acquire_slot(s, a);
    if (!r) continue;
    char hx[2 * VOUCH_MERKLE_HASH_BYTES + 1];
    vouch_hash_to_hex(vouch_index_root(r->idx), VOUCH_MERKLE_HASH_BYTES, hx, sizeof hx);
    const char *name = slot_name(r, a);
    if (n >= 0 && (size_t)n < cap)
      n += snprintf(out + n, cap - (size_t)n, "%s\"%s\":{\"entries\":%zu,\"root\":\"%s\",\"video\":%s}",
                    out[n - 1] == '{' ? "" : ",", name, vouch_index_count(r->idx), hx, r->video ? "true" : "false");
    vd_index_release(r);
  }
  if (n >= 0 && (size_t)n < cap) n += snprintf(out + n, cap - (size_t)n, "}");
  return n;
}

/* /metrics: entries and search-table heap of each loaded index, by the
 * name vd_index_status() gives it (Prometheus text; one line per index). */
int vd_index_metrics(vd_server *s, char *out, size_t cap) {
  int n = snprintf(out, cap,
                   "# HELP vouchd_index_algo_entries Entries in each loaded index, by algorithm.\n"
                   "# TYPE vouchd_index_algo_entries gauge\n");
  for (int a = 0; a < VD_NALGO; a++) {
    vd_index_ref *r = acquire_slot(s, a);
    if (!r) continue;
    const char *name = slot_name(r, a);
    if (n >= 0 && (size_t)n < cap)
      n += snprintf(out + n, cap - (size_t)n, "vouchd_index_algo_entries{algo=\"%s\"} %zu\n", name,
                    vouch_index_count(r->idx));
    vd_index_release(r);
  }
  return n;
}

static int arg_uint(struct MHD_Connection *conn, const char *key, unsigned max, unsigned *out) {
  const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
  if (!v) return 0;
  char *end;
  unsigned long x = strtoul(v, &end, 10);
  if (!*v || *end || x > max) return -1;
  *out = (unsigned)x;
  return 1;
}

/* A JSON string of stored text; bytes that are not UTF-8 (entries imported
 * before imports refused them) become '?' rather than dropping the field. */
static json_t *text_json(const char *p, size_t n) {
  json_t *j = json_stringn(p, n);
  if (j) return j;
  char *copy = malloc(n + 1);
  if (!copy) return json_null();
  memcpy(copy, p, n);
  copy[n] = 0;
  for (size_t i = 0; i < n; i++)
    if (!copy[i]) copy[i] = '?';
  vd_utf8_scrub(copy);
  j = json_string(copy);
  free(copy);
  return j ? j : json_null();
}

/* The bank file that tags are read from: one read-only handle per thread
 * (request and worker threads live as long as the server), opened at its
 * first match and closed when the thread ends.  Opening a handle per answer
 * doubled the time of a matching request (0.35 -> 0.8 ms, 1 hash, loopback). */
static pthread_once_t tags_once = PTHREAD_ONCE_INIT;
static pthread_key_t tags_key;
static void tags_db_free(void *db) { vouch_bank_free(db); }
static void tags_key_init(void) { (void)pthread_key_create(&tags_key, tags_db_free); }

static vouch_bank *tags_db(const char *path) {
  pthread_once(&tags_once, tags_key_init);
  vouch_bank *db = pthread_getspecific(tags_key);
  if (db) return db;
  if (vouch_bank_open(&db, path, VOUCH_BANK_OPEN_READONLY) != VOUCH_OK) {
    vouch_bank_free(db);
    return NULL;
  }
  (void)pthread_setspecific(tags_key, db);
  return db;
}

static int copy_tags(void *ctx, const vouch_bank_entry *e) {
  *(json_t **)ctx = e->tags ? text_json(e->tags, strlen(e->tags)) : json_string("");
  return 0;
}

/* The entry's tags in the bank file (an exchange's category and tags, say),
 * or null when the file no longer has the entry. */
static json_t *tags_json(const char *path, uint64_t entry_id) {
  vouch_bank *db = entry_id ? tags_db(path) : NULL;
  json_t *tags = NULL;
  if (!db || vouch_bank_entry_get(db, (int64_t)entry_id, copy_tags, &tags) != VOUCH_OK) {
    json_decref(tags);
    return json_null();
  }
  return tags ? tags : json_null();
}

/* Entry metadata as a JSON object. */
static json_t *match_json(const vouch_index *idx, const vouch_match *m, size_t hb, const char *db_path) {
  vouch_index_entry e;
  char hex[VOUCH_HASH_HEX_BYTES];
  if (vouch_index_get(idx, m->entry, &e) != VOUCH_OK) return json_null();
  vouch_hash_to_hex(e.hash, hb, hex, sizeof hex);
  json_t *o = json_object();
  json_object_set_new(o, "bank", json_string(vouch_index_bank_name(idx, e.bank)));
  json_object_set_new(o, "id", text_json(e.ext_id, e.ext_len));
  json_object_set_new(o, "hash", json_string(hex));
  json_object_set_new(o, "source", text_json(e.source, e.src_len));
  json_object_set_new(o, "tags", tags_json(db_path, e.entry_id));
  json_object_set_new(o, "distance", json_integer(m->distance));
  json_object_set_new(o, "variant", json_string(vouch_dihedral_name(m->variant)));
  return o;
}

/* Searches in chunks of queries, so matches are held for one chunk at a
 * time and the work stops at the limits: --max-matches per query,
 * --max-matches-request per request, --max-work-seconds of search.  Any of
 * them sets "truncated": true (on the query, or on the whole answer when
 * queries were left unanswered).  The chunk adapts so that one takes about
 * 5-20 ms: the time limit is overshot by at most one such chunk whatever the
 * radius (a radius-64 PDQ query on 100,000 entries costs milliseconds). */
#define VD_CHUNK_MAX 256
/* bank_radius (NULL: none): each index bank's radius when banks have their
 * own; the search runs at `radius`, their largest, and keeps each match
 * within its bank's. */
static enum MHD_Result answer(vd_server *s, struct MHD_Connection *conn, vouch_index *idx, const uint8_t *queries,
                              size_t nq, unsigned nvar, unsigned radius, int algo, const unsigned *bank_radius) {
  const double start = vd_now();
  const size_t hb = vouch_index_hash_bytes(idx);
  vouch_search_opts so = {.radius = radius, .engine = VOUCH_ENGINE_AUTO, .threads = 1};
  json_t *results = json_array();
  size_t listed = 0, total = 0, q = 0, chunk = 4;
  int truncated = 0;
  char hex[VOUCH_HASH_HEX_BYTES];
  while (q < nq) {
    if (listed >= s->max_matches_req || vd_now() - start > s->max_work_s) {
      truncated = 1;
      break;
    }
    const size_t nc = nq - q < chunk ? nq - q : chunk;
    vouch_match *m = NULL;
    size_t nm = 0;
    const double t0 = vd_now();
    int rc = vouch_index_search(idx, queries + q * nvar * hb, nc, nvar, &so, &m, &nm);
    const double took = vd_now() - t0;
    if (took < 0.005 && chunk < VD_CHUNK_MAX) chunk *= 2;
    else if (took > 0.02 && chunk > 1) chunk /= 2;
    if (rc != VOUCH_OK) {
      json_decref(results);
          return vd_send_error(conn, rc == VOUCH_E_NOMEM ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR,
                           rc == VOUCH_E_NOMEM ? "out_of_memory" : "internal", "search failed: %s",
                           vouch_strerror(rc));
    }
    total += nm;
    size_t k = 0;
    for (size_t c = 0; c < nc; c++) {
      json_t *res = json_object();
      vouch_hash_to_hex(queries + (q + c) * nvar * hb, hb, hex, sizeof hex);
      json_object_set_new(res, "hash", json_string(hex));
      json_t *arr = json_array();
      size_t here = 0;
      for (; k < nm && m[k].query == c; k++) {
        vouch_index_entry e;
        if (bank_radius && vouch_index_get(idx, m[k].entry, &e) == VOUCH_OK && m[k].distance > bank_radius[e.bank]) {
          total--; /* beyond its bank's own radius */
          continue;
        }
        if (here < s->max_matches && listed < s->max_matches_req) {
          json_array_append_new(arr, match_json(idx, &m[k], hb, s->db_path));
          here++;
          listed++;
        } else {
          json_object_set_new(res, "truncated", json_true());
          truncated = 1;
        }
      }
      json_object_set_new(res, "matches", arr);
      json_array_append_new(results, res);
    }
    vouch_matches_free(m);
    q += nc;
  }
  atomic_fetch_add(&s->metrics.matches, total);
  if (truncated) atomic_fetch_add(&s->metrics.truncated, 1);
  json_t *body = json_object();
  json_object_set_new(body, "results", results);
  json_object_set_new(body, "radius", json_integer(radius));
  if (bank_radius) { /* the banks' own radii that applied */
    json_t *br = json_object();
    for (uint32_t b = 0; b < vouch_index_bank_count(idx); b++)
      json_object_set_new(br, vouch_index_bank_name(idx, b), json_integer(bank_radius[b]));
    json_object_set_new(body, "bank_radius", br);
  }
  json_object_set_new(body, "algo", json_string(vouch_algo_name(algo)));
  if (truncated) json_object_set_new(body, "truncated", json_true());
  return vd_send_json(conn, MHD_HTTP_OK, body);
}

enum MHD_Result vd_route_match(vd_server *s, struct MHD_Connection *conn, vd_request *r) {
  const char *algo_arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "algo");
  if (algo_arg && !strcmp(algo_arg, "vpdq")) return vd_route_match_video(s, conn, r); /* routes_video.c */
  if (r->len == 0)
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request",
                         "the body must be an image, or JSON {\"hashes\":[HEX,...]}");
  /* --index-dir: ?algo= picks its algorithm's index, else the pdq one */
  const int want = algo_arg ? vouch_signal_type_algo(algo_arg, strlen(algo_arg)) : VOUCH_ALGO_NONE;
  vd_index_ref *ref = s->index_dir && want > VOUCH_ALGO_NONE ? vd_index_for(s, want) : vd_index_acquire(s);
  if (!ref && s->index_dir && want > VOUCH_ALGO_NONE && (ref = vd_index_acquire(s)) != NULL) {
    vd_index_release(ref);
    return vd_send_error(conn, MHD_HTTP_CONFLICT, "algo_mismatch", "no index of %s hashes is loaded (--index-dir)",
                         algo_arg);
  }
  if (!ref)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no_index",
                         "no index is loaded (start with --index, or POST /v1/index/rebuild)");
  vouch_index *idx = ref->idx;
  const int algo = vouch_index_algo(idx);
  const size_t hb = vouch_index_hash_bytes(idx);
  unsigned radius = vouch_default_radius(algo);
  enum MHD_Result ret;
  /* a digest index (md5, sha1, sha256) matches equal digests only */
  const int digest = vouch_algo_is_digest(algo);
  /* ?algo= may name a signal type (video_md5): it must be the index's */
  if (algo_arg && vouch_signal_type_algo(algo_arg, strlen(algo_arg)) != algo) {
    vd_index_release(ref);
    return vd_send_error(conn, MHD_HTTP_CONFLICT, "algo_mismatch", "the loaded index holds %s hashes, not %s",
                         vouch_algo_name(algo), algo_arg);
  }
  const unsigned max_radius = digest ? 0U
                              : s->max_radius[algo] < 8 * hb ? s->max_radius[algo] : (unsigned)(8 * hb);
  if (radius > max_radius) radius = max_radius;
  int ar = arg_uint(conn, "radius", max_radius, &radius);
  if (ar < 0) {
    vd_index_release(ref);
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "radius must be 0..%u for %s (--max-radius)",
                         max_radius, vouch_algo_name(algo));
  }
  uint8_t *queries = NULL;
  size_t nq = 0;
  unsigned nvar = 1;
  const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  /* the digest of any file: JSON only when the request says so */
  int is_json = (ctype && strstr(ctype, "json")) || (!digest && r->body[0] == '{');
  if (digest && !is_json) {
    nq = 1;
    queries = malloc(hb);
    if (queries && vouch_digest_buffer(algo, r->body, r->len, queries, hb) != VOUCH_OK) {
      free(queries);
      queries = NULL;
    }
    if (queries) atomic_fetch_add(&s->metrics.hashes, 1);
  } else if (is_json) {
    vd_body_error be;
    if (vd_parse_match_json(r->body, r->len, algo, s->max_batch, &queries, &nq, &nvar, &be) != 0) {
      vd_index_release(ref);
      return vd_send_error(conn, be.status, be.code, "%s", be.message);
    }
  } else {
    /* an image: hash it with the index's algorithm and all 8 variants */
    vd_worker *w = vd_worker_get(s);
    int exact = 0;
    const char *ex = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "exact");
    if (ex && (!strcmp(ex, "1") || !strcmp(ex, "true"))) exact = 1;
    nvar = VOUCH_DIHEDRAL_N;
    nq = 1;
    queries = w ? malloc(VOUCH_DIHEDRAL_N * hb) : NULL;
    int rc = queries ? vd_hash_body(s, w, exact, r->body, r->len, algo, VOUCH_HASH_DIHEDRAL, queries,
                                    VOUCH_DIHEDRAL_N * hb, NULL, NULL, NULL)
                     : VOUCH_E_NOMEM;
    char detail[256]; /* copied before the worker goes back to the pool */
    snprintf(detail, sizeof detail, "%s", w ? vouch_decoder_errmsg(vd_worker_decoder(w, exact)) : "");
    vd_worker_put(s, w);
    if (rc != VOUCH_OK) {
      free(queries);
      vd_index_release(ref);
      return vd_image_error(conn, rc, detail);
    }
  }
  if (!queries) {
    vd_index_release(ref);
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  }
  /* without ?radius=, a bank with its own radius (vouch bank radius) is
   * matched with it, capped at --max-radius */
  unsigned *bank_radius = NULL;
  if (ar == 0 && ref->nown && (bank_radius = malloc(((size_t)vouch_index_bank_count(idx) + 1) * sizeof *bank_radius))) {
    unsigned widest = 0;
    for (uint32_t b = 0; b < vouch_index_bank_count(idx); b++) {
      unsigned own = ref->radius[b];
      bank_radius[b] = own == UINT_MAX ? radius : own < max_radius ? own : max_radius;
      if (bank_radius[b] > widest) widest = bank_radius[b];
    }
    radius = widest;
  }
  ret = answer(s, conn, idx, queries, nq, nvar, radius, algo, bank_radius);
  free(bank_radius);
  free(queries);
  vd_index_release(ref);
  return ret;
}
