/* src/review/review.c -- the review queue and its append-only decisions
 * (review.h), in SQLite tables beside the bank's:
 *   review_items(id, account, algo, hash, thumb_w, thumb_h, thumb, verdict,
 *                score, bank, entry_id, source, distance, created_at,
 *                UNIQUE(account, algo, hash, thumb))
 *     (the derivative is part of the key: a forgery that collides with a
 *     genuine photo bit for bit is a payload of its own, not a repeat)
 *   review_decisions(id, item, decision, reviewer, note, decided_at, supersedes)
 *   review_views(id, item, reviewer, viewed_at)
 *   review_seconds(id, pdq, second)
 * Triggers refuse UPDATE and DELETE on review_decisions and review_views:
 * the record of who decided what stays whole even against a caller's bug. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>
#include "vouch/review.h"
#include "common/internal.h"

struct vouch_review {
  sqlite3 *db;
  char err[256];
};

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS review_items("
  "  id INTEGER PRIMARY KEY,"
  "  account TEXT NOT NULL,"
  "  algo INTEGER NOT NULL,"
  "  hash BLOB NOT NULL,"
  "  thumb_w INTEGER NOT NULL, thumb_h INTEGER NOT NULL, thumb BLOB NOT NULL,"
  "  verdict INTEGER NOT NULL, score INTEGER NOT NULL,"
  "  bank TEXT, entry_id TEXT, source TEXT, distance INTEGER NOT NULL,"
  "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
  "  UNIQUE(account, algo, hash, thumb));"
  "CREATE TABLE IF NOT EXISTS review_decisions("
  "  id INTEGER PRIMARY KEY,"
  "  item INTEGER NOT NULL REFERENCES review_items(id),"
  "  decision INTEGER NOT NULL CHECK(decision BETWEEN 1 AND 3),"
  "  reviewer TEXT NOT NULL,"
  "  note TEXT NOT NULL,"
  "  decided_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
  "  supersedes INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX IF NOT EXISTS review_decisions_item ON review_decisions(item, id);"
  "CREATE TABLE IF NOT EXISTS review_views("
  "  id INTEGER PRIMARY KEY,"
  "  item INTEGER NOT NULL,"
  "  reviewer TEXT NOT NULL,"
  "  viewed_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
  "CREATE TABLE IF NOT EXISTS review_seconds("
  "  id INTEGER PRIMARY KEY,"
  "  pdq BLOB NOT NULL,"
  "  second BLOB NOT NULL);"
  "CREATE TRIGGER IF NOT EXISTS review_decisions_no_update BEFORE UPDATE ON review_decisions"
  "  BEGIN SELECT RAISE(ABORT, 'review decisions are append-only'); END;"
  "CREATE TRIGGER IF NOT EXISTS review_decisions_no_delete BEFORE DELETE ON review_decisions"
  "  BEGIN SELECT RAISE(ABORT, 'review decisions are append-only'); END;"
  "CREATE TRIGGER IF NOT EXISTS review_views_no_update BEFORE UPDATE ON review_views"
  "  BEGIN SELECT RAISE(ABORT, 'review views are append-only'); END;"
  "CREATE TRIGGER IF NOT EXISTS review_views_no_delete BEFORE DELETE ON review_views"
  "  BEGIN SELECT RAISE(ABORT, 'review views are append-only'); END;";

static const char *const decision_names[] = {"none", "confirm", "reject", "escalate"};

const char *vouch_review_decision_name(int kind) {
  return kind >= VOUCH_REVIEW_NONE && kind <= VOUCH_REVIEW_ESCALATE ? decision_names[kind] : NULL;
}

int vouch_review_decision_from_name(const char *name) {
  if (!name) return -1;
  for (int k = VOUCH_REVIEW_CONFIRM; k <= VOUCH_REVIEW_ESCALATE; k++)
    if (!strcmp(name, decision_names[k])) return k;
  return -1;
}

const char *vouch_review_errmsg(const vouch_review *rv) { return rv ? rv->err : ""; }

/* Records the SQLite error and maps it to a vouch_rc. */
static int db_fail(vouch_review *rv, const char *what) {
  int e = sqlite3_errcode(rv->db);
  snprintf(rv->err, sizeof rv->err, "%s: %s", what, sqlite3_errmsg(rv->db));
  return e == SQLITE_BUSY || e == SQLITE_LOCKED ? VOUCH_E_DB_BUSY : e == SQLITE_NOMEM ? VOUCH_E_NOMEM : VOUCH_E_DB;
}

