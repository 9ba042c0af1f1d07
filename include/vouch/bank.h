/*
 * vouch/bank.h -- hash banks: named lists of hashes with provenance, stored
 * in one SQLite file (WAL journal, foreign keys on) or in a PostgreSQL
 * database (a postgresql:// URI wherever a bank path is taken), and the
 * parser for the hash-list formats we import.
 *
 * A bank is a named list of hashes of one algorithm.  Each entry has the hash
 * (unique within its bank), the sources that supplied it (a duplicate import
 * adds its source to the entry instead of adding an entry), an external id,
 * free tags, an added-at time (Unix seconds) and an enabled flag; a whole
 * bank can be disabled too.  Only enabled entries of enabled banks go into
 * an index (vouch_bank_build_index()).
 *
 * The bank file is untrusted input like any other: a file that is not ours,
 * has another schema version, or holds hashes of the wrong size is reported
 * as VOUCH_E_DB_CORRUPT / VOUCH_E_DB_VERSION, never trusted.
 */
#ifndef VOUCH_BANK_H
#define VOUCH_BANK_H

#include "common.h"
#include "errors.h"
#include "hash.h"
#include "merkle.h"
#include "audit.h"
#include "video.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2 adds the signed source lists, 3 the exchange checkpoints and tombstones
 * and the frames of videos (banks of algorithm vpdq), 4 the entries' second
 * hashes (vouch_derivative_hash(), supplied by the sources), 5 the signal
 * types' settings and the exchanges' enabled flag (vouch/bank_config.h); an
 * older file is migrated when opened for writing and read as is (with no
 * signed lists, checkpoints, tombstones, videos, second hashes or settings)
 * when opened read-only. */
#define VOUCH_BANK_SCHEMA_VERSION 5
#define VOUCH_BANK_NAME_MAX 128U     /* bytes in a bank name */
#define VOUCH_LIST_FIELD_MAX 4096U   /* bytes in an id, source or tags field */
#define VOUCH_LIST_LINE_MAX 65536U   /* bytes in one line of a hash list */

/* ---------------------------------------------------------------- list parser */

typedef enum vouch_list_format {
  VOUCH_LIST_AUTO = 0,  /* detect from the content (docs/exchanges.md) */
  VOUCH_LIST_HEX = 1,   /* one hex hash per line, optionally followed by an id */
  VOUCH_LIST_CSV = 2,   /* comma-separated, RFC 4180 quoting, header line; with a
                           signal_type column (tx dataset --csv) rows are filtered */
  VOUCH_LIST_TSV = 3,   /* tab-separated, header line */
  VOUCH_LIST_JSONL = 4, /* one JSON object per line: "hash", optional "id"/"path", "source", "tags" */
  VOUCH_LIST_TX = 5,    /* python-threatexchange lines (tx hash, local_file collabs):
                           "<signal_type> <signal>", "<ROTATION> <signal_type> <signal>"
                           or a bare signal */
  VOUCH_LIST_TE_STATE = 6, /* ThreatExchange state file simple.<TYPE>.te: header-less CSV
                              "indicator,first_descriptor_id,added_on,labels" (or with the
                              indicator id first) */
  VOUCH_LIST_NCMEC = 7,    /* NCMEC hash-sharing v2 XML page (queryResult) */
  VOUCH_LIST_STOPNCII = 8, /* StopNCII FetchHashes JSON page (hashRecords) */
  VOUCH_LIST_TAT = 9,      /* Tech Against Terrorism hash-list JSON page (results) */
  VOUCH_LIST_TE_UPDATES = 10 /* ThreatExchange /threat_updates JSON page (data, paging) */
} vouch_list_format;
#define VOUCH_LIST_FORMAT_LAST VOUCH_LIST_TE_UPDATES
/*! vouch_list_format_name() : "auto", "hex", "csv", "tsv", "jsonl", "tx", "te",
 *  "ncmec", "stopncii", "tat", "te-updates" ("unknown" for anything else). */
VOUCH_API const char *vouch_list_format_name(int format);
/*! vouch_list_format_from_name() : the format for one of those names, or -1. */
VOUCH_API int vouch_list_format_from_name(const char *name);

/*! vouch_utf8_valid() : 1 if `len` bytes at `s` are well-formed UTF-8 (RFC 3629:
 *  no overlong forms, surrogates or code points past U+10FFFF), else 0.  The
 *  list parser refuses a row whose id, source, tags or signal type is not
 *  (a numbered error), so what a bank holds is valid in JSON and CSV. */
VOUCH_API int vouch_utf8_valid(const char *s, size_t len);

/*! vouch_list_detect() :
 *  The exchange page format of `len` bytes (VOUCH_LIST_NCMEC, _STOPNCII,
 *  _TAT, _TE_UPDATES), or VOUCH_LIST_AUTO when they are a line format (the parser picks
 *  which from the first line).  Programs use it to name a page's default
 *  source after its exchange. */
VOUCH_API int vouch_list_detect(const char *data, size_t len);

