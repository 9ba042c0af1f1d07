/* src/image/bmp.c -- our own BMP reader.
 *
 * Supported: the Windows headers (BITMAPINFOHEADER and its V2..V5
 * extensions, 40+ bytes) and the OS/2 BITMAPCOREHEADER (12 bytes);
 * 1/4/8-bit palette, 16/32-bit BI_RGB and BI_BITFIELDS (any contiguous
 * masks, scaled to 8 bits with rounding), 24-bit; bottom-up and top-down
 * (negative height).  RLE4/RLE8 and embedded JPEG/PNG are rejected with
 * VOUCH_E_UNSUPPORTED.  Alpha is ignored.  A palette index beyond the
 * palette is black.  Output is always RGB (a grey palette is not detected).
 *
 * Everything the pixel loop reads is checked against `len` before the pixel
 * buffer is allocated, so a header that lies about its size costs nothing.
 */
#include <string.h>
#include "image_internal.h"

enum { BI_RGB = 0, BI_RLE8 = 1, BI_RLE4 = 2, BI_BITFIELDS = 3, BI_JPEG = 4, BI_PNG = 5,
       BI_ALPHABITFIELDS = 6 };

typedef struct bfield {
  uint32_t mask;
  unsigned shift;
  uint32_t max; /* mask >> shift, all ones; 0 when the mask is empty */
} bfield;

static int bfield_init(bfield *f, uint32_t mask) {
  f->mask = mask;
  f->shift = 0;
  f->max = 0;
  if (mask == 0)
    return 1;
  while (((mask >> f->shift) & 1u) == 0)
    f->shift++;
  f->max = mask >> f->shift;
  /* Contiguous: max + 1 is a power of two (computed in 64 bits for 32 ones). */
  return (((uint64_t)f->max + 1) & (uint64_t)f->max) == 0;
}

static uint8_t bfield_get(const bfield *f, uint32_t px) {
  uint64_t v;
  if (f->max == 0)
    return 0;
  v = (px & f->mask) >> f->shift;
  if (f->max < 255) {
    /* n-bit field, n < 8: repeat its bits downwards to fill a byte. */
    unsigned n = 0;
    uint32_t r;
    while ((f->max >> n) != 0)
      n++;
    r = (uint32_t)v << (8 - n);
    for (unsigned s = n; s < 8; s += n)
      r |= r >> s;
    return (uint8_t)r;
  }
  return (uint8_t)((v * 255u + f->max / 2) / f->max);
}

