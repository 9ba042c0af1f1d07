/* tests/unit/test_image.c -- the image module: decoders, orientation,
 * limits, malformed-input goldens, allocation failures, and pixel
 * bit-exactness with the PDQ reference's decoder (ImageMagick 6.9.11 +
 * libjpeg-turbo 2.1.5) on ../shared/testdata/pdq.
 *
 * Inputs: tests/golden/images/ (made by its generate.py) and, for the
 * reference checks, $VOUCH_SHARED (skipped, exit 77, when absent). */
#include <dirent.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "vouch/image.h"
#include "common/internal.h"
#include "tinytest.h"

/* ------------------------------------------------------------ helpers */

static char g_golden[4096];

static void init_golden_dir(void) {
  const char *src = getenv("VOUCH_SRC");
  if (src) {
    snprintf(g_golden, sizeof g_golden, "%s/tests/golden/images", src);
  } else {
    /* __FILE__ is .../tests/unit/test_image.c in a CMake build */
    const char *f = __FILE__;
    const char *s = strstr(f, "tests/unit/");
    snprintf(g_golden, sizeof g_golden, "%.*stests/golden/images", (int)(s ? s - f : 0), f);
  }
}

static const char *gpath(const char *name) {
  static char buf[8192];
  snprintf(buf, sizeof buf, "%s/%s", g_golden, name);
  return buf;
}

static vouch_decoder *mkdec(int apply_orientation, uint32_t min_side) {
  vouch_decode_opts o = vouch_decode_opts_default();
  vouch_decoder *d = NULL;
  o.apply_orientation = apply_orientation;
  o.min_side = min_side;
  if (vouch_decoder_create(&d, &o) != VOUCH_OK)
    return NULL;
  return d;
}

/* Decodes a file with default options. */
static int decode_path(const char *path, vouch_image *img) {
  vouch_decoder *d = mkdec(1, 0);
  int rc;
  if (!d)
    return VOUCH_E_NOMEM;
  rc = vouch_decoder_decode_file(d, path, img);
  if (rc != VOUCH_OK)
    fprintf(stderr, "  %s: rc=%d %s\n", path, rc, vouch_decoder_errmsg(d));
  vouch_decoder_free(d);
  return rc;
}

/* Compares pixels.  `ref` may be grey while `got` is RGB (a JPEG stored
 * with three components whose colours are all grey, which ImageMagick
 * reports as grey): then every got pixel must be R=G=B=ref. */
static long count_pixel_diffs(const vouch_image *got, const vouch_image *ref) {
  long diffs = 0;
  if (got->width != ref->width || got->height != ref->height)
    return -1;
  if (got->channels != ref->channels && !(got->channels == 3 && ref->channels == 1))
    return -2;
  for (uint32_t y = 0; y < got->height; y++) {
    const uint8_t *a = got->pixels + (size_t)y * got->stride;
    const uint8_t *b = ref->pixels + (size_t)y * ref->stride;
    for (uint32_t x = 0; x < got->width; x++) {
      if (got->channels == ref->channels) {
        for (uint32_t c = 0; c < got->channels; c++)
          diffs += a[x * got->channels + c] != b[x * ref->channels + c];
      } else {
        for (uint32_t c = 0; c < 3; c++)
          diffs += a[x * 3 + c] != b[x];
      }
    }
  }
  return diffs;
}

static uint8_t *read_all(const char *path, size_t *len) { return tt_read_file(path, len); }

/* ------------------------------------------------------------ detection */

