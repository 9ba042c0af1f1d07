/*
 * src/classify/net.c -- running the classifier: preprocessing as nsfwjs does
 * it, MobileNetV2 layer by layer in HWC float32 buffers owned by the
 * classifier, and the strong blur the feature shows instead of a flagged
 * image.
 *
 * Kernels: pointwise (1x1) convolutions are a matrix product, computed in
 * tiles of 6 pixels x 16 output channels with AVX2+FMA where the CPU has
 * them, and by the same loops in portable C otherwise.  The stem convolution
 * goes through the same product after im2col.  Depthwise 3x3 convolutions
 * are loops over channels that the compiler vectorises.
 */
#include <math.h>
#include <string.h>

#include "classify/classify_internal.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(VOUCH_NO_INTRINSICS)
#define VOUCH__CLS_X86 1
#include <immintrin.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__) && !defined(VOUCH_NO_CLONES)
#define VOUCH__CLS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VOUCH__CLS_CLONES
#endif

#define MR 6U /* pixels per tile of the matrix product */

/* out[p][n] = epilogue(b[n] + sum_k a[p][k] * w[k][n]) for p in [0, m). */
typedef struct gemm_args {
  const float *a;   /* m x k, rows k floats apart */
  const vouch__cls_pw *pw;
  float *out;       /* m x n */
  const float *res; /* NULL or m x n, added after the bias (residual) */
  uint32_t m;
  int relu6;
} gemm_args;

struct vouch_classifier {
  const vouch_classify_model *model;
  int simd;
  float *buf[3]; /* activations, model->max_act floats each */
  float pooled[VOUCH__CLS_HEAD_CH];
  float h1[256], h2[128];
};

/* ---------------------------------------------------------------- matrix product */

static void store_tile(float *o, const float *acc, uint32_t nvalid, const float *res, int relu6) {
  for (uint32_t c = 0; c < nvalid; c++) {
    float v = acc[c];
    if (res)
      v += res[c];
    if (relu6)
      v = v < 0.0f ? 0.0f : v > 6.0f ? 6.0f : v;
    o[c] = v;
  }
}

static void gemm_scalar(const gemm_args *g) {
  const vouch__cls_pw *pw = g->pw;
  const uint32_t k = pw->k, n = pw->n;
  for (uint32_t p0 = 0; p0 < g->m; p0 += MR) {
    uint32_t rows = g->m - p0 < MR ? g->m - p0 : MR;
    for (uint32_t j = 0; j < pw->np / VOUCH__CLS_NR; j++) {
      const float *w = pw->w + (size_t)j * k * VOUCH__CLS_NR;
      float acc[MR][VOUCH__CLS_NR];
      /* two rows at a time, k in the middle: a 2 x 16 tile fits the 16
       * SSE registers of baseline x86-64, and the compiler vectorises the
       * 16 columns */
      for (uint32_t r = 0; r < rows; r += 2) {
        const int two = r + 1 < rows;
        const float *a0 = g->a + (size_t)(p0 + r) * k, *a1 = two ? a0 + k : a0;
        float t0[VOUCH__CLS_NR], t1[VOUCH__CLS_NR];
        for (uint32_t c = 0; c < VOUCH__CLS_NR; c++)
          t0[c] = t1[c] = pw->b[j * VOUCH__CLS_NR + c];
        for (uint32_t kk = 0; kk < k; kk++) {
          const float v0 = a0[kk], v1 = a1[kk];
          const float *wk = w + (size_t)kk * VOUCH__CLS_NR;
          for (uint32_t c = 0; c < VOUCH__CLS_NR; c++) {
            t0[c] += v0 * wk[c];
            t1[c] += v1 * wk[c];
          }
        }
        memcpy(acc[r], t0, sizeof t0);
        if (two)
          memcpy(acc[r + 1], t1, sizeof t1);
      }
      uint32_t col = j * VOUCH__CLS_NR, nvalid = n - col < VOUCH__CLS_NR ? n - col : VOUCH__CLS_NR;
      for (uint32_t r = 0; r < rows; r++) {
        size_t off = (size_t)(p0 + r) * n + col;
        store_tile(g->out + off, acc[r], nvalid, g->res ? g->res + off : NULL, g->relu6);
      }
    }
  }
}

