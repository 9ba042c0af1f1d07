/* src/bank/store_pg.c -- the PostgreSQL backend of the bank storage
 * interface (store.h), on libpq.  A bank "path" of the form postgresql://...
 * or postgres://... is a libpq connection URI.
 *
 * Statements run with PQexecParams: parameters and results in binary format
 * (no text escaping of hashes), ? / ?N placeholders rewritten to $N.  A
 * statement's whole result is fetched at its first step().  A connection
 * found broken outside a transaction is reset before the next statement, and
 * a SELECT that failed on a broken connection is retried once (a write is
 * never retried: whether it committed is unknown), so a restarted server
 * costs at most one failed write per connection.
 *
 * Schema: versioned migrations (migrations[] below), recorded one row per
 * version in vouch_schema(version, applied_at) and applied in one
 * transaction under an advisory lock, so replicas starting together migrate
 * once.  A database whose newest version is above what this build knows is
 * refused (VOUCH_E_DB_VERSION): a replica never runs on a schema it does not
 * know.  The tables are those of the SQLite bank file at version 4 (see
 * store_sqlite.c) with PostgreSQL types (BYTEA hashes, identity ids, text in
 * the "C" collation so names sort as in SQLite), plus the group_concat(text,
 * text) aggregate the shared SQL uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/select.h>
#include <libpq-fe.h>
#include "store.h"

#define PG_ERR_CAP 512U
#define MIGRATION_LOCK_KEY 0x56434842 /* 'VCHB', the advisory lock migrations take */

/* OIDs of the built-in types we read and bind (pg_type.h values, stable). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_FLOAT4 700
#define OID_FLOAT8 701

typedef struct pg_db {
  vouch__db base;
  PGconn *c;
  int in_tx;
  int64_t changes;
  unsigned long long nstmt; /* names of server-side prepared statements */
  unsigned long long epoch; /* bumped by each connection reset: prepared statements are gone */
  int listening;            /* LISTEN vouch_changes issued (in listen_epoch) */
  unsigned long long listen_epoch;
  char err[PG_ERR_CAP];
} pg_db;

typedef struct pg_stmt {
  vouch__stmt base;
  char *sql;    /* with $N placeholders */
  int nparams;
  int oom;      /* a bind could not copy its value: step() fails with NOMEM */
  char **vals;  /* owned copies (binary) */
  int *lens, *fmts;
  Oid *types;
  PGresult *res;
  int row, nrows;
  int runs;       /* executions so far */
  char name[32];  /* server-side prepared statement, once it has run twice */
  int prepared;   /* 1: prepared as `name`; -1: not preparable (a NULL parameter's type was inferred) */
  unsigned long long epoch; /* the connection epoch it was prepared in */
} pg_stmt;

#define PGD(d) ((pg_db *)(d))
#define PGS(s) ((pg_stmt *)(s))

int vouch__store_is_pg(const char *path) {
  return path && (!strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11));
}

static void set_err(pg_db *d, const char *msg) {
  snprintf(d->err, sizeof d->err, "%s", msg && *msg ? msg : "PostgreSQL error");
  size_t l = strlen(d->err);
  while (l && (d->err[l - 1] == '\n' || d->err[l - 1] == ' ')) d->err[--l] = 0;
}

/* Maps a failed result to a VOUCH__DB_* code and keeps its message. */
static int res_fail(pg_db *d, PGresult *r) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  set_err(d, r ? PQresultErrorMessage(r) : PQerrorMessage(d->c));
  if (!r) return VOUCH__DB_NOMEM;
  if (state && !strcmp(state, "23505")) return VOUCH__DB_UNIQUE;
  if (state && (!strcmp(state, "40P01") || !strcmp(state, "55P03") || !strcmp(state, "40001")))
    return VOUCH__DB_BUSY;
  return VOUCH__DB_ERROR;
}

/* A broken connection is reset when no transaction was open on it. */
static void heal(pg_db *d) {
  if (PQstatus(d->c) == CONNECTION_BAD && !d->in_tx) {
    PQreset(d->c);
    d->epoch++;
  }
}

static int pg_exec(vouch__db *db, const char *sql) {
  pg_db *d = PGD(db);
  heal(d);
  PGresult *r = PQexec(d->c, sql);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? VOUCH__DB_OK : res_fail(d, r);
  if (rc == VOUCH__DB_OK && !strcmp(PQcmdStatus(r), "ROLLBACK") && strncmp(sql, "ROLLBACK", 8)) {
    set_err(d, "the transaction was rolled back");
    rc = VOUCH__DB_ERROR;
  }
  PQclear(r);
  return rc;
}

/* ? and ?N become $N (outside quoted strings); returns the highest N. */
static char *translate(const char *sql, int *nparams) {
  size_t l = strlen(sql);
  char *out = vouch__malloc(l * 4 + 1);
  if (!out) return NULL;
  int next = 0, max = 0;
  char q = 0;
  size_t w = 0;
  for (size_t i = 0; i < l; i++) {
    char ch = sql[i];
    if (q) {
      if (ch == q) q = 0;
      out[w++] = ch;
      continue;
    }
    if (ch == '\'' || ch == '"') {
      q = ch;
      out[w++] = ch;
      continue;
    }
    if (ch != '?') {
      out[w++] = ch;
      continue;
    }
    int n;
    if (sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      n = 0;
      while (sql[i + 1] >= '0' && sql[i + 1] <= '9') n = n * 10 + (sql[++i] - '0');
    } else {
      n = ++next;
    }
    if (n > max) max = n;
    w += (size_t)sprintf(out + w, "$%d", n);
  }
  out[w] = 0;
  *nparams = max;
  return out;
}

