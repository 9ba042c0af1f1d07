/*
 * vouch/index.h -- immutable, memory-mapped hash index and exact radius search.
 *
 * An index file (.vidx, format in docs/index-format.md) is a snapshot of the
 * enabled entries of one or more banks: the hashes, and for each entry the
 * bank, the bank database's entry id, the external id and the source(s).
 * It is written once (temp file + fsync + rename) and opened read-only with
 * mmap.  Opening validates the whole file (sizes, offsets, counts, string
 * bounds, sort order, BLAKE2b checksum) before any search touches it.
 *
 * Search is exact: every entry within Hamming distance `radius` of any of
 * the query's variants is reported, with the smallest distance over the
 * variants (ties: the lowest variant number).  Two engines give identical
 * results: a brute-force scan (AVX2 or scalar, chosen at run time) that
 * compares each entry with all variants in one pass, and multi-index hashing
 * (after Norouzi, Punjani, Fleet 2012) over m chunks of at most 16 bits,
 * paired into blocks whose buckets carry the rest of the block
 * (docs/matching.md).
 */
#ifndef VOUCH_INDEX_H
#define VOUCH_INDEX_H

#include "common.h"
#include "errors.h"
#include "hash.h"
#include "merkle.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VOUCH_INDEX_FORMAT_VERSION 1U
#define VOUCH_INDEX_MAGIC "VOUCHIDX"
/* Limits.  Entry numbers are 32-bit; bank and string sizes are bounded so a
 * hostile file cannot make us allocate or loop without end. */
#define VOUCH_INDEX_MAX_ENTRIES 0xFFFFFFF0U
#define VOUCH_INDEX_MAX_BANKS 65535U
#define VOUCH_INDEX_MAX_STRING 65535U /* bank name, external id, source */
/* Default search radius: 31 for PDQ, 10 for the 64-bit hashes. */
#define VOUCH_RADIUS_PDQ 31U
#define VOUCH_RADIUS_64 10U
VOUCH_API unsigned vouch_default_radius(int algo);

/* ---------------------------------------------------------------- writing */

/* One entry to write.  Strings are NUL-terminated UTF-8; NULL means "". */
typedef struct vouch_index_input {
  const uint8_t *hash; /* vouch_algo_bytes(algo) bytes */
  uint32_t bank;       /* index into the bank name list */
  uint64_t entry_id;   /* the entry's id in the bank database (0 if none) */
  const char *ext_id;  /* external id given by the list's supplier */
  const char *source;  /* who supplied it; several are joined with ',' */
} vouch_index_input;

/*! vouch_index_write() :
 *  Writes an index file of `n` entries at `path`: sorts the entries into
 *  canonical order (see docs/index-format.md), computes the Merkle root over
 *  the canonical leaves and the checksum, writes to `path`.tmp.XXXXXX,
 *  fsyncs, renames over `path` and fsyncs the directory.  Inputs are not
 *  modified.  `root` (may be NULL) receives the Merkle root.  On failure a
 *  message is written to `err` (may be NULL) and no file is left behind.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_LIMIT, VOUCH_E_NOMEM, VOUCH_E_IO. */
VOUCH_API int vouch_index_write(const char *path, int algo, const char *const *bank_names,
                                uint32_t nbanks, const vouch_index_input *in, size_t n,
                                uint8_t root[VOUCH_MERKLE_HASH_BYTES], char *err, size_t err_cap);

/*! vouch_index_canonical_leaf() :
 *  Writes the canonical encoding of one entry (the Merkle leaf) to `out`:
 *    u8 algo | hash | u16be len | bank name | u16be len | ext id | u16be len | source
 *  and returns its length, or 0 if `cap` is too small or a string is longer
 *  than VOUCH_INDEX_MAX_STRING.  Never more than 1 + 32 + 3 * (2 + 65535). */
