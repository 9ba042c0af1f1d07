/*
 * vouch/eval.h -- measuring what perceptual matching gets right and wrong.
 *
 * Three parts:
 *  1. Transforms: the edits a photo typically goes through (resize, crop,
 *     rotation, mirroring, JPEG recompression, colour changes, blur, noise,
 *     a caption block, borders, aspect change), each one parameter, all
 *     deterministic given a seed.  They operate on vouch_image (8-bit grey
 *     or RGB) and write a new image.
 *  2. Per-photo robustness: hash an image and every transformed copy with
 *     each algorithm and report the Hamming distances, with and without
 *     dihedral matching.
 *  3. Statistics: percentiles of distance histograms, binomial tails in log
 *     space, confidence bounds for rates, and the per-account probability
 *     of crossing a match threshold.
 *
 * Nothing here prints, reads the environment or keeps global state.  The
 * `vouch eval` command (programs/cli/cmd_eval.c) puts the parts together over
 * a folder of photos; docs/eval.md has the definitions and measured figures.
 */
#ifndef VOUCH_EVAL_H
#define VOUCH_EVAL_H

#include "common.h"
#include "errors.h"
#include "image.h"
#include "hash.h"
#include "psi.h"
#include "video.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ transforms */

/* Transform kinds.  Numbers are stable (they appear in result files). */
typedef enum vouch_tf_kind {
  VOUCH_TF_NONE = 0,
  VOUCH_TF_RESIZE = 1,     /* param: scale of both sides, 0.01..8.  Down: exact area
                              average; up: bilinear.  Sides round to nearest, >= 1 */
  VOUCH_TF_CROP = 2,       /* param: fraction of the width and of the height removed,
                              0..0.95; the kept window's position comes from the seed */
  VOUCH_TF_ROTATE = 3,     /* param: degrees counter-clockwise.  Multiples of 90 move
                              pixels exactly (the canvas turns); other angles resample
                              bilinearly onto the same canvas, corners black */
  VOUCH_TF_MIRROR = 4,     /* param 0: left-right; 1: top-bottom */
  VOUCH_TF_JPEG = 5,       /* param: quality 1..100; libjpeg-turbo encode (4:2:0 for
                              colour) and vouch's decoder at full resolution */
  VOUCH_TF_BRIGHTNESS = 6, /* param: added to every sample, -255..255, clamped */
  VOUCH_TF_CONTRAST = 7,   /* param: factor 0..10 around the middle grey 128 */
  VOUCH_TF_GAMMA = 8,      /* param: 0.05..20; out = 255 * (in / 255)^param */
  VOUCH_TF_GREY = 9,       /* param ignored; luma (BT.601 weights), one channel */
  VOUCH_TF_BLUR = 10,      /* param: box radius r in pixels, 0..1000 (window 2r+1) */
  VOUCH_TF_NOISE = 11,     /* param: standard deviation of Gaussian noise added to
                              each sample, 0..255; values from the seed */
  VOUCH_TF_OVERLAY = 12,   /* param: area fraction 0..1 covered by a caption block (a
                              filled rectangle with blocky glyphs); place from the seed */
  VOUCH_TF_BORDER = 13,    /* param: padding on each side as a fraction of that
                              dimension, 0..2; black */
  VOUCH_TF_ASPECT = 14,    /* param: width factor 0.05..20, height kept (stretch) */
  VOUCH_TF_KIND_END_ = 15  /* never use: marks the end of the range */
} vouch_tf_kind;

typedef struct vouch_transform {
  int kind;     /* vouch_tf_kind */
  double param; /* see vouch_tf_kind */
} vouch_transform;

/* Longest text vouch_transform_format() writes, including the NUL. */
#define VOUCH_TRANSFORM_TEXT_BYTES 40U

/*! vouch_transform_kind_name() : "resize", "crop", ... or "unknown". */
VOUCH_API const char *vouch_transform_kind_name(int kind);

/*! vouch_transform_format() : "kind:param" (e.g. "jpeg:50", "rotate:2",
 *  "grey"), the form vouch_transform_parse() reads.
 * @return : VOUCH_OK, or VOUCH_E_INVALID if cap < VOUCH_TRANSFORM_TEXT_BYTES. */