static void clear_result(pg_stmt *s) {
  PQclear(s->res);
  s->res = NULL;
  s->row = -1;
  s->nrows = 0;
}

static int pg_prepare(vouch__db *db, const char *sql, vouch__stmt **out) {
  *out = NULL;
  pg_stmt *s = vouch__calloc(1, sizeof *s);
  if (!s) return VOUCH__DB_NOMEM;
  s->base.db = db;
  s->sql = translate(sql, &s->nparams);
  int n = s->nparams ? s->nparams : 1;
  s->vals = vouch__calloc((size_t)n, sizeof *s->vals);
  s->lens = vouch__calloc((size_t)n, sizeof *s->lens);
  s->fmts = vouch__calloc((size_t)n, sizeof *s->fmts);
  s->types = vouch__calloc((size_t)n, sizeof *s->types);
  s->row = -1;
  if (!s->sql || !s->vals || !s->lens || !s->fmts || !s->types) {
    vouch__free(s->sql);
    vouch__free(s->vals);
    vouch__free(s->lens);
    vouch__free(s->fmts);
    vouch__free(s->types);
    vouch__free(s);
    return VOUCH__DB_NOMEM;
  }
  *out = &s->base;
  return VOUCH__DB_OK;
}

/* Stores a binary parameter (a copy of n bytes) of type `type`. */
static void bind_raw(pg_stmt *s, int i, const void *p, int n, Oid type) {
  if (i < 1 || i > s->nparams) return;
  i--;
  vouch__free(s->vals[i]);
  s->vals[i] = NULL;
  s->lens[i] = 0;
  s->fmts[i] = 1;
  s->types[i] = type;
  if (!p) {
    s->types[i] = 0; /* a NULL takes the type the statement gives it */
    return;
  }
  s->vals[i] = vouch__malloc(n ? (size_t)n : 1);
  if (!s->vals[i]) {
    s->oom = 1;
    return;
  }
  if (n) memcpy(s->vals[i], p, (size_t)n);
  s->lens[i] = n;
}

static void pg_bind_int64(vouch__stmt *st, int i, int64_t v) {
  uint8_t be[8];
  uint64_t u = (uint64_t)v;
  for (int k = 7; k >= 0; k--, u >>= 8) be[k] = (uint8_t)u;
  bind_raw(PGS(st), i, be, 8, OID_INT8);
}
static void pg_bind_double(vouch__stmt *st, int i, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  uint8_t be[8];
  for (int k = 7; k >= 0; k--, u >>= 8) be[k] = (uint8_t)u;
  bind_raw(PGS(st), i, be, 8, OID_FLOAT8);
}
static void pg_bind_text(vouch__stmt *st, int i, const char *t, int n) {
  bind_raw(PGS(st), i, t, t ? (n < 0 ? (int)strlen(t) : n) : 0, OID_TEXT);
}
static void pg_bind_blob(vouch__stmt *st, int i, const void *p, int n) { bind_raw(PGS(st), i, p, n, OID_BYTEA); }
static void pg_bind_null(vouch__stmt *st, int i) { bind_raw(PGS(st), i, NULL, 0, 0); }

/* A statement run more than once (the rows of an import) is prepared on
 * the server at its second run, with the parameter types of that run, and
 * executed by name afterwards: no parse and plan per row.  A statement whose
 * run had a NULL parameter (its type left to inference) is never prepared,
 * since a later binary value might not be of the inferred type. */
static PGresult *run_params(pg_stmt *s) {
  pg_db *d = PGD(s->base.db);
  s->runs++;
  if (s->prepared == 1 && s->epoch != d->epoch) s->prepared = 0; /* the connection was reset since */
  if (s->prepared == 0 && s->runs >= 2) {
    int typed = 1;
    for (int i = 0; i < s->nparams; i++) typed &= s->types[i] != 0;
    s->prepared = -1;
    if (typed) {
      snprintf(s->name, sizeof s->name, "vouch_s%llu", ++d->nstmt);
      s->epoch = d->epoch;
      PGresult *p = PQprepare(d->c, s->name, s->sql, s->nparams, s->types);
      if (p && PQresultStatus(p) == PGRES_COMMAND_OK) s->prepared = 1;
      PQclear(p);
    }
  }
  if (s->prepared == 1)
    return PQexecPrepared(d->c, s->name, s->nparams, (const char *const *)s->vals, s->lens, s->fmts, 1);
  return PQexecParams(d->c, s->sql, s->nparams, s->types, (const char *const *)s->vals, s->lens, s->fmts, 1);
}

