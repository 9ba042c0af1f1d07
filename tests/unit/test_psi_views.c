/* tests/unit/test_psi_views.c -- the client's tonal views (docs/protocol.md
 * section 4.3): over many seeds the merged probe list keeps the photo's own
 * probes first, takes floor(P/16) new bands from each view in its own cost
 * order, never repeats a band, and equals the plain probes without views or
 * below P = 16; the views of a real photo are deterministic and differ from
 * it; a gamma-edited copy is found end to end through a voucher made with
 * views, opening exactly one slot. */
#include <sodium.h>
#include <stdlib.h>
#include "tinytest.h"
#include "psi/psi_internal.h"
#include "vouch/vouch.h"
#include "psi_world.h"

static void random_margins(vouch__rng *r, float m[256]) {
  for (unsigned k = 0; k < 256; k++) {
    uint8_t b[2];
    vouch__rng_bytes(r, b, 2);
    m[k] = (float)(b[0] | (b[1] << 8)) / 256.0f;
  }
}

static void test_merge_properties(void) {
  static const unsigned Ps[] = {1, 8, 15, 16, 17, 32, 96, 100};
  unsigned pos[48];
  REQUIRE(vouch_psi_band_positions(48, pos) == VOUCH_OK);
  for (uint32_t seed = 0; seed < 60; seed++) {
    vouch__rng r;
    seed_rng(&r, seed, 7);
    uint8_t h[32];
    float m[256];
    vouch__rng_bytes(&r, h, 32);
    random_margins(&r, m);
    vouch_psi_views *v = calloc(1, sizeof *v);
    REQUIRE(v);
    v->n = VOUCH_PSI_VIEWS;
    for (unsigned k = 0; k < VOUCH_PSI_VIEWS; k++) {
      memcpy(v->hash[k], h, 32);
      /* view 0 equals the photo (all its bands are taken already); the others
       * differ in 1..3 band bits, so their cheap probes overlap the photo's */
      for (unsigned f = 0; f < k; f++) {
        uint8_t x;
        vouch__rng_bytes(&r, &x, 1);
        world_flip(v->hash[k], pos[x % 48]);
      }
      random_margins(&r, v->margin[k]);
    }
    for (size_t pi = 0; pi < sizeof Ps / sizeof Ps[0]; pi++) {
      const unsigned P = Ps[pi], q = P / 16, own = q ? P - VOUCH_PSI_VIEWS * q : P;
      uint64_t *band = malloc(8 * P), *plain = malloc(8 * P), *fl = malloc(8 * P), *vb = malloc(8 * P);
      uint8_t *keys = malloc(32 * (size_t)P), *pk = malloc(32 * (size_t)P);
      REQUIRE(band && plain && fl && vb && keys && pk);
      REQUIRE(vouch_psi_probe_bands(VOUCH_ALGO_PDQ, h, 32, m, v, 48, P, band, fl) == VOUCH_OK);
      REQUIRE(vouch_psi_probe_bands(VOUCH_ALGO_PDQ, h, 32, m, NULL, 48, P, plain, NULL) == VOUCH_OK);
      /* the photo's own probes come first, in their order */
      for (unsigned i = 0; i < own; i++)
        CHECK(band[i] == plain[i]);
      /* no band twice */
      int dup = 0;
      for (unsigned i = 0; i < P; i++)
        for (unsigned j = i + 1; j < P; j++)
          dup += band[i] == band[j];
      CHECK_EQ_INT(dup, 0);
      /* view k's share: its first q bands (in its own order) not taken before */
      unsigned at = own;
      for (unsigned k = 0; q && k < VOUCH_PSI_VIEWS; k++) {
        REQUIRE(vouch_psi_probe_bands(VOUCH_ALGO_PDQ, v->hash[k], 32, v->margin[k], NULL, 48, P, vb, NULL) ==
                VOUCH_OK);
        for (unsigned p = 0, got = 0; p < P && got < q; p++) {
          int seen = 0;
          for (unsigned i = 0; i < at; i++)
            seen |= band[i] == vb[p];
          if (seen)
            continue;
          CHECK(band[at] == vb[p]);
          at++;
          got++;
        }
      }
      CHECK_EQ_INT(at, P);
      /* the keys are the band keys of those bands; without views: the old probes */
      REQUIRE(vouch_psi_probe_keys_views(VOUCH_ALGO_PDQ, h, 32, m, v, 48, P, keys, NULL) == VOUCH_OK);
      uint8_t bk[32];
      REQUIRE(vouch_psi_band_key(VOUCH_ALGO_PDQ, h, 32, 48, bk) == VOUCH_OK);
      CHECK(memcmp(keys, bk, 32) == 0);
      REQUIRE(vouch_psi_probe_keys(VOUCH_ALGO_PDQ, h, 32, m, 48, P, pk, NULL) == VOUCH_OK);
      CHECK(memcmp(keys, pk, 32 * (size_t)own) == 0);
      CHECK_EQ_INT(memcmp(keys, pk, 32 * (size_t)P) == 0, q == 0);
      vouch_psi_views none = {0};
      REQUIRE(vouch_psi_probe_keys_views(VOUCH_ALGO_PDQ, h, 32, m, &none, 48, P, keys, NULL) == VOUCH_OK);
      CHECK(memcmp(keys, pk, 32 * (size_t)P) == 0);
      free(band);
      free(plain);
      free(fl);
      free(vb);
      free(keys);
      free(pk);
    }
    v->n = VOUCH_PSI_VIEWS + 1;
    uint64_t b1;
    CHECK_EQ_INT(vouch_psi_probe_bands(VOUCH_ALGO_PDQ, h, 32, m, v, 48, 1, &b1, NULL), VOUCH_E_INVALID);
    free(v);
  }
}


