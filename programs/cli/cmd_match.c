/* programs/cli/cmd_match.c -- `vouch match`: photos or hashes against an index. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "vouch/bank.h"
#include "vouch/index.h"

static const char match_usage[] =
  "usage: vouch match --index FILE.vidx [OPTIONS] PATH...\n"
  "       vouch match --index FILE.vidx [OPTIONS] --hashes FILE|-\n"
  "       vouch match --vpdq --index FILE.vidx [OPTIONS] VIDEO...|--hashes VPDQ.txt...\n"
  "                       (videos: 'vouch match --vpdq --help')\n"
  "\n"
  "Finds every index entry within Hamming distance RADIUS of each photo (hashed\n"
  "with the index's algorithm) or of each hash read with --hashes.  The search\n"
  "is exact: no entry within the radius is ever missed.  An index of an md5,\n"
  "sha1 or sha256 bank (file digests: HMA's video_md5, NCMEC's MD5 and SHA-1)\n"
  "matches the digest of each file, of any type, exactly (distance 0).\n"
  "\n"
  "options:\n"
  "      --index FILE    the index (vouch index build)\n"
  "      --algo A        check that the index holds A hashes (pdq, phash, dhash,\n"
  "                      ahash, md5, sha1, sha256, or a signal type such as\n"
  "                      video_md5): an error if not\n"
  "      --radius N      match distance, inclusive (default 31 for PDQ, 10 for\n"
  "                      the 64-bit hashes)\n"
  "  -d, --dihedral      also match the 8 rotations/flips of each photo; with\n"
  "                      --hashes, use the 8 variants a line carries (vouch hash\n"
  "                      --dihedral output), if any\n"
  "      --hashes FILE   read query hashes instead of photos: one per line as hex\n"
  "                      (optionally 'HASH[,V2..V8] [QUALITY] [LABEL]', the\n"
  "                      text output of vouch hash), JSON Lines with \"hash\",\n"
  "                      optional \"dihedral\" and \"path\"/\"id\", or the lines\n"
  "                      of python-threatexchange's tx hash ('pdq HASH',\n"
  "                      'ROTATION pdq HASH': labelled by the rotation); lines\n"
  "                      of another signal type are skipped and counted;\n"
  "                      '-' is stdin\n"
  "      --min-quality Q skip PDQ queries whose quality is below Q (default 50,\n"
  "                      python-threatexchange's floor; 0: none): photos, and\n"
  "                      --hashes lines that carry a quality; skips are counted\n"
  "      --db FILE       the bank file the index was built from: each match also\n"
  "                      carries its entry's tags there (an exchange's category\n"
  "                      is the tag category:X): a JSON \"tags\" member, or an\n"
  "                      eighth text column; and a bank with its own radius\n"
  "                      (vouch bank radius) is matched with it unless --radius\n"
  "                      is given\n"
  "      --json          one JSON object per match: query, hash, bank, id,\n"
  "                      source, distance, variant, entry\n"
  "      --engine E      auto (default), scan or mih\n"
  "  -j, --jobs N        threads for hashing and searching (default: all cores)\n"
  "  -r, --recursive     walk directories\n"
  "  -e, --exact         full-resolution decode (bit-exact PDQ)\n"
  "  -h, --help          this help\n"
  "\n"
  "Text output: QUERY<TAB>DISTANCE<TAB>BANK<TAB>ID<TAB>HASH<TAB>VARIANT<TAB>SOURCE[<TAB>TAGS]\n"
  "Exit status: 1 if anything matched, 0 if nothing did, 2 on any error (like grep).\n";

typedef struct queries {
  uint8_t *h;      /* n * 8 * hb bytes: each query padded to 8 slots */
  unsigned *nvar;  /* 1 or 8 */
  char **label;
  size_t n, cap, hb;
  int min_quality; /* PDQ floor, -1: none */
  size_t low_quality; /* queries skipped below it */
} queries;

/* A query whose quality is known and below the floor is skipped and counted. */
static int below_floor(queries *q, int quality) {
  if (quality < 0 || q->min_quality < 0 || quality >= q->min_quality) return 0;
  q->low_quality++;
  return 1;
}

