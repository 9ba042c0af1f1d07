/* src/psi/server.c -- the server side: opening vouchers, counting distinct
 * openings, detecting the real shares with the DHF, recovering the account
 * key and the payloads (docs/protocol.md section 7). */
#include <string.h>
#include "psi_internal.h"

typedef struct opened {
  size_t index;                   /* voucher number */
  uint64_t x;
  uint8_t y[32];
  uint8_t header[VOUCH__V_HEADER];
  uint8_t pct[VOUCH__PAYLOAD_CT]; /* payload ciphertext (nonce, commitment, ct, tag) */
  int real;                       /* after a reveal that crossed the threshold */
  unsigned slots_opened;          /* slots of this voucher that opened (>= 1) */
  int confirmed;                  /* -1 not checked, 1 within the radius, 0 key collision */
  unsigned distance;              /* after confirm */
} opened;

struct vouch_psi_server {
  const vouch_psi_server_key *key;
  uint8_t pdid[16];
  unsigned probes;                /* P of the public data */
  int scheme;
  int have_params;
  unsigned t, s;
  uint8_t account[16];
  size_t nv;                      /* accepted vouchers */
  uint8_t *ids;                   /* digests of vouchers seen, open addressing; all-zero = empty */
  size_t ids_cap, ids_n;
  int zero_id_seen;               /* the all-zero id cannot live in the table */
  opened *op;
  uint64_t *dhf;                  /* s values per opened voucher */
  size_t nop, opcap;
  int crossed;
  size_t nreal;
  vouch_psi_payload *payloads;    /* per opened voucher, valid where op[i].real */
};

int vouch_psi_server_create(vouch_psi_server **out, const vouch_psi_server_key *key,
                            const uint8_t *pd, size_t pd_len) {
  *out = NULL;
  int algo, scheme;
  unsigned band, probes;
  uint32_t m;
  if (!key || !pd)
    return VOUCH_E_INVALID;
  VOUCH_TRY(vouch__pd_header(pd, pd_len, &algo, &scheme, &band, &probes, &m));
  /* The public data must be this key's: L = alpha*G. */
  uint8_t L[32];
  crypto_scalarmult_ristretto255_base(L, key->alpha);
  int mine = memcmp(L, pd + 48, 32) == 0;
  sodium_memzero(L, sizeof L);
  if (!mine)
    return VOUCH_E_PSI_PARAMS;
  vouch_psi_server *srv = vouch__calloc(1, sizeof *srv);
  if (!srv)
    return VOUCH_E_NOMEM;
  srv->key = key;
  srv->probes = probes;
  srv->scheme = scheme;
  vouch__pd_id(pd, pd_len, srv->pdid);
  *out = srv;
  return VOUCH_OK;
}

void vouch_psi_server_free(vouch_psi_server *srv) {
  if (!srv)
    return;
  if (srv->op)
    sodium_memzero(srv->op, srv->opcap * sizeof *srv->op);
  if (srv->payloads)
    sodium_memzero(srv->payloads, srv->opcap * sizeof *srv->payloads);
  vouch__free(srv->ids);
  vouch__free(srv->op);
  vouch__free(srv->dhf);
  vouch__free(srv->payloads);
  vouch__free(srv);
}

/* ---- voucher id set (replays) ---- */

static size_t id_slot(const uint8_t id[16], size_t cap) {
  return (size_t)(vouch__load64_le(id) & (cap - 1));
}

static int id_seen(const vouch_psi_server *srv, const uint8_t id[16]) {
  static const uint8_t zero[16];
  if (memcmp(id, zero, 16) == 0)
    return srv->zero_id_seen;
  if (!srv->ids_cap)
    return 0;
  for (size_t i = id_slot(id, srv->ids_cap);; i = (i + 1) & (srv->ids_cap - 1)) {
    const uint8_t *e = srv->ids + 16 * i;
    if (memcmp(e, zero, 16) == 0)
      return 0;
    if (memcmp(e, id, 16) == 0)
      return 1;
  }
}

