#!/usr/bin/env bash
# bench/cli_pipeline.sh -- wall time of the `vouch` command's photo pipeline
# (hash, hash --derivative, match, classify, eval, psi voucher) over the same
# photos, for one build or two builds compared in the same run.
#
# usage: bench/cli_pipeline.sh [-n N] [-r ROUNDS] [-j JOBS] [-m MODEL] DIR VOUCH [BASELINE_VOUCH]
#
# Takes the first N photos (default 200; sorted) of DIR, then for every
# command runs each binary ROUNDS times (default 3), alternating the two so
# that a busy machine slows both alike, and prints the best wall time of
# each and, with a baseline, the ratio VOUCH / BASELINE (1.00 = the same;
# below 1 = faster).  psi voucher (slow: the vouchers' public-key work) runs on
# at most 40 photos, and classify too, only with a model (-m, else $VOUCH_MODEL).  Output files are compared too: the two builds
# must print the same bytes (eval: but for its time line; psi voucher: the
# same number of vouchers, which are random).
set -u
n=200 rounds=3 jobs=2 model=${VOUCH_MODEL:-}
while getopts n:r:j:m: o; do
  case $o in
  n) n=$OPTARG ;; r) rounds=$OPTARG ;; j) jobs=$OPTARG ;; m) model=$OPTARG ;;
  *) echo "usage: $0 [-n N] [-r ROUNDS] [-j JOBS] [-m MODEL] DIR VOUCH [BASELINE_VOUCH]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { echo "usage: $0 [-n N] [-r ROUNDS] [-j JOBS] [-m MODEL] DIR VOUCH [BASELINE_VOUCH]" >&2; exit 2; }
dir=$1 new=$(realpath "$2") base=${3:+$(realpath "$3")}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
find "$dir" -maxdepth 1 -type f | sort | head -n "$n" > "$T/list"
head -n 40 "$T/list" > "$T/list40"
mkdir "$T/photos" && xargs -a "$T/list" ln -s -t "$T/photos"
cd "$T" || exit 2
# fixtures, made with VOUCH: an index of the photos' own hashes, PSI public data
"$new" hash -j "$jobs" - < list 2>/dev/null | awk '{print $1}' > db.txt
"$new" bank create --db b.sqlite b >/dev/null 2>&1 && "$new" bank import --db b.sqlite b db.txt >/dev/null 2>&1
"$new" index build --db b.sqlite -o i.vidx >/dev/null 2>&1 || { echo "cannot build the index" >&2; exit 2; }
"$new" psi setup --hashes db.txt --key s.key -o p.vpd > setup.out 2>/dev/null || { echo "psi setup failed" >&2; exit 2; }
signer=$(awk '/^signer/{print $2}' setup.out)

best() { # best wall seconds of "$@" over $rounds runs into $1.out
  local tag=$1; shift
  local b=999999
  for ((k = 0; k < rounds; k++)); do
    rm -rf vo acct.key
    local s=$(date +%s.%N)
    "$@" > "$tag.out" 2>/dev/null
    local e=$(date +%s.%N)
    b=$(echo "$s $e $b" | awk '{d=$2-$1; print (d<$3)?d:$3}')
  done
  echo "$b"
}
row() { # name, then the command after the binary
  local name=$1; shift
  local tn tb=""
  if [ -n "$base" ]; then
    # interleave: base, new, base, new...
    local bn=999999 bb=999999 r=$rounds
    rounds=1
    for ((q = 0; q < r; q++)); do
      t=$(best base "$base" "$@"); bb=$(echo "$t $bb" | awk '{print ($1<$2)?$1:$2}')
      [ "$name" = "psi voucher (40)" ] && ls vo | wc -l > base.count
      t=$(best new "$new" "$@"); bn=$(echo "$t $bn" | awk '{print ($1<$2)?$1:$2}')
      [ "$name" = "psi voucher (40)" ] && ls vo | wc -l > new.count
    done
    rounds=$r
    local same=same
    if [ "$name" = "psi voucher (40)" ]; then cmp -s base.count new.count || same=DIFFERENT
    else cmp -s <(grep -v "^- time: " base.out) <(grep -v "^- time: " new.out) || same=DIFFERENT; fi
    printf '%-22s %8.3f s %8.3f s  %5.2f  output %s\n' "$name" "$bn" "$bb" "$(echo "$bn $bb" | awk '{print $1/$2}')" "$same"
  else
    tn=$(best new "$new" "$@")
    printf '%-22s %8.3f s\n' "$name" "$tn"
  fi
}
echo "photos: $(wc -l < list) from $dir; jobs $jobs; best of $rounds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$base" ] && printf '%-22s %10s %10s  %5s\n' command new baseline ratio
row "hash (fast)" hash -j "$jobs" -r photos
row "hash --exact" hash --exact -j "$jobs" -r photos
row "hash --derivative" hash --derivative -j "$jobs" -r photos
row "match" match --index i.vidx -j "$jobs" -r photos
row "eval robustness" eval robustness -a pdq,dhash -t jpeg:50,rotate:5,grey -j "$jobs" photos
mkdir photos40 && xargs -a list40 ln -s -t photos40
row "psi voucher (40)" psi voucher --public p.vpd --signer "$signer" --account acct.key --synthetic-rate 0 -j "$jobs" -o vo -r photos40
if [ -n "$model" ] && [ -f "$model" ]; then
  row "classify (40)" classify -m "$model" -j "$jobs" -r photos40
fi
