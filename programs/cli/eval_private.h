/* programs/cli/eval_private.h -- the private-matching part of `vouch eval`:
 * recall of the band-key probes per transform, false openings among
 * unrelated photos, the probe-rank distribution and the estimated per-photo
 * false-opening rate (docs/protocol.md sections 4 and 12). */
#ifndef VOUCH_CLI_EVAL_PRIVATE_H
#define VOUCH_CLI_EVAL_PRIVATE_H
#include <stdint.h>
#include <stdio.h>
#include "vouch/vouch.h"

#define EVP_MAX_BANDS 8
#define EVP_MAX_PROBES 12

typedef struct evp_opts {
  unsigned bands[EVP_MAX_BANDS];
  size_t n_bands;
  unsigned probes[EVP_MAX_PROBES]; /* P values reported, ascending */
  size_t n_probes;
  unsigned max_p;                  /* the largest */
  int views;                       /* probes include the tonal views (default; --no-views: 0) */
} evp_opts;

/* The defaults: b = VOUCH_PSI_BAND_DEFAULT; P = 1, 16, 32, 64, 96, 128, 256, 512. */
void evp_defaults(evp_opts *e);
/* "40,48,56" / "16,64,256"; @return 0 or -1 (message printed). */
int evp_parse_bands(evp_opts *e, const char *s);
int evp_parse_probes(evp_opts *e, const char *s);

/* What the per-photo pass produced (index i of n photos). */
typedef struct evp_data {
  size_t n;
  const int *ok;                    /* photo i evaluated */
  const uint8_t (*hash)[32];        /* the original's PDQ hash */
  const float (*margin)[256];       /* the original's margins */
  size_t n_tf;
  const vouch_transform *suite;
  const int32_t *rank;              /* (i * n_tf + t) * n_bands + b: rank at max_p */
  const uint16_t *found;            /* same index: bit p = found with probes[p] */
  const vouch_psi_views *views;     /* NULL, or the originals' views */
  const uint16_t *plain;            /* i * n_tf + t: PDQ distance copy vs original */
  int (*excluded)(const void *ctx, size_t i, size_t j);
  const void *ex_ctx;
  const char *const *names;         /* file names, for the listed pairs */
  uint64_t n_db, m_photos, acct_t;  /* the risk model's N, M, t */
} evp_data;

/* Writes the Markdown section to md and a ",\"private\":{...}" member to js.
 * `pairs`: also the unrelated-pair part (false openings, tail estimate).
 * @return 0, or -1 when out of memory. */
int evp_report(const evp_opts *e, const evp_data *d, int pairs, FILE *md, FILE *js);

#endif
