/* programs/cli/audit_seconds.c -- `vouch audit source seconds`: a source signs
 * the second hashes of one of its signed lists (docs/review.md, "Signed
 * second hashes"); `vouch bank import --signed LIST.vsl --seconds LIST.vss`
 * takes them in. */
#include <stdlib.h>
#include "audit_cli.h"
#include "vouch/review.h"

int audit_source_seconds(int argc, char **argv) {
  const char *key = NULL, *listf = NULL, *out = NULL;
  int help = 0;
  audit_opt o[] = {{"--key", 1, &key, NULL}, {"--list", 1, &listf, NULL}, {"-o", 1, &out, NULL},
                   {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 4,
                          "usage: vouch audit source seconds --key KEYFILE --list LIST.vsl -o LIST.vss SECONDS\n\n"
                          "Signs the second hashes of the signed list LIST.vsl (made with the same source\n"
                          "key): SECONDS holds 'PDQHEX [QUALITY] SECONDHEX [PATH]' lines, what 'vouch hash\n"
                          "--derivative' prints; the list's hashes found there exactly get theirs.  The\n"
                          "list is not changed; 'vouch bank import --signed LIST.vsl --seconds LIST.vss'\n"
                          "stores both.\n",
                          &ops, &nops);
  if (parsed > 0) return CLI_EXIT_OK;
  if (parsed < 0 || nops != 1 || !key || !listf || !out)
    return audit_usage("vouch audit source seconds --key KEYFILE --list LIST.vsl -o LIST.vss SECONDS");
  uint8_t *vsl = NULL, *text = NULL, *vss = NULL;
  size_t vsl_len = 0, text_len = 0, vss_len = 0, bad = 0;
  vouch_second_list *sl = NULL;
  vouch_audit_secret_key k;
  int ret = CLI_EXIT_ERROR, rc;
  if (cli_read_file_reported(listf, (size_t)1 << 31, &vsl, &vsl_len) != 0 ||
      cli_read_file_reported(ops[0], (size_t)1 << 31, &text, &text_len) != 0)
    goto out;
  if ((rc = vouch_second_list_parse((const char *)text, text_len, &sl, &bad)) != VOUCH_OK) {
    cli_errorf("%s:%zu: %s (expected PDQHEX [QUALITY] SECONDHEX)", ops[0], bad, vouch_strerror(rc));
    goto out;
  }
  if (audit_load_seckey(key, &k) != 0) goto out;
  rc = vouch_second_signed_make(&k, vsl, vsl_len, sl, &vss, &vss_len);
  vouch_audit_secret_key_wipe(&k);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: cannot sign its second hashes: %s%s", listf, vouch_strerror(rc),
               rc == VOUCH_E_AUDIT_SIGNATURE ? " (the list is not this key's)" : "");
    goto out;
  }
  if (audit_write_atomic(out, vss, vss_len, 0644) != 0) goto out;
  vouch_audit_list l;
  vouch_second_signed ss;
  if (vouch_audit_list_open(vsl, vsl_len, &l) == VOUCH_OK && vouch_second_signed_open(vss, vss_len, &l, &ss) == VOUCH_OK)
    printf("signed %llu second hashes of the %llu hashes of %s -> %s\n", (unsigned long long)ss.count,
           (unsigned long long)l.count, listf, out);
  ret = CLI_EXIT_OK;
out:
  free(vsl);
  free(text);
  vouch_free(vss);
  vouch_second_list_free(sl);
  return ret;
}
