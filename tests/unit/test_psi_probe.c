/* tests/unit/test_psi_probe.c -- band keys and probes (docs/protocol.md
 * sections 4 and 6): the band's positions and key (a known answer computed
 * independently with Python's hashlib.blake2b), the probe enumeration
 * against brute force, and protocol properties over many seeds: a photo
 * whose band differs from a database entry in cheap bits opens exactly one
 * slot, unrelated photos open none, the threshold counts vouchers (not
 * slots), the opening position is uniform, synthetic vouchers open exactly
 * one slot, modified vouchers never open, version-1 data is refused, the
 * post-reveal check separates collisions; and an edited photo (resized by
 * half) is found end to end through the hasher's margins. */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include "tinytest.h"
#include "psi/psi_internal.h"
#include "vouch/vouch.h"
#include "psi_world.h"

/* ------------------------------------------------------------- band key */

static void test_band_positions(void) {
  unsigned pos[VOUCH_PSI_BAND_MAX];
  REQUIRE(vouch_psi_band_positions(VOUCH_PSI_BAND_MAX, pos) == VOUCH_OK);
  CHECK_EQ_INT(pos[0], 0);
  CHECK_EQ_INT(pos[1], 1);  /* (i, j) = (0, 1) */
  CHECK_EQ_INT(pos[2], 16); /* (1, 0) */
  /* The first 45 are exactly i + j <= 8, then (0,9), (1,8), (2,7). */
  int in45 = 0;
  for (unsigned r = 0; r < 45; r++)
    in45 += pos[r] / 16 + pos[r] % 16 <= 8;
  CHECK_EQ_INT(in45, 45);
  CHECK_EQ_INT(pos[45], 9);
  CHECK_EQ_INT(pos[46], 24);
  CHECK_EQ_INT(pos[47], 39);
  for (unsigned r = 0; r < VOUCH_PSI_BAND_MAX; r++)
    for (unsigned q = 0; q < r; q++)
      CHECK(pos[q] != pos[r]);
  CHECK_EQ_INT(vouch_psi_band_positions(VOUCH_PSI_BAND_MAX + 1, pos), VOUCH_E_INVALID);
}

/* Known answer: hash bytes 0, 1, ..., 31, b = 48, computed with Python's
 * hashlib.blake2b(algo||b||6 band bytes, digest_size=32, salt="bkey",
 * person="vouch-psi-v1") from the band positions above. */
#define BAND_KEY_KAT "a6e3acf8b33bb23dab376f3dd3a61ac15f7369c09531fd03b9158601d3e4901c"

static void test_band_key(void) {
  uint8_t h[32], k[32], k2[32], e[32];
  char hex[65];
  for (int i = 0; i < 32; i++)
    h[i] = (uint8_t)i;
  REQUIRE(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 48, k) == VOUCH_OK);
  sodium_bin2hex(hex, sizeof hex, k, 32);
  CHECK_EQ_STR(hex, BAND_KEY_KAT);
  /* Bits outside the band do not change it; a band bit does. */
  world_flip(h, 255);
  world_flip(h, 200);
  REQUIRE(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 48, k2) == VOUCH_OK);
  CHECK(memcmp(k, k2, 32) == 0);
  world_flip(h, 39); /* band position 47 */
  REQUIRE(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 48, k2) == VOUCH_OK);
  CHECK(memcmp(k, k2, 32) != 0);
  REQUIRE(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 47, k) == VOUCH_OK); /* b is in the key */
  CHECK(memcmp(k, k2, 32) != 0);
  /* Domain separation from the exact key, and argument checks. */
  REQUIRE(vouch_psi_entry_key(VOUCH_PSI_SCHEME_EXACT, 0, VOUCH_ALGO_PDQ, h, 32, e) == VOUCH_OK);
  REQUIRE(vouch_psi_entry_key(VOUCH_PSI_SCHEME_BAND, 48, VOUCH_ALGO_PDQ, h, 32, k) == VOUCH_OK);
  CHECK(memcmp(k, k2, 32) == 0 && memcmp(e, k, 32) != 0);
  CHECK_EQ_INT(vouch_psi_band_key(VOUCH_ALGO_PHASH, h, 8, 48, k), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 15, k), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 65, k), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_psi_entry_key(7, 48, VOUCH_ALGO_PDQ, h, 32, k), VOUCH_E_INVALID);
}

