/* tests/fuzz/fuzz_vpdq_text.c -- the parser of vPDQ text (the reference's
 * FRAME,QUALITY,PDQHEX,SECONDS lines) on arbitrary bytes.
 *
 * Checks, beyond "no crash, no leak, no sanitizer report":
 *   - failure leaves no frames and names a line within the input;
 *   - success gives at least one frame, strictly increasing frame numbers,
 *     qualities 0..100 and finite non-negative seconds;
 *   - formatting every frame and parsing the text again gives the same
 *     frames (seconds to the printed 3 decimals), and so does the compact
 *     JSON form (vouch_vpdq_format_compact(); seconds to 3 significant
 *     digits, frames numbered by position).
 * Replayed over tests/fuzz/corpus/vpdq_text/ in ordinary test runs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vouch/video.h"

#define FUZZ_CHECK(c) \
  do {                \
    if (!(c))         \
      abort();        \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vouch_vpdq h;
  size_t line = 0;
  int rc = vouch_vpdq_parse((const char *)data, size, &h, &line);
  if (rc != VOUCH_OK) {
    FUZZ_CHECK(rc == VOUCH_E_HASH_PARSE || rc == VOUCH_E_NOMEM || rc == VOUCH_E_LIMIT);
    FUZZ_CHECK(h.frames == NULL && h.n == 0);
    FUZZ_CHECK(line <= size + 1);
    return 0;
  }
  FUZZ_CHECK(h.n >= 1 && h.frames != NULL);
  char *text = malloc(h.n * VOUCH_VPDQ_LINE_BYTES);
  FUZZ_CHECK(text != NULL);
  size_t len = 0;
  for (size_t i = 0; i < h.n; i++) {
    const vouch_vpdq_frame *f = &h.frames[i];
    FUZZ_CHECK(i == 0 || f->frame > h.frames[i - 1].frame);
    FUZZ_CHECK(f->quality >= 0 && f->quality <= 100);
    FUZZ_CHECK(isfinite(f->seconds) && f->seconds >= 0);
    size_t n = vouch_vpdq_format_line(f, text + len, VOUCH_VPDQ_LINE_BYTES);
    FUZZ_CHECK(n > 0);
    len += n;
  }
  vouch_vpdq g;
  FUZZ_CHECK(vouch_vpdq_parse(text, len, &g, NULL) == VOUCH_OK);
  FUZZ_CHECK(g.n == h.n);
  for (size_t i = 0; i < h.n; i++) {
    FUZZ_CHECK(g.frames[i].frame == h.frames[i].frame && g.frames[i].quality == h.frames[i].quality);
    FUZZ_CHECK(memcmp(g.frames[i].hash, h.frames[i].hash, VOUCH_PDQ_BYTES) == 0);
    FUZZ_CHECK(fabsf(g.frames[i].seconds - h.frames[i].seconds) <= 0.00051f + 1e-6f * h.frames[i].seconds);
  }
  vouch_vpdq_clear(&g);
  /* the compact JSON form (HMA's vpdq signal) round-trips too, frames
   * renumbered by position, seconds to Python's 3 significant digits */
  char *js = NULL;
  size_t jlen = 0;
  FUZZ_CHECK(vouch_vpdq_format_compact(&h, &js, &jlen) == VOUCH_OK);
  FUZZ_CHECK(vouch_vpdq_parse(js, jlen, &g, NULL) == VOUCH_OK);
  FUZZ_CHECK(g.n == h.n);
  for (size_t i = 0; i < h.n; i++) {
    FUZZ_CHECK(g.frames[i].frame == i && g.frames[i].quality == h.frames[i].quality);
    FUZZ_CHECK(memcmp(g.frames[i].hash, h.frames[i].hash, VOUCH_PDQ_BYTES) == 0);
    FUZZ_CHECK(fabsf(g.frames[i].seconds - h.frames[i].seconds) <= 0.006f * h.frames[i].seconds + 1e-6f);
  }
  vouch_free(js);
  vouch_vpdq_clear(&g);
  vouch_vpdq_clear(&h);
  free(text);
  return 0;
}