static int pg_step(vouch__stmt *st) {
  pg_stmt *s = PGS(st);
  pg_db *d = PGD(st->db);
  if (!s->res) {
    if (s->oom) {
      s->oom = 0;
      set_err(d, "out of memory");
      return VOUCH__DB_NOMEM;
    }
    heal(d);
    PGresult *r = run_params(s);
    ExecStatusType es = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (es == PGRES_FATAL_ERROR && PQstatus(d->c) == CONNECTION_BAD && !d->in_tx &&
        !strncmp(s->sql, "SELECT", 6)) { /* reads are safe to retry on a fresh connection */
      PQclear(r);
      PQreset(d->c);
      d->epoch++;
      r = run_params(s);
      es = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    }
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
      int rc = res_fail(d, r);
      PQclear(r);
      return rc;
    }
    const char *ct = PQcmdTuples(r);
    d->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
    s->res = r;
    s->nrows = es == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    s->row = -1;
  }
  if (s->row + 1 < s->nrows) {
    s->row++;
    return VOUCH__DB_ROW;
  }
  s->row = s->nrows;
  return VOUCH__DB_DONE;
}

static void pg_reset(vouch__stmt *st) { clear_result(PGS(st)); }

static void pg_finalize(vouch__stmt *st) {
  pg_stmt *s = PGS(st);
  pg_db *d = PGD(st->db);
  clear_result(s);
  if (s->prepared == 1 && s->epoch == d->epoch && PQstatus(d->c) == CONNECTION_OK &&
      PQtransactionStatus(d->c) != PQTRANS_INERROR) {
    char sql[64];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
    PQclear(PQexec(d->c, sql));
  }
  for (int i = 0; i < s->nparams; i++) vouch__free(s->vals[i]);
  vouch__free(s->vals);
  vouch__free(s->lens);
  vouch__free(s->fmts);
  vouch__free(s->types);
  vouch__free(s->sql);
  vouch__free(s);
}

static int col_ok(pg_stmt *s, int i) {
  return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < PQnfields(s->res) &&
         !PQgetisnull(s->res, s->row, i);
}

static uint64_t be_read(const char *p, int n) {
  uint64_t u = 0;
  for (int k = 0; k < n; k++) u = (u << 8) | (uint8_t)p[k];
  return u;
}

static double col_f(pg_stmt *s, int i, int *is_float) {
  const char *p = PQgetvalue(s->res, s->row, i);
  int len = PQgetlength(s->res, s->row, i);
  *is_float = 1;
  switch (PQftype(s->res, i)) {
  case OID_FLOAT8:
    if (len == 8) {
      uint64_t u = be_read(p, 8);
      double v;
      memcpy(&v, &u, 8);
      return v;
    }
    return 0;
  case OID_FLOAT4:
    if (len == 4) {
      uint32_t u = (uint32_t)be_read(p, 4);
      float v;
      memcpy(&v, &u, 4);
      return v;
    }
    return 0;
  default: *is_float = 0; return 0;
  }
}

static int64_t pg_col_int64(vouch__stmt *st, int i) {
  pg_stmt *s = PGS(st);
  if (!col_ok(s, i)) return 0;
  const char *p = PQgetvalue(s->res, s->row, i);
  int len = PQgetlength(s->res, s->row, i);
  switch (PQftype(s->res, i)) {
  case OID_INT8: return len == 8 ? (int64_t)be_read(p, 8) : 0;
  case OID_INT4: return len == 4 ? (int64_t)(int32_t)(uint32_t)be_read(p, 4) : 0;
  case OID_INT2: return len == 2 ? (int64_t)(int16_t)(uint16_t)be_read(p, 2) : 0;
  case OID_BOOL: return len == 1 && p[0] != 0;
  case OID_TEXT: return strtoll(p, NULL, 10);
  default: {
    int f;
    double v = col_f(s, i, &f);
    return f ? (int64_t)v : 0;
  }
  }
}

static double pg_col_double(vouch__stmt *st, int i) {
  pg_stmt *s = PGS(st);
  if (!col_ok(s, i)) return 0;
  int f;
  double v = col_f(s, i, &f);
  return f ? v : (double)pg_col_int64(st, i);
}

static const char *pg_col_text(vouch__stmt *st, int i) {
  pg_stmt *s = PGS(st);
  return col_ok(s, i) ? PQgetvalue(s->res, s->row, i) : NULL; /* libpq NUL-terminates every value */
}
static const void *pg_col_blob(vouch__stmt *st, int i) { return pg_col_text(st, i); }
static int pg_col_bytes(vouch__stmt *st, int i) {
  pg_stmt *s = PGS(st);
  return col_ok(s, i) ? PQgetlength(s->res, s->row, i) : 0;
}
static int64_t pg_changes(vouch__db *db) { return PGD(db)->changes; }
static const char *pg_errmsg(vouch__db *db) { return PGD(db)->err; }
static int pg_begin(vouch__db *db) {
  int rc = pg_exec(db, "BEGIN");
  PGD(db)->in_tx = rc == VOUCH__DB_OK;
  return rc;
}
static int pg_commit(vouch__db *db) {
  int rc = pg_exec(db, "COMMIT");
  PGD(db)->in_tx = 0;
  return rc;
}
static void pg_rollback(vouch__db *db) {
  pg_db *d = PGD(db);
  if (PQstatus(d->c) == CONNECTION_OK) PQclear(PQexec(d->c, "ROLLBACK"));
  d->in_tx = 0;
}
static void pg_close(vouch__db *db) {
  PQfinish(PGD(db)->c);
  vouch__free(db);
}

