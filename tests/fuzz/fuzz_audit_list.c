/* tests/fuzz/fuzz_audit_list.c -- signed source lists (.vsl) from untrusted bytes.
 * Invariants: never reads out of bounds; an accepted list is canonical
 * (strictly ascending) and its hashes lie inside the input. */
#include <stdlib.h>
#include <string.h>
#include "vouch/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0)
    abort();
  vouch_audit_list L;
  if (vouch_audit_list_open(data, size, &L) != VOUCH_OK)
    return 0;
  if (L.hashes < data || L.hashes + L.count * L.hash_bytes > data + size)
    abort();
  for (uint64_t i = 1; i < L.count; i++)
    if (memcmp(L.hashes + (i - 1) * L.hash_bytes, L.hashes + i * L.hash_bytes, L.hash_bytes) >= 0)
      abort();
  return 0;
}
