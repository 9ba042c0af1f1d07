/* programs/httpd/routes_hma.c -- the routes of Meta's Hasher-Matcher-Actioner
 * 2.x ("OpenMediaMatch") that an HMA client calls, answered by vouchd with
 * HMA's paths, parameters and response shapes (docs/hma.md maps each one):
 *
 *   GET    /status, /readyz                 "I-AM-ALIVE" / "READY", or 503 while no index is loaded or it is stale
 *   GET    /livez, /status/live             "OK", "I-AM-ALIVE"
 *   GET    /m/raw_lookup?signal_type&signal[&include_distance][&banks]
 *   GET    /m/lookup?signal_type&signal[&banks]  or  ?url[&content_type]  (fetch.c, --fetch-allow)
 *   POST   /m/lookup                        multipart/form-data, field "photo"
 *   POST   /m/compare                       {"pdq":[HEX,HEX]}
 *   GET    /m/index/status[?signal_type]
 *   POST   /h/hash                          multipart/form-data, field "photo"; GET /h/hash?url[&content_type]
 *   GET    /c/banks, POST /c/banks {"name"[,"enabled"|"enabled_ratio"]}
 *   GET|PUT|DELETE /c/bank/NAME
 *   POST   /c/bank/NAME/signal {"pdq":HEX}, POST /c/bank/NAME/content (multipart, or ?url=)
 *   DELETE /c/bank/NAME/content/ID
 *   GET    /c/signal_type/index[?signal_type]
 *   GET    /c/signal_type, PUT /c/signal_type/NAME   routes_hma_types.c
 *   /c/exchanges..., /c/exchange/...       routes_hma_exchange.c
 *
 * These requests go through the same admission, limits, worker pool and
 * auth as the /v1 routes (http.c); only /status is answered on the
 * libmicrohttpd thread.  HMA's own errors are {"message": TEXT}; refusals
 * made from the headers (401, 403, 413, 429) keep vouchd's error object.
 *
 * Multipart bodies are taken apart by libmicrohttpd's post processor, fed
 * the body vouchd has already buffered under --max-body and --body-budget. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "vouchd.h"
#include "bodies.h"
#include "hma_parse.h"

/* HMA's signal type names and the vouch algorithm behind each.  A pdq
 * signal is the hex of one hash; a vpdq signal is a video's frames, in
 * python-threatexchange's JSON form (vouch_vpdq_format_compact()); a
 * video_md5 signal is the MD5 of the video file's bytes (32 hex digits),
 * matched exactly by an index of an md5 bank. */
typedef struct {
  const char *name;
  int algo;
  const char *content_type;
} hma_signal;
static const hma_signal hma_signals[] = {
    {"pdq", VOUCH_ALGO_PDQ, "photo"},
    {"vpdq", VOUCH_ALGO_VPDQ, "video"},
    {"video_md5", VOUCH_ALGO_MD5, "video"},
};
#define HMA_NSIGNALS (sizeof hma_signals / sizeof hma_signals[0])

/* One signal's value: the hash bytes of a fixed-size type, or a video's frames. */
typedef struct {
  const hma_signal *st;
  uint8_t hash[VOUCH_HASH_MAX_BYTES];
  vouch_vpdq video; /* vpdq: OWNED, sigs_clear() */
} hma_sig;

static void sigs_clear(hma_sig *sig, size_t n) {
  for (size_t i = 0; i < n; i++) vouch_vpdq_clear(&sig[i].video);
}

static int is_video(const hma_signal *st) { return st->algo == VOUCH_ALGO_VPDQ; }

static const hma_signal *signal_by_name(const char *name) {
  for (size_t i = 0; name && i < HMA_NSIGNALS; i++)
    if (!strcmp(hma_signals[i].name, name)) return &hma_signals[i];
  return NULL;
}

static const hma_signal *signal_by_algo(int algo) {
  for (size_t i = 0; i < HMA_NSIGNALS; i++)
    if (hma_signals[i].algo == algo) return &hma_signals[i];
  return NULL;
}

/* Does the loaded index serve signal type st?  A vouch index is of one
 * algorithm; an index of video frames is a PDQ index too, told apart by the
 * algorithm of its banks (vd_index_is_video()).  The index to ask is
 * vd_index_for(s, st->algo): with --index-dir each signal type's own. */
static int index_serves(vd_index_ref *ref, const hma_signal *st) {
  vouch_index *idx = vd_index_handle(ref);
  if (!idx) return 0;
  if (is_video(st)) return vouch_index_algo(idx) == VOUCH_ALGO_PDQ && vd_index_is_video(ref);
  return vouch_index_algo(idx) == st->algo && !vd_index_is_video(ref);
}

static const char *qarg(struct MHD_Connection *conn, const char *k) {
  return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, k);
}


static int parse_bool(const char *v, int dflt, int *out) {
  if (!v) {
    *out = dflt;
    return 0;
  }
  if (!strcasecmp(v, "true") || !strcmp(v, "1")) *out = 1;
  else if (!strcasecmp(v, "false") || !strcmp(v, "0")) *out = 0;
  else return -1;
  return 0;
}

/* A signal string as HMA's signal types accept it: for pdq exactly the hex
 * of the hash; for vpdq python-threatexchange's JSON of the frames (the
 * reference's text form and the older JSON object are read too).  On
 * success out->video is owned by the caller. */
static int parse_signal(const hma_signal *st, const char *text, hma_sig *out) {
  memset(out, 0, sizeof *out);
  out->st = st;
  if (!text) return -1;
  if (is_video(st)) return vouch_vpdq_parse(text, strlen(text), &out->video, NULL) == VOUCH_OK ? 0 : -1;
  const size_t nb = vouch_algo_list_bytes(st->algo);
  size_t len = strlen(text);
  if (vouch_algo_is_digest(st->algo)) { /* python-threatexchange strips an MD5 (and takes either case) */
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r') text++, len--;
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n' || text[len - 1] == '\r')) len--;
  }
  if (len != 2 * nb) return -1;
  return vouch_hash_from_hex(text, 2 * nb, out->hash, nb) == VOUCH_OK ? 0 : -1;
}

/* ?banks=A,B: is `bank` listed (or no list given)? */
static int bank_wanted(const char *list, const char *bank) {
  return !list || !*list || vd_hma_list_has(list, bank, strlen(bank));
}

/* ---- staleness: HMA answers 503 while its index cache lags the banks ---- */

/* 0 fresh; 1 no index loaded; 2 the bank database (or its WAL) changed after
 * the index file was written. */
static int index_state(vd_server *s) {
  if (!(s->serve & VD_SERVE_MATCH)) return 0; /* --roles without match: no index to be ready with */
  vd_index_ref *ref = vd_index_acquire(s);
  if (!ref) return 1;
  vd_index_release(ref);
  if (s->following && vd_db_is_pg(s->db_path)) /* a replica of a PostgreSQL database: its change counter */
    return atomic_load(&s->index_seq) >= 0 && atomic_load(&s->index_seq) >= atomic_load(&s->db_seq) ? 0 : 2;
  return vd_index_outdated(s) ? 2 : 0;
}

/* /status and /readyz: 503 while the index is not loaded or stale; /livez
 * ("OK") and HMA's /status/live ("I-AM-ALIVE"): always 200. */
