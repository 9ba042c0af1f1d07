/* tests/unit/test_psi.c -- the private matching protocol (docs/protocol.md).
 * Known answers for the building blocks (RFC 9380 expand_message_xmd; KDF
 * values computed independently with Python's hashlib.blake2b), protocol
 * properties over many seeds (deterministic ChaCha20 generator), malformed
 * input, allocation failure, and a pinned whole-protocol transcript. */
#include <math.h>
#include <string.h>
#include <sodium.h>
#include "tinytest.h"
#include "psi/psi_internal.h"
#include "vouch/vouch.h"
#include "psi_world.h"

/* Pinned outputs of this implementation (regression goldens; the transcript
 * was re-pinned for wire format version 2, exact scheme, and again when the
 * synthetic coin moved from the generator to a keyed hash of the photo key,
 * when dummy slots became alpha * H(dummy label), and for public data
 * version 3 with the dummy-seed commitment and the blinding proof). */
#define H2G_GOLDEN "2a07670437d57022d1e46245a7c45a6b9e0ff82c2748b5b415d76b08e0a3ec24"
#define TRANSCRIPT_GOLDEN "fa5384c0927ec46f662e46735498430e19758591314e4b5725887de8d3e41298"

static void hex2bin(const char *hex, uint8_t *out, size_t n) {
  size_t bl;
  int rc = sodium_hex2bin(out, n, hex, strlen(hex), NULL, &bl, NULL);
  if (rc != 0 || bl != n) {
    fprintf(stderr, "bad hex in test: %s\n", hex);
    exit(2);
  }
}

/* ------------------------------------------------------------------ KATs */

