/* programs/cli/main.c -- `vouch`: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

typedef struct {
  const char *name;
  int (*fn)(int, char **);
  const char *summary;
} command;

static const command commands[] = {
  {"hash", cmd_hash, "hash image files (PDQ, pHash, dHash, aHash), videos (vPDQ), any file (MD5, SHA-1, SHA-256)"},
  {"bank", cmd_bank, "hash banks: create, import, export, list, show, enable, disable, remove"},
  {"exchange", cmd_exchange, "hash-sharing exchanges configured in a bank file: add, list, remove, sync"},
  {"index", cmd_index, "build an index file from banks; show and verify one"},
  {"match", cmd_match, "match photos or hashes against an index (exact, within a radius)"},
  {"psi", cmd_psi, "private matching: safety vouchers with a threshold (setup, voucher, open)"},
  {"audit", cmd_audit, "auditable database: signed source lists, roots, proofs, log, verification"},
  {"eval", cmd_eval, "measure recall under edits, false matches and per-account risk on photos"},
  {"classify", cmd_classify, "Communication Safety: on-device sensitive-image classifier (+ blurred copies)"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: vouch COMMAND [OPTIONS] ...\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\n'vouch COMMAND --help' describes a command.  'vouch --version' prints the version.\n");
}

int main(int argc, char **argv) {
  if (vouch_init() < 0) {
    cli_errorf("library initialisation failed");
    return CLI_EXIT_ERROR;
  }
  vouch_video_silence_log(); /* FFmpeg would print its own messages on stderr */
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_ERROR;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    printf("vouch %s (libvouch %s)\n", VOUCH_VERSION_STRING, vouch_version_string());
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name))
      return commands[i].fn(argc - 1, argv + 1);
  cli_errorf("unknown command '%s'", argv[1]);
  usage(stderr);
  return CLI_EXIT_ERROR;
}
