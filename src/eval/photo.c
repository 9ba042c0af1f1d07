/* src/eval/photo.c -- one photo through the whole transform suite. */
#include <string.h>
#include "eval_internal.h"
#include "vouch/psi.h"

static int rank_in(const uint8_t orig[VOUCH_PDQ_BYTES], const uint8_t copy[VOUCH_PDQ_BYTES],
                   const float *copy_margin, const vouch_psi_views *views, unsigned band,
                   unsigned probes, uint64_t *bands, int32_t *rank) {
  uint64_t own;
  *rank = -1;
  VOUCH_TRY(vouch_psi_probe_bands(VOUCH_ALGO_PDQ, orig, VOUCH_PDQ_BYTES, NULL, NULL, band, 1, &own, NULL));
  VOUCH_TRY(vouch_psi_probe_bands(VOUCH_ALGO_PDQ, copy, VOUCH_PDQ_BYTES, copy_margin, views, band, probes,
                                  bands, NULL));
  for (unsigned p = 0; p < probes; p++)
    if (bands[p] == own) {
      *rank = (int32_t)p;
      break;
    }
  return VOUCH_OK;
}

int vouch_eval_probe_rank(const uint8_t orig[VOUCH_PDQ_BYTES], const uint8_t copy[VOUCH_PDQ_BYTES],
                          const float *copy_margin, const vouch_psi_views *copy_views, unsigned band,
                          unsigned max_probes, uint8_t *scratch, int32_t *rank) {
  (void)scratch; /* kept for the API; the bands are compared, not their keys (same thing) */
  *rank = -1;
  if (max_probes < 1 || max_probes > VOUCH_PSI_PROBES_MAX)
    return VOUCH_E_INVALID;
  uint64_t *bands = vouch__malloc(sizeof(uint64_t) * max_probes);
  if (!bands)
    return VOUCH_E_NOMEM;
  int rc = rank_in(orig, copy, copy_margin, copy_views, band, max_probes, bands, rank);
  vouch__free(bands);
  return rc;
}

/* The copy's rank at po->max_probes and, per listed P, whether P probes find it. */
static int probe_copy(const vouch_eval_probe_opts *po, vouch_eval_probe_out *pout, size_t i,
                      vouch_hasher *h, const vouch_image *t, const uint8_t orig[VOUCH_PDQ_BYTES],
                      const uint8_t copy[VOUCH_PDQ_BYTES], const float *margin, uint64_t *bands) {
  vouch_psi_views *views = NULL;
  if (po->views) {
    views = vouch__malloc(sizeof *views);
    if (!views)
      return VOUCH_E_NOMEM;
    int rc = vouch_psi_views_make(h, t, views);
    if (rc != VOUCH_OK) {
      vouch__free(views);
      return rc;
    }
  }
  int rc = VOUCH_OK;
  for (size_t b = 0; b < po->n_bands && rc == VOUCH_OK; b++) {
    int32_t *rank = &pout->rank[i * po->n_bands + b];
    rc = rank_in(orig, copy, margin, views, po->bands[b], po->max_probes, bands, rank);
    if (!pout->found || rc != VOUCH_OK)
      continue;
    uint16_t mask = 0;
    for (size_t p = 0; p < po->n_probes && rc == VOUCH_OK; p++) {
      int32_t r = *rank;
      if (views && po->probes[p] != po->max_probes)
        rc = rank_in(orig, copy, margin, views, po->bands[b], po->probes[p], bands, &r);
      if (r >= 0 && (unsigned)r < po->probes[p])
        mask |= (uint16_t)(1U << p);
    }
    pout->found[i * po->n_bands + b] = mask;
  }
  vouch__free(views);
  return rc;
}

int vouch_eval_photo(vouch_transformer *tf, vouch_hasher *h, const vouch_image *img,
                     const vouch_transform *suite, size_t n_tf, const int *algos, size_t n_algo,
                     uint64_t seed, uint8_t (*orig)[VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES],
                     int *quality, vouch_eval_dist *dist) {
  return vouch_eval_photo_probes(tf, h, img, suite, n_tf, algos, n_algo, seed, orig, quality, dist,
                                 NULL, NULL);
}