enum MHD_Result vd_hma_status(vd_server *s, struct MHD_Connection *conn, const char *url) {
  static const char *const text[] = {"I-AM-ALIVE", "INDEX-NOT-LOADED", "INDEX-STALE", "READY", "OK"};
  int st = 4;
  if (!strcmp(url, "/status/live")) st = 0;
  else if (strcmp(url, "/livez") != 0) {
    st = index_state(s);
    if (st == 0 && !strcmp(url, "/readyz")) st = 3;
  }
  char body[4096];
  const char *fmt = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
  if (fmt && !strcmp(fmt, "json")) { /* readiness and staleness of a replica (docs/api.md) */
    int n = snprintf(body, sizeof body, "{\"status\":\"%s\",", text[st]);
    n += vd_follow_status(s, body + n, sizeof body - (size_t)n - 2);
    if (n > 0 && (size_t)n + 4 < sizeof body) { /* each loaded index */
      body[n++] = ',';
      n += vd_index_status(s, body + n, sizeof body - (size_t)n - 2);
    }
    if (n < 0 || (size_t)n > sizeof body - 2) n = (int)sizeof body - 2; /* cut (nine indexes fit) */
    snprintf(body + n, sizeof body - (size_t)n, "}");
  } else {
    snprintf(body, sizeof body, "%s", text[st]);
  }
  struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
  if (resp) MHD_add_response_header(resp, "Content-Type", body[0] == '{' ? "application/json" : "text/plain");
  return vd_queue(conn, st == 1 || st == 2 ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, resp);
}

/* ---- multipart uploads (libmicrohttpd's post processor) ---- */

typedef struct {
  char key[16];   /* the field name of the file: "photo", "video", ... */
  char fname[256]; /* its file name (a prefix), to tell two files apart */
  int files;      /* files seen (each part with a file name) */
  int bad_key;    /* a file field with a name too long to be a content type */
  size_t cur;     /* bytes of the current file */
  char *data;
  size_t len, cap, limit;
  int oom;
  int want_meta;  /* keep the plain field "metadata" (HMA's form metadata) */
  char *meta;     /* its text, at most UPLOAD_META_MAX bytes */
  size_t meta_len, meta_cap;
  int meta_big;   /* it was longer */
} upload;
#define UPLOAD_META_MAX 65536

/* libmicrohttpd calls this for each piece of each part.  A file starts at
 * offset 0 with a field or file name unlike the last one, or after bytes of
 * the last one: a second file (also under the same field name, as HMA
 * counts them) stops the parse. */
static enum MHD_Result upload_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                   const char *content_type, const char *transfer_encoding, const char *data,
                                   uint64_t off, size_t size) {
  upload *u = cls;
  (void)kind, (void)content_type, (void)transfer_encoding;
  if (!filename || !key) { /* plain form fields: only HMA's "metadata" is read, where asked for */
    if (u->want_meta && key && !strcmp(key, "metadata")) {
      const int rc = vd_buf_append(&u->meta, &u->meta_len, &u->meta_cap, UPLOAD_META_MAX, data, size);
      if (rc == -1) u->meta_big = 1;
      if (rc == -2) u->oom = 1;
    }
    return MHD_YES;
  }
  if (off == 0 && (u->files == 0 || u->cur > 0 || strcmp(u->key, key) != 0 ||
                   strncmp(u->fname, filename, sizeof u->fname - 1) != 0)) {
    if (++u->files > 1) return MHD_NO; /* one file per request */
    if (strlen(key) >= sizeof u->key) {
      u->bad_key = 1;
      return MHD_NO;
    }
    strcpy(u->key, key);
    snprintf(u->fname, sizeof u->fname, "%s", filename);
    u->cur = 0;
  }
  /* a part lies inside the body, so the limit (the body's size) is never passed */
  const int rc = vd_buf_append(&u->data, &u->len, &u->cap, u->limit, data, size);
  if (rc == -2) u->oom = 1;
  if (rc) return MHD_NO;
  u->cur += size;
  return MHD_YES;
}

/* Hashes `data` as content type `ctype` ("photo" or "video") with every
 * signal type of that content type.  On success *nsig signals are in sig
 * (clear them with sigs_clear()); otherwise an answer has been queued and -1
 * is returned with *ret set. */
static int hash_media(vd_server *s, struct MHD_Connection *conn, const char *ctype, const char *data, size_t len,
                      hma_sig *sig, size_t *nsig, enum MHD_Result *ret) {
  *nsig = 0;
  int known = 0;
  for (size_t i = 0; i < HMA_NSIGNALS; i++) known |= !strcmp(hma_signals[i].content_type, ctype);
  if (!known) {
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "no such content_type: '%s'", ctype);
    return -1;
  }
  /* the signal types of this content that are on (PUT /c/signal_type/NAME; routes_hma_types.c) */
  int on[HMA_NSIGNALS], some = 0;
  for (size_t i = 0; i < HMA_NSIGNALS; i++) {
    on[i] = vd_hma_type_on(s, hma_signals[i].algo);
    some |= on[i] && !strcmp(hma_signals[i].content_type, ctype);
  }
  if (!some) { /* HMA's answer when hashing has no type left */
    *ret = vd_send_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "No signal types configured!");
    return -1;
  }
  /* ?types=a,b: only those signal types (HMA's selection) */
  const char *types = qarg(conn, "types");
  int want[HMA_NSIGNALS], any = 0;
  for (size_t i = 0; i < HMA_NSIGNALS; i++) want[i] = !types && on[i];
  const char *cur = types, *it;
  size_t n;
  while (vd_hma_list_next(&cur, &it, &n)) {
    size_t i = 0;
    while (i < HMA_NSIGNALS && !(strlen(hma_signals[i].name) == n && !memcmp(hma_signals[i].name, it, n) &&
                                 !strcmp(hma_signals[i].content_type, ctype) && on[i]))
      i++;
    if (i == HMA_NSIGNALS) {
      *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "signal type '%.*s' doesn't exist or is disabled", (int)n, it);
      return -1;
    }
    want[i] = 1;
  }
  for (size_t i = 0; i < HMA_NSIGNALS; i++) any |= want[i];
  if (!any) {
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "empty signal type selection");
    return -1;
  }
  if (!strcmp(ctype, "video")) {
    /* vpdq as HMA computes it: one frame per second (?seconds_per_hash= may
     * change it); video_md5: the MD5 of the file's bytes */
    for (size_t i = 0; i < HMA_NSIGNALS; i++) {
      if (strcmp(hma_signals[i].content_type, ctype) != 0 || !want[i]) continue;
      memset(&sig[*nsig], 0, sizeof sig[*nsig]);
      sig[*nsig].st = &hma_signals[i];
      if (vouch_algo_is_digest(hma_signals[i].algo)) {
        if (vouch_digest_buffer(hma_signals[i].algo, data, len, sig[*nsig].hash, sizeof sig[*nsig].hash) != VOUCH_OK) {
          sigs_clear(sig, *nsig);
          *nsig = 0;
          *ret = vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
          return -1;
        }
        (*nsig)++;
        continue;
      }
      if (vd_video_vpdq(conn, data, len, 1.0, &sig[*nsig].video, ret) != 0) {
        sigs_clear(sig, *nsig);
        *nsig = 0;
        return -1;
      }
      (*nsig)++;
    }
    atomic_fetch_add(&s->metrics.hashes, 1);
    return 0;
  }
  vd_worker *w = vd_worker_get(s);
  if (!w) {
    *ret = vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
    return -1;
  }
  /* HMA hashes photos with the reference PDQ path: vouch's exact mode */
  vouch_decoder *dec = vd_worker_decoder(w, 1);
  int rc = VOUCH_OK;
  for (size_t i = 0; i < HMA_NSIGNALS && rc == VOUCH_OK; i++) {
    if (strcmp(hma_signals[i].content_type, ctype) != 0 || !want[i]) continue;
    int quality = -1;
    uint32_t fw = 0, fh = 0;
    memset(&sig[*nsig], 0, sizeof sig[*nsig]);
    rc = vouch_hash_encoded(w->hasher, dec, data, len, hma_signals[i].algo, 0, sig[*nsig].hash, VOUCH_HASH_MAX_BYTES,
                            &quality, &fw, &fh);
    if (rc == VOUCH_OK) sig[(*nsig)++].st = &hma_signals[i];
  }
  if (rc != VOUCH_OK) {
    char detail[256];
    snprintf(detail, sizeof detail, "%s", vouch_decoder_errmsg(dec));
    vd_worker_put(s, w);
    *ret = vd_image_error(conn, rc, detail);
    return -1;
  }
  vd_worker_put(s, w);
  atomic_fetch_add(&s->metrics.hashes, 1);
  return 0;
}

