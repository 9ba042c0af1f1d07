/* programs/cli/cmd_classify.c -- `vouch classify`: the Communication Safety
 * classifier over image files, with optional blurred copies of the images
 * it flags (docs/classify.md). */
#include <errno.h>
#include <getopt.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

#ifndef VOUCH_CLASSIFY_MODEL_DEFAULT
#define VOUCH_CLASSIFY_MODEL_DEFAULT "/usr/local/share/vouch/nsfw-mobilenet-v2.vcm"
#endif

static const char classify_usage[] =
  "usage: vouch classify [OPTIONS] PATH...\n"
  "\n"
  "Communication Safety: runs an on-device classifier (nsfwjs's MobileNetV2, in C)\n"
  "on each image and says whether it is sensitive.  Nothing leaves the machine.\n"
  "The five class probabilities are drawing, hentai, neutral, porn, sexy; the\n"
  "sensitive score is porn + hentai + sexy, and an image is sensitive when its\n"
  "score is >= the threshold.  PATH may be a file, a directory (with -r) or '-'\n"
  "(one path per line on standard input).  Output, in input order:\n"
  "  VERDICT SCORE drawing=P hentai=P neutral=P porn=P sexy=P PATH     (text)\n"
  "  {\"path\":..,\"probabilities\":{\"drawing\":..,..},\"score\":..,\"sensitive\":false}  (--json)\n"
  "\n"
  "options:\n"
  "  -t, --threshold P  sensitive when porn + hentai + sexy >= P (0..1; default 0.8)\n"
  "  -b, --blur DIR     write a blurred copy of each sensitive image to DIR as\n"
  "                     NAME.blurred.png (-2, -3.. appended if taken): averaged\n"
  "                     down to 8 cells on the long side (cells >= 16 px), no\n"
  "                     detail kept\n"
  "  -m, --model FILE   model file (default: $VOUCH_MODEL, else\n"
  "                     " VOUCH_CLASSIFY_MODEL_DEFAULT ",\n"
  "                     made by scripts/fetch-model.sh)\n"
  "  -j, --jobs N       threads (default: all cores)\n"
  "  -r, --recursive    walk directories (non-images found there are skipped)\n"
  "      --json         JSON Lines output; a file that fails gives {\"path\":..,\"error\":..}\n"
  "  -h, --help         this help\n"
  "\n"
  "Exit status: 0 if no image is sensitive, 1 if at least one is (like grep),\n"
  "2 on a usage error, a missing model, or any file that failed.\n";

/* One photo's result, made on a worker of the photo pipeline. */
typedef struct slot {
  const char *path;
  int rc, skipped, sensitive;
  float probs[VOUCH_CLASSIFY_CLASSES];
  char blurred[4096];
  char err[256];
} slot;

typedef struct pool {
  const cli_paths *paths;
  const vouch_classify_model *model;
  const char *blur_dir;
  float threshold;
  int json;
  long failed, sensitive, skipped;
} pool;

/* The per-thread state. */
typedef struct tools {
  vouch_decoder *dec;
  vouch_classifier *clf;
} tools;

/* Writes `img` as an 8-bit PNG; 0 on success. */
static int write_png(FILE *f, const vouch_image *img) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return -1;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, img->width, img->height, 8, img->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (uint32_t y = 0; y < img->height; y++)
    png_write_row(png, img->pixels + (size_t)y * img->stride);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return 0;
}

/* DIR/STEM.blurred.png, or STEM-2.blurred.png... if taken; created
 * exclusively ("wx") so threads never overwrite each other. */
static int write_blurred(const pool *p, const vouch_image *img, slot *s) {
  vouch_image b = {0};
  int rc = vouch_classify_blur(img, &b);
  if (rc != VOUCH_OK) {
    snprintf(s->err, sizeof s->err, "blur: %s", vouch_strerror(rc));
    return -1;
  }
  const char *base = strrchr(s->path, '/');
  base = base ? base + 1 : s->path;
  char stem[1024];
  snprintf(stem, sizeof stem, "%s", base);
  char *dot = strrchr(stem, '.');
  if (dot && dot != stem)
    *dot = 0;
  FILE *f = NULL;
  for (int k = 1; k < 1000 && !f; k++) {
    if (k == 1)
      snprintf(s->blurred, sizeof s->blurred, "%s/%s.blurred.png", p->blur_dir, stem);
    else
      snprintf(s->blurred, sizeof s->blurred, "%s/%s-%d.blurred.png", p->blur_dir, stem, k);
    f = fopen(s->blurred, "wbx");
    if (!f && errno != EEXIST)
      break;
  }
  int ok = f && write_png(f, &b) == 0;
  if (f && fclose(f) != 0)
    ok = 0;
  vouch_image_clear(&b);
  if (!ok) {
    snprintf(s->err, sizeof s->err, "cannot write the blurred copy in %.200s", p->blur_dir);
    s->blurred[0] = 0;
    return -1;
  }
  return 0;
}

