/* programs/cli/audit_index.c -- the audit pieces other commands use (cli.h):
 * the live set for `vouch psi setup --audit-db`, the client's check of
 * public data (`vouch psi voucher --trusted`), and the audited path of
 * `vouch index build`. */
#include <stdlib.h>
#include <string.h>
#include "audit_cli.h"

/* ------------------------------------------------ PSI integration */

int cli_audit_live_hashes(const char *path, int *algo, uint8_t **hashes, size_t *n, uint8_t root[32]) {
  vouch_audit_db *db;
  int rc = VOUCH_OK;
  if (audit_load_db(path, &db, &rc) != 0)
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
  if (audit_load_sth(sth_path, &sth, &rc) != 0)
    return audit_exit_for(rc);
  if (trusted_path && audit_load_trust(trusted_path, &trust) != 0)
    return CLI_EXIT_ERROR;
  if (log_path && audit_load_log(log_path, &log, &rc) != 0)
    return audit_exit_for(rc);
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
  int rc, ret = CLI_EXIT_ERROR;
  if (table_path) {
    if (audit_load_db(table_path, &db, &rc) != 0)
      return audit_exit_for(rc);
  } else {
    if (!audit_out || nlists == 0) {
      cli_errorf("index build --require-sources: give the signed lists (--list FILE.vsl, one per source, "
                 "or --db with lists imported by 'bank import --signed') and --audit-out TABLE.vdb");
      return CLI_EXIT_ERROR;
    }
    vouch_audit_policy pol = {(uint8_t)min_sources, (uint8_t)(any_jurisdiction ? 0 : 1)};
    int ec = audit_build_next(list_paths, list_bufs, list_lens, nlists, prev_path, pol, audit_out,
                              "index build: audited table", &db, &prev);
    if (ec != CLI_EXIT_OK) {
      ret = ec;
      goto out;
    }
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
  cli_hex_out(stdout, iroot, 32);
  printf("\ntable root ");
  cli_hex_out(stdout, troot, 32);
  printf("%s%s\n", audit_out && !table_path ? " -> " : "", audit_out && !table_path ? audit_out : "");
  ret = CLI_EXIT_OK;
out:
  vouch_audit_db_free(db);
  vouch_audit_db_free(prev);
  return ret;
}
