/* programs/httpd/jobs.c -- heavy requests off the libmicrohttpd threads.
 *
 * Hashing, matching, voucher intake, account status and every bank or index
 * change run on a pool of --threads workers.  The libmicrohttpd thread that
 * received such a request suspends its connection and goes back to serving
 * the others, so /healthz and /metrics answer while heavy work is queued.
 * Queued plus running jobs are capped by --max-inflight (light and heavy
 * jobs apart), and the heavy ones of one token by --max-inflight-per-token;
 * one more gets 429 with Retry-After at
 * once.  Small JSON lookups (the honest phone's one photo) go to a light
 * queue: the general workers take it first, and one more worker takes only
 * it, so a light request never waits behind a queue of heavy ones.  A worker runs the route with its responses
 * captured (vd_capture_begin/end), stores the response in the request and
 * resumes the connection; the access handler queues it on its next call. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "vouchd.h"

#define VD_HEAVY_NICE 10

typedef struct {
  vd_request *head, *tail;
} fifo;

struct vd_jobs {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  fifo light, heavy;
  unsigned nthreads;
  int stop;
  vd_server *s;
  pthread_t th[];
};

typedef struct {
  vd_server *s;
  int light_only;
} worker_arg;

static vd_request *pop(fifo *f) {
  vd_request *r = f->head;
  if (r) {
    f->head = r->next;
    if (!f->head) f->tail = NULL;
  }
  return r;
}

static void push(fifo *f, vd_request *r) {
  r->next = NULL;
  if (f->tail) f->tail->next = r;
  else f->head = r;
  f->tail = r;
}

static void *worker_run(vd_server *s, int light_only) {
  vd_jobs *q = s->jobs;
  for (;;) {
    pthread_mutex_lock(&q->mu);
    while (!q->light.head && (light_only || !q->heavy.head) && !q->stop) pthread_cond_wait(&q->cv, &q->mu);
    vd_request *r = pop(&q->light);
    if (!r && !light_only) r = pop(&q->heavy);
    if (!r) { /* stopping, and nothing left for this worker */
      pthread_mutex_unlock(&q->mu);
      return NULL;
    }
    pthread_mutex_unlock(&q->mu);
    vd_capture_begin(r);
    if (atomic_load(&s->stopping))
      vd_send_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping", "the server is stopping");
    else
      vd_dispatch(s, r->conn, r->url, r->method, r);
    vd_capture_end();
    r->job_done = 1;
    if (r->tok_counter) atomic_fetch_sub(r->tok_counter, 1);
    atomic_fetch_sub(r->lane_counter, 1);
    atomic_fetch_sub(&s->inflight, 1);
    MHD_resume_connection(r->conn);
  }
}

static void *worker(void *arg) {
  worker_arg a = *(worker_arg *)arg;
  free(arg);
  /* The general workers run at a lower priority than the light-only worker
   * and libmicrohttpd's threads: when heavy jobs fill the cores, small
   * lookups and /healthz still get the CPU first.  (Linux: the nice value is
   * per thread.)  Best effort: nothing depends on it. */
  if (!a.light_only) (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), VD_HEAVY_NICE);
  return worker_run(a.s, a.light_only);
}

int vd_jobs_start(vd_server *s) {
  /* --threads general workers and one for light jobs only */
  vd_jobs *q = calloc(1, sizeof *q + (s->threads + 1) * sizeof(pthread_t));
  if (!q) return -1;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  s->jobs = q;
  for (unsigned i = 0; i <= s->threads; i++) {
    worker_arg *a = malloc(sizeof *a);
    if (!a) break;
    a->s = s;
    a->light_only = i == s->threads;
    if (pthread_create(&q->th[i], NULL, worker, a) != 0) {
      free(a);
      break;
    }
    q->nthreads++;
  }
  return q->nthreads == s->threads + 1 ? 0 : -1;
}

void vd_jobs_stop(vd_server *s) {
  vd_jobs *q = s->jobs;
  if (!q) return;
  pthread_mutex_lock(&q->mu);
  q->stop = 1;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&q->mu);
  for (unsigned i = 0; i < q->nthreads; i++) pthread_join(q->th[i], NULL);
  pthread_mutex_destroy(&q->mu);
  pthread_cond_destroy(&q->cv);
  free(q);
  s->jobs = NULL;
}

int vd_jobs_submit(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                   vd_request *r, int light) {
  /* the per-token share applies to the heavy jobs of non-admin tokens
   * (without --no-auth every request here has a token: admit() checked it) */
  atomic_uint *mine = s->auth_required && !light && r->role != VD_ROLE_ADMIN ? &s->tok_inflight[r->tok_bucket] : NULL;
  if (mine && atomic_fetch_add(mine, 1) >= s->max_inflight_token) {
    atomic_fetch_sub(mine, 1);
    return -1;
  }
  /* light and heavy jobs each have --max-inflight slots: heavy work filling
   * its slots never turns a small lookup away */
  atomic_uint *lane = light ? &s->inflight_light : &s->inflight_heavy;
  if (atomic_fetch_add(lane, 1) >= s->max_inflight) {
    atomic_fetch_sub(lane, 1);
    if (mine) atomic_fetch_sub(mine, 1);
    return -1;
  }
  atomic_fetch_add(&s->inflight, 1);
  r->tok_counter = mine;
  r->lane_counter = lane;
  vd_jobs *q = s->jobs;
  r->conn = conn;
  r->url = url; /* both live in the connection until the request completes */
  r->method = method;
  /* suspend before the job can possibly resume it */
  MHD_suspend_connection(conn);
  pthread_mutex_lock(&q->mu);
  push(light ? &q->light : &q->heavy, r);
  pthread_cond_broadcast(&q->cv); /* the light-only worker may be the one to wake */
  pthread_mutex_unlock(&q->mu);
  return 0;
}
