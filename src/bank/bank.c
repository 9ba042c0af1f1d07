/* src/bank/bank.c -- hash banks in SQLite (see vouch/bank.h).
 *
 * Schema (version 1, PRAGMA user_version; application_id 'VCHB'):
 *   banks(id, name UNIQUE, algo, enabled, created_at)
 *   entries(id, bank_id -> banks ON DELETE CASCADE, hash BLOB, ext_id, tags,
 *           enabled, added_at, UNIQUE(bank_id, hash))
 *   entry_sources(entry_id -> entries ON DELETE CASCADE, source, PK both)
 * WAL journal, foreign keys on.  An import is one IMMEDIATE transaction, so
 * a killed import leaves the bank exactly as it was (SQLite rolls back the
 * unfinished WAL frames on the next open). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "vouch/bank.h"
#include "vouch/index.h"
#include "common/internal.h"

#define BANK_APP_ID 0x56434842 /* 'VCHB' */
#define BANK_ERRMSG_CAP 512U

struct vouch_bank {
  sqlite3 *db;
  char errmsg[BANK_ERRMSG_CAP];
};

static int fail(vouch_bank *b, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(vouch_bank *b, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b->errmsg, sizeof b->errmsg, fmt, ap);
  va_end(ap);
  return rc;
}

/* Maps an SQLite failure to our codes, keeping SQLite's message. */
static int sqlfail(vouch_bank *b, int src, const char *what) {
  int rc = VOUCH_E_DB;
  int prim = src & 0xff;
  if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
    rc = VOUCH_E_DB_CORRUPT;
  else if (prim == SQLITE_NOMEM)
    rc = VOUCH_E_NOMEM;
  return fail(b, rc, "%s: %s", what, b->db ? sqlite3_errmsg(b->db) : sqlite3_errstr(src));
}

static int exec(vouch_bank *b, const char *sql) {
  char *e = NULL;
  int src = sqlite3_exec(b->db, sql, NULL, NULL, &e);
  if (src != SQLITE_OK) {
    int rc = sqlfail(b, src, e ? e : "sql");
    sqlite3_free(e);
    return rc;
  }
  return VOUCH_OK;
}

static int prepare(vouch_bank *b, const char *sql, sqlite3_stmt **st) {
  int src = sqlite3_prepare_v2(b->db, sql, -1, st, NULL);
  return src == SQLITE_OK ? VOUCH_OK : sqlfail(b, src, "prepare");
}

static const char *const schema =
    "CREATE TABLE banks("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " algo TEXT NOT NULL,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE entries("
    " id INTEGER PRIMARY KEY,"
    " bank_id INTEGER NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " hash BLOB NOT NULL,"
    " ext_id TEXT,"
    " tags TEXT,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " added_at INTEGER NOT NULL,"
    " UNIQUE(bank_id, hash));"
    "CREATE TABLE entry_sources("
    " entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " source TEXT NOT NULL,"
    " PRIMARY KEY(entry_id, source)) WITHOUT ROWID;"
    "CREATE INDEX entries_ext ON entries(bank_id, ext_id);";

