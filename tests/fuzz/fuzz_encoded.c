/* tests/fuzz/fuzz_encoded.c -- the streamed path equals the whole-image path.
 * On any bytes, vouch_hash_encoded() (which streams a JPEG's rows into PDQ's
 * filter) must return the same code as vouch_decoder_decode() followed by
 * vouch_hash_image(), and on success the same 8 hashes and quality, with
 * EXIF orientation applied and ignored. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/vouch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (int pass = 0; pass < 2; pass++) {
    vouch_decode_opts o = vouch_decode_opts_default();
    o.apply_orientation = pass;
    o.max_pixels = 4u << 20; /* keep each run small */
    vouch_decoder *dec = NULL;
    vouch_hasher *h = NULL;
    if (vouch_decoder_create(&dec, &o) != VOUCH_OK || vouch_hasher_create(&h) != VOUCH_OK) abort();
    uint8_t a[8][VOUCH_PDQ_BYTES], b[8][VOUCH_PDQ_BYTES];
    int qa = -1, qb = -1;
    uint32_t w = 0, hh = 0;
    int rc = vouch_hash_encoded(h, dec, data, size, VOUCH_ALGO_PDQ, VOUCH_HASH_DIHEDRAL, &a[0][0], sizeof a,
                                &qa, &w, &hh);
    vouch_image img = {0};
    int rc2 = vouch_decoder_decode(dec, data, size, &img);
    if (rc2 == VOUCH_OK)
      rc2 = vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, VOUCH_HASH_DIHEDRAL, &b[0][0], sizeof b, &qb);
    if (rc != rc2) abort();
    if (rc == VOUCH_OK && (qa != qb || memcmp(a, b, sizeof a) != 0 || w != img.width || hh != img.height)) abort();
    vouch_image_clear(&img);
    vouch_hasher_free(h);
    vouch_decoder_free(dec);
  }
  return 0;
}
