/* programs/cli/cmd_eval.c -- `vouch eval`: how well perceptual matching
 * holds up on real photos, and what its mistakes mean for a person.
 *
 *   vouch eval robustness DIR...       transformed copies: distances, recall
 *   vouch eval false-positives DIR...  unrelated pairs: false-match rates, risk
 *   vouch eval all DIR...              both, plus the recall/privacy trade-off
 *   vouch eval risk --matches X --pairs K | --rate P    the risk model alone
 *
 * Photos are decoded, brought to a working size, hashed and transformed on
 * the CLI's photo pipeline (photojob.c; one decoder, hasher and transformer
 * per thread), one photo per item.  Everything after that (histograms,
 * pairs, statistics) runs on the calling thread; the report is written by
 * eval_report.c and the plots by eval_plot.c (shared types: eval.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "eval.h"

static const char eval_usage[] =
  "usage: vouch eval robustness|false-positives|all [OPTIONS] DIR...\n"
  "       vouch eval risk (--matches X --pairs K | --rate P) [OPTIONS]\n"
  "       vouch eval attack [OPTIONS] DIR...   (forged PDQ collisions: see --help)\n"
  "       vouch eval leakage [OPTIONS]         (what the opened count tells the server\n"
  "                                             below the threshold: see --help)\n"
  "       vouch eval video [OPTIONS] DIR...    (edited and re-encoded videos: see --help)\n"
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
  "      --no-views        private probes from each copy's own hash only, without\n"
  "                        its tonal views (docs/protocol.md section 4.3)\n"
  "      --probe-dump FILE write every PDQ copy with its margins to FILE (for\n"
  "                        bench/probe_flips.py; needs the robustness part)\n"
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

/* ------------------------------------------------------------ per-photo work */

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
  vouch_eval_probe_opts po = {o->priv.bands, o->priv.n_bands, o->priv.max_p, o->priv.probes,
                              o->priv.n_probes, o->priv.views};
  vouch_eval_probe_out *pout = o->private_on ? malloc(sizeof *pout) : NULL;
  if (pout) {
    pout->rank = o->n_tf ? w->ranks + i * o->n_tf * o->priv.n_bands : NULL;
    pout->copy_hash = w->copy_hash ? w->copy_hash + i * o->n_tf : NULL;
    pout->copy_margin = w->copy_margin ? w->copy_margin + i * o->n_tf : NULL;
    pout->found = o->n_tf ? w->found + i * o->n_tf * o->priv.n_bands : NULL;
  }
  rc = o->private_on && !pout ? VOUCH_E_NOMEM
       : vouch_eval_photo_probes(tf, h, &img, o->suite, o->n_tf, o->algos, o->n_algo, seed,
                                 w->hashes + i * o->n_algo, &pi->quality,
                                 o->n_tf ? w->dist + i * o->n_tf * o->n_algo : NULL, pout ? &po : NULL, pout);
  if (rc == VOUCH_OK && pout) {
    memcpy(w->margins[i], pout->orig_margin, sizeof w->margins[i]);
    w->views[i] = pout->orig_views;
  }
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
  /* The results go to w's arrays by index, so the photos need not be
   * taken in step with the (empty) delivery: no window, as before. */
  cli_photojob job = {.n = w->paths->n,
                      .jobs = jobs,
                      .window_per_job = w->paths->n,
                      .progress_label = w->o->n_tf ? "evaluating" : "hashing",
                      .ctx = w,
                      .init = tools_init,
                      .fini = tools_free,
                      .work = eval_work};
  return cli_photojob_run(&job);
}

/* ------------------------------------------------------------ results */

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

int eval_is_excluded(const exclusions *ex, size_t i, size_t j) {
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
      int excl = eval_is_excluded(ex, i, j);
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
  eval_fmt_rate(s[0], 32, p);
  eval_fmt_rate(s[1], 32, a.q);
  eval_fmt_prob(s[2], 32, a.log10_account);
  eval_fmt_rate(s[3], 32, need);
  printf("N = %llu database hashes, M = %llu photos/year, flagged at t = %llu matches\n",
         (unsigned long long)o->n_db, (unsigned long long)o->m_photos, (unsigned long long)o->acct_t);
  printf("per-pair rate p        %s%s\n", s[0], have_x && x == 0 ? "  (no match seen)" : "");
  printf("per-photo q            %s   (expected matching photos/year %.4g)\n", s[1], a.expected_photos);
  printf("P(account flagged/yr)  %s   (log10 %.2f)\n", s[2], a.log10_account);
  if (have_x) {
    eval_fmt_rate(s[4], 32, up);
    eval_fmt_prob(s[5], 32, b.log10_account);
    printf("upper 95%% p            %s%s\n", s[4], x == 0 ? "  (rule of three: 3/K)" : "  (Clopper-Pearson)");
    printf("P(flagged) at upper    %s   (log10 %.2f)\n", s[5], b.log10_account);
  }
  printf("2021 claim             1e-12 per account per year\n");
  printf("p needed for 1e-12     %s   (pairs needed to show it with none seen: %.3g)\n", s[3],
         need > 0 ? 3.0 / need : INFINITY);
  return CLI_EXIT_OK;
}

