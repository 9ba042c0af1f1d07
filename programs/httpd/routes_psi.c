/* programs/httpd/routes_psi.c -- the server side of private matching.
 *   GET  /v1/public                        the PSI public data (public; audit root in
 *                                          the X-Vouch-Audit-Root header)
 *   POST /v1/vouchers  {"account":ID,"vouchers":[BASE64,...]}   (matcher)
 *   GET  /v1/accounts/ID/status            (reader) vouchers, openings, threshold
 * Vouchers are stored per account in the database, one transaction per
 * batch (a crash or kill mid-batch stores none of it); a voucher already
 * stored for the account (same bytes) is not stored twice.  The status is
 * computed by opening the account's stored vouchers with the server key:
 * below the threshold it says only how many opened; above it, the recovered
 * matches (hash and match key) are listed, as in `vouch psi open`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "vouchd.h"
#include "bodies.h"

/* The largest voucher the protocol allows (s and P at their maxima). */
#define VD_VOUCHER_MAX_BYTES VOUCH_PSI_VOUCHER_BYTES(VOUCH_PSI_DHF_MAX, VOUCH_PSI_PROBES_MAX)

static int read_all(const char *path, size_t max, uint8_t **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t cap = 65536, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap >= max) { free(buf); buf = NULL; break; }
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) { free(buf); buf = NULL; break; }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) { free(buf); return -1; }
  *out = buf;
  *len = n;
  return 0;
}

/* The service database, per request: an SQLite bank file or a postgresql://
 * database (vouch/bank.h service state). */
static vouch_bank *open_db(vd_server *s) {
  vouch_bank *db = NULL;
  if (vouch_bank_open(&db, s->db_path, 0) != VOUCH_OK) {
    vouch_bank_free(db);
    return NULL;
  }
  return db;
}

static int no_voucher(void *ctx, const uint8_t *v, size_t len) {
  (void)ctx, (void)v, (void)len;
  return 1;
}

int vd_psi_load(vd_server *s, char *err, size_t errcap) {
  if (!s->psi_key_path && !s->public_path) return 0;
  if (!s->psi_key_path || !s->public_path) {
    snprintf(err, errcap, "--psi-key and --public go together");
    return -1;
  }
  uint8_t *kb = NULL, *pb = NULL;
  size_t kl = 0, pl = 0;
  if (read_all(s->psi_key_path, 4096, &kb, &kl) != 0) {
    snprintf(err, errcap, "cannot read %s", s->psi_key_path);
    return -1;
  }
  vouch_psi_server_key *key = NULL;
  int rc = vouch_psi_server_key_load(&key, kb, kl);
  sodium_memzero(kb, kl);
  free(kb);
  if (rc != VOUCH_OK) {
    snprintf(err, errcap, "%s: %s", s->psi_key_path, vouch_strerror(rc));
    return -1;
  }
  if (read_all(s->public_path, (size_t)1 << 30, &pb, &pl) != 0) {
    vouch_psi_server_key_free(key);
    snprintf(err, errcap, "cannot read %s", s->public_path);
    return -1;
  }
  /* the public data must be this key's (checked by creating a server state) */
  vouch_psi_server *srv = NULL;
  rc = vouch_psi_server_create(&srv, key, pb, pl);
  vouch_psi_server_free(srv);
  vouch_psi_public *pd = NULL;
  uint8_t signer[VOUCH_PSI_SIGN_PK_BYTES], root[32];
  vouch_psi_server_key_signer(key, signer);
  if (rc == VOUCH_OK) rc = vouch_psi_public_open(&pd, pb, pl, signer);
  if (rc != VOUCH_OK) {
    vouch_psi_server_key_free(key);
    free(pb);
    snprintf(err, errcap, "%s: %s (not public data of this key?)", s->public_path, vouch_strerror(rc));
    return -1;
  }
  vouch_psi_public_info(pd, NULL, root, NULL);
  vouch_psi_public_free(pd);
  vouch_bank *db = open_db(s);
  if (!db || vouch_bank_vouchers(db, "", no_voucher, NULL) != VOUCH_OK) { /* creates the table */
    vouch_bank_free(db);
    vouch_psi_server_key_free(key);
    free(pb);
    char shown[512];
    vouch_bank_path_redacted(s->db_path, shown, sizeof shown); /* no password in a log */
    snprintf(err, errcap, "%s: cannot create the voucher table", shown);
    return -1;
  }
  vouch_bank_free(db);
  vd_psi_free(s);
  s->psi_key = key;
  s->public_data = pb;
  s->public_len = pl;
  vouch_hash_to_hex(root, 32, s->public_root_hex, sizeof s->public_root_hex);
  return 0;
}

void vd_psi_free(vd_server *s) {
  vouch_psi_server_key_free(s->psi_key);
  free(s->public_data);
  s->psi_key = NULL;
  s->public_data = NULL;
  s->public_len = 0;
}