VOUCH_API size_t vouch_index_canonical_leaf(int algo, const uint8_t *hash, const char *bank,
                                            size_t bank_len, const char *ext_id, size_t ext_len,
                                            const char *source, size_t src_len, uint8_t *out,
                                            size_t cap);

/* ---------------------------------------------------------------- opening */

typedef struct vouch_index vouch_index;

typedef enum vouch_engine {
  VOUCH_ENGINE_AUTO = 0, /* pick by radius and size (cost model) */
  VOUCH_ENGINE_SCAN = 1, /* brute force over all entries */
  VOUCH_ENGINE_MIH = 2   /* multi-index hashing */
} vouch_engine;

typedef struct vouch_index_config {
  int build_mih;      /* build the multi-index tables at open (needed for MIH) */
  unsigned mih_m;     /* number of chunks (tables), each <= 16 bits; 0 = chosen from the size */
  int force_scalar;   /* never use the AVX2 kernels */
  unsigned build_threads; /* threads building the MIH tables; 0 = 1 */
} vouch_index_config;
/*! vouch_index_config_default() : build_mih = 1, mih_m = 0, force_scalar = 0,
 *  build_threads = 1. */
VOUCH_API vouch_index_config vouch_index_config_default(void);

/*! vouch_index_open() :
 *  Maps and validates `path`.  `cfg` may be NULL (defaults).  With
 *  build_mih, the MIH tables are built as by vouch_index_build_mih().  On most
 *  failures *out still receives a handle whose vouch_index_errmsg() says what
 *  was wrong; free it with vouch_index_free() either way.
 * @return : VOUCH_OK, VOUCH_E_IO, VOUCH_E_DB_CORRUPT, VOUCH_E_DB_VERSION,
 *           VOUCH_E_NOMEM, VOUCH_E_INVALID. */
VOUCH_API int vouch_index_open(vouch_index **out, const char *path, const vouch_index_config *cfg);

/*! vouch_index_open_buffer() :
 *  As vouch_index_open() over `len` bytes at `data`, which are borrowed and
 *  must outlive the handle (used by the fuzz target and tests). */
VOUCH_API int vouch_index_open_buffer(vouch_index **out, const uint8_t *data, size_t len,
                                      const vouch_index_config *cfg);

VOUCH_API void vouch_index_free(vouch_index *idx); /* NULL is a no-op */
/*! vouch_index_errmsg() : detail of the last failure on `idx` ("" if none, never NULL). */
VOUCH_API const char *vouch_index_errmsg(const vouch_index *idx);

/*! vouch_index_build_mih() :
 *  Builds (or rebuilds) the MIH tables with `m` chunks (0 = chosen from
 *  the size; otherwise chunks must be at most 16 bits: m >= 16 for PDQ,
 *  >= 4 for 64-bit hashes, <= 64) on `threads` threads (0 = 1), for a
 *  handle opened with build_mih = 0.  For a file opened with
 *  vouch_index_open(), releases the mapping's resident pages before the
 *  build (which reads only the hashes) and after it (MADV_DONTNEED): they
 *  come back from the page cache when a search needs them.  Not safe while
 *  other threads search the same handle.
 * @return : VOUCH_OK, VOUCH_E_INVALID (m impossible), VOUCH_E_LIMIT, VOUCH_E_NOMEM. */
VOUCH_API int vouch_index_build_mih(vouch_index *idx, unsigned m, unsigned threads);

VOUCH_API int vouch_index_algo(const vouch_index *idx);
VOUCH_API size_t vouch_index_hash_bytes(const vouch_index *idx);
VOUCH_API size_t vouch_index_count(const vouch_index *idx);
VOUCH_API uint32_t vouch_index_bank_count(const vouch_index *idx);
VOUCH_API const char *vouch_index_bank_name(const vouch_index *idx, uint32_t bank);
/*! vouch_index_root() : the Merkle root stored in the file (checked by the
 *  checksum; vouch_index_verify_root() recomputes it from the entries). */
