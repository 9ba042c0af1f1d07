/* src/index/search.c -- the two exact search engines and the batch driver.
 *
 * Result contract (both engines): for each query, every entry whose Hamming
 * distance to at least one of the query's variants is <= radius, once, with
 * the smallest distance over the variants and the lowest variant giving it;
 * per query ordered by (distance, entry).  The unit tests check the engines,
 * the scalar and AVX2 kernels, against a plain reference loop.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "index_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VIDX_X86 1
#endif

/* ------------------------------------------------------------ output */

int vouch__out_push(vidx_out *o, uint32_t q, uint32_t e, unsigned d, unsigned var) {
  if (o->n == o->cap) {
    size_t nc = o->cap ? o->cap * 2 : 256;
    vouch_match *nv = vouch__realloc(o->v, nc * sizeof *nv);
    if (!nv)
      return VOUCH_E_NOMEM;
    o->v = nv;
    o->cap = nc;
  }
  vouch_match *m = &o->v[o->n++];
  m->query = q;
  m->entry = e;
  m->distance = (uint16_t)d;
  m->variant = (uint8_t)var;
  m->pad_ = 0;
  return VOUCH_OK;
}

void vouch_matches_free(vouch_match *m) { vouch__free(m); }

/* Loads a hash as native-order words.  Spelled out per size: a loop of
 * 8-byte copies (or a variable-size memcpy) becomes a call to memcpy. */
static inline __attribute__((always_inline)) void load_native(const uint8_t *h, unsigned words,
                                                               uint64_t *w) {
  if (words == 4) {
    __builtin_memcpy(&w[0], h, 8);
    __builtin_memcpy(&w[1], h + 8, 8);
    __builtin_memcpy(&w[2], h + 16, 8);
    __builtin_memcpy(&w[3], h + 24, 8);
  } else {
    __builtin_memcpy(&w[0], h, 8);
  }
}

/* Exact distances of one entry to all variants; native-order words (the
 * distance does not depend on byte order as long as both sides agree). */
static inline __attribute__((always_inline)) void exact_best(const uint8_t *eh, const uint64_t *qn, unsigned words, unsigned nvar,
                              unsigned *best, unsigned *bestv) {
  uint64_t ew[4];
  load_native(eh, words, ew);
  unsigned b = ~0U, bv = 0;
  for (unsigned v = 0; v < nvar; v++) {
    unsigned d = 0;
    for (unsigned k = 0; k < words; k++)
      d += (unsigned)__builtin_popcountll(ew[k] ^ qn[v * words + k]);
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
__attribute__((target("avx2,popcnt"))) static inline __m256i popcnt_bytes(__m256i x) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1,
                                       2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low));
  __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low));
  return _mm256_add_epi8(lo, hi);
}

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
      __m256i s0 = _mm256_sad_epu8(popcnt_bytes(_mm256_xor_si256(e, Q[b][0])), zero);
      __m256i s1 = _mm256_sad_epu8(popcnt_bytes(_mm256_xor_si256(e, Q[b][1])), zero);
      __m256i s2 = _mm256_sad_epu8(popcnt_bytes(_mm256_xor_si256(e, Q[b][2])), zero);
      __m256i s3 = _mm256_sad_epu8(popcnt_bytes(_mm256_xor_si256(e, Q[b][3])), zero);
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
        mn = _mm256_min_epu32(mn, _mm256_sad_epu8(popcnt_bytes(x), zero));
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

/* ------------------------------------------------------------ MIH: tables */

unsigned vouch__mih_auto_m(size_t count, unsigned bits) {
  /* Norouzi et al.: substrings of about log2(n) bits make each bucket hold
   * about one entry, which balances probing against verification. */
  double lg = 0;
  for (size_t c = count; c > 1; c >>= 1)
    lg += 1;
  if (lg < 1)
    lg = 1;
  unsigned m = (unsigned)((double)bits / lg + 0.5);
  unsigned lo = (bits + VIDX_MIH_MAX_BITS - 1) / VIDX_MIH_MAX_BITS;
  unsigned hi = bits < VIDX_MIH_MAX_M ? bits : VIDX_MIH_MAX_M;
  if (m < lo) m = lo;
  if (m > hi) m = hi;
  return m;
}

