/* src/bank/bank_follow.c -- snapshot + delta on PostgreSQL (vouch/follow.h)
 * and published snapshots.
 *
 * The delta is a map from entry id to the entry's newest version read from
 * the database (its change number `chg`, migration 6 in store_pg.c): an
 * open-addressing table of positions into an array of records.  Every
 * record removes the entry's snapshot version; the visible ones (entry and
 * bank enabled, not disabled until a later time, in a bank the snapshot
 * indexes) are added back in their new version.  That is exactly the state
 * a rebuild would index, given that bank-level changes (which would change
 * which banks are indexed) force a new snapshot (vouch_state.full_seq). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bank_db.h"
#include "vouch/follow.h"

typedef struct frec {
  uint64_t id;
  int64_t chg;
  int64_t until; /* read because its disable-until time passed: that time (0: a changed row) */
  uint8_t hash[32];
  uint32_t bank;
  int visible;
  char *ext, *src;
} frec;

struct vouch_follow {
  size_t max;
  int algo; /* VOUCH_ALGO_NONE: every bank; else only banks of this algorithm */
  vouch_index *snap;
  int64_t snap_seq, seq;
  frec *rec;
  size_t n, cap;
  int64_t until_done; /* entries whose disable-until time is at or before this are in the index */
  size_t *slot; /* position + 1; 0 = empty */
  size_t nslot; /* power of two, > 2n */
};

int vouch_follow_new_algo(vouch_follow **out, size_t max_delta, int algo) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  if (algo != VOUCH_ALGO_NONE && vouch_bank_algo_from_name(vouch_algo_name(algo)) != algo) return VOUCH_E_INVALID;
  vouch_follow *f = vouch__calloc(1, sizeof *f);
  *out = f;
  if (!f) return VOUCH_E_NOMEM;
  f->max = max_delta ? max_delta : VOUCH_FOLLOW_DEFAULT_MAX;
  f->algo = algo;
  f->snap_seq = f->seq = -1;
  return VOUCH_OK;
}

int vouch_follow_new(vouch_follow **out, size_t max_delta) {
  return vouch_follow_new_algo(out, max_delta, VOUCH_ALGO_NONE);
}

static void rec_clear(frec *r) {
  vouch__free(r->ext);
  vouch__free(r->src);
  r->ext = r->src = NULL;
}

void vouch_follow_free(vouch_follow *f) {
  if (!f) return;
  for (size_t k = 0; k < f->n; k++) rec_clear(&f->rec[k]);
  vouch__free(f->rec);
  vouch__free(f->slot);
  vouch_index_free(f->snap);
  vouch__free(f);
}

int64_t vouch_follow_seq(const vouch_follow *f) { return f ? f->seq : -1; }
int64_t vouch_follow_snapshot_seq(const vouch_follow *f) { return f ? f->snap_seq : -1; }
size_t vouch_follow_delta_entries(const vouch_follow *f) { return f ? f->n : 0; }

static size_t hash_id(uint64_t id, size_t mask) {
  id *= 0x9E3779B97F4A7C15ULL;
  return (size_t)(id >> 17) & mask;
}

/* Rebuilds the slot table for f->n records (at least twice as many slots). */
static int reslot(vouch_follow *f) {
  size_t ns = 64;
  while (ns < 2 * f->n + 2) ns *= 2;
  size_t *s = vouch__calloc(ns, sizeof *s);
  if (!s) return VOUCH_E_NOMEM;
  for (size_t k = 0; k < f->n; k++) {
    size_t i = hash_id(f->rec[k].id, ns - 1);
    while (s[i]) i = (i + 1) & (ns - 1);
    s[i] = k + 1;
  }
  vouch__free(f->slot);
  f->slot = s;
  f->nslot = ns;
  return VOUCH_OK;
}

