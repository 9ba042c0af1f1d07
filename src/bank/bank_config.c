/* src/bank/bank_config.c -- settings kept in the bank database beside the
 * banks (vouch/bank_config.h): the signal types' enabled ratios (table
 * signal_types, bank schema 5 / PostgreSQL migration 8), the database's
 * data version, and the enabled entries per algorithm. */
#include <string.h>
#include "bank_db.h"
#include "vouch/bank_config.h"

/* Algorithms a bank can hold are stored under their vouch name. */
static const char *algo_key(int algo) {
  const char *n = vouch_algo_name(algo);
  return algo != VOUCH_ALGO_NONE && vouch_bank_algo_from_name(n) == algo ? n : NULL;
}

int vouch_bank_signal_type_on(double enabled_ratio) { return enabled_ratio > 0.0; }

int vouch_bank_signal_type_set(vouch_bank *b, int algo, double enabled_ratio) {
  if (!b) return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  const char *key = algo_key(algo);
  if (!key) return vouch__bank_fail(b, VOUCH_E_INVALID, "unknown signal type (algorithm %d)", algo);
  if (!(enabled_ratio >= 0.0 && enabled_ratio <= 1.0)) /* NaN fails both */
    return vouch__bank_fail(b, VOUCH_E_INVALID, "enabled ratio must be in the range 0.0-1.0 inclusive");
  if (b->schema < 5)
    return vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no signal type settings (open it "
                                                   "for writing to migrate it)", b->schema);
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b,
                                "INSERT INTO signal_types(name, enabled_ratio) VALUES(?1, ?2)"
                                " ON CONFLICT(name) DO UPDATE SET enabled_ratio = ?2",
                                &st));
  vouch__bind_text(st, 1, key, -1);
  vouch__bind_double(st, 2, enabled_ratio);
  const int src = vouch__step(st);
  vouch__finalize(st);
  return src == VOUCH__DB_DONE ? VOUCH_OK : vouch__bank_dbfail(b, src, "store signal type");
}

int vouch_bank_signal_type_get(vouch_bank *b, int algo, double *enabled_ratio, int *stored) {
  if (!b || !enabled_ratio) return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  *enabled_ratio = 1.0;
  if (stored) *stored = 0;
  const char *key = algo_key(algo);
  if (!key) return vouch__bank_fail(b, VOUCH_E_INVALID, "unknown signal type (algorithm %d)", algo);
  if (b->schema < 5) return VOUCH_OK;
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT enabled_ratio FROM signal_types WHERE name = ?", &st));
  vouch__bind_text(st, 1, key, -1);
  int src = vouch__step(st), rc = VOUCH_OK;
  if (src == VOUCH__DB_ROW) {
    const double v = vouch__col_double(st, 0);
    if (!(v >= 0.0 && v <= 1.0)) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "signal type %s: stored enabled ratio out of range", key);
    } else {
      *enabled_ratio = v;
      if (stored) *stored = 1;
    }
  } else if (src != VOUCH__DB_DONE) {
    rc = vouch__bank_dbfail(b, src, "read signal type");
  }
  vouch__finalize(st);
  return rc;
}

int vouch_bank_data_version(vouch_bank *b, int64_t *version) {
  if (!b || !version) return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, b->db->pg ? "SELECT seq FROM vouch_state WHERE id = 1" : "PRAGMA data_version", &st));
  const int src = vouch__step(st);
  if (src == VOUCH__DB_ROW) *version = vouch__col_int64(st, 0);
  vouch__finalize(st);
  return src == VOUCH__DB_ROW ? VOUCH_OK : vouch__bank_dbfail(b, src, "data version");
}

int vouch_bank_enabled_counts(vouch_bank *b, uint64_t counts[VOUCH_BANK_ALGO_SLOTS]) {
  if (!b || !counts) return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  memset(counts, 0, VOUCH_BANK_ALGO_SLOTS * sizeof counts[0]);
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b,
                                "SELECT b.algo, (SELECT count(*) FROM entries e WHERE e.bank_id = b.id AND e.enabled <> 0)"
                                " FROM banks b WHERE b.enabled <> 0",
                                &st));
  int src;
  while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
    const int algo = vouch_bank_algo_from_name((const char *)vouch__col_text(st, 0));
    const int64_t n = vouch__col_int64(st, 1);
    if (algo > 0 && (unsigned)algo < VOUCH_BANK_ALGO_SLOTS && n > 0) counts[algo] += (uint64_t)n;
  }
  vouch__finalize(st);
  return src == VOUCH__DB_DONE ? VOUCH_OK : vouch__bank_dbfail(b, src, "count entries");
}
