/* programs/httpd/routes_hma_types.c -- HMA 2.x's signal type settings, and
 * the cached reads of the bank database the HMA routes make often
 * (docs/hma.md):
 *
 *   GET  /c/signal_type                 [{"name", "enabled_ratio"}, ...] for pdq, vpdq, video_md5
 *   PUT  /c/signal_type/NAME            {"enabled_ratio": R}, 0.0..1.0: 204
 *
 * The ratio is stored in the bank database (vouch_bank_signal_type_set()).
 * A type whose ratio is 0.0 is off, as HMA's SignalTypeConfig describes it
 * ("not used in hashing/matching"): hashing (/h/hash, lookups of media,
 * content uploads: hash_media() in routes_hma.c) leaves it out, and GET /m/raw_lookup, GET /m/lookup?signal_type and
 * POST /m/compare of it answer HMA's 400 "SignalType 'X' is not enabled"
 * (vd_hma_types_gate(), vd_hma_type_on()).  Any other ratio leaves it on.
 *
 * Lookups ask whether a type is on, so its setting is cached: read again
 * when one second has passed and the database's data version
 * (vouch_bank_data_version()) has changed since, by one thread while the
 * others use the values they have, and at the next lookup after a PUT here.
 * Another replica's PUT is seen within a second.  GET /c/signal_type and
 * the entry counts of GET /c/signal_type/index (vd_hma_db_counts()) are
 * exact: they compare the data version on every request, and count again
 * only when it changed.  Each cache keeps its own read-only handle (the
 * counting one may take a while at 10M entries; lookups never wait for it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vouchd.h"
#include "vouch/bank_config.h"

/* HMA's signal types that vouchd serves, in HMA's order. */
static const char *const type_names[] = {"pdq", "vpdq", "video_md5"};
#define NTYPES (sizeof type_names / sizeof type_names[0])
#define RATIO_TTL_S 1.0

typedef struct {
  pthread_mutex_t mu;
  vouch_bank *h;    /* read-only, opened on first use (the database may not exist yet) */
  int64_t version;  /* its data version when the cached values were read */
  int valid;
} cached_db;

struct vd_hma_types {
  cached_db ratios, counts; /* ratios.mu: held by the one thread reading the ratios again */
  pthread_mutex_t val_mu;   /* the values lookups read (short holds only) */
  int have;                 /* ratio[] was read */
  double ratio[VOUCH_BANK_ALGO_SLOTS]; /* by algorithm */
  double checked_at;                   /* vd_now() of the last look at the version */
  uint64_t count[VOUCH_BANK_ALGO_SLOTS];
};

int vd_hma_types_start(vd_server *s) {
  vd_hma_types *t = calloc(1, sizeof *t);
  if (!t) return -1;
  pthread_mutex_init(&t->ratios.mu, NULL);
  pthread_mutex_init(&t->counts.mu, NULL);
  pthread_mutex_init(&t->val_mu, NULL);
  s->hma_types = t;
  return 0;
}

void vd_hma_types_stop(vd_server *s) {
  vd_hma_types *t = s->hma_types;
  if (!t) return;
  vouch_bank_free(t->ratios.h);
  vouch_bank_free(t->counts.h);
  pthread_mutex_destroy(&t->ratios.mu);
  pthread_mutex_destroy(&t->counts.mu);
  pthread_mutex_destroy(&t->val_mu);
  free(t);
  s->hma_types = NULL;
}

/* With c->mu held: *fresh 1 when the cached values still hold.  The version
 * is read before the values, so values read after it are at least as new. */
static int look(vd_server *s, cached_db *c, int *fresh) {
  *fresh = 0;
  if (!c->h) {
    vouch_bank *h = NULL;
    const int rc = vouch_bank_open(&h, s->db_path, VOUCH_BANK_OPEN_READONLY);
    if (rc != VOUCH_OK) {
      vouch_bank_free(h);
      return rc;
    }
    c->h = h;
  }
  int64_t v;
  const int rc = vouch_bank_data_version(c->h, &v);
  if (rc != VOUCH_OK) { /* a broken connection or a replaced file: open again next time */
    vouch_bank_free(c->h);
    c->h = NULL;
    c->valid = 0;
    return rc;
  }
  *fresh = c->valid && v == c->version;
  c->version = v;
  return VOUCH_OK;
}

/* With t->ratios.mu held: reads every type's ratio again if it may have
 * changed, and publishes them under val_mu. */
