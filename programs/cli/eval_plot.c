/* programs/cli/eval_plot.c -- the plots of `vouch eval --report DIR`: the
 * distance histograms and recall curves as data files, a gnuplot script,
 * and gnuplot run on it when installed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "eval.h"

/* Transform families (kind) in suite order, for the recall plots. */
static size_t families(const eval_opts *o, int *kinds) {
  size_t n = 0;
  for (size_t t = 0; t < o->n_tf; t++) {
    size_t k;
    for (k = 0; k < n && kinds[k] != o->suite[t].kind; k++) {}
    if (k == n) kinds[n++] = o->suite[t].kind;
  }
  return n;
}

/* Runs `gnuplot plots.gp` in `dir` with its messages in dir/gnuplot.log.
 * Returns 0 on success, 1 if gnuplot failed, -1 if it could not be run
 * (not installed). */
int eval_run_gnuplot(const char *dir) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (chdir(dir) != 0) _exit(126);
    int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      dup2(fd, STDOUT_FILENO);
      close(fd);
    }
    execlp("gnuplot", "gnuplot", "plots.gp", (char *)NULL);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 127) return -1;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* Writes the data files and the gnuplot script; runs gnuplot when present.
 * Returns the number of plots made (0 when skipped), or -1 on a write error. */
int eval_write_plots(const eval_opts *o, const results *r, const char *dir, FILE *md) {
  char path[4096];
  int kinds[VOUCH_TF_KIND_END_];
  size_t nk = families(o, kinds);
  FILE *gp = eval_open_in(dir, "plots.gp", path, sizeof path);
  if (!gp) return -1;
  fprintf(gp, "# gnuplot script written by vouch eval; run from this folder: gnuplot plots.gp\n"
              "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
              "  set terminal pngcairo size 1100,650 font ',10'\n} else {\n  set terminal png size 1100,650\n}\n"
              "set grid\nset key outside right top\nset colorsequence podo\n"
              "set datafile missing '?'  # empty histogram bins: skipped, lines still joined\n");
  int nplots = 0;
  for (size_t a = 0; a < o->n_algo; a++) {
    const char *an = vouch_algo_name(o->algos[a]);
    unsigned bits = algo_bits(o->algos[a]);
    char name[64];
    /* Histograms: same photo transformed (pooled) vs unrelated pairs. */
    snprintf(name, sizeof name, "hist_%s.dat", an);
    FILE *f = eval_open_in(dir, name, path, sizeof path);
    if (!f) {
      fclose(gp);
      return -1;
    }
    uint64_t pooled[NBINS] = {0};
    for (size_t t = 0; t < o->n_tf; t++)
      for (int d = 0; d < NBINS; d++) pooled[d] += r->rob[(t * o->n_algo + a) * 2][d];
    uint64_t tp = hist_total(pooled), tf = hist_total(r->fp[a * 2]);
    fprintf(f, "# distance  transformed_fraction  unrelated_fraction  (%s; %llu transformed copies, %llu unrelated pairs)\n",
            an, (unsigned long long)tp, (unsigned long long)tf);
    for (unsigned d = 0; d <= bits; d++) {
      fprintf(f, "%u", d);
      if (pooled[d]) fprintf(f, " %.9g", (double)pooled[d] / tp);
      else fputs(" ?", f);
      if (r->fp[a * 2][d]) fprintf(f, " %.9g\n", (double)r->fp[a * 2][d] / tf);
      else fputs(" ?\n", f);
    }
    fclose(f);
    fprintf(gp, "set output 'hist_%s.png'\nset title '%s: distance distributions'\n"
                "set xlabel 'Hamming distance (bits), 2-bit bins'\nset ylabel 'fraction (log scale)'\nset format y '%%g'\n"
                "set logscale y\nset xrange [0:%u]\nset arrow 1 from %d, graph 0 to %d, graph 1 nohead dt 2\n"
                "plot 'hist_%s.dat' u (2*floor($1/2)):2 smooth frequency w lp lw 2 pt 7 ps 0.6 "
                "t 'same photo, edited (all transforms)', "
                "'' u (2*floor($1/2)):3 smooth frequency w lp lw 2 pt 7 ps 0.6 t 'unrelated photos'\n"
                "set format y\n"
                "unset arrow 1\nunset logscale y\n",
            an, an, bits, std_thr(o->algos[a]), std_thr(o->algos[a]), an);
    nplots++;
    /* Recall vs threshold per transform family, and the false-match rate. */
    if (o->n_tf) {
      snprintf(name, sizeof name, "recall_%s.dat", an);
      f = eval_open_in(dir, name, path, sizeof path);
      if (!f) {
        fclose(gp);
        return -1;
      }
      fprintf(f, "# threshold");
      for (size_t k = 0; k < nk; k++) fprintf(f, " %s", vouch_transform_kind_name(kinds[k]));
      fprintf(f, " all_plain all_dihedral false_match_rate  (recall: mean over each family's parameters)\n");
      for (unsigned d = 0; d <= bits; d++) {
        fprintf(f, "%u", d);
        for (size_t k = 0; k < nk; k++) {
          double s = 0;
          int cnt = 0;
          for (size_t t = 0; t < o->n_tf; t++) {
            if (o->suite[t].kind != kinds[k]) continue;
            const uint64_t *h = r->rob[(t * o->n_algo + a) * 2];
            uint64_t tot = hist_total(h);
            s += tot ? (double)hist_le(h, (int)d) / tot : 0;
            cnt++;
          }
          fprintf(f, " %.6f", cnt ? s / cnt : 0.0);
        }
        uint64_t pd[NBINS] = {0};
        for (size_t t = 0; t < o->n_tf; t++)
          for (int x = 0; x < NBINS; x++) pd[x] += r->rob[(t * o->n_algo + a) * 2 + 1][x];
        fprintf(f, " %.6f %.6f %.9g\n", tp ? (double)hist_le(pooled, (int)d) / tp : 0.0,
                hist_total(pd) ? (double)hist_le(pd, (int)d) / hist_total(pd) : 0.0,
                tf ? (double)hist_le(r->fp[a * 2], (int)d) / tf : 0.0);
      }
      fclose(f);
      fprintf(gp, "set output 'recall_%s.png'\nset title '%s: recall vs threshold (mean per transform family) and false-match rate'\n"
                  "set xlabel 'threshold (bits)'\nset ylabel 'recall'\nset yrange [0:1.02]\n"
                  "set y2label 'false-match rate per pair (log)'\nset logscale y2\nset y2tics\nset format y2 '%%g'\n"
                  "set ytics nomirror\n"
                  "set xrange [0:%u]\nset arrow 1 from %d, graph 0 to %d, graph 1 nohead dt 2\nplot ",
              an, an, bits / 2, std_thr(o->algos[a]), std_thr(o->algos[a]));
      for (size_t k = 0; k < nk; k++)
        fprintf(gp, "'recall_%s.dat' u 1:%zu w l lw 2 lc %zu dt %d t '%s', ", an, k + 2, k % 8 + 1,
                k < 8 ? 1 : 4, vouch_transform_kind_name(kinds[k]));
      fprintf(gp, "'recall_%s.dat' u 1:%zu w l lw 3 lc rgb 'black' t 'all (plain)', "
                  "'' u 1:%zu w l lw 3 dt 2 lc rgb 'gray50' t 'all (dihedral)', "
                  "'' u 1:($%zu>0?$%zu:1/0) axes x1y2 w lp pt 6 lc rgb 'red' t 'false-match rate'\n"
                  "unset arrow 1\nunset logscale y2\nunset y2tics\nunset y2label\nset ytics mirror\nset autoscale y\n",
              an, nk + 2, nk + 3, nk + 4, nk + 4);
      nplots++;
    }
  }
  fclose(gp);
  int rc = eval_run_gnuplot(dir);
  if (rc < 0) {
    fprintf(md, "\n*Plots skipped: gnuplot was not found. The data files (hist_*.dat, recall_*.dat) and\n"
                "plots.gp are in the report folder; `gnuplot plots.gp` there makes the PNGs.*\n");
    return 0;
  }
  if (rc > 0) {
    cli_warnf("gnuplot failed (see %s/gnuplot.log); data files are written", dir);
    fprintf(md, "\n*Plots: gnuplot failed (gnuplot.log); data files and plots.gp are written.*\n");
    return 0;
  }
  fprintf(md, "\n## Plots\n\n");
  for (size_t a = 0; a < o->n_algo; a++) {
    const char *an = vouch_algo_name(o->algos[a]);
    fprintf(md, "![%s distances](hist_%s.png)\n", an, an);
    if (o->n_tf) fprintf(md, "![%s recall](recall_%s.png)\n", an, an);
  }
  return nplots;
}

