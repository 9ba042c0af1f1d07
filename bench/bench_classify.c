/* bench/bench_classify.c -- classifier speed on one core, against the
 * JavaScript reference in the same run.
 *
 * usage: bench_classify [--model FILE] [--rounds N] [--js-repeat N]
 *                       [--js NODE_MODULES_DIR] FILE...
 *
 * Decodes every file once (decoding is not timed: it is the same work for
 * any classifier), then times vouch_classifier_run() (preprocessing +
 * network) over all images on this thread, in thread CPU time, best of N
 * rounds (default 3), with the AVX2+FMA kernels and with the portable C
 * ones.  With --js (the node_modules of scripts/fetch-model.sh), it writes
 * the same decoded pixels to raw files and runs nsfwjs on the tfjs CPU
 * backend under node (scripts/classify/reference.js --bench): CPU time per
 * classify() call, and checks that the two agree within 1e-4.  Prints ms per
 * photo and the ratio JS / vouch.  Targets (issue #8): <= 30 ms per photo,
 * >= 5x faster than the JS reference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vouch/vouch.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double time_run(vouch_classifier *clf, vouch_image *imgs, int n, int rounds, float (*out)[5]) {
  double best = 1e30;
  for (int r = 0; r < rounds; r++) {
    double t0 = now();
    for (int i = 0; i < n; i++)
      if (vouch_classifier_run(clf, &imgs[i], out[i]) != VOUCH_OK) {
        fprintf(stderr, "bench_classify: classify failed\n");
        exit(1);
      }
    double t = now() - t0;
    best = t < best ? t : best;
  }
  return best * 1e3 / n;
}

int main(int argc, char **argv) {
  const char *model_path = ".cache/classify/nsfw-mobilenet-v2.vcm", *js = NULL;
  int rounds = 3, js_repeat = 3, i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc)
      model_path = argv[++i];
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = (int)strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--js-repeat") && i + 1 < argc)
      js_repeat = (int)strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--js") && i + 1 < argc)
      js = argv[++i];
    else {
      fprintf(stderr, "usage: bench_classify [--model FILE] [--rounds N] [--js-repeat N] [--js NODE_MODULES] FILE...\n");
      return 2;
    }
  }
  if (js_repeat < 1)
    js_repeat = 1;
  if (rounds < 1)
    rounds = 1;
  if (vouch_init() < 0)
    return 1;
  vouch_classify_model *model = NULL;
  char why[VOUCH_ERRMSG_MAX];
  if (vouch_classify_model_load_file(&model, model_path, why, sizeof why) != VOUCH_OK) {
    fprintf(stderr, "bench_classify: %s: %s (run scripts/fetch-model.sh)\n", model_path, why);
    return 1;
  }
  int n = 0;
  vouch_image *imgs = calloc((size_t)(argc - i) + 1, sizeof *imgs);
  vouch_decoder *dec = NULL;
  if (!imgs || vouch_decoder_create(&dec, NULL) != VOUCH_OK)
    return 1;
  for (; i < argc; i++)
    if (vouch_decoder_decode_file(dec, argv[i], &imgs[n]) == VOUCH_OK)
      n++;
    else
      fprintf(stderr, "bench_classify: %s: skipped (%s)\n", argv[i], vouch_decoder_errmsg(dec));
  vouch_decoder_free(dec);
  if (n == 0) {
    fprintf(stderr, "bench_classify: no images\n");
    return 2;
  }
  float(*simd)[5] = calloc((size_t)n, sizeof *simd), (*scal)[5] = calloc((size_t)n, sizeof *scal);
  vouch_classifier *c1 = NULL, *c2 = NULL;
  vouch_classifier_opts force = {1};
  if (!simd || !scal || vouch_classifier_create(&c1, model, NULL) != VOUCH_OK ||
      vouch_classifier_create(&c2, model, &force) != VOUCH_OK)
    return 1;
  double ms_simd = time_run(c1, imgs, n, rounds, simd);
  double ms_scalar = time_run(c2, imgs, n, rounds, scal);
  printf("images: %d, best of %d rounds, one thread (CPU time)\n", n, rounds);
  printf("vouch %-22s %8.2f ms/photo\n", vouch_classifier_is_simd(c1) ? "(AVX2+FMA)" : "(portable C: no AVX2)", ms_simd);
  printf("vouch %-22s %8.2f ms/photo\n", "(portable C)", ms_scalar);
  int status = 0;

  if (js) {
    char dir[] = "/tmp/vouch-bench-classify-XXXXXX", manifest[64], path[96];
    if (!mkdtemp(dir))
      return 1;
    snprintf(manifest, sizeof manifest, "%s/manifest", dir);
    FILE *m = fopen(manifest, "w");
    for (int k = 0; m && k < n; k++) {
      snprintf(path, sizeof path, "%s/%04d.rgb", dir, k);
      FILE *f = fopen(path, "wb");
      if (!f)
        return 1;
      for (uint32_t y = 0; y < imgs[k].height; y++)
        for (uint32_t x = 0; x < imgs[k].width; x++)
          for (uint32_t c = 0; c < 3; c++)
            fputc(imgs[k].pixels[(size_t)y * imgs[k].stride + (size_t)x * imgs[k].channels +
                                 (imgs[k].channels == 3 ? c : 0)], f);
      fclose(f);
      fprintf(m, "%u %u %s\n", imgs[k].width, imgs[k].height, path);
    }
    if (m)
      fclose(m);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "node scripts/classify/reference.js '%s' '%s' --bench %d 2>/dev/null", js, manifest, js_repeat);
    FILE *p = popen(cmd, "r");
    double js_ms = -1, worst = 0;
    int agreed = 0;
    char line[4096];
    while (p && fgets(line, sizeof line, p)) {
      char *q = strstr(line, "\"bench_ms_per_image\":");
      if (q) {
        js_ms = strtod(q + 21, NULL);
        continue;
      }
      int k;
      double v[5];
      char *pp = strstr(line, ".rgb\""), *r = strstr(line, "\"probabilities\":[");
      if (!pp || !r || pp < line + 4 || sscanf(pp - 4, "%4d", &k) != 1 || k < 0 || k >= n ||
          sscanf(r + 17, "%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
        continue;
      agreed++;
      for (int c = 0; c < 5; c++)
        worst = fmax(worst, fabs(v[c] - simd[k][c]));
    }
    if (p)
      pclose(p);
    for (int k = 0; k < n; k++) {
      snprintf(path, sizeof path, "%s/%04d.rgb", dir, k);
      remove(path);
    }
    remove(manifest);
    rmdir(dir);
    if (js_ms <= 0 || agreed != n) {
      fprintf(stderr, "bench_classify: the JS reference did not run (node, %s?)\n", js);
      status = 1;
    } else {
      printf("nsfwjs (tfjs CPU, node)     %8.2f ms/photo (%d calls per photo)\n", js_ms, js_repeat);
      printf("speed-up vs JS reference    %8.1fx (portable C: %.1fx)\n", js_ms / ms_simd, js_ms / ms_scalar);
      printf("agreement with JS           max |difference| %.3g over %d photos\n", worst, n);
      if (worst > 1e-4)
        status = 1;
    }
  }
  vouch_classifier_free(c1);
  vouch_classifier_free(c2);
  for (int k = 0; k < n; k++)
    vouch_image_clear(&imgs[k]);
  free(imgs);
  free(simd);
  free(scal);
  vouch_classify_model_free(model);
  return status;
}
