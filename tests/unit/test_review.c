/* tests/unit/test_review.c -- second-hash lists and the review store
 * (vouch/review.h): parsing, verdicts, the queue, append-only decisions,
 * stale pages, views. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "vouch/vouch.h"
#include "vouch/review.h"
#include "common/internal.h" /* vouch__test_fail_allocs_after */
#include "tinytest.h"

static void thumb_pattern(uint8_t *t, unsigned w, unsigned h, unsigned seed) {
  for (unsigned y = 0; y < h; y++)
    for (unsigned x = 0; x < w; x++)
      t[y * w + x] = (uint8_t)(seed == 0 ? (x * 255 / (w - 1)) : ((x / 8 + y / 8) % 2 ? 230 : 20));
}

/* Removes a scratch SQLite file and its WAL companions. */
static void remove_db(const char *path) {
  static const char *const ext[3] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char p[128];
    snprintf(p, sizeof p, "%s%s", path, ext[i]);
    unlink(p);
  }
}

static void hex(const uint8_t *b, size_t n, char *out) { vouch_hash_to_hex(b, n, out, 2 * n + 1); }

/* A line "PDQHEX [QUALITY] SECONDHEX path" for pdq filled with `fill`. */
static void make_line(char *out, size_t cap, uint8_t fill, const uint8_t *second, const char *quality) {
  uint8_t pdq[VOUCH_PDQ_BYTES];
  memset(pdq, fill, sizeof pdq);
  char ph[2 * VOUCH_PDQ_BYTES + 1], sh[2 * VOUCH_DERIV_HASH_BYTES + 1];
  hex(pdq, sizeof pdq, ph);
  hex(second, VOUCH_DERIV_HASH_BYTES, sh);
  snprintf(out, cap, "%s%s%s %s photo.jpg", ph, quality ? " " : "", quality ? quality : "", sh);
}

static void test_parse(void) {
  uint8_t t[32 * 32], sec[VOUCH_DERIV_HASH_BYTES];
  thumb_pattern(t, 32, 32, 0);
  REQUIRE(vouch_derivative_hash(t, 32, 32, sec) == VOUCH_OK);
  char l1[800], l2[800], text[2000];
  make_line(l1, sizeof l1, 0x11, sec, "100");
  make_line(l2, sizeof l2, 0x22, sec, NULL);
  snprintf(text, sizeof text, "# comment\n\n%s\r\n%s", l1, l2); /* CRLF, no final LF */
  vouch_second_list *l = NULL;
  size_t bad = 99;
  CHECK_EQ_INT(vouch_second_list_parse(text, strlen(text), &l, &bad), VOUCH_OK);
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(vouch_second_list_count(l), 2);
  const uint8_t *p = NULL, *s = NULL;
  CHECK(vouch_second_list_get(l, 1, &p, &s) == VOUCH_OK && p[0] == 0x22 && !memcmp(s, sec, sizeof sec));
  CHECK(vouch_second_list_get(l, 2, &p, &s) == VOUCH_E_INVALID);
  vouch_second_list_free(l);

  /* bad lines: reported by number, nothing returned */
  snprintf(text, sizeof text, "%s\nnot a hash\n", l1);
  CHECK_EQ_INT(vouch_second_list_parse(text, strlen(text), &l, &bad), VOUCH_E_HASH_PARSE);
  CHECK(l == NULL);
  CHECK_EQ_INT(bad, 2);
  /* a second hash of another version */
  uint8_t v2[VOUCH_DERIV_HASH_BYTES];
  memcpy(v2, sec, sizeof v2);
  v2[0] = 2;
  make_line(l2, sizeof l2, 0x22, v2, NULL);
  CHECK_EQ_INT(vouch_second_list_parse(l2, strlen(l2), &l, &bad), VOUCH_E_HASH_PARSE);
  CHECK_EQ_INT(bad, 1);
  /* a quality that is not a number */
  make_line(l2, sizeof l2, 0x22, sec, "9x");
  CHECK_EQ_INT(vouch_second_list_parse(l2, strlen(l2), &l, &bad), VOUCH_E_HASH_PARSE);
  /* a NUL inside a line */
  char withnul[800];
  memcpy(withnul, l1, strlen(l1) + 1);
  withnul[10] = 0;
  CHECK_EQ_INT(vouch_second_list_parse(withnul, strlen(l1), &l, &bad), VOUCH_E_HASH_PARSE);
  /* a line over the limit */
  char *big = malloc(VOUCH_SECOND_LINE_MAX + 10);
  REQUIRE(big);
  memset(big, 'a', VOUCH_SECOND_LINE_MAX + 10);
  CHECK_EQ_INT(vouch_second_list_parse(big, VOUCH_SECOND_LINE_MAX + 10, &l, &bad), VOUCH_E_LIMIT);
  free(big);
  /* empty text: an empty list */
  CHECK_EQ_INT(vouch_second_list_parse("", 0, &l, &bad), VOUCH_OK);
  CHECK_EQ_INT(vouch_second_list_count(l), 0);
  vouch_second_list_free(l);
  CHECK_EQ_INT(vouch_second_list_parse(NULL, 0, &l, NULL), VOUCH_OK);
  vouch_second_list_free(l);
  CHECK_EQ_INT(vouch_second_list_parse(NULL, 5, &l, NULL), VOUCH_E_INVALID);
}

