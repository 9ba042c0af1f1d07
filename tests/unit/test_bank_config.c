/* tests/unit/test_bank_config.c -- the settings kept beside the banks
 * (vouch/bank_config.h, bank schema 5): the signal types' enabled ratios
 * (defaults, range, a stored value out of range), the data version seen
 * from a second handle, the enabled-entry counts per algorithm, the
 * exchanges' enabled flag, and a schema 4 file read as is read-only and
 * migrated for writing (also one taken back by hand with the table left).
 * SQLite only: cli/vouchd_hma_types runs the same settings on PostgreSQL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "vouch/vouch.h"
#include "vouch/bank_config.h"
#include "vouch/exchange.h"
#include "tinytest.h"

static char tmpdir[64];
static const char *tmp_path(const char *name) {
  static char buf[4][128];
  static int k;
  char *p = buf[k++ % 4];
  snprintf(p, 128, "%s/%s", tmpdir, name);
  return p;
}

static int raw_sql(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

static int import(vouch_bank *b, const char *bank, const char *text) {
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  return vouch_bank_import(b, bank, text, strlen(text), &o, NULL);
}

#define H(c) "000000000000000000000000000000000000000000000000000000000000000" c "\n"
#define M(c) "0000000000000000000000000000000" c "\n"

static void test_signal_types(void) {
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, tmp_path("t.sqlite"), VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  double r = -1;
  int stored = -1;
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, &r, &stored), VOUCH_OK);
  CHECK(r == 1.0 && stored == 0);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_PDQ, 0.0), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, &r, &stored), VOUCH_OK);
  CHECK(r == 0.0 && stored == 1);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_PDQ, 0.25), VOUCH_OK); /* replaced */
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, &r, NULL), VOUCH_OK);
  CHECK(r == 0.25);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_VPDQ, 1.0), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_MD5, &r, &stored), VOUCH_OK);
  CHECK(r == 1.0 && stored == 0);
  /* refusals */
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_PDQ, 1.5), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_PDQ, -0.01), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_PDQ, nan("")), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_NONE, 1.0), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, 99, 1.0), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, 99, &r, NULL), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, NULL, NULL), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, &r, NULL), VOUCH_OK);
  CHECK(r == 0.25); /* the refusals stored nothing */
  CHECK(!vouch_bank_signal_type_on(0.0) && vouch_bank_signal_type_on(0.25) && vouch_bank_signal_type_on(1.0));
  vouch_bank_free(b);
  /* the file is untrusted: a value out of range is reported, not used */
  CHECK_EQ_INT(raw_sql(tmp_path("t.sqlite"), "DROP TABLE signal_types; CREATE TABLE signal_types(name TEXT PRIMARY KEY,"
                                             " enabled_ratio REAL); INSERT INTO signal_types VALUES('pdq', 7.0)"),
               SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, tmp_path("t.sqlite"), VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, &r, NULL), VOUCH_E_DB_CORRUPT);
  vouch_bank_free(b);
}

