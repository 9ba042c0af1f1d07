/* tests/unit/test_index.c -- index file round trip, validation of damaged
 * files, and the search engines (scan scalar/AVX2, MIH with several m,
 * threads) against a plain reference loop on random and clustered data. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "vouch/vouch.h"
#include "vouch/index.h"
#include "tinytest.h"
#include "common/internal.h" /* vouch__test_fail_allocs_after */

static uint64_t rng_state;
static uint64_t rnd(void) { return tt_xorshift(&rng_state); }
static void rnd_bytes(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(rnd() >> 56);
}
/* flips exactly k distinct bits */
static void flip_bits(uint8_t *h, size_t hb, unsigned k) {
  unsigned bits = (unsigned)hb * 8;
  uint8_t used[256] = {0};
  if (k > bits) k = bits;
  for (unsigned f = 0; f < k;) {
    unsigned b = (unsigned)(rnd() % bits);
    if (used[b]) continue;
    used[b] = 1;
    h[b / 8] ^= (uint8_t)(1u << (b % 8));
    f++;
  }
}

static char tmpdir[64];
static char *tmp_path(const char *name) {
  static char buf[8][128];
  static int k;
  char *p = buf[k++ % 8];
  snprintf(p, 128, "%s/%s", tmpdir, name);
  return p;
}

/* Writes n hashes (with ids e<i> and alternating banks) to path. */
static int write_index(const char *path, int algo, const uint8_t *hashes, size_t n) {
  size_t hb = vouch_algo_bytes(algo);
  vouch_index_input *in = calloc(n ? n : 1, sizeof *in);
  char (*ids)[24] = calloc(n ? n : 1, 24);
  const char *banks[2] = {"alpha", "beta"};
  for (size_t i = 0; i < n; i++) {
    snprintf(ids[i], 24, "e%zu", i);
    in[i].hash = hashes + i * hb;
    in[i].bank = (uint32_t)(i % 2);
    in[i].entry_id = i + 1;
    in[i].ext_id = ids[i];
    in[i].source = (i % 3) ? "src-a" : "src-a,src-b";
  }
  char err[256] = "";
  int rc = vouch_index_write(path, algo, banks, 2, in, n, NULL, err, sizeof err);
  if (rc) fprintf(stderr, "write: %s\n", err);
  free(in);
  free(ids);
  return rc;
}

typedef struct ref_match { uint32_t q, e; unsigned d, v; } ref_match;
static int cmp_ref(const void *pa, const void *pb) {
  const ref_match *a = pa, *b = pb;
  if (a->q != b->q) return a->q < b->q ? -1 : 1;
  if (a->d != b->d) return a->d < b->d ? -1 : 1;
  return a->e < b->e ? -1 : a->e > b->e;
}

/* Reference: a plain loop over index entries (in file order). */
static ref_match *reference(const vouch_index *idx, const uint8_t *q, size_t nq, unsigned nvar,
                            unsigned radius, size_t *nout) {
  size_t hb = vouch_index_hash_bytes(idx), n = vouch_index_count(idx), k = 0, cap = 64;
  ref_match *r = malloc(cap * sizeof *r);
  for (size_t qi = 0; qi < nq; qi++)
    for (size_t i = 0; i < n; i++) {
      vouch_index_entry e;
      vouch_index_get(idx, i, &e);
      unsigned best = 1000, bv = 0;
      for (unsigned v = 0; v < nvar; v++) {
        unsigned d = vouch_hamming(e.hash, q + (qi * nvar + v) * hb, hb);
        if (d < best) { best = d; bv = v; }
      }
      if (best <= radius) {
        if (k == cap) r = realloc(r, (cap *= 2) * sizeof *r);
        r[k++] = (ref_match){(uint32_t)qi, (uint32_t)i, best, bv};
      }
    }
  qsort(r, k, sizeof *r, cmp_ref);
  *nout = k;
  return r;
}

static int same(const ref_match *r, size_t nr, const vouch_match *m, size_t nm) {
  if (nr != nm) {
    fprintf(stderr, "  count: reference %zu, engine %zu\n", nr, nm);
    return 0;
  }
  for (size_t i = 0; i < nr; i++)
    if (r[i].q != m[i].query || r[i].e != m[i].entry || r[i].d != m[i].distance ||
        r[i].v != m[i].variant) {
      fprintf(stderr, "  at %zu: ref (q%u e%u d%u v%u) engine (q%u e%u d%u v%u)\n", i, r[i].q,
              r[i].e, r[i].d, r[i].v, m[i].query, m[i].entry, m[i].distance, m[i].variant);
      return 0;
    }
  return 1;
}