/* ------------------------------------------------------------ probes */

static uint64_t qz(float m) { /* the quantisation of docs/protocol.md section 4 */
  float s = m * 16.0f;
  return s >= 1048575.0f ? 1048575U : (uint64_t)floorf(s);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Against brute force over all 2^16 flip sets of a 16-bit band: the P
 * probes are distinct, start with no flip, have non-decreasing cost, and
 * their costs are the P smallest of all subsets. */
static void test_probe_enumeration_brute_force(void) {
  const unsigned b = 16, P = 300;
  unsigned pos[16];
  REQUIRE(vouch_psi_band_positions(b, pos) == VOUCH_OK);
  uint64_t *all = malloc(sizeof(uint64_t) << 16), flips[300];
  REQUIRE(all);
  for (uint32_t seed = 0; seed < 40; seed++) {
    vouch__rng r;
    seed_rng(&r, seed, 7);
    float margin[VOUCH_PDQ_BITS];
    uint8_t rb[VOUCH_PDQ_BITS * 2];
    vouch__rng_bytes(&r, rb, sizeof rb);
    for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++) /* many ties when seed is odd */
      margin[k] = (seed & 1) ? (float)(rb[2 * k] % 5) : (float)(rb[2 * k] | rb[2 * k + 1] << 8) / 64.0f;
    REQUIRE(vouch__probe_flips(margin, b, P, flips) == VOUCH_OK);
    uint64_t q[16], cost[300];
    for (unsigned i = 0; i < b; i++)
      q[i] = qz(margin[pos[i]]);
    for (uint32_t s = 0; s < (1u << b); s++) {
      uint64_t c = 0;
      for (unsigned i = 0; i < b; i++)
        c += ((s >> i) & 1) ? q[i] : 0;
      all[s] = c;
    }
    qsort(all, (size_t)1 << b, sizeof *all, cmp_u64);
    CHECK(flips[0] == 0);
    int distinct = 1, sorted = 1, in_band = 1;
    for (unsigned p = 0; p < P; p++) {
      cost[p] = 0;
      for (unsigned i = 0; i < b; i++)
        cost[p] += ((flips[p] >> i) & 1) ? q[i] : 0;
      in_band &= flips[p] >> b == 0;
      if (p > 0)
        sorted &= cost[p] >= cost[p - 1];
      for (unsigned o = 0; o < p; o++)
        distinct &= flips[o] != flips[p];
    }
    CHECK(distinct && sorted && in_band);
    CHECK(memcmp(cost, all, sizeof cost) == 0);
  }
  free(all);
  /* NULL margins: all costs equal, so the insertion order decides:
   * {}, {0}, {0,1}, {1}, {0,1,2}, {0,2}, ... */
  REQUIRE(vouch__probe_flips(NULL, 48, 6, flips) == VOUCH_OK);
  CHECK(flips[0] == 0 && flips[1] == 1 && flips[2] == 3 && flips[3] == 2 && flips[4] == 7 &&
        flips[5] == 5);
  CHECK_EQ_INT(vouch__probe_flips(NULL, 48, 0, flips), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch__probe_flips(NULL, 48, VOUCH_PSI_PROBES_MAX + 1, flips), VOUCH_E_INVALID);
}

