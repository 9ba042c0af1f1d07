/* programs/cli/audit_table.c -- the audited table and its tree heads:
 * `vouch audit build|root|prove|verify-proof|consistency|sign-root`
 * (docs/audit.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "audit_cli.h"

/* --------------------------------------------------------------- build */

int audit_build(int argc, char **argv) {
  const char *req = "2", *prev_path = NULL, *out = NULL;
  int any = 0, help = 0;
  audit_opt o[] = {{"--require-sources", 1, &req, NULL}, {"--any-jurisdiction", 0, NULL, &any},
             {"--prev", 1, &prev_path, NULL}, {"-o", 1, &out, NULL}, {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  unsigned long k;
  int parsed = audit_args(argc, argv, o, 5,
                          "usage: vouch audit build [--require-sources N] [--any-jurisdiction] [--prev OLD.vdb]\n"
                          "                         -o NEW.vdb LIST.vsl...\n\n"
                          "Builds the next version of the audited table from the sources' signed lists.\n"
                          "A hash enters only if at least N sources (default 2) in N different jurisdictions\n"
                          "list it (--any-jurisdiction: N sources, wherever they are).  With --prev, the new\n"
                          "version appends to OLD: removals of entries no longer attested, then additions.\n"
                          "The rule is recorded in the table and in every tree head signed over it.\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || !out ||
      cli_parse_uint(req, 1, VOUCH_AUDIT_SOURCES_MAX, &k) != 0 || (nops == 0 && !prev_path) ||
      nops > (int)VOUCH_AUDIT_SOURCES_MAX)
    return audit_usage("vouch audit build [--require-sources N] [--prev OLD.vdb] -o NEW.vdb LIST.vsl...");
  vouch_audit_db *prev = NULL, *db = NULL;
  vouch_audit_policy pol = {(uint8_t)k, (uint8_t)(any ? 0 : 1)};
  int ret = audit_build_next(ops, NULL, NULL, (size_t)nops, prev_path, pol, out, "build failed", &db, &prev);
  if (ret != CLI_EXIT_OK)
    goto out;
  uint8_t root[32];
  vouch_audit_db_root(db, root);
  printf("version %llu: %llu live hashes, %llu leaves (%llu new), rule %u sources%s\nroot ",
         (unsigned long long)vouch_audit_db_version(db), (unsigned long long)vouch_audit_db_live_count(db),
         (unsigned long long)vouch_audit_db_size(db),
         (unsigned long long)(vouch_audit_db_size(db) - (prev ? vouch_audit_db_size(prev) : 0)), (unsigned)k,
         any ? "" : " in distinct jurisdictions");
  cli_hex_out(stdout, root, 32);
  printf("\nwrote %s\n", out);
  ret = CLI_EXIT_OK;
out:
  vouch_audit_db_free(prev);
  vouch_audit_db_free(db);
  return ret;
}

/* ---------------------------------------------------------------- root */

int audit_root(int argc, char **argv) {
  int json = 0, help = 0;
  audit_opt o[] = {{"--json", 0, NULL, &json}, {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 2,
                          "usage: vouch audit root [--json] TABLE.vdb\n\n"
                          "Parses and fully checks the table (root recomputed from the leaves, every\n"
                          "addition meets the table's rule, every removal removes a live entry) and prints\n"
                          "its version, size, rule, sources and root.\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops != 1)
    return audit_usage("vouch audit root [--json] TABLE.vdb");
  vouch_audit_db *db;
  int rc = VOUCH_OK;
  if (audit_load_db(ops[0], &db, &rc) != 0)
    return audit_exit_for(rc);
  uint8_t root[32];
  vouch_audit_db_root(db, root);
  vouch_audit_policy p = vouch_audit_db_policy(db);
  size_t ns = vouch_audit_db_nsources(db);
  if (json) {
    printf("{\"path\":");
    cli_json_string(stdout, ops[0]);
    printf(",\"version\":%llu,\"algo\":\"%s\",\"tree_size\":%llu,\"live\":%llu,\"min_sources\":%u,"
           "\"distinct_jurisdictions\":%s,",
           (unsigned long long)vouch_audit_db_version(db), vouch_algo_name(vouch_audit_db_algo(db)),
           (unsigned long long)vouch_audit_db_size(db), (unsigned long long)vouch_audit_db_live_count(db),
           p.min_sources, p.distinct_jurisdictions ? "true" : "false");
    audit_json_hex(stdout, "root", root, 32, 1);
    printf("\"sources\":[");
    for (size_t i = 0; i < ns; i++) {
      vouch_audit_source_record r;
      (void)vouch_audit_db_source(db, i, &r);
      printf("%s{\"name\":", i ? "," : "");
      cli_json_string(stdout, r.source.name);
      printf(",\"jurisdiction\":\"%s\",", r.source.jurisdiction);
      audit_json_hex(stdout, "key", r.source.pk, 32, 0);
      if (r.has_list)
        printf(",\"list_version\":%llu,\"date\":\"%s\",\"count\":%llu", (unsigned long long)r.list_version, r.date,
               (unsigned long long)r.count);
      printf("}");
    }
    printf("]}\n");
  } else {
    printf("version   %llu\nalgo      %s\nleaves    %llu\nlive      %llu\nrule      %u sources%s\nroot      ",
           (unsigned long long)vouch_audit_db_version(db), vouch_algo_name(vouch_audit_db_algo(db)),
           (unsigned long long)vouch_audit_db_size(db), (unsigned long long)vouch_audit_db_live_count(db),
           p.min_sources, p.distinct_jurisdictions ? " in distinct jurisdictions" : "");
    cli_hex_out(stdout, root, 32);
    printf("\n");
    for (size_t i = 0; i < ns; i++) {
      vouch_audit_source_record r;
      (void)vouch_audit_db_source(db, i, &r);
      printf("source %zu  %s %s ", i, r.source.jurisdiction, r.source.name);
      cli_hex_out(stdout, r.source.pk, 32);
      if (r.has_list)
        printf("  list v%llu %s, %llu hashes\n", (unsigned long long)r.list_version, r.date,
               (unsigned long long)r.count);
      else
        printf("  (no list in this version)\n");
    }
  }
  vouch_audit_db_free(db);
  return CLI_EXIT_OK;
}

/* --------------------------------------------------------------- prove */

int audit_prove(int argc, char **argv) {
  const char *dbp = NULL, *out = NULL;
  int json = 0, help = 0;
  audit_opt o[] = {{"--db", 1, &dbp, NULL}, {"-o", 1, &out, NULL}, {"--json", 0, NULL, &json},
             {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 4,
                          "usage: vouch audit prove --db TABLE.vdb [--json | -o PROOF.txt] HASH\n\n"
                          "Prints the inclusion proof (RFC 9162) of the live entry HASH: the leaf that\n"
                          "added it and the audit path to the root.  Check it with\n"
                          "'vouch audit verify-proof --sth HEAD.vsth PROOF.txt'.  Exit 2 if HASH is not live.\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops != 1 || !dbp)
    return audit_usage("vouch audit prove --db TABLE.vdb [--json | -o PROOF.txt] HASH");
  vouch_audit_db *db;
  int rc = VOUCH_OK;
  if (audit_load_db(dbp, &db, &rc) != 0)
    return audit_exit_for(rc);
  int ret = CLI_EXIT_ERROR;
  size_t hb = vouch_algo_bytes(vouch_audit_db_algo(db));
  uint8_t h[32];
  uint64_t leaf;
  vouch_audit_inclusion inc;
  char *text = NULL;
  size_t tl;
  if (strlen(ops[0]) != 2 * hb || vouch_hash_from_hex(ops[0], 2 * hb, h, hb) != VOUCH_OK) {
    cli_errorf("'%s' is not a %s hash", ops[0], vouch_algo_name(vouch_audit_db_algo(db)));
  } else if (vouch_audit_db_find(db, h, &leaf) != VOUCH_OK) {
    cli_errorf("%s is not in the live set of %s", ops[0], dbp);
  } else if ((rc = vouch_audit_inclusion_make(db, leaf, &inc)) != VOUCH_OK ||
             (rc = vouch_audit_inclusion_format(&inc, &text, &tl)) != VOUCH_OK) {
    cli_errorf("%s", vouch_strerror(rc));
  } else if (json) {
    uint8_t root[32];
    vouch_audit_db_root(db, root);
    printf("{\"hash\":\"%s\",\"version\":%llu,\"tree_size\":%llu,\"index\":%llu,", ops[0],
           (unsigned long long)inc.db_version, (unsigned long long)inc.tree_size, (unsigned long long)inc.index);
    audit_json_hex(stdout, "leaf", inc.leaf, inc.leaf_len, 1);
    audit_json_hex(stdout, "root", root, 32, 1);
    printf("\"path\":[");
    for (size_t i = 0; i < inc.proof_n; i++) {
      printf("%s\"", i ? "," : "");
      cli_hex_out(stdout, inc.proof + i * 32, 32);
      printf("\"");
    }
    printf("]}\n");
    ret = CLI_EXIT_OK;
  } else if (out) {
    ret = audit_write_atomic(out, text, tl, 0644) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
  } else {
    fputs(text, stdout);
    ret = CLI_EXIT_OK;
  }
  vouch_free(text);
  vouch_audit_db_free(db);
  return ret;
}

int audit_verify_proof(int argc, char **argv) {
  const char *sthp = NULL;
  int json = 0, help = 0;
  audit_opt o[] = {{"--sth", 1, &sthp, NULL}, {"--json", 0, NULL, &json}, {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 3,
                          "usage: vouch audit verify-proof --sth HEAD.vsth [--json] PROOF.txt\n\n"
                          "Checks an inclusion proof against a signed tree head: the head's signature, that\n"
                          "the proof is for the head's version and size, that the leaf is an addition, and\n"
                          "that the audit path leads to the head's root.  Exit 1 if anything fails.\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops != 1 || !sthp)
    return audit_usage("vouch audit verify-proof --sth HEAD.vsth PROOF.txt");
  vouch_audit_sth sth;
  int rc = VOUCH_OK;
  if (audit_load_sth(sthp, &sth, &rc) != 0)
    return audit_exit_for(rc);
  uint8_t *buf;
  size_t len;
  if (audit_read_all(ops[0], &buf, &len) != 0)
    return CLI_EXIT_ERROR;
  vouch_audit_inclusion inc;
  const uint8_t *hash = NULL;
  rc = vouch_audit_inclusion_parse((const char *)buf, len, &inc);
  free(buf);
  if (rc == VOUCH_OK)
    rc = vouch_audit_inclusion_verify(&inc, &sth, &hash);
  size_t hb = vouch_algo_bytes(sth.algo);
  if (json) {
    printf("{\"ok\":%s", rc == VOUCH_OK ? "true" : "false");
    if (rc == VOUCH_OK) {
      printf(",");
      audit_json_hex(stdout, "hash", hash, hb, 1);
      printf("\"version\":%llu,\"index\":%llu", (unsigned long long)inc.db_version, (unsigned long long)inc.index);
    } else {
      printf(",\"error\":\"%s\"", vouch_strerror(rc));
    }
    printf("}\n");
  } else if (rc == VOUCH_OK) {
    printf("ok: ");
    cli_hex_out(stdout, hash, hb);
    printf(" was added at leaf %llu of version %llu (root ", (unsigned long long)inc.index,
           (unsigned long long)inc.db_version);
    cli_hex_out(stdout, sth.root, 32);
    printf(")\n");
  } else {
    printf("FAILED: %s\n", vouch_strerror(rc));
  }
  return rc == VOUCH_OK ? CLI_EXIT_OK : CLI_EXIT_VERIFY;
}

/* --------------------------------------------------------- consistency */

int audit_consistency(int argc, char **argv) {
  const char *oldp = NULL, *newp = NULL;
  int json = 0, help = 0;
  audit_opt o[] = {{"--old", 1, &oldp, NULL}, {"--new", 1, &newp, NULL}, {"--json", 0, NULL, &json},
             {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  int parsed = audit_args(argc, argv, o, 4,
                          "usage: vouch audit consistency --old OLD.vdb --new NEW.vdb [--json]\n\n"
                          "Proves and checks that NEW only appends to OLD (RFC 9162 consistency proof), and\n"
                          "lists what the appended leaves do: which hashes were removed and which added.\n"
                          "Exit 1 if NEW rewrites anything OLD contained.\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops || !oldp || !newp)
    return audit_usage("vouch audit consistency --old OLD.vdb --new NEW.vdb [--json]");
  vouch_audit_db *a = NULL, *b = NULL;
  int rc = VOUCH_OK;
  if (audit_load_db(oldp, &a, &rc) != 0)
    return audit_exit_for(rc);
  if (audit_load_db(newp, &b, &rc) != 0) {
    vouch_audit_db_free(a);
    return audit_exit_for(rc);
  }
  uint8_t ra[32], rb[32], proof[VOUCH_MERKLE_PROOF_MAX * 32];
  size_t pn = 0;
  uint64_t na = vouch_audit_db_size(a), nb = vouch_audit_db_size(b);
  vouch_audit_db_root(a, ra);
  vouch_audit_db_root(b, rb);
  rc = VOUCH_E_AUDIT_PROOF;
  if (na == 0)
    rc = VOUCH_OK;
  else if (na <= nb && vouch_audit_db_consistency(b, na, proof, &pn) == VOUCH_OK)
    rc = vouch_merkle_verify_consistency(na, nb, ra, rb, proof, pn);
  size_t hb = vouch_algo_bytes(vouch_audit_db_algo(b));
  if (json) {
    printf("{\"ok\":%s,\"old_size\":%llu,\"new_size\":%llu,", rc == VOUCH_OK ? "true" : "false",
           (unsigned long long)na, (unsigned long long)nb);
    audit_json_hex(stdout, "old_root", ra, 32, 1);
    audit_json_hex(stdout, "new_root", rb, 32, 1);
    printf("\"proof\":[");
    for (size_t i = 0; i < pn; i++) {
      printf("%s\"", i ? "," : "");
      cli_hex_out(stdout, proof + i * 32, 32);
      printf("\"");
    }
    printf("],\"removed\":[");
  } else {
    printf("%s: %llu leaves -> %llu leaves\n", rc == VOUCH_OK ? "ok: append-only" : "FAILED: not an extension",
           (unsigned long long)na, (unsigned long long)nb);
    for (size_t i = 0; i < pn; i++) {
      printf("proof ");
      cli_hex_out(stdout, proof + i * 32, 32);
      printf("\n");
    }
  }
  if (rc == VOUCH_OK) {
    for (int pass = 0; pass < 2; pass++) {
      int first = 1;
      if (json && pass == 1)
        printf("],\"added\":[");
      for (uint64_t i = na; i < nb; i++) {
        vouch_audit_leaf lf;
        (void)vouch_audit_db_leaf(b, i, &lf);
        if (lf.op != (pass == 0 ? VOUCH_AUDIT_OP_REMOVE : VOUCH_AUDIT_OP_ADD))
          continue;
        if (json) {
          printf("%s\"", first ? "" : ",");
          cli_hex_out(stdout, lf.hash, hb);
          printf("\"");
        } else {
          printf("%s ", pass == 0 ? "removed" : "added  ");
          cli_hex_out(stdout, lf.hash, hb);
          printf("\n");
        }
        first = 0;
      }
    }
  } else if (json) {
    printf("],\"added\":[");
  }
  if (json)
    printf("]}\n");
  vouch_audit_db_free(a);
  vouch_audit_db_free(b);
  return rc == VOUCH_OK ? CLI_EXIT_OK : CLI_EXIT_VERIFY;
}

/* ----------------------------------------------------------- sign-root */

int audit_sign_root(int argc, char **argv) {
  const char *key = NULL, *dbp = NULL, *ts = NULL, *idx = NULL, *psi = NULL, *out = NULL, *psif = NULL;
  int help = 0;
  audit_opt o[] = {{"--key", 1, &key, NULL},        {"--db", 1, &dbp, NULL},          {"--time", 1, &ts, NULL},
             {"--index-root", 1, &idx, NULL}, {"--psi-digest", 1, &psi, NULL}, {"-o", 1, &out, NULL},
             {"--psi", 1, &psif, NULL},       {"--help", 0, NULL, &help}};
  char **ops;
  int nops;
  unsigned long t = (unsigned long)time(NULL);
  uint8_t ir[32], pd[32];
  int parsed = audit_args(argc, argv, o, 8,
                          "usage: vouch audit sign-root --key SERVERKEY --db TABLE.vdb [--time UNIX]\n"
                          "                             [--index-root HEX] [--psi PUBLIC.vpd | --psi-digest HEX] -o HEAD.vsth\n\n"
                          "Signs the tree head of TABLE with the operator's key: version, size, root, rule,\n"
                          "the digest of the sources' signed lists, and optionally the root of the index\n"
                          "and the digest (SHA-256 of the whole file) of the PSI public data built from it.\n"
                          "--psi checks first that the public data is valid and names TABLE's root\n"
                          "('vouch psi setup --audit-db TABLE.vdb').  --time defaults to now.\n",
                          &ops, &nops);
  if (parsed > 0)
    return CLI_EXIT_OK;
  if (parsed < 0 || nops || !key || !dbp || !out ||
      (ts && cli_parse_uint(ts, 0, ~0UL, &t) != 0) || (idx && audit_parse_hex32(idx, ir) != 0) ||
      (psi && audit_parse_hex32(psi, pd) != 0) || (psi && psif))
    return audit_usage("vouch audit sign-root --key SERVERKEY --db TABLE.vdb [--time UNIX] -o HEAD.vsth");
  vouch_audit_secret_key k;
  vouch_audit_db *db;
  int rc = VOUCH_OK;
  if (audit_load_db(dbp, &db, &rc) != 0)
    return audit_exit_for(rc);
  if (psif) {
    uint8_t *buf, droot[32], proot[32];
    size_t len;
    vouch_psi_public *pub = NULL;
    if (audit_read_all(psif, &buf, &len) != 0) {
      vouch_audit_db_free(db);
      return CLI_EXIT_ERROR;
    }
    rc = vouch_psi_public_open(&pub, buf, len, NULL);
    if (rc == VOUCH_OK) {
      vouch_psi_public_info(pub, NULL, proot, NULL);
      vouch_audit_db_root(db, droot);
      if (memcmp(proot, droot, 32) != 0) {
        cli_errorf("%s names audit root %02x%02x..., not the root of %s", psif, proot[0], proot[1], dbp);
        rc = VOUCH_E_AUDIT_PROOF;
      }
    } else {
      cli_errorf("%s: %s", psif, vouch_strerror(rc));
    }
    vouch_psi_public_free(pub);
    vouch_audit_digest(buf, len, pd);
    free(buf);
    if (rc != VOUCH_OK) {
      vouch_audit_db_free(db);
      return CLI_EXIT_ERROR;
    }
    psi = "file";
  }
  if (audit_load_seckey(key, &k) != 0) {
    vouch_audit_db_free(db);
    return CLI_EXIT_ERROR;
  }
  vouch_audit_sth sth;
  rc = vouch_audit_sth_make(db, &k, t, idx ? ir : NULL, psi ? pd : NULL, &sth);
  vouch_audit_secret_key_wipe(&k);
  vouch_audit_db_free(db);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s (a --server key is needed)", key, vouch_strerror(rc));
    return CLI_EXIT_ERROR;
  }
  uint8_t enc[VOUCH_AUDIT_STH_BYTES];
  vouch_audit_sth_encode(&sth, enc);
  if (audit_write_atomic(out, enc, sizeof enc, 0644) != 0)
    return CLI_EXIT_ERROR;
  printf("signed head of version %llu (%llu leaves) root ", (unsigned long long)sth.db_version,
         (unsigned long long)sth.tree_size);
  cli_hex_out(stdout, sth.root, 32);
  printf(" -> %s\n", out);
  return CLI_EXIT_OK;
}
