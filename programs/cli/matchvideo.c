/* programs/cli/matchvideo.c -- `vouch index video` (an index of the frames
 * of videos) and `vouch match --vpdq` (videos against it), with the
 * semantics of python-threatexchange's vPDQ matcher (docs/video.md). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "vouch/index.h"
#include "vouch/bank.h"

/* Largest vPDQ text file we read (24 h at 60 fps is ~400 MB of lines; a
 * list received from a partner is far smaller). */
#define CLI_VPDQ_TEXT_MAX ((size_t)512 << 20)

/* A vPDQ from a file: the reference's text form if it parses as one, else
 * the file is hashed as a video.  Returns 0, or -1 after a message. */
static int load_vpdq(const char *path, const cli_video_opts *vo, vouch_vpdq *out) {
  uint8_t *buf = NULL;
  size_t len = 0;
  memset(out, 0, sizeof *out);
  if (cli_read_file(path, CLI_VPDQ_TEXT_MAX, &buf, &len) == 0) {
    size_t line = 0;
    int rc = vouch_vpdq_parse((const char *)buf, len, out, &line);
    free(buf);
    if (rc == VOUCH_OK) return 0;
  } else if (errno != EFBIG) {
    cli_errorf("%s: %s", path, strerror(errno));
    return -1;
  }
  char err[256];
  int rc = cli_vpdq_file(path, vo, out, err, sizeof err);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: neither vPDQ text nor a video we can hash: %s: %s", path, vouch_strerror(rc), err);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- bank import */

static int info_algo(void *ctx, const vouch_bank_info *in) {
  *(int *)ctx = in->algo;
  return 0;
}

int cli_bank_algo(vouch_bank *b, const char *name) {
  int algo = VOUCH_ALGO_NONE;
  if (vouch_bank_list(b, name, info_algo, &algo) != VOUCH_OK) return VOUCH_ALGO_NONE;
  return algo;
}

int cli_bank_import_videos(vouch_bank *b, const char *bank, char **files, int n, const char *source, const char *id) {
  if (id && n != 1) {
    cli_errorf("bank import: --id names one video: give one FILE");
    return CLI_EXIT_ERROR;
  }
  cli_video_opts vo = {.rotate = 1};
  int errors = 0;
  size_t added = 0, merged = 0;
  for (int i = 0; i < n; i++) {
    vouch_vpdq v;
    char *stem = cli_video_stem(files[i]);
    if (!stem || load_vpdq(files[i], &vo, &v) != 0) {
      free(stem);
      errors++;
      continue;
    }
    const char *base = strrchr(files[i], '/');
    int is_new = 0;
    int rc = vouch_bank_import_video(b, bank, &v, id ? id : stem, source ? source : (base ? base + 1 : files[i]), NULL,
                                     0, &is_new, NULL);
    vouch_vpdq_clear(&v);
    if (rc != VOUCH_OK) {
      cli_errorf("%s: %s: %s", files[i], vouch_strerror(rc), vouch_bank_errmsg(b));
      errors++;
    } else {
      added += is_new;
      merged += !is_new;
    }
    free(stem);
  }
  fprintf(stderr, "vouch: %zu videos added, %zu already in bank '%s' (source added), %d failed\n", added, merged, bank,
          errors);
  return errors ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- bank export */

typedef struct {
  int64_t *ids;
  char **names;
  size_t n, cap;
  int nomem;
} video_list;

static int collect_video(void *ctx, const vouch_bank_entry *e) {
  video_list *l = ctx;
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 64;
    int64_t *ni = realloc(l->ids, nc * sizeof *ni);
    if (ni) l->ids = ni;
    char **nn = realloc(l->names, nc * sizeof *nn);
    if (nn) l->names = nn;
    if (!ni || !nn) return l->nomem = 1;
    l->cap = nc;
  }
  l->ids[l->n] = e->id;
  l->names[l->n] = strdup(e->ext_id ? e->ext_id : "");
  if (!l->names[l->n]) return l->nomem = 1;
  l->n++;
  return 0;
}

/* A file name from a partner's id only when it is plainly safe. */
static int safe_name(const char *s) {
  if (!*s || *s == '.' || strlen(s) > 200) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
          *s == '_' || *s == '-'))
      return 0;
  return 1;
}

