/* programs/cli/cmd_eval_attack.c -- `vouch eval attack`: forged PDQ
 * collisions, made and measured (the library's vouch_attack_pdq()).
 *
 *   vouch eval attack DIR...                      pairs of unrelated photos:
 *       each photo is forged towards the next one's hash, once within the
 *       radius and once bit for bit (the exact match key); a line per pair
 *       and a summary table
 *   vouch eval attack --target HEX -o OUT.png PHOTO   forge one photo
 *
 * Runs on one thread, so the time per forgery is one core's. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

static const char attack_usage[] =
  "usage: vouch eval attack [OPTIONS] DIR|PHOTO...\n"
  "       vouch eval attack --target HEX -o OUT.png [OPTIONS] PHOTO\n"
  "\n"
  "Forges PDQ collisions: adds a smooth, low-frequency pattern to a photo so\n"
  "that its PDQ hash lands within the radius of a target hash, and measures\n"
  "how often that works, how visible the change is and how long it takes.\n"
  "\n"
  "With photos or folders (walked recursively), each photo in turn is the\n"
  "source and the next photo's PDQ hash the target (the last targets the\n"
  "first); each pair is forged twice: within --radius, and with every bit\n"
  "equal (which also gives the exact match key and any key derived from the\n"
  "hash bits).  A forgery counts only if the library's own PDQ of the\n"
  "written 8-bit image is within the radius.  Also reported: whether it\n"
  "still matches after a JPEG re-encode at quality 90.\n"
  "\n"
  "options:\n"
  "      --target HEX      forge the one PHOTO towards this PDQ hash (64 hex)\n"
  "  -o, --output FILE     with --target: write the forged image as PNG\n"
  "      --out-dir DIR     write every forgery as PNG into DIR\n"
  "      --radius N        success radius, 0..128 (default 31)\n"
  "      --slack N         mismatched bits the attack may leave (default 20;\n"
  "                        at most the radius)\n"
  "      --iters N         iterations per forgery, 1..1000 (default 40)\n"
  "      --margin F        how far past the median moved coefficients go, as a\n"
  "                        fraction of the median deviation (default 0.3)\n"
  "      --limit N         use only the first N photos (sorted by path)\n"
  "      --max-side N      photos larger than N on a side are first reduced to\n"
  "                        fit N x N; that copy is the source (default 1024;\n"
  "                        0 = full size)\n"
  "      --adaptive        also forge each pair against PDQ and the second hash\n"
  "                        at once (an attacker who knows the second hash)\n"
  "      --json            one JSON object per pair, then {\"summary\":...}\n"
  "  -h, --help            this help\n"
  "\n"
  "Exit status: 0 on success (every forgery of --target succeeded), 1 when a\n"
  "--target forgery failed, 2 on a usage or input error.\n";

typedef struct {
  vouch_attack_params radius, exact, adaptive;
  int do_adaptive;
  uint32_t max_side;
  size_t limit;
  int json;
  const char *out_dir, *output, *target_hex;
} attack_opts;

/* Decodes `path` and reduces it to fit max_side (area average); the copy is
 * the photo from then on. */
static int load_photo(vouch_decoder *dec, const char *path, uint32_t max_side, int quiet_format, vouch_image *out) {
  vouch_image img = {0};
  int rc = vouch_decoder_decode_file(dec, path, &img);
  if (rc != VOUCH_OK) {
    if (!(quiet_format && rc == VOUCH_E_IMAGE_FORMAT)) cli_errorf("%s: %s", path, vouch_decoder_errmsg(dec));
    return rc;
  }
  rc = cli_image_fit(&img, max_side);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: reducing to %u pixels failed", path, max_side);
    vouch_image_clear(&img);
    return rc;
  }
  *out = img;
  return VOUCH_OK;
}

static int write_png(const vouch_image *img, const char *path) {
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = vouch_image_encode_png(img, &buf, &len);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: PNG encoding failed (%s)", path, vouch_strerror(rc));
    return -1;
  }
  int r = cli_write_file_atomic(path, buf, len, 0644);
  if (r != 0) cli_errorf("%s: %s", path, strerror(errno));
  vouch_free(buf);
  return r;
}

