/* programs/httpd/http.c -- request plumbing: bodies, limits, auth, routing,
 * JSON answers with stable error codes, metrics and the access log. */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vouchd.h"
#include "bodies.h"

const char *const vd_route_names[VD_R_COUNT] = {"healthz", "metrics", "hash", "match", "banks",
                                                "index", "vouchers", "accounts", "public", "hma", "review", "review_page",
                                                "other"};
const double vd_lat_bounds[VD_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

double vd_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Every response goes through here: the one place that queues (and, for
 * work done off the libmicrohttpd threads, hands the response back). */
static _Thread_local vd_request *capture;

void vd_capture_begin(vd_request *r) { capture = r; }
void vd_capture_end(void) { capture = NULL; }
vd_request *vd_capture_current(void) { return capture; }

enum MHD_Result vd_queue(struct MHD_Connection *conn, unsigned status, struct MHD_Response *resp) {
  if (!resp) return MHD_NO;
  if (capture) {
    if (capture->resp) MHD_destroy_response(capture->resp); /* the last one wins */
    capture->resp = resp;
    capture->resp_status = status;
    return MHD_YES;
  }
  enum MHD_Result ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* One JSON document, newline-terminated for shell users, with up to one
 * extra header. */
static enum MHD_Result send_json_hdr(struct MHD_Connection *conn, unsigned status, json_t *body,
                                     const char *hname, const char *hvalue) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text) return MHD_NO;
  size_t len = strlen(text);
  char *withnl = realloc(text, len + 2);
  if (!withnl) {
    free(text);
    return MHD_NO;
  }
  withnl[len] = '\n';
  withnl[len + 1] = 0;
  struct MHD_Response *resp = MHD_create_response_from_buffer(len + 1, withnl, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(withnl);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  if (hname) MHD_add_response_header(resp, hname, hvalue);
  return vd_queue(conn, status, resp);
}

enum MHD_Result vd_send_json(struct MHD_Connection *conn, unsigned status, json_t *body) {
  return send_json_hdr(conn, status, body, NULL, NULL);
}

/* An error message, cut to fit and made valid UTF-8. */
#define FORMAT_MSG(msg, fmt)            \
  do {                                  \
    va_list ap_;                        \
    va_start(ap_, fmt);                 \
    vsnprintf(msg, sizeof msg, fmt, ap_); \
    va_end(ap_);                        \
    vd_utf8_scrub(msg);                 \
  } while (0)

enum MHD_Result vd_send_message(struct MHD_Connection *conn, unsigned status, const char *fmt, ...) {
  char msg[512];
  FORMAT_MSG(msg, fmt);
  json_t *o = json_pack("{s:s}", "message", msg);
  if (!o) o = json_pack("{s:s}", "message", "(message not UTF-8)");
  return send_json_hdr(conn, status, o, NULL, NULL);
}

enum MHD_Result vd_send_error(struct MHD_Connection *conn, unsigned status, const char *code,
                              const char *fmt, ...) {
  char msg[512];
  FORMAT_MSG(msg, fmt);
  json_t *body = json_pack("{s:{s:s,s:s%}}", "error", "code", code, "message", msg, strlen(msg));
  if (!body) /* e.g. a message quoting bytes that are not UTF-8 */
    body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", "(message not UTF-8)");
  if (status == MHD_HTTP_UNAUTHORIZED)
    return send_json_hdr(conn, status, body, "WWW-Authenticate", "Bearer realm=\"vouchd\"");
  if (status == MHD_HTTP_TOO_MANY_REQUESTS || !strcmp(code, "busy") || !strcmp(code, "busy_database"))
    return send_json_hdr(conn, status, body, "Retry-After", "1");
  return send_json_hdr(conn, status, body, NULL, NULL);
}

static int route_of(const char *url) {
  if (!strcmp(url, "/healthz")) return VD_R_HEALTH;
  if (!strcmp(url, "/metrics")) return VD_R_METRICS;
  if (!strcmp(url, "/v1/hash")) return VD_R_HASH;
  if (!strcmp(url, "/v1/match")) return VD_R_MATCH;
  if (!strncmp(url, "/v1/banks", 9) || !strncmp(url, "/v1/exchanges", 13)) return VD_R_BANKS; /* same roles */
  if (!strncmp(url, "/v1/index", 9)) return VD_R_INDEX;
  if (!strcmp(url, "/v1/vouchers")) return VD_R_VOUCHERS;
  if (!strncmp(url, "/v1/accounts/", 13)) return VD_R_ACCOUNTS;
  if (!strcmp(url, "/v1/public")) return VD_R_PUBLIC;
  if (vd_hma_route(url)) return VD_R_HMA;
  if (vd_review_route(url) >= 0) return vd_review_route(url);
  return VD_R_OTHER;
}

/* Least role each route needs; VD_ROLE_NONE = public.  HEAD is GET without
 * the body, so it needs what GET needs.  VD_ROLE_DEVICE marks the account
 * routes: the account's own device token, or admin. */
static int role_needed(int route, const char *url, const char *method) {
  if (route == VD_R_HMA) return vd_hma_role(url, method);
  if (route == VD_R_REVIEW || route == VD_R_REVIEW_PAGE) return vd_review_role(url, method);
  const int read = !strcmp(method, "GET") || !strcmp(method, "HEAD");
  switch (route) {
  case VD_R_HEALTH:
  case VD_R_METRICS:
  case VD_R_PUBLIC: return VD_ROLE_NONE;
  case VD_R_HASH:
  case VD_R_MATCH: return VD_ROLE_MATCHER;
  case VD_R_VOUCHERS:
  case VD_R_ACCOUNTS: return VD_ROLE_DEVICE;
  case VD_R_BANKS: return read ? VD_ROLE_READER : VD_ROLE_ADMIN;
  case VD_R_INDEX: return VD_ROLE_ADMIN;
  default: return VD_ROLE_NONE;
  }
}

static int role_allows(int role, int need) {
  if (need == VD_ROLE_REVIEWER || role == VD_ROLE_REVIEWER) return role == need || need == VD_ROLE_NONE;
  if (need == VD_ROLE_DEVICE) return role == VD_ROLE_DEVICE || role == VD_ROLE_ADMIN;
  if (role == VD_ROLE_DEVICE) return need == VD_ROLE_NONE;
  return role >= need;
}

enum MHD_Result vd_dispatch(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                            vd_request *r) {
  const int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
  if (!vd_route_served(s, r->route, url))
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_served", "this replica does not serve %s (see its --roles)", url);
  switch (r->route) {
  case VD_R_HEALTH:
    if (!get) break;
    return vd_send_json(conn, MHD_HTTP_OK,
                        json_pack("{s:s,s:f}", "status", "ok", "uptime_seconds", vd_now() - s->started));
  case VD_R_METRICS:
    if (!get) break;
    return vd_route_metrics(s, conn);
  case VD_R_HASH:
    if (!post) break;
    return vd_route_hash(s, conn, r);
  case VD_R_MATCH:
    if (!post) break;
    return vd_route_match(s, conn, r);
  case VD_R_BANKS:
    if (!strncmp(url, "/v1/exchanges", 13)) return vd_route_exchanges(s, conn, url, method);
    return vd_route_banks(s, conn, url, method, r);
  case VD_R_INDEX:
    return vd_route_index(s, conn, url, method, r);
  case VD_R_VOUCHERS:
    if (!post) break;
    return vd_route_vouchers(s, conn, r);
  case VD_R_ACCOUNTS:
    if (!get) break;
    return vd_route_account(s, conn, url, r);
  case VD_R_PUBLIC:
    if (!get) break;
    return vd_route_public(s, conn);
  case VD_R_HMA:
    return vd_route_hma(s, conn, url, method, r);
  case VD_R_REVIEW:
    return vd_route_review(s, conn, url, method, r);
  case VD_R_REVIEW_PAGE:
    return vd_route_review_page(conn, url, method);
  case VD_R_OTHER:
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint: %s", url);
  default:
    break;
  }
  return vd_send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                       "%s is not allowed on %s", method, url);
}

