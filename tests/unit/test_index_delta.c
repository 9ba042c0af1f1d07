/* tests/unit/test_index_delta.c -- snapshot + delta (vouch_index_derive()):
 * on random bank states changed at random (entries added, disabled,
 * re-enabled, their sources changed, exact duplicates and ties), a derived
 * handle over the first state's file answers every query exactly as a file
 * rebuilt from the changed state: same matches, distances, variants, order,
 * entry metadata; with both engines, 1 and 8 variants, 1 and 3 threads; and
 * the handles can be freed in any order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vouch/vouch.h"
#include "vouch/index.h"
#include "tinytest.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) { return tt_xorshift(&rng_state); }

#define HB 32U
#define MAXE 6000U

typedef struct ent {
  uint8_t hash[HB];
  uint32_t bank;
  uint64_t id;
  char ext[16], src[16];
  int enabled;
} ent;

static ent st[MAXE];
static size_t nst;
static const char *const banks[3] = {"alpha", "beta", "gamma"};
static char dir[64];

static void rnd_hash(uint8_t *h) {
  for (unsigned i = 0; i < HB; i++) h[i] = (uint8_t)(rnd() >> 56);
}
static void near(uint8_t *h, const uint8_t *from, unsigned bits) {
  memcpy(h, from, HB);
  for (unsigned k = 0; k < bits; k++) {
    unsigned b = (unsigned)(rnd() % (HB * 8));
    h[b / 8] ^= (uint8_t)(1u << (b % 8));
  }
}

static void add_entry(void) {
  ent *e = &st[nst];
  memset(e, 0, sizeof *e);
  const unsigned kind = (unsigned)(rnd() % 4);
  if (nst && kind == 0) near(e->hash, st[rnd() % nst].hash, (unsigned)(rnd() % 40));
  else if (nst && kind == 1) memcpy(e->hash, st[rnd() % nst].hash, HB); /* exact duplicate hash */
  else rnd_hash(e->hash);
  e->bank = (uint32_t)(rnd() % 3);
  e->id = nst + 1;
  snprintf(e->ext, sizeof e->ext, "x%u", (unsigned)(rnd() % 50)); /* repeats: ties on ext */
  snprintf(e->src, sizeof e->src, "s%u", (unsigned)(rnd() % 3));
  e->enabled = 1;
  nst++;
}

static vouch_index_input input_of(const ent *e) {
  return (vouch_index_input){.hash = e->hash, .bank = e->bank, .entry_id = e->id, .ext_id = e->ext, .source = e->src};
}

static int build(const char *path) {
  vouch_index_input *in = calloc(nst ? nst : 1, sizeof *in);
  size_t n = 0;
  for (size_t i = 0; i < nst; i++)
    if (st[i].enabled) in[n++] = input_of(&st[i]);
  int rc = vouch_index_write(path, VOUCH_ALGO_PDQ, banks, 3, in, n, NULL, NULL, 0);
  free(in);
  return rc;
}

static int same_entry(vouch_index *a, uint32_t ea, vouch_index *b, uint32_t eb) {
  vouch_index_entry x, y;
  if (vouch_index_get(a, ea, &x) != VOUCH_OK || vouch_index_get(b, eb, &y) != VOUCH_OK) return 0;
  return !memcmp(x.hash, y.hash, HB) && !strcmp(vouch_index_bank_name(a, x.bank), vouch_index_bank_name(b, y.bank)) &&
         x.entry_id == y.entry_id && x.ext_len == y.ext_len && !memcmp(x.ext_id, y.ext_id, x.ext_len) &&
         x.src_len == y.src_len && !memcmp(x.source, y.source, x.src_len);
}

/* Same answers from the derived handle `d` and the rebuilt file `f`. */
static void compare(vouch_index *d, vouch_index *f, const uint8_t *qs, size_t nq, unsigned nvar) {
  const unsigned radii[3] = {0, 31, 70};
  const int engines[2] = {VOUCH_ENGINE_SCAN, VOUCH_ENGINE_MIH};
  for (unsigned r = 0; r < 3; r++)
    for (unsigned e = 0; e < 2; e++)
      for (unsigned t = 1; t <= 3; t += 2) {
        vouch_search_opts so = {.radius = radii[r], .engine = engines[e], .threads = t};
        vouch_match *md = NULL, *mf = NULL;
        size_t nd = 0, nf = 0;
        CHECK_EQ_INT(vouch_index_search(d, qs, nq, nvar, &so, &md, &nd), VOUCH_OK);
        CHECK_EQ_INT(vouch_index_search(f, qs, nq, nvar, &so, &mf, &nf), VOUCH_OK);
        CHECK_EQ_INT(nd, nf);
        size_t bad = 0;
        for (size_t k = 0; k < nd && k < nf; k++)
          if (md[k].query != mf[k].query || md[k].distance != mf[k].distance || md[k].variant != mf[k].variant ||
              !same_entry(d, md[k].entry, f, mf[k].entry))
            bad++;
        CHECK_EQ_INT(bad, 0);
        vouch_matches_free(md);
        vouch_matches_free(mf);
      }
}

