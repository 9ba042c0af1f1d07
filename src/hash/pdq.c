/*
 * src/hash/pdq.c -- PDQ, bit-exact with Meta's reference (ThreatExchange
 * pdq/cpp, pdqDihedralHash256esFromFloatLuma) on the same float luma.
 *
 * Bit-exactness rules we follow (see shared/testdata/pdq/README.md):
 *  - float32 everywhere the reference uses float, double where it uses
 *    double (decimation indices, the DCT matrix before rounding);
 *  - no FMA contraction (the build passes -ffp-contract=off);
 *  - the same order of operations inside every sum.  We vectorise only
 *    across independent outputs (columns of the box filter, outputs of the
 *    DCT), never inside one sum, so each output sees the very same float
 *    operations in the same order as the reference's scalar loop.
 *
 * Pipeline: luma -> Jarosz tent filter (two passes of a box filter along rows
 * then columns, window ceil(n/128)) -> decimation to 64x64 at cell centres ->
 * quality from the 64x64 gradients -> 16x16 DCT (frequencies 1..16) ->
 * bit set where the coefficient is above the median (rank 128 of 256).
 */
#include <math.h>
#include <string.h>
#include "pdq_internal.h"
#include "image/image_internal.h"

/* Hot loops get an AVX2 clone chosen at load time (GCC function
 * multi-versioning); both clones do the same float operations per output. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__) && !defined(VOUCH_NO_CLONES)
#define VOUCH__CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VOUCH__CLONES
#endif

/* ------------------------------------------------------------ luma */

/* Scalar luma of one RGB row.  The reference computes 0.299f*R + 0.587f*G +
 * 0.114f*B left to right, each product rounded to float.  Returns non-zero
 * if any pixel has R != G or G != B. */
static unsigned luma_row_scalar(const uint8_t *p, float *out, uint32_t x0, uint32_t w) {
  unsigned colour = 0;
  for (uint32_t x = x0; x < w; x++) {
    const unsigned r = p[3 * x], g = p[3 * x + 1], b = p[3 * x + 2];
    out[x] = VOUCH__LUMA_R * (float)r + VOUCH__LUMA_G * (float)g + VOUCH__LUMA_B * (float)b;
    colour |= (r ^ g) | (g ^ b);
  }
  return colour;
}

#if (defined(__x86_64__) || defined(__i386__)) && !defined(VOUCH_NO_INTRINSICS)
#include <immintrin.h>
#define VOUCH_HAVE_AVX2_LUMA 1
/* The same with AVX2, 16 pixels at a time: three 16-byte loads, byte
 * shuffles to separate R, G and B, widening to int32 and float, then the
 * same three float products and two additions in the same order per lane.
 * IEEE float multiply and add are exactly rounded, so each lane computes
 * the very float the scalar loop does. */
/* The luma of 16 pixels at q (48 bytes) into *lo (pixels 0-7) and *hi
 * (8-15); ORs into *colour a non-zero byte where some R != G or G != B. */
static inline __attribute__((always_inline, target("avx2"))) void luma16_avx2(const uint8_t *q, __m256 *lo, __m256 *hi,
                                                                             __m128i *colour) {
  const __m128i mr0 = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m128i mr1 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14, -1, -1, -1, -1, -1);
  const __m128i mr2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 1, 4, 7, 10, 13);
  const __m128i mg0 = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m128i mg1 = _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1);
  const __m128i mg2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 5, 8, 11, 14);
  const __m128i mb0 = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m128i mb1 = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1);
  const __m128i mb2 = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 3, 6, 9, 12, 15);
  const __m256 cr = _mm256_set1_ps(VOUCH__LUMA_R), cg = _mm256_set1_ps(VOUCH__LUMA_G),
               cb = _mm256_set1_ps(VOUCH__LUMA_B);
  __m128i a = _mm_loadu_si128((const __m128i *)q), b = _mm_loadu_si128((const __m128i *)(q + 16)),
          c = _mm_loadu_si128((const __m128i *)(q + 32));
  __m128i R = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, mr0), _mm_shuffle_epi8(b, mr1)), _mm_shuffle_epi8(c, mr2));
  __m128i G = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, mg0), _mm_shuffle_epi8(b, mg1)), _mm_shuffle_epi8(c, mg2));
  __m128i B = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, mb0), _mm_shuffle_epi8(b, mb1)), _mm_shuffle_epi8(c, mb2));
  if (colour) *colour = _mm_or_si128(*colour, _mm_or_si128(_mm_xor_si128(R, G), _mm_xor_si128(G, B)));
  for (int half = 0; half < 2; half++) {
    __m256 fr = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(R));
    __m256 fg = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(G));
    __m256 fb = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(B));
    __m256 y = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(cr, fr), _mm256_mul_ps(cg, fg)), _mm256_mul_ps(cb, fb));
    *(half ? hi : lo) = y;
    R = _mm_srli_si128(R, 8);
    G = _mm_srli_si128(G, 8);
    B = _mm_srli_si128(B, 8);
  }
}

/* The luma of the 8 pixels at q (24 bytes) with one 32-byte load from
 * q - 4: its low half holds pixels 0-3 at bytes 4-15, its high half pixels
 * 4-7 at bytes 0-11, so one in-lane byte shuffle per channel picks R (G, B)
 * of all 8 pixels straight into zero-extended 32-bit lanes (three shuffles
 * where luma16_avx2() needs nine plus the widenings per 16 pixels).  Reads
 * 4 bytes before q and 4 after q + 24: the caller keeps those inside the
 * image.  The same three products and two additions per lane, in the same
 * order, as the scalar loop. */
static inline __attribute__((always_inline, target("avx2"))) __m256 luma8_wide_avx2(const uint8_t *q) {
  const __m256i mr = _mm256_setr_epi8(4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1, 13, -1, -1, -1,
                                      0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1);
  const __m256i mg = _mm256_setr_epi8(5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1, 14, -1, -1, -1,
                                      1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1);
  const __m256i mb = _mm256_setr_epi8(6, -1, -1, -1, 9, -1, -1, -1, 12, -1, -1, -1, 15, -1, -1, -1,
                                      2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1);
  const __m256i v = _mm256_loadu_si256((const __m256i *)(q - 4));
  const __m256 fr = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, mr));
  const __m256 fg = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, mg));
  const __m256 fb = _mm256_cvtepi32_ps(_mm256_shuffle_epi8(v, mb));
  return _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(VOUCH__LUMA_R), fr),
                                     _mm256_mul_ps(_mm256_set1_ps(VOUCH__LUMA_G), fg)),
                       _mm256_mul_ps(_mm256_set1_ps(VOUCH__LUMA_B), fb));
}

__attribute__((target("avx2"))) static unsigned luma_row_avx2(const uint8_t *p, float *out, uint32_t w) {
  __m128i colour = _mm_setzero_si128();
  uint32_t x = 0;
  for (; x + 16 <= w; x += 16) {
    __m256 lo, hi;
    luma16_avx2(p + 3 * (size_t)x, &lo, &hi, &colour);
    _mm256_storeu_ps(out + x, lo);
    _mm256_storeu_ps(out + x + 8, hi);
  }
  unsigned any = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(colour, _mm_setzero_si128())) != 0xFFFFu;
  return any | luma_row_scalar(p, out, x, w);
}
#endif

void vouch__luma_from_image(const vouch_image *img, float *luma) {
  vouch__luma_from_image_impl(img, luma, 1);
}

void vouch__luma_from_image_impl(const vouch_image *img, float *luma, int allow_simd) {
  const uint32_t w = img->width, h = img->height;
  if (img->channels == 1) {
    for (uint32_t y = 0; y < h; y++) {
      const uint8_t *p = img->pixels + (size_t)y * img->stride;
      float *out = luma + (size_t)y * w;
      for (uint32_t x = 0; x < w; x++) out[x] = (float)p[x];
    }
    return;
  }
#ifdef VOUCH_HAVE_AVX2_LUMA
  const int avx2 = allow_simd && __builtin_cpu_supports("avx2");
#else
  (void)allow_simd;
#endif
  unsigned colour = 0;
  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *p = img->pixels + (size_t)y * img->stride;
    float *out = luma + (size_t)y * w;
#ifdef VOUCH_HAVE_AVX2_LUMA
    if (avx2) {
      colour |= luma_row_avx2(p, out, w);
      continue;
    }
#endif
    colour |= luma_row_scalar(p, out, 0, w);
  }
  if (colour == 0) {
    /* Every pixel has R == G == B: the grey path (see the header). */
    for (uint32_t y = 0; y < h; y++) {
      const uint8_t *p = img->pixels + (size_t)y * img->stride;
      float *out = luma + (size_t)y * w;
      for (uint32_t x = 0; x < w; x++) out[x] = (float)p[3 * x];
    }
  }
}

