/*
 * vouch/audit.h -- the auditable database: signed source lists, the
 * two-source rule, the audited table and its Merkle tree, signed tree heads,
 * the log of published heads, and the client's pinned trust.
 *
 * The whole design and every file format, byte by byte, is in docs/audit.md.
 * In short:
 *   - A source (an organisation) has an Ed25519 key and a jurisdiction.  It
 *     signs the list of hashes it supplies (sorted, no duplicates, with a
 *     list version and a date): a ".vsl" file.
 *   - vouch_audit_select() keeps the hashes attested by at least
 *     `min_sources` sources, counted by distinct jurisdiction.
 *   - The audited table (".vdb") lists, in canonical order, what was added
 *     and removed in each database version.  Its leaves are append-only, so
 *     an RFC 9162 consistency proof shows that a new version only appended
 *     additions or removals of listed entries.  The live set (added and not
 *     removed) is what the index and the PSI public data are built from.
 *   - A signed tree head (".vsth") binds the database version, the tree size
 *     and root, the rule (min_sources, distinct jurisdictions), the digest of
 *     the sources' signed lists and the digest of the PSI public data.
 *   - The log (".vlog") is the sequence of tree heads, each linked to the
 *     previous one by a consistency proof.
 *   - A trust file pins server keys, source keys, the rule and known roots.
 *
 * All parsers accept untrusted bytes: they check every length against the
 * buffer and return VOUCH_E_AUDIT_FORMAT (or VOUCH_E_DB_VERSION for an
 * unknown format version) rather than reading out of bounds.
 * Signatures are Ed25519 (libsodium) over a context string, a zero byte and
 * a SHA-256 digest, so each kind of signed object has its own domain.
 */
#ifndef VOUCH_AUDIT_H
#define VOUCH_AUDIT_H

#include "common.h"
#include "errors.h"
#include "merkle.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_AUDIT_PK_BYTES 32U
#define VOUCH_AUDIT_SK_BYTES 64U
#define VOUCH_AUDIT_SIG_BYTES 64U
#define VOUCH_AUDIT_DIGEST_BYTES 32U
#define VOUCH_AUDIT_NAME_MAX 64U        /* bytes of a source or server name */
#define VOUCH_AUDIT_DATE_BYTES 10U      /* "YYYY-MM-DD" */
#define VOUCH_AUDIT_SOURCES_MAX 64U     /* sources per database (a 64-bit mask) */
#define VOUCH_AUDIT_LIST_MAX (1UL << 27) /* hashes in one source list */
#define VOUCH_AUDIT_LEAVES_MAX (1UL << 28) /* leaves in one audited table */
#define VOUCH_AUDIT_LOG_MAX 1000000UL   /* tree heads in one log */

VOUCH_API size_t vouch_audit_pk_bytes(void);
VOUCH_API size_t vouch_audit_sig_bytes(void);

/*! vouch_audit_free() : the same as vouch_free(), which frees the buffers
 *  the audit functions allocate (an older name, kept for existing programs). */
VOUCH_API void vouch_audit_free(void *p);
/*! vouch_audit_digest() : SHA-256 of `len` bytes, as used for the PSI
 *  digest a tree head binds (the whole .vpd file). */
VOUCH_API void vouch_audit_digest(const uint8_t *buf, size_t len, uint8_t out[VOUCH_AUDIT_DIGEST_BYTES]);
/*! vouch_audit_wipe() : overwrites n bytes at p with zeros in a way the
 *  compiler cannot drop (for buffers that held secret keys). */
VOUCH_API void vouch_audit_wipe(void *p, size_t n);

/* ================================================================== keys */

typedef enum vouch_audit_role {
  VOUCH_AUDIT_ROLE_SOURCE = 1, /* signs source lists */
  VOUCH_AUDIT_ROLE_SERVER = 2  /* signs tree heads (the database operator) */
} vouch_audit_role;

/* Who a key belongs to.  `jurisdiction` is two ASCII capital letters (ISO
 * 3166-1 alpha-2) and a NUL; `name` is 1..64 bytes of [A-Za-z0-9._-] and a NUL. */