static void test_xmd_rfc9380(void) {
  /* RFC 9380 appendix K.3, expand_message_xmd(SHA-512). */
  static const char dst[] = "QUUX-V01-CS02-with-expander-SHA512-256";
  static const struct { const char *msg; size_t len; const char *hex; } v[] = {
    {"", 32, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"},
    {"abc", 32, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"},
    {"abc", 128,
     "7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11bdd7732d8b38adb4a0edc26a0cef4bb4"
     "5217135456e58fbca1703cd6032cb1347ee720b87972d63fbf232587043ed2901bce7f22610c0419751c065922b48843"
     "1851041310ad659e4b23520e1772ab29dcdeb2002222a363f0c2b1c972b3efe1"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    uint8_t want[128], got[128];
    hex2bin(v[i].hex, want, v[i].len);
    CHECK_EQ_INT(vouch__expand_message_xmd_sha512(got, v[i].len, (const uint8_t *)v[i].msg,
                                                  strlen(v[i].msg), (const uint8_t *)dst,
                                                  sizeof dst - 1), 0);
    CHECK(memcmp(got, want, v[i].len) == 0);
  }
  uint8_t big[8];
  CHECK_EQ_INT(vouch__expand_message_xmd_sha512(big, 0, NULL, 0, (const uint8_t *)dst, 3), -1);
  CHECK_EQ_INT(vouch__expand_message_xmd_sha512(big, 255 * 64 + 1, NULL, 0, (const uint8_t *)dst, 3), -1);
}

static void test_hash_to_group_kat(void) {
  /* Uniform bytes for msg = 00..1f under our DST, computed with Python's
   * hashlib.sha512 following RFC 9380; then the point pinned (golden). */
  uint8_t msg[32], u[64], want_u[64], p[32], want_p[32], q[32];
  for (int i = 0; i < 32; i++)
    msg[i] = (uint8_t)i;
  static const char dst[] = VOUCH__H2G_DST;
  hex2bin("8b930edaa4f0efb3f3440615847b4fb104dec92be6191ba298b71d3e222c4cb5"
          "8437237867cd4682e27314f3d91f7ed08933f8e464182bd7e9a87c31e25b0332", want_u, 64);
  CHECK_EQ_INT(vouch__expand_message_xmd_sha512(u, 64, msg, 32, (const uint8_t *)dst, sizeof dst - 1), 0);
  CHECK(memcmp(u, want_u, 64) == 0);
  vouch__hash_to_group(p, msg, 32);
  crypto_core_ristretto255_from_hash(q, want_u);
  CHECK(memcmp(p, q, 32) == 0);
  CHECK(crypto_core_ristretto255_is_valid_point(p));
  if (getenv("VOUCH_PRINT_GOLDEN")) {
    char hx[65];
    printf("h2g %s\n", sodium_bin2hex(hx, sizeof hx, p, 32));
  }
  hex2bin(H2G_GOLDEN, want_p, 32);
  CHECK(memcmp(p, want_p, 32) == 0);
}

static void test_kdf_kat(void) {
  /* Expected values: Python hashlib.blake2b(data, digest_size, key, salt=label, person="vouch-psi-v1"). */
  uint8_t in[32], out[32], want[32], key[32];
  for (int i = 0; i < 32; i++)
    in[i] = (uint8_t)i;
  vouch__kdf_part part = {in, 32};
  vouch__kdf(out, 32, "adkey", NULL, 0, &part, 1);
  hex2bin("ade7e224892328c5780aab89edc93fca68acc88e7a00332f0d3b577551d309a1", want, 32);
  CHECK(memcmp(out, want, 32) == 0);
  uint8_t nonce[24] = {0};
  memset(key, 7, 32);
  vouch__kdf_part np = {nonce, 24};
  vouch__kdf(out, 32, "commit", key, 32, &np, 1);
  hex2bin("34eeb8536960f23a0c5dafbdbb5101c0bfc0933f69ea54fb3c6c9a1e304e1926", want, 32);
  CHECK(memcmp(out, want, 32) == 0);
  memset(key, 0, 32);
  vouch__kdf(out, 8, "cuckoo0", key, 32, &part, 1); /* short outputs: prefix of 16 */
  hex2bin("099e71d00fbfd914", want, 8);
  CHECK(memcmp(out, want, 8) == 0);
  uint8_t pdq[32], mk[32];
  hex2bin("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", pdq, 32);
  CHECK_EQ_INT(vouch_psi_match_key(VOUCH_ALGO_PDQ, pdq, 32, mk), VOUCH_OK);
  hex2bin("feead45c43ae947006b31e7f4ead3fe872347f65ec3db0d8430f0c39a609dc9a", want, 32);
  CHECK(memcmp(mk, want, 32) == 0);
  CHECK_EQ_INT(vouch_psi_match_key(VOUCH_ALGO_PDQ, pdq, 0, mk), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_psi_match_key(VOUCH_ALGO_PDQ, pdq, 33, mk), VOUCH_E_INVALID);
}

static void test_gf61(void) {
  vouch__rng r;
  seed_rng(&r, 61, 0);
  const uint64_t p = VOUCH__P61;
  CHECK_EQ_INT(vouch__gf_reduce(p), 0);
  CHECK_EQ_INT(vouch__gf_reduce(p + 5), 5);
  CHECK_EQ_INT(vouch__gf_reduce(UINT64_MAX), (UINT64_MAX % p));
  CHECK_EQ_INT(vouch__gf_mul(p - 1, p - 1), 1);
  for (int i = 0; i < 2000; i++) {
    uint8_t b[16];
    vouch__rng_bytes(&r, b, 16);
    uint64_t a = vouch__load64_le(b) % p, c = vouch__load64_le(b + 8) % p;
    unsigned __int128 prod = (unsigned __int128)a * c;
    CHECK(vouch__gf_mul(a, c) == (uint64_t)(prod % p));
    CHECK(vouch__gf_add(a, c) == (uint64_t)(((unsigned __int128)a + c) % p));
    CHECK(vouch__gf_sub(a, c) == (uint64_t)(((unsigned __int128)a + p - c) % p));
    if (a)
      CHECK(vouch__gf_mul(a, vouch__gf_inv(a)) == 1);
  }
}

static void test_aead_commit(void) {
  uint8_t k[32], k2[32], n[24] = {1}, m[40], c[40 + VOUCH__SEAL_OVERHEAD], d[40];
  memset(k, 3, 32);
  memset(k2, 4, 32);
  for (int i = 0; i < 40; i++)
    m[i] = (uint8_t)i;
  vouch__seal(c, k, n, (const uint8_t *)"ad", 2, m, 40);
  CHECK_EQ_INT(vouch__open(d, k, n, (const uint8_t *)"ad", 2, c, sizeof c), 0);
  CHECK(memcmp(d, m, 40) == 0);
  CHECK_EQ_INT(vouch__open(d, k2, n, (const uint8_t *)"ad", 2, c, sizeof c), -1);
  CHECK_EQ_INT(vouch__open(d, k, n, (const uint8_t *)"aD", 2, c, sizeof c), -1);
  for (size_t i = 0; i < sizeof c; i++) {
    c[i] ^= 0x10;
    CHECK_EQ_INT(vouch__open(d, k, n, (const uint8_t *)"ad", 2, c, sizeof c), -1);
    c[i] ^= 0x10;
  }
}

/* ------------------------------------------------------- protocol worlds */

static void random_hash(vouch__rng *r, uint8_t h[32]) { vouch__rng_bytes(r, h, 32); }

/* A voucher for a database hash (i >= 0), a fresh non-matching hash (i < 0),
 * real or synthetic.  Returns a malloc()ed voucher of w->vlen bytes. */
static uint8_t *make(world *w, long i, int synthetic, vouch_psi_payload *pl_out) {
  vouch_psi_payload pl;
  uint8_t h[32];
  if (i >= 0)
    memcpy(h, w->db[i], 32);
  else
    random_hash(&w->rng, h);
  if (vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h, 32, NULL) != VOUCH_OK)
    return NULL;
  pl.thumb_w = 2;
  pl.thumb_h = 1;
  pl.thumb[0] = h[0];
  pl.thumb[1] = h[1];
  uint8_t *v = malloc(w->vlen);
  int syn = -1;
  if (!v || vouch__voucher_make(w->acct, w->pub, &pl, NULL, 0.0, synthetic, v, w->vlen, &syn, &w->rng) !=
                VOUCH_OK || syn != synthetic) {
    free(v);
    return NULL;
  }
  if (pl_out)
    *pl_out = pl;
  return v;
}

static int add(vouch_psi_server *srv, const uint8_t *v, size_t len, size_t *index) {
  int st = -1;
  size_t idx;
  int rc = vouch_psi_server_add(srv, v, len, &st, &idx);
  if (index)
    *index = idx;
  return rc == VOUCH_OK ? st : -100 - rc;
}

static void test_match_opens_nonmatch_never(void) {
  for (uint32_t seed = 0; seed < 12; seed++) {
    world w;
    REQUIRE(world_init(&w, seed, 40 + seed * 7, 3, 6, 0) == 0);
    vouch_psi_server *srv;
    REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
    for (int k = 0; k < 6; k++) {
      uint8_t *v = make(&w, (long)(k * 5 % w.n), 0, NULL);
      REQUIRE(v);
      CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
      free(v);
      v = make(&w, -1, 0, NULL);
      REQUIRE(v);
      CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_NOT_OPENED);
      free(v);
      v = make(&w, -1, 1, NULL); /* synthetic, for a non-matching photo */
      REQUIRE(v);
      CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
      free(v);
    }
    vouch_psi_summary sum;
    CHECK_EQ_INT(vouch_psi_server_reveal(srv, &sum), VOUCH_OK);
    CHECK_EQ_INT(sum.vouchers, 18);
    CHECK_EQ_INT(sum.opened, 12);
    vouch_psi_server_free(srv);
    world_free(&w);
  }
}

/* r real matches + e synthetic + some non-matching, in a shuffled order. */
static void threshold_case(uint32_t seed, unsigned t, unsigned s, unsigned r, unsigned e) {
  world w;
  REQUIRE(world_init(&w, seed, (r > 3 * t ? r : 3 * t) + 10, t, s, 0) == 0);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  unsigned total = r + e + 5;
  int *kind = calloc(total, sizeof *kind); /* 0 real, 1 synthetic, 2 non-match */
  vouch_psi_payload *pls = calloc(total, sizeof *pls);
  size_t *idx = calloc(total, sizeof *idx);
  REQUIRE(kind && pls && idx);
  for (unsigned i = 0; i < total; i++)
    kind[i] = i < r ? 0 : i < r + e ? 1 : 2;
  for (unsigned i = total; i > 1; i--) { /* shuffle */
    uint8_t b[4];
    vouch__rng_bytes(&w.rng, b, 4);
    unsigned j = vouch__load32_le(b) % i;
    int tmp = kind[i - 1];
    kind[i - 1] = kind[j];
    kind[j] = tmp;
  }
  unsigned next_real = 0;
  for (unsigned i = 0; i < total; i++) {
    long which = kind[i] == 0 ? (long)next_real++ : -1;
    uint8_t *v = make(&w, which, kind[i] == 1, &pls[i]);
    REQUIRE(v);
    int st = add(srv, v, w.vlen, &idx[i]);
    CHECK_EQ_INT(st, kind[i] == 2 ? VOUCH_PSI_NOT_OPENED : VOUCH_PSI_OPENED);
    free(v);
  }
  vouch_psi_summary sum;
  CHECK_EQ_INT(vouch_psi_server_reveal(srv, &sum), VOUCH_OK);
  CHECK_EQ_INT(sum.opened, r + e);
  if (r <= t) {
    CHECK_EQ_INT(sum.threshold_crossed, 0);
    CHECK_EQ_INT(sum.real, 0);
    for (unsigned i = 0; i < total; i++) {
      vouch_psi_payload got;
      CHECK_EQ_INT(vouch_psi_server_payload(srv, idx[i], &got), VOUCH_E_NOT_FOUND);
    }
  } else {
    CHECK_EQ_INT(sum.threshold_crossed, 1);
    CHECK_EQ_INT(sum.real, r);
    CHECK_EQ_INT(sum.synthetic, e);
    for (unsigned i = 0; i < total; i++) {
      vouch_psi_payload got;
      int rc = vouch_psi_server_payload(srv, idx[i], &got);
      if (kind[i] == 0) {
        CHECK_EQ_INT(rc, VOUCH_OK);
        CHECK(rc == VOUCH_OK && memcmp(got.hash, pls[i].hash, 32) == 0 &&
              memcmp(got.match_key, pls[i].match_key, 32) == 0 && got.thumb_w == 2 &&
              got.thumb_h == 1 && got.thumb[1] == pls[i].thumb[1]);
      } else {
        CHECK_EQ_INT(rc, VOUCH_E_NOT_FOUND);
      }
    }
  }
  free(kind);
  free(pls);
  free(idx);
  vouch_psi_server_free(srv);
  world_free(&w);
}

static void test_threshold_small(void) {
  /* t = 4, s = 12: every split of real matches around the threshold, with
   * 0..3t synthetics, over several seeds. */
  for (uint32_t seed = 100; seed < 106; seed++)
    for (unsigned e = 0; e <= 12; e += 4)
      for (unsigned r = 0; r <= 6; r++)
        threshold_case(seed * 31 + e * 7 + r, 4, 12, r, e);
}

static void test_threshold_edges(void) {
  /* t = 1 (DHF polynomials of degree 0) and s = 1 (one synthetic tolerated). */
  for (unsigned r = 0; r <= 3; r++)
    for (unsigned e = 0; e <= 3; e++)
      threshold_case(500 + r * 4 + e, 1, 3, r, e);
  for (unsigned r = 1; r <= 4; r++)
    threshold_case(600 + r, 2, 1, r, 1);
  /* Many more openings than the detection window t+s+1 = 7. */
  threshold_case(700, 3, 3, 40, 3);
  threshold_case(701, 3, 3, 3, 3);
}

static void test_threshold_default_t30(void) {
  /* The default parameters: t = 30, s = 90; 30 real + 90 synthetic reveal
   * nothing; 31 real + 90 synthetic reveal all 31. */
  threshold_case(7, 30, 90, 30, 90);
  threshold_case(8, 30, 90, 31, 90);
  threshold_case(9, 30, 90, 45, 17);
}

static void test_threshold_incremental(void) {
  /* The same server object before and after the (t+1)-th match. */
  world w;
  REQUIRE(world_init(&w, 77, 20, 3, 9, 0) == 0);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  vouch_psi_summary sum;
  for (int i = 0; i < 3; i++) {
    uint8_t *v = make(&w, i, 0, NULL);
    REQUIRE(v);
    CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
    free(v);
    v = make(&w, -1, 1, NULL);
    REQUIRE(v);
    CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
    free(v);
    CHECK_EQ_INT(vouch_psi_server_reveal(srv, &sum), VOUCH_OK);
    CHECK_EQ_INT(sum.threshold_crossed, 0);
  }
  uint8_t *v = make(&w, 3, 0, NULL);
  REQUIRE(v);
  CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
  free(v);
  CHECK_EQ_INT(vouch_psi_server_reveal(srv, &sum), VOUCH_OK);
  CHECK_EQ_INT(sum.threshold_crossed, 1);
  CHECK_EQ_INT(sum.real, 4);
  CHECK_EQ_INT(sum.synthetic, 3);
  vouch_psi_server_free(srv);
  world_free(&w);
}

static void test_replay_counts_once(void) {
  world w;
  REQUIRE(world_init(&w, 5, 20, 2, 4, 0) == 0);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  uint8_t *v = make(&w, 0, 0, NULL), *again = make(&w, 0, 0, NULL), *nm = make(&w, -1, 0, NULL);
  REQUIRE(v && again && nm);
  CHECK(memcmp(v, again, w.vlen) != 0); /* fresh randomness per voucher */
  CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
  CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_DUPLICATE);     /* replay */
  CHECK_EQ_INT(add(srv, again, w.vlen, NULL), VOUCH_PSI_DUPLICATE); /* same photo key */
  CHECK_EQ_INT(add(srv, nm, w.vlen, NULL), VOUCH_PSI_NOT_OPENED);
  CHECK_EQ_INT(add(srv, nm, w.vlen, NULL), VOUCH_PSI_DUPLICATE);
  /* A photo made synthetic twice gives the same share: a repeat opening
   * looks the same whether real or synthetic. */
  uint8_t fixed[32];
  random_hash(&w.rng, fixed);
  uint8_t *s1 = NULL, *s2 = NULL;
  for (int i = 0; i < 2; i++) {
    vouch_psi_payload pl;
    REQUIRE(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, fixed, 32, NULL) == VOUCH_OK);
    uint8_t *sv = malloc(w.vlen);
    REQUIRE(sv);
    REQUIRE(vouch__voucher_make(w.acct, w.pub, &pl, NULL, 0, 1, sv, w.vlen, NULL, &w.rng) == VOUCH_OK);
    if (i == 0)
      s1 = sv;
    else
      s2 = sv;
  }
  CHECK_EQ_INT(add(srv, s1, w.vlen, NULL), VOUCH_PSI_OPENED);
  CHECK_EQ_INT(add(srv, s2, w.vlen, NULL), VOUCH_PSI_DUPLICATE);
  free(s1);
  free(s2);
  /* Three copies of the same two matches never cross t = 2 (with the
   * synthetic above: 3 distinct openings, 2 real). */
  for (int i = 0; i < 3; i++) {
    uint8_t *a = make(&w, 1, 0, NULL);
    REQUIRE(a);
    add(srv, a, w.vlen, NULL);
    free(a);
  }
  vouch_psi_summary sum;
  CHECK_EQ_INT(vouch_psi_server_reveal(srv, &sum), VOUCH_OK);
  CHECK_EQ_INT(sum.opened, 3);
  CHECK_EQ_INT(sum.threshold_crossed, 0);
  free(v);
  free(again);
  free(nm);
  vouch_psi_server_free(srv);
  world_free(&w);
}

