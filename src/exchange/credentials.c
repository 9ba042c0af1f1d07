/* src/exchange/credentials.c -- an exchange's secrets from a 0600 file of
 * KEY=VALUE lines (vouch_exchange_creds_read()), turned into the request
 * headers and user:password of vouch_exchange_opts, and the sync of a
 * configured exchange with them (vouch_exchange_sync_config()).  The secrets
 * live only in this handle and are wiped when it is freed; no message says
 * more than a key's name. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "vouch/exchange.h"
#include "common/internal.h"

struct vouch_exchange_creds {
  char *buf; /* the file's text; the secrets point into it or into hdr[] */
  size_t len;
  char *hdr[VOUCH_EXCHANGE_CREDS_HEADERS_MAX];
  size_t nhdr;
  char *userpwd;
  const char *login_user, *login_password; /* TAT: point into buf */
};

static void wipe_free(char *p) {
  if (p) {
    sodium_memzero(p, strlen(p));
    vouch__free(p);
  }
}

void vouch_exchange_creds_free(vouch_exchange_creds *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->nhdr; i++)
    wipe_free(c->hdr[i]);
  wipe_free(c->userpwd);
  if (c->buf) {
    sodium_memzero(c->buf, c->len);
    vouch__free(c->buf);
  }
  sodium_memzero(c, sizeof *c);
  vouch__free(c);
}

void vouch_exchange_creds_apply(const vouch_exchange_creds *c, vouch_exchange_opts *o) {
  if (!c || !o)
    return;
  o->headers = (const char *const *)c->hdr;
  o->nheaders = c->nhdr;
  o->userpwd = c->userpwd;
  o->login_user = c->login_user;
  o->login_password = c->login_password;
}

