/* src/bank/bank.c -- hash banks in SQLite (see vouch/bank.h).
 *
 * Schema (version 3, PRAGMA user_version; application_id 'VCHB'):
 *   banks(id, name UNIQUE, algo, enabled, created_at)
 *   entries(id, bank_id -> banks ON DELETE CASCADE, hash BLOB, ext_id, tags,
 *           enabled, added_at, UNIQUE(bank_id, hash))
 *   entry_sources(entry_id -> entries ON DELETE CASCADE, source, PK both)
 *   signed_lists(id, bank_id -> banks ON DELETE CASCADE, source_pk BLOB,
 *           source_name, jurisdiction, list_version, date, count,
 *           hashes_digest BLOB, imported_at, vsl BLOB (the whole signed
 *           list), UNIQUE(bank_id, source_pk, list_version))      [v2]
 *   entry_lists(entry_id -> entries ON DELETE CASCADE,
 *           list_id -> signed_lists ON DELETE CASCADE, PK both)  [v2]
 *   tombstones(id, bank_id -> banks ON DELETE CASCADE, hash BLOB, ext_id,
 *           source, entry_id -> entries ON DELETE SET NULL (the entry the
 *           deletion disabled), at)                               [v3]
 *   checkpoints(bank_id -> banks ON DELETE CASCADE, source, checkpoint,
 *           next, updated_at, PK(bank_id, source))                [v3]
 *   exchanges(name PK, type, url, bank_id -> banks ON DELETE CASCADE,
 *           source, credentials (a path, never a secret), created_at) [v3]
 *   entries.disabled_until: out of index builds until that time   [v3]
 *   banks.radius: the bank's own match radius (NULL: the caller's) [v3]
 *   video_frames(entry_id -> entries ON DELETE CASCADE, frame, quality,
 *           hash BLOB, seconds, PK(entry_id, frame))             [v3]
 * An older file is migrated to version 3 when opened for writing (one
 * transaction: the missing tables are added); opened read-only it is read as
 * is and simply holds no signed lists, tombstones, checkpoints or videos.
 * WAL journal, foreign keys on.  An import is one IMMEDIATE transaction, so
 * a killed import leaves the bank exactly as it was (SQLite rolls back the
 * unfinished WAL frames on the next open). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include "vouch/bank.h"
#include "vouch/index.h"
#include "vouch/audit.h"
#include "vouch/exchange.h"
#include "common/internal.h"

#define BANK_APP_ID 1447249986 /* 0x56434842, 'VCHB' */
#define BANK_ERRMSG_CAP 512U

struct vouch_bank {
  sqlite3 *db;
  int schema; /* user_version of the file: 1 or 2 (read-only, not migrated) or 3 */
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
  else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
    rc = VOUCH_E_DB_BUSY;
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

/* Added by schema version 2 (also the migration from version 1). */
static const char *const schema_v2 =
    "CREATE TABLE signed_lists("
    " id INTEGER PRIMARY KEY,"
    " bank_id INTEGER NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " source_pk BLOB NOT NULL,"
    " source_name TEXT NOT NULL,"
    " jurisdiction TEXT NOT NULL,"
    " list_version INTEGER NOT NULL,"
    " date TEXT NOT NULL,"
    " count INTEGER NOT NULL,"
    " hashes_digest BLOB NOT NULL,"
    " imported_at INTEGER NOT NULL,"
    " vsl BLOB NOT NULL,"
    " UNIQUE(bank_id, source_pk, list_version));"
    "CREATE TABLE entry_lists("
    " entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " list_id INTEGER NOT NULL REFERENCES signed_lists(id) ON DELETE CASCADE,"
    " PRIMARY KEY(entry_id, list_id)) WITHOUT ROWID;"
    "CREATE INDEX entry_lists_list ON entry_lists(list_id);";

/* Added by schema version 3 (also the migration from versions 1 and 2). */
static const char *const schema_v3 =
    "CREATE TABLE tombstones("
    " id INTEGER PRIMARY KEY,"
    " bank_id INTEGER NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " hash BLOB,"
    " ext_id TEXT,"
    " source TEXT,"
    " entry_id INTEGER REFERENCES entries(id) ON DELETE SET NULL,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX tombstones_hash ON tombstones(bank_id, hash);"
    "CREATE INDEX tombstones_entry ON tombstones(entry_id);"
    "CREATE TABLE checkpoints("
    " bank_id INTEGER NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " source TEXT NOT NULL,"
    " checkpoint TEXT NOT NULL,"
    " next TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY(bank_id, source)) WITHOUT ROWID;"
    "CREATE TABLE exchanges("
    " name TEXT PRIMARY KEY,"
    " type TEXT NOT NULL,"
    " url TEXT NOT NULL,"
    " bank_id INTEGER NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " source TEXT,"
    " credentials TEXT,"
    " created_at INTEGER NOT NULL);"
    "ALTER TABLE entries ADD COLUMN disabled_until INTEGER;"
    "ALTER TABLE banks ADD COLUMN radius INTEGER;"
    /* the frames of the videos of vpdq banks */
    "CREATE TABLE video_frames("
    " entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " frame INTEGER NOT NULL,"
    " quality INTEGER NOT NULL,"
    " hash BLOB NOT NULL,"
    " seconds REAL NOT NULL,"
    " PRIMARY KEY(entry_id, frame)) WITHOUT ROWID;";

#define STR_(x) #x
#define STR(x) STR_(x)

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
    if (rc == VOUCH_OK) rc = exec(b, schema_v2);
    if (rc == VOUCH_OK) rc = exec(b, schema_v3);
    if (rc == VOUCH_OK)
      rc = exec(b, "PRAGMA application_id=" STR(BANK_APP_ID) "; PRAGMA user_version=" STR(VOUCH_BANK_SCHEMA_VERSION));
    if (rc == VOUCH_OK) rc = exec(b, "COMMIT");
    if (rc != VOUCH_OK) {
      (void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
      return rc;
    }
    b->schema = VOUCH_BANK_SCHEMA_VERSION;
    return VOUCH_OK;
  }
  if (app != BANK_APP_ID)
    return fail(b, VOUCH_E_DB_CORRUPT, "%s: an SQLite file, but not a vouch bank", path);
  if (version < 1 || version > VOUCH_BANK_SCHEMA_VERSION)
    return fail(b, VOUCH_E_DB_VERSION, "%s: bank schema version %d, this build reads 1 to %d", path,
                version, VOUCH_BANK_SCHEMA_VERSION);
  b->schema = version;
  if (!(flags & VOUCH_BANK_OPEN_READONLY)) {
    VOUCH_TRY(exec(b, "PRAGMA journal_mode=WAL"));
    if (version < VOUCH_BANK_SCHEMA_VERSION) { /* migrate: add the missing tables */
      VOUCH_TRY(exec(b, "BEGIN IMMEDIATE"));
      /* re-read under the write lock: another process may have migrated it */
      sqlite3_stmt *vs = NULL;
      int rc = prepare(b, "PRAGMA user_version", &vs);
      int v = -1;
      if (rc == VOUCH_OK) {
        if (sqlite3_step(vs) == SQLITE_ROW) v = sqlite3_column_int(vs, 0);
        sqlite3_finalize(vs);
        if (v == 1 || v == 2) {
          rc = v == 1 ? exec(b, schema_v2) : VOUCH_OK;
          if (rc == VOUCH_OK) rc = exec(b, schema_v3);
          if (rc == VOUCH_OK) rc = exec(b, "PRAGMA user_version=" STR(VOUCH_BANK_SCHEMA_VERSION));
        } else if (v != VOUCH_BANK_SCHEMA_VERSION) {
          rc = fail(b, VOUCH_E_DB_VERSION, "%s: bank schema version changed to %d while opening", path, v);
        }
      }
      if (rc == VOUCH_OK) rc = exec(b, "COMMIT");
      if (rc != VOUCH_OK) {
        (void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
      }
      b->schema = VOUCH_BANK_SCHEMA_VERSION;
    }
  }
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
    *algo = vouch_bank_algo_from_name(a);
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

int vouch_bank_algo_from_name(const char *name) {
  if (name && !strcasecmp(name, "vpdq")) return VOUCH_ALGO_VPDQ;
  return vouch_algo_from_name(name);
}

/* Bytes of an entry's hash: the algorithm's, or for a video the SHA-256 of
 * its vPDQ text. */
static size_t entry_hash_bytes(int algo) { return algo == VOUCH_ALGO_VPDQ ? 32U : vouch_algo_bytes(algo); }

int vouch_bank_create(vouch_bank *b, const char *name, int algo) {
  if (!b || !b->db)
    return VOUCH_E_INVALID;
  if (!valid_name(name))
    return fail(b, VOUCH_E_INVALID, "bad bank name '%s' (1..128 of A-Z a-z 0-9 . _ - : @)",
                name ? name : "");
  if (entry_hash_bytes(algo) == 0)
    return fail(b, VOUCH_E_INVALID, "unknown algorithm");
  if (algo == VOUCH_ALGO_VPDQ && b->schema < 3)
    return fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d opened read-only: no video banks", b->schema);
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
  size_t hb = entry_hash_bytes(algo);
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

int vouch_bank_set_radius(vouch_bank *b, const char *name, int radius) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 3)
    return fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no bank radius", b->schema);
  int64_t id;
  int algo;
  VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  if (radius < -1 || radius > (int)vouch_algo_bytes(algo) * 8)
    return fail(b, VOUCH_E_INVALID, "radius %d: %s hashes have %zu bits", radius, vouch_algo_name(algo),
                vouch_algo_bytes(algo) * 8);
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, "UPDATE banks SET radius = ? WHERE id = ?", &st));
  if (radius >= 0)
    sqlite3_bind_int(st, 1, radius);
  else
    sqlite3_bind_null(st, 1);
  sqlite3_bind_int64(st, 2, id);
  int src = sqlite3_step(st);
  sqlite3_finalize(st);
  return src == SQLITE_DONE ? VOUCH_OK : sqlfail(b, src, "set radius");
}

