/* tests/unit/test_psi_proof.c -- the proof of honest blinding
 * (docs/protocol.md section 13): an honest table verifies; a table with one
 * slot blinded under another secret (a real slot or a dummy) does not; a
 * proof does not carry over to another table, another L, other labels or
 * other header bytes; the dummy label has a known answer (Python hashlib). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "tinytest.h"
#include "psi/psi_internal.h"
#include "vouch/vouch.h"

typedef struct pworld {
  vouch_psi_server_key *key;
  uint8_t *pd, *labels, *keys, *audit;
  size_t pd_len, n, m, audit_len;
  uint8_t dseed[32];
} pworld;

static int pw_init(pworld *w, uint32_t seed, size_t n, vouch_psi_server_key *key) {
  memset(w, 0, sizeof *w);
  vouch__rng r;
  uint8_t s[32] = {0};
  vouch__store32_le(s, seed);
  vouch__rng_seed(&r, s);
  w->n = n;
  w->keys = malloc(32 * n);
  size_t cap = vouch_psi_slots_for(n);
  w->labels = malloc(32 * cap);
  w->audit = malloc(VOUCH_PSI_AUDIT_BYTES(cap));
  if (!w->keys || !w->labels || !w->audit)
    return -1;
  vouch__rng_bytes(&r, w->keys, 32 * n);
  vouch__rng_bytes(&r, w->dseed, 32);
  if (key)
    w->key = key;
  else if (vouch__server_key_generate(&w->key, &r) != VOUCH_OK)
    return -1;
  vouch_psi_setup_opts o = {0, 1, NULL, VOUCH_PSI_SCHEME_EXACT, 0, 1, w->dseed, w->labels, cap,
                            w->audit, VOUCH_PSI_AUDIT_BYTES(cap), &w->audit_len};
  if (vouch__setup(w->key, w->keys, n, &o, &w->pd, &w->pd_len, NULL, &r) != VOUCH_OK)
    return -1;
  w->m = vouch__load32_le(w->pd + 12);
  vouch__rng_wipe(&r);
  return 0;
}

static void pw_free(pworld *w, int free_key) {
  if (free_key)
    vouch_psi_server_key_free(w->key);
  vouch_free(w->pd);
  free(w->labels);
  free(w->keys);
  free(w->audit);
}

static void test_dummy_label_kat(void) {
  uint8_t seed[32], label[32];
  for (int i = 0; i < 32; i++)
    seed[i] = (uint8_t)i;
  vouch_psi_dummy_label(seed, 7, label);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, label, 32);
  /* hashlib.blake2b(LE64(7), digest_size=32, key=bytes(range(32)),
   *   salt=b"dummy-label" padded to 16, person=b"vouch-psi-v1" padded) */
  CHECK_EQ_STR(hex, "a7100e525f3041a773dfc33ede8fa3ca9714b518201cc65ce5543266739f7d3c");
}

/* Setup's labels are the keys (each once) and the dummy labels. */
static void test_labels_from_setup(void) {
  pworld w;
  REQUIRE(pw_init(&w, 1, 50, NULL) == 0);
  CHECK_EQ_INT(w.m, vouch_psi_slots_for(50));
  size_t real = 0, dummy = 0;
  for (size_t i = 0; i < w.m; i++) {
    uint8_t dl[32];
    vouch_psi_dummy_label(w.dseed, i, dl);
    int is_key = 0;
    for (size_t k = 0; k < w.n; k++)
      is_key |= memcmp(w.labels + 32 * i, w.keys + 32 * k, 32) == 0;
    real += is_key;
    dummy += !is_key && memcmp(w.labels + 32 * i, dl, 32) == 0;
  }
  CHECK_EQ_INT(real, 50);
  CHECK_EQ_INT(dummy, w.m - 50);
  pw_free(&w, 1);
}

