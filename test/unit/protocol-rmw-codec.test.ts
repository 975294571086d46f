/**
 * The read-modify-write frames of the client wire (op 6, result kind 5): round trips of every
 * operation and result, 64-bit integers kept exact, and bad bodies refused one request at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encode } from '@msgpack/msgpack';
import {
  DEFAULT_WIRE_LIMITS,
  FrameDecodeError,
  MAX_RMW_REQUEST_ID_LENGTH,
  OpCode,
  REPLIES_FRAME_OVERHEAD_BYTES,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeReplies,
  encodeServerFrame,
  replyBytesBound,
  type Reply,
  type RmwRequest,
  type WireRmwExpiry,
  type WireRmwOp,
  type WireRmwResult,
} from '../../src/protocol/index.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const id = fc.integer({ min: 1, max: 0xffff_ffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const safeUint = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
const consistency = fc.constantFrom(null, 'one' as const, 'quorum' as const, 'all' as const);

const expiry: fc.Arbitrary<WireRmwExpiry> = fc.oneof(
  fc.constant({ kind: 'keep' as const }),
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('at' as const), atMs: safeUint }),
  fc.record({ kind: fc.constant('in' as const), ttlMs: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }),
);

/** An operation with the number of keys it takes. */
const opWithKeys: fc.Arbitrary<[WireRmwOp, number]> = fc.oneof(
  fc.record({ op: fc.constant('incrby' as const), by: int64 }).map((o) => [o, 1] as [WireRmwOp, number]),
  fc.record({ op: fc.constant('incrbyfloat' as const), by: fc.string({ maxLength: 30 }) }).map((o) => [o, 1] as [WireRmwOp, number]),
  fc.record({ op: fc.constant('append' as const), value: bytes(64) }).map((o) => [o, 1] as [WireRmwOp, number]),
  fc.record({ op: fc.constant('setrange' as const), offset: safeUint, value: bytes(64) }).map((o) => [o, 1] as [WireRmwOp, number]),
  fc
    .record({ op: fc.constant('set' as const), value: bytes(64), expiry, condition: fc.constantFrom('always' as const, 'nx' as const, 'xx' as const), get: fc.boolean() })
    .map((o) => [o, 1] as [WireRmwOp, number]),
  fc.constant([{ op: 'getdel' }, 1] as [WireRmwOp, number]),
  fc.record({ op: fc.constant('getex' as const), expiry: fc.option(expiry, { nil: null }) }).map((o) => [o, 1] as [WireRmwOp, number]),
  fc
    .record({ op: fc.constant('expire' as const), atMs: safeUint, condition: fc.constantFrom('always' as const, 'nx' as const, 'xx' as const, 'gt' as const, 'lt' as const) })
    .map((o) => [o, 1] as [WireRmwOp, number]),
  fc.constant([{ op: 'persist' }, 1] as [WireRmwOp, number]),
  fc.integer({ min: 1, max: 5 }).map((n) => [{ op: 'del' }, n] as [WireRmwOp, number]),
  fc.record({ op: fc.constant('rename' as const), nx: fc.boolean() }).map((o) => [o, 2] as [WireRmwOp, number]),
  fc.array(bytes(16), { minLength: 1, maxLength: 4 }).map((values) => [{ op: 'msetnx', values }, values.length] as [WireRmwOp, number]),
  fc.record({ op: fc.constant('copy' as const), replace: fc.boolean() }).map((o) => [o, 2] as [WireRmwOp, number]),
);

/** The keys of an operation: a copy's two differ (a copy to itself is refused). */
const keysFor = (rmw: WireRmwOp, keyCount: number): fc.Arbitrary<Uint8Array[]> =>
  rmw.op === 'copy'
    ? fc.uniqueArray(bytes(32), { minLength: 2, maxLength: 2, selector: (key) => Array.from(key).join(',') })
    : fc.array(bytes(32), { minLength: keyCount, maxLength: keyCount });

const rmwRequest: fc.Arbitrary<RmwRequest> = opWithKeys.chain(([rmw, keyCount]) =>
  fc.record({
    op: fc.constant('rmw' as const),
    id,
    keys: keysFor(rmw, keyCount),
    rmw: fc.constant(rmw),
    requestId: fc.option(fc.string({ minLength: 1, maxLength: MAX_RMW_REQUEST_ID_LENGTH }), { nil: null }),
    consistency,
  }),
);

