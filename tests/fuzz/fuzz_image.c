/* tests/fuzz/fuzz_image.c -- every decoder on arbitrary bytes.
 *
 * Decodes the input twice per option set (full size with EXIF orientation;
 * scaled with min_side and orientation off) under a 4-megapixel limit, and
 * checks, beyond "no crash, no leak, no sanitizer report":
 *   - success gives width, height >= 1, channels 1 or 3,
 *     stride >= width*channels, orientation 1..8, scale_denom 1/2/4/8,
 *     an empty errmsg;
 *   - failure gives no buffer, a one-line errmsg and an image error code;
 *   - the second decode gives the same result and identical pixels;
 *   - anything but VOUCH_E_IMAGE_FORMAT/EMPTY means the format was detected.
 * Replayed over tests/fuzz/corpus/image/ in ordinary test runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/image.h"

#define FUZZ_CHECK(c) \
  do {                \
    if (!(c))         \
      abort();        \
  } while (0)

static int rc_allowed(int rc) {
  return rc == VOUCH_E_NOMEM || rc == VOUCH_E_UNSUPPORTED || rc == VOUCH_E_IMAGE_FORMAT ||
         rc == VOUCH_E_IMAGE_CORRUPT || rc == VOUCH_E_IMAGE_TOO_LARGE || rc == VOUCH_E_IMAGE_EMPTY;
}

static void one(const uint8_t *data, size_t size, int apply_orientation, uint32_t min_side) {
  vouch_decode_opts o = vouch_decode_opts_default();
  vouch_decoder *d = NULL;
  vouch_image a, b;
  int rc1, rc2;
  o.apply_orientation = apply_orientation;
  o.min_side = min_side;
  o.max_side = 16384;
  o.max_pixels = 4u * 1000u * 1000u;
  FUZZ_CHECK(vouch_decoder_create(&d, &o) == VOUCH_OK);
  rc1 = vouch_decoder_decode(d, data, size, &a);
  if (rc1 == VOUCH_OK) {
    FUZZ_CHECK(a.width >= 1 && a.height >= 1);
    FUZZ_CHECK(a.channels == 1 || a.channels == 3);
    FUZZ_CHECK(a.stride >= (size_t)a.width * a.channels);
    FUZZ_CHECK(a.pixels != NULL);
    FUZZ_CHECK(a.orientation >= 1 && a.orientation <= 8);
    FUZZ_CHECK(a.scale_denom == 1 || a.scale_denom == 2 || a.scale_denom == 4 || a.scale_denom == 8);
    FUZZ_CHECK(a.src_width >= 1 && a.src_height >= 1);
    FUZZ_CHECK(vouch_decoder_errmsg(d)[0] == '\0');
    FUZZ_CHECK(a.format == vouch_image_detect_format(data, size));
  } else {
    const char *m = vouch_decoder_errmsg(d);
    FUZZ_CHECK(rc_allowed(rc1));
    FUZZ_CHECK(a.pixels == NULL);
    FUZZ_CHECK(m[0] != '\0' && strchr(m, '\n') == NULL);
  }
  if (rc1 != VOUCH_E_IMAGE_FORMAT && rc1 != VOUCH_E_IMAGE_EMPTY && rc1 != VOUCH_E_IMAGE_TOO_LARGE)
    FUZZ_CHECK(vouch_image_detect_format(data, size) != VOUCH_FMT_UNKNOWN);

  rc2 = vouch_decoder_decode(d, data, size, &b);
  FUZZ_CHECK(rc2 == rc1);
  if (rc1 == VOUCH_OK) {
    FUZZ_CHECK(a.width == b.width && a.height == b.height && a.channels == b.channels);
    FUZZ_CHECK(a.orientation == b.orientation && a.scale_denom == b.scale_denom);
    for (uint32_t y = 0; y < a.height; y++)
      FUZZ_CHECK(memcmp(a.pixels + (size_t)y * a.stride, b.pixels + (size_t)y * b.stride,
                        (size_t)a.width * a.channels) == 0);
  }
  vouch_image_clear(&a);
  vouch_image_clear(&b);
  vouch_decoder_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one(data, size, 1, 0);
  one(data, size, 0, 32);
  return 0;
}
