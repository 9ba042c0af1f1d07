/* src/index/index_file.c -- writing, mapping and validating .vidx files.
 * The format is specified in docs/index-format.md; keep the two in step. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "index_internal.h"

unsigned vouch_default_radius(int algo) {
  return algo == VOUCH_ALGO_PDQ ? VOUCH_RADIUS_PDQ : vouch_algo_is_digest(algo) ? 0U : VOUCH_RADIUS_64;
}

static size_t align_up(size_t x) { return (x + VIDX_ALIGN - 1) & ~(size_t)(VIDX_ALIGN - 1); }

static void store16_be(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static void store16_le(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

/* ------------------------------------------------------------ canonical leaf */

size_t vouch_index_canonical_leaf(int algo, const uint8_t *hash, const char *bank, size_t bank_len,
                                  const char *ext_id, size_t ext_len, const char *source,
                                  size_t src_len, uint8_t *out, size_t cap) {
  size_t hb = vouch_algo_list_bytes(algo);
  if (hb == 0 || bank_len > VOUCH_INDEX_MAX_STRING || ext_len > VOUCH_INDEX_MAX_STRING ||
      src_len > VOUCH_INDEX_MAX_STRING)
    return 0;
  size_t need = 1 + hb + 6 + bank_len + ext_len + src_len;
  if (need > cap)
    return 0;
  uint8_t *p = out;
  *p++ = (uint8_t)algo;
  memcpy(p, hash, hb);
  p += hb;
  const char *s[3] = {bank, ext_id, source};
  size_t l[3] = {bank_len, ext_len, src_len};
  for (int i = 0; i < 3; i++) {
    store16_be(p, (uint16_t)l[i]);
    p += 2;
    if (l[i])
      memcpy(p, s[i], l[i]);
    p += l[i];
  }
  return need;
}

/* Orders two entries as memcmp orders their canonical leaves: hash, then
 * each string by (length, bytes) because of the u16be length prefix. */
static int cmp_str_lp(const char *a, size_t al, const char *b, size_t bl) {
  if (al != bl)
    return al < bl ? -1 : 1;
  return al ? memcmp(a, b, al) : 0;
}

/* ------------------------------------------------------------ writing */

typedef struct wsort {
  const vouch_index_input *in;
  const char *const *banks;
  size_t *bank_len;
  size_t hb;
} wsort;

typedef struct witem {
  const vouch_index_input *e;
  const wsort *ctx;
  size_t ext_len, src_len;
} witem;

static int cmp_items(const void *pa, const void *pb) {
  const witem *a = pa, *b = pb;
  const wsort *c = a->ctx;
  int r = memcmp(a->e->hash, b->e->hash, c->hb);
  if (r) return r;
  r = cmp_str_lp(c->banks[a->e->bank], c->bank_len[a->e->bank], c->banks[b->e->bank],
                 c->bank_len[b->e->bank]);
  if (r) return r;
  r = cmp_str_lp(a->e->ext_id, a->ext_len, b->e->ext_id, b->ext_len);
  if (r) return r;
  r = cmp_str_lp(a->e->source, a->src_len, b->e->source, b->src_len);
  if (r) return r;
  return a->e->entry_id < b->e->entry_id ? -1 : a->e->entry_id > b->e->entry_id;
}

typedef struct wfile {
  FILE *f;
  crypto_generichash_state st;
  int failed;
} wfile;

static void wput(wfile *w, const void *p, size_t n) {
  if (w->failed || n == 0)
    return;
  if (fwrite(p, 1, n, w->f) != n)
    w->failed = 1;
  crypto_generichash_update(&w->st, p, n);
}
static void wpad(wfile *w, size_t n) {
  static const uint8_t zeros[VIDX_ALIGN];
  wput(w, zeros, n);
}

#define MERKLE_CHUNK 65536U

/* Merkle root over the sorted leaves, in chunks of 2^16 leaf hashes: each
 * full chunk is a perfect subtree, and RFC 9162's split points (largest power
 * of two below n) fall on chunk boundaries, so the root over the chunk roots
 * (the last one possibly partial) is the root over all leaves. */