const rmwResult: fc.Arbitrary<WireRmwResult> = fc.oneof(
  fc.constant({ kind: 'ok' as const }),
  fc.record({ kind: fc.constant('integer' as const), value: int64 }),
  fc.record({ kind: fc.constant('bulk' as const), value: fc.option(bytes(128), { nil: null }) }),
  fc.record({
    kind: fc.constant('error' as const),
    code: fc.constantFrom('not-integer' as const, 'overflow' as const, 'not-float' as const, 'nan-or-infinity' as const, 'no-such-key' as const, 'too-large' as const),
  }),
);

const rmwReply: fc.Arbitrary<Reply> = fc.record({ id, ok: fc.constant(true as const), result: fc.record({ kind: fc.constant('rmw' as const), result: rmwResult }) });

test('rmw requests of every operation round-trip through the codec', () => {
  fc.assert(
    fc.property(fc.array(rmwRequest, { minLength: 1, maxLength: 8 }), (requests) => {
      const frame = { type: 'requests' as const, requests };
      // structuredClone: fast-check builds null-prototype records; decoded frames are plain objects.
      assert.deepEqual(decodeClientFrame(encodeClientFrame(frame)), structuredClone(frame));
    }),
  );
});

test('rmw replies round-trip, and replyBytesBound bounds their encoded size', () => {
  fc.assert(
    fc.property(fc.array(rmwReply, { minLength: 1, maxLength: 8 }), (replies) => {
      const frame = { type: 'replies' as const, replies };
      assert.deepEqual(decodeServerFrame(encodeServerFrame(frame)), structuredClone(frame));
      for (const reply of replies) {
        assert.ok(encodeReplies([reply]).byteLength - REPLIES_FRAME_OVERHEAD_BYTES <= replyBytesBound(reply));
      }
    }),
  );
});

test('64-bit integers stay exact both ways (msgpack numbers would round past 2^53)', () => {
  for (const by of [INT64_MAX, INT64_MIN, 2n ** 53n + 1n, -1n, 0n]) {
    const frame = decodeClientFrame(encodeClientFrame({ type: 'requests', requests: [{ op: 'rmw', id: 1, keys: [new Uint8Array([1])], rmw: { op: 'incrby', by }, requestId: null, consistency: null }] }));
    assert.equal(frame.type === 'requests' && frame.requests[0]!.op === 'rmw' && frame.requests[0]!.rmw.op === 'incrby' ? frame.requests[0]!.rmw.by : null, by);
    const reply = decodeServerFrame(encodeServerFrame({ type: 'replies', replies: [{ id: 1, ok: true, result: { kind: 'rmw', result: { kind: 'integer', value: by } } }] }));
    assert.deepEqual(reply, { type: 'replies', replies: [{ id: 1, ok: true, result: { kind: 'rmw', result: { kind: 'integer', value: by } } }] });
  }
});

test('an rmw error number a newer node adds reads as unknown, with its number', () => {
  const wire = encode([4, [[7, 0, 5, 4, 99]]]);
  assert.deepEqual(decodeServerFrame(wire), { type: 'replies', replies: [{ id: 7, ok: true, result: { kind: 'rmw', result: { kind: 'error', code: 'unknown', number: 99 } } }] });
});

const limits = { ...DEFAULT_WIRE_LIMITS, maxKeyBytes: 8, maxValueBytes: 16 };
const key = new Uint8Array([1, 2]);

/** Decodes a batch of one bad rmw request between two good gets: the bad one alone is refused. */
function refusal(body: unknown[]): { code: string; message: string } {
  const wire = encode([3, [[1, OpCode.get, key, null], [2, OpCode.rmw, ...body], [3, OpCode.get, key, null]]]);
  const frame = decodeClientFrame(wire, limits);
  assert.equal(frame.type, 'requests');
  if (frame.type !== 'requests') throw new Error('unreachable');
  assert.deepEqual(frame.requests.map((r) => r.op), ['get', 'rejected', 'get']);
  const rejected = frame.requests[1]!;
  if (rejected.op !== 'rejected') throw new Error('unreachable');
  assert.equal(rejected.id, 2);
  return { code: rejected.code, message: rejected.message };
}

