/* src/bank/bank.c -- hash banks (see vouch/bank.h): opening a bank on its
 * storage backend (store.h: an SQLite file, or a postgresql:// URI), the
 * banks themselves, their entries, checkpoints and tombstones, and the CSV
 * export line.  Imports are in bank_import.c, stored signed lists in
 * bank_lists.c, videos in bank_video.c, index builds in bank_index.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "bank_db.h"
#include "vouch/video.h"


int vouch__bank_fail(vouch_bank *b, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b->errmsg, sizeof b->errmsg, fmt, ap);
  va_end(ap);
  return rc;
}

int vouch__bank_dbfail(vouch_bank *b, int dbrc, const char *what) {
  int rc = VOUCH_E_DB;
  if (dbrc == VOUCH__DB_CORRUPT)
    rc = VOUCH_E_DB_CORRUPT;
  else if (dbrc == VOUCH__DB_NOMEM)
    rc = VOUCH_E_NOMEM;
  else if (dbrc == VOUCH__DB_BUSY)
    rc = VOUCH_E_DB_BUSY;
  return vouch__bank_fail(b, rc, "%s: %s", what, b->db ? vouch__db_errmsg(b->db) : "no database");
}

int vouch__bank_exec(vouch_bank *b, const char *sql) {
  int dbrc = vouch__db_exec(b->db, sql);
  return dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "sql");
}

int vouch__bank_begin(vouch_bank *b) {
  int dbrc = vouch__begin(b->db);
  return dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "begin");
}

int vouch__bank_commit(vouch_bank *b) {
  int dbrc = vouch__commit(b->db);
  if (dbrc == VOUCH__DB_OK) return VOUCH_OK;
  int rc = vouch__bank_dbfail(b, dbrc, "commit");
  vouch__rollback(b->db);
  return rc;
}

int vouch__bank_prepare(vouch_bank *b, const char *sql, vouch__stmt **st) {
  int dbrc = vouch__db_prepare(b->db, sql, st);
  return dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "prepare");
}

int vouch_bank_open(vouch_bank **out, const char *path, unsigned flags) {
  if (!out)
    return VOUCH_E_INVALID;
  vouch_bank *b = vouch__calloc(1, sizeof *b);
  *out = b;
  if (!b)
    return VOUCH_E_NOMEM;
  if (!path)
    return vouch__bank_fail(b, VOUCH_E_INVALID, "no path");
  return vouch__store_is_pg(path) ? vouch__store_open_pg(path, flags, &b->db, &b->schema, b->errmsg, sizeof b->errmsg)
                                  : vouch__store_open_sqlite(path, flags, &b->db, &b->schema, b->errmsg,
                                                             sizeof b->errmsg);
}

void vouch_bank_free(vouch_bank *b) {
  if (!b)
    return;
  vouch__db_close(b->db);
  vouch__free(b);
}

const char *vouch_bank_errmsg(const vouch_bank *b) { return b ? b->errmsg : "no bank"; }

int vouch__bank_valid_name(const char *n) {
  size_t l = n ? strlen(n) : 0;
  if (l == 0 || l > VOUCH_BANK_NAME_MAX)
    return 0;
  for (size_t i = 0; i < l; i++) {
    unsigned char c = (unsigned char)n[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-' || c == ':' || c == '@'))
      return 0;
  }
  return 1;
}

/* Looks up a bank: id and algo.  VOUCH_E_NOT_FOUND if absent, DB_CORRUPT if
 * its algo is not one we know. */
int vouch__bank_find(vouch_bank *b, const char *name, int64_t *id, int *algo, int *enabled) {
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT id, algo, enabled FROM banks WHERE name = ?", &st));
  vouch__bind_text(st, 1, name, -1);
  int src = vouch__step(st), rc = VOUCH_OK;
  if (src == VOUCH__DB_ROW) {
    *id = vouch__col_int64(st, 0);
    const char *a = (const char *)vouch__col_text(st, 1);
    *algo = vouch_bank_algo_from_name(a);
    if (enabled) *enabled = vouch__col_int64(st, 2);
    if (*algo == VOUCH_ALGO_NONE)
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "bank '%s': unknown algorithm in the bank file", name);
  } else if (src == VOUCH__DB_DONE) {
    rc = vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no bank named '%s'", name);
  } else {
    rc = vouch__bank_dbfail(b, src, "bank lookup");
  }
  vouch__finalize(st);
  return rc;
}