int vouch_bank_entry_disable_until(vouch_bank *b, const char *name, int selector, const char *value,
                                   int64_t until, size_t *changed) {
  if (!b || !name || !value || until < 0)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 3)
    return fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no disable-until", b->schema);
  int64_t id;
  int algo;
  VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  const char *col = selector == VOUCH_SELECT_ENTRY_ID ? "id" : selector == VOUCH_SELECT_EXT_ID ? "ext_id"
                  : selector == VOUCH_SELECT_HASH     ? "hash" : NULL;
  if (!col)
    return fail(b, VOUCH_E_INVALID, "bad selector");
  uint8_t h[VOUCH_HASH_MAX_BYTES];
  size_t hb = vouch_algo_bytes(algo);
  if (selector == VOUCH_SELECT_HASH && vouch_hash_from_hex(value, strlen(value), h, hb) != VOUCH_OK)
    return fail(b, VOUCH_E_HASH_PARSE, "'%s' is not a %s hash", value, vouch_algo_name(algo));
  char *end = NULL;
  long long num = selector == VOUCH_SELECT_ENTRY_ID ? strtoll(value, &end, 10) : 0;
  if (selector == VOUCH_SELECT_ENTRY_ID && (*value == 0 || *end != 0))
    return fail(b, VOUCH_E_INVALID, "'%s' is not an entry number", value);
  char sql[128];
  snprintf(sql, sizeof sql, "UPDATE entries SET disabled_until = ? WHERE bank_id = ? AND %s = ?", col);
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, sql, &st));
  if (until)
    sqlite3_bind_int64(st, 1, until);
  else
    sqlite3_bind_null(st, 1);
  sqlite3_bind_int64(st, 2, id);
  if (selector == VOUCH_SELECT_ENTRY_ID) sqlite3_bind_int64(st, 3, num);
  else if (selector == VOUCH_SELECT_EXT_ID) sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
  else sqlite3_bind_blob(st, 3, h, (int)hb, SQLITE_STATIC);
  int src = sqlite3_step(st);
  sqlite3_finalize(st);
  if (src != SQLITE_DONE)
    return sqlfail(b, src, "disable until");
  size_t n = (size_t)sqlite3_changes(b->db);
  if (changed)
    *changed = n;
  return n ? VOUCH_OK : fail(b, VOUCH_E_NOT_FOUND, "no entry '%s' in bank '%s'", value, name);
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
                    b->schema >= 3
                        ? "SELECT b.id, b.name, b.algo, b.enabled, b.created_at,"
                          " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id),"
                          " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id AND e.enabled),"
                          " coalesce(b.radius, -1)"
                          " FROM banks b WHERE ?1 IS NULL OR b.name = ?1 ORDER BY b.name"
                        : "SELECT b.id, b.name, b.algo, b.enabled, b.created_at,"
                          " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id),"
                          " (SELECT count(*) FROM entries e WHERE e.bank_id = b.id AND e.enabled), -1"
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
    in.algo = vouch_bank_algo_from_name(a);
    in.enabled = sqlite3_column_int(st, 3);
    in.created_at = sqlite3_column_int64(st, 4);
    in.entries = (uint64_t)sqlite3_column_int64(st, 5);
    in.enabled_entries = (uint64_t)sqlite3_column_int64(st, 6);
    int64_t r = sqlite3_column_int64(st, 7);
    in.radius = r >= 0 && r <= (int64_t)vouch_algo_bytes(in.algo) * 8 ? (int)r : -1;
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

/* The entry columns each_entry() reads; an unmigrated read-only file has no
 * disabled_until column. */
static int prepare_entries(vouch_bank *b, const char *where, sqlite3_stmt **st) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT e.id, e.hash, e.ext_id, e.tags, e.enabled, e.added_at,"
           " (SELECT group_concat(source, ',') FROM"
           "   (SELECT source FROM entry_sources s WHERE s.entry_id = e.id ORDER BY source)), %s"
           " FROM entries e WHERE %s",
           b->schema >= 3 ? "coalesce(e.disabled_until, 0)" : "0", where);
  return prepare(b, sql, st);
}

/* Steps a prepare_entries() statement, calling cb for each row. */
static int each_entry(vouch_bank *b, sqlite3_stmt *st, int algo, vouch_bank_entry_cb cb, void *ctx) {
  size_t hb = entry_hash_bytes(algo);
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
    e.disabled_until = sqlite3_column_int64(st, 7);
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

int vouch_bank_entries(vouch_bank *b, const char *name, vouch_bank_entry_cb cb, void *ctx) {
  if (!b || !name || !cb)
    return VOUCH_E_INVALID;
  int64_t id = 0;
  int algo = VOUCH_ALGO_NONE;
  VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  sqlite3_stmt *st;
  VOUCH_TRY(prepare_entries(b, "e.bank_id = ? ORDER BY e.hash", &st));
  sqlite3_bind_int64(st, 1, id);
  return each_entry(b, st, algo, cb, ctx);
}

int vouch_bank_entry_get(vouch_bank *b, int64_t entry_id, vouch_bank_entry_cb cb, void *ctx) {
  if (!b || !cb)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, "SELECT b.algo FROM entries e JOIN banks b ON b.id = e.bank_id WHERE e.id = ?", &st));
  sqlite3_bind_int64(st, 1, entry_id);
  int src = sqlite3_step(st);
  const char *a = src == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
  int algo = a ? vouch_bank_algo_from_name(a) : VOUCH_ALGO_NONE;
  sqlite3_finalize(st);
  if (src == SQLITE_DONE)
    return fail(b, VOUCH_E_NOT_FOUND, "no entry %lld", (long long)entry_id);
  if (src != SQLITE_ROW)
    return sqlfail(b, src, "find entry");
  if (algo == VOUCH_ALGO_NONE)
    return fail(b, VOUCH_E_DB_CORRUPT, "entry %lld: its bank has an unknown algorithm", (long long)entry_id);
  VOUCH_TRY(prepare_entries(b, "e.id = ?", &st));
  sqlite3_bind_int64(st, 1, entry_id);
  return each_entry(b, st, algo, cb, ctx);
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
  int kind;              /* VOUCH_ITEM_ADD or VOUCH_ITEM_DELETE */
  int nohash;            /* a DELETE naming only the entry (ext_id) */
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
  /* tombstones (schema 3): only prepared when the list deletes or the bank has some */
  sqlite3_stmt *t_had, *t_clear, *t_enable, *t_find_hash, *t_find_ext, *t_unsource, *t_disable, *t_add;
  int tomb;
  int64_t now;
  int64_t last_eid; /* the entry insert_item() added or merged into */
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
  if (it->kind == VOUCH_ITEM_SKIP) {
    c->stats->skipped++;
    return 0;
  }
  if (it->kind == VOUCH_ITEM_LOW_QUALITY) {
    c->stats->low_quality++;
    return 0;
  }
  if (it->kind != VOUCH_ITEM_ADD && it->kind != VOUCH_ITEM_DELETE)
    return 0;
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 4096;
    pending *np = vouch__realloc(c->items, nc * sizeof *np);
    if (!np) return fail(c->b, VOUCH_E_NOMEM, "out of memory");
    c->items = np;
    c->cap = nc;
  }
  pending *p = &c->items[c->n];
  memset(p->hash, 0, sizeof p->hash);
  p->nohash = it->hash == NULL;
  if (it->hash)
    memcpy(p->hash, it->hash, c->hb);
  p->line = it->line;
  p->kind = it->kind;
  p->ext = keep_str(c, it->ext_id);
  p->src = keep_str(c, it->source);
  p->tags = keep_str(c, it->tags);
  if (p->ext == SIZE_MAX - 1 || p->src == SIZE_MAX - 1 || p->tags == SIZE_MAX - 1)
    return fail(c->b, VOUCH_E_NOMEM, "out of memory");
  c->n++;
  return 0;
}

