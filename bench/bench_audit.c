/* bench/bench_audit.c -- the audit module's speed targets:
 *   root of 10M entries < 10 s on 2 cores; inclusion proof verification < 50 us.
 * Also measures, in the same run, the bare SHA-256 cost of the same number
 * of hashes (N leaf hashes of 1+leaf_len bytes, N-1 node hashes of 65 bytes)
 * and prints the ratio.  Every result is checked: the 1-thread and 2-thread
 * roots must agree, and every timed verification must succeed.
 * Usage: bench_audit [N [THREADS [ROUNDS]]]    (default 10000000 2 2; best of ROUNDS) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "vouch/audit.h"
#include "vouch/merkle.h"

#define LEAF_LEN 50 /* an audited PDQ leaf: op, algo, version(8), hash(32), sources(8) */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
  unsigned threads = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 2;
  unsigned rounds = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 2;
  if (vouch_init() < 0 || n < 2)
    return 2;
  uint8_t *leaves = malloc(n * LEAF_LEN);
  if (!leaves)
    return 2;
  for (size_t i = 0; i < n * LEAF_LEN; i += 8) {
    uint64_t r = next();
    memcpy(leaves + i, &r, n * LEAF_LEN - i < 8 ? n * LEAF_LEN - i : 8);
  }
  printf("entries %zu, leaf %d bytes, threads %u, best of %u rounds\n", n, LEAF_LEN, threads, rounds);

  /* Rounds alternate the three measurements and keep the best of each, so a
   * burst of load from other processes does not skew one of them alone. */
  uint8_t r1[32], r2[32];
  double t_root1 = 1e30, t_rootmt = 1e30, t_bare = 1e30, c_root1 = 1e30, c_rootmt = 1e30, c_bare = 1e30;
  for (unsigned round = 0; round < rounds; round++) {
    double t0 = now(), c0 = cpu();
    if (vouch_merkle_root(leaves, n, LEAF_LEN, r1) != VOUCH_OK)
      return 2;
    double t = now() - t0, c = cpu() - c0;
    t_root1 = t < t_root1 ? t : t_root1;
    c_root1 = c < c_root1 ? c : c_root1;

    /* Bare SHA-256 of the same input sizes, one thread: N leaf-sized, N-1 node-sized. */
    uint8_t buf[1 + 64], out[32], acc = 0;
    t0 = now();
    c0 = cpu();
    for (size_t i = 0; i < n; i++) {
      buf[0] = 0;
      memcpy(buf + 1, leaves + i * LEAF_LEN, LEAF_LEN);
      crypto_hash_sha256(out, buf, 1 + LEAF_LEN);
      acc ^= out[0];
    }
    buf[0] = 1;
    memset(buf + 1, acc, 64);
    for (size_t i = 0; i + 1 < n; i++) {
      crypto_hash_sha256(out, buf, 65);
      memcpy(buf + 1, out, 32);
    }
    t = now() - t0;
    c = cpu() - c0;
    t_bare = t < t_bare ? t : t_bare;
    c_bare = c < c_bare ? c : c_bare;

    t0 = now();
    c0 = cpu();
    if (vouch_merkle_root_mt(leaves, n, LEAF_LEN, threads, r2) != VOUCH_OK)
      return 2;
    t = now() - t0;
    c = cpu() - c0;
    t_rootmt = t < t_rootmt ? t : t_rootmt;
    c_rootmt = c < c_rootmt ? c : c_rootmt;
    if (memcmp(r1, r2, 32) != 0) {
      fprintf(stderr, "MISMATCH: roots differ between 1 and %u threads\n", threads);
      return 1;
    }
  }

  /* The machine may be shared: CPU time is the work done, wall time what a
   * user waits.  Both are printed; the ratio uses CPU time. */
  printf("root, 1 thread:            %8.3f s wall, %8.3f s CPU  (%.1f ns CPU/entry)\n", t_root1, c_root1,
         c_root1 * 1e9 / (double)n);
  printf("root, %u threads:           %8.3f s wall, %8.3f s CPU  (target: < 10 s wall for 10M on 2 cores)\n",
         threads, t_rootmt, c_rootmt);
  printf("bare SHA-256, 2N-1 hashes: %8.3f s wall, %8.3f s CPU  (1 thread)\n", t_bare, c_bare);
  printf("ratio root/bare (CPU):     %8.3f (1 thread), %.3f (%u threads)\n", c_root1 / c_bare, c_rootmt / c_bare,
         threads);
  printf("ideal 2-core wall time:    %8.3f s (CPU time / %u)\n", c_rootmt / threads, threads);

  /* Inclusion proofs: generation (O(n) each) and verification (O(log n)). */
  uint8_t *lh = malloc(n * 32);
  if (!lh)
    return 2;
  for (size_t i = 0; i < n; i++)
    vouch_merkle_leaf_hash(leaves + i * LEAF_LEN, LEAF_LEN, lh + i * 32);
  const size_t idx[3] = {0, n / 2 + 12345 % (n / 2), n - 1};
  double t0, t_gen = 0, t_ver = 0;
  size_t verified = 0, iters = 100000;
  for (int k = 0; k < 3; k++) {
    uint8_t proof[VOUCH_MERKLE_PROOF_MAX * 32];
    size_t pn;
    t0 = now();
    if (vouch_merkle_inclusion_proof(lh, n, idx[k], proof, &pn) != VOUCH_OK)
      return 2;
    t_gen += now() - t0;
    t0 = now();
    for (size_t it = 0; it < iters; it++)
      verified += vouch_merkle_verify_inclusion(lh + idx[k] * 32, idx[k], n, proof, pn, r1) == VOUCH_OK;
    t_ver += now() - t0;
    if (k == 2)
      printf("proof length:            %zu hashes\n", pn);
  }
  if (verified != 3 * iters) {
    fprintf(stderr, "FAILED: %zu of %zu verifications failed\n", 3 * iters - verified, 3 * iters);
    return 1;
  }
  printf("inclusion proof, make:   %8.3f s each (O(n))\n", t_gen / 3);
  printf("inclusion proof, verify: %8.3f us each (target < 50 us)\n", t_ver * 1e6 / (3.0 * (double)iters));

  /* Consistency proof between the first half and the whole. */
  uint8_t cp[VOUCH_MERKLE_PROOF_MAX * 32], rh[32];
  size_t cpn;
  if (vouch_merkle_root_from_leaf_hashes(lh, n / 2 + 1, rh) != VOUCH_OK ||
      vouch_merkle_consistency_proof(lh, n, n / 2 + 1, cp, &cpn) != VOUCH_OK)
    return 2;
  size_t ok = 0;
  t0 = now();
  for (size_t it = 0; it < iters; it++)
    ok += vouch_merkle_verify_consistency(n / 2 + 1, n, rh, r1, cp, cpn) == VOUCH_OK;
  double t_cons = now() - t0;
  if (ok != iters)
    return 1;
  printf("consistency, verify:     %8.3f us each (%zu hashes)\n", t_cons * 1e6 / (double)iters, cpn);
  free(lh);
  free(leaves);
  return 0;
}
