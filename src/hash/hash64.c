/*
 * src/hash/hash64.c -- the 64-bit hashes: aHash, dHash, pHash.
 *
 * All three start from the same luma plane as PDQ (BT.601 weights, float)
 * and shrink it with an exact area average (each output cell is the mean of
 * the source area it covers, partial pixels weighted by their overlap;
 * computed as exact integer-weighted sums, see area_resample()).
 * Definitions (bit k is written most significant bit first: byte k/8,
 * bit 7 - k%8, so the hex text reads the grid row by row, as the common
 * Python `imagehash` package prints its hashes):
 *
 *   aHash  8x8 area grid; bit k = (cell k > mean of the 64 cells).
 *   dHash  9 wide x 8 high area grid; bit (y,x) = (cell(y,x+1) > cell(y,x)),
 *          k = 8y + x.
 *   pHash  32x32 area grid; orthonormal 2D DCT-II; coefficients (u,v) with
 *          u,v in 1..8 (the DC row and column are skipped, as in pHash.org
 *          and PDQ); bit k = 8(u-1) + (v-1) set when the coefficient is above
 *          the median of the 64 (the mean of the 32nd and 33rd values).
 *
 * Dihedral variants are the hash of the rotated/flipped image.  Since area
 * averaging commutes with those transforms, we transform the small grid
 * instead of the image (dHash's grid is not square, so the transposing
 * variants start from an 8-wide x 9-high grid).  Variant meanings follow
 * PDQ's: rot90 turns the image 90 degrees counter-clockwise; flipx turns it
 * upside down; flipy mirrors left-right; flipplus1 transposes; flipminus1
 * is the anti-transpose.  Everything is in double, so results do not depend
 * on vectorisation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pdq_internal.h"

/* Area-sum resample of a rows x cols float plane to h x w (doubles).
 * Output cell (r, c) covers the source rectangle [c*cols/w, (c+1)*cols/w) x
 * [r*rows/h, (r+1)*rows/h).  Measured in units of 1/w of a pixel (1/h
 * vertically), every boundary is an integer, so each pixel's overlap with a
 * cell is an exact integer weight.  We keep the weighted *sums*: every cell
 * has the same total weight (cols*rows), so comparisons between cells -- all
 * the hashes need -- are unaffected, and for integer luma (grey images) every
 * value is an exact integer in double, with no rounding at all. */
static int area_resample(const float *in, uint32_t rows, uint32_t cols, double *out, uint32_t h,
                         uint32_t w) {
  double *tmp = vouch__malloc((size_t)rows * w * sizeof(double));
  if (!tmp) return VOUCH_E_NOMEM;
  for (uint32_t c = 0; c < w; c++) {
    const uint64_t c0 = (uint64_t)c * cols, c1 = (uint64_t)(c + 1) * cols;
    const uint32_t a = (uint32_t)(c0 / w), b = (uint32_t)((c1 + w - 1) / w);
    for (uint32_t r = 0; r < rows; r++) {
      const float *row = in + (size_t)r * cols;
      double acc = 0;
      for (uint32_t x = a; x < b && x < cols; x++) {
        uint64_t lo = (uint64_t)x * w > c0 ? (uint64_t)x * w : c0;
        uint64_t hi = (uint64_t)(x + 1) * w < c1 ? (uint64_t)(x + 1) * w : c1;
        acc += (double)row[x] * (double)(hi - lo);
      }
      tmp[(size_t)r * w + c] = acc;
    }
  }
  for (uint32_t r = 0; r < h; r++) {
    const uint64_t r0 = (uint64_t)r * rows, r1 = (uint64_t)(r + 1) * rows;
    const uint32_t a = (uint32_t)(r0 / h), b = (uint32_t)((r1 + h - 1) / h);
    for (uint32_t c = 0; c < w; c++) {
      double acc = 0;
      for (uint32_t y = a; y < b && y < rows; y++) {
        uint64_t lo = (uint64_t)y * h > r0 ? (uint64_t)y * h : r0;
        uint64_t hi = (uint64_t)(y + 1) * h < r1 ? (uint64_t)(y + 1) * h : r1;
        acc += tmp[(size_t)y * w + c] * (double)(hi - lo);
      }
      out[r * w + c] = acc;
    }
  }
  vouch__free(tmp);
  return VOUCH_OK;
}

static int transposes(int v) {
  return v == VOUCH_DIH_ROT90 || v == VOUCH_DIH_ROT270 || v == VOUCH_DIH_FLIPPLUS1 ||
         v == VOUCH_DIH_FLIPMINUS1;
}

