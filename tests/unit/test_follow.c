/* tests/unit/test_follow.c -- snapshot + delta on PostgreSQL (vouch/follow.h):
 * a follower polling a database changed at random (entries imported, merged
 * with new sources, disabled, re-enabled, by ext id) answers every query
 * exactly as an index rebuilt at the same change number; changes a delta
 * cannot express (a bank disabled, created) ask for a snapshot; the delta
 * bound is reported; published snapshots are fetched back byte for byte;
 * followers and snapshots of one algorithm's index ignore the others.
 * Needs a PostgreSQL server: VOUCH_TEST_PG_HOST/PORT/BIN (tests/cli/bank_pg.sh
 * runs it); skipped (77) without. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vouch/vouch.h"
#include "vouch/follow.h"
#include "tinytest.h"

static uint64_t rng_state = 0x1234567887654321ULL;
static uint64_t rnd(void) { return tt_xorshift(&rng_state); }

#define MAXH 4000
static uint8_t hashes[MAXH][32];
static size_t nh;
static char dir[64];
static char uri[512];
static const char *pg_host, *pg_port, *pg_bin;

static void hex(const uint8_t *h, char *out) {
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Imports k entries into `bank`: new random hashes, near or equal to known
 * ones (merged, with another source when equal in the same bank). */
static int import_some(vouch_bank *db, const char *bank, unsigned k, unsigned *serial) {
  size_t cap = 64 + (size_t)k * 100;
  char *text = malloc(cap);
  size_t len = (size_t)snprintf(text, cap, "hash,id,source\n");
  for (unsigned i = 0; i < k && nh < MAXH; i++) {
    uint8_t *h = hashes[nh];
    const unsigned kind = (unsigned)(rnd() % 4);
    if (nh && kind == 0) memcpy(h, hashes[rnd() % nh], 32);
    else if (nh && kind == 1) {
      memcpy(h, hashes[rnd() % nh], 32);
      for (unsigned f = 0; f < 12; f++) h[rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8));
    } else {
      for (int j = 0; j < 32; j++) h[j] = (uint8_t)(rnd() >> 56);
    }
    nh++;
    char hx[65];
    hex(h, hx);
    len += (size_t)snprintf(text + len, cap - len, "%s,x%u,src%u\n", hx, (*serial)++ % 300, (unsigned)(rnd() % 3));
  }
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  o.now = 1700000000;
  int rc = vouch_bank_import(db, bank, text, len, &o, NULL);
  free(text);
  return rc;
}

static int same_entry(vouch_index *a, uint32_t ea, vouch_index *b, uint32_t eb) {
  vouch_index_entry x, y;
  if (vouch_index_get(a, ea, &x) != VOUCH_OK || vouch_index_get(b, eb, &y) != VOUCH_OK) return 0;
  return !memcmp(x.hash, y.hash, 32) && !strcmp(vouch_index_bank_name(a, x.bank), vouch_index_bank_name(b, y.bank)) &&
         x.entry_id == y.entry_id && x.ext_len == y.ext_len && !memcmp(x.ext_id, y.ext_id, x.ext_len) &&
         x.src_len == y.src_len && !memcmp(x.source, y.source, x.src_len);
}

/* The follower's index answers as a rebuild of the database now (of the
 * banks of `algo` only, unless VOUCH_ALGO_NONE). */
static void check_equals_rebuild_algo(vouch_bank *db, vouch_follow *f, int round, int algo) {
  char p[128];
  snprintf(p, sizeof p, "%s/full%d.vidx", dir, round);
  int64_t seq = -1;
  REQUIRE((algo == VOUCH_ALGO_NONE ? vouch_bank_build_index_seq(db, NULL, 0, p, NULL, NULL, &seq)
                                   : vouch_bank_build_index_algo(db, algo, p, NULL, NULL, &seq)) == VOUCH_OK);
  CHECK_EQ_INT(seq, vouch_follow_seq(f));
  vouch_index *full = NULL, *live = NULL;
  REQUIRE(vouch_index_open(&full, p, NULL) == VOUCH_OK);
  REQUIRE(vouch_follow_index(f, &live) == VOUCH_OK);
  const size_t nq = 200;
  uint8_t *qs = malloc(nq * 32);
  for (size_t q = 0; q < nq; q++) {
    memcpy(qs + q * 32, hashes[rnd() % nh], 32);
    for (unsigned b = 0; b < q % 20; b++) qs[q * 32 + rnd() % 32] ^= (uint8_t)(1u << (rnd() % 8));
  }
  vouch_search_opts so = {.radius = 31, .engine = VOUCH_ENGINE_AUTO, .threads = 1};
  vouch_match *ml = NULL, *mf = NULL;
  size_t nl = 0, nf = 0;
  CHECK_EQ_INT(vouch_index_search(live, qs, nq, 1, &so, &ml, &nl), VOUCH_OK);
  CHECK_EQ_INT(vouch_index_search(full, qs, nq, 1, &so, &mf, &nf), VOUCH_OK);
  CHECK_EQ_INT(nl, nf);
  CHECK(nf > 0);
  size_t bad = 0;
  for (size_t k = 0; k < nl && k < nf; k++)
    if (ml[k].query != mf[k].query || ml[k].distance != mf[k].distance || !same_entry(live, ml[k].entry, full, mf[k].entry))
      bad++;
  CHECK_EQ_INT(bad, 0);
  vouch_matches_free(ml);
  vouch_matches_free(mf);
  vouch_index_free(live);
  vouch_index_free(full);
  free(qs);
}