/* hashes are zero-padded to VOUCH_HASH_MAX_BYTES, so no length is needed;
 * DELETEs that name only an entry go last */
static int cmp_pending(const void *pa, const void *pb) {
  const pending *a = pa, *b = pb;
  if (a->nohash != b->nohash) return a->nohash - b->nohash;
  int r = memcmp(a->hash, b->hash, VOUCH_HASH_MAX_BYTES);
  if (r) return r;
  return a->line < b->line ? -1 : a->line > b->line;
}

/* An ADD of an entry that a tombstone disabled: the exchange lists it again. */
static int revive(import_ctx *c, int64_t eid, const uint8_t *hash) {
  sqlite3_bind_int64(c->t_had, 1, eid);
  int src = sqlite3_step(c->t_had);
  int had = src == SQLITE_ROW && sqlite3_column_int(c->t_had, 0) > 0;
  sqlite3_reset(c->t_had);
  if (src != SQLITE_ROW)
    return sqlfail(c->b, src, "find tombstones");
  sqlite3_bind_int64(c->t_clear, 1, c->bank_id);
  sqlite3_bind_int64(c->t_clear, 2, eid);
  sqlite3_bind_blob(c->t_clear, 3, hash, (int)c->hb, SQLITE_STATIC);
  VOUCH_TRY(step_done(c, c->t_clear, "clear tombstones"));
  if (had) {
    sqlite3_bind_int64(c->t_enable, 1, eid);
    VOUCH_TRY(step_done(c, c->t_enable, "re-enable entry"));
    c->stats->reenabled += (size_t)sqlite3_changes(c->b->db);
  }
  return VOUCH_OK;
}

/* Splits a ','-joined source list, calling the source statement for each. */
static int add_sources(import_ctx *c, int64_t eid, const char *source) {
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
  c->last_eid = eid;
  if (c->tomb)
    VOUCH_TRY(revive(c, eid, it->hash));
  /* several sources may come ','-joined (as export writes them) */
  return add_sources(c, eid, it->source ? it->source : c->o->source);
}

/* A DELETE row: the entries it names lose its source; an entry left with no
 * source is disabled.  A tombstone records it (and the entry it disabled). */
static int delete_item(import_ctx *c, const vouch_list_item *it) {
  const char *source = it->source ? it->source : c->o->source;
  sqlite3_stmt *find = it->hash ? c->t_find_hash : c->t_find_ext;
  sqlite3_bind_int64(find, 1, c->bank_id);
  if (it->hash)
    sqlite3_bind_blob(find, 2, it->hash, (int)c->hb, SQLITE_STATIC);
  else
    sqlite3_bind_text(find, 2, it->ext_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(find, 3, source, -1, SQLITE_STATIC);
  int64_t ids[16];
  size_t nid = 0;
  int src;
  while ((src = sqlite3_step(find)) == SQLITE_ROW && nid < 16)
    ids[nid++] = sqlite3_column_int64(find, 0);
  sqlite3_reset(find);
  if (src != SQLITE_DONE && src != SQLITE_ROW)
    return sqlfail(c->b, src, "find deleted entry");
  c->stats->tombstones++;
  for (size_t k = 0; k <= nid; k++) {
    int64_t disabled = 0;
    if (k < nid) {
      sqlite3_bind_int64(c->t_unsource, 1, ids[k]);
      sqlite3_bind_text(c->t_unsource, 2, source, -1, SQLITE_STATIC);
      VOUCH_TRY(step_done(c, c->t_unsource, "remove source"));
      sqlite3_bind_int64(c->t_disable, 1, ids[k]);
      VOUCH_TRY(step_done(c, c->t_disable, "disable entry"));
      if (sqlite3_changes(c->b->db) == 1) {
        disabled = ids[k];
        c->stats->disabled++;
      }
    } else if (nid) {
      break; /* every matched entry has its tombstone */
    }
    sqlite3_bind_int64(c->t_add, 1, c->bank_id);
    if (it->hash)
      sqlite3_bind_blob(c->t_add, 2, it->hash, (int)c->hb, SQLITE_STATIC);
    else
      sqlite3_bind_null(c->t_add, 2);
    sqlite3_bind_text(c->t_add, 3, it->ext_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->t_add, 4, source, -1, SQLITE_STATIC);
    if (disabled)
      sqlite3_bind_int64(c->t_add, 5, disabled);
    else
      sqlite3_bind_null(c->t_add, 5);
    sqlite3_bind_int64(c->t_add, 6, c->now);
    VOUCH_TRY(step_done(c, c->t_add, "record tombstone"));
  }
  return VOUCH_OK;
}

static int prepare_tombstones(import_ctx *c) {
  vouch_bank *b = c->b;
  /* an entry matches a deletion by hash, or by ext_id from the same source */
  VOUCH_TRY(prepare(b, "SELECT count(*) FROM tombstones WHERE entry_id = ?", &c->t_had));
  VOUCH_TRY(prepare(b, "DELETE FROM tombstones WHERE bank_id = ?1 AND (entry_id = ?2 OR hash = ?3)", &c->t_clear));
  VOUCH_TRY(prepare(b, "UPDATE entries SET enabled = 1 WHERE id = ? AND NOT enabled", &c->t_enable));
  VOUCH_TRY(prepare(b, "SELECT id FROM entries WHERE bank_id = ?1 AND hash = ?2", &c->t_find_hash));
  VOUCH_TRY(prepare(b,
                    "SELECT e.id FROM entries e WHERE e.bank_id = ?1 AND e.ext_id = ?2 AND (?3 IS NULL OR"
                    " EXISTS (SELECT 1 FROM entry_sources s WHERE s.entry_id = e.id AND s.source = ?3))",
                    &c->t_find_ext));
  VOUCH_TRY(prepare(b, "DELETE FROM entry_sources WHERE entry_id = ? AND source = ?", &c->t_unsource));
  VOUCH_TRY(prepare(b,
                    "UPDATE entries SET enabled = 0 WHERE id = ?1 AND enabled AND NOT EXISTS"
                    " (SELECT 1 FROM entry_sources s WHERE s.entry_id = ?1)",
                    &c->t_disable));
  VOUCH_TRY(prepare(b,
                    "INSERT INTO tombstones(bank_id, hash, ext_id, source, entry_id, at) VALUES(?,?,?,?,?,?)",
                    &c->t_add));
  return VOUCH_OK;
}

static void import_finalize(import_ctx *c) {
  sqlite3_stmt **sts[] = {&c->ins, &c->sel, &c->fill, &c->src, &c->t_had, &c->t_clear, &c->t_enable,
                          &c->t_find_hash, &c->t_find_ext, &c->t_unsource, &c->t_disable, &c->t_add};
  for (size_t i = 0; i < sizeof sts / sizeof sts[0]; i++) {
    sqlite3_finalize(*sts[i]);
    *sts[i] = NULL;
  }
  vouch__free(c->items);
  vouch__free(c->str);
  c->items = NULL;
  c->str = NULL;
}

static int store_checkpoint(import_ctx *c, const vouch_list_page *pg) {
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(c->b,
                    "INSERT INTO checkpoints(bank_id, source, checkpoint, next, updated_at) VALUES(?,?,?,?,?)"
                    " ON CONFLICT(bank_id, source) DO UPDATE SET checkpoint = excluded.checkpoint,"
                    " next = excluded.next, updated_at = excluded.updated_at",
                    &st));
  sqlite3_bind_int64(st, 1, c->bank_id);
  sqlite3_bind_text(st, 2, c->o->source ? c->o->source : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, pg->checkpoint, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, pg->next, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, c->now);
  int rc = step_done(c, st, "store checkpoint");
  sqlite3_finalize(st);
  return rc;
}

