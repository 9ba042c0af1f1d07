/*
 * src/eval/video_edit.c -- the edits `vouch eval video` applies to a video
 * before hashing it again: each one decodes the video, changes its frames,
 * re-encodes them in memory as a platform's transcoder would
 * (vouch_video_recoder, MPEG-4 Part 2) and hashes the decoded result with
 * vPDQ's frame selection.
 *
 *   recode       re-encoded at a streaming quality (quantiser 4), nothing else
 *   bitrate-low  re-encoded at quantiser 24 (visibly blocky)
 *   half-size    downscaled to half width and height (2x2 box filter)
 *   crop         10% cut from every side
 *   logo         an opaque striped box over the bottom-right corner (1/4 wide, 1/8 high)
 *   clip         the middle half of the frames, numbered again from 0
 */
#include <math.h>
#include <string.h>

#include "eval_internal.h"
#include "vouch/video.h"
#include "video/video_internal.h"

static const char *const edit_names[VOUCH_VEDIT_COUNT] = {"recode", "bitrate-low", "half-size", "crop", "logo",
                                                           "clip"};

const char *vouch_eval_video_edit_name(int edit) {
  return edit >= 0 && edit < VOUCH_VEDIT_COUNT ? edit_names[edit] : "unknown";
}

int vouch_eval_video_edit_from_name(const char *name) {
  for (int i = 0; name && i < VOUCH_VEDIT_COUNT; i++)
    if (!strcmp(name, edit_names[i])) return i;
  return -1;
}

typedef struct {
  int edit;
  uint64_t first, last; /* input frames kept: [first, last) */
  uint32_t w, h;        /* the edited size */
  uint8_t *buf;         /* an edited frame */
  vouch_video_recoder *rec;
  uint64_t step;        /* vPDQ's frame selection on the output */
  float fps;
  vouch_vpdq *out;
} edit_job;

/* A decoded frame of the re-encoded video: hashed when vPDQ selects it. */
static int hash_output(void *ctx, const vouch_video_frame *f) {
  edit_job *j = ctx;
  if (f->index % j->step != 0) return VOUCH_OK;
  vouch_vpdq_frame hf = {.frame = f->index, .seconds = (float)f->index / j->fps};
  int rc = vouch_vpdq_hash_rgb(f->rgb, f->stride, f->width, f->height, hf.hash, &hf.quality);
  return rc == VOUCH_OK ? vouch__vpdq_push(j->out, &hf) : rc;
}

/* The edited frame of `src` (w x h RGB24, `stride`) into j->buf. */
static const uint8_t *edit_frame(edit_job *j, const uint8_t *src, size_t stride, uint32_t w, uint32_t h) {
  uint8_t *d = j->buf;
  switch (j->edit) {
  case VOUCH_VEDIT_HALF:
    for (uint32_t y = 0; y < j->h; y++)
      for (uint32_t x = 0; x < j->w; x++)
        for (int c = 0; c < 3; c++) {
          const uint8_t *p = src + (size_t)(2 * y) * stride + (size_t)(2 * x) * 3 + c;
          d[((size_t)y * j->w + x) * 3 + c] = (uint8_t)((p[0] + p[3] + p[stride] + p[stride + 3] + 2) / 4);
        }
    return d;
  case VOUCH_VEDIT_CROP: {
    const uint32_t x0 = (w - j->w) / 2, y0 = (h - j->h) / 2;
    for (uint32_t y = 0; y < j->h; y++) memcpy(d + (size_t)y * j->w * 3, src + (size_t)(y0 + y) * stride + x0 * 3, (size_t)j->w * 3);
    return d;
  }
  case VOUCH_VEDIT_LOGO: {
    for (uint32_t y = 0; y < h; y++) memcpy(d + (size_t)y * w * 3, src + (size_t)y * stride, (size_t)w * 3);
    const uint32_t bw = w / 4, bh = h / 8, mx = w / 32, my = h / 32;
    for (uint32_t y = h - my - bh; y < h - my; y++)
      for (uint32_t x = w - mx - bw; x < w - mx; x++) {
        const uint8_t v = ((x + y) / 3) % 4 == 0 ? 20 : 235;
        memset(d + ((size_t)y * w + x) * 3, v, 3);
      }
    return d;
  }
  default:
    return src;
  }
}

