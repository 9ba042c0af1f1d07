/* programs/httpd/store.c -- API tokens in the service database (through
 * the library's service-state calls, vouch/bank.h: an SQLite bank file or a
 * postgresql:// database shared by replicas).
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

/* The service database: a vouch bank file (created owner-only: it holds
 * token hashes and vouchers) or a postgresql:// database. */
static int open_store(const char *db_path, vouch_bank **out, char *err, size_t errcap) {
  *out = NULL;
  if (!vd_db_is_pg(db_path)) {
    /* SQLite gives its -wal and -shm files the database file's mode */
    int fd = open(db_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    else if (errno != EEXIST) {
      snprintf(err, errcap, "%s: %s", db_path, strerror(errno));
      return -1;
    }
  }
  vouch_bank *bank = NULL;
  int brc = vouch_bank_open(&bank, db_path, VOUCH_BANK_OPEN_CREATE);
  if (brc != VOUCH_OK) {
    char shown[512];
    vouch_bank_path_redacted(db_path, shown, sizeof shown); /* no password in a log */
    snprintf(err, errcap, "%s: %s: %s", shown, vouch_strerror(brc), bank ? vouch_bank_errmsg(bank) : "");
    vouch_bank_free(bank);
    return -1;
  }
  *out = bank;
  return 0;
}

static int count_token(void *ctx, const vouch_bank_token *t) {
  (void)t;
  (*(size_t *)ctx)++;
  return 0;
}

int vd_store_init(const char *db_path, char *err, size_t errcap) {
  vouch_bank *bank;
  if (open_store(db_path, &bank, err, errcap) != 0) return -1;
  /* the service tables exist afterwards (SQLite creates them on first use) */
  size_t n = 0;
  int rc = vouch_bank_tokens(bank, count_token, &n);
  if (rc != VOUCH_OK) snprintf(err, errcap, "%s: %s", db_path, vouch_bank_errmsg(bank));
  vouch_bank_free(bank);
  return rc == VOUCH_OK ? 0 : -1;
}

typedef struct token_list {
  vd_token *list;
  size_t n, cap;
  int oom;
} token_list;

static int load_token(void *ctx, const vouch_bank_token *bt) {
  token_list *l = ctx;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    vd_token *nl = realloc(l->list, cap * sizeof *nl);
    if (!nl) {
      l->oom = 1;
      return 1;
    }
    l->list = nl;
    l->cap = cap;
  }
  vd_token *t = &l->list[l->n];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", bt->name);
  t->role = vd_role_from_name(bt->role);
  if (bt->account) snprintf(t->account, sizeof t->account, "%s", bt->account);
  if (t->role == VD_ROLE_DEVICE && !t->account[0]) return 0;
  memcpy(t->hash, bt->sha256, 32);
  l->n++;
  return 0;
}

int vd_tokens_load(vd_server *s, char *err, size_t errcap) {
  vouch_bank *bank;
  if (open_store(s->db_path, &bank, err, errcap) != 0) return -1;
  token_list l = {0};
  int rc = vouch_bank_tokens(bank, load_token, &l);
  if (rc != VOUCH_OK || l.oom) {
    snprintf(err, errcap, "%s: %s", s->db_path, l.oom ? "out of memory" : vouch_bank_errmsg(bank));
    vouch_bank_free(bank);
    free(l.list);
    return -1;
  }
  vouch_bank_free(bank);
  pthread_rwlock_wrlock(&s->tokens_lock);
  free(s->tokens);
  s->tokens = l.list;
  s->ntokens = l.n;
  pthread_rwlock_unlock(&s->tokens_lock);
  return 0;
}

int vd_bearer_hash(const char *header, uint8_t h[32]) {
  if (strncmp(header, "Bearer ", 7) != 0) return -1;
  const char *tok = header + 7;
  size_t len = strlen(tok);
  if (len < 8 || len > 256) return -1;
  crypto_hash_sha256(h, (const unsigned char *)tok, len);
  return 0;
}

int vd_token_check(vd_server *s, const char *header, char *account, unsigned *bucket) {
  uint8_t h[32];
  if (vd_bearer_hash(header, h) != 0) return VD_ROLE_NONE;
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
  "usage: vouchd token create --db FILE|postgresql://... --role reader|matcher|admin --name NAME\n"
  "       vouchd token create --db FILE --role device --account ID --name NAME\n"
  "       vouchd token list   --db FILE\n"
  "       vouchd token revoke --db FILE --name NAME\n"
  "\n"
  "create prints the new token once on stdout; only its SHA-256 is stored.\n"
  "A device token belongs to one account: it may upload that account's vouchers\n"
  "and read its status, and nothing else (an admin token may do both for any account).\n"
  "A running vouchd picks up changes on SIGHUP.\n";

static int print_token(void *ctx, const vouch_bank_token *t) {
  (void)ctx;
  printf("%s\t%s\t%lld%s%s\n", t->name, t->role, (long long)t->created_at, t->account ? "\t" : "",
         t->account ? t->account : "");
  return 0;
}

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
  vouch_bank *db;
  if (sodium_init() < 0 || vd_store_init(db_path, err, sizeof err) != 0 || open_store(db_path, &db, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd token: %s\n", err);
    return 2;
  }
  int rc = 0;
  if (!strcmp(verb, "create")) {
    if (!role || vd_role_from_name(role) == VD_ROLE_NONE || !name || !*name) {
      fprintf(stderr, "vouchd token create: needs --role reader|matcher|admin|device and --name NAME\n");
      vouch_bank_free(db);
      return 2;
    }
    if ((vd_role_from_name(role) == VD_ROLE_DEVICE) != (account != NULL) ||
        (account && !vd_valid_account(account))) {
      fprintf(stderr, "vouchd token create: --role device goes with --account ID (1..128 letters, digits and "
                      "._-:@), and only it\n");
      vouch_bank_free(db);
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
    if (vouch_bank_token_add(db, name, role, h, account) != VOUCH_OK) {
      fprintf(stderr, "vouchd token create: %s\n", vouch_bank_errmsg(db));
      rc = 2;
    } else {
      printf("%s\n", token);
    }
    sodium_memzero(token, sizeof token);
  } else if (!strcmp(verb, "list")) {
    if (vouch_bank_tokens(db, print_token, NULL) != VOUCH_OK) {
      fprintf(stderr, "vouchd token list: %s\n", vouch_bank_errmsg(db));
      rc = 2;
    }
  } else if (!strcmp(verb, "revoke")) {
    if (!name) {
      fprintf(stderr, "vouchd token revoke: needs --name NAME\n");
      vouch_bank_free(db);
      return 2;
    }
    if (vouch_bank_token_remove(db, name) != VOUCH_OK) {
      fprintf(stderr, "vouchd token revoke: no token named '%s'\n", name);
      rc = 2;
    }
  } else {
    fprintf(stderr, "vouchd token: unknown action '%s'\n", verb);
    fputs(token_usage, stderr);
    rc = 2;
  }
  vouch_bank_free(db);
  return rc;
}
