/* tests/unit/test_bank.c -- the hash-list parser (table of inputs), import
 * round trips through every format, duplicates and sources, enable/disable,
 * index build from banks, bank files that are not ours, and signed source
 * lists stored in a bank (refusals, versions, provenance, atomicity,
 * migration of version 1 files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include "vouch/vouch.h"
#include "vouch/bank.h"
#include "vouch/index.h"
#include "vouch/audit.h"
#include "vouch/follow.h"
#include <sqlite3.h>
#include "tinytest.h"
#include "common/internal.h" /* vouch__test_fail_allocs_after */

static char tmpdir[64];
static const char *tmp_path(const char *name) {
  static char buf[8][128];
  static int k;
  char *p = buf[k++ % 8];
  snprintf(p, 128, "%s/%s", tmpdir, name);
  return p;
}

/* With VOUCH_TEST_PG_HOST set (tests/cli/bank_pg.sh: a scratch PostgreSQL
 * started by tests/cli/lib/pg_harness.sh), the banks of the tests that do
 * not depend on the SQLite file format live in PostgreSQL databases, one per
 * name, created fresh on first use with createdb from VOUCH_TEST_PG_BIN.
 * (test_signed_lists inspects and damages its bank file with raw SQLite
 * statements, so it stays on SQLite; cli/audit_bank.sh runs the stored-list
 * commands on PostgreSQL.) */
static const char *pg_host(void) {
  const char *h = getenv("VOUCH_TEST_PG_HOST");
  return h && *h ? h : NULL;
}

static int pg_sh(const char *tool, const char *args) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s/%s' -h '%s' -p '%s' -U vouch %s >/dev/null 2>&1", getenv("VOUCH_TEST_PG_BIN"), tool,
           pg_host(), getenv("VOUCH_TEST_PG_PORT"), args);
  return system(cmd);
}

static const char *bank_path(const char *name) {
  if (!pg_host()) return tmp_path(name);
  static char buf[8][512];
  static int k;
  char db[64];
  snprintf(db, sizeof db, "vt_%.*s", (int)strcspn(name, "."), name);
  static char made[32][64];
  static int nmade;
  int seen_before = 0;
  for (int i = 0; i < nmade; i++) seen_before |= !strcmp(made[i], db);
  if (!seen_before && nmade < 32) {
    char args[128];
    snprintf(args, sizeof args, "--if-exists %s", db);
    (void)pg_sh("dropdb", args);
    if (pg_sh("createdb", db) != 0) fprintf(stderr, "createdb %s failed\n", db);
    snprintf(made[nmade++], sizeof made[0], "%s", db);
  }
  char *p = buf[k++ % 8];
  snprintf(p, 512, "postgresql:///%s?host=%s&port=%s&user=vouch", db, pg_host(), getenv("VOUCH_TEST_PG_PORT"));
  return p;
}

#define H1 "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
#define H2 "0000000000000000000000000000000000000000000000000000000000000001"
#define H3 "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"

/* ---- parser: collects what it sees into a text summary ---- */
typedef struct seen {
  char out[4096];
  size_t len;
  size_t bad_lines[16];
  size_t nbad;
} seen;

static int on_item(void *ctx, const vouch_list_item *it) {
  seen *s = ctx;
  char hex[65] = "skip";
  if (it->hash) vouch_hash_to_hex(it->hash, 32, hex, sizeof hex);
  if (it->kind == VOUCH_ITEM_DELETE) memcpy(hex, "del:", 4);
  if (it->kind == VOUCH_ITEM_LOW_QUALITY) memcpy(hex, "lowq", 4);
  s->len += (size_t)snprintf(s->out + s->len, sizeof s->out - s->len, "%zu:%.8s:%s:%s:%s;", it->line,
                             hex, it->ext_id ? it->ext_id : "-", it->source ? it->source : "-",
                             it->tags ? it->tags : "-");
  return 0;
}
static int on_error(void *ctx, size_t line, const char *msg) {
  seen *s = ctx;
  (void)msg;
  if (s->nbad < 16) s->bad_lines[s->nbad] = line;
  s->nbad++;
  return 0;
}

