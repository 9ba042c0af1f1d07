/* programs/cli/cmd_eval_video.c -- `vouch eval video`: how well vPDQ finds
 * edited, re-encoded copies of videos, and how often unrelated videos match.
 *
 * For every video: its vPDQ (one frame per --seconds-per-hash), then for
 * every edit (the library's vouch_eval_video_edited(): recode, bitrate-low,
 * half-size, crop, logo, clip, each followed by an MPEG-4 re-encode) the
 * edited copy's vPDQ, compared with every original by python-threatexchange's
 * rule (vouch_vpdq_compare: a match when >= --query-match % of the copy's
 * unique frames are within 31 bits of the original's and >= --index-match %
 * the other way).  Recall per edit counts copies that match their own
 * original; a copy matching another video, and two originals matching each
 * other, are false matches (unless the videos are related: say so in
 * --related).  Runs on one thread: the time is one core's. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "eval.h"

static const char video_usage[] =
  "usage: vouch eval video [OPTIONS] DIR|VIDEO...\n"
  "\n"
  "Edits each video (recode, bitrate-low, half-size, crop, logo, clip; each\n"
  "followed by an in-memory MPEG-4 re-encode), hashes the copies with vPDQ and\n"
  "reports, per edit, how many copies match their own original, and how many\n"
  "match another video (false matches).  Folders are walked recursively; files\n"
  "that are not videos are skipped and counted.\n"
  "\n"
  "options:\n"
  "  -e, --edits LIST          comma-separated edits (default: all six)\n"
  "  -s, --seconds-per-hash S  one hashed frame per S seconds (default 1, as\n"
  "                            HMA; 0 = every frame)\n"
  "      --query-match PCT     share of the copy's unique frames that must match\n"
  "                            (default 80)\n"
  "      --index-match PCT     share of the original's (default 0)\n"
  "      --related PREFIX      videos whose file names start with PREFIX are one\n"
  "                            source: their matches are not false (repeatable)\n"
  "      --limit N             use only the first N videos (sorted by path)\n"
  "  -o, --output DIR          write report.md, results.json, false_matches.tsv,\n"
  "                            recall_video.dat and a plot (needs gnuplot) into DIR\n"
  "      --json                results as one JSON object on stdout\n"
  "  -h, --help                this help\n"
  "\n"
  "Exit status: 0 on success, 1 when some video failed, 2 on a usage error.\n";

typedef struct {
  int edits[VOUCH_VEDIT_COUNT];
  size_t nedits;
  double seconds, query_match, index_match;
  const char *related[16];
  size_t nrelated;
  size_t limit;
  const char *out_dir;
  int json;
} video_eval_opts;

typedef struct {
  size_t matched, total, false_matches;
  double query_pct_sum; /* of each copy against its own original */
  size_t failed;
} edit_result;

static int parse_edits(const char *list, video_eval_opts *o) {
  o->nedits = 0;
  char *dup = strdup(list), *save = NULL;
  if (!dup) return -1;
  int rc = 0;
  for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int e = vouch_eval_video_edit_from_name(t);
    if (e < 0) {
      cli_errorf("unknown edit '%s' (recode, bitrate-low, half-size, crop, logo, clip)", t);
      rc = -1;
      break;
    }
    if (o->nedits < VOUCH_VEDIT_COUNT) o->edits[o->nedits++] = e;
  }
  free(dup);
  if (rc == 0 && o->nedits == 0) {
    cli_errorf("--edits: no edit named");
    rc = -1;
  }
  return rc;
}

/* Are videos a and b one source (--related)? */
static int related(const video_eval_opts *o, const char *a, const char *b) {
  for (size_t i = 0; i < o->nrelated; i++) {
    size_t n = strlen(o->related[i]);
    if (!strncmp(base_name(a), o->related[i], n) && !strncmp(base_name(b), o->related[i], n)) return 1;
  }
  return 0;
}

static int matches(const video_eval_opts *o, const vouch_vpdq *q, const vouch_vpdq *t, double *query_pct) {
  vouch_vpdq_similarity sim;
  if (vouch_vpdq_compare(q, t, VOUCH_VPDQ_RADIUS, VOUCH_VPDQ_QUALITY_MIN, &sim) != VOUCH_OK) return -1;
  if (query_pct) *query_pct = sim.query_pct;
  return sim.query_pct >= o->query_match && sim.target_pct >= o->index_match;
}

