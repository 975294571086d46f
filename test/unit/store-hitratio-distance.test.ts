/**
 * Issue 19's target on the small traces: the default policy within 1 point of the best online
 * policy and no more than 0.5 behind LRU. Rows still open (docs/STORE.md, "Where the default stands") may not
 * get worse than measured (a loosened cap makes this test fail); the large traces belong to `npm run bench:hitratio`. sprite and loop are
 * left to the benchmark too (a few seconds each on a loaded machine), but for sprite @ 1000 against LRU.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { BENCH_TRACES, TRACES_DIR, tracePath } from '../../bench/hitratio/reference.ts';
import { MAX_DISTANCE_TO_BEST, MAX_DISTANCE_TO_LRU, summarize } from '../../bench/hitratio/summary.ts';
import { loadTrace } from '../../src/cli/bench.ts';
import { ONLINE_POLICIES, replay } from '../../src/store/trace/replay.ts';

const TRACES = ['gli', 'multi3', 'zigzag', 'scan', 'web12'];
/** Rows that miss the target today: their measured distance to the best online policy and to LRU. */
// scan @ 500 and 1500 left this list with the admission's rounding tie and its flooding draw's
// gate (policy-wtinylfu.ts; before: 1.85 and 1.18 behind LIRS); multi3 @ 1000 with the
// reuse-distance second opinion in admission (turned-away.ts: 50.49 -> 51.65, 1.83 -> 0.67 behind
// LIRS). zigzag @ 500 went 2.26 -> 1.82 with the tie, to 1.81 with the window tuner's burst checks
// beside it, to 0.99 when shrinking had to beat the lead's period-to-period swings (window-tuner.ts,
// TUNER_HISTORY), and to 1.03 with the second opinion beside that (22.96; each alone: 23.00 and
// 22.96); what is left is its first reversal (docs/research/eviction-policy.md, "Period-to-period noise"). The
// ladder's 100% rung (window-tuner.ts) took 0.07 more: 23.05, 0.94 behind LRU (the first reversal
// alone). The cold fill (policy-wtinylfu.ts, `endFill`) keeps the newest keys until one is requested
// again, and the reversal hits them: 23.99, LRU's figure. No row is open.
const OPEN: Record<string, { distance: number; behindLru: number }> = {};
const skip = existsSync(TRACES_DIR) ? false : `traces not found at ${TRACES_DIR} (see ../shared/traces/README.md)`;

test('the default policy is within reach of the best online policy on the small traces', { skip }, () => {
  const cells = [];
  for (const t of BENCH_TRACES.filter((b) => TRACES.includes(b.trace))) {
    const trace = loadTrace(tracePath(t), t.format);
    for (const size of t.sizes.filter((s) => s <= 4000)) for (const policy of ONLINE_POLICIES) cells.push({ trace: t.trace, ...replay(trace, size, policy) });
  }
  for (const row of summarize(cells, () => '')) {
    const name = `${row.trace} @ ${row.size}`;
    const allowed = OPEN[name] ?? { distance: MAX_DISTANCE_TO_BEST, behindLru: MAX_DISTANCE_TO_LRU };
    assert.ok(row.distance <= allowed.distance + 0.01, `${name}: ${row.distance.toFixed(2)} points behind ${row.best} (allowed ${allowed.distance})`);
    assert.ok(row.behindLru <= allowed.behindLru + 0.01, `${name}: ${row.behindLru.toFixed(2)} points behind lru (allowed ${allowed.behindLru})`);
  }
});

test('sprite @ 1000: the default is within half a point of LRU (the best online policy there)', { skip }, () => {
  // The window tuner's early moves (window-tuner.ts: then its cold start, now its burst checks)
  // closed this row: 90.04 -> 90.17, now 90.49, against LRU's 90.64. Only the two replays the
  // target needs: the whole row is the benchmark's.
  const sprite = BENCH_TRACES.find((b) => b.trace === 'sprite')!;
  const trace = loadTrace(tracePath(sprite), sprite.format);
  const lru = replay(trace, 1000, 'lru').hitRatio;
  const wtinylfu = replay(trace, 1000, 'wtinylfu').hitRatio;
  assert.ok(lru - wtinylfu <= MAX_DISTANCE_TO_LRU, `${(lru - wtinylfu).toFixed(2)} points behind lru (allowed ${MAX_DISTANCE_TO_LRU})`);
});
