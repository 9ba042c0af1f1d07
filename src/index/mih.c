/* src/index/mih.c -- the sublinear exact engine: multi-index hashing over
 * chunks, with each bucket carrying the rest of its block.
 *
 * Multi-index hashing (Norouzi, Punjani, Fleet 2012/2014) cuts the hash into
 * substrings and relies on the pigeonhole principle: if the substring
 * distances sum to at most r and the thresholds t_j satisfy
 * sum (t_j + 1) > r, some substring j is within t_j, so probing every value
 * within t_j of the query's substring j, in every table, finds every match.
 * Its weak point at 10M entries and r = 31 of 256 bits is verification:
 * thousands of candidates per query, each a random read of its hash.
 *
 * Here the pigeonhole is applied twice.  The hash is cut into m chunks of at
 * most 16 bits (m = 16 for PDQ); chunks 2k and 2k+1 form block k.
 *   1. Blocks get thresholds T_k with sum (T_k + 1) = r + 1: an entry within
 *      r of the query has some block k within T_k.
 *   2. Inside a block the two chunks get thresholds t_a, t_b with
 *      (t_a + 1) + (t_b + 1) = T_k + 1: a block within T_k has a chunk within
 *      its threshold.
 * Table j is the entries in the order of chunk j's value, and stores with
 * each entry the other chunk of its block (the payload, 2 bytes).  Probing
 * bucket K of table j (K within t_j of the query's chunk) and scanning the
 * bucket's payloads gives the exact distance of the whole block, so only
 * entries whose block is within T_k survive: a sequential scan of a few
 * hundred bytes per probe instead of a random read per candidate.  At 10M
 * random PDQ hashes and r = 31 (T = 3, t = 1): 8 x 16 x 17 = 2,176 bucket
 * reads per 8-variant query, about 150 entries each, and about 820
 * survivors.
 *
 * The survivors are checked without the hashes.  The first table of each
 * block (its home) also stores, per entry, a link: the entry's position in
 * the next block's home.  A survivor walks the links block by block, reading
 * each block's value from the home's key and payload, until its distance
 * (with a lower bound for the blocks not yet read) passes the radius: about
 * 1.5 blocks per survivor at r = 31.  Only an entry that passes every block
 * is read from the hashes, for the full check.  So searching needs the
 * payloads (2 bytes per entry and chunk: the hash bytes once over) and the
 * links, not the hashes, which stay in the mapped file.
 *
 * Exactly once, with no per-query "seen" set: an entry is reported only
 * through the lowest variant within the radius, the lowest block within its
 * threshold for that variant, and (inside the block) the lowest chunk within
 * its threshold.  That triple always probes it; the survivor test rejects
 * the others (the chunk part already in the bucket scan).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "index_internal.h"


/* ------------------------------------------------------------ parameters */

unsigned vouch__mih_auto_m(size_t count, unsigned bits) {
  /* Chunks of about log2(n) bits, between 8 and 16: big indexes get 16-bit
   * chunks (a bucket of n / 65536 entries), small ones shorter chunks so the
   * bucket directories stay small. */
  unsigned lg = 0;
  for (size_t c = count; c > 1; c >>= 1)
    lg++;
  unsigned len = lg < 8 ? 8 : lg > VIDX_MIH_MAX_BITS ? VIDX_MIH_MAX_BITS : lg;
  unsigned m = (bits + len - 1) / len;
  return m > VIDX_MIH_MAX_M ? VIDX_MIH_MAX_M : m;
}

/* Threshold of part j of n for `radius`: sum over parts of (t_j + 1) =
 * radius + 1; -1 for parts that need no probing. */
int vouch__mih_threshold(unsigned n, unsigned radius, unsigned j) {
  unsigned q = (radius + 1) / n, rem = (radius + 1) % n;
  return j < rem ? (int)q : (int)q - 1;
}

static unsigned nblocks(unsigned m) { return (m + 1) / 2; }
/* The block after c, cyclically: where a home table's links point. */
static inline unsigned next_block(unsigned c, unsigned nb) { return c + 1 == nb ? 0 : c + 1; }

/* Block and chunk thresholds for one radius. */
static void thresholds(const vouch_index *idx, unsigned radius, int *T, int *t) {
  const unsigned m = idx->mih_m, nb = nblocks(m);
  for (unsigned k = 0; k < nb; k++)
    T[k] = vouch__mih_threshold(nb, radius, k);
  for (unsigned j = 0; j < m; j++) {
    const vidx_mih_table *tb = &idx->mih[j];
    int units = T[tb->block] + 1;
    if (tb->plen == 0 && !tb->second)
      t[j] = T[tb->block]; /* a block of one chunk */
    else
      t[j] = tb->second ? units / 2 - 1 : (units + 1) / 2 - 1;
  }
}

/* ------------------------------------------------------------ tables */

/* Large tables: ask for transparent huge pages, since bucket reads are
 * random accesses over hundreds of MB and TLB misses would add up. */
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
    vouch__free(idx->mih[j].dir);
    vouch__free(idx->mih[j].pay);
    vouch__free(idx->mih[j].lnk);
    vouch__free(idx->mih[j].samp);
  }
  memset(idx->mih, 0, sizeof idx->mih);
  idx->mih_m = 0;
  idx->heap_bytes = 0;
}

static inline void put_id(uint8_t *p, unsigned w, uint32_t id) {
  for (unsigned b = 0; b < w; b++)
    p[b] = (uint8_t)(id >> (8 * b));
}

