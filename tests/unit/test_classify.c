/* tests/unit/test_classify.c -- the classifier without the real weights:
 * a synthetic model (valid file, pseudo-random weights) written here from
 * the format in docs/classify.md.  Checks the loader's validation (every
 * header field, shapes, size, checksum, non-finite weights), allocation
 * failures, that classifying allocates nothing, the kernels against each
 * other, grey vs RGB, the verdict rule and the blur.  Agreement with the
 * real network is test_classify_ref.c. */
#include <math.h>
#include <stdint.h>
#include <sodium.h>

#include "tinytest.h"
#include "vouch/vouch.h"
#include "common/internal.h"

/* ---- a synthetic model file */

static uint8_t *model_buf;
static size_t model_len;
static size_t data_off; /* offset of the float data */

static void put32(uint8_t *p, uint32_t v) { vouch__store32_le(p, v); }

/* Shapes of MobileNetV2 + nsfwjs head, in file order (docs/classify.md). */
static size_t shapes(uint32_t (*s)[4]) {
  static const uint32_t bt[17][3] = {{1, 16, 1},  {6, 24, 2},  {6, 24, 1},  {6, 32, 2},  {6, 32, 1},  {6, 32, 1},
                                     {6, 64, 2},  {6, 64, 1},  {6, 64, 1},  {6, 64, 1},  {6, 96, 1},  {6, 96, 1},
                                     {6, 96, 1},  {6, 160, 2}, {6, 160, 1}, {6, 160, 1}, {6, 320, 1}};
  size_t n = 0;
#define S(a, b, c, d) (s[n][0] = (a), s[n][1] = (b), s[n][2] = (c), s[n][3] = (d), n++)
  S(3, 3, 3, 32);
  S(32, 0, 0, 0);
  uint32_t cin = 32;
  for (int i = 0; i < 17; i++) {
    uint32_t ce = cin * bt[i][0], co = bt[i][1];
    if (bt[i][0] != 1) {
      S(cin, ce, 0, 0);
      S(ce, 0, 0, 0);
    }
    S(3, 3, ce, 0);
    S(ce, 0, 0, 0);
    S(ce, co, 0, 0);
    S(co, 0, 0, 0);
    cin = co;
  }
  S(320, 1280, 0, 0);
  S(1280, 0, 0, 0);
  S(1280, 256, 0, 0);
  S(256, 0, 0, 0);
  S(256, 128, 0, 0);
  S(128, 0, 0, 0);
  S(128, 5, 0, 0);
  S(5, 0, 0, 0);
#undef S
  return n;
}

static void rehash(uint8_t *buf, size_t len) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, buf, 72);
  crypto_hash_sha256_update(&st, buf + 104, len - 104);
  crypto_hash_sha256_final(&st, buf + 72);
}

static void build_model(void) {
  uint32_t s[128][4];
  size_t nt = shapes(s), nf = 0;
  for (size_t i = 0; i < nt; i++) {
    size_t c = 1;
    for (int d = 0; d < 4 && s[i][d]; d++)
      c *= s[i][d];
    nf += c;
  }
  data_off = 104 + 16 * nt;
  model_len = data_off + 4 * nf;
  model_buf = calloc(1, model_len);
  memcpy(model_buf, "VOUCHCLS", 8);
  put32(model_buf + 8, 1);
  put32(model_buf + 12, 1);
  put32(model_buf + 16, 224);
  put32(model_buf + 20, 5);
  put32(model_buf + 24, (uint32_t)nt);
  vouch__store64_le(model_buf + 32, model_len - 104);
  memcpy(model_buf + 40, "synthetic test model", 20);
  uint8_t *q = model_buf + data_off;
  uint32_t rng = 2463534242u;
  for (size_t i = 0; i < nt; i++) {
    size_t c = 1, fan_in;
    for (int d = 0; d < 4; d++) {
      put32(model_buf + 104 + 16 * i + 4 * (size_t)d, s[i][d]);
      if (s[i][d])
        c *= s[i][d];
    }
    /* weights ~ U(-1, 1) * sqrt(3 / fan_in) keep activations in range;
     * biases small */
    int is_bias = s[i][1] == 0;
    fan_in = s[i][0] == 3 && s[i][1] == 3 ? (s[i][3] ? 27 : 9) : s[i][0];
    float scale = is_bias ? 0.1f : sqrtf(3.0f / (float)fan_in);
    for (size_t k = 0; k < c; k++) {
      rng ^= rng << 13;
      rng ^= rng >> 17;
      rng ^= rng << 5;
      float v = ((float)(rng >> 8) / 8388608.0f - 1.0f) * scale;
      uint32_t u;
      memcpy(&u, &v, 4);
      put32(q, u);
      q += 4;
    }
  }
  rehash(model_buf, model_len);
}

