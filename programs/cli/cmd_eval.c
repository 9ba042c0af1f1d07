/* programs/cli/cmd_eval.c -- `vouch eval`: how well perceptual matching
 * holds up on real photos, and what its mistakes mean for a person.
 *
 *   vouch eval robustness DIR...       transformed copies: distances, recall
 *   vouch eval false-positives DIR...  unrelated pairs: false-match rates, risk
 *   vouch eval all DIR...              both, plus the recall/privacy trade-off
 *   vouch eval risk --matches X --pairs K | --rate P    the risk model alone
 *
 * Photos are decoded, brought to a working size, hashed and transformed on
 * a pool of threads (one decoder, hasher and transformer each), one photo
 * per work item.  Everything after that (histograms, pairs, statistics,
 * report) runs on the calling thread. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "eval_private.h"

#define MAX_ALGOS 4
#define NBINS 257 /* distances 0..256 */
#define MAX_THR 6

/* The claim we compare with: "less than a one in one trillion chance per
 * year of incorrectly flagging a given account" (Apple, CSAM Detection
 * Technical Summary, August 2021). */
#define CLAIM_LOG10 (-12.0)

static const char eval_usage[] =
  "usage: vouch eval robustness|false-positives|all [OPTIONS] DIR...\n"
  "       vouch eval risk (--matches X --pairs K | --rate P) [OPTIONS]\n"
  "       vouch eval attack [OPTIONS] DIR...   (forged PDQ collisions: see --help)\n"
  "       vouch eval leakage [OPTIONS]         (what the opened count tells the server\n"
  "                                             below the threshold: see --help)\n"
  "\n"
  "Measures perceptual matching on a folder of photos (walked recursively;\n"
  "files that are not images are skipped and counted).\n"
  "\n"
  "  robustness       hashes each photo and each transformed copy (resize, crop,\n"
  "                   rotate, mirror, JPEG, colour, grey, blur, noise, overlay,\n"
  "                   border, aspect); per algorithm and transform: distance\n"
  "                   percentiles and recall at several thresholds, with and\n"
  "                   without dihedral matching (min over the 8 rotations/flips)\n"
  "  false-positives  all pairs of distinct photos: distance distribution, pairs\n"
  "                   under the thresholds (inspect them!), false-match rate per\n"
  "                   threshold, expected false matches for N x M, per-account risk\n"
  "  all              both, plus the exact-key (distance 0) trade-off\n"
  "  risk             the per-account model alone, from a count or a rate\n"
  "\n"
  "options:\n"
  "  -a, --algo LIST       comma-separated: pdq,phash,dhash,ahash (default: all)\n"
  "  -t, --transform LIST  comma-separated KIND:PARAM (e.g. jpeg:50,rotate:5,grey);\n"
  "                        default: the built-in suite of 44 (--list-transforms)\n"
  "      --list-transforms print the default suite and exit\n"
  "  -j, --jobs N          threads (default: all cores)\n"
  "      --max-side N      photos larger than N pixels on a side are first reduced\n"
  "                        (area average) to fit N x N; that copy is the original\n"
  "                        (default 1024; 0 = keep full size)\n"
  "      --limit N         use only the first N photos (sorted by path)\n"
  "      --seed N          seed for the random choices of transforms (default 1)\n"
  "      --exclude FILE    pairs judged to be the same scene, one per line:\n"
  "                        NAME<TAB>NAME (file names; '#' starts a comment);\n"
  "                        they are left out of the false-match counts and listed\n"
  "      --list N          list the N closest pairs per algorithm (default 25)\n"
  "      --db N            database size N for the risk model (default 200000)\n"
  "      --photos M        photos per account per year (default 5000)\n"
  "      --threshold T     matches needed to flag an account (default 30)\n"
  "      --bands LIST      private matching (PDQ): band widths b to measure (default 44)\n"
  "      --probes LIST     private matching: probe counts P to report (default\n"
  "                        1,16,32,64,96,128,256,512); recall per transform, the probe-rank\n"
  "                        distribution and, with pairs, false openings and the tail estimate\n"
  "      --no-private      leave the private-matching section out\n"
  "      --report DIR      write DIR/report.md, DIR/results.json, data files and\n"
  "                        PNG plots (needs gnuplot; skipped with a note if absent)\n"
  "  risk only:\n"
  "      --matches X --pairs K   X false matches seen among K unrelated pairs\n"
  "      --rate P                a per-pair false-match rate\n"
  "  -h, --help            this help\n"
  "\n"
  "Without --report the report (Markdown) goes to standard output.\n"
  "Exit status: 0 on success, 2 on a usage error or when fewer than 2 photos\n"
  "could be evaluated.  Photos that fail to decode are reported and left out.\n";

/* ------------------------------------------------------------ options */

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
  evp_opts priv;
} eval_opts;

/* Standard thresholds: PDQ 31 (Meta's recommended match distance), 10 for
 * the 64-bit hashes (the common imagehash practice); plus neighbours. */
static int std_thr(int algo) { return algo == VOUCH_ALGO_PDQ ? 31 : 10; }
static const int pdq_thr[] = {0, 15, 31, 47, 63};
static const int h64_thr[] = {0, 4, 8, 10, 12};
static const int *thr_list(int algo, size_t *n) {
  *n = 5;
  return algo == VOUCH_ALGO_PDQ ? pdq_thr : h64_thr;
}
static unsigned algo_bits(int algo) { return (unsigned)vouch_algo_bytes(algo) * 8; }

/* ------------------------------------------------------------ per-photo work */

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
} work;

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
  return h;
}

static void eval_one(work *w, vouch_decoder *dec, vouch_hasher *h, vouch_transformer *tf, size_t i) {
  photo_info *pi = &w->info[i];
  const eval_opts *o = w->o;
  const char *path = w->paths->v[i];
  vouch_image img = {0};
  int rc = vouch_decoder_decode_file(dec, path, &img);
  if (rc != VOUCH_OK) {
    pi->rc = rc;
    pi->skipped = rc == VOUCH_E_IMAGE_FORMAT && w->paths->walked && w->paths->walked[i];
    snprintf(pi->err, sizeof pi->err, "%s", vouch_decoder_errmsg(dec));
    return;
  }
  pi->src_width = img.scale_denom > 1 ? img.width * (uint32_t)img.scale_denom : img.width;
  pi->src_height = img.scale_denom > 1 ? img.height * (uint32_t)img.scale_denom : img.height;
  rc = cli_image_fit(&img, o->max_side);
  if (rc != VOUCH_OK) {
    pi->rc = rc;
    snprintf(pi->err, sizeof pi->err, "reducing to the working size failed");
    vouch_image_clear(&img);
    return;
  }
  pi->width = img.width;
  pi->height = img.height;
  uint64_t seed = vouch_eval_seed(o->seed, fnv1a(base_name(path)));
  vouch_eval_probe_opts po = {o->priv.bands, o->priv.n_bands, o->priv.max_p};
  vouch_eval_probe_out *pout = o->private_on ? malloc(sizeof *pout) : NULL;
  if (pout) pout->rank = o->n_tf ? w->ranks + i * o->n_tf * o->priv.n_bands : NULL;
  rc = o->private_on && !pout ? VOUCH_E_NOMEM
       : vouch_eval_photo_probes(tf, h, &img, o->suite, o->n_tf, o->algos, o->n_algo, seed,
                                 w->hashes + i * o->n_algo, &pi->quality,
                                 o->n_tf ? w->dist + i * o->n_tf * o->n_algo : NULL, pout ? &po : NULL, pout);
  if (rc == VOUCH_OK && pout) memcpy(w->margins[i], pout->orig_margin, sizeof w->margins[i]);
  free(pout);
  if (rc != VOUCH_OK) snprintf(pi->err, sizeof pi->err, "evaluation failed");
  pi->rc = rc;
  vouch_image_clear(&img);
}

/* The per-thread state of the photo pipeline. */
typedef struct {
  vouch_decoder *dec;
  vouch_hasher *h;
  vouch_transformer *tf;
} tools;

static int tools_init(void *ctx, void **state) {
  const work *w = ctx;
  tools *t = calloc(1, sizeof *t);
  *state = t;
  if (!t) return VOUCH_E_NOMEM;
  vouch_decode_opts dop = vouch_decode_opts_default();
  /* Scaled JPEG decode is fine: we reduce to max_side anyway. */
  dop.min_side = w->o->max_side;
  int rc = vouch_decoder_create(&t->dec, &dop);
  if (rc == VOUCH_OK) rc = vouch_hasher_create(&t->h);
  if (rc == VOUCH_OK) rc = vouch_transformer_create(&t->tf);
  return rc;
}

static void tools_free(void *ctx, void *state) {
  (void)ctx;
  tools *t = state;
  if (!t) return;
  vouch_transformer_free(t->tf);
  vouch_hasher_free(t->h);
  vouch_decoder_free(t->dec);
  free(t);
}

