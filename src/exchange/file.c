/* src/exchange/file.c -- the `file` exchange: a local file or a directory of
 * lists (saved exchange pages, a partner's drops, tx output), imported
 * incrementally.  A sync lists the regular files (in a directory: those
 * whose names do not start with '.', so a writer can write ".name" and
 * rename it), orders them by modification time and then name, and imports,
 * oldest first, each one that comes after the stored checkpoint
 * "MTIME_NS NAME".  A file changed since is imported again; an unchanged one
 * never.  A file that yields nothing (no row added, merged or deleted) stops
 * the sync with an error naming it, like `vouch bank import`'s exit 2.
 * Each file is one vouch_bank_import() transaction, and its position
 * is stored right after it; if a crash falls between the two, the next sync
 * imports that one file again, which changes nothing (imports merge, and a
 * deletion or re-listing applied twice is applied once). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "exchange_internal.h"

#define FILES_MAX 1000000U /* files considered in one directory */

typedef struct dfile {
  int64_t mtime_ns;
  char *name;
} dfile;

static int ffail(vouch_exchange_stats *st, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ffail(vouch_exchange_stats *st, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->errmsg, sizeof st->errmsg, fmt, ap);
  va_end(ap);
  return rc;
}

static int64_t mtime_ns(const struct stat *sb) {
  return (int64_t)sb->st_mtim.tv_sec * 1000000000 + (int64_t)sb->st_mtim.tv_nsec;
}

static int cmp_dfile(const void *a, const void *b) {
  const dfile *x = a, *y = b;
  if (x->mtime_ns != y->mtime_ns)
    return x->mtime_ns < y->mtime_ns ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* 1 if f comes after the checkpoint "MTIME_NS NAME" ("" = before everything) */
static int after_checkpoint(const dfile *f, const char *cp) {
  if (!cp[0])
    return 1;
  char *end;
  errno = 0;
  long long t = strtoll(cp, &end, 10);
  if (errno || *end != ' ')
    return 1; /* not ours: start over (imports merge) */
  if (f->mtime_ns != t)
    return f->mtime_ns > t;
  return strcmp(f->name, end + 1) > 0;
}

/* Reads a whole file of at most VOUCH_EXCHANGE_PAGE_MAX bytes. */
static int slurp(const char *path, char **out, size_t *len, vouch_exchange_stats *st) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return ffail(st, VOUCH_E_IO, "%s: %s", path, strerror(errno));
  struct stat sb;
  int rc = VOUCH_OK;
  char *buf = NULL;
  size_t n = 0;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
    rc = ffail(st, VOUCH_E_IO, "%s: not a regular file", path);
  else if ((uint64_t)sb.st_size > VOUCH_EXCHANGE_PAGE_MAX)
    rc = ffail(st, VOUCH_E_LIMIT, "%s: larger than %u bytes", path, VOUCH_EXCHANGE_PAGE_MAX);
  else if (!(buf = vouch__malloc((size_t)sb.st_size + 1)))
    rc = ffail(st, VOUCH_E_NOMEM, "out of memory");
  while (rc == VOUCH_OK && n < (size_t)sb.st_size) {
    ssize_t r = read(fd, buf + n, (size_t)sb.st_size - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break; /* shorter than it was: take what is there */
    n += (size_t)r;
  }
  close(fd);
  if (rc != VOUCH_OK) {
    vouch__free(buf);
    return rc;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return VOUCH_OK;
}

/* Lists the files to consider: the file itself, or a directory's files. */
static int list_files(const char *path, int is_dir, dfile **out, size_t *n, vouch_exchange_stats *st) {
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  if (!is_dir) {
    struct stat sb;
    if (stat(path, &sb) != 0)
      return ffail(st, VOUCH_E_IO, "%s: %s", path, strerror(errno));
    const char *base = strrchr(path, '/');
    if (!(*out = vouch__malloc(sizeof **out)) || !((*out)->name = strdup(base ? base + 1 : path))) {
      vouch__free(*out);
      *out = NULL;
      return ffail(st, VOUCH_E_NOMEM, "out of memory");
    }
    (*out)->mtime_ns = mtime_ns(&sb);
    *n = 1;
    return VOUCH_OK;
  }
  int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0)
      close(dfd);
    return ffail(st, VOUCH_E_IO, "%s: %s", path, strerror(errno));
  }
  int rc = VOUCH_OK;
  struct dirent *e;
  while (rc == VOUCH_OK && (e = readdir(d)) != NULL) {
    struct stat sb;
    if (e->d_name[0] == '.' || fstatat(dfd, e->d_name, &sb, 0) != 0 || !S_ISREG(sb.st_mode))
      continue;
    if (*n == FILES_MAX) {
      rc = ffail(st, VOUCH_E_LIMIT, "%s: more than %u files", path, FILES_MAX);
      break;
    }
    if (*n == cap) {
      size_t nc = cap ? 2 * cap : 64;
      dfile *nf = vouch__realloc(*out, nc * sizeof *nf);
      if (!nf) {
        rc = ffail(st, VOUCH_E_NOMEM, "out of memory");
        break;
      }
      *out = nf;
      cap = nc;
    }
    if (!((*out)[*n].name = strdup(e->d_name))) {
      rc = ffail(st, VOUCH_E_NOMEM, "out of memory");
      break;
    }
    (*out)[(*n)++].mtime_ns = mtime_ns(&sb);
  }
  closedir(d);
  return rc;
}

