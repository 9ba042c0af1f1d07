/* programs/cli/eval_report.c -- the report of `vouch eval`: Markdown
 * (report.md or standard output) and results.json, from the results of the
 * per-photo and pair passes (cmd_eval.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval.h"

/* Creates dir/name for writing (path: its name); NULL after a message. */
FILE *eval_open_in(const char *dir, const char *name, char *path, size_t cap) {
  snprintf(path, cap, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) cli_errorf("%s: %s", path, strerror(errno));
  return f;
}

void eval_fmt_prob(char *buf, size_t cap, double log10p) {
  if (log10p == -INFINITY) snprintf(buf, cap, "0");
  else if (log10p > -4) snprintf(buf, cap, "%.4g", pow(10, log10p));
  else {
    double e = floor(log10p), m = pow(10, log10p - e);
    if (m >= 9.995) {
      m /= 10;
      e += 1;
    }
    snprintf(buf, cap, "%.2fe%+.0f", m, e);
  }
}

void eval_fmt_rate(char *buf, size_t cap, double p) {
  if (p == 0) snprintf(buf, cap, "0");
  else eval_fmt_prob(buf, cap, log10(p));
}

static double pct(uint64_t a, uint64_t b) { return b ? 100.0 * (double)a / (double)b : 0; }

/* Risk rows for one (algorithm, threshold, mode). */
typedef struct {
  uint64_t x, k;
  double p_hat, p_up;
  vouch_risk_out at_hat, at_up;
  double p_needed;
} risk_row;

static void risk_for(const eval_opts *o, uint64_t x, uint64_t k, risk_row *rr) {
  memset(rr, 0, sizeof *rr);
  rr->x = x;
  rr->k = k;
  rr->p_hat = k ? (double)x / (double)k : 0;
  /* Zero events: the rule of three (3/K, 95%), as the brief of this tool
   * asks and as reviewers quote it; otherwise the exact one-sided bound. */
  rr->p_up = k == 0 ? 1 : x == 0 ? 3.0 / (double)k : vouch_rate_upper_bound(x, k, 0.95);
  if (rr->p_up > 1) rr->p_up = 1;
  vouch_risk_in in = {.p = rr->p_hat, .n_db = o->n_db, .m_photos = o->m_photos, .t = o->acct_t};
  vouch_risk_account(&in, &rr->at_hat);
  in.p = rr->p_up;
  vouch_risk_account(&in, &rr->at_up);
  rr->p_needed = vouch_risk_rate_for_target(&in, CLAIM_LOG10);
}

/* ------------------------------------------------------------ report */

static void write_hist_json(FILE *js, const uint64_t *h, unsigned bits) {
  fputc('[', js);
  for (unsigned d = 0; d <= bits; d++) fprintf(js, "%s%llu", d ? "," : "", (unsigned long long)h[d]);
  fputc(']', js);
}

void eval_report_header(const eval_opts *o, const cli_paths *paths, const results *r, FILE *md) {
  static const char *const mode_name[] = {"", "robustness", "false positives", "robustness and false positives"};
  fprintf(md, "# vouch eval: %s\n\n", mode_name[o->mode]);
  fprintf(md, "- photos: **%zu evaluated**", r->n_ok);
  if (r->n_failed) fprintf(md, ", %zu failed (listed at the end)", r->n_failed);
  if (r->n_skipped) fprintf(md, ", %zu non-image files skipped", r->n_skipped);
  fprintf(md, " (of %zu files)\n", paths->n);
  if (o->max_side)
    fprintf(md, "- working size: photos reduced to fit %u x %u (area average) before hashing; that copy is the original\n",
            o->max_side, o->max_side);
  else
    fprintf(md, "- working size: full size (--max-side 0)\n");
  fprintf(md, "- algorithms:");
  for (size_t a = 0; a < o->n_algo; a++) fprintf(md, " %s", vouch_algo_name(o->algos[a]));
  fprintf(md, "; PDQ photos with quality < 50 (unreliable hash): %zu\n", r->low_quality);
  if (o->mode & 1) fprintf(md, "- transforms: %zu, seed %llu\n", o->n_tf, (unsigned long long)o->seed);
  fprintf(md, "- time: %.1f s wall, %.1f s CPU (user+system, all threads)", r->wall, r->cpu);
  if (o->mode & 2) fprintf(md, "; the pair pass alone %.2f s wall", r->pair_wall);
  fprintf(md, "\n\n");
}

