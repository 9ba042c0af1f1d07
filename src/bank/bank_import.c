/* src/bank/bank_import.c -- importing a hash list into a bank in one
 * transaction (vouch_bank_import()), with tombstones and checkpoints. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "bank_db.h"

/* ------------------------------------------------------------ import */

/* Parsed lines are collected first and inserted in hash order: inserting
 * into the (bank_id, hash) B-tree in key order touches each page once, which
 * is several times faster than random order for big lists.  The sort is
 * stable (by line), so the first line of a duplicate still wins. */
struct vouch__pending {
  uint8_t hash[VOUCH_HASH_MAX_BYTES];
  size_t line;
  size_t ext, src, tags; /* offsets into the string buffer, SIZE_MAX = none */
  size_t second;         /* offset of the VOUCH_DERIV_HASH_BYTES second hash, SIZE_MAX = none */
  int kind;              /* VOUCH_ITEM_ADD or VOUCH_ITEM_DELETE */
  int nohash;            /* a DELETE naming only the entry (ext_id) */
};


static int import_error(void *vctx, size_t line, const char *msg) {
  vouch__import_ctx *c = vctx;
  c->stats->bad++;
  if (c->o->error)
    (void)c->o->error(c->o->error_ctx, line, msg);
  if (c->o->strict) {
    vouch__bank_fail(c->b, VOUCH_E_HASH_PARSE, "line %zu: %s (strict: nothing imported)", line, msg);
    return 1;
  }
  return 0;
}

int vouch__import_step(vouch__import_ctx *c, vouch__stmt *st, const char *what) {
  int src = vouch__step(st);
  vouch__reset(st);
  if (src != VOUCH__DB_DONE && src != VOUCH__DB_ROW)
    return vouch__bank_dbfail(c->b, src, what);
  return VOUCH_OK;
}


static size_t keep_mem(vouch__import_ctx *c, const void *s, size_t l) {
  if (!s)
    return SIZE_MAX;
  if (c->str_len + l > c->str_cap) {
    size_t nc = c->str_cap ? c->str_cap : 1 << 16;
    while (nc < c->str_len + l) nc *= 2;
    char *np = vouch__realloc(c->str, nc);
    if (!np) return SIZE_MAX - 1;
    c->str = np;
    c->str_cap = nc;
  }
  memcpy(c->str + c->str_len, s, l);
  c->str_len += l;
  return c->str_len - l;
}

static size_t keep_str(vouch__import_ctx *c, const char *s) { return keep_mem(c, s, s ? strlen(s) + 1 : 0); }

static int collect_item(void *vctx, const vouch_list_item *it) {
  vouch__import_ctx *c = vctx;
  if (it->kind == VOUCH_ITEM_SKIP) {
    c->stats->skipped++;
    return 0;
  }
  if (it->kind == VOUCH_ITEM_LOW_QUALITY) {
    c->stats->low_quality++;
    return 0;
  }
  if (it->kind != VOUCH_ITEM_ADD && it->kind != VOUCH_ITEM_DELETE)
    return 0;
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 4096;
    vouch__pending *np = vouch__realloc(c->items, nc * sizeof *np);
    if (!np) return vouch__bank_fail(c->b, VOUCH_E_NOMEM, "out of memory");
    c->items = np;
    c->cap = nc;
  }
  vouch__pending *p = &c->items[c->n];
  memset(p->hash, 0, sizeof p->hash);
  p->nohash = it->hash == NULL;
  if (it->hash)
    memcpy(p->hash, it->hash, c->hb);
  p->line = it->line;
  p->kind = it->kind;
  p->ext = keep_str(c, it->ext_id);
  p->src = keep_str(c, it->source);
  p->tags = keep_str(c, it->tags);
  p->second = keep_mem(c, it->second, VOUCH_DERIV_HASH_BYTES);
  if (p->ext == SIZE_MAX - 1 || p->src == SIZE_MAX - 1 || p->tags == SIZE_MAX - 1 || p->second == SIZE_MAX - 1)
    return vouch__bank_fail(c->b, VOUCH_E_NOMEM, "out of memory");
  c->n++;
  return 0;
}