static void test_detect(void) {
  static const struct { const char *bytes; size_t len; int fmt; } t[] = {
    {"\xFF\xD8\xFF\xE0", 4, VOUCH_FMT_JPEG},
    {"\x89PNG\r\n\x1a\n", 8, VOUCH_FMT_PNG},
    {"\x89PNG\r\n\x1a", 7, VOUCH_FMT_UNKNOWN},
    {"RIFF\0\0\0\0WEBPVP8 ", 16, VOUCH_FMT_WEBP},
    {"RIFF\0\0\0\0WAVEfmt ", 16, VOUCH_FMT_UNKNOWN},
    {"GIF89a", 6, VOUCH_FMT_GIF},
    {"GIF87a", 6, VOUCH_FMT_GIF},
    {"GIF88a", 6, VOUCH_FMT_UNKNOWN},
    {"BM", 2, VOUCH_FMT_BMP},
    {"P6\n", 3, VOUCH_FMT_PNM},
    {"P1#c", 4, VOUCH_FMT_PNM},
    {"P7\n", 3, VOUCH_FMT_UNKNOWN},
    {"P6x", 3, VOUCH_FMT_UNKNOWN},
    {"hello", 5, VOUCH_FMT_UNKNOWN},
    {"", 0, VOUCH_FMT_UNKNOWN},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    CHECK_EQ_INT(vouch_image_detect_format(t[i].bytes, t[i].len), t[i].fmt);
  CHECK_EQ_INT(vouch_image_detect_format(NULL, 10), VOUCH_FMT_UNKNOWN);
  CHECK_EQ_STR(vouch_image_format_name(VOUCH_FMT_JPEG), "jpeg");
  CHECK_EQ_STR(vouch_image_format_name(VOUCH_FMT_PNM), "pnm");
  CHECK_EQ_STR(vouch_image_format_name(99), "unknown");
}

/* ------------------------------------------------------------ API edges */

static void test_api_edges(void) {
  vouch_decoder *d = NULL;
  vouch_decode_opts o = vouch_decode_opts_default();
  vouch_image img;
  CHECK_EQ_INT(o.apply_orientation, 1);
  CHECK_EQ_INT(o.min_side, 0);
  CHECK_EQ_INT(o.max_side, VOUCH_IMAGE_MAX_SIDE_DEFAULT);
  CHECK_EQ_INT(o.max_pixels, VOUCH_IMAGE_MAX_PIXELS_DEFAULT);
  CHECK_EQ_INT(vouch_decoder_create(NULL, &o), VOUCH_E_INVALID);
  o.max_side = 0;
  CHECK_EQ_INT(vouch_decoder_create(&d, &o), VOUCH_E_INVALID);
  CHECK(d == NULL);
  o = vouch_decode_opts_default();
  o.max_pixels = 0;
  CHECK_EQ_INT(vouch_decoder_create(&d, &o), VOUCH_E_INVALID);
  REQUIRE(vouch_decoder_create(&d, NULL) == VOUCH_OK);
  CHECK_EQ_STR(vouch_decoder_errmsg(d), "");
  CHECK_EQ_INT(vouch_decoder_decode(d, NULL, 5, &img), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_decoder_decode(NULL, "x", 1, &img), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_decoder_decode(d, NULL, 0, &img), VOUCH_E_IMAGE_EMPTY);
  CHECK(img.pixels == NULL);
  CHECK_EQ_INT(vouch_decoder_decode_file(d, "/nonexistent/dir/x.png", &img), VOUCH_E_IO);
  CHECK(strstr(vouch_decoder_errmsg(d), "cannot open") != NULL);
  CHECK_EQ_INT(vouch_decoder_decode_file(d, g_golden, &img), VOUCH_E_IO); /* a directory */
  vouch_decoder_free(d);
  vouch_decoder_free(NULL);

  CHECK_EQ_INT(vouch_image_init(&img, 0, 5, 3), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_image_init(&img, 5, 5, 2), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_image_init(NULL, 5, 5, 3), VOUCH_E_INVALID);
  REQUIRE(vouch_image_init(&img, 5, 4, 3) == VOUCH_OK);
  CHECK_EQ_INT(img.stride, 15);
  CHECK_EQ_INT(img.orientation, 1);
  CHECK_EQ_INT(img.scale_denom, 1);
  CHECK(img.pixels[59] == 0);
  vouch_image_clear(&img);
  CHECK(img.pixels == NULL && img.width == 0);
  vouch_image_clear(NULL);
}

/* ------------------------------------------------------------ goldens */

static void test_goldens(void) {
  static const struct {
    const char *file;
    int rc;
    uint32_t w, h, ch; /* when rc == OK */
  } t[] = {
    {"ok-1x1.png", VOUCH_OK, 1, 1, 3},
    {"ok-1x1.jpg", VOUCH_OK, 1, 1, 3},
    {"ok-1x1.gif", VOUCH_OK, 1, 1, 3},
    {"ok-1x1.bmp", VOUCH_OK, 1, 1, 3},
    {"ok-1x1.ppm", VOUCH_OK, 1, 1, 3},
    {"ok-1x1.webp", VOUCH_OK, 1, 1, 3},
    {"ok-7x5.jpg", VOUCH_OK, 7, 5, 3},
    {"ok-7x5.png", VOUCH_OK, 7, 5, 3},
    {"ok-7x5.webp", VOUCH_OK, 7, 5, 3},
    {"ok-7x5-grey.jpg", VOUCH_OK, 7, 5, 1},
    {"ok-7x5-interlaced.gif", VOUCH_OK, 7, 5, 3},
    {"ok-anim-4x3.gif", VOUCH_OK, 4, 3, 3},
    {"ok-64x48-progressive.jpg", VOUCH_OK, 64, 48, 3},
    {"ok-cmyk-256.jpg", VOUCH_OK, 256, 256, 3},
    {"bad-empty.bin", VOUCH_E_IMAGE_EMPTY, 0, 0, 0},
    {"bad-text.txt", VOUCH_E_IMAGE_FORMAT, 0, 0, 0},
    {"bad-pam.pam", VOUCH_E_IMAGE_FORMAT, 0, 0, 0},
    {"bad-truncated.png", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-crc.png", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-truncated.jpg", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-truncated-progressive.jpg", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-truncated.gif", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-truncated.webp", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-truncated.bmp", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-truncated.ppm", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-huge-100000x100000.png", VOUCH_E_IMAGE_TOO_LARGE, 0, 0, 0},
    {"bad-huge.pgm", VOUCH_E_IMAGE_TOO_LARGE, 0, 0, 0},
    {"bad-huge.bmp", VOUCH_E_IMAGE_TOO_LARGE, 0, 0, 0},
    {"bad-zero-width.png", VOUCH_E_IMAGE_EMPTY, 0, 0, 0},
    {"bad-zero-height.jpg", VOUCH_E_IMAGE_EMPTY, 0, 0, 0},
    {"bad-zero.ppm", VOUCH_E_IMAGE_EMPTY, 0, 0, 0},
    {"bad-over-maxval.pgm", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-lying-size.bmp", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-lying-offset.bmp", VOUCH_E_IMAGE_CORRUPT, 0, 0, 0},
    {"bad-rle8.bmp", VOUCH_E_UNSUPPORTED, 0, 0, 0},
    {"bad-12bit.jpg", VOUCH_E_UNSUPPORTED, 0, 0, 0},
    {"bad-no-frames.gif", VOUCH_E_IMAGE_EMPTY, 0, 0, 0},
  };
  vouch_decoder *d = mkdec(1, 0);
  REQUIRE(d != NULL);
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    vouch_image img;
    size_t len = 0;
    uint8_t *buf = read_all(gpath(t[i].file), &len);
    int rc;
    if (!buf) {
      fprintf(stderr, "  missing golden %s\n", t[i].file);
      CHECK(buf != NULL);
      continue;
    }
    rc = vouch_decoder_decode(d, buf, len, &img);
    if (rc != t[i].rc)
      fprintf(stderr, "  %s: rc=%d want %d (%s)\n", t[i].file, rc, t[i].rc, vouch_decoder_errmsg(d));
    CHECK_EQ_INT(rc, t[i].rc);
    if (rc == VOUCH_OK) {
      CHECK_EQ_INT(img.width, t[i].w);
      CHECK_EQ_INT(img.height, t[i].h);
      CHECK_EQ_INT(img.channels, t[i].ch);
      CHECK(img.stride >= (size_t)img.width * img.channels);
      CHECK_EQ_STR(vouch_decoder_errmsg(d), "");
    } else {
      const char *m = vouch_decoder_errmsg(d);
      CHECK(img.pixels == NULL);
      CHECK(m[0] != '\0');
      CHECK(strchr(m, '\n') == NULL);
    }
    vouch_image_clear(&img);
    free(buf);
  }
  vouch_decoder_free(d);
}

/* Spot checks of pixel values in goldens. */
static void test_golden_pixels(void) {
  vouch_image img;
  REQUIRE(decode_path(gpath("ok-1x1.ppm"), &img) == VOUCH_OK);
  CHECK(img.pixels[0] == 0x33 && img.pixels[1] == 0x66 && img.pixels[2] == 0x99);
  vouch_image_clear(&img);
  REQUIRE(decode_path(gpath("ok-1x1.png"), &img) == VOUCH_OK);
  CHECK(img.pixels[0] == 0x33 && img.pixels[1] == 0x66 && img.pixels[2] == 0x99);
  CHECK_EQ_INT(img.format, VOUCH_FMT_PNG);
  vouch_image_clear(&img);
  REQUIRE(decode_path(gpath("ok-1x1.webp"), &img) == VOUCH_OK); /* lossless */
  CHECK(img.pixels[0] == 0x33 && img.pixels[1] == 0x66 && img.pixels[2] == 0x99);
  CHECK_EQ_INT(img.format, VOUCH_FMT_WEBP);
  vouch_image_clear(&img);
  REQUIRE(decode_path(gpath("ok-1x1.gif"), &img) == VOUCH_OK);
  CHECK(img.pixels[0] == 0x33 && img.pixels[1] == 0x66 && img.pixels[2] == 0x99);
  vouch_image_clear(&img);
  REQUIRE(decode_path(gpath("ok-1x1.bmp"), &img) == VOUCH_OK);
  CHECK(img.pixels[0] == 0x33 && img.pixels[1] == 0x66 && img.pixels[2] == 0x99);
  vouch_image_clear(&img);
  /* First frame of a red-then-blue animation is red everywhere. */
  REQUIRE(decode_path(gpath("ok-anim-4x3.gif"), &img) == VOUCH_OK);
  for (uint32_t i = 0; i < 12; i++)
    CHECK(img.pixels[3 * i] == 255 && img.pixels[3 * i + 1] == 0 && img.pixels[3 * i + 2] == 0);
  vouch_image_clear(&img);
  /* Interlaced GIF = the PNG of the same source (both lossless). */
  {
    vouch_image ref;
    REQUIRE(decode_path(gpath("ok-7x5-interlaced.gif"), &img) == VOUCH_OK);
    REQUIRE(decode_path(gpath("ok-7x5.png"), &ref) == VOUCH_OK);
    CHECK_EQ_INT(count_pixel_diffs(&img, &ref), 0);
    vouch_image_clear(&ref);
    vouch_image_clear(&img);
  }
}