/* Hashes the one file of a multipart/form-data body; its field name is the
 * content type, as in HMA.  With meta (may be NULL), the text of a plain
 * field "metadata" goes to *meta (caller frees; NULL when absent). */
static int hash_upload(vd_server *s, struct MHD_Connection *conn, vd_request *r, hma_sig *sig, size_t *nsig,
                       enum MHD_Result *ret, char **meta) {
  upload u = {.limit = r->len, .want_meta = meta != NULL};
  if (meta) *meta = NULL;
  struct MHD_PostProcessor *pp = MHD_create_post_processor(conn, 16384, upload_part, &u);
  const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  if (!pp || !ctype || strncasecmp(ctype, "multipart/form-data", 19) != 0) {
    if (pp) MHD_destroy_post_processor(pp);
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Missing multipart/form-data file upload");
    return -1;
  }
  enum MHD_Result pr = MHD_post_process(pp, r->body, r->len);
  enum MHD_Result fin = MHD_destroy_post_processor(pp);
  int rc = -1;
  if (u.oom)
    *ret = vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  else if (u.files > 1)
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Only one file allowed per request");
  else if (u.meta_big)
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "metadata form field over %u bytes", UPLOAD_META_MAX);
  else if (u.bad_key)
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "no such content_type: (a field name that long)");
  else if (pr != MHD_YES || fin != MHD_YES || u.files == 0)
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, u.files ? "malformed multipart/form-data body"
                                                         : "Missing multipart/form-data file upload");
  else
    rc = hash_media(s, conn, u.key, u.data ? u.data : "", u.len, sig, nsig, ret);
  free(u.data);
  if (rc == 0 && meta && u.meta) {
    *meta = u.meta; /* NUL-terminated below */
    u.meta = NULL;
    if (vd_buf_append(meta, &u.meta_len, &u.meta_cap, u.meta_len + 1, "", 1) != 0) {
      free(*meta);
      *meta = NULL;
      sigs_clear(sig, *nsig);
      *nsig = 0;
      *ret = vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
      rc = -1;
    }
  }
  free(u.meta);
  return rc;
}

/* Fetches ?url= (fetch.c: only from --fetch-allow hosts) and hashes it; the
 * content type is ?content_type=, else taken from the answer's Content-Type. */
static int hash_url(vd_server *s, struct MHD_Connection *conn, const char *url, hma_sig *sig, size_t *nsig,
                    enum MHD_Result *ret) {
  vd_fetched f;
  char err[512];
  unsigned status = vd_fetch(s, url, &f, err, sizeof err);
  if (status) {
    *ret = vd_send_message(conn, status, "%s", err);
    return -1;
  }
  const char *ct = qarg(conn, "content_type");
  if (!ct || !*ct) {
    if (!strncasecmp(f.content_type, "image", 5)) ct = "photo";
    else if (!strncasecmp(f.content_type, "video", 5)) ct = "video";
  }
  int rc = -1;
  if (!ct)
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "unsupported url ContentType: '%s', if you know the expected type, "
                     "provide it with the content_type query param", f.content_type);
  else
    rc = hash_media(s, conn, ct, f.data ? f.data : "", f.len, sig, nsig, ret);
  free(f.data);
  return rc;
}

/* ---- matching ---- */

typedef struct {
  uint64_t id;
  char distance[32]; /* HMA's distance text: "D" for pdq, "Q%[I%]" for vpdq */
  const char *bank;
} hit;

/* The hits of one search, at most `max` (--max-matches). */
typedef struct {
  hit *h;
  size_t n, cap, max;
  int oom;
} hits;

/* Adds one hit if its bank is wanted; non-zero to stop (the cap is reached,
 * or out of memory). */
static int add_hit(vd_server *s, hits *hs, const char *banks, const char *bank, uint64_t id, const char *distance) {
  if (!bank_wanted(banks, bank)) return 0;
  if (hs->n == hs->max) {
    atomic_fetch_add(&s->metrics.truncated, 1);
    return 1;
  }
  if (hs->n == hs->cap) {
    size_t nc = hs->cap ? 2 * hs->cap : 16;
    if (nc > hs->max) nc = hs->max;
    hit *g = realloc(hs->h, nc * sizeof *g);
    if (!g) return hs->oom = 1;
    hs->h = g;
    hs->cap = nc;
  }
  hit *e = &hs->h[hs->n++];
  e->id = id;
  e->bank = bank;
  snprintf(e->distance, sizeof e->distance, "%s", distance);
  return 0;
}

static int search_failed(struct MHD_Connection *conn, int rc, enum MHD_Result *ret) {
  *ret = vd_send_error(conn, rc == VOUCH_E_NOMEM ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR,
                       rc == VOUCH_E_NOMEM ? "out_of_memory" : "internal", "search failed: %s", vouch_strerror(rc));
  return -1;
}

/* A pdq signal at HMA's threshold (vouch's default radius: 31, as HMA). */
static int search_hash(vd_server *s, vouch_index *idx, const hma_sig *q, const char *banks, hits *hs) {
  vouch_search_opts so = {.radius = vouch_default_radius(q->st->algo), .engine = VOUCH_ENGINE_AUTO, .threads = 1};
  vouch_match *m = NULL;
  size_t nm = 0;
  int rc = vouch_index_search(idx, q->hash, 1, 1, &so, &m, &nm);
  if (rc != VOUCH_OK) return rc;
  for (size_t k = 0; k < nm; k++) {
    vouch_index_entry e;
    char d[16];
    if (vouch_index_get(idx, m[k].entry, &e) != VOUCH_OK) continue;
    /* an exact signal has no distance: python-threatexchange prints "-" */
    snprintf(d, sizeof d, vouch_algo_is_digest(q->st->algo) ? "-" : "%u", m[k].distance);
    if (add_hit(s, hs, banks, vouch_index_bank_name(idx, e.bank), (uint64_t)e.entry_id, d)) break;
  }
  atomic_fetch_add(&s->metrics.matches, nm);
  vouch_matches_free(m);
  return hs->oom ? VOUCH_E_NOMEM : VOUCH_OK;
}

/* A vpdq signal with python-threatexchange's defaults (quality 50, radius
 * 31, 80% of the query's unique frames, 0% of the video's); the distance
 * is its VPDQSimilarityInfo text, "QUERY%[INDEX%]". */
static int search_video(vd_server *s, vd_index_ref *ref, const hma_sig *q, const char *banks, hits *hs) {
  vouch_index *idx = vd_index_handle(ref);
  vouch_vpdq_db *db = NULL;
  int rc = vd_index_video_db(ref, &db);
  if (rc != VOUCH_OK) return rc;
  vouch_vpdq_match_opts mo = vouch_vpdq_match_opts_default();
  vouch_vpdq_video_match *m = NULL;
  size_t nm = 0, qu = 0, matched = 0;
  rc = vouch_vpdq_db_match(db, &q->video, &mo, &m, &nm, &qu);
  if (rc != VOUCH_OK) return rc;
  for (size_t k = 0; k < nm; k++) {
    vouch_index_entry e;
    if (!m[k].match || vouch_index_get(idx, m[k].entry, &e) != VOUCH_OK) continue;
    matched++;
    char d[32];
    snprintf(d, sizeof d, "%.0f%%[%.0f%%]", m[k].query_pct, m[k].index_pct);
    if (add_hit(s, hs, banks, vouch_index_bank_name(idx, e.bank), (uint64_t)e.entry_id, d)) break;
  }
  atomic_fetch_add(&s->metrics.matches, matched);
  vouch_vpdq_video_matches_free(m);
  return hs->oom ? VOUCH_E_NOMEM : VOUCH_OK;
}