/* One forgery, with its JPEG q90 re-encode check. */
typedef struct {
  vouch_attack_result r;
  double seconds;
  int jpeg_distance; /* after a JPEG q90 re-encode of the forgery; -1 if not checked */
  int second;        /* second-hash score against the target's derivative (0..1000); -1 if none */
} forgery;

/* The second hash of an image's visual derivative, made exactly as a
 * voucher's payload makes it. */
static int deriv_hash(const vouch_image *img, uint8_t out[VOUCH_DERIV_HASH_BYTES]) {
  static const uint8_t zero[32];
  vouch_psi_payload p;
  int rc = vouch_psi_payload_init(&p, VOUCH_ALGO_PDQ, zero, 32, img);
  if (rc == VOUCH_OK) rc = vouch_derivative_hash(p.thumb, p.thumb_w, p.thumb_h, out);
  return rc;
}

static int forge(vouch_transformer *tf, vouch_hasher *h, const vouch_image *src, const uint8_t target[32],
                 const uint8_t *target_second, const vouch_attack_params *p, const char *png_path, forgery *f) {
  vouch_image out = {0};
  double t0 = cli_now();
  int rc = vouch_attack_pdq(src, target, p, &out, &f->r);
  f->seconds = cli_now() - t0;
  f->jpeg_distance = -1;
  f->second = -1;
  if (rc != VOUCH_OK) return rc;
  uint8_t second[VOUCH_DERIV_HASH_BYTES];
  if (target_second && (rc = deriv_hash(&out, second)) == VOUCH_OK)
    f->second = vouch_derivative_score(second, target_second);
  /* the figure that counts is what the ordinary hasher says of the image */
  uint8_t hash[32];
  rc = vouch_hash_image(h, VOUCH_ALGO_PDQ, &out, 0, hash, sizeof hash, NULL);
  if (rc == VOUCH_OK && vouch_hamming(hash, target, 32) != f->r.distance) rc = VOUCH_E_INTERNAL;
  if (rc == VOUCH_OK) {
    vouch_transform t = {VOUCH_TF_JPEG, 90};
    vouch_image j = {0};
    rc = vouch_transform_apply(tf, &out, &t, 1, &j);
    if (rc == VOUCH_OK) rc = vouch_hash_image(h, VOUCH_ALGO_PDQ, &j, 0, hash, sizeof hash, NULL);
    if (rc == VOUCH_OK) f->jpeg_distance = (int)vouch_hamming(hash, target, 32);
    vouch_image_clear(&j);
  }
  if (rc == VOUCH_OK && png_path && write_png(&out, png_path) != 0) rc = VOUCH_E_IO;
  vouch_image_clear(&out);
  return rc;
}

static void print_forgery(FILE *o, int json, const char *mode, const forgery *f) {
  const vouch_attack_result *r = &f->r;
  if (json) {
    fprintf(o, "\"%s\":{\"success\":%s,\"distance\":%u,\"start_distance\":%u,\"iterations\":%u,"
               "\"quality\":%d,\"psnr\":%.2f,\"max_change\":%u,\"mean_abs_change\":%.3f,\"seconds\":%.4f,"
               "\"jpeg90_distance\":%d,\"second_score\":%d}",
            mode, r->success ? "true" : "false", r->distance, r->start_distance, r->iterations, r->quality,
            isinf(r->psnr) ? 999.0 : r->psnr, r->max_change, r->mean_abs_change, f->seconds, f->jpeg_distance,
            f->second);
  } else {
    fprintf(o, "%s %s d=%u (from %u) psnr=%.1f dB max=%u q=%d %.3fs jpeg90 d=%d", mode,
            r->success ? "ok" : "FAILED", r->distance, r->start_distance, isinf(r->psnr) ? 999.0 : r->psnr,
            r->max_change, r->quality, f->seconds, f->jpeg_distance);
    if (f->second >= 0)
      fprintf(o, " second-hash score=%d (%s)", f->second,
              f->second >= VOUCH_DERIV_PASS_MIN ? "passes" : "fails: suspected forgery");
  }
}