static int id_insert(vouch_psi_server *srv, const uint8_t id[16]) {
  static const uint8_t zero[16];
  if (memcmp(id, zero, 16) == 0) {
    srv->zero_id_seen = 1;
    return VOUCH_OK;
  }
  if ((srv->ids_n + 1) * 2 > srv->ids_cap) { /* keep load <= 1/2 */
    size_t ncap = srv->ids_cap ? srv->ids_cap * 2 : 64;
    uint8_t *n = vouch__calloc(ncap, 16);
    if (!n)
      return VOUCH_E_NOMEM;
    for (size_t i = 0; i < srv->ids_cap; i++) {
      const uint8_t *e = srv->ids + 16 * i;
      if (memcmp(e, zero, 16) == 0)
        continue;
      size_t j = id_slot(e, ncap);
      while (memcmp(n + 16 * j, zero, 16) != 0)
        j = (j + 1) & (ncap - 1);
      memcpy(n + 16 * j, e, 16);
    }
    vouch__free(srv->ids);
    srv->ids = n;
    srv->ids_cap = ncap;
  }
  size_t j = id_slot(id, srv->ids_cap);
  while (memcmp(srv->ids + 16 * j, zero, 16) != 0)
    j = (j + 1) & (srv->ids_cap - 1);
  memcpy(srv->ids + 16 * j, id, 16);
  srv->ids_n++;
  return VOUCH_OK;
}

/* ---- adding a voucher ---- */

static int grow_opened(vouch_psi_server *srv) {
  if (srv->nop < srv->opcap)
    return VOUCH_OK;
  size_t ncap = srv->opcap ? srv->opcap * 2 : 16;
  opened *op = vouch__calloc(ncap, sizeof *op);
  uint64_t *d = vouch__calloc(ncap, sizeof(uint64_t) * srv->s);
  vouch_psi_payload *pl = vouch__calloc(ncap, sizeof *pl);
  if (!op || !d || !pl) {
    vouch__free(op);
    vouch__free(d);
    vouch__free(pl);
    return VOUCH_E_NOMEM;
  }
  if (srv->nop) {
    memcpy(op, srv->op, srv->nop * sizeof *op);
    memcpy(d, srv->dhf, srv->nop * sizeof(uint64_t) * srv->s);
    memcpy(pl, srv->payloads, srv->nop * sizeof *pl);
    sodium_memzero(srv->op, srv->opcap * sizeof *srv->op);
    sodium_memzero(srv->payloads, srv->opcap * sizeof *srv->payloads);
  }
  vouch__free(srv->op);
  vouch__free(srv->dhf);
  vouch__free(srv->payloads);
  srv->op = op;
  srv->dhf = d;
  srv->payloads = pl;
  srv->opcap = ncap;
  return VOUCH_OK;
}


/* The fixed fields of a voucher header (docs/protocol.md section 6). */
static int header_check(const uint8_t *v, size_t len) {
  static const uint8_t zero3[3];
  if (!v || len < 5 || memcmp(v, VOUCH__V_MAGIC, 4) != 0)
    return VOUCH_E_PSI_FORMAT;
  if (v[4] < VOUCH__V_VERSION)
    return VOUCH_E_PSI_VERSION; /* version 1: exact keys, two slots; never misread it */
  if (len < VOUCH__V_HEADER || v[4] != VOUCH__V_VERSION || v[5] != 0 || memcmp(v + 13, zero3, 3) != 0)
    return VOUCH_E_PSI_FORMAT;
  return VOUCH_OK;
}

int vouch_psi_voucher_id(const uint8_t *voucher, size_t len, uint8_t id[VOUCH_PSI_ID_BYTES]) {
  VOUCH_TRY(header_check(voucher, len));
  memcpy(id, voucher + VOUCH__V_ID_OFF, VOUCH_PSI_ID_BYTES);
  return VOUCH_OK;
}