int vouch_bank_algo_from_name(const char *name) {
  if (name && !strcasecmp(name, "vpdq")) return VOUCH_ALGO_VPDQ;
  const int d = vouch_digest_from_name(name);
  return d ? d : vouch_algo_from_name(name);
}

/* Bytes of an entry's hash: the algorithm's (a digest's included), or for a
 * video the SHA-256 of its vPDQ text. */
size_t vouch__bank_entry_hash_bytes(int algo) { return algo == VOUCH_ALGO_VPDQ ? 32U : vouch_algo_list_bytes(algo); }

int vouch_bank_create(vouch_bank *b, const char *name, int algo) {
  if (!b || !b->db)
    return VOUCH_E_INVALID;
  if (!vouch__bank_valid_name(name))
    return vouch__bank_fail(b, VOUCH_E_INVALID, "bad bank name '%s' (1..128 of A-Z a-z 0-9 . _ - : @)",
                name ? name : "");
  if (vouch__bank_entry_hash_bytes(algo) == 0)
    return vouch__bank_fail(b, VOUCH_E_INVALID, "unknown algorithm");
  if (algo == VOUCH_ALGO_VPDQ && b->schema < 3)
    return vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d opened read-only: no video banks", b->schema);
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "INSERT INTO banks(name, algo, enabled, created_at) VALUES(?, ?, 1, ?)", &st));
  vouch__bind_text(st, 1, name, -1);
  vouch__bind_text(st, 2, vouch_algo_name(algo), -1);
  vouch__bind_int64(st, 3, (int64_t)time(NULL));
  int src = vouch__step(st), rc = VOUCH_OK;
  if (src == VOUCH__DB_UNIQUE)
    rc = vouch__bank_fail(b, VOUCH_E_EXISTS, "a bank named '%s' already exists", name);
  else if (src != VOUCH__DB_DONE)
    rc = vouch__bank_dbfail(b, src, "create bank");
  vouch__finalize(st);
  return rc;
}

static int simple_update(vouch_bank *b, const char *sql, const char *name, int have_int, int v) {
  int64_t id;
  int algo;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, sql, &st));
  int k = 1;
  if (have_int)
    vouch__bind_int64(st, k++, v);
  vouch__bind_int64(st, k, id);
  int src = vouch__step(st);
  vouch__finalize(st);
  return src == VOUCH__DB_DONE ? VOUCH_OK : vouch__bank_dbfail(b, src, "update");
}

int vouch_bank_remove(vouch_bank *b, const char *name) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  return simple_update(b, "DELETE FROM banks WHERE id = ?", name, 0, 0);
}

int vouch_bank_rename(vouch_bank *b, const char *name, const char *new_name) {
  if (!b || !name || !new_name)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (!vouch__bank_valid_name(new_name))
    return vouch__bank_fail(b, VOUCH_E_INVALID, "bad bank name '%s' (1..128 of A-Z a-z 0-9 . _ - : @)", new_name);
  int64_t id;
  int algo;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  if (!strcmp(name, new_name))
    return VOUCH_OK;
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "UPDATE banks SET name = ? WHERE id = ?", &st));
  vouch__bind_text(st, 1, new_name, -1);
  vouch__bind_int64(st, 2, id);
  int src = vouch__step(st), rc = VOUCH_OK;
  if (src == VOUCH__DB_UNIQUE)
    rc = vouch__bank_fail(b, VOUCH_E_EXISTS, "a bank named '%s' already exists", new_name);
  else if (src != VOUCH__DB_DONE)
    rc = vouch__bank_dbfail(b, src, "rename bank");
  vouch__finalize(st);
  return rc;
}

int vouch_bank_set_enabled(vouch_bank *b, const char *name, int enabled) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  return simple_update(b, "UPDATE banks SET enabled = ? WHERE id = ?", name, 1, enabled != 0);
}

