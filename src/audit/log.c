/* src/audit/log.c -- signed tree heads, the log of heads, fork detection
 * (vouch/audit.h; formats in docs/audit.md). */
#include <sodium.h>
#include "audit_internal.h"
#include "vouch/hash.h"

static const uint8_t STH_MAGIC[8] = {'V', 'C', 'H', 'S', 'T', 'H', '0', '1'};
static const uint8_t LOG_MAGIC[8] = {'V', 'C', 'H', 'L', 'O', 'G', '0', '1'};
#define STH_SIGNED_BYTES 204U
#define LOG_HEADER_BYTES 48U

/* ------------------------------------------------------------ tree heads */

static void sth_body(const vouch_audit_sth *s, uint8_t *p) {
  memcpy(p, STH_MAGIC, 8);
  memcpy(p + 8, s->server_pk, 32);
  vouch__store64_le(p + 40, s->db_version);
  vouch__store64_le(p + 48, s->timestamp);
  vouch__store64_le(p + 56, s->tree_size);
  memcpy(p + 64, s->root, 32);
  p[96] = (uint8_t)s->algo;
  p[97] = s->policy.min_sources;
  p[98] = s->policy.distinct_jurisdictions;
  p[99] = s->nsources;
  memcpy(p + 100, s->sources_digest, 32);
  memcpy(p + 132, s->index_root, 32);
  memcpy(p + 164, s->psi_digest, 32);
  vouch__store64_le(p + 196, s->live_count);
}

static void sth_digest(const vouch_audit_sth *s, uint8_t d[32]) {
  uint8_t body[STH_SIGNED_BYTES];
  sth_body(s, body);
  crypto_hash_sha256(d, body, sizeof body);
}

static int sth_verify(const vouch_audit_sth *s) {
  uint8_t d[32];
  sth_digest(s, d);
  return vouch__verify_digest(VOUCH__CTX_STH, d, s->server_pk, s->signature);
}

int vouch_audit_sth_make(const vouch_audit_db *db, const vouch_audit_secret_key *server, uint64_t timestamp,
                         const uint8_t *index_root, const uint8_t *psi_digest, vouch_audit_sth *out) {
  if (!db || !server || !out || server->id.role != VOUCH_AUDIT_ROLE_SERVER)
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  memcpy(out->server_pk, server->id.pk, 32);
  out->db_version = vouch_audit_db_version(db);
  out->timestamp = timestamp;
  out->tree_size = vouch_audit_db_size(db);
  vouch_audit_db_root(db, out->root);
  out->algo = vouch_audit_db_algo(db);
  out->policy = vouch_audit_db_policy(db);
  out->nsources = (uint8_t)vouch_audit_db_nsources(db);
  vouch_audit_db_sources_digest(db, out->sources_digest);
  if (index_root)
    memcpy(out->index_root, index_root, 32);
  if (psi_digest)
    memcpy(out->psi_digest, psi_digest, 32);
  out->live_count = vouch_audit_db_live_count(db);
  uint8_t d[32];
  sth_digest(out, d);
  vouch__sign_digest(VOUCH__CTX_STH, d, server->sk, out->signature);
  return VOUCH_OK;
}

void vouch_audit_sth_encode(const vouch_audit_sth *sth, uint8_t out[VOUCH_AUDIT_STH_BYTES]) {
  sth_body(sth, out);
  memcpy(out + STH_SIGNED_BYTES, sth->signature, 64);
}

int vouch_audit_sth_decode(const uint8_t *buf, size_t len, vouch_audit_sth *out) {
  if (!buf || !out)
    return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  if (len < 8 || memcmp(buf, STH_MAGIC, 6) != 0)
    return VOUCH_E_AUDIT_FORMAT;
  if (memcmp(buf + 6, STH_MAGIC + 6, 2) != 0)
    return VOUCH_E_DB_VERSION;
  if (len != VOUCH_AUDIT_STH_BYTES)
    return VOUCH_E_AUDIT_FORMAT;
  memcpy(out->server_pk, buf + 8, 32);
  out->db_version = vouch__load64_le(buf + 40);
  out->timestamp = vouch__load64_le(buf + 48);
  out->tree_size = vouch__load64_le(buf + 56);
  memcpy(out->root, buf + 64, 32);
  out->algo = buf[96];
  out->policy.min_sources = buf[97];
  out->policy.distinct_jurisdictions = buf[98];
  out->nsources = buf[99];
  memcpy(out->sources_digest, buf + 100, 32);
  memcpy(out->index_root, buf + 132, 32);
  memcpy(out->psi_digest, buf + 164, 32);
  out->live_count = vouch__load64_le(buf + 196);
  memcpy(out->signature, buf + STH_SIGNED_BYTES, 64);
  if (out->db_version == 0 || vouch_algo_bytes(out->algo) == 0 || out->policy.min_sources == 0 ||
      out->policy.min_sources > VOUCH_AUDIT_SOURCES_MAX || out->policy.distinct_jurisdictions > 1 ||
      out->nsources > VOUCH_AUDIT_SOURCES_MAX || out->live_count > out->tree_size)
    return VOUCH_E_AUDIT_FORMAT;
  return sth_verify(out);
}

