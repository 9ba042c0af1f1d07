/* tests/unit/test_audit.c -- keys, signed lists, the two-source rule, the
 * audited table, tree heads, the log, fork detection, trust pins. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "vouch/audit.h"
#include "vouch/hash.h"
#include "vouch/index.h"
#include "common/internal.h"
#include "tinytest.h"

#define HB 32

/* Deterministic test hashes: h(i) = SHA-256(i). */
static void th(uint32_t i, uint8_t out[HB]) {
  uint8_t b[4];
  vouch__store32_le(b, i);
  crypto_hash_sha256(out, b, 4);
}

static vouch_audit_secret_key k_us1, k_us2, k_gb, k_fr, k_srv, k_srv2;

static void keys_setup(void) {
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "us-one", "US", &k_us1) == VOUCH_OK);
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "us-two", "US", &k_us2) == VOUCH_OK);
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "gb.org", "GB", &k_gb) == VOUCH_OK);
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "fr_org", "FR", &k_fr) == VOUCH_OK);
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SERVER, "operator", "CH", &k_srv) == VOUCH_OK);
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SERVER, "rogue", "CH", &k_srv2) == VOUCH_OK);
}

/* Signs a list of hashes h(lo..hi-1) plus extra ones; returns the buffer. */
static uint8_t *make_list(const vouch_audit_secret_key *k, uint32_t lo, uint32_t hi, const uint32_t *extra,
                          size_t nextra, uint64_t version, size_t *len) {
  size_t n = hi - lo + nextra;
  uint8_t *h = malloc((n ? n : 1) * HB);
  for (uint32_t i = lo; i < hi; i++)
    th(i, h + (i - lo) * HB);
  for (size_t i = 0; i < nextra; i++)
    th(extra[i], h + (hi - lo + i) * HB);
  uint8_t *out = NULL;
  int rc = vouch_audit_list_sign(k, VOUCH_ALGO_PDQ, version, "2026-11-29", h, n, &out, len);
  CHECK(rc == VOUCH_OK);
  free(h);
  return out;
}

static void test_keys(void) {
  uint8_t pub[VOUCH_AUDIT_PUBKEY_FILE_BYTES], sec[VOUCH_AUDIT_SECKEY_FILE_BYTES];
  vouch_audit_identity id;
  vouch_audit_secret_key k;
  vouch_audit_pubkey_encode(&k_gb.id, pub);
  vouch_audit_seckey_encode(&k_gb, sec);
  REQUIRE(vouch_audit_pubkey_decode(pub, sizeof pub, &id) == VOUCH_OK);
  CHECK(memcmp(id.pk, k_gb.id.pk, 32) == 0);
  CHECK_EQ_STR(id.name, "gb.org");
  CHECK_EQ_STR(id.jurisdiction, "GB");
  REQUIRE(vouch_audit_seckey_decode(sec, sizeof sec, &k) == VOUCH_OK);
  CHECK(memcmp(k.sk, k_gb.sk, 64) == 0);
  vouch_audit_secret_key_wipe(&k);
  CHECK(k.sk[0] == 0 && k.sk[63] == 0);
  int undetected = 0;
  for (size_t i = 0; i < sizeof pub; i++) {
    pub[i] ^= 0x01;
    if (vouch_audit_pubkey_decode(pub, sizeof pub, &id) == VOUCH_OK)
      undetected++;
    pub[i] ^= 0x01;
  }
  for (size_t i = 0; i < sizeof sec; i++) {
    sec[i] ^= 0x40;
    if (vouch_audit_seckey_decode(sec, sizeof sec, &k) == VOUCH_OK)
      undetected++;
    sec[i] ^= 0x40;
  }
  CHECK_EQ_INT(undetected, 0);
  /* Bad identities are refused. */
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "", "US", &k) == VOUCH_E_INVALID);
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "a b", "US", &k) == VOUCH_E_INVALID);
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "ok", "us", &k) == VOUCH_E_INVALID);
  CHECK(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "ok", "USA", &k) == VOUCH_E_INVALID);
  CHECK(vouch_audit_keygen(7, "ok", "US", &k) == VOUCH_E_INVALID);
}