/* Transform t's name, its distance histograms for algorithm a (plain and
 * dihedral) and the number of photos behind them. */
static uint64_t rob_row(const eval_opts *o, const results *r, size_t t, size_t a,
                        char name[VOUCH_TRANSFORM_TEXT_BYTES], const uint64_t **h, const uint64_t **hd) {
  vouch_transform_format(&o->suite[t], name, VOUCH_TRANSFORM_TEXT_BYTES);
  *h = r->rob[(t * o->n_algo + a) * 2];
  *hd = r->rob[(t * o->n_algo + a) * 2 + 1];
  return hist_total(*h);
}

void eval_report_robustness(const eval_opts *o, const results *r, outputs *out) {
  FILE *md = out->md, *js = out->js;
  fprintf(md, "## Robustness: the same photo after an edit\n\n");
  fprintf(md, "Distance between the original's hash and the edited copy's (bits). Recall = share of photos\n"
              "whose copy is within the threshold. *dih.* = dihedral matching: the minimum over the original's\n"
              "8 rotations/flips. n = %zu photos behind every figure.\n\n", r->n_ok);
  /* The key table first: the standard thresholds side by side. */
  fprintf(md, "### Recall at the standard thresholds\n\n| transform |");
  for (size_t a = 0; a < o->n_algo; a++)
    fprintf(md, " %s ≤%d | dih. |", vouch_algo_name(o->algos[a]), std_thr(o->algos[a]));
  fprintf(md, "\n|---|");
  for (size_t a = 0; a < o->n_algo; a++) fprintf(md, "---:|---:|");
  fputc('\n', md);
  uint64_t pooled[MAX_ALGOS * 2][NBINS];
  memset(pooled, 0, sizeof pooled);
  for (size_t t = 0; t < o->n_tf; t++) {
    char name[VOUCH_TRANSFORM_TEXT_BYTES];
    vouch_transform_format(&o->suite[t], name, sizeof name);
    fprintf(md, "| %s |", name);
    for (size_t a = 0; a < o->n_algo; a++) {
      for (int m = 0; m < 2; m++) {
        const uint64_t *h = r->rob[(t * o->n_algo + a) * 2 + m];
        fprintf(md, " %.1f%% |", pct(hist_le(h, std_thr(o->algos[a])), hist_total(h)));
        for (int d = 0; d < NBINS; d++) pooled[a * 2 + m][d] += h[d];
      }
    }
    fputc('\n', md);
  }
  fprintf(md, "| **all transforms** |");
  for (size_t a = 0; a < o->n_algo; a++)
    for (int m = 0; m < 2; m++)
      fprintf(md, " **%.1f%%** |", pct(hist_le(pooled[a * 2 + m], std_thr(o->algos[a])),
                                       hist_total(pooled[a * 2 + m])));
  fprintf(md, "\n\n");
  /* Per algorithm, the full table. */
  fprintf(js, "\"robustness\":{\"photos\":%zu,\"transforms\":[", r->n_ok);
  for (size_t a = 0; a < o->n_algo; a++) {
    size_t nt;
    const int *thr = thr_list(o->algos[a], &nt);
    fprintf(md, "### %s\n\n| transform | median | p90 | p99 | max |", vouch_algo_name(o->algos[a]));
    for (size_t k = 0; k < nt; k++) fprintf(md, " ≤%d |", thr[k]);
    fprintf(md, " median dih. | ≤%d dih. |\n|---|---:|---:|---:|---:|", std_thr(o->algos[a]));
    for (size_t k = 0; k < nt; k++) fprintf(md, "---:|");
    fprintf(md, "---:|---:|\n");
    for (size_t t = 0; t < o->n_tf; t++) {
      char name[VOUCH_TRANSFORM_TEXT_BYTES];
      const uint64_t *h, *hd;
      uint64_t tot = rob_row(o, r, t, a, name, &h, &hd);
      fprintf(md, "| %s | %ld | %ld | %ld | %ld |", name, vouch_hist_percentile(h, NBINS, 0.5),
              vouch_hist_percentile(h, NBINS, 0.9), vouch_hist_percentile(h, NBINS, 0.99),
              vouch_hist_percentile(h, NBINS, 1.0));
      for (size_t k = 0; k < nt; k++) fprintf(md, " %.1f%% |", pct(hist_le(h, thr[k]), tot));
      fprintf(md, " %ld | %.1f%% |\n", vouch_hist_percentile(hd, NBINS, 0.5),
              pct(hist_le(hd, std_thr(o->algos[a])), tot));
    }
    fputc('\n', md);
  }
  for (size_t t = 0; t < o->n_tf; t++) {
    char name[VOUCH_TRANSFORM_TEXT_BYTES];
    vouch_transform_format(&o->suite[t], name, sizeof name);
    fprintf(js, "%s{\"name\":\"%s\",\"kind\":\"%s\",\"param\":%.17g,\"algos\":{", t ? "," : "", name,
            vouch_transform_kind_name(o->suite[t].kind), o->suite[t].param);
    for (size_t a = 0; a < o->n_algo; a++) {
      fprintf(js, "%s\"%s\":{", a ? "," : "", vouch_algo_name(o->algos[a]));
      for (int m = 0; m < 2; m++) {
        const uint64_t *h = r->rob[(t * o->n_algo + a) * 2 + m];
        uint64_t tot = hist_total(h);
        fprintf(js, "%s\"%s\":{\"n\":%llu,\"median\":%ld,\"p90\":%ld,\"p99\":%ld,\"max\":%ld,\"recall\":{",
                m ? "," : "", m ? "dihedral" : "plain", (unsigned long long)tot,
                vouch_hist_percentile(h, NBINS, 0.5), vouch_hist_percentile(h, NBINS, 0.9),
                vouch_hist_percentile(h, NBINS, 0.99), vouch_hist_percentile(h, NBINS, 1.0));
        unsigned bits = algo_bits(o->algos[a]);
        for (unsigned d = 0; d <= bits; d++)
          fprintf(js, "%s\"%u\":%.6f", d ? "," : "", d, tot ? (double)hist_le(h, (int)d) / tot : 0.0);
        fprintf(js, "},\"hist\":");
        write_hist_json(js, h, bits);
        fputc('}', js);
      }
      fputc('}', js);
    }
    fprintf(js, "}}");
  }
  fprintf(js, "]}");
}

