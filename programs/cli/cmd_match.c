/* programs/cli/cmd_match.c -- `vouch match`: photos or hashes against an index. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "vouch/index.h"

static const char match_usage[] =
  "usage: vouch match --index FILE.vidx [OPTIONS] PATH...\n"
  "       vouch match --index FILE.vidx [OPTIONS] --hashes FILE|-\n"
  "       vouch match --vpdq --index FILE.vidx [OPTIONS] VIDEO...|--hashes VPDQ.txt...\n"
  "                       (videos: 'vouch match --vpdq --help')\n"
  "\n"
  "Finds every index entry within Hamming distance RADIUS of each photo (hashed\n"
  "with the index's algorithm) or of each hash read with --hashes.  The search\n"
  "is exact: no entry within the radius is ever missed.\n"
  "\n"
  "options:\n"
  "      --index FILE    the index (vouch index build)\n"
  "      --radius N      match distance, inclusive (default 31 for PDQ, 10 for\n"
  "                      the 64-bit hashes)\n"
  "  -d, --dihedral      also match the 8 rotations/flips of each photo; with\n"
  "                      --hashes, use the 8 variants a line carries (vouch hash\n"
  "                      --dihedral output), if any\n"
  "      --hashes FILE   read query hashes instead of photos: one per line as hex\n"
  "                      (optionally 'HASH[,V2..V8] [QUALITY] [LABEL]', the\n"
  "                      text output of vouch hash) or JSON Lines with \"hash\",\n"
  "                      optional \"dihedral\" and \"path\"/\"id\"; '-' is stdin\n"
  "      --json          one JSON object per match: query, hash, bank, id,\n"
  "                      source, distance, variant, entry\n"
  "      --engine E      auto (default), scan or mih\n"
  "  -j, --jobs N        threads for hashing and searching (default: all cores)\n"
  "  -r, --recursive     walk directories\n"
  "  -e, --exact         full-resolution decode (bit-exact PDQ)\n"
  "  -h, --help          this help\n"
  "\n"
  "Text output: QUERY<TAB>DISTANCE<TAB>BANK<TAB>ID<TAB>HASH<TAB>VARIANT<TAB>SOURCE\n"
  "Exit status: 1 if anything matched, 0 if nothing did, 2 on any error (like grep).\n";

typedef struct queries {
  uint8_t *h;      /* n * 8 * hb bytes: each query padded to 8 slots */
  unsigned *nvar;  /* 1 or 8 */
  char **label;
  size_t n, cap, hb;
} queries;

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

/* One line of --hashes input.  Returns 0, or -1 for a bad line. */
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
    if (ja && json_is_string(ja) && vouch_algo_from_name(json_string_value(ja)) != algo) goto out;
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
      return -1;
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
    if (rc != 0) {
      cli_errorf("%s:%zu: not a %s hash line", path, lineno, vouch_algo_name(algo));
      bad++;
    }
  }
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
  uint8_t h[8 * VOUCH_HASH_MAX_BYTES];
  for (unsigned v = 0; v < r->nhash; v++) memcpy(h + v * c->q->hb, r->hashes[v], c->q->hb);
  if (q_push(c->q, h, r->nhash, r->path) != 0) {
    cli_errorf("out of memory");
    c->failed++;
    return 1;
  }
  return 0;
}

static void print_match(const vouch_index *idx, const char *label, const vouch_match *m, int json) {
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
    printf(",\"distance\":%u,\"variant\":\"%s\",\"entry\":%llu}\n", m->distance,
           vouch_dihedral_name(m->variant), (unsigned long long)e.entry_id);
  } else {
    printf("%s\t%u\t%s\t%s\t%s\t%s\t%s\n", label, m->distance, bank, id, hex,
           vouch_dihedral_name(m->variant), src);
  }
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
      {0, 0, 0, 0}};
  const char *index_path = NULL, *hashes = NULL, *radius_s = NULL;
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
      if (cli_parse_uint(optarg, 1, 1024, &jobs) != 0) {
        cli_errorf("match: -j needs a number from 1 to 1024");
        return CLI_EXIT_ERROR;
      }
      break;
    case 'r': recursive = 1; break;
    case 'e': exact = 1; break;
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
  unsigned bits = (unsigned)vouch_index_hash_bytes(idx) * 8;
  unsigned long radius = vouch_default_radius(algo);
  if (radius_s && cli_parse_uint(radius_s, 0, bits, &radius) != 0) {
    cli_errorf("match: --radius must be 0..%u for %s", bits, vouch_algo_name(algo));
    vouch_index_free(idx);
    return CLI_EXIT_ERROR;
  }
  int threads = jobs ? (int)jobs : cli_ncpu();
  queries q = {0};
  q.hb = vouch_index_hash_bytes(idx);
  int errors = 0;
  if (hashes) {
    errors += read_hashes(&q, hashes, dihedral, algo);
  } else {
    cli_paths paths = {0};
    errors += cli_paths_collect(&paths, argv + optind, argc - optind, recursive);
    cli_hash_opts ho = {algo, dihedral, exact, 1, threads, NULL};
    hash_collect hc = {&q, 0};
    if (paths.n) {
      long failed = cli_hash_run(&paths, &ho, collect_photo, &hc);
      if (failed < 0) {
        cli_errorf("match: could not start hashing");
        errors++;
      }
    }
    errors += hc.failed;
    cli_paths_free(&paths);
  }
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
      vouch_search_opts so = {(unsigned)radius, engine, (unsigned)threads};
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
            all[nall + i] = m[i];
            all[nall + i].query = map[m[i].query];
          }
          nall += nm;
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
    print_match(idx, q.label[all[i].query], &all[i], json);
  if (fflush(stdout) != 0) errors++;
  free(all);
  q_free(&q);
  vouch_index_free(idx);
  if (errors) return CLI_EXIT_ERROR;
  return nall ? CLI_EXIT_MATCH : CLI_EXIT_OK;
}
