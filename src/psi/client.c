/* src/psi/client.c -- the client: account secrets, payloads (with the
 * thumbnail), and safety vouchers, real or synthetic (docs/protocol.md
 * section 6).  Everything that depends on a secret is branch-free and
 * indexes memory only by public values; tests/ct/ctgrind_psi.c checks it. */
#include <math.h>
#include <string.h>
#include "psi_internal.h"
#include "public_internal.h"

/* ////////////////////////////////////////////////////////////// account */

struct vouch_psi_account {
  unsigned t, s, synth_used;
  uint32_t made;           /* vouchers made so far (the library size the rate is calibrated on) */
  uint8_t id[16];
  uint8_t xkey[32];
  uint8_t adkey[32];       /* KDF("adkey", a0) */
  uint8_t *coef;           /* (t+1) scalars a0..at, 32 bytes each */
  uint64_t *dhf;           /* s polynomials of t coefficients, row-major */
};

#define ACCT_MAGIC "VACCT001"
#define ACCT_HEAD 24U

static size_t acct_file_bytes(unsigned t, unsigned s) {
  return ACCT_HEAD + 16U + 32U + 32U * ((size_t)t + 1) + 8U * (size_t)s * t + 16U;
}

static int account_alloc(vouch_psi_account **out, unsigned t, unsigned s) {
  size_t head = (sizeof(vouch_psi_account) + 15U) & ~(size_t)15U;
  size_t total = head + 32U * ((size_t)t + 1) + 8U * (size_t)s * t;
  total = (total + 15U) & ~(size_t)15U; /* sodium_malloc aligns the end of the block */
  uint8_t *mem = sodium_malloc(total);
  if (!mem)
    return VOUCH_E_NOMEM;
  memset(mem, 0, total);
  vouch_psi_account *a = (vouch_psi_account *)(void *)mem;
  a->t = t;
  a->s = s;
  a->coef = mem + head;
  a->dhf = (uint64_t *)(void *)(mem + head + 32U * ((size_t)t + 1));
  *out = a;
  return VOUCH_OK;
}

static void derive_adkey(vouch_psi_account *a) {
  vouch__kdf_part part = {a->coef, 32};
  vouch__kdf(a->adkey, 32, "adkey", NULL, 0, &part, 1);
}

/* A uniform element of GF(p) from 8 bytes: 61 bits, reduced (bias 2^-61). */
static uint64_t gf_from_bytes(const uint8_t b[8]) {
  return vouch__gf_reduce(vouch__load64_le(b) & VOUCH__P61);
}

int vouch__account_create(vouch_psi_account **out, unsigned t, unsigned s, vouch__rng *rng) {
  vouch_psi_account *a;
  *out = NULL;
  if (t < 1 || t > VOUCH_PSI_THRESHOLD_MAX || s < 1 || s > VOUCH_PSI_DHF_MAX)
    return VOUCH_E_INVALID;
  VOUCH_TRY(account_alloc(&a, t, s));
  vouch__rng_bytes(rng, a->id, sizeof a->id);
  vouch__rng_bytes(rng, a->xkey, sizeof a->xkey);
  for (unsigned i = 0; i <= t; i++)
    vouch__rng_scalar(rng, a->coef + 32 * (size_t)i);
  for (size_t i = 0; i < (size_t)s * t; i++) {
    uint8_t b[8];
    vouch__rng_bytes(rng, b, 8);
    a->dhf[i] = gf_from_bytes(b);
    sodium_memzero(b, sizeof b);
  }
  derive_adkey(a);
  *out = a;
  return VOUCH_OK;
}

int vouch_psi_account_create(vouch_psi_account **out, unsigned t, unsigned s) {
  return vouch__account_create(out, t, s, NULL);
}

size_t vouch_psi_account_file_bytes(const vouch_psi_account *a) {
  return acct_file_bytes(a->t, a->s);
}

static void acct_sum(const uint8_t *buf, size_t len, uint8_t sum[16]) {
  vouch__kdf_part part = {buf, len};
  vouch__kdf(sum, 16, "acct-sum", NULL, 0, &part, 1);
}

