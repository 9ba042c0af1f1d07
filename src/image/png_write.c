/* src/image/png_write.c -- vouch_image_encode_png(): 8-bit grey or RGB to a
 * PNG in memory through libpng, allocating through our allocator.  Used by
 * the forged-collision tool to write its images losslessly. */
#include <setjmp.h>
#include <string.h>
#include <png.h>
#include "image_internal.h"

typedef struct wctx {
  uint8_t *buf;
  size_t len, cap;
  int nomem;
} wctx;

static void w_error(png_structp png, png_const_charp msg) {
  (void)msg;
  png_longjmp(png, 1);
}
static void w_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void w_write(png_structp png, png_bytep data, png_size_t n) {
  wctx *c = png_get_io_ptr(png);
  if (c->len + n > c->cap) {
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + n) cap *= 2;
    uint8_t *b = vouch__realloc(c->buf, cap);
    if (!b) {
      c->nomem = 1;
      png_error(png, "out of memory");
    }
    c->buf = b;
    c->cap = cap;
  }
  memcpy(c->buf + c->len, data, n);
  c->len += n;
}
static void w_flush(png_structp png) { (void)png; }

static png_voidp w_malloc(png_structp png, png_alloc_size_t n) { (void)png; return vouch__malloc(n); }
static void w_free(png_structp png, png_voidp p) { (void)png; vouch__free(p); }

int vouch_image_encode_png(const vouch_image *img, uint8_t **out, size_t *len) {
  if (!out || !len) return VOUCH_E_INVALID;
  *out = NULL;
  *len = 0;
  if (!img || !img->pixels || !img->width || !img->height || (img->channels != 1 && img->channels != 3) ||
      img->stride < (size_t)img->width * img->channels)
    return VOUCH_E_INVALID;
  wctx c = {NULL, 0, 0, 0};
  png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, NULL, w_error, w_warning, NULL, w_malloc, w_free);
  if (!png) return VOUCH_E_NOMEM;
  png_infop info = png_create_info_struct(png);
  /* volatile: read after longjmp */
  volatile int rc = VOUCH_E_INTERNAL;
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    return VOUCH_E_NOMEM;
  }
  if (setjmp(png_jmpbuf(png))) {
    rc = c.nomem ? VOUCH_E_NOMEM : VOUCH_E_INTERNAL;
    png_destroy_write_struct(&png, &info);
    vouch__free(c.buf);
    return rc;
  }
  png_set_write_fn(png, &c, w_write, w_flush);
  png_set_IHDR(png, info, img->width, img->height, 8, img->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (uint32_t y = 0; y < img->height; y++) png_write_row(png, img->pixels + (size_t)y * img->stride);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  *out = c.buf;
  *len = c.len;
  return VOUCH_OK;
}
