/*
 * src/classify/model.c -- loading and validating a vouch classifier model.
 *
 * File format version 1 (written by scripts/classify/convert.js; all
 * integers and floats little-endian):
 *   0   8  magic "VOUCHCLS"
 *   8   4  format version (1)
 *   12  4  architecture (1: MobileNetV2 alpha 1.0 + dense 256/128/5)
 *   16  4  input side (224)
 *   20  4  classes (5)
 *   24  4  tensors (110)
 *   28  4  reserved (0)
 *   32  8  payload bytes (table + data: the rest of the file, exactly)
 *   40 32  source, NUL-padded text (e.g. "nsfwjs 4.4.0 MobileNetV2")
 *   72 32  SHA-256 of bytes 0..71 followed by the payload
 *   104    tensor table: per tensor 4 x u32 dims (zero beyond its rank)
 *          float32 data of every tensor, in table order
 * The tensor order and shapes are fixed by the architecture; we check each.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "classify/classify_internal.h"

/* (t, c, s) of Keras MobileNetV2's blocks: block 0 is the unexpanded one. */
const vouch__cls_block_spec vouch__cls_blocks[VOUCH__CLS_BLOCKS] = {
  {1, 16, 1},
  {6, 24, 2}, {6, 24, 1},
  {6, 32, 2}, {6, 32, 1}, {6, 32, 1},
  {6, 64, 2}, {6, 64, 1}, {6, 64, 1}, {6, 64, 1},
  {6, 96, 1}, {6, 96, 1}, {6, 96, 1},
  {6, 160, 2}, {6, 160, 1}, {6, 160, 1},
  {6, 320, 1},
};
static const uint32_t dense_sizes[VOUCH__CLS_DENSE + 1] = {VOUCH__CLS_HEAD_CH, 256, 128, VOUCH_CLASSIFY_CLASSES};

typedef struct shape {
  uint32_t d[4];
} shape;

static size_t shape_count(const shape *s) {
  size_t n = 1;
  for (int i = 0; i < 4 && s->d[i]; i++)
    n *= s->d[i];
  return n;
}

/* The tensors of the file, in order; returns how many (VOUCH__CLS_TENSORS). */
static size_t expected_shapes(shape *s) {
  size_t i = 0;
#define PUSH(a, b, c, d) s[i++] = (shape){{(a), (b), (c), (d)}}
  PUSH(3, 3, 3, VOUCH__CLS_STEM_CH);
  PUSH(VOUCH__CLS_STEM_CH, 0, 0, 0);
  uint32_t cin = VOUCH__CLS_STEM_CH;
  for (int bi = 0; bi < VOUCH__CLS_BLOCKS; bi++) {
    uint32_t ce = cin * vouch__cls_blocks[bi].expand, co = vouch__cls_blocks[bi].out;
    if (vouch__cls_blocks[bi].expand != 1) {
      PUSH(cin, ce, 0, 0);
      PUSH(ce, 0, 0, 0);
    }
    PUSH(3, 3, ce, 0);
    PUSH(ce, 0, 0, 0);
    PUSH(ce, co, 0, 0);
    PUSH(co, 0, 0, 0);
    cin = co;
  }
  PUSH(cin, VOUCH__CLS_HEAD_CH, 0, 0);
  PUSH(VOUCH__CLS_HEAD_CH, 0, 0, 0);
  for (int d = 0; d < VOUCH__CLS_DENSE; d++) {
    PUSH(dense_sizes[d], dense_sizes[d + 1], 0, 0);
    PUSH(dense_sizes[d + 1], 0, 0, 0);
  }
#undef PUSH
  return i;
}

static uint32_t round_nr(uint32_t n) { return (n + VOUCH__CLS_NR - 1) / VOUCH__CLS_NR * VOUCH__CLS_NR; }
static size_t pw_floats(uint32_t k, uint32_t n) { return (size_t)k * round_nr(n) + round_nr(n); }

/* Packs w[k][n] + b[n] (float32 LE at `src`) into panels at `dst`; returns
 * the floats used. */
