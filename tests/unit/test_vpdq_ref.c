/* tests/unit/test_vpdq_ref.c -- vPDQ against Meta's reference hashes.
 *
 * Every video in $VOUCH_SHARED/testdata/vpdq/videos is hashed at its own size
 * and at 128x128 (when the reference's NAME-128x128.txt exists) and compared
 * with the reference's file the way its regression test (vpdq/cpp/regtest.py
 * with match-hashes-byline) compares: line by line, frames where both
 * qualities are at least 50, a frame agreeing when the Hamming distance is
 * at most 31.  On top of that we require what the issue asks: the same
 * number of lines, the same frame numbers, the same timestamps as printed,
 * and at least 99% of compared frames agreeing.  Frame decoding and RGB
 * conversion go through FFmpeg, whose x86 SIMD paths differ slightly from
 * the reference's build, so hashes are not all bit-identical (docs/video.md). */
#include <dirent.h>
#include <string.h>
#include "tinytest.h"
#include "vouch/vouch.h"

#define QUALITY_MIN 50
#define DISTANCE_MAX 31
#define MIN_AGREEMENT 0.99

static const char *shared;
static int videos_seen;

/* Under AddressSanitizer (a Debug build) PDQ runs some 10x slower: there we
 * hash only the first SANITIZED_VIDEOS videos, enough for memory errors;
 * the release build checks agreement on all of them. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif
#define SANITIZED_VIDEOS 2

static int cmp_uint(const void *a, const void *b) {
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return x < y ? -1 : x > y;
}

/* The 4th field (seconds) of a formatted line. */
static const char *seconds_field(const char *line) {
  const char *p = line;
  for (int k = 0; k < 3 && p; k++) p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
  return p ? p : "";
}

static void compare_one(const char *name, uint32_t side) {
  char vpath[1024], epath[1024];
  snprintf(vpath, sizeof vpath, "%s/testdata/vpdq/videos/%s.mp4", shared, name);
  if (side)
    snprintf(epath, sizeof epath, "%s/testdata/vpdq/expected/%s-%ux%u.txt", shared, name, side, side);
  else
    snprintf(epath, sizeof epath, "%s/testdata/vpdq/expected/%s.txt", shared, name);
  size_t elen = 0;
  unsigned char *etext = tt_read_file(epath, &elen);
  if (!etext && side) return; /* the reference has no downscaled file for this video */
  REQUIRE(etext != NULL);
  vouch_vpdq exp = {0}, got = {0};
  size_t bad_line = 0;
  int rc = vouch_vpdq_parse((const char *)etext, elen, &exp, &bad_line);
  free(etext);
  CHECK_EQ_INT(rc, VOUCH_OK);
  REQUIRE(rc == VOUCH_OK);

  vouch_video_opts o = vouch_video_opts_default();
  o.out_side = side;
  o.threads = 2;
  vouch_video *v = NULL;
  rc = vouch_video_open_file(&v, vpath, &o);
  if (rc == VOUCH_OK) rc = vouch_vpdq_hash_video(v, 0, &got);
  if (rc != VOUCH_OK) fprintf(stderr, "%s: %s\n", vpath, vouch_video_errmsg(v));
  vouch_video_free(v);
  CHECK_EQ_INT(rc, VOUCH_OK);
  CHECK_EQ_INT(got.n, exp.n);
  size_t n = got.n < exp.n ? got.n : exp.n, compared = 0, agree = 0, agree_strict = 0, exact = 0, meta_bad = 0;
  unsigned *dist = malloc((n ? n : 1) * sizeof *dist);
  REQUIRE(dist != NULL);
  for (size_t i = 0; i < n; i++) {
    const vouch_vpdq_frame *a = &got.frames[i], *b = &exp.frames[i];
    char la[VOUCH_VPDQ_LINE_BYTES], lb[VOUCH_VPDQ_LINE_BYTES];
    vouch_vpdq_format_line(a, la, sizeof la);
    vouch_vpdq_format_line(b, lb, sizeof lb);
    if (a->frame != b->frame || strcmp(seconds_field(la), seconds_field(lb)) != 0) {
      if (meta_bad++ < 3) fprintf(stderr, "  line %zu: got %s  want %s", i + 1, la, lb);
    }
    dist[i] = vouch_hamming(a->hash, b->hash, VOUCH_PDQ_BYTES);
    exact += dist[i] == 0;
    if (a->quality < QUALITY_MIN || b->quality < QUALITY_MIN) continue;
    compared++;
    agree += dist[i] <= DISTANCE_MAX;
    agree_strict += dist[i] < DISTANCE_MAX; /* match-hashes-byline's own test is '<' */
  }
  CHECK_EQ_INT(meta_bad, 0);
  qsort(dist, n, sizeof *dist, cmp_uint);
  double share = compared ? (double)agree / (double)compared : 0.0;
  fprintf(stderr, "  %-30s %4s: %zu frames, %zu compared, %.2f%% within %d (%.2f%% below), %zu identical, distance median %u max %u\n",
          name, side ? "128" : "own", n, compared, 100.0 * share, DISTANCE_MAX,
          compared ? 100.0 * (double)agree_strict / (double)compared : 0.0, exact, n ? dist[n / 2] : 0,
          n ? dist[n - 1] : 0);
  CHECK(compared > 0);
  CHECK(share >= MIN_AGREEMENT);
  free(dist);
  vouch_vpdq_clear(&got);
  vouch_vpdq_clear(&exp);
}

static void test_reference_videos(void) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/testdata/vpdq/videos", shared);
  DIR *d = opendir(dir);
  REQUIRE(d != NULL);
  char *names[64];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    size_t len = strlen(e->d_name);
    if (len > 4 && !strcmp(e->d_name + len - 4, ".mp4")) names[n++] = strndup(e->d_name, len - 4);
  }
  closedir(d);
  for (size_t i = 0; i < n; i++) {
    if (!SANITIZED || i < SANITIZED_VIDEOS) {
      compare_one(names[i], 0);
      compare_one(names[i], 128);
      videos_seen++;
    }
    free(names[i]);
  }
  if (SANITIZED) fprintf(stderr, "  sanitizer build: %d of %zu videos compared\n", videos_seen, n);
  CHECK(n >= 8); /* the shared set has 8 videos */
  CHECK(videos_seen == (SANITIZED ? (int)(n < SANITIZED_VIDEOS ? n : SANITIZED_VIDEOS) : (int)n));
}

int main(void) {
  shared = tt_shared_dir();
  struct stat st;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/testdata/vpdq", shared);
  if (stat(dir, &st) != 0) {
    fprintf(stderr, "no vPDQ reference data in %s; skipping\n", dir);
    return 77;
  }
  TT_RUN(test_reference_videos);
  TT_MAIN_END;
}
