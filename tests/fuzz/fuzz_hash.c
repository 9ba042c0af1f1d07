/* tests/fuzz/fuzz_hash.c -- the hash core on arbitrary pixels.
 * Input: 2 bytes width-1, 2 bytes height-1 (each capped), 1 byte flags, then
 * pixel bytes (repeated to fill the image).  Invariants checked:
 *  - every algorithm hashes any image without error, twice identically;
 *  - PDQ with the SIMD kernels equals PDQ with the scalar kernels, bit for
 *    bit, on the exact path and on the scaled (fast-mode) path;
 *  - variant 0 of the dihedral call equals the single hash;
 *  - hex text round-trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/vouch.h"
#include "hash/pdq_internal.h"

#define MAX_SIDE 300U

static void require(int cond) {
  if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 6) return 0;
  uint32_t w = 1 + (uint32_t)((data[0] | data[1] << 8) % MAX_SIDE);
  uint32_t h = 1 + (uint32_t)((data[2] | data[3] << 8) % MAX_SIDE);
  uint8_t flags = data[4];
  const uint8_t *px = data + 5;
  size_t npx = size - 5;
  vouch_image img;
  require(vouch_image_init(&img, w, h, (flags & 1) ? 1 : 3) == VOUCH_OK);
  for (uint32_t y = 0; y < h; y++)
    for (size_t x = 0; x < (size_t)w * img.channels; x++)
      img.pixels[y * img.stride + x] = px[(y * (size_t)w * img.channels + x) % npx];
  if (flags & 2) { /* make it grey in RGB: exercises the grey path of RGB input */
    for (uint32_t y = 0; y < h && img.channels == 3; y++)
      for (uint32_t x = 0; x < w; x++) {
        uint8_t *p = img.pixels + y * img.stride + 3 * x;
        p[1] = p[2] = p[0];
      }
  }
  vouch_hasher *a, *b;
  require(vouch_hasher_create(&a) == VOUCH_OK);
  require(vouch_hasher_create(&b) == VOUCH_OK);
  vouch__hasher_set_simd(b, 0);
  static const int algos[4] = {VOUCH_ALGO_PDQ, VOUCH_ALGO_PHASH, VOUCH_ALGO_DHASH, VOUCH_ALGO_AHASH};
  for (int k = 0; k < 4; k++) {
    size_t nb = vouch_algo_bytes(algos[k]);
    uint8_t one[32], all[8 * 32], again[8 * 32], scalar[8 * 32];
    int q1 = -2, q2 = -2;
    require(vouch_hash_image(a, algos[k], &img, 0, one, sizeof one, &q1) == VOUCH_OK);
    require(vouch_hash_image(a, algos[k], &img, VOUCH_HASH_DIHEDRAL, all, sizeof all, &q2) == VOUCH_OK);
    require(q1 == q2);
    require(memcmp(one, all, nb) == 0);
    require(vouch_hash_image(a, algos[k], &img, VOUCH_HASH_DIHEDRAL, again, sizeof again, NULL) == VOUCH_OK);
    require(memcmp(all, again, 8 * nb) == 0);
    require(vouch_hash_image(b, algos[k], &img, VOUCH_HASH_DIHEDRAL, scalar, sizeof scalar, NULL) == VOUCH_OK);
    require(memcmp(all, scalar, 8 * nb) == 0);
    char hex[VOUCH_HASH_HEX_BYTES];
    uint8_t back[32];
    require(vouch_hash_to_hex(one, nb, hex, sizeof hex) == VOUCH_OK);
    require(vouch_hash_from_hex(hex, 2 * nb, back, nb) == VOUCH_OK);
    require(memcmp(back, one, nb) == 0);
  }
  /* The fast-mode path: pretend this was decoded at 1/denom of a larger image. */
  img.scale_denom = 2 << (flags >> 6); /* 2, 4, 8 or 16 */
  img.src_width = w * (uint32_t)img.scale_denom;
  img.src_height = h * (uint32_t)img.scale_denom;
  uint8_t fa[8 * 32], fb[8 * 32];
  require(vouch_hash_image(a, VOUCH_ALGO_PDQ, &img, VOUCH_HASH_DIHEDRAL, fa, sizeof fa, NULL) == VOUCH_OK);
  require(vouch_hash_image(b, VOUCH_ALGO_PDQ, &img, VOUCH_HASH_DIHEDRAL, fb, sizeof fb, NULL) == VOUCH_OK);
  require(memcmp(fa, fb, sizeof fa) == 0);
  /* the hex parser on raw bytes never crashes and accepts only hex */
  uint8_t out[32];
  size_t n = size > 64 ? 64 : size & ~(size_t)1;
  (void)vouch_hash_from_hex((const char *)data, n, out, n / 2);
  vouch_hasher_free(a);
  vouch_hasher_free(b);
  vouch_image_clear(&img);
  return 0;
}
