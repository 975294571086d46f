import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstRequestId } from '../../src/replication/request-ids.ts';

test('each incarnation numbers its requests from its own block, exact as a float64 travels', () => {
  const firsts = [0, 1, 2, 2 ** 20 - 1].map((incarnation) => firstRequestId({ incarnation }));
  assert.deepEqual(firsts, [1, 2 ** 32 + 1, 2 * 2 ** 32 + 1, (2 ** 20 - 1) * 2 ** 32 + 1]);
  // A block holds 2^32 ids before the next incarnation's first; the last id of the last block is exact.
  const last = firsts.at(-1)! + 2 ** 32 - 1;
  assert.ok(Number.isSafeInteger(last));
  const wire = new DataView(new ArrayBuffer(8));
  wire.setFloat64(0, last);
  assert.equal(wire.getFloat64(0), last);
  // Hand-built environments (no incarnation) start at 1, as before.
  assert.equal(firstRequestId({}), 1);
});
