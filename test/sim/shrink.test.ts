// Shrinking (src/sim/shrink.ts): ddmin itself, and a failing kv run shrunk within a bounded
// budget of candidate runs to at most 10% of its faults and operations, still failing the same way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ddmin, shrinkRun, violationKind } from '../../src/sim/shrink.ts';
import { kvScenario } from '../../src/sim/scenarios/kv.ts';
import { EventTrace } from '../../src/sim/trace.ts';

test('ddmin finds the two items that together fail, in few tests', () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  let tests = 0;
  const minimal = ddmin(items, (subset) => (tests++, subset.includes(17) && subset.includes(62)));
  assert.deepEqual(minimal, [17, 62]);
  assert.ok(tests <= 80, `${tests} tests`);
  assert.deepEqual(ddmin(items, () => true), [], 'a failure that needs nothing shrinks to nothing');
});

test('kv seed 3 with reads answered by their oldest replica shrinks to at most 10% of its faults and ops within 40 runs, and replays', () => {
  const options = { seed: 3, ...kvScenario.defaults, bugs: { answerOldest: true } };
  const r = shrinkRun(kvScenario, options, { maxRuns: 40 });
  assert.equal(r.kind, 'history/no-lost-acknowledged-write');
  assert.ok(r.runs <= 40);
  assert.ok(r.shrunk.faults <= 0.1 * r.original.faults, `faults ${r.shrunk.faults} of ${r.original.faults}`);
  assert.ok(r.shrunk.ops <= 0.1 * r.original.ops, `ops ${r.shrunk.ops} of ${r.original.ops}`);
  const replay = kvScenario.run(r.options, new EventTrace());
  assert.equal(violationKind(replay.violations[0]!), r.kind, 'the minimal plan fails the same way when replayed');
});
