/* src/eval/transform.c -- the edits `vouch eval` applies to photos.
 *
 * Every transform reads an 8-bit grey or RGB vouch_image and writes a new
 * one.  Random choices come from a SplitMix64 stream seeded by the caller,
 * so a (source, transform, seed) triple always gives the same bytes on every
 * machine: integer arithmetic where we can, and float code only in
 * resampling and rotation, which -ffp-contract=off keeps reproducible. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/internal.h"
#include "eval_internal.h"
#include "vouch/eval.h"

/* ------------------------------------------------------------ names and parsing */

static const char *const kind_names[VOUCH_TF_KIND_END_] = {
  "none", "resize", "crop", "rotate", "mirror", "jpeg", "brightness", "contrast",
  "gamma", "grey", "blur", "noise", "overlay", "border", "aspect"};

const char *vouch_transform_kind_name(int kind) {
  if (kind <= VOUCH_TF_NONE || kind >= VOUCH_TF_KIND_END_) return "unknown";
  return kind_names[kind];
}

/* Parameter ranges, as documented in eval.h. */
static int param_ok(int kind, double p) {
  if (!isfinite(p)) return 0;
  switch (kind) {
  case VOUCH_TF_RESIZE: return p >= 0.01 && p <= 8;
  case VOUCH_TF_CROP: return p >= 0 && p <= 0.95;
  case VOUCH_TF_ROTATE: return p >= -360 && p <= 360;
  case VOUCH_TF_MIRROR: return p == 0 || p == 1;
  case VOUCH_TF_JPEG: return p >= 1 && p <= 100 && p == floor(p);
  case VOUCH_TF_BRIGHTNESS: return p >= -255 && p <= 255;
  case VOUCH_TF_CONTRAST: return p >= 0 && p <= 10;
  case VOUCH_TF_GAMMA: return p >= 0.05 && p <= 20;
  case VOUCH_TF_GREY: return 1;
  case VOUCH_TF_BLUR: return p >= 0 && p <= 1000 && p == floor(p);
  case VOUCH_TF_NOISE: return p >= 0 && p <= 255;
  case VOUCH_TF_OVERLAY: return p >= 0 && p <= 1;
  case VOUCH_TF_BORDER: return p >= 0 && p <= 2;
  case VOUCH_TF_ASPECT: return p >= 0.05 && p <= 20;
  default: return 0;
  }
}

int vouch_transform_format(const vouch_transform *t, char *text, size_t cap) {
  if (!t || !text || cap < VOUCH_TRANSFORM_TEXT_BYTES) return VOUCH_E_INVALID;
  if (t->kind == VOUCH_TF_GREY)
    snprintf(text, cap, "grey");
  else
    snprintf(text, cap, "%s:%.6g", vouch_transform_kind_name(t->kind),
             isfinite(t->param) ? t->param : 0.0);
  return VOUCH_OK;
}

int vouch_transform_parse(const char *text, vouch_transform *out) {
  if (!text || !out) return VOUCH_E_INVALID;
  const char *colon = strchr(text, ':');
  size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
  int kind = VOUCH_TF_NONE;
  for (int k = 1; k < VOUCH_TF_KIND_END_; k++)
    if (strlen(kind_names[k]) == nlen && !strncmp(text, kind_names[k], nlen)) kind = k;
  if (kind == VOUCH_TF_NONE && nlen == 4 && !strncmp(text, "gray", 4)) kind = VOUCH_TF_GREY;
  if (kind == VOUCH_TF_NONE) return VOUCH_E_INVALID;
  double p = 0;
  if (colon) {
    char *end;
    if (!colon[1]) return VOUCH_E_INVALID;
    p = strtod(colon + 1, &end);
    if (*end) return VOUCH_E_INVALID;
  } else if (kind != VOUCH_TF_GREY && kind != VOUCH_TF_MIRROR) {
    return VOUCH_E_INVALID; /* every other kind needs its parameter */
  }
  if (!param_ok(kind, p)) return VOUCH_E_INVALID;
  out->kind = kind;
  out->param = p;
  return VOUCH_OK;
}

