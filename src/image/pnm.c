/* src/image/pnm.c -- our own Netpbm reader: P1..P6 (PBM, PGM, PPM, in ASCII
 * and binary forms).  PAM (P7) is not read.
 *
 * ASCII (P2/P3) samples must each be followed by a separator, the last
 * one included, so that a file cut inside a number is not read as a
 * smaller number.
 *
 * Samples are scaled from 0..maxval to 0..255 with rounding,
 * round(v * 255 / maxval), so maxval 255 is the identity and 16-bit files
 * (maxval > 255, two bytes big-endian per sample) are rounded, not
 * truncated.  A sample above maxval is corrupt.  PBM's 1 is black.
 * Output: grey for P1/P2/P4/P5, RGB for P3/P6.
 *
 * Before allocating we check that the input can hold the raster: exactly
 * for the binary forms, and at one byte per ASCII sample (plus separators)
 * for the others, so a 20-byte header promising a huge image costs nothing.
 */
#include <string.h>
#include "image_internal.h"

typedef struct pnm_in {
  const uint8_t *p;
  size_t len, pos;
} pnm_in;

static int is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skips whitespace and '#' comments (to end of line). */
static void skip_space(pnm_in *in) {
  while (in->pos < in->len) {
    uint8_t c = in->p[in->pos];
    if (c == '#') {
      while (in->pos < in->len && in->p[in->pos] != '\n' && in->p[in->pos] != '\r')
        in->pos++;
    } else if (is_space(c)) {
      in->pos++;
    } else {
      break;
    }
  }
}

/* Reads an unsigned decimal number, saturating at 2^40 (callers compare
 * against much smaller limits).  Returns 0 when no digit is there. */
static int read_uint(pnm_in *in, uint64_t *v) {
  uint64_t x = 0;
  size_t start;
  skip_space(in);
  start = in->pos;
  while (in->pos < in->len && in->p[in->pos] >= '0' && in->p[in->pos] <= '9') {
    if (x < ((uint64_t)1 << 40))
      x = x * 10 + (uint64_t)(in->p[in->pos] - '0');
    in->pos++;
  }
  *v = x;
  return in->pos > start;
}

static uint8_t scale(uint32_t v, uint32_t maxval) {
  if (maxval == 255)
    return (uint8_t)v;
  return (uint8_t)(((uint64_t)v * 255u + maxval / 2) / maxval);
}

int vouch__decode_pnm(vouch_decoder *dec, const uint8_t *data, size_t len, vouch_image *out,
                      int *orientation) {
  pnm_in in = {data, len, 2};
  const int kind = data[1] - '0'; /* 1..6, checked by detection */
  const int ascii = kind <= 3, bitmap = kind == 1 || kind == 4;
  const uint32_t ch = (kind == 3 || kind == 6) ? 3 : 1;
  uint64_t w, h, maxval = 1;
  size_t nsamples, need;
  int rc;

  if (!read_uint(&in, &w) || !read_uint(&in, &h) || (!bitmap && !read_uint(&in, &maxval)))
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "PNM: bad or truncated header");
  if (maxval == 0 || maxval > 65535)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "PNM: maxval %llu out of range",
                           (unsigned long long)maxval);
  rc = vouch__img_check_size(dec, "PNM", w, h);
  if (rc != VOUCH_OK)
    return rc;
  /* w, h <= max_side < 2^32 and w*h <= max_pixels: no overflow below with
   * 64-bit size_t; we still use the checked helpers. */
  if (!vouch__mul_ok((size_t)w * (size_t)h, ch, &nsamples))
    return vouch__img_fail(dec, VOUCH_E_IMAGE_TOO_LARGE, "PNM: size overflow");

  if (ascii) {
    skip_space(&in);
    /* P1 samples may touch ("0110"); P2/P3 need a separator after each. */
    need = kind == 1 ? nsamples : 2 * nsamples;
  } else {
    /* Exactly one whitespace byte ends the header of the binary forms. */
    if (in.pos >= len || !is_space(data[in.pos]))
      return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "PNM: bad or truncated header");
    in.pos++;
    if (kind == 4)
      need = (size_t)((w + 7) / 8) * (size_t)h;
    else
      need = nsamples * (maxval > 255 ? 2 : 1);
  }
  if (len - in.pos < need)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "PNM: premature end of data");

  rc = vouch_image_init(out, (uint32_t)w, (uint32_t)h, ch);
  if (rc != VOUCH_OK)
    return vouch__img_fail(dec, rc, "PNM: no memory for %llux%llu pixels", (unsigned long long)w,
                           (unsigned long long)h);

  for (uint32_t y = 0; y < (uint32_t)h; y++) {
    uint8_t *dst = out->pixels + (size_t)y * out->stride;
    const size_t rowlen = (size_t)w * ch;
    for (size_t i = 0; i < rowlen; i++) {
      uint32_t v;
      if (kind == 4) {
        const uint8_t *row = data + in.pos + (size_t)y * (size_t)((w + 7) / 8);
        v = (row[i / 8] >> (7 - (i & 7))) & 1u;
      } else if (kind == 1) {
        skip_space(&in);
        if (in.pos >= len || (data[in.pos] != '0' && data[in.pos] != '1')) {
          vouch_image_clear(out);
          return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "PNM: bad or missing sample");
        }
        v = (uint32_t)(data[in.pos++] - '0');
      } else if (ascii) {
        uint64_t s;
        if (!read_uint(&in, &s) || s > maxval) {
          vouch_image_clear(out);
          return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "PNM: bad or missing sample");
        }
        /* A number running into the end of the data may have lost digits:
         * "123" cut to "12".  Netpbm's writers end the raster with a
         * newline, so we ask for a separator after every sample. */
        if (in.pos >= len) {
          vouch_image_clear(out);
          return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "PNM: premature end of data");
        }
        v = (uint32_t)s;
      } else if (maxval > 255) {
        v = vouch__load16_be(data + in.pos);
        in.pos += 2;
      } else {
        v = data[in.pos++];
      }
      if (bitmap) {
        dst[i] = v ? 0 : 255;
      } else {
        if (v > maxval) {
          vouch_image_clear(out);
          return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "PNM: sample %u over maxval %u",
                                 (unsigned)v, (unsigned)maxval);
        }
        dst[i] = scale(v, (uint32_t)maxval);
      }
    }
  }
  *orientation = 1;
  return VOUCH_OK;
}
