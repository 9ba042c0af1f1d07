/* programs/cli/cmd_psi.c -- `vouch psi setup | voucher | open`: private
 * matching with safety vouchers (docs/protocol.md).  Files in, files out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "cli.h"
#include "vouch/index.h"
#include "vouch/psi.h"
#include "vouch/review.h"

#define PSI_FILE_MAX ((size_t)8 << 30) /* public data for 64M keys is ~4.6 GB */
#define VOUCHER_EXT ".vvc"

/* ////////////////////////////////////////////////////////////// file helpers */

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static int load_server_key(const char *path, int create, vouch_psi_server_key **key) {
  uint8_t *buf;
  size_t len;
  if (!file_exists(path)) {
    if (!create) {
      cli_errorf("%s: no such key file", path);
      return -1;
    }
    uint8_t kf[VOUCH_PSI_SERVER_KEY_FILE_BYTES];
    if (vouch_psi_server_key_generate(key) != VOUCH_OK ||
        vouch_psi_server_key_save(*key, kf, sizeof kf) != VOUCH_OK) {
      cli_errorf("cannot create a server key");
      return -1;
    }
    int rc = cli_write_file_atomic(path, kf, sizeof kf, 0600);
    sodium_memzero(kf, sizeof kf);
    if (rc != 0) {
      cli_errorf("%s: cannot write: %s", path, strerror(errno));
      vouch_psi_server_key_free(*key);
      *key = NULL;
      return -1;
    }
    cli_warnf("created server key %s (mode 0600)", path);
    return 0;
  }
  if (cli_read_secret(path, 4096, &buf, &len) != 0)
    return -1;
  int rc = vouch_psi_server_key_load(key, buf, len);
  sodium_memzero(buf, len);
  free(buf);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", path, vouch_strerror(rc));
    return -1;
  }
  return 0;
}

/* ////////////////////////////////////////////////////////////////// setup */

static const char setup_usage[] =
  "usage: vouch psi setup (--index FILE.vidx | --hashes FILE | --audit-db TABLE.vdb) --key SERVER.key\n"
  "                       -o PUBLIC.vpd [--auditor-out FILE]\n"
  "\n"
  "Server side.  Builds the public data clients need to make safety vouchers:\n"
  "the database's match keys blinded with the server's secret and placed in a\n"
  "cuckoo table, the server's public point, the audit root, an Ed25519 signature\n"
  "(docs/protocol.md section 5).  The key file is created (mode 0600) if missing.\n"
  "\n"
  "options:\n"
  "  -i, --index FILE    the hashes of a .vidx index (its Merkle root becomes the audit root)\n"
  "      --audit-db FILE the live set of an audited table (docs/audit.md); its root becomes\n"
  "                      the audit root; then sign the head with 'vouch audit sign-root --psi'\n"
  "      --hashes FILE   one hex hash per line ('#' comments and blank lines skipped;\n"
  "                      the first field of a CSV/TSV line is used); '-' = stdin\n"
  "  -a, --algo ALGO     the algorithm of --hashes: pdq (default), phash, dhash, ahash\n"
  "  -k, --key FILE      server key (secret)\n"
  "  -o, --output FILE   public data to write\n"
  "  -j, --jobs N        threads for the blinding (default: all cores)\n"
  "  -m, --match MODE    probe (default for PDQ): the band key of the b lowest-frequency PDQ\n"
  "                      bits; clients put P probes of it in each voucher, so edited copies\n"
  "                      are found; exact (any algorithm): the exact hash bits only\n"
  "      --band B        probe mode: band width b, 16..64 (default 44)\n"
  "      --probes P      probe mode: probes per voucher, 1..1024 (default 96); vouchers are\n"
  "                      about 4.4 KB + 224 B * P, and the server does 2P scalar\n"
  "                      multiplications per voucher (docs/protocol.md section 12)\n"
  "      --auditor-out FILE  where to write the auditors' file (default: OUTPUT.auditor,\n"
  "                      mode 0600): the dummy seed and the slot map an auditor needs to\n"
  "                      check the proof of honest blinding in the public data ('vouch\n"
  "                      audit verify --blinding'); give it to auditors, never to clients\n"
  "  -h, --help          this help\n"
  "\n"
  "Prints the signer's public key (clients pin it with --signer), the audit root and\n"
  "the auditors' file written.\n"
  "Exit status: 0 on success, 2 on error.\n";

/* Calls fn for each line of a hex hash list (FILE or '-'): the line's first
 * token (up to a blank, ',' or ';') as a hash of `algo`, or NULL when it is
 * not one; blank lines and '#' comments are skipped.  fn returns non-zero to
 * stop.  Returns -1 (after a message) if the file cannot be opened, else 0. */
typedef int (*hash_line_fn)(void *ctx, size_t lineno, const uint8_t *hash);
static int each_hash_line(const char *path, int algo, hash_line_fn fn, void *ctx) {
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  const size_t hb = vouch_algo_bytes(algo);
  char *line = NULL;
  size_t lcap = 0, lineno = 0;
  if (!f) {
    cli_errorf("%s: %s", path, strerror(errno));
    return -1;
  }
  while (getline(&line, &lcap, f) >= 0) {
    lineno++;
    char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
      continue;
    size_t tl = strcspn(p, " \t,;\r\n");
    uint8_t h[VOUCH_HASH_MAX_BYTES];
    if (fn(ctx, lineno, vouch_hash_from_hex(p, tl, h, hb) == VOUCH_OK ? h : NULL) != 0)
      break;
  }
  free(line);
  if (f != stdin)
    fclose(f);
  return 0;
}

typedef struct hash_list {
  const char *path;
  int algo;
  uint8_t *hashes;
  size_t n, cap;
  int bad;
} hash_list;

static int collect_hash(void *ctx, size_t lineno, const uint8_t *h) {
  hash_list *l = ctx;
  const size_t hb = vouch_algo_bytes(l->algo);
  if (!h) {
    cli_errorf("%s:%zu: not a %s hash", l->path, lineno, vouch_algo_name(l->algo));
    return l->bad = 1;
  }
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 1024;
    uint8_t *nk = realloc(l->hashes, l->cap * hb);
    if (!nk) {
      cli_errorf("out of memory");
      return l->bad = 1;
    }
    l->hashes = nk;
  }
  if (l->n >= VOUCH_PSI_SET_MAX) {
    cli_errorf("%s: more than %u hashes", l->path, VOUCH_PSI_SET_MAX);
    return l->bad = 1;
  }
  memcpy(l->hashes + hb * l->n++, h, hb);
  return 0;
}