#ifdef VOUCH__CLS_X86
__attribute__((target("avx2,fma"))) static inline void epilogue_avx2(float *o, __m256 lo, __m256 hi, uint32_t nvalid,
                                                                     const float *res, int relu6) {
  if (nvalid == VOUCH__CLS_NR) {
    if (res) {
      lo = _mm256_add_ps(lo, _mm256_loadu_ps(res));
      hi = _mm256_add_ps(hi, _mm256_loadu_ps(res + 8));
    }
    if (relu6) {
      const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
      lo = _mm256_min_ps(_mm256_max_ps(lo, zero), six);
      hi = _mm256_min_ps(_mm256_max_ps(hi, zero), six);
    }
    _mm256_storeu_ps(o, lo);
    _mm256_storeu_ps(o + 8, hi);
    return;
  }
  float tmp[VOUCH__CLS_NR];
  _mm256_storeu_ps(tmp, lo);
  _mm256_storeu_ps(tmp + 8, hi);
  store_tile(o, tmp, nvalid, res, relu6);
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(const gemm_args *g) {
  const vouch__cls_pw *pw = g->pw;
  const uint32_t k = pw->k, n = pw->n;
  uint32_t p0 = 0;
  for (; p0 + MR <= g->m; p0 += MR) {
    const float *a0 = g->a + (size_t)p0 * k;
    for (uint32_t j = 0; j < pw->np / VOUCH__CLS_NR; j++) {
      const float *w = pw->w + (size_t)j * k * VOUCH__CLS_NR;
      const __m256 b0 = _mm256_loadu_ps(pw->b + j * VOUCH__CLS_NR), b1 = _mm256_loadu_ps(pw->b + j * VOUCH__CLS_NR + 8);
      __m256 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1;
      __m256 c30 = b0, c31 = b1, c40 = b0, c41 = b1, c50 = b0, c51 = b1;
      for (uint32_t kk = 0; kk < k; kk++) {
        const __m256 w0 = _mm256_loadu_ps(w + (size_t)kk * VOUCH__CLS_NR);
        const __m256 w1 = _mm256_loadu_ps(w + (size_t)kk * VOUCH__CLS_NR + 8);
        __m256 av = _mm256_broadcast_ss(a0 + kk);
        c00 = _mm256_fmadd_ps(av, w0, c00);
        c01 = _mm256_fmadd_ps(av, w1, c01);
        av = _mm256_broadcast_ss(a0 + k + kk);
        c10 = _mm256_fmadd_ps(av, w0, c10);
        c11 = _mm256_fmadd_ps(av, w1, c11);
        av = _mm256_broadcast_ss(a0 + 2 * (size_t)k + kk);
        c20 = _mm256_fmadd_ps(av, w0, c20);
        c21 = _mm256_fmadd_ps(av, w1, c21);
        av = _mm256_broadcast_ss(a0 + 3 * (size_t)k + kk);
        c30 = _mm256_fmadd_ps(av, w0, c30);
        c31 = _mm256_fmadd_ps(av, w1, c31);
        av = _mm256_broadcast_ss(a0 + 4 * (size_t)k + kk);
        c40 = _mm256_fmadd_ps(av, w0, c40);
        c41 = _mm256_fmadd_ps(av, w1, c41);
        av = _mm256_broadcast_ss(a0 + 5 * (size_t)k + kk);
        c50 = _mm256_fmadd_ps(av, w0, c50);
        c51 = _mm256_fmadd_ps(av, w1, c51);
      }
      uint32_t col = j * VOUCH__CLS_NR, nvalid = n - col < VOUCH__CLS_NR ? n - col : VOUCH__CLS_NR;
      size_t off = (size_t)p0 * n + col;
      const float *res = g->res;
      epilogue_avx2(g->out + off, c00, c01, nvalid, res ? res + off : NULL, g->relu6);
      off += n;
      epilogue_avx2(g->out + off, c10, c11, nvalid, res ? res + off : NULL, g->relu6);
      off += n;
      epilogue_avx2(g->out + off, c20, c21, nvalid, res ? res + off : NULL, g->relu6);
      off += n;
      epilogue_avx2(g->out + off, c30, c31, nvalid, res ? res + off : NULL, g->relu6);
      off += n;
      epilogue_avx2(g->out + off, c40, c41, nvalid, res ? res + off : NULL, g->relu6);
      off += n;
      epilogue_avx2(g->out + off, c50, c51, nvalid, res ? res + off : NULL, g->relu6);
    }
  }
  for (; p0 < g->m; p0++) { /* the last m % 6 pixels, one at a time */
    const float *a0 = g->a + (size_t)p0 * k;
    for (uint32_t j = 0; j < pw->np / VOUCH__CLS_NR; j++) {
      const float *w = pw->w + (size_t)j * k * VOUCH__CLS_NR;
      __m256 c0 = _mm256_loadu_ps(pw->b + j * VOUCH__CLS_NR), c1 = _mm256_loadu_ps(pw->b + j * VOUCH__CLS_NR + 8);
      for (uint32_t kk = 0; kk < k; kk++) {
        const __m256 av = _mm256_broadcast_ss(a0 + kk);
        c0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + (size_t)kk * VOUCH__CLS_NR), c0);
        c1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(w + (size_t)kk * VOUCH__CLS_NR + 8), c1);
      }
      uint32_t col = j * VOUCH__CLS_NR, nvalid = n - col < VOUCH__CLS_NR ? n - col : VOUCH__CLS_NR;
      size_t off = (size_t)p0 * n + col;
      epilogue_avx2(g->out + off, c0, c1, nvalid, g->res ? g->res + off : NULL, g->relu6);
    }
  }
}
#endif