/* Stores the position "MTIME_NS NAME" as the checkpoint of (bank, source):
 * an exchange page with no records that carries only a checkpoint, which
 * vouch_bank_import() stores like any page's. */
static int store_position(vouch_bank *db, const char *name, const char *source, const dfile *f,
                          vouch_exchange_stats *st) {
  char cp[VOUCH_LIST_CHECKPOINT_MAX];
  int n = snprintf(cp, sizeof cp, "%" PRId64 " %s", f->mtime_ns, f->name);
  if (n < 0 || (size_t)n >= sizeof cp)
    return ffail(st, VOUCH_E_LIMIT, "%s: file name too long for a checkpoint", f->name);
  json_t *page = json_pack("{s:[],s:s,s:n}", "results", "checkpoint", cp, "next");
  char *text = page ? json_dumps(page, JSON_COMPACT) : NULL;
  json_decref(page);
  if (!text)
    return ffail(st, VOUCH_E_NOMEM, "out of memory");
  vouch_import_opts io;
  memset(&io, 0, sizeof io);
  io.list.format = VOUCH_LIST_TAT;
  io.source = source;
  int rc = vouch_bank_import(db, name, text, strlen(text), &io, NULL);
  free(text);
  if (rc != VOUCH_OK)
    ffail(st, rc, "%s: the position was not stored: %s", f->name, vouch_bank_errmsg(db));
  return rc;
}

typedef struct err_ctx {
  const vouch_exchange_opts *o;
  const char *file;
} err_ctx;

static int on_error(void *vctx, size_t line, const char *msg) {
  err_ctx *x = vctx;
  if (!x->o->error)
    return 0;
  char m[VOUCH_EXCHANGE_ERRMSG_MAX];
  snprintf(m, sizeof m, "%.200s: %s", x->file, msg);
  return x->o->error(x->o->error_ctx, line, m);
}

