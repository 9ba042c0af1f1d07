/* src/review/review.c -- the review queue, its append-only decisions and
 * the reviewers' tokens (review.h), in tables beside the bank's, on either
 * storage backend of the bank module (src/bank/store.h): an SQLite file or
 * a PostgreSQL database.
 *   review_items(id, account, algo, hash, thumb_w, thumb_h, thumb, verdict,
 *                score, bank, entry_id, source, distance, created_at,
 *                unique on (account, algo, hash, thumb))
 *     (the derivative is part of the key: a forgery that collides with a
 *     genuine photo bit for bit is a payload of its own, not a repeat;
 *     PostgreSQL keys on sha256(thumb), as a 64 x 64 derivative is past
 *     its index row limit)
 *   review_decisions(id, item, decision, reviewer, note, decided_at, supersedes)
 *   review_views(id, item, reviewer, viewed_at)
 *   review_seconds(id, pdq, second)
 *   vouchd_reviewers(id, name, sha256, created_at)
 * SQLite: created on open (IF NOT EXISTS), as vouchd's own tables are.
 * PostgreSQL: migration 5 of store_pg.c.  Triggers refuse UPDATE and DELETE
 * on review_decisions and review_views (and TRUNCATE on PostgreSQL): the
 * record of who decided what stays whole even against a caller's bug.
 * The SQL below is the subset both engines run (store.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "vouch/review.h"
#include "bank/store.h"
#include "common/internal.h"

struct vouch_review {
  vouch__db *db;
  char err[512];
};

static const char sqlite_schema[] =
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
  "CREATE TABLE IF NOT EXISTS vouchd_reviewers("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE CHECK(length(name) BETWEEN 1 AND 63),"
  "  sha256 BLOB NOT NULL UNIQUE CHECK(length(sha256) = 32),"
  "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
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

/* Records the backend's message for a VOUCH__DB_* failure and maps it. */
static int db_fail(vouch_review *rv, int dbrc, const char *what) {
  snprintf(rv->err, sizeof rv->err, "%s: %s", what, vouch__db_errmsg(rv->db));
  return dbrc == VOUCH__DB_BUSY ? VOUCH_E_DB_BUSY : dbrc == VOUCH__DB_NOMEM ? VOUCH_E_NOMEM : VOUCH_E_DB;
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
  /* the bank's own opener: the same file checks, or the PostgreSQL
   * migrations (5 holds the review tables) */
  int schema = 0;
  int rc = vouch__store_is_pg(path) ? vouch__store_open_pg(path, 0, &rv->db, &schema, rv->err, sizeof rv->err)
                                    : vouch__store_open_sqlite(path, VOUCH_BANK_OPEN_CREATE, &rv->db, &schema,
                                                               rv->err, sizeof rv->err);
  if (rc != VOUCH_OK) return rc;
  if (!rv->db->pg) {
    int d = vouch__db_exec(rv->db, sqlite_schema);
    if (d != VOUCH__DB_OK) return db_fail(rv, d, "creating the review tables");
  }
  return VOUCH_OK;
}

void vouch_review_free(vouch_review *rv) {
  if (!rv) return;
  vouch__db_close(rv->db);
  vouch__free(rv);
}

static int prepare(vouch_review *rv, const char *sql, vouch__stmt **st) {
  int d = vouch__db_prepare(rv->db, sql, st);
  return d == VOUCH__DB_OK ? VOUCH_OK : db_fail(rv, d, "prepare");
}

/* Steps a statement that returns no row (or one to ignore). */
static int step_done(vouch_review *rv, vouch__stmt *st, const char *what) {
  int d = vouch__step(st);
  return d == VOUCH__DB_DONE || d == VOUCH__DB_ROW ? VOUCH_OK : db_fail(rv, d, what);
}

static int begin(vouch_review *rv) {
  int d = vouch__begin(rv->db);
  return d == VOUCH__DB_OK ? VOUCH_OK : db_fail(rv, d, "begin");
}

/* Commits when rc is VOUCH_OK, else rolls back; returns the outcome. */
static int end_tx(vouch_review *rv, int rc) {
  if (rc == VOUCH_OK) {
    int d = vouch__commit(rv->db);
    if (d == VOUCH__DB_OK) return VOUCH_OK;
    rc = db_fail(rv, d, "commit");
  }
  vouch__rollback(rv->db);
  return rc;
}

static int text_ok(const char *v, size_t max, int required) {
  if (!v) return !required;
  size_t n = strnlen(v, max);
  return n < max && (!required || n > 0);
}

static int64_t now_s(void) { return (int64_t)time(NULL); }