VOUCH_API int vouch_transform_format(const vouch_transform *t, char *text, size_t cap);

/*! vouch_transform_parse() : parses "kind" or "kind:param" (a number) and
 *  checks the parameter's range.
 * @return : VOUCH_OK or VOUCH_E_INVALID. */
VOUCH_API int vouch_transform_parse(const char *text, vouch_transform *out);

/*! vouch_transform_default_suite() : the suite `vouch eval robustness` runs
 *  by default (a static table).  `*n` receives its length. */
VOUCH_API const vouch_transform *vouch_transform_default_suite(size_t *n);

/* A transformer holds the JPEG encoder's buffer and a decoder for the
 * recompression transform.  One per thread. */
typedef struct vouch_transformer vouch_transformer;
VOUCH_API int vouch_transformer_create(vouch_transformer **out);
VOUCH_API void vouch_transformer_free(vouch_transformer *tf); /* NULL is a no-op */

/*! vouch_transform_apply() :
 *  Writes the transformed copy of `src` to `*out` (overwritten: clear a
 *  previous image first; release with vouch_image_clear()).  `seed` fixes
 *  every random choice (crop window, overlay place and glyphs, noise): the
 *  same (src, t, seed) always gives the same bytes.  `tf` is needed only for
 *  VOUCH_TF_JPEG and may be NULL otherwise.  Output channels equal the
 *  input's, except VOUCH_TF_GREY (1).  Output sides are at least 1.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID (bad image, kind or
 *           parameter out of range, missing `tf` for JPEG), VOUCH_E_LIMIT
 *           (output larger than VOUCH_IMAGE_MAX_PIXELS_DEFAULT), or the
 *           decoder's error for JPEG.  On error `*out` holds no buffer. */
VOUCH_API int vouch_transform_apply(vouch_transformer *tf, const vouch_image *src,
                                    const vouch_transform *t, uint64_t seed, vouch_image *out);

/*! vouch_image_resample() : resizes `src` to exactly w x h (area average
 *  where a side shrinks, bilinear with pixel centres aligned where it
 *  grows).  The building block of resize and aspect; also how `vouch eval`
 *  brings large photos to its working size.
 * @return : as vouch_transform_apply(). */
VOUCH_API int vouch_image_resample(const vouch_image *src, uint32_t w, uint32_t h, vouch_image *out);

/* ------------------------------------------------------------ robustness */

/* Distances for one (transform, algorithm) pair. */
typedef struct vouch_eval_dist {
  uint16_t plain;    /* distance between the original's hash and the copy's */
  uint16_t dihedral; /* min over the original's 8 dihedral variants */
} vouch_eval_dist;

/*! vouch_eval_photo() :
 *  Hashes `img` (all 8 dihedral variants) and each of the `n_tf` transformed
 *  copies with each of the `n_algo` algorithms.  Transform i uses the seed
 *  vouch_eval_seed(seed, i).
 *  `orig` (may be NULL) receives the original's hashes: n_algo entries of
 *  8 variants of VOUCH_HASH_MAX_BYTES (the first vouch_algo_bytes() used).
 *  `quality` (may be NULL) receives the original's PDQ quality (-1 if PDQ is
 *  not among the algorithms).  `dist` receives n_tf * n_algo entries,
 *  transform-major: dist[i * n_algo + a].
 * @return : VOUCH_OK, or the first error from a transform or hash. */
VOUCH_API int vouch_eval_photo(vouch_transformer *tf, vouch_hasher *h, const vouch_image *img,
                               const vouch_transform *suite, size_t n_tf, const int *algos,
                               size_t n_algo, uint64_t seed,
                               uint8_t (*orig)[VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES],
                               int *quality, vouch_eval_dist *dist);

/* Private matching (docs/protocol.md section 4): the probe rank of each copy. */
typedef struct vouch_eval_probe_opts {
  const unsigned *bands;  /* band widths b to measure */
  size_t n_bands;
  unsigned max_probes;    /* ranks are looked for up to here (1..VOUCH_PSI_PROBES_MAX) */
  const unsigned *probes; /* NULL, or n_probes values of P (ascending, <= max_probes) for found */
  size_t n_probes;
  int views;              /* 1: probes include each copy's tonal views (vouch_psi_views_make()),
                             as `vouch psi voucher` makes them; 0: the copy's own hash only */
} vouch_eval_probe_opts;