static void test_lists(void) {
  uint32_t dup[] = {3, 1, 3};
  size_t len;
  uint8_t *buf = make_list(&k_us1, 0, 4, dup, 3, 7, &len); /* duplicates collapse */
  REQUIRE(buf);
  vouch_audit_list L;
  REQUIRE(vouch_audit_list_open(buf, len, &L) == VOUCH_OK);
  CHECK_EQ_INT(L.count, 4);
  CHECK_EQ_INT(L.list_version, 7);
  CHECK_EQ_STR(L.date, "2026-11-29");
  CHECK_EQ_STR(L.source.jurisdiction, "US");
  CHECK(memcmp(L.source.pk, k_us1.id.pk, 32) == 0);
  for (uint64_t i = 1; i < L.count; i++)
    CHECK(memcmp(L.hashes + (i - 1) * HB, L.hashes + i * HB, HB) < 0);
  /* Every byte of the list is covered: by the format checks or by the signature. */
  int undetected = 0;
  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      buf[i] ^= (uint8_t)(1 << bit);
      if (vouch_audit_list_open(buf, len, &L) == VOUCH_OK)
        undetected++;
      buf[i] ^= (uint8_t)(1 << bit);
    }
  }
  CHECK_EQ_INT(undetected, 0);
  for (size_t cut = 0; cut < len; cut += 7)
    CHECK(vouch_audit_list_open(buf, cut, &L) != VOUCH_OK);
  /* A server key cannot sign a source list. */
  uint8_t *o = NULL;
  uint8_t h[HB] = {0};
  CHECK(vouch_audit_list_sign(&k_srv, VOUCH_ALGO_PDQ, 1, "2026-11-29", h, 1, &o, &len) == VOUCH_E_INVALID);
  CHECK(vouch_audit_list_sign(&k_us1, VOUCH_ALGO_PDQ, 1, "2026-13-01", h, 1, &o, &len) == VOUCH_E_INVALID);
  vouch_free(buf);
}

static void test_select(void) {
  uint8_t h[6][HB];
  for (int i = 0; i < 6; i++)
    th(100 + (uint32_t)i, h[i]);
  /* h0: one source.  h1: two sources, same jurisdiction.  h2: US + GB.
   * h3: US + US + FR.  h4: GB twice (same source repeated).  h5: nobody. */
  const vouch_audit_attestation att[] = {
      {h[0], 0, {'U', 'S'}}, {h[1], 0, {'U', 'S'}}, {h[1], 1, {'U', 'S'}}, {h[2], 0, {'U', 'S'}},
      {h[2], 2, {'G', 'B'}}, {h[3], 0, {'U', 'S'}}, {h[3], 1, {'U', 'S'}}, {h[3], 3, {'F', 'R'}},
      {h[4], 2, {'G', 'B'}}, {h[4], 2, {'G', 'B'}},
  };
  size_t n = sizeof att / sizeof att[0], m = 0;
  vouch_audit_selected out[16];
  vouch_audit_policy two = VOUCH_AUDIT_POLICY_DEFAULT;
  REQUIRE(vouch_audit_select(att, n, HB, two, out, 16, &m) == VOUCH_OK);
  /* Exactly h2 and h3, sorted. */
  REQUIRE(m == 2);
  int i2 = memcmp(h[2], h[3], HB) < 0 ? 0 : 1;
  CHECK(memcmp(out[i2].hash, h[2], HB) == 0);
  CHECK(out[i2].sources == 0x5);
  CHECK(memcmp(out[1 - i2].hash, h[3], HB) == 0);
  CHECK(out[1 - i2].sources == 0xB);
  /* Without the jurisdiction rule, h1 (two US sources) qualifies too. */
  vouch_audit_policy any2 = {2, 0};
  REQUIRE(vouch_audit_select(att, n, HB, any2, out, 16, &m) == VOUCH_OK);
  CHECK_EQ_INT(m, 3);
  /* Three jurisdictions needed: only h3. */
  vouch_audit_policy three = {3, 1};
  REQUIRE(vouch_audit_select(att, n, HB, three, out, 16, &m) == VOUCH_OK);
  CHECK_EQ_INT(m, 0);
  vouch_audit_policy three_any = {3, 0};
  REQUIRE(vouch_audit_select(att, n, HB, three_any, out, 16, &m) == VOUCH_OK);
  CHECK_EQ_INT(m, 1);
  /* A source cannot change jurisdiction mid-way; a policy of 0 is invalid. */
  const vouch_audit_attestation bad[] = {{h[0], 0, {'U', 'S'}}, {h[1], 0, {'G', 'B'}}};
  CHECK(vouch_audit_select(bad, 2, HB, two, out, 16, &m) == VOUCH_E_INVALID);
  vouch_audit_policy zero = {0, 1};
  CHECK(vouch_audit_select(att, n, HB, zero, out, 16, &m) == VOUCH_E_INVALID);
  const vouch_audit_attestation far[] = {{h[0], 64, {'U', 'S'}}};
  CHECK(vouch_audit_select(far, 1, HB, two, out, 16, &m) == VOUCH_E_INVALID);
}

/* Fixture: version 1 from US1 {0..99}, US2 {50..149}, GB {80..119, 500};
 * version 2 from US1 {0..99}, US2 {50..149}, GB {90..129}, FR {0..9}. */
typedef struct {
  uint8_t *buf[4];
  size_t len[4];
  vouch_audit_list L[4];
} lists4;

static void open_all(lists4 *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    CHECK(vouch_audit_list_open(s->buf[i], s->len[i], &s->L[i]) == VOUCH_OK);
}
static void free_all(lists4 *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    vouch_free(s->buf[i]);
}

