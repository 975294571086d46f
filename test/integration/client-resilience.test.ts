import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import {
  ConnectionError,
  OfflineQueueFullError,
  OverloadedError,
  ProtocolError,
  bytesCodec,
  connect,
  type ClientStatus,
} from '../../src/index.ts';
import { FrameType, OpCode, encodeClientFrame, type Reply } from '../../src/protocol/index.ts';
import { CloseCode, MemoryStore, UNREAD_CLOSE_REASON } from '../../src/server/index.ts';
import { silentLogger } from '../../src/runtime/env.ts';
import { CountingKv, DeferredKv, HoldingKv, RawSocket, startNode, until, waitFor } from './client-helpers.ts';

const fastReconnect = { initialDelayMs: 5, maxDelayMs: 20 };

test('the client reconnects after the server restarts, and queued calls go out then', async () => {
  const store = new MemoryStore(Date.now);
  let node = await startNode({ store });
  const port = node.server.port;
  const client = await connect({ seeds: [node.address], reconnect: fastReconnect });
  const statuses: ClientStatus[] = [];
  client.on('status', (s) => statuses.push(s));
  try {
    await client.set('k', 'before');
    const reconnecting = waitFor<ClientStatus>((l) => client.on('status', l), (s) => s === 'reconnecting');
    await node.server.close({ graceMs: 0 });
    await reconnecting;

    // Made while no node is reachable: held in the offline queue.
    const queuedWrite = client.set('k2', 'while down');
    const queuedRead = client.get('k');
    node = await startNode({ store, port });
    assert.equal(await queuedRead, 'before');
    await queuedWrite;
    assert.equal(await client.get('k2'), 'while down');
    assert.deepEqual(statuses, ['reconnecting', 'ready']);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('a lost connection retries reads but fails writes that may have been applied', async () => {
  const store = new MemoryStore(Date.now);
  let holding: HoldingKv | undefined;
  // Reads and writes of hold-* keys are held on this node until its connections drop.
  let node = await startNode({ store, wrap: (kv) => (holding = new HoldingKv(kv)) });
  const port = node.server.port;
  node.kv.store.set(new TextEncoder().encode('hold-r'), encode('stored'), 0);
  const c = await connect({ seeds: [node.address], reconnect: fastReconnect });
  try {
    const read = c.get('hold-r');
    const write = c.set('hold-w', 'x').catch((e: unknown) => e);
    await holding!.untilHeld(2);
    await node.server.close({ graceMs: 0 });
    const error = await write;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.sent, true);
    assert.match(error.message, /may or may not have been applied/);
    // The read is retried once a node is back (this one does not hold calls).
    node = await startNode({ store, port });
    assert.equal(await read, 'stored');
  } finally {
    await c.close();
    await node.server.close();
  }
});

test('with reconnect off, a write sent on the connection that is lost still says it may have been applied', async () => {
  const store = new MemoryStore(Date.now);
  let holding: HoldingKv | undefined;
  const node = await startNode({ store, wrap: (kv) => (holding = new HoldingKv(kv)) });
  const c = await connect({ seeds: [node.address], reconnect: false });
  try {
    const write = c.set('hold-w', 'x').catch((e: unknown) => e);
    await holding!.untilHeld(1);
    await node.server.close({ graceMs: 0 });
    // The last connection is gone for good, so the client shuts down; the write it had sent
    // must not be reported as unsent (an application would then retry a write that may be applied).
    const error = await write;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.sent, true);
    assert.match(error.message, /may or may not have been applied/);
    assert.equal(c.status, 'closed');
  } finally {
    await c.close();
    await node.server.close();
  }
});

test('with the offline queue off or full, calls fail fast', async () => {
  const node = await startNode();
  const noQueue = await connect({ seeds: [node.address], offlineQueue: false, reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
  const smallQueue = await connect({ seeds: [node.address], maxOfflineQueue: 1, reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
  try {
    const down = Promise.all([
      waitFor<ClientStatus>((l) => noQueue.on('status', l), (s) => s === 'reconnecting'),
      waitFor<ClientStatus>((l) => smallQueue.on('status', l), (s) => s === 'reconnecting'),
    ]);
    await node.server.close({ graceMs: 0 });
    await down;
    const error = await noQueue.get('k').catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.sent, false);
    const first = smallQueue.get('a').catch((e: unknown) => e);
    await assert.rejects(smallQueue.get('b'), OfflineQueueFullError);
    await smallQueue.close();
    assert.equal(((await first) as Error).name, 'ClientClosedError');
  } finally {
    await noQueue.close();
    await smallQueue.close();
  }
});

test('connect() rejects with ConnectionError when no seed answers', async () => {
  const node = await startNode();
  const port = node.server.port;
  await node.server.close();
  const error = await connect({ seeds: [`127.0.0.1:${port}`], connectTimeoutMs: 200, reconnect: fastReconnect }).catch((e: unknown) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  assert.ok(error.cause instanceof Error, 'the last dial error is the cause');
  const noRetry = await connect({ seeds: [`127.0.0.1:${port}`], reconnect: false }).catch((e: unknown) => e);
  assert.ok(noRetry instanceof ConnectionError);
});

test('a malformed frame closes only that connection; other clients keep being served', async () => {
  const node = await startNode();
  const client = await connect({ seeds: [node.address] });
  try {
    // The last one: a frame nested a million levels deep, refused without decoding it.
    const deep = new Uint8Array(1_000_003).fill(0x91);
    deep.set([0x92, FrameType.requests]);
    deep[deep.length - 1] = 0xc0;
    for (const bad of [new Uint8Array([0xc1, 0x00]), encode({ not: 'a frame' }), encode([FrameType.requests, [['no id']]]), 'text frame', deep]) {
      const raw = await RawSocket.open(node.server.url);
      raw.send(bad);
      const { code, reason } = await raw.closed;
      assert.equal(code, CloseCode.protocolError);
      const frame = raw.frames.at(-1);
      assert.equal(frame?.type, 'error');
      assert.equal(frame.type === 'error' && frame.code, 'malformed-frame');
      // The close reason says why, as the error frame does (cut to the 123 bytes a reason may have).
      assert.ok(frame.type === 'error' && `malformed-frame: ${frame.message}`.startsWith(reason) && reason.length > 20, reason);
      await client.set('still', 'served');
      assert.equal(await client.get('still'), 'served');
    }
    // A bad request inside a good frame is answered alone, and the connection stays open.
    const raw = await RawSocket.open(node.server.url);
    raw.send(encode([FrameType.requests, [[1, 77], [2, OpCode.get, new TextEncoder().encode('still'), null]]]));
    const replies = await raw.nextFrame();
    assert.equal(replies.type, 'replies');
    if (replies.type === 'replies') {
      assert.deepEqual(replies.replies.map((r) => (r.ok ? r.result.kind : r.error.code)), ['unknown-op', 'value']);
    }
    raw.close();
    assert.equal(node.server.stats.connectionsFailed, 5);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('an oversized frame gets frame-too-large and closes only that connection', async () => {
  const node = await startNode({ limits: { maxFrameBytes: 1024 } });
  const client = await connect({ seeds: [node.address] });
  try {
    const raw = await RawSocket.open(node.server.url);
    raw.send(new Uint8Array(1500));
    assert.equal((await raw.closed).code, CloseCode.messageTooBig);
    assert.deepEqual(raw.frames.at(-1), { type: 'error', code: 'frame-too-large', message: 'frame of 1500 bytes exceeds the limit of 1024 bytes' });
    // Far over the limit, the WebSocket layer cuts the connection without reading the frame.
    const huge = await RawSocket.open(node.server.url);
    huge.send(new Uint8Array(100_000));
    assert.equal((await huge.closed).code, CloseCode.messageTooBig);
    assert.equal(await client.get('k'), null);
    assert.equal(client.status, 'ready');
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('the handshake: hello first, once, in a shared version, within the timeout', async () => {
  const node = await startNode({ helloTimeoutMs: 50 });
  try {
    const early = await RawSocket.open(node.server.url, false);
    early.send(encodeClientFrame({ type: 'requests', requests: [{ op: 'topology', id: 1 }] }));
    await early.closed;
    assert.deepEqual(early.frames.map((f) => f.type === 'error' && f.code), ['hello-required']);

    const twice = await RawSocket.open(node.server.url);
    twice.send(encodeClientFrame({ type: 'hello', minVersion: 1, maxVersion: 1, client: 'x', credentials: null }));
    await twice.closed;
    assert.equal(twice.frames.at(-1)?.type === 'error' && twice.frames.at(-1)?.type, 'error');

    const silent = await RawSocket.open(node.server.url, false);
    assert.equal((await silent.closed).code, CloseCode.policyViolation);
    assert.deepEqual(silent.frames.map((f) => f.type === 'error' && f.code), ['hello-timeout']);

    const future = await RawSocket.open(node.server.url, false);
    future.send(encodeClientFrame({ type: 'hello', minVersion: 7, maxVersion: 9, client: 'x', credentials: null }));
    await future.closed;
    assert.deepEqual(future.frames.map((f) => f.type === 'error' && f.code), ['unsupported-version']);
  } finally {
    await node.server.close();
  }
});

test('a server that refuses the protocol version is not redialed', async () => {
  // A server speaking only a future version is simulated by a raw ws server answering hello with an error.
  const { WebSocketServer } = await import('ws');
  const { encodeServerFrame, CLIENT_ENDPOINT_PATH } = await import('../../src/protocol/index.ts');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: CLIENT_ENDPOINT_PATH });
  await new Promise((resolve) => wss.once('listening', resolve));
  let dials = 0;
  wss.on('connection', (socket) => {
    dials++;
    socket.once('message', () => {
      socket.send(encodeServerFrame({ type: 'error', code: 'unsupported-version', message: 'this server speaks 9 only' }));
      socket.close(CloseCode.protocolError);
    });
  });
  const port = (wss.address() as { port: number }).port;
  const error = await connect({ seeds: [`127.0.0.1:${port}`], reconnect: fastReconnect }).catch((e: unknown) => e);
  assert.ok(error instanceof ConnectionError, String(error));
  const cause = (error.cause as Error).cause;
  assert.ok(cause instanceof ProtocolError, String(cause));
  assert.equal(cause.code, 'unsupported-version');
  assert.equal(dials, 1);
  await new Promise((resolve) => wss.close(resolve));
});

test('requests beyond the per-connection in-flight limit are answered overloaded', async () => {
  let holding: HoldingKv | undefined;
  const node = await startNode({ maxInFlightPerConnection: 2, wrap: (kv) => (holding = new HoldingKv(kv)) });
  const client = await connect({ seeds: [node.address] });
  try {
    const held = [client.get('hold-1'), client.get('hold-2')];
    const third = await client.get('hold-3').catch((e: unknown) => e);
    assert.ok(third instanceof OverloadedError, String(third));
    holding!.release();
    assert.deepEqual(await Promise.all(held), [null, null]);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('a client that sends but never reads its replies is closed, and the server stays bounded', async () => {
  const limit = 8 * 1024 * 1024;
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (_obj: object, msg?: string) => warnings.push(msg ?? '') };
  let served = 0;
  const node = await startNode({ unreadRepliesLimitBytes: limit, unreadRepliesStallMs: 50, log, wrap: (kv) => new CountingKv(kv, () => served++) });
  const client = await connect({ seeds: [node.address], codec: bytesCodec });
  try {
    await client.set('big', new Uint8Array(1024 * 1024).fill(7));
    const raw = await RawSocket.open(node.server.url);
    const tcp = (raw.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause(); // never reads until the server has given up on it
    const key = new TextEncoder().encode('big');
    const before = served;
    for (let id = 1; id <= 120; id++) raw.send(encode([FrameType.requests, [[id, OpCode.get, key, null]]]));
    await until(() => node.server.stats.connectionsClosedUnread === 1, 'the non-reader to be closed');
    // Requests wait once 8 MiB of replies are unread: the server computed the replies the limit
    // and the loopback socket buffers hold (tens of MiB at most), not all 120.
    assert.ok(served - before < 120, `served ${served - before} of 120 gets for a client that reads nothing`);
    assert.deepEqual(warnings, ['closing a client that does not read its replies']);
    tcp.resume();
    assert.deepEqual(await raw.closed, { code: CloseCode.policyViolation, reason: UNREAD_CLOSE_REASON });
    await until(() => node.server.connectionCount === 1, 'the session to be released');
    // Everyone else is still served.
    assert.equal((await client.get('big'))?.length, 1024 * 1024);
  } finally {
    await client.close();
    await node.server.close();
  }
});

test('a burst of reads answered at once cannot make a connection hold much more than twice the unread limit', async () => {
  const limit = 4 * 1024 * 1024;
  let deferred: DeferredKv | undefined;
  const node = await startNode({ unreadRepliesLimitBytes: limit, unreadRepliesStallMs: 60_000, wrap: (kv) => (deferred = new DeferredKv(kv)) });
  try {
    const small = new TextEncoder().encode('small');
    const big = new TextEncoder().encode('big');
    node.kv.store.set(small, new Uint8Array(10), 0);
    node.kv.store.set(big, new Uint8Array(1024 * 1024), 0);
    const raw = await RawSocket.open(node.server.url);
    const replies = (): Reply[] => raw.frames.flatMap((f) => (f.type === 'replies' ? f.replies : []));
    // 200 small reads teach the server that this connection's replies are small...
    raw.send(encode([FrameType.requests, Array.from({ length: 200 }, (_, i) => [i + 1, OpCode.get, small, null])]));
    await until(() => replies().length === 200, 'the small replies');
    // ...so 60 reads of 1 MiB are all served at once, and answer together while the client does not read.
    const tcp = (raw.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();
    raw.send(encode([FrameType.requests, Array.from({ length: 60 }, (_, i) => [1001 + i, OpCode.get, big, null])]));
    await until(() => deferred!.answered === 260, 'the big reads to be answered');
    tcp.resume();
    await until(() => replies().length === 260, 'every reply');
    const bigReplies = replies().filter((r) => r.id > 1000);
    const values = bigReplies.filter((r) => r.ok).length;
    const refused = bigReplies.filter((r) => !r.ok && r.error.code === 'overloaded').length;
    assert.equal(values + refused, 60);
    assert.ok(refused > 0 && values < 60, `${values} values, ${refused} refused`);
    assert.equal(node.server.stats.repliesRefusedUnread, refused);
    raw.close();
  } finally {
    await node.server.close();
  }
});

test('a client reading replies slower than they are made is served in frames no larger than the limit', async () => {
  const maxFrameBytes = 64 * 1024;
  const node = await startNode({ limits: { maxFrameBytes, maxValueBytes: 16 * 1024 }, unreadRepliesLimitBytes: 256 * 1024 });
  try {
    node.kv.store.set(new TextEncoder().encode('v'), new Uint8Array(16 * 1024).fill(1), 0);
    // A value the node holds but cannot fit in a frame (stored under other limits).
    node.kv.store.set(new TextEncoder().encode('huge'), new Uint8Array(maxFrameBytes), 0);
    const raw = await RawSocket.open(node.server.url);
    const sizes: number[] = [];
    raw.socket.on('message', (data: Buffer) => sizes.push(data.byteLength));
    const key = new TextEncoder().encode('v');
    // 4 MiB of replies from one frame of 256 gets: over the unread limit, so served as the client reads.
    raw.send(encode([FrameType.requests, [[1, OpCode.get, new TextEncoder().encode('huge'), null], ...Array.from({ length: 256 }, (_, i) => [i + 2, OpCode.get, key, null])]]));
    await until(() => raw.frames.flatMap((f) => (f.type === 'replies' ? f.replies : [])).length === 257, 'all 257 replies');
    const replies = raw.frames.flatMap((f) => (f.type === 'replies' ? f.replies : []));
    assert.ok(sizes.length >= 64, `${sizes.length} frames`);
    assert.ok(Math.max(...sizes) <= maxFrameBytes, `largest frame ${Math.max(...sizes)} bytes`);
    const huge = replies.find((r) => r.id === 1);
    assert.ok(huge !== undefined && !huge.ok && huge.error.code === 'value-too-large', JSON.stringify(huge));
    assert.match(huge.error.message, /does not fit in a frame of 65536 bytes/);
    assert.ok(replies.filter((r) => r.id !== 1).every((r) => r.ok && r.result.kind === 'value' && r.result.value?.byteLength === 16 * 1024));
    raw.close();
  } finally {
    await node.server.close();
  }
});

test('request id 0 is refused, and a duplicate of an unanswered id closes the connection', async () => {
  let holding: HoldingKv | undefined;
  const node = await startNode({ wrap: (kv) => (holding = new HoldingKv(kv)) });
  try {
    const raw = await RawSocket.open(node.server.url);
    raw.send(encode([FrameType.requests, [[0, OpCode.topology]]]));
    const zero = await raw.nextFrame(1);
    assert.deepEqual(zero.type === 'replies' && zero.replies.map((r) => !r.ok && r.error.code), ['bad-request']);
    const key = new TextEncoder().encode('hold-1');
    raw.send(encode([FrameType.requests, [[7, OpCode.get, key, null]]]));
    await holding!.untilHeld(1);
    raw.send(encode([FrameType.requests, [[7, OpCode.topology]]]));
    assert.equal((await raw.closed).code, CloseCode.protocolError);
    const last = raw.frames.at(-1);
    assert.deepEqual(last, { type: 'error', code: 'malformed-frame', message: 'request id 7 is already in flight on this connection' });
    // Once answered, an id may be used again.
    const again = await RawSocket.open(node.server.url);
    again.send(encode([FrameType.requests, [[7, OpCode.topology]]]));
    await again.nextFrame(1);
    again.send(encode([FrameType.requests, [[7, OpCode.topology]]]));
    const second = await again.nextFrame(2);
    assert.equal(second.type === 'replies' && second.replies[0]?.ok, true);
    again.close();
  } finally {
    holding?.release();
    await node.server.close();
  }
});
