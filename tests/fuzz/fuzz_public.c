/* tests/fuzz/fuzz_public.c -- the files a client or server reads: public
 * data (.vpd), account keys, server keys.  Any bytes give a return code;
 * accepted public data is usable (a voucher can be made with it) and
 * accepted keys save back to the same bytes (a version-1 account file to
 * version 2 with the same content). */
#include <stdlib.h>
#include <string.h>
#include "psi/psi_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    if (vouch_init() < 0)
      abort();
    ready = 1;
  }
  /* Input starting with 'S': the rest, re-signed with a fixed key, so the
   * checks behind the signature (points, duplicates, identity) get fuzzed. */
  uint8_t *resigned = NULL;
  if (size > 1 + 208 && data[0] == 'S') {
    static uint8_t pk[32], sk[64];
    static int have_key;
    if (!have_key) {
      uint8_t seed[32] = {'s', 'i', 'g', 'n'};
      crypto_sign_ed25519_seed_keypair(pk, sk, seed);
      have_key = 1;
    }
    size--;
    resigned = malloc(size);
    if (!resigned)
      abort();
    memcpy(resigned, data + 1, size);
    memcpy(resigned + 112, pk, 32);
    crypto_sign_ed25519_detached(resigned + size - 64, NULL, resigned, size - 64, sk);
    data = resigned;
  }
  vouch_psi_public *pd = NULL;
  if (vouch_psi_public_open(&pd, data, size, NULL) == VOUCH_OK) {
    vouch_psi_account *a;
    vouch__rng r;
    uint8_t seed[32] = {1};
    vouch__rng_seed(&r, seed);
    if (vouch__account_create(&a, 1, 1, &r) != VOUCH_OK)
      abort();
    vouch_psi_payload pl;
    memset(&pl, 0, sizeof pl);
    pl.algo = 1;
    pl.hash_len = 32;
    unsigned probes;
    vouch_psi_public_scheme(pd, NULL, NULL, NULL, &probes);
    size_t vlen = vouch_psi_voucher_bytes(1, probes);
    uint8_t *v = malloc(vlen);
    if (!v || vouch__voucher_make(a, pd, &pl, NULL, 0, 0, v, vlen, NULL, &r) != VOUCH_OK)
      abort(); /* validated public data must be usable */
    free(v);
    vouch_psi_account_free(a);
    vouch_psi_public_free(pd);
  } else if (pd) {
    abort(); /* no object on failure */
  }
  vouch_psi_account *acct = NULL;
  if (vouch_psi_account_load(&acct, data, size) == VOUCH_OK) {
    size_t n = vouch_psi_account_file_bytes(acct);
    uint8_t *back = malloc(n);
    if (!back || n != size || vouch_psi_account_save(acct, back, n) != VOUCH_OK)
      abort();
    if (data[8] == 2 && memcmp(back, data, n) != 0)
      abort();
    /* a version-1 file saves as version 2 with a voucher count of 0 */
    if (data[8] == 1 && (back[8] != 2 || vouch_psi_account_made(acct) != 0 ||
                         memcmp(back + 9, data + 9, 11) != 0 || memcmp(back + 24, data + 24, n - 40) != 0))
      abort();
    free(back);
    vouch_psi_account_free(acct);
  }
  vouch_psi_server_key *key = NULL;
  if (vouch_psi_server_key_load(&key, data, size) == VOUCH_OK) {
    uint8_t back[VOUCH_PSI_SERVER_KEY_FILE_BYTES];
    if (vouch_psi_server_key_save(key, back, sizeof back) != VOUCH_OK || memcmp(back, data, size) != 0)
      abort();
    vouch_psi_server_key_free(key);
  }
  free(resigned);
  return 0;
}
