/*
 * vouch/video.h -- video decoding (Debian's FFmpeg libraries), vPDQ, and
 * exact file digests (MD5, SHA-1, SHA-256).
 *
 * vPDQ is Meta's video hash (ThreatExchange, vpdq/): every frame, or one
 * frame per S seconds, is converted to RGB24 by swscale (SWS_AREA), at the
 * video's own size or downscaled to N x N first, and hashed with PDQ.  Each
 * selected frame gives `FRAME,QUALITY,PDQHEX,SECONDS`, where FRAME counts
 * decoded frames from 0 and SECONDS is FRAME / frame rate in float, printed
 * with 3 decimals.  docs/video.md says how close this is to the reference.
 *
 * Untrusted input is expected: any byte string gives VOUCH_OK or an error
 * code, never a crash, and the limits below bound the work before it is done.
 */
#ifndef VOUCH_VIDEO_H
#define VOUCH_VIDEO_H

#include "common.h"
#include "errors.h"
#include "hash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default limits (vouch_video_opts_default()).  A side or frame over the
 * first two gives VOUCH_E_VIDEO_TOO_LARGE; a declared or decoded duration
 * over the third, or more decoded pixels in total than the fourth, gives
 * VOUCH_E_VIDEO_TOO_LONG.  The total counts every decoded frame (selected
 * or not) at its decoded size: it bounds the decoder's work. */
#define VOUCH_VIDEO_MAX_SIDE_DEFAULT 8192U
#define VOUCH_VIDEO_MAX_FRAME_PIXELS_DEFAULT (36U * 1000U * 1000U) /* above 8K UHD (33.2M) */
#define VOUCH_VIDEO_MAX_SECONDS_DEFAULT (4.0 * 3600.0)
#define VOUCH_VIDEO_MAX_TOTAL_PIXELS_DEFAULT (UINT64_C(1) << 40) /* ~5 h of 1080p at 30 fps */
/* vouch_video_open_file() reads files up to this size (bytes). */
#define VOUCH_VIDEO_MAX_FILE_BYTES (UINT64_C(64) << 30)

typedef struct vouch_video_opts {
  uint32_t out_side;        /* 0 (default): frames at the video's own size; N: scaled to
                               N x N first (the reference's -s N) */
  int apply_rotation;       /* 1 (default): turn frames by the stream's display matrix
                               (multiples of 90 degrees); 0: stored order, as the
                               reference (which ignores rotation) */
  int threads;              /* decoder threads (1..64; frame and slice threading); 1 (default) */
  uint32_t max_side;        /* limits, see above; 0 is invalid */
  uint64_t max_frame_pixels;
  double max_seconds;
  uint64_t max_total_pixels;
} vouch_video_opts;

/*! vouch_video_opts_default() : own size, rotation on, 1 thread, default limits. */
VOUCH_API vouch_video_opts vouch_video_opts_default(void);

/* An open video: the demuxer, the decoder, the RGB converter, the last
 * frame, and the last error's detail text.  One per thread. */
typedef struct vouch_video vouch_video;

typedef struct vouch_video_info {
  uint32_t width, height;   /* the video's size as stored in the stream header, after rotation */
  uint32_t out_width, out_height; /* the size of the frames vouch_video_next() gives */
  double frame_rate;        /* average frame rate (else the real base rate), > 0 */
  double duration;          /* seconds as the container declares it; -1 if unknown */
  int rotation;             /* 0, 90, 180 or 270: clockwise turn applied to frames */
  const char *container;    /* FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" */
  const char *codec;        /* FFmpeg's decoder name, e.g. "h264" */
} vouch_video_info;

/*! vouch_video_open_file() / vouch_video_open_memory() :
 *  Opens the first video stream of a file, or of `len` bytes at `data`
 *  (borrowed: they must stay valid until vouch_video_free()).  All reading
 *  goes through vouch's own I/O callbacks: FFmpeg never opens a file or URL
 *  by name, so playlists and references to other files (HLS, concat, ...)
 *  are refused.  `opts` may be NULL for the defaults.  `*out` is set even on
 *  failure when the handle could be allocated, so that vouch_video_errmsg()
 *  can tell why; free it in every case.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_INVALID, VOUCH_E_IO (file),
 *           VOUCH_E_UNSUPPORTED (no decoder for the codec),
 *           VOUCH_E_VIDEO_FORMAT (not a container, or no video stream),
 *           VOUCH_E_VIDEO_CORRUPT, VOUCH_E_VIDEO_TOO_LARGE, VOUCH_E_VIDEO_TOO_LONG. */