static int load_ratios(vd_server *s, vd_hma_types *t) {
  int fresh;
  int rc = look(s, &t->ratios, &fresh);
  pthread_mutex_lock(&t->val_mu);
  t->checked_at = vd_now();
  pthread_mutex_unlock(&t->val_mu);
  if (rc != VOUCH_OK || fresh) return rc;
  double r[VOUCH_BANK_ALGO_SLOTS];
  for (size_t a = 0; a < VOUCH_BANK_ALGO_SLOTS; a++) r[a] = 1.0;
  for (size_t i = 0; i < NTYPES && rc == VOUCH_OK; i++) {
    const int algo = vouch_signal_type_algo(type_names[i], strlen(type_names[i]));
    rc = vouch_bank_signal_type_get(t->ratios.h, algo, &r[algo], NULL);
  }
  if (rc != VOUCH_OK) {
    t->ratios.valid = 0; /* its version was taken: read again next time */
    return rc;
  }
  t->ratios.valid = 1;
  pthread_mutex_lock(&t->val_mu);
  memcpy(t->ratio, r, sizeof r);
  t->have = 1;
  pthread_mutex_unlock(&t->val_mu);
  return VOUCH_OK;
}

static double cached_ratio(vd_hma_types *t, int algo, int *stale) {
  pthread_mutex_lock(&t->val_mu);
  const double r = t->have ? t->ratio[algo] : 1.0;
  if (stale) *stale = !t->have || vd_now() - t->checked_at >= RATIO_TTL_S;
  pthread_mutex_unlock(&t->val_mu);
  return r;
}

/* The ratio of algorithm `algo`: 1.0 while the database cannot be read (no
 * bank yet, say), as for a type never set.  `exact`: looks at the database
 * now; else once the values are a second old, by one thread while the
 * others go on with the values they have (a lookup never waits for it). */
static double ratio_of(vd_server *s, int algo, int exact) {
  vd_hma_types *t = s->hma_types;
  if (!t || algo <= 0 || (unsigned)algo >= VOUCH_BANK_ALGO_SLOTS) return 1.0;
  int stale;
  const double r = cached_ratio(t, algo, &stale);
  if (!exact && !stale) return r;
  if (exact) pthread_mutex_lock(&t->ratios.mu);
  else if (pthread_mutex_trylock(&t->ratios.mu) != 0) return r; /* another thread is reading them */
  load_ratios(s, t);
  pthread_mutex_unlock(&t->ratios.mu);
  return cached_ratio(t, algo, NULL);
}

int vd_hma_type_on(vd_server *s, int algo) { return vouch_bank_signal_type_on(ratio_of(s, algo, 0)); }

int vd_hma_db_counts(vd_server *s, uint64_t counts[VOUCH_BANK_ALGO_SLOTS]) {
  vd_hma_types *t = s->hma_types;
  if (!t) return VOUCH_E_INVALID;
  pthread_mutex_lock(&t->counts.mu); /* one count at a time; the others wait for its answer */
  int fresh;
  int rc = look(s, &t->counts, &fresh);
  if (rc == VOUCH_OK && !fresh) {
    t->counts.valid = 0;
    rc = vouch_bank_enabled_counts(t->counts.h, t->count);
    t->counts.valid = rc == VOUCH_OK;
  }
  if (rc == VOUCH_OK) memcpy(counts, t->count, sizeof t->count);
  pthread_mutex_unlock(&t->counts.mu);
  return rc;
}

static int type_algo(const char *name) {
  for (size_t i = 0; name && i < NTYPES; i++)
    if (!strcmp(type_names[i], name)) return vouch_signal_type_algo(name, strlen(name));
  return -1;
}

/* ---- the gate: lookups and comparisons of a type that is off ---- */

static const char *qarg(struct MHD_Connection *conn, const char *k) {
  return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, k);
}

static int refuse_off(vd_server *s, struct MHD_Connection *conn, const char *name, enum MHD_Result *ret) {
  const int algo = type_algo(name);
  if (algo <= 0 || vd_hma_type_on(s, algo)) return 0;
  *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "SignalType '%s' is not enabled", name);
  return 1;
}

int vd_hma_types_gate(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                      const vd_request *r, enum MHD_Result *ret) {
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
  if (get && (!strcmp(url, "/m/raw_lookup") || !strcmp(url, "/m/lookup")) && qarg(conn, "signal") &&
      !(qarg(conn, "url") && *qarg(conn, "url")))
    return refuse_off(s, conn, qarg(conn, "signal_type"), ret);
  if (!strcmp(method, "POST") && !strcmp(url, "/m/compare") && r->len) {
    json_error_t jerr;
    json_t *doc = json_loadb(r->body, r->len, 0, &jerr);
    const char *k;
    json_t *v;
    int refused = 0;
    if (json_is_object(doc)) json_object_foreach(doc, k, v) {
        if ((refused = refuse_off(s, conn, k, ret))) break;
      }
    json_decref(doc);
    return refused;
  }
  return 0;
}