/* hashes are zero-padded to VOUCH_HASH_MAX_BYTES, so no length is needed;
 * DELETEs that name only an entry go last */
static int cmp_pending(const void *pa, const void *pb) {
  const vouch__pending *a = pa, *b = pb;
  if (a->nohash != b->nohash) return a->nohash - b->nohash;
  int r = memcmp(a->hash, b->hash, VOUCH_HASH_MAX_BYTES);
  if (r) return r;
  return a->line < b->line ? -1 : a->line > b->line;
}

/* An ADD of an entry that a tombstone disabled: the exchange lists it again. */
static int revive(vouch__import_ctx *c, int64_t eid, const uint8_t *hash) {
  vouch__bind_int64(c->t_had, 1, eid);
  int src = vouch__step(c->t_had);
  int had = src == VOUCH__DB_ROW && vouch__col_int64(c->t_had, 0) > 0;
  vouch__reset(c->t_had);
  if (src != VOUCH__DB_ROW)
    return vouch__bank_dbfail(c->b, src, "find tombstones");
  vouch__bind_int64(c->t_clear, 1, c->bank_id);
  vouch__bind_int64(c->t_clear, 2, eid);
  vouch__bind_blob(c->t_clear, 3, hash, (int)c->hb);
  VOUCH_TRY(vouch__import_step(c, c->t_clear, "clear tombstones"));
  if (had) {
    vouch__bind_int64(c->t_enable, 1, eid);
    VOUCH_TRY(vouch__import_step(c, c->t_enable, "re-enable entry"));
    c->stats->reenabled += (size_t)vouch__changes(c->b->db);
  }
  return VOUCH_OK;
}

/* Splits a ','-joined source list, calling the source statement for each. */
static int add_sources(vouch__import_ctx *c, int64_t eid, const char *source) {
  while (source && *source) {
    const char *comma = strchr(source, ',');
    size_t l = comma ? (size_t)(comma - source) : strlen(source);
    while (l && *source == ' ') { source++; l--; }
    while (l && source[l - 1] == ' ') l--;
    if (l) {
      vouch__bind_int64(c->src, 1, eid);
      vouch__bind_text(c->src, 2, source, (int)l);
      VOUCH_TRY(vouch__import_step(c, c->src, "add source"));
    }
    source = comma ? comma + 1 : NULL;
  }
  return VOUCH_OK;
}

int vouch__import_insert(vouch__import_ctx *c, const vouch_list_item *it) {
  int64_t eid;
  vouch__bind_int64(c->ins, 1, c->bank_id);
  vouch__bind_blob(c->ins, 2, it->hash, (int)c->hb);
  vouch__bind_text(c->ins, 3, it->ext_id, -1);
  vouch__bind_text(c->ins, 4, it->tags, -1);
  vouch__bind_int64(c->ins, 5, c->now);
  vouch__bind_blob(c->ins, 6, it->second, (int)VOUCH_DERIV_HASH_BYTES);
  int src = vouch__step(c->ins);
  eid = src == VOUCH__DB_ROW ? vouch__col_int64(c->ins, 0) : 0;
  vouch__reset(c->ins);
  if (src != VOUCH__DB_ROW && src != VOUCH__DB_DONE)
    return vouch__bank_dbfail(c->b, src, "insert entry");
  if (src == VOUCH__DB_ROW) { /* RETURNING gives the new entry; a duplicate returns nothing */
    c->stats->added++;
  } else {
    vouch__bind_int64(c->sel, 1, c->bank_id);
    vouch__bind_blob(c->sel, 2, it->hash, (int)c->hb);
    src = vouch__step(c->sel);
    if (src != VOUCH__DB_ROW) {
      vouch__reset(c->sel);
      return vouch__bank_dbfail(c->b, src, "find duplicate");
    }
    eid = vouch__col_int64(c->sel, 0);
    vouch__reset(c->sel);
    c->stats->merged++;
    if (it->ext_id || it->tags) { /* fill in what the first import lacked */
      vouch__bind_text(c->fill, 1, it->ext_id, -1);
      vouch__bind_text(c->fill, 2, it->tags, -1);
      vouch__bind_int64(c->fill, 3, eid);
      VOUCH_TRY(vouch__import_step(c, c->fill, "merge entry"));
    }
    if (it->second) { /* a row with a second hash sets it: the newest import wins */
      vouch__bind_blob(c->set_second, 1, it->second, (int)VOUCH_DERIV_HASH_BYTES);
      vouch__bind_int64(c->set_second, 2, eid);
      VOUCH_TRY(vouch__import_step(c, c->set_second, "set second hash"));
    }
  }
  c->last_eid = eid;
  if (c->tomb)
    VOUCH_TRY(revive(c, eid, it->hash));
  /* several sources may come ','-joined (as export writes them) */
  return add_sources(c, eid, it->source ? it->source : c->o->source);
}

