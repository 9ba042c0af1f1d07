/* src/bank/exchange_json.c -- the JSON pages of two hash exchanges
 * (docs/exchanges.md):
 *   StopNCII FetchHashes: {"count", "nextPageToken", "nextSetTimestamp",
 *     "hasMoreRecords", "hashRecords": [{"signalType", "hashValue",
 *     "hashStatus", "lastModtimestamp", "caseNumbers", "CSPFeedbacks"}]}
 *   Tech Against Terrorism hash list: {"count", "next", "previous",
 *     "checkpoint", "results": [{"id", "hash_digest", "algorithm",
 *     "ideology", "file_type", "deleted", "updated_on", "created_on"}]}
 *   ThreatExchange /threat_updates: {"data": [{"id", "indicator", "type",
 *     "last_updated", "should_delete", "descriptors": {"data": [{"id",
 *     "owner", "tags", "status", "added_on"}]}}], "paging": {"cursors",
 *     "next"}}; a record with should_delete, or without descriptors, is a
 *     deletion (as python-threatexchange reads it).
 * A page that is not of that shape is an error as a whole; a record that is
 * malformed is reported with its number (1-based) and skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "bank_internal.h"

/* A string member, or NULL (absent, null, not a string, or holding NUL). */
static const char *str(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  if (!json_is_string(v) || memchr(json_string_value(v), 0, json_string_length(v)))
    return NULL;
  return json_string_value(v);
}

/* Copies a string or integer paging member into dst (cap bytes). */
static int page_field(json_t *root, const char *key, char *dst, size_t cap) {
  json_t *v = json_object_get(root, key);
  if (!v || json_is_null(v))
    return 0;
  if (json_is_integer(v)) {
    snprintf(dst, cap, "%lld", (long long)json_integer_value(v));
    return 0;
  }
  if (json_is_real(v)) {
    snprintf(dst, cap, "%.6f", json_real_value(v));
    return 0;
  }
  const char *s = str(root, key);
  if (!s || strlen(s) >= cap)
    return -1;
  memcpy(dst, s, strlen(s) + 1);
  return 0;
}

static int stopncii_record(vouch__sink *sk, json_t *r, size_t n) {
  const char *type = str(r, "signalType"), *hash = str(r, "hashValue"), *status = str(r, "hashStatus");
  if (!json_is_object(r) || !type || !hash || !status)
    return vouch__sink_report(sk, n, "hashRecords[%zu]: not a record with signalType, hashValue and hashStatus",
                              n - 1);
  int kind;
  if (!strcmp(status, "Active") || !strcmp(status, "Received"))
    kind = VOUCH_ITEM_ADD;
  else if (!strcmp(status, "Withdrawn") || !strcmp(status, "Deleted"))
    kind = VOUCH_ITEM_DELETE;
  else
    return vouch__sink_report(sk, n, "hashRecords[%zu]: unknown hashStatus '%.32s'", n - 1, status);
  vouch__row row = {n, type, hash, strlen(hash), kind, NULL, NULL, NULL, -1, 1};
  return vouch__sink_row(sk, &row);
}

static int tat_record(vouch__sink *sk, json_t *r, size_t n, char *tags, size_t tcap) {
  const char *hash = str(r, "hash_digest"), *algo = str(r, "algorithm");
  json_t *del = json_object_get(r, "deleted"), *id = json_object_get(r, "id");
  if (!json_is_object(r) || !hash || !algo || (del && !json_is_boolean(del)))
    return vouch__sink_report(sk, n, "results[%zu]: not a record with hash_digest, algorithm and deleted",
                              n - 1);
  char idbuf[32];
  const char *ext = NULL;
  if (json_is_integer(id)) {
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(id));
    ext = idbuf;
  } else if (str(r, "id") && strlen(str(r, "id")) <= VOUCH_LIST_FIELD_MAX) {
    ext = str(r, "id");
  }
  const char *ftype = str(r, "file_type");
  const char *t = vouch__tags_join(tags, tcap, str(r, "ideology"),
                                   ftype && strlen(ftype) <= 64 ? ftype : NULL, ',');
  vouch__row row = {n, algo, hash, strlen(hash), json_is_true(del) ? VOUCH_ITEM_DELETE : VOUCH_ITEM_ADD,
                    ext, NULL, t, -1, 1};
  return vouch__sink_row(sk, &row);
}

/* A descriptor's tags: an array of strings, or {"data": [{"text": T}]}. */
static void te_tags(json_t *d, char *buf, size_t cap, size_t *len) {
  json_t *tags = json_object_get(d, "tags"), *t;
  if (json_is_object(tags))
    tags = json_object_get(tags, "data");
  size_t i;
  json_array_foreach(tags, i, t) {
    const char *s = json_is_string(t) ? json_string_value(t) : str(t, "text");
    size_t sl = s ? strlen(s) : 0;
    if (!sl || sl > 64 || strchr(s, ',') || *len + sl + 2 > cap)
      continue;
    if (*len)
      buf[(*len)++] = ',';
    memcpy(buf + *len, s, sl + 1);
    *len += sl;
  }
}

