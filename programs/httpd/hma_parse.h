/* programs/httpd/hma_parse.h -- the small text parsers of vouchd's HMA routes
 * (routes_hma.c): comma lists (?banks=, ?types=), HMA bank names and the
 * /c/bank/... path.  Pure functions, no libmicrohttpd, so that
 * tests/fuzz/fuzz_hma_parse.c can drive them. */
#ifndef VOUCHD_HMA_PARSE_H
#define VOUCHD_HMA_PARSE_H
#include <stddef.h>

/* Next element of a comma-separated list, spaces around it trimmed; empty
 * elements are skipped.  *cursor advances; 0 when the list is exhausted. */
int vd_hma_list_next(const char **cursor, const char **item, size_t *len);
/* 1 if the `len` bytes at `item` are an element of `list` (NULL: no). */
int vd_hma_list_has(const char *list, const char *item, size_t len);
/* HMA's bank names: 'A'-'Z', '0'-'9', '_', not starting with a digit, 1..128 bytes. */
int vd_hma_bank_name_ok(const char *name);

typedef struct {
  char name[160];  /* the bank */
  char action[16]; /* "", "content" or "signal" (any word; the router decides) */
  char sub[32];    /* the content id, or "" */
} vd_hma_path;
/* Splits "bank/NAME[/ACTION[/SUB]]" (the path after "/c/"); -1 when it is
 * not of that form or a part is too long. */
int vd_hma_split_path(const char *path, vd_hma_path *out);

/* HMA's exchange names (POST /c/exchanges, "bank"): 'A'-'Z', '0'-'9', '_',
 * 1..128 bytes (a leading digit is allowed, unlike a bank's). */
int vd_hma_exchange_name_ok(const char *name);
/* Splits PREFIX NAME[/SUB] (e.g. "exchange/NAME/status" with prefix
 * "exchange/"): NAME and SUB non-empty and free of '/', copied into
 * name[ncap] and sub[scap] (sub "" when absent); -1 when path is not of that
 * form or a part is too long. */
int vd_hma_split_named(const char *path, const char *prefix, char *name, size_t ncap, char *sub, size_t scap);
/* An exchange checkpoint as a Unix time, as HMA's checkpoint_ts: a number
 * (its integer part; text after a ',' ignored, as python-threatexchange reads
 * TAT's) or an ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SS[.fff](Z|+0000|+00:00)".
 * 0 and *out, or -1 for anything else. */
int vd_hma_checkpoint_ts(const char *cp, long long *out);
#endif