static int merkle_of(int algo, const witem *items, size_t n, const char *const *banks,
                     const size_t *bank_len, uint8_t root[VOUCH_MERKLE_HASH_BYTES]) {
  size_t nchunks = n / MERKLE_CHUNK + (n % MERKLE_CHUNK != 0);
  uint8_t *lh = vouch__malloc((size_t)MERKLE_CHUNK * VOUCH_MERKLE_HASH_BYTES);
  uint8_t *cr = vouch__malloc((nchunks ? nchunks : 1) * VOUCH_MERKLE_HASH_BYTES);
  uint8_t *leaf = vouch__malloc(1 + 32 + 6 + 3 * (size_t)VOUCH_INDEX_MAX_STRING);
  int rc = VOUCH_OK;
  if (!lh || !cr || !leaf) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  if (n == 0) {
    rc = vouch_merkle_root_from_leaf_hashes(NULL, 0, root);
    goto done;
  }
  for (size_t c = 0; c < nchunks; c++) {
    size_t lo = c * MERKLE_CHUNK, hi = lo + MERKLE_CHUNK < n ? lo + MERKLE_CHUNK : n;
    for (size_t i = lo; i < hi; i++) {
      const vouch_index_input *e = items[i].e;
      size_t len = vouch_index_canonical_leaf(algo, e->hash, banks[e->bank], bank_len[e->bank],
                                              e->ext_id, items[i].ext_len, e->source,
                                              items[i].src_len, leaf,
                                              1 + 32 + 6 + 3 * (size_t)VOUCH_INDEX_MAX_STRING);
      vouch_merkle_leaf_hash(leaf, len, lh + (i - lo) * VOUCH_MERKLE_HASH_BYTES);
    }
    rc = vouch_merkle_root_from_leaf_hashes(lh, hi - lo, cr + c * VOUCH_MERKLE_HASH_BYTES);
    if (rc) goto done;
  }
  rc = vouch_merkle_root_from_leaf_hashes(cr, nchunks, root);
done:
  vouch__free(lh);
  vouch__free(cr);
  vouch__free(leaf);
  return rc;
}

