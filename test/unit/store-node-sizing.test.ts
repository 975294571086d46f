/**
 * bench:hitratio's node column (docs/STORE.md, "The benchmark"): the default replayed through the
 * real Store sized by bytes, as a node sizes it, only on rows where that builds another policy than
 * sizing by entries (`sizingsDiffer`: over 65,536 entries). Here: that rule, that under it the two
 * sizings make the same hits (on the small traces at the benchmark's sizes), and that a node-sized
 * miss is a miss of the summary.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { BENCH_TRACES, TRACES_DIR, tracePath } from '../../bench/hitratio/reference.ts';
import { NODE_COLUMN, missedTargets, summarize } from '../../bench/hitratio/summary.ts';
import type { HitRatioCell } from '../../bench/hitratio/summary.ts';
import { loadTrace } from '../../src/cli/bench.ts';
import { replay } from '../../src/store/trace/replay.ts';
import { sizingsDiffer, storeReplay } from '../../src/store/trace/store-replay.ts';

const skip = existsSync(TRACES_DIR) ? false : `traces not found at ${TRACES_DIR} (see ../shared/traces/README.md)`;

test('the sizings differ exactly where a node caps its guess of the entries (over 65,536)', () => {
  assert.deepEqual(
    [1, 1000, 65_536, 65_537, 100_000, 200_000].map((entries) => sizingsDiffer(entries)),
    [false, false, false, true, true, true],
  );
});

test('under the cap, the Store sized by bytes makes the hits of the Store sized by entries and of the table', { skip }, () => {
  // The two smallest traces at their benchmark sizes: 36,000 requests a sizing. Not at every size:
  // where a window fraction of the tuner's ladder times C is not a whole entry (multi3 @ 777), the
  // tuner's window is rounded to the nearest byte in one store and to the nearest entry in the
  // other (WTinyLfuPolicy.record), and the hits can differ by a few (docs/STORE.md, "The benchmark").
  for (const t of BENCH_TRACES.filter((b) => b.trace === 'gli' || b.trace === 'multi3')) {
    const trace = loadTrace(tracePath(t), t.format);
    for (const size of t.sizes) {
      assert.equal(sizingsDiffer(size), false);
      const byBytes = storeReplay(trace, size, 'bytes').hits;
      assert.equal(byBytes, storeReplay(trace, size, 'entries').hits, `${t.trace} @ ${size}: by bytes and by entries`);
      assert.equal(byBytes, replay(trace, size, 'wtinylfu').hits, `${t.trace} @ ${size}: by bytes and the table`);
    }
  }
});

test('a node-sized miss is a miss of the summary, judged against the entry-sized policies', () => {
  const cell = (policy: HitRatioCell['policy'], hitRatio: number): HitRatioCell => ({ trace: 'T', size: 100_000, requests: 100, hits: hitRatio, hitRatio, policy });
  const cells = [cell('wtinylfu', 80), cell('lru', 79), cell('lirs', 80.5), cell('opt', 95), cell(NODE_COLUMN, 79)];
  const [row] = summarize(cells, () => 'tuning');
  // The node column is never the best online policy: 80.5 is LIRS's.
  assert.equal(row!.best, 'lirs');
  assert.equal(row!.met, true);
  assert.deepEqual(row!.node, { hitRatio: 79, distance: 1.5, behindLru: 0, met: false });
  assert.equal(row!.ratios[NODE_COLUMN], undefined);
  assert.deepEqual(missedTargets([row!]), [`T @ 100000 (${NODE_COLUMN})`]);
});