/* ------------------------------------------------------------ Jarosz filter */

int vouch__jarosz_window(int old_dim, int new_dim) {
  return (old_dim + 2 * new_dim - 1) / (2 * new_dim);
}

/* One box pass along each row (stride 1).  Phases as in the reference:
 * (1) accumulate half a window without writing; (2) write while the window
 * grows; (3) full window: add the right edge, subtract the left edge (in that
 * order), write; (4) window shrinks at the end.  Each write divides the
 * running float sum by the current count (a true division, as the reference).
 * We run 8 rows side by side so the loop-carried add chains overlap; each
 * row's own sequence of operations is unchanged. */
/* The count the reference divides by when writing output oi of a row of n
 * with window win (phases 2, 3 and 4 above). */
static void box_counts(int n, int win, float *cnt) {
  const int half = (win + 2) / 2;
  const int p1 = half - 1, p2 = win - half + 1, p3 = n - win, p4 = half - 1;
  int oi = 0, c = p1;
  for (int i = 0; i < p2; i++) cnt[oi++] = (float)(++c);
  for (int i = 0; i < p3; i++) cnt[oi++] = (float)c;
  for (int i = 0; i < p4; i++) cnt[oi++] = (float)(--c);
}

/* Eight rows side by side.  The running sums are loop-carried chains; eight
 * independent chains keep the adders busy.  `keep` selects the outputs:
 * NULL writes the raw running sum of every output (divided afterwards, a
 * vectorisable loop); otherwise only outputs keep[0..nkeep-1] (ascending,
 * repeats allowed) are written, divided, to out[r * nkeep + k]. */
#define ROWS_AT_ONCE 8
VOUCH__CLONES static void box_rows_8(const float *in, size_t stride, int n, int win, float *out,
                       const int *keep, int nkeep, const float *cnt) {
  const int half = (win + 2) / 2;
  const int p1 = half - 1, p2 = win - half + 1, p3 = n - win, p4 = half - 1;
  float sum[ROWS_AT_ONCE] = {0};
  const float *row[ROWS_AT_ONCE];
  for (int r = 0; r < ROWS_AT_ONCE; r++) row[r] = in + r * stride;
  int li = 0, ri = 0, oi = 0, k = 0;
#define EMIT()                                                                       \
  do {                                                                               \
    if (!keep) {                                                                     \
      for (int r = 0; r < ROWS_AT_ONCE; r++) out[r * stride + oi] = sum[r];          \
    } else {                                                                         \
      for (; k < nkeep && keep[k] == oi; k++)                                        \
        for (int r = 0; r < ROWS_AT_ONCE; r++) out[r * nkeep + k] = sum[r] / cnt[oi]; \
    }                                                                                \
  } while (0)
  for (int i = 0; i < p1; i++, ri++)
    for (int r = 0; r < ROWS_AT_ONCE; r++) sum[r] += row[r][ri];
  for (int i = 0; i < p2; i++, ri++, oi++) {
    for (int r = 0; r < ROWS_AT_ONCE; r++) sum[r] += row[r][ri];
    EMIT();
  }
  for (int i = 0; i < p3; i++, ri++, li++, oi++) {
    for (int r = 0; r < ROWS_AT_ONCE; r++) {
      sum[r] += row[r][ri];
      sum[r] -= row[r][li];
    }
    EMIT();
  }
  for (int i = 0; i < p4; i++, li++, oi++) {
    for (int r = 0; r < ROWS_AT_ONCE; r++) sum[r] -= row[r][li];
    EMIT();
  }
#undef EMIT
  if (!keep)
    for (int r = 0; r < ROWS_AT_ONCE; r++) {
      float *o = out + r * stride;
      for (int j = 0; j < n; j++) o[j] = o[j] / cnt[j];
    }
}

/* One row, outputs selected as in box_rows_8. */
static void box_row_1(const float *in, int n, int win, float *out, const int *keep, int nkeep,
                      const float *cnt) {
  const int half = (win + 2) / 2;
  const int p1 = half - 1, p2 = win - half + 1, p3 = n - win, p4 = half - 1;
  float sum = 0.0f;
  int li = 0, ri = 0, oi = 0, k = 0;
#define EMIT1()                                                       \
  do {                                                                \
    if (!keep) out[oi] = sum / cnt[oi];                               \
    else for (; k < nkeep && keep[k] == oi; k++) out[k] = sum / cnt[oi]; \
  } while (0)
  for (int i = 0; i < p1; i++) sum += in[ri++];
  for (int i = 0; i < p2; i++, oi++) { sum += in[ri++]; EMIT1(); }
  for (int i = 0; i < p3; i++, oi++) { sum += in[ri++]; sum -= in[li++]; EMIT1(); }
  for (int i = 0; i < p4; i++, oi++) { sum -= in[li++]; EMIT1(); }
#undef EMIT1
}

/* The second column pass, on the r x 64 array the second row pass leaves
 * (the 64 columns decimation reads): one box pass down each column, with
 * the reference's phases and its adds, subtracts and divisions in its
 * order, but only the 64 output rows ii[] (ascending, repeats allowed) are
 * divided and written, to out[k * 64 + j]; the running sums still step
 * through every row.  The same per-output operations as the reference's
 * full pass, so the kept outputs are bit-identical. */
#define COLS_STEP_PHASES(ADD, SUB, EMIT)                                   \
  do {                                                                     \
    const int half_ = (win + 2) / 2;                                       \
    const int p1_ = half_ - 1, p2_ = win - half_ + 1, p3_ = rows - win, p4_ = half_ - 1; \
    int cnt_ = 0, li_ = 0, ri_ = 0, oi_ = 0, k_ = 0;                        \
    for (int i_ = 0; i_ < p1_; i_++, ri_++, cnt_++) ADD(in + (size_t)ri_ * 64); \
    for (int i_ = 0; i_ < p2_; i_++, ri_++, oi_++) {                       \
      ADD(in + (size_t)ri_ * 64);                                          \
      cnt_++;                                                              \
      for (; k_ < 64 && keep[k_] == oi_; k_++) EMIT((float)cnt_, out + k_ * 64); \
    }                                                                      \
    for (int i_ = 0; i_ < p3_; i_++, ri_++, li_++, oi_++) {                \
      ADD(in + (size_t)ri_ * 64);                                          \
      SUB(in + (size_t)li_ * 64);                                          \
      for (; k_ < 64 && keep[k_] == oi_; k_++) EMIT((float)cnt_, out + k_ * 64); \
    }                                                                      \
    for (int i_ = 0; i_ < p4_; i_++, li_++, oi_++) {                       \
      SUB(in + (size_t)li_ * 64);                                          \
      cnt_--;                                                              \
      for (; k_ < 64 && keep[k_] == oi_; k_++) EMIT((float)cnt_, out + k_ * 64); \
    }                                                                      \
  } while (0)

static void box_cols64_keep_scalar(const float *in, int rows, int win, const int keep[64], float *out) {
  float sum[64] = {0};
#define ADD_S(a_) for (int j = 0; j < 64; j++) sum[j] += (a_)[j]
#define SUB_S(b_) for (int j = 0; j < 64; j++) sum[j] -= (b_)[j]
#define EMIT_S(c_, o_) for (int j = 0; j < 64; j++) (o_)[j] = sum[j] / (c_)
  COLS_STEP_PHASES(ADD_S, SUB_S, EMIT_S);
#undef ADD_S
#undef SUB_S
#undef EMIT_S
}

#ifdef VOUCH_HAVE_AVX2_LUMA
/* The same with the 64 running sums in eight AVX registers. */
__attribute__((target("avx2"))) static void box_cols64_keep_avx2(const float *in, int rows, int win,
                                                                 const int keep[64], float *out) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
#define ONE_V(op_, p_)                                      \
  do {                                                      \
    const float *q_ = (p_);                                 \
    s0 = op_(s0, _mm256_loadu_ps(q_ + 0));                  \
    s1 = op_(s1, _mm256_loadu_ps(q_ + 8));                  \
    s2 = op_(s2, _mm256_loadu_ps(q_ + 16));                 \
    s3 = op_(s3, _mm256_loadu_ps(q_ + 24));                 \
    s4 = op_(s4, _mm256_loadu_ps(q_ + 32));                 \
    s5 = op_(s5, _mm256_loadu_ps(q_ + 40));                 \
    s6 = op_(s6, _mm256_loadu_ps(q_ + 48));                 \
    s7 = op_(s7, _mm256_loadu_ps(q_ + 56));                 \
  } while (0)
