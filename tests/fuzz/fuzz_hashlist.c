/* tests/fuzz/fuzz_hashlist.c -- the hash-list parser on arbitrary bytes.
 * The first byte picks the algorithm and the forced format (every format,
 * the exchange pages included); the rest is the list.  Invariants: no
 * crash; every item is of a known kind, an ADD or LOW_QUALITY item has a
 * hash, a SKIP item none, a DELETE item a hash or an id; in the line formats
 * line numbers increase and lie within the input's line count and item +
 * bad line counts never exceed the number of lines; parsing twice gives the
 * same items; every id, source and tags string is valid UTF-8 by a second,
 * decoding implementation (ref_utf8), which also agrees with
 * vouch_utf8_valid() on the whole input; a second hash (the second_hash
 * column or field) comes only with an adding row and is of the current
 * version. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/vouch.h"
#include "vouch/bank.h"

typedef struct acc {
  size_t items, bad, last_line;
  int page; /* a whole-document format: line numbers are records or XML lines */
  uint64_t digest;
} acc;

/* UTF-8 by decoding each code point, then checking its range: overlong,
 * surrogate and past-U+10FFFF forms are refused (RFC 3629). */
static int ref_utf8(const uint8_t *p, size_t len) {
  for (size_t i = 0; i < len;) {
    uint32_t cp, min;
    size_t n;
    if (p[i] < 0x80) { i++; continue; }
    if ((p[i] & 0xE0) == 0xC0) { n = 2; cp = p[i] & 0x1F; min = 0x80; }
    else if ((p[i] & 0xF0) == 0xE0) { n = 3; cp = p[i] & 0x0F; min = 0x800; }
    else if ((p[i] & 0xF8) == 0xF0) { n = 4; cp = p[i] & 0x07; min = 0x10000; }
    else return 0;
    if (len - i < n) return 0;
    for (size_t k = 1; k < n; k++) {
      if ((p[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += n;
  }
  return 1;
}
static void check_text(const char *s) {
  if (s && !ref_utf8((const uint8_t *)s, strlen(s))) abort();
}

static int on_item(void *ctx, const vouch_list_item *it) {
  acc *a = ctx;
  check_text(it->ext_id);
  check_text(it->source);
  check_text(it->tags);
  if (it->line == 0 || (!a->page && it->line <= a->last_line)) abort();
  switch (it->kind) {
  case VOUCH_ITEM_ADD:
  case VOUCH_ITEM_LOW_QUALITY: if (!it->hash) abort(); break;
  case VOUCH_ITEM_SKIP: if (it->hash) abort(); break;
  case VOUCH_ITEM_DELETE: if (!it->hash && !it->ext_id) abort(); break;
  default: abort();
  }
  if (it->kind == VOUCH_ITEM_LOW_QUALITY && (it->quality < 0 || it->quality >= VOUCH_PDQ_MIN_QUALITY)) abort();
  a->last_line = it->line;
  a->items++;
  a->digest = a->digest * 5 + (uint64_t)it->kind;
  for (size_t i = 0; it->hash && i < 8; i++) a->digest = a->digest * 31 + it->hash[i];
  if (it->ext_id) a->digest += strlen(it->ext_id);
  if (it->source) a->digest += 7 * strlen(it->source);
  if (it->tags) a->digest += 13 * strlen(it->tags);
  /* a second hash: only on rows that add, of the current version */
  if (it->second) {
    if ((it->kind != VOUCH_ITEM_ADD && it->kind != VOUCH_ITEM_LOW_QUALITY) || it->second[0] != VOUCH_DERIV_HASH_VERSION)
      abort();
    for (size_t i = 0; i < VOUCH_DERIV_HASH_BYTES; i++) a->digest = a->digest * 3 + it->second[i];
  }
  return 0;
}
static int on_error(void *ctx, size_t line, const char *msg) {
  acc *a = ctx;
  if (!msg || line == 0) abort();
  a->bad++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  static const int algos[4] = {VOUCH_ALGO_PDQ, VOUCH_ALGO_PHASH, VOUCH_ALGO_DHASH, VOUCH_ALGO_AHASH};
  vouch_list_page pg;
  vouch_list_opts o = {algos[data[0] & 3], (data[0] >> 2) % (VOUCH_LIST_FORMAT_LAST + 1),
                       (data[0] & 0x80) ? "hash" : NULL, NULL, 0, &pg};
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  if (vouch_utf8_valid(text, len) != ref_utf8((const uint8_t *)text, len)) abort();
  size_t lines = 1;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  acc a = {0}, b = {0};
  int f1 = -1, f2 = -1;
  int forced = o.format;
  a.page = b.page = forced == VOUCH_LIST_NCMEC || forced == VOUCH_LIST_STOPNCII || forced == VOUCH_LIST_TAT ||
                    forced == VOUCH_LIST_TE_UPDATES ||
                    (forced == VOUCH_LIST_AUTO && memchr(text, '<', len) != NULL) ||
                    (forced == VOUCH_LIST_AUTO && memchr(text, '{', len) != NULL);
  int r1 = vouch_hashlist_parse(text, len, &o, on_item, on_error, &a, &f1);
  int r2 = vouch_hashlist_parse(text, len, &o, on_item, on_error, &b, &f2);
  if (r1 != r2 || f1 != f2 || a.items != b.items || a.bad != b.bad || a.digest != b.digest) abort();
  if (!a.page && (a.items + a.bad > lines || a.last_line > lines)) abort();
  if (memchr(pg.checkpoint, 0, sizeof pg.checkpoint) == NULL || memchr(pg.next, 0, sizeof pg.next) == NULL) abort();
  if (r1 != VOUCH_OK && r1 != VOUCH_E_HASH_PARSE && r1 != VOUCH_E_NOMEM) abort();
  return 0;
}
