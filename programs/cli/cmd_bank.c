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
  "  create  --db DB NAME [--algo pdq|phash|dhash|ahash|vpdq]\n"
  "          a new empty bank (creates DB if needed); a vpdq bank holds videos\n"
  "  import  --db DB NAME FILE|- [--source S] [--strict] [--column C] [--format F]\n"
  "          add the hashes of a list; formats (detected): hex per line\n"
  "          (optionally followed by an id), CSV/TSV with a header naming the hash\n"
  "          column (hash, pdq, signal_value, ...; --column to choose), JSON Lines\n"
  "          as written by 'vouch hash --json' (\"hash\", optional \"id\"/\"path\",\n"
  "          \"source\", \"tags\").  A hash already in the bank gets the new source\n"
  "          added.  Bad lines are reported (with line numbers) and skipped;\n"
  "          --strict imports nothing if any line is bad.  One transaction: an\n"
  "          interrupted import leaves the bank unchanged.  Default source: FILE's name.\n"
  "  import  --db DB NAME FILE... [--source S] [--id ID]    (a vpdq bank)\n"
  "          each FILE is one video: a vPDQ file (the reference's text form or\n"
  "          python-threatexchange's JSON) or a video, hashed here; its id is\n"
  "          --id or the file name without extension.  The same video again\n"
  "          gets the new source added.  'vouch index build' then indexes the\n"
  "          unique frames of the enabled videos for 'vouch match --vpdq'.\n"
  "  import  --db DB NAME --signed LIST.vsl\n"
  "          a source's signed list (vouch audit source sign): its signature is\n"
  "          checked, it must be of the bank's algorithm and not older than a\n"
  "          list of the same source key already in the bank.  The whole list\n"
  "          is stored; each of its hashes becomes an entry (source: the\n"
  "          source's name) linked to the stored list.  One transaction.\n"
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
  "  export  --db DB NAME --videos DIR     (a vpdq bank) DIR/ID.txt per video, in the\n"
  "          reference's text form (entry-N.txt when ID is not a plain file name)\n"
  "  list    --db DB [--json]          all banks with their entry counts\n"
  "  show    --db DB NAME [--json]     one bank\n"
  "  enable  --db DB NAME [--id EXT_ID | --entry N | --hash HEX]\n"
  "  disable --db DB NAME [--id EXT_ID | --entry N | --hash HEX]\n"
  "          a whole bank, or the selected entries of it\n"
  "  remove  --db DB NAME              delete a bank and its entries\n"
  "\n"
  "Exit status: 0 ok, 2 on any error.\n";

typedef struct bank_args {
  const char *db, *algo, *source, *column, *format, *out, *id, *entry, *hash, *signed_list, *export_dir;
  const char *remove, *videos_dir;
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
      {"prune", no_argument, 0, 'P'},        {"videos", required_argument, 0, 'V'},
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
    case 'A': a->all = 1; break;
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
  static const char *const names[] = {"auto", "hex", "csv", "tsv", "jsonl"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) { *out = i; return 0; }
  if (!strcmp(s, "json")) { *out = VOUCH_LIST_JSONL; return 0; }
  return -1;
}