int vouch_eval_photo_probes(vouch_transformer *tf, vouch_hasher *h, const vouch_image *img,
                            const vouch_transform *suite, size_t n_tf, const int *algos,
                            size_t n_algo, uint64_t seed,
                            uint8_t (*orig)[VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES], int *quality,
                            vouch_eval_dist *dist, const vouch_eval_probe_opts *po,
                            vouch_eval_probe_out *pout) {
  if (!h || !img || (n_tf && (!suite || !dist)) || (n_algo && !algos) || n_algo == 0)
    return VOUCH_E_INVALID;
  if (po && (!pout || !po->bands || po->n_bands == 0 || po->max_probes < 1 ||
             po->max_probes > VOUCH_PSI_PROBES_MAX || (n_tf && !pout->rank) || po->n_probes > 16 ||
             (po->n_probes && !po->probes)))
    return VOUCH_E_INVALID;
  for (size_t p = 0; po && p < po->n_probes; p++)
    if (po->probes[p] < 1 || po->probes[p] > po->max_probes) return VOUCH_E_INVALID;
  uint64_t *scratch = NULL;
  float margin[VOUCH_PDQ_BITS];
  if (po) {
    scratch = vouch__malloc(sizeof(uint64_t) * po->max_probes);
    if (!scratch) return VOUCH_E_NOMEM;
    pout->have_margins = 0;
    pout->orig_views.n = 0;
  }
  for (size_t a = 0; a < n_algo; a++)
    if (vouch_algo_bytes(algos[a]) == 0) return VOUCH_E_INVALID;
  uint8_t(*mine)[VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES] = orig;
  if (!mine) {
    mine = vouch__calloc(n_algo, sizeof *mine);
    if (!mine) return VOUCH_E_NOMEM;
  }
  int rc = VOUCH_OK;
  if (quality) *quality = -1;
  for (size_t a = 0; a < n_algo && rc == VOUCH_OK; a++) {
    uint8_t buf[VOUCH_DIHEDRAL_N * VOUCH_HASH_MAX_BYTES];
    size_t hb = vouch_algo_bytes(algos[a]);
    int q = -1;
    rc = vouch_hash_image(h, algos[a], img, VOUCH_HASH_DIHEDRAL, buf, sizeof buf, &q);
    if (rc != VOUCH_OK) break;
    memset(mine[a], 0, sizeof mine[a]);
    for (unsigned v = 0; v < VOUCH_DIHEDRAL_N; v++) memcpy(mine[a][v], buf + v * hb, hb);
    if (algos[a] == VOUCH_ALGO_PDQ && quality) *quality = q;
    if (algos[a] == VOUCH_ALGO_PDQ && po) {
      pout->have_margins = vouch_hasher_pdq_margins(h, pout->orig_margin) == VOUCH_OK;
      if (po->views) rc = vouch_psi_views_make(h, img, &pout->orig_views);
    }
  }
  for (size_t i = 0; i < n_tf && rc == VOUCH_OK; i++) {
    vouch_image t;
    rc = vouch_transform_apply(tf, img, &suite[i], vouch_eval_seed(seed, i), &t);
    if (rc != VOUCH_OK) break;
    for (size_t a = 0; a < n_algo; a++) {
      uint8_t hx[VOUCH_HASH_MAX_BYTES];
      size_t hb = vouch_algo_bytes(algos[a]);
      rc = vouch_hash_image(h, algos[a], &t, 0, hx, sizeof hx, NULL);
      if (rc != VOUCH_OK) break;
      unsigned best = vouch_hamming(mine[a][0], hx, hb), plain = best;
      for (unsigned v = 1; v < VOUCH_DIHEDRAL_N; v++) {
        unsigned d = vouch_hamming(mine[a][v], hx, hb);
        if (d < best) best = d;
      }
      dist[i * n_algo + a].plain = (uint16_t)plain;
      dist[i * n_algo + a].dihedral = (uint16_t)best;
      if (algos[a] == VOUCH_ALGO_PDQ && po) {
        rc = vouch_hasher_pdq_margins(h, margin);
        if (rc == VOUCH_OK && pout->copy_hash) memcpy(pout->copy_hash[i], hx, VOUCH_PDQ_BYTES);
        if (rc == VOUCH_OK && pout->copy_margin) memcpy(pout->copy_margin[i], margin, sizeof margin);
        if (rc == VOUCH_OK) rc = probe_copy(po, pout, i, h, &t, mine[a][0], hx, margin, scratch);
        if (rc != VOUCH_OK) break;
      }
    }
    vouch_image_clear(&t);
  }
  if (!orig) vouch__free(mine);
  vouch__free(scratch);
  return rc;
}