int vouch_bank_import(vouch_bank *b, const char *name, const char *data, size_t len,
                      const vouch_import_opts *opts, vouch_import_stats *stats) {
  if (!b || !name || !opts || (!data && len))
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
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
  if (algo == VOUCH_ALGO_VPDQ) {
    rc = fail(b, VOUCH_E_ALGO_MISMATCH, "bank '%s' holds videos: import vPDQ files (vouch_bank_import_video)", name);
    goto rollback;
  }
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
  vouch_list_page page;
  lo.algo = algo;
  if (!lo.page)
    lo.page = &page;
  rc = vouch_hashlist_parse(data, len, &lo, collect_item, import_error, &c, &stats->format);
  int deletes = 0;
  for (size_t i = 0; rc == VOUCH_OK && i < c.n && !deletes; i++)
    deletes = c.items[i].kind == VOUCH_ITEM_DELETE;
  if (rc == VOUCH_OK && (deletes || lo.page->checkpoint[0] || lo.page->next[0]) && b->schema < 3)
    rc = fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no tombstones or checkpoints", b->schema);
  if (rc == VOUCH_OK && b->schema >= 3) {
    sqlite3_stmt *q = NULL;
    if ((rc = prepare(b, "SELECT EXISTS(SELECT 1 FROM tombstones WHERE bank_id = ?)", &q)) == VOUCH_OK) {
      sqlite3_bind_int64(q, 1, c.bank_id);
      c.tomb = deletes || (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0));
      sqlite3_finalize(q);
    }
    if (rc == VOUCH_OK && c.tomb)
      rc = prepare_tombstones(&c);
  }
  if (rc == VOUCH_OK) {
    if (c.n > 1)
      qsort(c.items, c.n, sizeof *c.items, cmp_pending);
    for (size_t i = 0; i < c.n && rc == VOUCH_OK; i++) {
      const pending *p = &c.items[i];
      vouch_list_item it = {p->line, p->nohash ? NULL : p->hash, p->ext == SIZE_MAX ? NULL : c.str + p->ext,
                            p->src == SIZE_MAX ? NULL : c.str + p->src,
                            p->tags == SIZE_MAX ? NULL : c.str + p->tags, p->kind, NULL, -1};
      rc = p->kind == VOUCH_ITEM_DELETE ? delete_item(&c, &it) : insert_item(&c, &it);
    }
  }
  if (rc == VOUCH_OK && (lo.page->checkpoint[0] || lo.page->next[0]))
    rc = store_checkpoint(&c, lo.page);
  if (rc == VOUCH_E_HASH_PARSE && !opts->strict && b->errmsg[0] == 0)
    fail(b, rc, "the list has no hash column or is not in a format we read");
  if (rc != VOUCH_OK) {
    if (b->errmsg[0] == 0)
      fail(b, rc, "import failed: %s", vouch_strerror(rc));
    goto rollback;
  }
  import_finalize(&c);
  return exec(b, "COMMIT");
rollback:
  import_finalize(&c);
  (void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int vouch_bank_checkpoint(vouch_bank *b, const char *name, const char *source, vouch_list_page *out,
                          int64_t *updated_at) {
  if (!b || !name || !out)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  memset(out, 0, sizeof *out);
  int64_t id;
  int algo;
  VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  if (b->schema < 3)
    return fail(b, VOUCH_E_NOT_FOUND, "bank '%s' holds no checkpoints", name);
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, "SELECT checkpoint, next, updated_at FROM checkpoints WHERE bank_id = ? AND source = ?", &st));
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_text(st, 2, source ? source : "", -1, SQLITE_STATIC);
  int src = sqlite3_step(st), rc = VOUCH_OK;
  if (src == SQLITE_ROW) {
    const char *cp = (const char *)sqlite3_column_text(st, 0), *nx = (const char *)sqlite3_column_text(st, 1);
    snprintf(out->checkpoint, sizeof out->checkpoint, "%s", cp ? cp : "");
    snprintf(out->next, sizeof out->next, "%s", nx ? nx : "");
    if (updated_at) *updated_at = sqlite3_column_int64(st, 2);
  } else if (src == SQLITE_DONE) {
    rc = fail(b, VOUCH_E_NOT_FOUND, "bank '%s' has no checkpoint for source '%s'", name, source ? source : "");
  } else {
    rc = sqlfail(b, src, "read checkpoint");
  }
  sqlite3_finalize(st);
  return rc;
}

int vouch_bank_tombstones(vouch_bank *b, const char *name, vouch_bank_tombstone_cb cb, void *ctx) {
  if (!b || !name || !cb)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  int64_t id;
  int algo;
  VOUCH_TRY(find_bank(b, name, &id, &algo, NULL));
  if (b->schema < 3)
    return VOUCH_OK;
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, "SELECT hash, ext_id, source, at FROM tombstones WHERE bank_id = ? ORDER BY id", &st));
  sqlite3_bind_int64(st, 1, id);
  int src, rc = VOUCH_OK;
  size_t hb = vouch_algo_bytes(algo);
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    vouch_bank_tombstone t;
    t.hash = sqlite3_column_blob(st, 0);
    t.hash_bytes = (size_t)sqlite3_column_bytes(st, 0);
    t.ext_id = (const char *)sqlite3_column_text(st, 1);
    t.source = (const char *)sqlite3_column_text(st, 2);
    t.at = sqlite3_column_int64(st, 3);
    if (t.hash && t.hash_bytes != hb) {
      rc = fail(b, VOUCH_E_DB_CORRUPT, "a tombstone of bank '%s' has a hash of %zu bytes", name, t.hash_bytes);
      break;
    }
    if ((rc = cb(ctx, &t)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != SQLITE_DONE && src != SQLITE_ROW)
    rc = sqlfail(b, src, "read tombstones");
  sqlite3_finalize(st);
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
  char hex[VOUCH_HASH_HEX_BYTES], tail[80];
  if (!e || !e->hash || vouch_hash_to_hex(e->hash, e->hash_bytes, hex, sizeof hex) != VOUCH_OK)
    return 0;
  if (!out) cap = 0;
  size_t w = csv_field(out, cap, 0, hex);
  const char *cols[3] = {e->ext_id, e->sources, e->tags};
  for (int i = 0; i < 3; i++) {
    if (w < cap) out[w] = ',';
    w = csv_field(out, cap, w + 1, cols[i]);
  }
  int n = snprintf(tail, sizeof tail, ",%d,%lld,%lld\n", e->enabled ? 1 : 0, (long long)e->added_at,
                   (long long)e->id);
  for (int i = 0; i < n; i++, w++)
    if (w < cap) out[w] = tail[i];
  if (cap) out[w < cap ? w : cap - 1] = 0;
  return w;
}

/* ------------------------------------------------------------ signed lists */

static int step_one(vouch_bank *b, sqlite3_stmt *st, const char *what, int *row) {
  int src = sqlite3_step(st);
  *row = src == SQLITE_ROW;
  if (src != SQLITE_DONE && src != SQLITE_ROW)
    return sqlfail(b, src, what);
  return VOUCH_OK;
}