/*! vouch_signal_type_algo() :
 *  Maps a signal type as the exchanges name it (python-threatexchange "pdq",
 *  "video_md5"; ThreatExchange "HASH_PDQ"; StopNCII "ImagePDQ"; TAT "PDQ";
 *  NCMEC fingerprint "pdq", "md5"; vouch's own algorithm names; any case) to
 *  the vouch algorithm hashing it ("video_md5" and "md5" are VOUCH_ALGO_MD5,
 *  "vpdq" VOUCH_ALGO_VPDQ).
 * @return : a VOUCH_ALGO_*; VOUCH_ALGO_NONE for a known signal type that this
 *           build does not hash (rows of it are skipped, not errors); -1 for a
 *           name that is no signal type we know. */
VOUCH_API int vouch_signal_type_algo(const char *name, size_t len);

/* PDQ rows whose list gives a quality below this are skipped by default
 * (python-threatexchange's floor). */
#define VOUCH_PDQ_MIN_QUALITY 50

/* What a parsed row asks for. */
typedef enum vouch_list_kind {
  VOUCH_ITEM_ADD = 0,         /* a hash to add (hash is set) */
  VOUCH_ITEM_DELETE = 1,      /* the exchange deleted or withdrew it: hash, or only
                                 ext_id (+ source) when the exchange names the entry */
  VOUCH_ITEM_SKIP = 2,        /* a row of another signal type (hash is NULL) */
  VOUCH_ITEM_LOW_QUALITY = 3  /* quality below the floor (hash is set) */
} vouch_list_kind;

/* One parsed line.  Pointers are valid during the callback only; strings are
 * NUL-terminated and NULL when absent. */
typedef struct vouch_list_item {
  size_t line;          /* 1-based line number (JSON pages: the record's number) */
  const uint8_t *hash;  /* vouch_algo_bytes(algo) bytes; NULL for SKIP and id-only DELETE */
  const char *ext_id;
  const char *source;
  const char *tags;     /* ','-joined; an exchange's category comes first as "category:X" */
  int kind;             /* vouch_list_kind */
  const char *signal_type; /* the row's signal type as the list names it, or NULL */
  int quality;          /* 0..100, or -1 when the list gives none */
  const uint8_t *second; /* VOUCH_DERIV_HASH_BYTES: the entry's second hash (the
                            "second_hash" column or field; vouch/hash.h), or NULL */
} vouch_list_item;

/* Paging state an exchange page carries (empty strings when it carries none). */
#define VOUCH_LIST_CHECKPOINT_MAX 512U
typedef struct vouch_list_page {
  char checkpoint[VOUCH_LIST_CHECKPOINT_MAX]; /* resume point for the next sync: NCMEC
                                                 maxTimestamp, StopNCII nextSetTimestamp,
                                                 TAT checkpoint */
  char next[VOUCH_LIST_CHECKPOINT_MAX];       /* the next page of this pass: NCMEC
                                                 paging/next, StopNCII nextPageToken, TAT
                                                 next ("" on the last page) */
  int has_more;                               /* 1 if the page says more follow */
  size_t records;                             /* records the page holds */
} vouch_list_page;

/* Return non-zero to stop parsing (vouch_hashlist_parse() then returns that value). */
typedef int (*vouch_list_item_cb)(void *ctx, const vouch_list_item *item);
/* A malformed line: `msg` says why.  Return non-zero to stop (strict mode). */
typedef int (*vouch_list_error_cb)(void *ctx, size_t line, const char *msg);

typedef struct vouch_list_opts {
  int algo;            /* VOUCH_ALGO_*: decides the hash length */
  int format;          /* vouch_list_format */
  const char *column;  /* CSV/TSV: the hash column's name (NULL: the usual names) */
  const char *signal_type; /* the signal type of rows that name none (a TE state
                              file's TYPE, e.g. "HASH_PDQ"); NULL: the bank's own */
  int min_quality;     /* PDQ rows with a quality below it are LOW_QUALITY items:
                          0 = VOUCH_PDQ_MIN_QUALITY, negative = no floor */
  vouch_list_page *page; /* receives an exchange page's paging state (may be NULL) */
} vouch_list_opts;

