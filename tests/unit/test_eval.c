/* tests/unit/test_eval.c -- transforms on cases with known answers, the
 * per-photo evaluation, and the statistics against brute force. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tinytest.h"
#include "common/internal.h"
#include "vouch/vouch.h"

/* A photo-like test image: smooth gradients and blobs plus fine texture,
 * from a fixed linear congruential stream (independent of the library's). */
static void make_image(vouch_image *img, uint32_t w, uint32_t h, uint32_t ch, unsigned seed) {
  int rc = vouch_image_init(img, w, h, ch);
  if (rc != VOUCH_OK) {
    fprintf(stderr, "vouch_image_init failed\n");
    exit(1);
  }
  unsigned s = seed * 2654435761u + 1;
  double fx = 1 + seed % 5, fy = 2 + seed % 3;
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++)
      for (uint32_t c = 0; c < ch; c++) {
        s = s * 1103515245u + 12345u;
        double v = 128 + 60 * sin(fx * 6.283 * x / w + c) * cos(fy * 6.283 * y / h) +
                   40 * ((x * 7 / w + y * 5 / h + c) % 2) + (double)(s >> 28) - 8;
        img->pixels[(size_t)y * img->stride + (size_t)x * ch + c] =
            (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
      }
}

static int same_pixels(const vouch_image *a, const vouch_image *b) {
  if (a->width != b->width || a->height != b->height || a->channels != b->channels) return 0;
  for (uint32_t y = 0; y < a->height; y++)
    if (memcmp(a->pixels + (size_t)y * a->stride, b->pixels + (size_t)y * b->stride,
               (size_t)a->width * a->channels))
      return 0;
  return 1;
}

static uint8_t px(const vouch_image *a, uint32_t x, uint32_t y, uint32_t c) {
  return a->pixels[(size_t)y * a->stride + (size_t)x * a->channels + c];
}

static int apply(const vouch_image *src, int kind, double p, uint64_t seed, vouch_image *out) {
  vouch_transform t = {kind, p};
  return vouch_transform_apply(NULL, src, &t, seed, out);
}

/* ------------------------------------------------------------ geometry */

static void test_mirror_twice(void) {
  for (uint32_t ch = 1; ch <= 3; ch += 2) {
    vouch_image a, b, c;
    make_image(&a, 37, 23, ch, 1);
    for (int v = 0; v <= 1; v++) {
      REQUIRE(apply(&a, VOUCH_TF_MIRROR, v, 0, &b) == VOUCH_OK);
      CHECK(!same_pixels(&a, &b));
      REQUIRE(apply(&b, VOUCH_TF_MIRROR, v, 0, &c) == VOUCH_OK);
      CHECK(same_pixels(&a, &c));
      if (v == 0) CHECK(px(&b, 0, 5, 0) == px(&a, 36, 5, 0));
      else CHECK(px(&b, 4, 0, ch - 1) == px(&a, 4, 22, ch - 1));
      vouch_image_clear(&b);
      vouch_image_clear(&c);
    }
    vouch_image_clear(&a);
  }
}

