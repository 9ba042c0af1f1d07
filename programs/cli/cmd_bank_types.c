/* programs/cli/cmd_bank_types.c -- `vouch bank signal-type`: the signal types'
 * enabled ratios kept in the bank database (vouch/bank_config.h), HMA's
 * per-signal-type setting that vouchd's HMA routes honour (docs/hma.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "vouch/bank_config.h"

static const char types_usage[] =
  "usage: vouch bank signal-type --db DB [--json] [TYPE [RATIO]]\n"
  "\n"
  "The enabled ratio (0.0 to 1.0, 1.0 unless set) of each signal type a bank\n"
  "can hold, or of TYPE (pdq, vpdq, video_md5 or md5, phash, ...); with RATIO,\n"
  "stores it.  0.0 switches the type off for vouchd's HMA routes: hashing\n"
  "leaves it out and lookups and comparisons of it are refused (docs/hma.md);\n"
  "any other ratio leaves it on.  Index builds and the /v1 routes ignore it.\n"
  "\n"
  "Exit status: 0 ok, 2 on any error.\n";

static const int all_types[] = {VOUCH_ALGO_PDQ,  VOUCH_ALGO_PHASH, VOUCH_ALGO_DHASH, VOUCH_ALGO_AHASH,
                                VOUCH_ALGO_VPDQ, VOUCH_ALGO_MD5,   VOUCH_ALGO_SHA1,  VOUCH_ALGO_SHA256};

static int show(vouch_bank *b, int algo, int json) {
  double r;
  int stored;
  const int rc = vouch_bank_signal_type_get(b, algo, &r, &stored);
  if (rc != VOUCH_OK) return rc;
  if (json) printf("{\"name\":\"%s\",\"enabled_ratio\":%.17g,\"stored\":%s}\n", vouch_algo_name(algo), r,
                   stored ? "true" : "false");
  else printf("%-8s %g%s\n", vouch_algo_name(algo), r, stored ? "" : "  (default)");
  return VOUCH_OK;
}

int cmd_bank_signal_type(int argc, char **argv) {
  static const struct option opts[] = {
      {"db", required_argument, 0, 'D'}, {"json", no_argument, 0, 'J'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *db = NULL;
  int json = 0, ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (ch) {
    case 'D': db = optarg; break;
    case 'J': json = 1; break;
    case 'h': fputs(types_usage, stdout); return CLI_EXIT_OK;
    default: fputs(types_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  const int nops = argc - optind;
  char **ops = argv + optind;
  if (!db || nops > 2) {
    cli_errorf("bank signal-type: expected --db DB [TYPE [RATIO]]");
    return CLI_EXIT_ERROR;
  }
  int algo = VOUCH_ALGO_NONE;
  if (nops >= 1) {
    algo = !strcmp(ops[0], "vpdq") ? VOUCH_ALGO_VPDQ : vouch_signal_type_algo(ops[0], strlen(ops[0]));
    if (algo <= 0) algo = vouch_bank_algo_from_name(ops[0]);
    if (algo <= 0) {
      cli_errorf("bank signal-type: unknown signal type '%s'", ops[0]);
      return CLI_EXIT_ERROR;
    }
  }
  double ratio = 0;
  if (nops == 2) {
    char *end;
    errno = 0;
    ratio = strtod(ops[1], &end);
    if (errno || end == ops[1] || *end || !(ratio >= 0.0 && ratio <= 1.0)) {
      cli_errorf("bank signal-type: RATIO must be a number from 0.0 to 1.0, not '%s'", ops[1]);
      return CLI_EXIT_ERROR;
    }
  }
  vouch_bank *b = NULL;
  int rc = vouch_bank_open(&b, db, nops == 2 ? 0 : VOUCH_BANK_OPEN_READONLY);
  if (rc == VOUCH_OK && nops == 2) rc = vouch_bank_signal_type_set(b, algo, ratio);
  if (rc == VOUCH_OK && nops >= 1) rc = show(b, algo, json);
  for (size_t i = 0; rc == VOUCH_OK && nops == 0 && i < sizeof all_types / sizeof all_types[0]; i++)
    rc = show(b, all_types[i], json);
  if (rc != VOUCH_OK) {
    cli_errorf("bank signal-type: %s", b && vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
    vouch_bank_free(b);
    return CLI_EXIT_ERROR;
  }
  vouch_bank_free(b);
  return CLI_EXIT_OK;
}
