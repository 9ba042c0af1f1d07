/* src/eval/eval_internal.h -- what the eval module's files share.  Not API. */
#ifndef VOUCH_EVAL_INTERNAL_H
#define VOUCH_EVAL_INTERNAL_H

#include <stdint.h>
#include "common/internal.h"
#include "vouch/eval.h"

/* SplitMix64 stream (transform.c). */
typedef struct vouch__rng {
  uint64_t s;
} vouch__rng;
VOUCH_HIDDEN uint64_t vouch__rng_next(vouch__rng *r);
VOUCH_HIDDEN uint32_t vouch__rng_below(vouch__rng *r, uint32_t n);

/* Encodes `src` as a JPEG of the given quality and decodes it back at full
 * resolution (jpeg.c). */
VOUCH_HIDDEN int vouch__jpeg_roundtrip(vouch_transformer *tf, const vouch_image *src, int quality,
                                       vouch_image *out);

#endif