static inline uint32_t get_id(const uint8_t *p, unsigned w) {
  uint32_t x = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return w >= 4 ? x : x & ((1U << (8 * w)) - 1);
}

/* Whether table j is its block's home (stores links): the first table of
 * each block.  Both tables of a block list their entries in the order (key,
 * payload, entry), so the entries with one block value form a run in each
 * of them, in the same order: the k-th entry of the run (P, K) in the
 * second table (bucket P, payload K) is the k-th entry of the run (K, P) in
 * the first (bucket K, payload P), which holds the links. */
static int is_home(const vidx_mih_table *t) { return !t->second; }

static size_t nsamp(size_t n) { return (n >> VIDX_MIH_SAMP_SHIFT) + 1; }

/* Table t from the block values: key = (vals[i] >> kshift) & 0xffff,
 * payload = (vals[i] >> pshift) & 0xffff.  The entries are sorted by (key,
 * payload, entry number): one stable scatter by the key's top PART_BITS
 * bits (few enough streams for the caches), then, inside each partition
 * (small enough to stay in cache), stable counting sorts by the 8-bit
 * digits of (rest of the key, payload).  kp and id are scratch of n. */
#define PART_BITS 8U

static int fill_table(vidx_mih_table *t, const uint32_t *vals, size_t n, unsigned w,
                      unsigned kshift, unsigned pshift, uint32_t *kp, uint32_t *id) {
  const size_t nb = (size_t)1 << t->len;
  const unsigned lowb = t->len > PART_BITS ? t->len - PART_BITS : 0;
  const size_t nparts = nb >> lowb;
  const uint32_t km = (uint32_t)nb - 1, pm = (1U << t->plen) - 1, lm = (1U << lowb) - 1;
  t->dir = vouch__calloc(nb + 1, sizeof *t->dir);
  t->pay = vouch__malloc(n * sizeof *t->pay);
  if (is_home(t)) {
    t->lnk = vouch__malloc(n * w + 4);
    t->samp = vouch__malloc(nsamp(n) * sizeof *t->samp);
  }
  uint32_t cur[1U << PART_BITS];
  uint32_t *tk = NULL, *ti = NULL;
  int rc = VOUCH_E_NOMEM;
  if (!t->dir || !t->pay || (is_home(t) && (!t->lnk || !t->samp)))
    goto out;
  vouch__advise_huge(t->pay, n * sizeof *t->pay);
  if (t->lnk) {
    vouch__advise_huge(t->lnk, n * w + 4);
    memset(t->lnk + n * w, 0, 4);
  }
  for (size_t i = 0; i < n; i++)
    t->dir[((vals[i] >> kshift) & km) + 1]++;
  for (size_t k = 0; k < nb; k++)
    t->dir[k + 1] += t->dir[k];
  size_t maxpart = 0;
  for (size_t p = 0; p < nparts; p++) {
    cur[p] = t->dir[p << lowb];
    size_t sz = t->dir[(p + 1) << lowb] - t->dir[p << lowb];
    maxpart = sz > maxpart ? sz : maxpart;
  }
  /* scatter by partition: kp = (key & lm) << 16 | payload */
  for (size_t i = 0; i < n; i++) {
    uint32_t key = (vals[i] >> kshift) & km, pv = (vals[i] >> pshift) & pm;
    uint32_t p = cur[key >> lowb]++;
    kp[p] = (key & lm) << 16 | pv;
    id[p] = (uint32_t)i;
  }
  tk = vouch__malloc((maxpart ? maxpart : 1) * sizeof *tk);
  ti = vouch__malloc((maxpart ? maxpart : 1) * sizeof *ti);
  if (!tk || !ti)
    goto out;
  for (size_t p = 0; p < nparts; p++) {
    const size_t s0 = t->dir[p << lowb], m = t->dir[(p + 1) << lowb] - s0;
    uint32_t *ak = kp + s0, *ai = id + s0, *bk = tk, *bi = ti;
    for (unsigned shift = 0; shift < 24; shift += 8) {
      /* digits: payload low / high byte, then the key's low bits */
      if ((shift == 0 && t->plen == 0) || (shift == 8 && t->plen <= 8) || (shift == 16 && lowb == 0))
        continue;
      uint32_t cnt[257] = {0};
      for (size_t q = 0; q < m; q++)
        cnt[((ak[q] >> shift) & 255) + 1]++;
      for (unsigned d = 0; d < 256; d++)
        cnt[d + 1] += cnt[d];
      for (size_t q = 0; q < m; q++) {
        uint32_t to = cnt[(ak[q] >> shift) & 255]++;
        bk[to] = ak[q];
        bi[to] = ai[q];
      }
      uint32_t *x = ak;
      ak = bk;
      bk = x;
      x = ai;
      ai = bi;
      bi = x;
    }
    for (size_t q = 0; q < m; q++) {
      t->pay[s0 + q] = (uint16_t)ak[q];
      if (t->lnk) /* entry numbers for now; link_homes() makes them links */
        put_id(t->lnk + (s0 + q) * w, w, ai[q]);
    }
  }
  if (t->samp) {
    uint32_t key = 0;
    for (size_t i = 0; i < nsamp(n); i++) {
      size_t pos = i << VIDX_MIH_SAMP_SHIFT;
      while (key + 1 < nb && t->dir[key + 1] <= pos)
        key++;
      t->samp[i] = (uint16_t)key;
    }
  }
  rc = VOUCH_OK;
out:
  vouch__free(tk);
  vouch__free(ti);
  return rc;
}

