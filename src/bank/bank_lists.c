/* src/bank/bank_lists.c -- stored signed source lists (vouch/audit.h): import,
 * removal and verified reading. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "bank_db.h"
#include "vouch/audit.h"
#include "vouch/review.h"
/* ------------------------------------------------------------ signed lists */

static int step_one(vouch_bank *b, vouch__stmt *st, const char *what, int *row) {
  int src = vouch__step(st);
  *row = src == VOUCH__DB_ROW;
  if (src != VOUCH__DB_DONE && src != VOUCH__DB_ROW)
    return vouch__bank_dbfail(b, src, what);
  return VOUCH_OK;
}

int vouch_bank_import_signed(vouch_bank *b, const char *name, const uint8_t *vsl, size_t len, int64_t now,
                             vouch_import_stats *stats) {
  return vouch_bank_import_signed_seconds(b, name, vsl, len, NULL, 0, now, stats);
}

int vouch_bank_import_signed_seconds(vouch_bank *b, const char *name, const uint8_t *vsl, size_t len,
                                     const uint8_t *vss, size_t vss_len, int64_t now, vouch_import_stats *stats) {
  if (!b || !b->db || !name || !vsl)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  vouch_import_stats local;
  if (!stats)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  if (b->schema < 2)
    return vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d opened read-only: no signed lists",
                b->schema);
  if (len > (size_t)INT32_MAX)
    return vouch__bank_fail(b, VOUCH_E_LIMIT, "signed list of %zu bytes is too large for the bank", len);
  vouch_audit_list l;
  int rc = vouch_audit_list_open(vsl, len, &l);
  if (rc != VOUCH_OK)
    return vouch__bank_fail(b, rc, "signed list refused: %s", vouch_strerror(rc));
  vouch_second_signed ss = {0, 0, NULL};
  if (vss && (rc = vouch_second_signed_open(vss, vss_len, &l, &ss)) != VOUCH_OK)
    return vouch__bank_fail(b, rc, "signed second hashes refused: %s%s", vouch_strerror(rc),
                            rc == VOUCH_E_AUDIT_POLICY ? " (made for another list)" : "");
  vouch_import_opts o;
  memset(&o, 0, sizeof o);
  o.source = l.source.name;
  vouch__import_ctx c;
  memset(&c, 0, sizeof c);
  c.b = b;
  c.o = &o;
  c.stats = stats;
  c.now = now ? now : (int64_t)time(NULL);
  vouch__stmt *q = NULL, *link = NULL;
  int64_t list_id = 0;
  int algo, row;
  VOUCH_TRY(vouch__bank_begin(b));
  if ((rc = vouch__bank_find(b, name, &c.bank_id, &algo, NULL)))
    goto rollback;
  if (l.algo != algo) {
    rc = vouch__bank_fail(b, VOUCH_E_ALGO_MISMATCH, "signed list of %s hashes, bank '%s' holds %s hashes",
              vouch_algo_name(l.algo), name, vouch_algo_name(algo));
    goto rollback;
  }
  c.hb = vouch_algo_list_bytes(algo);
  /* a source's list version never goes back; one version is one list */
  if ((rc = vouch__bank_prepare(b,
                    "SELECT list_version, vsl FROM signed_lists WHERE bank_id = ? AND source_pk = ?"
                    " ORDER BY list_version DESC LIMIT 1",
                    &q)))
    goto rollback;
  vouch__bind_int64(q, 1, c.bank_id);
  vouch__bind_blob(q, 2, l.source.pk, VOUCH_AUDIT_PK_BYTES);
  if ((rc = step_one(b, q, "stored lists", &row)))
    goto rollback;
  if (row) {
    uint64_t have = (uint64_t)vouch__col_int64(q, 0);
    const void *old = vouch__col_blob(q, 1);
    size_t old_len = (size_t)vouch__col_bytes(q, 1);
    if (have > l.list_version) {
      rc = vouch__bank_fail(b, VOUCH_E_AUDIT_POLICY,
                "source '%s': list version %llu is older than version %llu already in bank '%s'",
                l.source.name, (unsigned long long)l.list_version, (unsigned long long)have, name);
      goto rollback;
    }
    if (have == l.list_version && (old_len != len || !old || memcmp(old, vsl, len) != 0)) {
      rc = vouch__bank_fail(b, VOUCH_E_AUDIT_FORK,
                "source '%s': bank '%s' already holds a different list of version %llu",
                l.source.name, name, (unsigned long long)have);
      goto rollback;
    }
  }
  vouch__finalize(q);
  q = NULL;
  if ((rc = vouch__bank_prepare(b, "SELECT id FROM signed_lists WHERE bank_id = ? AND source_pk = ? AND list_version = ?",
                    &q)))
    goto rollback;
  vouch__bind_int64(q, 1, c.bank_id);
  vouch__bind_blob(q, 2, l.source.pk, VOUCH_AUDIT_PK_BYTES);
  vouch__bind_int64(q, 3, (int64_t)l.list_version);
  if ((rc = step_one(b, q, "stored lists", &row)))
    goto rollback;
  if (row) { /* the same list again: its links are re-added (no-ops) */
    list_id = vouch__col_int64(q, 0);
  } else {
    vouch__finalize(q);
    q = NULL;
    if ((rc = vouch__bank_prepare(b,
                      "INSERT INTO signed_lists(bank_id, source_pk, source_name, jurisdiction, list_version,"
                      " date, count, hashes_digest, imported_at, vsl) VALUES(?,?,?,?,?,?,?,?,?,?) RETURNING id",
                      &q)))
      goto rollback;
    vouch__bind_int64(q, 1, c.bank_id);
    vouch__bind_blob(q, 2, l.source.pk, VOUCH_AUDIT_PK_BYTES);
    vouch__bind_text(q, 3, l.source.name, -1);
    vouch__bind_text(q, 4, l.source.jurisdiction, -1);
    vouch__bind_int64(q, 5, (int64_t)l.list_version);
    vouch__bind_text(q, 6, l.date, -1);
    vouch__bind_int64(q, 7, (int64_t)l.count);
    vouch__bind_blob(q, 8, l.hashes_digest, VOUCH_AUDIT_DIGEST_BYTES);
    vouch__bind_int64(q, 9, c.now);
    vouch__bind_blob(q, 10, vsl, (int)len);
    if ((rc = step_one(b, q, "store signed list", &row)))
      goto rollback;
    list_id = row ? vouch__col_int64(q, 0) : 0;
  }
  vouch__finalize(q);
  q = NULL;
  if ((rc = vouch__import_prepare(&c, 0)) ||
      (rc = vouch__bank_prepare(b, "INSERT INTO entry_lists(entry_id, list_id) VALUES(?, ?) ON CONFLICT DO NOTHING",
                                &link)))
    goto rollback;
  /* the hashes are strictly ascending: B-tree order */
  for (uint64_t i = 0; i < l.count; i++) {
    vouch_list_item it = {(size_t)i + 1, l.hashes + i * l.hash_bytes, NULL, NULL, NULL, VOUCH_ITEM_ADD, NULL, -1,
                          vouch_second_signed_find(&ss, l.hashes + i * l.hash_bytes)};
    if ((rc = vouch__import_insert(&c, &it)))
      goto rollback;
    vouch__bind_int64(link, 1, c.last_eid);
    vouch__bind_int64(link, 2, list_id);
    if ((rc = vouch__import_step(&c, link, "link entry to its list")))
      goto rollback;
  }
  vouch__import_finalize(&c);
  vouch__finalize(link);
  return vouch__bank_commit(b);
