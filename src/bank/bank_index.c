/* src/bank/bank_index.c -- writing an index (vouch/index.h) of the enabled
 * entries of chosen banks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "bank_db.h"
#include "vouch/index.h"
/* ------------------------------------------------------------ index */

typedef struct strbuf {
  char *p;
  size_t len, cap;
} strbuf;

/* Appends a NUL-terminated copy; returns its offset or SIZE_MAX. */
static size_t sb_add(strbuf *s, const char *str) {
  size_t l = strlen(str) + 1;
  if (s->len + l > s->cap) {
    size_t nc = s->cap ? s->cap : 1 << 16;
    while (nc < s->len + l) nc *= 2;
    char *np = vouch__realloc(s->p, nc);
    if (!np) return SIZE_MAX;
    s->p = np;
    s->cap = nc;
  }
  memcpy(s->p + s->len, str, l);
  s->len += l;
  return s->len - l;
}

typedef struct banklist {
  int64_t *ids;
  char **names;
  size_t n, cap;
} banklist;

static int bl_push(banklist *l, int64_t id, const char *name) {
  for (size_t k = 0; k < l->n; k++)
    if (l->ids[k] == id)
      return VOUCH_OK;
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 16;
    int64_t *ni = vouch__realloc(l->ids, nc * sizeof *ni);
    if (!ni) return VOUCH_E_NOMEM;
    l->ids = ni;
    char **nn = vouch__realloc(l->names, nc * sizeof *nn);
    if (!nn) return VOUCH_E_NOMEM;
    l->names = nn;
    l->cap = nc;
  }
  size_t len = strlen(name) + 1;
  char *cp = vouch__malloc(len);
  if (!cp) return VOUCH_E_NOMEM;
  memcpy(cp, name, len);
  l->ids[l->n] = id;
  l->names[l->n++] = cp;
  return VOUCH_OK;
}

/* The rows of an index being built: hashes of hb bytes and, per row, the
 * offsets of its id and sources in `sb`, its bank and its entry id. */
typedef struct index_rows {
  size_t hb;
  uint8_t *hashes;
  size_t *ext_off, *src_off;
  uint32_t *bank_of;
  uint64_t *entry_id;
  size_t n, cap;
  strbuf sb;
} index_rows;

/* Appends a row whose id and sources are the offsets eo and so in rows->sb. */
static int rows_push(index_rows *r, const void *hash, size_t eo, size_t so, uint32_t bank, uint64_t entry_id) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 4096;
    uint8_t *nh = vouch__realloc(r->hashes, cap * r->hb);
    if (nh) r->hashes = nh;
    size_t *ne = vouch__realloc(r->ext_off, cap * sizeof *ne);
    if (ne) r->ext_off = ne;
    size_t *ns = vouch__realloc(r->src_off, cap * sizeof *ns);
    if (ns) r->src_off = ns;
    uint32_t *nb = vouch__realloc(r->bank_of, cap * sizeof *nb);
    if (nb) r->bank_of = nb;
    uint64_t *ni = vouch__realloc(r->entry_id, cap * sizeof *ni);
    if (ni) r->entry_id = ni;
    if (!nh || !ne || !ns || !nb || !ni) return VOUCH_E_NOMEM;
    r->cap = cap;
  }
  memcpy(r->hashes + r->n * r->hb, hash, r->hb);
  r->ext_off[r->n] = eo;
  r->src_off[r->n] = so;
  r->bank_of[r->n] = bank;
  r->entry_id[r->n] = entry_id;
  r->n++;
  return VOUCH_OK;
}

/* Writes the rows as an index of `algo` over the banks `bl`. */
static int rows_write(vouch_bank *b, const index_rows *r, int algo, const banklist *bl, const char *path,
                      uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count) {
  vouch_index_input *in = vouch__malloc((r->n ? r->n : 1) * sizeof *in);
  if (!in) return vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
  for (size_t i = 0; i < r->n; i++)
    in[i] = (vouch_index_input){.hash = r->hashes + i * r->hb, .bank = r->bank_of[i], .entry_id = r->entry_id[i],
                                .ext_id = r->sb.p + r->ext_off[i], .source = r->sb.p + r->src_off[i]};
  int rc = vouch_index_write(path, algo, (const char *const *)bl->names, (uint32_t)bl->n, in, r->n, root, b->errmsg,
                             sizeof b->errmsg);
  vouch__free(in);
  if (rc == VOUCH_OK && count) *count = r->n;
  return rc;
}