static void test_parser_table(void) {
  static const struct {
    const char *in;
    int format;        /* detected */
    const char *want;  /* items */
    size_t nbad;
    int rc;
    const char *column;
  } cases[] = {
      {H1 "\n" H2 "\n", VOUCH_LIST_HEX, "1:f8f8f0ce:-:-:-;2:00000000:-:-:-;", 0, 0, NULL},
      {"\xEF\xBB\xBF# comment\r\n\r\n" H1 " id7\r\nnot-a-hash\n" H3, VOUCH_LIST_HEX,
       "3:f8f8f0ce:id7:-:-;5:ffffffff:-:-:-;", 1, 0, NULL},
      {"0x" H1 "\n", VOUCH_LIST_HEX, "1:f8f8f0ce:-:-:-;", 0, 0, NULL},
      {H1 "00\n" H1 "\n", VOUCH_LIST_HEX, "2:f8f8f0ce:-:-:-;", 1, 0, NULL},
      {"id,pdq,source,tags\nA1," H1 ",ncmec,\"csam,x\"\nA2,bad,s,\n", VOUCH_LIST_CSV,
       "2:f8f8f0ce:A1:ncmec:csam,x;", 1, 0, NULL},
      {"Signal_Value,signal_id\n\"" H2 "\",\"a \"\"q\"\" b\"\n", VOUCH_LIST_CSV,
       "2:00000000:a \"q\" b:-:-;", 0, 0, NULL},
      {"hash\tid\n" H1 "\tx\n" H2 "\t\n", VOUCH_LIST_TSV, "2:f8f8f0ce:x:-:-;3:00000000:-:-:-;", 0, 0, NULL},
      {"a,b\n1,2\n", VOUCH_LIST_CSV, "", 1, VOUCH_E_HASH_PARSE, NULL},
      {"x,myhash\n1," H1 "\n", VOUCH_LIST_CSV, "2:f8f8f0ce:-:-:-;", 0, 0, "MyHash"},
      {H1 ",e1\n" H2 ",e2\n", VOUCH_LIST_CSV, "1:f8f8f0ce:e1:-:-;2:00000000:e2:-:-;", 0, 0, NULL},
      {"hash,id\n\"" H1 ",x\n", VOUCH_LIST_CSV, "", 1, 0, NULL},
      {"{\"path\":\"/a/b.jpg\",\"algo\":\"pdq\",\"hash\":\"" H1 "\",\"quality\":100}\n"
       "{\"hash\":\"" H2 "\",\"id\":17,\"source\":\"s\",\"tags\":[\"t1\",\"t2\"]}\n"
       "{\"hash\":\"abc\"}\n[1]\n{\"algo\":\"phash\",\"hash\":\"" H1 "\"}\n{bad json\n",
       VOUCH_LIST_JSONL, "1:f8f8f0ce:/a/b.jpg:-:-;2:00000000:17:s:t1,t2;5:skip:-:-:-;", 3, 0, NULL},
      {"", VOUCH_LIST_HEX, "", 0, 0, NULL},
      {"\n\n#x\n", VOUCH_LIST_HEX, "", 0, 0, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    seen s;
    memset(&s, 0, sizeof s);
    vouch_list_opts o = {VOUCH_ALGO_PDQ, VOUCH_LIST_AUTO, cases[i].column, NULL, 0, NULL};
    int fmt = -1;
    int rc = vouch_hashlist_parse(cases[i].in, strlen(cases[i].in), &o, on_item, on_error, &s, &fmt);
    if (rc != cases[i].rc || strcmp(s.out, cases[i].want) || s.nbad != cases[i].nbad ||
        (rc == 0 && fmt != cases[i].format))
      fprintf(stderr, "  case %zu: rc %d fmt %d bad %zu got '%s'\n", i, rc, fmt, s.nbad, s.out);
    CHECK_EQ_INT(rc, cases[i].rc);
    CHECK_EQ_STR(s.out, cases[i].want);
    CHECK_EQ_INT(s.nbad, cases[i].nbad);
    if (rc == 0) CHECK_EQ_INT(fmt, cases[i].format);
  }
  /* bad line numbers are reported */
  seen s;
  memset(&s, 0, sizeof s);
  vouch_list_opts o = {VOUCH_ALGO_PDQ, VOUCH_LIST_AUTO, NULL, NULL, 0, NULL};
  const char *in = H1 "\nx\n\n" H2 "\nyy\n";
  CHECK_EQ_INT(vouch_hashlist_parse(in, strlen(in), &o, on_item, on_error, &s, NULL), 0);
  CHECK_EQ_INT(s.nbad, 2);
  CHECK_EQ_INT(s.bad_lines[0], 2);
  CHECK_EQ_INT(s.bad_lines[1], 5);
  /* 64-bit algorithm: 16 hex digits */
  memset(&s, 0, sizeof s);
  o.algo = VOUCH_ALGO_PHASH;
  in = "0123456789abcdef\n" H1 "\n";
  CHECK_EQ_INT(vouch_hashlist_parse(in, strlen(in), &o, on_item, on_error, &s, NULL), 0);
  CHECK_EQ_INT(s.nbad, 1);
  /* forced format, bad options */
  o.algo = VOUCH_ALGO_PDQ;
  o.format = VOUCH_LIST_HEX;
  memset(&s, 0, sizeof s);
  in = "{\"hash\":\"" H1 "\"}\n";
  CHECK_EQ_INT(vouch_hashlist_parse(in, strlen(in), &o, on_item, on_error, &s, NULL), 0);
  CHECK_EQ_INT(s.nbad, 1);
  o.format = VOUCH_LIST_FORMAT_LAST + 1;
  CHECK_EQ_INT(vouch_hashlist_parse(in, strlen(in), &o, on_item, on_error, &s, NULL), VOUCH_E_INVALID);
}

/* ---- banks ---- */

typedef struct dump {
  char out[1 << 16];
  size_t len;
  size_t n;
} dump;

static int dump_entry(void *ctx, const vouch_bank_entry *e) {
  dump *d = ctx;
  char hex[65];
  vouch_hash_to_hex(e->hash, e->hash_bytes, hex, sizeof hex);
  d->len += (size_t)snprintf(d->out + d->len, sizeof d->out - d->len, "%s|%s|%s|%s|%d\n", hex,
                             e->ext_id ? e->ext_id : "", e->sources ? e->sources : "",
                             e->tags ? e->tags : "", e->enabled);
  d->n++;
  return 0;
}

static void bank_dump(vouch_bank *b, const char *name, dump *d) {
  memset(d, 0, sizeof *d);
  CHECK_EQ_INT(vouch_bank_entries(b, name, dump_entry, d), VOUCH_OK);
}

static int import_str(vouch_bank *b, const char *bank, const char *text, const char *source, int strict,
                      vouch_import_stats *st) {
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  o.source = source;
  o.strict = strict;
  o.now = 1700000000;
  return vouch_bank_import(b, bank, text, strlen(text), &o, st);
}

static void test_bank_basics(void) {
  vouch_bank *b = NULL;
  if (!pg_host()) {
    CHECK_EQ_INT(vouch_bank_open(&b, tmp_path("none.sqlite"), 0), VOUCH_E_NOT_FOUND);
    vouch_bank_free(b);
  }
  REQUIRE(vouch_bank_open(&b, bank_path("b.sqlite"), VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_create(b, "ncmec", VOUCH_ALGO_PDQ), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_create(b, "ncmec", VOUCH_ALGO_PDQ), VOUCH_E_EXISTS);
  CHECK_EQ_INT(vouch_bank_create(b, "bad name", VOUCH_ALGO_PDQ), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_create(b, "", VOUCH_ALGO_PDQ), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_create(b, "p64", VOUCH_ALGO_PHASH), VOUCH_OK);
  vouch_import_stats st;
  CHECK_EQ_INT(import_str(b, "nobank", H1 "\n", "s", 0, &st), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(import_str(b, "ncmec", H1 " a\n" H2 "\nbad\n", "list1", 0, &st), VOUCH_OK);
  CHECK_EQ_INT(st.added, 2);
  CHECK_EQ_INT(st.bad, 1);
  /* duplicate: merged, source accumulated, missing id filled in */
  CHECK_EQ_INT(import_str(b, "ncmec", H2 " b\n" H1 " other\n", "list2", 0, &st), VOUCH_OK);
  CHECK_EQ_INT(st.added, 0);
  CHECK_EQ_INT(st.merged, 2);
  dump d;
  bank_dump(b, "ncmec", &d);
  CHECK_EQ_STR(d.out, "0000000000000000000000000000000000000000000000000000000000000001|b|list1,list2||1\n"
                      H1 "|a|list1,list2||1\n");
  /* rename: the entries follow; a taken or bad name, or an unknown bank, is refused */
  CHECK_EQ_INT(vouch_bank_rename(b, "ncmec", "p64"), VOUCH_E_EXISTS);
  CHECK_EQ_INT(vouch_bank_rename(b, "ncmec", "bad name"), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_rename(b, "nobank", "x"), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(vouch_bank_rename(b, "ncmec", "ncmec"), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_rename(b, "ncmec", "renamed"), VOUCH_OK);
  bank_dump(b, "renamed", &d);
  CHECK_EQ_INT(d.n, 2);
  CHECK_EQ_INT(import_str(b, "ncmec", H1 "\n", "s", 0, &st), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(vouch_bank_rename(b, "renamed", "ncmec"), VOUCH_OK);
  bank_dump(b, "ncmec", &d);
  /* strict: a bad line means nothing is imported */
  CHECK_EQ_INT(import_str(b, "ncmec", H3 "\nbad\n", "list3", 1, &st), VOUCH_E_HASH_PARSE);
  CHECK(strstr(vouch_bank_errmsg(b), "line 2") != NULL);
  bank_dump(b, "ncmec", &d);
  CHECK_EQ_INT(d.n, 2);
  /* 64-bit bank rejects PDQ lines */
  CHECK_EQ_INT(import_str(b, "p64", H1 "\n0123456789abcdef\n", "x", 0, &st), VOUCH_OK);
  CHECK_EQ_INT(st.added, 1);
  CHECK_EQ_INT(st.bad, 1);

  /* enable/disable: entry by hash, by ext id, by number; a whole bank */
  size_t ch = 0;
  CHECK_EQ_INT(vouch_bank_entry_set_enabled(b, "ncmec", VOUCH_SELECT_HASH, H1, 0, &ch), VOUCH_OK);
  CHECK_EQ_INT(ch, 1);
  CHECK_EQ_INT(vouch_bank_entry_set_enabled(b, "ncmec", VOUCH_SELECT_EXT_ID, "zz", 0, &ch), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(vouch_bank_entry_set_enabled(b, "ncmec", VOUCH_SELECT_HASH, "xyz", 0, &ch), VOUCH_E_HASH_PARSE);
  CHECK_EQ_INT(vouch_bank_entry_set_enabled(b, "ncmec", VOUCH_SELECT_ENTRY_ID, "x1", 0, &ch), VOUCH_E_INVALID);
  bank_dump(b, "ncmec", &d);
  CHECK(strstr(d.out, H1 "|a|list1,list2||0\n") != NULL);

  /* index: only enabled entries of enabled banks; algos must agree */
  size_t n = 99;
  uint8_t root[32];
  CHECK_EQ_INT(vouch_bank_build_index(b, NULL, 0, tmp_path("x.vidx"), root, &n), VOUCH_E_ALGO_MISMATCH);
  const char *names[] = {"ncmec"};
  CHECK_EQ_INT(vouch_bank_build_index(b, names, 1, tmp_path("x.vidx"), root, &n), VOUCH_OK);
  CHECK_EQ_INT(n, 1);
  vouch_index *idx = NULL;
  REQUIRE(vouch_index_open(&idx, tmp_path("x.vidx"), NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_index_count(idx), 1);
  CHECK(memcmp(vouch_index_root(idx), root, 32) == 0);
  vouch_index_entry e;
  vouch_index_get(idx, 0, &e);
  CHECK(e.ext_len == 1 && e.ext_id[0] == 'b');
  CHECK(e.src_len == 11 && !memcmp(e.source, "list1,list2", 11));
  CHECK_EQ_STR(vouch_index_bank_name(idx, e.bank), "ncmec");
  vouch_index_free(idx);
  CHECK_EQ_INT(vouch_bank_entry_set_enabled(b, "ncmec", VOUCH_SELECT_EXT_ID, "a", 1, &ch), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_build_index(b, names, 1, tmp_path("x.vidx"), root, &n), VOUCH_OK);
  CHECK_EQ_INT(n, 2);
  CHECK_EQ_INT(vouch_bank_set_enabled(b, "ncmec", 0), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_build_index(b, names, 1, tmp_path("x.vidx"), root, &n), VOUCH_OK);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(vouch_bank_build_index(b, NULL, 0, tmp_path("y.vidx"), root, &n), VOUCH_OK);
  CHECK_EQ_INT(n, 1); /* only p64 is enabled now */
  REQUIRE(vouch_index_open(&idx, tmp_path("y.vidx"), NULL) == VOUCH_OK);
  CHECK_EQ_INT(vouch_index_algo(idx), VOUCH_ALGO_PHASH);
  vouch_index_free(idx);
  const char *missing[] = {"nope"};
  CHECK_EQ_INT(vouch_bank_build_index(b, missing, 1, tmp_path("z.vidx"), root, &n), VOUCH_E_NOT_FOUND);
  CHECK(access(tmp_path("z.vidx"), F_OK) != 0);
  CHECK_EQ_INT(vouch_bank_remove(b, "ncmec"), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_remove(b, "ncmec"), VOUCH_E_NOT_FOUND);
  vouch_bank_free(b);
  vouch_bank_free(NULL);
}

/* Export in each format, import into a fresh bank, same contents. */
typedef struct writer {
  char *buf;
  size_t len, cap;
  int format;
} writer;

static void wr(writer *w, const char *s) {
  size_t l = strlen(s);
  if (w->len + l + 1 > w->cap) {
    w->cap = (w->len + l + 1) * 2;
    w->buf = realloc(w->buf, w->cap);
  }
  memcpy(w->buf + w->len, s, l + 1);
  w->len += l;
}

static int write_entry(void *ctx, const vouch_bank_entry *e) {
  writer *w = ctx;
  char hex[65], line[1024];
  vouch_hash_to_hex(e->hash, e->hash_bytes, hex, sizeof hex);
  if (w->format == VOUCH_LIST_HEX)
    snprintf(line, sizeof line, "%s %s\n", hex, e->ext_id ? e->ext_id : "");
  else if (w->format == VOUCH_LIST_CSV)
    snprintf(line, sizeof line, "%s,%s,\"%s\",\"%s\"\n", hex, e->ext_id ? e->ext_id : "",
             e->sources ? e->sources : "", e->tags ? e->tags : "");
  else if (w->format == VOUCH_LIST_TSV)
    snprintf(line, sizeof line, "%s\t%s\t%s\t%s\n", hex, e->ext_id ? e->ext_id : "",
             e->sources ? e->sources : "", e->tags ? e->tags : "");
  else
    snprintf(line, sizeof line, "{\"hash\":\"%s\",\"id\":\"%s\",\"source\":\"%s\",\"tags\":\"%s\"}\n",
             hex, e->ext_id ? e->ext_id : "", e->sources ? e->sources : "", e->tags ? e->tags : "");
  wr(w, line);
  return 0;
}

static void test_roundtrip_formats(void) {
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, bank_path("r.sqlite"), VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "src", VOUCH_ALGO_PDQ) == VOUCH_OK);
  /* 300 entries with ids, tags and one or two sources */
  writer w = {0};
  wr(&w, "hash,id,source,tags\n");
  uint64_t x = 12345;
  for (int i = 0; i < 300; i++) {
    char line[256], hex[65];
    uint8_t h[32];
    for (int k = 0; k < 32; k++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      h[k] = (uint8_t)(x >> 56);
    }
    vouch_hash_to_hex(h, 32, hex, sizeof hex);
    snprintf(line, sizeof line, "%s,id-%d,%s,%s\n", hex, i, i % 3 ? "alpha" : "\"alpha,beta\"",
             i % 2 ? "t1" : "");
    wr(&w, line);
  }
  vouch_import_stats st;
  REQUIRE(import_str(b, "src", w.buf, "unused", 0, &st) == VOUCH_OK);
  CHECK_EQ_INT(st.added, 300);
  CHECK_EQ_INT(st.format, VOUCH_LIST_CSV);
  free(w.buf);
  dump orig;
  bank_dump(b, "src", &orig);
  CHECK_EQ_INT(orig.n, 300);
  const int formats[] = {VOUCH_LIST_CSV, VOUCH_LIST_TSV, VOUCH_LIST_JSONL, VOUCH_LIST_HEX};
  for (size_t f = 0; f < 4; f++) {
    char name[16];
    snprintf(name, sizeof name, "copy%zu", f);
    REQUIRE(vouch_bank_create(b, name, VOUCH_ALGO_PDQ) == VOUCH_OK);
    writer out = {0};
    out.format = formats[f];
    if (formats[f] == VOUCH_LIST_CSV) wr(&out, "hash,id,source,tags\n");
    if (formats[f] == VOUCH_LIST_TSV) wr(&out, "hash\tid\tsource\ttags\n");
    CHECK_EQ_INT(vouch_bank_entries(b, "src", write_entry, &out), VOUCH_OK);
    CHECK_EQ_INT(import_str(b, name, out.buf, "alpha", 0, &st), VOUCH_OK);
    CHECK_EQ_INT(st.format, formats[f]);
    CHECK_EQ_INT(st.added, 300);
    CHECK_EQ_INT(st.bad, 0);
    free(out.buf);
    dump copy;
    bank_dump(b, name, &copy);
    if (formats[f] != VOUCH_LIST_HEX) {
      CHECK_EQ_STR(copy.out, orig.out);
    } else { /* hex carries hash and id only */
      CHECK_EQ_INT(copy.n, 300);
      CHECK(strstr(copy.out, "|id-7|alpha||1\n") != NULL);
    }
  }
  vouch_bank_free(b);
}

/* Files that are not banks: clean errors. */
/* Passwords never reach a message: known answers. */
static void test_path_redacted(void) {
  static const struct {
    const char *in, *out;
  } kat[] = {
      {"postgresql://alice:s3cret@db.example:5432/vouch?sslmode=require",
       "postgresql://alice:***@db.example:5432/vouch?sslmode=require"},
      {"postgresql://alice@db/vouch", "postgresql://alice@db/vouch"},
      {"postgres://u:p@h/d?password=x&user=y", "postgres://u:***@h/d?password=***&user=y"},
      {"postgresql://h/d?sslmode=require&password=zz", "postgresql://h/d?sslmode=require&password=***"},
      {"postgresql:///vouch?host=/tmp/pg", "postgresql:///vouch?host=/tmp/pg"},
      {"postgresql://a:b@c@d/e", "postgresql://a:***@d/e"},
      {"/var/lib/vouch/banks.sqlite", "/var/lib/vouch/banks.sqlite"},
  };
  char out[128];
  for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
    vouch_bank_path_redacted(kat[i].in, out, sizeof out);
    CHECK_EQ_STR(out, kat[i].out);
  }
  vouch_bank_path_redacted(kat[0].in, out, 10);
  CHECK_EQ_STR(out, "postgresq");
  out[0] = 'x';
  vouch_bank_path_redacted(kat[0].in, out, 0);
  CHECK(out[0] == 'x');
  vouch_bank_path_redacted(NULL, out, sizeof out);
  CHECK_EQ_STR(out, "");
}

static void test_not_a_bank(void) {
  FILE *f = fopen(tmp_path("junk.sqlite"), "wb");
  REQUIRE(f != NULL);
  for (int i = 0; i < 4096; i++) fputc(i * 7, f);
  fclose(f);
  vouch_bank *b = NULL;
  int rc = vouch_bank_open(&b, tmp_path("junk.sqlite"), 0);
  CHECK(rc == VOUCH_E_DB_CORRUPT || rc == VOUCH_E_DB);
  CHECK(strlen(vouch_bank_errmsg(b)) > 0);
  vouch_bank_free(b);
  /* an SQLite file with other tables */
  REQUIRE(vouch_bank_open(&b, tmp_path("o.sqlite"), VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  vouch_bank_free(b);
  int sys = system("sqlite3 /dev/null 'select 1' >/dev/null 2>&1");
  if (sys == 0) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "sqlite3 %s 'PRAGMA user_version=7'", tmp_path("o.sqlite"));
    CHECK(system(cmd) == 0);
    CHECK_EQ_INT(vouch_bank_open(&b, tmp_path("o.sqlite"), 0), VOUCH_E_DB_VERSION);
    vouch_bank_free(b);
    snprintf(cmd, sizeof cmd, "sqlite3 %s 'CREATE TABLE t(x)'", tmp_path("p.sqlite"));
    CHECK(system(cmd) == 0);
    CHECK_EQ_INT(vouch_bank_open(&b, tmp_path("p.sqlite"), 0), VOUCH_E_DB_CORRUPT);
    vouch_bank_free(b);
    /* a hash blob of the wrong size is caught on export and index build */
    REQUIRE(vouch_bank_open(&b, tmp_path("w.sqlite"), VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
    CHECK_EQ_INT(vouch_bank_create(b, "w", VOUCH_ALGO_PDQ), VOUCH_OK);
    vouch_bank_free(b);
    snprintf(cmd, sizeof cmd,
             "sqlite3 %s \"INSERT INTO entries(bank_id,hash,enabled,added_at) VALUES(1,x'0102',1,0)\"",
             tmp_path("w.sqlite"));
    CHECK(system(cmd) == 0);
    REQUIRE(vouch_bank_open(&b, tmp_path("w.sqlite"), 0) == VOUCH_OK);
    dump d;
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(vouch_bank_entries(b, "w", dump_entry, &d), VOUCH_E_DB_CORRUPT);
    CHECK_EQ_INT(vouch_bank_build_index(b, NULL, 0, tmp_path("w.vidx"), NULL, NULL), VOUCH_E_DB_CORRUPT);
    vouch_bank_free(b);
  }
}

/* Allocation failures during parse, import and index build: a clean error
 * and an unchanged bank (ASan reports leaks on the error paths). */
static void test_alloc_failures(void) {
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, bank_path("af.sqlite"), VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "x", VOUCH_ALGO_PDQ) == VOUCH_OK);
  const char *list = "hash,id,source\n" H1 ",a,s1\n" H2 ",b,\"s1,s2\"\n" H3 ",c,s3\n";
  int failed = 0;
  for (long k = 0; k < 40; k++) {
    vouch_import_stats st;
    vouch__test_fail_allocs_after(k);
    int rc = import_str(b, "x", list, "src", 0, &st);
    vouch__test_fail_allocs_after(-1);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
    dump d;
    bank_dump(b, "x", &d);
    if (rc != VOUCH_OK) {
      failed++;
      CHECK_EQ_INT(d.n, 0);
    } else {
      CHECK_EQ_INT(d.n, 3);
      CHECK_EQ_INT(vouch_bank_remove(b, "x"), VOUCH_OK);
      CHECK_EQ_INT(vouch_bank_create(b, "x", VOUCH_ALGO_PDQ), VOUCH_OK);
    }
  }
  CHECK(failed > 0);
  CHECK_EQ_INT(import_str(b, "x", list, "src", 0, NULL), VOUCH_OK);
  for (long k = 0; k < 40; k++) {
    vouch__test_fail_allocs_after(k);
    int rc = vouch_bank_build_index(b, NULL, 0, tmp_path("af.vidx"), NULL, NULL);
    vouch__test_fail_allocs_after(-1);
    CHECK(rc == VOUCH_OK || rc == VOUCH_E_NOMEM);
  }
  vouch_bank_free(b);
}

/* ---- signed source lists ---- */

/* A signed list of the given hex hashes; *out allocated by the library. */
static uint8_t *signed_list(const vouch_audit_secret_key *k, int algo, uint64_t version, const char *const *hex,
                            size_t n, size_t *len) {
  uint8_t h[8][32];
  size_t hb = vouch_algo_bytes(algo);
  for (size_t i = 0; i < n; i++)
    if (vouch_hash_from_hex(hex[i], strlen(hex[i]), h[i], hb) != VOUCH_OK) return NULL;
  uint8_t flat[8 * 32], *out = NULL;
  for (size_t i = 0; i < n; i++) memcpy(flat + i * hb, h[i], hb);
  if (vouch_audit_list_sign(k, algo, version, "2026-11-29", flat, n, &out, len) != VOUCH_OK) return NULL;
  return out;
}

typedef struct lists_seen {
  size_t n, current;
  char names[512];
  uint64_t entries;
} lists_seen;

static int on_list(void *ctx, const vouch_bank_signed_list *l) {
  lists_seen *s = ctx;
  s->n++;
  s->current += l->current != 0;
  s->entries += l->entries;
  size_t used = strlen(s->names);
  snprintf(s->names + used, sizeof s->names - used, "%s:%s:v%llu%s;", l->bank, l->list->source.name,
           (unsigned long long)l->list->list_version, l->current ? "*" : "");
  /* the stored bytes verify and are what the struct describes */
  vouch_audit_list again;
  if (vouch_audit_list_open(l->vsl, l->vsl_len, &again) != VOUCH_OK ||
      memcmp(again.hashes_digest, l->list->hashes_digest, 32) != 0)
    s->names[0] = '!';
  return 0;
}

static lists_seen all_lists(vouch_bank *b, int current_only, int *rc) {
  lists_seen s;
  memset(&s, 0, sizeof s);
  *rc = vouch_bank_signed_lists(b, NULL, 0, current_only, on_list, &s);
  return s;
}

/* SQL straight on the bank file (what an attacker or a damaged disk does). */
static int raw_sql(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}
static long long raw_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  long long v = -1;
  if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static void test_signed_lists(void) {
  vouch_audit_secret_key us, gb;
  REQUIRE(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "org-us", "US", &us) == VOUCH_OK);
  REQUIRE(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "org-gb", "GB", &gb) == VOUCH_OK);
  const char *us_h[] = {H1, H2}, *gb_h[] = {H2, H3}, *gb2_h[] = {H3}, *gbx_h[] = {H1};
  const char *ph_h[] = {"0123456789abcdef"};
  size_t us_n, gb_n, gb2_n, gbx_n, ph_n;
  uint8_t *us1 = signed_list(&us, VOUCH_ALGO_PDQ, 1, us_h, 2, &us_n);
  uint8_t *gb1 = signed_list(&gb, VOUCH_ALGO_PDQ, 1, gb_h, 2, &gb_n);
  uint8_t *gb2 = signed_list(&gb, VOUCH_ALGO_PDQ, 2, gb2_h, 1, &gb2_n);
  uint8_t *gbx = signed_list(&gb, VOUCH_ALGO_PDQ, 1, gbx_h, 1, &gbx_n);
  uint8_t *ph = signed_list(&us, VOUCH_ALGO_PHASH, 1, ph_h, 1, &ph_n);
  REQUIRE(us1 && gb1 && gb2 && gbx && ph);
  const char *path = tmp_path("signed.sqlite");
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "s", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "s2", VOUCH_ALGO_PDQ) == VOUCH_OK);
  CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), VOUCH_BANK_SCHEMA_VERSION);
  vouch_import_stats st;
  int rc;
  dump d;

  /* a bad signature (every byte of the signature, and a hash byte) */
  int undetected = 0;
  for (size_t off = us_n - 64; off < us_n + 1; off++) {
    size_t at = off < us_n ? off : us_n / 2;
    us1[at] ^= 0x10;
    if (vouch_bank_import_signed(b, "s", us1, us_n, 0, &st) != VOUCH_E_AUDIT_SIGNATURE) undetected++;
    us1[at] ^= 0x10;
  }
  CHECK_EQ_INT(undetected, 0);
  CHECK(strstr(vouch_bank_errmsg(b), "signature") != NULL);
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s", us1, us_n - 1, 0, &st), VOUCH_E_AUDIT_FORMAT);
  /* another algorithm than the bank's */
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s", ph, ph_n, 0, &st), VOUCH_E_ALGO_MISMATCH);
  CHECK_EQ_INT(vouch_bank_import_signed(b, "nobank", us1, us_n, 0, &st), VOUCH_E_NOT_FOUND);
  bank_dump(b, "s", &d);
  CHECK_EQ_INT(d.n, 0);
  lists_seen ls = all_lists(b, 0, &rc);
  CHECK_EQ_INT(rc, VOUCH_OK);
  CHECK_EQ_INT(ls.n, 0);

  /* stored, with provenance */
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s", us1, us_n, 1000, &st), VOUCH_OK);
  CHECK_EQ_INT(st.added, 2);
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s", gb1, gb_n, 1000, &st), VOUCH_OK);
  CHECK_EQ_INT(st.added, 1);
  CHECK_EQ_INT(st.merged, 1);
  bank_dump(b, "s", &d);
  CHECK_EQ_INT(d.n, 3);
  CHECK(strstr(d.out, "org-gb,org-us") != NULL); /* H2: both sources */
  ls = all_lists(b, 0, &rc);
  CHECK_EQ_INT(rc, VOUCH_OK);
  CHECK_EQ_INT(ls.n, 2);
  CHECK_EQ_INT(ls.current, 2);
  CHECK_EQ_INT(ls.entries, 4);
  CHECK(ls.names[0] != '!');
  CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM entry_lists x JOIN entries e ON e.id = x.entry_id"
                             " WHERE e.hash = x'0000000000000000000000000000000000000000000000000000000000000001'"),
               2);
  CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM entry_lists x JOIN signed_lists l ON l.id = x.list_id"
                             " WHERE l.source_name = 'org-us' AND l.jurisdiction = 'US' AND l.list_version = 1"
                             " AND l.date = '2026-11-29' AND l.count = 2 AND length(l.hashes_digest) = 32"),
               2);
  {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM signed_lists WHERE source_name = 'org-us'"
                              " AND length(vsl) = %zu", us_n);
    CHECK_EQ_INT(raw_int(path, sql), 1);
  }

  /* the same list again: nothing changes; another list of the same version: refused */
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s", gb1, gb_n, 0, &st), VOUCH_OK);
  CHECK_EQ_INT(st.added, 0);
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s", gbx, gbx_n, 0, &st), VOUCH_E_AUDIT_FORK);
  /* versions go forward only */
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s", gb2, gb2_n, 0, &st), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s", gb1, gb_n, 0, &st), VOUCH_E_AUDIT_POLICY);
  CHECK(strstr(vouch_bank_errmsg(b), "older") != NULL);
  ls = all_lists(b, 0, &rc);
  CHECK_EQ_INT(ls.n, 3);
  CHECK_EQ_INT(ls.current, 2);
  CHECK(strstr(ls.names, "s:org-gb:v2*;s:org-gb:v1;") != NULL);
  ls = all_lists(b, 1, &rc);
  CHECK_EQ_INT(rc, VOUCH_OK);
  CHECK_EQ_INT(ls.n, 2);
  CHECK(strstr(ls.names, "org-gb:v1") == NULL);
  /* an older list in another bank is that bank's business; the newest wins overall */
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s2", gb1, gb_n, 0, &st), VOUCH_OK);
  ls = all_lists(b, 1, &rc);
  CHECK_EQ_INT(ls.n, 2);
  CHECK(strstr(ls.names, "org-gb:v2*") != NULL);
  const char *only_s2[] = {"s2"};
  memset(&ls, 0, sizeof ls);
  CHECK_EQ_INT(vouch_bank_signed_lists(b, only_s2, 1, 1, on_list, &ls), VOUCH_OK);
  CHECK_EQ_INT(ls.n, 1);
  CHECK(strstr(ls.names, "s2:org-gb:v1*") != NULL);
  /* the same version in two banks must be the same list */
  CHECK_EQ_INT(vouch_bank_import_signed(b, "s2", gb2, gb2_n, 0, &st), VOUCH_OK);
  ls = all_lists(b, 1, &rc);
  CHECK_EQ_INT(rc, VOUCH_OK);
  CHECK_EQ_INT(ls.n, 2); /* counted once */
  vouch_bank_free(b);

  /* atomicity: a failure half-way through the entries rolls everything
   * back (entry_lists rebuilt so that linking the second entry breaks a
   * foreign key) */
  const char *ap = tmp_path("atomic.sqlite");
  REQUIRE(vouch_bank_open(&b, ap, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "s", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_import_signed(b, "s", us1, us_n, 0, &st) == VOUCH_OK);
  vouch_bank_free(b);
  CHECK_EQ_INT(raw_sql(ap, "CREATE TABLE allowed(id INTEGER PRIMARY KEY);"
                           "INSERT INTO allowed SELECT id FROM entries;"
                           "DROP TABLE entry_lists;"
                           "CREATE TABLE entry_lists(entry_id INTEGER NOT NULL REFERENCES allowed(id),"
                           " list_id INTEGER NOT NULL REFERENCES signed_lists(id) ON DELETE CASCADE,"
                           " PRIMARY KEY(entry_id, list_id)) WITHOUT ROWID;"
                           "INSERT INTO entry_lists SELECT id, 1 FROM entries;"),
               SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, ap, 0) == VOUCH_OK);
  /* gb lists H2 (exists: linked, source added) then H3 (new: link fails) */
  rc = vouch_bank_import_signed(b, "s", gb1, gb_n, 0, &st);
  CHECK_EQ_INT(rc, VOUCH_E_DB);
  bank_dump(b, "s", &d);
  CHECK_EQ_INT(d.n, 2);
  CHECK(strstr(d.out, "org-gb") == NULL);
  vouch_bank_free(b);
  CHECK_EQ_INT(raw_int(ap, "SELECT count(*) FROM signed_lists"), 1);
  CHECK_EQ_INT(raw_int(ap, "SELECT count(*) FROM entry_lists"), 2);
  CHECK_EQ_INT(raw_int(ap, "SELECT count(*) FROM entry_sources WHERE source = 'org-gb'"), 0);

  /* removing one stored list; prune deletes only the entries no other list
   * or source supplied */
  const char *rp = tmp_path("remove.sqlite");
  REQUIRE(vouch_bank_open(&b, rp, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "s", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_import_signed(b, "s", us1, us_n, 0, &st) == VOUCH_OK); /* H1, H2 */
  REQUIRE(vouch_bank_import_signed(b, "s", gb1, gb_n, 0, &st) == VOUCH_OK); /* H2, H3 */
  int64_t us_id = raw_int(rp, "SELECT id FROM signed_lists WHERE source_name = 'org-us'");
  int64_t gb_id = raw_int(rp, "SELECT id FROM signed_lists WHERE source_name = 'org-gb'");
  size_t pruned = 7;
  CHECK_EQ_INT(vouch_bank_signed_list_remove(b, 999, 0, &pruned), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(pruned, 0);
  CHECK(strstr(vouch_bank_errmsg(b), "999") != NULL);
  CHECK_EQ_INT(vouch_bank_signed_list_remove(b, us_id, 0, &pruned), VOUCH_OK);
  CHECK_EQ_INT(pruned, 0);
  CHECK_EQ_INT(raw_int(rp, "SELECT count(*) FROM signed_lists"), 1);
  CHECK_EQ_INT(raw_int(rp, "SELECT count(*) FROM entries"), 3);
  CHECK_EQ_INT(raw_int(rp, "SELECT count(*) FROM entry_lists"), 2);
  CHECK_EQ_INT(vouch_bank_signed_list_remove(b, us_id, 0, NULL), VOUCH_E_NOT_FOUND);
  /* gb with prune: H3 goes; H2 stays (org-us is also its source) */
  CHECK_EQ_INT(vouch_bank_signed_list_remove(b, gb_id, 1, &pruned), VOUCH_OK);
  CHECK_EQ_INT(pruned, 1);
  bank_dump(b, "s", &d);
  CHECK_EQ_INT(d.n, 2);
  CHECK(strstr(d.out, H3) == NULL);
  CHECK_EQ_INT(raw_int(rp, "SELECT count(*) FROM signed_lists"), 0);
  CHECK_EQ_INT(raw_int(rp, "SELECT count(*) FROM entry_lists"), 0);
  vouch_bank_free(b);
  REQUIRE(vouch_bank_open(&b, rp, VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
  CHECK(vouch_bank_signed_list_remove(b, 1, 0, NULL) != VOUCH_OK); /* a read-only handle */
  vouch_bank_free(b);

  /* a stored list damaged in the file, or columns that disagree with it */
  CHECK_EQ_INT(raw_sql(path, "UPDATE signed_lists SET count = 7 WHERE source_name = 'org-us'"), SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
  ls = all_lists(b, 1, &rc);
  CHECK_EQ_INT(rc, VOUCH_E_DB_CORRUPT);
  vouch_bank_free(b);
  /* the last byte changed (to 0x01 if it was 0x00, as an Ed25519 signature's last byte often is) */
  CHECK_EQ_INT(raw_sql(path, "UPDATE signed_lists SET count = 2 WHERE source_name = 'org-us';"
                             "UPDATE signed_lists SET vsl = CAST(substr(vsl, 1, length(vsl) - 1) ||"
                             " CASE WHEN substr(vsl, -1) = x'00' THEN x'01' ELSE x'00' END AS BLOB)"
                             " WHERE source_name = 'org-us'"),
               SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
  ls = all_lists(b, 1, &rc);
  CHECK_EQ_INT(rc, VOUCH_E_DB_CORRUPT);
  CHECK(strstr(vouch_bank_errmsg(b), "signature") != NULL);
  vouch_bank_free(b);

  vouch_audit_free(us1);
  vouch_audit_free(gb1);
  vouch_audit_free(gb2);
  vouch_audit_free(gbx);
  vouch_audit_free(ph);
  vouch_audit_secret_key_wipe(&us);
  vouch_audit_secret_key_wipe(&gb);
}

/* A version 1 bank file (before signed lists): read as is when opened
 * read-only, migrated when opened for writing. */
static void test_schema_v1(void) {
  vouch_audit_secret_key us;
  REQUIRE(vouch_audit_keygen(VOUCH_AUDIT_ROLE_SOURCE, "org-us", "US", &us) == VOUCH_OK);
  const char *us_h[] = {H1};
  size_t n;
  uint8_t *l = signed_list(&us, VOUCH_ALGO_PDQ, 1, us_h, 1, &n);
  REQUIRE(l != NULL);
  const char *path = tmp_path("v1.sqlite");
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "old", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(import_str(b, "old", H2 "\n", "legacy", 1, NULL) == VOUCH_OK);
  vouch_bank_free(b);
  /* what version 1 created */
  CHECK_EQ_INT(raw_sql(path, "DROP TABLE video_frames; DROP TABLE exchanges; DROP TABLE tombstones; DROP TABLE checkpoints; DROP TABLE entry_lists;"
                             " ALTER TABLE entries DROP COLUMN disabled_until; ALTER TABLE banks DROP COLUMN radius;"
                             " ALTER TABLE entries DROP COLUMN second; DROP TABLE signed_lists; PRAGMA user_version=1"),
               SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
  int rc;
  lists_seen ls = all_lists(b, 0, &rc);
  CHECK_EQ_INT(rc, VOUCH_OK);
  CHECK_EQ_INT(ls.n, 0);
  dump d;
  bank_dump(b, "old", &d);
  CHECK_EQ_INT(d.n, 1);
  CHECK_EQ_INT(vouch_bank_import_signed(b, "old", l, n, 0, NULL), VOUCH_E_DB_VERSION);
  vouch_bank_free(b);
  CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), 1);
  REQUIRE(vouch_bank_open(&b, path, 0) == VOUCH_OK);
  CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), VOUCH_BANK_SCHEMA_VERSION);
  CHECK_EQ_INT(vouch_bank_import_signed(b, "old", l, n, 0, NULL), VOUCH_OK);
  bank_dump(b, "old", &d);
  CHECK_EQ_INT(d.n, 2);
  ls = all_lists(b, 0, &rc);
  CHECK_EQ_INT(ls.n, 1);
  vouch_bank_free(b);
  /* a version 2 file (signed lists, no tombstones) is migrated too */
  CHECK_EQ_INT(raw_sql(path, "DROP TABLE video_frames; DROP TABLE exchanges; DROP TABLE tombstones;"
                             " DROP TABLE checkpoints; ALTER TABLE entries DROP COLUMN disabled_until;"
                             " ALTER TABLE banks DROP COLUMN radius; ALTER TABLE entries DROP COLUMN second;"
                             " PRAGMA user_version=2"),
               SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, path, 0) == VOUCH_OK);
  CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), VOUCH_BANK_SCHEMA_VERSION);
  CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM tombstones"), 0);
  CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM video_frames"), 0);
  CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM entries WHERE second IS NULL"), 2);
  vouch_bank_free(b);
  /* a version 3 file (no second hashes): read as is read-only, migrated for writing */
  CHECK_EQ_INT(raw_sql(path, "ALTER TABLE entries DROP COLUMN second; PRAGMA user_version=3"), SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
  bank_dump(b, "old", &d);
  CHECK_EQ_INT(d.n, 2);
  vouch_bank_free(b);
  CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), 3);
  REQUIRE(vouch_bank_open(&b, path, 0) == VOUCH_OK);
  CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), VOUCH_BANK_SCHEMA_VERSION);
  CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM entries WHERE second IS NULL"), 2);
  vouch_bank_free(b);
  /* a later version than ours is still refused */
  CHECK_EQ_INT(raw_sql(path, "PRAGMA user_version=" "99"), SQLITE_OK);
  CHECK_EQ_INT(vouch_bank_open(&b, path, 0), VOUCH_E_DB_VERSION);
  vouch_bank_free(b);
  vouch_audit_free(l);
  vouch_audit_secret_key_wipe(&us);
}