void eval_report_fp(const eval_opts *o, const cli_paths *paths, const work *w, const results *r,
                      const exclusions *ex, outputs *out) {
  FILE *md = out->md, *js = out->js;
  fprintf(md, "## False positives: unrelated photos\n\n");
  fprintf(md, "Every pair of distinct photos: **%llu pairs** counted", (unsigned long long)r->pairs);
  if (o->exclude)
    fprintf(md, ", %llu excluded as the same scene (`%s`, %zu entries, %zu naming photos not in this set)",
            (unsigned long long)r->excluded_pairs, o->exclude, ex->n, ex->unmatched);
  fprintf(md, ".\nA false match is a pair within the threshold. Rate = matches / pairs; *upper 95%%* is the\n"
              "rule of three (3/pairs) when nothing was seen, else the exact (Clopper-Pearson) one-sided bound.\n"
              "*Expected* = false matches expected when a library of M = %llu photos is compared with a\n"
              "database of N = %llu hashes (N x M x rate).\n\n",
          (unsigned long long)o->m_photos, (unsigned long long)o->n_db);
  fprintf(md, "| algorithm | threshold | matching | false matches | rate | upper 95%% | expected N x M |\n"
              "|---|---:|---|---:|---:|---:|---:|\n");
  fprintf(js, ",\"false_positives\":{\"pairs\":%llu,\"excluded_pairs\":%llu,\"algos\":{",
          (unsigned long long)r->pairs, (unsigned long long)r->excluded_pairs);
  for (size_t a = 0; a < o->n_algo; a++) {
    size_t nt;
    const int *thr = thr_list(o->algos[a], &nt);
    unsigned bits = algo_bits(o->algos[a]);
    fprintf(js, "%s\"%s\":{", a ? "," : "", vouch_algo_name(o->algos[a]));
    for (int m = 0; m < 2; m++) {
      const uint64_t *h = r->fp[a * 2 + m];
      fprintf(js, "%s\"%s\":{\"median\":%ld,\"p1\":%ld,\"min\":%ld,\"thresholds\":{", m ? "," : "",
              m ? "dihedral" : "plain", vouch_hist_percentile(h, NBINS, 0.5),
              vouch_hist_percentile(h, NBINS, 0.01), vouch_hist_percentile(h, NBINS, 0));
      for (size_t k = 0; k < nt; k++) {
        uint64_t x = hist_le(h, thr[k]);
        double rate = r->pairs ? (double)x / r->pairs : 0;
        double up = r->pairs == 0 ? 1 : x == 0 ? 3.0 / r->pairs : vouch_rate_upper_bound(x, r->pairs, 0.95);
        char b1[32], b2[32], b3[32];
        eval_fmt_rate(b1, sizeof b1, rate);
        eval_fmt_rate(b2, sizeof b2, up);
        eval_fmt_rate(b3, sizeof b3, rate * (double)o->n_db * (double)o->m_photos);
        fprintf(md, "| %s | %d | %s | %llu | %s | %s | %s |\n", vouch_algo_name(o->algos[a]), thr[k],
                m ? "dihedral" : "plain", (unsigned long long)x, b1, b2, b3);
        fprintf(js, "%s\"%d\":{\"matches\":%llu,\"rate\":%.6e,\"upper95\":%.6e,\"expected_nm\":%.6e}",
                k ? "," : "", thr[k], (unsigned long long)x, rate, up,
                rate * (double)o->n_db * (double)o->m_photos);
      }
      fprintf(js, "},\"hist\":");
      write_hist_json(js, h, bits);
      fputc('}', js);
    }
    fputc('}', js);
  }
  fprintf(js, "},\"near_pairs\":[");
  fprintf(md, "\nDistance distribution of unrelated pairs (plain): ");
  for (size_t a = 0; a < o->n_algo; a++) {
    const uint64_t *h = r->fp[a * 2];
    fprintf(md, "%s%s median %ld, 1st percentile %ld, minimum %ld", a ? "; " : "",
            vouch_algo_name(o->algos[a]), vouch_hist_percentile(h, NBINS, 0.5),
            vouch_hist_percentile(h, NBINS, 0.01), vouch_hist_percentile(h, NBINS, 0));
  }
  fprintf(md, ".\n\n### Closest pairs\n\n"
              "The %zu closest pairs of distinct photos for each algorithm, with all four distances. Look at\n"
              "them: a pair showing the same scene is not a false match and belongs in the `--exclude` file;\n"
              "*excluded* marks those already there. A distance within the standard threshold is in bold.\n",
          o->list_n);
  for (size_t b = 0; b < o->n_algo; b++) {
    fprintf(md, "\n#### closest by %s\n\n| # | photo A | photo B |", vouch_algo_name(o->algos[b]));
    for (size_t a = 0; a < o->n_algo; a++) fprintf(md, " %s |", vouch_algo_name(o->algos[a]));
    fprintf(md, " status |\n|---:|---|---|");
    for (size_t a = 0; a < o->n_algo; a++) fprintf(md, "---:|");
    fprintf(md, "---|\n");
    for (size_t k = 0; k < r->n_top[b]; k++) {
      const near_pair *np = &r->top[b][k];
      fprintf(md, "| %zu | %s | %s |", k + 1, base_name(paths->v[np->i]), base_name(paths->v[np->j]));
      for (size_t a = 0; a < o->n_algo; a++)
        fprintf(md, np->d[a] <= std_thr(o->algos[a]) ? " **%u** |" : " %u |", np->d[a]);
      fprintf(md, " %s |\n", np->excluded ? "excluded" : "counted");
    }
  }
  size_t shown = 0;
  for (size_t k = 0; k < r->n_near; k++) {
    const near_pair *np = &r->near[k];
    fprintf(js, "%s{\"a\":", k ? "," : "");
    cli_json_string(js, paths->v[np->i]);
    fprintf(js, ",\"b\":");
    cli_json_string(js, paths->v[np->j]);
    fprintf(js, ",\"excluded\":%s,\"distances\":{", np->excluded ? "true" : "false");
    for (size_t a = 0; a < o->n_algo; a++)
      fprintf(js, "%s\"%s\":%u", a ? "," : "", vouch_algo_name(o->algos[a]), np->d[a]);
    fprintf(js, "}}");
  }
  if (r->n_near > shown)
    fprintf(md, "\nAll %zu pairs that some algorithm puts within 1.5x its standard threshold are in\n"
                "results.json (`near_pairs`)%s.\n", r->n_near, out->dir ? " and pairs.tsv" : "");
  fprintf(js, "]}");
  (void)w;
}

