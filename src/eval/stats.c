/* src/eval/stats.c -- percentiles, binomial tails, confidence bounds and the
 * per-account risk model.
 *
 * The probabilities of interest go far below what a double can hold
 * (1e-12 is the 2021 claim; a tail at a threshold of 30 can be 1e-200), so
 * everything is summed in log space.  We build ln C(n, k) by adding
 * ln(n - i) - ln(i + 1) term by term instead of calling lgamma(): lgamma
 * writes the global `signgam`, which a library used from several threads
 * must not touch, and the sums involved here are short. */
#include <math.h>
#include "eval_internal.h"

long vouch_hist_percentile(const uint64_t *hist, size_t nbins, double frac) {
  if (!hist || nbins == 0) return -1;
  uint64_t total = 0;
  for (size_t i = 0; i < nbins; i++) total += hist[i];
  if (total == 0) return -1;
  if (!(frac >= 0)) frac = 0;
  if (frac > 1) frac = 1;
  double want_d = ceil(frac * (double)total);
  uint64_t want = want_d < 1 ? 1 : (uint64_t)want_d;
  if (want > total) want = total;
  uint64_t cum = 0;
  for (size_t i = 0; i < nbins; i++) {
    cum += hist[i];
    if (cum >= want) return (long)i;
  }
  return (long)(nbins - 1);
}

/* ln C(n, k) for k <= n. */
static double log_choose(uint64_t n, uint64_t k) {
  if (k > n - k) k = n - k;
  double s = 0;
  for (uint64_t i = 0; i < k; i++) s += log((double)(n - i)) - log((double)(i + 1));
  return s;
}

/* Adds e^term to the running sum e^mx * s. */
static void lse_add(double *mx, double *s, double term) {
  if (term == -INFINITY) return;
  if (*mx == -INFINITY) {
    *mx = term;
    *s = 1;
  } else if (term > *mx) {
    *s = *s * exp(*mx - term) + 1;
    *mx = term;
  } else {
    *s += exp(term - *mx);
  }
}

/* Terms past the mode shrink geometrically; once a term is e^-50 below the
 * largest, the rest cannot change the sum in double precision unless the
 * ratio is within 1e-6 of 1, and then the terms are still near the largest. */
#define LSE_CUTOFF 50.0

/* ln(1 - e^a) for a <= 0, accurate at both ends. */
static double log_one_minus(double a) {
  if (a >= 0) return -INFINITY;
  return a > -0.693 ? log(-expm1(a)) : log1p(-exp(a));
}

/* k * ln q with the convention 0 * ln 0 = 0. */
static double k_log(uint64_t k, double lg) { return k == 0 ? 0 : (double)k * lg; }

double vouch_binom_log_sf(uint64_t n, uint64_t t, double log_q, double log_1mq) {
  if (t == 0) return 0;
  if (t > n || log_q == -INFINITY) return -INFINITY;
  if (log_1mq == -INFINITY) return 0; /* q = 1: X = n >= t */
  /* At or below the mode the tail holds most of the mass: 1 - P(X <= t-1)
   * keeps full precision there (the cdf call does not come back here). */
  if ((double)t <= floor(((double)n + 1) * exp(log_q))) return log_one_minus(
      vouch_binom_log_cdf(n, t - 1, log_q, log_1mq));
  double lc = log_choose(n, t), mx = -INFINITY, s = 0;
  for (uint64_t k = t; k <= n; k++) {
    double term = lc + k_log(k, log_q) + k_log(n - k, log_1mq);
    lse_add(&mx, &s, term);
    if (term < mx - LSE_CUTOFF) break; /* past the mode and negligible */
    if (k < n) lc += log((double)(n - k)) - log((double)(k + 1));
  }
  double r = mx + log(s);
  return r > 0 ? 0 : r;
}

double vouch_binom_log_cdf(uint64_t n, uint64_t x, double log_q, double log_1mq) {
  if (x >= n) return 0;
  if (log_q == -INFINITY) return 0;           /* q = 0: X = 0 <= x */
  if (log_1mq == -INFINITY) return -INFINITY; /* q = 1: X = n > x */
  if ((double)x >= floor(((double)n + 1) * exp(log_q)))
    return log_one_minus(vouch_binom_log_sf(n, x + 1, log_q, log_1mq));
  double lc = log_choose(n, x), mx = -INFINITY, s = 0;
  for (uint64_t k = x + 1; k-- > 0;) {
    double term = lc + k_log(k, log_q) + k_log(n - k, log_1mq);
    lse_add(&mx, &s, term);
    if (term < mx - LSE_CUTOFF) break; /* below the mode and negligible */
    if (k > 0) lc += log((double)k) - log((double)(n - k + 1));
  }
  double r = mx + log(s);
  return r > 0 ? 0 : r;
}

double vouch_rate_upper_bound(uint64_t x, uint64_t k, double conf) {
  if (k == 0 || x >= k || !(conf > 0 && conf < 1)) return 1;
  if (x == 0) return -expm1(log1p(-conf) / (double)k); /* 1 - (1-conf)^(1/k) */
  /* P(X <= x; k, p) falls as p grows: bisect on ln p for the p where it
   * equals 1 - conf. */
  const double target = log1p(-conf);
  double lo = log((double)x / (double)k), hi = 0;
  for (int it = 0; it < 200; it++) {
    double mid = (lo + hi) / 2, p = exp(mid);
    double c = vouch_binom_log_cdf(k, x, mid, log1p(-p));
    if (c > target) lo = mid;
    else hi = mid;
  }
  return exp(hi);
}

int vouch_risk_account(const vouch_risk_in *in, vouch_risk_out *out) {
  if (!in || !out || !(in->p >= 0 && in->p <= 1)) return VOUCH_E_INVALID;
  double log_1mq, log_q;
  if (in->p == 0 || in->n_db == 0) {
    log_1mq = 0;
    log_q = -INFINITY;
  } else if (in->p == 1) {
    log_1mq = -INFINITY;
    log_q = 0;
  } else {
    log_1mq = (double)in->n_db * log1p(-in->p);   /* ln (1-p)^N */
    log_q = log(-expm1(log_1mq));                 /* ln (1 - (1-p)^N) */
  }
  out->log_q = log_q;
  out->q = exp(log_q);
  out->expected_pairs = (double)in->n_db * (double)in->m_photos * in->p;
  out->expected_photos = (double)in->m_photos * out->q;
  double la = vouch_binom_log_sf(in->m_photos, in->t, log_q, log_1mq);
  out->log10_account = la / log(10.0);
  out->account = exp(la);
  return VOUCH_OK;
}

double vouch_risk_rate_for_target(const vouch_risk_in *in, double log10_target) {
  if (!in) return 0;
  vouch_risk_in r = *in;
  vouch_risk_out o;
  r.p = 1e-300;
  vouch_risk_account(&r, &o);
  if (o.log10_account > log10_target) return 0;
  r.p = 1;
  vouch_risk_account(&r, &o);
  if (o.log10_account <= log10_target) return 1;
  double lo = -300, hi = 0; /* log10 p: f(lo) <= target < f(hi) */
  for (int it = 0; it < 100; it++) {
    double mid = (lo + hi) / 2;
    r.p = pow(10.0, mid);
    vouch_risk_account(&r, &o);
    if (o.log10_account <= log10_target) lo = mid;
    else hi = mid;
  }
  return pow(10.0, lo);
}