int vouch__mih_threshold(unsigned m, unsigned radius, unsigned j) {
  unsigned q = (radius + 1) / m, rem = (radius + 1) % m;
  return j < rem ? (int)q : (int)q - 1;
}

/* Large tables: ask for transparent huge pages, since probes are random
 * accesses over hundreds of MB and TLB misses would dominate. */
void vouch__advise_huge(void *p, size_t len) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = 2u << 20;
  uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), end = ((uintptr_t)p + len) & ~(huge - 1);
  if (end > a)
    (void)madvise((void *)a, end - a, MADV_HUGEPAGE);
#else
  (void)p;
  (void)len;
#endif
}

void vouch__mih_free(vouch_index *idx) {
  for (unsigned j = 0; j < idx->mih_m; j++) {
    vouch__free(idx->mih[j].slots);
    vouch__free(idx->mih[j].ovf);
  }
  memset(idx->mih, 0, sizeof idx->mih);
  idx->mih_m = 0;
  idx->heap_bytes = 0;
}

#define SLOT_PENDING 0x7FFFFFFFU /* build only: a bucket of one, not yet placed */

/* Builds table j (its slots already allocated and zeroed).
 *
 * Filling 2^len slots in entry order is a random access per entry per pass.
 * Instead the (key, entry) pairs are first partitioned by the key's top
 * PART_BITS bits (a sequential histogram and a scatter into 2^PART_BITS
 * streams); each partition then covers a slot range small enough to stay in
 * cache while its buckets are counted, laid out and filled.  The scatter is
 * stable, so entries stay ascending within each bucket. */
#define PART_BITS 11U

static int build_table(vouch_index *idx, unsigned j) {
  vidx_mih_table *t = &idx->mih[j];
  const size_t n = idx->count;
  const unsigned pb = t->len < PART_BITS ? t->len : PART_BITS, shift = t->len - pb;
  const size_t np = (size_t)1 << pb;
  uint64_t *pairs = vouch__malloc((n ? n : 1) * sizeof *pairs);
  size_t *start = vouch__calloc(np + 1, sizeof *start);
  if (!pairs || !start) {
    vouch__free(pairs);
    vouch__free(start);
    return VOUCH_E_NOMEM;
  }
  uint64_t w[4];
  for (size_t i = 0; i < n; i++) {
    vidx_load_words(idx->hashes + i * idx->hash_bytes, idx->words, w);
    start[(vidx_substring(w, t->start, t->len) >> shift) + 1]++;
  }
  for (size_t p = 0; p < np; p++)
    start[p + 1] += start[p];
  for (size_t i = 0; i < n; i++) {
    vidx_load_words(idx->hashes + i * idx->hash_bytes, idx->words, w);
    uint32_t key = vidx_substring(w, t->start, t->len);
    pairs[start[key >> shift]++] = (uint64_t)key << 32 | (uint32_t)i;
  }
  /* start[p] is now the end of partition p */
  size_t ovf_len = 0;
  for (size_t i = 0; i < n; i++)
    t->slots[pairs[i] >> 32]++;
  for (size_t k = 0; k < ((size_t)1 << t->len); k++)
    if (t->slots[k] >= 2)
      ovf_len += 1 + t->slots[k];
  t->ovf_len = ovf_len;
  t->ovf = vouch__malloc((ovf_len ? ovf_len : 1) * sizeof *t->ovf);
  if (!t->ovf) {
    vouch__free(pairs);
    vouch__free(start);
    return VOUCH_E_NOMEM;
  }
  vouch__advise_huge(t->ovf, ovf_len * sizeof *t->ovf);
  /* sizes -> empty / one entry / overflow list, then fill, partition by
   * partition (overflow lists laid out in key order) */
  size_t pos = 0, lo = 0;
  for (size_t p = 0; p < np; p++) {
    size_t hi = start[p];
    size_t k0 = p << shift, k1 = (p + 1) << shift;
    for (size_t k = k0; k < k1; k++) {
      uint32_t c = t->slots[k];
      if (c == 0) {
        t->slots[k] = VIDX_SLOT_EMPTY;
      } else if (c == 1) {
        t->slots[k] = SLOT_PENDING;
      } else {
        t->slots[k] = VIDX_SLOT_OVF | (uint32_t)pos;
        t->ovf[pos] = 0; /* fill cursor; ends equal to c */
        pos += 1 + c;
      }
    }
    for (size_t i = lo; i < hi; i++) {
      uint32_t key = (uint32_t)(pairs[i] >> 32), id = (uint32_t)pairs[i], sl = t->slots[key];
      if (sl == SLOT_PENDING) {
        t->slots[key] = id;
      } else {
        uint32_t q = sl & ~VIDX_SLOT_OVF;
        t->ovf[q + 1 + t->ovf[q]++] = id;
      }
    }
    lo = hi;
  }
  vouch__free(pairs);
  vouch__free(start);
  return VOUCH_OK;
}

