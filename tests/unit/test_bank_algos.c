/* tests/unit/test_bank_algos.c -- one index per algorithm of a bank file
 * whose enabled banks hold several (pdq, vpdq, md5): the algorithms listed,
 * each index holding exactly its banks' enabled entries (a vpdq index the
 * unique good frames of its videos), the all-banks build refused, and a
 * disabled bank's algorithm left out of the list. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tinytest.h"
#include "vouch/vouch.h"
#include "vouch/index.h"
#include "vouch/bank.h"
#include "vouch/video.h"

static void fill(uint8_t *h, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) h[i] = (uint8_t)(seed * 37u + i * 11u + (i >> 3));
}

static int import_hex(vouch_bank *b, const char *bank, int algo, const uint8_t *h, const char *id) {
  char line[160];
  const size_t hb = vouch_algo_list_bytes(algo);
  vouch_hash_to_hex(h, hb, line, sizeof line);
  snprintf(line + 2 * hb, sizeof line - 2 * hb, " %s\n", id);
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  o.list.algo = algo;
  o.list.format = VOUCH_LIST_AUTO;
  vouch_import_stats st;
  return vouch_bank_import(b, bank, line, strlen(line), &o, &st);
}

/* The index at path: its algorithm, entry count and first bank name. */
static void check_index(const char *path, int algo, size_t count, const char *bank) {
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_mih = 0;
  vouch_index *idx = NULL;
  CHECK_EQ_INT(vouch_index_open(&idx, path, &cfg), VOUCH_OK);
  if (!idx) return;
  CHECK_EQ_INT(vouch_index_algo(idx), algo);
  CHECK_EQ_INT((int)vouch_index_count(idx), (int)count);
  if (bank) {
    CHECK_EQ_INT((int)vouch_index_bank_count(idx), 1);
    CHECK_EQ_STR(vouch_index_bank_name(idx, 0), bank);
  } else {
    CHECK_EQ_INT((int)vouch_index_bank_count(idx), 0);
  }
  vouch_index_free(idx);
}

