/*
 * vouch/hash.h -- perceptual hashes: PDQ (256 bits), pHash, dHash, aHash (64 bits).
 *
 * Byte order.  A hash is stored as the bytes of its hex text: byte 0 holds the
 * first two hex digits.  For PDQ this is the reference's text form, the
 * big-endian hex of a 256-bit integer whose bit k = 16*i + j (counted from the
 * least significant bit) says DCT coefficient (i, j) is above the median.
 * So coefficient k lives in byte 31 - k/8, bit k%8.  Lists exchange with
 * other PDQ tools unchanged.
 */
#ifndef VOUCH_HASH_H
#define VOUCH_HASH_H

#include "common.h"
#include "errors.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vouch_algo {
  VOUCH_ALGO_NONE = 0,
  VOUCH_ALGO_PDQ = 1,
  VOUCH_ALGO_PHASH = 2,
  VOUCH_ALGO_DHASH = 3,
  VOUCH_ALGO_AHASH = 4,
  /* A video's vPDQ: a list of PDQ frame hashes (vouch/video.h), the
   * algorithm of video banks (vouch/bank.h).  Not one hash: its
   * vouch_algo_bytes() is 0, so every single-hash API refuses it, and
   * vouch_algo_from_name() does not return it (vouch_bank_algo_from_name()
   * does). */
  VOUCH_ALGO_VPDQ = 5,
  /* Exact file digests (HMA's video_md5, NCMEC's MD5 and SHA-1
   * fingerprints): not perceptual, so vouch_algo_bytes() is 0 for them and
   * every hashing API refuses them; vouch_digest_*() (vouch/video.h)
   * computes them.  Banks, hash lists and index files hold them
   * (vouch_algo_list_bytes()); an index of them matches equal digests only.
   * vouch_algo_from_name() does not return them (vouch_bank_algo_from_name()
   * and vouch_digest_from_name() do). */
  VOUCH_ALGO_MD5 = 6,
  VOUCH_ALGO_SHA1 = 7,
  VOUCH_ALGO_SHA256 = 8
} vouch_algo;

#define VOUCH_PDQ_BYTES 32U
#define VOUCH_PDQ_BITS 256U
#define VOUCH_HASH64_BYTES 8U
#define VOUCH_HASH_MAX_BYTES 32U
/* Hex text capacity for the largest hash, including the NUL. */
#define VOUCH_HASH_HEX_BYTES (2U * VOUCH_HASH_MAX_BYTES + 1U)

/* PDQ needs at least this many pixels per side; smaller images hash to all
 * zeros with quality 0, as in the reference. */
#define VOUCH_PDQ_MIN_SIDE 5U

/* Fast mode: a decoder created with min_side = VOUCH_FAST_MIN_SIDE decodes
 * JPEGs at 1/2, 1/4 or 1/8 scale while both sides stay at least this large,
 * and PDQ reproduces the full-resolution filter on the smaller image.  Chosen
 * by measuring the distance to a full decode over real photos (median 0 bits,
 * max 4; docs/hashing.md).  `vouch hash` uses it unless --exact is given. */
#define VOUCH_FAST_MIN_SIDE 375U
/*! vouch_fast_min_side() : VOUCH_FAST_MIN_SIDE, for bindings that cannot see macros. */
VOUCH_API unsigned vouch_fast_min_side(void);

/* The 8 dihedral variants, in the reference's order. */
#define VOUCH_DIHEDRAL_N 8U
typedef enum vouch_dihedral {
  VOUCH_DIH_ORIGINAL = 0,
  VOUCH_DIH_ROT90 = 1,
  VOUCH_DIH_ROT180 = 2,
  VOUCH_DIH_ROT270 = 3,
  VOUCH_DIH_FLIPX = 4,
  VOUCH_DIH_FLIPY = 5,
  VOUCH_DIH_FLIPPLUS1 = 6,
  VOUCH_DIH_FLIPMINUS1 = 7
} vouch_dihedral;

VOUCH_API size_t vouch_pdq_bytes(void);
/*! vouch_algo_bytes() : 32 for PDQ, 8 for the 64-bit hashes, 0 for an unknown algo. */
VOUCH_API size_t vouch_algo_bytes(int algo);
/*! vouch_algo_is_digest() : 1 for VOUCH_ALGO_MD5, _SHA1 and _SHA256, else 0. */
VOUCH_API int vouch_algo_is_digest(int algo);
/*! vouch_algo_list_bytes() : bytes of one hash of `algo` in hash lists, banks
 *  and index files: vouch_algo_bytes() for the perceptual hashes, 16, 20 and
 *  32 for md5, sha1 and sha256; 0 for vpdq (a list of PDQ hashes) and an
 *  unknown algo. */