static void test_honest_verifies(void) {
  pworld w;
  REQUIRE(pw_init(&w, 2, 100, NULL) == 0);
  uint8_t proof[VOUCH_PSI_BLINDING_PROOF_BYTES];
  CHECK_EQ_INT(vouch_psi_blinding_prove(w.key, w.pd, w.pd_len, w.labels, proof), VOUCH_OK);
  CHECK_EQ_INT(vouch_psi_blinding_verify(w.pd, w.pd_len, w.labels, proof), VOUCH_OK);
  /* the public data a client opens is unchanged in kind: it still validates */
  vouch_psi_public *pub = NULL;
  CHECK_EQ_INT(vouch_psi_public_open(&pub, w.pd, w.pd_len, NULL), VOUCH_OK);
  vouch_psi_public_free(pub);
  /* any bit of the proof */
  for (int bit = 0; bit < 512; bit += 37) {
    uint8_t bad[VOUCH_PSI_BLINDING_PROOF_BYTES];
    memcpy(bad, proof, sizeof bad);
    bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    CHECK_EQ_INT(vouch_psi_blinding_verify(w.pd, w.pd_len, w.labels, bad), VOUCH_E_PSI_AUTH);
  }
  /* another label (a database key swapped for something else) */
  w.labels[32 * 3] ^= 1;
  CHECK_EQ_INT(vouch_psi_blinding_verify(w.pd, w.pd_len, w.labels, proof), VOUCH_E_PSI_AUTH);
  w.labels[32 * 3] ^= 1;
  /* any header byte the signature covers (here: the audit root) */
  w.pd[80] ^= 1;
  CHECK_EQ_INT(vouch_psi_blinding_verify(w.pd, w.pd_len, w.labels, proof), VOUCH_E_PSI_AUTH);
  w.pd[80] ^= 1;
  CHECK_EQ_INT(vouch_psi_blinding_verify(w.pd, w.pd_len - 1, w.labels, proof), VOUCH_E_PSI_FORMAT);
  pw_free(&w, 1);
}

/* A server that blinds one slot with another secret (to tell which entry a
 * voucher hit) is caught, whether the slot holds a key or a dummy, even when
 * it proves with its real alpha. */
static void test_other_secret_caught(void) {
  for (int which = 0; which < 2; which++) {
    pworld w;
    REQUIRE(pw_init(&w, 3 + (uint32_t)which, 100, NULL) == 0);
    size_t slot = w.m;
    for (size_t i = 0; i < w.m && slot == w.m; i++) {
      int is_key = 0;
      for (size_t k = 0; k < w.n; k++)
        is_key |= memcmp(w.labels + 32 * i, w.keys + 32 * k, 32) == 0;
      if (is_key == (which == 0))
        slot = i;
    }
    REQUIRE(slot < w.m);
    uint8_t beta[32], h[32];
    crypto_core_ristretto255_scalar_random(beta);
    vouch__hash_to_group(h, w.labels + 32 * slot, 32);
    REQUIRE(crypto_scalarmult_ristretto255(w.pd + VOUCH__PD_HEADER + 32 * slot, beta, h) == 0);
    uint8_t proof[VOUCH_PSI_BLINDING_PROOF_BYTES];
    CHECK_EQ_INT(vouch_psi_blinding_prove(w.key, w.pd, w.pd_len, w.labels, proof), VOUCH_OK);
    CHECK_EQ_INT(vouch_psi_blinding_verify(w.pd, w.pd_len, w.labels, proof), VOUCH_E_PSI_AUTH);
    pw_free(&w, 1);
  }
}

