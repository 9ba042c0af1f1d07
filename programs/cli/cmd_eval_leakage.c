/* programs/cli/cmd_eval_leakage.c -- `vouch eval leakage`: what the server
 * learns below the threshold from the number of vouchers that opened, with
 * the synthetic schedule of the library (vouch_psi_synthetic_rate(),
 * docs/protocol.md sections 6 and 8.1).
 *
 * Model: an account of N photos, r of them (0..t) real matches of distinct
 * keys, spread evenly over the upload order.  A non-matching photo at
 * position n opens iff it is made synthetic (probability p_n, independent
 * coins: the per-photo coin is a keyed hash, uniform per distinct photo); a
 * matching photo always opens (real or synthetic).  So the opened count is
 * O = r + min(S, s), S the Poisson-binomial sum of p_n over the N - r
 * non-matching positions (the cap s: an upper bound on what the budget
 * allows, since matches made synthetic also use it).  The distribution is
 * computed exactly by dynamic programming, no sampling.
 *
 * The observer sees N and O.  Reported per r: the mean, sd and 5..95%
 * range of O; the total variation distance to an innocent account (r = 0),
 * which is the best advantage any test telling the two apart can have; and,
 * for an observer with a uniform prior on 0..t, the posterior probability
 * of r = 0 (innocent) it keeps on average, and the root mean square error
 * of the posterior mean (the estimator that minimises the squared error). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char leakage_usage[] =
  "usage: vouch eval leakage [OPTIONS]\n"
  "\n"
  "What the number of opened vouchers tells the server about an account below\n"
  "the threshold, with the synthetic-voucher schedule min(1, scale*2T^2/(n+2T)^2)\n"
  "(docs/protocol.md section 8.1).  For an account of N photos with r real\n"
  "matches (r = 0..T) it prints the distribution of the opened count O and how\n"
  "well an optimal observer of O (knowing N, T, S and the schedule, uniform prior\n"
  "on r in 0..T) estimates r.  Exact computation, no sampling.\n"
  "\n"
  "Columns: scale, N, r, mean and sd of O, its 5%..95% range, tv (total\n"
  "variation distance to an innocent account: the best advantage of any test\n"
  "telling r matches from none), p0 (the observer's posterior probability that\n"
  "r = 0, averaged over O), rmse (error of the posterior mean of r given O),\n"
  "E[synth] (expected synthetic vouchers over the N photos, before the cap).\n"
  "\n"
  "options:\n"
  "  -t, --threshold T   threshold (default 30)\n"
  "      --dhf S         cap on synthetic vouchers (default 3T)\n"
  "      --library LIST  library sizes N, comma-separated (default 100,1000,10000)\n"
  "      --scale LIST    schedule scales, comma-separated; 1 is the default rate,\n"
  "                      0 no synthetics (default 0,0.5,1,2)\n"
  "      --all           every r in 0..T (default: 0,1,2,3,5,10,15,20,25,T)\n"
  "      --json          one JSON object per row\n"
  "  -h, --help          this help\n"
  "\n"
  "Exit status: 0 on success, 2 on a usage error.\n";

#define LIST_MAX 16

static int parse_list(const char *arg, double *out, size_t *n, double lo, double hi, int integer) {
  char *copy = strdup(arg), *save = NULL;
  if (!copy)
    return -1;
  *n = 0;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *end;
    errno = 0;
    double v = strtod(tok, &end);
    if (errno || *end || !(v >= lo && v <= hi) || (integer && v != floor(v)) || *n == LIST_MAX) {
      free(copy);
      return -1;
    }
    out[(*n)++] = v;
  }
  free(copy);
  return *n ? 0 : -1;
}

/* dist[0..N] of O for r matches among N photos (cap s). */
static void opened_dist(unsigned t, unsigned s, uint64_t N, unsigned r, double scale, double *dist,
                        double *work) {
  /* Poisson-binomial over the non-matching positions, counts kept to 0..s
   * (mass above s is folded into s: the cap). */
  size_t K = s;
  memset(work, 0, sizeof(double) * (K + 1));
  work[0] = 1.0;
  uint64_t next = r ? (uint64_t)((0.5) * (double)N / r) : UINT64_MAX;
  unsigned placed = 0;
  for (uint64_t n = 0; n < N; n++) {
    if (placed < r && n == next) { /* a match: opens whatever the coin */
      placed++;
      next = placed < r ? (uint64_t)((placed + 0.5) * (double)N / r) : UINT64_MAX;
      continue;
    }
    double p = vouch_psi_synthetic_rate(t, n, scale);
    if (p == 0.0)
      continue;
    work[K] += work[K - 1] * p; /* the cap absorbs */
    for (size_t k = K - 1; k > 0; k--)
      work[k] = work[k] * (1.0 - p) + work[k - 1] * p;
    work[0] *= 1.0 - p;
  }
  memset(dist, 0, sizeof(double) * (N + 1));
  for (size_t k = 0; k <= K && r + k <= N; k++)
    dist[r + k] += work[k];
}

