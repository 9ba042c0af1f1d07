/* programs/httpd/routes_review.c -- the human review console (docs/review.md).
 *   GET  /review, /review/app.js, /review/app.css   the page (public: no data in it)
 *   GET  /v1/review/queue[?account=ID][&open=1]      (reviewer) matched payloads to review
 *   POST /v1/review/decisions                        (reviewer) {"item":N,"decision":D,"note":T,"supersedes":N}
 *   GET  /v1/review/export[?account=ID]              (reviewer) items and every decision, as JSON
 *   POST /v1/review/second-hashes                    (admin) the entries' second hashes (text list)
 * The queue and the decisions are libvouch's review store (vouch/review.h)
 * in the service database (the SQLite file or PostgreSQL).  Reviewer tokens
 * are a role of their own, kept in the store's own table (vouchd_reviewers,
 * SHA-256 at rest like vouchd_tokens)
 * and made with `vouchd reviewer create`: a reviewer token opens the review
 * routes and nothing else, and no other token opens them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "vouchd.h"
#include "bodies.h"
#include "vouch/review.h"
#include "vouchd_review_assets.h"

/* ---------------------------------------------------------------- routing */

int vd_review_route(const char *url) {
  if (!strcmp(url, "/review") || !strcmp(url, "/review/") || !strncmp(url, "/review/app.", 12))
    return VD_R_REVIEW_PAGE;
  if (!strncmp(url, "/v1/review/", 11)) return VD_R_REVIEW;
  return -1;
}

int vd_review_role(const char *url, const char *method) {
  (void)method;
  if (vd_review_route(url) == VD_R_REVIEW_PAGE) return VD_ROLE_NONE;
  if (!strcmp(url, "/v1/review/second-hashes")) return VD_ROLE_ADMIN;
  return VD_ROLE_REVIEWER;
}

/* ---------------------------------------------------------------- tokens */

/* Looked up in the database on each request, so `revoke` takes effect at
 * once without a SIGHUP.  Tokens are 32 random bytes: looking up their
 * SHA-256 by index leaks nothing a guesser could use.  The table is the
 * review store's (vouch_review_reviewer_*), on SQLite or PostgreSQL. */
int vd_review_token_check(vd_server *s, const char *header, char *name, unsigned *bucket) {
  name[0] = 0;
  uint8_t h[32];
  if (vd_bearer_hash(header, h) != 0) return VD_ROLE_NONE;
  *bucket = h[0];
  vouch_review *rv = NULL;
  int role = VD_ROLE_NONE;
  if (vouch_review_open(&rv, s->db_path) == VOUCH_OK && vouch_review_reviewer_find(rv, h, name, 160) == VOUCH_OK)
    role = VD_ROLE_REVIEWER;
  vouch_review_free(rv);
  return role;
}

static const char reviewer_usage[] =
  "usage: vouchd reviewer create --db DB --name NAME   (prints the new token once)\n"
  "       vouchd reviewer list --db DB\n"
  "       vouchd reviewer revoke --db DB --name NAME\n"
  "DB is the bank file or a postgresql:// URI, as for vouchd --db.\n"
  "A reviewer token opens the review console (/review and /v1/review/*) and\n"
  "nothing else; the name is recorded with every decision.  docs/review.md.\n";

static int print_reviewer(void *ctx, const char *name, int64_t created_at) {
  (void)ctx;
  printf("%s\treviewer\t%lld\n", name, (long long)created_at);
  return 0;
}