int vouch_bank_entry_set_enabled(vouch_bank *b, const char *name, int selector, const char *value,
                                 int enabled, size_t *changed) {
  if (!b || !name || !value)
    return VOUCH_E_INVALID;
  int64_t id;
  int algo;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  vouch__stmt *st;
  uint8_t h[VOUCH_HASH_MAX_BYTES];
  size_t hb = vouch__bank_entry_hash_bytes(algo);
  const char *sql;
  switch (selector) {
  case VOUCH_SELECT_ENTRY_ID: sql = "UPDATE entries SET enabled = ? WHERE bank_id = ? AND id = ?"; break;
  case VOUCH_SELECT_EXT_ID: sql = "UPDATE entries SET enabled = ? WHERE bank_id = ? AND ext_id = ?"; break;
  case VOUCH_SELECT_HASH:
    sql = "UPDATE entries SET enabled = ? WHERE bank_id = ? AND hash = ?";
    if (vouch_hash_from_hex(value, strlen(value), h, hb) != VOUCH_OK)
      return vouch__bank_fail(b, VOUCH_E_HASH_PARSE, "'%s' is not a %s hash", value, vouch_algo_name(algo));
    break;
  default: return vouch__bank_fail(b, VOUCH_E_INVALID, "bad selector");
  }
  VOUCH_TRY(vouch__bank_prepare(b, sql, &st));
  vouch__bind_int64(st, 1, enabled != 0);
  vouch__bind_int64(st, 2, id);
  if (selector == VOUCH_SELECT_ENTRY_ID) {
    char *end;
    long long v = strtoll(value, &end, 10);
    if (*value == 0 || *end != 0) {
      vouch__finalize(st);
      return vouch__bank_fail(b, VOUCH_E_INVALID, "'%s' is not an entry number", value);
    }
    vouch__bind_int64(st, 3, v);
  } else if (selector == VOUCH_SELECT_EXT_ID) {
    vouch__bind_text(st, 3, value, -1);
  } else {
    vouch__bind_blob(st, 3, h, (int)hb);
  }
  int src = vouch__step(st);
  vouch__finalize(st);
  if (src != VOUCH__DB_DONE)
    return vouch__bank_dbfail(b, src, "update entry");
  size_t n = (size_t)vouch__changes(b->db);
  if (changed)
    *changed = n;
  if (n == 0)
    return vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no entry '%s' in bank '%s'", value, name);
  return VOUCH_OK;
}

int vouch_bank_set_radius(vouch_bank *b, const char *name, int radius) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 3)
    return vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no bank radius", b->schema);
  int64_t id;
  int algo;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  if (radius < -1 || radius > (int)vouch_algo_bytes(algo) * 8)
    return vouch__bank_fail(b, VOUCH_E_INVALID, "radius %d: %s hashes have %zu bits", radius, vouch_algo_name(algo),
                vouch_algo_bytes(algo) * 8);
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "UPDATE banks SET radius = ? WHERE id = ?", &st));
  if (radius >= 0)
    vouch__bind_int64(st, 1, radius);
  else
    vouch__bind_null(st, 1);
  vouch__bind_int64(st, 2, id);
  int src = vouch__step(st);
  vouch__finalize(st);
  return src == VOUCH__DB_DONE ? VOUCH_OK : vouch__bank_dbfail(b, src, "set radius");
}

int vouch_bank_entry_disable_until(vouch_bank *b, const char *name, int selector, const char *value,
                                   int64_t until, size_t *changed) {
  if (!b || !name || !value || until < 0)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 3)
    return vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no disable-until", b->schema);
  int64_t id;
  int algo;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  const char *col = selector == VOUCH_SELECT_ENTRY_ID ? "id" : selector == VOUCH_SELECT_EXT_ID ? "ext_id"
                  : selector == VOUCH_SELECT_HASH     ? "hash" : NULL;
  if (!col)
    return vouch__bank_fail(b, VOUCH_E_INVALID, "bad selector");
  uint8_t h[VOUCH_HASH_MAX_BYTES];
  size_t hb = vouch__bank_entry_hash_bytes(algo);
  if (selector == VOUCH_SELECT_HASH && vouch_hash_from_hex(value, strlen(value), h, hb) != VOUCH_OK)
    return vouch__bank_fail(b, VOUCH_E_HASH_PARSE, "'%s' is not a %s hash", value, vouch_algo_name(algo));
  char *end = NULL;
  long long num = selector == VOUCH_SELECT_ENTRY_ID ? strtoll(value, &end, 10) : 0;
  if (selector == VOUCH_SELECT_ENTRY_ID && (*value == 0 || *end != 0))
    return vouch__bank_fail(b, VOUCH_E_INVALID, "'%s' is not an entry number", value);
  char sql[128];
  snprintf(sql, sizeof sql, "UPDATE entries SET disabled_until = ? WHERE bank_id = ? AND %s = ?", col);
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, sql, &st));
  if (until)
    vouch__bind_int64(st, 1, until);
  else
    vouch__bind_null(st, 1);
  vouch__bind_int64(st, 2, id);
  if (selector == VOUCH_SELECT_ENTRY_ID) vouch__bind_int64(st, 3, num);
  else if (selector == VOUCH_SELECT_EXT_ID) vouch__bind_text(st, 3, value, -1);
  else vouch__bind_blob(st, 3, h, (int)hb);
  int src = vouch__step(st);
  vouch__finalize(st);
  if (src != VOUCH__DB_DONE)
    return vouch__bank_dbfail(b, src, "disable until");
  size_t n = (size_t)vouch__changes(b->db);
  if (changed)
    *changed = n;
  return n ? VOUCH_OK : vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no entry '%s' in bank '%s'", value, name);
}

