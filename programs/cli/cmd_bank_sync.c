/* programs/cli/cmd_bank_sync.c -- `vouch bank sync`: pull a hash exchange
 * (NCMEC, StopNCII, Tech Against Terrorism) into a bank over HTTP(S), from
 * where the last sync stopped (vouch/exchange.h, docs/exchanges.md).
 * Credentials come from a 0600 file (--credentials, or $VOUCH_CREDENTIALS),
 * never from the command line; they are wiped after use and never printed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "vouch/bank.h"
#include "vouch/exchange.h"

static const char sync_usage[] =
  "usage: vouch bank sync --db DB NAME --type ncmec|stopncii|tat|te|file --url URL\n"
  "                       [--credentials FILE] [--source S] [--retries N]\n"
  "                       [--retry-delay MS] [--timeout MS] [--page-size N]\n"
  "                       [--max-pages N] [--min-quality Q]\n"
  "\n"
  "Fetches the exchange's pages from where the last sync of bank NAME and\n"
  "source S stopped (its stored checkpoint), and imports each page in one\n"
  "transaction with its checkpoint: an interrupted sync resumes at the page\n"
  "that failed.  Deleted and withdrawn entries are disabled (tombstones).\n"
  "A page that stays unavailable, is malformed, or whose paging stalls stops\n"
  "the sync with an error naming the page.\n"
  "\n"
  "  --url URL          NCMEC: the server (GET URL/v2/entries?from=...);\n"
  "                     StopNCII: the API base (GET URL/FetchHashes?...);\n"
  "                     TAT: the hash-list URL (GET URL[?after=CHECKPOINT]);\n"
  "                     te (ThreatExchange): the Graph API URL of a privacy\n"
  "                     group, https://graph.facebook.com/vNN.N/GROUP_ID\n"
  "                     (GET URL/threat_updates/?start_time=...);\n"
  "                     file: a local file or directory (or file://PATH):\n"
  "                     each file changed since the last sync is imported\n"
  "                     (formats detected; names starting with '.' skipped)\n"
  "  --credentials FILE a file of mode 0600 with KEY=VALUE lines (default:\n"
  "                     $VOUCH_CREDENTIALS): ncmec user= password=; stopncii\n"
  "                     subscription_key= fetch_function_key=; tat token=,\n"
  "                     or user= password= (a login exchanged for a token);\n"
  "                     te token= (the app's access token APP_ID|SECRET);\n"
  "                     any type: header=Name: value (sent as is)\n"
  "  --source S         the entries' source and the checkpoint's key\n"
  "                     (default: the type's name, as bank import of a page)\n"
  "  --retries N        further tries of a page after HTTP 429, 5xx or a\n"
  "                     transport error (default 4), waiting --retry-delay MS\n"
  "                     (default 500), doubled each time\n"
  "  --timeout MS       per request (default 60000)\n"
  "  --page-size N      StopNCII pageSize (default 800), te limit (default 500)\n"
  "  --max-pages N      stop after N pages (the next sync goes on)\n"
  "  --min-quality Q    PDQ quality floor where a page gives quality (0: none)\n"
  "\n"
  "Exit status: 0 ok, 2 on any error (what was committed before it stays).\n";

static int report_record(void *ctx, size_t line, const char *msg) {
  size_t *shown = ctx;
  if ((*shown)++ < 100)
    cli_warnf("record %zu of %s", line, msg);
  return 0;
}

int cmd_bank_sync(int argc, char **argv) {
  static const struct option opts[] = {
      {"db", required_argument, 0, 'D'},          {"type", required_argument, 0, 't'},
      {"url", required_argument, 0, 'u'},         {"credentials", required_argument, 0, 'c'},
      {"source", required_argument, 0, 's'},      {"retries", required_argument, 0, 'r'},
      {"retry-delay", required_argument, 0, 'w'}, {"timeout", required_argument, 0, 'T'},
      {"page-size", required_argument, 0, 'p'},   {"max-pages", required_argument, 0, 'm'},
      {"min-quality", required_argument, 0, 'q'}, {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *db = NULL, *type = NULL, *url = NULL, *cred = NULL;
  unsigned long retries = 4, delay = 500, timeout = 60000, page_size = 0, max_pages = 0, q = 0;
  int have_q = 0;
  vouch_exchange_opts o;
  memset(&o, 0, sizeof o);
  optind = 1;
  int ch;
  while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    int bad = 0;
    switch (ch) {
    case 'D': db = optarg; break;
    case 't': type = optarg; break;
    case 'u': url = optarg; break;
    case 'c': cred = optarg; break;
    case 's': o.source = optarg; break;
    case 'r': bad = cli_parse_uint(optarg, 0, 100, &retries); break;
    case 'w': bad = cli_parse_uint(optarg, 0, 600000, &delay); break;
    case 'T': bad = cli_parse_uint(optarg, 1, 3600000, &timeout); break;
    case 'p': bad = cli_parse_uint(optarg, 1, 1000000, &page_size); break;
    case 'm': bad = cli_parse_uint(optarg, 1, 100000000, &max_pages); break;
    case 'q': bad = cli_parse_uint(optarg, 0, 100, &q); have_q = 1; break;
    case 'h': fputs(sync_usage, stdout); return CLI_EXIT_OK;
    default: fputs(sync_usage, stderr); return CLI_EXIT_ERROR;
    }
    if (bad) {
      cli_errorf("bank sync: bad value '%s' (see vouch bank sync --help)", optarg);
      return CLI_EXIT_ERROR;
    }
  }
  if (!db || !type || !url || optind != argc - 1) {
    cli_errorf("bank sync: expected --db DB NAME --type T --url URL");
    fputs(sync_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  o.type = vouch_exchange_type_from_name(type);
  if (o.type < 0) {
    cli_errorf("bank sync: --type is ncmec, stopncii, tat, te or file");
    return CLI_EXIT_ERROR;
  }
  vouch_exchange_creds *c = NULL;
  if (!cred) cred = getenv("VOUCH_CREDENTIALS");
  if (cred) {
    char err[512];
    if (vouch_exchange_creds_read(&c, cred, o.type, err, sizeof err) != VOUCH_OK) {
      cli_errorf("%s", err);
      return CLI_EXIT_ERROR;
    }
    vouch_exchange_creds_apply(c, &o);
  }
  o.url = url;
  o.retries = (unsigned)retries;
  o.retry_delay_ms = (unsigned)delay;
  o.timeout_ms = (long)timeout;
  o.page_size = (unsigned)page_size;
  o.max_pages = (unsigned)max_pages;
  o.min_quality = have_q ? (q == 0 ? -1 : (int)q) : 0;
  size_t shown = 0;
  o.error = report_record;
  o.error_ctx = &shown;
  vouch_bank *b = NULL;
  int rc = vouch_bank_open(&b, db, 0);
  if (rc != VOUCH_OK) {
    cli_errorf("%s", vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
    vouch_bank_free(b);
    vouch_exchange_creds_free(c);
    return CLI_EXIT_ERROR;
  }
  vouch_exchange_stats st;
  double t0 = cli_now();
  rc = vouch_exchange_sync(b, argv[optind], &o, &st);
  vouch_exchange_creds_free(c);
  const vouch_import_stats *t = &st.total;
  fprintf(stderr,
          "vouch: sync %s: %zu page%s (%zu request%s): %zu added, %zu already in bank '%s', %zu bad records, "
          "%zu of another signal type skipped, %zu below the quality floor, %zu deleted by the exchange "
          "(%zu entries disabled), %zu re-enabled; %.2f s\n",
          o.source ? o.source : type, st.pages, st.pages == 1 ? "" : "s", st.requests, st.requests == 1 ? "" : "s", t->added, t->merged,
          argv[optind], t->bad, t->skipped, t->low_quality, t->tombstones, t->disabled, t->reenabled,
          cli_now() - t0);
  vouch_bank_free(b);
  if (rc != VOUCH_OK) {
    cli_errorf("sync %s: %s", o.source ? o.source : type, st.errmsg[0] ? st.errmsg : vouch_strerror(rc));
    return CLI_EXIT_ERROR;
  }
  if (st.pages)
    fprintf(stderr, "vouch: sync %s: up to date; checkpoint '%s'\n", o.source ? o.source : type, st.last.checkpoint);
  return CLI_EXIT_OK;
}
