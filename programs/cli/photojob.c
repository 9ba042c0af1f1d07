/* programs/cli/photojob.c -- the CLI's photo pipeline: per-photo work on
 * several threads, results delivered in input order.
 *
 * Each worker thread makes its own state once (decoders, hasher,
 * classifier...), then claims item indices from a shared counter, but never
 * more than `window` ahead of the oldest item not yet delivered; it does the
 * whole per-photo work (read, decode, hash...) into the item's result slot.
 * The calling thread waits for item i, hands it to `deliver`, frees its slot.
 * Memory is therefore bounded by `window` results whatever the number of
 * items, and output is in input order whatever the number of threads. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

typedef struct {
  const cli_photojob *job;
  unsigned char *slots; /* window slots of job->result_size bytes */
  unsigned char *ready; /* window flags */
  size_t window;
  size_t next;      /* next index to claim */
  size_t delivered; /* items handed to deliver */
  int stop;
  pthread_mutex_t mu;
  pthread_cond_t cv;
} pool;

static void *worker(void *arg) {
  pool *p = arg;
  const cli_photojob *j = p->job;
  void *state = NULL;
  int init_rc = j->init ? j->init(j->ctx, &state) : VOUCH_OK;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->next < j->n && p->next >= p->delivered + p->window)
      pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop || p->next >= j->n) {
      pthread_mutex_unlock(&p->mu);
      break;
    }
    size_t i = p->next++;
    pthread_mutex_unlock(&p->mu);
    void *slot = p->slots + (i % p->window) * j->result_size;
    memset(slot, 0, j->result_size);
    j->work(j->ctx, init_rc == VOUCH_OK ? state : NULL, init_rc, i, slot);
    pthread_mutex_lock(&p->mu);
    p->ready[i % p->window] = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  if (j->fini) j->fini(j->ctx, state);
  return NULL;
}

int cli_photojob_run(const cli_photojob *j) {
  if (j->n == 0) return 0;
  int jobs = j->jobs > 0 ? j->jobs : cli_ncpu();
  if ((size_t)jobs > j->n) jobs = (int)j->n;
  pool p;
  memset(&p, 0, sizeof p);
  p.job = j;
  p.window = (size_t)jobs * (j->window_per_job ? j->window_per_job : 16);
  if (p.window > j->n) p.window = j->n; /* every item its own slot: no wait */
  /* a zero-sized result (the work stores its results by index) still
   * gets one byte per slot, so that slots have distinct addresses */
  const size_t slot_bytes = j->result_size ? j->result_size : 1;
  p.slots = calloc(p.window, slot_bytes);
  p.ready = calloc(p.window, 1);
  pthread_t *tids = calloc((size_t)jobs, sizeof *tids);
  if (!p.slots || !p.ready || !tids) {
    free(p.slots);
    free(p.ready);
    free(tids);
    return -1;
  }
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  int started = 0;
  for (int t = 0; t < jobs; t++)
    if (pthread_create(&tids[t], NULL, worker, &p) == 0) started++;
    else break;
  if (started > 0) {
    cli_progress prog;
    cli_progress_start(&prog, j->progress_label ? j->progress_label : "", j->n);
    if (!j->progress_label) prog.enabled = 0;
    for (size_t i = 0; i < j->n; i++) {
      const size_t k = i % p.window;
      pthread_mutex_lock(&p.mu);
      while (!p.ready[k]) pthread_cond_wait(&p.cv, &p.mu);
      pthread_mutex_unlock(&p.mu);
      int stop = j->deliver ? j->deliver(j->ctx, i, p.slots + k * j->result_size) : 0;
      pthread_mutex_lock(&p.mu);
      p.ready[k] = 0;
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
  free(p.ready);
  free(p.slots);
  return started > 0 ? 0 : -1;
}
