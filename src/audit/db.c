/* src/audit/db.c -- the audited table (vouch/audit.h; format in docs/audit.md).
 *
 * The table is an append-only sequence of leaves, each the addition or the
 * removal of one hash in some database version.  Replaying the leaves gives
 * the live set.  Because versions only append, the RFC 9162 consistency
 * proof between two versions' tree heads shows that nothing listed before
 * was rewritten; the appended leaves themselves say what was added or
 * removed, and a parser re-checks every one of them. */
#include <sodium.h>
#include "audit_internal.h"
#include "vouch/hash.h"

static const uint8_t DB_MAGIC[8] = {'V', 'C', 'H', 'A', 'D', 'B', '0', '1'};
#define DB_HEADER_BYTES 28U
#define SRC_REC_BYTES 222U
#define LEAF_FIXED 18U /* op(1) algo(1) version(8) sources(8); plus the hash */

struct vouch_audit_db {
  uint64_t version;
  int algo;
  size_t hb, leaf_len;
  vouch_audit_policy policy;
  size_t nsources;
  vouch_audit_source_record src[VOUCH_AUDIT_SOURCES_MAX];
  char jur[VOUCH_AUDIT_SOURCES_MAX][3];
  uint64_t nleaves;
  uint8_t *leaves;
  uint8_t root[VOUCH_MERKLE_HASH_BYTES];
  uint64_t nlive;
  uint64_t *live; /* leaf numbers of the live additions, sorted by hash */
};

void vouch_audit_db_free(vouch_audit_db *db) {
  if (!db)
    return;
  vouch__free(db->leaves);
  vouch__free(db->live);
  vouch__free(db);
}

/* ----------------------------------------------------------- accessors */

uint64_t vouch_audit_db_version(const vouch_audit_db *db) { return db->version; }
int vouch_audit_db_algo(const vouch_audit_db *db) { return db->algo; }
vouch_audit_policy vouch_audit_db_policy(const vouch_audit_db *db) { return db->policy; }
uint64_t vouch_audit_db_size(const vouch_audit_db *db) { return db->nleaves; }
uint64_t vouch_audit_db_live_count(const vouch_audit_db *db) { return db->nlive; }
size_t vouch_audit_db_nsources(const vouch_audit_db *db) { return db->nsources; }
void vouch_audit_db_root(const vouch_audit_db *db, uint8_t root[VOUCH_MERKLE_HASH_BYTES]) {
  memcpy(root, db->root, VOUCH_MERKLE_HASH_BYTES);
}

int vouch_audit_db_source(const vouch_audit_db *db, size_t i, vouch_audit_source_record *out) {
  if (i >= db->nsources)
    return VOUCH_E_INVALID;
  *out = db->src[i];
  return VOUCH_OK;
}

static const uint8_t *leaf_at(const vouch_audit_db *db, uint64_t i) { return db->leaves + i * db->leaf_len; }
static const uint8_t *leaf_hash_field(const vouch_audit_db *db, uint64_t i) { return leaf_at(db, i) + 10; }

const uint8_t *vouch_audit_db_leaf_bytes(const vouch_audit_db *db, uint64_t i, size_t *len) {
  if (i >= db->nleaves)
    return NULL;
  if (len)
    *len = db->leaf_len;
  return leaf_at(db, i);
}

int vouch_audit_db_leaf(const vouch_audit_db *db, uint64_t i, vouch_audit_leaf *out) {
  if (i >= db->nleaves)
    return VOUCH_E_INVALID;
  const uint8_t *p = leaf_at(db, i);
  out->op = p[0];
  out->db_version = vouch__load64_le(p + 2);
  out->hash = p + 10;
  out->sources = vouch__load64_le(p + 10 + db->hb);
  return VOUCH_OK;
}

/* ------------------------------------------------------ source records */

