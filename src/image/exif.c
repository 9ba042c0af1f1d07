/* src/image/exif.c -- the one EXIF field we need: IFD0 Orientation (0x0112).
 *
 * An EXIF block is a small TIFF file: a byte-order mark ("II" little-endian
 * or "MM" big-endian), the number 42, and the offset of IFD0.  An IFD is a
 * 16-bit entry count followed by 12-byte entries (tag, type, count, value or
 * offset).  Orientation is a SHORT (type 3) with count 1, stored in the first
 * two bytes of the value field.  Every read is bounds-checked; anything odd
 * gives 1 ("no orientation"). */
#include <string.h>
#include "image_internal.h"

static uint16_t rd16(const uint8_t *p, int be) {
  return be ? vouch__load16_be(p) : vouch__load16_le(p);
}
static uint32_t rd32(const uint8_t *p, int be) {
  return be ? vouch__load32_be(p) : vouch__load32_le(p);
}

int vouch__exif_orientation(const uint8_t *tiff, size_t len) {
  int be;
  uint32_t ifd;
  uint16_t n;
  if (!tiff || len < 8)
    return 1;
  if (tiff[0] == 'I' && tiff[1] == 'I')
    be = 0;
  else if (tiff[0] == 'M' && tiff[1] == 'M')
    be = 1;
  else
    return 1;
  if (rd16(tiff + 2, be) != 42)
    return 1;
  ifd = rd32(tiff + 4, be);
  if (ifd < 8 || ifd > len || len - ifd < 2)
    return 1;
  n = rd16(tiff + ifd, be);
  for (uint32_t i = 0; i < n; i++) {
    size_t off = (size_t)ifd + 2 + (size_t)i * 12;
    const uint8_t *e;
    if (off > len || len - off < 12)
      return 1;
    e = tiff + off;
    if (rd16(e, be) != 0x0112)
      continue;
    if (rd16(e + 2, be) != 3 || rd32(e + 4, be) != 1)
      return 1;
    {
      uint16_t v = rd16(e + 8, be);
      return (v >= 1 && v <= 8) ? (int)v : 1;
    }
  }
  return 1;
}

int vouch__exif_orientation_any(const uint8_t *p, size_t len) {
  if (p && len >= 6 && memcmp(p, "Exif\0\0", 6) == 0)
    return vouch__exif_orientation(p + 6, len - 6);
  return vouch__exif_orientation(p, len);
}
