/* tests/unit/test_hash64.c -- aHash, dHash, pHash: definitions on images
 * with known answers, dihedral variants against explicitly transformed
 * images, and pinned values on a real photo (regression). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tinytest.h"
#include "vouch/vouch.h"

/* Recorded from this implementation on bridge-1-original.jpg (libjpeg-turbo
 * 2.1.5, Debian 12); a change here means the definitions changed. */
#define PIN_AHASH "43c3e3010110fa38"
#define PIN_DHASH "b73787c717a734d6"
#define PIN_PHASH "44393967b846ab76"
static const int algos64[3] = {VOUCH_ALGO_AHASH, VOUCH_ALGO_DHASH, VOUCH_ALGO_PHASH};

static void make_grey(vouch_image *img, uint32_t w, uint32_t h) {
  memset(img, 0, sizeof *img);
  img->width = w;
  img->height = h;
  img->channels = 1;
  img->stride = w;
  img->pixels = calloc((size_t)w * h, 1);
}

static void hex_of(vouch_hasher *hs, int algo, const vouch_image *img, char hex[VOUCH_HASH_HEX_BYTES]) {
  uint8_t out[VOUCH_HASH_MAX_BYTES];
  int rc = vouch_hash_image(hs, algo, img, 0, out, sizeof out, NULL);
  CHECK_EQ_INT(rc, VOUCH_OK);
  vouch_hash_to_hex(out, vouch_algo_bytes(algo), hex, VOUCH_HASH_HEX_BYTES);
}

static void test_definitions(void) {
  vouch_hasher *hs;
  REQUIRE(vouch_hasher_create(&hs) == VOUCH_OK);
  vouch_image img;
  char hex[VOUCH_HASH_HEX_BYTES];
  /* Constant image: nothing is above the mean, no right neighbour is brighter. */
  make_grey(&img, 50, 40);
  memset(img.pixels, 128, 50 * 40);
  hex_of(hs, VOUCH_ALGO_AHASH, &img, hex);
  CHECK_EQ_STR(hex, "0000000000000000");
  hex_of(hs, VOUCH_ALGO_DHASH, &img, hex);
  CHECK_EQ_STR(hex, "0000000000000000");
  /* Left half dark, right half bright: aHash row = 00001111 -> 0x0f each row. */
  for (int y = 0; y < 40; y++)
    for (int x = 0; x < 50; x++) img.pixels[y * 50 + x] = x < 25 ? 10 : 240;
  hex_of(hs, VOUCH_ALGO_AHASH, &img, hex);
  CHECK_EQ_STR(hex, "0f0f0f0f0f0f0f0f");
  /* Brightness rising to the right: every right neighbour is brighter. */
  for (int y = 0; y < 40; y++)
    for (int x = 0; x < 50; x++) img.pixels[y * 50 + x] = (uint8_t)(x * 5);
  hex_of(hs, VOUCH_ALGO_DHASH, &img, hex);
  CHECK_EQ_STR(hex, "ffffffffffffffff");
  /* Top half bright: aHash rows 0-3 all ones. */
  for (int y = 0; y < 40; y++)
    for (int x = 0; x < 50; x++) img.pixels[y * 50 + x] = y < 20 ? 200 : 20;
  hex_of(hs, VOUCH_ALGO_AHASH, &img, hex);
  CHECK_EQ_STR(hex, "ffffffff00000000");
  /* pHash: a pure horizontal cosine of frequency 1 gives a single large
   * coefficient (u=0 is skipped, so the row u=1..8 carry ~0) -- the image
   * cos(pi (2x+1) 3 / 64) over x in the 32-wide grid, constant in y, has all
   * its energy at (0,3), outside the 8x8 block, so the block is ~flat: check
   * instead a vertical+horizontal product at (1,1). */
  free(img.pixels);
  make_grey(&img, 64, 64);
  for (int y = 0; y < 64; y++)
    for (int x = 0; x < 64; x++) {
      double v = 128 + 100 * cos(3.14159265358979 * (2 * (x / 2) + 1) / 64.0) *
                               cos(3.14159265358979 * (2 * (y / 2) + 1) / 64.0);
      img.pixels[y * 64 + x] = (uint8_t)(v + 0.5);
    }
  uint8_t ph[8];
  REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PHASH, &img, 0, ph, sizeof ph, NULL) == VOUCH_OK);
  /* coefficient (1,1) is bit 0, the most significant bit of byte 0 */
  CHECK(ph[0] & 0x80);
  free(img.pixels);
  vouch_hasher_free(hs);
}