/* Summary of one mode over all pairs. */
typedef struct {
  size_t n, ok, jpeg_ok;
  size_t second_checked, second_failed; /* successful forgeries the second hash checked / threw out */
  double *psnr, *maxc, *secs; /* over successes */
} tally;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static double pctl(double *v, size_t n, double frac) {
  if (!n) return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  size_t k = (size_t)ceil(frac * (double)n);
  return v[k ? k - 1 : 0];
}

static void tally_add(tally *t, const forgery *f, unsigned radius) {
  t->n++;
  if (!f->r.success) return;
  t->psnr[t->ok] = isinf(f->r.psnr) ? 999.0 : f->r.psnr;
  t->maxc[t->ok] = f->r.max_change;
  t->secs[t->ok] = f->seconds;
  t->ok++;
  if (f->jpeg_distance >= 0 && (unsigned)f->jpeg_distance <= radius) t->jpeg_ok++;
  if (f->second >= 0) {
    t->second_checked++;
    if (f->second < VOUCH_DERIV_PASS_MIN) t->second_failed++;
  }
}

static void tally_print(FILE *o, int json, const char *mode, unsigned radius, tally *t) {
  double pct = t->n ? 100.0 * (double)t->ok / (double)t->n : 0;
  double p50 = pctl(t->psnr, t->ok, 0.5), p10 = pctl(t->psnr, t->ok, 0.1);
  double m50 = pctl(t->maxc, t->ok, 0.5), s50 = pctl(t->secs, t->ok, 0.5), s90 = pctl(t->secs, t->ok, 0.9);
  if (json) {
    fprintf(o, "\"%s\":{\"radius\":%u,\"pairs\":%zu,\"success\":%zu,\"success_rate\":%.4f,"
               "\"psnr_median\":%.2f,\"psnr_p10\":%.2f,\"max_change_median\":%.0f,\"seconds_median\":%.4f,"
               "\"seconds_p90\":%.4f,\"jpeg90_still_matching\":%zu,\"second_hash_checked\":%zu,"
               "\"second_hash_failed\":%zu}",
            mode, radius, t->n, t->ok, pct / 100, t->ok ? p50 : 0, t->ok ? p10 : 0, t->ok ? m50 : 0,
            t->ok ? s50 : 0, t->ok ? s90 : 0, t->jpeg_ok, t->second_checked, t->second_failed);
  } else {
    fprintf(o, "| %s | %u | %zu / %zu (%.1f%%) | %.1f | %.1f | %.0f | %.3f / %.3f | %zu of %zu | %zu of %zu |\n",
            mode, radius, t->ok, t->n, pct, p50, p10, m50, s50, s90, t->jpeg_ok, t->ok, t->second_failed,
            t->second_checked);
  }
}

/* Genuine edits: each photo through the eval suite; the copies PDQ still
 * matches within the radius are what would open, and the second hash must
 * pass them. */
#define MAX_SUITE 64
typedef struct {
  size_t suite, matched, passed;
  uint64_t hist[1001];  /* second-hash scores of the matched genuine copies */
  uint64_t unrel[1001]; /* second-hash scores between each photo and the next (unrelated) one */
  const vouch_transform *tf;
  size_t matched_by_tf[MAX_SUITE], fail_by_tf[MAX_SUITE];
} genuine;

static int genuine_edits(vouch_transformer *tf, vouch_hasher *h, const vouch_image *img, const uint8_t pdq[32],
                         const uint8_t second[VOUCH_DERIV_HASH_BYTES], unsigned radius, genuine *g) {
  size_t n;
  g->tf = vouch_transform_default_suite(&n);
  if (n > MAX_SUITE) n = MAX_SUITE;
  g->suite = n;
  for (size_t k = 0; k < n; k++) {
    vouch_image c = {0};
    uint8_t hc[32], sc[VOUCH_DERIV_HASH_BYTES];
    int rc = vouch_transform_apply(tf, img, &g->tf[k], vouch_eval_seed(1, k), &c);
    if (rc == VOUCH_OK) rc = vouch_hash_image(h, VOUCH_ALGO_PDQ, &c, 0, hc, sizeof hc, NULL);
    if (rc == VOUCH_OK && vouch_hamming(hc, pdq, 32) <= radius) {
      rc = deriv_hash(&c, sc);
      if (rc == VOUCH_OK) {
        int d = vouch_derivative_score(sc, second);
        if (d < 0) d = 0;
        g->hist[d]++;
        g->matched++;
        g->matched_by_tf[k]++;
        if (d >= VOUCH_DERIV_PASS_MIN) g->passed++;
        else g->fail_by_tf[k]++;
      }
    }
    vouch_image_clear(&c);
    if (rc != VOUCH_OK) return rc;
  }
  return VOUCH_OK;
}

