/* src/bank/exchange_json.c -- the JSON pages of two hash exchanges
 * (docs/exchanges.md):
 *   StopNCII FetchHashes: {"count", "nextPageToken", "nextSetTimestamp",
 *     "hasMoreRecords", "hashRecords": [{"signalType", "hashValue",
 *     "hashStatus", "lastModtimestamp", "caseNumbers", "CSPFeedbacks"}]}
 *   Tech Against Terrorism hash list: {"count", "next", "previous",
 *     "checkpoint", "results": [{"id", "hash_digest", "algorithm",
 *     "ideology", "file_type", "deleted", "updated_on", "created_on"}]}
 * A page that is not of that shape is an error as a whole; a record that is
 * malformed is reported with its number (1-based) and skipped. */
#include <stdio.h>
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

int vouch__parse_json_page(vouch__sink *sk, void *vroot, int format) {
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
