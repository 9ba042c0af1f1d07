#!/usr/bin/env python3
"""bench/probe_flips.py -- why a copy's band key is not among its probes.

Reads the file `vouch eval robustness --algo pdq --probe-dump FILE DIR` writes
(format in programs/cli/cmd_eval.c) and prints, for the copies the plain
matcher finds (PDQ distance <= 31):

  1. per transform: how many band bits flip, and the probe rank of the
     original's band under the margin order (the protocol's probes without
     views), as recall / plain at P = 96, 192, 512;
  2. the flip rate per DCT diagonal (i + j) against the normalised margin
     (margin / the photo's median margin), over the chosen transforms;
  3. the 16x16 map of "hard" flips (normalised margin > 0.4) for one
     transform: where the margin order fails.

Pure Python 3 (no numpy); about 30 s for the full corpus dump.
With --experiments, also the two probe orders tried and not adopted
(docs/protocol.md section 12), each fitted on the even-numbered photos and
measured on the odd ones against the margin order:
  (a) a flip-likelihood order: per diagonal, a logistic model of
      P(flip | margin / median margin) fitted by Newton's method; a probe's
      cost is the sum of -log-odds of its flipped bits;
  (b) band positions chosen by measured stability (the b coefficients with
      the lowest flip rate over the target transforms, each weighted equally).
Usage: probe_flips.py DUMP [--band B] [--transform NAME] [--experiments]
This is the analysis behind docs/protocol.md section 12 (tonal views)."""
import argparse, collections, heapq, struct, sys

def band_positions(b):
    """Coefficient indices 16 i + j in (i + j, i) order (docs/protocol.md section 4)."""
    out, s = [], 0
    while len(out) < b:
        for i in range(s + 1):
            if len(out) < b and i < 16 and s - i < 16:
                out.append(16 * i + (s - i))
        s += 1
    return out