VOUCH_API const uint8_t *vouch_index_root(const vouch_index *idx);
/*! vouch_index_verify_root() : recomputes the Merkle root over the canonical
 *  leaves. @return : VOUCH_OK, VOUCH_E_DB_CORRUPT (differs), VOUCH_E_NOMEM. */
VOUCH_API int vouch_index_verify_root(vouch_index *idx);
/*! vouch_index_mih_m() : chunks (tables) of the MIH index, 0 if none were built. */
VOUCH_API unsigned vouch_index_mih_m(const vouch_index *idx);
/*! vouch_index_memory() : bytes of heap the handle holds (MIH tables etc.),
 *  not counting the mapped file. */
VOUCH_API size_t vouch_index_memory(const vouch_index *idx);
/*! vouch_index_mih_memory_estimate() : bytes of heap the MIH tables of `idx`
 *  take with `m` chunks (0 = the size-based choice of vouch_index_open()),
 *  whether or not they are built.  A MIH search reads only these tables,
 *  plus the hashes and records of the entries that match (from the mapped
 *  file; vouch_index_build_mih() lets the mapping's pages go).  0 for an
 *  empty index (nothing is built), if MIH cannot be built with that m, or
 *  if `idx` is NULL. */
VOUCH_API size_t vouch_index_mih_memory_estimate(const vouch_index *idx, unsigned m);
/*! vouch_index_mih_link_bytes() : the part of
 *  vouch_index_mih_memory_estimate(idx, m) that is entry references (the
 *  links between the tables, 3 bytes per entry and block at 10M entries);
 *  the rest is the tables' payloads (2 bytes per entry and table) and
 *  bucket directories.  0 where the estimate is 0. */
VOUCH_API size_t vouch_index_mih_link_bytes(const vouch_index *idx, unsigned m);
/*! vouch_index_simd() : "avx2" or "scalar": the scan kernel in use. */
VOUCH_API const char *vouch_index_simd(const vouch_index *idx);

/* Metadata of entry number `i` (0 <= i < count), pointing into the mapping. */
typedef struct vouch_index_entry {
  const uint8_t *hash;
  uint32_t bank;
  uint64_t entry_id;
  const char *ext_id; size_t ext_len;   /* not NUL-terminated */
  const char *source; size_t src_len;   /* not NUL-terminated */
} vouch_index_entry;
VOUCH_API int vouch_index_get(const vouch_index *idx, size_t i, vouch_index_entry *e);

/* ---------------------------------------------------------- checking a stream
 *
 * An index file's bytes can be checked as they are received (a replica
 * fetching a snapshot writes it to disk in the same pass): the checksum,
 * magic, version and file length of the header, and the Merkle root the
 * header records.  This is what a fetch can check before the file exists;
 * vouch_index_open() validates the rest (layout, records, order). */
typedef struct vouch_index_stream vouch_index_stream;
/*! vouch_index_stream_new() : @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_NOMEM. */
VOUCH_API int vouch_index_stream_new(vouch_index_stream **out);
/*! vouch_index_stream_update() : the next `n` bytes of the file, in order. */
VOUCH_API void vouch_index_stream_update(vouch_index_stream *s, const uint8_t *p, size_t n);
/*! vouch_index_stream_final() :
 *  Once, after the last bytes: checks them as a whole file and copies the
 *  header's Merkle root to `root` (may be NULL).
 * @return : VOUCH_OK, VOUCH_E_DB_CORRUPT (not an index, truncated, checksum
 *           mismatch), VOUCH_E_DB_VERSION, VOUCH_E_INVALID. */
VOUCH_API int vouch_index_stream_final(vouch_index_stream *s, uint8_t root[VOUCH_MERKLE_HASH_BYTES]);
VOUCH_API void vouch_index_stream_free(vouch_index_stream *s); /* NULL is a no-op */