static void test_probe_keys(void) {
  uint8_t h[32] = {0x5a, 0x11}, keys[32 * 8], bk[32];
  uint64_t fl[8];
  float margin[VOUCH_PDQ_BITS];
  unsigned pos[48];
  REQUIRE(vouch_psi_band_positions(48, pos) == VOUCH_OK);
  for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++)
    margin[k] = 50.0f + (float)k;
  margin[pos[30]] = 0.5f; /* the cheapest bit */
  REQUIRE(vouch_psi_probe_keys(VOUCH_ALGO_PDQ, h, 32, margin, 48, 8, keys, fl) == VOUCH_OK);
  REQUIRE(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 48, bk) == VOUCH_OK);
  CHECK(memcmp(keys, bk, 32) == 0); /* probe 0: the band key itself */
  CHECK(fl[1] == (uint64_t)1 << 30);
  world_flip(h, pos[30]);
  REQUIRE(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 48, bk) == VOUCH_OK);
  CHECK(memcmp(keys + 32, bk, 32) == 0); /* probe 1 flips it */
  /* vouch eval's rank: the flipped copy finds the original at rank 1, itself at 0. */
  uint8_t orig[32] = {0x5a, 0x11};
  int32_t rank = -5;
  REQUIRE(vouch_eval_probe_rank(orig, h, margin, NULL, 48, 8, keys, &rank) == VOUCH_OK);
  CHECK_EQ_INT(rank, 1);
  REQUIRE(vouch_eval_probe_rank(h, h, margin, NULL, 48, 8, keys, &rank) == VOUCH_OK);
  CHECK_EQ_INT(rank, 0);
  world_flip(orig, pos[47]); /* an expensive bit: beyond 8 probes */
  REQUIRE(vouch_eval_probe_rank(orig, h, margin, NULL, 48, 8, keys, &rank) == VOUCH_OK);
  CHECK_EQ_INT(rank, -1);
  CHECK_EQ_INT(vouch_psi_probe_keys(VOUCH_ALGO_PDQ, h, 31, margin, 48, 8, keys, NULL), VOUCH_E_INVALID);
}

/* ---------------------------------------------------------- the world */

/* A voucher for database entry e (e < 0: a fresh random hash) with the band
 * bits of ranks `nflip` cheapest flipped, or, with `expensive`, the most
 * expensive band bit flipped instead.  Margins: random, the flipped bits
 * made cheap.  *hash_out (may be NULL) gets the photo's hash. */
static uint8_t *make(world *w, long e, unsigned nflip, int expensive, int synthetic,
                     uint8_t hash_out[32]) {
  unsigned pos[48];
  uint8_t h[32], rb[VOUCH_PDQ_BITS];
  float margin[VOUCH_PDQ_BITS];
  if (vouch_psi_band_positions(48, pos) != VOUCH_OK)
    return NULL;
  vouch__rng_bytes(&w->rng, rb, sizeof rb);
  for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++)
    margin[k] = 10.0f + (float)rb[k];
  if (e >= 0)
    memcpy(h, w->db[e], 32);
  else
    vouch__rng_bytes(&w->rng, h, 32);
  /* Make band positions r0 < r1 < ... the cheapest, then flip the first nflip. */
  unsigned r0 = rb[0] % 40;
  for (unsigned i = 0; i < nflip; i++) {
    margin[pos[r0 + 2 * i]] = 1.0f + (float)i;
    world_flip(h, pos[r0 + 2 * i]);
  }
  if (expensive) {
    margin[pos[47]] = 400.0f;
    world_flip(h, pos[47]);
  }
  vouch_psi_payload pl;
  if (vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h, 32, NULL) != VOUCH_OK)
    return NULL;
  uint8_t *v = malloc(w->vlen);
  int syn = -1;
  if (!v || vouch__voucher_make(w->acct, w->pub, &pl, margin, 0.0, synthetic, v, w->vlen, &syn,
                                &w->rng) != VOUCH_OK || syn != synthetic) {
    free(v);
    return NULL;
  }
  if (hash_out)
    memcpy(hash_out, h, 32);
  return v;
}

/* Makes a voucher (as make()), adds it, checks its status and, when
 * want_slots >= 0, how many slots opened. */
static void make_add(world *w, vouch_psi_server *srv, long e, unsigned nflip, int expensive, int synthetic,
                     int want_status, int want_slots) {
  uint8_t *v = make(w, e, nflip, expensive, synthetic, NULL);
  REQUIRE(v);
  unsigned slots = 99;
  CHECK_EQ_INT(world_add(srv, v, w->vlen, &slots), want_status);
  if (want_slots >= 0)
    CHECK_EQ_INT(slots, want_slots);
  free(v);
}

/* Reveals and checks the summary's counts. */
static void check_reveal(vouch_psi_server *srv, size_t opened, int crossed, size_t real, size_t multi) {
  vouch_psi_summary sum;
  REQUIRE(vouch_psi_server_reveal(srv, &sum) == VOUCH_OK);
  CHECK_EQ_INT(sum.opened, opened);
  CHECK_EQ_INT(sum.threshold_crossed, crossed);
  CHECK_EQ_INT(sum.real, real);
  CHECK_EQ_INT(sum.multi_opened, multi);
  if (crossed)
    CHECK_EQ_INT(sum.synthetic, opened - real);
}