static void rows_free(index_rows *r) {
  vouch__free(r->hashes);
  vouch__free(r->ext_off);
  vouch__free(r->src_off);
  vouch__free(r->bank_of);
  vouch__free(r->entry_id);
  vouch__free(r->sb.p);
}

static int cmp_frame_hash(const void *a, const void *b) { return memcmp(a, b, VOUCH_PDQ_BYTES); }

/* The index of a vpdq bank's enabled videos: one PDQ entry per unique frame
 * (quality >= VOUCH_VPDQ_QUALITY_MIN) with the video's entry id, external
 * id and sources. */
static int build_video_index(vouch_bank *b, const banklist *bl, const char *path, uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                             size_t *count) {
  int rc = VOUCH_OK;
  vouch__stmt *st = NULL, *fs = NULL;
  index_rows rows = {.hb = VOUCH_PDQ_BYTES};
  if ((rc = vouch__bank_prepare(b,
                    "SELECT e.id, coalesce(e.ext_id, ''), " VOUCH__SQL_ENTRY_SOURCES
                    " FROM entries e WHERE e.bank_id = ? AND e.enabled <> 0"
                    " AND coalesce(e.disabled_until, 0) <= ? ORDER BY e.id",
                    &st)) ||
      (rc = vouch__bank_prepare(b, "SELECT hash FROM video_frames WHERE entry_id = ? AND quality >= ? ORDER BY hash", &fs)))
    goto done;
  const int64_t now = (int64_t)time(NULL);
  for (size_t k = 0; k < bl->n && rc == VOUCH_OK; k++) {
    vouch__bind_int64(st, 1, bl->ids[k]);
    vouch__bind_int64(st, 2, now);
    int src;
    while (rc == VOUCH_OK && (src = vouch__step(st)) == VOUCH__DB_ROW) {
      const int64_t eid = vouch__col_int64(st, 0);
      const char *ext = (const char *)vouch__col_text(st, 1), *srcs = (const char *)vouch__col_text(st, 2);
      if (!ext || !srcs || strlen(ext) > VOUCH_INDEX_MAX_STRING || strlen(srcs) > VOUCH_INDEX_MAX_STRING) {
        rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "video %lld: id or sources too long for an index", (long long)eid);
        break;
      }
      const size_t eo = sb_add(&rows.sb, ext), so = sb_add(&rows.sb, srcs);
      if (eo == SIZE_MAX || so == SIZE_MAX) {
        rc = vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
        break;
      }
      vouch__bind_int64(fs, 1, eid);
      vouch__bind_int64(fs, 2, VOUCH_VPDQ_QUALITY_MIN);
      int fsrc;
      /* frames come sorted by hash: a hash equal to the previous one of the
       * same video is not unique */
      const size_t first = rows.n;
      while ((fsrc = vouch__step(fs)) == VOUCH__DB_ROW) {
        const void *h = vouch__col_blob(fs, 0);
        if (!h || vouch__col_bytes(fs, 0) != (int)VOUCH_PDQ_BYTES) {
          rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "video %lld: a frame hash has the wrong size", (long long)eid);
          break;
        }
        if (rows.n > first && cmp_frame_hash(rows.hashes + (rows.n - 1) * VOUCH_PDQ_BYTES, h) == 0) continue;
        if (rows_push(&rows, h, eo, so, (uint32_t)k, (uint64_t)eid) != VOUCH_OK) {
          rc = vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
          break;
        }
      }
      if (rc == VOUCH_OK && fsrc != VOUCH__DB_DONE) rc = vouch__bank_dbfail(b, fsrc, "read frames");
      vouch__reset(fs);
    }
    if (rc == VOUCH_OK && src != VOUCH__DB_DONE) rc = vouch__bank_dbfail(b, src, "read videos");
    vouch__reset(st);
  }
  if (rc == VOUCH_OK) rc = rows_write(b, &rows, VOUCH_ALGO_PDQ, bl, path, root, count);
done:
  if (st) vouch__finalize(st);
  if (fs) vouch__finalize(fs);
  rows_free(&rows);
  return rc;
}

/* The index of the chosen banks (`names`, or all enabled ones), or with
 * `only` != VOUCH_ALGO_NONE of the enabled banks of that algorithm. */
