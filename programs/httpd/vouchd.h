/* programs/httpd/vouchd.h -- the vouchd HTTP service: shared types.
 * vouchd is a client of libvouch like the CLI: it uses include/vouch only
 * (plus SQLite, libmicrohttpd, jansson and libsodium directly). */
#ifndef VOUCHD_H
#define VOUCHD_H
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>
#include "vouch/vouch.h"
#include "vouch/bank.h"
#include "vouch/index.h"
#include "vouch/psi.h"

/* Roles, weakest first: each includes the rights of the ones before it. */
enum { VD_ROLE_NONE = 0, VD_ROLE_READER = 1, VD_ROLE_MATCHER = 2, VD_ROLE_ADMIN = 3 };
/* A device token is outside that order: it is bound to one account and may
 * only upload that account's vouchers and read its status. */
enum { VD_ROLE_DEVICE = 4 };
/* A reviewer token (routes_review.c, its own table) is outside it too: it may
 * only use the review routes, and nothing else may. */
enum { VD_ROLE_REVIEWER = 5 };
const char *vd_role_name(int role);
int vd_role_from_name(const char *name);

/* Routes, for metrics and the access log. */
enum {
  VD_R_HEALTH, VD_R_METRICS, VD_R_HASH, VD_R_MATCH, VD_R_BANKS, VD_R_INDEX, VD_R_VOUCHERS,
  VD_R_ACCOUNTS, VD_R_PUBLIC, VD_R_HMA, VD_R_REVIEW, VD_R_REVIEW_PAGE, VD_R_OTHER, VD_R_COUNT
};
extern const char *const vd_route_names[VD_R_COUNT];

#define VD_LAT_BUCKETS 12
typedef struct vd_metrics {
  atomic_ulong requests[VD_R_COUNT][6]; /* by status class 1xx..5xx, index = status/100 */
  atomic_ulong lat_bucket[VD_R_COUNT][VD_LAT_BUCKETS + 1];
  atomic_ulong lat_sum_us[VD_R_COUNT];
  atomic_ulong matches;
  atomic_ulong hashes;
  atomic_ulong rejected_busy;
  atomic_ulong rejected_size;
  atomic_ulong rejected_auth;    /* refused from the headers, body never read */
  atomic_ulong rejected_framing; /* conflicting Content-Length/Transfer-Encoding */
  atomic_ulong rejected_budget;  /* the global body budget was full */
  atomic_ulong dropped_slow;     /* connections cut by the header deadline or body rate */
  atomic_ulong truncated;        /* match answers cut by a limit */
} vd_metrics;
extern const double vd_lat_bounds[VD_LAT_BUCKETS]; /* seconds */

/* A pool of decoders and hashers shared by request threads. */
typedef struct vd_worker {
  vouch_decoder *dec;   /* fast mode (scaled JPEG decode) */
  vouch_decoder *exact; /* full resolution (?exact=1) */
  vouch_hasher *hasher;
  struct vd_worker *next;
} vd_worker;

typedef struct vd_token {
  uint8_t hash[32]; /* SHA-256 of the token text */
  int role;
  char name[64];
  char account[160]; /* device tokens: the account they belong to */
} vd_token;

typedef struct vd_index_ref vd_index_ref;
/* Index slots: one per bank algorithm (VOUCH_ALGO_PDQ .. VOUCH_ALGO_SHA256,
 * VOUCH_ALGO_VPDQ for video frames) with --index-dir; slot 0
 * (VOUCH_ALGO_NONE) holds --index's one index. */
#define VD_NALGO 9
typedef struct vd_sync vd_sync;
typedef struct vd_jobs vd_jobs;
typedef struct vd_conn vd_conn;
typedef struct vd_request vd_request;
typedef struct vd_hma_types vd_hma_types;

