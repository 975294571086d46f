// Hot keys go near (issue 17 item 4), in virtual time: one key takes half of all reads of a
// 5-node cluster whose clients route like the SDK (each request to the key's primary). Without the
// feature the hot key's primary carries far more than the average; with hot keys learnt from the
// nodes' alerts, near-cached and their remaining reads spread over the replicas, the hottest node
// is within 1.5x of the average (the target). Deterministic; about 4 s of CPU.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHotKeyArm } from '../../src/sim/scenarios/near-hot-key.ts';
import { EventTrace } from '../../src/sim/trace.ts';

test('with hot keys near, the hottest node carries at most 1.5x the average load; without, more', () => {
  const off = runHotKeyArm(1, 5, 'off', new EventTrace()).figures;
  const near = runHotKeyArm(1, 5, 'near', new EventTrace()).figures;
  assert.ok(off.hottestOverAverage > 1.5, `off: ${off.hottestOverAverage} (${off.loadByNode.join(', ')})`);
  assert.ok(near.hottestOverAverage <= 1.5, `near: ${near.hottestOverAverage} (${near.loadByNode.join(', ')})`);
  assert.equal(off.nearHits, 0);
  assert.ok(near.nearHits > near.reads / 5, `near hits ${near.nearHits} of ${near.reads} reads`);
  assert.ok(near.readsReachingCluster < off.readsReachingCluster);
});