typedef struct vouch_audit_identity {
  uint8_t role;
  char jurisdiction[3];
  char name[VOUCH_AUDIT_NAME_MAX + 1];
  uint8_t pk[VOUCH_AUDIT_PK_BYTES];
} vouch_audit_identity;

typedef struct vouch_audit_secret_key {
  vouch_audit_identity id;
  uint8_t sk[VOUCH_AUDIT_SK_BYTES]; /* libsodium Ed25519 secret key (seed || pk) */
} vouch_audit_secret_key;

/* Encoded sizes (docs/audit.md, "Key files"). */
#define VOUCH_AUDIT_PUBKEY_FILE_BYTES 112U
#define VOUCH_AUDIT_SECKEY_FILE_BYTES 172U

/*! vouch_audit_keygen() :
 *  A fresh key for `role`, `name` and `jurisdiction` (validated as above).
 *  Wipe `out` with vouch_audit_secret_key_wipe() when done.
 * @return : VOUCH_OK or VOUCH_E_INVALID. */
VOUCH_API int vouch_audit_keygen(int role, const char *name, const char *jurisdiction,
                                 vouch_audit_secret_key *out);
/*! vouch_audit_secret_key_wipe() : overwrites the whole struct with zeros. */
VOUCH_API void vouch_audit_secret_key_wipe(vouch_audit_secret_key *k);

/*! Encoders write exactly VOUCH_AUDIT_{PUB,SEC}KEY_FILE_BYTES bytes. */
VOUCH_API void vouch_audit_pubkey_encode(const vouch_audit_identity *id,
                                         uint8_t out[VOUCH_AUDIT_PUBKEY_FILE_BYTES]);
VOUCH_API void vouch_audit_seckey_encode(const vouch_audit_secret_key *k,
                                         uint8_t out[VOUCH_AUDIT_SECKEY_FILE_BYTES]);
/*! Decoders validate everything, including that the secret key's public half
 *  matches.  @return : VOUCH_OK, VOUCH_E_AUDIT_FORMAT or VOUCH_E_DB_VERSION. */
VOUCH_API int vouch_audit_pubkey_decode(const uint8_t *buf, size_t len, vouch_audit_identity *out);
VOUCH_API int vouch_audit_seckey_decode(const uint8_t *buf, size_t len, vouch_audit_secret_key *out);

/* ========================================================= source lists */

/* A parsed, signature-checked source list.  `hashes` points into the buffer
 * given to vouch_audit_list_open(), which must outlive this struct. */
typedef struct vouch_audit_list {
  vouch_audit_identity source;          /* role is VOUCH_AUDIT_ROLE_SOURCE */
  uint64_t list_version;
  char date[VOUCH_AUDIT_DATE_BYTES + 1];
  int algo;                             /* VOUCH_ALGO_* */
  size_t hash_bytes;
  uint64_t count;
  const uint8_t *hashes;                /* count * hash_bytes, strictly ascending */
  uint8_t hashes_digest[VOUCH_AUDIT_DIGEST_BYTES]; /* SHA-256 of the hashes */
  uint8_t signature[VOUCH_AUDIT_SIG_BYTES];
} vouch_audit_list;

/*! vouch_audit_list_sign() :
 *  Builds and signs the canonical list of `n` hashes (any order; sorted and
 *  deduplicated here) of algorithm `algo`, with `list_version` and `date`
 *  ("YYYY-MM-DD").  `*out` is allocated; free it with vouch_free().
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_LIMIT or VOUCH_E_NOMEM. */
VOUCH_API int vouch_audit_list_sign(const vouch_audit_secret_key *key, int algo, uint64_t list_version,
                                    const char *date, const uint8_t *hashes, size_t n, uint8_t **out,
                                    size_t *out_len);

/*! vouch_audit_list_open() :
 *  Parses a list and checks its signature against the key it names.
 * @return : VOUCH_OK, VOUCH_E_AUDIT_FORMAT, VOUCH_E_DB_VERSION, VOUCH_E_LIMIT
 *           or VOUCH_E_AUDIT_SIGNATURE. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_audit_list_open(const uint8_t *buf, size_t len, vouch_audit_list *out);

/* ====================================================== the two-source rule */