/* Data: random, or clustered (a few centres, members at every distance). */
static uint8_t *make_data(size_t n, size_t hb, int clustered) {
  uint8_t *d = malloc(n * hb + 1);
  if (!clustered) {
    rnd_bytes(d, n * hb);
    return d;
  }
  /* clustered == 2: three hashes, most entries exact copies (long runs of
   * one block value in the MIH tables) */
  size_t ncent = clustered == 2 ? 3 : n / 20 + 1;
  for (size_t i = 0; i < n; i++) {
    if (i < ncent) {
      rnd_bytes(d + i * hb, hb);
    } else {
      memcpy(d + i * hb, d + (rnd() % ncent) * hb, hb);
      if (clustered == 2)
        flip_bits(d + i * hb, hb, rnd() % 4 == 0);
      else
        flip_bits(d + i * hb, hb, (unsigned)(rnd() % (hb == 32 ? 70 : 20)));
    }
  }
  return d;
}

/* Queries: variant 0 near an entry; other variants random or near others. */
static uint8_t *make_queries(const uint8_t *data, size_t n, size_t hb, size_t nq, unsigned nvar) {
  uint8_t *q = malloc(nq * nvar * hb);
  for (size_t i = 0; i < nq * nvar; i++) {
    if (rnd() % 4 == 0) {
      rnd_bytes(q + i * hb, hb);
    } else {
      memcpy(q + i * hb, data + (rnd() % n) * hb, hb);
      flip_bits(q + i * hb, hb, (unsigned)(rnd() % (hb == 32 ? 66 : 16)));
    }
  }
  return q;
}

/* Radii engines_case() tries: all of 0..rmax, or (for big indexes, where
 * the reference loop is slow) this list, cut at rmax. */
static const unsigned *case_radii;
static size_t case_nradii;

static void engines_case(int algo, size_t n, int clustered, uint64_t seed, unsigned m) {
  rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
  size_t hb = vouch_algo_bytes(algo);
  unsigned bits = (unsigned)hb * 8;
  uint8_t *data = make_data(n, hb, clustered);
  const char *path = tmp_path("e.vidx");
  REQUIRE(write_index(path, algo, data, n) == VOUCH_OK);
  vouch_index_config cs = vouch_index_config_default(), ca = cs;
  cs.force_scalar = 1;
  cs.mih_m = m;
  ca.mih_m = m;
  ca.build_threads = 3; /* tables built on threads must equal the serial build */
  vouch_index *is = NULL, *ia = NULL;
  int rc1 = vouch_index_open(&is, path, &cs), rc2 = vouch_index_open(&ia, path, &ca);
  if (rc1 || rc2) fprintf(stderr, "open: %s / %s\n", vouch_index_errmsg(is), vouch_index_errmsg(ia));
  REQUIRE(rc1 == VOUCH_OK && rc2 == VOUCH_OK);
  CHECK_EQ_STR(vouch_index_simd(is), "scalar");
  CHECK(vouch_index_mih_m(is) == (m ? m : vouch_index_mih_m(ia)));
  size_t nq = 6;
  for (unsigned nvar = 1; nvar <= 8; nvar += 7) {
    uint8_t *q = make_queries(data, n, hb, nq, nvar);
    unsigned rmax = bits == 256 ? 64 : 20;
    for (unsigned ri = 0; case_radii ? ri < case_nradii : ri <= rmax; ri++) {
      unsigned radius = case_radii ? case_radii[ri] : ri;
      if (radius > rmax)
        break;
      size_t nr;
      ref_match *ref = reference(is, q, nq, nvar, radius, &nr);
      struct { vouch_index *idx; int engine; unsigned threads; } runs[] = {
          {is, VOUCH_ENGINE_SCAN, 1}, {ia, VOUCH_ENGINE_SCAN, 1}, {is, VOUCH_ENGINE_MIH, 1},
          {ia, VOUCH_ENGINE_MIH, 3}, {ia, VOUCH_ENGINE_AUTO, 2},
          /* one query per thread: the one-query MIH path (others: batches) */
          {ia, VOUCH_ENGINE_MIH, 6}};
      for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        vouch_search_opts o = {radius, runs[k].engine, runs[k].threads};
        vouch_match *mm = NULL;
        size_t nm = 0;
        int rc = vouch_index_search(runs[k].idx, q, nq, nvar, &o, &mm, &nm);
        CHECK_EQ_INT(rc, VOUCH_OK);
        int ok = same(ref, nr, mm, nm);
        if (!ok)
          fprintf(stderr, "  algo %d n %zu clustered %d seed %llu m %u nvar %u radius %u run %zu\n",
                  algo, n, clustered, (unsigned long long)seed, vouch_index_mih_m(ia), nvar, radius, k);
        CHECK(ok);
        vouch_matches_free(mm);
      }
      free(ref);
    }
    free(q);
  }
  vouch_index_free(is);
  vouch_index_free(ia);
  free(data);
}

