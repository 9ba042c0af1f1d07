/* src/bank/hashlist.c -- parser for the hash-list formats (see vouch/bank.h).
 * Input is untrusted: every field is bounded, nothing is assumed to be
 * NUL-terminated, and a bad line is reported with its number and skipped. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <jansson.h>
#include "vouch/bank.h"
#include "bank_internal.h"

static const char *const format_names[] = {"auto", "hex", "csv", "tsv", "jsonl",
                                           "tx", "te", "ncmec", "stopncii", "tat", "te-updates"};

const char *vouch_list_format_name(int format) {
  if (format < 0 || format > VOUCH_LIST_FORMAT_LAST)
    return "unknown";
  return format_names[format];
}

int vouch_list_format_from_name(const char *name) {
  if (!name)
    return -1;
  for (int i = 0; i <= VOUCH_LIST_FORMAT_LAST; i++)
    if (!strcasecmp(name, format_names[i])) return i;
  if (!strcasecmp(name, "json")) return VOUCH_LIST_JSONL;
  return -1;
}

/* ---------------------------------------------------------------- signal types */

/* Signal type names as the exchanges and tools spell them, and the vouch
 * algorithm name that hashes them.  The algorithm is looked up by name, so a
 * build that adds an algorithm (md5, vpdq, ...) picks its rows up unchanged. */
static const struct {
  const char *name, *algo;
} signal_types[] = {
    /* vouch and python-threatexchange / HMA signal type names */
    {"pdq", "pdq"}, {"phash", "phash"}, {"dhash", "dhash"}, {"ahash", "ahash"}, {"vpdq", "vpdq"},
    {"md5", "md5"}, {"video_md5", "md5"}, {"photo_md5", "md5"}, {"sha1", "sha1"},
    {"sha256", "sha256"}, {"url", "url"}, {"url_md5", "url_md5"}, {"raw_text", "text"},
    {"text_md5", "text_md5"}, {"trend_query", "trend_query"}, {"tlsh", "tlsh"},
    {"tlsh_pdf", "tlsh"}, {"pdq_ocr", "pdq_ocr"}, {"video_tmk_pdqf", "tmk"}, {"clip", "clip"},
    /* ThreatExchange indicator types */
    {"hash_pdq", "pdq"}, {"hash_md5", "md5"}, {"hash_video_md5", "md5"}, {"hash_sha1", "sha1"}, {"hash_sha256", "sha256"},
    {"hash_tmk", "tmk"}, {"hash_photodna", "photodna"}, {"hash_vpdq", "vpdq"}, {"uri", "url"},
    /* StopNCII signalType */
    {"imagepdq", "pdq"}, {"videomd5", "md5"}, {"videotmk", "tmk"}, {"text", "text"},
    /* NCMEC fingerprints */
    {"pdna", "photodna"}, {"photodna", "photodna"}, {"tmk-pdqf", "tmk"}, {"tmk_pdqf", "tmk"},
    {"videntifier", "videntifier"}, {"netclean", "netclean"},
};

int vouch_signal_type_algo(const char *name, size_t len) {
  if (!name)
    return -1;
  for (size_t i = 0; i < sizeof signal_types / sizeof signal_types[0]; i++) {
    const char *n = signal_types[i].name;
    if (strlen(n) == len && !strncasecmp(n, name, len))
      return vouch_bank_algo_from_name(signal_types[i].algo);
  }
  return -1;
}

/* ---------------------------------------------------------------- the sink */

int vouch__sink_report(vouch__sink *s, size_t line, const char *fmt, ...) {
  char msg[320];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (s->error && s->error(s->ctx, line, msg) != 0)
    return VOUCH_E_HASH_PARSE;
  return VOUCH_OK;
}