/* Applies dihedral variant v to an 8-bit grey image (PDQ's meanings). */
static void transform(const vouch_image *in, int v, vouch_image *out) {
  uint32_t W = in->width, H = in->height;
  int tr = v == VOUCH_DIH_ROT90 || v == VOUCH_DIH_ROT270 || v == VOUCH_DIH_FLIPPLUS1 ||
           v == VOUCH_DIH_FLIPMINUS1;
  make_grey(out, tr ? H : W, tr ? W : H);
  const uint32_t ch = in->channels;
  if (ch != 1) {
    free(out->pixels);
    out->channels = ch;
    out->stride = (size_t)out->width * ch;
    out->pixels = calloc(out->stride * out->height, 1);
  }
  for (uint32_t y = 0; y < out->height; y++)
    for (uint32_t x = 0; x < out->width; x++) {
      uint32_t sy, sx;
      switch (v) {
      case VOUCH_DIH_ROT90: sy = x; sx = W - 1 - y; break;
      case VOUCH_DIH_ROT180: sy = H - 1 - y; sx = W - 1 - x; break;
      case VOUCH_DIH_ROT270: sy = H - 1 - x; sx = y; break;
      case VOUCH_DIH_FLIPX: sy = H - 1 - y; sx = x; break;
      case VOUCH_DIH_FLIPY: sy = y; sx = W - 1 - x; break;
      case VOUCH_DIH_FLIPPLUS1: sy = x; sx = y; break;
      case VOUCH_DIH_FLIPMINUS1: sy = H - 1 - x; sx = W - 1 - y; break;
      default: sy = y; sx = x;
      }
      for (uint32_t k = 0; k < ch; k++)
        out->pixels[y * out->stride + x * ch + k] = in->pixels[sy * in->stride + sx * ch + k];
    }
}

static void test_dihedral_matches_transformed_images(void) {
  vouch_hasher *hs;
  REQUIRE(vouch_hasher_create(&hs) == VOUCH_OK);
  for (unsigned seed = 1; seed <= 20; seed++) {
    srand(seed);
    vouch_image img;
    uint32_t w = 40 + (uint32_t)(rand() % 200), h = 40 + (uint32_t)(rand() % 200);
    make_grey(&img, w, h);
    /* smooth random blobs plus a little noise, so hashes are not degenerate
     * (no fine periodic pattern: PDQ samples its blurred image at points, and
     * a pattern near that spacing aliases differently once flipped) */
    double cx[3], cy[3], amp[3];
    for (int b = 0; b < 3; b++) {
      cx[b] = rand() % w;
      cy[b] = rand() % h;
      amp[b] = 60 + rand() % 60;
    }
    for (uint32_t y = 0; y < h; y++)
      for (uint32_t x = 0; x < w; x++) {
        double v = 20;
        for (int b = 0; b < 3; b++) {
          double d = ((x - cx[b]) * (x - cx[b]) + (y - cy[b]) * (y - cy[b])) / (double)(w * h);
          v += amp[b] * exp(-8 * d);
        }
        img.pixels[y * w + x] = (uint8_t)(v + rand() % 8);
      }
    for (int a = 0; a < 3; a++) {
      int algo = algos64[a];
      size_t nb = vouch_algo_bytes(algo);
      uint8_t all[8 * VOUCH_HASH_MAX_BYTES];
      REQUIRE(vouch_hash_image(hs, algo, &img, VOUCH_HASH_DIHEDRAL, all, sizeof all, NULL) == VOUCH_OK);
      for (int v = 0; v < 8; v++) {
        vouch_image t;
        transform(&img, v, &t);
        uint8_t one[VOUCH_HASH_MAX_BYTES];
        REQUIRE(vouch_hash_image(hs, algo, &t, 0, one, sizeof one, NULL) == VOUCH_OK);
        unsigned d = vouch_hamming(one, all + v * nb, nb);
        if (d != 0) fprintf(stderr, "seed %u %s variant %s: %u bits\n", seed, vouch_algo_name(algo), vouch_dihedral_name(v), d);
        CHECK_EQ_INT(d, 0);
        free(t.pixels);
      }
    }
    free(img.pixels);
  }
  vouch_hasher_free(hs);
}

