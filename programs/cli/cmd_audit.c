/* programs/cli/cmd_audit.c -- `vouch audit`: sources, tables, heads, logs,
 * proofs and verification (docs/audit.md).
 * Exit statuses: 0 ok; 1 a verification failed (signature, proof, policy,
 * fork, trust); 2 usage, input or I/O error. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "cli.h"
#include "vouch/index.h"

#define CLI_EXIT_VERIFY 1
#define FILE_MAX ((size_t)16 << 30) /* 16 GiB: far above any list or table we write */

/* ------------------------------------------------------------- file I/O */

static int read_all(const char *path, uint8_t **out, size_t *len) {
  return cli_read_file_reported(path, FILE_MAX, out, len);
}

/* Writes atomically (temp file, fsync, rename); secret keys get mode 0600
 * from creation on. */
static int write_atomic(const char *path, const void *buf, size_t len, mode_t mode) {
  if (cli_write_file_atomic(path, buf, len, (unsigned)mode) != 0) {
    cli_errorf("%s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

static void hex_print(FILE *f, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%02x", b[i]);
}

static void json_hex(FILE *f, const char *key, const uint8_t *b, size_t n, int comma) {
  fprintf(f, "\"%s\":\"", key);
  hex_print(f, b, n);
  fprintf(f, "\"%s", comma ? "," : "");
}

static int is_public_data(const uint8_t *buf, size_t len) { return len >= 8 && memcmp(buf, "VOUCHPSI", 8) == 0; }

static int exit_for(int rc) {
  if (rc == VOUCH_OK)
    return CLI_EXIT_OK;
  return vouch_rc_class(rc) == 40 ? CLI_EXIT_VERIFY : CLI_EXIT_ERROR;
}

/* ---------------------------------------------------------- arguments */

typedef struct {
  const char *name; /* "--name" */
  int takes_value;
  const char **value;
  int *flag;
} opt;

/* Parses options in any order before or between operands; operands are
 * collected into argv[0..*nops).  Returns -1 on a usage error. */
static int parse_opts(int argc, char **argv, const opt *opts, size_t nopts, char **ops, int *nops) {
  *nops = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      for (i++; i < argc; i++)
        ops[(*nops)++] = argv[i];
      break;
    }
    if (a[0] != '-' || a[1] == 0) {
      ops[(*nops)++] = argv[i];
      continue;
    }
    size_t k = 0;
    while (k < nopts && strcmp(a, opts[k].name) != 0)
      k++;
    if (k == nopts) {
      cli_errorf("unknown option '%s'", a);
      return -1;
    }
    if (opts[k].takes_value) {
      if (i + 1 >= argc) {
        cli_errorf("option '%s' needs a value", a);
        return -1;
      }
      *opts[k].value = argv[++i];
    } else {
      *opts[k].flag = 1;
    }
  }
  return 0;
}

static int wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      return 1;
  return 0;
}

static int parse_hex32(const char *s, uint8_t out[32]) {
  return s && strlen(s) == 64 && vouch_hash_from_hex(s, 64, out, 32) == VOUCH_OK ? 0 : -1;
}

/* ------------------------------------------------------------- loaders */

typedef struct {
  uint8_t *buf;
  size_t len;
  vouch_audit_list list;
} loaded_list;

/* Opens the signed list held in l->buf; a failure is reported under `name`. */
static int open_list(loaded_list *l, const char *name, int *rc_out) {
  int rc = vouch_audit_list_open(l->buf, l->len, &l->list);
  if (rc_out)
    *rc_out = rc;
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", name, vouch_strerror(rc));
    return -1;
  }
  return 0;
}

static int load_list(const char *path, loaded_list *l, int *rc_out) {
  if (rc_out)
    *rc_out = VOUCH_E_IO; /* until the file is read */
  if (read_all(path, &l->buf, &l->len) != 0)
    return -1;
  return open_list(l, path, rc_out);
}

/* How a decoder says where in the file it failed. */
enum where_style { AT_FILE, AT_RECORD, AT_LINE };

/* The decoders behind one signature: (bytes, length, object, position of the
 * failure or NULL). */
typedef int (*decode_fn)(const uint8_t *buf, size_t len, void *out, size_t *where);
static int dec_seckey(const uint8_t *b, size_t n, void *out, size_t *w) {
  (void)w;
  return vouch_audit_seckey_decode(b, n, out);
}
static int dec_db(const uint8_t *b, size_t n, void *out, size_t *w) {
  (void)w;
  return vouch_audit_db_parse(b, n, out);
}
static int dec_sth(const uint8_t *b, size_t n, void *out, size_t *w) {
  (void)w;
  return vouch_audit_sth_decode(b, n, out);
}
static int dec_log(const uint8_t *b, size_t n, void *out, size_t *w) { return vouch_audit_log_parse(b, n, out, w); }
static int dec_trust(const uint8_t *b, size_t n, void *out, size_t *w) {
  return vouch_audit_trust_parse((const char *)b, n, out, w);
}

/* Reads the file at `path` and decodes it into `out`.  A failure is reported
 * as "PATH: error", "PATH: record N: error" or "PATH:N: error" by `style`;
 * `*rc_out` (if given) is VOUCH_E_IO when the file cannot be read, else the
 * decoder's code.  `secret`: warn if other users may read the file, and wipe the
 * bytes read before freeing them. */
static int load_file(const char *path, decode_fn decode, void *out, enum where_style style, int secret,
                     int *rc_out) {
  if (rc_out)
    *rc_out = VOUCH_E_IO; /* until the file is read */
  uint8_t *buf;
  size_t len, where = 0;
  if ((secret ? cli_read_secret(path, FILE_MAX, &buf, &len) : read_all(path, &buf, &len)) != 0)
    return -1;
  int rc = decode(buf, len, out, &where);
  if (secret)
    vouch_audit_wipe(buf, len);
  free(buf);
  if (rc_out)
    *rc_out = rc;
  if (rc == VOUCH_OK)
    return 0;
  if (style == AT_RECORD)
    cli_errorf("%s: record %zu: %s", path, where, vouch_strerror(rc));
  else if (style == AT_LINE)
    cli_errorf("%s:%zu: %s", path, where, vouch_strerror(rc));
  else
    cli_errorf("%s: %s", path, vouch_strerror(rc));
  return -1;
}

static int load_seckey(const char *path, vouch_audit_secret_key *k) {
  return load_file(path, dec_seckey, k, AT_FILE, 1, NULL);
}
static int load_db(const char *path, vouch_audit_db **db, int *rc_out) {
  return load_file(path, dec_db, db, AT_FILE, 0, rc_out);
}
static int load_sth(const char *path, vouch_audit_sth *sth, int *rc_out) {
  return load_file(path, dec_sth, sth, AT_FILE, 0, rc_out);
}
static int load_log(const char *path, vouch_audit_log **log, int *rc_out) {
  return load_file(path, dec_log, log, AT_RECORD, 0, rc_out);
}
static int load_trust(const char *path, vouch_audit_trust *t) { return load_file(path, dec_trust, t, AT_LINE, 0, NULL); }

/* Encodes an object into a buffer freed with vouch_audit_free(). */
typedef int (*encode_fn)(const void *obj, uint8_t **out, size_t *len);
static int enc_db(const void *o, uint8_t **b, size_t *n) { return vouch_audit_db_encode(o, b, n); }
static int enc_log(const void *o, uint8_t **b, size_t *n) { return vouch_audit_log_encode(o, b, n); }

/* Encodes `obj` and writes it to `path` atomically. */
static int save_file(const char *path, encode_fn encode, const void *obj) {
  uint8_t *buf;
  size_t len;
  if (encode(obj, &buf, &len) != VOUCH_OK) {
    cli_errorf("out of memory");
    return -1;
  }
  int r = write_atomic(path, buf, len, 0644);
  vouch_audit_free(buf);
  return r;
}
static int save_db(const char *path, const vouch_audit_db *db) { return save_file(path, enc_db, db); }
static int save_log(const char *path, const vouch_audit_log *log) { return save_file(path, enc_log, log); }

/* ------------------------------------------------------ source keygen */

