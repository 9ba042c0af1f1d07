/* bench/bench_psi.c -- cost of the private matching protocol, next to the
 * bare cost of the libsodium operations it needs (the floor, from the
 * operation counts in docs/protocol.md section 10), in the same run.
 *
 * usage: bench_psi [--setup N] [--threads T] [--vouchers N]
 *   --setup N     keys in the setup benchmark (default 200000)
 *   --threads T   threads for the setup (default 2)
 * Single-threaded figures are CPU time of the measuring thread (robust on a
 * shared machine); the setup prints wall-clock and whole-process CPU time.
 *   --vouchers N  vouchers for the client and server timings (default 300; for P > 1
 *                 6000/P, at least 30)
 *   --probes LIST P values to time (default 1,64,256; 1 = the exact scheme, larger
 *                 P the band scheme with the default b)
 * Every result is checked (vouchers open when they should, the threshold
 * is crossed, payloads are recovered); a wrong result aborts the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "psi/psi_internal.h"
#include "bench_clock.h"

static void die(const char *what) {
  fprintf(stderr, "bench_psi: %s\n", what);
  exit(1);
}

/* Best of 3 runs of `reps` calls, in seconds per call. */
#define TIME_OP(out, reps, body)                      \
  do {                                                \
    double best_ = 1e30;                              \
    for (int run_ = 0; run_ < 3; run_++) {            \
      double t0_ = now();                             \
      for (int i_ = 0; i_ < (reps); i_++) {           \
        body;                                         \
      }                                               \
      double dt_ = (now() - t0_) / (reps);            \
      if (dt_ < best_)                                \
        best_ = dt_;                                  \
    }                                                 \
    (out) = best_;                                    \
  } while (0)

typedef struct floor_ops {
  double smul, smul_base, add, from_hash, sc_mul, sc_add, sc_reduce, sha512_block, blake2b_small,
      blake2b_voucher, aead_seal_small, aead_seal_share, aead_seal_payload, aead_open_small,
      aead_open_share, valid_point, rand64, sign_verify_per_byte;
} floor_ops;

static volatile uint8_t sink;

static void measure_floor(floor_ops *f, size_t share_len) {
  uint8_t s[32], p[32], q[32], h[64], k[32], n[24] = {0};
  uint8_t *buf = calloc(1, share_len + 64), *ct = calloc(1, share_len + 64);
  unsigned long long cl;
  if (!buf || !ct)
    die("out of memory");
  crypto_core_ristretto255_scalar_random(s);
  crypto_core_ristretto255_random(p);
  randombytes_buf(h, sizeof h);
  randombytes_buf(k, sizeof k);
  TIME_OP(f->smul, 400, { if (crypto_scalarmult_ristretto255(q, s, p) != 0) die("smul"); s[0]++; });
  TIME_OP(f->smul_base, 400, { crypto_scalarmult_ristretto255_base(q, s); s[0]++; });
  TIME_OP(f->add, 400, { if (crypto_core_ristretto255_add(q, p, q) != 0) die("add"); });
  TIME_OP(f->from_hash, 400, { h[0]++; crypto_core_ristretto255_from_hash(q, h); });
  TIME_OP(f->sc_mul, 20000, { crypto_core_ristretto255_scalar_mul(s, s, q); });
  TIME_OP(f->sc_add, 20000, { crypto_core_ristretto255_scalar_add(s, s, q); });
  TIME_OP(f->sc_reduce, 20000, { h[1]++; crypto_core_ristretto255_scalar_reduce(s, h); });
  TIME_OP(f->sha512_block, 20000, { crypto_hash_sha512(h, buf, 111); }); /* one compression */
  TIME_OP(f->blake2b_small, 20000, { crypto_generichash(k, 32, buf, 128, k, 32); });
  size_t vlen = share_len + 400;
  uint8_t *vb = calloc(1, vlen);
  if (!vb)
    die("out of memory");
  TIME_OP(f->blake2b_voucher, 2000, { crypto_generichash(k, 16, vb, vlen, NULL, 0); });
  TIME_OP(f->aead_seal_small, 20000, {
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &cl, k, 32, buf, 64, NULL, n, k); });
  TIME_OP(f->aead_seal_share, 2000, {
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &cl, buf, share_len, buf, 288, NULL, n, k); });
  TIME_OP(f->aead_seal_payload, 2000, {
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &cl, buf, VOUCH__PAYLOAD_BYTES, buf, 64, NULL, n, k); });
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &cl, k, 32, buf, 64, NULL, n, k);
  TIME_OP(f->aead_open_small, 20000, {
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(q, NULL, NULL, ct, cl, buf, 64, n, k) != 0) die("open"); });
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &cl, buf, share_len, buf, 288, NULL, n, k);
  TIME_OP(f->aead_open_share, 2000, {
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(vb, NULL, NULL, ct, cl, buf, 288, n, k) != 0) die("open"); });
  TIME_OP(f->valid_point, 400, { sink ^= (uint8_t)crypto_core_ristretto255_is_valid_point(p); });
  TIME_OP(f->rand64, 20000, { randombytes_buf(h, 64); });
  {
    uint8_t pk[32], skey[64], sig[64];
    size_t big = (size_t)1 << 20;
    uint8_t *msg = calloc(1, big);
    if (!msg)
      die("out of memory");
    crypto_sign_ed25519_keypair(pk, skey);
    crypto_sign_ed25519_detached(sig, NULL, msg, big, skey);
    TIME_OP(f->sign_verify_per_byte, 5, {
      if (crypto_sign_ed25519_verify_detached(sig, msg, big, pk) != 0) die("verify"); });
    f->sign_verify_per_byte /= (double)big;
    free(msg);
  }
  free(buf);
  free(ct);
  free(vb);
}