int vouch_bank_import_signed(vouch_bank *b, const char *name, const uint8_t *vsl, size_t len, int64_t now,
                             vouch_import_stats *stats) {
  if (!b || !b->db || !name || !vsl)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  vouch_import_stats local;
  if (!stats)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  if (b->schema < 2)
    return fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d opened read-only: no signed lists",
                b->schema);
  if (len > (size_t)INT32_MAX)
    return fail(b, VOUCH_E_LIMIT, "signed list of %zu bytes is too large for the bank", len);
  vouch_audit_list l;
  int rc = vouch_audit_list_open(vsl, len, &l);
  if (rc != VOUCH_OK)
    return fail(b, rc, "signed list refused: %s", vouch_strerror(rc));
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  o.source = l.source.name;
  import_ctx c;
  memset(&c, 0, sizeof c);
  c.b = b;
  c.o = &o;
  c.stats = stats;
  c.now = now ? now : (int64_t)time(NULL);
  sqlite3_stmt *q = NULL, *link = NULL;
  int64_t list_id = 0;
  int algo, row;
  VOUCH_TRY(exec(b, "BEGIN IMMEDIATE"));
  if ((rc = find_bank(b, name, &c.bank_id, &algo, NULL)))
    goto rollback;
  if (l.algo != algo) {
    rc = fail(b, VOUCH_E_ALGO_MISMATCH, "signed list of %s hashes, bank '%s' holds %s hashes",
              vouch_algo_name(l.algo), name, vouch_algo_name(algo));
    goto rollback;
  }
  c.hb = vouch_algo_bytes(algo);
  /* a source's list version never goes back; one version is one list */
  if ((rc = prepare(b,
                    "SELECT list_version, vsl FROM signed_lists WHERE bank_id = ? AND source_pk = ?"
                    " ORDER BY list_version DESC LIMIT 1",
                    &q)))
    goto rollback;
  sqlite3_bind_int64(q, 1, c.bank_id);
  sqlite3_bind_blob(q, 2, l.source.pk, VOUCH_AUDIT_PK_BYTES, SQLITE_STATIC);
  if ((rc = step_one(b, q, "stored lists", &row)))
    goto rollback;
  if (row) {
    uint64_t have = (uint64_t)sqlite3_column_int64(q, 0);
    const void *old = sqlite3_column_blob(q, 1);
    size_t old_len = (size_t)sqlite3_column_bytes(q, 1);
    if (have > l.list_version) {
      rc = fail(b, VOUCH_E_AUDIT_POLICY,
                "source '%s': list version %llu is older than version %llu already in bank '%s'",
                l.source.name, (unsigned long long)l.list_version, (unsigned long long)have, name);
      goto rollback;
    }
    if (have == l.list_version && (old_len != len || !old || memcmp(old, vsl, len) != 0)) {
      rc = fail(b, VOUCH_E_AUDIT_FORK,
                "source '%s': bank '%s' already holds a different list of version %llu",
                l.source.name, name, (unsigned long long)have);
      goto rollback;
    }
  }
  sqlite3_finalize(q);
  q = NULL;
  if ((rc = prepare(b, "SELECT id FROM signed_lists WHERE bank_id = ? AND source_pk = ? AND list_version = ?",
                    &q)))
    goto rollback;
  sqlite3_bind_int64(q, 1, c.bank_id);
  sqlite3_bind_blob(q, 2, l.source.pk, VOUCH_AUDIT_PK_BYTES, SQLITE_STATIC);
  sqlite3_bind_int64(q, 3, (sqlite3_int64)l.list_version);
  if ((rc = step_one(b, q, "stored lists", &row)))
    goto rollback;
  if (row) { /* the same list again: its links are re-added (no-ops) */
    list_id = sqlite3_column_int64(q, 0);
  } else {
    sqlite3_finalize(q);
    q = NULL;
    if ((rc = prepare(b,
                      "INSERT INTO signed_lists(bank_id, source_pk, source_name, jurisdiction, list_version,"
                      " date, count, hashes_digest, imported_at, vsl) VALUES(?,?,?,?,?,?,?,?,?,?)",
                      &q)))
      goto rollback;
    sqlite3_bind_int64(q, 1, c.bank_id);
    sqlite3_bind_blob(q, 2, l.source.pk, VOUCH_AUDIT_PK_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, l.source.name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, l.source.jurisdiction, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)l.list_version);
    sqlite3_bind_text(q, 6, l.date, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 7, (sqlite3_int64)l.count);
    sqlite3_bind_blob(q, 8, l.hashes_digest, VOUCH_AUDIT_DIGEST_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, c.now);
    sqlite3_bind_blob(q, 10, vsl, (int)len, SQLITE_STATIC);
    if ((rc = step_one(b, q, "store signed list", &row)))
      goto rollback;
    list_id = sqlite3_last_insert_rowid(b->db);
  }
  sqlite3_finalize(q);
  q = NULL;
  if ((rc = prepare(b,
                    "INSERT INTO entries(bank_id, hash, ext_id, tags, enabled, added_at)"
                    " VALUES(?, ?, ?, ?, 1, ?) ON CONFLICT(bank_id, hash) DO NOTHING",
                    &c.ins)) ||
      (rc = prepare(b, "SELECT id FROM entries WHERE bank_id = ? AND hash = ?", &c.sel)) ||
      (rc = prepare(b, "INSERT OR IGNORE INTO entry_sources(entry_id, source) VALUES(?, ?)", &c.src)) ||
      (rc = prepare(b, "INSERT OR IGNORE INTO entry_lists(entry_id, list_id) VALUES(?, ?)", &link)))
    goto rollback;
  /* the hashes are strictly ascending: B-tree order */
  for (uint64_t i = 0; i < l.count; i++) {
    vouch_list_item it = {(size_t)i + 1, l.hashes + i * l.hash_bytes, NULL, NULL, NULL, VOUCH_ITEM_ADD, NULL, -1};
    if ((rc = insert_item(&c, &it)))
      goto rollback;
    sqlite3_bind_int64(link, 1, c.last_eid);
    sqlite3_bind_int64(link, 2, list_id);
    if ((rc = step_done(&c, link, "link entry to its list")))
      goto rollback;
  }
  sqlite3_finalize(c.ins);
  sqlite3_finalize(c.sel);
  sqlite3_finalize(c.src);
  sqlite3_finalize(link);
  return exec(b, "COMMIT");
rollback:
  sqlite3_finalize(q);
  sqlite3_finalize(c.ins);
  sqlite3_finalize(c.sel);
  sqlite3_finalize(c.src);
  sqlite3_finalize(link);
  (void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
  if (b->errmsg[0] == 0)
    fail(b, rc, "signed import failed: %s", vouch_strerror(rc));
  return rc;
}

