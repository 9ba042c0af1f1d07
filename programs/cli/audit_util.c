/* programs/cli/audit_util.c -- what the `vouch audit` commands share: file
 * I/O, hex printing, option parsing (getopt_long), and the loaders and
 * savers of keys, lists, tables, heads, logs and trust files (audit_cli.h). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "audit_cli.h"

/* ------------------------------------------------------------- file I/O */

int audit_read_all(const char *path, uint8_t **out, size_t *len) {
  return cli_read_file_reported(path, AUDIT_FILE_MAX, out, len);
}

int audit_write_atomic(const char *path, const void *buf, size_t len, mode_t mode) {
  if (cli_write_file_atomic(path, buf, len, (unsigned)mode) != 0) {
    cli_errorf("%s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

void audit_json_hex(FILE *f, const char *key, const uint8_t *b, size_t n, int comma) {
  fprintf(f, "\"%s\":\"", key);
  cli_hex_out(f, b, n);
  fprintf(f, "\"%s", comma ? "," : "");
}

int audit_is_public_data(const uint8_t *buf, size_t len) { return len >= 8 && memcmp(buf, "VOUCHPSI", 8) == 0; }

int audit_exit_for(int rc) {
  if (rc == VOUCH_OK)
    return CLI_EXIT_OK;
  return vouch_rc_class(rc) == 40 ? CLI_EXIT_VERIFY : CLI_EXIT_ERROR;
}

/* ---------------------------------------------------------- arguments */

#define AUDIT_OPTS_MAX 16

/* Parses argv with getopt_long: options in any order before or between
 * operands, "--" ends them.  *ops receives the operands in order (moved to
 * the front of argv + 1), *nops their count.  Returns -1 after a message
 * on a usage error. */
static int audit_parse_opts(int argc, char **argv, const audit_opt *opts, size_t nopts, char ***ops, int *nops) {
  struct option lo[AUDIT_OPTS_MAX + 1];
  char shorts[2 + 2 * AUDIT_OPTS_MAX + 1] = "-:"; /* operands in order (code 1); ':' for a missing value */
  size_t ns = 2, nl = 0;
  if (nopts > AUDIT_OPTS_MAX)
    return -1;
  for (size_t k = 0; k < nopts; k++) {
    if (opts[k].name[1] != '-') { /* "-o" */
      shorts[ns++] = opts[k].name[1];
      if (opts[k].takes_value)
        shorts[ns++] = ':';
      continue;
    }
    lo[nl++] = (struct option){opts[k].name + 2, opts[k].takes_value ? required_argument : no_argument, NULL,
                               256 + (int)k};
  }
  shorts[ns] = 0;
  lo[nl] = (struct option){0, 0, 0, 0};
  /* Operands are moved to argv[1..]: never past the element getopt reads. */
  int n = 0, c;
  opterr = 0;
  optind = 0; /* glibc: a full reset, so the "-" ordering of this call applies */
  for (;;) {
    int at = optind < 1 ? 1 : optind; /* the element this option is in (no permutation) */
    if ((c = getopt_long(argc, argv, shorts, lo, NULL)) == -1)
      break;
    if (c == 1) {
      argv[1 + n++] = optarg;
      continue;
    }
    if (c == '?' || c == ':') {
      cli_errorf(c == '?' ? "unknown option '%s'" : "option '%s' needs a value", argv[at]);
      return -1;
    }
    size_t k = 0;
    if (c >= 256)
      k = (size_t)(c - 256);
    else
      while (k < nopts && opts[k].name[1] != c)
        k++;
    if (opts[k].takes_value)
      *opts[k].value = optarg;
    else
      *opts[k].flag = 1;
  }
  for (int i = optind; i < argc; i++) /* after "--" */
    argv[1 + n++] = argv[i];
  *ops = argv + 1;
  *nops = n;
  return 0;
}

static int audit_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
      return 1;
  return 0;
}

int audit_args(int argc, char **argv, const audit_opt *opts, size_t nopts, const char *help, char ***ops,
               int *nops) {
  if (audit_wants_help(argc, argv)) {
    fputs(help, stdout);
    return 1;
  }
  return audit_parse_opts(argc, argv, opts, nopts, ops, nops) != 0 ? -1 : 0;
}

int audit_usage(const char *synopsis) {
  cli_errorf("usage: %s", synopsis);
  return CLI_EXIT_ERROR;
}

int audit_parse_hex32(const char *s, uint8_t out[32]) {
  return s && strlen(s) == 64 && vouch_hash_from_hex(s, 64, out, 32) == VOUCH_OK ? 0 : -1;
}

/* ------------------------------------------------------------- loaders */


int audit_open_list(audit_loaded_list *l, const char *name, int *rc_out) {
  int rc = vouch_audit_list_open(l->buf, l->len, &l->list);
  if (rc_out)
    *rc_out = rc;
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", name, vouch_strerror(rc));
    return -1;
  }
  return 0;
}

int audit_load_list(const char *path, audit_loaded_list *l, int *rc_out) {
  if (rc_out)
    *rc_out = VOUCH_E_IO; /* until the file is read */
  if (audit_read_all(path, &l->buf, &l->len) != 0)
    return -1;
  return audit_open_list(l, path, rc_out);
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
  return vouch_audit_db_parse(out, b, n);
}
static int dec_sth(const uint8_t *b, size_t n, void *out, size_t *w) {
  (void)w;
  return vouch_audit_sth_decode(b, n, out);
}
static int dec_log(const uint8_t *b, size_t n, void *out, size_t *w) { return vouch_audit_log_parse(out, b, n, w); }
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
  if ((secret ? cli_read_secret(path, AUDIT_FILE_MAX, &buf, &len) : audit_read_all(path, &buf, &len)) != 0)
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

int audit_load_seckey(const char *path, vouch_audit_secret_key *k) {
  return load_file(path, dec_seckey, k, AT_FILE, 1, NULL);
}
int audit_load_db(const char *path, vouch_audit_db **db, int *rc_out) {
  return load_file(path, dec_db, db, AT_FILE, 0, rc_out);
}
int audit_load_sth(const char *path, vouch_audit_sth *sth, int *rc_out) {
  return load_file(path, dec_sth, sth, AT_FILE, 0, rc_out);
}
int audit_load_log(const char *path, vouch_audit_log **log, int *rc_out) {
  return load_file(path, dec_log, log, AT_RECORD, 0, rc_out);
}
int audit_load_trust(const char *path, vouch_audit_trust *t) { return load_file(path, dec_trust, t, AT_LINE, 0, NULL); }

/* Encodes an object into a buffer freed with vouch_free(). */
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
  int r = audit_write_atomic(path, buf, len, 0644);
  vouch_free(buf);
  return r;
}
int audit_save_db(const char *path, const vouch_audit_db *db) { return save_file(path, enc_db, db); }
int audit_save_log(const char *path, const vouch_audit_log *log) { return save_file(path, enc_log, log); }

