#!/usr/bin/env python3
"""scratch/fork35/compare.py MAIN_OFF CANDIDATE: each row's bar (best other online policy - 1, LRU - 0.5),
main's figure (docs/STORE.md's table, or out/main-fresh-all.txt for fresh sizes; seed 0x5eed), main at the
harness's seed (MAIN_OFF, a pin.ts --off output), the candidate (a pin.ts output) and what it did.
P6 @ 120000 / 175000 are in neither table: bars from docs/research/eviction-policy.md, policy26 part 1."""
import re, sys, os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
NAMES = ['wtinylfu', 'lru', 'lfu', 'arc', 's3fifo', 'sieve', 'lirs', 'caffeine', 'opt']

def table_rows(lines):
    rows = {}
    for l in lines:
        m = re.match(r'(\S+ @ \d+)\s+(tuning|held-out)\s+\d+\s+(.*)', l)
        if not m: continue
        d = dict(zip(NAMES, map(float, m.group(3).split()[:9])))
        best = max(d[k] for k in NAMES if k not in ('wtinylfu', 'opt'))
        rows[m.group(1)] = (d['wtinylfu'], max(best - 1, d['lru'] - 0.5))
    return rows

bars = table_rows(open(os.path.join(ROOT, 'docs/STORE.md')))
bars.update(table_rows(open(os.path.join(ROOT, 'scratch/fork35/out/main-fresh-all.txt'))))
bars.setdefault('P6 @ 120000', (77.05, 77.57))
bars.setdefault('P6 @ 175000', (85.12, 85.15))

def replay(path):
    out = {}
    for l in open(path):
        m = re.match(r'(\S+ @ \d+): ([\d.]+)\s+\(\d+ s\)\s*(.*)', l)
        if m: out[m.group(1)] = (float(m.group(2)), m.group(3))
    return out

off, cand = replay(sys.argv[1]), replay(sys.argv[2])
print('| row | bar | main (table) | main (seed 1) | candidate | vs main (seed 1) | met | what it did |')
print('|---|---|---|---|---|---|---|---|')
for row, (ratio, what) in cand.items():
    table, bar = bars.get(row, (float('nan'), float('nan')))
    o = off[row][0] if row in off else float('nan')
    met = 'met' if ratio >= bar - 1e-9 else 'MISS'
    what = re.sub(r' \(check \d+[^)]*\)', '', what)
    what = re.sub(r';? ?\[.*\]', '', what)
    print(f'| {row} | {bar:.2f} | {table:.2f} | {o:.2f} | {ratio:.2f} | {ratio - o:+.2f} | {met} | {what or "no pin"} |')
