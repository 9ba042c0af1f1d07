/* include/vouch/review.h -- after the threshold: second-hash lists and the
 * human review queue.
 *
 * Two small things a provider needs between `vouch psi open` and a report:
 *
 *  - A second-hash list: the database entries' PDQ hashes, each with the
 *    second hash of its visual derivative (vouch_derivative_hash(), what
 *    `vouch hash --derivative` prints).  An opened payload is checked against
 *    the entry nearest its PDQ hash: pass, fail (a suspected forgery) or
 *    unknown (docs/attack.md).
 *
 *  - A review store: matched payloads of accounts over the threshold wait in
 *    a queue; reviewers record decisions (confirm, reject, escalate, with a
 *    note).  Decisions are append-only: never updated or deleted (triggers
 *    refuse both); a later decision on an item supersedes the
 *    earlier one in the queue's view, and must name the decision it
 *    supersedes, so a reviewer working from a stale page gets
 *    VOUCH_E_EXISTS instead of silently overwriting someone else's verdict.
 *    Every time a reviewer is shown an item, a view is logged.  The tables
 *    (review_*) live in the bank database vouchd serves: an SQLite file or
 *    a PostgreSQL database (docs/review.md).
 */
#ifndef VOUCH_REVIEW_H
#define VOUCH_REVIEW_H
#include <stddef.h>
#include <stdint.h>
#include "vouch/common.h"
#include "vouch/errors.h"
#include "vouch/hash.h"
#include "vouch/psi.h"
#include "vouch/bank.h"
#include "vouch/audit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------- second-hash lists */

typedef struct vouch_second_list vouch_second_list;

/* Entries per list, and bytes per line. */
#define VOUCH_SECOND_LIST_MAX 4000000U
#define VOUCH_SECOND_LINE_MAX 4096U

/*! vouch_second_list_parse() :
 *  Parses `len` bytes of text, one entry per line:
 *      PDQHEX [QUALITY] SECONDHEX [anything]
 *  (what `vouch hash --derivative` prints, its path included).  Blank lines
 *  and lines starting with '#' are skipped; CR before LF is allowed.  The
 *  text need not be NUL-terminated and may contain NUL bytes (a line with
 *  one is malformed).  On error *out is NULL and `bad_line` (may be NULL)
 *  receives the 1-based number of the first bad line.
 * @return : VOUCH_OK, VOUCH_E_HASH_PARSE (a malformed line, or a second hash
 *           not of VOUCH_DERIV_HASH_VERSION), VOUCH_E_LIMIT (more than
 *           VOUCH_SECOND_LIST_MAX entries or a line over
 *           VOUCH_SECOND_LINE_MAX bytes), VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_second_list_parse(const char *text, size_t len, vouch_second_list **out, size_t *bad_line);
VOUCH_API void vouch_second_list_free(vouch_second_list *l); /* NULL is a no-op */
VOUCH_API size_t vouch_second_list_count(const vouch_second_list *l);

/*! vouch_second_list_get() :
 *  Entry i's PDQ hash and second hash (pointers into the list, valid until
 *  it is freed).  @return : VOUCH_OK or VOUCH_E_INVALID (i out of range). */
VOUCH_API int vouch_second_list_get(const vouch_second_list *l, size_t i, const uint8_t **pdq,
                                    const uint8_t **second);

/*! vouch_second_list_add_bank() :
 *  Adds the enabled entries of the PDQ bank `name` of `b` (NULL: of every
 *  enabled PDQ bank) to `*l` (a new list when *l is NULL), each with the
 *  second hash its source supplied at import (the second_hash column,
 *  vouch/bank.h) or with none.  An entry with none is still the matched
 *  entry when it is the nearest: its payloads get VOUCH_DERIV_UNKNOWN.
 *  Which wins for one PDQ hash: the bank's second hash, then one from a
 *  parsed list (vouch_second_list_parse()), then none.  On failure a list
 *  made here is freed and *l is NULL again; a given list may have grown.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND (no bank `name`),
 *           VOUCH_E_ALGO_MISMATCH (`name` is not a PDQ bank), VOUCH_E_LIMIT,
 *           VOUCH_E_NOMEM, VOUCH_E_DB, VOUCH_E_DB_CORRUPT, VOUCH_E_INVALID. */
VOUCH_API int vouch_second_list_add_bank(vouch_second_list **l, vouch_bank *b, const char *name);

