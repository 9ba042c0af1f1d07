/* programs/httpd/conns.c -- deadlines for slow clients.
 *
 * libmicrohttpd has an idle timeout (reset by every byte received) and a
 * per-IP connection limit, both used (main.c); it has no deadline for a whole
 * header and no minimum body rate, so a slowloris client sending one byte
 * every few seconds would hold its connection forever.  Every connection is
 * therefore tracked here from its start: a watchdog thread shuts down (the
 * socket, not the connection object: libmicrohttpd then sees the end of the
 * stream and closes it itself) a connection whose request header is not
 * complete --header-timeout seconds after the connection opened or its last
 * request ended, or whose body arrives slower than --min-body-rate bytes per
 * second once it has had --header-timeout seconds to start.  A connection
 * whose request is being worked on is never cut. */
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "vouchd.h"

struct vd_conn {
  int fd;
  _Atomic int phase; /* VD_PHASE_* */
  _Atomic double since;
  atomic_size_t bytes;
  int cut;
  struct vd_conn *prev, *next;
};

static vd_conn *conn_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

void vd_conn_phase(struct MHD_Connection *conn, int phase) {
  vd_conn *c = conn_of(conn);
  if (!c) return;
  atomic_store(&c->bytes, 0);
  atomic_store(&c->since, vd_now());
  atomic_store(&c->phase, phase);
}

void vd_conn_bytes(struct MHD_Connection *conn, size_t n) {
  vd_conn *c = conn_of(conn);
  if (c) atomic_fetch_add(&c->bytes, n);
}

void vd_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe) {
  vd_server *s = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    atomic_fetch_add(&s->conns, 1);
    vd_conn *c = calloc(1, sizeof *c);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!c || !ci) {
      free(c);
      *socket_context = NULL;
      return;
    }
    c->fd = ci->connect_fd;
    atomic_init(&c->phase, VD_PHASE_HEADER);
    atomic_init(&c->since, vd_now());
    atomic_init(&c->bytes, 0);
    pthread_mutex_lock(&s->conns_mu);
    c->next = s->conn_list;
    if (c->next) c->next->prev = c;
    s->conn_list = c;
    pthread_mutex_unlock(&s->conns_mu);
    *socket_context = c;
  } else {
    atomic_fetch_sub(&s->conns, 1);
    vd_conn *c = *socket_context;
    if (!c) return;
    /* libmicrohttpd closes the socket after this returns: unlinking under
     * the lock means the watchdog never shuts down a reused descriptor */
    pthread_mutex_lock(&s->conns_mu);
    if (c->prev) c->prev->next = c->next;
    else s->conn_list = c->next;
    if (c->next) c->next->prev = c->prev;
    pthread_mutex_unlock(&s->conns_mu);
    free(c);
    *socket_context = NULL;
  }
}

static void *watchdog(void *arg) {
  vd_server *s = arg;
  const struct timespec tick = {0, 200 * 1000 * 1000};
  while (!atomic_load(&s->watchdog_stop)) {
    nanosleep(&tick, NULL);
    const double now = vd_now();
    pthread_mutex_lock(&s->conns_mu);
    for (vd_conn *c = s->conn_list; c; c = c->next) {
      if (c->cut) continue;
      const int phase = atomic_load(&c->phase);
      const double dt = now - atomic_load(&c->since);
      int slow = 0;
      if (phase == VD_PHASE_HEADER) slow = dt > s->header_timeout;
      else if (phase == VD_PHASE_BODY)
        slow = dt > s->header_timeout && (double)atomic_load(&c->bytes) < dt * (double)s->min_body_rate;
      if (slow) {
        shutdown(c->fd, SHUT_RDWR);
        c->cut = 1;
        atomic_fetch_add(&s->metrics.dropped_slow, 1);
      }
    }
    pthread_mutex_unlock(&s->conns_mu);
  }
  return NULL;
}

int vd_watchdog_start(vd_server *s) {
  return pthread_create(&s->watchdog_th, NULL, watchdog, s) == 0 ? 0 : -1;
}

void vd_watchdog_stop(vd_server *s) {
  atomic_store(&s->watchdog_stop, 1);
  pthread_join(s->watchdog_th, NULL);
}