/*! vouch_hashlist_parse() :
 *  Parses `len` bytes of a hash list (UTF-8, optional BOM, LF or CRLF lines;
 *  blank lines and lines starting with '#' are skipped).  CSV/TSV need a
 *  header naming the hash column: opts->column, else one of hash, pdq,
 *  pdq_hash, signal_value, signal_str, value, phash, dhash, ahash (any case);
 *  id, source (collab), tags, category, quality and signal_type columns are
 *  picked up by their usual names, and a second_hash column (JSON lines: a
 *  "second_hash" field) gives the entry's second hash: the 512 hex digits
 *  `vouch hash --derivative` prints (vouch_derivative_hash(), version
 *  VOUCH_DERIV_HASH_VERSION), empty for none.  A CSV/TSV without a header whose first
 *  field is a hash is read as hash[,id].  The exchange formats (tx lines, TE
 *  state files, NCMEC XML, StopNCII, TAT and ThreatExchange JSON pages) are described in
 *  docs/exchanges.md.  Calls `item` for each row (its kind says whether it
 *  adds, deletes, is of another signal type or below the quality floor) and
 *  `error` (may be NULL) for each malformed one.  `format_out` (may be NULL)
 *  receives the format used.
 * @return : VOUCH_OK; VOUCH_E_HASH_PARSE if the header names no hash column,
 *           an XML/JSON page is malformed as a whole, or `error` asked to stop;
 *           VOUCH_E_INVALID for bad options; VOUCH_E_NOMEM; or the non-zero
 *           value `item` returned. */
VOUCH_API int vouch_hashlist_parse(const char *data, size_t len, const vouch_list_opts *opts,
                                   vouch_list_item_cb item, vouch_list_error_cb error, void *ctx,
                                   int *format_out);

/* ---------------------------------------------------------------- banks */

/* An open bank file.  A handle is used by one thread at a time; several
 * handles (threads or processes) may open the same file: SQLite's WAL lets
 * readers run during an import, and writers wait up to 5 s for each other. */
typedef struct vouch_bank vouch_bank;

#define VOUCH_BANK_OPEN_CREATE 1U   /* create the file if it does not exist */
#define VOUCH_BANK_OPEN_READONLY 2U

/*! vouch_bank_open() :
 *  Opens (or with VOUCH_BANK_OPEN_CREATE creates) the bank file at `path`
 *  and checks it is a vouch bank of a schema version we read.  A `path`
 *  starting with postgresql:// or postgres:// is a libpq connection URI
 *  instead: the database's vouch tables are created or migrated (versioned
 *  migrations, one transaction under an advisory lock) unless
 *  VOUCH_BANK_OPEN_READONLY, and a database of a schema version this build
 *  does not know is refused (VOUCH_E_DB_VERSION).  On most
 *  failures *out still receives a handle for vouch_bank_errmsg(); free it
 *  either way.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_DB, VOUCH_E_DB_CORRUPT,
 *           VOUCH_E_DB_VERSION, VOUCH_E_NOMEM. */
VOUCH_API int vouch_bank_open(vouch_bank **out, const char *path, unsigned flags);
VOUCH_API void vouch_bank_free(vouch_bank *db); /* NULL is a no-op */
/*! vouch_bank_errmsg() : detail of the last failure ("" if none, never NULL). */
VOUCH_API const char *vouch_bank_errmsg(const vouch_bank *db);

/*! vouch_bank_create() : a new, enabled, empty bank.  Names are 1..128 bytes
 *  of letters, digits and . _ - : @ (so they are safe in file names and CSV).
 * @return : VOUCH_OK, VOUCH_E_EXISTS, VOUCH_E_INVALID, VOUCH_E_DB. */
VOUCH_API int vouch_bank_create(vouch_bank *db, const char *name, int algo);
/*! vouch_bank_remove() : deletes a bank and all its entries. */
VOUCH_API int vouch_bank_remove(vouch_bank *db, const char *name);
/*! vouch_bank_path_redacted() : `path` as messages and logs may show it: a
 *  postgresql:// URI with its password (user:PASSWORD@ and password=...)
 *  replaced by "***"; any other path unchanged.  At most cap - 1 bytes and
 *  a NUL are written (nothing when cap is 0). */
VOUCH_API void vouch_bank_path_redacted(const char *path, char *out, size_t cap);
/*! vouch_bank_rename() : gives bank `name` the name `new_name` (the same
 *  rules as vouch_bank_create()); its entries, stored lists and configured
 *  exchanges follow it.  An index built before names the old bank until it
 *  is rebuilt.  Renaming a bank to its own name does nothing.
 * @return : VOUCH_OK, VOUCH_E_INVALID (a bad name), VOUCH_E_NOT_FOUND,
 *           VOUCH_E_EXISTS (new_name is taken), VOUCH_E_DB, VOUCH_E_DB_BUSY. */
VOUCH_API int vouch_bank_rename(vouch_bank *db, const char *name, const char *new_name);
/*! vouch_bank_set_enabled() : enables or disables a whole bank. */
VOUCH_API int vouch_bank_set_enabled(vouch_bank *db, const char *name, int enabled);

typedef enum vouch_entry_selector {
  VOUCH_SELECT_ENTRY_ID = 1, /* the entry's number in the bank file (decimal) */
  VOUCH_SELECT_EXT_ID = 2,   /* the external id given by the list */
  VOUCH_SELECT_HASH = 3      /* the hash, as hex */
} vouch_entry_selector;
/*! vouch_bank_entry_set_enabled() :
 *  Enables or disables the entries of bank `name` selected by `value`;
 *  *changed (may be NULL) receives how many matched.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND (no bank, or nothing matched),
 *           VOUCH_E_INVALID, VOUCH_E_HASH_PARSE, VOUCH_E_DB. */