static int is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Parses a hex hash of exactly hb bytes from s[0..len) after trimming. */
static int sink_hash(vouch__sink *s, const char *h, size_t len) {
  while (len && is_blank((unsigned char)*h)) { h++; len--; }
  while (len && is_blank((unsigned char)h[len - 1])) len--;
  if (len >= 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X')) { h += 2; len -= 2; }
  return vouch_hash_from_hex(h, len, s->hash, s->hb);
}

/* Parses a second hash (vouch_derivative_hash(), current version) from text. */
static int sink_second(vouch__sink *s, const char *h) {
  size_t len = strlen(h);
  while (len && is_blank((unsigned char)*h)) { h++; len--; }
  while (len && is_blank((unsigned char)h[len - 1])) len--;
  if (vouch_hash_from_hex(h, len, s->second, VOUCH_DERIV_HASH_BYTES) != VOUCH_OK ||
      s->second[0] != VOUCH_DERIV_HASH_VERSION)
    return VOUCH_E_HASH_PARSE;
  return VOUCH_OK;
}

/* Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * past U+10FFFF.  Returns the length of the sequence at p, or 0. */
static size_t utf8_seq(const unsigned char *p, size_t avail) {
  unsigned char c = p[0];
  if (c < 0x80)
    return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;      /* overlong */
    else if (c == 0xED) hi = 0x9F; /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;      /* overlong */
    else if (c == 0xF4) hi = 0x8F; /* past U+10FFFF */
  } else {
    return 0;
  }
  if (avail < n || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF)
      return 0;
  return n;
}

int vouch_utf8_valid(const char *s, size_t len) {
  if (!s)
    return len == 0;
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < len;) {
    size_t n = utf8_seq(p + i, len - i);
    if (!n)
      return 0;
    i += n;
  }
  return 1;
}

static int text_ok(const char *s) { return !s || vouch_utf8_valid(s, strlen(s)); }

int vouch__sink_row(vouch__sink *s, const vouch__row *r) {
  const char *type = r->sigtype ? r->sigtype : s->o->signal_type;
  /* ids, sources and tags end up in JSON answers and CSV exports: UTF-8 only */
  if (!text_ok(r->ext_id) || !text_ok(r->source) || !text_ok(r->tags) || !text_ok(r->sigtype))
    return vouch__sink_report(s, r->line, "%s is not valid UTF-8",
                              !text_ok(r->ext_id) ? "the id" : !text_ok(r->source) ? "the source"
                              : !text_ok(r->tags) ? "the tags" : "the signal type");
  vouch_list_item it = {r->line, NULL, r->ext_id, r->source, r->tags, r->kind, type, r->quality, NULL};
  if (type) {
    int a = vouch_signal_type_algo(type, strlen(type));
    if (a < 0 && !r->unknown_skips)
      return vouch__sink_report(s, r->line, "unknown signal type '%.64s'", type);
    if (a != s->o->algo) {
      it.kind = VOUCH_ITEM_SKIP;
      return s->item(s->ctx, &it);
    }
  }
  if (s->second_hex && *s->second_hex) {
    if (r->kind != VOUCH_ITEM_ADD)
      return vouch__sink_report(s, r->line, "a deletion carries no second hash");
    if (sink_second(s, s->second_hex) != VOUCH_OK)
      return vouch__sink_report(s, r->line, "second_hash is not a version-%u second hash (%u hex digits)",
                                VOUCH_DERIV_HASH_VERSION, 2U * VOUCH_DERIV_HASH_BYTES);
    it.second = s->second;
  }
  if (r->hex) {
    if (sink_hash(s, r->hex, r->hlen) != VOUCH_OK)
      return vouch__sink_report(s, r->line, "not a %s hash", vouch_algo_name(s->o->algo));
    it.hash = s->hash;
  } else if (r->kind != VOUCH_ITEM_DELETE || !r->ext_id) {
    return vouch__sink_report(s, r->line, "no %s hash", vouch_algo_name(s->o->algo));
  }
  if (r->kind == VOUCH_ITEM_ADD && r->quality >= 0 && s->min_quality >= 0 && r->quality < s->min_quality)
    it.kind = VOUCH_ITEM_LOW_QUALITY;
  return s->item(s->ctx, &it);
}