enum MHD_Result vd_route_public(vd_server *s, struct MHD_Connection *conn) {
  if (!s->public_data)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "psi_not_configured",
                         "vouchd was started without --psi-key/--public");
  struct MHD_Response *resp = MHD_create_response_from_buffer(s->public_len, s->public_data, MHD_RESPMEM_PERSISTENT);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
  MHD_add_response_header(resp, "X-Vouch-Audit-Root", s->public_root_hex);
  return vd_queue(conn, MHD_HTTP_OK, resp);
}

/* Device tokens act for their own account only (admin tokens for any). */
static int may_act_for(const vd_request *r, const char *account) {
  return r->role != VD_ROLE_DEVICE || !strcmp(r->account, account);
}

enum MHD_Result vd_db_error(struct MHD_Connection *conn, vouch_bank *db, int rc, const char *what) {
  if (rc == VOUCH_E_DB_BUSY)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy_database",
                         "the database is locked by another process; %s", what);
  return vd_send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "database", "%s; %s",
                       db ? vouch_bank_errmsg(db) : "cannot open the database", what);
}

/* Checks a batch against the account's first stored voucher, inside the
 * storing transaction: format and authentication of each voucher, and that
 * it fits the account's parameters (threshold, size, account key). */
typedef struct batch_check {
  vd_server *s;
  uint8_t **bufs;
  size_t *lens, n;
  int bad, conflict, rc;
  const char *why;
  int opened_any; /* a voucher of the batch opened (a match or a synthetic voucher) */
} batch_check;

#define CHECK_REFUSED 1

static int check_batch(void *ctx, const uint8_t *anchor, size_t anchor_len) {
  batch_check *c = ctx;
  vouch_psi_server *check = NULL;
  int status;
  size_t index;
  int rc = vouch_psi_server_create(&check, c->s->psi_key, c->s->public_data, c->s->public_len);
  if (rc == VOUCH_OK && anchor && vouch_psi_server_add(check, anchor, anchor_len, &status, &index) != VOUCH_OK) {
    /* the anchor no longer opens (public data replaced): start over from this batch */
    vouch_psi_server_free(check);
    check = NULL;
    rc = vouch_psi_server_create(&check, c->s->psi_key, c->s->public_data, c->s->public_len);
  }
  for (size_t i = 0; rc == VOUCH_OK && i < c->n && c->bad < 0; i++) {
    int arc = vouch_psi_server_add(check, c->bufs[i], c->lens[i], &status, &index);
    if (arc == VOUCH_OK && status != VOUCH_PSI_NOT_OPENED) c->opened_any = 1;
    if (arc == VOUCH_E_NOMEM) {
      rc = arc;
    } else if (arc != VOUCH_OK) { /* malformed, forged, another format, or not this account's */
      c->bad = (int)i;
      c->conflict = arc == VOUCH_E_PSI_PARAMS;
      c->why = vouch_strerror(arc);
    }
  }
  vouch_psi_server_free(check);
  c->rc = rc;
  return rc != VOUCH_OK || c->bad >= 0 ? CHECK_REFUSED : 0;
}

enum MHD_Result vd_route_vouchers(vd_server *s, struct MHD_Connection *conn, vd_request *r) {
  if (!s->psi_key)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "psi_not_configured",
                         "vouchd was started without --psi-key/--public");
  char account[160];
  uint8_t **bufs = NULL;
  size_t *lens = NULL, n = 0;
  vd_body_error be;
  if (vd_parse_vouchers_json(r->body, r->len, s->max_batch, VD_VOUCHER_MAX_BYTES, account, &bufs, &lens, &n, &be) != 0)
    return vd_send_error(conn, be.status, be.code, "%s", be.message);
  if (!may_act_for(r, account)) {
    vd_free_vouchers(bufs, lens, n);
    return vd_send_error(conn, MHD_HTTP_FORBIDDEN, "forbidden", "this device token belongs to account %s, not %s",
                         r->account, account);
  }
  /* One write transaction from the check to the commit, so the voucher that
   * fixes an account's parameters cannot change under us. */
  enum MHD_Result ret;
  vouch_bank *db = open_db(s);
  batch_check c = {s, bufs, lens, n, -1, 0, VOUCH_OK, "", 0};
  size_t stored = 0;
  int rc = db ? vouch_bank_vouchers_store(db, account, (const uint8_t *const *)bufs, lens, n, check_batch, &c, &stored)
              : VOUCH_E_DB;
  if (rc == CHECK_REFUSED && c.rc != VOUCH_OK) {
    ret = vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "%s", vouch_strerror(c.rc));
  } else if (rc == CHECK_REFUSED && c.conflict) {
    ret = vd_send_error(conn, MHD_HTTP_CONFLICT, "account_mismatch",
                        "vouchers[%d] does not fit account %s (its threshold, size or account key differ from "
                        "the account's first voucher, or from the batch's first); nothing was stored", c.bad, account);
  } else if (rc == CHECK_REFUSED) {
    ret = vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_voucher", "vouchers[%d]: %s; nothing was stored", c.bad, c.why);
  } else if (rc != VOUCH_OK) {
    ret = vd_db_error(conn, db, rc, "nothing was stored");
  } else {
    ret = vd_send_json(conn, MHD_HTTP_OK, json_pack("{s:s,s:I,s:I,s:I}", "account", account, "received",
                                                    (json_int_t)n, "accepted", (json_int_t)stored,
                                                    "duplicates", (json_int_t)(n - stored)));
  }
  vouch_bank_free(db);
  vd_free_vouchers(bufs, lens, n);
  /* routes_review.c: past the threshold, queue its matches (only when this batch added an opening) */
  if (rc == VOUCH_OK && stored && c.opened_any) vd_review_feed(s, account);
  return ret;
}