VOUCH_API int vouch_video_open_file(vouch_video **out, const char *path, const vouch_video_opts *opts);
VOUCH_API int vouch_video_open_memory(vouch_video **out, const void *data, size_t len,
                                      const vouch_video_opts *opts);
/*! vouch_video_free() : NULL is a no-op. */
VOUCH_API void vouch_video_free(vouch_video *v);

/*! vouch_video_get_info() : the stream's properties (valid after a successful open). */
VOUCH_API void vouch_video_get_info(const vouch_video *v, vouch_video_info *info);

/*! vouch_video_errmsg() : detail of the last error on `v` ("" if none); never NULL. */
VOUCH_API const char *vouch_video_errmsg(const vouch_video *v);

/* One decoded frame.  `rgb` belongs to the handle and stays valid until the
 * next call on it. */
typedef struct vouch_video_frame {
  uint64_t index;           /* decoded frames before this one */
  uint32_t width, height;   /* out_width x out_height (0 when not converted) */
  size_t stride;            /* bytes per row of rgb */
  const uint8_t *rgb;       /* RGB24, or NULL when not converted */
} vouch_video_frame;

/*! vouch_video_next() :
 *  Decodes the next frame.  With `convert` non-zero it is converted to RGB24
 *  at the output size (and turned); with 0 it is only counted (frames a
 *  caller skips must still be decoded).  `*eof` becomes 1 (and `*frame` is
 *  left alone) when the stream is over.
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_VIDEO_CORRUPT (includes a
 *           truncated file), VOUCH_E_VIDEO_TOO_LARGE, VOUCH_E_VIDEO_TOO_LONG.
 *           After an error every later call fails the same way. */
VOUCH_API int vouch_video_next(vouch_video *v, int convert, vouch_video_frame *frame, int *eof);

/*! vouch_video_silence_log() : sets FFmpeg's process-wide log level to
 *  "quiet".  The library itself never calls it (it would change state
 *  outside the library); programs that must not print FFmpeg's messages on
 *  stderr call it once at start-up. */
VOUCH_API void vouch_video_silence_log(void);

/* ------------------------------------------------------------ re-encoding
 *
 * What a platform's transcoder does to an uploaded video, for evaluations
 * (vouch_eval_video_edited()): RGB24 frames are encoded in memory with
 * FFmpeg's MPEG-4 Part 2 encoder at a fixed quantiser (one thread, no
 * B-frames: the same frames give the same result on every run) and decoded
 * back to RGB24, SWS_AREA as the vPDQ reference converts.  No container is
 * written. */
typedef struct vouch_video_recoder vouch_video_recoder;

/* Called for each decoded frame, in order; the frame is valid during the
 * call only.  Return VOUCH_OK to go on, an error code to stop with it. */
typedef int (*vouch_video_frame_cb)(void *ctx, const vouch_video_frame *frame);

/*! vouch_video_recoder_create() :
 *  A re-encoder for `width` x `height` RGB24 frames (2..16384; odd sizes lose
 *  their last column or row: the encoder needs even ones) at `fps` frames a
 *  second (0 < fps <= 1000) with quantiser `qscale` (1 best .. 31 worst;
 *  about 2-5 is a streaming service's quality, 20 and above visibly blocky).
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_UNSUPPORTED (no MPEG-4
 *           encoder in this FFmpeg), VOUCH_E_NOMEM. */
VOUCH_API int vouch_video_recoder_create(vouch_video_recoder **out, uint32_t width, uint32_t height, double fps,
                                         int qscale);

/*! vouch_video_recoder_push() :
 *  Encodes one frame (`rgb`, `stride` bytes a row, at least the recoder's
 *  size) and hands every frame the decoder has ready to `cb` (may be NULL).
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM, VOUCH_E_INTERNAL,
 *           VOUCH_E_VIDEO_CORRUPT, or cb's error. */
VOUCH_API int vouch_video_recoder_push(vouch_video_recoder *r, const uint8_t *rgb, size_t stride,
                                       vouch_video_frame_cb cb, void *ctx);