static void test_rotate_quarter(void) {
  /* 2 wide, 3 high:   1 2        turned 90 degrees counter-clockwise
   *                   3 4   ->   2 4 6
   *                   5 6        1 3 5                                */
  vouch_image a, b, c, d;
  REQUIRE(vouch_image_init(&a, 2, 3, 1) == VOUCH_OK);
  for (int i = 0; i < 6; i++) a.pixels[i] = (uint8_t)(i + 1);
  REQUIRE(apply(&a, VOUCH_TF_ROTATE, 90, 0, &b) == VOUCH_OK);
  CHECK_EQ_INT(b.width, 3);
  CHECK_EQ_INT(b.height, 2);
  static const uint8_t want90[6] = {2, 4, 6, 1, 3, 5};
  CHECK(memcmp(b.pixels, want90, 6) == 0);
  vouch_image_clear(&b);
  /* 180: 6 5 / 4 3 / 2 1; 270 (= -90): 5 3 1 / 6 4 2 */
  REQUIRE(apply(&a, VOUCH_TF_ROTATE, 180, 0, &b) == VOUCH_OK);
  static const uint8_t want180[6] = {6, 5, 4, 3, 2, 1};
  CHECK(b.width == 2 && memcmp(b.pixels, want180, 6) == 0);
  vouch_image_clear(&b);
  REQUIRE(apply(&a, VOUCH_TF_ROTATE, -90, 0, &b) == VOUCH_OK);
  static const uint8_t want270[6] = {5, 3, 1, 6, 4, 2};
  CHECK(b.width == 3 && memcmp(b.pixels, want270, 6) == 0);
  vouch_image_clear(&b);
  vouch_image_clear(&a);
  /* Four quarter turns = identity; 180 = both mirrors. */
  make_image(&a, 31, 17, 3, 2);
  REQUIRE(apply(&a, VOUCH_TF_ROTATE, 90, 0, &b) == VOUCH_OK);
  REQUIRE(apply(&b, VOUCH_TF_ROTATE, 90, 0, &c) == VOUCH_OK);
  vouch_image_clear(&b);
  REQUIRE(apply(&c, VOUCH_TF_ROTATE, 180, 0, &b) == VOUCH_OK);
  CHECK(same_pixels(&a, &b));
  vouch_image_clear(&b);
  REQUIRE(apply(&a, VOUCH_TF_MIRROR, 0, 0, &b) == VOUCH_OK);
  REQUIRE(apply(&b, VOUCH_TF_MIRROR, 1, 0, &d) == VOUCH_OK);
  CHECK(same_pixels(&c, &d));
  vouch_image_clear(&a);
  vouch_image_clear(&b);
  vouch_image_clear(&c);
  vouch_image_clear(&d);
}

static void test_rotate_small(void) {
  vouch_image a, b;
  /* A flat image turned by 5 degrees: the centre keeps its value, the
   * corners turn black, the canvas keeps its size. */
  REQUIRE(vouch_image_init(&a, 101, 61, 1) == VOUCH_OK);
  memset(a.pixels, 200, 101 * 61);
  REQUIRE(apply(&a, VOUCH_TF_ROTATE, 5, 0, &b) == VOUCH_OK);
  CHECK(b.width == 101 && b.height == 61);
  CHECK_EQ_INT(px(&b, 50, 30, 0), 200);
  CHECK_EQ_INT(px(&b, 0, 0, 0), 0);
  CHECK_EQ_INT(px(&b, 100, 60, 0), 0);
  /* Counter-clockwise: near the top edge, the right side is still inside
   * the turned image, the left side already outside. */
  CHECK(px(&b, 90, 3, 0) == 200);
  CHECK(px(&b, 10, 0, 0) == 0);
  vouch_image_clear(&b);
  /* A single bright pixel right of the centre moves up when turned 90
   * degrees by the general path as by the quarter-turn path. */
  vouch_image_clear(&a);
  REQUIRE(vouch_image_init(&a, 21, 21, 1) == VOUCH_OK);
  a.pixels[10 * 21 + 15] = 255;
  vouch_transform t = {VOUCH_TF_ROTATE, 89.999999};
  REQUIRE(vouch_transform_apply(NULL, &a, &t, 0, &b) == VOUCH_OK);
  CHECK(px(&b, 10, 5, 0) >= 254);
  vouch_image_clear(&b);
  vouch_image_clear(&a);
}

static void test_crop_sizes(void) {
  vouch_image a, b;
  REQUIRE(vouch_image_init(&a, 100, 80, 3) == VOUCH_OK);
  /* Every pixel unique: (x, y, x ^ y). */
  for (uint32_t y = 0; y < 80; y++)
    for (uint32_t x = 0; x < 100; x++) {
      uint8_t *p = a.pixels + (size_t)y * a.stride + 3 * x;
      p[0] = (uint8_t)x;
      p[1] = (uint8_t)y;
      p[2] = (uint8_t)(x ^ y);
    }
  static const double fr[] = {0, 0.05, 0.1, 0.3, 0.95};
  static const uint32_t ww[] = {100, 95, 90, 70, 5}, hh[] = {80, 76, 72, 56, 4};
  int moved = 0;
  for (int i = 0; i < 5; i++) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
      REQUIRE(apply(&a, VOUCH_TF_CROP, fr[i], seed, &b) == VOUCH_OK);
      CHECK_EQ_INT(b.width, ww[i]);
      CHECK_EQ_INT(b.height, hh[i]);
      uint32_t x0 = px(&b, 0, 0, 0), y0 = px(&b, 0, 0, 1);
      CHECK(x0 + b.width <= 100 && y0 + b.height <= 80);
      int ok = 1;
      for (uint32_t y = 0; y < b.height; y++)
        for (uint32_t x = 0; x < b.width; x++)
          ok &= px(&b, x, y, 0) == x0 + x && px(&b, x, y, 1) == y0 + y;
      CHECK(ok);
      if (x0 || y0) moved = 1;
      vouch_image_clear(&b);
    }
  }
  CHECK(moved); /* the window's place does depend on the seed */
  vouch_image_clear(&a);
}