/* Which of the 2P positions opens for the server (the test does what the
 * server does, position by position). */
static int opening_position(const world *w, const uint8_t *v) {
  static const uint8_t zero_nonce[24];
  int at = -1;
  for (size_t pos = 0; pos < 2U * w->P; pos++) {
    const uint8_t *Q = v + VOUCH__V_HEADER + VOUCH__V_SLOT * pos;
    uint8_t S[32], K[32], rk[32];
    if (crypto_scalarmult_ristretto255(S, w->skey->alpha, Q) != 0)
      return -2;
    vouch__kdf_part parts[3] = {{S, 32}, {Q, 32}, {v, VOUCH__V_HEADER}};
    vouch__kdf(K, 32, "wrap", NULL, 0, parts, 3);
    if (vouch__open(rk, K, zero_nonce, v, VOUCH__V_HEADER, Q + 32, VOUCH__V_WRAP) == 0)
      at = at < 0 ? (int)pos : -3; /* more than one: not expected here */
  }
  return at;
}

static void test_match_opens_one_slot(void) {
  for (uint32_t seed = 0; seed < 10; seed++) {
    world w;
    REQUIRE(world_init(&w, seed, 30 + 5 * seed, 3, 6, 8) == 0);
    vouch_psi_server *srv;
    REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
    /* 0, 1 or 2 cheap bits flipped: probes {}, {0}, {0,1} are within the 8 */
    for (unsigned k = 0; k < 6; k++)
      make_add(&w, srv, (long)(k * 3 % w.n), k % 3, 0, 0, VOUCH_PSI_OPENED, 1);
    for (unsigned k = 0; k < 6; k++) {
      make_add(&w, srv, -1, k % 3, 0, 0, VOUCH_PSI_NOT_OPENED, 0); /* unrelated photos */
      /* A database photo with one expensive band bit flipped is beyond the probes. */
      make_add(&w, srv, (long)(k + 1), 0, 1, 0, VOUCH_PSI_NOT_OPENED, 0);
    }
    check_reveal(srv, 6, 1, 6, 0);
    vouch_psi_server_free(srv);
    world_free(&w);
  }
}

/* Threshold: t distinct matches reveal nothing, t+1 do, whatever the
 * number of slots per voucher; a second voucher of the same photo counts
 * once. */
static void test_threshold_with_probes(void) {
  for (unsigned t = 1; t <= 4; t++) {
    world w;
    REQUIRE(world_init(&w, 100 + t, 20, t, 2 * t, 16) == 0);
    vouch_psi_server *srv;
    REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
    vouch_psi_summary sum;
    uint8_t h0[32];
    for (unsigned i = 0; i < t; i++) {
      uint8_t *v = make(&w, (long)i, 1, 0, 0, i == 0 ? h0 : NULL);
      REQUIRE(v);
      CHECK_EQ_INT(world_add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
      free(v);
    }
    /* The first photo again (same band, so the same photo key, here with
     * other margins): a duplicate, not a new match. */
    vouch_psi_payload pl;
    uint8_t *v = malloc(w.vlen);
    REQUIRE(v && vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h0, 32, NULL) == VOUCH_OK);
    float margin[VOUCH_PDQ_BITS];
    for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++) /* cheap exactly where it differs from entry 0 */
      margin[k] = ((h0[31 - k / 8] ^ w.db[0][31 - k / 8]) >> (k % 8)) & 1 ? 1.0f : 100.0f;
    REQUIRE(vouch__voucher_make(w.acct, w.pub, &pl, margin, 0, 0, v, w.vlen, NULL, &w.rng) == VOUCH_OK);
    CHECK_EQ_INT(world_add(srv, v, w.vlen, NULL), VOUCH_PSI_DUPLICATE);
    free(v);
    REQUIRE(vouch_psi_server_reveal(srv, &sum) == VOUCH_OK);
    CHECK_EQ_INT(sum.opened, t);
    CHECK_EQ_INT(sum.threshold_crossed, 0);
    v = make(&w, (long)t, 2, 0, 0, NULL);
    REQUIRE(v);
    CHECK_EQ_INT(world_add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
    free(v);
    REQUIRE(vouch_psi_server_reveal(srv, &sum) == VOUCH_OK);
    CHECK_EQ_INT(sum.threshold_crossed, 1);
    CHECK_EQ_INT(sum.real, t + 1);
    /* The post-reveal check: every payload is within radius 31 of an entry
     * (a few band bits flipped); with radius 0 the flipped ones collide. */
    REQUIRE(vouch_psi_server_confirm(srv, &w.db[0][0], 32, w.n, 31, &sum) == VOUCH_OK);
    CHECK_EQ_INT(sum.confirmed, t + 1);
    CHECK_EQ_INT(sum.collisions, 0);
    REQUIRE(vouch_psi_server_confirm(srv, &w.db[0][0], 32, w.n, 0, &sum) == VOUCH_OK);
    CHECK_EQ_INT(sum.confirmed + sum.collisions, t + 1);
    CHECK_EQ_INT(sum.collisions, t + 1); /* each had 1 or 2 bits flipped */
    vouch_psi_server_free(srv);
    world_free(&w);
  }
}

