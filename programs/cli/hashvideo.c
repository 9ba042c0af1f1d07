/* programs/cli/hashvideo.c -- `vouch hash --algo vpdq` (videos) and
 * `--algo md5|sha1|sha256` (exact digests of any file). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

char *cli_video_stem(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  return strndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

/* DIR/NAME.txt as the reference's -d names it. */
static char *reference_out_name(const char *dir, const char *path) {
  char *stem = cli_video_stem(path);
  if (!stem) return NULL;
  size_t n = strlen(dir) + strlen(stem) + 6;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s.txt", dir, stem);
  free(stem);
  return s;
}

static int write_vpdq_file(const char *name, const vouch_vpdq *h) {
  FILE *f = fopen(name, "w");
  if (!f) return -1;
  char line[VOUCH_VPDQ_LINE_BYTES];
  for (size_t i = 0; i < h->n; i++) {
    size_t len = vouch_vpdq_format_line(&h->frames[i], line, sizeof line);
    fwrite(line, 1, len, f);
  }
  int bad = ferror(f);
  if (fclose(f) != 0) bad = 1;
  return bad ? -1 : 0;
}

static void print_vpdq(FILE *out, const char *path, const vouch_vpdq *h, int json) {
  char line[VOUCH_VPDQ_LINE_BYTES];
  if (!json) {
    fprintf(out, "# %s\n", path);
    for (size_t i = 0; i < h->n; i++) {
      size_t len = vouch_vpdq_format_line(&h->frames[i], line, sizeof line);
      fwrite(line, 1, len, out);
    }
    return;
  }
  char hex[VOUCH_HASH_HEX_BYTES];
  fputs("{\"path\":", out);
  cli_json_string(out, path);
  fputs(",\"algo\":\"vpdq\",\"frames\":[", out);
  for (size_t i = 0; i < h->n; i++) {
    const vouch_vpdq_frame *f = &h->frames[i];
    vouch_hash_to_hex(f->hash, VOUCH_PDQ_BYTES, hex, sizeof hex);
    fprintf(out, "%s{\"frame\":%llu,\"quality\":%d,\"hash\":\"%s\",\"seconds\":%.3f}", i ? "," : "",
            (unsigned long long)f->frame, f->quality, hex, (double)f->seconds);
  }
  fprintf(out, "],\"width\":%u,\"height\":%u,\"duration\":", h->width, h->height);
  if (h->duration >= 0) fprintf(out, "%.3f}\n", h->duration);
  else fputs("null}\n", out);
}

static void print_error(FILE *out, const char *path, int rc, const char *detail, int json) {
  cli_errorf("%s: %s: %s", path, vouch_strerror(rc), detail && *detail ? detail : vouch_strerror(rc));
  if (!json) return;
  fputs("{\"path\":", out);
  cli_json_string(out, path);
  fputs(",\"error\":", out);
  cli_json_string(out, vouch_strerror(rc));
  fputs(",\"detail\":", out);
  cli_json_string(out, detail ? detail : "");
  fputs("}\n", out);
}

int cli_vpdq_file(const char *path, const cli_video_opts *o, vouch_vpdq *out, char *err, size_t err_cap) {
  vouch_video_opts vo = vouch_video_opts_default();
  vo.out_side = o->downsample;
  vo.apply_rotation = o->rotate;
  vo.threads = o->threads > 0 ? (o->threads > 64 ? 64 : o->threads) : 1;
  vouch_video *v = NULL;
  int rc = vouch_video_open_file(&v, path, &vo);
  if (rc == VOUCH_OK) rc = vouch_vpdq_hash_video(v, o->seconds_per_hash, out);
  snprintf(err, err_cap, "%s", rc == VOUCH_OK ? "" : vouch_video_errmsg(v));
  vouch_video_free(v);
  return rc;
}

long cli_hash_videos(const cli_paths *paths, const cli_video_opts *o, int json, FILE *out) {
  long failed = 0;
  for (size_t i = 0; i < paths->n; i++) {
    const char *path = paths->v[i];
    vouch_vpdq h = {0};
    char err[256];
    int rc = cli_vpdq_file(path, o, &h, err, sizeof err);
    if (rc != VOUCH_OK) {
      if (rc == VOUCH_E_VIDEO_FORMAT && paths->walked && paths->walked[i]) continue; /* not a video: skipped */
      print_error(out, path, rc, err, json);
      failed++;
      continue;
    }
    if (o->out_dir) {
      char *name = reference_out_name(o->out_dir, path);
      if (!name || write_vpdq_file(name, &h) != 0) {
        cli_errorf("%s: cannot write %s: %s", path, name ? name : "output", strerror(errno));
        failed++;
      }
      free(name);
    } else {
      print_vpdq(out, path, &h, json);
    }
    vouch_vpdq_clear(&h);
  }
  return failed;
}

long cli_hash_digests(const cli_paths *paths, int algo, int json, FILE *out) {
  long failed = 0;
  uint8_t d[VOUCH_DIGEST_MAX_BYTES];
  char hex[2 * VOUCH_DIGEST_MAX_BYTES + 1];
  const size_t n = vouch_digest_bytes(algo);
  for (size_t i = 0; i < paths->n; i++) {
    const char *path = paths->v[i];
    int rc = vouch_digest_file(algo, path, d, sizeof d);
    if (rc != VOUCH_OK) {
      print_error(out, path, rc, rc == VOUCH_E_IO ? strerror(errno) : "", json);
      failed++;
      continue;
    }
    vouch_hash_to_hex(d, n, hex, sizeof hex);
    if (json) {
      fputs("{\"path\":", out);
      cli_json_string(out, path);
      fprintf(out, ",\"algo\":\"%s\",\"hash\":\"%s\"}\n", vouch_digest_name(algo), hex);
    } else {
      fprintf(out, "%s - %s\n", hex, path);
    }
  }
  return failed;
}