static int in_db(const vouch_audit_db *db, uint32_t i) {
  uint8_t h[HB];
  uint64_t leaf;
  th(i, h);
  return vouch_audit_db_find(db, h, &leaf) == VOUCH_OK;
}

static vouch_audit_db *build_v1(lists4 *a) {
  uint32_t x500 = 500;
  a->buf[0] = make_list(&k_us1, 0, 100, NULL, 0, 1, &a->len[0]);
  a->buf[1] = make_list(&k_us2, 50, 150, NULL, 0, 1, &a->len[1]);
  a->buf[2] = make_list(&k_gb, 80, 120, &x500, 1, 1, &a->len[2]);
  open_all(a, 3);
  vouch_audit_db *db = NULL;
  vouch_audit_policy pol = VOUCH_AUDIT_POLICY_DEFAULT;
  CHECK(vouch_audit_db_build(&db, NULL, a->L, 3, pol) == VOUCH_OK);
  return db;
}

static vouch_audit_db *build_v2(const vouch_audit_db *v1, lists4 *b) {
  b->buf[0] = make_list(&k_us1, 0, 100, NULL, 0, 2, &b->len[0]);
  b->buf[1] = make_list(&k_us2, 50, 150, NULL, 0, 2, &b->len[1]);
  b->buf[2] = make_list(&k_gb, 90, 130, NULL, 0, 2, &b->len[2]);
  b->buf[3] = make_list(&k_fr, 0, 10, NULL, 0, 1, &b->len[3]);
  open_all(b, 4);
  vouch_audit_db *db = NULL;
  vouch_audit_policy pol = VOUCH_AUDIT_POLICY_DEFAULT;
  CHECK(vouch_audit_db_build(&db, v1, b->L, 4, pol) == VOUCH_OK);
  return db;
}

