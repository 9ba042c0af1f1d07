/* src/merkle/merkle.c -- RFC 9162 Merkle tree head (see vouch/merkle.h).
 *
 * We fold leaves left to right with a stack of perfect subtrees: after
 * pushing leaf i, subtrees of equal size merge, exactly like binary carry.
 * At the end the stack holds the perfect subtrees of sizes given by the bits
 * of n, largest first; RFC 9162's split at the largest power of two below n
 * is the same as merging them right to left.  Stack depth <= 64. */
#include <string.h>
#include <sodium.h>
#include "vouch/merkle.h"
#include "common/internal.h"

void vouch_merkle_leaf_hash(const uint8_t *data, size_t len, uint8_t out[VOUCH_MERKLE_HASH_BYTES]) {
  crypto_hash_sha256_state st;
  const uint8_t prefix = 0x00;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, &prefix, 1);
  crypto_hash_sha256_update(&st, data, len);
  crypto_hash_sha256_final(&st, out);
}

void vouch_merkle_node_hash(const uint8_t left[VOUCH_MERKLE_HASH_BYTES],
                            const uint8_t right[VOUCH_MERKLE_HASH_BYTES],
                            uint8_t out[VOUCH_MERKLE_HASH_BYTES]) {
  uint8_t buf[1 + 2 * VOUCH_MERKLE_HASH_BYTES];
  buf[0] = 0x01;
  memcpy(buf + 1, left, VOUCH_MERKLE_HASH_BYTES);
  memcpy(buf + 1 + VOUCH_MERKLE_HASH_BYTES, right, VOUCH_MERKLE_HASH_BYTES);
  crypto_hash_sha256(out, buf, sizeof buf);
}

typedef struct {
  uint8_t hash[64][VOUCH_MERKLE_HASH_BYTES];
  uint64_t size[64];
  int depth;
} merkle_stack;

static void stack_push(merkle_stack *s, const uint8_t h[VOUCH_MERKLE_HASH_BYTES]) {
  memcpy(s->hash[s->depth], h, VOUCH_MERKLE_HASH_BYTES);
  s->size[s->depth] = 1;
  s->depth++;
  while (s->depth >= 2 && s->size[s->depth - 1] == s->size[s->depth - 2]) {
    vouch_merkle_node_hash(s->hash[s->depth - 2], s->hash[s->depth - 1], s->hash[s->depth - 2]);
    s->size[s->depth - 2] *= 2;
    s->depth--;
  }
}

static void stack_finish(merkle_stack *s, uint8_t root[VOUCH_MERKLE_HASH_BYTES]) {
  if (s->depth == 0) {
    crypto_hash_sha256(root, (const unsigned char *)"", 0);
    return;
  }
  uint8_t acc[VOUCH_MERKLE_HASH_BYTES];
  memcpy(acc, s->hash[s->depth - 1], sizeof acc);
  for (int i = s->depth - 2; i >= 0; i--)
    vouch_merkle_node_hash(s->hash[i], acc, acc);
  memcpy(root, acc, sizeof acc);
}

int vouch_merkle_root_from_leaf_hashes(const uint8_t *leaf_hashes, size_t n,
                                       uint8_t root[VOUCH_MERKLE_HASH_BYTES]) {
  merkle_stack *s = vouch__malloc(sizeof *s);
  if (!s) return VOUCH_E_NOMEM;
  s->depth = 0;
  for (size_t i = 0; i < n; i++)
    stack_push(s, leaf_hashes + i * VOUCH_MERKLE_HASH_BYTES);
  stack_finish(s, root);
  vouch__free(s);
  return VOUCH_OK;
}

int vouch_merkle_root(const uint8_t *leaves, size_t n, size_t leaf_len,
                      uint8_t root[VOUCH_MERKLE_HASH_BYTES]) {
  merkle_stack *s = vouch__malloc(sizeof *s);
  if (!s) return VOUCH_E_NOMEM;
  s->depth = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t lh[VOUCH_MERKLE_HASH_BYTES];
    vouch_merkle_leaf_hash(leaves + i * leaf_len, leaf_len, lh);
    stack_push(s, lh);
  }
  stack_finish(s, root);
  vouch__free(s);
  return VOUCH_OK;
}