static void test_views_of_a_photo(void) {
  photo_kit kit, o;
  if (kit_open(&kit, "bridge.jpg"))
    return;
  vouch_hasher *hs = kit.h;
  vouch_image img = kit.img, copy = {0};
  vouch_psi_views *v1 = calloc(1, sizeof *v1), *v2 = calloc(1, sizeof *v2);
  REQUIRE(v1 && v2);
  CHECK_EQ_INT(vouch_psi_views_make(NULL, &img, v1), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_psi_views_make(hs, NULL, v1), VOUCH_E_INVALID);
  uint8_t h[32];
  REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PDQ, &img, 0, h, 32, NULL) == VOUCH_OK);
  REQUIRE(vouch_psi_views_make(hs, &img, v1) == VOUCH_OK);
  REQUIRE(vouch_psi_views_make(hs, &img, v2) == VOUCH_OK);
  CHECK_EQ_INT(v1->n, VOUCH_PSI_VIEWS);
  CHECK(memcmp(v1, v2, sizeof *v1) == 0); /* deterministic */
  unsigned differ = 0;
  for (unsigned k = 0; k < v1->n; k++) {
    unsigned d = vouch_hamming(h, v1->hash[k], 32);
    printf("  view %u: distance %u to the photo\n", k, d);
    differ += d > 0;
    CHECK(d <= 64); /* a tonal curve keeps the photo recognisable */
  }
  CHECK(differ >= 1);

  /* Database: the original.  Photo: gamma 1.5; its voucher is made with views. */
  world w;
  REQUIRE(world_init(&w, 23, 10, 1, 2, 96) == 0);
  memcpy(w.db[5], h, 32);
  REQUIRE(world_setup(&w) == VOUCH_OK);
  vouch_transform t = {VOUCH_TF_GAMMA, 1.5};
  REQUIRE(vouch_transform_apply(NULL, &img, &t, 1, &copy) == VOUCH_OK);
  uint8_t h2[32];
  float margin[256];
  REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PDQ, &copy, 0, h2, 32, NULL) == VOUCH_OK);
  REQUIRE(vouch_hasher_pdq_margins(hs, margin) == VOUCH_OK);
  REQUIRE(vouch_psi_views_make(hs, &copy, v1) == VOUCH_OK);
  printf("  gamma 1.5 copy: distance %u to the original\n", vouch_hamming(h, h2, 32));
  vouch_psi_payload pl;
  REQUIRE(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h2, 32, &copy) == VOUCH_OK);
  uint8_t *vc = malloc(w.vlen);
  REQUIRE(vc);
  vouch_psi_server *srv;
  REQUIRE(vouch_psi_server_create(&srv, w.skey, w.pd, w.pd_len) == VOUCH_OK);
  REQUIRE(vouch__voucher_make_views(w.acct, w.pub, &pl, margin, v1, 0, 0, vc, w.vlen, NULL, &w.rng) == VOUCH_OK);
  unsigned slots = 99;
  CHECK_EQ_INT(world_add(srv, vc, w.vlen, &slots), VOUCH_PSI_OPENED);
  CHECK_EQ_INT(slots, 1);
  /* an unrelated photo (wee.jpg) with its own views opens nothing */
  REQUIRE(kit_open(&o, "wee.jpg") == 0);
  vouch_image other = o.img;
  REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PDQ, &other, 0, h2, 32, NULL) == VOUCH_OK);
  REQUIRE(vouch_hasher_pdq_margins(hs, margin) == VOUCH_OK);
  REQUIRE(vouch_psi_views_make(hs, &other, v1) == VOUCH_OK);
  printf("  wee.jpg: distance %u to bridge.jpg\n", vouch_hamming(h, h2, 32));
  REQUIRE(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h2, 32, &other) == VOUCH_OK);
  REQUIRE(vouch__voucher_make_views(w.acct, w.pub, &pl, margin, v1, 0, 0, vc, w.vlen, NULL, &w.rng) == VOUCH_OK);
  slots = 99;
  CHECK_EQ_INT(world_add(srv, vc, w.vlen, &slots), VOUCH_PSI_NOT_OPENED);
  CHECK_EQ_INT(slots, 0);
  kit_close(&o);
  vouch_psi_server_free(srv);
  free(vc);
  world_free(&w);
  free(v1);
  free(v2);
  vouch_image_clear(&copy);
  kit_close(&kit);
}

int main(void) {
  if (vouch_init() < 0)
    return 1;
  TT_RUN(test_merge_properties);
  TT_RUN(test_views_of_a_photo);
  TT_MAIN_END;
}