static void test_db(void) {
  lists4 a = {0}, b = {0};
  vouch_audit_db *v1 = build_v1(&a);
  REQUIRE(v1);
  /* Two-source rule: only US+GB overlaps, i.e. 80..119; 50..79 are US+US only. */
  CHECK_EQ_INT(vouch_audit_db_live_count(v1), 40);
  int wrong = 0;
  for (uint32_t i = 0; i < 200; i++)
    wrong += in_db(v1, i) != (i >= 80 && i < 120);
  CHECK_EQ_INT(wrong, 0);
  CHECK(!in_db(v1, 500)); /* GB alone */
  CHECK_EQ_INT(vouch_audit_db_version(v1), 1);

  /* Round trip, and the root is the RFC 9162 root over the leaves. */
  uint8_t *enc = NULL;
  size_t len = 0;
  REQUIRE(vouch_audit_db_encode(v1, &enc, &len) == VOUCH_OK);
  vouch_audit_db *p = NULL;
  REQUIRE(vouch_audit_db_parse(&p, enc, len) == VOUCH_OK);
  uint8_t r1[32], r2[32], r3[32];
  vouch_audit_db_root(v1, r1);
  vouch_audit_db_root(p, r2);
  CHECK(memcmp(r1, r2, 32) == 0);
  size_t ll;
  const uint8_t *l0 = vouch_audit_db_leaf_bytes(p, 0, &ll);
  REQUIRE(l0);
  CHECK(vouch_merkle_root(l0, (size_t)vouch_audit_db_size(p), ll, r3) == VOUCH_OK);
  CHECK(memcmp(r1, r3, 32) == 0);
  CHECK(vouch_audit_db_verify_sources(p, NULL) == VOUCH_OK);
  vouch_audit_db_free(p);

  /* Deterministic: building again gives the same bytes. */
  vouch_audit_db *again = NULL;
  vouch_audit_policy pol = VOUCH_AUDIT_POLICY_DEFAULT;
  REQUIRE(vouch_audit_db_build(&again, NULL, a.L, 3, pol) == VOUCH_OK);
  uint8_t *enc2 = NULL;
  size_t len2 = 0;
  REQUIRE(vouch_audit_db_encode(again, &enc2, &len2) == VOUCH_OK);
  CHECK(len == len2 && memcmp(enc, enc2, len) == 0);
  vouch_free(enc2);
  vouch_audit_db_free(again);
  /* Lists given in another order: same table. */
  vouch_audit_list rev[3] = {a.L[2], a.L[0], a.L[1]};
  REQUIRE(vouch_audit_db_build(&again, NULL, rev, 3, pol) == VOUCH_OK);
  REQUIRE(vouch_audit_db_encode(again, &enc2, &len2) == VOUCH_OK);
  CHECK(len == len2 && memcmp(enc, enc2, len) == 0);
  vouch_free(enc2);
  vouch_audit_db_free(again);

  /* Auditor: the lists rebuild the table; a different list does not. */
  CHECK(vouch_audit_db_check_lists(v1, NULL, a.L, 3) == VOUCH_OK);
  CHECK(vouch_audit_db_check_lists(v1, NULL, a.L, 2) == VOUCH_E_AUDIT_POLICY);

  /* Inclusion proof of every live entry. */
  uint8_t live[40 * HB];
  REQUIRE(vouch_audit_db_live(v1, live, sizeof live) == VOUCH_OK);
  int bad = 0;
  for (int i = 0; i < 40; i++) {
    uint64_t leaf;
    uint8_t proof[VOUCH_MERKLE_PROOF_MAX * 32], lh[32];
    size_t pn;
    REQUIRE(vouch_audit_db_find(v1, live + i * HB, &leaf) == VOUCH_OK);
    REQUIRE(vouch_audit_db_prove(v1, leaf, proof, &pn) == VOUCH_OK);
    const uint8_t *lb = vouch_audit_db_leaf_bytes(v1, leaf, &ll);
    vouch_merkle_leaf_hash(lb, ll, lh);
    if (vouch_merkle_verify_inclusion(lh, leaf, vouch_audit_db_size(v1), proof, pn, r1) != VOUCH_OK)
      bad++;
  }
  CHECK_EQ_INT(bad, 0);

  /* Version 2: GB moves to 90..129, FR joins with 0..9. */
  vouch_audit_db *v2 = build_v2(v1, &b);
  REQUIRE(v2);
  CHECK_EQ_INT(vouch_audit_db_version(v2), 2);
  wrong = 0;
  for (uint32_t i = 0; i < 200; i++)
    wrong += in_db(v2, i) != ((i >= 90 && i < 130) || i < 10);
  CHECK_EQ_INT(wrong, 0);
  CHECK(vouch_audit_db_size(v2) == 40 + 10 /* removed 80..89 */ + 10 /* 120..129 */ + 10 /* 0..9 */);
  /* The new leaves append: removals first, each carrying the op. */
  vouch_audit_leaf lf;
  REQUIRE(vouch_audit_db_leaf(v2, 40, &lf) == VOUCH_OK);
  CHECK_EQ_INT(lf.op, VOUCH_AUDIT_OP_REMOVE);
  CHECK_EQ_INT(lf.db_version, 2);
  REQUIRE(vouch_audit_db_leaf(v2, 59, &lf) == VOUCH_OK);
  CHECK_EQ_INT(lf.op, VOUCH_AUDIT_OP_ADD);
  /* Consistency v1 -> v2. */
  uint8_t proof[VOUCH_MERKLE_PROOF_MAX * 32], rv2[32];
  size_t pn;
  vouch_audit_db_root(v2, rv2);
  REQUIRE(vouch_audit_db_consistency(v2, vouch_audit_db_size(v1), proof, &pn) == VOUCH_OK);
  CHECK(vouch_merkle_verify_consistency(vouch_audit_db_size(v1), vouch_audit_db_size(v2), r1, rv2, proof, pn) ==
        VOUCH_OK);
  CHECK(vouch_audit_db_check_lists(v2, v1, b.L, 4) == VOUCH_OK);
  CHECK(vouch_audit_db_check_lists(v2, v1, b.L, 3) == VOUCH_E_AUDIT_POLICY);
  CHECK(vouch_audit_db_check_lists(v2, NULL, b.L, 4) == VOUCH_E_INVALID);
  /* A policy change between versions is refused. */
  vouch_audit_db *x = NULL;
  vouch_audit_policy p3 = {3, 1};
  CHECK(vouch_audit_db_build(&x, v1, b.L, 4, p3) == VOUCH_E_AUDIT_POLICY);

  /* Tampering with any byte of the table is detected by the parser, the
   * source signatures, or the signed head that names its root. */
  vouch_audit_sth sth;
  REQUIRE(vouch_audit_sth_make(v1, &k_srv, 1764403200, NULL, NULL, &sth) == VOUCH_OK);
  int undetected = 0;
  for (size_t i = 0; i < len; i++) {
    enc[i] ^= 0x10;
    vouch_audit_db *t = NULL;
    if (vouch_audit_db_parse(&t, enc, len) == VOUCH_OK) {
      if (vouch_audit_sth_matches_db(&sth, t) == VOUCH_OK && vouch_audit_db_verify_sources(t, NULL) == VOUCH_OK)
        undetected++;
      vouch_audit_db_free(t);
    }
    enc[i] ^= 0x10;
  }
  CHECK_EQ_INT(undetected, 0);
  vouch_free(enc);
  vouch_audit_db_free(v1);
  vouch_audit_db_free(v2);
  free_all(&a, 3);
  free_all(&b, 4);
}