#define ADD_V(a_) ONE_V(_mm256_add_ps, a_)
#define SUB_V(b_) ONE_V(_mm256_sub_ps, b_)
#define EMIT_V(c_, o_)                                      \
  do {                                                      \
    const __m256 c__ = _mm256_set1_ps(c_);                  \
    float *o__ = (o_);                                      \
    _mm256_storeu_ps(o__ + 0, _mm256_div_ps(s0, c__));      \
    _mm256_storeu_ps(o__ + 8, _mm256_div_ps(s1, c__));      \
    _mm256_storeu_ps(o__ + 16, _mm256_div_ps(s2, c__));     \
    _mm256_storeu_ps(o__ + 24, _mm256_div_ps(s3, c__));     \
    _mm256_storeu_ps(o__ + 32, _mm256_div_ps(s4, c__));     \
    _mm256_storeu_ps(o__ + 40, _mm256_div_ps(s5, c__));     \
    _mm256_storeu_ps(o__ + 48, _mm256_div_ps(s6, c__));     \
    _mm256_storeu_ps(o__ + 56, _mm256_div_ps(s7, c__));     \
  } while (0)
  COLS_STEP_PHASES(ADD_V, SUB_V, EMIT_V);
#undef ONE_V
#undef ADD_V
#undef SUB_V
#undef EMIT_V
}
#endif
#undef COLS_STEP_PHASES

/* ------------------------------------------------------------ streaming exact path */

/* Where luma rows come from: an 8-bit image (converted row by row) or a
 * float plane. */
typedef struct {
  const vouch_image *img; /* NULL: use plane or jr */
  int grey;               /* take the grey path for an RGB image */
  int simd;
  const float *plane;
  int cols;
  vouch__jpeg_rows *jr;   /* rows pulled from a JPEG decoder */
  uint32_t jr_channels;
  uint8_t *jr_rgb;        /* a batch of decoded pixels: up to 16 rows */
  unsigned colour;        /* jr: some pixel had R != G or G != B */
} row_source;

/* Every pixel R == G == B?  Exits at the first colour pixel, so colour
 * photos cost almost nothing. */
static int image_is_grey(const vouch_image *img) {
  if (img->channels == 1) return 1;
  for (uint32_t y = 0; y < img->height; y++) {
    const uint8_t *p = img->pixels + (size_t)y * img->stride;
    for (uint32_t x = 0; x < img->width; x++, p += 3)
      if (p[0] != p[1] || p[1] != p[2]) return 0;
  }
  return 1;
}

static int source_rows(row_source *s, int y0, int n, float *dst) {
  const int c = s->cols;
  if (s->jr) {
    const size_t stride = (size_t)c * s->jr_channels;
    VOUCH_TRY(vouch__jpeg_rows_read(s->jr, s->jr_rgb, stride, (uint32_t)n));
    for (int k = 0; k < n; k++) {
      const uint8_t *p = s->jr_rgb + (size_t)k * stride;
      float *out = dst + (size_t)k * c;
      if (s->jr_channels == 1) {
        for (int x = 0; x < c; x++) out[x] = (float)p[x];
        continue;
      }
#ifdef VOUCH_HAVE_AVX2_LUMA
      if (s->simd) {
        s->colour |= luma_row_avx2(p, out, (uint32_t)c);
        continue;
      }
#endif
      s->colour |= luma_row_scalar(p, out, 0, (uint32_t)c);
    }
    return VOUCH_OK;
  }
  for (int k = 0; k < n; k++) {
    float *out = dst + (size_t)k * c;
    if (!s->img) {
      memcpy(out, s->plane + (size_t)(y0 + k) * c, (size_t)c * sizeof(float));
      continue;
    }
    const uint8_t *p = s->img->pixels + (size_t)(y0 + k) * s->img->stride;
    if (s->img->channels == 1) {
      for (int x = 0; x < c; x++) out[x] = (float)p[x];
    } else if (s->grey) {
      for (int x = 0; x < c; x++) out[x] = (float)p[3 * x];
    } else {
#ifdef VOUCH_HAVE_AVX2_LUMA
      if (s->simd) {
        (void)luma_row_avx2(p, out, (uint32_t)c);
        continue;
      }
#endif
      (void)luma_row_scalar(p, out, 0, (uint32_t)c);
    }
  }
  return VOUCH_OK;
}

#ifdef VOUCH_HAVE_AVX2_LUMA
/* 8x8 transpose of floats in eight AVX registers. */
#define TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7)                                                 \
  do {                                                                                             \
    __m256 t0_ = _mm256_unpacklo_ps(r0, r1), t1_ = _mm256_unpackhi_ps(r0, r1);                   \
    __m256 t2_ = _mm256_unpacklo_ps(r2, r3), t3_ = _mm256_unpackhi_ps(r2, r3);                   \
    __m256 t4_ = _mm256_unpacklo_ps(r4, r5), t5_ = _mm256_unpackhi_ps(r4, r5);                   \
    __m256 t6_ = _mm256_unpacklo_ps(r6, r7), t7_ = _mm256_unpackhi_ps(r6, r7);                   \
    __m256 u0_ = _mm256_shuffle_ps(t0_, t2_, 0x44), u1_ = _mm256_shuffle_ps(t0_, t2_, 0xEE);     \
    __m256 u2_ = _mm256_shuffle_ps(t1_, t3_, 0x44), u3_ = _mm256_shuffle_ps(t1_, t3_, 0xEE);     \
    __m256 u4_ = _mm256_shuffle_ps(t4_, t6_, 0x44), u5_ = _mm256_shuffle_ps(t4_, t6_, 0xEE);     \
    __m256 u6_ = _mm256_shuffle_ps(t5_, t7_, 0x44), u7_ = _mm256_shuffle_ps(t5_, t7_, 0xEE);     \
    r0 = _mm256_permute2f128_ps(u0_, u4_, 0x20);                                                   \
    r1 = _mm256_permute2f128_ps(u1_, u5_, 0x20);                                                   \
    r2 = _mm256_permute2f128_ps(u2_, u6_, 0x20);                                                   \
    r3 = _mm256_permute2f128_ps(u3_, u7_, 0x20);                                                   \
    r4 = _mm256_permute2f128_ps(u0_, u4_, 0x31);                                                   \
    r5 = _mm256_permute2f128_ps(u1_, u5_, 0x31);                                                   \
    r6 = _mm256_permute2f128_ps(u2_, u6_, 0x31);                                                   \
    r7 = _mm256_permute2f128_ps(u3_, u7_, 0x31);                                                   \
  } while (0)

/* box_rows_8 with the eight rows in the eight lanes of one AVX register:
 * the input is transposed 8x8 at a time into T (column j of the 8 rows at
 * T + 8j), the running sums advance one column per step with one vector add
 * (and one subtract), exactly the per-row float operations of the scalar
 * loop, and the outputs are divided in the same layout and transposed back.
 * The sums are one loop-carried chain (an add and a subtract per column),
 * so its latency bounds the speed: box_rows_16_avx2() runs two groups of
 * eight rows with their chains interleaved, box_rows_16_pair_avx2() four
 * (two of each row pass). */
__attribute__((target("avx2"))) static void rows8_to_t(const float *in, size_t stride, int n, float *T) {
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 r0 = _mm256_loadu_ps(in + 0 * stride + j), r1 = _mm256_loadu_ps(in + 1 * stride + j);
    __m256 r2 = _mm256_loadu_ps(in + 2 * stride + j), r3 = _mm256_loadu_ps(in + 3 * stride + j);
    __m256 r4 = _mm256_loadu_ps(in + 4 * stride + j), r5 = _mm256_loadu_ps(in + 5 * stride + j);
    __m256 r6 = _mm256_loadu_ps(in + 6 * stride + j), r7 = _mm256_loadu_ps(in + 7 * stride + j);
    TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7);
    float *t = T + (size_t)j * 8;
    _mm256_storeu_ps(t + 0, r0); _mm256_storeu_ps(t + 8, r1);
    _mm256_storeu_ps(t + 16, r2); _mm256_storeu_ps(t + 24, r3);
    _mm256_storeu_ps(t + 32, r4); _mm256_storeu_ps(t + 40, r5);
    _mm256_storeu_ps(t + 48, r6); _mm256_storeu_ps(t + 56, r7);
  }
  for (; j < n; j++)
    for (int r = 0; r < 8; r++) T[(size_t)j * 8 + r] = in[r * stride + j];
}