/* vouch_index_mih_memory_estimate() is what a build allocates, for the
 * automatic m and forced ones, across the entry-number widths; 0 for a
 * layout that cannot be built. */
static void test_memory_estimate(void) {
  const size_t sizes[] = {0, 1, 255, 257, 70000};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    for (int algo = VOUCH_ALGO_PDQ; algo <= VOUCH_ALGO_PHASH; algo++) {
      size_t n = sizes[si], hb = vouch_algo_bytes(algo);
      rng_state = n * 7 + (uint64_t)algo;
      uint8_t *data = make_data(n, hb, 0);
      const char *path = tmp_path("m.vidx");
      REQUIRE(write_index(path, algo, data, n) == VOUCH_OK);
      vouch_index_config c = vouch_index_config_default();
      c.build_mih = 0;
      vouch_index *idx = NULL;
      REQUIRE(vouch_index_open(&idx, path, &c) == VOUCH_OK);
      const size_t base = vouch_index_memory(idx);
      const unsigned ms[] = {0, 16, 17, 32, 64, 4, 5, 8, 65}; /* PDQ: 4, 5 and 8 too long; 65: too many */
      for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
        unsigned m = ms[k];
        size_t est = vouch_index_mih_memory_estimate(idx, m);
        size_t links = vouch_index_mih_link_bytes(idx, m);
        int rc = vouch_index_build_mih(idx, m, 2);
        if (rc == VOUCH_OK) {
          CHECK(est > 0 || n == 0);
          CHECK(vouch_index_memory(idx) - base == est);
          /* one link per entry and block, in the bytes of the entry count */
          unsigned mm = vouch_index_mih_m(idx), w = n > 65536 ? 3 : n > 256 ? 2 : 1;
          CHECK(links == (n ? (size_t)(mm + 1) / 2 * (n * w + 4) : 0));
        } else {
          CHECK_EQ_INT(rc, VOUCH_E_INVALID);
          CHECK(est == 0);
          CHECK(links == 0);
        }
      }
      vouch_index_free(idx);
      free(data);
    }
  }
  CHECK(vouch_index_mih_memory_estimate(NULL, 0) == 0);
  CHECK(vouch_index_mih_link_bytes(NULL, 0) == 0);
}

static void test_engines_random(void) {
  for (uint64_t seed = 1; seed <= 6; seed++) {
    engines_case(VOUCH_ALGO_PDQ, 1 + (size_t)(seed * 397 % 2000), 0, seed, 0);
    engines_case(VOUCH_ALGO_PHASH, 1 + (size_t)(seed * 211 % 3000), 0, seed, 0);
  }
}

static void test_engines_clustered(void) {
  static const unsigned ms[] = {0, 16, 17, 32, 64};
  for (uint64_t seed = 1; seed <= 10; seed++)
    engines_case(VOUCH_ALGO_PDQ, 500 + (size_t)(seed * 131 % 1500), 1, seed + 100,
                 ms[seed % 5]);
  static const unsigned m64[] = {0, 4, 5, 8, 16};
  for (uint64_t seed = 1; seed <= 10; seed++)
    engines_case(VOUCH_ALGO_DHASH, 500 + (size_t)(seed * 171 % 1500), 1, seed + 200,
                 m64[seed % 5]);
  /* many exact copies of a few hashes */
  for (uint64_t seed = 1; seed <= 3; seed++) {
    engines_case(VOUCH_ALGO_PDQ, 800 * (size_t)seed, 2, seed + 300, ms[seed % 5]);
    engines_case(VOUCH_ALGO_DHASH, 700 * (size_t)seed, 2, seed + 400, m64[seed % 5]);
  }
}