/*! vouch_video_recoder_finish() : flushes encoder and decoder, handing the
 *  last frames to `cb`; afterwards only _frames() and _free() may be called.
 * @return : as vouch_video_recoder_push(). */
VOUCH_API int vouch_video_recoder_finish(vouch_video_recoder *r, vouch_video_frame_cb cb, void *ctx);

/*! vouch_video_recoder_frames() : frames decoded so far. */
VOUCH_API uint64_t vouch_video_recoder_frames(const vouch_video_recoder *r);

VOUCH_API void vouch_video_recoder_free(vouch_video_recoder *r); /* NULL is a no-op */

/* ------------------------------------------------------------ vPDQ */

typedef struct vouch_vpdq_frame {
  uint64_t frame;           /* frame number (decoded frames before it) */
  int quality;              /* PDQ quality 0..100 */
  uint8_t hash[VOUCH_PDQ_BYTES];
  float seconds;            /* frame / frame rate, in float as the reference */
} vouch_vpdq_frame;

/* A video's vPDQ: its frames, and what is known of the video. */
typedef struct vouch_vpdq {
  vouch_vpdq_frame *frames; /* OWNED (vouch_vpdq_clear) */
  size_t n, cap;
  uint32_t width, height;   /* the video's size (0 when parsed from text) */
  double duration;          /* seconds; -1 if unknown */
} vouch_vpdq;

/*! vouch_vpdq_clear() : frees the frames and zeroes the struct.  NULL is a no-op. */
VOUCH_API void vouch_vpdq_clear(vouch_vpdq *h);

/*! vouch_vpdq_hash_video() :
 *  Reads every remaining frame of `v` and hashes every frame (seconds_per_hash
 *  == 0) or each frame whose number is a multiple of
 *  max(1, (int)(seconds_per_hash * frame rate)), as the reference.  `*out`
 *  is overwritten (clear it first) and on error holds nothing.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM, a vouch_video_next()
 *           error, or VOUCH_E_VIDEO_CORRUPT when no frame could be decoded. */
VOUCH_API int vouch_vpdq_hash_video(vouch_video *v, double seconds_per_hash, vouch_vpdq *out);

/*! vouch_vpdq_hash_rgb() :
 *  PDQ of one RGB24 frame the way vPDQ does it: luma by the reference's
 *  formula with no grey shortcut, then PDQ (the same result as
 *  vouch_pdq_from_luma() on that luma plane, without storing it).  Frames
 *  under 5 pixels a side hash to zeros with quality 0. */
VOUCH_API int vouch_vpdq_hash_rgb(const uint8_t *rgb, size_t stride, uint32_t w, uint32_t h,
                                  uint8_t hash[VOUCH_PDQ_BYTES], int *quality);

/* Longest line vouch_vpdq_format_line() writes, with its newline and NUL:
 * a 20-digit frame, 3-digit quality, 64 hex digits, seconds, 3 commas. */
#define VOUCH_VPDQ_LINE_BYTES 128U

/*! vouch_vpdq_format_line() : `FRAME,QUALITY,PDQHEX,SECONDS\n` (seconds
 *  with 3 decimals), as the reference writes it.  @return : the length, or
 *  0 if cap is too small. */
VOUCH_API size_t vouch_vpdq_format_line(const vouch_vpdq_frame *f, char *buf, size_t cap);

/* Most frames a parsed vPDQ may hold (24 h at 60 fps). */
#define VOUCH_VPDQ_MAX_FRAMES 5184000U

/*! vouch_vpdq_parse() :
 *  Parses the reference's text form (one `FRAME,QUALITY,PDQHEX,SECONDS`
 *  line per frame; CR LF accepted; empty lines and lines starting with '#'
 *  skipped) from `len` bytes at `text`.  `*out` is overwritten.  Frame
 *  numbers must be strictly increasing, qualities 0..100, seconds finite
 *  and non-negative.  Text starting with '{' is read as python-threatexchange's
 *  older JSON form instead: {"FRAME": {"quality": Q, "hash": "HEX", "timestamp":
 *  SECONDS}, ...} (frames sorted by number); text starting with '[' as its
 *  current one (vouch_vpdq_format_compact()), frame i being the i-th item.  On error, `*line` (may be
 *  NULL) receives the 1-based line number (JSON: where the syntax error is,
 *  else 1).
 * @return : VOUCH_OK, VOUCH_E_NOMEM, VOUCH_E_HASH_PARSE (includes no frame
 *           at all), VOUCH_E_LIMIT (more than VOUCH_VPDQ_MAX_FRAMES). */