static void gemm(const vouch_classifier *clf, const gemm_args *g) {
#ifdef VOUCH__CLS_X86
  if (clf->simd) {
    gemm_avx2(g);
    return;
  }
#endif
  gemm_scalar(g);
}

/* ---------------------------------------------------------------- depthwise 3x3 */

/* Keras pads "same" stride-1 convolutions by 1 on every side, and puts a
 * ZeroPadding2D((0,1),(0,1)) before the stride-2 ones: no padding on the top
 * and left, one row/column of zeros on the bottom and right.  Both become
 * "skip taps that fall outside the image" with a top/left offset of 1 or 0. */
VOUCH__CLS_CLONES static void depthwise(const float *in, uint32_t h, uint32_t w, uint32_t c, uint32_t stride,
                                        const vouch__cls_dw *dw, float *out) {
  const int off = stride == 1 ? 1 : 0;
  const uint32_t oh = stride == 1 ? h : h / 2, ow = stride == 1 ? w : w / 2;
  for (uint32_t oy = 0; oy < oh; oy++) {
    for (uint32_t ox = 0; ox < ow; ox++) {
      float *o = out + ((size_t)oy * ow + ox) * c;
      memcpy(o, dw->b, c * sizeof *o);
      for (int ky = 0; ky < 3; ky++) {
        int iy = (int)(oy * stride) + ky - off;
        if (iy < 0 || iy >= (int)h)
          continue;
        for (int kx = 0; kx < 3; kx++) {
          int ix = (int)(ox * stride) + kx - off;
          if (ix < 0 || ix >= (int)w)
            continue;
          const float *ip = in + ((size_t)iy * w + (size_t)ix) * c;
          const float *wp = dw->w + (size_t)(ky * 3 + kx) * c;
          for (uint32_t ch = 0; ch < c; ch++)
            o[ch] += ip[ch] * wp[ch];
        }
      }
      for (uint32_t ch = 0; ch < c; ch++)
        o[ch] = o[ch] < 0.0f ? 0.0f : o[ch] > 6.0f ? 6.0f : o[ch];
    }
  }
}

/* ---------------------------------------------------------------- preprocessing */

/* nsfwjs: x = float32(pixel) / 255 (float32), then, unless the image is
 * already 224x224, tf.image.resizeBilinear(x, [224, 224], alignCorners =
 * true) (halfPixelCenters false).  tfjs's CPU kernel computes the source
 * coordinate and the two lerps in double and stores float32; so do we. */
