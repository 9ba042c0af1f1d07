/* src/bank/store_sqlite.c -- the SQLite backend of the bank storage interface
 * (store.h): a bank file, its schema and migrations, and the statement ops.
 *
 * Schema (version 5, PRAGMA user_version; application_id 'VCHB'):
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
 *   entries.second: the entry's second hash (VOUCH_DERIV_HASH_BYTES,
 *           vouch_derivative_hash()) as its source supplied it, or NULL [v4]
 *   signal_types(name PK (an algorithm's name), enabled_ratio 0..1): HMA's
 *           per-signal-type setting (vouch/bank_config.h)           [v5]
 *   exchanges.enabled: 0 keeps a configured exchange from syncing   [v5]
 * An older file is migrated to version 5 when opened for writing (one
 * transaction: the missing tables and columns are added); opened read-only it
 * is read as is and simply holds no signed lists, tombstones, checkpoints,
 * videos or second hashes.
 * WAL journal, foreign keys on.  A write transaction is BEGIN IMMEDIATE, so
 * a killed import leaves the bank exactly as it was (SQLite rolls back the
 * unfinished WAL frames on the next open). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "store.h"

#define BANK_APP_ID 1447249986 /* 0x56434842, 'VCHB' */

typedef struct sq_db {
  vouch__db base;
  sqlite3 *db;
} sq_db;

typedef struct sq_stmt {
  vouch__stmt base;
  sqlite3_stmt *st;
} sq_stmt;

#define SQ(d) (((sq_db *)(d))->db)
#define ST(s) (((sq_stmt *)(s))->st)

static int pragma_int(sqlite3 *db, const char *sql, int *v);

static int map_rc(int src) {
  switch (src & 0xff) {
  case SQLITE_OK: return VOUCH__DB_OK;
  case SQLITE_ROW: return VOUCH__DB_ROW;
  case SQLITE_DONE: return VOUCH__DB_DONE;
  case SQLITE_NOTADB:
  case SQLITE_CORRUPT: return VOUCH__DB_CORRUPT;
  case SQLITE_NOMEM: return VOUCH__DB_NOMEM;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return VOUCH__DB_BUSY;
  default: break;
  }
  if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY) return VOUCH__DB_UNIQUE;
  return VOUCH__DB_ERROR;
}

static int sq_exec(vouch__db *d, const char *sql) { return map_rc(sqlite3_exec(SQ(d), sql, NULL, NULL, NULL)); }

static int sq_prepare(vouch__db *d, const char *sql, vouch__stmt **out) {
  *out = NULL;
  sq_stmt *s = vouch__calloc(1, sizeof *s);
  if (!s) return VOUCH__DB_NOMEM;
  int src = sqlite3_prepare_v2(SQ(d), sql, -1, &s->st, NULL);
  if (src != SQLITE_OK) {
    sqlite3_finalize(s->st);
    vouch__free(s);
    return map_rc(src);
  }
  s->base.db = d;
  *out = &s->base;
  return VOUCH__DB_OK;
}

