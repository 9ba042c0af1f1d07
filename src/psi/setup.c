/* src/psi/setup.c -- server key, server setup (blinded cuckoo table) and the
 * client's validation of public data (docs/protocol.md section 5). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "psi_internal.h"
#include "public_internal.h"
#include "vouch/merkle.h"

_Static_assert(VOUCH_PSI_ROOT_BYTES == VOUCH_MERKLE_HASH_BYTES, "the audit root is a Merkle root");

/* ///////////////////////////////////////////////////////////// server key */

#define SRVKEY_MAGIC "VSRVKEY1"

static int server_key_alloc(vouch_psi_server_key **out) {
  vouch_psi_server_key *k = sodium_malloc(sizeof *k);
  if (!k)
    return VOUCH_E_NOMEM;
  *out = k;
  return VOUCH_OK;
}

static int server_key_from_seed(vouch_psi_server_key *k, const uint8_t alpha[32],
                                const uint8_t seed[32]) {
  memcpy(k->alpha, alpha, 32);
  memcpy(k->seed, seed, 32);
  crypto_sign_ed25519_seed_keypair(k->sign_pk, k->sign_sk, seed);
  return VOUCH_OK;
}

int vouch__server_key_generate(vouch_psi_server_key **out, vouch__rng *rng) {
  uint8_t alpha[32], seed[32];
  VOUCH_TRY(server_key_alloc(out));
  vouch__rng_scalar(rng, alpha);
  vouch__rng_bytes(rng, seed, sizeof seed);
  server_key_from_seed(*out, alpha, seed);
  sodium_memzero(alpha, sizeof alpha);
  sodium_memzero(seed, sizeof seed);
  return VOUCH_OK;
}

int vouch_psi_server_key_generate(vouch_psi_server_key **out) {
  return vouch__server_key_generate(out, NULL);
}

static void server_key_sum(const uint8_t *buf, uint8_t sum[16]) {
  vouch__kdf_part part = {buf, 80};
  vouch__kdf(sum, 16, "srv-sum", NULL, 0, &part, 1);
}

int vouch_psi_server_key_save(const vouch_psi_server_key *key, uint8_t *buf, size_t cap) {
  if (cap < VOUCH_PSI_SERVER_KEY_FILE_BYTES)
    return VOUCH_E_INVALID;
  memset(buf, 0, VOUCH_PSI_SERVER_KEY_FILE_BYTES);
  memcpy(buf, SRVKEY_MAGIC, 8);
  buf[8] = 1; /* version */
  memcpy(buf + 16, key->alpha, 32);
  memcpy(buf + 48, key->seed, 32);
  server_key_sum(buf, buf + 80);
  return VOUCH_OK;
}

int vouch_psi_server_key_load(vouch_psi_server_key **out, const uint8_t *buf, size_t len) {
  static const uint8_t zero7[7];
  uint8_t sum[16], canon[32], wide[64] = {0};
  *out = NULL;
  if (len != VOUCH_PSI_SERVER_KEY_FILE_BYTES || memcmp(buf, SRVKEY_MAGIC, 8) != 0 || buf[8] != 1 ||
      memcmp(buf + 9, zero7, 7) != 0)
    return VOUCH_E_PSI_FORMAT;
  server_key_sum(buf, sum);
  if (sodium_memcmp(sum, buf + 80, 16) != 0)
    return VOUCH_E_PSI_FORMAT;
  /* alpha must be a reduced, non-zero scalar */
  memcpy(wide, buf + 16, 32);
  crypto_core_ristretto255_scalar_reduce(canon, wide);
  int bad = sodium_memcmp(canon, buf + 16, 32) != 0 || sodium_is_zero(canon, 32);
  sodium_memzero(canon, sizeof canon);
  sodium_memzero(wide, sizeof wide);
  if (bad)
    return VOUCH_E_PSI_FORMAT;
  VOUCH_TRY(server_key_alloc(out));
  return server_key_from_seed(*out, buf + 16, buf + 48);
}

void vouch_psi_server_key_signer(const vouch_psi_server_key *key, uint8_t pk[32]) {
  memcpy(pk, key->sign_pk, 32);
}

