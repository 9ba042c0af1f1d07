/* tests/unit/test_exchange.c -- the exchange formats at the library level:
 * every fixture of tests/fixtures/exchange parsed with format detection,
 * counted by kind (add, delete, skip, low quality) and bad rows, with the
 * page's paging state; signal type names; the quality floor; the shared CSV
 * export line (quoting, measuring); tombstones and checkpoints through the
 * library calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "vouch/vouch.h"
#include "vouch/bank.h"
#include "tinytest.h"

typedef struct counts {
  size_t add, del, skip, lowq, bad;
  char first_tags[128];
} counts;

static int on_item(void *ctx, const vouch_list_item *it) {
  counts *c = ctx;
  switch (it->kind) {
  case VOUCH_ITEM_ADD: c->add++; break;
  case VOUCH_ITEM_DELETE: c->del++; break;
  case VOUCH_ITEM_SKIP: c->skip++; break;
  case VOUCH_ITEM_LOW_QUALITY: c->lowq++; break;
  default: break;
  }
  if (it->kind == VOUCH_ITEM_ADD && !c->first_tags[0] && it->tags)
    snprintf(c->first_tags, sizeof c->first_tags, "%s", it->tags);
  return 0;
}
static int on_error(void *ctx, size_t line, const char *msg) {
  (void)line;
  (void)msg;
  ((counts *)ctx)->bad++;
  return 0;
}

static char *slurp(const char *name, size_t *len) {
  const char *src = getenv("VOUCH_SRC");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/fixtures/exchange/%s", src ? src : ".", name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(1 << 16);
  *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
  fclose(f);
  return buf;
}

static void test_fixtures(void) {
  static const struct {
    const char *file, *signal_type;
    int format;
    size_t add, del, skip, bad;
    const char *checkpoint, *next_prefix, *first_tags;
  } cases[] = {
      {"tx_hash.txt", NULL, VOUCH_LIST_TX, 2, 0, 1, 0, "", "", ""},
      {"tx_rotations.txt", NULL, VOUCH_LIST_TX, 8, 0, 0, 0, "", "", "rotation:rotate90"},
      {"local_file.txt", NULL, VOUCH_LIST_HEX, 3, 0, 2, 2, "", "", ""},
      {"tx_dataset.csv", NULL, VOUCH_LIST_CSV, 3, 0, 2, 1, "", "", "category:POSITIVE_HIT,nudity,adult"},
      {"simple.HASH_PDQ.te", NULL, VOUCH_LIST_TE_STATE, 3, 0, 0, 0, "", "", "media_type_photo,true_positive"},
      {"simple.HASH_MD5.te", "HASH_MD5", VOUCH_LIST_TE_STATE, 0, 0, 2, 0, "", "", ""},
      {"ncmec_page1.xml", NULL, VOUCH_LIST_NCMEC, 2, 0, 2, 1, "2026-11-02T10:00:00Z", "/v2/entries?from=", "category:A1"},
      {"ncmec_page2.xml", NULL, VOUCH_LIST_NCMEC, 1, 2, 0, 0, "2026-11-03T08:00:00Z", "", "category:A2"},
      {"stopncii_page1.json", NULL, VOUCH_LIST_STOPNCII, 2, 0, 1, 0, "1764900000", "cGFnZS0y", ""},
      {"stopncii_page2.json", NULL, VOUCH_LIST_STOPNCII, 1, 1, 0, 1, "1764950000", "", ""},
      {"tat_page1.json", NULL, VOUCH_LIST_TAT, 2, 0, 1, 1, "1764000000.5,31", "http://127.0.0.1/api/hash-list?after=",
       "category:far-right,jpg"},
      {"tat_page2.json", NULL, VOUCH_LIST_TAT, 0, 1, 0, 0, "1764100000.0,32", "", ""},
      {"te_updates_page1.json", NULL, VOUCH_LIST_TE_UPDATES, 2, 1, 1, 1, "1764200003",
       "http://127.0.0.1/v21.0/1234/threat_updates/?limit=500&after=QVFIUa", "media_type_photo,nsfw"},
      {"te_updates_page2.json", NULL, VOUCH_LIST_TE_UPDATES, 1, 1, 0, 0, "1764300001", "", "nsfw"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t len;
    char *data = slurp(cases[i].file, &len);
    REQUIRE(data != NULL);
    counts c;
    memset(&c, 0, sizeof c);
    vouch_list_page pg;
    vouch_list_opts o = {VOUCH_ALGO_PDQ, VOUCH_LIST_AUTO, NULL, cases[i].signal_type, 0, &pg};
    int fmt = -1;
    int rc = vouch_hashlist_parse(data, len, &o, on_item, on_error, &c, &fmt);
    if (fmt != cases[i].format || c.add != cases[i].add || c.del != cases[i].del || c.skip != cases[i].skip ||
        c.bad != cases[i].bad || strcmp(c.first_tags, cases[i].first_tags))
      fprintf(stderr, "  %s: fmt %d add %zu del %zu skip %zu bad %zu tags '%s'\n", cases[i].file, fmt, c.add, c.del,
              c.skip, c.bad, c.first_tags);
    CHECK_EQ_INT(rc, VOUCH_OK);
    CHECK_EQ_INT(fmt, cases[i].format);
    CHECK_EQ_INT(c.add, cases[i].add);
    CHECK_EQ_INT(c.del, cases[i].del);
    CHECK_EQ_INT(c.skip, cases[i].skip);
    CHECK_EQ_INT(c.bad, cases[i].bad);
    CHECK_EQ_STR(c.first_tags, cases[i].first_tags);
    CHECK_EQ_STR(pg.checkpoint, cases[i].checkpoint);
    CHECK(strncmp(pg.next, cases[i].next_prefix, strlen(cases[i].next_prefix)) == 0);
    CHECK_EQ_INT(pg.has_more, cases[i].next_prefix[0] != 0);
    CHECK_EQ_INT(vouch_list_detect(data, len),
                 fmt == VOUCH_LIST_NCMEC || fmt == VOUCH_LIST_STOPNCII || fmt == VOUCH_LIST_TAT ||
                         fmt == VOUCH_LIST_TE_UPDATES
                     ? fmt
                     : VOUCH_LIST_AUTO);
    free(data);
  }
}

static void test_names(void) {
  CHECK_EQ_INT(vouch_signal_type_algo("pdq", 3), VOUCH_ALGO_PDQ);
  CHECK_EQ_INT(vouch_signal_type_algo("HASH_PDQ", 8), VOUCH_ALGO_PDQ);
  CHECK_EQ_INT(vouch_signal_type_algo("ImagePDQ", 8), VOUCH_ALGO_PDQ);
  CHECK_EQ_INT(vouch_signal_type_algo("phash", 5), VOUCH_ALGO_PHASH);
  CHECK_EQ_INT(vouch_signal_type_algo("video_md5", 9), VOUCH_ALGO_MD5);
  CHECK_EQ_INT(vouch_signal_type_algo("HASH_SHA1", 9), VOUCH_ALGO_SHA1);
  CHECK_EQ_INT(vouch_signal_type_algo("sha256", 6), VOUCH_ALGO_SHA256);
  CHECK_EQ_INT(vouch_signal_type_algo("vpdq", 4), VOUCH_ALGO_VPDQ);
  CHECK_EQ_INT(vouch_algo_from_name("md5"), VOUCH_ALGO_NONE); /* not a perceptual hash */
  CHECK_EQ_INT(vouch_signal_type_algo("raw_text", 8), VOUCH_ALGO_NONE);
  CHECK_EQ_INT(vouch_signal_type_algo("frobnicate", 10), -1);
  CHECK_EQ_INT(vouch_signal_type_algo("pdqx", 3), VOUCH_ALGO_PDQ); /* the length bounds the name */
  for (int f = 0; f <= VOUCH_LIST_FORMAT_LAST; f++)
    CHECK_EQ_INT(vouch_list_format_from_name(vouch_list_format_name(f)), f);
  CHECK_EQ_INT(vouch_list_format_from_name("nope"), -1);
  CHECK_EQ_INT(vouch_exchange_type_from_name("te"), VOUCH_LIST_TE_UPDATES);
  CHECK_EQ_INT(vouch_exchange_type_from_name("tat"), VOUCH_LIST_TAT);
  CHECK_EQ_INT(vouch_exchange_type_from_name("csv"), -1);
  CHECK_EQ_STR(vouch_exchange_type_name(VOUCH_LIST_TE_UPDATES), "te");
  CHECK_EQ_STR(vouch_exchange_type_name(VOUCH_LIST_CSV), "unknown");
  CHECK_EQ_STR(vouch_list_format_name(99), "unknown");
}