int vouch_index_write(const char *path, int algo, const char *const *bank_names, uint32_t nbanks,
                      const vouch_index_input *in, size_t n, uint8_t root_out[VOUCH_MERKLE_HASH_BYTES],
                      char *err, size_t err_cap) {
  size_t hb = vouch_algo_list_bytes(algo);
  if (!path || hb == 0 || (n && !in) || (nbanks && !bank_names)) {
    return vouch__errf(err, err_cap, VOUCH_E_INVALID, "invalid arguments");
  }
  if (n > VOUCH_INDEX_MAX_ENTRIES || nbanks > VOUCH_INDEX_MAX_BANKS) {
    return vouch__errf(err, err_cap, VOUCH_E_LIMIT, "too many entries or banks");
  }
  int rc = VOUCH_OK;
  witem *items = NULL;
  size_t *bank_len = NULL;
  char *tmp = NULL;
  int fd = -1;
  wfile w = {0};
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];

  bank_len = vouch__calloc(nbanks ? nbanks : 1, sizeof *bank_len);
  items = vouch__malloc((n ? n : 1) * sizeof *items);
  if (!bank_len || !items) {
    rc = vouch__errf(err, err_cap, VOUCH_E_NOMEM, "out of memory");
    goto fail;
  }
  size_t strings_len = 0;
  for (uint32_t b = 0; b < nbanks; b++) {
    bank_len[b] = bank_names[b] ? strlen(bank_names[b]) : 0;
    if (bank_len[b] == 0 || bank_len[b] > VOUCH_INDEX_MAX_STRING) {
      rc = vouch__errf(err, err_cap, VOUCH_E_INVALID, "bank %u: name empty or too long", (unsigned)b);
      goto fail;
    }
    strings_len += bank_len[b];
  }
  wsort ctx = {in, bank_names, bank_len, hb};
  for (size_t i = 0; i < n; i++) {
    items[i].e = &in[i];
    items[i].ctx = &ctx;
    items[i].ext_len = in[i].ext_id ? strlen(in[i].ext_id) : 0;
    items[i].src_len = in[i].source ? strlen(in[i].source) : 0;
    if (!in[i].hash || in[i].bank >= nbanks || items[i].ext_len > VOUCH_INDEX_MAX_STRING ||
        items[i].src_len > VOUCH_INDEX_MAX_STRING) {
      rc = vouch__errf(err, err_cap, VOUCH_E_INVALID, "entry %zu: bad bank, hash or string length", i);
      goto fail;
    }
    strings_len += 4 + items[i].ext_len + items[i].src_len;
  }
  if (strings_len > UINT32_MAX) {
    rc = vouch__errf(err, err_cap, VOUCH_E_LIMIT, "string table over 4 GiB");
    goto fail;
  }
  if (n > 1)
    qsort(items, n, sizeof *items, cmp_items);
  if ((rc = merkle_of(algo, items, n, bank_names, bank_len, root)) != VOUCH_OK) {
    vouch__errf(err, err_cap, rc, "out of memory");
    goto fail;
  }

  /* Layout (all offsets from the start of the file). */
  size_t banks_off = VIDX_HEADER_BYTES;
  size_t hashes_off = align_up(banks_off + (size_t)nbanks * VIDX_BANK_BYTES);
  size_t records_off = align_up(hashes_off + n * hb);
  size_t strings_off = records_off + n * VIDX_RECORD_BYTES;
  size_t file_len = strings_off + strings_len + VIDX_CHECKSUM_BYTES;

  size_t plen = strlen(path);
  tmp = vouch__malloc(plen + 16);
  if (!tmp) {
    rc = VOUCH_E_NOMEM;
    goto fail;
  }
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp.XXXXXX", 12);
  fd = mkstemp(tmp);
  if (fd < 0) {
    rc = vouch__errf(err, err_cap, VOUCH_E_IO, "%s: %s", tmp, strerror(errno));
    vouch__free(tmp);
    tmp = NULL;
    goto fail;
  }
  w.f = fdopen(fd, "wb");
  if (!w.f) {
    rc = vouch__errf(err, err_cap, VOUCH_E_IO, "%s: %s", tmp, strerror(errno));
    goto fail;
  }
  fd = -1;
  crypto_generichash_init(&w.st, NULL, 0, VIDX_CHECKSUM_BYTES);

  uint8_t hdr[VIDX_HEADER_BYTES];
  memset(hdr, 0, sizeof hdr);
  memcpy(hdr, VOUCH_INDEX_MAGIC, 8);
  vouch__store32_le(hdr + 8, VOUCH_INDEX_FORMAT_VERSION);
  vouch__store32_le(hdr + 12, (uint32_t)algo);
  vouch__store32_le(hdr + 16, (uint32_t)hb);
  vouch__store32_le(hdr + 20, nbanks);
  vouch__store64_le(hdr + 24, n);
  vouch__store64_le(hdr + 32, banks_off);
  vouch__store64_le(hdr + 40, hashes_off);
  vouch__store64_le(hdr + 48, records_off);
  vouch__store64_le(hdr + 56, strings_off);
  vouch__store64_le(hdr + 64, strings_len);
  vouch__store64_le(hdr + 72, file_len);
  memcpy(hdr + 80, root, VOUCH_MERKLE_HASH_BYTES);
  vouch__store32_le(hdr + 112, VIDX_HEADER_BYTES);
  wput(&w, hdr, sizeof hdr);

  /* bank table: names come first in the string pool */
  uint32_t soff = 0;
  for (uint32_t b = 0; b < nbanks; b++) {
    uint8_t rec[VIDX_BANK_BYTES];
    vouch__store32_le(rec, soff);
    vouch__store32_le(rec + 4, (uint32_t)bank_len[b]);
    soff += (uint32_t)bank_len[b];
    wput(&w, rec, sizeof rec);
  }
  wpad(&w, hashes_off - (banks_off + (size_t)nbanks * VIDX_BANK_BYTES));
  for (size_t i = 0; i < n; i++)
    wput(&w, items[i].e->hash, hb);
  wpad(&w, records_off - (hashes_off + n * hb));
  for (size_t i = 0; i < n; i++) {
    uint8_t rec[VIDX_RECORD_BYTES];
    vouch__store64_le(rec, items[i].e->entry_id);
    vouch__store32_le(rec + 8, items[i].e->bank);
    vouch__store32_le(rec + 12, soff);
    soff += (uint32_t)(4 + items[i].ext_len + items[i].src_len);
    wput(&w, rec, sizeof rec);
  }
  for (uint32_t b = 0; b < nbanks; b++)
    wput(&w, bank_names[b], bank_len[b]);
  for (size_t i = 0; i < n; i++) {
    uint8_t l2[2];
    store16_le(l2, (uint16_t)items[i].ext_len);
    wput(&w, l2, 2);
    wput(&w, items[i].e->ext_id, items[i].ext_len);
    store16_le(l2, (uint16_t)items[i].src_len);
    wput(&w, l2, 2);
    wput(&w, items[i].e->source, items[i].src_len);
  }
  uint8_t sum[VIDX_CHECKSUM_BYTES];
  crypto_generichash_final(&w.st, sum, sizeof sum);
  if (!w.failed && fwrite(sum, 1, sizeof sum, w.f) != sizeof sum)
    w.failed = 1;
  if (w.failed || fflush(w.f) != 0 || fsync(fileno(w.f)) != 0) {
    rc = vouch__errf(err, err_cap, VOUCH_E_IO, "%s: write failed: %s", tmp, strerror(errno));
    goto fail;
  }
  if (fclose(w.f) != 0) {
    w.f = NULL;
    rc = vouch__errf(err, err_cap, VOUCH_E_IO, "%s: close failed: %s", tmp, strerror(errno));
    goto fail;
  }
  w.f = NULL;
  if (rename(tmp, path) != 0) {
    rc = vouch__errf(err, err_cap, VOUCH_E_IO, "rename to %s: %s", path, strerror(errno));
    goto fail;
  }
  /* make the rename durable */
  {
    char *dir = vouch__malloc(plen + 2);
    if (dir) {
      memcpy(dir, path, plen + 1);
      char *slash = strrchr(dir, '/');
      if (slash == dir)
        dir[1] = 0;
      else if (slash)
        *slash = 0;
      else
        memcpy(dir, ".", 2);
      int dfd = open(dir, O_RDONLY | O_DIRECTORY);
      if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
      }
      vouch__free(dir);
    }
  }
  if (root_out)
    memcpy(root_out, root, sizeof root);
  vouch__free(tmp);
  vouch__free(items);
  vouch__free(bank_len);
  return VOUCH_OK;