int vouch_psi_account_save(const vouch_psi_account *a, uint8_t *buf, size_t cap) {
  size_t len = acct_file_bytes(a->t, a->s);
  if (cap < len)
    return VOUCH_E_INVALID;
  memset(buf, 0, ACCT_HEAD);
  memcpy(buf, ACCT_MAGIC, 8);
  buf[8] = 2;
  buf[12] = (uint8_t)a->t;
  buf[13] = (uint8_t)(a->t >> 8);
  buf[14] = (uint8_t)a->s;
  buf[15] = (uint8_t)(a->s >> 8);
  vouch__store32_le(buf + 16, a->synth_used);
  vouch__store32_le(buf + 20, a->made);
  uint8_t *p = buf + ACCT_HEAD;
  memcpy(p, a->id, 16);
  memcpy(p + 16, a->xkey, 32);
  p += 48;
  memcpy(p, a->coef, 32U * ((size_t)a->t + 1));
  p += 32U * ((size_t)a->t + 1);
  for (size_t i = 0; i < (size_t)a->s * a->t; i++, p += 8)
    vouch__store64_le(p, a->dhf[i]);
  acct_sum(buf, len - 16, p);
  return VOUCH_OK;
}

int vouch_psi_account_load(vouch_psi_account **out, const uint8_t *buf, size_t len) {
  static const uint8_t zero[4];
  uint8_t sum[16], wide[64] = {0}, canon[32];
  vouch_psi_account *a;
  *out = NULL;
  /* Version 1 had no voucher count (bytes 20..23 zero): it loads as 0. */
  if (!buf || len < ACCT_HEAD || memcmp(buf, ACCT_MAGIC, 8) != 0 || buf[8] < 1 || buf[8] > 2 ||
      buf[9] || buf[10] || buf[11] || (buf[8] == 1 && memcmp(buf + 20, zero, 4) != 0))
    return VOUCH_E_PSI_FORMAT;
  unsigned t = vouch__load16_le(buf + 12), s = vouch__load16_le(buf + 14);
  uint32_t used = vouch__load32_le(buf + 16);
  if (t < 1 || t > VOUCH_PSI_THRESHOLD_MAX || s < 1 || s > VOUCH_PSI_DHF_MAX || used > s ||
      len != acct_file_bytes(t, s))
    return VOUCH_E_PSI_FORMAT;
  acct_sum(buf, len - 16, sum);
  if (sodium_memcmp(sum, buf + len - 16, 16) != 0)
    return VOUCH_E_PSI_FORMAT;
  VOUCH_TRY(account_alloc(&a, t, s));
  a->synth_used = used;
  a->made = vouch__load32_le(buf + 20);
  const uint8_t *p = buf + ACCT_HEAD;
  memcpy(a->id, p, 16);
  memcpy(a->xkey, p + 16, 32);
  p += 48;
  int bad = 0;
  for (unsigned i = 0; i <= t; i++, p += 32) {
    memcpy(wide, p, 32);
    crypto_core_ristretto255_scalar_reduce(canon, wide);
    bad |= sodium_memcmp(canon, p, 32) != 0;
    memcpy(a->coef + 32 * (size_t)i, p, 32);
  }
  for (size_t i = 0; i < (size_t)s * t; i++, p += 8) {
    a->dhf[i] = vouch__load64_le(p);
    bad |= a->dhf[i] >= VOUCH__P61;
  }
  sodium_memzero(wide, sizeof wide);
  sodium_memzero(canon, sizeof canon);
  if (bad) {
    vouch_psi_account_free(a);
    return VOUCH_E_PSI_FORMAT;
  }
  derive_adkey(a);
  *out = a;
  return VOUCH_OK;
}

void vouch_psi_account_params(const vouch_psi_account *a, unsigned *t, unsigned *s,
                              unsigned *synthetic_used) {
  if (t)
    *t = a->t;
  if (s)
    *s = a->s;
  if (synthetic_used)
    *synthetic_used = a->synth_used;
}

uint32_t vouch_psi_account_made(const vouch_psi_account *a) {
  return a->made;
}

double vouch_psi_synthetic_rate(unsigned t, uint64_t made, double scale) {
  if (t < 1 || !(scale >= 0.0))
    return 0.0;
  /* p_n = scale * 2t^2 / (n + 2t)^2: 1/2 for the first voucher at scale 1,
   * and sum over all n of about scale * t (docs/protocol.md section 6). */
  double c = 2.0 * (double)t, d = (double)made + c;
  double p = scale * c * (double)t / (d * d);
  return p < 1.0 ? p : 1.0;
}

