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

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_MERKLE_H */