const char *vouch__tags_join(char *buf, size_t cap, const char *category, const char *tags, char sep) {
  size_t w = 0;
  if (category && *category) {
    int n = snprintf(buf, cap, "category:%s", category);
    if (n < 0 || (size_t)n >= cap) return NULL;
    w = (size_t)n;
  }
  for (const char *p = tags; p && *p;) {
    while (*p == sep || is_blank((unsigned char)*p)) p++;
    const char *e = p;
    while (*e && *e != sep && !(sep == ' ' && is_blank((unsigned char)*e))) e++;
    size_t l = (size_t)(e - p);
    while (l && is_blank((unsigned char)p[l - 1])) l--;
    if (l) {
      if (w + l + 2 > cap) return NULL;
      if (w) buf[w++] = ',';
      memcpy(buf + w, p, l);
      w += l;
    }
    p = e;
  }
  if (w >= cap) return NULL;
  buf[w] = 0;
  return w ? buf : NULL;
}

#define MAX_COLUMNS 256U
#define TAGS_CAP (2U * VOUCH_LIST_FIELD_MAX + 16U)

typedef struct parser {
  vouch__sink sink;
  const vouch_list_opts *o;
  int format;
  int have_header;
  int col_hash, col_id, col_source, col_tags, col_type, col_category, col_quality, col_second; /* -1: none */
  int te_first;               /* TE state: column of the indicator (0, or 1 with the id first) */
  /* scratch */
  char *fields;               /* unquoted field bytes, NUL-separated */
  size_t fstart[MAX_COLUMNS];
  size_t nfields;
  char tags[TAGS_CAP];
} parser;

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

static const char *const hash_names[] = {"hash", "pdq", "pdq_hash", "signal_value", "signal_str", "value",
                                         "phash", "dhash", "ahash", "hash_value", "hashvalue",
                                         "hash_digest", NULL};
static const char *const id_names[] = {"id", "ext_id", "external_id", "signal_id", "content_id",
                                       "media_id", "path", NULL};
static const char *const source_names[] = {"source", "sources", "origin", "provider", "collab",
                                           "collaboration", NULL};
static const char *const tag_names[] = {"tags", "tag", "labels", NULL};
static const char *const type_names[] = {"signal_type", "signaltype", "algorithm", "algo", NULL};
static const char *const category_names[] = {"category", "classification", NULL};
static const char *const quality_names[] = {"quality", "pdq_quality", NULL};
static const char *const second_names[] = {"second_hash", "second", NULL};

/* All digits (a descriptor id). */
static int is_digits(const char *f) {
  if (!f || !*f) return 0;
  for (; *f; f++)
    if (*f < '0' || *f > '9') return 0;
  return 1;
}

/* A ThreatExchange added_on: "mine", or an ISO date "YYYY-MM-DD...". */
static int is_te_date(const char *f) {
  if (!f) return 0;
  if (!strcmp(f, "mine")) return 1;
  return strlen(f) >= 10 && isdigit((unsigned char)f[0]) && isdigit((unsigned char)f[3]) && f[4] == '-' &&
         f[7] == '-';
}

/* A header-less CSV row shaped like a TE state row: indicator,descriptor_id,
 * added_on,labels or indicator_id,indicator,descriptor_id,added_on,labels.
 * Returns the indicator's column, or -1. */
static int te_shape(parser *p) {
  if (p->nfields == 4 && is_digits(field(p, 1)) && is_te_date(field(p, 2))) return 0;
  if (p->nfields == 5 && is_digits(field(p, 0)) && is_digits(field(p, 2)) && is_te_date(field(p, 3)))
    return 1;
  return -1;
}