typedef struct vouch_eval_probe_out {
  int32_t *rank;          /* n_tf * n_bands, transform-major: the rank of the probe of
                             the copy (its own margins) that equals the original's band
                             key, or -1 beyond max_probes */
  float orig_margin[256]; /* the original's PDQ margins (vouch_hasher_pdq_margins) */
  int have_margins;
  uint8_t (*copy_hash)[VOUCH_PDQ_BYTES]; /* NULL, or n_tf: each copy's PDQ hash (for analysis) */
  float (*copy_margin)[256];             /* NULL, or n_tf: each copy's PDQ margins */
  uint16_t *found;                       /* NULL, or n_tf * n_bands: bit p set when a voucher with
                                            po->probes[p] probes finds the copy (with views the
                                            probe list depends on P, so it is not rank < P) */
  vouch_psi_views orig_views;            /* with po->views: the original's views */
} vouch_eval_probe_out;

/*! vouch_eval_photo_probes() :
 *  vouch_eval_photo() plus, when `po` is not NULL and PDQ is among the
 *  algorithms, the private path's view: for every copy and band width, the
 *  rank at which the copy's probes (vouch_psi_probe_keys(), the code vouchers
 *  use) meet the original's band key (vouch_psi_band_key()), without
 *  dihedral variants.  A voucher with P probes opens iff rank < P.
 * @return : as vouch_eval_photo(); VOUCH_E_INVALID for bad `po`/`pout`. */
VOUCH_API int vouch_eval_photo_probes(vouch_transformer *tf, vouch_hasher *h, const vouch_image *img,
                                      const vouch_transform *suite, size_t n_tf, const int *algos,
                                      size_t n_algo, uint64_t seed,
                                      uint8_t (*orig)[VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES],
                                      int *quality, vouch_eval_dist *dist,
                                      const vouch_eval_probe_opts *po, vouch_eval_probe_out *pout);

/*! vouch_eval_probe_rank() :
 *  The rank (0-based) of the probe of `copy` (with its margins; NULL = all
 *  equal; and its tonal views, NULL = none: vouch_psi_probe_keys_views())
 *  equal to the band key of `orig`, or -1 if none of the first
 *  max_probes is.  `scratch` holds 32 * max_probes bytes.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM. */
VOUCH_API int vouch_eval_probe_rank(const uint8_t orig[VOUCH_PDQ_BYTES], const uint8_t copy[VOUCH_PDQ_BYTES],
                                    const float *copy_margin, const vouch_psi_views *copy_views,
                                    unsigned band, unsigned max_probes, uint8_t *scratch,
                                    int32_t *rank);

/*! vouch_eval_seed() : mixes a seed with an index (SplitMix64 finaliser). */
VOUCH_API uint64_t vouch_eval_seed(uint64_t seed, uint64_t index);

/* ------------------------------------------------------------ statistics */

/*! vouch_hist_percentile() :
 *  The nearest-rank percentile of the values counted in `hist` (hist[v] =
 *  how many times v occurred): the smallest v such that at least
 *  ceil(frac * total) values are <= v, with frac in [0, 1] (frac 0 gives the
 *  minimum).  Returns -1 for an empty histogram. */
VOUCH_API long vouch_hist_percentile(const uint64_t *hist, size_t nbins, double frac);

/*! vouch_binom_log_sf() :
 *  ln P(X >= t) for X ~ Binomial(n, q), with q given as ln q and ln(1 - q)
 *  so that tiny and near-one q keep their precision.  Summed in log space
 *  (log-sum-exp over the terms), so results down to about 1e-300000 stay
 *  finite.  Returns 0 for t == 0 and -INFINITY when the probability is 0
 *  (t > n, or q == 0 with t > 0). */
VOUCH_API double vouch_binom_log_sf(uint64_t n, uint64_t t, double log_q, double log_1mq);

/*! vouch_binom_log_cdf() : ln P(X <= x), as vouch_binom_log_sf(). */
VOUCH_API double vouch_binom_log_cdf(uint64_t n, uint64_t x, double log_q, double log_1mq);