static void test_same_length(void) {
  world w;
  REQUIRE(world_init(&w, 9, 30, 30, 90, 0) == 0);
  CHECK_EQ_INT(w.vlen, 4612 + 8 * 90);
  /* The API writes vlen bytes whatever the kind; check every byte is written
   * (no stale data from the buffer) by filling with two patterns. */
  for (int kind = 0; kind < 3; kind++) {
    uint8_t *a = malloc(w.vlen), *b = malloc(w.vlen);
    REQUIRE(a && b);
    vouch_psi_payload pl;
    uint8_t h[32];
    memcpy(h, w.db[0], 32);
    if (kind == 2)
      h[0] ^= 1;
    REQUIRE(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h, 32, NULL) == VOUCH_OK);
    vouch__rng r1, r2;
    seed_rng(&r1, 1234, (uint32_t)kind);
    seed_rng(&r2, 1234, (uint32_t)kind);
    memset(a, 0x00, w.vlen);
    memset(b, 0xff, w.vlen);
    unsigned used;
    vouch_psi_account_params(w.acct, NULL, NULL, &used);
    CHECK_EQ_INT(vouch__voucher_make(w.acct, w.pub, &pl, NULL, 0, kind == 1, a, w.vlen, NULL, &r1), VOUCH_OK);
    /* keep the synthetic budget identical for the second run */
    vouch_psi_account *acct2 = NULL;
    size_t fl = vouch_psi_account_file_bytes(w.acct);
    uint8_t *file = malloc(fl);
    REQUIRE(file);
    CHECK_EQ_INT(vouch_psi_account_save(w.acct, file, fl), VOUCH_OK);
    CHECK_EQ_INT(vouch_psi_account_load(&acct2, file, fl), VOUCH_OK);
    CHECK_EQ_INT(vouch__voucher_make(acct2, w.pub, &pl, NULL, 0, kind == 1, b, w.vlen, NULL, &r2), VOUCH_OK);
    CHECK(memcmp(a, b, w.vlen) == 0);
    CHECK_EQ_INT(vouch_psi_voucher_make(w.acct, w.pub, &pl, NULL, 0.5, a, w.vlen - 1, NULL), VOUCH_E_INVALID);
    CHECK_EQ_INT(vouch_psi_voucher_make(w.acct, w.pub, &pl, NULL, 1.5, a, w.vlen, NULL), VOUCH_E_INVALID);
    vouch_psi_account_free(acct2);
    free(file);
    free(a);
    free(b);
  }
  world_free(&w);
}

