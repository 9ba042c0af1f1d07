/* src/audit/index_write.c -- the index of an audited table's live set
 * (vouch_audit_index_write): what an audited index root commits to. */
#include <stdio.h>
#include <string.h>
#include "audit_internal.h"
#include "vouch/hash.h"
#include "vouch/index.h"

/* The attestation set of an entry: the names of the sources whose bit is
 * set in `mask`, in source order, joined with ','.  Writes it to `out` (if
 * not NULL) with a NUL and returns its length. */
static size_t attestation_set(const vouch_audit_db *db, uint64_t mask, char *out) {
  size_t ns = vouch_audit_db_nsources(db), used = 0;
  for (size_t k = 0; k < ns; k++) {
    vouch_audit_source_record r;
    if (!(mask >> k & 1) || vouch_audit_db_source(db, k, &r) != VOUCH_OK)
      continue;
    size_t nl = strlen(r.source.name);
    if (used && out)
      out[used] = ',';
    used += used != 0;
    if (out)
      memcpy(out + used, r.source.name, nl);
    used += nl;
  }
  if (out)
    out[used] = 0;
  return used;
}

int vouch_audit_index_write(const vouch_audit_db *db, const char *path, uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                            char *err, size_t err_cap) {
  if (err && err_cap)
    err[0] = 0;
  if (!db || !path)
    return VOUCH_E_INVALID;
  int algo = vouch_audit_db_algo(db);
  size_t hb = vouch_algo_bytes(algo), n = (size_t)vouch_audit_db_live_count(db), m = n ? n : 1;
  uint8_t *live = vouch__calloc(m, hb);
  vouch_index_input *in = vouch__calloc(m, sizeof *in);
  char *src = NULL; /* the attestation sets, back to back */
  char(*ext)[32] = vouch__calloc(m, sizeof *ext);
  int rc = VOUCH_E_NOMEM;
  if (!live || !in || !ext)
    goto out;
  if ((rc = vouch_audit_db_live(db, live, m * hb)) != VOUCH_OK)
    goto out;
  /* Each entry records its attestation set: the names of the sources whose
   * signed lists put it in (the index's canonical leaf includes `source`, so
   * the index root commits to it), and the table leaf that added it. */
  size_t names = 0;
  for (size_t i = 0; i < n; i++) {
    vouch_audit_leaf lf;
    if (vouch_audit_db_find(db, live + i * hb, &in[i].entry_id) != VOUCH_OK ||
        vouch_audit_db_leaf(db, in[i].entry_id, &lf) != VOUCH_OK) {
      rc = VOUCH_E_INTERNAL; /* a live hash always has its adding leaf */
      goto out;
    }
    names += attestation_set(db, lf.sources, NULL) + 1;
  }
  rc = VOUCH_E_NOMEM;
  if (!(src = vouch__malloc(names ? names : 1)))
    goto out;
  for (size_t i = 0, used = 0; i < n; i++) {
    uint64_t leaf = in[i].entry_id;
    vouch_audit_leaf lf;
    (void)vouch_audit_db_leaf(db, leaf, &lf); /* checked above */
    in[i].source = src + used;
    used += attestation_set(db, lf.sources, src + used) + 1;
    snprintf(ext[i], sizeof ext[i], "leaf:%llu", (unsigned long long)leaf);
    in[i].hash = live + i * hb;
    in[i].bank = 0;
    in[i].entry_id = leaf + 1;
    in[i].ext_id = ext[i];
  }
  const char *banks[1] = {VOUCH_AUDIT_INDEX_BANK};
  rc = vouch_index_write(path, algo, banks, 1, in, n, root, err, err_cap);
out:
  vouch__free(ext);
  vouch__free(src);
  vouch__free(in);
  vouch__free(live);
  return rc;
}
