/* programs/httpd/routes_bank.c -- banks and index rebuild over HTTP.
 *   GET    /v1/banks                         list (reader)
 *   POST   /v1/banks            {"name","algo"}   create (admin)
 *   GET    /v1/banks/NAME                    one bank (reader)
 *   DELETE /v1/banks/NAME                    remove (admin)
 *   POST   /v1/banks/NAME/import?source=&strict=&format=&column=&signal_type=&min_quality=
 *                                          body: a hash list or exchange page (admin)
 *   POST   /v1/banks/NAME/enable | /disable  the whole bank (admin)
 *   POST   /v1/banks/NAME/entries/enable | /entries/disable  {"by":"entry|id|hash","value":..} (admin)
 *   GET    /v1/banks/NAME/export             CSV: VOUCH_BANK_CSV_HEADER, as `vouch bank export` (reader)
 *   POST   /v1/index/rebuild    {"banks":[..]} optional   (admin)
 * Each request opens the bank database (SQLite, WAL) and closes it; an
 * import is one transaction, so a crash or kill leaves the bank as before. */
#include <stdlib.h>
#include <string.h>
#include "vouchd.h"
#include "bodies.h"

static enum MHD_Result bank_error(struct MHD_Connection *conn, int rc, vouch_bank *db) {
  const char *detail = db ? vouch_bank_errmsg(db) : "";
  switch (rc) {
  case VOUCH_E_NOT_FOUND: return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "%s", *detail ? detail : "no such bank");
  case VOUCH_E_EXISTS: return vd_send_error(conn, MHD_HTTP_CONFLICT, "exists", "%s", *detail ? detail : "already exists");
  case VOUCH_E_INVALID:
  case VOUCH_E_HASH_PARSE: return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "%s: %s", vouch_strerror(rc), detail);
  case VOUCH_E_ALGO_MISMATCH: return vd_send_error(conn, MHD_HTTP_CONFLICT, "algo_mismatch", "%s", detail);
  case VOUCH_E_NOMEM: return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  case VOUCH_E_DB_BUSY:
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy_database", "the database is locked by another "
                         "process: %s", detail);
  default: return vd_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "database", "%s: %s", vouch_strerror(rc), detail);
  }
}

static json_t *info_json(const vouch_bank_info *i) {
  return json_pack("{s:s,s:s,s:b,s:I,s:I,s:I}", "name", i->name, "algo", vouch_algo_name(i->algo),
                   "enabled", i->enabled, "entries", (json_int_t)i->entries, "enabled_entries",
                   (json_int_t)i->enabled_entries, "created_at", (json_int_t)i->created_at);
}

static int collect_info(void *ctx, const vouch_bank_info *i) {
  json_array_append_new((json_t *)ctx, info_json(i));
  return 0;
}

typedef struct {
  char *buf;
  size_t len, cap;
  int oom;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 65536;
    while (nc < b->len + n + 1) nc *= 2;
    char *nb = realloc(b->buf, nc);
    if (!nb) {
      b->oom = 1;
      return;
    }
    b->buf = nb;
    b->cap = nc;
  }
  memcpy(b->buf + b->len, s, n);
  b->len += n;
}

static int export_entry(void *ctx, const vouch_bank_entry *e) {
  strbuf *b = ctx;
  char line[1024];
  size_t n = vouch_bank_entry_csv(e, line, sizeof line);
  if (n < sizeof line) {
    sb_put(b, line, n);
    return b->oom;
  }
  char *big = malloc(n + 1); /* a long line (many sources): write it again at its size */
  if (!big) return b->oom = 1;
  vouch_bank_entry_csv(e, big, n + 1);
  sb_put(b, big, n);
  free(big);
  return b->oom;
}

typedef struct {
  json_t *errors;
  size_t n;
} import_errs;

static int import_error(void *ctx, size_t line, const char *msg) {
  import_errs *e = ctx;
  if (e->n++ < 100) json_array_append_new(e->errors, json_pack("{s:I,s:s}", "line", (json_int_t)line, "message", msg));
  return 0;
}