/* ---- second hashes ---- */

int vouch_review_set_seconds(vouch_review *rv, const char *text, size_t len, size_t *count, size_t *bad_line) {
  if (count) *count = 0;
  if (!rv) return VOUCH_E_INVALID;
  vouch_second_list *l = NULL;
  int rc = vouch_second_list_parse(text, len, &l, bad_line);
  if (rc != VOUCH_OK) return fail(rv, rc, "line %zu: not PDQHEX [QUALITY] SECONDHEX", bad_line ? *bad_line : 0);
  vouch__stmt *st = NULL;
  if ((rc = begin(rv)) != VOUCH_OK) goto out;
  int d = vouch__db_exec(rv->db, "DELETE FROM review_seconds");
  if (d != VOUCH__DB_OK) rc = db_fail(rv, d, "replacing the second hashes");
  if (rc == VOUCH_OK) rc = prepare(rv, "INSERT INTO review_seconds(pdq, second) VALUES(?, ?)", &st);
  const size_t n = vouch_second_list_count(l);
  for (size_t i = 0; i < n && rc == VOUCH_OK; i++) {
    const uint8_t *pdq, *sec;
    vouch_second_list_get(l, i, &pdq, &sec);
    vouch__bind_blob(st, 1, pdq, VOUCH_PDQ_BYTES);
    vouch__bind_blob(st, 2, sec, VOUCH_DERIV_HASH_BYTES);
    rc = step_done(rv, st, "storing a second hash");
    vouch__reset(st);
  }
  vouch__finalize(st);
  rc = end_tx(rv, rc);
  if (rc == VOUCH_OK && count) *count = n;
out:
  vouch_second_list_free(l);
  return rc;
}

int vouch_review_seconds(vouch_review *rv, vouch_second_list **out) {
  if (!rv || !out) return VOUCH_E_INVALID;
  *out = NULL;
  /* Stored rows are rebuilt into the list format and parsed: one code path
   * for what a list may hold. */
  vouch__stmt *st = NULL;
  int rc = prepare(rv, "SELECT pdq, second FROM review_seconds ORDER BY id", &st);
  if (rc != VOUCH_OK) return rc;
  const size_t line = 2 * VOUCH_PDQ_BYTES + 1 + 2 * VOUCH_DERIV_HASH_BYTES + 1;
  char *text = NULL;
  size_t len = 0, cap = 0;
  int d;
  while ((d = vouch__step(st)) == VOUCH__DB_ROW) {
    if (vouch__col_bytes(st, 0) != VOUCH_PDQ_BYTES || vouch__col_bytes(st, 1) != VOUCH_DERIV_HASH_BYTES) continue;
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
    vouch_hash_to_hex(vouch__col_blob(st, 0), VOUCH_PDQ_BYTES, text + len, cap - len);
    len += 2 * VOUCH_PDQ_BYTES;
    text[len++] = ' ';
    vouch_hash_to_hex(vouch__col_blob(st, 1), VOUCH_DERIV_HASH_BYTES, text + len, cap - len);
    len += 2 * VOUCH_DERIV_HASH_BYTES;
    text[len++] = '\n';
  }
  if (rc == VOUCH_OK && d != VOUCH__DB_DONE) rc = db_fail(rv, d, "reading the second hashes");
  vouch__finalize(st);
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
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv,
                    "INSERT INTO review_items(account, algo, hash, thumb_w, thumb_h, thumb, verdict, score,"
                    " bank, entry_id, source, distance, created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT DO NOTHING",
                    &st));
  const int has_thumb = it->thumb_w && it->thumb_h;
  static const uint8_t none = 0;
  vouch__bind_text(st, 1, it->account, -1);
  vouch__bind_int64(st, 2, it->algo);
  vouch__bind_blob(st, 3, it->hash, it->hash_len);
  vouch__bind_int64(st, 4, has_thumb ? it->thumb_w : 0);
  vouch__bind_int64(st, 5, has_thumb ? it->thumb_h : 0);
  vouch__bind_blob(st, 6, has_thumb ? it->thumb : &none, has_thumb ? it->thumb_w * it->thumb_h : 0);
  vouch__bind_int64(st, 7, it->verdict);
  vouch__bind_int64(st, 8, it->score);
  vouch__bind_text(st, 9, it->bank, -1);
  vouch__bind_text(st, 10, it->entry_id, -1);
  vouch__bind_text(st, 11, it->source, -1);
  vouch__bind_int64(st, 12, it->distance);
  vouch__bind_int64(st, 13, now_s());
  int rc = step_done(rv, st, "queueing an item");
  if (rc == VOUCH_OK && added) *added = vouch__changes(rv->db) > 0;
  vouch__finalize(st);
  return rc;
}