int vouch_eval_video_edited(const char *path, const vouch_video_opts *opts, int edit, double seconds_per_hash,
                            vouch_vpdq *out) {
  if (!path || !out || edit < 0 || edit >= VOUCH_VEDIT_COUNT || !(seconds_per_hash >= 0) ||
      !isfinite(seconds_per_hash))
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  out->duration = -1;
  vouch_video *v = NULL;
  int rc = vouch_video_open_file(&v, path, opts);
  if (rc != VOUCH_OK) {
    vouch_video_free(v);
    return rc;
  }
  vouch_video_info info;
  vouch_video_get_info(v, &info);
  const uint32_t w = info.out_width, h = info.out_height;
  edit_job j = {.edit = edit, .first = 0, .last = UINT64_MAX, .w = w, .h = h, .out = out,
                .fps = (float)info.frame_rate};
  const double mod = seconds_per_hash * info.frame_rate;
  j.step = mod >= 1.0 ? (mod < 1e18 ? (uint64_t)mod : UINT64_C(1000000000000000000)) : 1;
  if (edit == VOUCH_VEDIT_HALF) j.w = w / 2, j.h = h / 2;
  if (edit == VOUCH_VEDIT_CROP) j.w = w - 2 * (w / 10), j.h = h - 2 * (h / 10);
  if (edit == VOUCH_VEDIT_CLIP) {
    /* the middle half: the frame count from the declared duration, else counted */
    uint64_t n = info.duration > 0 ? (uint64_t)llround(info.duration * info.frame_rate) : 0;
    if (n == 0) {
      vouch_video *c = NULL;
      int eof = 0;
      vouch_video_frame f;
      rc = vouch_video_open_file(&c, path, opts);
      while (rc == VOUCH_OK && !(rc = vouch_video_next(c, 0, &f, &eof)) && !eof) n++;
      vouch_video_free(c);
    }
    j.first = n / 4;
    j.last = n - n / 4;
    if (j.last <= j.first) j.last = j.first + 1;
  }
  const int q = edit == VOUCH_VEDIT_BITRATE ? 24 : 4;
  if (rc == VOUCH_OK && (j.w < 2 || j.h < 2)) rc = VOUCH_E_INVALID;
  if (rc == VOUCH_OK) rc = vouch_video_recoder_create(&j.rec, j.w, j.h, info.frame_rate, q);
  if (rc == VOUCH_OK && (j.w != w || j.h != h || edit == VOUCH_VEDIT_LOGO)) {
    j.buf = vouch__malloc((size_t)3 * j.w * j.h + (size_t)3 * w * (h + 1) + 64); /* swscale reads past the end */
    if (!j.buf) rc = VOUCH_E_NOMEM;
  }
  for (uint64_t i = 0; rc == VOUCH_OK && i < j.last; i++) {
    vouch_video_frame f;
    int eof = 0;
    const int keep = i >= j.first;
    rc = vouch_video_next(v, keep, &f, &eof);
    if (rc != VOUCH_OK || eof) break;
    if (!keep) continue;
    const uint8_t *e = edit_frame(&j, f.rgb, f.stride, f.width, f.height);
    rc = vouch_video_recoder_push(j.rec, e, e == f.rgb ? f.stride : (size_t)3 * j.w, hash_output, &j);
  }
  if (rc == VOUCH_OK) rc = vouch_video_recoder_finish(j.rec, hash_output, &j);
  if (rc == VOUCH_E_LIMIT) rc = VOUCH_E_VIDEO_TOO_LONG; /* more frames than a vPDQ holds */
  if (rc == VOUCH_OK && out->n == 0) rc = VOUCH_E_VIDEO_CORRUPT;
  if (rc == VOUCH_OK) {
    out->width = j.w;
    out->height = j.h;
    out->duration = (double)vouch_video_recoder_frames(j.rec) / info.frame_rate;
  } else {
    vouch_vpdq_clear(out);
    out->duration = -1;
  }
  vouch_video_recoder_free(j.rec);
  vouch__free(j.buf);
  vouch_video_free(v);
  return rc;
}