int cli_bank_export_videos(vouch_bank *b, const char *bank, const char *dir) {
  video_list l = {0};
  int rc = vouch_bank_entries(b, bank, collect_video, &l);
  int errors = 0;
  if (rc != VOUCH_OK || l.nomem) {
    cli_errorf("bank export: %s", l.nomem ? "out of memory" : vouch_bank_errmsg(b));
    errors++;
  }
  for (size_t i = 0; i < l.n && !errors; i++) {
    vouch_vpdq v;
    char path[4096];
    if (safe_name(l.names[i])) snprintf(path, sizeof path, "%s/%s.txt", dir, l.names[i]);
    else snprintf(path, sizeof path, "%s/entry-%lld.txt", dir, (long long)l.ids[i]);
    rc = vouch_bank_video(b, l.ids[i], &v);
    FILE *f = rc == VOUCH_OK ? fopen(path, "w") : NULL;
    if (!f) {
      cli_errorf("%s: %s", path, rc == VOUCH_OK ? strerror(errno) : vouch_bank_errmsg(b));
      errors++;
    } else {
      char line[VOUCH_VPDQ_LINE_BYTES];
      for (size_t k = 0; k < v.n; k++) fwrite(line, 1, vouch_vpdq_format_line(&v.frames[k], line, sizeof line), f);
      if (ferror(f) | (fclose(f) != 0)) {
        cli_errorf("%s: write error", path);
        errors++;
      }
    }
    vouch_vpdq_clear(&v);
  }
  for (size_t i = 0; i < l.n; i++) free(l.names[i]);
  free(l.names);
  free(l.ids);
  if (!errors) fprintf(stderr, "vouch: %zu videos written to %s\n", l.n, dir);
  return errors ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

static const char index_video_usage[] =
  "usage: vouch index video -o FILE.vidx [--bank NAME] [--quality Q] PATH...\n"
  "\n"
  "Writes a PDQ index of the unique frames (quality >= Q, default 50; equal\n"
  "hashes once) of each video, for 'vouch match --vpdq'.  PATH is a vPDQ file in\n"
  "the reference's text form (FRAME,QUALITY,PDQHEX,SECONDS lines, as 'vouch hash\n"
  "--algo vpdq -o DIR' or vpdq-hash-video write them) or python-threatexchange's\n"
  "JSON form, or a video, hashed here at its own size, every frame.  Each video\n"
  "is named by its file name without the extension (the entry's id); --bank\n"
  "names the bank (default 'videos').\n"
  "Prints the number of videos, frames and the Merkle root.\n";

int cmd_index_video(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"bank", required_argument, 0, 'b'},
                                       {"quality", required_argument, 0, 'q'}, {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *out = NULL, *bank = "videos";
  unsigned long quality = VOUCH_VPDQ_QUALITY_MIN;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:b:q:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'b': bank = optarg; break;
    case 'q':
      if (cli_uint_arg(optarg, 0, 100, &quality, "index video: --quality needs 0 to 100") != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'h': fputs(index_video_usage, stdout); return CLI_EXIT_OK;
    default: fputs(index_video_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (!out || optind >= argc) {
    cli_errorf("index video: needs -o FILE.vidx and at least one PATH");
    fputs(index_video_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  const size_t n = (size_t)(argc - optind);
  vouch_vpdq *videos = calloc(n, sizeof *videos);
  char **names = calloc(n, sizeof *names);
  cli_video_opts vo = {.rotate = 1};
  int ec = videos && names ? CLI_EXIT_OK : CLI_EXIT_ERROR;
  size_t frames = 0;
  for (size_t i = 0; i < n && ec == CLI_EXIT_OK; i++) {
    names[i] = cli_video_stem(argv[optind + (int)i]);
    if (!names[i] || load_vpdq(argv[optind + (int)i], &vo, &videos[i]) != 0) ec = CLI_EXIT_ERROR;
    frames += videos[i].n;
  }
  if (ec == CLI_EXIT_OK) {
    uint8_t root[32];
    size_t count = 0;
    char err[256] = "";
    int rc = vouch_vpdq_index_write(out, bank, videos, (const char *const *)names, n, (int)quality, root, &count,
                                    err, sizeof err);
    if (rc != VOUCH_OK) {
      cli_errorf("index video: %s: %s", vouch_strerror(rc), err);
      ec = CLI_EXIT_ERROR;
    } else {
      printf("%s: %zu videos, %zu frames, %zu unique frames of quality >= %lu indexed\nroot ", out, n, frames, count,
             quality);
      cli_hex_out(stdout, root, 32);
      putchar('\n');
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (videos) vouch_vpdq_clear(&videos[i]);
    if (names) free(names[i]);
  }
  free(videos);
  free(names);
  return ec;
}

static const char match_video_usage[] =
  "usage: vouch match --vpdq --index FILE.vidx [OPTIONS] VIDEO...\n"
  "       vouch match --vpdq --index FILE.vidx [OPTIONS] --hashes VPDQ.txt...\n"
  "\n"
  "Matches videos against an index of video frames ('vouch index video') with\n"
  "the semantics of python-threatexchange's vPDQ matcher: the query's unique\n"
  "frames of quality >= 50 are searched (exactly: every frame within the radius\n"
  "is found), and for each database video hit we report the share of the\n"
  "query's unique frames within the radius of one of its frames (QUERY%) and\n"
  "the share of its unique frames within the radius of a query frame (INDEX%).\n"
  "A video matches when QUERY% >= --query-match and INDEX% >= --index-match.\n"
  "\n"
  "options:\n"
  "      --index FILE        the index of video frames\n"
  "      --hashes            the PATHs are vPDQ files (the reference's text form or\n"
  "                          python-threatexchange's JSON form)\n"
  "      --query-match P     percent, default 80\n"
  "      --index-match P     percent, default 0\n"
  "      --radius N          frame match distance, inclusive (default 31)\n"
  "      --all               also print videos that share frames but do not match\n"
  "      --json              one JSON object per reported video\n"
  "  -j, --jobs N            search threads (default 1)\n"
  "  -h, --help              this help\n"
  "\n"
  "Text output: QUERY<TAB>match|-<TAB>QUERY%<TAB>INDEX%<TAB>BANK<TAB>ID\n"
  "Exit status: 1 if any video matched, 0 if none did, 2 on any error.\n";

static int parse_pct(const char *s, double *out) {
  char *end;
  errno = 0;
  double d = strtod(s, &end);
  if (errno || end == s || *end || !(d >= 0 && d <= 100)) return -1;
  *out = d;
  return 0;
}

static void print_match(const char *query, const vouch_index *idx, const vouch_vpdq_video_match *m, int json) {
  vouch_index_entry e;
  vouch_index_get(idx, m->entry, &e);
  const char *bank = vouch_index_bank_name(idx, e.bank);
  char *id = strndup(e.ext_id, e.ext_len);
  if (json) {
    fputs("{\"query\":", stdout);
    cli_json_string(stdout, query);
    fputs(",\"bank\":", stdout);
    cli_json_string(stdout, bank ? bank : "");
    fputs(",\"id\":", stdout);
    cli_json_string(stdout, id ? id : "");
    printf(",\"match\":%s,\"query_match\":%.3f,\"index_match\":%.3f,\"query_frames_matched\":%zu,"
           "\"index_frames\":%zu,\"index_frames_matched\":%zu}\n",
           m->match ? "true" : "false", m->query_pct, m->index_pct, m->query_matched, m->index_unique,
           m->index_matched);
  } else {
    printf("%s\t%s\t%.3f\t%.3f\t%s\t%s\n", query, m->match ? "match" : "-", m->query_pct, m->index_pct,
           bank ? bank : "", id ? id : "");
  }
  free(id);
}

int cmd_match_video(int argc, char **argv) {
  static const struct option opts[] = {
      {"vpdq", no_argument, 0, 'V'},          {"index", required_argument, 0, 'I'},
      {"hashes", no_argument, 0, 'H'},        {"query-match", required_argument, 0, 'Q'},
      {"index-match", required_argument, 0, 'X'}, {"radius", required_argument, 0, 'R'},
      {"all", no_argument, 0, 'A'},           {"json", no_argument, 0, 'J'},
      {"jobs", required_argument, 0, 'j'},    {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  vouch_vpdq_match_opts mo = vouch_vpdq_match_opts_default();
  const char *index_path = NULL;
  int hashes = 0, all = 0, json = 0, c;
  unsigned long radius = mo.radius, jobs = 1;
  optind = 1;
  while ((c = getopt_long(argc, argv, "j:h", opts, NULL)) != -1) {
    switch (c) {
    case 'V': break;
    case 'I': index_path = optarg; break;
    case 'H': hashes = 1; break;
    case 'Q':
    case 'X':
      if (parse_pct(optarg, c == 'Q' ? &mo.query_match : &mo.index_match) != 0) {
        cli_errorf("match: --%s needs a percentage from 0 to 100", c == 'Q' ? "query-match" : "index-match");
        return CLI_EXIT_ERROR;
      }
      break;
    case 'R':
      if (cli_uint_arg(optarg, 0, 256, &radius, "match: --radius needs 0 to 256") != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'A': all = 1; break;
    case 'J': json = 1; break;
    case 'j':
      if (cli_uint_arg(optarg, 1, 1024, &jobs, "match: -j needs a number from 1 to 1024") != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'h': fputs(match_video_usage, stdout); return CLI_EXIT_OK;
    default: fputs(match_video_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  mo.radius = (unsigned)radius;
  mo.threads = (unsigned)jobs;
  if (!index_path || optind >= argc) {
    cli_errorf("match: --vpdq needs --index FILE.vidx and at least one PATH");
    fputs(match_video_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  vouch_index *idx = NULL;
  int rc = vouch_index_open(&idx, index_path, NULL);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s: %s", index_path, vouch_strerror(rc), vouch_index_errmsg(idx));
    vouch_index_free(idx);
    return CLI_EXIT_ERROR;
  }
  vouch_vpdq_db *db = NULL;
  rc = vouch_vpdq_db_open(&db, idx);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s (an index of video frames is a PDQ index)", index_path, vouch_strerror(rc));
    vouch_index_free(idx);
    return CLI_EXIT_ERROR;
  }
  int errors = 0, matched = 0;
  cli_video_opts vo = {.rotate = 1};
  for (int i = optind; i < argc; i++) {
    vouch_vpdq q = {0};
    if (hashes) {
      uint8_t *buf = NULL;
      size_t len = 0, line = 0;
      if (cli_read_file_reported(argv[i], CLI_VPDQ_TEXT_MAX, &buf, &len) != 0) {
        errors++;
        continue;
      }
      rc = vouch_vpdq_parse((const char *)buf, len, &q, &line);
      free(buf);
      if (rc != VOUCH_OK) {
        cli_errorf("%s: line %zu: %s", argv[i], line, vouch_strerror(rc));
        errors++;
        continue;
      }
    } else {
      char err[256];
      rc = cli_vpdq_file(argv[i], &vo, &q, err, sizeof err);
      if (rc != VOUCH_OK) {
        cli_errorf("%s: %s: %s", argv[i], vouch_strerror(rc), err);
        errors++;
        continue;
      }
    }
    vouch_vpdq_video_match *m = NULL;
    size_t nm = 0;
    rc = vouch_vpdq_db_match(db, &q, &mo, &m, &nm, NULL);
    vouch_vpdq_clear(&q);
    if (rc != VOUCH_OK) {
      cli_errorf("%s: %s", argv[i], vouch_strerror(rc));
      errors++;
      continue;
    }
    for (size_t k = 0; k < nm; k++) {
      matched |= m[k].match;
      if (m[k].match || all) print_match(argv[i], idx, &m[k], json);
    }
    vouch_vpdq_video_matches_free(m);
  }
  vouch_vpdq_db_free(db);
  vouch_index_free(idx);
  if (fflush(stdout) != 0) errors++;
  return errors ? CLI_EXIT_ERROR : matched ? CLI_EXIT_MATCH : CLI_EXIT_OK;
}