/* Scratch of n values for building one block's tables (build_block()),
 * allocated once per build thread and reused for each of its blocks: fresh
 * pages for every block cost as much as a quarter of the build at 10M (the
 * kernel zeroes them); huge pages, since the scatter writes all over them. */
typedef struct block_scratch {
  uint32_t *vals, *kp, *id;
} block_scratch;

static void scratch_free(block_scratch *b) {
  vouch__free(b->vals);
  vouch__free(b->kp);
  vouch__free(b->id);
  memset(b, 0, sizeof *b);
}

static int scratch_alloc(block_scratch *b, size_t n) {
  const size_t bytes = (n ? n : 1) * sizeof(uint32_t);
  b->vals = vouch__malloc(bytes);
  b->kp = vouch__malloc(bytes);
  b->id = vouch__malloc(bytes);
  if (!b->vals || !b->kp || !b->id) {
    scratch_free(b);
    return VOUCH_E_NOMEM;
  }
  vouch__advise_huge(b->vals, bytes);
  vouch__advise_huge(b->kp, bytes);
  vouch__advise_huge(b->id, bytes);
  return VOUCH_OK;
}

/* Block k: its chunk values are read from the hashes once (first chunk in
 * the high 16 bits), then each of its tables is sorted from them. */
static int build_block(vouch_index *idx, unsigned k, block_scratch *b) {
  const size_t n = idx->count;
  vidx_mih_table *t0 = &idx->mih[2 * k], *t1 = 2 * k + 1 < idx->mih_m ? &idx->mih[2 * k + 1] : NULL;
  uint32_t *vals = b->vals;
  uint64_t wd[4];
  for (size_t i = 0; i < n; i++) {
    vidx_load_words(idx->hashes + i * idx->hash_bytes, idx->words, wd);
    uint32_t a = vidx_substring(wd, t0->start, t0->len);
    vals[i] = t1 ? a << 16 | vidx_substring(wd, t1->start, t1->len) : a << 16;
  }
  int rc = fill_table(t0, vals, n, idx->mih_idw, 16, 0, b->kp, b->id);
  if (rc == VOUCH_OK && t1)
    rc = fill_table(t1, vals, n, idx->mih_idw, 0, 16, b->kp, b->id);
  return rc;
}

typedef struct build_job {
  vouch_index *idx;
  unsigned first, step;
  int rc;
} build_job;

static void *build_tables(void *arg) {
  build_job *b = arg;
  block_scratch sc;
  b->rc = scratch_alloc(&sc, b->idx->count);
  for (unsigned k = b->first; k < nblocks(b->idx->mih_m) && b->rc == VOUCH_OK; k += b->step)
    b->rc = build_block(b->idx, k, &sc);
  scratch_free(&sc);
  return NULL;
}

#define VIDX_MAX_BUILD_THREADS 16U

/* Entry numbers are stored in the fewest bytes that hold count - 1. */
static unsigned id_width(size_t count) {
  unsigned w = 1;
  while (w < 4 && (count - 1) >> (8 * w))
    w++;
  return w;
}

/* Whether m chunks of a bits-bit hash are a valid MIH layout. */
static int layout_ok(unsigned bits, unsigned m) {
  return m != 0 && m <= VIDX_MIH_MAX_M && m <= bits && (bits + m - 1) / m <= VIDX_MIH_MAX_BITS;
}

/* The shapes of m tables over a bits-bit hash: chunk j is bits [start,
 * start + len); chunks 2k and 2k + 1 form block k; each table's payload is
 * its partner chunk. */
static void layout(vidx_mih_table *tabs, unsigned bits, unsigned m) {
  const unsigned base = bits / m, extra = bits % m;
  unsigned start = 0;
  for (unsigned j = 0; j < m; j++) {
    vidx_mih_table *t = &tabs[j];
    t->start = start;
    t->len = base + (j < extra);
    start += t->len;
    t->block = j / 2;
    t->second = j % 2;
  }
  for (unsigned j = 0; j < m; j++) {
    unsigned partner = j ^ 1U;
    if (partner < m)
      tabs[j].plen = tabs[partner].len;
  }
}

/* Heap bytes of the tables: directory, payloads and (home tables) links
 * and key samples; what fill_table() allocates. */
static size_t tables_bytes(const vidx_mih_table *tabs, unsigned m, size_t count, unsigned w,
                           size_t *links) {
  size_t bytes = 0, lb = 0;
  for (unsigned j = 0; j < m; j++) {
    bytes += (((size_t)1 << tabs[j].len) + 1) * sizeof(uint32_t) + count * sizeof(uint16_t) +
             (is_home(&tabs[j]) ? count * w + 4 + nsamp(count) * sizeof(uint16_t) : 0);
    lb += is_home(&tabs[j]) ? count * w + 4 : 0;
  }
  if (links)
    *links = lb;
  return bytes;
}

/* The home tables hold entry numbers after fill_table(); link_homes()
 * turns them into links: home k's position p -> the same entry's position
 * in home k + 1 (the last home keeps entry numbers, which are positions in
 * home 0).  Home 0 is in entry order: it is sorted by the hash's leading
 * bits, and the entries of an opened index are in canonical (hash) order.
 * Per block two passes over the positions, each split over the threads:
 * inv = home k + 1's entry -> position, then home k's p -> inv[entry]. */