VOUCH_API int vouch_bank_entry_set_enabled(vouch_bank *db, const char *name, int selector,
                                           const char *value, int enabled, size_t *changed);

/*! vouch_bank_set_radius() :
 *  Gives bank `name` its own match radius (0..bits of its algorithm; -1
 *  removes it).  Matchers that read the bank file (vouch match --db) search
 *  its entries with it instead of their default or --radius.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_INVALID, VOUCH_E_DB_VERSION, VOUCH_E_DB. */
VOUCH_API int vouch_bank_set_radius(vouch_bank *db, const char *name, int radius);
/*! vouch_bank_settings() :
 *  Bank `name`'s algorithm (vouch_bank_algo_from_name()), enabled flag and
 *  own match radius (-1 when it has none, or in a bank file of schema < 3),
 *  read from the bank's row alone: unlike vouch_bank_list() it does not
 *  count the bank's entries, so it costs the same at any bank size.  Any
 *  output pointer may be NULL.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_INVALID, VOUCH_E_DB_CORRUPT, VOUCH_E_DB. */
VOUCH_API int vouch_bank_settings(vouch_bank *db, const char *name, int *algo, int *enabled, int *radius);
/*! vouch_bank_radii() :
 *  For each bank of index `idx` (by its bank number in the index), the radius
 *  its entries are matched with: the bank's own radius in `db`, or `def`
 *  when it has none or `db` holds no bank of that name.  `out` has room for
 *  `n` >= vouch_index_bank_count(idx) values.  A program searches at the
 *  largest of them and keeps each match within its bank's value.  `nown`
 *  (may be NULL) receives how many banks have their own radius.
 * @return : VOUCH_OK or VOUCH_E_INVALID. */
struct vouch_index;
VOUCH_API int vouch_bank_radii(vouch_bank *db, const struct vouch_index *idx, unsigned def, unsigned *out,
                               size_t n, size_t *nown);

/*! vouch_bank_entry_disable_until() :
 *  Keeps the selected entries of bank `name` out of index builds until
 *  `until` (Unix seconds; 0 clears it), whatever their enabled flag: an
 *  entry under review, say.  vouch_bank_build_index() compares it with the
 *  time of the build.  *changed (may be NULL) receives how many matched.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_INVALID, VOUCH_E_HASH_PARSE,
 *           VOUCH_E_DB_VERSION (an old file opened read-only), VOUCH_E_DB. */
VOUCH_API int vouch_bank_entry_disable_until(vouch_bank *db, const char *name, int selector, const char *value,
                                             int64_t until, size_t *changed);

typedef struct vouch_bank_info {
  int64_t id;
  const char *name;
  int algo;
  int enabled;
  int64_t created_at;
  uint64_t entries;          /* all entries */
  uint64_t enabled_entries;  /* entries with the enabled flag */
  int radius;                /* the bank's own match radius, -1 when it has none */
} vouch_bank_info;
/* Return non-zero to stop. */
typedef int (*vouch_bank_info_cb)(void *ctx, const vouch_bank_info *info);
/*! vouch_bank_list() : calls `cb` for each bank (by name), or for the one
 *  named `name` when it is not NULL (VOUCH_E_NOT_FOUND if absent). */
VOUCH_API int vouch_bank_list(vouch_bank *db, const char *name, vouch_bank_info_cb cb, void *ctx);

typedef struct vouch_bank_entry {
  int64_t id;
  const uint8_t *hash;
  size_t hash_bytes;
  const char *ext_id;   /* NULL when none */
  const char *sources;  /* sorted, ','-joined; NULL when none */
  const char *tags;     /* NULL when none */
  int enabled;
  int64_t added_at;
  int64_t disabled_until; /* out of index builds until this time (Unix s); 0: not set */
  const uint8_t *second;  /* VOUCH_DERIV_HASH_BYTES: the second hash its source
                             supplied (vouch_derivative_hash()), or NULL */
} vouch_bank_entry;
typedef int (*vouch_bank_entry_cb)(void *ctx, const vouch_bank_entry *e);
/*! vouch_bank_entries() : calls `cb` for each entry of bank `name` in hash order. */
VOUCH_API int vouch_bank_entries(vouch_bank *db, const char *name, vouch_bank_entry_cb cb, void *ctx);
/*! vouch_bank_entry_get() : calls `cb` for the entry numbered `entry_id` (the
 *  `entry` an index match reports), e.g. to show its tags and category.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_DB, VOUCH_E_DB_CORRUPT, or cb's value. */
VOUCH_API int vouch_bank_entry_get(vouch_bank *db, int64_t entry_id, vouch_bank_entry_cb cb, void *ctx);

