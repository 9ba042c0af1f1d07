/* tests/unit/test_digest_index.c -- indexes of exact file digests (md5,
 * sha1, sha256): written and opened like any index, searched by their
 * sorted order; the answers equal a plain loop over the entries, whatever
 * the radius or engine asked; digest banks take the list formats. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tinytest.h"
#include "vouch/vouch.h"
#include "vouch/index.h"
#include "vouch/bank.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint8_t rnd8(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint8_t)(rng >> 24);
}

static void test_names_and_sizes(void) {
  const int algos[] = {VOUCH_ALGO_MD5, VOUCH_ALGO_SHA1, VOUCH_ALGO_SHA256};
  const size_t bytes[] = {16, 20, 32};
  for (int i = 0; i < 3; i++) {
    CHECK(vouch_algo_is_digest(algos[i]));
    CHECK_EQ_INT((int)vouch_algo_list_bytes(algos[i]), (int)bytes[i]);
    CHECK_EQ_INT((int)vouch_digest_bytes(algos[i]), (int)bytes[i]);
    CHECK_EQ_INT((int)vouch_algo_bytes(algos[i]), 0); /* no perceptual API takes them */
    CHECK_EQ_INT(vouch_bank_algo_from_name(vouch_algo_name(algos[i])), algos[i]);
    CHECK_EQ_INT(vouch_digest_from_name(vouch_algo_name(algos[i])), algos[i]);
    CHECK_EQ_INT(vouch_algo_from_name(vouch_algo_name(algos[i])), VOUCH_ALGO_NONE);
    CHECK_EQ_INT((int)vouch_default_radius(algos[i]), 0);
  }
  CHECK(!vouch_algo_is_digest(VOUCH_ALGO_PDQ) && !vouch_algo_is_digest(VOUCH_ALGO_VPDQ));
  CHECK_EQ_INT((int)vouch_algo_list_bytes(VOUCH_ALGO_PDQ), 32);
  CHECK_EQ_INT((int)vouch_algo_list_bytes(VOUCH_ALGO_VPDQ), 0);
  CHECK_EQ_STR(vouch_algo_name(VOUCH_ALGO_SHA1), "sha1");
  /* hashing an image with a digest algo is refused */
  vouch_hasher *h = NULL;
  REQUIRE(vouch_hasher_create(&h) == VOUCH_OK);
  uint8_t px[64 * 64], out[32];
  memset(px, 9, sizeof px);
  vouch_image img = {.width = 64, .height = 64, .channels = 1, .stride = 64, .pixels = px};
  CHECK(vouch_hash_image(h, VOUCH_ALGO_MD5, &img, 0, out, sizeof out, NULL) != VOUCH_OK);
  vouch_hasher_free(h);
}

/* n entries over 2 banks, some digests in both banks or twice in one; every
 * query's answer equals the loop over all entries. */