def bit(h, k):
    return (h[31 - k // 8] >> (k % 8)) & 1

def load(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'VPDUMP1\0':
        sys.exit('%s: not a vouch probe dump' % path)
    ntf, = struct.unpack_from('<I', data, 8)
    o = 12
    names = []
    for _ in range(ntf):
        names.append(data[o:o + 40].split(b'\0')[0].decode())
        o += 40
    rec = 12 + 32 + 1024 + 32 + 1024
    out = []
    for p in range(o, len(data) - rec + 1, rec):
        i, t, d = struct.unpack_from('<III', data, p)
        oh = data[p + 12:p + 44]
        ch = data[p + 1068:p + 1100]
        cm = struct.unpack_from('<256f', data, p + 1100)
        out.append((i, t, d, oh, ch, cm))
    return names, out

def rank_of(w, target, limit):
    """Rank of flip set `target` (bit r = band rank r) in the protocol's
    enumeration (cheapest first by the weights w, ties by insertion), or -1."""
    b = len(w)
    rho = sorted(range(b), key=lambda r: (w[r], r))
    ws = [w[r] for r in rho]
    inv = {r: i for i, r in enumerate(rho)}
    tgt = 0
    for r in range(b):
        if (target >> r) & 1:
            tgt |= 1 << inv[r]
    if tgt == 0:
        return 0
    heap, seq = [(ws[0], 0, 1, 0)], 1
    for p in range(1, limit):
        c, _, st, l = heapq.heappop(heap)
        if st == tgt:
            return p
        if l + 1 < b:
            heapq.heappush(heap, (c + ws[l + 1], seq, st | (1 << (l + 1)), l + 1)); seq += 1
            heapq.heappush(heap, (c - ws[l] + ws[l + 1], seq, (st & ~(1 << l)) | (1 << (l + 1)), l + 1)); seq += 1
    return -1

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dump')
    ap.add_argument('--band', type=int, default=44)
    ap.add_argument('--transform', default='gamma:1.5')
    ap.add_argument('--experiments', action='store_true')
    a = ap.parse_args()
    names, recs = load(a.dump)
    pos = band_positions(a.band)
    diag = [k // 16 + k % 16 for k in pos]
    Ps = (96, 192, 512)
    nfl = collections.defaultdict(collections.Counter)
    found = collections.Counter()
    plain = collections.Counter()
    cnt, fl = collections.Counter(), collections.Counter()
    bins = [0, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.5, 4, float('inf')]
    hard = collections.Counter()
    nsel = 0
    for (i, t, d, oh, ch, cm) in recs:
        if d > 31:
            continue
        plain[t] += 1
        S = 0
        for r, k in enumerate(pos):
            if bit(oh, k) != bit(ch, k):
                S |= 1 << r
        nfl[t][bin(S).count('1')] += 1
        w = [int(cm[k] * 16) for k in pos]  # the protocol's quantised margins
        rk = rank_of(w, S, max(Ps))
        for P in Ps:
            found[(t, P)] += 0 <= rk < P
        med = sorted(cm)[128]
        if med <= 0:
            continue
        for r, k in enumerate(pos):
            x = cm[k] / med
            bi = next(j for j in range(len(bins) - 1) if x < bins[j + 1])
            cnt[(diag[r], bi)] += 1
            fl[(diag[r], bi)] += (S >> r) & 1
        if names[t] == a.transform:
            nsel += 1
            for k in range(256):
                if bit(oh, k) != bit(ch, k) and cm[k] / med > 0.4:
                    hard[k] += 1
    print('## 1. Band flips and margin-order recall (b = %d; copies within 31)\n' % a.band)
    print('| transform | copies | band bits flipped: 0 / 1 / 2 / 3 / 4+ | ' + ' | '.join('P=%d / plain' % P for P in Ps) + ' |')
    print('|---|---:|---|' + '---:|' * len(Ps))
    for t in sorted(plain):
        h = nfl[t]
        four = sum(v for k, v in h.items() if k >= 4)
        print('| %s | %d | %d / %d / %d / %d / %d | %s |' % (names[t], plain[t], h[0], h[1], h[2], h[3], four,
              ' | '.join('%.3f' % (found[(t, P)] / plain[t]) for P in Ps)))
    print('\n## 2. Flip rate by DCT diagonal (rows) and margin / median margin (columns), all transforms\n')
    print('| i+j | ' + ' | '.join('%g-%g' % (bins[j], bins[j + 1]) for j in range(len(bins) - 1)) + ' |')
    print('|---|' + '---:|' * (len(bins) - 1))
    for dg in sorted(set(diag)):
        print('| %d | ' % dg + ' | '.join('%.3f' % (fl[(dg, j)] / cnt[(dg, j)]) if cnt[(dg, j)] else '-'
                                          for j in range(len(bins) - 1)) + ' |')
    print('\n## 3. Hard flips (margin > 0.4 x median) of %s, %% of %d copies, coefficient (i, j) = row i, column j\n'
          % (a.transform, nsel))
    for i in range(16):
        print(' '.join('%4.1f' % (100.0 * hard[16 * i + j] / max(nsel, 1)) for j in range(16)))

    if a.experiments:
        experiments(names, recs, a.band)

TARGETS = ('resize:0.75', 'resize:0.5', 'resize:0.25', 'jpeg:90', 'jpeg:70', 'jpeg:50', 'jpeg:30',
           'brightness:32', 'brightness:-32', 'contrast:0.7', 'contrast:1.3', 'gamma:0.7', 'gamma:1.5',
           'grey', 'blur:1', 'blur:2', 'blur:4', 'noise:5', 'noise:10', 'noise:20', 'aspect:0.8', 'aspect:1.25')

def flipset(oh, ch, pos):
    S = 0
    for r, k in enumerate(pos):
        if bit(oh, k) != bit(ch, k):
            S |= 1 << r
    return S

def measure(label, recs, names, pos, weights, P=96):
    """Recall / plain at P on the odd photos, target transforms."""
    f, n = collections.Counter(), collections.Counter()
    for (i, t, d, oh, ch, cm) in recs:
        if i % 2 == 0 or d > 31 or names[t] not in TARGETS:
            continue
        n[t] += 1
        rk = rank_of(weights(cm, pos), flipset(oh, ch, pos), P)
        f[t] += 0 <= rk < P
    worst = min(n, key=lambda t: f[t] / n[t])
    print('| %s | %.3f | %s %.3f | %.3f |' % (label, sum(f.values()) / sum(n.values()), names[worst],
          f[worst] / n[worst], f[names.index('gamma:1.5')] / n[names.index('gamma:1.5')]))

def logit_fit(xs):
    import math
    a, b = -1.0, -3.0
    for _ in range(30):
        ga = gb = haa = hab = hbb = 0.0
        for x, y in xs:
            z = a + b * x
            p = 1 / (1 + math.exp(-z)) if z > -30 else 0.0
            e, w = y - p, p * (1 - p)
            ga += e; gb += e * x; haa += w; hab += w * x; hbb += w * x * x
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        a += da; b += db
        if abs(da) + abs(db) < 1e-6:
            break
    return a, b

def experiments(names, recs, b):
    pos = band_positions(b)
    margin_w = lambda cm, ps: [int(cm[k] * 16) for k in ps]
    print('\n## Experiments (fitted on even photos, measured on odd ones; target transforms, P = 96)\n')
    print('| order | targets / plain | worst | gamma 1.5 |\n|---|---:|---|---:|')
    measure('margins (the protocol), b = %d' % b, recs, names, pos, margin_w)
    # (a) per-diagonal logistic flip model
    xs = collections.defaultdict(list)
    for (i, t, d, oh, ch, cm) in recs:
        med = sorted(cm)[128]
        if i % 2 or d > 31 or names[t] not in TARGETS or med <= 0:
            continue
        S = flipset(oh, ch, pos)
        for r, k in enumerate(pos):
            xs[k // 16 + k % 16].append((cm[k] / med, (S >> r) & 1))
    co = {dg: logit_fit(v) for dg, v in xs.items()}
    print('\nfitted (diagonal: intercept, slope): ' + ', '.join('%d: %.2f, %.2f' % (dg, *co[dg]) for dg in sorted(co)))
    def logit_w(cm, ps):
        med = sorted(cm)[128] or 1.0
        return [max(0.0, -(co[k // 16 + k % 16][0] + co[k // 16 + k % 16][1] * cm[k] / med)) for k in ps]
    measure('(a) logistic flip model per diagonal', recs, names, pos, logit_w)
    # (b) positions by measured stability
    rate, n = collections.Counter(), collections.Counter()
    for (i, t, d, oh, ch, cm) in recs:
        if i % 2 == 0 and d <= 31 and names[t] in TARGETS:
            n[t] += 1
    for (i, t, d, oh, ch, cm) in recs:
        if i % 2 == 0 and d <= 31 and names[t] in TARGETS:
            for k in range(256):
                if bit(oh, k) != bit(ch, k):
                    rate[k] += 1.0 / n[t]
    order = sorted(range(256), key=lambda k: (rate[k], k))
    for bb in (40, b):
        measure('(b) the %d most stable positions' % bb, recs, names, order[:bb], margin_w)

if __name__ == '__main__':
    main()
