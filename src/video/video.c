/*
 * src/video/video.c -- demux and decode a video with Debian's FFmpeg
 * libraries, convert frames to RGB24 the way the vPDQ reference does, and
 * apply the stream's rotation.
 *
 * The vPDQ reference (ThreatExchange vpdq/cpp, hashing/ffmpegwrapper.cpp and
 * filehasher.cpp) takes the first video stream, sizes its output from the
 * stream header (codecpar width x height, or N x N with -s N), and converts
 * each decoded frame with one swscale context (SWS_AREA, default colour
 * settings) into an RGB24 frame allocated with byte alignment (linesize =
 * 3 * width).  We do the same, so swscale takes the same code paths.
 *
 * Untrusted input:
 *  - every byte is read through our own AVIOContext (a FILE or a memory
 *    buffer); FFmpeg's io_open is replaced by one that refuses, so a
 *    playlist or a reference to another file or URL (HLS, concat, DASH)
 *    cannot make FFmpeg open anything, and demuxers that open files by name
 *    (AVFMT_NOFILE) are refused after probing;
 *  - the decoder's own max_pixels stops oversized frames before it
 *    allocates them; we check the header and every frame against the
 *    limits, and count decoded pixels and frames against the totals.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "video_internal.h"

/* The reference's RGB conversion (ffmpegwrapper.h: PIXEL_FORMAT, DOWNSAMPLE_METHOD). */
#define VIDEO_PIX_FMT AV_PIX_FMT_RGB24
#define VIDEO_SWS_FLAGS SWS_AREA
/* Size of the AVIOContext's read buffer. */
#define VIDEO_IO_BUFFER 65536

enum { ST_READING = 0, ST_FLUSHING = 1, ST_DONE = 2 };

struct vouch_video {
  vouch_video_opts o;
  /* input: exactly one of fp / mem */
  FILE *fp;
  const uint8_t *mem;
  int64_t len, pos;
  /* FFmpeg state */
  AVIOContext *avio;
  AVFormatContext *fmt;
  AVCodecContext *cc;
  struct SwsContext *sws;
  AVFrame *frame;
  AVFrame *rgb;        /* the converted frame, linesize 3 * width (the reference's alignment) */
  uint8_t *turned;     /* the converted frame turned by `rotation`, when it is not 0 */
  AVPacket *pkt;
  int stream;
  int state;
  int err;             /* sticky error */
  uint32_t conv_w, conv_h; /* conversion size, before turning */
  uint64_t decoded;
  uint64_t total_pixels;
  vouch_video_info info;
  char errmsg[256];
};

vouch_video_opts vouch_video_opts_default(void) {
  vouch_video_opts o = {
    .out_side = 0,
    .apply_rotation = 1,
    .threads = 1,
    .max_side = VOUCH_VIDEO_MAX_SIDE_DEFAULT,
    .max_frame_pixels = VOUCH_VIDEO_MAX_FRAME_PIXELS_DEFAULT,
    .max_seconds = VOUCH_VIDEO_MAX_SECONDS_DEFAULT,
    .max_total_pixels = VOUCH_VIDEO_MAX_TOTAL_PIXELS_DEFAULT,
  };
  return o;
}

void vouch_video_silence_log(void) { av_log_set_level(AV_LOG_QUIET); }

#define fail(v, rc, ...) vouch__errf((v)->errmsg, sizeof (v)->errmsg, (rc), __VA_ARGS__)

/* FFmpeg's text for an AVERROR code. */
static const char *averr(int e, char buf[AV_ERROR_MAX_STRING_SIZE]) {
  if (av_strerror(e, buf, AV_ERROR_MAX_STRING_SIZE) < 0)
    snprintf(buf, AV_ERROR_MAX_STRING_SIZE, "error %d", e);
  return buf;
}

/* ------------------------------------------------------------ I/O callbacks */

static int io_read(void *opaque, uint8_t *buf, int size) {
  vouch_video *v = opaque;
  if (size <= 0) return 0;
  if (v->fp) {
    size_t n = fread(buf, 1, (size_t)size, v->fp);
    if (n == 0) return ferror(v->fp) ? AVERROR(EIO) : AVERROR_EOF;
    v->pos += (int64_t)n;
    return (int)n;
  }
  if (v->pos >= v->len) return AVERROR_EOF;
  int64_t n = v->len - v->pos;
  if (n > size) n = size;
  memcpy(buf, v->mem + v->pos, (size_t)n);
  v->pos += n;
  return (int)n;
}