typedef struct link_job {
  const vouch_index *idx;
  uint32_t *inv;
  unsigned k, pass;
  size_t lo, hi;
  int bad;
} link_job;

static void *link_part(void *arg) {
  link_job *j = arg;
  const unsigned w = j->idx->mih_idw;
  if (j->pass == 0) {
    const uint8_t *home0 = j->idx->mih[0].lnk;
    for (size_t p = j->lo; p < j->hi; p++)
      j->bad |= get_id(home0 + p * w, w) != p;
  } else if (j->pass == 1) {
    const uint8_t *next = j->idx->mih[2 * j->k + 2].lnk;
    for (size_t p = j->lo; p < j->hi; p++)
      j->inv[get_id(next + p * w, w)] = (uint32_t)p;
  } else {
    uint8_t *cur = j->idx->mih[2 * j->k].lnk;
    for (size_t p = j->lo; p < j->hi; p++) { /* reads w bytes only: the next ones may be another thread's */
      uint32_t e = 0;
      for (unsigned b = 0; b < w; b++)
        e |= (uint32_t)cur[p * w + b] << (8 * b);
      put_id(cur + p * w, w, j->inv[e]);
    }
  }
  return NULL;
}


/* One pass of link_homes() over all positions, on up to nt threads. */
static int link_pass(const vouch_index *idx, uint32_t *inv, unsigned k, unsigned pass, unsigned nt) {
  const size_t n = idx->count;
  link_job jobs[VIDX_MAX_BUILD_THREADS];
  if (n < ((size_t)1 << 16))
    nt = 1;
  for (unsigned t = 0; t < nt; t++)
    jobs[t] = (link_job){idx, inv, k, pass, n * t / nt, n * (t + 1) / nt, 0};
  vouch__run_jobs(link_part, jobs, sizeof jobs[0], nt);
  int bad = 0;
  for (unsigned t = 0; t < nt; t++)
    bad |= jobs[t].bad;
  return bad ? VOUCH_E_INTERNAL : VOUCH_OK; /* home 0 out of entry order: cannot happen */
}

static int link_homes(vouch_index *idx, unsigned nt) {
  if (idx->count == 0)
    return VOUCH_OK;
  VOUCH_TRY(link_pass(idx, NULL, 0, 0, nt));
  uint32_t *inv = vouch__malloc(idx->count * sizeof *inv);
  if (!inv)
    return VOUCH_E_NOMEM;
  vouch__advise_huge(inv, idx->count * sizeof *inv); /* random accesses: TLB misses */
  for (unsigned k = 0; k + 1 < nblocks(idx->mih_m); k++) {
    link_pass(idx, inv, k, 1, nt);
    link_pass(idx, inv, k, 2, nt);
  }
  vouch__free(inv);
  return VOUCH_OK;
}

size_t vouch__mih_estimate(const vouch_index *idx, unsigned m, size_t *links) {
  const unsigned bits = idx->hash_bytes * 8;
  if (!layout_ok(bits, m) || idx->count > VIDX_MIH_MAX_COUNT)
    return 0;
  vidx_mih_table tabs[VIDX_MIH_MAX_M];
  memset(tabs, 0, sizeof tabs);
  layout(tabs, bits, m);
  return tables_bytes(tabs, m, idx->count, id_width(idx->count), links);
}

int vouch__mih_build(vouch_index *idx, unsigned m, unsigned threads) {
  const unsigned bits = idx->hash_bytes * 8;
  if (!layout_ok(bits, m))
    return VOUCH_E_INVALID;
  if (idx->count > VIDX_MIH_MAX_COUNT)
    return VOUCH_E_LIMIT;
  vouch__mih_free(idx);
  const unsigned w = id_width(idx->count);
  idx->mih_idw = w;
  layout(idx->mih, bits, m);
  idx->mih_m = m;
  unsigned nt = threads ? threads : 1; /* the links are split over all of them */
  if (nt > VIDX_MAX_BUILD_THREADS) nt = VIDX_MAX_BUILD_THREADS;
  const unsigned nbt = nt < nblocks(m) ? nt : nblocks(m); /* the tables, a block per job */
  build_job jobs[VIDX_MAX_BUILD_THREADS];
  for (unsigned t = 0; t < nbt; t++)
    jobs[t] = (build_job){idx, t, nbt, VOUCH_OK};
  vouch__run_jobs(build_tables, jobs, sizeof jobs[0], nbt);
  int rc = VOUCH_OK;
  for (unsigned t = 0; t < nbt && rc == VOUCH_OK; t++)
    rc = jobs[t].rc;
  if (rc == VOUCH_OK)
    rc = link_homes(idx, nt);
  if (rc != VOUCH_OK) {
    vouch__mih_free(idx);
    return rc;
  }
  idx->heap_bytes = tables_bytes(idx->mih, m, idx->count, w, NULL);
  return VOUCH_OK;
}

/* ------------------------------------------------------------ query */

/* A probe: bucket `a` of table tv >> 3 for variant tv & 7, later the bucket's
 * positions [a, b); survivors need a payload distance in [lo, hi]. */
