/* src/bank/snapshot_prune.c -- deleting old published snapshots, in the
 * database (vouch_bank_snapshot_prune()) and in a shared snapshot directory
 * (vouch_snapshot_dir_prune()), by the same rule: the newest `keep` stay, and
 * an older one goes only once the snapshot published after it is `min_age`
 * seconds old.  A replica fetches the newest snapshot; when a newer one is
 * published during its fetch, the one it is reading is still kept for
 * min_age, so no fetch loses its file or its chunks under it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bank_db.h"
#include "vouch/follow.h"

int vouch_bank_snapshot_prune(vouch_bank *b, unsigned keep, unsigned min_age, size_t *removed) {
  if (removed) *removed = 0;
  VOUCH_TRY(vouch__bank_pg_only(b));
  vouch__stmt *st = NULL;
  /* the chunks go with their row (ON DELETE CASCADE) */
  VOUCH_TRY(vouch__bank_prepare(b,
                                /* each algorithm's snapshots apart (the key is (algo, root)) */
                                "DELETE FROM vouch_snapshots AS s WHERE s.root NOT IN"
                                " (SELECT t.root FROM vouch_snapshots t WHERE t.algo = s.algo"
                                " ORDER BY t.seq DESC, t.created_at DESC LIMIT ?1)"
                                " AND (SELECT min(t.created_at) FROM vouch_snapshots t"
                                " WHERE t.algo = s.algo AND t.seq > s.seq) <= ?2",
                                &st));
  vouch__bind_int64(st, 1, keep ? keep : 1);
  vouch__bind_int64(st, 2, (int64_t)time(NULL) - (int64_t)min_age);
  int dbrc = vouch__step(st);
  vouch__finalize(st);
  if (dbrc != VOUCH__DB_DONE && dbrc != VOUCH__DB_ROW) return vouch__bank_dbfail(b, dbrc, "drop old snapshots");
  if (removed) *removed = (size_t)vouch__changes(b->db);
  return VOUCH_OK;
}

/* A snapshot file's name: 64 lowercase hex digits (its root), ".vidx", with
 * the prefix "ALGO-" for the index of one bank algorithm (vouchd
 * --index-dir).  Returns the prefix's length (0: none), or -1 for any other
 * name. */
#define SNAP_PREFIX_MAX 16
static int snapshot_name(const char *n) {
  const size_t len = strlen(n), tail = 2 * VOUCH_MERKLE_HASH_BYTES + 5;
  if (len < tail || strcmp(n + len - 5, ".vidx") != 0) return -1;
  const size_t pre = len - tail;
  if (pre == 1 || pre > SNAP_PREFIX_MAX || (pre > 0 && n[pre - 1] != '-')) return -1;
  for (size_t i = 0; i + 1 < pre; i++)
    if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9'))) return -1;
  for (size_t i = pre; i < len - 5; i++)
    if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f'))) return -1;
  return (int)pre;
}

typedef struct snap_file {
  char name[SNAP_PREFIX_MAX + 2 * VOUCH_MERKLE_HASH_BYTES + 6];
  int pre; /* the "ALGO-" prefix's length: files of one prefix are pruned apart from the others */
  struct timespec mtime;
} snap_file;

static int newest_first(const void *pa, const void *pb) {
  const snap_file *a = pa, *b = pb;
  if (a->pre != b->pre) return a->pre < b->pre ? -1 : 1;
  const int c = strncmp(a->name, b->name, (size_t)a->pre);
  if (c) return c;
  if (a->mtime.tv_sec != b->mtime.tv_sec) return a->mtime.tv_sec > b->mtime.tv_sec ? -1 : 1;
  if (a->mtime.tv_nsec != b->mtime.tv_nsec) return a->mtime.tv_nsec > b->mtime.tv_nsec ? -1 : 1;
  return strcmp(a->name, b->name);
}

int vouch_snapshot_dir_prune(const char *dir, unsigned keep, unsigned min_age, size_t *removed) {
  if (removed) *removed = 0;
  if (!dir) return VOUCH_E_INVALID;
  DIR *d = opendir(dir);
  if (!d) return VOUCH_E_IO;
  snap_file *v = NULL;
  size_t n = 0, cap = 0;
  int rc = VOUCH_OK;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    const int pre = snapshot_name(de->d_name);
    if (pre < 0 || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 16;
      snap_file *nv = vouch__realloc(v, nc * sizeof *nv);
      if (!nv) {
        rc = VOUCH_E_NOMEM;
        break;
      }
      v = nv;
      cap = nc;
    }
    snprintf(v[n].name, sizeof v[n].name, "%.*s", (int)sizeof v[n].name - 1, de->d_name); /* snapshot_name() bounds it */
    v[n].pre = pre;
    v[n++].mtime = st.st_mtim;
  }
  if (rc == VOUCH_OK && n > 0) {
    qsort(v, n, sizeof *v, newest_first);
    const time_t now = time(NULL);
    size_t rank = 0; /* v[i]'s place among the files of its prefix, newest first */
    for (size_t i = 0; i < n; i++) {
      rank = i > 0 && v[i].pre == v[i - 1].pre && strncmp(v[i].name, v[i - 1].name, (size_t)v[i].pre) == 0 ? rank + 1 : 0;
      if (rank < (keep ? keep : 1)) continue;
      /* v[i - 1] superseded v[i] when it was written */
      if ((int64_t)now - (int64_t)v[i - 1].mtime.tv_sec < (int64_t)min_age) continue;
      if (unlinkat(dirfd(d), v[i].name, 0) == 0) {
        if (removed) ++*removed;
      } else if (errno != ENOENT) { /* ENOENT: another replica pruned it first */
        rc = VOUCH_E_IO;
      }
    }
  }
  vouch__free(v);
  closedir(d);
  return rc;
}
