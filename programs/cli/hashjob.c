/* programs/cli/hashjob.c -- read, decode and hash many files on the photo
 * pipeline (photojob.c), delivering results in input order: `vouch hash`,
 * `vouch match` and `vouch psi voucher` use it.  Each file is read once, on
 * a worker thread, and everything made from it (hashes, margins, derivative
 * hash, voucher payload) is made there from those bytes. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

typedef struct {
  cli_hash_result r;
  char errbuf[256];
  char thumb_err[256];
  vouch_psi_payload payload;
} slot;

typedef struct {
  const cli_paths *paths;
  const cli_hash_opts *opts;
  cli_hash_cb cb;
  void *cb_ctx;
  long failed;
} run;

/* The per-thread state. */
typedef struct {
  vouch_decoder *dec;
  vouch_decoder *thumb; /* with opts->payload */
  vouch_decoder *vdec;  /* with opts->views */
  vouch_hasher *h;
} tools;

/* The second hash of the decoded image's visual derivative, made as a
 * voucher's payload makes it (vouch_psi_payload_init()). */
static int derivative_of(const vouch_image *img, cli_hash_result *r) {
  vouch_psi_payload *pl = malloc(sizeof *pl);
  int rc = pl ? vouch_psi_payload_init(pl, r->algo, r->hashes[0], r->hash_bytes, img) : VOUCH_E_NOMEM;
  if (rc == VOUCH_OK) rc = vouch_derivative_hash(pl->thumb, pl->thumb_w, pl->thumb_h, r->second);
  r->have_second = rc == VOUCH_OK;
  free(pl);
  return rc;
}

/* The tonal views of a hashed photo (docs/protocol.md section 4 step 5):
 * from `decoded` when the photo was decoded in fast mode already, else from
 * a fast-mode decode of the bytes already read; without them (a decode
 * failure) the voucher's probes come from the photo's own hash only. */
static void views_of(tools *t, const vouch_image *decoded, const uint8_t *bytes, size_t len,
                     cli_hash_result *r) {
  if (decoded) {
    r->have_views = vouch_psi_views_make(t->h, decoded, &r->views) == VOUCH_OK;
    return;
  }
  vouch_image img = {0};
  r->have_views = vouch_decoder_decode(t->vdec, bytes, len, &img) == VOUCH_OK &&
                  vouch_psi_views_make(t->h, &img, &r->views) == VOUCH_OK;
  vouch_image_clear(&img);
}

/* The voucher payload of a hashed photo: its thumbnail comes from a scaled
 * decode (JPEG at 1/8 when that still leaves 64 pixels a side) of the bytes
 * already read. */
static void payload_of(tools *t, const uint8_t *bytes, size_t len, slot *s, int views) {
  cli_hash_result *r = &s->r;
  vouch_image img = {0};
  int have = vouch_decoder_decode(t->thumb, bytes, len, &img) == VOUCH_OK;
  if (have && views) /* exact mode: this decode (min side VOUCH_FAST_MIN_SIDE then) serves the views */
    views_of(t, &img, bytes, len, r);
  if (!have) {
    snprintf(s->thumb_err, sizeof s->thumb_err, "%s", vouch_decoder_errmsg(t->thumb));
    r->thumb_err = s->thumb_err;
  }
  r->payload_rc = vouch_psi_payload_init(&s->payload, r->algo, r->hashes[0], r->hash_bytes, have ? &img : NULL);
  r->payload = &s->payload;
  vouch_image_clear(&img);
}