/* vouch_psi_voucher_id(): the header's 16 random bytes at offset 48, one per
 * voucher; a short, foreign or version-1 buffer is refused. */
static void test_voucher_id(void) {
  world w;
  REQUIRE(world_init(&w, 9, 30, 30, 90, 0) == 0);
  uint8_t *a = make(&w, 0, 0, NULL), *b = make(&w, 0, 0, NULL);
  REQUIRE(a && b);
  uint8_t ida[VOUCH_PSI_ID_BYTES], idb[VOUCH_PSI_ID_BYTES], keep[VOUCH_PSI_ID_BYTES];
  CHECK_EQ_INT(vouch_psi_voucher_id(a, w.vlen, ida), VOUCH_OK);
  CHECK_EQ_INT(vouch_psi_voucher_id(b, w.vlen, idb), VOUCH_OK);
  CHECK(memcmp(ida, a + 48, VOUCH_PSI_ID_BYTES) == 0);
  CHECK(memcmp(ida, idb, VOUCH_PSI_ID_BYTES) != 0); /* same photo, two vouchers */
  CHECK_EQ_INT(vouch_psi_voucher_id(a, 64, idb), VOUCH_OK); /* the header is enough */
  memcpy(keep, idb, sizeof keep);
  CHECK_EQ_INT(vouch_psi_voucher_id(a, 63, idb), VOUCH_E_PSI_FORMAT);
  CHECK_EQ_INT(vouch_psi_voucher_id(NULL, 0, idb), VOUCH_E_PSI_FORMAT);
  a[0] ^= 1;
  CHECK_EQ_INT(vouch_psi_voucher_id(a, w.vlen, idb), VOUCH_E_PSI_FORMAT);
  a[0] ^= 1;
  a[4] = 1;
  CHECK_EQ_INT(vouch_psi_voucher_id(a, w.vlen, idb), VOUCH_E_PSI_VERSION);
  CHECK(memcmp(keep, idb, sizeof keep) == 0); /* untouched on error */
  free(a);
  free(b);
  world_free(&w);
}

