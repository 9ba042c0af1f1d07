/* bench/bench_video.c -- vPDQ hashing speed against a bare FFmpeg decode.
 *
 * usage: bench_video [--rounds N] VIDEO...
 *
 * Times, on one thread and one decoder thread (CPU time of the thread, so
 * the figures are per core and hold on a busy machine), over all files:
 *   decode-rgb   plain FFmpeg: avformat + avcodec decode of every frame and
 *                swscale to RGB24 at the video's size (SWS_AREA), written
 *                here directly against the FFmpeg API, no vouch code: the
 *                baseline
 *   vpdq-all     vouch_vpdq_hash_video(), every frame
 *   vpdq-1s      vouch_vpdq_hash_video(), one frame per second
 * Each is the best of N rounds (default 3).  Prints frames/s, videos/s and
 * the ratio issue #18's target is stated in: vpdq-all / decode-rgb (target
 * <= 1.3).  The frame counts of the three are checked against each other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include "vouch/vouch.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Plain FFmpeg decode to RGB24; returns the number of frames, -1 on error. */
static long decode_rgb(const char *path) {
  AVFormatContext *fmt = NULL;
  if (avformat_open_input(&fmt, path, NULL, NULL) < 0) return -1;
  long frames = -1;
  AVCodecContext *cc = NULL;
  struct SwsContext *sws = NULL;
  AVFrame *fr = av_frame_alloc(), *rgb = av_frame_alloc();
  AVPacket *pkt = av_packet_alloc();
  if (avformat_find_stream_info(fmt, NULL) < 0) goto out;
  int si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (si < 0) goto out;
  const AVCodecParameters *par = fmt->streams[si]->codecpar;
  const AVCodec *codec = avcodec_find_decoder(par->codec_id);
  cc = avcodec_alloc_context3(codec);
  if (!cc || avcodec_parameters_to_context(cc, par) < 0) goto out;
  cc->thread_count = 1;
  if (avcodec_open2(cc, codec, NULL) < 0) goto out;
  rgb->format = AV_PIX_FMT_RGB24;
  rgb->width = par->width;
  rgb->height = par->height;
  if (av_frame_get_buffer(rgb, 1) < 0) goto out;
  frames = 0;
  int flushing = 0;
  for (;;) {
    int e = avcodec_receive_frame(cc, fr);
    if (e == 0) {
      sws = sws_getCachedContext(sws, fr->width, fr->height, fr->format, par->width, par->height, AV_PIX_FMT_RGB24,
                                 SWS_AREA, NULL, NULL, NULL);
      sws_scale(sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fr->height, rgb->data, rgb->linesize);
      frames++;
      continue;
    }
    if (e == AVERROR_EOF || flushing) break;
    if (av_read_frame(fmt, pkt) < 0) {
      avcodec_send_packet(cc, NULL);
      flushing = 1;
      continue;
    }
    if (pkt->stream_index == si) avcodec_send_packet(cc, pkt);
    av_packet_unref(pkt);
  }
out:
  av_packet_free(&pkt);
  av_frame_free(&fr);
  av_frame_free(&rgb);
  sws_freeContext(sws);
  avcodec_free_context(&cc);
  avformat_close_input(&fmt);
  return frames;
}

static long vpdq_run(const char *path, double seconds_per_hash, long *decoded) {
  vouch_video *v = NULL;
  vouch_vpdq h = {0};
  long n = -1;
  if (vouch_video_open_file(&v, path, NULL) == VOUCH_OK && vouch_vpdq_hash_video(v, seconds_per_hash, &h) == VOUCH_OK)
    n = (long)h.n;
  if (decoded && n >= 0) *decoded = (long)h.frames[h.n - 1].frame + 1;
  vouch_vpdq_clear(&h);
  vouch_video_free(v);
  return n;
}

int main(int argc, char **argv) {
  int rounds = 3, first = 1;
  if (argc > 2 && !strcmp(argv[1], "--rounds")) {
    rounds = atoi(argv[2]);
    first = 3;
  }
  if (first >= argc || rounds < 1) {
    fprintf(stderr, "usage: bench_video [--rounds N] VIDEO...\n");
    return 2;
  }
  vouch_video_silence_log();
  const int nv = argc - first;
  double best[3] = {1e30, 1e30, 1e30};
  long frames[3] = {0, 0, 0};
  for (int r = 0; r < rounds; r++) {
    for (int k = 0; k < 3; k++) {
      long total = 0;
      double t0 = now();
      for (int i = first; i < argc; i++) {
        long n = k == 0 ? decode_rgb(argv[i]) : vpdq_run(argv[i], k == 1 ? 0.0 : 1.0, NULL);
        if (n < 0) {
          fprintf(stderr, "%s: cannot decode\n", argv[i]);
          return 1;
        }
        total += n;
      }
      double t = now() - t0;
      if (t < best[k]) best[k] = t;
      frames[k] = total;
    }
  }
  if (frames[0] != frames[1]) {
    fprintf(stderr, "frame counts differ: decode %ld, vpdq %ld\n", frames[0], frames[1]);
    return 1;
  }
  printf("%d videos, %ld frames, best of %d rounds, one core:\n", nv, frames[0], rounds);
  printf("  decode-rgb  %8.1f frames/s  %6.2f videos/s\n", frames[0] / best[0], nv / best[0]);
  printf("  vpdq-all    %8.1f frames/s  %6.2f videos/s\n", frames[1] / best[1], nv / best[1]);
  printf("  vpdq-1s     %8.1f hashes/s  %6.2f videos/s (%ld hashes)\n", frames[2] / best[2], nv / best[2], frames[2]);
  printf("  ratio vpdq-all / decode-rgb = %.3f (target <= 1.3)\n", best[1] / best[0]);
  printf("  ratio vpdq-1s / decode-rgb  = %.3f\n", best[2] / best[0]);
  return 0;
}
