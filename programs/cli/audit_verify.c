/* programs/cli/audit_verify.c -- `vouch audit verify`: a head against a
 * table, lists, a log, pinned trust, public data and the blinding proof. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "audit_cli.h"

/* -------------------------------------------------------------- verify */

/* A file the check needs cannot be read or parsed: says so in the output's
 * form and returns the exit status. */
static int load_failed(int json, const char *what, int rc) {
  if (json)
    printf("{\"ok\":false,\"failed\":\"%s\",\"error\":\"%s\"}\n", what, vouch_strerror(rc));
  else
    printf("FAIL %s: %s\n", what, vouch_strerror(rc));
  return audit_exit_for(rc);
}

static const char *check_word(int v) { return v < 0 ? "skip" : v == VOUCH_OK ? "ok" : "FAIL"; }

/* --blinding: the proof of honest blinding over the table's live set
 * (docs/protocol.md section 13).  Returns a VOUCH_* code (0 = passed), or
 * -1 after a message if a file cannot be read. */
static int blinding_check(const char *auditp, const char *dbp, const uint8_t *pdbuf, size_t pdlen) {
  uint8_t *audit = NULL, *hs = NULL, *keys = NULL, root[32];
  size_t alen = 0, n = 0;
  int algo, scheme, rc;
  unsigned band;
  vouch_psi_public *pub = NULL;
  rc = vouch_psi_public_open(&pub, pdbuf, pdlen, NULL);
  if (rc != VOUCH_OK)
    return rc;
  vouch_psi_public_scheme(pub, NULL, &scheme, &band, NULL);
  vouch_psi_public_free(pub);
  if (audit_read_all(auditp, &audit, &alen) != 0)
    return -1;
  if (cli_audit_live_hashes(dbp, &algo, &hs, &n, root) != 0) {
    free(audit);
    return -1;
  }
  keys = cli_psi_entry_keys(scheme, band, algo, hs, n);
  free(hs);
  if (!keys) {
    free(audit);
    return -1;
  }
  rc = vouch_psi_blinding_audit(pdbuf, pdlen, keys, n, audit, alen);
  sodium_memzero(audit, alen);
  free(audit);
  free(keys);
  return rc;
}

