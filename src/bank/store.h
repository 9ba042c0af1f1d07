/* src/bank/store.h -- the storage interface under the bank module: one ops
 * table (a vtable) per backend, so the bank logic (imports, tombstones,
 * signed lists, index builds, vouchd's tokens and vouchers) is written once
 * and runs on SQLite (store_sqlite.c, the embedded default) and on
 * PostgreSQL (store_pg.c, selected by a postgresql:// URI).
 *
 * The interface is a small prepared-statement API.  SQL handed to it is the
 * common subset both engines run: placeholders are ? or ?N (the PostgreSQL
 * backend rewrites them to $N), booleans are integer columns compared with
 * = 0 / = 1, "INSERT ... ON CONFLICT DO NOTHING" instead of INSERT OR IGNORE,
 * "RETURNING id" instead of last_insert_rowid(), group_concat(x, ',') (the
 * PostgreSQL schema defines that aggregate), no PRAGMA and no strftime().
 * Schema creation and migrations are per backend (each opener's job). */
#ifndef VOUCH_BANK_STORE_H
#define VOUCH_BANK_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "vouch/bank.h"
#include "common/internal.h"

/* What step() and exec() return. */
enum {
  VOUCH__DB_OK = 0,
  VOUCH__DB_ROW = 1,      /* step(): a row is ready */
  VOUCH__DB_DONE = 2,     /* step(): no (more) rows */
  VOUCH__DB_UNIQUE = 3,   /* a UNIQUE or PRIMARY KEY constraint refused the row */
  VOUCH__DB_ERROR = 4,    /* anything else; errmsg() says what */
  VOUCH__DB_BUSY = 5,     /* locked by another writer past the timeout */
  VOUCH__DB_CORRUPT = 6,  /* not a database / corrupt file */
  VOUCH__DB_NOMEM = 7
};

typedef struct vouch__db vouch__db;
typedef struct vouch__stmt vouch__stmt;

typedef struct vouch__db_ops {
  const char *name; /* "sqlite" or "postgresql" */
  int (*exec)(vouch__db *db, const char *sql);           /* one or more statements, no parameters */
  int (*prepare)(vouch__db *db, const char *sql, vouch__stmt **out);
  /* binds (1-based); text and blob are copied or kept until the next step/reset
   * as the backend needs: callers keep them alive until step() returns */
  void (*bind_int64)(vouch__stmt *st, int i, int64_t v);
  void (*bind_double)(vouch__stmt *st, int i, double v);
  void (*bind_text)(vouch__stmt *st, int i, const char *s, int len); /* s NULL: NULL; len < 0: strlen */
  void (*bind_blob)(vouch__stmt *st, int i, const void *p, int len);  /* p NULL: NULL */
  void (*bind_null)(vouch__stmt *st, int i);
  int (*step)(vouch__stmt *st);
  void (*reset)(vouch__stmt *st); /* keeps the bindings, as sqlite3_reset() */
  void (*finalize)(vouch__stmt *st); /* NULL is a no-op */
  int64_t (*col_int64)(vouch__stmt *st, int i);   /* 0-based columns; NULL reads as 0 */
  double (*col_double)(vouch__stmt *st, int i);
  const char *(*col_text)(vouch__stmt *st, int i); /* NULL for SQL NULL */
  const void *(*col_blob)(vouch__stmt *st, int i); /* NULL for SQL NULL */
  int (*col_bytes)(vouch__stmt *st, int i);
  int64_t (*changes)(vouch__db *db); /* rows the last UPDATE/DELETE/INSERT changed */
  const char *(*errmsg)(vouch__db *db);
  int (*begin)(vouch__db *db);    /* a write transaction (SQLite: IMMEDIATE) */
  int (*commit)(vouch__db *db);
  void (*rollback)(vouch__db *db);
  void (*close)(vouch__db *db);
  int (*service_schema)(vouch__db *db); /* vouchd's tables exist after it (bank_service.c) */
} vouch__db_ops;

