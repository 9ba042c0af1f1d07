/* src/psi/proof.c -- proof of honest blinding (docs/protocol.md section
 * 13): a batched Chaum-Pedersen (DLEQ) proof that every slot of the public
 * table is alpha * H(label) for the alpha of L.  Fiat-Shamir: the transcript
 * hashes the whole signed part of the public data and every label; 128-bit
 * coefficients e_i from it combine the m statements into one,
 *   A = sum e_i H(label_i),  B = sum e_i P_i,  prove log_G L = log_A B.
 * Group and hash operations are libsodium's; the sums are plain scalar
 * multiplications and additions (libsodium has no multi-scalar
 * multiplication). */
#include <string.h>
#include "psi_internal.h"

void vouch_psi_dummy_label(const uint8_t seed[32], uint64_t slot, uint8_t label[32]) {
  uint8_t idx[8];
  vouch__store64_le(idx, slot);
  vouch__kdf_part part = {idx, 8};
  vouch__kdf(label, 32, "dummy-label", seed, 32, &part, 1);
}

/* The transcript seed: KDF_32("dleq", signed bytes of pd || labels). */
static void transcript_seed(const uint8_t *pd, size_t signed_len, const uint8_t *labels, size_t m,
                            uint8_t seed[32]) {
  vouch__kdf_part parts[2] = {{pd, signed_len}, {labels, 32 * m}};
  vouch__kdf(seed, 32, "dleq", NULL, 0, parts, 2);
}

/* A and B over all slots.  Returns VOUCH_E_PSI_FORMAT if a table point does
 * not decode. */
static int combine(const uint8_t *table, const uint8_t *labels, size_t m, const uint8_t seed[32],
                   uint8_t A[32], uint8_t B[32]) {
  uint8_t e[32] = {0}, h[32], t[32], idx[8];
  int first = 1;
  for (size_t i = 0; i < m; i++) {
    vouch__store64_le(idx, i);
    vouch__kdf_part part = {idx, 8};
    vouch__kdf(e, 16, "dleq-e", seed, 32, &part, 1); /* e < 2^128 < l; bytes 16..31 stay 0 */
    vouch__hash_to_group(h, labels + 32 * i, 32);
    if (crypto_scalarmult_ristretto255(t, e, h) != 0)
      return VOUCH_E_PSI_FORMAT; /* e = 0: probability 2^-128 */
    if (first)
      memcpy(A, t, 32);
    else
      crypto_core_ristretto255_add(A, A, t);
    if (crypto_scalarmult_ristretto255(t, e, table + 32 * i) != 0)
      return VOUCH_E_PSI_FORMAT; /* not a valid point, or the identity */
    if (first)
      memcpy(B, t, 32);
    else
      crypto_core_ristretto255_add(B, B, t);
    first = 0;
  }
  return VOUCH_OK;
}

/* c = KDF_64("dleq-c", seed || L || A || B || T1 || T2) reduced mod l. */
static void challenge(const uint8_t seed[32], const uint8_t L[32], const uint8_t A[32],
                      const uint8_t B[32], const uint8_t T1[32], const uint8_t T2[32], uint8_t c[32]) {
  uint8_t wide[64];
  vouch__kdf_part parts[6] = {{seed, 32}, {L, 32}, {A, 32}, {B, 32}, {T1, 32}, {T2, 32}};
  vouch__kdf(wide, 64, "dleq-c", NULL, 0, parts, 6);
  crypto_core_ristretto255_scalar_reduce(c, wide);
}

static int parse(const uint8_t *pd, size_t pd_len, uint32_t *m) {
  int algo, scheme;
  unsigned band, probes;
  return vouch__pd_header(pd, pd_len, &algo, &scheme, &band, &probes, m);
}

int vouch_psi_blinding_prove(const vouch_psi_server_key *key, const uint8_t *pd, size_t pd_len,
                             const uint8_t *labels, uint8_t proof[VOUCH_PSI_BLINDING_PROOF_BYTES]) {
  uint32_t m;
  if (!key || !labels || !proof)
    return VOUCH_E_INVALID;
  VOUCH_TRY(parse(pd, pd_len, &m));
  uint8_t L[32];
  crypto_scalarmult_ristretto255_base(L, key->alpha);
  if (memcmp(L, pd + 48, 32) != 0)
    return VOUCH_E_PSI_PARAMS;
  uint8_t seed[32], A[32], B[32], k[32], T1[32], T2[32], c[32], ca[32];
  transcript_seed(pd, pd_len - 64, labels, m, seed);
  VOUCH_TRY(combine(pd + VOUCH__PD_HEADER, labels, m, seed, A, B));
  vouch__rng_scalar(NULL, k);
  crypto_scalarmult_ristretto255_base(T1, k);
  int rc = crypto_scalarmult_ristretto255(T2, k, A) == 0 ? VOUCH_OK : VOUCH_E_INTERNAL;
  challenge(seed, L, A, B, T1, T2, c);
  /* proof = c || z, z = k + c * alpha */
  crypto_core_ristretto255_scalar_mul(ca, c, key->alpha);
  crypto_core_ristretto255_scalar_add(proof + 32, k, ca);
  memcpy(proof, c, 32);
  sodium_memzero(k, sizeof k);
  sodium_memzero(ca, sizeof ca);
  return rc;
}

/* 1 iff s is a canonical scalar (< l). */
static int scalar_canonical(const uint8_t s[32]) {
  uint8_t wide[64] = {0}, red[32];
  memcpy(wide, s, 32);
  crypto_core_ristretto255_scalar_reduce(red, wide);
  return memcmp(red, s, 32) == 0;
}

int vouch_psi_blinding_verify(const uint8_t *pd, size_t pd_len, const uint8_t *labels,
                              const uint8_t proof[VOUCH_PSI_BLINDING_PROOF_BYTES]) {
  uint32_t m;
  if (!labels || !proof)
    return VOUCH_E_INVALID;
  VOUCH_TRY(parse(pd, pd_len, &m));
  const uint8_t *L = pd + 48, *c = proof, *z = proof + 32;
  if (!crypto_core_ristretto255_is_valid_point(L))
    return VOUCH_E_PSI_FORMAT;
  if (!scalar_canonical(c) || !scalar_canonical(z))
    return VOUCH_E_PSI_AUTH;
  uint8_t seed[32], A[32], B[32], T1[32], T2[32], zg[32], cl[32], c2[32];
  transcript_seed(pd, pd_len - 64, labels, m, seed);
  VOUCH_TRY(combine(pd + VOUCH__PD_HEADER, labels, m, seed, A, B));
  /* T1 = z G - c L, T2 = z A - c B; the identity is a valid T here, but
   * libsodium refuses to output it: treat that as a failed proof. */
  if (crypto_scalarmult_ristretto255_base(zg, z) != 0 || crypto_scalarmult_ristretto255(cl, c, L) != 0)
    return VOUCH_E_PSI_AUTH;
  crypto_core_ristretto255_sub(T1, zg, cl);
  if (crypto_scalarmult_ristretto255(zg, z, A) != 0 || crypto_scalarmult_ristretto255(cl, c, B) != 0)
    return VOUCH_E_PSI_AUTH;
  crypto_core_ristretto255_sub(T2, zg, cl);
  challenge(seed, L, A, B, T1, T2, c2);
  return sodium_memcmp(c2, c, 32) == 0 ? VOUCH_OK : VOUCH_E_PSI_AUTH;
}