typedef struct build_job {
  vouch_index *idx;
  unsigned first, step;
  int rc;
} build_job;

static void *build_tables(void *arg) {
  build_job *b = arg;
  for (unsigned j = b->first; j < b->idx->mih_m && b->rc == VOUCH_OK; j += b->step)
    b->rc = build_table(b->idx, j);
  return NULL;
}

#define VIDX_MAX_BUILD_THREADS 16U

int vouch__mih_build(vouch_index *idx, unsigned m, unsigned threads) {
  const unsigned bits = idx->hash_bytes * 8;
  if (m == 0 || m > VIDX_MIH_MAX_M || m > bits || (bits + m - 1) / m > VIDX_MIH_MAX_BITS)
    return VOUCH_E_INVALID;
  if (idx->count > VIDX_MIH_MAX_COUNT)
    return VOUCH_E_LIMIT;
  vouch__mih_free(idx);
  unsigned base = bits / m, extra = bits % m, start = 0;
  for (unsigned j = 0; j < m; j++) {
    vidx_mih_table *t = &idx->mih[j];
    t->start = start;
    t->len = base + (j < extra);
    start += t->len;
    size_t nb = (size_t)1 << t->len;
    t->slots = vouch__calloc(nb, sizeof *t->slots); /* counts first */
    idx->mih_m = j + 1;
    if (!t->slots) {
      vouch__mih_free(idx);
      return VOUCH_E_NOMEM;
    }
    vouch__advise_huge(t->slots, nb * sizeof *t->slots);
  }
  unsigned nt = threads ? threads : 1;
  if (nt > m) nt = m;
  if (nt > VIDX_MAX_BUILD_THREADS) nt = VIDX_MAX_BUILD_THREADS;
  build_job jobs[VIDX_MAX_BUILD_THREADS];
  pthread_t th[VIDX_MAX_BUILD_THREADS];
  int started[VIDX_MAX_BUILD_THREADS] = {0};
  for (unsigned t = 0; t < nt; t++)
    jobs[t] = (build_job){idx, t, nt, VOUCH_OK};
  for (unsigned t = 1; t < nt; t++)
    started[t] = pthread_create(&th[t], NULL, build_tables, &jobs[t]) == 0;
  build_tables(&jobs[0]);
  int rc = jobs[0].rc;
  for (unsigned t = 1; t < nt; t++) {
    if (started[t])
      pthread_join(th[t], NULL);
    else
      build_tables(&jobs[t]);
    if (rc == VOUCH_OK)
      rc = jobs[t].rc;
  }
  if (rc != VOUCH_OK) {
    vouch__mih_free(idx);
    return rc;
  }
  size_t bytes = 0;
  for (unsigned j = 0; j < m; j++)
    bytes += ((size_t)1 << idx->mih[j].len) * sizeof(uint32_t) + idx->mih[j].ovf_len * sizeof(uint32_t);
  idx->heap_bytes = bytes;
  return VOUCH_OK;
}