int vouch_bank_signed_list_remove(vouch_bank *b, int64_t list_id, int prune_entries, size_t *pruned) {
  if (!b || !b->db)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (pruned)
    *pruned = 0;
  if (b->schema < 2)
    return fail(b, VOUCH_E_NOT_FOUND, "no signed list %lld (this bank file holds none)", (long long)list_id);
  VOUCH_TRY(exec(b, "BEGIN IMMEDIATE"));
  sqlite3_stmt *st = NULL;
  int rc = prepare(b, "SELECT source_name FROM signed_lists WHERE id = ?", &st);
  if (rc == VOUCH_OK) {
    sqlite3_bind_int64(st, 1, list_id);
    int src = sqlite3_step(st);
    if (src == SQLITE_DONE)
      rc = fail(b, VOUCH_E_NOT_FOUND, "no signed list %lld", (long long)list_id);
    else if (src != SQLITE_ROW)
      rc = sqlfail(b, src, "find list");
  }
  if (rc == VOUCH_OK && prune_entries) {
    /* entries of this list only, whose every source is the list's source */
    sqlite3_stmt *del = NULL;
    rc = prepare(b,
                 "DELETE FROM entries WHERE id IN (SELECT entry_id FROM entry_lists WHERE list_id = ?1)"
                 " AND id NOT IN (SELECT entry_id FROM entry_lists WHERE list_id != ?1)"
                 " AND NOT EXISTS (SELECT 1 FROM entry_sources s WHERE s.entry_id = entries.id"
                 "                 AND s.source != ?2)",
                 &del);
    if (rc == VOUCH_OK) {
      sqlite3_bind_int64(del, 1, list_id);
      sqlite3_bind_text(del, 2, (const char *)sqlite3_column_text(st, 0), -1, SQLITE_TRANSIENT);
      int src = sqlite3_step(del);
      if (src != SQLITE_DONE)
        rc = sqlfail(b, src, "prune entries");
      else if (pruned)
        *pruned = (size_t)sqlite3_changes(b->db);
    }
    sqlite3_finalize(del);
  }
  sqlite3_finalize(st);
  st = NULL;
  if (rc == VOUCH_OK && (rc = prepare(b, "DELETE FROM signed_lists WHERE id = ?", &st)) == VOUCH_OK) {
    sqlite3_bind_int64(st, 1, list_id);
    int src = sqlite3_step(st);
    if (src != SQLITE_DONE)
      rc = sqlfail(b, src, "remove list");
  }
  sqlite3_finalize(st);
  if (rc == VOUCH_OK)
    rc = exec(b, "COMMIT");
  if (rc != VOUCH_OK) {
    (void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    if (pruned)
      *pruned = 0;
  }
  return rc;
}

int vouch_bank_signed_lists(vouch_bank *b, const char *const *names, size_t nnames, int current_only,
                            vouch_bank_signed_list_cb cb, void *ctx) {
  if (!b || !b->db || !cb || (nnames && !names))
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  int rc = VOUCH_OK;
  int64_t *ids = NULL;
  size_t nids = 0;
  if (nnames) {
    ids = vouch__malloc(nnames * sizeof *ids);
    if (!ids)
      return fail(b, VOUCH_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nnames; i++) {
      int64_t id;
      int a, en;
      if ((rc = find_bank(b, names[i], &id, &a, &en))) {
        vouch__free(ids);
        return rc;
      }
      if (en)
        ids[nids++] = id;
    }
  }
  if (b->schema < 2) { /* an unmigrated version 1 file holds no signed lists */
    vouch__free(ids);
    return VOUCH_OK;
  }
  sqlite3_stmt *st = NULL;
  if ((rc = prepare(b,
                    "SELECT l.id, b.id, b.name, b.algo, b.enabled, l.source_pk, l.source_name, l.jurisdiction,"
                    " l.list_version, l.date, l.count, l.hashes_digest, l.imported_at, l.vsl,"
                    " (SELECT count(*) FROM entry_lists x WHERE x.list_id = l.id)"
                    " FROM signed_lists l JOIN banks b ON b.id = l.bank_id"
                    " ORDER BY l.source_pk, l.list_version DESC, b.name",
                    &st))) {
    vouch__free(ids);
    return rc;
  }
  uint8_t cur_pk[VOUCH_AUDIT_PK_BYTES], cur_digest[VOUCH_AUDIT_DIGEST_BYTES];
  uint64_t cur_version = 0;
  int have_cur = 0, algo = VOUCH_ALGO_NONE, src;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t bid = sqlite3_column_int64(st, 1);
    int chosen = 0;
    if (nnames) {
      for (size_t k = 0; k < nids && !chosen; k++)
        chosen = ids[k] == bid;
    } else {
      chosen = sqlite3_column_int(st, 4) != 0;
    }
    if (!chosen)
      continue;
    int64_t lid = sqlite3_column_int64(st, 0);
    const char *bname = (const char *)sqlite3_column_text(st, 2);
    const char *balgo = (const char *)sqlite3_column_text(st, 3);
    const void *pk = sqlite3_column_blob(st, 5);
    const char *sname = (const char *)sqlite3_column_text(st, 6);
    const char *jur = (const char *)sqlite3_column_text(st, 7);
    uint64_t version = (uint64_t)sqlite3_column_int64(st, 8);
    const char *date = (const char *)sqlite3_column_text(st, 9);
    uint64_t count = (uint64_t)sqlite3_column_int64(st, 10);
    const void *dg = sqlite3_column_blob(st, 11);
    int dg_len = sqlite3_column_bytes(st, 11);
    int64_t imported = sqlite3_column_int64(st, 12);
    const uint8_t *vsl = sqlite3_column_blob(st, 13);
    size_t vsl_len = (size_t)sqlite3_column_bytes(st, 13);
    uint64_t linked = (uint64_t)sqlite3_column_int64(st, 14);
    int pk_len = sqlite3_column_bytes(st, 5);
    /* the bank file is untrusted: every stored list is verified again and
     * must agree with the columns describing it */
    vouch_audit_list l;
    int bal = balgo ? vouch_algo_from_name(balgo) : VOUCH_ALGO_NONE;
    if (!bname || !pk || pk_len != VOUCH_AUDIT_PK_BYTES || !sname || !jur || !date || !dg ||
        dg_len != VOUCH_AUDIT_DIGEST_BYTES || !vsl || bal == VOUCH_ALGO_NONE) {
      rc = fail(b, VOUCH_E_DB_CORRUPT, "signed list %lld: malformed row", (long long)lid);
      break;
    }
    if ((rc = vouch_audit_list_open(vsl, vsl_len, &l)) != VOUCH_OK) {
      rc = fail(b, rc == VOUCH_E_NOMEM ? rc : VOUCH_E_DB_CORRUPT, "signed list %lld in bank '%s': %s",
                (long long)lid, bname, vouch_strerror(rc));
      break;
    }
    if (memcmp(l.source.pk, pk, VOUCH_AUDIT_PK_BYTES) || strcmp(l.source.name, sname) ||
        strcmp(l.source.jurisdiction, jur) || l.list_version != version || strcmp(l.date, date) ||
        l.count != count || memcmp(l.hashes_digest, dg, VOUCH_AUDIT_DIGEST_BYTES) || l.algo != bal) {
      rc = fail(b, VOUCH_E_DB_CORRUPT, "signed list %lld in bank '%s': columns disagree with the list",
                (long long)lid, bname);
      break;
    }
    if (algo != VOUCH_ALGO_NONE && l.algo != algo) {
      rc = fail(b, VOUCH_E_ALGO_MISMATCH, "signed lists of %s and %s hashes: choose banks",
                vouch_algo_name(algo), vouch_algo_name(l.algo));
      break;
    }
    algo = l.algo;
    int current = 0;
    if (!have_cur || memcmp(cur_pk, l.source.pk, VOUCH_AUDIT_PK_BYTES) != 0) {
      current = 1; /* rows come newest first per key */
      have_cur = 1;
      memcpy(cur_pk, l.source.pk, VOUCH_AUDIT_PK_BYTES);
      memcpy(cur_digest, l.hashes_digest, VOUCH_AUDIT_DIGEST_BYTES);
      cur_version = l.list_version;
    } else if (l.list_version == cur_version) {
      /* the same version in another bank must be the same list */
      if (memcmp(cur_digest, l.hashes_digest, VOUCH_AUDIT_DIGEST_BYTES) != 0) {
        rc = fail(b, VOUCH_E_AUDIT_FORK, "source '%s': two different lists of version %llu (bank '%s')",
                  l.source.name, (unsigned long long)version, bname);
        break;
      }
    }
    if (current_only && !current)
      continue;
    vouch_bank_signed_list out = {lid, bname, &l, vsl, vsl_len, imported, linked, current};
    if ((rc = cb(ctx, &out)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != SQLITE_DONE && src != SQLITE_ROW)
    rc = sqlfail(b, src, "read signed lists");
  sqlite3_finalize(st);
  vouch__free(ids);
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
  if (!in) return fail(b, VOUCH_E_NOMEM, "out of memory");
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

/* ------------------------------------------------------------ video banks */

/* The entry hash of a video: SHA-256 of its vPDQ in the reference's text form. */
static int video_digest(const vouch_vpdq *v, uint8_t out[32]) {
  vouch_digest *d;
  VOUCH_TRY(vouch_digest_create(&d, VOUCH_DIGEST_SHA256));
  char line[VOUCH_VPDQ_LINE_BYTES];
  for (size_t i = 0; i < v->n; i++) {
    size_t len = vouch_vpdq_format_line(&v->frames[i], line, sizeof line);
    vouch_digest_update(d, line, len);
  }
  int rc = vouch_digest_final(d, out, 32);
  vouch_digest_free(d);
  return rc;
}

int vouch_bank_import_video(vouch_bank *b, const char *name, const vouch_vpdq *video, const char *ext_id,
                            const char *source, const char *tags, int64_t now, int *added, int64_t *entry_id) {
  if (!b || !name || !video || !video->n || !video->frames) return VOUCH_E_INVALID;
  if ((ext_id && strlen(ext_id) > VOUCH_LIST_FIELD_MAX) || (source && strlen(source) > VOUCH_LIST_FIELD_MAX) ||
      (tags && strlen(tags) > VOUCH_LIST_FIELD_MAX))
    return fail(b, VOUCH_E_INVALID, "id, source or tags longer than %u bytes", VOUCH_LIST_FIELD_MAX);
  if (b->schema < 3)
    return fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d opened read-only: no video banks", b->schema);
  uint8_t h[32];
  VOUCH_TRY(video_digest(video, h));
  if (!now) now = (int64_t)time(NULL);
  VOUCH_TRY(exec(b, "BEGIN IMMEDIATE"));
  int64_t bank_id, eid = 0;
  int algo, is_new = 0, src;
  sqlite3_stmt *st = NULL;
  int rc = find_bank(b, name, &bank_id, &algo, NULL);
  if (rc == VOUCH_OK && algo != VOUCH_ALGO_VPDQ)
    rc = fail(b, VOUCH_E_ALGO_MISMATCH, "bank '%s' holds %s hashes, not videos", name, vouch_algo_name(algo));
  if (rc == VOUCH_OK) rc = prepare(b, "SELECT id FROM entries WHERE bank_id = ? AND hash = ?", &st);
  if (rc == VOUCH_OK) {
    sqlite3_bind_int64(st, 1, bank_id);
    sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) eid = sqlite3_column_int64(st, 0);
    else if (src != SQLITE_DONE) rc = sqlfail(b, src, "find video");
    sqlite3_finalize(st);
    st = NULL;
  }
  if (rc == VOUCH_OK && !eid) {
    is_new = 1;
    rc = prepare(b, "INSERT INTO entries(bank_id, hash, ext_id, tags, enabled, added_at) VALUES(?, ?, ?, ?, 1, ?)", &st);
    if (rc == VOUCH_OK) {
      sqlite3_bind_int64(st, 1, bank_id);
      sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
      sqlite3_bind_text(st, 3, ext_id, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 4, tags, -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 5, now);
      src = sqlite3_step(st);
      if (src != SQLITE_DONE) rc = sqlfail(b, src, "add video");
      eid = sqlite3_last_insert_rowid(b->db);
      sqlite3_finalize(st);
      st = NULL;
    }
    if (rc == VOUCH_OK)
      rc = prepare(b, "INSERT INTO video_frames(entry_id, frame, quality, hash, seconds) VALUES(?, ?, ?, ?, ?)", &st);
    for (size_t i = 0; rc == VOUCH_OK && i < video->n; i++) {
      const vouch_vpdq_frame *f = &video->frames[i];
      if (f->frame > (uint64_t)INT64_MAX || f->quality < 0 || f->quality > 100) {
        rc = fail(b, VOUCH_E_INVALID, "frame %zu: number or quality out of range", i);
        break;
      }
      sqlite3_bind_int64(st, 1, eid);
      sqlite3_bind_int64(st, 2, (sqlite3_int64)f->frame);
      sqlite3_bind_int(st, 3, f->quality);
      sqlite3_bind_blob(st, 4, f->hash, VOUCH_PDQ_BYTES, SQLITE_STATIC);
      sqlite3_bind_double(st, 5, (double)f->seconds);
      src = sqlite3_step(st);
      if (src == SQLITE_CONSTRAINT_PRIMARYKEY)
        rc = fail(b, VOUCH_E_INVALID, "frame %llu appears twice", (unsigned long long)f->frame);
      else if (src != SQLITE_DONE)
        rc = sqlfail(b, src, "add frame");
      sqlite3_reset(st);
    }
    if (st) sqlite3_finalize(st);
    st = NULL;
  }
  if (rc == VOUCH_OK && source && *source) {
    rc = prepare(b, "INSERT OR IGNORE INTO entry_sources(entry_id, source) VALUES(?, ?)", &st);
    if (rc == VOUCH_OK) {
      sqlite3_bind_int64(st, 1, eid);
      sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
      src = sqlite3_step(st);
      if (src != SQLITE_DONE) rc = sqlfail(b, src, "add source");
      sqlite3_finalize(st);
    }
  }
  if (rc == VOUCH_OK) rc = exec(b, "COMMIT");
  if (rc != VOUCH_OK) {
    (void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
  }
  if (added) *added = is_new;
  if (entry_id) *entry_id = eid;
  return VOUCH_OK;
}

int vouch_bank_video(vouch_bank *b, int64_t entry_id, vouch_vpdq *out) {
  if (!b || !out) return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  out->duration = -1.0;
  if (b->schema < 3) return fail(b, VOUCH_E_NOT_FOUND, "no video %lld", (long long)entry_id);
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, "SELECT frame, quality, hash, seconds FROM video_frames WHERE entry_id = ? ORDER BY frame", &st));
  sqlite3_bind_int64(st, 1, entry_id);
  int src, rc = VOUCH_OK;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    const void *h = sqlite3_column_blob(st, 2);
    const sqlite3_int64 fr = sqlite3_column_int64(st, 0);
    const int q = sqlite3_column_int(st, 1);
    if (!h || sqlite3_column_bytes(st, 2) != (int)VOUCH_PDQ_BYTES || fr < 0 || q < 0 || q > 100) {
      rc = fail(b, VOUCH_E_DB_CORRUPT, "video %lld: a malformed frame row", (long long)entry_id);
      break;
    }
    if (out->n == out->cap) {
      size_t nc = out->cap ? out->cap * 2 : 256;
      if (nc > VOUCH_VPDQ_MAX_FRAMES) {
        rc = fail(b, VOUCH_E_DB_CORRUPT, "video %lld: more than %u frames", (long long)entry_id, VOUCH_VPDQ_MAX_FRAMES);
        break;
      }
      vouch_vpdq_frame *nf = vouch__realloc(out->frames, nc * sizeof *nf);
      if (!nf) {
        rc = fail(b, VOUCH_E_NOMEM, "out of memory");
        break;
      }
      out->frames = nf;
      out->cap = nc;
    }
    vouch_vpdq_frame *f = &out->frames[out->n++];
    f->frame = (uint64_t)fr;
    f->quality = q;
    memcpy(f->hash, h, VOUCH_PDQ_BYTES);
    f->seconds = (float)sqlite3_column_double(st, 3);
  }
  if (rc == VOUCH_OK && src != SQLITE_DONE) rc = sqlfail(b, src, "read frames");
  sqlite3_finalize(st);
  if (rc == VOUCH_OK && out->n == 0) rc = fail(b, VOUCH_E_NOT_FOUND, "no video %lld", (long long)entry_id);
  if (rc != VOUCH_OK) {
    vouch_vpdq_clear(out);
    out->duration = -1.0;
  }
  return rc;
}

