/* tests/fuzz/fuzz_audit_log.c -- logs of tree heads (.vlog) from untrusted bytes.
 * Invariants: an accepted log re-encodes to the same bytes, compares equal
 * to itself, and every head it holds is found in it. */
#include <stdlib.h>
#include <string.h>
#include "vouch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0)
    abort();
  vouch_audit_log *log = NULL;
  size_t bad;
  if (vouch_audit_log_parse(&log, data, size, &bad) != VOUCH_OK)
    return 0;
  uint8_t *enc = NULL;
  size_t len = 0;
  if (vouch_audit_log_encode(log, &enc, &len) != VOUCH_OK || len != size || memcmp(enc, data, size) != 0)
    abort();
  vouch_free(enc);
  if (vouch_audit_log_compare(log, log, NULL) != VOUCH_OK)
    abort();
  for (size_t i = 0; i < vouch_audit_log_count(log); i++) {
    vouch_audit_sth s;
    if (vouch_audit_log_get(log, i, &s, NULL, NULL) != VOUCH_OK || vouch_audit_log_check_sth(log, &s) != VOUCH_OK)
      abort();
  }
  vouch_audit_log_free(log);
  return 0;
}
