/* src/merkle/proof.c -- RFC 9162 inclusion and consistency proofs, and the
 * multi-threaded tree head (see vouch/merkle.h).
 *
 * Generation follows the recursive definitions of RFC 9162 2.1.3.1 (PATH)
 * and 2.1.4.1 (SUBPROOF); each level needs the head of one sibling subtree,
 * which we compute with vouch_merkle_root_from_leaf_hashes() over that
 * range, so a proof costs O(n) hashes in all.  Verification follows the
 * bit-walking algorithms of 2.1.3.2 and 2.1.4.2 and never trusts a length or
 * index it was given. */
#include <string.h>
#include <sodium.h>
#include "vouch/merkle.h"
#include "common/internal.h"

#define HB VOUCH_MERKLE_HASH_BYTES

/* The largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n)
    k <<= 1;
  return k;
}

static int subtree_head(const uint8_t *leaf_hashes, uint64_t lo, uint64_t hi, uint8_t out[HB]) {
  return vouch_merkle_root_from_leaf_hashes(leaf_hashes + lo * HB, (size_t)(hi - lo), out);
}

/* ---------------------------------------------------------------- inclusion */

/* Appends hash h to the proof (*pn hashes so far). */
static int push(uint8_t *proof, size_t *pn, const uint8_t h[HB]) {
  if (*pn >= VOUCH_MERKLE_PROOF_MAX)
    return VOUCH_E_INTERNAL;
  memcpy(proof + *pn * HB, h, HB);
  (*pn)++;
  return VOUCH_OK;
}

/* PATH(m, D[lo:hi]); appends to proof in the RFC's order (deepest first). */
static int path_rec(const uint8_t *lh, uint64_t m, uint64_t lo, uint64_t hi, uint8_t *proof, size_t *pn) {
  uint64_t n = hi - lo;
  if (n <= 1)
    return VOUCH_OK;
  uint64_t k = split_point(n);
  uint8_t sib[HB];
  if (m < k) {
    VOUCH_TRY(path_rec(lh, m, lo, lo + k, proof, pn));
    VOUCH_TRY(subtree_head(lh, lo + k, hi, sib));
  } else {
    VOUCH_TRY(path_rec(lh, m - k, lo + k, hi, proof, pn));
    VOUCH_TRY(subtree_head(lh, lo, lo + k, sib));
  }
  return push(proof, pn, sib);
}

int vouch_merkle_inclusion_proof(const uint8_t *leaf_hashes, uint64_t n, uint64_t index,
                                 uint8_t proof[VOUCH_MERKLE_PROOF_MAX * HB], size_t *proof_n) {
  if (index >= n || !proof_n)
    return VOUCH_E_INVALID;
  *proof_n = 0;
  return path_rec(leaf_hashes, index, 0, n, proof, proof_n);
}

/* The bit walk RFC 9162's verifiers share (2.1.3.2 and 2.1.4.2): folds the
 * proof hashes into sr, and into fr (if not NULL) where the path climbs
 * from the right, starting at node fn of last node sn.  Returns 0 if the
 * proof ends exactly at the root's level, -1 if it is longer or shorter. */