typedef struct vd_server {
  /* configuration */
  const char *db_path;
  const char *index_path;
  const char *index_dir;  /* --index-dir: DIR/ALGO.vidx, one index per algorithm of the enabled banks */
  const char *listen_host;
  unsigned port;
  unsigned threads;
  size_t max_body;        /* bytes; larger bodies get 413 */
  size_t max_batch;       /* hashes per /v1/match request */
  unsigned max_inflight;  /* heavy requests queued or running; more get 429 */
  unsigned max_inflight_token; /* ... of one token */
  unsigned max_conns;     /* connections libmicrohttpd accepts at once */
  size_t body_budget;     /* bytes of request bodies buffered across all connections */
  unsigned max_radius[5]; /* per VOUCH_ALGO_*: largest ?radius= accepted */
  size_t max_matches;     /* matches listed per query */
  size_t max_matches_req; /* matches listed per request */
  double max_work_s;      /* seconds of search per /v1/match request */
  unsigned per_ip_conns;  /* connections from one address (libmicrohttpd refuses more) */
  unsigned idle_timeout;  /* seconds without a byte (libmicrohttpd) */
  double header_timeout;  /* seconds for a whole request header (conns.c) */
  size_t min_body_rate;   /* bytes/s a body must keep up after header_timeout (conns.c) */
  int access_log;         /* 1: a JSON line per request on stderr */
  int auth_required;      /* 0 only for local experiments (--no-auth) */
  const char *fetch_allow; /* hosts HMA's ?url= may fetch from (comma-separated); NULL = no fetching */
  double fetch_timeout;    /* seconds for one such fetch */
  unsigned sync_every;     /* seconds between syncs of each configured exchange; 0 = none (sync.c) */
  const char *exchange_creds; /* absolute directory of the credentials HMA's /c/exchanges/api/NAME sets; NULL = none */
  struct vd_sync *sync;
  /* state */
  struct MHD_Daemon *mhd;
  atomic_uint inflight;
  atomic_uint conns;
  atomic_size_t buffered; /* body bytes reserved by requests in progress */
  atomic_uint inflight_light, inflight_heavy; /* by queue; s->inflight is their sum */
  atomic_int stopping;
  atomic_uint tok_inflight[256]; /* per token, by the first byte of its SHA-256 (a shared bucket only
                                    makes the limit stricter) */
  vd_jobs *jobs;
  pthread_mutex_t conns_mu;
  vd_conn *conn_list;
  pthread_t watchdog_th;
  atomic_int watchdog_stop;
  vd_metrics metrics;
  pthread_mutex_t pool_mu;
  vd_worker *pool;
  pthread_rwlock_t tokens_lock;
  vd_token *tokens;
  size_t ntokens;
  double started;
  pthread_mutex_t index_mu;
  vd_index_ref *index[VD_NALGO]; /* by bank algorithm with --index-dir; [0] is --index's */
  pthread_mutex_t rebuild_mu;    /* one index rebuild at a time (index_dir.c) */
  atomic_ulong index_entries;
  atomic_ulong index_heap_bytes; /* search tables of the loaded index */
  /* private matching (optional: --psi-key and --public) */
  const char *psi_key_path;
  const char *public_path;
  vouch_psi_server_key *psi_key;
  uint8_t *public_data;
  size_t public_len;
  char public_root_hex[65];
  /* replica following a PostgreSQL database (replica.c) */
  int following;
  pthread_t follow_th;
  atomic_int follow_stop;
  atomic_llong index_seq; /* change counter the loaded index holds (-1: none yet) */
  atomic_llong db_seq;    /* the database's, last seen */
  struct vd_follower *fol[VD_NALGO]; /* snapshot + delta state of a PostgreSQL replica, per index slot (replica.c) */
  pthread_mutex_t fol_mu;   /* guards fol[] against /status while followers come and go */
  const char *snapshot_dir; /* --snapshot-dir: shared directory of snapshots by Merkle root */
  size_t delta_max;         /* --delta-max: delta entries before a new snapshot is built */
  unsigned serve;         /* --roles: VD_SERVE_* bits */
  vd_hma_types *hma_types; /* HMA's signal type settings and cached entry counts (routes_hma_types.c) */
} vd_server;