static size_t pack_pw(vouch__cls_pw *pw, float *dst, uint32_t k, uint32_t n, const float *w, const float *b) {
  uint32_t np = round_nr(n);
  float *pb = dst + (size_t)k * np;
  for (uint32_t j = 0; j < np / VOUCH__CLS_NR; j++)
    for (uint32_t kk = 0; kk < k; kk++)
      for (uint32_t r = 0; r < VOUCH__CLS_NR; r++) {
        uint32_t col = j * VOUCH__CLS_NR + r;
        dst[((size_t)j * k + kk) * VOUCH__CLS_NR + r] = col < n ? w[(size_t)kk * n + col] : 0.0f;
      }
  for (uint32_t c = 0; c < np; c++)
    pb[c] = c < n ? b[c] : 0.0f;
  pw->k = k;
  pw->n = n;
  pw->np = np;
  pw->w = dst;
  pw->b = pb;
  return (size_t)k * np + np;
}

/* The next tensor of the file's data. */
static const float *take(const float **src, const shape *exp, size_t *ti) {
  const float *r = *src;
  *src += shape_count(&exp[*ti]);
  (*ti)++;
  return r;
}

static size_t copy_plain(float *dst, const float *src, size_t n) {
  memcpy(dst, src, n * sizeof *dst);
  return n;
}

#define FAIL(rc_, msg_)   \
  do {                    \
    rc = (rc_);           \
    why = (msg_);         \
    goto done;            \
  } while (0)

