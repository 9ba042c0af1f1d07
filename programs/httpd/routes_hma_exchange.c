/* programs/httpd/routes_hma_exchange.c -- HMA 2.x's exchange routes (the
 * "Exchanges" of its curation blueprint), answered over vouch's configured
 * exchanges (vouch/exchange.h, `vouch exchange add`, synced by --sync-every
 * in sync.c).  docs/hma.md maps each route:
 *
 *   GET         /c/exchanges/apis                 the API types: fb_threatexchange, ncmec, stop_ncii, tat
 *   GET|POST    /c/exchanges/api/API              {"supports_authentification", "has_set_authentification"};
 *                                                 POST {"credential_json": {...}} sets or ({}) clears them
 *   GET         /c/exchanges/api/API/schema       {"config_schema": {"fields"}, "credentials_schema"}
 *   GET|POST    /c/exchanges                      the names; POST {"bank", "api", "api_json"} creates one
 *   GET|PUT|DELETE /c/exchange/NAME               the config; PUT {"enabled"} (a disabled one is not synced); DELETE
 *   GET         /c/exchange/NAME/status           HMA's FetchStatus
 *
 * As in HMA, an exchange fills a bank of its own name, created with it and
 * removed with it.  HMA keeps one set of credentials per API type; vouchd
 * writes them to --exchange-credentials DIR/API.cred (mode 0600, the KEY=VALUE
 * file vouch_exchange_creds_read() reads at sync time), which the exchanges
 * created here name.  No answer, log line or error message holds a secret:
 * answers say only whether credentials are set.  HMA's "sample" and
 * "local_file" APIs have no counterpart here (a path given over HTTP would let
 * a token read any file vouchd can) and answer as HMA answers an unknown API. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>
#include "vouchd.h"
#include "hma_parse.h"
#include "vouch/exchange.h"

/* One credential field: its HMA name, the key of vouch's credentials file. */
typedef struct {
  const char *name, *key, *help;
} cred_field;

typedef struct {
  const char *name; /* HMA's API name */
  int type;         /* vouch's exchange type */
  const char *url;  /* where it syncs from: fb_threatexchange appends /PRIVACY_GROUP; ncmec: its environment */
  cred_field creds[2];
  size_t ncreds;
} hma_api;

static const hma_api apis[] = {
    {"fb_threatexchange", VOUCH_LIST_TE_UPDATES, "https://graph.facebook.com/v21.0",
     {{"api_token", "token", "ThreatExchange app access token (sent as a bearer token)"}}, 1},
    {"ncmec", VOUCH_LIST_NCMEC, NULL,
     {{"user", "user", "NCMEC hash sharing user name"}, {"password", "password", "NCMEC hash sharing password"}}, 2},
    {"stop_ncii", VOUCH_LIST_STOPNCII, "https://api.stopncii.org/v1",
     {{"fetch_function_key", "fetch_function_key", "StopNCII FetchHashes function key"},
      {"subscription_key", "subscription_key", "StopNCII API subscription key"}}, 2},
    {"tat", VOUCH_LIST_TAT, "https://app.terrorismanalytics.org/api/hash-list/v2/all",
     {{"username", "user", "Tech Against Terrorism user name (logged in for a token)"},
      {"password", "password", "Tech Against Terrorism password"}}, 2},
};
#define NAPIS (sizeof apis / sizeof apis[0])

/* NCMEC's environments as python-threatexchange names their base URLs */
static const char *const ncmec_envs[] = {
    "https://report.cybertip.org/hashsharing",
    "https://report.cybertip.org/exploitative-hashsharing",
    "https://lesp.ncmec.org/csam-hashsharing",
    "https://hashsharing.ncmec.org/npo",
    "https://hashsharing.ncmec.org/exploitative",
    "https://hashsharing.ncmec.org/generative-ai-csam",
    "https://hashsharing.ncmec.org/generative-ai-exploitative",
    "https://exttest.cybertip.org/hashsharing",
    "https://exttest.cybertip.org/exploitative-hashsharing",
    "https://betalesp.ncmec.org/csam-hashsharing",
    "https://hashsharing-test.ncmec.org/npo",
    "https://hashsharing-test.ncmec.org/exploitative",
    "https://hashsharing-test.ncmec.org/generative-ai-csam",
    "https://hashsharing-test.ncmec.org/generative-ai-exploitative",
};
#define NENVS (sizeof ncmec_envs / sizeof ncmec_envs[0])

