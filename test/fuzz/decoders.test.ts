import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from '../../fuzz/engine.ts';
import { TARGETS } from '../../fuzz/targets.ts';
import { decodeKvMessage, MalformedKvMessageError } from '../../src/replication/messages.ts';

// `npm run fuzz` runs 1,000,000 inputs per decoder; CI runs 10,000 of each with a fixed seed.
// Asserted: no crash and no allocation out of proportion to the input. Elapsed times are
// reported (the slowest input per decoder), never asserted.
test('every decoder survives 10,000 generated and mutated inputs', (t) => {
  const result = runFuzz(TARGETS, { count: 10_000, seed: 14, corpusSize: 500 });
  for (const r of result.totals) {
    t.diagnostic(`${r.target}: ${r.inputs} inputs, ${r.accepted} accepted, ${r.refused} refused, slowest ${r.slowestMs.toFixed(1)} ms`);
  }
  const crashesOrAllocations = result.findings.filter((f) => f.kind !== 'hang' || f.message.includes('next()'));
  assert.deepEqual(crashesOrAllocations, []);
  for (const r of result.totals) assert.equal(r.inputs, 10_000, r.target);
});

test('regression: a replication message claiming a 29-million-element array is refused without allocating it', () => {
  // Found by `npm run fuzz`: msgpack's decoder sized the array by its header; 240 MB for 5 bytes.
  const inputs = ['dd01c9c380', '85a174a27863a26964dd01c9c380', 'dd01c9c380367e40000441c2d98000ff6f9699e640dcffff', 'ddffffffff', 'dfffffffff'];
  for (const hex of inputs) {
    assert.throws(() => decodeKvMessage(Buffer.from(hex, 'hex')), MalformedKvMessageError, hex);
  }
});