static int q_push(queries *q, const uint8_t *hashes, unsigned nvar, const char *label) {
  if (q->n == q->cap) {
    size_t nc = q->cap ? q->cap * 2 : 256;
    uint8_t *nh = realloc(q->h, nc * 8 * q->hb);
    if (!nh) return -1;
    q->h = nh;
    unsigned *nv = realloc(q->nvar, nc * sizeof *nv);
    if (!nv) return -1;
    q->nvar = nv;
    char **nl = realloc(q->label, nc * sizeof *nl);
    if (!nl) return -1;
    q->label = nl;
    q->cap = nc;
  }
  memcpy(q->h + q->n * 8 * q->hb, hashes, nvar * q->hb);
  q->nvar[q->n] = nvar;
  q->label[q->n] = strdup(label);
  if (!q->label[q->n]) return -1;
  q->n++;
  return 0;
}

static void q_free(queries *q) {
  for (size_t i = 0; i < q->n; i++) free(q->label[i]);
  free(q->h);
  free(q->nvar);
  free(q->label);
}

/* A python-threatexchange line (tx hash): SIGNAL_TYPE SIGNAL, or ROTATION
 * SIGNAL_TYPE SIGNAL, read by the library's list parser. */
typedef struct tx_line {
  queries *q;
  const char *s;
  size_t len;
  int rc; /* 0 pushed, 1 another signal type, -1 bad, -2 out of memory */
} tx_line;

static int tx_item(void *vctx, const vouch_list_item *it) {
  tx_line *t = vctx;
  char hex[VOUCH_HASH_HEX_BYTES], label[64];
  if (it->kind == VOUCH_ITEM_SKIP) {
    t->rc = 1;
    return 0;
  }
  vouch_hash_to_hex(it->hash, t->q->hb, hex, sizeof hex);
  const char *lab = hex;
  size_t w = strcspn(t->s, " \t");
  if (it->tags && w < sizeof label) { /* a rotation: label the query by it */
    memcpy(label, t->s, w);
    label[w] = 0;
    lab = label;
  } else if (w == 8 && !strncmp(t->s, "ORIGINAL", 8)) {
    lab = "ORIGINAL";
  }
  t->rc = q_push(t->q, it->hash, 1, lab) ? -2 : 0;
  return 0;
}

static int parse_tx_line(queries *q, const char *s, size_t len, int algo) {
  tx_line t = {q, s, len, -1};
  vouch_list_opts o = {algo, VOUCH_LIST_TX, NULL, NULL, -1, NULL};
  if (vouch_hashlist_parse(s, len, &o, tx_item, NULL, &t, NULL) != VOUCH_OK)
    return -1;
  return t.rc;
}

/* One line of --hashes input.  Returns 0, 1 for a line of another signal
 * type, -1 for a bad line, -2 when out of memory. */
