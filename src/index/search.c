/* src/index/search.c -- the two exact search engines and the batch driver.
 *
 * Result contract (both engines): for each query, every entry whose Hamming
 * distance to at least one of the query's variants is <= radius, once, with
 * the smallest distance over the variants and the lowest variant giving it;
 * per query ordered by (distance, entry).  The unit tests check the engines,
 * the scalar and AVX2 kernels, against a plain reference loop.
 */
#include <stdlib.h>
#include <string.h>
#include "index_internal.h"


/* Exact distances of one entry to all variants; native-order words (the
 * distance does not depend on byte order as long as both sides agree). */
static inline __attribute__((always_inline)) void exact_best(const uint8_t *eh, const uint64_t *qn, unsigned words, unsigned nvar,
                              unsigned *best, unsigned *bestv) {
  uint64_t ew[4];
  vidx_load_native(eh, words, ew);
  unsigned b = ~0U, bv = 0;
  for (unsigned v = 0; v < nvar; v++) {
    unsigned d = vidx_dist(ew, qn + v * words, words);
    if (d < b) {
      b = d;
      bv = v;
    }
  }
  *best = b;
  *bestv = bv;
}

/* ------------------------------------------------------------ scan
 * The scan is memory-bound for one query (each 32-byte entry is used for a
 * few nanoseconds of arithmetic), so a batch is scanned SCAN_BLOCK queries
 * at a time: each entry is loaded once and compared with every variant of
 * every query of the block.  `qn` holds the block's queries back to back
 * (nvar * words native-order words each). */
#define SCAN_BLOCK 8U

static inline __attribute__((always_inline)) int scan_scalar_body(const vouch_index *idx,
                                                                   const uint64_t *qn, unsigned nq,
                                                                   unsigned nvar, unsigned radius,
                                                                   uint32_t qno, vidx_out *o) {
  const unsigned words = idx->words, pre = words >= 2 ? 2 : 1;
  const uint8_t *h = idx->hashes;
  for (size_t i = 0; i < idx->count; i++, h += 8 * words) {
    uint64_t ew[2];
    memcpy(&ew[0], h, 8);
    if (pre == 2)
      memcpy(&ew[1], h + 8, 8);
    for (unsigned b = 0; b < nq; b++) {
      const uint64_t *qb = qn + (size_t)b * nvar * words;
      /* Lower bound from the first (up to) two words: if every variant
       * already differs in more than radius bits there, no match. */
      unsigned lb = ~0U;
      for (unsigned v = 0; v < nvar; v++) {
        unsigned d = (unsigned)__builtin_popcountll(ew[0] ^ qb[v * words]);
        if (pre == 2)
          d += (unsigned)__builtin_popcountll(ew[1] ^ qb[v * words + 1]);
        lb = d < lb ? d : lb;
      }
      if (lb > radius)
        continue;
      unsigned best, bv;
      exact_best(h, qb, words, nvar, &best, &bv);
      if (best <= radius)
        VOUCH_TRY(vouch__out_push(o, qno + b, (uint32_t)i, best, bv));
    }
  }
  return VOUCH_OK;
}

/* The same scalar code with and without the POPCNT instruction. */
#ifdef VIDX_X86
__attribute__((target("popcnt"))) static int scan_scalar_popcnt(const vouch_index *idx,
                                                                const uint64_t *qn, unsigned nq,
                                                                unsigned nvar, unsigned radius,
                                                                uint32_t qno, vidx_out *o) {
  return scan_scalar_body(idx, qn, nq, nvar, radius, qno, o);
}
#endif
static int scan_scalar(const vouch_index *idx, const uint64_t *qn, unsigned nq, unsigned nvar,
                       unsigned radius, uint32_t qno, vidx_out *o) {
#ifdef VIDX_X86
  if (idx->use_popcnt)
    return scan_scalar_popcnt(idx, qn, nq, nvar, radius, qno, o);
#endif
  return scan_scalar_body(idx, qn, nq, nvar, radius, qno, o);
}

#ifdef VIDX_X86

/* 256-bit hashes.  The first 128 bits of each entry are compared with all 8
 * variants of a query at once (two variants per register); the 8 partial
 * distances are packed into 16-bit fields and compared with the radius in
 * one instruction.  Only entries whose lower bound is within the radius get
 * the exact distance. */