int vouch_psi_server_add(vouch_psi_server *srv, const uint8_t *v, size_t len, int *status,
                         size_t *index) {
  uint8_t S[32], K[32], rkey[32], rk[32], share_rkey[32];
  static const uint8_t zero_nonce[24];
  uint8_t *share = NULL;
  int rc = VOUCH_OK;
  *status = VOUCH_PSI_NOT_OPENED;
  *index = 0;
  VOUCH_TRY(header_check(v, len));
  unsigned t = vouch__load16_le(v + 6), s = vouch__load16_le(v + 8), P = vouch__load16_le(v + 10);
  if (t < 1 || t > VOUCH_PSI_THRESHOLD_MAX || s < 1 || s > VOUCH_PSI_DHF_MAX || P != srv->probes ||
      v[12] != srv->scheme || len != VOUCH_PSI_VOUCHER_BYTES(s, P) ||
      memcmp(v + 16, srv->pdid, 16) != 0)
    return VOUCH_E_PSI_FORMAT;
  const size_t inner_off = VOUCH__V_INNER_OFF(P);
  if (srv->have_params && (t != srv->t || s != srv->s || memcmp(v + 32, srv->account, 16) != 0))
    return VOUCH_E_PSI_PARAMS;
  if (srv->nv >= VOUCH_PSI_ACCOUNT_VOUCHERS_MAX)
    return VOUCH_E_LIMIT;

  /* Replays are recognised by a digest of the whole voucher, not by its id
   * field alone, so a forged copy with the same id cannot shadow the real one. */
  uint8_t vid[16];
  vouch__kdf_part whole = {v, len};
  vouch__kdf(vid, 16, "replay", NULL, 0, &whole, 1);
  if (id_seen(srv, vid)) { /* a replay: counted once */
    *status = VOUCH_PSI_DUPLICATE;
    *index = srv->nv++;
    return VOUCH_OK;
  }

  /* Outer layer: alpha*Q for every one of the 2P positions (all of them,
   * so the number of slots that open is known). */
  int opened_at = -1, bad_point = 0;
  unsigned n_open = 0;
  for (size_t pos = 0; pos < 2U * (size_t)P; pos++) {
    const uint8_t *Q = v + VOUCH__V_HEADER + VOUCH__V_SLOT * pos;
    int f = crypto_scalarmult_ristretto255(S, srv->key->alpha, Q);
    VOUCH__CT_PUBLIC(&f, sizeof f); /* fails iff Q is not a valid point: public */
    if (f != 0) {
      bad_point = 1;
      continue;
    }
    vouch__kdf_part parts[3] = {{S, 32}, {Q, 32}, {v, VOUCH__V_HEADER}};
    vouch__kdf(K, 32, "wrap", NULL, 0, parts, 3);
    if (vouch__open(rk, K, zero_nonce, v, VOUCH__V_HEADER, Q + 32, VOUCH__V_WRAP) == 0) {
      n_open++;
      if (opened_at < 0) {
        opened_at = (int)pos;
        memcpy(rkey, rk, 32);
      }
    }
  }
  sodium_memzero(S, sizeof S);
  sodium_memzero(K, sizeof K);
  sodium_memzero(rk, sizeof rk);
  if (bad_point) {
    rc = VOUCH_E_PSI_FORMAT;
    goto done;
  }
  if (opened_at < 0) {
    /* Not opened: its header is unauthenticated, so it does not fix the
     * account's parameters (only an opened voucher does). */
    rc = id_insert(srv, vid);
    if (rc != VOUCH_OK)
      goto done;
    *index = srv->nv++;
    goto done;
  }

  /* Inner layer. */
  size_t share_len = VOUCH__SHARE_BYTES(s);
  share = vouch__malloc(share_len);
  if (!share) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  memcpy(share_rkey, rkey, 32);
  if (vouch__open(share, share_rkey, zero_nonce, v, inner_off, v + inner_off, len - inner_off) != 0) {
    rc = VOUCH_E_PSI_AUTH; /* the outer layer opened: this is a forgery */
    goto done;
  }
  VOUCH__CT_PUBLIC(share, share_len); /* the server is entitled to an opened share */
  uint64_t x = vouch__load64_le(share);
  int malformed = x == 0 || x >= VOUCH__P61 || !vouch__scalar_canonical(share + 8);
  for (unsigned j = 0; j < s; j++)
    malformed |= vouch__load64_le(share + 40 + 8 * (size_t)j) >= VOUCH__P61;
  if (malformed) {
    rc = VOUCH_E_PSI_FORMAT;
    goto done;
  }
  if (!srv->have_params) {
    srv->have_params = 1;
    srv->t = t;
    srv->s = s;
    memcpy(srv->account, v + 32, 16);
  }
  /* Same x: the same photo key again (or a collision of 2^-61): counted once. */
  for (size_t i = 0; i < srv->nop; i++) {
    if (srv->op[i].x == x) {
      rc = id_insert(srv, vid);
      if (rc == VOUCH_OK) {
        *status = VOUCH_PSI_DUPLICATE;
        *index = srv->nv++;
      }
      goto done;
    }
  }
  rc = grow_opened(srv);
  if (rc == VOUCH_OK)
    rc = id_insert(srv, vid);
  if (rc != VOUCH_OK)
    goto done;
  opened *o = &srv->op[srv->nop];
  memset(o, 0, sizeof *o);
  o->index = srv->nv;
  o->x = x;
  o->slots_opened = n_open;
  o->confirmed = -1;
  memcpy(o->y, share + 8, 32);
  memcpy(o->header, v, VOUCH__V_HEADER);
  memcpy(o->pct, share + 40 + 8 * (size_t)s, VOUCH__PAYLOAD_CT);
  for (unsigned j = 0; j < s; j++)
    srv->dhf[srv->nop * s + j] = vouch__load64_le(share + 40 + 8 * (size_t)j);
  srv->nop++;
  *status = VOUCH_PSI_OPENED;
  *index = srv->nv++;
done:
  sodium_memzero(rkey, sizeof rkey);
  sodium_memzero(share_rkey, sizeof share_rkey);
  if (share) {
    sodium_memzero(share, VOUCH__SHARE_BYTES(s));
    vouch__free(share);
  }
  return rc;
}

