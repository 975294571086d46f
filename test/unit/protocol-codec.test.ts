import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import {
  DEFAULT_WIRE_LIMITS,
  FrameDecodeError,
  FrameType,
  OpCode,
  decodeClientFrame,
  decodeNodeHandshake,
  decodeServerFrame,
  encodeClientFrame,
  encodeNodeHandshake,
  encodeServerFrame,
  negotiateVersion,
  NodeHandshakeError,
  NODE_PROTOCOL_VERSION,
  REPLIES_FRAME_OVERHEAD_BYTES,
  encodeReplies,
  replyBytesBound,
  type Reply,
} from '../../src/protocol/index.ts';

const key = new Uint8Array([1, 2, 3]);
const limits = { ...DEFAULT_WIRE_LIMITS, maxKeyBytes: 4, maxValueBytes: 8, maxBatchRequests: 3, maxFrameBytes: 1000 };

function decodeError(fn: () => unknown): FrameDecodeError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FrameDecodeError, `expected FrameDecodeError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a FrameDecodeError');
}

test('one bad request in a batch is rejected alone, with the reason as its code', () => {
  const wire = encode([
    FrameType.requests,
    [
      [1, OpCode.get, key, null],
      [2, 99, key],
      [3, OpCode.set, key, new Uint8Array(9), 0, null],
      [4, OpCode.get, new Uint8Array(5), null],
      [5, OpCode.set, key, new Uint8Array(1), -1, null],
    ],
  ]);
  const frame = decodeClientFrame(wire, { ...limits, maxBatchRequests: 10 });
  assert.equal(frame.type, 'requests');
  if (frame.type !== 'requests') return;
  assert.deepEqual(
    frame.requests.map((r) => (r.op === 'rejected' ? `${r.id}:${r.code}` : `${r.id}:${r.op}`)),
    ['1:get', '2:unknown-op', '3:value-too-large', '4:key-too-large', '5:bad-request'],
  );
});

test('frame-level problems name their error code', () => {
  assert.equal(decodeError(() => decodeClientFrame(new Uint8Array(1001), limits)).code, 'frame-too-large');
  assert.equal(decodeError(() => decodeClientFrame(new Uint8Array([0xc1]), limits)).code, 'malformed-frame');
  assert.equal(decodeError(() => decodeClientFrame(encode({ hello: 1 }), limits)).code, 'malformed-frame');
  assert.equal(decodeError(() => decodeClientFrame(encode([42]), limits)).code, 'malformed-frame');
  // A request without a readable id cannot be answered, so it breaks the frame.
  assert.equal(decodeError(() => decodeClientFrame(encode([FrameType.requests, [['x', OpCode.get]]]), limits)).code, 'malformed-frame');
  const four = Array.from({ length: 4 }, (_, i) => [i, OpCode.topology]);
  assert.equal(decodeError(() => decodeClientFrame(encode([FrameType.requests, four]), limits)).code, 'batch-too-large');
});

test('trailing elements a later version might append are ignored', () => {
  const frame = decodeClientFrame(encode([FrameType.hello, 1, 2, 'c', null, 'future']), limits);
  assert.deepEqual(frame, { type: 'hello', minVersion: 1, maxVersion: 2, client: 'c', credentials: null });
});

test('a request deadline is the last element, appended only when given; nil reads as none and a bad one rejects that request alone', () => {
  const deadlineMs = 1_767_225_605_000;
  const value = new Uint8Array([9]);
  // Without a deadline a request is byte for byte the older layout.
  assert.deepEqual(
    encodeClientFrame({ type: 'requests', requests: [{ op: 'set', id: 1, key, value, ttlMs: 0, consistency: null }] }),
    encode([FrameType.requests, [[1, OpCode.set, key, value, 0, null]]]),
  );
  assert.deepEqual(
    encodeClientFrame({ type: 'requests', requests: [{ op: 'get', id: 2, key, consistency: 'one', deadlineMs }] }),
    encode([FrameType.requests, [[2, OpCode.get, key, 1, deadlineMs]]]),
  );
  const frame = decodeClientFrame(
    encode([FrameType.requests, [[1, OpCode.set, key, value, 0, null, deadlineMs], [2, OpCode.delete, key, null, null], [3, OpCode.get, key, null, 'soon']]]),
    limits,
  );
  assert.deepEqual(frame, {
    type: 'requests',
    requests: [
      { op: 'set', id: 1, key, value, ttlMs: 0, consistency: null, deadlineMs },
      { op: 'delete', id: 2, key, consistency: null },
      { op: 'rejected', id: 3, code: 'bad-request', message: 'deadlineMs must be an integer from 0 to 9007199254740991' },
    ],
  });
});

test('an unknown push kind and an unknown error number decode without failing', () => {
  assert.deepEqual(decodeServerFrame(encode([FrameType.push, 99, 'later'])), { type: 'push', push: { kind: 'unknown', code: 99 } });
  const frame = decodeServerFrame(encode([FrameType.error, 999, 'new']));
  assert.deepEqual(frame, { type: 'error', code: 'internal', message: 'new' });
});

test('topology owners travel as node indexes and come back as names', () => {
  const topology = {
    version: 'v1',
    partitions: 2,
    replicas: 2,
    nodes: [
      { name: 'a', clientAddress: '127.0.0.1:1', zone: 'z' },
      { name: 'b', clientAddress: '127.0.0.1:2', zone: 'z' },
    ],
    owners: [['a', 'b'], ['b', 'a']],
  };
  const wire = encodeServerFrame({ type: 'replies', replies: [{ id: 7, ok: true, result: { kind: 'topology', topology } }] });
  assert.ok(!new TextDecoder().decode(wire).includes('"a","b"'));
  assert.deepEqual(decodeServerFrame(wire), { type: 'replies', replies: [{ id: 7, ok: true, result: { kind: 'topology', topology } }] });
  assert.throws(
    () => encodeServerFrame({ type: 'replies', replies: [{ id: 1, ok: true, result: { kind: 'topology', topology: { ...topology, owners: [['c'], ['a']] } } }] }),
    /not among its nodes/,
  );
  const badIndex = encode([FrameType.replies, [[1, 0, 3, 'v', 1, 1, [['a', 'x', 'z']], [[1]]]]]);
  assert.equal(decodeError(() => decodeServerFrame(badIndex)).code, 'malformed-frame');
});

test('hello and credentials', () => {
  const hello = { type: 'hello' as const, minVersion: 1, maxVersion: 1, client: 'shoal-js', credentials: { token: 't' } };
  assert.deepEqual(decodeClientFrame(encodeClientFrame(hello)), hello);
  assert.equal(decodeError(() => decodeClientFrame(encode([FrameType.hello, 1, 1, 'c', { token: 5 }]))).code, 'malformed-frame');
});

test('version negotiation picks the highest common version', () => {
  assert.equal(negotiateVersion(1, 5, 1, 3), 3);
  assert.equal(negotiateVersion(2, 2, 1, 3), 2);
  assert.equal(negotiateVersion(4, 6, 1, 3), null);
  assert.equal(negotiateVersion(1, 1, 2, 3), null);
});

test('node handshakes round-trip and reject anything else', () => {
  const h = { version: NODE_PROTOCOL_VERSION, from: '127.0.0.1:9000', lane: 'bulk' as const, credentials: null };
  assert.deepEqual(decodeNodeHandshake(encodeNodeHandshake(h)), h);
  assert.throws(() => decodeNodeHandshake(encodeClientFrame({ type: 'hello', minVersion: 1, maxVersion: 1, client: 'c', credentials: null })), NodeHandshakeError);
  assert.throws(() => decodeNodeHandshake(encodeNodeHandshake({ ...h, version: 99 })), /unsupported node protocol version/);
  assert.throws(() => decodeNodeHandshake(new Uint8Array([0xc1])), NodeHandshakeError);
});

test('replyBytesBound is never less than what a reply takes in a frame', () => {
  const replies: Reply[] = [
    { id: 0xffff_ffff, ok: true, result: { kind: 'value', value: new Uint8Array(70_000), expiresAtMs: 2 ** 52, acks: 2 ** 31 } },
    { id: 1, ok: true, result: { kind: 'value', value: null, expiresAtMs: null, acks: 0 } },
    { id: 0xffff_ffff, ok: true, result: { kind: 'write', acks: 0xffff_ffff } },
    { id: 0xffff_ffff, ok: false, error: { code: 'not-owner', message: 'ü€'.repeat(40_000), topologyVersion: '€'.repeat(100) } },
    { id: 7, ok: true, result: { kind: 'topology', topology: { version: 'v', partitions: 1, replicas: 1, nodes: [{ name: 'n', clientAddress: 'a', zone: 'z' }], owners: [['n']] } } },
  ];
  for (const reply of replies) {
    assert.ok(encodeReplies([reply]).byteLength <= REPLIES_FRAME_OVERHEAD_BYTES + replyBytesBound(reply), JSON.stringify(reply).slice(0, 80));
  }
  const all = encodeReplies(replies).byteLength;
  assert.ok(all <= REPLIES_FRAME_OVERHEAD_BYTES + replies.reduce((n, r) => n + replyBytesBound(r), 0));
});

test('invalidations: the subscription request and the batch push round-trip, keys as bytes (one char per byte)', () => {
  const request = { op: 'invalidations' as const, id: 7, partitions: Uint8Array.of(0b101, 0xff), prefixes: ['user:', '\u00ff'] };
  const decoded = decodeClientFrame(encodeClientFrame({ type: 'requests', requests: [request] }));
  assert.deepEqual(decoded, { type: 'requests', requests: [request] });
  const batch = { heartbeat: false, partitions: [{ partition: 3, epoch: 2, seq: 41, count: 2, keys: [{ key: 'a\u00e9', version: { wallMs: 1_700_000_000_123, logical: 4, node: 4_000_000_000 } }] }, { partition: 9, epoch: 1, seq: 5, count: 0, keys: [] }] };
  assert.deepEqual(decodeServerFrame(encodeServerFrame({ type: 'push', push: { kind: 'invalidations', batch } })), { type: 'push', push: { kind: 'invalidations', batch } });
  assert.throws(() => decodeServerFrame(encode([FrameType.push, 2, false, [[1, 1, 1, 1, ['k', 1, 2]]]])), /come in fours/);
});

test('drain requests and their answers round-trip; an unknown action is rejected alone', () => {
  const requests = decodeClientFrame(
    encodeClientFrame({ type: 'requests', requests: [{ op: 'drain', id: 1, action: 'drain' }, { op: 'drain', id: 2, action: 'undrain' }] }),
    limits,
  );
  assert.ok(requests.type === 'requests');
  assert.deepEqual(requests.requests, [{ op: 'drain', id: 1, action: 'drain' }, { op: 'drain', id: 2, action: 'undrain' }]);
  const bad = decodeClientFrame(encode([FrameType.requests, [[3, OpCode.drain, 'evacuate']]]), limits);
  assert.ok(bad.type === 'requests');
  assert.deepEqual(bad.requests.map((r) => (r.op === 'rejected' ? r.code : r.op)), ['bad-request']);

  const drain = { state: 'draining', partitionsAtStart: 32, partitionsLeft: 5, keysHandedOff: 1200, bytesHandedOff: 96_000, elapsedMs: 850 };
  const reply: Reply = { id: 1, ok: true, result: { kind: 'drain', drain } };
  const decoded = decodeServerFrame(encodeReplies([reply]));
  assert.ok(decoded.type === 'replies');
  assert.deepEqual(decoded.replies, [reply]);
  assert.ok(replyBytesBound(reply) >= encodeReplies([reply]).byteLength - REPLIES_FRAME_OVERHEAD_BYTES);
});