static void test_mixed(void) {
  char dir[] = "/tmp/vouch-algos-XXXXXX", db[64], out[64];
  REQUIRE(mkdtemp(dir) != NULL);
  snprintf(db, sizeof db, "%s/b.sqlite", dir);
  snprintf(out, sizeof out, "%s/x.vidx", dir);
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, db, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  int algos[VOUCH_BANK_ALGOS_MAX];
  size_t n = 99;
  /* no banks: no algorithm; an index of one is empty */
  CHECK_EQ_INT(vouch_bank_index_algos(b, algos, VOUCH_BANK_ALGOS_MAX, &n), VOUCH_OK);
  CHECK_EQ_INT((int)n, 0);
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  size_t count = 99;
  int64_t seq = 0;
  CHECK_EQ_INT(vouch_bank_build_index_algo(b, VOUCH_ALGO_MD5, out, root, &count, &seq), VOUCH_OK);
  CHECK_EQ_INT((int)count, 0);
  CHECK(seq == -1); /* SQLite has no change counter */
  check_index(out, VOUCH_ALGO_MD5, 0, NULL);
  CHECK_EQ_INT(vouch_bank_build_index_algo(b, VOUCH_ALGO_NONE, out, root, &count, NULL), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_build_index_algo(b, 77, out, root, &count, NULL), VOUCH_E_INVALID);

  REQUIRE(vouch_bank_create(b, "photos", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "videos", VOUCH_ALGO_VPDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "files", VOUCH_ALGO_MD5) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "off", VOUCH_ALGO_SHA1) == VOUCH_OK);
  uint8_t h[32];
  for (int i = 0; i < 3; i++) {
    char id[16];
    snprintf(id, sizeof id, "p%d", i);
    fill(h, 32, (uint8_t)(i + 1));
    CHECK_EQ_INT(import_hex(b, "photos", VOUCH_ALGO_PDQ, h, id), VOUCH_OK);
  }
  for (int i = 0; i < 2; i++) {
    char id[16];
    snprintf(id, sizeof id, "m%d", i);
    fill(h, 16, (uint8_t)(i + 50));
    CHECK_EQ_INT(import_hex(b, "files", VOUCH_ALGO_MD5, h, id), VOUCH_OK);
  }
  fill(h, 20, 9);
  CHECK_EQ_INT(import_hex(b, "off", VOUCH_ALGO_SHA1, h, "s0"), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_set_enabled(b, "off", 0), VOUCH_OK);
  /* a video of 4 frames: two equal, one of low quality -> 2 unique good frames */
  vouch_vpdq v = {0};
  vouch_vpdq_frame fr[4];
  memset(fr, 0, sizeof fr);
  for (int i = 0; i < 4; i++) {
    fr[i].frame = (uint64_t)i;
    fr[i].quality = i == 3 ? 10 : 100;
    fr[i].seconds = i;
    fill(fr[i].hash, 32, (uint8_t)(i == 1 ? 100 : 100 + i));
  }
  v.frames = fr;
  v.n = v.cap = 4;
  CHECK_EQ_INT(vouch_bank_import_video(b, "videos", &v, "v0", "test", NULL, 0, NULL, NULL), VOUCH_OK);

  /* the algorithms of the enabled banks, in VOUCH_ALGO_* order; the disabled sha1 bank is not one */
  CHECK_EQ_INT(vouch_bank_index_algos(b, algos, VOUCH_BANK_ALGOS_MAX, &n), VOUCH_OK);
  REQUIRE(n == 3);
  CHECK_EQ_INT(algos[0], VOUCH_ALGO_PDQ);
  CHECK_EQ_INT(algos[1], VOUCH_ALGO_VPDQ);
  CHECK_EQ_INT(algos[2], VOUCH_ALGO_MD5);
  size_t n1 = 0;
  CHECK_EQ_INT(vouch_bank_index_algos(b, algos, 1, &n1), VOUCH_OK); /* a short array: the count still */
  CHECK_EQ_INT((int)n1, 3);

  /* the all-banks index of a mixed file is refused, as before */
  CHECK_EQ_INT(vouch_bank_build_index(b, NULL, 0, out, root, &count), VOUCH_E_ALGO_MISMATCH);
  CHECK(strstr(vouch_bank_errmsg(b), "--algo") != NULL);

  CHECK_EQ_INT(vouch_bank_build_index_algo(b, VOUCH_ALGO_PDQ, out, root, &count, NULL), VOUCH_OK);
  CHECK_EQ_INT((int)count, 3);
  check_index(out, VOUCH_ALGO_PDQ, 3, "photos");
  CHECK_EQ_INT(vouch_bank_build_index_algo(b, VOUCH_ALGO_MD5, out, root, &count, NULL), VOUCH_OK);
  CHECK_EQ_INT((int)count, 2);
  check_index(out, VOUCH_ALGO_MD5, 2, "files");
  CHECK_EQ_INT(vouch_bank_build_index_algo(b, VOUCH_ALGO_VPDQ, out, root, &count, NULL), VOUCH_OK);
  CHECK_EQ_INT((int)count, 2); /* frames 0/1 equal, frame 3 below quality 50 */
  check_index(out, VOUCH_ALGO_PDQ, 2, "videos");
  /* a disabled bank's algorithm: an empty index of it */
  CHECK_EQ_INT(vouch_bank_build_index_algo(b, VOUCH_ALGO_SHA1, out, root, &count, NULL), VOUCH_OK);
  CHECK_EQ_INT((int)count, 0);
  check_index(out, VOUCH_ALGO_SHA1, 0, NULL);
  /* the same as the named-bank build of that bank */
  uint8_t root2[VOUCH_MERKLE_HASH_BYTES];
  const char *names[] = {"photos"};
  CHECK_EQ_INT(vouch_bank_build_index_algo(b, VOUCH_ALGO_PDQ, out, root, &count, NULL), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_build_index(b, names, 1, out, root2, &count), VOUCH_OK);
  CHECK(memcmp(root, root2, sizeof root) == 0);
  vouch_bank_free(b);
  unlink(out);
  unlink(db);
  rmdir(dir);
}

int main(void) {
  TT_RUN(test_mixed);
  TT_MAIN_END;
}
