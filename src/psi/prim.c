/* src/psi/prim.c -- protocol building blocks over libsodium: the generator,
 * expand_message_xmd and hash-to-group, the BLAKE2b KDF, the committing
 * AEAD, GF(2^61-1) inversion, cuckoo slots (docs/protocol.md sections 3, 5). */
#include <stdlib.h>
#include <string.h>
#include "psi_internal.h"

/* ////////////////////////////////////////////////////////////// generator */

void vouch__rng_seed(vouch__rng *r, const uint8_t seed[32]) {
  memcpy(r->key, seed, sizeof r->key);
  r->block = 0;
  r->pos = sizeof r->buf;
}

void vouch__rng_bytes(vouch__rng *r, void *out, size_t n) {
  uint8_t *o = out;
  if (!r) {
    randombytes_buf(out, n);
    return;
  }
  while (n > 0) {
    if (r->pos == sizeof r->buf) {
      uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
      vouch__store64_le(nonce, r->block++);
      crypto_stream_chacha20(r->buf, sizeof r->buf, nonce, r->key);
      r->pos = 0;
    }
    size_t k = sizeof r->buf - r->pos;
    if (k > n)
      k = n;
    memcpy(o, r->buf + r->pos, k);
    sodium_memzero(r->buf + r->pos, k);
    r->pos += k;
    o += k;
    n -= k;
  }
}

void vouch__rng_scalar(vouch__rng *r, uint8_t s[32]) {
  uint8_t wide[64];
  vouch__rng_bytes(r, wide, sizeof wide);
  crypto_core_ristretto255_scalar_reduce(s, wide); /* bias ~2^-259 */
  sodium_memzero(wide, sizeof wide);
  /* Zero has probability 2^-252; map it to 1 without a branch. */
  s[0] |= (uint8_t)sodium_is_zero(s, 32);
}

void vouch__rng_wipe(vouch__rng *r) { sodium_memzero(r, sizeof *r); }

/* ////////////////////////////////////////////////////////// hash to group */

/* RFC 9380 section 5.3.1 with H = SHA-512 (b_in_bytes 64, s_in_bytes 128). */
int vouch__expand_message_xmd_sha512(uint8_t *out, size_t out_len, const uint8_t *msg,
                                     size_t msg_len, const uint8_t *dst, size_t dst_len) {
  static const uint8_t zpad[128];
  size_t ell = (out_len + 63) / 64;
  if (ell == 0 || ell > 255 || out_len > 65535 || dst_len > 255)
    return -1;
  uint8_t lib[2] = {(uint8_t)(out_len >> 8), (uint8_t)out_len};
  uint8_t dlen = (uint8_t)dst_len, zero = 0;
  uint8_t b0[64], bi[64], tmp[64];
  crypto_hash_sha512_state st;

  crypto_hash_sha512_init(&st); /* b_0 = H(Z_pad || msg || l_i_b_str || 0 || DST_prime) */
  crypto_hash_sha512_update(&st, zpad, sizeof zpad);
  crypto_hash_sha512_update(&st, msg, msg_len);
  crypto_hash_sha512_update(&st, lib, 2);
  crypto_hash_sha512_update(&st, &zero, 1);
  crypto_hash_sha512_update(&st, dst, dst_len);
  crypto_hash_sha512_update(&st, &dlen, 1);
  crypto_hash_sha512_final(&st, b0);

  memcpy(tmp, b0, 64); /* b_1 = H(b_0 || 1 || DST_prime); b_i = H((b_0 ^ b_(i-1)) || i || DST_prime) */
  for (size_t i = 1; i <= ell; i++) {
    uint8_t idx = (uint8_t)i;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, tmp, 64);
    crypto_hash_sha512_update(&st, &idx, 1);
    crypto_hash_sha512_update(&st, dst, dst_len);
    crypto_hash_sha512_update(&st, &dlen, 1);
    crypto_hash_sha512_final(&st, bi);
    size_t off = (i - 1) * 64, k = out_len - off < 64 ? out_len - off : 64;
    memcpy(out + off, bi, k);
    for (size_t j = 0; j < 64; j++)
      tmp[j] = (uint8_t)(b0[j] ^ bi[j]);
  }
  sodium_memzero(b0, sizeof b0);
  sodium_memzero(bi, sizeof bi);
  sodium_memzero(tmp, sizeof tmp);
  sodium_memzero(&st, sizeof st);
  return 0;
}

