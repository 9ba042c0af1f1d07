/*
 * src/psi/psi_internal.h -- protocol building blocks shared by src/psi/ (every .c)
 * and the tests.  Not API.  docs/protocol.md is the specification.
 */
#ifndef VOUCH_PSI_INTERNAL_H
#define VOUCH_PSI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>
#include "common/internal.h"
#include "vouch/psi.h"
#include "vouch/hash.h"

/* Constant-time testing (tests/ct/): under VOUCH_CTGRIND, values that become
 * public by protocol design (whether a voucher opened, an opened voucher's
 * contents for the server, the success of operations that cannot fail on
 * valid input) are declared defined, so valgrind reports only real
 * secret-dependent branches and addresses.  A no-op in normal builds. */
#ifdef VOUCH_CTGRIND
#include <valgrind/memcheck.h>
#define VOUCH__CT_PUBLIC(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define VOUCH__CT_PUBLIC(p, n) ((void)0)
#endif

/* ---- randomness ----
 * NULL means the operating system generator (randombytes_buf).  A seeded
 * generator is a ChaCha20 keystream (crypto_stream_chacha20) for tests and
 * pinned transcripts only: it is never created by a public function. */
typedef struct vouch__rng {
  uint8_t key[crypto_stream_chacha20_KEYBYTES];
  uint64_t block;          /* next nonce (64-bit counter) */
  uint8_t buf[256];
  size_t pos;              /* bytes of buf already used */
} vouch__rng;

VOUCH_HIDDEN void vouch__rng_seed(vouch__rng *r, const uint8_t seed[32]);
VOUCH_HIDDEN void vouch__rng_bytes(vouch__rng *r, void *out, size_t n);
VOUCH_HIDDEN void vouch__rng_scalar(vouch__rng *r, uint8_t s[32]); /* uniform, non-zero */
VOUCH_HIDDEN void vouch__rng_wipe(vouch__rng *r);

/* ---- hash to group (RFC 9380 expand_message_xmd, SHA-512) ---- */
#define VOUCH__H2G_DST "vouch-v1-psi-ristretto255_XMD:SHA-512_R255MAP_RO_"
/* out_len <= 255*64, dst_len <= 255.  @return 0, or -1 on bad lengths. */
VOUCH_HIDDEN int vouch__expand_message_xmd_sha512(uint8_t *out, size_t out_len,
                                                  const uint8_t *msg, size_t msg_len,
                                                  const uint8_t *dst, size_t dst_len);
VOUCH_HIDDEN void vouch__hash_to_group(uint8_t p[32], const uint8_t *msg, size_t msg_len);

/* ---- KDF: BLAKE2b, salt = label, personal = "vouch-psi-v1" ---- */
typedef struct vouch__kdf_part {
  const void *p;
  size_t n;
} vouch__kdf_part;
VOUCH_HIDDEN void vouch__kdf(uint8_t *out, size_t out_len, const char *label,
                             const uint8_t *key, size_t key_len,
                             const vouch__kdf_part *parts, size_t n_parts);

/* ---- committing AEAD: C(32) || XChaCha20-Poly1305 ciphertext || tag(16) ---- */
#define VOUCH__SEAL_OVERHEAD (32U + 16U)
#define VOUCH__NONCE_BYTES 24U
VOUCH_HIDDEN void vouch__seal(uint8_t *out, const uint8_t key[32], const uint8_t nonce[24],
                              const uint8_t *ad, size_t ad_len, const uint8_t *m, size_t m_len);
/* @return 0 and the plaintext in m, or -1 (m is then zeroed). */
VOUCH_HIDDEN int vouch__open(uint8_t *m, const uint8_t key[32], const uint8_t nonce[24],
                             const uint8_t *ad, size_t ad_len, const uint8_t *c, size_t c_len);

/* ---- GF(2^61 - 1), for the detectable hash function ---- */
#define VOUCH__P61 ((UINT64_C(1) << 61) - 1)
static inline uint64_t vouch__gf_reduce(uint64_t x) { /* x < 2^64 -> [0, p) , branch-free */
  uint64_t r = (x & VOUCH__P61) + (x >> 61);             /* < 2^61 + 8 */
  uint64_t ge = (uint64_t)0 - (uint64_t)((r + 1) >> 61); /* all ones iff r >= p */
  return r - (VOUCH__P61 & ge);
}
static inline uint64_t vouch__gf_mul(uint64_t a, uint64_t b) {
  unsigned __int128 t = (unsigned __int128)a * b; /* a, b < p: t < 2^122 */
  uint64_t lo = (uint64_t)t & VOUCH__P61;
  uint64_t hi = (uint64_t)(t >> 61);               /* < 2^61 */
  return vouch__gf_reduce(lo + hi);
}
static inline uint64_t vouch__gf_add(uint64_t a, uint64_t b) { return vouch__gf_reduce(a + b); }
static inline uint64_t vouch__gf_sub(uint64_t a, uint64_t b) { return vouch__gf_reduce(a + VOUCH__P61 - b); }
VOUCH_HIDDEN uint64_t vouch__gf_inv(uint64_t a); /* a != 0; not constant time (server only) */

/* ---- cuckoo slots ---- */
VOUCH_HIDDEN void vouch__cuckoo_slots(const uint8_t seed[32], uint32_t m,
                                      const uint8_t key[32], uint32_t slot[2]);

