/* tests/unit/test_attack.c -- forged PDQ collisions (vouch_attack_pdq), the
 * PNG encoder they are written with, and the second hash that is meant to
 * throw them out (vouch_derivative_hash). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tinytest.h"
#include "common/internal.h"
#include "vouch/vouch.h"

/* A photo-like test image: smooth gradients, blocks and fine texture from a
 * fixed linear congruential stream. */
static void make_image(vouch_image *img, uint32_t w, uint32_t h, uint32_t ch, unsigned seed) {
  if (vouch_image_init(img, w, h, ch) != VOUCH_OK) {
    fprintf(stderr, "vouch_image_init failed\n");
    exit(1);
  }
  unsigned s = seed * 2654435761u + 1;
  double fx = 1 + seed % 5, fy = 2 + seed % 3, ph = seed * 0.7;
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++)
      for (uint32_t c = 0; c < ch; c++) {
        s = s * 1103515245u + 12345u;
        double v = 128 + 60 * sin(fx * 6.283 * x / w + c + ph) * cos(fy * 6.283 * y / h - ph) +
                   30 * (((x * (3 + seed % 4)) / w + (y * 5) / h + c) % 2) + (double)(s >> 28) - 8;
        img->pixels[(size_t)y * img->stride + (size_t)x * ch + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
      }
}

static int same_pixels(const vouch_image *a, const vouch_image *b) {
  if (a->width != b->width || a->height != b->height || a->channels != b->channels) return 0;
  for (uint32_t y = 0; y < a->height; y++)
    if (memcmp(a->pixels + (size_t)y * a->stride, b->pixels + (size_t)y * b->stride, (size_t)a->width * a->channels))
      return 0;
  return 1;
}

static void pdq_of(const vouch_image *img, uint8_t out[32]) {
  vouch_hasher *h = NULL;
  if (vouch_hasher_create(&h) != VOUCH_OK || vouch_hash_image(h, VOUCH_ALGO_PDQ, img, 0, out, 32, NULL) != VOUCH_OK) {
    fprintf(stderr, "hashing failed\n");
    exit(1);
  }
  vouch_hasher_free(h);
}

/* Forging towards an unrelated image's hash works within 31 and bit for bit,
 * and the library's ordinary hasher agrees with the attack's own figure. */
static void test_forge_succeeds(void) {
  for (unsigned ch = 1; ch <= 3; ch += 2)
    for (unsigned radius = 0; radius <= 31; radius += 31) {
      vouch_image src, other, out;
      make_image(&src, 320, 240, ch, 3);
      make_image(&other, 300, 300, 3, 8);
      uint8_t target[32], got[32], before[32];
      pdq_of(&other, target);
      pdq_of(&src, before);
      vouch_attack_params p = vouch_attack_params_default();
      p.radius = radius;
      if (p.slack > radius) p.slack = radius;
      vouch_attack_result r;
      REQUIRE(vouch_attack_pdq(&src, target, &p, &out, &r) == VOUCH_OK);
      CHECK(vouch_hamming(before, target, 32) > 60); /* unrelated to start with */
      CHECK_EQ_INT(r.start_distance, vouch_hamming(before, target, 32));
      CHECK(r.success);
      CHECK(r.distance <= radius);
      pdq_of(&out, got);
      CHECK_EQ_INT(vouch_hamming(got, target, 32), r.distance);
      CHECK(out.width == src.width && out.height == src.height && out.channels == src.channels);
      CHECK(r.psnr > 10 && r.psnr < 60);
      CHECK(r.max_change > 0 && r.max_change < 256);
      CHECK(r.iterations >= 2 && r.iterations <= VOUCH_ATTACK_ITERS_DEFAULT);
      /* deterministic */
      vouch_image again;
      vouch_attack_result r2;
      REQUIRE(vouch_attack_pdq(&src, target, &p, &again, &r2) == VOUCH_OK);
      CHECK(same_pixels(&out, &again));
      vouch_image_clear(&again);
      vouch_image_clear(&out);
      vouch_image_clear(&other);
      vouch_image_clear(&src);
    }
}

