/* src/index/index_internal.h -- the index handle, shared by the loader
 * (index_file.c) and the search engines (search.c, mih.c).  Not API. */
#ifndef VOUCH_INDEX_INTERNAL_H
#define VOUCH_INDEX_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "vouch/index.h"
#include "common/internal.h"

#define VIDX_HEADER_BYTES 128U
#define VIDX_BANK_BYTES 8U    /* u32 name_off, u32 name_len */
#define VIDX_RECORD_BYTES 16U /* u64 entry_id, u32 bank, u32 str_off */
#define VIDX_CHECKSUM_BYTES 32U
#define VIDX_ALIGN 64U
#define VIDX_MIH_MAX_M 64U      /* chunks (tables) */
#define VIDX_MIH_MAX_BITS 16U   /* longest chunk: 2^16 buckets, a 16-bit payload */
#define VIDX_MIH_MAX_COUNT 0xFFFFFFF0U /* entries: bucket offsets are 32-bit */
#define VIDX_ERRMSG_CAP 256U

/* One MIH chunk table (mih.c).  The hash is cut into m chunks; chunks 2k
 * and 2k+1 form block k (an odd last chunk is a block of its own).  Table j
 * lists every entry in the order of chunk j's value (the key): bucket K is
 * positions dir[K] .. dir[K+1]-1.  Position i holds the entry's other chunk
 * of the block (pay[i], the payload: the bucket scan knows the whole block's
 * distance without touching the hash).  The first table of each block (its
 * "home") also holds, per position, a link (lnk, idw bytes little-endian):
 * the same entry's position in the next block's home table, cyclically; the
 * home of block 0 lists the entries in entry order, so a link into it is
 * the entry number.  Following the links reads an entry's blocks one after
 * another, so the search reads the hashes of matches only.  samp[i] is the
 * key at position i << VIDX_MIH_SAMP_SHIFT, to find a position's key. */
#define VIDX_MIH_SAMP_SHIFT 8U
typedef struct vidx_mih_table {
  unsigned start, len;   /* the key: bits [start, start+len) of the hash, MSB-first */
  unsigned plen;         /* the payload (the block's other chunk) in bits; 0: none */
  unsigned block;        /* block number */
  int second;            /* 1: the block's second chunk */
  uint32_t *dir;         /* 2^len + 1 */
  uint16_t *pay;         /* count */
  uint8_t *lnk;          /* home tables: count * idw + 4 */
  uint16_t *samp;        /* home tables: (count >> VIDX_MIH_SAMP_SHIFT) + 1 */
} vidx_mih_table;

struct vouch_index {
  char errmsg[VIDX_ERRMSG_CAP];
  /* the mapping */
  const uint8_t *base;
  size_t len;
  int mapped;            /* 1: munmap base on free */
  /* the parsed header */
  int algo;
  unsigned hash_bytes;   /* 8 or 32; 16, 20 or 32 for a digest index (exact.c) */
  unsigned words;        /* hash_bytes / 8 */
  uint32_t nbanks;
  size_t count;
  const uint8_t *banks, *hashes, *records, *strings;
  size_t strings_len;
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  char **bank_names;     /* NUL-terminated copies */
  /* search */
  int use_avx2;
  int use_popcnt;        /* the POPCNT instruction (else a libgcc call) */
  unsigned mih_m;        /* 0: no tables */
  unsigned mih_idw;      /* bytes per link (entry position) in the tables */
  vidx_mih_table mih[VIDX_MIH_MAX_M];
  size_t heap_bytes;
  /* snapshot + delta (delta.c).  A file snapshot counts its holders in
   * `refs` (1 at open).  A derived handle is a copy of its snapshot's
   * fields (so the engines above run on it unchanged) that borrows the
   * snapshot's mapping, names and tables (`shared`, one reference) and owns
   * `delta`: entries added since the snapshot (numbered count, count + 1,
   * ...) and the entry ids whose snapshot entries are no longer reported. */
  unsigned refs;
  vouch_index *shared;
  struct vidx_delta *delta;
};

/* The search of the snapshot part of `idx` (search.c), without the delta. */
VOUCH_HIDDEN int vouch__index_search_snapshot(vouch_index *idx, const uint8_t *queries, size_t nq,
                                              unsigned nvar, const vouch_search_opts *opts,
                                              vouch_match **out, size_t *nout);
/* The delta's side of vouch_index_search() / _get() / _free() (delta.c). */
VOUCH_HIDDEN int vouch__delta_search(vouch_index *idx, const uint8_t *queries, size_t nq, unsigned nvar,
                                     const vouch_search_opts *opts, vouch_match **out, size_t *nout);
VOUCH_HIDDEN int vouch__delta_get(const vouch_index *idx, size_t k, vouch_index_entry *e);
VOUCH_HIDDEN size_t vouch__delta_count(const vouch_index *idx);
VOUCH_HIDDEN size_t vouch__delta_memory(const vouch_index *idx);
VOUCH_HIDDEN void vouch__delta_free(struct vidx_delta *d);
/* Canonical order of two entries of `idx` (that of their Merkle leaves,
 * then entry id): the order of entry numbers in a file (index_file.c). */
VOUCH_HIDDEN int vouch__entry_cmp(const vouch_index *idx, const vouch_index_entry *a,
                                  const vouch_index_entry *b);

/* Loads hash i as big-endian 64-bit words: bit k of the hash (MSB-first in
 * byte order) is bit 63 - k%64 of word k/64. */