static void test_table_rules(void) {
  /* A table whose addition is supported by one jurisdiction only is refused
   * by the parser even when its root is recomputed to match. */
  lists4 a = {0};
  vouch_audit_db *v1 = build_v1(&a);
  REQUIRE(v1);
  uint8_t *enc;
  size_t len, ll;
  REQUIRE(vouch_audit_db_encode(v1, &enc, &len) == VOUCH_OK);
  size_t nsrc = vouch_audit_db_nsources(v1);
  size_t leaves_off = 28 + nsrc * 222;
  (void)vouch_audit_db_leaf_bytes(v1, 0, &ll);
  /* Find the two US sources' bits and set leaf 0's mask to US1|US2. */
  uint64_t us = 0;
  for (size_t i = 0; i < nsrc; i++) {
    vouch_audit_source_record r;
    REQUIRE(vouch_audit_db_source(v1, i, &r) == VOUCH_OK);
    if (!strcmp(r.source.jurisdiction, "US"))
      us |= (uint64_t)1 << i;
  }
  vouch__store64_le(enc + leaves_off + 10 + HB, us);
  uint8_t root[32];
  REQUIRE(vouch_merkle_root(enc + leaves_off, (size_t)vouch_audit_db_size(v1), ll, root) == VOUCH_OK);
  memcpy(enc + len - 32, root, 32);
  vouch_audit_db *t = NULL;
  CHECK_EQ_INT(vouch_audit_db_parse(&t, enc, len), VOUCH_E_AUDIT_POLICY);
  vouch_free(enc);
  vouch_audit_db_free(v1);
  free_all(&a, 3);
}

