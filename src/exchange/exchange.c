/* src/exchange/exchange.c -- vouch_exchange_sync(): an exchange's pages over
 * libcurl into a bank, one vouch_bank_import() transaction per page (see
 * vouch/exchange.h and docs/exchanges.md).  Nothing here prints, reads the
 * environment, or keeps a secret beyond the curl handle of one sync. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include "exchange_internal.h"

#define URL_MAX 4096U

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;
static void curl_init(void) { curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

typedef struct body {
  char *p;
  size_t len, cap;
  int over;
} body;

static size_t on_data(char *ptr, size_t size, size_t n, void *ud) {
  body *b = ud;
  size_t add = size * n;
  if (add > VOUCH_EXCHANGE_PAGE_MAX - b->len) {
    b->over = 1;
    return 0;
  }
  if (b->len + add + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 1 << 16;
    while (nc < b->len + add + 1) nc *= 2;
    char *np = vouch__realloc(b->p, nc);
    if (!np) return 0;
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, ptr, add);
  b->len += add;
  b->p[b->len] = 0;
  return add;
}

typedef struct sync_ctx {
  const vouch_exchange_opts *o;
  vouch_exchange_stats *st;
  CURL *c;
  struct curl_slist *hdrs;
  char base[URL_MAX];     /* o->url without a trailing '/' */
  char origin[URL_MAX];   /* scheme://host[:port] of base */
  char start[VOUCH_LIST_CHECKPOINT_MAX]; /* StopNCII: startTimestamp of this pass */
  unsigned page;          /* the page being fetched (1-based) */
  char last_err[256];     /* the last message the parser gave */
} sync_ctx;

static int failf(sync_ctx *x, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(sync_ctx *x, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->st->errmsg, sizeof x->st->errmsg, fmt, ap);
  va_end(ap);
  return rc;
}

/* Records' errors go to the caller with the page's number in front. */
static int on_error(void *vctx, size_t line, const char *msg) {
  sync_ctx *x = vctx;
  snprintf(x->last_err, sizeof x->last_err, "%s", msg);
  if (!x->o->error)
    return 0;
  char m[400];
  snprintf(m, sizeof m, "page %u: %s", x->page, msg);
  return x->o->error(x->o->error_ctx, line, m);
}

/* appends an escaped query value */
static int add_escaped(sync_ctx *x, char *out, size_t cap, const char *v) {
  char *e = curl_easy_escape(x->c, v, 0);
  if (!e) return VOUCH_E_NOMEM;
  size_t l = strlen(out), el = strlen(e);
  int rc = l + el < cap ? VOUCH_OK : VOUCH_E_LIMIT;
  if (rc == VOUCH_OK) memcpy(out + l, e, el + 1);
  curl_free(e);
  return rc;
}

static int stopncii_url(sync_ctx *x, const char *token, char *out, size_t cap) {
  unsigned ps = x->o->page_size ? x->o->page_size : 800;
  int n = snprintf(out, cap, "%s/FetchHashes?pageSize=%u&startTimestamp=", x->base, ps);
  if (n < 0 || (size_t)n >= cap) return VOUCH_E_LIMIT;
  VOUCH_TRY(add_escaped(x, out, cap, x->start));
  if (token && *token) {
    size_t l = strlen(out);
    if (l + 16 >= cap) return VOUCH_E_LIMIT;
    memcpy(out + l, "&nextPageToken=", 16);
    VOUCH_TRY(add_escaped(x, out, cap, token));
  }
  return VOUCH_OK;
}

/* The URL of a page's successor: NCMEC and TAT name it (a path, or a URL that
 * must be on the exchange's origin, since our credentials go with it). */
static int next_url(sync_ctx *x, const char *next, char *out, size_t cap) {
  if (x->o->type == VOUCH_LIST_STOPNCII)
    return stopncii_url(x, next, out, cap);
  int n;
  if (next[0] == '/') {
    n = snprintf(out, cap, "%s%s", x->origin, next);
  } else {
    size_t ol = strlen(x->origin);
    if (strncmp(next, x->origin, ol) != 0 || (next[ol] != '/' && next[ol] != '?' && next[ol] != 0))
      return failf(x, VOUCH_E_IO, "page %u names a next page on another host (%.200s): not followed",
                   x->page - 1, next);
    n = snprintf(out, cap, "%s", next);
  }
  return n > 0 && (size_t)n < cap ? VOUCH_OK : VOUCH_E_LIMIT;
}