int audit_verify(int argc, char **argv) {
  const char *sthp = NULL, *dbp = NULL, *logp = NULL, *trusted = NULL, *prevp = NULL, *psi = NULL, *idx = NULL;
  const char *bankp = NULL, *blindp = NULL;
  uint8_t *pdbuf = NULL;
  size_t pdlen = 0;
  int json = 0, help = 0;
  audit_opt o[] = {{"--sth", 1, &sthp, NULL},      {"--db", 1, &dbp, NULL},     {"--log", 1, &logp, NULL},
             {"--trusted", 1, &trusted, NULL}, {"--prev", 1, &prevp, NULL}, {"--psi-digest", 1, &psi, NULL},
             {"--index-root", 1, &idx, NULL}, {"--json", 0, NULL, &json},  {"--help", 0, NULL, &help},
             {"--bank", 1, &bankp, NULL},     {"--blinding", 1, &blindp, NULL}};
  char **ops;
  int nops;
  uint8_t pd[32], ir[32];
  int parsed = audit_args(argc, argv, o, 11,
                          "usage: vouch audit verify --sth HEAD.vsth [--db TABLE.vdb] [--log LOG.vlog]\n"
                          "                          [--trusted FILE] [--prev OLD.vdb] [--index-root HEX]\n"
                          "                          [--psi-digest HEX] [--bank BANKS.sqlite] [--json]\n"
                          "                          [--blinding PUBLIC.vpd.auditor]\n"
                          "                          [PUBLIC.vpd] [LIST.vsl...]\n\n"
                          "Checks what can be checked with the files given and prints each check:\n"
                          "  head signature      always (against the key the head names)\n"
                          "  table               --db: root recomputed from the leaves, every addition meets the\n"
                          "                      rule, the head describes exactly this table\n"
                          "  source signatures   --db: every source's list signature against its key\n"
                          "  lists               LIST.vsl... and/or --bank: the lists (--bank: the current\n"
                          "                      signed lists stored in every bank of that file) rebuild\n"
                          "                      exactly this table (with --prev for versions after the\n"
                          "                      first): the auditor's check\n"
                          "  log                 --log: the head is in the log, the log verifies throughout\n"
                          "  trust               --trusted: server key, source keys, rule and pinned roots\n"
                          "  public data         PUBLIC.vpd: valid and signed, names the head's root, and is\n"
                          "                      exactly the data the head binds (SHA-256 of the file)\n"
                          "  index/psi           the head binds this index root / PSI public data digest\n"
                          "  blinding proof      --blinding FILE with --db and PUBLIC.vpd: the auditors' file\n"
                          "                      'psi setup' wrote is for this public data and its committed\n"
                          "                      dummy seed, its slot map holds exactly the keys of the table's\n"
                          "                      live set (plus dummies), and the proof in the public data that\n"
                          "                      every slot is blinded with the secret of L holds\n"
                          "Exit 1 if any check fails, 2 on unreadable input.\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || !sthp || (psi && audit_parse_hex32(psi, pd) != 0) ||
      (idx && audit_parse_hex32(idx, ir) != 0))
    return audit_usage("vouch audit verify --sth HEAD.vsth [--db TABLE.vdb] [--log LOG.vlog] [--trusted FILE] "
               "[LIST.vsl...]");
  vouch_audit_sth sth;
  vouch_audit_db *db = NULL, *prev = NULL;
  vouch_audit_log *log = NULL;
  vouch_audit_trust trust;
  audit_loaded_list *ll = NULL;
  vouch_audit_list *lists = NULL;
  cli_bank_lists bl = {0};
  int rc, ret = CLI_EXIT_ERROR, lists_rc = -1;
  if (audit_load_sth(sthp, &sth, &rc) != 0) {
    ret = load_failed(json, "head", rc);
    goto out;
  }
  if (dbp && audit_load_db(dbp, &db, &rc) != 0) {
    ret = load_failed(json, "table", rc);
    goto out;
  }
  if (logp && audit_load_log(logp, &log, &rc) != 0) {
    ret = load_failed(json, "log", rc);
    goto out;
  }
  if (trusted && audit_load_trust(trusted, &trust) != 0)
    goto out;
  if (prevp && audit_load_db(prevp, &prev, &rc) != 0) {
    ret = audit_exit_for(rc);
    goto out;
  }
  int nlists = 0, public_rc = -1, blind_rc = -1;
  if (bankp && cli_bank_lists_load("audit verify", bankp, NULL, 0, &bl) != 0)
    goto out;
  if (nops > 0 || bl.n > 0) {
    ll = calloc((size_t)nops + bl.n, sizeof *ll);
    lists = calloc((size_t)nops + bl.n, sizeof *lists);
    if (!ll || !lists)
      goto out;
    /* the bank's lists first; their buffers move into ll */
    for (size_t i = 0; i < bl.n; i++) {
      ll[nlists].buf = bl.bufs[i];
      ll[nlists].len = bl.lens[i];
      bl.bufs[i] = NULL;
      char name[4200];
      snprintf(name, sizeof name, "%s: stored list %zu", bankp, i + 1);
      if (audit_open_list(&ll[nlists], name, &rc) != 0) { /* verified on import: the bank file was changed */
        ret = audit_exit_for(rc);
        goto out;
      }
      lists[nlists] = ll[nlists].list;
      nlists++;
    }
    for (int i = 0; i < nops; i++) {
      if (audit_read_all(ops[i], &ll[nlists].buf, &ll[nlists].len) != 0)
        goto out;
      if (audit_is_public_data(ll[nlists].buf, ll[nlists].len)) {
        /* PSI public data: valid, names the head's root, and is the data the head binds. */
        vouch_psi_public *pub = NULL;
        uint8_t proot[32];
        public_rc = vouch_psi_public_open(&pub, ll[nlists].buf, ll[nlists].len, NULL);
        if (public_rc == VOUCH_OK) {
          vouch_psi_public_info(pub, NULL, proot, NULL);
          public_rc = memcmp(proot, sth.root, 32) == 0 ? VOUCH_OK : VOUCH_E_AUDIT_PROOF;
        }
        vouch_psi_public_free(pub);
        if (!psi) {
          vouch_audit_digest(ll[nlists].buf, ll[nlists].len, pd);
          psi = ops[i];
        }
        if (!pdbuf) { /* kept for --blinding */
          pdbuf = ll[nlists].buf;
          pdlen = ll[nlists].len;
        } else {
          free(ll[nlists].buf);
        }
        ll[nlists].buf = NULL;
        continue;
      }
      if (audit_open_list(&ll[nlists], ops[i], &rc) != 0) {
        ret = audit_exit_for(rc);
        goto out;
      }
      lists[nlists] = ll[nlists].list;
      nlists++;
    }
    if (nlists > 0 && !db) {
      cli_errorf("lists need --db TABLE.vdb to check");
      goto out;
    }
    if (nlists > 0)
      lists_rc = vouch_audit_db_check_lists(db, prev, lists, (size_t)nlists);
  }
  if (blindp) {
    if (!dbp || !pdbuf) {
      cli_errorf("--blinding needs --db TABLE.vdb and the PUBLIC.vpd");
      goto out;
    }
    blind_rc = blinding_check(blindp, dbp, pdbuf, pdlen);
    if (blind_rc < 0)
      goto out;
  }
  vouch_audit_report r;
  rc = vouch_audit_check(&sth, db, log, trusted ? &trust : NULL, idx ? ir : NULL, psi ? pd : NULL, &r);
  if (rc == VOUCH_OK && lists_rc > 0)
    rc = lists_rc;
  if (rc == VOUCH_OK && public_rc > 0)
    rc = public_rc;
  if (rc == VOUCH_OK && blind_rc > 0) /* a proof or map that does not hold is a failed check (exit 1) */
    rc = blind_rc == VOUCH_E_PSI_FORMAT ? blind_rc : VOUCH_E_AUDIT_PROOF;
  struct {
    const char *name;
    int v;
  } rows[] = {{"head_signature", r.sth_signature}, {"head_matches_table", r.sth_matches_db},
              {"source_signatures", r.source_sigs}, {"two_source_rule", r.policy},
              {"lists_rebuild_table", lists_rc},     {"log", r.log},
              {"trusted_server", r.trusted_server}, {"trusted_sources", r.trusted_sources},
              {"trusted_rule", r.trusted_policy},   {"pinned_roots", r.pins},
              {"public_data", public_rc},           {"index_root", r.index_root},
              {"psi_digest", r.psi_digest},         {"blinding_proof", blind_rc}};
  size_t nrows = sizeof rows / sizeof rows[0];
  if (json) {
    printf("{\"ok\":%s,\"version\":%llu,\"tree_size\":%llu,", rc == VOUCH_OK ? "true" : "false",
           (unsigned long long)sth.db_version, (unsigned long long)sth.tree_size);
    audit_json_hex(stdout, "root", sth.root, 32, 1);
    printf("\"checks\":{");
    for (size_t i = 0; i < nrows; i++)
      printf("%s\"%s\":\"%s\"", i ? "," : "", rows[i].name, check_word(rows[i].v));
    printf("}");
    if (rc != VOUCH_OK)
      printf(",\"error\":\"%s\"", vouch_strerror(rc));
    printf("}\n");
  } else {
    printf("head: version %llu, %llu leaves, %llu live, rule %u sources%s\nroot ", (unsigned long long)sth.db_version,
           (unsigned long long)sth.tree_size, (unsigned long long)sth.live_count, sth.policy.min_sources,
           sth.policy.distinct_jurisdictions ? " in distinct jurisdictions" : "");
    cli_hex_out(stdout, sth.root, 32);
    printf("\nserver key ");
    cli_hex_out(stdout, sth.server_pk, 32);
    printf("\n");
    for (size_t i = 0; i < nrows; i++)
      printf("%-4s %s%s%s\n", check_word(rows[i].v), rows[i].name, rows[i].v > 0 ? ": " : "",
             rows[i].v > 0 ? vouch_strerror(rows[i].v) : "");
    printf("%s\n", rc == VOUCH_OK ? "verified" : "VERIFICATION FAILED");
  }
  ret = rc == VOUCH_OK ? CLI_EXIT_OK : audit_exit_for(rc);
  if (rc != VOUCH_OK && ret == CLI_EXIT_OK)
    ret = CLI_EXIT_VERIFY;
out:
  free(pdbuf);
  if (ll)
    for (size_t i = 0; i < (size_t)nops + bl.n; i++)
      free(ll[i].buf);
  cli_bank_lists_free(&bl);
  free(ll);
  free(lists);
  vouch_audit_db_free(db);
  vouch_audit_db_free(prev);
  vouch_audit_log_free(log);
  return ret;
}