/* Each X in a variant folder must decode to exactly X.expect.pnm. */
static void check_variant_dir(const char *sub, const char *ext, int min_files) {
  char dir[4096];
  DIR *dd;
  struct dirent *e;
  int n = 0;
  REQUIRE(snprintf(dir, sizeof dir, "%s/%s", g_golden, sub) < (int)sizeof dir);
  dd = opendir(dir);
  REQUIRE(dd != NULL);
  while ((e = readdir(dd)) != NULL) {
    const char *name = e->d_name;
    size_t nl = strlen(name), el = strlen(ext);
    char p[16384], q[16384];
    vouch_image got, want;
    if (nl <= el || strcmp(name + nl - el, ext) != 0 || strstr(name, ".expect."))
      continue;
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p ||
        snprintf(q, sizeof q, "%s/%.*s.expect.pnm", dir, (int)(nl - el), name) >= (int)sizeof q)
      continue;
    n++;
    if (decode_path(p, &got) != VOUCH_OK) {
      CHECK(!"variant failed to decode");
      continue;
    }
    if (decode_path(q, &want) != VOUCH_OK) {
      CHECK(!"expected pixels failed to decode");
      vouch_image_clear(&got);
      continue;
    }
    if (got.channels != want.channels || count_pixel_diffs(&got, &want) != 0)
      fprintf(stderr, "  %s/%s: differs from expected (ch %u vs %u, %ld diffs)\n", sub, name,
              got.channels, want.channels, count_pixel_diffs(&got, &want));
    CHECK_EQ_INT(got.channels, want.channels);
    CHECK_EQ_INT(count_pixel_diffs(&got, &want), 0);
    vouch_image_clear(&got);
    vouch_image_clear(&want);
  }
  closedir(dd);
  CHECK(n >= min_files);
}

static void test_png_variants(void) { check_variant_dir("png", ".png", 18); }
static void test_bmp_variants(void) { check_variant_dir("bmp", ".bmp", 11); }
static void test_pnm_variants(void) {
  check_variant_dir("pnm", ".pbm", 2);
  check_variant_dir("pnm", ".pgm", 4);
  check_variant_dir("pnm", ".ppm", 3);
}

/* ------------------------------------------------------------ limits */

static void test_limits(void) {
  static const char *files[] = {"ok-7x5.jpg", "ok-7x5.png", "ok-7x5.webp", "ok-7x5-interlaced.gif",
                                "bmp/rgb24.bmp", "pnm/p3.ppm"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    size_t len = 0;
    uint8_t *buf = read_all(gpath(files[i]), &len);
    vouch_decode_opts o = vouch_decode_opts_default();
    vouch_decoder *d = NULL;
    vouch_image img;
    uint32_t w = strstr(files[i], "p3") ? 5 : 7, h = strstr(files[i], "p3") ? 4 : 5;
    REQUIRE(buf != NULL);
    /* exactly at the limits: fine */
    o.max_side = w;
    o.max_pixels = (uint64_t)w * h;
    REQUIRE(vouch_decoder_create(&d, &o) == VOUCH_OK);
    CHECK_EQ_INT(vouch_decoder_decode(d, buf, len, &img), VOUCH_OK);
    vouch_image_clear(&img);
    vouch_decoder_free(d);
    /* one under the side limit */
    o.max_side = w - 1;
    REQUIRE(vouch_decoder_create(&d, &o) == VOUCH_OK);
    CHECK_EQ_INT(vouch_decoder_decode(d, buf, len, &img), VOUCH_E_IMAGE_TOO_LARGE);
    CHECK(strstr(vouch_decoder_errmsg(d), "limit") != NULL);
    vouch_decoder_free(d);
    /* one under the pixel limit */
    o.max_side = w;
    o.max_pixels = (uint64_t)w * h - 1;
    REQUIRE(vouch_decoder_create(&d, &o) == VOUCH_OK);
    CHECK_EQ_INT(vouch_decoder_decode(d, buf, len, &img), VOUCH_E_IMAGE_TOO_LARGE);
    vouch_decoder_free(d);
    free(buf);
  }
  /* Limits are checked before any allocation: with every allocation
   * failing, our own readers still say TOO_LARGE / CORRUPT, not NOMEM. */
  {
    static const struct { const char *f; int rc; } t[] = {
      {"bad-huge.bmp", VOUCH_E_IMAGE_TOO_LARGE},
      {"bad-huge.pgm", VOUCH_E_IMAGE_TOO_LARGE},
      {"bad-lying-size.bmp", VOUCH_E_IMAGE_CORRUPT},
    };
    vouch_decoder *d = mkdec(1, 0);
    REQUIRE(d != NULL);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
      size_t len = 0;
      uint8_t *buf = read_all(gpath(t[i].f), &len);
      vouch_image img;
      REQUIRE(buf != NULL);
      vouch__test_fail_allocs_after(0);
      CHECK_EQ_INT(vouch_decoder_decode(d, buf, len, &img), t[i].rc);
      vouch__test_fail_allocs_after(-1);
      free(buf);
    }
    vouch_decoder_free(d);
  }
}

/* ------------------------------------------------------------ orientation */

/* Where the stored image's first row and first column end up on display,
 * per the EXIF specification's table (independent of the library's own
 * pixel mapping).  Maps stored (sx, sy) of a w x h image to display (dx, dy). */
