/* programs/cli/cmd_index.c -- `vouch index`: build and inspect index files. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "vouch/bank.h"
#include "vouch/index.h"

static const char index_usage[] =
  "usage: vouch index build --db FILE.sqlite|URI [--bank NAME]... -o FILE.vidx\n"
  "       vouch index build --db FILE.sqlite|URI --algo ALGO -o FILE.vidx\n"
  "       vouch index build --db FILE.sqlite|URI --out-dir DIR\n"
  "       vouch index build --require-sources N --list A.vsl --list B.vsl... [--any-jurisdiction]\n"
  "                         [--audit-prev OLD.vdb] --audit-out NEW.vdb -o FILE.vidx\n"
  "       vouch index build --db FILE.sqlite [--bank NAME]... --require-sources N [--any-jurisdiction]\n"
  "                         [--audit-prev OLD.vdb] --audit-out NEW.vdb -o FILE.vidx\n"
  "       vouch index build --audit-db TABLE.vdb -o FILE.vidx\n"
  "       vouch index info FILE.vidx [--verify] [--json]\n"
  "       vouch index video -o FILE.vidx [--bank NAME] [--quality Q] VPDQ.txt|VIDEO...\n"
  "\n"
  "build   writes an index of the enabled entries of the enabled banks (all of\n"
  "        them, or those named with --bank; they must share one algorithm).\n"
  "        --algo ALGO (pdq, vpdq, md5, video_md5, ...) indexes the enabled banks\n"
  "        of that algorithm only; --out-dir DIR writes DIR/ALGO.vidx for each\n"
  "        algorithm of the enabled banks (a database holding several, as vouchd\n"
  "        --index-dir DIR serves them) and removes DIR/ALGO.vidx of the\n"
  "        algorithms no enabled bank has.\n"
  "        The file is written to a temporary name, fsynced and renamed, so a\n"
  "        crash never leaves a partial index.  Prints the entry count and the\n"
  "        Merkle root over the canonical entries (docs/index-format.md).\n"
  "        With --require-sources (or --audit-db), the index holds exactly the hashes\n"
  "        that N sources in N distinct jurisdictions signed (docs/audit.md); each\n"
  "        entry's source is its attestation set, and the audited table is written\n"
  "        to --audit-out.  With --db and --require-sources, the signed lists are\n"
  "        those stored in the banks by 'vouch bank import --signed' (the newest\n"
  "        list of each source key; the entries' enabled flags play no part):\n"
  "        the same table and index as --list with those lists ('vouch bank\n"
  "        lists --export DIR' writes them out).\n"
  "video   writes an index of the unique frames of videos (vPDQ files or videos)\n"
  "        for 'vouch match --vpdq' ('vouch index video --help').\n"
  "info    validates FILE (checksum, structure) and prints its algorithm, entry\n"
  "        count, banks and Merkle root; --verify also recomputes the root.\n"
  "\n"
  "Exit status: 0 ok, 2 on any error (including a damaged file).\n";

static void print_root(FILE *f, const uint8_t *root) {
  for (int i = 0; i < 32; i++) fprintf(f, "%02x", root[i]);
}

/* `index build --db DB [--bank NAME]... --require-sources N ...`: the
 * --list path with the lists stored in the banks. */
static int bank_audit_build(const char *db, const char **banks, size_t nbanks, unsigned require, int any_jur,
                            const char *audit_prev, const char *audit_out, const char *out) {
  cli_bank_lists s;
  if (cli_bank_lists_load("index build", db, banks, nbanks, &s) != 0)
    return CLI_EXIT_ERROR;
  int ec = cli_audit_index_build(NULL, NULL, s.bufs, s.lens, s.n, require, any_jur, audit_prev, audit_out, out);
  cli_bank_lists_free(&s);
  return ec;
}

/* `index build --db DB --out-dir DIR`: DIR/ALGO.vidx for each algorithm of
 * the enabled banks (DIR/pdq.vidx, an empty one, when there is none). */
