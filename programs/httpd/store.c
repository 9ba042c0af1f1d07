/* programs/httpd/store.c -- API tokens in the service database.
 * A token is "vd_" + 43 base64url characters (32 random bytes).  Only its
 * SHA-256 is stored; a fast hash is right here because tokens are random
 * (no dictionary to try).  Tokens are loaded into memory at start and on
 * SIGHUP, and compared in constant time. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "vouchd.h"
#include "bodies.h"

static const char *const role_names[] = {"none", "reader", "matcher", "admin", "device"};

const char *vd_role_name(int role) { return (role >= 0 && role <= VD_ROLE_DEVICE) ? role_names[role] : "none"; }

int vd_role_from_name(const char *name) {
  for (int r = 1; r <= VD_ROLE_DEVICE; r++)
    if (!strcmp(name, role_names[r])) return r;
  return VD_ROLE_NONE;
}

/* A device token names its account; no other role does. */
#define TOKENS_TABLE(name)                                                            \
  "CREATE TABLE IF NOT EXISTS " name "("                                              \
  "  id INTEGER PRIMARY KEY,"                                                         \
  "  name TEXT NOT NULL UNIQUE,"                                                      \
  "  role TEXT NOT NULL CHECK(role IN ('reader','matcher','admin','device')),"        \
  "  sha256 BLOB NOT NULL UNIQUE CHECK(length(sha256) = 32),"                         \
  "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"                     \
  "  account TEXT CHECK((role = 'device') = (account IS NOT NULL)));"

static const char schema[] =
  "PRAGMA journal_mode=WAL;"
  "PRAGMA foreign_keys=ON;" TOKENS_TABLE("vouchd_tokens");

/* Databases made before device tokens have a table without `account` whose
 * CHECK refuses the role: copy it into the new shape, in one transaction. */
static const char migrate_tokens[] =
  "BEGIN IMMEDIATE;" TOKENS_TABLE("vouchd_tokens_v2")
  "INSERT INTO vouchd_tokens_v2(id, name, role, sha256, created_at)"
  "  SELECT id, name, role, sha256, created_at FROM vouchd_tokens;"
  "DROP TABLE vouchd_tokens;"
  "ALTER TABLE vouchd_tokens_v2 RENAME TO vouchd_tokens;"
  "COMMIT;";

static int has_account_column(sqlite3 *db) {
  sqlite3_stmt *st = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('vouchd_tokens') WHERE name = 'account'", -1, &st,
                         NULL) == SQLITE_OK)
    found = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return found;
}

static int open_db(const char *path, sqlite3 **db, char *err, size_t errcap) {
  if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    snprintf(err, errcap, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
    sqlite3_close(*db);
    *db = NULL;
    return -1;
  }
  sqlite3_busy_timeout(*db, 5000);
  char *msg = NULL;
  if (sqlite3_exec(*db, schema, NULL, NULL, &msg) != SQLITE_OK ||
      (!has_account_column(*db) && sqlite3_exec(*db, migrate_tokens, NULL, NULL, &msg) != SQLITE_OK)) {
    sqlite3_exec(*db, "ROLLBACK", NULL, NULL, NULL);
    snprintf(err, errcap, "%s: %s", path, msg ? msg : "schema error");
    sqlite3_free(msg);
    sqlite3_close(*db);
    *db = NULL;
    return -1;
  }
  return 0;
}

int vd_store_init(const char *db_path, char *err, size_t errcap) {
  /* It holds token hashes and vouchers: only its owner may read it.  SQLite
   * gives its -wal and -shm files the database file's mode. */
  int fd = open(db_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  else if (errno != EEXIST) {
    snprintf(err, errcap, "%s: %s", db_path, strerror(errno));
    return -1;
  }
  /* The file is first of all a vouch bank database (the bank module marks it
   * with its application id and schema); vouchd's tables live beside. */
  vouch_bank *bank = NULL;
  int brc = vouch_bank_open(&bank, db_path, VOUCH_BANK_OPEN_CREATE);
  if (brc != VOUCH_OK) {
    snprintf(err, errcap, "%s: %s: %s", db_path, vouch_strerror(brc), bank ? vouch_bank_errmsg(bank) : "");
    vouch_bank_free(bank);
    return -1;
  }
  vouch_bank_free(bank);
  sqlite3 *db;
  if (open_db(db_path, &db, err, errcap) != 0) return -1;
  sqlite3_close(db);
  return 0;
}

int vd_tokens_load(vd_server *s, char *err, size_t errcap) {
  sqlite3 *db;
  if (open_db(s->db_path, &db, err, errcap) != 0) return -1;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT name, role, sha256, account FROM vouchd_tokens", -1, &st, NULL) != SQLITE_OK) {
    snprintf(err, errcap, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return -1;
  }
  vd_token *list = NULL;
  size_t n = 0, cap = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      vd_token *nl = realloc(list, cap * sizeof *nl);
      if (!nl) break;
      list = nl;
    }
    vd_token *t = &list[n];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", (const char *)sqlite3_column_text(st, 0));
    t->role = vd_role_from_name((const char *)sqlite3_column_text(st, 1));
    if (sqlite3_column_text(st, 3))
      snprintf(t->account, sizeof t->account, "%s", (const char *)sqlite3_column_text(st, 3));
    if (sqlite3_column_bytes(st, 2) != 32 || (t->role == VD_ROLE_DEVICE && !t->account[0])) continue;
    memcpy(t->hash, sqlite3_column_blob(st, 2), 32);
    n++;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  pthread_rwlock_wrlock(&s->tokens_lock);
  free(s->tokens);
  s->tokens = list;
  s->ntokens = n;
  pthread_rwlock_unlock(&s->tokens_lock);
  return 0;
}

