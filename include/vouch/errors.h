/*
 * vouch/errors.h -- the one error enum of libvouch.
 *
 * Codes have explicit numbers that are never renumbered; a retired code stays
 * as a placeholder.  The tens digit groups codes by class:
 *   0x  general      1x  image and video input     2x  hash lists and databases
 *   3x  private matching (peer data)     4x  audit (proofs, signatures)
 *   5x  I/O
 * vouch_rc_class(rc) gives back the class (0, 10, 20, ...), which programs
 * map to exit statuses and the service to HTTP statuses.
 *
 * The conventions every public header follows (the API idiom):
 *
 * Results.  A call that can fail returns a vouch_rc (as int); a call that
 *   cannot fail returns void or the value itself.  On error, outputs are
 *   left untouched or set to NULL, as each function says.
 *
 * Error detail.  The code is the contract; text is for people.  Where a
 *   failure has more to say than vouch_strerror(rc), the text comes one of
 *   two ways, never through a global:
 *   - on the handle the call was made on: vouch_<object>_errmsg(handle),
 *     never NULL, "" when there is nothing to add, valid until the next call
 *     on that handle (vouch_index_errmsg(), vouch_decoder_errmsg(),
 *     vouch_video_errmsg(), vouch_bank_errmsg()).  A constructor that can
 *     explain its failure hands back the handle anyway (vouch_index_open());
 *   - for a call without a handle: the last two parameters `char *err,
 *     size_t err_cap`, a buffer of the caller's; err may be NULL; when
 *     err_cap > 0 it always receives a NUL-terminated string, "" on success
 *     or with nothing to add.  VOUCH_ERRMSG_MAX bytes always hold the whole
 *     text (vouch_index_write(), vouch_audit_index_write(),
 *     vouch_vpdq_index_write(), vouch_classify_model_load()).
 *   Where in untrusted input a parser stopped is not text but a number: a
 *   `size_t *` out-parameter named for what it counts (bad_line,
 *   bad_record), which may be NULL.
 *
 * Memory.  A buffer the library allocates for the caller (`uint8_t **out`,
 *   `char **out`) is freed with vouch_free().  An object has its own
 *   vouch_<object>_free() (opaque handles, and arrays of result structs such
 *   as vouch_matches_free()).  Every free accepts NULL.  (vouch_audit_free()
 *   and vouch_psi_buf_free() are older names of vouch_free(), kept for
 *   existing programs.)
 *
 * Argument order.  A constructor (create, open, load, parse, build) takes
 *   its `vouch_<object> **out` first.  Every other call takes its handle
 *   first, then inputs, then outputs (output buffers with their capacity or
 *   length right after them), then err/err_cap.  Array sizes in prototypes
 *   are named constants (VOUCH_MERKLE_HASH_BYTES, VOUCH_PSI_ID_BYTES, ...).
 */
#ifndef VOUCH_ERRORS_H
#define VOUCH_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vouch_rc {
  VOUCH_OK = 0,
  VOUCH_E_NOMEM = 1,            /* an allocation failed */
  VOUCH_E_INVALID = 2,          /* an argument is out of its documented range */
  VOUCH_E_LIMIT = 3,            /* a named limit (VOUCH_*_MAX) was exceeded */
  VOUCH_E_UNSUPPORTED = 4,      /* valid, but not something this build can do */
  VOUCH_E_INTERNAL = 5,         /* a bug: please report */
  VOUCH_E_NOT_FOUND = 6,        /* a named object (bank, entry, file) is absent */
  VOUCH_E_EXISTS = 7,           /* a named object already exists */

  VOUCH_E_IMAGE_FORMAT = 10,    /* bytes are not an image format we decode */
  VOUCH_E_IMAGE_CORRUPT = 11,   /* the decoder rejected the data (corrupt or truncated) */
  VOUCH_E_IMAGE_TOO_LARGE = 12, /* width, height or pixel count over the limits */
  VOUCH_E_IMAGE_EMPTY = 13,     /* zero bytes, or zero width/height */
  VOUCH_E_IMAGE_TOO_SMALL = 14, /* below what the algorithm can hash */
  VOUCH_E_VIDEO_FORMAT = 15,    /* not a container with a video stream we can decode */
  VOUCH_E_VIDEO_CORRUPT = 16,   /* the demuxer or decoder rejected the data (corrupt or truncated) */
  VOUCH_E_VIDEO_TOO_LARGE = 17, /* a frame's width, height or pixel count over the limits */
  VOUCH_E_VIDEO_TOO_LONG = 18,  /* duration or total decoded pixels over the limits */

  VOUCH_E_HASH_PARSE = 20,      /* a hash text or list line is malformed */
  VOUCH_E_DB_CORRUPT = 21,      /* an index or database file fails validation */
  VOUCH_E_DB_VERSION = 22,      /* a file format version we do not read */
  VOUCH_E_DB = 23,              /* the SQL store reported an error */
  VOUCH_E_ALGO_MISMATCH = 24,   /* hashes of different algorithms were mixed */
  VOUCH_E_DB_BUSY = 25,         /* the SQL store stayed locked by another connection (retry) */

  VOUCH_E_PSI_FORMAT = 30,      /* peer data (voucher, public data) is malformed */
  VOUCH_E_PSI_AUTH = 31,        /* peer data failed authentication */
  VOUCH_E_PSI_PARAMS = 32,      /* protocol parameters are inconsistent */
  VOUCH_E_PSI_VERSION = 33,     /* protocol data of an older format version (regenerate it) */

  VOUCH_E_AUDIT_PROOF = 40,     /* an inclusion or consistency proof does not verify */
  VOUCH_E_AUDIT_SIGNATURE = 41, /* a signature does not verify */
  VOUCH_E_AUDIT_POLICY = 42,    /* a policy (e.g. the two-source rule) is not met */
  VOUCH_E_AUDIT_FORMAT = 43,    /* an audit file (key, list, table, head, log, trust) is malformed */
  VOUCH_E_AUDIT_FORK = 44,      /* two different heads for one database version */
  VOUCH_E_AUDIT_UNTRUSTED = 45, /* signed by a key, or at a root, the client does not trust */

  VOUCH_E_IO = 50,              /* reading or writing a file failed */

  VOUCH_E_MAXCODE_ = 99         /* never use: marks the end of the range */
} vouch_rc;

/* Bytes of a caller's err buffer that always hold a whole detail text. */
#define VOUCH_ERRMSG_MAX 256U

/*! vouch_strerror() : a static, never-NULL description of `rc`. */
VOUCH_API const char *vouch_strerror(int rc);

/*! vouch_rc_class() : the class of `rc`: 0 (general), 10, 20, 30, 40 or 50. */
VOUCH_API int vouch_rc_class(int rc);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_ERRORS_H */