/* ---------------------------------------------------------- next version */

int audit_build_next(char *const *paths, uint8_t *const *bufs, const size_t *lens, size_t n, const char *prev_path,
                     vouch_audit_policy pol, const char *out_path, const char *what, vouch_audit_db **db,
                     vouch_audit_db **prev) {
  audit_loaded_list *ll = calloc(n + 1, sizeof *ll);
  vouch_audit_list *lists = calloc(n + 1, sizeof *lists);
  int rc = VOUCH_OK, ret = CLI_EXIT_ERROR;
  *db = *prev = NULL;
  if (!ll || !lists)
    goto out;
  for (size_t i = 0; i < n; i++) {
    if (bufs) { /* lists taken from a bank: verified again here */
      rc = vouch_audit_list_open(bufs[i], lens[i], &lists[i]);
      if (rc != VOUCH_OK) {
        cli_errorf("stored signed list %zu: %s", i + 1, vouch_strerror(rc));
        ret = audit_exit_for(rc);
        goto out;
      }
      continue;
    }
    if (audit_load_list(paths[i], &ll[i], &rc) != 0) {
      ret = audit_exit_for(rc);
      goto out;
    }
    lists[i] = ll[i].list;
  }
  if (prev_path && audit_load_db(prev_path, prev, &rc) != 0) {
    ret = audit_exit_for(rc);
    goto out;
  }
  rc = vouch_audit_db_build(db, *prev, lists, n, pol);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", what, vouch_strerror(rc));
    goto out;
  }
  if (audit_save_db(out_path, *db) == 0)
    ret = CLI_EXIT_OK;
out:
  if (ll)
    for (size_t i = 0; i < n; i++)
      free(ll[i].buf);
  free(ll);
  free(lists);
  return ret;
}