static void classify_one(pool *p, vouch_decoder *dec, vouch_classifier *clf, size_t i, slot *s) {
  s->path = p->paths->v[i];
  s->skipped = s->sensitive = 0;
  s->blurred[0] = s->err[0] = 0;
  vouch_image img = {0};
  int rc = vouch_decoder_decode_file(dec, s->path, &img);
  if (rc == VOUCH_E_IMAGE_FORMAT && p->paths->walked && p->paths->walked[i])
    s->skipped = 1;
  if (rc != VOUCH_OK) {
    snprintf(s->err, sizeof s->err, "%s", vouch_decoder_errmsg(dec));
  } else {
    rc = vouch_classifier_run(clf, &img, s->probs);
    if (rc == VOUCH_OK) {
      s->sensitive = vouch_classify_is_sensitive(s->probs, p->threshold);
      if (s->sensitive && p->blur_dir && write_blurred(p, &img, s) != 0)
        rc = VOUCH_E_IO;
    }
  }
  vouch_image_clear(&img);
  s->rc = rc;
}

static int tools_init(void *ctx, void **state) {
  pool *p = ctx;
  tools *t = calloc(1, sizeof *t);
  *state = t;
  if (!t)
    return VOUCH_E_NOMEM;
  int rc = vouch_decoder_create(&t->dec, NULL);
  if (rc == VOUCH_OK)
    rc = vouch_classifier_create(&t->clf, p->model, NULL);
  return rc;
}

static void tools_free(void *ctx, void *state) {
  (void)ctx;
  tools *t = state;
  if (!t)
    return;
  vouch_classifier_free(t->clf);
  vouch_decoder_free(t->dec);
  free(t);
}

static void work(void *ctx, void *state, int init_rc, size_t i, void *result) {
  pool *p = ctx;
  tools *t = state;
  slot *s = result;
  if (init_rc == VOUCH_OK) {
    classify_one(p, t->dec, t->clf, i, s);
  } else {
    s->path = p->paths->v[i];
    s->rc = init_rc;
    snprintf(s->err, sizeof s->err, "cannot set up the classifier");
  }
}

static void print_slot(FILE *out, const slot *s, int json);

static int deliver(void *ctx, size_t i, void *result) {
  (void)i;
  pool *p = ctx;
  const slot *s = result;
  if (s->skipped) {
    p->skipped++;
    return 0;
  }
  if (s->rc != VOUCH_OK)
    p->failed++;
  else if (s->sensitive)
    p->sensitive++;
  print_slot(stdout, s, p->json);
  return 0;
}

static void print_slot(FILE *out, const slot *s, int json) {
  if (s->rc != VOUCH_OK) {
    cli_errorf("%s: %s%s%s", s->path, vouch_strerror(s->rc), s->err[0] ? ": " : "", s->err);
    if (json) {
      fputs("{\"path\":", out);
      cli_json_string(out, s->path);
      fputs(",\"error\":", out);
      cli_json_string(out, vouch_strerror(s->rc));
      fputs(",\"detail\":", out);
      cli_json_string(out, s->err);
      fputs("}\n", out);
    }
    return;
  }
  float score = vouch_classify_sensitive_score(s->probs);
  if (json) {
    fputs("{\"path\":", out);
    cli_json_string(out, s->path);
    fputs(",\"probabilities\":{", out);
    for (unsigned c = 0; c < VOUCH_CLASSIFY_CLASSES; c++)
      fprintf(out, "%s\"%s\":%.6f", c ? "," : "", vouch_classify_class_name((int)c), (double)s->probs[c]);
    fprintf(out, "},\"score\":%.6f,\"sensitive\":%s", (double)score, s->sensitive ? "true" : "false");
    if (s->blurred[0]) {
      fputs(",\"blurred\":", out);
      cli_json_string(out, s->blurred);
    }
    fputs("}\n", out);
  } else {
    fprintf(out, "%-9s %.4f", s->sensitive ? "sensitive" : "ok", (double)score);
    for (unsigned c = 0; c < VOUCH_CLASSIFY_CLASSES; c++)
      fprintf(out, " %s=%.4f", vouch_classify_class_name((int)c), (double)s->probs[c]);
    fprintf(out, " %s\n", s->path);
  }
}