int cmd_eval_leakage(int argc, char **argv) {
  static const struct option longopts[] = {
    {"threshold", required_argument, NULL, 't'}, {"dhf", required_argument, NULL, 'D'},
    {"library", required_argument, NULL, 'N'},   {"scale", required_argument, NULL, 'S'},
    {"all", no_argument, NULL, 'a'},             {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
  unsigned long t = VOUCH_PSI_THRESHOLD_DEFAULT, s = 0;
  double lib[LIST_MAX] = {100, 1000, 10000}, scales[LIST_MAX] = {0, 0.5, 1, 2};
  size_t nlib = 3, nscale = 4;
  int all = 0, json = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
    switch (c) {
    case 't':
      if (cli_uint_arg(optarg, 1, 200, &t, "--threshold must be 1..200") != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'D':
      if (cli_uint_arg(optarg, 1, VOUCH_PSI_DHF_MAX, &s, "--dhf must be 1..%u", VOUCH_PSI_DHF_MAX) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'N':
      if (parse_list(optarg, lib, &nlib, 1, 1e5, 1) != 0) {
        cli_errorf("--library: up to %d whole numbers in 1..100000, comma-separated", LIST_MAX);
        return CLI_EXIT_ERROR;
      }
      break;
    case 'S':
      if (parse_list(optarg, scales, &nscale, 0, 100, 0) != 0) {
        cli_errorf("--scale: up to %d numbers in 0..100, comma-separated", LIST_MAX);
        return CLI_EXIT_ERROR;
      }
      break;
    case 'a': all = 1; break;
    case 'j': json = 1; break;
    case 'h': fputs(leakage_usage, stdout); return CLI_EXIT_OK;
    default: fputs(leakage_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (optind != argc) {
    fputs(leakage_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  if (!s)
    s = VOUCH_PSI_DHF_DEFAULT(t) <= VOUCH_PSI_DHF_MAX ? VOUCH_PSI_DHF_DEFAULT(t) : VOUCH_PSI_DHF_MAX;
  unsigned rs[1001], nr = 0;
  if (all) {
    for (unsigned r = 0; r <= t; r++)
      rs[nr++] = r;
  } else {
    static const unsigned dflt[] = {0, 1, 2, 3, 5, 10, 15, 20, 25};
    for (size_t i = 0; i < sizeof dflt / sizeof dflt[0]; i++)
      if (dflt[i] < t)
        rs[nr++] = dflt[i];
    rs[nr++] = (unsigned)t;
  }
  if (!json)
    printf("leakage  t %lu  s %lu  schedule min(1, scale*2t^2/(n+2t)^2)\n"
           "%6s %8s %4s %8s %6s %10s %6s %6s %6s %9s\n",
           t, s, "scale", "N", "r", "E[O]", "sd", "O 5-95%", "tv", "p0", "rmse", "E[synth]");
  int rc = CLI_EXIT_OK;
  for (size_t si = 0; si < nscale && rc == CLI_EXIT_OK; si++) {
    for (size_t li = 0; li < nlib && rc == CLI_EXIT_OK; li++) {
      uint64_t N = (uint64_t)lib[li];
      unsigned rmax = (unsigned)(t < N ? t : N);
      /* d[r] = distribution of O for every r in 0..rmax (the observer's model) */
      double *d = calloc((size_t)(rmax + 1) * (N + 1), sizeof(double));
      double *work = calloc(s + 1, sizeof(double));
      if (!d || !work) {
        free(d);
        free(work);
        cli_errorf("out of memory");
        rc = CLI_EXIT_ERROR;
        break;
      }
      for (unsigned r = 0; r <= rmax; r++)
        opened_dist((unsigned)t, (unsigned)s, N, r, scales[si], d + (size_t)r * (N + 1), work);
      double esyn = 0;
      for (uint64_t n = 0; n < N; n++)
        esyn += vouch_psi_synthetic_rate((unsigned)t, n, scales[si]);
      for (unsigned ri = 0; ri < nr; ri++) {
        unsigned r = rs[ri];
        if (r > rmax)
          continue;
        const double *dr = d + (size_t)r * (N + 1), *d0 = d;
        double mean = 0, var = 0, tv = 0, p0 = 0, se = 0, cum = 0;
        uint64_t q5 = 0, q95 = 0;
        int got5 = 0, got95 = 0;
        for (uint64_t o = 0; o <= N; o++) {
          double pr = dr[o];
          mean += pr * (double)o;
          tv += fabs(pr - d0[o]);
          cum += pr;
          if (!got5 && cum >= 0.05) {
            q5 = o;
            got5 = 1;
          }
          if (!got95 && cum >= 0.95) {
            q95 = o;
            got95 = 1;
          }
          if (pr == 0.0)
            continue;
          /* posterior over r' given o (uniform prior): mean and argmax */
          double z = 0, m = 0;
          for (unsigned r2 = 0; r2 <= rmax; r2++) {
            double l = d[(size_t)r2 * (N + 1) + o];
            z += l;
            m += l * r2;
          }
          double est = m / z;
          se += pr * (est - r) * (est - r);
          p0 += pr * d0[o] / z;
        }
        for (uint64_t o = 0; o <= N; o++)
          var += dr[o] * ((double)o - mean) * ((double)o - mean);
        tv /= 2;
        if (json)
          printf("{\"t\":%lu,\"s\":%lu,\"scale\":%g,\"library\":%llu,\"real\":%u,\"mean_opened\":%.4f,"
                 "\"sd_opened\":%.4f,\"opened_p5\":%llu,\"opened_p95\":%llu,\"tv_vs_innocent\":%.4f,"
                 "\"posterior_innocent\":%.4f,\"rmse\":%.4f,\"expected_synthetic\":%.4f}\n",
                 t, s, scales[si], (unsigned long long)N, r, mean, sqrt(var), (unsigned long long)q5,
                 (unsigned long long)q95, tv, p0, sqrt(se), esyn);
        else
          printf("%6g %8llu %4u %8.2f %6.2f %4llu..%-4llu %6.3f %6.3f %6.2f %9.2f\n", scales[si],
                 (unsigned long long)N, r, mean, sqrt(var), (unsigned long long)q5,
                 (unsigned long long)q95, tv, p0, sqrt(se), esyn);
      }
      free(d);
      free(work);
    }
  }
  return rc;
}
