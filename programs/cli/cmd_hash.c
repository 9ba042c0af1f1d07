/* programs/cli/cmd_hash.c -- `vouch hash`: perceptual hashes of image files,
 * vPDQ of videos and exact digests of any file (hashvideo.c). */
#include <errno.h>
#include <getopt.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char hash_usage[] =
  "usage: vouch hash [OPTIONS] PATH...\n"
  "\n"
  "Computes a perceptual hash of each image file (JPEG, PNG, WebP, GIF, BMP, PNM;\n"
  "the format is read from the bytes).  PATH may be a file, a directory (with -r)\n"
  "or '-' to read one path per line from standard input.  Output is in input order:\n"
  "  HASH QUALITY PATH        (text; QUALITY is '-' for the 64-bit hashes and digests)\n"
  "  {\"path\":..,\"algo\":..,\"hash\":..,\"quality\":..}   (--json, one object per line)\n"
  "\n"
  "--algo vpdq hashes videos (any container and codec FFmpeg reads: MP4, MOV, MKV,\n"
  "WebM, AVI, animated GIF, ...) as Meta's vPDQ: PDQ of every frame, or of one frame\n"
  "per --seconds-per-hash S.  Per video, a line '# PATH' then one line per frame:\n"
  "  FRAME,QUALITY,PDQHEX,SECONDS   (the reference's format; seconds with 3 decimals)\n"
  "  {\"path\",\"algo\":\"vpdq\",\"frames\":[{\"frame\",\"quality\",\"hash\",\"seconds\"}..],\n"
  "   \"width\",\"height\",\"duration\"}   (--json, one object per video)\n"
  "--algo md5, sha1 or sha256 gives the exact digest of any file.\n"
  "\n"
  "options:\n"
  "  -a, --algo ALGO   pdq (default), phash, dhash, ahash; vpdq; md5, sha1, sha256\n"
  "  -d, --dihedral    also compute the 8 rotations/flips: original, rot90, rot180,\n"
  "                    rot270, flipx, flipy, flipplus1, flipminus1 (PDQ's order);\n"
  "                    text output then prints them comma-separated in the HASH field\n"
  "  -e, --exact       decode at full resolution: bit-exact with the PDQ reference.\n"
  "                    The default (fast) mode decodes JPEGs at a reduced scale\n"
  "                    (libjpeg-turbo scaled DCT); see docs/hashing.md for its distance\n"
  "  -j, --jobs N      threads (default: all cores); for vpdq, the video decoder's\n"
  "                    threads (frames and hashes are the same whatever N)\n"
  "  -r, --recursive   walk directories (sorted, hidden files skipped; files\n"
  "                    that are not images are skipped and counted; with vpdq,\n"
  "                    files that are not videos, photos included, are skipped)\n"
  "      --derivative  also the second hash of the photo's visual derivative (the\n"
  "                    thumbnail a voucher carries; docs/attack.md), 512 hex digits:\n"
  "                    HASH QUALITY SECOND PATH, or \"derivative\" in JSON.  A source\n"
  "                    supplies it next to the match hash; 'vouch psi open --second'\n"
  "                    checks opened payloads against it\n"
  "      --json        JSON Lines output; a file that fails gives {\"path\":..,\"error\":..}\n"
  "      --no-orient   ignore EXIF orientation (the PDQ reference ignores it)\n"
  "  -h, --help        this help\n"
  "\n"
  "vpdq options (docs/video.md):\n"
  "      --seconds-per-hash S  one frame every S seconds: the frames whose number is a\n"
  "                    multiple of int(S * frame rate) (the reference's -r); 0 (default)\n"
  "                    hashes every frame\n"
  "      --downsample N  scale frames to N x N before hashing (the reference's -s);\n"
  "                    0 (default): the video's own size\n"
  "  -o, --output-dir DIR  write DIR/NAME.txt per video (NAME: the file name without\n"
  "                    its extension), as the reference's -d, instead of printing\n"
  "      --no-rotate   ignore the stream's rotation (the reference ignores it)\n"
  "\n"
  "Exit status: 0 if every file was hashed, 2 if any file failed or on a usage error.\n"
  "A file that fails is reported on stderr and the other files are still hashed.\n";