static int header(parser *p) {
  p->col_hash = p->col_id = p->col_source = p->col_tags = -1;
  p->col_type = p->col_category = p->col_quality = p->col_second = -1;
  /* a digest bank: a column named after its signal type ("md5", "MD5",
   * "video_md5", "sha1", ...) is the hash column, wherever it stands */
  for (size_t c = 0; c < p->nfields && !p->o->column && vouch_algo_is_digest(p->o->algo); c++) {
    const char *n = clean(p->fields + p->fstart[c]);
    if (n && vouch_signal_type_algo(n, strlen(n)) == p->o->algo) {
      p->col_hash = (int)c;
      break;
    }
  }
  for (size_t c = 0; c < p->nfields; c++) {
    char *f = p->fields + p->fstart[c];
    const char *n = clean(f);
    if (!n || (int)c == p->col_hash) continue;
    if (p->col_hash < 0 && (p->o->column ? !strcasecmp(n, p->o->column) : name_in(n, hash_names)))
      p->col_hash = (int)c;
    else if (p->col_id < 0 && name_in(n, id_names)) p->col_id = (int)c;
    else if (p->col_source < 0 && name_in(n, source_names)) p->col_source = (int)c;
    else if (p->col_tags < 0 && name_in(n, tag_names)) p->col_tags = (int)c;
    else if (p->col_type < 0 && name_in(n, type_names)) p->col_type = (int)c;
    else if (p->col_category < 0 && name_in(n, category_names)) p->col_category = (int)c;
    else if (p->col_quality < 0 && name_in(n, quality_names)) p->col_quality = (int)c;
    else if (p->col_second < 0 && name_in(n, second_names)) p->col_second = (int)c;
  }
  if (p->col_hash >= 0) {
    p->have_header = 1;
    return VOUCH_OK;
  }
  p->have_header = 0;
  p->col_type = p->col_category = p->col_quality = p->col_second = -1;
  int te = p->o->column ? -1 : te_shape(p);
  if (p->format == VOUCH_LIST_CSV && (te >= 0 || p->o->signal_type)) {
    p->format = VOUCH_LIST_TE_STATE;
    p->te_first = te > 0 ? te : 0;
    return VOUCH_OK;
  }
  /* no header: hash[,id] if the first field already is a hash */
  if (!p->o->column && sink_hash(&p->sink, field(p, 0), strlen(field(p, 0))) == VOUCH_OK) {
    p->col_hash = 0;
    p->col_id = 1;
    return VOUCH_OK;
  }
  return VOUCH_E_HASH_PARSE;
}

/* A quality field: 0..100, or -1 when absent; -2 when malformed. */
static int quality_of(const char *f) {
  if (!f) return -1;
  if (!is_digits(f) || strlen(f) > 3) return -2;
  int q = (int)strtol(f, NULL, 10);
  return q <= 100 ? q : -2;
}

/* One TE state row: [indicator_id,]indicator,first_descriptor_id,added_on,labels */
static int line_te(parser *p, size_t line) {
  int c = p->te_first;
  if (p->nfields != (size_t)(4 + c))
    return vouch__sink_report(&p->sink, line, "a ThreatExchange state row has %d fields, this one %zu", 4 + c,
                              p->nfields);
  const char *h = field(p, c);
  vouch__row r = {line, NULL, h, strlen(h), VOUCH_ITEM_ADD, clean(field(p, c + 1)), NULL,
                  vouch__tags_join(p->tags, sizeof p->tags, NULL, field(p, c + 3), ' '), -1, 0};
  return vouch__sink_row(&p->sink, &r);
}

static int line_delimited(parser *p, const char *s, size_t len, size_t line, int first) {
  char sep = p->format == VOUCH_LIST_TSV ? '\t' : ',';
  if (split(p, s, len, sep) != 0)
    return first ? VOUCH_E_HASH_PARSE
                 : vouch__sink_report(&p->sink, line, "bad quoting or too many columns");
  if (first) {
    int rc = header(p);
    if (rc != VOUCH_OK || p->have_header)
      return rc;
  }
  if (p->format == VOUCH_LIST_TE_STATE)
    return line_te(p, line);
  const char *h = field(p, p->col_hash);
  if (!h)
    return vouch__sink_report(&p->sink, line, "no hash column on this line");
  int q = quality_of(clean(field(p, p->col_quality)));
  if (q == -2)
    return vouch__sink_report(&p->sink, line, "quality is not a number 0..100");
  const char *type = clean(field(p, p->col_type));
  /* tx dataset --csv: tags are ' '-separated, and the category is kept */
  const char *tags = vouch__tags_join(p->tags, sizeof p->tags, clean(field(p, p->col_category)),
                                      clean(field(p, p->col_tags)), p->col_type >= 0 ? ' ' : ',');
  vouch__row r = {line, type, h, strlen(h), VOUCH_ITEM_ADD, clean(field(p, p->col_id)),
                  clean(field(p, p->col_source)), tags, q, 0};
  p->sink.second_hex = clean(field(p, p->col_second));
  int rc = vouch__sink_row(&p->sink, &r);
  p->sink.second_hex = NULL;
  return rc;
}

