/* programs/httpd/sync.c -- scheduled exchange syncs (--sync-every SECONDS).
 *
 * One background thread syncs the exchanges configured in the database
 * (`vouch exchange add`) with vouch_exchange_sync_config(): each one when its
 * time comes, SECONDS after its previous sync ended, or at once when an admin
 * asks (POST /v1/exchanges/sync).  Being one thread, it runs one sync at a
 * time, so an exchange is never synced twice at once; request threads only
 * read its state under a mutex and never wait for a sync.  After a sync that
 * changed a bank, it rebuilds --index from the enabled banks and loads it, so
 * new entries match without a restart.  Outcomes go to stderr and to
 * GET /v1/exchanges (docs/api.md).  At shutdown the cancel hook stops a sync
 * in progress; what it committed stays, and the next sync resumes there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vouchd.h"
#include "vouch/exchange.h"

#define NAME_CAP 129 /* exchange and bank names: at most 128 bytes */

typedef struct xstate {
  char name[NAME_CAP], bank[NAME_CAP], source[NAME_CAP];
  int type;
  int seen;                /* still configured at the last look */
  int disabled;            /* configured but disabled (HMA's exchange "enabled": false): not synced */
  int running, due_now;
  double next_at;          /* vd_now() time of the next sync */
  unsigned long runs, failures;
  int64_t last_start, last_end; /* Unix seconds, 0 = never */
  int64_t run_start;       /* Unix seconds the sync in progress began */
  int last_rc;
  char last_error[VOUCH_EXCHANGE_ERRMSG_MAX];
  vouch_exchange_stats last;
} xstate;

struct vd_sync {
  vd_server *s;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;       /* on CLOCK_MONOTONIC, like vd_now() */
  atomic_int stop;
  int kick_all;            /* POST /v1/exchanges/sync: every exchange, new ones too */
  xstate *x;
  size_t n, cap;
  char config_error[512];  /* why the configured exchanges could not be read */
  unsigned long rebuilds;
  size_t index_entries;
  int64_t index_at;
  char index_error[512];
};

/* ---------------------------------------------------------------- the configured exchanges */

typedef struct seen_ctx {
  vd_sync *y;
  double now;
  int oom;
} seen_ctx;

/* called with y->mu held: marks (or adds) the exchange as configured */
/* Makes room for one more element in *v (n used, *cap allocated); -1 when
 * out of memory. */
static int grow(void **v, size_t n, size_t *cap, size_t elem) {
  if (n < *cap)
    return 0;
  size_t nc = *cap ? 2 * *cap : 8;
  void *nv = realloc(*v, nc * elem);
  if (!nv)
    return -1;
  *v = nv;
  *cap = nc;
  return 0;
}