/* The default suite.  Scales and strengths span "harmless" (what messaging
 * apps and re-uploads do) to "deliberate" (what someone evading a match
 * would try).  docs/eval.md explains each choice. */
static const vouch_transform default_suite[] = {
  {VOUCH_TF_RESIZE, 0.75}, {VOUCH_TF_RESIZE, 0.5}, {VOUCH_TF_RESIZE, 0.25}, {VOUCH_TF_RESIZE, 0.1},
  {VOUCH_TF_CROP, 0.05}, {VOUCH_TF_CROP, 0.1}, {VOUCH_TF_CROP, 0.2}, {VOUCH_TF_CROP, 0.3},
  {VOUCH_TF_ROTATE, 1}, {VOUCH_TF_ROTATE, 2}, {VOUCH_TF_ROTATE, 5}, {VOUCH_TF_ROTATE, 10},
  {VOUCH_TF_ROTATE, 90}, {VOUCH_TF_ROTATE, 180},
  {VOUCH_TF_MIRROR, 0}, {VOUCH_TF_MIRROR, 1},
  {VOUCH_TF_JPEG, 90}, {VOUCH_TF_JPEG, 70}, {VOUCH_TF_JPEG, 50}, {VOUCH_TF_JPEG, 30},
  {VOUCH_TF_JPEG, 10},
  {VOUCH_TF_BRIGHTNESS, 32}, {VOUCH_TF_BRIGHTNESS, -32}, {VOUCH_TF_BRIGHTNESS, 64},
  {VOUCH_TF_CONTRAST, 0.7}, {VOUCH_TF_CONTRAST, 1.3},
  {VOUCH_TF_GAMMA, 0.7}, {VOUCH_TF_GAMMA, 1.5},
  {VOUCH_TF_GREY, 0},
  {VOUCH_TF_BLUR, 1}, {VOUCH_TF_BLUR, 2}, {VOUCH_TF_BLUR, 4},
  {VOUCH_TF_NOISE, 5}, {VOUCH_TF_NOISE, 10}, {VOUCH_TF_NOISE, 20},
  {VOUCH_TF_OVERLAY, 0.05}, {VOUCH_TF_OVERLAY, 0.1}, {VOUCH_TF_OVERLAY, 0.2},
  {VOUCH_TF_OVERLAY, 0.3},
  {VOUCH_TF_BORDER, 0.05}, {VOUCH_TF_BORDER, 0.1}, {VOUCH_TF_BORDER, 0.2},
  {VOUCH_TF_ASPECT, 0.8}, {VOUCH_TF_ASPECT, 1.25},
};

const vouch_transform *vouch_transform_default_suite(size_t *n) {
  if (n) *n = sizeof default_suite / sizeof default_suite[0];
  return default_suite;
}

/* ------------------------------------------------------------ random numbers */

/* SplitMix64 (Steele, Lea, Flood 2014): a 64-bit counter through a mixing
 * function.  Not cryptographic; reproducible and fast. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t vouch_eval_seed(uint64_t seed, uint64_t index) {
  return mix64(seed + 0x9e3779b97f4a7c15ULL * (index + 1));
}

uint64_t vouch__rng_next(vouch__rng *r) {
  r->s += 0x9e3779b97f4a7c15ULL; /* 2^64 / golden ratio, odd */
  return mix64(r->s);
}

/* Uniform in [0, n) for n >= 1 (53-bit fraction times n: bias below 2^-40). */
uint32_t vouch__rng_below(vouch__rng *r, uint32_t n) {
  double u = (double)(vouch__rng_next(r) >> 11) * 0x1.0p-53;
  uint32_t v = (uint32_t)(u * n);
  return v < n ? v : n - 1;
}