/* A photo for the band world: a random hash and random margins; a match is
 * database entry e with its two lowest-margin band bits flipped (so probe 3,
 * not the first, is the database's key). */
static void band_photo(vouch__rng *rng, const uint8_t *db, long e, vouch_psi_payload *pl,
                       float margin[VOUCH_PDQ_BITS]) {
  uint8_t r[VOUCH_PDQ_BITS];
  unsigned pos[2];
  vouch__rng_bytes(rng, r, sizeof r);
  for (unsigned k = 0; k < VOUCH_PDQ_BITS; k++)
    margin[k] = 20.0f + (float)r[k];
  if (e < 0) {
    vouch__rng_bytes(rng, pl->hash, 32);
    return;
  }
  memcpy(pl->hash, db + 32 * (size_t)e, 32);
  if (vouch_psi_band_positions(2, pos) != VOUCH_OK)
    die("band positions");
  for (int i = 0; i < 2; i++) {
    pl->hash[31 - pos[i] / 8] ^= (uint8_t)(1u << (pos[i] % 8));
    margin[pos[i]] = 1.0f + (float)i;
  }
}

/* Tonal views for the timing (docs/protocol.md section 4 step 5): the
 * photo's hash with 1..4 random band bits flipped, random margins, so the
 * merge does its real work (overlapping and new bands). */
static void band_views(vouch__rng *rng, const uint8_t *hash, vouch_psi_views *v) {
  unsigned pos[VOUCH_PSI_BAND_DEFAULT];
  if (vouch_psi_band_positions(VOUCH_PSI_BAND_DEFAULT, pos) != VOUCH_OK)
    die("band positions");
  v->n = VOUCH_PSI_VIEWS;
  for (unsigned k = 0; k < VOUCH_PSI_VIEWS; k++) {
    uint8_t r[VOUCH_PDQ_BITS + 4];
    vouch__rng_bytes(rng, r, sizeof r);
    memcpy(v->hash[k], hash, 32);
    for (unsigned f = 0; f <= k; f++) {
      unsigned q = pos[r[VOUCH_PDQ_BITS + f] % VOUCH_PSI_BAND_DEFAULT];
      v->hash[k][31 - q / 8] ^= (uint8_t)(1u << (q % 8));
    }
    for (unsigned j = 0; j < VOUCH_PDQ_BITS; j++)
      v->margin[k][j] = 20.0f + (float)r[j];
  }
}

/* vouch_psi_views_make() on a 500 x 375 RGB image (a smooth pattern plus
 * noise), against its floor: V PDQ hashes of the same image. */