static int cmp_frame_hash(const void *a, const void *b) { return memcmp(a, b, VOUCH_PDQ_BYTES); }

/* The index of a vpdq bank's enabled videos: one PDQ entry per unique frame
 * (quality >= VOUCH_VPDQ_QUALITY_MIN) with the video's entry id, external
 * id and sources. */
static int build_video_index(vouch_bank *b, const banklist *bl, const char *path, uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                             size_t *count) {
  int rc = VOUCH_OK;
  sqlite3_stmt *st = NULL, *fs = NULL;
  index_rows rows = {.hb = VOUCH_PDQ_BYTES};
  if ((rc = prepare(b,
                    "SELECT e.id, coalesce(e.ext_id, ''),"
                    " coalesce((SELECT group_concat(source, ',') FROM"
                    "   (SELECT source FROM entry_sources s WHERE s.entry_id = e.id ORDER BY source)), '')"
                    " FROM entries e WHERE e.bank_id = ? AND e.enabled"
                    " AND coalesce(e.disabled_until, 0) <= CAST(strftime('%s', 'now') AS INTEGER) ORDER BY e.id",
                    &st)) ||
      (rc = prepare(b, "SELECT hash FROM video_frames WHERE entry_id = ? AND quality >= ? ORDER BY hash", &fs)))
    goto done;
  for (size_t k = 0; k < bl->n && rc == VOUCH_OK; k++) {
    sqlite3_bind_int64(st, 1, bl->ids[k]);
    int src;
    while (rc == VOUCH_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
      const int64_t eid = sqlite3_column_int64(st, 0);
      const char *ext = (const char *)sqlite3_column_text(st, 1), *srcs = (const char *)sqlite3_column_text(st, 2);
      if (!ext || !srcs || strlen(ext) > VOUCH_INDEX_MAX_STRING || strlen(srcs) > VOUCH_INDEX_MAX_STRING) {
        rc = fail(b, VOUCH_E_DB_CORRUPT, "video %lld: id or sources too long for an index", (long long)eid);
        break;
      }
      const size_t eo = sb_add(&rows.sb, ext), so = sb_add(&rows.sb, srcs);
      if (eo == SIZE_MAX || so == SIZE_MAX) {
        rc = fail(b, VOUCH_E_NOMEM, "out of memory");
        break;
      }
      sqlite3_bind_int64(fs, 1, eid);
      sqlite3_bind_int(fs, 2, VOUCH_VPDQ_QUALITY_MIN);
      int fsrc;
      /* frames come sorted by hash: a hash equal to the previous one of the
       * same video is not unique */
      const size_t first = rows.n;
      while ((fsrc = sqlite3_step(fs)) == SQLITE_ROW) {
        const void *h = sqlite3_column_blob(fs, 0);
        if (!h || sqlite3_column_bytes(fs, 0) != (int)VOUCH_PDQ_BYTES) {
          rc = fail(b, VOUCH_E_DB_CORRUPT, "video %lld: a frame hash has the wrong size", (long long)eid);
          break;
        }
        if (rows.n > first && cmp_frame_hash(rows.hashes + (rows.n - 1) * VOUCH_PDQ_BYTES, h) == 0) continue;
        if (rows_push(&rows, h, eo, so, (uint32_t)k, (uint64_t)eid) != VOUCH_OK) {
          rc = fail(b, VOUCH_E_NOMEM, "out of memory");
          break;
        }
      }
      if (rc == VOUCH_OK && fsrc != SQLITE_DONE) rc = sqlfail(b, fsrc, "read frames");
      sqlite3_reset(fs);
    }
    if (rc == VOUCH_OK && src != SQLITE_DONE) rc = sqlfail(b, src, "read videos");
    sqlite3_reset(st);
  }
  if (rc == VOUCH_OK) rc = rows_write(b, &rows, VOUCH_ALGO_PDQ, bl, path, root, count);
done:
  if (st) sqlite3_finalize(st);
  if (fs) sqlite3_finalize(fs);
  rows_free(&rows);
  return rc;
}

