/* src/hash/derivative.c -- the second hash on a visual derivative
 * (include/vouch/hash.h): a whitened, normalised vector of the derivative's
 * low-frequency DCT coefficients, compared by cosine similarity.
 *
 * Frequency k on an n-sample axis is k half-cycles across the image (the
 * DCT-II basis cos(pi k (x + 0.5) / n)), so a 64x48 derivative and a 64x64
 * one are read at the same frequencies.  Coefficient (u, v), u vertical and
 * v horizontal, is the mean over the derivative of value * cos_u(y) *
 * cos_v(x); we keep u, v in 0..K-1 but (0, 0) (brightness), weight each by
 * sqrt(u^2 + v^2) (natural images' spectra fall about as 1/f, so this gives
 * every frequency a similar say), and scale the vector so its largest
 * element is +-127.  Contrast scales the whole vector and brightness lives
 * in (0, 0), so neither changes the descriptor. */
#include <math.h>
#include <string.h>
#include "vouch/hash.h"
#include "common/internal.h"
#include "pdq_internal.h"

#define K VOUCH__DERIV_K
#define N VOUCH__DERIV_N

void vouch__derivative_coeffs(const uint8_t *thumb, unsigned w, unsigned h, double c[N]) {
  const double pi = 3.14159265358979323846;
  double cx[K][64], cy[K][64], r[64][K];
  for (int k = 0; k < K; k++) {
    for (unsigned x = 0; x < w; x++) cx[k][x] = cos(pi * k * (x + 0.5) / w);
    for (unsigned y = 0; y < h; y++) cy[k][y] = cos(pi * k * (y + 0.5) / h);
  }
  for (unsigned y = 0; y < h; y++)
    for (int v = 0; v < K; v++) {
      double s = 0;
      for (unsigned x = 0; x < w; x++) s += thumb[(size_t)y * w + x] * cx[v][x];
      r[y][v] = s / w;
    }
  for (int i = 0; i < N; i++) {
    int u = (i + 1) / K, v = (i + 1) % K;
    double s = 0;
    for (unsigned y = 0; y < h; y++) s += r[y][v] * cy[u][y];
    c[i] = s / h;
  }
}

double vouch__derivative_weight(int i) {
  int u = (i + 1) / K, v = (i + 1) % K;
  return sqrt((double)(u * u + v * v));
}

int vouch_derivative_hash(const uint8_t *thumb, unsigned w, unsigned h, uint8_t out[VOUCH_DERIV_HASH_BYTES]) {
  if (!thumb || !out || w < 1 || h < 1 || w > 64 || h > 64) return VOUCH_E_INVALID;
  double c[N], mx = 0;
  vouch__derivative_coeffs(thumb, w, h, c);
  for (int i = 0; i < N; i++) {
    c[i] *= vouch__derivative_weight(i);
    if (fabs(c[i]) > mx) mx = fabs(c[i]);
  }
  memset(out, 0, VOUCH_DERIV_HASH_BYTES);
  out[0] = VOUCH_DERIV_HASH_VERSION;
  /* a flat derivative (no structure at all) keeps an all-zero vector */
  if (mx < 1e-9) return VOUCH_OK;
  for (int i = 0; i < N; i++) out[1 + i] = (uint8_t)(int8_t)lrint(c[i] * 127.0 / mx);
  return VOUCH_OK;
}

int vouch_derivative_score(const uint8_t a[VOUCH_DERIV_HASH_BYTES], const uint8_t b[VOUCH_DERIV_HASH_BYTES]) {
  if (!a || !b || a[0] != VOUCH_DERIV_HASH_VERSION || b[0] != VOUCH_DERIV_HASH_VERSION) return -1;
  long long ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < N; i++) {
    int x = (int8_t)a[1 + i], y = (int8_t)b[1 + i];
    ab += (long long)x * y;
    aa += (long long)x * x;
    bb += (long long)y * y;
  }
  if (aa == 0 || bb == 0) return 0;
  double cs = (double)ab / sqrt((double)aa * (double)bb);
  return cs <= 0 ? 0 : (int)lrint(cs * 1000.0);
}

int vouch_derivative_verdict(const uint8_t *thumb, unsigned w, unsigned h, const uint8_t *entry, int *score) {
  uint8_t mine[VOUCH_DERIV_HASH_BYTES];
  int sc = -1;
  if (thumb && entry && w && h && vouch_derivative_hash(thumb, w, h, mine) == VOUCH_OK)
    sc = vouch_derivative_score(mine, entry);
  if (score) *score = sc;
  if (sc < 0) return VOUCH_DERIV_UNKNOWN;
  return sc >= VOUCH_DERIV_PASS_MIN ? VOUCH_DERIV_PASS : VOUCH_DERIV_FAIL;
}
