/* tests/fuzz/fuzz_index.c -- the index loader on arbitrary bytes.
 * Most inputs fail the checksum; so that the structural checks are fuzzed
 * too, an input starting with '!' gets its checksum recomputed first.
 * Invariants: no crash or sanitizer report; a file that opens can be read
 * entry by entry and searched, and the scan and MIH engines (and the
 * scalar kernel) return identical results. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "vouch/vouch.h"
#include "vouch/index.h"

static int same(const vouch_match *a, size_t na, const vouch_match *b, size_t nb) {
  return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (vouch_init() < 0) abort();
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  if (size > 33 && buf[0] == '!') {
    memcpy(buf, "VOUCHIDX", size - 32 < 8 ? size - 32 : 8);
    crypto_generichash(buf + size - 32, 32, buf, size - 32, NULL, 0);
  }
  vouch_index *idx = NULL, *sc = NULL;
  vouch_index_config cfg = vouch_index_config_default();
  int rc = vouch_index_open_buffer(&idx, buf, size, &cfg);
  if (rc == VOUCH_OK) {
    cfg.force_scalar = 1;
    cfg.build_mih = 0;
    if (vouch_index_open_buffer(&sc, buf, size, &cfg) != VOUCH_OK) abort();
    size_t n = vouch_index_count(idx), hb = vouch_index_hash_bytes(idx);
    for (size_t i = 0; i < n; i++) {
      vouch_index_entry e;
      if (vouch_index_get(idx, i, &e) != VOUCH_OK) abort();
      if (!vouch_index_bank_name(idx, e.bank)) abort();
    }
    (void)vouch_index_verify_root(idx);
    uint8_t q[8 * 32];
    for (size_t i = 0; i < sizeof q; i++) q[i] = (uint8_t)(size > 0 ? data[i % size] ^ i : i);
    if (n > 0) { /* variant 0 near the middle entry, so searches find something */
      vouch_index_entry e;
      vouch_index_get(idx, n / 2, &e);
      memcpy(q, e.hash, hb);
      q[0] ^= 0x11;
    }
    unsigned radius = size % (unsigned)(hb * 8 + 1);
    for (unsigned nvar = 1; nvar <= 8; nvar += 7) {
      vouch_search_opts o1 = {radius, VOUCH_ENGINE_SCAN, 1}, o2 = {radius, VOUCH_ENGINE_MIH, 2};
      vouch_match *m1 = NULL, *m2 = NULL, *m3 = NULL;
      size_t n1 = 0, n2 = 0, n3 = 0;
      int a = vouch_index_search(idx, q, 1, nvar, &o1, &m1, &n1);
      int b = vouch_index_search(idx, q, 1, nvar, &o2, &m2, &n2);
      int c = vouch_index_search(sc, q, 1, nvar, &o1, &m3, &n3);
      if (a != VOUCH_OK || b != VOUCH_OK || c != VOUCH_OK) abort();
      if (!same(m1, n1, m2, n2) || !same(m1, n1, m3, n3)) abort();
      vouch_matches_free(m1);
      vouch_matches_free(m2);
      vouch_matches_free(m3);
    }
  } else if (vouch_index_errmsg(idx)[0] == 0) {
    abort(); /* every failure says why */
  }
  vouch_index_free(idx);
  vouch_index_free(sc);
  free(buf);
  return 0;
}
