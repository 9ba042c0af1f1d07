/* tests/unit/test_classify_ref.c -- vouch classify agrees with the nsfwjs
 * JavaScript reference (tfjs CPU backend under node) within 1e-4 on every
 * class probability of every image.
 *
 * Both sides get the exact same pixels: we decode each photo with vouch's
 * decoder, write the RGB bytes to a raw file, and the reference builds its
 * tensor from that file (scripts/classify/reference.js).  So the comparison
 * covers preprocessing (bilinear resize with aligned corners, /255) and the
 * network, not two JPEG decoders.  Both our kernels (AVX2+FMA and portable C)
 * are compared.
 *
 * Needs the converted model and the npm packages (scripts/fetch-model.sh) and
 * node; exits 77 (skipped) without them.  Images: examples/, the PDQ test
 * images in shared/ when present, the first 8
 * photos of /work/corpus/photos (or $VOUCH_PHOTOS; VOUCH_CLASSIFY_REF_PHOTOS=N for more) when present, and a few
 * synthetic images (224x224: no resize; tiny and odd sizes; grey). */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

#include "tinytest.h"
#include "vouch/vouch.h"

#define MAX_IMAGES 128
#define TOL 1e-4

typedef struct item {
  char src[1024];
  char raw[1100];
  vouch_image img;
  float ours[2][VOUCH_CLASSIFY_CLASSES]; /* [simd, scalar] */
  double ref[VOUCH_CLASSIFY_CLASSES];
  int have_ref;
} item;

static item items[MAX_IMAGES];
static int nitems;
static char tmpdir[] = "/tmp/vouch-classify-ref-XXXXXX";

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds the image files of `dir` (sorted; at most `max`), recursively. */
static void add_dir(vouch_decoder *dec, const char *dir, int max, int *added) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  char *names[4096];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 4096)
    if (e->d_name[0] != '.')
      names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmpstr);
  for (int i = 0; i < n; i++) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
      add_dir(dec, p, max, added);
    } else if (*added < max && nitems < MAX_IMAGES) {
      item *it = &items[nitems];
      if (vouch_decoder_decode_file(dec, p, &it->img) == VOUCH_OK) {
        snprintf(it->src, sizeof it->src, "%s", p);
        nitems++;
        (*added)++;
      }
    }
    free(names[i]);
  }
}

static void add_synthetic(uint32_t w, uint32_t h, uint32_t ch, const char *name) {
  item *it = &items[nitems];
  if (vouch_image_init(&it->img, w, h, ch) != VOUCH_OK)
    return;
  uint32_t s = 12345;
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w * ch; x++) {
      s = s * 1103515245u + 12345u;
      /* smooth gradients plus noise, so the network sees some structure */
      it->img.pixels[(size_t)y * it->img.stride + x] = (uint8_t)((x * 3 + y * 2) / 2 + (s >> 27));
    }
  snprintf(it->src, sizeof it->src, "synthetic:%s", name);
  nitems++;
}

/* Writes the RGB bytes of each image and the manifest. */
static int write_raw(const char *manifest) {
  FILE *m = fopen(manifest, "w");
  if (!m)
    return -1;
  for (int i = 0; i < nitems; i++) {
    item *it = &items[i];
    snprintf(it->raw, sizeof it->raw, "%s/%03d.rgb", tmpdir, i);
    FILE *f = fopen(it->raw, "wb");
    if (!f) {
      fclose(m);
      return -1;
    }
    const vouch_image *im = &it->img;
    uint8_t *row = malloc((size_t)im->width * 3);
    for (uint32_t y = 0; y < im->height; y++) {
      const uint8_t *s = im->pixels + (size_t)y * im->stride;
      for (uint32_t x = 0; x < im->width; x++)
        for (int c = 0; c < 3; c++)
          row[(size_t)x * 3 + c] = s[(size_t)x * im->channels + (im->channels == 3 ? (unsigned)c : 0)];
      fwrite(row, 1, (size_t)im->width * 3, f);
    }
    free(row);
    fclose(f);
    fprintf(m, "%u %u %s\n", im->width, im->height, it->raw);
  }
  return fclose(m);
}

static void run_reference(const char *src_dir, const char *nm, const char *manifest) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "node '%s/scripts/classify/reference.js' '%s' '%s'", src_dir, nm, manifest);
  FILE *p = popen(cmd, "r");
  REQUIRE(p != NULL);
  char line[8192];
  while (fgets(line, sizeof line, p)) {
    char *q = strstr(line, "\"path\":\"");
    char *r = strstr(line, "\"probabilities\":[");
    if (!q || !r)
      continue;
    q += 8;
    char *end = strchr(q, '"');
    if (!end)
      continue;
    *end = 0;
    for (int i = 0; i < nitems; i++)
      if (!strcmp(items[i].raw, q)) {
        double v[5];
        if (sscanf(r + 17, "%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4]) == 5) {
          memcpy(items[i].ref, v, sizeof v);
          items[i].have_ref = 1;
        }
      }
  }
  CHECK_EQ_INT(pclose(p), 0);
}