int vouch_audit_sth_matches_db(const vouch_audit_sth *sth, const vouch_audit_db *db) {
  uint8_t root[32], sd[32];
  vouch_audit_db_root(db, root);
  vouch_audit_db_sources_digest(db, sd);
  vouch_audit_policy p = vouch_audit_db_policy(db);
  if (sth->db_version != vouch_audit_db_version(db) || sth->tree_size != vouch_audit_db_size(db) ||
      sodium_memcmp(sth->root, root, 32) != 0 || sth->algo != vouch_audit_db_algo(db) ||
      sth->policy.min_sources != p.min_sources || sth->policy.distinct_jurisdictions != p.distinct_jurisdictions ||
      sth->nsources != vouch_audit_db_nsources(db) || sodium_memcmp(sth->sources_digest, sd, 32) != 0 ||
      sth->live_count != vouch_audit_db_live_count(db))
    return VOUCH_E_AUDIT_PROOF;
  return VOUCH_OK;
}

/* ------------------------------------------------------------------ log */

typedef struct {
  vouch_audit_sth sth;
  uint8_t bytes[VOUCH_AUDIT_STH_BYTES];
  size_t proof_off, proof_n; /* in hashes, into log->proofs */
} log_record;

struct vouch_audit_log {
  uint8_t server_pk[32];
  size_t n, cap;
  log_record *rec;
  uint8_t *proofs;
  size_t proofs_n, proofs_cap; /* in hashes */
};

int vouch_audit_log_create(vouch_audit_log **out, const uint8_t server_pk[VOUCH_AUDIT_PK_BYTES]) {
  if (!server_pk || !out)
    return VOUCH_E_INVALID;
  vouch_audit_log *log = vouch__calloc(1, sizeof *log);
  if (!log)
    return VOUCH_E_NOMEM;
  memcpy(log->server_pk, server_pk, 32);
  *out = log;
  return VOUCH_OK;
}

void vouch_audit_log_free(vouch_audit_log *log) {
  if (!log)
    return;
  vouch__free(log->rec);
  vouch__free(log->proofs);
  vouch__free(log);
}

size_t vouch_audit_log_count(const vouch_audit_log *log) { return log->n; }
void vouch_audit_log_server_pk(const vouch_audit_log *log, uint8_t pk[VOUCH_AUDIT_PK_BYTES]) {
  memcpy(pk, log->server_pk, 32);
}

int vouch_audit_log_get(const vouch_audit_log *log, size_t i, vouch_audit_sth *sth, const uint8_t **proof,
                        size_t *proof_n) {
  if (i >= log->n)
    return VOUCH_E_INVALID;
  if (sth)
    *sth = log->rec[i].sth;
  if (proof)
    *proof = log->rec[i].proof_n ? log->proofs + log->rec[i].proof_off * VOUCH_MERKLE_HASH_BYTES : NULL;
  if (proof_n)
    *proof_n = log->rec[i].proof_n;
  return VOUCH_OK;
}