static int64_t io_seek(void *opaque, int64_t offset, int whence) {
  vouch_video *v = opaque;
  if (whence & AVSEEK_SIZE) return v->len;
  whence &= ~AVSEEK_FORCE;
  int64_t base;
  switch (whence) {
  case SEEK_SET: base = 0; break;
  case SEEK_CUR: base = v->pos; break;
  case SEEK_END: base = v->len; break;
  default: return AVERROR(EINVAL);
  }
  if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0) return AVERROR(EINVAL);
  int64_t to = base + offset;
  if (to > v->len) to = v->len; /* past the end: reads then give EOF */
  if (v->fp && fseeko(v->fp, (off_t)to, SEEK_SET) != 0) return AVERROR(errno ? errno : EIO);
  v->pos = to;
  return to;
}

/* Demuxers that would open another file or URL (playlists, references,
 * image sequences) get a refusal instead. */
static int io_open_refused(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                           AVDictionary **options) {
  (void)s; (void)pb; (void)url; (void)flags; (void)options;
  return AVERROR(EPERM);
}

/* ------------------------------------------------------------ open */

/* The clockwise turn the display matrix asks for: 0, 90, 180 or 270. */
static int stream_rotation(const AVStream *st) {
  const uint8_t *m = NULL;
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 29, 100)
  const AVPacketSideData *sd = av_packet_side_data_get(st->codecpar->coded_side_data,
                                                       st->codecpar->nb_coded_side_data,
                                                       AV_PKT_DATA_DISPLAYMATRIX);
  if (sd && sd->size >= 9 * sizeof(int32_t)) m = sd->data;
#else
  size_t size = 0;
  m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (m && size < 9 * sizeof(int32_t)) m = NULL;
#endif
  if (!m) return 0;
  /* av_display_rotation_get() gives the counter-clockwise angle. */
  double theta = -av_display_rotation_get((const int32_t *)(const void *)m);
  if (!isfinite(theta)) return 0;
  theta = fmod(theta, 360.0);
  if (theta < 0) theta += 360.0;
  int q = (int)lround(theta / 90.0) % 4;
  if (fabs(theta - 90.0 * lround(theta / 90.0)) > 1.0) return 0; /* not a quarter turn: left as stored */
  return 90 * q;
}

