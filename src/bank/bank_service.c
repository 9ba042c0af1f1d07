/* src/bank/bank_service.c -- what vouchd keeps beside the banks (vouch/bank.h
 * "service state"): API token hashes and stored safety vouchers, on either
 * storage backend. */
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "bank_db.h"

/* The tables exist once per handle (SQLite creates them on first use). */
static int service_ready(vouch_bank *b) {
  if (!b || !b->db) return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  int dbrc = vouch__db_service_schema(b->db);
  return dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "service tables");
}

static int valid_role(const char *role) {
  static const char *const roles[] = {"reader", "matcher", "admin", "device"};
  for (size_t i = 0; role && i < sizeof roles / sizeof roles[0]; i++)
    if (!strcmp(role, roles[i])) return 1;
  return 0;
}

int vouch_bank_token_add(vouch_bank *b, const char *name, const char *role, const uint8_t sha256[32],
                         const char *account) {
  if (!b || !name || !*name || !sha256) return VOUCH_E_INVALID;
  if (!valid_role(role) || (!strcmp(role, "device")) != (account != NULL))
    return vouch__bank_fail(b, VOUCH_E_INVALID, "role must be reader, matcher, admin or device (with an account)");
  VOUCH_TRY(service_ready(b));
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "INSERT INTO vouchd_tokens(name, role, sha256, account, created_at) VALUES(?,?,?,?,?)",
                                &st));
  vouch__bind_text(st, 1, name, -1);
  vouch__bind_text(st, 2, role, -1);
  vouch__bind_blob(st, 3, sha256, 32);
  vouch__bind_text(st, 4, account, -1);
  vouch__bind_int64(st, 5, (int64_t)time(NULL));
  int dbrc = vouch__step(st), rc = VOUCH_OK;
  if (dbrc == VOUCH__DB_UNIQUE)
    rc = vouch__bank_fail(b, VOUCH_E_EXISTS, "a token named '%s' (or with that hash) already exists", name);
  else if (dbrc != VOUCH__DB_DONE)
    rc = vouch__bank_dbfail(b, dbrc, "add token");
  vouch__finalize(st);
  return rc;
}

int vouch_bank_token_remove(vouch_bank *b, const char *name) {
  if (!name) return VOUCH_E_INVALID;
  VOUCH_TRY(service_ready(b));
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "DELETE FROM vouchd_tokens WHERE name = ?", &st));
  vouch__bind_text(st, 1, name, -1);
  int dbrc = vouch__step(st);
  vouch__finalize(st);
  if (dbrc != VOUCH__DB_DONE) return vouch__bank_dbfail(b, dbrc, "remove token");
  return vouch__changes(b->db) == 1 ? VOUCH_OK : vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no token named '%s'", name);
}

int vouch_bank_tokens(vouch_bank *b, vouch_bank_token_cb cb, void *ctx) {
  if (!cb) return VOUCH_E_INVALID;
  VOUCH_TRY(service_ready(b));
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT name, role, sha256, account, created_at FROM vouchd_tokens ORDER BY id", &st));
  int dbrc, rc = VOUCH_OK;
  while ((dbrc = vouch__step(st)) == VOUCH__DB_ROW) {
    vouch_bank_token t = {vouch__col_text(st, 0), vouch__col_text(st, 1), vouch__col_blob(st, 2),
                          vouch__col_text(st, 3), vouch__col_int64(st, 4)};
    if (!t.name || !valid_role(t.role) || !t.sha256 || vouch__col_bytes(st, 2) != 32 ||
        (!strcmp(t.role, "device")) != (t.account != NULL))
      continue;
    if ((rc = cb(ctx, &t)) != 0) break;
  }
  if (rc == VOUCH_OK && dbrc != VOUCH__DB_DONE && dbrc != VOUCH__DB_ROW) rc = vouch__bank_dbfail(b, dbrc, "read tokens");
  vouch__finalize(st);
  return rc;
}

