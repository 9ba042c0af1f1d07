/* tests/unit/test_audit_merkle.c -- RFC 9162 proofs against the Certificate
 * Transparency reference tree (the 8-leaf test tree whose heads and proofs
 * are published with CT implementations, e.g. transparency-dev/merkle
 * proof/verify_test.go; values only) and against a plain recursive
 * recomputation written here from the RFC's definitions. */
#include <stdint.h>
#include <sodium.h>
#include "vouch/merkle.h"
#include "vouch/hash.h"
#include "common/internal.h"
#include "tinytest.h"

#define HB VOUCH_MERKLE_HASH_BYTES

static void unhex(const char *h, uint8_t *out, size_t n) {
  CHECK(vouch_hash_from_hex(h, 2 * n, out, n) == VOUCH_OK);
}

static const char *ct_leaves[8] = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                   "606162636465666768696a6b6c6d6e6f"};
static const char *ct_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

typedef struct {
  uint64_t a, b; /* inclusion: index, size; consistency: old, new */
  int n;
  const char *p[4];
} vec;

/* Inclusion vectors (leaf index 0-based here). */
static const vec ct_incl[] = {
    {0, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8, 3, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5, 3, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};
static const vec ct_cons[] = {
    {1, 8, 3, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8, 3, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 5, 2, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 7, 3, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static uint8_t ct_lh[8][HB];

static void ct_setup(void) {
  for (int i = 0; i < 8; i++) {
    uint8_t d[16];
    size_t len = strlen(ct_leaves[i]) / 2;
    unhex(ct_leaves[i], d, len);
    vouch_merkle_leaf_hash(d, len, ct_lh[i]);
  }
}

static void test_ct_roots(void) {
  for (int n = 0; n <= 8; n++) {
    uint8_t want[HB], got[HB];
    unhex(ct_roots[n], want, HB);
    REQUIRE(vouch_merkle_root_from_leaf_hashes(&ct_lh[0][0], (size_t)n, got) == VOUCH_OK);
    CHECK(memcmp(got, want, HB) == 0);
  }
}

static void test_ct_inclusion(void) {
  for (size_t v = 0; v < sizeof ct_incl / sizeof ct_incl[0]; v++) {
    const vec *t = &ct_incl[v];
    uint8_t want[VOUCH_MERKLE_PROOF_MAX * HB], got[VOUCH_MERKLE_PROOF_MAX * HB], root[HB];
    size_t n = 0;
    for (int i = 0; i < t->n; i++)
      unhex(t->p[i], want + i * HB, HB);
    REQUIRE(vouch_merkle_inclusion_proof(&ct_lh[0][0], t->b, t->a, got, &n) == VOUCH_OK);
    CHECK_EQ_INT(n, t->n);
    CHECK(memcmp(got, want, (size_t)t->n * HB) == 0);
    unhex(ct_roots[t->b], root, HB);
    CHECK_EQ_INT(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a, t->b, want, (size_t)t->n, root), VOUCH_OK);
    /* The probes CT implementations use: wrong index, size, leaf, root;
     * garbage before or after; one flipped bit in each element; a shortened proof. */
    CHECK(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a + 1, t->b, want, (size_t)t->n, root) != VOUCH_OK);
    CHECK(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a ^ 2, t->b, want, (size_t)t->n, root) != VOUCH_OK);
    CHECK(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a, t->b * 2, want, (size_t)t->n, root) != VOUCH_OK);
    CHECK(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a, t->b / 2, want, (size_t)t->n, root) != VOUCH_OK);
    CHECK(vouch_merkle_verify_inclusion(ct_lh[(t->a + 1) % 8], t->a, t->b, want, (size_t)t->n, root) != VOUCH_OK);
    uint8_t ext[(VOUCH_MERKLE_PROOF_MAX + 1) * HB];
    memcpy(ext, want, (size_t)t->n * HB);
    memcpy(ext + t->n * HB, root, HB);
    CHECK(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a, t->b, ext, (size_t)t->n + 1, root) != VOUCH_OK);
    memcpy(ext, root, HB);
    memcpy(ext + HB, want, (size_t)t->n * HB);
    CHECK(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a, t->b, ext, (size_t)t->n + 1, root) != VOUCH_OK);
    for (int i = 0; i < t->n; i++) {
      want[i * HB] ^= 8;
      CHECK(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a, t->b, want, (size_t)t->n, root) != VOUCH_OK);
      want[i * HB] ^= 8;
    }
    CHECK(vouch_merkle_verify_inclusion(ct_lh[t->a], t->a, t->b, want, (size_t)t->n - 1, root) != VOUCH_OK);
  }
}

