/* programs/httpd/replica.c -- a vouchd replica following a PostgreSQL
 * database (--db postgresql://... with --index or --index-dir): snapshot + delta
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
 * index's) give /status its staleness.  With --index-dir the same runs for
 * each index slot: one follower per algorithm of the enabled banks, each
 * with its own snapshots (DIR/ALGO.vidx, --snapshot-dir SDIR/ALGO-ROOT.vidx)
 * and the lowest of their counters as index_seq.  With an SQLite bank file,
 * --follow polls its modification time instead (follow_sqlite_main below). */
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

/* One follower per index slot: slot 0 (VOUCH_ALGO_NONE) follows --index, the
 * index of all enabled banks; with --index-dir one per algorithm of the
 * enabled banks (vouch_follow_new_algo(): each ignores the others' entries),
 * added and removed as banks of an algorithm appear and go (relist()).
 * Each has its own snapshot thread and published snapshots
 * (vouch_bank_snapshot_*_algo()); the builder lock is shared, so their
 * builds take turns. */
struct vd_follower {
  vd_server *s;
  int algo;             /* its slot */
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
  int64_t index_seq;    /* the change number its installed index holds (-1: none yet) */
  int dirty;            /* follow thread only: the follower is ahead of the installed index */
};

static void hex32(const uint8_t *r, char *out) {
  for (unsigned i = 0; i < VOUCH_MERKLE_HASH_BYTES; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* Checks that an opened snapshot (rc from its open) has the published root
 * and holds the follower's algorithm's hashes; frees it if not. */
static vouch_index *checked_snapshot(struct vd_follower *fo, const char *path, const uint8_t *root, vouch_index *idx,
                                     int rc) {
  const int kind = fo->algo == VOUCH_ALGO_VPDQ ? VOUCH_ALGO_PDQ : fo->algo; /* video frames are PDQ hashes */
  if (rc == VOUCH_OK && root && memcmp(vouch_index_root(idx), root, VOUCH_MERKLE_HASH_BYTES) != 0) {
    fprintf(stderr, "vouchd: snapshot %s: its root is not the one published\n", path);
    rc = VOUCH_E_DB_CORRUPT;
  } else if (rc == VOUCH_OK && kind != VOUCH_ALGO_NONE && vouch_index_algo(idx) != kind) {
    fprintf(stderr, "vouchd: snapshot %s: an index of %s hashes, not %s\n", path,
            vouch_algo_name(vouch_index_algo(idx)), vouch_algo_name(kind));
    rc = VOUCH_E_DB_CORRUPT;
  } else if (rc != VOUCH_OK) {
    fprintf(stderr, "vouchd: snapshot %s: %s\n", path, vouch_index_errmsg(idx));
  }
  if (rc == VOUCH_OK) return idx;
  vouch_index_free(idx);
  return NULL;
}

static vouch_index_config snapshot_config(const struct vd_follower *fo) {
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_threads = fo->s->threads;
  return cfg;
}

/* Opens a snapshot file with the server's MIH settings; checks its root and
 * that it is an index of the follower's algorithm. */
static vouch_index *open_snapshot(struct vd_follower *fo, const char *path, const uint8_t *root) {
  const vouch_index_config cfg = snapshot_config(fo);
  vouch_index *idx = NULL;
  int rc = vouch_index_open(&idx, path, &cfg);
  return checked_snapshot(fo, path, root, idx, rc);
}

/* "" for --index's follower, "ALGO " for the others (log lines) */
static const char *fo_name(const struct vd_follower *fo, char *buf, size_t cap) {
  if (fo->algo == VOUCH_ALGO_NONE) return "";
  snprintf(buf, cap, "%s ", vouch_algo_name(fo->algo));
  return buf;
}

/* A snapshot's file in the shared directory: DIR/ROOT.vidx, DIR/ALGO-ROOT.vidx per algorithm. */
static void shared_path(const struct vd_follower *fo, const char *hx, char *out, size_t cap) {
  if (fo->algo == VOUCH_ALGO_NONE) snprintf(out, cap, "%s/%s.vidx", fo->s->snapshot_dir, hx);
  else snprintf(out, cap, "%s/%s-%s.vidx", fo->s->snapshot_dir, vouch_algo_name(fo->algo), hx);
}

/* The newest published snapshot if it is newer than `have`: from the
 * shared directory, else from the database's chunks into the slot's file. */
static vouch_index *get_published(struct vd_follower *fo, vouch_bank *db, int64_t have, int64_t *seq) {
  vd_server *s = fo->s;
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  int64_t bytes = 0;
  int stored = 0;
  if (vouch_bank_snapshot_latest_algo(db, fo->algo, root, seq, &bytes, &stored) != VOUCH_OK || *seq <= have)
    return NULL;
  char path[4096], hx[2 * VOUCH_MERKLE_HASH_BYTES + 1], nm[32];
  hex32(root, hx);
  const double t0 = vd_now();
  vouch_index *idx = NULL;
  if (s->snapshot_dir) shared_path(fo, hx, path, sizeof path);
  if (!s->snapshot_dir || access(path, R_OK) != 0) {
    /* fetched and opened in one go: the open's validation is the fetch's check (the bytes are read once) */
    if (!stored || vd_index_file(s, fo->algo, path, sizeof path) != 0) return NULL;
    const vouch_index_config cfg = snapshot_config(fo);
    if (vouch_bank_snapshot_fetch_open_algo(db, fo->algo, root, path, &cfg, &idx) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: fetch %ssnapshot %.16s: %s\n", fo_name(fo, nm, sizeof nm), hx,
              vouch_bank_errmsg(db));
      return NULL;
    }
    idx = checked_snapshot(fo, path, root, idx, VOUCH_OK);
    if (idx)
      fprintf(stderr, "vouchd: follow: %ssnapshot %.16s of change %lld from PostgreSQL, fetched and loaded (%.2f s): %zu entries\n",
              fo_name(fo, nm, sizeof nm), hx, (long long)*seq, vd_now() - t0, vouch_index_count(idx));
    return idx;
  }
  idx = open_snapshot(fo, path, root);
  if (idx)
    fprintf(stderr, "vouchd: follow: %ssnapshot %.16s of change %lld from the shared directory loaded (%.2f s): %zu entries\n",
            fo_name(fo, nm, sizeof nm), hx, (long long)*seq, vd_now() - t0, vouch_index_count(idx));
  return idx;
}

/* Builds a snapshot under the builder lock and publishes it; NULL if another
 * replica (or another of this one's followers) holds the lock (it will
 * publish; the follow thread asks again) or the build failed. */
static vouch_index *build_snapshot(struct vd_follower *fo, vouch_bank *db, int64_t have, int64_t *seq) {
  vd_server *s = fo->s;
  int got = 0;
  if (vouch_bank_build_lock(db, 0, &got) != VOUCH_OK || !got) return NULL;
  vouch_index *pub = get_published(fo, db, have, seq); /* published while we waited for the lock? */
  if (pub) {
    (void)vouch_bank_build_unlock(db);
    return pub;
  }
  char tmp[4200], path[4096], hx[2 * VOUCH_MERKLE_HASH_BYTES + 1], nm[32];
  const char *an = fo->algo == VOUCH_ALGO_NONE ? "all" : vouch_algo_name(fo->algo);
  if (vd_index_file(s, fo->algo, path, sizeof path) != 0) path[0] = 0;
  if (s->snapshot_dir) snprintf(tmp, sizeof tmp, "%s/.build.%ld.%s.tmp", s->snapshot_dir, (long)getpid(), an);
  else snprintf(tmp, sizeof tmp, "%s.follow.tmp", path);
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  size_t count = 0;
  const double t0 = vd_now();
  vouch_index *idx = NULL;
  int rc = fo->algo == VOUCH_ALGO_NONE ? vouch_bank_build_index_seq(db, NULL, 0, tmp, root, &count, seq)
                                       : vouch_bank_build_index_algo(db, fo->algo, tmp, root, &count, seq);
  hex32(root, hx);
  if (s->snapshot_dir) shared_path(fo, hx, path, sizeof path);
  if (rc != VOUCH_OK) {
    fprintf(stderr, "vouchd: follow: %ssnapshot build: %s\n", fo_name(fo, nm, sizeof nm), vouch_bank_errmsg(db));
  } else if (rename(tmp, path) != 0) {
    fprintf(stderr, "vouchd: follow: cannot rename the snapshot to %s\n", path);
  } else if (vouch_bank_snapshot_publish_algo(db, fo->algo, path, *seq, s->snapshot_dir == NULL,
                                              VOUCH_SNAPSHOT_KEEP) != VOUCH_OK) {
    fprintf(stderr, "vouchd: follow: publish %ssnapshot: %s\n", fo_name(fo, nm, sizeof nm), vouch_bank_errmsg(db));
  } else {
    /* the database's old snapshots went with the publish; the directory's go by the same rule */
    if (s->snapshot_dir) (void)vouch_snapshot_dir_prune(s->snapshot_dir, VOUCH_SNAPSHOT_KEEP, VOUCH_SNAPSHOT_MIN_AGE, NULL);
    const double t1 = vd_now();
    idx = open_snapshot(fo, path, root);
    if (idx)
      fprintf(stderr, "vouchd: follow: %ssnapshot %.16s of change %lld built and published (%.2f s), loaded (%.2f s): "
              "%zu entries\n", fo_name(fo, nm, sizeof nm), hx, (long long)*seq, t1 - t0, vd_now() - t1, count);
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
  struct vd_follower *fo = arg;
  vd_server *s = fo->s;
  vouch_bank *db = NULL;
  pthread_mutex_lock(&fo->mu);
  const int64_t have = fo->snap_seq;
  const int build = fo->want_build;
  pthread_mutex_unlock(&fo->mu);
  if (have >= 0) background_priority(); /* a replica without a snapshot serves nothing yet: its join runs at full speed */
  int64_t seq = -1;
  vouch_index *idx = NULL;
  if (vouch_bank_open(&db, s->db_path, 0) == VOUCH_OK) {
    idx = get_published(fo, db, have, &seq);
    if (!idx && build) idx = build_snapshot(fo, db, have, &seq);
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
static void snap_start(struct vd_follower *fo, int build) {
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
  fo->joinable = pthread_create(&fo->th, NULL, snap_main, fo) == 0;
  if (!fo->joinable) {
    pthread_mutex_lock(&fo->mu);
    fo->running = 0;
    pthread_mutex_unlock(&fo->mu);
  }
}

/* Takes over a snapshot the thread got (1 if one was installed in the follower). */
static int take_snapshot(struct vd_follower *fo) {
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
  fo->dirty = 1;
  return 1;
}

static int install(struct vd_follower *fo, int new_snapshot) {
  char err[512];
  vouch_index *idx = NULL;
  if (vouch_follow_index(fo->f, &idx) != VOUCH_OK ||
      vd_index_install(fo->s, fo->algo, idx, !new_snapshot, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd: follow: cannot install the index\n");
    return -1;
  }
  fo->dirty = 0;
  pthread_mutex_lock(&fo->mu);
  fo->index_seq = vouch_follow_seq(fo->f);
  pthread_mutex_unlock(&fo->mu);
  return 0;
}

static struct vd_follower *follower_new(vd_server *s, int algo) {
  struct vd_follower *fo = calloc(1, sizeof *fo);
  if (!fo) return NULL;
  if (vouch_follow_new_algo(&fo->f, s->delta_max, algo) != VOUCH_OK) {
    free(fo);
    return NULL;
  }
  fo->s = s;
  fo->algo = algo;
  fo->snap_seq = fo->index_seq = -1;
  pthread_mutex_init(&fo->mu, NULL);
  return fo;
}

static void follower_free(struct vd_follower *fo) {
  if (!fo) return;
  if (fo->joinable) pthread_join(fo->th, NULL);
  vouch_index_free(fo->ready);
  vouch_follow_free(fo->f);
  pthread_mutex_destroy(&fo->mu);
  free(fo);
}

/* --index-dir: a follower for each algorithm of the enabled banks (pdq when
 * there is none), none for the others: their slots are dropped and their
 * files removed, as a rebuild does (index_dir.c). */
static void relist(vd_server *s, vouch_bank *db) {
  int algos[VOUCH_BANK_ALGOS_MAX], want[VD_NALGO] = {0};
  size_t na = 0;
  if (vouch_bank_index_algos(db, algos, VOUCH_BANK_ALGOS_MAX, &na) != VOUCH_OK) return; /* next time */
  if (na == 0) algos[na++] = VOUCH_ALGO_PDQ;
  for (size_t k = 0; k < na && k < VOUCH_BANK_ALGOS_MAX; k++)
    if (algos[k] > VOUCH_ALGO_NONE && algos[k] < VD_NALGO) want[algos[k]] = 1;
  for (int a = 1; a < VD_NALGO; a++) {
    struct vd_follower *fo = s->fol[a];
    if (want[a] == (fo != NULL)) continue;
    if (want[a]) {
      if (!(fo = follower_new(s, a))) continue; /* out of memory: next time */
      pthread_mutex_lock(&s->fol_mu);
      s->fol[a] = fo;
      pthread_mutex_unlock(&s->fol_mu);
      continue;
    }
    pthread_mutex_lock(&s->fol_mu);
    s->fol[a] = NULL;
    pthread_mutex_unlock(&s->fol_mu);
    follower_free(fo); /* waits for its snapshot thread */
    char path[4096];
    vd_index_drop_slot(s, a);
    if (vd_index_file(s, a, path, sizeof path) == 0) unlink(path);
    fprintf(stderr, "vouchd: follow: no enabled %s bank any more: its index is dropped\n", vouch_algo_name(a));
  }
}

/* The server's index_seq: the oldest of its followers' (-1 while one has no index). */
static void update_index_seq(vd_server *s) {
  long long low = -1;
  int any = 0;
  for (int a = 0; a < VD_NALGO; a++) {
    struct vd_follower *fo = s->fol[a];
    if (!fo) continue;
    pthread_mutex_lock(&fo->mu);
    const long long q = fo->index_seq;
    pthread_mutex_unlock(&fo->mu);
    if (!any++ || q < low) low = q;
  }
  atomic_store(&s->index_seq, any ? low : -1LL);
}

/* One round of one follower after a wait: take a snapshot the thread got,
 * read the changes, install a new index when there is one; -1 when the
 * database failed (the caller reconnects).  *bank_level: a change only a
 * snapshot expresses (a bank created, changed or deleted). */
static int follow_round(struct vd_follower *fo, vouch_bank *db, int64_t seq, int changed, double now,
                        int *bank_level) {
  take_snapshot(fo);
  if (vouch_follow_snapshot_seq(fo->f) < 0) {
    snap_start(fo, 1); /* none yet: get or build one */
    return 0;
  }
  unsigned st = 0;
  if (vouch_follow_poll(fo->f, db, &st) != VOUCH_OK) {
    fprintf(stderr, "vouchd: follow: %s\n", vouch_bank_errmsg(db));
    return -1;
  }
  const int need = (st & VOUCH_FOLLOW_NEED_SNAPSHOT) != 0;
  if (!need && ((st & VOUCH_FOLLOW_CHANGED) || fo->dirty)) {
    install(fo, fo->dirty);
  } else if (!need && fo->index_seq >= 0) { /* nothing of its banks changed: its index is current */
    pthread_mutex_lock(&fo->mu);
    fo->index_seq = vouch_follow_seq(fo->f);
    pthread_mutex_unlock(&fo->mu);
  }
  *bank_level |= need;
  if (st & (VOUCH_FOLLOW_NEED_SNAPSHOT | VOUCH_FOLLOW_DELTA_FULL)) snap_start(fo, 1);
  else if (changed) snap_start(fo, 0); /* a snapshot published by another replica? */
  pthread_mutex_lock(&fo->mu);
  fo->delta = vouch_follow_delta_entries(fo->f);
  fo->need_snapshot = need;
  if (fo->index_seq >= seq) fo->stale_since = 0;
  else if (fo->stale_since == 0) fo->stale_since = now;
  pthread_mutex_unlock(&fo->mu);
  return 0;
}

static void *follow_main(void *arg) {
  vd_server *s = arg;
  vouch_bank *db = NULL;
  double last_check = 0;
  int relisted = 0;
  while (!atomic_load(&s->follow_stop)) {
    if (!db && vouch_bank_open(&db, s->db_path, 0) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s\n", db ? vouch_bank_errmsg(db) : "cannot open the database");
      vouch_bank_free(db);
      db = NULL;
      sleep(1);
      continue;
    }
    if (s->index_dir && !relisted) {
      relist(s, db);
      relisted = 1;
    }
    for (int a = 0; a < VD_NALGO; a++) {
      if (!s->fol[a]) continue;
      take_snapshot(s->fol[a]);
      if (vouch_follow_snapshot_seq(s->fol[a]->f) < 0) snap_start(s->fol[a], 1); /* none yet: get or build one */
    }
    int changed = 0;
    int64_t seq = 0;
    int job = 0; /* a snapshot on its way: look for it sooner (a joining replica's wait) */
    for (int a = 0; a < VD_NALGO; a++) {
      if (!s->fol[a]) continue;
      pthread_mutex_lock(&s->fol[a]->mu);
      job |= s->fol[a]->running;
      pthread_mutex_unlock(&s->fol[a]->mu);
    }
    if (vouch_bank_wait_change(db, job ? 100 : 500, &changed) != VOUCH_OK ||
        vouch_bank_change_seq(db, &seq) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s (reconnecting)\n", vouch_bank_errmsg(db));
      vouch_bank_free(db);
      db = NULL;
      usleep(200000);
      continue;
    }
    atomic_store(&s->db_seq, (long long)seq);
    const double now = vd_now();
    const int check = changed || now - last_check > 5; /* also look for snapshots other replicas published */
    if (check) last_check = now;
    int failed = 0, bank_level = 0;
    for (int a = 0; a < VD_NALGO && !failed; a++)
      if (s->fol[a]) failed = follow_round(s->fol[a], db, seq, check, now, &bank_level) != 0;
    update_index_seq(s);
    if (failed) {
      vouch_bank_free(db);
      db = NULL;
      continue;
    }
    if (bank_level || check) relisted = 0; /* banks of a new algorithm, or none left of one? */
  }
  vouch_bank_free(db);
  return NULL;
}

/* /status?format=json: readiness and staleness of this replica's index(es). */
static int follower_json(struct vd_follower *fo, int with_seqs, char *out, size_t cap) {
  char hx[2 * VOUCH_MERKLE_HASH_BYTES + 1];
  vd_server *s = fo->s;
  pthread_mutex_lock(&fo->mu);
  hex32(fo->root, hx);
  const double behind = fo->stale_since > 0 ? vd_now() - fo->stale_since : 0;
  int n = snprintf(out, cap, "\"snapshot_root\":\"%s\",\"snapshot_seq\":%lld,\"delta_entries\":%zu,",
                   fo->snap_seq >= 0 ? hx : "", (long long)fo->snap_seq, fo->delta);
  if (n >= 0 && (size_t)n < cap && with_seqs)
    n += snprintf(out + n, cap - (size_t)n, "\"index_seq\":%lld,\"db_seq\":%lld,",
                  (long long)atomic_load(&s->index_seq), (long long)atomic_load(&s->db_seq));
  else if (n >= 0 && (size_t)n < cap)
    n += snprintf(out + n, cap - (size_t)n, "\"index_seq\":%lld,", (long long)fo->index_seq);
  if (n >= 0 && (size_t)n < cap)
    n += snprintf(out + n, cap - (size_t)n, "\"seconds_behind\":%.1f,\"snapshot_needed\":%s,\"snapshot_job\":%s",
                  behind, fo->need_snapshot ? "true" : "false", fo->running ? "true" : "false");
  pthread_mutex_unlock(&fo->mu);
  return n;
}

int vd_follow_status(vd_server *s, char *out, size_t cap) {
  long long iseq = atomic_load(&s->index_seq), dseq = atomic_load(&s->db_seq);
  pthread_mutex_lock(&s->fol_mu);
  int n;
  if (!s->following || (!s->index_dir && !s->fol[0])) {
    n = snprintf(out, cap, "\"following\":%s,\"index_seq\":%lld,\"db_seq\":%lld", s->following ? "true" : "false",
                 iseq, dseq);
  } else if (!s->index_dir) { /* --index: the one follower's fields at the top level */
    n = snprintf(out, cap, "\"following\":true,");
    if (n >= 0 && (size_t)n < cap) n += follower_json(s->fol[0], 1, out + n, cap - (size_t)n);
  } else { /* --index-dir: the oldest index's counters, then each follower */
    double behind = 0;
    for (int a = 1; a < VD_NALGO; a++)
      if (s->fol[a]) {
        pthread_mutex_lock(&s->fol[a]->mu);
        const double b = s->fol[a]->stale_since > 0 ? vd_now() - s->fol[a]->stale_since : 0;
        pthread_mutex_unlock(&s->fol[a]->mu);
        if (b > behind) behind = b;
      }
    n = snprintf(out, cap, "\"following\":true,\"index_seq\":%lld,\"db_seq\":%lld,\"seconds_behind\":%.1f,"
                 "\"followers\":{", iseq, dseq, behind);
    int first = 1;
    for (int a = 1; a < VD_NALGO && n >= 0 && (size_t)n < cap; a++) {
      if (!s->fol[a]) continue;
      n += snprintf(out + n, cap - (size_t)n, "%s\"%s\":{", first ? "" : ",", vouch_algo_name(a));
      if (n >= 0 && (size_t)n < cap) n += follower_json(s->fol[a], 0, out + n, cap - (size_t)n);
      if (n >= 0 && (size_t)n < cap) n += snprintf(out + n, cap - (size_t)n, "}");
      first = 0;
    }
    if (n >= 0 && (size_t)n < cap) n += snprintf(out + n, cap - (size_t)n, "}");
  }
  pthread_mutex_unlock(&s->fol_mu);
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

/* --index: its file; --index-dir: the oldest DIR/ALGO.vidx (every rebuild
 * rewrites them all and removes those of algorithms no enabled bank has), or
 * none at all. */
int vd_index_outdated(const vd_server *s) {
  struct timespec ti = {0, 0}, td;
  char path[4096];
  if (!s->index_dir) {
    if (!s->index_path || vd_mtime(s->index_path, &ti) != 0) return 1;
  } else {
    int any = 0;
    for (int a = 1; a < VD_NALGO; a++) {
      struct timespec t;
      if (vd_index_file(s, a, path, sizeof path) != 0 || vd_mtime(path, &t) != 0) continue;
      if (!any++ || later(&ti, &t)) ti = t;
    }
    if (!any) return 1;
  }
  vd_db_mtime(s, &td);
  return later(&td, &ti);
}

static void *follow_sqlite_main(void *arg) {
  vd_server *s = arg;
  char err[512];
  while (!atomic_load(&s->follow_stop)) {
    for (int i = 0; i < 10 && !atomic_load(&s->follow_stop); i++) usleep(100000);
    if (atomic_load(&s->follow_stop) || !vd_index_outdated(s)) continue;
    const double t0 = vd_now();
    /* the index will be dated as the database was before the build read
     * it, so a change committed during the build still looks newer */
    struct timespec seen;
    vd_db_mtime(s, &seen);
    vouch_bank *db = NULL;
    vd_built built[VD_NALGO];
    size_t nb = 0, count = 0;
    int rc = vouch_bank_open(&db, s->db_path, VOUCH_BANK_OPEN_READONLY);
    if (rc == VOUCH_OK) rc = vd_index_rebuild(s, db, NULL, 0, &seen, built, &nb, err, sizeof err);
    else snprintf(err, sizeof err, "%s", db ? vouch_bank_errmsg(db) : vouch_strerror(rc));
    vouch_bank_free(db);
    if (rc != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s: %s\n", rc == 1 ? "cannot load the new index" : "index build", err);
      continue;
    }
    for (size_t k = 0; k < nb; k++) count += built[k].count;
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
  if (pg && !s->index_dir && !(s->fol[0] = follower_new(s, VOUCH_ALGO_NONE))) /* --index-dir: relist() */
    return -1;
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
  for (int a = 0; a < VD_NALGO; a++) {
    follower_free(s->fol[a]);
    s->fol[a] = NULL;
  }
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
