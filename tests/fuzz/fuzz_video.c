/* tests/fuzz/fuzz_video.c -- the video module's demux/decode path (FFmpeg
 * through vouch's in-memory AVIOContext) and vPDQ on arbitrary bytes.
 *
 * Opens the input twice under tight limits (sides <= 256, 64 Ki pixels a
 * frame, 60 s, 2 Mi decoded pixels in total) and checks, beyond "no crash,
 * no leak, no sanitizer report":
 *   - failure gives a video error code and a one-line errmsg; once a call
 *     fails, the next fails the same way;
 *   - success gives a frame rate > 0, sizes within the limits, and frames
 *     numbered 0, 1, 2, ... at the output size, stride >= 3 * width;
 *   - the limits hold: at most max_total_pixels frames, none past
 *     max_seconds;
 *   - vouch_vpdq_hash_video() on a second open gives, frame for frame, the
 *     hash and quality vouch_vpdq_hash_rgb() gave on the first pass's frames.
 * Replayed over tests/fuzz/corpus/video/ in ordinary test runs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/video.h"

#define FUZZ_CHECK(c) \
  do {                \
    if (!(c))         \
      abort();        \
  } while (0)

#define MAX_KEPT 64 /* frames whose hashes we keep for the comparison */

static int rc_allowed(int rc) {
  return rc == VOUCH_E_NOMEM || rc == VOUCH_E_UNSUPPORTED || rc == VOUCH_E_VIDEO_FORMAT ||
         rc == VOUCH_E_VIDEO_CORRUPT || rc == VOUCH_E_VIDEO_TOO_LARGE || rc == VOUCH_E_VIDEO_TOO_LONG;
}

static void check_err(const vouch_video *v, int rc) {
  const char *m = vouch_video_errmsg(v);
  FUZZ_CHECK(rc_allowed(rc));
  FUZZ_CHECK(m[0] != '\0' && strchr(m, '\n') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int quiet;
  if (!quiet) {
    vouch_video_silence_log();
    quiet = 1;
  }
  vouch_video_opts o = vouch_video_opts_default();
  o.max_side = 256;
  o.max_frame_pixels = 65536;
  o.max_seconds = 60;
  o.max_total_pixels = 2u << 20;
  vouch_video *v = NULL;
  int rc = vouch_video_open_memory(&v, data, size, &o);
  if (rc != VOUCH_OK) {
    if (v) check_err(v, rc);
    vouch_video_free(v);
    return 0;
  }
  vouch_video_info info;
  vouch_video_get_info(v, &info);
  FUZZ_CHECK(info.frame_rate > 0 && isfinite(info.frame_rate));
  FUZZ_CHECK(info.width >= 1 && info.height >= 1 && info.width <= o.max_side && info.height <= o.max_side);
  FUZZ_CHECK(info.out_width == info.width && info.out_height == info.height);
  FUZZ_CHECK(info.rotation == 0 || info.rotation == 90 || info.rotation == 180 || info.rotation == 270);
  uint8_t kept[MAX_KEPT][VOUCH_PDQ_BYTES];
  int kept_q[MAX_KEPT];
  uint64_t n = 0;
  vouch_video_frame f;
  int eof = 0;
  for (;;) {
    rc = vouch_video_next(v, 1, &f, &eof);
    if (rc != VOUCH_OK) {
      check_err(v, rc);
      vouch_video_frame g;
      int eof2 = 0;
      FUZZ_CHECK(vouch_video_next(v, 1, &g, &eof2) == rc); /* sticky */
      break;
    }
    if (eof) break;
    FUZZ_CHECK(f.index == n);
    FUZZ_CHECK(f.width == info.out_width && f.height == info.out_height);
    FUZZ_CHECK(f.rgb != NULL && f.stride >= (size_t)f.width * 3U);
    FUZZ_CHECK((double)f.index / info.frame_rate <= o.max_seconds);
    if (n < MAX_KEPT)
      FUZZ_CHECK(vouch_vpdq_hash_rgb(f.rgb, f.stride, f.width, f.height, kept[n], &kept_q[n]) == VOUCH_OK);
    n++;
    FUZZ_CHECK(n <= o.max_total_pixels);
  }
  const int first_rc = rc;
  vouch_video_free(v);

  /* the same bytes through vPDQ: the same frames and hashes */
  v = NULL;
  FUZZ_CHECK(vouch_video_open_memory(&v, data, size, &o) == VOUCH_OK);
  vouch_vpdq h = {0};
  rc = vouch_vpdq_hash_video(v, 0, &h);
  if (first_rc != VOUCH_OK) {
    FUZZ_CHECK(rc == first_rc || rc == VOUCH_E_NOMEM);
  } else if (n == 0) {
    FUZZ_CHECK(rc == VOUCH_E_VIDEO_CORRUPT);
  } else {
    FUZZ_CHECK(rc == VOUCH_OK && h.n == n);
    for (size_t i = 0; i < h.n && i < MAX_KEPT; i++) {
      FUZZ_CHECK(h.frames[i].frame == i);
      FUZZ_CHECK(memcmp(h.frames[i].hash, kept[i], VOUCH_PDQ_BYTES) == 0 && h.frames[i].quality == kept_q[i]);
    }
  }
  if (rc != VOUCH_OK) FUZZ_CHECK(h.frames == NULL && h.n == 0);
  vouch_vpdq_clear(&h);
  vouch_video_free(v);

  /* downscaled, rotation ignored: opens the same way */
  o.out_side = 16;
  o.apply_rotation = 0;
  v = NULL;
  FUZZ_CHECK(vouch_video_open_memory(&v, data, size, &o) == VOUCH_OK);
  vouch_video_get_info(v, &info);
  FUZZ_CHECK(info.out_width == 16 && info.out_height == 16 && info.rotation == 0);
  rc = vouch_video_next(v, 1, &f, &eof);
  if (rc == VOUCH_OK && !eof) FUZZ_CHECK(f.width == 16 && f.height == 16 && f.index == 0);
  vouch_video_free(v);
  return 0;
}
