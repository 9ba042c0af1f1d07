/*
 * vouch/exchange.h -- pulling a hash exchange into a bank (`vouch bank sync`).
 *
 * A sync fetches an exchange's pages over HTTP(S) with libcurl, from where the
 * previous sync of the same (bank, source) stopped, and imports each page
 * with vouch_bank_import() (docs/exchanges.md): one transaction per page,
 * which also stores the page's checkpoint and next page.  So an interrupted
 * sync loses nothing it committed and the next one resumes at the page that
 * failed, never applying a page twice or skipping one.  Deleted and withdrawn
 * entries disable (tombstone) entries as in an import.
 *
 * Exchanges and their paging:
 *   NCMEC     GET URL/v2/entries?from=CHECKPOINT, then the page's paging/next
 *             (a path on the same host); HTTP basic authentication.
 *   StopNCII  GET URL/FetchHashes?startTimestamp=CHECKPOINT&pageSize=N, then
 *             &nextPageToken=NEXT while hasMoreRecords; two key headers.
 *   TAT       GET URL[?after=CHECKPOINT], then the page's "next" URL (which
 *             must be on URL's scheme, host and port); a bearer token.
 *   TE        GET URL/threat_updates/?limit=N&start_time=CHECKPOINT&fields=...
 *             (URL: the Graph API's https://graph.facebook.com/vNN.N/PRIVACY_GROUP),
 *             then paging.next (same origin; its access_token parameter is
 *             dropped, the token goes in an Authorization: Bearer header).
 * Secrets come in as header lines, a user:password or a TAT login the caller
 * read (vouch_exchange_creds_read(), say); the library never stores, prints
 * or logs them, and wipes its copies of the login and the token it gets.
 *
 * Errors name the page: a page that stays unavailable after the retries, a
 * malformed page, a page whose next page is itself or the one before
 * (paging stalls), one that says more follow but names none, or a next URL
 * on another host: the sync stops there with an error, never skipping.
 */
#ifndef VOUCH_EXCHANGE_H
#define VOUCH_EXCHANGE_H

#include "common.h"
#include "errors.h"
#include "bank.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_EXCHANGE_PAGE_MAX (256U << 20) /* bytes in one page */
#define VOUCH_EXCHANGE_ERRMSG_MAX 512U

/* The `file` exchange: `url` is a local file or directory (or file://PATH),
 * whose files are imported as `vouch bank import` would, each one once: a
 * sync imports the files changed since the last (by modification time, then
 * name), oldest first, and stores the last one's position as the
 * checkpoint.  Not a list format: the files' formats are detected. */
#define VOUCH_EXCHANGE_FILE 64

/*! vouch_exchange_type_from_name() : the exchange type named "ncmec",
 *  "stopncii", "tat", "te" (ThreatExchange's /threat_updates) or "file": the
 *  list format of its pages (VOUCH_LIST_NCMEC, _STOPNCII, _TAT, _TE_UPDATES)
 *  or VOUCH_EXCHANGE_FILE; -1 for another name. */
VOUCH_API int vouch_exchange_type_from_name(const char *name);
/*! vouch_exchange_type_name() : the name of an exchange type, "unknown" if none. */
VOUCH_API const char *vouch_exchange_type_name(int type);

