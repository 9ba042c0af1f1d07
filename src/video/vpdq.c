/*
 * src/video/vpdq.c -- vPDQ: PDQ per selected frame, as Meta's reference
 * (ThreatExchange vpdq/cpp) computes it, and its text form.
 *
 * Per frame the reference fills a float luma plane from the RGB24 frame with
 * PDQ's fillFloatLumaFromRGB (0.299 R + 0.587 G + 0.114 B in float, no
 * special case for grey frames) and runs pdqHash256FromFloatLuma on it.  We
 * compute the same luma row by row and feed it to our exact streaming PDQ
 * (vouch__pdq_exact_rgb), which is bit-exact with the reference's PDQ on
 * the same luma (tests/unit/test_pdq.c; tests/unit/test_video.c checks
 * this path against a float plane made by the formula and
 * vouch_pdq_from_luma()).
 *
 * Frame selection (filehasher.cpp): with S seconds per hash, the frames
 * whose number is a multiple of max(1, (int)(S * frame rate)); S = 0 keeps
 * every frame.  Timestamp: (float)frame / (float)frame rate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "video_internal.h"
#include "hash/pdq_internal.h"

/* PDQ's fixed-size scratch and its DCT matrix, made once per video. */
typedef struct {
  float dct[16 * 64];
  float buf64[64 * 64];
  float dct16[16 * 16];
} pdq_work;

static int hash_rgb(pdq_work *w, const uint8_t *rgb, size_t stride, uint32_t width, uint32_t height,
                    uint8_t hash[VOUCH_PDQ_BYTES], int *quality) {
  /* a read-only view: the exact path only reads the pixels */
  const vouch_image view = {.width = width, .height = height, .channels = 3, .stride = stride,
                            .pixels = (uint8_t *)(uintptr_t)rgb};
  return vouch__pdq_exact_rgb(w->dct, &view, 1, hash, quality, w->buf64, w->dct16);
}

int vouch_vpdq_hash_rgb(const uint8_t *rgb, size_t stride, uint32_t w, uint32_t h, uint8_t hash[VOUCH_PDQ_BYTES],
                        int *quality) {
  if (!hash || !quality || (w && h && (!rgb || stride < (size_t)w * 3U))) return VOUCH_E_INVALID;
  pdq_work *work = vouch__malloc(sizeof *work);
  if (!work) return VOUCH_E_NOMEM;
  vouch__pdq_dct_matrix(work->dct);
  int rc = hash_rgb(work, rgb, stride, w, h, hash, quality);
  vouch__free(work);
  return rc;
}

void vouch_vpdq_clear(vouch_vpdq *h) {
  if (!h) return;
  vouch__free(h->frames);
  memset(h, 0, sizeof *h);
}

int vouch__vpdq_push(vouch_vpdq *h, const vouch_vpdq_frame *f) {
  if (h->n == h->cap) {
    if (h->cap >= VOUCH_VPDQ_MAX_FRAMES) return VOUCH_E_LIMIT;
    size_t cap = h->cap ? h->cap * 2 : 256;
    if (cap > VOUCH_VPDQ_MAX_FRAMES) cap = VOUCH_VPDQ_MAX_FRAMES;
    vouch_vpdq_frame *p = vouch__realloc(h->frames, cap * sizeof *p);
    if (!p) return VOUCH_E_NOMEM;
    h->frames = p;
    h->cap = cap;
  }
  h->frames[h->n++] = *f;
  return VOUCH_OK;
}