/* ---- admission: everything decided from the headers, before any body byte is read ---- */

typedef struct {
  unsigned n_cl, n_te;
  int cl_differ;
  const char *cl;
} framing;

static enum MHD_Result arg_not_utf8(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  int *bad = cls;
  (void)kind;
  if (!vd_utf8_valid(key, strlen(key)) || (value && !vd_utf8_valid(value, strlen(value)))) {
    *bad = 1;
    return MHD_NO;
  }
  return MHD_YES;
}

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
  framing *f = cls;
  (void)kind;
  if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
    if (f->cl && strcmp(f->cl, value ? value : "")) f->cl_differ = 1;
    f->cl = value ? value : "";
    f->n_cl++;
  } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
    f->n_te++;
  }
  return MHD_YES;
}

/* Takes `want` bytes from the global body budget; 0 when it would overflow. */
static int budget_take(vd_server *s, vd_request *r, size_t want) {
  size_t cur = atomic_load(&s->buffered);
  do {
    if (want > s->body_budget || cur > s->body_budget - want) return 0;
  } while (!atomic_compare_exchange_weak(&s->buffered, &cur, cur + want));
  r->reserved += want;
  return 1;
}

/* First call: the headers are complete and nothing of the body has been read.
 * A response queued here is sent at once and the body is never read. */