/* ------------------------------------------------------------ helpers */

static int check_img(const vouch_image *s) {
  return s && s->pixels && s->width > 0 && s->height > 0 && (s->channels == 1 || s->channels == 3) &&
         s->stride >= (size_t)s->width * s->channels;
}

static int new_image(vouch_image *out, uint64_t w, uint64_t h, uint32_t ch) {
  memset(out, 0, sizeof *out);
  if (w == 0 || h == 0) return VOUCH_E_INVALID;
  if (w > VOUCH_IMAGE_MAX_SIDE_DEFAULT || h > VOUCH_IMAGE_MAX_SIDE_DEFAULT ||
      w * h > VOUCH_IMAGE_MAX_PIXELS_DEFAULT)
    return VOUCH_E_LIMIT;
  return vouch_image_init(out, (uint32_t)w, (uint32_t)h, ch);
}

static uint8_t clamp_u8(double v) {
  if (!(v > 0)) return 0; /* also NaN */
  if (v >= 255) return 255;
  return (uint8_t)(v + 0.5);
}

static uint32_t round_side(double v) {
  if (!(v >= 1)) return 1;
  return (uint32_t)floor(v + 0.5);
}

static int copy_image(const vouch_image *src, vouch_image *out) {
  VOUCH_TRY(new_image(out, src->width, src->height, src->channels));
  size_t row = (size_t)src->width * src->channels;
  for (uint32_t y = 0; y < src->height; y++)
    memcpy(out->pixels + (size_t)y * out->stride, src->pixels + (size_t)y * src->stride, row);
  return VOUCH_OK;
}

/* ------------------------------------------------------------ resampling */

/* One axis of a separable resampler: output o takes taps[first[o] ..
 * first[o] + count[o]) of source indices starting at start[o]. */
typedef struct {
  uint32_t *start, *count, *first;
  float *w;
} axis_plan;

static void plan_free(axis_plan *p) {
  vouch__free(p->start);
  vouch__free(p->count);
  vouch__free(p->first);
  vouch__free(p->w);
}

/* Shrinking: output o covers source [o*in/on, (o+1)*in/on); each source pixel
 * weighs its overlap, so the result is the exact area average.  Growing:
 * bilinear between the two source pixels around the output's centre
 * (pixel centres aligned, edges clamped). */
static int plan_axis(uint32_t in, uint32_t on, axis_plan *p) {
  memset(p, 0, sizeof *p);
  uint32_t max_taps = on < in ? (in + on - 1) / on + 1 : 2;
  size_t ntaps = (size_t)on * max_taps;
  p->start = vouch__malloc((size_t)on * sizeof *p->start);
  p->count = vouch__malloc((size_t)on * sizeof *p->count);
  p->first = vouch__malloc((size_t)on * sizeof *p->first);
  p->w = vouch__malloc(ntaps * sizeof *p->w);
  if (!p->start || !p->count || !p->first || !p->w) {
    plan_free(p);
    return VOUCH_E_NOMEM;
  }
  size_t k = 0;
  for (uint32_t o = 0; o < on; o++) {
    p->first[o] = (uint32_t)k;
    if (on < in) {
      /* Integer bounds in units of 1/on source pixels: exact. */
      uint64_t a = (uint64_t)o * in, b = (uint64_t)(o + 1) * in; /* [a, b) / on */
      uint32_t s0 = (uint32_t)(a / on), s1 = (uint32_t)((b + on - 1) / on);
      p->start[o] = s0;
      p->count[o] = s1 - s0;
      for (uint32_t s = s0; s < s1; s++) {
        uint64_t lo = (uint64_t)s * on > a ? (uint64_t)s * on : a;
        uint64_t hi = (uint64_t)(s + 1) * on < b ? (uint64_t)(s + 1) * on : b;
        p->w[k++] = (float)((double)(hi - lo) / (double)in);
      }
    } else {
      double c = ((double)o + 0.5) * in / on - 0.5;
      if (c < 0) c = 0;
      if (c > in - 1) c = in - 1;
      uint32_t i0 = (uint32_t)c;
      double f = c - i0;
      if (i0 + 1 >= in) {
        p->start[o] = i0;
        p->count[o] = 1;
        p->w[k++] = 1.0f;
      } else {
        p->start[o] = i0;
        p->count[o] = 2;
        p->w[k++] = (float)(1 - f);
        p->w[k++] = (float)f;
      }
    }
  }
  return VOUCH_OK;
}