fail:
  if (w.f)
    fclose(w.f);
  if (fd >= 0)
    close(fd);
  if (tmp) {
    unlink(tmp);
    vouch__free(tmp);
  }
  vouch__free(items);
  vouch__free(bank_len);
  return rc;
}

/* ------------------------------------------------------------ opening */

vouch_index_config vouch_index_config_default(void) {
  vouch_index_config c = {1, 0, 0, 1};
  return c;
}

#define fail(idx, rc, ...) vouch__errf((idx)->errmsg, sizeof (idx)->errmsg, (rc), __VA_ARGS__)

/* Reads the string of record i: u16le ext_len, ext, u16le src_len, src.
 * Returns 0 if it lies outside the string pool. */
static int record_strings(const vouch_index *idx, size_t i, const char **ext, size_t *ext_len,
                          const char **src, size_t *src_len) {
  const uint8_t *r = idx->records + i * VIDX_RECORD_BYTES;
  size_t off = vouch__load32_le(r + 12), sl = idx->strings_len;
  if (off > sl || sl - off < 2) return 0;
  size_t el = vouch__load16_le(idx->strings + off);
  off += 2;
  if (sl - off < el) return 0;
  *ext = (const char *)idx->strings + off;
  *ext_len = el;
  off += el;
  if (sl - off < 2) return 0;
  size_t srl = vouch__load16_le(idx->strings + off);
  off += 2;
  if (sl - off < srl) return 0;
  *src = (const char *)idx->strings + off;
  *src_len = srl;
  return 1;
}

int vouch__entry_cmp(const vouch_index *idx, const vouch_index_entry *a, const vouch_index_entry *b) {
  int r = memcmp(a->hash, b->hash, idx->hash_bytes);
  if (r) return r;
  const char *na = idx->bank_names[a->bank], *nb = idx->bank_names[b->bank];
  r = cmp_str_lp(na, strlen(na), nb, strlen(nb));
  if (r) return r;
  r = cmp_str_lp(a->ext_id, a->ext_len, b->ext_id, b->ext_len);
  if (r) return r;
  r = cmp_str_lp(a->source, a->src_len, b->source, b->src_len);
  if (r) return r;
  return a->entry_id < b->entry_id ? -1 : a->entry_id > b->entry_id;
}