static int build_dir(vouch_bank *b, const char *dir) {
  int algos[VOUCH_BANK_ALGOS_MAX];
  size_t nalgos = 0;
  int rc = vouch_bank_index_algos(b, algos, VOUCH_BANK_ALGOS_MAX, &nalgos);
  if (rc == VOUCH_OK && nalgos == 0) algos[nalgos++] = VOUCH_ALGO_PDQ;
  if (nalgos > VOUCH_BANK_ALGOS_MAX) nalgos = VOUCH_BANK_ALGOS_MAX;
  if (rc == VOUCH_OK && mkdir(dir, 0755) != 0 && errno != EEXIST) {
    cli_errorf("index build: %s: %s", dir, strerror(errno));
    return CLI_EXIT_ERROR;
  }
  for (size_t k = 0; rc == VOUCH_OK && k < nalgos; k++) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.vidx", dir, vouch_algo_name(algos[k])) >= (int)sizeof path) {
      cli_errorf("index build: %s: path too long", dir);
      return CLI_EXIT_ERROR;
    }
    uint8_t root[32];
    size_t n = 0;
    const double t0 = cli_now();
    rc = vouch_bank_build_index_algo(b, algos[k], path, root, &n, NULL);
    if (rc != VOUCH_OK) break;
    printf("%s: %zu entries, root ", path, n);
    print_root(stdout, root);
    printf(" (%.2f s)\n", cli_now() - t0);
  }
  if (rc != VOUCH_OK) {
    cli_errorf("index build: %s", vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
    return CLI_EXIT_ERROR;
  }
  /* the file of an algorithm no enabled bank has any more goes, as vouchd's rebuild removes it */
  for (int a = VOUCH_ALGO_NONE + 1; a < 32; a++) {
    int built = 0;
    for (size_t k = 0; k < nalgos; k++) built |= algos[k] == a;
    char path[4096];
    if (built || vouch_bank_algo_from_name(vouch_algo_name(a)) != a ||
        snprintf(path, sizeof path, "%s/%s.vidx", dir, vouch_algo_name(a)) >= (int)sizeof path)
      continue;
    if (unlink(path) == 0) printf("%s: removed (no enabled %s bank)\n", path, vouch_algo_name(a));
    else if (errno != ENOENT) {
      cli_errorf("index build: %s: %s", path, strerror(errno));
      return CLI_EXIT_ERROR;
    }
  }
  return CLI_EXIT_OK;
}