static enum MHD_Result admit(vd_server *s, struct MHD_Connection *conn, const char *url, const char *method,
                             vd_request *r) {
  framing f = {0, 0, 0, NULL};
  MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
  if (f.cl_differ || (f.n_cl && f.n_te) || f.n_te > 1) {
    atomic_fetch_add(&s->metrics.rejected_framing, 1);
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_framing",
                         "conflicting Content-Length / Transfer-Encoding headers");
  }
  int bad_arg = 0;
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, arg_not_utf8, &bad_arg);
  if (!vd_utf8_valid(url, strlen(url)) || bad_arg)
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_utf8", "the path or a query argument is not UTF-8 once "
                         "%%-decoded");
  r->declared = SIZE_MAX;
  if (f.cl) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(f.cl, &end, 10);
    if (errno || end == f.cl || *end || f.cl[0] == '-' || f.cl[0] == '+')
      return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_framing", "malformed Content-Length");
    r->declared = v > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)v;
  }
  const int need = role_needed(r->route, url, method);
  if (!s->auth_required) {
    r->role = VD_ROLE_ADMIN;
  } else if (need > VD_ROLE_NONE) {
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    /* reviewer tokens: their own table, looked up on the review routes only;
     * r->account gets the reviewer's name */
    r->role = auth && need == VD_ROLE_REVIEWER ? vd_review_token_check(s, auth, r->account, &r->tok_bucket)
                                               : VD_ROLE_NONE;
    if (auth && r->role == VD_ROLE_NONE) r->role = vd_token_check(s, auth, r->account, &r->tok_bucket);
    if (r->role == VD_ROLE_NONE) {
      atomic_fetch_add(&s->metrics.rejected_auth, 1);
      return vd_send_error(conn, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                           auth ? "unknown or malformed token" : "a bearer token is required");
    }
    if (!role_allows(r->role, need)) {
      atomic_fetch_add(&s->metrics.rejected_auth, 1);
      if (need == VD_ROLE_DEVICE)
        return vd_send_error(conn, MHD_HTTP_FORBIDDEN, "forbidden",
                             "this endpoint needs the account's device token or an admin token");
      return vd_send_error(conn, MHD_HTTP_FORBIDDEN, "forbidden", "this endpoint needs the %s role",
                           need == VD_ROLE_REVIEWER ? "reviewer" : vd_role_name(need));
    }
  }
  if (r->declared != SIZE_MAX && r->declared > s->max_body) {
    atomic_fetch_add(&s->metrics.rejected_size, 1);
    return vd_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                         "request body over the limit of %zu bytes", s->max_body);
  }
  /* A declared body takes its whole size from the budget now; a chunked one
   * takes it as it grows (see take_body). */
  if (r->declared != SIZE_MAX && r->declared > 0 && !budget_take(s, r, r->declared)) {
    atomic_fetch_add(&s->metrics.rejected_budget, 1);
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                         "the server holds too many request bodies; try again");
  }
  return MHD_YES;
}