/* PostgreSQL: an empty database is no bank to read, a schema version this
 * build does not know is refused, a hash of the wrong size is caught. */
static void test_pg_schema(void) {
  vouch_bank *b = NULL;
  const char *path = bank_path("pgschema.sqlite");
  CHECK_EQ_INT(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_READONLY), VOUCH_E_NOT_FOUND);
  vouch_bank_free(b);
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_create(b, "w", VOUCH_ALGO_PDQ), VOUCH_OK);
  vouch_bank_free(b);
  /* a second open migrates nothing and succeeds */
  REQUIRE(vouch_bank_open(&b, path, 0) == VOUCH_OK);
  vouch_bank_free(b);
  CHECK_EQ_INT(pg_sh("psql", "-d vt_pgschema -v ON_ERROR_STOP=1 -c \"INSERT INTO entries(bank_id,hash,enabled,added_at)"
                             " VALUES(1,'\\\\x0102',1,0)\""),
               0);
  REQUIRE(vouch_bank_open(&b, path, 0) == VOUCH_OK);
  dump d;
  memset(&d, 0, sizeof d);
  CHECK_EQ_INT(vouch_bank_entries(b, "w", dump_entry, &d), VOUCH_E_DB_CORRUPT);
  CHECK_EQ_INT(vouch_bank_build_index(b, NULL, 0, tmp_path("pg.vidx"), NULL, NULL), VOUCH_E_DB_CORRUPT);
  vouch_bank_free(b);
  /* a replica refuses a schema it does not know, read-only or not */
  CHECK_EQ_INT(pg_sh("psql", "-d vt_pgschema -v ON_ERROR_STOP=1 -c \"INSERT INTO vouch_schema VALUES(99, 0)\""), 0);
  CHECK_EQ_INT(vouch_bank_open(&b, path, 0), VOUCH_E_DB_VERSION);
  CHECK(strstr(vouch_bank_errmsg(b), "99") != NULL);
  vouch_bank_free(b);
  CHECK_EQ_INT(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_READONLY), VOUCH_E_DB_VERSION);
  vouch_bank_free(b);
}

