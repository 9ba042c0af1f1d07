/* programs/httpd/jobs.c -- heavy requests off the libmicrohttpd threads.
 *
 * Hashing, matching, voucher intake, account status and every bank or index
 * change run on a pool of --threads workers.  The libmicrohttpd thread that
 * received such a request suspends its connection and goes back to serving
 * the others, so /healthz and /metrics answer while heavy work is queued.
 * Queued plus running jobs are capped by --max-inflight; one more gets 429
 * with Retry-After at once.  A worker runs the route with its responses
 * captured (vd_capture_begin/end), stores the response in the request and
 * resumes the connection; the access handler queues it on its next call. */
#include <stdlib.h>
#include <string.h>
#include "vouchd.h"

struct vd_jobs {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  vd_request *head, *tail;
  unsigned nthreads;
  int stop;
  pthread_t th[];
};

static void *worker(void *arg) {
  vd_server *s = arg;
  vd_jobs *q = s->jobs;
  for (;;) {
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->stop) pthread_cond_wait(&q->cv, &q->mu);
    vd_request *r = q->head;
    if (!r) {
      pthread_mutex_unlock(&q->mu);
      return NULL;
    }
    q->head = r->next;
    if (!q->head) q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    vd_capture_begin(r);
    if (atomic_load(&s->stopping))
      vd_send_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping", "the server is stopping");
    else
      vd_dispatch(s, r->conn, r->url, r->method, r);
    vd_capture_end();
    r->job_done = 1;
    atomic_fetch_sub(&s->inflight, 1);
    MHD_resume_connection(r->conn);
  }
}

int vd_jobs_start(vd_server *s) {
  vd_jobs *q = calloc(1, sizeof *q + s->threads * sizeof(pthread_t));
  if (!q) return -1;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  s->jobs = q;
  for (unsigned i = 0; i < s->threads; i++) {
    if (pthread_create(&q->th[i], NULL, worker, s) != 0) break;
    q->nthreads++;
  }
  return q->nthreads ? 0 : -1;
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
                   vd_request *r) {
  if (atomic_fetch_add(&s->inflight, 1) >= s->max_inflight) {
    atomic_fetch_sub(&s->inflight, 1);
    return -1;
  }
  vd_jobs *q = s->jobs;
  r->conn = conn;
  r->url = url; /* both live in the connection until the request completes */
  r->method = method;
  r->next = NULL;
  /* suspend before the job can possibly resume it */
  MHD_suspend_connection(conn);
  pthread_mutex_lock(&q->mu);
  if (q->tail) q->tail->next = r;
  else q->head = r;
  q->tail = r;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
  return 0;
}
