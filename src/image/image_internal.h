/*
 * src/image/image_internal.h -- what the per-format readers share.
 * Not API.  See docs/internals/image.md for the design.
 *
 * Each reader decodes the bytes into `out` in stored (file) order and reports
 * the EXIF orientation it found (1 when none); image.c applies the
 * orientation afterwards.  A reader must check the stored size with
 * vouch__img_check_size() before allocating anything proportional to it,
 * and must leave `out` without a buffer when it fails.
 */
#ifndef VOUCH_IMAGE_INTERNAL_H
#define VOUCH_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "vouch/image.h"
#include "common/internal.h"

#define VOUCH__ERRMSG_CAP 200

struct vouch_decoder {
  vouch_decode_opts opts;
  char errmsg[VOUCH__ERRMSG_CAP]; /* one line, "" after success */
};

/* Records the detail text ("FMT: cause") and returns rc. */
VOUCH_HIDDEN int vouch__img_fail(vouch_decoder *dec, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* VOUCH_E_IMAGE_EMPTY for a zero side, VOUCH_E_IMAGE_TOO_LARGE when a side
 * or the pixel count is over the decoder's limits; otherwise VOUCH_OK.
 * `what` names the format in the detail text. */
VOUCH_HIDDEN int vouch__img_check_size(vouch_decoder *dec, const char *what,
                                       uint64_t width, uint64_t height);

/* Parses a TIFF-structured EXIF block (starting at the "II"/"MM" byte-order
 * mark) and returns its IFD0 Orientation (1..8), or 1 when absent/invalid.
 * `len` bytes are read at most. */
VOUCH_HIDDEN int vouch__exif_orientation(const uint8_t *tiff, size_t len);

/* As above, but first skips an optional "Exif\0\0" prefix. */
VOUCH_HIDDEN int vouch__exif_orientation_any(const uint8_t *p, size_t len);

/* The readers.  `orientation` receives the EXIF orientation (1 when none). */
VOUCH_HIDDEN int vouch__decode_jpeg(vouch_decoder *dec, const uint8_t *data, size_t len,
                                    vouch_image *out, int *orientation);
VOUCH_HIDDEN int vouch__decode_png(vouch_decoder *dec, const uint8_t *data, size_t len,
                                   vouch_image *out, int *orientation);
VOUCH_HIDDEN int vouch__decode_webp(vouch_decoder *dec, const uint8_t *data, size_t len,
                                    vouch_image *out, int *orientation);
VOUCH_HIDDEN int vouch__decode_gif(vouch_decoder *dec, const uint8_t *data, size_t len,
                                   vouch_image *out, int *orientation);
VOUCH_HIDDEN int vouch__decode_bmp(vouch_decoder *dec, const uint8_t *data, size_t len,
                                   vouch_image *out, int *orientation);
VOUCH_HIDDEN int vouch__decode_pnm(vouch_decoder *dec, const uint8_t *data, size_t len,
                                   vouch_image *out, int *orientation);

/* JPEG rows pulled one by one, for hashing at full resolution without a
 * whole-image buffer (src/image/jpeg.c).  open() returns VOUCH_E_UNSUPPORTED
 * when the file must be decoded whole instead (CMYK, an EXIF orientation to
 * apply, a scaled-decode decoder); other codes are real decode errors with
 * the detail on the decoder, as vouch_decoder_decode() would give.  Rows are
 * 8-bit, `channels` (1 or 3) per pixel, in stored order. */
typedef struct vouch__jpeg_rows vouch__jpeg_rows;
VOUCH_HIDDEN int vouch__jpeg_rows_open(vouch_decoder *dec, const uint8_t *data, size_t len,
                                       vouch__jpeg_rows **out, uint32_t *width, uint32_t *height,
                                       uint32_t *channels);
VOUCH_HIDDEN int vouch__jpeg_rows_read(vouch__jpeg_rows *r, uint8_t *dst, size_t stride, uint32_t n);
VOUCH_HIDDEN void vouch__jpeg_rows_close(vouch__jpeg_rows *r); /* NULL is a no-op */

#endif /* VOUCH_IMAGE_INTERNAL_H */
