/*
 * vouch/attack.h -- forged PDQ collisions, for measurement.
 *
 * PDQ is a linear pipeline up to its last step: luma, a box (tent) filter,
 * sampling to 64x64, a 16x16 DCT, then a threshold at the median.  An
 * adversary who knows it can add a smooth, low-frequency pattern to an
 * innocent photo so that its hash lands within the matching radius of any
 * target hash: a "forged collision".  This module does exactly that, so that
 * vouch can state what such an adversary achieves (success rate, how visible
 * the change is, time) instead of assuming forgeries are hard.  It is an
 * evaluation tool: `vouch eval attack` runs it over a folder of photos, and
 * docs/attack.md has the method and the measured figures.
 *
 * The method, in short (docs/attack.md has the details): hash the current
 * image and keep its 16x16 DCT; choose which coefficients to move (the
 * mismatched bits, leaving the `slack` most expensive ones as they are),
 * move each to `margin` past the median on the target's side; the smallest
 * change of the 64x64 buffer doing so is D^T dC D (the DCT's rows are
 * orthonormal); spread it over the full image as the same sum of cosines
 * evaluated at every pixel, add it to all three channels (so luma moves by
 * exactly that much), never past 0 or 255 in any channel.  Repeat on the real
 * 8-bit image until its hash, computed by the library's own PDQ on the
 * rounded pixels, is within the radius.
 */
#ifndef VOUCH_ATTACK_H
#define VOUCH_ATTACK_H

#include "common.h"
#include "errors.h"
#include "image.h"
#include "hash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default and largest number of iterations. */
#define VOUCH_ATTACK_ITERS_DEFAULT 40U
#define VOUCH_ATTACK_ITERS_MAX 1000U

typedef struct vouch_attack_params {
  unsigned radius;     /* success when the forged hash is within this distance of the
                          target (0..128; 0 = every bit equal, which implies any key
                          derived from the hash bits) */
  unsigned slack;      /* mismatched bits the attack may leave alone (the costliest);
                          must be <= radius.  Leaving some saves perturbation; the
                          rest of the radius is margin against rounding */
  unsigned max_iters;  /* 1..VOUCH_ATTACK_ITERS_MAX; 0 = VOUCH_ATTACK_ITERS_DEFAULT */
  const uint8_t *second_target; /* NULL: PDQ only.  Else the adaptive attack: the
                          VOUCH_DERIV_HASH_BYTES second hash (vouch_derivative_hash)
                          of the target's derivative, against which the forgery's
                          derivative must also score at least second_min */
  int second_min;      /* 0..1000 (vouch_derivative_score); VOUCH_DERIV_PASS_MIN to pass
                          vouch's check */
  float margin;        /* how far past the median a moved coefficient is put, as a
                          fraction of the image's median |coefficient - median|;
                          0 = the default 0.3.  Larger survives re-encoding
                          better and costs more change */
} vouch_attack_params;

/*! vouch_attack_params_default() : radius 31, slack 20, 40 iterations, margin 0.3. */
VOUCH_API vouch_attack_params vouch_attack_params_default(void);

typedef struct vouch_attack_result {
  int success;            /* 1 if the forged image's hash is within radius of the target */
  unsigned distance;      /* final distance between the forged image's PDQ and the target */
  unsigned start_distance;/* the source photo's distance from the target */
  unsigned iterations;    /* hash evaluations made */
  int quality;            /* PDQ quality of the forged image (0..100) */
  double psnr;            /* dB, forged against source over every sample; INFINITY if equal */
  unsigned max_change;    /* largest change of one sample (0..255) */
  double mean_abs_change; /* mean |change| over every sample */
  int second_score;       /* with second_target: the forgery's second-hash score against it
                             (vouch_derivative_score); else -1 */
} vouch_attack_result;

/*! vouch_attack_pdq() :
 *  Forges a copy of `src` (8-bit grey or RGB, each side >= 5, at most
 *  VOUCH_IMAGE_MAX_PIXELS_DEFAULT pixels) whose PDQ hash, as vouch_hash_image()
 *  computes it at full resolution, is within p->radius of `target` (and,
 *  with p->second_target, whose derivative's second hash scores at least
 *  p->second_min against that).  `*out`
 *  receives the forged image (same size and channels as src; overwritten:
 *  clear a previous image first; release with vouch_image_clear()), also when
 *  the attack fails (then it is the closest image found).  `res` receives the
 *  figures.  Deterministic: the same inputs give the same bytes.
 * @return : VOUCH_OK (whether or not the forgery succeeded: see res->success),
 *           VOUCH_E_NOMEM, VOUCH_E_INVALID (NULL, bad parameters or image),
 *           VOUCH_E_IMAGE_TOO_SMALL, VOUCH_E_LIMIT (too many pixels).
 *           On error `*out` holds no buffer. */
VOUCH_API int vouch_attack_pdq(const vouch_image *src, const uint8_t target[VOUCH_PDQ_BYTES],
                               const vouch_attack_params *p, vouch_image *out, vouch_attack_result *res);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_ATTACK_H */
