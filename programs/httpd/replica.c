/* programs/httpd/replica.c -- a vouchd replica following a PostgreSQL
 * database (--db postgresql://... with --index): snapshot + delta
 * (vouch/follow.h).
 *
 * The follow thread waits for committed changes (LISTEN/NOTIFY,
 * vouch_bank_wait_change(), waking at least twice a second in case a
 * notification was lost with a connection), reads the changed entries into
 * the follower's delta (vouch_follow_poll()) and installs a handle deriving
 * snapshot + delta (vouch_follow_index(), vd_index_install()): no rebuild,
 * answers identical to one.  A snapshot thread, started when there is none
 * yet, when the delta passed --delta-max, when a change needs a snapshot
 * (a bank created, changed or deleted), or when a newer one was published,
 * gets a snapshot without stopping the follow thread: the newest published
 * one (from --snapshot-dir DIR/ROOT.vidx, or fetched from the database's
 * chunks into --index), else it builds one under the database-wide builder
 * lock (one replica at a time), publishes it by its Merkle root and hands it
 * over.  The counters db_seq (the database's) and index_seq (the installed
 * index's) give /status its staleness.  With an SQLite bank file, --follow
 * polls its modification time instead (follow_sqlite_main below). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "vouchd.h"
#ifdef __linux__
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#ifndef SCHED_IDLE
#define SCHED_IDLE 5 /* <sched.h> defines it only with _GNU_SOURCE */
#endif
#endif

struct vd_follower {
  vouch_follow *f;
  pthread_mutex_t mu;   /* guards the fields below */
  pthread_t th;         /* the snapshot thread */
  int running, joinable;
  int want_build;       /* the thread may build when nothing newer is published */
  vouch_index *ready;   /* a snapshot the thread got, for the follow thread */
  int64_t ready_seq;
  /* for /status */
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  int64_t snap_seq;
  size_t delta;
  double stale_since;   /* when the database got ahead of the index (0: it is not) */
  int need_snapshot;
};