/* A payload for distinct photo number i (not in any test database). */
static void photo_payload(vouch_psi_payload *pl, uint32_t i) {
  uint8_t h[32];
  memset(h, 0xa5, sizeof h);
  h[0] = (uint8_t)i;
  h[1] = (uint8_t)(i >> 8);
  h[2] = (uint8_t)(i >> 16);
  REQUIRE(vouch_psi_payload_init(pl, VOUCH_ALGO_PDQ, h, 32, NULL) == VOUCH_OK);
}

static void test_synthetic_rate_and_budget(void) {
  world w;
  REQUIRE(world_init(&w, 21, 10, 2, 5, 0) == 0);
  uint8_t *v = malloc(w.vlen);
  REQUIRE(v);
  vouch_psi_payload pl;
  int nsyn = 0, syn;
  for (int i = 0; i < 40; i++) {
    photo_payload(&pl, (uint32_t)i);
    CHECK_EQ_INT(vouch__voucher_make(w.acct, w.pub, &pl, NULL, 1.0, -1, v, w.vlen, &syn, &w.rng), VOUCH_OK);
    nsyn += syn;
  }
  CHECK_EQ_INT(nsyn, 5); /* rate 1, budget s = 5 */
  unsigned used;
  vouch_psi_account_params(w.acct, NULL, NULL, &used);
  CHECK_EQ_INT(used, 5);
  CHECK_EQ_INT(vouch_psi_account_made(w.acct), 40);
  world_free(&w);
  free(v);
  REQUIRE(world_init(&w, 22, 10, 2, 1000, 0) == 0);
  v = malloc(w.vlen);
  REQUIRE(v);
  /* The coin depends on the photo: 400 distinct photos at rate 1/4. */
  nsyn = 0;
  int first[400];
  for (int i = 0; i < 400; i++) {
    photo_payload(&pl, (uint32_t)i);
    CHECK_EQ_INT(vouch__voucher_make(w.acct, w.pub, &pl, NULL, 0.25, -1, v, w.vlen, &syn, &w.rng), VOUCH_OK);
    first[i] = syn;
    nsyn += syn;
  }
  CHECK(nsyn > 60 && nsyn < 140); /* Binomial(400, 1/4): mean 100, sd 8.7 */
  /* Re-uploads of the same photos (another generator, as on another device)
   * decide exactly as before at the same rate. */
  vouch__rng other;
  seed_rng(&other, 777, 1);
  int same = 1;
  for (int i = 0; i < 400; i++) {
    photo_payload(&pl, (uint32_t)i);
    CHECK_EQ_INT(vouch__voucher_make(w.acct, w.pub, &pl, NULL, 0.25, -1, v, w.vlen, &syn, &other), VOUCH_OK);
    same &= syn == first[i];
  }
  CHECK(same);
  vouch__rng_wipe(&other);
  nsyn = 0;
  for (int i = 0; i < 50; i++) {
    photo_payload(&pl, (uint32_t)i);
    CHECK_EQ_INT(vouch__voucher_make(w.acct, w.pub, &pl, NULL, 0.0, -1, v, w.vlen, &syn, &w.rng), VOUCH_OK);
    nsyn += syn;
  }
  CHECK_EQ_INT(nsyn, 0);
  free(v);
  world_free(&w);
}

/* The calibrated default: the schedule's values, and the count it gives on a
 * fresh account (t = 10: expected sum over 200 photos 9.09, sd about 2.4). */