static const char *arg(struct MHD_Connection *conn, const char *k) {
  return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, k);
}

enum MHD_Result vd_route_banks(vd_server *s, struct MHD_Connection *conn, const char *url,
                               const char *method, vd_request *r) {
  /* url: /v1/banks[/NAME[/ACTION[/SUB]]] */
  char name[160] = "", action[32] = "", sub[32] = "";
  const char *rest = url + strlen("/v1/banks");
  if (*rest && *rest != '/') return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint");
  if (*rest == '/') {
    rest++;
    size_t n = strcspn(rest, "/");
    if (n == 0 || n >= sizeof name) return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "bad bank name");
    memcpy(name, rest, n);
    rest += n;
    if (*rest == '/') {
      rest++;
      n = strcspn(rest, "/");
      if (n >= sizeof action) return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint");
      memcpy(action, rest, n);
      rest += n;
      if (*rest == '/') {
        rest++;
        snprintf(sub, sizeof sub, "%s", rest);
      }
    }
  }
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST"),
            del = !strcmp(method, "DELETE");
  vouch_bank *db = NULL;
  int rc = vouch_bank_open(&db, s->db_path, get ? VOUCH_BANK_OPEN_READONLY : VOUCH_BANK_OPEN_CREATE);
  if (rc != VOUCH_OK) {
    enum MHD_Result ret = bank_error(conn, rc, db);
    vouch_bank_free(db);
    return ret;
  }
  enum MHD_Result ret;
  if (!*name && get) {
    json_t *arr = json_array();
    rc = vouch_bank_list(db, NULL, collect_info, arr);
    ret = rc == VOUCH_OK ? vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:o}", "banks", arr))
                         : (json_decref(arr), bank_error(conn, rc, db));
  } else if (!*name && post) {
    json_error_t jerr;
    json_t *doc = r->len ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
    const char *bn = doc ? json_string_value(json_object_get(doc, "name")) : NULL;
    const char *an = doc ? json_string_value(json_object_get(doc, "algo")) : NULL;
    int algo = an ? vouch_algo_from_name(an) : VOUCH_ALGO_PDQ;
    if (an && algo == VOUCH_ALGO_NONE) algo = vouch_digest_from_name(an); /* exact digest banks */
    if (!bn || algo == VOUCH_ALGO_NONE) {
      ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_json",
                          "expected {\"name\":NAME,\"algo\":\"pdq|phash|dhash|ahash|md5|sha1|sha256\"}");
    } else if ((rc = vouch_bank_create(db, bn, algo)) != VOUCH_OK) {
      ret = bank_error(conn, rc, db);
    } else {
      json_t *arr = json_array();
      vouch_bank_list(db, bn, collect_info, arr);
      ret = vd_send_json(conn, MHD_HTTP_CREATED, json_incref(json_array_get(arr, 0)));
      json_decref(arr);
    }
    json_decref(doc);
  } else if (*name && !*action && get) {
    json_t *arr = json_array();
    rc = vouch_bank_list(db, name, collect_info, arr);
    ret = rc == VOUCH_OK ? vd_send_json(conn, MHD_HTTP_OK, json_incref(json_array_get(arr, 0))) : bank_error(conn, rc, db);
    json_decref(arr);
  } else if (*name && !*action && del) {
    rc = vouch_bank_remove(db, name);
    ret = rc == VOUCH_OK ? vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:s}", "removed", name)) : bank_error(conn, rc, db);
  } else if (*name && !strcmp(action, "import") && post && !vd_utf8_valid(r->body, r->len)) {
    /* ids and sources are answered as JSON strings: refuse them here rather
     * than drop them later (the query arguments were checked by admit()) */
    ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_utf8",
                        "the list is not UTF-8 (ids and sources must be); nothing was imported");
  } else if (*name && !strcmp(action, "import") && post) {
    vouch_import_opts io;
    memset(&io, 0, sizeof io);
    const char *fmt = arg(conn, "format"), *strict = arg(conn, "strict");
    io.list.format = VOUCH_LIST_AUTO;
    if (fmt)
      io.list.format = vouch_list_format_from_name(fmt);
    io.list.column = arg(conn, "column");
    io.list.signal_type = arg(conn, "signal_type");
    const char *mq = arg(conn, "min_quality");
    if (mq) /* 0 turns the floor off, as vouch bank import --min-quality 0 */
      io.list.min_quality = !strcmp(mq, "0") ? -1 : atoi(mq) > 0 && atoi(mq) <= 100 ? atoi(mq) : -2;
    io.source = arg(conn, "source");
    io.strict = strict && (!strcmp(strict, "1") || !strcmp(strict, "true"));
    import_errs errs = {json_array(), 0};
    io.error = import_error;
    io.error_ctx = &errs;
    vouch_import_stats st;
    memset(&st, 0, sizeof st);
    if (io.list.format < 0 || io.list.min_quality == -2) {
      ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request",
                          "format must be auto, hex, csv, tsv, jsonl, tx, te, ncmec, stopncii or tat;"
                          " min_quality 0..100");
    } else if ((rc = vouch_bank_import(db, name, r->body ? r->body : "", r->len, &io, &st)) != VOUCH_OK) {
      if (rc == VOUCH_E_HASH_PARSE && io.strict)
        ret = vd_send_json(conn, MHD_HTTP_BAD_REQUEST,
                           json_pack("{s:{s:s,s:s},s:O}", "error", "code", "bad_list", "message",
                                     "strict import: a line is malformed; nothing was imported", "errors", errs.errors));
      else
        ret = bank_error(conn, rc, db);
    } else {
      ret = vd_send_json(conn, MHD_HTTP_OK,
                         json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:O}", "added", (json_int_t)st.added,
                                   "merged", (json_int_t)st.merged, "bad", (json_int_t)st.bad, "skipped",
                                   (json_int_t)st.skipped, "low_quality", (json_int_t)st.low_quality,
                                   "tombstones", (json_int_t)st.tombstones, "disabled", (json_int_t)st.disabled,
                                   "reenabled", (json_int_t)st.reenabled, "format",
                                   vouch_list_format_name(st.format), "errors", errs.errors));
    }
    json_decref(errs.errors);
  } else if (*name && (!strcmp(action, "enable") || !strcmp(action, "disable")) && post) {
    rc = vouch_bank_set_enabled(db, name, !strcmp(action, "enable"));
    ret = rc == VOUCH_OK ? vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:s,s:b}", "bank", name, "enabled", !strcmp(action, "enable")))
                         : bank_error(conn, rc, db);
  } else if (*name && !strcmp(action, "entries") && (!strcmp(sub, "enable") || !strcmp(sub, "disable")) && post) {
    json_error_t jerr;
    json_t *doc = r->len ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
    const char *by = doc ? json_string_value(json_object_get(doc, "by")) : NULL;
    json_t *jv = doc ? json_object_get(doc, "value") : NULL;
    char vbuf[128];
    const char *value = json_is_string(jv) ? json_string_value(jv) : NULL;
    if (json_is_integer(jv)) {
      snprintf(vbuf, sizeof vbuf, "%lld", (long long)json_integer_value(jv));
      value = vbuf;
    }
    int sel = !by ? 0 : !strcmp(by, "entry") ? VOUCH_SELECT_ENTRY_ID : !strcmp(by, "id") ? VOUCH_SELECT_EXT_ID
                   : !strcmp(by, "hash") ? VOUCH_SELECT_HASH : 0;
    size_t changed = 0;
    if (!sel || !value)
      ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_json", "expected {\"by\":\"entry|id|hash\",\"value\":...}");
    else if ((rc = vouch_bank_entry_set_enabled(db, name, sel, value, !strcmp(sub, "enable"), &changed)) != VOUCH_OK)
      ret = bank_error(conn, rc, db);
    else
      ret = vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:I}", "changed", (json_int_t)changed));
    json_decref(doc);
  } else if (*name && !strcmp(action, "export") && get) {
    strbuf b = {0};
    sb_put(&b, VOUCH_BANK_CSV_HEADER, strlen(VOUCH_BANK_CSV_HEADER));
    rc = vouch_bank_entries(db, name, export_entry, &b);
    if (rc != VOUCH_OK || b.oom) {
      free(b.buf);
      ret = b.oom ? vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory") : bank_error(conn, rc, db);
    } else {
      struct MHD_Response *resp = MHD_create_response_from_buffer(b.len, b.buf, MHD_RESPMEM_MUST_FREE);
      if (resp) MHD_add_response_header(resp, "Content-Type", "text/csv");
      else free(b.buf);
      ret = vd_queue(conn, MHD_HTTP_OK, resp);
    }
  } else {
    ret = vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint: %s %s", method, url);
  }
  vouch_bank_free(db);
  return ret;
}