static int count_tokens(void *ctx, const vouch_bank_token *t) {
  (void)t;
  (*(int *)ctx)++;
  return 0;
}

static int first_len(void *ctx, const uint8_t *first, size_t len) {
  *(size_t *)ctx = first ? len : 0;
  return 0;
}

/* Service state (tokens, vouchers) on either backend; the replica calls on
 * PostgreSQL (change counter, LISTEN/NOTIFY, the builder lock), refused on
 * SQLite. */
static void test_service_and_replicas(void) {
  vouch_bank *b = NULL, *b2 = NULL;
  const char *path = bank_path("svc.sqlite");
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  uint8_t h1[32], h2[32];
  memset(h1, 1, 32);
  memset(h2, 2, 32);
  CHECK_EQ_INT(vouch_bank_token_add(b, "ops", "admin", h1, NULL), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_token_add(b, "ops", "reader", h2, NULL), VOUCH_E_EXISTS);
  CHECK_EQ_INT(vouch_bank_token_add(b, "x", "device", h2, NULL), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_token_add(b, "x", "root", h2, NULL), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_token_add(b, "phone", "device", h2, "alice"), VOUCH_OK);
  int nt = 0;
  CHECK_EQ_INT(vouch_bank_tokens(b, count_tokens, &nt), VOUCH_OK);
  CHECK_EQ_INT(nt, 2);
  CHECK_EQ_INT(vouch_bank_token_remove(b, "ops"), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_token_remove(b, "ops"), VOUCH_E_NOT_FOUND);
  const uint8_t v1[] = "voucher-one", v2[] = "voucher-two";
  const uint8_t *vs[] = {v1, v2, v1};
  size_t lens[] = {sizeof v1, sizeof v2, sizeof v1}, stored = 9, first = 9;
  CHECK_EQ_INT(vouch_bank_vouchers_store(b, "alice", vs, lens, 3, first_len, &first, &stored), VOUCH_OK);
  CHECK_EQ_INT(first, 0);
  CHECK_EQ_INT(stored, 2);
  CHECK_EQ_INT(vouch_bank_vouchers_store(b, "alice", vs, lens, 2, first_len, &first, &stored), VOUCH_OK);
  CHECK_EQ_INT(first, sizeof v1);
  CHECK_EQ_INT(stored, 0);
  int64_t seq = 0;
  int changed = -1, got = -1;
  if (!pg_host()) {
    CHECK_EQ_INT(vouch_bank_change_seq(b, &seq), VOUCH_E_UNSUPPORTED);
    CHECK_EQ_INT(vouch_bank_build_lock(b, 0, &got), VOUCH_E_UNSUPPORTED);
    CHECK_EQ_INT(vouch_bank_build_index_seq(b, NULL, 0, tmp_path("svc.vidx"), NULL, NULL, &seq), VOUCH_OK);
    CHECK_EQ_INT(seq, -1);
    vouch_bank_free(b);
    return;
  }
  REQUIRE(vouch_bank_open(&b2, path, 0) == VOUCH_OK);
  /* the first wait starts listening and reports a change; then none */
  CHECK_EQ_INT(vouch_bank_wait_change(b2, 0, &changed), VOUCH_OK);
  CHECK_EQ_INT(changed, 1);
  CHECK_EQ_INT(vouch_bank_wait_change(b2, 100, &changed), VOUCH_OK);
  CHECK_EQ_INT(changed, 0);
  int64_t s0 = 0, s1 = 0;
  CHECK_EQ_INT(vouch_bank_change_seq(b, &s0), VOUCH_OK);
  /* vouchers are no bank change */
  CHECK_EQ_INT(vouch_bank_wait_change(b2, 100, &changed), VOUCH_OK);
  CHECK_EQ_INT(changed, 0);
  CHECK_EQ_INT(vouch_bank_create(b, "r", VOUCH_ALGO_PDQ), VOUCH_OK);
  CHECK_EQ_INT(import_str(b, "r", H1 "\n" H2 "\n", "s", 0, NULL), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_change_seq(b2, &s1), VOUCH_OK);
  CHECK_EQ_INT(s1, s0 + 2); /* two transactions: the create and the import */
  CHECK_EQ_INT(vouch_bank_wait_change(b2, 2000, &changed), VOUCH_OK);
  CHECK_EQ_INT(changed, 1);
  size_t n = 0;
  CHECK_EQ_INT(vouch_bank_build_index_seq(b2, NULL, 0, tmp_path("svc.vidx"), NULL, &n, &seq), VOUCH_OK);
  CHECK_EQ_INT(seq, s1);
  CHECK_EQ_INT(n, 2);
  /* one builder at a time */
  CHECK_EQ_INT(vouch_bank_build_lock(b, 0, &got), VOUCH_OK);
  CHECK_EQ_INT(got, 1);
  CHECK_EQ_INT(vouch_bank_build_lock(b2, 0, &got), VOUCH_OK);
  CHECK_EQ_INT(got, 0);
  CHECK_EQ_INT(vouch_bank_build_unlock(b), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_build_lock(b2, 0, &got), VOUCH_OK);
  CHECK_EQ_INT(got, 1);
  vouch_bank_free(b2); /* a freed handle's lock is released with its connection */
  CHECK_EQ_INT(vouch_bank_build_lock(b, 1, &got), VOUCH_OK);
  CHECK_EQ_INT(got, 1);
  vouch_bank_free(b);
}