typedef struct vouch_import_opts {
  vouch_list_opts list;        /* list.algo is ignored: the bank's algorithm is used */
  const char *source;          /* source for lines that name none (may be NULL) */
  int strict;                  /* any bad line aborts the import (nothing is added) */
  vouch_list_error_cb error;   /* bad lines (may be NULL) */
  void *error_ctx;
  int64_t now;                 /* added-at time to record; 0 = time(NULL) */
} vouch_import_opts;
/* The list options an import uses: list.signal_type, list.min_quality and
 * list.page work as in vouch_hashlist_parse(). */

typedef struct vouch_import_stats {
  size_t added;    /* new entries */
  size_t merged;   /* lines whose hash was already in the bank */
  size_t bad;      /* lines skipped as malformed */
  int format;      /* the format detected */
  size_t skipped;  /* rows of another signal type */
  size_t low_quality; /* rows below the quality floor */
  size_t tombstones;  /* delete/withdraw rows recorded */
  size_t disabled;    /* entries those rows disabled */
  size_t reenabled;   /* entries an exchange had deleted and now lists again */
} vouch_import_stats;

/*! vouch_bank_import() :
 *  Imports a hash list (vouch_hashlist_parse()) into bank `name` in one
 *  transaction: either every good line is in the bank afterwards, or (on any
 *  error, strict-mode bad line, crash or kill) the bank is as before.
 *  Rows of another signal type and rows below the quality floor are counted
 *  (stats->skipped, stats->low_quality), not added.  A DELETE row (an
 *  exchange's deleted or withdrawn entry) disables the entry with that hash,
 *  or with that ext_id and source, and records a tombstone (kept in the bank
 *  file, see vouch_bank_tombstones()); a later ADD row of the same hash or
 *  entry re-enables an entry that only a tombstone had disabled (never one a
 *  user disabled).  For one hash the last row of the list wins.  When the
 *  list is an exchange page with a checkpoint, the checkpoint is stored for
 *  (bank, opts->source) in the same transaction (vouch_bank_checkpoint()).
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_HASH_PARSE, VOUCH_E_DB,
 *           VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_bank_import(vouch_bank *db, const char *name, const char *data, size_t len,
                                const vouch_import_opts *opts, vouch_import_stats *stats);

/*! vouch_bank_checkpoint() :
 *  The paging state last stored for (bank `name`, `source`): `out` receives
 *  the checkpoint and next-page strings (has_more and records are 0), and
 *  *updated_at (may be NULL) the time it was stored.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND (no bank, or no checkpoint for that
 *           source), VOUCH_E_DB, VOUCH_E_INVALID. */
VOUCH_API int vouch_bank_checkpoint(vouch_bank *db, const char *name, const char *source,
                                    vouch_list_page *out, int64_t *updated_at);

/* One recorded deletion.  Pointers are valid during the callback only. */
typedef struct vouch_bank_tombstone {
  const uint8_t *hash;  /* NULL when the exchange named only the entry */
  size_t hash_bytes;
  const char *ext_id;   /* NULL when none */
  const char *source;   /* NULL when none */
  int64_t at;           /* when it was recorded */
} vouch_bank_tombstone;
typedef int (*vouch_bank_tombstone_cb)(void *ctx, const vouch_bank_tombstone *t);
/*! vouch_bank_tombstones() : calls `cb` for each tombstone of bank `name`. */
VOUCH_API int vouch_bank_tombstones(vouch_bank *db, const char *name, vouch_bank_tombstone_cb cb, void *ctx);

/* The CSV export format of a bank, one line per entry, shared by `vouch bank
 * export --format csv` and vouchd's GET /v1/banks/NAME/export.  It imports
 * back unchanged (the sources column is read as ','-joined sources). */
#define VOUCH_BANK_CSV_HEADER "hash,id,sources,tags,enabled,added_at,entry,second_hash\n"
/*! vouch_bank_entry_csv() :
 *  Writes entry `e` as one CSV line (with its '\n', RFC 4180 quoting) to
 *  `out` of `cap` bytes, NUL-terminated, like snprintf: the return value is
 *  the line's full length, and the line is complete only if it is < cap
 *  (out may be NULL with cap 0 to measure).  0 for a bad entry. */
VOUCH_API size_t vouch_bank_entry_csv(const vouch_bank_entry *e, char *out, size_t cap);
#define VOUCH_BANK_CSV_LINE_MAX (3U * 2U * VOUCH_LIST_FIELD_MAX + 2U * VOUCH_DERIV_HASH_BYTES + 256U)

/* ---------------------------------------------------------------- signed source lists */