static void test_synthetic_default(void) {
  CHECK(vouch_psi_synthetic_rate(30, 0, 1.0) == 0.5);
  CHECK(fabs(vouch_psi_synthetic_rate(30, 60, 1.0) - 1800.0 / 14400.0) < 1e-15);
  CHECK(vouch_psi_synthetic_rate(30, 0, 4.0) == 1.0);
  CHECK(vouch_psi_synthetic_rate(30, 5, 0.0) == 0.0);
  CHECK(vouch_psi_synthetic_rate(0, 5, 1.0) == 0.0);
  double sum = 0;
  for (uint64_t n = 0; n < 1000000; n += 1)
    sum += vouch_psi_synthetic_rate(30, n, 1.0);
  sum += 1800.0 / (1000000.0 + 60.0 - 0.5); /* the tail, within 1e-9 */
  CHECK(sum > 30.0 && sum < 30.3); /* 2t^2 (1/(2t) + 1/(2(2t)^2) + ...) = t + 1/4 */
  world w;
  REQUIRE(world_init(&w, 23, 10, 10, 30, 0) == 0);
  uint8_t *v = malloc(w.vlen);
  REQUIRE(v);
  vouch_psi_payload pl;
  int nsyn = 0, syn;
  for (int i = 0; i < 200; i++) {
    photo_payload(&pl, (uint32_t)i);
    CHECK_EQ_INT(vouch_psi_voucher_make(w.acct, w.pub, &pl, NULL, VOUCH_PSI_SYNTHETIC_AUTO, v, w.vlen,
                                        &syn), VOUCH_OK);
    nsyn += syn;
  }
  CHECK(nsyn >= 2 && nsyn <= 20);
  CHECK_EQ_INT(vouch_psi_account_made(w.acct), 200);
  /* the count survives a save and load */
  size_t fl = vouch_psi_account_file_bytes(w.acct);
  uint8_t *file = malloc(fl);
  REQUIRE(file);
  CHECK_EQ_INT(vouch_psi_account_save(w.acct, file, fl), VOUCH_OK);
  vouch_psi_account *a2 = NULL;
  CHECK_EQ_INT(vouch_psi_account_load(&a2, file, fl), VOUCH_OK);
  CHECK_EQ_INT(vouch_psi_account_made(a2), 200);
  vouch_psi_account_free(a2);
  /* a version-1 file (no count) still loads, with count 0; a version-1 file
   * with a count field is malformed */
  vouch__kdf_part part = {file, fl - 16};
  file[8] = 1;
  vouch__kdf(file + fl - 16, 16, "acct-sum", NULL, 0, &part, 1);
  CHECK_EQ_INT(vouch_psi_account_load(&a2, file, fl), VOUCH_E_PSI_FORMAT);
  memset(file + 20, 0, 4);
  vouch__kdf(file + fl - 16, 16, "acct-sum", NULL, 0, &part, 1);
  CHECK_EQ_INT(vouch_psi_account_load(&a2, file, fl), VOUCH_OK);
  CHECK_EQ_INT(vouch_psi_account_made(a2), 0);
  vouch_psi_account_free(a2);
  CHECK_EQ_INT(vouch_psi_voucher_make(w.acct, w.pub, &pl, NULL, -0.5, v, w.vlen, NULL), VOUCH_E_INVALID);
  free(file);
  free(v);
  world_free(&w);
}

static void test_bitflips_rejected(void) {
  world w;
  REQUIRE(world_init(&w, 31, 16, 2, 3, 0) == 0);
  for (int kind = 0; kind < 2; kind++) { /* a real match, a synthetic */
    uint8_t *v = make(&w, 2, kind, NULL);
    REQUIRE(v);
    vouch_psi_server *srv;
    REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
    int opened_wrongly = 0;
    for (size_t byte = 0; byte < w.vlen; byte++) {
      uint8_t bit = (uint8_t)(1u << (byte * 7 % 8));
      v[byte] ^= bit;
      int st = add(srv, v, w.vlen, NULL);
      if (st == VOUCH_PSI_OPENED)
        opened_wrongly++;
      v[byte] ^= bit;
    }
    CHECK_EQ_INT(opened_wrongly, 0);
    /* truncated and extended */
    CHECK_EQ_INT(add(srv, v, w.vlen - 1, NULL), -100 - VOUCH_E_PSI_FORMAT);
    CHECK_EQ_INT(add(srv, v, 10, NULL), -100 - VOUCH_E_PSI_FORMAT);
    /* the untouched voucher still opens */
    CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
    vouch_psi_server_free(srv);
    free(v);
  }
  world_free(&w);
}

static void test_inner_forgery_is_auth_error(void) {
  world w;
  REQUIRE(world_init(&w, 33, 16, 2, 3, 0) == 0);
  uint8_t *v = make(&w, 1, 0, NULL);
  REQUIRE(v);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  v[w.vlen - 20] ^= 1;
  CHECK_EQ_INT(add(srv, v, w.vlen, NULL), -100 - VOUCH_E_PSI_AUTH);
  v[w.vlen - 20] ^= 1;
  CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
  vouch_psi_server_free(srv);
  free(v);
  world_free(&w);
}

static void test_wrong_server_key(void) {
  for (uint32_t seed = 40; seed < 44; seed++) {
    world w;
    REQUIRE(world_init(&w, seed, 12, 2, 6, 0) == 0);
    vouch_psi_server_key *other;
    REQUIRE(vouch__server_key_generate(&other, &w.rng) == VOUCH_OK);
    vouch_psi_server *srv;
    /* The server refuses public data made with another key... */
    CHECK_EQ_INT(vouch_psi_server_create(&srv, other, w.pd, w.pd_len), VOUCH_E_PSI_PARAMS);
    /* ...and with the check bypassed (the key object swapped under a
     * server that holds a pointer to it), the wrong alpha opens nothing. */
    REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
    uint8_t saved[32];
    memcpy(saved, w.skey->alpha, 32);
    memcpy(w.skey->alpha, other->alpha, 32);
    for (int i = 0; i < 8; i++) {
      uint8_t *v = make(&w, i, i % 2, NULL);
      REQUIRE(v);
      CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_NOT_OPENED);
      free(v);
    }
    vouch_psi_summary sum;
    CHECK_EQ_INT(vouch_psi_server_reveal(srv, &sum), VOUCH_OK);
    CHECK_EQ_INT(sum.opened, 0);
    CHECK_EQ_INT(sum.threshold_crossed, 0);
    memcpy(w.skey->alpha, saved, 32);
    vouch_psi_server_free(srv);
    vouch_psi_server_key_free(other);
    world_free(&w);
  }
}

static void test_foreign_vouchers(void) {
  /* Vouchers for other public data, or another account, are refused. */
  world a, b;
  REQUIRE(world_init(&a, 50, 12, 2, 6, 0) == 0);
  REQUIRE(world_init(&b, 51, 12, 2, 6, 0) == 0);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, a.skey, a.pd, a.pd_len) == VOUCH_OK);
  uint8_t *vb = make(&b, 0, 0, NULL), *va = make(&a, 0, 0, NULL);
  REQUIRE(va && vb);
  CHECK_EQ_INT(add(srv, vb, b.vlen, NULL), -100 - VOUCH_E_PSI_FORMAT);
  CHECK_EQ_INT(add(srv, va, a.vlen, NULL), VOUCH_PSI_OPENED);
  /* account b on public data a: a different account for this server object */
  vouch_psi_account *save = b.acct;
  uint8_t *vab = make(&(world){.skey = a.skey, .pd = a.pd, .pd_len = a.pd_len, .pub = a.pub,
                               .acct = save, .db = a.db, .n = a.n, .rng = a.rng, .vlen = a.vlen},
                      1, 0, NULL);
  REQUIRE(vab);
  CHECK_EQ_INT(add(srv, vab, a.vlen, NULL), -100 - VOUCH_E_PSI_PARAMS);
  free(va);
  free(vb);
  free(vab);
  vouch_psi_server_free(srv);
  world_free(&a);
  world_free(&b);
}

