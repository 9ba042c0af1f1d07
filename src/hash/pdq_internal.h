/* src/hash/pdq_internal.h -- PDQ building blocks, shared with the 64-bit hashes and tests. */
#ifndef VOUCH_PDQ_INTERNAL_H
#define VOUCH_PDQ_INTERNAL_H
#include <stdint.h>
#include "vouch/hash.h"
#include "common/internal.h"

/* Luma coefficients of the reference (ITU-R BT.601), as float. */
#define VOUCH__LUMA_R 0.299f
#define VOUCH__LUMA_G 0.587f
#define VOUCH__LUMA_B 0.114f

/* Fills rows*cols floats of luma from an 8-bit image.  Grey images, and RGB
 * images whose every pixel has R == G == B, take the reference's grey path
 * (luma = the grey value): the reference's decoder (ImageMagick) hands such
 * images over as one-channel PGM, so the reference never sees them as RGB. */
VOUCH_HIDDEN void vouch__luma_from_image(const vouch_image *img, float *luma);
/* allow_simd = 0 forces the scalar loop (tests compare the two). */
VOUCH_HIDDEN void vouch__luma_from_image_impl(const vouch_image *img, float *luma, int allow_simd);

/* PDQ of an RGB image (channels 3) on the exact streaming path, with luma
 * made row by row by the formula and no grey path (as
 * vouch__luma_from_rgb() then vouch__pdq_core(), without the float plane).
 * simd = 0 forces the scalar kernels. */
VOUCH_HIDDEN int vouch__pdq_exact_rgb(const float dct[16 * 64], const vouch_image *img, int simd,
                                      uint8_t out[VOUCH_PDQ_BYTES], int *quality, float buf64[64 * 64],
                                      float dct16[16 * 16]);

/* The element of rank 127 (0-based) of 256 values: PDQ's threshold (the
 * reference's lower median). */
VOUCH_HIDDEN float vouch__pdq_lower_median(const float v[256]);

/* The DCT matrix of the reference: 16 x 64, row-major. */
VOUCH_HIDDEN void vouch__pdq_dct_matrix(float d[16 * 64]);
/* |c_k - median| per coefficient, median as bits_from_dct() thresholds. */
VOUCH_HIDDEN void vouch__pdq_margins(const float dct16[256], float margin[256]);

/* Jarosz window size: ceil(old / (2 * new)). */
VOUCH_HIDDEN int vouch__jarosz_window(int old_dim, int new_dim);

/* The PDQ core with a precomputed DCT matrix. */
VOUCH_HIDDEN int vouch__pdq_core(const float dct[16 * 64], float *luma, float *scratch,
                                 uint32_t rows, uint32_t cols, uint8_t (*out)[VOUCH_PDQ_BYTES],
                                 unsigned n_variants, int *quality, float buf64[64 * 64],
                                 float dct16[16 * 16]);

/* What a PDQ run works with, kept by the caller between hashes. */
typedef struct vouch__pdq_work {
  const float *dct; /* the 16 x 64 DCT matrix (vouch__pdq_dct_matrix()) */
  float *buf64;     /* 64 x 64 floats of work */
  float *dct16;     /* 16 x 16 floats: receives the DCT (vouch__pdq_margins() reads it) */
  int simd;         /* 0 forces the portable scalar kernels (tests and fuzzers compare them with AVX2) */
} vouch__pdq_work;

/* What vouch__pdq_core_scaled() hashes. */
typedef struct vouch__pdq_input {
  const vouch_image *img; /* denom 1 only, instead of a luma plane: luma rows are made on the fly */
  float *luma;            /* a rows x cols luma plane (NULL with img) */
  float *scratch;         /* as large as luma; needed when denom > 1 */
  uint32_t rows, cols;
  uint32_t full_rows, full_cols; /* the full-resolution size (read when denom > 1) */
  int denom;                     /* the plane is a decode at 1/denom scale */
} vouch__pdq_input;

/* PDQ of an image decoded at 1/denom scale whose full size is full_rows x
 * full_cols: emulates the full-resolution filter and sampling (fast mode;
 * not bit-exact).  denom == 1 is exactly vouch__pdq_core(). */
VOUCH_HIDDEN int vouch__pdq_core_scaled(const vouch__pdq_work *w, const vouch__pdq_input *in,
                                        uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants, int *quality);

/* The exact path fed by JPEG rows pulled from the decoder, never storing
 * the whole image.  @return : VOUCH_OK; VOUCH_E_UNSUPPORTED when the caller
 * must decode the image whole instead (a tiny image, or an RGB JPEG that is
 * grey throughout, which takes the reference's grey path); a decode error. */
struct vouch__jpeg_rows;
VOUCH_HIDDEN int vouch__pdq_exact_jpeg(const float dct[16 * 64], struct vouch__jpeg_rows *jr, uint32_t rows,
                                       uint32_t cols, uint32_t channels, int simd,
                                       uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants,
                                       int *quality, float buf64[64 * 64], float dct16[16 * 16]);

/* Test hook: simd = 0 makes a hasher use only the scalar kernels. */
VOUCH_API void vouch__hasher_set_simd(vouch_hasher *h, int simd);

/* 64-bit hashes (src/hash/hash64.c) from a luma plane. */
VOUCH_HIDDEN int vouch__hash64_from_luma(int algo, const float *luma, uint32_t rows, uint32_t cols,
                                         uint8_t (*out)[VOUCH_HASH64_BYTES], unsigned n_variants);
/* The second hash (derivative.c): K x K low-frequency coefficients of a
 * derivative but the mean, N = K*K - 1 of them; coefficient i is (u, v) =
 * ((i + 1) / K, (i + 1) % K), the mean over the derivative of value *
 * cos(pi u (y + 0.5) / h) * cos(pi v (x + 0.5) / w); its weight in the
 * descriptor is sqrt(u^2 + v^2). */
#define VOUCH__DERIV_K 16
#define VOUCH__DERIV_N (VOUCH__DERIV_K * VOUCH__DERIV_K - 1)
VOUCH_HIDDEN void vouch__derivative_coeffs(const uint8_t *thumb, unsigned w, unsigned h, double c[VOUCH__DERIV_N]);
VOUCH_HIDDEN double vouch__derivative_weight(int i);
#endif
