/* bench/bench_vmatch.c -- vPDQ video matching on synthetic videos.
 *
 * usage: bench_vmatch [-n VIDEOS] [-f FRAMES] [-q QUERIES] [--check K] [-o FILE.vidx]
 *
 * Data: N database videos of F frames (default 10,000 x 100).  A video is a
 * random walk: a random first frame, then each frame 4 random bit flips away
 * from the previous one, so neighbouring frames are within the radius of
 * each other as in real footage.  Queries have 60 frames: the even ones are
 * edited copies of a database video (60 consecutive frames of it, each with
 * up to 8 more bit flips), the odd ones unrelated walks.
 * Measures, on one core: writing the index of unique frames, opening it
 * (checksum + multi-index tables), grouping by video, and the time per
 * query video of vouch_vpdq_db_match().  Checks: every planted copy matches
 * its source (recall), and for the first K queries (default all when N <=
 * 10,000, else 3) the reported videos and counts equal the plain loop
 * vouch_vpdq_compare() over every database video. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vouch/vouch.h"
#include "vouch/index.h"
#include "bench_clock.h"

#define QUERY_FRAMES 60

/* the thread's CPU time (bench_clock.h) */
#define cpu_now() now()

static uint64_t st = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) { return bench_xorshift64(&st); }

static void flip(uint8_t *h, unsigned k) {
  while (k--) {
    unsigned b = (unsigned)(rnd() % 256);
    h[b / 8] ^= (uint8_t)(1u << (b % 8));
  }
}

