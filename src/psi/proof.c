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

void vouch_psi_dummy_label(const uint8_t seed[VOUCH_PSI_SEED_BYTES], uint64_t slot,
                           uint8_t label[VOUCH_PSI_LABEL_BYTES]) {
  uint8_t idx[8];
  vouch__store64_le(idx, slot);
  vouch__kdf_part part = {idx, 8};
  vouch__kdf(label, 32, "dummy-label", seed, 32, &part, 1);
}

void vouch__dseed_commit(const uint8_t seed[32], uint8_t out[32]) {
  vouch__kdf_part part = {seed, 32};
  vouch__kdf(out, 32, "dseed-commit", NULL, 0, &part, 1);
}

/* The transcript seed: KDF_32("dleq", header before the proof || table ||
 * labels): every signed byte except the proof itself. */
static void transcript_seed(const uint8_t *pd, size_t m, const uint8_t *labels, uint8_t seed[32]) {
  vouch__kdf_part parts[3] = {
    {pd, VOUCH__PD_PROOF}, {pd + VOUCH__PD_HEADER, 32 * m}, {labels, 32 * m}};
  vouch__kdf(seed, 32, "dleq", NULL, 0, parts, 3);
}

/* A and, if B is not NULL, B over all slots.  Returns VOUCH_E_PSI_FORMAT if
 * a table point does not decode. */
static int combine(const uint8_t *table, const uint8_t *labels, size_t m, const uint8_t seed[32],
                   uint8_t A[32], uint8_t *B) {
  uint8_t e[32] = {0}, h[32], t[32], idx[8];
  for (size_t i = 0; i < m; i++) {
    vouch__store64_le(idx, i);
    vouch__kdf_part part = {idx, 8};
    vouch__kdf(e, 16, "dleq-e", seed, 32, &part, 1); /* e < 2^128 < l; bytes 16..31 stay 0 */
    vouch__hash_to_group(h, labels + 32 * i, 32);
    if (crypto_scalarmult_ristretto255(t, e, h) != 0)
      return VOUCH_E_PSI_FORMAT; /* e = 0: probability 2^-128 */
    if (i == 0)
      memcpy(A, t, 32);
    else
      crypto_core_ristretto255_add(A, A, t);
    if (!B)
      continue;
    if (crypto_scalarmult_ristretto255(t, e, table + 32 * i) != 0)
      return VOUCH_E_PSI_FORMAT; /* not a valid point, or the identity */
    if (i == 0)
      memcpy(B, t, 32);
    else
      crypto_core_ristretto255_add(B, B, t);
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
  transcript_seed(pd, m, labels, seed);
  /* The prover knows alpha: B = alpha*A, one multiplication instead of m
   * (for an honest table this is the B the verifier computes; for any
   * other table the verifier's B differs and the proof fails). */
  VOUCH_TRY(combine(pd + VOUCH__PD_HEADER, labels, m, seed, A, NULL));
  if (crypto_scalarmult_ristretto255(B, key->alpha, A) != 0)
    return VOUCH_E_INTERNAL;
  /* Deterministic nonce (as in RFC 6979 / EdDSA): a keyed hash of the
   * transcript under alpha, so setup stays reproducible under a seeded
   * generator and k never repeats for two different statements. */
  uint8_t kw[64];
  vouch__kdf_part kparts[3] = {{seed, 32}, {A, 32}, {B, 32}};
  vouch__kdf(kw, 64, "dleq-k", key->alpha, 32, kparts, 3);
  crypto_core_ristretto255_scalar_reduce(k, kw);
  sodium_memzero(kw, sizeof kw);
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


int vouch_psi_blinding_verify(const uint8_t *pd, size_t pd_len, const uint8_t *labels,
                              const uint8_t *proof) {
  uint32_t m;
  if (!labels)
    return VOUCH_E_INVALID;
  VOUCH_TRY(parse(pd, pd_len, &m));
  if (!proof)
    proof = pd + VOUCH__PD_PROOF;
  const uint8_t *L = pd + 48, *c = proof, *z = proof + 32;
  if (!crypto_core_ristretto255_is_valid_point(L))
    return VOUCH_E_PSI_FORMAT;
  if (!vouch__scalar_canonical(c) || !vouch__scalar_canonical(z))
    return VOUCH_E_PSI_AUTH;
  uint8_t seed[32], A[32], B[32], T1[32], T2[32], zg[32], cl[32], c2[32];
  transcript_seed(pd, m, labels, seed);
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

int vouch_psi_blinding_audit(const uint8_t *pd, size_t pd_len, const uint8_t *keys, size_t n,
                             const uint8_t *audit, size_t audit_len) {
  static const uint8_t zero7[7];
  uint32_t m;
  if ((n && !keys) || !audit)
    return VOUCH_E_INVALID;
  VOUCH_TRY(parse(pd, pd_len, &m));
  if (audit_len < VOUCH__AUDIT_HEADER || memcmp(audit, VOUCH__AUDIT_MAGIC, 8) != 0 || audit[8] != 1 ||
      memcmp(audit + 9, zero7, 7) != 0 || audit_len != VOUCH_PSI_AUDIT_BYTES(vouch__load32_le(audit + 64)))
    return VOUCH_E_PSI_FORMAT;
  uint8_t id[16], commit[32];
  vouch__pd_id(pd, pd_len, id);
  vouch__dseed_commit(audit + 32, commit);
  if (vouch__load32_le(audit + 64) != m || memcmp(id, audit + 16, 16) != 0 ||
      memcmp(commit, pd + VOUCH__PD_COMMIT, 32) != 0)
    return VOUCH_E_PSI_PARAMS;
  /* the distinct keys, sorted (the order setup numbers them in) */
  uint8_t *sorted = vouch__malloc(32 * (n ? n : 1)), *labels = vouch__malloc(32 * (size_t)m);
  uint8_t *used = vouch__calloc(n ? n : 1, 1);
  int rc = VOUCH_OK;
  if (!sorted || !labels || !used) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  if (n)
    memcpy(sorted, keys, 32 * n);
  size_t u = vouch__sort_unique32(sorted, n);
  if (vouch__load32_le(audit + 68) != u) {
    rc = VOUCH_E_PSI_PARAMS;
    goto done;
  }
  const uint8_t *cseed = pd + 16, *map = audit + VOUCH__AUDIT_HEADER;
  size_t placed = 0;
  for (uint32_t i = 0; i < m; i++) {
    uint32_t k = vouch__load32_le(map + 4 * (size_t)i);
    if (k == UINT32_MAX) {
      vouch_psi_dummy_label(audit + 32, i, labels + 32 * (size_t)i);
      continue;
    }
    uint32_t sl[2];
    if (k >= u || used[k]) {
      rc = VOUCH_E_PSI_PARAMS;
      goto done;
    }
    vouch__cuckoo_slots(cseed, m, sorted + 32 * (size_t)k, sl);
    if (sl[0] != i && sl[1] != i) { /* clients would never look there */
      rc = VOUCH_E_PSI_PARAMS;
      goto done;
    }
    used[k] = 1;
    placed++;
    memcpy(labels + 32 * (size_t)i, sorted + 32 * (size_t)k, 32);
  }
  if (placed != u) {
    rc = VOUCH_E_PSI_PARAMS;
    goto done;
  }
  rc = vouch_psi_blinding_verify(pd, pd_len, labels, NULL);
done:
  vouch__free(sorted);
  vouch__free(labels);
  vouch__free(used);
  return rc;
}
