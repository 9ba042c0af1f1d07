/* src/bank/hashlist.c -- parser for the hash-list formats (see vouch/bank.h).
 * Input is untrusted: every field is bounded, nothing is assumed to be
 * NUL-terminated, and a bad line is reported with its number and skipped. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "vouch/bank.h"
#include "common/internal.h"

const char *vouch_list_format_name(int format) {
  switch (format) {
  case VOUCH_LIST_AUTO: return "auto";
  case VOUCH_LIST_HEX: return "hex";
  case VOUCH_LIST_CSV: return "csv";
  case VOUCH_LIST_TSV: return "tsv";
  case VOUCH_LIST_JSONL: return "jsonl";
  default: return "unknown";
  }
}

#define MAX_COLUMNS 256U

typedef struct parser {
  const vouch_list_opts *o;
  size_t hb;
  vouch_list_item_cb item;
  vouch_list_error_cb error;
  void *ctx;
  int format;
  int have_header;
  int col_hash, col_id, col_source, col_tags; /* -1: none */
  /* scratch */
  char *fields;               /* unquoted field bytes, NUL-separated */
  size_t fstart[MAX_COLUMNS];
  size_t nfields;
  uint8_t hash[VOUCH_HASH_MAX_BYTES];
} parser;

static int report(parser *p, size_t line, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));
static int report(parser *p, size_t line, const char *fmt, const char *arg) {
  char msg[320];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  snprintf(msg, sizeof msg, fmt, arg ? arg : "");
#pragma GCC diagnostic pop
  if (p->error && p->error(p->ctx, line, msg) != 0)
    return VOUCH_E_HASH_PARSE;
  return VOUCH_OK;
}

static int is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Parses a hex hash of exactly hb bytes from s[0..len) after trimming. */
static int parse_hash(parser *p, const char *s, size_t len) {
  while (len && is_blank((unsigned char)*s)) { s++; len--; }
  while (len && is_blank((unsigned char)s[len - 1])) len--;
  if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { s += 2; len -= 2; }
  return vouch_hash_from_hex(s, len, p->hash, p->hb);
}

/* Splits one CSV/TSV line into p->fields.  Returns 0, or -1 on bad quoting. */
static int split(parser *p, const char *s, size_t len, char sep) {
  size_t w = 0, i = 0;
  p->nfields = 0;
  for (;;) {
    if (p->nfields == MAX_COLUMNS)
      return -1;
    p->fstart[p->nfields++] = w;
    if (i < len && s[i] == '"') {
      i++;
      for (;;) {
        if (i >= len) return -1; /* unterminated (or multi-line) quoted field */
        if (s[i] == '"') {
          if (i + 1 < len && s[i + 1] == '"') { p->fields[w++] = '"'; i += 2; continue; }
          i++;
          break;
        }
        p->fields[w++] = s[i++];
      }
      while (i < len && is_blank((unsigned char)s[i]) && s[i] != sep) i++;
      if (i < len && s[i] != sep) return -1;
    } else {
      while (i < len && s[i] != sep) p->fields[w++] = s[i++];
    }
    p->fields[w++] = 0;
    if (i >= len) break;
    i++; /* the separator */
  }
  return 0;
}

static char *field(parser *p, int col) {
  if (col < 0 || (size_t)col >= p->nfields) return NULL;
  return p->fields + p->fstart[col];
}

/* Trimmed copy semantics: returns NULL for empty or over-long fields. */
static const char *clean(char *f) {
  if (!f) return NULL;
  while (*f && is_blank((unsigned char)*f)) f++;
  size_t l = strlen(f);
  while (l && is_blank((unsigned char)f[l - 1])) f[--l] = 0;
  if (l == 0 || l > VOUCH_LIST_FIELD_MAX) return NULL;
  return f;
}

static int name_in(const char *name, const char *const *list) {
  for (; *list; list++)
    if (!strcasecmp(name, *list)) return 1;
  return 0;
}

static const char *const hash_names[] = {"hash", "pdq", "pdq_hash", "signal_value", "value",
                                         "phash", "dhash", "ahash", "hash_value", NULL};
static const char *const id_names[] = {"id", "ext_id", "external_id", "signal_id", "content_id",
                                       "media_id", "path", NULL};
static const char *const source_names[] = {"source", "origin", "provider", NULL};
static const char *const tag_names[] = {"tags", "tag", "labels", NULL};