/* vouch_bank_settings(): a bank's algorithm, enabled flag and own radius
 * without counting its entries; vouch_bank_radii() reads it. */
static void test_bank_settings(void) {
  const char *path = bank_path("settings.sqlite");
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "p", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "q", VOUCH_ALGO_PHASH) == VOUCH_OK);
  int algo = 0, en = -1, r = 99;
  CHECK_EQ_INT(vouch_bank_settings(b, "p", &algo, &en, &r), VOUCH_OK);
  CHECK_EQ_INT(algo, VOUCH_ALGO_PDQ);
  CHECK_EQ_INT(en, 1);
  CHECK_EQ_INT(r, -1);
  REQUIRE(vouch_bank_set_radius(b, "p", 20) == VOUCH_OK);
  REQUIRE(vouch_bank_set_enabled(b, "q", 0) == VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_settings(b, "p", NULL, NULL, &r), VOUCH_OK);
  CHECK_EQ_INT(r, 20);
  CHECK_EQ_INT(vouch_bank_settings(b, "q", &algo, &en, &r), VOUCH_OK);
  CHECK_EQ_INT(algo, VOUCH_ALGO_PHASH);
  CHECK_EQ_INT(en, 0);
  CHECK_EQ_INT(r, -1);
  CHECK_EQ_INT(vouch_bank_settings(b, "none", &algo, &en, &r), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(vouch_bank_settings(b, NULL, &algo, &en, &r), VOUCH_E_INVALID);
  vouch_bank_free(b);
}