static int note_config(void *ctx, const vouch_exchange_config *c) {
  seen_ctx *sc = ctx;
  vd_sync *y = sc->y;
  xstate *e = NULL;
  for (size_t i = 0; i < y->n && !e; i++)
    if (!strcmp(y->x[i].name, c->name))
      e = &y->x[i];
  if (!e) {
    if (grow((void **)&y->x, y->n, &y->cap, sizeof *y->x) != 0) {
      sc->oom = 1;
      return 0;
    }
    e = &y->x[y->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", c->name);
    e->next_at = sc->now; /* a new exchange is synced at once */
  }
  e->seen = 1;
  e->disabled = c->disabled;
  e->type = c->type; /* a re-added exchange may have changed */
  snprintf(e->bank, sizeof e->bank, "%s", c->bank);
  snprintf(e->source, sizeof e->source, "%s", c->source ? c->source : vouch_exchange_type_name(c->type));
  return 0;
}

/* The configured exchanges as read from the bank file, without the lock. */
typedef struct cfg {
  char name[NAME_CAP], bank[NAME_CAP], source[NAME_CAP];
  int type, has_source, disabled;
} cfg;
typedef struct cfg_list {
  cfg *v;
  size_t n, cap;
  int oom;
} cfg_list;

static int collect_config(void *ctx, const vouch_exchange_config *c) {
  cfg_list *l = ctx;
  if (grow((void **)&l->v, l->n, &l->cap, sizeof *l->v) != 0) {
    l->oom = 1;
    return 0;
  }
  cfg *e = &l->v[l->n++];
  snprintf(e->name, sizeof e->name, "%s", c->name);
  snprintf(e->bank, sizeof e->bank, "%s", c->bank);
  snprintf(e->source, sizeof e->source, "%s", c->source ? c->source : "");
  e->has_source = c->source != NULL;
  e->type = c->type;
  e->disabled = c->disabled;
  return 0;
}

/* Re-reads the configured exchanges: new ones are added (due now), removed
 * ones dropped.  Called with y->mu held, which it releases while it reads
 * the bank file (read-only), so that GET /v1/exchanges never waits for it. */
static void refresh(vd_sync *y) {
  cfg_list l = {0};
  char err[512] = "";
  pthread_mutex_unlock(&y->mu);
  vouch_bank *db = NULL;
  int rc = vouch_bank_open(&db, y->s->db_path, VOUCH_BANK_OPEN_READONLY);
  if (rc == VOUCH_OK)
    rc = vouch_exchange_configs(db, NULL, collect_config, &l);
  if (rc != VOUCH_OK || l.oom)
    snprintf(err, sizeof err, "%s",
             l.oom ? "out of memory" : db && vouch_bank_errmsg(db)[0] ? vouch_bank_errmsg(db) : vouch_strerror(rc));
  vouch_bank_free(db);
  pthread_mutex_lock(&y->mu);
  seen_ctx sc = {y, vd_now(), 0};
  for (size_t i = 0; i < y->n; i++)
    y->x[i].seen = !!err[0]; /* on an error, keep what we knew */
  for (size_t i = 0; !err[0] && i < l.n; i++) {
    vouch_exchange_config c = {l.v[i].name, l.v[i].type, "", l.v[i].bank,
                               l.v[i].has_source ? l.v[i].source : NULL, NULL, 0, l.v[i].disabled};
    note_config(&sc, &c);
  }
  snprintf(y->config_error, sizeof y->config_error, "%s", sc.oom ? "out of memory" : err);
  free(l.v);
  size_t k = 0;
  for (size_t i = 0; i < y->n; i++)
    if (y->x[i].seen || y->x[i].running)
      y->x[k++] = y->x[i];
  y->n = k;
}

/* ---------------------------------------------------------------- one sync */

static int cancel_cb(void *ctx) { return atomic_load(&((vd_sync *)ctx)->stop); }

static void rebuild_index(vd_sync *y, vouch_bank *db) {
  vd_server *s = y->s;
  size_t count = 0, nb = 0;
  char err[512] = "", why[480] = "";
  vd_built built[VD_NALGO]; /* --index-dir: one per algorithm (index_dir.c) */
  int rc = vd_index_rebuild(s, db, NULL, 0, NULL, built, &nb, why, sizeof why);
  if (rc != VOUCH_OK) snprintf(err, sizeof err, "index %s: %s", rc == 1 ? "reload" : "build", why);
  for (size_t k = 0; k < nb; k++) count += built[k].count;
  pthread_mutex_lock(&y->mu);
  y->rebuilds++;
  y->index_at = (int64_t)time(NULL);
  if (rc == VOUCH_OK && !err[0])
    y->index_entries = count;
  snprintf(y->index_error, sizeof y->index_error, "%s", err);
  pthread_mutex_unlock(&y->mu);
  if (err[0])
    fprintf(stderr, "vouchd: sync: %s (the old index stays loaded)\n", err);
  else
    fprintf(stderr, "vouchd: sync: index rebuilt: %zu entries\n", count);
}

/* A configured exchange, copied out of vouch_exchange_configs()' callback:
 * the sync runs after that statement is done with the bank file. */
typedef struct config_copy {
  vouch_exchange_config c;
  char *buf[5];
} config_copy;

static int copy_config(void *ctx, const vouch_exchange_config *c) {
  config_copy *k = ctx;
  k->c = *c;
  const char *in[5] = {c->name, c->url, c->bank, c->source, c->credentials};
  const char **out[5] = {&k->c.name, &k->c.url, &k->c.bank, &k->c.source, &k->c.credentials};
  for (int i = 0; i < 5; i++) {
    *out[i] = NULL;
    if (in[i] && !(*out[i] = k->buf[i] = strdup(in[i])))
      return VOUCH_E_NOMEM;
  }
  return 0;
}

/* Runs the sync of x[i] (marked running; y->mu not held). */
static void run_one(vd_sync *y, const char *name) {
  vd_server *s = y->s;
  vouch_exchange_stats st;
  memset(&st, 0, sizeof st);
  int64_t t0 = (int64_t)time(NULL);
  vouch_bank *db = NULL;
  int rc = vouch_bank_open(&db, s->db_path, 0);
  int changed = 0;
  if (rc != VOUCH_OK) {
    snprintf(st.errmsg, sizeof st.errmsg, "%s", db && vouch_bank_errmsg(db)[0] ? vouch_bank_errmsg(db) : vouch_strerror(rc));
  } else {
    vouch_exchange_opts base;
    memset(&base, 0, sizeof base);
    base.retries = 4;
    base.retry_delay_ms = 500;
    base.timeout_ms = 60000;
    base.cancel = cancel_cb;
    base.cancel_ctx = y;
    /* the configuration is read again: it may have changed since refresh() */
    config_copy k;
    memset(&k, 0, sizeof k);
    rc = vouch_exchange_configs(db, name, copy_config, &k);
    if (rc == VOUCH_OK && k.c.disabled) { /* disabled since refresh(): no run */
      for (int i = 0; i < 5; i++)
        free(k.buf[i]);
      vouch_bank_free(db);
      pthread_mutex_lock(&y->mu);
      for (size_t i = 0; i < y->n; i++)
        if (!strcmp(y->x[i].name, name))
          y->x[i].running = 0, y->x[i].disabled = 1;
      pthread_mutex_unlock(&y->mu);
      return;
    }
    if (rc == VOUCH_OK)
      rc = vouch_exchange_sync_config(db, &k.c, &base, &st);
    else
      snprintf(st.errmsg, sizeof st.errmsg, "%s", vouch_bank_errmsg(db)[0] ? vouch_bank_errmsg(db) : vouch_strerror(rc));
    for (int i = 0; i < 5; i++)
      free(k.buf[i]);
    const vouch_import_stats *t = &st.total;
    changed = t->added + t->merged + t->disabled + t->reenabled > 0;
  }
  int64_t t1 = (int64_t)time(NULL);
  pthread_mutex_lock(&y->mu);
  for (size_t i = 0; i < y->n; i++) {
    xstate *e = &y->x[i];
    if (strcmp(e->name, name) != 0)
      continue;
    e->running = 0;
    e->runs++;
    e->failures += rc != VOUCH_OK;
    e->last_start = t0;
    e->last_end = t1;
    e->last_rc = rc;
    e->last = st;
    snprintf(e->last_error, sizeof e->last_error, "%s", rc == VOUCH_OK ? "" : st.errmsg[0] ? st.errmsg : vouch_strerror(rc));
    e->next_at = vd_now() + s->sync_every;
  }
  pthread_mutex_unlock(&y->mu);
  const vouch_import_stats *t = &st.total;
  if (rc == VOUCH_OK)
    fprintf(stderr,
            "vouchd: sync %s: ok: %zu pages, %zu added, %zu merged, %zu bad, %zu skipped, %zu disabled, "
            "%zu re-enabled; checkpoint '%s'\n",
            name, st.pages, t->added, t->merged, t->bad, t->skipped, t->disabled, t->reenabled, st.last.checkpoint);
  else
    fprintf(stderr, "vouchd: sync %s: failed after %zu pages (%zu added, %zu disabled): %s\n", name, st.pages,
            t->added, t->disabled, st.errmsg[0] ? st.errmsg : vouch_strerror(rc));
  if (changed && vd_index_configured(s) && !atomic_load(&y->stop))
    rebuild_index(y, db);
  vouch_bank_free(db);
}

/* ---------------------------------------------------------------- the thread */

static void *sync_main(void *arg) {
  vd_sync *y = arg;
  pthread_mutex_lock(&y->mu);
  while (!atomic_load(&y->stop)) {
    refresh(y);
    if (atomic_load(&y->stop))
      break;
    double now = vd_now();
    for (size_t i = 0; y->kick_all && i < y->n; i++)
      y->x[i].due_now = 1;
    y->kick_all = 0;
    xstate *due = NULL;
    double wake = now + (double)y->s->sync_every;
    for (size_t i = 0; i < y->n; i++) {
      xstate *e = &y->x[i];
      if (e->disabled) /* skipped until enabled again (refresh() reads the flag) */
        continue;
      if (e->due_now || e->next_at <= now) {
        if (!due)
          due = e;
      } else if (e->next_at < wake) {
        wake = e->next_at;
      }
    }
    if (due) {
      char name[NAME_CAP];
      memcpy(name, due->name, sizeof name);
      due->running = 1;
      due->run_start = (int64_t)time(NULL);
      due->due_now = 0;
      pthread_mutex_unlock(&y->mu);
      run_one(y, name);
      pthread_mutex_lock(&y->mu);
      continue;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double dt = wake - now;
    ts.tv_sec += (time_t)dt;
    ts.tv_nsec += (long)((dt - (double)(time_t)dt) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&y->cv, &y->mu, &ts);
  }
  pthread_mutex_unlock(&y->mu);
  return NULL;
}

int vd_sync_start(vd_server *s) {
  if (!s->sync_every)
    return 0;
  vd_sync *y = calloc(1, sizeof *y);
  if (!y)
    return -1;
  y->s = s;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&y->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&y->mu, NULL);
  if (pthread_create(&y->th, NULL, sync_main, y) != 0) {
    pthread_cond_destroy(&y->cv);
    pthread_mutex_destroy(&y->mu);
    free(y);
    return -1;
  }
  s->sync = y;
  return 0;
}

void vd_sync_stop(vd_server *s) {
  vd_sync *y = s->sync;
  if (!y)
    return;
  pthread_mutex_lock(&y->mu);
  atomic_store(&y->stop, 1); /* also cancels a sync in progress (cancel_cb) */
  pthread_cond_signal(&y->cv);
  pthread_mutex_unlock(&y->mu);
  pthread_join(y->th, NULL);
  pthread_cond_destroy(&y->cv);
  pthread_mutex_destroy(&y->mu);
  free(y->x);
  free(y);
  s->sync = NULL;
}

int vd_sync_state_of(vd_server *s, const char *name, vd_sync_state *out) {
  vd_sync *y = s->sync;
  int rc = -1;
  memset(out, 0, sizeof *out);
  if (!y)
    return -1;
  pthread_mutex_lock(&y->mu);
  for (size_t i = 0; i < y->n && rc != 0; i++) {
    const xstate *e = &y->x[i];
    if (strcmp(e->name, name) != 0)
      continue;
    *out = (vd_sync_state){e->running, e->running ? e->run_start : 0, e->runs, e->last_rc == VOUCH_OK, e->last_end};
    rc = 0;
  }
  pthread_mutex_unlock(&y->mu);
  return rc;
}

void vd_sync_poke(vd_server *s) {
  vd_sync *y = s->sync;
  if (!y)
    return;
  pthread_mutex_lock(&y->mu);
  pthread_cond_signal(&y->cv);
  pthread_mutex_unlock(&y->mu);
}

/* ---------------------------------------------------------------- GET/POST /v1/exchanges */

static json_t *time_or_null(int64_t t) { return t ? json_integer((json_int_t)t) : json_null(); }

static json_t *state_json(const xstate *e, double now) {
  const vouch_import_stats *t = &e->last.total;
  json_t *last = json_null();
  if (e->runs)
    last = json_pack("{s:b,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "ok", e->last_rc == VOUCH_OK, "error",
                     e->last_rc == VOUCH_OK ? json_null() : json_string(e->last_error), "pages",
                     (json_int_t)e->last.pages, "requests", (json_int_t)e->last.requests, "added",
                     (json_int_t)t->added, "merged", (json_int_t)t->merged, "bad", (json_int_t)t->bad, "skipped",
                     (json_int_t)t->skipped, "low_quality", (json_int_t)t->low_quality, "tombstones",
                     (json_int_t)t->tombstones, "disabled", (json_int_t)t->disabled, "reenabled",
                     (json_int_t)t->reenabled, "checkpoint", e->last.last.checkpoint);
  double in = e->running || e->due_now ? 0 : e->next_at - now;
  return json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:I,s:I,s:o,s:o,s:f,s:o}", "name", e->name, "type",
                   vouch_exchange_type_name(e->type), "bank", e->bank, "source", e->source, "enabled", !e->disabled,
                   "running", e->running,
                   "runs", (json_int_t)e->runs, "failures", (json_int_t)e->failures, "last_start",
                   time_or_null(e->last_start), "last_end", time_or_null(e->last_end), "next_in_seconds",
                   in > 0 ? in : 0.0, "last", last);
}

