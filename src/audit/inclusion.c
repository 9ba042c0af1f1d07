/* src/audit/inclusion.c -- one entry's inclusion proof and its text form
 * (vouch/audit.h; format in docs/audit.md):
 *
 *   vouch-inclusion 1
 *   version <database version>
 *   size <tree size>
 *   index <leaf number>
 *   leaf <hex of the leaf bytes>
 *   node <64 hex>            (0..64 lines, in RFC 9162 order)
 */
#include <stdio.h>
#include "audit_internal.h"
#include "vouch/hash.h"

int vouch_audit_inclusion_make(const vouch_audit_db *db, uint64_t i, vouch_audit_inclusion *out) {
  size_t ll = 0;
  const uint8_t *leaf = vouch_audit_db_leaf_bytes(db, i, &ll);
  if (!leaf || ll > VOUCH_AUDIT_LEAF_MAX)
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  out->db_version = vouch_audit_db_version(db);
  out->tree_size = vouch_audit_db_size(db);
  out->index = i;
  out->leaf_len = ll;
  memcpy(out->leaf, leaf, ll);
  return vouch_audit_db_prove(db, i, out->proof, &out->proof_n);
}

int vouch_audit_inclusion_format(const vouch_audit_inclusion *inc, char **out, size_t *out_len) {
  if (inc->leaf_len > VOUCH_AUDIT_LEAF_MAX || inc->proof_n > VOUCH_MERKLE_PROOF_MAX)
    return VOUCH_E_INVALID;
  size_t cap = 128 + 2 * VOUCH_AUDIT_LEAF_MAX + inc->proof_n * 72;
  char *s = vouch__malloc(cap);
  if (!s)
    return VOUCH_E_NOMEM;
  int n = snprintf(s, cap, "vouch-inclusion 1\nversion %llu\nsize %llu\nindex %llu\nleaf ",
                   (unsigned long long)inc->db_version, (unsigned long long)inc->tree_size,
                   (unsigned long long)inc->index);
  size_t o = (size_t)n;
  (void)vouch_hash_to_hex(inc->leaf, inc->leaf_len, s + o, cap - o);
  o += 2 * inc->leaf_len;
  s[o++] = '\n';
  for (size_t i = 0; i < inc->proof_n; i++) {
    memcpy(s + o, "node ", 5);
    o += 5;
    (void)vouch_hash_to_hex(inc->proof + i * 32, 32, s + o, cap - o);
    o += 64;
    s[o++] = '\n';
  }
  s[o] = 0;
  *out = s;
  *out_len = o;
  return VOUCH_OK;
}


/* Splits "key value" at the single space; returns 0 if the line is not that. */
static int kv(const char *line, size_t len, const char *key, const char **val, size_t *vlen) {
  size_t k = strlen(key);
  if (len <= k + 1 || memcmp(line, key, k) != 0 || line[k] != ' ')
    return 0;
  *val = line + k + 1;
  *vlen = len - k - 1;
  return 1;
}

int vouch_audit_inclusion_parse(const char *text, size_t len, vouch_audit_inclusion *out) {
  if (!text || !out)
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  size_t i = 0, line_no = 0;
  while (i < len) {
    size_t e = i;
    while (e < len && text[e] != '\n')
      e++;
    const char *line = text + i, *v;
    size_t l = e - i, vl;
    i = e + 1;
    if (e == len && l == 0)
      break;
    switch (line_no++) {
    case 0:
      if (l != 17 || memcmp(line, "vouch-inclusion 1", 17) != 0)
        return VOUCH_E_AUDIT_FORMAT;
      break;
    case 1:
      if (!kv(line, l, "version", &v, &vl) || !vouch__audit_parse_u64(v, vl, &out->db_version))
        return VOUCH_E_AUDIT_FORMAT;
      break;
    case 2:
      if (!kv(line, l, "size", &v, &vl) || !vouch__audit_parse_u64(v, vl, &out->tree_size))
        return VOUCH_E_AUDIT_FORMAT;
      break;
    case 3:
      if (!kv(line, l, "index", &v, &vl) || !vouch__audit_parse_u64(v, vl, &out->index))
        return VOUCH_E_AUDIT_FORMAT;
      break;
    case 4:
      if (!kv(line, l, "leaf", &v, &vl) || vl % 2 != 0 || vl / 2 > VOUCH_AUDIT_LEAF_MAX || vl == 0 ||
          vouch_hash_from_hex(v, vl, out->leaf, vl / 2) != VOUCH_OK)
        return VOUCH_E_AUDIT_FORMAT;
      out->leaf_len = vl / 2;
      break;
    default:
      if (out->proof_n == VOUCH_MERKLE_PROOF_MAX || !kv(line, l, "node", &v, &vl) || vl != 64 ||
          vouch_hash_from_hex(v, 64, out->proof + out->proof_n * 32, 32) != VOUCH_OK)
        return VOUCH_E_AUDIT_FORMAT;
      out->proof_n++;
    }
  }
  return line_no >= 5 ? VOUCH_OK : VOUCH_E_AUDIT_FORMAT;
}

int vouch_audit_inclusion_verify(const vouch_audit_inclusion *inc, const vouch_audit_sth *sth,
                                 const uint8_t **hash) {
  size_t hb = vouch_algo_bytes(sth->algo);
  if (inc->leaf_len != 18 + hb || inc->leaf[0] != VOUCH_AUDIT_OP_ADD || inc->leaf[1] != sth->algo ||
      inc->proof_n > VOUCH_MERKLE_PROOF_MAX)
    return VOUCH_E_AUDIT_FORMAT;
  if (inc->db_version != sth->db_version || inc->tree_size != sth->tree_size)
    return VOUCH_E_AUDIT_PROOF;
  uint8_t lh[VOUCH_MERKLE_HASH_BYTES];
  vouch_merkle_leaf_hash(inc->leaf, inc->leaf_len, lh);
  VOUCH_TRY(vouch_merkle_verify_inclusion(lh, inc->index, inc->tree_size, inc->proof, inc->proof_n, sth->root));
  if (hash)
    *hash = inc->leaf + 10;
  return VOUCH_OK;
}

int vouch__audit_parse_u64(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  if (n == 0 || n > 20)
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return 0;
    v = v * 10 + d;
  }
  *out = v;
  return 1;
}
