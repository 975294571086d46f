/**
 * The trace tool's reference policies (ARC, S3-FIFO, SIEVE, LIRS, Caffeine) on small hand-worked sequences,
 * against the published figures of ../shared/traces/README.md where the trace is there, and the
 * policy-only replay (policy-sim.ts) against the real Store.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { BENCH_TRACES, REFERENCE_ROWS, TRACES_DIR, tracePath } from '../../bench/hitratio/reference.ts';
import { loadTrace } from '../../src/cli/bench.ts';
import { Store } from '../../src/store/store.ts';
import { arcHits } from '../../src/store/trace/arc.ts';
import { CaffeineSim, CaffeineSketch, caffeineHits } from '../../src/store/trace/caffeine.ts';
import { lirsHits } from '../../src/store/trace/lirs.ts';
import { keyHashes, policyHits } from '../../src/store/trace/policy-sim.ts';
import { replay } from '../../src/store/trace/replay.ts';
import { s3fifoHits } from '../../src/store/trace/s3fifo.ts';
import { sieveHits } from '../../src/store/trace/sieve.ts';

const ids = (...keys: number[]): Int32Array => Int32Array.from(keys);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const lru = (seq: Int32Array, c: number): number => policyHits(seq, c, keyHashes(Math.max(...seq) + 1), 'lru');

test('ARC: a key seen twice survives a one-time key, and a ghost hit in B1 grows T1 at T2 expense', () => {
  // c = 2. A A B C: B goes to ghost list B1 (T1 over its target p = 0), A stays in T2 -> A hits.
  const seq = ids(0, 0, 1, 2, 0);
  assert.equal(arcHits(seq, 2, 3), 2);
  assert.equal(lru(seq, 2), 1);
  // Then B (a B1 ghost: p -> 1, T2's LRU A goes to B2, B enters T2) and B again hits.
  assert.equal(arcHits(ids(0, 0, 1, 2, 0, 1, 1), 2, 3), 3);
  assert.equal(lru(ids(0, 0, 1, 2, 0, 1, 1), 2), 2);
});

test('SIEVE: hits only set a bit; the hand skips (and clears) visited entries and wraps around', () => {
  // c = 2. A B B A: both visited. C: the hand clears A and B, wraps, evicts A. B then hits.
  assert.equal(sieveHits(ids(0, 1, 1, 0, 2, 1), 2, 3), 3);
  assert.equal(lru(ids(0, 1, 1, 0, 2, 1), 2), 2);
});

test('S3-FIFO: a ghost hit enters the main queue, which a long scan of one-time keys does not touch', () => {
  // c = 10 (small queue 1). 0..9 fill; 10 pushes 0 to the ghost; 0 comes back into main; 11; 0 hits.
  // A scan of 29 new keys only cycles the small queue, so 0 hits again; LRU loses it to the scan.
  const seq = ids(...range(0, 10), 0, 11, 0, ...range(12, 40), 0);
  assert.equal(s3fifoHits(seq, 10, 41), 2);
  assert.equal(lru(seq, 10), 1);
});

test('LIRS: a resident HIR key re-referenced within the stack becomes LIR and demotes the bottom LIR key', () => {
  // c = 3: 2 LIR + 1 resident HIR. A B are LIR; C, then D, are the resident HIR; C again is a
  // non-resident HIR hit in the stack: it becomes LIR and A (bottom) is demoted; A then hits as
  // resident HIR, and B (now the stack bottom) hits as LIR.
  assert.equal(lirsHits(ids(0, 1, 2, 3, 2, 0), 3, 4), 1);
  assert.equal(lirsHits(ids(0, 1, 2, 3, 2, 0, 1), 3, 4), 2);
  assert.equal(lru(ids(0, 1, 2, 3, 2, 0, 1), 3), 1);
  // A loop one larger than the cache: LRU never hits, LIRS keeps its LIR set.
  const loop = ids(...[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  assert.equal(lru(loop, 3), 0);
  assert.ok(lirsHits(loop, 3, 4) >= 6);
});

const skip = existsSync(TRACES_DIR) ? false : `traces not found at ${TRACES_DIR} (see ../shared/traces/README.md)`;

/** ../shared/traces/README.md's ARC and S3-FIFO columns (one decimal) for the traces read here. */
const PUBLISHED: { trace: string; size: number; arc: number; s3fifo: number }[] = [
  { trace: 'gli', size: 1000, arc: 21.3, s3fifo: 35.1 },
  { trace: 'multi3', size: 1000, arc: 44.4, s3fifo: 45.7 },
  { trace: 'multi3', size: 2000, arc: 46.7, s3fifo: 55.2 },
  { trace: 'web12', size: 1000, arc: 67.4, s3fifo: 68.0 },
  { trace: 'web12', size: 2000, arc: 74.6, s3fifo: 75.0 },
];