/* ------------------------------------------------------------ MIH: query */

void vouch__mih_scratch_free(vidx_mih_scratch *s) {
  vouch__free(s->keys);
  vouch__free(s->kvj);
  vouch__free(s->cand);
  vouch__free(s->cvj);
  memset(s, 0, sizeof *s);
}

/* Grows the candidate arrays to hold `need`. */
static int grow_cand(vidx_mih_scratch *s, size_t need) {
  if (need <= s->cand_cap)
    return VOUCH_OK;
  size_t nc = s->cand_cap ? s->cand_cap : 4096;
  while (nc < need)
    nc *= 2;
  uint32_t *c = vouch__realloc(s->cand, nc * sizeof *c);
  if (!c)
    return VOUCH_E_NOMEM;
  s->cand = c;
  uint16_t *v = vouch__realloc(s->cvj, nc * sizeof *v);
  if (!v)
    return VOUCH_E_NOMEM;
  s->cvj = v;
  s->cand_cap = nc;
  return VOUCH_OK;
}

/* The probe keys of one query are generated in chunks of MIH_CHUNK (with the
 * variant and table of each), and each chunk goes through three streaming
 * passes with software prefetch MIH_AHEAD items ahead, so that dozens of
 * cache misses are in flight instead of one:
 *   1. bucket slots   -> candidates (single entries) / overflow buckets
 *   2. overflow buckets -> candidates
 *   3. candidates: fetch the hash, verify, deduplicate, report. */
#define MIH_CHUNK 8192U
#define MIH_AHEAD 24U
#define VJ(v, j) ((uint16_t)((v) << 8 | (j)))

typedef struct mih_q {
  const vouch_index *idx;
  unsigned nvar, radius, words;
  uint32_t qno;
  uint64_t qn[VOUCH_DIHEDRAL_N * 4], qbe[VOUCH_DIHEDRAL_N * 4];
  int thr[VIDX_MIH_MAX_M];
  vidx_out *o;
  vidx_mih_scratch *s;
} mih_q;

/* Candidate `id` found through variant v, table j.  It is reported only by
 * the lowest variant within the radius, through the lowest table whose
 * substring is within that table's threshold: by the pigeonhole argument
 * that (variant, table) pair always probes it, so each entry is reported
 * exactly once, with no per-query "seen" set. */
static inline __attribute__((always_inline)) int mih_verify1(const mih_q *m, uint32_t id,
                                                              unsigned v, unsigned j) {
  const vouch_index *idx = m->idx;
  const unsigned words = m->words;
  const uint8_t *h = idx->hashes + (size_t)id * idx->hash_bytes;
  uint64_t ew[4];
  load_native(h, words, ew);
  unsigned d[VOUCH_DIHEDRAL_N];
  for (unsigned u = 0; u <= v; u++) {
    unsigned du = 0;
    for (unsigned k = 0; k < words; k++)
      du += (unsigned)__builtin_popcountll(ew[k] ^ m->qn[u * words + k]);
    d[u] = du;
  }
  if (d[v] > m->radius)
    return VOUCH_OK;
  for (unsigned u = 0; u < v; u++)
    if (d[u] <= m->radius)
      return VOUCH_OK;
  if (j > 0) {
    uint64_t ebe[4];
    vidx_load_words(h, words, ebe);
    for (unsigned i = 0; i < j; i++) {
      if (m->thr[i] < 0)
        continue;
      const vidx_mih_table *t = &idx->mih[i];
      uint32_t x = vidx_substring(ebe, t->start, t->len) ^
                   vidx_substring(m->qbe + v * words, t->start, t->len);
      if (__builtin_popcount(x) <= m->thr[i])
        return VOUCH_OK;
    }
  }
  unsigned best = d[v], bv = v;
  for (unsigned u = v + 1; u < m->nvar; u++) {
    unsigned du = 0;
    for (unsigned k = 0; k < words; k++)
      du += (unsigned)__builtin_popcountll(ew[k] ^ m->qn[u * words + k]);
    if (du < best) {
      best = du;
      bv = u;
    }
  }
  return vouch__out_push(m->o, m->qno, id, best, bv);
}

