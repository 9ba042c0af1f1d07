/* tests/unit/test_pdq.c -- PDQ against Meta's reference, bit for bit.
 * Vectors: shared/testdata/pdq/expected/reference_fullres.csv (hash, quality
 * and the 8 dihedral variants of every file, full-resolution decode, EXIF
 * ignored as the reference does) and expected/intermediates/ (the 64x64
 * buffer and the 16x16 DCT, printed with %.9g, so they round-trip to the
 * exact float). */
#include <stdlib.h>
#include <string.h>
#include "tinytest.h"
#include "vouch/vouch.h"
#include "hash/pdq_internal.h"

static char shared[1024];

static int decode_path(vouch_decoder *dec, const char *rel, vouch_image *img) {
  char path[2048];
  snprintf(path, sizeof path, "%s/testdata/pdq/%s", shared, rel);
  int rc = vouch_decoder_decode_file(dec, path, img);
  if (rc != VOUCH_OK)
    fprintf(stderr, "decode %s: %s (%s)\n", rel, vouch_strerror(rc), vouch_decoder_errmsg(dec));
  return rc;
}

static int g_simd = 1;

static void test_reference_fullres(void) {
  char path[2048];
  snprintf(path, sizeof path, "%s/testdata/pdq/expected/reference_fullres.csv", shared);
  FILE *f = fopen(path, "r");
  REQUIRE(f != NULL);
  vouch_decode_opts o = vouch_decode_opts_default();
  o.apply_orientation = 0; /* the reference ignores EXIF orientation */
  vouch_decoder *dec = NULL;
  vouch_hasher *h = NULL;
  REQUIRE(vouch_decoder_create(&dec, &o) == VOUCH_OK);
  REQUIRE(vouch_hasher_create(&h) == VOUCH_OK);
  vouch__hasher_set_simd(h, g_simd);
  char line[4096];
  int rows = 0, exact = 0;
  REQUIRE(fgets(line, sizeof line, f) != NULL); /* header */
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    char *fields[12];
    int nf = 0;
    for (char *p = line, *s; nf < 12 && (s = strsep(&p, ",")) != NULL;) fields[nf++] = s;
    REQUIRE(nf == 12);
    rows++;
    vouch_image img = {0};
    int rc = decode_path(dec, fields[0], &img);
    CHECK_EQ_INT(rc, VOUCH_OK);
    if (rc != VOUCH_OK) continue;
    CHECK_EQ_INT(img.width, atoi(fields[1]));
    CHECK_EQ_INT(img.height, atoi(fields[2]));
    uint8_t out[VOUCH_DIHEDRAL_N][VOUCH_PDQ_BYTES];
    int q = -1;
    CHECK_EQ_INT(vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, VOUCH_HASH_DIHEDRAL, &out[0][0],
                                  sizeof out, &q), VOUCH_OK);
    int row_ok = q == atoi(fields[3]);
    if (!row_ok) fprintf(stderr, "%s: quality %d, want %s\n", fields[0], q, fields[3]);
    for (unsigned v = 0; v < VOUCH_DIHEDRAL_N; v++) {
      char hex[VOUCH_HASH_HEX_BYTES];
      vouch_hash_to_hex(out[v], VOUCH_PDQ_BYTES, hex, sizeof hex);
      if (strcmp(hex, fields[4 + v]) != 0) {
        row_ok = 0;
        uint8_t want[VOUCH_PDQ_BYTES];
        vouch_hash_from_hex(fields[4 + v], 64, want, sizeof want);
        fprintf(stderr, "%s %s: got %s, want %s (%u bits)\n", fields[0], vouch_dihedral_name((int)v),
                hex, fields[4 + v], vouch_hamming(out[v], want, VOUCH_PDQ_BYTES));
      }
    }
    CHECK(row_ok);
    exact += row_ok;
    vouch_image_clear(&img);
  }
  fclose(f);
  fprintf(stderr, "reference_fullres (%s kernels): %d/%d rows bit-exact (hash, quality, 8 variants)\n",
          g_simd ? "SIMD" : "scalar", exact, rows);
  CHECK(rows >= 60);
  vouch_hasher_free(h);
  vouch_decoder_free(dec);
}