int main(void) {
  const char *src = getenv("VOUCH_SRC");
  if (!src)
    src = ".";
  const char *cache = getenv("VOUCH_CLASSIFY_CACHE");
  char cdir[1024], model_path[1100], nm[1100], probe[1200];
  if (cache)
    snprintf(cdir, sizeof cdir, "%s", cache);
  else
    snprintf(cdir, sizeof cdir, "%s/.cache/classify", src);
  snprintf(model_path, sizeof model_path, "%s/nsfw-mobilenet-v2.vcm", cdir);
  snprintf(nm, sizeof nm, "%s/node_modules", cdir);
  snprintf(probe, sizeof probe, "%s/@tensorflow/tfjs/package.json", nm);
  if (access(model_path, R_OK) != 0 || access(probe, R_OK) != 0 || system("node --version >/dev/null 2>&1") != 0) {
    fprintf(stderr, "model, npm packages or node not found (run scripts/fetch-model.sh); skipping\n");
    return 77;
  }
  vouch_classify_model *model = NULL;
  char why[VOUCH_ERRMSG_MAX];
  if (vouch_classify_model_load_file(&model, model_path, why, sizeof why) != VOUCH_OK) {
    fprintf(stderr, "%s: %s\n", model_path, why);
    return 1;
  }
  vouch_decoder *dec = NULL;
  if (vouch_decoder_create(&dec, NULL) != VOUCH_OK)
    return 1;
  int added = 0;
  char p[1200];
  snprintf(p, sizeof p, "%s/examples", src);
  add_dir(dec, p, 64, &added);
  const char *shared = getenv("VOUCH_SHARED");
  if (shared) {
    snprintf(p, sizeof p, "%s/testdata/pdq/images", shared);
    added = 0;
    add_dir(dec, p, 64, &added);
  }
  const char *photos = getenv("VOUCH_PHOTOS");
  const char *np = getenv("VOUCH_CLASSIFY_REF_PHOTOS");
  added = 0;
  add_dir(dec, photos ? photos : "/work/corpus/photos", np ? (int)strtol(np, NULL, 10) : 8, &added);
  add_synthetic(224, 224, 3, "224x224");
  add_synthetic(1, 1, 3, "1x1");
  add_synthetic(37, 5, 3, "37x5");
  add_synthetic(300, 500, 1, "grey-300x500");
  vouch_decoder_free(dec);

  if (!mkdtemp(tmpdir))
    return 1;
  char manifest[1100];
  snprintf(manifest, sizeof manifest, "%s/manifest.txt", tmpdir);
  if (write_raw(manifest) != 0)
    return 1;

  vouch_classifier *clf[2] = {NULL, NULL};
  vouch_classifier_opts scalar = {1};
  if (vouch_classifier_create(&clf[0], model, NULL) != VOUCH_OK ||
      vouch_classifier_create(&clf[1], model, &scalar) != VOUCH_OK)
    return 1;
  for (int i = 0; i < nitems; i++)
    for (int k = 0; k < 2; k++)
      CHECK_EQ_INT(vouch_classifier_run(clf[k], &items[i].img, items[i].ours[k]), VOUCH_OK);

  run_reference(src, nm, manifest);

  double worst[2] = {0, 0};
  int compared = 0;
  for (int i = 0; i < nitems; i++) {
    item *it = &items[i];
    CHECK(it->have_ref);
    if (!it->have_ref)
      continue;
    compared++;
    double dk[2];
    for (int k = 0; k < 2; k++) {
      double d = 0;
      for (unsigned c = 0; c < VOUCH_CLASSIFY_CLASSES; c++)
        d = fmax(d, fabs((double)it->ours[k][c] - it->ref[c]));
      dk[k] = d;
      worst[k] = fmax(worst[k], d);
      if (!(d <= TOL))
        fprintf(stderr, "%s (%s kernels): max difference %.3g > %.0e\n", it->src, k ? "scalar" : "simd", d, TOL);
      CHECK(d <= TOL);
    }
    printf("%-60s ref %.6f %.6f %.6f %.6f %.6f  diff simd %.2e scalar %.2e\n", it->src, it->ref[0], it->ref[1],
           it->ref[2], it->ref[3], it->ref[4], dk[0], dk[1]);
  }
  printf("compared %d images with the nsfwjs reference: max |difference| %.3g (AVX2+FMA kernels%s), %.3g (portable C)\n",
         compared, worst[0], vouch_classifier_is_simd(clf[0]) ? "" : ": not available, portable C", worst[1]);
  CHECK(compared == nitems);

  for (int i = 0; i < nitems; i++) {
    remove(items[i].raw);
    vouch_image_clear(&items[i].img);
  }
  remove(manifest);
  rmdir(tmpdir);
  vouch_classifier_free(clf[0]);
  vouch_classifier_free(clf[1]);
  vouch_classify_model_free(model);
  TT_MAIN_END;
}