/* The opening position is uniform over the 2P positions, for real matches
 * (whatever probe rank matched) and for synthetic vouchers; a chi-square
 * test with 7 degrees of freedom (fixed seeds: deterministic). */
static void test_shuffle_uniform(void) {
  const unsigned P = 4, N = 640;
  for (int synthetic = 0; synthetic <= 1; synthetic++) {
    world w;
    REQUIRE(world_init(&w, 300 + (uint32_t)synthetic, 16, 2, synthetic ? N + 1 : 4, P) == 0);
    unsigned count[8] = {0};
    int bad = 0;
    for (unsigned i = 0; i < N; i++) {
      uint8_t *v = synthetic ? make(&w, -1, 0, 0, 1, NULL) : make(&w, (long)(i % w.n), i % 3, 0, 0, NULL);
      REQUIRE(v);
      int at = opening_position(&w, v);
      if (at < 0 || at >= 8)
        bad++;
      else
        count[at]++;
      free(v);
    }
    CHECK_EQ_INT(bad, 0);
    double chi = 0, e = N / 8.0;
    for (int j = 0; j < 8; j++)
      chi += (count[j] - e) * (count[j] - e) / e;
    /* p = 0.001 at 7 degrees of freedom is 24.3 */
    if (!(chi < 24.3))
      fprintf(stderr, "chi-square %.1f (synthetic %d)\n", chi, synthetic);
    CHECK(chi < 24.3);
    world_free(&w);
  }
}

/* Synthetic vouchers: the same size as real ones, exactly one slot opens,
 * and after the threshold they are identified as synthetic. */
static void test_synthetic_one_opening(void) {
  world w;
  REQUIRE(world_init(&w, 77, 20, 2, 6, 8) == 0);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  for (int i = 0; i < 5; i++)
    make_add(&w, srv, -1, 0, 0, 1, VOUCH_PSI_OPENED, 1);
  for (int i = 0; i < 3; i++)
    make_add(&w, srv, i, 1, 0, 0, VOUCH_PSI_OPENED, 1);
  check_reveal(srv, 8, 1, 3, 0);
  vouch_psi_server_free(srv);
  world_free(&w);
}

/* Two database entries inside one photo's probe set: two slots open, the
 * voucher counts once, and the summary says so. */
static void test_two_keys_in_probe_set(void) {
  world w;
  REQUIRE(world_init(&w, 5, 8, 2, 4, 8) == 0);
  /* Rebuild the database with entry 1 = entry 0 with band position 10 flipped. */
  unsigned pos[48];
  REQUIRE(vouch_psi_band_positions(48, pos) == VOUCH_OK);
  memcpy(w.db[1], w.db[0], 32);
  world_flip(w.db[1], pos[10]);
  REQUIRE(world_setup(&w) == VOUCH_OK);
  /* The photo is entry 0 with position 10 as its cheapest bit. */
  float margin[VOUCH_PDQ_BITS];
  for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++)
    margin[k] = 100.0f;
  margin[pos[10]] = 1.0f;
  vouch_psi_payload pl;
  REQUIRE(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, w.db[0], 32, NULL) == VOUCH_OK);
  uint8_t *v = malloc(w.vlen);
  REQUIRE(v);
  REQUIRE(vouch__voucher_make(w.acct, w.pub, &pl, margin, 0, 0, v, w.vlen, NULL, &w.rng) == VOUCH_OK);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  unsigned slots = 0;
  CHECK_EQ_INT(world_add(srv, v, w.vlen, &slots), VOUCH_PSI_OPENED);
  CHECK_EQ_INT(slots, 2);
  check_reveal(srv, 1, 0, 0, 1);
  vouch_psi_server_free(srv);
  free(v);
  world_free(&w);
}

