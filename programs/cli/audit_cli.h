/* programs/cli/audit_cli.h -- what the files of `vouch audit` share
 * (audit_*.c; docs/audit.md): file I/O, option parsing, the loaders and
 * savers of the audit files, and the subcommands cmd_audit.c dispatches to.
 * Private to the CLI. */
#ifndef VOUCH_AUDIT_CLI_H
#define VOUCH_AUDIT_CLI_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "cli.h"

/* Exit statuses of `vouch audit`: 0 ok; 1 a verification failed
 * (signature, proof, policy, fork, trust); 2 usage, input or I/O error. */
#define CLI_EXIT_VERIFY 1
#define AUDIT_FILE_MAX ((size_t)16 << 30) /* 16 GiB: far above any list or table we write */

/* ---- files and printing (audit_util.c) ---- */
/* cli_read_file_reported() with AUDIT_FILE_MAX. */
int audit_read_all(const char *path, uint8_t **out, size_t *len);
/* Writes atomically (temp file, fsync, rename); secret keys get mode 0600
 * from creation on.  Reports a failure; returns 0 or -1. */
int audit_write_atomic(const char *path, const void *buf, size_t len, mode_t mode);
/* "key":"HEX" and a comma if `comma`. */
void audit_json_hex(FILE *f, const char *key, const uint8_t *b, size_t n, int comma);
/* The bytes start like PSI public data (.vpd). */
int audit_is_public_data(const uint8_t *buf, size_t len);
/* The exit status for a library code: 0 for VOUCH_OK, 1 for a failed audit
 * check (class 40), 2 otherwise. */
int audit_exit_for(int rc);

/* ---- options (audit_util.c) ---- */
/* One option of a subcommand: "--name" (or "-o"), with a value stored in
 * *value, or a flag set to 1 in *flag. */
typedef struct audit_opt {
  const char *name;
  int takes_value;
  const char **value;
  int *flag;
} audit_opt;
/* The start of every subcommand: with --help or -h anywhere in argv, prints
 * `help` on stdout and returns 1; otherwise parses argv with getopt_long
 * (options in any order before or between operands, "--" ends them; *ops
 * receives the operands in order, moved to the front of argv + 1, *nops
 * their count) and returns 0, or -1 after a message on a usage error. */
int audit_args(int argc, char **argv, const audit_opt *opts, size_t nopts, const char *help, char ***ops,
               int *nops);
/* "usage: SYNOPSIS" on stderr; returns the usage exit status (2). */
int audit_usage(const char *synopsis);
/* 64 hex digits into 32 bytes; 0 or -1. */
int audit_parse_hex32(const char *s, uint8_t out[32]);

/* ---- loaders and savers (audit_util.c) ----
 * Each reports a failure as "PATH: error" (or with the record or line);
 * `*rc_out` (if given) is VOUCH_E_IO when the file cannot be read, else the
 * decoder's code.  Return 0 or -1. */
typedef struct audit_loaded_list {
  uint8_t *buf;
  size_t len;
  vouch_audit_list list;
} audit_loaded_list;
/* Opens the signed list held in l->buf; a failure is reported under `name`. */
int audit_open_list(audit_loaded_list *l, const char *name, int *rc_out);
int audit_load_list(const char *path, audit_loaded_list *l, int *rc_out);
/* A secret key file: warns if other users may read it; the bytes are wiped. */
int audit_load_seckey(const char *path, vouch_audit_secret_key *k);
/* `vouch audit source seconds` (audit_seconds.c). */
int audit_source_seconds(int argc, char **argv);
int audit_load_db(const char *path, vouch_audit_db **db, int *rc_out);
int audit_load_sth(const char *path, vouch_audit_sth *sth, int *rc_out);
int audit_load_log(const char *path, vouch_audit_log **log, int *rc_out);
int audit_load_trust(const char *path, vouch_audit_trust *t);
/* Encode and write atomically. */
int audit_save_db(const char *path, const vouch_audit_db *db);
int audit_save_log(const char *path, const vouch_audit_log *log);
/* The next table version: opens the signed lists (the files `paths`, or
 * with `bufs` the n buffers bufs/lens, e.g. read from a bank), loads the
 * previous version from prev_path (may be NULL), builds with `pol` and
 * writes the table to out_path.  A build failure is reported as
 * "WHAT: error".  *db and *prev receive the new and the previous table
 * (NULL if not made; free both either way).  Returns an exit status. */
int audit_build_next(char *const *paths, uint8_t *const *bufs, const size_t *lens, size_t n, const char *prev_path,
                     vouch_audit_policy pol, const char *out_path, const char *what, vouch_audit_db **db,
                     vouch_audit_db **prev);

/* ---- subcommands: argv[0] is the subcommand's name; each returns an exit status ---- */
int audit_cmd_source(int argc, char **argv);   /* source keygen|sign|verify (audit_source.c) */
int audit_build(int argc, char **argv);        /* the table (audit_table.c) */
int audit_root(int argc, char **argv);
int audit_prove(int argc, char **argv);
int audit_verify_proof(int argc, char **argv);
int audit_consistency(int argc, char **argv);
int audit_sign_root(int argc, char **argv);
int audit_cmd_log(int argc, char **argv);      /* log append|show|verify (audit_log.c) */
int audit_verify(int argc, char **argv);       /* verify (audit_verify.c) */

#endif
