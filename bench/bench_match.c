/* bench/bench_match.c -- exact radius search on synthetic PDQ data.
 *
 * usage: bench_match [-n N] [-q QUERIES] [-r RADIUS] [-m M] [--scan-queries K]
 *                    [--dump DIR] [--engines scan,mih] [--threads 1,2]
 *
 * Data: N random 256-bit hashes, plus for every query one planted entry at
 * distance q % (RADIUS+1) from one of its 8 variants (so there are planted
 * near-duplicates at every distance 0..RADIUS).  A query is 8 independent
 * random hashes (the dihedral variants of a real PDQ hash are about 128 bits
 * apart, like random ones).  Recall = planted entries found / planted; every
 * result is also checked against the exact distance.  With --dump, writes
 * DIR/db.bin, DIR/queries.bin (raw bytes) and DIR/meta.txt for
 * bench/faiss_compare.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "vouch/vouch.h"
#include "vouch/index.h"
#include "bench_clock.h"

/* wall clock and process CPU time (bench_clock.h) */
#define now() wall()
#define cpu_now() proc_cpu()

static uint64_t st = 0x853c49e6748fea9bULL;
static uint64_t rnd(void) { return bench_xorshift64(&st) * 0x2545F4914F6CDD1DULL; }

static long proc_kb(const char *file, const char *key) {
  FILE *f = fopen(file, "r");
  char line[256];
  long kb = -1;
  size_t kl = strlen(key);
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, key, kl)) kb = atol(line + kl);
  fclose(f);
  return kb;
}
static long rss_kb(void) { return proc_kb("/proc/self/status", "VmRSS:"); }