int vouch_bank_vouchers_store(vouch_bank *b, const char *account, const uint8_t *const *vouchers, const size_t *lens,
                              size_t n, vouch_bank_voucher_check_cb check, void *ctx, size_t *stored) {
  if (!account || (n && (!vouchers || !lens))) return VOUCH_E_INVALID;
  if (stored) *stored = 0;
  for (size_t i = 0; i < n; i++)
    if (!vouchers[i] || lens[i] > (size_t)INT32_MAX) return VOUCH_E_INVALID;
  VOUCH_TRY(service_ready(b));
  VOUCH_TRY(vouch__bank_begin(b));
  vouch__stmt *st = NULL;
  size_t added = 0;
  /* the first stored voucher, read under the write transaction so it
   * cannot change between the check and the commit */
  int rc = vouch__bank_prepare(b, "SELECT data FROM vouchd_vouchers WHERE account = ? ORDER BY id LIMIT 1", &st);
  if (rc == VOUCH_OK) {
    vouch__bind_text(st, 1, account, -1);
    int dbrc = vouch__step(st);
    if (dbrc != VOUCH__DB_ROW && dbrc != VOUCH__DB_DONE)
      rc = vouch__bank_dbfail(b, dbrc, "read the account's first voucher");
    else if (check)
      rc = dbrc == VOUCH__DB_ROW ? check(ctx, vouch__col_blob(st, 0), (size_t)vouch__col_bytes(st, 0))
                                 : check(ctx, NULL, 0);
    vouch__finalize(st);
    st = NULL;
  }
  if (rc == VOUCH_OK)
    rc = vouch__bank_prepare(b,
                             "INSERT INTO vouchd_vouchers(account, digest, data, received_at) VALUES(?,?,?,?)"
                             " ON CONFLICT DO NOTHING",
                             &st);
  const int64_t now = (int64_t)time(NULL);
  for (size_t i = 0; rc == VOUCH_OK && i < n; i++) {
    uint8_t digest[32];
    crypto_generichash(digest, sizeof digest, vouchers[i], lens[i], NULL, 0);
    vouch__bind_text(st, 1, account, -1);
    vouch__bind_blob(st, 2, digest, 32);
    vouch__bind_blob(st, 3, vouchers[i], (int)lens[i]);
    vouch__bind_int64(st, 4, now);
    int dbrc = vouch__step(st);
    vouch__reset(st);
    if (dbrc != VOUCH__DB_DONE) rc = vouch__bank_dbfail(b, dbrc, "store voucher");
    else added += (size_t)vouch__changes(b->db);
  }
  vouch__finalize(st);
  if (rc == VOUCH_OK) rc = vouch__bank_commit(b);
  else vouch__rollback(b->db);
  if (rc == VOUCH_OK && stored) *stored = added;
  return rc;
}

int vouch_bank_vouchers(vouch_bank *b, const char *account, vouch_bank_voucher_cb cb, void *ctx) {
  if (!account || !cb) return VOUCH_E_INVALID;
  VOUCH_TRY(service_ready(b));
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT data FROM vouchd_vouchers WHERE account = ? ORDER BY id", &st));
  vouch__bind_text(st, 1, account, -1);
  int dbrc, rc = VOUCH_OK;
  while ((dbrc = vouch__step(st)) == VOUCH__DB_ROW) {
    const uint8_t *v = vouch__col_blob(st, 0);
    if ((rc = cb(ctx, v ? v : (const uint8_t *)"", (size_t)vouch__col_bytes(st, 0))) != 0) break;
  }
  if (rc == VOUCH_OK && dbrc != VOUCH__DB_DONE && dbrc != VOUCH__DB_ROW) rc = vouch__bank_dbfail(b, dbrc, "read vouchers");
  vouch__finalize(st);
  return rc;
}

/* ------------------------------------------------------------ replicas */

#define BUILD_LOCK_KEY 0x5643484249445831LL /* 'VCHBIDX1': the index-builder lock */

int vouch__bank_pg_only(vouch_bank *b) {
  if (!b || !b->db) return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  return b->db->pg ? VOUCH_OK
                   : vouch__bank_fail(b, VOUCH_E_UNSUPPORTED, "replica calls need a postgresql:// database");
}

int vouch_bank_change_seq(vouch_bank *b, int64_t *seq) {
  if (!seq) return VOUCH_E_INVALID;
  VOUCH_TRY(vouch__bank_pg_only(b));
  int dbrc = vouch__pg_change_seq(b->db, seq);
  return dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "change counter");
}

int vouch_bank_wait_change(vouch_bank *b, int timeout_ms, int *changed) {
  if (!changed) return VOUCH_E_INVALID;
  *changed = 0;
  VOUCH_TRY(vouch__bank_pg_only(b));
  int dbrc = vouch__pg_wait_change(b->db, timeout_ms, changed);
  return dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "wait for changes");
}

int vouch_bank_build_lock(vouch_bank *b, int wait, int *got) {
  int g = 0;
  VOUCH_TRY(vouch__bank_pg_only(b));
  int dbrc = vouch__pg_advisory(b->db, BUILD_LOCK_KEY, wait ? 2 : 1, &g);
  if (got) *got = g;
  return dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "builder lock");
}

int vouch_bank_build_unlock(vouch_bank *b) {
  VOUCH_TRY(vouch__bank_pg_only(b));
  int dbrc = vouch__pg_advisory(b->db, BUILD_LOCK_KEY, 0, NULL);
  return dbrc == VOUCH__DB_OK ? VOUCH_OK : vouch__bank_dbfail(b, dbrc, "builder unlock");
}
