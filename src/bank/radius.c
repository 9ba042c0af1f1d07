/* src/bank/radius.c -- each bank's own match radius, looked up for the banks
 * of an index (vouch_bank_radii()), so that a program matching against an
 * index built from several banks can keep each bank's matches within that
 * bank's radius (docs/exchanges.md).  Uses the public bank and index API. */
#include "vouch/bank.h"
#include "vouch/index.h"

static int radius_of(void *ctx, const vouch_bank_info *in) {
  *(int *)ctx = in->radius;
  return 0;
}

int vouch_bank_radii(vouch_bank *db, const vouch_index *idx, unsigned def, unsigned *out, size_t n,
                     size_t *nown) {
  if (!db || !idx || (n && !out) || n < vouch_index_bank_count(idx))
    return VOUCH_E_INVALID;
  size_t own = 0;
  for (uint32_t i = 0; i < vouch_index_bank_count(idx); i++) {
    int r = -1;
    /* a bank the file does not hold (the index came from another file) has none */
    if (vouch_bank_list(db, vouch_index_bank_name(idx, i), radius_of, &r) != VOUCH_OK)
      r = -1;
    out[i] = r >= 0 ? (unsigned)r : def;
    own += r >= 0;
  }
  if (nown)
    *nown = own;
  return VOUCH_OK;
}