int main(int argc, char **argv) {
  size_t n = 1000000, nq = 2000, scan_q = 20;
  unsigned radius = 31, m = 0;
  const char *dump = NULL, *threads_s = "1,2", *engines = "scan,mih", *cache = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) n = (size_t)atof(argv[++i]);
    else if (!strcmp(argv[i], "-q") && i + 1 < argc) nq = (size_t)atof(argv[++i]);
    else if (!strcmp(argv[i], "-r") && i + 1 < argc) radius = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "-m") && i + 1 < argc) m = (unsigned)atoi(argv[++i]);
    else if (!strcmp(argv[i], "--scan-queries") && i + 1 < argc) scan_q = (size_t)atof(argv[++i]);
    else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dump = argv[++i];
    else if (!strcmp(argv[i], "--cache") && i + 1 < argc) cache = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads_s = argv[++i];
    else if (!strcmp(argv[i], "--engines") && i + 1 < argc) engines = argv[++i];
    else {
      fprintf(stderr, "usage: %s [-n N] [-q Q] [-r R] [-m M] [--scan-queries K] [--dump DIR] "
                      "[--engines scan,mih] [--threads 1,2]\n", argv[0]);
      return 2;
    }
  }
  if (vouch_init() < 0) return 1;
  const size_t hb = 32, total = n + nq;
  uint8_t *db = malloc(total * hb), *q = malloc(nq * 8 * hb);
  if (!db || !q) return 1;
  for (size_t i = 0; i < total * hb; i += 8) {
    uint64_t x = rnd();
    memcpy(db + i, &x, 8);
  }
  for (size_t i = 0; i < nq * 8 * hb; i += 8) {
    uint64_t x = rnd();
    memcpy(q + i, &x, 8);
  }
  /* planted: entry n + k is variant k % 8 of query k with k % (radius+1) bits flipped */
  unsigned *planted_d = malloc(nq * sizeof *planted_d);
  for (size_t k = 0; k < nq; k++) {
    uint8_t *e = db + (n + k) * hb;
    memcpy(e, q + (k * 8 + k % 8) * hb, hb);
    unsigned d = (unsigned)(k % (radius + 1));
    planted_d[k] = d;
    uint8_t used[256] = {0};
    for (unsigned f = 0; f < d;) {
      unsigned b = (unsigned)(rnd() % 256);
      if (used[b]) continue;
      used[b] = 1;
      e[b / 8] ^= (uint8_t)(1u << (b % 8));
      f++;
    }
  }
  if (dump) {
    mkdir(dump, 0755);
    char p[4096];
    snprintf(p, sizeof p, "%s/db.bin", dump);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(db, hb, total, f) != total) return 1;
    fclose(f);
    snprintf(p, sizeof p, "%s/queries.bin", dump);
    f = fopen(p, "wb");
    if (!f || fwrite(q, hb * 8, nq, f) != nq) return 1;
    fclose(f);
    snprintf(p, sizeof p, "%s/meta.txt", dump);
    f = fopen(p, "w");
    if (!f) return 1;
    fprintf(f, "n %zu\nqueries %zu\nradius %u\nplanted_offset %zu\n", total, nq, radius, n);
    fclose(f);
  }

  /* build: write the index file, then open (validate + MIH tables) */
  /* --cache FILE: reuse an index written by an earlier run with the same
   * -n/-q/-r (the data is generated from a fixed seed), else write it there */
  char tmpl[] = "/tmp/bench_match_XXXXXX";
  const char *path = cache;
  int reuse = cache && access(cache, R_OK) == 0;
  if (!cache) {
    int fd = mkstemp(tmpl);
    if (fd < 0) return 1;
    close(fd);
    path = tmpl;
  }
  vouch_index_input *in = malloc(total * sizeof *in);
  for (size_t i = 0; i < total; i++)
    in[i] = (vouch_index_input){db + i * hb, 0, i + 1, NULL, NULL};
  const char *banks[1] = {"bench"};
  char err[256];
  double t0 = now();
  if (!reuse && vouch_index_write(path, VOUCH_ALGO_PDQ, banks, 1, in, total, NULL, err, sizeof err)) {
    fprintf(stderr, "write: %s\n", err);
    return 1;
  }
  double t_write = now() - t0;
  free(in);
  long rss0 = rss_kb();
  vouch_index_config cfg = vouch_index_config_default();
  cfg.mih_m = m;
  cfg.build_threads = 2;
  vouch_index *idx = NULL;
  t0 = now();
  if (vouch_index_open(&idx, path, &cfg)) {
    fprintf(stderr, "open: %s\n", vouch_index_errmsg(idx));
    return 1;
  }
  double t_open = now() - t0;
  long rss1 = rss_kb(); /* before the second handle maps the file again */
  if (vouch_index_count(idx) != total) {
    fprintf(stderr, "%s: holds %zu entries, not %zu: written with other -n/-q?\n", path,
            vouch_index_count(idx), total);
    return 1;
  }
  cfg.force_scalar = 1;
  cfg.build_mih = 0;
  vouch_index *idx_scalar = NULL;
  if (vouch_index_open(&idx_scalar, path, &cfg)) return 1;
  struct stat sb;
  stat(path, &sb);
  if (!cache) unlink(path);
  /* entry number of each planted hash in the (sorted) index */
  uint32_t *planted_entry = malloc(nq * sizeof *planted_entry);
  for (size_t i = 0; i < total; i++) {
    vouch_index_entry e;
    vouch_index_get(idx, i, &e);
    if (e.entry_id > n && e.entry_id <= total) planted_entry[e.entry_id - 1 - n] = (uint32_t)i;
  }
  printf("n %zu  queries %zu  radius %u  variants 8  simd %s  mih_m %u\n", total, nq, radius,
         vouch_index_simd(idx), vouch_index_mih_m(idx));
  printf("build: write %s%.2f s (sort + Merkle + checksum), open %.2f s (validate + MIH tables)\n",
         reuse ? "(reused file) " : "", t_write, t_open);
  const double hashes_b = (double)total * hb, tables_b = (double)vouch_index_memory(idx),
               links_b = (double)vouch_index_mih_link_bytes(idx, m);
  printf("memory: hashes %.1f MB, file %.1f MB, MIH tables %.1f MB (%.2fx hash bytes) = payloads and "
         "directories %.1f MB + entry links %.1f MB; RSS growth of the open %.1f MB\n",
         hashes_b / 1e6, (double)sb.st_size / 1e6, tables_b / 1e6, tables_b / hashes_b,
         (tables_b - links_b) / 1e6, links_b / 1e6, (double)(rss1 - rss0) / 1e3);
  printf("memory against issue #3's target (1.5x the hash bytes plus ids): %.2fx plus entry links "
         "(%.2fx); MIH reads the hashes of matches only\n",
         (tables_b - links_b) / hashes_b, links_b / hashes_b);
  printf("anonymous huge pages: %.1f MB\n", (double)proc_kb("/proc/self/smaps_rollup", "AnonHugePages:") / 1e3);
  printf("auto engine for r=%u: %s\n", radius,
         vouch_index_engine_for(idx, radius, 8) == VOUCH_ENGINE_MIH ? "mih" : "scan");

  struct { const char *name; vouch_index *idx; int engine; } runs[] = {
      {"scan-scalar", idx_scalar, VOUCH_ENGINE_SCAN},
      {"scan-avx2", idx, VOUCH_ENGINE_SCAN},
      {"mih", idx, VOUCH_ENGINE_MIH}};
  for (size_t r = 0; r < 3; r++) {
    if (!strstr(engines, r < 2 ? "scan" : "mih")) continue;
    if (r == 1 && strcmp(vouch_index_simd(idx), "avx2")) continue;
    for (const char *tp = threads_s; *tp;) {
      unsigned th = (unsigned)atoi(tp);
      size_t qn = r < 2 ? (scan_q < nq ? scan_q : nq) : nq;
      vouch_search_opts o = {radius, runs[r].engine, th};
      vouch_match *mm = NULL;
      size_t nm = 0;
      t0 = now();
      double c0 = cpu_now();
      int rc = vouch_index_search(runs[r].idx, q, qn, 8, &o, &mm, &nm);
      double dt = now() - t0, dc = cpu_now() - c0;
      if (rc) {
        fprintf(stderr, "search: %s\n", vouch_strerror(rc));
        return 1;
      }
      /* recall over the planted entries; every reported distance exact */
      size_t found = 0, wrong = 0;
      for (size_t k = 0; k < nm; k++) {
        vouch_index_entry e;
        vouch_index_get(runs[r].idx, mm[k].entry, &e);
        unsigned d = vouch_hamming(e.hash, q + ((size_t)mm[k].query * 8 + mm[k].variant) * hb, hb);
        if (d != mm[k].distance || d > radius) wrong++;
        if (mm[k].entry == planted_entry[mm[k].query] && d <= planted_d[mm[k].query]) found++;
      }
      /* The machine may be shared: CPU time tells what one core does. */
      printf("%-12s threads %u: %8.1f queries/s wall, %8.1f queries per CPU-second  (%zu queries, "
             "%.3f s wall, %.3f s CPU, %zu matches, recall %.4f, wrong %zu)\n",
             runs[r].name, th, (double)qn / dt, (double)qn / dc, qn, dt, dc, nm,
             (double)found / (double)qn, wrong);
      fflush(stdout);
      vouch_matches_free(mm);
      while (*tp && *tp != ',') tp++;
      if (*tp == ',') tp++;
    }
  }
  vouch_index_free(idx);
  vouch_index_free(idx_scalar);
  free(db);
  free(q);
  free(planted_d);
  free(planted_entry);
  return 0;
}
