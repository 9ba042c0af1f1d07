/* tests/fuzz/fuzz_blinding_audit.c -- the auditor's check of the blinding
 * proof (vouch_psi_blinding_audit): the auditors' file parser and the map
 * checks, over a fixed-seed world of 8 keys.
 *
 * Input byte 0 picks the mode:
 *   'M'   mutations of the valid auditors' file: the rest is a list of
 *         (u16 offset, u8 xor) triples.  Invariant: unchanged, the audit
 *         passes; changed in any byte, it fails.
 *   else  the rest is an auditors' file; any bytes give a return code, and
 *         a file that passes is the valid one. */
#include <stdlib.h>
#include <string.h>
#include "psi/psi_internal.h"

static vouch_psi_server_key *key;
static uint8_t *pd, keys[8 * 32], *audit;
static size_t pd_len, audit_len;

static void init(void) {
  vouch__rng r;
  uint8_t seed[32] = {'a', 'u', 'd', 'i', 't'}, dseed[32] = {'d'};
  vouch__rng_seed(&r, seed);
  vouch__rng_bytes(&r, keys, sizeof keys);
  size_t cap = vouch_psi_slots_for(8);
  audit = malloc(VOUCH_PSI_AUDIT_BYTES(cap));
  vouch_psi_setup_opts o = {0};
  o.dummy_seed = dseed;
  o.audit_out = audit;
  o.audit_cap = VOUCH_PSI_AUDIT_BYTES(cap);
  o.audit_len = &audit_len;
  if (!audit || vouch_init() < 0 || vouch__server_key_generate(&key, &r) != VOUCH_OK ||
      vouch__setup(key, keys, 8, &o, &pd, &pd_len, NULL, &r) != VOUCH_OK ||
      vouch_psi_blinding_audit(pd, pd_len, keys, 8, audit, audit_len) != VOUCH_OK)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    init();
    ready = 1;
  }
  if (size >= 1 && data[0] == 'M') {
    uint8_t *a = malloc(audit_len);
    if (!a)
      abort();
    memcpy(a, audit, audit_len);
    for (size_t i = 1; i + 3 <= size; i += 3) {
      size_t off = ((size_t)data[i] | (size_t)data[i + 1] << 8) % audit_len;
      a[off] ^= data[i + 2];
    }
    int changed = memcmp(a, audit, audit_len) != 0;
    int rc = vouch_psi_blinding_audit(pd, pd_len, keys, 8, a, audit_len);
    if ((rc == VOUCH_OK) == changed)
      abort();
    free(a);
    return 0;
  }
  const uint8_t *f = size ? data + 1 : data;
  size_t n = size ? size - 1 : 0;
  int rc = vouch_psi_blinding_audit(pd, pd_len, keys, 8, f, n);
  if (rc == VOUCH_OK && (n != audit_len || memcmp(f, audit, n) != 0))
    abort();
  return 0;
}