/* Searches one signal in the loaded index.  Answers itself and returns -1
 * on failure; else fills *hits (caller frees) and *ref (caller releases:
 * the bank names point into the index). */
static int search_signal(vd_server *s, struct MHD_Connection *conn, const hma_sig *q, const char *banks, hit **out,
                         size_t *nh, vd_index_ref **ref, enum MHD_Result *ret) {
  *out = NULL;
  *nh = 0;
  *ref = vd_index_for(s, q->st->algo);
  if (!index_serves(*ref, q->st)) {
    vd_index_release(*ref);
    *ref = NULL;
    *ret = vd_send_message(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "index not yet ready");
    return -1;
  }
  hits hs = {.max = s->max_matches};
  int rc = is_video(q->st) ? search_video(s, *ref, q, banks, &hs) : search_hash(s, vd_index_handle(*ref), q, banks, &hs);
  if (rc != VOUCH_OK) {
    free(hs.h);
    vd_index_release(*ref);
    *ref = NULL;
    return search_failed(conn, rc, ret);
  }
  *out = hs.h;
  *nh = hs.n;
  return 0;
}

/* {BANK: [{"bank_content_id": ID, "distance": "D"}, ...], ...} */
static json_t *by_bank(const hit *h, size_t n) {
  json_t *o = json_object();
  for (size_t i = 0; i < n; i++) {
    json_t *arr = json_object_get(o, h[i].bank);
    if (!arr) {
      arr = json_array();
      json_object_set_new(o, h[i].bank, arr);
    }
    json_array_append_new(arr, json_pack("{s:I,s:s}", "bank_content_id", (json_int_t)h[i].id, "distance",
                                         h[i].distance));
  }
  return o;
}

/* Looks `q` up and returns the by-bank answer in *res. */
static int lookup_one(vd_server *s, struct MHD_Connection *conn, const hma_sig *q, const char *banks, json_t **res,
                      enum MHD_Result *ret) {
  hit *h;
  size_t n;
  vd_index_ref *ref;
  if (search_signal(s, conn, q, banks, &h, &n, &ref, ret) != 0) return -1;
  *res = by_bank(h, n);
  free(h);
  vd_index_release(ref);
  return 0;
}

/* ?signal_type=&signal= into *q (cleared by the caller); -1 with the answer sent. */
static int query_signal(struct MHD_Connection *conn, hma_sig *q, enum MHD_Result *ret) {
  const char *signal = qarg(conn, "signal"), *stn = qarg(conn, "signal_type");
  memset(q, 0, sizeof *q);
  const hma_signal *st = signal_by_name(stn);
  if (!st) *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "No such SignalType '%s'", stn);
  else if (parse_signal(st, signal, q) != 0)
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "invalid signal: not a %s hash", st->name);
  else return 0;
  return -1;
}

static enum MHD_Result route_raw_lookup(vd_server *s, struct MHD_Connection *conn) {
  if (!qarg(conn, "signal")) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "signal is required");
  if (!qarg(conn, "signal_type")) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "signal_type is required");
  int with_d;
  if (parse_bool(qarg(conn, "include_distance"), 0, &with_d) != 0)
    return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "invalid boolean parameter - prefer true/false");
  hma_sig q;
  enum MHD_Result ret;
  if (query_signal(conn, &q, &ret) != 0) return ret;
  hit *h;
  size_t n;
  vd_index_ref *ref;
  const int rc = search_signal(s, conn, &q, qarg(conn, "banks"), &h, &n, &ref, &ret);
  sigs_clear(&q, 1);
  if (rc != 0) return ret;
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, with_d ? json_pack("{s:I,s:s}", "bank_content_id", (json_int_t)h[i].id, "distance",
                                                  h[i].distance)
                                      : json_integer((json_int_t)h[i].id));
  free(h);
  vd_index_release(ref);
  return vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:o}", "matches", arr));
}

/* {SIGNAL_TYPE: {BANK: [...]}} for the signals of one piece of media; only
 * the inner object when ?signal_type= names one of them (HMA's GET).
 * Clears sig. */
static enum MHD_Result lookup_media(vd_server *s, struct MHD_Connection *conn, hma_sig *sig, size_t ns,
                                    const char *only) {
  json_t *out = json_object();
  enum MHD_Result ret;
  /* each signal in the index of its type (one with --index-dir): a video's
   * vpdq and video_md5 are both looked up, and one no index holds has no
   * match (as in an HMA with no bank of that type); none served is a 503 */
  int served[HMA_NSIGNALS] = {0}, any = 0;
  for (size_t i = 0; i < ns; i++) {
    vd_index_ref *ref = vd_index_for(s, sig[i].st->algo);
    any |= served[i] = index_serves(ref, sig[i].st);
    vd_index_release(ref);
  }
  for (size_t i = 0; i < ns; i++) {
    json_t *res;
    if (any && !served[i]) {
      json_object_set_new(out, sig[i].st->name, json_object());
      continue;
    }
    if (lookup_one(s, conn, &sig[i], qarg(conn, "banks"), &res, &ret) != 0) {
      json_decref(out);
      sigs_clear(sig, ns);
      return ret;
    }
    json_object_set_new(out, sig[i].st->name, res);
  }
  sigs_clear(sig, ns);
  if (only) {
    json_t *inner = json_object_get(out, only);
    inner = inner ? json_incref(inner) : json_object();
    json_decref(out);
    out = inner;
  }
  return vd_send_json(conn, MHD_HTTP_OK, out);
}

static enum MHD_Result route_lookup_get(vd_server *s, struct MHD_Connection *conn) {
  const char *url = qarg(conn, "url");
  hma_sig sig[HMA_NSIGNALS];
  size_t ns;
  enum MHD_Result ret;
  if (url && *url) {
    if (hash_url(s, conn, url, sig, &ns, &ret) != 0) return ret;
    return lookup_media(s, conn, sig, ns, qarg(conn, "signal_type"));
  }
  if (!qarg(conn, "signal") || !qarg(conn, "signal_type"))
    return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Either url or both signal and signal_type are required");
  if (query_signal(conn, &sig[0], &ret) != 0) return ret;
  json_t *res;
  const int rc = lookup_one(s, conn, &sig[0], qarg(conn, "banks"), &res, &ret);
  sigs_clear(sig, 1);
  return rc != 0 ? ret : vd_send_json(conn, MHD_HTTP_OK, res);
}

static enum MHD_Result route_lookup_post(vd_server *s, struct MHD_Connection *conn, vd_request *r) {
  hma_sig sig[HMA_NSIGNALS];
  size_t ns;
  enum MHD_Result ret;
  if (hash_upload(s, conn, r, sig, &ns, &ret, NULL) != 0) return ret;
  return lookup_media(s, conn, sig, ns, NULL);
}

/* A signal's HMA string: hex, or vpdq's JSON (NULL when out of memory). */
static json_t *signal_json(const hma_sig *g) {
  if (is_video(g->st)) {
    char *js = NULL;
    if (vouch_vpdq_format_compact(&g->video, &js, NULL) != VOUCH_OK) return NULL;
    json_t *o = json_string(js);
    vouch_free(js);
    return o;
  }
  char hex[VOUCH_HASH_HEX_BYTES];
  vouch_hash_to_hex(g->hash, vouch_algo_list_bytes(g->st->algo), hex, sizeof hex);
  return json_string(hex);
}

/* GET ?url= or POST multipart: {SIGNAL_TYPE: SIGNAL, ...} */
static enum MHD_Result route_hash(vd_server *s, struct MHD_Connection *conn, vd_request *r, int post) {
  hma_sig sig[HMA_NSIGNALS];
  size_t ns;
  enum MHD_Result ret;
  const char *url = qarg(conn, "url");
  if (!post && !url) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "url is required");
  if ((post ? hash_upload(s, conn, r, sig, &ns, &ret, NULL) : hash_url(s, conn, url, sig, &ns, &ret)) != 0) return ret;
  json_t *out = json_object();
  int oom = 0;
  for (size_t i = 0; i < ns; i++) {
    json_t *v = signal_json(&sig[i]);
    oom |= !v;
    if (v) json_object_set_new(out, sig[i].st->name, v);
  }
  sigs_clear(sig, ns);
  if (oom) {
    json_decref(out);
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  }
  return vd_send_json(conn, MHD_HTTP_OK, out);
}