static int build_index(vouch_bank *b, const char *const *names, size_t nnames, int only, const char *path,
                       uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count) {
  if (!b || !path || (nnames && !names))
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  int rc = VOUCH_OK, algo = VOUCH_ALGO_NONE;
  banklist bl = {0};
  index_rows rows = {0};
  vouch__stmt *st = NULL;
  /* the chosen banks: explicit (must exist; disabled ones contribute
   * nothing) or all enabled ones */
  if (nnames) {
    for (size_t i = 0; i < nnames; i++) {
      int64_t id;
      int a, en;
      if ((rc = vouch__bank_find(b, names[i], &id, &a, &en)))
        goto done;
      if (algo != VOUCH_ALGO_NONE && a != algo) {
        rc = vouch__bank_fail(b, VOUCH_E_ALGO_MISMATCH, "bank '%s' holds %s hashes, others %s", names[i],
                  vouch_algo_name(a), vouch_algo_name(algo));
        goto done;
      }
      algo = a;
      if (en && (rc = bl_push(&bl, id, names[i]))) {
        rc = vouch__bank_fail(b, rc, "out of memory");
        goto done;
      }
    }
  } else {
    if ((rc = vouch__bank_prepare(b, "SELECT id, name, algo FROM banks WHERE enabled <> 0 ORDER BY name", &st)))
      goto done;
    int src;
    while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
      const char *a = (const char *)vouch__col_text(st, 2);
      int al = vouch_bank_algo_from_name(a);
      const char *nm = (const char *)vouch__col_text(st, 1);
      if (al == VOUCH_ALGO_NONE || !nm) {
        rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "a bank row is malformed");
        goto done;
      }
      if (only != VOUCH_ALGO_NONE && al != only) continue;
      if (algo != VOUCH_ALGO_NONE && al != algo) {
        rc = vouch__bank_fail(b, VOUCH_E_ALGO_MISMATCH,
                  "enabled banks hold %s and %s hashes: build one index per algorithm (--algo, --out-dir)"
                  " or choose banks with --bank",
                  vouch_algo_name(algo), vouch_algo_name(al));
        goto done;
      }
      algo = al;
      if ((rc = bl_push(&bl, vouch__col_int64(st, 0), nm))) {
        rc = vouch__bank_fail(b, rc, "out of memory");
        goto done;
      }
    }
    if (src != VOUCH__DB_DONE) {
      rc = vouch__bank_dbfail(b, src, "list banks");
      goto done;
    }
    vouch__finalize(st);
    st = NULL;
  }
  const size_t nb = bl.n;
  int64_t *ids = bl.ids;
  if (algo == VOUCH_ALGO_NONE) /* no banks at all: an empty index (of PDQ when none is asked for) */
    algo = only != VOUCH_ALGO_NONE ? only : VOUCH_ALGO_PDQ;
  if (algo == VOUCH_ALGO_VPDQ) {
    rc = build_video_index(b, &bl, path, root, count);
    goto done;
  }
  const size_t hb = vouch_algo_list_bytes(algo);
  rows.hb = hb;
  /* entries disabled until a later time stay out (schema 3) */
  if ((rc = vouch__bank_prepare(b,
                    b->schema >= 3
                        ? "SELECT e.id, e.hash, coalesce(e.ext_id, ''), " VOUCH__SQL_ENTRY_SOURCES
                          " FROM entries e WHERE e.bank_id = ?1 AND e.enabled <> 0"
                          " AND coalesce(e.disabled_until, 0) <= ?2"
                        : "SELECT e.id, e.hash, coalesce(e.ext_id, ''), " VOUCH__SQL_ENTRY_SOURCES
                          " FROM entries e WHERE e.bank_id = ?1 AND e.enabled <> 0 AND ?2 IS NOT NULL",
                    &st)))
    goto done;
  for (size_t k = 0; k < nb; k++) {
    vouch__bind_int64(st, 1, ids[k]);
    vouch__bind_int64(st, 2, (int64_t)time(NULL));
    int src;
    while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
      const void *h = vouch__col_blob(st, 1);
      if (!h || (size_t)vouch__col_bytes(st, 1) != hb) {
        rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: hash has the wrong size",
                  (long long)vouch__col_int64(st, 0));
        goto done;
      }
      const char *ext = (const char *)vouch__col_text(st, 2);
      const char *srcs = (const char *)vouch__col_text(st, 3);
      if (!ext || !srcs || strlen(ext) > VOUCH_INDEX_MAX_STRING || strlen(srcs) > VOUCH_INDEX_MAX_STRING) {
        rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: id or sources too long for an index",
                  (long long)vouch__col_int64(st, 0));
        goto done;
      }
      const size_t eo = sb_add(&rows.sb, ext), so = sb_add(&rows.sb, srcs);
      if (eo == SIZE_MAX || so == SIZE_MAX ||
          rows_push(&rows, h, eo, so, (uint32_t)k, (uint64_t)vouch__col_int64(st, 0)) != VOUCH_OK) {
        rc = vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
        goto done;
      }
    }
    if (src != VOUCH__DB_DONE) {
      rc = vouch__bank_dbfail(b, src, "read entries");
      goto done;
    }
    vouch__reset(st);
  }
  rc = rows_write(b, &rows, algo, &bl, path, root, count);