#define CRED_VALUE_MAX 1024U /* bytes in one credential */

static const hma_api *api_by_name(const char *name) {
  for (size_t i = 0; name && i < NAPIS; i++)
    if (!strcmp(apis[i].name, name)) return &apis[i];
  return NULL;
}

/* HMA's API name of a vouch exchange type */
static const char *api_name_of(int type) {
  for (size_t i = 0; i < NAPIS; i++)
    if (apis[i].type == type) return apis[i].name;
  return type == VOUCH_EXCHANGE_FILE ? "local_file" : vouch_exchange_type_name(type);
}

static int ncmec_env_known(const char *url) {
  for (size_t i = 0; url && i < NENVS; i++)
    if (!strcmp(ncmec_envs[i], url)) return 1;
  return 0;
}

static json_t *load_json(const vd_request *r) {
  json_error_t jerr;
  return r->len ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
}

static enum MHD_Result db_fail(struct MHD_Connection *conn, int rc, vouch_bank *db) {
  const char *detail = db ? vouch_bank_errmsg(db) : "";
  if (rc == VOUCH_E_NOMEM) return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "out of memory");
  if (rc == VOUCH_E_DB_BUSY)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy_database", "the database is locked: %s", detail);
  if (rc == VOUCH_E_INVALID) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "%s: %s", vouch_strerror(rc), detail);
  return vd_send_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s: %s", vouch_strerror(rc), detail);
}

/* ---- credentials: --exchange-credentials DIR/API.cred ---- */

static int creds_path(const vd_server *s, const hma_api *api, char *out, size_t cap) {
  if (!s->exchange_creds) return -1;
  const int n = snprintf(out, cap, "%s/%s.cred", s->exchange_creds, api->name);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int creds_set(const vd_server *s, const hma_api *api) {
  char path[PATH_MAX];
  struct stat st;
  return creds_path(s, api, path, sizeof path) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static json_t *auth_status(const vd_server *s, const hma_api *api) {
  return json_pack("{s:b,s:b}", "supports_authentification", api->ncreds > 0, "has_set_authentification",
                   creds_set(s, api));
}

/* Writes the n bytes of text to path through a 0600 temporary file in the
 * same directory, renamed over it; 0 or -1 with errno. */
static int write_secret(const char *dir, const char *name, const char *path, const char *text, size_t n) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s/.%s.cred.XXXXXX", dir, name) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  const int fd = mkstemp(tmp);
  if (fd < 0) return -1;
  int ok = fchmod(fd, 0600) == 0;
  for (size_t off = 0; ok && off < n;) {
    const ssize_t w = write(fd, text + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) off += (size_t)w;
  }
  ok = ok && fsync(fd) == 0;
  const int e = errno;
  ok = close(fd) == 0 && ok;
  if (ok && rename(tmp, path) == 0) return 0;
  unlink(tmp);
  errno = ok ? errno : e;
  return -1;
}

/* Zeroes the strings of a parsed document (a credential's copies in
 * jansson's memory) before it is freed. */
static void wipe_json(json_t *j) {
  const char *k;
  json_t *v;
  size_t i;
  /* jansson owns a writable copy of each string; its API only hands out a const view */
  if (json_is_string(j)) sodium_memzero((char *)(uintptr_t)json_string_value(j), json_string_length(j));
  if (json_is_object(j)) json_object_foreach(j, k, v) wipe_json(v);
  if (json_is_array(j)) json_array_foreach(j, i, v) wipe_json(v);
}

static int falsy(const json_t *j) {
  return json_is_false(j) || (json_is_object(j) && json_object_size(j) == 0) ||
         (json_is_array(j) && json_array_size(j) == 0) || (json_is_string(j) && json_string_length(j) == 0) ||
         (json_is_integer(j) && json_integer_value(j) == 0) || (json_is_real(j) && json_real_value(j) == 0.0);
}

/* A value the KEY=VALUE file gives back unchanged: 1..CRED_VALUE_MAX bytes,
 * no control character, no space at either end. */
static int cred_value_ok(const char *v, size_t n) {
  if (n == 0 || n > CRED_VALUE_MAX || v[0] == ' ' || v[n - 1] == ' ') return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) return 0;
  return 1;
}