/*! vouch_bank_import_signed() :
 *  Imports a source's signed list (a ".vsl", vouch/audit.h, docs/audit.md)
 *  into bank `name`, in one transaction like vouch_bank_import().  The list
 *  is verified with vouch_audit_list_open() first; it must be of the bank's
 *  algorithm, and its list version must not be older than one already stored
 *  in this bank for the same source key (the same version again must be the
 *  same bytes: re-importing it changes nothing).  The whole signed list is
 *  stored (source key, name, jurisdiction, list version, date, count, hashes
 *  digest and the raw bytes, so it can be verified and used again), each of
 *  its hashes becomes an entry (or an existing entry gets the source's name
 *  added to its sources, as vouch_bank_import() does), and each entry records
 *  the stored list that attested it (one link per entry and list).
 *  `now` is the time to record (0 = time(NULL)); `stats` (may be NULL) gets
 *  added/merged counts (bad and format are 0).
 * @return : VOUCH_OK; the vouch_audit_list_open() codes (VOUCH_E_AUDIT_SIGNATURE,
 *           VOUCH_E_AUDIT_FORMAT, ...) for a list refused; VOUCH_E_ALGO_MISMATCH;
 *           VOUCH_E_AUDIT_POLICY (version older than the stored one);
 *           VOUCH_E_AUDIT_FORK (another list with the same version);
 *           VOUCH_E_NOT_FOUND, VOUCH_E_DB, VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_bank_import_signed(vouch_bank *db, const char *name, const uint8_t *vsl, size_t len,
                                       int64_t now, vouch_import_stats *stats);
/*! vouch_bank_import_signed_seconds() :
 *  vouch_bank_import_signed() with the source's signed second hashes for
 *  that list (`vss`, `vss_len` bytes: vouch_second_signed_make(), vouch/review.h),
 *  checked against the list (vouch_second_signed_open()) before anything is
 *  stored: each entry of the list they name gets its second hash (replacing
 *  a stored one), in the same transaction.  `vss` NULL: as
 *  vouch_bank_import_signed().
 * @return : as vouch_bank_import_signed(), and vouch_second_signed_open()'s
 *           codes for second hashes refused. */
VOUCH_API int vouch_bank_import_signed_seconds(vouch_bank *db, const char *name, const uint8_t *vsl, size_t len,
                                               const uint8_t *vss, size_t vss_len, int64_t now,
                                               vouch_import_stats *stats);

/* One stored signed list.  Pointers are valid during the callback only. */
typedef struct vouch_bank_signed_list {
  int64_t id;                   /* the list's number in the bank file */
  const char *bank;             /* the bank it was imported into */
  const vouch_audit_list *list; /* verified again on reading; hashes point into vsl */
  const uint8_t *vsl;           /* the signed list, byte for byte as imported */
  size_t vsl_len;
  int64_t imported_at;
  uint64_t entries;             /* entries linked to this list */
  int current;                  /* 1: the newest list of its source key (what an
                                   audited index build uses) */
} vouch_bank_signed_list;
typedef int (*vouch_bank_signed_list_cb)(void *ctx, const vouch_bank_signed_list *l);

/*! vouch_bank_signed_lists() :
 *  Calls `cb` for the signed lists stored in the banks among `names` (all
 *  enabled banks when nnames == 0; a named bank that is disabled contributes
 *  nothing, as in vouch_bank_build_index()), by source key and newest version
 *  first.  Every list is verified again (the bank file is untrusted) and must
 *  agree with its stored columns.  With `current_only`, only the newest list
 *  of each source key is given (a source stored in several banks counts
 *  once): the set `vouch index build --db --require-sources` uses.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_DB_CORRUPT (a stored list
 *           fails verification or disagrees with its row), VOUCH_E_ALGO_MISMATCH
 *           (lists of two algorithms), VOUCH_E_AUDIT_FORK (two different lists
 *           of one source and version in two banks), VOUCH_E_DB, VOUCH_E_NOMEM,
 *           or the non-zero value `cb` returned. */
VOUCH_API int vouch_bank_signed_lists(vouch_bank *db, const char *const *names, size_t nnames,
                                      int current_only, vouch_bank_signed_list_cb cb, void *ctx);

/*! vouch_bank_signed_list_remove() :
 *  Removes the stored signed list number `list_id` (vouch_bank_signed_list.id,
 *  the `id` of `vouch bank lists`) and its provenance links, in one
 *  transaction: an audited index build no longer uses it.  The entries it
 *  attested stay, unless `prune_entries`: then the entries that no other
 *  stored list attests and that have no source but the list's source name
 *  are deleted too (*pruned, may be NULL, receives how many).
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND (no such list), VOUCH_E_DB,
 *           VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_bank_signed_list_remove(vouch_bank *db, int64_t list_id, int prune_entries,
                                            size_t *pruned);

/* ---------------------------------------------------------------- video banks
 *
 * A bank of algorithm VOUCH_ALGO_VPDQ holds videos: one entry per video,
 * whose hash is the SHA-256 of the video's vPDQ in the reference's text
 * form (so the same list imported twice is one entry with both sources),
 * with all its frames.  Hash-list imports into such a bank are refused
 * (VOUCH_E_ALGO_MISMATCH); vouch_bank_build_index() indexes the unique
 * frames of its enabled videos for vouch_vpdq_db_match() (vouch/video.h). */

/*! vouch_bank_algo_from_name() : the algorithms a bank can have: those of
 *  vouch_algo_from_name(), and "vpdq" (VOUCH_ALGO_VPDQ); else VOUCH_ALGO_NONE. */
