/* tests/unit/test_video.c -- the video module: digests (known answers),
 * vPDQ's frame hash against PDQ on a luma plane, file and memory input,
 * limits, rotation, damaged files, the vPDQ text form.
 * Videos: tests/golden/videos/ (tests/golden/make_videos.sh). */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include "tinytest.h"
#include "vouch/vouch.h"
#include "vouch/index.h"
#include "vouch/bank.h"
#include "common/internal.h"

static char golden[1024];

static const char *gpath(const char *name) {
  static char p[1100];
  snprintf(p, sizeof p, "%s/%s", golden, name);
  return p;
}

static void hex(const uint8_t *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* ------------------------------------------------------------ digests */

static void test_digest_known_answers(void) {
  static const struct { int algo; const char *msg, *want; } kat[] = {
    /* RFC 1321, FIPS 180-2 appendix examples */
    {VOUCH_DIGEST_MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
    {VOUCH_DIGEST_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
    {VOUCH_DIGEST_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {VOUCH_DIGEST_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {VOUCH_DIGEST_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
    uint8_t d[VOUCH_DIGEST_MAX_BYTES];
    char h[2 * VOUCH_DIGEST_MAX_BYTES + 1];
    CHECK_EQ_INT(vouch_digest_buffer(kat[i].algo, kat[i].msg, strlen(kat[i].msg), d, sizeof d), VOUCH_OK);
    hex(d, vouch_digest_bytes(kat[i].algo), h);
    CHECK_EQ_STR(h, kat[i].want);
    /* streaming, one byte at a time, twice on one context (final resets it) */
    vouch_digest *ctx = NULL;
    REQUIRE(vouch_digest_create(&ctx, kat[i].algo) == VOUCH_OK);
    for (int round = 0; round < 2; round++) {
      for (const char *p = kat[i].msg; *p; p++) vouch_digest_update(ctx, p, 1);
      uint8_t e[VOUCH_DIGEST_MAX_BYTES];
      CHECK_EQ_INT(vouch_digest_final(ctx, e, sizeof e), VOUCH_OK);
      CHECK(memcmp(d, e, vouch_digest_bytes(kat[i].algo)) == 0);
    }
    vouch_digest_free(ctx);
  }
  uint8_t d[32];
  CHECK_EQ_INT(vouch_digest_buffer(VOUCH_DIGEST_SHA256, "abc", 3, d, 31), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_digest_buffer(99, "abc", 3, d, 32), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_digest_from_name("SHA-1"), VOUCH_DIGEST_SHA1);
  CHECK_EQ_INT(vouch_digest_from_name("sha512"), 0);
  CHECK_EQ_STR(vouch_digest_name(VOUCH_DIGEST_MD5), "md5");
  CHECK_EQ_INT(vouch_digest_file(VOUCH_DIGEST_MD5, "/nonexistent/x", d, sizeof d), VOUCH_E_IO);
}

/* ------------------------------------------------------------ frame hash */

/* vouch_vpdq_hash_rgb() == PDQ on the plane 0.299f R + 0.587f G + 0.114f B
 * (left to right, float) -- also for a frame that is grey throughout, where
 * the image path would take the reference image pipeline's grey shortcut. */
static void test_frame_hash_is_pdq_of_formula_luma(void) {
  const uint32_t sizes[][2] = {{64, 48}, {131, 77}, {5, 5}, {720, 16}};
  uint32_t seed = 12345;
  for (size_t s = 0; s < 4; s++) {
    for (int grey = 0; grey < 2; grey++) {
      const uint32_t w = sizes[s][0], h = sizes[s][1];
      const size_t stride = (size_t)w * 3 + 5; /* padded rows */
      uint8_t *rgb = malloc(stride * h);
      float *luma = malloc(sizeof(float) * w * h), *tmp = malloc(sizeof(float) * w * h);
      REQUIRE(rgb && luma && tmp);
      for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
          uint8_t *p = rgb + y * stride + 3 * x;
          for (int c = 0; c < 3; c++) {
            seed = seed * 1103515245u + 12345u;
            p[c] = (uint8_t)((seed >> 16) ^ (x * 7 + y * 3));
          }
          if (grey) p[1] = p[2] = p[0];
          luma[y * w + x] = 0.299f * (float)p[0] + 0.587f * (float)p[1] + 0.114f * (float)p[2];
        }
      uint8_t a[VOUCH_PDQ_BYTES], b[1][VOUCH_PDQ_BYTES];
      int qa = -1, qb = -2;
      CHECK_EQ_INT(vouch_vpdq_hash_rgb(rgb, stride, w, h, a, &qa), VOUCH_OK);
      CHECK_EQ_INT(vouch_pdq_from_luma(luma, tmp, h, w, b, 1, &qb), VOUCH_OK);
      CHECK(memcmp(a, b[0], VOUCH_PDQ_BYTES) == 0);
      CHECK_EQ_INT(qa, qb);
      free(rgb);
      free(luma);
      free(tmp);
    }
  }
  uint8_t z[VOUCH_PDQ_BYTES], rgb[4 * 4 * 3] = {0};
  int q = -1;
  CHECK_EQ_INT(vouch_vpdq_hash_rgb(rgb, 12, 4, 4, z, &q), VOUCH_OK);
  CHECK_EQ_INT(q, 0);
  CHECK_EQ_INT(vouch_vpdq_hash_rgb(rgb, 11, 4, 4, z, &q), VOUCH_E_INVALID);
}

/* ------------------------------------------------------------ decoding */

static int hash_file(const char *path, const vouch_video_opts *o, double s, vouch_vpdq *out) {
  vouch_video *v = NULL;
  int rc = vouch_video_open_file(&v, path, o);
  if (rc == VOUCH_OK) rc = vouch_vpdq_hash_video(v, s, out);
  vouch_video_free(v);
  return rc;
}

static void test_file_and_memory_agree(void) {
  size_t len = 0;
  unsigned char *bytes = tt_read_file(gpath("h264.mp4"), &len);
  REQUIRE(bytes != NULL);
  vouch_vpdq a = {0}, b = {0};
  CHECK_EQ_INT(hash_file(gpath("h264.mp4"), NULL, 0, &a), VOUCH_OK);
  vouch_video *v = NULL;
  CHECK_EQ_INT(vouch_video_open_memory(&v, bytes, len, NULL), VOUCH_OK);
  vouch_video_info info;
  vouch_video_get_info(v, &info);
  CHECK_EQ_INT(info.width, 48);
  CHECK_EQ_INT(info.height, 32);
  CHECK(fabs(info.frame_rate - 12.0) < 1e-9);
  CHECK(fabs(info.duration - 1.0) < 0.01);
  CHECK_EQ_STR(info.codec, "h264");
  CHECK_EQ_INT(vouch_vpdq_hash_video(v, 0, &b), VOUCH_OK);
  vouch_video_free(v);
  CHECK_EQ_INT(a.n, 12);
  CHECK_EQ_INT(b.n, a.n);
  for (size_t i = 0; i < a.n && i < b.n; i++) {
    CHECK(memcmp(a.frames[i].hash, b.frames[i].hash, VOUCH_PDQ_BYTES) == 0);
    CHECK_EQ_INT(a.frames[i].frame, i);
    CHECK(a.frames[i].seconds == (float)i / 12.0f);
  }
  /* one per half second at 12 fps: frames 0 and 6, hashed as in the full run */
  vouch_vpdq c = {0};
  CHECK_EQ_INT(hash_file(gpath("h264.mp4"), NULL, 0.5, &c), VOUCH_OK);
  CHECK_EQ_INT(c.n, 2);
  if (c.n == 2 && a.n == 12) {
    CHECK_EQ_INT(c.frames[1].frame, 6);
    CHECK(memcmp(c.frames[1].hash, a.frames[6].hash, VOUCH_PDQ_BYTES) == 0);
  }
  vouch_vpdq_clear(&a);
  vouch_vpdq_clear(&b);
  vouch_vpdq_clear(&c);
  free(bytes);
}

static void test_limits(void) {
  vouch_video_opts o = vouch_video_opts_default();
  vouch_vpdq h = {0};
  vouch_video *v = NULL;
  o.max_side = 40; /* the video is 48x32 */
  CHECK_EQ_INT(vouch_video_open_file(&v, gpath("h264.mp4"), &o), VOUCH_E_VIDEO_TOO_LARGE);
  CHECK(strstr(vouch_video_errmsg(v), "48x32") != NULL);
  vouch_video_free(v);
  o = vouch_video_opts_default();
  o.max_frame_pixels = 48 * 32 - 1;
  CHECK_EQ_INT(hash_file(gpath("h264.mp4"), &o, 0, &h), VOUCH_E_VIDEO_TOO_LARGE);
  o = vouch_video_opts_default();
  o.max_seconds = 0.5; /* declared duration 1 s */
  CHECK_EQ_INT(hash_file(gpath("h264.mp4"), &o, 0, &h), VOUCH_E_VIDEO_TOO_LONG);
  o = vouch_video_opts_default();
  o.max_total_pixels = 48 * 32 * 5; /* five frames' worth */
  v = NULL;
  REQUIRE(vouch_video_open_file(&v, gpath("h264.mp4"), &o) == VOUCH_OK);
  vouch_video_frame f;
  int eof = 0, rc = VOUCH_OK, n = 0;
  while ((rc = vouch_video_next(v, 0, &f, &eof)) == VOUCH_OK && !eof) n++;
  CHECK_EQ_INT(n, 5);
  CHECK_EQ_INT(rc, VOUCH_E_VIDEO_TOO_LONG);
  CHECK_EQ_INT(vouch_video_next(v, 0, &f, &eof), VOUCH_E_VIDEO_TOO_LONG); /* sticky */
  vouch_video_free(v);
  CHECK(h.frames == NULL && h.n == 0);
  /* a total below one frame's pixels stops the first frame */
  o = vouch_video_opts_default();
  o.max_total_pixels = 100;
  CHECK_EQ_INT(hash_file(gpath("h264.mp4"), &o, 0, &h), VOUCH_E_VIDEO_TOO_LONG);
  o = vouch_video_opts_default();
  o.max_side = 0;
  v = NULL;
  CHECK_EQ_INT(vouch_video_open_file(&v, gpath("h264.mp4"), &o), VOUCH_E_INVALID);
  vouch_video_free(v);
}

static void test_damaged_and_foreign(void) {
  vouch_vpdq h = {0};
  CHECK_EQ_INT(hash_file(gpath("truncated-data.mp4"), NULL, 0, &h), VOUCH_E_VIDEO_CORRUPT);
  CHECK_EQ_INT(hash_file(gpath("truncated-half.mp4"), NULL, 0, &h), VOUCH_E_VIDEO_CORRUPT);
  CHECK_EQ_INT(hash_file(gpath("not-video.txt"), NULL, 0, &h), VOUCH_E_VIDEO_FORMAT);
  CHECK_EQ_INT(hash_file(gpath("missing.mp4"), NULL, 0, &h), VOUCH_E_IO);
  CHECK(h.frames == NULL);
  vouch_video *v = NULL;
  CHECK_EQ_INT(vouch_video_open_memory(&v, "", 0, NULL), VOUCH_E_VIDEO_FORMAT);
  vouch_video_free(v);
  /* an HLS playlist naming another file: FFmpeg must not open it */
  static const char m3u8[] = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nh264.mp4\n#EXT-X-ENDLIST\n";
  v = NULL;
  int rc = vouch_video_open_memory(&v, m3u8, sizeof m3u8 - 1, NULL);
  CHECK_EQ_INT(rc, VOUCH_E_VIDEO_FORMAT);
  vouch_video_free(v);
  /* a still image is not a video (FFmpeg would read it as one frame) */
  char jpg[1100];
  snprintf(jpg, sizeof jpg, "%s/../../../examples/wee.jpg", golden);
  size_t jlen = 0;
  unsigned char *jbytes = tt_read_file(jpg, &jlen);
  if (jbytes) {
    v = NULL;
    CHECK_EQ_INT(vouch_video_open_memory(&v, jbytes, jlen, NULL), VOUCH_E_VIDEO_FORMAT);
    CHECK(strstr(vouch_video_errmsg(v), "still image") != NULL);
    vouch_video_free(v);
    free(jbytes);
  }
  CHECK(jbytes != NULL);
  static const char concat[] = "ffconcat version 1.0\nfile h264.mp4\n";
  v = NULL;
  CHECK_EQ_INT(vouch_video_open_memory(&v, concat, sizeof concat - 1, NULL), VOUCH_E_VIDEO_FORMAT);
  vouch_video_free(v);
}

/* rot90.mp4 is h264.mp4 with a display matrix of a quarter turn counter-
 * clockwise (ffprobe: rotation=90): its frames are h264.mp4's turned 270
 * degrees clockwise, as `ffmpeg` itself shows them (checked by hand against
 * ffmpeg's autorotated output, byte for byte); with rotation off they are
 * the same as h264.mp4's. */
static void test_rotation(void) {
  vouch_video *a = NULL, *b = NULL, *c = NULL;
  vouch_video_opts off = vouch_video_opts_default();
  off.apply_rotation = 0;
  REQUIRE(vouch_video_open_file(&a, gpath("h264.mp4"), NULL) == VOUCH_OK);
  REQUIRE(vouch_video_open_file(&b, gpath("rot90.mp4"), NULL) == VOUCH_OK);
  REQUIRE(vouch_video_open_file(&c, gpath("rot90.mp4"), &off) == VOUCH_OK);
  vouch_video_info ib;
  vouch_video_get_info(b, &ib);
  CHECK_EQ_INT(ib.rotation, 270);
  CHECK_EQ_INT(ib.width, 32);
  CHECK_EQ_INT(ib.height, 48);
  vouch_video_frame fa, fb, fc;
  int eof = 0;
  REQUIRE(vouch_video_next(a, 1, &fa, &eof) == VOUCH_OK && !eof);
  REQUIRE(vouch_video_next(b, 1, &fb, &eof) == VOUCH_OK && !eof);
  REQUIRE(vouch_video_next(c, 1, &fc, &eof) == VOUCH_OK && !eof);
  REQUIRE(fb.width == 32 && fb.height == 48 && fc.width == 48 && fc.height == 32);
  size_t bad = 0, bad_c = 0;
  for (uint32_t y = 0; y < 32; y++)
    for (uint32_t x = 0; x < 48; x++) {
      /* counter-clockwise: source (x, y) lands at (y, 47 - x) */
      bad += memcmp(fa.rgb + y * fa.stride + 3 * x, fb.rgb + (47 - x) * fb.stride + 3 * y, 3) != 0;
      bad_c += memcmp(fa.rgb + y * fa.stride + 3 * x, fc.rgb + y * fc.stride + 3 * x, 3) != 0;
    }
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(bad_c, 0);
  vouch_video_free(a);
  vouch_video_free(b);
  vouch_video_free(c);
}

/* ------------------------------------------------------------ text form */

static void test_text_form(void) {
  static const char text[] =
      "# comment\r\n"
      "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000\r\n"
      "\n"
      "30,49,0000000000000000000000000000000000000000000000000000000000000001,1.000\n";
  vouch_vpdq h;
  size_t line = 0;
  REQUIRE(vouch_vpdq_parse(text, sizeof text - 1, &h, &line) == VOUCH_OK);
  CHECK_EQ_INT(h.n, 2);
  CHECK_EQ_INT(h.frames[1].frame, 30);
  CHECK_EQ_INT(h.frames[1].quality, 49);
  CHECK_EQ_INT(h.frames[1].hash[31], 1);
  char buf[VOUCH_VPDQ_LINE_BYTES];
  CHECK(vouch_vpdq_format_line(&h.frames[0], buf, sizeof buf) > 0);
  CHECK_EQ_STR(buf, "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000\n");
  CHECK_EQ_INT(vouch_vpdq_format_line(&h.frames[0], buf, 20), 0);
  vouch_vpdq_clear(&h);
  static const struct { const char *t; size_t line; } bad[] = {
    {"", 0},                                                                                 /* no frame */
    {"0,100,e271,0.000\n", 1},                                                               /* short hash */
    {"0,101,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000\n", 1},   /* quality */
    {"0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,-1\n", 1},      /* seconds */
    {"0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c\n", 1},         /* 3 fields */
    {"5,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.1\n"
     "5,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.2\n", 2},     /* order */
  };
  /* python-threatexchange's JSON form, frames out of order */
  static const char js[] =
      "{\"30\": {\"quality\": 49, \"hash\": "
      "\"0000000000000000000000000000000000000000000000000000000000000001\", \"timestamp\": 1.0},"
      " \"0\": {\"quality\": 100, \"hash\": "
      "\"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c\", \"timestamp\": 0}}";
  REQUIRE(vouch_vpdq_parse(js, sizeof js - 1, &h, &line) == VOUCH_OK);
  CHECK_EQ_INT(h.n, 2);
  CHECK_EQ_INT(h.frames[0].frame, 0);
  CHECK_EQ_INT(h.frames[1].frame, 30);
  CHECK_EQ_INT(h.frames[1].quality, 49);
  CHECK(h.frames[1].seconds == 1.0f);
  vouch_vpdq_clear(&h);
  static const char *const bad_json[] = {
    "{}", "{\"0\": {\"quality\": 100, \"hash\": \"e2\", \"timestamp\": 0}}",
    "{\"x\": {\"quality\": 100, \"hash\": \"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c\", \"timestamp\": 0}}",
    "{\"0\": {\"quality\": 100, \"hash\": \"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c\"}}",
    "{\"1\": {\"quality\": 1, \"hash\": \"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c\", \"timestamp\": 0},"
    " \"01\": {\"quality\": 1, \"hash\": \"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c\", \"timestamp\": 0}}",
    "{\"0\": ",
  };
  for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
    CHECK_EQ_INT(vouch_vpdq_parse(bad_json[i], strlen(bad_json[i]), &h, &line), VOUCH_E_HASH_PARSE);
    CHECK(h.frames == NULL && h.n == 0);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    line = 99;
    CHECK_EQ_INT(vouch_vpdq_parse(bad[i].t, strlen(bad[i].t), &h, &line), VOUCH_E_HASH_PARSE);
    CHECK_EQ_INT(line, bad[i].line);
    CHECK(h.frames == NULL && h.n == 0);
  }
}

/* python-threatexchange's current signal form: known answers for the
 * seconds (Python's f"{x:.3}", printed by python3 for each value), a round
 * trip, and refusals. */
static void test_compact_form(void) {
  static const struct {
    float secs;
    const char *py;
  } kat[] = {{0.0f, "0.0"},     {0.5f, "0.5"},      {1.0f, "1.0"},         {12.5f, "12.5"},
             {99.96f, "1e+02"}, {100.0f, "1e+02"},  {123.4f, "1.23e+02"},  {1000.0f, "1e+03"},
             {0.0001f, "0.0001"}, {1e-05f, "1e-05"}, {3.3333333f, "3.33"}, {0.033333335f, "0.0333"},
             {59.94f, "59.9"}};
  const size_t n = sizeof kat / sizeof kat[0];
  vouch_vpdq h = {0};
  h.frames = calloc(n, sizeof *h.frames);
  REQUIRE(h.frames != NULL);
  h.n = h.cap = n;
  for (size_t i = 0; i < n; i++) {
    h.frames[i].frame = i;
    h.frames[i].quality = (int)(i * 7 % 101);
    h.frames[i].seconds = kat[i].secs;
    for (size_t b = 0; b < VOUCH_PDQ_BYTES; b++) h.frames[i].hash[b] = (uint8_t)(i * 31 + b);
  }
  char *js = NULL;
  size_t len = 0;
  REQUIRE(vouch_vpdq_format_compact(&h, &js, &len) == VOUCH_OK);
  CHECK_EQ_INT(len, strlen(js));
  CHECK(js[0] == '[' && js[len - 1] == ']');
  /* each item ends with its seconds as Python writes them */
  const char *p = js;
  for (size_t i = 0; i < n; i++) {
    char hex[VOUCH_HASH_HEX_BYTES], want[128];
    vouch_hash_to_hex(h.frames[i].hash, VOUCH_PDQ_BYTES, hex, sizeof hex);
    snprintf(want, sizeof want, "\"%s,%d,%s\"", hex, h.frames[i].quality, kat[i].py);
    const char *at = strstr(p, want);
    CHECK(at != NULL);
    if (at) p = at + strlen(want);
  }
  vouch_vpdq back;
  size_t line = 0;
  REQUIRE(vouch_vpdq_parse(js, len, &back, &line) == VOUCH_OK);
  CHECK_EQ_INT(back.n, n);
  for (size_t i = 0; i < n && i < back.n; i++) {
    CHECK_EQ_INT(back.frames[i].frame, i);
    CHECK_EQ_INT(back.frames[i].quality, h.frames[i].quality);
    CHECK(memcmp(back.frames[i].hash, h.frames[i].hash, VOUCH_PDQ_BYTES) == 0);
    CHECK(fabs((double)back.frames[i].seconds - (double)h.frames[i].seconds) <= 0.01 * h.frames[i].seconds + 1e-9);
  }
  vouch_vpdq_clear(&back);
  vouch_free(js);
  vouch_vpdq_clear(&h);
  static const char *const bad[] = {
      "[]", "[1]", "[\"e2,1,0.0\"]",
      "[\"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,101,0.0\"]",
      "[\"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,1,-1.0\"]",
      "[\"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,1,nan\"]",
      "[\"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,1\"]",
      "[\"e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,1,0.0\",",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_EQ_INT(vouch_vpdq_parse(bad[i], strlen(bad[i]), &back, &line), VOUCH_E_HASH_PARSE);
    CHECK(back.frames == NULL && back.n == 0);
  }
  vouch_vpdq empty = {0};
  char *e = NULL;
  REQUIRE(vouch_vpdq_format_compact(&empty, &e, NULL) == VOUCH_OK);
  CHECK(strcmp(e, "[]") == 0);
  vouch_free(e);
}

/* ------------------------------------------------------------ edits */

/* Re-encoding keeps a video's frames (count, size) and, at a streaming
 * quality, its vPDQ within matching distance; each edit changes what it
 * says it changes; the same input gives the same output twice. */
static void test_edits(void) {
  vouch_vpdq orig = {0};
  REQUIRE(hash_file(gpath("h264.mp4"), NULL, 0, &orig) == VOUCH_OK);
  for (int e = 0; e < VOUCH_VEDIT_COUNT; e++) {
    CHECK_EQ_INT(vouch_eval_video_edit_from_name(vouch_eval_video_edit_name(e)), e);
    vouch_vpdq a = {0}, b = {0};
    REQUIRE(vouch_eval_video_edited(gpath("h264.mp4"), NULL, e, 0, &a) == VOUCH_OK);
    REQUIRE(vouch_eval_video_edited(gpath("h264.mp4"), NULL, e, 0, &b) == VOUCH_OK);
    CHECK_EQ_INT(a.n, b.n); /* deterministic */
    for (size_t i = 0; i < a.n && i < b.n; i++) CHECK(memcmp(a.frames[i].hash, b.frames[i].hash, VOUCH_PDQ_BYTES) == 0);
    if (e == VOUCH_VEDIT_CLIP) {
      CHECK(a.n >= orig.n / 2 - 1 && a.n <= orig.n / 2 + 1);
      CHECK(a.frames[0].frame == 0);
    } else {
      CHECK_EQ_INT(a.n, orig.n);
    }
    if (e == VOUCH_VEDIT_HALF) CHECK(a.width == orig.width / 2 && a.height == orig.height / 2);
    if (e == VOUCH_VEDIT_CROP) CHECK(a.width == orig.width - 2 * (orig.width / 10));
    if (e == VOUCH_VEDIT_RECODE || e == VOUCH_VEDIT_LOGO) CHECK(a.width == orig.width && a.height == orig.height);
    if (e == VOUCH_VEDIT_RECODE) {
      vouch_vpdq_similarity sim;
      REQUIRE(vouch_vpdq_compare(&a, &orig, VOUCH_VPDQ_RADIUS, 0, &sim) == VOUCH_OK);
      CHECK(sim.query_pct >= 80.0);
    }
    vouch_vpdq_clear(&a);
    vouch_vpdq_clear(&b);
  }
  /* one hash a second: frames 0, 12, ... of the edited video */
  vouch_vpdq s = {0};
  REQUIRE(vouch_eval_video_edited(gpath("h264.mp4"), NULL, VOUCH_VEDIT_RECODE, 0.5, &s) == VOUCH_OK);
  CHECK(s.n >= 2 && s.frames[1].frame == 6);
  vouch_vpdq_clear(&s);
  CHECK_EQ_INT(vouch_eval_video_edited(gpath("not-video.txt"), NULL, VOUCH_VEDIT_RECODE, 0, &s), VOUCH_E_VIDEO_FORMAT);
  CHECK(s.frames == NULL && s.n == 0);
  CHECK_EQ_INT(vouch_eval_video_edited(gpath("h264.mp4"), NULL, VOUCH_VEDIT_COUNT, 0, &s), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_eval_video_edit_from_name("sepia"), -1);
  /* the recoder refuses what it cannot encode */
  vouch_video_recoder *r = NULL;
  CHECK_EQ_INT(vouch_video_recoder_create(&r, 1, 8, 25, 4), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_video_recoder_create(&r, 8, 8, 0, 4), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_video_recoder_create(&r, 8, 8, 25, 32), VOUCH_E_INVALID);
  CHECK(r == NULL);
  vouch_vpdq_clear(&orig);
}

/* ------------------------------------------------------------ matching */

/* Random videos, some related (frames copied with a few bits flipped, some
 * repeated, some of low quality): the index path must give, for every
 * video, the counts of the plain pairwise loop, and report exactly the
 * videos the loop finds a frame match with. */
static uint32_t rng = 2463534242u;
static uint32_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void random_video(vouch_vpdq *v, size_t n, const vouch_vpdq *like) {
  memset(v, 0, sizeof *v);
  v->frames = calloc(n, sizeof *v->frames);
  v->n = v->cap = n;
  for (size_t i = 0; i < n; i++) {
    vouch_vpdq_frame *f = &v->frames[i];
    f->frame = i;
    f->quality = next_rand() % 5 == 0 ? 30 : 90;
    if (i > 0 && next_rand() % 4 == 0) {
      memcpy(f->hash, v->frames[i - 1].hash, VOUCH_PDQ_BYTES); /* a repeated frame */
    } else if (like && like->n && next_rand() % 3 != 0) {
      memcpy(f->hash, like->frames[next_rand() % like->n].hash, VOUCH_PDQ_BYTES);
      for (unsigned k = next_rand() % 40; k; k--) f->hash[next_rand() % 32] ^= (uint8_t)(1u << (next_rand() % 8));
    } else {
      for (int b = 0; b < 32; b++) f->hash[b] = (uint8_t)next_rand();
    }
  }
}

static void test_index_matches_plain_loop(void) {
  enum { NV = 40, NQ = 6 };
  vouch_vpdq db[NV], q[NQ];
  char names[NV][16];
  const char *pn[NV];
  for (int i = 0; i < NV; i++) {
    random_video(&db[i], 20 + next_rand() % 60, i >= 5 ? &db[next_rand() % 5] : NULL);
    snprintf(names[i], sizeof names[i], "video%02d", i);
    pn[i] = names[i];
  }
  for (int i = 0; i < NQ; i++) random_video(&q[i], 10 + next_rand() % 50, i < NQ - 1 ? &db[next_rand() % NV] : NULL);
  /* query 0: an edited copy of video 3 (every frame a few bits off) */
  free(q[0].frames);
  q[0] = db[3];
  q[0].frames = malloc(db[3].n * sizeof *q[0].frames);
  REQUIRE(q[0].frames != NULL);
  memcpy(q[0].frames, db[3].frames, db[3].n * sizeof *q[0].frames);
  for (size_t k = 0; k < q[0].n; k++) q[0].frames[k].hash[next_rand() % 32] ^= 0x11;
  char path[] = "/tmp/vouch-test-vpdq-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  char err[256] = "";
  size_t count = 0;
  int rc = vouch_vpdq_index_write(path, "videos", db, pn, NV, VOUCH_VPDQ_QUALITY_MIN, NULL, &count, err, sizeof err);
  CHECK_EQ_INT(rc, VOUCH_OK);
  vouch_index *idx = NULL;
  REQUIRE(vouch_index_open(&idx, path, NULL) == VOUCH_OK);
  vouch_vpdq_db *vdb = NULL;
  REQUIRE(vouch_vpdq_db_open(&vdb, idx) == VOUCH_OK);
  CHECK_EQ_INT(vouch_vpdq_db_videos(vdb), NV);
  size_t matched_videos = 0;
  for (int i = 0; i < NQ; i++) {
    vouch_vpdq_video_match *m = NULL;
    size_t nm = 0, qu = 0;
    REQUIRE(vouch_vpdq_db_match(vdb, &q[i], NULL, &m, &nm, &qu) == VOUCH_OK);
    size_t expect_hit = 0;
    for (int v = 0; v < NV; v++) {
      vouch_vpdq_similarity s;
      REQUIRE(vouch_vpdq_compare(&q[i], &db[v], VOUCH_VPDQ_RADIUS, VOUCH_VPDQ_QUALITY_MIN, &s) == VOUCH_OK);
      CHECK_EQ_INT(s.query_unique, qu);
      const vouch_vpdq_video_match *x = NULL;
      for (size_t k = 0; k < nm; k++)
        if (m[k].entry_id == (uint64_t)v + 1) x = &m[k];
      if (s.query_matched == 0) {
        CHECK(x == NULL);
        continue;
      }
      expect_hit++;
      REQUIRE(x != NULL);
      CHECK_EQ_INT(x->query_matched, s.query_matched);
      CHECK_EQ_INT(x->index_matched, s.target_matched);
      CHECK_EQ_INT(x->index_unique, s.target_unique);
      CHECK(x->query_pct == s.query_pct && x->index_pct == s.target_pct);
      CHECK_EQ_INT(x->match, s.query_pct >= 80.0);
      vouch_index_entry e;
      CHECK(vouch_index_get(idx, x->entry, &e) == VOUCH_OK && e.ext_len == strlen(names[v]) &&
            memcmp(e.ext_id, names[v], e.ext_len) == 0);
      matched_videos += x->match;
    }
    CHECK_EQ_INT(nm, expect_hit);
    for (size_t k = 1; k < nm; k++) CHECK(m[k - 1].match >= m[k].match);
    vouch_vpdq_video_matches_free(m);
  }
  CHECK(matched_videos > 0); /* the related queries do match */
  /* a video matches itself fully */
  vouch_vpdq_video_match *m = NULL;
  size_t nm = 0;
  REQUIRE(vouch_vpdq_db_match(vdb, &db[7], NULL, &m, &nm, NULL) == VOUCH_OK);
  REQUIRE(nm >= 1);
  CHECK(m[0].entry_id == 8 && m[0].query_pct == 100.0 && m[0].index_pct == 100.0 && m[0].match);
  vouch_vpdq_video_matches_free(m);
  vouch_vpdq_db_free(vdb);
  vouch_index_free(idx);
  unlink(path);
  for (int i = 0; i < NV; i++) free(db[i].frames);
  for (int i = 0; i < NQ; i++) free(q[i].frames);
}

/* A bank of videos: import (new, merged, refused into other banks), frames
 * read back, the index of unique frames, matching by entry id, and the
 * migration of a version 2 bank file. */
static void test_video_bank(void) {
  char dir[] = "/tmp/vouch-test-vbank-XXXXXX";
  REQUIRE(mkdtemp(dir) != NULL);
  char path[256], idx_path[256];
  snprintf(path, sizeof path, "%s/b.sqlite", dir);
  snprintf(idx_path, sizeof idx_path, "%s/v.vidx", dir);
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_algo_from_name("VPDQ"), VOUCH_ALGO_VPDQ);
  CHECK_EQ_INT(vouch_algo_from_name("vpdq"), VOUCH_ALGO_NONE); /* not a single-hash algorithm */
  REQUIRE(vouch_bank_create(b, "videos", VOUCH_ALGO_VPDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "photos", VOUCH_ALGO_PDQ) == VOUCH_OK);
  vouch_vpdq v[3];
  for (int i = 0; i < 3; i++) random_video(&v[i], 30 + 10 * (size_t)i, NULL);
  int added = -1;
  int64_t e0 = 0, e1 = 0, e0b = 0;
  CHECK_EQ_INT(vouch_bank_import_video(b, "videos", &v[0], "clip-a", "org-a", NULL, 0, &added, &e0), VOUCH_OK);
  CHECK_EQ_INT(added, 1);
  CHECK_EQ_INT(vouch_bank_import_video(b, "videos", &v[1], "clip-b", "org-a", "t1", 0, &added, &e1), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_import_video(b, "videos", &v[0], "clip-a", "org-b", NULL, 0, &added, &e0b), VOUCH_OK);
  CHECK_EQ_INT(added, 0); /* the same video: one entry, two sources */
  CHECK_EQ_INT(e0b, e0);
  CHECK_EQ_INT(vouch_bank_import_video(b, "photos", &v[2], "x", NULL, NULL, 0, NULL, NULL), VOUCH_E_ALGO_MISMATCH);
  CHECK_EQ_INT(vouch_bank_import_video(b, "nope", &v[2], "x", NULL, NULL, 0, NULL, NULL), VOUCH_E_NOT_FOUND);
  vouch_import_opts io = {0};

  static const char line[] = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c\n";
  CHECK_EQ_INT(vouch_bank_import(b, "videos", line, sizeof line - 1, &io, NULL), VOUCH_E_ALGO_MISMATCH);
  vouch_vpdq back;
  REQUIRE(vouch_bank_video(b, e1, &back) == VOUCH_OK);
  CHECK_EQ_INT(back.n, v[1].n);
  for (size_t i = 0; i < back.n && i < v[1].n; i++)
    CHECK(back.frames[i].frame == v[1].frames[i].frame && back.frames[i].quality == v[1].frames[i].quality &&
          memcmp(back.frames[i].hash, v[1].frames[i].hash, 32) == 0 && back.frames[i].seconds == v[1].frames[i].seconds);
  vouch_vpdq_clear(&back);
  CHECK_EQ_INT(vouch_bank_video(b, 999999, &back), VOUCH_E_NOT_FOUND);
  /* mixing a video bank and a photo bank in one index is refused */
  const char *both[2] = {"videos", "photos"};
  CHECK_EQ_INT(vouch_bank_build_index(b, both, 2, idx_path, NULL, NULL), VOUCH_E_ALGO_MISMATCH);
  size_t count = 0;
  REQUIRE(vouch_bank_build_index(b, both, 1, idx_path, NULL, &count) == VOUCH_OK);
  vouch_index *idx = NULL;
  REQUIRE(vouch_index_open(&idx, idx_path, NULL) == VOUCH_OK);
  vouch_vpdq_db *vdb = NULL;
  REQUIRE(vouch_vpdq_db_open(&vdb, idx) == VOUCH_OK);
  CHECK_EQ_INT(vouch_vpdq_db_videos(vdb), 2);
  for (int i = 0; i < 2; i++) {
    vouch_vpdq_video_match *m = NULL;
    size_t nm = 0;
    REQUIRE(vouch_vpdq_db_match(vdb, &v[i], NULL, &m, &nm, NULL) == VOUCH_OK);
    REQUIRE(nm >= 1);
    vouch_vpdq_similarity sim;
    REQUIRE(vouch_vpdq_compare(&v[i], &v[i], 31, 50, &sim) == VOUCH_OK);
    CHECK(m[0].entry_id == (uint64_t)(i == 0 ? e0 : e1) && m[0].match && m[0].index_unique == sim.target_unique);
    vouch_index_entry e;
    CHECK(vouch_index_get(idx, m[0].entry, &e) == VOUCH_OK);
    const char *want_id = i == 0 ? "clip-a" : "clip-b", *want_src = i == 0 ? "org-a,org-b" : "org-a";
    CHECK(e.ext_len == strlen(want_id) && memcmp(e.ext_id, want_id, e.ext_len) == 0);
    CHECK(e.src_len == strlen(want_src) && memcmp(e.source, want_src, e.src_len) == 0);
    vouch_vpdq_video_matches_free(m);
  }
  vouch_vpdq_db_free(vdb);
  vouch_index_free(idx);
  /* a disabled video leaves the index */
  char e1s[32];
  snprintf(e1s, sizeof e1s, "%lld", (long long)e1);
  CHECK_EQ_INT(vouch_bank_entry_set_enabled(b, "videos", VOUCH_SELECT_ENTRY_ID, e1s, 0, NULL), VOUCH_OK);
  size_t count2 = 0;
  REQUIRE(vouch_bank_build_index(b, both, 1, idx_path, NULL, &count2) == VOUCH_OK);
  CHECK(count2 > 0 && count2 < count);
  vouch_bank_free(b);
  /* a version 2 file (before video banks) is migrated when opened for writing */
  char cmd[512];
  snprintf(cmd, sizeof cmd, "sqlite3 %s 'DELETE FROM banks; DROP TABLE video_frames; DROP TABLE exchanges; DROP TABLE tombstones;"
           " DROP TABLE checkpoints; ALTER TABLE entries DROP COLUMN disabled_until;"
           " ALTER TABLE banks DROP COLUMN radius; PRAGMA user_version=2'", path);
  if (system(cmd) == 0) {
    b = NULL;
    REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
    CHECK_EQ_INT(vouch_bank_create(b, "v2", VOUCH_ALGO_VPDQ), VOUCH_E_DB_VERSION);
    vouch_bank_free(b);
    b = NULL;
    REQUIRE(vouch_bank_open(&b, path, 0) == VOUCH_OK);
    CHECK_EQ_INT(vouch_bank_create(b, "v2", VOUCH_ALGO_VPDQ), VOUCH_OK);
    CHECK_EQ_INT(vouch_bank_import_video(b, "v2", &v[2], "c", NULL, NULL, 0, NULL, NULL), VOUCH_OK);
    vouch_bank_free(b);
  }
  for (int i = 0; i < 3; i++) free(v[i].frames);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0);
}

/* Every allocation of ours failing in turn (FFmpeg's own allocations are
 * not ours to fail): opening, decoding, hashing, matching end in VOUCH_OK or
 * VOUCH_E_NOMEM, never anything else; the ASan build checks for leaks. */
static int alloc_run(const unsigned char *bytes, size_t len) {
  vouch_video *v = NULL;
  vouch_vpdq h = {0}, p = {0};
  int rc = vouch_video_open_memory(&v, bytes, len, NULL);
  if (rc == VOUCH_OK) rc = vouch_vpdq_hash_video(v, 0, &h);
  vouch_video_free(v);
  static const char text[] = "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000\n";
  if (rc == VOUCH_OK) rc = vouch_vpdq_parse(text, sizeof text - 1, &p, NULL);
  vouch_vpdq_similarity sim;
  if (rc == VOUCH_OK) rc = vouch_vpdq_compare(&h, &p, 31, 50, &sim);
  uint8_t d[32];
  if (rc == VOUCH_OK) rc = vouch_digest_buffer(VOUCH_DIGEST_SHA256, bytes, len, d, sizeof d);
  vouch_vpdq_clear(&h);
  vouch_vpdq_clear(&p);
  return rc;
}

static void test_alloc_failures(void) {
  size_t len = 0;
  unsigned char *bytes = tt_read_file(gpath("h264.mp4"), &len);
  REQUIRE(bytes != NULL);
  int done = 0;
  for (long n = 0; n < 1000 && !done; n++) {
    vouch__test_fail_allocs_after(n);
    int rc = alloc_run(bytes, len);
    vouch__test_fail_allocs_after(-1);
    if (rc != VOUCH_OK && rc != VOUCH_E_NOMEM) fprintf(stderr, "allocation %ld: rc %d\n", n, rc);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
    done = rc == VOUCH_OK;
  }
  CHECK(done);
  free(bytes);
}

int main(void) {
  const char *src = getenv("VOUCH_SRC");
  snprintf(golden, sizeof golden, "%s/tests/golden/videos", src ? src : ".");
  vouch_video_silence_log();
  TT_RUN(test_digest_known_answers);
  TT_RUN(test_frame_hash_is_pdq_of_formula_luma);
  TT_RUN(test_file_and_memory_agree);
  TT_RUN(test_limits);
  TT_RUN(test_damaged_and_foreign);
  TT_RUN(test_rotation);
  TT_RUN(test_text_form);
  TT_RUN(test_compact_form);
  TT_RUN(test_edits);
  TT_RUN(test_index_matches_plain_loop);
  TT_RUN(test_video_bank);
  TT_RUN(test_alloc_failures);
  TT_MAIN_END;
}