int cmd_classify(int argc, char **argv) {
  static const struct option longopts[] = {
    {"threshold", required_argument, NULL, 't'}, {"blur", required_argument, NULL, 'b'},
    {"model", required_argument, NULL, 'm'},     {"jobs", required_argument, NULL, 'j'},
    {"recursive", no_argument, NULL, 'r'},       {"json", no_argument, NULL, 'J'},
    {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
  int json = 0, recursive = 0, ch;
  unsigned long jobs = 0;
  float threshold = VOUCH_CLASSIFY_THRESHOLD_DEFAULT;
  const char *blur_dir = NULL, *model_path = NULL;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "t:b:m:j:rh", longopts, NULL)) != -1) {
    switch (ch) {
    case 't': {
      char *end = NULL;
      double v = strtod(optarg, &end);
      if (!end || *end || end == optarg || !(v >= 0.0 && v <= 1.0)) {
        cli_errorf("--threshold needs a number from 0 to 1");
        return CLI_EXIT_ERROR;
      }
      threshold = (float)v;
      break;
    }
    case 'b': blur_dir = optarg; break;
    case 'm': model_path = optarg; break;
    case 'j':
      if (cli_uint_arg(optarg, 1, 1024, &jobs, "--jobs needs a number from 1 to 1024") != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'r': recursive = 1; break;
    case 'J': json = 1; break;
    case 'h': fputs(classify_usage, stdout); return CLI_EXIT_OK;
    default: fputs(classify_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (cli_missing_operands(argc, classify_usage))
    return CLI_EXIT_ERROR;
  if (blur_dir) {
    struct stat st;
    if (stat(blur_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      cli_errorf("--blur %s: not a directory", blur_dir);
      return CLI_EXIT_ERROR;
    }
  }
  if (!model_path)
    model_path = getenv("VOUCH_MODEL");
  if (!model_path || !*model_path)
    model_path = VOUCH_CLASSIFY_MODEL_DEFAULT;
  vouch_classify_model *model = NULL;
  char why[VOUCH_ERRMSG_MAX];
  int rc = vouch_classify_model_load_file(&model, model_path, why, sizeof why);
  if (rc != VOUCH_OK) {
    cli_errorf("model %s: %s (%s)%s", model_path, vouch_strerror(rc), why,
               rc == VOUCH_E_IO ? "; run scripts/fetch-model.sh, or give --model FILE" : "");
    return CLI_EXIT_ERROR;
  }

  cli_paths paths = {0};
  int bad = cli_paths_collect(&paths, argv + optind, argc - optind, recursive);
  pool p = {.paths = &paths, .model = model, .blur_dir = blur_dir, .threshold = threshold, .json = json};
  cli_photojob job = {.n = paths.n,
                      .jobs = (int)jobs,
                      .window_per_job = 4,
                      .result_size = sizeof(slot),
                      .progress_label = "classifying",
                      .ctx = &p,
                      .init = tools_init,
                      .fini = tools_free,
                      .work = work,
                      .deliver = deliver};
  int start_failed = cli_photojob_run(&job) != 0;
  long failed = p.failed, sensitive = p.sensitive, skipped = p.skipped;
  cli_paths_free(&paths);
  vouch_classify_model_free(model);
  if (skipped)
    cli_warnf("skipped %ld file%s found in directories that %s not images", skipped, skipped == 1 ? "" : "s",
              skipped == 1 ? "is" : "are");
  if (fflush(stdout) != 0) {
    cli_errorf("writing output failed");
    return CLI_EXIT_ERROR;
  }
  if (start_failed) {
    cli_errorf("could not start worker threads");
    return CLI_EXIT_ERROR;
  }
  if (bad || failed)
    return CLI_EXIT_ERROR;
  return sensitive ? CLI_EXIT_MATCH : CLI_EXIT_OK;
}