static void test_public_validation(void) {
  world w;
  REQUIRE(world_init(&w, 60, 30, 2, 3, 0) == 0);
  vouch_psi_public *pd = NULL;
  uint8_t signer[32], other[32] = {0};
  vouch_psi_server_key_signer(w.skey, signer);
  CHECK_EQ_INT(vouch_psi_public_open(&pd, w.pd, w.pd_len, signer), VOUCH_OK);
  vouch_psi_public_free(pd);
  CHECK_EQ_INT(vouch_psi_public_open(&pd, w.pd, w.pd_len, other), VOUCH_E_PSI_AUTH);
  CHECK(pd == NULL);
  uint8_t *c = malloc(w.pd_len);
  REQUIRE(c);
  /* every byte flipped: rejected */
  int accepted = 0;
  for (size_t i = 0; i < w.pd_len; i += 3) {
    memcpy(c, w.pd, w.pd_len);
    c[i] ^= 0x01;
    if (vouch_psi_public_open(&pd, c, w.pd_len, NULL) == VOUCH_OK) {
      accepted++;
      vouch_psi_public_free(pd);
    }
  }
  CHECK_EQ_INT(accepted, 0);
  CHECK(vouch_psi_public_open(&pd, w.pd, w.pd_len - 1, NULL) != VOUCH_OK);
  CHECK(vouch_psi_public_open(&pd, w.pd, 100, NULL) != VOUCH_OK);
  /* correctly signed but with a duplicate point, the identity, L in the table */
  size_t m = 0;
  vouch_psi_public_info(w.pub, &m, NULL, NULL);
  const size_t tab = VOUCH__PD_HEADER, siglen = w.pd_len - 64;
  for (int bad = 0; bad < 4; bad++) {
    memcpy(c, w.pd, w.pd_len);
    if (bad == 0)
      memcpy(c + tab + 32 * 5, c + tab + 32 * 9, 32);
    else if (bad == 1)
      memset(c + tab + 32 * 3, 0, 32);
    else if (bad == 2)
      memcpy(c + tab + 32 * 7, c + 48, 32);
    else
      memset(c + tab + 32 * 2, 0xff, 32); /* not a valid encoding */
    crypto_sign_ed25519_detached(c + siglen, NULL, c, siglen, w.skey->sign_sk);
    CHECK_EQ_INT(vouch_psi_public_open(&pd, c, w.pd_len, NULL), VOUCH_E_PSI_FORMAT);
  }
  free(c);
  world_free(&w);
}

static void test_keys_roundtrip(void) {
  world w;
  REQUIRE(world_init(&w, 70, 12, 3, 7, 0) == 0);
  uint8_t kf[VOUCH_PSI_SERVER_KEY_FILE_BYTES];
  vouch_psi_server_key *k2;
  CHECK_EQ_INT(vouch_psi_server_key_save(w.skey, kf, sizeof kf), VOUCH_OK);
  CHECK_EQ_INT(vouch_psi_server_key_load(&k2, kf, sizeof kf), VOUCH_OK);
  for (size_t i = 0; i < sizeof kf; i++) {
    vouch_psi_server_key *k3 = NULL;
    kf[i] ^= 4;
    CHECK(vouch_psi_server_key_load(&k3, kf, sizeof kf) == VOUCH_E_PSI_FORMAT && k3 == NULL);
    kf[i] ^= 4;
  }
  size_t fl = vouch_psi_account_file_bytes(w.acct);
  uint8_t *af = malloc(fl);
  REQUIRE(af);
  CHECK_EQ_INT(vouch_psi_account_save(w.acct, af, fl), VOUCH_OK);
  vouch_psi_account *a2;
  CHECK_EQ_INT(vouch_psi_account_load(&a2, af, fl), VOUCH_OK);
  int rejected = 0;
  for (size_t i = 0; i < fl; i += 5) {
    vouch_psi_account *a3 = NULL;
    af[i] ^= 0x20;
    rejected += vouch_psi_account_load(&a3, af, fl) == VOUCH_E_PSI_FORMAT;
    vouch_psi_account_free(a3);
    af[i] ^= 0x20;
  }
  CHECK_EQ_INT(rejected, (int)((fl + 4) / 5));
  uint8_t s1[32], s2[32];
  vouch__account_secret(w.acct, s1);
  vouch__account_secret(a2, s2);
  CHECK(memcmp(s1, s2, 32) == 0);
  /* Vouchers from the reloaded account (and reloaded server key) combine. */
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, k2, w.pd, w.pd_len) == VOUCH_OK);
  for (int i = 0; i < 4; i++) {
    world tmp = w;
    tmp.acct = i % 2 ? a2 : w.acct;
    uint8_t *v = make(&tmp, i, 0, NULL);
    w.rng = tmp.rng;
    REQUIRE(v);
    CHECK_EQ_INT(add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
    free(v);
  }
  vouch_psi_summary sum;
  CHECK_EQ_INT(vouch_psi_server_reveal(srv, &sum), VOUCH_OK);
  CHECK_EQ_INT(sum.threshold_crossed, 1);
  CHECK_EQ_INT(sum.real, 4);
  vouch_psi_server_free(srv);
  vouch_psi_account_free(a2);
  vouch_psi_server_key_free(k2);
  free(af);
  world_free(&w);
}