static vouch_image make_image(uint32_t w, uint32_t h, uint32_t ch, uint32_t seed) {
  vouch_image img = {0};
  if (vouch_image_init(&img, w, h, ch) != VOUCH_OK)
    abort();
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w * ch; x++) {
      seed = seed * 1664525u + 1013904223u;
      img.pixels[(size_t)y * img.stride + x] = (uint8_t)(((x / ch) * 5 + y * 3) + (seed >> 28));
    }
  return img;
}

/* ---- tests */

static void test_load_valid(void) {
  vouch_classify_model *m = NULL;
  char why[VOUCH_ERRMSG_MAX] = "x";
  REQUIRE(vouch_classify_model_load(&m, model_buf, model_len, why, sizeof why) == VOUCH_OK);
  CHECK_EQ_STR(why, "");
  CHECK_EQ_STR(vouch_classify_model_source(m), "synthetic test model");
  CHECK_EQ_INT(vouch_classify_classes(), 5);
  CHECK_EQ_STR(vouch_classify_class_name(VOUCH_CLASS_PORN), "porn");
  CHECK_EQ_STR(vouch_classify_class_name(5), "?");
  vouch_classify_model_free(m);
  vouch_classify_model_free(NULL);
  CHECK_EQ_INT(vouch_classify_model_load(NULL, model_buf, model_len, NULL, 0), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_classify_model_load(&m, NULL, 5, NULL, 0), VOUCH_E_INVALID);
}

typedef struct mutation {
  const char *what;
  size_t off;    /* byte to change */
  uint8_t xor_;  /* value xored into it (0: none) */
  long dlen;     /* change of length (truncate or append) */
  int rehash;    /* recompute the checksum afterwards */
  int want;
} mutation;

