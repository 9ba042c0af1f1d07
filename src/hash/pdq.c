/*
 * src/hash/pdq.c -- PDQ, bit-exact with Meta's reference (ThreatExchange
 * pdq/cpp, pdqDihedralHash256esFromFloatLuma) on the same float luma.
 *
 * Bit-exactness rules we follow (see shared/testdata/pdq/README.md):
 *  - float32 everywhere the reference uses float, double where it uses
 *    double (decimation indices, the DCT matrix before rounding);
 *  - no FMA contraction (the build passes -ffp-contract=off);
 *  - the same order of operations inside every sum.  We vectorise only
 *    across independent outputs (columns of the box filter, outputs of the
 *    DCT), never inside one sum, so each output sees the very same float
 *    operations in the same order as the reference's scalar loop.
 *
 * Pipeline: luma -> Jarosz tent filter (two passes of a box filter along rows
 * then columns, window ceil(n/128)) -> decimation to 64x64 at cell centres ->
 * quality from the 64x64 gradients -> 16x16 DCT (frequencies 1..16) ->
 * bit set where the coefficient is above the median (rank 128 of 256).
 */
#include <math.h>
#include <string.h>
#include "pdq_internal.h"

/* ------------------------------------------------------------ luma */

void vouch__luma_from_image(const vouch_image *img, float *luma) {
  const uint32_t w = img->width, h = img->height;
  int grey = img->channels == 1;
  if (!grey) {
    grey = 1;
    for (uint32_t y = 0; y < h && grey; y++) {
      const uint8_t *p = img->pixels + (size_t)y * img->stride;
      for (uint32_t x = 0; x < w; x++, p += 3)
        if (p[0] != p[1] || p[1] != p[2]) {
          grey = 0;
          break;
        }
    }
  }
  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *p = img->pixels + (size_t)y * img->stride;
    float *out = luma + (size_t)y * w;
    if (img->channels == 1) {
      for (uint32_t x = 0; x < w; x++)
        out[x] = (float)p[x];
    } else if (grey) {
      for (uint32_t x = 0; x < w; x++)
        out[x] = (float)p[3 * x];
    } else {
      /* Same expression, same order as the reference:
       * (0.299f*R + 0.587f*G) + 0.114f*B, each product in float. */
      for (uint32_t x = 0; x < w; x++)
        out[x] = VOUCH__LUMA_R * (float)p[3 * x] + VOUCH__LUMA_G * (float)p[3 * x + 1] +
                 VOUCH__LUMA_B * (float)p[3 * x + 2];
    }
  }
}

/* ------------------------------------------------------------ Jarosz filter */

int vouch__jarosz_window(int old_dim, int new_dim) {
  return (old_dim + 2 * new_dim - 1) / (2 * new_dim);
}

/* One box pass along each row (stride 1).  Phases as in the reference:
 * (1) accumulate half a window without writing; (2) write while the window
 * grows; (3) full window: add the right edge, subtract the left edge (in that
 * order), write; (4) window shrinks at the end.  Each write divides the
 * running float sum by the current count (a true division, as the reference).
 * We run 8 rows side by side so the loop-carried add chains overlap; each
 * row's own sequence of operations is unchanged. */
static void box_rows_1(const float *in, float *out, int n, int win) {
  const int half = (win + 2) / 2;
  const int p1 = half - 1, p2 = win - half + 1, p3 = n - win, p4 = half - 1;
  float sum = 0.0f;
  int cnt = 0, li = 0, ri = 0, oi = 0;
  for (int i = 0; i < p1; i++) { sum += in[ri++]; cnt++; }
  for (int i = 0; i < p2; i++) { sum += in[ri++]; cnt++; out[oi++] = sum / (float)cnt; }
  for (int i = 0; i < p3; i++) { sum += in[ri++]; sum -= in[li++]; out[oi++] = sum / (float)cnt; }
  for (int i = 0; i < p4; i++) { sum -= in[li++]; cnt--; out[oi++] = sum / (float)cnt; }
}

#define ROWS_AT_ONCE 8
static void box_rows_8(const float *in, float *out, int n, int win, size_t stride) {
  const int half = (win + 2) / 2;
  const int p1 = half - 1, p2 = win - half + 1, p3 = n - win, p4 = half - 1;
  float sum[ROWS_AT_ONCE] = {0};
  int cnt = 0, li = 0, ri = 0, oi = 0;
  for (int i = 0; i < p1; i++, ri++, cnt++)
    for (int r = 0; r < ROWS_AT_ONCE; r++) sum[r] += in[r * stride + ri];
  for (int i = 0; i < p2; i++, ri++, oi++) {
    cnt++;
    float c = (float)cnt;
    for (int r = 0; r < ROWS_AT_ONCE; r++) {
      sum[r] += in[r * stride + ri];
      out[r * stride + oi] = sum[r] / c;
    }
  }
  {
    float c = (float)cnt;
    for (int i = 0; i < p3; i++, ri++, li++, oi++)
      for (int r = 0; r < ROWS_AT_ONCE; r++) {
        sum[r] += in[r * stride + ri];
        sum[r] -= in[r * stride + li];
        out[r * stride + oi] = sum[r] / c;
      }
  }
  for (int i = 0; i < p4; i++, li++, oi++) {
    cnt--;
    float c = (float)cnt;
    for (int r = 0; r < ROWS_AT_ONCE; r++) {
      sum[r] -= in[r * stride + li];
      out[r * stride + oi] = sum[r] / c;
    }
  }
}