static int setup(vouch_video *v, const char *name) {
  char eb[AV_ERROR_MAX_STRING_SIZE];
  const vouch_video_opts *o = &v->o;
  if (o->max_side == 0 || o->max_frame_pixels == 0 || !(o->max_seconds > 0) || o->max_total_pixels == 0 ||
      o->threads < 1 || o->threads > 64 || o->out_side > o->max_side)
    return fail(v, VOUCH_E_INVALID, "invalid options");
  uint8_t *iobuf = av_malloc(VIDEO_IO_BUFFER);
  if (!iobuf) return VOUCH_E_NOMEM;
  v->avio = avio_alloc_context(iobuf, VIDEO_IO_BUFFER, 0, v, io_read, NULL, io_seek);
  if (!v->avio) {
    av_free(iobuf);
    return VOUCH_E_NOMEM;
  }
  const AVInputFormat *ifmt = NULL;
  int e = av_probe_input_buffer2(v->avio, &ifmt, name, NULL, 0, 0);
  if (e < 0 || !ifmt) {
    if (e == AVERROR(EIO) && v->fp) return fail(v, VOUCH_E_IO, "reading failed: %s", strerror(errno));
    return fail(v, VOUCH_E_VIDEO_FORMAT, "not a container format FFmpeg recognises (%s)", averr(e, eb));
  }
  /* Still images (FFmpeg reads a JPEG or PNG as a one-frame "image pipe"):
   * not videos, so that a directory of photos and videos hashes the videos
   * only.  Animated GIF and APNG have demuxers of their own and stay. */
  const size_t nl = strlen(ifmt->name);
  if (!strcmp(ifmt->name, "image2") || (nl > 5 && !strcmp(ifmt->name + nl - 5, "_pipe")))
    return fail(v, VOUCH_E_VIDEO_FORMAT, "a still image ('%s'), not a video", ifmt->name);
  if (ifmt->flags & AVFMT_NOFILE)
    return fail(v, VOUCH_E_VIDEO_FORMAT, "format '%s' opens files by name: refused", ifmt->name);
  /* Playlists and lists of other files: their media is elsewhere, and we
   * never open anything by name (io_open_refused is the second line). */
  static const char *const refused[] = {"hls", "dash", "concat", "ffconcat"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    if (!strcmp(ifmt->name, refused[i]))
      return fail(v, VOUCH_E_VIDEO_FORMAT, "'%s' is a list of other files, not a video: refused", ifmt->name);
  v->fmt = avformat_alloc_context();
  if (!v->fmt) return VOUCH_E_NOMEM;
  v->fmt->pb = v->avio;
  v->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  v->fmt->io_open = io_open_refused;
  AVDictionary *dopts = NULL;
  av_dict_set(&dopts, "protocol_whitelist", "none", 0);
  e = avformat_open_input(&v->fmt, name, ifmt, &dopts);
  av_dict_free(&dopts);
  if (e < 0) {
    /* avformat_open_input() frees the context on failure */
    return fail(v, e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_VIDEO_CORRUPT, "%s: the container cannot be read (%s)",
                ifmt->name, averr(e, eb));
  }
  e = avformat_find_stream_info(v->fmt, NULL);
  if (e < 0)
    return fail(v, e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_VIDEO_CORRUPT, "%s: no stream information (%s)",
                ifmt->name, averr(e, eb));
  /* The first video stream, as the reference (cover art attached as a
   * picture is not the video). */
  v->stream = -1;
  for (unsigned i = 0; i < v->fmt->nb_streams; i++) {
    const AVStream *st = v->fmt->streams[i];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      v->stream = (int)i;
      break;
    }
  }
  if (v->stream < 0) return fail(v, VOUCH_E_VIDEO_FORMAT, "%s: no video stream", ifmt->name);
  AVStream *st = v->fmt->streams[v->stream];
  const AVCodecParameters *par = st->codecpar;
  if (par->width <= 0 || par->height <= 0)
    return fail(v, VOUCH_E_VIDEO_CORRUPT, "video stream without a size (%dx%d)", par->width, par->height);
  if ((uint32_t)par->width > o->max_side || (uint32_t)par->height > o->max_side ||
      (uint64_t)par->width * (uint64_t)par->height > o->max_frame_pixels)
    return fail(v, VOUCH_E_VIDEO_TOO_LARGE, "frames of %dx%d are over the limits (side %u, %llu pixels)",
                par->width, par->height, o->max_side, (unsigned long long)o->max_frame_pixels);
  if (v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration > 0 &&
      (double)v->fmt->duration / AV_TIME_BASE > o->max_seconds)
    return fail(v, VOUCH_E_VIDEO_TOO_LONG, "declared duration %.1f s is over the limit of %.0f s",
                (double)v->fmt->duration / AV_TIME_BASE, o->max_seconds);
  /* The reference's frame rate: the average rate, else the real base rate. */
  AVRational fr = st->avg_frame_rate;
  if (fr.num <= 0 || fr.den <= 0) fr = st->r_frame_rate;
  if (fr.num <= 0 || fr.den <= 0) return fail(v, VOUCH_E_VIDEO_CORRUPT, "the video stream has no frame rate");
  v->info.frame_rate = (double)fr.num / (double)fr.den;

  const AVCodec *codec = avcodec_find_decoder(par->codec_id);
  if (!codec) return fail(v, VOUCH_E_UNSUPPORTED, "no decoder for codec '%s'", avcodec_get_name(par->codec_id));
  v->cc = avcodec_alloc_context3(codec);
  if (!v->cc) return VOUCH_E_NOMEM;
  e = avcodec_parameters_to_context(v->cc, par);
  if (e < 0) return fail(v, VOUCH_E_VIDEO_CORRUPT, "codec parameters rejected (%s)", averr(e, eb));
  v->cc->max_pixels = o->max_frame_pixels > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)o->max_frame_pixels;
  /* Threads: the decoder's output frames and their order do not depend on
   * them (FFmpeg's decoders are bit-exact whatever the threading); the
   * reference uses slice threads, we also allow frame threads, which most
   * streams need to use more than one core. */
  int threads = o->threads;