typedef struct vouch_audit_policy {
  uint8_t min_sources;            /* 1..VOUCH_AUDIT_SOURCES_MAX */
  uint8_t distinct_jurisdictions; /* 1: sources in one jurisdiction count once */
} vouch_audit_policy;
#define VOUCH_AUDIT_POLICY_DEFAULT {2, 1}

/* One claim: source number `source` (< VOUCH_AUDIT_SOURCES_MAX) in
 * `jurisdiction` lists `hash`. */
typedef struct vouch_audit_attestation {
  const uint8_t *hash;
  uint32_t source;
  char jurisdiction[2];
} vouch_audit_attestation;

typedef struct vouch_audit_selected {
  uint8_t hash[32];  /* hash_bytes used, rest zero */
  uint64_t sources;  /* bit i: source i attests the hash */
} vouch_audit_selected;

/*! vouch_audit_select() :
 *  The two-source rule as a pure function.  Returns, sorted by hash, every
 *  hash whose attesting sources meet `policy`: at least min_sources distinct
 *  sources, or with distinct_jurisdictions at least min_sources distinct
 *  jurisdictions.  Repeated attestations count once.  `out` needs room for
 *  `n` entries (an upper bound); `*out_n` receives the count.
 * @return : VOUCH_OK; VOUCH_E_INVALID for a bad policy, hash_bytes not in
 *           1..32, a source number out of range, or one source given two
 *           jurisdictions; VOUCH_E_NOMEM. */
VOUCH_API int vouch_audit_select(const vouch_audit_attestation *att, size_t n, size_t hash_bytes,
                                 vouch_audit_policy policy, vouch_audit_selected *out, size_t out_cap,
                                 size_t *out_n);

/* ==================================================== the audited table */

typedef struct vouch_audit_db vouch_audit_db;

/* One leaf of the audited tree (docs/audit.md, "Leaves"). */
#define VOUCH_AUDIT_OP_ADD 1
#define VOUCH_AUDIT_OP_REMOVE 2
typedef struct vouch_audit_leaf {
  int op;               /* VOUCH_AUDIT_OP_* */
  uint64_t db_version;  /* the database version that appended this leaf */
  const uint8_t *hash;  /* hash_bytes bytes, inside the db */
  uint64_t sources;     /* attesting sources at that version (bit i = source i) */
} vouch_audit_leaf;

/* What a source contributed to one database version. */
typedef struct vouch_audit_source_record {
  vouch_audit_identity source;
  int has_list;                  /* 0: the source supplied no list for this version */
  uint64_t list_version;
  char date[VOUCH_AUDIT_DATE_BYTES + 1];
  uint64_t count;
  uint8_t hashes_digest[VOUCH_AUDIT_DIGEST_BYTES];
  uint8_t signature[VOUCH_AUDIT_SIG_BYTES];
} vouch_audit_source_record;

/*! vouch_audit_db_build() :
 *  Builds the next database version from `prev` (NULL for version 1) and the
 *  opened lists `lists[0..nlists)` (one per source; all the same algorithm;
 *  each signature was checked by vouch_audit_list_open()).  Sources keep the
 *  numbers they had in `prev`; new sources are numbered after them in order
 *  of public key.  The new leaves are appended after prev's: first removals
 *  of live hashes that no longer meet `policy`, then additions of hashes that
 *  meet it and are not live, each group sorted by hash.  The policy must be
 *  the one `prev` was built with.  Deterministic: the same inputs give the
 *  same bytes.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_ALGO_MISMATCH,
 *           VOUCH_E_AUDIT_POLICY (policy changed), VOUCH_E_LIMIT, VOUCH_E_NOMEM. */
VOUCH_API int vouch_audit_db_build(vouch_audit_db **out, const vouch_audit_db *prev, const vouch_audit_list *lists,
                                   size_t nlists, vouch_audit_policy policy);