/* rows8_to_t() of the luma of 8 RGB rows (stride bytes apart, n pixels
 * each), computed in registers: luma16_avx2() per row, then the 8x8
 * transposes; the same luma values as luma_row_avx2() and the scalar loop. */
__attribute__((target("avx2"))) static void luma_rows8_to_t(const uint8_t *rgb, size_t stride, int n, float *T) {
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 lo[8], hi[8];
    /* luma8_wide_avx2() reads 4 bytes either side of the 16 pixels: only
     * where both stay inside the row */
    if (j > 0 && j + 18 <= n) {
      for (int r = 0; r < 8; r++) {
        const uint8_t *q = rgb + r * stride + 3 * (size_t)j;
        _mm_prefetch((const char *)(q + 16 * stride), _MM_HINT_T0);
        lo[r] = luma8_wide_avx2(q);
        hi[r] = luma8_wide_avx2(q + 24);
      }
    } else {
      for (int r = 0; r < 8; r++) luma16_avx2(rgb + r * stride + 3 * (size_t)j, &lo[r], &hi[r], NULL);
    }
    TRANSPOSE8(lo[0], lo[1], lo[2], lo[3], lo[4], lo[5], lo[6], lo[7]);
    TRANSPOSE8(hi[0], hi[1], hi[2], hi[3], hi[4], hi[5], hi[6], hi[7]);
    float *t = T + (size_t)j * 8;
    for (int k = 0; k < 8; k++) _mm256_storeu_ps(t + 8 * k, lo[k]);
    for (int k = 0; k < 8; k++) _mm256_storeu_ps(t + 64 + 8 * k, hi[k]);
  }
  for (; j < n; j++)
    for (int r = 0; r < 8; r++) {
      const uint8_t *p = rgb + r * stride + 3 * (size_t)j;
      T[(size_t)j * 8 + r] = VOUCH__LUMA_R * (float)p[0] + VOUCH__LUMA_G * (float)p[1] + VOUCH__LUMA_B * (float)p[2];
    }
}

/* The running sums of up to four groups of 8 transposed rows, their
 * chains interleaved: GA groups at TA + g * 8n whose every output goes to
 * the rows at outA + 8g * stride (a first row pass: every 8 outputs are
 * transposed back to rows through OB, 64 floats per group), then GK groups at
 * TK + g * 8n whose outputs at the columns keep[] (the 64 decimation reads)
 * go to out + g * 8 * 64 as box_rows_8() writes them (a second row pass).
 * Both sets have the same length and window, so they share the phases;
 * every group sees the very operations of box_rows_8()'s scalar loop.
 * The kept sums are stored undivided at slot[oi] of KB (65 x 8 floats per
 * group; slot 64 takes the outputs nobody keeps) and divided afterwards by
 * the same count, which leaves the chains' loop without branches. */