void vouch_psi_account_free(vouch_psi_account *a) {
  if (a)
    sodium_free(a);
}

void vouch__account_secret(const vouch_psi_account *a, uint8_t a0[32]) { memcpy(a0, a->coef, 32); }

size_t vouch__account_secret_regions(vouch_psi_account *a, void *ptr[4], size_t len[4]) {
  ptr[0] = a->xkey;
  len[0] = sizeof a->xkey;
  ptr[1] = a->adkey;
  len[1] = sizeof a->adkey;
  ptr[2] = a->coef;
  len[2] = 32U * ((size_t)a->t + 1);
  ptr[3] = a->dhf;
  len[3] = 8U * (size_t)a->s * a->t;
  return 4;
}

/* ////////////////////////////////////////////////////////////// payload */

int vouch_psi_payload_init(vouch_psi_payload *p, int algo, const uint8_t *hash, size_t hash_len,
                           const vouch_image *img) {
  memset(p, 0, sizeof *p);
  VOUCH_TRY(vouch_psi_match_key(algo, hash, hash_len, p->match_key));
  p->algo = algo;
  p->hash_len = (uint8_t)hash_len;
  memcpy(p->hash, hash, hash_len);
  if (!img)
    return VOUCH_OK;
  if (!img->pixels || img->width == 0 || img->height == 0 ||
      (img->channels != 1 && img->channels != 3) || img->stride < (size_t)img->width * img->channels)
    return VOUCH_E_INVALID;
  /* Fit in 64x64 keeping the aspect ratio; never upscale. */
  uint32_t w = img->width, h = img->height, tw, th;
  if (w >= h) {
    tw = w < VOUCH_PSI_THUMB_SIDE ? w : VOUCH_PSI_THUMB_SIDE;
    th = (uint32_t)(((uint64_t)h * tw + w / 2) / w);
  } else {
    th = h < VOUCH_PSI_THUMB_SIDE ? h : VOUCH_PSI_THUMB_SIDE;
    tw = (uint32_t)(((uint64_t)w * th + h / 2) / h);
  }
  if (tw < 1)
    tw = 1;
  if (th < 1)
    th = 1;
  /* Area average over the source box of each thumbnail pixel; luma from
   * RGB with the Rec. 601 weights in 8.8 fixed point (77, 150, 29). */
  for (uint32_t ty = 0; ty < th; ty++) {
    uint32_t y0 = (uint32_t)((uint64_t)ty * h / th), y1 = (uint32_t)((uint64_t)(ty + 1) * h / th);
    if (y1 <= y0)
      y1 = y0 + 1;
    for (uint32_t tx = 0; tx < tw; tx++) {
      uint32_t x0 = (uint32_t)((uint64_t)tx * w / tw), x1 = (uint32_t)((uint64_t)(tx + 1) * w / tw);
      if (x1 <= x0)
        x1 = x0 + 1;
      uint64_t sum = 0;
      for (uint32_t y = y0; y < y1; y++) {
        const uint8_t *row = img->pixels + (size_t)y * img->stride;
        for (uint32_t x = x0; x < x1; x++) {
          if (img->channels == 1)
            sum += row[x];
          else {
            const uint8_t *px = row + 3 * (size_t)x;
            sum += (77U * px[0] + 150U * px[1] + 29U * px[2] + 128U) >> 8;
          }
        }
      }
      uint64_t cnt = (uint64_t)(y1 - y0) * (x1 - x0);
      p->thumb[ty * tw + tx] = (uint8_t)((sum + cnt / 2) / cnt);
    }
  }
  p->thumb_w = (uint8_t)tw;
  p->thumb_h = (uint8_t)th;
  return VOUCH_OK;
}

static int payload_valid(const vouch_psi_payload *p) {
  return p->hash_len >= 1 && p->hash_len <= VOUCH_PSI_HASH_MAX_BYTES && p->algo >= 0 &&
         p->algo <= 255 && p->thumb_w <= VOUCH_PSI_THUMB_SIDE &&
         p->thumb_h <= VOUCH_PSI_THUMB_SIDE && ((p->thumb_w == 0) == (p->thumb_h == 0));
}