/* Every backend's connection and statement starts with these. */
struct vouch__db {
  const vouch__db_ops *ops;
  int pg; /* 1 for PostgreSQL: the few places whose SQL differs test it */
};
struct vouch__stmt {
  vouch__db *db;
};

/* The openers: *out receives a connection (or NULL), *schema the bank schema
 * version found (after any migration), err a message on failure.  Flags are
 * VOUCH_BANK_OPEN_*.  Return VOUCH_OK or a VOUCH_E_* code. */
VOUCH_HIDDEN int vouch__store_open_sqlite(const char *path, unsigned flags, vouch__db **out, int *schema,
                                          char *err, size_t errcap);
VOUCH_HIDDEN int vouch__store_open_pg(const char *uri, unsigned flags, vouch__db **out, int *schema, char *err,
                                      size_t errcap);
/* PostgreSQL only (replicas): the change counter (migration 3); waiting up
 * to timeout_ms for a NOTIFY on vouch_changes (the first call LISTENs and
 * reports a change); advisory lock `key`: op 0 unlock, 1 try, 2 wait. */
VOUCH_HIDDEN int vouch__pg_change_seq(vouch__db *db, int64_t *seq);
VOUCH_HIDDEN int vouch__pg_wait_change(vouch__db *db, int timeout_ms, int *changed);
VOUCH_HIDDEN int vouch__pg_advisory(vouch__db *db, int64_t key, int op, int *got);
/* 1 when `path` names a PostgreSQL database (postgresql:// or postgres://). */
VOUCH_HIDDEN int vouch__store_is_pg(const char *path);

/* Thin dispatchers, so call sites read like the SQLite API they replace. */
static inline int vouch__db_exec(vouch__db *d, const char *sql) { return d->ops->exec(d, sql); }
static inline int vouch__db_prepare(vouch__db *d, const char *sql, vouch__stmt **st) {
  return d->ops->prepare(d, sql, st);
}
static inline void vouch__bind_int64(vouch__stmt *s, int i, int64_t v) { s->db->ops->bind_int64(s, i, v); }
static inline void vouch__bind_double(vouch__stmt *s, int i, double v) { s->db->ops->bind_double(s, i, v); }
static inline void vouch__bind_text(vouch__stmt *s, int i, const char *t, int n) { s->db->ops->bind_text(s, i, t, n); }
static inline void vouch__bind_blob(vouch__stmt *s, int i, const void *p, int n) { s->db->ops->bind_blob(s, i, p, n); }
static inline void vouch__bind_null(vouch__stmt *s, int i) { s->db->ops->bind_null(s, i); }
static inline int vouch__step(vouch__stmt *s) { return s->db->ops->step(s); }
static inline void vouch__reset(vouch__stmt *s) { s->db->ops->reset(s); }
static inline void vouch__finalize(vouch__stmt *s) {
  if (s) s->db->ops->finalize(s);
}
static inline int64_t vouch__col_int64(vouch__stmt *s, int i) { return s->db->ops->col_int64(s, i); }
static inline double vouch__col_double(vouch__stmt *s, int i) { return s->db->ops->col_double(s, i); }
static inline const char *vouch__col_text(vouch__stmt *s, int i) { return s->db->ops->col_text(s, i); }
static inline const void *vouch__col_blob(vouch__stmt *s, int i) { return s->db->ops->col_blob(s, i); }
static inline int vouch__col_bytes(vouch__stmt *s, int i) { return s->db->ops->col_bytes(s, i); }
static inline int64_t vouch__changes(vouch__db *d) { return d->ops->changes(d); }
static inline const char *vouch__db_errmsg(vouch__db *d) { return d->ops->errmsg(d); }
static inline int vouch__begin(vouch__db *d) { return d->ops->begin(d); }
static inline int vouch__commit(vouch__db *d) { return d->ops->commit(d); }
static inline void vouch__rollback(vouch__db *d) { d->ops->rollback(d); }
static inline int vouch__db_service_schema(vouch__db *d) { return d->ops->service_schema(d); }
static inline void vouch__db_close(vouch__db *d) {
  if (d) d->ops->close(d);
}
#endif