rollback:
  vouch__finalize(q);
  vouch__import_finalize(&c);
  vouch__finalize(link);
  vouch__rollback(b->db);
  if (b->errmsg[0] == 0)
    vouch__bank_fail(b, rc, "signed import failed: %s", vouch_strerror(rc));
  return rc;
}

int vouch_bank_signed_list_remove(vouch_bank *b, int64_t list_id, int prune_entries, size_t *pruned) {
  if (!b || !b->db)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (pruned)
    *pruned = 0;
  if (b->schema < 2)
    return vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no signed list %lld (this bank file holds none)", (long long)list_id);
  VOUCH_TRY(vouch__bank_begin(b));
  vouch__stmt *st = NULL;
  int rc = vouch__bank_prepare(b, "SELECT source_name FROM signed_lists WHERE id = ?", &st);
  if (rc == VOUCH_OK) {
    vouch__bind_int64(st, 1, list_id);
    int src = vouch__step(st);
    if (src == VOUCH__DB_DONE)
      rc = vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no signed list %lld", (long long)list_id);
    else if (src != VOUCH__DB_ROW)
      rc = vouch__bank_dbfail(b, src, "find list");
  }
  if (rc == VOUCH_OK && prune_entries) {
    /* entries of this list only, whose every source is the list's source */
    vouch__stmt *del = NULL;
    rc = vouch__bank_prepare(b,
                 "DELETE FROM entries WHERE id IN (SELECT entry_id FROM entry_lists WHERE list_id = ?1)"
                 " AND id NOT IN (SELECT entry_id FROM entry_lists WHERE list_id != ?1)"
                 " AND NOT EXISTS (SELECT 1 FROM entry_sources s WHERE s.entry_id = entries.id"
                 "                 AND s.source != ?2)",
                 &del);
    if (rc == VOUCH_OK) {
      vouch__bind_int64(del, 1, list_id);
      vouch__bind_text(del, 2, (const char *)vouch__col_text(st, 0), -1);
      int src = vouch__step(del);
      if (src != VOUCH__DB_DONE)
        rc = vouch__bank_dbfail(b, src, "prune entries");
      else if (pruned)
        *pruned = (size_t)vouch__changes(b->db);
    }
    vouch__finalize(del);
  }
  vouch__finalize(st);
  st = NULL;
  if (rc == VOUCH_OK && (rc = vouch__bank_prepare(b, "DELETE FROM signed_lists WHERE id = ?", &st)) == VOUCH_OK) {
    vouch__bind_int64(st, 1, list_id);
    int src = vouch__step(st);
    if (src != VOUCH__DB_DONE)
      rc = vouch__bank_dbfail(b, src, "remove list");
  }
  vouch__finalize(st);
  if (rc == VOUCH_OK)
    rc = vouch__bank_commit(b);
  if (rc != VOUCH_OK) {
    vouch__rollback(b->db);
    if (pruned)
      *pruned = 0;
  }
  return rc;
}