static int header(parser *p, size_t line) {
  p->col_hash = p->col_id = p->col_source = p->col_tags = -1;
  for (size_t c = 0; c < p->nfields; c++) {
    char *f = p->fields + p->fstart[c];
    const char *n = clean(f);
    if (!n) continue;
    if (p->col_hash < 0 && (p->o->column ? !strcasecmp(n, p->o->column) : name_in(n, hash_names)))
      p->col_hash = (int)c;
    else if (p->col_id < 0 && name_in(n, id_names)) p->col_id = (int)c;
    else if (p->col_source < 0 && name_in(n, source_names)) p->col_source = (int)c;
    else if (p->col_tags < 0 && name_in(n, tag_names)) p->col_tags = (int)c;
  }
  if (p->col_hash >= 0) {
    p->have_header = 1;
    return VOUCH_OK;
  }
  /* no header: hash[,id] if the first field already is a hash */
  if (!p->o->column && parse_hash(p, field(p, 0), strlen(field(p, 0))) == VOUCH_OK) {
    p->col_hash = 0;
    p->col_id = 1;
    p->have_header = 0;
    return VOUCH_OK;
  }
  (void)line;
  return VOUCH_E_HASH_PARSE;
}

static int emit(parser *p, size_t line, const char *id, const char *src, const char *tags) {
  vouch_list_item it = {line, p->hash, id, src, tags};
  return p->item(p->ctx, &it);
}

static int line_delimited(parser *p, const char *s, size_t len, size_t line, int first) {
  char sep = p->format == VOUCH_LIST_TSV ? '\t' : ',';
  if (split(p, s, len, sep) != 0)
    return first ? VOUCH_E_HASH_PARSE : report(p, line, "bad quoting or too many columns%s", NULL);
  if (first) {
    int rc = header(p, line);
    if (rc != VOUCH_OK || p->have_header)
      return rc;
  }
  const char *h = field(p, p->col_hash);
  if (!h)
    return report(p, line, "no hash column on this line%s", NULL);
  if (parse_hash(p, h, strlen(h)) != VOUCH_OK)
    return report(p, line, "not a %s hash", vouch_algo_name(p->o->algo));
  return emit(p, line, clean(field(p, p->col_id)), clean(field(p, p->col_source)),
              clean(field(p, p->col_tags)));
}

static int line_hex(parser *p, const char *s, size_t len, size_t line) {
  size_t i = 0;
  while (i < len && is_blank((unsigned char)s[i])) i++;
  size_t h0 = i;
  while (i < len && !is_blank((unsigned char)s[i])) i++;
  if (parse_hash(p, s + h0, i - h0) != VOUCH_OK)
    return report(p, line, "not a %s hash", vouch_algo_name(p->o->algo));
  while (i < len && is_blank((unsigned char)s[i])) i++;
  size_t i0 = i;
  while (i < len && !is_blank((unsigned char)s[i])) i++;
  const char *id = NULL;
  if (i > i0) {
    if (i - i0 > VOUCH_LIST_FIELD_MAX)
      return report(p, line, "id too long%s", NULL);
    memcpy(p->fields, s + i0, i - i0);
    p->fields[i - i0] = 0;
    id = p->fields;
  }
  return emit(p, line, id, NULL, NULL);
}

/* JSON strings may contain NUL (\u0000): treat that as a bad field. */
static const char *json_str(json_t *o, const char *key, char *buf, size_t cap, int *bad) {
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return NULL;
  if (json_is_integer(v)) {
    snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    return buf;
  }
  if (json_is_array(v)) { /* tags as a list: join with ',' */
    size_t w = 0, i;
    json_t *e;
    json_array_foreach(v, i, e) {
      if (!json_is_string(e) || json_string_length(e) + w + 2 > cap ||
          memchr(json_string_value(e), 0, json_string_length(e))) { *bad = 1; return NULL; }
      if (w) buf[w++] = ',';
      memcpy(buf + w, json_string_value(e), json_string_length(e));
      w += json_string_length(e);
    }
    buf[w] = 0;
    return w ? buf : NULL;
  }
  if (!json_is_string(v)) { *bad = 1; return NULL; }
  size_t l = json_string_length(v);
  if (l + 1 > cap || memchr(json_string_value(v), 0, l)) { *bad = 1; return NULL; }
  memcpy(buf, json_string_value(v), l + 1);
  return l ? buf : NULL;
}