/* The record of entry `id`, added (empty) if absent; NULL when out of memory. */
static frec *rec_get(vouch_follow *f, uint64_t id) {
  if (!f->slot || 2 * (f->n + 1) + 2 > f->nslot) {
    if (reslot(f) != VOUCH_OK) return NULL;
  }
  size_t i = hash_id(id, f->nslot - 1);
  while (f->slot[i]) {
    if (f->rec[f->slot[i] - 1].id == id) return &f->rec[f->slot[i] - 1];
    i = (i + 1) & (f->nslot - 1);
  }
  if (vouch__grow(&f->rec, &f->cap, f->n + 1, sizeof *f->rec, 256) != VOUCH_OK) return NULL;
  frec *r = &f->rec[f->n];
  memset(r, 0, sizeof *r);
  r->id = id;
  f->slot[i] = ++f->n;
  return r;
}

int vouch_follow_set_snapshot(vouch_follow *f, vouch_index *snap, int64_t seq) {
  if (!f || !snap || seq < f->snap_seq) return VOUCH_E_INVALID;
  /* Records of changes the snapshot holds go.  Records of entries whose
   * disable-until time passed stay for VOUCH_FOLLOW_EXPIRY_KEEP seconds: a
   * snapshot built before that time does not hold them, and the snapshot's
   * build time is not known here (one built after it holds them too, and
   * the record then re-adds the same entry: same answers). */
  const int64_t keep_after = (int64_t)time(NULL) - VOUCH_FOLLOW_EXPIRY_KEEP;
  size_t w = 0;
  for (size_t k = 0; k < f->n; k++) {
    if (f->rec[k].chg <= seq && f->rec[k].until <= keep_after) rec_clear(&f->rec[k]);
    else f->rec[w++] = f->rec[k];
  }
  f->n = w;
  if (reslot(f) != VOUCH_OK) { /* the slots are rebuilt lazily by the next rec_get() */
    vouch__free(f->slot);
    f->slot = NULL;
    f->nslot = 0;
  }
  vouch_index_free(f->snap);
  f->snap = snap;
  f->snap_seq = seq;
  if (f->seq < seq) f->seq = seq;
  return VOUCH_OK;
}

int vouch_follow_index(vouch_follow *f, vouch_index **out) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  if (!f || !f->snap) return VOUCH_E_INVALID;
  vouch_index_input *in = vouch__malloc((f->n ? f->n : 1) * sizeof *in);
  uint64_t *rem = vouch__malloc((f->n ? f->n : 1) * sizeof *rem);
  int rc = VOUCH_E_NOMEM;
  if (in && rem) {
    size_t na = 0;
    for (size_t k = 0; k < f->n; k++) {
      const frec *r = &f->rec[k];
      rem[k] = r->id;
      if (r->visible)
        in[na++] = (vouch_index_input){.hash = r->hash, .bank = r->bank, .entry_id = r->id, .ext_id = r->ext,
                                       .source = r->src};
    }
    rc = vouch_index_derive(out, f->snap, in, na, rem, f->n);
  }
  vouch__free(in);
  vouch__free(rem);
  return rc;
}

static char *dup_str(const char *s) {
  size_t l = strlen(s) + 1;
  char *p = vouch__malloc(l);
  if (p) memcpy(p, s, l);
  return p;
}

/* The snapshot's number of bank `name`, or UINT32_MAX if it does not index it. */
static uint32_t snap_bank(const vouch_index *snap, const char *name) {
  for (uint32_t b = 0; b < vouch_index_bank_count(snap); b++)
    if (!strcmp(vouch_index_bank_name(snap, b), name)) return b;
  return UINT32_MAX;
}

#define FOLLOW_SQL_ROWS                                                                            \
  "SELECT e.id, e.chg, e.hash, b.name, b.algo, e.enabled,"                                       \
  " coalesce(e.disabled_until, 0), coalesce(e.ext_id, ''), " VOUCH__SQL_ENTRY_SOURCES            \
  " FROM entries e JOIN banks b ON b.id = e.bank_id WHERE "

/* Reads into the map (in the open transaction, at time `now`) the rows
 * changed after f->seq, or with `expired`, the rows not changed since whose
 * disable-until time passed after f->until_done: nothing changed in the
 * database, but a rebuild now would index them again (migration 9's index
 * on disabled_until keeps this query cheap at every poll). */