static int parse_hash_line(queries *q, char *s, size_t len, int dihedral, int algo) {
  uint8_t h[8 * VOUCH_HASH_MAX_BYTES];
  char hex[VOUCH_HASH_HEX_BYTES];
  if (s[0] == '{') {
    json_error_t err;
    json_t *o = json_loadb(s, len, 0, &err);
    if (!o || !json_is_object(o)) { json_decref(o); return -1; }
    json_t *jh = json_object_get(o, "hash"), *jd = json_object_get(o, "dihedral");
    json_t *ja = json_object_get(o, "algo");
    int rc = -1;
    unsigned nvar = 1;
    if (ja && json_is_string(ja) && vouch_bank_algo_from_name(json_string_value(ja)) != algo) goto out;
    if (!jh || !json_is_string(jh) ||
        vouch_hash_from_hex(json_string_value(jh), json_string_length(jh), h, q->hb) != VOUCH_OK)
      goto out;
    if (dihedral && jd && json_is_array(jd) && json_array_size(jd) == 8) {
      for (size_t v = 0; v < 8; v++) {
        json_t *e = json_array_get(jd, v);
        if (!json_is_string(e) || vouch_hash_from_hex(json_string_value(e), json_string_length(e),
                                                      h + v * q->hb, q->hb) != VOUCH_OK)
          goto out;
      }
      nvar = 8;
    }
    json_t *jq = json_object_get(o, "quality");
    if (json_is_integer(jq) && below_floor(q, (int)json_integer_value(jq))) {
      rc = 0;
      goto out;
    }
    json_t *jl = json_object_get(o, "path");
    if (!jl || !json_is_string(jl)) jl = json_object_get(o, "id");
    vouch_hash_to_hex(h, q->hb, hex, sizeof hex);
    rc = q_push(q, h, nvar, jl && json_is_string(jl) ? json_string_value(jl) : hex) ? -2 : 0;
  out:
    json_decref(o);
    return rc;
  }
  /* text: HASH[,V2..V8] [QUALITY] [LABEL...] */
  size_t i = 0;
  while (i < len && !isspace((unsigned char)s[i])) i++;
  size_t tok = i, nvar = 0, p = 0;
  while (p < tok) {
    size_t e = p;
    while (e < tok && s[e] != ',') e++;
    if (nvar == 8 || vouch_hash_from_hex(s + p, e - p, h + nvar * q->hb, q->hb) != VOUCH_OK)
      return nvar == 0 ? parse_tx_line(q, s, len, algo) : -1;
    nvar++;
    p = e + 1;
  }
  if (nvar != 1 && nvar != 8) return -1;
  if (!dihedral) nvar = 1;
  while (i < len && isspace((unsigned char)s[i])) i++;
  const char *label = s + i;
  size_t j = i;
  while (j < len && !isspace((unsigned char)s[j])) j++;
  if (j < len) { /* QUALITY LABEL... */
    char *end;
    long qual = strtol(s + i, &end, 10);
    if (end == s + j && qual >= 0 && qual <= 100 && below_floor(q, (int)qual)) return 0;
    while (j < len && isspace((unsigned char)s[j])) j++;
    label = s + j;
  }
  s[len] = 0;
  if (!*label) {
    vouch_hash_to_hex(h, q->hb, hex, sizeof hex);
    label = hex;
  }
  return q_push(q, h, (unsigned)nvar, label) ? -2 : 0;
}

static int read_hashes(queries *q, const char *path, int dihedral, int algo) {
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  if (!f) {
    cli_errorf("%s: %s", path, strerror(errno));
    return 1;
  }
  char *line = NULL;
  size_t cap = 0, lineno = 0;
  ssize_t len;
  int bad = 0;
  size_t other = 0;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
    char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '#') continue;
    int rc = parse_hash_line(q, s, strlen(s), dihedral, algo);
    if (rc == -2) {
      cli_errorf("out of memory");
      bad++;
      break;
    }
    if (rc == 1) {
      other++;
    } else if (rc != 0) {
      cli_errorf("%s:%zu: not a %s hash line", path, lineno, vouch_algo_name(algo));
      bad++;
    }
  }
  if (other)
    cli_warnf("%s: %zu line%s of another signal type skipped (the index holds %s hashes)", path, other,
              other == 1 ? "" : "s", vouch_algo_name(algo));
  free(line);
  if (f != stdin) fclose(f);
  return bad;
}

typedef struct hash_collect {
  queries *q;
  int failed;
} hash_collect;

static int collect_photo(void *vctx, const cli_hash_result *r) {
  hash_collect *c = vctx;
  if (r->rc != VOUCH_OK) {
    cli_errorf("%s: %s: %s", r->path, vouch_strerror(r->rc), r->errmsg ? r->errmsg : "");
    c->failed++;
    return 0;
  }
  if (below_floor(c->q, r->quality)) return 0;
  uint8_t h[8 * VOUCH_HASH_MAX_BYTES];
  for (unsigned v = 0; v < r->nhash; v++) memcpy(h + v * c->q->hb, r->hashes[v], c->q->hb);
  if (q_push(c->q, h, r->nhash, r->path) != 0) {
    cli_errorf("out of memory");
    c->failed++;
    return 1;
  }
  return 0;
}

/* The queries of a digest index: each file's digest, labelled by its path. */
static int collect_digests(queries *q, int algo, const cli_paths *paths) {
  int failed = 0;
  uint8_t d[VOUCH_DIGEST_MAX_BYTES];
  for (size_t i = 0; i < paths->n; i++) {
    int rc = vouch_digest_file(algo, paths->v[i], d, sizeof d);
    if (rc != VOUCH_OK) {
      cli_errorf("%s: %s", paths->v[i], vouch_strerror(rc));
      failed++;
    } else if (q_push(q, d, 1, paths->v[i]) != 0) {
      cli_errorf("out of memory");
      return failed + 1;
    }
  }
  return failed;
}

