/* src/bank/radius.c -- each bank's own match radius, looked up for the banks
 * of an index (vouch_bank_radii()), so that a program matching against an
 * index built from several banks can keep each bank's matches within that
 * bank's radius (docs/exchanges.md).  The settings are read from the banks
 * table alone (vouch_bank_settings()): vouch_bank_list() also counts each
 * bank's entries, which takes seconds at 10M entries and made a replica's
 * first index install slow (#21). */
#include "bank_db.h"
#include "vouch/index.h"

int vouch_bank_settings(vouch_bank *b, const char *name, int *algo, int *enabled, int *radius) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  int64_t id;
  int a, en;
  VOUCH_TRY(vouch__bank_find(b, name, &id, &a, &en));
  int r = -1;
  if (b->schema >= 3) { /* the radius column came with schema 3 */
    vouch__stmt *st;
    VOUCH_TRY(vouch__bank_prepare(b, "SELECT coalesce(radius, -1) FROM banks WHERE id = ?", &st));
    vouch__bind_int64(st, 1, id);
    int src = vouch__step(st);
    int64_t v = src == VOUCH__DB_ROW ? vouch__col_int64(st, 0) : -1;
    vouch__finalize(st);
    if (src == VOUCH__DB_DONE)
      return vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no bank named '%s'", name);
    if (src != VOUCH__DB_ROW)
      return vouch__bank_dbfail(b, src, "bank radius");
    r = v >= 0 && v <= (int64_t)vouch_algo_bytes(a) * 8 ? (int)v : -1;
  }
  if (algo) *algo = a;
  if (enabled) *enabled = en;
  if (radius) *radius = r;
  return VOUCH_OK;
}

int vouch_bank_radii(vouch_bank *db, const vouch_index *idx, unsigned def, unsigned *out, size_t n,
                     size_t *nown) {
  if (!db || !idx || (n && !out) || n < vouch_index_bank_count(idx))
    return VOUCH_E_INVALID;
  size_t own = 0;
  for (uint32_t i = 0; i < vouch_index_bank_count(idx); i++) {
    int r = -1;
    /* a bank the file does not hold (the index came from another file) has none */
    if (vouch_bank_settings(db, vouch_index_bank_name(idx, i), NULL, NULL, &r) != VOUCH_OK)
      r = -1;
    out[i] = r >= 0 ? (unsigned)r : def;
    own += r >= 0;
  }
  if (nown)
    *nown = own;
  return VOUCH_OK;
}