typedef struct vouch_exchange_opts {
  int type;                   /* VOUCH_LIST_NCMEC, _STOPNCII, _TAT, _TE_UPDATES or VOUCH_EXCHANGE_FILE */
  const char *url;            /* the exchange's base URL (see above) */
  const char *source;         /* source of the entries and key of the checkpoint;
                                 NULL: "ncmec", "stopncii" or "tat" */
  const char *const *headers; /* extra request header lines ("Name: value"), e.g. keys */
  size_t nheaders;
  const char *userpwd;        /* "user:password" for HTTP basic authentication, or NULL */
  unsigned page_size;         /* StopNCII pageSize; 0 = 800 */
  unsigned max_pages;         /* stop with VOUCH_E_LIMIT after this many; 0 = 100000 */
  unsigned retries;           /* further tries of a page after a 429, a 5xx or a
                                 transport error; 0 = none */
  unsigned retry_delay_ms;    /* the first wait between tries (doubled each time) */
  long timeout_ms;            /* per request; 0 = 60000 */
  int min_quality;            /* as vouch_list_opts.min_quality */
  vouch_list_error_cb error;  /* malformed records (line = record number), may be NULL */
  void *error_ctx;
  int64_t now;                /* time to record; 0 = time(NULL) */
  /* Polled between pages, while waiting to retry and during transfers: a
   * non-zero answer stops the sync (VOUCH_E_IO, "cancelled"); what was
   * committed stays.  May be NULL.  Lets a service stop a sync at shutdown. */
  int (*cancel)(void *ctx);
  void *cancel_ctx;
  /* TAT: a login exchanged for a bearer token before the first page (POST
   * ORIGIN/token-auth/tcap/ with username and password; the answer's
   * "token").  Both or neither; other types ignore them. */
  const char *login_user;
  const char *login_password;
} vouch_exchange_opts;

typedef struct vouch_exchange_stats {
  size_t pages;               /* pages fetched and imported */
  size_t requests;            /* HTTP requests made (retries included) */
  vouch_import_stats total;   /* the pages' import counts added up (format: the type) */
  vouch_list_page last;       /* the last page's paging state */
  char errmsg[VOUCH_EXCHANGE_ERRMSG_MAX]; /* why it stopped, naming the page ("" if ok) */
} vouch_exchange_stats;

/*! vouch_exchange_sync() :
 *  Pulls the exchange described by `o` into bank `name` of `db`, from the
 *  checkpoint stored for (name, source) (vouch_bank_checkpoint()), until a
 *  page says it is the last.  `st` (required) receives the counts and, on
 *  failure, a message naming the page.
 * @return : VOUCH_OK; VOUCH_E_IO (HTTP or transport failure after retries,
 *           a next URL on another host, paging that stalls); VOUCH_E_HASH_PARSE
 *           (a malformed page); VOUCH_E_LIMIT (max_pages, or a page over
 *           VOUCH_EXCHANGE_PAGE_MAX); VOUCH_E_INVALID; VOUCH_E_NOMEM; or a
 *           vouch_bank_import() code. */
VOUCH_API int vouch_exchange_sync(vouch_bank *db, const char *name, const vouch_exchange_opts *o,
                                  vouch_exchange_stats *st);

/* ---------------------------------------------------------------- credentials */

/* The secrets of one exchange, read from a file of KEY=VALUE lines ('#'
 * starts a comment line), by type:
 *   ncmec     user=, password=            (HTTP basic authentication)
 *   stopncii  subscription_key=, fetch_function_key=   (two key headers)
 *   tat       token=                      (Authorization: Bearer)
 *   any type  header=Name: value          (sent as it is)
 * The handle keeps them in memory that is wiped when it is freed. */
typedef struct vouch_exchange_creds vouch_exchange_creds;
#define VOUCH_EXCHANGE_CREDS_FILE_MAX (64U << 10) /* bytes in a credentials file */
#define VOUCH_EXCHANGE_CREDS_HEADERS_MAX 16U      /* header lines it may give */

/*! vouch_exchange_creds_read() :
 *  Reads the credentials file `path` for an exchange of `type`.  A file that
 *  its group or others may read (mode & 077) is refused before its contents
 *  are read, and so is a key the type does not take.  `err` (may be NULL)
 *  receives why it failed; it never holds a secret.
 * @return : VOUCH_OK with *out set (free it with vouch_exchange_creds_free());
 *           VOUCH_E_IO (cannot open or read, or readable by others);
 *           VOUCH_E_INVALID (a malformed line, an unknown key, user= without
 *           password=); VOUCH_E_LIMIT (over VOUCH_EXCHANGE_CREDS_FILE_MAX, or
 *           more header lines than VOUCH_EXCHANGE_CREDS_HEADERS_MAX); VOUCH_E_NOMEM. */