/* A DELETE row: the entries it names lose its source; an entry left with no
 * source is disabled.  A tombstone records it (and the entry it disabled). */
static int delete_item(vouch__import_ctx *c, const vouch_list_item *it) {
  const char *source = it->source ? it->source : c->o->source;
  vouch__stmt *find = it->hash ? c->t_find_hash : c->t_find_ext;
  vouch__bind_int64(find, 1, c->bank_id);
  if (it->hash)
    vouch__bind_blob(find, 2, it->hash, (int)c->hb);
  else
    vouch__bind_text(find, 2, it->ext_id, -1);
  vouch__bind_text(find, 3, source, -1);
  int64_t ids[16];
  size_t nid = 0;
  int src;
  while ((src = vouch__step(find)) == VOUCH__DB_ROW && nid < 16)
    ids[nid++] = vouch__col_int64(find, 0);
  vouch__reset(find);
  if (src != VOUCH__DB_DONE && src != VOUCH__DB_ROW)
    return vouch__bank_dbfail(c->b, src, "find deleted entry");
  c->stats->tombstones++;
  for (size_t k = 0; k <= nid; k++) {
    int64_t disabled = 0;
    if (k < nid) {
      vouch__bind_int64(c->t_unsource, 1, ids[k]);
      vouch__bind_text(c->t_unsource, 2, source, -1);
      VOUCH_TRY(vouch__import_step(c, c->t_unsource, "remove source"));
      vouch__bind_int64(c->t_disable, 1, ids[k]);
      VOUCH_TRY(vouch__import_step(c, c->t_disable, "disable entry"));
      if (vouch__changes(c->b->db) == 1) {
        disabled = ids[k];
        c->stats->disabled++;
      }
    } else if (nid) {
      break; /* every matched entry has its tombstone */
    }
    vouch__bind_int64(c->t_add, 1, c->bank_id);
    if (it->hash)
      vouch__bind_blob(c->t_add, 2, it->hash, (int)c->hb);
    else
      vouch__bind_null(c->t_add, 2);
    vouch__bind_text(c->t_add, 3, it->ext_id, -1);
    vouch__bind_text(c->t_add, 4, source, -1);
    if (disabled)
      vouch__bind_int64(c->t_add, 5, disabled);
    else
      vouch__bind_null(c->t_add, 5);
    vouch__bind_int64(c->t_add, 6, c->now);
    VOUCH_TRY(vouch__import_step(c, c->t_add, "record tombstone"));
  }
  return VOUCH_OK;
}