static void preprocess(const vouch_image *img, float *x) {
  const uint32_t S = VOUCH_CLASSIFY_INPUT_SIDE, ih = img->height, iw = img->width, ch = img->channels;
  const uint32_t step = ch == 3 ? 1 : 0; /* grey: R = G = B */
  if (ih == S && iw == S) {
    for (uint32_t y = 0; y < S; y++) {
      const uint8_t *row = img->pixels + (size_t)y * img->stride;
      for (uint32_t xx = 0; xx < S; xx++)
        for (uint32_t c = 0; c < 3; c++)
          x[((size_t)y * S + xx) * 3 + c] = (float)(row[(size_t)xx * ch + c * step] / 255.0);
    }
    return;
  }
  const double ry = (double)(ih - 1) / (double)(S - 1), rx = (double)(iw - 1) / (double)(S - 1);
  for (uint32_t y = 0; y < S; y++) {
    double fy = ry * y;
    double y0f = floor(fy);
    uint32_t y0 = (uint32_t)y0f, y1 = (uint32_t)ceil(fy);
    if (y1 > ih - 1)
      y1 = ih - 1;
    double dy = fy - y0f;
    const uint8_t *r0 = img->pixels + (size_t)y0 * img->stride, *r1 = img->pixels + (size_t)y1 * img->stride;
    for (uint32_t xx = 0; xx < S; xx++) {
      double fx = rx * xx;
      double x0f = floor(fx);
      uint32_t x0 = (uint32_t)x0f, x1 = (uint32_t)ceil(fx);
      if (x1 > iw - 1)
        x1 = iw - 1;
      double dx = fx - x0f;
      for (uint32_t c = 0; c < 3; c++) {
        size_t o0 = (size_t)x0 * ch + c * step, o1 = (size_t)x1 * ch + c * step;
        double tl = (float)(r0[o0] / 255.0), tr = (float)(r0[o1] / 255.0);
        double bl = (float)(r1[o0] / 255.0), br = (float)(r1[o1] / 255.0);
        double top = tl + (tr - tl) * dx, bot = bl + (br - bl) * dx;
        x[((size_t)y * S + xx) * 3 + c] = (float)(top + (bot - top) * dy);
      }
    }
  }
}

/* Stem input: 3x3 patches at stride 2 with the bottom/right zero padding,
 * one row of 27 values per output pixel, (ky*3+kx)*3+c as in Keras. */
static void im2col_stem(const float *x, float *col) {
  const uint32_t S = VOUCH_CLASSIFY_INPUT_SIDE, O = S / 2;
  for (uint32_t oy = 0; oy < O; oy++)
    for (uint32_t ox = 0; ox < O; ox++) {
      float *r = col + ((size_t)oy * O + ox) * 27;
      for (uint32_t ky = 0; ky < 3; ky++)
        for (uint32_t kx = 0; kx < 3; kx++) {
          uint32_t iy = 2 * oy + ky, ix = 2 * ox + kx;
          for (uint32_t c = 0; c < 3; c++)
            r[(ky * 3 + kx) * 3 + c] = iy < S && ix < S ? x[((size_t)iy * S + ix) * 3 + c] : 0.0f;
        }
    }
}

static void dense(const vouch__cls_dense *d, const float *in, float *out, int relu) {
  for (uint32_t j = 0; j < d->out; j++)
    out[j] = d->b[j];
  for (uint32_t i = 0; i < d->in; i++) {
    const float v = in[i];
    const float *w = d->w + (size_t)i * d->out;
    for (uint32_t j = 0; j < d->out; j++)
      out[j] += v * w[j];
  }
  if (relu)
    for (uint32_t j = 0; j < d->out; j++)
      out[j] = out[j] < 0.0f ? 0.0f : out[j];
}

/* ---------------------------------------------------------------- classifier */

int vouch_classifier_create(vouch_classifier **out, const vouch_classify_model *model,
                            const vouch_classifier_opts *opts) {
  if (!out)
    return VOUCH_E_INVALID;
  *out = NULL;
  if (!model)
    return VOUCH_E_INVALID;
  vouch_classifier *c = vouch__calloc(1, sizeof *c);
  if (!c)
    return VOUCH_E_NOMEM;
  c->model = model;
#ifdef VOUCH__CLS_X86
  c->simd = !(opts && opts->force_scalar) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  /* The stem's im2col (112*112*27) and the preprocessed input (224*224*3)
   * also live in these buffers; both are smaller than the largest activation. */
  size_t need = model->max_act;
  const size_t S = VOUCH_CLASSIFY_INPUT_SIDE, col = (S / 2) * (S / 2) * 27;
  need = need < S * S * 3 ? S * S * 3 : need;
  need = need < col ? col : need;
  for (int i = 0; i < 3; i++) {
    c->buf[i] = vouch__malloc(need * sizeof(float));
    if (!c->buf[i]) {
      vouch_classifier_free(c);
      return VOUCH_E_NOMEM;
    }
  }
  *out = c;
  return VOUCH_OK;
}