/* credential_json into the text of the credentials file; 0, or -1 with msg
 * (which names fields only, never a value). */
static int creds_text(const hma_api *api, json_t *cj, char *text, size_t cap, size_t *len, char *msg, size_t mcap) {
  *len = 0;
  json_t *over = json_object_get(cj, "base_url_override");
  if (!strcmp(api->name, "stop_ncii") && over && !json_is_null(over) && !falsy(over)) {
    snprintf(msg, mcap, "base_url_override: vouch syncs from the exchange's url (api_json.url when it is created)");
    return -1;
  }
  for (size_t i = 0; i < api->ncreds; i++) {
    const cred_field *f = &api->creds[i];
    json_t *v = json_object_get(cj, f->name);
    if (!v || json_is_null(v)) {
      snprintf(msg, mcap, "missing value for field \"%s\"", f->name);
      return -1;
    }
    if (!json_is_string(v)) {
      snprintf(msg, mcap, "wrong value type for field \"%s\" - should be \"str\"", f->name);
      return -1;
    }
    if (!cred_value_ok(json_string_value(v), json_string_length(v))) {
      snprintf(msg, mcap, "field \"%s\" must be 1..%u bytes without control characters or spaces at either end",
               f->name, CRED_VALUE_MAX);
      return -1;
    }
    const int n = snprintf(text + *len, cap - *len, "%s=%s\n", f->key, json_string_value(v));
    if (n < 0 || (size_t)n >= cap - *len) {
      snprintf(msg, mcap, "credentials too long");
      return -1;
    }
    *len += (size_t)n;
  }
  return 0;
}

/* POST /c/exchanges/api/API {"credential_json": {...}}: sets them, or clears
 * them when credential_json is empty (as HMA: any false value). */
static enum MHD_Result set_creds(vd_server *s, struct MHD_Connection *conn, const hma_api *api, vd_request *r) {
  json_t *doc = load_json(r);
  if (r->body && r->len) sodium_memzero(r->body, r->len); /* the secret's copy in the request */
  json_t *cj = json_object_get(doc, "credential_json");
  char path[PATH_MAX], msg[256] = "";
  unsigned status = 0;
  if (!json_is_object(doc)) {
    status = MHD_HTTP_BAD_REQUEST;
    snprintf(msg, sizeof msg, "this endpoint expects a json object payload");
  } else if (!cj || json_is_null(cj)) {
    /* nothing to change */
  } else if (creds_path(s, api, path, sizeof path) != 0) {
    status = MHD_HTTP_CONFLICT;
    snprintf(msg, sizeof msg, "this vouchd stores no exchange credentials (start it with --exchange-credentials DIR)");
  } else if (falsy(cj)) {
    if (unlink(path) != 0 && errno != ENOENT) {
      status = MHD_HTTP_INTERNAL_SERVER_ERROR;
      snprintf(msg, sizeof msg, "cannot remove the credentials of %s: %s", api->name, strerror(errno));
    }
  } else if (!json_is_object(cj)) {
    status = MHD_HTTP_BAD_REQUEST;
    snprintf(msg, sizeof msg, "Failed to parse `credential_json` - expected an object");
  } else {
    char text[2 * (CRED_VALUE_MAX + 64)], why[200];
    size_t n = 0;
    if (creds_text(api, cj, text, sizeof text, &n, why, sizeof why) != 0) {
      status = MHD_HTTP_BAD_REQUEST;
      snprintf(msg, sizeof msg, "Failed to parse `credential_json` - %s", why);
    } else if (write_secret(s->exchange_creds, api->name, path, text, n) != 0) {
      status = MHD_HTTP_INTERNAL_SERVER_ERROR;
      snprintf(msg, sizeof msg, "cannot store the credentials of %s: %s", api->name, strerror(errno));
    }
    sodium_memzero(text, sizeof text);
  }
  wipe_json(doc);
  json_decref(doc);
  if (status) return vd_send_message(conn, status, "%s", msg);
  return vd_send_json(conn, MHD_HTTP_OK, auth_status(s, api));
}

/* ---- schema: the fields of api_json and credential_json ---- */