static int read_rows(vouch_follow *f, vouch_bank *b, unsigned *status, int expired, int64_t now) {
  vouch__stmt *st = NULL;
  VOUCH_TRY(vouch__bank_prepare(b,
                                expired ? FOLLOW_SQL_ROWS "e.disabled_until > ?2 AND e.disabled_until <= ?3"
                                                          " AND e.chg <= ?1"
                                        : FOLLOW_SQL_ROWS "e.chg > ?1",
                                &st));
  vouch__bind_int64(st, 1, f->seq);
  if (expired) {
    vouch__bind_int64(st, 2, f->until_done);
    vouch__bind_int64(st, 3, now);
  }
  const size_t hb = vouch_index_hash_bytes(f->snap);
  int dbrc, rc = VOUCH_OK;
  while (rc == VOUCH_OK && (dbrc = vouch__step(st)) == VOUCH__DB_ROW) {
    const char *bname = vouch__col_text(st, 3), *algo = vouch__col_text(st, 4);
    const char *ext = vouch__col_text(st, 7), *src = vouch__col_text(st, 8);
    const void *h = vouch__col_blob(st, 2);
    if (!bname || !algo || !ext || !src) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "a changed entry's row is malformed");
      break;
    }
    const int al = vouch_bank_algo_from_name(algo);
    if (f->algo != VOUCH_ALGO_NONE && al != f->algo) continue; /* another algorithm's index */
    if (al == VOUCH_ALGO_VPDQ) { /* an index of video frames: rebuild */
      /* but not for a video whose disable-until time passed: that would ask
       * again at every poll (until_done moves only without a snapshot to
       * wait for); it comes back with the next snapshot */
      if (expired) continue;
      *status |= VOUCH_FOLLOW_NEED_SNAPSHOT;
      break;
    }
    frec *r = rec_get(f, (uint64_t)vouch__col_int64(st, 0));
    if (!r) {
      rc = vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
      break;
    }
    rec_clear(r);
    r->chg = vouch__col_int64(st, 1);
    r->until = expired ? vouch__col_int64(st, 6) : 0;
    r->bank = snap_bank(f->snap, bname);
    r->visible = r->bank != UINT32_MAX && vouch__col_int64(st, 5) != 0 && vouch__col_int64(st, 6) <= now && h &&
                 (size_t)vouch__col_bytes(st, 2) == hb && strlen(ext) <= VOUCH_INDEX_MAX_STRING &&
                 strlen(src) <= VOUCH_INDEX_MAX_STRING;
    if (r->visible) memcpy(r->hash, h, hb);
    r->ext = dup_str(ext);
    r->src = dup_str(src);
    if (!r->ext || !r->src) rc = vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
    *status |= VOUCH_FOLLOW_CHANGED;
  }
  if (rc == VOUCH_OK && !(*status & VOUCH_FOLLOW_NEED_SNAPSHOT) && dbrc != VOUCH__DB_DONE)
    rc = vouch__bank_dbfail(b, dbrc, "read changed entries");
  vouch__finalize(st);
  return rc;
}