#if defined(__SANITIZE_THREAD__)
  /* FFmpeg's threads synchronise inside Debian's uninstrumented libavcodec,
   * which ThreadSanitizer cannot see: it would report races that are not
   * there.  A ThreadSanitizer build decodes on the calling thread. */
  threads = 1;
#endif
  if (threads > 1) {
    v->cc->thread_count = threads;
    v->cc->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  } else {
    v->cc->thread_count = 1;
  }
  e = avcodec_open2(v->cc, codec, NULL);
  if (e < 0) return fail(v, VOUCH_E_VIDEO_CORRUPT, "the %s decoder cannot start (%s)", codec->name, averr(e, eb));
  v->frame = av_frame_alloc();
  v->rgb = av_frame_alloc();
  v->pkt = av_packet_alloc();
  if (!v->frame || !v->rgb || !v->pkt) return VOUCH_E_NOMEM;

  v->info.rotation = o->apply_rotation ? stream_rotation(st) : 0;
  const int quarter = v->info.rotation == 90 || v->info.rotation == 270;
  v->conv_w = o->out_side ? o->out_side : (uint32_t)par->width;
  v->conv_h = o->out_side ? o->out_side : (uint32_t)par->height;
  v->info.width = quarter ? (uint32_t)par->height : (uint32_t)par->width;
  v->info.height = quarter ? (uint32_t)par->width : (uint32_t)par->height;
  v->info.out_width = quarter ? v->conv_h : v->conv_w;
  v->info.out_height = quarter ? v->conv_w : v->conv_h;
  v->info.duration = v->fmt->duration != AV_NOPTS_VALUE && v->fmt->duration >= 0
                         ? (double)v->fmt->duration / AV_TIME_BASE : -1.0;
  v->info.container = ifmt->name;
  v->info.codec = codec->name;

  v->rgb->format = VIDEO_PIX_FMT;
  v->rgb->width = (int)v->conv_w;
  v->rgb->height = (int)v->conv_h;
  if (av_frame_get_buffer(v->rgb, 1) < 0) return VOUCH_E_NOMEM;
  if (v->info.rotation) {
    size_t n;
    if (!vouch__mul_ok((size_t)v->conv_w * 3U, v->conv_h, &n)) return VOUCH_E_NOMEM;
    v->turned = vouch__malloc(n);
    if (!v->turned) return VOUCH_E_NOMEM;
  }
  return VOUCH_OK;
}

static int open_common(vouch_video **out, vouch_video *v, const char *name) {
  *out = v;
  int rc = setup(v, name);
  if (rc == VOUCH_E_NOMEM && !v->errmsg[0]) fail(v, rc, "out of memory");
  v->err = rc;
  return rc;
}

static vouch_video *video_new(const vouch_video_opts *opts) {
  vouch_video *v = vouch__calloc(1, sizeof *v);
  if (!v) return NULL;
  v->o = opts ? *opts : vouch_video_opts_default();
  v->info.duration = -1.0;
  return v;
}

int vouch_video_open_memory(vouch_video **out, const void *data, size_t len, const vouch_video_opts *opts) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  if (!data && len) return VOUCH_E_INVALID;
  vouch_video *v = video_new(opts);
  if (!v) return VOUCH_E_NOMEM;
  v->mem = data;
  v->len = (int64_t)len;
  if (len == 0) {
    *out = v;
    v->err = fail(v, VOUCH_E_VIDEO_FORMAT, "empty input");
    return v->err;
  }
  return open_common(out, v, "");
}

int vouch_video_open_file(vouch_video **out, const char *path, const vouch_video_opts *opts) {
  if (!out || !path) return VOUCH_E_INVALID;
  *out = NULL;
  vouch_video *v = video_new(opts);
  if (!v) return VOUCH_E_NOMEM;
  *out = v;
  v->fp = fopen(path, "rb");
  struct stat sb;
  if (!v->fp || fstat(fileno(v->fp), &sb) != 0)
    return v->err = fail(v, VOUCH_E_IO, "%s", strerror(errno));
  if (!S_ISREG(sb.st_mode)) return v->err = fail(v, VOUCH_E_IO, "not a regular file");
  if ((uint64_t)sb.st_size > VOUCH_VIDEO_MAX_FILE_BYTES)
    return v->err = fail(v, VOUCH_E_VIDEO_TOO_LARGE, "file larger than %llu bytes",
                         (unsigned long long)VOUCH_VIDEO_MAX_FILE_BYTES);
  if (sb.st_size == 0) return v->err = fail(v, VOUCH_E_VIDEO_FORMAT, "empty file");
  v->len = (int64_t)sb.st_size;
  return open_common(out, v, path);
}