static void test_quality_floor(void) {
  const char *in = "{\"hash\":\"331241a982f11ec01ee57012853d452fe539a78bc8eff3460b12ae6ead581e57\",\"quality\":49}\n"
                   "{\"hash\":\"9851e4d525f45a8295af4c654a13d22e877994afff2f650458e00e8c64beb012\",\"quality\":50}\n"
                   "{\"hash\":\"d5a262c84495ce11f7cf5a6c53ce530e6970159142ac030c1b901e7842d60baa\"}\n"
                   "{\"hash\":\"9e1b43fd91b9b6a205da31934fa1f5f5e5aefe755353f361c5f6ffa81b8e8d8d\",\"quality\":101}\n";
  static const struct { int min_quality; size_t add, lowq; } cases[] = {{0, 2, 1}, {-1, 3, 0}, {60, 1, 2}, {1, 3, 0}};
  for (size_t i = 0; i < 4; i++) {
    counts c;
    memset(&c, 0, sizeof c);
    vouch_list_opts o = {VOUCH_ALGO_PDQ, VOUCH_LIST_AUTO, NULL, NULL, cases[i].min_quality, NULL};
    CHECK_EQ_INT(vouch_hashlist_parse(in, strlen(in), &o, on_item, on_error, &c, NULL), VOUCH_OK);
    CHECK_EQ_INT(c.add, cases[i].add);
    CHECK_EQ_INT(c.lowq, cases[i].lowq);
    CHECK_EQ_INT(c.bad, 1); /* quality 101 */
  }
  /* a floor only for PDQ */
  counts c;
  memset(&c, 0, sizeof c);
  const char *p64 = "{\"hash\":\"0123456789abcdef\",\"quality\":10}\n";
  vouch_list_opts o = {VOUCH_ALGO_PHASH, VOUCH_LIST_AUTO, NULL, NULL, 0, NULL};
  CHECK_EQ_INT(vouch_hashlist_parse(p64, strlen(p64), &o, on_item, on_error, &c, NULL), VOUCH_OK);
  CHECK_EQ_INT(c.add, 1);
}