/* python-threatexchange's rotation names (tx hash --rotations) */
static const char *const rotations[] = {"ORIGINAL", "ROTATE90", "ROTATE180", "ROTATE270",
                                        "FLIPX", "FLIPY", "FLIPPLUS1", "FLIPMINUS1", NULL};

static int is_rotation(const char *s, size_t len) {
  for (const char *const *r = rotations; *r; r++)
    if (strlen(*r) == len && !strncmp(*r, s, len)) return 1;
  return 0;
}

/* Splits s[0..len) into up to 3 blank-separated words; returns how many. */
static int words(const char *s, size_t len, const char *w[3], size_t wl[3]) {
  int n = 0;
  size_t i = 0;
  while (n < 3) {
    while (i < len && is_blank((unsigned char)s[i])) i++;
    if (i == len) break;
    size_t b = i;
    while (i < len && !is_blank((unsigned char)s[i])) i++;
    w[n] = s + b;
    wl[n++] = i - b;
  }
  return n;
}

/* HASH [ID] (vouch), or the tx forms: SIGNAL_TYPE SIGNAL, ROTATION SIGNAL_TYPE SIGNAL. */
static int line_words(parser *p, const char *s, size_t len, size_t line) {
  const char *w[3] = {0};
  size_t wl[3] = {0};
  int n = words(s, len, w, wl);
  char *id = p->fields, *type = p->fields + VOUCH_LIST_FIELD_MAX + 1;
  if (sink_hash(&p->sink, w[0], wl[0]) == VOUCH_OK) {
    vouch__row r = {line, NULL, w[0], wl[0], VOUCH_ITEM_ADD, NULL, NULL, NULL, -1, 0};
    if (n > 1) {
      if (wl[1] > VOUCH_LIST_FIELD_MAX)
        return vouch__sink_report(&p->sink, line, "id too long");
      memcpy(id, w[1], wl[1]);
      id[wl[1]] = 0;
      r.ext_id = id;
    }
    return vouch__sink_row(&p->sink, &r);
  }
  int k = n == 3 && is_rotation(w[0], wl[0]) ? 1 : 0;
  if (n >= 2 + k && wl[k] <= 64 && vouch_signal_type_algo(w[k], wl[k]) >= 0) {
    memcpy(type, w[k], wl[k]);
    type[wl[k]] = 0;
    const char *tags = NULL;
    if (k && !(wl[0] == 8 && !memcmp(w[0], "ORIGINAL", 8))) { /* a rotated variant */
      memcpy(id, w[0], wl[0]);
      id[wl[0]] = 0;
      for (char *c = id; *c; c++) *c = (char)tolower((unsigned char)*c);
      snprintf(p->tags, sizeof p->tags, "rotation:%s", id);
      tags = p->tags;
    }
    vouch__row r = {line, type, w[k + 1], wl[k + 1], VOUCH_ITEM_ADD, NULL, NULL, tags, -1, 0};
    return vouch__sink_row(&p->sink, &r);
  }
  if (n >= 2 && wl[0] <= 64 && !is_rotation(w[0], wl[0])) {
    int lower = 1;
    for (size_t i = 0; i < wl[0]; i++)
      lower &= islower((unsigned char)w[0][i]) || isdigit((unsigned char)w[0][i]) || w[0][i] == '_';
    if (lower)
      return vouch__sink_report(&p->sink, line, "unknown signal type '%.*s'", (int)wl[0], w[0]);
  }
  return vouch__sink_report(&p->sink, line, "not a %s hash, nor a '<signal_type> <signal>' line",
                            vouch_algo_name(p->o->algo));
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
    return vouch__sink_report(&p->sink, line, "not valid JSON: %s", jerr.text);
  int rc = VOUCH_OK, bad = 0;
  if (!json_is_object(o)) {
    rc = vouch__sink_report(&p->sink, line, "not a JSON object");
    goto done;
  }
  /* four string fields share p->fields, each up to FIELD_MAX + 1 */
  char *b = p->fields;
  const size_t cap = VOUCH_LIST_FIELD_MAX + 1;
  const char *type = json_str(o, "algo", b + 3 * cap, cap, &bad);
  if (!type && !bad) type = json_str(o, "signal_type", b + 3 * cap, cap, &bad);
  json_t *h = json_object_get(o, "hash");
  json_t *jq = json_object_get(o, "quality");
  int q = -1;
  if (jq && !json_is_null(jq)) {
    if (!json_is_integer(jq) || json_integer_value(jq) < 0 || json_integer_value(jq) > 100) {
      rc = vouch__sink_report(&p->sink, line, "quality is not a number 0..100");
      goto done;
    }
    q = (int)json_integer_value(jq);
  }
  const char *id = json_str(o, "id", b, cap, &bad);
  if (!id && !bad) id = json_str(o, "path", b, cap, &bad);
  const char *src = json_str(o, "source", b + cap, cap, &bad);
  const char *tags = json_str(o, "tags", b + 2 * cap, cap, &bad);
  if (bad) {
    rc = vouch__sink_report(&p->sink, line, "an id, path, source, tags or algo field is malformed or too long");
    goto done;
  }
  if (!h || !json_is_string(h)) {
    rc = vouch__sink_report(&p->sink, line, "no %s hash in \"hash\"", vouch_algo_name(p->o->algo));
    goto done;
  }
  json_t *sec = json_object_get(o, "second_hash");
  if (sec && !json_is_null(sec) && (!json_is_string(sec) || memchr(json_string_value(sec), 0, json_string_length(sec)))) {
    rc = vouch__sink_report(&p->sink, line, "\"second_hash\" is not a string");
    goto done;
  }
  vouch__row r = {line, type, json_string_value(h), json_string_length(h), VOUCH_ITEM_ADD, id, src, tags, q, 0};
  p->sink.second_hex = sec && json_is_string(sec) ? json_string_value(sec) : NULL;
  rc = vouch__sink_row(&p->sink, &r);
  p->sink.second_hex = NULL;
done:
  json_decref(o);
  return rc;
}