static inline __attribute__((always_inline)) int mih_flush(const mih_q *m, size_t nk) {
  vidx_mih_scratch *s = m->s;
  const vouch_index *idx = m->idx;
  size_t nc = 0, no = 0;
  VOUCH_TRY(grow_cand(s, nk));
  /* pass 1: slots; overflow positions reuse keys[] (already consumed) */
  for (size_t k = 0; k < nk; k++) {
    if (k + MIH_AHEAD < nk)
      __builtin_prefetch(&idx->mih[s->kvj[k + MIH_AHEAD] & 0xff].slots[s->keys[k + MIH_AHEAD]]);
    uint32_t sl = idx->mih[s->kvj[k] & 0xff].slots[s->keys[k]];
    if (sl == VIDX_SLOT_EMPTY)
      continue;
    if (sl & VIDX_SLOT_OVF) {
      uint32_t p = sl & ~VIDX_SLOT_OVF;
      __builtin_prefetch(&idx->mih[s->kvj[k] & 0xff].ovf[p]);
      s->keys[no] = p;
      s->kvj[no++] = s->kvj[k];
    } else {
      s->cand[nc] = sl;
      s->cvj[nc++] = s->kvj[k];
    }
  }
  /* pass 2: overflow buckets */
  for (size_t k = 0; k < no; k++) {
    const uint32_t *b = idx->mih[s->kvj[k] & 0xff].ovf + s->keys[k];
    VOUCH_TRY(grow_cand(s, nc + b[0]));
    for (uint32_t i = 0; i < b[0]; i++) {
      s->cand[nc] = b[1 + i];
      s->cvj[nc++] = s->kvj[k];
    }
  }
  /* pass 3: verify */
  for (size_t c = 0; c < nc; c++) {
    if (c + MIH_AHEAD < nc)
      __builtin_prefetch(idx->hashes + (size_t)s->cand[c + MIH_AHEAD] * idx->hash_bytes);
    VOUCH_TRY(mih_verify1(m, s->cand[c], s->cvj[c] >> 8, s->cvj[c] & 0xff));
  }
  return VOUCH_OK;
}

static inline __attribute__((always_inline)) int mih_query_body(mih_q *m) {
  const vouch_index *idx = m->idx;
  vidx_mih_scratch *s = m->s;
  if (!s->keys) {
    s->keys = vouch__malloc(MIH_CHUNK * sizeof *s->keys);
    s->kvj = vouch__malloc(MIH_CHUNK * sizeof *s->kvj);
    if (!s->keys || !s->kvj)
      return VOUCH_E_NOMEM;
  }
  size_t nk = 0;
  for (unsigned v = 0; v < m->nvar; v++) {
    for (unsigned j = 0; j < idx->mih_m; j++) {
      if (m->thr[j] < 0)
        continue;
      const vidx_mih_table *t = &idx->mih[j];
      const unsigned len = t->len;
      const int tj = m->thr[j] > (int)len ? (int)len : m->thr[j];
      const uint32_t key = vidx_substring(m->qbe + v * m->words, t->start, len);
      const uint16_t vj = VJ(v, j);
      /* every mask of len bits with popcount 0..tj (Gosper's hack) */
      s->keys[nk] = key;
      s->kvj[nk++] = vj;
      for (int d = 1; d <= tj; d++) {
        uint64_t mask = ((uint64_t)1 << d) - 1, limit = (uint64_t)1 << len;
        while (mask < limit) {
          if (nk == MIH_CHUNK) {
            VOUCH_TRY(mih_flush(m, nk));
            nk = 0;
          }
          s->keys[nk] = key ^ (uint32_t)mask;
          s->kvj[nk++] = vj;
          uint64_t c = mask & -mask, r = mask + c;
          mask = (((r ^ mask) >> 2) >> __builtin_ctzll(c)) | r; /* c is a power of two */
        }
      }
      if (nk + 1 >= MIH_CHUNK) {
        VOUCH_TRY(mih_flush(m, nk));
        nk = 0;
      }
    }
  }
  if (nk)
    VOUCH_TRY(mih_flush(m, nk));
  return VOUCH_OK;
}

