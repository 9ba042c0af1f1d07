/* tests/fuzz/fuzz_second_list.c -- the second-hash list parser
 * (vouch_second_list_parse(), what `vouch psi open --second` and vouchd's
 * /v1/review/second-hashes read) on arbitrary bytes.  Invariants: no crash;
 * success and failure are exclusive (a list xor a bad line number within the
 * input's line count); every entry's second hash has the version byte; the
 * entries are at most the lines; parsing twice gives the same list; a verdict
 * on a payload built from the first entry never crashes and is a known one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/vouch.h"
#include "vouch/review.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  size_t lines = 1;
  for (size_t i = 0; i < size; i++) lines += text[i] == '\n';
  vouch_second_list *a = NULL, *b = NULL;
  size_t bad_a = 0, bad_b = 0;
  int ra = vouch_second_list_parse(text, size, &a, &bad_a);
  int rb = vouch_second_list_parse(text, size, &b, &bad_b);
  if (ra != rb || bad_a != bad_b) abort();
  if (ra == VOUCH_OK) {
    if (!a || bad_a != 0) abort();
    size_t n = vouch_second_list_count(a);
    if (n > lines || n != vouch_second_list_count(b)) abort();
    for (size_t i = 0; i < n; i++) {
      const uint8_t *p1, *s1, *p2, *s2;
      if (vouch_second_list_get(a, i, &p1, &s1) != VOUCH_OK || vouch_second_list_get(b, i, &p2, &s2) != VOUCH_OK)
        abort();
      if (s1[0] != VOUCH_DERIV_HASH_VERSION || memcmp(p1, p2, VOUCH_PDQ_BYTES) ||
          memcmp(s1, s2, VOUCH_DERIV_HASH_BYTES))
        abort();
    }
    if (vouch_second_list_get(a, n, NULL, NULL) != VOUCH_E_INVALID) abort();
    if (n > 0) {
      const uint8_t *p, *s;
      vouch_second_list_get(a, 0, &p, &s);
      vouch_psi_payload pl;
      memset(&pl, 0, sizeof pl);
      pl.algo = VOUCH_ALGO_PDQ;
      pl.hash_len = VOUCH_PDQ_BYTES;
      memcpy(pl.hash, p, VOUCH_PDQ_BYTES);
      pl.thumb_w = pl.thumb_h = 8;
      for (unsigned i = 0; i < 64; i++) pl.thumb[i] = s[1 + i];
      int score;
      size_t entry;
      int v = vouch_second_list_verdict(a, &pl, 0, &score, &entry);
      if (v != VOUCH_DERIV_PASS && v != VOUCH_DERIV_FAIL) abort(); /* an entry at distance 0 exists */
      if (entry >= n || score < 0 || score > 1000) abort();
    }
  } else {
    if (a || bad_a == 0 || bad_a > lines) abort();
    if (ra != VOUCH_E_HASH_PARSE && ra != VOUCH_E_LIMIT && ra != VOUCH_E_NOMEM) abort();
  }
  vouch_second_list_free(a);
  vouch_second_list_free(b);
  return 0;
}