void eval_report_risk(const eval_opts *o, const results *r, outputs *out) {
  FILE *md = out->md, *js = out->js;
  fprintf(md, "\n## What it means for a person: per-account risk\n\n");
  fprintf(md, "Model (the 2021 design's): each of an innocent account's **M = %llu** photos a year is compared\n"
              "with a database of **N = %llu** hashes; a photo matches if any entry is within the threshold;\n"
              "the account is flagged at **t = %llu** matching photos. With p the per-pair false-match rate,\n"
              "a photo matches with q = 1 - (1-p)^N and the account is flagged with P(X >= t),\n"
              "X ~ Binomial(M, q). Photos are taken as independent, which real libraries (bursts, edits,\n"
              "re-saves of one scene) are not: correlated photos make the real risk higher. The 2021 claim\n"
              "was 1 in 10^12 per account per year.\n\n",
          (unsigned long long)o->m_photos, (unsigned long long)o->n_db, (unsigned long long)o->acct_t);
  fprintf(md, "| algorithm | threshold | matching | false matches / pairs | p (measured) | q per photo | false-matching photos/yr | P(flag)/yr at p | p (upper 95%%) | P(flag)/yr at upper |\n"
              "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
  fprintf(js, ",\"risk\":{\"n_db\":%llu,\"m_photos\":%llu,\"t\":%llu,\"claim_log10\":%.1f,\"rows\":[",
          (unsigned long long)o->n_db, (unsigned long long)o->m_photos, (unsigned long long)o->acct_t,
          CLAIM_LOG10);
  int first = 1;
  double p_needed = 0;
  for (size_t a = 0; a < o->n_algo; a++) {
    int thrs[2] = {std_thr(o->algos[a]), 0};
    for (int ti = 0; ti < (o->algos[a] == VOUCH_ALGO_PDQ ? 2 : 1); ti++) {
      for (int m = 0; m < 2; m++) {
        risk_row rr;
        risk_for(o, hist_le(r->fp[a * 2 + m], thrs[ti]), r->pairs, &rr);
        char b[6][32];
        eval_fmt_rate(b[0], 32, rr.p_hat);
        eval_fmt_rate(b[1], 32, rr.at_hat.q);
        if (rr.x == 0) snprintf(b[2], 32, "0 (none seen)");
        else eval_fmt_prob(b[2], 32, rr.at_hat.log10_account);
        eval_fmt_rate(b[3], 32, rr.p_up);
        eval_fmt_prob(b[4], 32, rr.at_up.log10_account);
        fprintf(md, "| %s | %d%s | %s | %llu / %llu | %s | %s | %.4g | %s | %s%s | %s |\n",
                vouch_algo_name(o->algos[a]), thrs[ti], thrs[ti] == 0 ? " (exact key)" : "",
                m ? "dihedral" : "plain", (unsigned long long)rr.x, (unsigned long long)rr.k, b[0], b[1],
                rr.at_hat.expected_photos, b[2], b[3], rr.x == 0 ? " (3/K)" : "", b[4]);
        p_needed = rr.p_needed;
        fprintf(js, "%s{\"algo\":\"%s\",\"threshold\":%d,\"matching\":\"%s\",\"pairs\":%llu,\"matches\":%llu,"
                    "\"p\":%.6e,\"q\":%.6e,\"log10_account\":%.6f,\"p_upper95\":%.6e,\"q_upper\":%.6e,"
                    "\"log10_account_upper\":%.6f,\"p_needed\":%.6e,\"expected_photos_per_year\":%.6e}",
                first ? "" : ",", vouch_algo_name(o->algos[a]), thrs[ti], m ? "dihedral" : "plain",
                (unsigned long long)rr.k, (unsigned long long)rr.x, rr.p_hat, rr.at_hat.q,
                isfinite(rr.at_hat.log10_account) ? rr.at_hat.log10_account : -1e308, rr.p_up, rr.at_up.q,
                isfinite(rr.at_up.log10_account) ? rr.at_up.log10_account : -1e308, rr.p_needed,
                rr.at_hat.expected_photos);
        first = 0;
      }
    }
  }
  fprintf(js, "]");
  {
    char b1[32], b2[32], b3[32];
    vouch_risk_in in = {.p = p_needed, .n_db = o->n_db, .m_photos = o->m_photos, .t = o->acct_t};
    vouch_risk_out ro;
    vouch_risk_account(&in, &ro);
    eval_fmt_rate(b1, sizeof b1, p_needed);
    eval_fmt_rate(b2, sizeof b2, ro.q);
    eval_fmt_rate(b3, sizeof b3, p_needed > 0 ? 3.0 / p_needed : INFINITY);
    double photos = p_needed > 0 ? 0.5 + sqrt(0.25 + 2 * 3.0 / p_needed) : INFINITY;
    fprintf(md, "\n*P(flag)* is the chance that an innocent account is flagged in a year. For comparison with\n"
                "the 2021 claim: with these N, M and t, P(flag) <= 1e-12 needs a per-pair rate p <= **%s**\n"
                "(a photo matching some entry with q <= %s, i.e. %.3g false-matching photos a year on\n"
                "average). Showing a rate that low by the rule of three takes %s unrelated pairs with no\n"
                "false match: all pairs of about %.0f photos. The threshold t does most of the work: what\n"
                "a corpus of this size can show is only that p is below its upper bound.\n",
            b1, b2, ro.expected_photos, b3, photos);
    fprintf(js, ",\"p_needed\":%.6e,\"q_needed\":%.6e,\"pairs_to_show\":%.6e", p_needed, ro.q,
            p_needed > 0 ? 3.0 / p_needed : 0.0);
  }
  /* Exact keys: what private matching on exact PDQ bits would give up. */
  if (o->mode == 3) {
    size_t ap = o->n_algo;
    for (size_t a = 0; a < o->n_algo; a++)
      if (o->algos[a] == VOUCH_ALGO_PDQ) ap = a;
    if (ap < o->n_algo && o->n_tf) {
      fprintf(md, "\n### Exact keys (what private matching on exact PDQ bits costs)\n\n"
                  "Private set intersection matches exact keys. Using the PDQ bits themselves as the key is\n"
                  "threshold 0: the recall below is what survives each edit, next to the recall at 31.\n\n"
                  "| transform | PDQ = (exact key) | PDQ ≤31 | exact, dih. | ≤31, dih. |\n|---|---:|---:|---:|---:|\n");
      fprintf(js, ",\"exact_key\":[");
      for (size_t t = 0; t < o->n_tf; t++) {
        char name[VOUCH_TRANSFORM_TEXT_BYTES];
        const uint64_t *h, *hd;
        uint64_t tot = rob_row(o, r, t, ap, name, &h, &hd);
        fprintf(md, "| %s | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", name, pct(hist_le(h, 0), tot),
                pct(hist_le(h, 31), tot), pct(hist_le(hd, 0), tot), pct(hist_le(hd, 31), tot));
        fprintf(js, "%s{\"transform\":\"%s\",\"recall_exact\":%.6f,\"recall_31\":%.6f}", t ? "," : "", name,
                tot ? (double)hist_le(h, 0) / tot : 0.0, tot ? (double)hist_le(h, 31) / tot : 0.0);
      }
      uint64_t e0 = 0, e31 = 0, ed0 = 0, ed31 = 0, tot = 0;
      for (size_t t = 0; t < o->n_tf; t++) {
        const uint64_t *h = r->rob[(t * o->n_algo + ap) * 2], *hd = r->rob[(t * o->n_algo + ap) * 2 + 1];
        e0 += hist_le(h, 0);
        e31 += hist_le(h, 31);
        ed0 += hist_le(hd, 0);
        ed31 += hist_le(hd, 31);
        tot += hist_total(h);
      }
      fprintf(md, "| **all transforms** | **%.1f%%** | **%.1f%%** | **%.1f%%** | **%.1f%%** |\n", pct(e0, tot),
              pct(e31, tot), pct(ed0, tot), pct(ed31, tot));
      fprintf(md, "\nUnrelated pairs with identical PDQ bits: %llu of %llu. An exact key gives the server nothing\n"
                  "about near misses (a photo one bit away is as unknown as any other), but it lets any edit\n"
                  "that changes one bit evade the match.\n",
              (unsigned long long)hist_le(r->fp[ap * 2], 0), (unsigned long long)r->pairs);
      fprintf(js, "]");
    }
  }
  fprintf(js, "}");
}

/* The private path (eval_private.c): recall per transform, false openings. */
static int excluded_cb(const void *ctx, size_t i, size_t j) { return eval_is_excluded(ctx, i, j); }

int eval_report_private(const eval_opts *o, const cli_paths *paths, const work *w, const exclusions *ex,
                          outputs *out) {
  size_t n = paths->n, pdq_a = 0;
  for (size_t a = 0; a < o->n_algo; a++)
    if (o->algos[a] == VOUCH_ALGO_PDQ) pdq_a = a;
  int *ok = calloc(n, sizeof *ok);
  uint8_t (*hash)[32] = calloc(n, sizeof *hash);
  uint16_t *plain = calloc(n * (o->n_tf ? o->n_tf : 1), sizeof *plain);
  const char **names = calloc(n, sizeof *names);
  int rc = -1;
  if (ok && hash && plain && names) {
    for (size_t i = 0; i < n; i++) {
      ok[i] = w->info[i].rc == VOUCH_OK;
      names[i] = base_name(paths->v[i]);
      memcpy(hash[i], w->hashes[i * o->n_algo + pdq_a][0], 32);
      for (size_t t = 0; t < o->n_tf; t++) plain[i * o->n_tf + t] = w->dist[(i * o->n_tf + t) * o->n_algo + pdq_a].plain;
    }
    evp_data d = {n, ok, (const uint8_t(*)[32])hash, (const float(*)[256])w->margins, o->n_tf, o->suite, w->ranks,
                  w->found, o->priv.views ? w->views : NULL, plain, excluded_cb, ex, names, o->n_db, o->m_photos, o->acct_t};
    rc = evp_report(&o->priv, &d, o->mode & 2, out->md, out->js);
  }
  free(ok);
  free(hash);
  free(plain);
  free(names);
  return rc;
}