static void src_encode(const vouch_audit_source_record *r, uint8_t *p) {
  size_t n = strlen(r->source.name);
  memset(p, 0, SRC_REC_BYTES);
  memcpy(p, r->source.pk, 32);
  p[32] = (uint8_t)r->source.jurisdiction[0];
  p[33] = (uint8_t)r->source.jurisdiction[1];
  p[34] = (uint8_t)n;
  memcpy(p + 35, r->source.name, n);
  p[99] = (uint8_t)(r->has_list ? 1 : 0);
  if (!r->has_list)
    return;
  vouch__store64_le(p + 100, r->list_version);
  memcpy(p + 108, r->date, VOUCH_AUDIT_DATE_BYTES);
  vouch__store64_le(p + 118, r->count);
  memcpy(p + 126, r->hashes_digest, 32);
  memcpy(p + 158, r->signature, 64);
}

static int all_zero(const uint8_t *p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++)
    acc |= p[i];
  return acc == 0;
}

static int src_decode(const uint8_t *p, vouch_audit_source_record *r) {
  memset(r, 0, sizeof *r);
  r->source.role = VOUCH_AUDIT_ROLE_SOURCE;
  memcpy(r->source.pk, p, 32);
  r->source.jurisdiction[0] = (char)p[32];
  r->source.jurisdiction[1] = (char)p[33];
  size_t n = p[34];
  if (!vouch__valid_jurisdiction(r->source.jurisdiction) || !vouch__valid_name((const char *)p + 35, n) ||
      !all_zero(p + 35 + n, VOUCH_AUDIT_NAME_MAX - n) || p[99] > 1)
    return VOUCH_E_AUDIT_FORMAT;
  memcpy(r->source.name, p + 35, n);
  r->has_list = p[99];
  if (!r->has_list)
    return all_zero(p + 100, SRC_REC_BYTES - 100) ? VOUCH_OK : VOUCH_E_AUDIT_FORMAT;
  r->list_version = vouch__load64_le(p + 100);
  memcpy(r->date, p + 108, VOUCH_AUDIT_DATE_BYTES);
  if (!vouch__valid_date(r->date))
    return VOUCH_E_AUDIT_FORMAT;
  r->count = vouch__load64_le(p + 118);
  memcpy(r->hashes_digest, p + 126, 32);
  memcpy(r->signature, p + 158, 64);
  return VOUCH_OK;
}

void vouch_audit_db_sources_digest(const vouch_audit_db *db, uint8_t d[VOUCH_AUDIT_DIGEST_BYTES]) {
  crypto_hash_sha256_state st;
  uint8_t rec[SRC_REC_BYTES];
  crypto_hash_sha256_init(&st);
  for (size_t i = 0; i < db->nsources; i++) {
    src_encode(&db->src[i], rec);
    crypto_hash_sha256_update(&st, rec, sizeof rec);
  }
  crypto_hash_sha256_final(&st, d);
}

int vouch_audit_db_verify_sources(const vouch_audit_db *db, size_t *bad) {
  for (size_t i = 0; i < db->nsources; i++) {
    const vouch_audit_source_record *r = &db->src[i];
    if (!r->has_list)
      continue;
    uint8_t sd[32];
    vouch__list_signed_digest(&r->source, r->list_version, r->date, db->algo, r->count, r->hashes_digest, sd);
    if (vouch__verify_digest(VOUCH__CTX_LIST, sd, r->source.pk, r->signature) != VOUCH_OK) {
      if (bad)
        *bad = i;
      return VOUCH_E_AUDIT_SIGNATURE;
    }
  }
  return VOUCH_OK;
}

/* ------------------------------------------------ replay and validation */

static int cmp_leaf_by_hash(const void *a, const void *b, const void *ctx) {
  const vouch_audit_db *db = ctx;
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  int c = memcmp(leaf_hash_field(db, x), leaf_hash_field(db, y), db->hb);
  if (c)
    return c;
  return (x > y) - (x < y);
}

/* Checks each leaf on its own and the canonical order, then replays the
 * additions and removals hash by hash and builds the live index. */