int vouch_image_resample(const vouch_image *src, uint32_t w, uint32_t h, vouch_image *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!check_img(src) || !out || w == 0 || h == 0) return VOUCH_E_INVALID;
  if (w == src->width && h == src->height) return copy_image(src, out);
  const uint32_t ch = src->channels, sw = src->width, sh = src->height;
  axis_plan px, py;
  VOUCH_TRY(new_image(out, w, h, ch));
  int rc = plan_axis(sw, w, &px);
  if (rc != VOUCH_OK) {
    vouch_image_clear(out);
    return rc;
  }
  rc = plan_axis(sh, h, &py);
  if (rc != VOUCH_OK) {
    plan_free(&px);
    vouch_image_clear(out);
    return rc;
  }
  /* Horizontal pass into a float buffer of sh rows x w*ch, then vertical. */
  size_t rowf = (size_t)w * ch;
  float *tmp = vouch__malloc(rowf * sh * sizeof *tmp);
  float *acc = vouch__malloc(rowf * sizeof *acc);
  if (!tmp || !acc) {
    vouch__free(tmp);
    vouch__free(acc);
    plan_free(&px);
    plan_free(&py);
    vouch_image_clear(out);
    return VOUCH_E_NOMEM;
  }
  for (uint32_t y = 0; y < sh; y++) {
    const uint8_t *s = src->pixels + (size_t)y * src->stride;
    float *t = tmp + (size_t)y * rowf;
    for (uint32_t o = 0; o < w; o++) {
      const float *wt = px.w + px.first[o];
      for (uint32_t c = 0; c < ch; c++) {
        float v = 0;
        for (uint32_t k = 0; k < px.count[o]; k++)
          v += wt[k] * (float)s[(size_t)(px.start[o] + k) * ch + c];
        t[(size_t)o * ch + c] = v;
      }
    }
  }
  for (uint32_t o = 0; o < h; o++) {
    const float *wt = py.w + py.first[o];
    for (size_t i = 0; i < rowf; i++) acc[i] = 0;
    for (uint32_t k = 0; k < py.count[o]; k++) {
      const float *t = tmp + (size_t)(py.start[o] + k) * rowf;
      for (size_t i = 0; i < rowf; i++) acc[i] += wt[k] * t[i];
    }
    uint8_t *d = out->pixels + (size_t)o * out->stride;
    for (size_t i = 0; i < rowf; i++) d[i] = clamp_u8(acc[i]);
  }
  vouch__free(tmp);
  vouch__free(acc);
  plan_free(&px);
  plan_free(&py);
  return VOUCH_OK;
}

/* ------------------------------------------------------------ geometry */

static int crop(const vouch_image *src, double frac, vouch__rng *r, vouch_image *out) {
  uint32_t ow = round_side(src->width * (1 - frac)), oh = round_side(src->height * (1 - frac));
  if (ow > src->width) ow = src->width;
  if (oh > src->height) oh = src->height;
  uint32_t x0 = vouch__rng_below(r, src->width - ow + 1);
  uint32_t y0 = vouch__rng_below(r, src->height - oh + 1);
  VOUCH_TRY(new_image(out, ow, oh, src->channels));
  for (uint32_t y = 0; y < oh; y++)
    memcpy(out->pixels + (size_t)y * out->stride,
           src->pixels + (size_t)(y0 + y) * src->stride + (size_t)x0 * src->channels,
           (size_t)ow * src->channels);
  return VOUCH_OK;
}