static void payload_encode(const vouch_psi_payload *p, uint8_t out[VOUCH__PAYLOAD_BYTES]) {
  memset(out, 0, VOUCH__PAYLOAD_BYTES);
  out[0] = (uint8_t)p->algo;
  out[1] = p->hash_len;
  out[2] = p->thumb_w;
  out[3] = p->thumb_h;
  memcpy(out + 4, p->match_key, 32);
  memcpy(out + 36, p->hash, p->hash_len);
  memcpy(out + 68, p->thumb, (size_t)p->thumb_w * p->thumb_h);
}

/* ////////////////////////////////////////////////////////////// voucher */

/* The ristretto255 base point G, encoded (RFC 9496 section 4.4). */
static const uint8_t base_point[32] = {
    0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f,
    0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76};

/* dst = mask ? b : a, for mask 0x00 or 0xff, without a branch. */
static void cmov(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n, uint8_t mask) {
  for (size_t i = 0; i < n; i++)
    dst[i] = (uint8_t)(a[i] ^ (mask & (a[i] ^ b[i])));
}
static uint64_t cmov64(uint64_t a, uint64_t b, uint64_t mask) { return a ^ (mask & (a ^ b)); }

/* x = KDF("x", xkey || k) as a non-zero element of GF(p), branch-free. */
static uint64_t share_x(const uint8_t xkey[32], const uint8_t k[32]) {
  uint8_t b[16];
  vouch__kdf_part parts[2] = {{xkey, 32}, {k, 32}};
  vouch__kdf(b, 8, "x", NULL, 0, parts, 2);
  uint64_t x = gf_from_bytes(b);
  sodium_memzero(b, sizeof b);
  return x + (uint64_t)(((x | (0 - x)) >> 63) ^ 1); /* +1 iff x == 0 */
}

static void scalar_from_u64(uint8_t s[32], uint64_t v) {
  memset(s, 0, 32);
  vouch__store64_le(s, v);
}

/* One (Q, W) slot: Q = beta*Hp + gamma*G, S = beta*Pp + gamma*L. */
static int make_slot(uint8_t out[VOUCH__V_SLOT], const uint8_t Hp[32], const uint8_t Pp[32],
                     const uint8_t L[32], const uint8_t header[VOUCH__V_HEADER],
                     const uint8_t rkey[32], vouch__rng *rng) {
  uint8_t beta[32], gamma[32], t1[32], t2[32], S[32], K[32];
  static const uint8_t zero_nonce[24];
  int fail = 0;
  vouch__rng_scalar(rng, beta);
  vouch__rng_scalar(rng, gamma);
  fail |= crypto_scalarmult_ristretto255(t1, beta, Hp);
  crypto_scalarmult_ristretto255_base(t2, gamma);
  fail |= crypto_core_ristretto255_add(out, t1, t2); /* Q */
  fail |= crypto_scalarmult_ristretto255(t1, beta, Pp);
  fail |= crypto_scalarmult_ristretto255(t2, gamma, L);
  fail |= crypto_core_ristretto255_add(S, t1, t2);
  vouch__kdf_part parts[3] = {{S, 32}, {out, 32}, {header, VOUCH__V_HEADER}};
  vouch__kdf(K, 32, "wrap", NULL, 0, parts, 3);
  vouch__seal(out + 32, K, zero_nonce, header, VOUCH__V_HEADER, rkey, 32);
  sodium_memzero(beta, sizeof beta);
  sodium_memzero(gamma, sizeof gamma);
  sodium_memzero(t1, sizeof t1);
  sodium_memzero(t2, sizeof t2);
  sodium_memzero(S, sizeof S);
  sodium_memzero(K, sizeof K);
  return fail;
}

/* Constant-time shuffle of n slots (SLOT_WORDS words each): Fisher-Yates,
 * where step i swaps slot i with slot j = floor(u (i+1) / 2^64) through a
 * masked swap with every slot k < i, so no branch or address depends on j. */
#define SLOT_WORDS (VOUCH__V_SLOT / 8U)
static void shuffle_slots(uint64_t *w, size_t n, vouch__rng *rng) {
  uint8_t rb[8];
  for (size_t i = n; i-- > 1;) {
    vouch__rng_bytes(rng, rb, 8);
    uint64_t j = (uint64_t)(((unsigned __int128)vouch__load64_le(rb) * (i + 1)) >> 64);
    uint64_t *a = w + SLOT_WORDS * i;
    for (size_t k = 0; k < i; k++) {
      uint64_t d = (uint64_t)k ^ j;
      uint64_t mask = ((d | (0 - d)) >> 63) - 1; /* all ones iff k == j */
      uint64_t *b = w + SLOT_WORDS * k;
      for (size_t x = 0; x < SLOT_WORDS; x++) {
        uint64_t t = (a[x] ^ b[x]) & mask;
        a[x] ^= t;
        b[x] ^= t;
      }
    }
  }
  sodium_memzero(rb, sizeof rb);
}