int vouch__decode_bmp(vouch_decoder *dec, const uint8_t *data, size_t len, vouch_image *out,
                      int *orientation) {
  uint32_t off_bits, hsize, compression = BI_RGB, colors_used = 0;
  int64_t sw, sh;
  unsigned bpp;
  int top_down = 0, core;
  size_t pal_off, pal_entry, pal_n = 0, stride, need;
  uint32_t w, h;
  bfield bf[3];
  int rc;

  if (len < 14 + 4)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: premature end of header");
  off_bits = vouch__load32_le(data + 10);
  hsize = vouch__load32_le(data + 14);
  core = hsize == 12;
  if (!core && hsize < 40)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: unknown header size %u", (unsigned)hsize);
  if (hsize > len - 14)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: premature end of header");
  if (core) {
    sw = vouch__load16_le(data + 18);
    sh = vouch__load16_le(data + 20);
    bpp = vouch__load16_le(data + 24);
  } else {
    sw = (int32_t)vouch__load32_le(data + 18);
    sh = (int32_t)vouch__load32_le(data + 22);
    bpp = vouch__load16_le(data + 28);
    compression = vouch__load32_le(data + 30);
    colors_used = vouch__load32_le(data + 46);
  }
  if (sw < 0)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: negative width");
  if (sh < 0) {
    top_down = 1;
    sh = -sh; /* int64: no overflow for INT32_MIN */
  }
  rc = vouch__img_check_size(dec, "BMP", (uint64_t)sw, (uint64_t)sh);
  if (rc != VOUCH_OK)
    return rc;
  w = (uint32_t)sw;
  h = (uint32_t)sh;

  switch (compression) {
  case BI_RGB:
    break;
  case BI_BITFIELDS:
  case BI_ALPHABITFIELDS:
    if (bpp != 16 && bpp != 32)
      return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: bit fields with %u bits per pixel", bpp);
    break;
  case BI_RLE8:
  case BI_RLE4:
    return vouch__img_fail(dec, VOUCH_E_UNSUPPORTED, "BMP: RLE compression is not supported");
  case BI_JPEG:
  case BI_PNG:
    return vouch__img_fail(dec, VOUCH_E_UNSUPPORTED, "BMP: embedded JPEG/PNG is not supported");
  default:
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: unknown compression %u", (unsigned)compression);
  }
  if (top_down && core)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: negative height");

  /* Channel masks: in the header for V2+ (52+ bytes), else right after a
   * 40-byte header; the BI_RGB defaults otherwise. */
  pal_off = 14 + (size_t)hsize;
  if (compression == BI_BITFIELDS || compression == BI_ALPHABITFIELDS) {
    size_t moff = 14 + 40;
    uint32_t m[3];
    if (hsize < 52) {
      size_t nmask = compression == BI_ALPHABITFIELDS ? 16 : 12;
      if (len - pal_off < nmask)
        return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: premature end of bit fields");
      pal_off += nmask;
    }
    for (int i = 0; i < 3; i++) {
      m[i] = vouch__load32_le(data + moff + 4 * (size_t)i);
      if (!bfield_init(&bf[i], m[i]))
        return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: non-contiguous bit field mask");
    }
  } else if (bpp == 16) {
    bfield_init(&bf[0], 0x7C00u);
    bfield_init(&bf[1], 0x03E0u);
    bfield_init(&bf[2], 0x001Fu);
  } else if (bpp == 32) {
    bfield_init(&bf[0], 0x00FF0000u);
    bfield_init(&bf[1], 0x0000FF00u);
    bfield_init(&bf[2], 0x000000FFu);
  }

  switch (bpp) {
  case 1: case 4: case 8:
    pal_entry = core ? 3 : 4;
    pal_n = (size_t)1 << bpp;
    if (colors_used > 0 && colors_used < pal_n)
      pal_n = colors_used;
    if (pal_off > len || (len - pal_off) / pal_entry < pal_n)
      return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: premature end of palette");
    break;
  case 16: case 24: case 32:
    pal_entry = 0;
    break;
  default:
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: %u bits per pixel", bpp);
  }

  /* Rows are padded to 4 bytes.  w < 2^32 and bpp <= 32, so 64 bits hold it. */
  stride = (size_t)((((uint64_t)w * bpp + 31) / 32) * 4);
  if (off_bits < 14 + hsize || off_bits > len || !vouch__mul_ok(stride, h, &need) ||
      len - off_bits < need)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "BMP: pixel data truncated or misplaced");

  rc = vouch_image_init(out, w, h, 3);
  if (rc != VOUCH_OK)
    return vouch__img_fail(dec, rc, "BMP: no memory for %ux%u pixels", (unsigned)w, (unsigned)h);

  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *src = data + off_bits + (size_t)(top_down ? y : h - 1 - y) * stride;
    uint8_t *dst = out->pixels + (size_t)y * out->stride;
    for (uint32_t x = 0; x < w; x++) {
      uint8_t *d = dst + 3 * (size_t)x;
      switch (bpp) {
      case 1: case 4: case 8: {
        unsigned idx;
        if (bpp == 8)
          idx = src[x];
        else if (bpp == 4)
          idx = (src[x / 2] >> (x & 1 ? 0 : 4)) & 0x0F;
        else
          idx = (src[x / 8] >> (7 - (x & 7))) & 1;
        if (idx < pal_n) {
          const uint8_t *e = data + pal_off + idx * pal_entry;
          d[0] = e[2];
          d[1] = e[1];
          d[2] = e[0];
        } else {
          d[0] = d[1] = d[2] = 0;
        }
        break;
      }
      case 24:
        d[0] = src[3 * (size_t)x + 2];
        d[1] = src[3 * (size_t)x + 1];
        d[2] = src[3 * (size_t)x];
        break;
      default: { /* 16 or 32: bit fields */
        uint32_t px = bpp == 16 ? vouch__load16_le(src + 2 * (size_t)x)
                                : vouch__load32_le(src + 4 * (size_t)x);
        d[0] = bfield_get(&bf[0], px);
        d[1] = bfield_get(&bf[1], px);
        d[2] = bfield_get(&bf[2], px);
        break;
      }
      }
    }
  }
  *orientation = 1;
  return VOUCH_OK;
}