/* Results go straight into w's arrays at index i. */
static void eval_work(void *ctx, void *state, int init_rc, size_t i, void *result) {
  (void)result;
  work *w = ctx;
  tools *t = state;
  if (init_rc == VOUCH_OK) {
    eval_one(w, t->dec, t->h, t->tf, i);
  } else {
    w->info[i].rc = init_rc;
    snprintf(w->info[i].err, sizeof w->info[i].err, "could not set up a worker");
  }
}

static int run_pool(work *w, int jobs) {
  cli_photojob job = {.n = w->paths->n,
                      .jobs = jobs,
                      .progress_label = w->o->n_tf ? "evaluating" : "hashing",
                      .ctx = w,
                      .init = tools_init,
                      .fini = tools_free,
                      .work = eval_work};
  return cli_photojob_run(&job);
}

/* ------------------------------------------------------------ results */

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

static uint64_t hist_le(const uint64_t *hist, int thr) {
  uint64_t s = 0;
  for (int d = 0; d <= thr && d < NBINS; d++) s += hist[d];
  return s;
}
static uint64_t hist_total(const uint64_t *hist) { return hist_le(hist, NBINS - 1); }

/* Exclusions: pairs of indices, stored as sorted (min << 32 | max) keys. */
typedef struct {
  uint64_t *keys;
  size_t n, cap;
  size_t unmatched; /* lines naming a photo that is not in the set */
} exclusions;

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  const char *name;
  size_t idx;
} name_idx;

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const name_idx *)a)->name, ((const name_idx *)b)->name);
}

static int load_exclusions(const char *file, const cli_paths *paths, exclusions *ex) {
  FILE *f = fopen(file, "r");
  if (!f) {
    cli_errorf("%s: %s", file, strerror(errno));
    return -1;
  }
  name_idx *names = malloc((paths->n ? paths->n : 1) * sizeof *names);
  if (!names) {
    fclose(f);
    return -1;
  }
  for (size_t i = 0; i < paths->n; i++) {
    names[i].name = base_name(paths->v[i]);
    names[i].idx = i;
  }
  qsort(names, paths->n, sizeof *names, cmp_name);
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int bad = 0;
  unsigned long lineno = 0;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    char *save = NULL;
    char *a = strtok_r(line, "\t\r\n", &save), *b = a ? strtok_r(NULL, "\t\r\n", &save) : NULL;
    if (!a) continue;
    while (*a == ' ') a++;
    if (!b) {
      cli_errorf("%s:%lu: expected NAME<TAB>NAME", file, lineno);
      bad = 1;
      break;
    }
    while (*b == ' ') b++;
    name_idx ka = {base_name(a), 0}, kb = {base_name(b), 0};
    name_idx *fa = bsearch(&ka, names, paths->n, sizeof *names, cmp_name);
    name_idx *fb = bsearch(&kb, names, paths->n, sizeof *names, cmp_name);
    if (!fa || !fb || fa->idx == fb->idx) {
      ex->unmatched++;
      continue;
    }
    size_t i = fa->idx < fb->idx ? fa->idx : fb->idx, j = fa->idx < fb->idx ? fb->idx : fa->idx;
    if (ex->n == ex->cap) {
      size_t nc = ex->cap ? 2 * ex->cap : 64;
      uint64_t *nk = realloc(ex->keys, nc * sizeof *nk);
      if (!nk) {
        bad = 1;
        break;
      }
      ex->keys = nk;
      ex->cap = nc;
    }
    ex->keys[ex->n++] = (uint64_t)i << 32 | j;
  }
  free(line);
  free(names);
  fclose(f);
  if (ex->n) qsort(ex->keys, ex->n, sizeof *ex->keys, cmp_u64);
  return bad ? -1 : 0;
}

static int is_excluded(const exclusions *ex, size_t i, size_t j) {
  uint64_t k = (uint64_t)i << 32 | j;
  return ex->n && bsearch(&k, ex->keys, ex->n, sizeof k, cmp_u64) != NULL;
}

static int cmp_near(const void *a, const void *b) {
  const near_pair *x = a, *y = b;
  if (x->score != y->score) return x->score < y->score ? -1 : 1;
  if (x->i != y->i) return x->i < y->i ? -1 : 1;
  return x->j < y->j ? -1 : x->j > y->j;
}

/* Keeps r->top[a] sorted by distance (ties: input order), at most k long. */
static void top_insert(results *r, size_t a, size_t k, const near_pair *np) {
  near_pair *t = r->top[a];
  size_t n = r->n_top[a];
  if (k == 0 || (n == k && np->d[a] >= t[n - 1].d[a])) return;
  size_t pos = n < k ? n : k - 1;
  while (pos > 0 && t[pos - 1].d[a] > np->d[a]) {
    if (pos < k) t[pos] = t[pos - 1];
    pos--;
  }
  t[pos] = *np;
  if (n < k) r->n_top[a] = n + 1;
}

/* All pairs i < j of evaluated photos.  A pair is "near" (kept for the
 * list) when some algorithm puts it within 1.5x its standard threshold. */
static int pair_pass(const eval_opts *o, const work *w, size_t n, const exclusions *ex, results *r) {
  for (size_t i = 0; i < n; i++) {
    if (w->info[i].rc != VOUCH_OK) continue;
    for (size_t j = i + 1; j < n; j++) {
      if (w->info[j].rc != VOUCH_OK) continue;
      int excl = is_excluded(ex, i, j);
      near_pair np = {.i = (uint32_t)i, .j = (uint32_t)j, .score = 1e9, .excluded = excl};
      for (size_t a = 0; a < o->n_algo; a++) {
        size_t hb = vouch_algo_bytes(o->algos[a]);
        const uint8_t(*hi)[VOUCH_HASH_MAX_BYTES] = w->hashes[i * o->n_algo + a];
        const uint8_t(*hj)[VOUCH_HASH_MAX_BYTES] = w->hashes[j * o->n_algo + a];
        unsigned d = vouch_hamming(hi[0], hj[0], hb), dm = d;
        for (unsigned v = 1; v < VOUCH_DIHEDRAL_N; v++) {
          unsigned dv = vouch_hamming(hi[0], hj[v], hb);
          if (dv < dm) dm = dv;
        }
        np.d[a] = (uint16_t)d;
        double s = (double)d / std_thr(o->algos[a]);
        if (s < np.score) np.score = s;
        if (!excl) {
          r->fp[a * 2][d]++;
          r->fp[a * 2 + 1][dm]++;
        }
      }
      if (excl) r->excluded_pairs++;
      else r->pairs++;
      for (size_t a = 0; a < o->n_algo; a++) top_insert(r, a, o->list_n, &np);
      if (np.score <= 1.5 || excl) {
        if (r->n_near == r->cap_near) {
          size_t nc = r->cap_near ? 2 * r->cap_near : 256;
          near_pair *nn = realloc(r->near, nc * sizeof *nn);
          if (!nn) return -1;
          r->near = nn;
          r->cap_near = nc;
        }
        r->near[r->n_near++] = np;
      }
    }
  }
  qsort(r->near, r->n_near, sizeof *r->near, cmp_near);
  return 0;
}

/* ------------------------------------------------------------ report helpers */

/* Transform families (kind) in suite order, for the recall plots. */
static size_t families(const eval_opts *o, int *kinds) {
  size_t n = 0;
  for (size_t t = 0; t < o->n_tf; t++) {
    size_t k;
    for (k = 0; k < n && kinds[k] != o->suite[t].kind; k++) {}
    if (k == n) kinds[n++] = o->suite[t].kind;
  }
  return n;
}

static void fmt_prob(char *buf, size_t cap, double log10p) {
  if (log10p == -INFINITY) snprintf(buf, cap, "0");
  else if (log10p > -4) snprintf(buf, cap, "%.4g", pow(10, log10p));
  else {
    double e = floor(log10p), m = pow(10, log10p - e);
    if (m >= 9.995) {
      m /= 10;
      e += 1;
    }
    snprintf(buf, cap, "%.2fe%+.0f", m, e);
  }
}

static void fmt_rate(char *buf, size_t cap, double p) {
  if (p == 0) snprintf(buf, cap, "0");
  else fmt_prob(buf, cap, log10(p));
}

static double pct(uint64_t a, uint64_t b) { return b ? 100.0 * (double)a / (double)b : 0; }

/* Risk rows for one (algorithm, threshold, mode). */
typedef struct {
  uint64_t x, k;
  double p_hat, p_up;
  vouch_risk_out at_hat, at_up;
  double p_needed;
} risk_row;

