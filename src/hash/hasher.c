/* src/hash/hasher.c -- the reusable hashing workspace and vouch_hash_image(). */
#include <string.h>
#include "pdq_internal.h"
#include "image/image_internal.h"

struct vouch_hasher {
  float dct[16 * 64];   /* PDQ DCT matrix, computed once per hasher */
  float buf64[64 * 64];
  float dct16[16 * 16];  /* the last PDQ hash's coefficients (original orientation) */
  int pdq_last;          /* 1: dct16 belongs to a successful PDQ hash (vouch_hasher_pdq_margins) */
  float *luma;          /* grows to the largest image seen */
  float *scratch;
  size_t cap;           /* floats in luma and in scratch */
  int simd;             /* 1: use AVX2 kernels when the CPU has them */
};

void vouch__hasher_set_simd(vouch_hasher *h, int simd) {
  if (h) h->simd = simd;
}

int vouch_hasher_create(vouch_hasher **out) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  vouch_hasher *h = vouch__calloc(1, sizeof *h);
  if (!h) return VOUCH_E_NOMEM;
  vouch__pdq_dct_matrix(h->dct);
  h->simd = 1;
  *out = h;
  return VOUCH_OK;
}

void vouch_hasher_free(vouch_hasher *h) {
  if (!h) return;
  vouch__free(h->luma);
  vouch__free(h->scratch);
  vouch__free(h);
}

static int reserve(vouch_hasher *h, size_t n) {
  if (n <= h->cap) return VOUCH_OK;
  size_t bytes;
  if (!vouch__mul_ok(n, sizeof(float), &bytes)) return VOUCH_E_LIMIT;
  float *a = vouch__malloc(bytes), *b = vouch__malloc(bytes);
  if (!a || !b) {
    vouch__free(a);
    vouch__free(b);
    return VOUCH_E_NOMEM;
  }
  vouch__free(h->luma);
  vouch__free(h->scratch);
  h->luma = a;
  h->scratch = b;
  h->cap = n;
  return VOUCH_OK;
}

static int hash_image(vouch_hasher *h, int algo, const vouch_image *img, unsigned flags,
                      uint8_t *out, size_t out_cap, int *quality) {
  if (!h || !img || !out) return VOUCH_E_INVALID;
  const size_t hb = vouch_algo_bytes(algo);
  if (hb == 0) return VOUCH_E_INVALID;
  const unsigned nv = (flags & VOUCH_HASH_DIHEDRAL) ? VOUCH_DIHEDRAL_N : 1;
  if (out_cap < hb * nv) return VOUCH_E_INVALID;
  if (!img->pixels || img->width == 0 || img->height == 0 ||
      (img->channels != 1 && img->channels != 3) ||
      img->stride < (size_t)img->width * img->channels)
    return VOUCH_E_INVALID;
  size_t n;
  if (!vouch__mul_ok(img->width, img->height, &n)) return VOUCH_E_LIMIT;
  const vouch__pdq_work work = {h->dct, h->buf64, h->dct16, h->simd};
  if (algo == VOUCH_ALGO_PDQ && img->scale_denom <= 1) {
    /* Exact path: streams luma rows from the image, no full-size planes. */
    uint8_t tmp[VOUCH_DIHEDRAL_N][VOUCH_PDQ_BYTES];
    vouch__pdq_input in = {.img = img, .rows = img->height, .cols = img->width, .denom = 1};
    VOUCH_TRY(vouch__pdq_core_scaled(&work, &in, tmp, nv, quality));
    memcpy(out, tmp, nv * VOUCH_PDQ_BYTES);
    return VOUCH_OK;
  }
  VOUCH_TRY(reserve(h, n));
  vouch__luma_from_image_impl(img, h->luma, h->simd);
  if (algo == VOUCH_ALGO_PDQ) {
    uint8_t tmp[VOUCH_DIHEDRAL_N][VOUCH_PDQ_BYTES];
    uint32_t full_w, full_h;
    int denom = img->scale_denom > 1 ? img->scale_denom : 1;
    vouch_image_full_size(img, &full_w, &full_h);
    vouch__pdq_input in = {NULL, h->luma, h->scratch, img->height, img->width, full_h, full_w, denom};
    VOUCH_TRY(vouch__pdq_core_scaled(&work, &in, tmp, nv, quality));
    memcpy(out, tmp, nv * VOUCH_PDQ_BYTES);
    return VOUCH_OK;
  }
  uint8_t tmp[VOUCH_DIHEDRAL_N][VOUCH_HASH64_BYTES];
  VOUCH_TRY(vouch__hash64_from_luma(algo, h->luma, img->height, img->width, tmp, nv));
  memcpy(out, tmp, nv * VOUCH_HASH64_BYTES);
  if (quality) *quality = -1;
  return VOUCH_OK;
}

