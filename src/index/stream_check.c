/* src/index/stream_check.c -- checks an index file's bytes as they arrive
 * (vouch_index_stream_*): the BLAKE2b checksum over all but the last 32
 * bytes, the magic, the version and the Merkle root in the header
 * (docs/index-format.md, sections 2 and 5).  A fetch that writes a snapshot
 * to disk (vouch_bank_snapshot_fetch()) checks it this way in the same pass
 * instead of reading the whole file again afterwards; opening the file still
 * validates everything else. */
#include <string.h>
#include <sodium.h>
#include "index_internal.h"

struct vouch_index_stream {
  crypto_generichash_state st;
  uint8_t head[VIDX_HEADER_BYTES];
  uint8_t tail[VIDX_CHECKSUM_BYTES]; /* the last bytes seen, not yet hashed */
  size_t tl;
  uint64_t total;
};

int vouch_index_stream_new(vouch_index_stream **out) {
  if (!out) return VOUCH_E_INVALID;
  vouch_index_stream *s = vouch__calloc(1, sizeof *s);
  *out = s;
  if (!s) return VOUCH_E_NOMEM;
  crypto_generichash_init(&s->st, NULL, 0, VIDX_CHECKSUM_BYTES);
  return VOUCH_OK;
}

void vouch_index_stream_update(vouch_index_stream *s, const uint8_t *p, size_t n) {
  if (!s || !n) return;
  if (s->total < VIDX_HEADER_BYTES) {
    size_t k = VIDX_HEADER_BYTES - (size_t)s->total;
    memcpy(s->head + s->total, p, k < n ? k : n);
  }
  s->total += n;
  /* hash everything but the last VIDX_CHECKSUM_BYTES of the stream */
  if (s->tl + n <= VIDX_CHECKSUM_BYTES) {
    memcpy(s->tail + s->tl, p, n);
    s->tl += n;
    return;
  }
  const size_t emit = s->tl + n - VIDX_CHECKSUM_BYTES; /* bytes of tail ++ p that are surely not the checksum */
  const size_t from_tail = emit < s->tl ? emit : s->tl;
  crypto_generichash_update(&s->st, s->tail, from_tail);
  crypto_generichash_update(&s->st, p, emit - from_tail);
  /* the new tail: what is left of the old one, then the rest of p */
  memmove(s->tail, s->tail + from_tail, s->tl - from_tail);
  memcpy(s->tail + (s->tl - from_tail), p + (emit - from_tail), n - (emit - from_tail));
  s->tl = VIDX_CHECKSUM_BYTES;
}

int vouch_index_stream_final(vouch_index_stream *s, uint8_t root[VOUCH_MERKLE_HASH_BYTES]) {
  if (!s) return VOUCH_E_INVALID;
  if (s->total < VIDX_HEADER_BYTES + VIDX_CHECKSUM_BYTES || memcmp(s->head, VOUCH_INDEX_MAGIC, 8) != 0)
    return VOUCH_E_DB_CORRUPT;
  if (vouch__load32_le(s->head + 8) != VOUCH_INDEX_FORMAT_VERSION)
    return VOUCH_E_DB_VERSION;
  if (vouch__load64_le(s->head + 72) != s->total)
    return VOUCH_E_DB_CORRUPT; /* file_len */
  uint8_t sum[VIDX_CHECKSUM_BYTES];
  crypto_generichash_final(&s->st, sum, sizeof sum);
  if (sodium_memcmp(sum, s->tail, sizeof sum) != 0)
    return VOUCH_E_DB_CORRUPT;
  if (root) memcpy(root, s->head + 80, VOUCH_MERKLE_HASH_BYTES);
  return VOUCH_OK;
}

void vouch_index_stream_free(vouch_index_stream *s) { vouch__free(s); }