static int run_single(const attack_opts *o, const char *path, vouch_decoder *dec, vouch_hasher *h,
                      vouch_transformer *tf) {
  uint8_t target[32];
  if (strlen(o->target_hex) != 64 || vouch_hash_from_hex(o->target_hex, 64, target, 32) != VOUCH_OK) {
    cli_errorf("--target must be a PDQ hash: 64 hex characters");
    return CLI_EXIT_ERROR;
  }
  vouch_image src = {0};
  if (load_photo(dec, path, o->max_side, 0, &src) != VOUCH_OK) return CLI_EXIT_ERROR;
  forgery f;
  int rc = forge(tf, h, &src, target, NULL, &o->radius, o->output, &f);
  vouch_image_clear(&src);
  if (rc != VOUCH_OK) {
    if (rc != VOUCH_E_IO) cli_errorf("%s: attack failed to run (%s)", path, vouch_strerror(rc));
    return CLI_EXIT_ERROR;
  }
  if (o->json) {
    fputs("{\"path\":", stdout);
    cli_json_string(stdout, path);
    fputs(",\"target\":", stdout);
    cli_json_string(stdout, o->target_hex);
    fputc(',', stdout);
    print_forgery(stdout, 1, "radius", &f);
    fputs("}\n", stdout);
  } else {
    printf("%s -> %s: ", path, o->output);
    print_forgery(stdout, 0, "radius", &f);
    putchar('\n');
  }
  return f.r.success ? CLI_EXIT_OK : CLI_EXIT_MATCH;
}

