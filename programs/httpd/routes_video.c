/* programs/httpd/routes_video.c -- POST /v1/hash for videos (algo=vpdq) and
 * exact digests (algo=md5|sha1|sha256).  The body is decoded from memory
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

static enum MHD_Result hash_vpdq(vd_server *s, struct MHD_Connection *conn, const vd_request *r) {
  const char *sp = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "seconds_per_hash");
  const char *ds = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "downsample");
  double seconds = 0;
  vouch_video_opts o = vouch_video_opts_default();
  o.max_seconds = VD_VIDEO_MAX_SECONDS;
  o.max_total_pixels = VD_VIDEO_MAX_TOTAL_PIXELS;
  char *end;
  if (sp) {
    seconds = strtod(sp, &end);
    if (end == sp || *end || !(seconds >= 0 && seconds <= 86400))
      return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "seconds_per_hash must be 0 to 86400");
  }
  if (ds) {
    unsigned long n = strtoul(ds, &end, 10);
    if (end == ds || *end || n > 1024)
      return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "downsample must be 0 to 1024");
    o.out_side = (uint32_t)n;
  }
  if (r->len == 0) return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "the body must be a video file");
  vouch_video *v = NULL;
  vouch_vpdq h = {0};
  int rc = vouch_video_open_memory(&v, r->body, r->len, &o);
  if (rc == VOUCH_OK) rc = vouch_vpdq_hash_video(v, seconds, &h);
  if (rc != VOUCH_OK) {
    enum MHD_Result ret = video_error(conn, rc, vouch_video_errmsg(v));
    vouch_video_free(v);
    return ret;
  }
  vouch_video_free(v);
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