static void test_resize_border_aspect(void) {
  vouch_image a, b;
  REQUIRE(vouch_image_init(&a, 4, 4, 1) == VOUCH_OK);
  static const uint8_t v[16] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150};
  memcpy(a.pixels, v, 16);
  /* Halving averages 2x2 blocks exactly: (0+10+40+50)/4 = 25, ... */
  REQUIRE(apply(&a, VOUCH_TF_RESIZE, 0.5, 0, &b) == VOUCH_OK);
  CHECK(b.width == 2 && b.height == 2);
  CHECK(b.pixels[0] == 25 && b.pixels[1] == 45 && b.pixels[2] == 105 && b.pixels[3] == 125);
  vouch_image_clear(&b);
  /* 4 -> 3 columns: thirds overlap pixels by 1/3. Row 0: (0*3+10)/4 = 2.5,
   * (10*2+20*2)/4 = 15, (20+30*3)/4 = 27.5; rows unchanged. */
  REQUIRE(vouch_image_resample(&a, 3, 4, &b) == VOUCH_OK);
  CHECK(b.pixels[0] == 3 && b.pixels[1] == 15 && b.pixels[2] == 28);
  vouch_image_clear(&b);
  vouch_image_clear(&a);
  /* A flat image stays flat through any resize; sizes round to nearest. */
  REQUIRE(vouch_image_init(&a, 333, 101, 3) == VOUCH_OK);
  memset(a.pixels, 77, a.stride * a.height);
  static const double sc[] = {0.1, 0.25, 0.75, 1.5};
  static const uint32_t ww[] = {33, 83, 250, 500}, hh[] = {10, 25, 76, 152};
  for (int i = 0; i < 4; i++) {
    REQUIRE(apply(&a, VOUCH_TF_RESIZE, sc[i], 0, &b) == VOUCH_OK);
    CHECK_EQ_INT(b.width, ww[i]);
    CHECK_EQ_INT(b.height, hh[i]);
    int flat = 1;
    for (size_t k = 0; k < b.stride * b.height; k++) flat &= b.pixels[k] == 77;
    CHECK(flat);
    vouch_image_clear(&b);
  }
  REQUIRE(apply(&a, VOUCH_TF_ASPECT, 1.25, 0, &b) == VOUCH_OK);
  CHECK(b.width == 416 && b.height == 101);
  vouch_image_clear(&b);
  /* Border 10%: 33 columns and 10 rows of black on each side. */
  REQUIRE(apply(&a, VOUCH_TF_BORDER, 0.1, 0, &b) == VOUCH_OK);
  CHECK_EQ_INT(b.width, 333 + 2 * 33);
  CHECK_EQ_INT(b.height, 101 + 2 * 10);
  CHECK(px(&b, 32, 50, 0) == 0 && px(&b, 33, 50, 0) == 77 && px(&b, 33 + 332, 10, 2) == 77 &&
        px(&b, 33 + 333, 10, 2) == 0 && px(&b, 100, 9, 1) == 0 && px(&b, 100, 10, 1) == 77);
  vouch_image_clear(&b);
  vouch_image_clear(&a);
}

/* ------------------------------------------------------------ colour, blur, noise */

