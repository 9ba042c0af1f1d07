/*
 * src/video/digest.c -- exact file digests (MD5, SHA-1, SHA-256) for the
 * exact-match signals hash-sharing programs exchange (HMA's video_md5,
 * NCMEC's MD5 and SHA-1).  The primitives are libavutil's av_md5 and
 * av_sha; we only wrap them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libavutil/md5.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>

#include "video_internal.h"

#define DIGEST_READ_BLOCK 65536

struct vouch_digest {
  int algo;
  struct AVMD5 *md5;
  struct AVSHA *sha;
};

const char *vouch_digest_name(int algo) { return vouch_algo_is_digest(algo) ? vouch_algo_name(algo) : "unknown"; }

int vouch_digest_from_name(const char *name) {
  if (!name) return 0;
  if (!strcasecmp(name, "md5")) return VOUCH_DIGEST_MD5;
  if (!strcasecmp(name, "sha1") || !strcasecmp(name, "sha-1")) return VOUCH_DIGEST_SHA1;
  if (!strcasecmp(name, "sha256") || !strcasecmp(name, "sha-256")) return VOUCH_DIGEST_SHA256;
  return 0;
}

size_t vouch_digest_bytes(int algo) { return vouch_algo_is_digest(algo) ? vouch_algo_list_bytes(algo) : 0; }

static void digest_reset(vouch_digest *d) {
  if (d->md5) av_md5_init(d->md5);
  else av_sha_init(d->sha, (int)vouch_digest_bytes(d->algo) * 8);
}

int vouch_digest_create(vouch_digest **out, int algo) {
  if (!out) return VOUCH_E_INVALID;
  *out = NULL;
  if (!vouch_digest_bytes(algo)) return VOUCH_E_INVALID;
  vouch_digest *d = vouch__calloc(1, sizeof *d);
  if (!d) return VOUCH_E_NOMEM;
  d->algo = algo;
  if (algo == VOUCH_DIGEST_MD5) d->md5 = av_md5_alloc();
  else d->sha = av_sha_alloc();
  if (!d->md5 && !d->sha) {
    vouch__free(d);
    return VOUCH_E_NOMEM;
  }
  digest_reset(d);
  *out = d;
  return VOUCH_OK;
}

void vouch_digest_update(vouch_digest *d, const void *data, size_t len) {
  if (!d || !data) return;
  const uint8_t *p = data;
  /* av_md5_update takes a size_t, av_sha_update an unsigned int in older
   * libavutil: feed both in blocks that fit either */
  while (len) {
    size_t n = len > (1U << 30) ? (1U << 30) : len;
    if (d->md5) av_md5_update(d->md5, p, n);
    else av_sha_update(d->sha, p, (unsigned)n);
    p += n;
    len -= n;
  }
}

int vouch_digest_final(vouch_digest *d, uint8_t *out, size_t cap) {
  if (!d || !out || cap < vouch_digest_bytes(d->algo)) return VOUCH_E_INVALID;
  if (d->md5) av_md5_final(d->md5, out);
  else av_sha_final(d->sha, out);
  digest_reset(d);
  return VOUCH_OK;
}

void vouch_digest_free(vouch_digest *d) {
  if (!d) return;
  av_free(d->md5);
  av_free(d->sha);
  vouch__free(d);
}

int vouch_digest_buffer(int algo, const void *data, size_t len, uint8_t *out, size_t cap) {
  if (!data && len) return VOUCH_E_INVALID;
  vouch_digest *d;
  VOUCH_TRY(vouch_digest_create(&d, algo));
  vouch_digest_update(d, len ? data : "", len);
  int rc = vouch_digest_final(d, out, cap);
  vouch_digest_free(d);
  return rc;
}

int vouch_digest_file(int algo, const char *path, uint8_t *out, size_t cap) {
  if (!path || !out || cap < vouch_digest_bytes(algo)) return VOUCH_E_INVALID;
  vouch_digest *d;
  VOUCH_TRY(vouch_digest_create(&d, algo));
  uint8_t *buf = vouch__malloc(DIGEST_READ_BLOCK);
  FILE *f = buf ? fopen(path, "rb") : NULL;
  int rc = !buf ? VOUCH_E_NOMEM : !f ? VOUCH_E_IO : VOUCH_OK;
  while (rc == VOUCH_OK) {
    size_t n = fread(buf, 1, DIGEST_READ_BLOCK, f);
    if (n) vouch_digest_update(d, buf, n);
    if (n < DIGEST_READ_BLOCK) {
      if (ferror(f)) rc = VOUCH_E_IO;
      break;
    }
  }
  if (rc == VOUCH_OK) rc = vouch_digest_final(d, out, cap);
  if (f) fclose(f);
  vouch__free(buf);
  vouch_digest_free(d);
  return rc;
}