static int fail(vouch_review *rv, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(vouch_review *rv, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rv->err, sizeof rv->err, fmt, ap);
  va_end(ap);
  return rc;
}

int vouch_review_open(vouch_review **out, const char *path) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  if (!path) return VOUCH_E_INVALID;
  vouch_review *rv = vouch__calloc(1, sizeof *rv);
  if (!rv) return VOUCH_E_NOMEM;
  *out = rv;
  /* the store is SQLite only: never make a file named after a server URI */
  if (!strncmp(path, "postgresql:", 11) || !strncmp(path, "postgres:", 9))
    return fail(rv, VOUCH_E_UNSUPPORTED, "the review store needs an SQLite file, not %.40s", path);
  if (sqlite3_open_v2(path, &rv->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    if (!rv->db) return fail(rv, VOUCH_E_NOMEM, "cannot open %s", path);
    return db_fail(rv, path);
  }
  sqlite3_busy_timeout(rv->db, 5000);
  if (sqlite3_exec(rv->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec(rv->db, schema, NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(rv, "creating the review tables");
  return VOUCH_OK;
}

void vouch_review_free(vouch_review *rv) {
  if (!rv) return;
  sqlite3_close(rv->db);
  vouch__free(rv);
}

static int prepare(vouch_review *rv, const char *sql, sqlite3_stmt **st) {
  if (sqlite3_prepare_v2(rv->db, sql, -1, st, NULL) != SQLITE_OK) return db_fail(rv, "prepare");
  return VOUCH_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v) {
  if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(st, i);
}

static int text_ok(const char *v, size_t max, int required) {
  if (!v) return !required;
  size_t n = strnlen(v, max);
  return n < max && (!required || n > 0);
}

/* ---- second hashes ---- */

int vouch_review_set_seconds(vouch_review *rv, const char *text, size_t len, size_t *count, size_t *bad_line) {
  if (count) *count = 0;
  if (!rv) return VOUCH_E_INVALID;
  vouch_second_list *l = NULL;
  int rc = vouch_second_list_parse(text, len, &l, bad_line);
  if (rc != VOUCH_OK) return fail(rv, rc, "line %zu: not PDQHEX [QUALITY] SECONDHEX", bad_line ? *bad_line : 0);
  sqlite3_stmt *st = NULL;
  if (sqlite3_exec(rv->db, "BEGIN IMMEDIATE; DELETE FROM review_seconds;", NULL, NULL, NULL) != SQLITE_OK) {
    rc = db_fail(rv, "replacing the second hashes");
    goto out;
  }
  if ((rc = prepare(rv, "INSERT INTO review_seconds(pdq, second) VALUES(?, ?)", &st)) != VOUCH_OK) goto out;
  const size_t n = vouch_second_list_count(l);
  for (size_t i = 0; i < n; i++) {
    const uint8_t *pdq, *sec;
    vouch_second_list_get(l, i, &pdq, &sec);
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, pdq, VOUCH_PDQ_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, sec, VOUCH_DERIV_HASH_BYTES, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
      rc = db_fail(rv, "storing a second hash");
      goto out;
    }
  }
  if (sqlite3_exec(rv->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    rc = db_fail(rv, "commit");
    goto out;
  }
  if (count) *count = n;
out:
  sqlite3_finalize(st);
  if (rc != VOUCH_OK) sqlite3_exec(rv->db, "ROLLBACK", NULL, NULL, NULL);
  vouch_second_list_free(l);
  return rc;
}

int vouch_review_seconds(vouch_review *rv, vouch_second_list **out) {
  if (!rv || !out) return VOUCH_E_INVALID;
  *out = NULL;
  /* Stored rows are rebuilt into the list format and parsed: one code path
   * for what a list may hold. */
  sqlite3_stmt *st = NULL;
  int rc = prepare(rv, "SELECT pdq, second FROM review_seconds ORDER BY id", &st);
  if (rc != VOUCH_OK) return rc;
  const size_t line = 2 * VOUCH_PDQ_BYTES + 1 + 2 * VOUCH_DERIV_HASH_BYTES + 1;
  char *text = NULL;
  size_t len = 0, cap = 0;
  int s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    if (sqlite3_column_bytes(st, 0) != VOUCH_PDQ_BYTES || sqlite3_column_bytes(st, 1) != VOUCH_DERIV_HASH_BYTES)
      continue;
    if (len + line + 1 > cap) {
      size_t nc = cap ? 2 * cap : 64 * line;
      char *nt = vouch__realloc(text, nc);
      if (!nt) {
        rc = VOUCH_E_NOMEM;
        break;
      }
      text = nt;
      cap = nc;
    }
    vouch_hash_to_hex(sqlite3_column_blob(st, 0), VOUCH_PDQ_BYTES, text + len, cap - len);
    len += 2 * VOUCH_PDQ_BYTES;
    text[len++] = ' ';
    vouch_hash_to_hex(sqlite3_column_blob(st, 1), VOUCH_DERIV_HASH_BYTES, text + len, cap - len);
    len += 2 * VOUCH_DERIV_HASH_BYTES;
    text[len++] = '\n';
  }
  if (rc == VOUCH_OK && s != SQLITE_DONE) rc = db_fail(rv, "reading the second hashes");
  sqlite3_finalize(st);
  if (rc == VOUCH_OK) rc = vouch_second_list_parse(text, len, out, NULL);
  vouch__free(text);
  return rc;
}

/* ---- the queue ---- */

int vouch_review_enqueue(vouch_review *rv, const vouch_review_item *it, int *added) {
  if (added) *added = 0;
  if (!rv || !it) return VOUCH_E_INVALID;
  if (!text_ok(it->account, VOUCH_REVIEW_ACCOUNT_MAX, 1) || !text_ok(it->bank, VOUCH_REVIEW_TEXT_MAX, 0) ||
      !text_ok(it->entry_id, VOUCH_REVIEW_TEXT_MAX, 0) || !text_ok(it->source, VOUCH_REVIEW_TEXT_MAX, 0) ||
      it->hash_len == 0 || it->hash_len > VOUCH_PSI_HASH_MAX_BYTES || it->thumb_w > 64 || it->thumb_h > 64 ||
      (it->thumb_w && it->thumb_h && !it->thumb) || it->verdict < VOUCH_DERIV_UNKNOWN ||
      it->verdict > VOUCH_DERIV_FAIL)
    return fail(rv, VOUCH_E_INVALID, "bad review item");
  sqlite3_stmt *st = NULL;
  VOUCH_TRY(prepare(rv,
                    "INSERT OR IGNORE INTO review_items(account, algo, hash, thumb_w, thumb_h, thumb, verdict, score,"
                    " bank, entry_id, source, distance) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                    &st));
  const int has_thumb = it->thumb_w && it->thumb_h;
  sqlite3_bind_text(st, 1, it->account, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 2, it->algo);
  sqlite3_bind_blob(st, 3, it->hash, it->hash_len, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 4, has_thumb ? it->thumb_w : 0);
  sqlite3_bind_int(st, 5, has_thumb ? it->thumb_h : 0);
  if (has_thumb) sqlite3_bind_blob(st, 6, it->thumb, it->thumb_w * it->thumb_h, SQLITE_TRANSIENT);
  else sqlite3_bind_zeroblob(st, 6, 0);
  sqlite3_bind_int(st, 7, it->verdict);
  sqlite3_bind_int(st, 8, it->score);
  bind_text_or_null(st, 9, it->bank);
  bind_text_or_null(st, 10, it->entry_id);
  bind_text_or_null(st, 11, it->source);
  sqlite3_bind_int(st, 12, it->distance);
  int rc = sqlite3_step(st) == SQLITE_DONE ? VOUCH_OK : db_fail(rv, "queueing an item");
  if (rc == VOUCH_OK && added) *added = sqlite3_changes(rv->db) > 0;
  sqlite3_finalize(st);
  return rc;
}

static const char *col_text(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }

int vouch_review_items(vouch_review *rv, const char *account, unsigned flags, vouch_review_item_cb cb, void *ctx) {
  if (!rv || !cb) return VOUCH_E_INVALID;
  sqlite3_stmt *st = NULL;
  VOUCH_TRY(prepare(rv,
                    "SELECT i.id, i.account, i.algo, i.hash, i.thumb_w, i.thumb_h, i.thumb, i.verdict, i.score,"
                    " i.bank, i.entry_id, i.source, i.distance, i.created_at,"
                    " d.id, d.decision, d.reviewer, d.note, d.decided_at"
                    " FROM review_items i LEFT JOIN review_decisions d"
                    "  ON d.id = (SELECT max(id) FROM review_decisions WHERE item = i.id)"
                    " WHERE (?1 IS NULL OR i.account = ?1) AND (?2 OR i.verdict != 2)"
                    "  AND (NOT ?3 OR d.id IS NULL OR d.decision = 3)"
                    " ORDER BY i.id",
                    &st));
  bind_text_or_null(st, 1, account);
  sqlite3_bind_int(st, 2, (flags & VOUCH_REVIEW_WITH_FAILED) != 0);
  sqlite3_bind_int(st, 3, (flags & VOUCH_REVIEW_OPEN_ONLY) != 0);
  int rc = VOUCH_OK, s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    vouch_review_item it;
    memset(&it, 0, sizeof it);
    it.id = sqlite3_column_int64(st, 0);
    it.account = col_text(st, 1);
    it.algo = sqlite3_column_int(st, 2);
    int hl = sqlite3_column_bytes(st, 3);
    if (hl < 1 || hl > (int)VOUCH_PSI_HASH_MAX_BYTES) continue;
    it.hash_len = (uint8_t)hl;
    memcpy(it.hash, sqlite3_column_blob(st, 3), (size_t)hl);
    int tw = sqlite3_column_int(st, 4), th = sqlite3_column_int(st, 5);
    if (tw > 0 && th > 0 && tw <= 64 && th <= 64 && sqlite3_column_bytes(st, 6) == tw * th) {
      it.thumb_w = (uint8_t)tw;
      it.thumb_h = (uint8_t)th;
      it.thumb = sqlite3_column_blob(st, 6);
    }
    it.verdict = sqlite3_column_int(st, 7);
    it.score = sqlite3_column_int(st, 8);
    it.bank = col_text(st, 9);
    it.entry_id = col_text(st, 10);
    it.source = col_text(st, 11);
    it.distance = sqlite3_column_int(st, 12);
    it.created_at = sqlite3_column_int64(st, 13);
    if (sqlite3_column_type(st, 14) != SQLITE_NULL) {
      it.decision_id = sqlite3_column_int64(st, 14);
      it.decision = sqlite3_column_int(st, 15);
      it.reviewer = col_text(st, 16);
      it.note = col_text(st, 17);
      it.decided_at = sqlite3_column_int64(st, 18);
    }
    if ((rc = cb(ctx, &it)) != 0) break;
  }
  if (rc == VOUCH_OK && s != SQLITE_DONE) rc = db_fail(rv, "reading the queue");
  sqlite3_finalize(st);
  return rc;
}

int vouch_review_count_failed(vouch_review *rv, const char *account, size_t *n) {
  if (!rv || !n) return VOUCH_E_INVALID;
  *n = 0;
  sqlite3_stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "SELECT count(*) FROM review_items WHERE verdict = 2 AND (?1 IS NULL OR account = ?1)", &st));
  bind_text_or_null(st, 1, account);
  int rc = sqlite3_step(st) == SQLITE_ROW ? VOUCH_OK : db_fail(rv, "counting");
  if (rc == VOUCH_OK) *n = (size_t)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc;
}

/* ---- decisions ---- */

int vouch_review_decide(vouch_review *rv, int64_t item, int decision, const char *reviewer, const char *note,
                        int64_t supersedes, int64_t *id) {
  if (id) *id = 0;
  if (!rv) return VOUCH_E_INVALID;
  if (decision < VOUCH_REVIEW_CONFIRM || decision > VOUCH_REVIEW_ESCALATE)
    return fail(rv, VOUCH_E_INVALID, "decision must be confirm, reject or escalate");
  if (!text_ok(reviewer, VOUCH_REVIEW_NAME_MAX, 1)) return fail(rv, VOUCH_E_INVALID, "bad reviewer name");
  if (!text_ok(note, VOUCH_REVIEW_NOTE_MAX, 0))
    return fail(rv, VOUCH_E_INVALID, "the note is longer than %u bytes", VOUCH_REVIEW_NOTE_MAX - 1);
  if (supersedes < 0) return fail(rv, VOUCH_E_INVALID, "bad supersedes");
  if (sqlite3_exec(rv->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return db_fail(rv, "begin");
  sqlite3_stmt *st = NULL;
  int rc = prepare(rv,
                   "SELECT i.verdict, (SELECT coalesce(max(id), 0) FROM review_decisions WHERE item = i.id)"
                   " FROM review_items i WHERE i.id = ?",
                   &st);
  if (rc == VOUCH_OK) {
    sqlite3_bind_int64(st, 1, item);
    int s = sqlite3_step(st);
    if (s == SQLITE_DONE) {
      rc = fail(rv, VOUCH_E_NOT_FOUND, "no review item %lld", (long long)item);
    } else if (s != SQLITE_ROW) {
      rc = db_fail(rv, "reading the item");
    } else if (sqlite3_column_int(st, 0) == VOUCH_DERIV_FAIL) {
      rc = fail(rv, VOUCH_E_INVALID, "item %lld failed the second hash (a suspected forgery): not reviewable",
                (long long)item);
    } else if (sqlite3_column_int64(st, 1) != supersedes) {
      rc = fail(rv, VOUCH_E_EXISTS, "item %lld's latest decision is %lld, not %lld: reload the queue",
                (long long)item, (long long)sqlite3_column_int64(st, 1), (long long)supersedes);
    }
  }
  sqlite3_finalize(st);
  st = NULL;
  if (rc == VOUCH_OK)
    rc = prepare(rv, "INSERT INTO review_decisions(item, decision, reviewer, note, supersedes) VALUES(?,?,?,?,?)",
                 &st);
  if (rc == VOUCH_OK) {
    sqlite3_bind_int64(st, 1, item);
    sqlite3_bind_int(st, 2, decision);
    sqlite3_bind_text(st, 3, reviewer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, note ? note : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, supersedes);
    if (sqlite3_step(st) != SQLITE_DONE) rc = db_fail(rv, "storing the decision");
    else if (id) *id = sqlite3_last_insert_rowid(rv->db);
  }
  sqlite3_finalize(st);
  if (rc == VOUCH_OK && sqlite3_exec(rv->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = db_fail(rv, "commit");
  if (rc != VOUCH_OK) {
    sqlite3_exec(rv->db, "ROLLBACK", NULL, NULL, NULL);
    if (id) *id = 0;
  }
  return rc;
}

int vouch_review_decisions(vouch_review *rv, const char *account, vouch_review_decision_cb cb, void *ctx) {
  if (!rv || !cb) return VOUCH_E_INVALID;
  sqlite3_stmt *st = NULL;
  VOUCH_TRY(prepare(rv,
                    "SELECT d.id, d.item, i.account, d.decision, d.reviewer, d.note, d.decided_at, d.supersedes"
                    " FROM review_decisions d JOIN review_items i ON i.id = d.item"
                    " WHERE ?1 IS NULL OR i.account = ?1 ORDER BY d.id",
                    &st));
  bind_text_or_null(st, 1, account);
  int rc = VOUCH_OK, s;
  while ((s = sqlite3_step(st)) == SQLITE_ROW) {
    vouch_review_decision d = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), col_text(st, 2),
                               sqlite3_column_int(st, 3),   col_text(st, 4),             col_text(st, 5),
                               sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7)};
    if ((rc = cb(ctx, &d)) != 0) break;
  }
  if (rc == VOUCH_OK && s != SQLITE_DONE) rc = db_fail(rv, "reading the decisions");
  sqlite3_finalize(st);
  return rc;
}

int vouch_review_log_view(vouch_review *rv, const char *reviewer, int64_t item) {
  if (!rv) return VOUCH_E_INVALID;
  if (!text_ok(reviewer, VOUCH_REVIEW_NAME_MAX, 1) || item <= 0) return fail(rv, VOUCH_E_INVALID, "bad view");
  sqlite3_stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "INSERT INTO review_views(item, reviewer) VALUES(?, ?)", &st));
  sqlite3_bind_int64(st, 1, item);
  sqlite3_bind_text(st, 2, reviewer, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st) == SQLITE_DONE ? VOUCH_OK : db_fail(rv, "logging a view");
  sqlite3_finalize(st);
  return rc;
}

int vouch_review_log_views(vouch_review *rv, const char *reviewer, const int64_t *items, size_t n) {
  if (!rv || (n && !items)) return VOUCH_E_INVALID;
  if (n == 0) return VOUCH_OK;
  if (sqlite3_exec(rv->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return db_fail(rv, "begin");
  int rc = VOUCH_OK;
  for (size_t i = 0; i < n && rc == VOUCH_OK; i++) rc = vouch_review_log_view(rv, reviewer, items[i]);
  if (rc == VOUCH_OK && sqlite3_exec(rv->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) rc = db_fail(rv, "commit");
  if (rc != VOUCH_OK) sqlite3_exec(rv->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

int vouch_review_views(vouch_review *rv, int64_t item, size_t *n) {
  if (!rv || !n) return VOUCH_E_INVALID;
  *n = 0;
  sqlite3_stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "SELECT count(*) FROM review_views WHERE ?1 = 0 OR item = ?1", &st));
  sqlite3_bind_int64(st, 1, item);
  int rc = sqlite3_step(st) == SQLITE_ROW ? VOUCH_OK : db_fail(rv, "counting views");
  if (rc == VOUCH_OK) *n = (size_t)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return rc;
}