static int replay(vouch_audit_db *db) {
  uint64_t prev_version = 1;
  for (uint64_t i = 0; i < db->nleaves; i++) {
    const uint8_t *p = leaf_at(db, i);
    uint64_t v = vouch__load64_le(p + 2);
    uint64_t mask = vouch__load64_le(p + 10 + db->hb);
    if ((p[0] != VOUCH_AUDIT_OP_ADD && p[0] != VOUCH_AUDIT_OP_REMOVE) || p[1] != db->algo || v == 0 ||
        v > db->version || v < prev_version)
      return VOUCH_E_AUDIT_FORMAT;
    if (db->nsources < 64 && (mask >> db->nsources) != 0)
      return VOUCH_E_AUDIT_FORMAT;
    /* Within one version: removals then additions, each sorted by hash. */
    if (i > 0 && v == prev_version) {
      const uint8_t *q = leaf_at(db, i - 1);
      int rq = q[0] == VOUCH_AUDIT_OP_REMOVE ? 0 : 1, rp = p[0] == VOUCH_AUDIT_OP_REMOVE ? 0 : 1;
      int c = rq != rp ? rq - rp : memcmp(q + 10, p + 10, db->hb);
      if (c >= 0)
        return VOUCH_E_AUDIT_FORMAT;
    }
    if (p[0] == VOUCH_AUDIT_OP_ADD && !vouch__policy_met(mask, (const char(*)[3])db->jur, db->nsources, db->policy))
      return VOUCH_E_AUDIT_POLICY;
    prev_version = v;
  }
  uint64_t *idx = vouch__malloc((size_t)(db->nleaves ? db->nleaves : 1) * sizeof *idx);
  if (!idx)
    return VOUCH_E_NOMEM;
  for (uint64_t i = 0; i < db->nleaves; i++)
    idx[i] = i;
  int rc = vouch__sort(idx, (size_t)db->nleaves, sizeof *idx, cmp_leaf_by_hash, db);
  uint64_t nlive = 0;
  for (uint64_t g = 0; rc == VOUCH_OK && g < db->nleaves;) {
    uint64_t e = g;
    int expect = VOUCH_AUDIT_OP_ADD;
    while (e < db->nleaves && memcmp(leaf_hash_field(db, idx[g]), leaf_hash_field(db, idx[e]), db->hb) == 0) {
      if (leaf_at(db, idx[e])[0] != expect) {
        rc = VOUCH_E_AUDIT_FORMAT; /* removal of a non-live hash, or addition of a live one */
        break;
      }
      expect = expect == VOUCH_AUDIT_OP_ADD ? VOUCH_AUDIT_OP_REMOVE : VOUCH_AUDIT_OP_ADD;
      e++;
    }
    if (rc == VOUCH_OK && leaf_at(db, idx[e - 1])[0] == VOUCH_AUDIT_OP_ADD)
      idx[nlive++] = idx[e - 1]; /* nlive <= g: never overwrites an unread slot */
    g = e;
  }
  if (rc != VOUCH_OK) {
    vouch__free(idx);
    return rc;
  }
  vouch__free(db->live);
  db->live = idx;
  db->nlive = nlive;
  return VOUCH_OK;
}

/* --------------------------------------------------------------- build */

static int cmp_pk(const void *a, const void *b, const void *ctx) {
  (void)ctx;
  return memcmp(((const vouch_audit_identity *)a)->pk, ((const vouch_audit_identity *)b)->pk, 32);
}

static void put_leaf(uint8_t *p, int op, int algo, uint64_t version, const uint8_t *hash, size_t hb,
                     uint64_t mask) {
  p[0] = (uint8_t)op;
  p[1] = (uint8_t)algo;
  vouch__store64_le(p + 2, version);
  memcpy(p + 10, hash, hb);
  vouch__store64_le(p + 10 + hb, mask);
}

static int policy_ok(vouch_audit_policy p) {
  return p.min_sources >= 1 && p.min_sources <= VOUCH_AUDIT_SOURCES_MAX && p.distinct_jurisdictions <= 1;
}

