/* programs/cli/eval.h -- what the parts of `vouch eval` share: the options,
 * the per-photo results, the pair results, and the report and plot writers.
 *
 *   cmd_eval.c     options, the per-photo pass (on the photo pipeline), the
 *                  pair pass, `vouch eval risk`
 *   eval_report.c  the Markdown report and results.json
 *   eval_plot.c    the data files, plots.gp and gnuplot
 *   eval_private.c the private-matching section (eval_private.h) */
#ifndef VOUCH_CLI_EVAL_H
#define VOUCH_CLI_EVAL_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "eval_private.h"

#define MAX_ALGOS 4
#define NBINS 257 /* distances 0..256 */
#define MAX_THR 6

/* The claim we compare with: "less than a one in one trillion chance per
 * year of incorrectly flagging a given account" (Apple, CSAM Detection
 * Technical Summary, August 2021). */
#define CLAIM_LOG10 (-12.0)

typedef struct {
  int mode; /* 1 robustness, 2 false positives, 3 all */
  int algos[MAX_ALGOS];
  size_t n_algo;
  const vouch_transform *suite;
  size_t n_tf;
  int jobs;
  uint32_t max_side;
  size_t limit;
  uint64_t seed;
  const char *exclude;
  size_t list_n;
  uint64_t n_db, m_photos, acct_t;
  const char *report_dir;
  int private_on;           /* PDQ among the algorithms: measure the private path too */
  const char *probe_dump;   /* --probe-dump FILE: raw copies for bench/probe_flips.py */
  evp_opts priv;
} eval_opts;

/* Standard thresholds: PDQ 31 (Meta's recommended match distance), 10 for
 * the 64-bit hashes (the common imagehash practice); plus neighbours. */
static inline int std_thr(int algo) { return algo == VOUCH_ALGO_PDQ ? 31 : 10; }
static inline const int *thr_list(int algo, size_t *n) {
  static const int pdq_thr[] = {0, 15, 31, 47, 63};
  static const int h64_thr[] = {0, 4, 8, 10, 12};
  *n = 5;
  return algo == VOUCH_ALGO_PDQ ? pdq_thr : h64_thr;
}
static inline unsigned algo_bits(int algo) { return (unsigned)vouch_algo_bytes(algo) * 8; }

/* ------------------------------------------------------------ per-photo results */

typedef struct {
  int rc;
  int skipped;
  int quality;
  uint32_t width, height;       /* working size */
  uint32_t src_width, src_height;
  char err[160];
} photo_info;

typedef struct {
  const cli_paths *paths;
  const eval_opts *o;
  photo_info *info;
  uint8_t (*hashes)[VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES]; /* n * n_algo */
  vouch_eval_dist *dist;                                     /* n * n_tf * n_algo */
  int32_t *ranks;                                            /* n * n_tf * n_bands (private) */
  float (*margins)[256];                                     /* n: the originals' PDQ margins */
  uint8_t (*copy_hash)[32];                                  /* n * n_tf (--probe-dump) */
  float (*copy_margin)[256];                                 /* n * n_tf (--probe-dump) */
  uint16_t *found;                                           /* n * n_tf * n_bands: per listed P */
  vouch_psi_views *views;                                    /* n: the originals' tonal views */
} work;

static inline const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* ------------------------------------------------------------ pair results */

typedef struct {
  uint32_t i, j;
  uint16_t d[MAX_ALGOS]; /* plain distance per algorithm */
  double score;          /* min over algorithms of d / standard threshold */
  int excluded;
} near_pair;

typedef struct {
  /* robustness: hist[(t * n_algo + a) * 2 + dihedral][NBINS] */
  uint64_t (*rob)[NBINS];
  /* unrelated pairs: fp[a * 2 + dihedral][NBINS] */
  uint64_t fp[MAX_ALGOS * 2][NBINS];
  uint64_t pairs, excluded_pairs;
  near_pair *near;
  size_t n_near, cap_near;
  near_pair *top[MAX_ALGOS]; /* the list_n closest pairs per algorithm, closest first */
  size_t n_top[MAX_ALGOS];
  size_t n_ok, n_failed, n_skipped, low_quality;
  double wall, cpu;
  double pair_wall; /* the pair pass alone */
} results;

static inline uint64_t hist_le(const uint64_t *hist, int thr) {
  uint64_t s = 0;
  for (int d = 0; d <= thr && d < NBINS; d++) s += hist[d];
  return s;
}
static inline uint64_t hist_total(const uint64_t *hist) { return hist_le(hist, NBINS - 1); }

/* Exclusions: pairs of indices, stored as sorted (min << 32 | max) keys. */
typedef struct {
  uint64_t *keys;
  size_t n, cap;
  size_t unmatched; /* lines naming a photo that is not in the set */
} exclusions;

int eval_is_excluded(const exclusions *ex, size_t i, size_t j);

/* ------------------------------------------------------------ report (eval_report.c) */

typedef struct {
  FILE *md, *js;
  const char *dir;
} outputs;

FILE *eval_open_in(const char *dir, const char *name, char *path, size_t cap);
/* Runs `gnuplot plots.gp` in dir, its messages in dir/gnuplot.log: 0 made, 1 gnuplot failed,
 * -1 not installed (eval_plot.c; also used by vouch eval video). */
int eval_run_gnuplot(const char *dir);
/* Probabilities for the report: "0", "0.0123" or "1.23e-07". */
void eval_fmt_prob(char *buf, size_t cap, double log10p);
void eval_fmt_rate(char *buf, size_t cap, double p);
void eval_report_header(const eval_opts *o, const cli_paths *paths, const results *r, FILE *md);
void eval_report_robustness(const eval_opts *o, const results *r, outputs *out);
void eval_report_fp(const eval_opts *o, const cli_paths *paths, const work *w, const results *r,
                    const exclusions *ex, outputs *out);
void eval_report_risk(const eval_opts *o, const results *r, outputs *out);
/* The private path (eval_private.c): recall per transform, false openings.
 * Returns 0, or -1 when out of memory. */
int eval_report_private(const eval_opts *o, const cli_paths *paths, const work *w, const exclusions *ex,
                        outputs *out);

/* ------------------------------------------------------------ plots (eval_plot.c) */

/* Writes the data files and the gnuplot script; runs gnuplot when present.
 * Returns the number of plots made (0 when skipped), or -1 on a write error. */
int eval_write_plots(const eval_opts *o, const results *r, const char *dir, FILE *md);

#endif