test('a bad rmw request is refused on its own; the rest of the batch decodes', () => {
  const incr = [1, '1'];
  assert.equal(refusal([[key], incr, null]).code, 'bad-request', 'too few fields');
  assert.match(refusal([[], incr, null, null]).message, /at least one key/);
  assert.match(refusal([[key, key], incr, null, null]).message, /incrby takes 1 key/);
  assert.match(refusal([[key], [11, false], null, null]).message, /rename takes 2 key/);
  assert.match(refusal([[key], [13, false], null, null]).message, /copy takes 2 key/);
  assert.match(refusal([[key, key], [13, true], null, null]).message, /copy needs two different keys/);
  assert.match(refusal([[key, new Uint8Array(2)], [13, 1], null, null]).message, /copy replace must be a boolean/);
  assert.match(refusal([[key, key], [12, [new Uint8Array(1)]], null, null]).message, /msetnx takes 1 key/);
  assert.match(refusal([[key], [1, '9223372036854775808'], null, null]).message, /64-bit integer/);
  assert.match(refusal([[key], [1, 5], null, null]).message, /incrby amount must be a string/);
  assert.match(refusal([[key], [1, '007'], null, null]).message, /64-bit integer/);
  assert.match(refusal([[key], [5, new Uint8Array(1), [3, 0], 0, false], null, null]).message, /ttlMs must be positive/);
  assert.match(refusal([[key], [5, new Uint8Array(1), [1], 3, false], null, null]).message, /condition/);
  assert.match(refusal([[key], [8, 5, 5], null, null]).message, /condition/);
  assert.match(refusal([[key], [5, new Uint8Array(1), [9], 0, false], null, null]).message, /expiry kind/);
  assert.match(refusal([[key], incr, '', null]).message, /request id/);
  assert.match(refusal([[key], incr, 'x'.repeat(MAX_RMW_REQUEST_ID_LENGTH + 1), null]).message, /request id/);
  assert.equal(refusal([[key], incr, null, 9]).code, 'bad-request');
  assert.equal(refusal([[key], [99], null, null]).code, 'unknown-op');
  assert.equal(refusal([[new Uint8Array(9)], incr, null, null]).code, 'key-too-large');
  assert.equal(refusal([[key], [3, new Uint8Array(17)], null, null]).code, 'value-too-large');
  assert.equal(refusal([[key, key], [12, [new Uint8Array(1), new Uint8Array(17)]], null, null]).code, 'value-too-large');
});

test('rmw frames of the wrong shape are rejected with FrameDecodeError, never another exception', () => {
  const junk = fc.oneof(fc.constantFrom(null, true, 0, 1, 3, 12, -1, 1.5, '1', 'x'), fc.uint8Array({ maxLength: 4 }), fc.array(fc.constantFrom(null, 0, 1, 2, 3, '5', true), { maxLength: 5 }));
  fc.assert(
    fc.property(fc.array(junk, { maxLength: 6 }), fc.array(junk, { maxLength: 6 }), (body, result) => {
      for (const decode of [() => decodeClientFrame(encode([3, [[1, OpCode.rmw, ...body]]]), limits), () => decodeServerFrame(encode([4, [[1, 0, 5, ...result]]]))]) {
        try {
          decode();
        } catch (error) {
          if (!(error instanceof FrameDecodeError)) throw error;
        }
      }
    }),
    { numRuns: 1000 },
  );
});

test('a full batch of one-key rmw sets with an expiry fits the decoding budget of a frame', () => {
  const set: WireRmwOp = { op: 'set', value: new Uint8Array(1), expiry: { kind: 'in', ttlMs: 1000 }, condition: 'nx', get: true };
  const requests: RmwRequest[] = Array.from({ length: DEFAULT_WIRE_LIMITS.maxBatchRequests }, (_, i) => ({ op: 'rmw', id: i + 1, keys: [new Uint8Array([i & 0xff])], rmw: set, requestId: 'r'.repeat(32), consistency: 'all' }));
  const frame = decodeClientFrame(encodeClientFrame({ type: 'requests', requests }));
  assert.equal(frame.type === 'requests' ? frame.requests.filter((r) => r.op === 'rmw').length : 0, requests.length);
});