void vouch_psi_server_key_free(vouch_psi_server_key *key) {
  if (key)
    sodium_free(key); /* sodium_free wipes */
}

/* ////////////////////////////////////////////////////////////////// setup */

static int cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Cuckoo insertion of n keys into m slots; slot_of[i] receives key i's slot.
 * occupant[] is scratch of m entries.  @return 0, or -1 if a key could not be
 * placed within the kick budget. */
#define CUCKOO_MAX_KICKS 2000U
static int cuckoo_fill(const uint8_t *keys, size_t n, uint32_t m, const uint8_t seed[32],
                       uint32_t *occupant, uint32_t (*slots)[2]) {
  const uint32_t empty = UINT32_MAX;
  for (uint32_t i = 0; i < m; i++)
    occupant[i] = empty;
  for (size_t i = 0; i < n; i++)
    vouch__cuckoo_slots(seed, m, keys + 32 * i, slots[i]);
  for (size_t i = 0; i < n; i++) {
    uint32_t cur = (uint32_t)i, pos = slots[i][0];
    unsigned kicks = 0;
    for (;;) {
      uint32_t prev = occupant[pos];
      occupant[pos] = cur;
      if (prev == empty)
        break;
      if (++kicks > CUCKOO_MAX_KICKS)
        return -1;
      cur = prev; /* move the evicted key to its other slot */
      pos = slots[cur][0] == pos ? slots[cur][1] : slots[cur][0];
    }
  }
  return 0;
}

typedef struct blind_job {
  const vouch_psi_server_key *key;
  const uint8_t *keys;      /* deduplicated match keys */
  const uint32_t *occupant; /* key index per slot, or UINT32_MAX */
  const uint8_t *dummy_seed;
  uint8_t *table;
  uint8_t *labels;          /* NULL, or the label of every slot */
  uint32_t lo, hi;          /* slot range */
  int rc;
} blind_job;

static void *blind_range(void *arg) {
  blind_job *j = arg;
  uint8_t h[32], wide[64];
  j->rc = VOUCH_OK;
  for (uint32_t i = j->lo; i < j->hi; i++) {
    uint8_t *out = j->table + 32 * (size_t)i;
    if (j->occupant[i] != UINT32_MAX) {
      vouch__hash_to_group(h, j->keys + 32 * (size_t)j->occupant[i], 32);
      if (crypto_scalarmult_ristretto255(out, j->key->alpha, h) != 0)
        j->rc = VOUCH_E_INTERNAL; /* identity: probability 2^-252 */
    } else {
      /* Dummy slot: alpha * H(dummy label), the label a PRF of the slot
       * number under the dummy seed (so the blinding proof covers it). */
      vouch_psi_dummy_label(j->dummy_seed, i, wide);
      vouch__hash_to_group(h, wide, 32);
      if (crypto_scalarmult_ristretto255(out, j->key->alpha, h) != 0)
        j->rc = VOUCH_E_INTERNAL;
    }
    if (j->labels)
      memcpy(j->labels + 32 * (size_t)i,
             j->occupant[i] != UINT32_MAX ? j->keys + 32 * (size_t)j->occupant[i] : wide, 32);
  }
  sodium_memzero(wide, sizeof wide);
  return NULL;
}

#define SETUP_MAX_THREADS 64U

