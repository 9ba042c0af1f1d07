/* programs/cli/audit_log.c -- `vouch audit log append|show|verify`: the log
 * of signed tree heads, fork detection (docs/audit.md). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "audit_cli.h"

/* ----------------------------------------------------------------- log */

static void print_sth_json(const vouch_audit_sth *s) {
  printf("{\"version\":%llu,\"timestamp\":%llu,\"tree_size\":%llu,\"live\":%llu,\"algo\":\"%s\","
         "\"min_sources\":%u,\"distinct_jurisdictions\":%s,\"sources\":%u,",
         (unsigned long long)s->db_version, (unsigned long long)s->timestamp, (unsigned long long)s->tree_size,
         (unsigned long long)s->live_count, vouch_algo_name(s->algo), s->policy.min_sources,
         s->policy.distinct_jurisdictions ? "true" : "false", s->nsources);
  audit_json_hex(stdout, "root", s->root, 32, 1);
  audit_json_hex(stdout, "server_key", s->server_pk, 32, 1);
  audit_json_hex(stdout, "sources_digest", s->sources_digest, 32, 1);
  audit_json_hex(stdout, "index_root", s->index_root, 32, 1);
  audit_json_hex(stdout, "psi_digest", s->psi_digest, 32, 0);
  printf("}");
}

static int log_append(int argc, char **argv) {
  const char *logp = NULL, *sthp = NULL, *dbp = NULL;
  int help = 0;
  audit_opt o[] = {{"--log", 1, &logp, NULL}, {"--sth", 1, &sthp, NULL}, {"--db", 1, &dbp, NULL},
             {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 4,
                          "usage: vouch audit log append --log LOG.vlog --sth HEAD.vsth --db TABLE.vdb\n\n"
                          "Appends the signed head of TABLE to the log (created if absent, for the head's\n"
                          "key), with the consistency proof from the previous head, computed from TABLE and\n"
                          "checked before anything is written.  Refuses a gap, another key, a rule change,\n"
                          "a rewrite of earlier leaves, and a second head for a version already logged (a fork).\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops || !logp || !sthp || !dbp)
    return audit_usage("vouch audit log append --log LOG.vlog --sth HEAD.vsth --db TABLE.vdb");
  vouch_audit_sth sth;
  vouch_audit_db *db = NULL;
  vouch_audit_log *log = NULL;
  int rc, ret = CLI_EXIT_ERROR;
  if (audit_load_sth(sthp, &sth, &rc) != 0)
    return audit_exit_for(rc);
  if (audit_load_db(dbp, &db, &rc) != 0)
    return audit_exit_for(rc);
  if (access(logp, F_OK) == 0) {
    if (audit_load_log(logp, &log, &rc) != 0) {
      ret = audit_exit_for(rc);
      goto out;
    }
  } else if (vouch_audit_log_create(&log, sth.server_pk) != VOUCH_OK) {
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
    ret = audit_exit_for(rc);
    goto out;
  }
  if (audit_save_log(logp, log) != 0)
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
  audit_opt o[] = {{"--json", 0, NULL, &json}, {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 2,
                          "usage: vouch audit log show [--json] LOG.vlog\n\n"
                          "Verifies the log and prints its heads, one per line (--json: JSON Lines).\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops != 1)
    return audit_usage("vouch audit log show [--json] LOG.vlog");
  vouch_audit_log *log;
  int rc = VOUCH_OK;
  if (audit_load_log(ops[0], &log, &rc) != 0)
    return audit_exit_for(rc);
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
      cli_hex_out(stdout, s.root, 32);
      printf("  proof %zu\n", pn);
    }
  }
  vouch_audit_log_free(log);
  return CLI_EXIT_OK;
}

static int log_verify(int argc, char **argv) {
  const char *trusted = NULL, *against = NULL;
  int json = 0, help = 0;
  audit_opt o[] = {{"--trusted", 1, &trusted, NULL}, {"--against", 1, &against, NULL}, {"--json", 0, NULL, &json},
             {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 4,
                      "usage: vouch audit log verify [--trusted FILE] [--against OTHER.vlog] [--json] LOG.vlog\n\n"
                      "Checks every head's signature, that versions follow without gaps, and every\n"
                      "consistency proof between successive heads.  --trusted: the log's key must be a\n"
                      "pinned server key and every pinned root must be in the log.  --against: a second\n"
                      "copy of the log (another mirror, or an older download); any version with two\n"
                      "different heads is a fork.  Exit 1 on any failure.\n",
                      &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops != 1)
    return audit_usage("vouch audit log verify [--trusted FILE] [--against OTHER.vlog] LOG.vlog");
  vouch_audit_log *log = NULL, *other = NULL;
  int rc = VOUCH_OK, ret = CLI_EXIT_OK;
  const char *what = "log";
  uint64_t fork_v = 0;
  if (audit_load_log(ops[0], &log, &rc) != 0) {
    ret = audit_exit_for(rc);
    if (rc == VOUCH_OK)
      return CLI_EXIT_ERROR;
    goto report;
  }
  if (against) {
    if (audit_load_log(against, &other, &rc) != 0) {
      what = "other log";
      ret = rc == VOUCH_OK ? CLI_EXIT_ERROR : audit_exit_for(rc);
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
    if (audit_load_trust(trusted, &t) != 0) {
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

int audit_cmd_log(int argc, char **argv) {
  static const cli_subcmd cmds[] = {{"append", log_append}, {"show", log_show}, {"verify", log_verify}};
  return cli_dispatch("audit log", "usage: vouch audit log append|show|verify ...   "
                      "('vouch audit log append --help')\n", cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
