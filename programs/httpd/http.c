/* programs/httpd/http.c -- request plumbing: bodies, limits, auth, routing,
 * JSON answers with stable error codes, metrics and the access log. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vouchd.h"

const char *const vd_route_names[VD_R_COUNT] = {"healthz", "metrics", "hash", "match", "banks",
                                                "index", "vouchers", "accounts", "public", "other"};
const double vd_lat_bounds[VD_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

double vd_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum MHD_Result vd_send_json(struct MHD_Connection *conn, unsigned status, json_t *body) {
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (!text) return MHD_NO;
  size_t len = strlen(text);
  text[len] = 0;
  /* one JSON document per response, newline-terminated for shell users */
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
  enum MHD_Result ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

enum MHD_Result vd_send_error(struct MHD_Connection *conn, unsigned status, const char *code,
                              const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
  if (status == MHD_HTTP_UNAUTHORIZED) {
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) return MHD_NO;
    size_t tl = strlen(text);
    char *t2 = realloc(text, tl + 2);
    if (!t2) {
      free(text);
      return MHD_NO;
    }
    t2[tl] = '\n';
    t2[tl + 1] = 0;
    text = t2;
    struct MHD_Response *resp = MHD_create_response_from_buffer(tl + 1, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"vouchd\"");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
  }
  return vd_send_json(conn, status, body);
}

static int route_of(const char *url) {
  if (!strcmp(url, "/healthz")) return VD_R_HEALTH;
  if (!strcmp(url, "/metrics")) return VD_R_METRICS;
  if (!strcmp(url, "/v1/hash")) return VD_R_HASH;
  if (!strcmp(url, "/v1/match")) return VD_R_MATCH;
  if (!strncmp(url, "/v1/banks", 9)) return VD_R_BANKS;
  if (!strncmp(url, "/v1/index", 9)) return VD_R_INDEX;
  if (!strcmp(url, "/v1/vouchers")) return VD_R_VOUCHERS;
  if (!strncmp(url, "/v1/accounts/", 13)) return VD_R_ACCOUNTS;
  if (!strcmp(url, "/v1/public")) return VD_R_PUBLIC;
  return VD_R_OTHER;
}

/* Least role each route needs; VD_ROLE_NONE = public. */
static int role_needed(int route, const char *method) {
  switch (route) {
  case VD_R_HEALTH:
  case VD_R_METRICS:
  case VD_R_PUBLIC: return VD_ROLE_NONE;
  case VD_R_HASH:
  case VD_R_MATCH:
  case VD_R_VOUCHERS: return VD_ROLE_MATCHER;
  case VD_R_BANKS: return strcmp(method, "GET") ? VD_ROLE_ADMIN : VD_ROLE_READER;
  case VD_R_INDEX: return VD_ROLE_ADMIN;
  case VD_R_ACCOUNTS: return VD_ROLE_READER;
  default: return VD_ROLE_NONE;
  }
}

void vd_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe) {
  vd_server *s = cls;
  (void)conn;
  (void)socket_context;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) atomic_fetch_add(&s->conns, 1);
  else atomic_fetch_sub(&s->conns, 1);
}

static enum MHD_Result dispatch(vd_server *s, struct MHD_Connection *conn, const char *url,
                                const char *method, vd_request *r) {
  const int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
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
    return vd_route_banks(s, conn, url, method, r);
  case VD_R_INDEX:
    return vd_route_index(s, conn, url, method, r);
  case VD_R_VOUCHERS:
    if (!post) break;
    return vd_route_vouchers(s, conn, r);
  case VD_R_ACCOUNTS:
    if (!get) break;
    return vd_route_account(s, conn, url);
  case VD_R_PUBLIC:
    if (!get) break;
    return vd_route_public(s, conn);
  case VD_R_OTHER:
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint: %s", url);
  default:
    break;
  }
  return vd_send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                       "%s is not allowed on %s", method, url);
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
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->max_body) r->too_large = 1;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (!r->too_large) {
      if (r->len + *upload_data_size > s->max_body) {
        r->too_large = 1;
        free(r->body);
        r->body = NULL;
        r->len = r->cap = 0;
      } else {
        if (r->len + *upload_data_size + 1 > r->cap) {
          size_t nc = r->cap ? r->cap : 65536;
          while (nc < r->len + *upload_data_size + 1) nc *= 2;
          if (nc > s->max_body + 1) nc = s->max_body + 1;
          char *nb = realloc(r->body, nc);
          if (!nb) return MHD_NO;
          r->body = nb;
          r->cap = nc;
        }
        memcpy(r->body + r->len, upload_data, *upload_data_size);
        r->len += *upload_data_size;
        r->body[r->len] = 0;
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  /* the whole request is here */
  if (r->too_large) {
    atomic_fetch_add(&s->metrics.rejected_size, 1);
    return vd_send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
                         "request body over the limit of %zu bytes", s->max_body);
  }
  int need = role_needed(r->route, method);
  if (need > VD_ROLE_NONE && s->auth_required) {
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth)
      return vd_send_error(conn, MHD_HTTP_UNAUTHORIZED, "unauthorized", "a bearer token is required");
    r->role = vd_token_check(s, auth);
    if (r->role == VD_ROLE_NONE)
      return vd_send_error(conn, MHD_HTTP_UNAUTHORIZED, "unauthorized", "unknown or malformed token");
    if (r->role < need)
      return vd_send_error(conn, MHD_HTTP_FORBIDDEN, "forbidden", "this endpoint needs the %s role",
                           vd_role_name(need));
  } else if (!s->auth_required) {
    r->role = VD_ROLE_ADMIN;
  }
  return dispatch(s, conn, url, method, r);
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
            dt * 1000, r->len, vd_role_name(r->role));
  }
  free(r->body);
  free(r);
  *con_cls = NULL;
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
  OUT("# TYPE vouchd_connections gauge\nvouchd_connections %u\n", atomic_load(&s->conns));
  OUT("# HELP vouchd_index_entries Entries in the loaded index.\n");
  OUT("# TYPE vouchd_index_entries gauge\nvouchd_index_entries %lu\n", atomic_load(&s->index_entries));
  OUT("# HELP vouchd_index_memory_bytes Heap held by the loaded index (its search tables).\n");
  OUT("# TYPE vouchd_index_memory_bytes gauge\nvouchd_index_memory_bytes %lu\n",
      atomic_load(&s->index_heap_bytes));
  OUT("# TYPE vouchd_uptime_seconds gauge\nvouchd_uptime_seconds %.0f\n", vd_now() - s->started);
#undef OUT
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(buf);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
  enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return ret;
}
