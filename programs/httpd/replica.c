/* programs/httpd/replica.c -- a vouchd replica following a PostgreSQL
 * database (--db postgresql://... with --index): a thread waits for committed
 * bank changes (LISTEN/NOTIFY, vouch_bank_wait_change(), and a poll of the
 * change counter every second in case a notification was lost with a
 * connection), then rebuilds the index from one snapshot under the
 * database-wide builder lock (one replica builds at a time) into
 * INDEX.follow.tmp, renames it over --index and reloads it.  The counters
 * db_seq (the database's) and index_seq (the loaded index's) give /status
 * its staleness.  A new replica builds at start, so it is ready once its
 * first build is loaded.  With an SQLite bank file, --follow polls its
 * modification time instead (follow_sqlite_main below). */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "vouchd.h"

static void *follow_main(void *arg) {
  vd_server *s = arg;
  vouch_bank *db = NULL;
  char tmp[4096], err[512];
  snprintf(tmp, sizeof tmp, "%s.follow.tmp", s->index_path);
  while (!atomic_load(&s->follow_stop)) {
    if (!db && vouch_bank_open(&db, s->db_path, 0) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s\n", db ? vouch_bank_errmsg(db) : "cannot open the database");
      vouch_bank_free(db);
      db = NULL;
      sleep(1);
      continue;
    }
    int changed = 0;
    int64_t seq = 0;
    if (vouch_bank_wait_change(db, 1000, &changed) != VOUCH_OK || vouch_bank_change_seq(db, &seq) != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: %s (reconnecting)\n", vouch_bank_errmsg(db));
      vouch_bank_free(db);
      db = NULL;
      usleep(200000);
      continue;
    }
    atomic_store(&s->db_seq, (long long)seq);
    if (seq <= atomic_load(&s->index_seq)) continue;
    int got = 0;
    if (vouch_bank_build_lock(db, 1, &got) != VOUCH_OK || !got) continue;
    const double t0 = vd_now();
    uint8_t root[VOUCH_MERKLE_HASH_BYTES];
    size_t count = 0;
    int64_t built = -1;
    int rc = vouch_bank_build_index_seq(db, NULL, 0, tmp, root, &count, &built);
    (void)vouch_bank_build_unlock(db);
    if (rc != VOUCH_OK) {
      fprintf(stderr, "vouchd: follow: index build: %s\n", vouch_bank_errmsg(db));
      unlink(tmp);
      sleep(1);
      continue;
    }
    if (rename(tmp, s->index_path) != 0 || vd_index_reload(s, err, sizeof err) != 0) {
      fprintf(stderr, "vouchd: follow: cannot load the new index: %s\n", err);
      sleep(1);
      continue;
    }
    atomic_store(&s->index_seq, (long long)built);
    fprintf(stderr, "vouchd: follow: index of change %lld loaded: %zu entries (%.2f s)\n", (long long)built, count,
            vd_now() - t0);
  }
  vouch_bank_free(db);
  return NULL;
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
static void db_mtime(const vd_server *s, struct timespec *t) {
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
  db_mtime(s, &td);
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
    db_mtime(s, &seen);
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
  if (pthread_create(&s->follow_th, NULL, vd_db_is_pg(s->db_path) ? follow_main : follow_sqlite_main, s) != 0)
    return -1;
  s->following = 1;
  return 0;
}

void vd_follow_stop(vd_server *s) {
  if (!s->following) return;
  atomic_store(&s->follow_stop, 1);
  pthread_join(s->follow_th, NULL);
  s->following = 0;
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
