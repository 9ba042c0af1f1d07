/* programs/httpd/routes_hash.c -- POST /v1/hash and the decoder/hasher pool. */
#include <stdlib.h>
#include <string.h>
#include "vouchd.h"


vd_worker *vd_worker_get(vd_server *s) {
  pthread_mutex_lock(&s->pool_mu);
  vd_worker *w = s->pool;
  if (w) s->pool = w->next;
  pthread_mutex_unlock(&s->pool_mu);
  if (w) return w;
  w = calloc(1, sizeof *w);
  if (!w) return NULL;
  vouch_decode_opts fast = vouch_decode_opts_default(), exact = vouch_decode_opts_default();
  fast.min_side = VOUCH_FAST_MIN_SIDE; /* fast mode as in the CLI (include/vouch/hash.h) */
  if (vouch_decoder_create(&w->dec, &fast) != VOUCH_OK || vouch_decoder_create(&w->exact, &exact) != VOUCH_OK ||
      vouch_hasher_create(&w->hasher) != VOUCH_OK) {
    vd_worker_free(w);
    return NULL;
  }
  return w;
}

void vd_worker_free(vd_worker *w) {
  if (!w) return;
  vouch_decoder_free(w->dec);
  vouch_decoder_free(w->exact);
  vouch_hasher_free(w->hasher);
  free(w);
}

void vd_worker_put(vd_server *s, vd_worker *w) {
  if (!w) return;
  pthread_mutex_lock(&s->pool_mu);
  w->next = s->pool;
  s->pool = w;
  pthread_mutex_unlock(&s->pool_mu);
}

vouch_decoder *vd_worker_decoder(vd_worker *w, int exact) {
  return exact ? w->exact : w->dec;
}

static int arg_flag(struct MHD_Connection *conn, const char *key) {
  const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
  return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || *v == 0);
}

/* Maps a decode failure to an HTTP answer. */
enum MHD_Result vd_image_error(struct MHD_Connection *conn, int rc, const char *detail) {
  if (rc == VOUCH_E_IMAGE_FORMAT || rc == VOUCH_E_UNSUPPORTED)
    return vd_send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "%s: %s",
                         vouch_strerror(rc), detail);
  if (rc == VOUCH_E_IMAGE_TOO_LARGE)
    return vd_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "image_too_large", "%s", detail);
  if (rc == VOUCH_E_NOMEM)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  return vd_send_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, "image_error", "%s: %s", vouch_strerror(rc),
                       detail);
}

int vd_hash_body(vd_server *s, vd_worker *w, int exact, const void *body, size_t len, int algo, unsigned flags,
                 uint8_t *out, size_t cap, int *quality, uint32_t *width, uint32_t *height) {
  /* vouch_hash_encoded(): in exact mode a JPEG's rows stream into PDQ's
   * filter without a whole-image buffer; otherwise a whole decode. */
  int rc = vouch_hash_encoded(w->hasher, vd_worker_decoder(w, exact), body, len, algo, flags, out, cap, quality,
                              width, height);
  if (rc == VOUCH_OK) atomic_fetch_add(&s->metrics.hashes, 1);
  return rc;
}

enum MHD_Result vd_route_hash(vd_server *s, struct MHD_Connection *conn, vd_request *r) {
  const char *algo_name = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "algo");
  if (vd_is_video_algo(algo_name)) return vd_route_hash_video(s, conn, r, algo_name); /* routes_video.c */
  int algo = algo_name ? vouch_algo_from_name(algo_name) : VOUCH_ALGO_PDQ;
  if (algo == VOUCH_ALGO_NONE)
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "unknown algo '%s'", algo_name);
  if (r->len == 0)
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "the body must be an image file");
  const int dihedral = arg_flag(conn, "dihedral"), exact = arg_flag(conn, "exact");
  vd_worker *w = vd_worker_get(s);
  enum MHD_Result ret;
  if (!w) {
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  }
  vouch_decoder *dec = vd_worker_decoder(w, exact);
  uint8_t out[VOUCH_DIHEDRAL_N * VOUCH_HASH_MAX_BYTES];
  int quality = -1;
  uint32_t fw = 0, fh = 0;
  int rc = vd_hash_body(s, w, exact, r->body, r->len, algo, dihedral ? VOUCH_HASH_DIHEDRAL : 0, out, sizeof out,
                        &quality, &fw, &fh);
  if (rc != VOUCH_OK && (vouch_rc_class(rc) == 10 || rc == VOUCH_E_UNSUPPORTED || *vouch_decoder_errmsg(dec))) {
    ret = vd_image_error(conn, rc, vouch_decoder_errmsg(dec));
  } else if (rc != VOUCH_OK) {
    ret = vd_send_error(conn, rc == VOUCH_E_NOMEM ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_INTERNAL_SERVER_ERROR,
                        rc == VOUCH_E_NOMEM ? "out_of_memory" : "internal", "hashing failed: %s", vouch_strerror(rc));
  } else {
    size_t nb = vouch_algo_bytes(algo);
    char hex[VOUCH_HASH_HEX_BYTES];
    vouch_hash_to_hex(out, nb, hex, sizeof hex);
    json_t *o = json_pack("{s:s,s:s,s:i,s:i,s:s}", "algo", vouch_algo_name(algo), "hash", hex,
                          "width", (int)fw, "height", (int)fh, "mode", exact ? "exact" : "fast");
    json_object_set_new(o, "quality", quality >= 0 ? json_integer(quality) : json_null());
    if (dihedral) {
      json_t *arr = json_array();
      for (unsigned v = 0; v < VOUCH_DIHEDRAL_N; v++) {
        vouch_hash_to_hex(out + v * nb, nb, hex, sizeof hex);
        json_array_append_new(arr, json_string(hex));
      }
      json_object_set_new(o, "dihedral", arr);
    }
    ret = vd_send_json(conn, MHD_HTTP_OK, o);
  }
  vd_worker_put(s, w);
  return ret;
}