static int source_keygen(int argc, char **argv) {
  const char *name = NULL, *jur = NULL, *out = NULL;
  int server = 0, help = 0;
  opt o[] = {{"--name", 1, &name, NULL}, {"--jurisdiction", 1, &jur, NULL}, {"-o", 1, &out, NULL},
             {"--server", 0, NULL, &server}, {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit source keygen --name NAME --jurisdiction CC [--server] -o KEYFILE\n\n"
           "Creates an Ed25519 key for a source (or, with --server, for the database operator).\n"
           "Writes the secret key to KEYFILE (mode 0600) and the public key to KEYFILE.pub.\n"
           "NAME: 1-64 of [A-Za-z0-9._-]; CC: ISO 3166-1 alpha-2 code, capitals (US, GB, ...).\n");
    return CLI_EXIT_OK;
  }
  if (argc > 64 || parse_opts(argc, argv, o, 5, ops, &nops) != 0 || nops || !name || !jur || !out) {
    cli_errorf("usage: vouch audit source keygen --name NAME --jurisdiction CC [--server] -o KEYFILE");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_secret_key k;
  int rc = vouch_audit_keygen(server ? VOUCH_AUDIT_ROLE_SERVER : VOUCH_AUDIT_ROLE_SOURCE, name, jur, &k);
  if (rc != VOUCH_OK) {
    cli_errorf("bad --name or --jurisdiction: %s", vouch_strerror(rc));
    return CLI_EXIT_ERROR;
  }
  uint8_t sec[VOUCH_AUDIT_SECKEY_FILE_BYTES], pub[VOUCH_AUDIT_PUBKEY_FILE_BYTES];
  vouch_audit_seckey_encode(&k, sec);
  vouch_audit_pubkey_encode(&k.id, pub);
  vouch_audit_secret_key_wipe(&k);
  size_t pl = strlen(out) + 5;
  char *pubpath = malloc(pl);
  int r = -1;
  if (pubpath) {
    snprintf(pubpath, pl, "%s.pub", out);
    r = write_atomic(out, sec, sizeof sec, 0600);
    if (r == 0)
      r = write_atomic(pubpath, pub, sizeof pub, 0644);
  }
  vouch_audit_wipe(sec, sizeof sec);
  if (r == 0) {
    printf("public key ");
    hex_print(stdout, pub + 76, 32);
    printf("\nwrote %s (secret, 0600) and %s\n", out, pubpath);
  }
  free(pubpath);
  return r == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

/* -------------------------------------------------------- source sign */

/* Reads hex hashes, one per line (first field; '#' comments, blank lines). */
static int read_hashes(const char *path, int algo, uint8_t **out, size_t *n) {
  uint8_t *buf;
  size_t len;
  if (read_all(path, &buf, &len) != 0)
    return -1;
  size_t hb = vouch_algo_bytes(algo), cap = 1024, cnt = 0, line = 0;
  uint8_t *h = malloc(cap * hb);
  int ok = h != NULL;
  for (size_t i = 0; ok && i < len;) {
    size_t e = i;
    while (e < len && buf[e] != '\n')
      e++;
    line++;
    size_t s = i;
    while (s < e && (buf[s] == ' ' || buf[s] == '\t'))
      s++;
    size_t f = s;
    while (f < e && buf[f] != ' ' && buf[f] != '\t' && buf[f] != ',' && buf[f] != '\r')
      f++;
    if (f > s && buf[s] != '#') {
      if (cnt == cap) {
        uint8_t *nh = realloc(h, cap * 2 * hb);
        if (!nh) {
          ok = 0;
          break;
        }
        h = nh;
        cap *= 2;
      }
      if (vouch_hash_from_hex((const char *)buf + s, f - s, h + cnt * hb, hb) != VOUCH_OK || f - s != 2 * hb) {
        cli_errorf("%s:%zu: not a %s hash", path, line, vouch_algo_name(algo));
        ok = 0;
        break;
      }
      cnt++;
    }
    i = e + 1;
  }
  free(buf);
  if (!ok) {
    free(h);
    return -1;
  }
  *out = h;
  *n = cnt;
  return 0;
}

static int source_sign(int argc, char **argv) {
  const char *key = NULL, *ver = NULL, *date = NULL, *algo_s = "pdq", *out = NULL;
  int help = 0;
  opt o[] = {{"--key", 1, &key, NULL}, {"--list-version", 1, &ver, NULL}, {"--date", 1, &date, NULL},
             {"--algo", 1, &algo_s, NULL}, {"-o", 1, &out, NULL}, {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit source sign --key KEYFILE --list-version N [--date YYYY-MM-DD]\n"
           "                               [--algo pdq|phash|dhash|ahash] -o LIST.vsl [HASHES|-]\n\n"
           "Signs the list of hashes a source supplies: hex hashes, one per line (first field;\n"
           "'#' comments and blank lines skipped), read from HASHES or stdin.  The list is\n"
           "sorted and deduplicated, so the same set always gives the same signed bytes.\n"
           "--date defaults to today (UTC).\n");
    return CLI_EXIT_OK;
  }
  unsigned long version;
  if (argc > 64 || parse_opts(argc, argv, o, 6, ops, &nops) != 0 || nops > 1 || !key || !ver || !out ||
      cli_parse_uint(ver, 0, ~0UL, &version) != 0) {
    cli_errorf("usage: vouch audit source sign --key KEYFILE --list-version N [--date D] -o LIST.vsl [HASHES]");
    return CLI_EXIT_ERROR;
  }
  int algo = vouch_algo_from_name(algo_s);
  if (algo == VOUCH_ALGO_NONE) {
    cli_errorf("unknown --algo '%s'", algo_s);
    return CLI_EXIT_ERROR;
  }
  char today[16];
  if (!date) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    date = today;
  }
  vouch_audit_secret_key k;
  if (load_seckey(key, &k) != 0)
    return CLI_EXIT_ERROR;
  uint8_t *h = NULL, *list = NULL;
  size_t n = 0, len = 0;
  int ret = CLI_EXIT_ERROR;
  if (read_hashes(nops ? ops[0] : "-", algo, &h, &n) == 0) {
    int rc = vouch_audit_list_sign(&k, algo, version, date, h, n, &list, &len);
    if (rc != VOUCH_OK)
      cli_errorf("cannot sign: %s (is %s a source key? is the date YYYY-MM-DD?)", vouch_strerror(rc), key);
    else if (write_atomic(out, list, len, 0644) == 0) {
      vouch_audit_list L;
      if (vouch_audit_list_open(list, len, &L) == VOUCH_OK)
        printf("signed %llu %s hashes as %s (%s), list version %lu, %s -> %s\n", (unsigned long long)L.count,
               vouch_algo_name(algo), k.id.name, k.id.jurisdiction, version, date, out);
      ret = CLI_EXIT_OK;
    }
  }
  vouch_audit_secret_key_wipe(&k);
  free(h);
  vouch_audit_free(list);
  return ret;
}

/* ------------------------------------------------------ source verify */

static int source_verify(int argc, char **argv) {
  int json = 0, help = 0;
  opt o[] = {{"--json", 0, NULL, &json}, {"--help", 0, NULL, &help}};
  char **ops = malloc((size_t)argc * sizeof *ops);
  int nops, ret = CLI_EXIT_OK;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit source verify [--json] LIST.vsl...\n\n"
           "Checks each signed list (format, canonical order, signature against the key it\n"
           "names) and prints who signed it.  Exit 1 if any list fails.\n");
    free(ops);
    return CLI_EXIT_OK;
  }
  if (!ops || parse_opts(argc, argv, o, 2, ops, &nops) != 0 || nops == 0) {
    cli_errorf("usage: vouch audit source verify [--json] LIST.vsl...");
    free(ops);
    return CLI_EXIT_ERROR;
  }
  for (int i = 0; i < nops; i++) {
    loaded_list l = {0};
    int rc = VOUCH_OK;
    if (read_all(ops[i], &l.buf, &l.len) != 0) {
      ret = CLI_EXIT_ERROR;
      continue;
    }
    rc = vouch_audit_list_open(l.buf, l.len, &l.list);
    if (json) {
      printf("{\"path\":");
      cli_json_string(stdout, ops[i]);
      printf(",\"ok\":%s", rc == VOUCH_OK ? "true" : "false");
      if (rc == VOUCH_OK) {
        printf(",\"source\":");
        cli_json_string(stdout, l.list.source.name);
        printf(",\"jurisdiction\":\"%s\",", l.list.source.jurisdiction);
        json_hex(stdout, "key", l.list.source.pk, 32, 1);
        printf("\"algo\":\"%s\",\"list_version\":%llu,\"date\":\"%s\",\"count\":%llu,",
               vouch_algo_name(l.list.algo), (unsigned long long)l.list.list_version, l.list.date,
               (unsigned long long)l.list.count);
        json_hex(stdout, "hashes_sha256", l.list.hashes_digest, 32, 0);
      } else {
        printf(",\"error\":\"%s\"", vouch_strerror(rc));
      }
      printf("}\n");
    } else if (rc == VOUCH_OK) {
      printf("%s: ok: %llu %s hashes signed by %s (%s) key ", ops[i], (unsigned long long)l.list.count,
             vouch_algo_name(l.list.algo), l.list.source.name, l.list.source.jurisdiction);
      hex_print(stdout, l.list.source.pk, 32);
      printf(", list version %llu, %s\n", (unsigned long long)l.list.list_version, l.list.date);
    } else {
      printf("%s: FAILED: %s\n", ops[i], vouch_strerror(rc));
    }
    if (rc != VOUCH_OK && ret == CLI_EXIT_OK)
      ret = exit_for(rc) == CLI_EXIT_VERIFY || rc == VOUCH_E_DB_VERSION ? CLI_EXIT_VERIFY : CLI_EXIT_ERROR;
    free(l.buf);
  }
  free(ops);
  return ret;
}