/* vouch_snapshot_dir_prune(): keeps the newest files and those superseded
 * less than min_age ago; leaves every other name alone. */
static void test_snapshot_dir_prune(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/snaps", tmpdir);
  REQUIRE(mkdir(dir, 0755) == 0);
  const char *other[] = {"notes.txt", ".build.123.tmp", "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789.vidx",
                         "0123.vidx",
                         "PDQ-0000000000000000000000000000000000000000000000000000000000000000.vidx",
                         "-0000000000000000000000000000000000000000000000000000000000000000.vidx"};
  const int nother = (int)(sizeof other / sizeof other[0]);
  char names[4][80], algo[2][80], path[1024];
  const time_t now = time(NULL);
  for (int i = 0; i < 4; i++) { /* snapshot i written 1000 * (4 - i) s ago: 3 is the newest */
    snprintf(names[i], sizeof names[i], "%064d.vidx", i);
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fclose(f);
    struct timespec t[2] = {{now - 1000 * (4 - i), 0}, {now - 1000 * (4 - i), 0}};
    REQUIRE(utimensat(AT_FDCWD, path, t, 0) == 0);
  }
  for (int i = 0; i < 2; i++) { /* one algorithm's files (vouchd --index-dir), older than all the others */
    snprintf(algo[i], sizeof algo[i], "pdq-%064d.vidx", i);
    snprintf(path, sizeof path, "%s/%s", dir, algo[i]);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fclose(f);
    struct timespec t[2] = {{now - 5000 + 500 * i, 0}, {now - 5000 + 500 * i, 0}};
    REQUIRE(utimensat(AT_FDCWD, path, t, 0) == 0);
  }
  for (int i = 0; i < nother; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, other[i]);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fclose(f);
    struct timespec t[2] = {{now - 99999, 0}, {now - 99999, 0}};
    REQUIRE(utimensat(AT_FDCWD, path, t, 0) == 0);
  }
  size_t gone = 99;
  /* every successor is at least 1000 s old: min_age 5000 keeps all */
  CHECK_EQ_INT(vouch_snapshot_dir_prune(dir, 1, 5000, &gone), VOUCH_OK);
  CHECK_EQ_INT((int)gone, 0);
  /* min_age 1500: snapshot 1 (superseded by 2, 2000 s old) and 0 go; 2 (superseded by 3, 1000 s) stays;
   * pdq's older file goes and its newest stays (pruned apart: among all files it would go too) */
  CHECK_EQ_INT(vouch_snapshot_dir_prune(dir, 1, 1500, &gone), VOUCH_OK);
  CHECK_EQ_INT((int)gone, 3);
  snprintf(path, sizeof path, "%s/%s", dir, algo[0]);
  CHECK(access(path, F_OK) != 0);
  snprintf(path, sizeof path, "%s/%s", dir, algo[1]);
  CHECK(access(path, F_OK) == 0);
  int left[4];
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    left[i] = access(path, F_OK) == 0;
  }
  CHECK(!left[0] && !left[1] && left[2] && left[3]);
  CHECK_EQ_INT(vouch_snapshot_dir_prune(dir, 0, 0, &gone), VOUCH_OK); /* keep 0 = 1 */
  CHECK_EQ_INT((int)gone, 1);
  snprintf(path, sizeof path, "%s/%s", dir, names[3]);
  CHECK(access(path, F_OK) == 0);
  snprintf(path, sizeof path, "%s/%s", dir, algo[1]);
  CHECK(access(path, F_OK) == 0);
  for (int i = 0; i < nother; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, other[i]);
    CHECK(access(path, F_OK) == 0);
  }
  CHECK_EQ_INT(vouch_snapshot_dir_prune(NULL, 1, 0, NULL), VOUCH_E_INVALID);
  snprintf(path, sizeof path, "%s/none", dir);
  CHECK_EQ_INT(vouch_snapshot_dir_prune(path, 1, 0, NULL), VOUCH_E_IO);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vouch-test-bank-XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  if (vouch_init() < 0) return 1;
  TT_RUN(test_parser_table);
  TT_RUN(test_bank_basics);
  TT_RUN(test_path_redacted);
  TT_RUN(test_roundtrip_formats);
  if (!pg_host()) TT_RUN(test_not_a_bank);
  TT_RUN(test_alloc_failures);
  TT_RUN(test_signed_lists);
  if (!pg_host()) TT_RUN(test_schema_v1);
  if (pg_host()) TT_RUN(test_pg_schema);
  TT_RUN(test_service_and_replicas);
  TT_RUN(test_bank_settings);
  TT_RUN(test_snapshot_dir_prune);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
  TT_MAIN_END;
}