static void sq_bind_int64(vouch__stmt *s, int i, int64_t v) { sqlite3_bind_int64(ST(s), i, (sqlite3_int64)v); }
static void sq_bind_double(vouch__stmt *s, int i, double v) { sqlite3_bind_double(ST(s), i, v); }
static void sq_bind_text(vouch__stmt *s, int i, const char *t, int n) { sqlite3_bind_text(ST(s), i, t, n, SQLITE_TRANSIENT); }
static void sq_bind_blob(vouch__stmt *s, int i, const void *p, int n) {
  if (p) sqlite3_bind_blob(ST(s), i, p, n, SQLITE_TRANSIENT);
  else sqlite3_bind_null(ST(s), i);
}
static void sq_bind_null(vouch__stmt *s, int i) { sqlite3_bind_null(ST(s), i); }
static int sq_step(vouch__stmt *s) { return map_rc(sqlite3_step(ST(s))); }
static void sq_reset(vouch__stmt *s) { sqlite3_reset(ST(s)); }
static void sq_finalize(vouch__stmt *s) {
  sqlite3_finalize(ST(s));
  vouch__free(s);
}
static int64_t sq_col_int64(vouch__stmt *s, int i) { return sqlite3_column_int64(ST(s), i); }
static double sq_col_double(vouch__stmt *s, int i) { return sqlite3_column_double(ST(s), i); }
static const char *sq_col_text(vouch__stmt *s, int i) { return (const char *)sqlite3_column_text(ST(s), i); }
static const void *sq_col_blob(vouch__stmt *s, int i) { return sqlite3_column_blob(ST(s), i); }
static int sq_col_bytes(vouch__stmt *s, int i) { return sqlite3_column_bytes(ST(s), i); }
static int64_t sq_changes(vouch__db *d) { return sqlite3_changes(SQ(d)); }
static const char *sq_errmsg(vouch__db *d) { return sqlite3_errmsg(SQ(d)); }
static int sq_begin(vouch__db *d) { return sq_exec(d, "BEGIN IMMEDIATE"); }
static int sq_commit(vouch__db *d) { return sq_exec(d, "COMMIT"); }
static void sq_rollback(vouch__db *d) { (void)sqlite3_exec(SQ(d), "ROLLBACK", NULL, NULL, NULL); }
static void sq_close(vouch__db *d) {
  sqlite3_close_v2(SQ(d));
  vouch__free(d);
}

/* vouchd's tables, created on first use; a token table made before device
 * tokens (no `account`, a CHECK refusing the role) is copied into the new
 * shape in one transaction. */
#define TOKENS_TABLE(name)                                                            \
  "CREATE TABLE IF NOT EXISTS " name "("                                              \
  "  id INTEGER PRIMARY KEY,"                                                         \
  "  name TEXT NOT NULL UNIQUE,"                                                      \
  "  role TEXT NOT NULL CHECK(role IN ('reader','matcher','admin','device')),"        \
  "  sha256 BLOB NOT NULL UNIQUE CHECK(length(sha256) = 32),"                         \
  "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"                     \
  "  account TEXT CHECK((role = 'device') = (account IS NOT NULL)));"

static const char service_tables[] = TOKENS_TABLE("vouchd_tokens")
  "CREATE TABLE IF NOT EXISTS vouchd_vouchers("
  "  id INTEGER PRIMARY KEY,"
  "  account TEXT NOT NULL,"
  "  digest BLOB NOT NULL,"
  "  data BLOB NOT NULL,"
  "  received_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
  "  UNIQUE(account, digest));";

static const char migrate_tokens[] =
  "BEGIN IMMEDIATE;" TOKENS_TABLE("vouchd_tokens_v2")
  "INSERT INTO vouchd_tokens_v2(id, name, role, sha256, created_at)"
  "  SELECT id, name, role, sha256, created_at FROM vouchd_tokens;"
  "DROP TABLE vouchd_tokens;"
  "ALTER TABLE vouchd_tokens_v2 RENAME TO vouchd_tokens;"
  "COMMIT;";

static int sq_service_schema(vouch__db *d) {
  int rc = sq_exec(d, service_tables);
  if (rc != VOUCH__DB_OK) return rc;
  int has_account;
  rc = pragma_int(SQ(d), "SELECT count(*) FROM pragma_table_info('vouchd_tokens') WHERE name = 'account'",
                  &has_account);
  if (rc == VOUCH__DB_OK && !has_account) {
    rc = sq_exec(d, migrate_tokens);
    if (rc != VOUCH__DB_OK) sq_rollback(d);
  }
  return rc;
}

static const vouch__db_ops sqlite_ops = {
  "sqlite",       sq_exec,       sq_prepare,   sq_bind_int64, sq_bind_double, sq_bind_text, sq_bind_blob,
  sq_bind_null,   sq_step,       sq_reset,     sq_finalize,   sq_col_int64,   sq_col_double, sq_col_text,
  sq_col_blob,    sq_col_bytes,  sq_changes,   sq_errmsg,     sq_begin,       sq_commit,    sq_rollback,
  sq_close,       sq_service_schema};

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

/* Added by schema version 4 (also the migration from versions 1 to 3). */
static const char *const schema_v4 = "ALTER TABLE entries ADD COLUMN second BLOB;";

