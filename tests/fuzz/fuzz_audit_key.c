/* tests/fuzz/fuzz_audit_key.c -- public and secret key files from untrusted bytes.
 * Invariants: an accepted key re-encodes to the same bytes; a secret key's
 * public half is the one its seed derives (checked by the decoder). */
#include <stdlib.h>
#include <string.h>
#include "vouch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0)
    abort();
  vouch_audit_identity id;
  if (vouch_audit_pubkey_decode(data, size, &id) == VOUCH_OK) {
    uint8_t enc[VOUCH_AUDIT_PUBKEY_FILE_BYTES];
    vouch_audit_pubkey_encode(&id, enc);
    if (size != sizeof enc || memcmp(enc, data, size) != 0)
      abort();
  }
  vouch_audit_secret_key k;
  if (vouch_audit_seckey_decode(data, size, &k) == VOUCH_OK) {
    uint8_t enc[VOUCH_AUDIT_SECKEY_FILE_BYTES];
    vouch_audit_seckey_encode(&k, enc);
    if (size != sizeof enc || memcmp(enc, data, size) != 0)
      abort();
    vouch_audit_wipe(enc, sizeof enc);
  }
  vouch_audit_secret_key_wipe(&k);
  return 0;
}