int vouch_bank_build_index(vouch_bank *b, const char *const *names, size_t nnames, const char *path,
                           uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count) {
  if (!b || !path || (nnames && !names))
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  int rc = VOUCH_OK, algo = VOUCH_ALGO_NONE;
  banklist bl = {0};
  index_rows rows = {0};
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
      int al = vouch_bank_algo_from_name(a);
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
  int64_t *ids = bl.ids;
  if (algo == VOUCH_ALGO_NONE)
    algo = VOUCH_ALGO_PDQ; /* no banks at all: an empty PDQ index */
  if (algo == VOUCH_ALGO_VPDQ) {
    rc = build_video_index(b, &bl, path, root, count);
    goto done;
  }
  const size_t hb = vouch_algo_bytes(algo);
  rows.hb = hb;
  /* entries disabled until a later time stay out (schema 3) */
  if ((rc = prepare(b,
                    b->schema >= 3
                        ? "SELECT e.id, e.hash, coalesce(e.ext_id, ''),"
                          " coalesce((SELECT group_concat(source, ',') FROM"
                          "   (SELECT source FROM entry_sources s WHERE s.entry_id = e.id ORDER BY source)), '')"
                          " FROM entries e WHERE e.bank_id = ?1 AND e.enabled"
                          " AND coalesce(e.disabled_until, 0) <= ?2"
                        : "SELECT e.id, e.hash, coalesce(e.ext_id, ''),"
                          " coalesce((SELECT group_concat(source, ',') FROM"
                          "   (SELECT source FROM entry_sources s WHERE s.entry_id = e.id ORDER BY source)), '')"
                          " FROM entries e WHERE e.bank_id = ?1 AND e.enabled AND ?2 IS NOT NULL",
                    &st)))
    goto done;
  for (size_t k = 0; k < nb; k++) {
    sqlite3_bind_int64(st, 1, ids[k]);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
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
      const size_t eo = sb_add(&rows.sb, ext), so = sb_add(&rows.sb, srcs);
      if (eo == SIZE_MAX || so == SIZE_MAX ||
          rows_push(&rows, h, eo, so, (uint32_t)k, (uint64_t)sqlite3_column_int64(st, 0)) != VOUCH_OK) {
        rc = fail(b, VOUCH_E_NOMEM, "out of memory");
        goto done;
      }
    }
    if (src != SQLITE_DONE) {
      rc = sqlfail(b, src, "read entries");
      goto done;
    }
    sqlite3_reset(st);
  }
  rc = rows_write(b, &rows, algo, &bl, path, root, count);
done:
  if (st)
    sqlite3_finalize(st);
  for (size_t k = 0; k < bl.n; k++)
    vouch__free(bl.names[k]);
  vouch__free(bl.ids);
  vouch__free(bl.names);
  rows_free(&rows);
  return rc;
}

/* ------------------------------------------------------------ configured exchanges */

int vouch_exchange_config_add(vouch_bank *b, const vouch_exchange_config *c) {
  if (!b || !c || !c->url || !c->bank)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (!valid_name(c->name))
    return fail(b, VOUCH_E_INVALID, "bad exchange name '%s' (1..128 of A-Z a-z 0-9 . _ - : @)", c->name ? c->name : "");
  if (c->type != VOUCH_LIST_NCMEC && c->type != VOUCH_LIST_STOPNCII && c->type != VOUCH_LIST_TAT)
    return fail(b, VOUCH_E_INVALID, "exchange type is ncmec, stopncii or tat");
  if (strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8))
    return fail(b, VOUCH_E_INVALID, "exchange URL must be http:// or https://");
  if (b->schema < 3)
    return fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no exchanges", b->schema);
  int64_t id;
  int algo;
  VOUCH_TRY(find_bank(b, c->bank, &id, &algo, NULL));
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b,
                    "INSERT INTO exchanges(name, type, url, bank_id, source, credentials, created_at)"
                    " VALUES(?,?,?,?,?,?,?)",
                    &st));
  sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, vouch_list_format_name(c->type), -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, c->url, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, id);
  sqlite3_bind_text(st, 5, c->source, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, c->credentials, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
  int src = sqlite3_step(st), rc = VOUCH_OK;
  if (src == SQLITE_CONSTRAINT_PRIMARYKEY || src == SQLITE_CONSTRAINT_UNIQUE)
    rc = fail(b, VOUCH_E_EXISTS, "an exchange named '%s' already exists", c->name);
  else if (src != SQLITE_DONE)
    rc = sqlfail(b, src, "add exchange");
  sqlite3_finalize(st);
  return rc;
}

int vouch_exchange_config_remove(vouch_bank *b, const char *name) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 3)
    return fail(b, VOUCH_E_NOT_FOUND, "no exchange named '%s'", name);
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b, "DELETE FROM exchanges WHERE name = ?", &st));
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int src = sqlite3_step(st);
  sqlite3_finalize(st);
  if (src != SQLITE_DONE)
    return sqlfail(b, src, "remove exchange");
  return sqlite3_changes(b->db) ? VOUCH_OK : fail(b, VOUCH_E_NOT_FOUND, "no exchange named '%s'", name);
}

int vouch_exchange_configs(vouch_bank *b, const char *name, vouch_exchange_config_cb cb, void *ctx) {
  if (!b || !cb)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 3)
    return name ? fail(b, VOUCH_E_NOT_FOUND, "no exchange named '%s'", name) : VOUCH_OK;
  sqlite3_stmt *st;
  VOUCH_TRY(prepare(b,
                    "SELECT x.name, x.type, x.url, b.name, x.source, x.credentials, x.created_at"
                    " FROM exchanges x JOIN banks b ON b.id = x.bank_id"
                    " WHERE ?1 IS NULL OR x.name = ?1 ORDER BY x.name",
                    &st));
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int src, rc = VOUCH_OK, n = 0;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    const char *type = (const char *)sqlite3_column_text(st, 1);
    vouch_exchange_config c = {(const char *)sqlite3_column_text(st, 0), vouch_list_format_from_name(type),
                               (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
                               (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5),
                               sqlite3_column_int64(st, 6)};
    if (!c.name || !c.url || !c.bank ||
        (c.type != VOUCH_LIST_NCMEC && c.type != VOUCH_LIST_STOPNCII && c.type != VOUCH_LIST_TAT)) {
      rc = fail(b, VOUCH_E_DB_CORRUPT, "an exchange row is malformed");
      break;
    }
    n++;
    if ((rc = cb(ctx, &c)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != SQLITE_DONE && src != SQLITE_ROW)
    rc = sqlfail(b, src, "list exchanges");
  sqlite3_finalize(st);
  if (rc == VOUCH_OK && name && n == 0)
    rc = fail(b, VOUCH_E_NOT_FOUND, "no exchange named '%s'", name);
  return rc;
}