static void exif_map(int o, uint32_t w, uint32_t h, uint32_t sx, uint32_t sy, uint32_t *dx, uint32_t *dy) {
  /* o: 0th row is ..., 0th column is ... */
  switch (o) {
  case 1: *dx = sx; *dy = sy; break;                       /* top, left */
  case 2: *dx = w - 1 - sx; *dy = sy; break;               /* top, right */
  case 3: *dx = w - 1 - sx; *dy = h - 1 - sy; break;       /* bottom, right */
  case 4: *dx = sx; *dy = h - 1 - sy; break;               /* bottom, left */
  case 5: *dx = sy; *dy = sx; break;                       /* left, top */
  case 6: *dx = h - 1 - sy; *dy = sx; break;               /* right, top */
  case 7: *dx = h - 1 - sy; *dy = w - 1 - sx; break;       /* right, bottom */
  default: *dx = sy; *dy = w - 1 - sx; break;              /* 8: left, bottom */
  }
}

/* A TIFF/EXIF block with IFD0 holding (a dummy tag and) Orientation = o. */
static size_t make_exif(uint8_t *p, int o, int big_endian) {
  size_t n = 0;
  const uint8_t hdr_le[8] = {'I', 'I', 42, 0, 8, 0, 0, 0};
  const uint8_t hdr_be[8] = {'M', 'M', 0, 42, 0, 0, 0, 8};
  memcpy(p, big_endian ? hdr_be : hdr_le, 8);
  n = 8;
  /* 2 entries: 0x010F Make (ASCII, count 4, "abc\0" inline) then 0x0112 */
  const uint8_t ent_le[2 + 24 + 4] = {2, 0,
                                      0x0F, 0x01, 2, 0, 4, 0, 0, 0, 'a', 'b', 'c', 0,
                                      0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t)o, 0, 0, 0,
                                      0, 0, 0, 0};
  const uint8_t ent_be[2 + 24 + 4] = {0, 2,
                                      0x01, 0x0F, 0, 2, 0, 0, 0, 4, 'a', 'b', 'c', 0,
                                      0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (uint8_t)o, 0, 0,
                                      0, 0, 0, 0};
  memcpy(p + n, big_endian ? ent_be : ent_le, sizeof ent_le);
  return n + sizeof ent_le;
}

static void check_oriented(const vouch_image *stored, const vouch_image *shown, int o) {
  long bad = 0;
  uint32_t ew = o >= 5 ? stored->height : stored->width;
  uint32_t eh = o >= 5 ? stored->width : stored->height;
  CHECK_EQ_INT(shown->width, ew);
  CHECK_EQ_INT(shown->height, eh);
  if (shown->width != ew || shown->height != eh || shown->channels != stored->channels)
    return;
  for (uint32_t sy = 0; sy < stored->height; sy++) {
    for (uint32_t sx = 0; sx < stored->width; sx++) {
      uint32_t dx, dy;
      exif_map(o, stored->width, stored->height, sx, sy, &dx, &dy);
      bad += memcmp(stored->pixels + sy * stored->stride + sx * stored->channels,
                    shown->pixels + dy * shown->stride + dx * shown->channels, stored->channels) != 0;
    }
  }
  if (bad)
    fprintf(stderr, "  orientation %d: %ld pixels misplaced\n", o, bad);
  CHECK_EQ_INT(bad, 0);
}

/* Decodes `buf` with and without orientation and checks both. */
static void check_orientation_bytes(const uint8_t *buf, size_t len, int o, int fmt) {
  vouch_decoder *d0 = mkdec(0, 0), *d1 = mkdec(1, 0);
  vouch_image stored, shown;
  int rc0, rc1;
  REQUIRE(d0 && d1);
  rc0 = vouch_decoder_decode(d0, buf, len, &stored);
  rc1 = vouch_decoder_decode(d1, buf, len, &shown);
  if (rc0 || rc1)
    fprintf(stderr, "  orientation %d fmt %d: %s / %s\n", o, fmt, vouch_decoder_errmsg(d0),
            vouch_decoder_errmsg(d1));
  CHECK_EQ_INT(rc0, VOUCH_OK);
  CHECK_EQ_INT(rc1, VOUCH_OK);
  if (rc0 == VOUCH_OK && rc1 == VOUCH_OK) {
    CHECK_EQ_INT(stored.format, fmt);
    CHECK_EQ_INT(stored.orientation, o);
    CHECK_EQ_INT(shown.orientation, o);
    CHECK_EQ_INT(stored.width, 7);
    CHECK_EQ_INT(stored.src_width, 7);
    CHECK_EQ_INT(shown.src_width, 7);
    check_oriented(&stored, &shown, o);
  }
  vouch_image_clear(&stored);
  vouch_image_clear(&shown);
  vouch_decoder_free(d0);
  vouch_decoder_free(d1);
}

static void test_orientation_jpeg(void) {
  size_t len = 0;
  uint8_t *base = read_all(gpath("ok-7x5.jpg"), &len);
  REQUIRE(base != NULL && len > 2);
  for (int be = 0; be <= 1; be++) {
    for (int o = 1; o <= 8; o++) {
      uint8_t exif[64], *buf = malloc(len + 128);
      size_t el = make_exif(exif, o, be), n = 0;
      REQUIRE(buf != NULL);
      buf[n++] = 0xFF; buf[n++] = 0xD8;                       /* SOI */
      buf[n++] = 0xFF; buf[n++] = 0xE1;                       /* APP1 */
      buf[n++] = (uint8_t)((el + 8) >> 8); buf[n++] = (uint8_t)(el + 8);
      memcpy(buf + n, "Exif\0\0", 6); n += 6;
      memcpy(buf + n, exif, el); n += el;
      memcpy(buf + n, base + 2, len - 2); n += len - 2;
      check_orientation_bytes(buf, n, o, VOUCH_FMT_JPEG);
      free(buf);
    }
  }
  free(base);
}