/* ---- formats ---- */
#define VOUCH__PD_MAGIC "VOUCHPSI"
#define VOUCH__PD_HEADER 256U
#define VOUCH__PD_VERSION 3U
#define VOUCH__PD_COMMIT 160U  /* 32: KDF_32("dseed-commit", dummy seed) */
#define VOUCH__PD_PROOF 192U   /* 64: the blinding proof c || z */
#define VOUCH__AUDIT_MAGIC "VPDAUDIT"
#define VOUCH__AUDIT_HEADER 72U
#define VOUCH__V_MAGIC "VVC1"
#define VOUCH__V_VERSION 2U
#define VOUCH__V_HEADER 64U
#define VOUCH__V_ID_OFF 48U /* the voucher id, VOUCH_PSI_ID_BYTES */
#define VOUCH__V_WRAP (32U + VOUCH__SEAL_OVERHEAD)     /* 80 */
#define VOUCH__V_SLOT (32U + VOUCH__V_WRAP)           /* 112 */
#define VOUCH__V_INNER_OFF(P) (VOUCH__V_HEADER + 2U * VOUCH__V_SLOT * (size_t)(P)) /* 64 + 224P */
#define VOUCH__PAYLOAD_BYTES (4U + 32U + 32U + VOUCH_PSI_THUMB_BYTES) /* 4164 */
#define VOUCH__PAYLOAD_CT (VOUCH__NONCE_BYTES + VOUCH__SEAL_OVERHEAD + VOUCH__PAYLOAD_BYTES) /* 4236 */
#define VOUCH__SHARE_BYTES(s) (8U + 32U + 8U * (size_t)(s) + VOUCH__PAYLOAD_CT)
_Static_assert(VOUCH__V_HEADER + VOUCH__SEAL_OVERHEAD + 8U + 32U + VOUCH__PAYLOAD_CT == 4388U,
               "voucher size formula in psi.h");

/* The probe flips of docs/protocol.md section 4: flips[i] = band bits
 * flipped by probe i (flips[0] = 0).  @return VOUCH_OK, _E_INVALID, _E_NOMEM. */
VOUCH_HIDDEN int vouch__probe_flips(const float *margin, unsigned b, unsigned P, uint64_t *flips);

/* Parses and checks the public data header (version, scheme, sizes); no
 * signature or point checks.  @return VOUCH_OK, _E_PSI_FORMAT, _E_PSI_VERSION. */
VOUCH_HIDDEN int vouch__pd_header(const uint8_t *buf, size_t len, int *algo, int *scheme,
                                  unsigned *band, unsigned *probes, uint32_t *m);
VOUCH_HIDDEN void vouch__pd_id(const uint8_t *pd, size_t len, uint8_t id[16]);

/* ---- internal entry points with an explicit generator (tests) ---- */
struct vouch_psi_server_key {
  uint8_t alpha[32];
  uint8_t sign_sk[crypto_sign_ed25519_SECRETKEYBYTES];
  uint8_t sign_pk[32];
  uint8_t seed[32];
};

/* mode for vouch__voucher_make: -1 random per rate, 0 force real, 1 force synthetic */
/* 1 iff s is a canonical scalar (< l); not constant time. */
VOUCH_HIDDEN int vouch__scalar_canonical(const uint8_t s[32]);
/* Sorts n 32-byte keys and removes duplicates; returns how many are left. */
VOUCH_HIDDEN size_t vouch__sort_unique32(uint8_t *keys, size_t n);
/* The dummy-seed commitment written at VOUCH__PD_COMMIT. */
VOUCH_HIDDEN void vouch__dseed_commit(const uint8_t seed[32], uint8_t out[32]);
VOUCH_HIDDEN int vouch__server_key_generate(vouch_psi_server_key **out, vouch__rng *rng);
VOUCH_HIDDEN int vouch__setup(const vouch_psi_server_key *key, const uint8_t *keys, size_t n,
                              const vouch_psi_setup_opts *opts, uint8_t **out, size_t *out_len,
                              uint8_t audit_root[32], vouch__rng *rng);
VOUCH_HIDDEN int vouch__account_create(vouch_psi_account **out, unsigned t, unsigned s,
                                       vouch__rng *rng);
VOUCH_HIDDEN int vouch__voucher_make(vouch_psi_account *a, const vouch_psi_public *pd,
                                     const vouch_psi_payload *payload, const float *margin,
                                     double rate, int mode,
                                     uint8_t *out, size_t cap, int *synthetic, vouch__rng *rng);
/* vouch__voucher_make() with the photo's tonal views (NULL: none). */
VOUCH_HIDDEN int vouch__voucher_make_views(vouch_psi_account *a, const vouch_psi_public *pd,
                                           const vouch_psi_payload *payload, const float *margin,
                                           const vouch_psi_views *views, double rate, int mode,
                                           uint8_t *out, size_t cap, int *synthetic, vouch__rng *rng);
/* The account's secret regions (tests/ct marks them undefined): up to 4
 * (pointer, length) pairs; returns how many. */
VOUCH_HIDDEN size_t vouch__account_secret_regions(vouch_psi_account *a, void *ptr[4], size_t len[4]);
/* The account's secret scalar a0 (tests only: to check it is not recovered). */
VOUCH_HIDDEN void vouch__account_secret(const vouch_psi_account *a, uint8_t a0[32]);

#endif