int vouch_review_items(vouch_review *rv, const char *account, unsigned flags, vouch_review_item_cb cb, void *ctx) {
  if (!rv || !cb) return VOUCH_E_INVALID;
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv,
                    "SELECT i.id, i.account, i.algo, i.hash, i.thumb_w, i.thumb_h, i.thumb, i.verdict, i.score,"
                    " i.bank, i.entry_id, i.source, i.distance, i.created_at,"
                    " d.id, d.decision, d.reviewer, d.note, d.decided_at"
                    " FROM review_items i LEFT JOIN review_decisions d"
                    "  ON d.id = (SELECT max(id) FROM review_decisions WHERE item = i.id)"
                    " WHERE (CAST(?1 AS TEXT) IS NULL OR i.account = ?1) AND (?2 = 1 OR i.verdict <> 2)"
                    "  AND (?3 = 0 OR d.id IS NULL OR d.decision = 3)"
                    " ORDER BY i.id",
                    &st));
  vouch__bind_text(st, 1, account, -1);
  vouch__bind_int64(st, 2, (flags & VOUCH_REVIEW_WITH_FAILED) != 0);
  vouch__bind_int64(st, 3, (flags & VOUCH_REVIEW_OPEN_ONLY) != 0);
  int rc = VOUCH_OK, d;
  while ((d = vouch__step(st)) == VOUCH__DB_ROW) {
    vouch_review_item it;
    memset(&it, 0, sizeof it);
    it.id = vouch__col_int64(st, 0);
    it.account = vouch__col_text(st, 1);
    it.algo = (int)vouch__col_int64(st, 2);
    int hl = vouch__col_bytes(st, 3);
    if (hl < 1 || hl > (int)VOUCH_PSI_HASH_MAX_BYTES || !it.account) continue;
    it.hash_len = (uint8_t)hl;
    memcpy(it.hash, vouch__col_blob(st, 3), (size_t)hl);
    int64_t tw = vouch__col_int64(st, 4), th = vouch__col_int64(st, 5);
    if (tw > 0 && th > 0 && tw <= 64 && th <= 64 && vouch__col_bytes(st, 6) == tw * th) {
      it.thumb_w = (uint8_t)tw;
      it.thumb_h = (uint8_t)th;
      it.thumb = vouch__col_blob(st, 6);
    }
    it.verdict = (int)vouch__col_int64(st, 7);
    it.score = (int)vouch__col_int64(st, 8);
    it.bank = vouch__col_text(st, 9);
    it.entry_id = vouch__col_text(st, 10);
    it.source = vouch__col_text(st, 11);
    it.distance = (int)vouch__col_int64(st, 12);
    it.created_at = vouch__col_int64(st, 13);
    if (vouch__col_int64(st, 14) > 0) {
      it.decision_id = vouch__col_int64(st, 14);
      it.decision = (int)vouch__col_int64(st, 15);
      it.reviewer = vouch__col_text(st, 16);
      it.note = vouch__col_text(st, 17);
      it.decided_at = vouch__col_int64(st, 18);
    }
    if ((rc = cb(ctx, &it)) != 0) break;
  }
  if (rc == VOUCH_OK && d != VOUCH__DB_DONE) rc = db_fail(rv, d, "reading the queue");
  vouch__finalize(st);
  return rc;
}

/* Steps a one-row count query and stores its value. */
static int count_of(vouch_review *rv, vouch__stmt *st, size_t *n, const char *what) {
  int d = vouch__step(st);
  int rc = d == VOUCH__DB_ROW ? VOUCH_OK : db_fail(rv, d, what);
  if (rc == VOUCH_OK) *n = (size_t)vouch__col_int64(st, 0);
  vouch__finalize(st);
  return rc;
}

int vouch_review_count_failed(vouch_review *rv, const char *account, size_t *n) {
  if (!rv || !n) return VOUCH_E_INVALID;
  *n = 0;
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv,
                    "SELECT count(*) FROM review_items WHERE verdict = 2 AND (CAST(?1 AS TEXT) IS NULL OR account = ?1)",
                    &st));
  vouch__bind_text(st, 1, account, -1);
  return count_of(rv, st, n, "counting");
}

/* ---- decisions ---- */

/* Inside decide()'s transaction: the item exists, is decidable, and its
 * latest decision is `supersedes`.  On PostgreSQL the item's row is locked
 * first (SQLite's write transaction already excludes other writers), and
 * the latest decision is read by a statement of its own, after the lock. */