static void test_ct_consistency(void) {
  for (size_t v = 0; v < sizeof ct_cons / sizeof ct_cons[0]; v++) {
    const vec *t = &ct_cons[v];
    uint8_t want[VOUCH_MERKLE_PROOF_MAX * HB], got[VOUCH_MERKLE_PROOF_MAX * HB], r1[HB], r2[HB];
    size_t n = 0;
    for (int i = 0; i < t->n; i++)
      unhex(t->p[i], want + i * HB, HB);
    REQUIRE(vouch_merkle_consistency_proof(&ct_lh[0][0], t->b, t->a, got, &n) == VOUCH_OK);
    CHECK_EQ_INT(n, t->n);
    CHECK(memcmp(got, want, (size_t)t->n * HB) == 0);
    unhex(ct_roots[t->a], r1, HB);
    unhex(ct_roots[t->b], r2, HB);
    size_t pn = (size_t)t->n;
    CHECK_EQ_INT(vouch_merkle_verify_consistency(t->a, t->b, r1, r2, want, pn), VOUCH_OK);
    CHECK(vouch_merkle_verify_consistency(t->a - 1, t->b, r1, r2, want, pn) != VOUCH_OK);
    CHECK(vouch_merkle_verify_consistency(t->a + 1, t->b, r1, r2, want, pn) != VOUCH_OK);
    CHECK(vouch_merkle_verify_consistency(t->a ^ 2, t->b, r1, r2, want, pn) != VOUCH_OK);
    CHECK(vouch_merkle_verify_consistency(t->a, t->b * 2, r1, r2, want, pn) != VOUCH_OK);
    CHECK(vouch_merkle_verify_consistency(t->a, t->b / 2, r1, r2, want, pn) != VOUCH_OK);
    CHECK(vouch_merkle_verify_consistency(t->a, t->b, r2, r1, want, pn) != VOUCH_OK);
    CHECK(vouch_merkle_verify_consistency(t->a, t->b, r1, r2, want, 0) != VOUCH_OK);
    CHECK(vouch_merkle_verify_consistency(t->a, t->b, r1, r2, want, pn - 1) != VOUCH_OK);
    uint8_t ext[(VOUCH_MERKLE_PROOF_MAX + 1) * HB];
    memcpy(ext, want, pn * HB);
    memcpy(ext + pn * HB, r2, HB);
    CHECK(vouch_merkle_verify_consistency(t->a, t->b, r1, r2, ext, pn + 1) != VOUCH_OK);
    memcpy(ext, want, HB);
    memcpy(ext + HB, want, pn * HB);
    CHECK(vouch_merkle_verify_consistency(t->a, t->b, r1, r2, ext, pn + 1) != VOUCH_OK);
    for (size_t i = 0; i < pn; i++) {
      want[i * HB] ^= 16;
      CHECK(vouch_merkle_verify_consistency(t->a, t->b, r1, r2, want, pn) != VOUCH_OK);
      want[i * HB] ^= 16;
    }
  }
  /* Trivial cases. */
  uint8_t r[HB], e[HB];
  unhex(ct_roots[3], r, HB);
  unhex(ct_roots[0], e, HB);
  CHECK_EQ_INT(vouch_merkle_verify_consistency(3, 3, r, r, NULL, 0), VOUCH_OK);
  CHECK(vouch_merkle_verify_consistency(3, 3, r, e, NULL, 0) != VOUCH_OK);
  CHECK(vouch_merkle_verify_consistency(3, 3, r, r, e, 1) != VOUCH_OK);
  CHECK_EQ_INT(vouch_merkle_verify_consistency(0, 3, e, r, NULL, 0), VOUCH_OK);
  CHECK(vouch_merkle_verify_consistency(4, 3, r, r, NULL, 0) != VOUCH_OK);
}

/* ---- plain recomputation from the RFC's recursive definitions ---- */
static void ref_mth(const uint8_t (*lh)[HB], uint64_t lo, uint64_t hi, uint8_t out[HB]) {
  uint64_t n = hi - lo;
  if (n == 0) {
    crypto_hash_sha256(out, (const unsigned char *)"", 0);
    return;
  }
  if (n == 1) {
    memcpy(out, lh[lo], HB);
    return;
  }
  uint64_t k = 1;
  while (k * 2 < n)
    k *= 2;
  uint8_t l[HB], r[HB], buf[1 + 2 * HB];
  ref_mth(lh, lo, lo + k, l);
  ref_mth(lh, lo + k, hi, r);
  buf[0] = 1;
  memcpy(buf + 1, l, HB);
  memcpy(buf + 1 + HB, r, HB);
  crypto_hash_sha256(out, buf, sizeof buf);
}