int vouch_audit_db_build(vouch_audit_db **out, const vouch_audit_db *prev, const vouch_audit_list *lists,
                         size_t nlists, vouch_audit_policy policy) {
  if (!out || !policy_ok(policy) || (nlists && !lists))
    return VOUCH_E_INVALID;
  *out = NULL;
  if (prev && (prev->policy.min_sources != policy.min_sources ||
               prev->policy.distinct_jurisdictions != policy.distinct_jurisdictions))
    return VOUCH_E_AUDIT_POLICY;
  int algo = prev ? prev->algo : (nlists ? lists[0].algo : 0);
  size_t hb = vouch_algo_bytes(algo);
  if (hb == 0)
    return VOUCH_E_INVALID;
  if (nlists > VOUCH_AUDIT_SOURCES_MAX)
    return VOUCH_E_LIMIT;

  vouch_audit_db *db = vouch__calloc(1, sizeof *db);
  if (!db)
    return VOUCH_E_NOMEM;
  db->version = prev ? prev->version + 1 : 1;
  db->algo = algo;
  db->hb = hb;
  db->leaf_len = LEAF_FIXED + hb;
  db->policy = policy;
  int rc = VOUCH_OK;
  vouch_audit_attestation *att = NULL;
  vouch_audit_selected *all = NULL;
  uint8_t *leaves = NULL;
  int list_of[VOUCH_AUDIT_SOURCES_MAX];

  /* Number the sources: prev's keep theirs, new ones follow in key order. */
  vouch_audit_identity fresh[VOUCH_AUDIT_SOURCES_MAX];
  size_t nfresh = 0;
  if (prev) {
    db->nsources = prev->nsources;
    for (size_t i = 0; i < prev->nsources; i++)
      db->src[i].source = prev->src[i].source;
  }
  for (size_t l = 0; l < nlists; l++) {
    const vouch_audit_list *L = &lists[l];
    if (L->algo != algo || L->hash_bytes != hb || (L->count && !L->hashes)) {
      rc = VOUCH_E_ALGO_MISMATCH;
      goto fail;
    }
    for (size_t m = 0; m < l; m++)
      if (memcmp(lists[m].source.pk, L->source.pk, 32) == 0) {
        rc = VOUCH_E_INVALID; /* two lists from one source */
        goto fail;
      }
    size_t i = 0;
    while (i < db->nsources && memcmp(db->src[i].source.pk, L->source.pk, 32) != 0)
      i++;
    if (i < db->nsources) {
      if (memcmp(db->src[i].source.jurisdiction, L->source.jurisdiction, 2) != 0 ||
          strcmp(db->src[i].source.name, L->source.name) != 0) {
        rc = VOUCH_E_INVALID; /* a known key now claims another identity */
        goto fail;
      }
    } else {
      fresh[nfresh++] = L->source;
    }
  }
  if (db->nsources + nfresh > VOUCH_AUDIT_SOURCES_MAX) {
    rc = VOUCH_E_LIMIT;
    goto fail;
  }
  rc = vouch__sort(fresh, nfresh, sizeof fresh[0], cmp_pk, NULL);
  if (rc != VOUCH_OK)
    goto fail;
  for (size_t i = 0; i < nfresh; i++)
    db->src[db->nsources++].source = fresh[i];
  for (size_t i = 0; i < db->nsources; i++) {
    db->src[i].source.role = VOUCH_AUDIT_ROLE_SOURCE;
    memcpy(db->jur[i], db->src[i].source.jurisdiction, 3);
    list_of[i] = -1;
    for (size_t l = 0; l < nlists; l++)
      if (memcmp(lists[l].source.pk, db->src[i].source.pk, 32) == 0)
        list_of[i] = (int)l;
    if (list_of[i] >= 0) {
      const vouch_audit_list *L = &lists[list_of[i]];
      vouch_audit_source_record *r = &db->src[i];
      r->has_list = 1;
      r->list_version = L->list_version;
      memcpy(r->date, L->date, sizeof r->date);
      r->count = L->count;
      memcpy(r->hashes_digest, L->hashes_digest, 32);
      memcpy(r->signature, L->signature, 64);
    }
  }

  /* Every attestation, merged by hash. */
  size_t total = 0;
  for (size_t l = 0; l < nlists; l++) {
    if (!vouch__add_ok(total, (size_t)lists[l].count, &total)) {
      rc = VOUCH_E_LIMIT;
      goto fail;
    }
  }
  att = vouch__malloc((total ? total : 1) * sizeof *att);
  all = vouch__malloc((total ? total : 1) * sizeof *all);
  if (!att || !all) {
    rc = VOUCH_E_NOMEM;
    goto fail;
  }
  size_t k = 0;
  for (size_t i = 0; i < db->nsources; i++) {
    if (list_of[i] < 0)
      continue;
    const vouch_audit_list *L = &lists[list_of[i]];
    for (uint64_t j = 0; j < L->count; j++) {
      att[k].hash = L->hashes + j * hb;
      att[k].source = (uint32_t)i;
      memcpy(att[k].jurisdiction, db->jur[i], 2);
      k++;
    }
  }
  char jur_unused[VOUCH_AUDIT_SOURCES_MAX][3];
  size_t nall = 0;
  rc = vouch__attest_merge(att, total, hb, all, total, &nall, jur_unused);
  if (rc != VOUCH_OK)
    goto fail;

  /* Walk prev's live set and the attested set together (both sorted). */
  uint64_t pn = prev ? prev->nleaves : 0, plive = prev ? prev->nlive : 0;
  size_t cap_new;
  if (!vouch__add_ok((size_t)plive, nall, &cap_new) || pn + cap_new > VOUCH_AUDIT_LEAVES_MAX) {
    rc = VOUCH_E_LIMIT;
    goto fail;
  }
  leaves = vouch__malloc((size_t)(pn + cap_new ? pn + cap_new : 1) * db->leaf_len);
  if (!leaves) {
    rc = VOUCH_E_NOMEM;
    goto fail;
  }
  if (pn)
    memcpy(leaves, prev->leaves, (size_t)pn * db->leaf_len);
  uint64_t n = pn;
  /* Removals: live before, not (or no longer sufficiently) attested now. */
  size_t a = 0;
  for (uint64_t i = 0; i < plive; i++) {
    const uint8_t *h = leaf_hash_field(prev, prev->live[i]);
    while (a < nall && memcmp(all[a].hash, h, hb) < 0)
      a++;
    uint64_t mask = (a < nall && memcmp(all[a].hash, h, hb) == 0) ? all[a].sources : 0;
    if (!vouch__policy_met(mask, (const char(*)[3])db->jur, db->nsources, policy))
      put_leaf(leaves + n++ * db->leaf_len, VOUCH_AUDIT_OP_REMOVE, algo, db->version, h, hb, mask);
  }
  /* Additions: attested enough now, not live before. */
  uint64_t p = 0;
  for (size_t i = 0; i < nall; i++) {
    if (!vouch__policy_met(all[i].sources, (const char(*)[3])db->jur, db->nsources, policy))
      continue;
    while (p < plive && memcmp(leaf_hash_field(prev, prev->live[p]), all[i].hash, hb) < 0)
      p++;
    if (p < plive && memcmp(leaf_hash_field(prev, prev->live[p]), all[i].hash, hb) == 0)
      continue;
    put_leaf(leaves + n++ * db->leaf_len, VOUCH_AUDIT_OP_ADD, algo, db->version, all[i].hash, hb, all[i].sources);
  }
  db->leaves = leaves;
  leaves = NULL;
  db->nleaves = n;
  rc = replay(db);
  if (rc == VOUCH_OK)
    rc = vouch_merkle_root(db->leaves, (size_t)db->nleaves, db->leaf_len, db->root);
fail:
  vouch__free(att);
  vouch__free(all);
  vouch__free(leaves);
  if (rc != VOUCH_OK) {
    vouch_audit_db_free(db);
    return rc;
  }
  *out = db;
  return VOUCH_OK;
}

