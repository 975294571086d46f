import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encode } from '@msgpack/msgpack';
import {
  DEFAULT_WIRE_LIMITS,
  FrameDecodeError,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  type ClientFrame,
  type Request,
  type ServerFrame,
  type WireTopology,
} from '../../src/protocol/index.ts';
import { ERROR_CODE_NUMBERS, type ErrorCode } from '../../src/protocol/error-codes.ts';

const id = fc.integer({ min: 0, max: 0xffff_ffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const consistency = fc.constantFrom(null, 'one' as const, 'quorum' as const, 'all' as const);
const errorCode = fc.constantFrom(...(Object.keys(ERROR_CODE_NUMBERS) as ErrorCode[]));
const safeUint = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

const request: fc.Arbitrary<Request> = fc.oneof(
  fc.record({ op: fc.constant('get' as const), id, key: bytes(64), consistency }),
  fc.record({ op: fc.constant('set' as const), id, key: bytes(64), value: bytes(256), ttlMs: safeUint, consistency }),
  fc.record({ op: fc.constant('delete' as const), id, key: bytes(64), consistency }),
  fc.record({ op: fc.constant('topology' as const), id }),
);

const clientFrame: fc.Arbitrary<ClientFrame> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    minVersion: fc.nat(10),
    maxVersion: fc.nat(10),
    client: fc.string(),
    credentials: fc.option(fc.dictionary(fc.string({ minLength: 1 }).filter((k) => k !== '__proto__'), fc.string()), { nil: null }),
  }),
  fc.record({ type: fc.constant('requests' as const), requests: fc.array(request, { maxLength: 20 }) }),
);

const topology: fc.Arbitrary<WireTopology> = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 })
  .chain((names) =>
    fc.record({
      version: fc.string(),
      partitions: fc.constant(8),
      replicas: fc.integer({ min: 1, max: 3 }),
      nodes: fc.constant(names.map((name, i) => ({ name, clientAddress: `127.0.0.1:${7000 + i}`, zone: `z${i % 2}` }))),
      owners: fc.array(fc.subarray(names, { minLength: 1 }), { minLength: 8, maxLength: 8 }),
    }),
  );

const serverFrame: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({
    type: fc.constant('welcome' as const),
    version: fc.nat(10),
    node: fc.string(),
    topologyVersion: fc.string(),
    limits: fc.record({ maxFrameBytes: safeUint, maxValueBytes: safeUint, maxKeyBytes: safeUint, maxBatchRequests: safeUint }),
  }),
  fc.record({
    type: fc.constant('replies' as const),
    replies: fc.array(
      fc.oneof(
        fc.record({
          id,
          ok: fc.constant(true as const),
          result: fc.oneof(
            fc.record({ kind: fc.constant('value' as const), value: fc.option(bytes(128), { nil: null }), expiresAtMs: fc.option(safeUint, { nil: null }), acks: fc.nat(5) }),
            fc.record({ kind: fc.constant('write' as const), acks: fc.nat(5) }),
            fc.record({ kind: fc.constant('topology' as const), topology }),
          ),
        }),
        fc.record({
          id,
          ok: fc.constant(false as const),
          error: fc.record({ code: errorCode, message: fc.string(), topologyVersion: fc.option(fc.string(), { nil: null }) }),
        }),
      ),
      { maxLength: 10 },
    ),
  }),
  fc.record({ type: fc.constant('push' as const), push: fc.record({ kind: fc.constant('ring-changed' as const), topologyVersion: fc.string() }) }),
  fc.record({ type: fc.constant('error' as const), code: errorCode, message: fc.string() }),
);

test('client frames round-trip through the codec', () => {
  fc.assert(
    fc.property(clientFrame, (frame) => {
      // structuredClone: fast-check builds null-prototype records; decoded frames are plain objects.
      assert.deepEqual(decodeClientFrame(encodeClientFrame(frame)), structuredClone(frame));
    }),
  );
});

test('server frames round-trip through the codec', () => {
  fc.assert(
    fc.property(serverFrame, (frame) => {
      assert.deepEqual(decodeServerFrame(encodeServerFrame(frame)), structuredClone(frame));
    }),
  );
});

/** Decoding garbage either yields a frame or throws FrameDecodeError: never another exception. */
function decodesOrRejects(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof FrameDecodeError)) throw error;
  }
}

const limits = { ...DEFAULT_WIRE_LIMITS, maxFrameBytes: 4096, maxKeyBytes: 16, maxValueBytes: 64, maxBatchRequests: 8 };

test('random bytes never crash the decoders', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (garbage) => {
      decodesOrRejects(() => decodeClientFrame(garbage, limits));
      decodesOrRejects(() => decodeServerFrame(garbage));
    }),
    { numRuns: 2000 },
  );
});

// Well-formed msgpack of the wrong shape reaches the validators, where random bytes rarely get.
const shapedGarbage = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, 0, 1, 2, 3, 4, 5, 6, -1, 0x10, 0xffff_ffff + 1, 1.5),
    fc.string({ maxLength: 4 }),
    fc.uint8Array({ maxLength: 80 }),
    fc.array(tie('value'), { maxLength: 7 }),
    fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;
const frameLike = fc.tuple(fc.integer({ min: 0, max: 7 }), fc.array(shapedGarbage, { maxLength: 8 })).map(([t, rest]) => [t, ...rest]);

test('msgpack values of the wrong shape are rejected with FrameDecodeError', () => {
  fc.assert(
    fc.property(fc.oneof(frameLike, shapedGarbage), (value) => {
      const wire = encode(value);
      decodesOrRejects(() => decodeClientFrame(wire, limits));
      decodesOrRejects(() => decodeServerFrame(wire));
    }),
    { numRuns: 3000 },
  );
});

test('a decoded client frame respects the limits it was decoded with', () => {
  fc.assert(
    fc.property(fc.oneof(frameLike, shapedGarbage), (value) => {
      let frame: ClientFrame;
      try {
        frame = decodeClientFrame(encode(value), limits);
      } catch (error) {
        if (error instanceof FrameDecodeError) return;
        throw error;
      }
      if (frame.type !== 'requests') return;
      assert.ok(frame.requests.length <= limits.maxBatchRequests);
      for (const r of frame.requests) {
        if (r.op === 'get' || r.op === 'set' || r.op === 'delete') assert.ok(r.key.byteLength <= limits.maxKeyBytes);
        if (r.op === 'set') assert.ok(r.value.byteLength <= limits.maxValueBytes);
      }
    }),
    { numRuns: 2000 },
  );
});
