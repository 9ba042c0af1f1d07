/*
 * src/video/recode.c -- re-encode RGB24 frames in memory and decode them
 * back: what a platform's transcoder does to an uploaded video, for the
 * evaluation of video matching (src/eval/video_edit.c).
 *
 * The codec is FFmpeg's own MPEG-4 Part 2 encoder (no external library, one
 * thread, no B-frames, a fixed quantiser), so the same frames give the same
 * bytes on every run.  Packets go straight from the encoder to a decoder of
 * the same codec: no container is written.  Frames are converted RGB24 ->
 * YUV 4:2:0 for the encoder and back to RGB24 with SWS_AREA, as the vPDQ
 * reference converts decoded frames.
 */
#include <math.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "video_internal.h"

struct vouch_video_recoder {
  uint32_t w, h;          /* the encoded size: the frames' size rounded down to even */
  AVCodecContext *enc, *dec;
  struct SwsContext *to_yuv, *to_rgb;
  AVFrame *yuv;           /* the encoder's input */
  AVFrame *out;           /* the decoder's output */
  AVPacket *pkt;
  uint8_t *rgb;           /* a decoded frame in RGB24, stride 3 * w */
  int64_t pts;
  uint64_t decoded;
  int finished;
};

void vouch_video_recoder_free(vouch_video_recoder *r) {
  if (!r) return;
  avcodec_free_context(&r->enc);
  avcodec_free_context(&r->dec);
  sws_freeContext(r->to_yuv);
  sws_freeContext(r->to_rgb);
  av_frame_free(&r->yuv);
  av_frame_free(&r->out);
  av_packet_free(&r->pkt);
  vouch__free(r->rgb);
  vouch__free(r);
}

int vouch_video_recoder_create(vouch_video_recoder **out, uint32_t width, uint32_t height, double fps, int qscale) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  if (width < 2 || height < 2 || width > 16384 || height > 16384 || !(fps > 0 && fps <= 1000) || qscale < 1 ||
      qscale > 31)
    return VOUCH_E_INVALID;
  const AVCodec *ec = avcodec_find_encoder(AV_CODEC_ID_MPEG4), *dc = avcodec_find_decoder(AV_CODEC_ID_MPEG4);
  if (!ec || !dc) return VOUCH_E_UNSUPPORTED;
  vouch_video_recoder *r = vouch__calloc(1, sizeof *r);
  if (!r) return VOUCH_E_NOMEM;
  r->w = width & ~1u;
  r->h = height & ~1u;
  int rc = VOUCH_E_NOMEM;
  r->enc = avcodec_alloc_context3(ec);
  r->dec = avcodec_alloc_context3(dc);
  r->yuv = av_frame_alloc();
  r->out = av_frame_alloc();
  r->pkt = av_packet_alloc();
  /* swscale (uninstrumented SIMD) writes past the last row of an exact-size buffer */
  r->rgb = vouch__malloc((size_t)3 * r->w * (r->h + 1) + 64);
  if (!r->enc || !r->dec || !r->yuv || !r->out || !r->pkt || !r->rgb) goto fail;
  /* MPEG-4 Part 2 time bases have a 16-bit denominator */
  const AVRational rate = av_d2q(fps, 65535);
  r->enc->width = (int)r->w;
  r->enc->height = (int)r->h;
  r->enc->pix_fmt = AV_PIX_FMT_YUV420P;
  r->enc->time_base = av_inv_q(rate);
  r->enc->framerate = rate;
  r->enc->gop_size = 12;
  r->enc->max_b_frames = 0;
  r->enc->thread_count = 1;
  r->enc->flags |= AV_CODEC_FLAG_QSCALE;
  r->enc->global_quality = FF_QP2LAMBDA * qscale;
  r->dec->thread_count = 1;
  rc = VOUCH_E_UNSUPPORTED;
  if (avcodec_open2(r->enc, ec, NULL) < 0 || avcodec_open2(r->dec, dc, NULL) < 0) goto fail;
  rc = VOUCH_E_NOMEM;
  r->yuv->format = AV_PIX_FMT_YUV420P;
  r->yuv->width = (int)r->w;
  r->yuv->height = (int)r->h;
  if (av_frame_get_buffer(r->yuv, 0) < 0) goto fail;
  r->to_yuv = sws_getContext((int)r->w, (int)r->h, AV_PIX_FMT_RGB24, (int)r->w, (int)r->h, AV_PIX_FMT_YUV420P,
                             SWS_BICUBIC, NULL, NULL, NULL);
  if (!r->to_yuv) goto fail;
  *out = r;
  return VOUCH_OK;