int vd_cmd_reviewer(int argc, char **argv) {
  static const struct option lo[] = {{"db", required_argument, NULL, 'd'},
                                     {"name", required_argument, NULL, 'n'},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(reviewer_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char *sub = argv[1], *db_path = NULL, *name = NULL;
  optind = 2;
  int c;
  while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
    switch (c) {
    case 'd': db_path = optarg; break;
    case 'n': name = optarg; break;
    case 'h': fputs(reviewer_usage, stdout); return 0;
    default: fputs(reviewer_usage, stderr); return 2;
    }
  }
  if (!db_path || optind != argc) {
    fputs(reviewer_usage, stderr);
    return 2;
  }
  char err[512];
  if (vd_store_init(db_path, err, sizeof err) != 0) {
    fprintf(stderr, "vouchd reviewer: %s\n", err);
    return 1;
  }
  vouch_review *rv = NULL;
  int vrc = vouch_review_open(&rv, db_path);
  if (vrc != VOUCH_OK) {
    char red[512];
    vouch_bank_path_redacted(db_path, red, sizeof red);
    fprintf(stderr, "vouchd reviewer: %s: %s\n", red, rv && vouch_review_errmsg(rv)[0] ? vouch_review_errmsg(rv) : vouch_strerror(vrc));
    vouch_review_free(rv);
    return 1;
  }
  int rc = 0;
  if (!strcmp(sub, "create")) {
    if (!name || !*name || strlen(name) > 63 || !vd_utf8_valid(name, strlen(name))) {
      fprintf(stderr, "vouchd reviewer create: needs --name NAME (1..63 bytes of UTF-8)\n");
      rc = 2;
    } else {
      uint8_t raw[32], h[32];
      char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)], tok[64];
      randombytes_buf(raw, sizeof raw);
      sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
      snprintf(tok, sizeof tok, "vr_%s", b64);
      crypto_hash_sha256(h, (const unsigned char *)tok, strlen(tok));
      if (vouch_review_reviewer_add(rv, name, h) != VOUCH_OK) {
        fprintf(stderr, "vouchd reviewer create: %s\n", vouch_review_errmsg(rv));
        rc = 1;
      } else {
        printf("%s\n", tok);
      }
      sodium_memzero(raw, sizeof raw);
      sodium_memzero(tok, sizeof tok);
    }
  } else if (!strcmp(sub, "list")) {
    if (vouch_review_reviewers(rv, print_reviewer, NULL) != VOUCH_OK) {
      fprintf(stderr, "vouchd reviewer list: %s\n", vouch_review_errmsg(rv));
      rc = 1;
    }
  } else if (!strcmp(sub, "revoke")) {
    if (!name) {
      fprintf(stderr, "vouchd reviewer revoke: needs --name NAME\n");
      rc = 2;
    } else if (vouch_review_reviewer_remove(rv, name) != VOUCH_OK) {
      fprintf(stderr, "vouchd reviewer revoke: no reviewer named '%s'\n", name);
      rc = 1;
    }
  } else {
    fputs(reviewer_usage, stderr);
    rc = 2;
  }
  vouch_review_free(rv);
  return rc;
}

/* ---------------------------------------------------------------- the page */

/* Nothing but this server's own script and style; no inline code, no
 * frames, no forms posting elsewhere, no images from anywhere (the
 * derivatives are drawn into canvases from the JSON). */
static const char page_csp[] =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'none'; "
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static void security_headers(struct MHD_Response *resp) {
  MHD_add_response_header(resp, "Content-Security-Policy", page_csp);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
}

enum MHD_Result vd_route_review_page(struct MHD_Connection *conn, const char *url, const char *method) {
  if (strcmp(method, "GET") && strcmp(method, "HEAD"))
    return vd_send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "%s is not allowed on %s", method,
                         url);
  const unsigned char *data;
  size_t len;
  const char *type;
  if (!strcmp(url, "/review") || !strcmp(url, "/review/")) {
    data = vd_asset_review_html, len = sizeof vd_asset_review_html, type = "text/html; charset=utf-8";
  } else if (!strcmp(url, "/review/app.js")) {
    data = vd_asset_review_js, len = sizeof vd_asset_review_js, type = "text/javascript; charset=utf-8";
  } else if (!strcmp(url, "/review/app.css")) {
    data = vd_asset_review_css, len = sizeof vd_asset_review_css, type = "text/css; charset=utf-8";
  } else {
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint: %s", url);
  }
  union { const unsigned char *c; void *v; } buf = {data}; /* libmicrohttpd never writes a PERSISTENT buffer */
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf.v, MHD_RESPMEM_PERSISTENT);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", type);
  security_headers(resp);
  return vd_queue(conn, MHD_HTTP_OK, resp);
}