int vouch_follow_poll(vouch_follow *f, vouch_bank *b, unsigned *status) {
  if (!f || !status) return VOUCH_E_INVALID;
  *status = 0;
  VOUCH_TRY(vouch__bank_pg_only(b));
  if (!f->snap) return vouch__bank_fail(b, VOUCH_E_INVALID, "no snapshot to follow from");
  VOUCH_TRY(vouch__bank_exec(b, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  vouch__stmt *st = NULL;
  int64_t seq = 0, full = 0;
  /* a follower of one algorithm: only its banks' snapshot-only changes (migration 7) */
  int rc = f->algo == VOUCH_ALGO_NONE
               ? vouch__bank_prepare(b, "SELECT seq, full_seq FROM vouch_state WHERE id = 1", &st)
               : vouch__bank_prepare(b,
                                     "SELECT s.seq, coalesce((SELECT max(a.seq) FROM vouch_full_algo a"
                                     " WHERE a.algo = ?1 OR a.algo = ''), 0) FROM vouch_state s WHERE s.id = 1",
                                     &st);
  if (rc == VOUCH_OK && f->algo != VOUCH_ALGO_NONE) vouch__bind_text(st, 1, vouch_algo_name(f->algo), -1);
  if (rc == VOUCH_OK) {
    int dbrc = vouch__step(st);
    if (dbrc == VOUCH__DB_ROW) {
      seq = vouch__col_int64(st, 0);
      full = vouch__col_int64(st, 1);
    } else {
      rc = vouch__bank_dbfail(b, dbrc, "change counter");
    }
    vouch__finalize(st);
  }
  const int64_t now = (int64_t)time(NULL);
  if (rc == VOUCH_OK && full > f->snap_seq) *status |= VOUCH_FOLLOW_NEED_SNAPSHOT;
  else if (rc == VOUCH_OK) {
    /* the entries whose disable-until time passed first (those not changed
     * since f->seq), then the changed ones, which read the same time */
    if (b->schema >= 3 && now > f->until_done) rc = read_rows(f, b, status, 1, now);
    if (rc == VOUCH_OK && seq > f->seq) rc = read_rows(f, b, status, 0, now);
  }
  if (rc == VOUCH_OK) rc = vouch__bank_exec(b, "COMMIT");
  if (rc != VOUCH_OK) {
    vouch__rollback(b->db);
    return rc;
  }
  if (!(*status & VOUCH_FOLLOW_NEED_SNAPSHOT) && seq > f->seq) f->seq = seq;
  if (!(*status & VOUCH_FOLLOW_NEED_SNAPSHOT) && now > f->until_done) f->until_done = now;
  if (f->n > f->max) *status |= VOUCH_FOLLOW_DELTA_FULL;
  return VOUCH_OK;
}

/* ------------------------------------------------------------ published snapshots */

/* The root of the index file at `path` (validated as vouch_index_open() does). */
static int file_root(vouch_bank *b, const char *path, uint8_t root[VOUCH_MERKLE_HASH_BYTES]) {
  vouch_index *idx = NULL;
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_mih = 0;
  int rc = vouch_index_open(&idx, path, &cfg);
  if (rc == VOUCH_OK) memcpy(root, vouch_index_root(idx), VOUCH_MERKLE_HASH_BYTES);
  else rc = vouch__bank_fail(b, rc, "%s: %s", path, vouch_index_errmsg(idx));
  vouch_index_free(idx);
  return rc;
}

static int step_done(vouch_bank *b, vouch__stmt *st, const char *what) {
  int dbrc = vouch__step(st);
  vouch__reset(st);
  return dbrc == VOUCH__DB_DONE || dbrc == VOUCH__DB_ROW ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, what);
}

/* The snapshots' algo column: '' for the index of all enabled banks. */
static const char *snap_algo(int algo) { return algo == VOUCH_ALGO_NONE ? "" : vouch_algo_name(algo); }

static int store_chunks(vouch_bank *b, const char *path, const uint8_t *root, int algo) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return vouch__bank_fail(b, VOUCH_E_IO, "%s: %s", path, strerror(errno));
  uint8_t *buf = vouch__malloc(VOUCH_SNAPSHOT_CHUNK_BYTES);
  vouch__stmt *st = NULL;
  int rc = buf ? vouch__bank_prepare(b, "INSERT INTO vouch_snapshot_chunks(root, n, data, algo) VALUES(?1, ?2, ?3, ?4)", &st)
               : vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
  for (int64_t n = 0; rc == VOUCH_OK; n++) {
    size_t got = 0;
    while (got < VOUCH_SNAPSHOT_CHUNK_BYTES) {
      ssize_t k = read(fd, buf + got, VOUCH_SNAPSHOT_CHUNK_BYTES - got);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) rc = vouch__bank_fail(b, VOUCH_E_IO, "%s: %s", path, strerror(errno));
      if (k <= 0) break;
      got += (size_t)k;
    }
    if (rc != VOUCH_OK || got == 0) break;
    vouch__bind_blob(st, 1, root, VOUCH_MERKLE_HASH_BYTES);
    vouch__bind_int64(st, 2, n);
    vouch__bind_blob(st, 3, buf, (int)got);
    vouch__bind_text(st, 4, snap_algo(algo), -1);
    rc = step_done(b, st, "store a snapshot chunk");
  }
  vouch__finalize(st);
  vouch__free(buf);
  close(fd);
  return rc;
}