struct vidx_mih_probe {
  uint32_t a, b;
  uint16_t key, tv;
  uint8_t lo, hi;
};
/* A survivor: position `pos` in bucket `key` of table tv >> 3, then (if
 * that is a block's second table) the same entry's position in the block's
 * home table, then, block after block, its position in the next home.
 * pv: its payload; run, a2, b2: the home lookup (rank in the run, home
 * bucket), later the range of keys to search for pos; cur: the block of
 * pos; dist: the distance of the blocks read so far to variant tv & 7; id:
 * the entry number, once known. */
struct vidx_mih_surv {
  uint32_t pos, id;
  uint32_t run, a2, b2;
  uint16_t tv, key;
  uint16_t pv, dist;
  uint16_t cur;
};

#define VIDX_MIH_CHUNK 4096U
#define BUCKET_AHEAD 12U
#define SURV_AHEAD 16U
#define TV(j, v) ((uint16_t)((j) << 3 | (v)))

void vouch__mih_scratch_free(vidx_mih_scratch *s) {
  vouch__free(s->probe);
  vouch__free(s->surv);
  memset(s, 0, sizeof *s);
}

static int grow_surv(vidx_mih_scratch *s, size_t need) {
  if (need <= s->surv_cap)
    return VOUCH_OK;
  size_t nc = s->surv_cap ? s->surv_cap : 1024;
  while (nc < need)
    nc *= 2;
  vidx_mih_surv *v = vouch__realloc(s->surv, nc * sizeof *v);
  if (!v)
    return VOUCH_E_NOMEM;
  s->surv = v;
  s->surv_cap = nc;
  return VOUCH_OK;
}

typedef struct mih_q {
  const vouch_index *idx;
  unsigned nvar, radius, words;
  uint32_t qno;
  uint64_t qn[VOUCH_DIHEDRAL_N * 4]; /* native-order words (distances) */
  uint16_t qch[VOUCH_DIHEDRAL_N][VIDX_MIH_MAX_M]; /* chunk values per variant */
  int T[VIDX_MIH_MAX_M], t[VIDX_MIH_MAX_M];
  unsigned low[VIDX_MIH_MAX_M]; /* sum over blocks j < k of (T_j + 1) */
  int use_avx2;
  vidx_out *o;
  vidx_mih_scratch *s;
} mih_q;

/* Survivors of one bucket: positions i in [a, b) with
 * lo <= popcount(pay[i] ^ qp) <= hi. */
static inline __attribute__((always_inline)) size_t scan_scalar(const uint16_t *pay, uint32_t a,
                                                                uint32_t b, uint16_t qp,
                                                                unsigned lo, unsigned hi,
                                                                const vidx_mih_probe *pr,
                                                                vidx_mih_surv *out) {
  size_t n = 0;
  for (uint32_t i = a; i < b; i++) {
    unsigned d = (unsigned)__builtin_popcount((unsigned)(pay[i] ^ qp));
    if (d - lo <= hi - lo) {
      out[n].pos = i;
      out[n].key = pr->key;
      out[n++].tv = pr->tv;
    }
  }
  return n;
}

#ifdef VIDX_X86
/* 16 payloads per step: popcount by nibble lookup, bytes summed to 16-bit
 * lanes, both bounds compared at once. */
__attribute__((target("avx2,popcnt"))) static size_t scan_avx2(const uint16_t *pay, uint32_t a,
                                                               uint32_t b, uint16_t qp, unsigned lo,
                                                               unsigned hi, const vidx_mih_probe *pr,
                                                               vidx_mih_surv *out) {
  const __m256i low = _mm256_set1_epi16(0x00ff);
  const __m256i q = _mm256_set1_epi16((short)qp);
  const __m256i lov = _mm256_set1_epi16((short)lo - 1), hiv = _mm256_set1_epi16((short)hi + 1);
  size_t n = 0;
  uint32_t i = a;
  for (; i + 16 <= b; i += 16) {
    __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)(pay + i)), q);
    __m256i c = vidx_popcnt_bytes(x);
    c = _mm256_add_epi16(_mm256_and_si256(c, low), _mm256_srli_epi16(c, 8));
    __m256i ok = _mm256_and_si256(_mm256_cmpgt_epi16(c, lov), _mm256_cmpgt_epi16(hiv, c));
    unsigned mask = (unsigned)_mm256_movemask_epi8(ok) & 0x55555555U;
    while (mask) {
      unsigned bit = (unsigned)__builtin_ctz(mask);
      out[n].pos = i + bit / 2;
      out[n].key = pr->key;
      out[n++].tv = pr->tv;
      mask &= mask - 1;
    }
  }
  return n + scan_scalar(pay, i, b, qp, lo, hi, pr, out + n);
}
#endif

/* The first position in [a, b) whose payload is >= x (payloads are
 * ascending within a run of one key). */
static inline uint32_t lower_bound16(const uint16_t *pay, uint32_t a, uint32_t b, uint16_t x) {
  while (a < b) {
    uint32_t mid = a + (b - a) / 2;
    if (pay[mid] < x)
      a = mid + 1;
    else
      b = mid;
  }
  return a;
}

/* Where payload x is expected in [a, b) if payloads (of plen bits) are
 * spread evenly, as they are for hashes that look random. */
static inline uint32_t guess16(uint32_t a, uint32_t b, uint16_t x, unsigned plen) {
  uint32_t g = a + (uint32_t)(((uint64_t)(b - a) * x) >> plen);
  return g < b ? g : (b > a ? b - 1 : a);
}