static void risk_for(const eval_opts *o, uint64_t x, uint64_t k, risk_row *rr) {
  memset(rr, 0, sizeof *rr);
  rr->x = x;
  rr->k = k;
  rr->p_hat = k ? (double)x / (double)k : 0;
  /* Zero events: the rule of three (3/K, 95%), as the brief of this tool
   * asks and as reviewers quote it; otherwise the exact one-sided bound. */
  rr->p_up = k == 0 ? 1 : x == 0 ? 3.0 / (double)k : vouch_rate_upper_bound(x, k, 0.95);
  if (rr->p_up > 1) rr->p_up = 1;
  vouch_risk_in in = {.p = rr->p_hat, .n_db = o->n_db, .m_photos = o->m_photos, .t = o->acct_t};
  vouch_risk_account(&in, &rr->at_hat);
  in.p = rr->p_up;
  vouch_risk_account(&in, &rr->at_up);
  rr->p_needed = vouch_risk_rate_for_target(&in, CLAIM_LOG10);
}

/* ------------------------------------------------------------ report */

typedef struct {
  FILE *md, *js;
  const char *dir;
} outputs;

static void write_hist_json(FILE *js, const uint64_t *h, unsigned bits) {
  fputc('[', js);
  for (unsigned d = 0; d <= bits; d++) fprintf(js, "%s%llu", d ? "," : "", (unsigned long long)h[d]);
  fputc(']', js);
}

static void report_header(const eval_opts *o, const cli_paths *paths, const results *r, FILE *md) {
  static const char *const mode_name[] = {"", "robustness", "false positives", "robustness and false positives"};
  fprintf(md, "# vouch eval: %s\n\n", mode_name[o->mode]);
  fprintf(md, "- photos: **%zu evaluated**", r->n_ok);
  if (r->n_failed) fprintf(md, ", %zu failed (listed at the end)", r->n_failed);
  if (r->n_skipped) fprintf(md, ", %zu non-image files skipped", r->n_skipped);
  fprintf(md, " (of %zu files)\n", paths->n);
  if (o->max_side)
    fprintf(md, "- working size: photos reduced to fit %u x %u (area average) before hashing; that copy is the original\n",
            o->max_side, o->max_side);
  else
    fprintf(md, "- working size: full size (--max-side 0)\n");
  fprintf(md, "- algorithms:");
  for (size_t a = 0; a < o->n_algo; a++) fprintf(md, " %s", vouch_algo_name(o->algos[a]));
  fprintf(md, "; PDQ photos with quality < 50 (unreliable hash): %zu\n", r->low_quality);
  if (o->mode & 1) fprintf(md, "- transforms: %zu, seed %llu\n", o->n_tf, (unsigned long long)o->seed);
  fprintf(md, "- time: %.1f s wall, %.1f s CPU (user+system, all threads)", r->wall, r->cpu);
  if (o->mode & 2) fprintf(md, "; the pair pass alone %.2f s wall", r->pair_wall);
  fprintf(md, "\n\n");
}

static void report_robustness(const eval_opts *o, const results *r, outputs *out) {
  FILE *md = out->md, *js = out->js;
  fprintf(md, "## Robustness: the same photo after an edit\n\n");
  fprintf(md, "Distance between the original's hash and the edited copy's (bits). Recall = share of photos\n"
              "whose copy is within the threshold. *dih.* = dihedral matching: the minimum over the original's\n"
              "8 rotations/flips. n = %zu photos behind every figure.\n\n", r->n_ok);
  /* The key table first: the standard thresholds side by side. */
  fprintf(md, "### Recall at the standard thresholds\n\n| transform |");
  for (size_t a = 0; a < o->n_algo; a++)
    fprintf(md, " %s ≤%d | dih. |", vouch_algo_name(o->algos[a]), std_thr(o->algos[a]));
  fprintf(md, "\n|---|");
  for (size_t a = 0; a < o->n_algo; a++) fprintf(md, "---:|---:|");
  fputc('\n', md);
  uint64_t pooled[MAX_ALGOS * 2][NBINS];
  memset(pooled, 0, sizeof pooled);
  for (size_t t = 0; t < o->n_tf; t++) {
    char name[VOUCH_TRANSFORM_TEXT_BYTES];
    vouch_transform_format(&o->suite[t], name, sizeof name);
    fprintf(md, "| %s |", name);
    for (size_t a = 0; a < o->n_algo; a++) {
      for (int m = 0; m < 2; m++) {
        const uint64_t *h = r->rob[(t * o->n_algo + a) * 2 + m];
        fprintf(md, " %.1f%% |", pct(hist_le(h, std_thr(o->algos[a])), hist_total(h)));
        for (int d = 0; d < NBINS; d++) pooled[a * 2 + m][d] += h[d];
      }
    }
    fputc('\n', md);
  }
  fprintf(md, "| **all transforms** |");
  for (size_t a = 0; a < o->n_algo; a++)
    for (int m = 0; m < 2; m++)
      fprintf(md, " **%.1f%%** |", pct(hist_le(pooled[a * 2 + m], std_thr(o->algos[a])),
                                       hist_total(pooled[a * 2 + m])));
  fprintf(md, "\n\n");
  /* Per algorithm, the full table. */
  fprintf(js, "\"robustness\":{\"photos\":%zu,\"transforms\":[", r->n_ok);
  for (size_t a = 0; a < o->n_algo; a++) {
    size_t nt;
    const int *thr = thr_list(o->algos[a], &nt);
    fprintf(md, "### %s\n\n| transform | median | p90 | p99 | max |", vouch_algo_name(o->algos[a]));
    for (size_t k = 0; k < nt; k++) fprintf(md, " ≤%d |", thr[k]);
    fprintf(md, " median dih. | ≤%d dih. |\n|---|---:|---:|---:|---:|", std_thr(o->algos[a]));
    for (size_t k = 0; k < nt; k++) fprintf(md, "---:|");
    fprintf(md, "---:|---:|\n");
    for (size_t t = 0; t < o->n_tf; t++) {
      char name[VOUCH_TRANSFORM_TEXT_BYTES];
      vouch_transform_format(&o->suite[t], name, sizeof name);
      const uint64_t *h = r->rob[(t * o->n_algo + a) * 2], *hd = r->rob[(t * o->n_algo + a) * 2 + 1];
      uint64_t tot = hist_total(h);
      fprintf(md, "| %s | %ld | %ld | %ld | %ld |", name, vouch_hist_percentile(h, NBINS, 0.5),
              vouch_hist_percentile(h, NBINS, 0.9), vouch_hist_percentile(h, NBINS, 0.99),
              vouch_hist_percentile(h, NBINS, 1.0));
      for (size_t k = 0; k < nt; k++) fprintf(md, " %.1f%% |", pct(hist_le(h, thr[k]), tot));
      fprintf(md, " %ld | %.1f%% |\n", vouch_hist_percentile(hd, NBINS, 0.5),
              pct(hist_le(hd, std_thr(o->algos[a])), tot));
    }
    fputc('\n', md);
  }
  for (size_t t = 0; t < o->n_tf; t++) {
    char name[VOUCH_TRANSFORM_TEXT_BYTES];
    vouch_transform_format(&o->suite[t], name, sizeof name);
    fprintf(js, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"param\":%.17g,\"algos\":{", t ? "," : "", name,
            vouch_transform_kind_name(o->suite[t].kind), o->suite[t].param);
    for (size_t a = 0; a < o->n_algo; a++) {
      fprintf(js, "%s\"%s\":{", a ? "," : "", vouch_algo_name(o->algos[a]));
      for (int m = 0; m < 2; m++) {
        const uint64_t *h = r->rob[(t * o->n_algo + a) * 2 + m];
        uint64_t tot = hist_total(h);
        fprintf(js, "%s\"%s\":{\"n\":%llu,\"median\":%ld,\"p90\":%ld,\"p99\":%ld,\"max\":%ld,\"recall\":{",
                m ? "," : "", m ? "dihedral" : "plain", (unsigned long long)tot,
                vouch_hist_percentile(h, NBINS, 0.5), vouch_hist_percentile(h, NBINS, 0.9),
                vouch_hist_percentile(h, NBINS, 0.99), vouch_hist_percentile(h, NBINS, 1.0));
        unsigned bits = algo_bits(o->algos[a]);
        for (unsigned d = 0; d <= bits; d++)
          fprintf(js, "%s\"%u\":%.6f", d ? "," : "", d, tot ? (double)hist_le(h, (int)d) / tot : 0.0);
        fprintf(js, "},\"hist\":");
        write_hist_json(js, h, bits);
        fputc('}', js);
      }
      fputc('}', js);
    }
    fprintf(js, "}}");
  }
  fprintf(js, "]}");
}