void vouch_classifier_free(vouch_classifier *clf) {
  if (!clf)
    return;
  for (int i = 0; i < 3; i++)
    vouch__free(clf->buf[i]);
  vouch__free(clf);
}

int vouch_classifier_is_simd(const vouch_classifier *clf) { return clf ? clf->simd : 0; }

int vouch_classifier_run(vouch_classifier *clf, const vouch_image *img, float probs[VOUCH_CLASSIFY_CLASSES]) {
  if (!clf || !img || !probs || !img->pixels || img->width == 0 || img->height == 0 ||
      (img->channels != 1 && img->channels != 3) || img->stride < (size_t)img->width * img->channels)
    return VOUCH_E_INVALID;
  const vouch_classify_model *m = clf->model;
  float **b = clf->buf;

  preprocess(img, b[2]);
  im2col_stem(b[2], b[1]);
  uint32_t side = VOUCH_CLASSIFY_INPUT_SIDE / 2;
  gemm_args g = {b[1], &m->stem, b[0], NULL, side * side, 1};
  gemm(clf, &g);

  int cur = 0;
  for (int bi = 0; bi < VOUCH__CLS_BLOCKS; bi++) {
    const vouch__cls_block *bl = &m->blocks[bi];
    int o1 = (cur + 1) % 3, o2 = (cur + 2) % 3;
    const float *x = b[cur];
    int e = cur; /* expanded activations */
    if (bl->cexp != bl->cin) {
      g = (gemm_args){x, &bl->expand, b[o1], NULL, side * side, 1};
      gemm(clf, &g);
      e = o1;
    }
    int d = e == cur ? o1 : o2; /* depthwise output */
    depthwise(b[e], side, side, bl->cexp, bl->stride, &bl->dw, b[d]);
    side /= bl->stride;
    int o = e == cur ? o2 : o1; /* block output: the expanded buffer, now free */
    g = (gemm_args){b[d], &bl->project, b[o], bl->residual ? x : NULL, side * side, 0};
    gemm(clf, &g);
    cur = o;
  }

  int hb = (cur + 1) % 3;
  g = (gemm_args){b[cur], &m->head, b[hb], NULL, side * side, 1};
  gemm(clf, &g);

  /* AveragePooling2D over the whole 7x7 map. */
  const uint32_t np = side * side;
  for (uint32_t c = 0; c < VOUCH__CLS_HEAD_CH; c++)
    clf->pooled[c] = 0.0f;
  for (uint32_t p = 0; p < np; p++) {
    const float *r = b[hb] + (size_t)p * VOUCH__CLS_HEAD_CH;
    for (uint32_t c = 0; c < VOUCH__CLS_HEAD_CH; c++)
      clf->pooled[c] += r[c];
  }
  for (uint32_t c = 0; c < VOUCH__CLS_HEAD_CH; c++)
    clf->pooled[c] /= (float)np;

  float logits[VOUCH_CLASSIFY_CLASSES];
  dense(&m->dense[0], clf->pooled, clf->h1, 1);
  dense(&m->dense[1], clf->h1, clf->h2, 1);
  dense(&m->dense[2], clf->h2, logits, 0);
  /* A valid file with absurd weights can overflow to inf/NaN; the nsfwjs
   * weights never do (their logits stay within a few tens). */
  for (unsigned i = 0; i < VOUCH_CLASSIFY_CLASSES; i++)
    if (!isfinite(logits[i]))
      return VOUCH_E_DB_CORRUPT;
  double mx = logits[0], sum = 0.0, e[VOUCH_CLASSIFY_CLASSES];
  for (unsigned i = 1; i < VOUCH_CLASSIFY_CLASSES; i++)
    mx = logits[i] > mx ? logits[i] : mx;
  for (unsigned i = 0; i < VOUCH_CLASSIFY_CLASSES; i++) {
    e[i] = exp(logits[i] - mx);
    sum += e[i];
  }
  for (unsigned i = 0; i < VOUCH_CLASSIFY_CLASSES; i++)
    probs[i] = (float)(e[i] / sum);
  return VOUCH_OK;
}

