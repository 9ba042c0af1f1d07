/* tests/fuzz/fuzz_voucher.c -- the server's voucher parser and opener.
 *
 * Input byte 0 picks the mode:
 *   'M'  mutations of a valid, matching voucher made by a fixed-seed world:
 *        the rest is a list of (u16 offset, u8 xor) triples.  Invariant: a
 *        voucher changed in any byte never opens; unchanged, it always does.
 *   else the rest is a voucher as received from the network: any bytes give
 *        a return code, never a crash.
 * After each input the server runs a reveal (detection + interpolation). */
#include <stdlib.h>
#include <string.h>
#include "psi/psi_internal.h"

static struct {
  int ready;
  vouch_psi_server_key *key;
  uint8_t *pd;
  size_t pd_len;
  vouch_psi_public *pub;
  vouch_psi_account *acct;
  uint8_t voucher[VOUCH_PSI_VOUCHER_BYTES(4)];
} W;

static void init(void) {
  vouch__rng r;
  uint8_t seed[32] = {'f', 'u', 'z', 'z'}, keys[8 * 32];
  if (vouch_init() < 0)
    abort();
  vouch__rng_seed(&r, seed);
  vouch__rng_bytes(&r, keys, sizeof keys);
  vouch_psi_payload pl;
  if (vouch__server_key_generate(&W.key, &r) != VOUCH_OK ||
      vouch__setup(W.key, keys, 8, NULL, &W.pd, &W.pd_len, NULL, &r) != VOUCH_OK ||
      vouch_psi_public_open(&W.pub, W.pd, W.pd_len, NULL) != VOUCH_OK ||
      vouch__account_create(&W.acct, 2, 4, &r) != VOUCH_OK)
    abort();
  memset(&pl, 0, sizeof pl);
  pl.algo = 1;
  pl.hash_len = 32;
  memcpy(pl.match_key, keys + 3 * 32, 32);
  if (vouch__voucher_make(W.acct, W.pub, &pl, 0, 0, W.voucher, sizeof W.voucher, NULL, &r) != VOUCH_OK)
    abort();
  W.ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!W.ready)
    init();
  vouch_psi_server *srv;
  if (vouch_psi_server_create(&srv, W.key, W.pd, W.pd_len) != VOUCH_OK)
    abort();
  int st;
  size_t idx;
  if (size >= 1 && data[0] == 'M') {
    uint8_t v[sizeof W.voucher];
    memcpy(v, W.voucher, sizeof v);
    for (size_t i = 1; i + 3 <= size; i += 3) {
      size_t off = (size_t)(data[i] | data[i + 1] << 8) % sizeof v;
      v[off] ^= data[i + 2];
    }
    int changed = memcmp(v, W.voucher, sizeof v) != 0;
    int rc = vouch_psi_server_add(srv, v, sizeof v, &st, &idx);
    if (changed && rc == VOUCH_OK && st == VOUCH_PSI_OPENED)
      abort(); /* a modified voucher opened */
    if (!changed && (rc != VOUCH_OK || st != VOUCH_PSI_OPENED))
      abort(); /* the valid voucher did not */
  } else {
    const uint8_t *v = size ? data + 1 : data;
    size_t n = size ? size - 1 : 0;
    int rc = vouch_psi_server_add(srv, v, n, &st, &idx);
    if (rc == VOUCH_OK && st == VOUCH_PSI_OPENED && (n != sizeof W.voucher || memcmp(v, W.voucher, n) != 0))
      abort(); /* only the fixed world's voucher can open */
    /* Whatever came first, the real voucher still opens (or is the same bytes again). */
    if (vouch_psi_server_add(srv, W.voucher, sizeof W.voucher, &st, &idx) != VOUCH_OK ||
        (st != VOUCH_PSI_OPENED && st != VOUCH_PSI_DUPLICATE))
      abort();
  }
  vouch_psi_summary sum;
  if (vouch_psi_server_reveal(srv, &sum) != VOUCH_OK || sum.threshold_crossed)
    abort();
  vouch_psi_server_free(srv);
  return 0;
}