static void test_verdict(void) {
  uint8_t t[32 * 32], other[32 * 32], sec[VOUCH_DERIV_HASH_BYTES];
  thumb_pattern(t, 32, 32, 0);
  thumb_pattern(other, 32, 32, 1);
  REQUIRE(vouch_derivative_hash(t, 32, 32, sec) == VOUCH_OK);
  char line[800];
  make_line(line, sizeof line, 0x0f, sec, NULL);
  vouch_second_list *l = NULL;
  REQUIRE(vouch_second_list_parse(line, strlen(line), &l, NULL) == VOUCH_OK);
  vouch_psi_payload p;
  memset(&p, 0, sizeof p);
  p.algo = VOUCH_ALGO_PDQ;
  p.hash_len = VOUCH_PDQ_BYTES;
  memset(p.hash, 0x0f, VOUCH_PDQ_BYTES);
  p.hash[0] ^= 0x07; /* 3 bits away */
  p.thumb_w = p.thumb_h = 32;
  memcpy(p.thumb, t, sizeof t);
  int score = 0;
  size_t entry = 9;
  CHECK_EQ_INT(vouch_second_list_verdict(l, &p, 31, &score, &entry), VOUCH_DERIV_PASS);
  CHECK(score >= VOUCH_DERIV_PASS_MIN);
  CHECK_EQ_INT(entry, 0);
  /* the same PDQ hash on another picture: a suspected forgery */
  memcpy(p.thumb, other, sizeof other);
  CHECK_EQ_INT(vouch_second_list_verdict(l, &p, 31, &score, &entry), VOUCH_DERIV_FAIL);
  CHECK(score >= 0 && score < VOUCH_DERIV_PASS_MIN);
  /* no entry within the radius, no derivative, no list, not PDQ: unknown */
  CHECK_EQ_INT(vouch_second_list_verdict(l, &p, 2, &score, &entry), VOUCH_DERIV_UNKNOWN);
  CHECK_EQ_INT(score, -1);
  CHECK_EQ_INT(entry, SIZE_MAX);
  CHECK_EQ_INT(vouch_second_list_verdict(NULL, &p, 31, &score, NULL), VOUCH_DERIV_UNKNOWN);
  p.thumb_w = p.thumb_h = 0;
  CHECK_EQ_INT(vouch_second_list_verdict(l, &p, 31, &score, NULL), VOUCH_DERIV_UNKNOWN);
  p.thumb_w = p.thumb_h = 32;
  p.algo = VOUCH_ALGO_PHASH;
  CHECK_EQ_INT(vouch_second_list_verdict(l, &p, 31, &score, NULL), VOUCH_DERIV_UNKNOWN);
  vouch_second_list_free(l);
}

typedef struct {
  int n;
  int64_t ids[8], decision_ids[8];
  int decisions[8];
  char notes[8][64];
} seen;

static int on_item(void *ctx, const vouch_review_item *it) {
  seen *s = ctx;
  if (s->n < 8) {
    s->ids[s->n] = it->id;
    s->decision_ids[s->n] = it->decision_id;
    s->decisions[s->n] = it->decision;
    snprintf(s->notes[s->n], sizeof s->notes[0], "%s", it->note ? it->note : "");
  }
  s->n++;
  return 0;
}

