/* tests/fuzz/fuzz_audit_inclusion.c -- inclusion proof text from untrusted input.
 * Invariants: an accepted proof formats and re-parses to the same struct;
 * verification against a fixed head never crashes. */
#include <stdlib.h>
#include <string.h>
#include "vouch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0)
    abort();
  static vouch_audit_inclusion a, b;
  if (vouch_audit_inclusion_parse((const char *)data, size, &a) != VOUCH_OK)
    return 0;
  char *text = NULL;
  size_t len = 0;
  if (vouch_audit_inclusion_format(&a, &text, &len) != VOUCH_OK)
    abort();
  if (vouch_audit_inclusion_parse(text, len, &b) != VOUCH_OK || memcmp(&a, &b, sizeof a) != 0)
    abort();
  vouch_free(text);
  vouch_audit_sth sth;
  memset(&sth, 0, sizeof sth);
  sth.algo = 1;
  sth.db_version = a.db_version;
  sth.tree_size = a.tree_size;
  (void)!vouch_audit_inclusion_verify(&a, &sth, NULL);
  return 0;
}
