/* tests/fuzz/fuzz_audit_trust.c -- trust files from untrusted text.
 * Invariants: counts stay within the fixed arrays; parsing is a pure
 * function of the input (twice gives the same struct). */
#include <stdlib.h>
#include <string.h>
#include "vouch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0)
    abort();
  static vouch_audit_trust a, b;
  size_t la = 0, lb = 0;
  int ra = vouch_audit_trust_parse((const char *)data, size, &a, &la);
  int rb = vouch_audit_trust_parse((const char *)data, size, &b, &lb);
  if (ra != rb || la != lb)
    abort();
  if (ra == VOUCH_OK && (a.nservers > VOUCH_AUDIT_TRUST_MAX || a.nsources > VOUCH_AUDIT_TRUST_MAX ||
                         a.npins > VOUCH_AUDIT_TRUST_MAX || memcmp(&a, &b, sizeof a) != 0))
    abort();
  return 0;
}
