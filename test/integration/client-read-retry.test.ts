/**
 * The SDK retries reads a node could not serve just now (`unavailable`, `overloaded`, a node-side
 * `timeout`) with a bounded backoff, never writes; and `get(key, { detail: true })` says why a
 * miss missed. A KvService wrapper scripts the node's answers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OverloadedError, connect } from '../../src/index.ts';
import type { Callback, GetResult, KvError, KvErrorCode, KvService, TopologySnapshot, WriteResult } from '../../src/replication/api.ts';
import type { MemoryKv } from '../../src/server/index.ts';
import { startNode } from './client-helpers.ts';

/** Fails the first `failures` gets (and every set) with `code`; counts the calls that reached it. */
class FlakyKv implements KvService {
  gets = 0;
  sets = 0;

  constructor(
    private readonly inner: MemoryKv,
    private readonly code: KvErrorCode,
    private readonly failures: number,
  ) {}

  private error(): KvError {
    return { code: this.code, message: `scripted ${this.code}` };
  }

  get(key: Uint8Array, options: object, done: Callback<GetResult>): void {
    if (++this.gets <= this.failures) return done(this.error());
    const text = new TextDecoder().decode(key);
    if (text.startsWith('evicted')) return done(null, { value: null, expiresAtMs: null, acks: 1, miss: 'evicted' });
    this.inner.get(key, options, done);
  }

  set(_key: Uint8Array, _value: Uint8Array, _options: object, done: Callback<WriteResult>): void {
    this.sets++;
    done(this.error());
  }

  delete(key: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.inner.delete(key, options, done);
  }

  topology(): TopologySnapshot {
    return this.inner.topology();
  }
}

for (const code of ['unavailable', 'overloaded', 'timeout'] as const) {
  test(`a get that fails ${code} is retried with backoff and succeeds; a set is not retried`, async () => {
    let flaky: FlakyKv | null = null;
    const node = await startNode({ wrap: (kv) => (flaky = new FlakyKv(kv, code, 2)) });
    const client = await connect({ seeds: [node.address], maxRetries: 3, random: () => 1 });
    try {
      assert.equal(await client.get('k'), null);
      assert.equal(flaky!.gets, 3, 'two failures, then the answer');
      await assert.rejects(client.set('k', 'v'), (e: Error) => (e as { code?: string }).code === code);
      assert.equal(flaky!.sets, 1, 'a write that failed this way may have been applied: never repeated');
    } finally {
      await client.close();
      await node.server.close();
    }
  });
}

test('a get that keeps failing gives up after maxRetries re-sends with the node\'s error', async () => {
  let flaky: FlakyKv | null = null;
  const node = await startNode({ wrap: (kv) => (flaky = new FlakyKv(kv, 'overloaded', 100)) });
  const client = await connect({ seeds: [node.address], maxRetries: 2, random: () => 1 });
  try {
    await assert.rejects(client.get('k'), OverloadedError);
    assert.equal(flaky!.gets, 3);
    flaky!.gets = 0;
    const none = await connect({ seeds: [node.address], maxRetries: 0 });
    await assert.rejects(none.get('k'), OverloadedError);
    await none.close();
    assert.equal(flaky!.gets, 1, 'maxRetries 0: sent once');
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('get with { detail: true } says why a miss missed, and a hit has no reason', async () => {
  const node = await startNode({ wrap: (kv) => new FlakyKv(kv, 'unavailable', 0) });
  const client = await connect({ seeds: [node.address] });
  try {
    assert.deepEqual(await client.get('evicted-key', { detail: true }), { value: null, miss: 'evicted', expiresAtMs: null, acks: 1 });
    await node.kv.set(new TextEncoder().encode('here'), new Uint8Array([0xa1, 0x78]), {}, () => {});
    const hit = await client.get('here', { detail: true });
    assert.equal(hit.value, 'x');
    assert.equal(hit.miss, null);
    // Without detail, a miss is null as before.
    assert.equal(await client.get('evicted-key'), null);
  } finally {
    await client.close();
    await node.server.close();
  }
});