test('ARC and S3-FIFO match the reference simulator on gli, multi3 and web12', { skip }, () => {
  for (const row of PUBLISHED) {
    const ref = REFERENCE_ROWS.find((r) => r.trace === row.trace)!;
    const trace = loadTrace(tracePath(ref), ref.format);
    for (const policy of ['arc', 's3fifo'] as const) {
      const got = replay(trace, row.size, policy).hitRatio;
      assert.ok(Math.abs(got - row[policy]) < 0.1, `${policy} on ${row.trace} @ ${row.size}: ${got.toFixed(2)} vs ${row[policy]}`);
    }
  }
});

test('the policy-only replay makes the same decisions as the real Store', { skip }, () => {
  const ref = REFERENCE_ROWS.find((r) => r.trace === 'multi3')!;
  const trace = loadTrace(tracePath(ref), ref.format);
  const hashes = keyHashes(trace.uniqueKeys);
  const keys = Array.from({ length: trace.uniqueKeys }, (_, id) => String(id));
  for (const policy of ['wtinylfu', 'lru', 'lfu'] as const) {
    const store = new Store({ maxEntries: 1000, policy, clock: { wallMs: () => 0, monoMs: () => 0 }, hotKeys: false, analytics: false });
    let hits = 0;
    for (const id of trace.ids) {
      if (store.getView(keys[id]!) !== undefined) hits++;
      else store.set(keys[id]!, new Uint8Array(0), { partition: 0 });
    }
    assert.equal(policyHits(trace.ids, 1000, hashes, policy), hits, policy);
  }
});

/** SIEVE as the paper's pseudo-code on a plain array (index 0 = oldest), for cross-checking. */
function naiveSieve(seq: Int32Array, capacity: number): number {
  const queue: { key: number; visited: boolean }[] = [];
  let hand = -1;
  let hits = 0;
  for (const key of seq) {
    const found = queue.find((e) => e.key === key);
    if (found) {
      found.visited = true;
      hits++;
      continue;
    }
    if (queue.length >= capacity) {
      let i = hand === -1 ? 0 : hand;
      while (queue[i]!.visited) {
        queue[i]!.visited = false;
        i = i + 1 < queue.length ? i + 1 : 0;
      }
      queue.splice(i, 1);
      hand = i < queue.length ? i : -1;
    }
    queue.push({ key, visited: false });
  }
  return hits;
}

