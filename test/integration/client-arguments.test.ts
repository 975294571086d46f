/**
 * The SDK refuses bad arguments with a TypeError that names them, before anything is sent:
 * per-call options, keys and values. Against an in-process node (a MemoryKv behind a client server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../../src/index.ts';
import { startNode } from './client-helpers.ts';

test('per-call timeouts are checked as connect() checks its own: 0 to 2^31 - 1 ms', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  try {
    // Over what a timer holds (Node would fire it after 1 ms), negative, NaN, not a number.
    for (const timeoutMs of [1e10, 2 ** 31, -1, Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
      await assert.rejects(client.set('k', 1, { timeoutMs }), { name: 'TypeError', message: /^set\(\): `timeoutMs` must be a number of milliseconds from 0 to 2147483647, got / }, String(timeoutMs));
      await assert.rejects(client.get('k', { timeoutMs }), { name: 'TypeError', message: /^get\(\): `timeoutMs`/ });
      await assert.rejects(client.delete('k', { timeoutMs }), { name: 'TypeError', message: /^delete\(\): `timeoutMs`/ });
      await assert.rejects(client.mget(['k'], { timeoutMs }), { name: 'TypeError', message: /^mget\(\): `timeoutMs`/ });
      await assert.rejects(client.mset([['k', 1]], { timeoutMs }), { name: 'TypeError', message: /^mset\(\): `timeoutMs`/ });
      await assert.rejects(client.incr('n', { timeoutMs }), { name: 'TypeError', message: /^incr\(\): `timeoutMs`/ });
      await assert.rejects(client.getInt('n', { timeoutMs }), { name: 'TypeError', message: /^getInt\(\): `timeoutMs`/ });
      await assert.rejects(client.topology({ timeoutMs }), { name: 'TypeError', message: /^topology\(\): `timeoutMs`/ });
      await assert.rejects(client.ready(timeoutMs), { name: 'TypeError', message: /^ready\(\): `timeoutMs`/ });
    }
    assert.equal(await client.get('k'), null, 'nothing was written');
    // The bounds themselves are fine; 0 still means no timeout.
    await client.set('k', 1, { timeoutMs: 2 ** 31 - 1 });
    await client.set('k', 2, { timeoutMs: 0 });
    assert.equal(await client.get('k', { timeoutMs: 0 }), 2);
    await client.ready(2 ** 31 - 1);
  } finally {
    await client.close();
    await node.server.close();
  }
});