/* Everything a new head must satisfy to follow the log's last one. */
static int check_next(const vouch_audit_log *log, const vouch_audit_sth *sth, const uint8_t bytes[VOUCH_AUDIT_STH_BYTES],
                      const uint8_t *proof, size_t proof_n) {
  if (sodium_memcmp(sth->server_pk, log->server_pk, 32) != 0)
    return VOUCH_E_AUDIT_SIGNATURE; /* another key's head in this log */
  VOUCH_TRY(sth_verify(sth));
  if (proof_n > VOUCH_MERKLE_PROOF_MAX)
    return VOUCH_E_AUDIT_PROOF;
  if (sth->db_version == 0)
    return VOUCH_E_AUDIT_FORMAT;
  if (log->n == 0) {
    if (sth->db_version != 1)
      return VOUCH_E_AUDIT_FORMAT;
    return proof_n == 0 ? VOUCH_OK : VOUCH_E_AUDIT_PROOF;
  }
  const log_record *last = &log->rec[log->n - 1];
  if (sth->db_version <= last->sth.db_version) {
    const log_record *same = &log->rec[sth->db_version - 1];
    return memcmp(same->bytes, bytes, VOUCH_AUDIT_STH_BYTES) != 0 ? VOUCH_E_AUDIT_FORK : VOUCH_E_AUDIT_FORMAT;
  }
  if (sth->db_version != last->sth.db_version + 1 || sth->timestamp < last->sth.timestamp)
    return VOUCH_E_AUDIT_FORMAT;
  if (sth->algo != last->sth.algo || sth->policy.min_sources != last->sth.policy.min_sources ||
      sth->policy.distinct_jurisdictions != last->sth.policy.distinct_jurisdictions)
    return VOUCH_E_AUDIT_POLICY;
  return vouch_merkle_verify_consistency(last->sth.tree_size, sth->tree_size, last->sth.root, sth->root, proof,
                                         proof_n);
}

static int push(vouch_audit_log *log, const vouch_audit_sth *sth, const uint8_t bytes[VOUCH_AUDIT_STH_BYTES],
                const uint8_t *proof, size_t proof_n) {
  if (log->n >= VOUCH_AUDIT_LOG_MAX)
    return VOUCH_E_LIMIT;
  VOUCH_TRY(vouch__grow(&log->rec, &log->cap, log->n + 1, sizeof *log->rec, 8));
  VOUCH_TRY(vouch__grow(&log->proofs, &log->proofs_cap, log->proofs_n + proof_n, VOUCH_MERKLE_HASH_BYTES, 64));
  log_record *r = &log->rec[log->n];
  r->sth = *sth;
  memcpy(r->bytes, bytes, VOUCH_AUDIT_STH_BYTES);
  r->proof_off = log->proofs_n;
  r->proof_n = proof_n;
  if (proof_n)
    memcpy(log->proofs + log->proofs_n * VOUCH_MERKLE_HASH_BYTES, proof, proof_n * VOUCH_MERKLE_HASH_BYTES);
  log->proofs_n += proof_n;
  log->n++;
  return VOUCH_OK;
}

int vouch_audit_log_append(vouch_audit_log *log, const vouch_audit_sth *sth, const uint8_t *proof, size_t proof_n) {
  if (!log || !sth || (proof_n && !proof))
    return VOUCH_E_INVALID;
  uint8_t bytes[VOUCH_AUDIT_STH_BYTES];
  vouch_audit_sth_encode(sth, bytes);
  VOUCH_TRY(check_next(log, sth, bytes, proof, proof_n));
  return push(log, sth, bytes, proof, proof_n);
}

int vouch_audit_log_parse(vouch_audit_log **out, const uint8_t *buf, size_t len, size_t *bad_record) {
  if (!buf || !out)
    return VOUCH_E_INVALID;
  *out = NULL;
  if (len < 8 || memcmp(buf, LOG_MAGIC, 6) != 0)
    return VOUCH_E_AUDIT_FORMAT;
  if (memcmp(buf + 6, LOG_MAGIC + 6, 2) != 0)
    return VOUCH_E_DB_VERSION;
  if (len < LOG_HEADER_BYTES)
    return VOUCH_E_AUDIT_FORMAT;
  uint64_t count = vouch__load64_le(buf + 40);
  if (count > VOUCH_AUDIT_LOG_MAX)
    return VOUCH_E_LIMIT;
  vouch_audit_log *log;
  VOUCH_TRY(vouch_audit_log_create(&log, buf + 8));
  size_t o = LOG_HEADER_BYTES;
  int rc = VOUCH_OK;
  for (uint64_t i = 0; i < count; i++) {
    if (bad_record)
      *bad_record = (size_t)i;
    if (len - o < VOUCH_AUDIT_STH_BYTES + 1) {
      rc = VOUCH_E_AUDIT_FORMAT;
      break;
    }
    vouch_audit_sth sth;
    rc = vouch_audit_sth_decode(buf + o, VOUCH_AUDIT_STH_BYTES, &sth);
    if (rc != VOUCH_OK)
      break;
    const uint8_t *bytes = buf + o;
    size_t pn = buf[o + VOUCH_AUDIT_STH_BYTES];
    o += VOUCH_AUDIT_STH_BYTES + 1;
    if (pn > VOUCH_MERKLE_PROOF_MAX || (len - o) / VOUCH_MERKLE_HASH_BYTES < pn) {
      rc = VOUCH_E_AUDIT_FORMAT;
      break;
    }
    rc = check_next(log, &sth, bytes, buf + o, pn);
    if (rc == VOUCH_OK)
      rc = push(log, &sth, bytes, buf + o, pn);
    if (rc != VOUCH_OK)
      break;
    o += pn * VOUCH_MERKLE_HASH_BYTES;
  }
  if (rc == VOUCH_OK && o != len)
    rc = VOUCH_E_AUDIT_FORMAT; /* trailing bytes */
  if (rc != VOUCH_OK) {
    vouch_audit_log_free(log);
    return rc;
  }
  *out = log;
  return VOUCH_OK;
}