static void test_load_rejects(void) {
  const mutation muts[] = {
    {"magic", 0, 0x01, 0, 1, VOUCH_E_DB_CORRUPT},
    {"version", 8, 0x02, 0, 1, VOUCH_E_DB_VERSION},
    {"architecture", 12, 0x02, 0, 1, VOUCH_E_DB_VERSION},
    {"input side", 16, 0x01, 0, 1, VOUCH_E_DB_CORRUPT},
    {"classes", 20, 0x01, 0, 1, VOUCH_E_DB_CORRUPT},
    {"tensor count", 24, 0x01, 0, 1, VOUCH_E_DB_CORRUPT},
    {"reserved", 28, 0x01, 0, 1, VOUCH_E_DB_CORRUPT},
    {"payload size", 32, 0x04, 0, 1, VOUCH_E_DB_CORRUPT},
    {"unterminated source", 71, 0x41, 0, 1, VOUCH_E_DB_CORRUPT},
    {"checksum", 72, 0x80, 0, 0, VOUCH_E_DB_CORRUPT},
    {"a shape", 104 + 16 * 5, 0x01, 0, 1, VOUCH_E_DB_CORRUPT},
    {"a weight (checksum)", 0, 0x10, 0, 0, VOUCH_E_DB_CORRUPT}, /* off set below */
    {"truncated by one", 0, 0, -1, 0, VOUCH_E_DB_CORRUPT},
    {"one byte appended", 0, 0, 1, 0, VOUCH_E_DB_CORRUPT},
    {"header only", 0, 0, -2, 0, VOUCH_E_DB_CORRUPT},
  };
  for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
    mutation mu = muts[i];
    size_t len = model_len;
    if (mu.dlen == -2)
      len = 104;
    else
      len = (size_t)((long)len + mu.dlen);
    uint8_t *b = calloc(1, len > model_len ? len : model_len);
    memcpy(b, model_buf, len < model_len ? len : model_len);
    if (!strcmp(mu.what, "a weight (checksum)"))
      mu.off = data_off + 1000;
    if (mu.xor_)
      b[mu.off] ^= mu.xor_;
    if (mu.rehash)
      rehash(b, len);
    vouch_classify_model *m = (vouch_classify_model *)1;
    char why[VOUCH_ERRMSG_MAX] = "";
    int rc = vouch_classify_model_load(&m, b, len, why, sizeof why);
    if (rc != mu.want)
      fprintf(stderr, "  mutation '%s': rc %d, want %d (%s)\n", mu.what, rc, mu.want, why);
    CHECK_EQ_INT(rc, mu.want);
    CHECK(m == NULL);
    CHECK(why[0]);
    free(b);
  }
  /* every prefix of the header */
  for (size_t len = 0; len < 104; len += 7) {
    vouch_classify_model *m = NULL;
    CHECK_EQ_INT(vouch_classify_model_load(&m, model_buf, len, NULL, 0), VOUCH_E_DB_CORRUPT);
  }
  /* a NaN and an infinity, with a valid checksum */
  const uint32_t bad[2] = {0x7fc00000u, 0x7f800000u};
  for (int k = 0; k < 2; k++) {
    uint8_t *b = malloc(model_len);
    memcpy(b, model_buf, model_len);
    put32(b + model_len - 4 * (size_t)(k + 1) * 977, bad[k]);
    rehash(b, model_len);
    vouch_classify_model *m = NULL;
    CHECK_EQ_INT(vouch_classify_model_load(&m, b, model_len, NULL, 0), VOUCH_E_DB_CORRUPT);
    free(b);
  }
  vouch_classify_model *m = NULL;
  char why[VOUCH_ERRMSG_MAX] = "";
  CHECK_EQ_INT(vouch_classify_model_load_file(&m, "/nonexistent/model.vcm", why, sizeof why), VOUCH_E_IO);
  CHECK(m == NULL);
}