/* One iteration cannot move an unrelated hash: the result is the source
 * itself, reported as a failure with the starting distance. */
static void test_forge_gives_up(void) {
  vouch_image src, other, out;
  make_image(&src, 200, 150, 3, 5);
  make_image(&other, 200, 150, 3, 11);
  uint8_t target[32];
  pdq_of(&other, target);
  vouch_attack_params p = vouch_attack_params_default();
  p.max_iters = 1;
  vouch_attack_result r;
  REQUIRE(vouch_attack_pdq(&src, target, &p, &out, &r) == VOUCH_OK);
  CHECK(!r.success);
  CHECK_EQ_INT(r.distance, r.start_distance);
  CHECK(isinf(r.psnr));
  CHECK_EQ_INT(r.max_change, 0);
  CHECK(same_pixels(&src, &out));
  vouch_image_clear(&out);
  /* a target equal to the source's own hash needs no change at all */
  pdq_of(&src, target);
  p.max_iters = 0;
  REQUIRE(vouch_attack_pdq(&src, target, &p, &out, &r) == VOUCH_OK);
  CHECK(r.success && r.distance == 0 && r.iterations == 1 && same_pixels(&src, &out));
  vouch_image_clear(&out);
  vouch_image_clear(&other);
  vouch_image_clear(&src);
}

static void test_forge_errors(void) {
  vouch_image src, out;
  make_image(&src, 64, 64, 3, 1);
  uint8_t target[32] = {0};
  vouch_attack_params p = vouch_attack_params_default();
  vouch_attack_result r;
  CHECK_EQ_INT(vouch_attack_pdq(NULL, target, &p, &out, &r), VOUCH_E_INVALID);
  CHECK(out.pixels == NULL);
  CHECK_EQ_INT(vouch_attack_pdq(&src, target, &p, NULL, &r), VOUCH_E_INVALID);
  p.slack = p.radius + 1;
  CHECK_EQ_INT(vouch_attack_pdq(&src, target, &p, &out, &r), VOUCH_E_INVALID);
  p = vouch_attack_params_default();
  p.radius = 129;
  CHECK_EQ_INT(vouch_attack_pdq(&src, target, &p, &out, &r), VOUCH_E_INVALID);
  p = vouch_attack_params_default();
  p.max_iters = VOUCH_ATTACK_ITERS_MAX + 1;
  CHECK_EQ_INT(vouch_attack_pdq(&src, target, &p, &out, &r), VOUCH_E_INVALID);
  p = vouch_attack_params_default();
  p.margin = NAN;
  CHECK_EQ_INT(vouch_attack_pdq(&src, target, &p, &out, &r), VOUCH_E_INVALID);
  p = vouch_attack_params_default();
  vouch_image tiny;
  make_image(&tiny, 4, 40, 1, 2);
  CHECK_EQ_INT(vouch_attack_pdq(&tiny, target, &p, &out, &r), VOUCH_E_IMAGE_TOO_SMALL);
  CHECK(out.pixels == NULL);
  /* every allocation failure is reported, never a crash or a half image */
  for (long k = 0; k < 4; k++) {
    vouch__test_fail_allocs_after(k);
    int rc = vouch_attack_pdq(&src, target, &p, &out, &r);
    vouch__test_fail_allocs_after(-1);
    if (rc == VOUCH_OK) {
      vouch_image_clear(&out);
      break;
    }
    CHECK_EQ_INT(rc, VOUCH_E_NOMEM);
    CHECK(out.pixels == NULL);
  }
  vouch_image_clear(&tiny);
  vouch_image_clear(&src);
}