static int walk(uint64_t fn, uint64_t sn, const uint8_t *proof, size_t proof_n, uint8_t *fr, uint8_t sr[HB]) {
  for (size_t i = 0; i < proof_n; i++) {
    const uint8_t *p = proof + i * HB;
    if (sn == 0)
      return -1; /* proof longer than the path */
    if ((fn & 1) || fn == sn) {
      if (fr)
        vouch_merkle_node_hash(p, fr, fr);
      vouch_merkle_node_hash(p, sr, sr);
      while (fn != 0 && !(fn & 1)) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      vouch_merkle_node_hash(sr, p, sr);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 ? 0 : -1;
}

int vouch_merkle_verify_inclusion(const uint8_t leaf_hash[HB], uint64_t index, uint64_t size,
                                  const uint8_t *proof, size_t proof_n, const uint8_t root[HB]) {
  if (index >= size || proof_n > VOUCH_MERKLE_PROOF_MAX)
    return VOUCH_E_AUDIT_PROOF;
  uint8_t r[HB];
  memcpy(r, leaf_hash, HB);
  if (walk(index, size - 1, proof, proof_n, NULL, r) != 0 || sodium_memcmp(r, root, HB) != 0)
    return VOUCH_E_AUDIT_PROOF;
  return VOUCH_OK;
}

/* -------------------------------------------------------------- consistency */

/* SUBPROOF(m, D[lo:hi], b). */
static int subproof_rec(const uint8_t *lh, uint64_t m, uint64_t lo, uint64_t hi, int b, uint8_t *proof,
                        size_t *pn) {
  uint64_t n = hi - lo;
  uint8_t h[HB];
  if (m == n) {
    if (b)
      return VOUCH_OK;
    VOUCH_TRY(subtree_head(lh, lo, hi, h));
  } else {
    uint64_t k = split_point(n);
    if (m <= k) {
      VOUCH_TRY(subproof_rec(lh, m, lo, lo + k, b, proof, pn));
      VOUCH_TRY(subtree_head(lh, lo + k, hi, h));
    } else {
      VOUCH_TRY(subproof_rec(lh, m - k, lo + k, hi, 0, proof, pn));
      VOUCH_TRY(subtree_head(lh, lo, lo + k, h));
    }
  }
  return push(proof, pn, h);
}

int vouch_merkle_consistency_proof(const uint8_t *leaf_hashes, uint64_t n, uint64_t old_size,
                                   uint8_t proof[VOUCH_MERKLE_PROOF_MAX * HB], size_t *proof_n) {
  if (old_size == 0 || old_size > n || !proof_n)
    return VOUCH_E_INVALID;
  *proof_n = 0;
  if (old_size == n)
    return VOUCH_OK;
  return subproof_rec(leaf_hashes, old_size, 0, n, 1, proof, proof_n);
}

int vouch_merkle_verify_consistency(uint64_t old_size, uint64_t new_size, const uint8_t old_root[HB],
                                    const uint8_t new_root[HB], const uint8_t *proof, size_t proof_n) {
  if (old_size > new_size || proof_n > VOUCH_MERKLE_PROOF_MAX)
    return VOUCH_E_AUDIT_PROOF;
  if (old_size == new_size) {
    if (proof_n != 0 || sodium_memcmp(old_root, new_root, HB) != 0)
      return VOUCH_E_AUDIT_PROOF;
    return VOUCH_OK;
  }
  if (old_size == 0)
    return proof_n == 0 ? VOUCH_OK : VOUCH_E_AUDIT_PROOF;
  if (proof_n == 0)
    return VOUCH_E_AUDIT_PROOF;

  /* Step 1: when old_size is a power of two, old_root is the first node. */
  const uint8_t *first;
  size_t i = 0;
  if ((old_size & (old_size - 1)) == 0) {
    first = old_root;
  } else {
    first = proof;
    i = 1;
  }
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  uint8_t fr[HB], sr[HB];
  memcpy(fr, first, HB);
  memcpy(sr, first, HB);
  if (walk(fn, sn, proof + i * HB, proof_n - i, fr, sr) != 0 || sodium_memcmp(fr, old_root, HB) != 0 ||
      sodium_memcmp(sr, new_root, HB) != 0)
    return VOUCH_E_AUDIT_PROOF;
  return VOUCH_OK;
}

/* ------------------------------------------------------ multi-threaded head */

#define BLOCK_LOG 16
#define BLOCK_LEAVES ((size_t)1 << BLOCK_LOG)
#define MT_THREADS_MAX 64

typedef struct {
  const uint8_t *leaves;
  size_t leaf_len;
  size_t first_block, nblocks;
  uint8_t *block_heads; /* one head per block, indexed from block 0 */
} mt_job;

/* The head of a perfect subtree of 2^BLOCK_LOG leaves, without allocating. */
static void block_head(const uint8_t *leaves, size_t leaf_len, uint8_t out[HB]) {
  uint8_t stack[BLOCK_LOG + 1][HB];
  int depth = 0;
  for (size_t i = 0; i < BLOCK_LEAVES; i++) {
    vouch_merkle_leaf_hash(leaves + i * leaf_len, leaf_len, stack[depth]);
    depth++;
    /* after leaf i, merge as many times as i+1 has trailing zero bits */
    for (size_t c = i + 1; !(c & 1); c >>= 1) {
      vouch_merkle_node_hash(stack[depth - 2], stack[depth - 1], stack[depth - 2]);
      depth--;
    }
  }
  memcpy(out, stack[0], HB);
}

static void *mt_worker(void *arg) {
  mt_job *j = arg;
  for (size_t b = j->first_block; b < j->first_block + j->nblocks; b++)
    block_head(j->leaves + b * BLOCK_LEAVES * j->leaf_len, j->leaf_len, j->block_heads + b * HB);
  return NULL;
}

typedef struct {
  uint8_t hash[64][HB];
  uint64_t size[64];
  int depth;
} sized_stack;

static void sized_push(sized_stack *s, const uint8_t h[HB], uint64_t size) {
  memcpy(s->hash[s->depth], h, HB);
  s->size[s->depth] = size;
  s->depth++;
  while (s->depth >= 2 && s->size[s->depth - 1] == s->size[s->depth - 2]) {
    vouch_merkle_node_hash(s->hash[s->depth - 2], s->hash[s->depth - 1], s->hash[s->depth - 2]);
    s->size[s->depth - 2] *= 2;
    s->depth--;
  }
}

int vouch_merkle_root_mt(const uint8_t *leaves, size_t n, size_t leaf_len, unsigned threads,
                         uint8_t root[HB]) {
  size_t nblocks = n >> BLOCK_LOG;
  if (threads <= 1 || nblocks < 2)
    return vouch_merkle_root(leaves, n, leaf_len, root);
  if (threads > MT_THREADS_MAX)
    threads = MT_THREADS_MAX;
  if (threads > nblocks)
    threads = (unsigned)nblocks;

  uint8_t *heads = vouch__malloc(nblocks * HB);
  sized_stack *s = vouch__malloc(sizeof *s);
  mt_job *jobs = vouch__malloc(threads * sizeof *jobs);
  int rc = VOUCH_OK;
  if (!heads || !s || !jobs) {
    rc = VOUCH_E_NOMEM;
    goto out;
  }
  size_t per = nblocks / threads, extra = nblocks % threads, next = 0;
  for (unsigned t = 0; t < threads; t++) {
    jobs[t].leaves = leaves;
    jobs[t].leaf_len = leaf_len;
    jobs[t].first_block = next;
    jobs[t].nblocks = per + (t < extra ? 1 : 0);
    jobs[t].block_heads = heads;
    next += jobs[t].nblocks;
  }
  vouch__run_jobs(mt_worker, jobs, sizeof *jobs, threads);

  s->depth = 0;
  for (size_t b = 0; b < nblocks; b++)
    sized_push(s, heads + b * HB, BLOCK_LEAVES);
  for (size_t i = nblocks * BLOCK_LEAVES; i < n; i++) {
    uint8_t lh[HB];
    vouch_merkle_leaf_hash(leaves + i * leaf_len, leaf_len, lh);
    sized_push(s, lh, 1);
  }
  uint8_t acc[HB];
  memcpy(acc, s->hash[s->depth - 1], HB);
  for (int i = s->depth - 2; i >= 0; i--)
    vouch_merkle_node_hash(s->hash[i], acc, acc);
  memcpy(root, acc, HB);
out:
  vouch__free(heads);
  vouch__free(s);
  vouch__free(jobs);
  return rc;
}