void vouch_video_free(vouch_video *v) {
  if (!v) return;
  av_packet_free(&v->pkt);
  av_frame_free(&v->frame);
  av_frame_free(&v->rgb);
  sws_freeContext(v->sws);
  avcodec_free_context(&v->cc);
  avformat_close_input(&v->fmt); /* custom I/O: the AVIOContext stays ours */
  if (v->avio) {
    av_freep(&v->avio->buffer);
    avio_context_free(&v->avio);
  }
  if (v->fp) fclose(v->fp);
  vouch__free(v->turned);
  vouch__free(v);
}

void vouch_video_get_info(const vouch_video *v, vouch_video_info *info) {
  if (v && info) *info = v->info;
}

const char *vouch_video_errmsg(const vouch_video *v) { return v ? v->errmsg : ""; }

/* ------------------------------------------------------------ decode */

/* Turns the w x h RGB24 image `in` (stride `is`) clockwise by `deg` into
 * `out` (packed rows). */
static void turn_rgb(const uint8_t *in, size_t is, uint32_t w, uint32_t h, int deg, uint8_t *out) {
  const size_t ow = deg == 180 ? w : h; /* output width */
  for (uint32_t y = 0; y < h; y++) {
    const uint8_t *p = in + (size_t)y * is;
    for (uint32_t x = 0; x < w; x++) {
      size_t ox, oy;
      if (deg == 90) {
        ox = h - 1 - y;
        oy = x;
      } else if (deg == 180) {
        ox = w - 1 - x;
        oy = h - 1 - y;
      } else { /* 270 */
        ox = y;
        oy = w - 1 - x;
      }
      memcpy(out + (oy * ow + ox) * 3, p + (size_t)x * 3, 3);
    }
  }
}

/* Checks a decoded frame against the limits, converts it if asked. */
static int take_frame(vouch_video *v, int convert, vouch_video_frame *f) {
  const vouch_video_opts *o = &v->o;
  const AVFrame *fr = v->frame;
  if (fr->width <= 0 || fr->height <= 0)
    return fail(v, VOUCH_E_VIDEO_CORRUPT, "frame %llu has no size", (unsigned long long)v->decoded);
  const uint64_t px = (uint64_t)fr->width * (uint64_t)fr->height;
  if ((uint32_t)fr->width > o->max_side || (uint32_t)fr->height > o->max_side || px > o->max_frame_pixels)
    return fail(v, VOUCH_E_VIDEO_TOO_LARGE, "frame %llu is %dx%d, over the limits", (unsigned long long)v->decoded,
                fr->width, fr->height);
  if (px > o->max_total_pixels || v->total_pixels > o->max_total_pixels - px)
    return fail(v, VOUCH_E_VIDEO_TOO_LONG, "more than %llu decoded pixels", (unsigned long long)o->max_total_pixels);
  v->total_pixels += px;
  /* The reference's timestamp of this frame is index / frame rate. */
  if ((double)v->decoded / v->info.frame_rate > o->max_seconds)
    return fail(v, VOUCH_E_VIDEO_TOO_LONG, "frame %llu is past the limit of %.0f s", (unsigned long long)v->decoded,
                o->max_seconds);
  f->index = v->decoded++;
  f->rgb = NULL;
  f->width = f->height = 0;
  f->stride = 0;
  if (!convert) return VOUCH_OK;
  /* One context for the stream as in the reference; rebuilt only if a
   * frame's size or format changes mid-stream. */
  v->sws = sws_getCachedContext(v->sws, fr->width, fr->height, (enum AVPixelFormat)fr->format, (int)v->conv_w,
                                (int)v->conv_h, VIDEO_PIX_FMT, VIDEO_SWS_FLAGS, NULL, NULL, NULL);
  if (!v->sws)
    return fail(v, VOUCH_E_VIDEO_CORRUPT, "no conversion from pixel format '%s' at %dx%d",
                av_get_pix_fmt_name((enum AVPixelFormat)fr->format) ? av_get_pix_fmt_name((enum AVPixelFormat)fr->format) : "?",
                fr->width, fr->height);
  int e = av_frame_make_writable(v->rgb);
  if (e < 0) return VOUCH_E_NOMEM;
  int h = sws_scale(v->sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fr->height, v->rgb->data,
                    v->rgb->linesize);
  if (h <= 0) return fail(v, VOUCH_E_VIDEO_CORRUPT, "frame %llu could not be converted", (unsigned long long)f->index);
  if (v->info.rotation) {
    turn_rgb(v->rgb->data[0], (size_t)v->rgb->linesize[0], v->conv_w, v->conv_h, v->info.rotation, v->turned);
    f->rgb = v->turned;
    f->stride = (size_t)v->info.out_width * 3U;
  } else {
    f->rgb = v->rgb->data[0];
    f->stride = (size_t)v->rgb->linesize[0];
  }
  f->width = v->info.out_width;
  f->height = v->info.out_height;
  return VOUCH_OK;
}