int vouch_vpdq_hash_video(vouch_video *v, double seconds_per_hash, vouch_vpdq *out) {
  if (!v || !out || !(seconds_per_hash >= 0) || !isfinite(seconds_per_hash)) return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  vouch_video_info info;
  vouch_video_get_info(v, &info);
  out->width = info.width;
  out->height = info.height;
  out->duration = info.duration;
  const double fps = vouch__video_frame_rate(v);
  double mod_d = seconds_per_hash * fps;
  uint64_t mod = mod_d >= 1.0 ? (mod_d < 1e18 ? (uint64_t)mod_d : UINT64_C(1000000000000000000)) : 1;
  const float fps_f = (float)fps;
  pdq_work *work = vouch__malloc(sizeof *work);
  int rc = VOUCH_OK;
  if (!work) {
    rc = VOUCH_E_NOMEM;
    goto done;
  }
  vouch__pdq_dct_matrix(work->dct);
  for (uint64_t next = 0;; next++) {
    vouch_video_frame f;
    int eof = 0;
    /* frames are numbered in decode order from 0, so the next one is
     * `next`: only the selected ones are converted to RGB */
    const int selected = next % mod == 0;
    rc = vouch_video_next(v, selected, &f, &eof);
    if (rc != VOUCH_OK || eof) break;
    if (!selected) continue;
    vouch_vpdq_frame hf = {.frame = f.index, .seconds = (float)f.index / fps_f};
    rc = hash_rgb(work, f.rgb, f.stride, f.width, f.height, hf.hash, &hf.quality);
    if (rc == VOUCH_OK) rc = vouch__vpdq_push(out, &hf);
    if (rc != VOUCH_OK) break;
  }
  if (rc == VOUCH_E_LIMIT) rc = VOUCH_E_VIDEO_TOO_LONG;
  if (rc == VOUCH_OK && out->n == 0) rc = VOUCH_E_VIDEO_CORRUPT;
done:
  vouch__free(work);
  if (rc != VOUCH_OK) {
    vouch__free(out->frames);
    out->frames = NULL;
    out->n = out->cap = 0;
  }
  return rc;
}

size_t vouch_vpdq_format_line(const vouch_vpdq_frame *f, char *buf, size_t cap) {
  char hex[VOUCH_HASH_HEX_BYTES];
  if (!f || !buf || vouch_hash_to_hex(f->hash, VOUCH_PDQ_BYTES, hex, sizeof hex) != VOUCH_OK) return 0;
  int n = snprintf(buf, cap, "%llu,%d,%s,%.3f\n", (unsigned long long)f->frame, f->quality, hex, (double)f->seconds);
  if (n < 0 || (size_t)n >= cap) return 0;
  return (size_t)n;
}

/* ------------------------------------------------------------ parsing */

/* Parses decimal digits in [p, end) as a uint64; 0 on success. */
static int parse_u64(const char *p, const char *end, uint64_t *out) {
  if (p == end || end - p > 19) return -1;
  uint64_t v = 0;
  for (; p < end; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  *out = v;
  return 0;
}

/* Seconds: digits, optionally '.' and digits (the reference writes %.3f;
 * python-threatexchange writes Python floats, also plain decimals). */
static int parse_seconds(const char *p, const char *end, float *out) {
  char buf[48];
  size_t n = (size_t)(end - p);
  if (n == 0 || n >= sizeof buf) return -1;
  int dot = 0, digits = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == '.' && !dot) dot = 1;
    else if (p[i] >= '0' && p[i] <= '9') digits++;
    else return -1;
  }
  if (!digits) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  double d = strtod(buf, NULL);
  if (!isfinite(d) || d < 0 || d > 1e9) return -1;
  *out = (float)d;
  return 0;
}

static int parse_line(const char *p, const char *end, vouch_vpdq_frame *f) {
  const char *field[4], *fend[4];
  int k = 0;
  field[0] = p;
  for (const char *q = p; q < end; q++) {
    if (*q == ',') {
      if (k == 3) return -1;
      fend[k++] = q;
      field[k] = q + 1;
    }
  }
  if (k != 3) return -1;
  fend[3] = end;
  uint64_t frame, quality;
  if (parse_u64(field[0], fend[0], &frame) != 0 || parse_u64(field[1], fend[1], &quality) != 0 || quality > 100)
    return -1;
  if (vouch_hash_from_hex(field[2], (size_t)(fend[2] - field[2]), f->hash, VOUCH_PDQ_BYTES) != VOUCH_OK ||
      fend[2] - field[2] != 2 * (ptrdiff_t)VOUCH_PDQ_BYTES)
    return -1;
  if (parse_seconds(field[3], fend[3], &f->seconds) != 0) return -1;
  f->frame = frame;
  f->quality = (int)quality;
  return 0;
}

static int cmp_frame(const void *pa, const void *pb) {
  const vouch_vpdq_frame *a = pa, *b = pb;
  return a->frame < b->frame ? -1 : a->frame > b->frame;
}

/* python-threatexchange's JSON form (vpdq_to_json):
 * {"FRAME": {"quality": Q, "hash": "HEX", "timestamp": SECONDS}, ...} */