static json_t *field(const char *name, const char *type, int required, json_t *dflt, const char *help,
                     json_t *choices) {
  return json_pack("{s:s,s:s,s:b,s:o,s:s,s:o}", "name", name, "type", type, "required", required, "default",
                   dflt ? dflt : json_null(), "help", help, "choices", choices ? choices : json_null());
}

static json_t *schema(const hma_api *api) {
  json_t *cfg = json_array();
  if (api->type == VOUCH_LIST_TE_UPDATES)
    json_array_append_new(cfg, field("privacy_group", "number", 1, NULL,
                                     "ThreatExchange privacy group id; the exchange syncs its /threat_updates", NULL));
  if (api->type == VOUCH_LIST_NCMEC) {
    json_t *ch = json_array();
    for (size_t i = 0; i < NENVS; i++) json_array_append_new(ch, json_string(ncmec_envs[i]));
    json_array_append_new(cfg, field("environment", "enum", 1, NULL, "which NCMEC database (its base URL)", ch));
  }
  json_array_append_new(cfg, field("url", "string", 0, api->url ? json_string(api->url) : NULL,
                                   "vouch's addition: the URL to sync from instead of the one the other fields "
                                   "give; its host must be in vouchd's --fetch-allow",
                                   NULL));
  json_t *creds = json_array();
  for (size_t i = 0; i < api->ncreds; i++)
    json_array_append_new(creds, field(api->creds[i].name, "string", 1, NULL, api->creds[i].help, NULL));
  return json_pack("{s:{s:o},s:{s:o}}", "config_schema", "fields", cfg, "credentials_schema", "fields", creds);
}

/* ---- creating an exchange ---- */

/* api_json into the URL the exchange syncs from; 0, -1 with msg (400), or
 * -2 with msg (501: what vouch cannot do). */
static int config_url(const vd_server *s, const hma_api *api, json_t *aj, char *url, size_t cap, char *msg,
                      size_t mcap) {
  json_t *en = json_object_get(aj, "enabled"), *u = json_object_get(aj, "url");
  if (en && !json_is_boolean(en)) {
    snprintf(msg, mcap, "wrong value type for field \"enabled\" - should be \"bool\"");
    return -1;
  }
  if (api->type == VOUCH_LIST_TE_UPDATES) {
    json_t *pg = json_object_get(aj, "privacy_group");
    if (!pg || json_is_null(pg)) return snprintf(msg, mcap, "missing value for field \"privacy_group\""), -1;
    if (!json_is_integer(pg) || json_integer_value(pg) <= 0)
      return snprintf(msg, mcap, "wrong value type for field \"privacy_group\" - should be a positive \"int\""), -1;
    snprintf(url, cap, "%s/%lld", api->url, (long long)json_integer_value(pg));
  } else if (api->type == VOUCH_LIST_NCMEC) {
    json_t *env = json_object_get(aj, "environment"), *esp = json_object_get(aj, "only_esp_ids");
    if (!env || json_is_null(env)) return snprintf(msg, mcap, "missing value for field \"environment\""), -1;
    if (!ncmec_env_known(json_string_value(env)))
      return snprintf(msg, mcap, "field \"environment\" is not a valid NCMECEnvironment (see the schema's choices)"), -1;
    if (esp && !json_is_null(esp) && !(json_is_array(esp) && json_array_size(esp) == 0)) {
      snprintf(msg, mcap, "only_esp_ids: vouch takes the entries of every member (a filter is not supported)");
      return -2;
    }
    snprintf(url, cap, "%s", json_string_value(env));
  } else {
    snprintf(url, cap, "%s", api->url);
  }
  if (u && !json_is_null(u)) { /* vouch's addition, for an exchange elsewhere (or a test one) */
    char err[256];
    if (!json_is_string(u) || json_string_length(u) >= cap)
      return snprintf(msg, mcap, "wrong value type for field \"url\" - should be \"str\""), -1;
    if (vd_fetch_url_check(s, json_string_value(u), err, sizeof err) != 0)
      return snprintf(msg, mcap, "url: %s", err), -1;
    snprintf(url, cap, "%s", json_string_value(u));
  }
  return 0;
}

static int any_cb(void *ctx, const vouch_exchange_config *c) {
  (void)ctx, (void)c;
  return 0;
}