static int prepare_tombstones(vouch__import_ctx *c) {
  vouch_bank *b = c->b;
  /* an entry matches a deletion by hash, or by ext_id from the same source */
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT count(*) FROM tombstones WHERE entry_id = ?", &c->t_had));
  VOUCH_TRY(vouch__bank_prepare(b, "DELETE FROM tombstones WHERE bank_id = ?1 AND (entry_id = ?2 OR hash = ?3)", &c->t_clear));
  VOUCH_TRY(vouch__bank_prepare(b, "UPDATE entries SET enabled = 1 WHERE id = ? AND enabled = 0", &c->t_enable));
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT id FROM entries WHERE bank_id = ?1 AND hash = ?2", &c->t_find_hash));
  VOUCH_TRY(vouch__bank_prepare(b,
                    "SELECT e.id FROM entries e WHERE e.bank_id = ?1 AND e.ext_id = ?2 AND (CAST(?3 AS TEXT) IS NULL OR"
                    " EXISTS (SELECT 1 FROM entry_sources s WHERE s.entry_id = e.id AND s.source = ?3))",
                    &c->t_find_ext));
  VOUCH_TRY(vouch__bank_prepare(b, "DELETE FROM entry_sources WHERE entry_id = ? AND source = ?", &c->t_unsource));
  VOUCH_TRY(vouch__bank_prepare(b,
                    "UPDATE entries SET enabled = 0 WHERE id = ?1 AND enabled <> 0 AND NOT EXISTS"
                    " (SELECT 1 FROM entry_sources s WHERE s.entry_id = ?1)",
                    &c->t_disable));
  VOUCH_TRY(vouch__bank_prepare(b,
                    "INSERT INTO tombstones(bank_id, hash, ext_id, source, entry_id, at) VALUES(?,?,?,?,?,?)",
                    &c->t_add));
  return VOUCH_OK;
}

void vouch__import_finalize(vouch__import_ctx *c) {
  vouch__stmt **sts[] = {&c->ins, &c->sel, &c->fill, &c->src, &c->set_second, &c->t_had, &c->t_clear, &c->t_enable,
                          &c->t_find_hash, &c->t_find_ext, &c->t_unsource, &c->t_disable, &c->t_add};
  for (size_t i = 0; i < sizeof sts / sizeof sts[0]; i++) {
    vouch__finalize(*sts[i]);
    *sts[i] = NULL;
  }
  vouch__free(c->items);
  vouch__free(c->str);
  c->items = NULL;
  c->str = NULL;
}

int vouch__import_prepare(vouch__import_ctx *c, int fill) {
  vouch_bank *b = c->b;
  VOUCH_TRY(vouch__bank_prepare(b,
                                "INSERT INTO entries(bank_id, hash, ext_id, tags, enabled, added_at, second)"
                                " VALUES(?, ?, ?, ?, 1, ?, ?) ON CONFLICT(bank_id, hash) DO NOTHING RETURNING id",
                                &c->ins));
  VOUCH_TRY(vouch__bank_prepare(b, "UPDATE entries SET second = ?1 WHERE id = ?2", &c->set_second));
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT id FROM entries WHERE bank_id = ? AND hash = ?", &c->sel));
  if (fill)
    VOUCH_TRY(vouch__bank_prepare(b,
                                  "UPDATE entries SET ext_id = coalesce(ext_id, ?1), tags = coalesce(tags, ?2)"
                                  " WHERE id = ?3",
                                  &c->fill));
  return vouch__bank_prepare(b, "INSERT INTO entry_sources(entry_id, source) VALUES(?, ?) ON CONFLICT DO NOTHING",
                             &c->src);
}

static int store_checkpoint(vouch__import_ctx *c, const vouch_list_page *pg) {
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(c->b,
                    "INSERT INTO checkpoints(bank_id, source, checkpoint, next, updated_at) VALUES(?,?,?,?,?)"
                    " ON CONFLICT(bank_id, source) DO UPDATE SET checkpoint = excluded.checkpoint,"
                    " next = excluded.next, updated_at = excluded.updated_at",
                    &st));
  vouch__bind_int64(st, 1, c->bank_id);
  vouch__bind_text(st, 2, c->o->source ? c->o->source : "", -1);
  vouch__bind_text(st, 3, pg->checkpoint, -1);
  vouch__bind_text(st, 4, pg->next, -1);
  vouch__bind_int64(st, 5, c->now);
  int rc = vouch__import_step(c, st, "store checkpoint");
  vouch__finalize(st);
  return rc;
}

