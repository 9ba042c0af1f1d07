/* src/eval/attack.c -- forged PDQ collisions (include/vouch/attack.h).
 *
 * State: `delta`, one float per pixel, the luma change added to every
 * channel of the source.  Each iteration renders source + delta to 8 bits,
 * hashes the result with the library's own PDQ core (so the hash is the one
 * vouch_hash_image() gives for that image), and moves the DCT coefficients
 * whose bits still disagree with the target to `margin` past the median.
 * The change of the 16x16 DCT is mapped to the image as the sum of the
 * DCT's cosines evaluated at each pixel's position, the minimum-norm change
 * of the 64x64 buffer for that DCT change, smoothed to full resolution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/attack.h"
#include "common/internal.h"
#include "hash/pdq_internal.h"

vouch_attack_params vouch_attack_params_default(void) {
  vouch_attack_params p;
  memset(&p, 0, sizeof p);
  p.radius = 31;
  p.slack = 20;
  p.max_iters = VOUCH_ATTACK_ITERS_DEFAULT;
  p.margin = 0.3f;
  return p;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* The element of rank 127 of 256 values, as PDQ's threshold. */
static float median256(const float c[256]) {
  float s[256];
  memcpy(s, c, sizeof s);
  qsort(s, 256, sizeof s[0], cmp_float);
  return s[127];
}

static int bit_of(const uint8_t h[VOUCH_PDQ_BYTES], int k) { return (h[31 - k / 8] >> (k % 8)) & 1; }

typedef struct {
  int k;
  float cost;
} flip;

static int cmp_flip_desc(const void *a, const void *b) {
  float x = ((const flip *)a)->cost, y = ((const flip *)b)->cost;
  return (x < y) - (x > y);
}

/* Fills dc[256] with the DCT change for this iteration: every mismatched
 * bit but the `slack` costliest goes to margin past the median on the
 * target's side, and matched bits closer than the margin go out to it. */
static void plan_change(const float c[256], const uint8_t target[VOUCH_PDQ_BYTES], unsigned slack,
                        float margin_frac, float dc[256]) {
  const float m = median256(c);
  float dev[256];
  for (int k = 0; k < 256; k++) dev[k] = fabsf(c[k] - m);
  const float eps = margin_frac * median256(dev) + 1e-3f;
  flip mis[256];
  int nmis = 0;
  for (int k = 0; k < 256; k++) {
    int want = bit_of(target, k), have = c[k] > m;
    dc[k] = 0;
    if (want != have) {
      mis[nmis].k = k;
      mis[nmis].cost = dev[k];
      nmis++;
    } else if (dev[k] < eps) {
      dc[k] = (want ? m + eps : m - eps) - c[k];
    }
  }
  qsort(mis, (size_t)nmis, sizeof mis[0], cmp_flip_desc);
  for (int i = (int)slack < nmis ? (int)slack : nmis; i < nmis; i++) {
    int k = mis[i].k;
    dc[k] = (bit_of(target, k) ? m + eps : m - eps) - c[k];
  }
}

/* The reference's DCT row i (frequency i + 1) at continuous position y of n
 * samples: sqrt(2/64) cos(pi (i+1) (y + 0.5) / n).  At the 64 sample
 * centres this is the DCT matrix itself. */
static void basis(uint32_t n, float *out /* n * 16 */) {
  const double pi = 3.14159265358979323846, s = sqrt(2.0 / 64.0);
  for (uint32_t y = 0; y < n; y++)
    for (int i = 0; i < 16; i++) out[(size_t)y * 16 + i] = (float)(s * cos(pi * (i + 1) * (y + 0.5) / n));
}

/* delta += the image-domain pattern of dc, kept where no channel clips. */
static void apply_change(const vouch_image *src, const float dc[256], const float *by, const float *bx,
                         float *rowc, float *delta) {
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  for (uint32_t y = 0; y < h; y++) {
    /* rowc[j] = sum_i dc[i][j] * by_i(y) */
    const float *b = by + (size_t)y * 16;
    for (int j = 0; j < 16; j++) {
      float s = 0;
      for (int i = 0; i < 16; i++) s += dc[i * 16 + j] * b[i];
      rowc[j] = s;
    }
    const uint8_t *p = src->pixels + (size_t)y * src->stride;
    float *d = delta + (size_t)y * w;
    for (uint32_t x = 0; x < w; x++) {
      const float *a = bx + (size_t)x * 16;
      float s = 0;
      for (int j = 0; j < 16; j++) s += rowc[j] * a[j];
      float v = d[x] + s;
      /* no channel may leave [0, 255]: then luma moves by exactly v */
      uint8_t lo = 255, hi = 0;
      for (uint32_t c = 0; c < ch; c++) {
        uint8_t q = p[(size_t)x * ch + c];
        if (q < lo) lo = q;
        if (q > hi) hi = q;
      }
      if (v < -(float)lo) v = -(float)lo;
      if (v > 255.0f - (float)hi) v = 255.0f - (float)hi;
      d[x] = v;
    }
  }
}

static void render(const vouch_image *src, const float *delta, vouch_image *out) {
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *p = src->pixels + (size_t)y * src->stride;
    uint8_t *o = out->pixels + (size_t)y * out->stride;
    const float *d = delta + (size_t)y * w;
    for (uint32_t x = 0; x < w; x++)
      for (uint32_t c = 0; c < ch; c++) {
        float v = (float)p[(size_t)x * ch + c] + d[x];
        long r = lrintf(v);
        o[(size_t)x * ch + c] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
      }
  }
}

