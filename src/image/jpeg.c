/* src/image/jpeg.c -- JPEG through libjpeg-turbo.
 *
 * Bit-exactness: the PDQ reference's pixels came from ImageMagick 6.9.11 on
 * libjpeg-turbo 2.1.5 with the library's defaults (JDCT_ISLOW, fancy
 * upsampling, no block smoothing change), so we keep every default and only
 * choose the output colour space.  libjpeg-turbo's own YCbCr->RGB and
 * upsampling then give the same bytes ImageMagick saw.
 *
 * Errors: libjpeg reports fatal errors through err->error_exit, which must
 * not return; ours records the message on the decoder and longjmps back to
 * jpeg_run().  Warnings that mean pixels are missing (truncated file, bad
 * entropy data) are promoted to errors: a hash of grey filler is worse than
 * no hash.  A file that lacks only its EOI marker is complete, though, and
 * decodes (see j_emit_message).  Harmless warnings (extraneous bytes between markers, odd JFIF
 * versions) are ignored, as real-world files are full of them.  Nothing is
 * ever printed: output_message is a no-op.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "image_internal.h"

/* A progressive file can hold thousands of tiny scans, each of which costs a
 * pass over the whole coefficient buffer.  Real encoders emit about ten. */
#define JPEG_MAX_SCANS 500

typedef struct jctx {
  struct jpeg_decompress_struct cinfo; /* first: the callbacks cast back */
  struct jpeg_error_mgr jerr;
  struct jpeg_progress_mgr progress;
  jmp_buf jb;
  vouch_decoder *dec;
  vouch_image *out;
  uint8_t *row; /* CMYK scanline scratch */
  int created;
  int rc;
  int orientation;
  int eof_benign; /* single-scan file past its header: see j_emit_message */
  int saw_eof;    /* the data ended before an EOI marker */
} jctx;

static void j_fail(j_common_ptr cinfo, int rc) {
  jctx *c = (jctx *)(void *)cinfo;
  char buf[JMSG_LENGTH_MAX];
  int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF || (code == JWRN_HIT_MARKER && c->saw_eof)) {
    vouch__img_fail(c->dec, rc, "JPEG: premature end of data");
  } else {
    buf[0] = '\0';
    (*cinfo->err->format_message)(cinfo, buf);
    vouch__img_fail(c->dec, rc, "JPEG: %s", buf);
  }
  c->rc = rc;
  longjmp(c->jb, 1);
}

static void j_error_exit(j_common_ptr cinfo) {
  int code = cinfo->err->msg_code;
  int rc = VOUCH_E_IMAGE_CORRUPT;
  if (code == JERR_OUT_OF_MEMORY)
    rc = VOUCH_E_NOMEM;
  else if (code == JERR_EMPTY_IMAGE)
    rc = VOUCH_E_IMAGE_EMPTY; /* a zero side in the frame header */
  else if (code == JERR_CONVERSION_NOTIMPL || code == JERR_NOT_COMPILED ||
           code == JERR_ARITH_NOTIMPL)
    rc = VOUCH_E_UNSUPPORTED;
  else if (code == JERR_BAD_PRECISION && cinfo->is_decompressor &&
           (((j_decompress_ptr)cinfo)->data_precision == 12 ||
            ((j_decompress_ptr)cinfo)->data_precision == 16))
    rc = VOUCH_E_UNSUPPORTED; /* valid 12-bit or lossless 16-bit: not in this build */
  j_fail(cinfo, rc);
}

/* Warnings that mean the decoded pixels are not the encoded image. */
static int warning_is_fatal(int code) {
  switch (code) {
  case JWRN_JPEG_EOF:       /* premature end of file: the rest is filler */
  case JWRN_HIT_MARKER:     /* premature end of a data segment */
  case JWRN_MUST_RESYNC:    /* lost sync, restart markers out of order */
  case JWRN_HUFF_BAD_CODE:  /* bad Huffman code: garbage follows */
  case JWRN_ARITH_BAD_CODE: /* bad arithmetic code */
    return 1;
  default:
    return 0;
  }
}

/* The end of the data without an EOI marker.  In a single-scan file this
 * alone loses nothing: if the entropy decoder then needs bits that are not
 * there it says so with JWRN_HIT_MARKER, which is fatal.  In a multi-scan
 * (e.g. progressive) file the missing part may be whole scans, which
 * libjpeg would silently skip, so there the end of data is fatal at once;
 * likewise inside the headers. */
static void j_emit_message(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) {
    jctx *c = (jctx *)(void *)cinfo;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF && c->eof_benign) {
      c->saw_eof = 1;
    } else if (warning_is_fatal(code)) {
      j_fail(cinfo, VOUCH_E_IMAGE_CORRUPT);
    }
    cinfo->err->num_warnings++;
  }
  /* msg_level >= 0: trace messages, never wanted. */
}