/* ---- detection (DHF) ---- */

/* Marks in real[] the opened rows that take part in a linear dependency of
 * the rows (1, x, ..., x^(t-1), d_1, ..., d_s).  Works on the transpose
 * (c x N, c = t + s): its null space is the rows' left kernel.  Reduced row
 * echelon form; each free column f gives the kernel vector with w_f = 1 and
 * w_(pivot of row r) = -M[r][f]; the union of their supports is the answer.
 * @return the number of rows marked, or -1 when out of memory. */
static long dhf_detect(const vouch_psi_server *srv, size_t N, int *real) {
  size_t t = srv->t, s = srv->s, c = t + s;
  uint64_t *M = vouch__malloc(sizeof(uint64_t) * c * N);
  size_t *pivcol = vouch__malloc(sizeof(size_t) * (c < N ? c : N) + 1);
  uint8_t *is_piv = vouch__calloc(N ? N : 1, 1);
  if (!M || !pivcol || !is_piv) {
    vouch__free(M);
    vouch__free(pivcol);
    vouch__free(is_piv);
    return -1;
  }
  for (size_t i = 0; i < N; i++) {
    uint64_t p = 1;
    for (size_t k = 0; k < t; k++) {
      M[k * N + i] = p;
      p = vouch__gf_mul(p, srv->op[i].x);
    }
    for (size_t j = 0; j < s; j++)
      M[(t + j) * N + i] = srv->dhf[i * s + j];
  }
  size_t rank = 0;
  for (size_t col = 0; col < N && rank < c; col++) {
    size_t r = rank;
    while (r < c && M[r * N + col] == 0)
      r++;
    if (r == c)
      continue;
    if (r != rank)
      for (size_t k = 0; k < N; k++) {
        uint64_t tmp = M[r * N + k];
        M[r * N + k] = M[rank * N + k];
        M[rank * N + k] = tmp;
      }
    uint64_t inv = vouch__gf_inv(M[rank * N + col]);
    for (size_t k = col; k < N; k++)
      M[rank * N + k] = vouch__gf_mul(M[rank * N + k], inv);
    for (size_t r2 = 0; r2 < c; r2++) {
      uint64_t f = M[r2 * N + col];
      if (r2 == rank || f == 0)
        continue;
      for (size_t k = col; k < N; k++)
        M[r2 * N + k] = vouch__gf_sub(M[r2 * N + k], vouch__gf_mul(f, M[rank * N + k]));
    }
    pivcol[rank++] = col;
    is_piv[col] = 1;
  }
  long count = 0;
  for (size_t i = 0; i < N; i++)
    real[i] = 0;
  for (size_t f = 0; f < N; f++) {
    if (is_piv[f])
      continue;
    real[f] = 1;
    for (size_t r = 0; r < rank; r++)
      if (M[r * N + f] != 0)
        real[pivcol[r]] = 1;
  }
  for (size_t i = 0; i < N; i++)
    count += real[i];
  vouch__free(M);
  vouch__free(pivcol);
  vouch__free(is_piv);
  return count;
}

