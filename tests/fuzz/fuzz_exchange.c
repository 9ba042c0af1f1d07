/* tests/fuzz/fuzz_exchange.c -- the exchange page parsers (NCMEC XML,
 * StopNCII, Tech Against Terrorism and ThreatExchange JSON) on arbitrary
 * bytes.  The first byte picks the format (bits 0-1: StopNCII, TAT, NCMEC,
 * detection; bit 3 with bits 0-1 clear: ThreatExchange) and the bank's
 * algorithm (bit 2: PDQ or pHash).  Invariants: no crash, nothing printed;
 * every item is of a known kind; an ADD has a hash, a SKIP none; an NCMEC
 * item has an ext_id and its DELETE no hash, a ThreatExchange DELETE a hash
 * or an ext_id, another JSON DELETE a hash; a ThreatExchange next link keeps
 * no access_token parameter; JSON
 * records come one item or error each, in order, and add up to the page's
 * record count; the page strings are NUL-terminated; parsing twice gives the
 * same items, errors and page. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/vouch.h"
#include "vouch/bank.h"

typedef struct acc {
  int xml, te;
  size_t items, bad, last;
  uint64_t digest;
} acc;

static int on_item(void *ctx, const vouch_list_item *it) {
  acc *a = ctx;
  if (it->line == 0 || (!a->xml && it->line <= a->last)) abort();
  a->last = it->line;
  if (a->xml && !it->ext_id) abort();
  switch (it->kind) {
  case VOUCH_ITEM_ADD: if (!it->hash) abort(); break;
  case VOUCH_ITEM_DELETE:
    if (a->te ? !it->hash && !it->ext_id : a->xml ? it->hash != NULL : it->hash == NULL) abort();
    break;
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
  /* bits 0-1 and 3 pick the format (bit 3 set: ThreatExchange or as bits 0-1 say), bit 2 the algorithm */
  static const int formats[8] = {VOUCH_LIST_STOPNCII, VOUCH_LIST_TAT, VOUCH_LIST_NCMEC, VOUCH_LIST_AUTO,
                                 VOUCH_LIST_TE_UPDATES, VOUCH_LIST_TAT, VOUCH_LIST_NCMEC, VOUCH_LIST_AUTO};
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  vouch_list_page p1, p2;
  vouch_list_opts o = {(data[0] & 4) ? VOUCH_ALGO_PHASH : VOUCH_ALGO_PDQ, formats[(data[0] & 3) | ((data[0] >> 1) & 4)], NULL, NULL, 0,
                      &p1};
  int fmt = o.format == VOUCH_LIST_AUTO ? vouch_list_detect(text, len) : o.format;
  if (fmt == VOUCH_LIST_AUTO) return 0; /* a line format: fuzz_hashlist's job */
  acc a = {fmt == VOUCH_LIST_NCMEC, fmt == VOUCH_LIST_TE_UPDATES, 0, 0, 0, 0}, b = a;
  int f1 = -1, f2 = -1;
  int r1 = vouch_hashlist_parse(text, len, &o, on_item, on_error, &a, &f1);
  o.page = &p2;
  int r2 = vouch_hashlist_parse(text, len, &o, on_item, on_error, &b, &f2);
  if (r1 != r2 || f1 != f2 || f1 != fmt || a.items != b.items || a.bad != b.bad || a.digest != b.digest) abort();
  if (r1 != VOUCH_OK && r1 != VOUCH_E_HASH_PARSE && r1 != VOUCH_E_NOMEM) abort();
  if (!memchr(p1.checkpoint, 0, sizeof p1.checkpoint) || !memchr(p1.next, 0, sizeof p1.next)) abort();
  if (memcmp(&p1, &p2, sizeof p1) != 0) abort();
  /* a ThreatExchange next link never keeps its access_token parameter */
  const char *q = fmt == VOUCH_LIST_TE_UPDATES ? strchr(p1.next, '?') : NULL;
  for (; q; q = strchr(q + 1, '&'))
    if (!strncmp(q + 1, "access_token=", 13)) abort();
  if (r1 == VOUCH_OK && (a.xml ? a.items + a.bad < p1.records : a.items + a.bad != p1.records)) abort();
  return 0;
}
