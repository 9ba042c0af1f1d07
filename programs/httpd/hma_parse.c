/* programs/httpd/hma_parse.c -- see hma_parse.h. */
#include <string.h>
#include "hma_parse.h"

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

int vd_hma_bank_name_ok(const char *name) {
  if (!name || !*name || (*name >= '0' && *name <= '9') || strlen(name) > 128) return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
  return 1;
}

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