/* f(0) from t+1 shares (x_i, y_i) by Lagrange interpolation in the scalar field:
 * f(0) = sum_i y_i * prod_(j != i) x_j / (x_j - x_i). */
static int interpolate0(const vouch_psi_server *srv, const size_t *idx, size_t n, uint8_t a0[32]) {
  uint8_t xi[32], xj[32], num[32], den[32], tmp[32], term[32];
  memset(a0, 0, 32);
  for (size_t i = 0; i < n; i++) {
    memset(xi, 0, 32);
    vouch__store64_le(xi, srv->op[idx[i]].x);
    memset(num, 0, 32);
    num[0] = 1;
    memcpy(den, num, 32);
    for (size_t j = 0; j < n; j++) {
      if (j == i)
        continue;
      memset(xj, 0, 32);
      vouch__store64_le(xj, srv->op[idx[j]].x);
      crypto_core_ristretto255_scalar_mul(num, num, xj);
      crypto_core_ristretto255_scalar_sub(tmp, xj, xi);
      crypto_core_ristretto255_scalar_mul(den, den, tmp);
    }
    if (crypto_core_ristretto255_scalar_invert(tmp, den) != 0)
      return -1; /* equal x: cannot happen after deduplication */
    crypto_core_ristretto255_scalar_mul(term, num, tmp);
    crypto_core_ristretto255_scalar_mul(term, term, srv->op[idx[i]].y);
    crypto_core_ristretto255_scalar_add(a0, a0, term);
  }
  sodium_memzero(term, sizeof term);
  return 0;
}

static int payload_decode(const uint8_t *in, vouch_psi_payload *p) {
  memset(p, 0, sizeof *p);
  p->algo = in[0];
  p->hash_len = in[1];
  p->thumb_w = in[2];
  p->thumb_h = in[3];
  if (p->hash_len < 1 || p->hash_len > VOUCH_PSI_HASH_MAX_BYTES ||
      p->thumb_w > VOUCH_PSI_THUMB_SIDE || p->thumb_h > VOUCH_PSI_THUMB_SIDE ||
      (p->thumb_w == 0) != (p->thumb_h == 0))
    return -1;
  memcpy(p->match_key, in + 4, 32);
  memcpy(p->hash, in + 36, p->hash_len);
  memcpy(p->thumb, in + 68, (size_t)p->thumb_w * p->thumb_h);
  return 0;
}