VOUCH_API int vouch_bank_algo_from_name(const char *name);

/*! vouch_bank_import_video() :
 *  Adds one video (`video`, at least one frame) to bank `name` (algorithm
 *  vpdq) in one transaction.  `ext_id` (the video's id), `source` and `tags`
 *  may be NULL.  The same video again (same frames) adds `source` to the
 *  existing entry.  `now` is the time to record (0 = time(NULL)); `added`
 *  (may be NULL) gets 1 for a new entry, 0 for a merge; `entry_id` (may be
 *  NULL) the entry's id.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_ALGO_MISMATCH (not a vpdq
 *           bank), VOUCH_E_INVALID, VOUCH_E_DB_VERSION (a file opened
 *           read-only before version 3), VOUCH_E_DB, VOUCH_E_NOMEM. */
VOUCH_API int vouch_bank_import_video(vouch_bank *db, const char *name, const vouch_vpdq *video, const char *ext_id,
                                      const char *source, const char *tags, int64_t now, int *added,
                                      int64_t *entry_id);

/*! vouch_bank_video() : the frames of video entry `entry_id` into `*out`
 *  (overwritten; clear it with vouch_vpdq_clear()).
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_DB_CORRUPT, VOUCH_E_DB, VOUCH_E_NOMEM. */
VOUCH_API int vouch_bank_video(vouch_bank *db, int64_t entry_id, vouch_vpdq *out);

/*! vouch_bank_build_index() :
 *  Writes an index (vouch/index.h) of the enabled entries (and not disabled
 *  until a later time) of the enabled banks among `names` (all enabled banks when nnames == 0) to `path`.  All
 *  chosen banks must have one algorithm (VOUCH_E_ALGO_MISMATCH otherwise;
 *  vouch_bank_build_index_algo() builds one index per algorithm instead).
 *  `root` and `count` (may be NULL) receive the Merkle root and entry count.
 *  For vpdq banks the index is a PDQ index of the unique frames (quality >=
 *  VOUCH_VPDQ_QUALITY_MIN, equal hashes once) of each enabled video, each
 *  entry carrying the video's entry id, external id and sources: the index
 *  vouch_vpdq_db_open() reads.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_ALGO_MISMATCH, VOUCH_E_DB,
 *           VOUCH_E_DB_CORRUPT, VOUCH_E_IO, VOUCH_E_NOMEM. */
VOUCH_API int vouch_bank_build_index(vouch_bank *db, const char *const *names, size_t nnames,
                                     const char *path, uint8_t root[VOUCH_MERKLE_HASH_BYTES],
                                     size_t *count);

/*! vouch_bank_index_algos() :
 *  The algorithms (VOUCH_ALGO_*, VOUCH_ALGO_VPDQ for video banks) of the
 *  enabled banks, each once, in the order of their VOUCH_ALGO_* values:
 *  the indexes vouch_bank_build_index_algo() builds for a database whose
 *  banks hold several algorithms (one vouchd serving every signal type).
 *  The first `cap` go to `algos`; *n receives how many there are.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_DB, VOUCH_E_DB_CORRUPT. */
#define VOUCH_BANK_ALGOS_MAX 16U
VOUCH_API int vouch_bank_index_algos(vouch_bank *db, int *algos, size_t cap, size_t *n);

/*! vouch_bank_build_index_algo() :
 *  vouch_bank_build_index() of the enabled banks of algorithm `algo` (a
 *  bank algorithm: vouch_bank_algo_from_name()), whatever the algorithms of
 *  the others; an empty index of `algo` when there are none (for vpdq, an
 *  empty PDQ index of video frames).  On PostgreSQL it reads one consistent
 *  snapshot and *seq (may be NULL) receives its change counter, as
 *  vouch_bank_build_index_seq(); on SQLite *seq is -1.
 * @return : VOUCH_OK, VOUCH_E_INVALID (not a bank algorithm), VOUCH_E_DB,
 *           VOUCH_E_DB_CORRUPT, VOUCH_E_IO, VOUCH_E_NOMEM. */
VOUCH_API int vouch_bank_build_index_algo(vouch_bank *db, int algo, const char *path,
                                          uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count, int64_t *seq);

/* ---------------------------------------------------------------- replicas
 *
 * Several processes (vouchd replicas) on one PostgreSQL database.  These
 * calls return VOUCH_E_UNSUPPORTED on an SQLite bank file. */

/*! vouch_bank_change_seq() :
 *  The database's change counter: it grows by one with every committed
 *  transaction that changed banks, entries, their sources or video frames
 *  (from any client, psql included: a trigger keeps it).
 * @return : VOUCH_OK, VOUCH_E_UNSUPPORTED, VOUCH_E_DB. */