static void test_colour(void) {
  vouch_image a, b;
  REQUIRE(vouch_image_init(&a, 4, 1, 3) == VOUCH_OK);
  static const uint8_t v[12] = {0, 0, 0, 255, 255, 255, 100, 150, 200, 255, 0, 0};
  memcpy(a.pixels, v, 12);
  REQUIRE(apply(&a, VOUCH_TF_BRIGHTNESS, 64, 0, &b) == VOUCH_OK);
  CHECK(b.pixels[0] == 64 && b.pixels[3] == 255 && b.pixels[6] == 164 && b.pixels[11] == 64);
  vouch_image_clear(&b);
  REQUIRE(apply(&a, VOUCH_TF_CONTRAST, 2, 0, &b) == VOUCH_OK);
  CHECK(b.pixels[0] == 0 && b.pixels[6] == 72 && b.pixels[7] == 172 && b.pixels[8] == 255);
  vouch_image_clear(&b);
  REQUIRE(apply(&a, VOUCH_TF_GAMMA, 1, 0, &b) == VOUCH_OK);
  CHECK(same_pixels(&a, &b));
  vouch_image_clear(&b);
  REQUIRE(apply(&a, VOUCH_TF_GAMMA, 2, 0, &b) == VOUCH_OK);
  CHECK(b.pixels[6] == 39 && b.pixels[3] == 255); /* 255 * (100/255)^2 = 39.2 */
  vouch_image_clear(&b);
  REQUIRE(apply(&a, VOUCH_TF_GREY, 0, 0, &b) == VOUCH_OK);
  CHECK(b.channels == 1 && b.pixels[0] == 0 && b.pixels[1] == 255 && b.pixels[3] == 77);
  /* (77*100 + 150*150 + 29*200 + 128) >> 8 = 141 */
  CHECK_EQ_INT(b.pixels[2], 141);
  vouch_image_clear(&b);
  vouch_image_clear(&a);
}

static void test_blur(void) {
  vouch_image a, b;
  REQUIRE(vouch_image_init(&a, 7, 5, 1) == VOUCH_OK);
  a.pixels[2 * 7 + 3] = 90; /* an impulse at (3, 2) */
  REQUIRE(apply(&a, VOUCH_TF_BLUR, 1, 0, &b) == VOUCH_OK);
  for (uint32_t y = 0; y < 5; y++)
    for (uint32_t x = 0; x < 7; x++) {
      int inside = x >= 2 && x <= 4 && y >= 1 && y <= 3;
      CHECK_EQ_INT(px(&b, x, y, 0), inside ? 10 : 0);
    }
  vouch_image_clear(&b);
  /* At a corner the window is clipped: mean of 4 pixels. */
  memset(a.pixels, 0, 35);
  a.pixels[0] = 100;
  REQUIRE(apply(&a, VOUCH_TF_BLUR, 1, 0, &b) == VOUCH_OK);
  CHECK_EQ_INT(px(&b, 0, 0, 0), 25);
  CHECK_EQ_INT(px(&b, 1, 1, 0), 11); /* 100/9 */
  vouch_image_clear(&b);
  /* Radius larger than the image: everything is the global mean. */
  for (int i = 0; i < 35; i++) a.pixels[i] = (uint8_t)(i * 7);
  REQUIRE(apply(&a, VOUCH_TF_BLUR, 50, 0, &b) == VOUCH_OK);
  CHECK_EQ_INT(px(&b, 0, 0, 0), 119);
  CHECK_EQ_INT(px(&b, 6, 4, 0), 119);
  vouch_image_clear(&b);
  vouch_image_clear(&a);
}

static void test_noise(void) {
  vouch_image a, b, c;
  REQUIRE(vouch_image_init(&a, 200, 100, 3) == VOUCH_OK);
  memset(a.pixels, 128, a.stride * a.height);
  REQUIRE(apply(&a, VOUCH_TF_NOISE, 10, 42, &b) == VOUCH_OK);
  REQUIRE(apply(&a, VOUCH_TF_NOISE, 10, 42, &c) == VOUCH_OK);
  CHECK(same_pixels(&b, &c));
  vouch_image_clear(&c);
  REQUIRE(apply(&a, VOUCH_TF_NOISE, 10, 43, &c) == VOUCH_OK);
  CHECK(!same_pixels(&b, &c));
  vouch_image_clear(&c);
  double s = 0, s2 = 0;
  size_t n = a.stride * a.height;
  for (size_t i = 0; i < n; i++) {
    double d = (double)b.pixels[i] - 128;
    s += d;
    s2 += d * d;
  }
  double mean = s / n, sd = sqrt(s2 / n - mean * mean);
  CHECK(fabs(mean) < 0.2);
  CHECK(fabs(sd - 10) < 0.3); /* rounding to integers adds 1/12 of variance */
  vouch_image_clear(&b);
  REQUIRE(apply(&a, VOUCH_TF_NOISE, 0, 42, &b) == VOUCH_OK);
  CHECK(same_pixels(&a, &b));
  vouch_image_clear(&b);
  vouch_image_clear(&a);
}