static int cmp_entries(const vouch_index *idx, size_t a, size_t b) {
  int r = memcmp(idx->hashes + a * idx->hash_bytes, idx->hashes + b * idx->hash_bytes,
                 idx->hash_bytes);
  if (r) return r;
  uint32_t ba = vouch__load32_le(idx->records + a * VIDX_RECORD_BYTES + 8);
  uint32_t bb = vouch__load32_le(idx->records + b * VIDX_RECORD_BYTES + 8);
  r = cmp_str_lp(idx->bank_names[ba], strlen(idx->bank_names[ba]), idx->bank_names[bb],
                 strlen(idx->bank_names[bb]));
  if (r) return r;
  const char *ea, *eb, *sa, *sb;
  size_t eal, ebl, sal, sbl;
  record_strings(idx, a, &ea, &eal, &sa, &sal);
  record_strings(idx, b, &eb, &ebl, &sb, &sbl);
  r = cmp_str_lp(ea, eal, eb, ebl);
  if (r) return r;
  r = cmp_str_lp(sa, sal, sb, sbl);
  if (r) return r;
  uint64_t ia = vouch__load64_le(idx->records + a * VIDX_RECORD_BYTES);
  uint64_t ib = vouch__load64_le(idx->records + b * VIDX_RECORD_BYTES);
  return ia < ib ? -1 : ia > ib;
}

static int validate(vouch_index *idx) {
  const uint8_t *p = idx->base;
  size_t len = idx->len;
  if (len < VIDX_HEADER_BYTES + VIDX_CHECKSUM_BYTES)
    return fail(idx, VOUCH_E_DB_CORRUPT, "file too short (%zu bytes) for an index", len);
  if (memcmp(p, VOUCH_INDEX_MAGIC, 8) != 0)
    return fail(idx, VOUCH_E_DB_CORRUPT, "not a vouch index (bad magic)");
  uint32_t version = vouch__load32_le(p + 8);
  if (version != VOUCH_INDEX_FORMAT_VERSION)
    return fail(idx, VOUCH_E_DB_VERSION, "index format version %u, this build reads %u",
                (unsigned)version, VOUCH_INDEX_FORMAT_VERSION);
  /* The checksum first: everything after it may trust nothing but bounds. */
  uint8_t sum[VIDX_CHECKSUM_BYTES];
  crypto_generichash(sum, sizeof sum, p, len - VIDX_CHECKSUM_BYTES, NULL, 0);
  if (sodium_memcmp(sum, p + len - VIDX_CHECKSUM_BYTES, sizeof sum) != 0)
    return fail(idx, VOUCH_E_DB_CORRUPT, "checksum mismatch (file damaged or truncated)");

  uint32_t algo = vouch__load32_le(p + 12), hb = vouch__load32_le(p + 16);
  uint32_t nbanks = vouch__load32_le(p + 20);
  uint64_t count = vouch__load64_le(p + 24);
  uint64_t banks_off = vouch__load64_le(p + 32), hashes_off = vouch__load64_le(p + 40);
  uint64_t records_off = vouch__load64_le(p + 48), strings_off = vouch__load64_le(p + 56);
  uint64_t strings_len = vouch__load64_le(p + 64), file_len = vouch__load64_le(p + 72);
  if (vouch_algo_list_bytes((int)algo) == 0 || algo > 255)
    return fail(idx, VOUCH_E_DB_CORRUPT, "unknown algorithm %u", (unsigned)algo);
  if (hb != vouch_algo_list_bytes((int)algo))
    return fail(idx, VOUCH_E_DB_CORRUPT, "hash size %u does not fit algorithm %s", (unsigned)hb,
                vouch_algo_name((int)algo));
  if (vouch__load32_le(p + 112) != VIDX_HEADER_BYTES)
    return fail(idx, VOUCH_E_DB_CORRUPT, "bad header length");
  for (size_t i = 116; i < VIDX_HEADER_BYTES; i++)
    if (p[i] != 0)
      return fail(idx, VOUCH_E_DB_CORRUPT, "reserved header bytes are not zero");
  if (file_len != len)
    return fail(idx, VOUCH_E_DB_CORRUPT, "file is %zu bytes, header says %llu", len,
                (unsigned long long)file_len);
  if (nbanks > VOUCH_INDEX_MAX_BANKS || count > VOUCH_INDEX_MAX_ENTRIES)
    return fail(idx, VOUCH_E_DB_CORRUPT, "bank or entry count over the limits");
  if (count > 0 && nbanks == 0)
    return fail(idx, VOUCH_E_DB_CORRUPT, "entries but no banks");
  /* The layout is fully determined by the counts: recompute and compare.
   * count <= 2^32 and hb <= 32, so none of this overflows 64 bits. */
  uint64_t e_banks = VIDX_HEADER_BYTES;
  uint64_t e_hashes = align_up(e_banks + (uint64_t)nbanks * VIDX_BANK_BYTES);
  uint64_t e_records = align_up(e_hashes + count * hb);
  uint64_t e_strings = e_records + count * VIDX_RECORD_BYTES;
  if (banks_off != e_banks || hashes_off != e_hashes || records_off != e_records ||
      strings_off != e_strings || strings_len > len ||
      e_strings + strings_len + VIDX_CHECKSUM_BYTES != len)
    return fail(idx, VOUCH_E_DB_CORRUPT, "section offsets or sizes are inconsistent");
  for (uint64_t i = e_banks + (uint64_t)nbanks * VIDX_BANK_BYTES; i < e_hashes; i++)
    if (p[i] != 0)
      return fail(idx, VOUCH_E_DB_CORRUPT, "padding bytes are not zero");
  for (uint64_t i = e_hashes + count * hb; i < e_records; i++)
    if (p[i] != 0)
      return fail(idx, VOUCH_E_DB_CORRUPT, "padding bytes are not zero");

  idx->algo = (int)algo;
  idx->hash_bytes = hb;
  idx->words = hb / 8;
  idx->nbanks = nbanks;
  idx->count = (size_t)count;
  idx->banks = p + banks_off;
  idx->hashes = p + hashes_off;
  idx->records = p + records_off;
  idx->strings = p + strings_off;
  idx->strings_len = (size_t)strings_len;
  memcpy(idx->root, p + 80, VOUCH_MERKLE_HASH_BYTES);

  idx->bank_names = vouch__calloc(nbanks ? nbanks : 1, sizeof *idx->bank_names);
  if (!idx->bank_names)
    return fail(idx, VOUCH_E_NOMEM, "out of memory");
  for (uint32_t b = 0; b < nbanks; b++) {
    uint32_t off = vouch__load32_le(idx->banks + (size_t)b * VIDX_BANK_BYTES);
    uint32_t nl = vouch__load32_le(idx->banks + (size_t)b * VIDX_BANK_BYTES + 4);
    if (nl == 0 || nl > VOUCH_INDEX_MAX_STRING || off > strings_len || strings_len - off < nl)
      return fail(idx, VOUCH_E_DB_CORRUPT, "bank %u: name out of bounds", (unsigned)b);
    if (memchr(idx->strings + off, 0, nl))
      return fail(idx, VOUCH_E_DB_CORRUPT, "bank %u: name contains NUL", (unsigned)b);
    idx->bank_names[b] = vouch__malloc(nl + 1);
    if (!idx->bank_names[b])
      return fail(idx, VOUCH_E_NOMEM, "out of memory");
    memcpy(idx->bank_names[b], idx->strings + off, nl);
    idx->bank_names[b][nl] = 0;
  }
  for (size_t i = 0; i < idx->count; i++) {
    const char *e, *s;
    size_t el, sl;
    if (vouch__load32_le(idx->records + i * VIDX_RECORD_BYTES + 8) >= nbanks)
      return fail(idx, VOUCH_E_DB_CORRUPT, "entry %zu: bank number out of range", i);
    if (!record_strings(idx, i, &e, &el, &s, &sl))
      return fail(idx, VOUCH_E_DB_CORRUPT, "entry %zu: strings out of bounds", i);
    if (i > 0 && cmp_entries(idx, i - 1, i) > 0)
      return fail(idx, VOUCH_E_DB_CORRUPT, "entries %zu and %zu are out of canonical order", i - 1,
                  i);
  }
  return VOUCH_OK;
}