static inline __attribute__((always_inline, target("avx2"))) void box_sums_t(int GA, const float *TA, float *OB,
                                                                            float *outA, size_t stride, int GK,
                                                                            const float *TK, float *out,
                                                                            const int keep[64], const int *slot,
                                                                            float *KB, int n, int win,
                                                                            const float *cnt) {
  const int half = (win + 2) / 2;
  const int p1 = half - 1, p2 = win - half + 1, p3 = n - win, p4 = half - 1;
  const size_t gs = (size_t)8 * n;
  const int G = GA + GK;
  __m256 sum[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  const float *src[4] = {NULL, NULL, NULL, NULL};
  for (int g = 0; g < G; g++) src[g] = g < GA ? TA + g * gs : TK + (g - GA) * gs;
  int li = 0, ri = 0, oi = 0;
#define EMITV()                                                                                    \
  do {                                                                                             \
    if (GA) {                                                                                      \
      const __m256 c_ = _mm256_set1_ps(cnt[oi]);                                                   \
      for (int g = 0; g < GA; g++) _mm256_storeu_ps(OB + g * 64 + (oi & 7) * 8, _mm256_div_ps(sum[g], c_)); \
      if ((oi & 7) == 7)                                                                           \
        for (int g = 0; g < GA; g++) {                                                             \
          __m256 v0 = _mm256_loadu_ps(OB + g * 64), v1 = _mm256_loadu_ps(OB + g * 64 + 8),         \
                 v2 = _mm256_loadu_ps(OB + g * 64 + 16), v3 = _mm256_loadu_ps(OB + g * 64 + 24),   \
                 v4 = _mm256_loadu_ps(OB + g * 64 + 32), v5 = _mm256_loadu_ps(OB + g * 64 + 40),   \
                 v6 = _mm256_loadu_ps(OB + g * 64 + 48), v7 = _mm256_loadu_ps(OB + g * 64 + 56);   \
          TRANSPOSE8(v0, v1, v2, v3, v4, v5, v6, v7);                                              \
          float *o_ = outA + (size_t)g * 8 * stride + (oi - 7);                                    \
          _mm256_storeu_ps(o_, v0); _mm256_storeu_ps(o_ + stride, v1);                            \
          _mm256_storeu_ps(o_ + 2 * stride, v2); _mm256_storeu_ps(o_ + 3 * stride, v3);           \
          _mm256_storeu_ps(o_ + 4 * stride, v4); _mm256_storeu_ps(o_ + 5 * stride, v5);           \
          _mm256_storeu_ps(o_ + 6 * stride, v6); _mm256_storeu_ps(o_ + 7 * stride, v7);           \
        }                                                                                          \
    }                                                                                              \
    for (int g = 0; g < GK; g++) _mm256_storeu_ps(KB + g * 520 + slot[oi] * 8, sum[GA + g]);       \
  } while (0)
  for (int i = 0; i < p1; i++, ri++)
    for (int g = 0; g < G; g++) sum[g] = _mm256_add_ps(sum[g], _mm256_loadu_ps(src[g] + (size_t)ri * 8));
  for (int i = 0; i < p2; i++, ri++, oi++) {
    for (int g = 0; g < G; g++) sum[g] = _mm256_add_ps(sum[g], _mm256_loadu_ps(src[g] + (size_t)ri * 8));
    EMITV();
  }
  for (int i = 0; i < p3; i++, ri++, li++, oi++) {
    for (int g = 0; g < G; g++) {
      sum[g] = _mm256_add_ps(sum[g], _mm256_loadu_ps(src[g] + (size_t)ri * 8));
      sum[g] = _mm256_sub_ps(sum[g], _mm256_loadu_ps(src[g] + (size_t)li * 8));
    }
    EMITV();
  }
  for (int i = 0; i < p4; i++, li++, oi++) {
    for (int g = 0; g < G; g++) sum[g] = _mm256_sub_ps(sum[g], _mm256_loadu_ps(src[g] + (size_t)li * 8));
    EMITV();
  }
#undef EMITV
  /* the last n % 8 outputs of the first set, still in OB */
  for (int g = 0; g < GA; g++)
    for (int j = n & ~7; j < n; j++)
      for (int r = 0; r < 8; r++) outA[(size_t)(g * 8 + r) * stride + j] = OB[g * 64 + (j & 7) * 8 + r];
  /* the kept outputs: divided, transposed to rows of 64 */
  for (int g = 0; g < GK; g++)
    for (int k0 = 0; k0 < 64; k0 += 8) {
      __m256 v[8];
      for (int k = 0; k < 8; k++)
        v[k] = _mm256_div_ps(_mm256_loadu_ps(KB + g * 520 + slot[keep[k0 + k]] * 8),
                             _mm256_set1_ps(cnt[keep[k0 + k]]));
      TRANSPOSE8(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
      for (int r = 0; r < 8; r++) _mm256_storeu_ps(out + (size_t)g * 8 * 64 + r * 64 + k0, v[r]);
    }
}

/* Eight rows; T is scratch of 8n floats, O of 64.  With in == NULL, T
 * already holds the transposed rows (col_steps_8_avx2() writes it so).
 * keep == NULL: every output, into rows at out; else the 64 outputs at
 * columns keep[] into out (8 x 64), through slot and KB as box_sums_t()
 * says. */
__attribute__((target("avx2"))) static void box_rows_8_avx2(const float *in, size_t stride, int n,
                                                            int win, float *out, const int *keep,
                                                            const int *slot, float *KB, const float *cnt,
                                                            float *T, float *O) {
  if (in) rows8_to_t(in, stride, n, T);
  if (keep) {
    box_sums_t(0, NULL, NULL, NULL, 0, 1, T, out, keep, slot, KB, n, win, cnt);
  } else {
    box_sums_t(1, T, O, out, stride, 0, NULL, NULL, NULL, NULL, NULL, n, win, cnt);
  }
}

/* Sixteen rows (two groups of eight, chains interleaved); T is scratch of
 * 16n floats, O of 128; in == NULL and keep as above. */
__attribute__((target("avx2"))) static void box_rows_16_avx2(const float *in, size_t stride, int n,
                                                             int win, float *out, const int *keep,
                                                             const int *slot, float *KB, const float *cnt,
                                                             float *T, float *O) {
  const size_t gs = (size_t)8 * n;
  if (in) {
    rows8_to_t(in, stride, n, T);
    rows8_to_t(in + 8 * stride, stride, n, T + gs);
  }
  if (keep) {
    box_sums_t(0, NULL, NULL, NULL, 0, 2, T, out, keep, slot, KB, n, win, cnt);
  } else {
    box_sums_t(2, T, O, out, stride, 0, NULL, NULL, NULL, NULL, NULL, n, win, cnt);
  }
}

/* The first row pass of sixteen rows (T, transposed as above, into the
 * rows at out, stride apart) and the second row pass of sixteen other rows
 * (TK, into out_keep at the columns keep[]), their four chains interleaved:
 * the running sums of a row are one chain of dependent adds and subtracts,
 * and more chains side by side keep the adders busy. */
__attribute__((target("avx2"))) static void box_rows_16_pair_avx2(int n, int win, const float *cnt, const float *T,
                                                                  float *O, float *out, size_t stride,
                                                                  const float *TK, float *out_keep,
                                                                  const int *keep, const int *slot, float *KB) {
  box_sums_t(2, T, O, out, stride, 2, TK, out_keep, keep, slot, KB, n, win, cnt);
}

/* One step of the first column pass (col_step()) waiting to run. */
typedef struct {
  const float *add, *sub; /* NULL: none */
  float cnt;
} col_pending;

/* Eight column-pass steps that each write an output row, run together:
 * per block of 8 columns the running sums stay in a register while the
 * eight steps apply, in order, the very operations of col_step() (sum +=
 * add, sum -= sub, out = sum / cnt); the eight output rows are transposed
 * in registers straight into T for box_rows_8_avx2(NULL, ...).  Saves
 * writing the rows out and reading them back for the transpose. */
__attribute__((target("avx2"))) static void col_steps_8_avx2(float *sum, const col_pending *q, int c, float *T) {
  int j = 0;
  /* two blocks of 8 columns at once: two independent chains */
  for (; j + 16 <= c; j += 16) {
    __m256 s = _mm256_loadu_ps(sum + j), u = _mm256_loadu_ps(sum + j + 8), o[8], p[8];
    for (int k = 0; k < 8; k++) {
      const __m256 c_ = _mm256_set1_ps(q[k].cnt);
      if (q[k].add) {
        s = _mm256_add_ps(s, _mm256_loadu_ps(q[k].add + j));
        u = _mm256_add_ps(u, _mm256_loadu_ps(q[k].add + j + 8));
      }
      if (q[k].sub) {
        s = _mm256_sub_ps(s, _mm256_loadu_ps(q[k].sub + j));
        u = _mm256_sub_ps(u, _mm256_loadu_ps(q[k].sub + j + 8));
      }
      o[k] = _mm256_div_ps(s, c_);
      p[k] = _mm256_div_ps(u, c_);
    }
    _mm256_storeu_ps(sum + j, s);
    _mm256_storeu_ps(sum + j + 8, u);
    TRANSPOSE8(o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]);
    float *t = T + (size_t)j * 8;
    for (int k = 0; k < 8; k++) _mm256_storeu_ps(t + 8 * k, o[k]);
    TRANSPOSE8(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
    for (int k = 0; k < 8; k++) _mm256_storeu_ps(t + 64 + 8 * k, p[k]);
  }
  for (; j + 8 <= c; j += 8) {
    __m256 s = _mm256_loadu_ps(sum + j), o[8];
    for (int k = 0; k < 8; k++) {
      if (q[k].add) s = _mm256_add_ps(s, _mm256_loadu_ps(q[k].add + j));
      if (q[k].sub) s = _mm256_sub_ps(s, _mm256_loadu_ps(q[k].sub + j));
      o[k] = _mm256_div_ps(s, _mm256_set1_ps(q[k].cnt));
    }
    _mm256_storeu_ps(sum + j, s);
    TRANSPOSE8(o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]);
    float *t = T + (size_t)j * 8;
    for (int k = 0; k < 8; k++) _mm256_storeu_ps(t + 8 * k, o[k]);
  }
  for (; j < c; j++) {
    float v = sum[j];
    for (int k = 0; k < 8; k++) {
      if (q[k].add) v += q[k].add[j];
      if (q[k].sub) v -= q[k].sub[j];
      T[(size_t)j * 8 + k] = v / q[k].cnt;
    }
    sum[j] = v;
  }
}
#undef TRANSPOSE8
#endif

/* One step of the column pass over all columns: sum += add (if any), sum -=
 * sub (if any), in that order, then out = sum / cnt when out is set. */
VOUCH__CLONES static void col_step(float *sum, const float *add, const float *sub, float *out,
                                   float cnt, int c) {
  if (add && sub) {
    for (int j = 0; j < c; j++) {
      sum[j] += add[j];
      sum[j] -= sub[j];
    }
  } else if (add) {
    for (int j = 0; j < c; j++) sum[j] += add[j];
  } else if (sub) {
    for (int j = 0; j < c; j++) sum[j] -= sub[j];
  }
  if (out)
    for (int j = 0; j < c; j++) out[j] = sum[j] / cnt;
}

/* The reference's Jarosz filter (two box passes along rows, two along
 * columns), computed in one sweep down the image so the working set stays in
 * cache: luma rows in batches (8, or 16 with SIMD) go through the first row
 * pass into a ring of rows; the first column pass advances one input row at
 * a time (the same adds, subtracts and divisions, in the same order, as the
 * reference's pass down the columns); its output rows, in batches, go
 * through the second row pass, which keeps only the 64 columns jj[] that
 * decimation reads (with SIMD, a batch's second row pass runs beside the
 * next batch's first: box_rows_16_pair_avx2()).  Writes those into narrow
 * (r x 64).  Bit-identical to running the four full passes one after the
 * other. */
static int jarosz_exact_stream(row_source *src, int r, int c, int wr, int wc, const int jj[64],
                               float *narrow) {
  /* rows go in batches of B: 16 with SIMD (two groups of 8 whose row-pass
   * chains interleave), else 8.  The ring is a multiple of 16 rows, so each
   * batch lands contiguously; with SIMD the column steps of up to 16
   * outputs wait (col_pending) and read rows written up to 31 rows later,
   * plus the window. */
  int B = 8;
#ifdef VOUCH_HAVE_AVX2_LUMA
  if (src->simd) B = 16;
#endif
  const int ring_rows = ((wc + 31 + 15) / 16) * 16;
  const size_t cz = (size_t)c;
  /* ring, stage_in, stage_out, colsum, cnt, tbuf, tkeep; then obuf (2 x 64
   * floats) and kb (2 x 65 x 8) for box_sums_t(), and slot (c ints) */
  float *work = vouch__malloc((((size_t)ring_rows + 4 * 16 + 2) * cz + 128 + 2 * 520) * sizeof(float) + cz * sizeof(int));
  if (!work) return VOUCH_E_NOMEM;
  float *ring = work, *stage_in = ring + (size_t)ring_rows * cz, *stage_out = stage_in + 16 * cz,
        *colsum = stage_out + 16 * cz, *cnt = colsum + cz, *tbuf = cnt + cz, *tkeep = tbuf + 16 * cz,
        *obuf = tkeep + 16 * cz, *kb = obuf + 128;
  /* SIMD second row pass: output column oi's slot in kb (box_sums_t()) */
  int *slot = (int *)(kb + 2 * 520);
  for (int j = 0; j < c; j++) slot[j] = 64;
  for (int k = 63; k >= 0; k--) slot[jj[k]] = k;
  /* SIMD: sixteen column-pass outputs, transposed into tkeep, whose second
   * row pass waits to run beside the next batch's first row pass (into
   * narrow at keep_dst); NULL when none waits */
  float *keep_dst = NULL;
  (void)tbuf;
  (void)obuf;
  (void)tkeep;
  (void)kb;
  (void)keep_dst;
  box_counts(c, wr, cnt); /* divisors of the row passes */
  for (int j = 0; j < c; j++) colsum[j] = 0.0f;
  const int half = (wc + 2) / 2, p1 = half - 1;
  int out_rows = 0, staged = 0; /* column-pass outputs produced / waiting */
#define RING(i) (ring + (size_t)((i) % ring_rows) * cz)
#ifdef VOUCH_HAVE_AVX2_LUMA
  col_pending pend[16]; /* SIMD: the staged outputs' column steps, not yet run */
#define ROWS8(in_, out_, keep_, nkeep_)                                                    \
  do {                                                                                     \
    if (src->simd) box_rows_8_avx2(in_, cz, c, wr, out_, keep_, slot, kb, cnt, tbuf, obuf); \
    else box_rows_8(in_, cz, c, wr, out_, keep_, nkeep_, cnt);                             \
  } while (0)
  /* SIMD: the pending steps run fused, 8 at a time: a full set of 16 into
   * tkeep, whose second row pass then waits for the next batch (ROWS16);
   * 8 into tbuf, a remainder of fewer than 8 (at the end) one by one into
   * stage_out, both row-passed at once */
#define STEP(add_, sub_, cnt_)                                                                 \
  do {                                                                                         \
    if (src->simd) pend[staged] = (col_pending){(add_), (sub_), (cnt_)};                       \
    else col_step(colsum, (add_), (sub_), stage_out + (size_t)staged * cz, (cnt_), c);         \
  } while (0)
  /* the waiting second row pass, alone */
#define KEEP_ALONE()                                                                           \
  do {                                                                                         \
    if (keep_dst) box_rows_16_avx2(NULL, cz, c, wr, keep_dst, jj, slot, kb, cnt, tkeep, obuf); \
    keep_dst = NULL;                                                                           \
  } while (0)
  /* the first row pass of 16 rows transposed in tbuf into the ring at row
   * t_, beside the waiting second row pass if there is one */
#define ROWS16(t_)                                                                             \
  do {                                                                                         \
    if (keep_dst) box_rows_16_pair_avx2(c, wr, cnt, tbuf, obuf, RING(t_), cz, tkeep, keep_dst, jj, slot, kb); \
    else box_rows_16_avx2(NULL, cz, c, wr, RING(t_), NULL, NULL, NULL, cnt, tbuf, obuf);      \
    keep_dst = NULL;                                                                           \
  } while (0)
#define FLUSH()                                                                                \
  do {                                                                                         \
    float *dst_ = narrow + (size_t)(out_rows - staged) * 64;                                   \
    int k0_ = 0;                                                                               \
    if (src->simd && staged == 16) {                                                           \
      KEEP_ALONE();                                                                            \
      col_steps_8_avx2(colsum, pend, c, tkeep);                                                \
      col_steps_8_avx2(colsum, pend + 8, c, tkeep + 8 * cz);                                   \
      keep_dst = dst_;                                                                         \
      k0_ = 16;                                                                                \
    } else if (src->simd && staged >= 8) {                                                     \
      col_steps_8_avx2(colsum, pend, c, tbuf);                                                 \
      box_rows_8_avx2(NULL, cz, c, wr, dst_, jj, slot, kb, cnt, tbuf, obuf);                   \
      k0_ = 8;                                                                                 \
    }                                                                                          \
    for (int k_ = k0_; src->simd && k_ < staged; k_++)                                         \
      col_step(colsum, pend[k_].add, pend[k_].sub, stage_out + (size_t)k_ * cz, pend[k_].cnt, c); \
    if (!src->simd && staged == 8) {                                                           \
      ROWS8(stage_out, dst_, jj, 64);                                                          \
      k0_ = 8;                                                                                 \
    }                                                                                          \
    for (int k_ = k0_; k_ < staged; k_++)                                                      \
      box_row_1(stage_out + k_ * cz, c, wr, dst_ + k_ * 64, jj, 64, cnt);                      \
    staged = 0;                                                                                \
  } while (0)
#else
#define ROWS8(in_, out_, keep_, nkeep_) box_rows_8(in_, cz, c, wr, out_, keep_, nkeep_, cnt)
#define STEP(add_, sub_, cnt_) col_step(colsum, (add_), (sub_), stage_out + (size_t)staged * cz, (cnt_), c)
#define FLUSH()                                                                                \
  do {                                                                                         \
    float *dst_ = narrow + (size_t)(out_rows - staged) * 64;                                   \
    if (staged == 8) ROWS8(stage_out, dst_, jj, 64);                                           \
    else                                                                                       \
      for (int k_ = 0; k_ < staged; k_++) box_row_1(stage_out + k_ * cz, c, wr, dst_ + k_ * 64, jj, 64, cnt); \
    staged = 0;                                                                                \
  } while (0)
#endif
  for (int t0 = 0; t0 < r; t0 += B) {
    const int n = r - t0 < B ? r - t0 : B;
    int k = 0;
#ifdef VOUCH_HAVE_AVX2_LUMA
    /* 16 rows of an RGB image: the luma goes straight into the transposed
     * layout of the first row pass (no luma rows written and read back) */
    if (n == 16 && src->simd && src->img && src->img->channels == 3 && !src->grey) {
      const uint8_t *p = src->img->pixels + (size_t)t0 * src->img->stride;
      luma_rows8_to_t(p, src->img->stride, c, tbuf);
      luma_rows8_to_t(p + 8 * src->img->stride, src->img->stride, c, tbuf + 8 * cz);
      ROWS16(t0);
      k = 16;
    }
#endif
    int src_rc = k == n ? VOUCH_OK : source_rows(src, t0, n, stage_in);
    if (src_rc != VOUCH_OK) {
      vouch__free(work);
      return src_rc;
    }
    /* first row pass: into the ring */
#ifdef VOUCH_HAVE_AVX2_LUMA
    if (n == 16 && k == 0) {
      rows8_to_t(stage_in, cz, c, tbuf);
      rows8_to_t(stage_in + 8 * cz, cz, c, tbuf + 8 * cz);
      ROWS16(t0);
      k = 16;
    }
#endif
    for (; n - k >= 8; k += 8) ROWS8(stage_in + k * cz, RING(t0 + k), NULL, 0);
    for (; k < n; k++) box_row_1(stage_in + k * cz, c, wr, RING(t0 + k), NULL, 0, cnt);
    /* first column pass, one arriving row at a time */
    for (int t = t0; t < t0 + n; t++) {
      if (t < p1) {
        col_step(colsum, RING(t), NULL, NULL, 0.0f, c);
        continue;
      }
      if (t < wc) STEP(RING(t), NULL, (float)(t + 1));
      else STEP(RING(t), RING(t - wc), (float)wc);
      out_rows++;
      if (++staged == B) FLUSH();
    }
  }
  /* the last half window: subtractions only, the count shrinking */
  for (int i = 0, li = r - wc, cur = wc; i < half - 1; i++, li++) {
    cur--;
    STEP(NULL, RING(li), (float)cur);
    out_rows++;
    if (++staged == B) FLUSH();
  }
  if (staged) FLUSH();
#ifdef VOUCH_HAVE_AVX2_LUMA
  KEEP_ALONE();
#undef KEEP_ALONE
#undef ROWS16
#endif
#undef FLUSH
#undef STEP
#undef RING
#undef ROWS8
  vouch__free(work);
  return out_rows == r ? VOUCH_OK : VOUCH_E_INTERNAL;
}

/* ------------------------------------------------------------ DCT */

void vouch__pdq_dct_matrix(float d[16 * 64]) {
  /* The reference: scale = (float)sqrt(2/64); entry = scale * cos(pi/2/64 *
   * (i+1) * (2j+1)) computed in double, then rounded to float. */
  const double pi = 3.14159265358979323846;
  const float scale = (float)sqrt(2.0 / 64.0);
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 64; j++)
      d[i * 64 + j] = (float)((double)scale * cos((pi / 2.0 / 64.0) * (double)(i + 1) * (double)(2 * j + 1)));
}