/* ------------------------------------------------------ encode / parse */

int vouch_audit_db_encode(const vouch_audit_db *db, uint8_t **out, size_t *out_len) {
  size_t len = DB_HEADER_BYTES + db->nsources * SRC_REC_BYTES + (size_t)db->nleaves * db->leaf_len +
               VOUCH_MERKLE_HASH_BYTES;
  uint8_t *p = vouch__malloc(len);
  if (!p)
    return VOUCH_E_NOMEM;
  memcpy(p, DB_MAGIC, 8);
  vouch__store64_le(p + 8, db->version);
  p[16] = (uint8_t)db->algo;
  p[17] = db->policy.min_sources;
  p[18] = db->policy.distinct_jurisdictions;
  p[19] = (uint8_t)db->nsources;
  vouch__store64_le(p + 20, db->nleaves);
  size_t o = DB_HEADER_BYTES;
  for (size_t i = 0; i < db->nsources; i++, o += SRC_REC_BYTES)
    src_encode(&db->src[i], p + o);
  if (db->nleaves)
    memcpy(p + o, db->leaves, (size_t)db->nleaves * db->leaf_len);
  o += (size_t)db->nleaves * db->leaf_len;
  memcpy(p + o, db->root, VOUCH_MERKLE_HASH_BYTES);
  *out = p;
  *out_len = len;
  return VOUCH_OK;
}