/*! vouch_audit_db_parse() :
 *  Parses an encoded table (copied), checks the stored root against the
 *  leaves, every leaf's op and version, that removals remove live hashes,
 *  additions add non-live ones, and that every addition meets the policy.
 * @return : VOUCH_OK, VOUCH_E_AUDIT_FORMAT, VOUCH_E_DB_VERSION,
 *           VOUCH_E_AUDIT_PROOF (root mismatch), VOUCH_E_AUDIT_POLICY, VOUCH_E_NOMEM. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_audit_db_parse(vouch_audit_db **out, const uint8_t *buf, size_t len);

/*! vouch_audit_db_encode() : `*out` allocated, free with vouch_free(). */
VOUCH_API int vouch_audit_db_encode(const vouch_audit_db *db, uint8_t **out, size_t *out_len);
VOUCH_API void vouch_audit_db_free(vouch_audit_db *db); /* NULL is a no-op */

VOUCH_API uint64_t vouch_audit_db_version(const vouch_audit_db *db);
VOUCH_API int vouch_audit_db_algo(const vouch_audit_db *db);
VOUCH_API vouch_audit_policy vouch_audit_db_policy(const vouch_audit_db *db);
VOUCH_API uint64_t vouch_audit_db_size(const vouch_audit_db *db);      /* leaves */
VOUCH_API uint64_t vouch_audit_db_live_count(const vouch_audit_db *db);
VOUCH_API void vouch_audit_db_root(const vouch_audit_db *db, uint8_t root[VOUCH_MERKLE_HASH_BYTES]);
/*! The digest of the source records (what the tree head signs). */
VOUCH_API void vouch_audit_db_sources_digest(const vouch_audit_db *db, uint8_t d[VOUCH_AUDIT_DIGEST_BYTES]);
VOUCH_API size_t vouch_audit_db_nsources(const vouch_audit_db *db);
VOUCH_API int vouch_audit_db_source(const vouch_audit_db *db, size_t i, vouch_audit_source_record *out);
VOUCH_API int vouch_audit_db_leaf(const vouch_audit_db *db, uint64_t i, vouch_audit_leaf *out);
/*! The encoded bytes of leaf i (what the tree hashes) and their length. */
VOUCH_API const uint8_t *vouch_audit_db_leaf_bytes(const vouch_audit_db *db, uint64_t i, size_t *len);
/*! vouch_audit_db_live() :
 *  The live hashes (added and not removed), sorted, written to `out`
 *  (live_count * hash_bytes bytes): the set the index and the PSI table are
 *  built from.  @return : VOUCH_OK or VOUCH_E_INVALID (out_cap too small). */
VOUCH_API int vouch_audit_db_live(const vouch_audit_db *db, uint8_t *out, size_t out_cap);
/*! vouch_audit_db_find() : the index of the leaf that added the live `hash`.
 * @return : VOUCH_OK or VOUCH_E_NOT_FOUND. */
VOUCH_API int vouch_audit_db_find(const vouch_audit_db *db, const uint8_t *hash, uint64_t *leaf_index);
/*! vouch_audit_db_prove() : inclusion proof of leaf i.  @see vouch_merkle_inclusion_proof. */
VOUCH_API int vouch_audit_db_prove(const vouch_audit_db *db, uint64_t i,
                                   uint8_t proof[VOUCH_MERKLE_PROOF_MAX * VOUCH_MERKLE_HASH_BYTES],
                                   size_t *proof_n);
/*! vouch_audit_db_consistency() : proof that the first old_size leaves are a
 *  prefix of db.  @see vouch_merkle_consistency_proof. */
VOUCH_API int vouch_audit_db_consistency(const vouch_audit_db *db, uint64_t old_size,
                                         uint8_t proof[VOUCH_MERKLE_PROOF_MAX * VOUCH_MERKLE_HASH_BYTES],
                                         size_t *proof_n);
/*! vouch_audit_db_check_lists() :
 *  The auditor's check: `lists` are the sources' signed lists for this
 *  version; each must match its source record (key, version, date, count,
 *  digest, signature), and rebuilding the live set's attestations from them
 *  must give exactly the leaves of this version (for version 1: the whole
 *  table).  Needs `prev` for versions > 1 (NULL otherwise).
 * @return : VOUCH_OK, VOUCH_E_AUDIT_POLICY (lists do not give this table),
 *           VOUCH_E_AUDIT_SIGNATURE, VOUCH_E_INVALID, VOUCH_E_NOMEM. */
VOUCH_API int vouch_audit_db_check_lists(const vouch_audit_db *db, const vouch_audit_db *prev,
                                         const vouch_audit_list *lists, size_t nlists);
