/**
 * The SDK's read-modify-write calls (incr, decr, incrBy, decrBy, append, setNx, getSet, copy, deleteIfExists, getInt)
 * against the MemoryKv server and a real one-node daemon: results as Redis gives them, typed
 * errors, counters as decimal text, and a retried INCR applied once (the SDK's own re-sends reuse
 * the call's request id; a caller's own id makes a retry across calls safe).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NotIntegerError,
  OverflowError,
  TooLargeError,
  UnsafeIntegerError,
  UnsupportedError,
  ValueDecodeError,
  bytesCodec,
  connect,
  stringCodec,
  type ShoalClient,
} from '../../src/index.ts';
import type { Callback, GetResult, KvError, KvService, RmwOp, RmwOptions, RmwResult, RmwService, TopologySnapshot, WriteResult } from '../../src/replication/api.ts';
import { MemoryKv, startClientServer, type ClientServer } from '../../src/server/index.ts';
import { PlatformTimers, type ClientTimers } from '../../src/client/timers.ts';
import type { TimerId } from '../../src/runtime/env.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { partitionOf } from '../../src/ring/partition.ts';
import { startNode } from './client-helpers.ts';
import { DaemonProcess, until } from './daemon-harness.ts';

const utf8 = new TextEncoder();
const fastReconnect = { initialDelayMs: 5, maxDelayMs: 20 };

/** The calls every RmwService must answer as Redis would (shared by the MemoryKv and the daemon test). */
async function exerciseRmw(client: ShoalClient<string>, prefix: string): Promise<void> {
  const k = (name: string): string => `${prefix}${name}`;
  assert.equal(await client.incr(k('n')), 1);
  assert.equal(await client.incrBy(k('n'), 41), 42);
  assert.equal(await client.decr(k('n')), 41);
  assert.equal(await client.decrBy(k('n'), 50), -9);
  assert.equal(await client.incrBy(k('n'), 2n ** 62n), 2n ** 62n - 9n);
  // A counter is decimal text: stringCodec reads it, getInt parses it.
  await client.set(k('n'), '42');
  assert.equal(await client.get(k('n')), '42');
  assert.equal(await client.getInt(k('n')), 42);
  assert.equal(await client.getInt(k('absent')), null);

  await client.set(k('text'), 'hello');
  await assert.rejects(client.incr(k('text')), NotIntegerError);
  assert.equal(await client.get(k('text')), 'hello', 'a failed incr writes nothing');
  await assert.rejects(client.getInt(k('text')), NotIntegerError);
  await client.set(k('max'), '9223372036854775807');
  await assert.rejects(client.incr(k('max')), OverflowError);
  await assert.rejects(client.incrBy(k('max'), 1n), OverflowError);
  assert.equal(await client.get(k('max')), '9223372036854775807');
  await assert.rejects(client.decrBy(k('max'), -(2n ** 63n)), OverflowError);
  // Beyond 2^53 a number cannot hold the result: applied, and reported exactly in the error.
  await client.set(k('big'), String(2 ** 53));
  const error = await client.incr(k('big')).catch((e: unknown) => e);
  assert.ok(error instanceof UnsafeIntegerError, String(error));
  assert.equal(error.value, 2n ** 53n + 1n);
  assert.equal(await client.get(k('big')), String(2n ** 53n + 1n));
  // getInt is a read: its error says what the counter holds, not that something was applied.
  const read = await client.getInt(k('big')).catch((e: unknown) => e);
  assert.ok(read instanceof UnsafeIntegerError, String(read));
  assert.equal(read.value, 2n ** 53n + 1n);
  assert.match(read.message, /^getInt\(".*big"\): the counter holds 9007199254740993, beyond a JavaScript number's exact range/);
  assert.doesNotMatch(read.message, /applied|bigint amount/);

  assert.equal(await client.append(k('s'), 'ab'), 2);
  assert.equal(await client.append(k('s'), 'cde'), 5);
  assert.equal(await client.get(k('s')), 'abcde');

  assert.equal(await client.setNx(k('once'), 'first'), true);
  assert.equal(await client.setNx(k('once'), 'second'), false);
  assert.equal(await client.get(k('once')), 'first');

  assert.equal(await client.getSet(k('gs'), 'v1'), null);
  assert.equal(await client.getSet(k('gs'), 'v2'), 'v1');
  assert.equal(await client.get(k('gs')), 'v2');

  // copy: the value and its expiry, REPLACE, a missing source; both keys in one slot ({hash tag}).
  const [src, dst] = [k('{cp}src'), k('{cp}dst')];
  await client.set(src, 'orig', { ttlMs: 100_000 });
  assert.equal(await client.copy(src, dst), true);
  const copied = await client.get(dst, { detail: true });
  const original = await client.get(src, { detail: true });
  assert.equal(copied.value, 'orig');
  assert.ok(copied.expiresAtMs !== null && copied.expiresAtMs === original.expiresAtMs, `the copy's expiry ${copied.expiresAtMs}, the source's ${original.expiresAtMs}`);
  await client.set(src, 'newer');
  assert.equal(await client.copy(src, dst), false, 'the destination exists');
  assert.equal(await client.get(dst), 'orig');
  assert.equal(await client.copy(src, dst, { replace: true }), true);
  assert.deepEqual(await client.get(dst, { detail: true }).then((d) => [d.value, d.expiresAtMs]), ['newer', null], 'a source without expiry leaves none');
  assert.equal(await client.copy(k('{cp}none'), dst, { replace: true }), false, 'no source');
  assert.equal(await client.get(dst), 'newer');
  assert.equal(await client.get(src), 'newer', 'the source is never changed');

  // deleteIfExists: Redis's DEL, saying whether the key held a value.
  await client.set(k('del'), 'x');
  assert.equal(await client.deleteIfExists(k('del'), { consistency: 'all' }), true);
  assert.equal(await client.get(k('del')), null);
  assert.equal(await client.deleteIfExists(k('del')), false, 'deleted already');
  assert.equal(await client.deleteIfExists(k('never')), false, 'never written');
  await client.set(k('del'), 'y');
  assert.equal(await client.deleteIfExists(k('del'), { consistency: 'one' }), true, 'written again');

  // Concurrent increments all count, and each sees a distinct value.
  const seen = await Promise.all(Array.from({ length: 50 }, () => client.incr(k('hits'))));
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
  assert.equal(await client.getInt(k('hits')), 50);
}

test('incr, decr, incrBy, decrBy, append, setNx, getSet and getInt on the MemoryKv server', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address], codec: stringCodec });
  try {
    await exerciseRmw(client, '');
    // Arguments are checked before anything is sent.
    await assert.rejects(client.incrBy('n', 1.5), TypeError);
    await assert.rejects(client.incrBy('n', 2n ** 63n), TypeError);
    await assert.rejects(client.incr('n', { requestId: '' }), TypeError);
    await assert.rejects(client.setNx('n', 'x', { ttlMs: -1 }), TypeError);
    await assert.rejects(client.append('n', 'x'.repeat(client.limits.maxValueBytes + 1)), TooLargeError);
    await assert.rejects(client.copy('{t}a', '{t}a'), { name: 'TypeError', message: /the source and the destination are the same key/ });
    await assert.rejects(client.copy('a', 'b'), { name: 'TypeError', message: /different slots .* same \{hash tag\}/ });
    await assert.rejects(client.copy('{t}a', '{t}b', { replace: 'yes' as unknown as boolean }), { name: 'TypeError', message: /replace must be a boolean/ });
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('append past the value limit is too-large and writes nothing', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address], codec: bytesCodec });
  try {
    const max = client.limits.maxValueBytes;
    assert.equal(await client.append('a', new Uint8Array(max)), max);
    const error = await client.append('a', new Uint8Array(1)).catch((e: unknown) => e);
    assert.ok(error instanceof TooLargeError, String(error));
    assert.equal(error.code, 'too-large');
    assert.equal((await client.get('a'))?.byteLength, max);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('setNx and getSet with ttlMs: the node makes the TTL absolute by its clock; getSet clears a TTL', async () => {
  const kv = new MemoryKv();
  // The node turns a relative TTL into an absolute time by its own clock (Date.now here).
  const server = await startClientServer({ kv, nodeName: 'memory', port: 0 });
  const client = await connect({ seeds: [`127.0.0.1:${server.port}`], codec: stringCodec, routing: false });
  try {
    const before = Date.now();
    assert.equal(await client.setNx('t', 'v', { ttlMs: 60_000 }), true);
    const expiresAt = kv.store.get(utf8.encode('t'))?.expiresAtMs ?? 0;
    assert.ok(expiresAt >= before + 60_000 && expiresAt <= Date.now() + 60_000, `expiry ${expiresAt}`);
    assert.equal(await client.getSet('t', 'w'), 'v');
    assert.equal(kv.store.get(utf8.encode('t'))?.expiresAtMs, null, 'GETSET clears the TTL, as in Redis');
  } finally {
    await client.close();
    await server.close();
  }
});

test('a counter read through msgpackCodec fails with a ValueDecodeError that points to getInt', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  try {
    assert.equal(await client.incrBy('c', 42), 42);
    // "42" is two msgpack values (52, 50): the default codec refuses it.
    const error = await client.get('c').catch((e: unknown) => e);
    assert.ok(error instanceof ValueDecodeError, String(error));
    assert.match(error.message, /getInt/);
    assert.deepEqual(error.bytes, utf8.encode('42'));
    assert.equal(await client.getInt('c'), 42);
    // The message names the key: an mget of many keys says which one it could not decode.
    assert.match(error.message, /^get\("c"\): the client's codec could not decode the stored value \(2 bytes\)/);
    await client.set('fine', 'ok');
    await assert.rejects(client.mget(['fine', 'c']), { name: 'ValueDecodeError', message: /^get\("c"\): / });
    await assert.rejects(client.getSet('c', 1), { name: 'ValueDecodeError', message: /^getSet\("c"\): .*\(the new value was written\)/ });
  } finally {
    await client.close();
    await node.server.close();
  }
});

/**
 * An RmwService in front of a MemoryKv that applies the first `n` operations and then loses the
 * answer: `mode` 'timeout' answers a timeout error (a coordinator whose replicas were slow),
 * 'silence' never answers (a connection that drops before the reply leaves).
 */
class LosingKv implements KvService, RmwService {
  calls = 0;
  private lose: number;
  constructor(
    private readonly inner: MemoryKv,
    private readonly mode: 'timeout' | 'silence',
    lose = 1,
  ) {
    this.lose = lose;
  }
  get(key: Uint8Array, options: object, done: Callback<GetResult>): void {
    this.inner.get(key, options, done);
  }
  set(key: Uint8Array, value: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.inner.set(key, value, options, done);
  }
  delete(key: Uint8Array, options: object, done: Callback<WriteResult>): void {
    this.inner.delete(key, options, done);
  }
  topology(): TopologySnapshot {
    return this.inner.topology();
  }
  rmw(keys: Uint8Array[], op: RmwOp, options: RmwOptions, done: Callback<RmwResult>): void {
    this.calls++;
    if (this.lose === 0) return this.inner.rmw(keys, op, options, done);
    this.lose--;
    this.inner.rmw(keys, op, options, () => {
      const timeout: KvError = { code: 'timeout', message: 'the replicas did not answer in time' };
      if (this.mode === 'timeout') done(timeout);
    });
  }
}

test('an INCR answered timeout is re-sent with the same request id and applied once', async () => {
  const kv = new MemoryKv();
  const losing = new LosingKv(kv, 'timeout');
  const server = await startClientServer({ kv: losing, nodeName: 'memory', port: 0 });
  const client = await connect({ seeds: [`127.0.0.1:${server.port}`], codec: stringCodec, routing: false });
  try {
    assert.equal(await client.incr('visits'), 1, 'the retry is answered with the first result');
    assert.equal(losing.calls, 2, 'the SDK re-sent it once');
    assert.equal(kv.rmwApplied, 1, 'and the node applied it once');
    assert.equal(await client.get('visits'), '1');
    // A later call is a new logical operation with a new id.
    assert.equal(await client.incr('visits'), 2);
  } finally {
    await client.close();
    await server.close();
  }
});

/** The platform's timers, except that a timer of `heldMs` waits for the test to fire it (fire()). */
class HeldTimeout implements ClientTimers {
  private readonly inner = new PlatformTimers();
  private held: (() => void) | null = null;
  constructor(readonly heldMs: number) {}
  setTimer(delayMs: number, fn: () => void): TimerId {
    if (delayMs !== this.heldMs) return this.inner.setTimer(delayMs, fn);
    this.held = fn;
    return -1;
  }
  cancelTimer(id: TimerId): void {
    if (id === -1) this.held = null;
    else this.inner.cancelTimer(id);
  }
  fire(): void {
    const fn = this.held;
    this.held = null;
    fn?.();
  }
}

test("a read-modify-write re-sent until its timeout fails with a TimeoutError that says what the last attempt's error was", async () => {
  const kv = new MemoryKv();
  // Every attempt answered `timeout` (retryable): only the call's own timeout ends it.
  const losing = new LosingKv(kv, 'timeout', Number.POSITIVE_INFINITY);
  const server = await startClientServer({ kv: losing, nodeName: 'memory', port: 0 });
  const timers = new HeldTimeout(987_654);
  const client = await connect({ seeds: [`127.0.0.1:${server.port}`], codec: stringCodec, routing: false, timers, maxRetries: 1000 });
  try {
    const call = client.deleteIfExists('k', { timeoutMs: timers.heldMs });
    await until('two attempts', () => (losing.calls >= 2 ? true : undefined), 60_000, 5);
    timers.fire();
    await assert.rejects(call, {
      name: 'TimeoutError',
      message: /^rmw del did not complete within 987654 ms; the last attempt failed: the replicas did not answer in time/,
    });
  } finally {
    await client.close();
    await server.close();
  }
});

test('an INCR whose connection drops after it was applied is re-sent on reconnect and applied once', async () => {
  const kv = new MemoryKv();
  const losing = new LosingKv(kv, 'silence');
  let server: ClientServer = await startClientServer({ kv: losing, nodeName: 'memory', port: 0 });
  const port = server.port;
  const client = await connect({ seeds: [`127.0.0.1:${port}`], codec: stringCodec, routing: false, reconnect: fastReconnect });
  try {
    const incr = client.incr('visits');
    await until('the incr to reach the node', () => (kv.rmwApplied === 1 ? true : undefined), 10_000, 5);
    // The node goes away without answering; the client reconnects to it and re-sends.
    await server.close({ graceMs: 0 });
    server = await startClientServer({ kv: losing, nodeName: 'memory', port });
    assert.equal(await incr, 1);
    assert.equal(losing.calls, 2);
    assert.equal(kv.rmwApplied, 1);
    assert.equal(await client.getInt('visits'), 1);
  } finally {
    await client.close();
    await server.close();
  }
});

test("a caller's own request id makes a retry across calls apply once; ids are per partition", async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address], codec: stringCodec });
  try {
    assert.equal(await client.incrBy('n', 5, { requestId: 'order-17' }), 5);
    assert.equal(await client.incrBy('n', 5, { requestId: 'order-17' }), 5, 'the repeat answers the first result');
    assert.equal(await client.getInt('n'), 5);
    assert.equal(node.kv.rmwApplied, 1);
    assert.equal(await client.incrBy('n', 5, { requestId: 'order-18' }), 10);
    assert.equal(await client.setNx('lock', 'me', { requestId: 'lock-1' }), true);
    assert.equal(await client.setNx('lock', 'me', { requestId: 'lock-1' }), true, 'a retried setNx that won still says so');
    assert.equal(await client.setNx('lock', 'me'), false);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('a server whose service has no read-modify-write answers unknown-op: UnsupportedError, nothing applied', async () => {
  const kv = new MemoryKv();
  const plain: KvService = { get: (...a) => kv.get(...a), set: (...a) => kv.set(...a), delete: (...a) => kv.delete(...a), topology: () => kv.topology() };
  const server = await startClientServer({ kv: plain, nodeName: 'memory', port: 0 });
  const client = await connect({ seeds: [`127.0.0.1:${server.port}`], routing: false });
  try {
    const error = await client.incr('n').catch((e: unknown) => e);
    assert.ok(error instanceof UnsupportedError, String(error));
    assert.equal(kv.store.size, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

test('MemoryKv: keys that span partitions are a bad request; keys given twice count once', async () => {
  const kv = new MemoryKv({ partitions: 1024 });
  const run = (keys: string[], op: RmwOp): Promise<{ error: KvError | null; result?: RmwResult }> =>
    new Promise((resolve) => kv.rmw(keys.map((key) => utf8.encode(key)), op, {}, (error, result) => resolve({ error, result })));
  const a = utf8.encode('a');
  const other = ['b', 'c', 'd', 'e'].find((key) => partitionOf(utf8.encode(key), 1024) !== partitionOf(a, 1024))!;
  assert.equal((await run(['a', other], { op: 'del' })).error?.code, 'bad-request');
  kv.store.set(a, utf8.encode('x'), 0);
  assert.deepEqual(await run(['a', 'a'], { op: 'del' }), { error: null, result: { kind: 'integer', value: 1n } });
  assert.equal(kv.store.get(a), null);
});

test('on a real one-node daemon', { timeout: 120_000 }, async (t) => {
  const [port, peerPort] = await freePorts(2);
  const node = new DaemonProcess({ name: 'rmw', port: port!, peerPort: peerPort!, seeds: [], extra: [] });
  t.after(() => node.kill('SIGKILL'));
  await node.start();
  await until('the node to serve', async () => ((await node.status()).joined ? true : undefined), 20_000);
  const client = await connect({ seeds: node.clientAddress, codec: stringCodec });
  t.after(() => client.close());
  await exerciseRmw(client, 'd:');
  // A repeat of the same logical operation is answered from the primary's memory.
  assert.equal(await client.incrBy('d:retried', 3, { requestId: 'daemon-retry' }), 3);
  assert.equal(await client.incrBy('d:retried', 3, { requestId: 'daemon-retry' }), 3);
  assert.equal(await client.getInt('d:retried'), 3);
});