/* A whole JSON document that is an exchange page: the format, or 0. */
static int json_page_format(json_t *root) {
  if (!json_is_object(root)) return 0;
  if (json_object_get(root, "hashRecords")) return VOUCH_LIST_STOPNCII;
  if (json_object_get(root, "results")) return VOUCH_LIST_TAT;
  if (json_is_array(json_object_get(root, "data"))) return VOUCH_LIST_TE_UPDATES;
  return 0;
}

/* The whole-document format of data (NCMEC, STOPNCII, TAT), or AUTO for a
 * line format.  For a JSON page, *root (may be NULL) receives the parsed
 * document (the caller frees it). */
static int detect_page(const char *data, size_t len, json_t **root) {
  if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
    data += 3;
    len -= 3;
  }
  size_t k = 0;
  while (k < len && (is_blank((unsigned char)data[k]) || data[k] == '\n')) k++;
  if (k < len && data[k] == '<')
    return VOUCH_LIST_NCMEC;
  if (k == len || data[k] != '{')
    return VOUCH_LIST_AUTO;
  json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
  int f = json_page_format(doc);
  if (f && root)
    *root = doc;
  else
    json_decref(doc);
  return f ? f : VOUCH_LIST_AUTO;
}

int vouch_list_detect(const char *data, size_t len) {
  if (!data)
    return VOUCH_LIST_AUTO;
  return detect_page(data, len, NULL);
}

