/* programs/httpd/hma_parse.c -- see hma_parse.h. */
#include <string.h>
#include "hma_parse.h"

/* A-Z, 0-9, '_', 1..128 bytes; a leading digit only when digit_first. */
static int upper_name_ok(const char *name, int digit_first) {
  if (!name || !*name || (!digit_first && *name >= '0' && *name <= '9') || strlen(name) > 128) return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
  return 1;
}

int vd_hma_list_next(const char **cursor, const char **item, size_t *len) {
  const char *p = *cursor;
  while (p && *p) {
    size_t n = strcspn(p, ","), b = 0, e = n;
    while (b < n && p[b] == ' ') b++;
    while (e > b && p[e - 1] == ' ') e--;
    const char *start = p + b;
    p += n;
    if (*p == ',') p++;
    if (e > b) {
      *cursor = p;
      *item = start;
      *len = e - b;
      return 1;
    }
  }
  *cursor = p;
  return 0;
}

int vd_hma_list_has(const char *list, const char *item, size_t len) {
  const char *cur = list, *it;
  size_t n;
  while (vd_hma_list_next(&cur, &it, &n))
    if (n == len && !memcmp(it, item, n)) return 1;
  return 0;
}

int vd_hma_bank_name_ok(const char *name) { return upper_name_ok(name, 0); }

int vd_hma_exchange_name_ok(const char *name) { return upper_name_ok(name, 1); }

/* Copies the part of *p up to '/' or the end into out[cap]; -1 if too long. */
static int take(const char **p, char *out, size_t cap) {
  size_t n = strcspn(*p, "/");
  if (n >= cap) return -1;
  memcpy(out, *p, n);
  out[n] = 0;
  *p += n;
  return 0;
}

int vd_hma_split_path(const char *path, vd_hma_path *out) {
  memset(out, 0, sizeof *out);
  if (strncmp(path, "bank/", 5) != 0) return -1;
  const char *p = path + 5;
  if (take(&p, out->name, sizeof out->name) != 0 || !out->name[0]) return -1;
  if (!*p) return 0;
  p++; /* '/' */
  if (take(&p, out->action, sizeof out->action) != 0 || !out->action[0]) return -1;
  if (!*p) return 0;
  p++;
  if (take(&p, out->sub, sizeof out->sub) != 0 || !out->sub[0] || *p) return -1;
  return 0;
}

int vd_hma_split_named(const char *path, const char *prefix, char *name, size_t ncap, char *sub, size_t scap) {
  const size_t pl = strlen(prefix);
  if (ncap == 0 || scap == 0 || strncmp(path, prefix, pl) != 0) return -1;
  const char *p = path + pl;
  sub[0] = 0;
  if (take(&p, name, ncap) != 0 || !name[0]) return -1;
  if (!*p) return 0;
  p++; /* '/' */
  if (take(&p, sub, scap) != 0 || !sub[0] || *p) return -1;
  return 0;
}

/* n decimal digits at *p into *v; -1 if fewer */
static int digits(const char **p, int n, int *v) {
  *v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (**p < '0' || **p > '9') return -1;
    *v = *v * 10 + (**p - '0');
  }
  return 0;
}

static int iso_ts(const char *s, long long *out) {
  int y, mo, d, h, mi, se;
  const char *p = s;
  if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d) ||
      (*p != 'T' && *p != ' ') || (++p, digits(&p, 2, &h)) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
      digits(&p, 2, &se))
    return -1;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9') return -1;
    while (*p >= '0' && *p <= '9') p++;
  }
  if (strcmp(p, "Z") != 0 && strcmp(p, "+0000") != 0 && strcmp(p, "+00:00") != 0) return -1;
  static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60) return -1;
  const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || (mo == 2 && d == 29 && !leap)) return -1;
  /* days before the year (leap years counted up to y - 1), then before the month */
  static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const long long ly = (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
  const long long days = 365LL * (y - 1970) + ly + before[mo - 1] + (mo > 2 && leap) + (d - 1);
  *out = days * 86400LL + h * 3600LL + mi * 60LL + se;
  return 0;
}

int vd_hma_checkpoint_ts(const char *cp, long long *out) {
  if (!cp || !*cp) return -1;
  if (iso_ts(cp, out) == 0) return 0;
  /* a number: digits, optionally a fraction, then the end or a ',' */
  const char *p = cp;
  long long v = 0;
  if (*p < '0' || *p > '9') return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (v > (9223372036854775807LL - 9) / 10) return -1;
    v = v * 10 + (*p - '0');
  }
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') p++;
  }
  if (*p && *p != ',') return -1;
  *out = v;
  return 0;
}