/* Migration 2 creates vouchd's tables. */
static int pg_service_schema(vouch__db *db) {
  (void)db;
  return VOUCH__DB_OK;
}

static const vouch__db_ops pg_ops = {
  "postgresql",  pg_exec,       pg_prepare,   pg_bind_int64, pg_bind_double, pg_bind_text, pg_bind_blob,
  pg_bind_null,  pg_step,       pg_reset,     pg_finalize,   pg_col_int64,   pg_col_double, pg_col_text,
  pg_col_blob,   pg_col_bytes,  pg_changes,   pg_errmsg,     pg_begin,       pg_commit,    pg_rollback,
  pg_close,      pg_service_schema};

/* ------------------------------------------------------------ replicas */

int vouch__pg_change_seq(vouch__db *db, int64_t *seq) {
  pg_db *d = PGD(db);
  heal(d);
  PGresult *r = PQexec(d->c, "SELECT seq FROM vouch_state WHERE id = 1");
  if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    int rc = res_fail(d, r);
    PQclear(r);
    return rc;
  }
  *seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return VOUCH__DB_OK;
}

int vouch__pg_wait_change(vouch__db *db, int timeout_ms, int *changed) {
  pg_db *d = PGD(db);
  *changed = 0;
  heal(d);
  if (!d->listening || d->listen_epoch != d->epoch) { /* (again after a reset) */
    int rc = pg_exec(db, "LISTEN vouch_changes");
    if (rc != VOUCH__DB_OK) return rc;
    d->listening = 1;
    d->listen_epoch = d->epoch;
    *changed = 1; /* changes may have been missed while not listening */
    return VOUCH__DB_OK;
  }
  PGnotify *n;
  for (;;) {
    if (!PQconsumeInput(d->c)) {
      set_err(d, PQerrorMessage(d->c));
      return VOUCH__DB_ERROR;
    }
    while ((n = PQnotifies(d->c)) != NULL) {
      *changed = 1;
      PQfreemem(n);
    }
    if (*changed || timeout_ms <= 0) return VOUCH__DB_OK;
    int sock = PQsocket(d->c);
    if (sock < 0) {
      set_err(d, "no connection");
      return VOUCH__DB_ERROR;
    }
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(sock, &fds);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int k = select(sock + 1, &fds, NULL, NULL, &tv);
    if (k < 0) {
      set_err(d, "select failed");
      return VOUCH__DB_ERROR;
    }
    timeout_ms = 0; /* one wait, then drain what arrived */
  }
}

int vouch__pg_advisory(vouch__db *db, int64_t key, int op, int *got) {
  char sql[96];
  snprintf(sql, sizeof sql, op == 0 ? "SELECT pg_advisory_unlock(%lld)" : op == 1 ? "SELECT pg_try_advisory_lock(%lld)"
                                                                                  : "SELECT pg_advisory_lock(%lld)",
           (long long)key);
  pg_db *d = PGD(db);
  heal(d);
  PGresult *r = PQexec(d->c, sql);
  if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    int rc = res_fail(d, r);
    PQclear(r);
    return rc;
  }
  const char *v = PQgetvalue(r, 0, 0);
  if (got) *got = op == 2 || v[0] == 't';
  PQclear(r);
  return VOUCH__DB_OK;
}

/* ------------------------------------------------------------ migrations */