/* Per-request state, allocated on the first call of the access handler. */
struct vd_request {
  char *body;
  size_t len, cap;
  size_t reserved; /* bytes of s->body_budget this request holds */
  size_t declared; /* Content-Length, or SIZE_MAX when chunked/absent */
  double start;
  int route;
  int role;
  unsigned tok_bucket;      /* index into s->tok_inflight */
  atomic_uint *tok_counter; /* the counter a queued job holds, or NULL */
  atomic_uint *lane_counter; /* s->inflight_light or s->inflight_heavy */
  char account[160]; /* device tokens: the account the token is bound to */
  /* a job (jobs.c): set when queued; the worker leaves its answer in resp */
  int queued, job_done;
  struct MHD_Connection *conn;
  const char *url, *method;
  struct MHD_Response *resp;
  unsigned resp_status;
  vd_request *next;
};

/* http.c */
enum MHD_Result vd_handler(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **con_cls);
void vd_request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                     enum MHD_RequestTerminationCode toe);
enum MHD_Result vd_dispatch(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                            vd_request *r);
/* While a worker runs a route, the responses it sends land in r instead. */
void vd_capture_begin(vd_request *r);
void vd_capture_end(void);
vd_request *vd_capture_current(void); /* the request being captured, or NULL */

/* jobs.c */
int vd_jobs_start(vd_server *s);
void vd_jobs_stop(vd_server *s);
/* Queues r (on the light queue if `light`) and suspends conn; -1 (nothing
 * done) when --max-inflight or the token's share is full. */
int vd_jobs_submit(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                   vd_request *r, int light);

/* conns.c: per-connection deadlines */
enum { VD_PHASE_HEADER, VD_PHASE_BODY, VD_PHASE_BUSY };
void vd_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe);
void vd_conn_phase(struct MHD_Connection *conn, int phase);
void vd_conn_bytes(struct MHD_Connection *conn, size_t n);
int vd_watchdog_start(vd_server *s);
/* replica.c: --roles (route families served; health, metrics and status always are) */
#define VD_SERVE_HASH 1u
#define VD_SERVE_MATCH 2u
#define VD_SERVE_CURATE 4u
#define VD_SERVE_VOUCHERS 8u
#define VD_SERVE_ALL 15u
int vd_roles_parse(const char *spec, unsigned *out);
int vd_route_served(const vd_server *s, int route, const char *url);
/* replica.c: follow a PostgreSQL database's changes, rebuilding --index */
int vd_follow_start(vd_server *s);
void vd_follow_stop(vd_server *s);
/* The follower's state as JSON members (no braces) into out; returns the length snprintf gives. */
int vd_follow_status(vd_server *s, char *out, size_t cap);
/* replica.c: is --db a postgresql:// URI; a file's modification time (0 or -1);
 * is --index missing, or older than the SQLite --db or its WAL (what /status
 * calls stale and --follow rebuilds after)? */
