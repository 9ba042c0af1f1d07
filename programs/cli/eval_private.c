/* programs/cli/eval_private.c -- the private-matching part of `vouch eval`
 * (eval_private.h).  Every key here comes from the library's protocol code
 * (vouch_psi_band_key, vouch_psi_probe_keys): what is measured is what a
 * voucher would do. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "eval_private.h"

#define RANK_BUCKETS 12 /* 0, 1, 2-3, 4-7, ..., 512-1023, beyond */

void evp_defaults(evp_opts *e) {
  static const unsigned p[] = {1, 16, 32, 64, 96, 128, 256, 512};
  memset(e, 0, sizeof *e);
  e->bands[0] = VOUCH_PSI_BAND_DEFAULT;
  e->n_bands = 1;
  memcpy(e->probes, p, sizeof p);
  e->n_probes = sizeof p / sizeof p[0];
  e->max_p = 512;
  e->views = 1;
}

static int parse_list(const char *s, unsigned lo, unsigned hi, unsigned *out, size_t cap, size_t *n) {
  *n = 0;
  while (*s) {
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || v < lo || v > hi || *n == cap || (*n && v <= out[*n - 1]))
      return -1;
    out[(*n)++] = (unsigned)v;
    s = end;
    if (*s == ',')
      s++;
    else if (*s)
      return -1;
  }
  return *n ? 0 : -1;
}

int evp_parse_bands(evp_opts *e, const char *s) {
  if (parse_list(s, VOUCH_PSI_BAND_MIN, VOUCH_PSI_BAND_MAX, e->bands, EVP_MAX_BANDS, &e->n_bands) != 0) {
    cli_errorf("--bands: up to %d increasing widths in %u..%u", EVP_MAX_BANDS, VOUCH_PSI_BAND_MIN,
               VOUCH_PSI_BAND_MAX);
    return -1;
  }
  return 0;
}

int evp_parse_probes(evp_opts *e, const char *s) {
  if (parse_list(s, 1, VOUCH_PSI_PROBES_MAX, e->probes, EVP_MAX_PROBES, &e->n_probes) != 0) {
    cli_errorf("--probes: up to %d increasing values in 1..%u", EVP_MAX_PROBES, VOUCH_PSI_PROBES_MAX);
    return -1;
  }
  e->max_p = e->probes[e->n_probes - 1];
  return 0;
}

static int rank_bucket(int32_t r) {
  if (r < 0)
    return RANK_BUCKETS - 1;
  int b = 0;
  while (b < RANK_BUCKETS - 2 && (1 << b) <= r)
    b++;
  return b; /* 0: rank 0; b: ranks 2^(b-1) .. 2^b - 1 */
}

static double pc(uint64_t a, uint64_t b) { return b ? 100.0 * (double)a / (double)b : 0.0; }

/* The transforms the recall target names: resize 0.75 / 0.5 / 0.25,
 * JPEG 90..30, blur, noise, brightness +-32, gamma, contrast, grey, aspect. */
static int is_target(const vouch_transform *t) {
  switch (t->kind) {
  case VOUCH_TF_RESIZE: return t->param >= 0.25 && t->param < 1.0;
  case VOUCH_TF_JPEG: return t->param >= 30;
  case VOUCH_TF_BRIGHTNESS: return t->param >= -32 && t->param <= 32;
  case VOUCH_TF_BLUR: case VOUCH_TF_NOISE: case VOUCH_TF_GAMMA: case VOUCH_TF_CONTRAST:
  case VOUCH_TF_GREY: case VOUCH_TF_ASPECT: return 1;
  default: return 0;
  }
}

/* ---- recall ---- */