/* Version 1: the bank tables (SQLite bank schema 3). */
static const char migration_1[] =
    "CREATE FUNCTION vouch_group_concat_step(acc text, v text, sep text) RETURNS text LANGUAGE sql IMMUTABLE"
    "  AS $$ SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v ELSE acc || sep || v END $$;"
    "CREATE AGGREGATE group_concat(text, text) (SFUNC = vouch_group_concat_step, STYPE = text);"
    "CREATE TABLE banks("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " name TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    " algo TEXT NOT NULL,"
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " created_at BIGINT NOT NULL,"
    " radius INTEGER);"
    "CREATE TABLE entries("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " bank_id BIGINT NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " hash BYTEA NOT NULL,"
    " ext_id TEXT COLLATE \"C\","
    " tags TEXT COLLATE \"C\","
    " enabled INTEGER NOT NULL DEFAULT 1,"
    " added_at BIGINT NOT NULL,"
    " disabled_until BIGINT,"
    " UNIQUE(bank_id, hash));"
    "CREATE INDEX entries_ext ON entries(bank_id, ext_id);"
    "CREATE TABLE entry_sources("
    " entry_id BIGINT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " source TEXT COLLATE \"C\" NOT NULL,"
    " PRIMARY KEY(entry_id, source));"
    "CREATE TABLE signed_lists("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " bank_id BIGINT NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " source_pk BYTEA NOT NULL,"
    " source_name TEXT COLLATE \"C\" NOT NULL,"
    " jurisdiction TEXT COLLATE \"C\" NOT NULL,"
    " list_version BIGINT NOT NULL,"
    " date TEXT COLLATE \"C\" NOT NULL,"
    " count BIGINT NOT NULL,"
    " hashes_digest BYTEA NOT NULL,"
    " imported_at BIGINT NOT NULL,"
    " vsl BYTEA NOT NULL,"
    " UNIQUE(bank_id, source_pk, list_version));"
    "CREATE TABLE entry_lists("
    " entry_id BIGINT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " list_id BIGINT NOT NULL REFERENCES signed_lists(id) ON DELETE CASCADE,"
    " PRIMARY KEY(entry_id, list_id));"
    "CREATE INDEX entry_lists_list ON entry_lists(list_id);"
    "CREATE TABLE tombstones("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " bank_id BIGINT NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " hash BYTEA,"
    " ext_id TEXT COLLATE \"C\","
    " source TEXT COLLATE \"C\","
    " entry_id BIGINT REFERENCES entries(id) ON DELETE SET NULL,"
    " at BIGINT NOT NULL);"
    "CREATE INDEX tombstones_hash ON tombstones(bank_id, hash);"
    "CREATE INDEX tombstones_entry ON tombstones(entry_id);"
    "CREATE TABLE checkpoints("
    " bank_id BIGINT NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " source TEXT COLLATE \"C\" NOT NULL,"
    " checkpoint TEXT NOT NULL,"
    " next TEXT NOT NULL,"
    " updated_at BIGINT NOT NULL,"
    " PRIMARY KEY(bank_id, source));"
    "CREATE TABLE exchanges("
    " name TEXT COLLATE \"C\" PRIMARY KEY,"
    " type TEXT NOT NULL,"
    " url TEXT NOT NULL,"
    " bank_id BIGINT NOT NULL REFERENCES banks(id) ON DELETE CASCADE,"
    " source TEXT,"
    " credentials TEXT,"
    " created_at BIGINT NOT NULL);"
    "CREATE TABLE video_frames("
    " entry_id BIGINT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " frame BIGINT NOT NULL,"
    " quality INTEGER NOT NULL,"
    " hash BYTEA NOT NULL,"
    " seconds DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY(entry_id, frame));";

/* Version 2: what vouchd keeps (tokens, vouchers), shared by its replicas. */
static const char migration_2[] =
    "CREATE TABLE vouchd_tokens("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " name TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    " role TEXT NOT NULL CHECK(role IN ('reader','matcher','admin','device')),"
    " sha256 BYTEA NOT NULL UNIQUE CHECK(length(sha256) = 32),"
    " created_at BIGINT NOT NULL,"
    " account TEXT COLLATE \"C\" CHECK((role = 'device') = (account IS NOT NULL)));"
    "CREATE TABLE vouchd_vouchers("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " account TEXT COLLATE \"C\" NOT NULL,"
    " digest BYTEA NOT NULL,"
    " data BYTEA NOT NULL,"
    " received_at BIGINT NOT NULL,"
    " UNIQUE(account, digest));";

/* Version 3: the change counter replicas follow.  Every transaction that
 * changes banks, entries, their sources or video frames bumps vouch_state.seq
 * once (a statement trigger, the first time in the transaction) and sends a
 * NOTIFY on channel vouch_changes, delivered at commit. */
static const char migration_3[] =
    "CREATE TABLE vouch_state(id INTEGER PRIMARY KEY CHECK(id = 1), seq BIGINT NOT NULL);"
    "INSERT INTO vouch_state VALUES(1, 0);"
    "CREATE FUNCTION vouch_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF coalesce(current_setting('vouch.touched', true), '') <> 'on' THEN"
    "  UPDATE vouch_state SET seq = seq + 1 WHERE id = 1;"
    "  PERFORM set_config('vouch.touched', 'on', true);"
    "  PERFORM pg_notify('vouch_changes', '');"
    " END IF;"
    " RETURN NULL; END $$;"
    "CREATE TRIGGER banks_touch AFTER INSERT OR UPDATE OR DELETE ON banks"
    " FOR EACH STATEMENT EXECUTE FUNCTION vouch_touch();"
    "CREATE TRIGGER entries_touch AFTER INSERT OR UPDATE OR DELETE ON entries"
    " FOR EACH STATEMENT EXECUTE FUNCTION vouch_touch();"
    "CREATE TRIGGER entry_sources_touch AFTER INSERT OR UPDATE OR DELETE ON entry_sources"
    " FOR EACH STATEMENT EXECUTE FUNCTION vouch_touch();"
    "CREATE TRIGGER video_frames_touch AFTER INSERT OR UPDATE OR DELETE ON video_frames"
    " FOR EACH STATEMENT EXECUTE FUNCTION vouch_touch();";

/* Version 4: the entries' second hashes (SQLite bank schema 4). */
static const char migration_4[] = "ALTER TABLE entries ADD COLUMN second BYTEA;";

/* Version 5: the review console's tables (src/review/review.c), with
 * triggers that keep decisions and views append-only. */
