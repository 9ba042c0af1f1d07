/* src/image/image.c -- the decoder handle, format detection, limits,
 * EXIF orientation and file input.  Per-format readers live next door. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "image_internal.h"

/* ------------------------------------------------------------ options / handle */

vouch_decode_opts vouch_decode_opts_default(void) {
  vouch_decode_opts o;
  memset(&o, 0, sizeof o);
  o.apply_orientation = 1;
  o.min_side = 0;
  o.max_side = VOUCH_IMAGE_MAX_SIDE_DEFAULT;
  o.max_pixels = VOUCH_IMAGE_MAX_PIXELS_DEFAULT;
  return o;
}

int vouch_decoder_create(vouch_decoder **out, const vouch_decode_opts *opts) {
  vouch_decoder *dec;
  if (!out)
    return VOUCH_E_INVALID;
  *out = NULL;
  /* A zero limit would reject every image; it is almost certainly a
   * zero-initialised struct rather than a wish. */
  if (opts && (opts->max_side == 0 || opts->max_pixels == 0))
    return VOUCH_E_INVALID;
  dec = vouch__calloc(1, sizeof *dec);
  if (!dec)
    return VOUCH_E_NOMEM;
  dec->opts = opts ? *opts : vouch_decode_opts_default();
  *out = dec;
  return VOUCH_OK;
}

void vouch_decoder_free(vouch_decoder *dec) { vouch__free(dec); }

const char *vouch_decoder_errmsg(const vouch_decoder *dec) { return dec ? dec->errmsg : ""; }

int vouch__img_fail(vouch_decoder *dec, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dec->errmsg, sizeof dec->errmsg, fmt, ap);
  va_end(ap);
  /* Keep it one line whatever a third-party library put in its message. */
  for (char *p = dec->errmsg; *p; p++) {
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  }
  return rc;
}

int vouch__img_check_size(vouch_decoder *dec, const char *what, uint64_t width, uint64_t height) {
  if (width == 0 || height == 0)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_EMPTY, "%s: image is %llux%llu", what,
                           (unsigned long long)width, (unsigned long long)height);
  if (width > dec->opts.max_side || height > dec->opts.max_side)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_TOO_LARGE, "%s: %llux%llu has a side over the limit of %u",
                           what, (unsigned long long)width, (unsigned long long)height,
                           (unsigned)dec->opts.max_side);
  /* Both factors are below 2^32, so the product cannot overflow 64 bits. */
  if (width * height > dec->opts.max_pixels)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_TOO_LARGE, "%s: %llux%llu is over the limit of %llu pixels",
                           what, (unsigned long long)width, (unsigned long long)height,
                           (unsigned long long)dec->opts.max_pixels);
  return VOUCH_OK;
}

/* ------------------------------------------------------------ images */

int vouch_image_init(vouch_image *img, uint32_t width, uint32_t height, uint32_t channels) {
  size_t stride, total;
  if (!img)
    return VOUCH_E_INVALID;
  memset(img, 0, sizeof *img);
  if (width == 0 || height == 0 || (channels != 1 && channels != 3))
    return VOUCH_E_INVALID;
  if (!vouch__mul_ok(width, channels, &stride) || !vouch__mul_ok(stride, height, &total))
    return VOUCH_E_LIMIT;
  img->pixels = vouch__calloc(1, total);
  if (!img->pixels)
    return VOUCH_E_NOMEM;
  img->width = img->src_width = width;
  img->height = img->src_height = height;
  img->channels = channels;
  img->stride = stride;
  img->format = VOUCH_FMT_UNKNOWN;
  img->orientation = 1;
  img->scale_denom = 1;
  return VOUCH_OK;
}

void vouch_image_clear(vouch_image *img) {
  if (!img)
    return;
  vouch__free(img->pixels);
  memset(img, 0, sizeof *img);
}

/* ------------------------------------------------------------ detection */