static void test_overlay(void) {
  vouch_image a, b;
  REQUIRE(vouch_image_init(&a, 400, 300, 3) == VOUCH_OK);
  static const double fr[] = {0.05, 0.2, 0.5, 1.0};
  for (int i = 0; i < 4; i++) {
    REQUIRE(apply(&a, VOUCH_TF_OVERLAY, fr[i], 9, &b) == VOUCH_OK);
    /* The bounding box of changed pixels is the block (its background
     * colour differs from black with probability 1 - 2^-24). */
    uint32_t x0 = 400, y0 = 300, x1 = 0, y1 = 0;
    for (uint32_t y = 0; y < 300; y++)
      for (uint32_t x = 0; x < 400; x++)
        if (px(&b, x, y, 0) | px(&b, x, y, 1) | px(&b, x, y, 2)) {
          if (x < x0) x0 = x;
          if (y < y0) y0 = y;
          if (x > x1) x1 = x;
          if (y > y1) y1 = y;
        }
    double area = (double)(x1 - x0 + 1) * (y1 - y0 + 1) / (400.0 * 300.0);
    CHECK(fabs(area - fr[i]) < 0.01);
    vouch_image_clear(&b);
  }
  vouch_image_clear(&a);
}

static void test_jpeg_roundtrip(void) {
  vouch_transformer *tf;
  REQUIRE(vouch_transformer_create(&tf) == VOUCH_OK);
  for (uint32_t ch = 1; ch <= 3; ch += 2) {
    vouch_image a, b;
    make_image(&a, 160, 120, ch, 3);
    vouch_transform t = {VOUCH_TF_JPEG, 95};
    double err[2];
    static const int qs[2] = {95, 10};
    for (int i = 0; i < 2; i++) {
      t.param = qs[i];
      REQUIRE(vouch_transform_apply(tf, &a, &t, 0, &b) == VOUCH_OK);
      CHECK(b.width == 160 && b.height == 120 && b.channels == ch);
      double e = 0;
      for (uint32_t y = 0; y < 120; y++)
        for (uint32_t x = 0; x < 160 * ch; x++)
          e += fabs((double)a.pixels[(size_t)y * a.stride + x] - b.pixels[(size_t)y * b.stride + x]);
      err[i] = e / (160.0 * 120 * ch);
      vouch_image_clear(&b);
    }
    /* Measured on this (deliberately noisy) pattern: q95 1.5 levels grey,
     * 4.8 colour (4:2:0 halves the chroma); q10 6.2 and 11.4. */
    CHECK(err[0] > 0 && err[0] < (ch == 3 ? 6 : 3));
    CHECK(err[1] > err[0] && err[1] < 25);
    /* JPEG needs the transformer. */
    CHECK(vouch_transform_apply(NULL, &a, &t, 0, &b) == VOUCH_E_INVALID);
    vouch_image_clear(&a);
  }
  /* A large image forces the encoder's output buffer to grow. */
  vouch_image a, b;
  REQUIRE(vouch_image_init(&a, 300, 200, 3) == VOUCH_OK);
  for (size_t i = 0; i < a.stride * a.height; i++) a.pixels[i] = (uint8_t)(i * 2654435761u >> 13);
  vouch_transform t = {VOUCH_TF_JPEG, 100};
  REQUIRE(vouch_transform_apply(tf, &a, &t, 0, &b) == VOUCH_OK);
  CHECK(b.width == 300 && b.height == 200);
  vouch_image_clear(&b);
  vouch_image_clear(&a);
  vouch_transformer_free(tf);
}

/* Every transform of the default suite is deterministic and keeps a sane
 * output; allocation failures come back as VOUCH_E_NOMEM, not crashes or
 * leaks (ASan checks the leaks). */