static void hash_one(const run *u, tools *t, size_t i, slot *s) {
  cli_hash_result *r = &s->r;
  const cli_hash_opts *o = u->opts;
  r->path = u->paths->v[i];
  r->algo = o->algo;
  r->hash_bytes = vouch_algo_bytes(o->algo);
  r->nhash = o->dihedral ? VOUCH_DIHEDRAL_N : 1;
  r->quality = -1;
  /* vouch_hash_encoded() streams a JPEG's rows into PDQ's filter in exact
   * mode (no whole-image buffer) and decodes whole otherwise. */
  uint8_t *bytes = NULL;
  size_t len = 0;
  int rc;
  if (cli_read_file(r->path, VOUCH_IMAGE_MAX_BYTES, &bytes, &len) != 0) {
    rc = errno == EFBIG ? VOUCH_E_IMAGE_TOO_LARGE : VOUCH_E_IO;
    snprintf(s->errbuf, sizeof s->errbuf, "%s",
             errno == EFBIG ? "file larger than the image size limit" : strerror(errno));
  } else {
    uint8_t buf[VOUCH_DIHEDRAL_N * VOUCH_HASH_MAX_BYTES];
    const unsigned flags = o->dihedral ? VOUCH_HASH_DIHEDRAL : 0;
    vouch_image img = {0};
    const int views_here = o->views && !o->exact && o->algo == VOUCH_ALGO_PDQ;
    if (o->derivative || views_here) {
      /* the derivative (and, in fast mode, the views) need the decoded image:
       * decode once, then hash it (the same results as vouch_hash_encoded()) */
      rc = vouch_decoder_decode(t->dec, bytes, len, &img);
      if (rc == VOUCH_OK) rc = vouch_hash_image(t->h, o->algo, &img, flags, buf, sizeof buf, &r->quality);
      if (rc == VOUCH_OK) vouch_image_full_size(&img, &r->width, &r->height);
    } else {
      rc = vouch_hash_encoded(t->h, t->dec, bytes, len, o->algo, flags, buf, sizeof buf, &r->quality, &r->width,
                              &r->height);
    }
    if (rc == VOUCH_E_IMAGE_FORMAT && u->paths->walked && u->paths->walked[i]) r->skipped = 1;
    if (rc == VOUCH_OK) {
      for (unsigned v = 0; v < r->nhash; v++)
        memcpy(r->hashes[v], buf + v * r->hash_bytes, r->hash_bytes);
      r->have_margins = vouch_hasher_pdq_margins(t->h, r->margins) == VOUCH_OK;
      const int views_later = o->views && o->algo == VOUCH_ALGO_PDQ && !views_here;
      if (views_here) views_of(t, &img, bytes, len, r);
      if (o->derivative) rc = derivative_of(&img, r);
      if (rc == VOUCH_OK && o->payload) payload_of(t, bytes, len, s, views_later);
      if (rc == VOUCH_OK && views_later && !r->have_views) views_of(t, NULL, bytes, len, r);
    } else {
      snprintf(s->errbuf, sizeof s->errbuf, "%s", vouch_decoder_errmsg(t->dec));
    }
    vouch_image_clear(&img);
  }
  free(bytes);
  r->rc = rc;
  r->errmsg = s->errbuf[0] ? s->errbuf : vouch_strerror(rc);
}

static void tools_free(void *ctx, void *state) {
  (void)ctx;
  tools *t = state;
  if (!t) return;
  vouch_hasher_free(t->h);
  vouch_decoder_free(t->thumb);
  vouch_decoder_free(t->vdec);
  vouch_decoder_free(t->dec);
  free(t);
}

static int tools_init(void *ctx, void **state) {
  const run *u = ctx;
  tools *t = calloc(1, sizeof *t);
  *state = t;
  if (!t) return VOUCH_E_NOMEM;
  vouch_decode_opts o = vouch_decode_opts_default();
  o.apply_orientation = u->opts->orient;
  o.min_side = u->opts->exact ? 0 : VOUCH_FAST_MIN_SIDE;
  int rc = vouch_decoder_create(&t->dec, &o);
  if (rc == VOUCH_OK) rc = vouch_hasher_create(&t->h);
  if (rc == VOUCH_OK && u->opts->payload) {
    vouch_decode_opts to = vouch_decode_opts_default();
    /* with views in exact mode, the thumbnail's decode also serves the views */
    to.min_side = u->opts->views && u->opts->exact ? VOUCH_FAST_MIN_SIDE : VOUCH_PSI_THUMB_SIDE;
    rc = vouch_decoder_create(&t->thumb, &to);
  }
  if (rc == VOUCH_OK && u->opts->views && u->opts->exact) {
    vouch_decode_opts vo = vouch_decode_opts_default();
    vo.apply_orientation = u->opts->orient;
    vo.min_side = VOUCH_FAST_MIN_SIDE;
    rc = vouch_decoder_create(&t->vdec, &vo);
  }
  return rc;
}

static void work(void *ctx, void *state, int init_rc, size_t i, void *result) {
  const run *u = ctx;
  slot *s = result;
  if (init_rc == VOUCH_OK) {
    hash_one(u, state, i, s);
  } else {
    s->r.path = u->paths->v[i];
    s->r.rc = init_rc;
    s->r.errmsg = vouch_strerror(init_rc);
  }
}

static int deliver(void *ctx, size_t i, void *result) {
  (void)i;
  run *u = ctx;
  slot *s = result;
  if (s->r.rc != VOUCH_OK && !s->r.skipped) u->failed++;
  int stop = u->cb(u->cb_ctx, &s->r);
  if (s->r.payload) sodium_memzero(&s->payload, sizeof s->payload);
  return stop;
}

long cli_hash_run(const cli_paths *paths, const cli_hash_opts *opts, cli_hash_cb cb, void *ctx) {
  run u = {paths, opts, cb, ctx, 0};
  cli_photojob j = {.n = paths->n,
                    .jobs = opts->jobs,
                    .window_per_job = 16,
                    .result_size = sizeof(slot),
                    .progress_label = opts->progress_label,
                    .ctx = &u,
                    .init = tools_init,
                    .fini = tools_free,
                    .work = work,
                    .deliver = deliver};
  if (cli_photojob_run(&j) != 0) return -1;
  return u.failed;
}
