/* programs/httpd/routes_video.c -- POST /v1/hash for videos (algo=vpdq) and
 * exact digests (algo=md5|sha1|sha256), POST /v1/match?algo=vpdq.  The body is decoded from memory
 * through the library's own I/O (no file is written, FFmpeg opens nothing
 * by name), under limits tighter than the library's defaults: a request
 * must not cost minutes of CPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "vouchd.h"

/* Per request: at most 1 h of video and 2^33 decoded pixels (about 25,000
 * SD frames or 4,000 at 1080p: some 10-30 s of one core). */
#define VD_VIDEO_MAX_SECONDS 3600.0
#define VD_VIDEO_MAX_TOTAL_PIXELS (UINT64_C(1) << 33)

int vd_is_video_algo(const char *algo) {
  return algo && (!strcasecmp(algo, "vpdq") || vouch_digest_from_name(algo) != 0);
}

static enum MHD_Result video_error(struct MHD_Connection *conn, int rc, const char *detail) {
  if (rc == VOUCH_E_VIDEO_FORMAT || rc == VOUCH_E_UNSUPPORTED)
    return vd_send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "%s: %s",
                         vouch_strerror(rc), detail);
  if (rc == VOUCH_E_VIDEO_TOO_LARGE || rc == VOUCH_E_VIDEO_TOO_LONG)
    return vd_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "video_too_large", "%s: %s", vouch_strerror(rc), detail);
  if (rc == VOUCH_E_NOMEM)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  return vd_send_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, "video_error", "%s: %s", vouch_strerror(rc), detail);
}

static enum MHD_Result hash_digest(vd_server *s, struct MHD_Connection *conn, const vd_request *r, int algo) {
  uint8_t d[VOUCH_DIGEST_MAX_BYTES];
  char hex[2 * VOUCH_DIGEST_MAX_BYTES + 1];
  if (vouch_digest_buffer(algo, r->body ? r->body : "", r->len, d, sizeof d) != VOUCH_OK)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  vouch_hash_to_hex(d, vouch_digest_bytes(algo), hex, sizeof hex);
  atomic_fetch_add(&s->metrics.hashes, 1);
  return vd_send_json(conn, MHD_HTTP_OK,
                      json_pack("{s:s,s:s,s:I}", "algo", vouch_digest_name(algo), "hash", hex, "bytes", (json_int_t)r->len));
}

/* The vPDQ of the video in data[0, len) (query seconds_per_hash, default
 * `seconds`; downsample); on failure the answer has been sent and *sent is set. */
int vd_video_vpdq(struct MHD_Connection *conn, const void *data, size_t len, double seconds, vouch_vpdq *h,
                  enum MHD_Result *sent) {
  const char *sp = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "seconds_per_hash");
  const char *ds = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "downsample");
  vouch_video_opts o = vouch_video_opts_default();
  o.max_seconds = VD_VIDEO_MAX_SECONDS;
  o.max_total_pixels = VD_VIDEO_MAX_TOTAL_PIXELS;
  char *end;
  if (sp) {
    seconds = strtod(sp, &end);
    if (end == sp || *end || !(seconds >= 0 && seconds <= 86400)) {
      *sent = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "seconds_per_hash must be 0 to 86400");
      return -1;
    }
  }
  if (ds) {
    unsigned long n = strtoul(ds, &end, 10);
    if (end == ds || *end || n > 1024) {
      *sent = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "downsample must be 0 to 1024");
      return -1;
    }
    o.out_side = (uint32_t)n;
  }
  if (len == 0) {
    *sent = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "the body must be a video file");
    return -1;
  }
  vouch_video *v = NULL;
  int rc = vouch_video_open_memory(&v, data, len, &o);
  if (rc == VOUCH_OK) rc = vouch_vpdq_hash_video(v, seconds, h);
  if (rc != VOUCH_OK) *sent = video_error(conn, rc, vouch_video_errmsg(v));
  vouch_video_free(v);
  return rc == VOUCH_OK ? 0 : -1;
}

static int body_vpdq(struct MHD_Connection *conn, const vd_request *r, vouch_vpdq *h, enum MHD_Result *sent) {
  return vd_video_vpdq(conn, r->body, r->len, 0, h, sent);
}

static enum MHD_Result hash_vpdq(vd_server *s, struct MHD_Connection *conn, const vd_request *r) {
  vouch_vpdq h = {0};
  enum MHD_Result sent;
  if (body_vpdq(conn, r, &h, &sent) != 0) return sent;
  json_t *frames = json_array();
  char hex[VOUCH_HASH_HEX_BYTES];
  for (size_t i = 0; i < h.n; i++) {
    const vouch_vpdq_frame *f = &h.frames[i];
    vouch_hash_to_hex(f->hash, VOUCH_PDQ_BYTES, hex, sizeof hex);
    /* seconds rounded to the 3 decimals of the reference's text form */
    json_array_append_new(frames, json_pack("{s:I,s:i,s:s,s:f}", "frame", (json_int_t)f->frame, "quality", f->quality,
                                            "hash", hex, "seconds", round((double)f->seconds * 1000.0) / 1000.0));
  }
  json_t *o_json = json_pack("{s:s,s:o,s:i,s:i}", "algo", "vpdq", "frames", frames, "width", (int)h.width, "height",
                             (int)h.height);
  json_object_set_new(o_json, "duration", h.duration >= 0 ? json_real(h.duration) : json_null());
  vouch_vpdq_clear(&h);
  atomic_fetch_add(&s->metrics.hashes, 1);
  return vd_send_json(conn, MHD_HTTP_OK, o_json);
}