static void walk(vouch_vpdq *v, size_t n) {
  memset(v, 0, sizeof *v);
  v->frames = calloc(n, sizeof *v->frames);
  if (!v->frames) exit(1);
  v->n = v->cap = n;
  for (size_t i = 0; i < n; i++) {
    vouch_vpdq_frame *f = &v->frames[i];
    f->frame = i;
    f->quality = 100;
    if (i == 0)
      for (int b = 0; b < 32; b++) f->hash[b] = (uint8_t)rnd();
    else {
      memcpy(f->hash, v->frames[i - 1].hash, VOUCH_PDQ_BYTES);
      flip(f->hash, 4);
    }
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  size_t nv = 10000, nf = 100, nq = 100, check = (size_t)-1;
  const char *path = "/tmp/bench_vmatch.vidx";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-n")) nv = (size_t)atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-f")) nf = (size_t)atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-q")) nq = (size_t)atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--check")) check = (size_t)atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-o")) path = argv[i + 1];
    else {
      fprintf(stderr, "usage: bench_vmatch [-n VIDEOS] [-f FRAMES] [-q QUERIES] [--check K] [-o FILE.vidx]\n");
      return 2;
    }
  }
  if (nf < QUERY_FRAMES || nv == 0) {
    fprintf(stderr, "need at least %d frames per video and one video\n", QUERY_FRAMES);
    return 2;
  }
  if (check == (size_t)-1) check = nv <= 10000 ? nq : 3;
  if (check > nq) check = nq;
  vouch_vpdq *db = calloc(nv, sizeof *db);
  char **names = calloc(nv, sizeof *names);
  vouch_vpdq *q = calloc(nq, sizeof *q);
  size_t *source = calloc(nq, sizeof *source);
  if (!db || !names || !q || !source) return 1;
  for (size_t i = 0; i < nv; i++) {
    walk(&db[i], nf);
    char buf[32];
    snprintf(buf, sizeof buf, "v%zu", i);
    names[i] = strdup(buf);
  }
  for (size_t i = 0; i < nq; i++) {
    if (i % 2 == 0) {
      source[i] = (size_t)(rnd() % nv);
      const vouch_vpdq *s = &db[source[i]];
      size_t off = (size_t)(rnd() % (nf - QUERY_FRAMES + 1));
      q[i].frames = calloc(QUERY_FRAMES, sizeof *q[i].frames);
      q[i].n = q[i].cap = QUERY_FRAMES;
      for (size_t k = 0; k < QUERY_FRAMES; k++) {
        q[i].frames[k] = s->frames[off + k];
        q[i].frames[k].frame = k;
        flip(q[i].frames[k].hash, (unsigned)(rnd() % 9));
      }
    } else {
      walk(&q[i], QUERY_FRAMES);
    }
  }
  printf("%zu videos x %zu frames, %zu queries of %d frames, one core\n", nv, nf, nq, QUERY_FRAMES);
  double t0 = cpu_now();
  size_t count = 0;
  char err[256] = "";
  int rc = vouch_vpdq_index_write(path, "bench", db, (const char *const *)names, nv, VOUCH_VPDQ_QUALITY_MIN, NULL,
                                  &count, err, sizeof err);
  if (rc != VOUCH_OK) {
    fprintf(stderr, "index write: %s %s\n", vouch_strerror(rc), err);
    return 1;
  }
  double t1 = cpu_now();
  vouch_index *idx = NULL;
  rc = vouch_index_open(&idx, path, NULL);
  if (rc != VOUCH_OK) {
    fprintf(stderr, "index open: %s\n", vouch_index_errmsg(idx));
    return 1;
  }
  double t2 = cpu_now();
  vouch_vpdq_db *vdb = NULL;
  if (vouch_vpdq_db_open(&vdb, idx) != VOUCH_OK) return 1;
  double t3 = cpu_now();
  printf("  index: %zu unique frames; write %.2f s, open + MIH tables %.2f s, group by video %.2f s\n", count, t1 - t0,
         t2 - t1, t3 - t2);
  double *times = calloc(nq, sizeof *times);
  size_t planted = 0, found = 0, false_matches = 0, mismatch = 0, checked = 0;
  vouch_vpdq_match_opts mo = vouch_vpdq_match_opts_default();
  for (size_t i = 0; i < nq; i++) {
    vouch_vpdq_video_match *m = NULL;
    size_t nm = 0;
    double a = cpu_now();
    rc = vouch_vpdq_db_match(vdb, &q[i], &mo, &m, &nm, NULL);
    times[i] = cpu_now() - a;
    if (rc != VOUCH_OK) {
      fprintf(stderr, "match: %s\n", vouch_strerror(rc));
      return 1;
    }
    int hit = 0;
    for (size_t k = 0; k < nm; k++) {
      if (!m[k].match) continue;
      if (i % 2 == 0 && m[k].entry_id == (uint64_t)source[i] + 1) hit = 1;
      else false_matches++;
    }
    if (i % 2 == 0) {
      planted++;
      found += hit;
    }
    if (i < check) { /* the plain loop over every database video */
      checked++;
      size_t expect = 0, bad = 0;
      for (size_t v = 0; v < nv; v++) {
        vouch_vpdq_similarity s;
        vouch_vpdq_compare(&q[i], &db[v], mo.radius, mo.quality_min, &s);
        if (!s.query_matched) continue;
        expect++;
        const vouch_vpdq_video_match *x = NULL;
        for (size_t k = 0; k < nm; k++)
          if (m[k].entry_id == (uint64_t)v + 1) x = &m[k];
        if (!x || x->query_matched != s.query_matched || x->index_matched != s.target_matched ||
            x->index_unique != s.target_unique)
          bad++;
      }
      if (bad || expect != nm) mismatch++;
    }
    vouch_vpdq_video_matches_free(m);
  }
  qsort(times, nq, sizeof *times, cmp_double);
  double sum = 0;
  for (size_t i = 0; i < nq; i++) sum += times[i];
  printf("  per query video: mean %.2f ms, median %.2f ms, p99 %.2f ms, max %.2f ms (target <= 50 ms)\n",
         1e3 * sum / (double)nq, 1e3 * times[nq / 2], 1e3 * times[(nq * 99) / 100 < nq ? (nq * 99) / 100 : nq - 1],
         1e3 * times[nq - 1]);
  printf("  planted copies matched: %zu / %zu; other videos reported as matches: %zu\n", found, planted,
         false_matches);
  printf("  checked against the plain loop: %zu queries, %zu disagree\n", checked, mismatch);
  vouch_vpdq_db_free(vdb);
  vouch_index_free(idx);
  unlink(path);
  for (size_t i = 0; i < nv; i++) {
    free(db[i].frames);
    free(names[i]);
  }
  for (size_t i = 0; i < nq; i++) free(q[i].frames);
  free(db);
  free(names);
  free(q);
  free(source);
  free(times);
  return mismatch || found != planted ? 1 : 0;
}