int vouch_bank_list(vouch_bank *b, const char *name, vouch_bank_info_cb cb, void *ctx) {
  if (!b || !cb)
    return VOUCH_E_INVALID;
  if (name) {
    int64_t id;
    int algo;
    VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  }
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b,
                    b->schema >= 3
                        ? "SELECT b.id, b.name, b.algo, b.enabled, b.created_at,"
                          " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id),"
                          " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id AND e.enabled <> 0),"
                          " coalesce(b.radius, -1)"
                          " FROM banks b WHERE CAST(?1 AS TEXT) IS NULL OR b.name = ?1 ORDER BY b.name"
                        : "SELECT b.id, b.name, b.algo, b.enabled, b.created_at,"
                          " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id),"
                          " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id AND e.enabled <> 0), -1"
                          " FROM banks b WHERE CAST(?1 AS TEXT) IS NULL OR b.name = ?1 ORDER BY b.name",
                    &st));
  if (name)
    vouch__bind_text(st, 1, name, -1);
  int src, rc = VOUCH_OK;
  while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
    vouch_bank_info in;
    in.id = vouch__col_int64(st, 0);
    in.name = (const char *)vouch__col_text(st, 1);
    const char *a = (const char *)vouch__col_text(st, 2);
    in.algo = vouch_bank_algo_from_name(a);
    in.enabled = vouch__col_int64(st, 3);
    in.created_at = vouch__col_int64(st, 4);
    in.entries = (uint64_t)vouch__col_int64(st, 5);
    in.enabled_entries = (uint64_t)vouch__col_int64(st, 6);
    int64_t r = vouch__col_int64(st, 7);
    in.radius = r >= 0 && r <= (int64_t)vouch_algo_bytes(in.algo) * 8 ? (int)r : -1;
    if (!in.name || in.algo == VOUCH_ALGO_NONE) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "a bank row is malformed");
      break;
    }
    if ((rc = cb(ctx, &in)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != VOUCH__DB_DONE && src != VOUCH__DB_ROW)
    rc = vouch__bank_dbfail(b, src, "list banks");
  vouch__finalize(st);
  return rc;
}

/* The entry columns each_entry() reads; an unmigrated read-only file has no
 * disabled_until (before 3) or second (before 4) column. */
static int prepare_entries(vouch_bank *b, const char *where, vouch__stmt **st) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT e.id, e.hash, e.ext_id, e.tags, e.enabled, e.added_at,"
           " (SELECT group_concat(source, ',') FROM"
           "   (SELECT source FROM entry_sources s WHERE s.entry_id = e.id ORDER BY source) AS srt), %s, %s"
           " FROM entries e WHERE %s",
           b->schema >= 3 ? "coalesce(e.disabled_until, 0)" : "0", b->schema >= 4 ? "e.second" : "NULL", where);
  return vouch__bank_prepare(b, sql, st);
}

