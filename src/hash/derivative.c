/* src/hash/derivative.c -- vouch_derivative_hash(): the second hash, on the
 * derivative's DCT outside PDQ's frequencies (include/vouch/hash.h).
 *
 * Frequency k on an n-sample axis is k half-cycles across the image (the
 * DCT-II basis cos(pi k (x + 0.5) / n)), so a 64x48 derivative and a 64x64
 * one are read at the same frequencies.  The 256 coefficients (u, v), u the
 * vertical and v the horizontal frequency, are those with u = 0 or v = 0
 * (not both) or max(u, v) >= 17, in increasing max(u, v), then u + v, then
 * u: the first row and column up to 16 and the band max(u, v) = 17..22.
 * PDQ reads u, v in 1..16 only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/hash.h"
#include "common/internal.h"
#include "pdq_internal.h"

#define MAXF 23 /* frequencies 0..22 */

typedef struct {
  unsigned char u, v;
} uv;

static int cmp_uv(const void *a, const void *b) {
  const uv *x = a, *y = b;
  int mx = x->u > x->v ? x->u : x->v, my = y->u > y->v ? y->u : y->v;
  if (mx != my) return mx - my;
  if (x->u + x->v != y->u + y->v) return (x->u + x->v) - (y->u + y->v);
  return (int)x->u - (int)y->u;
}

static void band(uv sel[256]) {
  uv all[MAXF * MAXF];
  int n = 0;
  for (int u = 0; u < MAXF; u++)
    for (int v = 0; v < MAXF; v++) {
      int pdq = u >= 1 && u <= 16 && v >= 1 && v <= 16;
      if ((u == 0 && v == 0) || pdq) continue;
      all[n].u = (unsigned char)u;
      all[n].v = (unsigned char)v;
      n++;
    }
  qsort(all, (size_t)n, sizeof all[0], cmp_uv);
  memcpy(sel, all, 256 * sizeof all[0]);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void vouch__derivative_band(const uint8_t *thumb, unsigned w, unsigned h, double val[256], unsigned char u[256],
                            unsigned char v[256]) {
  const double pi = 3.14159265358979323846;
  double cx[MAXF][64], cy[MAXF][64], r[64][MAXF], c[MAXF][MAXF];
  for (int k = 0; k < MAXF; k++) {
    for (unsigned x = 0; x < w; x++) cx[k][x] = cos(pi * k * (x + 0.5) / w);
    for (unsigned y = 0; y < h; y++) cy[k][y] = cos(pi * k * (y + 0.5) / h);
  }
  for (unsigned y = 0; y < h; y++)
    for (int f = 0; f < MAXF; f++) {
      double s = 0;
      for (unsigned x = 0; x < w; x++) s += thumb[(size_t)y * w + x] * cx[f][x];
      r[y][f] = s / w;
    }
  for (int a = 0; a < MAXF; a++)
    for (int b = 0; b < MAXF; b++) {
      double s = 0;
      for (unsigned y = 0; y < h; y++) s += r[y][b] * cy[a][y];
      c[a][b] = s / h;
    }
  uv sel[256];
  band(sel);
  for (int i = 0; i < 256; i++) {
    val[i] = c[sel[i].u][sel[i].v];
    u[i] = sel[i].u;
    v[i] = sel[i].v;
  }
}

int vouch_derivative_hash(const uint8_t *thumb, unsigned w, unsigned h, uint8_t out[VOUCH_DERIV_HASH_BYTES]) {
  if (!thumb || !out || w < 1 || h < 1 || w > 64 || h > 64) return VOUCH_E_INVALID;
  double val[256], sorted[256];
  unsigned char u[256], v[256];
  vouch__derivative_band(thumb, w, h, val, u, v);
  memcpy(sorted, val, sizeof sorted);
  qsort(sorted, 256, sizeof sorted[0], cmp_double);
  const double median = sorted[127];
  memset(out, 0, VOUCH_DERIV_HASH_BYTES);
  for (int i = 0; i < 256; i++)
    if (val[i] > median) out[31 - i / 8] |= (uint8_t)(1u << (i % 8));
  return VOUCH_OK;
}