static void report_fp(const eval_opts *o, const cli_paths *paths, const work *w, const results *r,
                      const exclusions *ex, outputs *out) {
  FILE *md = out->md, *js = out->js;
  fprintf(md, "## False positives: unrelated photos\n\n");
  fprintf(md, "Every pair of distinct photos: **%llu pairs** counted", (unsigned long long)r->pairs);
  if (o->exclude)
    fprintf(md, ", %llu excluded as the same scene (`%s`, %zu entries, %zu naming photos not in this set)",
            (unsigned long long)r->excluded_pairs, o->exclude, ex->n, ex->unmatched);
  fprintf(md, ".\nA false match is a pair within the threshold. Rate = matches / pairs; *upper 95%%* is the\n"
              "rule of three (3/pairs) when nothing was seen, else the exact (Clopper-Pearson) one-sided bound.\n"
              "*Expected* = false matches expected when a library of M = %llu photos is compared with a\n"
              "database of N = %llu hashes (N x M x rate).\n\n",
          (unsigned long long)o->m_photos, (unsigned long long)o->n_db);
  fprintf(md, "| algorithm | threshold | matching | false matches | rate | upper 95%% | expected N x M |\n"
              "|---|---:|---|---:|---:|---:|---:|\n");
  fprintf(js, ",\"false_positives\":{\"pairs\":%llu,\"excluded_pairs\":%llu,\"algos\":{",
          (unsigned long long)r->pairs, (unsigned long long)r->excluded_pairs);
  for (size_t a = 0; a < o->n_algo; a++) {
    size_t nt;
    const int *thr = thr_list(o->algos[a], &nt);
    unsigned bits = algo_bits(o->algos[a]);
    fprintf(js, "%s\"%s\":{", a ? "," : "", vouch_algo_name(o->algos[a]));
    for (int m = 0; m < 2; m++) {
      const uint64_t *h = r->fp[a * 2 + m];
      fprintf(js, "%s\"%s\":{\"median\":%ld,\"p1\":%ld,\"min\":%ld,\"thresholds\":{", m ? "," : "",
              m ? "dihedral" : "plain", vouch_hist_percentile(h, NBINS, 0.5),
              vouch_hist_percentile(h, NBINS, 0.01), vouch_hist_percentile(h, NBINS, 0));
      for (size_t k = 0; k < nt; k++) {
        uint64_t x = hist_le(h, thr[k]);
        double rate = r->pairs ? (double)x / r->pairs : 0;
        double up = r->pairs == 0 ? 1 : x == 0 ? 3.0 / r->pairs : vouch_rate_upper_bound(x, r->pairs, 0.95);
        char b1[32], b2[32], b3[32];
        fmt_rate(b1, sizeof b1, rate);
        fmt_rate(b2, sizeof b2, up);
        fmt_rate(b3, sizeof b3, rate * (double)o->n_db * (double)o->m_photos);
        fprintf(md, "| %s | %d | %s | %llu | %s | %s | %s |\n", vouch_algo_name(o->algos[a]), thr[k],
                m ? "dihedral" : "plain", (unsigned long long)x, b1, b2, b3);
        fprintf(js, "%s\"%d\":{\"matches\":%llu,\"rate\":%.6e,\"upper95\":%.6e,\"expected_nm\":%.6e}",
                k ? "," : "", thr[k], (unsigned long long)x, rate, up,
                rate * (double)o->n_db * (double)o->m_photos);
      }
      fprintf(js, "},\"hist\":");
      write_hist_json(js, h, bits);
      fputc('}', js);
    }
    fputc('}', js);
  }
  fprintf(js, "},\"near_pairs\":[");
  fprintf(md, "\nDistance distribution of unrelated pairs (plain): ");
  for (size_t a = 0; a < o->n_algo; a++) {
    const uint64_t *h = r->fp[a * 2];
    fprintf(md, "%s%s median %ld, 1st percentile %ld, minimum %ld", a ? "; " : "",
            vouch_algo_name(o->algos[a]), vouch_hist_percentile(h, NBINS, 0.5),
            vouch_hist_percentile(h, NBINS, 0.01), vouch_hist_percentile(h, NBINS, 0));
  }
  fprintf(md, ".\n\n### Closest pairs\n\n"
              "The %zu closest pairs of distinct photos for each algorithm, with all four distances. Look at\n"
              "them: a pair showing the same scene is not a false match and belongs in the `--exclude` file;\n"
              "*excluded* marks those already there. A distance within the standard threshold is in bold.\n",
          o->list_n);
  for (size_t b = 0; b < o->n_algo; b++) {
    fprintf(md, "\n#### closest by %s\n\n| # | photo A | photo B |", vouch_algo_name(o->algos[b]));
    for (size_t a = 0; a < o->n_algo; a++) fprintf(md, " %s |", vouch_algo_name(o->algos[a]));
    fprintf(md, " status |\n|---:|---|---|");
    for (size_t a = 0; a < o->n_algo; a++) fprintf(md, "---:|");
    fprintf(md, "---|\n");
    for (size_t k = 0; k < r->n_top[b]; k++) {
      const near_pair *np = &r->top[b][k];
      fprintf(md, "| %zu | %s | %s |", k + 1, base_name(paths->v[np->i]), base_name(paths->v[np->j]));
      for (size_t a = 0; a < o->n_algo; a++)
        fprintf(md, np->d[a] <= std_thr(o->algos[a]) ? " **%u** |" : " %u |", np->d[a]);
      fprintf(md, " %s |\n", np->excluded ? "excluded" : "counted");
    }
  }
  size_t shown = 0;
  for (size_t k = 0; k < r->n_near; k++) {
    const near_pair *np = &r->near[k];
    fprintf(js, "%s{\"a\":", k ? "," : "");
    cli_json_string(js, paths->v[np->i]);
    fprintf(js, ",\"b\":");
    cli_json_string(js, paths->v[np->j]);
    fprintf(js, ",\"excluded\":%s,\"distances\":{", np->excluded ? "true" : "false");
    for (size_t a = 0; a < o->n_algo; a++)
      fprintf(js, "%s\"%s\":%u", a ? "," : "", vouch_algo_name(o->algos[a]), np->d[a]);
    fprintf(js, "}}");
  }
  if (r->n_near > shown)
    fprintf(md, "\nAll %zu pairs that some algorithm puts within 1.5x its standard threshold are in\n"
                "results.json (`near_pairs`)%s.\n", r->n_near, out->dir ? " and pairs.tsv" : "");
  fprintf(js, "]}");
  (void)w;
}

