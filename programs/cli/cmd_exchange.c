/* programs/cli/cmd_exchange.c -- `vouch exchange`: the exchanges configured
 * in a bank file (type, URL, bank, source, the path of a credentials file),
 * and syncing them by name through `vouch bank sync`. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "vouch/bank.h"
#include "vouch/exchange.h"

static const char exchange_usage[] =
  "usage: vouch exchange SUBCOMMAND --db DB ...\n"
  "\n"
  "  add    --db DB NAME --type ncmec|stopncii|tat|te|file --url URL --bank BANK\n"
  "         [--source S] [--credentials FILE] [--disabled]\n"
  "         configure an exchange that fills BANK; FILE (mode 0600, see\n"
  "         vouch bank sync --help) is stored as a path, never its contents\n"
  "  list   --db DB [--json]       the configured exchanges\n"
  "  remove --db DB NAME\n"
  "  enable|disable --db DB NAME  a disabled exchange keeps its bank and\n"
  "         checkpoint but is not synced (by sync, also when named, or vouchd)\n"
  "  sync   --db DB [NAME...] [--retries N] [--retry-delay MS] [--timeout MS]\n"
  "         [--page-size N] [--max-pages N] [--min-quality Q]\n"
  "         vouch bank sync for each named exchange (all when none), with its\n"
  "         stored settings and these options\n"
  "\n"
  "Exit status: 0 ok, 2 on any error (sync: if any exchange failed).\n";

static int print_config(void *ctx, const vouch_exchange_config *c) {
  if (*(const int *)ctx) {
    fputs("{\"name\":", stdout);
    cli_json_string(stdout, c->name);
    printf(",\"type\":\"%s\",\"url\":", vouch_exchange_type_name(c->type));
    cli_json_string(stdout, c->url);
    fputs(",\"bank\":", stdout);
    cli_json_string(stdout, c->bank);
    fputs(",\"source\":", stdout);
    cli_json_string(stdout, c->source ? c->source : vouch_exchange_type_name(c->type));
    fputs(",\"credentials\":", stdout);
    if (c->credentials) cli_json_string(stdout, c->credentials);
    else fputs("null", stdout);
    printf(",\"created_at\":%lld,\"enabled\":%s}\n", (long long)c->created_at, c->disabled ? "false" : "true");
  } else {
    printf("%-20s %-8s %-20s %s%s%s%s\n", c->name, vouch_exchange_type_name(c->type), c->bank, c->url,
           c->credentials ? "  credentials " : "", c->credentials ? c->credentials : "", c->disabled ? "  disabled" : "");
  }
  return 0;
}

#define PASS_MAX 6 /* sync options passed through */
typedef struct sync_all {
  const char *db;
  const char *pass[2 * PASS_MAX];
  char names[PASS_MAX][24];
  int npass;
  int failed, done, skipped;
} sync_all;

/* Runs `vouch bank sync` with the stored settings and the passed options;
 * the argument strings are copied, since getopt takes char *. */
static int sync_one(void *ctx, const vouch_exchange_config *c) {
  sync_all *s = ctx;
  if (c->disabled) { /* as python-threatexchange's fetch: skipped, also when named */
    cli_warnf("exchange %s is disabled: not synced (vouch exchange enable)", c->name);
    s->skipped++;
    return 0;
  }
  const char *args[12 + 2 * PASS_MAX];
  int n = 0;
  args[n++] = "sync";
  args[n++] = "--db";
  args[n++] = s->db;
  args[n++] = c->bank;
  args[n++] = "--type";
  args[n++] = vouch_exchange_type_name(c->type);
  args[n++] = "--url";
  args[n++] = c->url;
  if (c->source) {
    args[n++] = "--source";
    args[n++] = c->source;
  }
  if (c->credentials) {
    args[n++] = "--credentials";
    args[n++] = c->credentials;
  }
  for (int i = 0; i < s->npass; i++) args[n++] = s->pass[i];
  char *argv[12 + 2 * PASS_MAX + 1];
  int ok = 1;
  for (int i = 0; i < n; i++) ok &= (argv[i] = strdup(args[i])) != NULL;
  argv[n] = NULL;
  fprintf(stderr, "vouch: exchange %s -> bank '%s'\n", c->name, c->bank);
  s->done++;
  if (!ok || cmd_bank_sync(n, argv) != CLI_EXIT_OK) s->failed++;
  for (int i = 0; i < n; i++) free(argv[i]);
  return 0;
}