static int check_latest(vouch_review *rv, int64_t item, int64_t supersedes) {
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv, rv->db->pg ? "SELECT verdict FROM review_items WHERE id = ? FOR UPDATE"
                                   : "SELECT verdict FROM review_items WHERE id = ?",
                    &st));
  vouch__bind_int64(st, 1, item);
  int d = vouch__step(st), rc = VOUCH_OK;
  if (d == VOUCH__DB_DONE)
    rc = fail(rv, VOUCH_E_NOT_FOUND, "no review item %lld", (long long)item);
  else if (d != VOUCH__DB_ROW)
    rc = db_fail(rv, d, "reading the item");
  else if (vouch__col_int64(st, 0) == VOUCH_DERIV_FAIL)
    rc = fail(rv, VOUCH_E_INVALID, "item %lld failed the second hash (a suspected forgery): not reviewable",
              (long long)item);
  vouch__finalize(st);
  if (rc != VOUCH_OK) return rc;
  VOUCH_TRY(prepare(rv, "SELECT coalesce(max(id), 0) FROM review_decisions WHERE item = ?", &st));
  vouch__bind_int64(st, 1, item);
  size_t latest = 0;
  VOUCH_TRY(count_of(rv, st, &latest, "reading the latest decision"));
  if ((int64_t)latest != supersedes)
    return fail(rv, VOUCH_E_EXISTS, "item %lld's latest decision is %lld, not %lld: reload the queue",
                (long long)item, (long long)latest, (long long)supersedes);
  return VOUCH_OK;
}

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
  VOUCH_TRY(begin(rv));
  int rc = check_latest(rv, item, supersedes);
  vouch__stmt *st = NULL;
  if (rc == VOUCH_OK)
    rc = prepare(rv,
                 "INSERT INTO review_decisions(item, decision, reviewer, note, decided_at, supersedes)"
                 " VALUES(?,?,?,?,?,?) RETURNING id",
                 &st);
  if (rc == VOUCH_OK) {
    vouch__bind_int64(st, 1, item);
    vouch__bind_int64(st, 2, decision);
    vouch__bind_text(st, 3, reviewer, -1);
    vouch__bind_text(st, 4, note ? note : "", -1);
    vouch__bind_int64(st, 5, now_s());
    vouch__bind_int64(st, 6, supersedes);
    int d = vouch__step(st);
    if (d != VOUCH__DB_ROW) rc = db_fail(rv, d, "storing the decision");
    else if (id) *id = vouch__col_int64(st, 0);
    vouch__finalize(st);
  }
  rc = end_tx(rv, rc);
  if (rc != VOUCH_OK && id) *id = 0;
  return rc;
}

int vouch_review_decisions(vouch_review *rv, const char *account, vouch_review_decision_cb cb, void *ctx) {
  if (!rv || !cb) return VOUCH_E_INVALID;
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv,
                    "SELECT d.id, d.item, i.account, d.decision, d.reviewer, d.note, d.decided_at, d.supersedes"
                    " FROM review_decisions d JOIN review_items i ON i.id = d.item"
                    " WHERE CAST(?1 AS TEXT) IS NULL OR i.account = ?1 ORDER BY d.id",
                    &st));
  vouch__bind_text(st, 1, account, -1);
  int rc = VOUCH_OK, d;
  while ((d = vouch__step(st)) == VOUCH__DB_ROW) {
    vouch_review_decision dc = {vouch__col_int64(st, 0), vouch__col_int64(st, 1), vouch__col_text(st, 2),
                                (int)vouch__col_int64(st, 3), vouch__col_text(st, 4), vouch__col_text(st, 5),
                                vouch__col_int64(st, 6), vouch__col_int64(st, 7)};
    if ((rc = cb(ctx, &dc)) != 0) break;
  }
  if (rc == VOUCH_OK && d != VOUCH__DB_DONE) rc = db_fail(rv, d, "reading the decisions");
  vouch__finalize(st);
  return rc;
}

static int log_view(vouch_review *rv, const char *reviewer, int64_t item) {
  if (!text_ok(reviewer, VOUCH_REVIEW_NAME_MAX, 1) || item <= 0) return fail(rv, VOUCH_E_INVALID, "bad view");
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "INSERT INTO review_views(item, reviewer, viewed_at) VALUES(?, ?, ?)", &st));
  vouch__bind_int64(st, 1, item);
  vouch__bind_text(st, 2, reviewer, -1);
  vouch__bind_int64(st, 3, now_s());
  int rc = step_done(rv, st, "logging a view");
  vouch__finalize(st);
  return rc;
}

