/* programs/cli/cmd_bank.c -- `vouch bank`: hash banks in an SQLite file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "vouch/bank.h"

static const char bank_usage[] =
  "usage: vouch bank SUBCOMMAND --db FILE.sqlite [OPTIONS] ...\n"
  "\n"
  "A bank is a named list of hashes of one algorithm, each entry with its\n"
  "sources, an external id, tags, an added-at time and an enabled flag.\n"
  "\n"
  "subcommands:\n"
  "  create  --db DB NAME [--algo pdq|phash|dhash|ahash|vpdq|md5|sha1|sha256]\n"
  "          a new empty bank (creates DB if needed); a vpdq bank holds videos;\n"
  "          md5, sha1 and sha256 banks hold exact file digests (HMA video_md5,\n"
  "          NCMEC MD5/SHA1; a CSV column named md5, video_md5, sha1... is theirs)\n"
  "  import  --db DB NAME FILE|- [--source S] [--strict] [--column C] [--format F]\n"
  "          [--signal-type T] [--min-quality Q]\n"
  "          add the hashes of a list; formats (detected, docs/exchanges.md):\n"
  "          hex per line (optionally followed by an id); CSV/TSV with a header\n"
  "          naming the hash column (hash, pdq, signal_value, signal_str, ...;\n"
  "          --column to choose), e.g. 'tx dataset --csv' (collab -> source,\n"
  "          category and tags kept); JSON Lines as written by 'vouch hash --json';\n"
  "          python-threatexchange lines ('tx hash', local_file collabs:\n"
  "          'pdq HASH', 'ROTATION pdq HASH', bare hashes); ThreatExchange state\n"
  "          files simple.TYPE.te; NCMEC hash-sharing XML pages; StopNCII\n"
  "          FetchHashes and Tech Against Terrorism JSON pages.  Rows of another\n"
  "          signal type (video_md5 in a pdq bank, ...) are skipped and counted;\n"
  "          PDQ rows with a quality below Q (default 50; 0: no floor) too.\n"
  "          Deleted or withdrawn entries of an exchange page disable the entry\n"
  "          (a tombstone is kept) and a page's checkpoint is stored for the\n"
  "          source (see 'bank checkpoint').  A hash already in the bank gets the\n"
  "          new source added.  A second_hash column (JSON Lines: field) gives\n"
  "          the entry's second hash, as 'vouch hash --derivative' prints it; a\n"
  "          row that has one sets it, the newest import winning ('psi open\n"
  "          --db' and vouchd check opened payloads against it).\n"
  "          Bad lines are reported (with line numbers) and\n"
  "          skipped; --strict imports nothing if any line is bad.  An import\n"
  "          that takes nothing from a non-empty list fails (exit 2) and says why.\n"
  "          One transaction: an interrupted import leaves the bank unchanged.\n"
  "          Default source: FILE's name; an exchange page's: ncmec, stopncii\n"
  "          or tat, so that its pages share one source.  F: auto hex csv tsv\n"
  "          jsonl tx te ncmec stopncii tat.  T: the signal type of rows that\n"
  "          name none (a file named simple.TYPE.te sets it to TYPE).\n"
  "  import  --db DB NAME FILE... [--source S] [--id ID]    (a vpdq bank)\n"
  "          each FILE is one video: a vPDQ file (the reference's text form or\n"
  "          python-threatexchange's JSON) or a video, hashed here; its id is\n"
  "          --id or the file name without extension.  The same video again\n"
  "          gets the new source added.  'vouch index build' then indexes the\n"
  "          unique frames of the enabled videos for 'vouch match --vpdq'.\n"
  "  import  --db DB NAME --signed LIST.vsl [--seconds LIST.vss]\n"
  "          a source's signed list (vouch audit source sign): its signature is\n"
  "          checked, it must be of the bank's algorithm and not older than a\n"
  "          list of the same source key already in the bank.  The whole list\n"
  "          is stored; each of its hashes becomes an entry (source: the\n"
  "          source's name) linked to the stored list.  --seconds: the source's\n"
  "          signed second hashes for that list (vouch audit source seconds),\n"
  "          checked against it and stored with the entries.  One transaction.\n"
  "  lists   --db DB [NAME...] [--json] [--export DIR [--all]]\n"
  "          the signed lists stored in the banks (all enabled banks, or those\n"
  "          named); 'current' marks the newest list of each source key, the\n"
  "          ones 'vouch index build --db --require-sources N' uses.  --export\n"
  "          writes the current lists (--all: every stored list) to DIR as\n"
  "          SOURCE-KEYPREFIX-vVERSION.vsl, byte for byte as imported.\n"
  "  lists   --db DB --remove ID [--prune]\n"
  "          removes stored list ID (the 'id' of 'bank lists') and its links to\n"
  "          entries, so audited index builds no longer use it; the entries stay\n"
  "          unless --prune, which also deletes those that no other stored list\n"
  "          attests and that have no other source.  One transaction.\n"
  "  export  --db DB NAME [--format hex|csv|jsonl] [-o FILE]\n"
  "          csv: hash,id,sources,tags,enabled,added_at,entry,second_hash\n"
  "          (vouchd's export is the same); jsonl: second_hash when the entry\n"
  "          has one\n"
  "  checkpoint --db DB NAME --source S\n"
  "          the checkpoint and next page last stored by importing an exchange\n"
  "          page with source S (pages imported without --source: ncmec,\n"
  "          stopncii or tat)\n"
  "  tombstones --db DB NAME         the deletions recorded from exchange pages\n"
  "  sync    --db DB NAME --type ncmec|stopncii|tat --url URL [--credentials F]\n"
  "          pull an exchange into the bank from where the last sync stopped\n"
  "          (vouch bank sync --help)\n"
  "  export  --db DB NAME --videos DIR     (a vpdq bank) DIR/ID.txt per video, in the\n"
  "          reference's text form (entry-N.txt when ID is not a plain file name)\n"
  "  list    --db DB [--json]          all banks with their entry counts\n"
  "  show    --db DB NAME [--json]     one bank\n"
  "  enable  --db DB NAME [--id EXT_ID | --entry N | --hash HEX]\n"
  "  disable --db DB NAME [--id EXT_ID | --entry N | --hash HEX [--until WHEN]]\n"
  "          a whole bank, or the selected entries of it; --until keeps the\n"
  "          entries out of index builds until WHEN (Unix seconds, YYYY-MM-DD\n"
  "          or YYYY-MM-DDTHH:MM:SSZ, UTC) and no longer; enable ends it\n"
  "  radius  --db DB NAME N|default    the bank's own match radius, used by\n"
  "          vouch match --db DB (default: the matcher's)\n"
  "  rename  --db DB NAME NEW_NAME     rename a bank (rebuild indexes made before)\n"
  "  signal-type --db DB [TYPE [RATIO]]  the signal types' enabled ratios, HMA's\n"
  "          setting for vouchd's HMA routes (vouch bank signal-type --help)\n"
  "  remove  --db DB NAME              delete a bank and its entries\n"
  "\n"
  "Exit status: 0 ok, 2 on any error.\n";

typedef struct bank_args {
  const char *db, *algo, *source, *column, *format, *out, *id, *entry, *hash, *signed_list, *export_dir;
  const char *remove, *signal_type, *min_quality, *until, *videos_dir, *seconds;
  int strict, json, all, prune;
  int nops;
  char **ops;
} bank_args;

static int parse_args(int argc, char **argv, bank_args *a) {
  static const struct option opts[] = {
      {"db", required_argument, 0, 'D'},      {"algo", required_argument, 0, 'a'},
      {"source", required_argument, 0, 's'},  {"strict", no_argument, 0, 'S'},
      {"column", required_argument, 0, 'c'},  {"format", required_argument, 0, 'f'},
      {"output", required_argument, 0, 'o'},  {"json", no_argument, 0, 'J'},
      {"id", required_argument, 0, 'i'},      {"entry", required_argument, 0, 'e'},
      {"hash", required_argument, 0, 'H'},    {"help", no_argument, 0, 'h'},
      {"signed", required_argument, 0, 'G'},  {"export", required_argument, 0, 'X'},
      {"all", no_argument, 0, 'A'},          {"remove", required_argument, 0, 'R'},
      {"prune", no_argument, 0, 'P'},          {"signal-type", required_argument, 0, 'T'},
      {"min-quality", required_argument, 0, 'Q'}, {"until", required_argument, 0, 'U'},
      {"videos", required_argument, 0, 'V'},   {"seconds", required_argument, 0, 'E'},
      {0, 0, 0, 0}};
  memset(a, 0, sizeof *a);
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "a:s:c:f:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'D': a->db = optarg; break;
    case 'a': a->algo = optarg; break;
    case 's': a->source = optarg; break;
    case 'S': a->strict = 1; break;
    case 'c': a->column = optarg; break;
    case 'f': a->format = optarg; break;
    case 'o': a->out = optarg; break;
    case 'J': a->json = 1; break;
    case 'i': a->id = optarg; break;
    case 'e': a->entry = optarg; break;
    case 'H': a->hash = optarg; break;
    case 'G': a->signed_list = optarg; break;
    case 'X': a->export_dir = optarg; break;
    case 'R': a->remove = optarg; break;
    case 'P': a->prune = 1; break;
    case 'V': a->videos_dir = optarg; break;
    case 'E': a->seconds = optarg; break;
    case 'A': a->all = 1; break;
    case 'T': a->signal_type = optarg; break;
    case 'Q': a->min_quality = optarg; break;
    case 'U': a->until = optarg; break;
    case 'h': fputs(bank_usage, stdout); return 1;
    default: fputs(bank_usage, stderr); return -1;
    }
  }
  a->ops = argv + optind;
  a->nops = argc - optind;
  if (!a->db) {
    cli_errorf("bank %s: --db FILE is required", argv[0]);
    return -1;
  }
  return 0;
}

/* --until: Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), in the future. */
static int parse_until(const char *s, int64_t *out) {
  unsigned long v;
  if (cli_parse_uint(s, 1, 0x7FFFFFFFFFFFUL, &v) == 0) {
    *out = (int64_t)v;
  } else {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    char tail[8] = "";
    int n = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%7s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                   &tm.tm_min, &tm.tm_sec, tail);
    if (!(n == 3 && strlen(s) == 10) && !(n == 7 && !strcmp(tail, "Z")))
      return -1;
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
      return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
  }
  return *out > (int64_t)time(NULL) ? 0 : -1;
}

