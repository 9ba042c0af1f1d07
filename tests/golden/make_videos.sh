#!/bin/sh
# Rebuilds tests/golden/videos/: tiny videos (48x32, 12 frames at 12 fps,
# FFmpeg's test pattern) in the containers and codecs vouch's video module
# is tested on, one turned by a display matrix, and damaged copies.  Needs
# the ffmpeg command (Debian package ffmpeg, in scripts/install-deps.sh).
# Run from the repository root.  The files are committed; tests never run
# this script.
set -eu
G=tests/golden/videos
mkdir -p "$G"
FF="ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=48x32:rate=12:duration=1"
# -bitexact / -fflags +bitexact keep encoder and muxer version strings out,
# so a rerun with the same FFmpeg gives the same bytes
BX="-fflags +bitexact -flags:v +bitexact -map_metadata -1"
$FF $BX -c:v libx264 -pix_fmt yuv420p -preset veryfast -x264-params threads=1 "$G/h264.mp4"
# the same stream with a display matrix of a quarter turn (ffprobe: rotation=90,
# counter-clockwise; ffmpeg shows it turned, 32x48)
ffmpeg -hide_banner -loglevel error -y -i "$G/h264.mp4" -c copy -fflags +bitexact -metadata:s:v:0 rotate=90 "$G/rot90.mp4"
$FF $BX -c:v mpeg4 -q:v 4 "$G/mpeg4.mkv"
$FF $BX -c:v mjpeg -q:v 4 "$G/mjpeg.mov"
$FF $BX -c:v mpeg4 -q:v 4 "$G/mpeg4.avi"
$FF $BX -c:v ffv1 "$G/ffv1.mkv"
$FF $BX -c:v gif "$G/anim.gif"
$FF $BX -c:v libvpx-vp9 -b:v 50k -deadline realtime -cpu-used 8 "$G/vp9.webm" 2>/dev/null || \
  $FF $BX -c:v libvpx -b:v 50k "$G/vp9.webm"
# damaged copies: the first half of an MP4 (its index at the end is lost),
# an MP4 whose media data is cut short, and bytes that are no video at all
n=$(wc -c < "$G/h264.mp4")
head -c $((n / 2)) "$G/h264.mp4" > "$G/truncated-half.mp4"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ffmpeg -hide_banner -loglevel error -y -i "$G/h264.mp4" -c copy -movflags +faststart $BX "$T/fast.mp4"
n=$(wc -c < "$T/fast.mp4")
head -c $((n * 3 / 4)) "$T/fast.mp4" > "$G/truncated-data.mp4"
printf 'this is not a video\n' > "$G/not-video.txt"
# the same files seed the fuzz target tests/fuzz/fuzz_video.c
mkdir -p tests/fuzz/corpus/video
cp "$G"/* tests/fuzz/corpus/video/