int vouch_bank_snapshot_publish(vouch_bank *b, const char *path, int64_t seq, int store_bytes, unsigned keep) {
  return vouch_bank_snapshot_publish_algo(b, VOUCH_ALGO_NONE, path, seq, store_bytes, keep);
}

int vouch_bank_snapshot_publish_algo(vouch_bank *b, int algo, const char *path, int64_t seq, int store_bytes,
                                     unsigned keep) {
  if (!path) return VOUCH_E_INVALID;
  VOUCH_TRY(vouch__bank_pg_only(b));
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  VOUCH_TRY(file_root(b, path, root));
  FILE *fp = fopen(path, "rb");
  if (!fp || fseek(fp, 0, SEEK_END) != 0) {
    if (fp) fclose(fp);
    return vouch__bank_fail(b, VOUCH_E_IO, "%s: %s", path, strerror(errno));
  }
  const int64_t bytes = (int64_t)ftell(fp);
  fclose(fp);
  VOUCH_TRY(vouch__bank_begin(b));
  vouch__stmt *st = NULL;
  int rc = vouch__bank_prepare(b,
                               /* The root covers the entries, not the list of banks: a snapshot of the
                                * same entries after an empty bank was created has the same root and another
                                * file.  The newer one replaces the row and (below) the chunks. */
                               "INSERT INTO vouch_snapshots(root, seq, bytes, created_at, algo) VALUES(?1, ?2, ?3, ?4, ?5)"
                               " ON CONFLICT (algo, root) DO UPDATE SET seq = EXCLUDED.seq, bytes = EXCLUDED.bytes,"
                               " created_at = EXCLUDED.created_at WHERE vouch_snapshots.seq < EXCLUDED.seq",
                               &st);
  if (rc == VOUCH_OK) {
    vouch__bind_blob(st, 1, root, VOUCH_MERKLE_HASH_BYTES);
    vouch__bind_int64(st, 2, seq);
    vouch__bind_int64(st, 3, bytes);
    vouch__bind_int64(st, 4, (int64_t)time(NULL));
    vouch__bind_text(st, 5, snap_algo(algo), -1);
    rc = step_done(b, st, "publish a snapshot");
    vouch__finalize(st);
  }
  const int fresh = rc == VOUCH_OK && vouch__changes(b->db) > 0;
  if (fresh && (rc = vouch__bank_prepare(b, "DELETE FROM vouch_snapshot_chunks WHERE algo = ?2 AND root = ?1", &st)) ==
                   VOUCH_OK) {
    vouch__bind_blob(st, 1, root, VOUCH_MERKLE_HASH_BYTES); /* an older file's chunks under the same root */
    vouch__bind_text(st, 2, snap_algo(algo), -1);
    rc = step_done(b, st, "replace a snapshot's chunks");
    vouch__finalize(st);
  }
  if (fresh && store_bytes && rc == VOUCH_OK) rc = store_chunks(b, path, root, algo);
  if (rc == VOUCH_OK) rc = vouch_bank_snapshot_prune(b, keep, VOUCH_SNAPSHOT_MIN_AGE, NULL);
  if (rc == VOUCH_OK && fresh) rc = vouch__bank_exec(b, "SELECT pg_notify('vouch_changes', 'snapshot')");
  if (rc == VOUCH_OK) return vouch__bank_commit(b);
  vouch__rollback(b->db);
  return rc;
}