static void one_round(unsigned n0, unsigned changes, unsigned nvar) {
  nst = 0;
  for (unsigned i = 0; i < n0; i++) add_entry();
  char p0[128], p1[128];
  snprintf(p0, sizeof p0, "%s/s0.vidx", dir);
  snprintf(p1, sizeof p1, "%s/s1.vidx", dir);
  REQUIRE(build(p0) == VOUCH_OK);
  /* changes since the snapshot: the ids touched (the follower's delta map) */
  uint8_t *touched = calloc(MAXE + 1, 1);
  for (unsigned c = 0; c < changes; c++) {
    const unsigned op = (unsigned)(rnd() % 4);
    if (op == 0 || nst == 0) {
      if (nst < MAXE) {
        add_entry();
        touched[st[nst - 1].id] = 1;
      }
      continue;
    }
    ent *e = &st[rnd() % nst];
    if (op == 1) e->enabled = 0;
    else if (op == 2) e->enabled = 1;
    else snprintf(e->src, sizeof e->src, "t%u", (unsigned)(rnd() % 3));
    touched[e->id] = 1;
  }
  REQUIRE(build(p1) == VOUCH_OK);
  vouch_index_input *add = calloc(nst + 1, sizeof *add);
  uint64_t *rem = calloc(nst + 1, sizeof *rem);
  size_t na = 0, nr = 0;
  for (size_t i = 0; i < nst; i++) {
    if (!touched[st[i].id]) continue;
    rem[nr++] = st[i].id;
    if (st[i].enabled) add[na++] = input_of(&st[i]);
  }
  vouch_index *s0 = NULL, *f1 = NULL, *d = NULL, *d2 = NULL;
  REQUIRE(vouch_index_open(&s0, p0, NULL) == VOUCH_OK);
  REQUIRE(vouch_index_open(&f1, p1, NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_index_derive(&d, s0, add, na, rem, nr), VOUCH_OK);
  /* derived from a derived handle: the snapshot underneath, this delta only */
  CHECK_EQ_INT(vouch_index_derive(&d2, d, add, na, rem, nr), VOUCH_OK);
  size_t a = 9, r = 9;
  vouch_index_delta_size(d, &a, &r);
  CHECK_EQ_INT(a, na);
  CHECK_EQ_INT(r, nr);
  CHECK_EQ_INT(vouch_index_count(d), vouch_index_count(s0) + na);
  CHECK(!memcmp(vouch_index_root(d), vouch_index_root(s0), VOUCH_MERKLE_HASH_BYTES));
  CHECK(vouch_index_memory(d) > vouch_index_memory(s0) || na + nr == 0);
  CHECK_EQ_INT(vouch_index_build_mih(d, 0, 1), VOUCH_E_INVALID);
  vouch_index_free(s0); /* the derived handles keep the snapshot alive */
  /* queries: near entries of both states and random ones */
  const size_t nq = 300;
  uint8_t *qs = malloc(nq * nvar * HB);
  for (size_t q = 0; q < nq; q++)
    for (unsigned v = 0; v < nvar; v++) {
      uint8_t *h = qs + (q * nvar + v) * HB;
      if (q % 3 == 2) rnd_hash(h);
      else near(h, st[rnd() % nst].hash, (unsigned)(rnd() % 36));
    }
  compare(d, f1, qs, nq, nvar);
  vouch_index_free(d);
  compare(d2, f1, qs, nq, nvar);
  vouch_index_free(d2);
  vouch_index_free(f1);
  free(qs);
  free(add);
  free(rem);
  free(touched);
}

static void test_delta_equals_rebuild(void) {
  one_round(3000, 400, 1);
  one_round(3000, 400, 8);
  one_round(2000, 2500, 1); /* a delta larger than the snapshot */
  one_round(500, 0, 1);     /* an empty delta */
}

static void test_empty_snapshot_and_errors(void) {
  nst = 0;
  char p0[128], p1[128];
  snprintf(p0, sizeof p0, "%s/e0.vidx", dir);
  snprintf(p1, sizeof p1, "%s/e1.vidx", dir);
  REQUIRE(build(p0) == VOUCH_OK);
  for (unsigned i = 0; i < 50; i++) add_entry();
  REQUIRE(build(p1) == VOUCH_OK);
  vouch_index_input add[50];
  for (unsigned i = 0; i < 50; i++) add[i] = input_of(&st[i]);
  vouch_index *s0 = NULL, *f1 = NULL, *d = NULL;
  REQUIRE(vouch_index_open(&s0, p0, NULL) == VOUCH_OK);
  REQUIRE(vouch_index_open(&f1, p1, NULL) == VOUCH_OK);
  REQUIRE(vouch_index_derive(&d, s0, add, 50, NULL, 0) == VOUCH_OK);
  uint8_t qs[20 * HB];
  for (unsigned q = 0; q < 20; q++) near(qs + q * HB, st[q].hash, q);
  compare(d, f1, qs, 20, 1);
  vouch_index *bad = NULL;
  vouch_index_input wrong = add[0];
  wrong.bank = 3;
  CHECK_EQ_INT(vouch_index_derive(&bad, s0, &wrong, 1, NULL, 0), VOUCH_E_INVALID);
  CHECK(bad == NULL);
  wrong = add[0];
  wrong.hash = NULL;
  CHECK_EQ_INT(vouch_index_derive(&bad, s0, &wrong, 1, NULL, 0), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_index_derive(&bad, NULL, add, 1, NULL, 0), VOUCH_E_INVALID);
  vouch_index_free(d);
  vouch_index_free(s0);
  vouch_index_free(f1);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/vouch-test-delta-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  if (vouch_init() < 0) return 1;
  TT_RUN(test_delta_equals_rebuild);
  TT_RUN(test_empty_snapshot_and_errors);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
  TT_MAIN_END;
}