static int on_decision(void *ctx, const vouch_review_decision *d) {
  seen *s = ctx;
  if (s->n < 8) {
    s->ids[s->n] = d->id;
    s->decisions[s->n] = d->decision;
    snprintf(s->notes[s->n], sizeof s->notes[0], "%s|%s|%lld", d->reviewer, d->note, (long long)d->supersedes);
  }
  s->n++;
  return 0;
}

static int on_reviewer(void *ctx, const char *name, int64_t created_at) {
  seen *s = ctx;
  if (s->n < 8) snprintf(s->notes[s->n], sizeof s->notes[0], "%s", name);
  s->n += created_at > 0;
  return 0;
}

/* The store's checks on one database: an SQLite file or (pg) a fresh
 * PostgreSQL database, where the raw-SQL trigger checks are the caller's. */
static void store_checks(const char *path, int pg) {
  vouch_review *rv = NULL;
  REQUIRE(vouch_review_open(&rv, path) == VOUCH_OK);
  /* reviewers: a name and a token's SHA-256 */
  uint8_t h1[32], h2[32];
  memset(h1, 0x11, sizeof h1);
  memset(h2, 0x22, sizeof h2);
  char who[64];
  CHECK_EQ_INT(vouch_review_reviewer_add(rv, "rita", h1), VOUCH_OK);
  CHECK_EQ_INT(vouch_review_reviewer_add(rv, "rita", h2), VOUCH_E_EXISTS);
  CHECK_EQ_INT(vouch_review_reviewer_add(rv, "sam", h1), VOUCH_E_EXISTS);
  CHECK_EQ_INT(vouch_review_reviewer_add(rv, "", h2), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_review_reviewer_add(rv, "sam", h2), VOUCH_OK);
  CHECK_EQ_INT(vouch_review_reviewer_find(rv, h2, who, sizeof who), VOUCH_OK);
  CHECK_EQ_STR(who, "sam");
  seen rs = {0};
  CHECK_EQ_INT(vouch_review_reviewers(rv, on_reviewer, &rs), VOUCH_OK);
  CHECK(rs.n == 2 && !strcmp(rs.notes[0], "rita") && !strcmp(rs.notes[1], "sam"));
  CHECK_EQ_INT(vouch_review_reviewer_remove(rv, "sam"), VOUCH_OK);
  CHECK_EQ_INT(vouch_review_reviewer_remove(rv, "sam"), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(vouch_review_reviewer_find(rv, h2, who, sizeof who), VOUCH_E_NOT_FOUND);
  CHECK_EQ_STR(who, "");
  uint8_t thumb[16 * 8];
  thumb_pattern(thumb, 16, 8, 1);
  vouch_review_item it;
  memset(&it, 0, sizeof it);
  it.account = "alice";
  it.algo = VOUCH_ALGO_PDQ;
  it.hash_len = VOUCH_PDQ_BYTES;
  memset(it.hash, 0xaa, VOUCH_PDQ_BYTES);
  it.thumb_w = 16;
  it.thumb_h = 8;
  it.thumb = thumb;
  it.verdict = VOUCH_DERIV_PASS;
  it.score = 950;
  it.bank = "ncmec";
  it.entry_id = "E1";
  it.source = "src-a";
  it.distance = 3;
  int added = -1;
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK);
  CHECK_EQ_INT(added, 1);
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK); /* same account and hash: once */
  CHECK_EQ_INT(added, 0);
  it.hash[0] = 0xbb; /* a second match, a suspected forgery */
  it.verdict = VOUCH_DERIV_FAIL;
  it.score = 120;
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK);
  it.hash[0] = 0xcc; /* a third, no second hash known */
  it.verdict = VOUCH_DERIV_UNKNOWN;
  it.score = -1;
  it.bank = it.entry_id = it.source = NULL;
  it.distance = -1;
  it.thumb_w = it.thumb_h = 0;
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK);
  it.account = "";
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_E_INVALID);

  seen s = {0};
  CHECK_EQ_INT(vouch_review_items(rv, NULL, 0, on_item, &s), VOUCH_OK);
  CHECK_EQ_INT(s.n, 2); /* the forgery is hidden */
  const int64_t a = s.ids[0], c = s.ids[1];
  memset(&s, 0, sizeof s);
  CHECK_EQ_INT(vouch_review_items(rv, "alice", VOUCH_REVIEW_WITH_FAILED, on_item, &s), VOUCH_OK);
  CHECK_EQ_INT(s.n, 3);
  const int64_t b = s.ids[1];
  memset(&s, 0, sizeof s);
  CHECK_EQ_INT(vouch_review_items(rv, "bob", 0, on_item, &s), VOUCH_OK);
  CHECK_EQ_INT(s.n, 0);
  size_t nf = 0;
  CHECK_EQ_INT(vouch_review_count_failed(rv, "alice", &nf), VOUCH_OK);
  CHECK_EQ_INT(nf, 1);

  /* decisions: append-only, each names the one it supersedes */
  int64_t d1 = 0, d2 = 0, d3 = 0;
  CHECK_EQ_INT(vouch_review_decide(rv, a, VOUCH_REVIEW_CONFIRM, "rita", "same picture", 0, &d1), VOUCH_OK);
  CHECK(d1 > 0);
  /* a stale page (it saw no decision) cannot overwrite it */
  CHECK_EQ_INT(vouch_review_decide(rv, a, VOUCH_REVIEW_REJECT, "sam", "no", 0, &d2), VOUCH_E_EXISTS);
  CHECK_EQ_INT(d2, 0);
  CHECK_EQ_INT(vouch_review_decide(rv, a, VOUCH_REVIEW_ESCALATE, "sam", "unsure", d1, &d2), VOUCH_OK);
  CHECK(d2 > d1);
  CHECK_EQ_INT(vouch_review_decide(rv, c, VOUCH_REVIEW_REJECT, "rita", NULL, 0, &d3), VOUCH_OK);
  CHECK_EQ_INT(vouch_review_decide(rv, b, VOUCH_REVIEW_CONFIRM, "rita", "", 0, NULL), VOUCH_E_INVALID); /* forgery */
  CHECK_EQ_INT(vouch_review_decide(rv, 999, VOUCH_REVIEW_CONFIRM, "rita", "", 0, NULL), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(vouch_review_decide(rv, a, 7, "rita", "", d2, NULL), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_review_decide(rv, a, VOUCH_REVIEW_CONFIRM, "", "", d2, NULL), VOUCH_E_INVALID);
  char longnote[VOUCH_REVIEW_NOTE_MAX + 1];
  memset(longnote, 'n', sizeof longnote - 1);
  longnote[sizeof longnote - 1] = 0;
  CHECK_EQ_INT(vouch_review_decide(rv, a, VOUCH_REVIEW_CONFIRM, "rita", longnote, d2, NULL), VOUCH_E_INVALID);

  memset(&s, 0, sizeof s);
  CHECK_EQ_INT(vouch_review_items(rv, NULL, 0, on_item, &s), VOUCH_OK);
  CHECK_EQ_INT(s.n, 2);
  CHECK_EQ_INT(s.decision_ids[0], d2); /* the later decision supersedes in the view */
  CHECK_EQ_INT(s.decisions[0], VOUCH_REVIEW_ESCALATE);
  CHECK_EQ_STR(s.notes[0], "unsure");
  CHECK_EQ_INT(s.decisions[1], VOUCH_REVIEW_REJECT);
  memset(&s, 0, sizeof s);
  CHECK_EQ_INT(vouch_review_items(rv, NULL, VOUCH_REVIEW_OPEN_ONLY, on_item, &s), VOUCH_OK);
  CHECK_EQ_INT(s.n, 1); /* escalated stays open; rejected does not */

  memset(&s, 0, sizeof s);
  CHECK_EQ_INT(vouch_review_decisions(rv, "alice", on_decision, &s), VOUCH_OK);
  CHECK_EQ_INT(s.n, 3);
  CHECK_EQ_STR(s.notes[0], "rita|same picture|0");
  char want[64];
  snprintf(want, sizeof want, "sam|unsure|%lld", (long long)d1);
  CHECK_EQ_STR(s.notes[1], want);
  CHECK_EQ_STR(s.notes[2], "rita||0");

  /* views are logged */
  CHECK_EQ_INT(vouch_review_log_view(rv, "rita", a), VOUCH_OK);
  CHECK_EQ_INT(vouch_review_log_view(rv, "sam", a), VOUCH_OK);
  size_t nv = 0;
  CHECK_EQ_INT(vouch_review_views(rv, a, &nv), VOUCH_OK);
  CHECK_EQ_INT(nv, 2);
  CHECK_EQ_INT(vouch_review_views(rv, c, &nv), VOUCH_OK);
  CHECK_EQ_INT(nv, 0);
  const int64_t both[2] = {a, c}, badv[2] = {c, -1};
  CHECK_EQ_INT(vouch_review_log_views(rv, "rita", both, 2), VOUCH_OK);
  CHECK_EQ_INT(vouch_review_log_views(rv, "rita", badv, 2), VOUCH_E_INVALID); /* all or none */
  CHECK_EQ_INT(vouch_review_views(rv, c, &nv), VOUCH_OK);
  CHECK_EQ_INT(nv, 1);
  CHECK_EQ_INT(vouch_review_views(rv, 0, &nv), VOUCH_OK);
  CHECK_EQ_INT(nv, 4);
  vouch_review_free(rv);

  /* the database itself refuses to change or drop a decision or a view */
  if (!pg) {
    sqlite3 *db = NULL;
    REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE review_decisions SET decision = 2", NULL, NULL, NULL) != SQLITE_OK);
    CHECK(sqlite3_exec(db, "DELETE FROM review_decisions", NULL, NULL, NULL) != SQLITE_OK);
    CHECK(sqlite3_exec(db, "DELETE FROM review_views", NULL, NULL, NULL) != SQLITE_OK);
    sqlite3_close(db);
  }

  /* reopening keeps everything */
  REQUIRE(vouch_review_open(&rv, path) == VOUCH_OK);
  memset(&s, 0, sizeof s);
  CHECK_EQ_INT(vouch_review_decisions(rv, NULL, on_decision, &s), VOUCH_OK);
  CHECK_EQ_INT(s.n, 3);

  /* a forgery colliding bit for bit with a genuine photo is queued apart */
  memset(&it, 0, sizeof it);
  it.account = "carol";
  it.algo = VOUCH_ALGO_PDQ;
  it.hash_len = VOUCH_PDQ_BYTES;
  it.thumb_w = 16;
  it.thumb_h = 8;
  it.thumb = thumb;
  it.distance = -1;
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK);
  CHECK_EQ_INT(added, 1);
  uint8_t thumb2[16 * 8];
  thumb_pattern(thumb2, 16, 8, 0);
  it.thumb = thumb2;
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK);
  CHECK_EQ_INT(added, 1);
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK);
  CHECK_EQ_INT(added, 0);
  it.thumb_w = it.thumb_h = 0; /* none, twice: once */
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK);
  CHECK_EQ_INT(added, 1);
  CHECK_EQ_INT(vouch_review_enqueue(rv, &it, &added), VOUCH_OK);
  CHECK_EQ_INT(added, 0);
  memset(&s, 0, sizeof s);
  CHECK_EQ_INT(vouch_review_items(rv, "carol", 0, on_item, &s), VOUCH_OK);
  CHECK_EQ_INT(s.n, 3);

  /* second hashes stored and read back */
  uint8_t t[32 * 32], sec[VOUCH_DERIV_HASH_BYTES];
  thumb_pattern(t, 32, 32, 0);
  REQUIRE(vouch_derivative_hash(t, 32, 32, sec) == VOUCH_OK);
  char l1[800], text[1700];
  make_line(l1, sizeof l1, 0x31, sec, "90");
  make_line(text, sizeof text, 0x32, sec, NULL);
  strcat(text, "\n");
  strcat(text, l1);
  size_t count = 0, bad = 0;
  CHECK_EQ_INT(vouch_review_set_seconds(rv, text, strlen(text), &count, &bad), VOUCH_OK);
  CHECK_EQ_INT(count, 2);
  vouch_second_list *l = NULL;
  CHECK_EQ_INT(vouch_review_seconds(rv, &l), VOUCH_OK);
  CHECK_EQ_INT(vouch_second_list_count(l), 2);
  const uint8_t *p, *q;
  CHECK(vouch_second_list_get(l, 1, &p, &q) == VOUCH_OK && p[0] == 0x31 && !memcmp(q, sec, sizeof sec));
  vouch_second_list_free(l);
  /* a bad list replaces nothing */
  CHECK_EQ_INT(vouch_review_set_seconds(rv, "junk\n", 5, &count, &bad), VOUCH_E_HASH_PARSE);
  CHECK_EQ_INT(bad, 1);
  CHECK_EQ_INT(vouch_review_seconds(rv, &l), VOUCH_OK);
  CHECK_EQ_INT(vouch_second_list_count(l), 2);
  vouch_second_list_free(l);
  vouch_review_free(rv);
}