static enum MHD_Result create(vd_server *s, struct MHD_Connection *conn, vd_request *r) {
  json_t *doc = load_json(r);
  enum MHD_Result ret;
  json_t *bj = json_object_get(doc, "bank"), *aj = json_object_get(doc, "api_json"), *apij = json_object_get(doc, "api");
  const char *bank = json_string_value(bj);
  const hma_api *api = api_by_name(json_string_value(apij));
  char url[2048], msg[512];
  int urc = 0;
  if (!json_is_object(doc)) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "expected a JSON object");
  else if (!bj || json_is_null(bj)) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "bank is required");
  else if (!bank || !vd_hma_exchange_name_ok(bank))
    ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Field `bank` must match /^[A-Z0-9_]+$/");
  else if (aj && !json_is_object(aj)) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Field `api_json` must be object");
  else if (!apij || json_is_null(apij)) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Field `api_type` is required");
  else if (!api)
    ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "No such exchange type '%.100s'",
                          json_is_string(apij) ? json_string_value(apij) : "(not a string)");
  else if ((urc = config_url(s, api, aj, url, sizeof url, msg, sizeof msg)))
    ret = vd_send_message(conn, urc == -2 ? MHD_HTTP_NOT_IMPLEMENTED : MHD_HTTP_BAD_REQUEST,
                          "Failed to parse `api_json` - %s", msg);
  else {
    vouch_bank *db = NULL;
    char cred[PATH_MAX];
    /* api_json "enabled" (HMA's default true): a disabled exchange is kept but not synced */
    const vouch_exchange_config c = {bank, api->type, url, bank, NULL,
                                     api->ncreds && creds_path(s, api, cred, sizeof cred) == 0 ? cred : NULL, 0,
                                     json_is_false(json_object_get(aj, "enabled"))};
    int rc = vouch_bank_open(&db, s->db_path, VOUCH_BANK_OPEN_CREATE);
    if (rc == VOUCH_OK && vouch_exchange_configs(db, bank, any_cb, NULL) == VOUCH_OK)
      ret = vd_send_message(conn, MHD_HTTP_FORBIDDEN, "Exchange already exists");
    else if (rc != VOUCH_OK || (rc = vouch_bank_create(db, bank, VOUCH_ALGO_PDQ)) != VOUCH_OK)
      ret = rc == VOUCH_E_EXISTS ? vd_send_message(conn, MHD_HTTP_FORBIDDEN, "Bank already exists") : db_fail(conn, rc, db);
    else if ((rc = vouch_exchange_config_add(db, &c)) != VOUCH_OK) {
      ret = db_fail(conn, rc, db);
      vouch_bank_remove(db, bank); /* made just now, still empty */
    } else {
      vd_sync_poke(s); /* synced at once with --sync-every */
      ret = vd_send_json(conn, MHD_HTTP_CREATED, json_pack("{s:s}", "message", "Created successfully"));
    }
    vouch_bank_free(db);
  }
  json_decref(doc);
  return ret;
}

/* ---- one exchange ---- */

/* The configured exchange, copied out of vouch_exchange_configs()' callback. */
typedef struct {
  int found, type;
  char name[160], bank[160], source[160];
  json_t *cfg; /* HMA's config of it */
} one_exchange;

/* The URL without user, password, query or fragment (NULL when unparsable). */
static json_t *url_shown(const char *url) {
  CURLU *u = curl_url();
  char *out = NULL;
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK && curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK)
    curl_url_get(u, CURLUPART_URL, &out, 0);
  json_t *j = out ? json_string(out) : json_null();
  curl_free(out);
  curl_url_cleanup(u);
  return j;
}

/* HMA's exchange config (the collaboration config's fields) for a vouch
 * exchange, with vouch's url (shown without secrets), bank and source. */
static json_t *config_json(const vouch_exchange_config *c) {
  json_t *o = json_pack("{s:s,s:s,s:b}", "name", c->name, "api", api_name_of(c->type), "enabled", !c->disabled);
  if (c->type == VOUCH_LIST_TE_UPDATES) { /* .../PRIVACY_GROUP */
    const char *slash = strrchr(c->url, '/');
    char *end = NULL;
    long long pg = slash ? strtoll(slash + 1, &end, 10) : 0;
    json_object_set_new(o, "privacy_group", end && !*end && pg > 0 ? json_integer(pg) : json_null());
  } else if (c->type == VOUCH_LIST_NCMEC) {
    json_object_set_new(o, "environment", ncmec_env_known(c->url) ? json_string(c->url) : json_null());
    json_object_set_new(o, "only_esp_ids", json_array());
  } else if (c->type == VOUCH_EXCHANGE_FILE) {
    json_object_set_new(o, "filename", json_string(c->url));
    json_object_set_new(o, "signal_type", json_null());
  }
  json_object_set_new(o, "url", c->type == VOUCH_EXCHANGE_FILE ? json_string(c->url) : url_shown(c->url));
  json_object_set_new(o, "bank", json_string(c->bank));
  json_object_set_new(o, "source", json_string(c->source ? c->source : vouch_exchange_type_name(c->type)));
  return o;
}

