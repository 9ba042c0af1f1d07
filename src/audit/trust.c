/* src/audit/trust.c -- the client's trust file (vouch/audit.h, docs/audit.md).
 *
 *   vouch-trust 1
 *   server <64 hex: Ed25519 public key of a database operator>
 *   source <64 hex: public key of a source> <jurisdiction>
 *   policy <min sources> distinct-jurisdictions|any-jurisdictions
 *   root <database version> <tree size> <64 hex: root>
 *
 * One statement per line; blank lines and lines starting with '#' are
 * ignored; fields are separated by spaces or tabs. */
#include "audit_internal.h"
#include "vouch/hash.h"

#define LINE_MAX_BYTES 512U
#define FIELDS_MAX 6


static int is(const char *s, size_t n, const char *word) { return strlen(word) == n && memcmp(s, word, n) == 0; }

static int parse_line(const char *line, size_t len, vouch_audit_trust *t, int *seen_header) {
  const char *f[FIELDS_MAX];
  size_t fl[FIELDS_MAX], nf = 0;
  size_t i = 0;
  while (i < len) {
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
      i++;
    if (i == len)
      break;
    if (nf == FIELDS_MAX)
      return VOUCH_E_AUDIT_FORMAT;
    f[nf] = line + i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
      i++;
    fl[nf] = (size_t)(line + i - f[nf]);
    nf++;
  }
  if (nf == 0 || f[0][0] == '#')
    return VOUCH_OK;
  if (!*seen_header) {
    if (nf == 2 && is(f[0], fl[0], "vouch-trust") && is(f[1], fl[1], "1")) {
      *seen_header = 1;
      return VOUCH_OK;
    }
    return VOUCH_E_AUDIT_FORMAT;
  }
  if (is(f[0], fl[0], "server") && nf == 2) {
    if (t->nservers == VOUCH_AUDIT_TRUST_MAX)
      return VOUCH_E_LIMIT;
    if (fl[1] != 64 || vouch_hash_from_hex(f[1], 64, t->servers[t->nservers], 32) != VOUCH_OK)
      return VOUCH_E_AUDIT_FORMAT;
    t->nservers++;
    return VOUCH_OK;
  }
  if (is(f[0], fl[0], "source") && nf == 3) {
    if (t->nsources == VOUCH_AUDIT_TRUST_MAX)
      return VOUCH_E_LIMIT;
    if (fl[1] != 64 || vouch_hash_from_hex(f[1], 64, t->sources[t->nsources], 32) != VOUCH_OK || fl[2] != 2 ||
        !vouch__valid_jurisdiction(f[2]))
      return VOUCH_E_AUDIT_FORMAT;
    memcpy(t->source_jurisdiction[t->nsources], f[2], 2);
    t->source_jurisdiction[t->nsources][2] = 0;
    t->nsources++;
    return VOUCH_OK;
  }
  if (is(f[0], fl[0], "policy") && nf == 3) {
    uint64_t k;
    if (t->has_policy || !vouch__audit_parse_u64(f[1], fl[1], &k) || k == 0 || k > VOUCH_AUDIT_SOURCES_MAX)
      return VOUCH_E_AUDIT_FORMAT;
    if (is(f[2], fl[2], "distinct-jurisdictions"))
      t->min_policy.distinct_jurisdictions = 1;
    else if (is(f[2], fl[2], "any-jurisdictions"))
      t->min_policy.distinct_jurisdictions = 0;
    else
      return VOUCH_E_AUDIT_FORMAT;
    t->min_policy.min_sources = (uint8_t)k;
    t->has_policy = 1;
    return VOUCH_OK;
  }
  if (is(f[0], fl[0], "root") && nf == 4) {
    if (t->npins == VOUCH_AUDIT_TRUST_MAX)
      return VOUCH_E_LIMIT;
    vouch_audit_pin *p = &t->pins[t->npins];
    if (!vouch__audit_parse_u64(f[1], fl[1], &p->db_version) || p->db_version == 0 || !vouch__audit_parse_u64(f[2], fl[2], &p->tree_size) ||
        fl[3] != 64 || vouch_hash_from_hex(f[3], 64, p->root, 32) != VOUCH_OK)
      return VOUCH_E_AUDIT_FORMAT;
    t->npins++;
    return VOUCH_OK;
  }
  return VOUCH_E_AUDIT_FORMAT;
}

int vouch_audit_trust_parse(const char *text, size_t len, vouch_audit_trust *out, size_t *bad_line) {
  if (!text || !out)
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  int seen_header = 0;
  size_t line_no = 0, i = 0;
  while (i < len) {
    size_t e = i;
    while (e < len && text[e] != '\n')
      e++;
    line_no++;
    size_t l = e - i;
    if (l > 0 && text[i + l - 1] == '\r')
      l--;
    int rc = VOUCH_OK;
    if (l > LINE_MAX_BYTES || memchr(text + i, '\0', l) != NULL)
      rc = VOUCH_E_AUDIT_FORMAT;
    else
      rc = parse_line(text + i, l, out, &seen_header);
    if (rc != VOUCH_OK) {
      if (bad_line)
        *bad_line = line_no;
      return rc;
    }
    i = e + 1;
  }
  if (!seen_header) {
    if (bad_line)
      *bad_line = line_no ? line_no : 1;
    return VOUCH_E_AUDIT_FORMAT;
  }
  return VOUCH_OK;
}