static int bank_radius_of(void *ctx, const vouch_bank_info *in) {
  *(int *)ctx = in->radius;
  return 0;
}

static int copy_tags(void *ctx, const vouch_bank_entry *e) {
  snprintf(ctx, VOUCH_LIST_FIELD_MAX + 1, "%s", e->tags ? e->tags : "");
  return 0;
}

static void print_match(const vouch_index *idx, const char *label, const vouch_match *m, int json,
                        vouch_bank *db) {
  vouch_index_entry e;
  char hex[VOUCH_HASH_HEX_BYTES], id[VOUCH_INDEX_MAX_STRING + 1], src[VOUCH_INDEX_MAX_STRING + 1];
  vouch_index_get(idx, m->entry, &e);
  vouch_hash_to_hex(e.hash, vouch_index_hash_bytes(idx), hex, sizeof hex);
  memcpy(id, e.ext_id, e.ext_len);
  id[e.ext_len] = 0;
  memcpy(src, e.source, e.src_len);
  src[e.src_len] = 0;
  const char *bank = vouch_index_bank_name(idx, e.bank);
  if (json) {
    fputs("{\"query\":", stdout);
    cli_json_string(stdout, label);
    printf(",\"hash\":\"%s\",\"bank\":", hex);
    cli_json_string(stdout, bank);
    fputs(",\"id\":", stdout);
    cli_json_string(stdout, id);
    fputs(",\"source\":", stdout);
    cli_json_string(stdout, src);
    printf(",\"distance\":%u,\"variant\":\"%s\",\"entry\":%llu", m->distance,
           vouch_dihedral_name(m->variant), (unsigned long long)e.entry_id);
  } else {
    printf("%s\t%u\t%s\t%s\t%s\t%s\t%s", label, m->distance, bank, id, hex,
           vouch_dihedral_name(m->variant), src);
  }
  char tags[VOUCH_LIST_FIELD_MAX + 1] = "";
  if (db && vouch_bank_entry_get(db, (int64_t)e.entry_id, copy_tags, tags) != VOUCH_OK)
    tags[0] = 0; /* the entry is gone from the bank since the build */
  if (db && json) {
    fputs(",\"tags\":", stdout);
    cli_json_string(stdout, tags);
  } else if (db) {
    printf("\t%s", tags);
  }
  fputs(json ? "}\n" : "\n", stdout);
}

static int cmp_by_query(const void *pa, const void *pb) {
  const vouch_match *a = pa, *b = pb;
  if (a->query != b->query) return a->query < b->query ? -1 : 1;
  if (a->distance != b->distance) return a->distance < b->distance ? -1 : 1;
  return a->entry < b->entry ? -1 : a->entry > b->entry;
}

