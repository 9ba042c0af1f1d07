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
#include "vouch/psi.h"
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

static int bit_of(const uint8_t h[32], int k) { return (h[31 - k / 8] >> (k % 8)) & 1; }

typedef struct {
  int k;
  float cost;
} flip;

static int cmp_flip_desc(const void *a, const void *b) {
  float x = ((const flip *)a)->cost, y = ((const flip *)b)->cost;
  return (x < y) - (x > y);
}

/* Fills dc[256] with the change of 256 coefficients c (a hash's inputs,
 * thresholded at their median): every mismatched bit but the `slack`
 * costliest goes to margin past the median on the target's side, and
 * matched bits closer than the margin go out to it. */
static void plan_change(const float c[256], const uint8_t target[32], unsigned slack, float margin_frac,
                        float dc[256]) {
  const float m = vouch__pdq_lower_median(c);
  float dev[256];
  for (int k = 0; k < 256; k++) dev[k] = fabsf(c[k] - m);
  const float eps = margin_frac * vouch__pdq_lower_median(dev) + 1e-3f;
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

/* cos(pi k (y + 0.5) / n) for k = 0..NF-1 at every position y of n: at
 * the 64 sample centres, k = 1..16 times sqrt(2/64) is the DCT matrix of
 * PDQ; k = 0..22 are the second hash's frequencies on the derivative. */
#define NF 23
static void basis(uint32_t n, float *out /* n * NF */) {
  const double pi = 3.14159265358979323846;
  for (uint32_t y = 0; y < n; y++)
    for (int k = 0; k < NF; k++) out[(size_t)y * NF + k] = (float)cos(pi * k * (y + 0.5) / n);
}

/* delta += sum over (k, l) of a[k][l] cos_k(y) cos_l(x), kept where no
 * channel clips. */
static void apply_change(const vouch_image *src, const float a[NF * NF], const float *by, const float *bx,
                         float *rowc, float *delta) {
  const uint32_t w = src->width, h = src->height, ch = src->channels;
  for (uint32_t y = 0; y < h; y++) {
    /* rowc[l] = sum_k a[k][l] * cos_k(y) */
    const float *b = by + (size_t)y * NF;
    for (int l = 0; l < NF; l++) {
      float s = 0;
      for (int k = 0; k < NF; k++) s += a[k * NF + l] * b[k];
      rowc[l] = s;
    }
    const uint8_t *p = src->pixels + (size_t)y * src->stride;
    float *d = delta + (size_t)y * w;
    for (uint32_t x = 0; x < w; x++) {
      const float *c = bx + (size_t)x * NF;
      float s = 0;
      for (int l = 0; l < NF; l++) s += rowc[l] * c[l];
      float v = d[x] + s;
      /* no channel may leave [0, 255]: then luma moves by exactly v */
      uint8_t lo = 255, hi = 0;
      for (uint32_t k = 0; k < ch; k++) {
        uint8_t q = p[(size_t)x * ch + k];
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

/* The second hash's coefficients of the image's derivative, made as a
 * voucher's payload makes it, and its score against the target. */
static int second_now(const vouch_image *img, const uint8_t target[VOUCH_DERIV_HASH_BYTES],
                      double c[VOUCH__DERIV_N], int *score) {
  static const uint8_t zero[VOUCH_PDQ_BYTES];
  vouch_psi_payload pl;
  uint8_t mine[VOUCH_DERIV_HASH_BYTES];
  VOUCH_TRY(vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, zero, VOUCH_PDQ_BYTES, img));
  vouch__derivative_coeffs(pl.thumb, pl.thumb_w, pl.thumb_h, c);
  VOUCH_TRY(vouch_derivative_hash(pl.thumb, pl.thumb_w, pl.thumb_h, mine));
  *score = vouch_derivative_score(mine, target);
  return VOUCH_OK;
}

/* Adds to a[] the pattern that turns the derivative's weighted coefficient
 * vector x towards the target's direction t: x* = s t + k r, where s is x's
 * component along t (at least half of |x|) and r the rest, scaled by k so
 * that the cosine reaches `aim`.  A pattern of amplitude A at (u, v) moves
 * that coefficient by A times the mean of cos^2 on each axis (1 at
 * frequency 0, 1/2 else). */
static void plan_second(const double c[VOUCH__DERIV_N], const uint8_t target[VOUCH_DERIV_HASH_BYTES], double aim,
                        float *a) {
  double x[VOUCH__DERIV_N], t[VOUCH__DERIV_N], tt = 0, xx = 0, xt = 0;
  for (int i = 0; i < VOUCH__DERIV_N; i++) {
    x[i] = c[i] * vouch__derivative_weight(i);
    t[i] = (int8_t)target[1 + i];
    tt += t[i] * t[i];
    xx += x[i] * x[i];
  }
  if (tt == 0 || xx == 0) return;
  for (int i = 0; i < VOUCH__DERIV_N; i++) {
    t[i] /= sqrt(tt);
    xt += x[i] * t[i];
  }
  double s = xt > 0.5 * sqrt(xx) ? xt : 0.5 * sqrt(xx);
  double rr = xx - xt * xt, k = 1;
  if (rr > 1e-12) {
    k = s * sqrt(1.0 / (aim * aim) - 1.0) / sqrt(rr);
    if (k > 1) k = 1;
  }
  for (int i = 0; i < VOUCH__DERIV_N; i++) {
    double want = s * t[i] + k * (x[i] - xt * t[i]);
    int u = (i + 1) / VOUCH__DERIV_K, v = (i + 1) % VOUCH__DERIV_K;
    double nu = u ? 0.5 : 1.0, nv = v ? 0.5 : 1.0;
    a[u * NF + v] += (float)((want - x[i]) / vouch__derivative_weight(i) / (nu * nv));
  }
}

static unsigned excess(unsigned d, unsigned r) { return d > r ? d - r : 0; }

int vouch_attack_pdq(const vouch_image *src, const uint8_t target[VOUCH_PDQ_BYTES], const vouch_attack_params *p,
                     vouch_image *out, vouch_attack_result *res) {
  if (!out) return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  if (!src || !target || !p || !res || !src->pixels) return VOUCH_E_INVALID;
  memset(res, 0, sizeof *res);
  res->second_score = -1;
  if (src->channels != 1 && src->channels != 3) return VOUCH_E_INVALID;
  if (src->stride < (size_t)src->width * src->channels) return VOUCH_E_INVALID;
  if (p->radius > 128 || p->slack > p->radius || p->max_iters > VOUCH_ATTACK_ITERS_MAX) return VOUCH_E_INVALID;
  if (p->second_target && (p->second_min < 0 || p->second_min > 1000)) return VOUCH_E_INVALID;
  if (!(p->margin >= 0 && p->margin <= 10)) return VOUCH_E_INVALID;
  if (src->width < 5 || src->height < 5) return VOUCH_E_IMAGE_TOO_SMALL;
  if ((uint64_t)src->width * src->height > VOUCH_IMAGE_MAX_PIXELS_DEFAULT) return VOUCH_E_LIMIT;
  const unsigned iters = p->max_iters ? p->max_iters : VOUCH_ATTACK_ITERS_DEFAULT;
  const float margin = p->margin > 0 ? p->margin : 0.3f;
  const size_t npix = (size_t)src->width * src->height;

  hash_work hw;
  vouch__pdq_dct_matrix(hw.dct);
  float *fbuf = vouch__malloc(sizeof(float) * (3 * npix + NF * ((size_t)src->width + src->height) + NF));
  size_t stride = (size_t)src->width * src->channels;
  uint8_t *pix = vouch__malloc(stride * src->height);
  uint8_t *best = vouch__malloc(stride * src->height);
  if (!fbuf || !pix || !best) {
    vouch__free(fbuf);
    vouch__free(pix);
    vouch__free(best);
    return VOUCH_E_NOMEM;
  }
  float *delta = fbuf, *by = delta + npix, *bx = by + NF * (size_t)src->height, *rowc = bx + NF * (size_t)src->width;
  hw.luma = rowc + NF;
  hw.scratch = hw.luma + npix;
  memset(delta, 0, sizeof(float) * npix);
  basis(src->height, by);
  basis(src->width, bx);
  const float pdq_scale = 2.0f / 64.0f; /* sqrt(2/64) on each axis */

  *out = *src;
  out->pixels = pix;
  out->stride = stride;
  unsigned best_score = UINT32_MAX, best_d = 0;
  int best_q = 0, best_s2 = -1, rc = VOUCH_OK;
  for (unsigned it = 0; it < iters; it++) {
    render(src, delta, out);
    uint8_t h[VOUCH_PDQ_BYTES];
    double c2[VOUCH__DERIV_N];
    int q = 0, s2 = 1000;
    rc = hash_now(&hw, out, h, &q);
    if (rc == VOUCH_OK && p->second_target) rc = second_now(out, p->second_target, c2, &s2);
    if (rc != VOUCH_OK) break;
    unsigned d = vouch_hamming(h, target, VOUCH_PDQ_BYTES);
    res->iterations = it + 1;
    if (it == 0) res->start_distance = d;
    unsigned score = excess(d, p->radius) + (p->second_target ? excess((unsigned)(1000 - s2), (unsigned)(1000 - p->second_min)) : 0);
    if (score < best_score) {
      best_score = score;
      best_d = d;
      best_s2 = p->second_target ? s2 : -1;
      best_q = q;
      memcpy(best, pix, stride * src->height);
    }
    if (score == 0) break;
    float a[NF * NF], dc[256];
    memset(a, 0, sizeof a);
    plan_change(hw.dct16, target, p->slack, margin, dc);
    for (int i = 0; i < 16; i++)
      for (int j = 0; j < 16; j++) a[(i + 1) * NF + (j + 1)] = dc[i * 16 + j] * pdq_scale;
    if (p->second_target && s2 < p->second_min) {
      double aim = (p->second_min + 1000) / 2000.0;
      plan_second(c2, p->second_target, aim, a);
    }
    apply_change(src, a, by, bx, rowc, delta);
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
  res->second_score = best_s2;
  res->quality = best_q;
  res->success = best_score == 0;
  measure(src, out, res);
  return VOUCH_OK;
}