int vouch__setup(const vouch_psi_server_key *key, const uint8_t *keys, size_t n,
                 const vouch_psi_setup_opts *opts, uint8_t **out, size_t *out_len,
                 uint8_t audit_root[32], vouch__rng *rng) {
  uint8_t *sorted = NULL, *buf = NULL, *labels = NULL;
  uint32_t *occupant = NULL;
  uint32_t(*slots)[2] = NULL;
  uint8_t seed[32], dummy_seed[32], root[32];
  int rc = VOUCH_OK;
  *out = NULL;
  *out_len = 0;
  if (n > VOUCH_PSI_SET_MAX)
    return VOUCH_E_LIMIT;
  if (n > 0 && !keys)
    return VOUCH_E_INVALID;
  int scheme = opts ? opts->scheme : VOUCH_PSI_SCHEME_EXACT;
  unsigned band = opts ? opts->band : 0, probes = opts ? opts->probes : 1;
  if (scheme == VOUCH_PSI_SCHEME_EXACT) {
    if (band != 0 || probes > 1)
      return VOUCH_E_INVALID;
    probes = 1;
  } else if (scheme != VOUCH_PSI_SCHEME_BAND || !opts || opts->algo != VOUCH_ALGO_PDQ ||
             band < VOUCH_PSI_BAND_MIN || band > VOUCH_PSI_BAND_MAX || probes < 1 ||
             probes > VOUCH_PSI_PROBES_MAX) {
    return VOUCH_E_INVALID;
  }

  /* 1. deduplicate */
  sorted = vouch__malloc(n * 32);
  if (!sorted)
    return VOUCH_E_NOMEM;
  if (n)
    memcpy(sorted, keys, n * 32);
  size_t u = vouch__sort_unique32(sorted, n);
  if (opts && opts->audit_root) {
    memcpy(root, opts->audit_root, 32);
  } else {
    rc = vouch_merkle_root(sorted, u, 32, root);
    if (rc != VOUCH_OK)
      goto done;
  }

  /* 2-3. table size and cuckoo placement */
  size_t m = vouch_psi_slots_for(u);
  if (m > VOUCH_PSI_SLOTS_MAX) {
    rc = VOUCH_E_LIMIT;
    goto done;
  }
  occupant = vouch__calloc(m, sizeof *occupant);
  slots = vouch__calloc(u ? u : 1, sizeof *slots);
  size_t len = VOUCH_PSI_PUBLIC_BYTES(m);
  buf = vouch__malloc(len);
  if (!occupant || !slots || !buf) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  int placed = -1;
  for (int attempt = 0; attempt < 16 && placed != 0; attempt++) {
    vouch__rng_bytes(rng, seed, sizeof seed);
    placed = cuckoo_fill(sorted, u, (uint32_t)m, seed, occupant, slots);
  }
  if (placed != 0) {
    rc = VOUCH_E_INTERNAL;
    goto done;
  }

  /* 4. blind keys, fill dummies (in parallel over slot ranges) */
  if ((opts && opts->labels && opts->labels_cap < m) ||
      (opts && opts->audit_out && opts->audit_cap < VOUCH_PSI_AUDIT_BYTES(m))) {
    rc = VOUCH_E_INVALID;
    goto done;
  }
  labels = opts && opts->labels ? opts->labels : vouch__malloc(32 * m);
  if (!labels) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  if (opts && opts->dummy_seed)
    memcpy(dummy_seed, opts->dummy_seed, 32);
  else
    vouch__rng_bytes(rng, dummy_seed, sizeof dummy_seed);
  uint8_t *table = buf + VOUCH__PD_HEADER;
  unsigned nt = opts && opts->threads > 1 ? opts->threads : 1;
  if (nt > SETUP_MAX_THREADS)
    nt = SETUP_MAX_THREADS;
  if ((size_t)nt > m)
    nt = 1;
  blind_job jobs[SETUP_MAX_THREADS];
  pthread_t tids[SETUP_MAX_THREADS];
  unsigned started = 0;
  for (unsigned t = 0; t < nt; t++) {
    jobs[t] = (blind_job){key, sorted, occupant, dummy_seed, table, labels,
                          (uint32_t)(m * t / nt), (uint32_t)(m * (t + 1) / nt), VOUCH_OK};
  }
  for (unsigned t = 1; t < nt; t++) {
    if (pthread_create(&tids[t], NULL, blind_range, &jobs[t]) != 0)
      break;
    started = t;
  }
  /* Ranges whose thread did not start run here. */
  blind_range(&jobs[0]);
  for (unsigned t = started + 1; t < nt; t++)
    blind_range(&jobs[t]);
  for (unsigned t = 1; t <= started; t++)
    pthread_join(tids[t], NULL);
  for (unsigned t = 0; t < nt; t++)
    if (jobs[t].rc != VOUCH_OK)
      rc = jobs[t].rc;
  if (rc != VOUCH_OK)
    goto done;

  /* 5-6. header, audit root, signature */
  memset(buf, 0, VOUCH__PD_HEADER);
  memcpy(buf, VOUCH__PD_MAGIC, 8);
  buf[8] = VOUCH__PD_VERSION;
  buf[9] = (uint8_t)(opts ? opts->algo : 0);
  buf[10] = (uint8_t)scheme;
  buf[11] = (uint8_t)band;
  vouch__store32_le(buf + 12, (uint32_t)m);
  memcpy(buf + 16, seed, 32);
  crypto_scalarmult_ristretto255_base(buf + 48, key->alpha);
  memcpy(buf + 80, root, 32);
  memcpy(buf + 112, key->sign_pk, 32);
  buf[144] = (uint8_t)probes;
  buf[145] = (uint8_t)(probes >> 8);
  vouch__dseed_commit(dummy_seed, buf + VOUCH__PD_COMMIT);
  /* 5b. the proof of honest blinding (section 13), then the signature over all */
  rc = vouch_psi_blinding_prove(key, buf, len, labels, buf + VOUCH__PD_PROOF);
  if (rc != VOUCH_OK)
    goto done;
  crypto_sign_ed25519_detached(buf + len - 64, NULL, buf, len - 64, key->sign_sk);
  if (opts && opts->audit_out) {
    /* The auditors' file: pdid, dummy seed, slot map. */
    uint8_t *a = opts->audit_out;
    memset(a, 0, VOUCH__AUDIT_HEADER);
    memcpy(a, VOUCH__AUDIT_MAGIC, 8);
    a[8] = 1;
    vouch__pd_id(buf, len, a + 16);
    memcpy(a + 32, dummy_seed, 32);
    vouch__store32_le(a + 64, (uint32_t)m);
    vouch__store32_le(a + 68, (uint32_t)u);
    for (size_t i = 0; i < m; i++)
      vouch__store32_le(a + VOUCH__AUDIT_HEADER + 4 * i, occupant[i]);
    if (opts->audit_len)
      *opts->audit_len = VOUCH_PSI_AUDIT_BYTES(m);
  }
  if (audit_root)
    memcpy(audit_root, root, 32);
  *out = buf;
  *out_len = len;
  buf = NULL;
done:
  sodium_memzero(dummy_seed, sizeof dummy_seed);
  if (labels && !(opts && opts->labels == labels))
    vouch__free(labels);
  vouch__free(sorted);
  vouch__free(occupant);
  vouch__free(slots);
  vouch__free(buf);
  return rc;
}

