/* src/eval/jpeg.c -- the JPEG recompression transform and the transformer
 * handle.  libjpeg-turbo encodes (its defaults: 4:2:0 chroma subsampling for
 * colour, standard Huffman tables, baseline), vouch's own decoder reads the
 * result back at full resolution, as a re-saved file would be read. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "eval_internal.h"

struct vouch_transformer {
  vouch_decoder *dec;
  uint8_t *buf; /* encoder output, grown with vouch__realloc */
  size_t cap;
};

int vouch_transformer_create(vouch_transformer **out) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  vouch_transformer *tf = vouch__calloc(1, sizeof *tf);
  if (!tf) return VOUCH_E_NOMEM;
  vouch_decode_opts o = vouch_decode_opts_default();
  o.apply_orientation = 0; /* our encoder writes no EXIF anyway */
  int rc = vouch_decoder_create(&tf->dec, &o);
  if (rc != VOUCH_OK) {
    vouch__free(tf);
    return rc;
  }
  *out = tf;
  return VOUCH_OK;
}

void vouch_transformer_free(vouch_transformer *tf) {
  if (!tf) return;
  vouch_decoder_free(tf->dec);
  vouch__free(tf->buf);
  vouch__free(tf);
}

/* Error manager and a destination manager writing into tf->buf. */
typedef struct {
  struct jpeg_error_mgr pub;
  struct jpeg_destination_mgr dst;
  jmp_buf jb;
  vouch_transformer *tf;
  int rc;
} enc_ctx;

static void enc_error_exit(j_common_ptr cinfo) {
  enc_ctx *c = (enc_ctx *)(void *)cinfo->err;
  if (c->rc == VOUCH_OK)
    c->rc = cinfo->err->msg_code == JERR_OUT_OF_MEMORY ? VOUCH_E_NOMEM : VOUCH_E_INTERNAL;
  longjmp(c->jb, 1);
}
static void enc_output_message(j_common_ptr cinfo) { (void)cinfo; } /* the library never prints */

static void dst_init(j_compress_ptr cinfo) {
  enc_ctx *c = (enc_ctx *)(void *)cinfo->err;
  c->dst.next_output_byte = c->tf->buf;
  c->dst.free_in_buffer = c->tf->cap;
}

static boolean dst_empty(j_compress_ptr cinfo) {
  enc_ctx *c = (enc_ctx *)(void *)cinfo->err;
  vouch_transformer *tf = c->tf;
  size_t used = tf->cap, ncap = tf->cap * 2;
  uint8_t *nb = ncap > used ? vouch__realloc(tf->buf, ncap) : NULL;
  if (!nb) {
    c->rc = VOUCH_E_NOMEM;
    longjmp(c->jb, 1);
  }
  tf->buf = nb;
  tf->cap = ncap;
  c->dst.next_output_byte = nb + used;
  c->dst.free_in_buffer = ncap - used;
  return TRUE;
}

static void dst_term(j_compress_ptr cinfo) { (void)cinfo; }

int vouch__jpeg_roundtrip(vouch_transformer *tf, const vouch_image *src, int quality,
                          vouch_image *out) {
  memset(out, 0, sizeof *out);
  /* Start with room for a typical file (a quarter of the raw size). */
  size_t want = (size_t)src->width * src->height * src->channels / 4 + 4096;
  if (tf->cap < want) {
    uint8_t *nb = vouch__realloc(tf->buf, want);
    if (!nb) return VOUCH_E_NOMEM;
    tf->buf = nb;
    tf->cap = want;
  }
  struct jpeg_compress_struct ci;
  enc_ctx c;
  memset(&c, 0, sizeof c);
  c.tf = tf;
  ci.err = jpeg_std_error(&c.pub);
  c.pub.error_exit = enc_error_exit;
  c.pub.output_message = enc_output_message;
  if (setjmp(c.jb)) {
    jpeg_destroy_compress(&ci);
    return c.rc;
  }
  jpeg_create_compress(&ci);
  c.dst.init_destination = dst_init;
  c.dst.empty_output_buffer = dst_empty;
  c.dst.term_destination = dst_term;
  ci.dest = &c.dst;
  ci.image_width = src->width;
  ci.image_height = src->height;
  ci.input_components = (int)src->channels;
  ci.in_color_space = src->channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, quality, TRUE);
  jpeg_start_compress(&ci, TRUE);
  while (ci.next_scanline < ci.image_height) {
    JSAMPROW row = (JSAMPROW)(src->pixels + (size_t)ci.next_scanline * src->stride);
    jpeg_write_scanlines(&ci, &row, 1);
  }
  jpeg_finish_compress(&ci);
  size_t len = tf->cap - c.dst.free_in_buffer;
  jpeg_destroy_compress(&ci);
  return vouch_decoder_decode(tf->dec, tf->buf, len, out);
}