/* ---------------------------------------------------------------- annotating payloads */

struct vd_review_ctx {
  vd_server *s;
  vouch_review *rv;           /* NULL when the store cannot be opened: no queueing */
  vouch_second_list *seconds; /* NULL: none known */
  vouch_bank *bank;           /* the entries' own second hashes; NULL when it cannot be opened */
  vd_index_ref *index;        /* NULL: no index loaded */
  size_t counts[3];           /* by vouch_deriv_verdict */
};

vd_review_ctx *vd_review_ctx_new(vd_server *s) {
  vd_review_ctx *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->s = s;
  if (vouch_review_open(&c->rv, s->db_path) != VOUCH_OK) {
    vouch_review_free(c->rv);
    c->rv = NULL;
  } else if (vouch_review_seconds(c->rv, &c->seconds) != VOUCH_OK) {
    c->seconds = NULL;
  }
  if (vouch_bank_open(&c->bank, s->db_path, VOUCH_BANK_OPEN_READONLY) != VOUCH_OK) {
    vouch_bank_free(c->bank);
    c->bank = NULL;
  }
  c->index = vd_index_acquire(s);
  return c;
}

void vd_review_ctx_free(vd_review_ctx *c) {
  if (!c) return;
  vouch_second_list_free(c->seconds);
  vouch_bank_free(c->bank);
  vouch_review_free(c->rv);
  if (c->index) vd_index_release(c->index);
  free(c);
}

static const char *const verdict_names[] = {"unknown", "pass", "fail"};

/* Copies n bytes of index text into a C string, made valid UTF-8. */
static void copy_text(char *dst, size_t cap, const char *src, size_t n) {
  if (n >= cap) n = cap - 1;
  for (size_t i = 0; i < n; i++) dst[i] = src[i] ? src[i] : '?';
  dst[n] = 0;
  vd_utf8_scrub(dst);
}

/* The matched entry's own second hash, from the bank (vd_review_payload). */
typedef struct entry_second {
  const uint8_t *hash;
  size_t hash_len;
  uint8_t second[VOUCH_DERIV_HASH_BYTES];
  int found;
} entry_second;

static int on_entry_second(void *ctx, const vouch_bank_entry *e) {
  entry_second *es = ctx;
  /* the index was built from this database: its entry numbers are the bank's,
   * but an index from elsewhere must not lend another entry's second hash */
  if (e->second && e->hash_bytes == es->hash_len && !memcmp(e->hash, es->hash, es->hash_len)) {
    memcpy(es->second, e->second, VOUCH_DERIV_HASH_BYTES);
    es->found = 1;
  }
  return 0;
}