typedef struct {
  int json;
  FILE *out;
  size_t skipped;
} hash_ctx;

static int print_result(void *vctx, const cli_hash_result *r) {
  hash_ctx *c = vctx;
  char hex[VOUCH_HASH_HEX_BYTES];
  if (r->skipped) {
    c->skipped++;
    return 0;
  }
  if (r->rc != VOUCH_OK) {
    cli_errorf("%s: %s: %s", r->path, vouch_strerror(r->rc), r->errmsg);
    if (c->json) {
      fputs("{\"path\":", c->out);
      cli_json_string(c->out, r->path);
      fputs(",\"error\":", c->out);
      cli_json_string(c->out, vouch_strerror(r->rc));
      fputs(",\"detail\":", c->out);
      cli_json_string(c->out, r->errmsg);
      fputs("}\n", c->out);
    }
    return 0;
  }
  if (c->json) {
    vouch_hash_to_hex(r->hashes[0], r->hash_bytes, hex, sizeof hex);
    fputs("{\"path\":", c->out);
    cli_json_string(c->out, r->path);
    fprintf(c->out, ",\"algo\":\"%s\",\"hash\":\"%s\"", vouch_algo_name(r->algo), hex);
    if (r->quality >= 0) fprintf(c->out, ",\"quality\":%d", r->quality);
    else fputs(",\"quality\":null", c->out);
    fprintf(c->out, ",\"width\":%u,\"height\":%u", r->width, r->height);
    if (r->have_second) {
      char sec[2 * VOUCH_DERIV_HASH_BYTES + 1];
      vouch_hash_to_hex(r->second, VOUCH_DERIV_HASH_BYTES, sec, sizeof sec);
      fprintf(c->out, ",\"derivative\":\"%s\"", sec);
    }
    if (r->nhash > 1) {
      fputs(",\"dihedral\":[", c->out);
      for (unsigned v = 0; v < r->nhash; v++) {
        vouch_hash_to_hex(r->hashes[v], r->hash_bytes, hex, sizeof hex);
        fprintf(c->out, "%s\"%s\"", v ? "," : "", hex);
      }
      fputc(']', c->out);
    }
    fputs("}\n", c->out);
  } else {
    for (unsigned v = 0; v < r->nhash; v++) {
      vouch_hash_to_hex(r->hashes[v], r->hash_bytes, hex, sizeof hex);
      fprintf(c->out, "%s%s", v ? "," : "", hex);
    }
    if (r->quality >= 0) fprintf(c->out, " %d ", r->quality);
    else fputs(" - ", c->out);
    if (r->have_second) {
      char sec[2 * VOUCH_DERIV_HASH_BYTES + 1];
      vouch_hash_to_hex(r->second, VOUCH_DERIV_HASH_BYTES, sec, sizeof sec);
      fprintf(c->out, "%s ", sec);
    }
    fprintf(c->out, "%s\n", r->path);
  }
  return 0;
}