/* ---------------------------------------------------------------- blur */

int vouch_classify_blur(const vouch_image *in, vouch_image *out) {
  if (!in || !out || !in->pixels || in->width == 0 || in->height == 0 || (in->channels != 1 && in->channels != 3) ||
      in->stride < (size_t)in->width * in->channels)
    return VOUCH_E_INVALID;
  const uint32_t w = in->width, h = in->height, ch = in->channels, L = w > h ? w : h;
  /* Cells: VOUCH_CLASSIFY_BLUR_CELLS on the longer side, fewer for a small
   * image so that a cell is at least VOUCH_CLASSIFY_BLUR_MIN_CELL pixels
   * wide; the shorter side in proportion; at least 1. */
  uint32_t cells = L / VOUCH_CLASSIFY_BLUR_MIN_CELL;
  cells = cells < 1 ? 1 : cells > VOUCH_CLASSIFY_BLUR_CELLS ? VOUCH_CLASSIFY_BLUR_CELLS : cells;
  uint32_t cw = (uint32_t)(((uint64_t)w * cells + L / 2) / L), chh = (uint32_t)(((uint64_t)h * cells + L / 2) / L);
  cw = cw ? cw : 1;
  chh = chh ? chh : 1;
  double mean[VOUCH_CLASSIFY_BLUR_CELLS][VOUCH_CLASSIFY_BLUR_CELLS][3];
  for (uint32_t cy = 0; cy < chh; cy++)
    for (uint32_t cx = 0; cx < cw; cx++) {
      uint32_t y0 = (uint32_t)((uint64_t)cy * h / chh), y1 = (uint32_t)((uint64_t)(cy + 1) * h / chh);
      uint32_t x0 = (uint32_t)((uint64_t)cx * w / cw), x1 = (uint32_t)((uint64_t)(cx + 1) * w / cw);
      double s[3] = {0, 0, 0};
      for (uint32_t y = y0; y < y1; y++) {
        const uint8_t *r = in->pixels + (size_t)y * in->stride;
        for (uint32_t x = x0; x < x1; x++)
          for (uint32_t c = 0; c < ch; c++)
            s[c] += r[(size_t)x * ch + c];
      }
      double n = (double)(y1 - y0) * (double)(x1 - x0);
      for (uint32_t c = 0; c < ch; c++)
        mean[cy][cx][c] = s[c] / n;
    }
  int rc = vouch_image_init(out, w, h, ch);
  if (rc != VOUCH_OK)
    return rc;
  /* Bilinear between cell centres, clamped at the borders. */
  for (uint32_t y = 0; y < h; y++) {
    double fy = ((double)y + 0.5) * chh / h - 0.5;
    fy = fy < 0 ? 0 : fy > chh - 1 ? chh - 1 : fy;
    uint32_t y0 = (uint32_t)fy, y1 = y0 + 1 < chh ? y0 + 1 : y0;
    double dy = fy - y0;
    uint8_t *o = out->pixels + (size_t)y * out->stride;
    for (uint32_t x = 0; x < w; x++) {
      double fx = ((double)x + 0.5) * cw / w - 0.5;
      fx = fx < 0 ? 0 : fx > cw - 1 ? cw - 1 : fx;
      uint32_t x0 = (uint32_t)fx, x1 = x0 + 1 < cw ? x0 + 1 : x0;
      double dx = fx - x0;
      for (uint32_t c = 0; c < ch; c++) {
        double top = mean[y0][x0][c] + (mean[y0][x1][c] - mean[y0][x0][c]) * dx;
        double bot = mean[y1][x0][c] + (mean[y1][x1][c] - mean[y1][x0][c]) * dx;
        double v = top + (bot - top) * dy;
        o[(size_t)x * ch + c] = (uint8_t)(v + 0.5);
      }
    }
  }
  return VOUCH_OK;
}