static int next_frame(vouch_video *v, int convert, vouch_video_frame *f, int *eof) {
  char eb[AV_ERROR_MAX_STRING_SIZE];
  for (;;) {
    if (v->state == ST_DONE) {
      *eof = 1;
      return VOUCH_OK;
    }
    int e = avcodec_receive_frame(v->cc, v->frame);
    if (e == 0) {
      int rc = take_frame(v, convert, f);
      av_frame_unref(v->frame);
      return rc;
    }
    if (e == AVERROR_EOF) {
      v->state = ST_DONE;
      continue;
    }
    if (e != AVERROR(EAGAIN))
      return fail(v, e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_VIDEO_CORRUPT, "decoding frame %llu failed (%s)",
                  (unsigned long long)v->decoded, averr(e, eb));
    if (v->state == ST_FLUSHING) { /* cannot happen after a flush; end anyway */
      v->state = ST_DONE;
      continue;
    }
    e = av_read_frame(v->fmt, v->pkt);
    if (e == AVERROR_EOF) {
      if (v->fmt->pb && v->fmt->pb->error < 0 && v->fmt->pb->error != AVERROR_EOF)
        return fail(v, VOUCH_E_IO, "reading failed (%s)", averr(v->fmt->pb->error, eb));
      v->state = ST_FLUSHING;
      e = avcodec_send_packet(v->cc, NULL);
      if (e < 0 && e != AVERROR_EOF)
        return fail(v, VOUCH_E_VIDEO_CORRUPT, "flushing the decoder failed (%s)", averr(e, eb));
      continue;
    }
    if (e < 0)
      return fail(v, e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_VIDEO_CORRUPT, "reading the container failed (%s)",
                  averr(e, eb));
    if (v->pkt->stream_index != v->stream) {
      av_packet_unref(v->pkt);
      continue;
    }
    const int corrupt = (v->pkt->flags & AV_PKT_FLAG_CORRUPT) != 0;
    e = avcodec_send_packet(v->cc, v->pkt);
    av_packet_unref(v->pkt);
    if (corrupt)
      return fail(v, VOUCH_E_VIDEO_CORRUPT, "packet after frame %llu is cut short: the file is truncated",
                  (unsigned long long)v->decoded);
    /* The reference gives up on the video when the decoder refuses a packet. */
    if (e < 0 && e != AVERROR(EAGAIN))
      return fail(v, e == AVERROR(ENOMEM) ? VOUCH_E_NOMEM : VOUCH_E_VIDEO_CORRUPT,
                  "the decoder rejected a packet after frame %llu (%s)", (unsigned long long)v->decoded,
                  averr(e, eb));
  }
}

int vouch_video_next(vouch_video *v, int convert, vouch_video_frame *frame, int *eof) {
  if (!v || !frame || !eof) return VOUCH_E_INVALID;
  *eof = 0;
  if (v->err) return v->err;
  v->errmsg[0] = 0;
  int rc = next_frame(v, convert, frame, eof);
  if (rc != VOUCH_OK) {
    if (rc == VOUCH_E_NOMEM && !v->errmsg[0]) fail(v, rc, "out of memory");
    v->err = rc;
  }
  return rc;
}

double vouch__video_frame_rate(const vouch_video *v) { return v->info.frame_rate; }