/* ---- the routes ---- */

/* HMA reads enabled_ratio with Python's float(): a number, a boolean or the
 * text of a number.  -1 with the answer sent when it is none of them. */
static int ratio_from(struct MHD_Connection *conn, json_t *v, double *out, enum MHD_Result *ret) {
  if (json_is_number(v)) *out = json_number_value(v);
  else if (json_is_boolean(v)) *out = json_is_true(v) ? 1.0 : 0.0;
  else if (json_is_string(v)) {
    const char *t = json_string_value(v);
    char *end;
    errno = 0;
    *out = strtod(t, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
    if (end == t || *end || errno == ERANGE) {
      *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Invalid float: '%.100s'", t);
      return -1;
    }
  } else {
    *ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "Invalid float: enabled_ratio is not a number");
    return -1;
  }
  return 0;
}

static enum MHD_Result put_type(vd_server *s, struct MHD_Connection *conn, const char *name, const vd_request *r) {
  json_error_t jerr;
  json_t *doc = r->len ? json_loadb(r->body, r->len, 0, &jerr) : NULL;
  json_t *v = json_is_object(doc) ? json_object_get(doc, "enabled_ratio") : NULL;
  enum MHD_Result ret;
  double ratio = 0;
  const int algo = type_algo(name);
  if (!json_is_object(doc)) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "expected a JSON object");
  else if (!v || json_is_null(v)) ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST, "enabled_ratio is required");
  else if (ratio_from(conn, v, &ratio, &ret) != 0) {
  } else if (algo <= 0) ret = vd_send_message(conn, MHD_HTTP_NOT_FOUND, "Unknown signal type %s", name);
  else if (!(ratio >= 0.0 && ratio <= 1.0))
    ret = vd_send_message(conn, MHD_HTTP_BAD_REQUEST,
                          "Invalid enabled ratio %g. Must be in the range 0.0-1.0 inclusive.", ratio);
  else {
    vouch_bank *db = NULL;
    int rc = vouch_bank_open(&db, s->db_path, VOUCH_BANK_OPEN_CREATE);
    if (rc == VOUCH_OK) rc = vouch_bank_signal_type_set(db, algo, ratio);
    if (rc == VOUCH_OK) {
      vd_hma_types *t = s->hma_types;
      if (t) { /* read again by this vouchd's next lookup (after a read in progress) */
        pthread_mutex_lock(&t->ratios.mu);
        t->ratios.valid = 0;
        pthread_mutex_unlock(&t->ratios.mu);
        pthread_mutex_lock(&t->val_mu);
        t->checked_at = 0;
        pthread_mutex_unlock(&t->val_mu);
      }
      /* HMA answers 204 (its JSON body is dropped with the status) */
      struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
      ret = vd_queue(conn, MHD_HTTP_NO_CONTENT, resp);
    } else if (rc == VOUCH_E_DB_BUSY) {
      ret = vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy_database", "the database is locked: %s",
                          vouch_bank_errmsg(db));
    } else {
      ret = vd_send_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s: %s", vouch_strerror(rc), vouch_bank_errmsg(db));
    }
    vouch_bank_free(db);
  }
  json_decref(doc);
  return ret;
}

int vd_hma_types_path(const char *path) {
  return !strcmp(path, "signal_type") || (!strncmp(path, "signal_type/", 12) && strcmp(path, "signal_type/index") != 0);
}

enum MHD_Result vd_route_hma_types(vd_server *s, struct MHD_Connection *conn, const char *path, const char *method,
                                   vd_request *r) {
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), put = !strcmp(method, "PUT");
  if (!strcmp(path, "signal_type")) {
    if (!get) return vd_send_message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    json_t *arr = json_array();
    for (size_t i = 0; i < NTYPES; i++) {
      const double ratio = ratio_of(s, type_algo(type_names[i]), i == 0); /* exact: looked at once per request */
      json_array_append_new(arr, json_pack("{s:s,s:f}", "name", type_names[i], "enabled_ratio", ratio));
    }
    return vd_send_json(conn, MHD_HTTP_OK, arr);
  }
  const char *name = path + 12;
  if (!*name || strchr(name, '/')) return vd_send_message(conn, MHD_HTTP_NOT_FOUND, "no such endpoint: /c/%s", path);
  if (!put) return vd_send_message(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
  return put_type(s, conn, name, r);
}