static void test_csv_line(void) {
  uint8_t h[32];
  memset(h, 0xab, sizeof h);
  vouch_bank_entry e = {7, h, 32, "id \"1\"", "a,b", NULL, 0, 1700000000, 0, NULL};
  char buf[256];
  const char *want = "abababababababababababababababababababababababababababababababab,\"id \"\"1\"\"\",\"a,b\",,0,"
                     "1700000000,7,\n";
  size_t n = vouch_bank_entry_csv(&e, buf, sizeof buf);
  CHECK_EQ_INT(n, strlen(want));
  CHECK_EQ_STR(buf, want);
  char small[10];
  CHECK_EQ_INT(vouch_bank_entry_csv(&e, small, sizeof small), strlen(want)); /* measures */
  CHECK_EQ_INT(small[9], 0);
  CHECK_EQ_INT(vouch_bank_entry_csv(&e, NULL, 0), strlen(want));
  CHECK_EQ_STR(VOUCH_BANK_CSV_HEADER, "hash,id,sources,tags,enabled,added_at,entry,second_hash\n");
}

typedef struct tomb_count { size_t n, with_hash; } tomb_count;
static int on_tomb(void *ctx, const vouch_bank_tombstone *t) {
  tomb_count *c = ctx;
  c->n++;
  c->with_hash += t->hash != NULL;
  return 0;
}
typedef struct en_count { size_t n, enabled; } en_count;
static int on_entry(void *ctx, const vouch_bank_entry *e) {
  en_count *c = ctx;
  c->n++;
  c->enabled += e->enabled != 0;
  return 0;
}