static void report_risk(const eval_opts *o, const results *r, outputs *out) {
  FILE *md = out->md, *js = out->js;
  fprintf(md, "\n## What it means for a person: per-account risk\n\n");
  fprintf(md, "Model (the 2021 design's): each of an innocent account's **M = %llu** photos a year is compared\n"
              "with a database of **N = %llu** hashes; a photo matches if any entry is within the threshold;\n"
              "the account is flagged at **t = %llu** matching photos. With p the per-pair false-match rate,\n"
              "a photo matches with q = 1 - (1-p)^N and the account is flagged with P(X >= t),\n"
              "X ~ Binomial(M, q). Photos are taken as independent, which real libraries (bursts, edits,\n"
              "re-saves of one scene) are not: correlated photos make the real risk higher. The 2021 claim\n"
              "was 1 in 10^12 per account per year.\n\n",
          (unsigned long long)o->m_photos, (unsigned long long)o->n_db, (unsigned long long)o->acct_t);
  fprintf(md, "| algorithm | threshold | matching | false matches / pairs | p (measured) | q per photo | false-matching photos/yr | P(flag)/yr at p | p (upper 95%%) | P(flag)/yr at upper |\n"
              "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
  fprintf(js, ",\"risk\":{\"n_db\":%llu,\"m_photos\":%llu,\"t\":%llu,\"claim_log10\":%.1f,\"rows\":[",
          (unsigned long long)o->n_db, (unsigned long long)o->m_photos, (unsigned long long)o->acct_t,
          CLAIM_LOG10);
  int first = 1;
  double p_needed = 0;
  for (size_t a = 0; a < o->n_algo; a++) {
    int thrs[2] = {std_thr(o->algos[a]), 0};
    for (int ti = 0; ti < (o->algos[a] == VOUCH_ALGO_PDQ ? 2 : 1); ti++) {
      for (int m = 0; m < 2; m++) {
        risk_row rr;
        risk_for(o, hist_le(r->fp[a * 2 + m], thrs[ti]), r->pairs, &rr);
        char b[6][32];
        fmt_rate(b[0], 32, rr.p_hat);
        fmt_rate(b[1], 32, rr.at_hat.q);
        if (rr.x == 0) snprintf(b[2], 32, "0 (none seen)");
        else fmt_prob(b[2], 32, rr.at_hat.log10_account);
        fmt_rate(b[3], 32, rr.p_up);
        fmt_prob(b[4], 32, rr.at_up.log10_account);
        fprintf(md, "| %s | %d%s | %s | %llu / %llu | %s | %s | %.4g | %s | %s%s | %s |\n",
                vouch_algo_name(o->algos[a]), thrs[ti], thrs[ti] == 0 ? " (exact key)" : "",
                m ? "dihedral" : "plain", (unsigned long long)rr.x, (unsigned long long)rr.k, b[0], b[1],
                rr.at_hat.expected_photos, b[2], b[3], rr.x == 0 ? " (3/K)" : "", b[4]);
        p_needed = rr.p_needed;
        fprintf(js, "%s{\"algo\":\"%s\",\"threshold\":%d,\"matching\":\"%s\",\"pairs\":%llu,\"matches\":%llu,"
                    "\"p\":%.6e,\"q\":%.6e,\"log10_account\":%.6f,\"p_upper95\":%.6e,\"q_upper\":%.6e,"
                    "\"log10_account_upper\":%.6f,\"p_needed\":%.6e,\"expected_photos_per_year\":%.6e}",
                first ? "" : ",", vouch_algo_name(o->algos[a]), thrs[ti], m ? "dihedral" : "plain",
                (unsigned long long)rr.k, (unsigned long long)rr.x, rr.p_hat, rr.at_hat.q,
                isfinite(rr.at_hat.log10_account) ? rr.at_hat.log10_account : -1e308, rr.p_up, rr.at_up.q,
                isfinite(rr.at_up.log10_account) ? rr.at_up.log10_account : -1e308, rr.p_needed,
                rr.at_hat.expected_photos);
        first = 0;
      }
    }
  }
  fprintf(js, "]");
  {
    char b1[32], b2[32], b3[32];
    vouch_risk_in in = {.p = p_needed, .n_db = o->n_db, .m_photos = o->m_photos, .t = o->acct_t};
    vouch_risk_out ro;
    vouch_risk_account(&in, &ro);
    fmt_rate(b1, sizeof b1, p_needed);
    fmt_rate(b2, sizeof b2, ro.q);
    fmt_rate(b3, sizeof b3, p_needed > 0 ? 3.0 / p_needed : INFINITY);
    double photos = p_needed > 0 ? 0.5 + sqrt(0.25 + 2 * 3.0 / p_needed) : INFINITY;
    fprintf(md, "\n*P(flag)* is the chance that an innocent account is flagged in a year. For comparison with\n"
                "the 2021 claim: with these N, M and t, P(flag) <= 1e-12 needs a per-pair rate p <= **%s**\n"
                "(a photo matching some entry with q <= %s, i.e. %.3g false-matching photos a year on\n"
                "average). Showing a rate that low by the rule of three takes %s unrelated pairs with no\n"
                "false match: all pairs of about %.0f photos. The threshold t does most of the work: what\n"
                "a corpus of this size can show is only that p is below its upper bound.\n",
            b1, b2, ro.expected_photos, b3, photos);
    fprintf(js, ",\"p_needed\":%.6e,\"q_needed\":%.6e,\"pairs_to_show\":%.6e", p_needed, ro.q,
            p_needed > 0 ? 3.0 / p_needed : 0.0);
  }
  /* Exact keys: what private matching on exact PDQ bits would give up. */
  if (o->mode == 3) {
    size_t ap = o->n_algo;
    for (size_t a = 0; a < o->n_algo; a++)
      if (o->algos[a] == VOUCH_ALGO_PDQ) ap = a;
    if (ap < o->n_algo && o->n_tf) {
      fprintf(md, "\n### Exact keys (what private matching on exact PDQ bits costs)\n\n"
                  "Private set intersection matches exact keys. Using the PDQ bits themselves as the key is\n"
                  "threshold 0: the recall below is what survives each edit, next to the recall at 31.\n\n"
                  "| transform | PDQ = (exact key) | PDQ ≤31 | exact, dih. | ≤31, dih. |\n|---|---:|---:|---:|---:|\n");
      fprintf(js, ",\"exact_key\":[");
      for (size_t t = 0; t < o->n_tf; t++) {
        char name[VOUCH_TRANSFORM_TEXT_BYTES];
        vouch_transform_format(&o->suite[t], name, sizeof name);
        const uint64_t *h = r->rob[(t * o->n_algo + ap) * 2], *hd = r->rob[(t * o->n_algo + ap) * 2 + 1];
        uint64_t tot = hist_total(h);
        fprintf(md, "| %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", name, pct(hist_le(h, 0), tot),
                pct(hist_le(h, 31), tot), pct(hist_le(hd, 0), tot), pct(hist_le(hd, 31), tot));
        fprintf(js, "%s{\"transform\":\"%s\",\"recall_exact\":%.6f,\"recall_31\":%.6f}", t ? "," : "", name,
                tot ? (double)hist_le(h, 0) / tot : 0.0, tot ? (double)hist_le(h, 31) / tot : 0.0);
      }
      uint64_t e0 = 0, e31 = 0, ed0 = 0, ed31 = 0, tot = 0;
      for (size_t t = 0; t < o->n_tf; t++) {
        const uint64_t *h = r->rob[(t * o->n_algo + ap) * 2], *hd = r->rob[(t * o->n_algo + ap) * 2 + 1];
        e0 += hist_le(h, 0);
        e31 += hist_le(h, 31);
        ed0 += hist_le(hd, 0);
        ed31 += hist_le(hd, 31);
        tot += hist_total(h);
      }
      fprintf(md, "| **all transforms** | **%.1f%%** | **%.1f%%** | **%.1f%%** | **%.1f%%** |\n", pct(e0, tot),
              pct(e31, tot), pct(ed0, tot), pct(ed31, tot));
      fprintf(md, "\nUnrelated pairs with identical PDQ bits: %llu of %llu. An exact key gives the server nothing\n"
                  "about near misses (a photo one bit away is as unknown as any other), but it lets any edit\n"
                  "that changes one bit evade the match.\n",
              (unsigned long long)hist_le(r->fp[ap * 2], 0), (unsigned long long)r->pairs);
      fprintf(js, "]");
    }
  }
  fprintf(js, "}");
}

/* The private path (eval_private.c): recall per transform, false openings. */
static int excluded_cb(const void *ctx, size_t i, size_t j) { return is_excluded(ctx, i, j); }

static int report_private(const eval_opts *o, const cli_paths *paths, const work *w, const exclusions *ex,
                          outputs *out) {
  size_t n = paths->n, pdq_a = 0;
  for (size_t a = 0; a < o->n_algo; a++)
    if (o->algos[a] == VOUCH_ALGO_PDQ) pdq_a = a;
  int *ok = calloc(n, sizeof *ok);
  uint8_t (*hash)[32] = calloc(n, sizeof *hash);
  uint16_t *plain = calloc(n * (o->n_tf ? o->n_tf : 1), sizeof *plain);
  const char **names = calloc(n, sizeof *names);
  int rc = -1;
  if (ok && hash && plain && names) {
    for (size_t i = 0; i < n; i++) {
      ok[i] = w->info[i].rc == VOUCH_OK;
      names[i] = base_name(paths->v[i]);
      memcpy(hash[i], w->hashes[i * o->n_algo + pdq_a][0], 32);
      for (size_t t = 0; t < o->n_tf; t++) plain[i * o->n_tf + t] = w->dist[(i * o->n_tf + t) * o->n_algo + pdq_a].plain;
    }
    evp_data d = {n, ok, (const uint8_t(*)[32])hash, (const float(*)[256])w->margins, o->n_tf, o->suite, w->ranks,
                  plain, excluded_cb, ex, names, o->n_db, o->m_photos, o->acct_t};
    rc = evp_report(&o->priv, &d, o->mode & 2, out->md, out->js);
  }
  free(ok);
  free(hash);
  free(plain);
  free(names);
  return rc;
}

/* ------------------------------------------------------------ plots */

/* Runs `gnuplot plots.gp` in `dir` with its messages in dir/gnuplot.log.
 * Returns 0 on success, 1 if gnuplot failed, -1 if it could not be run
 * (not installed). */
static int run_gnuplot(const char *dir) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (chdir(dir) != 0) _exit(126);
    int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
      close(fd);
    }
    execlp("gnuplot", "gnuplot", "plots.gp", (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 127) return -1;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t cap) {
  snprintf(path, cap, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) cli_errorf("%s: %s", path, strerror(errno));
  return f;
}

/* Writes the data files and the gnuplot script; runs gnuplot when present.
 * Returns the number of plots made (0 when skipped), or -1 on a write error. */