static int run_pairs(const attack_opts *o, const cli_paths *paths, vouch_decoder *dec, vouch_hasher *h,
                     vouch_transformer *tf) {
  size_t n = paths->n;
  /* every photo's PDQ hash first: each is the previous photo's target */
  uint8_t (*hash)[32] = calloc(n ? n : 1, 32);
  unsigned char *ok = calloc(n ? n : 1, 1);
  double *buf = calloc(9 * (n ? n : 1), sizeof(double));
  if (!hash || !ok || !buf) {
    free(hash), free(ok), free(buf);
    cli_errorf("out of memory");
    return CLI_EXIT_ERROR;
  }
  uint8_t (*second)[VOUCH_DERIV_HASH_BYTES] = calloc(n ? n : 1, VOUCH_DERIV_HASH_BYTES);
  genuine g = {0};
  size_t good = 0;
  int status = CLI_EXIT_OK;
  for (size_t i = 0; second && i < n; i++) {
    vouch_image img = {0};
    int walked = paths->walked && paths->walked[i]; /* a non-image found in a folder is skipped quietly */
    int rc = load_photo(dec, paths->v[i], o->max_side, walked, &img);
    if (rc != VOUCH_OK) {
      if (!(walked && rc == VOUCH_E_IMAGE_FORMAT)) status = CLI_EXIT_ERROR;
      continue;
    }
    if (vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, 0, hash[i], 32, NULL) == VOUCH_OK &&
        deriv_hash(&img, second[i]) == VOUCH_OK && genuine_edits(tf, h, &img, hash[i], second[i],
                                                               o->radius.radius, &g) == VOUCH_OK)
      ok[i] = 1, good++;
    vouch_image_clear(&img);
  }
  if (good < 2) {
    free(hash), free(ok), free(buf), free(second);
    cli_errorf("need at least 2 photos that decode (got %zu)", good);
    return CLI_EXIT_ERROR;
  }
  tally tr = {0, 0, 0, 0, 0, buf, buf + n, buf + 2 * n}, te = {0, 0, 0, 0, 0, buf + 3 * n, buf + 4 * n, buf + 5 * n},
        ta = {0, 0, 0, 0, 0, buf + 6 * n, buf + 7 * n, buf + 8 * n};
  cli_progress prog;
  cli_progress_start(&prog, "forging", good);
  size_t done = 0;
  for (size_t i = 0; i < n; i++) {
    if (!ok[i]) continue;
    size_t j = i;
    do j = (j + 1) % n; while (!ok[j]);
    int us = vouch_derivative_score(second[i], second[j]);
    g.unrel[us < 0 ? 0 : us]++;
    vouch_image src = {0};
    if (load_photo(dec, paths->v[i], o->max_side, 0, &src) != VOUCH_OK) continue;
    char p1[4096], p2[4096], p3[4096];
    if (o->out_dir) {
      snprintf(p1, sizeof p1, "%s/%04zu-radius.png", o->out_dir, i);
      snprintf(p2, sizeof p2, "%s/%04zu-exact.png", o->out_dir, i);
    }
    forgery fr, fe;
    int rc = forge(tf, h, &src, hash[j], second[j], &o->radius, o->out_dir ? p1 : NULL, &fr);
    if (rc == VOUCH_OK) rc = forge(tf, h, &src, hash[j], second[j], &o->exact, o->out_dir ? p2 : NULL, &fe);
    forgery fa;
    if (rc == VOUCH_OK && o->do_adaptive) {
      vouch_attack_params ap = o->adaptive;
      ap.second_target = second[j];
      if (o->out_dir) snprintf(p3, sizeof p3, "%s/%04zu-adaptive.png", o->out_dir, i);
      rc = forge(tf, h, &src, hash[j], second[j], &ap, o->out_dir ? p3 : NULL, &fa);
    }
    vouch_image_clear(&src);
    if (rc != VOUCH_OK) {
      if (rc != VOUCH_E_IO) cli_errorf("%s: attack failed to run (%s)", paths->v[i], vouch_strerror(rc));
      status = CLI_EXIT_ERROR;
      continue;
    }
    tally_add(&tr, &fr, o->radius.radius);
    tally_add(&te, &fe, 0);
    if (o->do_adaptive) tally_add(&ta, &fa, o->radius.radius);
    char hex[65];
    vouch_hash_to_hex(hash[j], 32, hex, sizeof hex);
    if (o->json) {
      fputs("{\"source\":", stdout);
      cli_json_string(stdout, paths->v[i]);
      fputs(",\"target_of\":", stdout);
      cli_json_string(stdout, paths->v[j]);
      printf(",\"target\":\"%s\",", hex);
      print_forgery(stdout, 1, "radius", &fr);
      fputc(',', stdout);
      print_forgery(stdout, 1, "exact", &fe);
      if (o->do_adaptive) {
        fputc(',', stdout);
        print_forgery(stdout, 1, "adaptive", &fa);
      }
      fputs("}\n", stdout);
    } else {
      printf("%s -> %s\n  ", paths->v[i], hex);
      print_forgery(stdout, 0, "radius", &fr);
      fputs("\n  ", stdout);
      print_forgery(stdout, 0, "exact ", &fe);
      putchar('\n');
      if (o->do_adaptive) {
        fputs("  ", stdout);
        print_forgery(stdout, 0, "adaptive", &fa);
        putchar('\n');
      }
    }
    cli_progress_update(&prog, ++done);
  }
  cli_progress_end(&prog);
  if (o->json) {
    fputs("{\"summary\":{", stdout);
    tally_print(stdout, 1, "radius", o->radius.radius, &tr);
    fputc(',', stdout);
    tally_print(stdout, 1, "exact", 0, &te);
    if (o->do_adaptive) {
      fputc(',', stdout);
      tally_print(stdout, 1, "adaptive", o->radius.radius, &ta);
    }
    printf(",\"genuine\":{\"suite\":%zu,\"matched\":%zu,\"second_hash_passed\":%zu,\"second_score_p1\":%ld,"
           "\"second_score_p50\":%ld,\"second_score_min\":%ld,\"pass_min\":%d,\"unrelated_score_p50\":%ld,"
           "\"unrelated_score_p99\":%ld,\"unrelated_score_max\":%ld",
           g.suite, g.matched, g.passed, vouch_hist_percentile(g.hist, 1001, 0.01),
           vouch_hist_percentile(g.hist, 1001, 0.5), vouch_hist_percentile(g.hist, 1001, 0), VOUCH_DERIV_PASS_MIN,
           vouch_hist_percentile(g.unrel, 1001, 0.5), vouch_hist_percentile(g.unrel, 1001, 0.99),
           vouch_hist_percentile(g.unrel, 1001, 1.0));
    fputs(",\"second_score_hist\":[", stdout);
    for (int d = 0; d <= 1000; d++) printf("%s%llu", d ? "," : "", (unsigned long long)g.hist[d]);
    fputs("],\"unrelated_score_hist\":[", stdout);
    for (int d = 0; d <= 1000; d++) printf("%s%llu", d ? "," : "", (unsigned long long)g.unrel[d]);
    fputs("]}}}\n", stdout);
  } else {
    printf("\n| forgery | radius | success | PSNR median (dB) | PSNR p10 | max change median | "
           "seconds median / p90 | still matching after JPEG q90 | thrown out by the second hash |\n"
           "|---|---|---|---|---|---|---|---|---|\n");
    tally_print(stdout, 0, "within radius", o->radius.radius, &tr);
    tally_print(stdout, 0, "every bit", 0, &te);
    if (o->do_adaptive) tally_print(stdout, 0, "adaptive (PDQ and second hash)", o->radius.radius, &ta);
    printf("\nGenuine edits (the eval suite's %zu transforms of each photo) that PDQ matches within %u: %zu;\n"
           "the second hash passes %zu of them (%.2f%%): score median %ld, p1 %ld, min %ld (pass: >= %d).\n"
           "Unrelated photos (each and the next) score median %ld, p99 %ld, max %ld.\n",
           g.suite, o->radius.radius, g.matched, g.passed, g.matched ? 100.0 * (double)g.passed / (double)g.matched : 0,
           vouch_hist_percentile(g.hist, 1001, 0.5), vouch_hist_percentile(g.hist, 1001, 0.01),
           vouch_hist_percentile(g.hist, 1001, 0), VOUCH_DERIV_PASS_MIN, vouch_hist_percentile(g.unrel, 1001, 0.5),
           vouch_hist_percentile(g.unrel, 1001, 0.99), vouch_hist_percentile(g.unrel, 1001, 1.0));
    for (size_t k = 0; k < g.suite; k++)
      if (g.fail_by_tf[k]) {
        char name[VOUCH_TRANSFORM_TEXT_BYTES];
        vouch_transform_format(&g.tf[k], name, sizeof name);
        printf("  second hash fails %zu of %zu matched copies under %s\n", g.fail_by_tf[k], g.matched_by_tf[k], name);
      }
  }
  free(hash), free(ok), free(buf), free(second);
  return status;
}