static int do_import_signed(const bank_args *a) {
  if (need_ops(a, 1, "NAME (and --signed LIST.vsl, no FILE)") != 0) return CLI_EXIT_ERROR;
  if (a->source || a->strict || a->column || a->format) {
    cli_errorf("bank import --signed: --source, --strict, --column and --format do not apply "
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
  vouch_import_stats st;
  double t0 = cli_now();
  int rc = vouch_bank_import_signed(b, a->ops[0], (const uint8_t *)data, len, 0, &st);
  free(data);
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

static void hex_out(FILE *f, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) fprintf(f, "%02x", p[i]);
}

static int show_list(void *vctx, const vouch_bank_signed_list *sl) {
  lists_ctx *c = vctx;
  const vouch_audit_list *l = sl->list;
  if (c->a->json) {
    printf("{\"id\":%lld,\"bank\":", (long long)sl->id);
    cli_json_string(stdout, sl->bank);
    printf(",\"source\":");
    cli_json_string(stdout, l->source.name);
    printf(",\"jurisdiction\":\"%s\",\"source_pk\":\"", l->source.jurisdiction);
    hex_out(stdout, l->source.pk, sizeof l->source.pk);
    printf("\",\"list_version\":%llu,\"date\":\"%s\",\"algo\":\"%s\",\"count\":%llu,\"hashes_digest\":\"",
           (unsigned long long)l->list_version, l->date, vouch_algo_name(l->algo), (unsigned long long)l->count);
    hex_out(stdout, l->hashes_digest, sizeof l->hashes_digest);
    printf("\",\"entries\":%llu,\"imported_at\":%lld,\"current\":%s}\n", (unsigned long long)sl->entries,
           (long long)sl->imported_at, sl->current ? "true" : "false");
  } else {
    printf("%-5lld %-20s %-24s %s v%-6llu %s %8llu hashes  key ", (long long)sl->id, sl->bank, l->source.name,
           l->source.jurisdiction,
           (unsigned long long)l->list_version, l->date, (unsigned long long)l->count);
    hex_out(stdout, l->source.pk, 8);
    printf("%s\n", sl->current ? "  current" : "");
  }
  if (c->a->export_dir && (sl->current || c->a->all)) {
    char path[4096], key[17];
    snprintf(key, sizeof key, "%02x%02x%02x%02x%02x%02x%02x%02x", l->source.pk[0], l->source.pk[1],
             l->source.pk[2], l->source.pk[3], l->source.pk[4], l->source.pk[5], l->source.pk[6],
             l->source.pk[7]);
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
  if (cli_parse_uint(a->remove, 1, 0x7FFFFFFFFFFFFFFFUL, &id) != 0) {
    cli_errorf("bank lists --remove: '%s' is not a list id (see 'vouch bank lists')", a->remove);
    return CLI_EXIT_ERROR;
  }
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

static int do_import(const bank_args *a) {
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
    cli_errorf("bank import: unknown format '%s' (auto, hex, csv, tsv, jsonl)", a->format);
    return CLI_EXIT_ERROR;
  }
  o.list.column = a->column;
  const char *base = strrchr(file, '/');
  o.source = a->source ? a->source : (strcmp(file, "-") ? (base ? base + 1 : file) : NULL);
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
  vouch_import_stats st;
  double t0 = cli_now();
  int rc = vouch_bank_import(b, a->ops[0], data, len, &o, &st);
  free(data);
  if (rc != VOUCH_OK) return bank_fail(b, rc);
  fprintf(stderr, "vouch: %s: %zu added, %zu already in bank '%s' (source added), %zu bad lines; "
                  "format %s; %.2f s\n",
          file, st.added, st.merged, a->ops[0], st.bad, vouch_list_format_name(st.format),
          cli_now() - t0);
  vouch_bank_free(b);
  return CLI_EXIT_OK;
}

typedef struct export_ctx {
  FILE *f;
  int format;
} export_ctx;

static void csv_field(FILE *f, const char *s) {
  if (!s) return;
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static int export_entry(void *vctx, const vouch_bank_entry *e) {
  export_ctx *c = vctx;
  char hex[VOUCH_HASH_HEX_BYTES];
  vouch_hash_to_hex(e->hash, e->hash_bytes, hex, sizeof hex);
  if (c->format == VOUCH_LIST_HEX) {
    fprintf(c->f, "%s\n", hex);
  } else if (c->format == VOUCH_LIST_CSV) {
    fprintf(c->f, "%s,", hex);
    csv_field(c->f, e->ext_id);
    fputc(',', c->f);
    csv_field(c->f, e->sources);
    fputc(',', c->f);
    csv_field(c->f, e->tags);
    fprintf(c->f, ",%d,%lld,%lld\n", e->enabled, (long long)e->added_at, (long long)e->id);
  } else {
    fprintf(c->f, "{\"hash\":\"%s\",\"entry\":%lld", hex, (long long)e->id);
    if (e->ext_id) { fputs(",\"id\":", c->f); cli_json_string(c->f, e->ext_id); }
    if (e->sources) { fputs(",\"source\":", c->f); cli_json_string(c->f, e->sources); }
    if (e->tags) { fputs(",\"tags\":", c->f); cli_json_string(c->f, e->tags); }
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
  if (c.format == VOUCH_LIST_CSV) fputs("hash,id,source,tags,enabled,added_at,entry\n", c.f);
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
           "\"created_at\":%lld}\n",
           vouch_algo_name(in->algo), in->enabled ? "true" : "false",
           (unsigned long long)in->entries, (unsigned long long)in->enabled_entries,
           (long long)in->created_at);
  } else {
    printf("%-24s %-6s %-8s %10llu entries (%llu enabled)\n", in->name, vouch_algo_name(in->algo),
           in->enabled ? "enabled" : "DISABLED", (unsigned long long)in->entries,
           (unsigned long long)in->enabled_entries);
  }
  return 0;
}

int cmd_bank(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(bank_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
  }
  const char *sub = argv[1];
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
    if (open_bank(&a, 0, &b) != VOUCH_OK) return CLI_EXIT_ERROR;
    size_t changed = 0;
    if (a.id) rc = vouch_bank_entry_set_enabled(b, a.ops[0], VOUCH_SELECT_EXT_ID, a.id, en, &changed);
    else if (a.entry) rc = vouch_bank_entry_set_enabled(b, a.ops[0], VOUCH_SELECT_ENTRY_ID, a.entry, en, &changed);
    else if (a.hash) rc = vouch_bank_entry_set_enabled(b, a.ops[0], VOUCH_SELECT_HASH, a.hash, en, &changed);
    else rc = vouch_bank_set_enabled(b, a.ops[0], en);
    if (rc != VOUCH_OK) return bank_fail(b, rc);
    if (a.id || a.entry || a.hash)
      fprintf(stderr, "vouch: %s %zu entr%s\n", en ? "enabled" : "disabled", changed,
              changed == 1 ? "y" : "ies");
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
