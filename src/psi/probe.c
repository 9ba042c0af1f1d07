/* src/psi/probe.c -- robust match keys for PDQ: the band key and the
 * client's probe enumeration (docs/protocol.md section 4).  Everything here
 * depends on the photo's own hash and margins, never on a key of the
 * account or of the server; it is not constant time (section 9 says why
 * that is the same status as the cuckoo lookup). */
#include <math.h>
#include <string.h>
#include "psi_internal.h"
#include "vouch/hash.h"

/* Band position r (0-based) in the order (i + j, i) ascending, as the
 * coefficient index k = 16 i + j. */
static unsigned band_pos(unsigned r) {
  unsigned s = 0;
  while (r > s) { /* diagonal s holds s + 1 coefficients (i = 0..s) while s < 16 */
    r -= s + 1;
    s++;
  }
  return 16U * r + (s - r); /* i = r, j = s - r */
}

static int pdq_bit(const uint8_t hash[32], unsigned k) {
  return (hash[31 - k / 8] >> (k % 8)) & 1;
}

/* The band of `hash` as a b-bit integer (band bit r at bit r). */
static uint64_t band_bits(const uint8_t hash[32], unsigned b) {
  uint64_t v = 0;
  for (unsigned r = 0; r < b; r++)
    v |= (uint64_t)pdq_bit(hash, band_pos(r)) << r;
  return v;
}

static void band_key_bits(int algo, unsigned b, uint64_t bits, uint8_t out[32]) {
  uint8_t head[2] = {(uint8_t)algo, (uint8_t)b}, bytes[8];
  vouch__store64_le(bytes, bits);
  vouch__kdf_part parts[2] = {{head, 2}, {bytes, (b + 7) / 8}};
  vouch__kdf(out, 32, "bkey", NULL, 0, parts, 2);
}

static int band_args_ok(int algo, const uint8_t *hash, size_t hash_len, unsigned b) {
  return algo == VOUCH_ALGO_PDQ && hash && hash_len == VOUCH_PDQ_BYTES && b >= VOUCH_PSI_BAND_MIN &&
         b <= VOUCH_PSI_BAND_MAX;
}

int vouch_psi_band_key(int algo, const uint8_t *hash, size_t hash_len, unsigned b,
                       uint8_t out[VOUCH_PSI_MATCH_KEY_BYTES]) {
  if (!out || !band_args_ok(algo, hash, hash_len, b))
    return VOUCH_E_INVALID;
  band_key_bits(algo, b, band_bits(hash, b), out);
  return VOUCH_OK;
}

/* ---- probe enumeration: a binary min-heap of flip sets ---- */

typedef struct cand {
  uint64_t cost;  /* sum of the weights of the flipped ranks */
  uint64_t seq;   /* insertion number: the tie rule */
  uint64_t set;   /* flipped ranks (bit i = rank i) */
  unsigned last;  /* the largest rank in set */
} cand;

static int cand_less(const cand *a, const cand *b) {
  return a->cost < b->cost || (a->cost == b->cost && a->seq < b->seq);
}

static void heap_push(cand *h, size_t *n, cand c) {
  size_t i = (*n)++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!cand_less(&c, &h[p]))
      break;
    h[i] = h[p];
    i = p;
  }
  h[i] = c;
}

static cand heap_pop(cand *h, size_t *n) {
  cand top = h[0], last = h[--*n];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    const cand *best = &last;
    if (l < *n && cand_less(&h[l], best)) {
      m = l;
      best = &h[l];
    }
    if (l + 1 < *n && cand_less(&h[l + 1], best))
      m = l + 1;
    if (m == i)
      break;
    h[i] = h[m];
    i = m;
  }
  if (*n > 0)
    h[i] = last;
  return top;
}

int vouch__probe_flips(const float *margin, unsigned b, unsigned P, uint64_t *flips) {
  unsigned rho[VOUCH_PSI_BAND_MAX];
  uint64_t w[VOUCH_PSI_BAND_MAX];
  if (b < VOUCH_PSI_BAND_MIN || b > VOUCH_PSI_BAND_MAX || P < 1 || P > VOUCH_PSI_PROBES_MAX)
    return VOUCH_E_INVALID;
  /* Quantised weights q_r, ranks by (q_r, r) ascending (insertion sort: b <= 64). */
  uint64_t q[VOUCH_PSI_BAND_MAX];
  for (unsigned r = 0; r < b; r++) {
    float m = margin ? margin[band_pos(r)] : 0.0f;
    if (!(m >= 0.0f)) /* NaN or negative: treat as 0 */
      m = 0.0f;
    float s = m * 16.0f;
    q[r] = s >= 1048575.0f ? 1048575U : (uint64_t)floorf(s);
  }
  for (unsigned r = 0; r < b; r++) {
    unsigned i = r;
    while (i > 0 && q[rho[i - 1]] > q[r]) {
      rho[i] = rho[i - 1];
      i--;
    }
    rho[i] = r;
  }
  for (unsigned i = 0; i < b; i++)
    w[i] = q[rho[i]];

  cand *heap = vouch__malloc(sizeof(cand) * (2 * (size_t)P + 2));
  if (!heap)
    return VOUCH_E_NOMEM;
  size_t n = 0;
  uint64_t seq = 0;
  flips[0] = 0;
  heap_push(heap, &n, (cand){w[0], seq++, 1, 0});
  for (unsigned p = 1; p < P; p++) {
    cand c = heap_pop(heap, &n);
    uint64_t mask = 0;
    for (unsigned i = 0; i <= c.last; i++)
      if ((c.set >> i) & 1)
        mask |= (uint64_t)1 << rho[i];
    flips[p] = mask;
    unsigned l = c.last;
    if (l + 1 < b) {
      heap_push(heap, &n, (cand){c.cost + w[l + 1], seq++, c.set | ((uint64_t)1 << (l + 1)), l + 1});
      heap_push(heap, &n,
                (cand){c.cost - w[l] + w[l + 1], seq++,
                       (c.set & ~((uint64_t)1 << l)) | ((uint64_t)1 << (l + 1)), l + 1});
    }
  }
  vouch__free(heap);
  return VOUCH_OK;
}

