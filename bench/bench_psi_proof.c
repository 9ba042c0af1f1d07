/* bench/bench_psi_proof.c -- the proof of honest blinding (docs/protocol.md
 * section 13): proof generation and verification at m slots, next to the
 * floor of the same run (per slot: verification = hash to the group + 2
 * scalar multiplications + 2 additions; generation = hash + 1 multiplication
 * + 1 addition; the BLAKE2b calls are left out of the floor).
 *
 * usage: bench_psi_proof [--slots LIST] [--threads T]
 *   --slots LIST  approximate table sizes (default 100000); the database has
 *                 4m/9 random keys, so the table has about m slots
 *   --threads T   threads for the setup that builds the table (default 2)
 * Generation and verification run on the calling thread and are timed in
 * its CPU time (one core).  The run checks that the proof verifies and that
 * a table with one slot re-blinded under another secret does not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "psi/psi_internal.h"
#include "bench_clock.h"

static void die(const char *what) {
  fprintf(stderr, "bench_psi_proof: %s\n", what);
  exit(1);
}

/* Per-operation floors, microseconds. */
static void floors(double *h2g, double *smul, double *add) {
  enum { N = 3000 };
  uint8_t lab[32] = {1}, p[32], q[32], s[32] = {0};
  vouch__hash_to_group(q, lab, 32);
  double t0 = now();
  for (int i = 0; i < N; i++) {
    lab[0] = (uint8_t)i;
    lab[1] = (uint8_t)(i >> 8);
    vouch__hash_to_group(p, lab, 32);
  }
  double t1 = now();
  for (int i = 0; i < N; i++) {
    randombytes_buf(s, 16); /* 128-bit scalars, as the proof uses */
    if (crypto_scalarmult_ristretto255(p, s, q) != 0)
      die("scalarmult");
  }
  double t2 = now();
  for (int i = 0; i < N; i++)
    crypto_core_ristretto255_add(p, p, q);
  double t3 = now();
  *h2g = (t1 - t0) / N * 1e6;
  *smul = (t2 - t1) / N * 1e6;
  *add = (t3 - t2) / N * 1e6;
}

int main(int argc, char **argv) {
  size_t slots[16] = {100000}, ns = 1;
  unsigned threads = 2;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--slots") && i + 1 < argc) {
      ns = 0;
      for (char *tok = strtok(argv[++i], ","); tok && ns < 16; tok = strtok(NULL, ","))
        slots[ns++] = strtoul(tok, NULL, 10);
    } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = (unsigned)strtoul(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "usage: bench_psi_proof [--slots LIST] [--threads T]\n");
      return 2;
    }
  }
  if (vouch_init() < 0)
    die("init");
  double h2g, smul, add;
  floors(&h2g, &smul, &add);
  printf("per operation (this run): hash_to_group %.2f us, scalarmult %.2f us, add %.2f us\n", h2g, smul,
         add);
  printf("%10s %10s %9s %10s %10s %6s %10s %10s %6s\n", "slots", "keys", "setup_s", "prove_s",
         "floor_s", "ratio", "verify_s", "floor_s", "ratio");
  vouch_psi_server_key *key;
  if (vouch_psi_server_key_generate(&key) != VOUCH_OK)
    die("key");
  for (size_t si = 0; si < ns; si++) {
    size_t n = slots[si] * 4 / 9;
    uint8_t *keys = malloc(32 * (n ? n : 1));
    size_t cap = vouch_psi_slots_for(n);
    uint8_t *labels = malloc(32 * cap);
    if (!keys || !labels)
      die("out of memory");
    randombytes_buf(keys, 32 * n);
    uint8_t dseed[32];
    randombytes_buf(dseed, sizeof dseed);
    vouch_psi_setup_opts o = {0, threads, NULL, VOUCH_PSI_SCHEME_EXACT, 0, 1, dseed, labels, cap, NULL, 0, NULL};
    uint8_t *pd;
    size_t pd_len;
    double w0 = wall();
    if (vouch_psi_setup(key, keys, n, &o, &pd, &pd_len, NULL) != VOUCH_OK)
      die("setup");
    double w1 = wall();
    size_t m = vouch__load32_le(pd + 12);
    uint8_t proof[VOUCH_PSI_BLINDING_PROOF_BYTES];
    double t0 = now();
    if (vouch_psi_blinding_prove(key, pd, pd_len, labels, proof) != VOUCH_OK)
      die("prove");
    double t1 = now();
    if (vouch_psi_blinding_verify(pd, pd_len, labels, proof) != VOUCH_OK)
      die("an honest proof does not verify");
    double t2 = now();
    /* one slot under another secret: refused */
    uint8_t beta[32], h[32];
    crypto_core_ristretto255_scalar_random(beta);
    vouch__hash_to_group(h, labels + 32 * (m / 2), 32);
    if (crypto_scalarmult_ristretto255(pd + VOUCH__PD_HEADER + 32 * (m / 2), beta, h) != 0)
      die("scalarmult");
    if (vouch_psi_blinding_prove(key, pd, pd_len, labels, proof) != VOUCH_OK)
      die("prove (cheating table)");
    if (vouch_psi_blinding_verify(pd, pd_len, labels, proof) != VOUCH_E_PSI_AUTH)
      die("a table with one slot under another secret verified");
    double fp = (double)m * (h2g + smul + add) * 1e-6, fv = (double)m * (h2g + 2 * smul + 2 * add) * 1e-6;
    printf("%10zu %10zu %9.1f %10.1f %10.1f %6.2f %10.1f %10.1f %6.2f\n", m, n, w1 - w0, t1 - t0, fp,
           (t1 - t0) / fp, t2 - t1, fv, (t2 - t1) / fv);
    fflush(stdout);
    vouch_psi_buf_free(pd);
    free(keys);
    free(labels);
  }
  vouch_psi_server_key_free(key);
  return 0;
}
