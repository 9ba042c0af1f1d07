/* bench/bench_snapshot_fetch.c -- what a replica joining from PostgreSQL pays
 * for a big snapshot, next to a replica opening the same file from a shared
 * --snapshot-dir, in the same run: vouch_bank_snapshot_fetch_algo() (the
 * chunk queries, the streaming checksum/root check, the write and fsync),
 * then the open with MIH tables on 2 threads that vouchd does after it.
 * The fetch is split by timing its local parts alone on the same bytes:
 * the streaming check over the file in memory, and a write + fsync of the
 * file's bytes to a scratch file; the rest is the queries and the transfer.
 * Then the same join through vouch_bank_snapshot_fetch_open_algo() (what
 * vouchd does: the open's validation replaces the streaming check).
 *
 * usage: bench_snapshot_fetch --db URI --file INDEX [--reps R]
 *   --db:   a PostgreSQL URI (bench/pg_fetch.sh starts a scratch server);
 *   --file: an index file (bench_index_open --cache FILE writes one), which
 *           is published to the database's snapshots first, with its bytes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vouch/vouch.h"
#include "bench_clock.h"

static double open_mih(const char *path) {
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_mih = 1;
  cfg.build_threads = 2;
  vouch_index *idx = NULL;
  const double t0 = wall();
  if (vouch_index_open(&idx, path, &cfg) != VOUCH_OK) {
    fprintf(stderr, "open %s: %s\n", path, vouch_index_errmsg(idx));
    exit(1);
  }
  const double t = wall() - t0;
  vouch_index_free(idx);
  return t;
}

/* The local parts of a fetch alone: the check over the bytes in memory, and
 * their write + fsync to a scratch file next to `out`. */
static void local_parts(const uint8_t *p, size_t len, const char *out, double *check, double *wr, double *sync) {
  vouch_index_stream *s = NULL;
  if (vouch_index_stream_new(&s) != VOUCH_OK) exit(1);
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  double t0 = wall();
  for (size_t off = 0; off < len; off += 1 << 20) vouch_index_stream_update(s, p + off, len - off < (1u << 20) ? len - off : 1u << 20);
  if (vouch_index_stream_final(s, root) != VOUCH_OK) fprintf(stderr, "stream check failed\n");
  *check = wall() - t0;
  vouch_index_stream_free(s);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.wr", out);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) exit(1);
  t0 = wall();
  for (size_t off = 0; off < len;) {
    ssize_t k = write(fd, p + off, len - off < (1u << 20) ? len - off : 1u << 20);
    if (k <= 0) exit(1);
    off += (size_t)k;
  }
  *wr = wall() - t0;
  t0 = wall();
  if (fsync(fd) != 0) exit(1);
  *sync = wall() - t0;
  close(fd);
  unlink(tmp);
}

int main(int argc, char **argv) {
  const char *uri = NULL, *file = NULL;
  int reps = 2;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--db") && i + 1 < argc) uri = argv[++i];
    else if (!strcmp(argv[i], "--file") && i + 1 < argc) file = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else uri = NULL, file = NULL, i = argc;
  }
  if (!uri || !file || reps < 1) {
    fprintf(stderr, "usage: bench_snapshot_fetch --db URI --file INDEX [--reps R]\n");
    return 2;
  }
  vouch_bank *db = NULL;
  if (vouch_bank_open(&db, uri, 0) != VOUCH_OK) {
    fprintf(stderr, "db: %s\n", vouch_bank_errmsg(db));
    return 1;
  }
  double t0 = wall();
  if (vouch_bank_snapshot_publish_algo(db, VOUCH_ALGO_PDQ, file, 1, 1, 2) != VOUCH_OK) {
    fprintf(stderr, "publish: %s\n", vouch_bank_errmsg(db));
    return 1;
  }
  printf("publish %.2f s\n", wall() - t0);
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  int64_t bytes = 0;
  if (vouch_bank_snapshot_latest_algo(db, VOUCH_ALGO_PDQ, root, NULL, &bytes, NULL) != VOUCH_OK) return 1;
  int fd = open(file, O_RDONLY);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0) return 1;
  uint8_t *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return 1;
  volatile uint8_t sink = 0;
  for (off_t i = 0; i < sb.st_size; i += 4096) sink ^= map[i]; /* in the page cache, as a shared file is */
  (void)sink;
  char out[4096];
  snprintf(out, sizeof out, "%s.fetched", file);
  printf("file %.1f MB (wall-clock seconds; shared machine)\n", (double)bytes / 1e6);
  for (int r = 0; r < reps; r++) {
    double check, wr, sync;
    local_parts(map, (size_t)sb.st_size, out, &check, &wr, &sync);
    unlink(out);
    t0 = wall();
    if (vouch_bank_snapshot_fetch_algo(db, VOUCH_ALGO_PDQ, root, out) != VOUCH_OK) {
      fprintf(stderr, "fetch: %s\n", vouch_bank_errmsg(db));
      return 1;
    }
    const double fetch = wall() - t0;
    const double open_fetched = open_mih(out);
    unlink(out);
    vouch_index_config cfg = vouch_index_config_default();
    cfg.build_threads = 2;
    vouch_index *idx = NULL;
    t0 = wall();
    if (vouch_bank_snapshot_fetch_open_algo(db, VOUCH_ALGO_PDQ, root, out, &cfg, &idx) != VOUCH_OK) {
      fprintf(stderr, "fetch+open: %s\n", vouch_bank_errmsg(db));
      return 1;
    }
    const double fetch_open = wall() - t0;
    vouch_index_free(idx);
    const double open_shared = open_mih(file);
    printf("rep %d: fetch %.2f s [alone: check %.2f, write %.2f, fsync %.2f; rest (queries, transfer) %.2f]"
           " + open+MIH %.2f = join from PostgreSQL %.2f s; fetch_open (one validation) %.2f s;"
           " from the shared file: open+MIH %.2f s\n",
           r, fetch, check, wr, sync, fetch - check - wr - sync, open_fetched, fetch + open_fetched, fetch_open,
           open_shared);
    fflush(stdout);
  }
  unlink(out);
  munmap(map, (size_t)sb.st_size);
  close(fd);
  vouch_bank_free(db);
  return 0;
}