static inline void vidx_load_words(const uint8_t *h, unsigned words, uint64_t *w) {
  for (unsigned i = 0; i < words; i++) {
    uint64_t x;
    __builtin_memcpy(&x, h + 8 * i, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    w[i] = x;
  }
}

/* Loads a hash as native-order words, for distances (which do not depend
 * on byte order as long as both sides agree).  Spelled out per size: a loop
 * of 8-byte copies (or a variable-size memcpy) becomes a call to memcpy. */
static inline __attribute__((always_inline)) void vidx_load_native(const uint8_t *h, unsigned words,
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

/* Hamming distance between two hashes of `words` (1 or 4) native-order
 * words; spelled out per size like vidx_load_native(). */
static inline __attribute__((always_inline)) unsigned vidx_dist(const uint64_t *a, const uint64_t *b,
                                                                unsigned words) {
  unsigned d = (unsigned)__builtin_popcountll(a[0] ^ b[0]);
  if (words == 4)
    d += (unsigned)__builtin_popcountll(a[1] ^ b[1]) + (unsigned)__builtin_popcountll(a[2] ^ b[2]) +
         (unsigned)__builtin_popcountll(a[3] ^ b[3]);
  return d;
}

/* Bits [start, start+len) (len <= 32) of a hash held as big-endian words. */
static inline uint32_t vidx_substring(const uint64_t *w, unsigned start, unsigned len) {
  unsigned wi = start / 64, off = start % 64;
  uint64_t hi = w[wi] << off;
  if (off + len > 64)
    hi |= w[wi + 1] >> (64 - off);
  return (uint32_t)(hi >> (64 - len));
}

/* x86 kernels (AVX2, POPCNT), chosen at run time; none in the portable
 * build (VOUCH_NO_INTRINSICS), which runs the scalar reference code. */
#if (defined(__x86_64__) || defined(__i386__)) && !defined(VOUCH_NO_INTRINSICS)
#include <immintrin.h>
#define VIDX_X86 1
/* Popcount of each byte of x (nibble lookup), for the AVX2 kernels of the
 * scan and of MIH's bucket scan. */
__attribute__((target("avx2,popcnt"))) static inline __m256i vidx_popcnt_bytes(__m256i x) {
  const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1,
                                       2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0f);
  __m256i lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low));
  __m256i hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low));
  return _mm256_add_epi8(lo, hi);
}
#endif

VOUCH_HIDDEN int vouch__mih_build(vouch_index *idx, unsigned m, unsigned threads);
VOUCH_HIDDEN void vouch__advise_huge(void *p, size_t len);
VOUCH_HIDDEN void vouch__mih_free(vouch_index *idx);
VOUCH_HIDDEN unsigned vouch__mih_auto_m(size_t count, unsigned bits);
/* Heap bytes vouch__mih_build(idx, m) allocates; 0 if that m is impossible. */
VOUCH_HIDDEN size_t vouch__mih_estimate(const vouch_index *idx, unsigned m, size_t *links);
/* Threshold of table j for `radius`: sum over tables of (t_j + 1) = radius + 1,
 * so any entry within radius has some substring j within t_j (pigeonhole).
 * Returns -1 for tables that need no probing. */
VOUCH_HIDDEN int vouch__mih_threshold(unsigned m, unsigned radius, unsigned j);
/* sum_{d <= t} C(len, d), as a double (both engines' cost models). */
static inline double vouch__binom_sum(unsigned len, int t) {
  double s = 0, c = 1;
  for (int d = 0; d <= t && d <= (int)len; d++) {
    s += c;
    c = c * (double)(len - (unsigned)d) / (double)(d + 1);
  }
  return s;
}
VOUCH_HIDDEN double vouch__mih_cost(const vouch_index *idx, unsigned radius, unsigned nvar);
VOUCH_HIDDEN double vouch__scan_cost(const vouch_index *idx, unsigned radius, unsigned nvar);

/* A growable match list for one worker (out.c). */
typedef struct vidx_out {
  vouch_match *v;
  size_t n, cap;
} vidx_out;
VOUCH_HIDDEN int vouch__out_push(vidx_out *o, uint32_t q, uint32_t e, unsigned d, unsigned var);

/* Engines.  The scan takes a block of up to 8 queries (numbered qno,
 * qno+1, ...) and appends their matches in entry order; MIH one query. */
VOUCH_HIDDEN int vouch__scan_block(const vouch_index *idx, const uint8_t *q, unsigned nq,
                                   unsigned nvar, unsigned radius, uint32_t qno, vidx_out *o);
/* The search of a digest index (exact.c): equal hashes only. */
VOUCH_HIDDEN int vouch__exact_search(const vouch_index *idx, const uint8_t *queries, size_t nq, unsigned nvar,
                                     vouch_match **out, size_t *nout);
/* Scratch for MIH, one per worker (mih.c). */
typedef struct vidx_mih_probe vidx_mih_probe;
typedef struct vidx_mih_surv vidx_mih_surv;
typedef struct vidx_mih_scratch {
  vidx_mih_probe *probe; /* VIDX_MIH_CHUNK probes */
  vidx_mih_surv *surv;   /* survivors of the bucket scans */
  size_t surv_cap;
} vidx_mih_scratch;
VOUCH_HIDDEN int vouch__mih_query(const vouch_index *idx, const uint8_t *q, unsigned nvar,
                                  unsigned radius, uint32_t qno, vidx_out *o,
                                  vidx_mih_scratch *s);
VOUCH_HIDDEN void vouch__mih_scratch_free(vidx_mih_scratch *s);

#endif
