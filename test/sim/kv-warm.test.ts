// Predictive warming (issue 17 item 5), in virtual time: a node joins under Zipf reads with its
// catch-up throttled. With warmHotKeys the old owners push their hottest keys of the partitions it
// gained at its first sync exchange with each; with it off (the replication default, which every
// other scenario runs) nothing is pushed and the run is otherwise the same protocol. The hit
// ratios are reported, not asserted better: read repair already warms a new owner with each key
// it is asked for (docs/REPLICATION.md, "Warming").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runWarmJoin } from '../../src/sim/scenarios/kv-warm.ts';
import { EventTrace } from '../../src/sim/trace.ts';

test('warming pushes the old owners\' hot keys to a joiner; off, nothing is pushed', () => {
  const size = { keys: 1_000, partitions: 64 };
  const off = runWarmJoin(2, 0, new EventTrace(), size).figures;
  const on = runWarmJoin(2, 64, new EventTrace(), size).figures;
  assert.equal(off.keysWarmed, 0);
  assert.ok(on.keysWarmed > 0, `keys warmed: ${on.keysWarmed}`);
  assert.ok(on.keysWarmed <= 64 * 4 * 2, 'at most the hot keys of each old owner, per trigger');
  assert.equal(on.sampledReads, off.sampledReads, 'the same reads were sampled');
  assert.ok(on.hitRatio > 0 && off.hitRatio > 0);
});