int vd_db_is_pg(const char *db_path);
int vd_mtime(const char *path, struct timespec *t);
int vd_index_outdated(const vd_server *s);
/* The later modification time of a SQLite bank file and its WAL (0 when neither is there). */
void vd_db_mtime(const vd_server *s, struct timespec *t);
void vd_watchdog_stop(vd_server *s);
enum MHD_Result vd_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp);
enum MHD_Result vd_send_json(struct MHD_Connection *conn, unsigned status, json_t *body);
enum MHD_Result vd_send_error(struct MHD_Connection *conn, unsigned status, const char *code,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* HMA's error body, {"message": TEXT} (routes_hma.c) */
enum MHD_Result vd_send_message(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
double vd_now(void);

/* store.c: tokens (hashed at rest) in the service database */
int vd_store_init(const char *db_path, char *err, size_t errcap);
int vd_tokens_load(vd_server *s, char *err, size_t errcap);
/* The SHA-256 of the token of an "Authorization: Bearer TOKEN" value
 * (8..256 characters); -1 for any other value. */
int vd_bearer_hash(const char *header, uint8_t h[32]);
/* -> role, VD_ROLE_NONE if unknown; a device token's account is copied to account[160] */
int vd_token_check(vd_server *s, const char *header_value, char *account, unsigned *bucket);
int vd_cmd_token(int argc, char **argv);

/* routes_match.c: the reference-counted indexes */
/* The default index: --index's, or with --index-dir the pdq one (else the
 * first loaded); NULL when none.  Release it with vd_index_release(). */
vd_index_ref *vd_index_acquire(vd_server *s);
/* The index that serves bank algorithm `algo` (VOUCH_ALGO_VPDQ: video
 * frames): with --index-dir that algorithm's (NULL when not loaded); with
 * --index the one index whatever its algorithm (the caller checks it). */
vd_index_ref *vd_index_for(vd_server *s, int algo);
void vd_index_release(vd_index_ref *r);
vouch_index *vd_index_handle(vd_index_ref *r);
/* Is the index one of video frames (all its banks vpdq banks in --db, or
 * the vpdq slot of --index-dir)?  Judged when it is loaded; 0 without an index. */
int vd_index_is_video(const vd_index_ref *r);
/* (Re)loads --index, or every DIR/ALGO.vidx of --index-dir (slots whose file is gone are dropped). */
int vd_index_reload(vd_server *s, char *err, size_t errcap);
/* Opens the index file `path` into slot `algo` (0: --index's). */
int vd_index_load(vd_server *s, int algo, const char *path, char *err, size_t errcap);
/* Publishes an opened index in slot `algo` (0: --index's; snapshot + delta: replica.c); takes `idx`
 * (freed on failure).  With same_banks (a new delta over the served index's snapshot), the bank radii
 * are those of the served index. */
int vd_index_install(vd_server *s, int algo, vouch_index *idx, int same_banks, char *err, size_t errcap);
void vd_index_drop(vd_server *s);              /* every slot */
void vd_index_drop_slot(vd_server *s, int algo); /* one slot */
/* "indexes":{"pdq":{"entries":N,"root":HEX,"video":false},...} (no braces around) into out; snprintf's length. */
int vd_index_status(vd_server *s, char *out, size_t cap);
/* /metrics lines: each loaded index's entries by algorithm; like snprintf. */
int vd_index_metrics(vd_server *s, char *out, size_t cap);

/* index_dir.c: building the indexes from the banks */
/* Is an index configured (--index or --index-dir)? */
int vd_index_configured(const vd_server *s);
/* The file of slot `algo`: --index, or DIR/ALGO.vidx; -1 when it does not fit. */
int vd_index_file(const vd_server *s, int algo, char *out, size_t cap);
typedef struct {
  int algo; /* slot: VOUCH_ALGO_NONE for --index */
  size_t count;
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
} vd_built;
/* Rebuilds --index from `names` (all enabled banks when nn == 0), or every
 * DIR/ALGO.vidx of --index-dir from the enabled banks of each algorithm
 * (files of algorithms no enabled bank has any more are removed), and loads
 * each into its slot; the files get the modification time *stamp (may be
 * NULL).  out[VD_NALGO] and *nout receive what was built.  Returns
 * VOUCH_OK; a library error, explained by vouch_bank_errmsg(db) (or err);
 * or 1 when an index was written but could not be loaded (err says why). */
int vd_index_rebuild(vd_server *s, vouch_bank *db, const char *const *names, size_t nn, const struct timespec *stamp,
                     vd_built *out, size_t *nout, char *err, size_t errcap);
enum MHD_Result vd_route_match(vd_server *s, struct MHD_Connection *conn, vd_request *r);

/* routes_bank.c */
enum MHD_Result vd_route_banks(vd_server *s, struct MHD_Connection *conn, const char *url,
                               const char *method, vd_request *r);
enum MHD_Result vd_route_index(vd_server *s, struct MHD_Connection *conn, const char *url,
                               const char *method, vd_request *r);

/* routes_psi.c */
int vd_psi_load(vd_server *s, char *err, size_t errcap);
void vd_psi_free(vd_server *s);
enum MHD_Result vd_route_vouchers(vd_server *s, struct MHD_Connection *conn, vd_request *r);
enum MHD_Result vd_route_account(vd_server *s, struct MHD_Connection *conn, const char *url, vd_request *r);
/* 503 busy_database when SQLite reports the database locked, else 500 database */
enum MHD_Result vd_db_error(struct MHD_Connection *conn, vouch_bank *db, int rc, const char *what);
enum MHD_Result vd_route_public(vd_server *s, struct MHD_Connection *conn);

/* routes_review.c: the review console (docs/review.md) */
int vd_review_route(const char *url);        /* VD_R_REVIEW, VD_R_REVIEW_PAGE or -1 */
int vd_review_role(const char *url, const char *method); /* least role a review route needs */
/* "Bearer TOKEN" of a reviewer: VD_ROLE_REVIEWER and its name in name[160], else VD_ROLE_NONE */
int vd_review_token_check(vd_server *s, const char *header, char *name, unsigned *bucket);
enum MHD_Result vd_route_review(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                                vd_request *r);
enum MHD_Result vd_route_review_page(struct MHD_Connection *conn, const char *url, const char *method);
int vd_cmd_reviewer(int argc, char **argv); /* vouchd reviewer create|list|revoke */
/* Annotating an account's opened payloads: second-hash verdict and matched
 * entry into a match object, and the payload queued for review. */
typedef struct vd_review_ctx vd_review_ctx;
vd_review_ctx *vd_review_ctx_new(vd_server *s); /* NULL-safe below when out of memory */
void vd_review_payload(vd_review_ctx *c, const char *account, const vouch_psi_payload *pl, json_t *match);
void vd_review_ctx_summary(vd_review_ctx *c, json_t *status); /* "second_hash": {pass, fail, unknown} */
void vd_review_ctx_free(vd_review_ctx *c);
/* After vouchers were stored: if the account is past its threshold, queue
 * its matches (by computing its status, vd_route_account(), whose answer is
 * dropped).  Called from a route run by a worker (jobs.c). */
void vd_review_feed(vd_server *s, const char *account);

/* routes */
vouch_decoder *vd_worker_decoder(vd_worker *w, int exact);
/* Hashes an encoded image (a request body) with worker w, streaming a JPEG in
 * exact mode (vouch_hash_encoded()); counts it in the metrics on success.
 * The decoder's detail stays in vd_worker_decoder(w, exact) until w is put back. */
int vd_hash_body(vd_server *s, vd_worker *w, int exact, const void *body, size_t len, int algo, unsigned flags,
                 uint8_t *out, size_t cap, int *quality, uint32_t *width, uint32_t *height);
enum MHD_Result vd_image_error(struct MHD_Connection *conn, int rc, const char *detail);
vd_worker *vd_worker_get(vd_server *s);
void vd_worker_put(vd_server *s, vd_worker *w);
void vd_worker_free(vd_worker *w);
enum MHD_Result vd_route_hash(vd_server *s, struct MHD_Connection *conn, vd_request *r);
enum MHD_Result vd_route_metrics(vd_server *s, struct MHD_Connection *conn);

/* fetch.c: media for HMA's ?url= (libcurl), only from --fetch-allow hosts */
typedef struct {
  char *data;
  size_t len, cap;
  char content_type[128]; /* the answer's Content-Type, "" if none */
} vd_fetched;
int vd_fetch_init(void);
/* Appends n bytes at p to a buffer growing up to `limit` bytes: 0, -1 when
 * it would pass the limit, -2 out of memory (nothing appended then). */
int vd_buf_append(char **data, size_t *len, size_t *cap, size_t limit, const char *p, size_t n);
void vd_fetch_cleanup(void);
/* 0 with out->data (caller frees) filled; else the HTTP status to answer
 * with and a message in err. */
unsigned vd_fetch(const vd_server *s, const char *url, vd_fetched *out, char *err, size_t errcap);
/* vd_fetch()'s check of a URL without fetching it, also refusing a
 * user:password in it: 0 or an HTTP status with err set. */
unsigned vd_fetch_url_check(const vd_server *s, const char *url, char *err, size_t errcap);

/* sync.c: scheduled exchange syncs (--sync-every) and GET/POST /v1/exchanges */
int vd_sync_start(vd_server *s); /* no thread without --sync-every; -1 if it cannot start */
void vd_sync_stop(vd_server *s); /* cancels a sync in progress and joins the thread */
enum MHD_Result vd_route_exchanges(vd_server *s, struct MHD_Connection *conn, const char *url,
                                   const char *method);
/* One exchange's sync as the sync thread last saw it (HMA's fetch status). */
typedef struct {
  int running;          /* a sync of it is in progress */
  int64_t running_since; /* Unix seconds, when running */
  unsigned long runs;   /* syncs finished since vouchd started */
  int last_ok;          /* the last one succeeded (runs > 0) */
  int64_t last_end;     /* Unix seconds it ended, 0 = never */
} vd_sync_state;
/* 0 with *out filled when the sync thread knows exchange `name`; -1 when it
 * does not (no --sync-every, or not seen yet). */
int vd_sync_state_of(vd_server *s, const char *name, vd_sync_state *out);
/* Wakes the sync thread to re-read the configured exchanges (a new one is
 * synced at once); a no-op without --sync-every. */
void vd_sync_poke(vd_server *s);

/* routes_hma_exchange.c: HMA's exchange routes (/c/exchanges..., /c/exchange/...);
 * path is the part after "/c/". */
int vd_hma_exchange_path(const char *path);
enum MHD_Result vd_route_hma_exchange(vd_server *s, struct MHD_Connection *conn, const char *path, const char *method,
                                      vd_request *r);

/* routes_hma_types.c: HMA's /c/signal_type routes, and what the HMA routes
 * read of the signal type settings and entry counts (cached per server) */
int vd_hma_types_start(vd_server *s); /* -1 when out of memory */
void vd_hma_types_stop(vd_server *s);
int vd_hma_types_path(const char *path); /* "signal_type" or "signal_type/NAME" (not .../index) */
enum MHD_Result vd_route_hma_types(vd_server *s, struct MHD_Connection *conn, const char *path, const char *method,
                                   vd_request *r);
/* 1 when HMA signal type of algorithm `algo` is on (its enabled_ratio > 0; cached up to 1 s) */
int vd_hma_type_on(vd_server *s, int algo);
/* 1 with *ret answered (400) for a lookup or comparison of a type that is off */
int vd_hma_types_gate(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                      const vd_request *r, enum MHD_Result *ret);
/* counts[algo]: enabled entries of enabled banks (vouch_bank_enabled_counts()),
 * counted again only when the database's data version changed; VOUCH_OK or an error */
int vd_hma_db_counts(vd_server *s, uint64_t counts[VOUCH_BANK_ALGO_SLOTS]);

/* routes_hma.c: HMA 2.x's routes (/status, /m/, /h/, /c/) */
int vd_hma_route(const char *url);                     /* 1 if url is one of them */
int vd_hma_health(const char *url);                    /* 1 for /status, /readyz, /livez (cheap, open) */
int vd_hma_role(const char *url, const char *method);  /* least role it needs */
enum MHD_Result vd_hma_status(vd_server *s, struct MHD_Connection *conn, const char *url);
enum MHD_Result vd_route_hma(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                             vd_request *r);

/* routes_video.c: POST /v1/hash with algo=vpdq (a video body) or md5|sha1|sha256 (any body). */
int vd_is_video_algo(const char *algo);
enum MHD_Result vd_route_hash_video(vd_server *s, struct MHD_Connection *conn, vd_request *r, const char *algo);
/* The vPDQ of a video in memory, under vouchd's per-request limits (query
 * seconds_per_hash overrides `seconds`, downsample); -1 with *sent answered. */
int vd_video_vpdq(struct MHD_Connection *conn, const void *data, size_t len, double seconds, vouch_vpdq *h,
                  enum MHD_Result *sent);
/* routes_video.c: POST /v1/match?algo=vpdq (a video body, or a vPDQ list in text or JSON form). */
enum MHD_Result vd_route_match_video(vd_server *s, struct MHD_Connection *conn, vd_request *r);
/* routes_match.c: the loaded index's entries grouped by video (made once per index). */
int vd_index_video_db(vd_index_ref *r, vouch_vpdq_db **out);
#endif
