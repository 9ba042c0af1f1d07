/* tests/fuzz/fuzz_ncmec.c -- the NCMEC hash-sharing XML page parser on
 * arbitrary bytes (the first byte picks the bank's algorithm).
 * Invariants: no crash, nothing printed; every item is of a known kind, an
 * ADD has a hash and an ext_id, a DELETE an ext_id and no hash, a SKIP no
 * hash; the page's checkpoint and next are NUL-terminated, its record count
 * covers the items; parsing twice gives the same items and page. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/vouch.h"
#include "vouch/bank.h"

typedef struct acc {
  size_t items, bad;
  uint64_t digest;
} acc;

static int on_item(void *ctx, const vouch_list_item *it) {
  acc *a = ctx;
  if (it->line == 0 || !it->ext_id) abort();
  switch (it->kind) {
  case VOUCH_ITEM_ADD: if (!it->hash) abort(); break;
  case VOUCH_ITEM_DELETE:
  case VOUCH_ITEM_SKIP: if (it->hash) abort(); break;
  default: abort();
  }
  a->items++;
  a->digest = a->digest * 131 + (uint64_t)it->kind + strlen(it->ext_id) + (it->tags ? 7 * strlen(it->tags) : 0);
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
  static const int algos[2] = {VOUCH_ALGO_PDQ, VOUCH_ALGO_PHASH};
  vouch_list_page p1, p2;
  vouch_list_opts o = {algos[data[0] & 1], VOUCH_LIST_NCMEC, NULL, NULL, 0, &p1};
  acc a = {0}, b = {0};
  int r1 = vouch_hashlist_parse((const char *)data + 1, size - 1, &o, on_item, on_error, &a, NULL);
  o.page = &p2;
  int r2 = vouch_hashlist_parse((const char *)data + 1, size - 1, &o, on_item, on_error, &b, NULL);
  if (r1 != r2 || a.items != b.items || a.bad != b.bad || a.digest != b.digest) abort();
  if (r1 != VOUCH_OK && r1 != VOUCH_E_HASH_PARSE && r1 != VOUCH_E_NOMEM) abort();
  if (!memchr(p1.checkpoint, 0, sizeof p1.checkpoint) || !memchr(p1.next, 0, sizeof p1.next)) abort();
  if (memcmp(&p1, &p2, sizeof p1) != 0) abort();
  if (r1 == VOUCH_OK && a.items + a.bad < p1.records) abort();
  return 0;
}