static void write_report(const video_eval_opts *o, FILE *f, size_t nvideos, size_t skipped, size_t failed,
                         const edit_result *er, size_t pairs, size_t pair_matches, double seconds, int json) {
  if (json) {
    fprintf(f, "{\"videos\":%zu,\"skipped\":%zu,\"failed\":%zu,\"seconds_per_hash\":%g,\"query_match\":%g,"
               "\"index_match\":%g,\"edits\":[",
            nvideos, skipped, failed, o->seconds, o->query_match, o->index_match);
    for (size_t k = 0; k < o->nedits; k++) {
      const edit_result *r = &er[k];
      fprintf(f, "%s{\"edit\":\"%s\",\"matched\":%zu,\"total\":%zu,\"recall\":%.4f,\"mean_query_match\":%.2f,"
                 "\"false_matches\":%zu,\"failed\":%zu}",
              k ? "," : "", vouch_eval_video_edit_name(o->edits[k]), r->matched, r->total,
              r->total ? (double)r->matched / (double)r->total : 0.0,
              r->total ? r->query_pct_sum / (double)r->total : 0.0, r->false_matches, r->failed);
    }
    fprintf(f, "],\"unrelated_pairs\":%zu,\"unrelated_pair_matches\":%zu,\"seconds\":%.1f}\n", pairs, pair_matches,
            seconds);
    return;
  }
  fprintf(f, "videos: %zu (skipped %zu not videos, %zu failed); one frame per %g s; match: query >= %g%%, "
             "index >= %g%%\n\n",
          nvideos, skipped, failed, o->seconds, o->query_match, o->index_match);
  fprintf(f, "| edit | copies matched | recall | mean query match | false matches |\n| --- | ---: | ---: | ---: | ---: |\n");
  for (size_t k = 0; k < o->nedits; k++) {
    const edit_result *r = &er[k];
    fprintf(f, "| %s | %zu/%zu | %.1f%% | %.1f%% | %zu |\n", vouch_eval_video_edit_name(o->edits[k]), r->matched,
            r->total, r->total ? 100.0 * (double)r->matched / (double)r->total : 0.0,
            r->total ? r->query_pct_sum / (double)r->total : 0.0, r->false_matches);
  }
  fprintf(f, "\nunrelated originals: %zu ordered pairs compared, %zu matched (false matches)\n", pairs, pair_matches);
  fprintf(f, "time: %.1f s on one thread\n", seconds);
}

static int write_outputs(const video_eval_opts *o, size_t nvideos, size_t skipped, size_t failed,
                         const edit_result *er, size_t pairs, size_t pair_matches, double seconds) {
  char path[4096];
  FILE *md = eval_open_in(o->out_dir, "report.md", path, sizeof path);
  FILE *js = md ? eval_open_in(o->out_dir, "results.json", path, sizeof path) : NULL;
  FILE *dat = js ? eval_open_in(o->out_dir, "recall_video.dat", path, sizeof path) : NULL;
  FILE *gp = dat ? eval_open_in(o->out_dir, "plots.gp", path, sizeof path) : NULL;
  int rc = gp ? 0 : -1;
  if (gp) {
    fprintf(md, "# vouch eval video\n\n");
    write_report(o, md, nvideos, skipped, failed, er, pairs, pair_matches, seconds, 0);
    write_report(o, js, nvideos, skipped, failed, er, pairs, pair_matches, seconds, 1);
    fprintf(dat, "# edit recall_percent\n");
    for (size_t k = 0; k < o->nedits; k++)
      fprintf(dat, "%zu %s %.2f\n", k, vouch_eval_video_edit_name(o->edits[k]),
              er[k].total ? 100.0 * (double)er[k].matched / (double)er[k].total : 0.0);
    fprintf(gp, "# gnuplot script written by vouch eval video; run from this folder: gnuplot plots.gp\n"
                "set terminal pngcairo size 800,450\nset output 'recall_video.png'\n"
                "set title 'vPDQ recall per edit (copies matching their original)'\nset ylabel 'recall %%'\n"
                "set yrange [0:105]\nset style fill solid 0.6\nset boxwidth 0.6\nset grid ytics\n"
                "plot 'recall_video.dat' u 1:3:xtic(2) w boxes notitle, '' u 1:($3+3):(sprintf('%%.0f',$3)) w labels notitle\n");
  }
  if (gp && fclose(gp) != 0) rc = -1;
  if (dat && fclose(dat) != 0) rc = -1;
  if (js && fclose(js) != 0) rc = -1;
  if (rc == 0) {
    int g = eval_run_gnuplot(o->out_dir);
    fprintf(md, g == 0 ? "\n![recall per edit](recall_video.png)\n"
                       : "\n*Plot skipped: gnuplot %s; recall_video.dat and plots.gp are here.*\n",
            g < 0 ? "was not found" : "failed (see gnuplot.log)");
  }
  if (md && fclose(md) != 0) rc = -1;
  if (rc != 0) cli_errorf("%s: writing the report failed", o->out_dir);
  return rc;
}