static uint32_t crc32_bytes(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

static void put32be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void test_orientation_png(void) {
  size_t len = 0;
  uint8_t *base = read_all(gpath("ok-7x5.png"), &len);
  REQUIRE(base != NULL && len > 33);
  for (int o = 1; o <= 8; o++) {
    uint8_t exif[64], *buf = malloc(len + 128);
    size_t el = make_exif(exif, o, o & 1), n = 0;
    REQUIRE(buf != NULL);
    memcpy(buf, base, 33); /* signature + IHDR */
    n = 33;
    put32be(buf + n, (uint32_t)el);
    memcpy(buf + n + 4, "eXIf", 4);
    memcpy(buf + n + 8, exif, el);
    put32be(buf + n + 8 + el, crc32_bytes(buf + n + 4, el + 4));
    n += 12 + el;
    memcpy(buf + n, base + 33, len - 33);
    n += len - 33;
    check_orientation_bytes(buf, n, o, VOUCH_FMT_PNG);
    free(buf);
  }
  free(base);
}

static void put32le(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void test_orientation_webp(void) {
  size_t len = 0;
  uint8_t *base = read_all(gpath("ok-7x5.webp"), &len);
  REQUIRE(base != NULL && len > 20 && memcmp(base + 12, "VP8 ", 4) == 0);
  for (int o = 1; o <= 8; o++) {
    uint8_t exif[64], *buf = malloc(len + 128);
    size_t el = make_exif(exif, o, 0), n = 12;
    REQUIRE(buf != NULL);
    memcpy(buf, "RIFF\0\0\0\0WEBP", 12);
    /* VP8X: flags (EXIF = 0x08), 3 reserved, canvas width-1 and height-1 (24-bit) */
    memcpy(buf + n, "VP8X", 4);
    put32le(buf + n + 4, 10);
    memset(buf + n + 8, 0, 10);
    buf[n + 8] = 0x08;
    buf[n + 12] = 7 - 1;
    buf[n + 15] = 5 - 1;
    n += 18;
    memcpy(buf + n, base + 12, len - 12); /* the VP8 chunk */
    n += len - 12;
    memcpy(buf + n, "EXIF", 4);
    put32le(buf + n + 4, (uint32_t)el);
    memcpy(buf + n + 8, exif, el);
    n += 8 + el;
    if (el & 1)
      buf[n++] = 0;
    put32le(buf + 4, (uint32_t)(n - 8));
    check_orientation_bytes(buf, n, o, VOUCH_FMT_WEBP);
    free(buf);
  }
  free(base);
}

/* Broken EXIF never fails a decode; it just means orientation 1. */
static void test_exif_garbage(void) {
  size_t len = 0;
  uint8_t *base = read_all(gpath("ok-7x5.jpg"), &len);
  static const uint8_t blobs[][16] = {
    {'I', 'I', 42, 0, 0xFF, 0xFF, 0xFF, 0x7F},          /* IFD offset past the end */
    {'I', 'I', 42, 0, 8, 0, 0, 0, 0xFF, 0xFF},          /* 65535 entries, none there */
    {'M', 'M', 0, 43, 0, 0, 0, 8},                      /* not 42 */
    {'X', 'X', 42, 0, 8, 0, 0, 0},
    {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0}, /* entry cut short */
  };
  REQUIRE(base != NULL);
  for (size_t b = 0; b < sizeof blobs / sizeof blobs[0]; b++) {
    uint8_t *buf = malloc(len + 64);
    size_t n = 0;
    vouch_decoder *d = mkdec(1, 0);
    vouch_image img;
    REQUIRE(buf && d);
    buf[n++] = 0xFF; buf[n++] = 0xD8; buf[n++] = 0xFF; buf[n++] = 0xE1;
    buf[n++] = 0; buf[n++] = (uint8_t)(2 + 6 + 16);
    memcpy(buf + n, "Exif\0\0", 6); n += 6;
    memcpy(buf + n, blobs[b], 16); n += 16;
    memcpy(buf + n, base + 2, len - 2); n += len - 2;
    CHECK_EQ_INT(vouch_decoder_decode(d, buf, n, &img), VOUCH_OK);
    CHECK_EQ_INT(img.orientation, 1);
    CHECK_EQ_INT(img.width, 7);
    vouch_image_clear(&img);
    vouch_decoder_free(d);
    free(buf);
  }
  free(base);
}

/* A progressive JPEG whose first scan is repeated 600 times: libjpeg only
 * warns about the odd progression, so the scan limit must stop it. */
static void test_jpeg_scan_limit(void) {
  size_t len = 0, pos = 2, sos = 0, sos_end = 0, n = 0;
  uint8_t *base = read_all(gpath("ok-64x48-progressive.jpg"), &len), *buf;
  vouch_decoder *d = mkdec(1, 0);
  vouch_image img;
  REQUIRE(base != NULL && d != NULL);
  /* walk marker segments to the first SOS, then its entropy-coded data */
  while (pos + 4 <= len && base[pos] == 0xFF) {
    size_t seglen = (size_t)base[pos + 2] << 8 | base[pos + 3];
    if (base[pos + 1] == 0xDA) {
      sos = pos;
      pos += 2 + seglen;
      while (pos + 1 < len && !(base[pos] == 0xFF && base[pos + 1] != 0 &&
                                !(base[pos + 1] >= 0xD0 && base[pos + 1] <= 0xD7)))
        pos++;
      sos_end = pos;
      break;
    }
    pos += 2 + seglen;
  }
  REQUIRE(sos > 0 && sos_end > sos);
  buf = malloc(len + 600 * (sos_end - sos));
  REQUIRE(buf != NULL);
  memcpy(buf, base, sos_end);
  n = sos_end;
  for (int i = 0; i < 600; i++) {
    memcpy(buf + n, base + sos, sos_end - sos);
    n += sos_end - sos;
  }
  memcpy(buf + n, base + sos_end, len - sos_end);
  n += len - sos_end;
  CHECK_EQ_INT(vouch_decoder_decode(d, buf, n, &img), VOUCH_E_IMAGE_CORRUPT);
  CHECK(strstr(vouch_decoder_errmsg(d), "scans") != NULL);
  /* the same with 100 repeats decodes (the warning is harmless) */
  n = sos_end + 100 * (sos_end - sos);
  memcpy(buf + n, base + sos_end, len - sos_end);
  n += len - sos_end;
  CHECK_EQ_INT(vouch_decoder_decode(d, buf, n, &img), VOUCH_OK);
  vouch_image_clear(&img);
  vouch_decoder_free(d);
  free(buf);
  free(base);
}

/* Real-world damage that leaves every pixel intact decodes, identically:
 * junk bytes before a marker (libjpeg warns "extraneous bytes"), a missing
 * EOI, trailing garbage.  Truncation inside the scan data does not. */
static void test_jpeg_benign_damage(void) {
  size_t len = 0, pos = 2, n;
  uint8_t *base = read_all(gpath("ok-7x5.jpg"), &len), *buf;
  vouch_decoder *d = mkdec(1, 0);
  vouch_image ref, img;
  REQUIRE(base != NULL && d != NULL && len > 4);
  REQUIRE(vouch_decoder_decode(d, base, len, &ref) == VOUCH_OK);
  buf = malloc(len + 64);
  REQUIRE(buf != NULL);
  /* junk before the SOS marker */
  while (pos + 4 <= len && !(base[pos] == 0xFF && base[pos + 1] == 0xDA))
    pos += 2 + ((size_t)base[pos + 2] << 8 | base[pos + 3]);
  REQUIRE(pos + 4 <= len);
  memcpy(buf, base, pos);
  memcpy(buf + pos, "\x01\x02\x03", 3);
  memcpy(buf + pos + 3, base + pos, len - pos);
  n = len + 3;
  CHECK_EQ_INT(vouch_decoder_decode(d, buf, n, &img), VOUCH_OK);
  CHECK_EQ_INT(count_pixel_diffs(&img, &ref), 0);
  vouch_image_clear(&img);
  /* no EOI */
  CHECK(base[len - 2] == 0xFF && base[len - 1] == 0xD9);
  CHECK_EQ_INT(vouch_decoder_decode(d, base, len - 2, &img), VOUCH_OK);
  CHECK_EQ_INT(count_pixel_diffs(&img, &ref), 0);
  vouch_image_clear(&img);
  /* trailing garbage */
  memcpy(buf, base, len);
  memcpy(buf + len, "garbage after the end", 21);
  CHECK_EQ_INT(vouch_decoder_decode(d, buf, len + 21, &img), VOUCH_OK);
  CHECK_EQ_INT(count_pixel_diffs(&img, &ref), 0);
  vouch_image_clear(&img);
  /* cut inside the entropy-coded data */
  CHECK_EQ_INT(vouch_decoder_decode(d, base, len - 12, &img), VOUCH_E_IMAGE_CORRUPT);
  CHECK_EQ_STR(vouch_decoder_errmsg(d), "JPEG: premature end of data");
  vouch_image_clear(&ref);
  vouch_decoder_free(d);
  free(buf);
  free(base);
}

/* Truncation never yields made-up pixels: every proper prefix of a valid
 * file either fails or decodes to exactly the full file's pixels (the
 * latter when only trailing markers are cut, e.g. a JPEG's EOI). */
static void check_prefixes(const char *path) {
  vouch_decoder *d = mkdec(1, 0);
  size_t len = 0;
  uint8_t *buf = read_all(path, &len);
  vouch_image full;
  long bad = 0, ok = 0;
  REQUIRE(d != NULL && buf != NULL);
  REQUIRE(vouch_decoder_decode(d, buf, len, &full) == VOUCH_OK);
  for (size_t n = 0; n < len; n++) {
    vouch_image img;
    /* a private copy, so a read past n is caught by ASan */
    uint8_t *cut = malloc(n ? n : 1);
    int rc;
    REQUIRE(cut != NULL);
    memcpy(cut, buf, n);
    rc = vouch_decoder_decode(d, cut, n, &img);
    if (rc == VOUCH_OK) {
      ok++;
      if (count_pixel_diffs(&img, &full) != 0 || img.channels != full.channels) {
        if (bad == 0)
          fprintf(stderr, "  %s cut at %zu of %zu: decodes to different pixels\n", path, n, len);
        bad++;
      }
    } else {
      CHECK(rc == VOUCH_E_IMAGE_CORRUPT || rc == VOUCH_E_IMAGE_EMPTY || rc == VOUCH_E_IMAGE_FORMAT);
    }
    vouch_image_clear(&img);
    free(cut);
  }
  CHECK_EQ_INT(bad, 0);
  CHECK(ok < (long)len / 2); /* most cuts lose pixels: fail */
  vouch_image_clear(&full);
  free(buf);
  vouch_decoder_free(d);
}

static void test_prefixes(void) {
  static const char *files[] = {"ok-7x5.jpg", "ok-7x5-grey.jpg", "ok-64x48-progressive.jpg", "ok-7x5.png",
                                "png/rgb16-interlaced.png", "png/pal4.png", "ok-7x5.webp", "ok-1x1.webp",
                                "ok-7x5-interlaced.gif", "ok-anim-4x3.gif", "bmp/pal4.bmp", "bmp/rgb565.bmp",
                                "pnm/p3.ppm", "pnm/p1.pbm", "pnm/p6-16bit.ppm"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    check_prefixes(gpath(files[i]));
}

/* The same on real photos (baseline JPEGs from the PDQ test set). */
static void test_shared_prefixes(void) {
  static const char *files[] = {"bridge-mods/shrink-a-lot.jpg", "reg-test-input/labelme-subset/q0003.jpg",
                                "misc-images/small.jpg"};
  const char *shared = tt_shared_dir();
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/testdata/pdq/images/%s", shared, files[i]);
    check_prefixes(path);
  }
}

/* ------------------------------------------------------------ allocation failures */

static void test_alloc_failures(void) {
  static const char *files[] = {"ok-7x5.png", "png/pal4.png", "png/rgb16-interlaced.png", "ok-7x5.jpg",
                                "ok-64x48-progressive.jpg", "ok-7x5.webp", "ok-7x5-interlaced.gif",
                                "bmp/pal8.bmp", "pnm/p3.ppm", "bad-truncated.png"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    size_t len = 0;
    uint8_t *buf = read_all(gpath(files[i]), &len);
    int final_rc = -1, expect_ok = strncmp(files[i], "bad-", 4) != 0;
    REQUIRE(buf != NULL);
    for (long n = 0; n < 2000; n++) {
      vouch_decoder *d = NULL;
      vouch_image img;
      int rc;
      vouch__test_fail_allocs_after(n);
      rc = vouch_decoder_create(&d, NULL);
      if (rc == VOUCH_OK) {
        rc = vouch_decoder_decode(d, buf, len, &img);
        if (rc == VOUCH_OK)
          CHECK(img.pixels != NULL);
        else
          CHECK(img.pixels == NULL);
        vouch_image_clear(&img);
      }
      vouch__test_fail_allocs_after(-1);
      vouch_decoder_free(d);
      if (rc != VOUCH_E_NOMEM) {
        final_rc = rc;
        break;
      }
    }
    CHECK_EQ_INT(final_rc, expect_ok ? VOUCH_OK : VOUCH_E_IMAGE_CORRUPT);
    free(buf);
  }
  /* The orientation step allocates too. */
  {
    size_t len = 0;
    uint8_t *base = read_all(gpath("ok-7x5.jpg"), &len), *buf;
    uint8_t exif[64];
    size_t el, n = 0;
    int final_rc = -1;
    REQUIRE(base != NULL);
    buf = malloc(len + 128);
    REQUIRE(buf != NULL);
    el = make_exif(exif, 6, 0);
    buf[n++] = 0xFF; buf[n++] = 0xD8; buf[n++] = 0xFF; buf[n++] = 0xE1;
    buf[n++] = (uint8_t)((el + 8) >> 8); buf[n++] = (uint8_t)(el + 8);
    memcpy(buf + n, "Exif\0\0", 6); n += 6;
    memcpy(buf + n, exif, el); n += el;
    memcpy(buf + n, base + 2, len - 2); n += len - 2;
    for (long k = 0; k < 100; k++) {
      vouch_decoder *d = mkdec(1, 0);
      vouch_image img;
      int rc;
      REQUIRE(d != NULL);
      vouch__test_fail_allocs_after(k);
      rc = vouch_decoder_decode(d, buf, n, &img);
      vouch__test_fail_allocs_after(-1);
      if (rc == VOUCH_OK)
        CHECK_EQ_INT(img.width, 5);
      vouch_image_clear(&img);
      vouch_decoder_free(d);
      if (rc != VOUCH_E_NOMEM) {
        final_rc = rc;
        break;
      }
    }
    CHECK_EQ_INT(final_rc, VOUCH_OK);
    free(buf);
    free(base);
  }
}

/* ------------------------------------------------------------ the reference pixels */

static void test_reference_pixels(void) {
  static const struct { const char *image, *decoded; } t[] = {
    {"reg-test-input/labelme-subset/q0003.jpg", "q0003.png"},
    {"reg-test-input/labelme-subset/q0004.jpg", "q0004.png"},
    {"reg-test-input/labelme-subset/q0122.jpg", "q0122.png"},
    {"reg-test-input/labelme-subset/q0291.jpg", "q0291.png"},
    {"reg-test-input/labelme-subset/q0746.jpg", "q0746.png"},
    {"reg-test-input/labelme-subset/q1050.jpg", "q1050.png"},
    {"reg-test-input/labelme-subset/q1050.jpg", "q1050.ppm"},
    {"reg-test-input/labelme-subset/q2821.jpg", "q2821.png"},
    {"reg-test-input/dih/bridge-1-original.jpg", "bridge-1-original.png"},
    {"misc-images/wee.jpg", "wee.png"},
    {"misc-images/wee.jpg", "wee.ppm"},
    {"misc-images/small.jpg", "small.png"},
    {"bridge-mods/square-128x128.jpg", "square-128x128.png"},
    {"bridge-mods/square-256x256.jpg", "square-256x256.png"},
    {"bridge-mods/square-512x512.jpg", "square-512x512.png"},
    {"bridge-mods/shrink-a-lot.jpg", "shrink-a-lot.png"},
  };
  const char *shared = tt_shared_dir();
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    char a[4096], b[4096];
    vouch_image got, ref;
    long diffs;
    snprintf(a, sizeof a, "%s/testdata/pdq/images/%s", shared, t[i].image);
    snprintf(b, sizeof b, "%s/testdata/pdq/decoded/%s", shared, t[i].decoded);
    if (decode_path(a, &got) != VOUCH_OK) {
      CHECK(!"reference image failed to decode");
      continue;
    }
    if (decode_path(b, &ref) != VOUCH_OK) {
      CHECK(!"decoded/ file failed to decode");
      vouch_image_clear(&got);
      continue;
    }
    diffs = count_pixel_diffs(&got, &ref);
    if (diffs != 0)
      fprintf(stderr, "  %s vs %s: %ld sample differences (%ux%u ch %u vs %ux%u ch %u)\n", t[i].image,
              t[i].decoded, diffs, got.width, got.height, got.channels, ref.width, ref.height,
              ref.channels);
    CHECK_EQ_INT(diffs, 0);
    CHECK_EQ_INT(got.format, VOUCH_FMT_JPEG);
    CHECK_EQ_INT(got.scale_denom, 1);
    vouch_image_clear(&got);
    vouch_image_clear(&ref);
  }
}

/* Every shared image decodes, with the expected size and channel count. */
static void test_shared_images(void) {
  static const struct { const char *image; uint32_t w, h, ch; int fmt; } t[] = {
    {"misc-images/modes/CMYK.jpg", 1600, 1004, 3, VOUCH_FMT_JPEG},
    {"misc-images/modes/YCbCr.jpg", 1600, 1004, 3, VOUCH_FMT_JPEG},
    {"misc-images/modes/1.png", 1600, 1004, 1, VOUCH_FMT_PNG},
    {"misc-images/modes/L.png", 1600, 1004, 1, VOUCH_FMT_PNG},
    {"misc-images/modes/P.png", 1600, 1004, 3, VOUCH_FMT_PNG},
    {"misc-images/modes/PA.webp", 1600, 1004, 3, VOUCH_FMT_WEBP},
    {"misc-images/c.png", 1432, 812, 3, VOUCH_FMT_PNG},
    {"reg-test-input/pen-and-coaster.png", 924, 735, 3, VOUCH_FMT_PNG},
    {"reg-test-input/dih/bridge-2-rotate-90.jpg", 1004, 1600, 3, VOUCH_FMT_JPEG},
    {"bridge-mods/shrink-a-little.jpg", 1152, 723, 3, VOUCH_FMT_JPEG},
    {"bridge-mods/sharpen-a-lot.jpg", 1600, 1004, 3, VOUCH_FMT_JPEG},
  };
  const char *shared = tt_shared_dir();
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    char a[4096];
    vouch_image img;
    snprintf(a, sizeof a, "%s/testdata/pdq/images/%s", shared, t[i].image);
    if (decode_path(a, &img) != VOUCH_OK) {
      CHECK(!"shared image failed to decode");
      continue;
    }
    CHECK_EQ_INT(img.width, t[i].w);
    CHECK_EQ_INT(img.height, t[i].h);
    CHECK_EQ_INT(img.channels, t[i].ch);
    CHECK_EQ_INT(img.format, t[i].fmt);
    vouch_image_clear(&img);
  }
}