int vouch_psi_server_reveal(vouch_psi_server *srv, vouch_psi_summary *sum) {
  int rc = VOUCH_OK;
  memset(sum, 0, sizeof *sum);
  sum->vouchers = srv->nv;
  sum->opened = srv->nop;
  srv->crossed = 0;
  srv->nreal = 0;
  for (size_t i = 0; i < srv->nop; i++) {
    srv->op[i].real = 0;
    srv->op[i].confirmed = -1;
    sum->multi_opened += srv->op[i].slots_opened > 1;
  }
  if (!srv->have_params || srv->nop <= srv->t)
    return VOUCH_OK;

  int *real = vouch__malloc(sizeof(int) * srv->nop);
  size_t *idx = vouch__malloc(sizeof(size_t) * (srv->t + 1));
  uint8_t *plain = vouch__malloc(VOUCH__PAYLOAD_BYTES);
  uint8_t a0[32], adkey[32];
  if (!real || !idx || !plain) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  /* Detection needs only t+s+1 rows: an honest client sends at most s
   * synthetic vouchers, so among any t+s+1 openings at least t+1 are real.
   * This bounds the work and memory by the parameters, not by the number
   * of vouchers; the payload decryptions below classify every opening. */
  size_t rows = srv->nop < (size_t)srv->t + srv->s + 1 ? srv->nop : (size_t)srv->t + srv->s + 1;
  long nd = dhf_detect(srv, rows, real);
  if (nd < 0) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  if ((size_t)nd < (size_t)srv->t + 1)
    goto done; /* t or fewer real shares (or too many synthetic ones): nothing */
  size_t k = 0;
  for (size_t i = 0; i < rows && k <= srv->t; i++)
    if (real[i])
      idx[k++] = i;
  if (interpolate0(srv, idx, k, a0) != 0)
    goto done;
  vouch__kdf_part part = {a0, 32};
  vouch__kdf(adkey, 32, "adkey", NULL, 0, &part, 1);
  for (size_t i = 0; i < srv->nop; i++) {
    const uint8_t *pct = srv->op[i].pct;
    if (vouch__open(plain, adkey, pct, srv->op[i].header, VOUCH__V_HEADER,
                    pct + VOUCH__NONCE_BYTES, VOUCH__PAYLOAD_CT - VOUCH__NONCE_BYTES) != 0)
      continue;
    if (payload_decode(plain, &srv->payloads[i]) != 0)
      continue;
    srv->op[i].real = 1;
    srv->nreal++;
  }
  if (srv->nreal > 0) {
    srv->crossed = 1;
    sum->threshold_crossed = 1;
    sum->real = srv->nreal;
    sum->synthetic = srv->nop - srv->nreal;
  }
done:
  sodium_memzero(a0, sizeof a0);
  sodium_memzero(adkey, sizeof adkey);
  if (plain)
    sodium_memzero(plain, VOUCH__PAYLOAD_BYTES);
  vouch__free(real);
  vouch__free(idx);
  vouch__free(plain);
  return rc;
}

int vouch_psi_server_payload(const vouch_psi_server *srv, size_t index, vouch_psi_payload *out) {
  if (!srv->crossed)
    return VOUCH_E_NOT_FOUND;
  for (size_t i = 0; i < srv->nop; i++)
    if (srv->op[i].index == index && srv->op[i].real) {
      *out = srv->payloads[i];
      return VOUCH_OK;
    }
  return VOUCH_E_NOT_FOUND;
}

int vouch_psi_server_info(const vouch_psi_server *srv, size_t index, vouch_psi_voucher_info *out) {
  if (!srv || !out || index >= srv->nv)
    return VOUCH_E_NOT_FOUND;
  memset(out, 0, sizeof *out);
  out->confirmed = -1;
  for (size_t i = 0; i < srv->nop; i++)
    if (srv->op[i].index == index) {
      out->slots_opened = srv->op[i].slots_opened;
      out->real = srv->crossed && srv->op[i].real;
      out->confirmed = out->real ? srv->op[i].confirmed : -1;
      out->distance = srv->op[i].distance;
    }
  return VOUCH_OK;
}

static unsigned hamming(const uint8_t *a, const uint8_t *b, size_t n) {
  unsigned d = 0;
  for (size_t i = 0; i < n; i++)
    d += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
  return d;
}

int vouch_psi_server_confirm(vouch_psi_server *srv, const uint8_t *hashes, size_t hash_len,
                             size_t n, unsigned radius, vouch_psi_summary *sum) {
  if (!srv || (n > 0 && !hashes) || hash_len < 1 || hash_len > VOUCH_PSI_HASH_MAX_BYTES)
    return VOUCH_E_INVALID;
  size_t confirmed = 0, collisions = 0;
  for (size_t i = 0; i < srv->nop; i++) {
    opened *o = &srv->op[i];
    if (!srv->crossed || !o->real)
      continue;
    const vouch_psi_payload *p = &srv->payloads[i];
    unsigned best = UINT32_MAX;
    if (p->hash_len == hash_len)
      for (size_t e = 0; e < n && best > 0; e++) {
        unsigned dist = hamming(p->hash, hashes + hash_len * e, hash_len);
        if (dist < best)
          best = dist;
      }
    o->distance = best;
    o->confirmed = best <= radius;
    confirmed += o->confirmed == 1;
    collisions += o->confirmed == 0;
  }
  if (sum) {
    sum->confirmed = confirmed;
    sum->collisions = collisions;
  }
  return VOUCH_OK;
}