int cmd_eval_video(int argc, char **argv) {
  video_eval_opts o = {.seconds = 1.0, .query_match = VOUCH_VPDQ_QUERY_MATCH_DEFAULT,
                       .index_match = VOUCH_VPDQ_INDEX_MATCH_DEFAULT};
  for (int e = 0; e < VOUCH_VEDIT_COUNT; e++) o.edits[o.nedits++] = e;
  static const struct option longopts[] = {
      {"edits", required_argument, NULL, 'e'},    {"seconds-per-hash", required_argument, NULL, 's'},
      {"query-match", required_argument, NULL, 'q'}, {"index-match", required_argument, NULL, 'i'},
      {"related", required_argument, NULL, 'r'},  {"limit", required_argument, NULL, 'l'},
      {"output", required_argument, NULL, 'o'},   {"json", no_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "e:s:o:h", longopts, NULL)) != -1) {
    char *end = NULL;
    switch (c) {
    case 'e':
      if (parse_edits(optarg, &o) != 0) return 2;
      break;
    case 's':
      o.seconds = strtod(optarg, &end);
      if (end == optarg || *end || !(o.seconds >= 0 && o.seconds <= 3600)) {
        cli_errorf("--seconds-per-hash: 0 to 3600");
        return 2;
      }
      break;
    case 'q':
    case 'i': {
      double v = strtod(optarg, &end);
      if (end == optarg || *end || !(v >= 0 && v <= 100)) {
        cli_errorf("--%s: a percentage, 0 to 100", c == 'q' ? "query-match" : "index-match");
        return 2;
      }
      *(c == 'q' ? &o.query_match : &o.index_match) = v;
      break;
    }
    case 'r':
      if (o.nrelated == sizeof o.related / sizeof o.related[0]) {
        cli_errorf("--related: at most 16 prefixes");
        return 2;
      }
      o.related[o.nrelated++] = optarg;
      break;
    case 'l': {
      unsigned long n;
      if (cli_parse_uint(optarg, 1, 1000000, &n) != 0) {
        cli_errorf("--limit: 1 to 1000000");
        return 2;
      }
      o.limit = n;
      break;
    }
    case 'o': o.out_dir = optarg; break;
    case 'j': o.json = 1; break;
    case 'h': fputs(video_usage, stdout); return 0;
    default: fputs(video_usage, stderr); return 2;
    }
  }
  if (optind >= argc) {
    fputs(video_usage, stderr);
    return 2;
  }
  cli_paths paths = {0};
  int bad = cli_paths_collect(&paths, argv + optind, argc - optind, 1);
  if (bad) {
    cli_paths_free(&paths);
    return 2;
  }
  if (o.limit) cli_paths_truncate(&paths, o.limit);
  vouch_video_silence_log();
  const double t0 = cli_now();
  vouch_vpdq *orig = calloc(paths.n ? paths.n : 1, sizeof *orig);
  size_t *idx = calloc(paths.n ? paths.n : 1, sizeof *idx); /* the videos that hashed, as path indexes */
  edit_result er[VOUCH_VEDIT_COUNT];
  memset(er, 0, sizeof er);
  if (!orig || !idx) {
    cli_errorf("out of memory");
    free(orig);
    free(idx);
    cli_paths_free(&paths);
    return 2;
  }
  size_t nv = 0, skipped = 0, failed = 0;
  cli_video_opts vo = {.seconds_per_hash = o.seconds, .rotate = 1, .threads = 1};
  cli_progress prog;
  cli_progress_start(&prog, "originals", paths.n);
  for (size_t i = 0; i < paths.n; i++) {
    char err[256];
    int rc = cli_vpdq_file(paths.v[i], &vo, &orig[nv], err, sizeof err);
    cli_progress_update(&prog, i + 1);
    if (rc == VOUCH_E_VIDEO_FORMAT && paths.walked && paths.walked[i]) {
      skipped++;
      continue;
    }
    if (rc != VOUCH_OK) {
      cli_errorf("%s: %s%s%s", paths.v[i], vouch_strerror(rc), *err ? ": " : "", err);
      failed++;
      continue;
    }
    idx[nv++] = i;
  }
  cli_progress_end(&prog);
  /* false matches are listed in DIR/false_matches.tsv (copy or "original", video, the video it matched) */
  FILE *fm = NULL;
  if (o.out_dir) {
    char path[4096];
    if ((mkdir(o.out_dir, 0755) != 0 && errno != EEXIST) ||
        !(fm = eval_open_in(o.out_dir, "false_matches.tsv", path, sizeof path))) {
      if (!fm) cli_errorf("%s: %s", o.out_dir, strerror(errno));
      free(orig);
      free(idx);
      cli_paths_free(&paths);
      return 2;
    }
    fprintf(fm, "edit\tvideo\tmatched\n");
  }
  /* unrelated originals: every ordered pair */
  size_t pairs = 0, pair_matches = 0;
  for (size_t a = 0; a < nv; a++)
    for (size_t b = 0; b < nv; b++) {
      if (a == b || related(&o, paths.v[idx[a]], paths.v[idx[b]])) continue;
      pairs++;
      if (matches(&o, &orig[a], &orig[b], NULL) == 1) {
        pair_matches++;
        if (fm) fprintf(fm, "original\t%s\t%s\n", paths.v[idx[a]], paths.v[idx[b]]);
      }
    }
  vouch_video_opts vopt = vouch_video_opts_default();
  cli_progress_start(&prog, "edits", o.nedits * nv);
  for (size_t k = 0; k < o.nedits; k++)
    for (size_t a = 0; a < nv; a++) {
      vouch_vpdq copy = {0};
      const char *path = paths.v[idx[a]];
      int rc = vouch_eval_video_edited(path, &vopt, o.edits[k], o.seconds, &copy);
      cli_progress_update(&prog, k * nv + a + 1);
      if (rc != VOUCH_OK) {
        cli_errorf("%s: %s: %s", path, vouch_eval_video_edit_name(o.edits[k]), vouch_strerror(rc));
        er[k].failed++;
        continue;
      }
      er[k].total++;
      double qp = 0;
      if (matches(&o, &copy, &orig[a], &qp) == 1) er[k].matched++;
      er[k].query_pct_sum += qp;
      for (size_t b = 0; b < nv; b++)
        if (b != a && !related(&o, path, paths.v[idx[b]]) && matches(&o, &copy, &orig[b], NULL) == 1) {
          er[k].false_matches++;
          if (fm) fprintf(fm, "%s\t%s\t%s\n", vouch_eval_video_edit_name(o.edits[k]), path, paths.v[idx[b]]);
        }
      vouch_vpdq_clear(&copy);
    }
  cli_progress_end(&prog);
  const double secs = cli_now() - t0;
  size_t edit_failed = 0;
  for (size_t k = 0; k < o.nedits; k++) edit_failed += er[k].failed;
  write_report(&o, stdout, nv, skipped, failed, er, pairs, pair_matches, secs, o.json);
  int out_rc = fm && fclose(fm) != 0 ? -1 : 0;
  if (o.out_dir && out_rc == 0) out_rc = write_outputs(&o, nv, skipped, failed, er, pairs, pair_matches, secs);
  for (size_t a = 0; a < nv; a++) vouch_vpdq_clear(&orig[a]);
  free(orig);
  free(idx);
  cli_paths_free(&paths);
  if (out_rc != 0) return 2;
  return failed || edit_failed || nv == 0 ? 1 : 0;
}