static void bench_views(vouch__rng *rng) {
  vouch_image img;
  if (vouch_image_init(&img, 500, 375, 3) != VOUCH_OK)
    die("image");
  for (uint32_t y = 0; y < img.height; y++) {
    uint8_t *row = img.pixels + (size_t)y * img.stride, nz[1500];
    vouch__rng_bytes(rng, nz, sizeof nz);
    for (uint32_t x = 0; x < img.width * 3; x++)
      row[x] = (uint8_t)((x / 3 * 255 / img.width + y * 255 / img.height) / 2 + nz[x] % 32);
  }
  vouch_hasher *h;
  vouch_psi_views *v = malloc(sizeof *v);
  if (vouch_hasher_create(&h) != VOUCH_OK || !v)
    die("hasher");
  double best_v = 1e30, best_h = 1e30;
  uint8_t hash[32];
  for (int b = 0; b < 3; b++) {
    double t0 = now();
    for (int i = 0; i < 20; i++)
      if (vouch_psi_views_make(h, &img, v) != VOUCH_OK)
        die("views");
    double t1 = now();
    for (int i = 0; i < 20 * (int)VOUCH_PSI_VIEWS; i++)
      if (vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, 0, hash, 32, NULL) != VOUCH_OK)
        die("hash");
    double t2 = now();
    if ((t1 - t0) / 20 < best_v)
      best_v = (t1 - t0) / 20;
    if ((t2 - t1) / 20 < best_h)
      best_h = (t2 - t1) / 20;
  }
  printf("\ntonal views (%u gamma curves, 500x375 RGB): %.2f ms per photo   floor (%u PDQ hashes) %.2f ms   ratio %.2f\n",
         VOUCH_PSI_VIEWS, best_v * 1e3, VOUCH_PSI_VIEWS, best_h * 1e3, best_v / best_h);
  free(v);
  vouch_hasher_free(h);
  vouch_image_clear(&img);
}

/* Client and server timing for P probes (P = 1: the exact scheme); band
 * vouchers are made with views, as `vouch psi voucher` makes them. */