void vd_review_payload(vd_review_ctx *c, const char *account, const vouch_psi_payload *pl, json_t *match) {
  if (!c) return;
  int score = -1;
  const int radius = (int)vouch_default_radius(pl->algo);
  entry_second es;
  memset(&es, 0, sizeof es);
  vouch_review_item it;
  memset(&it, 0, sizeof it);
  it.account = account;
  it.algo = pl->algo;
  it.hash_len = pl->hash_len;
  memcpy(it.hash, pl->hash, pl->hash_len);
  it.thumb_w = pl->thumb_w;
  it.thumb_h = pl->thumb_h;
  it.thumb = pl->thumb;
  it.distance = -1;
  /* the matched entry: the nearest in the loaded index within the default radius */
  char bank[VOUCH_REVIEW_TEXT_MAX], ext[VOUCH_REVIEW_TEXT_MAX], src[VOUCH_REVIEW_TEXT_MAX];
  vouch_index *idx = c->index ? vd_index_handle(c->index) : NULL;
  if (idx && vouch_index_algo(idx) == pl->algo && vouch_index_hash_bytes(idx) == pl->hash_len) {
    vouch_search_opts so = {.radius = (unsigned)radius, .engine = VOUCH_ENGINE_AUTO, .threads = 1};
    vouch_match *m = NULL;
    size_t nm = 0;
    vouch_index_entry e;
    if (vouch_index_search(idx, pl->hash, 1, 1, &so, &m, &nm) == VOUCH_OK && nm > 0 &&
        vouch_index_get(idx, m[0].entry, &e) == VOUCH_OK) {
      const char *bn = vouch_index_bank_name(idx, e.bank);
      copy_text(bank, sizeof bank, bn ? bn : "", bn ? strlen(bn) : 0);
      copy_text(ext, sizeof ext, e.ext_id ? e.ext_id : "", e.ext_id ? e.ext_len : 0);
      copy_text(src, sizeof src, e.source ? e.source : "", e.source ? e.src_len : 0);
      it.bank = bank;
      it.entry_id = ext;
      it.source = src;
      it.distance = m[0].distance;
      es.hash = e.hash;
      es.hash_len = pl->hash_len;
      if (c->bank) (void)vouch_bank_entry_get(c->bank, (int64_t)e.entry_id, on_entry_second, &es);
    }
    vouch_matches_free(m);
  }
  /* the second hash its source supplied with the matched entry wins; the
   * stored second-hash list (POST /v1/review/second-hashes) fills in */
  const int verdict = es.found ? vouch_derivative_verdict(pl->thumb, pl->thumb_w, pl->thumb_h, es.second, &score)
                               : vouch_second_list_verdict(c->seconds, pl, (unsigned)radius, &score, NULL);
  c->counts[verdict]++;
  it.verdict = verdict;
  it.score = score;
  if (match) {
    json_object_set_new(match, "second", json_string(verdict_names[verdict]));
    if (score >= 0) json_object_set_new(match, "second_score", json_integer(score));
    if (it.bank)
      json_object_set_new(match, "entry", json_pack("{s:s,s:s,s:s,s:i}", "bank", it.bank, "id", it.entry_id, "source",
                                                    it.source, "distance", it.distance));
  }
  if (c->rv) vouch_review_enqueue(c->rv, &it, NULL);
}

void vd_review_ctx_summary(vd_review_ctx *c, json_t *status) {
  if (!c) return;
  json_object_set_new(status, "second_hash",
                      json_pack("{s:I,s:I,s:I}", "pass", (json_int_t)c->counts[VOUCH_DERIV_PASS], "fail",
                                (json_int_t)c->counts[VOUCH_DERIV_FAIL], "unknown",
                                (json_int_t)c->counts[VOUCH_DERIV_UNKNOWN]));
}

/* Feeding the queue is computing the account's status: vd_route_account()
 * opens the vouchers and, past the threshold, passes every payload to
 * vd_review_payload(), which queues it.  Its answer goes into a request of
 * our own and is dropped; the caller's capture is put back after. */
void vd_review_feed(vd_server *s, const char *account) {
  char url[64 + VOUCH_REVIEW_ACCOUNT_MAX];
  snprintf(url, sizeof url, "/v1/accounts/%s/status", account);
  vd_request *outer = vd_capture_current(), status;
  memset(&status, 0, sizeof status);
  status.role = VD_ROLE_ADMIN;
  vd_capture_begin(&status);
  vd_route_account(s, NULL, url, &status);
  vd_capture_end();
  if (outer) vd_capture_begin(outer);
  if (status.resp) MHD_destroy_response(status.resp);
}

/* ---------------------------------------------------------------- JSON API */