int vouch_classify_model_load(vouch_classify_model **out, const void *data, size_t len, char *err, size_t err_cap) {
  const char *why = "";
  int rc = VOUCH_OK;
  vouch_classify_model *m = NULL;
  float *vals = NULL;
  shape exp[VOUCH__CLS_TENSORS];
  const uint8_t *p = data;

  vouch__errf(err, err_cap, VOUCH_OK, "%s", "");
  if (!out)
    return VOUCH_E_INVALID;
  *out = NULL;
  if (!data && len)
    return VOUCH_E_INVALID;

  if (len < VOUCH__CLS_HEADER_BYTES)
    FAIL(VOUCH_E_DB_CORRUPT, "model file: shorter than its header");
  if (memcmp(p, VOUCH__CLS_MAGIC, 8) != 0)
    FAIL(VOUCH_E_DB_CORRUPT, "model file: bad magic (not a vouch classifier model)");
  if (vouch__load32_le(p + 8) != VOUCH_CLASSIFY_MODEL_VERSION)
    FAIL(VOUCH_E_DB_VERSION, "model file: unsupported format version");
  if (vouch__load32_le(p + 12) != VOUCH__CLS_ARCH_MOBILENETV2)
    FAIL(VOUCH_E_DB_VERSION, "model file: unsupported architecture");
  if (vouch__load32_le(p + 16) != VOUCH_CLASSIFY_INPUT_SIDE)
    FAIL(VOUCH_E_DB_CORRUPT, "model file: input size is not 224");
  if (vouch__load32_le(p + 20) != VOUCH_CLASSIFY_CLASSES)
    FAIL(VOUCH_E_DB_CORRUPT, "model file: class count is not 5");
  if (vouch__load32_le(p + 24) != VOUCH__CLS_TENSORS)
    FAIL(VOUCH_E_DB_CORRUPT, "model file: wrong tensor count");
  if (vouch__load32_le(p + 28) != 0)
    FAIL(VOUCH_E_DB_CORRUPT, "model file: reserved field is not zero");
  if (vouch__load64_le(p + 32) != (uint64_t)(len - VOUCH__CLS_HEADER_BYTES))
    FAIL(VOUCH_E_DB_CORRUPT, "model file: payload size does not match the file size (truncated?)");
  if (p[40 + 31] != 0)
    FAIL(VOUCH_E_DB_CORRUPT, "model file: source text is not terminated");

  size_t ntens = expected_shapes(exp);
  size_t nfloat = 0;
  for (size_t i = 0; i < ntens; i++)
    nfloat += shape_count(&exp[i]);
  size_t table_bytes = ntens * 16U;
  if (len - VOUCH__CLS_HEADER_BYTES != table_bytes + nfloat * 4U)
    FAIL(VOUCH_E_DB_CORRUPT, "model file: payload size does not match the architecture");
  const uint8_t *tab = p + VOUCH__CLS_HEADER_BYTES;
  for (size_t i = 0; i < ntens; i++)
    for (int d = 0; d < 4; d++)
      if (vouch__load32_le(tab + 16U * i + 4U * (unsigned)d) != exp[i].d[d])
        FAIL(VOUCH_E_DB_CORRUPT, "model file: a tensor's shape does not match the architecture");

  {
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, p, VOUCH__CLS_HASHED_HEADER);
    crypto_hash_sha256_update(&st, tab, len - VOUCH__CLS_HEADER_BYTES);
    crypto_hash_sha256_final(&st, digest);
    if (memcmp(digest, p + VOUCH__CLS_HASHED_HEADER, sizeof digest) != 0)
      FAIL(VOUCH_E_DB_CORRUPT, "model file: checksum mismatch");
  }

  vals = vouch__malloc(nfloat * sizeof *vals);
  if (!vals)
    FAIL(VOUCH_E_NOMEM, "out of memory");
  {
    const uint8_t *q = tab + table_bytes;
    for (size_t i = 0; i < nfloat; i++) {
      uint32_t u = vouch__load32_le(q + 4U * i);
      float f;
      memcpy(&f, &u, sizeof f);
      if (!isfinite(f))
        FAIL(VOUCH_E_DB_CORRUPT, "model file: a weight is not a finite number");
      vals[i] = f;
    }
  }

  m = vouch__calloc(1, sizeof *m);
  if (!m)
    FAIL(VOUCH_E_NOMEM, "out of memory");
  memcpy(m->source, p + 40, 32);
  m->source[32] = 0;

  /* Arena size: packed pointwise layers, depthwise and dense as stored. */
  size_t arena = pw_floats(27, VOUCH__CLS_STEM_CH);
  {
    uint32_t cin = VOUCH__CLS_STEM_CH;
    for (int bi = 0; bi < VOUCH__CLS_BLOCKS; bi++) {
      uint32_t ce = cin * vouch__cls_blocks[bi].expand, co = vouch__cls_blocks[bi].out;
      if (vouch__cls_blocks[bi].expand != 1)
        arena += pw_floats(cin, ce);
      arena += 10U * ce + pw_floats(ce, co);
      cin = co;
    }
    arena += pw_floats(cin, VOUCH__CLS_HEAD_CH);
    for (int d = 0; d < VOUCH__CLS_DENSE; d++)
      arena += (size_t)dense_sizes[d] * dense_sizes[d + 1] + dense_sizes[d + 1];
  }
  m->arena = vouch__malloc(arena * sizeof *m->arena);
  if (!m->arena)
    FAIL(VOUCH_E_NOMEM, "out of memory");

  {
    const float *src = vals;
    float *dst = m->arena;
    size_t ti = 0;
#define NEXT() take(&src, exp, &ti)
    const float *w = NEXT(), *b = NEXT();
    dst += pack_pw(&m->stem, dst, 27, VOUCH__CLS_STEM_CH, w, b);
    uint32_t cin = VOUCH__CLS_STEM_CH;
    size_t act = (size_t)112 * 112 * VOUCH__CLS_STEM_CH, max_act = act;
    uint32_t side = VOUCH_CLASSIFY_INPUT_SIDE / 2;
    for (int bi = 0; bi < VOUCH__CLS_BLOCKS; bi++) {
      vouch__cls_block *bl = &m->blocks[bi];
      bl->cin = cin;
      bl->cexp = cin * vouch__cls_blocks[bi].expand;
      bl->cout = vouch__cls_blocks[bi].out;
      bl->stride = vouch__cls_blocks[bi].stride;
      bl->residual = bl->stride == 1 && bl->cin == bl->cout;
      if (vouch__cls_blocks[bi].expand != 1) {
        w = NEXT();
        b = NEXT();
        dst += pack_pw(&bl->expand, dst, cin, bl->cexp, w, b);
      }
      act = (size_t)side * side * bl->cexp;
      if (act > max_act)
        max_act = act;
      w = NEXT();
      b = NEXT();
      bl->dw.c = bl->cexp;
      bl->dw.w = dst;
      dst += copy_plain(dst, w, 9U * bl->cexp);
      bl->dw.b = dst;
      dst += copy_plain(dst, b, bl->cexp);
      side /= bl->stride;
      w = NEXT();
      b = NEXT();
      dst += pack_pw(&bl->project, dst, bl->cexp, bl->cout, w, b);
      cin = bl->cout;
    }
    w = NEXT();
    b = NEXT();
    dst += pack_pw(&m->head, dst, cin, VOUCH__CLS_HEAD_CH, w, b);
    act = (size_t)side * side * VOUCH__CLS_HEAD_CH;
    if (act > max_act)
      max_act = act;
    for (int d = 0; d < VOUCH__CLS_DENSE; d++) {
      vouch__cls_dense *dl = &m->dense[d];
      dl->in = dense_sizes[d];
      dl->out = dense_sizes[d + 1];
      w = NEXT();
      b = NEXT();
      dl->w = dst;
      dst += copy_plain(dst, w, (size_t)dl->in * dl->out);
      dl->b = dst;
      dst += copy_plain(dst, b, dl->out);
    }
#undef NEXT
    if ((size_t)(dst - m->arena) != arena || ti != ntens)
      FAIL(VOUCH_E_INTERNAL, "model layout mismatch (a bug)");
    m->max_act = max_act;
  }