static int cmd_source(int argc, char **argv) {
  static const cli_subcmd cmds[] = {{"keygen", source_keygen}, {"sign", source_sign}, {"verify", source_verify}};
  return cli_dispatch("audit source", "usage: vouch audit source keygen|sign|verify ...   "
                      "('vouch audit source sign --help')\n", cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}

/* --------------------------------------------------------------- build */

static int audit_build(int argc, char **argv) {
  const char *req = "2", *prev_path = NULL, *out = NULL;
  int any = 0, help = 0;
  opt o[] = {{"--require-sources", 1, &req, NULL}, {"--any-jurisdiction", 0, NULL, &any},
             {"--prev", 1, &prev_path, NULL}, {"-o", 1, &out, NULL}, {"--help", 0, NULL, &help}};
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit build [--require-sources N] [--any-jurisdiction] [--prev OLD.vdb]\n"
           "                         -o NEW.vdb LIST.vsl...\n\n"
           "Builds the next version of the audited table from the sources' signed lists.\n"
           "A hash enters only if at least N sources (default 2) in N different jurisdictions\n"
           "list it (--any-jurisdiction: N sources, wherever they are).  With --prev, the new\n"
           "version appends to OLD: removals of entries no longer attested, then additions.\n"
           "The rule is recorded in the table and in every tree head signed over it.\n");
    return CLI_EXIT_OK;
  }
  char **ops = malloc((size_t)argc * sizeof *ops);
  int nops;
  unsigned long k;
  if (!ops || parse_opts(argc, argv, o, 5, ops, &nops) != 0 || !out ||
      cli_parse_uint(req, 1, VOUCH_AUDIT_SOURCES_MAX, &k) != 0 || (nops == 0 && !prev_path) ||
      nops > (int)VOUCH_AUDIT_SOURCES_MAX) {
    cli_errorf("usage: vouch audit build [--require-sources N] [--prev OLD.vdb] -o NEW.vdb LIST.vsl...");
    free(ops);
    return CLI_EXIT_ERROR;
  }
  loaded_list *ll = calloc((size_t)nops + 1, sizeof *ll);
  vouch_audit_list *lists = calloc((size_t)nops + 1, sizeof *lists);
  vouch_audit_db *prev = NULL, *db = NULL;
  int ret = CLI_EXIT_ERROR, rc = VOUCH_OK;
  if (!ll || !lists)
    goto out;
  for (int i = 0; i < nops; i++) {
    if (load_list(ops[i], &ll[i], &rc) != 0) {
      ret = exit_for(rc);
      goto out;
    }
    lists[i] = ll[i].list;
  }
  if (prev_path && load_db(prev_path, &prev, &rc) != 0) {
    ret = exit_for(rc);
    goto out;
  }
  vouch_audit_policy pol = {(uint8_t)k, (uint8_t)(any ? 0 : 1)};
  rc = vouch_audit_db_build(prev, lists, (size_t)nops, pol, &db);
  if (rc != VOUCH_OK) {
    cli_errorf("build failed: %s", vouch_strerror(rc));
    goto out;
  }
  if (save_db(out, db) != 0)
    goto out;
  uint8_t root[32];
  vouch_audit_db_root(db, root);
  printf("version %llu: %llu live hashes, %llu leaves (%llu new), rule %u sources%s\nroot ",
         (unsigned long long)vouch_audit_db_version(db), (unsigned long long)vouch_audit_db_live_count(db),
         (unsigned long long)vouch_audit_db_size(db),
         (unsigned long long)(vouch_audit_db_size(db) - (prev ? vouch_audit_db_size(prev) : 0)), (unsigned)k,
         any ? "" : " in distinct jurisdictions");
  hex_print(stdout, root, 32);
  printf("\nwrote %s\n", out);
  ret = CLI_EXIT_OK;
out:
  if (ll)
    for (int i = 0; i < nops; i++)
      free(ll[i].buf);
  free(ll);
  free(lists);
  free(ops);
  vouch_audit_db_free(prev);
  vouch_audit_db_free(db);
  return ret;
}

/* ---------------------------------------------------------------- root */

