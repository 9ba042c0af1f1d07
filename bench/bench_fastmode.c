/* bench/bench_fastmode.c -- how far fast mode's PDQ is from --exact.
 *
 * usage: bench_fastmode [--min-side N]... FILE...
 *
 * For every file: PDQ at full resolution (bit-exact with the reference) and
 * PDQ after a scaled JPEG decode that keeps both sides >= N (default: the
 * CLI's VOUCH_FAST_MIN_SIDE, 375; several --min-side values may be given).  Prints, per N, the
 * median, 90th, 99th percentile and maximum Hamming distance over the JPEG
 * files, and the time per image of each mode (one thread).  Non-JPEG files
 * decode identically in both modes and are counted separately. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vouch/vouch.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time of this thread: per-core figures that hold on a busy machine */
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static double mean_of(const unsigned *d, int n) {
  double m = 0;
  for (int k = 0; k < n; k++) m += d[k];
  return n ? m / n : 0;
}
static int cmp_u(const void *a, const void *b) {
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  unsigned sides[8];
  int ns = 0, i = 1;
  while (i + 1 < argc && !strcmp(argv[i], "--min-side") && ns < 8) {
    sides[ns++] = (unsigned)atoi(argv[i + 1]);
    i += 2;
  }
  if (ns == 0) sides[ns++] = VOUCH_FAST_MIN_SIDE;
  if (i >= argc) {
    fprintf(stderr, "usage: bench_fastmode [--min-side N]... FILE...\n");
    return 2;
  }
  vouch_init();
  int nfiles = argc - i;
  vouch_hasher *h;
  vouch_decoder *exact;
  vouch_decode_opts eo = vouch_decode_opts_default();
  if (vouch_hasher_create(&h) || vouch_decoder_create(&exact, &eo)) return 2;
  uint8_t (*ex)[VOUCH_PDQ_BYTES] = calloc((size_t)nfiles, VOUCH_PDQ_BYTES);
  int *ok = calloc((size_t)nfiles, sizeof(int)), *jpeg = calloc((size_t)nfiles, sizeof(int));
  int *qual = calloc((size_t)nfiles, sizeof(int));
  unsigned *dist_q = calloc((size_t)nfiles, sizeof(unsigned)), *dist_s = calloc((size_t)nfiles, sizeof(unsigned));
  unsigned *dist = calloc((size_t)nfiles, sizeof(unsigned));
  double t_exact = 0;
  int njpeg = 0, nfail = 0;
  for (int f = 0; f < nfiles; f++) {
    vouch_image img = {0};
    double t0 = now();
    if (vouch_decoder_decode_file(exact, argv[i + f], &img) != VOUCH_OK ||
        vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, 0, ex[f], VOUCH_PDQ_BYTES, &qual[f]) != VOUCH_OK) {
      nfail++;
      vouch_image_clear(&img);
      continue;
    }
    t_exact += now() - t0;
    ok[f] = 1;
    jpeg[f] = img.format == VOUCH_FMT_JPEG;
    njpeg += jpeg[f];
    vouch_image_clear(&img);
  }
  printf("files: %d (%d JPEG, %d failed to decode)\n", nfiles, njpeg, nfail);
  printf("exact: %.2f ms/image (all files)\n", 1000 * t_exact / (nfiles - nfail));
  for (int s = 0; s < ns; s++) {
    vouch_decode_opts fo = vouch_decode_opts_default();
    fo.min_side = sides[s];
    vouch_decoder *fast;
    if (vouch_decoder_create(&fast, &fo)) return 2;
    int n = 0, scaled = 0, nq = 0, nsc = 0;
    double t_fast = 0;
    for (int f = 0; f < nfiles; f++) {
      if (!ok[f] || !jpeg[f]) continue;
      vouch_image img = {0};
      uint8_t fh[VOUCH_PDQ_BYTES];
      double t0 = now();
      if (vouch_decoder_decode_file(fast, argv[i + f], &img) != VOUCH_OK ||
          vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, 0, fh, sizeof fh, NULL) != VOUCH_OK) {
        vouch_image_clear(&img);
        continue;
      }
      t_fast += now() - t0;
      scaled += img.scale_denom > 1;
      unsigned dd = vouch_hamming(fh, ex[f], VOUCH_PDQ_BYTES);
      dist[n++] = dd;
      if (qual[f] >= 50) dist_q[nq++] = dd;
      if (img.scale_denom > 1) dist_s[nsc++] = dd;
      vouch_image_clear(&img);
    }
    qsort(dist, (size_t)n, sizeof *dist, cmp_u);
    if (n > 0)
      printf("min-side %4u: %d JPEGs (%d decoded scaled)  distance median %u  p90 %u  p99 %u  max %u  "
             "mean %.2f  fast %.2f ms/image\n",
             sides[s], n, scaled, dist[n / 2], dist[(n * 9) / 10], dist[(n * 99) / 100], dist[n - 1],
             mean_of(dist, n), 1000 * t_fast / n);
    qsort(dist_q, (size_t)nq, sizeof *dist_q, cmp_u);
    qsort(dist_s, (size_t)nsc, sizeof *dist_s, cmp_u);
    if (nq > 0)
      printf("              quality >= 50: %d JPEGs  median %u  p90 %u  p99 %u  max %u\n", nq, dist_q[nq / 2],
             dist_q[(nq * 9) / 10], dist_q[(nq * 99) / 100], dist_q[nq - 1]);
    if (nsc > 0)
      printf("              decoded scaled only: %d JPEGs  median %u  p90 %u  p99 %u  max %u\n", nsc,
             dist_s[nsc / 2], dist_s[(nsc * 9) / 10], dist_s[(nsc * 99) / 100], dist_s[nsc - 1]);
    vouch_decoder_free(fast);
  }
  free(qual); free(dist_q); free(dist_s);
  free(ex); free(ok); free(jpeg); free(dist);
  vouch_decoder_free(exact);
  vouch_hasher_free(h);
  return 0;
}