/* lower_bound16 starting from a guess: gallops away from it, then bisects,
 * so a good guess touches one or two cache lines. */
static inline uint32_t lower_bound16_near(const uint16_t *pay, uint32_t a, uint32_t b, uint16_t x,
                                          uint32_t g) {
  if (a >= b)
    return a;
  uint32_t step = 1;
  if (pay[g] < x) { /* answer in (g, b] */
    uint32_t below = g, at = g + 1; /* pay[below] < x */
    while (at < b && pay[at] < x) {
      below = at;
      at = step < b - at ? at + step : b;
      step *= 2;
    }
    return lower_bound16(pay, below + 1, at, x);
  }
  /* pay[g] >= x: answer in [a, g] */
  uint32_t hi = g;
  while (hi > a && pay[hi - 1] >= x) {
    uint32_t nh = step < hi - a ? hi - step : a;
    if (pay[nh] < x)
      return lower_bound16(pay, nh + 1, hi, x);
    hi = nh;
    step *= 2;
  }
  return hi;
}

/* Survivor `id` (through variant v, table j): the full check. */
static inline __attribute__((always_inline)) int verify(const mih_q *m, uint32_t id, unsigned v,
                                                        unsigned j) {
  const vouch_index *idx = m->idx;
  const unsigned words = m->words;
  const uint8_t *h = idx->hashes + (size_t)id * idx->hash_bytes;
  uint64_t ew[4];
  vidx_load_native(h, words, ew);
  unsigned dv = vidx_dist(ew, m->qn + v * words, words);
  if (dv > m->radius)
    return VOUCH_OK;
  for (unsigned u = 0; u < v; u++)
    if (vidx_dist(ew, m->qn + u * words, words) <= m->radius)
      return VOUCH_OK; /* a lower variant reports it */
  const unsigned blk = idx->mih[j].block;
  if (blk > 0) {
    uint64_t ebe[4];
    vidx_load_words(h, words, ebe);
    for (unsigned c = 0; c < 2 * blk; c += 2) {
      const vidx_mih_table *ta = &idx->mih[c], *tb = &idx->mih[c + 1];
      int d = __builtin_popcount(vidx_substring(ebe, ta->start, ta->len) ^ m->qch[v][c]) +
              __builtin_popcount(vidx_substring(ebe, tb->start, tb->len) ^ m->qch[v][c + 1]);
      if (d <= m->T[c / 2])
        return VOUCH_OK; /* a lower block reports it */
    }
  }
  /* The lower chunk of the same block was excluded by the bucket scan
   * (its distance is the payload's, required > its threshold). */
  unsigned best = dv, bv = v;
  for (unsigned u = v + 1; u < m->nvar; u++) {
    unsigned du = vidx_dist(ew, m->qn + u * words, words);
    if (du < best) {
      best = du;
      bv = u;
    }
  }
  return vouch__out_push(m->o, m->qno, id, best, bv);
}

/* Runs `np` probes through the pipeline: bucket bounds, bucket scans,
 * entry numbers, verification; each stage prefetches ahead. */