static int parse_json_page(parser *p, const char *data, size_t len) {
  json_error_t jerr;
  json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root) {
    (void)vouch__sink_report(&p->sink, jerr.line > 0 ? (size_t)jerr.line : 1, "not a valid JSON page: %s",
                             jerr.text);
    return VOUCH_E_HASH_PARSE;
  }
  int rc = vouch__parse_json_page(&p->sink, root, p->format);
  json_decref(root);
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
  p.sink.o = opts;
  p.sink.hb = vouch_algo_list_bytes(opts->algo);
  p.sink.item = item;
  p.sink.error = error;
  p.sink.ctx = ctx;
  p.sink.min_quality = opts->min_quality < 0 ? -1
                       : opts->min_quality > 0 ? opts->min_quality
                       : opts->algo == VOUCH_ALGO_PDQ ? VOUCH_PDQ_MIN_QUALITY : -1;
  p.format = opts->format;
  if (p.sink.hb == 0 || p.format < VOUCH_LIST_AUTO || p.format > VOUCH_LIST_FORMAT_LAST)
    return VOUCH_E_INVALID;
  if (opts->page)
    memset(opts->page, 0, sizeof *opts->page);
  if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
    data += 3;
    len -= 3;
  }
  /* whole-document formats */
  if (p.format == VOUCH_LIST_AUTO) {
    json_t *root = NULL;
    int f = detect_page(data, len, &root);
    if (f == VOUCH_LIST_STOPNCII || f == VOUCH_LIST_TAT || f == VOUCH_LIST_TE_UPDATES) {
      int rc = vouch__parse_json_page(&p.sink, root, f);
      json_decref(root);
      if (format_out) *format_out = f;
      return rc;
    }
    if (f == VOUCH_LIST_NCMEC) p.format = f;
  }
  if (p.format == VOUCH_LIST_NCMEC || p.format == VOUCH_LIST_STOPNCII || p.format == VOUCH_LIST_TAT ||
      p.format == VOUCH_LIST_TE_UPDATES) {
    if (format_out) *format_out = p.format;
    return p.format == VOUCH_LIST_NCMEC ? vouch__parse_ncmec(&p.sink, data, len)
                                        : parse_json_page(&p, data, len);
  }
  /* line formats: line plus one NUL per field, and four JSON fields */
  size_t fcap = VOUCH_LIST_LINE_MAX + MAX_COLUMNS + 4 * (VOUCH_LIST_FIELD_MAX + 1);
  p.fields = vouch__malloc(fcap);
  if (!p.fields)
    return VOUCH_E_NOMEM;
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
      rc = vouch__sink_report(&p.sink, line, "line too long");
      continue;
    }
    if (first && p.format == VOUCH_LIST_AUTO) {
      if (s[k] == '{') p.format = VOUCH_LIST_JSONL;
      else if (memchr(s, '\t', l)) p.format = VOUCH_LIST_TSV;
      else if (memchr(s, ',', l)) p.format = VOUCH_LIST_CSV;
      else {
        const char *w[3];
        size_t wl[3];
        (void)words(s, l, w, wl);
        p.format = sink_hash(&p.sink, w[0], wl[0]) == VOUCH_OK ? VOUCH_LIST_HEX : VOUCH_LIST_TX;
        if (p.format == VOUCH_LIST_TX && vouch_signal_type_algo(w[0], wl[0]) < 0 && !is_rotation(w[0], wl[0]))
          p.format = VOUCH_LIST_HEX;
      }
    }
    if (first && p.format == VOUCH_LIST_TE_STATE) {
      p.format = VOUCH_LIST_CSV; /* header() finds the column layout */
      if (split(&p, s, l, ',') != 0 || (p.te_first = te_shape(&p)) < 0) p.te_first = 0;
      p.format = VOUCH_LIST_TE_STATE;
      p.have_header = 0;
    }
    switch (p.format) {
    case VOUCH_LIST_HEX:
    case VOUCH_LIST_TX: rc = line_words(&p, s, l, line); break;
    case VOUCH_LIST_JSONL: rc = line_json(&p, s, l, line); break;
    case VOUCH_LIST_TE_STATE:
      rc = split(&p, s, l, ',') != 0 ? vouch__sink_report(&p.sink, line, "bad quoting or too many columns")
                                     : line_te(&p, line);
      break;
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