static int parse_uint_opt(const char *name, const char *s, unsigned long lo, unsigned long hi, unsigned long *v) {
  if (cli_parse_uint(s, lo, hi, v) == 0) return 0;
  cli_errorf("bad --%s '%s' (%lu..%lu)", name, s, lo, hi);
  return -1;
}

int cmd_eval_attack(int argc, char **argv) {
  static const struct option longopts[] = {
    {"target", required_argument, NULL, 'T'}, {"output", required_argument, NULL, 'o'},
    {"out-dir", required_argument, NULL, 'D'}, {"radius", required_argument, NULL, 'r'},
    {"slack", required_argument, NULL, 's'},  {"iters", required_argument, NULL, 'i'},
    {"margin", required_argument, NULL, 'm'}, {"limit", required_argument, NULL, 'L'},
    {"max-side", required_argument, NULL, 'S'}, {"json", no_argument, NULL, 'J'},
    {"adaptive", no_argument, NULL, 'A'},
    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
  attack_opts o;
  memset(&o, 0, sizeof o);
  o.radius = vouch_attack_params_default();
  o.max_side = 1024;
  int slack_set = 0, ch;
  unsigned long v;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'T': o.target_hex = optarg; break;
    case 'o': o.output = optarg; break;
    case 'D': o.out_dir = optarg; break;
    case 'r':
      if (parse_uint_opt("radius", optarg, 0, 128, &v)) return CLI_EXIT_ERROR;
      o.radius.radius = (unsigned)v;
      break;
    case 's':
      if (parse_uint_opt("slack", optarg, 0, 128, &v)) return CLI_EXIT_ERROR;
      o.radius.slack = (unsigned)v;
      slack_set = 1;
      break;
    case 'i':
      if (parse_uint_opt("iters", optarg, 1, VOUCH_ATTACK_ITERS_MAX, &v)) return CLI_EXIT_ERROR;
      o.radius.max_iters = (unsigned)v;
      break;
    case 'm': {
      char *end;
      errno = 0;
      double m = strtod(optarg, &end);
      if (errno || *end || !(m > 0 && m <= 10)) {
        cli_errorf("bad --margin '%s' (a number in (0, 10])", optarg);
        return CLI_EXIT_ERROR;
      }
      o.radius.margin = (float)m;
      break;
    }
    case 'L':
      if (parse_uint_opt("limit", optarg, 2, 100000000, &v)) return CLI_EXIT_ERROR;
      o.limit = v;
      break;
    case 'S':
      if (parse_uint_opt("max-side", optarg, 0, 30000, &v)) return CLI_EXIT_ERROR;
      if (v && v < 16) {
        cli_errorf("bad --max-side '%s' (0, or 16..30000)", optarg);
        return CLI_EXIT_ERROR;
      }
      o.max_side = (uint32_t)v;
      break;
    case 'J': o.json = 1; break;
    case 'A': o.do_adaptive = 1; break;
    case 'h': fputs(attack_usage, stdout); return CLI_EXIT_OK;
    default: fputs(attack_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (!slack_set && o.radius.slack > o.radius.radius) o.radius.slack = o.radius.radius * 2 / 5;
  if (o.radius.slack > o.radius.radius) {
    cli_errorf("--slack %u is larger than --radius %u", o.radius.slack, o.radius.radius);
    return CLI_EXIT_ERROR;
  }
  o.exact = o.radius;
  o.exact.radius = 0;
  o.exact.slack = 0;
  o.adaptive = o.radius;
  o.adaptive.second_min = VOUCH_DERIV_PASS_MIN;
  if (o.adaptive.max_iters == 0) o.adaptive.max_iters = 100;
  if (optind >= argc) {
    cli_errorf("no photos given");
    fputs(attack_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  if (o.target_hex && (!o.output || argc - optind != 1)) {
    cli_errorf("--target needs -o OUT.png and exactly one PHOTO");
    return CLI_EXIT_ERROR;
  }
  if (!o.target_hex && o.output) {
    cli_errorf("-o goes with --target (use --out-dir for a folder of photos)");
    return CLI_EXIT_ERROR;
  }
  if (o.out_dir && mkdir(o.out_dir, 0755) != 0 && errno != EEXIST) {
    cli_errorf("%s: %s", o.out_dir, strerror(errno));
    return CLI_EXIT_ERROR;
  }
  vouch_decode_opts dop = vouch_decode_opts_default();
  dop.min_side = o.max_side;
  vouch_decoder *dec = NULL;
  vouch_hasher *h = NULL;
  vouch_transformer *tf = NULL;
  int status = CLI_EXIT_ERROR;
  if (vouch_decoder_create(&dec, &dop) != VOUCH_OK || vouch_hasher_create(&h) != VOUCH_OK ||
      vouch_transformer_create(&tf) != VOUCH_OK) {
    cli_errorf("out of memory");
    goto done;
  }
  if (o.target_hex) {
    status = run_single(&o, argv[optind], dec, h, tf);
  } else {
    cli_paths paths = {0};
    if (cli_paths_collect(&paths, argv + optind, argc - optind, 1) == 0) {
      if (o.limit) cli_paths_truncate(&paths, o.limit);
      status = run_pairs(&o, &paths, dec, h, tf);
    }
    cli_paths_free(&paths);
  }
done:
  vouch_transformer_free(tf);
  vouch_hasher_free(h);
  vouch_decoder_free(dec);
  return status;
}