static void test_store(void) {
  char path[] = "/tmp/vouch_test_review_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  store_checks(path, 0);
  remove_db(path);
  /* an SQLite file that is not a bank is refused, not written to */
  memcpy(path + sizeof path - 7, "XXXXXX", 6);
  REQUIRE((fd = mkstemp(path)) >= 0);
  close(fd);
  sqlite3 *db = NULL;
  REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  vouch_review *rv = NULL;
  CHECK_EQ_INT(vouch_review_open(&rv, path), VOUCH_E_DB_CORRUPT);
  CHECK(strstr(vouch_review_errmsg(rv), "not a vouch bank") != NULL);
  vouch_review_free(rv);
  remove_db(path);
}

/* The same checks on PostgreSQL when tests/cli/review_pg.sh gives a fresh
 * database (VOUCH_TEST_PG_URI); skipped otherwise. */
static void test_store_pg(void) {
  const char *uri = getenv("VOUCH_TEST_PG_URI");
  if (!uri || !*uri) {
    printf("(no VOUCH_TEST_PG_URI: PostgreSQL part skipped) ");
    return;
  }
  store_checks(uri, 1);
}

/* Every allocation of a parse, a store open and an enqueue fails in turn:
 * each gives VOUCH_E_NOMEM (or another clean error) and leaks nothing (ASan). */