static void check_algo(int algo, const char *dir) {
  const size_t hb = vouch_algo_list_bytes(algo), n = 3000;
  uint8_t *hashes = malloc(n * hb);
  vouch_index_input *in = calloc(n, sizeof *in);
  REQUIRE(hashes && in);
  char ids[3000][12];
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < hb; k++) hashes[i * hb + k] = rnd8();
    if (i % 7 == 3) memcpy(hashes + i * hb, hashes + (i - 3) * hb, hb); /* a duplicate digest */
    snprintf(ids[i], sizeof ids[i], "e%zu", i);
    in[i] = (vouch_index_input){hashes + i * hb, (uint32_t)(i % 2), (uint64_t)i + 1, ids[i], "src"};
  }
  const char *banks[2] = {"a", "b"};
  char path[1200];
  snprintf(path, sizeof path, "%s/%s.vidx", dir, vouch_algo_name(algo));
  uint8_t root[32];
  REQUIRE(vouch_index_write(path, algo, banks, 2, in, n, root, NULL, 0) == VOUCH_OK);
  vouch_index *idx = NULL;
  REQUIRE(vouch_index_open(&idx, path, NULL) == VOUCH_OK); /* build_mih: nothing to build */
  CHECK_EQ_INT(vouch_index_algo(idx), algo);
  CHECK_EQ_INT((int)vouch_index_hash_bytes(idx), (int)hb);
  CHECK_EQ_INT((int)vouch_index_count(idx), (int)n);
  CHECK_EQ_INT((int)vouch_index_mih_m(idx), 0);
  CHECK_EQ_INT((int)vouch_index_mih_memory_estimate(idx, 0), 0);
  CHECK_EQ_INT(vouch_index_verify_root(idx), VOUCH_OK);
  CHECK(memcmp(vouch_index_root(idx), root, 32) == 0);
  /* queries: every entry's digest, plus random ones and one bit off */
  const size_t nq = 400;
  uint8_t *q = malloc(nq * 2 * hb);
  REQUIRE(q != NULL);
  for (size_t i = 0; i < nq; i++) {
    uint8_t *a = q + i * 2 * hb, *b = a + hb;
    size_t e = (i * 7919) % n;
    memcpy(a, hashes + e * hb, hb);
    if (i % 5 == 0) for (size_t k = 0; k < hb; k++) a[k] = rnd8();
    if (i % 5 == 1) a[hb - 1] ^= 1; /* distance 1 is no match */
    memcpy(b, hashes + ((e + 11) % n) * hb, hb);
  }
  for (unsigned nvar = 1; nvar <= 2; nvar++) {
    uint8_t *qq = malloc(nq * nvar * hb);
    REQUIRE(qq != NULL);
    for (size_t i = 0; i < nq; i++) memcpy(qq + i * nvar * hb, q + i * 2 * hb, nvar * hb);
    const unsigned radii[] = {0, 40};
    for (int r = 0; r < 2; r++) {
      vouch_search_opts so = {radii[r], r ? VOUCH_ENGINE_MIH : VOUCH_ENGINE_AUTO, 2};
      vouch_match *m = NULL;
      size_t nm = 0;
      REQUIRE(vouch_index_search(idx, qq, nq, nvar, &so, &m, &nm) == VOUCH_OK);
      /* the plain loop: (query, entry, lowest equal variant), by query then entry */
      size_t k = 0, bad = 0;
      for (size_t i = 0; i < nq; i++)
        for (size_t e = 0; e < n; e++) {
          vouch_index_entry ent;
          vouch_index_get(idx, e, &ent);
          int var = -1;
          for (unsigned v = 0; v < nvar && var < 0; v++)
            if (!memcmp(ent.hash, qq + (i * nvar + v) * hb, hb)) var = (int)v;
          if (var < 0) continue;
          if (k >= nm || m[k].query != i || m[k].entry != e || m[k].distance != 0 || m[k].variant != var) bad++;
          k++;
        }
      CHECK_EQ_INT((int)bad, 0);
      CHECK_EQ_INT((int)nm, (int)k);
      CHECK(nm > nq / 2);
      vouch_matches_free(m);
    }
    free(qq);
  }
  vouch_index_free(idx);
  unlink(path);
  free(q);
  free(hashes);
  free(in);
}

static void test_index_equals_loop(void) {
  char dir[] = "/tmp/vouch-digest-XXXXXX";
  REQUIRE(mkdtemp(dir) != NULL);
  check_algo(VOUCH_ALGO_MD5, dir);
  check_algo(VOUCH_ALGO_SHA1, dir);
  check_algo(VOUCH_ALGO_SHA256, dir);
  rmdir(dir);
}

static int count_entry(void *ctx, const vouch_bank_entry *e) {
  (*(size_t *)ctx) += e->hash_bytes == 20;
  return 0;
}

static void test_bank(void) {
  char dir[] = "/tmp/vouch-digest-XXXXXX", path[64];
  REQUIRE(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/b.sqlite", dir);
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "s", VOUCH_ALGO_SHA1) == VOUCH_OK);
  /* a TE state file names its type: HASH_SHA1 rows go in, HASH_MD5 rows are skipped */
  const char *list = "signal_type,signal_value,id\nhash_sha1,a9993e364706816aba3e25717850c26c9cd0d89d,abc\n"
                     "video_md5,900150983cd24fb0d6963f7d28e17f72,abc-md5\nsha1,0123,short\n";
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  o.list.algo = VOUCH_ALGO_SHA1;
  o.list.format = VOUCH_LIST_AUTO;
  vouch_import_stats st;
  CHECK_EQ_INT(vouch_bank_import(b, "s", list, strlen(list), &o, &st), VOUCH_OK);
  CHECK_EQ_INT((int)st.added, 1);
  CHECK_EQ_INT((int)st.skipped, 1);
  CHECK_EQ_INT((int)st.bad, 1);
  size_t n = 0;
  CHECK_EQ_INT(vouch_bank_entries(b, "s", count_entry, &n), VOUCH_OK);
  CHECK_EQ_INT((int)n, 1);
  size_t changed = 0;
  CHECK_EQ_INT(vouch_bank_entry_set_enabled(b, "s", VOUCH_SELECT_HASH, "a9993e364706816aba3e25717850c26c9cd0d89d", 0,
                                            &changed), VOUCH_OK);
  CHECK_EQ_INT((int)changed, 1);
  CHECK(vouch_bank_set_radius(b, "s", 1) != VOUCH_OK); /* digests match exactly */
  vouch_bank_free(b);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  TT_RUN(test_names_and_sizes);
  TT_RUN(test_index_equals_loop);
  TT_RUN(test_bank);
  TT_MAIN_END;
}
