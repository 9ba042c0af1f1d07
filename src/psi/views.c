/* src/psi/views.c -- the client's tonal views of a photo (docs/protocol.md
 * section 4.3): the photo's PDQ hash and margins under the gamma curves
 * VOUCH_PSI_VIEW_GAMMA, so that a copy whose tones were edited (gamma,
 * brightness, contrast) still probes its original's band.  Like the probes,
 * this depends only on the client's own photo; not constant time. */
#include <math.h>
#include <string.h>
#include "psi_internal.h"
#include "vouch/hash.h"

/* The curves, as exponents of v/255 (a view of gamma g undoes an edit of
 * gamma 1/g).  Chosen from the measurements in section 12: two strengths in
 * each direction. */
static const double view_gamma[VOUCH_PSI_VIEWS] = {2.0 / 3.0, 1.5, 0.8, 1.25};

int vouch_psi_views_make(vouch_hasher *h, const vouch_image *img, vouch_psi_views *v) {
  if (!h || !img || !v || !img->pixels || (img->channels != 1 && img->channels != 3))
    return VOUCH_E_INVALID;
  memset(v, 0, sizeof *v);
  vouch_image t;
  int rc = vouch_image_init(&t, img->width, img->height, img->channels);
  if (rc != VOUCH_OK)
    return rc;
  const size_t row = (size_t)img->width * img->channels;
  for (unsigned k = 0; k < VOUCH_PSI_VIEWS && rc == VOUCH_OK; k++) {
    uint8_t lut[256];
    for (int x = 0; x < 256; x++) {
      double r = 255.0 * pow(x / 255.0, view_gamma[k]);
      lut[x] = r >= 255.0 ? 255 : (uint8_t)(r + 0.5);
    }
    for (uint32_t y = 0; y < img->height; y++) {
      const uint8_t *s = img->pixels + (size_t)y * img->stride;
      uint8_t *d = t.pixels + (size_t)y * t.stride;
      for (size_t i = 0; i < row; i++)
        d[i] = lut[s[i]];
    }
    rc = vouch_hash_image(h, VOUCH_ALGO_PDQ, &t, 0, v->hash[k], sizeof v->hash[k], NULL);
    if (rc == VOUCH_OK)
      rc = vouch_hasher_pdq_margins(h, v->margin[k]);
  }
  vouch_image_clear(&t);
  if (rc == VOUCH_OK)
    v->n = VOUCH_PSI_VIEWS;
  else
    memset(v, 0, sizeof *v);
  return rc;
}
