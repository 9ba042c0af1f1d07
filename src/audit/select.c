/* src/audit/select.c -- the two-source rule as a pure function (vouch/audit.h). */
#include "audit_internal.h"

int vouch__policy_met(uint64_t mask, const char (*jur)[3], size_t nsources, vouch_audit_policy policy) {
  if (policy.min_sources == 0)
    return 0;
  unsigned count = 0;
  char seen[VOUCH_AUDIT_SOURCES_MAX][2];
  for (size_t i = 0; i < nsources && i < VOUCH_AUDIT_SOURCES_MAX; i++) {
    if (!(mask >> i & 1))
      continue;
    if (!policy.distinct_jurisdictions) {
      count++;
      continue;
    }
    unsigned j = 0;
    while (j < count && memcmp(seen[j], jur[i], 2) != 0)
      j++;
    if (j == count) {
      memcpy(seen[count], jur[i], 2);
      count++;
    }
  }
  /* Bits at or above nsources name sources that do not exist. */
  if (nsources < 64 && (mask >> nsources) != 0)
    return 0;
  return count >= policy.min_sources;
}

typedef struct {
  const uint8_t *hash;
  uint32_t source;
} att_key;

static int cmp_att(const void *a, const void *b, const void *ctx) {
  const att_key *x = a, *y = b;
  int c = memcmp(x->hash, y->hash, *(const size_t *)ctx);
  if (c)
    return c;
  return (x->source > y->source) - (x->source < y->source);
}

int vouch__attest_merge(const vouch_audit_attestation *att, size_t n, size_t hash_bytes,
                        vouch_audit_selected *out, size_t out_cap, size_t *out_n,
                        char jur[VOUCH_AUDIT_SOURCES_MAX][3]) {
  if (hash_bytes == 0 || hash_bytes > 32 || (n && (!att || !out)) || !out_n)
    return VOUCH_E_INVALID;
  memset(jur, 0, VOUCH_AUDIT_SOURCES_MAX * 3);
  for (size_t i = 0; i < n; i++) {
    const vouch_audit_attestation *a = &att[i];
    if (a->source >= VOUCH_AUDIT_SOURCES_MAX || !a->hash || !vouch__valid_jurisdiction(a->jurisdiction))
      return VOUCH_E_INVALID;
    if (jur[a->source][0] == 0)
      memcpy(jur[a->source], a->jurisdiction, 2);
    else if (memcmp(jur[a->source], a->jurisdiction, 2) != 0)
      return VOUCH_E_INVALID; /* one source, two jurisdictions */
  }
  att_key *keys = vouch__malloc((n ? n : 1) * sizeof *keys);
  if (!keys)
    return VOUCH_E_NOMEM;
  for (size_t i = 0; i < n; i++) {
    keys[i].hash = att[i].hash;
    keys[i].source = att[i].source;
  }
  int rc = vouch__sort(keys, n, sizeof *keys, cmp_att, &hash_bytes);
  size_t m = 0;
  for (size_t i = 0; rc == VOUCH_OK && i < n; i++) {
    if (m > 0 && memcmp(out[m - 1].hash, keys[i].hash, hash_bytes) == 0) {
      out[m - 1].sources |= (uint64_t)1 << keys[i].source;
      continue;
    }
    if (m == out_cap) {
      rc = VOUCH_E_INVALID;
      break;
    }
    memset(&out[m], 0, sizeof out[m]);
    memcpy(out[m].hash, keys[i].hash, hash_bytes);
    out[m].sources = (uint64_t)1 << keys[i].source;
    m++;
  }
  vouch__free(keys);
  *out_n = rc == VOUCH_OK ? m : 0;
  return rc;
}

int vouch_audit_select(const vouch_audit_attestation *att, size_t n, size_t hash_bytes, vouch_audit_policy policy,
                       vouch_audit_selected *out, size_t out_cap, size_t *out_n) {
  char jur[VOUCH_AUDIT_SOURCES_MAX][3];
  if (policy.min_sources == 0 || policy.min_sources > VOUCH_AUDIT_SOURCES_MAX || policy.distinct_jurisdictions > 1)
    return VOUCH_E_INVALID;
  size_t m = 0;
  VOUCH_TRY(vouch__attest_merge(att, n, hash_bytes, out, out_cap, &m, jur));
  size_t k = 0;
  for (size_t i = 0; i < m; i++)
    if (vouch__policy_met(out[i].sources, (const char(*)[3])jur, VOUCH_AUDIT_SOURCES_MAX, policy))
      out[k++] = out[i];
  *out_n = k;
  return VOUCH_OK;
}