int cmd_hash(int argc, char **argv) {
  static const struct option longopts[] = {
    {"algo", required_argument, NULL, 'a'}, {"dihedral", no_argument, NULL, 'd'},
    {"exact", no_argument, NULL, 'e'},      {"jobs", required_argument, NULL, 'j'},
    {"recursive", no_argument, NULL, 'r'},  {"json", no_argument, NULL, 'J'},
    {"no-orient", no_argument, NULL, 'O'},  {"help", no_argument, NULL, 'h'},
    {"seconds-per-hash", required_argument, NULL, 'S'}, {"downsample", required_argument, NULL, 'D'},
    {"output-dir", required_argument, NULL, 'o'}, {"no-rotate", no_argument, NULL, 'R'},
    {"derivative", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
  cli_hash_opts o = {.algo = VOUCH_ALGO_PDQ, .orient = 1};
  cli_video_opts vo = {.rotate = 1};
  int json = 0, recursive = 0, ch, vpdq = 0, digest = 0;
  unsigned long jobs = 0, side = 0;
  char *end;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "a:dej:o:rh", longopts, NULL)) != -1) {
    switch (ch) {
    case 'a':
      vpdq = !strcasecmp(optarg, "vpdq");
      digest = vouch_digest_from_name(optarg);
      o.algo = vouch_algo_from_name(optarg);
      if (o.algo == VOUCH_ALGO_NONE && !vpdq && !digest) {
        cli_errorf("unknown algorithm '%s' (pdq, phash, dhash, ahash, vpdq, md5, sha1, sha256)", optarg);
        return CLI_EXIT_ERROR;
      }
      break;
    case 'S':
      errno = 0;
      vo.seconds_per_hash = strtod(optarg, &end);
      if (errno || end == optarg || *end || !(vo.seconds_per_hash >= 0) || vo.seconds_per_hash > 86400) {
        cli_errorf("--seconds-per-hash needs a number of seconds from 0 to 86400");
        return CLI_EXIT_ERROR;
      }
      break;
    case 'D':
      if (cli_uint_arg(optarg, 0, VOUCH_VIDEO_MAX_SIDE_DEFAULT, &side, "--downsample needs a side from 0 to %u",
                       VOUCH_VIDEO_MAX_SIDE_DEFAULT) != 0)
        return CLI_EXIT_ERROR;
      vo.downsample = (uint32_t)side;
      break;
    case 'o': vo.out_dir = optarg; break;
    case 'R': vo.rotate = 0; break;
    case 'd': o.dihedral = 1; break;
    case 'V': o.derivative = 1; break;
    case 'e': o.exact = 1; break;
    case 'j':
      if (cli_uint_arg(optarg, 1, 1024, &jobs, "--jobs needs a number from 1 to 1024") != 0)
        return CLI_EXIT_ERROR;
      break;
    case 'r': recursive = 1; break;
    case 'J': json = 1; break;
    case 'O': o.orient = 0; break;
    case 'h': fputs(hash_usage, stdout); return CLI_EXIT_OK;
    default: fputs(hash_usage, stderr); return CLI_EXIT_ERROR;
    }
  }
  if (cli_missing_operands(argc, hash_usage))
    return CLI_EXIT_ERROR;
  if (o.derivative && (vpdq || digest || o.algo != VOUCH_ALGO_PDQ)) {
    cli_errorf("--derivative goes with --algo pdq");
    return CLI_EXIT_ERROR;
  }
  if (!vpdq && (vo.out_dir || vo.seconds_per_hash > 0 || vo.downsample || !vo.rotate)) {
    cli_errorf("--seconds-per-hash, --downsample, --output-dir and --no-rotate go with --algo vpdq");
    return CLI_EXIT_ERROR;
  }
  o.jobs = (int)jobs;
  /* videos: one at a time, the decoder on -j threads (all cores by default) */
  vo.threads = jobs ? (int)jobs : cli_ncpu();
  o.progress_label = "hashing";
  cli_paths paths = {0};
  int bad = cli_paths_collect(&paths, argv + optind, argc - optind, recursive);
  hash_ctx ctx = {.json = json, .out = stdout};
  long failed;
  if (vpdq) failed = cli_hash_videos(&paths, &vo, json, stdout);
  else if (digest) failed = cli_hash_digests(&paths, digest, json, stdout);
  else failed = cli_hash_run(&paths, &o, print_result, &ctx);
  cli_paths_free(&paths);
  if (ctx.skipped)
    cli_warnf("skipped %zu file%s found in directories that %s not images", ctx.skipped,
              ctx.skipped == 1 ? "" : "s", ctx.skipped == 1 ? "is" : "are");
  if (fflush(stdout) != 0) {
    cli_errorf("writing output failed");
    return CLI_EXIT_ERROR;
  }
  if (failed < 0) {
    cli_errorf("could not start worker threads");
    return CLI_EXIT_ERROR;
  }
  return (bad || failed) ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