int vouch_bank_signed_lists(vouch_bank *b, const char *const *names, size_t nnames, int current_only,
                            vouch_bank_signed_list_cb cb, void *ctx) {
  if (!b || !b->db || !cb || (nnames && !names))
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  int rc = VOUCH_OK;
  int64_t *ids = NULL;
  size_t nids = 0;
  if (nnames) {
    ids = vouch__malloc(nnames * sizeof *ids);
    if (!ids)
      return vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nnames; i++) {
      int64_t id;
      int a, en;
      if ((rc = vouch__bank_find(b, names[i], &id, &a, &en))) {
        vouch__free(ids);
        return rc;
      }
      if (en)
        ids[nids++] = id;
    }
  }
  if (b->schema < 2) { /* an unmigrated version 1 file holds no signed lists */
    vouch__free(ids);
    return VOUCH_OK;
  }
  vouch__stmt *st = NULL;
  if ((rc = vouch__bank_prepare(b,
                    "SELECT l.id, b.id, b.name, b.algo, b.enabled, l.source_pk, l.source_name, l.jurisdiction,"
                    " l.list_version, l.date, l.count, l.hashes_digest, l.imported_at, l.vsl,"
                    " (SELECT count(*) FROM entry_lists x WHERE x.list_id = l.id)"
                    " FROM signed_lists l JOIN banks b ON b.id = l.bank_id"
                    " ORDER BY l.source_pk, l.list_version DESC, b.name",
                    &st))) {
    vouch__free(ids);
    return rc;
  }
  uint8_t cur_pk[VOUCH_AUDIT_PK_BYTES], cur_digest[VOUCH_AUDIT_DIGEST_BYTES];
  uint64_t cur_version = 0;
  int have_cur = 0, algo = VOUCH_ALGO_NONE, src;
  while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
    int64_t bid = vouch__col_int64(st, 1);
    int chosen = 0;
    if (nnames) {
      for (size_t k = 0; k < nids && !chosen; k++)
        chosen = ids[k] == bid;
    } else {
      chosen = vouch__col_int64(st, 4) != 0;
    }
    if (!chosen)
      continue;
    int64_t lid = vouch__col_int64(st, 0);
    const char *bname = (const char *)vouch__col_text(st, 2);
    const char *balgo = (const char *)vouch__col_text(st, 3);
    const void *pk = vouch__col_blob(st, 5);
    const char *sname = (const char *)vouch__col_text(st, 6);
    const char *jur = (const char *)vouch__col_text(st, 7);
    uint64_t version = (uint64_t)vouch__col_int64(st, 8);
    const char *date = (const char *)vouch__col_text(st, 9);
    uint64_t count = (uint64_t)vouch__col_int64(st, 10);
    const void *dg = vouch__col_blob(st, 11);
    int dg_len = vouch__col_bytes(st, 11);
    int64_t imported = vouch__col_int64(st, 12);
    const uint8_t *vsl = vouch__col_blob(st, 13);
    size_t vsl_len = (size_t)vouch__col_bytes(st, 13);
    uint64_t linked = (uint64_t)vouch__col_int64(st, 14);
    int pk_len = vouch__col_bytes(st, 5);
    /* the bank file is untrusted: every stored list is verified again and
     * must agree with the columns describing it */
    vouch_audit_list l;
    int bal = balgo ? vouch_bank_algo_from_name(balgo) : VOUCH_ALGO_NONE;
    if (!bname || !pk || pk_len != VOUCH_AUDIT_PK_BYTES || !sname || !jur || !date || !dg ||
        dg_len != VOUCH_AUDIT_DIGEST_BYTES || !vsl || bal == VOUCH_ALGO_NONE) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "signed list %lld: malformed row", (long long)lid);
      break;
    }
    if ((rc = vouch_audit_list_open(vsl, vsl_len, &l)) != VOUCH_OK) {
      rc = vouch__bank_fail(b, rc == VOUCH_E_NOMEM ? rc : VOUCH_E_DB_CORRUPT, "signed list %lld in bank '%s': %s",
                (long long)lid, bname, vouch_strerror(rc));
      break;
    }
    if (memcmp(l.source.pk, pk, VOUCH_AUDIT_PK_BYTES) || strcmp(l.source.name, sname) ||
        strcmp(l.source.jurisdiction, jur) || l.list_version != version || strcmp(l.date, date) ||
        l.count != count || memcmp(l.hashes_digest, dg, VOUCH_AUDIT_DIGEST_BYTES) || l.algo != bal) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "signed list %lld in bank '%s': columns disagree with the list",
                (long long)lid, bname);
      break;
    }
    if (algo != VOUCH_ALGO_NONE && l.algo != algo) {
      rc = vouch__bank_fail(b, VOUCH_E_ALGO_MISMATCH, "signed lists of %s and %s hashes: choose banks",
                vouch_algo_name(algo), vouch_algo_name(l.algo));
      break;
    }
    algo = l.algo;
    int current = 0;
    if (!have_cur || memcmp(cur_pk, l.source.pk, VOUCH_AUDIT_PK_BYTES) != 0) {
      current = 1; /* rows come newest first per key */
      have_cur = 1;
      memcpy(cur_pk, l.source.pk, VOUCH_AUDIT_PK_BYTES);
      memcpy(cur_digest, l.hashes_digest, VOUCH_AUDIT_DIGEST_BYTES);
      cur_version = l.list_version;
    } else if (l.list_version == cur_version) {
      /* the same version in another bank must be the same list */
      if (memcmp(cur_digest, l.hashes_digest, VOUCH_AUDIT_DIGEST_BYTES) != 0) {
        rc = vouch__bank_fail(b, VOUCH_E_AUDIT_FORK, "source '%s': two different lists of version %llu (bank '%s')",
                  l.source.name, (unsigned long long)version, bname);
        break;
      }
    }
    if (current_only && !current)
      continue;
    vouch_bank_signed_list out = {lid, bname, &l, vsl, vsl_len, imported, linked, current};
    if ((rc = cb(ctx, &out)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != VOUCH__DB_DONE && src != VOUCH__DB_ROW)
    rc = vouch__bank_dbfail(b, src, "read signed lists");
  vouch__finalize(st);
  vouch__free(ids);
  return rc;
}

