/* src/review/second_list.c -- lists of entries' second hashes (review.h):
 * the parser for `PDQHEX [QUALITY] SECONDHEX [anything]` lines, the entries
 * of PDQ banks with the second hashes their sources supplied, and the
 * verdict of an opened payload against the entry nearest its hash. */
#include <string.h>
#include "vouch/review.h"
#include "vouch/bank.h"
#include "common/internal.h"

/* Where an entry's second hash came from; on a tie in distance the higher
 * wins (the bank's own over a separate list's over none). */
enum { FROM_NONE = 0, FROM_LIST = 1, FROM_BANK = 2 };

struct vouch_second_list {
  uint8_t (*pdq)[VOUCH_PDQ_BYTES];
  uint8_t (*sec)[VOUCH_DERIV_HASH_BYTES];
  uint8_t *from;
  size_t n, cap;
};

void vouch_second_list_free(vouch_second_list *l) {
  if (!l) return;
  vouch__free(l->pdq);
  vouch__free(l->sec);
  vouch__free(l->from);
  vouch__free(l);
}

size_t vouch_second_list_count(const vouch_second_list *l) { return l ? l->n : 0; }

int vouch_second_list_get(const vouch_second_list *l, size_t i, const uint8_t **pdq, const uint8_t **second) {
  if (!l || i >= l->n) return VOUCH_E_INVALID;
  if (pdq) *pdq = l->pdq[i];
  if (second) *second = l->from[i] == FROM_NONE ? NULL : l->sec[i];
  return VOUCH_OK;
}

static int grow(vouch_second_list *l) {
  if (l->n < l->cap) return VOUCH_OK;
  if (l->cap >= VOUCH_SECOND_LIST_MAX) return VOUCH_E_LIMIT;
  size_t cap = l->cap ? 2 * l->cap : 64;
  if (cap > VOUCH_SECOND_LIST_MAX) cap = VOUCH_SECOND_LIST_MAX;
  void *a = vouch__realloc(l->pdq, cap * sizeof *l->pdq);
  if (!a) return VOUCH_E_NOMEM;
  l->pdq = a;
  void *b = vouch__realloc(l->sec, cap * sizeof *l->sec);
  if (!b) return VOUCH_E_NOMEM;
  l->sec = b;
  void *f = vouch__realloc(l->from, cap);
  if (!f) return VOUCH_E_NOMEM;
  l->from = f;
  l->cap = cap;
  return VOUCH_OK;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* One line (no LF): 0 skipped, 1 an entry added, or a negative vouch_rc. */
static int parse_line(vouch_second_list *l, const char *p, size_t len) {
  const char *tok[3];
  size_t tl[3];
  int nt = 0;
  size_t i = 0;
  if (memchr(p, 0, len)) return -VOUCH_E_HASH_PARSE;
  while (nt < 3) {
    while (i < len && is_space(p[i])) i++;
    if (i == len) break;
    tok[nt] = p + i;
    while (i < len && !is_space(p[i])) i++;
    tl[nt] = (size_t)(p + i - tok[nt]);
    nt++;
  }
  if (nt == 0 || tok[0][0] == '#') return 0;
  /* PDQHEX [QUALITY] SECONDHEX: a quality is at most 3 characters */
  int si = nt >= 3 && tl[1] <= 3 ? 2 : 1;
  if (si >= nt || tl[0] != 2 * VOUCH_PDQ_BYTES || tl[si] != 2 * VOUCH_DERIV_HASH_BYTES)
    return -VOUCH_E_HASH_PARSE;
  if (si == 2)
    for (size_t k = 0; k < tl[1]; k++)
      if (tok[1][k] < '0' || tok[1][k] > '9') return -VOUCH_E_HASH_PARSE;
  int rc = grow(l);
  if (rc != VOUCH_OK) return -rc;
  if (vouch_hash_from_hex(tok[0], tl[0], l->pdq[l->n], VOUCH_PDQ_BYTES) != VOUCH_OK ||
      vouch_hash_from_hex(tok[si], tl[si], l->sec[l->n], VOUCH_DERIV_HASH_BYTES) != VOUCH_OK ||
      l->sec[l->n][0] != VOUCH_DERIV_HASH_VERSION)
    return -VOUCH_E_HASH_PARSE;
  l->from[l->n++] = FROM_LIST;
  return 1;
}

int vouch_second_list_parse(const char *text, size_t len, vouch_second_list **out, size_t *bad_line) {
  if (bad_line) *bad_line = 0;
  if (!out || (!text && len)) return VOUCH_E_INVALID;
  *out = NULL;
  vouch_second_list *l = vouch__calloc(1, sizeof *l);
  if (!l) return VOUCH_E_NOMEM;
  size_t pos = 0, lineno = 0;
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
    lineno++;
    int r = ll > VOUCH_SECOND_LINE_MAX ? -VOUCH_E_LIMIT : parse_line(l, text + pos, ll);
    if (r < 0) {
      if (bad_line) *bad_line = lineno;
      vouch_second_list_free(l);
      return -r;
    }
    pos += ll + (nl != NULL);
  }
  *out = l;
  return VOUCH_OK;
}