/* Quarter turns, counter-clockwise as seen on screen (the direction of the
 * hash's VOUCH_DIH_ROT90 variant). */
static int rotate_quarter(const vouch_image *src, int quarters, vouch_image *out) {
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  const int swap = quarters & 1;
  VOUCH_TRY(new_image(out, swap ? h : w, swap ? w : h, ch));
  for (uint32_t y = 0; y < out->height; y++) {
    uint8_t *d = out->pixels + (size_t)y * out->stride;
    for (uint32_t x = 0; x < out->width; x++) {
      uint32_t sx, sy;
      switch (quarters) {
      case 1: sx = w - 1 - y; sy = x; break;         /* top row <- right column */
      case 2: sx = w - 1 - x; sy = h - 1 - y; break;
      case 3: sx = y; sy = h - 1 - x; break;         /* top row <- left column, upwards */
      default: sx = x; sy = y; break;
      }
      memcpy(d + (size_t)x * ch, src->pixels + (size_t)sy * src->stride + (size_t)sx * ch, ch);
    }
  }
  return VOUCH_OK;
}

/* Any angle: same canvas, rotation about the centre, bilinear; source taps
 * outside the image count as black. */
static int rotate_any(const vouch_image *src, double deg, vouch_image *out) {
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  VOUCH_TRY(new_image(out, w, h, ch));
  const double th = deg * (3.14159265358979323846 / 180.0);
  const double cs = cos(th), sn = sin(th);
  const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  for (uint32_t y = 0; y < h; y++) {
    uint8_t *d = out->pixels + (size_t)y * out->stride;
    const double dy = y - cy;
    for (uint32_t x = 0; x < w; x++) {
      const double dx = x - cx;
      /* Screen coordinates have y pointing down: a counter-clockwise turn
       * by th sends (dx, dy) to (dx cos + dy sin, -dx sin + dy cos); we
       * invert it to find where each output pixel comes from. */
      const double sx = cx + dx * cs - dy * sn, sy = cy + dx * sn + dy * cs;
      const double fx0 = floor(sx), fy0 = floor(sy);
      const double fx = sx - fx0, fy = sy - fy0;
      const long x0 = (long)fx0, y0 = (long)fy0;
      for (uint32_t c = 0; c < ch; c++) {
        double v = 0;
        for (int j = 0; j < 2; j++) {
          long yy = y0 + j;
          if (yy < 0 || yy >= (long)h) continue;
          const double wy = j ? fy : 1 - fy;
          const uint8_t *row = src->pixels + (size_t)yy * src->stride;
          for (int i = 0; i < 2; i++) {
            long xx = x0 + i;
            if (xx < 0 || xx >= (long)w) continue;
            v += wy * (i ? fx : 1 - fx) * row[(size_t)xx * ch + c];
          }
        }
        d[(size_t)x * ch + c] = clamp_u8(v);
      }
    }
  }
  return VOUCH_OK;
}

static int rotate(const vouch_image *src, double deg, vouch_image *out) {
  double a = fmod(deg, 360.0);
  if (a < 0) a += 360.0;
  if (fmod(a, 90.0) == 0) return rotate_quarter(src, (int)(a / 90.0), out);
  return rotate_any(src, a, out);
}

static int mirror(const vouch_image *src, int vertical, vouch_image *out) {
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  VOUCH_TRY(new_image(out, w, h, ch));
  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *s = src->pixels + (size_t)(vertical ? h - 1 - y : y) * src->stride;
    uint8_t *d = out->pixels + (size_t)y * out->stride;
    if (vertical) {
      memcpy(d, s, (size_t)w * ch);
    } else {
      for (uint32_t x = 0; x < w; x++) memcpy(d + (size_t)x * ch, s + (size_t)(w - 1 - x) * ch, ch);
    }
  }
  return VOUCH_OK;
}