int vouch_bank_import(vouch_bank *b, const char *name, const char *data, size_t len,
                      const vouch_import_opts *opts, vouch_import_stats *stats) {
  if (!b || !name || !opts || (!data && len))
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  vouch_import_stats local;
  if (!stats)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  vouch__import_ctx c;
  memset(&c, 0, sizeof c);
  c.b = b;
  c.o = opts;
  c.stats = stats;
  c.now = opts->now ? opts->now : (int64_t)time(NULL);
  int algo;
  VOUCH_TRY(vouch__bank_begin(b));
  int rc = vouch__bank_find(b, name, &c.bank_id, &algo, NULL);
  if (rc) goto rollback;
  if (algo == VOUCH_ALGO_VPDQ) {
    rc = vouch__bank_fail(b, VOUCH_E_ALGO_MISMATCH, "bank '%s' holds videos: import vPDQ files (vouch_bank_import_video)", name);
    goto rollback;
  }
  c.hb = vouch__bank_entry_hash_bytes(algo);
  if (!b->db->pg) (void)vouch__bank_exec(b, "PRAGMA cache_size=-65536");
  if ((rc = vouch__import_prepare(&c, 1)))
    goto rollback;
  vouch_list_opts lo = opts->list;
  vouch_list_page page;
  lo.algo = algo;
  if (!lo.page)
    lo.page = &page;
  rc = vouch_hashlist_parse(data, len, &lo, collect_item, import_error, &c, &stats->format);
  int deletes = 0;
  for (size_t i = 0; rc == VOUCH_OK && i < c.n && !deletes; i++)
    deletes = c.items[i].kind == VOUCH_ITEM_DELETE;
  if (rc == VOUCH_OK && (deletes || lo.page->checkpoint[0] || lo.page->next[0]) && b->schema < 3)
    rc = vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no tombstones or checkpoints", b->schema);
  if (rc == VOUCH_OK && b->schema >= 3) {
    vouch__stmt *q = NULL;
    if ((rc = vouch__bank_prepare(b, "SELECT EXISTS(SELECT 1 FROM tombstones WHERE bank_id = ?)", &q)) == VOUCH_OK) {
      vouch__bind_int64(q, 1, c.bank_id);
      c.tomb = deletes || (vouch__step(q) == VOUCH__DB_ROW && vouch__col_int64(q, 0));
      vouch__finalize(q);
    }
    if (rc == VOUCH_OK && c.tomb)
      rc = prepare_tombstones(&c);
  }
  if (rc == VOUCH_OK) {
    if (c.n > 1)
      qsort(c.items, c.n, sizeof *c.items, cmp_pending);
    for (size_t i = 0; i < c.n && rc == VOUCH_OK; i++) {
      const vouch__pending *p = &c.items[i];
      vouch_list_item it = {p->line, p->nohash ? NULL : p->hash, p->ext == SIZE_MAX ? NULL : c.str + p->ext,
                            p->src == SIZE_MAX ? NULL : c.str + p->src,
                            p->tags == SIZE_MAX ? NULL : c.str + p->tags, p->kind, NULL, -1,
                            p->second == SIZE_MAX ? NULL : (const uint8_t *)c.str + p->second};
      rc = p->kind == VOUCH_ITEM_DELETE ? delete_item(&c, &it) : vouch__import_insert(&c, &it);
    }
  }
  if (rc == VOUCH_OK && (lo.page->checkpoint[0] || lo.page->next[0]))
    rc = store_checkpoint(&c, lo.page);
  if (rc == VOUCH_E_HASH_PARSE && !opts->strict && b->errmsg[0] == 0)
    vouch__bank_fail(b, rc, "the list has no hash column or is not in a format we read");
  if (rc != VOUCH_OK) {
    if (b->errmsg[0] == 0)
      vouch__bank_fail(b, rc, "import failed: %s", vouch_strerror(rc));
    goto rollback;
  }
  vouch__import_finalize(&c);
  return vouch__bank_commit(b);
rollback:
  vouch__import_finalize(&c);
  vouch__rollback(b->db);
  return rc;
}