/*! vouch_audit_db_verify_sources() : checks each source record's signature
 *  against the key it names.  @return : VOUCH_OK or VOUCH_E_AUDIT_SIGNATURE;
 *  `*bad` (may be NULL) receives the first failing record's number. */
VOUCH_API int vouch_audit_db_verify_sources(const vouch_audit_db *db, size_t *bad);

/* The one bank name of an audited index. */
#define VOUCH_AUDIT_INDEX_BANK "audited"

/*! vouch_audit_index_write() :
 *  Writes the index file `path` (vouch_index_write(), vouch/index.h) of the
 *  live set of `db`: exactly the live hashes, in bank VOUCH_AUDIT_INDEX_BANK,
 *  each entry with
 *    source   = its attestation set: the names of the sources whose signed
 *               lists put it in (the leaf's source bits), in source order,
 *               joined with ',';
 *    ext_id   = "leaf:N", N the table leaf that added it;
 *    entry_id = N + 1.
 *  The index's canonical leaf includes all three, so the index root commits
 *  to who attested each hash and where the table added it.  The same table
 *  always gives the same file and root.  `root` (may be NULL) receives the
 *  index root; on failure `err` (may be NULL) may receive vouch_index_write()'s
 *  detail and no file is left behind.
 * @return : VOUCH_OK, VOUCH_E_INVALID (db or path NULL), VOUCH_E_NOMEM,
 *           vouch_index_write()'s codes (VOUCH_E_LIMIT, VOUCH_E_IO). */
VOUCH_API int vouch_audit_index_write(const vouch_audit_db *db, const char *path,
                                      uint8_t root[VOUCH_MERKLE_HASH_BYTES], char *err, size_t err_cap);

/* ===================================================== signed tree heads */

#define VOUCH_AUDIT_STH_BYTES 268U
typedef struct vouch_audit_sth {
  uint8_t server_pk[VOUCH_AUDIT_PK_BYTES];
  uint64_t db_version;
  uint64_t timestamp;      /* seconds since 1970 (UTC) */
  uint64_t tree_size;
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  int algo;
  vouch_audit_policy policy;
  uint8_t nsources;
  uint8_t sources_digest[VOUCH_AUDIT_DIGEST_BYTES];
  uint8_t index_root[VOUCH_MERKLE_HASH_BYTES];  /* the .vidx Merkle root; all zero: none bound */
  uint8_t psi_digest[VOUCH_AUDIT_DIGEST_BYTES]; /* all zero: no PSI data bound */
  uint64_t live_count;     /* hashes in the live set */
  uint8_t signature[VOUCH_AUDIT_SIG_BYTES];
} vouch_audit_sth;

/*! vouch_audit_sth_make() : fills and signs a tree head for `db`.
 *  `index_root` (the root of the index built from db's live set, see
 *  vouch/index.h) and `psi_digest` (SHA-256 of the PSI public data without
 *  its audit block, docs/audit.md) may be NULL: nothing bound.
 * @return : VOUCH_OK or VOUCH_E_INVALID (key is not a server key). */
VOUCH_API int vouch_audit_sth_make(const vouch_audit_db *db, const vouch_audit_secret_key *server,
                                   uint64_t timestamp, const uint8_t *index_root, const uint8_t *psi_digest,
                                   vouch_audit_sth *out);
VOUCH_API void vouch_audit_sth_encode(const vouch_audit_sth *sth, uint8_t out[VOUCH_AUDIT_STH_BYTES]);
/*! vouch_audit_sth_decode() : parses and checks the signature against
 *  sth->server_pk.  @return : VOUCH_OK, VOUCH_E_AUDIT_FORMAT, VOUCH_E_DB_VERSION
 *  or VOUCH_E_AUDIT_SIGNATURE. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_audit_sth_decode(const uint8_t *buf, size_t len, vouch_audit_sth *out);
/*! vouch_audit_sth_matches_db() : the head describes exactly `db` (version,
 *  size, root, algo, policy, sources).  @return : VOUCH_OK or VOUCH_E_AUDIT_PROOF. */
VOUCH_API int vouch_audit_sth_matches_db(const vouch_audit_sth *sth, const vouch_audit_db *db);

