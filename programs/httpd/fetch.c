/* programs/httpd/fetch.c -- fetching media for HMA's ?url= parameters.
 *
 * Off unless --fetch-allow names hosts.  The URL is parsed once, by
 * libcurl's URL API; its scheme must be http or https and its host one of
 * the allowed names (compared without case), and the same parsed handle is
 * what libcurl then fetches, so the checked host is the fetched host.  No
 * redirects are followed, no proxy from the environment is used, the body is
 * cut at --max-body and the whole fetch at --fetch-timeout. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "vouchd.h"

int vd_fetch_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1; }
void vd_fetch_cleanup(void) { curl_global_cleanup(); }

/* Is `host` in the comma-separated list? */
static int host_allowed(const char *list, const char *host) {
  const size_t hl = strlen(host);
  for (const char *p = list; p && *p;) {
    size_t n = strcspn(p, ",");
    if (n == hl && !strncasecmp(p, host, n)) return 1;
    p += n;
    if (*p == ',') p++;
  }
  return 0;
}

int vd_buf_append(char **data, size_t *len, size_t *cap, size_t limit, const char *p, size_t n) {
  if (n > limit - *len) return -1;
  if (*len + n > *cap) {
    size_t nc = *cap ? *cap : 65536;
    while (nc < *len + n) nc *= 2;
    if (nc > limit) nc = limit;
    char *nd = realloc(*data, nc);
    if (!nd) return -2;
    *data = nd;
    *cap = nc;
  }
  memcpy(*data + *len, p, n);
  *len += n;
  return 0;
}

typedef struct {
  vd_fetched *out;
  size_t limit;
  int too_big, oom;
} sink;

static size_t sink_write(char *data, size_t size, size_t nmemb, void *cls) {
  sink *k = cls;
  const size_t n = size * nmemb;
  vd_fetched *f = k->out;
  const int rc = vd_buf_append(&f->data, &f->len, &f->cap, k->limit, data, n);
  if (rc == -1) k->too_big = 1;
  if (rc == -2) k->oom = 1;
  return rc ? 0 : n; /* 0 aborts the transfer */
}

/* Parses url into u and checks it (http or https, a --fetch-allow host); 0
 * or an HTTP status with err set. */
static unsigned check_url(const vd_server *s, CURLU *u, const char *url, char *err, size_t errcap) {
  if (!s->fetch_allow || !*s->fetch_allow) {
    snprintf(err, errcap, "url fetching is off in this vouchd (start it with --fetch-allow HOSTS)");
    return MHD_HTTP_FORBIDDEN;
  }
  char *scheme = NULL, *host = NULL;
  unsigned status = 0;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    snprintf(err, errcap, "url is not a valid absolute URL");
    status = MHD_HTTP_BAD_REQUEST;
  } else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
    snprintf(err, errcap, "only http and https urls are fetched");
    status = MHD_HTTP_BAD_REQUEST;
  } else if (!host_allowed(s->fetch_allow, host)) {
    snprintf(err, errcap, "host '%s' is not in --fetch-allow", host);
    status = MHD_HTTP_FORBIDDEN;
  }
  curl_free(scheme);
  curl_free(host);
  return status;
}

unsigned vd_fetch_url_check(const vd_server *s, const char *url, char *err, size_t errcap) {
  CURLU *u = curl_url();
  if (!u) {
    snprintf(err, errcap, "out of memory");
    return MHD_HTTP_SERVICE_UNAVAILABLE;
  }
  unsigned status = check_url(s, u, url, err, errcap);
  char *user = NULL;
  if (!status && curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
    snprintf(err, errcap, "url must not hold a user name or password (they belong in the credentials)");
    status = MHD_HTTP_BAD_REQUEST;
  }
  curl_free(user);
  curl_url_cleanup(u);
  return status;
}

unsigned vd_fetch(const vd_server *s, const char *url, vd_fetched *out, char *err, size_t errcap) {
  memset(out, 0, sizeof *out);
  CURLU *u = curl_url();
  if (!u) {
    snprintf(err, errcap, "out of memory");
    return MHD_HTTP_SERVICE_UNAVAILABLE;
  }
  unsigned status = check_url(s, u, url, err, errcap);
  if (status) {
    curl_url_cleanup(u);
    return status;
  }
  CURL *c = curl_easy_init();
  if (!c) {
    curl_url_cleanup(u);
    snprintf(err, errcap, "out of memory");
    return MHD_HTTP_SERVICE_UNAVAILABLE;
  }
  sink k = {out, s->max_body, 0, 0};
  char cerr[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_CURLU, u);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, ""); /* not from the environment */
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(s->fetch_timeout * 1000));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "vouchd");
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (k.oom) {
    snprintf(err, errcap, "out of memory");
    status = MHD_HTTP_SERVICE_UNAVAILABLE;
  } else if (k.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
    snprintf(err, errcap, "the fetched content is over --max-body (%zu bytes)", s->max_body);
    status = MHD_HTTP_CONTENT_TOO_LARGE;
  } else if (rc != CURLE_OK) {
    snprintf(err, errcap, "fetch failed: %s", *cerr ? cerr : curl_easy_strerror(rc));
    status = MHD_HTTP_BAD_GATEWAY;
  } else if (code < 200 || code > 299) {
    snprintf(err, errcap, "the url answered HTTP %ld", code);
    status = MHD_HTTP_BAD_GATEWAY;
  } else {
    const char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(out->content_type, sizeof out->content_type, "%s", ct ? ct : "");
  }
  curl_easy_cleanup(c);
  curl_url_cleanup(u);
  if (status) {
    free(out->data);
    memset(out, 0, sizeof *out);
  }
  return status;
}