VOUCH_API int vouch_vpdq_parse(const char *text, size_t len, vouch_vpdq *out, size_t *line);

/*! vouch_vpdq_format_compact() :
 *  `h` in python-threatexchange's current signal form, the one HMA stores
 *  and its `vpdq` signal type exchanges: a JSON array with one string
 *  "PDQHEX,QUALITY,SECONDS" per frame, seconds as Python writes a float with
 *  format "{:.3}" ("0.0", "12.5", "1.23e+02").  vouch_vpdq_parse() reads it
 *  back (frame numbers become positions, as the form has none).  `*out` is
 *  NUL-terminated, `*len` (may be NULL) its length; free it with vouch_free().
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM, VOUCH_E_LIMIT. */
VOUCH_API int vouch_vpdq_format_compact(const vouch_vpdq *h, char **out, size_t *len);

/* ------------------------------------------------------------ matching
 *
 * The semantics of python-threatexchange's vPDQ matcher (and HMA's): frames
 * under a quality of 50 are dropped, then frames with the same hash are
 * counted once (the video's "unique frames").  A query frame matches a video
 * when some unique frame of the video is within the radius (inclusive,
 * default 31).  query_pct is the share of the query's unique frames that
 * match, index_pct the share of the video's unique frames that some query
 * frame is within the radius of; a video matches when query_pct >=
 * query_match and index_pct >= index_match (defaults 80 and 0). */
#define VOUCH_VPDQ_QUALITY_MIN 50
#define VOUCH_VPDQ_RADIUS 31U
#define VOUCH_VPDQ_QUERY_MATCH_DEFAULT 80.0
#define VOUCH_VPDQ_INDEX_MATCH_DEFAULT 0.0

typedef struct vouch_vpdq_similarity {
  size_t query_unique, query_matched;   /* unique frames of the query; how many match */
  size_t target_unique, target_matched; /* the same for the other video */
  double query_pct, target_pct;         /* 100 * matched / unique (0 when unique is 0) */
} vouch_vpdq_similarity;

/*! vouch_vpdq_compare() :
 *  The two percentages between two videos by the plain loop (every unique
 *  frame against every unique frame), as python-threatexchange's
 *  match_VPDQ_hash_brute.  @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM. */
VOUCH_API int vouch_vpdq_compare(const vouch_vpdq *query, const vouch_vpdq *target, unsigned radius,
                                 int quality_min, vouch_vpdq_similarity *out);

struct vouch_index; /* vouch/index.h */

/*! vouch_vpdq_index_write() :
 *  Writes a PDQ index (vouch/index.h, docs/index-format.md) of the unique
 *  frames (quality >= quality_min) of `n` videos: one entry per unique frame
 *  of each video, with bank `bank`, entry id i + 1 for videos[i] and external
 *  id names[i], so the PDQ engines search the frames and each hit names its
 *  video.  `root`, `count` (may be NULL) get the Merkle root and the number
 *  of entries; `err` (may be NULL) a message on failure.
 * @return : as vouch_index_write(); VOUCH_E_INVALID for NULL arguments. */
VOUCH_API int vouch_vpdq_index_write(const char *path, const char *bank, const vouch_vpdq *videos,
                                     const char *const *names, size_t n, int quality_min,
                                     uint8_t root[32], size_t *count, char *err, size_t err_cap);

/* A database of videos over an open index whose entries are video frames:
 * the entries with the same bank and entry id are the unique frames of one
 * video (as vouch_vpdq_index_write() makes them). */
typedef struct vouch_vpdq_db vouch_vpdq_db;

/*! vouch_vpdq_db_open() : groups the entries of `idx` (borrowed: it must
 *  outlive the handle) by video.  @return : VOUCH_OK, VOUCH_E_INVALID (not a
 *  PDQ index), VOUCH_E_NOMEM. */
VOUCH_API int vouch_vpdq_db_open(vouch_vpdq_db **out, struct vouch_index *idx);
VOUCH_API void vouch_vpdq_db_free(vouch_vpdq_db *db); /* NULL is a no-op */
/*! vouch_vpdq_db_videos() : the number of videos. */
VOUCH_API size_t vouch_vpdq_db_videos(const vouch_vpdq_db *db);

