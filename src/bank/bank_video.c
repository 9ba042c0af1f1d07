/* src/bank/bank_video.c -- video banks: one entry per video with its frames. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "bank_db.h"

/* ------------------------------------------------------------ video banks */

/* The entry hash of a video: SHA-256 of its vPDQ in the reference's text form. */
static int video_digest(const vouch_vpdq *v, uint8_t out[32]) {
  vouch_digest *d;
  VOUCH_TRY(vouch_digest_create(&d, VOUCH_DIGEST_SHA256));
  char line[VOUCH_VPDQ_LINE_BYTES];
  for (size_t i = 0; i < v->n; i++) {
    size_t len = vouch_vpdq_format_line(&v->frames[i], line, sizeof line);
    vouch_digest_update(d, line, len);
  }
  int rc = vouch_digest_final(d, out, 32);
  vouch_digest_free(d);
  return rc;
}

int vouch_bank_import_video(vouch_bank *b, const char *name, const vouch_vpdq *video, const char *ext_id,
                            const char *source, const char *tags, int64_t now, int *added, int64_t *entry_id) {
  if (!b || !name || !video || !video->n || !video->frames) return VOUCH_E_INVALID;
  if ((ext_id && strlen(ext_id) > VOUCH_LIST_FIELD_MAX) || (source && strlen(source) > VOUCH_LIST_FIELD_MAX) ||
      (tags && strlen(tags) > VOUCH_LIST_FIELD_MAX))
    return vouch__bank_fail(b, VOUCH_E_INVALID, "id, source or tags longer than %u bytes", VOUCH_LIST_FIELD_MAX);
  if (b->schema < 3)
    return vouch__bank_fail(b, VOUCH_E_DB_VERSION, "bank file of schema version %d opened read-only: no video banks", b->schema);
  uint8_t h[32];
  VOUCH_TRY(video_digest(video, h));
  if (!now) now = (int64_t)time(NULL);
  VOUCH_TRY(vouch__bank_begin(b));
  int64_t bank_id, eid = 0;
  int algo, is_new = 0, src;
  vouch__stmt *st = NULL;
  int rc = vouch__bank_find(b, name, &bank_id, &algo, NULL);
  if (rc == VOUCH_OK && algo != VOUCH_ALGO_VPDQ)
    rc = vouch__bank_fail(b, VOUCH_E_ALGO_MISMATCH, "bank '%s' holds %s hashes, not videos", name, vouch_algo_name(algo));
  if (rc == VOUCH_OK) rc = vouch__bank_prepare(b, "SELECT id FROM entries WHERE bank_id = ? AND hash = ?", &st);
  if (rc == VOUCH_OK) {
    vouch__bind_int64(st, 1, bank_id);
    vouch__bind_blob(st, 2, h, 32);
    src = vouch__step(st);
    if (src == VOUCH__DB_ROW) eid = vouch__col_int64(st, 0);
    else if (src != VOUCH__DB_DONE) rc = vouch__bank_dbfail(b, src, "find video");
    vouch__finalize(st);
    st = NULL;
  }
  if (rc == VOUCH_OK && !eid) {
    is_new = 1;
    rc = vouch__bank_prepare(b, "INSERT INTO entries(bank_id, hash, ext_id, tags, enabled, added_at) VALUES(?, ?, ?, ?, 1, ?)"
                             " RETURNING id", &st);
    if (rc == VOUCH_OK) {
      vouch__bind_int64(st, 1, bank_id);
      vouch__bind_blob(st, 2, h, 32);
      vouch__bind_text(st, 3, ext_id, -1);
      vouch__bind_text(st, 4, tags, -1);
      vouch__bind_int64(st, 5, now);
      src = vouch__step(st);
      if (src != VOUCH__DB_ROW) rc = vouch__bank_dbfail(b, src, "add video");
      else eid = vouch__col_int64(st, 0);
      vouch__finalize(st);
      st = NULL;
    }
    if (rc == VOUCH_OK)
      rc = vouch__bank_prepare(b, "INSERT INTO video_frames(entry_id, frame, quality, hash, seconds) VALUES(?, ?, ?, ?, ?)", &st);
    for (size_t i = 0; rc == VOUCH_OK && i < video->n; i++) {
      const vouch_vpdq_frame *f = &video->frames[i];
      if (f->frame > (uint64_t)INT64_MAX || f->quality < 0 || f->quality > 100) {
        rc = vouch__bank_fail(b, VOUCH_E_INVALID, "frame %zu: number or quality out of range", i);
        break;
      }
      vouch__bind_int64(st, 1, eid);
      vouch__bind_int64(st, 2, (int64_t)f->frame);
      vouch__bind_int64(st, 3, f->quality);
      vouch__bind_blob(st, 4, f->hash, VOUCH_PDQ_BYTES);
      vouch__bind_double(st, 5, (double)f->seconds);
      src = vouch__step(st);
      if (src == VOUCH__DB_UNIQUE)
        rc = vouch__bank_fail(b, VOUCH_E_INVALID, "frame %llu appears twice", (unsigned long long)f->frame);
      else if (src != VOUCH__DB_DONE)
        rc = vouch__bank_dbfail(b, src, "add frame");
      vouch__reset(st);
    }
    if (st) vouch__finalize(st);
    st = NULL;
  }
  if (rc == VOUCH_OK && source && *source) {
    rc = vouch__bank_prepare(b, "INSERT INTO entry_sources(entry_id, source) VALUES(?, ?) ON CONFLICT DO NOTHING", &st);
    if (rc == VOUCH_OK) {
      vouch__bind_int64(st, 1, eid);
      vouch__bind_text(st, 2, source, -1);
      src = vouch__step(st);
      if (src != VOUCH__DB_DONE) rc = vouch__bank_dbfail(b, src, "add source");
      vouch__finalize(st);
    }
  }
  if (rc == VOUCH_OK) rc = vouch__bank_commit(b);
  if (rc != VOUCH_OK) {
    vouch__rollback(b->db);
    return rc;
  }
  if (added) *added = is_new;
  if (entry_id) *entry_id = eid;
  return VOUCH_OK;
}