enum MHD_Result vd_route_hash_video(vd_server *s, struct MHD_Connection *conn, vd_request *r, const char *algo) {
  if (atomic_fetch_add(&s->inflight, 1) >= s->max_inflight) {
    atomic_fetch_sub(&s->inflight, 1);
    atomic_fetch_add(&s->metrics.rejected_busy, 1);
    return vd_send_error(conn, MHD_HTTP_TOO_MANY_REQUESTS, "busy", "too many requests in progress");
  }
  const int digest = vouch_digest_from_name(algo);
  enum MHD_Result ret = digest ? hash_digest(s, conn, r, digest) : hash_vpdq(s, conn, r);
  atomic_fetch_sub(&s->inflight, 1);
  return ret;
}

static int arg_pct(struct MHD_Connection *conn, const char *key, double *out) {
  const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
  if (!v) return 0;
  char *end;
  double d = strtod(v, &end);
  if (end == v || *end || !(d >= 0 && d <= 100)) return -1;
  *out = d;
  return 0;
}

enum MHD_Result vd_route_match_video(vd_server *s, struct MHD_Connection *conn, vd_request *r) {
  vouch_vpdq_match_opts mo = vouch_vpdq_match_opts_default();
  if (arg_pct(conn, "query_match", &mo.query_match) != 0 || arg_pct(conn, "index_match", &mo.index_match) != 0)
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "query_match and index_match are 0 to 100");
  vd_index_ref *ref = vd_index_for(s, VOUCH_ALGO_VPDQ);
  if (!ref)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no_index",
                         "no index is loaded (start with --index, or POST /v1/index/rebuild)");
  vouch_vpdq_db *db = NULL;
  int rc = vd_index_video_db(ref, &db);
  if (rc != VOUCH_OK) {
    vd_index_release(ref);
    return rc == VOUCH_E_NOMEM ? vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory")
                               : vd_send_error(conn, MHD_HTTP_CONFLICT, "not_a_video_index",
                                               "the loaded index is not a PDQ index of video frames");
  }
  if (atomic_fetch_add(&s->inflight, 1) >= s->max_inflight) {
    atomic_fetch_sub(&s->inflight, 1);
    atomic_fetch_add(&s->metrics.rejected_busy, 1);
    vd_index_release(ref);
    return vd_send_error(conn, MHD_HTTP_TOO_MANY_REQUESTS, "busy", "too many requests in progress");
  }
  /* the body: a vPDQ list (the reference's text form, or JSON starting with
   * '{'), else a video */
  vouch_vpdq q = {0};
  enum MHD_Result ret;
  size_t line = 0;
  const int list = r->len > 0 && vouch_vpdq_parse(r->body, r->len, &q, &line) == VOUCH_OK;
  if (!list) {
    vouch_vpdq_clear(&q);
    if (body_vpdq(conn, r, &q, &ret) != 0) {
      atomic_fetch_sub(&s->inflight, 1);
      vd_index_release(ref);
      return ret;
    }
    atomic_fetch_add(&s->metrics.hashes, 1);
  }
  vouch_vpdq_video_match *m = NULL;
  size_t nm = 0, qu = 0;
  rc = vouch_vpdq_db_match(db, &q, &mo, &m, &nm, &qu);
  vouch_vpdq_clear(&q);
  if (rc != VOUCH_OK) {
    ret = vd_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "match failed: %s", vouch_strerror(rc));
  } else {
    vouch_index *idx = vd_index_handle(ref);
    json_t *arr = json_array();
    size_t matched = 0;
    for (size_t k = 0; k < nm; k++) {
      vouch_index_entry e;
      if (vouch_index_get(idx, m[k].entry, &e) != VOUCH_OK) continue;
      matched += m[k].match != 0;
      json_t *o = json_object();
      json_object_set_new(o, "bank", json_string(vouch_index_bank_name(idx, e.bank)));
      json_object_set_new(o, "id", json_stringn(e.ext_id, e.ext_len));
      json_object_set_new(o, "source", json_stringn(e.source, e.src_len));
      json_object_set_new(o, "match", json_boolean(m[k].match));
      json_object_set_new(o, "query_match", json_real(m[k].query_pct));
      json_object_set_new(o, "index_match", json_real(m[k].index_pct));
      json_object_set_new(o, "index_frames", json_integer((json_int_t)m[k].index_unique));
      json_array_append_new(arr, o);
    }
    atomic_fetch_add(&s->metrics.matches, matched);
    ret = vd_send_json(conn, MHD_HTTP_OK,
                       json_pack("{s:s,s:I,s:o,s:f,s:f}", "algo", "vpdq", "query_frames", (json_int_t)qu, "videos", arr,
                                 "query_match_threshold", mo.query_match, "index_match_threshold", mo.index_match));
  }
  vouch_vpdq_video_matches_free(m);
  atomic_fetch_sub(&s->inflight, 1);
  vd_index_release(ref);
  return ret;
}