int cmd_match(int argc, char **argv) {
  for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
    if (!strcmp(argv[i], "--vpdq")) return cmd_match_video(argc, argv);
  static const struct option opts[] = {
      {"index", required_argument, 0, 'I'},  {"radius", required_argument, 0, 'R'},
      {"dihedral", no_argument, 0, 'd'},     {"hashes", required_argument, 0, 'H'},
      {"json", no_argument, 0, 'J'},         {"engine", required_argument, 0, 'E'},
      {"jobs", required_argument, 0, 'j'},   {"recursive", no_argument, 0, 'r'},
      {"exact", no_argument, 0, 'e'},        {"help", no_argument, 0, 'h'},
      {"min-quality", required_argument, 0, 'Q'}, {"db", required_argument, 0, 'D'},
      {"algo", required_argument, 0, 'A'},
      {0, 0, 0, 0}};
  const char *index_path = NULL, *hashes = NULL, *radius_s = NULL, *db_path = NULL, *algo_s = NULL;
  unsigned long min_quality = VOUCH_PDQ_MIN_QUALITY;
  int dihedral = 0, json = 0, recursive = 0, exact = 0, engine = VOUCH_ENGINE_AUTO;
  unsigned long jobs = 0;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "dj:reh", opts, NULL)) != -1) {
    switch (c) {
    case 'I': index_path = optarg; break;
    case 'R': radius_s = optarg; break;
    case 'd': dihedral = 1; break;
    case 'H': hashes = optarg; break;
    case 'J': json = 1; break;
    case 'E':
      if (!strcmp(optarg, "auto")) engine = VOUCH_ENGINE_AUTO;
      else if (!strcmp(optarg, "scan")) engine = VOUCH_ENGINE_SCAN;
      else if (!strcmp(optarg, "mih")) engine = VOUCH_ENGINE_MIH;
      else { cli_errorf("match: --engine is auto, scan or mih"); return CLI_EXIT_ERROR; }
      break;
    case 'j':
      if (cli_uint_arg(optarg, 1, 1024, &jobs, "match: -j needs a number from 1 to 1024") != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'r': recursive = 1; break;
    case 'e': exact = 1; break;
    case 'D': db_path = optarg; break;
    case 'A': algo_s = optarg; break;
    case 'Q':
      if (cli_uint_arg(optarg, 0, 100, &min_quality, "match: --min-quality is 0..100 (0: no floor)") != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'h': fputs(match_usage, stdout); return CLI_EXIT_OK;
    default: fputs(match_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (!index_path) {
    cli_errorf("match: --index FILE.vidx is required");
    return CLI_EXIT_ERROR;
  }
  if (hashes && optind != argc) {
    cli_errorf("match: give PATHs or --hashes, not both");
    return CLI_EXIT_ERROR;
  }
  if (!hashes && optind == argc) {
    cli_errorf("match: no PATH given (or use --hashes FILE)");
    fputs(match_usage, stderr);
    return CLI_EXIT_ERROR;
  }
  vouch_index_config cfg = vouch_index_config_default();
  cfg.build_mih = 0; /* decided below, once we know how many queries there are */
  vouch_index *idx = NULL;
  int rc = vouch_index_open(&idx, index_path, &cfg);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s: %s", index_path, vouch_strerror(rc), vouch_index_errmsg(idx));
    vouch_index_free(idx);
    return CLI_EXIT_ERROR;
  }
  int algo = vouch_index_algo(idx);
  const int digest = vouch_algo_is_digest(algo);
  unsigned bits = digest ? 0 : (unsigned)vouch_index_hash_bytes(idx) * 8;
  unsigned long radius = vouch_default_radius(algo);
  if (algo_s && vouch_signal_type_algo(algo_s, strlen(algo_s)) != algo) {
    cli_errorf("match: %s holds %s hashes, not %s", index_path, vouch_algo_name(algo), algo_s);
    vouch_index_free(idx);
    return CLI_EXIT_ERROR;
  }
  if (radius_s && cli_parse_uint(radius_s, 0, bits, &radius) != 0) {
    cli_errorf("match: --radius must be 0..%u for %s", bits, vouch_algo_name(algo));
    vouch_index_free(idx);
    return CLI_EXIT_ERROR;
  }
  if (digest && dihedral) {
    cli_errorf("match: --dihedral does not apply to %s digests", vouch_algo_name(algo));
    vouch_index_free(idx);
    return CLI_EXIT_ERROR;
  }
  /* with the bank file: each bank's own radius (vouch bank radius) */
  vouch_bank *db = NULL;
  unsigned *bank_radius = NULL, search_radius = (unsigned)radius;
  if (db_path) {
    uint32_t nb = vouch_index_bank_count(idx);
    bank_radius = malloc((nb ? nb : 1) * sizeof *bank_radius);
    if (!bank_radius || vouch_bank_open(&db, db_path, VOUCH_BANK_OPEN_READONLY) != VOUCH_OK) {
      char shown[512];
      vouch_bank_path_redacted(db_path, shown, sizeof shown);
      cli_errorf("%s: %s", shown, db ? vouch_bank_errmsg(db) : "out of memory");
      vouch_bank_free(db);
      free(bank_radius);
      vouch_index_free(idx);
      return CLI_EXIT_ERROR;
    }
    for (uint32_t i = 0; i < nb; i++) {
      int r = -1;
      if (vouch_bank_list(db, vouch_index_bank_name(idx, i), bank_radius_of, &r) != VOUCH_OK)
        cli_warnf("%s: no bank '%s' in %s: its entries use radius %lu", index_path, vouch_index_bank_name(idx, i),
                  db_path, radius);
      bank_radius[i] = r >= 0 && !radius_s ? (unsigned)r : (unsigned)radius;
      if (bank_radius[i] > search_radius) search_radius = bank_radius[i];
    }
  }
  int threads = jobs ? (int)jobs : cli_ncpu();
  queries q = {0};
  q.hb = vouch_index_hash_bytes(idx);
  q.min_quality = algo == VOUCH_ALGO_PDQ && min_quality > 0 ? (int)min_quality : -1;
  int errors = 0;
  if (hashes) {
    errors += read_hashes(&q, hashes, dihedral, algo);
  } else {
    cli_paths paths = {0};
    errors += cli_paths_collect(&paths, argv + optind, argc - optind, recursive);
    cli_hash_opts ho = {.algo = algo, .dihedral = dihedral, .exact = exact, .orient = 1, .jobs = threads};
    hash_collect hc = {&q, 0};
    if (digest) {
      errors += collect_digests(&q, algo, &paths);
    } else if (paths.n) {
      long failed = cli_hash_run(&paths, &ho, collect_photo, &hc);
      if (failed < 0) {
        cli_errorf("match: could not start hashing");
        errors++;
      }
    }
    errors += hc.failed;
    cli_paths_free(&paths);
  }
  if (q.low_quality)
    cli_warnf("%zu quer%s below PDQ quality %d skipped (--min-quality 0 keeps them)", q.low_quality,
              q.low_quality == 1 ? "y" : "ies", q.min_quality);
  /* MIH tables pay off from a few dozen queries on; fewer are faster scanned */
  if (engine == VOUCH_ENGINE_MIH || (engine == VOUCH_ENGINE_AUTO && q.n >= 64)) {
    rc = vouch_index_build_mih(idx, 0, (unsigned)threads);
    if (rc != VOUCH_OK && engine == VOUCH_ENGINE_MIH) {
      cli_errorf("%s: %s", index_path, vouch_index_errmsg(idx));
      errors++;
      q.n = 0;
    }
  }
  /* two batches: queries with one hash and with eight */
  vouch_match *all = NULL;
  size_t nall = 0;
  for (unsigned nv = 1; nv <= 8 && q.n; nv += 7) {
    size_t k = 0;
    uint32_t *map = malloc(q.n * sizeof *map);
    uint8_t *qb = malloc(q.n * nv * q.hb + 1);
    if (!map || !qb) {
      cli_errorf("out of memory");
      errors++;
      free(map);
      free(qb);
      break;
    }
    for (size_t i = 0; i < q.n; i++)
      if (q.nvar[i] == nv) {
        memcpy(qb + k * nv * q.hb, q.h + i * 8 * q.hb, nv * q.hb);
        map[k++] = (uint32_t)i;
      }
    if (k) {
      vouch_search_opts so = {search_radius, engine, (unsigned)threads};
      vouch_match *m = NULL;
      size_t nm = 0;
      rc = vouch_index_search(idx, qb, k, nv, &so, &m, &nm);
      if (rc != VOUCH_OK) {
        cli_errorf("match: %s", vouch_strerror(rc));
        errors++;
      } else if (nm) {
        vouch_match *na = realloc(all, (nall + nm) * sizeof *na);
        if (!na) {
          cli_errorf("out of memory");
          errors++;
        } else {
          all = na;
          for (size_t i = 0; i < nm; i++) {
            if (bank_radius) { /* searched at the largest radius: keep each bank's own */
              vouch_index_entry e;
              vouch_index_get(idx, m[i].entry, &e);
              if (m[i].distance > bank_radius[e.bank]) continue;
            }
            all[nall] = m[i];
            all[nall++].query = map[m[i].query];
          }
        }
      }
      vouch_matches_free(m);
    }
    free(map);
    free(qb);
  }
  if (nall > 1)
    qsort(all, nall, sizeof *all, cmp_by_query);
  for (size_t i = 0; i < nall; i++)
    print_match(idx, q.label[all[i].query], &all[i], json, db);
  vouch_bank_free(db);
  free(bank_radius);
  if (fflush(stdout) != 0) errors++;
  free(all);
  q_free(&q);
  vouch_index_free(idx);
  if (errors) return CLI_EXIT_ERROR;
  return nall ? CLI_EXIT_MATCH : CLI_EXIT_OK;
}
