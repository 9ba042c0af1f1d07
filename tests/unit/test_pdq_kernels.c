/* tests/unit/test_pdq_kernels.c -- PDQ's SIMD kernels against its scalar
 * kernels, bit for bit, on the RGB path vPDQ uses (vouch__pdq_exact_rgb)
 * and on a float luma plane (vouch__pdq_core), over many image sizes.
 *
 * test_pdq checks both kernel sets against Meta's reference on the sample
 * photos; this test covers the sizes those photos do not: every width
 * remainder modulo 16 around the SIMD blocks' edges, narrow and short
 * images, windows from 1 to 9, padded strides, and an image that ends
 * exactly at the end of its allocation (the luma kernels read a few bytes
 * beside the pixels they convert: under ASan this fails if a read leaves
 * the image).  It compares the filtered and decimated 64x64 buffer, the
 * 16x16 DCT, the quality and the hash, so a difference of one ulp in any
 * kept output fails it, not only one that flips a hash bit. */
#include <stdlib.h>
#include <string.h>
#include "tinytest.h"
#include "vouch/vouch.h"
#include "hash/pdq_internal.h"

typedef struct {
  float buf64[64 * 64], dct16[256];
  uint8_t hash[VOUCH_PDQ_BYTES];
  int quality;
} pdq_out;

static int same(const pdq_out *a, const pdq_out *b) {
  return memcmp(a->buf64, b->buf64, sizeof a->buf64) == 0 && memcmp(a->dct16, b->dct16, sizeof a->dct16) == 0 &&
         memcmp(a->hash, b->hash, sizeof a->hash) == 0 && a->quality == b->quality;
}

/* Fills w x h RGB pixels: noise (kind 0), a smooth pattern (1), or colour
 * blocks with sharp edges (2). */
static void fill(uint8_t *px, size_t stride, uint32_t w, uint32_t h, int kind, uint64_t *seed) {
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      uint8_t *p = px + (size_t)y * stride + 3 * (size_t)x;
      for (int ch = 0; ch < 3; ch++) {
        unsigned v;
        if (kind == 0) v = (unsigned)(tt_xorshift(seed) >> 56);
        else if (kind == 1) v = (x * (ch + 1) * 255 / (w ? w : 1) + y * 3 + (unsigned)ch * 40) & 255;
        else v = (((x / 7) ^ (y / 5)) * 37 * (unsigned)(ch + 2)) & 255;
        p[ch] = (uint8_t)v;
      }
    }
}

static void check_size(const float dct[16 * 64], uint32_t w, uint32_t h, size_t pad, int kind, uint64_t *seed,
                       int *n_ok) {
  const size_t stride = 3 * (size_t)w + pad;
  /* exactly the bytes of the image: the last row has no padding after it */
  const size_t bytes = stride * (h - 1) + 3 * (size_t)w;
  uint8_t *px = malloc(bytes);
  float *luma = malloc((size_t)w * h * sizeof(float));
  REQUIRE(px && luma);
  memset(px, 0, bytes);
  fill(px, stride, w, h, kind, seed);
  const vouch_image img = {.width = w, .height = h, .channels = 3, .stride = stride, .pixels = px};
  pdq_out simd, scalar, plane;
  memset(&simd, 0, sizeof simd);
  memset(&scalar, 0, sizeof scalar);
  memset(&plane, 0, sizeof plane);
  CHECK_EQ_INT(vouch__pdq_exact_rgb(dct, &img, 1, simd.hash, &simd.quality, simd.buf64, simd.dct16), VOUCH_OK);
  CHECK_EQ_INT(vouch__pdq_exact_rgb(dct, &img, 0, scalar.hash, &scalar.quality, scalar.buf64, scalar.dct16),
               VOUCH_OK);
  /* the float plane by the reference's formula, through the plane path */
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++) {
      const uint8_t *p = px + (size_t)y * stride + 3 * (size_t)x;
      luma[(size_t)y * w + x] = VOUCH__LUMA_R * (float)p[0] + VOUCH__LUMA_G * (float)p[1] + VOUCH__LUMA_B * (float)p[2];
    }
  uint8_t (*ph)[VOUCH_PDQ_BYTES] = &plane.hash;
  CHECK_EQ_INT(vouch__pdq_core(dct, luma, NULL, h, w, ph, 1, &plane.quality, plane.buf64, plane.dct16), VOUCH_OK);
  const int ok = same(&simd, &scalar) && same(&simd, &plane);
  if (!ok) fprintf(stderr, "PDQ kernels differ at %ux%u pad %zu kind %d\n", w, h, pad, kind);
  CHECK(ok);
  *n_ok += ok;
  free(px);
  free(luma);
}

static void test_sizes(void) {
  float dct[16 * 64];
  vouch__pdq_dct_matrix(dct);
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  int n = 0, ok = 0;
  /* widths around the 8- and 16-pixel blocks and the luma kernel's edges */
  static const uint32_t widths[] = {5,  6,  7,  8,  9,  15, 16, 17, 18, 19, 20, 23, 24, 31, 32, 33, 34, 35,
                                    47, 48, 49, 50, 51, 63, 64, 65, 66, 79, 80, 81, 127, 128, 129, 130, 200, 480};
  static const uint32_t heights[] = {5, 7, 16, 17, 33, 64, 129};
  for (size_t i = 0; i < sizeof widths / sizeof *widths; i++)
    for (size_t k = 0; k < sizeof heights / sizeof *heights; k++) {
      check_size(dct, widths[i], heights[k], 0, (int)((i + k) % 3), &seed, &ok);
      n++;
    }
  /* padded strides, windows up to 9 (1,100+ pixels), the transposed sizes */
  static const uint32_t big[][2] = {{480, 720}, {720, 480}, {1080, 1080}, {1130, 77}, {77, 1130}, {641, 359}};
  for (size_t i = 0; i < sizeof big / sizeof *big; i++)
    for (int kind = 0; kind < 3; kind++) {
      check_size(dct, big[i][0], big[i][1], (size_t)(i % 2 ? 0 : 13 + kind), kind, &seed, &ok);
      n++;
    }
  fprintf(stderr, "PDQ SIMD, scalar and float-plane kernels: %d/%d sizes bit-identical\n", ok, n);
  CHECK(n > 250);
}

int main(void) {
  TT_RUN(test_sizes);
  TT_MAIN_END;
}