static void test_suite_deterministic_and_nomem(void) {
  vouch_transformer *tf;
  REQUIRE(vouch_transformer_create(&tf) == VOUCH_OK);
  vouch_image a, b, c;
  make_image(&a, 90, 70, 3, 4);
  size_t n;
  const vouch_transform *s = vouch_transform_default_suite(&n);
  CHECK(n >= 40);
  for (size_t i = 0; i < n; i++) {
    char name[VOUCH_TRANSFORM_TEXT_BYTES];
    vouch_transform back;
    REQUIRE(vouch_transform_format(&s[i], name, sizeof name) == VOUCH_OK);
    CHECK(vouch_transform_parse(name, &back) == VOUCH_OK && back.kind == s[i].kind &&
          back.param == s[i].param);
    REQUIRE(vouch_transform_apply(tf, &a, &s[i], 7, &b) == VOUCH_OK);
    REQUIRE(vouch_transform_apply(tf, &a, &s[i], 7, &c) == VOUCH_OK);
    CHECK(same_pixels(&b, &c));
    CHECK(b.width >= 1 && b.height >= 1);
    vouch_image_clear(&b);
    vouch_image_clear(&c);
    int saw_nomem = 0;
    for (long k = 0; k < 20; k++) {
      vouch__test_fail_allocs_after(k);
      int rc = vouch_transform_apply(tf, &a, &s[i], 7, &b);
      vouch__test_fail_allocs_after(-1);
      CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
      if (rc == VOUCH_E_NOMEM) {
        saw_nomem = 1;
        CHECK(b.pixels == NULL);
      }
      vouch_image_clear(&b);
      if (rc == VOUCH_OK) break;
    }
    CHECK(saw_nomem);
  }
  vouch_image_clear(&a);
  vouch_transformer_free(tf);
}

static void test_parse(void) {
  vouch_transform t;
  CHECK(vouch_transform_parse("jpeg:50", &t) == VOUCH_OK && t.kind == VOUCH_TF_JPEG && t.param == 50);
  CHECK(vouch_transform_parse("rotate:-2.5", &t) == VOUCH_OK && t.param == -2.5);
  CHECK(vouch_transform_parse("gray", &t) == VOUCH_OK && t.kind == VOUCH_TF_GREY);
  CHECK(vouch_transform_parse("mirror", &t) == VOUCH_OK && t.param == 0);
  CHECK(vouch_transform_parse("jpeg:0", &t) == VOUCH_E_INVALID);
  CHECK(vouch_transform_parse("jpeg:50.5", &t) == VOUCH_E_INVALID);
  CHECK(vouch_transform_parse("resize", &t) == VOUCH_E_INVALID);
  CHECK(vouch_transform_parse("resize:", &t) == VOUCH_E_INVALID);
  CHECK(vouch_transform_parse("resize:0.5x", &t) == VOUCH_E_INVALID);
  CHECK(vouch_transform_parse("resize:nan", &t) == VOUCH_E_INVALID);
  CHECK(vouch_transform_parse("crop:0.99", &t) == VOUCH_E_INVALID);
  CHECK(vouch_transform_parse("sharpen:1", &t) == VOUCH_E_INVALID);
  CHECK(vouch_transform_parse("resiz:1", &t) == VOUCH_E_INVALID);
  char buf[VOUCH_TRANSFORM_TEXT_BYTES];
  t.kind = VOUCH_TF_RESIZE;
  t.param = 0.25;
  CHECK(vouch_transform_format(&t, buf, sizeof buf) == VOUCH_OK);
  CHECK_EQ_STR(buf, "resize:0.25");
  CHECK(vouch_transform_format(&t, buf, 10) == VOUCH_E_INVALID);
}

/* ------------------------------------------------------------ per-photo evaluation */