static int write_plots(const eval_opts *o, const results *r, const char *dir, FILE *md) {
  char path[4096];
  int kinds[VOUCH_TF_KIND_END_];
  size_t nk = families(o, kinds);
  FILE *gp = open_in(dir, "plots.gp", path, sizeof path);
  if (!gp) return -1;
  fprintf(gp, "# gnuplot script written by vouch eval; run from this folder: gnuplot plots.gp\n"
              "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
              "  set terminal pngcairo size 1100,650 font ',10'\n} else {\n  set terminal png size 1100,650\n}\n"
              "set grid\nset key outside right top\nset colorsequence podo\n"
              "set datafile missing '?'  # empty histogram bins: skipped, lines still joined\n");
  int nplots = 0;
  for (size_t a = 0; a < o->n_algo; a++) {
    const char *an = vouch_algo_name(o->algos[a]);
    unsigned bits = algo_bits(o->algos[a]);
    char name[64];
    /* Histograms: same photo transformed (pooled) vs unrelated pairs. */
    snprintf(name, sizeof name, "hist_%s.dat", an);
    FILE *f = open_in(dir, name, path, sizeof path);
    if (!f) {
      fclose(gp);
      return -1;
    }
    uint64_t pooled[NBINS] = {0};
    for (size_t t = 0; t < o->n_tf; t++)
      for (int d = 0; d < NBINS; d++) pooled[d] += r->rob[(t * o->n_algo + a) * 2][d];
    uint64_t tp = hist_total(pooled), tf = hist_total(r->fp[a * 2]);
    fprintf(f, "# distance  transformed_fraction  unrelated_fraction  (%s; %llu transformed copies, %llu unrelated pairs)\n",
            an, (unsigned long long)tp, (unsigned long long)tf);
    for (unsigned d = 0; d <= bits; d++) {
      fprintf(f, "%u", d);
      if (pooled[d]) fprintf(f, " %.9g", (double)pooled[d] / tp);
      else fputs(" ?", f);
      if (r->fp[a * 2][d]) fprintf(f, " %.9g\n", (double)r->fp[a * 2][d] / tf);
      else fputs(" ?\n", f);
    }
    fclose(f);
    fprintf(gp, "set output 'hist_%s.png'\nset title '%s: distance distributions'\n"
                "set xlabel 'Hamming distance (bits), 2-bit bins'\nset ylabel 'fraction (log scale)'\nset format y '%%g'\n"
                "set logscale y\nset xrange [0:%u]\nset arrow 1 from %d, graph 0 to %d, graph 1 nohead dt 2\n"
                "plot 'hist_%s.dat' u (2*floor($1/2)):2 smooth frequency w lp lw 2 pt 7 ps 0.6 "
                "t 'same photo, edited (all transforms)', "
                "'' u (2*floor($1/2)):3 smooth frequency w lp lw 2 pt 7 ps 0.6 t 'unrelated photos'\n"
                "set format y\n"
                "unset arrow 1\nunset logscale y\n",
            an, an, bits, std_thr(o->algos[a]), std_thr(o->algos[a]), an);
    nplots++;
    /* Recall vs threshold per transform family, and the false-match rate. */
    if (o->n_tf) {
      snprintf(name, sizeof name, "recall_%s.dat", an);
      f = open_in(dir, name, path, sizeof path);
      if (!f) {
        fclose(gp);
        return -1;
      }
      fprintf(f, "# threshold");
      for (size_t k = 0; k < nk; k++) fprintf(f, " %s", vouch_transform_kind_name(kinds[k]));
      fprintf(f, " all_plain all_dihedral false_match_rate  (recall: mean over each family's parameters)\n");
      for (unsigned d = 0; d <= bits; d++) {
        fprintf(f, "%u", d);
        for (size_t k = 0; k < nk; k++) {
          double s = 0;
          int cnt = 0;
          for (size_t t = 0; t < o->n_tf; t++) {
            if (o->suite[t].kind != kinds[k]) continue;
            const uint64_t *h = r->rob[(t * o->n_algo + a) * 2];
            uint64_t tot = hist_total(h);
            s += tot ? (double)hist_le(h, (int)d) / tot : 0;
            cnt++;
          }
          fprintf(f, " %.6f", cnt ? s / cnt : 0.0);
        }
        uint64_t pd[NBINS] = {0};
        for (size_t t = 0; t < o->n_tf; t++)
          for (int x = 0; x < NBINS; x++) pd[x] += r->rob[(t * o->n_algo + a) * 2 + 1][x];
        fprintf(f, " %.6f %.6f %.9g\n", tp ? (double)hist_le(pooled, (int)d) / tp : 0.0,
                hist_total(pd) ? (double)hist_le(pd, (int)d) / hist_total(pd) : 0.0,
                tf ? (double)hist_le(r->fp[a * 2], (int)d) / tf : 0.0);
      }
      fclose(f);
      fprintf(gp, "set output 'recall_%s.png'\nset title '%s: recall vs threshold (mean per transform family) and false-match rate'\n"
                  "set xlabel 'threshold (bits)'\nset ylabel 'recall'\nset yrange [0:1.02]\n"
                  "set y2label 'false-match rate per pair (log)'\nset logscale y2\nset y2tics\nset format y2 '%%g'\n"
                  "set ytics nomirror\n"
                  "set xrange [0:%u]\nset arrow 1 from %d, graph 0 to %d, graph 1 nohead dt 2\nplot ",
              an, an, bits / 2, std_thr(o->algos[a]), std_thr(o->algos[a]));
      for (size_t k = 0; k < nk; k++)
        fprintf(gp, "'recall_%s.dat' u 1:%zu w l lw 2 lc %zu dt %d t '%s', ", an, k + 2, k % 8 + 1,
                k < 8 ? 1 : 4, vouch_transform_kind_name(kinds[k]));
      fprintf(gp, "'recall_%s.dat' u 1:%zu w l lw 3 lc rgb 'black' t 'all (plain)', "
                  "'' u 1:%zu w l lw 3 dt 2 lc rgb 'gray50' t 'all (dihedral)', "
                  "'' u 1:($%zu>0?$%zu:1/0) axes x1y2 w lp pt 6 lc rgb 'red' t 'false-match rate'\n"
                  "unset arrow 1\nunset logscale y2\nunset y2tics\nunset y2label\nset ytics mirror\nset autoscale y\n",
              an, nk + 2, nk + 3, nk + 4, nk + 4);
      nplots++;
    }
  }
  fclose(gp);
  int rc = run_gnuplot(dir);
  if (rc < 0) {
    fprintf(md, "\n*Plots skipped: gnuplot was not found. The data files (hist_*.dat, recall_*.dat) and\n"
                "plots.gp are in the report folder; `gnuplot plots.gp` there makes the PNGs.*\n");
    return 0;
  }
  if (rc > 0) {
    cli_warnf("gnuplot failed (see %s/gnuplot.log); data files are written", dir);
    fprintf(md, "\n*Plots: gnuplot failed (gnuplot.log); data files and plots.gp are written.*\n");
    return 0;
  }
  fprintf(md, "\n## Plots\n\n");
  for (size_t a = 0; a < o->n_algo; a++) {
    const char *an = vouch_algo_name(o->algos[a]);
    fprintf(md, "![%s distances](hist_%s.png)\n", an, an);
    if (o->n_tf) fprintf(md, "![%s recall](recall_%s.png)\n", an, an);
  }
  return nplots;
}

/* ------------------------------------------------------------ option parsing */

static int parse_algos(const char *s, eval_opts *o) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  o->n_algo = 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    int al = vouch_algo_from_name(tok);
    if (al == VOUCH_ALGO_NONE || o->n_algo == MAX_ALGOS) return -1;
    for (size_t a = 0; a < o->n_algo; a++)
      if (o->algos[a] == al) return -1;
    o->algos[o->n_algo++] = al;
  }
  return o->n_algo ? 0 : -1;
}

static int parse_transforms(const char *s, eval_opts *o, vouch_transform **owned) {
  size_t n = 1;
  for (const char *p = s; *p; p++) n += *p == ',';
  vouch_transform *v = calloc(n, sizeof *v);
  char *buf = strdup(s);
  if (!v || !buf) {
    free(v);
    free(buf);
    return -1;
  }
  size_t k = 0;
  int bad = 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (vouch_transform_parse(tok, &v[k]) != VOUCH_OK) {
      cli_errorf("bad transform '%s' (KIND:PARAM; --list-transforms shows the suite)", tok);
      bad = 1;
      break;
    }
    k++;
  }
  free(buf);
  if (bad || k == 0) {
    free(v);
    return -1;
  }
  o->suite = v;
  o->n_tf = k;
  *owned = v;
  return 0;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  unsigned long v;
  if (cli_parse_uint(s, lo, hi > (uint64_t)ULONG_MAX ? ULONG_MAX : (unsigned long)hi, &v) != 0) return -1;
  *out = v;
  return 0;
}

static double cpu_seconds(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec * 1e-6;
}