/* Steps a prepare_entries() statement, calling cb for each row. */
static int each_entry(vouch_bank *b, vouch__stmt *st, int algo, vouch_bank_entry_cb cb, void *ctx) {
  size_t hb = vouch__bank_entry_hash_bytes(algo);
  int src, rc = VOUCH_OK;
  while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
    vouch_bank_entry e;
    e.id = vouch__col_int64(st, 0);
    e.hash = vouch__col_blob(st, 1);
    e.hash_bytes = (size_t)vouch__col_bytes(st, 1);
    e.ext_id = (const char *)vouch__col_text(st, 2);
    e.tags = (const char *)vouch__col_text(st, 3);
    e.enabled = vouch__col_int64(st, 4);
    e.added_at = vouch__col_int64(st, 5);
    e.sources = (const char *)vouch__col_text(st, 6);
    e.disabled_until = vouch__col_int64(st, 7);
    e.second = vouch__col_blob(st, 8);
    if (!e.hash || e.hash_bytes != hb) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: hash of %zu bytes in a %s bank",
                (long long)e.id, e.hash_bytes, vouch_algo_name(algo));
      break;
    }
    if (e.second && ((size_t)vouch__col_bytes(st, 8) != VOUCH_DERIV_HASH_BYTES || e.second[0] != VOUCH_DERIV_HASH_VERSION)) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: its second hash is not a version-%u one of %u bytes",
                            (long long)e.id, VOUCH_DERIV_HASH_VERSION, VOUCH_DERIV_HASH_BYTES);
      break;
    }
    if ((rc = cb(ctx, &e)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != VOUCH__DB_DONE && src != VOUCH__DB_ROW)
    rc = vouch__bank_dbfail(b, src, "read entries");
  vouch__finalize(st);
  return rc;
}

int vouch_bank_entries(vouch_bank *b, const char *name, vouch_bank_entry_cb cb, void *ctx) {
  if (!b || !name || !cb)
    return VOUCH_E_INVALID;
  int64_t id = 0;
  int algo = VOUCH_ALGO_NONE;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  vouch__stmt *st;
  VOUCH_TRY(prepare_entries(b, "e.bank_id = ? ORDER BY e.hash", &st));
  vouch__bind_int64(st, 1, id);
  return each_entry(b, st, algo, cb, ctx);
}

int vouch_bank_entry_get(vouch_bank *b, int64_t entry_id, vouch_bank_entry_cb cb, void *ctx) {
  if (!b || !cb)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT b.algo FROM entries e JOIN banks b ON b.id = e.bank_id WHERE e.id = ?", &st));
  vouch__bind_int64(st, 1, entry_id);
  int src = vouch__step(st);
  const char *a = src == VOUCH__DB_ROW ? (const char *)vouch__col_text(st, 0) : NULL;
  int algo = a ? vouch_bank_algo_from_name(a) : VOUCH_ALGO_NONE;
  vouch__finalize(st);
  if (src == VOUCH__DB_DONE)
    return vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no entry %lld", (long long)entry_id);
  if (src != VOUCH__DB_ROW)
    return vouch__bank_dbfail(b, src, "find entry");
  if (algo == VOUCH_ALGO_NONE)
    return vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: its bank has an unknown algorithm", (long long)entry_id);
  VOUCH_TRY(prepare_entries(b, "e.id = ?", &st));
  vouch__bind_int64(st, 1, entry_id);
  return each_entry(b, st, algo, cb, ctx);
}

int vouch_bank_checkpoint(vouch_bank *b, const char *name, const char *source, vouch_list_page *out,
                          int64_t *updated_at) {
  if (!b || !name || !out)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  memset(out, 0, sizeof *out);
  int64_t id;
  int algo;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  if (b->schema < 3)
    return vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "bank '%s' holds no checkpoints", name);
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT checkpoint, next, updated_at FROM checkpoints WHERE bank_id = ? AND source = ?", &st));
  vouch__bind_int64(st, 1, id);
  vouch__bind_text(st, 2, source ? source : "", -1);
  int src = vouch__step(st), rc = VOUCH_OK;
  if (src == VOUCH__DB_ROW) {
    const char *cp = (const char *)vouch__col_text(st, 0), *nx = (const char *)vouch__col_text(st, 1);
    snprintf(out->checkpoint, sizeof out->checkpoint, "%s", cp ? cp : "");
    snprintf(out->next, sizeof out->next, "%s", nx ? nx : "");
    if (updated_at) *updated_at = vouch__col_int64(st, 2);
  } else if (src == VOUCH__DB_DONE) {
    rc = vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "bank '%s' has no checkpoint for source '%s'", name, source ? source : "");
  } else {
    rc = vouch__bank_dbfail(b, src, "read checkpoint");
  }
  vouch__finalize(st);
  return rc;
}