static json_t *load_json(const vd_request *r) {
  json_error_t jerr;
  return r->len ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
}

/* [matched, similarity]: {"distance": D} for pdq; python-threatexchange's
 * VPDQSimilarityInfo fields for vpdq. */
static json_t *compare_pair(const hma_sig *a, const hma_sig *b) {
  if (vouch_algo_is_digest(a->st->algo)) /* equal or not, with no similarity detail (from_bool_only) */
    return json_pack("[b,{}]", !memcmp(a->hash, b->hash, vouch_algo_list_bytes(a->st->algo)));
  if (!is_video(a->st)) {
    const unsigned d = vouch_hamming(a->hash, b->hash, vouch_algo_bytes(a->st->algo));
    return json_pack("[b,{s:i}]", d <= vouch_default_radius(a->st->algo), "distance", (int)d);
  }
  vouch_vpdq_similarity sim;
  if (vouch_vpdq_compare(&a->video, &b->video, VOUCH_VPDQ_RADIUS, VOUCH_VPDQ_QUALITY_MIN, &sim) != VOUCH_OK)
    return NULL;
  return json_pack("[b,{s:f,s:f}]",
                   sim.query_pct >= VOUCH_VPDQ_QUERY_MATCH_DEFAULT && sim.target_pct >= VOUCH_VPDQ_INDEX_MATCH_DEFAULT,
                   "query_match_percent", sim.query_pct, "compared_match_percent", sim.target_pct);
}

static enum MHD_Result route_compare(struct MHD_Connection *conn, vd_request *r) {
  json_t *doc = load_json(r);
  if (!json_is_object(doc)) {
    json_decref(doc);
    return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Request input was not a dict");
  }
  json_t *out = json_object();
  const char *k;
  json_t *v;
  json_object_foreach(doc, k, v) {
    const hma_signal *st = signal_by_name(k);
    enum MHD_Result ret = MHD_NO;
    hma_sig a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    json_t *res = NULL;
    if (!json_is_array(v)) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Comparison hashes for %s was not a list", k);
    else if (json_array_size(v) != 2) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Comparison hash list length must be exactly 2");
    else if (!st) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "No such SignalType '%s'", k);
    else if (parse_signal(st, json_string_value(json_array_get(v, 0)), &a) != 0 ||
             parse_signal(st, json_string_value(json_array_get(v, 1)), &b) != 0)
      ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Invalid %s hash", k);
    else if (!(res = compare_pair(&a, &b)))
      ret = vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
    sigs_clear(&a, 1);
    sigs_clear(&b, 1);
    if (res) {
      json_object_set_new(out, k, res);
      continue;
    }
    json_decref(out);
    json_decref(doc);
    return ret;
  }
  json_decref(doc);
  return vd_send_json(conn, MHD_HTTP_OK, out);
}

/* How many entries of signal type st the loaded index holds (videos, not frames, for vpdq). */
static size_t index_size(vd_index_ref *ref, const hma_signal *st) {
  vouch_vpdq_db *vdb = NULL;
  if (!is_video(st)) return vouch_index_count(vd_index_handle(ref));
  return vd_index_video_db(ref, &vdb) == VOUCH_OK ? vouch_vpdq_db_videos(vdb) : 0;
}

/* The modification time of the file of the index serving st, -1 if none. */
static time_t index_time(const vd_server *s, const hma_signal *st) {
  char path[4096];
  struct timespec t;
  return vd_index_file(s, st->algo, path, sizeof path) == 0 && path[0] && vd_mtime(path, &t) == 0 ? t.tv_sec : -1;
}

static enum MHD_Result route_index_status(vd_server *s, struct MHD_Connection *conn) {
  const char *only = qarg(conn, "signal_type");
  if (only && !signal_by_name(only)) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "No such signal type '%s'", only);
  json_t *out = json_object();
  for (size_t i = 0; i < HMA_NSIGNALS; i++) {
    if (only && strcmp(only, hma_signals[i].name) != 0) continue;
    vd_index_ref *ref = vd_index_for(s, hma_signals[i].algo);
    const int present = index_serves(ref, &hma_signals[i]);
    const size_t size = present ? index_size(ref, &hma_signals[i]) : 0;
    vd_index_release(ref);
    const time_t built = present ? index_time(s, &hma_signals[i]) : -1;
    json_object_set_new(out, hma_signals[i].name,
                        json_pack("{s:b,s:I,s:I}", "present", present, "built_to", (json_int_t)built, "size",
                                  (json_int_t)size));
  }
  return vd_send_json(conn, MHD_HTTP_OK, out);
}

/* ---- curation (/c/) over the bank database ---- */

static enum MHD_Result bank_fail(struct MHD_Connection *conn, int rc, vouch_bank *db, const char *name) {
  const char *detail = db ? vouch_bank_errmsg(db) : "";
  switch (rc) {
  case VOUCH_E_NOT_FOUND: return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "bank '%s' not found", name ? name : "");
  case VOUCH_E_EXISTS: return vd_send_message(conn, MHD_HTTP_FORBIDDEN, "Bank already exists");
  case VOUCH_E_INVALID:
  case VOUCH_E_HASH_PARSE: return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "%s: %s", vouch_strerror(rc), detail);
  case VOUCH_E_ALGO_MISMATCH: return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "the bank holds another signal type");
  case VOUCH_E_NOMEM: return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  case VOUCH_E_DB_BUSY:
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy_database", "the database is locked: %s", detail);
  default: return vd_send_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s: %s", vouch_strerror(rc), detail);
  }
}

/* GET /c/signal_type/index[?signal_type]: HMA's index build status per signal
 * type.  db_size counts the enabled entries of enabled banks of that type (a
 * video is one entry, as one vpdq signal is one hash to HMA); index_size what
 * the loaded index holds of it; newest_db_item is the bank database's last
 * change time (SQLite: the file or its WAL; -1 on PostgreSQL, whose change
 * counter /status?format=json reports); index_built_to the index file's time. */
static enum MHD_Result route_signal_type_index(vd_server *s, struct MHD_Connection *conn) {
  const char *only = qarg(conn, "signal_type");
  if (only && !signal_by_name(only)) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "No such signal type '%s'", only);
  uint64_t n[VOUCH_BANK_ALGO_SLOTS];
  const int rc = vd_hma_db_counts(s, n); /* counted again only after a change (routes_hma_types.c) */
  if (rc != VOUCH_OK) return bank_fail(conn, rc, NULL, NULL);
  struct timespec td = {0, 0};
  if (!vd_db_is_pg(s->db_path)) vd_db_mtime(s, &td);
  const int stale = index_state(s) != 0;
  json_t *out = json_object();
  for (size_t i = 0; i < HMA_NSIGNALS; i++) {
    if (only && strcmp(only, hma_signals[i].name) != 0) continue;
    vd_index_ref *ref = vd_index_for(s, hma_signals[i].algo);
    const int present = index_serves(ref, &hma_signals[i]);
    const size_t size = present ? index_size(ref, &hma_signals[i]) : 0;
    vd_index_release(ref);
    const int out_of_date = present ? stale : n[hma_signals[i].algo] > 0;
    json_object_set_new(out, hma_signals[i].name,
                        json_pack("{s:I,s:I,s:b,s:I,s:I}", "db_size", (json_int_t)n[hma_signals[i].algo], "index_size",
                                  (json_int_t)size, "index_out_of_date", out_of_date, "newest_db_item",
                                  (json_int_t)(td.tv_sec ? td.tv_sec : -1), "index_built_to",
                                  (json_int_t)(present ? index_time(s, &hma_signals[i]) : -1)));
  }
  return vd_send_json(conn, MHD_HTTP_OK, out);
}

