/* src/audit/keys.c -- keys, signed source lists, shared helpers (vouch/audit.h).
 * Formats: docs/audit.md. */
#include <sodium.h>
#include "audit_internal.h"
#include "vouch/hash.h"

size_t vouch_audit_pk_bytes(void) { return VOUCH_AUDIT_PK_BYTES; }
size_t vouch_audit_sig_bytes(void) { return VOUCH_AUDIT_SIG_BYTES; }
void vouch_audit_free(void *p) { vouch__free(p); }
void vouch_audit_digest(const uint8_t *buf, size_t len, uint8_t out[VOUCH_AUDIT_DIGEST_BYTES]) {
  crypto_hash_sha256(out, buf, len);
}
void vouch_audit_wipe(void *p, size_t n) {
  if (p)
    sodium_memzero(p, n);
}

/* ------------------------------------------------------------- helpers */

static void ctx_message(const char *ctx, const uint8_t digest[32], uint8_t *msg, size_t *len) {
  size_t c = strlen(ctx);
  memcpy(msg, ctx, c);
  msg[c] = 0;
  memcpy(msg + c + 1, digest, 32);
  *len = c + 33;
}

void vouch__sign_digest(const char *ctx, const uint8_t digest[32], const uint8_t sk[VOUCH_AUDIT_SK_BYTES],
                        uint8_t sig[VOUCH_AUDIT_SIG_BYTES]) {
  uint8_t msg[96];
  size_t len;
  ctx_message(ctx, digest, msg, &len);
  crypto_sign_ed25519_detached(sig, NULL, msg, len, sk);
}

int vouch__verify_digest(const char *ctx, const uint8_t digest[32], const uint8_t pk[VOUCH_AUDIT_PK_BYTES],
                         const uint8_t sig[VOUCH_AUDIT_SIG_BYTES]) {
  uint8_t msg[96];
  size_t len;
  ctx_message(ctx, digest, msg, &len);
  return crypto_sign_ed25519_verify_detached(sig, msg, len, pk) == 0 ? VOUCH_OK : VOUCH_E_AUDIT_SIGNATURE;
}