int vouch_bank_tombstones(vouch_bank *b, const char *name, vouch_bank_tombstone_cb cb, void *ctx) {
  if (!b || !name || !cb)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  int64_t id;
  int algo;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &algo, NULL));
  if (b->schema < 3)
    return VOUCH_OK;
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT hash, ext_id, source, at FROM tombstones WHERE bank_id = ? ORDER BY id", &st));
  vouch__bind_int64(st, 1, id);
  int src, rc = VOUCH_OK;
  size_t hb = vouch_algo_list_bytes(algo);
  while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
    vouch_bank_tombstone t;
    t.hash = vouch__col_blob(st, 0);
    t.hash_bytes = (size_t)vouch__col_bytes(st, 0);
    t.ext_id = (const char *)vouch__col_text(st, 1);
    t.source = (const char *)vouch__col_text(st, 2);
    t.at = vouch__col_int64(st, 3);
    if (t.hash && t.hash_bytes != hb) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "a tombstone of bank '%s' has a hash of %zu bytes", name, t.hash_bytes);
      break;
    }
    if ((rc = cb(ctx, &t)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != VOUCH__DB_DONE && src != VOUCH__DB_ROW)
    rc = vouch__bank_dbfail(b, src, "read tombstones");
  vouch__finalize(st);
  return rc;
}

/* CSV field: quoted when it holds a comma, quote or line break. */
static size_t csv_field(char *out, size_t cap, size_t w, const char *s) {
  if (!s)
    return w;
  int q = strpbrk(s, ",\"\r\n") != NULL;
  if (q && w < cap) out[w] = '"';
  w += q;
  for (; *s; s++) {
    if (*s == '"') {
      if (w < cap) out[w] = '"';
      w++;
    }
    if (w < cap) out[w] = *s;
    w++;
  }
  if (q && w < cap) out[w] = '"';
  return w + q;
}

size_t vouch_bank_entry_csv(const vouch_bank_entry *e, char *out, size_t cap) {
  char hex[VOUCH_HASH_HEX_BYTES], tail[96 + 2 * VOUCH_DERIV_HASH_BYTES], sec[2 * VOUCH_DERIV_HASH_BYTES + 1];
  if (!e || !e->hash || vouch_hash_to_hex(e->hash, e->hash_bytes, hex, sizeof hex) != VOUCH_OK)
    return 0;
  if (!out) cap = 0;
  size_t w = csv_field(out, cap, 0, hex);
  const char *cols[3] = {e->ext_id, e->sources, e->tags};
  for (int i = 0; i < 3; i++) {
    if (w < cap) out[w] = ',';
    w = csv_field(out, cap, w + 1, cols[i]);
  }
  sec[0] = 0;
  if (e->second && vouch_hash_to_hex(e->second, VOUCH_DERIV_HASH_BYTES, sec, sizeof sec) != VOUCH_OK)
    return 0;
  int n = snprintf(tail, sizeof tail, ",%d,%lld,%lld,%s\n", e->enabled ? 1 : 0, (long long)e->added_at,
                   (long long)e->id, sec);
  for (int i = 0; i < n; i++, w++)
    if (w < cap) out[w] = tail[i];
  if (cap) out[w < cap ? w : cap - 1] = 0;
  return w;
}

void vouch_bank_path_redacted(const char *path, char *out, size_t cap) {
  if (!out || cap == 0)
    return;
  out[0] = 0;
  if (!path)
    return;
  const size_t skip = !strncmp(path, "postgresql://", 13) ? 13 : !strncmp(path, "postgres://", 11) ? 11 : 0;
  size_t n = 0;
  const char *p = path;
#define PUT(c)                                                                                                   \
  do {                                                                                                           \
    if (n + 1 < cap)                                                                                             \
      out[n++] = (c);                                                                                            \
  } while (0)
  if (skip) {
    /* userinfo: scheme://user:PASSWORD@host..., the last '@' before the path */
    const char *auth = path + skip, *end = auth + strcspn(auth, "/?#"), *at = NULL;
    for (const char *q = auth; q < end; q++)
      if (*q == '@')
        at = q;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    for (; *p; p++) {
      if (colon && p == colon + 1) {
        PUT('*');
        PUT('*');
        PUT('*');
        p = at - 1;
        continue;
      }
      /* ?...&password=VALUE */
      if (p > end && (p[-1] == '?' || p[-1] == '&') && !strncmp(p, "password=", 9)) {
        for (const char *k = "password=***"; *k; k++)
          PUT(*k);
        p += 9 + strcspn(p + 9, "&#") - 1;
        continue;
      }
      PUT(*p);
    }
  } else {
    for (; *p; p++)
      PUT(*p);
  }
#undef PUT
  out[n] = 0;
}