static int first_url(sync_ctx *x, const vouch_list_page *cp, char *out, size_t cap) {
  if (cp->next[0]) /* an interrupted pass: go on where it stopped */
    return next_url(x, cp->next, out, cap);
  out[0] = 0;
  switch (x->o->type) {
  case VOUCH_LIST_NCMEC:
    if (snprintf(out, cap, "%s/v2/entries?from=", x->base) >= (int)cap) return VOUCH_E_LIMIT;
    return add_escaped(x, out, cap, cp->checkpoint[0] ? cp->checkpoint : "1970-01-01T00:00:00Z");
  case VOUCH_LIST_STOPNCII:
    return stopncii_url(x, NULL, out, cap);
  case VOUCH_LIST_TE_UPDATES: {
    /* GET URL/threat_updates/?start_time=CHECKPOINT&limit=N&fields=...: the
     * fields python-threatexchange asks for, which te_record() reads */
    unsigned ps = x->o->page_size ? x->o->page_size : 500;
    int n = snprintf(out, cap, "%s/threat_updates/?limit=%u&start_time=", x->base, ps);
    if (n < 0 || (size_t)n >= cap) return VOUCH_E_LIMIT;
    VOUCH_TRY(add_escaped(x, out, cap, cp->checkpoint[0] ? cp->checkpoint : "0"));
    size_t l = strlen(out);
    if (l + 8 >= cap) return VOUCH_E_LIMIT;
    memcpy(out + l, "&fields=", 9);
    return add_escaped(x, out, cap, "id,indicator,type,last_updated,should_delete,descriptors{id,tags,status,added_on}");
  }
  default:
    if (snprintf(out, cap, "%s%s", x->base, !cp->checkpoint[0] ? "" : strchr(x->base, '?') ? "&after=" : "?after=") >=
        (int)cap)
      return VOUCH_E_LIMIT;
    if (!cp->checkpoint[0]) return VOUCH_OK;
    return add_escaped(x, out, cap, cp->checkpoint);
  }
}

static int cancelled(const sync_ctx *x) { return x->o->cancel && x->o->cancel(x->o->cancel_ctx); }

/* libcurl's progress callback: non-zero aborts the transfer */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
  (void)dt, (void)dn, (void)ut, (void)un;
  return cancelled(ud);
}

