#!/bin/sh
# Rebuilds the seed corpus tests/fuzz/corpus/image/ for fuzz_image.c:
# small valid files of every format and variant (ImageMagick `convert` and
# the goldens of tests/golden/images/), plus truncated copies.  Run from the
# repository root.  Keep the result under 300 KB.
set -eu
G=tests/golden/images
C=tests/fuzz/corpus/image
# Inputs found by fuzzing (40-hex-digit names, from libFuzzer -merge=1) are
# kept; only the files below are rewritten.
mkdir -p "$C"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
convert -size 24x16 gradient:orange-navy -fill white -draw 'line 2,2 20,12' -strip "$T/src.ppm"
convert "$T/src.ppm" -quality 80 "$C/base.jpg"
convert "$T/src.ppm" -quality 80 -interlace JPEG "$C/progressive.jpg"
convert "$T/src.ppm" -quality 80 -sampling-factor 2x1 "$C/sub422.jpg"
convert "$T/src.ppm" -colorspace CMYK -quality 80 "$C/cmyk.jpg"
convert "$T/src.ppm" -colorspace Gray -quality 80 "$C/grey.jpg"
convert "$T/src.ppm" -define jpeg:restart-interval=1 -quality 80 "$C/restart.jpg"
convert "$T/src.ppm" "$C/rgb.png"
convert "$T/src.ppm" -depth 16 "$C/rgb16.png"
convert "$T/src.ppm" -alpha set -channel A -evaluate set 50% +channel "$C/rgba.png"
convert "$T/src.ppm" -colors 16 "$C/pal.png"
convert "$T/src.ppm" -interlace PNG "$C/adam7.png"
convert "$T/src.ppm" -define webp:lossless=false "$C/lossy.webp"
convert "$T/src.ppm" -define webp:lossless=true "$C/lossless.webp"
convert "$T/src.ppm" -alpha set -channel A -evaluate set 50% +channel -define webp:lossless=false "$C/alpha.webp"
convert "$T/src.ppm" "$C/base.gif"
convert "$T/src.ppm" -interlace GIF "$C/interlaced.gif"
convert "$T/src.ppm" bmp3:"$C/rgb24.bmp"
convert "$T/src.ppm" -colors 16 -type Palette bmp3:"$C/pal4.bmp"
convert "$T/src.ppm" -define bmp:subtype=RGB565 bmp:"$C/rgb565.bmp"
convert "$T/src.ppm" "$C/p6.ppm"
convert "$T/src.ppm" -compress none "$C/p3.ppm"
convert "$T/src.ppm" -colorspace Gray pgm:"$C/p5.pgm"
convert "$T/src.ppm" -monochrome pbm:"$C/p4.pbm"
for f in "$G"/ok-* "$G"/bad-* "$G"/png/*.png "$G"/bmp/*.bmp "$G"/pnm/*.p?m; do
  case "$f" in *.expect.pnm|*/ok-cmyk-256.jpg) continue ;; esac
  n=$(echo "${f#$G/}" | tr / _)
  cp "$f" "$C/golden_$n"
done
# truncated copies of the generated files
for f in "$C"/base.jpg "$C"/progressive.jpg "$C"/rgb.png "$C"/lossy.webp "$C"/lossless.webp \
         "$C"/base.gif "$C"/rgb24.bmp "$C"/p6.ppm "$C"/p3.ppm; do
  n=$(wc -c < "$f")
  head -c $((n / 2)) "$f" > "$C/trunc_half_$(basename "$f")"
  head -c $((n - 3)) "$f" > "$C/trunc_end_$(basename "$f")"
done
du -sb "$C"