/* ---------------------------------------------------------- snapshot + delta
 *
 * A follower of a changing bank keeps the last full index file (the
 * snapshot) and a small delta of what changed since: entries added (or
 * changed: their new version) and the entry ids whose snapshot entries must
 * no longer be reported (disabled, or superseded by their new version).  A
 * derived handle searches both and answers exactly as an index rebuilt from
 * the same state would: same matches, distances, variants and order (ties
 * in canonical entry order).  Entry numbers 0..n-1 are the snapshot's,
 * n, n+1, ... the delta's added entries (vouch_index_get() serves both);
 * vouch_index_count() counts both; vouch_index_root() stays the snapshot's
 * root (the delta is not in a Merkle tree: rebuild for an audited root). */

/*! vouch_index_derive() :
 *  A new handle over the snapshot under `snap` (a handle from
 *  vouch_index_open*() or vouch_index_derive(); its own delta is NOT
 *  inherited: the delta given is the whole delta since the snapshot) plus
 *  `nadd` added entries (hash of vouch_index_hash_bytes(snap) bytes; bank
 *  is a number in the snapshot's bank list; strings copied) and `nrem`
 *  removed entry ids (any order; 0 is ignored).  The handles share the
 *  snapshot's mapping and tables, each holding one reference: free each
 *  with vouch_index_free(), in any order, from any thread.  Searching a
 *  derived handle costs the snapshot's search plus a scan of the added
 *  entries; keep the delta small (rebuild the snapshot past some bound).
 * @return : VOUCH_OK, VOUCH_E_INVALID (bank out of range, no hash),
 *           VOUCH_E_LIMIT (string too long, too many entries), VOUCH_E_NOMEM. */
VOUCH_API int vouch_index_derive(vouch_index **out, vouch_index *snap, const vouch_index_input *added, size_t nadd,
                                 const uint64_t *removed, size_t nrem);

/*! vouch_index_delta_size() : added entries and removed ids of a derived
 *  handle's delta (0 and 0 for a plain snapshot).  Either pointer may be NULL. */
VOUCH_API void vouch_index_delta_size(const vouch_index *idx, size_t *nadd, size_t *nrem);

/* ---------------------------------------------------------------- search */

typedef struct vouch_match {
  uint32_t query;    /* query number within the batch */
  uint32_t entry;    /* entry number in the index */
  uint16_t distance; /* smallest distance over the query's variants */
  uint8_t variant;   /* the variant that gave it (lowest on ties) */
  uint8_t pad_;
} vouch_match;

typedef struct vouch_search_opts {
  unsigned radius;   /* inclusive; at most 8 * hash bytes */
  int engine;        /* vouch_engine */
  unsigned threads;  /* 0 or 1 = calling thread only */
} vouch_search_opts;

/*! vouch_index_search() :
 *  Searches `nq` queries; query q is `nvar` (1..8) hashes back to back at
 *  queries + q * nvar * hash_bytes (for PDQ with dihedrals: the 8 variants in
 *  vouch_dihedral order).  Every entry within opts->radius of at least one
 *  variant is reported once per query.  *out (allocated by the library, free
 *  with vouch_matches_free()) receives the matches ordered by query, then
 *  distance, then entry; *nout their count.  Concurrent searches on one
 *  handle are safe.
 * @return : VOUCH_OK, VOUCH_E_INVALID, VOUCH_E_UNSUPPORTED (MIH forced but
 *           no tables), VOUCH_E_NOMEM, VOUCH_E_LIMIT (more than 2^32 matches). */
VOUCH_API int vouch_index_search(vouch_index *idx, const uint8_t *queries, size_t nq,
                                 unsigned nvar, const vouch_search_opts *opts,
                                 vouch_match **out, size_t *nout);
VOUCH_API void vouch_matches_free(vouch_match *m); /* NULL is a no-op */

/*! vouch_index_engine_for() : the engine AUTO would use for `radius` and `nvar`. */
VOUCH_API int vouch_index_engine_for(const vouch_index *idx, unsigned radius, unsigned nvar);

#ifdef __cplusplus
}
#endif
#endif /* VOUCH_INDEX_H */
