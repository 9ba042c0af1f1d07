/*
 * vouch/image.h -- decoding image files into 8-bit pixel buffers.
 *
 * Formats: JPEG (libjpeg-turbo), PNG (libpng), WebP (libwebp), GIF (giflib,
 * first frame), BMP and PNM (our own small readers).  The format is detected
 * from the bytes, never from a file name.  EXIF orientation is applied by
 * default.  Every dimension is bounded by limits in vouch_decode_opts; an
 * image over a limit is VOUCH_E_IMAGE_TOO_LARGE before any pixel buffer is
 * allocated.
 */
#ifndef VOUCH_IMAGE_H
#define VOUCH_IMAGE_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vouch_image_format {
  VOUCH_FMT_UNKNOWN = 0,
  VOUCH_FMT_JPEG = 1,
  VOUCH_FMT_PNG = 2,
  VOUCH_FMT_WEBP = 3,
  VOUCH_FMT_GIF = 4,
  VOUCH_FMT_BMP = 5,
  VOUCH_FMT_PNM = 6
} vouch_image_format;

/* Default limits.  A 48-megapixel phone photo (8000x6000) fits. */
#define VOUCH_IMAGE_MAX_SIDE_DEFAULT   30000U
#define VOUCH_IMAGE_MAX_PIXELS_DEFAULT (64U * 1000U * 1000U)
/* Largest input buffer vouch_decoder_decode() accepts (bytes). */
#define VOUCH_IMAGE_MAX_BYTES          (512U * 1024U * 1024U)

/* A decoded image.  `pixels` is owned by the image: release it with
 * vouch_image_clear().  Rows are `stride` bytes apart; each row holds
 * width*channels bytes: grey (channels == 1) or R,G,B (channels == 3).
 * Alpha is dropped (the colour values are kept as stored, not composited),
 * as the PDQ reference pipeline does. */
typedef struct vouch_image {
  uint32_t width;       /* after orientation and any scaled decode */
  uint32_t height;
  uint32_t channels;    /* 1 or 3 */
  size_t stride;        /* bytes per row */
  uint8_t *pixels;      /* OWNED */
  uint32_t src_width;   /* as stored in the file */
  uint32_t src_height;
  int format;           /* vouch_image_format */
  int orientation;      /* EXIF orientation tag found (1..8; 1 when none) */
  int scale_denom;      /* 1 for a full decode, 2/4/8 for a scaled JPEG decode */
} vouch_image;

typedef struct vouch_decode_opts {
  int apply_orientation; /* 1 (default): rotate/flip per EXIF; 0: keep stored order
                            (the PDQ reference pipeline ignores EXIF: use 0 to
                            reproduce its hashes on rotated photos) */
  uint32_t min_side;     /* 0 (default): full resolution.  Otherwise the decoder
                            MAY decode at a reduced scale (JPEG: 1/2, 1/4, 1/8)
                            as long as both sides stay >= min_side. */
  uint32_t max_side;     /* per-side limit on the stored size */
  uint64_t max_pixels;   /* limit on stored width*height */
} vouch_decode_opts;

/*! vouch_decode_opts_default() : orientation on, full resolution, default limits. */
VOUCH_API vouch_decode_opts vouch_decode_opts_default(void);

/* A decoder holds options, scratch space and the last error's detail text.
 * One decoder per thread; decoders are independent of each other. */
typedef struct vouch_decoder vouch_decoder;

/*! vouch_decoder_create() :
 *  `opts` may be NULL for vouch_decode_opts_default().
 * @return : VOUCH_OK, VOUCH_E_NOMEM, or VOUCH_E_INVALID (`out` NULL, or a
 *           zero max_side or max_pixels, which would reject every image). */
VOUCH_API int vouch_decoder_create(vouch_decoder **out, const vouch_decode_opts *opts);
/*! vouch_decoder_free() : NULL is a no-op. */
VOUCH_API void vouch_decoder_free(vouch_decoder *dec);

/*! vouch_decoder_decode() :
 *  Decodes `len` bytes at `data` into `*out` (which it overwrites; clear a
 *  previous image first).  Untrusted input is expected: any byte string gives
 *  either VOUCH_OK or an error code, never a crash.
 *  Output: channels == 1 for greyscale sources, else 3 (RGB); the format is
 *  detected from the bytes.  Limits apply to the stored size, before any
 *  pixel buffer is allocated.  docs/internals/image.md has the details
 *  (formats, CMYK, what is unsupported).
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID (NULL arguments),
 *           VOUCH_E_UNSUPPORTED (e.g. RLE BMP, animated WebP), or a
 *           VOUCH_E_IMAGE_* code: _FORMAT (not an image we know), _CORRUPT
 *           (includes truncated), _TOO_LARGE (over a limit, or more than
 *           VOUCH_IMAGE_MAX_BYTES of input), _EMPTY (0 bytes, a zero side,
 *           a GIF without frames).  Detail text in vouch_decoder_errmsg().
 *           On error `*out` holds no buffer. */
VOUCH_API int vouch_decoder_decode(vouch_decoder *dec, const void *data, size_t len,
                                   vouch_image *out);

/*! vouch_decoder_decode_file() : reads `path` whole (up to VOUCH_IMAGE_MAX_BYTES)
 *  and decodes it.  @return : as vouch_decoder_decode(), or VOUCH_E_IO. */
VOUCH_API int vouch_decoder_decode_file(vouch_decoder *dec, const char *path, vouch_image *out);

/*! vouch_decoder_errmsg() : detail of the last error on `dec` (never NULL;
 *  "" after success).  Valid until the next call on `dec`. */
VOUCH_API const char *vouch_decoder_errmsg(const vouch_decoder *dec);

/*! vouch_image_detect_format() : the format the bytes start with, or VOUCH_FMT_UNKNOWN. */
VOUCH_API int vouch_image_detect_format(const void *data, size_t len);
VOUCH_API const char *vouch_image_format_name(int format);

/*! vouch_image_full_size() :
 *  The image's size at full resolution, after orientation: width x height
 *  themselves for a full decode, the stored size (turned when the decoder
 *  turned the image by 90 degrees) for a scaled JPEG decode. */
VOUCH_API void vouch_image_full_size(const vouch_image *img, uint32_t *width, uint32_t *height);

/*! vouch_image_clear() : frees the pixels and zeroes the struct.  NULL is a no-op. */
VOUCH_API void vouch_image_clear(vouch_image *img);

/*! vouch_image_init() : allocates a zeroed image of the given size (channels 1 or 3). */
VOUCH_API int vouch_image_init(vouch_image *img, uint32_t width, uint32_t height, uint32_t channels);

/*! vouch_image_encode_png() :
 *  Encodes `img` (8-bit grey or RGB) as a PNG file in memory, lossless, so
 *  that decoding it gives back the same pixels.  `*out` is allocated (free
 *  with vouch_free()); `*len` receives its size.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID (NULL or bad image),
 *           VOUCH_E_INTERNAL (libpng refused). */
VOUCH_API int vouch_image_encode_png(const vouch_image *img, uint8_t **out, size_t *len);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_IMAGE_H */