/* ImageMagick 6 (Q16, non-HDRI) turns libjpeg's CMYK samples into 8-bit
 * RGB like this: it stores QuantumRange - 257*sample (Adobe-inverted CMYK),
 * converts R = QR - (C*(QR-K)/QR + K) in double, rounds to a quantum, and
 * scales to 8 bits with ((q+128) - ((q+128)>>8)) >> 8.  We decode a CMYK
 * (or YCCK) JPEG with libjpeg directly, run that chain, and require our
 * decoder's output to be identical.  (Checked once against `convert X.jpg
 * pnm:-` from ImageMagick 6.9.11 for both files: identical.) */
static uint8_t im6_cmyk_channel(unsigned v, unsigned k) {
  const double qr = 65535.0;
  double c = qr - 257.0 * v, kk = qr - 257.0 * k;
  double r = qr - ((c / qr) * (qr - kk) + kk);
  unsigned long q;
  if (r < 0)
    r = 0;
  if (r > qr)
    r = qr;
  q = (unsigned long)(r + 0.5);
  return (uint8_t)(((q + 128UL) - ((q + 128UL) >> 8)) >> 8);
}

static void check_cmyk_file(const char *path) {
  size_t len = 0;
  uint8_t *buf;
  vouch_image img;
  struct jpeg_decompress_struct ci;
  struct jpeg_error_mgr jerr;
  long diffs = 0;
  buf = read_all(path, &len);
  REQUIRE(buf != NULL);
  REQUIRE(decode_path(path, &img) == VOUCH_OK);
  REQUIRE(img.channels == 3);
  ci.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&ci);
  jpeg_mem_src(&ci, buf, (unsigned long)len);
  jpeg_read_header(&ci, TRUE);
  CHECK(ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK);
  ci.out_color_space = JCS_CMYK;
  jpeg_start_decompress(&ci);
  CHECK_EQ_INT(ci.output_width, img.width);
  CHECK_EQ_INT(ci.output_height, img.height);
  if (ci.output_width == img.width && ci.output_height == img.height) {
    uint8_t *row = malloc((size_t)ci.output_width * 4);
    REQUIRE(row != NULL);
    while (ci.output_scanline < ci.output_height) {
      uint32_t y = ci.output_scanline;
      JSAMPROW rp = row;
      jpeg_read_scanlines(&ci, &rp, 1);
      for (uint32_t x = 0; x < ci.output_width; x++) {
        const uint8_t *s = row + 4 * x, *d = img.pixels + y * img.stride + 3 * x;
        for (int c = 0; c < 3; c++)
          diffs += d[c] != im6_cmyk_channel(s[c], s[3]);
      }
    }
    free(row);
  }
  jpeg_abort_decompress(&ci);
  jpeg_destroy_decompress(&ci);
  if (diffs)
    fprintf(stderr, "  %s: %ld samples differ from ImageMagick's CMYK conversion\n", path, diffs);
  CHECK_EQ_INT(diffs, 0);
  vouch_image_clear(&img);
  free(buf);
}