static void bench_probes(const floor_ops *f, unsigned P, size_t nv, unsigned t, unsigned s,
                         const uint8_t *db, size_t nkeys, vouch__rng *rng) {
  const size_t vlen = VOUCH_PSI_VOUCHER_BYTES(s, P), share_len = VOUCH__SHARE_BYTES(s);
  vouch_psi_setup_opts so = {0};
  if (P > 1) {
    so.algo = VOUCH_ALGO_PDQ;
    so.scheme = VOUCH_PSI_SCHEME_BAND;
    so.band = VOUCH_PSI_BAND_DEFAULT;
  }
  so.probes = P;
  uint8_t *keys = malloc(nkeys * 32);
  if (!keys)
    die("out of memory");
  for (size_t i = 0; i < nkeys; i++)
    if (vouch_psi_entry_key(so.scheme, so.band, VOUCH_ALGO_PDQ, db + 32 * i, 32, keys + 32 * i) != VOUCH_OK)
      die("keys");
  vouch_psi_server_key *sk;
  uint8_t *pd = NULL;
  size_t pd_len = 0;
  vouch_psi_public *pub;
  vouch_psi_account *acct;
  if (vouch__server_key_generate(&sk, rng) != VOUCH_OK ||
      vouch__setup(sk, keys, nkeys, &so, &pd, &pd_len, NULL, rng) != VOUCH_OK ||
      vouch_psi_public_open(&pub, pd, pd_len, NULL) != VOUCH_OK ||
      vouch__account_create(&acct, t, s, rng) != VOUCH_OK)
    die("world");

  /* ---- client ---- */
  uint8_t *vs = malloc(nv * vlen);
  vouch_psi_payload *pl = calloc(1, sizeof *pl);
  float margin[VOUCH_PDQ_BITS];
  vouch_psi_views *views = malloc(sizeof *views);
  if (!vs || !pl || !views)
    die("out of memory");
  pl->algo = 1;
  pl->hash_len = 32;
  pl->thumb_w = pl->thumb_h = 64;
  /* Three batches; the best batch counts, as for the floor's operations. */
  double client = 1e30, t0;
  for (size_t b0 = 0; b0 < nv; b0 += nv / 3) {
    size_t b1 = b0 + nv / 3 > nv ? nv : b0 + nv / 3;
    t0 = now();
    for (size_t i = b0; i < b1; i++) {
      int match = i % 3 == 0; /* a third match */
      if (P > 1) {
        band_photo(rng, db, match ? (long)(i % nkeys) : -1, pl, margin);
        band_views(rng, pl->hash, views);
      } else if (match) {
        memcpy(pl->match_key, keys + 32 * (i % nkeys), 32);
      } else {
        vouch__rng_bytes(rng, pl->match_key, 32);
      }
      int mode = i % 10 == 9 ? 1 : 0; /* a tenth synthetic (same cost by design) */
      if (mode == 1 && (i / 10) >= s)
        mode = 0;
      if (vouch__voucher_make_views(acct, pub, pl, margin, P > 1 ? views : NULL, 0, mode, vs + i * vlen, vlen,
                                    NULL, rng) != VOUCH_OK)
        die("voucher");
    }
    double dt = (now() - t0) / (double)(b1 - b0);
    if (b1 > b0 && dt < client)
      client = dt;
  }
  /* Floor: protocol.md section 10, client row, for P probes.  BLAKE2b: per
   * probe 1 band key + 2 cuckoo, per slot 1 wrap key + 1 commitment; plus x,
   * the synthetic coin, synthetic seed and two commitments. */
  double fl_client = (P + 1) * f->from_hash + 6.0 * P * f->smul + 2.0 * P * f->smul_base +
                     4.0 * P * f->add + 4.0 * P * f->sc_reduce + t * (f->sc_mul + f->sc_add) +
                     3.0 * P * f->sha512_block + (7.0 * P + 5) * f->blake2b_small +
                     f->aead_seal_share + f->aead_seal_payload + 2.0 * P * f->aead_seal_small;
  printf("\nP = %u probes (%s, b = %u): voucher %zu B, %zu vouchers timed\n", P,
         P > 1 ? "band key" : "exact key", so.band, vlen, nv);
  printf("client: %.2f ms per voucher (t=%u, s=%u)   floor %.2f ms   ratio %.2f\n", client * 1e3, t,
         s, fl_client * 1e3, client / fl_client);

  /* ---- server, one thread ---- */
  vouch_psi_server *srv = NULL;
  if (vouch_psi_server_create(&srv, sk, pd, pd_len) != VOUCH_OK)
    die("server");
  size_t opened = 0, multi = 0;
  double server = 1e30;
  for (size_t b0 = 0; b0 < nv; b0 += nv / 3) {
    size_t b1 = b0 + nv / 3 > nv ? nv : b0 + nv / 3;
    t0 = now();
    for (size_t i = b0; i < b1; i++) {
      int st;
      size_t idx;
      if (vouch_psi_server_add(srv, vs + i * vlen, vlen, &st, &idx) != VOUCH_OK)
        die("add");
      opened += st == VOUCH_PSI_OPENED;
    }
    double dt = (now() - t0) / (double)(b1 - b0);
    if (b1 > b0 && dt < server)
      server = dt;
  }
  size_t expect_open = 0;
  for (size_t i = 0; i < nv; i++)
    expect_open += (i % 3 == 0) || (i % 10 == 9 && i / 10 < s);
  for (size_t i = 0; i < nv; i++) {
    vouch_psi_voucher_info info;
    if (vouch_psi_server_info(srv, i, &info) != VOUCH_OK)
      die("info");
    multi += info.slots_opened > 1;
  }
  if (opened != expect_open || multi != 0)
    die("wrong number of openings");
  double frac = (double)opened / (double)nv;
  double fl_server = 2.0 * P * f->smul + 4.0 * P * f->blake2b_small +
                     f->blake2b_voucher * (double)vlen / (double)(share_len + 400) +
                     frac * (f->aead_open_small + f->aead_open_share);
  printf("server: %.0f vouchers/s per core (%.2f ms each, %.0f%% opened)   floor %.2f ms   ratio %.2f\n",
         1.0 / server, server * 1e3, 100 * frac, fl_server * 1e3, server / fl_server);
  vouch_psi_server_free(srv);
  free(vs);
  free(pl);
  free(views);
  free(keys);
  vouch_psi_account_free(acct);
  vouch_psi_public_free(pub);
  vouch_psi_buf_free(pd);
  vouch_psi_server_key_free(sk);
}