/* ===================================================== inclusion proofs */

#define VOUCH_AUDIT_LEAF_MAX 64U
/* One entry's inclusion proof as exchanged between programs (text form in
 * docs/audit.md, "Inclusion proof"). */
typedef struct vouch_audit_inclusion {
  uint64_t db_version, tree_size, index;
  size_t leaf_len;
  uint8_t leaf[VOUCH_AUDIT_LEAF_MAX];
  size_t proof_n;
  uint8_t proof[VOUCH_MERKLE_PROOF_MAX * VOUCH_MERKLE_HASH_BYTES];
} vouch_audit_inclusion;

/*! vouch_audit_inclusion_make() : the proof for leaf `i` of `db`. */
VOUCH_API int vouch_audit_inclusion_make(const vouch_audit_db *db, uint64_t i, vouch_audit_inclusion *out);
/*! vouch_audit_inclusion_format() : the text form; `*out` allocated, free
 *  with vouch_free(); NUL-terminated, `*out_len` without the NUL. */
VOUCH_API int vouch_audit_inclusion_format(const vouch_audit_inclusion *inc, char **out, size_t *out_len);
/*! vouch_audit_inclusion_parse() : parses the text form.
 * @return : VOUCH_OK or VOUCH_E_AUDIT_FORMAT. */
VOUCH_API int vouch_audit_inclusion_parse(const char *text, size_t len, vouch_audit_inclusion *out);
/*! vouch_audit_inclusion_verify() :
 *  The proof is for `sth` (same version and size), the leaf is a
 *  well-formed addition of the head's algorithm, and the path leads to the
 *  head's root.  `hash` (may be NULL) receives a pointer to the hash inside
 *  inc->leaf.  @return : VOUCH_OK, VOUCH_E_AUDIT_FORMAT or VOUCH_E_AUDIT_PROOF.
 *  Note: this shows the hash was added; that it was not removed later is
 *  shown by its absence from the removals (the table), not by this proof. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_audit_inclusion_verify(const vouch_audit_inclusion *inc,
                                                             const vouch_audit_sth *sth, const uint8_t **hash);

/* =================================================================== log */

typedef struct vouch_audit_log vouch_audit_log;

/*! vouch_audit_log_create() : an empty log for the server key `server_pk`. */
VOUCH_API int vouch_audit_log_create(vouch_audit_log **out, const uint8_t server_pk[VOUCH_AUDIT_PK_BYTES]);
/*! vouch_audit_log_parse() :
 *  Parses a log and verifies it completely: each head signed by the log's
 *  key, versions 1, 2, 3... without gaps, the rule and algorithm unchanged,
 *  and each head linked to the previous one by a valid consistency proof.
 *  `*bad_record` (may be NULL) receives the first record that failed.
 * @return : VOUCH_OK, VOUCH_E_AUDIT_FORMAT, VOUCH_E_DB_VERSION, VOUCH_E_LIMIT,
 *           VOUCH_E_AUDIT_SIGNATURE, VOUCH_E_AUDIT_PROOF, VOUCH_E_AUDIT_FORK
 *           (two heads for one version), VOUCH_E_AUDIT_POLICY, VOUCH_E_NOMEM. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_audit_log_parse(vouch_audit_log **out, const uint8_t *buf, size_t len,
                                                      size_t *bad_record);
VOUCH_API int vouch_audit_log_encode(const vouch_audit_log *log, uint8_t **out, size_t *out_len);
VOUCH_API void vouch_audit_log_free(vouch_audit_log *log); /* NULL is a no-op */
/*! vouch_audit_log_append() :
 *  Appends `sth` (signed by the log's key, version = last + 1) with the
 *  consistency proof from the previous head.  The proof is verified first;
 *  nothing changes on error.  @return : as vouch_audit_log_parse(). */
VOUCH_API int vouch_audit_log_append(vouch_audit_log *log, const vouch_audit_sth *sth, const uint8_t *proof,
                                     size_t proof_n);
VOUCH_API size_t vouch_audit_log_count(const vouch_audit_log *log);
VOUCH_API void vouch_audit_log_server_pk(const vouch_audit_log *log, uint8_t pk[VOUCH_AUDIT_PK_BYTES]);
/*! vouch_audit_log_get() : record i (0-based; record i holds version i+1). */
VOUCH_API int vouch_audit_log_get(const vouch_audit_log *log, size_t i, vouch_audit_sth *sth,
                                  const uint8_t **proof, size_t *proof_n);