done:
  if (st)
    vouch__finalize(st);
  for (size_t k = 0; k < bl.n; k++)
    vouch__free(bl.names[k]);
  vouch__free(bl.ids);
  vouch__free(bl.names);
  rows_free(&rows);
  return rc;
}


int vouch_bank_build_index(vouch_bank *b, const char *const *names, size_t nnames, const char *path,
                           uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count) {
  return build_index(b, names, nnames, VOUCH_ALGO_NONE, path, root, count);
}

/* build_index() from one consistent snapshot of a PostgreSQL database, with
 * its change counter in *seq (-1 on SQLite, which has no counter). */
static int build_index_seq(vouch_bank *b, const char *const *names, size_t nnames, int only, const char *path,
                           uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count, int64_t *seq) {
  if (seq) *seq = -1;
  if (!b || !b->db || !b->db->pg) return build_index(b, names, nnames, only, path, root, count);
  /* one snapshot for the counter and the rows */
  VOUCH_TRY(vouch__bank_exec(b, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  int64_t s = 0;
  int dbrc = vouch__pg_change_seq(b->db, &s);
  int rc = dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "change counter");
  if (rc == VOUCH_OK) rc = build_index(b, names, nnames, only, path, root, count);
  if (rc == VOUCH_OK) rc = vouch__bank_exec(b, "COMMIT");
  if (rc != VOUCH_OK) vouch__rollback(b->db);
  else if (seq) *seq = s;
  return rc;
}

int vouch_bank_build_index_seq(vouch_bank *b, const char *const *names, size_t nnames, const char *path,
                               uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count, int64_t *seq) {
  return build_index_seq(b, names, nnames, VOUCH_ALGO_NONE, path, root, count, seq);
}

int vouch_bank_build_index_algo(vouch_bank *b, int algo, const char *path, uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                                size_t *count, int64_t *seq) {
  if (seq) *seq = -1;
  if (algo == VOUCH_ALGO_NONE || vouch_bank_algo_from_name(vouch_algo_name(algo)) != algo)
    return VOUCH_E_INVALID;
  return build_index_seq(b, NULL, 0, algo, path, root, count, seq);
}

int vouch_bank_index_algos(vouch_bank *b, int *algos, size_t cap, size_t *n) {
  if (!b || !n || (cap && !algos)) return VOUCH_E_INVALID;
  *n = 0;
  b->errmsg[0] = 0;
  vouch__stmt *st = NULL;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT DISTINCT algo FROM banks WHERE enabled <> 0", &st));
  unsigned seen = 0; /* bit per VOUCH_ALGO_* */
  int src, rc = VOUCH_OK;
  while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
    const int al = vouch_bank_algo_from_name((const char *)vouch__col_text(st, 0));
    if (al <= VOUCH_ALGO_NONE || al >= 32) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "a bank row is malformed");
      break;
    }
    seen |= 1U << al;
  }
  if (rc == VOUCH_OK && src != VOUCH__DB_DONE) rc = vouch__bank_dbfail(b, src, "list banks");
  vouch__finalize(st);
  if (rc != VOUCH_OK) return rc;
  for (int al = 1; al < 32; al++) /* in the order of the VOUCH_ALGO_* values */
    if (seen & (1U << al)) {
      if (*n < cap) algos[*n] = al;
      ++*n;
    }
  return VOUCH_OK;
}