static void test_alloc_fail(void) {
  uint8_t t[32 * 32], sec[VOUCH_DERIV_HASH_BYTES];
  thumb_pattern(t, 32, 32, 0);
  REQUIRE(vouch_derivative_hash(t, 32, 32, sec) == VOUCH_OK);
  char text[4000] = "";
  for (int i = 0; i < 4; i++) {
    char line[800];
    make_line(line, sizeof line, (uint8_t)(0x40 + i), sec, NULL);
    strcat(text, line);
    strcat(text, "\n");
  }
  int ok = 0;
  for (long n = 0; n < 50 && !ok; n++) {
    vouch_second_list *l = NULL;
    vouch__test_fail_allocs_after(n);
    int rc = vouch_second_list_parse(text, strlen(text), &l, NULL);
    vouch__test_fail_allocs_after(-1);
    if (rc == VOUCH_OK) {
      ok = 1;
      CHECK_EQ_INT(vouch_second_list_count(l), 4);
    } else {
      CHECK_EQ_INT(rc, VOUCH_E_NOMEM);
      CHECK(l == NULL);
    }
    vouch_second_list_free(l);
  }
  CHECK(ok);
  char path[] = "/tmp/vouch_test_review_af_XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  ok = 0;
  for (long n = 0; n < 50 && !ok; n++) {
    vouch_review *rv = NULL;
    vouch__test_fail_allocs_after(n);
    int rc = vouch_review_open(&rv, path);
    vouch__test_fail_allocs_after(-1);
    if (rc == VOUCH_OK) {
      ok = 1;
      vouch_second_list *l = NULL;
      CHECK_EQ_INT(vouch_review_set_seconds(rv, text, strlen(text), NULL, NULL), VOUCH_OK);
      for (long m = 0; m < 50; m++) {
        vouch__test_fail_allocs_after(m);
        rc = vouch_review_seconds(rv, &l);
        vouch__test_fail_allocs_after(-1);
        if (rc == VOUCH_OK) break;
        CHECK_EQ_INT(rc, VOUCH_E_NOMEM);
        CHECK(l == NULL);
      }
      CHECK_EQ_INT(vouch_second_list_count(l), 4);
      vouch_second_list_free(l);
    } else {
      CHECK_EQ_INT(rc, VOUCH_E_NOMEM);
    }
    vouch_review_free(rv);
  }
  CHECK(ok);
  remove_db(path);
}

