/* bench/bench_lookup.c -- single-photo lookups straight through the library,
 * the baseline that the HTTP benchmark (bench/http_bench.sh) is compared with.
 *
 * usage: bench_lookup INDEX.vidx [--threads T] [--queries N] [--radius R]
 *                     [--seed S] [--write-bodies FILE]
 *        bench_lookup --make N OUT.vidx [--seed S]
 *
 * --make writes an index of N random PDQ hashes (one bank, ids "e<i>"), the
 * synthetic database the HTTP benchmark uses.
 *
 * Makes N queries of 8 dihedral variants each: half are a random index entry
 * with 0..R bits flipped in variant 0 (so they must match), half random.
 * Each query is one vouch_index_search() call, as one HTTP request would be.
 * Prints queries/s over T threads and the p50/p99 latency of one call, and
 * checks every planted query found its entry (recall 100%).  With
 * --write-bodies, writes one JSON request body per line ({"photos":[[8 hex]]})
 * for wrk to replay against vouchd. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vouch/vouch.h"
#include "vouch/index.h"

typedef struct {
  vouch_index *idx;
  const uint8_t *queries;
  size_t hb, from, to;
  unsigned radius;
  double *lat;
  const uint32_t *planted; /* entry each planted query must find, or UINT32_MAX */
  size_t missed;
} job;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *run(void *arg) {
  job *j = arg;
  vouch_search_opts so = {.radius = j->radius, .engine = VOUCH_ENGINE_AUTO, .threads = 1};
  for (size_t q = j->from; q < j->to; q++) {
    vouch_match *m = NULL;
    size_t nm = 0;
    double t0 = now();
    if (vouch_index_search(j->idx, j->queries + q * 8 * j->hb, 1, 8, &so, &m, &nm) != VOUCH_OK) {
      j->missed++;
      continue;
    }
    j->lat[q] = now() - t0;
    if (j->planted[q] != UINT32_MAX) {
      int found = 0;
      for (size_t k = 0; k < nm; k++) found |= m[k].entry == j->planted[q];
      j->missed += !found;
    }
    vouch_matches_free(m);
  }
  return NULL;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* splitmix64: a fixed, seedable stream for reproducible queries */
static uint64_t next_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int make_index(size_t n, const char *path, uint64_t seed) {
  uint8_t *hashes = malloc(n * 32);
  vouch_index_input *in = malloc(n * sizeof *in);
  char *ids = malloc(n * 16);
  if (!hashes || !in || !ids) return 2;
  for (size_t i = 0; i < n; i++) {
    for (int b = 0; b < 32; b += 8) {
      uint64_t r = next_rand(&seed);
      memcpy(hashes + i * 32 + b, &r, 8);
    }
    snprintf(ids + i * 16, 16, "e%u", (unsigned)i);
    in[i] = (vouch_index_input){hashes + i * 32, 0, (uint64_t)i + 1, ids + i * 16, "bench"};
  }
  const char *banks[1] = {"synthetic"};
  char err[256] = "";
  double t0 = now();
  int rc = vouch_index_write(path, VOUCH_ALGO_PDQ, banks, 1, in, n, NULL, err, sizeof err);
  printf("wrote %s: %zu random PDQ hashes in %.1f s (%s)\n", path, n, now() - t0, rc ? err : "ok");
  free(hashes);
  free(in);
  free(ids);
  return rc ? 2 : 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "--make")) {
    uint64_t s = 7;
    if (argc >= 6 && !strcmp(argv[4], "--seed")) s = (uint64_t)atoll(argv[5]);
    return make_index((size_t)atof(argv[2]), argv[3], s);
  }
  if (argc < 2) {
    fprintf(stderr, "usage: bench_lookup INDEX.vidx [--threads T] [--queries N] [--radius R] [--seed S] [--write-bodies FILE]\n");
    return 2;
  }
  unsigned threads = 2, radius = 31;
  size_t nq = 20000;
  uint64_t seed = 1;
  const char *bodies = NULL;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--threads")) threads = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--queries")) nq = (size_t)atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--radius")) radius = (unsigned)atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seed")) seed = (uint64_t)atoll(argv[i + 1]);
    else if (!strcmp(argv[i], "--write-bodies")) bodies = argv[i + 1];
  }
  vouch_init();
  vouch_index *idx = NULL;
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_threads = threads;
  double t0 = now();
  if (vouch_index_open(&idx, argv[1], &cfg) != VOUCH_OK) {
    fprintf(stderr, "cannot open %s: %s\n", argv[1], vouch_index_errmsg(idx));
    return 2;
  }
  printf("index: %zu entries, opened (with MIH tables) in %.1f s, engine for r=%u: %s\n", vouch_index_count(idx),
         now() - t0, radius, vouch_index_engine_for(idx, radius, 8) == VOUCH_ENGINE_MIH ? "mih" : "scan");
  const size_t hb = vouch_index_hash_bytes(idx), n = vouch_index_count(idx);
  uint8_t *queries = malloc(nq * 8 * hb);
  uint32_t *planted = malloc(nq * sizeof *planted);
  double *lat = calloc(nq, sizeof *lat);
  for (size_t q = 0; q < nq; q++) {
    uint8_t *qq = queries + q * 8 * hb;
    for (size_t b = 0; b < 8 * hb; b++) qq[b] = (uint8_t)next_rand(&seed);
    planted[q] = UINT32_MAX;
    if (q % 2 == 0 && n > 0) {
      uint32_t e = (uint32_t)(next_rand(&seed) % n);
      vouch_index_entry ent;
      vouch_index_get(idx, e, &ent);
      memcpy(qq, ent.hash, hb);
      unsigned flips = (unsigned)(next_rand(&seed) % (radius + 1));
      for (unsigned f = 0; f < flips; f++) {
        unsigned bit = (unsigned)(next_rand(&seed) % (8 * hb));
        qq[bit / 8] ^= (uint8_t)(1u << (bit % 8)); /* may hit a bit twice: distance <= flips */
      }
      planted[q] = e;
    }
  }
  if (bodies) {
    FILE *f = fopen(bodies, "w");
    char hex[VOUCH_HASH_HEX_BYTES];
    for (size_t q = 0; f && q < nq; q++) {
      fputs("{\"photos\":[[", f);
      for (int v = 0; v < 8; v++) {
        vouch_hash_to_hex(queries + (q * 8 + (size_t)v) * hb, hb, hex, sizeof hex);
        fprintf(f, "%s\"%s\"", v ? "," : "", hex);
      }
      fputs("]]}\n", f);
    }
    if (f) fclose(f);
  }
  job *jobs = calloc(threads, sizeof *jobs);
  pthread_t *tid = calloc(threads, sizeof *tid);
  t0 = now();
  for (unsigned t = 0; t < threads; t++) {
    jobs[t] = (job){idx, queries, hb, nq * t / threads, nq * (t + 1) / threads, radius, lat, planted, 0};
    pthread_create(&tid[t], NULL, run, &jobs[t]);
  }
  size_t missed = 0;
  for (unsigned t = 0; t < threads; t++) {
    pthread_join(tid[t], NULL);
    missed += jobs[t].missed;
  }
  double wall = now() - t0;
  qsort(lat, nq, sizeof *lat, cmp_d);
  printf("direct: %zu single-photo lookups (8 variants, r=%u) on %u threads: %.0f queries/s, "
         "p50 %.2f ms, p99 %.2f ms, planted found: %s\n",
         nq, radius, threads, nq / wall, 1000 * lat[nq / 2], 1000 * lat[nq * 99 / 100],
         missed ? "NO (recall < 100%)" : "all (recall 100%)");
  vouch_index_free(idx);
  free(queries);
  free(planted);
  free(lat);
  free(jobs);
  free(tid);
  return missed ? 1 : 0;
}