done:
  vouch__free(vals);
  if (rc != VOUCH_OK) {
    vouch_classify_model_free(m);
    m = NULL;
  }
  vouch__errf(err, err_cap, rc, "%s", why);
  *out = m;
  return rc;
}

int vouch_classify_model_load_file(vouch_classify_model **out, const char *path, char *err, size_t err_cap) {
  vouch__errf(err, err_cap, VOUCH_OK, "%s", "");
  if (!out || !path)
    return VOUCH_E_INVALID;
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return vouch__errf(err, err_cap, VOUCH_E_IO, "cannot open the model file");
  size_t cap = 1U << 20, len = 0;
  uint8_t *buf = vouch__malloc(cap);
  int rc = VOUCH_OK;
  while (buf) {
    if (len == cap) {
      if (cap >= VOUCH_CLASSIFY_MODEL_MAX_BYTES) {
        rc = VOUCH_E_LIMIT;
        break;
      }
      uint8_t *nb = vouch__realloc(buf, cap * 2);
      if (!nb) {
        rc = VOUCH_E_NOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f))
        rc = VOUCH_E_IO;
      break;
    }
  }
  fclose(f);
  if (!buf)
    rc = VOUCH_E_NOMEM;
  if (rc == VOUCH_OK)
    rc = vouch_classify_model_load(out, buf, len, err, err_cap);
  else
    vouch__errf(err, err_cap, rc, "%s",
                rc == VOUCH_E_LIMIT ? "model file too large" : rc == VOUCH_E_IO ? "cannot read the model file" : "out of memory");
  vouch__free(buf);
  return rc;
}

void vouch_classify_model_free(vouch_classify_model *model) {
  if (!model)
    return;
  vouch__free(model->arena);
  vouch__free(model);
}

const char *vouch_classify_model_source(const vouch_classify_model *model) { return model ? model->source : ""; }

size_t vouch_classify_classes(void) { return VOUCH_CLASSIFY_CLASSES; }

const char *vouch_classify_class_name(int cls) {
  static const char *const names[VOUCH_CLASSIFY_CLASSES] = {"drawing", "hentai", "neutral", "porn", "sexy"};
  return cls >= 0 && cls < (int)VOUCH_CLASSIFY_CLASSES ? names[cls] : "?";
}

float vouch_classify_sensitive_score(const float probs[VOUCH_CLASSIFY_CLASSES]) {
  float s = probs[VOUCH_CLASS_PORN] + probs[VOUCH_CLASS_HENTAI] + probs[VOUCH_CLASS_SEXY];
  return s < 0.0f ? 0.0f : s > 1.0f ? 1.0f : s;
}

int vouch_classify_is_sensitive(const float probs[VOUCH_CLASSIFY_CLASSES], float threshold) {
  return vouch_classify_sensitive_score(probs) >= threshold;
}
