/*
 * vouch/classify.h -- Communication Safety: an on-device sensitive-image
 * classifier.
 *
 * Apple's second 2021 system (the one that shipped) runs a classifier on the
 * device, blurs images it flags and warns the user; nothing is reported to
 * anyone.  We run the pretrained MobileNetV2 of the nsfwjs package (MIT),
 * converted once by scripts/fetch-model.sh into a vouch model file, in plain
 * C: no runtime beyond the library.  The five class probabilities agree with
 * the package's own JavaScript (tfjs) within 1e-4 (docs/classify.md).
 *
 * Two objects:
 *  - a model (vouch_classify_model): the validated, immutable weights.  One
 *    per process; any number of threads may share it.
 *  - a classifier (vouch_classifier): the work buffers of one inference.
 *    One per thread; after creation, classifying an image allocates nothing.
 *
 * The library never reads files on its own initiative or the environment:
 * the program chooses the model file (the vouch command: --model, then
 * $VOUCH_MODEL, then the default in docs/classify.md).
 */
#ifndef VOUCH_CLASSIFY_H
#define VOUCH_CLASSIFY_H

#include "common.h"
#include "errors.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The classes, in the model's output order. */
typedef enum vouch_class {
  VOUCH_CLASS_DRAWING = 0, /* safe drawings and anime */
  VOUCH_CLASS_HENTAI = 1,  /* explicit drawings */
  VOUCH_CLASS_NEUTRAL = 2, /* safe photos */
  VOUCH_CLASS_PORN = 3,    /* explicit photos */
  VOUCH_CLASS_SEXY = 4     /* suggestive, not explicit */
} vouch_class;

#define VOUCH_CLASSIFY_CLASSES 5U
VOUCH_API size_t vouch_classify_classes(void);

/* The network's input: a square of this many pixels a side. */
#define VOUCH_CLASSIFY_INPUT_SIDE 224U

/* The model file format version this library reads. */
#define VOUCH_CLASSIFY_MODEL_VERSION 1U

/* Largest model file vouch_classify_model_load_file() reads (bytes). */
#define VOUCH_CLASSIFY_MODEL_MAX_BYTES (64U * 1024U * 1024U)

/* Default decision threshold on the sensitive score (see
 * vouch_classify_sensitive_score()); docs/classify.md has the false-blur
 * rates on benign photos that chose it. */
#define VOUCH_CLASSIFY_THRESHOLD_DEFAULT 0.8f

/*! vouch_classify_class_name() : "drawing", "hentai", "neutral", "porn",
 *  "sexy", or "?" out of range.  Static strings. */
VOUCH_API const char *vouch_classify_class_name(int cls);

/* ---------------------------------------------------------------- model */

typedef struct vouch_classify_model vouch_classify_model;

/*! vouch_classify_model_load() :
 *  Validates `len` bytes at `data` as a vouch model file (magic, format
 *  version, architecture, every tensor's shape, total size, SHA-256 checksum,
 *  every weight finite) and builds a model from them.  The bytes are copied:
 *  `data` may be freed afterwards.  Untrusted input is expected.
 * @return : VOUCH_OK; VOUCH_E_INVALID (NULL arguments); VOUCH_E_NOMEM;
 *           VOUCH_E_DB_VERSION (a format version or architecture we do not
 *           read); VOUCH_E_DB_CORRUPT (anything else wrong).  `*out` is
 *           NULL on error.  `err` (may be NULL; err_cap bytes,
 *           VOUCH_ERRMSG_MAX is always enough) receives what failed, or ""
 *           on success. */
VOUCH_API int vouch_classify_model_load(vouch_classify_model **out, const void *data, size_t len,
                                        char *err, size_t err_cap);

/*! vouch_classify_model_load_file() : reads `path` (up to
 *  VOUCH_CLASSIFY_MODEL_MAX_BYTES) and loads it.
 * @return : as vouch_classify_model_load(), or VOUCH_E_IO (cannot read),
 *           VOUCH_E_LIMIT (file too large). */