int vouch_bank_open(vouch_bank **out, const char *path, unsigned flags) {
  if (!out)
    return VOUCH_E_INVALID;
  vouch_bank *b = vouch__calloc(1, sizeof *b);
  *out = b;
  if (!b)
    return VOUCH_E_NOMEM;
  if (!path)
    return fail(b, VOUCH_E_INVALID, "no path");
  int exists = access(path, F_OK) == 0;
  if (!exists && !(flags & VOUCH_BANK_OPEN_CREATE))
    return fail(b, VOUCH_E_NOT_FOUND, "%s: no such bank file (create one with 'vouch bank create')", path);
  int oflags = (flags & VOUCH_BANK_OPEN_READONLY) ? SQLITE_OPEN_READONLY
                                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int src = sqlite3_open_v2(path, &b->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
  if (src != SQLITE_OK)
    return sqlfail(b, src, path);
  sqlite3_extended_result_codes(b->db, 1);
  sqlite3_busy_timeout(b->db, 5000);
  /* Defensive settings: the file is untrusted. */
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
  sqlite3_db_config(b->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
  VOUCH_TRY(exec(b, "PRAGMA foreign_keys=ON"));
  sqlite3_stmt *st = NULL;
  VOUCH_TRY(prepare(b, "PRAGMA user_version", &st));
  src = sqlite3_step(st);
  int version = src == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  if (src != SQLITE_ROW)
    return sqlfail(b, src, path);
  VOUCH_TRY(prepare(b, "PRAGMA application_id", &st));
  src = sqlite3_step(st);
  int app = src == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  if (version == 0 && app == 0) {
    /* empty database: only ours if it has no tables at all */
    VOUCH_TRY(prepare(b, "SELECT count(*) FROM sqlite_schema", &st));
    src = sqlite3_step(st);
    int ntab = src == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (ntab != 0)
      return fail(b, VOUCH_E_DB_CORRUPT, "%s: an SQLite file, but not a vouch bank", path);
    if (flags & VOUCH_BANK_OPEN_READONLY)
      return fail(b, VOUCH_E_NOT_FOUND, "%s: empty file, not a bank", path);
    VOUCH_TRY(exec(b, "PRAGMA journal_mode=WAL"));
    VOUCH_TRY(exec(b, "BEGIN IMMEDIATE"));
    int rc = exec(b, schema);
    if (rc == VOUCH_OK) rc = exec(b, "PRAGMA application_id=1447249986; PRAGMA user_version=1");
    if (rc == VOUCH_OK) rc = exec(b, "COMMIT");
    if (rc != VOUCH_OK) {
      (void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
      return rc;
    }
    return VOUCH_OK;
  }
  if (app != BANK_APP_ID)
    return fail(b, VOUCH_E_DB_CORRUPT, "%s: an SQLite file, but not a vouch bank", path);
  if (version != VOUCH_BANK_SCHEMA_VERSION)
    return fail(b, VOUCH_E_DB_VERSION, "%s: bank schema version %d, this build reads %d", path,
                version, VOUCH_BANK_SCHEMA_VERSION);
  if (!(flags & VOUCH_BANK_OPEN_READONLY))
    VOUCH_TRY(exec(b, "PRAGMA journal_mode=WAL"));
  return VOUCH_OK;
}

void vouch_bank_free(vouch_bank *b) {
  if (!b)
    return;
  if (b->db)
    sqlite3_close_v2(b->db);
  vouch__free(b);
}

const char *vouch_bank_errmsg(const vouch_bank *b) { return b ? b->errmsg : "no bank"; }

static int valid_name(const char *n) {
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
static int find_bank(vouch_bank *b, const char *name, int64_t *id, int *algo, int *enabled) {
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, "SELECT id, algo, enabled FROM banks WHERE name = ?", &st));
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int src = sqlite3_step(st), rc = VOUCH_OK;
  if (src == SQLITE_ROW) {
    *id = sqlite3_column_int64(st, 0);
    const char *a = (const char *)sqlite3_column_text(st, 1);
    *algo = a ? vouch_algo_from_name(a) : VOUCH_ALGO_NONE;
    if (enabled) *enabled = sqlite3_column_int(st, 2);
    if (*algo == VOUCH_ALGO_NONE)
      rc = fail(b, VOUCH_E_DB_CORRUPT, "bank '%s': unknown algorithm in the bank file", name);
  } else if (src == SQLITE_DONE) {
    rc = fail(b, VOUCH_E_NOT_FOUND, "no bank named '%s'", name);
  } else {
    rc = sqlfail(b, src, "bank lookup");
  }
  sqlite3_finalize(st);
  return rc;
}

int vouch_bank_create(vouch_bank *b, const char *name, int algo) {
  if (!b || !b->db)
    return VOUCH_E_INVALID;
  if (!valid_name(name))
    return fail(b, VOUCH_E_INVALID, "bad bank name '%s' (1..128 of A-Z a-z 0-9 . _ - : @)",
                name ? name : "");
  if (vouch_algo_bytes(algo) == 0)
    return fail(b, VOUCH_E_INVALID, "unknown algorithm");
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, "INSERT INTO banks(name, algo, enabled, created_at) VALUES(?, ?, 1, ?)", &st));
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, vouch_algo_name(algo), -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
  int src = sqlite3_step(st), rc = VOUCH_OK;
  if (src == SQLITE_CONSTRAINT_UNIQUE)
    rc = fail(b, VOUCH_E_EXISTS, "a bank named '%s' already exists", name);
  else if (src != SQLITE_DONE)
    rc = sqlfail(b, src, "create bank");
  sqlite3_finalize(st);
  return rc;
}