static const char migration_5[] =
    "CREATE TABLE review_items("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " account TEXT COLLATE \"C\" NOT NULL,"
    " algo INTEGER NOT NULL,"
    " hash BYTEA NOT NULL,"
    " thumb_w INTEGER NOT NULL, thumb_h INTEGER NOT NULL, thumb BYTEA NOT NULL,"
    " verdict INTEGER NOT NULL, score INTEGER NOT NULL,"
    " bank TEXT, entry_id TEXT, source TEXT, distance INTEGER NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX review_items_key ON review_items(account, algo, hash, sha256(thumb));"
    "CREATE TABLE review_decisions("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " item BIGINT NOT NULL REFERENCES review_items(id),"
    " decision INTEGER NOT NULL CHECK(decision BETWEEN 1 AND 3),"
    " reviewer TEXT NOT NULL,"
    " note TEXT NOT NULL,"
    " decided_at BIGINT NOT NULL,"
    " supersedes BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX review_decisions_item ON review_decisions(item, id);"
    "CREATE TABLE review_views("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " item BIGINT NOT NULL,"
    " reviewer TEXT NOT NULL,"
    " viewed_at BIGINT NOT NULL);"
    "CREATE TABLE review_seconds("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " pdq BYTEA NOT NULL,"
    " second BYTEA NOT NULL);"
    "CREATE TABLE vouchd_reviewers("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " name TEXT COLLATE \"C\" NOT NULL UNIQUE CHECK(length(name) BETWEEN 1 AND 63),"
    " sha256 BYTEA NOT NULL UNIQUE CHECK(length(sha256) = 32),"
    " created_at BIGINT NOT NULL);"
    "CREATE FUNCTION vouch_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " RAISE EXCEPTION '% are append-only', TG_ARGV[0]; END $$;"
    "CREATE TRIGGER review_decisions_append_only BEFORE UPDATE OR DELETE ON review_decisions"
    " FOR EACH ROW EXECUTE FUNCTION vouch_append_only('review decisions');"
    "CREATE TRIGGER review_decisions_no_truncate BEFORE TRUNCATE ON review_decisions"
    " FOR EACH STATEMENT EXECUTE FUNCTION vouch_append_only('review decisions');"
    "CREATE TRIGGER review_views_append_only BEFORE UPDATE OR DELETE ON review_views"
    " FOR EACH ROW EXECUTE FUNCTION vouch_append_only('review views');"
    "CREATE TRIGGER review_views_no_truncate BEFORE TRUNCATE ON review_views"
    " FOR EACH STATEMENT EXECUTE FUNCTION vouch_append_only('review views');";

/* Version 6: per-entry change numbers for snapshot + delta (bank_follow.c),
 * and published index snapshots.  vouch_seq() gives the transaction its
 * change number, bumping vouch_state.seq once (the row lock it takes is held
 * to commit, so numbers are handed out in commit order: a reader that sees
 * seq = S sees every change numbered <= S and no later one will be).  Every
 * inserted or updated entry carries its transaction's number in `chg`, also
 * when one of its sources changes.  What a delta of entries cannot express
 * (banks inserted, changed or deleted; entries deleted; video frames) sets
 * vouch_state.full_seq: a follower whose snapshot is older needs a new one.
 * vouch_snapshots lists the snapshots builders published, by Merkle root,
 * with their bytes in vouch_snapshot_chunks. */
static const char migration_6[] =
    "ALTER TABLE vouch_state ADD COLUMN full_seq BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE entries ADD COLUMN chg BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX entries_chg ON entries(chg);"
    "CREATE FUNCTION vouch_seq() RETURNS bigint LANGUAGE plpgsql AS $$ DECLARE s bigint; BEGIN"
    " s := nullif(current_setting('vouch.seq', true), '')::bigint;"
    " IF s IS NULL THEN"
    "  UPDATE vouch_state SET seq = seq + 1 WHERE id = 1 RETURNING seq INTO s;"
    "  PERFORM set_config('vouch.seq', s::text, true);"
    "  PERFORM pg_notify('vouch_changes', '');"
    " END IF;"
    " RETURN s; END $$;"
    "CREATE OR REPLACE FUNCTION vouch_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " PERFORM vouch_seq(); RETURN NULL; END $$;"
    "CREATE FUNCTION vouch_touch_full() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE s bigint := vouch_seq(); BEGIN"
    " IF coalesce(current_setting('vouch.full', true), '') <> s::text THEN"
    "  UPDATE vouch_state SET full_seq = s WHERE id = 1;"
    "  PERFORM set_config('vouch.full', s::text, true);"
    " END IF;"
    " RETURN NULL; END $$;"
    "CREATE FUNCTION vouch_entry_chg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " NEW.chg := vouch_seq(); RETURN NEW; END $$;"
    "CREATE FUNCTION vouch_source_chg() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE s bigint := vouch_seq(); eid bigint; BEGIN"
    " IF TG_OP = 'DELETE' THEN eid := OLD.entry_id; ELSE eid := NEW.entry_id; END IF;"
    " UPDATE entries SET chg = s WHERE id = eid AND chg <> s;"
    " RETURN NULL; END $$;"
    "DROP TRIGGER banks_touch ON banks;"
    "CREATE TRIGGER banks_full AFTER INSERT OR UPDATE OR DELETE ON banks"
    " FOR EACH ROW EXECUTE FUNCTION vouch_touch_full();"
    "DROP TRIGGER video_frames_touch ON video_frames;"
    "CREATE TRIGGER video_frames_full AFTER INSERT OR UPDATE OR DELETE ON video_frames"
    " FOR EACH ROW EXECUTE FUNCTION vouch_touch_full();"
    "CREATE TRIGGER entries_chg BEFORE INSERT OR UPDATE ON entries"
    " FOR EACH ROW EXECUTE FUNCTION vouch_entry_chg();"
    "CREATE TRIGGER entries_deleted AFTER DELETE ON entries"
    " FOR EACH ROW EXECUTE FUNCTION vouch_touch_full();"
    "DROP TRIGGER entry_sources_touch ON entry_sources;"
    "CREATE TRIGGER entry_sources_chg AFTER INSERT OR UPDATE OR DELETE ON entry_sources"
    " FOR EACH ROW EXECUTE FUNCTION vouch_source_chg();"
    "CREATE TABLE vouch_snapshots("
    " root BYTEA PRIMARY KEY CHECK(length(root) = 32),"
    " seq BIGINT NOT NULL,"
    " bytes BIGINT NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE TABLE vouch_snapshot_chunks("
    " root BYTEA NOT NULL REFERENCES vouch_snapshots(root) ON DELETE CASCADE,"
    " n INTEGER NOT NULL,"
    " data BYTEA NOT NULL,"
    " PRIMARY KEY(root, n));";