fail:
  vouch_video_recoder_free(r);
  return rc;
}

/* Decodes what the decoder has ready and hands each frame to cb. */
static int drain_decoder(vouch_video_recoder *r, vouch_video_frame_cb cb, void *ctx) {
  for (;;) {
    int e = avcodec_receive_frame(r->dec, r->out);
    if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return VOUCH_OK;
    if (e < 0) return e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_VIDEO_CORRUPT;
    r->to_rgb = sws_getCachedContext(r->to_rgb, r->out->width, r->out->height, (enum AVPixelFormat)r->out->format,
                                     (int)r->w, (int)r->h, AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL, NULL);
    if (!r->to_rgb) {
      av_frame_unref(r->out);
      return VOUCH_E_NOMEM;
    }
    uint8_t *dst[4] = {r->rgb, NULL, NULL, NULL};
    int dst_stride[4] = {(int)(3 * r->w), 0, 0, 0};
    sws_scale(r->to_rgb, (const uint8_t *const *)r->out->data, r->out->linesize, 0, r->out->height, dst, dst_stride);
    av_frame_unref(r->out);
    vouch_video_frame f = {.index = r->decoded++, .width = r->w, .height = r->h, .stride = 3 * (size_t)r->w,
                           .rgb = r->rgb};
    int rc = cb ? cb(ctx, &f) : VOUCH_OK;
    if (rc != VOUCH_OK) return rc;
  }
}

/* Moves the encoder's packets to the decoder. */
static int drain_encoder(vouch_video_recoder *r, vouch_video_frame_cb cb, void *ctx) {
  for (;;) {
    int e = avcodec_receive_packet(r->enc, r->pkt);
    if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return VOUCH_OK;
    if (e < 0) return e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_INTERNAL;
    e = avcodec_send_packet(r->dec, r->pkt);
    av_packet_unref(r->pkt);
    if (e < 0) return e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_VIDEO_CORRUPT;
    int rc = drain_decoder(r, cb, ctx);
    if (rc != VOUCH_OK) return rc;
  }
}

int vouch_video_recoder_push(vouch_video_recoder *r, const uint8_t *rgb, size_t stride, vouch_video_frame_cb cb,
                             void *ctx) {
  if (!r || !rgb || stride < 3 * (size_t)r->w || r->finished) return VOUCH_E_INVALID;
  if (av_frame_make_writable(r->yuv) < 0) return VOUCH_E_NOMEM;
  const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
  const int src_stride[4] = {(int)stride, 0, 0, 0};
  sws_scale(r->to_yuv, src, src_stride, 0, (int)r->h, r->yuv->data, r->yuv->linesize);
  r->yuv->pts = r->pts++;
  int e = avcodec_send_frame(r->enc, r->yuv);
  if (e < 0) return e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_INTERNAL;
  return drain_encoder(r, cb, ctx);
}

int vouch_video_recoder_finish(vouch_video_recoder *r, vouch_video_frame_cb cb, void *ctx) {
  if (!r || r->finished) return VOUCH_E_INVALID;
  r->finished = 1;
  int e = avcodec_send_frame(r->enc, NULL);
  if (e < 0 && e != AVERROR_EOF) return VOUCH_E_INTERNAL;
  int rc = drain_encoder(r, cb, ctx);
  if (rc != VOUCH_OK) return rc;
  e = avcodec_send_packet(r->dec, NULL);
  if (e < 0 && e != AVERROR_EOF) return VOUCH_E_VIDEO_CORRUPT;
  return drain_decoder(r, cb, ctx);
}

uint64_t vouch_video_recoder_frames(const vouch_video_recoder *r) { return r ? r->decoded : 0; }
