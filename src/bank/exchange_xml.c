/* src/bank/exchange_xml.c -- an NCMEC hash-sharing v2 page (docs/exchanges.md):
 *   <queryResult>
 *     <images count= maxTimestamp=>
 *       <image><member id=>NAME</member><timestamp/><id>ID</id>
 *              <classification>A1</classification>
 *              <fingerprints><md5/><sha1/><pdq/><pdna/>...</fingerprints></image>
 *       <deletedImage><member id=/><id>ID</id><timestamp/></deletedImage>
 *     </images>
 *     <videos> the same with video / deletedVideo </videos>
 *     <paging><next>/v2/entries?...</next></paging>
 *   </queryResult>
 * Parsed with libxml2 from Debian: no network, no entity substitution, no
 * DTD loading, nothing printed.  An entry's external id is "MEMBERID-ID" (the
 * same for a deletion, which names only the entry); its classification
 * becomes the tag "category:CLASS".  An entry without a fingerprint of the
 * bank's algorithm is a SKIP item; one without an id is a numbered error. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "bank_internal.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static void xml_init(void) { xmlInitParser(); }

static int named(const xmlNode *n, const char *name) {
  return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNode *child(xmlNode *n, const char *name) {
  for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (named(c, name)) return c;
  return NULL;
}

/* The trimmed text of element n into buf; NULL when absent, empty or too long. */
static const char *text(xmlNode *n, char *buf, size_t cap) {
  if (!n) return NULL;
  size_t w = 0;
  for (xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) continue;
    const char *s = (const char *)c->content;
    size_t l = s ? strlen(s) : 0;
    if (w + l + 1 > cap) return NULL;
    memcpy(buf + w, s, l);
    w += l;
  }
  buf[w] = 0;
  size_t b = 0;
  while (b < w && (buf[b] == ' ' || buf[b] == '\t' || buf[b] == '\r' || buf[b] == '\n')) b++;
  while (w > b && (buf[w - 1] == ' ' || buf[w - 1] == '\t' || buf[w - 1] == '\r' || buf[w - 1] == '\n')) w--;
  buf[w] = 0;
  return w > b ? buf + b : NULL;
}

/* An attribute's value into buf; NULL when absent or too long. */
static const char *attr(xmlNode *n, const char *name, char *buf, size_t cap) {
  xmlChar *v = n ? xmlGetProp(n, (const xmlChar *)name) : NULL;
  if (!v) return NULL;
  size_t l = strlen((const char *)v);
  const char *r = NULL;
  if (l < cap) {
    memcpy(buf, v, l + 1);
    r = buf;
  }
  xmlFree(v);
  return r;
}

typedef struct ncmec {
  vouch__sink *sk;
  char id[VOUCH_LIST_FIELD_MAX + 1];
  char ext[VOUCH_LIST_FIELD_MAX + 1];
  char member[64];
  char cls[64];
  char tags[96];
  char hash[256];
} ncmec;