static void report_recall(const evp_opts *e, const evp_data *d, FILE *md, FILE *js) {
  const size_t nb = e->n_bands, nt = d->n_tf;
  /* found[t][b][p], plain[t], total[t] */
  uint64_t *found = calloc(nt * nb * e->n_probes + 1, sizeof *found);
  uint64_t *plain = calloc(nt + 1, sizeof *plain), *total = calloc(nt + 1, sizeof *total);
  uint64_t hist[EVP_MAX_BANDS][RANK_BUCKETS] = {{0}};
  if (!found || !plain || !total) {
    free(found);
    free(plain);
    free(total);
    return;
  }
  for (size_t i = 0; i < d->n; i++) {
    if (!d->ok[i])
      continue;
    for (size_t t = 0; t < nt; t++) {
      uint16_t dist = d->plain[i * nt + t];
      total[t]++;
      plain[t] += dist <= 31;
      for (size_t b = 0; b < nb; b++) {
        int32_t r = d->rank[(i * nt + t) * nb + b];
        if (dist <= 31)
          hist[b][rank_bucket(r)]++;
        uint16_t fm = d->found[(i * nt + t) * nb + b];
        for (size_t p = 0; p < e->n_probes; p++) /* opens and passes the post-reveal check */
          found[(t * nb + b) * e->n_probes + p] += ((fm >> p) & 1) && dist <= 31;
      }
    }
  }
  size_t bs = 0; /* the table shows the default b when it is measured, else the first */
  for (size_t b = 0; b < nb; b++)
    if (e->bands[b] == VOUCH_PSI_BAND_DEFAULT) bs = b;
  fprintf(md, "\n### Recall per transform (b = %u; no dihedral matching on either side)\n\n"
              "A copy counts as found privately when one of its P probes is the original's band key and\n"
              "its full hash is within 31 of the original's (the post-reveal check).\n\n"
              "| transform | plain ≤31 |",
          e->bands[bs]);
  for (size_t p = 0; p < e->n_probes; p++)
    fprintf(md, " P=%u |", e->probes[p]);
  fprintf(md, "\n|---|---:|");
  for (size_t p = 0; p < e->n_probes; p++)
    fprintf(md, "---:|");
  fprintf(md, "\n");
  uint64_t all_plain = 0, all_total = 0;
  for (size_t t = 0; t < nt; t++) {
    char name[VOUCH_TRANSFORM_TEXT_BYTES];
    vouch_transform_format(&d->suite[t], name, sizeof name);
    fprintf(md, "| %s | %.1f%% |", name, pc(plain[t], total[t]));
    for (size_t p = 0; p < e->n_probes; p++)
      fprintf(md, " %.1f%% |", pc(found[(t * nb + bs) * e->n_probes + p], total[t]));
    fprintf(md, "\n");
    all_plain += plain[t];
    all_total += total[t];
  }
  fprintf(md, "| **all** | **%.1f%%** |", pc(all_plain, all_total));
  for (size_t p = 0; p < e->n_probes; p++) {
    uint64_t f = 0;
    for (size_t t = 0; t < nt; t++)
      f += found[(t * nb + bs) * e->n_probes + p];
    fprintf(md, " **%.1f%%** |", pc(f, all_total));
  }
  fprintf(md, "\n");

  /* Trade-off: per (b, P), overall recall, its ratio to plain, and the worst
   * ratio over the transforms the plain matcher finds at least half of. */
  fprintf(md, "\n### Trade-off (recall from this run; voucher size at s = 90)\n\n"
              "Target transforms: resize 0.75/0.5/0.25, JPEG 90..30, blur, noise, brightness ±32, gamma,\n"
              "contrast, grey, aspect (the issue's list).\n\n"
              "| b | P | voucher bytes | private recall | / plain ≤31 | targets: / plain | worst target: ratio | worst other (plain ≥ 50%%): ratio |\n"
              "|---:|---:|---:|---:|---:|---:|---|---|\n");
  fprintf(js, ",\"private\":{\"plain31\":%.6f,\"copies\":%llu,\"rows\":[", all_total ? (double)all_plain / all_total : 0.0,
          (unsigned long long)all_total);
  for (size_t b = 0; b < nb; b++)
    for (size_t p = 0; p < e->n_probes; p++) {
      uint64_t f = 0, ftg = 0, ptg = 0;
      double worst[2] = {1e9, 1e9};
      size_t wt[2] = {0, 0};
      for (size_t t = 0; t < nt; t++) {
        uint64_t ft = found[(t * nb + b) * e->n_probes + p];
        int tg = is_target(&d->suite[t]);
        f += ft;
        if (tg) {
          ftg += ft;
          ptg += plain[t];
        }
        if (plain[t] * 2 >= total[t] && plain[t] > 0 && (double)ft / plain[t] < worst[!tg]) {
          worst[!tg] = (double)ft / plain[t];
          wt[!tg] = t;
        }
      }
      char name[2][VOUCH_TRANSFORM_TEXT_BYTES] = {"-", "-"};
      for (int k = 0; k < 2; k++)
        if (worst[k] < 1e9)
          vouch_transform_format(&d->suite[wt[k]], name[k], sizeof name[k]);
        else
          worst[k] = 0;
      size_t vb = vouch_psi_voucher_bytes(90, e->probes[p]);
      fprintf(md, "| %u | %u | %zu | %.1f%% | %.3f | %.3f | %s: %.3f | %s: %.3f |\n", e->bands[b], e->probes[p], vb,
              pc(f, all_total), all_plain ? (double)f / all_plain : 0.0, ptg ? (double)ftg / ptg : 0.0, name[0],
              worst[0], name[1], worst[1]);
      fprintf(js, "%s{\"band\":%u,\"probes\":%u,\"voucher_bytes\":%zu,\"recall\":%.6f,\"ratio\":%.6f,"
                  "\"target_ratio\":%.6f,\"worst_target\":\"%s\",\"worst_target_ratio\":%.6f}",
              b || p ? "," : "", e->bands[b], e->probes[p], vb, all_total ? (double)f / all_total : 0.0,
              all_plain ? (double)f / all_plain : 0.0, ptg ? (double)ftg / ptg : 0.0, name[0], worst[0]);
    }
  fprintf(js, "],\"rank_hist\":[");

  fprintf(md, "\n### Probe rank of the copies the plain matcher finds (≤31)\n\n"
              "The rank of the probe that equals the original's band key; P probes find ranks below P (with\n"
              "tonal views the list depends on P: ranks here are in the list of the largest P).\n\n| rank |");
  for (size_t b = 0; b < nb; b++)
    fprintf(md, " b=%u | cumulative |", e->bands[b]);
  fprintf(md, "\n|---|");
  for (size_t b = 0; b < nb; b++)
    fprintf(md, "---:|---:|");
  fprintf(md, "\n");
  uint64_t cum[EVP_MAX_BANDS] = {0};
  for (int k = 0; k < RANK_BUCKETS; k++) {
    if (k == 0)
      fprintf(md, "| 0 |");
    else if (k == RANK_BUCKETS - 1)
      fprintf(md, "| ≥ %u (not found) |", e->max_p);
    else if (k == 1)
      fprintf(md, "| 1 |");
    else
      fprintf(md, "| %d-%d |", 1 << (k - 1), (1 << k) - 1);
    for (size_t b = 0; b < nb; b++) {
      cum[b] += hist[b][k];
      fprintf(md, " %llu | %.1f%% |", (unsigned long long)hist[b][k], pc(cum[b], all_plain));
    }
    fprintf(md, "\n");
  }
  for (size_t b = 0; b < nb; b++) {
    fprintf(js, "%s[", b ? "," : "");
    for (int k = 0; k < RANK_BUCKETS; k++)
      fprintf(js, "%s%llu", k ? "," : "", (unsigned long long)hist[b][k]);
    fprintf(js, "]");
  }
  fprintf(js, "]");
  free(found);
  free(plain);
  free(total);
}