/* Reads "%.9g" floats from the next `n` numbers of the file after a marker line. */
static int read_floats_after(FILE *f, const char *marker, float *out, int n) {
  char line[65536];
  while (fgets(line, sizeof line, f))
    if (strstr(line, marker)) break;
  int got = 0;
  while (got < n && fgets(line, sizeof line, f)) {
    char *p = line, *end;
    for (;;) {
      float v = strtof(p, &end);
      if (end == p) break;
      if (got < n) out[got++] = v;
      p = end;
    }
  }
  return got;
}

static void check_intermediates(const char *file, const char *image, int skip_jarosz) {
  char path[2048];
  snprintf(path, sizeof path, "%s/testdata/pdq/expected/intermediates/%s", shared, file);
  FILE *f = fopen(path, "r");
  REQUIRE(f != NULL);
  static float want64[64 * 64], want16[256];
  REQUIRE(read_floats_after(f, "buffer64x64", want64, 4096) == 4096);
  REQUIRE(read_floats_after(f, "dct16x16", want16, 256) == 256);
  fclose(f);
  vouch_decode_opts o = vouch_decode_opts_default();
  o.apply_orientation = 0;
  vouch_decoder *dec = NULL;
  REQUIRE(vouch_decoder_create(&dec, &o) == VOUCH_OK);
  vouch_image img = {0};
  REQUIRE(decode_path(dec, image, &img) == VOUCH_OK);
  size_t n = (size_t)img.width * img.height;
  float *luma = malloc(n * sizeof(float)), *scratch = malloc(n * sizeof(float));
  REQUIRE(luma && scratch);
  vouch__luma_from_image(&img, luma);
  float dct[16 * 64], buf64[64 * 64], dct16[256];
  vouch__pdq_dct_matrix(dct);
  uint8_t out[1][VOUCH_PDQ_BYTES];
  int q;
  if (skip_jarosz) {
    /* the 64x64 buffer is the luma itself on the CLI path for 64x64 input */
    CHECK(img.width == 64 && img.height == 64);
    CHECK(memcmp(luma, want64, sizeof want64) == 0);
  } else {
    CHECK_EQ_INT(vouch__pdq_core(dct, luma, scratch, img.height, img.width, out, 1, &q, buf64, dct16), VOUCH_OK);
    int bad64 = 0, bad16 = 0;
    for (int i = 0; i < 4096; i++) bad64 += buf64[i] != want64[i];
    for (int i = 0; i < 256; i++) bad16 += dct16[i] != want16[i];
    if (bad64 || bad16) fprintf(stderr, "%s: %d/4096 buffer and %d/256 DCT values differ\n", file, bad64, bad16);
    CHECK_EQ_INT(bad64, 0);
    CHECK_EQ_INT(bad16, 0);
  }
  free(luma);
  free(scratch);
  vouch_image_clear(&img);
  vouch_decoder_free(dec);
}

static void test_intermediates(void) {
  check_intermediates("bridge-1-original.fullres.txt", "decoded/bridge-1-original.png", 0);
  check_intermediates("q2821.txt", "decoded/q2821.png", 0);
  check_intermediates("flat-gray-256.txt", "synthetic/flat-gray-256.png", 0);
  check_intermediates("bridge-64x64.txt", "synthetic/bridge-64x64.png", 1);
}

static void test_tiny_and_luma_api(void) {
  /* Below 5 pixels on a side: all zeros, quality 0, as the reference. */
  float luma[4 * 40], scratch[4 * 40];
  for (int i = 0; i < 160; i++) luma[i] = (float)(i * 7 % 255);
  uint8_t out[8][VOUCH_PDQ_BYTES];
  memset(out, 0xAA, sizeof out);
  int q = 55;
  CHECK_EQ_INT(vouch_pdq_from_luma(luma, scratch, 4, 40, out, 8, &q), VOUCH_OK);
  CHECK_EQ_INT(q, 0);
  uint8_t zero[VOUCH_PDQ_BYTES] = {0};
  for (int v = 0; v < 8; v++) CHECK(memcmp(out[v], zero, sizeof zero) == 0);
  CHECK_EQ_INT(vouch_pdq_from_luma(luma, scratch, 4, 40, out, 3, &q), VOUCH_E_INVALID);
  /* A gradient image: the hash of the original equals variant 0 of the dihedral call. */
  float *l1 = malloc(100 * 80 * sizeof(float)), *l2 = malloc(100 * 80 * sizeof(float)),
        *s = malloc(100 * 80 * sizeof(float));
  for (int y = 0; y < 80; y++)
    for (int x = 0; x < 100; x++) l1[y * 100 + x] = l2[y * 100 + x] = (float)((x * x + 3 * y) % 256);
  uint8_t one[1][VOUCH_PDQ_BYTES];
  CHECK_EQ_INT(vouch_pdq_from_luma(l1, s, 80, 100, one, 1, &q), VOUCH_OK);
  CHECK_EQ_INT(vouch_pdq_from_luma(l2, s, 80, 100, out, 8, &q), VOUCH_OK);
  CHECK(memcmp(one[0], out[0], VOUCH_PDQ_BYTES) == 0);
  free(l1);
  free(l2);
  free(s);
}