/* --probe-dump FILE: every PDQ copy with its original, for the probe-order
 * analysis (bench/probe_flips.py).  Native little-endian; header "VPDUMP1\0",
 * u32 n_tf, then n_tf transform names of VOUCH_TRANSFORM_TEXT_BYTES (40); then per evaluated photo
 * and transform a record of u32 photo, u32 transform, u32 plain distance,
 * 32 B original hash, 256 f32 original margins, 32 B copy hash, 256 f32 copy
 * margins (hash bytes as the library stores them; bit k = coefficient k). */
static int eval_probe_dump(const eval_opts *o, const cli_paths *paths, const work *w, size_t pdq_a) {
  FILE *f = fopen(o->probe_dump, "wb");
  if (!f) {
    cli_errorf("%s: %s", o->probe_dump, strerror(errno));
    return -1;
  }
  uint32_t ntf = (uint32_t)o->n_tf;
  fwrite("VPDUMP1", 1, 8, f);
  fwrite(&ntf, 4, 1, f);
  for (size_t t = 0; t < o->n_tf; t++) {
    char name[VOUCH_TRANSFORM_TEXT_BYTES] = {0};
    vouch_transform_format(&o->suite[t], name, sizeof name);
    fwrite(name, 1, sizeof name, f);
  }
  for (size_t i = 0; i < paths->n; i++) {
    if (w->info[i].rc != VOUCH_OK) continue;
    for (size_t t = 0; t < o->n_tf; t++) {
      uint32_t head[3] = {(uint32_t)i, (uint32_t)t, w->dist[(i * o->n_tf + t) * o->n_algo + pdq_a].plain};
      fwrite(head, 4, 3, f);
      fwrite(w->hashes[i * o->n_algo + pdq_a][0], 1, 32, f);
      fwrite(w->margins[i], 4, 256, f);
      fwrite(w->copy_hash[i * o->n_tf + t], 1, 32, f);
      fwrite(w->copy_margin[i * o->n_tf + t], 4, 256, f);
    }
  }
  if (fclose(f) != 0) {
    cli_errorf("%s: write failed", o->probe_dump);
    return -1;
  }
  return 0;
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
    {"no-private", no_argument, NULL, 'U'},      {"probe-dump", required_argument, NULL, 'D'},
    {"no-views", no_argument, NULL, 'V'},
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
  if (!strcmp(sub, "video")) return cmd_eval_video(argc - 1, argv + 1);
  int risk_only = 0;
  if (!strcmp(sub, "robustness")) o.mode = 1;
  else if (!strcmp(sub, "false-positives")) o.mode = 2;
  else if (!strcmp(sub, "all")) o.mode = 3;
  else if (!strcmp(sub, "risk")) risk_only = 1;
  else if (!strcmp(sub, "--list-transforms")) o.mode = 1; /* handled below */
  else {
    cli_errorf("unknown eval subcommand '%s' (robustness, false-positives, all, risk, attack, leakage, video)", sub);
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
    case 'D': o.probe_dump = optarg; break;
    case 'V': o.priv.views = 0; break;
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
  if (o.limit) cli_paths_truncate(&paths, o.limit);
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
    w.views = calloc(paths.n, sizeof *w.views);
    w.found = calloc(paths.n * (o.n_tf ? o.n_tf : 1) * o.priv.n_bands, sizeof *w.found);
    if (o.probe_dump && o.n_tf) {
      w.copy_hash = calloc(paths.n * o.n_tf, sizeof *w.copy_hash);
      w.copy_margin = calloc(paths.n * o.n_tf, sizeof *w.copy_margin);
      if (!w.copy_hash || !w.copy_margin) {
        cli_errorf("out of memory");
        goto done;
      }
    }
  }
  if (!w.info || !w.hashes || (o.n_tf && (!w.dist || !r.rob)) ||
      (o.private_on && (!w.ranks || !w.margins || !w.views || !w.found))) {
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
  if (w.copy_hash && pdq_a < o.n_algo && eval_probe_dump(&o, &paths, &w, pdq_a) != 0) goto done;
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
    out.md = eval_open_in(o.report_dir, "report.md", path, sizeof path);
    if (!out.md) goto done;
    out.js = eval_open_in(o.report_dir, "results.json", path, sizeof path);
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
  eval_report_header(&o, &paths, &r, out.md);
  if (o.mode & 1) eval_report_robustness(&o, &r, &out);
  else fprintf(out.js, "\"robustness\":null");
  if (o.mode & 2) {
    eval_report_fp(&o, &paths, &w, &r, &ex, &out);
    eval_report_risk(&o, &r, &out);
  }
  if (o.private_on && eval_report_private(&o, &paths, &w, &ex, &out) != 0) {
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
      FILE *pf = eval_open_in(o.report_dir, "pairs.tsv", path, sizeof path);
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
    int np = eval_write_plots(&o, &r, o.report_dir, out.md);
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
  free(w.copy_hash);
  free(w.copy_margin);
  free(w.views);
  free(w.found);
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