/* ok-cmyk-256.jpg covers 127 of the 128 (sample, black) pairs where
 * rounding the formula one way or the other matters. */
static void test_cmyk_golden(void) { check_cmyk_file(gpath("ok-cmyk-256.jpg")); }

static void test_cmyk_shared(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/testdata/pdq/images/misc-images/modes/CMYK.jpg", tt_shared_dir());
  check_cmyk_file(path);
}

/* EXIF orientation in a real camera-style file (orientation 6). */
static void test_shared_exif(void) {
  const char *shared = tt_shared_dir();
  char path[4096];
  vouch_decoder *d0 = mkdec(0, 0), *d1 = mkdec(1, 0);
  vouch_image a, b;
  REQUIRE(d0 && d1);
  snprintf(path, sizeof path, "%s/testdata/pdq/synthetic/exif-rotn-6-1008x756.jpg", shared);
  REQUIRE(vouch_decoder_decode_file(d0, path, &a) == VOUCH_OK);
  REQUIRE(vouch_decoder_decode_file(d1, path, &b) == VOUCH_OK);
  CHECK_EQ_INT(a.orientation, 6);
  CHECK_EQ_INT(a.width, 1008);
  CHECK_EQ_INT(a.height, 756);
  CHECK_EQ_INT(b.orientation, 6);
  CHECK_EQ_INT(b.src_width, 1008);
  check_oriented(&a, &b, 6);
  vouch_image_clear(&a);
  vouch_image_clear(&b);
  vouch_decoder_free(d0);
  vouch_decoder_free(d1);
}