static void test_hex_and_hamming(void) {
  static const char *hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
  uint8_t h[32], g[32];
  char back[65];
  CHECK_EQ_INT(vouch_hash_from_hex(hex, 64, h, 32), VOUCH_OK);
  CHECK_EQ_INT(h[0], 0xf8);
  CHECK_EQ_INT(h[31], 0x22);
  CHECK_EQ_INT(vouch_hash_to_hex(h, 32, back, sizeof back), VOUCH_OK);
  CHECK_EQ_STR(back, hex);
  CHECK_EQ_INT(vouch_hash_to_hex(h, 32, back, 64), VOUCH_E_INVALID);
  CHECK_EQ_INT(vouch_hash_from_hex("F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22", 64, g, 32), VOUCH_OK);
  CHECK(memcmp(g, h, 32) == 0);
  CHECK_EQ_INT(vouch_hash_from_hex(hex, 63, g, 32), VOUCH_E_HASH_PARSE);
  CHECK_EQ_INT(vouch_hash_from_hex("zz", 2, g, 1), VOUCH_E_HASH_PARSE);
  CHECK_EQ_INT(vouch_hamming(h, g, 32), 0);
  g[5] ^= 0x81;
  g[31] ^= 0xff;
  CHECK_EQ_INT(vouch_hamming(h, g, 32), 10);
  uint8_t z[32] = {0}, o[32];
  memset(o, 0xff, 32);
  CHECK_EQ_INT(vouch_hamming(z, o, 32), 256);
  CHECK_EQ_INT(vouch_hamming(z, o, 8), 64);
  CHECK_EQ_INT(vouch_algo_from_name("PDQ"), VOUCH_ALGO_PDQ);
  CHECK_EQ_INT(vouch_algo_from_name("phash"), VOUCH_ALGO_PHASH);
  CHECK_EQ_INT(vouch_algo_from_name("md5"), VOUCH_ALGO_NONE);
  CHECK_EQ_INT(vouch_algo_bytes(VOUCH_ALGO_DHASH), 8);
  /* The reference's bit order: coefficient (0,0) is the last hex digit's low bit. */
  CHECK_EQ_STR(vouch_dihedral_name(VOUCH_DIH_FLIPMINUS1), "flipminus1");
}

/* vouch_hash_encoded() (JPEG rows streamed into the filter) must give what
 * decode + vouch_hash_image() gives, on every reference file, with EXIF
 * orientation ignored (then it must also be the reference) and applied, and
 * the same error on every truncation of a JPEG. */