static void test_run(void) {
  vouch_classify_model *m = NULL;
  REQUIRE(vouch_classify_model_load(&m, model_buf, model_len, NULL, 0) == VOUCH_OK);
  vouch_classifier *fast = NULL, *portable = NULL;
  vouch_classifier_opts scalar = {1};
  REQUIRE(vouch_classifier_create(&fast, m, NULL) == VOUCH_OK);
  REQUIRE(vouch_classifier_create(&portable, m, &scalar) == VOUCH_OK);
  CHECK_EQ_INT(vouch_classifier_is_simd(portable), 0);
  const uint32_t sizes[][2] = {{224, 224}, {640, 480}, {1, 1}, {3, 900}, {225, 223}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    vouch_image img = make_image(sizes[i][0], sizes[i][1], 3, (uint32_t)i);
    float a[5], b[5], c[5];
    REQUIRE(vouch_classifier_run(fast, &img, a) == VOUCH_OK);
    REQUIRE(vouch_classifier_run(fast, &img, c) == VOUCH_OK);
    REQUIRE(vouch_classifier_run(portable, &img, b) == VOUCH_OK);
    CHECK(memcmp(a, c, sizeof a) == 0); /* deterministic */
    double sum = 0, diff = 0;
    for (int k = 0; k < 5; k++) {
      CHECK(a[k] >= 0.0f && a[k] <= 1.0f);
      sum += a[k];
      diff = fmax(diff, fabs((double)a[k] - b[k]));
    }
    CHECK(fabs(sum - 1.0) < 1e-5);
    if (!(diff < 1e-5))
      fprintf(stderr, "  %ux%u: kernels differ by %g\n", sizes[i][0], sizes[i][1], diff);
    CHECK(diff < 1e-5);
    vouch_image_clear(&img);
  }
  /* a grey image is classified as the RGB image with R = G = B */
  vouch_image g = make_image(123, 77, 1, 9), rgb = {0};
  REQUIRE(vouch_image_init(&rgb, 123, 77, 3) == VOUCH_OK);
  for (uint32_t y = 0; y < 77; y++)
    for (uint32_t x = 0; x < 123; x++)
      for (int c = 0; c < 3; c++)
        rgb.pixels[(size_t)y * rgb.stride + x * 3 + (unsigned)c] = g.pixels[(size_t)y * g.stride + x];
  float pg[5], pr[5];
  CHECK_EQ_INT(vouch_classifier_run(fast, &g, pg), VOUCH_OK);
  CHECK_EQ_INT(vouch_classifier_run(fast, &rgb, pr), VOUCH_OK);
  CHECK(memcmp(pg, pr, sizeof pg) == 0);
  /* different images give different outputs (the network is not constant) */
  vouch_image other = make_image(123, 77, 3, 12345);
  float po[5];
  CHECK_EQ_INT(vouch_classifier_run(fast, &other, po), VOUCH_OK);
  CHECK(memcmp(po, pr, sizeof po) != 0);

  /* classifying allocates nothing: with every allocation failing it still works */
  vouch__test_fail_allocs_after(0);
  float pn[5];
  CHECK_EQ_INT(vouch_classifier_run(fast, &rgb, pn), VOUCH_OK);
  CHECK_EQ_INT(vouch_classifier_run(portable, &rgb, pn), VOUCH_OK);
  vouch__test_fail_allocs_after(-1);

  /* bad arguments; probs untouched */
  float keep[5] = {7, 7, 7, 7, 7};
  vouch_image bad = rgb;
  bad.channels = 2;
  CHECK_EQ_INT(vouch_classifier_run(fast, &bad, keep), VOUCH_E_INVALID);
  bad = rgb;
  bad.stride = 10;
  CHECK_EQ_INT(vouch_classifier_run(fast, &bad, keep), VOUCH_E_INVALID);
  bad = rgb;
  bad.width = 0;
  CHECK_EQ_INT(vouch_classifier_run(fast, &bad, keep), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_classifier_run(NULL, &rgb, keep), VOUCH_E_INVALID);
  CHECK(keep[0] == 7 && keep[4] == 7);
  CHECK_EQ_INT(vouch_classifier_create(NULL, m, NULL), VOUCH_E_INVALID);

  vouch_image_clear(&g);
  vouch_image_clear(&rgb);
  vouch_image_clear(&other);
  vouch_classifier_free(fast);
  vouch_classifier_free(portable);
  vouch_classifier_free(NULL);
  vouch_classify_model_free(m);
}

static void test_alloc_failures(void) {
  int ok = 0;
  vouch_image img = make_image(50, 40, 3, 1);
  for (long n = 0; n < 64 && !ok; n++) {
    vouch_classify_model *m = NULL;
    vouch_classifier *c = NULL;
    float p[5];
    vouch__test_fail_allocs_after(n);
    int rc = vouch_classify_model_load(&m, model_buf, model_len, NULL, 0);
    if (rc == VOUCH_OK)
      rc = vouch_classifier_create(&c, m, NULL);
    if (rc == VOUCH_OK)
      rc = vouch_classifier_run(c, &img, p);
    vouch__test_fail_allocs_after(-1);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
    if (rc != VOUCH_OK)
      CHECK(c == NULL);
    ok = rc == VOUCH_OK;
    vouch_classifier_free(c);
    vouch_classify_model_free(m);
  }
  CHECK(ok);
  vouch_image_clear(&img);
}