static enum MHD_Result review_error(struct MHD_Connection *conn, vouch_review *rv, int rc) {
  const char *msg = vouch_review_errmsg(rv);
  switch (rc) {
  case VOUCH_E_NOT_FOUND: return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "%s", msg);
  case VOUCH_E_EXISTS: return vd_send_error(conn, MHD_HTTP_CONFLICT, "stale_decision", "%s", msg);
  case VOUCH_E_INVALID: return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", msg);
  case VOUCH_E_HASH_PARSE:
  case VOUCH_E_LIMIT: return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_list", "%s", msg);
  case VOUCH_E_DB_BUSY: return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy_database", "%s", msg);
  case VOUCH_E_NOMEM: return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "%s", msg);
  case VOUCH_E_UNSUPPORTED: return vd_send_error(conn, MHD_HTTP_NOT_IMPLEMENTED, "not_implemented", "%s", msg);
  default: return vd_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "database", "%s", msg);
  }
}

static json_t *text_or_null(const char *v) { return v ? json_string(v) : json_null(); }

static json_t *decision_json(int64_t id, int decision, const char *reviewer, const char *note, int64_t at) {
  return json_pack("{s:I,s:s,s:o,s:o,s:I}", "id", (json_int_t)id, "decision", vouch_review_decision_name(decision),
                   "reviewer", text_or_null(reviewer), "note", text_or_null(note), "decided_at", (json_int_t)at);
}

static json_t *item_json(const vouch_review_item *it) {
  char hex[2 * VOUCH_PSI_HASH_MAX_BYTES + 1];
  vouch_hash_to_hex(it->hash, it->hash_len, hex, sizeof hex);
  json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I}", "id", (json_int_t)it->id, "account", it->account ? it->account : "",
                        "algo", vouch_algo_name(it->algo), "hash", hex, "queued_at", (json_int_t)it->created_at);
  json_t *sec = json_pack("{s:s}", "verdict",
                          verdict_names[it->verdict >= 0 && it->verdict <= 2 ? it->verdict : 0]);
  if (it->score >= 0) json_object_set_new(sec, "score", json_integer(it->score));
  json_object_set_new(o, "second", sec);
  json_object_set_new(o, "entry", it->bank ? json_pack("{s:s,s:o,s:o,s:i}", "bank", it->bank, "id",
                                                       text_or_null(it->entry_id), "source",
                                                       text_or_null(it->source), "distance", it->distance)
                                           : json_null());
  if (it->thumb_w && it->thumb_h && it->thumb) {
    const size_t n = (size_t)it->thumb_w * it->thumb_h;
    char b64[sodium_base64_ENCODED_LEN(64 * 64, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, it->thumb, n, sodium_base64_VARIANT_ORIGINAL);
    json_object_set_new(o, "thumb", json_pack("{s:i,s:i,s:s}", "w", it->thumb_w, "h", it->thumb_h, "grey", b64));
  } else {
    json_object_set_new(o, "thumb", json_null());
  }
  json_object_set_new(o, "decision", it->decision_id ? decision_json(it->decision_id, it->decision, it->reviewer,
                                                                     it->note, it->decided_at)
                                                     : json_null());
  return o;
}

static int on_item(void *ctx, const vouch_review_item *it) {
  json_array_append_new(ctx, item_json(it));
  return 0;
}

/* Logs a view of every item in `items` by `reviewer`, in one transaction:
 * a listing whose views cannot be logged is not shown. */
static int log_views(vouch_review *rv, const char *reviewer, json_t *items) {
  const size_t n = json_array_size(items);
  int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) return VOUCH_E_NOMEM;
  for (size_t i = 0; i < n; i++) ids[i] = (int64_t)json_integer_value(json_object_get(json_array_get(items, i), "id"));
  int rc = vouch_review_log_views(rv, reviewer, ids, n);
  free(ids);
  return rc;
}

