/* src/image/gif.c -- GIF through giflib, first frame only.
 *
 * We read from memory through DGifOpen's input callback and walk the
 * records ourselves instead of DGifSlurp(), which would decode every frame
 * of an animation: we stop after the first image, so the work is bounded by
 * the input size plus one frame.  The output is that frame's own rectangle
 * (not the logical screen), as ImageMagick returns it, in RGB through the
 * frame's colour map (or the global one).  Transparency is ignored: the
 * transparent index keeps its palette colour.  An index beyond the colour
 * map is black.
 */
#include <string.h>
#include <gif_lib.h>
#include "image_internal.h"

typedef struct gsrc {
  const uint8_t *data;
  size_t len, pos;
} gsrc;

static int g_read(GifFileType *gif, GifByteType *dst, int n) {
  gsrc *s = gif->UserData;
  size_t want = n > 0 ? (size_t)n : 0;
  size_t avail = s->len - s->pos;
  if (want > avail)
    want = avail;
  memcpy(dst, s->data + s->pos, want);
  s->pos += want;
  return (int)want;
}

static int g_fail(vouch_decoder *dec, int gif_err) {
  const char *msg = GifErrorString(gif_err);
  int rc = gif_err == D_GIF_ERR_NOT_ENOUGH_MEM ? VOUCH_E_NOMEM : VOUCH_E_IMAGE_CORRUPT;
  if (gif_err == D_GIF_ERR_READ_FAILED)
    return vouch__img_fail(dec, rc, "GIF: premature end of data");
  return vouch__img_fail(dec, rc, "GIF: %s", msg ? msg : "error");
}

static int gif_first_frame(vouch_decoder *dec, GifFileType *gif, vouch_image *out) {
  GifRecordType type;
  for (;;) {
    if (DGifGetRecordType(gif, &type) == GIF_ERROR)
      return g_fail(dec, gif->Error);
    if (type == TERMINATE_RECORD_TYPE)
      return vouch__img_fail(dec, VOUCH_E_IMAGE_EMPTY, "GIF: no image frames");
    if (type == EXTENSION_RECORD_TYPE) {
      int code;
      GifByteType *ext;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR)
        return g_fail(dec, gif->Error);
      while (ext != NULL) {
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR)
          return g_fail(dec, gif->Error);
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE)
      return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "GIF: unknown record type");
    break;
  }
  if (DGifGetImageDesc(gif) == GIF_ERROR)
    return g_fail(dec, gif->Error);

  {
    const GifImageDesc *d = &gif->Image;
    const ColorMapObject *cmap = d->ColorMap ? d->ColorMap : gif->SColorMap;
    GifPixelType *line;
    uint32_t w, h;
    int rc;
    if (d->Width < 0 || d->Height < 0)
      return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "GIF: negative frame size");
    w = (uint32_t)d->Width;
    h = (uint32_t)d->Height;
    rc = vouch__img_check_size(dec, "GIF", w, h);
    if (rc != VOUCH_OK)
      return rc;
    if (!cmap || !cmap->Colors || cmap->ColorCount <= 0)
      return vouch__img_fail(dec, VOUCH_E_IMAGE_CORRUPT, "GIF: no colour map");
    rc = vouch_image_init(out, w, h, 3);
    if (rc != VOUCH_OK)
      return vouch__img_fail(dec, rc, "GIF: no memory for %ux%u pixels", (unsigned)w, (unsigned)h);
    line = vouch__malloc(w);
    if (!line)
      return vouch__img_fail(dec, VOUCH_E_NOMEM, "GIF: no memory for a line");
    {
      /* Interlaced frames arrive in four passes: rows 0,8,16..; 4,12..;
       * 2,6,10..; 1,3,5.. */
      static const uint32_t start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
      const int passes = d->Interlace ? 4 : 1;
      for (int p = 0; p < passes; p++) {
        uint32_t y0 = d->Interlace ? start[p] : 0, dy = d->Interlace ? step[p] : 1;
        for (uint32_t y = y0; y < h; y += dy) {
          uint8_t *dst = out->pixels + (size_t)y * out->stride;
          if (DGifGetLine(gif, line, (int)w) == GIF_ERROR) {
            vouch__free(line);
            return g_fail(dec, gif->Error);
          }
          for (uint32_t x = 0; x < w; x++) {
            if (line[x] < cmap->ColorCount) {
              const GifColorType *col = &cmap->Colors[line[x]];
              dst[3 * x] = col->Red;
              dst[3 * x + 1] = col->Green;
              dst[3 * x + 2] = col->Blue;
            } else {
              dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = 0;
            }
          }
        }
      }
    }
    vouch__free(line);
  }
  return VOUCH_OK;
}

int vouch__decode_gif(vouch_decoder *dec, const uint8_t *data, size_t len, vouch_image *out,
                      int *orientation) {
  gsrc src;
  int err = 0, rc;
  GifFileType *gif;
  src.data = data;
  src.len = len;
  src.pos = 0;
  gif = DGifOpen(&src, g_read, &err);
  if (!gif)
    return g_fail(dec, err);
  rc = gif_first_frame(dec, gif, out);
  DGifCloseFile(gif, &err);
  if (rc != VOUCH_OK) {
    vouch_image_clear(out);
    return rc;
  }
  *orientation = 1;
  return VOUCH_OK;
}