/* Added by schema version 5 (also the migration from versions 1 to 4): the
 * signal types' settings, and the exchanges' enabled flag (added apart: a
 * file taken back to an older version by hand may still have it). */
static const char *const schema_v5 =
    "CREATE TABLE IF NOT EXISTS signal_types("
    " name TEXT PRIMARY KEY,"
    " enabled_ratio REAL NOT NULL CHECK(enabled_ratio >= 0 AND enabled_ratio <= 1));";
static const char *const schema_v5_exchanges = "ALTER TABLE exchanges ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;";

#define STR_(x) #x
#define STR(x) STR_(x)

/* Runs `sql`; on failure writes SQLite's message to err. */
static int run(sqlite3 *db, const char *sql, char *err, size_t errcap) {
  char *e = NULL;
  int src = sqlite3_exec(db, sql, NULL, NULL, &e);
  if (src == SQLITE_OK) return VOUCH_OK;
  snprintf(err, errcap, "%s", e ? e : sqlite3_errmsg(db));
  sqlite3_free(e);
  return map_rc(src);
}

static int pragma_int(sqlite3 *db, const char *sql, int *v) {
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (src == SQLITE_OK) src = sqlite3_step(st);
  *v = src == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  return src == SQLITE_ROW ? VOUCH__DB_OK : map_rc(src);
}

static int db_code(int dbrc) {
  switch (dbrc) {
  case VOUCH__DB_CORRUPT: return VOUCH_E_DB_CORRUPT;
  case VOUCH__DB_NOMEM: return VOUCH_E_NOMEM;
  case VOUCH__DB_BUSY: return VOUCH_E_DB_BUSY;
  default: return VOUCH_E_DB;
  }
}