int vouch_audit_log_encode(const vouch_audit_log *log, uint8_t **out, size_t *out_len) {
  size_t len = LOG_HEADER_BYTES + log->n * (VOUCH_AUDIT_STH_BYTES + 1) + log->proofs_n * VOUCH_MERKLE_HASH_BYTES;
  uint8_t *p = vouch__malloc(len);
  if (!p)
    return VOUCH_E_NOMEM;
  memcpy(p, LOG_MAGIC, 8);
  memcpy(p + 8, log->server_pk, 32);
  vouch__store64_le(p + 40, log->n);
  size_t o = LOG_HEADER_BYTES;
  for (size_t i = 0; i < log->n; i++) {
    const log_record *r = &log->rec[i];
    memcpy(p + o, r->bytes, VOUCH_AUDIT_STH_BYTES);
    o += VOUCH_AUDIT_STH_BYTES;
    p[o++] = (uint8_t)r->proof_n;
    if (r->proof_n) {
      memcpy(p + o, log->proofs + r->proof_off * VOUCH_MERKLE_HASH_BYTES, r->proof_n * VOUCH_MERKLE_HASH_BYTES);
      o += r->proof_n * VOUCH_MERKLE_HASH_BYTES;
    }
  }
  *out = p;
  *out_len = len;
  return VOUCH_OK;
}

int vouch_audit_log_compare(const vouch_audit_log *a, const vouch_audit_log *b, uint64_t *version) {
  if (memcmp(a->server_pk, b->server_pk, 32) != 0)
    return VOUCH_E_INVALID;
  size_t n = a->n < b->n ? a->n : b->n;
  for (size_t i = 0; i < n; i++)
    if (memcmp(a->rec[i].bytes, b->rec[i].bytes, VOUCH_AUDIT_STH_BYTES) != 0) {
      if (version)
        *version = a->rec[i].sth.db_version;
      return VOUCH_E_AUDIT_FORK;
    }
  return VOUCH_OK;
}

int vouch_audit_log_check_sth(const vouch_audit_log *log, const vouch_audit_sth *sth) {
  if (sth->db_version == 0 || sth->db_version > log->n)
    return VOUCH_E_NOT_FOUND;
  uint8_t bytes[VOUCH_AUDIT_STH_BYTES];
  vouch_audit_sth_encode(sth, bytes);
  if (memcmp(log->rec[sth->db_version - 1].bytes, bytes, VOUCH_AUDIT_STH_BYTES) != 0)
    return VOUCH_E_AUDIT_FORK;
  return VOUCH_OK;
}

/* ------------------------------------------------------- the full check */

static int first_failure(int rc, int *first) {
  if (rc > 0 && *first == VOUCH_OK)
    *first = rc;
  return rc;
}