static int do_build(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, 0, 'D'},
                                       {"bank", required_argument, 0, 'b'},
                                       {"output", required_argument, 0, 'o'},
                                       {"help", no_argument, 0, 'h'},
                                       {"require-sources", required_argument, 0, 'R'},
                                       {"list", required_argument, 0, 'L'},
                                       {"any-jurisdiction", no_argument, 0, 'J'},
                                       {"audit-prev", required_argument, 0, 'P'},
                                       {"audit-out", required_argument, 0, 'U'},
                                       {"audit-db", required_argument, 0, 'T'},
                                       {"algo", required_argument, 0, 'A'},
                                       {"out-dir", required_argument, 0, 'O'},
                                       {0, 0, 0, 0}};
  const char *audit_prev = NULL, *audit_out = NULL, *audit_db = NULL;
  char **lists = calloc((size_t)argc + 1, sizeof *lists);
  size_t nlists = 0;
  unsigned long require = 0;
  int any_jur = 0;
  const char *db = NULL, *out = NULL, *algo_name = NULL, *out_dir = NULL;
  const char **banks = calloc((size_t)argc + 1, sizeof *banks);
  size_t nbanks = 0;
  int c;
  optind = 1;
  if (!banks || !lists) {
    free(banks);
    free(lists);
    return CLI_EXIT_ERROR;
  }
  while ((c = getopt_long(argc, argv, "b:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'D': db = optarg; break;
    case 'b': banks[nbanks++] = optarg; break;
    case 'o': out = optarg; break;
    case 'R':
      if (cli_parse_uint(optarg, 1, VOUCH_AUDIT_SOURCES_MAX, &require) != 0) {
        cli_errorf("--require-sources must be 1..%u", VOUCH_AUDIT_SOURCES_MAX);
        free(banks);
        free(lists);
        return CLI_EXIT_ERROR;
      }
      break;
    case 'L': lists[nlists++] = optarg; break;
    case 'J': any_jur = 1; break;
    case 'P': audit_prev = optarg; break;
    case 'U': audit_out = optarg; break;
    case 'T': audit_db = optarg; break;
    case 'A': algo_name = optarg; break;
    case 'O': out_dir = optarg; break;
    case 'h': fputs(index_usage, stdout); free(banks); free(lists); return CLI_EXIT_OK;
    default: fputs(index_usage, stderr); free(banks); free(lists); return CLI_EXIT_ERROR;
    }
  }
  if ((algo_name || out_dir) && (require || nlists || audit_db || nbanks)) {
    cli_errorf("index build: --algo and --out-dir select banks by algorithm: not with --bank, --list,"
               " --require-sources or --audit-db");
    free(banks);
    free(lists);
    return CLI_EXIT_ERROR;
  }
  if (require || nlists || audit_db) { /* the audited path (docs/audit.md) */
    int ec = CLI_EXIT_ERROR;
    if (db && require && !nlists && !audit_db && out && optind == argc) {
      ec = bank_audit_build(db, banks, nbanks, (unsigned)require, any_jur, audit_prev, audit_out, out);
    } else if (db || nbanks || !out || optind != argc || (audit_db && (require || nlists)))
      cli_errorf("index build: --list/--audit-db replace --db and --bank; -o is required");
    else
      ec = cli_audit_index_build(audit_db, lists, NULL, NULL, nlists, require ? (unsigned)require : 2, any_jur,
                                 audit_prev, audit_out, out);
    free(banks);
    free(lists);
    return ec;
  }
  free(lists);
  if (!db || !out == !out_dir || optind != argc || (out_dir && algo_name)) {
    cli_errorf("index build: --db FILE and one of -o FILE.vidx or --out-dir DIR are required (--algo goes with -o)");
    free(banks);
    return CLI_EXIT_ERROR;
  }
  int algo = VOUCH_ALGO_NONE;
  if (algo_name && (algo = vouch_signal_type_algo(algo_name, strlen(algo_name))) <= VOUCH_ALGO_NONE) {
    cli_errorf("index build: --algo %s: not a bank algorithm (pdq, phash, dhash, ahash, vpdq, md5, sha1, sha256)",
               algo_name);
    free(banks);
    return CLI_EXIT_ERROR;
  }
  vouch_bank *b = NULL;
  int rc = vouch_bank_open(&b, db, VOUCH_BANK_OPEN_READONLY);
  if (rc == VOUCH_OK && out_dir) {
    free(banks);
    int ec = build_dir(b, out_dir);
    vouch_bank_free(b);
    return ec;
  }
  /* all enabled banks of several algorithms: say which, and how to choose */
  int algos[VOUCH_BANK_ALGOS_MAX];
  size_t nalgos = 0;
  if (rc == VOUCH_OK && !nbanks && algo == VOUCH_ALGO_NONE &&
      vouch_bank_index_algos(b, algos, VOUCH_BANK_ALGOS_MAX, &nalgos) == VOUCH_OK && nalgos > 1) {
    char names[256] = "";
    for (size_t k = 0; k < nalgos && k < VOUCH_BANK_ALGOS_MAX; k++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", vouch_algo_name(algos[k]));
    cli_errorf("index build: the enabled banks hold %s hashes, and an index holds one algorithm: build one with"
               " --algo ALGO -o FILE.vidx, all of them with --out-dir DIR (DIR/ALGO.vidx), or choose banks with"
               " --bank", names);
    vouch_bank_free(b);
    free(banks);
    return CLI_EXIT_ERROR;
  }
  uint8_t root[32];
  size_t n = 0;
  double t0 = cli_now();
  if (rc == VOUCH_OK)
    rc = algo != VOUCH_ALGO_NONE ? vouch_bank_build_index_algo(b, algo, out, root, &n, NULL)
                                 : vouch_bank_build_index(b, banks, nbanks, out, root, &n);
  if (rc != VOUCH_OK) {
    cli_errorf("index build: %s", vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
    vouch_bank_free(b);
    free(banks);
    return CLI_EXIT_ERROR;
  }
  printf("%s: %zu entries, root ", out, n);
  print_root(stdout, root);
  printf(" (%.2f s)\n", cli_now() - t0);
  vouch_bank_free(b);
  free(banks);
  return CLI_EXIT_OK;
}

/* "512 B", "21.4 kB", "648.9 MB", "1.88 GB" (decimal units) into buf. */
static const char *fmt_bytes(double b, char buf[32]) {
  if (b < 1e3)
    snprintf(buf, 32, "%.0f B", b);
  else if (b < 1e6)
    snprintf(buf, 32, "%.1f kB", b / 1e3);
  else if (b < 1e9)
    snprintf(buf, 32, "%.1f MB", b / 1e6);
  else
    snprintf(buf, 32, "%.2f GB", b / 1e9);
  return buf;
}

static int do_info(int argc, char **argv) {
  int verify = 0, json = 0;
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--verify")) verify = 1;
    else if (!strcmp(argv[i], "--json")) json = 1;
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(index_usage, stdout); return 0; }
    else if (!path && argv[i][0] != '-') path = argv[i];
    else { cli_errorf("index info: unexpected '%s'", argv[i]); return CLI_EXIT_ERROR; }
  }
  if (!path) {
    cli_errorf("index info: FILE.vidx required");
    return CLI_EXIT_ERROR;
  }
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_mih = 0;
  vouch_index *idx = NULL;
  int rc = vouch_index_open(&idx, path, &cfg);
  if (rc == VOUCH_OK && verify) rc = vouch_index_verify_root(idx);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s: %s", path, vouch_strerror(rc), vouch_index_errmsg(idx));
    vouch_index_free(idx);
    return CLI_EXIT_ERROR;
  }
  struct stat st;
  const double file_bytes = stat(path, &st) == 0 ? (double)st.st_size : 0.0;
  const double hash_bytes = (double)vouch_index_count(idx) * (double)vouch_index_hash_bytes(idx);
  const size_t tables = vouch_index_mih_memory_estimate(idx, 0);
  const size_t links = vouch_index_mih_link_bytes(idx, 0);
  if (json) {
    printf("{\"path\":");
    cli_json_string(stdout, path);
    printf(",\"format_version\":%u,\"algo\":\"%s\",\"entries\":%zu,\"root\":\"",
           VOUCH_INDEX_FORMAT_VERSION, vouch_algo_name(vouch_index_algo(idx)), vouch_index_count(idx));
    print_root(stdout, vouch_index_root(idx));
    printf("\",\"banks\":[");
    for (uint32_t k = 0; k < vouch_index_bank_count(idx); k++) {
      if (k) putchar(',');
      cli_json_string(stdout, vouch_index_bank_name(idx, k));
    }
    printf("],\"root_verified\":%s,\"file_bytes\":%.0f,\"hash_bytes\":%.0f,\"mih_tables_bytes\":%zu,"
           "\"mih_links_bytes\":%zu}\n",
           verify ? "true" : "false", file_bytes, hash_bytes, tables, links);
  } else {
    printf("%s: vouch index format %u, %s, %zu entries\nroot: ", path, VOUCH_INDEX_FORMAT_VERSION,
           vouch_algo_name(vouch_index_algo(idx)), vouch_index_count(idx));
    print_root(stdout, vouch_index_root(idx));
    printf("%s\nbanks:", verify ? " (recomputed: ok)" : "");
    for (uint32_t k = 0; k < vouch_index_bank_count(idx); k++)
      printf(" %s", vouch_index_bank_name(idx, k));
    char b1[32], b2[32], b3[32], b4[32];
    printf("\nmemory to search it: MIH tables %s (of which entry links %s); the file, %s with "
           "%s of hashes, is mapped and read only for matches (the scan reads the hashes)\n",
           fmt_bytes((double)tables, b1), fmt_bytes((double)links, b2), fmt_bytes(file_bytes, b3),
           fmt_bytes(hash_bytes, b4));
  }
  vouch_index_free(idx);
  return CLI_EXIT_OK;
}

int cmd_index(int argc, char **argv) {
  static const cli_subcmd cmds[] = {{"build", do_build}, {"info", do_info}, {"video", cmd_index_video}};
  return cli_dispatch("index", index_usage, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