int vouch_psi_setup(const vouch_psi_server_key *key, const uint8_t *keys, size_t n,
                    const vouch_psi_setup_opts *opts, uint8_t **out, size_t *out_len,
                    uint8_t audit_root[VOUCH_PSI_ROOT_BYTES]) {
  return vouch__setup(key, keys, n, opts, out, out_len, audit_root, NULL);
}

/* ///////////////////////////////////////////////////////// public data */

int vouch__pd_header(const uint8_t *buf, size_t len, int *algo, int *scheme, unsigned *band,
                     unsigned *probes, uint32_t *m) {
  static const uint8_t zero14[14];
  if (!buf || len < 9 || memcmp(buf, VOUCH__PD_MAGIC, 8) != 0)
    return VOUCH_E_PSI_FORMAT;
  if (buf[8] < VOUCH__PD_VERSION)
    return VOUCH_E_PSI_VERSION;
  if (buf[8] != VOUCH__PD_VERSION || len < VOUCH_PSI_PUBLIC_BYTES(16) ||
      memcmp(buf + 146, zero14, 14) != 0)
    return VOUCH_E_PSI_FORMAT;
  *algo = buf[9];
  *scheme = buf[10];
  *band = buf[11];
  *probes = vouch__load16_le(buf + 144);
  *m = vouch__load32_le(buf + 12);
  if (*scheme == VOUCH_PSI_SCHEME_EXACT) {
    if (*band != 0 || *probes != 1)
      return VOUCH_E_PSI_FORMAT;
  } else if (*scheme != VOUCH_PSI_SCHEME_BAND || *algo != VOUCH_ALGO_PDQ ||
             *band < VOUCH_PSI_BAND_MIN || *band > VOUCH_PSI_BAND_MAX || *probes < 1 ||
             *probes > VOUCH_PSI_PROBES_MAX) {
    return VOUCH_E_PSI_FORMAT;
  }
  if (*m < 16 || *m > VOUCH_PSI_SLOTS_MAX || len != VOUCH_PSI_PUBLIC_BYTES(*m))
    return VOUCH_E_PSI_FORMAT;
  return VOUCH_OK;
}