static int need_ops(const bank_args *a, int n, const char *what) {
  if (a->nops != n) {
    cli_errorf("bank: expected %s", what);
    return -1;
  }
  return 0;
}

static int open_bank(const bank_args *a, unsigned flags, vouch_bank **b) {
  int rc = vouch_bank_open(b, a->db, flags);
  if (rc != VOUCH_OK) {
    cli_errorf("%s", vouch_bank_errmsg(*b)[0] ? vouch_bank_errmsg(*b) : vouch_strerror(rc));
    vouch_bank_free(*b);
    *b = NULL;
  }
  return rc;
}

static int bank_fail(vouch_bank *b, int rc) {
  cli_errorf("%s", vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
  vouch_bank_free(b);
  return CLI_EXIT_ERROR;
}

/* Reads a whole file (or stdin for "-"). */
static char *read_all(const char *path, size_t *len) {
  uint8_t *buf = NULL;
  if (cli_read_file(path, SIZE_MAX / 2, &buf, len) != 0) {
    cli_errorf("%s: %s", path, strerror(errno));
    return NULL;
  }
  return (char *)buf;
}

typedef struct import_report {
  const char *file;
  size_t shown;
} import_report;

static int report_line(void *ctx, size_t line, const char *msg) {
  import_report *r = ctx;
  if (r->shown++ < 100)
    cli_warnf("%s:%zu: %s", r->file, line, msg);
  else if (r->shown == 101)
    cli_warnf("%s: more bad lines; not reporting them one by one", r->file);
  return 0;
}

static int parse_format(const char *s, int *out) {
  int f = vouch_list_format_from_name(s);
  if (f < 0) return -1;
  *out = f;
  return 0;
}

static int do_import_signed(const bank_args *a) {
  if (need_ops(a, 1, "NAME (and --signed LIST.vsl, no FILE)") != 0) return CLI_EXIT_ERROR;
  if (a->source || a->strict || a->column || a->format || a->signal_type || a->min_quality) {
    cli_errorf("bank import --signed: --source, --strict, --column, --format, --signal-type and "
               "--min-quality do not apply "
               "(the list names its source)");
    return CLI_EXIT_ERROR;
  }
  vouch_bank *b;
  if (open_bank(a, 0, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
  size_t len;
  char *data = read_all(a->signed_list, &len);
  if (!data) {
    vouch_bank_free(b);
    return CLI_EXIT_ERROR;
  }
  size_t vss_len = 0;
  char *vss = a->seconds ? read_all(a->seconds, &vss_len) : NULL;
  if (a->seconds && !vss) {
    free(data);
    vouch_bank_free(b);
    return CLI_EXIT_ERROR;
  }
  vouch_import_stats st;
  double t0 = cli_now();
  int rc = vouch_bank_import_signed_seconds(b, a->ops[0], (const uint8_t *)data, len, (const uint8_t *)vss, vss_len,
                                            0, &st);
  free(data);
  free(vss);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", a->signed_list, vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
    vouch_bank_free(b);
    return CLI_EXIT_ERROR;
  }
  fprintf(stderr, "vouch: %s: signed list stored; %zu added, %zu already in bank '%s' (source added); %.2f s\n",
          a->signed_list, st.added, st.merged, a->ops[0], cli_now() - t0);
  vouch_bank_free(b);
  return CLI_EXIT_OK;
}

typedef struct lists_ctx {
  const bank_args *a;
  size_t exported;
} lists_ctx;

static int show_list(void *vctx, const vouch_bank_signed_list *sl) {
  lists_ctx *c = vctx;
  const vouch_audit_list *l = sl->list;
  if (c->a->json) {
    printf("{\"id\":%lld,\"bank\":", (long long)sl->id);
    cli_json_string(stdout, sl->bank);
    printf(",\"source\":");
    cli_json_string(stdout, l->source.name);
    printf(",\"jurisdiction\":\"%s\",\"source_pk\":\"", l->source.jurisdiction);
    cli_hex_out(stdout, l->source.pk, sizeof l->source.pk);
    printf("\",\"list_version\":%llu,\"date\":\"%s\",\"algo\":\"%s\",\"count\":%llu,\"hashes_digest\":\"",
           (unsigned long long)l->list_version, l->date, vouch_algo_name(l->algo), (unsigned long long)l->count);
    cli_hex_out(stdout, l->hashes_digest, sizeof l->hashes_digest);
    printf("\",\"entries\":%llu,\"imported_at\":%lld,\"current\":%s}\n", (unsigned long long)sl->entries,
           (long long)sl->imported_at, sl->current ? "true" : "false");
  } else {
    printf("%-5lld %-20s %-24s %s v%-6llu %s %8llu hashes  key ", (long long)sl->id, sl->bank, l->source.name,
           l->source.jurisdiction,
           (unsigned long long)l->list_version, l->date, (unsigned long long)l->count);
    cli_hex_out(stdout, l->source.pk, 8);
    printf("%s\n", sl->current ? "  current" : "");
  }
  if (c->a->export_dir && (sl->current || c->a->all)) {
    char path[4096], key[17];
    vouch_hash_to_hex(l->source.pk, 8, key, sizeof key);
    int n = snprintf(path, sizeof path, "%s/%s-%s-v%llu.vsl", c->a->export_dir, l->source.name, key,
                     (unsigned long long)l->list_version);
    if (n < 0 || (size_t)n >= sizeof path) {
      cli_errorf("bank lists: --export path too long");
      return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(sl->vsl, 1, sl->vsl_len, f) != sl->vsl_len || fclose(f) != 0) {
      cli_errorf("%s: %s", path, strerror(errno));
      return -1;
    }
    c->exported++;
  }
  return 0;
}

/* `bank lists --remove ID [--prune]` */
static int do_lists_remove(const bank_args *a) {
  unsigned long id;
  if (a->export_dir || a->all || a->json || a->nops) {
    cli_errorf("bank lists --remove takes only --db, the list's id and --prune");
    return CLI_EXIT_ERROR;
  }
  if (cli_uint_arg(a->remove, 1, 0x7FFFFFFFFFFFFFFFUL, &id,
                   "bank lists --remove: '%s' is not a list id (see 'vouch bank lists')", a->remove) != 0)
    return CLI_EXIT_ERROR;
  vouch_bank *b;
  if (open_bank(a, 0, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
  size_t pruned = 0;
  int rc = vouch_bank_signed_list_remove(b, (int64_t)id, a->prune, &pruned);
  if (rc != VOUCH_OK) return bank_fail(b, rc);
  if (a->prune)
    fprintf(stderr, "vouch: removed signed list %lu and %zu entr%s only it attested\n", id, pruned,
            pruned == 1 ? "y" : "ies");
  else
    fprintf(stderr, "vouch: removed signed list %lu (its entries stay)\n", id);
  vouch_bank_free(b);
  return CLI_EXIT_OK;
}

static int do_lists(const bank_args *a) {
  if (a->remove) return do_lists_remove(a);
  if (a->prune) {
    cli_errorf("bank lists: --prune goes with --remove ID");
    return CLI_EXIT_ERROR;
  }
  if (a->all && !a->export_dir) {
    cli_errorf("bank lists: --all goes with --export DIR");
    return CLI_EXIT_ERROR;
  }
  vouch_bank *b;
  if (open_bank(a, VOUCH_BANK_OPEN_READONLY, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
  lists_ctx c = {a, 0};
  int rc = vouch_bank_signed_lists(b, (const char *const *)a->ops, (size_t)a->nops, 0, show_list, &c);
  if (rc < 0) { /* show_list reported it */
    vouch_bank_free(b);
    return CLI_EXIT_ERROR;
  }
  if (rc != VOUCH_OK) return bank_fail(b, rc);
  if (a->export_dir)
    fprintf(stderr, "vouch: %zu signed list%s written to %s\n", c.exported, c.exported == 1 ? "" : "s",
            a->export_dir);
  vouch_bank_free(b);
  return CLI_EXIT_OK;
}

/* A ThreatExchange state file is named simple.<TYPE>.te: its rows are of TYPE. */
static const char *te_state_type(const char *base, char *buf, size_t cap) {
  size_t l = strlen(base);
  if (l <= 10 || strncmp(base, "simple.", 7) || strcmp(base + l - 3, ".te") || l - 10 >= cap)
    return NULL;
  memcpy(buf, base + 7, l - 10);
  buf[l - 10] = 0;
  return buf;
}

static void print_import(const char *file, const char *bank, const vouch_import_stats *st,
                         const vouch_list_page *pg, double secs) {
  fprintf(stderr, "vouch: %s: %zu added, %zu already in bank '%s' (source added), %zu bad lines", file,
          st->added, st->merged, bank, st->bad);
  if (st->skipped) fprintf(stderr, ", %zu of another signal type skipped", st->skipped);
  if (st->low_quality) fprintf(stderr, ", %zu below the quality floor skipped", st->low_quality);
  if (st->tombstones)
    fprintf(stderr, ", %zu deleted by the exchange (%zu entries disabled)", st->tombstones, st->disabled);
  if (st->reenabled) fprintf(stderr, ", %zu re-enabled", st->reenabled);
  fprintf(stderr, "; format %s; %.2f s\n", vouch_list_format_name(st->format), secs);
  if (pg->checkpoint[0] || pg->next[0])
    fprintf(stderr, "vouch: %s: page of %zu records; checkpoint '%s'%s%s%s\n", file, pg->records, pg->checkpoint,
            pg->next[0] ? "; next page '" : "; last page", pg->next, pg->next[0] ? "'" : "");
}

static int do_import(const bank_args *a) {
  if (a->seconds && !a->signed_list) {
    cli_errorf("bank import: --seconds goes with --signed LIST.vsl");
    return CLI_EXIT_ERROR;
  }
  if (a->signed_list) return do_import_signed(a);
  if (a->nops >= 2) { /* a bank of videos takes vPDQ files or videos (matchvideo.c) */
    vouch_bank *vb;
    if (open_bank(a, 0, &vb) != VOUCH_OK) return CLI_EXIT_ERROR;
    if (cli_bank_algo(vb, a->ops[0]) == VOUCH_ALGO_VPDQ) {
      int ec = cli_bank_import_videos(vb, a->ops[0], a->ops + 1, a->nops - 1, a->source, a->id);
      vouch_bank_free(vb);
      return ec;
    }
    vouch_bank_free(vb);
  }
  if (need_ops(a, 2, "NAME FILE") != 0) return CLI_EXIT_ERROR;
  const char *file = a->ops[1];
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  if (a->format && parse_format(a->format, &o.list.format) != 0) {
    cli_errorf("bank import: unknown format '%s' (auto, hex, csv, tsv, jsonl, tx, te, ncmec, stopncii, tat)",
               a->format);
    return CLI_EXIT_ERROR;
  }
  if (a->min_quality) {
    unsigned long q;
    if (cli_uint_arg(a->min_quality, 0, 100, &q, "bank import: --min-quality is 0..100 (0: no floor)") != 0)
      return CLI_EXIT_ERROR;
    o.list.min_quality = q == 0 ? -1 : (int)q;
  }
  o.list.column = a->column;
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  char te_type[64];
  o.list.signal_type = a->signal_type;
  if (!a->signal_type && te_state_type(base, te_type, sizeof te_type)) {
    o.list.signal_type = te_type;
    if (o.list.format == VOUCH_LIST_AUTO) o.list.format = VOUCH_LIST_TE_STATE;
  }
  if (o.list.signal_type && vouch_signal_type_algo(o.list.signal_type, strlen(o.list.signal_type)) < 0) {
    cli_errorf("bank import: unknown signal type '%s'", o.list.signal_type);
    return CLI_EXIT_ERROR;
  }
  vouch_list_page page;
  o.list.page = &page;
  o.source = a->source ? a->source : (strcmp(file, "-") ? base : NULL);
  o.strict = a->strict;
  import_report rep = {file, 0};
  o.error = report_line;
  o.error_ctx = &rep;
  vouch_bank *b;
  if (open_bank(a, 0, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
  size_t len;
  char *data = read_all(file, &len);
  if (!data) {
    vouch_bank_free(b);
    return CLI_EXIT_ERROR;
  }
  /* pages of one exchange share a source, whatever their file names, so that
   * a later page's deletions find the entries of an earlier one */
  int page_fmt = o.list.format == VOUCH_LIST_AUTO ? vouch_list_detect(data, len) : o.list.format;
  if (!a->source && vouch_exchange_type_from_name(vouch_exchange_type_name(page_fmt)) == page_fmt)
    o.source = vouch_exchange_type_name(page_fmt); /* a page of an exchange type */
  vouch_import_stats st;
  double t0 = cli_now();
  int rc = vouch_bank_import(b, a->ops[0], data, len, &o, &st);
  free(data);
  if (rc != VOUCH_OK) return bank_fail(b, rc);
  print_import(file, a->ops[0], &st, &page, cli_now() - t0);
  vouch_bank_free(b);
  /* a list we took nothing from is an error, not a silent success (an
   * exchange page with no records is not) */
  size_t rows = st.added + st.merged + st.bad + st.skipped + st.low_quality + st.tombstones;
  int is_page = vouch_exchange_type_from_name(vouch_exchange_type_name(st.format)) == st.format;
  if (st.added + st.merged + st.tombstones == 0 && len > 0 && (rows > 0 || !is_page)) {
    cli_errorf("%s: nothing imported: %zu rows of another signal type than the bank's, %zu below the quality "
               "floor, %zu bad lines%s",
               file, st.skipped, st.low_quality, st.bad,
               rows == 0 ? " (no hash rows at all)" : "");
    return CLI_EXIT_ERROR;
  }
  return CLI_EXIT_OK;
}

static int print_tombstone(void *vctx, const vouch_bank_tombstone *t) {
  (void)vctx;
  char hex[VOUCH_HASH_HEX_BYTES] = "-";
  if (t->hash) vouch_hash_to_hex(t->hash, t->hash_bytes, hex, sizeof hex);
  printf("%s\t%s\t%s\t%lld\n", hex, t->ext_id ? t->ext_id : "-", t->source ? t->source : "-", (long long)t->at);
  return 0;
}

static int do_checkpoint(const bank_args *a) {
  if (need_ops(a, 1, "NAME") != 0) return CLI_EXIT_ERROR;
  if (!a->source) {
    cli_errorf("bank checkpoint: --source S is required (ncmec, stopncii, tat, or the --source of the import)");
    return CLI_EXIT_ERROR;
  }
  vouch_bank *b;
  if (open_bank(a, VOUCH_BANK_OPEN_READONLY, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
  vouch_list_page pg;
  int64_t at = 0;
  int rc = vouch_bank_checkpoint(b, a->ops[0], a->source, &pg, &at);
  if (rc != VOUCH_OK) return bank_fail(b, rc);
  if (a->json) {
    fputs("{\"checkpoint\":", stdout);
    cli_json_string(stdout, pg.checkpoint);
    fputs(",\"next\":", stdout);
    cli_json_string(stdout, pg.next);
    printf(",\"updated_at\":%lld}\n", (long long)at);
  } else {
    printf("checkpoint\t%s\nnext\t%s\nupdated_at\t%lld\n", pg.checkpoint, pg.next, (long long)at);
  }
  vouch_bank_free(b);
  return CLI_EXIT_OK;
}

typedef struct export_ctx {
  FILE *f;
  int format;
} export_ctx;

static int export_entry(void *vctx, const vouch_bank_entry *e) {
  export_ctx *c = vctx;
  char hex[VOUCH_HASH_HEX_BYTES];
  vouch_hash_to_hex(e->hash, e->hash_bytes, hex, sizeof hex);
  if (c->format == VOUCH_LIST_HEX) {
    fprintf(c->f, "%s\n", hex);
  } else if (c->format == VOUCH_LIST_CSV) {
    char line[1024];
    size_t n = vouch_bank_entry_csv(e, line, sizeof line);
    char *big = n < sizeof line ? NULL : malloc(n + 1); /* a long line: many sources */
    if (n >= sizeof line && !big) return -1;
    if (big) vouch_bank_entry_csv(e, big, n + 1);
    fwrite(big ? big : line, 1, n, c->f);
    free(big);
  } else {
    fprintf(c->f, "{\"hash\":\"%s\",\"entry\":%lld", hex, (long long)e->id);
    if (e->ext_id) { fputs(",\"id\":", c->f); cli_json_string(c->f, e->ext_id); }
    if (e->sources) { fputs(",\"source\":", c->f); cli_json_string(c->f, e->sources); }
    if (e->tags) { fputs(",\"tags\":", c->f); cli_json_string(c->f, e->tags); }
    if (e->disabled_until) fprintf(c->f, ",\"disabled_until\":%lld", (long long)e->disabled_until);
    if (e->second) {
      char sec[2 * VOUCH_DERIV_HASH_BYTES + 1];
      vouch_hash_to_hex(e->second, VOUCH_DERIV_HASH_BYTES, sec, sizeof sec);
      fprintf(c->f, ",\"second_hash\":\"%s\"", sec);
    }
    fprintf(c->f, ",\"enabled\":%s,\"added_at\":%lld}\n", e->enabled ? "true" : "false",
            (long long)e->added_at);
  }
  return 0;
}

static int do_export(const bank_args *a) {
  if (need_ops(a, 1, "NAME") != 0) return CLI_EXIT_ERROR;
  if (a->videos_dir) { /* a bank of videos, one vPDQ file each (matchvideo.c) */
    vouch_bank *vb;
    if (open_bank(a, VOUCH_BANK_OPEN_READONLY, &vb) != VOUCH_OK) return CLI_EXIT_ERROR;
    int ec = cli_bank_export_videos(vb, a->ops[0], a->videos_dir);
    vouch_bank_free(vb);
    return ec;
  }
  export_ctx c = {stdout, VOUCH_LIST_HEX};
  if (a->format && (parse_format(a->format, &c.format) != 0 || c.format == VOUCH_LIST_AUTO ||
                    c.format == VOUCH_LIST_TSV)) {
    cli_errorf("bank export: format is hex, csv or jsonl");
    return CLI_EXIT_ERROR;
  }
  vouch_bank *b;
  if (open_bank(a, VOUCH_BANK_OPEN_READONLY, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
  if (a->out && !(c.f = fopen(a->out, "w"))) {
    cli_errorf("%s: %s", a->out, strerror(errno));
    vouch_bank_free(b);
    return CLI_EXIT_ERROR;
  }
  if (c.format == VOUCH_LIST_CSV) fputs(VOUCH_BANK_CSV_HEADER, c.f);
  int rc = vouch_bank_entries(b, a->ops[0], export_entry, &c);
  int werr = ferror(c.f) || (c.f != stdout && fclose(c.f) != 0);
  if (rc != VOUCH_OK) return bank_fail(b, rc);
  vouch_bank_free(b);
  if (werr) {
    cli_errorf("%s: write error", a->out ? a->out : "stdout");
    return CLI_EXIT_ERROR;
  }
  return CLI_EXIT_OK;
}

static int print_info(void *vctx, const vouch_bank_info *in) {
  const int *json = vctx;
  if (*json) {
    fputs("{\"name\":", stdout);
    cli_json_string(stdout, in->name);
    printf(",\"algo\":\"%s\",\"enabled\":%s,\"entries\":%llu,\"enabled_entries\":%llu,"
           "\"created_at\":%lld",
           vouch_algo_name(in->algo), in->enabled ? "true" : "false",
           (unsigned long long)in->entries, (unsigned long long)in->enabled_entries,
           (long long)in->created_at);
    if (in->radius >= 0) printf(",\"radius\":%d", in->radius);
    fputs("}\n", stdout);
  } else {
    printf("%-24s %-6s %-8s %10llu entries (%llu enabled)", in->name, vouch_algo_name(in->algo),
           in->enabled ? "enabled" : "DISABLED", (unsigned long long)in->entries,
           (unsigned long long)in->enabled_entries);
    if (in->radius >= 0) printf("  radius %d", in->radius);
    fputc('\n', stdout);
  }
  return 0;
}

int cmd_bank(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(bank_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "sync"))
    return cmd_bank_sync(argc - 1, argv + 1);
  if (!strcmp(sub, "signal-type"))
    return cmd_bank_signal_type(argc - 1, argv + 1);
  bank_args a;
  int pr = parse_args(argc - 1, argv + 1, &a);
  if (pr != 0) return pr > 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
  vouch_bank *b = NULL;
  int rc;
  if (!strcmp(sub, "create")) {
    if (need_ops(&a, 1, "NAME") != 0) return CLI_EXIT_ERROR;
    int algo = vouch_bank_algo_from_name(a.algo ? a.algo : "pdq");
    if (algo == VOUCH_ALGO_NONE) {
      cli_errorf("bank create: unknown algorithm '%s'", a.algo);
      return CLI_EXIT_ERROR;
    }
    if (open_bank(&a, VOUCH_BANK_OPEN_CREATE, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
    if ((rc = vouch_bank_create(b, a.ops[0], algo)) != VOUCH_OK) return bank_fail(b, rc);
  } else if (!strcmp(sub, "import")) {
    return do_import(&a);
  } else if (!strcmp(sub, "lists")) {
    return do_lists(&a);
  } else if (!strcmp(sub, "export")) {
    return do_export(&a);
  } else if (!strcmp(sub, "checkpoint")) {
    return do_checkpoint(&a);
  } else if (!strcmp(sub, "tombstones")) {
    if (need_ops(&a, 1, "NAME") != 0) return CLI_EXIT_ERROR;
    if (open_bank(&a, VOUCH_BANK_OPEN_READONLY, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
    if ((rc = vouch_bank_tombstones(b, a.ops[0], print_tombstone, NULL)) != VOUCH_OK) return bank_fail(b, rc);
  } else if (!strcmp(sub, "list") || !strcmp(sub, "show")) {
    int show = !strcmp(sub, "show");
    if (need_ops(&a, show, show ? "NAME" : "no operands") != 0) return CLI_EXIT_ERROR;
    if (open_bank(&a, VOUCH_BANK_OPEN_READONLY, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
    if ((rc = vouch_bank_list(b, show ? a.ops[0] : NULL, print_info, &a.json)) != VOUCH_OK)
      return bank_fail(b, rc);
  } else if (!strcmp(sub, "enable") || !strcmp(sub, "disable")) {
    int en = !strcmp(sub, "enable");
    if (need_ops(&a, 1, "NAME") != 0) return CLI_EXIT_ERROR;
    if (!!a.id + !!a.entry + !!a.hash > 1) {
      cli_errorf("bank %s: give at most one of --id, --entry, --hash", sub);
      return CLI_EXIT_ERROR;
    }
    int64_t until = 0;
    if (a.until && (en || !(a.id || a.entry || a.hash) || parse_until(a.until, &until) != 0)) {
      cli_errorf("bank %s: --until goes with disable and --id, --entry or --hash; it takes Unix seconds, "
                 "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), later than now",
                 sub);
      return CLI_EXIT_ERROR;
    }
    if (open_bank(&a, 0, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
    size_t changed = 0;
    int sel = a.id ? VOUCH_SELECT_EXT_ID : a.entry ? VOUCH_SELECT_ENTRY_ID : VOUCH_SELECT_HASH;
    const char *val = a.id ? a.id : a.entry ? a.entry : a.hash;
    if (!val) rc = vouch_bank_set_enabled(b, a.ops[0], en);
    else if (until) rc = vouch_bank_entry_disable_until(b, a.ops[0], sel, val, until, &changed);
    else rc = vouch_bank_entry_set_enabled(b, a.ops[0], sel, val, en, &changed);
    /* enabling an entry also ends a disable-until */
    if (rc == VOUCH_OK && val && en && vouch_bank_entry_disable_until(b, a.ops[0], sel, val, 0, NULL) == VOUCH_E_DB)
      rc = VOUCH_E_DB;
    if (rc != VOUCH_OK) return bank_fail(b, rc);
    if (val && until)
      fprintf(stderr, "vouch: %zu entr%s out of index builds until %s\n", changed, changed == 1 ? "y" : "ies",
              a.until);
    else if (val)
      fprintf(stderr, "vouch: %s %zu entr%s\n", en ? "enabled" : "disabled", changed,
              changed == 1 ? "y" : "ies");
  } else if (!strcmp(sub, "radius")) {
    unsigned long r = 0;
    int clear = a.nops == 2 && !strcmp(a.ops[1], "default");
    if (need_ops(&a, 2, "NAME RADIUS|default") != 0) return CLI_EXIT_ERROR;
    if (!clear && cli_parse_uint(a.ops[1], 0, 256, &r) != 0) {
      cli_errorf("bank radius: '%s' is not a radius (0..bits) or 'default'", a.ops[1]);
      return CLI_EXIT_ERROR;
    }
    if (open_bank(&a, 0, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
    if ((rc = vouch_bank_set_radius(b, a.ops[0], clear ? -1 : (int)r)) != VOUCH_OK) return bank_fail(b, rc);
  } else if (!strcmp(sub, "rename")) {
    if (need_ops(&a, 2, "NAME NEW_NAME") != 0) return CLI_EXIT_ERROR;
    if (open_bank(&a, 0, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
    if ((rc = vouch_bank_rename(b, a.ops[0], a.ops[1])) != VOUCH_OK) return bank_fail(b, rc);
  } else if (!strcmp(sub, "remove")) {
    if (need_ops(&a, 1, "NAME") != 0) return CLI_EXIT_ERROR;
    if (open_bank(&a, 0, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
    if ((rc = vouch_bank_remove(b, a.ops[0])) != VOUCH_OK) return bank_fail(b, rc);
  } else {
    cli_errorf("bank: unknown subcommand '%s'", sub);
    fputs(bank_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  vouch_bank_free(b);
  return CLI_EXIT_OK;
}
