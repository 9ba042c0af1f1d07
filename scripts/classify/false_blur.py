#!/usr/bin/env python3
"""False blurs on benign images: how many would `vouch classify` blur at each
threshold?  Reads the JSON Lines of `vouch classify --json` on a folder of
benign images (every flag is then a false positive) and prints a Markdown
table for two verdict rules: porn + hentai + sexy (vouch's) and porn + hentai.

    ./build/vouch classify --json -r /work/corpus/photos > out.jsonl
    python3 scripts/classify/false_blur.py out.jsonl
"""
import json
import sys

THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    ok = [r for r in rows if "probabilities" in r]
    n = len(ok)
    if n == 0:
        sys.exit("no classified images")
    print(f"{n} images classified ({len(rows) - n} failed)\n")
    print("| threshold | blurred, porn+hentai+sexy >= t | blurred, porn+hentai >= t |")
    print("|---|---|---|")
    for t in THRESHOLDS:
        a = sum(1 for r in ok if r["score"] >= t)
        b = sum(1 for r in ok if r["probabilities"]["porn"] + r["probabilities"]["hentai"] >= t)
        print(f"| {t:.2f} | {a} of {n} ({100 * a / n:.2f} %) | {b} of {n} ({100 * b / n:.2f} %) |")


if __name__ == "__main__":
    main()