int vouch_psi_public_open(vouch_psi_public **out, const uint8_t *buf, size_t len,
                          const uint8_t signer[VOUCH_PSI_SIGN_PK_BYTES]) {
  uint8_t *sorted = NULL;
  int rc = VOUCH_E_PSI_FORMAT;
  int algo, scheme;
  unsigned band, probes;
  uint32_t m;
  *out = NULL;
  rc = vouch__pd_header(buf, len, &algo, &scheme, &band, &probes, &m);
  if (rc != VOUCH_OK)
    return rc;
  rc = VOUCH_E_PSI_FORMAT;
  if (crypto_sign_ed25519_verify_detached(buf + len - 64, buf, len - 64, buf + 112) != 0)
    return VOUCH_E_PSI_AUTH;
  if (signer && memcmp(signer, buf + 112, 32) != 0)
    return VOUCH_E_PSI_AUTH;
  const uint8_t *L = buf + 48, *table = buf + VOUCH__PD_HEADER;
  if (!crypto_core_ristretto255_is_valid_point(L) || sodium_is_zero(L, 32))
    return VOUCH_E_PSI_FORMAT;
  for (uint32_t i = 0; i < m; i++) {
    const uint8_t *p = table + 32 * (size_t)i;
    if (sodium_is_zero(p, 32) || !crypto_core_ristretto255_is_valid_point(p))
      return VOUCH_E_PSI_FORMAT;
  }
  /* Duplicates: encodings are canonical, so equal points have equal bytes. */
  sorted = vouch__malloc(32 * (size_t)m);
  if (!sorted)
    return VOUCH_E_NOMEM;
  memcpy(sorted, table, 32 * (size_t)m);
  qsort(sorted, m, 32, cmp32);
  for (uint32_t i = 1; i < m; i++)
    if (memcmp(sorted + 32 * (size_t)(i - 1), sorted + 32 * (size_t)i, 32) == 0)
      goto fail;
  /* L must not be in the table either (it would let a slot open for synthetic-shaped inputs). */
  if (bsearch(L, sorted, m, 32, cmp32))
    goto fail;
  vouch_psi_public *pd = vouch__calloc(1, sizeof *pd);
  if (!pd) {
    rc = VOUCH_E_NOMEM;
    goto fail;
  }
  pd->buf = vouch__malloc(len);
  if (!pd->buf) {
    vouch__free(pd);
    rc = VOUCH_E_NOMEM;
    goto fail;
  }
  memcpy(pd->buf, buf, len);
  pd->len = len;
  pd->m = m;
  pd->algo = algo;
  pd->scheme = scheme;
  pd->band = band;
  pd->probes = probes;
  pd->seed = pd->buf + 16;
  pd->L = pd->buf + 48;
  pd->table = pd->buf + VOUCH__PD_HEADER;
  vouch__pd_id(buf, len, pd->id);
  *out = pd;
  rc = VOUCH_OK;
fail:
  vouch__free(sorted);
  return rc;
}

void vouch_psi_public_free(vouch_psi_public *pd) {
  if (!pd)
    return;
  vouch__free(pd->buf);
  vouch__free(pd);
}

void vouch_psi_public_scheme(const vouch_psi_public *pd, int *algo, int *scheme, unsigned *band,
                             unsigned *probes) {
  if (algo)
    *algo = pd->algo;
  if (scheme)
    *scheme = pd->scheme;
  if (band)
    *band = pd->band;
  if (probes)
    *probes = pd->probes;
}

void vouch_psi_public_info(const vouch_psi_public *pd, size_t *slots, uint8_t root[VOUCH_PSI_ROOT_BYTES],
                           uint8_t signer[VOUCH_PSI_SIGN_PK_BYTES]) {
  if (slots)
    *slots = pd->m;
  if (root)
    memcpy(root, pd->buf + 80, 32);
  if (signer)
    memcpy(signer, pd->buf + 112, 32);
}