static int simple_update(vouch_bank *b, const char *sql, const char *name, int have_int, int v) {
  int64_t id;
  int algo;
  VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, sql, &st));
  int k = 1;
  if (have_int)
    sqlite3_bind_int(st, k++, v);
  sqlite3_bind_int64(st, k, id);
  int src = sqlite3_step(st);
  sqlite3_finalize(st);
  return src == SQLITE_DONE ? VOUCH_OK : sqlfail(b, src, "update");
}

int vouch_bank_remove(vouch_bank *b, const char *name) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  return simple_update(b, "DELETE FROM banks WHERE id = ?", name, 0, 0);
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
  VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  sqlite3_stmt *st;
  uint8_t h[VOUCH_HASH_MAX_BYTES];
  size_t hb = vouch_algo_bytes(algo);
  const char *sql;
  switch (selector) {
  case VOUCH_SELECT_ENTRY_ID: sql = "UPDATE entries SET enabled = ? WHERE bank_id = ? AND id = ?"; break;
  case VOUCH_SELECT_EXT_ID: sql = "UPDATE entries SET enabled = ? WHERE bank_id = ? AND ext_id = ?"; break;
  case VOUCH_SELECT_HASH:
    sql = "UPDATE entries SET enabled = ? WHERE bank_id = ? AND hash = ?";
    if (vouch_hash_from_hex(value, strlen(value), h, hb) != VOUCH_OK)
      return fail(b, VOUCH_E_HASH_PARSE, "'%s' is not a %s hash", value, vouch_algo_name(algo));
    break;
  default: return fail(b, VOUCH_E_INVALID, "bad selector");
  }
  VOUCH_TRY(prepare(b, sql, &st));
  sqlite3_bind_int(st, 1, enabled != 0);
  sqlite3_bind_int64(st, 2, id);
  if (selector == VOUCH_SELECT_ENTRY_ID) {
    char *end;
    long long v = strtoll(value, &end, 10);
    if (*value == 0 || *end != 0) {
      sqlite3_finalize(st);
      return fail(b, VOUCH_E_INVALID, "'%s' is not an entry number", value);
    }
    sqlite3_bind_int64(st, 3, v);
  } else if (selector == VOUCH_SELECT_EXT_ID) {
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
  } else {
    sqlite3_bind_blob(st, 3, h, (int)hb, SQLITE_STATIC);
  }
  int src = sqlite3_step(st);
  sqlite3_finalize(st);
  if (src != SQLITE_DONE)
    return sqlfail(b, src, "update entry");
  size_t n = (size_t)sqlite3_changes(b->db);
  if (changed)
    *changed = n;
  if (n == 0)
    return fail(b, VOUCH_E_NOT_FOUND, "no entry '%s' in bank '%s'", value, name);
  return VOUCH_OK;
}

int vouch_bank_list(vouch_bank *b, const char *name, vouch_bank_info_cb cb, void *ctx) {
  if (!b || !cb)
    return VOUCH_E_INVALID;
  if (name) {
    int64_t id;
    int algo;
    VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  }
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b,
                    "SELECT b.id, b.name, b.algo, b.enabled, b.created_at,"
                    " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id),"
                    " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id AND e.enabled)"
                    " FROM banks b WHERE ?1 IS NULL OR b.name = ?1 ORDER BY b.name",
                    &st));
  if (name)
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int src, rc = VOUCH_OK;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    vouch_bank_info in;
    in.id = sqlite3_column_int64(st, 0);
    in.name = (const char *)sqlite3_column_text(st, 1);
    const char *a = (const char *)sqlite3_column_text(st, 2);
    in.algo = a ? vouch_algo_from_name(a) : VOUCH_ALGO_NONE;
    in.enabled = sqlite3_column_int(st, 3);
    in.created_at = sqlite3_column_int64(st, 4);
    in.entries = (uint64_t)sqlite3_column_int64(st, 5);
    in.enabled_entries = (uint64_t)sqlite3_column_int64(st, 6);
    if (!in.name || in.algo == VOUCH_ALGO_NONE) {
      rc = fail(b, VOUCH_E_DB_CORRUPT, "a bank row is malformed");
      break;
    }
    if ((rc = cb(ctx, &in)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != SQLITE_DONE && src != SQLITE_ROW)
    rc = sqlfail(b, src, "list banks");
  sqlite3_finalize(st);
  return rc;
}