static void box_along_rows(const float *in, float *out, int rows, int cols, int win) {
  int i = 0;
  for (; i + ROWS_AT_ONCE <= rows; i += ROWS_AT_ONCE)
    box_rows_8(in + (size_t)i * cols, out + (size_t)i * cols, cols, win, (size_t)cols);
  for (; i < rows; i++)
    box_rows_1(in + (size_t)i * cols, out + (size_t)i * cols, cols, win);
}

/* One box pass down every column at once: the running sums of all columns
 * live in `sum` (cols floats) and each step touches one whole row, so memory
 * is read in order and the inner loops vectorise across columns. */
static void box_along_cols(const float *in, float *out, int rows, int cols, int win, float *sum) {
  const int half = (win + 2) / 2;
  const int p1 = half - 1, p2 = win - half + 1, p3 = rows - win, p4 = half - 1;
  int cnt = 0, li = 0, ri = 0, oi = 0;
  for (int j = 0; j < cols; j++) sum[j] = 0.0f;
  for (int i = 0; i < p1; i++, ri++) {
    const float *a = in + (size_t)ri * cols;
    for (int j = 0; j < cols; j++) sum[j] += a[j];
    cnt++;
  }
  for (int i = 0; i < p2; i++, ri++, oi++) {
    const float *a = in + (size_t)ri * cols;
    float *o = out + (size_t)oi * cols;
    cnt++;
    const float c = (float)cnt;
    for (int j = 0; j < cols; j++) {
      sum[j] += a[j];
      o[j] = sum[j] / c;
    }
  }
  {
    const float c = (float)cnt;
    for (int i = 0; i < p3; i++, ri++, li++, oi++) {
      const float *a = in + (size_t)ri * cols, *b = in + (size_t)li * cols;
      float *o = out + (size_t)oi * cols;
      for (int j = 0; j < cols; j++) {
        sum[j] += a[j];
        sum[j] -= b[j];
        o[j] = sum[j] / c;
      }
    }
  }
  for (int i = 0; i < p4; i++, li++, oi++) {
    const float *b = in + (size_t)li * cols;
    float *o = out + (size_t)oi * cols;
    cnt--;
    const float c = (float)cnt;
    for (int j = 0; j < cols; j++) {
      sum[j] -= b[j];
      o[j] = sum[j] / c;
    }
  }
}

/* ------------------------------------------------------------ DCT */

void vouch__pdq_dct_matrix(float d[16 * 64]) {
  /* The reference: scale = (float)sqrt(2/64); entry = scale * cos(pi/2/64 *
   * (i+1) * (2j+1)) computed in double, then rounded to float. */
  const double pi = 3.14159265358979323846;
  const float scale = (float)sqrt(2.0 / 64.0);
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 64; j++)
      d[i * 64 + j] = (float)((double)scale * cos((pi / 2.0 / 64.0) * (double)(i + 1) * (double)(2 * j + 1)));
}

/* B = D A D^T with A 64x64, D 16x64.  T = D A first (16x64), then B = T D^T.
 * Each output is a sum over k = 0..63 in increasing k, starting from 0.0f,
 * exactly as the reference's unrolled loops. */
static void dct64_to_16(const float d[16 * 64], const float a[64 * 64], float b[16 * 16]) {
  float t[16 * 64];
  float dt[64 * 16]; /* D transposed, so the second product also runs across outputs */
  for (int i = 0; i < 16; i++) {
    float *ti = t + i * 64;
    for (int j = 0; j < 64; j++) ti[j] = 0.0f;
    for (int k = 0; k < 64; k++) {
      const float dik = d[i * 64 + k];
      const float *ak = a + k * 64;
      for (int j = 0; j < 64; j++) ti[j] += dik * ak[j];
    }
  }
  for (int j = 0; j < 16; j++)
    for (int k = 0; k < 64; k++) dt[k * 16 + j] = d[j * 64 + k];
  for (int i = 0; i < 16; i++) {
    float *bi = b + i * 16;
    for (int j = 0; j < 16; j++) bi[j] = 0.0f;
    for (int k = 0; k < 64; k++) {
      const float tik = t[i * 64 + k];
      const float *dk = dt + k * 16;
      for (int j = 0; j < 16; j++) bi[j] += tik * dk[j];
    }
  }
}