static int audit_root(int argc, char **argv) {
  int json = 0, help = 0;
  opt o[] = {{"--json", 0, NULL, &json}, {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit root [--json] TABLE.vdb\n\n"
           "Parses and fully checks the table (root recomputed from the leaves, every\n"
           "addition meets the table's rule, every removal removes a live entry) and prints\n"
           "its version, size, rule, sources and root.\n");
    return CLI_EXIT_OK;
  }
  if (argc > 64 || parse_opts(argc, argv, o, 2, ops, &nops) != 0 || nops != 1) {
    cli_errorf("usage: vouch audit root [--json] TABLE.vdb");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_db *db;
  int rc = VOUCH_OK;
  if (load_db(ops[0], &db, &rc) != 0)
    return exit_for(rc);
  uint8_t root[32];
  vouch_audit_db_root(db, root);
  vouch_audit_policy p = vouch_audit_db_policy(db);
  size_t ns = vouch_audit_db_nsources(db);
  if (json) {
    printf("{\"path\":");
    cli_json_string(stdout, ops[0]);
    printf(",\"version\":%llu,\"algo\":\"%s\",\"tree_size\":%llu,\"live\":%llu,\"min_sources\":%u,"
           "\"distinct_jurisdictions\":%s,",
           (unsigned long long)vouch_audit_db_version(db), vouch_algo_name(vouch_audit_db_algo(db)),
           (unsigned long long)vouch_audit_db_size(db), (unsigned long long)vouch_audit_db_live_count(db),
           p.min_sources, p.distinct_jurisdictions ? "true" : "false");
    json_hex(stdout, "root", root, 32, 1);
    printf("\"sources\":[");
    for (size_t i = 0; i < ns; i++) {
      vouch_audit_source_record r;
      (void)vouch_audit_db_source(db, i, &r);
      printf("%s{\"name\":", i ? "," : "");
      cli_json_string(stdout, r.source.name);
      printf(",\"jurisdiction\":\"%s\",", r.source.jurisdiction);
      json_hex(stdout, "key", r.source.pk, 32, 0);
      if (r.has_list)
        printf(",\"list_version\":%llu,\"date\":\"%s\",\"count\":%llu", (unsigned long long)r.list_version, r.date,
               (unsigned long long)r.count);
      printf("}");
    }
    printf("]}\n");
  } else {
    printf("version   %llu\nalgo      %s\nleaves    %llu\nlive      %llu\nrule      %u sources%s\nroot      ",
           (unsigned long long)vouch_audit_db_version(db), vouch_algo_name(vouch_audit_db_algo(db)),
           (unsigned long long)vouch_audit_db_size(db), (unsigned long long)vouch_audit_db_live_count(db),
           p.min_sources, p.distinct_jurisdictions ? " in distinct jurisdictions" : "");
    hex_print(stdout, root, 32);
    printf("\n");
    for (size_t i = 0; i < ns; i++) {
      vouch_audit_source_record r;
      (void)vouch_audit_db_source(db, i, &r);
      printf("source %zu  %s %s ", i, r.source.jurisdiction, r.source.name);
      hex_print(stdout, r.source.pk, 32);
      if (r.has_list)
        printf("  list v%llu %s, %llu hashes\n", (unsigned long long)r.list_version, r.date,
               (unsigned long long)r.count);
      else
        printf("  (no list in this version)\n");
    }
  }
  vouch_audit_db_free(db);
  return CLI_EXIT_OK;
}

/* --------------------------------------------------------------- prove */

static int audit_prove(int argc, char **argv) {
  const char *dbp = NULL, *out = NULL;
  int json = 0, help = 0;
  opt o[] = {{"--db", 1, &dbp, NULL}, {"-o", 1, &out, NULL}, {"--json", 0, NULL, &json},
             {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit prove --db TABLE.vdb [--json | -o PROOF.txt] HASH\n\n"
           "Prints the inclusion proof (RFC 9162) of the live entry HASH: the leaf that\n"
           "added it and the audit path to the root.  Check it with\n"
           "'vouch audit verify-proof --sth HEAD.vsth PROOF.txt'.  Exit 2 if HASH is not live.\n");
    return CLI_EXIT_OK;
  }
  if (argc > 64 || parse_opts(argc, argv, o, 4, ops, &nops) != 0 || nops != 1 || !dbp) {
    cli_errorf("usage: vouch audit prove --db TABLE.vdb [--json | -o PROOF.txt] HASH");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_db *db;
  int rc = VOUCH_OK;
  if (load_db(dbp, &db, &rc) != 0)
    return exit_for(rc);
  int ret = CLI_EXIT_ERROR;
  size_t hb = vouch_algo_bytes(vouch_audit_db_algo(db));
  uint8_t h[32];
  uint64_t leaf;
  vouch_audit_inclusion inc;
  char *text = NULL;
  size_t tl;
  if (strlen(ops[0]) != 2 * hb || vouch_hash_from_hex(ops[0], 2 * hb, h, hb) != VOUCH_OK) {
    cli_errorf("'%s' is not a %s hash", ops[0], vouch_algo_name(vouch_audit_db_algo(db)));
  } else if (vouch_audit_db_find(db, h, &leaf) != VOUCH_OK) {
    cli_errorf("%s is not in the live set of %s", ops[0], dbp);
  } else if ((rc = vouch_audit_inclusion_make(db, leaf, &inc)) != VOUCH_OK ||
             (rc = vouch_audit_inclusion_format(&inc, &text, &tl)) != VOUCH_OK) {
    cli_errorf("%s", vouch_strerror(rc));
  } else if (json) {
    uint8_t root[32];
    vouch_audit_db_root(db, root);
    printf("{\"hash\":\"%s\",\"version\":%llu,\"tree_size\":%llu,\"index\":%llu,", ops[0],
           (unsigned long long)inc.db_version, (unsigned long long)inc.tree_size, (unsigned long long)inc.index);
    json_hex(stdout, "leaf", inc.leaf, inc.leaf_len, 1);
    json_hex(stdout, "root", root, 32, 1);
    printf("\"path\":[");
    for (size_t i = 0; i < inc.proof_n; i++) {
      printf("%s\"", i ? "," : "");
      hex_print(stdout, inc.proof + i * 32, 32);
      printf("\"");
    }
    printf("]}\n");
    ret = CLI_EXIT_OK;
  } else if (out) {
    ret = write_atomic(out, text, tl, 0644) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
  } else {
    fputs(text, stdout);
    ret = CLI_EXIT_OK;
  }
  vouch_audit_free(text);
  vouch_audit_db_free(db);
  return ret;
}

static int audit_verify_proof(int argc, char **argv) {
  const char *sthp = NULL;
  int json = 0, help = 0;
  opt o[] = {{"--sth", 1, &sthp, NULL}, {"--json", 0, NULL, &json}, {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit verify-proof --sth HEAD.vsth [--json] PROOF.txt\n\n"
           "Checks an inclusion proof against a signed tree head: the head's signature, that\n"
           "the proof is for the head's version and size, that the leaf is an addition, and\n"
           "that the audit path leads to the head's root.  Exit 1 if anything fails.\n");
    return CLI_EXIT_OK;
  }
  if (argc > 64 || parse_opts(argc, argv, o, 3, ops, &nops) != 0 || nops != 1 || !sthp) {
    cli_errorf("usage: vouch audit verify-proof --sth HEAD.vsth PROOF.txt");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_sth sth;
  int rc = VOUCH_OK;
  if (load_sth(sthp, &sth, &rc) != 0)
    return exit_for(rc);
  uint8_t *buf;
  size_t len;
  if (read_all(ops[0], &buf, &len) != 0)
    return CLI_EXIT_ERROR;
  vouch_audit_inclusion inc;
  const uint8_t *hash = NULL;
  rc = vouch_audit_inclusion_parse((const char *)buf, len, &inc);
  free(buf);
  if (rc == VOUCH_OK)
    rc = vouch_audit_inclusion_verify(&inc, &sth, &hash);
  size_t hb = vouch_algo_bytes(sth.algo);
  if (json) {
    printf("{\"ok\":%s", rc == VOUCH_OK ? "true" : "false");
    if (rc == VOUCH_OK) {
      printf(",");
      json_hex(stdout, "hash", hash, hb, 1);
      printf("\"version\":%llu,\"index\":%llu", (unsigned long long)inc.db_version, (unsigned long long)inc.index);
    } else {
      printf(",\"error\":\"%s\"", vouch_strerror(rc));
    }
    printf("}\n");
  } else if (rc == VOUCH_OK) {
    printf("ok: ");
    hex_print(stdout, hash, hb);
    printf(" was added at leaf %llu of version %llu (root ", (unsigned long long)inc.index,
           (unsigned long long)inc.db_version);
    hex_print(stdout, sth.root, 32);
    printf(")\n");
  } else {
    printf("FAILED: %s\n", vouch_strerror(rc));
  }
  return rc == VOUCH_OK ? CLI_EXIT_OK : CLI_EXIT_VERIFY;
}

/* --------------------------------------------------------- consistency */

static int audit_consistency(int argc, char **argv) {
  const char *oldp = NULL, *newp = NULL;
  int json = 0, help = 0;
  opt o[] = {{"--old", 1, &oldp, NULL}, {"--new", 1, &newp, NULL}, {"--json", 0, NULL, &json},
             {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit consistency --old OLD.vdb --new NEW.vdb [--json]\n\n"
           "Proves and checks that NEW only appends to OLD (RFC 9162 consistency proof), and\n"
           "lists what the appended leaves do: which hashes were removed and which added.\n"
           "Exit 1 if NEW rewrites anything OLD contained.\n");
    return CLI_EXIT_OK;
  }
  if (argc > 64 || parse_opts(argc, argv, o, 4, ops, &nops) != 0 || nops || !oldp || !newp) {
    cli_errorf("usage: vouch audit consistency --old OLD.vdb --new NEW.vdb [--json]");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_db *a = NULL, *b = NULL;
  int rc = VOUCH_OK;
  if (load_db(oldp, &a, &rc) != 0)
    return exit_for(rc);
  if (load_db(newp, &b, &rc) != 0) {
    vouch_audit_db_free(a);
    return exit_for(rc);
  }
  uint8_t ra[32], rb[32], proof[VOUCH_MERKLE_PROOF_MAX * 32];
  size_t pn = 0;
  uint64_t na = vouch_audit_db_size(a), nb = vouch_audit_db_size(b);
  vouch_audit_db_root(a, ra);
  vouch_audit_db_root(b, rb);
  rc = VOUCH_E_AUDIT_PROOF;
  if (na == 0)
    rc = VOUCH_OK;
  else if (na <= nb && vouch_audit_db_consistency(b, na, proof, &pn) == VOUCH_OK)
    rc = vouch_merkle_verify_consistency(na, nb, ra, rb, proof, pn);
  size_t hb = vouch_algo_bytes(vouch_audit_db_algo(b));
  if (json) {
    printf("{\"ok\":%s,\"old_size\":%llu,\"new_size\":%llu,", rc == VOUCH_OK ? "true" : "false",
           (unsigned long long)na, (unsigned long long)nb);
    json_hex(stdout, "old_root", ra, 32, 1);
    json_hex(stdout, "new_root", rb, 32, 1);
    printf("\"proof\":[");
    for (size_t i = 0; i < pn; i++) {
      printf("%s\"", i ? "," : "");
      hex_print(stdout, proof + i * 32, 32);
      printf("\"");
    }
    printf("],\"removed\":[");
  } else {
    printf("%s: %llu leaves -> %llu leaves\n", rc == VOUCH_OK ? "ok: append-only" : "FAILED: not an extension",
           (unsigned long long)na, (unsigned long long)nb);
    for (size_t i = 0; i < pn; i++) {
      printf("proof ");
      hex_print(stdout, proof + i * 32, 32);
      printf("\n");
    }
  }
  if (rc == VOUCH_OK) {
    for (int pass = 0; pass < 2; pass++) {
      int first = 1;
      if (json && pass == 1)
        printf("],\"added\":[");
      for (uint64_t i = na; i < nb; i++) {
        vouch_audit_leaf lf;
        (void)vouch_audit_db_leaf(b, i, &lf);
        if (lf.op != (pass == 0 ? VOUCH_AUDIT_OP_REMOVE : VOUCH_AUDIT_OP_ADD))
          continue;
        if (json) {
          printf("%s\"", first ? "" : ",");
          hex_print(stdout, lf.hash, hb);
          printf("\"");
        } else {
          printf("%s ", pass == 0 ? "removed" : "added  ");
          hex_print(stdout, lf.hash, hb);
          printf("\n");
        }
        first = 0;
      }
    }
  } else if (json) {
    printf("],\"added\":[");
  }
  if (json)
    printf("]}\n");
  vouch_audit_db_free(a);
  vouch_audit_db_free(b);
  return rc == VOUCH_OK ? CLI_EXIT_OK : CLI_EXIT_VERIFY;
}

/* ----------------------------------------------------------- sign-root */

static int audit_sign_root(int argc, char **argv) {
  const char *key = NULL, *dbp = NULL, *ts = NULL, *idx = NULL, *psi = NULL, *out = NULL, *psif = NULL;
  int help = 0;
  opt o[] = {{"--key", 1, &key, NULL},        {"--db", 1, &dbp, NULL},          {"--time", 1, &ts, NULL},
             {"--index-root", 1, &idx, NULL}, {"--psi-digest", 1, &psi, NULL}, {"-o", 1, &out, NULL},
             {"--psi", 1, &psif, NULL},       {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit sign-root --key SERVERKEY --db TABLE.vdb [--time UNIX]\n"
           "                             [--index-root HEX] [--psi PUBLIC.vpd | --psi-digest HEX] -o HEAD.vsth\n\n"
           "Signs the tree head of TABLE with the operator's key: version, size, root, rule,\n"
           "the digest of the sources' signed lists, and optionally the root of the index\n"
           "and the digest (SHA-256 of the whole file) of the PSI public data built from it.\n"
           "--psi checks first that the public data is valid and names TABLE's root\n"
           "('vouch psi setup --audit-db TABLE.vdb').  --time defaults to now.\n");
    return CLI_EXIT_OK;
  }
  unsigned long t = (unsigned long)time(NULL);
  uint8_t ir[32], pd[32];
  if (argc > 64 || parse_opts(argc, argv, o, 8, ops, &nops) != 0 || nops || !key || !dbp || !out ||
      (ts && cli_parse_uint(ts, 0, ~0UL, &t) != 0) || (idx && parse_hex32(idx, ir) != 0) ||
      (psi && parse_hex32(psi, pd) != 0) || (psi && psif)) {
    cli_errorf("usage: vouch audit sign-root --key SERVERKEY --db TABLE.vdb [--time UNIX] -o HEAD.vsth");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_secret_key k;
  vouch_audit_db *db;
  int rc = VOUCH_OK;
  if (load_db(dbp, &db, &rc) != 0)
    return exit_for(rc);
  if (psif) {
    uint8_t *buf, droot[32], proot[32];
    size_t len;
    vouch_psi_public *pub = NULL;
    if (read_all(psif, &buf, &len) != 0) {
      vouch_audit_db_free(db);
      return CLI_EXIT_ERROR;
    }
    rc = vouch_psi_public_open(&pub, buf, len, NULL);
    if (rc == VOUCH_OK) {
      vouch_psi_public_info(pub, NULL, proot, NULL);
      vouch_audit_db_root(db, droot);
      if (memcmp(proot, droot, 32) != 0) {
        cli_errorf("%s names audit root %02x%02x..., not the root of %s", psif, proot[0], proot[1], dbp);
        rc = VOUCH_E_AUDIT_PROOF;
      }
    } else {
      cli_errorf("%s: %s", psif, vouch_strerror(rc));
    }
    vouch_psi_public_free(pub);
    vouch_audit_digest(buf, len, pd);
    free(buf);
    if (rc != VOUCH_OK) {
      vouch_audit_db_free(db);
      return CLI_EXIT_ERROR;
    }
    psi = "file";
  }
  if (load_seckey(key, &k) != 0) {
    vouch_audit_db_free(db);
    return CLI_EXIT_ERROR;
  }
  vouch_audit_sth sth;
  rc = vouch_audit_sth_make(db, &k, t, idx ? ir : NULL, psi ? pd : NULL, &sth);
  vouch_audit_secret_key_wipe(&k);
  vouch_audit_db_free(db);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s (a --server key is needed)", key, vouch_strerror(rc));
    return CLI_EXIT_ERROR;
  }
  uint8_t enc[VOUCH_AUDIT_STH_BYTES];
  vouch_audit_sth_encode(&sth, enc);
  if (write_atomic(out, enc, sizeof enc, 0644) != 0)
    return CLI_EXIT_ERROR;
  printf("signed head of version %llu (%llu leaves) root ", (unsigned long long)sth.db_version,
         (unsigned long long)sth.tree_size);
  hex_print(stdout, sth.root, 32);
  printf(" -> %s\n", out);
  return CLI_EXIT_OK;
}

/* ----------------------------------------------------------------- log */

static void print_sth_json(const vouch_audit_sth *s) {
  printf("{\"version\":%llu,\"timestamp\":%llu,\"tree_size\":%llu,\"live\":%llu,\"algo\":\"%s\","
         "\"min_sources\":%u,\"distinct_jurisdictions\":%s,\"sources\":%u,",
         (unsigned long long)s->db_version, (unsigned long long)s->timestamp, (unsigned long long)s->tree_size,
         (unsigned long long)s->live_count, vouch_algo_name(s->algo), s->policy.min_sources,
         s->policy.distinct_jurisdictions ? "true" : "false", s->nsources);
  json_hex(stdout, "root", s->root, 32, 1);
  json_hex(stdout, "server_key", s->server_pk, 32, 1);
  json_hex(stdout, "sources_digest", s->sources_digest, 32, 1);
  json_hex(stdout, "index_root", s->index_root, 32, 1);
  json_hex(stdout, "psi_digest", s->psi_digest, 32, 0);
  printf("}");
}

static int log_append(int argc, char **argv) {
  const char *logp = NULL, *sthp = NULL, *dbp = NULL;
  int help = 0;
  opt o[] = {{"--log", 1, &logp, NULL}, {"--sth", 1, &sthp, NULL}, {"--db", 1, &dbp, NULL},
             {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit log append --log LOG.vlog --sth HEAD.vsth --db TABLE.vdb\n\n"
           "Appends the signed head of TABLE to the log (created if absent, for the head's\n"
           "key), with the consistency proof from the previous head, computed from TABLE and\n"
           "checked before anything is written.  Refuses a gap, another key, a rule change,\n"
           "a rewrite of earlier leaves, and a second head for a version already logged (a fork).\n");
    return CLI_EXIT_OK;
  }
  if (argc > 64 || parse_opts(argc, argv, o, 4, ops, &nops) != 0 || nops || !logp || !sthp || !dbp) {
    cli_errorf("usage: vouch audit log append --log LOG.vlog --sth HEAD.vsth --db TABLE.vdb");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_sth sth;
  vouch_audit_db *db = NULL;
  vouch_audit_log *log = NULL;
  int rc, ret = CLI_EXIT_ERROR;
  if (load_sth(sthp, &sth, &rc) != 0)
    return exit_for(rc);
  if (load_db(dbp, &db, &rc) != 0)
    return exit_for(rc);
  if (access(logp, F_OK) == 0) {
    if (load_log(logp, &log, &rc) != 0) {
      ret = exit_for(rc);
      goto out;
    }
  } else if (vouch_audit_log_create(sth.server_pk, &log) != VOUCH_OK) {
    goto out;
  }
  rc = vouch_audit_sth_matches_db(&sth, db);
  if (rc != VOUCH_OK) {
    cli_errorf("%s does not describe %s", sthp, dbp);
    ret = CLI_EXIT_VERIFY;
    goto out;
  }
  uint8_t proof[VOUCH_MERKLE_PROOF_MAX * 32];
  size_t pn = 0, n = vouch_audit_log_count(log);
  if (n > 0 && sth.db_version == n + 1) {
    vouch_audit_sth last;
    (void)vouch_audit_log_get(log, n - 1, &last, NULL, NULL);
    if (last.tree_size > 0 && last.tree_size <= sth.tree_size &&
        vouch_audit_db_consistency(db, last.tree_size, proof, &pn) != VOUCH_OK)
      pn = 0;
  }
  rc = vouch_audit_log_append(log, &sth, proof, pn);
  if (rc != VOUCH_OK) {
    cli_errorf("cannot append version %llu: %s", (unsigned long long)sth.db_version, vouch_strerror(rc));
    ret = exit_for(rc);
    goto out;
  }
  if (save_log(logp, log) != 0)
    goto out;
  printf("logged version %llu (%llu leaves, %zu proof hashes) in %s: %zu heads\n",
         (unsigned long long)sth.db_version, (unsigned long long)sth.tree_size, pn, logp,
         vouch_audit_log_count(log));
  ret = CLI_EXIT_OK;
out:
  vouch_audit_db_free(db);
  vouch_audit_log_free(log);
  return ret;
}

static int log_show(int argc, char **argv) {
  int json = 0, help = 0;
  opt o[] = {{"--json", 0, NULL, &json}, {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit log show [--json] LOG.vlog\n\n"
           "Verifies the log and prints its heads, one per line (--json: JSON Lines).\n");
    return CLI_EXIT_OK;
  }
  if (argc > 64 || parse_opts(argc, argv, o, 2, ops, &nops) != 0 || nops != 1) {
    cli_errorf("usage: vouch audit log show [--json] LOG.vlog");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_log *log;
  int rc = VOUCH_OK;
  if (load_log(ops[0], &log, &rc) != 0)
    return exit_for(rc);
  for (size_t i = 0; i < vouch_audit_log_count(log); i++) {
    vouch_audit_sth s;
    size_t pn;
    (void)vouch_audit_log_get(log, i, &s, NULL, &pn);
    if (json) {
      print_sth_json(&s);
      printf("\n");
    } else {
      printf("version %llu  time %llu  leaves %llu  live %llu  rule %u%s  root ", (unsigned long long)s.db_version,
             (unsigned long long)s.timestamp, (unsigned long long)s.tree_size, (unsigned long long)s.live_count,
             s.policy.min_sources, s.policy.distinct_jurisdictions ? "/jur" : "");
      hex_print(stdout, s.root, 32);
      printf("  proof %zu\n", pn);
    }
  }
  vouch_audit_log_free(log);
  return CLI_EXIT_OK;
}

static int log_verify(int argc, char **argv) {
  const char *trusted = NULL, *against = NULL;
  int json = 0, help = 0;
  opt o[] = {{"--trusted", 1, &trusted, NULL}, {"--against", 1, &against, NULL}, {"--json", 0, NULL, &json},
             {"--help", 0, NULL, &help}};
  char *ops[64];
  int nops;
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit log verify [--trusted FILE] [--against OTHER.vlog] [--json] LOG.vlog\n\n"
           "Checks every head's signature, that versions follow without gaps, and every\n"
           "consistency proof between successive heads.  --trusted: the log's key must be a\n"
           "pinned server key and every pinned root must be in the log.  --against: a second\n"
           "copy of the log (another mirror, or an older download); any version with two\n"
           "different heads is a fork.  Exit 1 on any failure.\n");
    return CLI_EXIT_OK;
  }
  if (argc > 64 || parse_opts(argc, argv, o, 4, ops, &nops) != 0 || nops != 1) {
    cli_errorf("usage: vouch audit log verify [--trusted FILE] [--against OTHER.vlog] LOG.vlog");
    return CLI_EXIT_ERROR;
  }
  vouch_audit_log *log = NULL, *other = NULL;
  int rc = VOUCH_OK, ret = CLI_EXIT_OK;
  const char *what = "log";
  uint64_t fork_v = 0;
  if (load_log(ops[0], &log, &rc) != 0) {
    ret = exit_for(rc);
    if (rc == VOUCH_OK)
      return CLI_EXIT_ERROR;
    goto report;
  }
  if (against) {
    if (load_log(against, &other, &rc) != 0) {
      what = "other log";
      ret = rc == VOUCH_OK ? CLI_EXIT_ERROR : exit_for(rc);
      goto report;
    }
    rc = vouch_audit_log_compare(log, other, &fork_v);
    if (rc != VOUCH_OK) {
      what = rc == VOUCH_E_AUDIT_FORK ? "fork" : "different log keys";
      ret = CLI_EXIT_VERIFY;
      goto report;
    }
  }
  if (trusted) {
    vouch_audit_trust t;
    if (load_trust(trusted, &t) != 0) {
      ret = CLI_EXIT_ERROR;
      goto out;
    }
    size_t n = vouch_audit_log_count(log);
    if (n == 0) {
      rc = VOUCH_E_AUDIT_UNTRUSTED;
      what = "empty log";
    } else {
      vouch_audit_sth last;
      vouch_audit_report rep;
      (void)vouch_audit_log_get(log, n - 1, &last, NULL, NULL);
      rc = vouch_audit_check(&last, NULL, log, &t, NULL, NULL, &rep);
      what = rep.trusted_server != VOUCH_OK ? "server key not trusted"
             : rep.pins > 0                 ? "pinned root not in this log"
             : rep.trusted_policy > 0       ? "rule weaker than pinned"
                                            : "trust";
    }
    if (rc != VOUCH_OK)
      ret = CLI_EXIT_VERIFY;
  }
report:
  if (json) {
    printf("{\"path\":");
    cli_json_string(stdout, ops[0]);
    printf(",\"ok\":%s,\"heads\":%zu", ret == CLI_EXIT_OK ? "true" : "false", log ? vouch_audit_log_count(log) : 0);
    if (ret != CLI_EXIT_OK)
      printf(",\"failed\":\"%s\",\"error\":\"%s\"", what, vouch_strerror(rc));
    if (fork_v)
      printf(",\"fork_version\":%llu", (unsigned long long)fork_v);
    printf("}\n");
  } else if (ret == CLI_EXIT_OK) {
    printf("ok: %zu heads, signatures and consistency proofs verified%s%s\n", vouch_audit_log_count(log),
           against ? ", same heads as the other copy" : "", trusted ? ", trusted" : "");
  } else {
    printf("FAILED: %s: %s", what, vouch_strerror(rc));
    if (fork_v)
      printf(" (version %llu)", (unsigned long long)fork_v);
    printf("\n");
  }
out:
  vouch_audit_log_free(log);
  vouch_audit_log_free(other);
  return ret;
}

static int cmd_log(int argc, char **argv) {
  static const cli_subcmd cmds[] = {{"append", log_append}, {"show", log_show}, {"verify", log_verify}};
  return cli_dispatch("audit log", "usage: vouch audit log append|show|verify ...   "
                      "('vouch audit log append --help')\n", cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}

/* -------------------------------------------------------------- verify */

static const char *check_word(int v) { return v < 0 ? "skip" : v == VOUCH_OK ? "ok" : "FAIL"; }

/* --blinding: the proof of honest blinding over the table's live set
 * (docs/protocol.md section 13).  Returns a VOUCH_* code (0 = passed), or
 * -1 after a message if a file cannot be read. */
static int blinding_check(const char *auditp, const char *dbp, const uint8_t *pdbuf, size_t pdlen) {
  uint8_t *audit = NULL, *hs = NULL, *keys = NULL, root[32];
  size_t alen = 0, n = 0;
  int algo, scheme, rc;
  unsigned band;
  vouch_psi_public *pub = NULL;
  rc = vouch_psi_public_open(&pub, pdbuf, pdlen, NULL);
  if (rc != VOUCH_OK)
    return rc;
  vouch_psi_public_scheme(pub, NULL, &scheme, &band, NULL);
  vouch_psi_public_free(pub);
  if (read_all(auditp, &audit, &alen) != 0)
    return -1;
  if (cli_audit_live_hashes(dbp, &algo, &hs, &n, root) != 0) {
    free(audit);
    return -1;
  }
  keys = cli_psi_entry_keys(scheme, band, algo, hs, n);
  free(hs);
  if (!keys) {
    free(audit);
    return -1;
  }
  rc = vouch_psi_blinding_audit(pdbuf, pdlen, keys, n, audit, alen);
  sodium_memzero(audit, alen);
  free(audit);
  free(keys);
  return rc;
}

static int audit_verify(int argc, char **argv) {
  const char *sthp = NULL, *dbp = NULL, *logp = NULL, *trusted = NULL, *prevp = NULL, *psi = NULL, *idx = NULL;
  const char *bankp = NULL, *blindp = NULL;
  uint8_t *pdbuf = NULL;
  size_t pdlen = 0;
  int json = 0, help = 0;
  opt o[] = {{"--sth", 1, &sthp, NULL},      {"--db", 1, &dbp, NULL},     {"--log", 1, &logp, NULL},
             {"--trusted", 1, &trusted, NULL}, {"--prev", 1, &prevp, NULL}, {"--psi-digest", 1, &psi, NULL},
             {"--index-root", 1, &idx, NULL}, {"--json", 0, NULL, &json},  {"--help", 0, NULL, &help},
             {"--bank", 1, &bankp, NULL},     {"--blinding", 1, &blindp, NULL}};
  if (wants_help(argc, argv)) {
    printf("usage: vouch audit verify --sth HEAD.vsth [--db TABLE.vdb] [--log LOG.vlog]\n"
           "                          [--trusted FILE] [--prev OLD.vdb] [--index-root HEX]\n"
           "                          [--psi-digest HEX] [--bank BANKS.sqlite] [--json]\n"
           "                          [--blinding PUBLIC.vpd.auditor]\n"
           "                          [PUBLIC.vpd] [LIST.vsl...]\n\n"
           "Checks what can be checked with the files given and prints each check:\n"
           "  head signature      always (against the key the head names)\n"
           "  table               --db: root recomputed from the leaves, every addition meets the\n"
           "                      rule, the head describes exactly this table\n"
           "  source signatures   --db: every source's list signature against its key\n"
           "  lists               LIST.vsl... and/or --bank: the lists (--bank: the current\n"
           "                      signed lists stored in every bank of that file) rebuild\n"
           "                      exactly this table (with --prev for versions after the\n"
           "                      first): the auditor's check\n"
           "  log                 --log: the head is in the log, the log verifies throughout\n"
           "  trust               --trusted: server key, source keys, rule and pinned roots\n"
           "  public data         PUBLIC.vpd: valid and signed, names the head's root, and is\n"
           "                      exactly the data the head binds (SHA-256 of the file)\n"
           "  index/psi           the head binds this index root / PSI public data digest\n"
           "  blinding proof      --blinding FILE with --db and PUBLIC.vpd: the auditors' file\n"
           "                      'psi setup' wrote is for this public data and its committed\n"
           "                      dummy seed, its slot map holds exactly the keys of the table's\n"
           "                      live set (plus dummies), and the proof in the public data that\n"
           "                      every slot is blinded with the secret of L holds\n"
           "Exit 1 if any check fails, 2 on unreadable input.\n");
    return CLI_EXIT_OK;
  }
  char **ops = malloc((size_t)argc * sizeof *ops);
  int nops;
  uint8_t pd[32], ir[32];
  if (!ops || parse_opts(argc, argv, o, 11, ops, &nops) != 0 || !sthp || (psi && parse_hex32(psi, pd) != 0) ||
      (idx && parse_hex32(idx, ir) != 0)) {
    cli_errorf("usage: vouch audit verify --sth HEAD.vsth [--db TABLE.vdb] [--log LOG.vlog] [--trusted FILE] "
               "[LIST.vsl...]");
    free(ops);
    return CLI_EXIT_ERROR;
  }
  vouch_audit_sth sth;
  vouch_audit_db *db = NULL, *prev = NULL;
  vouch_audit_log *log = NULL;
  vouch_audit_trust trust;
  loaded_list *ll = NULL;
  vouch_audit_list *lists = NULL;
  cli_bank_lists bl = {0};
  int rc, ret = CLI_EXIT_ERROR, lists_rc = -1;
  if (load_sth(sthp, &sth, &rc) != 0) {
    ret = exit_for(rc);
    if (json)
      printf("{\"ok\":false,\"failed\":\"head\",\"error\":\"%s\"}\n", vouch_strerror(rc));
    else
      printf("FAIL head: %s\n", vouch_strerror(rc));
    goto out;
  }
  if (dbp && load_db(dbp, &db, &rc) != 0) {
    ret = exit_for(rc);
    if (json)
      printf("{\"ok\":false,\"failed\":\"table\",\"error\":\"%s\"}\n", vouch_strerror(rc));
    else
      printf("FAIL table: %s\n", vouch_strerror(rc));
    goto out;
  }
  if (logp && load_log(logp, &log, &rc) != 0) {
    ret = exit_for(rc);
    if (json)
      printf("{\"ok\":false,\"failed\":\"log\",\"error\":\"%s\"}\n", vouch_strerror(rc));
    else
      printf("FAIL log: %s\n", vouch_strerror(rc));
    goto out;
  }
  if (trusted && load_trust(trusted, &trust) != 0)
    goto out;
  if (prevp && load_db(prevp, &prev, &rc) != 0) {
    ret = exit_for(rc);
    goto out;
  }
  int nlists = 0, public_rc = -1, blind_rc = -1;
  if (bankp && cli_bank_lists_load("audit verify", bankp, NULL, 0, &bl) != 0)
    goto out;
  if (nops > 0 || bl.n > 0) {
    ll = calloc((size_t)nops + bl.n, sizeof *ll);
    lists = calloc((size_t)nops + bl.n, sizeof *lists);
    if (!ll || !lists)
      goto out;
    /* the bank's lists first; their buffers move into ll */
    for (size_t i = 0; i < bl.n; i++) {
      ll[nlists].buf = bl.bufs[i];
      ll[nlists].len = bl.lens[i];
      bl.bufs[i] = NULL;
      char name[4200];
      snprintf(name, sizeof name, "%s: stored list %zu", bankp, i + 1);
      if (open_list(&ll[nlists], name, &rc) != 0) { /* verified on import: the bank file was changed */
        ret = exit_for(rc);
        goto out;
      }
      lists[nlists] = ll[nlists].list;
      nlists++;
    }
    for (int i = 0; i < nops; i++) {
      if (read_all(ops[i], &ll[nlists].buf, &ll[nlists].len) != 0)
        goto out;
      if (is_public_data(ll[nlists].buf, ll[nlists].len)) {
        /* PSI public data: valid, names the head's root, and is the data the head binds. */
        vouch_psi_public *pub = NULL;
        uint8_t proot[32];
        public_rc = vouch_psi_public_open(&pub, ll[nlists].buf, ll[nlists].len, NULL);
        if (public_rc == VOUCH_OK) {
          vouch_psi_public_info(pub, NULL, proot, NULL);
          public_rc = memcmp(proot, sth.root, 32) == 0 ? VOUCH_OK : VOUCH_E_AUDIT_PROOF;
        }
        vouch_psi_public_free(pub);
        if (!psi) {
          vouch_audit_digest(ll[nlists].buf, ll[nlists].len, pd);
          psi = ops[i];
        }
        if (!pdbuf) { /* kept for --blinding */
          pdbuf = ll[nlists].buf;
          pdlen = ll[nlists].len;
        } else {
          free(ll[nlists].buf);
        }
        ll[nlists].buf = NULL;
        continue;
      }
      if (open_list(&ll[nlists], ops[i], &rc) != 0) {
        ret = exit_for(rc);
        goto out;
      }
      lists[nlists] = ll[nlists].list;
      nlists++;
    }
    if (nlists > 0 && !db) {
      cli_errorf("lists need --db TABLE.vdb to check");
      goto out;
    }
    if (nlists > 0)
      lists_rc = vouch_audit_db_check_lists(db, prev, lists, (size_t)nlists);
  }
  if (blindp) {
    if (!dbp || !pdbuf) {
      cli_errorf("--blinding needs --db TABLE.vdb and the PUBLIC.vpd");
      goto out;
    }
    blind_rc = blinding_check(blindp, dbp, pdbuf, pdlen);
    if (blind_rc < 0)
      goto out;
  }
  vouch_audit_report r;
  rc = vouch_audit_check(&sth, db, log, trusted ? &trust : NULL, idx ? ir : NULL, psi ? pd : NULL, &r);
  if (rc == VOUCH_OK && lists_rc > 0)
    rc = lists_rc;
  if (rc == VOUCH_OK && public_rc > 0)
    rc = public_rc;
  if (rc == VOUCH_OK && blind_rc > 0) /* a proof or map that does not hold is a failed check (exit 1) */
    rc = blind_rc == VOUCH_E_PSI_FORMAT ? blind_rc : VOUCH_E_AUDIT_PROOF;
  struct {
    const char *name;
    int v;
  } rows[] = {{"head_signature", r.sth_signature}, {"head_matches_table", r.sth_matches_db},
              {"source_signatures", r.source_sigs}, {"two_source_rule", r.policy},
              {"lists_rebuild_table", lists_rc},     {"log", r.log},
              {"trusted_server", r.trusted_server}, {"trusted_sources", r.trusted_sources},
              {"trusted_rule", r.trusted_policy},   {"pinned_roots", r.pins},
              {"public_data", public_rc},           {"index_root", r.index_root},
              {"psi_digest", r.psi_digest},         {"blinding_proof", blind_rc}};
  size_t nrows = sizeof rows / sizeof rows[0];
  if (json) {
    printf("{\"ok\":%s,\"version\":%llu,\"tree_size\":%llu,", rc == VOUCH_OK ? "true" : "false",
           (unsigned long long)sth.db_version, (unsigned long long)sth.tree_size);
    json_hex(stdout, "root", sth.root, 32, 1);
    printf("\"checks\":{");
    for (size_t i = 0; i < nrows; i++)
      printf("%s\"%s\":\"%s\"", i ? "," : "", rows[i].name, check_word(rows[i].v));
    printf("}");
    if (rc != VOUCH_OK)
      printf(",\"error\":\"%s\"", vouch_strerror(rc));
    printf("}\n");
  } else {
    printf("head: version %llu, %llu leaves, %llu live, rule %u sources%s\nroot ", (unsigned long long)sth.db_version,
           (unsigned long long)sth.tree_size, (unsigned long long)sth.live_count, sth.policy.min_sources,
           sth.policy.distinct_jurisdictions ? " in distinct jurisdictions" : "");
    hex_print(stdout, sth.root, 32);
    printf("\nserver key ");
    hex_print(stdout, sth.server_pk, 32);
    printf("\n");
    for (size_t i = 0; i < nrows; i++)
      printf("%-4s %s%s%s\n", check_word(rows[i].v), rows[i].name, rows[i].v > 0 ? ": " : "",
             rows[i].v > 0 ? vouch_strerror(rows[i].v) : "");
    printf("%s\n", rc == VOUCH_OK ? "verified" : "VERIFICATION FAILED");
  }
  ret = rc == VOUCH_OK ? CLI_EXIT_OK : exit_for(rc);
  if (rc != VOUCH_OK && ret == CLI_EXIT_OK)
    ret = CLI_EXIT_VERIFY;
out:
  free(pdbuf);
  if (ll)
    for (size_t i = 0; i < (size_t)nops + bl.n; i++)
      free(ll[i].buf);
  cli_bank_lists_free(&bl);
  free(ll);
  free(lists);
  free(ops);
  vouch_audit_db_free(db);
  vouch_audit_db_free(prev);
  vouch_audit_log_free(log);
  return ret;
}

/* ------------------------------------------------ PSI integration */

int cli_audit_live_hashes(const char *path, int *algo, uint8_t **hashes, size_t *n, uint8_t root[32]) {
  vouch_audit_db *db;
  int rc = VOUCH_OK;
  if (load_db(path, &db, &rc) != 0)
    return -1;
  *algo = vouch_audit_db_algo(db);
  size_t hb = vouch_algo_bytes(*algo), live = (size_t)vouch_audit_db_live_count(db);
  *hashes = malloc((live ? live : 1) * hb);
  if (!*hashes || vouch_audit_db_live(db, *hashes, (live ? live : 1) * hb) != VOUCH_OK) {
    cli_errorf("%s: cannot read the live hashes", path);
    free(*hashes);
    *hashes = NULL;
    vouch_audit_db_free(db);
    return -1;
  }
  *n = live;
  vouch_audit_db_root(db, root);
  vouch_audit_db_free(db);
  return 0;
}

int cli_audit_check_public(const uint8_t *vpd, size_t len, const uint8_t vpd_root[32], const char *sth_path,
                           const char *log_path, const char *trusted_path) {
  vouch_audit_sth sth;
  vouch_audit_log *log = NULL;
  vouch_audit_trust trust;
  int rc = VOUCH_OK;
  if (!sth_path) {
    cli_errorf("--trusted needs --sth HEAD.vsth (the signed head published with the public data)");
    return CLI_EXIT_ERROR;
  }
  if (load_sth(sth_path, &sth, &rc) != 0)
    return exit_for(rc);
  if (trusted_path && load_trust(trusted_path, &trust) != 0)
    return CLI_EXIT_ERROR;
  if (log_path && load_log(log_path, &log, &rc) != 0)
    return exit_for(rc);
  uint8_t d[32];
  vouch_audit_digest(vpd, len, d);
  vouch_audit_report r;
  rc = vouch_audit_check(&sth, NULL, log, trusted_path ? &trust : NULL, NULL, d, &r);
  vouch_audit_log_free(log);
  if (rc == VOUCH_OK && memcmp(vpd_root, sth.root, 32) != 0)
    rc = VOUCH_E_AUDIT_PROOF;
  if (rc != VOUCH_OK) {
    const char *what = r.sth_signature > 0    ? "head signature"
                       : r.psi_digest > 0     ? "the head does not name this public data"
                       : r.log > 0            ? "log position"
                       : r.trusted_server > 0 ? "server key not trusted"
                       : r.trusted_policy > 0 ? "rule weaker than trusted"
                       : r.pins > 0           ? "not linked to a pinned root"
                                              : "the public data's audit root is not the head's root";
    cli_errorf("public data refused: %s (%s)", what, vouch_strerror(rc));
    return CLI_EXIT_VERIFY;
  }
  return CLI_EXIT_OK;
}

/* ---------------------------------------------- index integration */

int cli_audit_index_build(const char *table_path, char **list_paths, uint8_t *const *list_bufs,
                          const size_t *list_lens, size_t nlists, unsigned min_sources, int any_jurisdiction,
                          const char *prev_path, const char *audit_out, const char *index_out) {
  vouch_audit_db *db = NULL, *prev = NULL;
  loaded_list *ll = NULL;
  vouch_audit_list *lists = NULL;
  int rc, ret = CLI_EXIT_ERROR;
  if (table_path) {
    if (load_db(table_path, &db, &rc) != 0)
      return exit_for(rc);
  } else {
    if (!audit_out || nlists == 0) {
      cli_errorf("index build --require-sources: give the signed lists (--list FILE.vsl, one per source, "
                 "or --db with lists imported by 'bank import --signed') and --audit-out TABLE.vdb");
      return CLI_EXIT_ERROR;
    }
    ll = calloc(nlists, sizeof *ll);
    lists = calloc(nlists, sizeof *lists);
    if (!ll || !lists)
      goto out;
    for (size_t i = 0; i < nlists; i++) {
      if (list_bufs) { /* lists taken from a bank: verified again here */
        rc = vouch_audit_list_open(list_bufs[i], list_lens[i], &lists[i]);
        if (rc != VOUCH_OK) {
          cli_errorf("stored signed list %zu: %s", i + 1, vouch_strerror(rc));
          ret = exit_for(rc);
          goto out;
        }
        continue;
      }
      if (load_list(list_paths[i], &ll[i], &rc) != 0) {
        ret = exit_for(rc);
        goto out;
      }
      lists[i] = ll[i].list;
    }
    if (prev_path && load_db(prev_path, &prev, &rc) != 0) {
      ret = exit_for(rc);
      goto out;
    }
    vouch_audit_policy pol = {(uint8_t)min_sources, (uint8_t)(any_jurisdiction ? 0 : 1)};
    rc = vouch_audit_db_build(prev, lists, nlists, pol, &db);
    if (rc != VOUCH_OK) {
      cli_errorf("index build: audited table: %s", vouch_strerror(rc));
      goto out;
    }
    if (save_db(audit_out, db) != 0)
      goto out;
  }
  uint8_t iroot[32], troot[32];
  char err[256] = "";
  rc = vouch_audit_index_write(db, index_out, iroot, err, sizeof err);
  if (rc == VOUCH_E_NOMEM && !err[0]) {
    cli_errorf("out of memory");
    goto out;
  }
  if (rc != VOUCH_OK) {
    cli_errorf("index build: %s%s%s", vouch_strerror(rc), err[0] ? ": " : "", err);
    goto out;
  }
  size_t n = (size_t)vouch_audit_db_live_count(db);
  vouch_audit_db_root(db, troot);
  vouch_audit_policy p = vouch_audit_db_policy(db);
  printf("%s: %zu entries (audited table version %llu, rule %u sources%s), root ", index_out, n,
         (unsigned long long)vouch_audit_db_version(db), p.min_sources,
         p.distinct_jurisdictions ? " in distinct jurisdictions" : "");
  hex_print(stdout, iroot, 32);
  printf("\ntable root ");
  hex_print(stdout, troot, 32);
  printf("%s%s\n", audit_out && !table_path ? " -> " : "", audit_out && !table_path ? audit_out : "");
  ret = CLI_EXIT_OK;
out:
  if (ll)
    for (size_t i = 0; i < nlists; i++)
      free(ll[i].buf);
  free(ll);
  free(lists);
  vouch_audit_db_free(db);
  vouch_audit_db_free(prev);
  return ret;
}

/* ---------------------------------------------------------------- main */

static const char audit_usage[] =
    "usage: vouch audit COMMAND ...\n\n"
    "  source keygen|sign|verify   source keys and signed hash lists\n"
    "  build                       next table version from signed lists (two-source rule)\n"
    "  root                        check a table, print its root\n"
    "  prove                       inclusion proof of one hash\n"
    "  verify-proof                check an inclusion proof against a signed head\n"
    "  consistency                 prove a new table version only appends to an old one\n"
    "  sign-root                   sign a tree head (operator key)\n"
    "  log append|show|verify      the log of signed heads; fork detection\n"
    "  verify                      check a head against a table, lists, log and pinned trust\n\n"
    "'vouch audit COMMAND --help' describes each.  docs/audit.md has the formats.\n"
    "Exit status: 0 ok, 1 a verification failed, 2 usage or input error.\n";

int cmd_audit(int argc, char **argv) {
  static const cli_subcmd cmds[] = {
      {"source", cmd_source},       {"build", audit_build},       {"root", audit_root},
      {"prove", audit_prove},       {"verify-proof", audit_verify_proof}, {"consistency", audit_consistency},
      {"sign-root", audit_sign_root}, {"log", cmd_log},           {"verify", audit_verify}};
  return cli_dispatch("audit", audit_usage, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