static const char *const entry_sql =
    "SELECT e.id, e.hash, e.ext_id, e.tags, e.enabled, e.added_at,"
    " (SELECT group_concat(source, ',') FROM"
    "   (SELECT source FROM entry_sources s WHERE s.entry_id = e.id ORDER BY source))"
    " FROM entries e WHERE e.bank_id = ? ORDER BY e.hash";

int vouch_bank_entries(vouch_bank *b, const char *name, vouch_bank_entry_cb cb, void *ctx) {
  if (!b || !name || !cb)
    return VOUCH_E_INVALID;
  int64_t id;
  int algo;
  VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  size_t hb = vouch_algo_bytes(algo);
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, entry_sql, &st));
  sqlite3_bind_int64(st, 1, id);
  int src, rc = VOUCH_OK;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    vouch_bank_entry e;
    e.id = sqlite3_column_int64(st, 0);
    e.hash = sqlite3_column_blob(st, 1);
    e.hash_bytes = (size_t)sqlite3_column_bytes(st, 1);
    e.ext_id = (const char *)sqlite3_column_text(st, 2);
    e.tags = (const char *)sqlite3_column_text(st, 3);
    e.enabled = sqlite3_column_int(st, 4);
    e.added_at = sqlite3_column_int64(st, 5);
    e.sources = (const char *)sqlite3_column_text(st, 6);
    if (!e.hash || e.hash_bytes != hb) {
      rc = fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: hash of %zu bytes in a %s bank",
                (long long)e.id, e.hash_bytes, vouch_algo_name(algo));
      break;
    }
    if ((rc = cb(ctx, &e)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != SQLITE_DONE && src != SQLITE_ROW)
    rc = sqlfail(b, src, "read entries");
  sqlite3_finalize(st);
  return rc;
}

/* ------------------------------------------------------------ import */

/* Parsed lines are collected first and inserted in hash order: inserting
 * into the (bank_id, hash) B-tree in key order touches each page once, which
 * is several times faster than random order for big lists.  The sort is
 * stable (by line), so the first line of a duplicate still wins. */
typedef struct pending {
  uint8_t hash[VOUCH_HASH_MAX_BYTES];
  size_t line;
  size_t ext, src, tags; /* offsets into the string buffer, SIZE_MAX = none */
} pending;

typedef struct import_ctx {
  pending *items;
  size_t n, cap;
  char *str;
  size_t str_len, str_cap;
  vouch_bank *b;
  int64_t bank_id;
  size_t hb;
  const vouch_import_opts *o;
  vouch_import_stats *stats;
  sqlite3_stmt *ins, *sel, *fill, *src;
  int64_t now;
} import_ctx;

static int import_error(void *vctx, size_t line, const char *msg) {
  import_ctx *c = vctx;
  c->stats->bad++;
  if (c->o->error)
    (void)c->o->error(c->o->error_ctx, line, msg);
  if (c->o->strict) {
    fail(c->b, VOUCH_E_HASH_PARSE, "line %zu: %s (strict: nothing imported)", line, msg);
    return 1;
  }
  return 0;
}

static int step_done(import_ctx *c, sqlite3_stmt *st, const char *what) {
  int src = sqlite3_step(st);
  sqlite3_reset(st);
  if (src != SQLITE_DONE && src != SQLITE_ROW)
    return sqlfail(c->b, src, what);
  return VOUCH_OK;
}


static size_t keep_str(import_ctx *c, const char *s) {
  if (!s)
    return SIZE_MAX;
  size_t l = strlen(s) + 1;
  if (c->str_len + l > c->str_cap) {
    size_t nc = c->str_cap ? c->str_cap : 1 << 16;
    while (nc < c->str_len + l) nc *= 2;
    char *np = vouch__realloc(c->str, nc);
    if (!np) return SIZE_MAX - 1;
    c->str = np;
    c->str_cap = nc;
  }
  memcpy(c->str + c->str_len, s, l);
  c->str_len += l;
  return c->str_len - l;
}

static int collect_item(void *vctx, const vouch_list_item *it) {
  import_ctx *c = vctx;
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 4096;
    pending *np = vouch__realloc(c->items, nc * sizeof *np);
    if (!np) return fail(c->b, VOUCH_E_NOMEM, "out of memory");
    c->items = np;
    c->cap = nc;
  }
  pending *p = &c->items[c->n];
  memset(p->hash, 0, sizeof p->hash);
  memcpy(p->hash, it->hash, c->hb);
  p->line = it->line;
  p->ext = keep_str(c, it->ext_id);
  p->src = keep_str(c, it->source);
  p->tags = keep_str(c, it->tags);
  if (p->ext == SIZE_MAX - 1 || p->src == SIZE_MAX - 1 || p->tags == SIZE_MAX - 1)
    return fail(c->b, VOUCH_E_NOMEM, "out of memory");
  c->n++;
  return 0;
}