int vouch_bank_snapshot_latest(vouch_bank *b, uint8_t root[VOUCH_MERKLE_HASH_BYTES], int64_t *seq, int64_t *bytes,
                               int *stored) {
  return vouch_bank_snapshot_latest_algo(b, VOUCH_ALGO_NONE, root, seq, bytes, stored);
}

int vouch_bank_snapshot_latest_algo(vouch_bank *b, int algo, uint8_t root[VOUCH_MERKLE_HASH_BYTES], int64_t *seq,
                                    int64_t *bytes, int *stored) {
  if (!root) return VOUCH_E_INVALID;
  VOUCH_TRY(vouch__bank_pg_only(b));
  vouch__stmt *st = NULL;
  VOUCH_TRY(vouch__bank_prepare(b,
                                "SELECT s.root, s.seq, s.bytes,"
                                " (SELECT count(*) FROM vouch_snapshot_chunks c WHERE c.algo = s.algo AND c.root = s.root)"
                                " FROM vouch_snapshots s WHERE s.algo = ?1"
                                " ORDER BY s.seq DESC, s.created_at DESC LIMIT 1",
                                &st));
  vouch__bind_text(st, 1, snap_algo(algo), -1);
  int dbrc = vouch__step(st), rc = VOUCH_OK;
  if (dbrc == VOUCH__DB_ROW) {
    const void *r = vouch__col_blob(st, 0);
    if (!r || vouch__col_bytes(st, 0) != VOUCH_MERKLE_HASH_BYTES) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "a published snapshot's root is malformed");
    } else {
      memcpy(root, r, VOUCH_MERKLE_HASH_BYTES);
      if (seq) *seq = vouch__col_int64(st, 1);
      if (bytes) *bytes = vouch__col_int64(st, 2);
      if (stored) *stored = vouch__col_int64(st, 3) > 0;
    }
  } else if (dbrc == VOUCH__DB_DONE) {
    rc = vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no published snapshot");
  } else {
    rc = vouch__bank_dbfail(b, dbrc, "published snapshots");
  }
  vouch__finalize(st);
  return rc;
}

int vouch_bank_snapshot_fetch(vouch_bank *b, const uint8_t root[VOUCH_MERKLE_HASH_BYTES], const char *path) {
  return vouch_bank_snapshot_fetch_algo(b, VOUCH_ALGO_NONE, root, path);
}

/* Writes the chunks of snapshot `root` in order to `fd`; with `chk`, also
 * through the streaming check.  Chunks are numbered from 0 with no gap, so
 * the first number not found ends the file. */
static int write_chunks(vouch_bank *b, int algo, const uint8_t *root, int fd, const char *tmp,
                        vouch_index_stream *chk) {
  vouch__stmt *st = NULL;
  int rc = vouch__bank_prepare(b, "SELECT data FROM vouch_snapshot_chunks WHERE algo = ?3 AND root = ?1 AND n = ?2", &st);
  int64_t n = 0;
  for (; rc == VOUCH_OK; n++) {
    vouch__bind_blob(st, 1, root, VOUCH_MERKLE_HASH_BYTES);
    vouch__bind_int64(st, 2, n);
    vouch__bind_text(st, 3, snap_algo(algo), -1);
    int dbrc = vouch__step(st);
    if (dbrc == VOUCH__DB_DONE) {
      vouch__reset(st);
      break;
    }
    if (dbrc != VOUCH__DB_ROW) {
      rc = vouch__bank_dbfail(b, dbrc, "read a snapshot chunk");
      break;
    }
    const uint8_t *p = vouch__col_blob(st, 0);
    size_t len = (size_t)vouch__col_bytes(st, 0), off = 0;
    if (p && chk) vouch_index_stream_update(chk, p, len);
    while (p && off < len) {
      ssize_t k = write(fd, p + off, len - off);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) {
        rc = vouch__bank_fail(b, VOUCH_E_IO, "%s: %s", tmp, strerror(errno));
        break;
      }
      off += (size_t)k;
    }
    vouch__reset(st);
  }
  vouch__finalize(st);
  if (rc == VOUCH_OK && n == 0) rc = vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "snapshot not stored in the database");
  return rc;
}