/* Starts a hash: the margins are valid only after a successful PDQ hash
 * (tiny images leave the coefficients at zero, as their hash is all zero). */
static void pdq_begin(vouch_hasher *h) {
  h->pdq_last = 0;
  memset(h->dct16, 0, sizeof h->dct16);
}

int vouch_hash_image(vouch_hasher *h, int algo, const vouch_image *img, unsigned flags,
                     uint8_t *out, size_t out_cap, int *quality) {
  if (!h) return VOUCH_E_INVALID;
  pdq_begin(h);
  int rc = hash_image(h, algo, img, flags, out, out_cap, quality);
  h->pdq_last = rc == VOUCH_OK && algo == VOUCH_ALGO_PDQ;
  return rc;
}

static int hash_encoded(vouch_hasher *h, vouch_decoder *dec, const void *data, size_t len, int algo,
                        unsigned flags, uint8_t *out, size_t out_cap, int *quality, uint32_t *width,
                        uint32_t *height) {
  if (!h || !dec || !out || (!data && len > 0)) return VOUCH_E_INVALID;
  const unsigned nv = (flags & VOUCH_HASH_DIHEDRAL) ? VOUCH_DIHEDRAL_N : 1;
  const size_t hb = vouch_algo_bytes(algo);
  if (hb == 0 || out_cap < hb * nv) return VOUCH_E_INVALID;
  if (algo == VOUCH_ALGO_PDQ && dec->opts.min_side == 0 && len <= VOUCH_IMAGE_MAX_BYTES &&
      vouch_image_detect_format(data, len) == VOUCH_FMT_JPEG) {
    vouch__jpeg_rows *jr = NULL;
    uint32_t w = 0, hh = 0, ch = 0;
    int rc = vouch__jpeg_rows_open(dec, data, len, &jr, &w, &hh, &ch);
    if (rc == VOUCH_OK) {
      uint8_t tmp[VOUCH_DIHEDRAL_N][VOUCH_PDQ_BYTES];
      rc = vouch__pdq_exact_jpeg(h->dct, jr, hh, w, ch, h->simd, tmp, nv, quality, h->buf64, h->dct16);
      vouch__jpeg_rows_close(jr);
      if (rc == VOUCH_OK) {
        memcpy(out, tmp, nv * VOUCH_PDQ_BYTES);
        if (width) *width = w;
        if (height) *height = hh;
        return VOUCH_OK;
      }
    }
    if (rc != VOUCH_E_UNSUPPORTED) return rc; /* a real decode error: the same as a whole decode */
    /* otherwise: decode the whole image (CMYK, orientation, grey RGB, tiny) */
  }
  vouch_image img = {0};
  int rc = vouch_decoder_decode(dec, data, len, &img);
  if (rc == VOUCH_OK) rc = hash_image(h, algo, &img, flags, out, out_cap, quality);
  if (rc == VOUCH_OK) vouch_image_full_size(&img, width, height);
  vouch_image_clear(&img);
  return rc;
}

int vouch_hash_encoded(vouch_hasher *h, vouch_decoder *dec, const void *data, size_t len, int algo,
                       unsigned flags, uint8_t *out, size_t out_cap, int *quality, uint32_t *width,
                       uint32_t *height) {
  if (!h) return VOUCH_E_INVALID;
  pdq_begin(h);
  int rc = hash_encoded(h, dec, data, len, algo, flags, out, out_cap, quality, width, height);
  h->pdq_last = rc == VOUCH_OK && algo == VOUCH_ALGO_PDQ;
  return rc;
}

int vouch_hasher_pdq_margins(const vouch_hasher *h, float margin[VOUCH_PDQ_BITS]) {
  if (!h || !margin || !h->pdq_last) return VOUCH_E_INVALID;
  vouch__pdq_margins(h->dct16, margin);
  return VOUCH_OK;
}