/*! vouch_second_list_verdict() :
 *  The second-hash verdict for an opened payload: its derivative against the
 *  second hash of the entry nearest its PDQ hash, if one lies within
 *  `radius` (ties: an entry with a bank's second hash, then one with a
 *  list's, then the first in the list).  A payload that is not PDQ, or
 *  has no such entry, or no derivative, or whose entry has no second hash,
 *  is VOUCH_DERIV_UNKNOWN.  `score`
 *  (may be NULL) receives vouch_derivative_score() or -1 when unknown;
 *  `entry` (may be NULL) the entry's position or SIZE_MAX.  `l` may be NULL
 *  (an empty list).
 * @return : a vouch_deriv_verdict. */
VOUCH_API int vouch_second_list_verdict(const vouch_second_list *l, const vouch_psi_payload *p, unsigned radius,
                                        int *score, size_t *entry);

/* ------------------------------------------- signed second hashes (.vss) */

/* A source's second hashes for one of its signed lists (docs/review.md):
 * signed by the list's source key, bound to that list (key, version, hashes
 * digest, algorithm); the list itself (.vsl) is unchanged. */
typedef struct vouch_second_signed {
  uint64_t count;       /* pairs */
  size_t hash_bytes;    /* the list's */
  const uint8_t *pairs; /* count * (hash_bytes + VOUCH_DERIV_HASH_BYTES): hash, second hash; hashes
                           strictly ascending; points into the buffer given to _open() */
} vouch_second_signed;

/*! vouch_second_signed_make() :
 *  Signs, with the source key `key`, the second hashes of the signed list
 *  `vsl` (made with that key): for each of the list's hashes that `seconds`
 *  holds exactly (its first second hash; entries without one are left out).
 *  `*out` is allocated; free it with vouch_free().
 * @return : VOUCH_OK, the vouch_audit_list_open() codes, VOUCH_E_AUDIT_SIGNATURE
 *           (the list is another source's), VOUCH_E_ALGO_MISMATCH (not a PDQ
 *           list), VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_second_signed_make(const vouch_audit_secret_key *key, const uint8_t *vsl, size_t vsl_len,
                                       const vouch_second_list *seconds, uint8_t **out, size_t *out_len);
/*! vouch_second_signed_open() :
 *  Parses `len` bytes of signed second hashes and checks them against the
 *  opened (verified) list `list`: bound to it, every hash one of its hashes,
 *  every second hash of VOUCH_DERIV_HASH_VERSION, and the source's signature.
 * @return : VOUCH_OK, VOUCH_E_AUDIT_FORMAT (malformed), VOUCH_E_DB_VERSION
 *           (another version of the format), VOUCH_E_AUDIT_POLICY (made for
 *           another list), VOUCH_E_AUDIT_SIGNATURE, VOUCH_E_INVALID. */
VOUCH_API int vouch_second_signed_open(const uint8_t *buf, size_t len, const vouch_audit_list *list,
                                       vouch_second_signed *out);
/*! vouch_second_signed_find() : the second hash given for `hash`, or NULL. */
VOUCH_API const uint8_t *vouch_second_signed_find(const vouch_second_signed *s, const uint8_t *hash);

/* ------------------------------------------------------------ review store */

typedef struct vouch_review vouch_review;

/* Bytes, including the NUL, of the text fields. */
#define VOUCH_REVIEW_ACCOUNT_MAX 160U
#define VOUCH_REVIEW_NAME_MAX 64U   /* a reviewer's name */
#define VOUCH_REVIEW_NOTE_MAX 2048U /* a decision's note */
#define VOUCH_REVIEW_TEXT_MAX 512U  /* bank, entry id, source */

typedef enum vouch_review_decision_kind {
  VOUCH_REVIEW_NONE = 0,     /* no decision yet (items only) */
  VOUCH_REVIEW_CONFIRM = 1,  /* a real match: goes into a report */
  VOUCH_REVIEW_REJECT = 2,   /* not a match (a false positive) */
  VOUCH_REVIEW_ESCALATE = 3  /* needs a second look (a senior reviewer, legal) */
} vouch_review_decision_kind;
/* "confirm", "reject", "escalate" ("none" for NONE); NULL if out of range. */
VOUCH_API const char *vouch_review_decision_name(int kind);
/* The kind for a name, or -1. */
VOUCH_API int vouch_review_decision_from_name(const char *name);

