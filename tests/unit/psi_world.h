/* tests/unit/psi_world.h -- a protocol world for the PSI tests (test_psi.c,
 * test_psi_probe.c): a server key, public data over n random PDQ hashes, an
 * account, all from a seeded generator.  P = 0: exact keys (the public data
 * of vouch_psi_setup's defaults); P > 0: band keys with b = 48 and P probes. */
#ifndef VOUCH_TEST_PSI_WORLD_H
#define VOUCH_TEST_PSI_WORLD_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "psi/psi_internal.h"

static void seed_rng(vouch__rng *r, uint32_t seed, uint32_t stream) {
  uint8_t s[32] = {0};
  vouch__store32_le(s, seed);
  vouch__store32_le(s + 4, stream);
  vouch__rng_seed(r, s);
}

typedef struct world {
  vouch_psi_server_key *skey;
  uint8_t *pd;
  size_t pd_len;
  vouch_psi_public *pub;
  vouch_psi_account *acct;
  uint8_t (*db)[32];     /* hashes in the database (PDQ-sized) */
  size_t n;
  unsigned P;            /* 0: exact keys */
  vouch__rng rng;
  size_t vlen;
} world;

/* (Re)builds the public data from w->db (after a test changed entries). */
static int world_setup(world *w) {
  uint8_t *keys = calloc(w->n ? w->n : 1, 32);
  vouch_psi_setup_opts o = {VOUCH_ALGO_PDQ, 1, NULL, VOUCH_PSI_SCHEME_BAND, 48, w->P, NULL, NULL, 0, NULL, 0, NULL};
  int rc = keys ? VOUCH_OK : VOUCH_E_NOMEM;
  for (size_t i = 0; rc == VOUCH_OK && i < w->n; i++)
    rc = vouch_psi_entry_key(w->P ? VOUCH_PSI_SCHEME_BAND : VOUCH_PSI_SCHEME_EXACT, 48, VOUCH_ALGO_PDQ,
                             w->db[i], 32, keys + 32 * i);
  vouch_free(w->pd);
  vouch_psi_public_free(w->pub);
  w->pd = NULL;
  w->pub = NULL;
  if (rc == VOUCH_OK)
    rc = vouch__setup(w->skey, keys, w->n, w->P ? &o : NULL, &w->pd, &w->pd_len, NULL, &w->rng);
  if (rc == VOUCH_OK)
    rc = vouch_psi_public_open(&w->pub, w->pd, w->pd_len, NULL);
  free(keys);
  return rc;
}

static int world_init(world *w, uint32_t seed, size_t n, unsigned t, unsigned s, unsigned P) {
  memset(w, 0, sizeof *w);
  seed_rng(&w->rng, seed, P ? 3 : 1);
  w->n = n;
  w->P = P;
  w->db = calloc(n ? n : 1, 32);
  if (!w->db)
    return -1;
  for (size_t i = 0; i < n; i++)
    vouch__rng_bytes(&w->rng, w->db[i], 32);
  int rc = vouch__server_key_generate(&w->skey, &w->rng);
  if (rc == VOUCH_OK)
    rc = world_setup(w);
  if (rc == VOUCH_OK)
    rc = vouch__account_create(&w->acct, t, s, &w->rng);
  w->vlen = vouch_psi_voucher_bytes(s, P ? P : 1);
  return rc == VOUCH_OK ? 0 : -1;
}

static void world_free(world *w) {
  vouch_psi_account_free(w->acct);
  vouch_psi_public_free(w->pub);
  vouch_free(w->pd);
  vouch_psi_server_key_free(w->skey);
  free(w->db);
}

static inline void world_flip(uint8_t h[32], unsigned k) { h[31 - k / 8] ^= (uint8_t)(1u << (k % 8)); }

/* Adds a voucher; returns its status, or -100 - rc on an error; *slots
 * (may be NULL) receives how many of its slots opened. */
static inline int world_add(vouch_psi_server *srv, const uint8_t *v, size_t len, unsigned *slots) {
  int st = -1;
  size_t idx;
  int rc = vouch_psi_server_add(srv, v, len, &st, &idx);
  vouch_psi_voucher_info info = {0};
  if (rc == VOUCH_OK && vouch_psi_server_info(srv, idx, &info) != VOUCH_OK)
    return -99;
  if (slots)
    *slots = info.slots_opened;
  return rc == VOUCH_OK ? st : -100 - rc;
}

/* The photo tests' tools: a decoder, a hasher and examples/NAME decoded. */
typedef struct photo_kit {
  vouch_decoder *dec;
  vouch_hasher *h;
  vouch_image img;
  char path[1024];
} photo_kit;

static inline void kit_close(photo_kit *k) {
  vouch_image_clear(&k->img);
  vouch_hasher_free(k->h);
  vouch_decoder_free(k->dec);
  k->h = NULL;
  k->dec = NULL;
}

/* @return 0, or 1 when the file is missing (the kit is closed: skip the test). */
static inline int kit_open(photo_kit *k, const char *name) {
  const char *src = getenv("VOUCH_SRC");
  memset(k, 0, sizeof *k);
  snprintf(k->path, sizeof k->path, "%s/examples/%s", src ? src : ".", name);
  if (vouch_decoder_create(&k->dec, NULL) != VOUCH_OK || vouch_hasher_create(&k->h) != VOUCH_OK)
    abort();
  if (vouch_decoder_decode_file(k->dec, k->path, &k->img) != VOUCH_OK) {
    printf("  (no %s: skipped)\n", k->path);
    kit_close(k);
    return 1;
  }
  return 0;
}

#endif