/* Any single-bit change of a matching band voucher: it never opens. */
static void test_band_bitflips(void) {
  world w;
  REQUIRE(world_init(&w, 9, 12, 2, 3, 4) == 0);
  for (int kind = 0; kind < 2; kind++) {
    uint8_t *v = make(&w, 2, 2, 0, kind, NULL);
    REQUIRE(v);
    vouch_psi_server *srv;
    REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
    int opened_wrongly = 0;
    for (size_t byte = kind; byte < w.vlen; byte += 5) {
      uint8_t bit = (uint8_t)(1u << (byte * 3 % 8));
      v[byte] ^= bit;
      if (world_add(srv, v, w.vlen, NULL) == VOUCH_PSI_OPENED)
        opened_wrongly++;
      v[byte] ^= bit;
    }
    CHECK_EQ_INT(opened_wrongly, 0);
    CHECK_EQ_INT(world_add(srv, v, w.vlen - 1, NULL), -100 - VOUCH_E_PSI_FORMAT);
    CHECK_EQ_INT(world_add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
    vouch_psi_server_free(srv);
    free(v);
  }
  world_free(&w);
}

/* Version-1 data is refused as such; P or scheme that disagree with the
 * public data are malformed. */
static void test_versions(void) {
  world w;
  REQUIRE(world_init(&w, 11, 12, 2, 3, 4) == 0);
  uint8_t *v = make(&w, 1, 0, 0, 0, NULL);
  REQUIRE(v);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  v[4] = 1;
  CHECK_EQ_INT(world_add(srv, v, w.vlen, NULL), -100 - VOUCH_E_PSI_VERSION);
  CHECK_EQ_INT(world_add(srv, v, VOUCH_PSI_VOUCHER_BYTES(3, 1), NULL), -100 - VOUCH_E_PSI_VERSION);
  v[4] = 2;
  v[10] = 5; /* P */
  CHECK_EQ_INT(world_add(srv, v, w.vlen, NULL), -100 - VOUCH_E_PSI_FORMAT);
  v[10] = 4;
  v[12] = 0; /* scheme */
  CHECK_EQ_INT(world_add(srv, v, w.vlen, NULL), -100 - VOUCH_E_PSI_FORMAT);
  v[12] = 1;
  CHECK_EQ_INT(world_add(srv, v, w.vlen, NULL), VOUCH_PSI_OPENED);
  vouch_psi_server_free(srv);
  uint8_t *c = malloc(w.pd_len);
  REQUIRE(c);
  memcpy(c, w.pd, w.pd_len);
  c[8] = 1;
  vouch_psi_public *pd = NULL;
  CHECK_EQ_INT(vouch_psi_public_open(&pd, c, w.pd_len, NULL), VOUCH_E_PSI_VERSION);
  CHECK_EQ_INT(vouch_psi_server_create(&srv, w.skey, c, w.pd_len), VOUCH_E_PSI_VERSION);
  CHECK(strstr(vouch_strerror(VOUCH_E_PSI_VERSION), "older") != NULL);
  /* A band scheme for a non-PDQ algorithm, or P = 0, is malformed even when signed. */
  const size_t siglen = w.pd_len - 64;
  for (int bad = 0; bad < 3; bad++) {
    memcpy(c, w.pd, w.pd_len);
    if (bad == 0)
      c[9] = VOUCH_ALGO_PHASH;
    else if (bad == 1)
      c[144] = c[145] = 0;
    else
      c[11] = 65;
    crypto_sign_ed25519_detached(c + siglen, NULL, c, siglen, w.skey->sign_sk);
    CHECK_EQ_INT(vouch_psi_public_open(&pd, c, w.pd_len, NULL), VOUCH_E_PSI_FORMAT);
  }
  int algo, scheme;
  unsigned band, probes;
  vouch_psi_public_scheme(w.pub, &algo, &scheme, &band, &probes);
  CHECK(algo == VOUCH_ALGO_PDQ && scheme == VOUCH_PSI_SCHEME_BAND && band == 48 && probes == 4);
  vouch_psi_setup_opts o = {VOUCH_ALGO_PHASH, 1, NULL, VOUCH_PSI_SCHEME_BAND, 48, 4, NULL, NULL, 0, NULL, 0, NULL};
  uint8_t *out;
  size_t out_len;
  CHECK_EQ_INT(vouch_psi_setup(w.skey, NULL, 0, &o, &out, &out_len, NULL), VOUCH_E_INVALID);
  free(c);
  free(v);
  world_free(&w);
}

/* ------------------------------------------------- margins, end to end */

static void test_margins_and_resized_photo(void) {
  photo_kit kit;
  if (kit_open(&kit, "bridge.jpg"))
    return;
  vouch_hasher *hs = kit.h;
  vouch_image img = kit.img, half = {0};
  float margin[VOUCH_PDQ_BITS];
  CHECK_EQ_INT(vouch_hasher_pdq_margins(hs, margin), VOUCH_E_INVALID); /* nothing hashed yet */
  uint8_t h[32], h2[32];
  REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PDQ, &img, 0, h, 32, NULL) == VOUCH_OK);
  REQUIRE(vouch_hasher_pdq_margins(hs, margin) == VOUCH_OK);
  int zero = 0, neg = 0;
  for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++) {
    zero += margin[k] == 0.0f;
    neg += !(margin[k] >= 0.0f);
  }
  CHECK(zero >= 1); /* the median coefficient itself */
  CHECK_EQ_INT(neg, 0);
  uint8_t h64[8];
  REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PHASH, &img, 0, h64, 8, NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_hasher_pdq_margins(hs, margin), VOUCH_E_INVALID); /* last hash not PDQ */

  /* Database: the original.  Photo: resized to half. */
  world w;
  REQUIRE(world_init(&w, 21, 10, 1, 2, 64) == 0);
  memcpy(w.db[3], h, 32);
  REQUIRE(world_setup(&w) == VOUCH_OK);
  vouch_transform t = {VOUCH_TF_RESIZE, 0.5};
  REQUIRE(vouch_transform_apply(NULL, &img, &t, 1, &half) == VOUCH_OK);
  REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PDQ, &half, 0, h2, 32, NULL) == VOUCH_OK);
  REQUIRE(vouch_hasher_pdq_margins(hs, margin) == VOUCH_OK);
  printf("  resized copy: distance %u to the original\n", vouch_hamming(h, h2, 32));
  vouch_psi_payload pl;
  REQUIRE(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h2, 32, &half) == VOUCH_OK);
  uint8_t *v = malloc(w.vlen);
  REQUIRE(v);
  REQUIRE(vouch_psi_voucher_make(w.acct, w.pub, &pl, margin, 0, v, w.vlen, NULL) == VOUCH_OK);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  unsigned slots = 0;
  CHECK_EQ_INT(world_add(srv, v, w.vlen, &slots), VOUCH_PSI_OPENED);
  CHECK_EQ_INT(slots, 1);
  vouch_psi_server_free(srv);
  free(v);
  world_free(&w);
  vouch_image_clear(&half);
  kit_close(&kit);
}

int main(void) {
  if (vouch_init() < 0)
    return 1;
  TT_RUN(test_band_positions);
  TT_RUN(test_band_key);
  TT_RUN(test_probe_enumeration_brute_force);
  TT_RUN(test_probe_keys);
  TT_RUN(test_match_opens_one_slot);
  TT_RUN(test_threshold_with_probes);
  TT_RUN(test_shuffle_uniform);
  TT_RUN(test_synthetic_one_opening);
  TT_RUN(test_two_keys_in_probe_set);
  TT_RUN(test_band_bitflips);
  TT_RUN(test_versions);
  TT_RUN(test_margins_and_resized_photo);
  TT_MAIN_END;
}