/* HMA's BankConfig: {"name", "matching_enabled_ratio"}; vouch's banks are on or off. */
static int bank_cfg(void *ctx, const vouch_bank_info *i) {
  json_array_append_new((json_t *)ctx, json_pack("{s:s,s:f}", "name", i->name, "matching_enabled_ratio",
                                                 i->enabled ? 1.0 : 0.0));
  return 0;
}

static enum MHD_Result send_bank(struct MHD_Connection *conn, vouch_bank *db, const char *name, unsigned status) {
  json_t *arr = json_array();
  int rc = vouch_bank_list(db, name, bank_cfg, arr);
  enum MHD_Result ret = rc == VOUCH_OK && json_array_size(arr) == 1
                            ? vd_send_json(conn, status, json_incref(json_array_get(arr, 0)))
                            : bank_fail(conn, rc == VOUCH_OK ? VOUCH_E_NOT_FOUND : rc, db, name);
  json_decref(arr);
  return ret;
}

/* "enabled" (bool or string) / "enabled_ratio" (0 or 1): vouch keeps a bank
 * on or off, so a partial ratio is refused; -1 when neither is given, -2
 * when malformed or partial. */
static int enabled_from(json_t *doc) {
  json_t *ratio = json_object_get(doc, "enabled_ratio"), *en = json_object_get(doc, "enabled");
  if (ratio) {
    double d = -1;
    if (json_is_number(ratio)) d = json_number_value(ratio);
    if (json_is_string(ratio)) {
      char *end;
      errno = 0;
      d = strtod(json_string_value(ratio), &end);
      if (errno || end == json_string_value(ratio) || *end) d = -1;
    }
    return d == 0.0 ? 0 : d == 1.0 ? 1 : -2;
  }
  if (en) {
    if (json_is_boolean(en)) return json_is_true(en);
    if (json_is_integer(en)) return json_integer_value(en) != 0;
    int b;
    if (json_is_string(en) && parse_bool(json_string_value(en), 0, &b) == 0) return b;
    return -2;
  }
  return -1;
}

/* One entry of a bank, found by hash (by_id 0) or by entry id. */
typedef struct {
  int by_id;
  uint8_t hash[VOUCH_HASH_MAX_BYTES];
  size_t nb;
  int64_t id;
  int enabled, found;
  int64_t disabled_until;
  char ext_id[256]; /* the entry's id text ("" when none or longer) */
} find_one;

static int find_entry(void *ctx, const vouch_bank_entry *e) {
  find_one *f = ctx;
  if (f->by_id ? e->id == f->id : (e->hash_bytes == f->nb && !memcmp(e->hash, f->hash, f->nb))) {
    f->id = e->id;
    f->nb = e->hash_bytes;
    memcpy(f->hash, e->hash, e->hash_bytes < sizeof f->hash ? e->hash_bytes : sizeof f->hash);
    f->enabled = e->enabled;
    f->disabled_until = e->disabled_until;
    f->ext_id[0] = 0;
    if (e->ext_id && strlen(e->ext_id) < sizeof f->ext_id) strcpy(f->ext_id, e->ext_id);
    f->found = 1;
    return 1; /* stop */
  }
  return 0;
}

/* Adds the signals to bank `name` and answers {"id": ID, "signals": {...}}.
 * The id is vouch's entry id (a signal already banked keeps its id);
 * `ext_id` (HMA's metadata.content_id, may be NULL) becomes the entry's id
 * text. */
static enum MHD_Result add_video(struct MHD_Connection *conn, vouch_bank *db, const char *name, const hma_sig *sig,
                                 const char *ext_id) {
  int64_t id = -1;
  int rc = vouch_bank_import_video(db, name, &sig->video, ext_id, "hma", NULL, 0, NULL, &id);
  if (rc != VOUCH_OK) return bank_fail(conn, rc, db, name);
  json_t *js = signal_json(sig);
  if (!js) return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  return vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:I,s:{s:o}}", "id", (json_int_t)id, "signals", sig->st->name, js));
}

static enum MHD_Result add_signals(struct MHD_Connection *conn, vouch_bank *db, const char *name, const hma_sig *sig,
                                   size_t ns, const char *ext_id) {
  if (ns == 0) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "No signals given");
  if (ns > 1) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "a vouch bank holds one signal type");
  if (is_video(sig->st)) return add_video(conn, db, name, sig, ext_id);
  find_one f = {.nb = vouch_algo_list_bytes(sig->st->algo), .id = -1};
  memcpy(f.hash, sig->hash, f.nb);
  char hex[VOUCH_HASH_HEX_BYTES];
  vouch_hash_to_hex(sig->hash, f.nb, hex, sizeof hex);
  /* one JSON line (vouch's JSONL list format): the id is quoted by jansson */
  json_t *item = json_pack("{s:s}", "hash", hex);
  if (ext_id) json_object_set_new(item, "id", json_string(ext_id));
  char *line = json_dumps(item, JSON_COMPACT);
  json_decref(item);
  if (!line) return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  vouch_import_opts io;
  memset(&io, 0, sizeof io);
  io.list.format = VOUCH_LIST_JSONL;
  io.source = "hma";
  io.strict = 1;
  vouch_import_stats stats;
  memset(&stats, 0, sizeof stats);
  int rc = vouch_bank_import(db, name, line, strlen(line), &io, &stats);
  free(line);
  if (rc == VOUCH_OK) rc = vouch_bank_entries(db, name, find_entry, &f);
  if (rc != VOUCH_OK && !f.found) return bank_fail(conn, rc, db, name);
  if (!f.found) return vd_send_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "the signal was added but not found again");
  return vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:I,s:{s:s}}", "id", (json_int_t)f.id, "signals", sig->st->name, hex));
}

/* HMA's optional {"metadata": {"content_id", "content_uri", "json"}} on a
 * ?url= add.  0 and *content_id (NULL if absent) when acceptable. */
static int add_metadata(struct MHD_Connection *conn, json_t *doc, const char **content_id, enum MHD_Result *ret) {
  *content_id = NULL;
  json_t *md = json_is_object(doc) ? json_object_get(doc, "metadata") : NULL;
  if (!md || json_is_null(md)) return 0;
  if (!json_is_object(md)) {
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "metadata should be a json object");
    return -1;
  }
  const char *k;
  json_t *v;
  json_object_foreach(md, k, v) {
    if (strcmp(k, "content_id") != 0 && strcmp(k, "content_uri") != 0 && strcmp(k, "json") != 0) {
      *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "metadata contains unexpected keys: %s", k);
      return -1;
    }
  }
  v = json_object_get(md, "content_id");
  if (v && !json_is_string(v)) {
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "metadata.content_id should be a string");
    return -1;
  }
  *content_id = v ? json_string_value(v) : NULL;
  return 0;
}

static int algo_cb(void *ctx, const vouch_bank_info *i) {
  *(int *)ctx = i->algo;
  return 0;
}

/* The algorithm of bank `name`, VOUCH_ALGO_NONE if unknown. */
static int bank_algo(vouch_bank *db, const char *name) {
  int algo = VOUCH_ALGO_NONE;
  vouch_bank_list(db, name, algo_cb, &algo);
  return algo;
}

static int bank_exists(vouch_bank *db, const char *name, int *rc) {
  json_t *probe = json_array();
  *rc = vouch_bank_list(db, name, bank_cfg, probe);
  const int found = *rc == VOUCH_OK && json_array_size(probe) == 1;
  json_decref(probe);
  if (*rc == VOUCH_OK && !found) *rc = VOUCH_E_NOT_FOUND;
  return found;
}