static int parse_json(const char *text, size_t len, vouch_vpdq *out, size_t *line) {
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root || !json_is_object(root)) {
    if (line) *line = root ? 1 : (size_t)(je.line > 0 ? je.line : 1);
    json_decref(root);
    return VOUCH_E_HASH_PARSE;
  }
  int rc = VOUCH_OK;
  const char *key;
  json_t *val;
  json_object_foreach(root, key, val) {
    vouch_vpdq_frame f;
    uint64_t frame, quality;
    json_t *q = json_object_get(val, "quality"), *h = json_object_get(val, "hash"),
           *t = json_object_get(val, "timestamp");
    if (parse_u64(key, key + strlen(key), &frame) != 0 || !json_is_integer(q) || !json_is_string(h) ||
        !json_is_number(t) || json_integer_value(q) < 0 || json_integer_value(q) > 100 ||
        json_string_length(h) != 2 * VOUCH_PDQ_BYTES ||
        vouch_hash_from_hex(json_string_value(h), 2 * VOUCH_PDQ_BYTES, f.hash, VOUCH_PDQ_BYTES) != VOUCH_OK) {
      rc = VOUCH_E_HASH_PARSE;
      break;
    }
    const double secs = json_number_value(t);
    if (!isfinite(secs) || secs < 0 || secs > 1e9) {
      rc = VOUCH_E_HASH_PARSE;
      break;
    }
    quality = (uint64_t)json_integer_value(q);
    f.frame = frame;
    f.quality = (int)quality;
    /* -0.0 passes the sign test but would print as "-0.000" (found by fuzz_vpdq_text) */
    f.seconds = secs == 0 ? 0.0f : (float)secs;
    rc = vouch__vpdq_push(out, &f);
    if (rc != VOUCH_OK) break;
  }
  json_decref(root);
  if (rc == VOUCH_OK && out->n) {
    qsort(out->frames, out->n, sizeof *out->frames, cmp_frame);
    for (size_t i = 1; i < out->n; i++)
      if (out->frames[i].frame == out->frames[i - 1].frame) rc = VOUCH_E_HASH_PARSE; /* "1" and "01" */
  }
  if (rc != VOUCH_OK && line) *line = 1;
  return rc;
}

/* Seconds as Python writes a float with format "{:.3}" (vpdq_util's
 * VPDQ_TIMESTAMP_PRECISION): three significant digits; scientific when the
 * decimal exponent is below -4 or at least 2 ("1e+02", "1.23e+02"), else
 * fixed with at least one digit after the point ("0.0", "12.5", "3.33"). */
static void python_g3(double x, char *buf, size_t cap) {
  if (x == 0) {
    snprintf(buf, cap, "0.0");
    return;
  }
  char e[32];
  snprintf(e, sizeof e, "%.2e", x); /* rounded to 3 significant digits: "d.dde+XX" */
  const char *ep = strchr(e, 'e');
  const int exp10 = ep ? atoi(ep + 1) : 0;
  if (exp10 < -4 || exp10 >= 2) {
    char mant[16];
    size_t m = ep ? (size_t)(ep - e) : strlen(e);
    if (m >= sizeof mant) m = sizeof mant - 1;
    memcpy(mant, e, m);
    mant[m] = 0;
    while (m > 1 && mant[m - 1] == '0') mant[--m] = 0;
    if (m > 1 && mant[m - 1] == '.') mant[--m] = 0;
    const unsigned ax = (unsigned)(exp10 < 0 ? -exp10 : exp10) % 1000u; /* |exponent| <= 308 */
    snprintf(buf, cap, "%.12se%c%02u", mant, exp10 < 0 ? '-' : '+', ax);
    return;
  }
  snprintf(buf, cap, "%.*f", 2 - exp10, x);
  size_t n = strlen(buf);
  while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.') buf[--n] = 0;
}

int vouch_vpdq_format_compact(const vouch_vpdq *h, char **out, size_t *len) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  if (len) *len = 0;
  if (!h || (h->n && !h->frames)) return VOUCH_E_INVALID;
  /* each item: '"' 64 hex ',' 3 digits ',' seconds '"' ", " */
  const size_t per = 2 * VOUCH_PDQ_BYTES + 48;
  if (h->n > (SIZE_MAX - 4) / per) return VOUCH_E_LIMIT;
  char *buf = vouch__malloc(h->n * per + 4);
  if (!buf) return VOUCH_E_NOMEM;
  size_t n = 0;
  buf[n++] = '[';
  for (size_t i = 0; i < h->n; i++) {
    const vouch_vpdq_frame *f = &h->frames[i];
    char hex[VOUCH_HASH_HEX_BYTES], secs[24];
    vouch_hash_to_hex(f->hash, VOUCH_PDQ_BYTES, hex, sizeof hex);
    python_g3((double)f->seconds, secs, sizeof secs);
    n += (size_t)snprintf(buf + n, per + 1, "%s\"%s,%d,%s\"", i ? ", " : "", hex, f->quality, secs);
  }
  buf[n++] = ']';
  buf[n] = 0;
  *out = buf;
  if (len) *len = n;
  return VOUCH_OK;
}