enum MHD_Result vd_route_exchanges(vd_server *s, struct MHD_Connection *conn, const char *url,
                                   const char *method) {
  vd_sync *y = s->sync;
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
  if (get && !strcmp(url, "/v1/exchanges")) {
    json_t *arr = json_array(), *idx = json_null();
    if (y) {
      pthread_mutex_lock(&y->mu);
      double now = vd_now();
      for (size_t i = 0; i < y->n; i++)
        json_array_append_new(arr, state_json(&y->x[i], now));
      if (y->rebuilds)
        idx = json_pack("{s:I,s:I,s:I,s:o}", "rebuilds", (json_int_t)y->rebuilds, "entries",
                        (json_int_t)y->index_entries, "at", (json_int_t)y->index_at, "error",
                        y->index_error[0] ? json_string(y->index_error) : json_null());
      json_t *body = json_pack("{s:I,s:o,s:o,s:o}", "sync_every", (json_int_t)s->sync_every, "exchanges", arr,
                               "index", idx, "config_error",
                               y->config_error[0] ? json_string(y->config_error) : json_null());
      pthread_mutex_unlock(&y->mu);
      return vd_send_json(conn, MHD_HTTP_OK, body);
    }
    return vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:I,s:o,s:o,s:o}", "sync_every", (json_int_t)0, "exchanges",
                                                     arr, "index", idx, "config_error", json_null()));
  }
  /* POST /v1/exchanges/sync (all) or /v1/exchanges/NAME/sync */
  const char *name = url + 14;
  size_t ul = strlen(url), nl = 0;
  int post = !strcmp(method, "POST"), all = post && !strcmp(url, "/v1/exchanges/sync");
  if (!all && post && ul > 19 && !strncmp(url, "/v1/exchanges/", 14) && !strcmp(url + ul - 5, "/sync"))
    nl = ul - 19;
  if (!all && (nl == 0 || nl >= NAME_CAP || memchr(name, '/', nl)))
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint: %s %s", method, url);
  if (!y)
    return vd_send_error(conn, MHD_HTTP_CONFLICT, "sync_off", "vouchd was started without --sync-every");
  json_t *queued = json_array();
  int off = 0; /* disabled ones are not queued */
  pthread_mutex_lock(&y->mu);
  y->kick_all |= !nl;
  for (size_t i = 0; i < y->n; i++)
    if (!nl || (strlen(y->x[i].name) == nl && !strncmp(y->x[i].name, name, nl))) {
      off += y->x[i].disabled;
      if (y->x[i].disabled)
        continue;
      y->x[i].due_now = 1;
      json_array_append_new(queued, json_string(y->x[i].name));
    }
  pthread_cond_signal(&y->cv);
  pthread_mutex_unlock(&y->mu);
  if (nl && off) {
    json_decref(queued);
    return vd_send_error(conn, MHD_HTTP_CONFLICT, "disabled", "exchange '%.*s' is disabled (vouch exchange enable)",
                         (int)nl, name);
  }
  if (nl && json_array_size(queued) == 0) {
    json_decref(queued);
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no exchange named '%.*s' (vouch exchange add)",
                         (int)nl, name);
  }
  return vd_send_json(conn, MHD_HTTP_ACCEPTED, json_pack("{s:o}", "queued", queued));
}