typedef struct vouch_vpdq_match_opts {
  unsigned radius;     /* VOUCH_VPDQ_RADIUS */
  int quality_min;     /* VOUCH_VPDQ_QUALITY_MIN: query frames below are dropped */
  double query_match;  /* VOUCH_VPDQ_QUERY_MATCH_DEFAULT */
  double index_match;  /* VOUCH_VPDQ_INDEX_MATCH_DEFAULT */
  unsigned threads;    /* search threads; 0 or 1 = the calling thread */
} vouch_vpdq_match_opts;
VOUCH_API vouch_vpdq_match_opts vouch_vpdq_match_opts_default(void);

typedef struct vouch_vpdq_video_match {
  uint32_t entry;        /* one index entry of the video (vouch_index_get: bank, ext id) */
  uint64_t entry_id;     /* the video's entry id */
  size_t index_unique;   /* the video's unique frames */
  size_t query_matched;  /* query unique frames within the radius of one of its frames */
  size_t index_matched;  /* its unique frames within the radius of a query frame */
  double query_pct, index_pct;
  int match;             /* both percentages pass the thresholds */
} vouch_vpdq_video_match;

/*! vouch_vpdq_db_match() :
 *  Searches the query's unique frames in the index (exact: every frame
 *  within the radius is found, by the index's engines) and reports every
 *  video with at least one matching frame in *out (free with
 *  vouch_vpdq_video_matches_free()), matches first, then by query_pct and
 *  index_pct (highest first), then entry.  *query_unique (may be NULL) gets
 *  the query's unique frame count.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM, VOUCH_E_LIMIT. */
VOUCH_API int vouch_vpdq_db_match(vouch_vpdq_db *db, const vouch_vpdq *query, const vouch_vpdq_match_opts *opts,
                                  vouch_vpdq_video_match **out, size_t *n, size_t *query_unique);
VOUCH_API void vouch_vpdq_video_matches_free(vouch_vpdq_video_match *m); /* NULL is a no-op */

/* ------------------------------------------------------------ file digests */

/* The digests are vouch_algo values (vouch/hash.h), so a digest names the
 * algorithm of a bank or an index of them. */
typedef enum vouch_digest_algo {
  VOUCH_DIGEST_MD5 = VOUCH_ALGO_MD5,
  VOUCH_DIGEST_SHA1 = VOUCH_ALGO_SHA1,
  VOUCH_DIGEST_SHA256 = VOUCH_ALGO_SHA256
} vouch_digest_algo;

#define VOUCH_DIGEST_MAX_BYTES 32U

/*! vouch_digest_name() : "md5", "sha1", "sha256", or "unknown". */
VOUCH_API const char *vouch_digest_name(int algo);
/*! vouch_digest_from_name() : the algo for a name (case-insensitive; "sha-1"
 *  and "sha-256" too), or 0. */
VOUCH_API int vouch_digest_from_name(const char *name);
/*! vouch_digest_bytes() : 16, 20, 32, or 0 for an unknown algo. */
VOUCH_API size_t vouch_digest_bytes(int algo);

/* Streaming digest (libavutil's av_md5 / av_sha underneath). */
typedef struct vouch_digest vouch_digest;
VOUCH_API int vouch_digest_create(vouch_digest **out, int algo);
VOUCH_API void vouch_digest_update(vouch_digest *d, const void *data, size_t len);
/*! vouch_digest_final() : writes vouch_digest_bytes() bytes to `out` (`cap`
 *  its capacity) and resets `d` for a new message.
 *  @return : VOUCH_OK or VOUCH_E_INVALID (cap too small). */
VOUCH_API int vouch_digest_final(vouch_digest *d, uint8_t *out, size_t cap);
VOUCH_API void vouch_digest_free(vouch_digest *d); /* NULL is a no-op */

/*! vouch_digest_buffer() : the digest of `len` bytes in one call. */
VOUCH_API int vouch_digest_buffer(int algo, const void *data, size_t len, uint8_t *out, size_t cap);
/*! vouch_digest_file() : the digest of a whole file, read in blocks.
 *  @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM, VOUCH_E_IO. */
VOUCH_API int vouch_digest_file(int algo, const char *path, uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_VIDEO_H */