static int border(const vouch_image *src, double frac, vouch_image *out) {
  const uint32_t ch = src->channels;
  uint64_t px = (uint64_t)floor(src->width * frac + 0.5), py = (uint64_t)floor(src->height * frac + 0.5);
  VOUCH_TRY(new_image(out, src->width + 2 * px, src->height + 2 * py, ch)); /* zeroed: black */
  for (uint32_t y = 0; y < src->height; y++)
    memcpy(out->pixels + (size_t)(y + py) * out->stride + (size_t)px * ch,
           src->pixels + (size_t)y * src->stride, (size_t)src->width * ch);
  return VOUCH_OK;
}

/* ------------------------------------------------------------ colour */

static int apply_lut(const vouch_image *src, const uint8_t lut[256], vouch_image *out) {
  VOUCH_TRY(new_image(out, src->width, src->height, src->channels));
  size_t row = (size_t)src->width * src->channels;
  for (uint32_t y = 0; y < src->height; y++) {
    const uint8_t *s = src->pixels + (size_t)y * src->stride;
    uint8_t *d = out->pixels + (size_t)y * out->stride;
    for (size_t i = 0; i < row; i++) d[i] = lut[s[i]];
  }
  return VOUCH_OK;
}

static int colour(const vouch_image *src, int kind, double p, vouch_image *out) {
  uint8_t lut[256];
  for (int v = 0; v < 256; v++) {
    double r;
    switch (kind) {
    case VOUCH_TF_BRIGHTNESS: r = v + p; break;
    case VOUCH_TF_CONTRAST: r = 128 + (v - 128) * p; break;
    default: r = 255.0 * pow(v / 255.0, p); break; /* gamma */
    }
    lut[v] = clamp_u8(r);
  }
  return apply_lut(src, lut, out);
}

/* BT.601 luma in integers: (77 R + 150 G + 29 B + 128) >> 8, weights summing
 * to 256 (0.299, 0.587, 0.114 rounded). */
static int grey(const vouch_image *src, vouch_image *out) {
  VOUCH_TRY(new_image(out, src->width, src->height, 1));
  for (uint32_t y = 0; y < src->height; y++) {
    const uint8_t *s = src->pixels + (size_t)y * src->stride;
    uint8_t *d = out->pixels + (size_t)y * out->stride;
    if (src->channels == 1) {
      memcpy(d, s, src->width);
      continue;
    }
    for (uint32_t x = 0; x < src->width; x++)
      d[x] = (uint8_t)((77u * s[3 * x] + 150u * s[3 * x + 1] + 29u * s[3 * x + 2] + 128u) >> 8);
  }
  return VOUCH_OK;
}

/* ------------------------------------------------------------ blur and noise */

/* Box blur of radius r: each output is the mean of the (2r+1)^2 window
 * clipped to the image (so a flat image stays flat).  Horizontal running
 * sums are kept exact in 32 bits, the vertical pass sums them, and the one
 * rounding happens at the end. */