int vouch_audit_db_parse(vouch_audit_db **out, const uint8_t *buf, size_t len) {
  if (!buf || !out)
    return VOUCH_E_INVALID;
  *out = NULL;
  if (len < DB_HEADER_BYTES || memcmp(buf, DB_MAGIC, 6) != 0)
    return VOUCH_E_AUDIT_FORMAT;
  if (memcmp(buf + 6, DB_MAGIC + 6, 2) != 0)
    return VOUCH_E_DB_VERSION;
  vouch_audit_db *db = vouch__calloc(1, sizeof *db);
  if (!db)
    return VOUCH_E_NOMEM;
  int rc = VOUCH_E_AUDIT_FORMAT;
  db->version = vouch__load64_le(buf + 8);
  db->algo = buf[16];
  db->hb = vouch_algo_bytes(db->algo);
  db->leaf_len = LEAF_FIXED + db->hb;
  db->policy.min_sources = buf[17];
  db->policy.distinct_jurisdictions = buf[18];
  db->nsources = buf[19];
  db->nleaves = vouch__load64_le(buf + 20);
  if (db->version == 0 || db->hb == 0 || !policy_ok(db->policy) || db->nsources > VOUCH_AUDIT_SOURCES_MAX)
    goto fail;
  if (db->nleaves > VOUCH_AUDIT_LEAVES_MAX) {
    rc = VOUCH_E_LIMIT;
    goto fail;
  }
  size_t body = db->nsources * SRC_REC_BYTES + (size_t)db->nleaves * db->leaf_len + VOUCH_MERKLE_HASH_BYTES;
  if (len - DB_HEADER_BYTES != body)
    goto fail;
  size_t o = DB_HEADER_BYTES;
  for (size_t i = 0; i < db->nsources; i++, o += SRC_REC_BYTES) {
    rc = src_decode(buf + o, &db->src[i]);
    if (rc != VOUCH_OK)
      goto fail;
    memcpy(db->jur[i], db->src[i].source.jurisdiction, 3);
    for (size_t j = 0; j < i; j++)
      if (memcmp(db->src[j].source.pk, db->src[i].source.pk, 32) == 0) {
        rc = VOUCH_E_AUDIT_FORMAT;
        goto fail;
      }
  }
  db->leaves = vouch__malloc((size_t)(db->nleaves ? db->nleaves : 1) * db->leaf_len);
  if (!db->leaves) {
    rc = VOUCH_E_NOMEM;
    goto fail;
  }
  if (db->nleaves)
    memcpy(db->leaves, buf + o, (size_t)db->nleaves * db->leaf_len);
  o += (size_t)db->nleaves * db->leaf_len;
  rc = replay(db);
  if (rc != VOUCH_OK)
    goto fail;
  rc = vouch_merkle_root(db->leaves, (size_t)db->nleaves, db->leaf_len, db->root);
  if (rc != VOUCH_OK)
    goto fail;
  if (sodium_memcmp(db->root, buf + o, VOUCH_MERKLE_HASH_BYTES) != 0) {
    rc = VOUCH_E_AUDIT_PROOF;
    goto fail;
  }
  *out = db;
  return VOUCH_OK;
fail:
  vouch_audit_db_free(db);
  return rc;
}

