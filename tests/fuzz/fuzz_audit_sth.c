/* tests/fuzz/fuzz_audit_sth.c -- signed tree heads (.vsth) from untrusted bytes.
 * Invariant: an accepted head re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>
#include "vouch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0)
    abort();
  vouch_audit_sth s;
  if (vouch_audit_sth_decode(data, size, &s) != VOUCH_OK)
    return 0;
  uint8_t enc[VOUCH_AUDIT_STH_BYTES];
  vouch_audit_sth_encode(&s, enc);
  if (size != sizeof enc || memcmp(enc, data, size) != 0)
    abort();
  return 0;
}