static void j_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void j_progress(j_common_ptr cinfo) {
  j_decompress_ptr d = (j_decompress_ptr)cinfo;
  if (d->input_scan_number > JPEG_MAX_SCANS) {
    jctx *c = (jctx *)(void *)cinfo;
    vouch__img_fail(c->dec, VOUCH_E_IMAGE_CORRUPT, "JPEG: more than %d scans", JPEG_MAX_SCANS);
    c->rc = VOUCH_E_IMAGE_CORRUPT;
    longjmp(c->jb, 1);
  }
}

/* CMYK to RGB the way ImageMagick 6 does it, so that a CMYK JPEG hashes as
 * it does with the reference pipeline.  IM6's JPEG reader always stores
 * 255-sample (it assumes Adobe's inverted CMYK, which is what Photoshop,
 * Pillow and libjpeg's own writer produce), scaled to its 16-bit quantum;
 * the sRGB conversion is then R = (QR - C)(QR - K)/QR, i.e. in terms of the
 * raw samples c, k: R16 = c*257 * k*257 / 65535 = c*k*257/255, rounded to
 * the nearest quantum; finally 16 -> 8 bits rounds to nearest.  This
 * collapses to the 8-bit formula below (exhaustively checked against the
 * 16-bit chain in tests/unit/test_image.c). */
static uint8_t cmyk_channel(unsigned v, unsigned k) {
  return (uint8_t)((v * k + 127u) / 255u);
}

/* Sets up the decompressor with our error manager, progress limit and
 * memory source, reads the header, checks the size limits and finds the
 * EXIF orientation.  Shared by the whole-image decode and the row reader;
 * call it only after the caller's setjmp(c->jb), since libjpeg errors
 * longjmp there. */
static int jpeg_header(jctx *c, const uint8_t *data, size_t len) {
  j_decompress_ptr ci = &c->cinfo;
  ci->err = jpeg_std_error(&c->jerr);
  c->jerr.error_exit = j_error_exit;
  c->jerr.emit_message = j_emit_message;
  c->jerr.output_message = j_output_message;
  c->created = 1;
  jpeg_create_decompress(ci);
  c->progress.progress_monitor = j_progress;
  ci->progress = &c->progress;
  jpeg_mem_src(ci, data, (unsigned long)len);
  jpeg_save_markers(ci, JPEG_APP0 + 1, 0xFFFF);
  if (jpeg_read_header(ci, TRUE) != JPEG_HEADER_OK)
    return vouch__img_fail(c->dec, VOUCH_E_IMAGE_CORRUPT, "JPEG: no image in the data stream");
  int rc = vouch__img_check_size(c->dec, "JPEG", ci->image_width, ci->image_height);
  if (rc != VOUCH_OK)
    return rc;
  c->eof_benign = !jpeg_has_multiple_scans(ci);
  for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
      c->orientation = vouch__exif_orientation(m->data + 6, m->data_length - 6);
      break;
    }
  }
  return VOUCH_OK;
}

static int jpeg_run(jctx *c, const uint8_t *data, size_t len) {
  j_decompress_ptr ci = &c->cinfo;
  vouch_image *out = c->out;
  const vouch_decode_opts *opts = &c->dec->opts;
  volatile int cmyk = 0; /* volatile: gcc -O2 -Wclobbered (harmless: after a
                          * longjmp we only return c->rc) */
  uint32_t ch;
  int rc;

  if (setjmp(c->jb))
    return c->rc;

  rc = jpeg_header(c, data, len);
  if (rc != VOUCH_OK)
    return rc;

  switch (ci->jpeg_color_space) {
  case JCS_GRAYSCALE:
    ci->out_color_space = JCS_GRAYSCALE;
    ch = 1;
    break;
  case JCS_CMYK:
  case JCS_YCCK:
    ci->out_color_space = JCS_CMYK;
    cmyk = 1;
    ch = 3;
    break;
  default:
    ci->out_color_space = JCS_RGB;
    ch = 3;
    break;
  }

  out->scale_denom = 1;
  if (opts->min_side > 0) {
    static const unsigned denoms[3] = {8, 4, 2};
    for (int i = 0; i < 3; i++) {
      unsigned d = denoms[i];
      uint32_t sw = (uint32_t)((ci->image_width + d - 1) / d);
      uint32_t sh = (uint32_t)((ci->image_height + d - 1) / d);
      if (sw >= opts->min_side && sh >= opts->min_side) {
        ci->scale_num = 1;
        ci->scale_denom = d;
        out->scale_denom = (int)d;
        break;
      }
    }
  }

  jpeg_start_decompress(ci);
  if (ci->output_width == 0 || ci->output_height == 0 ||
      ci->out_color_components != (cmyk ? 4 : (int)ch))
    return vouch__img_fail(c->dec, VOUCH_E_IMAGE_CORRUPT, "JPEG: unexpected output geometry");

  {
    int sd = out->scale_denom;
    rc = vouch_image_init(out, ci->output_width, ci->output_height, ch);
    if (rc != VOUCH_OK)
      return vouch__img_fail(c->dec, rc, "JPEG: no memory for %ux%u pixels",
                             (unsigned)ci->output_width, (unsigned)ci->output_height);
    out->scale_denom = sd;
    out->src_width = ci->image_width;
    out->src_height = ci->image_height;
  }
  if (cmyk) {
    c->row = vouch__malloc((size_t)ci->output_width * 4);
    if (!c->row)
      return vouch__img_fail(c->dec, VOUCH_E_NOMEM, "JPEG: no memory for a scanline");
  }

  while (ci->output_scanline < ci->output_height) {
    uint8_t *dst = out->pixels + (size_t)ci->output_scanline * out->stride;
    JSAMPROW rowp = cmyk ? c->row : dst;
    if (jpeg_read_scanlines(ci, &rowp, 1) != 1)
      return vouch__img_fail(c->dec, VOUCH_E_IMAGE_CORRUPT, "JPEG: premature end of data");
    if (cmyk) {
      for (uint32_t x = 0; x < ci->output_width; x++) {
        const uint8_t *s = c->row + (size_t)x * 4;
        dst[x * 3 + 0] = cmyk_channel(s[0], s[3]);
        dst[x * 3 + 1] = cmyk_channel(s[1], s[3]);
        dst[x * 3 + 2] = cmyk_channel(s[2], s[3]);
      }
    }
  }
  /* No jpeg_finish_decompress(): every pixel has been read, and a file that
   * lacks only its EOI marker is still a complete image. */
  return VOUCH_OK;
}