/* Appends upload data.  0 = the connection must be closed: a chunked body
 * passed --max-body or the budget (a response cannot be queued while the body
 * is being read, so the connection is dropped instead of reading on). */
static int take_body(vd_server *s, vd_request *r, const char *data, size_t n) {
  if (n > s->max_body || r->len > s->max_body - n) {
    atomic_fetch_add(&s->metrics.rejected_size, 1);
    return 0;
  }
  if (r->len + n + 1 > r->cap) {
    size_t nc = r->cap ? r->cap : 65536;
    while (nc < r->len + n + 1) nc *= 2;
    if (r->declared != SIZE_MAX && nc > r->declared + 1) nc = r->declared + 1;
    if (nc > s->max_body + 1) nc = s->max_body + 1;
    if (nc > r->reserved && !budget_take(s, r, nc - r->reserved)) {
      atomic_fetch_add(&s->metrics.rejected_budget, 1);
      return 0;
    }
    char *nb = realloc(r->body, nc);
    if (!nb) return 0;
    r->body = nb;
    r->cap = nc;
  }
  memcpy(r->body + r->len, data, n);
  r->len += n;
  r->body[r->len] = 0;
  return 1;
}

/* A light job: a small JSON lookup at no more than the default radius (a
 * phone's photo is 8 hashes, ~600 bytes), which the light queue serves first. */
#define VD_LIGHT_BODY 16384
static int is_light(vd_server *s, struct MHD_Connection *conn, const vd_request *r) {
  (void)s;
  if (r->route != VD_R_MATCH || r->len > VD_LIGHT_BODY || r->body[0] != '{') return 0;
  const char *rad = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "radius");
  return !rad || strtoul(rad, NULL, 10) <= vouch_default_radius(VOUCH_ALGO_PDQ);
}