typedef struct opened {
  vouch_psi_server *srv;
  size_t stored, rejected;
} opened;

static int open_voucher(void *ctx, const uint8_t *v, size_t len) {
  opened *o = ctx;
  int status;
  size_t index;
  o->stored++;
  if (vouch_psi_server_add(o->srv, v, len, &status, &index) != VOUCH_OK)
    o->rejected++; /* e.g. vouchers made for an earlier public data */
  return 0;
}

enum MHD_Result vd_route_account(vd_server *s, struct MHD_Connection *conn, const char *url, vd_request *r) {
  /* /v1/accounts/ID/status */
  const char *p = url + strlen("/v1/accounts/");
  const char *slash = strchr(p, '/');
  char account[160];
  if (!slash || strcmp(slash, "/status") != 0 || (size_t)(slash - p) >= sizeof account)
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "expected /v1/accounts/ID/status");
  memcpy(account, p, (size_t)(slash - p));
  account[slash - p] = 0;
  if (!vd_valid_account(account))
    return vd_send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_account", "bad account id");
  if (!may_act_for(r, account))
    return vd_send_error(conn, MHD_HTTP_FORBIDDEN, "forbidden", "this device token belongs to account %s",
                         r->account);
  if (!s->psi_key)
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "psi_not_configured",
                         "vouchd was started without --psi-key/--public");
  vouch_bank *db = open_db(s);
  opened op = {NULL, 0, 0};
  int lrc = db ? vouch_psi_server_create(&op.srv, s->psi_key, s->public_data, s->public_len) : VOUCH_E_DB;
  if (lrc == VOUCH_OK) lrc = vouch_bank_vouchers(db, account, open_voucher, &op);
  if (lrc != VOUCH_OK) {
    enum MHD_Result ret = vd_db_error(conn, db, lrc, "cannot read vouchers");
    vouch_bank_free(db);
    vouch_psi_server_free(op.srv);
    return ret;
  }
  vouch_bank_free(db);
  vouch_psi_server *srv = op.srv;
  size_t stored = op.stored, rejected = op.rejected;
  if (stored == 0) {
    vouch_psi_server_free(srv);
    return vd_send_error(conn, MHD_HTTP_NOT_FOUND, "not_found", "no vouchers for account %s", account);
  }
  vouch_psi_summary sum;
  int rc = vouch_psi_server_reveal(srv, &sum);
  if (rc != VOUCH_OK) {
    vouch_psi_server_free(srv);
    return vd_send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory", "%s", vouch_strerror(rc));
  }
  json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:b}", "account", account, "stored", (json_int_t)stored, "vouchers",
                        (json_int_t)sum.vouchers, "opened", (json_int_t)sum.opened, "threshold_crossed",
                        sum.threshold_crossed);
  if (rejected) json_object_set_new(o, "rejected", json_integer((json_int_t)rejected));
  if (sum.threshold_crossed) {
    json_t *arr = json_array();
    vd_review_ctx *review = vd_review_ctx_new(s);
    for (size_t i = 0; i < sum.vouchers; i++) {
      vouch_psi_payload pl;
      if (vouch_psi_server_payload(srv, i, &pl) != VOUCH_OK) continue;
      char hex[2 * VOUCH_PSI_HASH_MAX_BYTES + 1], mk[2 * VOUCH_PSI_MATCH_KEY_BYTES + 1];
      vouch_hash_to_hex(pl.hash, pl.hash_len, hex, sizeof hex);
      vouch_hash_to_hex(pl.match_key, sizeof pl.match_key, mk, sizeof mk);
      json_t *m = json_pack("{s:I,s:s,s:s,s:s}", "voucher", (json_int_t)i, "algo", vouch_algo_name(pl.algo), "hash",
                            hex, "match_key", mk);
      vd_review_payload(review, account, &pl, m); /* second-hash verdict, matched entry; queued for review */
      json_array_append_new(arr, m);
    }
    vd_review_ctx_summary(review, o);
    vd_review_ctx_free(review);
    json_object_set_new(o, "real", json_integer((json_int_t)sum.real));
    json_object_set_new(o, "synthetic", json_integer((json_int_t)sum.synthetic));
    json_object_set_new(o, "matches", arr);
  }
  vouch_psi_server_free(srv);
  return vd_send_json(conn, MHD_HTTP_OK, o);
}