static int te_record(vouch__sink *sk, json_t *r, size_t n, char *tags, size_t tcap, int64_t *latest) {
  const char *type = str(r, "type"), *ind = str(r, "indicator");
  json_t *del = json_object_get(r, "should_delete"), *id = json_object_get(r, "id");
  json_t *upd = json_object_get(r, "last_updated");
  if (!json_is_object(r) || !type || (del && !json_is_boolean(del)) || (!ind && !json_is_true(del)))
    return vouch__sink_report(sk, n, "data[%zu]: not an update with type, indicator and should_delete", n - 1);
  char idbuf[32];
  const char *ext = NULL;
  if (json_is_integer(id)) {
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(id));
    ext = idbuf;
  } else if (str(r, "id") && strlen(str(r, "id")) <= 64) {
    ext = str(r, "id");
  }
  /* last_updated: Unix seconds, as a number or a string of digits */
  long long t = -1;
  if (json_is_integer(upd))
    t = json_integer_value(upd);
  else if (str(r, "last_updated") && strspn(str(r, "last_updated"), "0123456789") == strlen(str(r, "last_updated")) &&
           strlen(str(r, "last_updated")) < 19)
    t = atoll(str(r, "last_updated"));
  if (t > *latest)
    *latest = t;
  json_t *descs = json_object_get(json_object_get(r, "descriptors"), "data"), *d;
  int kind = json_is_true(del) || !json_array_size(descs) ? VOUCH_ITEM_DELETE : VOUCH_ITEM_ADD;
  size_t tl = 0, i;
  tags[0] = 0;
  json_array_foreach(descs, i, d) te_tags(d, tags, tcap, &tl);
  vouch__row row = {n, type, ind, ind ? strlen(ind) : 0, kind, ext, NULL, tl ? tags : NULL, -1, 1};
  return vouch__sink_row(sk, &row);
}

/* Removes an access_token=... parameter from a URL in place: Graph API
 * next links carry the caller's token, which must not be stored or shown
 * (our requests send it in a header). */
static void drop_token(char *url) {
  char *q = strchr(url, '?');
  if (!q)
    return;
  char *w = q + 1, *r = q + 1; /* w never passes r: parameters only shrink */
  while (*r) {
    char *end = strchr(r, '&');
    size_t l = end ? (size_t)(end - r) : strlen(r);
    if (strncmp(r, "access_token=", 13) != 0) {
      if (w != q + 1)
        *w++ = '&';
      memmove(w, r, l);
      w += l;
    }
    r += l + (end != NULL);
  }
  *w = 0;
  if (w == q + 1)
    *q = 0;
}

static int parse_te_page(vouch__sink *sk, json_t *root) {
  json_t *recs = json_is_object(root) ? json_object_get(root, "data") : NULL;
  json_t *paging = json_object_get(root, "paging");
  if (!json_is_array(recs) || (paging && !json_is_object(paging) && !json_is_null(paging))) {
    (void)vouch__sink_report(sk, 1, "not a ThreatExchange page: no \"data\" array");
    return VOUCH_E_HASH_PARSE;
  }
  vouch_list_page pg;
  memset(&pg, 0, sizeof pg);
  if (json_is_object(paging) && page_field(paging, "next", pg.next, sizeof pg.next)) {
    (void)vouch__sink_report(sk, 1, "ThreatExchange page: malformed paging fields");
    return VOUCH_E_HASH_PARSE;
  }
  drop_token(pg.next);
  pg.has_more = pg.next[0] != 0;
  pg.records = json_array_size(recs);
  char tags[VOUCH_LIST_FIELD_MAX];
  int64_t latest = -1;
  size_t i;
  json_t *r;
  json_array_foreach(recs, i, r) {
    int rc = te_record(sk, r, i + 1, tags, sizeof tags, &latest);
    if (rc != VOUCH_OK)
      return rc;
  }
  /* the checkpoint: the latest update seen, where the next sync starts */
  if (latest >= 0)
    snprintf(pg.checkpoint, sizeof pg.checkpoint, "%lld", (long long)latest);
  if (sk->o->page)
    *sk->o->page = pg;
  return VOUCH_OK;
}

int vouch__parse_json_page(vouch__sink *sk, void *vroot, int format) {
  if (format == VOUCH_LIST_TE_UPDATES)
    return parse_te_page(sk, vroot);
  json_t *root = vroot;
  int stop = format == VOUCH_LIST_STOPNCII;
  const char *key = stop ? "hashRecords" : "results";
  json_t *recs = json_is_object(root) ? json_object_get(root, key) : NULL;
  if (!json_is_array(recs)) {
    (void)vouch__sink_report(sk, 1, "not a %s page: no \"%s\" array", stop ? "StopNCII" : "TAT", key);
    return VOUCH_E_HASH_PARSE;
  }
  vouch_list_page pg;
  memset(&pg, 0, sizeof pg);
  int bad = stop ? page_field(root, "nextSetTimestamp", pg.checkpoint, sizeof pg.checkpoint) ||
                       page_field(root, "nextPageToken", pg.next, sizeof pg.next)
                 : page_field(root, "checkpoint", pg.checkpoint, sizeof pg.checkpoint) ||
                       page_field(root, "next", pg.next, sizeof pg.next);
  json_t *more = json_object_get(root, "hasMoreRecords");
  if (bad || (stop && more && !json_is_boolean(more))) {
    (void)vouch__sink_report(sk, 1, "%s page: malformed paging fields", stop ? "StopNCII" : "TAT");
    return VOUCH_E_HASH_PARSE;
  }
  pg.has_more = stop ? json_is_true(more) : pg.next[0] != 0;
  if (!pg.has_more) /* StopNCII's last page may still carry a token: it leads nowhere */
    pg.next[0] = 0;
  pg.records = json_array_size(recs);
  if (sk->o->page)
    *sk->o->page = pg;
  char tags[2 * 64 + 16];
  size_t i;
  json_t *r;
  json_array_foreach(recs, i, r) {
    int rc = stop ? stopncii_record(sk, r, i + 1) : tat_record(sk, r, i + 1, tags, sizeof tags);
    if (rc != VOUCH_OK)
      return rc;
  }
  return VOUCH_OK;
}