int vd_token_check(vd_server *s, const char *header, char *account, unsigned *bucket) {
  if (strncmp(header, "Bearer ", 7) != 0) return VD_ROLE_NONE;
  const char *tok = header + 7;
  size_t len = strlen(tok);
  if (len < 8 || len > 256) return VD_ROLE_NONE;
  uint8_t h[32];
  crypto_hash_sha256(h, (const unsigned char *)tok, len);
  int role = VD_ROLE_NONE;
  account[0] = 0;
  *bucket = h[0];
  pthread_rwlock_rdlock(&s->tokens_lock);
  for (size_t i = 0; i < s->ntokens; i++) /* every entry compared: no early exit */
    if (sodium_memcmp(h, s->tokens[i].hash, 32) == 0) {
      role = s->tokens[i].role;
      memcpy(account, s->tokens[i].account, sizeof s->tokens[i].account);
    }
  pthread_rwlock_unlock(&s->tokens_lock);
  return role;
}

static const char token_usage[] =
  "usage: vouchd token create --db FILE --role reader|matcher|admin --name NAME\n"
  "       vouchd token create --db FILE --role device --account ID --name NAME\n"
  "       vouchd token list   --db FILE\n"
  "       vouchd token revoke --db FILE --name NAME\n"
  "\n"
  "create prints the new token once on stdout; only its SHA-256 is stored.\n"
  "A device token belongs to one account: it may upload that account's vouchers\n"
  "and read its status, and nothing else (an admin token may do both for any account).\n"
  "A running vouchd picks up changes on SIGHUP.\n";

int vd_cmd_token(int argc, char **argv) {
  static const struct option lo[] = {{"db", required_argument, NULL, 'd'},
                                     {"role", required_argument, NULL, 'r'},
                                     {"name", required_argument, NULL, 'n'},
                                     {"account", required_argument, NULL, 'a'},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};
  const char *db_path = NULL, *role = NULL, *name = NULL, *account = NULL;
  int ch;
  if (argc < 2) {
    fputs(token_usage, stderr);
    return 2;
  }
  const char *verb = argv[1];
  optind = 2;
  while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (ch) {
    case 'd': db_path = optarg; break;
    case 'r': role = optarg; break;
    case 'n': name = optarg; break;
    case 'a': account = optarg; break;
    case 'h': fputs(token_usage, stdout); return 0;
    default: fputs(token_usage, stderr); return 2;
    }
  }
  if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
    fputs(token_usage, stdout);
    return 0;
  }
  if (!db_path) {
    fprintf(stderr, "vouchd token: --db is required\n");
    return 2;
  }
  char err[512] = "";
  sqlite3 *db;
  if (sodium_init() < 0 || vd_store_init(db_path, err, sizeof err) != 0 ||
      open_db(db_path, &db, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd token: %s\n", err);
    return 2;
  }
  int rc = 0;
  sqlite3_stmt *st = NULL;
  if (!strcmp(verb, "create")) {
    if (!role || vd_role_from_name(role) == VD_ROLE_NONE || !name || !*name) {
      fprintf(stderr, "vouchd token create: needs --role reader|matcher|admin|device and --name NAME\n");
      sqlite3_close(db);
      return 2;
    }
    if ((vd_role_from_name(role) == VD_ROLE_DEVICE) != (account != NULL) ||
        (account && !vd_valid_account(account))) {
      fprintf(stderr, "vouchd token create: --role device goes with --account ID (1..128 letters, digits and "
                      "._-:@), and only it\n");
      sqlite3_close(db);
      return 2;
    }
    uint8_t raw[32], h[32];
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    char token[8 + sizeof b64];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    snprintf(token, sizeof token, "vd_%s", b64);
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sqlite3_prepare_v2(db, "INSERT INTO vouchd_tokens(name, role, sha256, account) VALUES(?,?,?,?)", -1, &st, NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 3, h, 32, SQLITE_TRANSIENT);
    if (account) sqlite3_bind_text(st, 4, account, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
      fprintf(stderr, "vouchd token create: %s\n", sqlite3_errmsg(db));
      rc = 2;
    } else {
      printf("%s\n", token);
    }
    sodium_memzero(token, sizeof token);
  } else if (!strcmp(verb, "list")) {
    sqlite3_prepare_v2(db, "SELECT name, role, created_at, account FROM vouchd_tokens ORDER BY id", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW)
      printf("%s\t%s\t%lld%s%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
             (long long)sqlite3_column_int64(st, 2), sqlite3_column_text(st, 3) ? "\t" : "",
             sqlite3_column_text(st, 3) ? (const char *)sqlite3_column_text(st, 3) : "");
  } else if (!strcmp(verb, "revoke")) {
    if (!name) {
      fprintf(stderr, "vouchd token revoke: needs --name NAME\n");
      sqlite3_close(db);
      return 2;
    }
    sqlite3_prepare_v2(db, "DELETE FROM vouchd_tokens WHERE name = ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
      fprintf(stderr, "vouchd token revoke: no token named '%s'\n", name);
      rc = 2;
    }
  } else {
    fprintf(stderr, "vouchd token: unknown action '%s'\n", verb);
    fputs(token_usage, stderr);
    rc = 2;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc;
}