/* Reads one hex hash per line into *hashes (vouch_algo_bytes(algo) bytes each). */
static int read_hash_list(const char *path, int algo, uint8_t **hashes, size_t *n) {
  hash_list l = {.path = path, .algo = algo};
  *hashes = NULL;
  *n = 0;
  if (each_hash_line(path, algo, collect_hash, &l) != 0)
    return -1;
  if (l.bad) {
    free(l.hashes);
    return -1;
  }
  *hashes = l.hashes;
  *n = l.n;
  return 0;
}

/* Reads the hashes of a .vidx index; root (may be NULL) gets its Merkle root. */
static int read_index(const char *path, int *algo, uint8_t **hashes, size_t *n, uint8_t root[32]) {
  vouch_index *idx = NULL;
  int rc = vouch_index_open(&idx, path, NULL);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s: %s", path, vouch_strerror(rc), idx ? vouch_index_errmsg(idx) : "");
    vouch_index_free(idx);
    return -1;
  }
  *algo = vouch_index_algo(idx);
  size_t cnt = vouch_index_count(idx), hb = vouch_index_hash_bytes(idx);
  if (cnt > VOUCH_PSI_SET_MAX) {
    cli_errorf("%s: %zu entries, more than %u", path, cnt, VOUCH_PSI_SET_MAX);
    vouch_index_free(idx);
    return -1;
  }
  *hashes = malloc((cnt ? cnt : 1) * hb);
  if (!*hashes) {
    cli_errorf("out of memory");
    vouch_index_free(idx);
    return -1;
  }
  for (size_t i = 0; i < cnt; i++) {
    vouch_index_entry e;
    if (vouch_index_get(idx, i, &e) != VOUCH_OK) {
      cli_errorf("%s: entry %zu unreadable", path, i);
      free(*hashes);
      vouch_index_free(idx);
      return -1;
    }
    memcpy(*hashes + hb * i, e.hash, hb);
  }
  if (root)
    memcpy(root, vouch_index_root(idx), 32);
  *n = cnt;
  vouch_index_free(idx);
  return 0;
}

/* A numeric option in lo..hi; `given` (may be NULL) is set.  @return 0 or -1 (said why). */
static int opt_uint(const char *arg, unsigned long lo, unsigned long hi, const char *name,
                    unsigned long *v, int *given) {
  if (cli_parse_uint(arg, lo, hi, v) != 0) {
    cli_errorf("%s must be %lu..%lu", name, lo, hi);
    return -1;
  }
  if (given)
    *given = 1;
  return 0;
}

/* --algo NAME.  @return 0 or -1 (said why). */
static int opt_algo(const char *arg, int *algo) {
  *algo = vouch_algo_from_name(arg);
  if (*algo == VOUCH_ALGO_NONE) {
    cli_errorf("unknown algorithm '%s'", arg);
    return -1;
  }
  return 0;
}

/* --match: "exact" or "probe" (the default for PDQ). */
static int parse_match(const char *s, int *scheme) {
  if (!strcmp(s, "exact"))
    *scheme = VOUCH_PSI_SCHEME_EXACT;
  else if (!strcmp(s, "probe"))
    *scheme = VOUCH_PSI_SCHEME_BAND;
  else {
    cli_errorf("--match must be 'exact' or 'probe'");
    return -1;
  }
  return 0;
}

uint8_t *cli_psi_entry_keys(int scheme, unsigned band, int algo, const uint8_t *hashes, size_t n) {
  /* One key per entry (docs/protocol.md section 4). */
  size_t hb = vouch_algo_bytes(algo);
  uint8_t *keys = malloc((n ? n : 1) * VOUCH_PSI_MATCH_KEY_BYTES);
  if (!keys)
    cli_errorf("out of memory");
  for (size_t i = 0; keys && i < n; i++)
    if (vouch_psi_entry_key(scheme, band, algo, hashes + hb * i, hb, keys + VOUCH_PSI_MATCH_KEY_BYTES * i) !=
        VOUCH_OK) {
      cli_errorf("entry %zu: cannot derive its key", i);
      free(keys);
      keys = NULL;
    }
  return keys;
}