static int blur(const vouch_image *src, uint32_t r, vouch_image *out) {
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  if (r == 0) return copy_image(src, out);
  VOUCH_TRY(new_image(out, w, h, ch));
  size_t row = (size_t)w * ch;
  uint32_t *hs = vouch__malloc(row * h * sizeof *hs);
  uint32_t *col = vouch__malloc(row * sizeof *col);
  if (!hs || !col) {
    vouch__free(hs);
    vouch__free(col);
    vouch_image_clear(out);
    return VOUCH_E_NOMEM;
  }
  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *s = src->pixels + (size_t)y * src->stride;
    uint32_t *d = hs + (size_t)y * row;
    for (uint32_t c = 0; c < ch; c++) {
      uint32_t sum = 0;
      uint32_t hi = r < w - 1 ? r : w - 1;
      for (uint32_t x = 0; x <= hi; x++) sum += s[(size_t)x * ch + c];
      for (uint32_t x = 0; x < w; x++) {
        d[(size_t)x * ch + c] = sum;
        if (x + r + 1 < w) sum += s[(size_t)(x + r + 1) * ch + c];
        if (x >= r) sum -= s[(size_t)(x - r) * ch + c];
      }
    }
  }
  /* Vertical pass: running sum over rows of the horizontal sums. */
  memset(col, 0, row * sizeof *col);
  uint32_t hi = r < h - 1 ? r : h - 1;
  for (uint32_t y = 0; y <= hi; y++)
    for (size_t i = 0; i < row; i++) col[i] += hs[(size_t)y * row + i];
  for (uint32_t y = 0; y < h; y++) {
    uint32_t y0 = y >= r ? y - r : 0, y1 = y + r < h - 1 ? y + r : h - 1;
    uint32_t ny = y1 - y0 + 1;
    uint8_t *d = out->pixels + (size_t)y * out->stride;
    for (uint32_t x = 0; x < w; x++) {
      uint32_t x0 = x >= r ? x - r : 0, x1 = x + r < w - 1 ? x + r : w - 1;
      uint32_t n = (x1 - x0 + 1) * ny;
      for (uint32_t c = 0; c < ch; c++) {
        size_t i = (size_t)x * ch + c;
        d[i] = (uint8_t)((col[i] + n / 2) / n);
      }
    }
    if (y + r + 1 < h)
      for (size_t i = 0; i < row; i++) col[i] += hs[(size_t)(y + r + 1) * row + i];
    if (y >= r)
      for (size_t i = 0; i < row; i++) col[i] -= hs[(size_t)(y - r) * row + i];
  }
  vouch__free(hs);
  vouch__free(col);
  return VOUCH_OK;
}

/* Additive noise with standard deviation sigma.  Each value is the sum of
 * four 16-bit uniforms, centred and scaled to unit variance (Irwin-Hall,
 * n = 4): close to Gaussian inside +-3.46 sigma, with no tails beyond, and
 * one 64-bit draw per sample (a Box-Muller draw per sample would cost more
 * than the hashing it feeds). */
static int noise(const vouch_image *src, double sigma, vouch__rng *r, vouch_image *out) {
  VOUCH_TRY(new_image(out, src->width, src->height, src->channels));
  /* sum of 4 U[0,65536) has mean 131070 and variance 4 * (65536^2 - 1) / 12. */
  const double mean = 4 * 65535.0 / 2, sd = sqrt(4.0 * (65536.0 * 65536.0 - 1) / 12.0);
  const double k = sigma / sd;
  size_t row = (size_t)src->width * src->channels;
  for (uint32_t y = 0; y < src->height; y++) {
    const uint8_t *s = src->pixels + (size_t)y * src->stride;
    uint8_t *d = out->pixels + (size_t)y * out->stride;
    for (size_t i = 0; i < row; i++) {
      uint64_t b = vouch__rng_next(r);
      double u = (double)((b & 0xffff) + (b >> 16 & 0xffff) + (b >> 32 & 0xffff) + (b >> 48));
      d[i] = clamp_u8(s[i] + (u - mean) * k);
    }
  }
  return VOUCH_OK;
}

/* ------------------------------------------------------------ overlay */

/* A caption block: a rectangle of the given area fraction (4:1 wide when it
 * fits, else as wide as the image), filled with a random colour and lines of
 * blocky 5x7 "glyphs" (random bit patterns) in the complementary colour.  It
 * stands in for text or a logo pasted on a photo; no font is needed. */