/* Lets the mapped file's resident pages go (a file opened with
 * vouch_index_open()): what a search reads later comes back from the page
 * cache. */
static void release_mapping(const vouch_index *idx) {
  if (idx->mapped)
    (void)madvise((void *)(uintptr_t)idx->base, idx->len, MADV_DONTNEED);
}

/* The m a build uses: as asked, or chosen from the size (0). */
static unsigned mih_m_for(const vouch_index *idx, unsigned m) {
  return m ? m : vouch__mih_auto_m(idx->count, idx->hash_bytes * 8);
}

int vouch_index_build_mih(vouch_index *idx, unsigned m, unsigned threads) {
  if (!idx || idx->hash_bytes == 0 || idx->shared || __atomic_load_n(&idx->refs, __ATOMIC_ACQUIRE) != 1)
    return VOUCH_E_INVALID; /* not while derived handles share the tables */
  if (idx->count == 0 || vouch_algo_is_digest(idx->algo))
    return VOUCH_OK; /* nothing to build (a digest index is searched by its order) */
  m = mih_m_for(idx, m);
  release_mapping(idx); /* validation read the whole file; the build reads only the hashes */
  int rc = vouch__mih_build(idx, m, threads);
  if (rc == VOUCH_E_INVALID)
    return fail(idx, rc, "MIH: %u chunks is not possible for %u-bit hashes (need %u..%u)", m,
                idx->hash_bytes * 8, (idx->hash_bytes * 8 + VIDX_MIH_MAX_BITS - 1) / VIDX_MIH_MAX_BITS,
                idx->hash_bytes * 8 < VIDX_MIH_MAX_M ? idx->hash_bytes * 8 : VIDX_MIH_MAX_M);
  if (rc == VOUCH_E_LIMIT)
    return fail(idx, rc, "MIH: more than %u entries; scan instead", VIDX_MIH_MAX_COUNT);
  if (rc != VOUCH_OK)
    return fail(idx, rc, "out of memory building the MIH tables");
  /* MIH reads only its tables, plus the hashes and records of matches */
  release_mapping(idx);
  return VOUCH_OK;
}