#define NMAX 70
static void test_against_recomputation(void) {
  static uint8_t lh[NMAX][HB];
  for (int i = 0; i < NMAX; i++) {
    uint8_t d[3] = {(uint8_t)i, (uint8_t)(i * 7), 0x5a};
    vouch_merkle_leaf_hash(d, sizeof d, lh[i]);
  }
  int bad_incl = 0, bad_cons = 0, accepted_bad = 0;
  for (uint64_t n = 1; n <= NMAX; n++) {
    uint8_t root[HB], ref[HB];
    ref_mth(lh, 0, n, ref);
    CHECK(vouch_merkle_root_from_leaf_hashes(&lh[0][0], (size_t)n, root) == VOUCH_OK);
    CHECK(memcmp(root, ref, HB) == 0);
    for (uint64_t m = 0; m < n; m++) {
      uint8_t proof[VOUCH_MERKLE_PROOF_MAX * HB];
      size_t pn;
      CHECK(vouch_merkle_inclusion_proof(&lh[0][0], n, m, proof, &pn) == VOUCH_OK);
      if (vouch_merkle_verify_inclusion(lh[m], m, n, proof, pn, root) != VOUCH_OK)
        bad_incl++;
      if (vouch_merkle_verify_inclusion(lh[m], (m + 1) % n, n, proof, pn, root) == VOUCH_OK && n > 1)
        accepted_bad++;
      for (size_t byte = 0; byte < pn * HB; byte += 13) {
        proof[byte] ^= 1;
        if (vouch_merkle_verify_inclusion(lh[m], m, n, proof, pn, root) == VOUCH_OK)
          accepted_bad++;
        proof[byte] ^= 1;
      }
    }
    for (uint64_t m = 1; m <= n; m++) {
      uint8_t proof[VOUCH_MERKLE_PROOF_MAX * HB], old[HB];
      size_t pn;
      ref_mth(lh, 0, m, old);
      CHECK(vouch_merkle_consistency_proof(&lh[0][0], n, m, proof, &pn) == VOUCH_OK);
      if (vouch_merkle_verify_consistency(m, n, old, root, proof, pn) != VOUCH_OK)
        bad_cons++;
      for (size_t byte = 0; byte < pn * HB; byte += 11) {
        proof[byte] ^= 0x80;
        if (vouch_merkle_verify_consistency(m, n, old, root, proof, pn) == VOUCH_OK)
          accepted_bad++;
        proof[byte] ^= 0x80;
      }
      /* A different old tree (one leaf changed) must not be consistent. */
      if (m < n) {
        uint8_t other[HB];
        ref_mth(lh, 1, m + 1, other);
        if (vouch_merkle_verify_consistency(m, n, other, root, proof, pn) == VOUCH_OK)
          accepted_bad++;
      }
    }
  }
  CHECK_EQ_INT(bad_incl, 0);
  CHECK_EQ_INT(bad_cons, 0);
  CHECK_EQ_INT(accepted_bad, 0);
}

static void test_root_mt(void) {
  /* Sizes around the 2^16 block boundary and a multi-block tail. */
  const size_t sizes[] = {0, 1, 65535, 65536, 65537, 131072, 200003, 3 * 65536 + 17};
  const size_t leaf_len = 9;
  size_t nmax = 3 * 65536 + 17 + 200003;
  uint8_t *leaves = malloc(nmax * leaf_len);
  REQUIRE(leaves);
  for (size_t i = 0; i < nmax * leaf_len; i++)
    leaves[i] = (uint8_t)(i * 2654435761u >> 13);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    uint8_t a[HB], b[HB], c[HB];
    CHECK(vouch_merkle_root(leaves, sizes[s], leaf_len, a) == VOUCH_OK);
    CHECK(vouch_merkle_root_mt(leaves, sizes[s], leaf_len, 2, b) == VOUCH_OK);
    CHECK(vouch_merkle_root_mt(leaves, sizes[s], leaf_len, 3, c) == VOUCH_OK);
    CHECK(memcmp(a, b, HB) == 0);
    CHECK(memcmp(a, c, HB) == 0);
  }
  /* Allocation failure is reported, not crashed on. */
  uint8_t r[HB];
  vouch__test_fail_allocs_after(0);
  CHECK_EQ_INT(vouch_merkle_root_mt(leaves, 200003, leaf_len, 2, r), VOUCH_E_NOMEM);
  vouch__test_fail_allocs_after(-1);
  free(leaves);
}

int main(void) {
  if (vouch_init() < 0)
    return 1;
  ct_setup();
  TT_RUN(test_ct_roots);
  TT_RUN(test_ct_inclusion);
  TT_RUN(test_ct_consistency);
  TT_RUN(test_against_recomputation);
  TT_RUN(test_root_mt);
  TT_MAIN_END;
}