static void test_tombstones_checkpoints(void) {
  char path[] = "/tmp/vouch-test-exchange-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  unlink(path);
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "s", VOUCH_ALGO_PDQ) == VOUCH_OK);
  const char *pages[] = {"stopncii_page1.json", "stopncii_page2.json", "stopncii_page1.json"};
  const size_t want_disabled[] = {0, 1, 0}, want_reenabled[] = {0, 0, 1}, want_enabled[] = {2, 2, 3};
  for (int i = 0; i < 3; i++) {
    size_t len;
    char *data = slurp(pages[i], &len);
    REQUIRE(data != NULL);
    vouch_import_opts o;
    memset(&o, 0, sizeof o);
    o.source = "stopncii";
    vouch_import_stats st;
    CHECK_EQ_INT(vouch_bank_import(b, "s", data, len, &o, &st), VOUCH_OK);
    CHECK_EQ_INT(st.disabled, want_disabled[i]);
    CHECK_EQ_INT(st.reenabled, want_reenabled[i]);
    en_count ec = {0, 0};
    CHECK_EQ_INT(vouch_bank_entries(b, "s", on_entry, &ec), VOUCH_OK);
    CHECK_EQ_INT(ec.enabled, want_enabled[i]);
    free(data);
  }
  tomb_count tc = {0, 0};
  CHECK_EQ_INT(vouch_bank_tombstones(b, "s", on_tomb, &tc), VOUCH_OK);
  CHECK_EQ_INT(tc.n, 0); /* the re-listing cleared it */
  vouch_list_page pg;
  int64_t at = 0;
  CHECK_EQ_INT(vouch_bank_checkpoint(b, "s", "stopncii", &pg, &at), VOUCH_OK);
  CHECK_EQ_STR(pg.checkpoint, "1764900000");
  CHECK_EQ_STR(pg.next, "cGFnZS0y");
  CHECK(at > 0);
  CHECK_EQ_INT(vouch_bank_checkpoint(b, "s", "other", &pg, NULL), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(vouch_bank_checkpoint(b, "nobank", "stopncii", &pg, NULL), VOUCH_E_NOT_FOUND);
  vouch_bank_free(b);
  unlink(path);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* vouch_exchange_creds_read(): the keys of each type, the mode check, no secret in messages */
static void test_credentials(void) {
  char path[] = "/tmp/vouch-creds-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  const char text[] = "# keys\nsubscription_key=k-secret-1\nfetch_function_key=k-secret-2\n\nheader=X-Extra: 1\n";
  CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
  close(fd);
  char err[256];
  vouch_exchange_creds *c = NULL;
  CHECK_EQ_INT(vouch_exchange_creds_read(&c, path, VOUCH_LIST_STOPNCII, err, sizeof err), VOUCH_OK);
  vouch_exchange_opts o;
  memset(&o, 0, sizeof o);
  vouch_exchange_creds_apply(c, &o);
  CHECK_EQ_INT(o.nheaders, 3);
  if (o.nheaders == 3) {
    CHECK_EQ_STR(o.headers[0], "Ocp-Apim-Subscription-Key: k-secret-1");
    CHECK_EQ_STR(o.headers[1], "x-functions-key: k-secret-2");
    CHECK_EQ_STR(o.headers[2], "X-Extra: 1");
  }
  CHECK(o.userpwd == NULL);
  vouch_exchange_creds_free(c);
  /* a key of another type is refused, naming the key but not its value */
  c = NULL;
  CHECK_EQ_INT(vouch_exchange_creds_read(&c, path, VOUCH_LIST_NCMEC, err, sizeof err), VOUCH_E_INVALID);
  CHECK(c == NULL && strstr(err, "subscription_key") && !strstr(err, "secret"));
  /* others may read it: refused */
  chmod(path, 0640);
  CHECK_EQ_INT(vouch_exchange_creds_read(&c, path, VOUCH_LIST_STOPNCII, err, sizeof err), VOUCH_E_IO);
  CHECK(strstr(err, "readable by other users") != NULL);
  /* ncmec: user and password, both needed */
  write_text(path, "user=u1\npassword=p:w\n");
  chmod(path, 0600);
  CHECK_EQ_INT(vouch_exchange_creds_read(&c, path, VOUCH_LIST_NCMEC, err, sizeof err), VOUCH_OK);
  memset(&o, 0, sizeof o);
  vouch_exchange_creds_apply(c, &o);
  CHECK(o.userpwd && !strcmp(o.userpwd, "u1:p:w") && o.nheaders == 0);
  vouch_exchange_creds_free(c);
  write_text(path, "user=u1\n");
  CHECK_EQ_INT(vouch_exchange_creds_read(&c, path, VOUCH_LIST_NCMEC, err, sizeof err), VOUCH_E_INVALID);
  /* tat: a login for the token exchange, not basic authentication */
  write_text(path, "user=a@b\npassword=p\n");
  CHECK_EQ_INT(vouch_exchange_creds_read(&c, path, VOUCH_LIST_TAT, err, sizeof err), VOUCH_OK);
  memset(&o, 0, sizeof o);
  vouch_exchange_creds_apply(c, &o);
  CHECK(o.login_user && !strcmp(o.login_user, "a@b") && o.login_password && !strcmp(o.login_password, "p"));
  CHECK(o.userpwd == NULL && o.nheaders == 0);
  vouch_exchange_creds_free(c);
  /* te: a bearer token */
  write_text(path, "token=1|t\n");
  CHECK_EQ_INT(vouch_exchange_creds_read(&c, path, VOUCH_LIST_TE_UPDATES, err, sizeof err), VOUCH_OK);
  memset(&o, 0, sizeof o);
  vouch_exchange_creds_apply(c, &o);
  CHECK(o.nheaders == 1 && !strcmp(o.headers[0], "Authorization: Bearer 1|t"));
  vouch_exchange_creds_free(c);
  vouch_exchange_creds_free(NULL);
  unlink(path);
  CHECK_EQ_INT(vouch_exchange_creds_read(&c, path, VOUCH_LIST_TAT, err, sizeof err), VOUCH_E_IO);
}

/* vouch_utf8_valid() known answers, and the parser refusing ids that are not UTF-8 */
#define P1 "9e1b43fd91b9b6a205da31934fa1f5f5e5aefe755353f361c5f6ffa81b8e8d8d"
#define P2 "044d2cc96a1895051936bcaecd954f4612de1bfbbbc4ba50ddb860ca6378c977"
static void test_utf8(void) {
  static const struct {
    const char *s;
    int ok;
  } v[] = {
      {"", 1}, {"plain", 1}, {"caf\xc3\xa9", 1}, {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1},
      {"\xf4\x8f\xbf\xbf", 1},  /* U+10FFFF */
      {"\xed\x9f\xbf", 1},      /* U+D7FF */
      {"\xff", 0}, {"\x80", 0}, {"\xc3", 0}, {"\xc0\xaf", 0}, {"\xc1\xbf", 0}, /* overlong '/' */
      {"\xe0\x80\xaf", 0}, {"\xf0\x80\x80\xaf", 0},                          /* overlong */
      {"\xed\xa0\x80", 0}, {"\xed\xbf\xbf", 0},                                /* surrogates */
      {"\xf4\x90\x80\x80", 0}, {"\xf5\x80\x80\x80", 0},                       /* past U+10FFFF */
      {"a\xe2\x82", 0},                                                        /* cut short */
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    CHECK_EQ_INT(vouch_utf8_valid(v[i].s, strlen(v[i].s)), v[i].ok);
  CHECK_EQ_INT(vouch_utf8_valid(NULL, 0), 1);
  /* a hex list: line 2's id and line 3's CSV source are not UTF-8 */
  char hexlist[300], csv[400];
  snprintf(hexlist, sizeof hexlist, "%s caf\xc3\xa9\n%s bad\xff\n", P1, P2);
  counts c;
  memset(&c, 0, sizeof c);
  vouch_list_opts o = {VOUCH_ALGO_PDQ, VOUCH_LIST_AUTO, NULL, NULL, 0, NULL};
  CHECK_EQ_INT(vouch_hashlist_parse(hexlist, strlen(hexlist), &o, on_item, on_error, &c, NULL), VOUCH_OK);
  CHECK_EQ_INT(c.add, 1);
  CHECK_EQ_INT(c.bad, 1);
  snprintf(csv, sizeof csv, "hash,id,source\n%s,a,org\n%s,b,\xc0\xafx\n", P1, P2);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(vouch_hashlist_parse(csv, strlen(csv), &o, on_item, on_error, &c, NULL), VOUCH_OK);
  CHECK_EQ_INT(c.add, 1);
  CHECK_EQ_INT(c.bad, 1);
}

int main(void) {
  if (vouch_init() < 0) return 1;
  TT_RUN(test_fixtures);
  TT_RUN(test_names);
  TT_RUN(test_quality_floor);
  TT_RUN(test_csv_line);
  TT_RUN(test_tombstones_checkpoints);
  TT_RUN(test_credentials);
  TT_RUN(test_utf8);
  TT_MAIN_END;
}
