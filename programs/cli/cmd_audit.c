/* programs/cli/cmd_audit.c -- `vouch audit`: sources, tables, heads, logs,
 * proofs and verification (docs/audit.md).  The subcommands live in
 * audit_source.c, audit_table.c, audit_log.c and audit_verify.c, what they
 * share in audit_util.c (audit_cli.h), and what other commands use in
 * audit_index.c.
 * Exit statuses: 0 ok; 1 a verification failed (signature, proof, policy,
 * fork, trust); 2 usage, input or I/O error. */
#include "audit_cli.h"

/* ---------------------------------------------------------------- main */

static const char audit_help[] =
    "usage: vouch audit COMMAND ...\n\n"
    "  source keygen|sign|verify|seconds  source keys, signed hash lists, their second hashes\n"
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
      {"source", audit_cmd_source},       {"build", audit_build},       {"root", audit_root},
      {"prove", audit_prove},       {"verify-proof", audit_verify_proof}, {"consistency", audit_consistency},
      {"sign-root", audit_sign_root}, {"log", audit_cmd_log},           {"verify", audit_verify}};
  return cli_dispatch("audit", audit_help, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