int vouch__voucher_make(vouch_psi_account *a, const vouch_psi_public *pd,
                        const vouch_psi_payload *payload, const float *margin, double rate,
                        int mode, uint8_t *out, size_t cap, int *synthetic, vouch__rng *rng) {
  return vouch__voucher_make_views(a, pd, payload, margin, NULL, rate, mode, out, cap, synthetic, rng);
}

int vouch__voucher_make_views(vouch_psi_account *a, const vouch_psi_public *pd,
                              const vouch_psi_payload *payload, const float *margin,
                              const vouch_psi_views *views, double rate, int mode, uint8_t *out,
                              size_t cap, int *synthetic, vouch__rng *rng) {
  const unsigned P = pd ? pd->probes : 1;
  const size_t vlen = VOUCH_PSI_VOUCHER_BYTES(a->s, P);
  const size_t share_len = VOUCH__SHARE_BYTES(a->s);
  const size_t inner_off = VOUCH__V_INNER_OFF(P);
  static const uint8_t zero_nonce[24];
  if (!pd || !out || cap < vlen || !payload || !payload_valid(payload) ||
      !((rate >= 0.0 && rate <= 1.0) || rate == VOUCH_PSI_SYNTHETIC_AUTO) || mode < -1 || mode > 1)
    return VOUCH_E_INVALID;
  if (rate == VOUCH_PSI_SYNTHETIC_AUTO)
    rate = vouch_psi_synthetic_rate(a->t, a->made, 1.0);
  if (pd->scheme == VOUCH_PSI_SCHEME_BAND &&
      (payload->algo != VOUCH_ALGO_PDQ || payload->hash_len != VOUCH_PDQ_BYTES))
    return VOUCH_E_INVALID;

  uint8_t *share = vouch__malloc(share_len);
  uint8_t *plain = vouch__malloc(VOUCH__PAYLOAD_BYTES);
  uint8_t *zplain = vouch__calloc(1, VOUCH__PAYLOAD_BYTES);
  uint64_t *pw = vouch__malloc(sizeof(uint64_t) * a->t);
  uint8_t *pkeys = vouch__malloc(32U * (size_t)P);
  uint64_t *slotw = vouch__malloc(sizeof(uint64_t) * SLOT_WORDS * 2U * (size_t)P);
  int prc = VOUCH_E_NOMEM;
  if (pkeys) {
    if (pd->scheme == VOUCH_PSI_SCHEME_BAND)
      prc = vouch_psi_probe_keys_views(payload->algo, payload->hash, payload->hash_len, margin, views,
                                       pd->band, P, pkeys, NULL);
    else {
      memcpy(pkeys, payload->match_key, 32);
      prc = VOUCH_OK;
    }
  }
  if (!share || !plain || !zplain || !pw || !slotw || prc != VOUCH_OK) {
    vouch__free(share);
    vouch__free(plain);
    vouch__free(zplain);
    vouch__free(pw);
    vouch__free(pkeys);
    vouch__free(slotw);
    return prc != VOUCH_OK ? prc : VOUCH_E_NOMEM;
  }

  /* Real or synthetic: one secret bit, used only through masks.  The coin
   * is a keyed hash of the photo's own key under the account's xkey, so every
   * upload of one photo, from any device of the account, draws the same coin
   * (docs/protocol.md section 6). */
  uint8_t rb[8];
  vouch__kdf_part cpart = {pkeys, 32};
  vouch__kdf(rb, 8, "coin", a->xkey, 32, &cpart, 1);
  uint64_t u = vouch__load64_le(rb) >> 2;                       /* 62 bits */
  uint64_t thr = (uint64_t)ldexp(rate, 62);                     /* rate * 2^62 */
  uint64_t syn = (u - thr) >> 63;                               /* u < thr */
  if (mode >= 0)
    syn = (uint64_t)mode;                                      /* tests only */
  syn &= ((uint64_t)a->synth_used - a->s) >> 63;                /* budget left */
  a->synth_used += (unsigned)syn;
  a->made += a->made != UINT32_MAX;
  const uint8_t m8 = (uint8_t)(0 - syn);
  const uint64_t m64 = 0 - syn;

  /* Header. */
  uint8_t *h = out;
  memset(h, 0, VOUCH__V_HEADER);
  memcpy(h, VOUCH__V_MAGIC, 4);
  h[4] = VOUCH__V_VERSION;
  h[6] = (uint8_t)a->t;
  h[7] = (uint8_t)(a->t >> 8);
  h[8] = (uint8_t)a->s;
  h[9] = (uint8_t)(a->s >> 8);
  h[10] = (uint8_t)P;
  h[11] = (uint8_t)(P >> 8);
  h[12] = (uint8_t)pd->scheme;
  memcpy(h + 16, pd->id, 16);
  memcpy(h + 32, a->id, 16);
  vouch__rng_bytes(rng, h + VOUCH__V_ID_OFF, VOUCH_PSI_ID_BYTES);

  /* Share layer: x, y = f(x), DHF(x), payload. */
  uint8_t rnd[64], xs[32], y[32], ysyn[32], tmp[32], sseed[32];
  const uint8_t *k = pkeys; /* the photo's own key: exact, or probe 0 = its band key */
  /* A synthetic share is pseudorandom but a function of (xkey, k): the same
   * photo made synthetic twice gives the same share, so a repeated opening
   * is not by itself a sign of a real match (docs/protocol.md section 8). */
  vouch__rng srng;
  vouch__kdf_part sparts[2] = {{a->xkey, 32}, {k, 32}};
  vouch__kdf(sseed, 32, "synthetic", NULL, 0, sparts, 2);
  vouch__rng_seed(&srng, sseed);
  vouch__rng_bytes(&srng, rnd, 8);
  uint64_t xr = share_x(a->xkey, k);
  uint64_t xsyn = gf_from_bytes(rnd);
  xsyn += ((xsyn | (0 - xsyn)) >> 63) ^ 1;
  uint64_t x = cmov64(xr, xsyn, m64);
  scalar_from_u64(xs, x);
  memcpy(y, a->coef + 32 * (size_t)a->t, 32); /* Horner: a_t, then y*x + a_i */
  for (unsigned i = a->t; i-- > 0;) {
    crypto_core_ristretto255_scalar_mul(tmp, y, xs);
    crypto_core_ristretto255_scalar_add(y, tmp, a->coef + 32 * (size_t)i);
  }
  vouch__rng_scalar(&srng, ysyn);
  vouch__store64_le(share, x);
  cmov(share + 8, y, ysyn, 32, m8);
  pw[0] = 1; /* powers of x */
  for (unsigned i = 1; i < a->t; i++)
    pw[i] = vouch__gf_mul(pw[i - 1], x);
  for (unsigned j = 0; j < a->s; j++) {
    const uint64_t *c = a->dhf + (size_t)j * a->t;
    uint64_t acc = 0;
    for (unsigned i = 0; i < a->t; i++)
      acc = vouch__gf_add(acc, vouch__gf_mul(c[i], pw[i]));
    vouch__rng_bytes(&srng, rnd, 8);
    vouch__store64_le(share + 40 + 8 * (size_t)j, cmov64(acc, gf_from_bytes(rnd), m64));
  }
  /* Payload under adkey (real) or under a random key (synthetic: nothing). */
  uint8_t pkey[32], rkey[32];
  uint8_t *pct = share + 40 + 8 * (size_t)a->s;
  payload_encode(payload, plain);
  memcpy(plain + 4, k, 32); /* the key this voucher was made for */
  cmov(plain, plain, zplain, VOUCH__PAYLOAD_BYTES, m8);
  vouch__rng_bytes(rng, rnd, 32);
  cmov(pkey, a->adkey, rnd, 32, m8);
  vouch__rng_bytes(rng, pct, VOUCH__NONCE_BYTES);
  vouch__seal(pct + VOUCH__NONCE_BYTES, pkey, pct, h, VOUCH__V_HEADER, plain,
              VOUCH__PAYLOAD_BYTES);
  vouch__rng_bytes(rng, rkey, 32);

  /* Slots: for probe i and cuckoo function j, slot 2i+j.  Real: (H(k_i),
   * P_hj(k_i)).  Synthetic: slot 0 is (G, L), which opens; every other slot
   * is (H(k_i), R) for a random point R, which does not.  Fresh beta, gamma
   * per slot (make_slot). */
  uint32_t sl[2];
  uint8_t H[32], R[32], Hp[32], Pp[32], slot[VOUCH__V_SLOT];
  int fail = 0;
  vouch__rng_bytes(rng, rnd, 64);
  crypto_core_ristretto255_from_hash(R, rnd);
  for (unsigned i = 0; i < P; i++) {
    const uint8_t *ki = pkeys + 32 * (size_t)i;
    vouch__cuckoo_slots(pd->seed, pd->m, ki, sl);
    vouch__hash_to_group(H, ki, 32);
    for (unsigned j = 0; j < 2; j++) {
      const uint8_t *Pj = pd->table + 32 * (size_t)sl[j];
      const int first = i == 0 && j == 0;
      uint8_t mo = (uint8_t)(m8 & (first ? 0xff : 0x00)); /* synthetic, opening slot */
      uint8_t mr = (uint8_t)(m8 & (first ? 0x00 : 0xff)); /* synthetic, closed slot */
      cmov(Hp, H, base_point, 32, mo);
      cmov(Pp, Pj, pd->L, 32, mo);
      cmov(Pp, Pp, R, 32, mr);
      fail |= make_slot(slot, Hp, Pp, pd->L, h, rkey, rng);
      memcpy(slotw + SLOT_WORDS * (2 * (size_t)i + j), slot, VOUCH__V_SLOT);
    }
  }
  /* Uniform order, so the position that opens says nothing. */
  shuffle_slots(slotw, 2 * (size_t)P, rng);
  memcpy(out + VOUCH__V_HEADER, slotw, 2U * VOUCH__V_SLOT * (size_t)P);

  /* Inner layer, bound to everything before it. */
  vouch__seal(out + inner_off, rkey, zero_nonce, out, inner_off, share, share_len);

  VOUCH__CT_PUBLIC(&fail, sizeof fail); /* cannot fail for valid points */
  if (synthetic)
    *synthetic = (int)syn;
  sodium_memzero(rb, sizeof rb);
  sodium_memzero(sseed, sizeof sseed);
  vouch__rng_wipe(&srng);
  sodium_memzero(rnd, sizeof rnd);
  sodium_memzero(xs, sizeof xs);
  sodium_memzero(y, sizeof y);
  sodium_memzero(ysyn, sizeof ysyn);
  sodium_memzero(tmp, sizeof tmp);
  sodium_memzero(pkey, sizeof pkey);
  sodium_memzero(rkey, sizeof rkey);
  sodium_memzero(Hp, sizeof Hp);
  sodium_memzero(Pp, sizeof Pp);
  sodium_memzero(slot, sizeof slot);
  sodium_memzero(H, sizeof H);
  sodium_memzero(slotw, sizeof(uint64_t) * SLOT_WORDS * 2U * (size_t)P);
  sodium_memzero(pkeys, 32U * (size_t)P);
  sodium_memzero(share, share_len);
  sodium_memzero(plain, VOUCH__PAYLOAD_BYTES);
  sodium_memzero(pw, sizeof(uint64_t) * a->t);
  xr = x = xsyn = 0;
  vouch__free(share);
  vouch__free(plain);
  vouch__free(zplain);
  vouch__free(pw);
  vouch__free(pkeys);
  vouch__free(slotw);
  if (fail) {
    sodium_memzero(out, vlen);
    return VOUCH_E_PSI_FORMAT;
  }
  return VOUCH_OK;
}

int vouch_psi_voucher_make(vouch_psi_account *a, const vouch_psi_public *pd,
                           const vouch_psi_payload *payload, const float *margin,
                           double synthetic_rate, uint8_t *out, size_t cap, int *synthetic) {
  return vouch__voucher_make(a, pd, payload, margin, synthetic_rate, -1, out, cap, synthetic, NULL);
}

int vouch_psi_voucher_make_views(vouch_psi_account *a, const vouch_psi_public *pd,
                                 const vouch_psi_payload *payload, const float *margin,
                                 const vouch_psi_views *views, double synthetic_rate, uint8_t *out,
                                 size_t cap, int *synthetic) {
  return vouch__voucher_make_views(a, pd, payload, margin, views, synthetic_rate, -1, out, cap,
                                   synthetic, NULL);
}