/*! vouch_rate_upper_bound() :
 *  One-sided upper confidence bound at level `conf` (e.g. 0.95) for a rate
 *  after `x` events in `k` trials: the exact (Clopper-Pearson) bound, i.e.
 *  the p at which P(X <= x) = 1 - conf.  For x == 0 this is
 *  1 - (1 - conf)^(1/k), which the "rule of three" rounds to 3/k at 95%.
 *  Returns 1 when k == 0 or x >= k. */
VOUCH_API double vouch_rate_upper_bound(uint64_t x, uint64_t k, double conf);

/* Per-account risk of an innocent account, under the model of the 2021
 * design: each photo is compared with each of N database entries; a photo
 * matches if any entry is within the threshold; the account is flagged when
 * at least t of its M photos match.  Photos are taken as independent. */
typedef struct vouch_risk_in {
  double p;          /* per-pair false-match probability (photo vs one entry) */
  uint64_t n_db;     /* N: database entries */
  uint64_t m_photos; /* M: photos per account per period (e.g. a year) */
  uint64_t t;        /* account threshold (matches needed) */
} vouch_risk_in;

typedef struct vouch_risk_out {
  double log_q;          /* ln q, q = 1 - (1 - p)^N: a photo matches some entry */
  double q;
  double expected_pairs; /* expected false matches N * M * p */
  double expected_photos;/* expected falsely matching photos M * q */
  double log10_account;  /* log10 P(X >= t), X ~ Bin(M, q) */
  double account;        /* the same probability (0 when it underflows a double) */
} vouch_risk_out;

/*! vouch_risk_account() : fills `out` for `in`.
 * @return : VOUCH_OK or VOUCH_E_INVALID (p outside [0, 1], NULL). */
VOUCH_API int vouch_risk_account(const vouch_risk_in *in, vouch_risk_out *out);

/*! vouch_risk_rate_for_target() :
 *  The largest per-pair rate p for which the account probability stays at or
 *  below 10^log10_target with the other parameters of `in` (in->p ignored),
 *  found by bisection on log p.  Returns 0 when no p > 1e-300 is small
 *  enough (e.g. t == 0). */
VOUCH_API double vouch_risk_rate_for_target(const vouch_risk_in *in, double log10_target);

/* ---------------------------------------------------------------- video edits
 *
 * The edits `vouch eval video` applies before hashing a video again; each is
 * followed by an in-memory re-encode (vouch_video_recoder) as a platform's
 * transcoder would do: recode alone (quantiser 4), bitrate-low (quantiser
 * 24), half-size (2x2 box), crop (10% off every side), logo (an opaque
 * striped box over the bottom-right corner, 1/4 wide and 1/8 high), clip
 * (the middle half of the frames, numbered again from 0). */
enum {
  VOUCH_VEDIT_RECODE = 0,
  VOUCH_VEDIT_BITRATE,
  VOUCH_VEDIT_HALF,
  VOUCH_VEDIT_CROP,
  VOUCH_VEDIT_LOGO,
  VOUCH_VEDIT_CLIP,
  VOUCH_VEDIT_COUNT
};
/*! vouch_eval_video_edit_name() : "recode", "bitrate-low", "half-size", "crop", "logo", "clip"; "unknown". */
VOUCH_API const char *vouch_eval_video_edit_name(int edit);
/*! vouch_eval_video_edit_from_name() : the edit of a name, or -1. */
VOUCH_API int vouch_eval_video_edit_from_name(const char *name);

/*! vouch_eval_video_edited() :
 *  The vPDQ of video file `path` after `edit` and the re-encode, with vPDQ's
 *  frame selection (`seconds_per_hash` as in vouch_vpdq_hash_video(), on the
 *  edited video's frames) and timestamps.  `opts` (may be NULL) limits the
 *  decode.  `*out` is overwritten; clear it with vouch_vpdq_clear().
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM, VOUCH_E_UNSUPPORTED,
 *           a vouch_video_open_file() or vouch_video_next() error, or
 *           VOUCH_E_VIDEO_CORRUPT when no frame came out. */
VOUCH_API int vouch_eval_video_edited(const char *path, const vouch_video_opts *opts, int edit,
                                      double seconds_per_hash, vouch_vpdq *out);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_EVAL_H */