static void test_version_and_counts(void) {
  const char *path = tmp_path("c.sqlite");
  vouch_bank *w = NULL, *r = NULL;
  REQUIRE(vouch_bank_open(&w, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_open(&r, path, VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
  int64_t v1 = -1, v2 = -1;
  uint64_t n[VOUCH_BANK_ALGO_SLOTS];
  CHECK_EQ_INT(vouch_bank_data_version(r, &v1), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_data_version(r, &v2), VOUCH_OK);
  CHECK_EQ_INT(v1, v2); /* nothing committed in between */
  CHECK_EQ_INT(vouch_bank_enabled_counts(r, n), VOUCH_OK);
  CHECK_EQ_INT(n[VOUCH_ALGO_PDQ], 0);
  REQUIRE(vouch_bank_create(w, "a", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_create(w, "off", VOUCH_ALGO_PDQ) == VOUCH_OK);
  REQUIRE(vouch_bank_create(w, "m", VOUCH_ALGO_MD5) == VOUCH_OK);
  CHECK_EQ_INT(import(w, "a", H("1") H("2") H("3")), VOUCH_OK);
  CHECK_EQ_INT(import(w, "off", H("4") H("5")), VOUCH_OK);
  CHECK_EQ_INT(import(w, "m", M("1") M("2")), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_data_version(r, &v2), VOUCH_OK);
  CHECK(v2 != v1); /* another handle committed */
  CHECK_EQ_INT(vouch_bank_entry_set_enabled(w, "a", VOUCH_SELECT_HASH, "0000000000000000000000000000000000000000000000000000000000000003", 0, NULL), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_set_enabled(w, "off", 0), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_enabled_counts(r, n), VOUCH_OK);
  CHECK_EQ_INT(n[VOUCH_ALGO_PDQ], 2); /* a's enabled entries; bank "off" is disabled */
  CHECK_EQ_INT(n[VOUCH_ALGO_MD5], 2);
  CHECK_EQ_INT(n[VOUCH_ALGO_VPDQ], 0);
  v1 = v2;
  CHECK_EQ_INT(vouch_bank_signal_type_set(w, VOUCH_ALGO_PDQ, 0.0), VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_data_version(r, &v2), VOUCH_OK);
  CHECK(v2 != v1); /* a setting is a change too */
  CHECK_EQ_INT(vouch_bank_data_version(NULL, &v2), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_enabled_counts(r, NULL), VOUCH_E_INVALID);
  vouch_bank_free(r);
  vouch_bank_free(w);
}

typedef struct {
  int n, disabled;
} seen;
static int note(void *ctx, const vouch_exchange_config *c) {
  seen *s = ctx;
  s->n++;
  s->disabled = c->disabled;
  return 0;
}

static void test_exchanges_and_schema4(void) {
  const char *path = tmp_path("x.sqlite");
  vouch_bank *b = NULL;
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_CREATE) == VOUCH_OK);
  REQUIRE(vouch_bank_create(b, "B", VOUCH_ALGO_PDQ) == VOUCH_OK);
  vouch_exchange_config c;
  memset(&c, 0, sizeof c);
  c.name = "X";
  c.type = VOUCH_LIST_TAT;
  c.url = "https://example.invalid/api";
  c.bank = "B";
  c.disabled = 1;
  CHECK_EQ_INT(vouch_exchange_config_add(b, &c), VOUCH_OK);
  seen s = {0, -1};
  CHECK_EQ_INT(vouch_exchange_configs(b, "X", note, &s), VOUCH_OK);
  CHECK(s.n == 1 && s.disabled == 1);
  CHECK_EQ_INT(vouch_exchange_config_set_enabled(b, "X", 1), VOUCH_OK);
  CHECK_EQ_INT(vouch_exchange_configs(b, "X", note, &s), VOUCH_OK);
  CHECK_EQ_INT(s.disabled, 0);
  CHECK_EQ_INT(vouch_exchange_config_set_enabled(b, "X", 0), VOUCH_OK);
  CHECK_EQ_INT(vouch_exchange_config_set_enabled(b, "NOPE", 0), VOUCH_E_NOT_FOUND);
  CHECK_EQ_INT(vouch_exchange_config_set_enabled(b, NULL, 0), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_PDQ, 0.0), VOUCH_OK);
  vouch_bank_free(b);
  /* taken back to schema 4: read as is read-only (every type 1.0, every exchange enabled) */
  CHECK_EQ_INT(raw_sql(path, "DROP TABLE signal_types; ALTER TABLE exchanges DROP COLUMN enabled; PRAGMA user_version=4"),
               SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, path, VOUCH_BANK_OPEN_READONLY) == VOUCH_OK);
  double r = -1;
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, &r, NULL), VOUCH_OK);
  CHECK(r == 1.0);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_PDQ, 0.0), VOUCH_E_DB_VERSION);
  CHECK_EQ_INT(vouch_exchange_configs(b, "X", note, &s), VOUCH_OK);
  CHECK_EQ_INT(s.disabled, 0);
  CHECK_EQ_INT(vouch_exchange_config_set_enabled(b, "X", 0), VOUCH_E_DB_VERSION);
  vouch_bank_free(b);
  /* ... and migrated when opened for writing: the exchange enabled, no type stored */
  REQUIRE(vouch_bank_open(&b, path, 0) == VOUCH_OK);
  CHECK_EQ_INT(vouch_exchange_configs(b, "X", note, &s), VOUCH_OK);
  CHECK_EQ_INT(s.disabled, 0);
  int stored = -1;
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, &r, &stored), VOUCH_OK);
  CHECK(r == 1.0 && stored == 0);
  CHECK_EQ_INT(vouch_bank_signal_type_set(b, VOUCH_ALGO_PDQ, 0.5), VOUCH_OK);
  CHECK_EQ_INT(vouch_exchange_config_set_enabled(b, "X", 0), VOUCH_OK);
  vouch_bank_free(b);
  /* a file set back to 4 by hand with the new table and column left is migrated too */
  CHECK_EQ_INT(raw_sql(path, "PRAGMA user_version=4"), SQLITE_OK);
  REQUIRE(vouch_bank_open(&b, path, 0) == VOUCH_OK);
  CHECK_EQ_INT(vouch_bank_signal_type_get(b, VOUCH_ALGO_PDQ, &r, NULL), VOUCH_OK);
  CHECK(r == 0.5);
  CHECK_EQ_INT(vouch_exchange_configs(b, "X", note, &s), VOUCH_OK);
  CHECK_EQ_INT(s.disabled, 1);
  vouch_bank_free(b);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/vouch-test-bankcfg-XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  if (vouch_init() < 0) return 1;
  TT_RUN(test_signal_types);
  TT_RUN(test_version_and_counts);
  TT_RUN(test_exchanges_and_schema4);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
  TT_MAIN_END;
}