static int errf(char *err, size_t cap, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t cap, int rc, const char *fmt, ...) {
  if (err && cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* "a" + sep + "b" in memory of its own; -1 when full or out of memory */
static char *join(const char *a, const char *sep, const char *b) {
  size_t l = strlen(a) + strlen(sep) + strlen(b) + 1;
  char *p = vouch__malloc(l);
  if (p)
    snprintf(p, l, "%s%s%s", a, sep, b);
  return p;
}

static int add_header(vouch_exchange_creds *c, const char *name, const char *value) {
  if (c->nhdr == VOUCH_EXCHANGE_CREDS_HEADERS_MAX)
    return VOUCH_E_LIMIT;
  char *h = join(name, *name ? ": " : "", value);
  if (!h)
    return VOUCH_E_NOMEM;
  c->hdr[c->nhdr++] = h;
  return VOUCH_OK;
}

/* Opens first and checks the mode of what was opened, so the file checked is
 * the file read. */
static int slurp(vouch_exchange_creds *c, const char *path, char *err, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return errf(err, cap, VOUCH_E_IO, "%s: %s", path, strerror(errno));
  struct stat st;
  int rc = VOUCH_OK;
  if (fstat(fd, &st) != 0)
    rc = errf(err, cap, VOUCH_E_IO, "%s: %s", path, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    rc = errf(err, cap, VOUCH_E_IO, "%s: not a regular file", path);
  else if (st.st_mode & 077)
    rc = errf(err, cap, VOUCH_E_IO, "%s: credentials file readable by other users (mode %03o): chmod 600 it", path,
              (unsigned)(st.st_mode & 0777));
  else if ((uint64_t)st.st_size > VOUCH_EXCHANGE_CREDS_FILE_MAX)
    rc = errf(err, cap, VOUCH_E_LIMIT, "%s: larger than %u bytes", path, VOUCH_EXCHANGE_CREDS_FILE_MAX);
  else if (!(c->buf = vouch__malloc((size_t)st.st_size + 1)))
    rc = errf(err, cap, VOUCH_E_NOMEM, "out of memory");
  while (rc == VOUCH_OK && c->len < (size_t)st.st_size) {
    ssize_t n = read(fd, c->buf + c->len, (size_t)st.st_size - c->len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = errf(err, cap, VOUCH_E_IO, "%s: %s", path, n < 0 ? strerror(errno) : "shorter than its size");
      break;
    }
    c->len += (size_t)n;
  }
  if (c->buf)
    c->buf[c->len] = 0;
  close(fd);
  return rc;
}

static int parse(vouch_exchange_creds *c, const char *path, int type, char *err, size_t cap) {
  const char *user = NULL, *pass = NULL;
  int rc = VOUCH_OK;
  size_t lineno = 0;
  for (char *line = c->buf, *end; rc == VOUCH_OK && line && *line; line = end) {
    lineno++;
    end = strchr(line, '\n');
    if (end)
      *end++ = 0;
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\r' || line[l - 1] == ' '))
      line[--l] = 0;
    if (!*line || *line == '#')
      continue;
    char *eq = strchr(line, '=');
    if (!eq)
      return errf(err, cap, VOUCH_E_INVALID, "%s:%zu: not KEY=VALUE", path, lineno);
    *eq = 0;
    const char *k = line, *v = eq + 1;
    if (!strcmp(k, "header")) {
      rc = strchr(v, ':') ? add_header(c, "", v) : errf(err, cap, VOUCH_E_INVALID, "%s:%zu: header= wants 'Name: value'", path, lineno);
    } else if (!strcmp(k, "user") && (type == VOUCH_LIST_NCMEC || type == VOUCH_LIST_TAT)) {
      user = v;
    } else if (!strcmp(k, "password") && (type == VOUCH_LIST_NCMEC || type == VOUCH_LIST_TAT)) {
      pass = v;
    } else if (!strcmp(k, "subscription_key") && type == VOUCH_LIST_STOPNCII) {
      rc = add_header(c, "Ocp-Apim-Subscription-Key", v);
    } else if (!strcmp(k, "fetch_function_key") && type == VOUCH_LIST_STOPNCII) {
      rc = add_header(c, "x-functions-key", v);
    } else if (!strcmp(k, "token") && (type == VOUCH_LIST_TAT || type == VOUCH_LIST_TE_UPDATES)) {
      char *t = join("Bearer ", "", v);
      rc = t ? add_header(c, "Authorization", t) : VOUCH_E_NOMEM;
      wipe_free(t);
    } else {
      return errf(err, cap, VOUCH_E_INVALID, "%s:%zu: key '%.64s' is not one a %s exchange takes", path, lineno, k,
                  vouch_list_format_name(type));
    }
    if (rc == VOUCH_E_LIMIT)
      return errf(err, cap, rc, "%s: more than %u header lines", path, VOUCH_EXCHANGE_CREDS_HEADERS_MAX);
  }
  if (rc != VOUCH_OK)
    return errf(err, cap, rc, "out of memory");
  if (!!user != !!pass)
    return errf(err, cap, VOUCH_E_INVALID, "%s: give both user= and password=", path);
  if (user && type == VOUCH_LIST_TAT) {
    c->login_user = user;
    c->login_password = pass;
  } else if (user && !(c->userpwd = join(user, ":", pass))) {
    return errf(err, cap, VOUCH_E_NOMEM, "out of memory");
  }
  return VOUCH_OK;
}

int vouch_exchange_creds_read(vouch_exchange_creds **out, const char *path, int type, char *err, size_t errcap) {
  if (err && errcap)
    err[0] = 0;
  if (!out || !path)
    return VOUCH_E_INVALID;
  *out = NULL;
  vouch_exchange_creds *c = vouch__calloc(1, sizeof *c);
  if (!c)
    return errf(err, errcap, VOUCH_E_NOMEM, "out of memory");
  int rc = slurp(c, path, err, errcap);
  if (rc == VOUCH_OK)
    rc = parse(c, path, type, err, errcap);
  if (rc != VOUCH_OK) {
    vouch_exchange_creds_free(c);
    return rc;
  }
  *out = c;
  return VOUCH_OK;
}

static const struct {
  const char *name;
  int type;
} exchange_types[] = {{"ncmec", VOUCH_LIST_NCMEC},
                      {"stopncii", VOUCH_LIST_STOPNCII},
                      {"tat", VOUCH_LIST_TAT},
                      {"te", VOUCH_LIST_TE_UPDATES},
                      {"file", VOUCH_EXCHANGE_FILE}};

int vouch_exchange_type_from_name(const char *name) {
  for (size_t i = 0; name && i < sizeof exchange_types / sizeof exchange_types[0]; i++)
    if (!strcmp(name, exchange_types[i].name))
      return exchange_types[i].type;
  return -1;
}

const char *vouch_exchange_type_name(int type) {
  for (size_t i = 0; i < sizeof exchange_types / sizeof exchange_types[0]; i++)
    if (exchange_types[i].type == type)
      return exchange_types[i].name;
  return "unknown";
}

int vouch_exchange_sync_config(vouch_bank *db, const vouch_exchange_config *c, const vouch_exchange_opts *base,
                               vouch_exchange_stats *st) {
  if (!st)
    return VOUCH_E_INVALID;
  memset(st, 0, sizeof *st);
  if (!c || !c->bank || !c->url) {
    snprintf(st->errmsg, sizeof st->errmsg, "bad exchange configuration");
    return VOUCH_E_INVALID;
  }
  vouch_exchange_opts o;
  if (base)
    o = *base;
  else
    memset(&o, 0, sizeof o);
  o.type = c->type;
  o.url = c->url;
  o.source = c->source;
  vouch_exchange_creds *cr = NULL;
  if (c->credentials) {
    int rc = vouch_exchange_creds_read(&cr, c->credentials, c->type, st->errmsg, sizeof st->errmsg);
    if (rc != VOUCH_OK)
      return rc;
    vouch_exchange_creds_apply(cr, &o);
  }
  int rc = vouch_exchange_sync(db, c->bank, &o, st);
  vouch_exchange_creds_free(cr);
  return rc;
}
