/* tests/fuzz/fuzz_voucher.c -- the server's voucher parser and opener.
 *
 * Both voucher formats' schemes (exact, band with probes); modes below. */
#include <stdlib.h>
#include <string.h>
#include "psi/psi_internal.h"

/* Two fixed-seed worlds: 0 = exact keys (P = 1), 1 = band keys with
 * P = 4 probes, where the voucher's photo differs from a database entry in
 * its two lowest-margin band bits, so one of its probes (not the first)
 * matches. */
#define FZ_PROBES 4U
static struct world {
  vouch_psi_server_key *key;
  uint8_t *pd;
  size_t pd_len;
  vouch_psi_public *pub;
  vouch_psi_account *acct;
  uint8_t *voucher;
  size_t vlen;
} W[2];
static int ready;

static void init_world(struct world *w, int band) {
  vouch__rng r;
  uint8_t seed[32] = {'f', 'u', 'z', 'z', (uint8_t)band}, hashes[8 * 32], keys[8 * 32];
  vouch__rng_seed(&r, seed);
  vouch__rng_bytes(&r, hashes, sizeof hashes);
  vouch_psi_setup_opts o = {0};
  if (band) {
    o.algo = VOUCH_ALGO_PDQ;
    o.scheme = VOUCH_PSI_SCHEME_BAND;
    o.band = VOUCH_PSI_BAND_DEFAULT;
    o.probes = FZ_PROBES;
  }
  for (int i = 0; i < 8; i++)
    if (vouch_psi_entry_key(o.scheme, o.band, VOUCH_ALGO_PDQ, hashes + 32 * i, 32, keys + 32 * i) !=
        VOUCH_OK)
      abort();
  vouch_psi_payload pl;
  if (vouch__server_key_generate(&w->key, &r) != VOUCH_OK ||
      vouch__setup(w->key, keys, 8, &o, &w->pd, &w->pd_len, NULL, &r) != VOUCH_OK ||
      vouch_psi_public_open(&w->pub, w->pd, w->pd_len, NULL) != VOUCH_OK ||
      vouch__account_create(&w->acct, 2, 4, &r) != VOUCH_OK)
    abort();
  /* The photo: entry 3, with band positions 0 and 1 flipped; they get the
   * smallest margins, so probe {0, 1} (the fourth) is the database's key. */
  uint8_t h[32];
  float margin[VOUCH_PDQ_BITS];
  unsigned pos[2];
  memcpy(h, hashes + 3 * 32, 32);
  for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++)
    margin[k] = 100.0f + (float)k;
  if (band) {
    unsigned p16[16];
    if (vouch_psi_band_positions(16, p16) != VOUCH_OK)
      abort();
    for (int i = 0; i < 2; i++) {
      pos[i] = p16[i];
      h[31 - pos[i] / 8] ^= (uint8_t)(1u << (pos[i] % 8));
      margin[pos[i]] = 1.0f + (float)i;
    }
  }
  if (vouch_psi_payload_init(&pl, VOUCH_ALGO_PDQ, h, 32, NULL) != VOUCH_OK)
    abort();
  if (!band)
    memcpy(pl.match_key, keys + 3 * 32, 32);
  w->vlen = vouch_psi_voucher_bytes(4, band ? FZ_PROBES : 1);
  w->voucher = malloc(w->vlen);
  if (!w->voucher ||
      vouch__voucher_make(w->acct, w->pub, &pl, margin, 0, 0, w->voucher, w->vlen, NULL, &r) != VOUCH_OK)
    abort();
}

/* Input byte 0 picks the mode:
 *   'M' / 'N'  mutations of the valid, matching voucher of world 0 / 1: the
 *              rest is a list of (u16 offset, u8 xor) triples.  Invariant: a
 *              voucher changed in any byte never opens; unchanged, it
 *              always does, with exactly one slot.
 *   else       the rest is a voucher as received from the network, given to
 *              world (byte 0 & 1): any bytes give a return code, never a crash.
 * After each input the server runs a reveal (detection + interpolation). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ready) {
    if (vouch_init() < 0)
      abort();
    init_world(&W[0], 0);
    init_world(&W[1], 1);
    ready = 1;
  }
  const int which = size >= 1 ? (data[0] == 'N' || (data[0] != 'M' && (data[0] & 1))) : 0;
  struct world *w = &W[which];
  vouch_psi_server *srv;
  if (vouch_psi_server_create(&srv, w->key, w->pd, w->pd_len) != VOUCH_OK)
    abort();
  int st;
  size_t idx;
  if (size >= 1 && (data[0] == 'M' || data[0] == 'N')) {
    uint8_t *v = malloc(w->vlen);
    if (!v)
      abort();
    memcpy(v, w->voucher, w->vlen);
    for (size_t i = 1; i + 3 <= size; i += 3) {
      size_t off = (size_t)(data[i] | data[i + 1] << 8) % w->vlen;
      v[off] ^= data[i + 2];
    }
    int changed = memcmp(v, w->voucher, w->vlen) != 0;
    int rc = vouch_psi_server_add(srv, v, w->vlen, &st, &idx);
    if (changed && rc == VOUCH_OK && st == VOUCH_PSI_OPENED)
      abort(); /* a modified voucher opened */
    if (!changed && (rc != VOUCH_OK || st != VOUCH_PSI_OPENED))
      abort(); /* the valid voucher did not */
    vouch_psi_voucher_info info;
    if (!changed && (vouch_psi_server_info(srv, idx, &info) != VOUCH_OK || info.slots_opened != 1))
      abort(); /* one probe key in the database: one slot */
    free(v);
  } else {
    const uint8_t *v = size ? data + 1 : data;
    size_t n = size ? size - 1 : 0;
    int rc = vouch_psi_server_add(srv, v, n, &st, &idx);
    if (rc == VOUCH_OK && st == VOUCH_PSI_OPENED && (n != w->vlen || memcmp(v, w->voucher, n) != 0))
      abort(); /* only the fixed world's voucher can open */
    /* Whatever came first, the real voucher still opens (or is the same bytes again). */
    if (vouch_psi_server_add(srv, w->voucher, w->vlen, &st, &idx) != VOUCH_OK ||
        (st != VOUCH_PSI_OPENED && st != VOUCH_PSI_DUPLICATE))
      abort();
  }
  vouch_psi_summary sum;
  if (vouch_psi_server_reveal(srv, &sum) != VOUCH_OK || sum.threshold_crossed)
    abort();
  vouch_psi_server_free(srv);
  return 0;
}