static void test_encoded_path(void) {
  char path[2048];
  snprintf(path, sizeof path, "%s/testdata/pdq/expected/reference_fullres.csv", shared);
  FILE *f = fopen(path, "r");
  REQUIRE(f != NULL);
  vouch_decode_opts o = vouch_decode_opts_default();
  vouch_decode_opts no = o;
  no.apply_orientation = 0;
  vouch_decoder *dec_o = NULL, *dec_n = NULL;
  vouch_hasher *h = NULL;
  REQUIRE(vouch_decoder_create(&dec_o, &o) == VOUCH_OK);
  REQUIRE(vouch_decoder_create(&dec_n, &no) == VOUCH_OK);
  REQUIRE(vouch_hasher_create(&h) == VOUCH_OK);
  char line[4096];
  int rows = 0, same = 0;
  REQUIRE(fgets(line, sizeof line, f) != NULL);
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    char *fields[12];
    int nf = 0;
    for (char *p = line, *t; nf < 12 && (t = strsep(&p, ",")) != NULL;) fields[nf++] = t;
    REQUIRE(nf == 12);
    char fp[2048];
    snprintf(fp, sizeof fp, "%s/testdata/pdq/%s", shared, fields[0]);
    size_t len = 0;
    unsigned char *bytes = tt_read_file(fp, &len);
    REQUIRE(bytes != NULL);
    rows++;
    int ok = 1;
    for (int pass = 0; pass < 2; pass++) {
      vouch_decoder *dec = pass ? dec_o : dec_n;
      uint8_t a[8][VOUCH_PDQ_BYTES], b[8][VOUCH_PDQ_BYTES];
      int qa = -1, qb = -2;
      uint32_t w = 0, hh = 0;
      int rc = vouch_hash_encoded(h, dec, bytes, len, VOUCH_ALGO_PDQ, VOUCH_HASH_DIHEDRAL, &a[0][0], sizeof a, &qa, &w, &hh);
      vouch_image img = {0};
      int rc2 = vouch_decoder_decode(dec, bytes, len, &img);
      if (rc2 == VOUCH_OK) rc2 = vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, VOUCH_HASH_DIHEDRAL, &b[0][0], sizeof b, &qb);
      ok &= rc == VOUCH_OK && rc2 == VOUCH_OK && qa == qb && memcmp(a, b, sizeof a) == 0 && w == img.width && hh == img.height;
      if (pass == 0) {
        char hex[VOUCH_HASH_HEX_BYTES];
        vouch_hash_to_hex(a[0], VOUCH_PDQ_BYTES, hex, sizeof hex);
        ok &= strcmp(hex, fields[4]) == 0 && qa == atoi(fields[3]);
      }
      vouch_image_clear(&img);
    }
    if (!ok) fprintf(stderr, "encoded path differs on %s\n", fields[0]);
    CHECK(ok);
    same += ok;
    free(bytes);
  }
  fclose(f);
  fprintf(stderr, "encoded (streamed) path: %d/%d files identical to decode + hash\n", same, rows);
  /* truncations of a JPEG: the same error code, or the same hash, both ways */
  snprintf(path, sizeof path, "%s/testdata/pdq/images/bridge-mods/square-512x512.jpg", shared);
  size_t len = 0;
  unsigned char *bytes = tt_read_file(path, &len);
  REQUIRE(bytes != NULL);
  int agree = 0, cuts = 0;
  for (size_t cut = 0; cut <= len; cut += len / 40 + 1) {
    uint8_t a[VOUCH_PDQ_BYTES], b[VOUCH_PDQ_BYTES];
    memset(a, 0, sizeof a);
    memset(b, 1, sizeof b);
    int rc = vouch_hash_encoded(h, dec_n, bytes, cut, VOUCH_ALGO_PDQ, 0, a, sizeof a, NULL, NULL, NULL);
    vouch_image img = {0};
    int rc2 = vouch_decoder_decode(dec_n, bytes, cut, &img);
    if (rc2 == VOUCH_OK) rc2 = vouch_hash_image(h, VOUCH_ALGO_PDQ, &img, 0, b, sizeof b, NULL);
    vouch_image_clear(&img);
    cuts++;
    agree += rc == rc2 && (rc != VOUCH_OK || memcmp(a, b, sizeof a) == 0);
    if (rc != rc2) fprintf(stderr, "cut at %zu: streamed %d, whole %d\n", cut, rc, rc2);
  }
  CHECK_EQ_INT(agree, cuts);
  free(bytes);
  vouch_hasher_free(h);
  vouch_decoder_free(dec_o);
  vouch_decoder_free(dec_n);
}

int main(void) {
  TT_RUN(test_hex_and_hamming);
  TT_RUN(test_tiny_and_luma_api);
  const char *s = tt_shared_dir();
  snprintf(shared, sizeof shared, "%s", s);
  TT_RUN(test_intermediates);
  TT_RUN(test_reference_fullres);
  g_simd = 0; /* the same vectors through the portable scalar kernels */
  TT_RUN(test_reference_fullres);
  TT_RUN(test_encoded_path);
  TT_MAIN_END;
}