/* `vouch eval risk`: the model alone. */
static int run_risk(const eval_opts *o, int have_rate, double rate, int have_x, uint64_t x, int have_k,
                    uint64_t k) {
  if (have_rate == (have_x || have_k) || have_x != have_k) {
    cli_errorf("risk needs either --rate P or both --matches X and --pairs K");
    return CLI_EXIT_ERROR;
  }
  double p = rate, up = rate;
  if (have_x) {
    if (x > k) {
      cli_errorf("--matches cannot exceed --pairs");
      return CLI_EXIT_ERROR;
    }
    p = (double)x / (double)k;
    up = x == 0 ? 3.0 / (double)k : vouch_rate_upper_bound(x, k, 0.95);
    if (up > 1) up = 1;
  }
  vouch_risk_in in = {.p = p, .n_db = o->n_db, .m_photos = o->m_photos, .t = o->acct_t};
  vouch_risk_out a, b;
  if (vouch_risk_account(&in, &a) != VOUCH_OK) {
    cli_errorf("the rate must be in [0, 1]");
    return CLI_EXIT_ERROR;
  }
  in.p = up;
  vouch_risk_account(&in, &b);
  double need = vouch_risk_rate_for_target(&in, CLAIM_LOG10);
  char s[6][32];
  fmt_rate(s[0], 32, p);
  fmt_rate(s[1], 32, a.q);
  fmt_prob(s[2], 32, a.log10_account);
  fmt_rate(s[3], 32, need);
  printf("N = %llu database hashes, M = %llu photos/year, flagged at t = %llu matches\n",
         (unsigned long long)o->n_db, (unsigned long long)o->m_photos, (unsigned long long)o->acct_t);
  printf("per-pair rate p        %s%s\n", s[0], have_x && x == 0 ? "  (no match seen)" : "");
  printf("per-photo q            %s   (expected matching photos/year %.4g)\n", s[1], a.expected_photos);
  printf("P(account flagged/yr)  %s   (log10 %.2f)\n", s[2], a.log10_account);
  if (have_x) {
    fmt_rate(s[4], 32, up);
    fmt_prob(s[5], 32, b.log10_account);
    printf("upper 95%% p            %s%s\n", s[4], x == 0 ? "  (rule of three: 3/K)" : "  (Clopper-Pearson)");
    printf("P(flagged) at upper    %s   (log10 %.2f)\n", s[5], b.log10_account);
  }
  printf("2021 claim             1e-12 per account per year\n");
  printf("p needed for 1e-12     %s   (pairs needed to show it with none seen: %.3g)\n", s[3],
         need > 0 ? 3.0 / need : INFINITY);
  return CLI_EXIT_OK;
}

/* ------------------------------------------------------------ the command */

