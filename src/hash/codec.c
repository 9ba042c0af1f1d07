/* src/hash/codec.c -- algorithm names, hex text, Hamming distance. */
#include <string.h>
#include <strings.h>
#include "vouch/hash.h"
#include "common/internal.h"

size_t vouch_pdq_bytes(void) { return VOUCH_PDQ_BYTES; }
unsigned vouch_fast_min_side(void) { return VOUCH_FAST_MIN_SIDE; }

size_t vouch_algo_bytes(int algo) {
  switch (algo) {
  case VOUCH_ALGO_PDQ: return VOUCH_PDQ_BYTES;
  case VOUCH_ALGO_PHASH:
  case VOUCH_ALGO_DHASH:
  case VOUCH_ALGO_AHASH: return VOUCH_HASH64_BYTES;
  default: return 0;
  }
}

int vouch_algo_is_digest(int algo) {
  return algo == VOUCH_ALGO_MD5 || algo == VOUCH_ALGO_SHA1 || algo == VOUCH_ALGO_SHA256;
}

size_t vouch_algo_list_bytes(int algo) {
  switch (algo) {
  case VOUCH_ALGO_MD5: return 16;
  case VOUCH_ALGO_SHA1: return 20;
  case VOUCH_ALGO_SHA256: return 32;
  default: return vouch_algo_bytes(algo);
  }
}

const char *vouch_algo_name(int algo) {
  switch (algo) {
  case VOUCH_ALGO_PDQ: return "pdq";
  case VOUCH_ALGO_PHASH: return "phash";
  case VOUCH_ALGO_DHASH: return "dhash";
  case VOUCH_ALGO_AHASH: return "ahash";
  case VOUCH_ALGO_VPDQ: return "vpdq";
  case VOUCH_ALGO_MD5: return "md5";
  case VOUCH_ALGO_SHA1: return "sha1";
  case VOUCH_ALGO_SHA256: return "sha256";
  default: return "unknown";
  }
}

int vouch_algo_from_name(const char *name) {
  static const int all[] = {VOUCH_ALGO_PDQ, VOUCH_ALGO_PHASH, VOUCH_ALGO_DHASH, VOUCH_ALGO_AHASH};
  if (!name) return VOUCH_ALGO_NONE;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (!strcasecmp(name, vouch_algo_name(all[i])))
      return all[i];
  return VOUCH_ALGO_NONE;
}

const char *vouch_dihedral_name(int v) {
  static const char *names[VOUCH_DIHEDRAL_N] = {"original", "rot90", "rot180", "rot270",
                                                "flipx", "flipy", "flipplus1", "flipminus1"};
  return (v >= 0 && v < (int)VOUCH_DIHEDRAL_N) ? names[v] : "unknown";
}

int vouch_hash_to_hex(const uint8_t *hash, size_t n, char *hex, size_t hex_cap) {
  static const char digits[] = "0123456789abcdef";
  if (!hash || !hex || n > SIZE_MAX / 2 || hex_cap < 2 * n + 1)
    return VOUCH_E_INVALID;
  for (size_t i = 0; i < n; i++) {
    hex[2 * i] = digits[hash[i] >> 4];
    hex[2 * i + 1] = digits[hash[i] & 15];
  }
  hex[2 * n] = 0;
  return VOUCH_OK;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int vouch_hash_from_hex(const char *hex, size_t hex_len, uint8_t *hash, size_t n) {
  if (!hex || !hash || n > SIZE_MAX / 2 || hex_len != 2 * n)
    return VOUCH_E_HASH_PARSE;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return VOUCH_E_HASH_PARSE;
    hash[i] = (uint8_t)(hi << 4 | lo);
  }
  return VOUCH_OK;
}

unsigned vouch_hamming(const uint8_t *a, const uint8_t *b, size_t n) {
  unsigned d = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    d += (unsigned)__builtin_popcountll(vouch__load64_le(a + i) ^ vouch__load64_le(b + i));
  for (; i < n; i++)
    d += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
  return d;
}