__attribute__((target("avx2,popcnt"))) static int scan256_avx2(const vouch_index *idx,
                                                                const uint64_t *qn, unsigned nq,
                                                                unsigned nvar, unsigned radius,
                                                                uint32_t qno, vidx_out *o) {
  __m256i Q[SCAN_BLOCK][4];
  for (unsigned b = 0; b < nq; b++) {
    const uint64_t *qb = qn + (size_t)b * nvar * 4;
    for (unsigned p = 0; p < 4; p++) {
      unsigned v0 = 2 * p < nvar ? 2 * p : 0, v1 = 2 * p + 1 < nvar ? 2 * p + 1 : 0;
      Q[b][p] = _mm256_setr_epi64x((long long)qb[v0 * 4], (long long)qb[v0 * 4 + 1],
                                   (long long)qb[v1 * 4], (long long)qb[v1 * 4 + 1]);
    }
  }
  const __m256i zero = _mm256_setzero_si256();
  const __m128i rad = _mm_set1_epi16((short)(radius > 32767 ? 32767 : radius));
  const uint8_t *h = idx->hashes;
  const size_t n = idx->count;
  for (size_t i = 0; i < n; i++, h += 32) {
    __m256i e = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)h));
    for (unsigned b = 0; b < nq; b++) {
      __m256i s0 = _mm256_sad_epu8(vidx_popcnt_bytes(_mm256_xor_si256(e, Q[b][0])), zero);
      __m256i s1 = _mm256_sad_epu8(vidx_popcnt_bytes(_mm256_xor_si256(e, Q[b][1])), zero);
      __m256i s2 = _mm256_sad_epu8(vidx_popcnt_bytes(_mm256_xor_si256(e, Q[b][2])), zero);
      __m256i s3 = _mm256_sad_epu8(vidx_popcnt_bytes(_mm256_xor_si256(e, Q[b][3])), zero);
      /* lanes: [v lo, v hi, v' lo, v' hi] (each <= 64) -> 16-bit fields */
      __m256i p = _mm256_or_si256(_mm256_or_si256(s0, _mm256_slli_epi64(s1, 16)),
                                  _mm256_or_si256(_mm256_slli_epi64(s2, 32), _mm256_slli_epi64(s3, 48)));
      p = _mm256_add_epi64(p, _mm256_srli_si256(p, 8)); /* lane0 += lane1, lane2 += lane3 */
      __m128i d = _mm_unpacklo_epi64(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
      /* any of the 8 (padded variants repeat variant 0) <= radius? */
      __m128i le = _mm_cmpeq_epi16(_mm_min_epu16(d, rad), d);
      if (_mm_testz_si128(le, le))
        continue;
      unsigned best, bv;
      exact_best(h, qn + (size_t)b * nvar * 4, 4, nvar, &best, &bv);
      if (best <= radius)
        VOUCH_TRY(vouch__out_push(o, qno + b, (uint32_t)i, best, bv));
    }
  }
  return VOUCH_OK;
}

/* 64-bit hashes: four entries per register, one pass per variant. */
__attribute__((target("avx2,popcnt"))) static int scan64_avx2(const vouch_index *idx,
                                                               const uint64_t *qn, unsigned nq,
                                                               unsigned nvar, unsigned radius,
                                                               uint32_t qno, vidx_out *o) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i rad = _mm256_set1_epi64x((long long)radius);
  const size_t n = idx->count;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)(idx->hashes + 8 * i));
    for (unsigned b = 0; b < nq; b++) {
      const uint64_t *qb = qn + (size_t)b * nvar;
      __m256i mn = _mm256_set1_epi64x(255);
      for (unsigned v = 0; v < nvar; v++) {
        __m256i x = _mm256_xor_si256(e, _mm256_set1_epi64x((long long)qb[v]));
        mn = _mm256_min_epu32(mn, _mm256_sad_epu8(vidx_popcnt_bytes(x), zero));
      }
      __m256i gt = _mm256_cmpgt_epi64(mn, rad);
      if (_mm256_movemask_epi8(gt) == -1)
        continue;
      for (size_t k = i; k < i + 4; k++) {
        unsigned best, bv;
        exact_best(idx->hashes + 8 * k, qb, 1, nvar, &best, &bv);
        if (best <= radius)
          VOUCH_TRY(vouch__out_push(o, qno + b, (uint32_t)k, best, bv));
      }
    }
  }
  for (; i < n; i++)
    for (unsigned b = 0; b < nq; b++) {
      unsigned best, bv;
      exact_best(idx->hashes + 8 * i, qn + (size_t)b * nvar, 1, nvar, &best, &bv);
      if (best <= radius)
        VOUCH_TRY(vouch__out_push(o, qno + b, (uint32_t)i, best, bv));
    }
  return VOUCH_OK;
}
#endif