static void test_verdict(void) {
  const float p[5] = {0.1f, 0.2f, 0.3f, 0.25f, 0.15f};
  CHECK(fabsf(vouch_classify_sensitive_score(p) - 0.6f) < 1e-6f);
  CHECK_EQ_INT(vouch_classify_is_sensitive(p, 0.6f), 1);
  CHECK_EQ_INT(vouch_classify_is_sensitive(p, 0.61f), 0);
  const float q[5] = {0, 0.5f, 0, 0.5f, 0.5f}; /* not a distribution: clamped */
  CHECK(vouch_classify_sensitive_score(q) == 1.0f);
  CHECK(VOUCH_CLASSIFY_THRESHOLD_DEFAULT > 0.0f && VOUCH_CLASSIFY_THRESHOLD_DEFAULT < 1.0f);
}

static void test_blur(void) {
  /* a fine checkerboard: every detail is gone, the mean stays */
  const uint32_t sz[][3] = {{64, 48, 3}, {1000, 7, 1}, {1, 1, 3}, {9, 9, 1}};
  for (size_t t = 0; t < sizeof sz / sizeof sz[0]; t++) {
    vouch_image in = {0}, out = {0};
    REQUIRE(vouch_image_init(&in, sz[t][0], sz[t][1], sz[t][2]) == VOUCH_OK);
    double sin = 0, sout = 0;
    for (uint32_t y = 0; y < in.height; y++)
      for (uint32_t x = 0; x < in.width * in.channels; x++) {
        uint8_t v = ((x / in.channels + y) & 1) ? 255 : 0;
        in.pixels[(size_t)y * in.stride + x] = v;
        sin += v;
      }
    REQUIRE(vouch_classify_blur(&in, &out) == VOUCH_OK);
    CHECK(out.width == in.width && out.height == in.height && out.channels == in.channels);
    int maxstep = 0;
    for (uint32_t y = 0; y < out.height; y++)
      for (uint32_t x = 0; x < out.width * out.channels; x++) {
        int v = out.pixels[(size_t)y * out.stride + x];
        sout += v;
        if (x >= out.channels) {
          int d = abs(v - out.pixels[(size_t)y * out.stride + x - out.channels]);
          maxstep = d > maxstep ? d : maxstep;
        }
      }
    if (in.width * in.height > 1)
      CHECK(maxstep <= 40); /* the checkerboard had steps of 255 */
    double n = (double)in.width * in.height * in.channels;
    if (in.width > 8 && in.height > 8)
      CHECK(fabs(sin / n - sout / n) < 8.0);
    vouch_image_clear(&in);
    vouch_image_clear(&out);
  }
  /* a flat image stays flat */
  vouch_image flat = {0}, out = {0};
  REQUIRE(vouch_image_init(&flat, 37, 21, 3) == VOUCH_OK);
  memset(flat.pixels, 77, flat.stride * flat.height);
  REQUIRE(vouch_classify_blur(&flat, &out) == VOUCH_OK);
  int same = 1;
  for (size_t i = 0; i < out.stride * out.height; i++)
    same &= out.pixels[i] == 77;
  CHECK(same);
  vouch_image_clear(&out);
  vouch__test_fail_allocs_after(0);
  CHECK_EQ_INT(vouch_classify_blur(&flat, &out), VOUCH_E_NOMEM);
  vouch__test_fail_allocs_after(-1);
  CHECK(out.pixels == NULL);
  CHECK_EQ_INT(vouch_classify_blur(NULL, &out), VOUCH_E_INVALID);
  vouch_image_clear(&flat);
}

int main(void) {
  if (vouch_init() < 0)
    return 1;
  build_model();
  TT_RUN(test_load_valid);
  TT_RUN(test_load_rejects);
  TT_RUN(test_run);
  TT_RUN(test_alloc_failures);
  TT_RUN(test_verdict);
  TT_RUN(test_blur);
  free(model_buf);
  TT_MAIN_END;
}