static inline __attribute__((always_inline)) int flush(const mih_q *m, size_t np) {
  const vouch_index *idx = m->idx;
  vidx_mih_scratch *s = m->s;
  vidx_mih_probe *pr = s->probe;
  /* 1: bucket bounds (the directories were prefetched with the keys) */
  size_t nb = 0, total = 0;
  for (size_t k = 0; k < np; k++) {
    const uint32_t *dir = idx->mih[pr[k].tv >> 3].dir;
    uint32_t a = dir[pr[k].a], b = dir[pr[k].a + 1];
    if (a == b)
      continue;
    pr[nb] = pr[k];
    pr[nb].key = (uint16_t)pr[k].a;
    pr[nb].a = a;
    pr[nb++].b = b;
    total += b - a;
  }
  /* 2: bucket scans */
  VOUCH_TRY(grow_surv(s, total));
  size_t ns = 0;
  for (size_t k = 0; k < nb; k++) {
    if (k + BUCKET_AHEAD < nb) {
      const vidx_mih_probe *f = &pr[k + BUCKET_AHEAD];
      const uint16_t *pay = idx->mih[f->tv >> 3].pay;
      const char *p0 = (const char *)(pay + f->a), *p1 = (const char *)(pay + f->b);
      for (unsigned l = 0; p0 < p1 && l < 16; l++, p0 += 64)
        __builtin_prefetch(p0);
    }
    const unsigned j = pr[k].tv >> 3, v = pr[k].tv & 7;
    const vidx_mih_table *t = &idx->mih[j];
    const uint16_t qp = t->plen ? m->qch[v][j ^ 1U] : 0;
#ifdef VIDX_X86
    if (m->use_avx2)
      ns += scan_avx2(t->pay, pr[k].a, pr[k].b, qp, pr[k].lo, pr[k].hi, &pr[k], s->surv + ns);
    else
#endif
      ns += scan_scalar(t->pay, pr[k].a, pr[k].b, qp, pr[k].lo, pr[k].hi, &pr[k], s->surv + ns);
  }
  /* 3: each survivor's block distance; for a block's second table, the
   * entry's position in the block's home table */
  vidx_mih_surv *sv = s->surv;
  size_t nsib = 0;
  for (size_t k = 0; k < ns; k++) {
    const unsigned j = sv[k].tv >> 3, v = sv[k].tv & 7;
    const vidx_mih_table *t = &idx->mih[j];
    uint16_t pv = t->pay[sv[k].pos];
    sv[k].pv = pv;
    sv[k].dist = (uint16_t)(__builtin_popcount((unsigned)(sv[k].key ^ m->qch[v][j])) +
                            (t->plen ? __builtin_popcount((unsigned)(pv ^ m->qch[v][j ^ 1U])) : 0));
    if (is_home(t))
      continue;
    /* rank of this entry among those with its block value */
    sv[k].run = sv[k].pos - lower_bound16(t->pay, t->dir[sv[k].key], sv[k].pos, pv);
    __builtin_prefetch(&t[-1].dir[pv]);
    nsib++;
  }
  if (nsib) {
    for (size_t k = 0; k < ns; k++) {
      const vidx_mih_table *t = &idx->mih[sv[k].tv >> 3];
      if (is_home(t))
        continue;
      sv[k].a2 = t[-1].dir[sv[k].pv];
      sv[k].b2 = t[-1].dir[sv[k].pv + 1];
    }
    for (size_t k = 0; k < ns; k++) {
      if (k + SURV_AHEAD < ns) {
        const vidx_mih_surv *f = &sv[k + SURV_AHEAD];
        const vidx_mih_table *ft = &idx->mih[f->tv >> 3];
        if (!is_home(ft) && f->a2 < f->b2)
          __builtin_prefetch(ft[-1].pay + guess16(f->a2, f->b2, f->key, ft[-1].plen));
      }
      const unsigned j = sv[k].tv >> 3;
      const vidx_mih_table *t = &idx->mih[j];
      if (is_home(t))
        continue;
      uint32_t p1 = lower_bound16_near(t[-1].pay, sv[k].a2, sv[k].b2, sv[k].key,
                                       guess16(sv[k].a2, sv[k].b2, sv[k].key, t[-1].plen)) +
                    sv[k].run;
      if (p1 >= sv[k].b2 || t[-1].pay[p1] != sv[k].key)
        return VOUCH_E_INTERNAL; /* the two tables disagree: cannot happen */
      sv[k].pos = p1;
      sv[k].tv = TV(j - 1, sv[k].tv & 7);
    }
  }
  /* 4: the walk.  Every survivor now sits in its block's home table; each
   * round follows one link to the next block's home, finds the position's
   * key (from the samples and the directory) and payload, and adds that
   * block's distance.  An entry reported through block k has every lower
   * block j beyond its threshold (else block j reports it), so dist starts
   * as block k's distance plus sum over j < k of (T_j + 1), and a lower
   * block's distance replaces its T_j + 1 when it is read.  A survivor
   * leaves when dist passes the radius, or when it meets a lower block
   * within its threshold; one that has been through every block is a
   * match of its variant and gets the full check. */
  const unsigned nblk = nblocks(idx->mih_m), w = idx->mih_idw;
  size_t live = 0;
  for (size_t k = 0; k < ns; k++) {
    const unsigned blk = idx->mih[sv[k].tv >> 3].block;
    sv[k].dist = (uint16_t)(sv[k].dist + m->low[blk]);
    if (sv[k].dist > m->radius)
      continue;
    sv[k].cur = (uint16_t)blk;
    sv[k].id = sv[k].pos; /* right only for block 0; set when the walk passes it */
    __builtin_prefetch(idx->mih[2 * blk].lnk + (size_t)sv[k].pos * w);
    if (nblk == 1) {
      VOUCH_TRY(verify(m, sv[k].id, sv[k].tv & 7, sv[k].tv >> 3));
      continue;
    }
    sv[live++] = sv[k];
  }
  while (live) {
    /* the links were prefetched when the survivors were kept */
    for (size_t k = 0; k < live; k++) {
      unsigned c = sv[k].cur;
      uint32_t p = get_id(idx->mih[2 * c].lnk + (size_t)sv[k].pos * w, w);
      if (p >= idx->count)
        return VOUCH_E_INTERNAL; /* a broken link: cannot happen */
      c = next_block(c, nblk);
      sv[k].pos = p;
      sv[k].cur = (uint16_t)c;
      if (c == 0)
        sv[k].id = p;
      const vidx_mih_table *h = &idx->mih[2 * c];
      __builtin_prefetch(h->pay + p);
      __builtin_prefetch(h->samp + (p >> VIDX_MIH_SAMP_SHIFT));
    }
    for (size_t k = 0; k < live; k++) {
      const vidx_mih_table *h = &idx->mih[2 * sv[k].cur];
      const size_t i = sv[k].pos >> VIDX_MIH_SAMP_SHIFT;
      sv[k].a2 = h->samp[i];
      sv[k].b2 = (i + 1 < nsamp(idx->count) ? h->samp[i + 1] : ((uint32_t)1 << h->len) - 1);
      __builtin_prefetch(&h->dir[sv[k].a2]);
    }
    size_t keep = 0;
    for (size_t k = 0; k < live; k++) {
      const unsigned c = sv[k].cur, v = sv[k].tv & 7;
      const vidx_mih_table *h = &idx->mih[2 * c];
      const uint32_t p = sv[k].pos;
      /* the key: the last K in [a2, b2] with dir[K] <= p */
      uint32_t lo = sv[k].a2, hi = sv[k].b2;
      while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (h->dir[mid] <= p)
          lo = mid;
        else
          hi = mid - 1;
      }
      unsigned d = (unsigned)__builtin_popcount(lo ^ m->qch[v][2 * c]) +
                   (h->plen ? (unsigned)__builtin_popcount((unsigned)(h->pay[p] ^ m->qch[v][2 * c + 1])) : 0);
      unsigned dist = sv[k].dist + d;
      const unsigned start = idx->mih[sv[k].tv >> 3].block;
      if (c < start) {
        if ((int)d <= m->T[c])
          continue; /* a lower block reports it */
        dist -= (unsigned)(m->T[c] + 1);
      }
      if (dist > m->radius)
        continue;
      if (next_block(c, nblk) == start) {
        VOUCH_TRY(verify(m, sv[k].id, v, sv[k].tv >> 3));
        continue;
      }
      sv[k].dist = (uint16_t)dist;
      __builtin_prefetch(h->lnk + (size_t)p * w); /* the next round's hop */
      sv[keep++] = sv[k];
    }
    live = keep;
  }
  return VOUCH_OK;
}