/* g is H x W; writes the transformed grid (W x H when the variant transposes). */
static void grid_transform(const double *g, uint32_t H, uint32_t W, int v, double *o) {
  const uint32_t oh = transposes(v) ? W : H, ow = transposes(v) ? H : W;
  for (uint32_t y = 0; y < oh; y++)
    for (uint32_t x = 0; x < ow; x++) {
      uint32_t sy, sx;
      switch (v) {
      case VOUCH_DIH_ROT90: sy = x; sx = W - 1 - y; break;
      case VOUCH_DIH_ROT180: sy = H - 1 - y; sx = W - 1 - x; break;
      case VOUCH_DIH_ROT270: sy = H - 1 - x; sx = y; break;
      case VOUCH_DIH_FLIPX: sy = H - 1 - y; sx = x; break;
      case VOUCH_DIH_FLIPY: sy = y; sx = W - 1 - x; break;
      case VOUCH_DIH_FLIPPLUS1: sy = x; sx = y; break;
      case VOUCH_DIH_FLIPMINUS1: sy = H - 1 - x; sx = W - 1 - y; break;
      default: sy = y; sx = x; break;
      }
      o[y * ow + x] = g[sy * W + sx];
    }
}

static void set_bit(uint8_t out[8], unsigned k) { out[k / 8] |= (uint8_t)(0x80u >> (k % 8)); }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void ahash_bits(const double g[64], uint8_t out[8]) {
  /* cell > mean  <=>  64 * cell > sum: no division, exact for integer sums */
  double sum = 0;
  for (int k = 0; k < 64; k++) sum += g[k];
  memset(out, 0, 8);
  for (unsigned k = 0; k < 64; k++)
    if (64.0 * g[k] > sum) set_bit(out, k);
}

static void dhash_bits(const double g[72] /* 8 rows x 9 cols */, uint8_t out[8]) {
  memset(out, 0, 8);
  for (unsigned y = 0; y < 8; y++)
    for (unsigned x = 0; x < 8; x++)
      if (g[y * 9 + x + 1] > g[y * 9 + x]) set_bit(out, y * 8 + x);
}

static void phash_bits(const double g[32 * 32], uint8_t out[8]) {
  /* Orthonormal DCT-II: C(u,v) = a(u) a(v) sum_y sum_x g(y,x) cos(pi(2y+1)u/64) cos(pi(2x+1)v/64).
   * The constant factors a(u)a(v) are positive for u,v >= 1 and do not change
   * the comparison with the median, but we keep them for clarity. */
  double cosv[9][32];
  for (int u = 1; u <= 8; u++)
    for (int x = 0; x < 32; x++) cosv[u][x] = cos(3.14159265358979323846 * (2 * x + 1) * u / 64.0);
  double rowt[32][9]; /* rowt[y][v] = sum_x g(y,x) cos(.. v ..) */
  for (int y = 0; y < 32; y++)
    for (int v = 1; v <= 8; v++) {
      double acc = 0;
      for (int x = 0; x < 32; x++) acc += g[y * 32 + x] * cosv[v][x];
      rowt[y][v] = acc;
    }
  double c[64], sorted[64];
  const double a = sqrt(2.0 / 32.0);
  for (int u = 1; u <= 8; u++)
    for (int v = 1; v <= 8; v++) {
      double acc = 0;
      for (int y = 0; y < 32; y++) acc += rowt[y][v] * cosv[u][y];
      c[(u - 1) * 8 + (v - 1)] = a * a * acc;
    }
  memcpy(sorted, c, sizeof sorted);
  qsort(sorted, 64, sizeof(double), cmp_double);
  const double median = (sorted[31] + sorted[32]) / 2;
  memset(out, 0, 8);
  for (unsigned k = 0; k < 64; k++)
    if (c[k] > median) set_bit(out, k);
}

int vouch__hash64_from_luma(int algo, const float *luma, uint32_t rows, uint32_t cols,
                            uint8_t (*out)[VOUCH_HASH64_BYTES], unsigned n_variants) {
  double grid[32 * 32], grid_t[32 * 32], tr[32 * 32];
  if (!luma || rows == 0 || cols == 0 || (n_variants != 1 && n_variants != VOUCH_DIHEDRAL_N))
    return VOUCH_E_INVALID;
  switch (algo) {
  case VOUCH_ALGO_AHASH:
    VOUCH_TRY(area_resample(luma, rows, cols, grid, 8, 8));
    for (unsigned v = 0; v < n_variants; v++) {
      grid_transform(grid, 8, 8, (int)v, tr);
      ahash_bits(tr, out[v]);
    }
    return VOUCH_OK;
  case VOUCH_ALGO_DHASH:
    VOUCH_TRY(area_resample(luma, rows, cols, grid, 8, 9));
    if (n_variants > 1) VOUCH_TRY(area_resample(luma, rows, cols, grid_t, 9, 8));
    for (unsigned v = 0; v < n_variants; v++) {
      if (transposes((int)v))
        grid_transform(grid_t, 9, 8, (int)v, tr); /* 9 high x 8 wide -> 8 high x 9 wide */
      else
        grid_transform(grid, 8, 9, (int)v, tr);
      dhash_bits(tr, out[v]);
    }
    return VOUCH_OK;
  case VOUCH_ALGO_PHASH:
    VOUCH_TRY(area_resample(luma, rows, cols, grid, 32, 32));
    for (unsigned v = 0; v < n_variants; v++) {
      grid_transform(grid, 32, 32, (int)v, tr);
      phash_bits(tr, out[v]);
    }
    return VOUCH_OK;
  default:
    return VOUCH_E_INVALID;
  }
}
