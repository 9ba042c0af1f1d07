/* src/bank/bank_exchanges.c -- configured exchanges (vouch/exchange.h) kept
 * in the bank database. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "bank_db.h"
#include "vouch/exchange.h"
/* ------------------------------------------------------------ configured exchanges */

int vouch_exchange_config_add(vouch_bank *b, const vouch_exchange_config *c) {
  if (!b || !c || !c->url || !c->bank)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (!vouch__bank_valid_name(c->name))
    return vouch__bank_fail(b, VOUCH_E_INVALID, "bad exchange name '%s' (1..128 of A-Z a-z 0-9 . _ - : @)", c->name ? c->name : "");
  if (c->type < 0 || vouch_exchange_type_from_name(vouch_exchange_type_name(c->type)) != c->type)
    return vouch__bank_fail(b, VOUCH_E_INVALID, "exchange type is ncmec, stopncii, tat, te or file");
  if (c->type != VOUCH_EXCHANGE_FILE && strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8))
    return vouch__bank_fail(b, VOUCH_E_INVALID, "exchange URL must be http:// or https://");
  if (b->schema < 3)
    return vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no exchanges", b->schema);
  if (c->disabled && b->schema < 5)
    return vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d: no disabled exchanges", b->schema);
  int64_t id;
  int algo;
  VOUCH_TRY(vouch__bank_find(b, c->bank, &id, &algo, NULL));
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b,
                    b->schema >= 5 ? "INSERT INTO exchanges(name, type, url, bank_id, source, credentials, created_at,"
                                     " enabled) VALUES(?,?,?,?,?,?,?,?)"
                                   : "INSERT INTO exchanges(name, type, url, bank_id, source, credentials, created_at)"
                                     " VALUES(?,?,?,?,?,?,?)",
                    &st));
  vouch__bind_text(st, 1, c->name, -1);
  vouch__bind_text(st, 2, vouch_exchange_type_name(c->type), -1);
  vouch__bind_text(st, 3, c->url, -1);
  vouch__bind_int64(st, 4, id);
  vouch__bind_text(st, 5, c->source, -1);
  vouch__bind_text(st, 6, c->credentials, -1);
  vouch__bind_int64(st, 7, (int64_t)time(NULL));
  if (b->schema >= 5) vouch__bind_int64(st, 8, c->disabled ? 0 : 1);
  int src = vouch__step(st), rc = VOUCH_OK;
  if (src == VOUCH__DB_UNIQUE || src == VOUCH__DB_UNIQUE)
    rc = vouch__bank_fail(b, VOUCH_E_EXISTS, "an exchange named '%s' already exists", c->name);
  else if (src != VOUCH__DB_DONE)
    rc = vouch__bank_dbfail(b, src, "add exchange");
  vouch__finalize(st);
  return rc;
}

/* Runs `sql` on the exchange `name` (?1; ?2 = `v` when the statement has it):
 * VOUCH_E_NOT_FOUND when no row changed. */
static int on_exchange(vouch_bank *b, const char *sql, const char *name, int64_t v, const char *what) {
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, sql, &st));
  vouch__bind_text(st, 1, name, -1);
  if (strstr(sql, "?2")) vouch__bind_int64(st, 2, v);
  int src = vouch__step(st);
  vouch__finalize(st);
  if (src != VOUCH__DB_DONE)
    return vouch__bank_dbfail(b, src, what);
  return vouch__changes(b->db) ? VOUCH_OK : vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no exchange named '%s'", name);
}

int vouch_exchange_config_remove(vouch_bank *b, const char *name) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 3)
    return vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no exchange named '%s'", name);
  return on_exchange(b, "DELETE FROM exchanges WHERE name = ?1", name, 0, "remove exchange");
}

int vouch_exchange_config_set_enabled(vouch_bank *b, const char *name, int enabled) {
  if (!b || !name)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 5)
    return vouch__bank_fail(b, b->schema < 3 ? VOUCH_E_NOT_FOUND : VOUCH_E_DB_VERSION,
                            b->schema < 3 ? "no exchange named '%s'" : "bank file of an older schema: cannot disable '%s'",
                            name);
  return on_exchange(b, "UPDATE exchanges SET enabled = ?2 WHERE name = ?1", name, enabled ? 1 : 0, "enable exchange");
}

int vouch_exchange_configs(vouch_bank *b, const char *name, vouch_exchange_config_cb cb, void *ctx) {
  if (!b || !cb)
    return VOUCH_E_INVALID;
  b->errmsg[0] = 0;
  if (b->schema < 3)
    return name ? vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no exchange named '%s'", name) : VOUCH_OK;
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b,
                    b->schema >= 5 ? "SELECT x.name, x.type, x.url, b.name, x.source, x.credentials, x.created_at,"
                                     " x.enabled FROM exchanges x JOIN banks b ON b.id = x.bank_id"
                                     " WHERE CAST(?1 AS TEXT) IS NULL OR x.name = ?1 ORDER BY x.name"
                                   : "SELECT x.name, x.type, x.url, b.name, x.source, x.credentials, x.created_at, 1"
                                     " FROM exchanges x JOIN banks b ON b.id = x.bank_id"
                                     " WHERE CAST(?1 AS TEXT) IS NULL OR x.name = ?1 ORDER BY x.name",
                    &st));
  vouch__bind_text(st, 1, name, -1);
  int src, rc = VOUCH_OK, n = 0;
  while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
    const char *type = (const char *)vouch__col_text(st, 1);
    vouch_exchange_config c = {(const char *)vouch__col_text(st, 0), vouch_exchange_type_from_name(type),
                               (const char *)vouch__col_text(st, 2), (const char *)vouch__col_text(st, 3),
                               (const char *)vouch__col_text(st, 4), (const char *)vouch__col_text(st, 5),
                               vouch__col_int64(st, 6), vouch__col_int64(st, 7) == 0};
    if (!c.name || !c.url || !c.bank || c.type < 0) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "an exchange row is malformed");
      break;
    }
    n++;
    if ((rc = cb(ctx, &c)) != 0)
      break;
  }
  if (rc == VOUCH_OK && src != VOUCH__DB_DONE && src != VOUCH__DB_ROW)
    rc = vouch__bank_dbfail(b, src, "list exchanges");
  vouch__finalize(st);
  if (rc == VOUCH_OK && name && n == 0)
    rc = vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no exchange named '%s'", name);
  return rc;
}