int vouch__decode_jpeg(vouch_decoder *dec, const uint8_t *data, size_t len, vouch_image *out,
                       int *orientation) {
  jctx c;
  int rc;
  memset(&c, 0, sizeof c);
  c.dec = dec;
  c.out = out;
  c.orientation = 1;
  rc = jpeg_run(&c, data, len);
  if (c.created)
    jpeg_destroy_decompress(&c.cinfo);
  vouch__free(c.row);
  if (rc != VOUCH_OK) {
    vouch_image_clear(out);
    return rc;
  }
  *orientation = c.orientation;
  return VOUCH_OK;
}

/* ------------------------------------------------------------ row streaming
 * For hashing at full resolution without storing the image: the caller pulls
 * rows in order.  Same error manager, warning policy and limits as the
 * whole-image decode above; each call that runs libjpeg sets its own
 * setjmp.  Streams only what needs no whole-image step: not CMYK, and not
 * when an EXIF orientation other than 1 would have to be applied. */
struct vouch__jpeg_rows {
  jctx c;
  uint32_t w, h, ch;
};

static int rows_open_run(vouch__jpeg_rows *r, const uint8_t *data, size_t len) {
  jctx *c = &r->c;
  j_decompress_ptr ci = &c->cinfo;
  if (setjmp(c->jb))
    return c->rc;
  int rc = jpeg_header(c, data, len);
  if (rc != VOUCH_OK)
    return rc;
  if (ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK)
    return VOUCH_E_UNSUPPORTED; /* not streamed: the caller decodes the whole image */
  if (c->dec->opts.apply_orientation && c->orientation > 1 && c->orientation <= 8)
    return VOUCH_E_UNSUPPORTED;
  ci->out_color_space = ci->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(ci);
  if (ci->output_width == 0 || ci->output_height == 0 ||
      ci->out_color_components != (ci->out_color_space == JCS_GRAYSCALE ? 1 : 3))
    return vouch__img_fail(c->dec, VOUCH_E_IMAGE_CORRUPT, "JPEG: unexpected output geometry");
  r->w = ci->output_width;
  r->h = ci->output_height;
  r->ch = (uint32_t)ci->out_color_components;
  return VOUCH_OK;
}

int vouch__jpeg_rows_open(vouch_decoder *dec, const uint8_t *data, size_t len, vouch__jpeg_rows **out,
                          uint32_t *width, uint32_t *height, uint32_t *channels) {
  *out = NULL;
  if (dec->opts.min_side > 0)
    return VOUCH_E_UNSUPPORTED; /* scaled decodes are small: no need to stream */
  vouch__jpeg_rows *r = vouch__calloc(1, sizeof *r);
  if (!r)
    return VOUCH_E_NOMEM;
  r->c.dec = dec;
  r->c.orientation = 1;
  dec->errmsg[0] = '\0';
  int rc = rows_open_run(r, data, len);
  if (rc != VOUCH_OK) {
    vouch__jpeg_rows_close(r);
    return rc;
  }
  *width = r->w;
  *height = r->h;
  *channels = r->ch;
  *out = r;
  return VOUCH_OK;
}

int vouch__jpeg_rows_read(vouch__jpeg_rows *r, uint8_t *dst, size_t stride, uint32_t n) {
  jctx *c = &r->c;
  if (setjmp(c->jb))
    return c->rc;
  for (uint32_t i = 0; i < n; i++) {
    JSAMPROW row = dst + i * stride;
    if (jpeg_read_scanlines(&c->cinfo, &row, 1) != 1)
      return vouch__img_fail(c->dec, VOUCH_E_IMAGE_CORRUPT, "JPEG: premature end of data");
  }
  return VOUCH_OK;
}

void vouch__jpeg_rows_close(vouch__jpeg_rows *r) {
  if (!r)
    return;
  if (r->c.created)
    jpeg_destroy_decompress(&r->c.cinfo);
  vouch__free(r);
}