static void hex32(const uint8_t *r, char *out) {
  for (unsigned i = 0; i < VOUCH_MERKLE_HASH_BYTES; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* Opens a snapshot file with the server's MIH settings; checks its root. */
static vouch_index *open_snapshot(vd_server *s, const char *path, const uint8_t *root) {
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_threads = s->threads;
  vouch_index *idx = NULL;
  int rc = vouch_index_open(&idx, path, &cfg);
  if (rc == VOUCH_OK && root && memcmp(vouch_index_root(idx), root, VOUCH_MERKLE_HASH_BYTES) != 0) {
    fprintf(stderr, "vouchd: snapshot %s: its root is not the one published\n", path);
    rc = VOUCH_E_DB_CORRUPT;
  } else if (rc != VOUCH_OK) {
    fprintf(stderr, "vouchd: snapshot %s: %s\n", path, vouch_index_errmsg(idx));
  }
  if (rc == VOUCH_OK) return idx;
  vouch_index_free(idx);
  return NULL;
}

/* The newest published snapshot if it is newer than `have`: from the
 * shared directory, else from the database's chunks into --index. */
static vouch_index *get_published(vd_server *s, vouch_bank *db, int64_t have, int64_t *seq) {
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  int64_t bytes = 0;
  int stored = 0;
  if (vouch_bank_snapshot_latest(db, root, seq, &bytes, &stored) != VOUCH_OK || *seq <= have) return NULL;
  char path[4096], hx[2 * VOUCH_MERKLE_HASH_BYTES + 1];
  hex32(root, hx);
  const double t0 = vd_now();
  const char *from = "the shared directory";
  if (s->snapshot_dir) snprintf(path, sizeof path, "%s/%s.vidx", s->snapshot_dir, hx);
  if (!s->snapshot_dir || access(path, R_OK) != 0) {
    if (!stored) return NULL;
    snprintf(path, sizeof path, "%s", s->index_path);
    if (vouch_bank_snapshot_fetch(db, root, path) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: fetch snapshot %.16s: %s\n", hx, vouch_bank_errmsg(db));
      return NULL;
    }
    from = "PostgreSQL";
  }
  const double t1 = vd_now();
  vouch_index *idx = open_snapshot(s, path, root);
  if (idx)
    fprintf(stderr, "vouchd: follow: snapshot %.16s of change %lld from %s (%.2f s) loaded (%.2f s): %zu entries\n",
            hx, (long long)*seq, from, t1 - t0, vd_now() - t1, vouch_index_count(idx));
  return idx;
}

/* Builds a snapshot under the builder lock and publishes it; NULL if another
 * replica holds the lock (it will publish) or the build failed. */
static vouch_index *build_snapshot(vd_server *s, vouch_bank *db, int64_t have, int64_t *seq) {
  int got = 0;
  if (vouch_bank_build_lock(db, 0, &got) != VOUCH_OK || !got) return NULL;
  vouch_index *pub = get_published(s, db, have, seq); /* published while we waited for the lock? */
  if (pub) {
    (void)vouch_bank_build_unlock(db);
    return pub;
  }
  char tmp[4096], path[4096], hx[2 * VOUCH_MERKLE_HASH_BYTES + 1];
  snprintf(tmp, sizeof tmp, "%s.follow.tmp", s->snapshot_dir ? s->snapshot_dir : s->index_path);
  if (s->snapshot_dir) snprintf(tmp, sizeof tmp, "%s/.build.%ld.tmp", s->snapshot_dir, (long)getpid());
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  size_t count = 0;
  const double t0 = vd_now();
  vouch_index *idx = NULL;
  int rc = vouch_bank_build_index_seq(db, NULL, 0, tmp, root, &count, seq);
  hex32(root, hx);
  if (s->snapshot_dir) snprintf(path, sizeof path, "%s/%s.vidx", s->snapshot_dir, hx);
  else snprintf(path, sizeof path, "%s", s->index_path);
  if (rc != VOUCH_OK) {
    fprintf(stderr, "vouchd: follow: snapshot build: %s\n", vouch_bank_errmsg(db));
  } else if (rename(tmp, path) != 0) {
    fprintf(stderr, "vouchd: follow: cannot rename the snapshot to %s\n", path);
  } else if (vouch_bank_snapshot_publish(db, path, *seq, s->snapshot_dir == NULL, VOUCH_SNAPSHOT_KEEP) != VOUCH_OK) {
    fprintf(stderr, "vouchd: follow: publish snapshot: %s\n", vouch_bank_errmsg(db));
  } else {
    /* the database's old snapshots went with the publish; the directory's go by the same rule */
    if (s->snapshot_dir) (void)vouch_snapshot_dir_prune(s->snapshot_dir, VOUCH_SNAPSHOT_KEEP, VOUCH_SNAPSHOT_MIN_AGE, NULL);
    const double t1 = vd_now();
    idx = open_snapshot(s, path, root);
    if (idx)
      fprintf(stderr, "vouchd: follow: snapshot %.16s of change %lld built and published (%.2f s), loaded (%.2f s): "
              "%zu entries\n", hx, (long long)*seq, t1 - t0, vd_now() - t1, count);
  }
  if (rc != VOUCH_OK) unlink(tmp);
  (void)vouch_bank_build_unlock(db);
  return idx;
}

/* Once the replica serves a snapshot, the snapshot thread runs (with the
 * MIH build threads it starts, which inherit it) at the lowest priority, so
 * that lookups keep their cores while the next snapshot is built, fetched or
 * loaded (#21: the p99 of other requests):
 * SCHED_IDLE on Linux (a waking request thread preempts it at once), else
 * nice 19 for this thread; elsewhere nothing.  It still runs whenever a
 * core is idle; a box kept 100% busy by lookups delays the snapshot, not
 * the answers (the delta stays exact). */
static void background_priority(void) {
#ifdef __linux__
  struct sched_param sp = {0};
  if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) /* pid 0: this thread */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
#endif
}

/* The snapshot thread: one job, then it ends (the follow thread joins it). */
static void *snap_main(void *arg) {
  vd_server *s = arg;
  struct vd_follower *fo = s->fol;
  vouch_bank *db = NULL;
  pthread_mutex_lock(&fo->mu);
  const int64_t have = fo->snap_seq;
  const int build = fo->want_build;
  pthread_mutex_unlock(&fo->mu);
  if (have >= 0) background_priority(); /* a replica without a snapshot serves nothing yet: its join runs at full speed */
  int64_t seq = -1;
  vouch_index *idx = NULL;
  if (vouch_bank_open(&db, s->db_path, 0) == VOUCH_OK) {
    idx = get_published(s, db, have, &seq);
    if (!idx && build) idx = build_snapshot(s, db, have, &seq);
  } else {
    fprintf(stderr, "vouchd: follow: %s\n", db ? vouch_bank_errmsg(db) : "cannot open the database");
  }
  vouch_bank_free(db);
  pthread_mutex_lock(&fo->mu);
  if (idx) {
    vouch_index_free(fo->ready);
    fo->ready = idx;
    fo->ready_seq = seq;
  }
  fo->running = 0;
  pthread_mutex_unlock(&fo->mu);
  return NULL;
}

/* Starts the snapshot thread unless it runs; joins a finished one. */
static void snap_start(vd_server *s, int build) {
  struct vd_follower *fo = s->fol;
  pthread_mutex_lock(&fo->mu);
  const int running = fo->running;
  const int join = !running && fo->joinable;
  if (!running) {
    fo->want_build = build;
    fo->running = 1;
  }
  pthread_mutex_unlock(&fo->mu);
  if (running) return;
  if (join) pthread_join(fo->th, NULL);
  fo->joinable = pthread_create(&fo->th, NULL, snap_main, s) == 0;
  if (!fo->joinable) {
    pthread_mutex_lock(&fo->mu);
    fo->running = 0;
    pthread_mutex_unlock(&fo->mu);
  }
}

/* Takes over a snapshot the thread got (1 if one was installed in the follower). */
static int take_snapshot(vd_server *s) {
  struct vd_follower *fo = s->fol;
  pthread_mutex_lock(&fo->mu);
  vouch_index *idx = fo->ready;
  const int64_t seq = fo->ready_seq;
  fo->ready = NULL;
  pthread_mutex_unlock(&fo->mu);
  if (!idx) return 0;
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  memcpy(root, vouch_index_root(idx), sizeof root);
  if (vouch_follow_set_snapshot(fo->f, idx, seq) != VOUCH_OK) {
    vouch_index_free(idx); /* older than the one in use */
    return 0;
  }
  pthread_mutex_lock(&fo->mu);
  memcpy(fo->root, root, sizeof root);
  fo->snap_seq = seq;
  fo->need_snapshot = 0;
  pthread_mutex_unlock(&fo->mu);
  return 1;
}

static int install(vd_server *s, int new_snapshot) {
  char err[512];
  vouch_index *idx = NULL;
  if (vouch_follow_index(s->fol->f, &idx) != VOUCH_OK || vd_index_install(s, idx, !new_snapshot, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd: follow: cannot install the index\n");
    return -1;
  }
  atomic_store(&s->index_seq, (long long)vouch_follow_seq(s->fol->f));
  return 0;
}

static void *follow_main(void *arg) {
  vd_server *s = arg;
  struct vd_follower *fo = s->fol;
  vouch_bank *db = NULL;
  double last_check = 0;
  while (!atomic_load(&s->follow_stop)) {
    if (!db && vouch_bank_open(&db, s->db_path, 0) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s\n", db ? vouch_bank_errmsg(db) : "cannot open the database");
      vouch_bank_free(db);
      db = NULL;
      sleep(1);
      continue;
    }
    int fresh = take_snapshot(s);
    if (vouch_follow_snapshot_seq(fo->f) < 0) snap_start(s, 1); /* none yet: get or build one */
    int changed = 0;
    int64_t seq = 0;
    pthread_mutex_lock(&fo->mu);
    const int job = fo->running; /* a snapshot on its way: look for it sooner (a joining replica's wait) */
    pthread_mutex_unlock(&fo->mu);
    if (vouch_bank_wait_change(db, job ? 100 : 500, &changed) != VOUCH_OK || vouch_bank_change_seq(db, &seq) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s (reconnecting)\n", vouch_bank_errmsg(db));
      vouch_bank_free(db);
      db = NULL;
      usleep(200000);
      continue;
    }
    atomic_store(&s->db_seq, (long long)seq);
    fresh |= take_snapshot(s);
    if (vouch_follow_snapshot_seq(fo->f) < 0) continue;
    unsigned st = 0;
    if (vouch_follow_poll(fo->f, db, &st) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s\n", vouch_bank_errmsg(db));
      vouch_bank_free(db);
      db = NULL;
      continue;
    }
    if (!(st & VOUCH_FOLLOW_NEED_SNAPSHOT) && ((st & VOUCH_FOLLOW_CHANGED) || fresh)) install(s, fresh);
    const double now = vd_now();
    if (st & (VOUCH_FOLLOW_NEED_SNAPSHOT | VOUCH_FOLLOW_DELTA_FULL)) snap_start(s, 1);
    else if (changed || now - last_check > 5) snap_start(s, 0); /* a snapshot published by another replica? */
    if (changed || now - last_check > 5) last_check = now;
    pthread_mutex_lock(&fo->mu);
    fo->delta = vouch_follow_delta_entries(fo->f);
    fo->need_snapshot = (st & VOUCH_FOLLOW_NEED_SNAPSHOT) != 0;
    if (atomic_load(&s->index_seq) >= seq) fo->stale_since = 0;
    else if (fo->stale_since == 0) fo->stale_since = now;
    pthread_mutex_unlock(&fo->mu);
  }
  vouch_bank_free(db);
  return NULL;
}

/* /status?format=json: readiness and staleness of this replica's index. */
int vd_follow_status(vd_server *s, char *out, size_t cap) {
  long long iseq = atomic_load(&s->index_seq), dseq = atomic_load(&s->db_seq);
  if (!s->fol)
    return snprintf(out, cap, "\"following\":%s,\"index_seq\":%lld,\"db_seq\":%lld", s->following ? "true" : "false",
                    iseq, dseq);
  struct vd_follower *fo = s->fol;
  char hx[2 * VOUCH_MERKLE_HASH_BYTES + 1];
  pthread_mutex_lock(&fo->mu);
  hex32(fo->root, hx);
  const double behind = fo->stale_since > 0 ? vd_now() - fo->stale_since : 0;
  int n = snprintf(out, cap,
                   "\"following\":true,\"snapshot_root\":\"%s\",\"snapshot_seq\":%lld,\"delta_entries\":%zu,"
                   "\"index_seq\":%lld,\"db_seq\":%lld,\"seconds_behind\":%.1f,\"snapshot_needed\":%s,"
                   "\"snapshot_job\":%s",
                   fo->snap_seq >= 0 ? hx : "", (long long)fo->snap_seq, fo->delta, iseq, dseq, behind,
                   fo->need_snapshot ? "true" : "false", fo->running ? "true" : "false");
  pthread_mutex_unlock(&fo->mu);
  return n;
}

/* An SQLite bank file (--follow): no change counter to listen to, so the
 * thread compares modification times once a second, as /status does
 * (routes_hma.c): when the database or its WAL is newer than --index (or
 * there is no index yet), it rebuilds the index from the enabled banks into
 * INDEX.follow.tmp, renames it over --index and reloads it.  One vouchd per
 * bank file should follow it (no builder lock between processes on SQLite). */
int vd_db_is_pg(const char *db_path) {
  return !strncmp(db_path, "postgresql://", 13) || !strncmp(db_path, "postgres://", 11);
}

int vd_mtime(const char *path, struct timespec *t) {
  struct stat st;
  if (stat(path, &st) != 0) return -1;
  *t = st.st_mtim;
  return 0;
}

static int later(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* The later modification time of the database and its WAL into *t (0 when neither is there). */
void vd_db_mtime(const vd_server *s, struct timespec *t) {
  struct timespec w;
  char wal[4096];
  t->tv_sec = 0;
  t->tv_nsec = 0;
  (void)vd_mtime(s->db_path, t);
  if (snprintf(wal, sizeof wal, "%s-wal", s->db_path) < (int)sizeof wal && vd_mtime(wal, &w) == 0 && later(&w, t))
    *t = w;
}

int vd_index_outdated(const vd_server *s) {
  struct timespec ti, td;
  if (!s->index_path || vd_mtime(s->index_path, &ti) != 0) return 1;
  vd_db_mtime(s, &td);
  return later(&td, &ti);
}

static void *follow_sqlite_main(void *arg) {
  vd_server *s = arg;
  char tmp[4096], err[512];
  snprintf(tmp, sizeof tmp, "%s.follow.tmp", s->index_path);
  while (!atomic_load(&s->follow_stop)) {
    for (int i = 0; i < 10 && !atomic_load(&s->follow_stop); i++) usleep(100000);
    if (atomic_load(&s->follow_stop) || !vd_index_outdated(s)) continue;
    const double t0 = vd_now();
    /* the index will be dated as the database was before the build read
     * it, so a change committed during the build still looks newer */
    struct timespec seen;
    vd_db_mtime(s, &seen);
    vouch_bank *db = NULL;
    uint8_t root[VOUCH_MERKLE_HASH_BYTES];
    size_t count = 0;
    int rc = vouch_bank_open(&db, s->db_path, VOUCH_BANK_OPEN_READONLY);
    if (rc == VOUCH_OK) rc = vouch_bank_build_index(db, NULL, 0, tmp, root, &count);
    if (rc != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: index build: %s\n", db ? vouch_bank_errmsg(db) : vouch_strerror(rc));
      vouch_bank_free(db);
      unlink(tmp);
      continue;
    }
    vouch_bank_free(db);
    const struct timespec times[2] = {seen, seen};
    if (seen.tv_sec) (void)utimensat(AT_FDCWD, tmp, times, 0);
    err[0] = 0;
    if (rename(tmp, s->index_path) != 0 || vd_index_reload(s, err, sizeof err) != 0) {
      fprintf(stderr, "vouchd: follow: cannot load the new index: %s\n", *err ? err : "rename failed");
      continue;
    }
    fprintf(stderr, "vouchd: follow: index rebuilt after a change of %s: %zu entries (%.2f s)\n", s->db_path, count,
            vd_now() - t0);
  }
  return NULL;
}

int vd_follow_start(vd_server *s) {
  atomic_store(&s->index_seq, -1LL);
  atomic_store(&s->db_seq, 0LL);
  atomic_store(&s->follow_stop, 0);
  const int pg = vd_db_is_pg(s->db_path);
  if (pg) {
    struct vd_follower *fo = calloc(1, sizeof *fo);
    if (!fo || vouch_follow_new(&fo->f, s->delta_max) != VOUCH_OK) {
      free(fo);
      return -1;
    }
    pthread_mutex_init(&fo->mu, NULL);
    fo->snap_seq = -1;
    s->fol = fo;
  }
  if (pthread_create(&s->follow_th, NULL, pg ? follow_main : follow_sqlite_main, s) != 0)
    return -1;
  s->following = 1;
  return 0;
}

void vd_follow_stop(vd_server *s) {
  if (!s->following) return;
  atomic_store(&s->follow_stop, 1);
  pthread_join(s->follow_th, NULL);
  s->following = 0;
  struct vd_follower *fo = s->fol;
  if (!fo) return;
  if (fo->joinable) pthread_join(fo->th, NULL);
  vouch_index_free(fo->ready);
  vouch_follow_free(fo->f);
  pthread_mutex_destroy(&fo->mu);
  free(fo);
  s->fol = NULL;
}

/* --roles: which route families this replica serves. */
static const char *const role_names_[] = {"hash", "match", "curate", "vouchers"};

int vd_roles_parse(const char *spec, unsigned *out) {
  unsigned m = 0;
  const char *p = spec;
  while (p && *p) {
    size_t l = strcspn(p, ",");
    unsigned bit = 0;
    for (unsigned k = 0; k < 4; k++)
      if (strlen(role_names_[k]) == l && !strncmp(p, role_names_[k], l)) bit = 1u << k;
    if (!bit) return -1;
    m |= bit;
    p += l;
    if (*p == ',') p++;
  }
  if (!m) return -1;
  *out = m;
  return 0;
}

int vd_route_served(const vd_server *s, int route, const char *url) {
  unsigned need = 0;
  switch (route) {
  case VD_R_HASH: need = VD_SERVE_HASH; break;
  case VD_R_MATCH: need = VD_SERVE_MATCH; break;
  case VD_R_BANKS:
  case VD_R_INDEX: need = VD_SERVE_CURATE; break;
  case VD_R_VOUCHERS:
  case VD_R_ACCOUNTS:
  case VD_R_PUBLIC: need = VD_SERVE_VOUCHERS; break;
  case VD_R_HMA:
    need = !strncmp(url, "/h/", 3) ? VD_SERVE_HASH : !strncmp(url, "/m/", 3) ? VD_SERVE_MATCH
         : !strncmp(url, "/c/", 3) ? VD_SERVE_CURATE : 0;
    break;
  default: break;
  }
  return !need || (s->serve & need);
}