static int open_common(vouch_index *idx, const vouch_index_config *cfg) {
  vouch_index_config c = cfg ? *cfg : vouch_index_config_default();
  VOUCH_TRY(validate(idx));
#ifdef VIDX_X86
  __builtin_cpu_init();
  idx->use_popcnt = __builtin_cpu_supports("popcnt");
  idx->use_avx2 = !c.force_scalar && __builtin_cpu_supports("avx2") && idx->use_popcnt;
#else
  idx->use_avx2 = 0;
#endif
  if (c.build_mih)
    return vouch_index_build_mih(idx, c.mih_m, c.build_threads);
  return VOUCH_OK;
}

static vouch_index *new_handle(void) {
  vouch_index *idx = vouch__calloc(1, sizeof *idx);
  if (idx) idx->refs = 1;
  return idx;
}

int vouch_index_open(vouch_index **out, const char *path, const vouch_index_config *cfg) {
  if (!out)
    return VOUCH_E_INVALID;
  *out = NULL;
  vouch_index *idx = new_handle();
  if (!idx)
    return VOUCH_E_NOMEM;
  *out = idx;
  if (!path)
    return fail(idx, VOUCH_E_INVALID, "no path");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(idx, VOUCH_E_IO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(idx, VOUCH_E_IO, "%s: not a regular file", path);
  }
  if (st.st_size < (off_t)(VIDX_HEADER_BYTES + VIDX_CHECKSUM_BYTES)) {
    close(fd);
    return fail(idx, VOUCH_E_DB_CORRUPT, "%s: file too short (%lld bytes) for an index", path,
                (long long)st.st_size);
  }
  void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED)
    return fail(idx, VOUCH_E_IO, "%s: mmap: %s", path, strerror(errno));
  idx->base = m;
  idx->len = (size_t)st.st_size;
  idx->mapped = 1;
  return open_common(idx, cfg);
}

int vouch_index_open_buffer(vouch_index **out, const uint8_t *data, size_t len,
                            const vouch_index_config *cfg) {
  if (!out)
    return VOUCH_E_INVALID;
  *out = NULL;
  vouch_index *idx = new_handle();
  if (!idx)
    return VOUCH_E_NOMEM;
  *out = idx;
  if (!data && len)
    return fail(idx, VOUCH_E_INVALID, "no data");
  idx->base = data;
  idx->len = len;
  return open_common(idx, cfg);
}