int vouch__scan_block(const vouch_index *idx, const uint8_t *q, unsigned nq, unsigned nvar,
                      unsigned radius, uint32_t qno, vidx_out *o) {
  uint64_t qn[SCAN_BLOCK * VOUCH_DIHEDRAL_N * 4];
  if (nq == 0 || nq > SCAN_BLOCK)
    return VOUCH_E_INTERNAL;
  memcpy(qn, q, (size_t)nq * nvar * idx->hash_bytes);
#ifdef VIDX_X86
  if (idx->use_avx2)
    return idx->words == 4 ? scan256_avx2(idx, qn, nq, nvar, radius, qno, o)
                           : scan64_avx2(idx, qn, nq, nvar, radius, qno, o);
#endif
  return scan_scalar(idx, qn, nq, nvar, radius, qno, o);
}

/* ------------------------------------------------------------ cost model */

/* Rough costs in nanoseconds, fitted to bench/bench_match.c on the
 * development machine (docs/matching.md); they only steer AUTO.  A 256-bit
 * entry costs a lower bound over its first 128 bits, plus the exact
 * distances when some variant is within the radius there (for random
 * entries: probability V(128, r) / 2^128 per variant). */
double vouch__scan_cost(const vouch_index *idx, unsigned radius, unsigned nvar) {
  const double n = (double)idx->count, scalar = idx->use_avx2 ? 1.0 : 1.9;
  if (idx->words == 1)
    return n * scalar * (0.5 + 0.35 * nvar);
  double pass = (double)nvar * vouch__binom_sum(128, (int)radius) / 3.402823669209385e38; /* 2^128 */
  if (pass > 1)
    pass = 1;
  return n * (scalar * 3.0 * (0.5 + (double)nvar / 8.0) + pass * 30.0);
}

int vouch_index_engine_for(const vouch_index *idx, unsigned radius, unsigned nvar) {
  if (idx->mih_m == 0)
    return VOUCH_ENGINE_SCAN;
  return vouch__mih_cost(idx, radius, nvar) < vouch__scan_cost(idx, radius, nvar) ? VOUCH_ENGINE_MIH
                                                                                  : VOUCH_ENGINE_SCAN;
}

/* ------------------------------------------------------------ batch driver */

static int cmp_match(const void *pa, const void *pb) {
  const vouch_match *a = pa, *b = pb;
  if (a->distance != b->distance)
    return a->distance < b->distance ? -1 : 1;
  return a->entry < b->entry ? -1 : a->entry > b->entry;
}

typedef struct worker {
  vouch_index *idx;
  const uint8_t *queries;
  size_t q0, q1;
  unsigned nvar, radius;
  int engine;
  vidx_out out;
  int rc;
} worker;

static int cmp_match_q(const void *pa, const void *pb) {
  const vouch_match *a = pa, *b = pb;
  if (a->query != b->query)
    return a->query < b->query ? -1 : 1;
  return cmp_match(pa, pb);
}

static void *work(void *arg) {
  worker *w = arg;
  vidx_mih_scratch s = {0};
  size_t qbytes = (size_t)w->nvar * w->idx->hash_bytes;
  for (size_t q = w->q0; q < w->q1 && w->rc == VOUCH_OK;) {
    size_t before = w->out.n, nb = 1;
    const uint8_t *qp = w->queries + q * qbytes;
    if (w->engine == VOUCH_ENGINE_MIH) {
      w->rc = vouch__mih_query(w->idx, qp, w->nvar, w->radius, (uint32_t)q, &w->out, &s);
    } else {
      nb = w->q1 - q < SCAN_BLOCK ? w->q1 - q : SCAN_BLOCK;
      w->rc = vouch__scan_block(w->idx, qp, (unsigned)nb, w->nvar, w->radius, (uint32_t)q, &w->out);
    }
    if (w->rc == VOUCH_OK && w->out.n - before > 1)
      qsort(w->out.v + before, w->out.n - before, sizeof *w->out.v, cmp_match_q);
    q += nb;
  }
  vouch__mih_scratch_free(&s);
  return NULL;
}

