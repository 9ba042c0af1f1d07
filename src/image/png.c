/* src/image/png.c -- PNG through libpng.
 *
 * libpng allocates through our allocator (png_create_read_struct_2), reads
 * from memory through a callback that never reads past `len`, and reports
 * errors through a callback that records the message and longjmps.
 * Transformations: palette -> RGB, 1/2/4-bit grey -> 8-bit, 16-bit -> 8-bit
 * rounded (png_set_scale_16, not png_set_strip_16), alpha stripped (colour
 * kept as stored, not composited), tRNS ignored (it only adds alpha).  No
 * gamma or colour-profile correction, as in the reference pipeline.
 * Output is grey for colour types 0 and 4, RGB for the rest.
 */
#include <setjmp.h>
#include <string.h>
#include <png.h>
#include "image_internal.h"

typedef struct pctx {
  vouch_decoder *dec;
  vouch_image *out;
  const uint8_t *data;
  size_t len, pos;
  png_structp png;
  png_infop info;
  png_bytep *rows;
  int orientation;
  int rc;
} pctx;

static void p_error(png_structp png, png_const_charp msg) {
  pctx *c = png_get_error_ptr(png);
  /* Our read callback sets c->rc itself (premature end); a NULL-message
   * error from it must not overwrite that. */
  if (c->rc == VOUCH_OK) {
    /* libpng says "Out of memory" / "Insufficient memory" when our
     * allocator refuses. */
    c->rc = (msg && strstr(msg, "emory")) ? VOUCH_E_NOMEM : VOUCH_E_IMAGE_CORRUPT;
    vouch__img_fail(c->dec, c->rc, "PNG: %s", msg ? msg : "error");
  }
  png_longjmp(png, 1);
}

static void p_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* ancillary-chunk trouble: not our concern */
}

static png_voidp p_malloc(png_structp png, png_alloc_size_t n) {
  (void)png;
  return vouch__malloc(n);
}

static void p_free(png_structp png, png_voidp p) {
  (void)png;
  vouch__free(p);
}

static void p_read(png_structp png, png_bytep dst, size_t n) {
  pctx *c = png_get_io_ptr(png);
  if (n > c->len - c->pos) {
    c->rc = VOUCH_E_IMAGE_CORRUPT;
    vouch__img_fail(c->dec, c->rc, "PNG: premature end of data");
    png_error(png, "premature end of data");
  }
  memcpy(dst, c->data + c->pos, n);
  c->pos += n;
}

static int png_run(pctx *c) {
  png_structp png = c->png;
  png_infop info = c->info;
  png_uint_32 w, h;
  int depth, ctype, interlace;
  uint32_t ch;
  int rc;

  if (setjmp(png_jmpbuf(png)))
    return c->rc != VOUCH_OK ? c->rc : VOUCH_E_IMAGE_CORRUPT;

  /* We check the size ourselves (to report TOO_LARGE, not CORRUPT). */
  png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  /* Bound the memory any single ancillary chunk (iCCP, zTXt...) may take. */
  png_set_chunk_malloc_max(png, 8u << 20);
  png_set_chunk_cache_max(png, 1000);
  png_set_read_fn(png, c, p_read);
  png_read_info(png, info);
  png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
  rc = vouch__img_check_size(c->dec, "PNG", w, h);
  if (rc != VOUCH_OK)
    return rc;

#ifdef PNG_eXIf_SUPPORTED
  {
    png_uint_32 exif_len = 0;
    png_bytep exif = NULL;
    if (png_get_eXIf_1(png, info, &exif_len, &exif) != 0 && exif && exif_len > 0)
      c->orientation = vouch__exif_orientation_any(exif, exif_len);
  }
#endif

  if (ctype == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png);
  if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16)
    png_set_scale_16(png);
  /* Unconditional: also drops the alpha that palette expansion would make
   * from a tRNS chunk. */
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  ch = (ctype == PNG_COLOR_TYPE_GRAY || ctype == PNG_COLOR_TYPE_GRAY_ALPHA) ? 1 : 3;
  if (png_get_channels(png, info) != ch || png_get_bit_depth(png, info) != 8 ||
      png_get_rowbytes(png, info) != (size_t)w * ch) {
    c->rc = VOUCH_E_INTERNAL;
    return vouch__img_fail(c->dec, VOUCH_E_INTERNAL, "PNG: unexpected layout after transforms");
  }

  rc = vouch_image_init(c->out, w, h, ch);
  if (rc != VOUCH_OK)
    return vouch__img_fail(c->dec, rc, "PNG: no memory for %ux%u pixels", (unsigned)w, (unsigned)h);
  c->rows = vouch__malloc((size_t)h * sizeof *c->rows);
  if (!c->rows)
    return vouch__img_fail(c->dec, VOUCH_E_NOMEM, "PNG: no memory for row pointers");
  for (png_uint_32 y = 0; y < h; y++)
    c->rows[y] = c->out->pixels + (size_t)y * c->out->stride;
  png_read_image(png, c->rows);
  /* No png_read_end(): the pixels are complete, and we do not want to
   * reject a file whose only fault is a missing IEND.  (So an eXIf chunk
   * after the image data is not seen; writers put it before.) */
  return VOUCH_OK;
}

int vouch__decode_png(vouch_decoder *dec, const uint8_t *data, size_t len, vouch_image *out,
                      int *orientation) {
  pctx c;
  int rc;
  /* libpng rejects a zero side as a broken IHDR; we report it as an empty
   * image, like the other formats.  IHDR is always the first chunk. */
  if (len >= 24 && memcmp(data + 12, "IHDR", 4) == 0 &&
      (vouch__load32_be(data + 16) == 0 || vouch__load32_be(data + 20) == 0))
    return vouch__img_fail(dec, VOUCH_E_IMAGE_EMPTY, "PNG: image is %ux%u",
                           (unsigned)vouch__load32_be(data + 16), (unsigned)vouch__load32_be(data + 20));
  memset(&c, 0, sizeof c);
  c.dec = dec;
  c.out = out;
  c.data = data;
  c.len = len;
  c.orientation = 1;
  c.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &c, p_error, p_warning, NULL, p_malloc,
                                   p_free);
  if (!c.png)
    return vouch__img_fail(dec, VOUCH_E_NOMEM, "PNG: cannot create the decoder");
  c.info = png_create_info_struct(c.png);
  if (!c.info) {
    png_destroy_read_struct(&c.png, NULL, NULL);
    return vouch__img_fail(dec, VOUCH_E_NOMEM, "PNG: cannot create the decoder");
  }
  rc = png_run(&c);
  png_destroy_read_struct(&c.png, &c.info, NULL);
  vouch__free(c.rows);
  if (rc != VOUCH_OK) {
    vouch_image_clear(out);
    return rc;
  }
  *orientation = c.orientation;
  return VOUCH_OK;
}