/* GET /c/bank/NAME/content/ID: HMA's BankContent for a vouch entry.
 * disable_until_ts has HMA's magic values: 0 for a disabled entry (vouch's
 * enabled flag off, as after DELETE), 1 for an enabled one, else the time
 * the entry is kept out of index builds until.  "enabled" (vouch's flag,
 * which HMA lacks) is shown too; "metadata" holds HMA's content_id (the
 * entry's id text) when it has one. */
static enum MHD_Result get_content(struct MHD_Connection *conn, vouch_bank *db, const char *name, int64_t id) {
  int rc;
  if (!bank_exists(db, name, &rc)) return bank_fail(conn, rc, db, name);
  find_one f = {.by_id = 1, .id = id};
  rc = vouch_bank_entries(db, name, find_entry, &f);
  if (!f.found && rc != VOUCH_OK) return bank_fail(conn, rc, db, name);
  if (!f.found) return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "content '%lld' not found", (long long)id);
  json_t *bank = json_array();
  vouch_bank_list(db, name, bank_cfg, bank);
  const int64_t until = !f.enabled ? 0 : f.disabled_until > 1 ? f.disabled_until : 1;
  json_t *o = json_pack("{s:I,s:I,s:{},s:n,s:O,s:b}", "id", (json_int_t)f.id, "disable_until_ts", (json_int_t)until,
                        "collab_metadata", "original_media_uri", "bank", json_array_get(bank, 0), "enabled", f.enabled);
  json_decref(bank);
  int with_md;
  if (f.ext_id[0] && parse_bool(qarg(conn, "include_metadata"), 1, &with_md) == 0 && with_md)
    json_object_set_new(o, "metadata", json_pack("{s:s}", "content_id", f.ext_id));
  int with;
  if (parse_bool(qarg(conn, "include_signals"), 0, &with) == 0 && with) {
    const hma_signal *st = signal_by_algo(bank_algo(db, name));
    hma_sig g;
    memset(&g, 0, sizeof g);
    g.st = st ? st : &hma_signals[0];
    memcpy(g.hash, f.hash, f.nb < sizeof g.hash ? f.nb : sizeof g.hash);
    json_t *v = NULL;
    if (!is_video(g.st) || vouch_bank_video(db, f.id, &g.video) == VOUCH_OK) v = signal_json(&g);
    sigs_clear(&g, 1);
    json_object_set_new(o, "signals", v ? json_pack("{s:o}", g.st->name, v) : json_object());
  }
  return vd_send_json(conn, MHD_HTTP_OK, o);
}

/* PUT /c/bank/NAME/content/ID {"disable_until_ts": T}, with HMA's magic
 * values: 0 disables the entry, 1 enables it, a later time enables it and
 * keeps it out of index builds until then (at most five years ahead, as
 * HMA).  {"enabled": bool} (vouch's addition) sets its enabled flag alone. */
#define VD_HMA_MAX_DISABLE_S (5LL * 366 * 24 * 3600)
static enum MHD_Result put_content(struct MHD_Connection *conn, vouch_bank *db, const char *name, const char *sub,
                                   json_t *doc) {
  int rc;
  if (!bank_exists(db, name, &rc)) return bank_fail(conn, rc, db, name);
  if (!json_is_object(doc)) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "expected a JSON object");
  json_t *ts = json_object_get(doc, "disable_until_ts"), *en = json_object_get(doc, "enabled");
  if (en && !json_is_boolean(en)) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "enabled must be true or false");
  json_int_t until = 0;
  if (ts) {
    until = json_is_integer(ts) ? json_integer_value(ts) : -1;
    if (json_is_string(ts)) {
      char *end;
      errno = 0;
      long long v = strtoll(json_string_value(ts), &end, 10);
      until = errno || end == json_string_value(ts) || *end ? -1 : (json_int_t)v;
    }
    if (until < 0) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "disable_until_ts must be a non-negative integer");
    if (until > (json_int_t)time(NULL) + VD_HMA_MAX_DISABLE_S)
      return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "disable_until_ts must be less than 5 years in the future");
  }
  size_t changed = 0;
  if (en) {
    rc = vouch_bank_entry_set_enabled(db, name, VOUCH_SELECT_ENTRY_ID, sub, json_is_true(en), &changed);
    if (rc == VOUCH_E_NOT_FOUND || (rc == VOUCH_OK && !changed))
      return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "content '%s' not found", sub);
    if (rc != VOUCH_OK) return bank_fail(conn, rc, db, name);
  }
  if (ts) {
    rc = vouch_bank_entry_set_enabled(db, name, VOUCH_SELECT_ENTRY_ID, sub, until != 0, &changed);
    if (rc == VOUCH_OK)
      rc = vouch_bank_entry_disable_until(db, name, VOUCH_SELECT_ENTRY_ID, sub, until > 1 ? (int64_t)until : 0, &changed);
    if (rc == VOUCH_E_NOT_FOUND || (rc == VOUCH_OK && !changed))
      return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "content '%s' not found", sub);
    if (rc != VOUCH_OK) return bank_fail(conn, rc, db, name);
  }
  return get_content(conn, db, name, strtoll(sub, NULL, 10));
}