#ifdef VIDX_X86
__attribute__((target("popcnt"))) static int mih_query_popcnt(mih_q *m) { return mih_query_body(m); }
#endif
static int mih_query_generic(mih_q *m) { return mih_query_body(m); }

int vouch__mih_query(const vouch_index *idx, const uint8_t *q, unsigned nvar, unsigned radius,
                     uint32_t qno, vidx_out *o, vidx_mih_scratch *s) {
  mih_q m;
  m.idx = idx;
  m.nvar = nvar;
  m.radius = radius;
  m.words = idx->words;
  m.qno = qno;
  m.o = o;
  m.s = s;
  memcpy(m.qn, q, (size_t)nvar * idx->hash_bytes);
  for (unsigned v = 0; v < nvar; v++)
    vidx_load_words(q + (size_t)v * idx->hash_bytes, idx->words, m.qbe + v * idx->words);
  for (unsigned j = 0; j < idx->mih_m; j++)
    m.thr[j] = vouch__mih_threshold(idx->mih_m, radius, j);
#ifdef VIDX_X86
  if (idx->use_popcnt)
    return mih_query_popcnt(&m);
#endif
  return mih_query_generic(&m);
}

/* ------------------------------------------------------------ cost model */

static double binom_sum(unsigned len, int t) {
  double s = 0, c = 1;
  for (int d = 0; d <= t && d <= (int)len; d++) {
    s += c;
    c = c * (double)(len - (unsigned)d) / (double)(d + 1);
  }
  return s;
}

/* Rough costs in nanoseconds, fitted to bench/bench_match.c on the
 * development machine (see docs/matching.md); they only steer AUTO. */
double vouch__mih_cost(const vouch_index *idx, unsigned radius, unsigned nvar) {
  if (idx->mih_m == 0)
    return 1e300;
  double cost = 0;
  for (unsigned j = 0; j < idx->mih_m; j++) {
    int t = vouch__mih_threshold(idx->mih_m, radius, j);
    if (t < 0)
      continue;
    double probes = binom_sum(idx->mih[j].len, t);
    double per_bucket = (double)idx->count / (double)((size_t)1 << idx->mih[j].len);
    cost += probes * (6.0 + 12.0 * per_bucket);
  }
  return cost * nvar;
}

double vouch__scan_cost(const vouch_index *idx, unsigned radius, unsigned nvar) {
  (void)radius;
  double per = idx->use_avx2 ? 1.5 : 3.0;
  return (double)idx->count * per * (0.5 + (double)nvar / 8.0);
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
  if (!idx || !opts || !out || !nout || (nq && !queries) || nvar < 1 || nvar > VOUCH_DIHEDRAL_N)
    return VOUCH_E_INVALID;
  *out = NULL;
  *nout = 0;
  if (idx->hash_bytes == 0)
    return VOUCH_E_INVALID;
  if (nq > UINT32_MAX)
    return VOUCH_E_LIMIT;
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
  pthread_t *th = vouch__calloc(nt, sizeof *th);
  int *started = vouch__calloc(nt, sizeof *started);
  int rc = VOUCH_OK;
  if (!ws || !th || !started) {
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
  for (unsigned t = 1; t < nt; t++)
    started[t] = pthread_create(&th[t], NULL, work, &ws[t]) == 0;
  work(&ws[0]);
  for (unsigned t = 1; t < nt; t++) {
    if (started[t])
      pthread_join(th[t], NULL);
    else
      work(&ws[t]); /* could not start a thread: do its share here */
  }
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
  vouch__free(th);
  vouch__free(started);
  return rc;
}
