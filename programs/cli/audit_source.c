/* programs/cli/audit_source.c -- `vouch audit source keygen|sign|verify`:
 * a source's key and its signed hash list (docs/audit.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "audit_cli.h"

/* ------------------------------------------------------ source keygen */

static int source_keygen(int argc, char **argv) {
  const char *name = NULL, *jur = NULL, *out = NULL;
  int server = 0, help = 0;
  audit_opt o[] = {{"--name", 1, &name, NULL}, {"--jurisdiction", 1, &jur, NULL}, {"-o", 1, &out, NULL},
             {"--server", 0, NULL, &server}, {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 5,
                      "usage: vouch audit source keygen --name NAME --jurisdiction CC [--server] -o KEYFILE\n\n"
                      "Creates an Ed25519 key for a source (or, with --server, for the database operator).\n"
                      "Writes the secret key to KEYFILE (mode 0600) and the public key to KEYFILE.pub.\n"
                      "NAME: 1-64 of [A-Za-z0-9._-]; CC: ISO 3166-1 alpha-2 code, capitals (US, GB, ...).\n",
                      &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops || !name || !jur || !out)
    return audit_usage("vouch audit source keygen --name NAME --jurisdiction CC [--server] -o KEYFILE");
  vouch_audit_secret_key k;
  int rc = vouch_audit_keygen(server ? VOUCH_AUDIT_ROLE_SERVER : VOUCH_AUDIT_ROLE_SOURCE, name, jur, &k);
  if (rc != VOUCH_OK) {
    cli_errorf("bad --name or --jurisdiction: %s", vouch_strerror(rc));
    return CLI_EXIT_ERROR;
  }
  uint8_t sec[VOUCH_AUDIT_SECKEY_FILE_BYTES], pub[VOUCH_AUDIT_PUBKEY_FILE_BYTES];
  vouch_audit_seckey_encode(&k, sec);
  vouch_audit_pubkey_encode(&k.id, pub);
  vouch_audit_secret_key_wipe(&k);
  size_t pl = strlen(out) + 5;
  char *pubpath = malloc(pl);
  int r = -1;
  if (pubpath) {
    snprintf(pubpath, pl, "%s.pub", out);
    r = audit_write_atomic(out, sec, sizeof sec, 0600);
    if (r == 0)
      r = audit_write_atomic(pubpath, pub, sizeof pub, 0644);
  }
  vouch_audit_wipe(sec, sizeof sec);
  if (r == 0) {
    printf("public key ");
    cli_hex_out(stdout, pub + 76, 32);
    printf("\nwrote %s (secret, 0600) and %s\n", out, pubpath);
  }
  free(pubpath);
  return r == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

/* -------------------------------------------------------- source sign */

/* Reads hex hashes, one per line (first field; '#' comments, blank lines). */
static int read_hashes(const char *path, int algo, uint8_t **out, size_t *n) {
  uint8_t *buf;
  size_t len;
  if (audit_read_all(path, &buf, &len) != 0)
    return -1;
  size_t hb = vouch_algo_list_bytes(algo), cap = 1024, cnt = 0, line = 0;
  uint8_t *h = malloc(cap * hb);
  int ok = h != NULL;
  for (size_t i = 0; ok && i < len;) {
    size_t e = i;
    while (e < len && buf[e] != '\n')
      e++;
    line++;
    size_t s = i;
    while (s < e && (buf[s] == ' ' || buf[s] == '\t'))
      s++;
    size_t f = s;
    while (f < e && buf[f] != ' ' && buf[f] != '\t' && buf[f] != ',' && buf[f] != '\r')
      f++;
    if (f > s && buf[s] != '#') {
      if (cnt == cap) {
        uint8_t *nh = realloc(h, cap * 2 * hb);
        if (!nh) {
          ok = 0;
          break;
        }
        h = nh;
        cap *= 2;
      }
      if (vouch_hash_from_hex((const char *)buf + s, f - s, h + cnt * hb, hb) != VOUCH_OK || f - s != 2 * hb) {
        cli_errorf("%s:%zu: not a %s hash", path, line, vouch_algo_name(algo));
        ok = 0;
        break;
      }
      cnt++;
    }
    i = e + 1;
  }
  free(buf);
  if (!ok) {
    free(h);
    return -1;
  }
  *out = h;
  *n = cnt;
  return 0;
}

static int source_sign(int argc, char **argv) {
  const char *key = NULL, *ver = NULL, *date = NULL, *algo_s = "pdq", *out = NULL;
  int help = 0;
  audit_opt o[] = {{"--key", 1, &key, NULL}, {"--list-version", 1, &ver, NULL}, {"--date", 1, &date, NULL},
             {"--algo", 1, &algo_s, NULL}, {"-o", 1, &out, NULL}, {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  unsigned long version;
  int parsed = audit_args(argc, argv, o, 6,
                      "usage: vouch audit source sign --key KEYFILE --list-version N [--date YYYY-MM-DD]\n"
                      "                               [--algo pdq|phash|dhash|ahash|md5|sha1|sha256] -o LIST.vsl [HASHES|-]\n\n"
                      "Signs the list of hashes a source supplies: hex hashes, one per line (first field;\n"
                      "'#' comments and blank lines skipped), read from HASHES or stdin.  The list is\n"
                      "sorted and deduplicated, so the same set always gives the same signed bytes.\n"
                      "--date defaults to today (UTC).\n",
                      &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops > 1 || !key || !ver || !out ||
      cli_parse_uint(ver, 0, ~0UL, &version) != 0)
    return audit_usage("vouch audit source sign --key KEYFILE --list-version N [--date D] -o LIST.vsl [HASHES]");
  int algo = vouch_algo_from_name(algo_s);
  if (algo == VOUCH_ALGO_NONE) algo = vouch_digest_from_name(algo_s); /* lists of file digests */
  if (algo == VOUCH_ALGO_NONE) {
    cli_errorf("unknown --algo '%s'", algo_s);
    return CLI_EXIT_ERROR;
  }
  char today[16];
  if (!date) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    date = today;
  }
  vouch_audit_secret_key k;
  if (audit_load_seckey(key, &k) != 0)
    return CLI_EXIT_ERROR;
  uint8_t *h = NULL, *list = NULL;
  size_t n = 0, len = 0;
  int ret = CLI_EXIT_ERROR;
  if (read_hashes(nops ? ops[0] : "-", algo, &h, &n) == 0) {
    int rc = vouch_audit_list_sign(&k, algo, version, date, h, n, &list, &len);
    if (rc != VOUCH_OK)
      cli_errorf("cannot sign: %s (is %s a source key? is the date YYYY-MM-DD?)", vouch_strerror(rc), key);
    else if (audit_write_atomic(out, list, len, 0644) == 0) {
      vouch_audit_list L;
      if (vouch_audit_list_open(list, len, &L) == VOUCH_OK)
        printf("signed %llu %s hashes as %s (%s), list version %lu, %s -> %s\n", (unsigned long long)L.count,
               vouch_algo_name(algo), k.id.name, k.id.jurisdiction, version, date, out);
      ret = CLI_EXIT_OK;
    }
  }
  vouch_audit_secret_key_wipe(&k);
  free(h);
  vouch_free(list);
  return ret;
}

/* ------------------------------------------------------ source verify */

static int source_verify(int argc, char **argv) {
  int json = 0, help = 0;
  audit_opt o[] = {{"--json", 0, NULL, &json}, {"--help", 0, NULL, &help}};
  char **ops;
  int nops, ret = CLI_EXIT_OK;
  int parsed = audit_args(argc, argv, o, 2,
                          "usage: vouch audit source verify [--json] LIST.vsl...\n\n"
                          "Checks each signed list (format, canonical order, signature against the key it\n"
                          "names) and prints who signed it.  Exit 1 if any list fails.\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops == 0)
    return audit_usage("vouch audit source verify [--json] LIST.vsl...");
  for (int i = 0; i < nops; i++) {
    audit_loaded_list l = {0};
    int rc = VOUCH_OK;
    if (audit_read_all(ops[i], &l.buf, &l.len) != 0) {
      ret = CLI_EXIT_ERROR;
      continue;
    }
    rc = vouch_audit_list_open(l.buf, l.len, &l.list);
    if (json) {
      printf("{\"path\":");
      cli_json_string(stdout, ops[i]);
      printf(",\"ok\":%s", rc == VOUCH_OK ? "true" : "false");
      if (rc == VOUCH_OK) {
        printf(",\"source\":");
        cli_json_string(stdout, l.list.source.name);
        printf(",\"jurisdiction\":\"%s\",", l.list.source.jurisdiction);
        audit_json_hex(stdout, "key", l.list.source.pk, 32, 1);
        printf("\"algo\":\"%s\",\"list_version\":%llu,\"date\":\"%s\",\"count\":%llu,",
               vouch_algo_name(l.list.algo), (unsigned long long)l.list.list_version, l.list.date,
               (unsigned long long)l.list.count);
        audit_json_hex(stdout, "hashes_sha256", l.list.hashes_digest, 32, 0);
      } else {
        printf(",\"error\":\"%s\"", vouch_strerror(rc));
      }
      printf("}\n");
    } else if (rc == VOUCH_OK) {
      printf("%s: ok: %llu %s hashes signed by %s (%s) key ", ops[i], (unsigned long long)l.list.count,
             vouch_algo_name(l.list.algo), l.list.source.name, l.list.source.jurisdiction);
      cli_hex_out(stdout, l.list.source.pk, 32);
      printf(", list version %llu, %s\n", (unsigned long long)l.list.list_version, l.list.date);
    } else {
      printf("%s: FAILED: %s\n", ops[i], vouch_strerror(rc));
    }
    if (rc != VOUCH_OK && ret == CLI_EXIT_OK)
      ret = audit_exit_for(rc) == CLI_EXIT_VERIFY || rc == VOUCH_E_DB_VERSION ? CLI_EXIT_VERIFY : CLI_EXIT_ERROR;
    free(l.buf);
  }
  return ret;
}

int audit_cmd_source(int argc, char **argv) {
  static const cli_subcmd cmds[] = {{"keygen", source_keygen}, {"sign", source_sign}, {"verify", source_verify},
                                    {"seconds", audit_source_seconds}};
  return cli_dispatch("audit source", "usage: vouch audit source keygen|sign|verify|seconds ...   "
                      "('vouch audit source sign --help')\n", cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
