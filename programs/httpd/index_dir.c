/* programs/httpd/index_dir.c -- building vouchd's indexes from the banks:
 * --index FILE (one index of the chosen banks, one algorithm) or
 * --index-dir DIR (DIR/ALGO.vidx for each algorithm of the enabled banks,
 * so one vouchd serves pdq, vpdq, video_md5... of one database).  Used by
 * POST /v1/index/rebuild, the exchange sync and --follow on SQLite; the
 * PostgreSQL follower (replica.c) keeps its own snapshots.
 *
 * Each file is written to a temporary name, dated (*stamp: the database's
 * time before the build read it, so a change committed meanwhile still looks
 * newer), renamed into place and loaded into its slot; one rebuild runs at a
 * time (s->rebuild_mu), so two never write the same temporary file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vouchd.h"

int vd_index_configured(const vd_server *s) { return s->index_path || s->index_dir; }

int vd_index_file(const vd_server *s, int algo, char *out, size_t cap) {
  int n = s->index_dir ? snprintf(out, cap, "%s/%s.vidx", s->index_dir, vouch_algo_name(algo))
                       : snprintf(out, cap, "%s", s->index_path ? s->index_path : "");
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Builds slot `algo` (VOUCH_ALGO_NONE: --index from `names`) into its file and loads it. */
static int build_one(vd_server *s, vouch_bank *db, int algo, const char *const *names, size_t nn,
                     const struct timespec *stamp, vd_built *b, char *err, size_t errcap) {
  char path[4096], tmp[4200];
  if (vd_index_file(s, algo, path, sizeof path) != 0) {
    snprintf(err, errcap, "index path too long");
    return VOUCH_E_INVALID;
  }
  snprintf(tmp, sizeof tmp, "%s.build.tmp", path);
  b->algo = algo;
  b->count = 0;
  int rc = algo == VOUCH_ALGO_NONE ? vouch_bank_build_index(db, names, nn, tmp, b->root, &b->count)
                                   : vouch_bank_build_index_algo(db, algo, tmp, b->root, &b->count, NULL);
  if (rc != VOUCH_OK) {
    snprintf(err, errcap, "%s", vouch_bank_errmsg(db)[0] ? vouch_bank_errmsg(db) : vouch_strerror(rc));
    unlink(tmp);
    return rc;
  }
  if (stamp && stamp->tv_sec) {
    const struct timespec times[2] = {*stamp, *stamp};
    (void)utimensat(AT_FDCWD, tmp, times, 0);
  }
  if (rename(tmp, path) != 0) {
    snprintf(err, errcap, "%s: %s", path, strerror(errno));
    unlink(tmp);
    return VOUCH_E_IO;
  }
  return vd_index_load(s, algo, path, err, errcap) == 0 ? VOUCH_OK : 1;
}

int vd_index_rebuild(vd_server *s, vouch_bank *db, const char *const *names, size_t nn, const struct timespec *stamp,
                     vd_built *out, size_t *nout, char *err, size_t errcap) {
  *nout = 0;
  err[0] = 0;
  if (!s->index_dir) {
    pthread_mutex_lock(&s->rebuild_mu);
    int rc = build_one(s, db, VOUCH_ALGO_NONE, names, nn, stamp, &out[0], err, errcap);
    pthread_mutex_unlock(&s->rebuild_mu);
    *nout = rc == VOUCH_OK ? 1 : 0;
    return rc;
  }
  if (nn) {
    snprintf(err, errcap, "with --index-dir the indexes hold every enabled bank, one per algorithm; choosing banks "
                          "needs --index");
    return VOUCH_E_INVALID;
  }
  int algos[VOUCH_BANK_ALGOS_MAX];
  size_t na = 0;
  int rc = vouch_bank_index_algos(db, algos, VOUCH_BANK_ALGOS_MAX, &na);
  if (rc != VOUCH_OK) {
    snprintf(err, errcap, "%s", vouch_bank_errmsg(db));
    return rc;
  }
  if (na == 0) algos[na++] = VOUCH_ALGO_PDQ; /* no bank: an empty pdq index, so that one is loaded */
  if (na > VOUCH_BANK_ALGOS_MAX) na = VOUCH_BANK_ALGOS_MAX;
  int want[VD_NALGO] = {0};
  for (size_t k = 0; k < na; k++)
    if (algos[k] > VOUCH_ALGO_NONE && algos[k] < VD_NALGO) want[algos[k]] = 1;
  pthread_mutex_lock(&s->rebuild_mu);
  for (int a = 1; a < VD_NALGO && rc == VOUCH_OK; a++) {
    if (want[a]) {
      rc = build_one(s, db, a, NULL, 0, stamp, &out[*nout], err, errcap);
      if (rc == VOUCH_OK) ++*nout;
      continue;
    }
    /* no enabled bank of this algorithm any more: its entries stop matching */
    char path[4096];
    vd_index_drop_slot(s, a);
    if (vd_index_file(s, a, path, sizeof path) == 0 && unlink(path) != 0 && errno != ENOENT) {
      snprintf(err, errcap, "%s: %s", path, strerror(errno));
      rc = VOUCH_E_IO;
    }
  }
  pthread_mutex_unlock(&s->rebuild_mu);
  return rc;
}