/* hashes are zero-padded to VOUCH_HASH_MAX_BYTES, so no length is needed */
static int cmp_pending(const void *pa, const void *pb) {
  const pending *a = pa, *b = pb;
  int r = memcmp(a->hash, b->hash, VOUCH_HASH_MAX_BYTES);
  if (r) return r;
  return a->line < b->line ? -1 : a->line > b->line;
}

static int insert_item(import_ctx *c, const vouch_list_item *it) {
  int64_t eid;
  sqlite3_bind_int64(c->ins, 1, c->bank_id);
  sqlite3_bind_blob(c->ins, 2, it->hash, (int)c->hb, SQLITE_STATIC);
  sqlite3_bind_text(c->ins, 3, it->ext_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(c->ins, 4, it->tags, -1, SQLITE_STATIC);
  sqlite3_bind_int64(c->ins, 5, c->now);
  VOUCH_TRY(step_done(c, c->ins, "insert entry"));
  if (sqlite3_changes(c->b->db) == 1) {
    eid = sqlite3_last_insert_rowid(c->b->db);
    c->stats->added++;
  } else {
    sqlite3_bind_int64(c->sel, 1, c->bank_id);
    sqlite3_bind_blob(c->sel, 2, it->hash, (int)c->hb, SQLITE_STATIC);
    int src = sqlite3_step(c->sel);
    if (src != SQLITE_ROW) {
      sqlite3_reset(c->sel);
      return sqlfail(c->b, src, "find duplicate");
    }
    eid = sqlite3_column_int64(c->sel, 0);
    sqlite3_reset(c->sel);
    c->stats->merged++;
    if (it->ext_id || it->tags) { /* fill in what the first import lacked */
      sqlite3_bind_text(c->fill, 1, it->ext_id, -1, SQLITE_STATIC);
      sqlite3_bind_text(c->fill, 2, it->tags, -1, SQLITE_STATIC);
      sqlite3_bind_int64(c->fill, 3, eid);
      VOUCH_TRY(step_done(c, c->fill, "merge entry"));
    }
  }
  /* several sources may come ','-joined (as export writes them) */
  const char *source = it->source ? it->source : c->o->source;
  while (source && *source) {
    const char *comma = strchr(source, ',');
    size_t l = comma ? (size_t)(comma - source) : strlen(source);
    while (l && *source == ' ') { source++; l--; }
    while (l && source[l - 1] == ' ') l--;
    if (l) {
      sqlite3_bind_int64(c->src, 1, eid);
      sqlite3_bind_text(c->src, 2, source, (int)l, SQLITE_STATIC);
      VOUCH_TRY(step_done(c, c->src, "add source"));
    }
    source = comma ? comma + 1 : NULL;
  }
  return VOUCH_OK;
}

int vouch_bank_import(vouch_bank *b, const char *name, const char *data, size_t len,
                      const vouch_import_opts *opts, vouch_import_stats *stats) {
  if (!b || !name || !opts || (!data && len))
    return VOUCH_E_INVALID;
  vouch_import_stats local;
  if (!stats)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  import_ctx c;
  memset(&c, 0, sizeof c);
  c.b = b;
  c.o = opts;
  c.stats = stats;
  c.now = opts->now ? opts->now : (int64_t)time(NULL);
  int algo;
  VOUCH_TRY(exec(b, "BEGIN IMMEDIATE"));
  int rc = find_bank(b, name, &c.bank_id, &algo, NULL);
  if (rc) goto rollback;
  c.hb = vouch_algo_bytes(algo);
  (void)exec(b, "PRAGMA cache_size=-65536");
  if ((rc = prepare(b,
                    "INSERT INTO entries(bank_id, hash, ext_id, tags, enabled, added_at)"
                    " VALUES(?, ?, ?, ?, 1, ?) ON CONFLICT(bank_id, hash) DO NOTHING",
                    &c.ins)))
    goto rollback;
  if ((rc = prepare(b, "SELECT id FROM entries WHERE bank_id = ? AND hash = ?", &c.sel)))
    goto rollback;
  if ((rc = prepare(b,
                    "UPDATE entries SET ext_id = coalesce(ext_id, ?1), tags = coalesce(tags, ?2)"
                    " WHERE id = ?3",
                    &c.fill)))
    goto rollback;
  if ((rc = prepare(b, "INSERT OR IGNORE INTO entry_sources(entry_id, source) VALUES(?, ?)", &c.src)))
    goto rollback;
  vouch_list_opts lo = opts->list;
  lo.algo = algo;
  rc = vouch_hashlist_parse(data, len, &lo, collect_item, import_error, &c, &stats->format);
  if (rc == VOUCH_OK) {
    if (c.n > 1)
      qsort(c.items, c.n, sizeof *c.items, cmp_pending);
    for (size_t i = 0; i < c.n && rc == VOUCH_OK; i++) {
      const pending *p = &c.items[i];
      vouch_list_item it = {p->line, p->hash, p->ext == SIZE_MAX ? NULL : c.str + p->ext,
                            p->src == SIZE_MAX ? NULL : c.str + p->src,
                            p->tags == SIZE_MAX ? NULL : c.str + p->tags};
      rc = insert_item(&c, &it);
    }
  }
  if (rc == VOUCH_E_HASH_PARSE && !opts->strict && b->errmsg[0] == 0)
    fail(b, rc, "the list has no hash column or is not in a format we read");
  if (rc != VOUCH_OK) {
    if (b->errmsg[0] == 0)
      fail(b, rc, "import failed: %s", vouch_strerror(rc));
    goto rollback;
  }
  sqlite3_finalize(c.ins);
  sqlite3_finalize(c.sel);
  sqlite3_finalize(c.fill);
  sqlite3_finalize(c.src);
  vouch__free(c.items);
  vouch__free(c.str);
  return exec(b, "COMMIT");
rollback:
  vouch__free(c.items);
  vouch__free(c.str);
  sqlite3_finalize(c.ins);
  sqlite3_finalize(c.sel);
  sqlite3_finalize(c.fill);
  sqlite3_finalize(c.src);
  (void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

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

int vouch_bank_build_index(vouch_bank *b, const char *const *names, size_t nnames, const char *path,
                           uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count) {
  if (!b || !path || (nnames && !names))
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  int rc = VOUCH_OK, algo = VOUCH_ALGO_NONE;
  banklist bl = {0};
  uint8_t *hashes = NULL;
  size_t *ext_off = NULL, *src_off = NULL;
  uint32_t *bank_of = NULL;
  uint64_t *entry_id = NULL;
  vouch_index_input *in = NULL;
  strbuf sb = {0};
  size_t n = 0, cap = 0;
  sqlite3_stmt *st = NULL;
  /* the chosen banks: explicit (must exist; disabled ones contribute
   * nothing) or all enabled ones */
  if (nnames) {
    for (size_t i = 0; i < nnames; i++) {
      int64_t id;
      int a, en;
      if ((rc = find_bank(b, names[i], &id, &a, &en)))
        goto done;
      if (algo != VOUCH_ALGO_NONE && a != algo) {
        rc = fail(b, VOUCH_E_ALGO_MISMATCH, "bank '%s' holds %s hashes, others %s", names[i],
                  vouch_algo_name(a), vouch_algo_name(algo));
        goto done;
      }
      algo = a;
      if (en && (rc = bl_push(&bl, id, names[i]))) {
        rc = fail(b, rc, "out of memory");
        goto done;
      }
    }
  } else {
    if ((rc = prepare(b, "SELECT id, name, algo FROM banks WHERE enabled ORDER BY name", &st)))
      goto done;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
      const char *a = (const char *)sqlite3_column_text(st, 2);
      int al = a ? vouch_algo_from_name(a) : VOUCH_ALGO_NONE;
      const char *nm = (const char *)sqlite3_column_text(st, 1);
      if (al == VOUCH_ALGO_NONE || !nm) {
        rc = fail(b, VOUCH_E_DB_CORRUPT, "a bank row is malformed");
        goto done;
      }
      if (algo != VOUCH_ALGO_NONE && al != algo) {
        rc = fail(b, VOUCH_E_ALGO_MISMATCH,
                  "enabled banks hold %s and %s hashes: choose banks with --bank",
                  vouch_algo_name(algo), vouch_algo_name(al));
        goto done;
      }
      algo = al;
      if ((rc = bl_push(&bl, sqlite3_column_int64(st, 0), nm))) {
        rc = fail(b, rc, "out of memory");
        goto done;
      }
    }
    if (src != SQLITE_DONE) {
      rc = sqlfail(b, src, "list banks");
      goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
  }
  const size_t nb = bl.n;
  char **bnames = bl.names;
  int64_t *ids = bl.ids;
  if (algo == VOUCH_ALGO_NONE)
    algo = VOUCH_ALGO_PDQ; /* no banks at all: an empty PDQ index */
  size_t hb = vouch_algo_bytes(algo);
  if ((rc = prepare(b,
                    "SELECT e.id, e.hash, coalesce(e.ext_id, ''),"
                    " coalesce((SELECT group_concat(source, ',') FROM"
                    "   (SELECT source FROM entry_sources s WHERE s.entry_id = e.id ORDER BY source)), '')"
                    " FROM entries e WHERE e.bank_id = ? AND e.enabled",
                    &st)))
    goto done;
  for (size_t k = 0; k < nb; k++) {
    sqlite3_bind_int64(st, 1, ids[k]);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
      if (n == cap) {
        cap = cap ? cap * 2 : 4096;
        uint8_t *nh = vouch__realloc(hashes, cap * hb);
        if (nh) hashes = nh;
        size_t *ne = vouch__realloc(ext_off, cap * sizeof *ext_off);
        if (ne) ext_off = ne;
        size_t *ns = vouch__realloc(src_off, cap * sizeof *src_off);
        if (ns) src_off = ns;
        uint32_t *nbk = vouch__realloc(bank_of, cap * sizeof *bank_of);
        if (nbk) bank_of = nbk;
        uint64_t *nid = vouch__realloc(entry_id, cap * sizeof *entry_id);
        if (nid) entry_id = nid;
        if (!nh || !ne || !ns || !nbk || !nid) {
          rc = fail(b, VOUCH_E_NOMEM, "out of memory");
          goto done;
        }
      }
      const void *h = sqlite3_column_blob(st, 1);
      if (!h || (size_t)sqlite3_column_bytes(st, 1) != hb) {
        rc = fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: hash has the wrong size",
                  (long long)sqlite3_column_int64(st, 0));
        goto done;
      }
      const char *ext = (const char *)sqlite3_column_text(st, 2);
      const char *srcs = (const char *)sqlite3_column_text(st, 3);
      if (!ext || !srcs || strlen(ext) > VOUCH_INDEX_MAX_STRING || strlen(srcs) > VOUCH_INDEX_MAX_STRING) {
        rc = fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: id or sources too long for an index",
                  (long long)sqlite3_column_int64(st, 0));
        goto done;
      }
      memcpy(hashes + n * hb, h, hb);
      ext_off[n] = sb_add(&sb, ext);
      src_off[n] = sb_add(&sb, srcs);
      if (ext_off[n] == SIZE_MAX || src_off[n] == SIZE_MAX) {
        rc = fail(b, VOUCH_E_NOMEM, "out of memory");
        goto done;
      }
      bank_of[n] = (uint32_t)k;
      entry_id[n] = (uint64_t)sqlite3_column_int64(st, 0);
      n++;
    }
    if (src != SQLITE_DONE) {
      rc = sqlfail(b, src, "read entries");
      goto done;
    }
    sqlite3_reset(st);
  }
  in = vouch__malloc((n ? n : 1) * sizeof *in);
  if (!in) {
    rc = fail(b, VOUCH_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    in[i].hash = hashes + i * hb;
    in[i].bank = bank_of[i];
    in[i].entry_id = entry_id[i];
    in[i].ext_id = sb.p + ext_off[i];
    in[i].source = sb.p + src_off[i];
  }
  rc = vouch_index_write(path, algo, (const char *const *)bnames, (uint32_t)nb, in, n, root,
                         b->errmsg, sizeof b->errmsg);
  if (rc == VOUCH_OK && count)
    *count = n;
done:
  if (st)
    sqlite3_finalize(st);
  for (size_t k = 0; k < bl.n; k++)
    vouch__free(bl.names[k]);
  vouch__free(bl.ids);
  vouch__free(bl.names);
  vouch__free(hashes);
  vouch__free(ext_off);
  vouch__free(src_off);
  vouch__free(bank_of);
  vouch__free(entry_id);
  vouch__free(in);
  vouch__free(sb.p);
  return rc;
}