int vouch__exchange_sync_file(vouch_bank *db, const char *name, const vouch_exchange_opts *o,
                              vouch_exchange_stats *st) {
  const char *path = o->url;
  if (!strncmp(path, "file://", 7))
    path += 7;
  const char *source = o->source ? o->source : "file";
  struct stat sb;
  if (!*path || stat(path, &sb) != 0)
    return ffail(st, VOUCH_E_IO, "%s: %s", *path ? path : "(empty path)", *path ? strerror(errno) : "no file");
  const int is_dir = S_ISDIR(sb.st_mode);
  vouch_list_page cp;
  int rc = vouch_bank_checkpoint(db, name, source, &cp, NULL);
  if (rc == VOUCH_E_NOT_FOUND) {
    memset(&cp, 0, sizeof cp);
    rc = VOUCH_OK;
  } else if (rc != VOUCH_OK) {
    return ffail(st, rc, "%s", vouch_bank_errmsg(db));
  }
  dfile *files = NULL;
  size_t n = 0;
  if ((rc = list_files(path, is_dir, &files, &n, st)) == VOUCH_OK && n > 1)
    qsort(files, n, sizeof *files, cmp_dfile);
  unsigned max_pages = o->max_pages ? o->max_pages : 100000;
  for (size_t i = 0; rc == VOUCH_OK && i < n; i++) {
    if (!after_checkpoint(&files[i], cp.checkpoint))
      continue;
    if (st->pages >= max_pages) {
      rc = ffail(st, VOUCH_E_LIMIT, "stopped after %u files (the limit); the next sync goes on from there", max_pages);
      break;
    }
    if (o->cancel && o->cancel(o->cancel_ctx)) {
      rc = ffail(st, VOUCH_E_IO, "%s: cancelled", files[i].name);
      break;
    }
    char full[4096];
    int fl = is_dir ? snprintf(full, sizeof full, "%s/%s", path, files[i].name) : snprintf(full, sizeof full, "%s", path);
    if (fl < 0 || (size_t)fl >= sizeof full) {
      rc = ffail(st, VOUCH_E_LIMIT, "%s: path too long", files[i].name);
      break;
    }
    char *data = NULL;
    size_t len = 0;
    if ((rc = slurp(full, &data, &len, st)) != VOUCH_OK)
      break;
    st->requests++;
    vouch_import_opts io;
    memset(&io, 0, sizeof io);
    vouch_list_page pg;
    io.list.format = VOUCH_LIST_AUTO;
    io.list.min_quality = o->min_quality;
    io.list.page = &pg;
    io.source = source;
    err_ctx ec = {o, files[i].name};
    io.error = on_error;
    io.error_ctx = &ec;
    io.now = o->now;
    vouch_import_stats ist;
    rc = vouch_bank_import(db, name, data, len, &io, &ist);
    vouch__free(data);
    if (rc != VOUCH_OK) {
      ffail(st, rc, "%s: %s", full, vouch_bank_errmsg(db)[0] ? vouch_bank_errmsg(db) : vouch_strerror(rc));
      break;
    }
    /* a file we took nothing from is an error, as for vouch bank import:
     * the sync stops there (its position is not stored), never skipping it
     * in silence; an exchange page with no records is not one */
    size_t rows = ist.added + ist.merged + ist.bad + ist.skipped + ist.low_quality + ist.tombstones;
    int page = vouch_exchange_type_from_name(vouch_exchange_type_name(ist.format)) == ist.format;
    if (ist.added + ist.merged + ist.tombstones == 0 && len > 0 && (rows > 0 || !page)) {
      vouch__import_stats_add(&st->total, &ist);
      rc = ffail(st, VOUCH_E_HASH_PARSE,
                 "%s: nothing imported: %zu rows of another signal type than the bank's, %zu below the quality "
                 "floor, %zu bad lines",
                 full, ist.skipped, ist.low_quality, ist.bad);
      break;
    }
    st->pages++;
    vouch__import_stats_add(&st->total, &ist);
    if ((rc = store_position(db, name, source, &files[i], st)) != VOUCH_OK)
      break;
    snprintf(st->last.checkpoint, sizeof st->last.checkpoint, "%" PRId64 " %s", files[i].mtime_ns, files[i].name);
  }
  for (size_t i = 0; i < n; i++)
    free(files[i].name);
  vouch__free(files);
  return rc;
}