test('SIEVE agrees with a plain-array transcription of the paper on random sequences', () => {
  let state = 12345;
  const next = (n: number): number => {
    state = (state * 1103515245 + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  for (let round = 0; round < 50; round++) {
    const keys = 5 + next(30);
    const seq = Int32Array.from({ length: 300 }, () => (next(3) === 0 ? next(4) : next(keys)));
    const capacity = 2 + next(10);
    assert.equal(sieveHits(seq, capacity, keys), naiveSieve(seq, capacity), `round ${round}`);
  }
});

test('Caffeine sketch: 4-bit counters stop at 15, and every counter halves after 10 x maximum additions', () => {
  const sketch = new CaffeineSketch(10);
  assert.equal(sketch.sampleSize, 100);
  for (let i = 0; i < 20; i++) sketch.increment(1);
  // 15 additions counted (a saturated increment adds nothing); 84 more keys leave it one short.
  assert.equal(sketch.frequency(1), 15);
  for (let key = 100; key < 184; key++) sketch.increment(key);
  assert.equal(sketch.frequency(1), 15);
  sketch.increment(184);
  assert.equal(sketch.frequency(1), 7);
  assert.equal(sketch.frequency(100), 0);
});

test('Caffeine admission: a colder candidate is turned away, a warmer one evicts the victim', () => {
  // 100 entries: a window of 1, probation and protected behind it. Keys 0..98 are read 3 times.
  const cache = new CaffeineSim(100, 300);
  const pass = (keys: number[]): number => keys.filter((k) => cache.access(k)).length;
  assert.equal(cache.windowMaximum, 1);
  pass([...range(0, 99), ...range(0, 98), ...range(0, 98)]);
  // One-time keys only pass through the window: each loses to a victim seen 3 times, even when it
  // comes back (frequency 2), while LRU would have kept them.
  assert.equal(pass(range(100, 149)), 0);
  assert.equal(pass(range(100, 148)), 0);
  const warmed = [...range(0, 99), ...range(0, 98), ...range(0, 98), ...range(100, 149)];
  assert.equal(lru(ids(...warmed, ...range(100, 148)), 100) - lru(ids(...warmed), 100), 49);
  assert.equal(pass(range(0, 98)), 99);
  // A key read 5 times in the window (frequency 5 > 4) is admitted when the next key pushes it out.
  assert.equal(pass([200, 200, 200, 200, 200, 201, 200]), 5);
  assert.equal(pass(range(0, 98)), 98);
});

test('Caffeine hill climber: the window grows on a recency-heavy trace and stays small on a frequency-heavy one', () => {
  const next = lcg(7);
  // Every key read twice, 1 to 1,500 requests apart: the bigger the window, the more second reads hit.
  const events: [number, number][] = [];
  for (let k = 0; k < 100_000; k++) events.push([2 * k, k], [2 * k + 1 + next(1500), k]);
  events.sort((a, b) => a[0] - b[0]);
  const recency = new CaffeineSim(1000, 100_000);
  assert.equal(recency.windowMaximum, 10);
  for (const [, key] of events) recency.access(key);
  assert.ok(recency.windowMaximum >= 300, `window ${recency.windowMaximum}`);
  // 100 hot keys with a one-time key every third request: the window only costs hot keys.
  const frequency = new CaffeineSim(150, 100_000);
  const initial = frequency.windowMaximum;
  let fresh = 1000;
  for (let i = 0; i < 200_000; i++) frequency.access(i % 3 === 0 ? fresh++ : (i * 7919) % 100);
  assert.ok(frequency.windowMaximum <= initial, `window ${frequency.windowMaximum}`);
});

/**
 * Hits of the real Caffeine 3.2.2 (from Maven Central) with its one random call replaced by the
 * same mulberry32 stream, seed 1: bench/hitratio/caffeine-java/check.sh prints them, and there
 * caffeine.ts equals Caffeine on every row of `npm run bench:hitratio`.
 */
const CAFFEINE_JAVA: { trace: string; size: number; hits: number }[] = [
  { trace: 'gli', size: 250, hits: 894 },
  { trace: 'gli', size: 1000, hits: 3001 },
  { trace: 'multi3', size: 1000, hits: 15458 },
  { trace: 'corda', size: 5000, hits: 29797 },
  { trace: 'zigzag', size: 500, hits: 10877 },
  { trace: 'scan', size: 1500, hits: 33982 },
];

test('Caffeine matches the real Caffeine hit for hit on small traces', { skip }, () => {
  for (const row of CAFFEINE_JAVA) {
    const ref = BENCH_TRACES.find((r) => r.trace === row.trace)!;
    const trace = loadTrace(tracePath(ref), ref.format);
    assert.equal(caffeineHits(trace.ids, row.size, trace.uniqueKeys, 1), row.hits, `${row.trace} @ ${row.size}`);
    assert.equal(replay(trace, row.size, 'caffeine').hits, row.hits, `replay's caffeine on ${row.trace} @ ${row.size}`);
  }
});

function lcg(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}