/* Past 65,536 entries: 3-byte links, and the links built on threads. */
static void test_engines_large(void) {
  static const unsigned radii[] = {0, 1, 3, 4, 7, 10, 15, 16, 20, 31, 32, 33, 40, 64};
  case_radii = radii;
  case_nradii = sizeof radii / sizeof radii[0];
  engines_case(VOUCH_ALGO_PDQ, 70001, 0, 501, 0);
  engines_case(VOUCH_ALGO_PDQ, 66000, 1, 502, 17);
  engines_case(VOUCH_ALGO_DHASH, 70002, 1, 503, 0);
  case_radii = NULL;
}

static void test_small_and_empty(void) {
  uint8_t h[32] = {0};
  const char *path = tmp_path("s.vidx");
  CHECK(write_index(path, VOUCH_ALGO_PDQ, h, 0) == VOUCH_OK);
  vouch_index *idx = NULL;
  CHECK_EQ_INT(vouch_index_open(&idx, path, NULL), VOUCH_OK);
  CHECK_EQ_INT(vouch_index_count(idx), 0);
  vouch_search_opts o = {31, VOUCH_ENGINE_MIH, 1};
  vouch_match *m = NULL;
  size_t nm = 7;
  CHECK_EQ_INT(vouch_index_search(idx, h, 1, 1, &o, &m, &nm), VOUCH_OK);
  CHECK_EQ_INT(nm, 0);
  vouch_matches_free(m);
  CHECK_EQ_INT(vouch_index_verify_root(idx), VOUCH_OK);
  uint8_t empty_root[32];
  crypto_hash_sha256(empty_root, (const unsigned char *)"", 0);
  CHECK(memcmp(vouch_index_root(idx), empty_root, 32) == 0);
  vouch_index_free(idx);
  vouch_index_free(NULL);
  /* invalid m is reported, not crashed on */
  CHECK(write_index(path, VOUCH_ALGO_PDQ, h, 1) == VOUCH_OK);
  vouch_index_config c = vouch_index_config_default();
  c.mih_m = 5; /* 52-bit substrings: too long */
  CHECK_EQ_INT(vouch_index_open(&idx, path, &c), VOUCH_E_INVALID);
  CHECK(strlen(vouch_index_errmsg(idx)) > 0);
  vouch_index_free(idx);
  /* MIH forced on an index opened without tables */
  c.mih_m = 0;
  c.build_mih = 0;
  CHECK_EQ_INT(vouch_index_open(&idx, path, &c), VOUCH_OK);
  CHECK_EQ_INT(vouch_index_search(idx, h, 1, 1, &o, &m, &nm), VOUCH_E_UNSUPPORTED);
  o.engine = VOUCH_ENGINE_AUTO;
  CHECK_EQ_INT(vouch_index_search(idx, h, 1, 1, &o, &m, &nm), VOUCH_OK);
  CHECK_EQ_INT(nm, 1);
  vouch_matches_free(m);
  vouch_index_free(idx);
}