/*! vouch_audit_log_compare() :
 *  Fork detection between two views of a log (e.g. the one a client kept and
 *  the one it downloads now): same key, and every version present in both
 *  has byte-identical heads.  @return : VOUCH_OK, VOUCH_E_AUDIT_FORK
 *  (`*version` receives the first version with two heads) or VOUCH_E_INVALID. */
VOUCH_API int vouch_audit_log_compare(const vouch_audit_log *a, const vouch_audit_log *b, uint64_t *version);
/*! vouch_audit_log_check_sth() : `sth` agrees with the log: the record for
 *  its version is byte-identical.  @return : VOUCH_OK, VOUCH_E_NOT_FOUND
 *  (version not in the log) or VOUCH_E_AUDIT_FORK. */
VOUCH_API int vouch_audit_log_check_sth(const vouch_audit_log *log, const vouch_audit_sth *sth);

/* ============================================================ trust pins */

#define VOUCH_AUDIT_TRUST_MAX 64U
typedef struct vouch_audit_pin {
  uint64_t db_version;
  uint64_t tree_size;
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
} vouch_audit_pin;

/* What a client trusts (docs/audit.md, "Trust file"). */
typedef struct vouch_audit_trust {
  size_t nservers, nsources, npins;
  uint8_t servers[VOUCH_AUDIT_TRUST_MAX][VOUCH_AUDIT_PK_BYTES];
  uint8_t sources[VOUCH_AUDIT_TRUST_MAX][VOUCH_AUDIT_PK_BYTES];
  char source_jurisdiction[VOUCH_AUDIT_TRUST_MAX][3];
  vouch_audit_pin pins[VOUCH_AUDIT_TRUST_MAX];
  int has_policy;
  vouch_audit_policy min_policy; /* the weakest rule the client accepts */
} vouch_audit_trust;

/*! vouch_audit_trust_parse() : parses the text trust file.
 * @return : VOUCH_OK, VOUCH_E_AUDIT_FORMAT (`*bad_line`, may be NULL, gets
 *           the 1-based line) or VOUCH_E_LIMIT. */
VOUCH_API int vouch_audit_trust_parse(const char *text, size_t len, vouch_audit_trust *out, size_t *bad_line);

/* What vouch_audit_check() verified; each field is a vouch_rc, or -1 when
 * the check was not possible with the inputs given. */
typedef struct vouch_audit_report {
  int sth_signature;   /* the head's signature against the key it names */
  int sth_matches_db;  /* head describes the table (root recomputed) */
  int source_sigs;     /* every source record's signature */
  int policy;          /* every addition meets the rule recorded in the head */
  int trusted_server;  /* head signed by a pinned server key */
  int trusted_sources; /* every source with a list is pinned, same jurisdiction */
  int trusted_policy;  /* the head's rule is at least the pinned one */
  int log;             /* head is in the log, log fully verifies */
  int pins;            /* every pinned root is in the log (or is this head), and the
                          log extends it by consistency proofs */
  int index_root;      /* head's index root equals the given one */
  int psi_digest;      /* head's PSI digest equals the given one */
} vouch_audit_report;

/*! vouch_audit_check() :
 *  The client and auditor check.  `sth` is required; `db`, `log`, `trust`,
 *  `index_root` and `psi_digest` may be NULL (the corresponding checks are
 *  then -1).
 *  Fills `report` and returns the first failing code (VOUCH_OK if none).
 *  With `trust`: the head's key must be pinned if any server key is; a
 *  trust file with neither server keys nor roots trusts nothing.
 *  A check that needs trust but finds no pins for it fails with
 *  VOUCH_E_AUDIT_UNTRUSTED. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_audit_check(const vouch_audit_sth *sth, const vouch_audit_db *db,
                                                  const vouch_audit_log *log, const vouch_audit_trust *trust,
                                                  const uint8_t *index_root, const uint8_t *psi_digest,
                                                  vouch_audit_report *report);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_AUDIT_H */