/* The checks and migrations of an open file.  Returns a VOUCH_E_* code. */
static int sq_setup(sqlite3 *db, const char *path, unsigned flags, int *schema_out, char *err, size_t errcap) {
  int version, app, rc;
  if ((rc = run(db, "PRAGMA foreign_keys=ON", err, errcap)) || (rc = pragma_int(db, "PRAGMA user_version", &version)) ||
      (rc = pragma_int(db, "PRAGMA application_id", &app))) {
    if (!err[0]) snprintf(err, errcap, "%s: %s", path, sqlite3_errmsg(db));
    return db_code(rc);
  }
  if (version == 0 && app == 0) {
    /* empty database: only ours if it has no tables at all */
    int ntab;
    if ((rc = pragma_int(db, "SELECT count(*) FROM sqlite_schema", &ntab))) {
      snprintf(err, errcap, "%s: %s", path, sqlite3_errmsg(db));
      return db_code(rc);
    }
    if (ntab != 0) {
      snprintf(err, errcap, "%s: an SQLite file, but not a vouch bank", path);
      return VOUCH_E_DB_CORRUPT;
    }
    if (flags & VOUCH_BANK_OPEN_READONLY) {
      snprintf(err, errcap, "%s: empty file, not a bank", path);
      return VOUCH_E_NOT_FOUND;
    }
    if ((rc = run(db, "PRAGMA journal_mode=WAL", err, errcap)) || (rc = run(db, "BEGIN IMMEDIATE", err, errcap)))
      return db_code(rc);
    rc = run(db, schema, err, errcap);
    if (!rc) rc = run(db, schema_v2, err, errcap);
    if (!rc) rc = run(db, schema_v3, err, errcap);
    if (!rc) rc = run(db, schema_v4, err, errcap);
    if (!rc) rc = run(db, schema_v5, err, errcap);
    if (!rc) rc = run(db, schema_v5_exchanges, err, errcap);
    if (!rc)
      rc = run(db, "PRAGMA application_id=" STR(BANK_APP_ID) "; PRAGMA user_version=" STR(VOUCH_BANK_SCHEMA_VERSION),
               err, errcap);
    if (!rc) rc = run(db, "COMMIT", err, errcap);
    if (rc) {
      (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
      return db_code(rc);
    }
    *schema_out = VOUCH_BANK_SCHEMA_VERSION;
    return VOUCH_OK;
  }
  if (app != BANK_APP_ID) {
    snprintf(err, errcap, "%s: an SQLite file, but not a vouch bank", path);
    return VOUCH_E_DB_CORRUPT;
  }
  if (version < 1 || version > VOUCH_BANK_SCHEMA_VERSION) {
    snprintf(err, errcap, "%s: bank schema version %d, this build reads 1 to %d", path, version,
             VOUCH_BANK_SCHEMA_VERSION);
    return VOUCH_E_DB_VERSION;
  }
  *schema_out = version;
  if (flags & VOUCH_BANK_OPEN_READONLY) return VOUCH_OK;
  if ((rc = run(db, "PRAGMA journal_mode=WAL", err, errcap))) return db_code(rc);
  if (version == VOUCH_BANK_SCHEMA_VERSION) return VOUCH_OK;
  /* migrate: add the missing tables */
  if ((rc = run(db, "BEGIN IMMEDIATE", err, errcap))) return db_code(rc);
  /* re-read under the write lock: another process may have migrated it */
  int v = -1, code = VOUCH_OK;
  rc = pragma_int(db, "PRAGMA user_version", &v);
  if (!rc && v >= 1 && v <= 4) {
    rc = v == 1 ? run(db, schema_v2, err, errcap) : VOUCH__DB_OK;
    if (!rc && v <= 2) rc = run(db, schema_v3, err, errcap);
    /* (a file taken back to an older version by hand may still have it) */
    int has_second = 0;
    if (!rc)
      rc = pragma_int(db, "SELECT count(*) FROM pragma_table_info('entries') WHERE name = 'second'", &has_second);
    if (!rc && !has_second) rc = run(db, schema_v4, err, errcap);
    int has_enabled = 0;
    if (!rc) rc = run(db, schema_v5, err, errcap);
    if (!rc)
      rc = pragma_int(db, "SELECT count(*) FROM pragma_table_info('exchanges') WHERE name = 'enabled'", &has_enabled);
    if (!rc && !has_enabled) rc = run(db, schema_v5_exchanges, err, errcap);
    if (!rc) rc = run(db, "PRAGMA user_version=" STR(VOUCH_BANK_SCHEMA_VERSION), err, errcap);
  } else if (!rc && v != VOUCH_BANK_SCHEMA_VERSION) {
    snprintf(err, errcap, "%s: bank schema version changed to %d while opening", path, v);
    code = VOUCH_E_DB_VERSION;
  }
  if (!rc && code == VOUCH_OK) rc = run(db, "COMMIT", err, errcap);
  if (rc || code) {
    if (rc && !err[0]) snprintf(err, errcap, "%s: %s", path, sqlite3_errmsg(db));
    (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return code ? code : db_code(rc);
  }
  *schema_out = VOUCH_BANK_SCHEMA_VERSION;
  return VOUCH_OK;
}

int vouch__store_open_sqlite(const char *path, unsigned flags, vouch__db **out, int *schema_out, char *err,
                             size_t errcap) {
  *out = NULL;
  err[0] = 0;
  if (access(path, F_OK) != 0 && !(flags & VOUCH_BANK_OPEN_CREATE)) {
    snprintf(err, errcap, "%s: no such bank file (create one with 'vouch bank create')", path);
    return VOUCH_E_NOT_FOUND;
  }
  sq_db *d = vouch__calloc(1, sizeof *d);
  if (!d) return VOUCH_E_NOMEM;
  d->base.ops = &sqlite_ops;
  int oflags = (flags & VOUCH_BANK_OPEN_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int src = sqlite3_open_v2(path, &d->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
  if (src != SQLITE_OK) {
    snprintf(err, errcap, "%s: %s", path, d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(src));
    sq_close(&d->base);
    return db_code(map_rc(src));
  }
  sqlite3_extended_result_codes(d->db, 1);
  sqlite3_busy_timeout(d->db, 5000);
  /* Defensive settings: the file is untrusted. */
  sqlite3_db_config(d->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
  sqlite3_db_config(d->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
  sqlite3_db_config(d->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
  sqlite3_db_config(d->db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
  int rc = sq_setup(d->db, path, flags, schema_out, err, errcap);
  *out = &d->base; /* even on failure: the caller frees it */
  return rc;
}