/* Signed second hashes: made for one list by its source, refused when
 * tampered, for another list, of another format version or another key. */
static void test_second_signed(void) {
  vouch_audit_secret_key a, b;
  REQUIRE(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "org-a", "US", &a) == VOUCH_OK);
  REQUIRE(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "org-b", "GB", &b) == VOUCH_OK);
  uint8_t hashes[3 * VOUCH_PDQ_BYTES];
  for (size_t i = 0; i < sizeof hashes; i++) hashes[i] = (uint8_t)(i * 29 + 3);
  uint8_t *v1 = NULL, *v2 = NULL, *ss = NULL, *other = NULL;
  size_t n1, n2, ns, no;
  REQUIRE(vouch_audit_list_sign(&a, VOUCH_ALGO_PDQ, 1, "2026-12-01", hashes, 3, &v1, &n1) == VOUCH_OK);
  REQUIRE(vouch_audit_list_sign(&a, VOUCH_ALGO_PDQ, 2, "2026-12-02", hashes, 3, &v2, &n2) == VOUCH_OK);
  vouch_audit_list l1, l2;
  REQUIRE(vouch_audit_list_open(v1, n1, &l1) == VOUCH_OK && vouch_audit_list_open(v2, n2, &l2) == VOUCH_OK);
  /* second hashes for the list's second hash and one hash not in it */
  uint8_t t[32 * 32], sec[VOUCH_DERIV_HASH_BYTES];
  thumb_pattern(t, 32, 32, 1);
  REQUIRE(vouch_derivative_hash(t, 32, 32, sec) == VOUCH_OK);
  char text[1700], line[800];
  make_line(text, sizeof text, 0x77, sec, NULL); /* not in the list */
  strcat(text, "\n");
  char hex[2 * VOUCH_PDQ_BYTES + 1], shex[2 * VOUCH_DERIV_HASH_BYTES + 1];
  vouch_hash_to_hex(l1.hashes + VOUCH_PDQ_BYTES, VOUCH_PDQ_BYTES, hex, sizeof hex);
  vouch_hash_to_hex(sec, VOUCH_DERIV_HASH_BYTES, shex, sizeof shex);
  snprintf(line, sizeof line, "%s 100 %s\n", hex, shex);
  strcat(text, line);
  vouch_second_list *sl = NULL;
  REQUIRE(vouch_second_list_parse(text, strlen(text), &sl, NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_second_signed_make(&a, v1, n1, sl, &ss, &ns), VOUCH_OK);
  CHECK_EQ_INT(vouch_second_signed_make(&b, v1, n1, sl, &other, &no), VOUCH_E_AUDIT_SIGNATURE);
  vouch_second_signed s;
  CHECK_EQ_INT(vouch_second_signed_open(ss, ns, &l1, &s), VOUCH_OK);
  CHECK_EQ_INT(s.count, 1);
  const uint8_t *got = vouch_second_signed_find(&s, l1.hashes + VOUCH_PDQ_BYTES);
  CHECK(got && !memcmp(got, sec, sizeof sec));
  CHECK(vouch_second_signed_find(&s, l1.hashes) == NULL);
  CHECK_EQ_INT(vouch_second_signed_open(ss, ns, &l2, &s), VOUCH_E_AUDIT_POLICY); /* another version */
  for (size_t i = 0; i < ns; i++) { /* every byte matters */
    ss[i] ^= 0x20;
    int rc = vouch_second_signed_open(ss, ns, &l1, &s);
    CHECK(rc != VOUCH_OK);
    ss[i] ^= 0x20;
  }
  CHECK_EQ_INT(vouch_second_signed_open(ss, ns - 1, &l1, &s), VOUCH_E_AUDIT_FORMAT);
  ss[7] = '2';
  CHECK_EQ_INT(vouch_second_signed_open(ss, ns, &l1, &s), VOUCH_E_DB_VERSION);
  ss[7] = '1';
  CHECK_EQ_INT(vouch_second_signed_open(ss, ns, &l1, &s), VOUCH_OK);
  vouch_free(v1);
  vouch_free(v2);
  vouch_free(ss);
  vouch_second_list_free(sl);
  vouch_audit_secret_key_wipe(&a);
  vouch_audit_secret_key_wipe(&b);
}

int main(void) {
  vouch_init();
  TT_RUN(test_parse);
  TT_RUN(test_verdict);
  TT_RUN(test_store);
  TT_RUN(test_store_pg);
  TT_RUN(test_second_signed);
  TT_RUN(test_alloc_fail);
  TT_MAIN_END;
}