/* fsync() of a fetched file on its own thread, while the file is opened */
struct fsync_job {
  int fd, err; /* err: errno of a failure, 0 if none */
};

static void *fsync_main(void *arg) {
  struct fsync_job *j = arg;
  j->err = fsync(j->fd) == 0 ? 0 : errno;
  return NULL;
}

/* The fetch: a temp file next to `path`, renamed to `path` only once its
 * bytes are checked.  Without `out` the check is the streaming one (checksum
 * and root, as the bytes arrive); with `out` it is vouch_index_open() of the
 * temp file (which validates the checksum first, then everything else) and a
 * comparison of its root, so that the bytes are read once, not twice, before
 * a replica serves them: the handle stays valid after the rename. */
static int fetch(vouch_bank *b, int algo, const uint8_t *root, const char *path, const vouch_index_config *cfg,
                 vouch_index **out) {
  if (out) *out = NULL;
  if (!root || !path) return VOUCH_E_INVALID;
  VOUCH_TRY(vouch__bank_pg_only(b));
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.fetch.XXXXXX", path) >= (int)sizeof tmp) return VOUCH_E_INVALID;
  int fd = mkstemp(tmp);
  if (fd < 0) return vouch__bank_fail(b, VOUCH_E_IO, "%s: %s", tmp, strerror(errno));
  vouch_index_stream *chk = NULL; /* checksum and root in the same pass as the writes */
  int rc = !out && vouch_index_stream_new(&chk) != VOUCH_OK ? vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory")
                                                            : write_chunks(b, algo, root, fd, tmp, chk);
  uint8_t got[VOUCH_MERKLE_HASH_BYTES];
  vouch_index *idx = NULL;
  struct fsync_job sync = {fd, 0};
  if (rc == VOUCH_OK && !out) {
    fsync_main(&sync);
    if (vouch_index_stream_final(chk, got) != VOUCH_OK)
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "fetched snapshot is not a whole index file (checksum)");
  }
  vouch_index_stream_free(chk);
  if (rc == VOUCH_OK && out) { /* the fsync (still before the rename) runs while the file is opened */
    pthread_t th;
    const int threaded = pthread_create(&th, NULL, fsync_main, &sync) == 0;
    int orc = vouch_index_open(&idx, tmp, cfg);
    if (threaded) pthread_join(th, NULL);
    else fsync_main(&sync);
    if (orc != VOUCH_OK)
      rc = vouch__bank_fail(b, orc == VOUCH_E_NOMEM ? VOUCH_E_NOMEM : VOUCH_E_DB_CORRUPT,
                            "fetched snapshot is not a valid index file: %s", vouch_index_errmsg(idx));
    else
      memcpy(got, vouch_index_root(idx), sizeof got);
  }
  close(fd);
  if (rc == VOUCH_OK && sync.err) rc = vouch__bank_fail(b, VOUCH_E_IO, "%s: %s", tmp, strerror(sync.err));
  if (rc == VOUCH_OK && memcmp(got, root, sizeof got) != 0)
    rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "fetched snapshot's root differs from the one published");
  if (rc == VOUCH_OK && rename(tmp, path) != 0) rc = vouch__bank_fail(b, VOUCH_E_IO, "%s: %s", path, strerror(errno));
  if (rc != VOUCH_OK) {
    unlink(tmp);
    vouch_index_free(idx);
    return rc;
  }
  if (out) *out = idx;
  return VOUCH_OK;
}

int vouch_bank_snapshot_fetch_algo(vouch_bank *b, int algo, const uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                                   const char *path) {
  return fetch(b, algo, root, path, NULL, NULL);
}

int vouch_bank_snapshot_fetch_open_algo(vouch_bank *b, int algo, const uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                                        const char *path, const vouch_index_config *cfg, vouch_index **out) {
  if (!out) return VOUCH_E_INVALID;
  return fetch(b, algo, root, path, cfg, out);
}
