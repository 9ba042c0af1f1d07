/* tests/ct/ctgrind_psi.c -- constant-time check of the PSI code under
 * valgrind (the technique of Monocypher's tests/ctgrind.c).  Secrets are
 * marked undefined with VALGRIND_MAKE_MEM_UNDEFINED; memcheck then reports
 * any branch or memory address computed from them.  The library is built
 * into this program with VOUCH_CTGRIND, so values the protocol makes public
 * (whether a voucher opened, the contents of an opened voucher for the
 * server) are declared defined where they become public.  libsodium's own
 * point-validity checks are suppressed (tests/ct/libsodium.supp): their
 * outcome is fixed for valid points.
 *
 * Run: valgrind --error-exitcode=1 --suppressions=tests/ct/libsodium.supp ctgrind_psi
 * Without valgrind the program just runs the same code (and must pass). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/memcheck.h>
#include "psi/psi_internal.h"
#include "vouch/hash.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

int main(void) {
  if (vouch_init() < 0)
    return 2;
  vouch__rng rng;
  /* The band scheme with P = 4 probes: probe enumeration, 8 slots, the
   * shuffle and the synthetic voucher's opening slot all run on secrets. */
  uint8_t seed[32] = {'c', 't'}, hashes[6 * 32], keys[6 * 32];
  vouch__rng_seed(&rng, seed);
  vouch__rng_bytes(&rng, hashes, sizeof hashes);
  vouch_psi_setup_opts so = {VOUCH_ALGO_PDQ, 1, NULL, VOUCH_PSI_SCHEME_BAND, VOUCH_PSI_BAND_DEFAULT, 4, NULL, NULL, 0, NULL, 0, NULL};
  for (int i = 0; i < 6; i++)
    if (vouch_psi_band_key(VOUCH_ALGO_PDQ, hashes + 32 * i, 32, so.band, keys + 32 * i) != VOUCH_OK)
      return 2;
  vouch_psi_server_key *sk;
  uint8_t *pd;
  size_t pd_len;
  vouch_psi_public *pub;
  vouch_psi_account *acct;
  if (vouch__server_key_generate(&sk, &rng) != VOUCH_OK ||
      vouch__setup(sk, keys, 6, &so, &pd, &pd_len, NULL, &rng) != VOUCH_OK ||
      vouch_psi_public_open(&pub, pd, pd_len, NULL) != VOUCH_OK ||
      vouch__account_create(&acct, 3, 9, &rng) != VOUCH_OK)
    return 2;

  /* ---- client: account secrets and the generator's key are secret ---- */
  void *ptr[4];
  size_t len[4];
  size_t nr = vouch__account_secret_regions(acct, ptr, len);
  const size_t vlen = VOUCH_PSI_VOUCHER_BYTES(9, 4);
  float margin[VOUCH_PDQ_BITS];
  for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++)
    margin[k] = (float)((k * 37) % 101);
  uint8_t *v[8];
  for (int i = 0; i < 8; i++) {
    vouch_psi_payload pl;
    uint8_t h[32] = {(uint8_t)i};
    if (i < 2) /* two photos in the database */
      memcpy(h, hashes + 32 * (size_t)i, 32);
    if (vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h, 32, NULL) != VOUCH_OK)
      return 2;
    v[i] = malloc(vlen);
    if (!v[i])
      return 2;
    for (size_t r = 0; r < nr; r++)
      SECRET(ptr[r], len[r]);
    SECRET(rng.key, sizeof rng.key);
    rng.pos = sizeof rng.buf; /* next bytes come from the (secret) key */
    int syn;
    /* rate 0.5 and mode -1: the real/synthetic choice comes from the secret stream */
    if (vouch__voucher_make(acct, pub, &pl, margin, 0.5, -1, v[i], vlen, &syn, &rng) != VOUCH_OK)
      return 3;
    PUBLIC(v[i], vlen); /* sent to the server */
    PUBLIC(&syn, sizeof syn);
    printf("voucher %d: %s\n", i, syn ? "synthetic" : "real");
  }
  for (size_t r = 0; r < nr; r++)
    PUBLIC(ptr[r], len[r]);

  /* ---- server: alpha is secret ---- */
  vouch_psi_server *srv;
  if (vouch_psi_server_create(&srv, sk, pd, pd_len) != VOUCH_OK)
    return 2;
  SECRET(sk->alpha, sizeof sk->alpha);
  int opened = 0;
  for (int i = 0; i < 8; i++) {
    int st;
    size_t idx;
    if (vouch_psi_server_add(srv, v[i], vlen, &st, &idx) != VOUCH_OK)
      return 4;
    opened += st == VOUCH_PSI_OPENED;
  }
  PUBLIC(sk->alpha, sizeof sk->alpha);
  printf("opened %d of 8\n", opened);
  vouch_psi_server_free(srv);
  for (int i = 0; i < 8; i++)
    free(v[i]);
  vouch_psi_account_free(acct);
  vouch_psi_public_free(pub);
  vouch_free(pd);
  vouch_psi_server_key_free(sk);
  return opened >= 2 ? 0 : 5;
}