static void test_eval_photo(void) {
  vouch_transformer *tf;
  vouch_hasher *h;
  REQUIRE(vouch_transformer_create(&tf) == VOUCH_OK);
  REQUIRE(vouch_hasher_create(&h) == VOUCH_OK);
  vouch_image a;
  make_image(&a, 120, 90, 3, 5);
  static const vouch_transform suite[] = {
    {VOUCH_TF_MIRROR, 0}, {VOUCH_TF_ROTATE, 90}, {VOUCH_TF_ROTATE, 180}, {VOUCH_TF_JPEG, 90},
    {VOUCH_TF_NOISE, 60}};
  static const int algos[] = {VOUCH_ALGO_PDQ, VOUCH_ALGO_PHASH, VOUCH_ALGO_DHASH, VOUCH_ALGO_AHASH};
  uint8_t orig[4][VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES];
  vouch_eval_dist d[5 * 4];
  int q;
  REQUIRE(vouch_eval_photo(tf, h, &a, suite, 5, algos, 4, 11, orig, &q, d) == VOUCH_OK);
  CHECK(q >= 0 && q <= 100);
  for (int al = 0; al < 4; al++) {
    size_t hb = vouch_algo_bytes(algos[al]);
    for (int i = 0; i < 5; i++) CHECK(d[i * 4 + al].dihedral <= d[i * 4 + al].plain);
    /* The 64-bit hashes' variants are the hashes of the turned images, bit
     * for bit; PDQ's come from the DCT and match them closely. */
    unsigned tol = algos[al] == VOUCH_ALGO_PDQ ? 8 : 0;
    CHECK(d[0 * 4 + al].dihedral <= tol); /* mirror left-right = flipy */
    CHECK(d[1 * 4 + al].dihedral <= tol);
    CHECK(d[2 * 4 + al].dihedral <= tol);
    CHECK_EQ_INT(d[0 * 4 + al].plain, vouch_hamming(orig[al][0], orig[al][VOUCH_DIH_FLIPY], hb));
    /* Heavy noise moves the hash further than light JPEG. */
    CHECK(d[4 * 4 + al].plain >= d[3 * 4 + al].plain);
  }
  /* Without the orig buffer, the same distances. */
  vouch_eval_dist d2[5 * 4];
  REQUIRE(vouch_eval_photo(tf, h, &a, suite, 5, algos, 4, 11, NULL, NULL, d2) == VOUCH_OK);
  CHECK(memcmp(d, d2, sizeof d) == 0);
  CHECK(vouch_eval_photo(tf, h, &a, suite, 5, algos, 0, 11, NULL, NULL, d2) == VOUCH_E_INVALID);
  vouch_image_clear(&a);
  vouch_hasher_free(h);
  vouch_transformer_free(tf);
}

/* ------------------------------------------------------------ statistics */

static void test_percentile(void) {
  uint64_t h[10] = {0};
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 0.5), -1);
  /* values 1,2,2,3,3,3,3,9,9,9 */
  h[1] = 1; h[2] = 2; h[3] = 4; h[9] = 3;
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 0), 1);
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 0.1), 1);
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 0.11), 2);
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 0.5), 3);
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 0.7), 3);
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 0.71), 9);
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 0.99), 9);
  CHECK_EQ_INT(vouch_hist_percentile(h, 10, 1), 9);
}

/* Exact P(X >= t) by direct summation in long double. */
static long double brute_sf(unsigned n, unsigned t, long double q) {
  long double s = 0;
  for (unsigned k = t; k <= n; k++) {
    long double c = 1;
    for (unsigned i = 0; i < k; i++) c = c * (n - i) / (i + 1);
    s += c * powl(q, k) * powl(1 - q, n - k);
  }
  return s;
}

static void test_binomial(void) {
  static const double qs[] = {1e-6, 0.01, 0.3, 0.5, 0.9};
  double worst = 0;
  for (unsigned n = 1; n <= 25; n += 3)
    for (int qi = 0; qi < 5; qi++)
      for (unsigned t = 0; t <= n + 1; t++) {
        double q = qs[qi];
        double got = vouch_binom_log_sf(n, t, log(q), log1p(-q));
        long double want = brute_sf(n, t, q);
        if (want == 0) {
          CHECK(got == -INFINITY);
          continue;
        }
        double rel = fabs(expm1(got - (double)logl(want)));
        if (rel > worst) worst = rel;
        /* cdf(t - 1) = 1 - sf(t) */
        if (t >= 1) {
          double c = vouch_binom_log_cdf(n, t - 1, log(q), log1p(-q));
          long double wc = 1 - want;
          if (wc > 1e-12L) CHECK(fabs(exp(c) - (double)wc) < 1e-12 + 1e-9 * (double)wc);
        }
      }
  CHECK(worst < 1e-10);
  /* Far below double range: 30 of 5000 photos each matching with
   * q = 1e-20: ln P ~ ln C(5000, 30) + 30 ln 1e-20, dominated by k = 30. */
  double lq = log(1e-20);
  double got = vouch_binom_log_sf(5000, 30, lq, log1p(-1e-20));
  double lc = 0;
  for (int i = 0; i < 30; i++) lc += log(5000.0 - i) - log(i + 1.0);
  CHECK(fabs(got - (lc + 30 * lq)) < 1e-9 * fabs(got));
  CHECK(got / log(10.0) < -500);
  /* Edge cases. */
  CHECK(vouch_binom_log_sf(10, 0, log(0.1), log1p(-0.1)) == 0);
  CHECK(vouch_binom_log_sf(10, 11, log(0.1), log1p(-0.1)) == -INFINITY);
  CHECK(vouch_binom_log_sf(10, 3, -INFINITY, 0) == -INFINITY);
  CHECK(vouch_binom_log_sf(10, 3, 0, -INFINITY) == 0);
  /* A large n with t below the mean: P close to 1. */
  double big = vouch_binom_log_sf(1000000, 10, log(0.001), log1p(-0.001));
  CHECK(big <= 0 && big > -1e-300);
}