/* Version 7: published snapshots per algorithm (one vouchd serving every
 * signal type keeps one index per bank algorithm, bank_follow.c): the
 * algorithm's name, '' for the index of all enabled banks, is part of a
 * snapshot's key, since two indexes can share a root (two empty ones, or
 * the pdq banks' index and the all-banks one of a pdq-only database); and
 * vouch_full_algo, full_seq per bank algorithm. */
static const char migration_7[] =
    "ALTER TABLE vouch_snapshots ADD COLUMN algo TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE vouch_snapshot_chunks ADD COLUMN algo TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE vouch_snapshot_chunks DROP CONSTRAINT vouch_snapshot_chunks_root_fkey;"
    "ALTER TABLE vouch_snapshot_chunks DROP CONSTRAINT vouch_snapshot_chunks_pkey;"
    "ALTER TABLE vouch_snapshots DROP CONSTRAINT vouch_snapshots_pkey;"
    "ALTER TABLE vouch_snapshots ADD PRIMARY KEY(algo, root);"
    "ALTER TABLE vouch_snapshot_chunks ADD PRIMARY KEY(algo, root, n);"
    "ALTER TABLE vouch_snapshot_chunks ADD FOREIGN KEY(algo, root) REFERENCES vouch_snapshots(algo, root)"
    " ON DELETE CASCADE;"
    "CREATE INDEX vouch_snapshots_algo_seq ON vouch_snapshots(algo, seq);"
    /* and the changes only a new snapshot carries, per algorithm: a follower of one algorithm's index
     * (vouch_follow_new_algo()) needs a new snapshot only for its own banks' (and for those whose
     * algorithm is unknown, '': entries deleted with their bank) */
    "CREATE TABLE vouch_full_algo(algo TEXT PRIMARY KEY, seq BIGINT NOT NULL);"
    "INSERT INTO vouch_full_algo SELECT '', full_seq FROM vouch_state WHERE id = 1;"
    "CREATE OR REPLACE FUNCTION vouch_touch_full() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE s bigint := vouch_seq(); a text; BEGIN"
    " IF coalesce(current_setting('vouch.full', true), '') <> s::text THEN"
    "  UPDATE vouch_state SET full_seq = s WHERE id = 1;"
    "  PERFORM set_config('vouch.full', s::text, true);"
    " END IF;"
    " IF TG_TABLE_NAME = 'banks' THEN"
    "  IF TG_OP = 'DELETE' THEN a := OLD.algo; ELSE a := NEW.algo; END IF;"
    "  IF TG_OP = 'UPDATE' AND OLD.algo <> NEW.algo THEN a := ''; END IF;"
    " ELSIF TG_TABLE_NAME = 'video_frames' THEN a := 'vpdq';"
    " ELSE SELECT b.algo INTO a FROM banks b WHERE b.id = OLD.bank_id; a := coalesce(a, '');"
    " END IF;"
    " IF coalesce(current_setting('vouch.full_' || a, true), '') <> s::text THEN"
    "  INSERT INTO vouch_full_algo VALUES(a, s) ON CONFLICT(algo) DO UPDATE SET seq = EXCLUDED.seq;"
    "  PERFORM set_config('vouch.full_' || a, s::text, true);"
    " END IF;"
    " RETURN NULL; END $$;";

/* Version 9 (#21's third round; 8 is the signal type settings'): the entries whose disable-until
 * time passed since a follower's last poll are read at every poll
 * (bank_follow.c), through this partial index (only the rows that have
 * such a time). */
static const char migration_9[] =
    "CREATE INDEX entries_disabled_until ON entries(disabled_until) WHERE disabled_until IS NOT NULL;";

/* Version 8: the signal types'
 * settings and the exchanges' enabled flag (SQLite bank schema 5).  A
 * change of a signal type's setting bumps the change counter, so caches
 * keyed on it (vouch_bank_data_version()) see it. */
static const char migration_8[] =
    "CREATE TABLE signal_types("
    " name TEXT COLLATE \"C\" PRIMARY KEY,"
    " enabled_ratio DOUBLE PRECISION NOT NULL CHECK(enabled_ratio >= 0 AND enabled_ratio <= 1));"
    "CREATE TRIGGER signal_types_touch AFTER INSERT OR UPDATE OR DELETE ON signal_types"
    " FOR EACH STATEMENT EXECUTE FUNCTION vouch_touch();"
    "ALTER TABLE exchanges ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;";