enum MHD_Result vd_route_index(vd_server *s, struct MHD_Connection *conn, const char *url,
                               const char *method, vd_request *r) {
  if (strcmp(url, "/v1/index/rebuild") != 0 || strcmp(method, "POST") != 0)
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint: %s %s", method, url);
  if (!vd_index_configured(s))
    return vd_send_error(conn, MHD_HTTP_CONFLICT, "no_index_path", "vouchd was started without --index or --index-dir");
  json_t *doc = NULL;
  const char *names[256];
  size_t nn = 0;
  if (r->len) {
    json_error_t jerr;
    doc = json_loadb(r->body, r->len, 0, &jerr);
    json_t *arr = doc ? json_object_get(doc, "banks") : NULL;
    if (!doc || (arr && !json_is_array(arr))) {
      json_decref(doc);
      return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_json", "expected {\"banks\":[NAME,...]} or no body");
    }
    for (size_t i = 0; arr && i < json_array_size(arr) && nn < 256; i++) {
      const char *n = json_string_value(json_array_get(arr, i));
      if (!n) {
        json_decref(doc);
        return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_json", "bank names are strings");
      }
      names[nn++] = n;
    }
  }
  vouch_bank *db = NULL;
  int rc = vouch_bank_open(&db, s->db_path, VOUCH_BANK_OPEN_READONLY);
  vd_built built[VD_NALGO];
  size_t nb = 0;
  char err[512] = "";
  enum MHD_Result ret;
  if (rc == VOUCH_OK) rc = vd_index_rebuild(s, db, names, nn, NULL, built, &nb, err, sizeof err);
  if (rc == 1) {
    ret = vd_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "reload", "index written but not loaded: %s", err);
  } else if (rc == VOUCH_E_INVALID && s->index_dir && nn) {
    ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", err);
  } else if (rc != VOUCH_OK) {
    ret = bank_error(conn, rc, db);
  } else {
    /* --index: {entries, root, path}; --index-dir: the total and each algorithm's */
    json_t *body = json_object(), *each = json_object();
    size_t total = 0;
    for (size_t k = 0; k < nb; k++) {
      char hex[65], path[4096];
      vouch_hash_to_hex(built[k].root, sizeof built[k].root, hex, sizeof hex);
      if (vd_index_file(s, built[k].algo, path, sizeof path) != 0) path[0] = 0;
      total += built[k].count;
      if (!s->index_dir) {
        json_decref(body);
        body = json_pack("{s:I,s:s,s:s}", "entries", (json_int_t)built[k].count, "root", hex, "path", path);
      } else
        json_object_set_new(each, vouch_algo_name(built[k].algo),
                            json_pack("{s:I,s:s,s:s}", "entries", (json_int_t)built[k].count, "root", hex, "path", path));
    }
    if (s->index_dir) {
      json_object_set_new(body, "entries", json_integer((json_int_t)total));
      json_object_set_new(body, "indexes", each);
    } else {
      json_decref(each);
    }
    ret = vd_send_json(conn, MHD_HTTP_OK, body);
  }
  vouch_bank_free(db);
  json_decref(doc);
  return ret;
}