int vouch_psi_probe_keys(int algo, const uint8_t *hash, size_t hash_len, const float *margin,
                         unsigned b, unsigned probes, uint8_t *keys, uint64_t *flips) {
  return vouch_psi_probe_keys_views(algo, hash, hash_len, margin, NULL, b, probes, keys, flips);
}

/* Adds x to the set; returns 0 when it was there already. */
static int set_add(uint64_t *set, uint8_t *used, size_t cap, uint64_t x) {
  uint64_t h = x * 0x9E3779B97F4A7C15ULL;
  size_t i = (size_t)(h >> 32) & (cap - 1);
  while (used[i]) {
    if (set[i] == x)
      return 0;
    i = (i + 1) & (cap - 1);
  }
  used[i] = 1;
  set[i] = x;
  return 1;
}

/* Section 4 step 5: the photo's own probes first, then floor(P/16) per view,
 * skipping bands already taken. */
int vouch_psi_probe_keys_views(int algo, const uint8_t *hash, size_t hash_len, const float *margin,
                               const vouch_psi_views *views, unsigned b, unsigned probes,
                               uint8_t *keys, uint64_t *flips) {
  if (!keys)
    return VOUCH_E_INVALID;
  uint64_t *band = vouch__malloc(sizeof(uint64_t) * (probes ? probes : 1));
  if (!band)
    return VOUCH_E_NOMEM;
  int rc = vouch_psi_probe_bands(algo, hash, hash_len, margin, views, b, probes, band, flips);
  if (rc == VOUCH_OK)
    for (unsigned i = 0; i < probes; i++)
      band_key_bits(algo, b, band[i], keys + 32 * (size_t)i);
  vouch__free(band);
  return rc;
}

int vouch_psi_probe_bands(int algo, const uint8_t *hash, size_t hash_len, const float *margin,
                          const vouch_psi_views *views, unsigned b, unsigned probes, uint64_t *band,
                          uint64_t *flips) {
  if (!band || !band_args_ok(algo, hash, hash_len, b) || probes < 1 ||
      probes > VOUCH_PSI_PROBES_MAX || (views && views->n > VOUCH_PSI_VIEWS))
    return VOUCH_E_INVALID;
  const unsigned nv = views ? views->n : 0, quota = probes / 16;
  const unsigned own = nv && quota ? probes - nv * quota : probes;
  uint64_t *f = vouch__malloc(sizeof(uint64_t) * probes);
  if (!f)
    return VOUCH_E_NOMEM;
  int rc = vouch__probe_flips(margin, b, own, f);
  unsigned taken = 0;
  if (rc == VOUCH_OK) {
    uint64_t bits = band_bits(hash, b);
    for (; taken < own; taken++)
      band[taken] = bits ^ f[taken];
  }
  /* The bands taken so far, in an open-addressing set (2^k >= 2 probes slots). */
  size_t cap = 1;
  while (cap < 2 * (size_t)probes)
    cap <<= 1;
  uint64_t *set = NULL, *vf = NULL;
  uint8_t *used = NULL;
  if (rc == VOUCH_OK && nv && quota) {
    set = vouch__malloc(sizeof(uint64_t) * cap);
    used = vouch__calloc(cap, 1);
    vf = vouch__malloc(sizeof(uint64_t) * probes);
    if (!set || !used || !vf)
      rc = VOUCH_E_NOMEM;
    for (unsigned i = 0; rc == VOUCH_OK && i < taken; i++)
      set_add(set, used, cap, band[i]);
  }
  for (unsigned v = 0; rc == VOUCH_OK && vf && v < nv; v++) {
    /* A view's first `probes` flip sets are distinct, so at least
     * probes - taken >= quota of them are new; enumerate 2 quota first and
     * all `probes` only when that is not enough. */
    uint64_t bits = band_bits(views->hash[v], b);
    unsigned got = 0, start = 0;
    for (unsigned want = 2 * quota < probes ? 2 * quota : probes; rc == VOUCH_OK && got < quota;
         want = probes) {
      rc = vouch__probe_flips(views->margin[v], b, want, vf);
      for (unsigned p = start; rc == VOUCH_OK && p < want && got < quota; p++) {
        uint64_t x = bits ^ vf[p];
        if (!set_add(set, used, cap, x))
          continue;
        f[taken] = vf[p];
        band[taken++] = x;
        got++;
      }
      if (want == probes)
        break;
      start = want;
    }
  }
  vouch__free(set);
  vouch__free(used);
  if (rc == VOUCH_OK && taken != probes)
    rc = VOUCH_E_INVALID; /* not reached: see the count above */
  if (rc == VOUCH_OK && flips)
    memcpy(flips, f, sizeof(uint64_t) * probes);
  vouch__free(vf);
  vouch__free(f);
  return rc;
}

int vouch_psi_band_positions(unsigned b, unsigned *pos) {
  if (!pos || b < 1 || b > VOUCH_PSI_BAND_MAX)
    return VOUCH_E_INVALID;
  for (unsigned r = 0; r < b; r++)
    pos[r] = band_pos(r);
  return VOUCH_OK;
}
