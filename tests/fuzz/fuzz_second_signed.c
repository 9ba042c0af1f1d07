/* tests/fuzz/fuzz_second_signed.c -- signed second hashes (.vss,
 * vouch_second_signed_open()) on arbitrary bytes, against one fixed signed
 * list: four PDQ hashes signed with a source key derived from a fixed seed
 * (Ed25519 signatures are deterministic, so the corpus's valid file stays
 * valid).  Invariants: no crash; on success every pair's hash is one of the
 * list's, ascending, with a current-version second hash, the count at most
 * the list's, and _find() returns each pair's second hash; opening twice
 * agrees; a file made by _make() from the pairs accepted opens again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "vouch/vouch.h"
#include "vouch/review.h"

static vouch_audit_secret_key key;
static uint8_t *vsl;
static size_t vsl_len;
static vouch_audit_list list;

static void setup(void) {
  if (vsl) return;
  if (vouch_init() != VOUCH_OK) abort();
  uint8_t seed[32], pk[32];
  memset(seed, 0x5e, sizeof seed);
  memset(&key, 0, sizeof key);
  key.id.role = VOUCH_AUDIT_ROLE_SOURCE;
  memcpy(key.id.jurisdiction, "US", 2);
  memcpy(key.id.name, "fuzz-src", 8);
  crypto_sign_seed_keypair(pk, key.sk, seed);
  memcpy(key.id.pk, pk, 32);
  uint8_t hashes[4 * VOUCH_PDQ_BYTES];
  for (size_t i = 0; i < sizeof hashes; i++) hashes[i] = (uint8_t)(i * 37 + 11);
  if (vouch_audit_list_sign(&key, VOUCH_ALGO_PDQ, 1, "2026-12-01", hashes, 4, &vsl, &vsl_len) != VOUCH_OK ||
      vouch_audit_list_open(vsl, vsl_len, &list) != VOUCH_OK)
    abort();
}

static int in_list(const uint8_t *h) {
  for (uint64_t k = 0; k < list.count; k++)
    if (!memcmp(list.hashes + k * list.hash_bytes, h, list.hash_bytes)) return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  vouch_second_signed a, b;
  int ra = vouch_second_signed_open(data, size, &list, &a);
  int rb = vouch_second_signed_open(data, size, &list, &b);
  if (ra != rb) abort();
  if (ra != VOUCH_OK) {
    if (ra != VOUCH_E_AUDIT_FORMAT && ra != VOUCH_E_DB_VERSION && ra != VOUCH_E_AUDIT_POLICY &&
        ra != VOUCH_E_AUDIT_SIGNATURE)
      abort();
    return 0;
  }
  if (a.count != b.count || a.count > list.count || a.hash_bytes != VOUCH_PDQ_BYTES) abort();
  const size_t pair = a.hash_bytes + VOUCH_DERIV_HASH_BYTES;
  char *text = malloc(a.count * (2 * pair + 2) + 1);
  if (!text) return 0;
  size_t w = 0;
  for (uint64_t i = 0; i < a.count; i++) {
    const uint8_t *p = a.pairs + i * pair;
    if (!in_list(p) || p[a.hash_bytes] != VOUCH_DERIV_HASH_VERSION) abort();
    if (i && memcmp(p - pair, p, a.hash_bytes) >= 0) abort();
    if (vouch_second_signed_find(&a, p) != p + a.hash_bytes) abort();
    vouch_hash_to_hex(p, a.hash_bytes, text + w, 2 * a.hash_bytes + 1);
    w += 2 * a.hash_bytes;
    text[w++] = ' ';
    vouch_hash_to_hex(p + a.hash_bytes, VOUCH_DERIV_HASH_BYTES, text + w, 2 * VOUCH_DERIV_HASH_BYTES + 1);
    w += 2 * VOUCH_DERIV_HASH_BYTES;
    text[w++] = '\n';
  }
  /* the accepted pairs, signed again, give the same bytes (one canonical form) */
  vouch_second_list *l = NULL;
  uint8_t *again = NULL;
  size_t again_len = 0;
  if (vouch_second_list_parse(text, w, &l, NULL) != VOUCH_OK) abort();
  if (vouch_second_signed_make(&key, vsl, vsl_len, l, &again, &again_len) != VOUCH_OK) abort();
  if (again_len != size || memcmp(again, data, size) != 0) abort();
  vouch_free(again);
  vouch_second_list_free(l);
  free(text);
  return 0;
}
