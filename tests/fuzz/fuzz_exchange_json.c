/* tests/fuzz/fuzz_exchange_json.c -- the StopNCII and Tech Against Terrorism
 * JSON page parsers on arbitrary bytes.  The first byte picks the format
 * (StopNCII, TAT, or detection) and the bank's algorithm.  Invariants: no
 * crash; every item is of a known kind, ADD/DELETE items have a hash, SKIP
 * items none; item + bad counts equal the page's record count on success;
 * the page strings are NUL-terminated; parsing twice gives the same result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/vouch.h"
#include "vouch/bank.h"

typedef struct acc {
  size_t items, bad, last;
  uint64_t digest;
} acc;

static int on_item(void *ctx, const vouch_list_item *it) {
  acc *a = ctx;
  if (it->line == 0 || it->line <= a->last) abort(); /* one item per record, in order */
  a->last = it->line;
  switch (it->kind) {
  case VOUCH_ITEM_ADD:
  case VOUCH_ITEM_DELETE: if (!it->hash) abort(); break;
  case VOUCH_ITEM_SKIP: if (it->hash) abort(); break;
  default: abort();
  }
  a->items++;
  a->digest = a->digest * 131 + (uint64_t)it->kind + (it->ext_id ? strlen(it->ext_id) : 0) +
              (it->tags ? 7 * strlen(it->tags) : 0);
  for (size_t i = 0; it->hash && i < 8; i++) a->digest = a->digest * 31 + it->hash[i];
  return 0;
}
static int on_error(void *ctx, size_t line, const char *msg) {
  if (!msg || line == 0) abort();
  ((acc *)ctx)->bad++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const int formats[4] = {VOUCH_LIST_STOPNCII, VOUCH_LIST_TAT, VOUCH_LIST_AUTO, VOUCH_LIST_STOPNCII};
  vouch_list_page p1, p2;
  vouch_list_opts o = {(data[0] & 4) ? VOUCH_ALGO_PHASH : VOUCH_ALGO_PDQ, formats[data[0] & 3], NULL, NULL, 0, &p1};
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  acc a = {0}, b = {0};
  int f1 = -1, f2 = -1;
  int r1 = vouch_hashlist_parse(text, len, &o, on_item, on_error, &a, &f1);
  o.page = &p2;
  int r2 = vouch_hashlist_parse(text, len, &o, on_item, on_error, &b, &f2);
  if (r1 != r2 || f1 != f2 || a.items != b.items || a.bad != b.bad || a.digest != b.digest) abort();
  if (r1 != VOUCH_OK && r1 != VOUCH_E_HASH_PARSE && r1 != VOUCH_E_NOMEM) abort();
  if (!memchr(p1.checkpoint, 0, sizeof p1.checkpoint) || !memchr(p1.next, 0, sizeof p1.next)) abort();
  if (memcmp(&p1, &p2, sizeof p1) != 0) abort();
  if (r1 == VOUCH_OK && (f1 == VOUCH_LIST_STOPNCII || f1 == VOUCH_LIST_TAT) && a.items + a.bad != p1.records)
    abort();
  return 0;
}