void vouch__hash_to_group(uint8_t p[32], const uint8_t *msg, size_t msg_len) {
  uint8_t u[64];
  static const char dst[] = VOUCH__H2G_DST;
  (void)vouch__expand_message_xmd_sha512(u, sizeof u, msg, msg_len, (const uint8_t *)dst,
                                         sizeof dst - 1); /* fixed lengths: cannot fail */
  crypto_core_ristretto255_from_hash(p, u);
  sodium_memzero(u, sizeof u);
}

/* ////////////////////////////////////////////////////////////////// KDF */

static const uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] = "vouch-psi-v1";

void vouch__kdf(uint8_t *out, size_t out_len, const char *label, const uint8_t *key,
                size_t key_len, const vouch__kdf_part *parts, size_t n_parts) {
  uint8_t salt[crypto_generichash_blake2b_SALTBYTES] = {0};
  uint8_t full[crypto_generichash_blake2b_BYTES_MAX];
  size_t ll = strlen(label), olen = out_len < 16 ? 16 : out_len;
  crypto_generichash_blake2b_state st;
  memcpy(salt, label, ll < sizeof salt ? ll : sizeof salt);
  crypto_generichash_blake2b_init_salt_personal(&st, key, key_len, olen, salt, personal);
  for (size_t i = 0; i < n_parts; i++)
    crypto_generichash_blake2b_update(&st, parts[i].p, parts[i].n);
  crypto_generichash_blake2b_final(&st, full, olen);
  memcpy(out, full, out_len);
  sodium_memzero(full, sizeof full);
  sodium_memzero(&st, sizeof st);
}

/* ////////////////////////////////////////////////////// committing AEAD */

static void commit(uint8_t c[32], const uint8_t key[32], const uint8_t nonce[24]) {
  vouch__kdf_part part = {nonce, 24};
  vouch__kdf(c, 32, "commit", key, 32, &part, 1);
}

void vouch__seal(uint8_t *out, const uint8_t key[32], const uint8_t nonce[24], const uint8_t *ad,
                 size_t ad_len, const uint8_t *m, size_t m_len) {
  unsigned long long clen;
  commit(out, key, nonce);
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + 32, &clen, m, m_len, ad, ad_len, NULL, nonce,
                                             key);
}

int vouch__open(uint8_t *m, const uint8_t key[32], const uint8_t nonce[24], const uint8_t *ad,
                size_t ad_len, const uint8_t *c, size_t c_len) {
  uint8_t cc[32];
  unsigned long long mlen;
  if (c_len < VOUCH__SEAL_OVERHEAD)
    return -1;
  commit(cc, key, nonce);
  int bad = crypto_verify_32(cc, c); /* constant time */
  sodium_memzero(cc, sizeof cc);
  VOUCH__CT_PUBLIC(&bad, sizeof bad); /* whether it opens is the protocol's output */
  if (bad != 0) {
    sodium_memzero(m, c_len - VOUCH__SEAL_OVERHEAD);
    return -1;
  }
  int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, NULL, c + 32, c_len - 32, ad,
                                                      ad_len, nonce, key);
  VOUCH__CT_PUBLIC(&rc, sizeof rc);
  if (rc != 0) {
    sodium_memzero(m, c_len - VOUCH__SEAL_OVERHEAD);
    return -1;
  }
  return 0;
}

/* /////////////////////////////////////////////////////////// GF(2^61-1) */

uint64_t vouch__gf_inv(uint64_t a) { /* a^(p-2), square and multiply */
  uint64_t e = VOUCH__P61 - 2, r = 1, b = a;
  while (e) {
    if (e & 1)
      r = vouch__gf_mul(r, b);
    b = vouch__gf_mul(b, b);
    e >>= 1;
  }
  return r;
}