VOUCH_API int vouch_exchange_creds_read(vouch_exchange_creds **out, const char *path, int type, char *err,
                                        size_t errcap);
/*! vouch_exchange_creds_apply() : points o->headers, o->nheaders,
 *  o->userpwd, o->login_user and o->login_password at the secrets of `c`,
 *  which must outlive the sync. */
VOUCH_API void vouch_exchange_creds_apply(const vouch_exchange_creds *c, vouch_exchange_opts *o);
/*! vouch_exchange_creds_free() : wipes and frees; NULL is a no-op. */
VOUCH_API void vouch_exchange_creds_free(vouch_exchange_creds *c);

/* ---------------------------------------------------------------- configured exchanges */

/* An exchange configured in the bank file (`vouch exchange add`): what to
 * pull into which bank.  The credentials are a path to a file the program
 * reads at sync time; the secret itself is never stored. */
typedef struct vouch_exchange_config {
  const char *name;        /* 1..128 of A-Z a-z 0-9 . _ - : @ */
  int type;                /* VOUCH_LIST_NCMEC, _STOPNCII or _TAT */
  const char *url;
  const char *bank;        /* the bank it fills (must exist, deleted with it) */
  const char *source;      /* NULL: the type's name */
  const char *credentials; /* a file path, or NULL */
  int64_t created_at;      /* set by vouch_exchange_config_add() */
  int disabled;            /* 1: not synced by `vouch exchange sync` or vouchd
                              (vouch_exchange_config_set_enabled()); 0 (the
                              zero value) for an enabled one */
} vouch_exchange_config;

/*! vouch_exchange_config_add() : stores `c` (created_at = now), disabled
 *  when c->disabled.
 * @return : VOUCH_OK, VOUCH_E_EXISTS, VOUCH_E_NOT_FOUND (no such bank),
 *           VOUCH_E_INVALID, VOUCH_E_DB, VOUCH_E_DB_VERSION (a read-only old file). */
VOUCH_API int vouch_exchange_config_add(vouch_bank *db, const vouch_exchange_config *c);
/*! vouch_exchange_config_remove() : VOUCH_OK or VOUCH_E_NOT_FOUND (or VOUCH_E_DB). */
VOUCH_API int vouch_exchange_config_remove(vouch_bank *db, const char *name);
/*! vouch_exchange_config_set_enabled() : enables or disables the configured
 *  exchange `name` (HMA's exchange "enabled"): programs that sync the
 *  configured exchanges skip a disabled one; its bank, entries and
 *  checkpoint stay.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_INVALID, VOUCH_E_DB_VERSION
 *           (a file before bank schema 5 opened read-only), VOUCH_E_DB. */
VOUCH_API int vouch_exchange_config_set_enabled(vouch_bank *db, const char *name, int enabled);
typedef int (*vouch_exchange_config_cb)(void *ctx, const vouch_exchange_config *c);
/*! vouch_exchange_configs() : calls `cb` for each configured exchange (by
 *  name), or for the one named `name` (VOUCH_E_NOT_FOUND if absent).
 *  Pointers are valid during the callback only. */
VOUCH_API int vouch_exchange_configs(vouch_bank *db, const char *name, vouch_exchange_config_cb cb, void *ctx);

/*! vouch_exchange_sync_config() :
 *  vouch_exchange_sync() of a configured exchange: `base` (may be NULL) gives
 *  the sync options (retries, timeouts, error callback, cancel, ...), and `c`
 *  the type, URL, bank and source.  Its credentials file, if any, is read
 *  with vouch_exchange_creds_read() and wiped after the sync; a file that
 *  cannot be used fails the sync before any request, with the reason in
 *  st->errmsg.
 * @return : as vouch_exchange_sync(), or a vouch_exchange_creds_read() code. */
VOUCH_API int vouch_exchange_sync_config(vouch_bank *db, const vouch_exchange_config *c,
                                         const vouch_exchange_opts *base, vouch_exchange_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_EXCHANGE_H */