static void test_thumbnail(void) {
  vouch_image img = {0};
  img.width = 200;
  img.height = 100;
  img.channels = 3;
  img.stride = 600;
  img.pixels = malloc(600 * 100);
  REQUIRE(img.pixels);
  for (uint32_t y = 0; y < 100; y++)
    for (uint32_t x = 0; x < 200; x++) {
      uint8_t *p = img.pixels + y * 600 + 3 * x;
      p[0] = p[1] = p[2] = (uint8_t)(x < 100 ? 0 : 255);
    }
  vouch_psi_payload pl;
  uint8_t h[32] = {1};
  CHECK_EQ_INT(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h, 32, &img), VOUCH_OK);
  CHECK_EQ_INT(pl.thumb_w, 64);
  CHECK_EQ_INT(pl.thumb_h, 32);
  CHECK_EQ_INT(pl.thumb[0], 0);
  CHECK_EQ_INT(pl.thumb[63], 255);
  CHECK_EQ_INT(pl.thumb[31 * 64 + 63], 255);
  img.width = 3; /* small images are not upscaled */
  img.height = 2;
  CHECK_EQ_INT(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h, 32, &img), VOUCH_OK);
  CHECK_EQ_INT(pl.thumb_w, 3);
  CHECK_EQ_INT(pl.thumb_h, 2);
  img.channels = 2;
  CHECK_EQ_INT(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h, 32, &img), VOUCH_E_INVALID);
  free(img.pixels);
}

static void test_alloc_failures(void) {
  world w;
  REQUIRE(world_init(&w, 80, 25, 2, 4, 0) == 0);
  uint8_t *keys = calloc(25, 32);
  REQUIRE(keys);
  for (long k = 0; k < 40; k++) {
    uint8_t *pd = NULL;
    size_t len;
    vouch__test_fail_allocs_after(k);
    int rc = vouch__setup(w.skey, keys, 25, NULL, &pd, &len, NULL, &w.rng);
    vouch__test_fail_allocs_after(-1);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
    vouch_free(pd);
  }
  vouch_psi_payload pl;
  REQUIRE(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, w.db[0], 32, NULL) == VOUCH_OK);
  uint8_t *v = malloc(w.vlen);
  REQUIRE(v);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  for (long k = 0; k < 12; k++) {
    vouch__test_fail_allocs_after(k);
    int rc = vouch__voucher_make(w.acct, w.pub, &pl, NULL, 0, 0, v, w.vlen, NULL, &w.rng);
    vouch__test_fail_allocs_after(-1);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
    if (rc == VOUCH_OK) {
      int st;
      size_t idx;
      vouch__test_fail_allocs_after(k);
      rc = vouch_psi_server_add(srv, v, w.vlen, &st, &idx);
      vouch__test_fail_allocs_after(-1);
      CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
    }
  }
  vouch_psi_server_free(srv);
  free(v);
  free(keys);
  world_free(&w);
}

/* Fixed seeds, fixed inputs: BLAKE2b over the public data, every voucher
 * and the server's summary.  Any change to a format, the KDF labels, the
 * order of random draws or the maths changes this value; update it only
 * with a format version change. */
static void test_transcript_golden(void) {
  world w;
  REQUIRE(world_init(&w, 2021, 24, 3, 9, 0) == 0);
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, NULL, 0, 32);
  crypto_generichash_blake2b_update(&st, w.pd, w.pd_len);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  const long plan[][2] = {{0, 0}, {-1, 1}, {1, 0}, {-1, 0}, {2, 0}, {-1, 1}, {3, 0}, {-1, 0}};
  for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
    uint8_t *v = make(&w, plan[i][0], (int)plan[i][1], NULL);
    REQUIRE(v);
    crypto_generichash_blake2b_update(&st, v, w.vlen);
    add(srv, v, w.vlen, NULL);
    free(v);
  }
  vouch_psi_summary sum;
  CHECK_EQ_INT(vouch_psi_server_reveal(srv, &sum), VOUCH_OK);
  uint8_t s8[5] = {(uint8_t)sum.vouchers, (uint8_t)sum.opened, (uint8_t)sum.threshold_crossed,
                   (uint8_t)sum.real, (uint8_t)sum.synthetic};
  CHECK_EQ_INT(sum.opened, 6);
  CHECK_EQ_INT(sum.real, 4);
  crypto_generichash_blake2b_update(&st, s8, 5);
  uint8_t digest[32];
  char hex[65];
  crypto_generichash_blake2b_final(&st, digest, 32);
  sodium_bin2hex(hex, sizeof hex, digest, 32);
  if (getenv("VOUCH_PRINT_GOLDEN"))
    printf("transcript %s\n", hex);
  CHECK_EQ_STR(hex, TRANSCRIPT_GOLDEN);
  vouch_psi_server_free(srv);
  world_free(&w);
}

int main(void) {
  if (vouch_init() < 0)
    return 1;
  TT_RUN(test_xmd_rfc9380);
  TT_RUN(test_voucher_id);
  TT_RUN(test_hash_to_group_kat);
  TT_RUN(test_kdf_kat);
  TT_RUN(test_gf61);
  TT_RUN(test_aead_commit);
  TT_RUN(test_match_opens_nonmatch_never);
  TT_RUN(test_threshold_small);
  TT_RUN(test_threshold_edges);
  TT_RUN(test_threshold_default_t30);
  TT_RUN(test_threshold_incremental);
  TT_RUN(test_replay_counts_once);
  TT_RUN(test_same_length);
  TT_RUN(test_synthetic_rate_and_budget);
  TT_RUN(test_synthetic_default);
  TT_RUN(test_bitflips_rejected);
  TT_RUN(test_inner_forgery_is_auth_error);
  TT_RUN(test_wrong_server_key);
  TT_RUN(test_foreign_vouchers);
  TT_RUN(test_public_validation);
  TT_RUN(test_keys_roundtrip);
  TT_RUN(test_thumbnail);
  TT_RUN(test_alloc_failures);
  TT_RUN(test_transcript_golden);
  TT_MAIN_END;
}