/* Sleeps ms, in slices of 100 ms so that a cancel is seen; 1 if cancelled. */
static int nap(const sync_ctx *x, unsigned ms) {
  while (ms > 0) {
    if (cancelled(x))
      return 1;
    unsigned step = ms > 100 ? 100 : ms;
    struct timespec ts = {0, (long)step * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    ms -= step;
  }
  return cancelled(x);
}

/* GETs url into b (POSTs `form` when not NULL: the TAT login), retrying
 * 429, 5xx and transport errors.  Messages name the page, or the login. */
static int fetch_as(sync_ctx *x, const char *url, const char *form, body *b) {
  unsigned delay = x->o->retry_delay_ms;
  char what[32];
  if (form)
    snprintf(what, sizeof what, "the login");
  else
    snprintf(what, sizeof what, "page %u", x->page);
  for (unsigned attempt = 0;; attempt++) {
    if (cancelled(x))
      return failf(x, VOUCH_E_IO, "%s (%s): cancelled", what, url);
    b->len = 0;
    b->over = 0;
    curl_easy_setopt(x->c, CURLOPT_URL, url);
    if (form)
      curl_easy_setopt(x->c, CURLOPT_POSTFIELDS, form);
    else
      curl_easy_setopt(x->c, CURLOPT_HTTPGET, 1L);
    CURLcode cc = curl_easy_perform(x->c);
    x->st->requests++;
    long code = 0;
    curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
    if (b->over)
      return failf(x, VOUCH_E_LIMIT, "%s (%s): larger than %u bytes", what, url, VOUCH_EXCHANGE_PAGE_MAX);
    if (cc == CURLE_ABORTED_BY_CALLBACK)
      return failf(x, VOUCH_E_IO, "%s (%s): cancelled", what, url);
    if (cc == CURLE_WRITE_ERROR)
      return failf(x, VOUCH_E_NOMEM, "%s (%s): out of memory", what, url);
    if (cc == CURLE_OK && code >= 200 && code < 300)
      return VOUCH_OK;
    int retry = cc != CURLE_OK || code == 429 || code >= 500;
    if (!retry || attempt >= x->o->retries) {
      if (cc != CURLE_OK)
        return failf(x, VOUCH_E_IO, "%s (%s): %s (%u tr%s)", what, url, curl_easy_strerror(cc),
                     attempt + 1, attempt ? "ies" : "y");
      return failf(x, VOUCH_E_IO, "%s (%s): HTTP %ld (%u tr%s)", what, url, code, attempt + 1,
                   attempt ? "ies" : "y");
    }
    if (nap(x, delay))
      return failf(x, VOUCH_E_IO, "%s (%s): cancelled", what, url);
    delay = delay ? (delay > 30000 ? 60000 : delay * 2) : 0;
  }
}

static int fetch(sync_ctx *x, const char *url, body *b) { return fetch_as(x, url, NULL, b); }

/* Tech Against Terrorism: exchanges the login for a bearer token (POST
 * ORIGIN/token-auth/tcap/ with username and password, answered with
 * {"token": T}) and adds it to the request headers.  The form and the token
 * are wiped; curl keeps its copy of the header until the sync ends (then
 * wiped in wipe_headers()). */
static int tat_login(sync_ctx *x, body *b) {
  const vouch_exchange_opts *o = x->o;
  char url[URL_MAX];
  int n = snprintf(url, sizeof url, "%s/token-auth/tcap/", x->origin);
  if (n < 0 || (size_t)n >= sizeof url)
    return failf(x, VOUCH_E_LIMIT, "the login URL is too long");
  char *u = curl_easy_escape(x->c, o->login_user, 0), *p = curl_easy_escape(x->c, o->login_password, 0);
  size_t fl = (u ? strlen(u) : 0) + (p ? strlen(p) : 0) + 48;
  char *form = u && p ? vouch__malloc(fl) : NULL;
  int rc = VOUCH_OK;
  if (!form)
    rc = failf(x, VOUCH_E_NOMEM, "out of memory");
  else
    snprintf(form, fl, "username=%s&password=%s&resend=false", u, p);
  if (p)
    sodium_memzero(p, strlen(p));
  curl_free(u);
  curl_free(p);
  if (rc == VOUCH_OK)
    rc = fetch_as(x, url, form, b);
  if (form) {
    sodium_memzero(form, fl);
    vouch__free(form);
  }
  if (rc != VOUCH_OK)
    return rc;
  json_t *doc = json_loadb(b->p ? b->p : "", b->len, 0, NULL);
  json_t *tok = json_object_get(doc, "token");
  const char *t = json_string_value(tok);
  if (!t || !*t || strlen(t) > 8192 || strpbrk(t, "\r\n")) {
    json_decref(doc);
    return failf(x, VOUCH_E_IO, "the login (%s) answered no token", url);
  }
  size_t hl = strlen(t) + 32;
  char *h = vouch__malloc(hl);
  if (h)
    snprintf(h, hl, "Authorization: Bearer %s", t);

  json_decref(doc);
  if (b->p)
    sodium_memzero(b->p, b->len);
  struct curl_slist *nl = h ? curl_slist_append(x->hdrs, h) : NULL;
  if (h) {
    sodium_memzero(h, hl);
    vouch__free(h);
  }
  if (!nl)
    return failf(x, VOUCH_E_NOMEM, "out of memory");
  x->hdrs = nl;
  curl_easy_setopt(x->c, CURLOPT_HTTPHEADER, x->hdrs);
  return VOUCH_OK;
}

/* The header lines hold secrets: wiped before curl frees them. */
static void wipe_headers(struct curl_slist *h) {
  for (struct curl_slist *i = h; i; i = i->next)
    if (i->data)
      sodium_memzero(i->data, strlen(i->data));
  curl_slist_free_all(h);
}

static int bank_exists(void *ctx, const vouch_bank_info *in) {
  (void)ctx;
  (void)in;
  return 0;
}

void vouch__import_stats_add(vouch_import_stats *t, const vouch_import_stats *s) {
  t->added += s->added;
  t->merged += s->merged;
  t->bad += s->bad;
  t->skipped += s->skipped;
  t->low_quality += s->low_quality;
  t->tombstones += s->tombstones;
  t->disabled += s->disabled;
  t->reenabled += s->reenabled;
}

static int setup(sync_ctx *x) {
  const vouch_exchange_opts *o = x->o;
  size_t l = strlen(o->url);
  if (l == 0 || l >= sizeof x->base)
    return failf(x, VOUCH_E_INVALID, "bad exchange URL");
  memcpy(x->base, o->url, l + 1);
  while (l > 0 && x->base[l - 1] == '/') x->base[--l] = 0;
  const char *p = strstr(x->base, "://");
  if (!p || (strncmp(x->base, "http://", 7) && strncmp(x->base, "https://", 8)))
    return failf(x, VOUCH_E_INVALID, "exchange URL must be http:// or https://");
  size_t ol = (size_t)(p + 3 - x->base) + strcspn(p + 3, "/?#");
  memcpy(x->origin, x->base, ol);
  x->origin[ol] = 0;
  pthread_once(&curl_once, curl_init);
  if (!curl_ready || !(x->c = curl_easy_init()))
    return failf(x, VOUCH_E_NOMEM, "libcurl could not start");
  for (size_t i = 0; i < o->nheaders; i++) {
    struct curl_slist *n = curl_slist_append(x->hdrs, o->headers[i]);
    if (!n) return failf(x, VOUCH_E_NOMEM, "out of memory");
    x->hdrs = n;
  }
  curl_easy_setopt(x->c, CURLOPT_HTTPHEADER, x->hdrs);
  curl_easy_setopt(x->c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(x->c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(x->c, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 60000L);
  curl_easy_setopt(x->c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(x->c, CURLOPT_USERAGENT, "vouch/" VOUCH_VERSION_STRING);
  curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(x->c, CURLOPT_ACCEPT_ENCODING, "");
  if (o->cancel) {
    curl_easy_setopt(x->c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(x->c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(x->c, CURLOPT_NOPROGRESS, 0L);
  }
  if (o->userpwd) {
    curl_easy_setopt(x->c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(x->c, CURLOPT_USERPWD, o->userpwd);
  }
  return VOUCH_OK;
}

int vouch_exchange_sync(vouch_bank *db, const char *name, const vouch_exchange_opts *o, vouch_exchange_stats *st) {
  if (!st)
    return VOUCH_E_INVALID;
  memset(st, 0, sizeof *st);
  if (!db || !name || !o || !o->url || (o->nheaders && !o->headers) || (!o->login_user != !o->login_password) ||
      (o->type != VOUCH_LIST_NCMEC && o->type != VOUCH_LIST_STOPNCII && o->type != VOUCH_LIST_TAT &&
       o->type != VOUCH_LIST_TE_UPDATES && o->type != VOUCH_EXCHANGE_FILE)) {
    snprintf(st->errmsg, sizeof st->errmsg, "bad exchange options");
    return VOUCH_E_INVALID;
  }
  if (o->type == VOUCH_EXCHANGE_FILE)
    return vouch__exchange_sync_file(db, name, o, st);
  st->total.format = o->type;
  sync_ctx x;
  memset(&x, 0, sizeof x);
  x.o = o;
  x.st = st;
  body b = {0};
  const char *source = o->source ? o->source : vouch_exchange_type_name(o->type);
  int rc = vouch_bank_list(db, name, bank_exists, NULL); /* before anything is sent */
  if (rc != VOUCH_OK)
    failf(&x, rc, "%s", vouch_bank_errmsg(db));
  else
    rc = setup(&x);
  vouch_list_page cp;
  if (rc == VOUCH_OK) {
    curl_easy_setopt(x.c, CURLOPT_WRITEDATA, &b);
    rc = vouch_bank_checkpoint(db, name, source, &cp, NULL);
    if (rc == VOUCH_E_NOT_FOUND) { /* the first sync (or no bank: the import says so) */
      memset(&cp, 0, sizeof cp);
      rc = VOUCH_OK;
    } else if (rc != VOUCH_OK) {
      failf(&x, rc, "%s", vouch_bank_errmsg(db));
    }
  }
  if (rc == VOUCH_OK)
    snprintf(x.start, sizeof x.start, "%s", cp.checkpoint[0] ? cp.checkpoint : "0");
  if (rc == VOUCH_OK && o->type == VOUCH_LIST_TAT && o->login_user)
    rc = tat_login(&x, &b);
  char *url = vouch__malloc(URL_MAX), *prev = vouch__malloc(URL_MAX), *nurl = vouch__malloc(URL_MAX);
  if (rc == VOUCH_OK && (!url || !prev || !nurl))
    rc = failf(&x, VOUCH_E_NOMEM, "out of memory");
  if (rc == VOUCH_OK) {
    prev[0] = 0;
    x.page = 1;
    if ((rc = first_url(&x, &cp, url, URL_MAX)) != VOUCH_OK && !st->errmsg[0])
      failf(&x, rc, "the first page's URL is too long");
  }
  unsigned max_pages = o->max_pages ? o->max_pages : 100000;
  while (rc == VOUCH_OK) {
    if (x.page > max_pages) {
      rc = failf(&x, VOUCH_E_LIMIT, "stopped after %u pages (the limit); the next sync goes on from there", max_pages);
      break;
    }
    if ((rc = fetch(&x, url, &b)) != VOUCH_OK)
      break;
    vouch_import_opts io;
    memset(&io, 0, sizeof io);
    vouch_list_page pg;
    io.list.format = o->type;
    io.list.min_quality = o->min_quality;
    io.list.page = &pg;
    io.source = source;
    io.error = on_error;
    io.error_ctx = &x;
    io.now = o->now;
    vouch_import_stats ist;
    x.last_err[0] = 0;
    rc = vouch_bank_import(db, name, b.p ? b.p : "", b.len, &io, &ist);
    if (rc == VOUCH_E_HASH_PARSE) {
      failf(&x, rc, "page %u (%s): malformed page: %s", x.page, url, x.last_err[0] ? x.last_err : vouch_bank_errmsg(db));
      break;
    }
    if (rc != VOUCH_OK) {
      failf(&x, rc, "page %u (%s): %s", x.page, url, vouch_bank_errmsg(db));
      break;
    }
    st->pages++;
    vouch__import_stats_add(&st->total, &ist);
    st->last = pg;
    if (!pg.has_more)
      break;
    if (!pg.next[0]) {
      rc = failf(&x, VOUCH_E_IO, "page %u (%s) says more records follow but names no next page", x.page, url);
      break;
    }
    x.page++;
    if ((rc = next_url(&x, pg.next, nurl, URL_MAX)) != VOUCH_OK) {
      if (!st->errmsg[0]) failf(&x, rc, "page %u: next page URL too long", x.page - 1);
      break;
    }
    if (!strcmp(nurl, url) || !strcmp(nurl, prev)) {
      rc = failf(&x, VOUCH_E_IO, "paging stalls: page %u (%s) names %s as its next page", x.page - 1, url,
                 strcmp(nurl, url) ? "the page before it" : "itself");
      break;
    }
    memcpy(prev, url, URL_MAX);
    memcpy(url, nurl, URL_MAX);
  }
  vouch__free(url);
  vouch__free(prev);
  vouch__free(nurl);
  vouch__free(b.p);
  if (x.c)
    curl_easy_cleanup(x.c);
  wipe_headers(x.hdrs);
  return rc;
}