static void test_sth_log_fork(void) {
  lists4 a = {0}, b = {0};
  vouch_audit_db *v1 = build_v1(&a);
  vouch_audit_db *v2 = build_v2(v1, &b);
  REQUIRE(v1 && v2);
  vouch_audit_sth s1, s2, s2b, tmp;
  uint8_t digest[32] = {1, 2, 3};
  REQUIRE(vouch_audit_sth_make(v1, &k_srv, 1000, NULL, NULL, &s1) == VOUCH_OK);
  REQUIRE(vouch_audit_sth_make(v2, &k_srv, 2000, NULL, digest, &s2) == VOUCH_OK);
  CHECK(vouch_audit_sth_make(v1, &k_us1, 1000, NULL, NULL, &tmp) == VOUCH_E_INVALID);
  uint8_t enc[VOUCH_AUDIT_STH_BYTES];
  vouch_audit_sth_encode(&s2, enc);
  REQUIRE(vouch_audit_sth_decode(enc, sizeof enc, &tmp) == VOUCH_OK);
  CHECK(vouch_audit_sth_matches_db(&tmp, v2) == VOUCH_OK);
  CHECK(vouch_audit_sth_matches_db(&tmp, v1) != VOUCH_OK);
  int undetected = 0;
  for (size_t i = 0; i < sizeof enc; i++) {
    enc[i] ^= 0x04;
    if (vouch_audit_sth_decode(enc, sizeof enc, &tmp) == VOUCH_OK)
      undetected++;
    enc[i] ^= 0x04;
  }
  CHECK_EQ_INT(undetected, 0);

  /* The log: v1 then v2 with the consistency proof. */
  vouch_audit_log *log = NULL;
  REQUIRE(vouch_audit_log_create(&log, k_srv.id.pk) == VOUCH_OK);
  uint8_t proof[VOUCH_MERKLE_PROOF_MAX * 32];
  size_t pn;
  CHECK(vouch_audit_log_append(log, &s2, NULL, 0) != VOUCH_OK); /* must start at version 1 */
  REQUIRE(vouch_audit_log_append(log, &s1, NULL, 0) == VOUCH_OK);
  REQUIRE(vouch_audit_db_consistency(v2, s1.tree_size, proof, &pn) == VOUCH_OK);
  proof[5] ^= 1;
  CHECK_EQ_INT(vouch_audit_log_append(log, &s2, proof, pn), VOUCH_E_AUDIT_PROOF);
  proof[5] ^= 1;
  CHECK_EQ_INT(vouch_audit_log_count(log), 1);
  REQUIRE(vouch_audit_log_append(log, &s2, proof, pn) == VOUCH_OK);
  /* A head from another key is refused. */
  vouch_audit_sth rogue;
  REQUIRE(vouch_audit_sth_make(v2, &k_srv2, 3000, NULL, NULL, &rogue) == VOUCH_OK);
  rogue.db_version = 3;
  CHECK(vouch_audit_log_append(log, &rogue, proof, pn) != VOUCH_OK);

  /* Fork: a second, different head for version 2 signed by the same key. */
  s2b = s2;
  s2b.timestamp = 2001;
  {
    /* re-sign: same db, other timestamp */
    REQUIRE(vouch_audit_sth_make(v2, &k_srv, 2001, NULL, NULL, &s2b) == VOUCH_OK);
  }
  CHECK_EQ_INT(vouch_audit_log_append(log, &s2b, proof, pn), VOUCH_E_AUDIT_FORK);
  CHECK_EQ_INT(vouch_audit_log_check_sth(log, &s2), VOUCH_OK);
  CHECK_EQ_INT(vouch_audit_log_check_sth(log, &s2b), VOUCH_E_AUDIT_FORK);
  vouch_audit_log *other = NULL;
  REQUIRE(vouch_audit_log_create(&other, k_srv.id.pk) == VOUCH_OK);
  REQUIRE(vouch_audit_log_append(other, &s1, NULL, 0) == VOUCH_OK);
  REQUIRE(vouch_audit_log_append(other, &s2b, proof, pn) == VOUCH_OK);
  uint64_t fv = 0;
  CHECK_EQ_INT(vouch_audit_log_compare(log, other, &fv), VOUCH_E_AUDIT_FORK);
  CHECK_EQ_INT(fv, 2);

  /* Encode, parse, and tamper with every byte. */
  uint8_t *lb;
  size_t ll;
  REQUIRE(vouch_audit_log_encode(log, &lb, &ll) == VOUCH_OK);
  vouch_audit_log *pl = NULL;
  size_t badrec;
  REQUIRE(vouch_audit_log_parse(&pl, lb, ll, &badrec) == VOUCH_OK);
  CHECK_EQ_INT(vouch_audit_log_count(pl), 2);
  CHECK_EQ_INT(vouch_audit_log_compare(log, pl, NULL), VOUCH_OK);
  vouch_audit_log_free(pl);
  undetected = 0;
  for (size_t i = 0; i < ll; i++) {
    lb[i] ^= 0x20;
    if (vouch_audit_log_parse(&pl, lb, ll, NULL) == VOUCH_OK) {
      undetected++;
      vouch_audit_log_free(pl);
    }
    lb[i] ^= 0x20;
  }
  CHECK_EQ_INT(undetected, 0);
  CHECK(vouch_audit_log_parse(&pl, lb, ll - 1, NULL) != VOUCH_OK);
  /* A log file holding two heads for version 2 (a fork inside one file). */
  uint8_t *forked = malloc(ll + VOUCH_AUDIT_STH_BYTES + 1);
  REQUIRE(forked);
  memcpy(forked, lb, ll);
  vouch_audit_sth_encode(&s2b, forked + ll);
  forked[ll + VOUCH_AUDIT_STH_BYTES] = 0;
  vouch__store64_le(forked + 40, 3);
  CHECK_EQ_INT(vouch_audit_log_parse(&pl, forked, ll + VOUCH_AUDIT_STH_BYTES + 1, &badrec), VOUCH_E_AUDIT_FORK);
  CHECK_EQ_INT(badrec, 2);
  free(forked);
  vouch_free(lb);

  /* Trust: pins, keys, policy. */
  char text[2048];
  char srv[65], gb[65], us1[65], us2[65], fr[65], r1[65];
  CHECK(vouch_hash_to_hex(k_srv.id.pk, 32, srv, sizeof srv) == VOUCH_OK);
  CHECK(vouch_hash_to_hex(k_gb.id.pk, 32, gb, sizeof gb) == VOUCH_OK);
  CHECK(vouch_hash_to_hex(k_us1.id.pk, 32, us1, sizeof us1) == VOUCH_OK);
  CHECK(vouch_hash_to_hex(k_us2.id.pk, 32, us2, sizeof us2) == VOUCH_OK);
  CHECK(vouch_hash_to_hex(k_fr.id.pk, 32, fr, sizeof fr) == VOUCH_OK);
  CHECK(vouch_hash_to_hex(s1.root, 32, r1, sizeof r1) == VOUCH_OK);
  snprintf(text, sizeof text,
           "# pinned\nvouch-trust 1\n\nserver %s\nsource %s US\nsource %s US\nsource\t%s GB\nsource %s FR\n"
           "policy 2 distinct-jurisdictions\nroot 1 %llu %s\n",
           srv, us1, us2, gb, fr, (unsigned long long)s1.tree_size, r1);
  vouch_audit_trust tr;
  size_t bad_line = 0;
  REQUIRE(vouch_audit_trust_parse(text, strlen(text), &tr, &bad_line) == VOUCH_OK);
  CHECK_EQ_INT(tr.nservers, 1);
  CHECK_EQ_INT(tr.nsources, 4);
  CHECK_EQ_INT(tr.npins, 1);
  vouch_audit_report rep;
  CHECK_EQ_INT(vouch_audit_check(&s2, v2, log, &tr, NULL, digest, &rep), VOUCH_OK);
  CHECK_EQ_INT(rep.pins, VOUCH_OK);
  CHECK_EQ_INT(rep.trusted_sources, VOUCH_OK);
  CHECK_EQ_INT(rep.psi_digest, VOUCH_OK);
  /* Without the log, a pin on version 1 cannot be linked to version 2. */
  CHECK_EQ_INT(vouch_audit_check(&s2, v2, NULL, &tr, NULL, NULL, &rep), VOUCH_E_AUDIT_UNTRUSTED);
  CHECK_EQ_INT(rep.pins, VOUCH_E_AUDIT_UNTRUSTED);
  /* The forked head is refused. */
  CHECK(vouch_audit_check(&s2b, v2, log, &tr, NULL, NULL, &rep) != VOUCH_OK);
  CHECK_EQ_INT(rep.log, VOUCH_E_AUDIT_FORK);
  /* Wrong PSI digest; rollback to version 1 once version 2 is pinned. */
  uint8_t other_digest[32] = {9};
  CHECK(vouch_audit_check(&s2, v2, log, &tr, NULL, other_digest, &rep) == VOUCH_E_AUDIT_PROOF);
  tr.pins[0].db_version = 2;
  tr.pins[0].tree_size = s2.tree_size;
  memcpy(tr.pins[0].root, s2.root, 32);
  CHECK_EQ_INT(vouch_audit_check(&s1, v1, log, &tr, NULL, NULL, &rep), VOUCH_E_AUDIT_UNTRUSTED);
  /* An untrusted server key; a policy weaker than pinned. */
  vouch_audit_trust tr2 = tr;
  tr2.npins = 0;
  memset(tr2.servers[0], 0, 32);
  CHECK_EQ_INT(vouch_audit_check(&s2, v2, NULL, &tr2, NULL, NULL, &rep), VOUCH_E_AUDIT_UNTRUSTED);
  tr2 = tr;
  tr2.npins = 0;
  tr2.min_policy.min_sources = 3;
  CHECK_EQ_INT(vouch_audit_check(&s2, v2, NULL, &tr2, NULL, NULL, &rep), VOUCH_E_AUDIT_POLICY);
  /* Roots only (no server key pinned): the log links the pin to the head. */
  tr2 = tr;
  tr2.nservers = 0;
  tr2.pins[0].db_version = 1;
  tr2.pins[0].tree_size = s1.tree_size;
  memcpy(tr2.pins[0].root, s1.root, 32);
  CHECK_EQ_INT(vouch_audit_check(&s2, v2, log, &tr2, NULL, NULL, &rep), VOUCH_OK);
  CHECK_EQ_INT(rep.trusted_server, -1);
  tr2.npins = 0; /* and nothing at all: untrusted */
  CHECK_EQ_INT(vouch_audit_check(&s2, v2, log, &tr2, NULL, NULL, &rep), VOUCH_E_AUDIT_UNTRUSTED);
  /* A source missing from the pinned set. */
  tr2 = tr;
  tr2.npins = 0;
  tr2.nsources = 3; /* drop FR */
  CHECK_EQ_INT(vouch_audit_check(&s2, v2, NULL, &tr2, NULL, NULL, &rep), VOUCH_E_AUDIT_UNTRUSTED);
  CHECK_EQ_INT(rep.trusted_sources, VOUCH_E_AUDIT_UNTRUSTED);

  /* Malformed trust files. */
  const char *bad_trust[] = {"server 00\n", "vouch-trust 2\n", "vouch-trust 1\nserver zz\n",
                             "vouch-trust 1\nsource \n" /* no key */,
                             "vouch-trust 1\npolicy 0 distinct-jurisdictions\n",
                             "vouch-trust 1\nroot 0 1 00\n", "vouch-trust 1\nfrobnicate\n", ""};
  for (size_t i = 0; i < sizeof bad_trust / sizeof bad_trust[0]; i++)
    CHECK(vouch_audit_trust_parse(bad_trust[i], strlen(bad_trust[i]), &tr, NULL) != VOUCH_OK);

  vouch_audit_log_free(log);
  vouch_audit_log_free(other);
  vouch_audit_db_free(v1);
  vouch_audit_db_free(v2);
  free_all(&a, 3);
  free_all(&b, 4);
}