int vouch_bank_video(vouch_bank *b, int64_t entry_id, vouch_vpdq *out) {
  if (!b || !out) return VOUCH_E_INVALID;
  memset(out, 0, sizeof *out);
  out->duration = -1.0;
  if (b->schema < 3) return vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no video %lld", (long long)entry_id);
  vouch__stmt *st;
  VOUCH_TRY(vouch__bank_prepare(b, "SELECT frame, quality, hash, seconds FROM video_frames WHERE entry_id = ? ORDER BY frame", &st));
  vouch__bind_int64(st, 1, entry_id);
  int src, rc = VOUCH_OK;
  while ((src = vouch__step(st)) == VOUCH__DB_ROW) {
    const void *h = vouch__col_blob(st, 2);
    const int64_t fr = vouch__col_int64(st, 0);
    const int q = vouch__col_int64(st, 1);
    if (!h || vouch__col_bytes(st, 2) != (int)VOUCH_PDQ_BYTES || fr < 0 || q < 0 || q > 100) {
      rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "video %lld: a malformed frame row", (long long)entry_id);
      break;
    }
    if (out->n == out->cap) {
      size_t nc = out->cap ? out->cap * 2 : 256;
      if (nc > VOUCH_VPDQ_MAX_FRAMES) {
        rc = vouch__bank_fail(b, VOUCH_E_DB_CORRUPT, "video %lld: more than %u frames", (long long)entry_id, VOUCH_VPDQ_MAX_FRAMES);
        break;
      }
      vouch_vpdq_frame *nf = vouch__realloc(out->frames, nc * sizeof *nf);
      if (!nf) {
        rc = vouch__bank_fail(b, VOUCH_E_NOMEM, "out of memory");
        break;
      }
      out->frames = nf;
      out->cap = nc;
    }
    vouch_vpdq_frame *f = &out->frames[out->n++];
    f->frame = (uint64_t)fr;
    f->quality = q;
    memcpy(f->hash, h, VOUCH_PDQ_BYTES);
    f->seconds = (float)vouch__col_double(st, 3);
  }
  if (rc == VOUCH_OK && src != VOUCH__DB_DONE) rc = vouch__bank_dbfail(b, src, "read frames");
  vouch__finalize(st);
  if (rc == VOUCH_OK && out->n == 0) rc = vouch__bank_fail(b, VOUCH_E_NOT_FOUND, "no video %lld", (long long)entry_id);
  if (rc != VOUCH_OK) {
    vouch_vpdq_clear(out);
    out->duration = -1.0;
  }
  return rc;
}