/* A proof is for one table and one L. */
static void test_proof_does_not_transfer(void) {
  pworld a, b, c;
  REQUIRE(pw_init(&a, 10, 60, NULL) == 0);
  REQUIRE(pw_init(&b, 11, 60, a.key) == 0); /* same key, other database: same m */
  REQUIRE(pw_init(&c, 12, 60, NULL) == 0);  /* another key and database */
  CHECK_EQ_INT(a.m, b.m);
  uint8_t pa[VOUCH_PSI_BLINDING_PROOF_BYTES], pc[VOUCH_PSI_BLINDING_PROOF_BYTES];
  CHECK_EQ_INT(vouch_psi_blinding_prove(a.key, a.pd, a.pd_len, a.labels, pa), VOUCH_OK);
  CHECK_EQ_INT(vouch_psi_blinding_prove(c.key, c.pd, c.pd_len, c.labels, pc), VOUCH_OK);
  CHECK_EQ_INT(vouch_psi_blinding_verify(a.pd, a.pd_len, a.labels, pa), VOUCH_OK);
  CHECK_EQ_INT(vouch_psi_blinding_verify(c.pd, c.pd_len, c.labels, pc), VOUCH_OK);
  /* another table, its own labels */
  CHECK_EQ_INT(vouch_psi_blinding_verify(b.pd, b.pd_len, b.labels, pa), VOUCH_E_PSI_AUTH);
  /* another table, the first table's labels */
  CHECK_EQ_INT(vouch_psi_blinding_verify(b.pd, b.pd_len, a.labels, pa), VOUCH_E_PSI_AUTH);
  /* another L: a's table with c's L (and the other way) */
  uint8_t *mix = malloc(a.pd_len);
  REQUIRE(mix);
  memcpy(mix, a.pd, a.pd_len);
  memcpy(mix + 48, c.pd + 48, 32);
  CHECK_EQ_INT(vouch_psi_blinding_verify(mix, a.pd_len, a.labels, pa), VOUCH_E_PSI_AUTH);
  CHECK_EQ_INT(vouch_psi_blinding_verify(mix, a.pd_len, a.labels, pc), VOUCH_E_PSI_AUTH);
  /* the prover refuses public data made with another key */
  CHECK_EQ_INT(vouch_psi_blinding_prove(c.key, a.pd, a.pd_len, a.labels, pc), VOUCH_E_PSI_PARAMS);
  free(mix);
  pw_free(&b, 0);
  pw_free(&a, 1);
  pw_free(&c, 1);
}

/* Puts a fresh proof into the (modified) public data and points the
 * auditors' file at it, as a cheating server that publishes both would. */
static void republish(pworld *w) {
  REQUIRE(vouch_psi_blinding_prove(w->key, w->pd, w->pd_len, w->labels, w->pd + VOUCH__PD_PROOF) == VOUCH_OK);
  crypto_sign_ed25519_detached(w->pd + w->pd_len - 64, NULL, w->pd, w->pd_len - 64, w->key->sign_sk);
  vouch__pd_id(w->pd, w->pd_len, w->audit + 16);
}

