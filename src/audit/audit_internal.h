/* src/audit/audit_internal.h -- helpers shared by the audit module's files. */
#ifndef VOUCH_AUDIT_INTERNAL_H
#define VOUCH_AUDIT_INTERNAL_H
#include <string.h>
#include "vouch/audit.h"
#include "common/internal.h"

/* Signature domains: each kind of signed object signs
 * context || 0x00 || SHA-256 digest, with its own context string. */
#define VOUCH__CTX_LIST "vouch/source-list/v1"
#define VOUCH__CTX_STH "vouch/tree-head/v1"

VOUCH_HIDDEN void vouch__sign_digest(const char *ctx, const uint8_t digest[32],
                                     const uint8_t sk[VOUCH_AUDIT_SK_BYTES], uint8_t sig[VOUCH_AUDIT_SIG_BYTES]);
VOUCH_HIDDEN int vouch__verify_digest(const char *ctx, const uint8_t digest[32],
                                      const uint8_t pk[VOUCH_AUDIT_PK_BYTES],
                                      const uint8_t sig[VOUCH_AUDIT_SIG_BYTES]);

/* Name and jurisdiction rules (vouch/audit.h). */
VOUCH_HIDDEN int vouch__valid_name(const char *s, size_t len);
VOUCH_HIDDEN int vouch__valid_jurisdiction(const char *s);
VOUCH_HIDDEN int vouch__valid_date(const char *s);

/* The signed digest of a source list, from its header fields and the digest
 * of its hashes (so a table can carry the signature without the list). */
VOUCH_HIDDEN void vouch__list_signed_digest(const vouch_audit_identity *src, uint64_t list_version,
                                            const char *date, int algo, uint64_t count,
                                            const uint8_t hashes_digest[32], uint8_t out[32]);

/* Does a mask of sources meet the policy?  jur[i] is source i's jurisdiction. */
VOUCH_HIDDEN int vouch__policy_met(uint64_t mask, const char (*jur)[3], size_t nsources,
                                   vouch_audit_policy policy);

/* All distinct hashes with the mask of sources attesting each, sorted.
 * jur[i] receives source i's jurisdiction ("" if it attests nothing). */
VOUCH_HIDDEN int vouch__attest_merge(const vouch_audit_attestation *att, size_t n, size_t hash_bytes,
                                     vouch_audit_selected *out, size_t out_cap, size_t *out_n,
                                     char jur[VOUCH_AUDIT_SOURCES_MAX][3]);

/* Stable merge sort of n fixed-size records with a context comparator. */
typedef int (*vouch__cmp_fn)(const void *a, const void *b, const void *ctx);
VOUCH_HIDDEN int vouch__sort(void *base, size_t n, size_t size, vouch__cmp_fn cmp, const void *ctx);

/* Parses n decimal digits (no sign, no spaces, 1..20 of them) into *out
 * without overflow.  Returns 1 on success, 0 otherwise.  Text formats only. */
VOUCH_HIDDEN int vouch__audit_parse_u64(const char *s, size_t n, uint64_t *out);

#endif