/* Regression pins on a real photo (our own known answers, recorded when the
 * definitions above were fixed) and the rotated copies of it: the rot90
 * variant of the original must be close to the hash of the rotated JPEG. */
static void test_real_photo(void) {
  const char *shared = tt_shared_dir();
  static const struct { int algo; const char *hex; } pins[] = {
    {VOUCH_ALGO_AHASH, PIN_AHASH},
    {VOUCH_ALGO_DHASH, PIN_DHASH},
    {VOUCH_ALGO_PHASH, PIN_PHASH},
  };
  char path[2048];
  vouch_decoder *dec;
  vouch_hasher *hs;
  vouch_decode_opts o = vouch_decode_opts_default();
  REQUIRE(vouch_decoder_create(&dec, &o) == VOUCH_OK);
  REQUIRE(vouch_hasher_create(&hs) == VOUCH_OK);
  vouch_image a = {0}, b = {0};
  snprintf(path, sizeof path, "%s/testdata/pdq/images/reg-test-input/dih/bridge-1-original.jpg", shared);
  REQUIRE(vouch_decoder_decode_file(dec, path, &a) == VOUCH_OK);
  snprintf(path, sizeof path, "%s/testdata/pdq/images/reg-test-input/dih/bridge-2-rotate-90.jpg", shared);
  REQUIRE(vouch_decoder_decode_file(dec, path, &b) == VOUCH_OK);
  for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
    uint8_t all[8 * 8], rot[8];
    char hex[VOUCH_HASH_HEX_BYTES];
    REQUIRE(vouch_hash_image(hs, pins[i].algo, &a, VOUCH_HASH_DIHEDRAL, all, sizeof all, NULL) == VOUCH_OK);
    vouch_hash_to_hex(all, 8, hex, sizeof hex);
    fprintf(stderr, "%s bridge-1-original: %s\n", vouch_algo_name(pins[i].algo), hex);
    CHECK_EQ_STR(hex, pins[i].hex);
    REQUIRE(vouch_hash_image(hs, pins[i].algo, &b, 0, rot, sizeof rot, NULL) == VOUCH_OK);
    unsigned d = vouch_hamming(rot, all + 8 * VOUCH_DIH_ROT90, 8);
    fprintf(stderr, "%s: rotated JPEG vs rot90 variant: %u bits\n", vouch_algo_name(pins[i].algo), d);
    CHECK(d <= 6);
  }
  /* PDQ: the DCT-derived variants against the hash of the explicitly
   * transformed photo.  PDQ's box filter and decimation are not exactly
   * symmetric, so a few bits may differ; far below the match radius (31). */
  uint8_t pv[8][VOUCH_PDQ_BYTES];
  REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PDQ, &a, VOUCH_HASH_DIHEDRAL, &pv[0][0], sizeof pv, NULL) == VOUCH_OK);
  for (int v = 0; v < 8; v++) {
    vouch_image t;
    transform(&a, v, &t);
    uint8_t one[VOUCH_PDQ_BYTES];
    REQUIRE(vouch_hash_image(hs, VOUCH_ALGO_PDQ, &t, 0, one, sizeof one, NULL) == VOUCH_OK);
    unsigned d = vouch_hamming(one, pv[v], VOUCH_PDQ_BYTES);
    fprintf(stderr, "pdq %s: transformed photo vs variant: %u bits\n", vouch_dihedral_name(v), d);
    CHECK(d <= 12);
    free(t.pixels);
  }
  vouch_image_clear(&a);
  vouch_image_clear(&b);
  vouch_hasher_free(hs);
  vouch_decoder_free(dec);
}

int main(void) {
  TT_RUN(test_definitions);
  TT_RUN(test_dihedral_matches_transformed_images);
  TT_RUN(test_real_photo);
  TT_MAIN_END;
}