/* The auditor's check over the database keys and the auditors' file. */
static void test_audit(void) {
  pworld w, o;
  REQUIRE(pw_init(&w, 30, 80, NULL) == 0);
  REQUIRE(pw_init(&o, 31, 80, w.key) == 0);
  CHECK_EQ_INT(w.audit_len, VOUCH_PSI_AUDIT_BYTES(w.m));
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, w.keys, w.n, w.audit, w.audit_len), VOUCH_OK);
  /* the proof setup wrote verifies on its own too, and the data still opens */
  CHECK_EQ_INT(vouch_psi_blinding_verify(w.pd, w.pd_len, w.labels, NULL), VOUCH_OK);
  vouch_psi_public *pub = NULL;
  CHECK_EQ_INT(vouch_psi_public_open(&pub, w.pd, w.pd_len, NULL), VOUCH_OK);
  vouch_psi_public_free(pub);
  /* duplicates in the database are fine (setup removes them too) */
  uint8_t *dup = malloc(32 * (w.n + 1));
  REQUIRE(dup);
  memcpy(dup, w.keys, 32 * w.n);
  memcpy(dup + 32 * w.n, w.keys + 32 * 5, 32);
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, dup, w.n + 1, w.audit, w.audit_len), VOUCH_OK);
  /* a key missing from the audited database, or one more */
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, w.keys, w.n - 1, w.audit, w.audit_len),
               VOUCH_E_PSI_PARAMS);
  memcpy(dup + 32 * w.n, o.keys, 32);
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, dup, w.n + 1, w.audit, w.audit_len),
               VOUCH_E_PSI_PARAMS);
  /* the same number of keys, one of them another */
  memcpy(dup, w.keys, 32 * w.n);
  memcpy(dup, o.keys, 32);
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, dup, w.n, w.audit, w.audit_len), VOUCH_E_PSI_PARAMS);
  free(dup);
  /* the auditors' file of other public data */
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, w.keys, w.n, o.audit, o.audit_len), VOUCH_E_PSI_PARAMS);
  /* another dummy seed than the committed one */
  uint8_t *a2 = malloc(w.audit_len);
  REQUIRE(a2);
  memcpy(a2, w.audit, w.audit_len);
  a2[40] ^= 1;
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, w.keys, w.n, a2, w.audit_len), VOUCH_E_PSI_PARAMS);
  /* a slot map that moves a key out of its cuckoo slots */
  memcpy(a2, w.audit, w.audit_len);
  size_t ks = 0, ds = 0;
  while (vouch__load32_le(a2 + 72 + 4 * ks) == UINT32_MAX)
    ks++;
  while (vouch__load32_le(a2 + 72 + 4 * ds) != UINT32_MAX || ds == ks + 1 || ds + 1 == ks)
    ds++;
  uint32_t kv = vouch__load32_le(a2 + 72 + 4 * ks);
  vouch__store32_le(a2 + 72 + 4 * ks, UINT32_MAX);
  vouch__store32_le(a2 + 72 + 4 * ds, kv);
  int rc = vouch_psi_blinding_audit(w.pd, w.pd_len, w.keys, w.n, a2, w.audit_len);
  CHECK(rc == VOUCH_E_PSI_PARAMS || rc == VOUCH_E_PSI_AUTH);
  /* malformed files */
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, w.keys, w.n, w.audit, w.audit_len - 1), VOUCH_E_PSI_FORMAT);
  memcpy(a2, w.audit, w.audit_len);
  a2[8] = 2;
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, w.keys, w.n, a2, w.audit_len), VOUCH_E_PSI_FORMAT);
  free(a2);
  /* older public data (version 2: no proof) is refused as such */
  uint8_t *old = malloc(w.pd_len);
  REQUIRE(old);
  memcpy(old, w.pd, w.pd_len);
  old[8] = 2;
  CHECK_EQ_INT(vouch_psi_blinding_audit(old, w.pd_len, w.keys, w.n, w.audit, w.audit_len), VOUCH_E_PSI_VERSION);
  free(old);
  /* a server that re-blinds one key's slot under another secret and
   * publishes a fresh proof and a matching auditors' file: caught */
  size_t slot = ks;
  uint8_t beta[32], h[32];
  crypto_core_ristretto255_scalar_random(beta);
  vouch__hash_to_group(h, w.labels + 32 * slot, 32);
  REQUIRE(crypto_scalarmult_ristretto255(w.pd + VOUCH__PD_HEADER + 32 * slot, beta, h) == 0);
  republish(&w);
  vouch_psi_public *pub2 = NULL;
  CHECK_EQ_INT(vouch_psi_public_open(&pub2, w.pd, w.pd_len, NULL), VOUCH_OK); /* a client cannot tell */
  vouch_psi_public_free(pub2);
  CHECK_EQ_INT(vouch_psi_blinding_audit(w.pd, w.pd_len, w.keys, w.n, w.audit, w.audit_len), VOUCH_E_PSI_AUTH);
  pw_free(&o, 0);
  pw_free(&w, 1);
}

static void test_setup_labels_cap(void) {
  pworld w;
  REQUIRE(pw_init(&w, 20, 10, NULL) == 0);
  uint8_t *pd = NULL;
  size_t len = 0;
  vouch_psi_setup_opts o = {0, 1, NULL, VOUCH_PSI_SCHEME_EXACT, 0, 1, w.dseed, w.labels, w.m - 1, NULL, 0, NULL};
  CHECK_EQ_INT(vouch_psi_setup(w.key, w.keys, w.n, &o, &pd, &len, NULL), VOUCH_E_INVALID);
  CHECK(pd == NULL);
  pw_free(&w, 1);
}

int main(void) {
  if (vouch_init() < 0)
    return 1;
  TT_RUN(test_dummy_label_kat);
  TT_RUN(test_labels_from_setup);
  TT_RUN(test_honest_verifies);
  TT_RUN(test_other_secret_caught);
  TT_RUN(test_proof_does_not_transfer);
  TT_RUN(test_audit);
  TT_RUN(test_setup_labels_cap);
  TT_MAIN_END;
}