/* PNG: decoding what we encode gives the same pixels, grey and RGB. */
static void test_png_roundtrip(void) {
  vouch_decoder *dec = NULL;
  REQUIRE(vouch_decoder_create(&dec, NULL) == VOUCH_OK);
  for (unsigned ch = 1; ch <= 3; ch += 2) {
    vouch_image img, back = {0};
    make_image(&img, 97, 61, ch, 4);
    uint8_t *buf = NULL;
    size_t len = 0;
    REQUIRE(vouch_image_encode_png(&img, &buf, &len) == VOUCH_OK);
    CHECK(len > 8 && !memcmp(buf, "\x89PNG", 4));
    REQUIRE(vouch_decoder_decode(dec, buf, len, &back) == VOUCH_OK);
    CHECK(same_pixels(&img, &back));
    vouch_free(buf);
    vouch_image_clear(&back);
    vouch_image_clear(&img);
  }
  uint8_t *buf = (uint8_t *)1;
  size_t len = 1;
  CHECK_EQ_INT(vouch_image_encode_png(NULL, &buf, &len), VOUCH_E_INVALID);
  CHECK(buf == NULL && len == 0);
  vouch_decoder_free(dec);
}

static void deriv_of(const vouch_image *img, uint8_t out[VOUCH_DERIV_HASH_BYTES]) {
  static const uint8_t zero[32];
  vouch_psi_payload p;
  if (vouch_psi_payload_init(&p, VOUCH_ALGO_PDQ, zero, 32, img) != VOUCH_OK ||
      vouch_derivative_hash(p.thumb, p.thumb_w, p.thumb_h, out) != VOUCH_OK) {
    fprintf(stderr, "derivative hash failed\n");
    exit(1);
  }
}

/* The second hash: known answers on synthetic derivatives, invariance to
 * brightness and contrast, and its verdict on a forgery and a genuine copy. */