/* ------------------------------------------------------ queries, proofs */

int vouch_audit_db_live(const vouch_audit_db *db, uint8_t *out, size_t out_cap) {
  if (out_cap / db->hb < db->nlive)
    return VOUCH_E_INVALID;
  for (uint64_t i = 0; i < db->nlive; i++)
    memcpy(out + i * db->hb, leaf_hash_field(db, db->live[i]), db->hb);
  return VOUCH_OK;
}

int vouch_audit_db_find(const vouch_audit_db *db, const uint8_t *hash, uint64_t *leaf_index) {
  uint64_t lo = 0, hi = db->nlive;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    int c = memcmp(leaf_hash_field(db, db->live[mid]), hash, db->hb);
    if (c == 0) {
      *leaf_index = db->live[mid];
      return VOUCH_OK;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return VOUCH_E_NOT_FOUND;
}

static int leaf_hashes(const vouch_audit_db *db, uint8_t **out) {
  uint8_t *lh = vouch__malloc((size_t)(db->nleaves ? db->nleaves : 1) * VOUCH_MERKLE_HASH_BYTES);
  if (!lh)
    return VOUCH_E_NOMEM;
  for (uint64_t i = 0; i < db->nleaves; i++)
    vouch_merkle_leaf_hash(leaf_at(db, i), db->leaf_len, lh + i * VOUCH_MERKLE_HASH_BYTES);
  *out = lh;
  return VOUCH_OK;
}

/* An inclusion proof of leaf k, or (consistency) a consistency proof from
 * the first k leaves, over the table's leaf hashes. */
static int prove(const vouch_audit_db *db, int consistency, uint64_t k,
                 uint8_t proof[VOUCH_MERKLE_PROOF_MAX * VOUCH_MERKLE_HASH_BYTES], size_t *proof_n) {
  uint8_t *lh;
  VOUCH_TRY(leaf_hashes(db, &lh));
  int rc = consistency ? vouch_merkle_consistency_proof(lh, db->nleaves, k, proof, proof_n)
                       : vouch_merkle_inclusion_proof(lh, db->nleaves, k, proof, proof_n);
  vouch__free(lh);
  return rc;
}

int vouch_audit_db_prove(const vouch_audit_db *db, uint64_t i,
                         uint8_t proof[VOUCH_MERKLE_PROOF_MAX * VOUCH_MERKLE_HASH_BYTES], size_t *proof_n) {
  if (i >= db->nleaves)
    return VOUCH_E_INVALID;
  return prove(db, 0, i, proof, proof_n);
}

int vouch_audit_db_consistency(const vouch_audit_db *db, uint64_t old_size,
                               uint8_t proof[VOUCH_MERKLE_PROOF_MAX * VOUCH_MERKLE_HASH_BYTES], size_t *proof_n) {
  if (old_size == 0 || old_size > db->nleaves)
    return VOUCH_E_INVALID;
  return prove(db, 1, old_size, proof, proof_n);
}

int vouch_audit_db_check_lists(const vouch_audit_db *db, const vouch_audit_db *prev,
                               const vouch_audit_list *lists, size_t nlists) {
  if ((db->version > 1) != (prev != NULL) || (prev && prev->version + 1 != db->version))
    return VOUCH_E_INVALID;
  vouch_audit_db *re = NULL;
  int rc = vouch_audit_db_build(&re, prev, lists, nlists, db->policy);
  if (rc == VOUCH_E_ALGO_MISMATCH || rc == VOUCH_E_INVALID)
    return VOUCH_E_AUDIT_POLICY;
  VOUCH_TRY(rc);
  uint8_t *a = NULL, *b = NULL;
  size_t al = 0, bl = 0;
  rc = vouch_audit_db_encode(db, &a, &al);
  if (rc == VOUCH_OK)
    rc = vouch_audit_db_encode(re, &b, &bl);
  if (rc == VOUCH_OK && (al != bl || memcmp(a, b, al) != 0))
    rc = VOUCH_E_AUDIT_POLICY;
  vouch__free(a);
  vouch__free(b);
  vouch_audit_db_free(re);
  return rc;
}
