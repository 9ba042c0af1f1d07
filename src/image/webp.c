/* src/image/webp.c -- WebP through libwebp (still images only).
 *
 * libwebp's defaults (fancy chroma upsampling) are what ImageMagick uses
 * too.  We decode straight into our own buffer (WebPDecodeRGBInto) after
 * checking the size from the bitstream header.  Alpha is dropped: libwebp's
 * RGB output keeps the stored colour, not composited.  EXIF orientation
 * comes from an "EXIF" chunk of the RIFF container, which we find ourselves
 * so as not to need libwebpdemux.  Animated WebP is VOUCH_E_UNSUPPORTED.
 */
#include <string.h>
#include <webp/decode.h>
#include "image_internal.h"

/* Walks the RIFF chunks after "RIFF" <size> "WEBP" looking for "EXIF". */
static int webp_orientation(const uint8_t *data, size_t len) {
  size_t pos = 12;
  while (pos <= len && len - pos >= 8) {
    uint32_t sz = vouch__load32_le(data + pos + 4);
    const uint8_t *payload = data + pos + 8;
    size_t avail = len - pos - 8;
    if (memcmp(data + pos, "EXIF", 4) == 0)
      return vouch__exif_orientation_any(payload, sz < avail ? sz : avail);
    if (sz >= avail)
      break;
    pos += 8 + (size_t)sz + (sz & 1u);
  }
  return 1;
}

static const char *vp8_status_text(VP8StatusCode st) {
  switch (st) {
  case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
  case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
  case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
  case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
  case VP8_STATUS_SUSPENDED: return "suspended";
  case VP8_STATUS_USER_ABORT: return "aborted";
  case VP8_STATUS_NOT_ENOUGH_DATA: return "premature end of data";
  default: return "error";
  }
}

static int status_rc(VP8StatusCode st) {
  switch (st) {
  case VP8_STATUS_OUT_OF_MEMORY: return VOUCH_E_NOMEM;
  case VP8_STATUS_UNSUPPORTED_FEATURE: return VOUCH_E_UNSUPPORTED;
  default: return VOUCH_E_IMAGE_CORRUPT;
  }
}

int vouch__decode_webp(vouch_decoder *dec, const uint8_t *data, size_t len, vouch_image *out,
                       int *orientation) {
  WebPBitstreamFeatures f;
  VP8StatusCode st;
  size_t total;
  int rc;

  memset(&f, 0, sizeof f);
  st = WebPGetFeatures(data, len, &f);
  if (st != VP8_STATUS_OK)
    return vouch__img_fail(dec, status_rc(st), "WebP: %s", vp8_status_text(st));
  if (f.has_animation)
    return vouch__img_fail(dec, VOUCH_E_UNSUPPORTED, "WebP: animated images are not supported");
  if (f.width < 0 || f.height < 0)
    return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "WebP: negative size");
  rc = vouch__img_check_size(dec, "WebP", (uint64_t)f.width, (uint64_t)f.height);
  if (rc != VOUCH_OK)
    return rc;
  rc = vouch_image_init(out, (uint32_t)f.width, (uint32_t)f.height, 3);
  if (rc != VOUCH_OK)
    return vouch__img_fail(dec, rc, "WebP: no memory for %dx%d pixels", f.width, f.height);
  total = out->stride * out->height;
  if (out->stride > (size_t)INT32_MAX) {
    vouch_image_clear(out);
    return vouch__img_fail(dec, VOUCH_E_IMAGE_TOO_LARGE, "WebP: row too long");
  }
  /* The advanced API into our buffer: same defaults as WebPDecodeRGBInto,
   * but it tells us why a decode failed. */
  {
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) {
      vouch_image_clear(out);
      return vouch__img_fail(dec, VOUCH_E_INTERNAL, "WebP: library version mismatch");
    }
    cfg.output.colorspace = MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = out->pixels;
    cfg.output.u.RGBA.stride = (int)out->stride;
    cfg.output.u.RGBA.size = total;
    st = WebPDecode(data, len, &cfg);
    WebPFreeDecBuffer(&cfg.output); /* frees nothing of ours: memory is external */
    if (st != VP8_STATUS_OK) {
      vouch_image_clear(out);
      return vouch__img_fail(dec, status_rc(st), "WebP: %s", vp8_status_text(st));
    }
  }
  *orientation = webp_orientation(data, len);
  return VOUCH_OK;
}