static int psi_setup(int argc, char **argv) {
  static const struct option opts[] = {
    {"index", required_argument, NULL, 'i'}, {"hashes", required_argument, NULL, 'H'},
    {"algo", required_argument, NULL, 'a'},  {"key", required_argument, NULL, 'k'},
    {"output", required_argument, NULL, 'o'}, {"jobs", required_argument, NULL, 'j'},
    {"audit-db", required_argument, NULL, 'U'}, {"match", required_argument, NULL, 'm'},
    {"band", required_argument, NULL, 'B'},   {"probes", required_argument, NULL, 'P'},
    {"auditor-out", required_argument, NULL, 'O'},
    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
  const char *index = NULL, *hashes = NULL, *keyf = NULL, *outf = NULL, *auditdb = NULL, *audf = NULL;
  int algo = VOUCH_ALGO_PDQ, c, scheme = -1;
  unsigned long jobs = 0, band = VOUCH_PSI_BAND_DEFAULT, probes = VOUCH_PSI_PROBES_DEFAULT;
  int band_given = 0, probes_given = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "i:a:k:o:j:m:h", opts, NULL)) != -1) {
    switch (c) {
    case 'm':
      if (parse_match(optarg, &scheme) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'B':
      if (opt_uint(optarg, VOUCH_PSI_BAND_MIN, VOUCH_PSI_BAND_MAX, "--band", &band, &band_given) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'P':
      if (opt_uint(optarg, 1, VOUCH_PSI_PROBES_MAX, "--probes", &probes, &probes_given) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'i': index = optarg; break;
    case 'H': hashes = optarg; break;
    case 'U': auditdb = optarg; break;
    case 'a':
      if (opt_algo(optarg, &algo) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'k': keyf = optarg; break;
    case 'o': outf = optarg; break;
    case 'O': audf = optarg; break;
    case 'j':
      if (cli_uint_arg(optarg, 1, 256, &jobs, "bad --jobs '%s'", optarg) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'h': fputs(setup_usage, stdout); return CLI_EXIT_OK;
    default: fputs(setup_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (!!index + !!hashes + !!auditdb != 1 || !keyf || !outf || optind != argc) {
    fputs(setup_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  uint8_t *hs = NULL, *keys = NULL, root[32], *pd = NULL;
  size_t n = 0, pd_len = 0;
  int have_root = 0;
  if (index) {
    if (read_index(index, &algo, &hs, &n, root) != 0)
      return CLI_EXIT_ERROR;
    have_root = 1;
  } else if (auditdb) {
    if (cli_audit_live_hashes(auditdb, &algo, &hs, &n, root) != 0)
      return CLI_EXIT_ERROR;
    have_root = 1;
  } else if (read_hash_list(hashes, algo, &hs, &n) != 0) {
    return CLI_EXIT_ERROR;
  }
  if (scheme < 0)
    scheme = algo == VOUCH_ALGO_PDQ ? VOUCH_PSI_SCHEME_BAND : VOUCH_PSI_SCHEME_EXACT;
  if (scheme == VOUCH_PSI_SCHEME_BAND && algo != VOUCH_ALGO_PDQ) {
    cli_errorf("--match probe needs PDQ hashes (these are %s); use --match exact", vouch_algo_name(algo));
    free(hs);
    return CLI_EXIT_ERROR;
  }
  if (scheme == VOUCH_PSI_SCHEME_EXACT && (band_given || probes_given)) {
    cli_errorf("--band and --probes belong to --match probe");
    free(hs);
    return CLI_EXIT_ERROR;
  }
  keys = cli_psi_entry_keys(scheme, scheme ? (unsigned)band : 0, algo, hs, n);
  free(hs);
  if (!keys)
    return CLI_EXIT_ERROR;
  vouch_psi_server_key *key = NULL;
  if (load_server_key(keyf, 1, &key) != 0) {
    free(keys);
    return CLI_EXIT_ERROR;
  }
  vouch_psi_setup_opts so = {algo, jobs ? (unsigned)jobs : (unsigned)cli_ncpu(),
                             have_root ? root : NULL, scheme,
                             scheme ? (unsigned)band : 0U, scheme ? (unsigned)probes : 1U,
                             NULL, NULL, 0, NULL, 0, NULL};
  /* The auditors' file: the dummy seed and the slot map (section 13). */
  size_t audit_cap = VOUCH_PSI_AUDIT_BYTES(vouch_psi_slots_for(n)), audit_len = 0;
  uint8_t *audit = malloc(audit_cap);
  char *audpath = audf ? strdup(audf) : malloc(strlen(outf) + sizeof ".auditor");
  if (!audit || !audpath) {
    cli_errorf("out of memory");
    free(audit);
    free(audpath);
    free(keys);
    vouch_psi_server_key_free(key);
    return CLI_EXIT_ERROR;
  }
  if (!audf)
    sprintf(audpath, "%s.auditor", outf);
  so.audit_out = audit;
  so.audit_cap = audit_cap;
  so.audit_len = &audit_len;
  double t0 = cli_now();
  uint8_t used_root[32];
  int rc = vouch_psi_setup(key, keys, n, &so, &pd, &pd_len, used_root);
  double dt = cli_now() - t0;
  free(keys);
  if (rc != VOUCH_OK) {
    cli_errorf("setup failed: %s", vouch_strerror(rc));
    free(audit);
    free(audpath);
    vouch_psi_server_key_free(key);
    return CLI_EXIT_ERROR;
  }
  int wr = cli_write_file_atomic(audpath, audit, audit_len, 0600) != 0 ? 1
           : cli_write_file_atomic(outf, pd, pd_len, 0644) != 0      ? 2
                                                                      : 0;
  sodium_memzero(audit, audit_cap);
  free(audit);
  if (wr) {
    cli_errorf("%s: cannot write: %s", wr == 1 ? audpath : outf, strerror(errno));
    free(audpath);
    vouch_psi_buf_free(pd);
    vouch_psi_server_key_free(key);
    return CLI_EXIT_ERROR;
  }
  uint8_t signer[32];
  vouch_psi_server_key_signer(key, signer);
  printf("keys %zu\nslots %zu\nbytes %zu\nseconds %.3f\nmatch %s\n", n,
         (pd_len - VOUCH_PSI_PUBLIC_BYTES(0)) / 32, pd_len, dt, scheme ? "probe" : "exact");
  if (scheme)
    printf("band %lu\nprobes %lu\nvoucher_bytes %zu\n", band, probes,
           vouch_psi_voucher_bytes(VOUCH_PSI_DHF_DEFAULT(VOUCH_PSI_THRESHOLD_DEFAULT), (unsigned)probes));
  printf("signer ");
  cli_hex_out(stdout, signer, 32);
  printf("\naudit_root ");
  cli_hex_out(stdout, used_root, 32);
  printf("\nauditor_file %s\n", audpath);
  free(audpath);
  vouch_psi_buf_free(pd);
  vouch_psi_server_key_free(key);
  return CLI_EXIT_OK;
}

/* //////////////////////////////////////////////////////////////// voucher */

static const char voucher_usage[] =
  "usage: vouch psi voucher --public PUBLIC.vpd --account ACCOUNT.key -o DIR [OPTIONS] PATH...\n"
  "       vouch psi voucher --public PUBLIC.vpd --account ACCOUNT.key -o DIR --hashes FILE\n"
  "\n"
  "Client side.  Writes one safety voucher per photo into DIR, named by the\n"
  "voucher's random id (ID" VOUCHER_EXT "); every voucher of an account has the same size.\n"
  "Photos are hashed (PDQ at full resolution unless --fast) and a grey thumbnail\n"
  "of at most 64x64 goes into the encrypted payload.  The account key (Shamir\n"
  "polynomial, detectable-hash key) is created on first use (mode 0600) and\n"
  "updated afterwards (it counts vouchers and synthetic vouchers).  Prints\n"
  "'PATH -> FILE'.\n"
  "\n"
  "options:\n"
  "  -p, --public FILE        public data from 'vouch psi setup' (validated first)\n"
  "      --signer HEX         require the public data to be signed by this Ed25519 key (the\n"
  "                           'signer' that 'vouch psi setup' printed)\n"
  "      --trusted FILE       refuse the public data unless the signed head --sth names it and\n"
  "                           verifies against these pinned keys, rule and roots (docs/audit.md)\n"
  "      --any-signer         accept public data signed by any key (tests and demos only)\n"
  "                           One of --signer, --trusted or --any-signer is required.\n"
  "      --sth FILE           the signed tree head published with the public data\n"
  "      --log FILE           the audit log, to link the head to older pinned roots\n"
  "  -A, --account FILE       the account's secret key file\n"
  "  -o, --output DIR         where to write vouchers (created if missing)\n"
  "  -t, --threshold T        for a new account: matches the server may see without\n"
  "                           learning anything; T+1 reveal (default 30)\n"
  "      --dhf S              for a new account: synthetic openings detection tolerates\n"
  "                           (default 3T); vouchers grow by 8 bytes per unit\n"
  "  -s, --synthetic-rate P   probability of a synthetic voucher: 'auto' (default: the\n"
  "                           calibrated rate 2T^2/(n+2T)^2 for the account's n-th voucher,\n"
  "                           about T synthetics in all) or a number in [0, 1]; at most S\n"
  "                           per account; one photo always draws the same coin\n"
  "      --hashes FILE        make vouchers from hex hashes (one per line) instead of photos\n"
  "  -a, --algo ALGO          pdq (default), phash, dhash, ahash\n"
  "      --fast               scaled decode (faster, not bit-exact with the reference)\n"
  "      --no-views           probes from the photo's own hash only, not also from its\n"
  "                           tonal views (docs/protocol.md section 4.3; for comparisons)\n"
  "  -r, --recursive          walk directories\n"
  "  -j, --jobs N             hashing threads (default: all cores)\n"
  "  -h, --help               this help\n"
  "\n"
  "Exit status: 0 if every photo got a voucher, 2 otherwise.\n";

typedef struct voucher_ctx {
  vouch_psi_account *acct;
  vouch_psi_public *pd;
  const char *dir;
  double rate;
  uint8_t *buf;
  size_t vlen;
  long written, failed;
  const char *list_path; /* --hashes FILE */
  int list_algo;
} voucher_ctx;

/* Makes and writes the voucher of payload `pl` (payload_rc: how making it went). */
static int emit(voucher_ctx *c, const char *what, const vouch_psi_payload *pl, int payload_rc,
                const float *margin, const vouch_psi_views *views) {
  int rc = payload_rc;
  if (rc == VOUCH_OK)
    rc = vouch_psi_voucher_make_views(c->acct, c->pd, pl, margin, views, c->rate, c->buf, c->vlen, NULL);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", what, vouch_strerror(rc));
    c->failed++;
    return 0;
  }
  char name[2 * VOUCH_PSI_ID_BYTES + sizeof VOUCHER_EXT];
  uint8_t id[VOUCH_PSI_ID_BYTES];
  (void)vouch_psi_voucher_id(c->buf, c->vlen, id); /* cannot fail on a voucher just made */
  for (unsigned i = 0; i < VOUCH_PSI_ID_BYTES; i++)
    snprintf(name + 2 * i, 3, "%02x", id[i]);
  memcpy(name + 2 * VOUCH_PSI_ID_BYTES, VOUCHER_EXT, sizeof VOUCHER_EXT);
  size_t pl_ = strlen(c->dir) + 1 + sizeof name;
  char *path = malloc(pl_);
  if (!path) {
    c->failed++;
    return -1;
  }
  snprintf(path, pl_, "%s/%s", c->dir, name);
  if (cli_write_file_atomic(path, c->buf, c->vlen, 0644) != 0) {
    cli_errorf("%s: cannot write: %s", path, strerror(errno));
    c->failed++;
  } else {
    printf("%s -> %s\n", what, path);
    c->written++;
  }
  free(path);
  return 0;
}

/* A photo hashed on the pipeline, its payload (and thumbnail) made there
 * from the same read of the file (cli_hash_opts.payload). */
static int on_hashed(void *vctx, const cli_hash_result *r) {
  voucher_ctx *c = vctx;
  if (r->rc != VOUCH_OK) {
    cli_errorf("%s: %s: %s", r->path, vouch_strerror(r->rc), r->errmsg);
    c->failed++;
    return 0;
  }
  if (r->thumb_err)
    cli_warnf("%s: no thumbnail (%s)", r->path, r->thumb_err);
  return emit(c, r->path, r->payload, r->payload_rc, r->have_margins ? r->margins : NULL,
              r->have_views ? &r->views : NULL);
}

/* A hash read from a list: a payload without a thumbnail. */
static int emit_hash(voucher_ctx *c, const char *what, int algo, const uint8_t *hash, size_t hlen) {
  vouch_psi_payload *pl = malloc(sizeof *pl);
  if (!pl) {
    cli_errorf("out of memory");
    c->failed++;
    return -1;
  }
  int rc = emit(c, what, pl, vouch_psi_payload_init(pl, algo, hash, hlen, NULL), NULL, NULL);
  sodium_memzero(pl, sizeof *pl);
  free(pl);
  return rc;
}

/* A line of --hashes FILE. */
static int voucher_of_line(void *vctx, size_t lineno, const uint8_t *h) {
  voucher_ctx *c = vctx;
  char what[64];
  snprintf(what, sizeof what, "%s:%zu", c->list_path, lineno);
  if (!h) {
    cli_errorf("%s: not a %s hash", what, vouch_algo_name(c->list_algo));
    c->failed++;
    return 0;
  }
  return emit_hash(c, what, c->list_algo, h, vouch_algo_bytes(c->list_algo));
}

static int load_or_create_account(const char *path, unsigned long t, unsigned long s,
                                  int t_given, int s_given, vouch_psi_account **acct) {
  if (!file_exists(path)) {
    if (!s_given)
      s = VOUCH_PSI_DHF_DEFAULT(t) > VOUCH_PSI_DHF_MAX ? VOUCH_PSI_DHF_MAX : VOUCH_PSI_DHF_DEFAULT(t);
    int rc = vouch_psi_account_create(acct, (unsigned)t, (unsigned)s);
    if (rc != VOUCH_OK) {
      cli_errorf("cannot create an account: %s", vouch_strerror(rc));
      return -1;
    }
    cli_warnf("created account %s (threshold %lu, detection width %lu, mode 0600)", path, t, s);
    return 0;
  }
  uint8_t *buf;
  size_t len;
  if (cli_read_secret(path, (size_t)64 << 20, &buf, &len) != 0)
    return -1;
  int rc = vouch_psi_account_load(acct, buf, len);
  sodium_memzero(buf, len);
  free(buf);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", path, vouch_strerror(rc));
    return -1;
  }
  unsigned at, as;
  vouch_psi_account_params(*acct, &at, &as, NULL);
  if ((t_given && at != t) || (s_given && as != s)) {
    cli_errorf("%s: the account has threshold %u and width %u; they cannot change", path, at, as);
    vouch_psi_account_free(*acct);
    *acct = NULL;
    return -1;
  }
  return 0;
}

static int save_account(const char *path, const vouch_psi_account *acct) {
  size_t len = vouch_psi_account_file_bytes(acct);
  uint8_t *buf = malloc(len);
  if (!buf || vouch_psi_account_save(acct, buf, len) != VOUCH_OK) {
    free(buf);
    cli_errorf("out of memory");
    return -1;
  }
  int rc = cli_write_file_atomic(path, buf, len, 0600);
  sodium_memzero(buf, len);
  free(buf);
  if (rc != 0)
    cli_errorf("%s: cannot write: %s", path, strerror(errno));
  return rc;
}

static int psi_voucher(int argc, char **argv) {
  static const struct option opts[] = {
    {"public", required_argument, NULL, 'p'},   {"signer", required_argument, NULL, 'S'},
    {"account", required_argument, NULL, 'A'},  {"output", required_argument, NULL, 'o'},
    {"threshold", required_argument, NULL, 't'}, {"dhf", required_argument, NULL, 'D'},
    {"synthetic-rate", required_argument, NULL, 's'}, {"hashes", required_argument, NULL, 'H'},
    {"algo", required_argument, NULL, 'a'},     {"fast", no_argument, NULL, 'F'},
    {"recursive", no_argument, NULL, 'r'},      {"jobs", required_argument, NULL, 'j'},
    {"trusted", required_argument, NULL, 'T'},  {"sth", required_argument, NULL, 'M'},
    {"log", required_argument, NULL, 'L'},      {"any-signer", no_argument, NULL, 'Y'},
    {"no-views", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
  int no_views = 0;
  const char *pubf = NULL, *signer_hex = NULL, *acctf = NULL, *dir = NULL, *hashes = NULL;
  int any_signer = 0;
  const char *trusted = NULL, *sthf = NULL, *logf = NULL;
  unsigned long t = VOUCH_PSI_THRESHOLD_DEFAULT, s = 0, jobs = 0;
  int t_given = 0, s_given = 0, algo = VOUCH_ALGO_PDQ, fast = 0, recursive = 0, c;
  double rate = VOUCH_PSI_SYNTHETIC_AUTO;
  optind = 1;
  while ((c = getopt_long(argc, argv, "p:A:o:t:s:a:rj:h", opts, NULL)) != -1) {
    switch (c) {
    case 'p': pubf = optarg; break;
    case 'S': signer_hex = optarg; break;
    case 'Y': any_signer = 1; break;
    case 'T': trusted = optarg; break;
    case 'M': sthf = optarg; break;
    case 'L': logf = optarg; break;
    case 'A': acctf = optarg; break;
    case 'o': dir = optarg; break;
    case 't':
      if (opt_uint(optarg, 1, VOUCH_PSI_THRESHOLD_MAX, "--threshold", &t, &t_given) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'D':
      if (opt_uint(optarg, 1, VOUCH_PSI_DHF_MAX, "--dhf", &s, &s_given) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 's': {
      char *end;
      errno = 0;
      if (strcmp(optarg, "auto") == 0) {
        rate = VOUCH_PSI_SYNTHETIC_AUTO;
        break;
      }
      rate = strtod(optarg, &end);
      if (errno || *end || !(rate >= 0.0 && rate <= 1.0)) {
        cli_errorf("--synthetic-rate must be 'auto' or a number in [0, 1]");
        return CLI_EXIT_ERROR;
      }
      break;
    }
    case 'H': hashes = optarg; break;
    case 'a':
      if (opt_algo(optarg, &algo) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'F': fast = 1; break;
    case 'V': no_views = 1; break;
    case 'r': recursive = 1; break;
    case 'j':
      if (cli_uint_arg(optarg, 1, 256, &jobs, "bad --jobs '%s'", optarg) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'h': fputs(voucher_usage, stdout); return CLI_EXIT_OK;
    default: fputs(voucher_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (!pubf || !acctf || !dir || (hashes ? optind != argc : optind >= argc)) {
    fputs(voucher_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  if (!signer_hex && !trusted && !any_signer) {
    cli_errorf("psi voucher: say whose public data to trust: --signer HEX (the key 'vouch psi setup' "
               "printed) or --trusted FILE (docs/audit.md); --any-signer accepts any key (tests and demos only)");
    return CLI_EXIT_ERROR;
  }
  if (any_signer && (signer_hex || trusted)) {
    cli_errorf("psi voucher: --any-signer contradicts --signer and --trusted");
    return CLI_EXIT_ERROR;
  }
  uint8_t signer[32];
  if (signer_hex && vouch_hash_from_hex(signer_hex, strlen(signer_hex), signer, 32) != VOUCH_OK) {
    cli_errorf("--signer must be 64 hex digits");
    return CLI_EXIT_ERROR;
  }
  uint8_t *pdbuf;
  size_t pdlen;
  if (cli_read_file(pubf, PSI_FILE_MAX, &pdbuf, &pdlen) != 0) {
    cli_errorf("%s: cannot read: %s", pubf, strerror(errno));
    return CLI_EXIT_ERROR;
  }
  voucher_ctx ctx = {0};
  int rc = vouch_psi_public_open(&ctx.pd, pdbuf, pdlen, signer_hex ? signer : NULL);
  if (rc != VOUCH_OK) {
    free(pdbuf);
    cli_errorf("%s: public data rejected: %s", pubf, vouch_strerror(rc));
    return CLI_EXIT_ERROR;
  }
  if (trusted || sthf) { /* the audit: root, signatures, log position (docs/audit.md) */
    uint8_t pd_root[32];
    vouch_psi_public_info(ctx.pd, NULL, pd_root, NULL);
    int ec = cli_audit_check_public(pdbuf, pdlen, pd_root, sthf, logf, trusted);
    if (ec != CLI_EXIT_OK) {
      free(pdbuf);
      vouch_psi_public_free(ctx.pd);
      return ec;
    }
  }
  free(pdbuf);
  if (load_or_create_account(acctf, t, s, t_given, s_given, &ctx.acct) != 0) {
    vouch_psi_public_free(ctx.pd);
    return CLI_EXIT_ERROR;
  }
  unsigned as, probes;
  int pd_algo, scheme, status = CLI_EXIT_ERROR;
  vouch_psi_account_params(ctx.acct, NULL, &as, NULL);
  vouch_psi_public_scheme(ctx.pd, &pd_algo, &scheme, NULL, &probes);
  ctx.vlen = vouch_psi_voucher_bytes(as, probes);
  (void)pd_algo;
  if (scheme == VOUCH_PSI_SCHEME_BAND && algo != VOUCH_ALGO_PDQ) {
    cli_errorf("%s: the public data matches PDQ probes; --algo must be pdq", pubf);
    goto out;
  }
  if (scheme == VOUCH_PSI_SCHEME_BAND && hashes)
    cli_warnf("--hashes: no DCT margins without the photos; the %u probes flip band bits in band "
              "order, which finds far fewer edited copies than probes made from the photos", probes);
  ctx.buf = malloc(ctx.vlen);
  ctx.dir = dir;
  ctx.rate = rate;
  if (!ctx.buf) {
    cli_errorf("out of memory");
    goto out;
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    cli_errorf("%s: %s", dir, strerror(errno));
    goto out;
  }
  /* Save the account before any voucher exists, so a crash cannot leave
   * vouchers made with a key that was never stored. */
  if (save_account(acctf, ctx.acct) != 0)
    goto out;
  if (hashes) {
    ctx.list_path = hashes;
    ctx.list_algo = algo;
    if (each_hash_line(hashes, algo, voucher_of_line, &ctx) != 0)
      goto out;
  } else {
    cli_paths paths = {0};
    int bad = cli_paths_collect(&paths, argv + optind, argc - optind, recursive);
    ctx.failed += bad;
    cli_hash_opts ho = {.algo = algo, .exact = !fast, .orient = 1, .jobs = (int)jobs, .progress_label = "vouchers",
                        .payload = 1, .views = scheme == VOUCH_PSI_SCHEME_BAND && !no_views};
    long nf = cli_hash_run(&paths, &ho, on_hashed, &ctx);
    cli_paths_free(&paths);
    if (nf < 0) {
      cli_errorf("cannot start hashing");
      goto out;
    }
  }
  if (save_account(acctf, ctx.acct) != 0)
    goto out;
  status = ctx.failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
out:
  free(ctx.buf);
  vouch_psi_account_free(ctx.acct);
  vouch_psi_public_free(ctx.pd);
  return status;
}

/* /////////////////////////////////////////////////////////////////// open */

static const char open_usage[] =
  "usage: vouch psi open --key SERVER.key --public PUBLIC.vpd [--index FILE.vidx | --hashes FILE]\n"
  "                      [--radius R] [--second FILE] [--db BANKDB [--bank NAME]] [--json]\n"
  "                      [--thumbs DIR] DIR\n"
  "\n"
  "Server side.  Processes the vouchers (*" VOUCHER_EXT ") of one account in DIR: counts the\n"
  "ones that open (matches and synthetic vouchers, each distinct photo key once),\n"
  "and when more than the account's threshold t real matches are present, recovers\n"
  "the account key and prints the matched payloads.  With t or fewer real matches it\n"
  "learns, and prints, only the counts.  With --index or --hashes (the database the\n"
  "public data was made from) each recovered payload's full hash is checked: within\n"
  "--radius of a database hash it is 'confirmed', otherwise it is a 'collision' (its key\n"
  "matched, its hash is not near): docs/protocol.md section 7.\n"
  "With --second, each recovered PDQ payload's visual derivative is also checked\n"
  "against the second hash of the database entry nearest its hash (within --radius):\n"
  "'pass', 'fail' (a suspected forgery: never to be shown to a reviewer as a match)\n"
  "or 'unknown' (no such entry, or no derivative): docs/attack.md.  With --db, the\n"
  "entries of the bank database's PDQ banks take part with the second hashes their\n"
  "sources supplied at import (the second_hash column); for one entry the bank's\n"
  "second hash wins over --second's, which fills in entries the bank has none for.\n"
  "\n"
  "output (--json): first {\"vouchers\":N,\"opened\":M,\"multi_opened\":K,\"threshold_crossed\":BOOL}\n"
  "(plus \"confirmed\" and \"collisions\" when checked), then, only when crossed, one\n"
  "{\"voucher\":FILE,\"hash\":HEX,\"match_key\":HEX,\"algo\":NAME,\"thumb\":\"WxH\",\"slots\":N\n"
  "[,\"check\":\"confirmed\"|\"collision\",\"distance\":D]\n"
  "[,\"second\":\"pass\"|\"fail\"|\"unknown\",\"second_score\":S]} per recovered payload, and\n"
  "with --second or --db a last {\"second_hash\":{\"pass\":N,\"fail\":N,\"unknown\":N}}.\n"
  "\n"
  "options:\n"
  "  -k, --key FILE      server key (secret)\n"
  "  -p, --public FILE   the public data the vouchers were made for\n"
  "      --json          JSON Lines output\n"
  "      --thumbs DIR    also write each recovered thumbnail as DIR/FILE.pgm\n"
  "  -i, --index FILE    check payloads against the hashes of this .vidx index\n"
  "      --hashes FILE   ... or of this hash list (one hex hash per line)\n"
  "  -a, --algo ALGO     the algorithm of --hashes (default pdq)\n"
  "  -R, --radius R      the check's radius (default 31, the plain matcher's)\n"
  "      --second FILE   entries' second hashes, one per line: PDQHEX [QUALITY] SECONDHEX\n"
  "                      (what 'vouch hash --derivative' prints, path and all)\n"
  "      --db BANKDB     the second hashes stored with the entries of this bank database\n"
  "                      (a file or postgresql:// URI; every enabled PDQ bank)\n"
  "      --bank NAME     ... of this bank only\n"
  "  -h, --help          this help\n"
  "\n"
  "Exit status: 0 threshold not crossed, 1 crossed (payloads printed), 2 on error.\n"
  "A voucher that is malformed, forged or for another account is reported on stderr\n"
  "and not counted.\n";

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int write_pgm(const char *dir, const char *name, const vouch_psi_payload *p) {
  size_t len = strlen(dir) + strlen(name) + 8;
  char *path = malloc(len);
  if (!path)
    return -1;
  snprintf(path, len, "%s/%s.pgm", dir, name);
  char head[32];
  int hl = snprintf(head, sizeof head, "P5\n%u %u\n255\n", p->thumb_w, p->thumb_h);
  size_t px = (size_t)p->thumb_w * p->thumb_h;
  uint8_t *buf = malloc((size_t)hl + px);
  int rc = -1;
  if (buf) {
    memcpy(buf, head, (size_t)hl);
    memcpy(buf + hl, p->thumb, px);
    rc = cli_write_file_atomic(path, buf, (size_t)hl + px, 0600);
    free(buf);
  }
  free(path);
  return rc;
}

/* Entries' second hashes for `psi open --second`: PDQ hash and second hash
 * per line, as `vouch hash --derivative` prints them (the parser and the
 * verdict are the library's: vouch/review.h). */
static const char *const second_name[] = {"unknown", "pass", "fail"};

/* The second hashes stored with a bank database's entries (psi open --db). */
static int read_bank_seconds(const char *dbpath, const char *bank, vouch_second_list **sl) {
  vouch_bank *b = NULL;
  int rc = vouch_bank_open(&b, dbpath, VOUCH_BANK_OPEN_READONLY);
  if (rc == VOUCH_OK) rc = vouch_second_list_add_bank(sl, b, bank);
  if (rc != VOUCH_OK) {
    char red[512];
    vouch_bank_path_redacted(dbpath, red, sizeof red);
    cli_errorf("%s: %s", red, b && vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
  }
  vouch_bank_free(b);
  return rc == VOUCH_OK ? 0 : -1;
}

static int read_second_list(const char *path, vouch_second_list **sl) {
  uint8_t *buf = NULL;
  size_t len = 0, bad = 0;
  if (cli_read_file_reported(path, (size_t)1 << 30, &buf, &len) != 0)
    return -1;
  int rc = vouch_second_list_parse((const char *)buf, len, sl, &bad);
  free(buf);
  if (rc == VOUCH_E_HASH_PARSE)
    cli_errorf("%s:%zu: expected PDQHEX [QUALITY] SECONDHEX (a version-%u second hash)", path, bad,
               VOUCH_DERIV_HASH_VERSION);
  else if (rc != VOUCH_OK)
    cli_errorf("%s:%zu: %s", path, bad, vouch_strerror(rc));
  return rc == VOUCH_OK ? 0 : -1;
}

static int psi_open(int argc, char **argv) {
  static const struct option opts[] = {
    {"key", required_argument, NULL, 'k'}, {"public", required_argument, NULL, 'p'},
    {"json", no_argument, NULL, 'J'},      {"thumbs", required_argument, NULL, 'T'},
    {"index", required_argument, NULL, 'i'}, {"hashes", required_argument, NULL, 'H'},
    {"algo", required_argument, NULL, 'a'}, {"radius", required_argument, NULL, 'R'},
    {"second", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'},
    {"db", required_argument, NULL, 'D'},  {"bank", required_argument, NULL, 'B'},
    {NULL, 0, NULL, 0}};
  const char *keyf = NULL, *pubf = NULL, *thumbs = NULL, *dbindex = NULL, *dbhashes = NULL, *secondf = NULL;
  const char *bankdb = NULL, *bankname = NULL;
  vouch_second_list *sl = NULL;
  int json = 0, c, dbalgo = VOUCH_ALGO_PDQ;
  unsigned long radius = 31;
  uint8_t *db = NULL;
  size_t ndb = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "k:p:i:a:R:h", opts, NULL)) != -1) {
    switch (c) {
    case 'i': dbindex = optarg; break;
    case 'H': dbhashes = optarg; break;
    case 'a':
      if (opt_algo(optarg, &dbalgo) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'R':
      if (opt_uint(optarg, 0, 256, "--radius", &radius, NULL) != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'k': keyf = optarg; break;
    case 'p': pubf = optarg; break;
    case 'J': json = 1; break;
    case 'T': thumbs = optarg; break;
    case 'S': secondf = optarg; break;
    case 'D': bankdb = optarg; break;
    case 'B': bankname = optarg; break;
    case 'h': fputs(open_usage, stdout); return CLI_EXIT_OK;
    default: fputs(open_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (!keyf || !pubf || optind != argc - 1 || (dbindex && dbhashes) || (bankname && !bankdb)) {
    fputs(open_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  if ((dbindex && read_index(dbindex, &dbalgo, &db, &ndb, NULL) != 0) ||
      (dbhashes && read_hash_list(dbhashes, dbalgo, &db, &ndb) != 0))
    return CLI_EXIT_ERROR;
  /* the file's list first: the bank's entries are added to it */
  if ((secondf && read_second_list(secondf, &sl) != 0) || (bankdb && read_bank_seconds(bankdb, bankname, &sl) != 0)) {
    free(db);
    vouch_second_list_free(sl);
    return CLI_EXIT_ERROR;
  }
  const int check = dbindex || dbhashes;
  const char *dir = argv[optind];
  vouch_psi_server_key *key = NULL;
  if (load_server_key(keyf, 0, &key) != 0) {
    free(db);
    vouch_second_list_free(sl);
    return CLI_EXIT_ERROR;
  }
  uint8_t *pd;
  size_t pdlen;
  if (cli_read_file(pubf, PSI_FILE_MAX, &pd, &pdlen) != 0) {
    cli_errorf("%s: cannot read: %s", pubf, strerror(errno));
    vouch_psi_server_key_free(key);
    free(db);
    vouch_second_list_free(sl);
    return CLI_EXIT_ERROR;
  }
  vouch_psi_server *srv = NULL;
  int rc = vouch_psi_server_create(&srv, key, pd, pdlen);
  free(pd);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", pubf, vouch_strerror(rc));
    vouch_psi_server_key_free(key);
    free(db);
    vouch_second_list_free(sl);
    return CLI_EXIT_ERROR;
  }
  /* The voucher files, sorted. */
  DIR *d = opendir(dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  int status = CLI_EXIT_ERROR;
  if (!d) {
    cli_errorf("%s: %s", dir, strerror(errno));
    goto out;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (e->d_name[0] == '.' || l <= strlen(VOUCHER_EXT) ||
        strcmp(e->d_name + l - strlen(VOUCHER_EXT), VOUCHER_EXT) != 0)
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn)
        break;
      names = nn;
    }
    names[n] = strdup(e->d_name);
    if (names[n])
      n++;
  }
  closedir(d);
  if (n > 1)
    qsort(names, n, sizeof *names, cmp_str);
  size_t *index_of = calloc(n ? n : 1, sizeof *index_of);
  int *counted = calloc(n ? n : 1, sizeof *counted);
  if (!index_of || !counted) {
    free(index_of);
    free(counted);
    cli_errorf("out of memory");
    goto out;
  }
  long bad = 0;
  for (size_t i = 0; i < n; i++) {
    size_t plen = strlen(dir) + strlen(names[i]) + 2;
    char *path = malloc(plen);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!path)
      break;
    snprintf(path, plen, "%s/%s", dir, names[i]);
    if (cli_read_file(path, (size_t)1 << 20, &buf, &len) != 0) {
      cli_errorf("%s: cannot read: %s", path, strerror(errno));
      bad++;
    } else {
      int st;
      rc = vouch_psi_server_add(srv, buf, len, &st, &index_of[i]);
      if (rc != VOUCH_OK) {
        cli_errorf("%s: rejected: %s", path, vouch_strerror(rc));
        bad++;
      } else {
        counted[i] = 1;
      }
    }
    free(buf);
    free(path);
  }
  vouch_psi_summary sum;
  size_t second_count[3] = {0, 0, 0};
  rc = vouch_psi_server_reveal(srv, &sum);
  if (rc != VOUCH_OK) {
    cli_errorf("%s", vouch_strerror(rc));
    free(index_of);
    free(counted);
    goto out;
  }
  if (check && sum.threshold_crossed &&
      vouch_psi_server_confirm(srv, db, vouch_algo_bytes(dbalgo), ndb, (unsigned)radius, &sum) != VOUCH_OK) {
    cli_errorf("the post-reveal check failed");
    free(index_of);
    free(counted);
    goto out;
  }
  if (json) {
    printf("{\"vouchers\":%zu,\"opened\":%zu,\"multi_opened\":%zu,\"threshold_crossed\":%s", sum.vouchers,
           sum.opened, sum.multi_opened, sum.threshold_crossed ? "true" : "false");
    if (check && sum.threshold_crossed)
      printf(",\"confirmed\":%zu,\"collisions\":%zu", sum.confirmed, sum.collisions);
    printf("}\n");
  } else {
    printf("vouchers %zu\nopened %zu\nmulti_opened %zu\nthreshold_crossed %s\n", sum.vouchers,
           sum.opened, sum.multi_opened, sum.threshold_crossed ? "yes" : "no");
  }
  if (sum.threshold_crossed) {
    if (!json) {
      printf("real %zu\nsynthetic %zu\n", sum.real, sum.synthetic);
      if (check)
        printf("confirmed %zu\ncollisions %zu\n", sum.confirmed, sum.collisions);
    }
    if (thumbs && mkdir(thumbs, 0700) != 0 && errno != EEXIST)
      cli_errorf("%s: %s", thumbs, strerror(errno));
    vouch_psi_payload *p = malloc(sizeof *p);
    for (size_t i = 0; p && i < n; i++) {
      if (!counted[i] || vouch_psi_server_payload(srv, index_of[i], p) != VOUCH_OK)
        continue;
      char hex[VOUCH_HASH_HEX_BYTES], mk[2 * VOUCH_PSI_MATCH_KEY_BYTES + 1];
      vouch_hash_to_hex(p->hash, p->hash_len, hex, sizeof hex);
      vouch_hash_to_hex(p->match_key, 32, mk, sizeof mk);
      vouch_psi_voucher_info info;
      if (vouch_psi_server_info(srv, index_of[i], &info) != VOUCH_OK)
        continue;
      int sscore = -1, sv = VOUCH_DERIV_UNKNOWN;
      if (sl) {
        sv = vouch_second_list_verdict(sl, p, (unsigned)radius, &sscore, NULL);
        second_count[sv]++;
      }
      const char *verdict = info.confirmed == 1 ? "confirmed" : "collision";
      if (json) {
        fputs("{\"voucher\":", stdout);
        cli_json_string(stdout, names[i]);
        printf(",\"hash\":\"%s\",\"match_key\":\"%s\",\"algo\":\"%s\",\"thumb\":\"%ux%u\",\"slots\":%u", hex,
               mk, vouch_algo_name(p->algo), p->thumb_w, p->thumb_h, info.slots_opened);
        if (check)
          printf(",\"check\":\"%s\",\"distance\":%u", verdict, info.distance);
        if (sl)
          printf(",\"second\":\"%s\",\"second_score\":%d", second_name[sv], sscore);
        printf("}\n");
      } else if (check) {
        printf("%s %s %s %s distance %u slots %u", info.confirmed == 1 ? "match" : "collision", names[i],
               vouch_algo_name(p->algo), hex, info.distance, info.slots_opened);
      } else {
        printf("match %s %s %s slots %u", names[i], vouch_algo_name(p->algo), hex, info.slots_opened);
      }
      if (!json) {
        if (sl)
          printf(" second %s%s", second_name[sv], sv == VOUCH_DERIV_FAIL ? " (suspected forgery)" : "");
        putchar('\n');
      }
      if (thumbs && p->thumb_w && write_pgm(thumbs, names[i], p) != 0)
        cli_errorf("%s: cannot write thumbnail", thumbs);
    }
    if (p)
      sodium_memzero(p, sizeof *p);
    free(p);
    if (sl && json)
      printf("{\"second_hash\":{\"pass\":%zu,\"fail\":%zu,\"unknown\":%zu}}\n", second_count[VOUCH_DERIV_PASS],
             second_count[VOUCH_DERIV_FAIL], second_count[VOUCH_DERIV_UNKNOWN]);
    else if (sl)
      printf("second_pass %zu\nsecond_fail %zu\nsecond_unknown %zu\n", second_count[VOUCH_DERIV_PASS],
             second_count[VOUCH_DERIV_FAIL], second_count[VOUCH_DERIV_UNKNOWN]);
  }
  free(index_of);
  free(counted);
  status = bad ? CLI_EXIT_ERROR : sum.threshold_crossed ? CLI_EXIT_MATCH : CLI_EXIT_OK;
out:
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  vouch_psi_server_free(srv);
  vouch_psi_server_key_free(key);
  free(db);
  vouch_second_list_free(sl);
  return status;
}

/* ///////////////////////////////////////////////////////////// dispatch */

static const char psi_usage[] =
  "usage: vouch psi setup|voucher|open [OPTIONS] ...\n"
  "\n"
  "Private matching with safety vouchers (threshold PSI; docs/protocol.md):\n"
  "  setup     server: blind the database into public data (.vpd)\n"
  "  voucher   client: one encrypted safety voucher per photo\n"
  "  open      server: count matches; above the threshold, read the matched payloads\n"
  "\n"
  "'vouch psi COMMAND --help' describes each.\n";

int cmd_psi(int argc, char **argv) {
  static const cli_subcmd cmds[] = {{"setup", psi_setup}, {"voucher", psi_voucher}, {"open", psi_open}};
  return cli_dispatch("psi", psi_usage, cmds, sizeof cmds / sizeof cmds[0], argc, argv);
}
