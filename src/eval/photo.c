/* src/eval/photo.c -- one photo through the whole transform suite. */
#include <string.h>
#include "eval_internal.h"

int vouch_eval_photo(vouch_transformer *tf, vouch_hasher *h, const vouch_image *img,
                     const vouch_transform *suite, size_t n_tf, const int *algos, size_t n_algo,
                     uint64_t seed, uint8_t (*orig)[VOUCH_DIHEDRAL_N][VOUCH_HASH_MAX_BYTES],
                     int *quality, vouch_eval_dist *dist) {
  if (!h || !img || (n_tf && (!suite || !dist)) || (n_algo && !algos) || n_algo == 0)
    return VOUCH_E_INVALID;
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
    }
    vouch_image_clear(&t);
  }
  if (!orig) vouch__free(mine);
  return rc;
}