/* B = D A D^T with A 64x64, D 16x64.  T = D A first (16x64), then B = T D^T.
 * Each output is a sum over k = 0..63 in increasing k, starting from 0.0f,
 * exactly as the reference's unrolled loops. */
static void dct64_to_16(const float d[16 * 64], const float a[64 * 64], float b[16 * 16]) {
  float t[16 * 64];
  float dt[64 * 16]; /* D transposed, so the second product also runs across outputs */
  for (int i = 0; i < 16; i++) {
    float *ti = t + i * 64;
    for (int j = 0; j < 64; j++) ti[j] = 0.0f;
    for (int k = 0; k < 64; k++) {
      const float dik = d[i * 64 + k];
      const float *ak = a + k * 64;
      for (int j = 0; j < 64; j++) ti[j] += dik * ak[j];
    }
  }
  for (int j = 0; j < 16; j++)
    for (int k = 0; k < 64; k++) dt[k * 16 + j] = d[j * 64 + k];
  for (int i = 0; i < 16; i++) {
    float *bi = b + i * 16;
    for (int j = 0; j < 16; j++) bi[j] = 0.0f;
    for (int k = 0; k < 64; k++) {
      const float tik = t[i * 64 + k];
      const float *dk = dt + k * 16;
      for (int j = 0; j < 16; j++) bi[j] += tik * dk[j];
    }
  }
}

