/* programs/cli/cli.h -- shared pieces of the `vouch` command.
 * The CLI is a client of libvouch: it uses include/vouch/ only.
 * Exit statuses (DESIGN.md section 3): 0 ok, 1 matches found (match), 2 usage or input error. */
#ifndef VOUCH_CLI_H
#define VOUCH_CLI_H
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "vouch/vouch.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_MATCH 1
#define CLI_EXIT_ERROR 2

/* Each subcommand: argv[0] is the subcommand name. */
int cmd_hash(int argc, char **argv);
int cmd_bank(int argc, char **argv);
int cmd_bank_sync(int argc, char **argv); /* `vouch bank sync` (cmd_bank_sync.c) */
int cmd_bank_signal_type(int argc, char **argv); /* `vouch bank signal-type` (cmd_bank_types.c) */
int cmd_exchange(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_psi(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* ---- audit integration (programs/cli/audit_index.c) ----
 * The match keys of an audited table's live set (for `vouch psi setup
 * --audit-db`), its algorithm and root.  Returns 0, or -1 after a message. */
/* The live hashes of an audited table (vouch_algo_bytes(*algo) bytes each) and its root. */
int cli_audit_live_hashes(const char *path, int *algo, uint8_t **hashes, size_t *n, uint8_t root[32]);
/* The PSI match key of each of n hashes (vouch_psi_entry_key); malloc()ed, NULL after a message. */
uint8_t *cli_psi_entry_keys(int scheme, unsigned band, int algo, const uint8_t *hashes, size_t n);
/* The client's check before using public data (`vouch psi voucher --trusted`):
 * the head at sth_path is signed, trusted (trusted_path), in the log
 * (log_path, may be NULL), names exactly these public data bytes, and the
 * data's audit root is the head's root.  Prints each failure; returns 0 or
 * an exit status (1 verification failed, 2 unreadable input). */
int cli_audit_check_public(const uint8_t *vpd, size_t len, const uint8_t vpd_root[32], const char *sth_path,
                           const char *log_path, const char *trusted_path);
/* `vouch index build --require-sources N --list A.vsl --list B.vsl --audit-out T.vdb`
 * (or --audit-db T.vdb): index exactly the audited live set, each entry's
 * source = its attesting sources.  Returns an exit status. */
/* With list_bufs (not NULL), the lists are those nlists buffers (e.g. read
 * from a bank) instead of the files list_paths. */
int cli_audit_index_build(const char *table_path, char **list_paths, uint8_t *const *list_bufs,
                          const size_t *list_lens, size_t nlists, unsigned min_sources, int any_jurisdiction,
                          const char *prev_path, const char *audit_out, const char *index_out);
int cmd_eval(int argc, char **argv);
int cmd_eval_attack(int argc, char **argv); /* `vouch eval attack` (cmd_eval_attack.c) */
int cmd_eval_leakage(int argc, char **argv); /* `vouch eval leakage` (cmd_eval_leakage.c) */
int cmd_eval_video(int argc, char **argv);   /* `vouch eval video` (cmd_eval_video.c) */
int cmd_classify(int argc, char **argv);

/* Messages go to stderr prefixed with "vouch: ". */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes n bytes as 2n lowercase hex digits (vouch_hash_to_hex()) to `f`. */
void cli_hex_out(FILE *f, const uint8_t *b, size_t n);

/* Writes `s` as a JSON string literal (with quotes) to `f`. */
void cli_json_string(FILE *f, const char *s);

/* A growable list of paths. */
typedef struct cli_paths {
  char **v;
  unsigned char *walked; /* 1 if found by walking a directory (not named by the user) */
  size_t n, cap;
} cli_paths;
void cli_paths_free(cli_paths *p);
/* Keeps the first n paths (all when there are fewer), freeing the others. */
void cli_paths_truncate(cli_paths *p, size_t n);
/* Adds the operands: a file, a directory (walked in sorted order when
 * recursive; an error otherwise), or "-" (one path per line on stdin).
 * Files found by walking are marked in `walked`: a non-image among them is
 * skipped (counted), not an error.
 * Returns the number of operands that could not be used (each reported). */
int cli_paths_collect(cli_paths *p, char **operands, int n, int recursive);

/* Reads a whole file, or stdin for "-", of at most `max` bytes into a
 * malloc'd buffer with a NUL after the data (not counted in *len).  Quiet:
 * returns -1 with errno (EFBIG over `max`) and the caller reports. */
int cli_read_file(const char *path, size_t max, uint8_t **out, size_t *len);
/* cli_read_file() that reports a failure on stderr ("PATH: why"). */
int cli_read_file_reported(const char *path, size_t max, uint8_t **out, size_t *len);
/* cli_read_file_reported() for a file that holds a secret key: first warns
 * when other users may read it.  The caller wipes and frees *out. */
int cli_read_secret(const char *path, size_t max, uint8_t **out, size_t *len);
/* Writes `path` through path.tmp.XXXXXX created with `mode`, fsync and
 * rename, so a crash never leaves half a file.  Quiet: -1 with errno. */
int cli_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode);

/* The current signed lists stored in a bank file (of the banks `names`, all
 * if nnames is 0), copied out: bufs[i] (lens[i] bytes), free with
 * cli_bank_lists_free().  Returns 0, or -1 after printing an error prefixed
 * with `who`. */
typedef struct cli_bank_lists {
  uint8_t **bufs;
  size_t *lens;
  size_t n, cap;
} cli_bank_lists;
int cli_bank_lists_load(const char *who, const char *db, const char *const *names, size_t nnames,
                        cli_bank_lists *out);
void cli_bank_lists_free(cli_bank_lists *l);

/* Sub-commands: `vouch WHO NAME ...` runs the entry named argv[1] with
 * (argc - 1, argv + 1).  No NAME: `usage` on stderr, exit 2; --help, -h or
 * help: `usage` on stdout, exit 0; an unknown NAME: an error and `usage` on
 * stderr, exit 2. */
typedef struct cli_subcmd {
  const char *name;
  int (*fn)(int argc, char **argv);
} cli_subcmd;
int cli_dispatch(const char *who, const char *usage, const cli_subcmd *cmds, size_t ncmds, int argc,
                 char **argv);

/* Number of online CPUs (at least 1). */
int cli_ncpu(void);

/* Progress bar on stderr, only when stderr is a terminal. */
typedef struct cli_progress {
  int enabled;
  size_t total, done;
  double start, last;
  const char *label;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *label, size_t total);
void cli_progress_update(cli_progress *p, size_t done);
void cli_progress_end(cli_progress *p);
double cli_now(void);

/* Parses a non-negative integer in [lo, hi]; returns 0 on success. */
int cli_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
/* After getopt: no operand left (optind >= argc) prints "no input files"
 * and `usage` on stderr and returns 1; else 0. */
int cli_missing_operands(int argc, const char *usage);
/* cli_parse_uint() for an option's argument: on failure, prints the message
 * (cli_errorf) and returns -1. */
int cli_uint_arg(const char *s, unsigned long lo, unsigned long hi, unsigned long *out, const char *fmt, ...)
  __attribute__((format(printf, 5, 6)));

/* Makes a decoded photo the working original `vouch eval` measures: no
 * scaled-decode emulation from here on, and a photo larger than max_side on
 * a side reduced (area average) to fit max_side x max_side (0: keep its
 * size).  `img` is replaced by the reduced copy; on error it is unchanged.
 * Returns VOUCH_OK or vouch_image_resample()'s error. */
int cli_image_fit(vouch_image *img, uint32_t max_side);

/* ---- the photo pipeline (programs/cli/photojob.c) ----
 * Runs work() for every item 0..n-1 on `jobs` threads and deliver() on the
 * calling thread once per item, in input order.  Each thread first makes
 * its own state with init() (decoders, hasher, classifier...; freed with
 * fini() when the thread ends); work() then does the whole per-photo job
 * (read, decode, hash...) into the item's result slot of result_size bytes,
 * zeroed before the call.  At most jobs * window_per_job items are in flight
 * (claimed, not yet delivered): memory is bounded whatever n. */
typedef struct cli_photojob {
  size_t n;                   /* items */
  int jobs;                   /* threads; 0 = all cores (never more than n) */
  size_t window_per_job;      /* in-flight items per thread; 0 = 16 (never more than n in all) */
  size_t result_size;         /* bytes per result slot (0: work stores its results itself) */
  const char *progress_label; /* NULL: no progress bar */
  void *ctx;                  /* passed to every call */
  /* On each worker thread, once: VOUCH_OK and *state, or an error code (then
   * work() gets state NULL and that code).  NULL: no state. */
  int (*init)(void *ctx, void **state);
  void (*fini)(void *ctx, void *state); /* may be NULL */
  void (*work)(void *ctx, void *state, int init_rc, size_t i, void *result);
  /* In input order on the calling thread; non-zero stops the run early. */
  int (*deliver)(void *ctx, size_t i, void *result);
} cli_photojob;
/* Returns 0, or -1 if no thread could start (nothing delivered). */
int cli_photojob_run(const cli_photojob *job);

/* ---- hashing many files (programs/cli/hashjob.c, on the photo pipeline) ----
 * Reads, decodes and hashes `paths` on `jobs` threads and calls `cb` on the
 * calling thread once per path, in input order.  A file that fails still
 * gets a callback with rc != VOUCH_OK and a message in errmsg. */
typedef struct cli_hash_opts {
  int algo;       /* VOUCH_ALGO_* */
  int dihedral;   /* compute all 8 variants */
  int exact;      /* full-resolution decode (bit-exact with the reference) */
  int orient;     /* apply EXIF orientation */
  int jobs;       /* threads; 0 = all cores */
  const char *progress_label; /* NULL: no progress bar */
  int derivative; /* also the second hash of the visual derivative (PDQ only) */
  int payload;    /* also the voucher payload (vouch_psi_payload_init) of the first hash, its
                     thumbnail from a scaled decode (min side VOUCH_PSI_THUMB_SIDE) of the same bytes */
  int views;      /* PDQ: also the photo's tonal views (vouch_psi_views_make) from a fast-mode
                     decode (min side VOUCH_FAST_MIN_SIDE) of the same bytes: the hash's own
                     decode in fast mode, a second one in exact mode */
} cli_hash_opts;

typedef struct cli_hash_result {
  const char *path;
  int rc;                 /* VOUCH_OK or an error code */
  const char *errmsg;     /* detail when rc != VOUCH_OK */
  int algo;
  int quality;            /* PDQ quality, -1 for the 64-bit hashes */
  unsigned nhash;         /* 1, or 8 with dihedral */
  size_t hash_bytes;      /* vouch_algo_bytes(algo) */
  uint8_t hashes[VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES];
  uint32_t width, height; /* full-resolution size after orientation (even in fast mode) */
  int skipped;            /* a non-image found by walking a directory: not an error */
  int have_margins;       /* PDQ: margins[] holds vouch_hasher_pdq_margins() */
  float margins[VOUCH_PDQ_BITS];
  int have_views;         /* with opts->views: views holds the tonal views */
  vouch_psi_views views;
  int have_second;        /* with opts->derivative: second[] holds vouch_derivative_hash() */
  uint8_t second[VOUCH_DERIV_HASH_BYTES];
  /* with opts->payload and rc == VOUCH_OK: the payload (without a thumbnail
   * when the thumbnail decode failed: thumb_err then says why), or
   * payload_rc != VOUCH_OK; wiped after the callback */
  const vouch_psi_payload *payload;
  int payload_rc;
  const char *thumb_err;  /* NULL, or why there is no thumbnail */
} cli_hash_result;

/* Return non-zero from the callback to stop early. */
typedef int (*cli_hash_cb)(void *ctx, const cli_hash_result *r);

/* Returns the number of files that failed, or -1 if the run could not start. */
long cli_hash_run(const cli_paths *paths, const cli_hash_opts *opts, cli_hash_cb cb, void *ctx);
/* ---- videos and file digests (programs/cli/hashvideo.c) ---- */
typedef struct cli_video_opts {
  double seconds_per_hash; /* 0: every frame */
  uint32_t downsample;     /* 0: own size; N: N x N */
  int rotate;              /* apply the display matrix */
  const char *out_dir;     /* -o DIR: write DIR/NAME.txt instead of printing */
  int threads;             /* decoder threads; 0 = 1 */
} cli_video_opts;
/* The name the reference gives a video's hash file: the path's last
 * component without its extension (vpdq-hash-video -d).  malloc'd. */
char *cli_video_stem(const char *path);
/* The vPDQ of one video file; on error, a detail in err. */
int cli_vpdq_file(const char *path, const cli_video_opts *o, vouch_vpdq *out, char *err, size_t err_cap);
/* `vouch hash --algo vpdq`: returns the number of files that failed. */
long cli_hash_videos(const cli_paths *paths, const cli_video_opts *o, int json, FILE *out);
/* `vouch index video` and `vouch match --vpdq` (programs/cli/matchvideo.c). */
struct vouch_bank;
/* The algorithm of bank `name`, or VOUCH_ALGO_NONE. */
int cli_bank_algo(struct vouch_bank *b, const char *name);
/* `vouch bank import` into a vpdq bank: each file (vPDQ text, JSON, or a
 * video) is one video, named `id` or its file-name stem.  Exit status. */
int cli_bank_import_videos(struct vouch_bank *b, const char *bank, char **files, int n, const char *source,
                           const char *id);
/* `vouch bank export --videos DIR` of a vpdq bank: DIR/ID.txt per video in
 * the reference's text form (entry-N.txt when the id is not a plain file
 * name).  Exit status. */
int cli_bank_export_videos(struct vouch_bank *b, const char *bank, const char *dir);
int cmd_index_video(int argc, char **argv);
int cmd_match_video(int argc, char **argv);
/* `vouch hash --algo md5|sha1|sha256`: returns the number of files that failed. */
long cli_hash_digests(const cli_paths *paths, int algo, int json, FILE *out);

#endif