static void test_derivative_hash(void) {
  uint8_t t[64 * 64], t2[64 * 64], h[VOUCH_DERIV_HASH_BYTES], h2[VOUCH_DERIV_HASH_BYTES];
  const double pi = 3.14159265358979323846;
  /* A pure horizontal cosine at frequency 3 is coefficient (u, v) = (0, 3),
   * element 2 of the vector (element i is ((i+1) / 16, (i+1) % 16)): it
   * is +127, the rest only the 8-bit rounding's traces (|q| <= 2). */
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++) t[y * 64 + x] = (uint8_t)lrint(128 + 100 * cos(pi * 3 * (x + 0.5) / 64));
  REQUIRE(vouch_derivative_hash(t, 64, 64, h) == VOUCH_OK);
  CHECK_EQ_INT(h[0], VOUCH_DERIV_HASH_VERSION);
  CHECK_EQ_INT((int8_t)h[1 + 2], 127);
  int others = 0;
  for (int i = 0; i < 255; i++)
    if (i != 2 && abs((int8_t)h[1 + i]) > 2) others++;
  CHECK_EQ_INT(others, 0);
  CHECK_EQ_INT(vouch_derivative_score(h, h), 1000);
  /* the same at 64 x 40 reads the same frequency */
  REQUIRE(vouch_derivative_hash(t, 64, 40, h2) == VOUCH_OK);
  CHECK_EQ_INT(vouch_derivative_score(h, h2), 1000);
  /* a vertical cosine is orthogonal to it: score 0 */
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++) t2[y * 64 + x] = (uint8_t)lrint(128 + 100 * cos(pi * 3 * (y + 0.5) / 64));
  REQUIRE(vouch_derivative_hash(t2, 64, 64, h2) == VOUCH_OK);
  CHECK_EQ_INT(vouch_derivative_score(h, h2), 0);
  /* brightness and contrast leave a textured derivative's hash (nearly) as it was */
  vouch_image tex;
  make_image(&tex, 64, 64, 1, 6);
  for (int i = 0; i < 64 * 64; i++) t[i] = (uint8_t)(64 + tex.pixels[i] / 2);
  vouch_image_clear(&tex);
  REQUIRE(vouch_derivative_hash(t, 64, 64, h) == VOUCH_OK);
  for (int i = 0; i < 64 * 64; i++) t2[i] = (uint8_t)(t[i] + 40);
  REQUIRE(vouch_derivative_hash(t2, 64, 64, h2) == VOUCH_OK);
  CHECK_EQ_INT(vouch_derivative_score(h, h2), 1000);
  for (int i = 0; i < 64 * 64; i++) t2[i] = (uint8_t)lrint(128 + (t[i] - 128) * 0.6);
  REQUIRE(vouch_derivative_hash(t2, 64, 64, h2) == VOUCH_OK);
  CHECK(vouch_derivative_score(h, h2) >= 995);
  /* a flat derivative scores 0 against anything */
  memset(t2, 77, sizeof t2);
  REQUIRE(vouch_derivative_hash(t2, 64, 64, h2) == VOUCH_OK);
  CHECK_EQ_INT(vouch_derivative_score(h, h2), 0);
  h2[0] = 9;
  CHECK_EQ_INT(vouch_derivative_score(h, h2), -1);
  CHECK_EQ_INT(vouch_derivative_score(NULL, h), -1);
  CHECK_EQ_INT(vouch_derivative_hash(t, 65, 64, h), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_derivative_hash(t, 64, 0, h), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_derivative_hash(NULL, 64, 64, h), VOUCH_E_INVALID);

  /* A forgery matches PDQ, and the second hash throws it out; a JPEG copy
   * of the target (a genuine match) passes. */
  vouch_image src, other, out, copy = {0};
  make_image(&src, 320, 240, 3, 3);
  make_image(&other, 320, 240, 3, 8);
  uint8_t target[32], s_other[VOUCH_DERIV_HASH_BYTES], s_forged[VOUCH_DERIV_HASH_BYTES],
      s_copy[VOUCH_DERIV_HASH_BYTES];
  pdq_of(&other, target);
  deriv_of(&other, s_other);
  vouch_attack_params p = vouch_attack_params_default();
  vouch_attack_result r;
  REQUIRE(vouch_attack_pdq(&src, target, &p, &out, &r) == VOUCH_OK);
  CHECK(r.success);
  CHECK_EQ_INT(r.second_score, -1);
  deriv_of(&out, s_forged);
  CHECK(vouch_derivative_score(s_forged, s_other) < VOUCH_DERIV_PASS_MIN);
  vouch_image_clear(&out);
  vouch_transformer *tf = NULL;
  REQUIRE(vouch_transformer_create(&tf) == VOUCH_OK);
  vouch_transform jp = {VOUCH_TF_JPEG, 70};
  REQUIRE(vouch_transform_apply(tf, &other, &jp, 1, &copy) == VOUCH_OK);
  deriv_of(&copy, s_copy);
  CHECK(vouch_derivative_score(s_copy, s_other) >= VOUCH_DERIV_PASS_MIN);
  /* The adaptive attack, told the second hash, gets past both, at a price. */
  p.second_target = s_other;
  p.second_min = VOUCH_DERIV_PASS_MIN;
  p.max_iters = 100;
  vouch_attack_result ra;
  REQUIRE(vouch_attack_pdq(&src, target, &p, &out, &ra) == VOUCH_OK);
  CHECK(ra.success);
  CHECK(ra.second_score >= VOUCH_DERIV_PASS_MIN);
  deriv_of(&out, s_forged);
  CHECK_EQ_INT(vouch_derivative_score(s_forged, s_other), ra.second_score);
  CHECK(ra.psnr < r.psnr);
  p.second_min = 1001;
  vouch_image_clear(&copy);
  CHECK_EQ_INT(vouch_attack_pdq(&src, target, &p, &copy, &ra), VOUCH_E_INVALID);
  vouch_transformer_free(tf);
  vouch_image_clear(&copy);
  vouch_image_clear(&out);
  vouch_image_clear(&other);
  vouch_image_clear(&src);
}

int main(void) {
  TT_RUN(test_forge_succeeds);
  TT_RUN(test_forge_gives_up);
  TT_RUN(test_forge_errors);
  TT_RUN(test_png_roundtrip);
  TT_RUN(test_derivative_hash);
  TT_MAIN_END;
}