/* /////////////////////////////////////////////////////////////// cuckoo */

void vouch__cuckoo_slots(const uint8_t seed[32], uint32_t m, const uint8_t key[32],
                         uint32_t slot[2]) {
  uint8_t u[16];
  vouch__kdf_part part = {key, 32};
  vouch__kdf(u, 8, "cuckoo0", seed, 32, &part, 1);
  uint64_t u0 = vouch__load64_le(u);
  vouch__kdf(u, 8, "cuckoo1", seed, 32, &part, 1);
  uint64_t u1 = vouch__load64_le(u);
  uint32_t h0 = (uint32_t)(((unsigned __int128)u0 * m) >> 64);
  uint32_t d = (uint32_t)(((unsigned __int128)u1 * (m - 1)) >> 64);
  uint64_t h1 = (uint64_t)h0 + 1 + d;
  if (h1 >= m)
    h1 -= m;
  slot[0] = h0;
  slot[1] = (uint32_t)h1;
}

void vouch__pd_id(const uint8_t *pd, size_t len, uint8_t id[16]) {
  vouch__kdf_part part = {pd, len};
  vouch__kdf(id, 16, "pdid", NULL, 0, &part, 1);
}

/* ///////////////////////////////////////////////////////////// match key */

size_t vouch_psi_slots_for(size_t n) {
  size_t m = n / 4 * 9 + ((n % 4) * 9 + 3) / 4; /* ceil(9n/4) without overflow for n < 2^60 */
  return m < 16 ? 16 : m;
}
size_t vouch_psi_public_bytes(size_t m) { return VOUCH_PSI_PUBLIC_BYTES(m); }
size_t vouch_psi_voucher_bytes(unsigned s, unsigned probes) {
  return VOUCH_PSI_VOUCHER_BYTES(s, probes);
}

int vouch_psi_match_key(int algo, const uint8_t *hash, size_t hash_len,
                        uint8_t out[VOUCH_PSI_MATCH_KEY_BYTES]) {
  if (!hash || hash_len == 0 || hash_len > VOUCH_PSI_HASH_MAX_BYTES || algo < 0 || algo > 255)
    return VOUCH_E_INVALID;
  uint8_t head[2] = {(uint8_t)algo, (uint8_t)hash_len};
  vouch__kdf_part parts[2] = {{head, 2}, {hash, hash_len}};
  vouch__kdf(out, VOUCH_PSI_MATCH_KEY_BYTES, "mkey", NULL, 0, parts, 2);
  return VOUCH_OK;
}

int vouch_psi_entry_key(int scheme, unsigned band, int algo, const uint8_t *hash, size_t hash_len,
                        uint8_t out[VOUCH_PSI_MATCH_KEY_BYTES]) {
  if (scheme == VOUCH_PSI_SCHEME_EXACT)
    return vouch_psi_match_key(algo, hash, hash_len, out);
  if (scheme == VOUCH_PSI_SCHEME_BAND)
    return vouch_psi_band_key(algo, hash, hash_len, band, out);
  return VOUCH_E_INVALID;
}

void vouch_psi_buf_free(uint8_t *buf) { vouch__free(buf); }

int vouch__scalar_canonical(const uint8_t s[32]) {
  uint8_t wide[64] = {0}, c[32];
  memcpy(wide, s, 32);
  crypto_core_ristretto255_scalar_reduce(c, wide);
  return memcmp(c, s, 32) == 0;
}

static int cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

size_t vouch__sort_unique32(uint8_t *keys, size_t n) {
  if (n)
    qsort(keys, n, 32, cmp32);
  size_t u = 0;
  for (size_t i = 0; i < n; i++)
    if (u == 0 || memcmp(keys + 32 * (u - 1), keys + 32 * i, 32) != 0)
      memmove(keys + 32 * u++, keys + 32 * i, 32);
  return u;
}