static enum MHD_Result route_curation(vd_server *s, struct MHD_Connection *conn, const char *path,
                                      const char *method, vd_request *r) {
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST"),
            put = !strcmp(method, "PUT"), del = !strcmp(method, "DELETE");
  if (!strcmp(path, "signal_type/index")) {
    if (!get) return vd_send_message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    return route_signal_type_index(s, conn);
  }
  /* banks | bank/NAME[/signal | /content[/ID]] */
  vd_hma_path hp = {"", "", ""};
  if (!strcmp(path, "banks")) {
    if (!get && !post) return vd_send_message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  } else if (vd_hma_split_path(path, &hp) != 0) {
    return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "no such endpoint: /c/%s", path);
  }
  const char *name = hp.name, *action = hp.action, *sub = hp.sub;
  vouch_bank *db = NULL;
  int rc = vouch_bank_open(&db, s->db_path, get ? VOUCH_BANK_OPEN_READONLY : VOUCH_BANK_OPEN_CREATE);
  if (rc != VOUCH_OK) {
    enum MHD_Result ret = bank_fail(conn, rc, db, NULL);
    vouch_bank_free(db);
    return ret;
  }
  enum MHD_Result ret;
  json_t *doc = NULL;
  if (!*name && get) {
    json_t *arr = json_array();
    rc = vouch_bank_list(db, NULL, bank_cfg, arr);
    ret = rc == VOUCH_OK ? vd_send_json(conn, MHD_HTTP_OK, arr) : (json_decref(arr), bank_fail(conn, rc, db, NULL));
  } else if (!*name && post) {
    doc = load_json(r);
    const char *bn = json_string_value(json_object_get(doc, "name"));
    const int en = doc ? enabled_from(doc) : -1;
    /* vouch's addition: a bank holds one signal type, pdq unless "signal_type" says */
    json_t *stj = json_object_get(doc, "signal_type");
    const hma_signal *bst = stj ? signal_by_name(json_string_value(stj)) : &hma_signals[0];
    if (!json_is_object(doc) || !bn) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "name is required");
    else if (!bst) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "No such signal type (a vouch bank holds pdq, vpdq or video_md5)");
    else if (!vd_hma_bank_name_ok(bn))
      ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Bank names must be UPPER_WITH_UNDERSCORE and not start with a digit");
    else if (en == -2) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "invalid enabled / enabled_ratio (vouch banks are on, 1.0, or off, 0.0)");
    else if ((rc = vouch_bank_create(db, bn, bst->algo)) != VOUCH_OK) ret = bank_fail(conn, rc, db, bn);
    else if (en == 0 && (rc = vouch_bank_set_enabled(db, bn, 0)) != VOUCH_OK) ret = bank_fail(conn, rc, db, bn);
    else ret = send_bank(conn, db, bn, MHD_HTTP_CREATED);
  } else if (*name && !*action && get) {
    ret = send_bank(conn, db, name, MHD_HTTP_OK);
  } else if (*name && !*action && put) {
    doc = load_json(r);
    const int en = json_is_object(doc) ? enabled_from(doc) : -2;
    const char *nn = json_string_value(json_object_get(doc, "name"));
    if (en == -2) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "expected a JSON object with enabled, or enabled_ratio 1.0 "
                                 "or 0.0 (vouch banks are on or off)");
    else if (nn && strcmp(nn, name) != 0 && !vd_hma_bank_name_ok(nn))
      ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Bank names must be UPPER_WITH_UNDERSCORE and not start with a digit");
    else if (nn && (rc = vouch_bank_rename(db, name, nn)) != VOUCH_OK) ret = bank_fail(conn, rc, db, nn);
    else if (en >= 0 && (rc = vouch_bank_set_enabled(db, nn ? nn : name, en)) != VOUCH_OK) ret = bank_fail(conn, rc, db, name);
    else ret = send_bank(conn, db, nn ? nn : name, MHD_HTTP_OK);
  } else if (*name && !*action && del) {
    rc = vouch_bank_remove(db, name);
    /* HMA answers "Done" for a bank that was not there too */
    ret = rc == VOUCH_OK || rc == VOUCH_E_NOT_FOUND ? vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:s}", "message", "Done"))
                                                    : bank_fail(conn, rc, db, name);
  } else if (*name && !strcmp(action, "signal") && !*sub && post) {
    doc = load_json(r);
    hma_sig sig[HMA_NSIGNALS];
    size_t ns = 0;
    const char *k;
    json_t *v;
    ret = MHD_YES;
    int bad = !json_is_object(doc);
    if (bad) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "expected {\"pdq\": HEX}");
    if (!bad) {
      json_object_foreach(doc, k, v) {
        const hma_signal *one = signal_by_name(k);
        if (!one) {
          ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "No such signal type %s", k);
          bad = 1;
          break;
        }
        if (ns == HMA_NSIGNALS || parse_signal(one, json_string_value(v), &sig[ns]) != 0) {
          if (ns < HMA_NSIGNALS) sigs_clear(&sig[ns], 1);
          ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Invalid %s signal", k);
          bad = 1;
          break;
        }
        ns++;
      }
    }
    if (!bad && !bank_exists(db, name, &rc)) ret = bank_fail(conn, rc, db, name);
    else if (!bad) ret = add_signals(conn, db, name, sig, ns, NULL);
    sigs_clear(sig, ns);
  } else if (*name && !strcmp(action, "content") && !*sub && post) {
    hma_sig sig[HMA_NSIGNALS];
    size_t ns;
    const char *url = qarg(conn, "url"), *cid = NULL;
    char *form_meta = NULL;
    json_t *form_doc = NULL;
    const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (url && ctype && strstr(ctype, "json")) doc = load_json(r); /* metadata comes with ?url= (HMA) */
    if (!bank_exists(db, name, &rc)) ret = bank_fail(conn, rc, db, name); /* before the upload is hashed */
    else if (add_metadata(conn, doc, &cid, &ret) != 0) {
    } else if (!url && !(ctype && !strncasecmp(ctype, "multipart/form-data", 19)))
      ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Neither `url` nor multipart file upload was received");
    else if ((url ? hash_url(s, conn, url, sig, &ns, &ret) : hash_upload(s, conn, r, sig, &ns, &ret, &form_meta)) == 0) {
      /* a multipart upload's metadata comes as a form field of JSON text (HMA) */
      json_error_t jerr;
      json_t *md = form_meta ? json_loadb(form_meta, strlen(form_meta), JSON_DECODE_ANY, &jerr) : NULL;
      /* a vouch bank holds one signal type: the media's signal of the bank's type */
      const int balgo = bank_algo(db, name);
      size_t k = 0;
      while (ns > 1 && k < ns && sig[k].st->algo != balgo) k++;
      if (form_meta && !md) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "metadata form field must be valid JSON");
      else if (md && (form_doc = json_pack("{s:o}", "metadata", md)) && add_metadata(conn, form_doc, &cid, &ret) != 0) {
      } else ret = ns > 1 && k < ns ? add_signals(conn, db, name, &sig[k], 1, cid) : add_signals(conn, db, name, sig, ns, cid);
      sigs_clear(sig, ns);
    }
    free(form_meta);
    json_decref(form_doc);
  } else if (*name && !strcmp(action, "content") && *sub) {
    /* vouch keeps entries for the audit trail: "deleting" disables the entry,
     * which leaves the index at the next rebuild */
    char *end;
    errno = 0;
    long long id = strtoll(sub, &end, 10);
    size_t changed = 0;
    if (errno || *end || id < 0 || !(get || put || del)) {
      ret = vd_send_message(conn, MHD_HTTP_NOT_FOUND, "no such endpoint: %s /c/%s", method, path);
    } else if (get) {
      ret = get_content(conn, db, name, id);
    } else if (put) {
      doc = load_json(r);
      ret = put_content(conn, db, name, sub, doc);
    } else if (!bank_exists(db, name, &rc)) {
      ret = bank_fail(conn, rc, db, name);
    } else if ((rc = vouch_bank_entry_set_enabled(db, name, VOUCH_SELECT_ENTRY_ID, sub, 0, &changed)) != VOUCH_OK &&
               rc != VOUCH_E_NOT_FOUND) {
      ret = bank_fail(conn, rc, db, name);
    } else {
      ret = vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:I}", "deleted", (json_int_t)(rc == VOUCH_OK ? changed : 0)));
    }
  } else {
    ret = vd_send_message(conn, MHD_HTTP_NOT_FOUND, "no such endpoint: %s /c/%s", method, path);
  }
  json_decref(doc);
  vouch_bank_free(db);
  return ret;
}

/* ---- the hooks http.c calls ---- */

int vd_hma_health(const char *url) {
  return !strcmp(url, "/status") || !strcmp(url, "/status/live") || !strcmp(url, "/readyz") || !strcmp(url, "/livez");
}

int vd_hma_route(const char *url) {
  return vd_hma_health(url) || !strncmp(url, "/m/", 3) || !strncmp(url, "/h/", 3) || !strncmp(url, "/c/", 3);
}

int vd_hma_role(const char *url, const char *method) {
  const int read = !strcmp(method, "GET") || !strcmp(method, "HEAD");
  if (vd_hma_health(url)) return VD_ROLE_NONE;
  if (!strcmp(url, "/m/index/status")) return VD_ROLE_READER;
  if (!strncmp(url, "/m/", 3) || !strncmp(url, "/h/", 3)) return VD_ROLE_MATCHER;
  return read ? VD_ROLE_READER : VD_ROLE_ADMIN; /* /c/ */
}

enum MHD_Result vd_route_hma(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                             vd_request *r) {
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
  if (vd_hma_health(url) && get) return vd_hma_status(s, conn, url);
  enum MHD_Result gated;
  if (vd_hma_types_gate(s, conn, url, method, r, &gated)) return gated; /* a signal type switched off */
  if (!strcmp(url, "/m/raw_lookup") && get) return route_raw_lookup(s, conn);
  if (!strcmp(url, "/m/lookup") && get) return route_lookup_get(s, conn);
  if (!strcmp(url, "/m/lookup") && post) return route_lookup_post(s, conn, r);
  if (!strcmp(url, "/m/compare") && post) return route_compare(conn, r);
  if (!strcmp(url, "/m/index/status") && get) return route_index_status(s, conn);
  if (!strcmp(url, "/h/hash") && (get || post)) return route_hash(s, conn, r, post);
  if (!strncmp(url, "/c/", 3) && vd_hma_exchange_path(url + 3)) return vd_route_hma_exchange(s, conn, url + 3, method, r);
  if (!strncmp(url, "/c/", 3) && vd_hma_types_path(url + 3)) return vd_route_hma_types(s, conn, url + 3, method, r);
  if (!strncmp(url, "/c/", 3)) return route_curation(s, conn, url + 3, method, r);
  return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "no such endpoint: %s %s", method, url);
}
