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

/*! vouch_strerror() : a static, never-NULL description of `rc`. */
VOUCH_API const char *vouch_strerror(int rc);

/*! vouch_rc_class() : the class of `rc`: 0 (general), 10, 20, 30, 40 or 50. */
VOUCH_API int vouch_rc_class(int rc);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_ERRORS_H */