/* vouch_audit_index_write(): the index holds exactly the live set, each
 * entry's source its attestation set (names in source-number order), ext id
 * "leaf:N" of the adding leaf, entry id N + 1; the same table gives the same
 * root; allocation failures leave no file. */
static void test_index_write(void) {
  lists4 a = {0};
  vouch_audit_db *v1 = build_v1(&a);
  REQUIRE(v1);
  char dir[] = "/tmp/vouch-test-audit-XXXXXX", path[64], path2[64];
  REQUIRE(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/a.vidx", dir);
  snprintf(path2, sizeof path2, "%s/b.vidx", dir);
  uint8_t root[32], root2[32];
  char err[128];
  CHECK_EQ_INT(vouch_audit_index_write(v1, path, root, err, sizeof err), VOUCH_OK);
  CHECK_EQ_INT(vouch_audit_index_write(v1, path2, root2, NULL, 0), VOUCH_OK);
  CHECK(memcmp(root, root2, 32) == 0);
  CHECK_EQ_INT(vouch_audit_index_write(NULL, path, root, NULL, 0), VOUCH_E_INVALID);

  /* The names of the sources, by number. */
  char names[4][VOUCH_AUDIT_NAME_MAX + 1];
  size_t ns = vouch_audit_db_nsources(v1);
  REQUIRE(ns == 3);
  for (size_t k = 0; k < ns; k++) {
    vouch_audit_source_record r;
    REQUIRE(vouch_audit_db_source(v1, k, &r) == VOUCH_OK);
    snprintf(names[k], sizeof names[k], "%s", r.source.name);
  }
  vouch_index *idx = NULL;
  REQUIRE(vouch_index_open(&idx, path, NULL) == VOUCH_OK);
  CHECK(memcmp(vouch_index_root(idx), root, 32) == 0);
  CHECK(vouch_index_verify_root(idx) == VOUCH_OK);
  CHECK_EQ_INT(vouch_index_count(idx), 40);
  CHECK_EQ_INT(vouch_index_bank_count(idx), 1);
  CHECK(strcmp(vouch_index_bank_name(idx, 0), "audited") == 0);
  int wrong = 0;
  for (size_t i = 0; i < vouch_index_count(idx); i++) {
    vouch_index_entry e;
    uint64_t leaf;
    vouch_audit_leaf lf;
    if (vouch_index_get(idx, i, &e) != VOUCH_OK || vouch_audit_db_find(v1, e.hash, &leaf) != VOUCH_OK ||
        vouch_audit_db_leaf(v1, leaf, &lf) != VOUCH_OK) {
      wrong++;
      continue;
    }
    char want[4 * (VOUCH_AUDIT_NAME_MAX + 1)] = "", ext[32];
    for (size_t k = 0; k < ns; k++)
      if (lf.sources >> k & 1) {
        if (want[0])
          strcat(want, ",");
        strcat(want, names[k]);
      }
    snprintf(ext, sizeof ext, "leaf:%llu", (unsigned long long)leaf);
    /* 80..99 are in all three lists, 100..119 in US2 and GB only. */
    size_t commas = 0;
    for (size_t c = 0; c < e.src_len; c++)
      commas += e.source[c] == ',';
    wrong += e.entry_id != leaf + 1 || e.bank != 0 || e.ext_len != strlen(ext) ||
             memcmp(e.ext_id, ext, e.ext_len) != 0 || e.src_len != strlen(want) ||
             memcmp(e.source, want, e.src_len) != 0 || (commas != 1 && commas != 2);
  }
  CHECK_EQ_INT(wrong, 0);
  vouch_index_free(idx);

  /* Allocation failures: VOUCH_E_NOMEM and no file, or success. */
  int unexpected = 0;
  for (long k = 0; k < 12; k++) {
    char p3[80];
    snprintf(p3, sizeof p3, "%s/f%ld.vidx", dir, k);
    vouch__test_fail_allocs_after(k);
    int rc = vouch_audit_index_write(v1, p3, root2, NULL, 0);
    vouch__test_fail_allocs_after(-1);
    int exists = access(p3, F_OK) == 0;
    unexpected += rc == VOUCH_OK ? !exists || memcmp(root, root2, 32) != 0 : rc != VOUCH_E_NOMEM || exists;
    remove(p3);
  }
  CHECK_EQ_INT(unexpected, 0);
  remove(path);
  remove(path2);
  rmdir(dir);
  vouch_audit_db_free(v1);
  free_all(&a, 3);
}

static void test_alloc_failures(void) {
  lists4 a = {0};
  vouch_audit_db *v1 = build_v1(&a);
  REQUIRE(v1);
  uint8_t *enc;
  size_t len;
  REQUIRE(vouch_audit_db_encode(v1, &enc, &len) == VOUCH_OK);
  int unexpected = 0;
  for (long k = 0; k < 40; k++) {
    vouch_audit_db *t = NULL;
    vouch_audit_policy pol = VOUCH_AUDIT_POLICY_DEFAULT;
    vouch__test_fail_allocs_after(k);
    int rc1 = vouch_audit_db_build(&t, NULL, a.L, 3, pol);
    vouch__test_fail_allocs_after(-1);
    vouch_audit_db_free(t);
    t = NULL;
    vouch__test_fail_allocs_after(k);
    int rc2 = vouch_audit_db_parse(&t, enc, len);
    vouch__test_fail_allocs_after(-1);
    vouch_audit_db_free(t);
    if ((rc1 != VOUCH_OK && rc1 != VOUCH_E_NOMEM) || (rc2 != VOUCH_OK && rc2 != VOUCH_E_NOMEM))
      unexpected++;
  }
  CHECK_EQ_INT(unexpected, 0);
  vouch_free(enc);
  vouch_audit_db_free(v1);
  free_all(&a, 3);
}

int main(void) {
  if (vouch_init() < 0)
    return 1;
  keys_setup();
  TT_RUN(test_keys);
  TT_RUN(test_lists);
  TT_RUN(test_select);
  TT_RUN(test_db);
  TT_RUN(test_table_rules);
  TT_RUN(test_sth_log_fork);
  TT_RUN(test_index_write);
  TT_RUN(test_alloc_failures);
  vouch_audit_secret_key_wipe(&k_us1);
  vouch_audit_secret_key_wipe(&k_us2);
  vouch_audit_secret_key_wipe(&k_gb);
  vouch_audit_secret_key_wipe(&k_fr);
  vouch_audit_secret_key_wipe(&k_srv);
  vouch_audit_secret_key_wipe(&k_srv2);
  TT_MAIN_END;
}