int vouch_image_detect_format(const void *data, size_t len) {
  const uint8_t *p = data;
  if (!p)
    return VOUCH_FMT_UNKNOWN;
  if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
    return VOUCH_FMT_JPEG;
  if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
    return VOUCH_FMT_PNG;
  if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
    return VOUCH_FMT_WEBP;
  if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
    return VOUCH_FMT_GIF;
  if (len >= 2 && p[0] == 'B' && p[1] == 'M')
    return VOUCH_FMT_BMP;
  /* Netpbm: "P1".."P6" followed by whitespace (or a comment). */
  if (len >= 3 && p[0] == 'P' && p[1] >= '1' && p[1] <= '6' &&
      (p[2] == ' ' || p[2] == '\t' || p[2] == '\n' || p[2] == '\r' || p[2] == '\v' ||
       p[2] == '\f' || p[2] == '#'))
    return VOUCH_FMT_PNM;
  return VOUCH_FMT_UNKNOWN;
}

const char *vouch_image_format_name(int format) {
  switch (format) {
  case VOUCH_FMT_JPEG: return "jpeg";
  case VOUCH_FMT_PNG: return "png";
  case VOUCH_FMT_WEBP: return "webp";
  case VOUCH_FMT_GIF: return "gif";
  case VOUCH_FMT_BMP: return "bmp";
  case VOUCH_FMT_PNM: return "pnm";
  default: return "unknown";
  }
}

/* ------------------------------------------------------------ orientation */

/* Rewrites `img` (stored order) into display order for EXIF orientation
 * `o` (2..8).  For display pixel (x, y) of the W'xH' result we read stored
 * pixel (sx, sy) of the WxH source:
 *   2 mirror:      (W-1-x, y)        3 rotate 180: (W-1-x, H-1-y)
 *   4 flip:        (x, H-1-y)        5 transpose:  (y, x)
 *   6 rotate 90cw: (y, H-1-x)        7 transverse: (W-1-y, H-1-x)
 *   8 rotate 90ccw:(W-1-y, x)
 * 5..8 swap the sides. */
static int apply_orientation(vouch_image *img, int o) {
  const uint32_t w = img->width, h = img->height, ch = img->channels;
  const int swap = o >= 5;
  const uint32_t ow = swap ? h : w, oh = swap ? w : h;
  vouch_image t;
  int rc;
  if (o < 2 || o > 8)
    return VOUCH_OK;
  rc = vouch_image_init(&t, ow, oh, ch);
  if (rc != VOUCH_OK)
    return rc;
  for (uint32_t y = 0; y < oh; y++) {
    uint8_t *dst = t.pixels + (size_t)y * t.stride;
    for (uint32_t x = 0; x < ow; x++) {
      uint32_t sx, sy;
      switch (o) {
      case 2: sx = w - 1 - x; sy = y; break;
      case 3: sx = w - 1 - x; sy = h - 1 - y; break;
      case 4: sx = x; sy = h - 1 - y; break;
      case 5: sx = y; sy = x; break;
      case 6: sx = y; sy = h - 1 - x; break;
      case 7: sx = w - 1 - y; sy = h - 1 - x; break;
      default: sx = w - 1 - y; sy = x; break; /* 8 */
      }
      const uint8_t *src = img->pixels + (size_t)sy * img->stride + (size_t)sx * ch;
      for (uint32_t c = 0; c < ch; c++)
        dst[(size_t)x * ch + c] = src[c];
    }
  }
  vouch__free(img->pixels);
  img->pixels = t.pixels;
  img->width = ow;
  img->height = oh;
  img->stride = t.stride;
  return VOUCH_OK;
}

/* ------------------------------------------------------------ decode */