static int on_decision(void *ctx, const vouch_review_decision *d) {
  json_t *o = decision_json(d->id, d->decision, d->reviewer, d->note, d->decided_at);
  json_object_set_new(o, "item", json_integer((json_int_t)d->item));
  json_object_set_new(o, "account", text_or_null(d->account));
  json_object_set_new(o, "supersedes", json_integer((json_int_t)d->supersedes));
  json_array_append_new(ctx, o);
  return 0;
}

/* Sets each account key of `out` to its count of suspected forgeries. */
static int failed_by_account(vouch_review *rv, json_t *out) {
  for (void *it = json_object_iter(out); it; it = json_object_iter_next(out, it)) {
    size_t n = 0;
    int rc = vouch_review_count_failed(rv, json_object_iter_key(it), &n);
    if (rc != VOUCH_OK) return rc;
    json_object_iter_set_new(out, it, json_integer((json_int_t)n));
  }
  return VOUCH_OK;
}

/* ?account=ID: checked; NULL when absent.  -1 when malformed. */
static int account_arg(struct MHD_Connection *conn, const char **account) {
  *account = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "account");
  return *account && !vd_valid_account(*account) ? -1 : 0;
}

static enum MHD_Result route_queue(struct MHD_Connection *conn, vouch_review *rv, const char *reviewer) {
  const char *account;
  if (account_arg(conn, &account) != 0)
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_account", "bad account id");
  const char *open = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "open");
  const unsigned flags = open && !strcmp(open, "1") ? VOUCH_REVIEW_OPEN_ONLY : 0;
  json_t *items = json_array();
  int rc = vouch_review_items(rv, account, flags, on_item, items);
  if (rc == VOUCH_OK) rc = log_views(rv, reviewer, items);
  size_t failed = 0;
  if (rc == VOUCH_OK) rc = vouch_review_count_failed(rv, account, &failed);
  json_t *by = json_object();
  for (size_t i = 0; rc == VOUCH_OK && i < json_array_size(items); i++)
    json_object_set_new(by, json_string_value(json_object_get(json_array_get(items, i), "account")),
                        json_integer(0));
  if (rc == VOUCH_OK) rc = failed_by_account(rv, by);
  if (rc != VOUCH_OK) {
    json_decref(items);
    json_decref(by);
    return review_error(conn, rv, rc);
  }
  return vd_send_json(conn, MHD_HTTP_OK,
                      json_pack("{s:s,s:o,s:I,s:o}", "reviewer", reviewer, "items", items, "suspected_forgeries",
                                (json_int_t)failed, "suspected_forgeries_by_account", by));
}

static enum MHD_Result route_decide(struct MHD_Connection *conn, vouch_review *rv, const char *reviewer,
                                    const vd_request *r) {
  json_error_t je;
  json_t *b = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
  if (!b || !json_is_object(b)) {
    json_decref(b);
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_json", "expected a JSON object: %s", b ? "" : je.text);
  }
  json_t *item = json_object_get(b, "item"), *dec = json_object_get(b, "decision"),
         *note = json_object_get(b, "note"), *sup = json_object_get(b, "supersedes");
  const int kind = json_is_string(dec) ? vouch_review_decision_from_name(json_string_value(dec)) : -1;
  enum MHD_Result ret;
  if (!json_is_integer(item) || json_integer_value(item) <= 0) {
    ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "\"item\" must be a positive integer");
  } else if (kind < 0) {
    ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request",
                        "\"decision\" must be \"confirm\", \"reject\" or \"escalate\"");
  } else if (!json_is_string(note) || json_string_length(note) == 0 ||
             json_string_length(note) >= VOUCH_REVIEW_NOTE_MAX || strlen(json_string_value(note)) != json_string_length(note)) {
    ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request",
                        "\"note\" (the reason) must be a string of 1 to %u bytes without NUL",
                        VOUCH_REVIEW_NOTE_MAX - 1);
  } else if (sup && !(json_is_integer(sup) && json_integer_value(sup) >= 0)) {
    ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request",
                        "\"supersedes\" must be the id of the item's latest decision, or 0");
  } else {
    int64_t id = 0;
    const int64_t supersedes = sup ? (int64_t)json_integer_value(sup) : 0;
    int rc = vouch_review_decide(rv, (int64_t)json_integer_value(item), kind, reviewer, json_string_value(note),
                                 supersedes, &id);
    if (rc != VOUCH_OK) {
      ret = review_error(conn, rv, rc);
    } else {
      json_t *o = decision_json(id, kind, reviewer, json_string_value(note), 0);
      json_object_del(o, "decided_at");
      json_object_set_new(o, "item", json_integer(json_integer_value(item)));
      json_object_set_new(o, "supersedes", json_integer((json_int_t)supersedes));
      ret = vd_send_json(conn, MHD_HTTP_CREATED, o);
    }
  }
  json_decref(b);
  return ret;
}