static void test_roundtrip_metadata(void) {
  rng_state = 77;
  uint8_t data[5 * 32];
  rnd_bytes(data, sizeof data);
  memcpy(data + 4 * 32, data, 32); /* a duplicate hash in the other bank */
  const char *path = tmp_path("m.vidx");
  REQUIRE(write_index(path, VOUCH_ALGO_PDQ, data, 5) == VOUCH_OK);
  vouch_index *idx = NULL;
  REQUIRE(vouch_index_open(&idx, path, NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_index_count(idx), 5);
  CHECK_EQ_INT(vouch_index_bank_count(idx), 2);
  CHECK_EQ_STR(vouch_index_bank_name(idx, 0), "alpha");
  CHECK_EQ_STR(vouch_index_bank_name(idx, 1), "beta");
  CHECK(vouch_index_bank_name(idx, 2) == NULL);
  int seen = 0;
  for (size_t i = 0; i < 5; i++) {
    vouch_index_entry e;
    REQUIRE(vouch_index_get(idx, i, &e) == VOUCH_OK);
    unsigned k = (unsigned)(e.entry_id - 1);
    REQUIRE(k < 5);
    seen |= 1 << k;
    CHECK(memcmp(e.hash, data + k * 32, 32) == 0);
    char want[16];
    snprintf(want, sizeof want, "e%u", k);
    CHECK(e.ext_len == strlen(want) && memcmp(e.ext_id, want, e.ext_len) == 0);
    CHECK_EQ_INT(e.bank, k % 2);
    const char *ws = (k % 3) ? "src-a" : "src-a,src-b";
    CHECK(e.src_len == strlen(ws) && memcmp(e.source, ws, e.src_len) == 0);
    if (i > 0) {
      vouch_index_entry p;
      vouch_index_get(idx, i - 1, &p);
      CHECK(memcmp(p.hash, e.hash, 32) <= 0);
    }
  }
  CHECK_EQ_INT(seen, 31);
  CHECK_EQ_INT(vouch_index_verify_root(idx), VOUCH_OK);
  /* The root is the RFC 9162 root over the canonical leaves. */
  uint8_t leaves[5][128];
  size_t lens[5];
  uint8_t lh[5 * 32], root[32];
  for (size_t i = 0; i < 5; i++) {
    vouch_index_entry e;
    vouch_index_get(idx, i, &e);
    const char *bn = vouch_index_bank_name(idx, e.bank);
    lens[i] = vouch_index_canonical_leaf(VOUCH_ALGO_PDQ, e.hash, bn, strlen(bn), e.ext_id,
                                         e.ext_len, e.source, e.src_len, leaves[i], 128);
    CHECK(lens[i] == 1 + 32 + 6 + strlen(bn) + e.ext_len + e.src_len);
    vouch_merkle_leaf_hash(leaves[i], lens[i], lh + 32 * i);
  }
  vouch_merkle_root_from_leaf_hashes(lh, 5, root);
  CHECK(memcmp(root, vouch_index_root(idx), 32) == 0);
  vouch_index_free(idx);
  /* Writing the same entries in another order gives the same bytes. */
  uint8_t rev[5 * 32];
  for (int i = 0; i < 5; i++) memcpy(rev + 32 * i, data + 32 * (4 - i), 32);
  (void)rev; /* ids differ with order, so compare roots only for identical input */
  uint8_t r1[32], r2[32];
  vouch_index_input in[2] = {{data, 0, 1, "x", "s"}, {data + 32, 0, 2, "y", "s"}};
  vouch_index_input in2[2] = {in[1], in[0]};
  const char *bn[1] = {"b"};
  CHECK(vouch_index_write(tmp_path("o1.vidx"), VOUCH_ALGO_PDQ, bn, 1, in, 2, r1, NULL, 0) == 0);
  CHECK(vouch_index_write(tmp_path("o2.vidx"), VOUCH_ALGO_PDQ, bn, 1, in2, 2, r2, NULL, 0) == 0);
  CHECK(memcmp(r1, r2, 32) == 0);
  size_t l1, l2;
  unsigned char *b1 = tt_read_file(tmp_path("o1.vidx"), &l1), *b2 = tt_read_file(tmp_path("o2.vidx"), &l2);
  CHECK(b1 && b2 && l1 == l2 && memcmp(b1, b2, l1) == 0);
  free(b1);
  free(b2);
  /* bad inputs */
  vouch_index_input bad = {data, 3, 1, NULL, NULL};
  CHECK_EQ_INT(vouch_index_write(tmp_path("bad.vidx"), VOUCH_ALGO_PDQ, bn, 1, &bad, 1, NULL, NULL, 0),
               VOUCH_E_INVALID);
  CHECK(access(tmp_path("bad.vidx"), F_OK) != 0);
  CHECK_EQ_INT(vouch_index_write(tmp_path("bad.vidx"), 99, bn, 1, in, 1, NULL, NULL, 0), VOUCH_E_INVALID);
}

/* Damaged files: every truncation length and byte flips at many offsets
 * give a clean error; with the checksum recomputed (so the structural checks
 * are reached) the open either fails cleanly or the index still searches. */
static void test_corrupt(void) {
  rng_state = 991;
  size_t n = 40;
  uint8_t *data = make_data(n, 32, 1);
  const char *path = tmp_path("c.vidx");
  REQUIRE(write_index(path, VOUCH_ALGO_PDQ, data, n) == VOUCH_OK);
  size_t len;
  uint8_t *file = tt_read_file(path, &len);
  REQUIRE(file != NULL);
  vouch_index *idx = NULL;
  REQUIRE(vouch_index_open_buffer(&idx, file, len, NULL) == VOUCH_OK);
  vouch_index_free(idx);
  int bad_ok = 0;
  for (size_t l = 0; l < len; l++) {
    uint8_t *cp = malloc(l ? l : 1);
    memcpy(cp, file, l);
    int rc = vouch_index_open_buffer(&idx, cp, l, NULL);
    if (rc == VOUCH_OK) bad_ok++;
    CHECK(rc == VOUCH_E_DB_CORRUPT || rc == VOUCH_E_DB_VERSION);
    CHECK(strlen(vouch_index_errmsg(idx)) > 0);
    vouch_index_free(idx);
    free(cp);
  }
  CHECK_EQ_INT(bad_ok, 0);
  uint8_t *cp = malloc(len);
  size_t reopened = 0;
  for (size_t off = 0; off < len; off++) {
    for (int fix = 0; fix < 2; fix++) {
      memcpy(cp, file, len);
      cp[off] ^= (uint8_t)(1u << (rnd() % 8));
      if (fix) {
        if (off >= len - 32) continue;
        crypto_generichash(cp + len - 32, 32, cp, len - 32, NULL, 0);
      }
      int rc = vouch_index_open_buffer(&idx, cp, len, NULL);
      if (!fix) {
        CHECK(rc == VOUCH_E_DB_CORRUPT || rc == VOUCH_E_DB_VERSION);
      } else if (rc == VOUCH_OK) {
        /* e.g. a flipped hash bit that keeps the order: must still search */
        reopened++;
        vouch_search_opts o = {64, VOUCH_ENGINE_MIH, 1};
        vouch_match *m = NULL;
        size_t nm;
        CHECK_EQ_INT(vouch_index_search(idx, data, 1, 1, &o, &m, &nm), VOUCH_OK);
        vouch_matches_free(m);
        for (size_t i = 0; i < vouch_index_count(idx); i++) {
          vouch_index_entry e;
          CHECK_EQ_INT(vouch_index_get(idx, i, &e), VOUCH_OK);
        }
        /* a flipped hash or string is caught by the Merkle root */
        if (off >= 128 + 64 && off < 128 + 64 + n * 32)
          CHECK_EQ_INT(vouch_index_verify_root(idx), VOUCH_E_DB_CORRUPT);
      } else {
        CHECK(rc == VOUCH_E_DB_CORRUPT || rc == VOUCH_E_DB_VERSION);
      }
      vouch_index_free(idx);
    }
  }
  fprintf(stderr, "  corrupt: %zu checksum-fixed flips still open (hash/id bytes)\n", reopened);
  free(cp);
  /* a file that is not an index, and a missing file */
  CHECK_EQ_INT(vouch_index_open(&idx, "/nonexistent/x.vidx", NULL), VOUCH_E_IO);
  vouch_index_free(idx);
  CHECK_EQ_INT(vouch_index_open(&idx, "/dev/null", NULL), VOUCH_E_IO);
  vouch_index_free(idx);
  free(file);
  free(data);
}

/* Every allocation failing in turn: open, MIH build, search and write fail
 * cleanly with VOUCH_E_NOMEM (ASan reports any leak on those paths). */
static void test_alloc_failures(void) {
  rng_state = 4242;
  size_t n = 300;
  uint8_t *data = make_data(n, 32, 1);
  const char *path = tmp_path("a.vidx");
  REQUIRE(write_index(path, VOUCH_ALGO_PDQ, data, n) == VOUCH_OK);
  uint8_t *q = make_queries(data, n, 32, 20, 8);
  int nomem = 0, ok = 0;
  for (long k = 0; k < 200; k++) {
    vouch_index_config c = vouch_index_config_default();
    c.build_threads = (unsigned)(k % 2 + 1);
    vouch_index *idx = NULL;
    vouch__test_fail_allocs_after(k);
    int rc = vouch_index_open(&idx, path, &c);
    vouch_match *m = NULL;
    size_t nm = 0;
    if (rc == VOUCH_OK) {
      vouch_search_opts o = {31, k % 3 == 0 ? VOUCH_ENGINE_SCAN : VOUCH_ENGINE_MIH, 1};
      rc = vouch_index_search(idx, q, 20, 8, &o, &m, &nm);
    }
    vouch__test_fail_allocs_after(-1);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
    if (rc == VOUCH_OK) ok++; else nomem++;
    vouch_matches_free(m);
    vouch_index_free(idx);
  }
  CHECK(nomem > 0 && ok > 0);
  /* the writer */
  vouch_index_input in[3] = {{data, 0, 1, "a", "s"}, {data + 32, 0, 2, "b", "s"}, {data + 64, 0, 3, NULL, NULL}};
  const char *bn[1] = {"b"};
  for (long k = 0; k < 12; k++) {
    vouch__test_fail_allocs_after(k);
    int rc = vouch_index_write(tmp_path("aw.vidx"), VOUCH_ALGO_PDQ, bn, 1, in, 3, NULL, NULL, 0);
    vouch__test_fail_allocs_after(-1);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
  }
  free(q);
  free(data);
}

/* vouch_index_stream_*: the bytes of a file fed in pieces of every size
 * give the file's root; a damaged, truncated or lengthened stream fails. */
static int stream_check(const uint8_t *b, size_t len, size_t piece, uint8_t *root) {
  vouch_index_stream *s = NULL;
  if (vouch_index_stream_new(&s) != VOUCH_OK) return -1;
  for (size_t off = 0; off < len;) {
    size_t k = piece == 0 ? 1 + (size_t)(rnd() % 300) : piece;
    if (k > len - off) k = len - off;
    vouch_index_stream_update(s, b + off, k);
    off += k;
  }
  int rc = vouch_index_stream_final(s, root);
  vouch_index_stream_free(s);
  return rc;
}

static void test_stream_check(void) {
  rng_state = 0x5eed5eedULL;
  const size_t n = 700;
  uint8_t *h = malloc(n * 32);
  rnd_bytes(h, n * 32);
  const char *path = tmp_path("st.vidx");
  REQUIRE(write_index(path, VOUCH_ALGO_PDQ, h, n) == 0);
  vouch_index *idx = NULL;
  REQUIRE(vouch_index_open(&idx, path, NULL) == VOUCH_OK);
  size_t len = 0;
  unsigned char *b = tt_read_file(path, &len);
  REQUIRE(b != NULL);
  const size_t pieces[] = {0, 1, 31, 32, 33, 128, 4096, 1u << 20};
  for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
    uint8_t root[VOUCH_MERKLE_HASH_BYTES] = {0};
    CHECK_EQ_INT(stream_check(b, len, pieces[i], root), VOUCH_OK);
    CHECK(memcmp(root, vouch_index_root(idx), sizeof root) == 0);
  }
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  CHECK_EQ_INT(stream_check(b, len - 1, 0, root), VOUCH_E_DB_CORRUPT);  /* truncated */
  CHECK_EQ_INT(stream_check(b, 100, 0, root), VOUCH_E_DB_CORRUPT);      /* shorter than a header */
  for (size_t at = 0; at < len; at += len / 7) { /* one damaged byte anywhere, the checksum included */
    b[at] ^= 0x10;
    CHECK(stream_check(b, len, 0, root) != VOUCH_OK);
    b[at] ^= 0x10;
  }
  b[len - 1] ^= 1;
  CHECK_EQ_INT(stream_check(b, len, 4096, root), VOUCH_E_DB_CORRUPT);
  b[len - 1] ^= 1;
  unsigned char *longer = malloc(len + 5);
  memcpy(longer, b, len);
  memset(longer + len, 0, 5);
  CHECK_EQ_INT(stream_check(longer, len + 5, 0, root), VOUCH_E_DB_CORRUPT);
  b[8] = 2; /* another version: said so */
  CHECK_EQ_INT(stream_check(b, len, 0, root), VOUCH_E_DB_VERSION);
  CHECK_EQ_INT(vouch_index_stream_new(NULL), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_index_stream_final(NULL, root), VOUCH_E_INVALID);
  vouch_index_stream_free(NULL);
  free(longer);
  free(b);
  free(h);
  vouch_index_free(idx);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vouch-test-index-XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  if (vouch_init() < 0) return 1;
  TT_RUN(test_small_and_empty);
  TT_RUN(test_roundtrip_metadata);
  TT_RUN(test_corrupt);
  TT_RUN(test_stream_check);
  TT_RUN(test_alloc_failures);
  TT_RUN(test_memory_estimate);
  TT_RUN(test_engines_random);
  TT_RUN(test_engines_clustered);
  TT_RUN(test_engines_large);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
  TT_MAIN_END;
}