VOUCH_API size_t vouch_algo_list_bytes(int algo);
/*! vouch_algo_name() : "pdq", "phash", "dhash", "ahash", "vpdq", "md5",
 *  "sha1", "sha256", or "unknown". */
VOUCH_API const char *vouch_algo_name(int algo);
/*! vouch_algo_from_name() : the algo for a name (case-insensitive), or VOUCH_ALGO_NONE. */
VOUCH_API int vouch_algo_from_name(const char *name);
/*! vouch_dihedral_name() : "original", "rot90", ... "flipminus1". */
VOUCH_API const char *vouch_dihedral_name(int variant);

/*! vouch_hash_to_hex() : writes 2n lowercase hex digits and a NUL.
 * @return : VOUCH_OK, or VOUCH_E_INVALID if hex_cap < 2n+1. */
VOUCH_API int vouch_hash_to_hex(const uint8_t *hash, size_t n, char *hex, size_t hex_cap);

/*! vouch_hash_from_hex() : parses exactly 2n hex digits (either case) from
 *  `hex` (hex_len bytes, no NUL needed).  @return : VOUCH_OK or VOUCH_E_HASH_PARSE. */
VOUCH_API int vouch_hash_from_hex(const char *hex, size_t hex_len, uint8_t *hash, size_t n);

/*! vouch_hamming() : number of differing bits between two n-byte hashes. */
VOUCH_API unsigned vouch_hamming(const uint8_t *a, const uint8_t *b, size_t n);

/* A hasher holds the scratch buffers hashing needs and grows them (up to the
 * image limits) as images require.  One per thread. */
typedef struct vouch_hasher vouch_hasher;
VOUCH_API int vouch_hasher_create(vouch_hasher **out);
VOUCH_API void vouch_hasher_free(vouch_hasher *h); /* NULL is a no-op */

/* Flags for vouch_hash_image(). */
#define VOUCH_HASH_DIHEDRAL 1U  /* write all 8 variants (8 hashes back to back) */

/*! vouch_hash_image() :
 *  Hashes `img` with `algo`.  Without VOUCH_HASH_DIHEDRAL, writes one hash of
 *  vouch_algo_bytes(algo) bytes to `out`; with it, writes 8 in the order of
 *  vouch_dihedral.  `out_cap` is the capacity of `out` in bytes.
 *  `quality` may be NULL; otherwise it receives PDQ's quality (0..100; below
 *  50 the hash is unreliable) or, for the 64-bit hashes, -1.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID (bad algo, small out_cap,
 *           bad image). */
VOUCH_API int vouch_hash_image(vouch_hasher *h, int algo, const vouch_image *img,
                               unsigned flags, uint8_t *out, size_t out_cap, int *quality);

/*! vouch_hash_encoded() :
 *  Decodes `len` bytes of an image file with `dec` and hashes it, as
 *  vouch_decoder_decode() then vouch_hash_image() would, with the same
 *  results and the same errors (detail in vouch_decoder_errmsg(dec)).  For
 *  PDQ with a full-resolution decoder it streams a JPEG's rows straight into
 *  the filter and never stores the whole image, which saves time and
 *  memory; other cases decode the whole image.  `width`/`height` (may be
 *  NULL) receive the image's full-resolution size after orientation.
 * @return : VOUCH_OK, a vouch_decoder_decode() error, or as vouch_hash_image(). */
VOUCH_API int vouch_hash_encoded(vouch_hasher *h, vouch_decoder *dec, const void *data, size_t len,
                                 int algo, unsigned flags, uint8_t *out, size_t out_cap, int *quality,
                                 uint32_t *width, uint32_t *height);