static int overlay(const vouch_image *src, double frac, vouch__rng *r, vouch_image *out) {
  VOUCH_TRY(copy_image(src, out));
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  double area = frac * (double)w * h;
  if (area < 1) return VOUCH_OK;
  double rh = sqrt(area / 4), rw = 4 * rh;
  if (rw > w) {
    rw = w;
    rh = area / w;
  }
  if (rh > h) rh = h;
  uint32_t bw = round_side(rw), bh = round_side(rh);
  if (bw > w) bw = w;
  if (bh > h) bh = h;
  uint32_t x0 = vouch__rng_below(r, w - bw + 1), y0 = vouch__rng_below(r, h - bh + 1);
  uint8_t bg[3], fg[3];
  uint64_t cb = vouch__rng_next(r);
  for (int c = 0; c < 3; c++) {
    bg[c] = (uint8_t)(cb >> (8 * c));
    fg[c] = (uint8_t)(255 - bg[c]);
  }
  if (ch == 1) {
    bg[0] = (uint8_t)((77u * bg[0] + 150u * bg[1] + 29u * bg[2] + 128u) >> 8);
    fg[0] = (uint8_t)(255 - bg[0]);
  }
  /* Glyph unit: a line of glyphs is 9 units high (7 + 2 spacing). */
  uint32_t u = bh / 12 > 0 ? bh / 12 : 1;
  if (u > bw / 12 && bw / 12 > 0) u = bw / 12;
  for (uint32_t y = 0; y < bh; y++) {
    uint8_t *d = out->pixels + (size_t)(y0 + y) * out->stride + (size_t)x0 * ch;
    for (uint32_t x = 0; x < bw; x++) memcpy(d + (size_t)x * ch, bg, ch);
  }
  for (uint32_t gy = u; gy + 7 * u <= bh; gy += 9 * u) {
    for (uint32_t gx = u; gx + 5 * u <= bw; gx += 6 * u) {
      uint64_t bits = vouch__rng_next(r); /* 35 bits used */
      for (uint32_t b = 0; b < 35; b++) {
        if (!(bits >> b & 1)) continue;
        uint32_t cx = gx + (b % 5) * u, cy = gy + (b / 5) * u;
        for (uint32_t yy = 0; yy < u; yy++) {
          uint8_t *d = out->pixels + (size_t)(y0 + cy + yy) * out->stride + (size_t)(x0 + cx) * ch;
          for (uint32_t xx = 0; xx < u; xx++) memcpy(d + (size_t)xx * ch, fg, ch);
        }
      }
    }
  }
  return VOUCH_OK;
}

/* ------------------------------------------------------------ the dispatcher */

int vouch_transform_apply(vouch_transformer *tf, const vouch_image *src, const vouch_transform *t,
                          uint64_t seed, vouch_image *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!check_img(src) || !t || !out || !param_ok(t->kind, t->param)) return VOUCH_E_INVALID;
  vouch__rng r = {seed};
  const double p = t->param;
  switch (t->kind) {
  case VOUCH_TF_RESIZE:
    return vouch_image_resample(src, round_side(src->width * p), round_side(src->height * p), out);
  case VOUCH_TF_ASPECT:
    return vouch_image_resample(src, round_side(src->width * p), src->height, out);
  case VOUCH_TF_CROP: return crop(src, p, &r, out);
  case VOUCH_TF_ROTATE: return rotate(src, p, out);
  case VOUCH_TF_MIRROR: return mirror(src, p != 0, out);
  case VOUCH_TF_JPEG:
    if (!tf) return VOUCH_E_INVALID;
    return vouch__jpeg_roundtrip(tf, src, (int)p, out);
  case VOUCH_TF_BRIGHTNESS:
  case VOUCH_TF_CONTRAST:
  case VOUCH_TF_GAMMA: return colour(src, t->kind, p, out);
  case VOUCH_TF_GREY: return grey(src, out);
  case VOUCH_TF_BLUR: return blur(src, (uint32_t)p, out);
  case VOUCH_TF_NOISE: return noise(src, p, &r, out);
  case VOUCH_TF_OVERLAY: return overlay(src, p, &r, out);
  case VOUCH_TF_BORDER: return border(src, p, out);
  default: return VOUCH_E_INVALID;
  }
}