static int line_json(parser *p, const char *s, size_t len, size_t line) {
  json_error_t jerr;
  json_t *o = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!o)
    return report(p, line, "not valid JSON: %s", jerr.text);
  int rc = VOUCH_OK, bad = 0;
  if (!json_is_object(o)) {
    rc = report(p, line, "not a JSON object%s", NULL);
    goto done;
  }
  json_t *algo = json_object_get(o, "algo");
  if (algo && json_is_string(algo) && vouch_algo_from_name(json_string_value(algo)) != p->o->algo) {
    rc = report(p, line, "hash algorithm is %s", json_string_value(algo));
    goto done;
  }
  json_t *h = json_object_get(o, "hash");
  if (!h || !json_is_string(h) || parse_hash(p, json_string_value(h), json_string_length(h)) != VOUCH_OK) {
    rc = report(p, line, "no %s hash in \"hash\"", vouch_algo_name(p->o->algo));
    goto done;
  }
  /* three string fields share p->fields, each up to FIELD_MAX + 1 */
  char *b = p->fields;
  const size_t cap = VOUCH_LIST_FIELD_MAX + 1;
  const char *id = json_str(o, "id", b, cap, &bad);
  if (!id && !bad) id = json_str(o, "path", b, cap, &bad);
  const char *src = json_str(o, "source", b + cap, cap, &bad);
  const char *tags = json_str(o, "tags", b + 2 * cap, cap, &bad);
  if (bad) {
    rc = report(p, line, "an id, path, source or tags field is malformed or too long%s", NULL);
    goto done;
  }
  rc = emit(p, line, id, src, tags);
done:
  json_decref(o);
  return rc;
}

int vouch_hashlist_parse(const char *data, size_t len, const vouch_list_opts *opts,
                         vouch_list_item_cb item, vouch_list_error_cb error, void *ctx,
                         int *format_out) {
  if (!opts || !item || (!data && len))
    return VOUCH_E_INVALID;
  parser p;
  memset(&p, 0, sizeof p);
  p.o = opts;
  p.hb = vouch_algo_bytes(opts->algo);
  p.item = item;
  p.error = error;
  p.ctx = ctx;
  p.format = opts->format;
  if (p.hb == 0 || p.format < VOUCH_LIST_AUTO || p.format > VOUCH_LIST_JSONL)
    return VOUCH_E_INVALID;
  /* line plus one NUL per field, and three JSON fields */
  size_t fcap = VOUCH_LIST_LINE_MAX + MAX_COLUMNS + 3 * (VOUCH_LIST_FIELD_MAX + 1);
  p.fields = vouch__malloc(fcap);
  if (!p.fields)
    return VOUCH_E_NOMEM;
  if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
    data += 3;
    len -= 3;
  }
  int rc = VOUCH_OK, first = 1;
  size_t line = 0, pos = 0;
  while (pos < len && rc == VOUCH_OK) {
    const char *s = data + pos;
    const char *nl = memchr(s, '\n', len - pos);
    size_t l = nl ? (size_t)(nl - s) : len - pos;
    pos += l + (nl != NULL);
    line++;
    if (l && s[l - 1] == '\r') l--;
    size_t k = 0;
    while (k < l && is_blank((unsigned char)s[k])) k++;
    if (k == l || s[k] == '#')
      continue;
    if (l > VOUCH_LIST_LINE_MAX) {
      rc = report(&p, line, "line too long%s", NULL);
      continue;
    }
    if (first && p.format == VOUCH_LIST_AUTO) {
      if (s[k] == '{') p.format = VOUCH_LIST_JSONL;
      else if (memchr(s, '\t', l)) p.format = VOUCH_LIST_TSV;
      else if (memchr(s, ',', l)) p.format = VOUCH_LIST_CSV;
      else p.format = VOUCH_LIST_HEX;
    }
    switch (p.format) {
    case VOUCH_LIST_HEX: rc = line_hex(&p, s, l, line); break;
    case VOUCH_LIST_JSONL: rc = line_json(&p, s, l, line); break;
    default:
      rc = line_delimited(&p, s, l, line, first);
      if (first && rc == VOUCH_E_HASH_PARSE) {
        char msg[200];
        snprintf(msg, sizeof msg, "header names no hash column%s%s%s", opts->column ? " '" : "",
                 opts->column ? opts->column : "", opts->column ? "'" : " (use --column)");
        if (error) (void)error(ctx, line, msg);
      }
      break;
    }
    first = 0;
  }
  if (format_out)
    *format_out = p.format == VOUCH_LIST_AUTO ? VOUCH_LIST_HEX : p.format;
  vouch__free(p.fields);
  return rc;
}