/* One matched payload of an account over the threshold. */
typedef struct vouch_review_item {
  int64_t id;                   /* out (enqueue: ignored) */
  const char *account;
  int algo;                     /* VOUCH_ALGO_* of hash */
  uint8_t hash_len;
  uint8_t hash[VOUCH_PSI_HASH_MAX_BYTES];
  uint8_t thumb_w, thumb_h;     /* 0 x 0: no derivative */
  const uint8_t *thumb;         /* thumb_w * thumb_h grey bytes */
  int verdict;                  /* vouch_deriv_verdict */
  int score;                    /* its score, -1 when unknown */
  const char *bank, *entry_id, *source; /* the matched entry; NULL when not known */
  int distance;                 /* to the matched entry; -1 when not known */
  int64_t created_at;           /* out: Unix seconds */
  /* out (vouch_review_items()): the latest decision, kind NONE when none */
  int64_t decision_id;
  int decision;
  const char *reviewer, *note;
  int64_t decided_at;
} vouch_review_item;

typedef struct vouch_review_decision {
  int64_t id, item;
  const char *account;
  int decision;                 /* vouch_review_decision_kind, not NONE */
  const char *reviewer, *note;
  int64_t decided_at;           /* Unix seconds */
  int64_t supersedes;           /* the decision this one replaces in the view; 0 for none */
} vouch_review_decision;

/*! vouch_review_open() :
 *  Opens the review store in the bank database `path`: an SQLite bank file
 *  (created, with the review_* tables, if needed; the bank's file checks
 *  apply) or a postgresql:// URI (the tables are migration 5 of the bank's
 *  PostgreSQL schema, applied if needed).  On failure *out may still receive
 *  a handle for vouch_review_errmsg(); free it.
 * @return : VOUCH_OK, VOUCH_E_DB, VOUCH_E_DB_BUSY, VOUCH_E_DB_CORRUPT (not a
 *           bank file), VOUCH_E_DB_VERSION, VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_review_open(vouch_review **out, const char *path);
VOUCH_API void vouch_review_free(vouch_review *rv); /* NULL is a no-op */
/*! vouch_review_errmsg() : detail of the last failure ("" if none, never NULL). */
VOUCH_API const char *vouch_review_errmsg(const vouch_review *rv);

/*! vouch_review_set_seconds() :
 *  Replaces the stored second-hash list with the one in `text` (the format
 *  of vouch_second_list_parse()), in one transaction.  `count` (may be NULL)
 *  receives its entries, `bad_line` (may be NULL) the first bad line.
 * @return : as vouch_second_list_parse(), or VOUCH_E_DB / VOUCH_E_DB_BUSY. */
VOUCH_API int vouch_review_set_seconds(vouch_review *rv, const char *text, size_t len, size_t *count,
                                       size_t *bad_line);
/*! vouch_review_seconds() :
 *  The stored second-hash list (an empty list when none was set); free it
 *  with vouch_second_list_free().  @return : VOUCH_OK, VOUCH_E_DB*, VOUCH_E_NOMEM. */
VOUCH_API int vouch_review_seconds(vouch_review *rv, vouch_second_list **out);

/*! vouch_review_enqueue() :
 *  Adds a matched payload to the queue unless the account already has one
 *  with the same algorithm, hash and derivative (a forgery colliding with a
 *  genuine photo is a payload of its own); `added` (may be NULL) receives 1
 *  or 0.
 * @return : VOUCH_OK, VOUCH_E_INVALID (an empty or long account, a field over
 *           its limit, a derivative over 64 x 64), VOUCH_E_DB*. */
VOUCH_API int vouch_review_enqueue(vouch_review *rv, const vouch_review_item *item, int *added);

typedef int (*vouch_review_item_cb)(void *ctx, const vouch_review_item *item);
/* vouch_review_items() flags */
#define VOUCH_REVIEW_WITH_FAILED 1U /* also items whose second hash failed (hidden by default) */
#define VOUCH_REVIEW_OPEN_ONLY 2U   /* only items without a decision, or whose latest is ESCALATE */

/*! vouch_review_items() :
 *  Calls `cb` for each queued item (of `account`, or of all when NULL) in
 *  the order they were queued, with its latest decision.  Items whose
 *  second hash failed are suspected forgeries and are left out unless
 *  VOUCH_REVIEW_WITH_FAILED.  A non-zero return from cb stops the walk and
 *  is returned.  Pointers in the item are valid during the call only.
 * @return : VOUCH_OK, VOUCH_E_DB*, or cb's value. */