static void measure(const vouch_image *src, const vouch_image *out, vouch_attack_result *res) {
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  double se = 0, sa = 0;
  unsigned mx = 0;
  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *p = src->pixels + (size_t)y * src->stride, *o = out->pixels + (size_t)y * out->stride;
    for (size_t i = 0; i < (size_t)w * ch; i++) {
      int dd = (int)o[i] - (int)p[i];
      unsigned a = (unsigned)(dd < 0 ? -dd : dd);
      se += (double)dd * dd;
      sa += a;
      if (a > mx) mx = a;
    }
  }
  double n = (double)w * h * ch;
  res->max_change = mx;
  res->mean_abs_change = sa / n;
  res->psnr = se == 0 ? INFINITY : 10.0 * log10(255.0 * 255.0 / (se / n));
}

typedef struct {
  float dct[16 * 64], buf64[64 * 64], dct16[256];
  float *luma, *scratch;
} hash_work;

static int hash_now(hash_work *hw, const vouch_image *img, uint8_t hash[VOUCH_PDQ_BYTES], int *quality) {
  vouch__luma_from_image(img, hw->luma);
  uint8_t out[1][VOUCH_PDQ_BYTES];
  int rc = vouch__pdq_core(hw->dct, hw->luma, hw->scratch, img->height, img->width, out, 1, quality, hw->buf64,
                           hw->dct16);
  if (rc == VOUCH_OK) memcpy(hash, out[0], VOUCH_PDQ_BYTES);
  return rc;
}

int vouch_attack_pdq(const vouch_image *src, const uint8_t target[VOUCH_PDQ_BYTES], const vouch_attack_params *p,
                     vouch_image *out, vouch_attack_result *res) {
  if (!out) return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  if (!src || !target || !p || !res || !src->pixels) return VOUCH_E_INVALID;
  memset(res, 0, sizeof *res);
  if (src->channels != 1 && src->channels != 3) return VOUCH_E_INVALID;
  if (src->stride < (size_t)src->width * src->channels) return VOUCH_E_INVALID;
  if (p->radius > 128 || p->slack > p->radius || p->max_iters > VOUCH_ATTACK_ITERS_MAX) return VOUCH_E_INVALID;
  if (!(p->margin >= 0 && p->margin <= 10)) return VOUCH_E_INVALID;
  if (src->width < 5 || src->height < 5) return VOUCH_E_IMAGE_TOO_SMALL;
  if ((uint64_t)src->width * src->height > VOUCH_IMAGE_MAX_PIXELS_DEFAULT) return VOUCH_E_LIMIT;
  const unsigned iters = p->max_iters ? p->max_iters : VOUCH_ATTACK_ITERS_DEFAULT;
  const float margin = p->margin > 0 ? p->margin : 0.3f;
  const size_t npix = (size_t)src->width * src->height;

  hash_work hw;
  vouch__pdq_dct_matrix(hw.dct);
  float *fbuf = vouch__malloc(sizeof(float) * (3 * npix + 16 * ((size_t)src->width + src->height) + 16));
  size_t stride = (size_t)src->width * src->channels;
  uint8_t *pix = vouch__malloc(stride * src->height);
  uint8_t *best = vouch__malloc(stride * src->height);
  if (!fbuf || !pix || !best) {
    vouch__free(fbuf);
    vouch__free(pix);
    vouch__free(best);
    return VOUCH_E_NOMEM;
  }
  float *delta = fbuf, *by = delta + npix, *bx = by + 16 * (size_t)src->height, *rowc = bx + 16 * (size_t)src->width;
  hw.luma = rowc + 16;
  hw.scratch = hw.luma + npix;
  memset(delta, 0, sizeof(float) * npix);
  basis(src->height, by);
  basis(src->width, bx);

  *out = *src;
  out->pixels = pix;
  out->stride = stride;
  unsigned best_d = 257;
  int best_q = 0, rc = VOUCH_OK;
  for (unsigned it = 0; it < iters; it++) {
    render(src, delta, out);
    uint8_t h[VOUCH_PDQ_BYTES];
    int q = 0;
    rc = hash_now(&hw, out, h, &q);
    if (rc != VOUCH_OK) break;
    unsigned d = vouch_hamming(h, target, VOUCH_PDQ_BYTES);
    res->iterations = it + 1;
    if (it == 0) res->start_distance = d;
    if (d < best_d) {
      best_d = d;
      best_q = q;
      memcpy(best, pix, stride * src->height);
    }
    if (d <= p->radius) break;
    float dc[256];
    plan_change(hw.dct16, target, p->slack, margin, dc);
    apply_change(src, dc, by, bx, rowc, delta);
  }
  vouch__free(fbuf);
  if (rc != VOUCH_OK) {
    vouch__free(pix);
    vouch__free(best);
    memset(out, 0, sizeof *out);
    return rc;
  }
  memcpy(pix, best, stride * src->height);
  vouch__free(best);
  res->distance = best_d;
  res->quality = best_q;
  res->success = best_d <= p->radius;
  measure(src, out, res);
  return VOUCH_OK;
}
