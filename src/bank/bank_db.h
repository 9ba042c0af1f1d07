/* src/bank/bank_db.h -- what the bank files share: the handle (a connection
 * to a storage backend, store.h), error reporting, and the row-level helpers
 * the import, signed-list, video and index files all use. */
#ifndef VOUCH_BANK_DB_H
#define VOUCH_BANK_DB_H
#include "vouch/bank.h"
#include "store.h"

#define BANK_ERRMSG_CAP 512U

struct vouch_bank {
  vouch__db *db;
  int schema; /* bank schema version: SQLite 1 or 2 (read-only, not migrated) or 3; PostgreSQL 3 */
  char errmsg[BANK_ERRMSG_CAP];
};

/* Records a message for vouch_bank_errmsg() and returns rc. */
VOUCH_HIDDEN int vouch__bank_fail(vouch_bank *b, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps a storage failure (VOUCH__DB_*) to a VOUCH_E_* code, keeping the
 * backend's message. */
VOUCH_HIDDEN int vouch__bank_dbfail(vouch_bank *b, int dbrc, const char *what);
VOUCH_HIDDEN int vouch__bank_prepare(vouch_bank *b, const char *sql, vouch__stmt **st);
VOUCH_HIDDEN int vouch__bank_exec(vouch_bank *b, const char *sql);
VOUCH_HIDDEN int vouch__bank_begin(vouch_bank *b);
/* VOUCH_OK on a PostgreSQL handle; VOUCH_E_UNSUPPORTED (with a message) on SQLite (bank_service.c). */
VOUCH_HIDDEN int vouch__bank_pg_only(vouch_bank *b);
VOUCH_HIDDEN int vouch__bank_commit(vouch_bank *b);
/* 1 for a valid bank or exchange name. */
VOUCH_HIDDEN int vouch__bank_valid_name(const char *n);
/* Looks up a bank: id, algo and (may be NULL) enabled flag.  VOUCH_E_NOT_FOUND
 * if absent, DB_CORRUPT if its algo is not one we know. */
VOUCH_HIDDEN int vouch__bank_find(vouch_bank *b, const char *name, int64_t *id, int *algo, int *enabled);
/* Bytes of an entry's hash: the algorithm's, or for a video the SHA-256 of
 * its vPDQ text. */
VOUCH_HIDDEN size_t vouch__bank_entry_hash_bytes(int algo);

/* An entry's sources as an index stores them: sorted, joined by ',' (the
 * entry is `e`); the index build and the follower's delta read the same. */
#define VOUCH__SQL_ENTRY_SOURCES                                                          \
  "coalesce((SELECT group_concat(source, ',') FROM"                                      \
  "   (SELECT source FROM entry_sources s WHERE s.entry_id = e.id ORDER BY source) AS srt), '')"

/* ------------------------------------------------------------ import state */

typedef struct vouch__pending vouch__pending;
typedef struct vouch__import_ctx {
  vouch__pending *items;
  size_t n, cap;
  char *str;
  size_t str_len, str_cap;
  vouch_bank *b;
  int64_t bank_id;
  size_t hb;
  const vouch_import_opts *o;
  vouch_import_stats *stats;
  vouch__stmt *ins, *sel, *fill, *src, *set_second; /* set_second: schema 4 */
  /* tombstones (schema 3): only prepared when the list deletes or the bank has some */
  vouch__stmt *t_had, *t_clear, *t_enable, *t_find_hash, *t_find_ext, *t_unsource, *t_disable, *t_add;
  int tomb;
  int64_t now;
  int64_t last_eid; /* the entry insert_item() added or merged into */
} vouch__import_ctx;

/* Steps a statement that returns no row (or one to ignore), then resets it. */
VOUCH_HIDDEN int vouch__import_step(vouch__import_ctx *c, vouch__stmt *st, const char *what);
/* Prepares the insert, select-duplicate and add-source statements (c->ins,
 * c->sel, c->src; c->fill too when `fill`). */
VOUCH_HIDDEN int vouch__import_prepare(vouch__import_ctx *c, int fill);
/* Adds or merges one ADD item (it->hash set); c->last_eid receives its entry. */
VOUCH_HIDDEN int vouch__import_insert(vouch__import_ctx *c, const vouch_list_item *it);
/* Finalizes the statements and frees the collected items. */
VOUCH_HIDDEN void vouch__import_finalize(vouch__import_ctx *c);
#endif