int vouch_audit_check(const vouch_audit_sth *sth, const vouch_audit_db *db, const vouch_audit_log *log,
                      const vouch_audit_trust *trust, const uint8_t *index_root, const uint8_t *psi_digest,
                      vouch_audit_report *r) {
  if (!sth || !r)
    return VOUCH_E_INVALID;
  int first = VOUCH_OK;
  r->sth_signature = r->sth_matches_db = r->source_sigs = r->policy = -1;
  r->trusted_server = r->trusted_sources = r->trusted_policy = r->log = r->pins = -1;
  r->index_root = r->psi_digest = -1;

  first_failure(r->sth_signature = sth_verify(sth), &first);
  if (db) {
    first_failure(r->sth_matches_db = vouch_audit_sth_matches_db(sth, db), &first);
    first_failure(r->source_sigs = vouch_audit_db_verify_sources(db, NULL), &first);
    /* vouch_audit_db_parse() and _build() refuse any addition below the
     * table's rule; the head must carry that same rule (checked just above). */
    r->policy = VOUCH_OK;
  }
  if (log) {
    uint8_t pk[32];
    vouch_audit_log_server_pk(log, pk);
    int rc = memcmp(pk, sth->server_pk, 32) != 0 ? VOUCH_E_AUDIT_SIGNATURE : vouch_audit_log_check_sth(log, sth);
    first_failure(r->log = rc == VOUCH_E_NOT_FOUND ? VOUCH_E_AUDIT_UNTRUSTED : rc, &first);
  }
  if (trust) {
    /* A trust file pins server keys, roots, or both; with neither there is
     * nothing to anchor the head to. */
    int rc = VOUCH_E_AUDIT_UNTRUSTED;
    for (size_t i = 0; i < trust->nservers; i++)
      if (sodium_memcmp(trust->servers[i], sth->server_pk, 32) == 0)
        rc = VOUCH_OK;
    if (trust->nservers > 0 || trust->npins == 0)
      first_failure(r->trusted_server = rc, &first);

    if (trust->has_policy) {
      rc = VOUCH_OK;
      if (sth->policy.min_sources < trust->min_policy.min_sources ||
          sth->policy.distinct_jurisdictions < trust->min_policy.distinct_jurisdictions)
        rc = VOUCH_E_AUDIT_POLICY;
      first_failure(r->trusted_policy = rc, &first);
    }
    if (db && trust->nsources > 0) {
      rc = VOUCH_OK;
      for (size_t i = 0; i < vouch_audit_db_nsources(db) && rc == VOUCH_OK; i++) {
        vouch_audit_source_record s;
        (void)vouch_audit_db_source(db, i, &s);
        size_t j = 0;
        while (j < trust->nsources && memcmp(trust->sources[j], s.source.pk, 32) != 0)
          j++;
        if (j == trust->nsources || memcmp(trust->source_jurisdiction[j], s.source.jurisdiction, 2) != 0)
          rc = VOUCH_E_AUDIT_UNTRUSTED;
      }
      first_failure(r->trusted_sources = rc, &first);
    }
    if (trust->npins > 0) {
      rc = VOUCH_OK;
      for (size_t i = 0; i < trust->npins && rc == VOUCH_OK; i++) {
        const vouch_audit_pin *p = &trust->pins[i];
        if (p->db_version > sth->db_version) {
          rc = VOUCH_E_AUDIT_UNTRUSTED; /* rollback: the client has seen a newer version */
        } else if (p->db_version == sth->db_version) {
          if (p->tree_size != sth->tree_size || sodium_memcmp(p->root, sth->root, 32) != 0)
            rc = VOUCH_E_AUDIT_FORK;
        } else if (!log || vouch_audit_log_count(log) < p->db_version) {
          rc = VOUCH_E_AUDIT_UNTRUSTED; /* nothing links the pin to this head */
        } else {
          /* The log verified every consistency proof from the pinned version
           * on when it was parsed; the pinned record must be the pin. */
          vouch_audit_sth old;
          (void)vouch_audit_log_get(log, (size_t)(p->db_version - 1), &old, NULL, NULL);
          if (old.tree_size != p->tree_size || sodium_memcmp(old.root, p->root, 32) != 0)
            rc = VOUCH_E_AUDIT_FORK;
          else if (r->log != VOUCH_OK)
            rc = VOUCH_E_AUDIT_UNTRUSTED;
        }
      }
      first_failure(r->pins = rc, &first);
    }
  }
  if (index_root)
    first_failure(r->index_root = sodium_memcmp(index_root, sth->index_root, 32) == 0 ? VOUCH_OK : VOUCH_E_AUDIT_PROOF,
                  &first);
  if (psi_digest)
    first_failure(r->psi_digest = sodium_memcmp(psi_digest, sth->psi_digest, 32) == 0 ? VOUCH_OK : VOUCH_E_AUDIT_PROOF,
                  &first);
  return first;
}