/* ------------------------------------------------------------ quality, bits */

/* Heuristic from the reference: sum of quantised absolute gradients of the
 * 64x64 image, divided by 90, capped at 100.  Each term is
 * (int)(((u - v) * 100) / 255) in float, truncated toward zero. */
static int quality_metric(const float a[64 * 64]) {
  int sum = 0;
  for (int i = 0; i < 63; i++)
    for (int j = 0; j < 64; j++) {
      int dd = (int)(((a[i * 64 + j] - a[(i + 1) * 64 + j]) * 100.0f) / 255.0f);
      sum += dd < 0 ? -dd : dd;
    }
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 63; j++) {
      int dd = (int)(((a[i * 64 + j] - a[i * 64 + j + 1]) * 100.0f) / 255.0f);
      sum += dd < 0 ? -dd : dd;
    }
  int q = sum / 90;
  return q > 100 ? 100 : q;
}

/* The element of rank 127 (0-based) of 256 values: what the reference's
 * Torben median returns for an even count (the lower median). */
float vouch__pdq_lower_median(const float v[256]) {
  float a[256];
  memcpy(a, v, sizeof a);
  int lo = 0, hi = 255;
  const int k = 127;
  while (lo < hi) {
    float pivot = a[(lo + hi) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        float tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

static void bits_from_dct(const float c[256], uint8_t out[VOUCH_PDQ_BYTES]) {
  const float median = vouch__pdq_lower_median(c);
  memset(out, 0, VOUCH_PDQ_BYTES);
  for (int k = 0; k < 256; k++)
    if (c[k] > median)
      out[31 - k / 8] |= (uint8_t)(1u << (k % 8));
}

void vouch__pdq_margins(const float c[256], float margin[256]) {
  const float median = vouch__pdq_lower_median(c);
  for (int k = 0; k < 256; k++)
    margin[k] = fabsf(c[k] - median);
}

/* Dihedral variants straight from the DCT: a flip negates the odd-frequency
 * (even index, since index i is frequency i+1) rows or columns, a transpose
 * swaps i and j.  The sign patterns are the reference's. */
static void dct_variant(const float a[256], int v, float b[256]) {
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) {
      float x = a[i * 16 + j];
      switch (v) {
      case VOUCH_DIH_ORIGINAL: b[i * 16 + j] = x; break;
      case VOUCH_DIH_ROT90: b[j * 16 + i] = (j & 1) ? x : -x; break;
      case VOUCH_DIH_ROT180: b[i * 16 + j] = ((i + j) & 1) ? -x : x; break;
      case VOUCH_DIH_ROT270: b[j * 16 + i] = (i & 1) ? x : -x; break;
      case VOUCH_DIH_FLIPX: b[i * 16 + j] = (i & 1) ? x : -x; break;
      case VOUCH_DIH_FLIPY: b[i * 16 + j] = (j & 1) ? x : -x; break;
      case VOUCH_DIH_FLIPPLUS1: b[j * 16 + i] = x; break;
      default: b[j * 16 + i] = ((i + j) & 1) ? -x : x; break;
      }
    }
}

/* ------------------------------------------------------------ core */

/* Fast mode: the image was decoded at 1/denom scale (libjpeg-turbo scaled
 * DCT: each scaled pixel is close to the mean of a denom x denom block).  We
 * emulate the full-resolution pipeline instead of running PDQ as if the
 * small image were the original:
 *  - the two box passes per axis use the full-resolution window divided by
 *    denom, a fractional width (frac_box), so the blur has the same
 *    physical width;
 *  - the 64x64 samples are taken where the full-resolution pipeline takes
 *    them.  At full resolution cell i reads pixel p = (int)((i+0.5)*n/64),
 *    whose filtered value is centred at p + 0.5 + e (e = 1 when the window is
 *    even: an even box of 2m covers [i-m+1, i+m], so each pass moves the
 *    centre forward by half a pixel).  We find the same point in scaled
 *    coordinates and interpolate linearly between the two nearest samples.
 * This is not bit-exact (nothing that skips the full decode can be), but it
 * keeps fast-mode hashes close to --exact; docs/hashing.md has the measured
 * distances. */
static void sample_positions(int n_full, int n_scaled, int denom, int w_full, int idx0[64],
                             int idx1[64], float frac[64]) {
  const double e_full = (w_full % 2 == 0) ? 1.0 : 0.0;
  for (int i = 0; i < 64; i++) {
    int p = (int)(((i + 0.5) * n_full) / 64);
    double centre = p + 0.5 + e_full;          /* full-resolution coordinate */
    double k = centre / denom - 0.5;           /* scaled pixel index (fractional) */
    if (k < 0) k = 0;
    if (k > n_scaled - 1) k = n_scaled - 1;
    int k0 = (int)k;
    int k1 = k0 + 1 < n_scaled ? k0 + 1 : k0;
    idx0[i] = k0;
    idx1[i] = k1;
    frac[i] = (float)(k - k0);
  }
}

/* A centred box of fractional width len over a piecewise-constant signal
 * (sample k covers [k, k+1)): out[i] is the mean over
 * [i + 0.5 - len/2, i + 0.5 + len/2], clipped to [0, n] (the reference's box
 * likewise averages only what is inside the image).  Prefix sums in double. */
static void frac_box(const float *in, size_t istride, float *out, size_t ostride, int n, double len,
                     double *prefix) {
  prefix[0] = 0;
  for (int k = 0; k < n; k++) prefix[k + 1] = prefix[k] + in[(size_t)k * istride];
  for (int i = 0; i < n; i++) {
    double a = i + 0.5 - len / 2, b = i + 0.5 + len / 2;
    if (a < 0) a = 0;
    if (b > n) b = n;
    int ka = (int)a, kb = (int)b;
    double sa = prefix[ka] + (ka < n ? (a - ka) * in[(size_t)ka * istride] : 0);
    double sb = prefix[kb] + (kb < n ? (b - kb) * in[(size_t)kb * istride] : 0);
    out[(size_t)i * ostride] = (float)((sb - sa) / (b - a));
  }
}

/* Quality, DCT and bits from the 64x64 buffer. */
static void pdq_finish(const float dct[16 * 64], const float buf64[64 * 64], float dct16[16 * 16],
                       uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants, int *quality) {
  int q = quality_metric(buf64);
  dct64_to_16(dct, buf64, dct16);
  for (unsigned v = 0; v < n_variants; v++) {
    if (v == 0) {
      bits_from_dct(dct16, out[0]);
    } else {
      float tmp[256];
      dct_variant(dct16, (int)v, tmp);
      bits_from_dct(tmp, out[v]);
    }
  }
  if (quality) *quality = q;
}

/* The exact path over any row source (r x c, r and c >= 5).
 * Decimation reads the filtered image at 64 rows ii[] and 64 columns jj[]
 * only (cell centres, indices computed in double as the reference).  The
 * first row and column passes are needed everywhere; the second row pass
 * only at columns jj[] (its running sums still run over every pixel, in the
 * reference's order, but only those outputs are divided and stored); the
 * second column pass then runs on that r x 64 array and divides only at the
 * 64 rows ii[] (box_cols64_keep_*).  Every output we keep is bit-identical
 * to the reference's. */
static int pdq_exact_source(const float dct[16 * 64], row_source *src, int r, int c,
                            uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants, int *quality,
                            float buf64[64 * 64], float dct16[16 * 16]) {
  const int win_rows = vouch__jarosz_window(c, 64), win_cols = vouch__jarosz_window(r, 64);
  float *narrow = vouch__malloc((size_t)r * 64 * sizeof(float));
  if (!narrow) return VOUCH_E_NOMEM;
  int ii[64], jj[64];
  for (int o = 0; o < 64; o++) {
    ii[o] = (int)(((o + 0.5) * r) / 64);
    jj[o] = (int)(((o + 0.5) * c) / 64);
  }
  int rc = jarosz_exact_stream(src, r, c, win_rows, win_cols, jj, narrow);
  if (rc != VOUCH_OK) {
    vouch__free(narrow);
    return rc;
  }
#ifdef VOUCH_HAVE_AVX2_LUMA
  if (src->simd) box_cols64_keep_avx2(narrow, r, win_cols, ii, buf64);
  else
#endif
    box_cols64_keep_scalar(narrow, r, win_cols, ii, buf64);
  vouch__free(narrow);
  pdq_finish(dct, buf64, dct16, out, n_variants, quality);
  return VOUCH_OK;
}

int vouch__pdq_exact_rgb(const float dct[16 * 64], const vouch_image *img, int simd, uint8_t out[VOUCH_PDQ_BYTES],
                         int *quality, float buf64[64 * 64], float dct16[16 * 16]) {
  if (!img || img->channels != 3 || img->stride < (size_t)img->width * 3U) return VOUCH_E_INVALID;
  if (img->width < VOUCH_PDQ_MIN_SIDE || img->height < VOUCH_PDQ_MIN_SIDE) {
    memset(out, 0, VOUCH_PDQ_BYTES);
    *quality = 0;
    return VOUCH_OK;
  }
  if (img->width > (uint32_t)INT32_MAX / 2 || img->height > (uint32_t)INT32_MAX / 2) return VOUCH_E_INVALID;
  /* grey = 0: luma by the formula even when R == G == B everywhere */
  row_source src = {.img = img, .cols = (int)img->width};
#ifdef VOUCH_HAVE_AVX2_LUMA
  src.simd = simd && __builtin_cpu_supports("avx2");
#else
  (void)simd;
#endif
  return pdq_exact_source(dct, &src, (int)img->height, (int)img->width, (uint8_t(*)[VOUCH_PDQ_BYTES])out, 1, quality,
                          buf64, dct16);
}

int vouch__pdq_exact_jpeg(const float dct[16 * 64], vouch__jpeg_rows *jr, uint32_t rows, uint32_t cols,
                          uint32_t channels, int simd, uint8_t (*out)[VOUCH_PDQ_BYTES],
                          unsigned n_variants, int *quality, float buf64[64 * 64],
                          float dct16[16 * 16]) {
  if (!jr || !out || (n_variants != 1 && n_variants != VOUCH_DIHEDRAL_N) || (channels != 1 && channels != 3))
    return VOUCH_E_INVALID;
  if (rows < VOUCH_PDQ_MIN_SIDE || cols < VOUCH_PDQ_MIN_SIDE || rows > (uint32_t)INT32_MAX / 2 ||
      cols > (uint32_t)INT32_MAX / 2)
    return VOUCH_E_UNSUPPORTED; /* tiny or absurd: let the whole-image path answer */
  row_source src = {.cols = (int)cols, .jr = jr, .jr_channels = channels};
#ifdef VOUCH_HAVE_AVX2_LUMA
  src.simd = simd && __builtin_cpu_supports("avx2");
#else
  (void)simd;
#endif
  size_t bytes;
  if (!vouch__mul_ok((size_t)cols * channels, 16, &bytes)) return VOUCH_E_LIMIT; /* a batch: up to 16 rows */
  src.jr_rgb = vouch__malloc(bytes);
  if (!src.jr_rgb) return VOUCH_E_NOMEM;
  uint8_t tmp[VOUCH_DIHEDRAL_N][VOUCH_PDQ_BYTES];
  int q = 0;
  int rc = pdq_exact_source(dct, &src, (int)rows, (int)cols, tmp, n_variants, &q, buf64, dct16);
  vouch__free(src.jr_rgb);
  if (rc != VOUCH_OK) return rc;
  /* An RGB JPEG whose every pixel turned out grey takes the reference's grey
   * path, which we can only know at the end: the caller decodes it whole. */
  if (channels == 3 && src.colour == 0) return VOUCH_E_UNSUPPORTED;
  memcpy(out, tmp, n_variants * VOUCH_PDQ_BYTES);
  if (quality) *quality = q;
  return VOUCH_OK;
}

int vouch__pdq_core(const float dct[16 * 64], float *luma, float *scratch, uint32_t rows,
                    uint32_t cols, uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants,
                    int *quality, float buf64[64 * 64], float dct16[16 * 16]) {
  vouch__pdq_work w = {dct, buf64, dct16, 1};
  vouch__pdq_input in = {NULL, luma, scratch, rows, cols, rows, cols, 1};
  return vouch__pdq_core_scaled(&w, &in, out, n_variants, quality);
}

int vouch__pdq_core_scaled(const vouch__pdq_work *w, const vouch__pdq_input *in, uint8_t (*out)[VOUCH_PDQ_BYTES],
                           unsigned n_variants, int *quality) {
  if (!w || !in)
    return VOUCH_E_INVALID;
  const float *dct = w->dct;
  float *buf64 = w->buf64, *dct16 = w->dct16, *luma = in->luma, *scratch = in->scratch;
  const vouch_image *img = in->img;
  uint32_t rows = in->rows, cols = in->cols, full_rows = in->full_rows, full_cols = in->full_cols;
  const int denom = in->denom;
  if (!out || (n_variants != 1 && n_variants != VOUCH_DIHEDRAL_N) || denom < 1)
    return VOUCH_E_INVALID;
  if (img && denom != 1)
    return VOUCH_E_INVALID; /* the image source is for the exact path only */
  if (!img && (!luma || (denom != 1 && !scratch)))
    return VOUCH_E_INVALID;
  if (denom == 1) {
    full_rows = rows;
    full_cols = cols;
  }
  if (full_rows < VOUCH_PDQ_MIN_SIDE || full_cols < VOUCH_PDQ_MIN_SIDE) {
    /* The reference's answer for tiny images: all-zero hashes, quality 0. */
    for (unsigned v = 0; v < n_variants; v++) memset(out[v], 0, VOUCH_PDQ_BYTES);
    if (quality) *quality = 0;
    return VOUCH_OK;
  }
  if (rows == 0 || cols == 0 || full_rows > (uint32_t)INT32_MAX / 2 || full_cols > (uint32_t)INT32_MAX / 2)
    return VOUCH_E_INVALID;
  const int r = (int)rows, c = (int)cols;
  if (denom == 1) {
    row_source src = {.plane = luma, .cols = c};
#ifdef VOUCH_HAVE_AVX2_LUMA
    src.simd = w->simd && __builtin_cpu_supports("avx2");
#endif
    if (img) {
      src.img = img;
      src.plane = NULL;
      src.grey = image_is_grey(img);
    }
    return pdq_exact_source(dct, &src, r, c, out, n_variants, quality, buf64, dct16);
  }
  const int wr_full = vouch__jarosz_window((int)full_cols, 64); /* window along each row */
  const int wc_full = vouch__jarosz_window((int)full_rows, 64); /* window along each column */
  const size_t nmax = (size_t)(r > c ? r : c);
  {
    /* Two passes of a box of the full-resolution width (w / denom scaled
     * pixels, fractional) along rows, then columns.  Centred boxes: the
     * reference's half-pixel shifts of even windows are put back at
     * sampling time instead. */
    const double lr = (double)wr_full / denom, lc = (double)wc_full / denom;
    double *prefix = vouch__malloc(((size_t)nmax + 1) * sizeof(double));
    if (!prefix) return VOUCH_E_NOMEM;
    for (int pass = 0; pass < 2; pass++) {
      for (int y = 0; y < r; y++) frac_box(luma + (size_t)y * c, 1, scratch + (size_t)y * c, 1, c, lr, prefix);
      for (int x = 0; x < c; x++) frac_box(scratch + x, (size_t)c, luma + x, (size_t)c, r, lc, prefix);
    }
    vouch__free(prefix);
    int y0[64], y1[64], x0[64], x1[64];
    float fy[64], fx[64];
    sample_positions((int)full_rows, r, denom, wc_full, y0, y1, fy);
    sample_positions((int)full_cols, c, denom, wr_full, x0, x1, fx);
    for (int oi = 0; oi < 64; oi++) {
      const float *ra = luma + (size_t)y0[oi] * c, *rb = luma + (size_t)y1[oi] * c;
      for (int oj = 0; oj < 64; oj++) {
        float top = ra[x0[oj]] + fx[oj] * (ra[x1[oj]] - ra[x0[oj]]);
        float bot = rb[x0[oj]] + fx[oj] * (rb[x1[oj]] - rb[x0[oj]]);
        buf64[oi * 64 + oj] = top + fy[oi] * (bot - top);
      }
    }
  }
  pdq_finish(dct, buf64, dct16, out, n_variants, quality);
  return VOUCH_OK;
}

int vouch_pdq_from_luma(float *luma, float *scratch, uint32_t rows, uint32_t cols,
                        uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants, int *quality) {
  float dct[16 * 64], buf64[64 * 64], dct16[256];
  vouch__pdq_dct_matrix(dct);
  return vouch__pdq_core(dct, luma, scratch, rows, cols, out, n_variants, quality, buf64, dct16);
}