static int one_cb(void *ctx, const vouch_exchange_config *c) {
  one_exchange *x = ctx;
  x->found = 1;
  x->type = c->type;
  snprintf(x->name, sizeof x->name, "%s", c->name);
  snprintf(x->bank, sizeof x->bank, "%s", c->bank);
  snprintf(x->source, sizeof x->source, "%s", c->source ? c->source : vouch_exchange_type_name(c->type));
  x->cfg = config_json(c);
  return 0;
}

static int name_cb(void *ctx, const vouch_exchange_config *c) {
  json_array_append_new((json_t *)ctx, json_string(c->name));
  return 0;
}

typedef struct {
  const char *source;
  size_t n;
} source_count;

static int count_cb(void *ctx, const vouch_bank_entry *e) {
  source_count *k = ctx;
  k->n += e->enabled && e->sources && vd_hma_list_has(e->sources, k->source, strlen(k->source));
  return 0;
}

static json_t *ts_or_null(int known, int64_t t) { return known && t ? json_integer((json_int_t)t) : json_null(); }

/* HMA's FetchStatus: the checkpoint from the bank file, the rest from the
 * sync thread (null until it has run one since vouchd started). */
static enum MHD_Result fetch_status(vd_server *s, struct MHD_Connection *conn, vouch_bank *db, const one_exchange *x) {
  vd_sync_state st;
  const int known = vd_sync_state_of(s, x->name, &st) == 0;
  vouch_list_page pg;
  long long cp = 0;
  const int have_cp = vouch_bank_checkpoint(db, x->bank, x->source, &pg, NULL) == VOUCH_OK &&
                      vd_hma_checkpoint_ts(pg.checkpoint, &cp) == 0;
  source_count k = {x->source, 0};
  const int rc = vouch_bank_entries(db, x->bank, count_cb, &k);
  if (rc != VOUCH_OK && rc != VOUCH_E_NOT_FOUND) return db_fail(conn, rc, db);
  return vd_send_json(
      conn, MHD_HTTP_OK,
      json_pack("{s:o,s:o,s:o,s:o,s:b,s:I}", "checkpoint_ts", have_cp ? json_integer((json_int_t)cp) : json_null(),
                "running_fetch_start_ts", ts_or_null(known && st.running, st.running_since), "last_fetch_complete_ts",
                ts_or_null(known, st.last_end), "last_fetch_succeeded",
                known && st.runs ? json_boolean(st.last_ok) : json_null(), "up_to_date",
                known && st.runs && st.last_ok && !st.running, "fetched_items", (json_int_t)k.n));
}