/* ---- unrelated pairs ---- */

typedef struct keyed {
  uint8_t key[32];
  uint32_t idx;
} keyed;

static int cmp_keyed(const void *a, const void *b) { return memcmp(a, b, 32); }

static double log_choose(unsigned n, unsigned k) {
  return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

static uint64_t band_bits(const uint8_t h[32], const unsigned *pos, unsigned b) {
  uint64_t v = 0;
  for (unsigned r = 0; r < b; r++)
    v |= (uint64_t)((h[31 - pos[r] / 8] >> (pos[r] % 8)) & 1) << r;
  return v;
}

static int report_pairs(const evp_opts *e, const evp_data *d, FILE *md, FILE *js) {
  const size_t n = d->n;
  keyed *bk = malloc((n ? n : 1) * sizeof *bk);
  uint8_t *pk = malloc((size_t)32 * e->max_p);
  uint64_t *flips = malloc(sizeof(uint64_t) * e->max_p);
  if (!bk || !pk || !flips) {
    free(bk);
    free(pk);
    free(flips);
    return -1;
  }
  /* q needed: the per-photo rate that keeps the account model at 1e-12. */
  vouch_risk_in in = {.p = 0, .n_db = d->n_db, .m_photos = d->m_photos, .t = d->acct_t};
  vouch_risk_out ro;
  double p_needed = vouch_risk_rate_for_target(&in, -12.0);
  in.p = p_needed;
  vouch_risk_account(&in, &ro);
  const double q_needed = ro.q;
  fprintf(md, "\n### False openings among unrelated photos\n\n"
              "Each photo is a client photo (its own probes) against every other photo as a database entry\n"
              "(its band key); pairs listed in --exclude are left out. A false opening needs a probe key\n"
              "equal to the other photo's band key; it would be counted as a match only if the full hashes\n"
              "were within 31 (the post-reveal check), otherwise reported as a collision.\n");
  fprintf(js, ",\"false_openings\":[");
  int first_js = 1;
  size_t listed = 0;
  struct {
    size_t i, j;
    unsigned rank, dist;
  } lst[30];
  for (size_t b = 0; b < e->n_bands; b++) {
    const unsigned band = e->bands[b];
    unsigned pos[VOUCH_PSI_BAND_MAX];
    vouch_psi_band_positions(band, pos);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (d->ok[i]) {
        vouch_psi_band_key(VOUCH_ALGO_PDQ, d->hash[i], 32, band, bk[m].key);
        bk[m++].idx = (uint32_t)i;
      }
    qsort(bk, m, sizeof *bk, cmp_keyed);
    uint64_t shared = 0;
    for (size_t a = 0; a < m; a++)
      for (size_t c = a + 1; c < m && memcmp(bk[a].key, bk[c].key, 32) == 0; c++)
        shared += !d->excluded(d->ex_ctx, bk[a].idx, bk[c].idx);
    /* Per photo: its first false rank; pairs and near pairs per P. */
    uint64_t photos_at[EVP_MAX_PROBES] = {0}, pairs_at[EVP_MAX_PROBES] = {0}, near_at[EVP_MAX_PROBES] = {0};
    double nflip[VOUCH_PSI_BAND_MAX + 1][EVP_MAX_PROBES] = {{0}}; /* probes with d flips, summed */
    size_t nclients = 0;
    for (size_t i = 0; i < n; i++) {
      if (!d->ok[i])
        continue;
      if (vouch_psi_probe_keys_views(VOUCH_ALGO_PDQ, d->hash[i], 32, d->margin[i], d->views ? &d->views[i] : NULL,
                                     band, e->max_p, pk, flips) != VOUCH_OK)
        continue;
      nclients++;
      int32_t first = -1;
      for (unsigned p = 0; p < e->max_p; p++) {
        unsigned nf = (unsigned)__builtin_popcountll(flips[p]);
        for (size_t q = 0; q < e->n_probes; q++)
          if (p < e->probes[q])
            nflip[nf][q] += 1;
        keyed probe;
        memcpy(probe.key, pk + 32 * (size_t)p, 32);
        keyed *hit = bsearch(&probe, bk, m, sizeof *bk, cmp_keyed);
        if (!hit)
          continue;
        while (hit > bk && memcmp(hit[-1].key, probe.key, 32) == 0)
          hit--;
        for (; hit < bk + m && memcmp(hit->key, probe.key, 32) == 0; hit++) {
          size_t j = hit->idx;
          if (j == i || d->excluded(d->ex_ctx, i, j))
            continue;
          unsigned dist = vouch_hamming(d->hash[i], d->hash[j], 32);
          if (first < 0)
            first = (int32_t)p;
          for (size_t q = 0; q < e->n_probes; q++)
            if (p < e->probes[q]) {
              pairs_at[q]++;
              near_at[q] += dist <= 31;
            }
          if (listed < 30 && b == 0) {
            lst[listed].i = i;
            lst[listed].j = j;
            lst[listed].rank = p;
            lst[listed++].dist = dist;
          }
        }
      }
      for (size_t q = 0; q < e->n_probes; q++)
        photos_at[q] += first >= 0 && (unsigned)first < e->probes[q];
    }
    fprintf(md, "\n#### b = %u\n\n| P | photos with a false opening | pairs | of which within 31 | band keys shared by unrelated photos |\n"
                "|---:|---:|---:|---:|---:|\n", band);
    for (size_t q = 0; q < e->n_probes; q++) {
      fprintf(md, "| %u | %llu of %zu | %llu | %llu | %llu |\n", e->probes[q],
              (unsigned long long)photos_at[q], nclients, (unsigned long long)pairs_at[q],
              (unsigned long long)near_at[q], (unsigned long long)shared);
      (void)band;
      fprintf(js, "%s{\"band\":%u,\"probes\":%u,\"photos\":%llu,\"clients\":%zu,\"pairs\":%llu,\"within31\":%llu}",
              first_js ? "" : ",", band, e->probes[q], (unsigned long long)photos_at[q], nclients,
              (unsigned long long)pairs_at[q], (unsigned long long)near_at[q]);
      first_js = 0;
    }
    if (b == 0 && listed) {
      fprintf(md, "\nThe false openings at b = %u (first 30; rank = the client photo's probe that opened):\n\n"
                  "| client photo | database photo | probe rank | PDQ distance |\n|---|---|---:|---:|\n", band);
      for (size_t k = 0; k < listed; k++)
        fprintf(md, "| %s | %s | %u | %u |\n", d->names[lst[k].i], d->names[lst[k].j], lst[k].rank,
                lst[k].dist);
    }

    /* The band-disagreement tail: f(k) = fraction of unrelated pairs whose
     * bands differ in k bits, against the uniform C(b,k)/2^b; kappa = the
     * largest ratio over the populated lower half.  A photo with P probes,
     * n_P(k) of which flip k bits, opens for an unrelated entry with
     * probability about sum_k f(k) n_P(k) / C(b,k) (the entry's differing
     * bits are not tied to the photo's margins); where f(k) is 0 in this
     * corpus, kappa * C(b,k)/2^b stands in. */
    uint64_t hist[VOUCH_PSI_BAND_MAX + 1] = {0}, npairs = 0;
    uint64_t *bits = malloc((n ? n : 1) * sizeof *bits);
    if (!bits)
      break;
    for (size_t i = 0; i < n; i++)
      bits[i] = d->ok[i] ? band_bits(d->hash[i], pos, band) : 0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; d->ok[i] && j < n; j++)
        if (d->ok[j] && !d->excluded(d->ex_ctx, i, j)) {
          hist[__builtin_popcountll(bits[i] ^ bits[j])]++;
          npairs++;
        }
    free(bits);
    double kappa = 0;
    unsigned kmin = band + 1, kmed = 0;
    uint64_t acc = 0;
    for (unsigned k = 0; k <= band; k++) {
      acc += hist[k];
      if (acc * 2 >= npairs) {
        kmed = k;
        break;
      }
    }
    for (unsigned k = 0; k <= kmed; k++)
      if (hist[k]) {
        if (k < kmin)
          kmin = k;
        double f = (double)hist[k] / (double)npairs, u = exp(log_choose(band, k) - band * log(2.0));
        if (f / u > kappa)
          kappa = f / u;
      }
    fprintf(md, "\nb = %u: %llu unrelated pairs; bands differ in %u bits or more (median %u); kappa (tail\n"
                "weight against uniform bits, largest over the populated lower half) = %.1f.\n\n"
                "| P | p per entry (estimate) | q at 1M entries | q at 10M | q needed (model: M = %llu, t = %llu) |\n"
                "|---:|---:|---:|---:|---:|\n",
            band, (unsigned long long)npairs, kmin, kmed, kappa, (unsigned long long)d->m_photos,
            (unsigned long long)d->acct_t);
    for (size_t q = 0; q < e->n_probes; q++) {
      double p = 0;
      for (unsigned k = 0; k <= band; k++) {
        double avg = nclients ? nflip[k][q] / (double)nclients : 0;
        if (avg == 0)
          continue;
        double lc = log_choose(band, k);
        double f = hist[k] ? (double)hist[k] / (double)npairs : kappa * exp(lc - band * log(2.0));
        p += f * avg / exp(lc);
      }
      if (p > 1) /* a tiny or related sample: the estimate means nothing beyond "always" */
        p = 1;
      double q1 = p >= 1 ? 1.0 : -expm1(1e6 * log1p(-p)), q10 = p >= 1 ? 1.0 : -expm1(1e7 * log1p(-p));
      fprintf(md, "| %u | %.3g | %.3g | %.3g | %.3g |\n", e->probes[q], p, q1, q10, q_needed);
      fprintf(js, ",{\"band\":%u,\"probes\":%u,\"p_entry\":%.6e,\"q_1M\":%.6e,\"q_10M\":%.6e,\"q_needed\":%.6e,\"kappa\":%.3f}",
              band, e->probes[q], p, q1, q10, q_needed, kappa);
    }
  }
  fprintf(js, "]");
  free(bk);
  free(pk);
  free(flips);
  return 0;
}

int evp_report(const evp_opts *e, const evp_data *d, int pairs, FILE *md, FILE *js) {
  fprintf(md, "\n## Private matching: band key with probes (docs/protocol.md section 4)\n\n"
              "The private path matches keys, not distances. Each database entry contributes the band key of\n"
              "its b lowest-frequency PDQ bits; a voucher carries P probes, the copy's band with its\n"
              "cheapest sets of bits (smallest DCT margins) flipped, and (unless --no-views) probes of its\n"
              "tonal views. Computed with the protocol's own key\n"
              "code (vouch_psi_probe_bands, behind vouch_psi_probe_keys_views; vouch_psi_views_make).\n");
  if (d->n_tf)
    report_recall(e, d, md, js);
  else
    fprintf(js, ",\"private\":{\"rows\":[]");
  int rc = pairs ? report_pairs(e, d, md, js) : 0;
  fprintf(js, "}");
  return rc;
}