enum MHD_Result vd_handler(void *cls, struct MHD_Connection *conn, const char *url,
                           const char *method, const char *version, const char *upload_data,
                           size_t *upload_data_size, void **con_cls) {
  vd_server *s = cls;
  (void)version;
  vd_request *r = *con_cls;
  if (!r) {
    r = calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    r->start = vd_now();
    r->route = route_of(url);
    *con_cls = r;
    vd_conn_phase(conn, VD_PHASE_BODY);
    return admit(s, conn, url, method, r);
  }
  if (*upload_data_size > 0) {
    if (!take_body(s, r, upload_data, *upload_data_size)) return MHD_NO;
    vd_conn_bytes(conn, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  /* the whole request is here */
  if (r->job_done) { /* back from a worker */
    struct MHD_Response *resp = r->resp;
    r->resp = NULL;
    return resp ? vd_queue(conn, r->resp_status, resp) : MHD_NO;
  }
  if (r->queued) return MHD_YES; /* not resumed yet */
  vd_conn_phase(conn, VD_PHASE_BUSY);
  if (!r->body) { /* routes may read r->body[0] */
    r->body = calloc(1, 1);
    if (!r->body) return MHD_NO;
  }
  if (r->route == VD_R_HEALTH || r->route == VD_R_METRICS || r->route == VD_R_PUBLIC || r->route == VD_R_OTHER ||
      r->route == VD_R_REVIEW_PAGE)
    return vd_dispatch(s, conn, url, method, r); /* cheap: answered here, never queued */
  if (r->route == VD_R_HMA && vd_hma_health(url)) /* HMA's health checks: cheap too */
    return vd_dispatch(s, conn, url, method, r);
  if (vd_jobs_submit(s, conn, url, method, r, is_light(s, conn, r)) != 0) {
    atomic_fetch_add(&s->metrics.rejected_busy, 1);
    return vd_send_error(conn, MHD_HTTP_TOO_MANY_REQUESTS, "busy",
                         "too many requests queued or running (--max-inflight %u, %u per token); try again",
                         s->max_inflight, s->max_inflight_token);
  }
  r->queued = 1;
  return MHD_YES;
}

void vd_request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                     enum MHD_RequestTerminationCode toe) {
  vd_server *s = cls;
  vd_request *r = *con_cls;
  (void)toe;
  if (!r) return;
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
  unsigned status = ci ? ci->http_status : 0;
  double dt = vd_now() - r->start;
  unsigned cls_i = status / 100 < 6 ? status / 100 : 5;
  atomic_fetch_add(&s->metrics.requests[r->route][cls_i], 1);
  int b = 0;
  while (b < VD_LAT_BUCKETS && dt > vd_lat_bounds[b]) b++;
  atomic_fetch_add(&s->metrics.lat_bucket[r->route][b], 1);
  atomic_fetch_add(&s->metrics.lat_sum_us[r->route], (unsigned long)(dt * 1e6));
  if (s->access_log) {
    const union MHD_ConnectionInfo *mi = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    (void)mi;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    fprintf(stderr,
            "{\"ts\":%.3f,\"route\":\"%s\",\"status\":%u,\"ms\":%.3f,\"bytes_in\":%zu,\"role\":\"%s\"}\n",
            (double)wall.tv_sec + (double)wall.tv_nsec * 1e-9, vd_route_names[r->route], status,
            dt * 1000, r->len, r->role == VD_ROLE_REVIEWER ? "reviewer" : vd_role_name(r->role));
  }
  if (r->reserved) atomic_fetch_sub(&s->buffered, r->reserved);
  if (r->resp) MHD_destroy_response(r->resp);
  vd_conn_phase(conn, VD_PHASE_HEADER); /* the next request on this connection */
  const int big = r->cap > (1u << 20);
  free(r->body);
  free(r);
  *con_cls = NULL;
  /* give large freed bodies and parse trees back to the system at once */
  if (big) malloc_trim(0);
}

enum MHD_Result vd_route_metrics(vd_server *s, struct MHD_Connection *conn) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  if (!buf) return MHD_NO;
#define OUT(...)                                                            \
  do {                                                                      \
    int n_ = snprintf(buf + len, cap - len, __VA_ARGS__);                   \
    if (n_ > 0 && (size_t)n_ < cap - len) len += (size_t)n_;                \
  } while (0)
  OUT("# HELP vouchd_requests_total Requests answered, by route and status class.\n");
  OUT("# TYPE vouchd_requests_total counter\n");
  for (int r = 0; r < VD_R_COUNT; r++)
    for (int c = 1; c < 6; c++) {
      unsigned long v = atomic_load(&s->metrics.requests[r][c]);
      if (v) OUT("vouchd_requests_total{route=\"%s\",code=\"%dxx\"} %lu\n", vd_route_names[r], c, v);
    }
  OUT("# HELP vouchd_request_duration_seconds Request latency.\n");
  OUT("# TYPE vouchd_request_duration_seconds histogram\n");
  for (int r = 0; r < VD_R_COUNT; r++) {
    unsigned long cum = 0, total = 0;
    for (int b = 0; b <= VD_LAT_BUCKETS; b++) total += atomic_load(&s->metrics.lat_bucket[r][b]);
    if (!total) continue;
    for (int b = 0; b < VD_LAT_BUCKETS; b++) {
      cum += atomic_load(&s->metrics.lat_bucket[r][b]);
      OUT("vouchd_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n", vd_route_names[r],
          vd_lat_bounds[b], cum);
    }
    OUT("vouchd_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n", vd_route_names[r], total);
    OUT("vouchd_request_duration_seconds_sum{route=\"%s\"} %.6f\n", vd_route_names[r],
        (double)atomic_load(&s->metrics.lat_sum_us[r]) / 1e6);
    OUT("vouchd_request_duration_seconds_count{route=\"%s\"} %lu\n", vd_route_names[r], total);
  }
  OUT("# TYPE vouchd_hashes_total counter\nvouchd_hashes_total %lu\n", atomic_load(&s->metrics.hashes));
  OUT("# TYPE vouchd_matches_total counter\nvouchd_matches_total %lu\n", atomic_load(&s->metrics.matches));
  OUT("# TYPE vouchd_rejected_busy_total counter\nvouchd_rejected_busy_total %lu\n",
      atomic_load(&s->metrics.rejected_busy));
  OUT("# TYPE vouchd_rejected_too_large_total counter\nvouchd_rejected_too_large_total %lu\n",
      atomic_load(&s->metrics.rejected_size));
  OUT("# HELP vouchd_rejected_auth_total Requests refused from their headers (401/403), body unread.\n");
  OUT("# TYPE vouchd_rejected_auth_total counter\nvouchd_rejected_auth_total %lu\n",
      atomic_load(&s->metrics.rejected_auth));
  OUT("# TYPE vouchd_rejected_framing_total counter\nvouchd_rejected_framing_total %lu\n",
      atomic_load(&s->metrics.rejected_framing));
  OUT("# HELP vouchd_rejected_budget_total Requests refused because --body-budget was full.\n");
  OUT("# TYPE vouchd_rejected_budget_total counter\nvouchd_rejected_budget_total %lu\n",
      atomic_load(&s->metrics.rejected_budget));
  OUT("# HELP vouchd_dropped_slow_total Connections closed by the header deadline or the body rate.\n");
  OUT("# TYPE vouchd_dropped_slow_total counter\nvouchd_dropped_slow_total %lu\n",
      atomic_load(&s->metrics.dropped_slow));
  OUT("# TYPE vouchd_truncated_total counter\nvouchd_truncated_total %lu\n", atomic_load(&s->metrics.truncated));
  OUT("# TYPE vouchd_body_bytes_reserved gauge\nvouchd_body_bytes_reserved %zu\n", atomic_load(&s->buffered));
  OUT("# TYPE vouchd_inflight gauge\nvouchd_inflight %u\n", atomic_load(&s->inflight));
  OUT("# TYPE vouchd_connections gauge\nvouchd_connections %u\n", atomic_load(&s->conns));
  OUT("# HELP vouchd_index_entries Entries in the loaded index.\n");
  OUT("# TYPE vouchd_index_entries gauge\nvouchd_index_entries %lu\n", atomic_load(&s->index_entries));
  OUT("# HELP vouchd_index_memory_bytes Heap held by the loaded index (its search tables).\n");
  OUT("# TYPE vouchd_index_memory_bytes gauge\nvouchd_index_memory_bytes %lu\n",
      atomic_load(&s->index_heap_bytes));
  if (len < cap) {
    const int n = vd_index_metrics(s, buf + len, cap - len);
    if (n > 0 && (size_t)n < cap - len) len += (size_t)n;
  }
  OUT("# TYPE vouchd_uptime_seconds gauge\nvouchd_uptime_seconds %.0f\n", vd_now() - s->started);
#undef OUT
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(buf);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
  return vd_queue(conn, MHD_HTTP_OK, resp);
}
