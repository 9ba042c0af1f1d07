/* tests/fuzz/fuzz_hma_parse.c -- the text parsers of vouchd's HMA routes
 * (programs/httpd/hma_parse.c).  The input, cut at its first NUL, is used
 * three ways.  Invariants: every list element lies inside the input, is
 * non-empty, holds no comma and no space at either end, and is found again
 * by vd_hma_list_has(); a split path is rebuilt byte for byte from its parts,
 * each part NUL-terminated, non-empty where given and free of '/'; a name
 * accepted as a bank name holds only A-Z, 0-9 and '_' and does not start
 * with a digit; an exchange name likewise, a leading digit allowed; an
 * exchange path "exchange/NAME[/SUB]" is rebuilt from its parts; a
 * checkpoint read as a time came from digits (optionally a fraction, then
 * a ',' or the end) or an ISO 8601 UTC time, and a number's value is its
 * leading digits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../programs/httpd/hma_parse.h"

static void check_list(const char *s) {
  const char *cur = s, *it;
  size_t n, count = 0;
  while (vd_hma_list_next(&cur, &it, &n)) {
    if (it < s || it + n > s + strlen(s) || n == 0) abort();
    if (memchr(it, ',', n) || it[0] == ' ' || it[n - 1] == ' ') abort();
    if (!vd_hma_list_has(s, it, n)) abort();
    if (++count > strlen(s)) abort(); /* always advances */
  }
}

static void check_path(const char *s) {
  vd_hma_path hp;
  if (vd_hma_split_path(s, &hp) != 0) return;
  if (!memchr(hp.name, 0, sizeof hp.name) || !memchr(hp.action, 0, sizeof hp.action) ||
      !memchr(hp.sub, 0, sizeof hp.sub))
    abort();
  if (!hp.name[0] || strchr(hp.name, '/') || strchr(hp.action, '/') || strchr(hp.sub, '/')) abort();
  if (hp.sub[0] && !hp.action[0]) abort();
  char back[512];
  snprintf(back, sizeof back, "bank/%s%s%s%s%s", hp.name, hp.action[0] ? "/" : "", hp.action, hp.sub[0] ? "/" : "",
           hp.sub);
  if (strcmp(back, s) != 0) abort();
}

static void check_name(const char *s) {
  if (!vd_hma_bank_name_ok(s)) return;
  if (!*s || (*s >= '0' && *s <= '9')) abort();
  for (const char *p = s; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) abort();
}

static void check_named(const char *s) {
  char name[16], sub[8];
  if (vd_hma_split_named(s, "exchange/", name, sizeof name, sub, sizeof sub) != 0) return;
  if (!name[0] || strchr(name, '/') || strchr(sub, '/')) abort();
  char back[64];
  snprintf(back, sizeof back, "exchange/%s%s%s", name, sub[0] ? "/" : "", sub);
  if (strcmp(back, s) != 0) abort();
}

static void check_exchange_name(const char *s) {
  if (!vd_hma_exchange_name_ok(s)) return;
  if (!*s || strlen(s) > 128) abort();
  for (const char *p = s; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) abort();
}

static void check_checkpoint(const char *s) {
  long long t;
  if (vd_hma_checkpoint_ts(s, &t) != 0) return;
  if (s[0] < '0' || s[0] > '9') abort();
  if (strlen(s) >= 19 && s[4] == '-') return; /* an ISO time */
  long long v = 0;
  for (const char *p = s; *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
  if (v != t || t < 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = 0;
  check_list(s);
  check_path(s);
  check_name(s);
  check_named(s);
  check_exchange_name(s);
  check_checkpoint(s);
  free(s);
  return 0;
}