static enum MHD_Result one(vd_server *s, struct MHD_Connection *conn, const char *name, const char *sub,
                           const char *method, vd_request *r) {
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), put = !strcmp(method, "PUT"),
            del = !strcmp(method, "DELETE");
  if ((*sub && (strcmp(sub, "status") != 0 || !get)) || (!*sub && !get && !put && !del))
    return vd_send_message(conn, *sub && strcmp(sub, "status") != 0 ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED,
                           "no such endpoint: %s /c/exchange/%s/%s", method, name, sub);
  vouch_bank *db = NULL;
  int rc = vouch_bank_open(&db, s->db_path, get ? VOUCH_BANK_OPEN_READONLY : VOUCH_BANK_OPEN_CREATE);
  one_exchange x = {0};
  if (rc == VOUCH_OK) rc = vouch_exchange_configs(db, name, one_cb, &x);
  enum MHD_Result ret;
  json_t *doc = NULL, *en = NULL;
  if (rc != VOUCH_OK && rc != VOUCH_E_NOT_FOUND) {
    ret = db_fail(conn, rc, db);
  } else if (del) {
    /* HMA answers the same for an exchange that was not there; its bank goes
     * with it when it is the exchange's own (the bank HMA made for it) */
    if (x.found && (rc = vouch_exchange_config_remove(db, name)) == VOUCH_OK && !strcmp(x.bank, x.name))
      rc = vouch_bank_remove(db, x.bank);
    if (rc != VOUCH_OK && rc != VOUCH_E_NOT_FOUND) ret = db_fail(conn, rc, db);
    else ret = vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:s}", "message", "Exchange deleted"));
    vd_sync_poke(s);
  } else if (!x.found) {
    ret = vd_send_message(conn, MHD_HTTP_NOT_FOUND, "Exchange '%s' not found", name);
  } else if (*sub) {
    ret = fetch_status(s, conn, db, &x);
  } else if (put && (!json_is_object(doc = load_json(r)) ||
                     ((en = json_object_get(doc, "enabled")) && !json_is_null(en) && !json_is_boolean(en)))) {
    ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "expected a JSON object with \"enabled\": true or false");
  } else if (put && json_is_boolean(en) && (rc = vouch_exchange_config_set_enabled(db, name, json_is_true(en))) != VOUCH_OK) {
    ret = db_fail(conn, rc, db);
  } else if (put && json_is_boolean(en)) {
    /* HMA answers the config as updated; a disabled exchange is skipped by the sync thread from its next look */
    json_object_set_new(x.cfg, "enabled", json_boolean(json_is_true(en)));
    vd_sync_poke(s);
    ret = vd_send_json(conn, MHD_HTTP_OK, json_incref(x.cfg));
  } else {
    ret = vd_send_json(conn, MHD_HTTP_OK, json_incref(x.cfg));
  }
  json_decref(x.cfg);
  json_decref(doc);
  vouch_bank_free(db);
  return ret;
}

/* ---- the router ---- */

int vd_hma_exchange_path(const char *path) {
  return !strcmp(path, "exchanges") || !strncmp(path, "exchanges/", 10) || !strncmp(path, "exchange/", 9);
}

enum MHD_Result vd_route_hma_exchange(vd_server *s, struct MHD_Connection *conn, const char *path, const char *method,
                                      vd_request *r) {
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
  char name[160], sub[16];
  if (!strcmp(path, "exchanges/apis")) {
    if (!get) return vd_send_message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    json_t *arr = json_array();
    for (size_t i = 0; i < NAPIS; i++) json_array_append_new(arr, json_string(apis[i].name));
    return vd_send_json(conn, MHD_HTTP_OK, arr);
  }
  if (vd_hma_split_named(path, "exchanges/api/", name, sizeof name, sub, sizeof sub) == 0) {
    const hma_api *api = api_by_name(name);
    if (*sub && strcmp(sub, "schema") != 0) return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "no such endpoint: /c/%s", path);
    if (*sub && !get) return vd_send_message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    if (*sub)
      return api ? vd_send_json(conn, MHD_HTTP_OK, schema(api))
                 : vd_send_message(conn, MHD_HTTP_NOT_FOUND, "Exchange API '%s' not found", name);
    if (!get && !post) return vd_send_message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    if (!api) return vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "no such Exchange API '%s'", name);
    return post ? set_creds(s, conn, api, r) : vd_send_json(conn, MHD_HTTP_OK, auth_status(s, api));
  }
  if (!strcmp(path, "exchanges")) {
    if (post) return create(s, conn, r);
    if (!get) return vd_send_message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    vouch_bank *db = NULL;
    json_t *arr = json_array();
    int rc = vouch_bank_open(&db, s->db_path, VOUCH_BANK_OPEN_READONLY);
    if (rc == VOUCH_OK) rc = vouch_exchange_configs(db, NULL, name_cb, arr);
    enum MHD_Result ret = rc == VOUCH_OK ? vd_send_json(conn, MHD_HTTP_OK, json_incref(arr)) : db_fail(conn, rc, db);
    json_decref(arr);
    vouch_bank_free(db);
    return ret;
  }
  if (vd_hma_split_named(path, "exchange/", name, sizeof name, sub, sizeof sub) == 0)
    return one(s, conn, name, sub, method, r);
  return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "no such endpoint: %s /c/%s", method, path);
}