int vouch_decoder_decode(vouch_decoder *dec, const void *data, size_t len, vouch_image *out) {
  int fmt, rc, orientation = 1;
  vouch_image img;
  if (!dec || !out || (!data && len > 0))
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  memset(&img, 0, sizeof img);
  dec->errmsg[0] = '\0';
  if (len == 0)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_EMPTY, "input is empty (0 bytes)");
  if (len > VOUCH_IMAGE_MAX_BYTES)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_TOO_LARGE, "input is %zu bytes; the limit is %u", len,
                           (unsigned)VOUCH_IMAGE_MAX_BYTES);
  fmt = vouch_image_detect_format(data, len);
  switch (fmt) {
  case VOUCH_FMT_JPEG: rc = vouch__decode_jpeg(dec, data, len, &img, &orientation); break;
  case VOUCH_FMT_PNG: rc = vouch__decode_png(dec, data, len, &img, &orientation); break;
  case VOUCH_FMT_WEBP: rc = vouch__decode_webp(dec, data, len, &img, &orientation); break;
  case VOUCH_FMT_GIF: rc = vouch__decode_gif(dec, data, len, &img, &orientation); break;
  case VOUCH_FMT_BMP: rc = vouch__decode_bmp(dec, data, len, &img, &orientation); break;
  case VOUCH_FMT_PNM: rc = vouch__decode_pnm(dec, data, len, &img, &orientation); break;
  default:
    return vouch__img_fail(dec, VOUCH_E_IMAGE_FORMAT, "not a JPEG, PNG, WebP, GIF, BMP or PNM file");
  }
  if (rc != VOUCH_OK) {
    vouch_image_clear(&img);
    if (dec->errmsg[0] == '\0')
      vouch__img_fail(dec, rc, "%s: %s", vouch_image_format_name(fmt), vouch_strerror(rc));
    return rc;
  }
  if (orientation < 1 || orientation > 8)
    orientation = 1;
  img.format = fmt;
  img.orientation = orientation;
  if (img.scale_denom == 0)
    img.scale_denom = 1;
  if (dec->opts.apply_orientation) {
    rc = apply_orientation(&img, orientation);
    if (rc != VOUCH_OK) {
      vouch_image_clear(&img);
      return vouch__img_fail(dec, rc, "%s: no memory to apply the EXIF orientation",
                             vouch_image_format_name(fmt));
    }
  }
  *out = img;
  return VOUCH_OK;
}

int vouch_decoder_decode_file(vouch_decoder *dec, const char *path, vouch_image *out) {
  FILE *f;
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  int rc;
  if (!dec || !path || !out)
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  dec->errmsg[0] = '\0';
  f = fopen(path, "rb");
  if (!f)
    return vouch__img_fail(dec, VOUCH_E_IO, "cannot open: %s", strerror(errno));
  /* Read in growing chunks: works for pipes and files whose size changes. */
  for (;;) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 1u << 16;
      uint8_t *nb;
      if (cap > VOUCH_IMAGE_MAX_BYTES) {
        vouch__free(buf);
        fclose(f);
        return vouch__img_fail(dec, VOUCH_E_IMAGE_TOO_LARGE, "file is over the limit of %u bytes",
                               (unsigned)VOUCH_IMAGE_MAX_BYTES);
      }
      if (ncap > (size_t)VOUCH_IMAGE_MAX_BYTES + 1)
        ncap = (size_t)VOUCH_IMAGE_MAX_BYTES + 1;
      nb = vouch__realloc(buf, ncap);
      if (!nb) {
        vouch__free(buf);
        fclose(f);
        return vouch__img_fail(dec, VOUCH_E_NOMEM, "no memory to read the file");
      }
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0)
      break;
    if (len > VOUCH_IMAGE_MAX_BYTES) {
      vouch__free(buf);
      fclose(f);
      return vouch__img_fail(dec, VOUCH_E_IMAGE_TOO_LARGE, "file is over the limit of %u bytes",
                             (unsigned)VOUCH_IMAGE_MAX_BYTES);
    }
  }
  if (ferror(f)) {
    int e = errno;
    vouch__free(buf);
    fclose(f);
    return vouch__img_fail(dec, VOUCH_E_IO, "read error: %s", strerror(e));
  }
  fclose(f);
  rc = vouch_decoder_decode(dec, buf, len, out);
  vouch__free(buf);
  return rc;
}

void vouch_image_full_size(const vouch_image *img, uint32_t *width, uint32_t *height) {
  uint32_t w = img->width, h = img->height;
  if (img->scale_denom > 1 && img->src_width && img->src_height) {
    /* libjpeg's scaled width is ceil(stored / denom); if that is not our
     * width, the decoder turned the image by 90 degrees. */
    const uint32_t d = (uint32_t)img->scale_denom;
    if ((img->src_width + d - 1) / d == img->width) {
      w = img->src_width;
      h = img->src_height;
    } else {
      w = img->src_height;
      h = img->src_width;
    }
  }
  if (width) *width = w;
  if (height) *height = h;
}
