/* programs/cli/util.c -- messages, JSON strings, path collection, progress. */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "vouch/bank.h"

__attribute__((format(printf, 2, 0))) static void vmsg(const char *kind, const char *fmt, va_list ap) {
  fprintf(stderr, "vouch: %s", kind);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}
void cli_errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg("", fmt, ap);
  va_end(ap);
}
void cli_warnf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg("warning: ", fmt, ap);
  va_end(ap);
}

void cli_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (*p < 0x20)
        fprintf(f, "\\u%04x", *p);
      else
        fputc(*p, f);
    }
  }
  fputc('"', f);
}

void cli_paths_free(cli_paths *p) {
  for (size_t i = 0; i < p->n; i++)
    free(p->v[i]);
  free(p->v);
  free(p->walked);
  memset(p, 0, sizeof *p);
}

void cli_paths_truncate(cli_paths *p, size_t n) {
  for (size_t i = n; i < p->n; i++)
    free(p->v[i]);
  if (n < p->n)
    p->n = n;
}

static int paths_push_flag(cli_paths *p, const char *s, int walked) {
  if (p->n == p->cap) {
    size_t nc = p->cap ? p->cap * 2 : 64;
    char **nv = realloc(p->v, nc * sizeof *nv);
    if (!nv) return -1;
    p->v = nv;
    unsigned char *nw = realloc(p->walked, nc);
    if (!nw) return -1;
    p->walked = nw;
    p->cap = nc;
  }
  p->v[p->n] = strdup(s);
  if (!p->v[p->n]) return -1;
  p->walked[p->n] = (unsigned char)walked;
  p->n++;
  return 0;
}

static int paths_push(cli_paths *p, const char *s) { return paths_push_flag(p, s, 0); }

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(cli_paths *p, const char *dir, int depth) {
  if (depth > 64) {
    cli_errorf("%s: directory nesting too deep", dir);
    return 1;
  }
  DIR *d = opendir(dir);
  if (!d) {
    cli_errorf("%s: %s", dir, strerror(errno));
    return 1;
  }
  cli_paths names = {0};
  struct dirent *e;
  int bad = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue; /* skip hidden files and . .. */
    if (paths_push(&names, e->d_name) != 0) { bad++; break; }
  }
  closedir(d);
  qsort(names.v, names.n, sizeof *names.v, cmp_str);
  for (size_t i = 0; i < names.n; i++) {
    size_t len = strlen(dir) + strlen(names.v[i]) + 2;
    char *full = malloc(len);
    if (!full) { bad++; break; }
    snprintf(full, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names.v[i]);
    struct stat st;
    if (stat(full, &st) != 0) {
      cli_errorf("%s: %s", full, strerror(errno));
      bad++;
    } else if (S_ISDIR(st.st_mode)) {
      bad += walk(p, full, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
      if (paths_push_flag(p, full, 1) != 0) bad++;
    }
    free(full);
  }
  cli_paths_free(&names);
  return bad;
}

int cli_paths_collect(cli_paths *p, char **operands, int n, int recursive) {
  int bad = 0;
  for (int i = 0; i < n; i++) {
    const char *op = operands[i];
    if (!strcmp(op, "-")) {
      char *line = NULL;
      size_t cap = 0;
      ssize_t len;
      while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        if (paths_push(p, line) != 0) bad++;
      }
      free(line);
      continue;
    }
    struct stat st;
    if (stat(op, &st) != 0) {
      cli_errorf("%s: %s", op, strerror(errno));
      bad++;
    } else if (S_ISDIR(st.st_mode)) {
      if (recursive)
        bad += walk(p, op, 0);
      else {
        cli_errorf("%s: is a directory (use -r)", op);
        bad++;
      }
    } else if (paths_push(p, op) != 0) {
      bad++;
    }
  }
  return bad;
}

int cli_dispatch(const char *who, const char *usage, const cli_subcmd *cmds, size_t ncmds, int argc,
                 char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return CLI_EXIT_ERROR;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    fputs(usage, stdout);
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < ncmds; i++)
    if (!strcmp(argv[1], cmds[i].name))
      return cmds[i].fn(argc - 1, argv + 1);
  cli_errorf("unknown '%s' command '%s'", who, argv[1]);
  fputs(usage, stderr);
  return CLI_EXIT_ERROR;
}

int cli_ncpu(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (int)n;
}

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *p, const char *label, size_t total) {
  memset(p, 0, sizeof *p);
  p->enabled = isatty(STDERR_FILENO) && total > 1;
  p->total = total;
  p->label = label;
  p->start = p->last = cli_now();
}

void cli_progress_update(cli_progress *p, size_t done) {
  p->done = done;
  if (!p->enabled) return;
  double now = cli_now();
  if (now - p->last < 0.1 && done < p->total) return;
  p->last = now;
  double rate = (now - p->start) > 0 ? (double)done / (now - p->start) : 0;
  int width = 30, fill = p->total ? (int)((double)done * width / (double)p->total) : 0;
  fprintf(stderr, "\r%s [", p->label);
  for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
  fprintf(stderr, "] %zu/%zu  %.0f/s ", done, p->total, rate);
}

void cli_progress_end(cli_progress *p) {
  if (!p->enabled) return;
  cli_progress_update(p, p->done);
  fputs("\r\033[K", stderr);
}

int cli_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
  char *end;
  if (!s || !*s || *s == '-') return -1;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

void cli_hex_out(FILE *f, const uint8_t *b, size_t n) {
  char hex[2 * 64 + 1];
  for (size_t i = 0; i < n; i += 64) {
    size_t k = n - i < 64 ? n - i : 64;
    vouch_hash_to_hex(b + i, k, hex, sizeof hex);
    fputs(hex, f);
  }
}

