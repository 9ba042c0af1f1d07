/* tests/fuzz/regression_driver.c -- replays a fuzz corpus as an ordinary test.
 * Usage: fuzz_X_replay DIR_OR_FILE...   Runs LLVMFuzzerTestOneInput on every
 * file; a crash or sanitizer report fails the test.  A missing directory is
 * an error, so a renamed corpus cannot silently test nothing. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { fprintf(stderr, "cannot open %s\n", path); return -1; }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      uint8_t *nb = realloc(buf, cap);
      if (!nb) { free(buf); fclose(f); return -1; }
      buf = nb;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int files = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) { fprintf(stderr, "no such corpus: %s\n", argv[i]); return 1; }
    if (S_ISDIR(st.st_mode)) {
      DIR *d = opendir(argv[i]);
      struct dirent *e;
      if (!d) return 1;
      while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
        if (run_file(path) != 0) { closedir(d); return 1; }
        files++;
      }
      closedir(d);
    } else {
      if (run_file(argv[i]) != 0) return 1;
      files++;
    }
  }
  printf("replayed %d corpus files\n", files);
  return files > 0 ? 0 : 1;
}