static void test_bounds(void) {
  /* Rule of three: no events in k trials -> 95% upper bound ~ 3/k. */
  double u = vouch_rate_upper_bound(0, 1000000, 0.95);
  CHECK(fabs(u - 2.995732e-6) < 1e-11);
  CHECK(fabs(u * 1000000 / 3 - 1) < 0.002);
  /* Clopper-Pearson, 1 event in 10: one-sided 95% bound 0.3942 (the upper
   * end of the two-sided 90% interval). */
  u = vouch_rate_upper_bound(1, 10, 0.95);
  CHECK(fabs(u - 0.3942) < 1e-4);
  CHECK(fabs(exp(vouch_binom_log_cdf(10, 1, log(u), log1p(-u))) - 0.05) < 1e-9);
  u = vouch_rate_upper_bound(5, 500000, 0.95);
  CHECK(u > 5.0 / 500000 && u < 2.5e-5); /* 10.51/k (Poisson table) */
  CHECK(fabs(u * 500000 - 10.513) < 0.01);
  CHECK(vouch_rate_upper_bound(3, 0, 0.95) == 1);
}

static void test_risk(void) {
  vouch_risk_in in = {.p = 1e-3, .n_db = 100, .m_photos = 10, .t = 2};
  vouch_risk_out o;
  REQUIRE(vouch_risk_account(&in, &o) == VOUCH_OK);
  long double q = 1 - powl(1 - 1e-3L, 100);
  CHECK(fabs(o.q - (double)q) < 1e-15);
  long double want = brute_sf(10, 2, q);
  CHECK(fabs(o.account / (double)want - 1) < 1e-10);
  CHECK(fabs(o.expected_pairs - 1.0) < 1e-12);
  /* p = 0: nothing can match. */
  in.p = 0;
  REQUIRE(vouch_risk_account(&in, &o) == VOUCH_OK);
  CHECK(o.account == 0 && o.log10_account == -INFINITY);
  in.p = 1.5;
  CHECK(vouch_risk_account(&in, &o) == VOUCH_E_INVALID);
  /* Tiny p: q ~ N p with no cancellation. */
  in = (vouch_risk_in){.p = 1e-18, .n_db = 200000, .m_photos = 5000, .t = 30};
  REQUIRE(vouch_risk_account(&in, &o) == VOUCH_OK);
  CHECK(fabs(o.q / 2e-13 - 1) < 1e-9);
  CHECK(o.log10_account < -250);
  /* The rate that meets a 1e-12 target does meet it, and 1% more does not. */
  double p = vouch_risk_rate_for_target(&in, -12);
  CHECK(p > 0 && p < 1);
  in.p = p;
  vouch_risk_account(&in, &o);
  CHECK(o.log10_account <= -12 + 1e-9 && o.log10_account > -12.1);
  in.p = p * 1.01;
  vouch_risk_account(&in, &o);
  CHECK(o.log10_account > -12);
}

int main(void) {
  TT_RUN(test_mirror_twice);
  TT_RUN(test_rotate_quarter);
  TT_RUN(test_rotate_small);
  TT_RUN(test_crop_sizes);
  TT_RUN(test_resize_border_aspect);
  TT_RUN(test_colour);
  TT_RUN(test_blur);
  TT_RUN(test_noise);
  TT_RUN(test_overlay);
  TT_RUN(test_jpeg_roundtrip);
  TT_RUN(test_suite_deterministic_and_nomem);
  TT_RUN(test_parse);
  TT_RUN(test_eval_photo);
  TT_RUN(test_percentile);
  TT_RUN(test_binomial);
  TT_RUN(test_bounds);
  TT_RUN(test_risk);
  TT_MAIN_END;
}