int cmd_exchange(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(exchange_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
  }
  const char *sub = argv[1];
  static const struct option opts[] = {
      {"db", required_argument, 0, 'D'},     {"type", required_argument, 0, 't'},
      {"url", required_argument, 0, 'u'},    {"bank", required_argument, 0, 'b'},
      {"source", required_argument, 0, 's'}, {"credentials", required_argument, 0, 'c'},
      {"json", no_argument, 0, 'J'},         {"help", no_argument, 0, 'h'},
      {"retries", required_argument, 0, 'P'}, {"retry-delay", required_argument, 0, 'P'},
      {"timeout", required_argument, 0, 'P'}, {"page-size", required_argument, 0, 'P'},
      {"max-pages", required_argument, 0, 'P'}, {"min-quality", required_argument, 0, 'P'},
      {"disabled", no_argument, 0, 'X'},    {0, 0, 0, 0}};
  sync_all s;
  memset(&s, 0, sizeof s);
  vouch_exchange_config c;
  memset(&c, 0, sizeof c);
  const char *db = NULL, *type = NULL;
  int json = 0, ch, li;
  optind = 1;
  while ((ch = getopt_long(argc - 1, argv + 1, "h", opts, &li)) != -1) {
    switch (ch) {
    case 'P': /* a sync option: passed on as --NAME VALUE */
      if (s.npass < 2 * PASS_MAX) {
        char *nm = s.names[s.npass / 2];
        snprintf(nm, sizeof s.names[0], "--%s", opts[li].name);
        s.pass[s.npass] = nm;
        s.pass[s.npass + 1] = optarg;
        s.npass += 2;
      }
      break;
    case 'D': db = optarg; break;
    case 't': type = optarg; break;
    case 'u': c.url = optarg; break;
    case 'b': c.bank = optarg; break;
    case 's': c.source = optarg; break;
    case 'c': c.credentials = optarg; break;
    case 'J': json = 1; break;
    case 'X': c.disabled = 1; break;
    case 'h': fputs(exchange_usage, stdout); return CLI_EXIT_OK;
    default: fputs(exchange_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  char **ops = argv + 1 + optind;
  int nops = argc - 1 - optind;
  if (!db) {
    cli_errorf("exchange %s: --db DB is required", sub);
    return CLI_EXIT_ERROR;
  }
  int add = !strcmp(sub, "add"), list = !strcmp(sub, "list"), rem = !strcmp(sub, "remove");
  int syn = !strcmp(sub, "sync"), en = !strcmp(sub, "enable"), dis = !strcmp(sub, "disable");
  if (!add && !list && !rem && !syn && !en && !dis) {
    cli_errorf("exchange: unknown subcommand '%s'", sub);
    return CLI_EXIT_ERROR;
  }
  char credpath[PATH_MAX];
  if (add) {
    if (nops != 1 || !type || !c.url || !c.bank) {
      cli_errorf("exchange add: expected NAME --type T --url URL --bank BANK");
      return CLI_EXIT_ERROR;
    }
    c.name = ops[0];
    c.type = vouch_exchange_type_from_name(type);
    if (c.credentials) { /* stored as an absolute path; checked now as at sync time */
      struct stat st;
      if (!realpath(c.credentials, credpath) || stat(credpath, &st) != 0) {
        cli_errorf("%s: %s", c.credentials, strerror(errno));
        return CLI_EXIT_ERROR;
      }
      if (st.st_mode & 077) {
        cli_errorf("%s: credentials file readable by other users (mode %03o): chmod 600 it", c.credentials,
                   (unsigned)(st.st_mode & 0777));
        return CLI_EXIT_ERROR;
      }
      c.credentials = credpath;
    }
  }
  vouch_bank *b = NULL;
  int rc = vouch_bank_open(&b, db, list ? VOUCH_BANK_OPEN_READONLY : 0);
  if (rc == VOUCH_OK) {
    if (add) {
      rc = vouch_exchange_config_add(b, &c);
    } else if (rem) {
      rc = nops == 1 ? vouch_exchange_config_remove(b, ops[0]) : VOUCH_E_INVALID;
    } else if (en || dis) {
      rc = nops == 1 ? vouch_exchange_config_set_enabled(b, ops[0], en) : VOUCH_E_INVALID;
    } else if (list) {
      rc = vouch_exchange_configs(b, NULL, print_config, &json);
    } else {
      s.db = db;
      vouch_bank_free(b); /* each sync opens the bank itself */
      b = NULL;
      if ((rc = vouch_bank_open(&b, db, VOUCH_BANK_OPEN_READONLY)) == VOUCH_OK) {
        if (nops == 0)
          rc = vouch_exchange_configs(b, NULL, sync_one, &s);
        for (int i = 0; i < nops && rc == VOUCH_OK; i++) rc = vouch_exchange_configs(b, ops[i], sync_one, &s);
      }
      if (rc == VOUCH_OK && s.done == 0 && s.skipped == 0) cli_warnf("no exchanges configured (vouch exchange add)");
      if (rc == VOUCH_OK && s.failed) {
        cli_errorf("%d of %d exchange syncs failed", s.failed, s.done);
        vouch_bank_free(b);
        return CLI_EXIT_ERROR;
      }
    }
  }
  if (rc != VOUCH_OK) {
    cli_errorf("exchange %s: %s", sub, b && vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
    vouch_bank_free(b);
    return CLI_EXIT_ERROR;
  }
  vouch_bank_free(b);
  return CLI_EXIT_OK;
}