VOUCH_API int vouch_classify_model_load_file(vouch_classify_model **out, const char *path,
                                             char *err, size_t err_cap);

/*! vouch_classify_model_free() : NULL is a no-op.  Free the classifiers
 *  using the model first. */
VOUCH_API void vouch_classify_model_free(vouch_classify_model *model);

/*! vouch_classify_model_source() : the model's origin as recorded by the
 *  converter, e.g. "nsfwjs 4.4.0 MobileNetV2".  Valid while the model is. */
VOUCH_API const char *vouch_classify_model_source(const vouch_classify_model *model);

/* ---------------------------------------------------------------- classifier */

typedef struct vouch_classifier vouch_classifier;

typedef struct vouch_classifier_opts {
  int force_scalar; /* 1: portable C kernels only, even where AVX2+FMA exist */
} vouch_classifier_opts;

/*! vouch_classifier_create() :
 *  Allocates the work buffers (about 15 MB) for running `model`, which must
 *  outlive the classifier.  `opts` may be NULL for the defaults.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM. */
VOUCH_API int vouch_classifier_create(vouch_classifier **out, const vouch_classify_model *model,
                                      const vouch_classifier_opts *opts);
/*! vouch_classifier_free() : NULL is a no-op. */
VOUCH_API void vouch_classifier_free(vouch_classifier *clf);

/*! vouch_classifier_run() :
 *  Classifies a decoded image (8-bit grey or RGB, any size >= 1x1), with the
 *  nsfwjs preprocessing: values / 255, bilinear resize to 224x224 with
 *  aligned corners (tf.image.resizeBilinear(x, [224,224], true)) unless the
 *  image is already 224x224; grey is used as R = G = B.  Writes the five
 *  class probabilities (softmax, summing to 1) in vouch_class order.
 *  Allocates nothing.  Not thread-safe on one classifier.
 * @return : VOUCH_OK, VOUCH_E_INVALID (NULL, zero size, channels not 1/3,
 *           stride too small), VOUCH_E_DB_CORRUPT (the model's output is
 *           not finite: a model file with absurd weights; never with the
 *           nsfwjs weights); `probs` is untouched on error. */
VOUCH_API int vouch_classifier_run(vouch_classifier *clf, const vouch_image *img,
                                   float probs[VOUCH_CLASSIFY_CLASSES]);

/*! vouch_classifier_is_simd() : 1 if the classifier runs the AVX2+FMA kernels. */
VOUCH_API int vouch_classifier_is_simd(const vouch_classifier *clf);

/* ---------------------------------------------------------------- verdict */

/*! vouch_classify_sensitive_score() :
 *  porn + hentai + sexy: the probability that the image is not a safe photo
 *  or drawing.  In [0, 1]. */
VOUCH_API float vouch_classify_sensitive_score(const float probs[VOUCH_CLASSIFY_CLASSES]);

/*! vouch_classify_is_sensitive() :
 *  1 if vouch_classify_sensitive_score(probs) >= threshold, else 0.  The
 *  verdict the feature acts on (blur, then warn). */
VOUCH_API int vouch_classify_is_sensitive(const float probs[VOUCH_CLASSIFY_CLASSES], float threshold);

/*! vouch_classify_blur() :
 *  Writes into `out` (overwritten; clear a previous image first) a copy of
 *  `in` with no detail left: the image is averaged down to
 *  VOUCH_CLASSIFY_BLUR_CELLS cells on its longer side (fewer on a small
 *  image: a cell is at least VOUCH_CLASSIFY_BLUR_MIN_CELL pixels), then
 *  bilinearly interpolated back to full size.  Same size and channels as
 *  `in`.  Allocates `out`'s pixels (release with vouch_image_clear()).
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM. */
#define VOUCH_CLASSIFY_BLUR_CELLS 8U
#define VOUCH_CLASSIFY_BLUR_MIN_CELL 16U
VOUCH_API int vouch_classify_blur(const vouch_image *in, vouch_image *out);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_CLASSIFY_H */
