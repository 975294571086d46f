import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import {
  AbortError,
  type GetDetail,
  type GetOptions,
  BadRequestError,
  ClientClosedError,
  TimeoutError,
  TooLargeError,
  bytesCodec,
  connect,
  stringCodec,
} from '../../src/index.ts';
import { EARLY_FLUSH_REQUESTS } from '../../src/client/connection.ts';
import { MemoryStore } from '../../src/server/index.ts';
import { DeferredKv, HoldingKv, fakeClock, startNode } from './client-helpers.ts';

test('get, set, delete, mget and mset with string and byte keys', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  try {
    assert.equal(client.status, 'ready');
    assert.equal(await client.get('missing'), null);
    await client.set('greeting', 'hello');
    assert.equal(await client.get('greeting'), 'hello');
    await client.set(new Uint8Array([0, 255, 7]), { nested: [1, 2, { deep: true }] });
    assert.deepEqual(await client.get(new Uint8Array([0, 255, 7])), { nested: [1, 2, { deep: true }] });
    // A string key is its UTF-8 bytes.
    assert.equal(await client.get(new TextEncoder().encode('greeting')), 'hello');
    await client.delete('greeting');
    assert.equal(await client.get('greeting'), null);

    await client.mset([['a', 1], ['b', 2], ['c', 3]]);
    await client.mset({ d: 4 });
    assert.deepEqual(await client.mget(['a', 'b', 'missing', 'c', 'd']), [1, 2, null, 3, 4]);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('codecs and keyPrefix decide the stored bytes', async () => {
  const store = new MemoryStore(Date.now);
  const node = await startNode({ store });
  const raw = await connect({ seeds: [node.address], codec: bytesCodec, keyPrefix: 'app:' });
  const text = await connect({ seeds: [node.address], codec: stringCodec });
  try {
    await raw.set('k', new Uint8Array([1, 2, 3]));
    assert.deepEqual(store.get(new TextEncoder().encode('app:k'))?.value, new Uint8Array([1, 2, 3]));
    assert.equal(store.get(new TextEncoder().encode('k')), null);
    assert.deepEqual(await raw.get('k'), new Uint8Array([1, 2, 3]));
    await text.set('app:s', 'plain text');
    assert.deepEqual(await raw.get('s'), new TextEncoder().encode('plain text'));
    assert.equal(await text.get('app:s'), 'plain text');
  } finally {
    await raw.close();
    await text.close();
    await node.server.close();
  }
});

test('a value expires after its TTL', async () => {
  const clock = fakeClock();
  const node = await startNode({ store: new MemoryStore(clock.now) });
  const client = await connect({ seeds: [node.address] });
  try {
    await client.set('session', 'abc', { ttlMs: 1000 });
    await client.set('forever', 'x');
    clock.advance(999);
    assert.equal(await client.get('session'), 'abc');
    clock.advance(1);
    assert.equal(await client.get('session'), null);
    clock.advance(10_000_000);
    assert.equal(await client.get('forever'), 'x');
    await assert.rejects(client.set('bad', 1, { ttlMs: -1 }), TypeError);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('calls made in the same tick leave in one frame and come back in one frame', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  try {
    await client.set('warm', 1); // routes by the ring from now on, and gets the welcome out of the way
    await client.topology();
    const before = { ...node.server.stats };
    const keys = Array.from({ length: EARLY_FLUSH_REQUESTS - 1 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k, i) => client.set(k, i)));
    assert.deepEqual(await client.mget(keys), keys.map((_, i) => i));
    assert.equal(node.server.stats.framesReceived - before.framesReceived, 2);
    assert.equal(node.server.stats.requestsReceived - before.requestsReceived, 2 * keys.length);
    assert.equal(node.server.stats.replyFramesSent - before.replyFramesSent, 2);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('a tick with more calls than EARLY_FLUSH_REQUESTS sends them in frames of that many, as they are made', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  try {
    await client.set('warm', 1);
    await client.topology();
    const before = { ...node.server.stats };
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k, i) => client.set(k, i)));
    assert.deepEqual(await client.mget(keys), keys.map((_, i) => i));
    // 64 + 64 + 64 + 8 per round; replies come back in at most as many frames.
    const framesPerRound = Math.ceil(keys.length / EARLY_FLUSH_REQUESTS);
    assert.equal(node.server.stats.framesReceived - before.framesReceived, 2 * framesPerRound);
    assert.equal(node.server.stats.requestsReceived - before.requestsReceived, 2 * keys.length);
    const replyFrames = node.server.stats.replyFramesSent - before.replyFramesSent;
    assert.ok(replyFrames >= 2 && replyFrames <= 2 * framesPerRound, `${replyFrames} reply frames`);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('a batch larger than the server allows is split across frames', async () => {
  const node = await startNode({ limits: { maxBatchRequests: 16 } });
  const client = await connect({ seeds: [node.address] });
  try {
    await client.get('warm');
    const before = node.server.stats.framesReceived;
    await client.mget(Array.from({ length: 40 }, (_, i) => `k${i}`));
    assert.equal(node.server.stats.framesReceived - before, 3);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('per-call timeout and AbortSignal', async () => {
  let holding: HoldingKv | undefined;
  const node = await startNode({ wrap: (kv) => (holding = new HoldingKv(kv)) });
  const client = await connect({ seeds: [node.address] });
  try {
    const timedOut = await client.get('hold-1', { timeoutMs: 20 }).catch((e: unknown) => e);
    assert.ok(timedOut instanceof TimeoutError, String(timedOut));
    assert.equal(timedOut.name, 'TimeoutError');
    assert.equal(timedOut.code, 'timeout');

    const controller = new AbortController();
    const pending = client.get('hold-2', { timeoutMs: 0 });
    const aborted = client.set('hold-3', 1, { signal: controller.signal });
    await holding!.untilHeld(3);
    controller.abort(new Error('user gave up'));
    const error = await aborted.catch((e: unknown) => e);
    assert.ok(error instanceof AbortError);
    assert.equal((error.cause as Error).message, 'user gave up');
    await assert.rejects(client.get('x', { signal: AbortSignal.abort() }), AbortError);

    // A late reply to a call that already settled is ignored; the other call still completes.
    holding!.release();
    assert.equal(await pending, null);
    assert.notEqual(node.kv.store.get(new TextEncoder().encode('hold-3')), null, 'the aborted write had reached the server');
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('oversized keys and values fail before they are sent, and server errors keep their type', async () => {
  const node = await startNode({ limits: { maxValueBytes: 100, maxKeyBytes: 10 } });
  const client = await connect({ seeds: [node.address], codec: bytesCodec });
  try {
    const big = await client.set('k', new Uint8Array(101)).catch((e: unknown) => e);
    assert.ok(big instanceof TooLargeError);
    assert.equal(big.code, 'value-too-large');
    await assert.rejects(client.get('k'.repeat(11)), (e: unknown) => e instanceof TooLargeError && e.code === 'key-too-large');
    await client.set('k', new Uint8Array(100));
    assert.equal(client.status, 'ready', 'the connection survived');
  } finally {
    await client.close();
    await node.server.close();
  }
  // A KvService error comes back as its class.
  const failing = await startNode({
    wrap: (kv) => Object.assign(Object.create(kv) as typeof kv, { set: (_k: unknown, _v: unknown, _o: unknown, done: (e: unknown) => void) => done({ code: 'bad-request', message: 'no' }) }),
  });
  const c2 = await connect({ seeds: [failing.address] });
  try {
    const error = await c2.set('k', 1).catch((e: unknown) => e);
    assert.ok(error instanceof BadRequestError, String(error));
    assert.match(error.message, /no \(bad-request from node/);
  } finally {
    await c2.close();
    await failing.server.close();
  }
});

// No per-call timeout: moving 120 MiB may take seconds on a loaded machine, and that is not what is tested.
const patient = { commandTimeoutMs: 0 };

test('120 concurrent gets of a 1 MiB value all succeed: the replies come in frames within the limit', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address], codec: bytesCodec, ...patient });
  try {
    await client.set('big', new Uint8Array(1024 * 1024).fill(3));
    const before = node.server.stats.replyFramesSent;
    // 120 MiB of replies: over the client's 100 MiB message limit as one frame, and over the
    // server's 64 MiB unread limit, so the server also paces them as the client reads.
    const lengths = await Promise.all(Array.from({ length: 120 }, () => client.get('big').then((v) => v?.byteLength)));
    assert.deepEqual(lengths, Array.from({ length: 120 }, () => 1024 * 1024));
    assert.ok(node.server.stats.replyFramesSent - before >= 120 / 7, 'at most 7 values of 1 MiB fit in a frame of 8 MiB');
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('120 concurrent gets of a 1 MiB value succeed against a service that answers later, as a node does', async () => {
  // With a 16 MiB unread limit, reads answered together would pass its double at once if the
  // server served them all before the first answered: it holds back what cannot fit instead.
  const node = await startNode({ unreadRepliesLimitBytes: 16 * 1024 * 1024, wrap: (kv) => new DeferredKv(kv) });
  const client = await connect({ seeds: [node.address], codec: bytesCodec, ...patient });
  try {
    await client.set('big', new Uint8Array(1024 * 1024).fill(3));
    const lengths = await Promise.all(Array.from({ length: 120 }, () => client.get('big').then((v) => v?.byteLength)));
    assert.deepEqual(lengths, Array.from({ length: 120 }, () => 1024 * 1024));
    assert.equal(node.server.stats.repliesRefusedUnread, 0);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('a request too large for the frame limit fails alone and is never sent', async () => {
  const node = await startNode({ limits: { maxFrameBytes: 4096, maxValueBytes: 8192 } });
  const client = await connect({ seeds: [node.address], codec: bytesCodec });
  try {
    const [big, small] = await Promise.allSettled([client.set('big', new Uint8Array(5000)), client.set('small', new Uint8Array(10))]);
    assert.equal(small.status, 'fulfilled');
    assert.ok(big.status === 'rejected' && big.reason instanceof TooLargeError && big.reason.code === 'frame-too-large', String(big.status === 'rejected' && big.reason));
    assert.equal(node.server.stats.connectionsFailed, 0);
    assert.equal(client.status, 'ready');
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('drain waits for calls in flight; close rejects them', async () => {
  let holding: HoldingKv | undefined;
  const node = await startNode({ wrap: (kv) => (holding = new HoldingKv(kv)) });
  const client = await connect({ seeds: [node.address] });
  const statuses: string[] = [];
  client.on('status', (s) => statuses.push(s));
  const inFlight = client.set('hold-a', 'v');
  await holding!.untilHeld(1);
  const drained = client.drain();
  await assert.rejects(client.get('other'), ClientClosedError);
  let drainDone = false;
  void drained.then(() => (drainDone = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(drainDone, false, 'drain waits for the held write');
  holding!.release();
  await inFlight;
  await drained;
  assert.equal(client.status, 'closed');
  assert.deepEqual(statuses, ['closed']);

  const c2 = await connect({ seeds: [node.address] });
  const pending = c2.get('hold-b').catch((e: unknown) => e);
  await holding!.untilHeld(2);
  await c2.close();
  assert.ok((await pending) instanceof ClientClosedError);
  await node.server.close();
});

test('one AbortSignal shared by many calls gets one listener from the client, removed once they settle; aborting fails them all', async () => {
  // Before, each call added its own 'abort' listener: an mget of 11 keys with a signal, or a
  // Promise.all of 11 calls sharing one, made Node print a MaxListenersExceededWarning ("Possible
  // EventTarget memory leak detected") to the application's stderr.
  const node = await startNode();
  const client = await connect({ seeds: [node.address], codec: stringCodec });
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    const shared = new AbortController();
    const calls = Array.from({ length: 100 }, (_, i) => client.set(`shared-${i}`, 'v', { signal: shared.signal }));
    const mget = client.mget(Array.from({ length: 50 }, (_, i) => `shared-${i}`), { signal: shared.signal });
    const settled = Promise.allSettled([...calls, mget]);
    const listeners = getEventListeners(shared.signal, 'abort').length;
    assert.deepEqual((await settled).map((o) => o.status), Array(101).fill('fulfilled'));
    assert.equal(listeners, 1, 'one listener for 150 calls in flight');
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0, 'removed once every call settled');

    const reason = new Error('the request was cancelled');
    const doomed = Array.from({ length: 30 }, (_, i) => client.get(`shared-${i}`, { signal: shared.signal }));
    shared.abort(reason);
    for (const outcome of await Promise.allSettled(doomed)) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(outcome.reason instanceof AbortError);
      assert.equal((outcome.reason as AbortError).cause, reason);
    }
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
    // The client goes on, and an already-aborted signal still fails a new call at once.
    assert.equal(await client.get('shared-1'), 'v');
    await assert.rejects(client.get('shared-1', { signal: shared.signal }), AbortError);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.map((w) => w.name), []);
  } finally {
    process.off('warning', onWarning);
    await client.close();
    await node.server.close({ graceMs: 0 });
  }
});

test('mget resolves with values whatever options object it is given: `detail` is refused, `nearCache` is one of its options', async () => {
  // A GetOptions object holding `detail: true` type-checks as mget's options (it is a variable, not
  // a literal), and mget handed it to each get: it resolved with GetDetail objects where its type
  // says (V | null)[]. `nearCache: false` worked but was not in mget's type.
  const node = await startNode();
  const client = await connect({ seeds: [node.address], codec: stringCodec });
  try {
    await client.set('md:1', 'one');
    const shared: GetOptions = { detail: true, timeoutMs: 1000 };
    await assert.rejects(client.mget(['md:1', 'md:none'], shared), (error: unknown) => error instanceof TypeError && /^mget\(\): `detail` is an option of get\(\) only/.test(error.message));
    assert.deepEqual(await client.mget(['md:1', 'md:none'], { nearCache: false, timeoutMs: 1000 }), ['one', null]);
    const notDetailed: GetOptions = { ...shared, detail: false };
    assert.deepEqual(await client.mget(['md:1'], notDetailed), ['one']);
    // get's own type follows `detail` as far as the compiler knows it: a GetOptions variable may
    // hold `detail: true`, so its result may be a GetDetail (tsc --noEmit checks these lines).
    // @ts-expect-error: the result of get with a GetOptions variable is not only a value
    const typedAsValue: string | null = await client.get('md:1', shared);
    assert.deepEqual(typedAsValue, { value: 'one', miss: null, expiresAtMs: null, acks: 1 });
    const either: string | null | GetDetail<string> = await client.get('md:1', shared);
    const value: string | null = await client.get('md:1', { timeoutMs: 1000 });
    const detail: GetDetail<string> = await client.get('md:1', { detail: true });
    assert.deepEqual([typeof either, value, detail.value], ['object', 'one', 'one']);
  } finally {
    await client.close();
    await node.server.close({ graceMs: 0 });
  }
});