void vouch_index_free(vouch_index *idx) {
  if (!idx)
    return;
  if (idx->shared) { /* a derived handle: its delta, and one reference to the snapshot */
    vouch__delta_free(idx->delta);
    vouch_index *snap = idx->shared;
    vouch__free(idx);
    idx = snap;
  }
  if (__atomic_sub_fetch(&idx->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  vouch__mih_free(idx);
  if (idx->bank_names) {
    for (uint32_t b = 0; b < idx->nbanks; b++)
      vouch__free(idx->bank_names[b]);
    vouch__free(idx->bank_names);
  }
  if (idx->mapped && idx->base)
    munmap((void *)(uintptr_t)idx->base, idx->len);
  vouch__free(idx);
}

const char *vouch_index_errmsg(const vouch_index *idx) { return idx ? idx->errmsg : "no index"; }
int vouch_index_algo(const vouch_index *idx) { return idx->algo; }
size_t vouch_index_hash_bytes(const vouch_index *idx) { return idx->hash_bytes; }
size_t vouch_index_count(const vouch_index *idx) { return idx->count + vouch__delta_count(idx); }
uint32_t vouch_index_bank_count(const vouch_index *idx) { return idx->nbanks; }
const char *vouch_index_bank_name(const vouch_index *idx, uint32_t bank) {
  return bank < idx->nbanks ? idx->bank_names[bank] : NULL;
}
const uint8_t *vouch_index_root(const vouch_index *idx) { return idx->root; }
unsigned vouch_index_mih_m(const vouch_index *idx) { return idx->mih_m; }
size_t vouch_index_memory(const vouch_index *idx) {
  return idx->heap_bytes + sizeof *idx + vouch__delta_memory(idx);
}
size_t vouch_index_mih_memory_estimate(const vouch_index *idx, unsigned m) {
  if (!idx || idx->hash_bytes == 0 || idx->count == 0 || vouch_algo_is_digest(idx->algo))
    return 0; /* as vouch_index_build_mih(): nothing is built */
  return vouch__mih_estimate(idx, mih_m_for(idx, m), NULL);
}
size_t vouch_index_mih_link_bytes(const vouch_index *idx, unsigned m) {
  size_t links = 0; /* stays 0 where the estimate is 0 */
  if (idx && idx->hash_bytes != 0 && idx->count != 0 && !vouch_algo_is_digest(idx->algo))
    (void)vouch__mih_estimate(idx, mih_m_for(idx, m), &links);
  return links;
}
const char *vouch_index_simd(const vouch_index *idx) { return idx->use_avx2 ? "avx2" : "scalar"; }

int vouch_index_get(const vouch_index *idx, size_t i, vouch_index_entry *e) {
  if (idx && e && i >= idx->count)
    return vouch__delta_get(idx, i - idx->count, e);
  if (!idx || !e)
    return VOUCH_E_INVALID;
  const uint8_t *r = idx->records + i * VIDX_RECORD_BYTES;
  e->hash = idx->hashes + i * idx->hash_bytes;
  e->entry_id = vouch__load64_le(r);
  e->bank = vouch__load32_le(r + 8);
  if (!record_strings(idx, i, &e->ext_id, &e->ext_len, &e->source, &e->src_len))
    return VOUCH_E_DB_CORRUPT; /* cannot happen after validation */
  return VOUCH_OK;
}

int vouch_index_verify_root(vouch_index *idx) {
  size_t n = idx->count;
  size_t nchunks = n / MERKLE_CHUNK + (n % MERKLE_CHUNK != 0);
  uint8_t *lh = vouch__malloc((size_t)MERKLE_CHUNK * VOUCH_MERKLE_HASH_BYTES);
  uint8_t *cr = vouch__malloc((nchunks ? nchunks : 1) * VOUCH_MERKLE_HASH_BYTES);
  uint8_t *leaf = vouch__malloc(1 + 32 + 6 + 3 * (size_t)VOUCH_INDEX_MAX_STRING);
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  int rc = VOUCH_OK;
  if (!lh || !cr || !leaf) {
    rc = fail(idx, VOUCH_E_NOMEM, "out of memory");
    goto done;
  }
  for (size_t c = 0; c < nchunks; c++) {
    size_t lo = c * MERKLE_CHUNK, hi = lo + MERKLE_CHUNK < n ? lo + MERKLE_CHUNK : n;
    for (size_t i = lo; i < hi; i++) {
      vouch_index_entry e;
      vouch_index_get(idx, i, &e);
      const char *bn = idx->bank_names[e.bank];
      size_t len = vouch_index_canonical_leaf(idx->algo, e.hash, bn, strlen(bn), e.ext_id, e.ext_len,
                                              e.source, e.src_len, leaf,
                                              1 + 32 + 6 + 3 * (size_t)VOUCH_INDEX_MAX_STRING);
      vouch_merkle_leaf_hash(leaf, len, lh + (i - lo) * VOUCH_MERKLE_HASH_BYTES);
    }
    if ((rc = vouch_merkle_root_from_leaf_hashes(lh, hi - lo, cr + c * VOUCH_MERKLE_HASH_BYTES)))
      goto done;
  }
  if ((rc = vouch_merkle_root_from_leaf_hashes(cr, nchunks, root)))
    goto done;
  if (memcmp(root, idx->root, sizeof root) != 0)
    rc = fail(idx, VOUCH_E_DB_CORRUPT, "Merkle root does not match the entries");
done:
  vouch__free(lh);
  vouch__free(cr);
  vouch__free(leaf);
  return rc;
}