int vouch_review_log_view(vouch_review *rv, const char *reviewer, int64_t item) {
  if (!rv) return VOUCH_E_INVALID;
  return log_view(rv, reviewer, item);
}

int vouch_review_log_views(vouch_review *rv, const char *reviewer, const int64_t *items, size_t n) {
  if (!rv || (n && !items)) return VOUCH_E_INVALID;
  if (n == 0) return VOUCH_OK;
  VOUCH_TRY(begin(rv));
  int rc = VOUCH_OK;
  for (size_t i = 0; i < n && rc == VOUCH_OK; i++) rc = log_view(rv, reviewer, items[i]);
  return end_tx(rv, rc);
}

int vouch_review_views(vouch_review *rv, int64_t item, size_t *n) {
  if (!rv || !n) return VOUCH_E_INVALID;
  *n = 0;
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "SELECT count(*) FROM review_views WHERE ?1 = 0 OR item = ?1", &st));
  vouch__bind_int64(st, 1, item);
  return count_of(rv, st, n, "counting views");
}

/* ---- reviewers ---- */

int vouch_review_reviewer_add(vouch_review *rv, const char *name, const uint8_t sha256[32]) {
  if (!rv) return VOUCH_E_INVALID;
  if (!sha256 || !text_ok(name, VOUCH_REVIEW_NAME_MAX, 1) || !vouch_utf8_valid(name, strlen(name)))
    return fail(rv, VOUCH_E_INVALID, "a reviewer's name is 1..%u bytes of UTF-8", VOUCH_REVIEW_NAME_MAX - 1);
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "INSERT INTO vouchd_reviewers(name, sha256, created_at) VALUES(?, ?, ?)", &st));
  vouch__bind_text(st, 1, name, -1);
  vouch__bind_blob(st, 2, sha256, 32);
  vouch__bind_int64(st, 3, now_s());
  int d = vouch__step(st), rc = VOUCH_OK;
  if (d == VOUCH__DB_UNIQUE) rc = fail(rv, VOUCH_E_EXISTS, "a reviewer named '%s' exists", name);
  else if (d != VOUCH__DB_DONE) rc = db_fail(rv, d, "adding a reviewer");
  vouch__finalize(st);
  return rc;
}

int vouch_review_reviewer_find(vouch_review *rv, const uint8_t sha256[32], char *name, size_t cap) {
  if (name && cap) name[0] = 0;
  if (!rv || !sha256 || !name || cap == 0) return VOUCH_E_INVALID;
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "SELECT name FROM vouchd_reviewers WHERE sha256 = ?", &st));
  vouch__bind_blob(st, 1, sha256, 32);
  int d = vouch__step(st), rc = VOUCH_OK;
  const char *n = d == VOUCH__DB_ROW ? vouch__col_text(st, 0) : NULL;
  if (n) snprintf(name, cap, "%s", n);
  else if (d == VOUCH__DB_ROW || d == VOUCH__DB_DONE) rc = VOUCH_E_NOT_FOUND;
  else rc = db_fail(rv, d, "looking up a reviewer");
  vouch__finalize(st);
  return rc;
}

int vouch_review_reviewers(vouch_review *rv, vouch_review_reviewer_cb cb, void *ctx) {
  if (!rv || !cb) return VOUCH_E_INVALID;
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "SELECT name, created_at FROM vouchd_reviewers ORDER BY id", &st));
  int rc = VOUCH_OK, d;
  while ((d = vouch__step(st)) == VOUCH__DB_ROW) {
    const char *n = vouch__col_text(st, 0);
    if (n && (rc = cb(ctx, n, vouch__col_int64(st, 1))) != 0) break;
  }
  if (rc == VOUCH_OK && d != VOUCH__DB_DONE) rc = db_fail(rv, d, "listing reviewers");
  vouch__finalize(st);
  return rc;
}

int vouch_review_reviewer_remove(vouch_review *rv, const char *name) {
  if (!rv || !name) return VOUCH_E_INVALID;
  vouch__stmt *st = NULL;
  VOUCH_TRY(prepare(rv, "DELETE FROM vouchd_reviewers WHERE name = ?", &st));
  vouch__bind_text(st, 1, name, -1);
  int rc = step_done(rv, st, "removing a reviewer");
  if (rc == VOUCH_OK && vouch__changes(rv->db) == 0) rc = fail(rv, VOUCH_E_NOT_FOUND, "no reviewer named '%s'", name);
  vouch__finalize(st);
  return rc;
}