/*! vouch_hasher_pdq_margins() :
 *  After vouch_hash_image() or vouch_hash_encoded() hashed with PDQ on `h`:
 *  for each bit k of the original-orientation hash (bit k is bit k%8 of
 *  byte 31 - k/8, coefficient k = 16*i + j of the 16x16 DCT), the margin
 *  |c_k - median|, where median is the value PDQ thresholds at.  Bits with
 *  small margins are the ones edits flip first; vouch_psi_probe_keys()
 *  uses them.  A tiny image (all-zero hash) has all margins 0.
 * @return : VOUCH_OK, or VOUCH_E_INVALID if the last hash on `h` was not a
 *           successful PDQ hash. */
VOUCH_API int vouch_hasher_pdq_margins(const vouch_hasher *h, float margin[VOUCH_PDQ_BITS]);

/*! vouch_pdq_from_luma() :
 *  The PDQ core on a float luma plane (rows x cols, row-major), as the
 *  reference's pdqDihedralHash256esFromFloatLuma: Jarosz tent filter (two
 *  box passes per axis), decimation to 64x64, quality, 16x16 DCT, median
 *  threshold.  `luma` is used as scratch and is overwritten; `scratch` must
 *  hold rows*cols floats.  `out` receives n_variants (1 or 8) hashes.
 * @return : VOUCH_OK or VOUCH_E_INVALID. */
VOUCH_API int vouch_pdq_from_luma(float *luma, float *scratch, uint32_t rows, uint32_t cols,
                                  uint8_t (*out)[VOUCH_PDQ_BYTES], unsigned n_variants,
                                  int *quality);

/* ------------------------------------------------------------ second hash */

/* The second, independent hash on a photo's visual derivative (the grey
 * thumbnail of at most 64x64 that a voucher's payload carries, made by
 * vouch_psi_payload_init()).  Unlike PDQ it keeps magnitudes, not signs:
 * the derivative's low-frequency DCT coefficients (both axes 0..15, without
 * the mean), each weighted by its frequency, scaled so the largest is +-127,
 * one signed byte each; two are compared by the cosine of the angle between
 * them.  Brightness and contrast do not change it.  A forgery made against
 * PDQ only moves PDQ's coefficients to just past their median, and a forgery
 * made against a sign hash moves coefficients only across its threshold; to
 * pass this check a forgery's coarse structure must really become the
 * target's.  docs/attack.md has the measured pass and fail rates, and the
 * adaptive attack. */
#define VOUCH_DERIV_HASH_BYTES 256U /* byte 0: version; 255 signed bytes */
#define VOUCH_DERIV_HASH_VERSION 1U
/* A derivative passes the check when its score against the matched entry's
 * second hash is at least this (per mille; measured: docs/attack.md). */
#define VOUCH_DERIV_PASS_MIN 800

/*! vouch_derivative_hash() :
 *  The second hash of a w x h grey derivative (row-major, w bytes per row;
 *  w and h 1..64).  @return : VOUCH_OK or VOUCH_E_INVALID. */
VOUCH_API int vouch_derivative_hash(const uint8_t *thumb, unsigned w, unsigned h,
                                    uint8_t out[VOUCH_DERIV_HASH_BYTES]);

/*! vouch_derivative_score() :
 *  How alike two second hashes are: 1000 x the cosine of the angle between
 *  them, 0 when it is negative or either is flat.  Returns -1 when either
 *  is NULL or not of VOUCH_DERIV_HASH_VERSION. */
VOUCH_API int vouch_derivative_score(const uint8_t a[VOUCH_DERIV_HASH_BYTES],
                                     const uint8_t b[VOUCH_DERIV_HASH_BYTES]);

/* The second-hash check of one opened payload against its matched entry. */
typedef enum vouch_deriv_verdict {
  VOUCH_DERIV_UNKNOWN = 0, /* the entry has no second hash, or the payload no derivative */
  VOUCH_DERIV_PASS = 1,    /* score >= VOUCH_DERIV_PASS_MIN */
  VOUCH_DERIV_FAIL = 2     /* below: a suspected forgery, never shown to a reviewer as a match */
} vouch_deriv_verdict;

/*! vouch_derivative_verdict() :
 *  The verdict for a w x h derivative (w or h 0: none) against the matched
 *  entry's second hash `entry` (NULL: none).  `score` (may be NULL) receives
 *  vouch_derivative_score(), or -1 when the verdict is UNKNOWN.
 * @return : a vouch_deriv_verdict. */
VOUCH_API int vouch_derivative_verdict(const uint8_t *thumb, unsigned w, unsigned h,
                                       const uint8_t *entry, int *score);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_HASH_H */