static void check_equals_rebuild(vouch_bank *db, vouch_follow *f, int round) {
  check_equals_rebuild_algo(db, f, round, VOUCH_ALGO_NONE);
}

static vouch_index *open_snapshot(vouch_bank *db, int64_t *seq, const char *name) {
  char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  vouch_index *idx = NULL;
  if (vouch_bank_build_index_seq(db, NULL, 0, p, NULL, NULL, seq) != VOUCH_OK) return NULL;
  if (vouch_index_open(&idx, p, NULL) != VOUCH_OK) {
    vouch_index_free(idx);
    return NULL;
  }
  return idx;
}

static void test_follow_random(void) {
  vouch_bank *db = NULL;
  REQUIRE(vouch_bank_open(&db, uri, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(db, "a", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_create(db, "b", VOUCH_ALGO_PDQ) == VOUCH_OK);
  unsigned serial = 0;
  REQUIRE(import_some(db, "a", 800, &serial) == VOUCH_OK);
  REQUIRE(import_some(db, "b", 800, &serial) == VOUCH_OK);
  vouch_follow *f = NULL;
  REQUIRE(vouch_follow_new(&f, 0) == VOUCH_OK);
  unsigned st = 0;
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_E_INVALID); /* no snapshot yet */
  int64_t s0 = -1;
  vouch_index *snap = open_snapshot(db, &s0, "s0.vidx");
  REQUIRE(snap != NULL);
  REQUIRE(vouch_follow_set_snapshot(f, snap, s0) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, 0);
  for (int round = 0; round < 6; round++) {
    const char *bank = round % 2 ? "b" : "a";
    for (int c = 0; c < 4; c++) {
      const unsigned op = (unsigned)(rnd() % 3);
      char ext[16];
      snprintf(ext, sizeof ext, "x%u", (unsigned)(rnd() % 300));
      if (op == 0) CHECK_EQ_INT(import_some(db, bank, 40, &serial), VOUCH_OK);
      else (void)vouch_bank_entry_set_enabled(db, bank, VOUCH_SELECT_EXT_ID, ext, op == 2, NULL);
    }
    CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_OK);
    CHECK(st & VOUCH_FOLLOW_CHANGED);
    CHECK(!(st & VOUCH_FOLLOW_NEED_SNAPSHOT));
    CHECK(vouch_follow_delta_entries(f) > 0);
    check_equals_rebuild(db, f, round);
  }
  /* a bank-level change: only a new snapshot is current */
  REQUIRE(vouch_bank_set_enabled(db, "b", 0) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_OK);
  CHECK(st & VOUCH_FOLLOW_NEED_SNAPSHOT);
  const int64_t before = vouch_follow_seq(f);
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_OK);
  CHECK(st & VOUCH_FOLLOW_NEED_SNAPSHOT);
  CHECK_EQ_INT(vouch_follow_seq(f), before);
  int64_t s1 = -1;
  snap = open_snapshot(db, &s1, "s1.vidx");
  REQUIRE(snap != NULL);
  CHECK(s1 > s0);
  REQUIRE(vouch_follow_set_snapshot(f, snap, s1) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_delta_entries(f), 0);
  CHECK_EQ_INT(vouch_follow_snapshot_seq(f), s1);
  /* an older snapshot is refused */
  vouch_index *old = NULL;
  char p0[128];
  snprintf(p0, sizeof p0, "%s/s0.vidx", dir);
  REQUIRE(vouch_index_open(&old, p0, NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_set_snapshot(f, old, s0), VOUCH_E_INVALID);
  vouch_index_free(old);
  REQUIRE(import_some(db, "a", 30, &serial) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, VOUCH_FOLLOW_CHANGED);
  check_equals_rebuild(db, f, 10);
  /* the bound */
  vouch_follow *small = NULL;
  REQUIRE(vouch_follow_new(&small, 10) == VOUCH_OK);
  snap = open_snapshot(db, &s1, "s2.vidx");
  REQUIRE(snap != NULL);
  REQUIRE(vouch_follow_set_snapshot(small, snap, s1) == VOUCH_OK);
  REQUIRE(import_some(db, "a", 30, &serial) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(small, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, VOUCH_FOLLOW_CHANGED | VOUCH_FOLLOW_DELTA_FULL);
  check_equals_rebuild(db, small, 11); /* still exact past the bound */
  vouch_follow_free(small);
  vouch_follow_free(f);
  vouch_bank_free(db);
}

/* An entry disabled until a time comes back at the first poll after that
 * time, without any change in the database (and stays after a newer
 * snapshot); until then it is out, as in a rebuild. */
static int has_hash(vouch_index *idx, const uint8_t *h) {
  vouch_search_opts so = {.radius = 0, .engine = VOUCH_ENGINE_AUTO, .threads = 1};
  vouch_match *m = NULL;
  size_t nm = 0;
  if (vouch_index_search(idx, h, 1, 1, &so, &m, &nm) != VOUCH_OK) return -1;
  vouch_matches_free(m);
  return nm > 0;
}

static void test_follow_disable_until(void) {
  vouch_bank *db = NULL;
  REQUIRE(vouch_bank_open(&db, uri, 0) == VOUCH_OK);
  REQUIRE(vouch_bank_create(db, "t", VOUCH_ALGO_PDQ) == VOUCH_OK);
  unsigned serial = 5000;
  REQUIRE(import_some(db, "t", 60, &serial) == VOUCH_OK);
  uint8_t h[32];
  memcpy(h, hashes[nh - 1], 32);
  char hx[65];
  hex(h, hx);
  const int64_t until = (int64_t)time(NULL) + 3;
  size_t changed = 0;
  REQUIRE(vouch_bank_entry_disable_until(db, "t", VOUCH_SELECT_HASH, hx, until, &changed) == VOUCH_OK);
  REQUIRE(changed >= 1);
  vouch_follow *f = NULL;
  REQUIRE(vouch_follow_new(&f, 0) == VOUCH_OK);
  int64_t s0 = -1;
  vouch_index *snap = open_snapshot(db, &s0, "u0.vidx");
  REQUIRE(snap != NULL);
  REQUIRE(vouch_follow_set_snapshot(f, snap, s0) == VOUCH_OK);
  unsigned st = 0;
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_OK);
  vouch_index *live = NULL;
  REQUIRE(vouch_follow_index(f, &live) == VOUCH_OK);
  CHECK_EQ_INT(has_hash(live, h), 0);
  vouch_index_free(live);
  check_equals_rebuild(db, f, 20);
  while ((int64_t)time(NULL) <= until) usleep(100000);
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, VOUCH_FOLLOW_CHANGED);
  REQUIRE(vouch_follow_index(f, &live) == VOUCH_OK);
  CHECK_EQ_INT(has_hash(live, h), 1);
  vouch_index_free(live);
  check_equals_rebuild(db, f, 21);
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_OK); /* read once */
  CHECK_EQ_INT(st, 0);
  /* a snapshot built before the time passed: the record outlives it */
  snap = NULL;
  char p[128];
  snprintf(p, sizeof p, "%s/u0.vidx", dir);
  REQUIRE(vouch_index_open(&snap, p, NULL) == VOUCH_OK);
  REQUIRE(vouch_follow_set_snapshot(f, snap, s0) == VOUCH_OK);
  REQUIRE(vouch_follow_index(f, &live) == VOUCH_OK);
  CHECK_EQ_INT(has_hash(live, h), 1);
  vouch_index_free(live);
  check_equals_rebuild(db, f, 22);
  vouch_follow_free(f);
  vouch_bank_free(db);
}

