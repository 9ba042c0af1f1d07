/* bench/bench_index_open.c -- what opening a big index costs, phase by phase:
 * the validation of vouch_index_open() (checksum, records, canonical order),
 * then the MIH tables built on 1 and on 2 threads, in wall-clock time (a
 * replica joining waits for the wall clock).
 *
 * usage: bench_index_open [-n ENTRIES] [--cache FILE]
 *   -n: random PDQ entries (default 1000000), each with an external id as
 *       bench/pg_replicas.sh loads them;
 *   --cache FILE: reuse FILE if it exists (same -n), else write it there.
 * The file is in the page cache (just written, or read once before timing),
 * as a shared --snapshot-dir file or a just-fetched one is. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vouch/vouch.h"
#include "bench_clock.h"

static void warm(const char *path) {
  char buf[1 << 16];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return;
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
}

static double open_once(const char *path, int mih, unsigned threads, size_t *mem) {
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_mih = mih;
  cfg.build_threads = threads;
  vouch_index *idx = NULL;
  const double t0 = wall();
  if (vouch_index_open(&idx, path, &cfg) != VOUCH_OK) {
    fprintf(stderr, "open: %s\n", vouch_index_errmsg(idx));
    exit(1);
  }
  const double t = wall() - t0;
  if (mem) *mem = vouch_index_memory(idx);
  if (mih && vouch_index_mih_m(idx) == 0) fprintf(stderr, "no MIH tables\n");
  vouch_index_free(idx);
  return t;
}

int main(int argc, char **argv) {
  size_t n = 1000000;
  const char *cache = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) n = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--cache") && i + 1 < argc) cache = argv[++i];
    else {
      fprintf(stderr, "usage: bench_index_open [-n ENTRIES] [--cache FILE]\n");
      return 2;
    }
  }
  char tmpl[] = "/tmp/bench_index_open_XXXXXX";
  const char *path = cache;
  const int reuse = cache && access(cache, R_OK) == 0;
  if (!cache) {
    int fd = mkstemp(tmpl);
    if (fd < 0) return 1;
    close(fd);
    path = tmpl;
  }
  if (!reuse) {
    uint8_t *db = malloc(n * 32);
    char *ids = malloc(n * 12);
    vouch_index_input *in = malloc(n * sizeof *in);
    if (!db || !ids || !in) return 1;
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n * 4; i++) {
      uint64_t x = bench_xorshift64(&s);
      memcpy(db + 8 * i, &x, 8);
    }
    for (size_t i = 0; i < n; i++) {
      snprintf(ids + 12 * i, 12, "e%u", (unsigned)(i % 1000000000u));
      in[i] = (vouch_index_input){db + 32 * i, 0, i + 1, ids + 12 * i, NULL};
    }
    const char *banks[1] = {"big"};
    char err[256];
    const double t0 = wall();
    if (vouch_index_write(path, VOUCH_ALGO_PDQ, banks, 1, in, n, NULL, err, sizeof err) != VOUCH_OK) {
      fprintf(stderr, "write: %s\n", err);
      return 1;
    }
    printf("write %.2f s\n", wall() - t0);
    free(db);
    free(ids);
    free(in);
  }
  warm(path);
  struct stat sb;
  stat(path, &sb);
  size_t mem = 0;
  printf("n %zu, file %.1f MB (wall-clock seconds; shared machine)\n", n, (double)sb.st_size / 1e6);
  printf("  open, validation only:    %.2f s\n", open_once(path, 0, 1, NULL));
  printf("  open + MIH on 1 thread:   %.2f s\n", open_once(path, 1, 1, NULL));
  const double t2 = open_once(path, 1, 2, &mem);
  printf("  open + MIH on 2 threads:  %.2f s (tables %.1f MB)\n", t2, (double)mem / 1e6);
  if (!cache) unlink(path);
  return 0;
}