int cli_missing_operands(int argc, const char *usage) {
  if (optind < argc)
    return 0;
  cli_errorf("no input files");
  fputs(usage, stderr);
  return 1;
}

int cli_uint_arg(const char *s, unsigned long lo, unsigned long hi, unsigned long *out, const char *fmt, ...) {
  if (cli_parse_uint(s, lo, hi, out) == 0)
    return 0;
  va_list ap;
  va_start(ap, fmt);
  vmsg("", fmt, ap);
  va_end(ap);
  return -1;
}

int cli_read_file(const char *path, size_t max, uint8_t **out, size_t *len) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  *out = NULL;
  *len = 0;
  if (!f) return -1;
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0;
  int err = 0;
  for (;;) {
    if (n + 1 >= cap) { /* room for the data and a NUL */
      size_t nc = cap ? cap * 2 : 65536;
      if (cap > max) {
        err = EFBIG;
        break;
      }
      uint8_t *nb = realloc(buf, nc);
      if (!nb) {
        err = ENOMEM;
        break;
      }
      buf = nb;
      cap = nc;
    }
    size_t got = fread(buf + n, 1, cap - 1 - n, f);
    n += got;
    if (n > max) {
      err = EFBIG;
      break;
    }
    if (got == 0) {
      if (ferror(f)) err = EIO;
      break;
    }
  }
  if (f != stdin) fclose(f);
  if (err) {
    free(buf);
    errno = err;
    return -1;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return 0;
}

int cli_read_file_reported(const char *path, size_t max, uint8_t **out, size_t *len) {
  if (cli_read_file(path, max, out, len) != 0) {
    cli_errorf("%s: %s", path, errno == EFBIG ? "file too large" : strerror(errno));
    return -1;
  }
  return 0;
}

int cli_read_secret(const char *path, size_t max, uint8_t **out, size_t *len) {
  struct stat st;
  if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && (st.st_mode & 077))
    cli_warnf("%s is readable by other users (mode %03o); it holds a secret key", path,
              (unsigned)(st.st_mode & 0777));
  return cli_read_file_reported(path, max, out, len);
}

int cli_write_file_atomic(const char *path, const void *buf, size_t len, unsigned mode) {
  size_t pl = strlen(path) + 16;
  char *tmp = malloc(pl);
  if (!tmp) return -1;
  snprintf(tmp, pl, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    free(tmp);
    return -1;
  }
  int ok = fchmod(fd, (mode_t)mode) == 0, saved = 0;
  const uint8_t *p = buf;
  size_t done = 0;
  while (ok && done < len) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ok = 0;
    else done += (size_t)w;
  }
  if (ok && fsync(fd) != 0) ok = 0;
  if (!ok) saved = errno;
  if (close(fd) != 0 && ok) {
    ok = 0;
    saved = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = 0;
    saved = errno;
  }
  if (!ok) unlink(tmp);
  free(tmp);
  if (!ok) errno = saved ? saved : EIO;
  return ok ? 0 : -1;
}

/* ------------------------------------------------------------ stored lists */

static int keep_list(void *ctx, const vouch_bank_signed_list *l) {
  cli_bank_lists *s = ctx;
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 16;
    uint8_t **nb = realloc(s->bufs, nc * sizeof *nb);
    if (!nb) return VOUCH_E_NOMEM;
    s->bufs = nb;
    size_t *nl = realloc(s->lens, nc * sizeof *nl);
    if (!nl) return VOUCH_E_NOMEM;
    s->lens = nl;
    s->cap = nc;
  }
  uint8_t *cp = malloc(l->vsl_len ? l->vsl_len : 1);
  if (!cp) return VOUCH_E_NOMEM;
  memcpy(cp, l->vsl, l->vsl_len);
  s->bufs[s->n] = cp;
  s->lens[s->n++] = l->vsl_len;
  return 0;
}

void cli_bank_lists_free(cli_bank_lists *l) {
  for (size_t i = 0; i < l->n; i++) free(l->bufs[i]);
  free(l->bufs);
  free(l->lens);
  memset(l, 0, sizeof *l);
}

int cli_bank_lists_load(const char *who, const char *db, const char *const *names, size_t nnames,
                        cli_bank_lists *out) {
  vouch_bank *b = NULL;
  memset(out, 0, sizeof *out);
  int rc = vouch_bank_open(&b, db, VOUCH_BANK_OPEN_READONLY);
  if (rc == VOUCH_OK)
    rc = vouch_bank_signed_lists(b, names, nnames, 1, keep_list, out);
  if (rc != VOUCH_OK) {
    cli_errorf("%s: %s", who, vouch_bank_errmsg(b)[0] ? vouch_bank_errmsg(b) : vouch_strerror(rc));
    cli_bank_lists_free(out);
    vouch_bank_free(b);
    return -1;
  }
  vouch_bank_free(b);
  if (out->n == 0) {
    cli_errorf("%s: %s: no signed lists in the chosen banks (import them with "
               "'vouch bank import --signed LIST.vsl')", who, db);
    return -1;
  }
  return 0;
}

int cli_image_fit(vouch_image *img, uint32_t max_side) {
  img->scale_denom = 1;
  img->src_width = img->width;
  img->src_height = img->height;
  uint32_t side = img->width > img->height ? img->width : img->height;
  if (!max_side || side <= max_side)
    return VOUCH_OK;
  double s = (double)max_side / side;
  uint32_t w = (uint32_t)floor(img->width * s + 0.5), h = (uint32_t)floor(img->height * s + 0.5);
  vouch_image small = {0};
  int rc = vouch_image_resample(img, w ? w : 1, h ? h : 1, &small);
  if (rc == VOUCH_OK) {
    vouch_image_clear(img);
    *img = small;
  }
  return rc;
}
