/**
 * The SDK refuses bad arguments with a TypeError that names them, before anything is sent:
 * per-call options, keys and values. Against an in-process node (a MemoryKv behind a client server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShoalError, ValueEncodeError, bytesCodec, connect } from '../../src/index.ts';
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

test('a value the codec cannot encode rejects with ValueEncodeError naming the call and key; nothing is sent', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  const raw = await connect({ seeds: [node.address], codec: bytesCodec });
  try {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const [value, why] of [[() => 1, /Unrecognized object: \[object Function\]/], [5n, /BigInt/], [circular, /Too deep/]] as const) {
      const error = await client.set('k', value).then(() => null, (e: unknown) => e);
      assert.ok(error instanceof ValueEncodeError && error instanceof ShoalError, String(error));
      assert.equal(error.code, 'value-encode');
      assert.match(error.message, /^set\("k"\): the client's codec could not encode the value \(/);
      assert.match(error.message, why);
      assert.ok(error.cause instanceof Error && why.test(error.cause.message), 'the codec\'s error is the cause');
    }
    await assert.rejects(client.mset([['a', 1], ['b', () => 1]]), { name: 'ValueEncodeError', message: /^set\("b"\)/ });
    await assert.rejects(client.setNx('k', 5n), { name: 'ValueEncodeError', message: /^setNx\("k"\)/ });
    await assert.rejects(client.getSet(new Uint8Array(3), 5n), { name: 'ValueEncodeError', message: /^getSet\(<3 bytes>\)/ });
    await assert.rejects(client.append('k', Symbol('s')), { name: 'ValueEncodeError', message: /^append\("k"\)/ });
    // A codec's own TypeError is the cause too: every codec failure is one class.
    await assert.rejects(raw.set('k', 'text' as unknown as Uint8Array), (e: unknown) => e instanceof ValueEncodeError && e.cause instanceof TypeError);
    assert.equal(await client.get('k'), null, 'nothing was written');
  } finally {
    await client.close();
    await raw.close();
    await node.server.close();
  }
});

test('undefined is refused with a TypeError pointing to delete(); null is a value', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  try {
    await client.set('k', 'v');
    await assert.rejects(client.set('k', undefined), { name: 'TypeError', message: /^set\("k"\): the value is undefined.*use delete\(\)/ });
    await assert.rejects(client.mset({ k: undefined }), { name: 'TypeError', message: /use delete\(\)/ });
    await assert.rejects(client.setNx('u', undefined), { name: 'TypeError', message: /^setNx\("u"\)/ });
    await assert.rejects(client.getSet('k', undefined), { name: 'TypeError', message: /^getSet\("k"\)/ });
    assert.equal(await client.get('k'), 'v', 'the old value is still there');
    // null is stored (msgpack nil): a hit whose value is null (a node's detail names a miss's reason).
    await client.set('n', null);
    const detail = await client.get('n', { detail: true });
    assert.deepEqual([detail.value, detail.miss], [null, null]);
    assert.ok(node.kv.store.get(new TextEncoder().encode('n')) !== null, 'stored');
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('a per-call consistency must be one, quorum or all (else it would be sent as the cluster default)', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  try {
    for (const consistency of ['bogus', 'ALL', 2, null] as unknown as 'all'[]) {
      await assert.rejects(client.set('k', 1, { consistency }), { name: 'TypeError', message: /^set\(\): `consistency` must be one of 'one', 'quorum', 'all'/ }, String(consistency));
      await assert.rejects(client.get('k', { consistency }), { name: 'TypeError', message: /^get\(\): `consistency`/ });
      await assert.rejects(client.delete('k', { consistency }), { name: 'TypeError', message: /^delete\(\): `consistency`/ });
      await assert.rejects(client.incr('n', { consistency }), { name: 'TypeError', message: /^incr\(\): `consistency`/ });
    }
    assert.equal(await client.get('k', { consistency: 'all' }), null, 'nothing was written');
    await client.set('k', 1, { consistency: 'quorum' });
    assert.equal(await client.get('k', { consistency: 'one' }), 1);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('connect() rejects invalid options with a TypeError naming them, before dialing', async () => {
  await assert.rejects(connect({ seeds: ['127.0.0.1:99999'] }), { name: 'TypeError', message: /seed "127.0.0.1:99999" has port 99999/ });
  await assert.rejects(connect({ seeds: ['127.0.0.1:7400'], keyPrefix: 5 as unknown as string }), { name: 'TypeError', message: /`keyPrefix` must be a string or a Uint8Array/ });
  await assert.rejects(connect({ seeds: ['127.0.0.1:7400'], consistency: 'bogus' as 'all' }), { name: 'TypeError', message: /`consistency`/ });
});

test('a key must be a string or a Uint8Array: anything else is a TypeError naming the call, and nothing is sent', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address], keyPrefix: 'app:' });
  try {
    for (const key of [null, undefined, 5, { k: 1 }, ['k']] as unknown as string[]) {
      const message = /^(get|set|delete|getInt|incr|append|setNx|getSet|mget|mset)\(\): a key must be a string or a Uint8Array, got /;
      await assert.rejects(client.get(key), { name: 'TypeError', message: /^get\(\): a key must be a string or a Uint8Array, got / }, String(key));
      await assert.rejects(client.set(key, 1), { name: 'TypeError', message: /^set\(\): a key must/ });
      await assert.rejects(client.delete(key), { name: 'TypeError', message: /^delete\(\): a key must/ });
      await assert.rejects(client.deleteIfExists(key), { name: 'TypeError', message: /^deleteIfExists\(\): a key must/ });
      await assert.rejects(client.getInt(key), { name: 'TypeError', message: /^getInt\(\): a key must/ });
      await assert.rejects(client.incr(key), { name: 'TypeError', message: /^incr\(\): a key must/ });
      await assert.rejects(client.append(key, 'x'), { name: 'TypeError', message: /^append\(\): a key must/ });
      await assert.rejects(client.mget(['ok', key]), { name: 'TypeError', message });
      await assert.rejects(client.mset([[key, 1]]), { name: 'TypeError', message });
    }
    await assert.rejects(client.mget('ab' as unknown as string[]), { name: 'TypeError', message: /^mget\(\): `keys` must be an array of keys/ });
    assert.equal(node.kv.store.size, 0, 'nothing reached the node');
    // Strings and bytes (a Buffer is a Uint8Array) are keys.
    await client.set(Buffer.from('b'), 1);
    assert.equal(await client.get('b'), 1);
  } finally {
    await client.close();
    await node.server.close();
  }
});
