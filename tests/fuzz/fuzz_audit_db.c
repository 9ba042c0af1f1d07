/* tests/fuzz/fuzz_audit_db.c -- audited tables (.vdb) from untrusted bytes.
 * Invariants: an accepted table re-encodes to the same bytes, its live set
 * is sorted, and every live hash is found and proven against the root. */
#include <stdlib.h>
#include <string.h>
#include "vouch/audit.h"
#include "vouch/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0)
    abort();
  vouch_audit_db *db = NULL;
  if (vouch_audit_db_parse(&db, data, size) != VOUCH_OK)
    return 0;
  uint8_t *enc = NULL;
  size_t len = 0;
  if (vouch_audit_db_encode(db, &enc, &len) != VOUCH_OK || len != size || memcmp(enc, data, size) != 0)
    abort();
  vouch_free(enc);
  size_t hb = vouch_algo_bytes(vouch_audit_db_algo(db));
  uint64_t n = vouch_audit_db_live_count(db);
  uint8_t *live = malloc((size_t)(n ? n : 1) * hb), root[32];
  if (!live || vouch_audit_db_live(db, live, (size_t)(n ? n : 1) * hb) != VOUCH_OK)
    abort();
  vouch_audit_db_root(db, root);
  for (uint64_t i = 0; i < n && i < 8; i++) {
    uint64_t leaf;
    if (i > 0 && memcmp(live + (i - 1) * hb, live + i * hb, hb) >= 0)
      abort();
    if (vouch_audit_db_find(db, live + i * hb, &leaf) != VOUCH_OK)
      abort();
    vouch_audit_inclusion inc;
    if (vouch_audit_inclusion_make(db, leaf, &inc) != VOUCH_OK)
      abort();
    uint8_t lh[32];
    vouch_merkle_leaf_hash(inc.leaf, inc.leaf_len, lh);
    if (vouch_merkle_verify_inclusion(lh, inc.index, inc.tree_size, inc.proof, inc.proof_n, root) != VOUCH_OK)
      abort();
  }
  free(live);
  vouch_audit_db_free(db);
  return 0;
}
