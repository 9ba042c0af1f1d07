/* src/bank/bank_internal.h -- what the list parsers share: one "sink" that
 * turns a row (signal type, hash text, id, source, tags, quality) into a
 * vouch_list_item of the right kind, and reports malformed rows. */
#ifndef VOUCH_BANK_INTERNAL_H
#define VOUCH_BANK_INTERNAL_H
#include "vouch/bank.h"
#include "common/internal.h"

typedef struct vouch__sink {
  const vouch_list_opts *o;
  size_t hb;          /* bytes of the bank's hashes */
  int min_quality;    /* resolved floor; -1: none */
  vouch_list_item_cb item;
  vouch_list_error_cb error;
  void *ctx;
  uint8_t hash[VOUCH_HASH_MAX_BYTES];
  /* the current row's second_hash text (CSV/TSV column, JSON-lines field):
   * set by the line parsers that read one before vouch__sink_row(), NULL
   * otherwise (none, or a format without it) */
  const char *second_hex;
  uint8_t second[VOUCH_DERIV_HASH_BYTES];
} vouch__sink;

/* Reports a malformed row; returns VOUCH_E_HASH_PARSE when the error
 * callback asks to stop, else VOUCH_OK. */
VOUCH_HIDDEN int vouch__sink_report(vouch__sink *s, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One row.  `sigtype` (may be NULL: the list's default type) names the
 * signal type; a known type of another algorithm gives a SKIP item, an
 * unknown one a SKIP item when `unknown_skips` (exchange pages, which add
 * types over time) and an error otherwise.  `hex` is the hash text (hlen
 * bytes; may be NULL for an id-only DELETE).  `quality` < 0: none given.
 * Returns VOUCH_OK, the item callback's non-zero value, or
 * VOUCH_E_HASH_PARSE when the error callback asked to stop. */
typedef struct vouch__row {
  size_t line;
  const char *sigtype;
  const char *hex;
  size_t hlen;
  int kind; /* VOUCH_ITEM_ADD or VOUCH_ITEM_DELETE */
  const char *ext_id, *source, *tags;
  int quality;
  int unknown_skips;
} vouch__row;
VOUCH_HIDDEN int vouch__sink_row(vouch__sink *s, const vouch__row *r);

/* Joins an optional category and a tag list whose tags are separated by
 * `sep` (' ' or ',') into "category:C,t1,t2" in buf.  Returns buf, or NULL
 * when there is nothing to keep or it does not fit. */
VOUCH_HIDDEN const char *vouch__tags_join(char *buf, size_t cap, const char *category, const char *tags,
                                          char sep);

/* The whole-document exchange formats. */
VOUCH_HIDDEN int vouch__parse_ncmec(vouch__sink *s, const char *data, size_t len);
/* `root` is a parsed jansson object (json_t *); format is STOPNCII or TAT. */
VOUCH_HIDDEN int vouch__parse_json_page(vouch__sink *s, void *root, int format);

#endif