int vouch_second_list_verdict(const vouch_second_list *l, const vouch_psi_payload *p, unsigned radius, int *score,
                              size_t *entry) {
  if (score) *score = -1;
  if (entry) *entry = SIZE_MAX;
  if (!l || !p || p->algo != VOUCH_ALGO_PDQ || p->hash_len != VOUCH_PDQ_BYTES) return VOUCH_DERIV_UNKNOWN;
  if (radius > 8 * VOUCH_PDQ_BYTES) radius = 8 * VOUCH_PDQ_BYTES;
  size_t best = SIZE_MAX;
  unsigned bd = radius + 1;
  for (size_t j = 0; j < l->n; j++) {
    unsigned d = vouch_hamming(p->hash, l->pdq[j], VOUCH_PDQ_BYTES);
    if (d < bd || (d == bd && best != SIZE_MAX && l->from[j] > l->from[best])) bd = d, best = j;
  }
  if (best == SIZE_MAX) return VOUCH_DERIV_UNKNOWN;
  if (entry) *entry = best;
  return vouch_derivative_verdict(p->thumb, p->thumb_w, p->thumb_h, l->from[best] == FROM_NONE ? NULL : l->sec[best],
                                  score);
}

/* ------------------------------------------------- entries of PDQ banks */

typedef struct add_ctx {
  vouch_second_list *l;
  vouch_bank *b;
  const char *only; /* NULL: every enabled PDQ bank */
  int rc;
} add_ctx;

static int add_entry(void *vctx, const vouch_bank_entry *e) {
  add_ctx *c = vctx;
  vouch_second_list *l = c->l;
  if (!e->enabled || e->hash_bytes != VOUCH_PDQ_BYTES) return 0; /* as an index build */
  int rc = grow(l);
  if (rc != VOUCH_OK) return c->rc = rc;
  memcpy(l->pdq[l->n], e->hash, VOUCH_PDQ_BYTES);
  if (e->second) memcpy(l->sec[l->n], e->second, VOUCH_DERIV_HASH_BYTES);
  else memset(l->sec[l->n], 0, VOUCH_DERIV_HASH_BYTES);
  l->from[l->n++] = e->second ? FROM_BANK : FROM_NONE;
  return 0;
}

static int add_bank(void *vctx, const vouch_bank_info *in) {
  add_ctx *c = vctx;
  if (in->algo != VOUCH_ALGO_PDQ) {
    if (c->only) return c->rc = VOUCH_E_ALGO_MISMATCH;
    return 0;
  }
  if (!in->enabled && !c->only) return 0;
  int rc = vouch_bank_entries(c->b, in->name, add_entry, c);
  return c->rc ? c->rc : rc;
}

int vouch_second_list_add_bank(vouch_second_list **l, vouch_bank *b, const char *name) {
  if (!l || !b) return VOUCH_E_INVALID;
  int made = *l == NULL;
  if (made && !(*l = vouch__calloc(1, sizeof **l))) return VOUCH_E_NOMEM;
  add_ctx c = {*l, b, name, VOUCH_OK};
  int rc = vouch_bank_list(b, name, add_bank, &c);
  if (c.rc) rc = c.rc;
  if (rc != VOUCH_OK && made) {
    vouch_second_list_free(*l);
    *l = NULL;
  }
  return rc;
}