static int entry(ncmec *x, xmlNode *e, int deleted) {
  vouch__sink *sk = x->sk;
  size_t line = (size_t)xmlGetLineNo(e);
  if (line == 0 || line > (size_t)LONG_MAX) line = 1;
  const char *id = text(child(e, "id"), x->id, sizeof x->id);
  if (!id)
    return vouch__sink_report(sk, line, "%s without an <id>", (const char *)e->name);
  const char *mid = attr(child(e, "member"), "id", x->member, sizeof x->member);
  int n = mid ? snprintf(x->ext, sizeof x->ext, "%s-%s", mid, id) : snprintf(x->ext, sizeof x->ext, "%s", id);
  if (n < 0 || (size_t)n >= sizeof x->ext)
    return vouch__sink_report(sk, line, "%s: id too long", (const char *)e->name);
  if (deleted) {
    vouch__row r = {line, NULL, NULL, 0, VOUCH_ITEM_DELETE, x->ext, NULL, NULL, -1, 1};
    return vouch__sink_row(sk, &r);
  }
  xmlNode *fps = child(e, "fingerprints"), *other = NULL;
  for (xmlNode *f = fps ? fps->children : NULL; f; f = f->next) {
    if (f->type != XML_ELEMENT_NODE) continue;
    const char *name = (const char *)f->name;
    if (vouch_signal_type_algo(name, strlen(name)) != sk->o->algo) {
      if (!other) other = f;
      continue;
    }
    const char *h = text(f, x->hash, sizeof x->hash);
    const char *tags = vouch__tags_join(x->tags, sizeof x->tags,
                                        text(child(e, "classification"), x->cls, sizeof x->cls), NULL, ',');
    vouch__row r = {line, name, h ? h : "", h ? strlen(h) : 0, VOUCH_ITEM_ADD, x->ext, NULL, tags, -1, 1};
    return vouch__sink_row(sk, &r);
  }
  if (!other)
    return vouch__sink_report(sk, line, "%s '%s' has no fingerprints", (const char *)e->name, id);
  vouch__row r = {line, (const char *)other->name, NULL, 0, VOUCH_ITEM_ADD, x->ext, NULL, NULL, -1, 1};
  return vouch__sink_row(sk, &r);
}

int vouch__parse_ncmec(vouch__sink *sk, const char *data, size_t len) {
  if (len > INT_MAX) {
    (void)vouch__sink_report(sk, 1, "NCMEC page too large");
    return VOUCH_E_HASH_PARSE;
  }
  pthread_once(&xml_once, xml_init);
  xmlParserCtxtPtr ctx = xmlNewParserCtxt();
  if (!ctx)
    return VOUCH_E_NOMEM;
  xmlDocPtr doc = xmlCtxtReadMemory(ctx, data, (int)len, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  int rc = VOUCH_OK;
  xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
  if (!doc) {
    (void)vouch__sink_report(sk, ctx->lastError.line > 0 ? (size_t)ctx->lastError.line : 1,
                             "not a well-formed XML page: %.200s",
                             ctx->lastError.message ? ctx->lastError.message : "parse error");
    rc = VOUCH_E_HASH_PARSE;
  } else if (!named(root, "queryResult")) {
    (void)vouch__sink_report(sk, root ? (size_t)xmlGetLineNo(root) : 1,
                             "not an NCMEC page: the root element is not <queryResult>");
    rc = VOUCH_E_HASH_PARSE;
  }
  ncmec *x = rc == VOUCH_OK ? vouch__calloc(1, sizeof *x) : NULL;
  if (rc == VOUCH_OK && !x)
    rc = VOUCH_E_NOMEM;
  vouch_list_page pg;
  memset(&pg, 0, sizeof pg);
  if (rc == VOUCH_OK) {
    x->sk = sk;
    char ts[64];
    for (xmlNode *g = root->children; g && rc == VOUCH_OK; g = g->next) {
      int img = named(g, "images"), vid = named(g, "videos");
      if (!img && !vid) continue;
      const char *t = attr(g, "maxTimestamp", ts, sizeof ts);
      if (t && strcmp(t, pg.checkpoint) > 0) /* ISO-8601 UTC: text order is time order */
        snprintf(pg.checkpoint, sizeof pg.checkpoint, "%s", t);
      for (xmlNode *e = g->children; e && rc == VOUCH_OK; e = e->next) {
        if (named(e, img ? "image" : "video")) {
          pg.records++;
          rc = entry(x, e, 0);
        } else if (named(e, img ? "deletedImage" : "deletedVideo")) {
          pg.records++;
          rc = entry(x, e, 1);
        }
      }
    }
    const char *nx = text(child(child(root, "paging"), "next"), x->id, sizeof x->id);
    if (nx && strlen(nx) < sizeof pg.next)
      memcpy(pg.next, nx, strlen(nx) + 1);
    pg.has_more = pg.next[0] != 0;
    if (sk->o->page)
      *sk->o->page = pg;
  }
  vouch__free(x);
  if (doc)
    xmlFreeDoc(doc);
  xmlFreeParserCtxt(ctx);
  return rc;
}