int main(int argc, char **argv) {
  size_t nsetup = 200000, nv = 300;
  unsigned threads = 2, probes[16] = {1, 64, 256}, np = 3;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--setup") && i + 1 < argc)
      nsetup = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = (unsigned)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--vouchers") && i + 1 < argc)
      nv = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--probes") && i + 1 < argc) {
      char *p = argv[++i];
      for (np = 0; np < 16 && *p;) {
        unsigned long v = strtoul(p, &p, 10);
        if (v < 1 || v > VOUCH_PSI_PROBES_MAX)
          die("--probes: each P in 1..1024");
        probes[np++] = (unsigned)v;
        if (*p == ',')
          p++;
        else if (*p)
          die("--probes: a comma-separated list");
      }
    } else {
      fprintf(stderr, "usage: bench_psi [--setup N] [--threads T] [--vouchers N] [--probes P,P,...]\n");
      return 2;
    }
  }
  if (vouch_init() < 0)
    die("init");
  const unsigned t = 30, s = 90;
  const size_t share_len = VOUCH__SHARE_BYTES(s);
  floor_ops f;
  measure_floor(&f, share_len);
  printf("libsodium operations (best of 3, this machine, this run):\n");
  printf("  scalarmult %.1f us, scalarmult_base %.1f us, add %.1f us, from_hash %.1f us,\n"
         "  is_valid_point %.1f us, scalar_mul %.0f ns, scalar_add %.0f ns, BLAKE2b(128 B) %.0f ns,\n"
         "  XChaCha20-Poly1305 seal %zu B %.1f us, open %.1f us; payload %u B %.1f us\n",
         f.smul * 1e6, f.smul_base * 1e6, f.add * 1e6, f.from_hash * 1e6, f.valid_point * 1e6,
         f.sc_mul * 1e9, f.sc_add * 1e9, f.blake2b_small * 1e9, share_len, f.aead_seal_share * 1e6,
         f.aead_open_share * 1e6, VOUCH__PAYLOAD_BYTES, f.aead_seal_payload * 1e6);

  /* ---- a world: 5,000 keys, t = 30, s = 90 ---- */
  vouch__rng rng;
  uint8_t seed[32] = {'b', 'e', 'n', 'c', 'h'};
  vouch__rng_seed(&rng, seed);
  const size_t nkeys = 5000;
  uint8_t *keys = malloc(nkeys * 32);
  if (!keys)
    die("out of memory");
  vouch__rng_bytes(&rng, keys, nkeys * 32); /* database hashes (exact keys below) */

  /* ---- client and server per P; fewer vouchers for large P (at least 30) ---- */
  for (unsigned i = 0; i < np; i++) {
    size_t n = probes[i] > 1 ? 6000 / probes[i] : nv;
    if (n > nv)
      n = nv;
    if (n < 30)
      n = 30;
    bench_probes(&f, probes[i], n, t, s, keys, nkeys, &rng);
  }
  bench_views(&rng);
  for (size_t i = 0; i < nkeys; i++) /* the rest of the benchmark uses exact keys */
    if (vouch_psi_match_key(VOUCH_ALGO_PDQ, keys + 32 * i, 32, keys + 32 * i) != VOUCH_OK)
      die("keys");
  vouch_psi_server_key *sk;
  uint8_t *pd = NULL;
  size_t pd_len = 0;
  vouch_psi_public *pub;
  if (vouch__server_key_generate(&sk, &rng) != VOUCH_OK ||
      vouch__setup(sk, keys, nkeys, NULL, &pd, &pd_len, NULL, &rng) != VOUCH_OK ||
      vouch_psi_public_open(&pub, pd, pd_len, NULL) != VOUCH_OK)
    die("world");
  const size_t vlen = VOUCH_PSI_VOUCHER_BYTES(s, 1);
  vouch_psi_payload *pl = calloc(1, sizeof *pl);
  if (!pl)
    die("out of memory");
  pl->algo = 1;
  pl->hash_len = 32;
  pl->thumb_w = pl->thumb_h = 64;
  vouch_psi_server *srv = NULL;

  /* ---- detection at t = 30 with 3t synthetic openings ---- */
  vouch_psi_server_free(srv);
  if (vouch_psi_server_create(&srv, sk, pd, pd_len) != VOUCH_OK)
    die("server");
  vouch_psi_account *a2;
  if (vouch__account_create(&a2, t, s, &rng) != VOUCH_OK)
    die("account");
  uint8_t *v = malloc(vlen);
  if (!v)
    die("out of memory");
  for (unsigned i = 0; i < t + 1 + 3 * t; i++) {
    int st;
    size_t idx;
    if (i <= t)
      memcpy(pl->match_key, keys + 32 * (size_t)(100 + i), 32);
    else
      vouch__rng_bytes(&rng, pl->match_key, 32);
    if (vouch__voucher_make(a2, pub, pl, NULL, 0, i > t, v, vlen, NULL, &rng) != VOUCH_OK ||
        vouch_psi_server_add(srv, v, vlen, &st, &idx) != VOUCH_OK || st != VOUCH_PSI_OPENED)
      die("detection setup");
  }
  vouch_psi_summary sum;
  double det;
  TIME_OP(det, 3, {
    if (vouch_psi_server_reveal(srv, &sum) != VOUCH_OK || !sum.threshold_crossed ||
        sum.real != t + 1 || sum.synthetic != 3 * t)
      die("detection result");
  });
  printf("detection: %.1f ms for %u openings (t+1 = %u real, 3t = %u synthetic): "
         "DHF elimination, interpolation, %u payload decryptions\n",
         det * 1e3, 4 * t + 1, t + 1, 3 * t, 4 * t + 1);
  vouch_psi_server_free(srv);
  vouch_psi_account_free(a2);
  free(v);

  /* ---- setup ---- */
  uint8_t *big = malloc(nsetup * 32);
  if (!big)
    die("out of memory");
  vouch__rng_bytes(&rng, big, nsetup * 32);
  size_t m = vouch_psi_slots_for(nsetup);
  /* protocol.md section 10: every slot (key or dummy label) is hashed and
   * multiplied; then the blinding proof hashes every label again and does one
   * multiplication and one addition per slot (plus its coefficient). */
  double fl_setup = (double)m * (f.from_hash + f.smul + 2 * f.blake2b_small + 3 * f.sha512_block) +
                    (double)m * (f.from_hash + f.smul + f.add + 3 * f.blake2b_small + 3 * f.sha512_block);
  for (unsigned th = 1; th <= threads; th += threads > 1 ? threads - 1 : 1) {
    vouch_psi_setup_opts so = {1, th, NULL, VOUCH_PSI_SCHEME_EXACT, 0, 1, NULL, NULL, 0, NULL, 0, NULL};
    uint8_t *out;
    size_t out_len;
    double w0 = wall(), c0 = proc_cpu();
    if (vouch__setup(sk, big, nsetup, &so, &out, &out_len, NULL, &rng) != VOUCH_OK)
      die("setup");
    double dt = wall() - w0, cpu = proc_cpu() - c0;
    printf("setup: %zu keys, %zu slots, %zu bytes public data, %u thread%s: %.2f s wall, %.2f s CPU   "
           "floor %.2f s CPU   ratio (CPU) %.2f\n",
           nsetup, m, out_len, th, th > 1 ? "s" : "", dt, cpu, fl_setup, cpu / fl_setup);
    if (th == threads) {
      vouch_psi_public *p2;
      double t1 = now();
      if (vouch_psi_public_open(&p2, out, out_len, NULL) != VOUCH_OK)
        die("public open");
      dt = now() - t1;
      double fl_open = (double)(m + 1) * f.valid_point + (double)out_len * f.sign_verify_per_byte;
      printf("client validation of that public data: %.2f s   floor %.2f s (Ed25519 verify + is_valid_point per slot)   "
             "ratio %.2f\n", dt, fl_open, dt / fl_open);
      vouch_psi_public_free(p2);
    }
    vouch_psi_buf_free(out);
    if (threads == 1)
      break;
  }
  free(big);
  free(pl);
  free(keys);
  vouch_psi_public_free(pub);
  vouch_psi_buf_free(pd);
  vouch_psi_server_key_free(sk);
  return 0;
}