#define VIDX_MAX_THREADS 256U

int vouch_index_search(vouch_index *idx, const uint8_t *queries, size_t nq, unsigned nvar,
                       const vouch_search_opts *opts, vouch_match **out, size_t *nout) {
  if (idx && idx->delta)
    return vouch__delta_search(idx, queries, nq, nvar, opts, out, nout);
  return vouch__index_search_snapshot(idx, queries, nq, nvar, opts, out, nout);
}

int vouch__index_search_snapshot(vouch_index *idx, const uint8_t *queries, size_t nq, unsigned nvar,
                                 const vouch_search_opts *opts, vouch_match **out, size_t *nout) {
  if (!idx || !opts || !out || !nout || (nq && !queries) || nvar < 1 || nvar > VOUCH_DIHEDRAL_N)
    return VOUCH_E_INVALID;
  *out = NULL;
  *nout = 0;
  if (idx->hash_bytes == 0)
    return VOUCH_E_INVALID;
  if (nq > UINT32_MAX)
    return VOUCH_E_LIMIT;
  if (vouch_algo_is_digest(idx->algo))
    return vouch__exact_search(idx, queries, nq, nvar, out, nout);
  unsigned radius = opts->radius;
  if (radius > idx->hash_bytes * 8)
    radius = idx->hash_bytes * 8;
  int engine = opts->engine;
  if (engine == VOUCH_ENGINE_AUTO)
    engine = vouch_index_engine_for(idx, radius, nvar);
  else if (engine == VOUCH_ENGINE_MIH && idx->mih_m == 0 && idx->count > 0)
    return VOUCH_E_UNSUPPORTED;
  else if (engine != VOUCH_ENGINE_SCAN && engine != VOUCH_ENGINE_MIH)
    return VOUCH_E_INVALID;
  if (idx->count == 0 || nq == 0)
    return VOUCH_OK;

  unsigned nt = opts->threads ? opts->threads : 1;
  if (nt > VIDX_MAX_THREADS) nt = VIDX_MAX_THREADS;
  if (nt > nq) nt = (unsigned)nq;
  worker *ws = vouch__calloc(nt, sizeof *ws);
  int rc = VOUCH_OK;
  if (!ws) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  for (unsigned t = 0; t < nt; t++) {
    ws[t].idx = idx;
    ws[t].queries = queries;
    ws[t].q0 = nq * t / nt;
    ws[t].q1 = nq * (t + 1) / nt;
    ws[t].nvar = nvar;
    ws[t].radius = radius;
    ws[t].engine = engine;
  }
  vouch__run_jobs(work, ws, sizeof *ws, nt);
  size_t total = 0;
  for (unsigned t = 0; t < nt; t++) {
    if (ws[t].rc != VOUCH_OK && rc == VOUCH_OK)
      rc = ws[t].rc;
    total += ws[t].out.n;
  }
  if (rc != VOUCH_OK)
    goto done;
  if (nt == 1) {
    *out = ws[0].out.v;
    ws[0].out.v = NULL;
  } else {
    vouch_match *all = vouch__malloc((total ? total : 1) * sizeof *all);
    if (!all) {
      rc = VOUCH_E_NOMEM;
      goto done;
    }
    size_t k = 0;
    for (unsigned t = 0; t < nt; t++) {
      if (ws[t].out.n)
        memcpy(all + k, ws[t].out.v, ws[t].out.n * sizeof *all);
      k += ws[t].out.n;
    }
    *out = all;
  }
  *nout = total;
done:
  if (ws)
    for (unsigned t = 0; t < nt; t++)
      vouch__free(ws[t].out.v);
  vouch__free(ws);
  return rc;
}
