/* programs/cli/hashjob.c -- decode and hash many files on several threads,
 * delivering results in input order.
 *
 * Workers claim path indices from a shared counter, but never more than
 * WINDOW ahead of the oldest result not yet delivered; the calling thread
 * waits for result i, hands it to the callback, frees its slot.  Memory is
 * therefore bounded by WINDOW results whatever the number of files. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

typedef struct {
  cli_hash_result r;
  char errbuf[256];
  int ready;
} slot;

typedef struct {
  const cli_paths *paths;
  const cli_hash_opts *opts;
  slot *slots;
  size_t window;
  size_t next;       /* next index to claim */
  size_t delivered;  /* results handed to the callback */
  int stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
} pool;

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

static void hash_one(const pool *p, vouch_decoder *dec, vouch_hasher *h, size_t i, slot *s) {
  cli_hash_result *r = &s->r;
  memset(r, 0, sizeof *r);
  s->errbuf[0] = 0;
  r->path = p->paths->v[i];
  r->algo = p->opts->algo;
  r->hash_bytes = vouch_algo_bytes(p->opts->algo);
  r->nhash = p->opts->dihedral ? VOUCH_DIHEDRAL_N : 1;
  r->quality = -1;
  r->have_margins = 0;
  /* vouch_hash_encoded() streams a JPEG's rows into PDQ's filter in exact
   * mode (no whole-image buffer) and decodes whole otherwise. */
  uint8_t *bytes = NULL;
  size_t len = 0;
  int rc;
  if (cli_read_file(r->path, VOUCH_IMAGE_MAX_BYTES, &bytes, &len) != 0) {
    rc = errno == EFBIG ? VOUCH_E_IMAGE_TOO_LARGE : VOUCH_E_IO;
    snprintf(s->errbuf, sizeof s->errbuf, "%s", errno == EFBIG ? "file larger than the image size limit" : strerror(errno));
  } else {
    uint8_t buf[VOUCH_DIHEDRAL_N * VOUCH_HASH_MAX_BYTES];
    const unsigned flags = p->opts->dihedral ? VOUCH_HASH_DIHEDRAL : 0;
    vouch_image img = {0};
    if (p->opts->derivative) {
      /* the derivative needs the decoded image: decode once, then hash it
       * (the same results as vouch_hash_encoded()) */
      rc = vouch_decoder_decode(dec, bytes, len, &img);
      if (rc == VOUCH_OK) rc = vouch_hash_image(h, p->opts->algo, &img, flags, buf, sizeof buf, &r->quality);
      if (rc == VOUCH_OK) vouch_image_full_size(&img, &r->width, &r->height);
    } else {
      rc = vouch_hash_encoded(h, dec, bytes, len, p->opts->algo, flags, buf, sizeof buf, &r->quality, &r->width,
                              &r->height);
    }
    if (rc == VOUCH_E_IMAGE_FORMAT && p->paths->walked && p->paths->walked[i]) r->skipped = 1;
    if (rc == VOUCH_OK) {
      for (unsigned v = 0; v < r->nhash; v++)
        memcpy(r->hashes[v], buf + v * r->hash_bytes, r->hash_bytes);
      r->have_margins = vouch_hasher_pdq_margins(h, r->margins) == VOUCH_OK;
      if (p->opts->derivative) rc = derivative_of(&img, r);
    } else {
      snprintf(s->errbuf, sizeof s->errbuf, "%s", vouch_decoder_errmsg(dec));
    }
    vouch_image_clear(&img);
  }
  free(bytes);
  r->rc = rc;
  r->errmsg = s->errbuf[0] ? s->errbuf : vouch_strerror(rc);
}

static void *worker(void *arg) {
  pool *p = arg;
  vouch_decode_opts o = vouch_decode_opts_default();
  o.apply_orientation = p->opts->orient;
  o.min_side = p->opts->exact ? 0 : VOUCH_FAST_MIN_SIDE;
  vouch_decoder *dec = NULL;
  vouch_hasher *h = NULL;
  int init_rc = vouch_decoder_create(&dec, &o);
  if (init_rc == VOUCH_OK) init_rc = vouch_hasher_create(&h);
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->next < p->paths->n && p->next >= p->delivered + p->window)
      pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop || p->next >= p->paths->n) {
      pthread_mutex_unlock(&p->mu);
      break;
    }
    size_t i = p->next++;
    pthread_mutex_unlock(&p->mu);
    slot *s = &p->slots[i % p->window];
    if (init_rc == VOUCH_OK) {
      hash_one(p, dec, h, i, s);
    } else {
      memset(&s->r, 0, sizeof s->r);
      s->r.path = p->paths->v[i];
      s->r.rc = init_rc;
      s->r.errmsg = vouch_strerror(init_rc);
    }
    pthread_mutex_lock(&p->mu);
    s->ready = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  vouch_hasher_free(h);
  vouch_decoder_free(dec);
  return NULL;
}

long cli_hash_run(const cli_paths *paths, const cli_hash_opts *opts, cli_hash_cb cb, void *ctx) {
  if (paths->n == 0) return 0;
  int jobs = opts->jobs > 0 ? opts->jobs : cli_ncpu();
  if ((size_t)jobs > paths->n) jobs = (int)paths->n;
  pool p;
  memset(&p, 0, sizeof p);
  p.paths = paths;
  p.opts = opts;
  p.window = (size_t)jobs * 16;
  p.slots = calloc(p.window, sizeof *p.slots);
  pthread_t *tids = calloc((size_t)jobs, sizeof *tids);
  if (!p.slots || !tids) {
    free(p.slots);
    free(tids);
    return -1;
  }
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  int started = 0;
  for (int t = 0; t < jobs; t++)
    if (pthread_create(&tids[t], NULL, worker, &p) == 0) started++;
    else break;
  long failed = 0;
  if (started == 0) {
    failed = -1;
  } else {
    cli_progress prog;
    cli_progress_start(&prog, opts->progress_label ? opts->progress_label : "", paths->n);
    if (!opts->progress_label) prog.enabled = 0;
    for (size_t i = 0; i < paths->n; i++) {
      slot *s = &p.slots[i % p.window];
      pthread_mutex_lock(&p.mu);
      while (!s->ready) pthread_cond_wait(&p.cv, &p.mu);
      pthread_mutex_unlock(&p.mu);
      if (s->r.rc != VOUCH_OK && !s->r.skipped) failed++;
      int stop = cb(ctx, &s->r);
      pthread_mutex_lock(&p.mu);
      s->ready = 0;
      p.delivered++;
      if (stop) p.stop = 1;
      pthread_cond_broadcast(&p.cv);
      pthread_mutex_unlock(&p.mu);
      cli_progress_update(&prog, i + 1);
      if (stop) break;
    }
    cli_progress_end(&prog);
  }
  for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
  pthread_mutex_destroy(&p.mu);
  pthread_cond_destroy(&p.cv);
  free(tids);
  free(p.slots);
  return failed;
}