static inline __attribute__((always_inline)) int mih_query_body(mih_q *m) {
  const vouch_index *idx = m->idx;
  vidx_mih_scratch *s = m->s;
  if (!s->probe) {
    s->probe = vouch__malloc(VIDX_MIH_CHUNK * sizeof *s->probe);
    if (!s->probe)
      return VOUCH_E_NOMEM;
  }
  vidx_mih_probe *pr = s->probe;
  size_t np = 0;
  for (unsigned v = 0; v < m->nvar; v++) {
    for (unsigned j = 0; j < idx->mih_m; j++) {
      const vidx_mih_table *t = &idx->mih[j];
      if (m->t[j] < 0)
        continue;
      const int T = m->T[t->block];
      /* the block's first chunk, when within its threshold, reports */
      const int lo = t->second ? m->t[j - 1] + 1 : 0;
      if (lo > (int)t->plen)
        continue;
      const unsigned len = t->len;
      const int tj = m->t[j] > (int)len ? (int)len : m->t[j];
      const uint32_t key = m->qch[v][j];
      const uint16_t tv = TV(j, v);
      for (int p = 0; p <= tj; p++) {
        int hi = T - p;
        if (hi < lo)
          break;
        if (hi > (int)t->plen)
          hi = (int)t->plen;
        /* every mask of len bits with popcount p (Gosper's hack) */
        uint64_t mask = ((uint64_t)1 << p) - 1, limit = (uint64_t)1 << len;
        while (mask < limit) {
          if (np == VIDX_MIH_CHUNK) {
            VOUCH_TRY(flush(m, np));
            np = 0;
          }
          uint32_t kk = key ^ (uint32_t)mask;
          __builtin_prefetch(&t->dir[kk]);
          pr[np].a = kk;
          pr[np].tv = tv;
          pr[np].lo = (uint8_t)lo;
          pr[np++].hi = (uint8_t)hi;
          if (p == 0)
            break;
          uint64_t c = mask & -mask, r = mask + c;
          mask = (((r ^ mask) >> 2) >> __builtin_ctzll(c)) | r; /* c is a power of two */
        }
      }
    }
  }
  if (np)
    VOUCH_TRY(flush(m, np));
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
  m.use_avx2 = idx->use_avx2;
  memcpy(m.qn, q, (size_t)nvar * idx->hash_bytes);
  for (unsigned v = 0; v < nvar; v++) {
    uint64_t be[4];
    vidx_load_words(q + (size_t)v * idx->hash_bytes, idx->words, be);
    for (unsigned j = 0; j < idx->mih_m; j++)
      m.qch[v][j] = (uint16_t)vidx_substring(be, idx->mih[j].start, idx->mih[j].len);
  }
  thresholds(idx, radius, m.T, m.t);
  m.low[0] = 0;
  for (unsigned k = 0; k + 1 < nblocks(idx->mih_m); k++)
    m.low[k + 1] = m.low[k] + (unsigned)(m.T[k] + 1);
#ifdef VIDX_X86
  if (idx->use_popcnt)
    return mih_query_popcnt(&m);
#endif
  return mih_query_generic(&m);
}

/* ------------------------------------------------------------ cost model */

/* Rough costs in nanoseconds, fitted to bench/bench_match.c on the
 * development machine (docs/matching.md); they only steer AUTO. */
double vouch__mih_cost(const vouch_index *idx, unsigned radius, unsigned nvar) {
  if (idx->mih_m == 0)
    return 1e300;
  int T[VIDX_MIH_MAX_M], t[VIDX_MIH_MAX_M];
  thresholds(idx, radius, T, t);
  double cost = 0;
  for (unsigned j = 0; j < idx->mih_m; j++) {
    if (t[j] < 0)
      continue;
    const vidx_mih_table *tb = &idx->mih[j];
    double probes = vouch__binom_sum(tb->len, t[j]);
    double per_bucket = (double)idx->count / (double)((size_t)1 << tb->len);
    /* survivors: entries whose block is within T, about n * V(w, T) / 2^w
     * per block, split over its tables */
    unsigned wbits = tb->len + tb->plen;
    double surv = (double)idx->count * vouch__binom_sum(wbits, T[tb->block]) / ((double)((size_t)1 << wbits)) /
                  (tb->plen ? 2.0 : 1.0);
    cost += probes * (25.0 + 0.47 * per_bucket) + surv * 170.0;
  }
  return cost * nvar;
}