int cmd_eval(int argc, char **argv) {
  static const struct option longopts[] = {
    {"algo", required_argument, NULL, 'a'},      {"transform", required_argument, NULL, 't'},
    {"jobs", required_argument, NULL, 'j'},      {"max-side", required_argument, NULL, 'S'},
    {"limit", required_argument, NULL, 'L'},     {"seed", required_argument, NULL, 's'},
    {"exclude", required_argument, NULL, 'x'},   {"list", required_argument, NULL, 'l'},
    {"db", required_argument, NULL, 'N'},        {"photos", required_argument, NULL, 'M'},
    {"threshold", required_argument, NULL, 'T'}, {"report", required_argument, NULL, 'R'},
    {"matches", required_argument, NULL, 'X'},   {"pairs", required_argument, NULL, 'K'},
    {"rate", required_argument, NULL, 'P'},      {"list-transforms", no_argument, NULL, 'Z'},
    {"bands", required_argument, NULL, 'B'},     {"probes", required_argument, NULL, 'Q'},
    {"no-private", no_argument, NULL, 'U'},
    {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
  int no_private = 0;
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(eval_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
  }
  eval_opts o;
  memset(&o, 0, sizeof o);
  const char *sub = argv[1];
  if (!strcmp(sub, "attack")) return cmd_eval_attack(argc - 1, argv + 1);
  if (!strcmp(sub, "leakage")) return cmd_eval_leakage(argc - 1, argv + 1);
  int risk_only = 0;
  if (!strcmp(sub, "robustness")) o.mode = 1;
  else if (!strcmp(sub, "false-positives")) o.mode = 2;
  else if (!strcmp(sub, "all")) o.mode = 3;
  else if (!strcmp(sub, "risk")) risk_only = 1;
  else if (!strcmp(sub, "--list-transforms")) o.mode = 1; /* handled below */
  else {
    cli_errorf("unknown eval subcommand '%s' (robustness, false-positives, all, risk, attack, leakage)", sub);
    return CLI_EXIT_ERROR;
  }
  static const int all_algos[] = {VOUCH_ALGO_PDQ, VOUCH_ALGO_PHASH, VOUCH_ALGO_DHASH, VOUCH_ALGO_AHASH};
  memcpy(o.algos, all_algos, sizeof all_algos);
  o.n_algo = MAX_ALGOS;
  o.max_side = 1024;
  o.seed = 1;
  o.list_n = 25;
  o.n_db = 200000;
  o.m_photos = 5000;
  o.acct_t = 30;
  o.jobs = 0;
  evp_defaults(&o.priv);
  int have_rate = 0, have_x = 0, have_k = 0, list_tf = !strcmp(sub, "--list-transforms");
  double rate = 0;
  uint64_t x = 0, k = 0, v;
  vouch_transform *owned_suite = NULL;
  int ch;
  optind = list_tf ? 1 : 2;
  while (!list_tf && (ch = getopt_long(argc, argv, "a:t:j:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'a':
      if (parse_algos(optarg, &o) != 0) {
        cli_errorf("bad --algo '%s' (comma-separated pdq, phash, dhash, ahash)", optarg);
        free(owned_suite);
        return CLI_EXIT_ERROR;
      }
      break;
    case 't':
      free(owned_suite);
      owned_suite = NULL;
      if (parse_transforms(optarg, &o, &owned_suite) != 0) return CLI_EXIT_ERROR;
      break;
    case 'j':
      if (parse_u64(optarg, 1, 1024, &v) != 0) goto bad_number;
      o.jobs = (int)v;
      break;
    case 'S':
      if (parse_u64(optarg, 0, 30000, &v) != 0) goto bad_number;
      if (v != 0 && v < 16) goto bad_number;
      o.max_side = (uint32_t)v;
      break;
    case 'L':
      if (parse_u64(optarg, 2, SIZE_MAX, &v) != 0) goto bad_number;
      o.limit = (size_t)v;
      break;
    case 's':
      if (parse_u64(optarg, 0, UINT64_MAX, &o.seed) != 0) goto bad_number;
      break;
    case 'x': o.exclude = optarg; break;
    case 'l':
      if (parse_u64(optarg, 0, 1000000, &v) != 0) goto bad_number;
      o.list_n = (size_t)v;
      break;
    case 'N':
      if (parse_u64(optarg, 1, UINT64_C(1) << 40, &o.n_db) != 0) goto bad_number;
      break;
    case 'M':
      if (parse_u64(optarg, 1, 100000000, &o.m_photos) != 0) goto bad_number;
      break;
    case 'T':
      if (parse_u64(optarg, 1, 100000000, &o.acct_t) != 0) goto bad_number;
      break;
    case 'R': o.report_dir = optarg; break;
    case 'X':
      if (parse_u64(optarg, 0, UINT64_MAX, &x) != 0) goto bad_number;
      have_x = 1;
      break;
    case 'K':
      if (parse_u64(optarg, 1, UINT64_MAX, &k) != 0) goto bad_number;
      have_k = 1;
      break;
    case 'P': {
      char *end;
      errno = 0;
      rate = strtod(optarg, &end);
      if (errno || *end || !(rate >= 0 && rate <= 1)) goto bad_number;
      have_rate = 1;
      break;
    }
    case 'Z': list_tf = 1; break;
    case 'B':
      if (evp_parse_bands(&o.priv, optarg) != 0) {
        free(owned_suite);
        return CLI_EXIT_ERROR;
      }
      break;
    case 'Q':
      if (evp_parse_probes(&o.priv, optarg) != 0) {
        free(owned_suite);
        return CLI_EXIT_ERROR;
      }
      break;
    case 'U': no_private = 1; break;
    case 'h':
      fputs(eval_usage, stdout);
      free(owned_suite);
      return CLI_EXIT_OK;
    default:
      fputs(eval_usage, stderr);
      free(owned_suite);
      return CLI_EXIT_ERROR;
    }
  }
  if (list_tf) {
    size_t n;
    const vouch_transform *s = vouch_transform_default_suite(&n);
    for (size_t i = 0; i < n; i++) {
      char name[VOUCH_TRANSFORM_TEXT_BYTES];
      vouch_transform_format(&s[i], name, sizeof name);
      printf("%s\n", name);
    }
    free(owned_suite);
    return CLI_EXIT_OK;
  }
  if (risk_only) {
    free(owned_suite);
    return run_risk(&o, have_rate, rate, have_x, x, have_k, k);
  }
  if (have_rate || have_x || have_k) {
    cli_errorf("--rate, --matches and --pairs belong to 'vouch eval risk'");
    free(owned_suite);
    return CLI_EXIT_ERROR;
  }
  if (optind >= argc) {
    cli_errorf("no photo folder given");
    fputs(eval_usage, stderr);
    free(owned_suite);
    return CLI_EXIT_ERROR;
  }
  if (!(o.mode & 1)) {
    o.n_tf = 0;
  } else if (!o.suite) {
    o.suite = vouch_transform_default_suite(&o.n_tf);
  }

  for (size_t a = 0; a < o.n_algo && !no_private; a++)
    if (o.algos[a] == VOUCH_ALGO_PDQ) o.private_on = 1;
  int rc_exit = CLI_EXIT_ERROR;
  cli_paths paths = {0};
  exclusions ex = {0};
  results r;
  memset(&r, 0, sizeof r);
  work w;
  memset(&w, 0, sizeof w);
  outputs out = {NULL, NULL, o.report_dir};
  double t0 = cli_now(), c0 = cpu_seconds();

  int bad = cli_paths_collect(&paths, argv + optind, argc - optind, 1);
  if (bad) goto done;
  if (o.limit && paths.n > o.limit) {
    for (size_t i = o.limit; i < paths.n; i++) free(paths.v[i]);
    paths.n = o.limit;
  }
  if (paths.n < 2) {
    cli_errorf("need at least 2 photos, found %zu", paths.n);
    goto done;
  }
  if (o.exclude && load_exclusions(o.exclude, &paths, &ex) != 0) goto done;
  if (o.report_dir && mkdir(o.report_dir, 0777) != 0 && errno != EEXIST) {
    cli_errorf("%s: %s", o.report_dir, strerror(errno));
    goto done;
  }

  w.paths = &paths;
  w.o = &o;
  w.info = calloc(paths.n, sizeof *w.info);
  w.hashes = calloc(paths.n * o.n_algo, sizeof *w.hashes);
  w.dist = o.n_tf ? calloc(paths.n * o.n_tf * o.n_algo, sizeof *w.dist) : NULL;
  r.rob = o.n_tf ? calloc(o.n_tf * o.n_algo * 2, sizeof *r.rob) : NULL;
  if (o.private_on) {
    w.ranks = calloc(paths.n * (o.n_tf ? o.n_tf : 1) * o.priv.n_bands, sizeof *w.ranks);
    w.margins = calloc(paths.n, sizeof *w.margins);
  }
  if (!w.info || !w.hashes || (o.n_tf && (!w.dist || !r.rob)) ||
      (o.private_on && (!w.ranks || !w.margins))) {
    cli_errorf("out of memory");
    goto done;
  }
  if (run_pool(&w, o.jobs) != 0) {
    cli_errorf("could not start worker threads");
    goto done;
  }
  size_t pdq_a = o.n_algo;
  for (size_t a = 0; a < o.n_algo; a++)
    if (o.algos[a] == VOUCH_ALGO_PDQ) pdq_a = a;
  for (size_t i = 0; i < paths.n; i++) {
    photo_info *pi = &w.info[i];
    if (pi->rc != VOUCH_OK) {
      if (pi->skipped) r.n_skipped++;
      else {
        r.n_failed++;
        cli_warnf("%s: %s: %s (left out)", paths.v[i], vouch_strerror(pi->rc), pi->err);
      }
      continue;
    }
    r.n_ok++;
    if (pdq_a < o.n_algo && pi->quality < 50) r.low_quality++;
    for (size_t t = 0; t < o.n_tf; t++)
      for (size_t a = 0; a < o.n_algo; a++) {
        const vouch_eval_dist *d = &w.dist[(i * o.n_tf + t) * o.n_algo + a];
        r.rob[(t * o.n_algo + a) * 2][d->plain]++;
        r.rob[(t * o.n_algo + a) * 2 + 1][d->dihedral]++;
      }
  }
  if (r.n_ok < 2) {
    cli_errorf("fewer than 2 photos could be evaluated");
    goto done;
  }
  for (size_t a = 0; a < o.n_algo && (o.mode & 2); a++) {
    r.top[a] = calloc(o.list_n ? o.list_n : 1, sizeof *r.top[a]);
    if (!r.top[a]) {
      cli_errorf("out of memory");
      goto done;
    }
  }
  double tp0 = cli_now();
  if ((o.mode & 2) && pair_pass(&o, &w, paths.n, &ex, &r) != 0) {
    cli_errorf("out of memory");
    goto done;
  }
  r.pair_wall = cli_now() - tp0;
  r.wall = cli_now() - t0;
  r.cpu = cpu_seconds() - c0;

  char path[4096];
  if (o.report_dir) {
    out.md = open_in(o.report_dir, "report.md", path, sizeof path);
    if (!out.md) goto done;
    out.js = open_in(o.report_dir, "results.json", path, sizeof path);
  } else {
    out.md = stdout;
    out.js = fopen("/dev/null", "w");
  }
  if (!out.js) goto done;
  fprintf(out.js, "{\"vouch_version\":\"%s\",\"photos\":%zu,\"failed\":%zu,\"skipped\":%zu,"
                  "\"max_side\":%u,\"seed\":%llu,\"pdq_low_quality\":%zu,\"wall_seconds\":%.3f,"
                  "\"cpu_seconds\":%.3f,\"pair_pass_seconds\":%.3f,\"algos\":[",
          vouch_version_string(), r.n_ok, r.n_failed, r.n_skipped, o.max_side,
          (unsigned long long)o.seed, r.low_quality, r.wall, r.cpu, r.pair_wall);
  for (size_t a = 0; a < o.n_algo; a++) fprintf(out.js, "%s\"%s\"", a ? "," : "", vouch_algo_name(o.algos[a]));
  fprintf(out.js, "],");
  report_header(&o, &paths, &r, out.md);
  if (o.mode & 1) report_robustness(&o, &r, &out);
  else fprintf(out.js, "\"robustness\":null");
  if (o.mode & 2) {
    report_fp(&o, &paths, &w, &r, &ex, &out);
    report_risk(&o, &r, &out);
  }
  if (o.private_on && report_private(&o, &paths, &w, &ex, &out) != 0) {
    cli_errorf("out of memory");
    goto done;
  }
  if (r.n_failed) {
    fprintf(out.md, "\n## Photos left out\n\n");
    for (size_t i = 0; i < paths.n; i++)
      if (w.info[i].rc != VOUCH_OK && !w.info[i].skipped)
        fprintf(out.md, "- %s: %s (%s)\n", base_name(paths.v[i]), vouch_strerror(w.info[i].rc), w.info[i].err);
  }
  fprintf(out.js, "}\n");
  if (o.report_dir) {
    if (o.mode & 2) {
      FILE *pf = open_in(o.report_dir, "pairs.tsv", path, sizeof path);
      if (!pf) goto done;
      fprintf(pf, "# closest pairs (score = min distance / standard threshold); status\nphoto_a\tphoto_b");
      for (size_t a = 0; a < o.n_algo; a++) fprintf(pf, "\t%s", vouch_algo_name(o.algos[a]));
      fprintf(pf, "\tstatus\n");
      for (size_t n = 0; n < r.n_near; n++) {
        fprintf(pf, "%s\t%s", base_name(paths.v[r.near[n].i]), base_name(paths.v[r.near[n].j]));
        for (size_t a = 0; a < o.n_algo; a++) fprintf(pf, "\t%u", r.near[n].d[a]);
        fprintf(pf, "\t%s\n", r.near[n].excluded ? "excluded" : "counted");
      }
      fclose(pf);
    }
    int np = write_plots(&o, &r, o.report_dir, out.md);
    if (np < 0) goto done;
    fprintf(stderr, "vouch: report written to %s/report.md (%d plot%s)\n", o.report_dir, np, np == 1 ? "" : "s");
  }
  rc_exit = CLI_EXIT_OK;

done:
  if (out.md && out.md != stdout && fclose(out.md) != 0) rc_exit = CLI_EXIT_ERROR;
  if (out.js && fclose(out.js) != 0) rc_exit = CLI_EXIT_ERROR;
  if (fflush(stdout) != 0) rc_exit = CLI_EXIT_ERROR;
  free(w.info);
  free(w.hashes);
  free(w.dist);
  free(w.ranks);
  free(w.margins);
  free(r.rob);
  free(r.near);
  for (size_t a = 0; a < MAX_ALGOS; a++) free(r.top[a]);
  free(ex.keys);
  free(owned_suite);
  cli_paths_free(&paths);
  return rc_exit;

bad_number:
  cli_errorf("bad value '%s' for an option (see vouch eval --help)", optarg);
  free(owned_suite);
  return CLI_EXIT_ERROR;
}