/* ------------------------------------------------------------ quality, bits */

/* Heuristic from the reference: sum of quantised absolute gradients of the
 * 64x64 image, divided by 90, capped at 100.  Each term is
 * (int)(((u - v) * 100) / 255) in float, truncated toward zero. */
static int quality_metric(const float a[64 * 64]) {
  int sum = 0;
  for (int i = 0; i < 63; i++)
    for (int j = 0; j < 64; j++) {
      int dd = (int)(((a[i * 64 + j] - a[(i + 1) * 64 + j]) * 100.0f) / 255.0f);
      sum += dd < 0 ? -dd : dd;
    }
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 63; j++) {
      int dd = (int)(((a[i * 64 + j] - a[i * 64 + j + 1]) * 100.0f) / 255.0f);
      sum += dd < 0 ? -dd : dd;
    }
  int q = sum / 90;
  return q > 100 ? 100 : q;
}

/* The element of rank 127 (0-based) of 256 values: what the reference's
 * Torben median returns for an even count (the lower median). */
static float lower_median_256(const float v[256]) {
  float a[256];
  memcpy(a, v, sizeof a);
  int lo = 0, hi = 255;
  const int k = 127;
  while (lo < hi) {
    float pivot = a[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        float tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

static void bits_from_dct(const float c[256], uint8_t out[VOUCH_PDQ_BYTES]) {
  const float median = lower_median_256(c);
  memset(out, 0, VOUCH_PDQ_BYTES);
  for (int k = 0; k < 256; k++)
    if (c[k] > median)
      out[31 - k / 8] |= (uint8_t)(1u << (k % 8));
}

/* Dihedral variants straight from the DCT: a flip negates the odd-frequency
 * (even index, since index i is frequency i+1) rows or columns, a transpose
 * swaps i and j.  The sign patterns are the reference's. */
static void dct_variant(const float a[256], int v, float b[256]) {
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) {
      float x = a[i * 16 + j];
      switch (v) {
      case VOUCH_DIH_ORIGINAL: b[i * 16 + j] = x; break;
      case VOUCH_DIH_ROT90: b[j * 16 + i] = (j & 1) ? x : -x; break;
      case VOUCH_DIH_ROT180: b[i * 16 + j] = ((i + j) & 1) ? -x : x; break;
      case VOUCH_DIH_ROT270: b[j * 16 + i] = (i & 1) ? x : -x; break;
      case VOUCH_DIH_FLIPX: b[i * 16 + j] = (i & 1) ? x : -x; break;
      case VOUCH_DIH_FLIPY: b[i * 16 + j] = (j & 1) ? x : -x; break;
      case VOUCH_DIH_FLIPPLUS1: b[j * 16 + i] = x; break;
      default: b[j * 16 + i] = ((i + j) & 1) ? -x : x; break;
      }
    }
}

/* ------------------------------------------------------------ core */

/* Fast mode: the image was decoded at 1/denom scale (libjpeg-turbo scaled
 * DCT: each scaled pixel is close to the mean of a denom x denom block).  We
 * emulate the full-resolution pipeline instead of running PDQ as if the
 * small image were the original:
 *  - the box windows are the full-resolution windows divided by denom
 *    (rounded, at least 1), so the blur has the same physical width;
 *  - the 64x64 samples are taken where the full-resolution pipeline takes
 *    them.  At full resolution cell i reads pixel p = (int)((i+0.5)*n/64),
 *    whose filtered value is centred at p + 0.5 + e (e = 1 when the window is
 *    even: an even box of 2m covers [i-m+1, i+m], so each pass moves the
 *    centre forward by half a pixel).  We
 *    find the same point in scaled coordinates and interpolate linearly
 *    between the two nearest scaled samples.
 * This is not bit-exact (nothing that skips the full decode can be), but it
 * keeps fast-mode hashes close to --exact; docs/hashing.md has the measured
 * distances. */
static void sample_positions(int n_full, int n_scaled, int denom, int w_full, int w_scaled,
                             int idx0[64], int idx1[64], float frac[64]) {
  const double e_full = (w_full % 2 == 0) ? 1.0 : 0.0, e_scaled = (w_scaled % 2 == 0) ? 1.0 : 0.0;
  for (int i = 0; i < 64; i++) {
    int p = (int)(((i + 0.5) * n_full) / 64);
    double centre = p + 0.5 + e_full;               /* full-resolution coordinate */
    double k = centre / denom - 0.5 - e_scaled;     /* scaled index (fractional) */
    if (k < 0) k = 0;
    if (k > n_scaled - 1) k = n_scaled - 1;
    int k0 = (int)k;
    int k1 = k0 + 1 < n_scaled ? k0 + 1 : k0;
    idx0[i] = k0;
    idx1[i] = k1;
    frac[i] = (float)(k - k0);
  }
}

static int scaled_window(int w_full, int denom) {
  int w = (w_full + denom / 2) / denom;
  return w < 1 ? 1 : w;
}

int vouch__pdq_core(const float dct[16 * 64], float *luma, float *scratch, uint32_t rows,
                    uint32_t cols, uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants,
                    int *quality, float buf64[64 * 64], float dct16[16 * 16]) {
  return vouch__pdq_core_scaled(dct, luma, scratch, rows, cols, rows, cols, 1, out, n_variants,
                                quality, buf64, dct16);
}

int vouch__pdq_core_scaled(const float dct[16 * 64], float *luma, float *scratch, uint32_t rows,
                           uint32_t cols, uint32_t full_rows, uint32_t full_cols, int denom,
                           uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants, int *quality,
                           float buf64[64 * 64], float dct16[16 * 16]) {
  if (!luma || !scratch || !out || (n_variants != 1 && n_variants != VOUCH_DIHEDRAL_N) || denom < 1)
    return VOUCH_E_INVALID;
  if (denom == 1) {
    full_rows = rows;
    full_cols = cols;
  }
  if (full_rows < VOUCH_PDQ_MIN_SIDE || full_cols < VOUCH_PDQ_MIN_SIDE) {
    /* The reference's answer for tiny images: all-zero hashes, quality 0. */
    for (unsigned v = 0; v < n_variants; v++) memset(out[v], 0, VOUCH_PDQ_BYTES);
    if (quality) *quality = 0;
    return VOUCH_OK;
  }
  if (rows == 0 || cols == 0 || full_rows > (uint32_t)INT32_MAX / 2 || full_cols > (uint32_t)INT32_MAX / 2)
    return VOUCH_E_INVALID;
  const int r = (int)rows, c = (int)cols;
  const int wr_full = vouch__jarosz_window((int)full_cols, 64); /* window along each row */
  const int wc_full = vouch__jarosz_window((int)full_rows, 64); /* window along each column */
  const int win_rows = denom == 1 ? wr_full : scaled_window(wr_full, denom);
  const int win_cols = denom == 1 ? wc_full : scaled_window(wc_full, denom);
  float *colsum = vouch__malloc((size_t)c * sizeof(float));
  if (!colsum) return VOUCH_E_NOMEM;
  for (int pass = 0; pass < 2; pass++) {
    box_along_rows(luma, scratch, r, c, win_rows);
    box_along_cols(scratch, luma, r, c, win_cols, colsum);
  }
  vouch__free(colsum);
  if (denom == 1) {
    /* Decimate: sample each 64x64 cell at its centre, indices in double. */
    for (int oi = 0; oi < 64; oi++) {
      int ii = (int)(((oi + 0.5) * r) / 64);
      for (int oj = 0; oj < 64; oj++) {
        int jj = (int)(((oj + 0.5) * c) / 64);
        buf64[oi * 64 + oj] = luma[(size_t)ii * c + jj];
      }
    }
  } else {
    int y0[64], y1[64], x0[64], x1[64];
    float fy[64], fx[64];
    sample_positions((int)full_rows, r, denom, wc_full, win_cols, y0, y1, fy);
    sample_positions((int)full_cols, c, denom, wr_full, win_rows, x0, x1, fx);
    for (int oi = 0; oi < 64; oi++) {
      const float *ra = luma + (size_t)y0[oi] * c, *rb = luma + (size_t)y1[oi] * c;
      for (int oj = 0; oj < 64; oj++) {
        float top = ra[x0[oj]] + fx[oj] * (ra[x1[oj]] - ra[x0[oj]]);
        float bot = rb[x0[oj]] + fx[oj] * (rb[x1[oj]] - rb[x0[oj]]);
        buf64[oi * 64 + oj] = top + fy[oi] * (bot - top);
      }
    }
  }
  int q = quality_metric(buf64);
  dct64_to_16(dct, buf64, dct16);
  for (unsigned v = 0; v < n_variants; v++) {
    if (v == 0) {
      bits_from_dct(dct16, out[0]);
    } else {
      float tmp[256];
      dct_variant(dct16, (int)v, tmp);
      bits_from_dct(tmp, out[v]);
    }
  }
  if (quality) *quality = q;
  return VOUCH_OK;
}

int vouch_pdq_from_luma(float *luma, float *scratch, uint32_t rows, uint32_t cols,
                        uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants, int *quality) {
  float dct[16 * 64], buf64[64 * 64], dct16[256];
  vouch__pdq_dct_matrix(dct);
  return vouch__pdq_core(dct, luma, scratch, rows, cols, out, n_variants, quality, buf64, dct16);
}
