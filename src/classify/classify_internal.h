/*
 * src/classify/classify_internal.h -- the classifier's model layout, shared
 * by the loader (model.c) and the inference code (net.c).  Not API.
 */
#ifndef VOUCH_CLASSIFY_INTERNAL_H
#define VOUCH_CLASSIFY_INTERNAL_H

#include "common/internal.h"
#include "vouch/classify.h"

/* MobileNetV2 (alpha 1.0) as Keras builds it: a 3x3 stride-2 convolution,
 * 17 inverted-residual blocks, a 1x1 convolution to 1280 channels, global
 * average pooling, then nsfwjs's head: dense 256 (ReLU), dense 128 (ReLU),
 * dense 5 (softmax).  Batch normalisation is folded into the weights by the
 * converter. */
#define VOUCH__CLS_BLOCKS 17
#define VOUCH__CLS_STEM_CH 32U
#define VOUCH__CLS_HEAD_CH 1280U
#define VOUCH__CLS_DENSE 3
#define VOUCH__CLS_TENSORS (2 + 4 + 16 * 6 + 2 + 2 * VOUCH__CLS_DENSE)
/* Output channels are computed 16 at a time (two AVX registers); pointwise
 * weights are packed in panels of this width, padded with zeros. */
#define VOUCH__CLS_NR 16U

/* File layout (docs/classify.md). */
#define VOUCH__CLS_MAGIC "VOUCHCLS"
#define VOUCH__CLS_HEADER_BYTES 104U
#define VOUCH__CLS_HASHED_HEADER 72U  /* bytes of header covered by the checksum */
#define VOUCH__CLS_ARCH_MOBILENETV2 1U

typedef struct vouch__cls_block_spec {
  uint32_t expand; /* expansion factor t (1: no expansion convolution) */
  uint32_t out;    /* output channels */
  uint32_t stride; /* 1 or 2 */
} vouch__cls_block_spec;

VOUCH_HIDDEN extern const vouch__cls_block_spec vouch__cls_blocks[VOUCH__CLS_BLOCKS];

/* A 1x1 convolution (or the stem convolution after im2col, or a dense layer
 * used as one): out[p][n] = b[n] + sum_k in[p][k] * w[k][n].  `w` is packed
 * in panels: panel j holds columns 16j..16j+15 as w[j][k][16], zero-padded
 * beyond n; `b` is padded to np. */
typedef struct vouch__cls_pw {
  uint32_t k, n, np; /* inputs, outputs, outputs rounded up to VOUCH__CLS_NR */
  const float *w;
  const float *b;
} vouch__cls_pw;

/* A 3x3 depthwise convolution: w[ky][kx][c], b[c]. */
typedef struct vouch__cls_dw {
  uint32_t c;
  const float *w;
  const float *b;
} vouch__cls_dw;

typedef struct vouch__cls_block {
  uint32_t cin, cexp, cout, stride;
  int residual;       /* stride 1 and cin == cout */
  vouch__cls_pw expand; /* unused when cexp == cin (block 0) */
  vouch__cls_dw dw;
  vouch__cls_pw project;
} vouch__cls_block;

/* A dense layer in plain layout: w[in][out], b[out]. */
typedef struct vouch__cls_dense {
  uint32_t in, out;
  const float *w;
  const float *b;
} vouch__cls_dense;

struct vouch_classify_model {
  vouch__cls_pw stem; /* k = 27 (3x3x3 patch, (ky*3+kx)*3+c), n = 32 */
  vouch__cls_block blocks[VOUCH__CLS_BLOCKS];
  vouch__cls_pw head; /* 320 -> 1280 */
  vouch__cls_dense dense[VOUCH__CLS_DENSE];
  size_t max_act;     /* floats in the largest activation */
  float *arena;       /* OWNED: every weight above points into it */
  char source[33];
};

#endif /* VOUCH_CLASSIFY_INTERNAL_H */