static enum MHD_Result route_export(struct MHD_Connection *conn, vouch_review *rv, const char *reviewer) {
  const char *account;
  if (account_arg(conn, &account) != 0)
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_account", "bad account id");
  json_t *items = json_array(), *decisions = json_array();
  /* the report holds suspected forgeries too (marked by their verdict): what was withheld, and why */
  int rc = vouch_review_items(rv, account, VOUCH_REVIEW_WITH_FAILED, on_item, items);
  if (rc == VOUCH_OK) rc = vouch_review_decisions(rv, account, on_decision, decisions);
  if (rc == VOUCH_OK) rc = log_views(rv, reviewer, items);
  if (rc != VOUCH_OK) {
    json_decref(items);
    json_decref(decisions);
    return review_error(conn, rv, rc);
  }
  return vd_send_json(conn, MHD_HTTP_OK,
                      json_pack("{s:o,s:s,s:I,s:o,s:o}", "account", text_or_null(account), "exported_by", reviewer,
                                "exported_at", (json_int_t)time(NULL), "items", items, "decisions", decisions));
}

static enum MHD_Result route_seconds(struct MHD_Connection *conn, vouch_review *rv, const vd_request *r) {
  size_t count = 0, bad = 0;
  int rc = vouch_review_set_seconds(rv, r->body, r->len, &count, &bad);
  if (rc != VOUCH_OK) return review_error(conn, rv, rc);
  return vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:I}", "entries", (json_int_t)count));
}

enum MHD_Result vd_route_review(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                                vd_request *r) {
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
  enum { QUEUE, DECIDE, EXPORT, SECONDS } which;
  if (!strcmp(url, "/v1/review/queue") && get) which = QUEUE;
  else if (!strcmp(url, "/v1/review/decisions") && post) which = DECIDE;
  else if (!strcmp(url, "/v1/review/export") && get) which = EXPORT;
  else if (!strcmp(url, "/v1/review/second-hashes") && post) which = SECONDS;
  else if (!strcmp(url, "/v1/review/queue") || !strcmp(url, "/v1/review/decisions") ||
           !strcmp(url, "/v1/review/export") || !strcmp(url, "/v1/review/second-hashes"))
    return vd_send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "%s is not allowed on %s", method,
                         url);
  else
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint: %s", url);
  /* the reviewer's name (its token's); --no-auth experiments have none */
  const char *reviewer = r->role == VD_ROLE_REVIEWER && r->account[0] ? r->account : "no-auth";
  vouch_review *rv = NULL;
  int rc = vouch_review_open(&rv, s->db_path);
  if (rc != VOUCH_OK) {
    enum MHD_Result ret = review_error(conn, rv, rc);
    vouch_review_free(rv);
    return ret;
  }
  enum MHD_Result ret;
  switch (which) {
  case QUEUE: ret = route_queue(conn, rv, reviewer); break;
  case DECIDE: ret = route_decide(conn, rv, reviewer, r); break;
  case EXPORT: ret = route_export(conn, rv, reviewer); break;
  default: ret = route_seconds(conn, rv, r); break;
  }
  vouch_review_free(rv);
  return ret;
}