VOUCH_API int vouch_review_items(vouch_review *rv, const char *account, unsigned flags, vouch_review_item_cb cb,
                                 void *ctx);

/*! vouch_review_count_failed() :
 *  Items of `account` (NULL: all) whose second hash failed. */
VOUCH_API int vouch_review_count_failed(vouch_review *rv, const char *account, size_t *n);

/*! vouch_review_decide() :
 *  Appends a decision by `reviewer` (1..VOUCH_REVIEW_NAME_MAX-1 bytes) on
 *  item `item`, with `note` (may be NULL; up to VOUCH_REVIEW_NOTE_MAX-1
 *  bytes).  `supersedes` must be the id of the item's latest decision, or 0
 *  when it has none: the check and the append are one transaction, so two
 *  reviewers deciding from the same page cannot both win.  An item whose
 *  second hash failed cannot be decided (it is not shown as a match).
 *  `id` (may be NULL) receives the new decision's id.
 * @return : VOUCH_OK, VOUCH_E_NOT_FOUND (no such item), VOUCH_E_EXISTS (the
 *           item's latest decision is not `supersedes`: a stale page),
 *           VOUCH_E_INVALID (bad kind, reviewer or note; a failed item),
 *           VOUCH_E_DB*. */
VOUCH_API int vouch_review_decide(vouch_review *rv, int64_t item, int decision, const char *reviewer,
                                  const char *note, int64_t supersedes, int64_t *id);

typedef int (*vouch_review_decision_cb)(void *ctx, const vouch_review_decision *d);
/*! vouch_review_decisions() :
 *  Calls `cb` for every decision (of `account`, or all when NULL), oldest
 *  first, superseded ones included.  @return : as vouch_review_items(). */
VOUCH_API int vouch_review_decisions(vouch_review *rv, const char *account, vouch_review_decision_cb cb, void *ctx);

/*! vouch_review_log_view() :
 *  Records that `reviewer` was shown item `item` (append-only, like the
 *  decisions).  @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_DB*. */
VOUCH_API int vouch_review_log_view(vouch_review *rv, const char *reviewer, int64_t item);
/*! vouch_review_log_views() :
 *  vouch_review_log_view() for `n` items at once, in one transaction (all
 *  logged or none).  @return : as vouch_review_log_view(). */
VOUCH_API int vouch_review_log_views(vouch_review *rv, const char *reviewer, const int64_t *items, size_t n);
/*! vouch_review_views() : how many views were logged (of `item`, or all when item is 0). */
VOUCH_API int vouch_review_views(vouch_review *rv, int64_t item, size_t *n);

/* ---- reviewers: a name and the SHA-256 of the reviewer's token (the token
 * itself is never stored; vouchd makes and checks tokens, docs/review.md) */

/*! vouch_review_reviewer_add() :
 *  @return : VOUCH_OK, VOUCH_E_EXISTS (the name or the token hash is taken),
 *            VOUCH_E_INVALID (a name not 1..VOUCH_REVIEW_NAME_MAX-1 bytes of
 *            UTF-8), VOUCH_E_DB*. */
VOUCH_API int vouch_review_reviewer_add(vouch_review *rv, const char *name, const uint8_t sha256[32]);
/*! vouch_review_reviewer_find() :
 *  The name of the reviewer whose token hashes to `sha256`, into `name`
 *  (`cap` bytes, truncated).  @return : VOUCH_OK, VOUCH_E_NOT_FOUND,
 *  VOUCH_E_INVALID, VOUCH_E_DB*. */
VOUCH_API int vouch_review_reviewer_find(vouch_review *rv, const uint8_t sha256[32], char *name, size_t cap);
typedef int (*vouch_review_reviewer_cb)(void *ctx, const char *name, int64_t created_at);
/*! vouch_review_reviewers() : calls `cb` for each reviewer, oldest first. */
VOUCH_API int vouch_review_reviewers(vouch_review *rv, vouch_review_reviewer_cb cb, void *ctx);
/*! vouch_review_reviewer_remove() : @return : VOUCH_OK, VOUCH_E_NOT_FOUND, VOUCH_E_DB*. */
VOUCH_API int vouch_review_reviewer_remove(vouch_review *rv, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_REVIEW_H */