VOUCH_API int vouch_bank_change_seq(vouch_bank *db, int64_t *seq);
/*! vouch_bank_wait_change() :
 *  Waits up to `timeout_ms` for a committed change (LISTEN/NOTIFY on this
 *  handle's connection; the first call starts listening and reports a
 *  change, since earlier ones were not watched).  *changed is 1 when one or
 *  more changes were committed.  Use the handle for nothing else meanwhile.
 * @return : VOUCH_OK, VOUCH_E_UNSUPPORTED, VOUCH_E_DB. */
VOUCH_API int vouch_bank_wait_change(vouch_bank *db, int timeout_ms, int *changed);
/*! vouch_bank_build_lock() / vouch_bank_build_unlock() :
 *  The database-wide index-builder lock (a PostgreSQL session advisory
 *  lock): one holder at a time among all replicas; `wait` 0 only tries
 *  (*got says whether it was taken), 1 waits.  Held until unlocked or the
 *  handle is freed.
 * @return : VOUCH_OK, VOUCH_E_UNSUPPORTED, VOUCH_E_DB. */
VOUCH_API int vouch_bank_build_lock(vouch_bank *db, int wait, int *got);
VOUCH_API int vouch_bank_build_unlock(vouch_bank *db);
/*! vouch_bank_build_index_seq() :
 *  vouch_bank_build_index() from one consistent snapshot of the database,
 *  and *seq (may be NULL) the change counter of that snapshot: the index
 *  holds every change up to it.  On SQLite *seq is -1.
 * @return : as vouch_bank_build_index(). */
VOUCH_API int vouch_bank_build_index_seq(vouch_bank *db, const char *const *names, size_t nnames, const char *path,
                                         uint8_t root[VOUCH_MERKLE_HASH_BYTES], size_t *count, int64_t *seq);

/* ---------------------------------------------------------------- service state
 *
 * What vouchd keeps beside the banks, in the same database (an SQLite bank
 * file or a postgresql:// database), so that several vouchd replicas on one
 * PostgreSQL share it: API tokens (only their SHA-256) and the safety
 * vouchers devices upload, per account.  The tables are created on first use
 * (SQLite) or by the versioned migrations (PostgreSQL). */

/* One API token.  Pointers are valid during the callback only. */
typedef struct vouch_bank_token {
  const char *name;
  const char *role;       /* "reader", "matcher", "admin" or "device" */
  const uint8_t *sha256;  /* 32 bytes: SHA-256 of the token */
  const char *account;    /* the account of a device token; NULL for the other roles */
  int64_t created_at;
} vouch_bank_token;
typedef int (*vouch_bank_token_cb)(void *ctx, const vouch_bank_token *t);

/*! vouch_bank_token_add() :
 *  Stores a token's hash under a unique `name`.  A "device" token needs an
 *  `account` and no other role has one.
 * @return : VOUCH_OK, VOUCH_E_EXISTS (the name or hash is taken),
 *           VOUCH_E_INVALID, VOUCH_E_DB, VOUCH_E_DB_BUSY. */
VOUCH_API int vouch_bank_token_add(vouch_bank *db, const char *name, const char *role, const uint8_t sha256[32],
                                   const char *account);
/*! vouch_bank_token_remove() : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_DB. */
VOUCH_API int vouch_bank_token_remove(vouch_bank *db, const char *name);
/*! vouch_bank_tokens() : calls `cb` for each stored token, oldest first
 *  (rows of a malformed hash or role are skipped). */
VOUCH_API int vouch_bank_tokens(vouch_bank *db, vouch_bank_token_cb cb, void *ctx);

/* Called with the account's first stored voucher (NULL, 0 when it has none)
 * inside the storing transaction: return 0 to store the batch, anything else
 * to store nothing (vouch_bank_vouchers_store() then returns that value). */
typedef int (*vouch_bank_voucher_check_cb)(void *ctx, const uint8_t *first, size_t first_len);
/*! vouch_bank_vouchers_store() :
 *  Stores `n` vouchers of `account` in one write transaction: `check` (may
 *  be NULL) sees the account's first stored voucher and may refuse the
 *  batch; a voucher already stored for the account (same bytes) is not
 *  stored again.  *stored (may be NULL) receives how many were new.
 * @return : VOUCH_OK, check's non-zero value, VOUCH_E_INVALID, VOUCH_E_DB,
 *           VOUCH_E_DB_BUSY, VOUCH_E_NOMEM. */
VOUCH_API int vouch_bank_vouchers_store(vouch_bank *db, const char *account, const uint8_t *const *vouchers,
                                        const size_t *lens, size_t n, vouch_bank_voucher_check_cb check,
                                        void *ctx, size_t *stored);
typedef int (*vouch_bank_voucher_cb)(void *ctx, const uint8_t *voucher, size_t len);
/*! vouch_bank_vouchers() : calls `cb` for each stored voucher of `account`,
 *  in the order they were stored.
 * @return : VOUCH_OK, VOUCH_E_DB, VOUCH_E_DB_BUSY, or cb's non-zero value. */
VOUCH_API int vouch_bank_vouchers(vouch_bank *db, const char *account, vouch_bank_voucher_cb cb, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_BANK_H */