/* Seconds in a compact item: a Python float's text (digits, '.', an
 * exponent), finite and non-negative. */
static int parse_py_seconds(const char *p, size_t n, float *out) {
  char buf[48];
  if (n == 0 || n >= sizeof buf) return -1;
  for (size_t i = 0; i < n; i++)
    if (!strchr("0123456789.eE+-", p[i])) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  char *end;
  const double d = strtod(buf, &end);
  if (*end || !isfinite(d) || d < 0 || d > 1e9) return -1;
  *out = d == 0 ? 0.0f : (float)d;
  return 0;
}

/* python-threatexchange's current form (VpdqCompactFeature, vpdq_to_json):
 * a JSON array of "PDQHEX,QUALITY,SECONDS" strings.  It carries no frame
 * numbers: frame i is the i-th item. */
static int parse_compact(const char *text, size_t len, vouch_vpdq *out, size_t *line) {
  json_error_t je;
  json_t *root = json_loadb(text, len, 0, &je);
  if (!root || !json_is_array(root)) {
    if (line) *line = root ? 1 : (size_t)(je.line > 0 ? je.line : 1);
    json_decref(root);
    return VOUCH_E_HASH_PARSE;
  }
  int rc = json_array_size(root) > VOUCH_VPDQ_MAX_FRAMES ? VOUCH_E_LIMIT : VOUCH_OK;
  size_t i;
  json_t *item;
  json_array_foreach(root, i, item) {
    if (rc != VOUCH_OK) break;
    const char *s = json_string_value(item);
    const size_t n = s ? json_string_length(item) : 0;
    const char *c1 = s ? memchr(s, ',', n) : NULL;
    const char *c2 = c1 ? memchr(c1 + 1, ',', n - (size_t)(c1 + 1 - s)) : NULL;
    uint64_t q;
    vouch_vpdq_frame f = {.frame = i};
    if (!c2 || c1 - s != 2 * (ptrdiff_t)VOUCH_PDQ_BYTES ||
        vouch_hash_from_hex(s, 2 * VOUCH_PDQ_BYTES, f.hash, VOUCH_PDQ_BYTES) != VOUCH_OK ||
        parse_u64(c1 + 1, c2, &q) != 0 || q > 100 || parse_py_seconds(c2 + 1, n - (size_t)(c2 + 1 - s), &f.seconds) != 0) {
      rc = VOUCH_E_HASH_PARSE;
      break;
    }
    f.quality = (int)q;
    rc = vouch__vpdq_push(out, &f);
  }
  json_decref(root);
  if (rc != VOUCH_OK && line) *line = 1;
  return rc;
}

int vouch_vpdq_parse(const char *text, size_t len, vouch_vpdq *out, size_t *line) {
  if (!out || (!text && len)) return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  out->duration = -1.0;
  size_t skip = 0;
  while (skip < len && (text[skip] == ' ' || text[skip] == '\t' || text[skip] == '\r' || text[skip] == '\n')) skip++;
  if (skip < len && (text[skip] == '{' || text[skip] == '[')) {
    int jrc = text[skip] == '{' ? parse_json(text, len, out, line) : parse_compact(text, len, out, line);
    if (jrc == VOUCH_OK && out->n == 0) jrc = VOUCH_E_HASH_PARSE;
    if (jrc != VOUCH_OK) {
      vouch_vpdq_clear(out);
      out->duration = -1.0;
    }
    return jrc;
  }
  size_t lineno = 0;
  int rc = VOUCH_OK;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    lineno++;
    const char *e = le;
    if (e > p && e[-1] == '\r') e--;
    if (e > p && *p != '#') {
      vouch_vpdq_frame f;
      if (parse_line(p, e, &f) != 0 || (out->n && f.frame <= out->frames[out->n - 1].frame)) {
        rc = VOUCH_E_HASH_PARSE;
        break;
      }
      rc = vouch__vpdq_push(out, &f);
      if (rc != VOUCH_OK) break;
    }
    p = nl ? nl + 1 : end;
  }
  if (rc == VOUCH_OK && out->n == 0) rc = VOUCH_E_HASH_PARSE;
  if (rc != VOUCH_OK) {
    if (line) *line = lineno;
    vouch_vpdq_clear(out);
    out->duration = -1.0;
  }
  return rc;
}
