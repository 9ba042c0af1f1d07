/*
 * vouch/merkle.h -- Merkle tree hashing as in RFC 9162 (Certificate
 * Transparency 2.0), section 2.1, with SHA-256:
 *   MTH({})        = SHA-256()
 *   MTH({d0})      = SHA-256(0x00 || d0)                     (leaf hash)
 *   MTH(D[0:n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])),
 *                    k the largest power of two smaller than n (node hash)
 * The 0x00/0x01 prefixes separate leaves from nodes, so a node can never be
 * passed off as a leaf.
 */
#ifndef VOUCH_MERKLE_H
#define VOUCH_MERKLE_H

#include "common.h"
#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_MERKLE_HASH_BYTES 32U

/*! vouch_merkle_leaf_hash() : SHA-256(0x00 || data). */
VOUCH_API void vouch_merkle_leaf_hash(const uint8_t *data, size_t len,
                                      uint8_t out[VOUCH_MERKLE_HASH_BYTES]);

/*! vouch_merkle_node_hash() : SHA-256(0x01 || left || right). */
VOUCH_API void vouch_merkle_node_hash(const uint8_t left[VOUCH_MERKLE_HASH_BYTES],
                                      const uint8_t right[VOUCH_MERKLE_HASH_BYTES],
                                      uint8_t out[VOUCH_MERKLE_HASH_BYTES]);

/*! vouch_merkle_root_from_leaf_hashes() :
 *  The tree head over `n` leaf hashes (each already vouch_merkle_leaf_hash()ed),
 *  stored back to back.  Runs in O(n) time and O(log n) extra space.
 * @return : VOUCH_OK, or VOUCH_E_NOMEM. */
VOUCH_API int vouch_merkle_root_from_leaf_hashes(const uint8_t *leaf_hashes, size_t n,
                                                 uint8_t root[VOUCH_MERKLE_HASH_BYTES]);

/*! vouch_merkle_root() :
 *  The tree head over `n` leaves of `leaf_len` bytes each, stored back to back
 *  (for example the canonical entries of an index).  n == 0 gives SHA-256("").
 * @return : VOUCH_OK, or VOUCH_E_NOMEM. */
VOUCH_API int vouch_merkle_root(const uint8_t *leaves, size_t n, size_t leaf_len,
                                uint8_t root[VOUCH_MERKLE_HASH_BYTES]);

/* ---- Proofs (RFC 9162 section 2.1.3 and 2.1.4) ----
 * A proof is a list of hashes stored back to back, at most
 * VOUCH_MERKLE_PROOF_MAX of them (the depth of a tree of 2^64 leaves). */
#define VOUCH_MERKLE_PROOF_MAX 64U

/*! vouch_merkle_inclusion_proof() :
 *  The audit path (RFC 9162 2.1.3.1) for leaf `index` in the tree over the
 *  `n` leaf hashes `leaf_hashes`.  `proof` must hold VOUCH_MERKLE_PROOF_MAX
 *  hashes; `*proof_n` receives the count.  O(n) time, O(log n) space.
 * @return : VOUCH_OK, VOUCH_E_INVALID if index >= n, or VOUCH_E_NOMEM. */
VOUCH_API int vouch_merkle_inclusion_proof(const uint8_t *leaf_hashes, uint64_t n, uint64_t index,
                                           uint8_t proof[VOUCH_MERKLE_PROOF_MAX * VOUCH_MERKLE_HASH_BYTES],
                                           size_t *proof_n);

/*! vouch_merkle_verify_inclusion() :
 *  Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves with
 *  head `root`, given the audit path `proof` (`proof_n` hashes), following
 *  RFC 9162 2.1.3.2.  Any input is safe (untrusted proofs welcome).
 * @return : VOUCH_OK or VOUCH_E_AUDIT_PROOF. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_merkle_verify_inclusion(const uint8_t leaf_hash[VOUCH_MERKLE_HASH_BYTES],
                                                              uint64_t index, uint64_t size,
                                                              const uint8_t *proof, size_t proof_n,
                                                              const uint8_t root[VOUCH_MERKLE_HASH_BYTES]);

/*! vouch_merkle_consistency_proof() :
 *  The consistency proof (RFC 9162 2.1.4.1) between the tree over the first
 *  `old_size` leaves and the tree over all `n` leaves.  0 < old_size <= n;
 *  old_size == n gives an empty proof.  Output as for the inclusion proof.
 * @return : VOUCH_OK, VOUCH_E_INVALID, or VOUCH_E_NOMEM. */
VOUCH_API int vouch_merkle_consistency_proof(const uint8_t *leaf_hashes, uint64_t n, uint64_t old_size,
                                             uint8_t proof[VOUCH_MERKLE_PROOF_MAX * VOUCH_MERKLE_HASH_BYTES],
                                             size_t *proof_n);

/*! vouch_merkle_verify_consistency() :
 *  Checks that the tree of `old_size` leaves with head `old_root` is a prefix
 *  of the tree of `new_size` leaves with head `new_root` (RFC 9162 2.1.4.2).
 *  old_size == new_size needs an empty proof and equal roots; old_size == 0
 *  needs an empty proof (the empty tree is a prefix of every tree).
 * @return : VOUCH_OK or VOUCH_E_AUDIT_PROOF. */
VOUCH_API VOUCH_WARN_UNUSED int vouch_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                                                const uint8_t old_root[VOUCH_MERKLE_HASH_BYTES],
                                                                const uint8_t new_root[VOUCH_MERKLE_HASH_BYTES],
                                                                const uint8_t *proof, size_t proof_n);

/*! vouch_merkle_root_mt() :
 *  Same result as vouch_merkle_root(), computed on `threads` threads (0 or 1:
 *  the calling thread only).  Aligned blocks of 2^16 leaves are perfect
 *  subtrees of the RFC 9162 tree, so threads hash whole blocks and the caller
 *  folds the block heads and the tail.  If a thread cannot be started, the
 *  calling thread does its share.
 * @return : VOUCH_OK, or VOUCH_E_NOMEM. */
VOUCH_API int vouch_merkle_root_mt(const uint8_t *leaves, size_t n, size_t leaf_len, unsigned threads,
                                   uint8_t root[VOUCH_MERKLE_HASH_BYTES]);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_MERKLE_H */