int vouch__valid_name(const char *s, size_t len) {
  if (len == 0 || len > VOUCH_AUDIT_NAME_MAX)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

int vouch__valid_jurisdiction(const char *s) {
  return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

static int digits(const char *s, int n) {
  for (int i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

int vouch__valid_date(const char *s) {
  if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
    return 0;
  int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* Identity block shared by the key files: role(1) jur(2) name_len(1) name(64). */
#define ID_BYTES 68U
static void id_encode(const vouch_audit_identity *id, uint8_t *p) {
  size_t n = strlen(id->name);
  p[0] = id->role;
  p[1] = (uint8_t)id->jurisdiction[0];
  p[2] = (uint8_t)id->jurisdiction[1];
  p[3] = (uint8_t)n;
  memset(p + 4, 0, VOUCH_AUDIT_NAME_MAX);
  memcpy(p + 4, id->name, n);
}

static int id_decode(const uint8_t *p, vouch_audit_identity *id) {
  memset(id, 0, sizeof *id);
  if (p[0] != VOUCH_AUDIT_ROLE_SOURCE && p[0] != VOUCH_AUDIT_ROLE_SERVER)
    return VOUCH_E_AUDIT_FORMAT;
  id->role = p[0];
  id->jurisdiction[0] = (char)p[1];
  id->jurisdiction[1] = (char)p[2];
  if (!vouch__valid_jurisdiction(id->jurisdiction))
    return VOUCH_E_AUDIT_FORMAT;
  size_t n = p[3];
  if (!vouch__valid_name((const char *)p + 4, n))
    return VOUCH_E_AUDIT_FORMAT;
  for (size_t i = n; i < VOUCH_AUDIT_NAME_MAX; i++)
    if (p[4 + i] != 0)
      return VOUCH_E_AUDIT_FORMAT;
  memcpy(id->name, p + 4, n);
  return VOUCH_OK;
}

/* ---------------------------------------------------------------- keys */

int vouch_audit_keygen(int role, const char *name, const char *jurisdiction, vouch_audit_secret_key *out) {
  if ((role != VOUCH_AUDIT_ROLE_SOURCE && role != VOUCH_AUDIT_ROLE_SERVER) || !name || !jurisdiction ||
      !vouch__valid_name(name, strlen(name)) || strlen(jurisdiction) != 2 ||
      !vouch__valid_jurisdiction(jurisdiction))
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  out->id.role = (uint8_t)role;
  memcpy(out->id.jurisdiction, jurisdiction, 2);
  memcpy(out->id.name, name, strlen(name));
  crypto_sign_ed25519_keypair(out->id.pk, out->sk);
  return VOUCH_OK;
}

void vouch_audit_secret_key_wipe(vouch_audit_secret_key *k) {
  if (k)
    sodium_memzero(k, sizeof *k);
}

static const uint8_t PUB_MAGIC[8] = {'V', 'C', 'H', 'P', 'U', 'B', '0', '1'};
static const uint8_t SEC_MAGIC[8] = {'V', 'C', 'H', 'S', 'E', 'C', '0', '1'};

void vouch_audit_pubkey_encode(const vouch_audit_identity *id, uint8_t out[VOUCH_AUDIT_PUBKEY_FILE_BYTES]) {
  uint8_t d[32];
  memcpy(out, PUB_MAGIC, 8);
  id_encode(id, out + 8);
  memcpy(out + 8 + ID_BYTES, id->pk, 32);
  crypto_hash_sha256(d, out, 108);
  memcpy(out + 108, d, 4);
}

void vouch_audit_seckey_encode(const vouch_audit_secret_key *k, uint8_t out[VOUCH_AUDIT_SECKEY_FILE_BYTES]) {
  uint8_t d[32];
  memcpy(out, SEC_MAGIC, 8);
  id_encode(&k->id, out + 8);
  memcpy(out + 8 + ID_BYTES, k->sk, 64);
  crypto_hash_sha256(d, out, 140);
  memcpy(out + 140, d, 32);
  sodium_memzero(d, sizeof d);
}

static int check_magic(const uint8_t *buf, size_t len, const uint8_t magic[8]) {
  if (len < 8 || memcmp(buf, magic, 6) != 0)
    return VOUCH_E_AUDIT_FORMAT;
  if (memcmp(buf + 6, magic + 6, 2) != 0)
    return VOUCH_E_DB_VERSION;
  return VOUCH_OK;
}

int vouch_audit_pubkey_decode(const uint8_t *buf, size_t len, vouch_audit_identity *out) {
  uint8_t d[32];
  VOUCH_TRY(check_magic(buf, len, PUB_MAGIC));
  if (len != VOUCH_AUDIT_PUBKEY_FILE_BYTES)
    return VOUCH_E_AUDIT_FORMAT;
  crypto_hash_sha256(d, buf, 108);
  if (memcmp(d, buf + 108, 4) != 0)
    return VOUCH_E_AUDIT_FORMAT;
  VOUCH_TRY(id_decode(buf + 8, out));
  memcpy(out->pk, buf + 8 + ID_BYTES, 32);
  return VOUCH_OK;
}

int vouch_audit_seckey_decode(const uint8_t *buf, size_t len, vouch_audit_secret_key *out) {
  uint8_t d[32], pk[32], sk[64];
  int rc = check_magic(buf, len, SEC_MAGIC);
  if (rc != VOUCH_OK)
    return rc;
  if (len != VOUCH_AUDIT_SECKEY_FILE_BYTES)
    return VOUCH_E_AUDIT_FORMAT;
  crypto_hash_sha256(d, buf, 140);
  rc = sodium_memcmp(d, buf + 140, 32) == 0 ? VOUCH_OK : VOUCH_E_AUDIT_FORMAT;
  if (rc == VOUCH_OK)
    rc = id_decode(buf + 8, &out->id);
  if (rc == VOUCH_OK) {
    /* The public half stored in sk must be the one the seed derives. */
    crypto_sign_ed25519_seed_keypair(pk, sk, buf + 8 + ID_BYTES);
    if (sodium_memcmp(sk, buf + 8 + ID_BYTES, 64) != 0)
      rc = VOUCH_E_AUDIT_FORMAT;
    memcpy(out->sk, sk, 64);
    memcpy(out->id.pk, pk, 32);
  }
  sodium_memzero(sk, sizeof sk);
  sodium_memzero(d, sizeof d);
  if (rc != VOUCH_OK)
    sodium_memzero(out, sizeof *out);
  return rc;
}

/* -------------------------------------------------------- source lists */

static const uint8_t LIST_MAGIC[8] = {'V', 'C', 'H', 'L', 'S', 'T', '0', '1'};

/* Header: magic(8) pk(32) jur(2) name_len(1) name(n) list_version(8) date(10) algo(1) count(8). */
static size_t list_header(const vouch_audit_identity *src, uint64_t list_version, const char *date, int algo,
                          uint64_t count, uint8_t *p) {
  size_t n = strlen(src->name), o = 0;
  memcpy(p, LIST_MAGIC, 8);
  o = 8;
  memcpy(p + o, src->pk, 32);
  o += 32;
  p[o++] = (uint8_t)src->jurisdiction[0];
  p[o++] = (uint8_t)src->jurisdiction[1];
  p[o++] = (uint8_t)n;
  memcpy(p + o, src->name, n);
  o += n;
  vouch__store64_le(p + o, list_version);
  o += 8;
  memcpy(p + o, date, VOUCH_AUDIT_DATE_BYTES);
  o += VOUCH_AUDIT_DATE_BYTES;
  p[o++] = (uint8_t)algo;
  vouch__store64_le(p + o, count);
  return o + 8;
}
#define LIST_HEADER_MAX (8 + 32 + 3 + VOUCH_AUDIT_NAME_MAX + 8 + VOUCH_AUDIT_DATE_BYTES + 1 + 8)

void vouch__list_signed_digest(const vouch_audit_identity *src, uint64_t list_version, const char *date,
                               int algo, uint64_t count, const uint8_t hashes_digest[32], uint8_t out[32]) {
  uint8_t hdr[LIST_HEADER_MAX];
  size_t hl = list_header(src, list_version, date, algo, count, hdr);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, hdr, hl);
  crypto_hash_sha256_update(&st, hashes_digest, 32);
  crypto_hash_sha256_final(&st, out);
}

static int cmp_bytes(const void *a, const void *b, const void *ctx) {
  return memcmp(a, b, *(const size_t *)ctx);
}

int vouch_audit_list_sign(const vouch_audit_secret_key *key, int algo, uint64_t list_version, const char *date,
                          const uint8_t *hashes, size_t n, uint8_t **out, size_t *out_len) {
  size_t hb = vouch_algo_list_bytes(algo); /* perceptual hashes and file digests */
  if (!key || key->id.role != VOUCH_AUDIT_ROLE_SOURCE || hb == 0 || !date ||
      strlen(date) != VOUCH_AUDIT_DATE_BYTES || !vouch__valid_date(date) || !out || !out_len ||
      (n && !hashes))
    return VOUCH_E_INVALID;
  if (n > VOUCH_AUDIT_LIST_MAX)
    return VOUCH_E_LIMIT;
  uint8_t *sorted = vouch__malloc(n * hb);
  if (!sorted)
    return VOUCH_E_NOMEM;
  if (n)
    memcpy(sorted, hashes, n * hb);
  int rc = vouch__sort(sorted, n, hb, cmp_bytes, &hb);
  if (rc != VOUCH_OK) {
    vouch__free(sorted);
    return rc;
  }
  size_t m = 0; /* dedup */
  for (size_t i = 0; i < n; i++)
    if (m == 0 || memcmp(sorted + (m - 1) * hb, sorted + i * hb, hb) != 0)
      memmove(sorted + m++ * hb, sorted + i * hb, hb);

  uint8_t hdr[LIST_HEADER_MAX], hd[32], sd[32];
  size_t hl = list_header(&key->id, list_version, date, algo, m, hdr);
  size_t total = hl + m * hb + VOUCH_AUDIT_SIG_BYTES;
  uint8_t *buf = vouch__malloc(total);
  if (!buf) {
    vouch__free(sorted);
    return VOUCH_E_NOMEM;
  }
  memcpy(buf, hdr, hl);
  if (m)
    memcpy(buf + hl, sorted, m * hb);
  vouch__free(sorted);
  crypto_hash_sha256(hd, buf + hl, m * hb);
  vouch__list_signed_digest(&key->id, list_version, date, algo, m, hd, sd);
  vouch__sign_digest(VOUCH__CTX_LIST, sd, key->sk, buf + hl + m * hb);
  *out = buf;
  *out_len = total;
  return VOUCH_OK;
}

int vouch_audit_list_open(const uint8_t *buf, size_t len, vouch_audit_list *out) {
  if (!buf || !out)
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  VOUCH_TRY(check_magic(buf, len, LIST_MAGIC));
  if (len < 8 + 32 + 3)
    return VOUCH_E_AUDIT_FORMAT;
  size_t o = 8;
  out->source.role = VOUCH_AUDIT_ROLE_SOURCE;
  memcpy(out->source.pk, buf + o, 32);
  o += 32;
  out->source.jurisdiction[0] = (char)buf[o];
  out->source.jurisdiction[1] = (char)buf[o + 1];
  size_t nl = buf[o + 2];
  o += 3;
  if (!vouch__valid_jurisdiction(out->source.jurisdiction) || len - o < nl + 8 + VOUCH_AUDIT_DATE_BYTES + 1 + 8 ||
      !vouch__valid_name((const char *)buf + o, nl))
    return VOUCH_E_AUDIT_FORMAT;
  memcpy(out->source.name, buf + o, nl);
  o += nl;
  out->list_version = vouch__load64_le(buf + o);
  o += 8;
  memcpy(out->date, buf + o, VOUCH_AUDIT_DATE_BYTES);
  if (!vouch__valid_date(out->date))
    return VOUCH_E_AUDIT_FORMAT;
  o += VOUCH_AUDIT_DATE_BYTES;
  out->algo = buf[o++];
  out->hash_bytes = vouch_algo_list_bytes(out->algo);
  if (out->hash_bytes == 0)
    return VOUCH_E_AUDIT_FORMAT;
  out->count = vouch__load64_le(buf + o);
  o += 8;
  if (out->count > VOUCH_AUDIT_LIST_MAX)
    return VOUCH_E_LIMIT;
  size_t hb = out->hash_bytes;
  if (len - o < VOUCH_AUDIT_SIG_BYTES || (len - o - VOUCH_AUDIT_SIG_BYTES) / hb != out->count ||
      (len - o - VOUCH_AUDIT_SIG_BYTES) % hb != 0)
    return VOUCH_E_AUDIT_FORMAT;
  out->hashes = buf + o;
  for (uint64_t i = 1; i < out->count; i++)
    if (memcmp(out->hashes + (i - 1) * hb, out->hashes + i * hb, hb) >= 0)
      return VOUCH_E_AUDIT_FORMAT; /* not strictly ascending: not canonical */
  size_t hl = (size_t)out->count * hb;
  memcpy(out->signature, buf + o + hl, VOUCH_AUDIT_SIG_BYTES);
  crypto_hash_sha256(out->hashes_digest, out->hashes, hl);
  uint8_t sd[32];
  vouch__list_signed_digest(&out->source, out->list_version, out->date, out->algo, out->count,
                            out->hashes_digest, sd);
  return vouch__verify_digest(VOUCH__CTX_LIST, sd, out->source.pk, out->signature);
}

/* ---------------------------------------------------------- merge sort */

int vouch__sort(void *base, size_t n, size_t size, vouch__cmp_fn cmp, const void *ctx) {
  if (n < 2)
    return VOUCH_OK;
  size_t bytes;
  if (!vouch__mul_ok(n, size, &bytes))
    return VOUCH_E_LIMIT;
  uint8_t *tmp = vouch__malloc(bytes);
  if (!tmp)
    return VOUCH_E_NOMEM;
  uint8_t *a = base, *b = tmp;
  /* Insertion sort runs of 16, then bottom-up merges, ping-ponging buffers. */
  const size_t run = 16;
  for (size_t lo = 0; lo < n; lo += run) {
    size_t hi = lo + run < n ? lo + run : n;
    for (size_t i = lo + 1; i < hi; i++) {
      size_t j = i;
      while (j > lo && cmp(a + (j - 1) * size, a + i * size, ctx) > 0)
        j--;
      if (j != i) {
        memcpy(b, a + i * size, size);
        memmove(a + (j + 1) * size, a + j * size, (i - j) * size);
        memcpy(a + j * size, b, size);
      }
    }
  }
  for (size_t w = run; w < n; w *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (cmp(a + j * size, a + i * size, ctx) < 0)
          memcpy(b + k++ * size, a + j++ * size, size);
        else
          memcpy(b + k++ * size, a + i++ * size, size);
      }
      if (i < mid) {
        memcpy(b + k * size, a + i * size, (mid - i) * size);
        k += mid - i;
      }
      if (j < hi)
        memcpy(b + k * size, a + j * size, (hi - j) * size);
    }
    uint8_t *t = a;
    a = b;
    b = t;
  }
  if (a != base)
    memcpy(base, a, bytes);
  vouch__free(tmp);
  return VOUCH_OK;
}
