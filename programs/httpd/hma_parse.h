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
#endif