/* The migrations by version number, in order (numbers are reserved per
 * change, so one may be missing on a branch until they are merged). */
static const struct {
  int version;
  const char *sql;
} migrations[] = {{1, migration_1}, {2, migration_2}, {3, migration_3}, {4, migration_4},
                  {5, migration_5}, {6, migration_6}, {7, migration_7}, {8, migration_8},
                  {9, migration_9}};
#define PG_NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
#define PG_SCHEMA_VERSION (migrations[PG_NMIGRATIONS - 1].version)

/* The newest applied version (0: no vouch tables), or -1 with err set. */
static int schema_version(pg_db *d) {
  PGresult *r = PQexec(d->c, "SELECT to_regclass('vouch_schema') IS NOT NULL");
  int have = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
  if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
    res_fail(d, r);
    PQclear(r);
    return -1;
  }
  PQclear(r);
  if (!have) return 0;
  r = PQexec(d->c, "SELECT coalesce(max(version), 0) FROM vouch_schema");
  if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    res_fail(d, r);
    PQclear(r);
    return -1;
  }
  int v = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

/* Applies the migrations above `have`, in one transaction under the
 * migration lock (re-reading the version once it holds the lock). */
static int migrate(pg_db *d, const char *uri, char *err, size_t errcap) {
  char sql[160];
  if (pg_exec(&d->base, "BEGIN") != VOUCH__DB_OK) goto fail;
  snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%d)", MIGRATION_LOCK_KEY);
  if (pg_exec(&d->base, sql) != VOUCH__DB_OK ||
      pg_exec(&d->base, "CREATE TABLE IF NOT EXISTS vouch_schema(version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)") !=
          VOUCH__DB_OK)
    goto fail;
  int v = schema_version(d);
  if (v < 0) goto fail;
  if (v > PG_SCHEMA_VERSION) {
    pg_exec(&d->base, "ROLLBACK");
    snprintf(err, errcap, "%s: vouch schema version %d, this build knows 1 to %d: refusing it", uri, v,
             PG_SCHEMA_VERSION);
    return VOUCH_E_DB_VERSION;
  }
  for (int k = 0; k < PG_NMIGRATIONS; k++) {
    if (migrations[k].version <= v) continue;
    snprintf(sql, sizeof sql, "INSERT INTO vouch_schema(version, applied_at) VALUES(%d, %lld)", migrations[k].version,
             (long long)time(NULL));
    if (pg_exec(&d->base, migrations[k].sql) != VOUCH__DB_OK || pg_exec(&d->base, sql) != VOUCH__DB_OK) goto fail;
  }
  if (pg_exec(&d->base, "COMMIT") != VOUCH__DB_OK) goto fail;
  return VOUCH_OK;
fail:
  snprintf(err, errcap, "%s: migration: %s", uri, d->err);
  pg_rollback(&d->base);
  return VOUCH_E_DB;
}

int vouch__store_open_pg(const char *uri, unsigned flags, vouch__db **out, int *schema, char *err, size_t errcap) {
  *out = NULL;
  err[0] = 0;
  pg_db *d = vouch__calloc(1, sizeof *d);
  if (!d) return VOUCH_E_NOMEM;
  d->base.ops = &pg_ops;
  d->base.pg = 1;
  *out = &d->base;
  d->c = PQconnectdb(uri);
  if (!d->c || PQstatus(d->c) != CONNECTION_OK) {
    set_err(d, d->c ? PQerrorMessage(d->c) : "out of memory");
    snprintf(err, errcap, "PostgreSQL: %s", d->err);
    return d->c ? VOUCH_E_DB : VOUCH_E_NOMEM;
  }
  PQclear(PQexec(d->c, "SET client_min_messages = warning"));
  int v = schema_version(d);
  if (v < 0) {
    snprintf(err, errcap, "PostgreSQL: %s", d->err);
    return VOUCH_E_DB;
  }
  if (v > PG_SCHEMA_VERSION) {
    snprintf(err, errcap, "PostgreSQL: vouch schema version %d, this build knows 1 to %d: refusing it", v,
             PG_SCHEMA_VERSION);
    return VOUCH_E_DB_VERSION;
  }
  if (flags & VOUCH_BANK_OPEN_READONLY) {
    if (v == 0) {
      snprintf(err, errcap, "PostgreSQL: the database holds no vouch banks (create one with 'vouch bank create')");
      return VOUCH_E_NOT_FOUND;
    }
    if (v < PG_SCHEMA_VERSION) {
      snprintf(err, errcap, "PostgreSQL: vouch schema version %d needs migrating: open it once for writing", v);
      return VOUCH_E_DB_VERSION;
    }
    PQclear(PQexec(d->c, "SET default_transaction_read_only = on"));
  } else if (v < PG_SCHEMA_VERSION) {
    int rc = migrate(d, "PostgreSQL", err, errcap);
    if (rc != VOUCH_OK) return rc;
  }
  *schema = VOUCH_BANK_SCHEMA_VERSION;
  return VOUCH_OK;
}