/* Scaled JPEG decode picks the largest 1/d keeping both sides >= min_side. */
static void test_scaled(void) {
  static const struct { uint32_t min_side; int denom; uint32_t w, h; } t[] = {
    {64, 8, 200, 126}, {126, 8, 200, 126}, {127, 4, 400, 251}, {251, 4, 400, 251},
    {252, 2, 800, 502}, {502, 2, 800, 502}, {503, 1, 1600, 1004}, {5000, 1, 1600, 1004},
  };
  const char *shared = tt_shared_dir();
  char path[4096];
  vouch_image full;
  uint64_t full_sum = 0;
  snprintf(path, sizeof path, "%s/testdata/pdq/images/reg-test-input/dih/bridge-1-original.jpg", shared);
  REQUIRE(decode_path(path, &full) == VOUCH_OK);
  for (size_t i = 0; i < (size_t)full.height * full.stride; i++)
    full_sum += full.pixels[i];
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    vouch_decoder *d = mkdec(1, t[i].min_side);
    vouch_image img;
    REQUIRE(d != NULL);
    REQUIRE(vouch_decoder_decode_file(d, path, &img) == VOUCH_OK);
    CHECK_EQ_INT(img.scale_denom, t[i].denom);
    CHECK_EQ_INT(img.width, t[i].w);
    CHECK_EQ_INT(img.height, t[i].h);
    CHECK_EQ_INT(img.src_width, 1600);
    CHECK_EQ_INT(img.src_height, 1004);
    {
      /* A reduced decode shows the same picture: mean level within 1%. */
      uint64_t sum = 0;
      double m1, m2;
      for (size_t k = 0; k < (size_t)img.height * img.stride; k++)
        sum += img.pixels[k];
      m1 = (double)full_sum / ((double)full.height * full.stride);
      m2 = (double)sum / ((double)img.height * img.stride);
      CHECK(m2 > m1 * 0.99 && m2 < m1 * 1.01);
    }
    vouch_image_clear(&img);
    vouch_decoder_free(d);
  }
  vouch_image_clear(&full);
  /* Other formats ignore min_side. */
  {
    vouch_decoder *d = mkdec(1, 2);
    vouch_image img;
    REQUIRE(d != NULL);
    REQUIRE(vouch_decoder_decode_file(d, gpath("ok-7x5.png"), &img) == VOUCH_OK);
    CHECK_EQ_INT(img.scale_denom, 1);
    CHECK_EQ_INT(img.width, 7);
    vouch_image_clear(&img);
    vouch_decoder_free(d);
  }
}

int main(void) {
  init_golden_dir();
  TT_RUN(test_detect);
  TT_RUN(test_api_edges);
  TT_RUN(test_goldens);
  TT_RUN(test_golden_pixels);
  TT_RUN(test_png_variants);
  TT_RUN(test_bmp_variants);
  TT_RUN(test_pnm_variants);
  TT_RUN(test_limits);
  TT_RUN(test_orientation_jpeg);
  TT_RUN(test_orientation_png);
  TT_RUN(test_orientation_webp);
  TT_RUN(test_exif_garbage);
  TT_RUN(test_jpeg_scan_limit);
  TT_RUN(test_jpeg_benign_damage);
  TT_RUN(test_prefixes);
  TT_RUN(test_alloc_failures);
  TT_RUN(test_cmyk_golden);
  /* These need ../shared; without it the run counts as skipped (77) when
   * everything above passed. */
  {
    const char *sd = getenv("VOUCH_SHARED");
    struct stat st;
    if (!sd || stat(sd, &st) != 0 || !S_ISDIR(st.st_mode)) {
      fprintf(stderr, "VOUCH_SHARED absent: reference-pixel tests skipped\n");
      fprintf(stderr, "%d checks, %d failed\n", tt_checks, tt_failures);
      return tt_failures ? 1 : 77;
    }
  }
  {
    TT_RUN(test_reference_pixels);
    TT_RUN(test_shared_images);
    TT_RUN(test_cmyk_shared);
    TT_RUN(test_shared_exif);
    TT_RUN(test_scaled);
    TT_RUN(test_shared_prefixes);
  }
  TT_MAIN_END;
}