static int file_equal(const char *a, const char *b) {
  FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
  int eq = x && y;
  while (eq) {
    int c = fgetc(x), d = fgetc(y);
    if (c != d) eq = 0;
    if (c == EOF || d == EOF) break;
  }
  if (x) fclose(x);
  if (y) fclose(y);
  return eq;
}

static void test_snapshots_published(void) {
  vouch_bank *db = NULL;
  REQUIRE(vouch_bank_open(&db, uri, 0) == VOUCH_OK);
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  int64_t seq = 0, bytes = 0;
  int stored = 0;
  CHECK_EQ_INT(vouch_bank_snapshot_latest(db, root, &seq, &bytes, &stored), VOUCH_E_NOT_FOUND);
  char p[128], q[128], r[128];
  snprintf(p, sizeof p, "%s/pub.vidx", dir);
  snprintf(q, sizeof q, "%s/fetched.vidx", dir);
  snprintf(r, sizeof r, "%s/pub2.vidx", dir);
  uint8_t built[VOUCH_MERKLE_HASH_BYTES];
  int64_t s = 0;
  REQUIRE(vouch_bank_build_index_seq(db, NULL, 0, p, built, NULL, &s) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_publish(db, p, s, 1, 2) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_publish(db, p, s, 1, 2) == VOUCH_OK); /* again: nothing new */
  REQUIRE(vouch_bank_snapshot_latest(db, root, &seq, &bytes, &stored) == VOUCH_OK);
  CHECK(!memcmp(root, built, sizeof root));
  CHECK_EQ_INT(seq, s);
  CHECK(bytes > 0);
  CHECK_EQ_INT(stored, 1);
  REQUIRE(vouch_bank_snapshot_fetch(db, root, q) == VOUCH_OK);
  CHECK(file_equal(p, q));
  /* a newer one without its bytes (a shared directory holds them) */
  unsigned serial = 9000;
  REQUIRE(import_some(db, "a", 5, &serial) == VOUCH_OK);
  REQUIRE(vouch_bank_build_index_seq(db, NULL, 0, r, built, NULL, &s) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_publish(db, r, s, 0, 1) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_latest(db, root, &seq, &bytes, &stored) == VOUCH_OK);
  CHECK(!memcmp(root, built, sizeof root));
  CHECK_EQ_INT(stored, 0);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch(db, root, q), VOUCH_E_NOT_FOUND);
  CHECK(file_equal(p, q)); /* the earlier fetch is untouched */
  /* a root nobody published */
  root[0] ^= 1;
  CHECK_EQ_INT(vouch_bank_snapshot_fetch(db, root, q), VOUCH_E_NOT_FOUND);
  /* retention: the publish with keep 1 kept the first one (its successor is
   * not VOUCH_SNAPSHOT_MIN_AGE old); a third one, then pruning */
  REQUIRE(import_some(db, "a", 3, &serial) == VOUCH_OK);
  REQUIRE(vouch_bank_build_index_seq(db, NULL, 0, r, built, NULL, &s) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_publish(db, r, s, 1, 1) == VOUCH_OK);
  size_t gone = 99;
  CHECK_EQ_INT(vouch_bank_snapshot_prune(db, 1, 3600, &gone), VOUCH_OK);
  CHECK_EQ_INT((int)gone, 0);
  CHECK_EQ_INT(vouch_bank_snapshot_prune(db, 2, 0, &gone), VOUCH_OK); /* the oldest of three */
  CHECK_EQ_INT((int)gone, 1);
  CHECK_EQ_INT(vouch_bank_snapshot_prune(db, 0, 0, &gone), VOUCH_OK); /* keep 0 = 1 */
  CHECK_EQ_INT((int)gone, 1);
  REQUIRE(vouch_bank_snapshot_latest(db, root, &seq, &bytes, &stored) == VOUCH_OK);
  CHECK(!memcmp(root, built, sizeof root)); /* the newest stays, with its bytes */
  CHECK_EQ_INT(stored, 1);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch(db, root, q), VOUCH_OK);
  CHECK(file_equal(r, q));
  /* an empty bank: the same entries, so the same root, in another file of a later change: it replaces
   * the published one (row and chunks) */
  uint8_t before[VOUCH_MERKLE_HASH_BYTES];
  memcpy(before, root, sizeof before);
  char r2[128];
  snprintf(r2, sizeof r2, "%s/pub3.vidx", dir);
  REQUIRE(vouch_bank_create(db, "empty", VOUCH_ALGO_PDQ) == VOUCH_OK);
  int64_t s2 = 0;
  REQUIRE(vouch_bank_build_index_seq(db, NULL, 0, r2, built, NULL, &s2) == VOUCH_OK);
  CHECK(!memcmp(built, before, sizeof built));
  CHECK(!file_equal(r, r2));
  REQUIRE(vouch_bank_snapshot_publish(db, r2, s2, 1, 2) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_latest(db, root, &seq, &bytes, &stored) == VOUCH_OK);
  CHECK(!memcmp(root, before, sizeof root));
  CHECK_EQ_INT(seq, s2);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch(db, root, q), VOUCH_OK);
  CHECK(file_equal(r2, q));
  REQUIRE(vouch_bank_snapshot_publish(db, r, s, 1, 2) == VOUCH_OK); /* the older file does not come back */
  REQUIRE(vouch_bank_snapshot_latest(db, root, &seq, &bytes, &stored) == VOUCH_OK);
  CHECK_EQ_INT(seq, s2);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch(db, root, q), VOUCH_OK);
  CHECK(file_equal(r2, q));
  vouch_bank_free(db);
  /* SQLite: not supported */
  char sq[128];
  snprintf(sq, sizeof sq, "%s/x.sqlite", dir);
  REQUIRE(vouch_bank_open(&db, sq, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  unsigned st = 0;
  vouch_follow *f = NULL;
  REQUIRE(vouch_follow_new(&f, 0) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(f, db, &st), VOUCH_E_UNSUPPORTED);
  CHECK_EQ_INT(vouch_bank_snapshot_latest(db, root, NULL, NULL, NULL), VOUCH_E_UNSUPPORTED);
  CHECK_EQ_INT(vouch_bank_snapshot_prune(db, 1, 0, NULL), VOUCH_E_UNSUPPORTED);
  vouch_follow_free(f);
  vouch_bank_free(db);
}

/* md5 entries of `n` random digests into bank `bank`. */
static int import_md5(vouch_bank *db, const char *bank, unsigned n) {
  char text[64 * 40];
  size_t len = 0;
  for (unsigned i = 0; i < n && i < 60; i++) {
    for (int j = 0; j < 16; j++) len += (size_t)snprintf(text + len, sizeof text - len, "%02x", (unsigned)(rnd() >> 56));
    len += (size_t)snprintf(text + len, sizeof text - len, "\n");
  }
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  o.list.algo = VOUCH_ALGO_MD5;
  return vouch_bank_import(db, bank, text, len, &o, NULL);
}

/* One follower per algorithm of a database of pdq and md5 banks: each sees
 * only its banks' changes, answers as a rebuild of its algorithm's index;
 * snapshots are published and found per algorithm. */
static void test_follow_per_algo(void) {
  vouch_bank *db = NULL;
  REQUIRE(vouch_bank_open(&db, uri, 0) == VOUCH_OK);
  REQUIRE(vouch_bank_create(db, "m", VOUCH_ALGO_MD5) == VOUCH_OK);
  REQUIRE(import_md5(db, "m", 20) == VOUCH_OK);
  vouch_follow *fp = NULL, *fm = NULL;
  CHECK_EQ_INT(vouch_follow_new_algo(&fp, 0, 77), VOUCH_E_INVALID);
  REQUIRE(vouch_follow_new_algo(&fp, 0, VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_follow_new_algo(&fm, 0, VOUCH_ALGO_MD5) == VOUCH_OK);
  char pp[128], pm[128];
  snprintf(pp, sizeof pp, "%s/algo-pdq.vidx", dir);
  snprintf(pm, sizeof pm, "%s/algo-md5.vidx", dir);
  int64_t sp = -1, sm = -1;
  uint8_t rp[VOUCH_MERKLE_HASH_BYTES], rm[VOUCH_MERKLE_HASH_BYTES];
  REQUIRE(vouch_bank_build_index_algo(db, VOUCH_ALGO_PDQ, pp, rp, NULL, &sp) == VOUCH_OK);
  REQUIRE(vouch_bank_build_index_algo(db, VOUCH_ALGO_MD5, pm, rm, NULL, &sm) == VOUCH_OK);
  CHECK(sp >= 0 && sm == sp); /* nothing changed in between */
  vouch_index *ip = NULL, *im = NULL;
  REQUIRE(vouch_index_open(&ip, pp, NULL) == VOUCH_OK && vouch_index_open(&im, pm, NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_index_algo(im), VOUCH_ALGO_MD5);
  CHECK_EQ_INT((int)vouch_index_count(im), 20);
  REQUIRE(vouch_follow_set_snapshot(fp, ip, sp) == VOUCH_OK);
  REQUIRE(vouch_follow_set_snapshot(fm, im, sm) == VOUCH_OK);
  /* a first poll: it reads again the entries whose disable-until time has
   * passed (earlier tests on this database left some in pdq banks) */
  unsigned st = 0;
  REQUIRE(vouch_follow_poll(fp, db, &st) == VOUCH_OK && vouch_follow_poll(fm, db, &st) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_delta_entries(fm), 0);
  const size_t dp = vouch_follow_delta_entries(fp);
  /* md5 entries: the md5 follower changes, the pdq one only moves its counter */
  REQUIRE(import_md5(db, "m", 7) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(fp, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, 0);
  CHECK(vouch_follow_seq(fp) > sp);
  CHECK_EQ_INT(vouch_follow_delta_entries(fp), dp);
  CHECK_EQ_INT(vouch_follow_poll(fm, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, VOUCH_FOLLOW_CHANGED);
  CHECK_EQ_INT(vouch_follow_delta_entries(fm), 7);
  vouch_index *live = NULL;
  REQUIRE(vouch_follow_index(fm, &live) == VOUCH_OK);
  CHECK_EQ_INT((int)vouch_index_count(live), 27);
  vouch_index_free(live);
  /* pdq entries: the other way round */
  unsigned serial = 20000;
  REQUIRE(import_some(db, "a", 25, &serial) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(fm, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, 0);
  CHECK_EQ_INT(vouch_follow_delta_entries(fm), 7);
  CHECK_EQ_INT(vouch_follow_poll(fp, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, VOUCH_FOLLOW_CHANGED);
  check_equals_rebuild_algo(db, fp, 20, VOUCH_ALGO_PDQ);
  CHECK_EQ_INT(vouch_follow_seq(fm), vouch_follow_seq(fp));
  /* a bank-level change asks only its algorithm's follower for a snapshot */
  REQUIRE(vouch_bank_create(db, "s1", VOUCH_ALGO_SHA1) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(fp, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, 0);
  CHECK_EQ_INT(vouch_follow_poll(fm, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, 0);
  REQUIRE(vouch_bank_set_enabled(db, "m", 0) == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(fp, db, &st), VOUCH_OK);
  CHECK_EQ_INT(st, 0);
  CHECK_EQ_INT(vouch_follow_seq(fp), vouch_follow_seq(fm) + 1); /* the pdq index is current to the md5 change too */
  CHECK_EQ_INT(vouch_follow_poll(fm, db, &st), VOUCH_OK);
  CHECK(st & VOUCH_FOLLOW_NEED_SNAPSHOT);
  REQUIRE(vouch_bank_set_enabled(db, "m", 1) == VOUCH_OK);
  /* an entry of a pdq bank deleted: the pdq follower's */
  REQUIRE(vouch_bank_create(db, "gone", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(import_some(db, "gone", 3, &serial) == VOUCH_OK);
  REQUIRE(vouch_follow_poll(fp, db, &st) == VOUCH_OK);
  CHECK(st & VOUCH_FOLLOW_NEED_SNAPSHOT); /* a pdq bank created */
  int64_t sp2 = -1;
  char pp2[128];
  snprintf(pp2, sizeof pp2, "%s/algo-pdq2.vidx", dir);
  REQUIRE(vouch_bank_build_index_algo(db, VOUCH_ALGO_PDQ, pp2, NULL, NULL, &sp2) == VOUCH_OK);
  vouch_index *ip2 = NULL;
  REQUIRE(vouch_index_open(&ip2, pp2, NULL) == VOUCH_OK);
  REQUIRE(vouch_follow_set_snapshot(fp, ip2, sp2) == VOUCH_OK);
  REQUIRE(vouch_follow_poll(fp, db, &st) == VOUCH_OK);
  CHECK_EQ_INT(st, 0);
  REQUIRE(vouch_bank_remove(db, "gone") == VOUCH_OK);
  CHECK_EQ_INT(vouch_follow_poll(fp, db, &st), VOUCH_OK);
  CHECK(st & VOUCH_FOLLOW_NEED_SNAPSHOT);
  /* snapshots per algorithm: each finds its own, the all-banks one is untouched */
  uint8_t before[VOUCH_MERKLE_HASH_BYTES], root[VOUCH_MERKLE_HASH_BYTES];
  int64_t seq = 0, bytes = 0;
  int stored = 0;
  REQUIRE(vouch_bank_snapshot_latest(db, before, NULL, NULL, NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_snapshot_latest_algo(db, VOUCH_ALGO_MD5, root, &seq, NULL, NULL), VOUCH_E_NOT_FOUND);
  REQUIRE(vouch_bank_snapshot_publish_algo(db, VOUCH_ALGO_PDQ, pp, sp, 1, 1) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_publish_algo(db, VOUCH_ALGO_MD5, pm, sm, 1, 1) == VOUCH_OK);
  CHECK(!memcmp(rp, before, sizeof rp)); /* the pdq banks' index is the all-banks one: one root, two snapshots */
  REQUIRE(vouch_bank_snapshot_latest_algo(db, VOUCH_ALGO_PDQ, root, &seq, &bytes, &stored) == VOUCH_OK);
  CHECK(!memcmp(root, rp, sizeof root) && seq == sp && stored == 1);
  REQUIRE(vouch_bank_snapshot_latest_algo(db, VOUCH_ALGO_MD5, root, &seq, &bytes, &stored) == VOUCH_OK);
  CHECK(!memcmp(root, rm, sizeof root) && seq == sm && stored == 1);
  REQUIRE(vouch_bank_snapshot_latest(db, root, NULL, NULL, NULL) == VOUCH_OK);
  CHECK(!memcmp(root, before, sizeof root));
  /* a newer md5 snapshot with keep 1 drops the older md5 one only */
  char pm2[128];
  snprintf(pm2, sizeof pm2, "%s/algo-md5b.vidx", dir);
  uint8_t rm2[VOUCH_MERKLE_HASH_BYTES];
  int64_t sm2 = -1;
  REQUIRE(vouch_bank_build_index_algo(db, VOUCH_ALGO_MD5, pm2, rm2, NULL, &sm2) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_publish_algo(db, VOUCH_ALGO_MD5, pm2, sm2, 1, 1) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_latest_algo(db, VOUCH_ALGO_MD5, root, &seq, NULL, NULL) == VOUCH_OK);
  CHECK(!memcmp(root, rm2, sizeof root) && seq == sm2);
  /* the superseded md5 snapshot stays VOUCH_SNAPSHOT_MIN_AGE seconds (a fetch may be reading it); pruned
   * without that wait it goes, and only it: each algorithm keeps its own newest */
  REQUIRE(vouch_bank_snapshot_fetch_algo(db, VOUCH_ALGO_MD5, rm, pm) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_prune(db, 1, 0, NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch_algo(db, VOUCH_ALGO_MD5, rm, pm), VOUCH_E_NOT_FOUND); /* deleted */
  REQUIRE(vouch_bank_snapshot_fetch_algo(db, VOUCH_ALGO_MD5, rm2, pm) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_latest(db, root, NULL, NULL, NULL) == VOUCH_OK); /* the all-banks one too */
  REQUIRE(vouch_bank_snapshot_fetch_algo(db, VOUCH_ALGO_PDQ, rp, pm) == VOUCH_OK); /* fetched back */
  CHECK(file_equal(pp, pm));
  REQUIRE(vouch_bank_snapshot_latest_algo(db, VOUCH_ALGO_PDQ, root, &seq, NULL, NULL) == VOUCH_OK);
  CHECK(!memcmp(root, rp, sizeof root));
  vouch_follow_free(fp);
  vouch_follow_free(fm);
  vouch_bank_free(db);
}

/* Runs one SQL statement on the test database with psql; 0 on success. */
static int psql(const char *sql) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s/psql' -h '%s' -p '%s' -U vouch -d vt_follow -X -q -At -v ON_ERROR_STOP=1 -c \"%s\" >/dev/null",
           pg_bin, pg_host, pg_port, sql);
  return system(cmd);
}

/* Files in directory `d` (., .. aside). */
static int count_files(const char *d) {
  DIR *x = opendir(d);
  int n = 0;
  for (struct dirent *e; x && (e = readdir(x));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  if (x) closedir(x);
  return x ? n : -1;
}

/* A snapshot of several chunks damaged or cut mid-stream: both fetches fail
 * (VOUCH_E_DB_CORRUPT) and leave no file, neither the target nor a temp
 * file; repaired, both fetch it back, fetch_open with the published root. */
static void test_fetch_damaged(void) {
  const size_t n = 40000; /* about 2.4 MB: 3 chunks of 1 MiB */
  uint8_t *h = malloc(n * 32);
  char *ids = malloc(n * 12);
  vouch_index_input *in = malloc(n * sizeof *in);
  REQUIRE(h && ids && in);
  for (size_t i = 0; i < n * 32; i++) h[i] = (uint8_t)rnd();
  for (size_t i = 0; i < n; i++) {
    snprintf(ids + 12 * i, 12, "d%u", (unsigned)i);
    in[i] = (vouch_index_input){h + 32 * i, 0, i + 1, ids + 12 * i, NULL};
  }
  char src[128], out_dir[128], out[192], err[256];
  snprintf(src, sizeof src, "%s/big.vidx", dir);
  snprintf(out_dir, sizeof out_dir, "%s/fetchdir", dir);
  snprintf(out, sizeof out, "%s/got.vidx", out_dir);
  REQUIRE(mkdir(out_dir, 0700) == 0);
  const char *banks[1] = {"big"};
  REQUIRE(vouch_index_write(src, VOUCH_ALGO_PDQ, banks, 1, in, n, NULL, err, sizeof err) == VOUCH_OK);
  free(h);
  free(ids);
  free(in);
  vouch_bank *db = NULL;
  REQUIRE(vouch_bank_open(&db, uri, 0) == VOUCH_OK);
  REQUIRE(vouch_bank_snapshot_publish_algo(db, VOUCH_ALGO_PDQ, src, 1000000, 1, 2) == VOUCH_OK);
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  REQUIRE(vouch_bank_snapshot_latest_algo(db, VOUCH_ALGO_PDQ, root, NULL, NULL, NULL) == VOUCH_OK);
  REQUIRE(psql("SELECT 1 FROM vouch_snapshot_chunks WHERE algo = 'pdq' AND n = 2") == 0);
  const vouch_index_config cfg = vouch_index_config_default();
  static char marker;
  vouch_index *idx = (vouch_index *)(void *)&marker; /* must come back NULL on failure */
  /* one byte of the middle chunk flipped */
  const char *flip = "UPDATE vouch_snapshot_chunks SET data = set_byte(data, 777, get_byte(data, 777) # 1)"
                     " WHERE algo = 'pdq' AND n = 1";
  REQUIRE(psql(flip) == 0);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch_algo(db, VOUCH_ALGO_PDQ, root, out), VOUCH_E_DB_CORRUPT);
  CHECK_EQ_INT(count_files(out_dir), 0);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch_open_algo(db, VOUCH_ALGO_PDQ, root, out, &cfg, &idx), VOUCH_E_DB_CORRUPT);
  CHECK(idx == NULL);
  CHECK_EQ_INT(count_files(out_dir), 0);
  REQUIRE(psql(flip) == 0); /* flipped back */
  REQUIRE(vouch_bank_snapshot_fetch_open_algo(db, VOUCH_ALGO_PDQ, root, out, &cfg, &idx) == VOUCH_OK);
  CHECK(!memcmp(vouch_index_root(idx), root, sizeof root));
  CHECK_EQ_INT((int)vouch_index_count(idx), (int)n);
  CHECK(file_equal(src, out));
  vouch_index_free(idx);
  CHECK_EQ_INT(count_files(out_dir), 1);
  REQUIRE(unlink(out) == 0);
  /* the middle chunk missing: a file cut short (the chunks after it are never read) */
  REQUIRE(psql("DELETE FROM vouch_snapshot_chunks WHERE algo = 'pdq' AND n = 1") == 0);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch_algo(db, VOUCH_ALGO_PDQ, root, out), VOUCH_E_DB_CORRUPT);
  idx = (vouch_index *)(void *)&marker;
  CHECK_EQ_INT(vouch_bank_snapshot_fetch_open_algo(db, VOUCH_ALGO_PDQ, root, out, &cfg, &idx), VOUCH_E_DB_CORRUPT);
  CHECK(idx == NULL);
  CHECK_EQ_INT(count_files(out_dir), 0);
  /* the last chunk missing */
  REQUIRE(psql("DELETE FROM vouch_snapshot_chunks WHERE algo = 'pdq' AND n = 2") == 0);
  REQUIRE(vouch_bank_snapshot_publish_algo(db, VOUCH_ALGO_PDQ, src, 1000001, 1, 2) == VOUCH_OK); /* stored again */
  REQUIRE(psql("DELETE FROM vouch_snapshot_chunks WHERE algo = 'pdq' AND n = 2") == 0);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch_open_algo(db, VOUCH_ALGO_PDQ, root, out, &cfg, &idx), VOUCH_E_DB_CORRUPT);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch_algo(db, VOUCH_ALGO_PDQ, root, out), VOUCH_E_DB_CORRUPT);
  CHECK_EQ_INT(count_files(out_dir), 0);
  CHECK_EQ_INT(vouch_bank_snapshot_fetch_open_algo(db, VOUCH_ALGO_PDQ, root, out, &cfg, NULL), VOUCH_E_INVALID);
  vouch_bank_free(db);
}

int main(void) {
  const char *host = getenv("VOUCH_TEST_PG_HOST"), *port = getenv("VOUCH_TEST_PG_PORT"),
             *bin = getenv("VOUCH_TEST_PG_BIN");
  pg_host = host, pg_port = port, pg_bin = bin;
  if (!host || !*host || !port || !bin) {
    fprintf(stderr, "test_follow: needs VOUCH_TEST_PG_HOST/PORT/BIN (tests/cli/bank_pg.sh): skipped\n");
    return 77;
  }
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s/dropdb' -h '%s' -p '%s' -U vouch --if-exists vt_follow >/dev/null 2>&1; "
           "'%s/createdb' -h '%s' -p '%s' -U vouch vt_follow", bin, host, port, bin, host, port);
  if (system(cmd) != 0) return 1;
  snprintf(uri, sizeof uri, "postgresql:///vt_follow?host=%s&port=%s&user=vouch", host, port);
  snprintf(dir, sizeof dir, "/tmp/vouch-test-follow-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  if (vouch_init() < 0) return 1;
  TT_RUN(test_follow_random);
  TT_RUN(test_follow_disable_until);
  TT_RUN(test_snapshots_published);
  TT_RUN(test_follow_per_algo);
  TT_RUN(test_fetch_damaged);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
  TT_MAIN_END;
}
