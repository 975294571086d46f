import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '@msgpack/msgpack';
import {
  DEFAULT_WIRE_LIMITS,
  FrameDecodeError,
  FrameType,
  MAX_FRAME_DEPTH,
  MsgpackScanError,
  OpCode,
  decodeClientFrame,
  decodeNodeHandshake,
  encodeRequests,
  scanMsgpack,
} from '../../src/protocol/index.ts';

const loose = { maxDepth: MAX_FRAME_DEPTH, maxElements: Number.MAX_SAFE_INTEGER };

/** `depth` one-element arrays nested in each other around a nil. */
function nested(depth: number): Uint8Array {
  const bytes = new Uint8Array(depth + 1).fill(0x91);
  bytes[depth] = 0xc0;
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function refusedBeforeDecoding(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeClientFrame(bytes, DEFAULT_WIRE_LIMITS),
    (e: unknown) => e instanceof FrameDecodeError && e.code === 'malformed-frame' && /^frame refused before decoding: /.test(e.message) && pattern.test(e.message),
  );
}

test('the scan passes every kind of msgpack value the decoder reads', () => {
  const values: unknown[] = [
    null, true, false, 0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1,
    -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53 - 1), 0.5, 1e300,
    '', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(65_536),
    new Uint8Array(0), new Uint8Array(255), new Uint8Array(256), new Uint8Array(65_536),
    [], Array.from({ length: 15 }, (_, i) => i), Array.from({ length: 16 }, (_, i) => i), Array.from({ length: 65_536 }, () => null),
    {}, Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])), Object.fromEntries(Array.from({ length: 65_536 }, (_, i) => [i, i])),
    new Date(0), new Date(1_700_000_000_123), new Date(2 ** 40 * 1000),
  ];
  for (const value of values) {
    const bytes = encode(value);
    assert.doesNotThrow(() => scanMsgpack(bytes, loose), `${String(value).slice(0, 40)}`);
  }
  // Every fixext and ext size, by hand (encode() only makes some of them).
  for (const header of [[0xd4, 1], [0xd5, 1], [0xd6, 1], [0xd7, 1], [0xd8, 1], [0xc7, 3, 1], [0xc8, 0, 3, 1], [0xc9, 0, 0, 0, 3, 1]]) {
    const size = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 }[header[0]!] ?? 3;
    assert.doesNotThrow(() => scanMsgpack(concat(new Uint8Array(header), new Uint8Array(size)), loose), `ext 0x${header[0]!.toString(16)}`);
    assert.throws(() => scanMsgpack(concat(new Uint8Array(header), new Uint8Array(size - 1)), loose), MsgpackScanError);
  }
  assert.doesNotThrow(() => scanMsgpack(encode(values), loose));
  assert.equal((decode(encode(values)) as unknown[]).length, values.length);
});

test('the scan refuses broken msgpack: truncated, 0xc1, trailing bytes, counts beyond the bytes', () => {
  const whole = encode([1, 'two', new Uint8Array(3)]);
  for (let cut = 0; cut < whole.byteLength; cut++) assert.throws(() => scanMsgpack(whole.subarray(0, cut), loose), /ends early/);
  assert.throws(() => scanMsgpack(new Uint8Array([0xc1]), loose), /not msgpack/);
  assert.throws(() => scanMsgpack(new Uint8Array([0xc0, 0xc0]), loose), /1 bytes after the end/);
  // An array32 header claiming 4 billion elements is refused at its header.
  assert.throws(() => scanMsgpack(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]), loose), /ends early/);
});

test('the scan counts depth and values', () => {
  assert.doesNotThrow(() => scanMsgpack(nested(MAX_FRAME_DEPTH), loose));
  assert.throws(() => scanMsgpack(nested(MAX_FRAME_DEPTH + 1), loose), /nests deeper than 16 levels/);
  // Empty containers cost nothing, however deep they would be.
  assert.doesNotThrow(() => scanMsgpack(concat(nested(MAX_FRAME_DEPTH).subarray(0, MAX_FRAME_DEPTH), new Uint8Array([0x90])), loose));
  const ten = encode([1, 2, 3, 4, 5, 6, 7, 8, 9]); // the array and its nine values
  assert.doesNotThrow(() => scanMsgpack(ten, { maxDepth: 1, maxElements: 10 }));
  assert.throws(() => scanMsgpack(ten, { maxDepth: 1, maxElements: 9 }), /more than 9 values/);
  assert.throws(() => scanMsgpack(encode({ a: 1 }), { maxDepth: 1, maxElements: 2 }), /more than 2 values/);
});

test('8,000,000 nested one-element arrays in a requests frame are refused before decoding', () => {
  const bytes = concat(new Uint8Array([0x92, FrameType.requests]), nested(8_000_000));
  assert.ok(bytes.byteLength <= DEFAULT_WIRE_LIMITS.maxFrameBytes);
  refusedBeforeDecoding(bytes, /nests deeper than 16 levels/);
});

test('a hello whose credentials map has 900,000 keys is refused before decoding', () => {
  const entries = 900_000;
  const map = new Uint8Array(5 + 2 * entries);
  map.set([0xdf, (entries >>> 24) & 0xff, (entries >>> 16) & 0xff, (entries >>> 8) & 0xff, entries & 0xff]);
  for (let i = 0; i < entries; i++) map.set([i & 0x7f, 0xa0], 5 + 2 * i); // key: a fixint; value: ''
  const bytes = concat(encode([FrameType.hello, 1, 1, 'c']).map((b, i) => (i === 0 ? 0x95 : b)), map);
  assert.ok(bytes.byteLength <= DEFAULT_WIRE_LIMITS.maxFrameBytes);
  refusedBeforeDecoding(bytes, /more than 65552 values/);
});

test('2,000 valid requests each carrying a 3,500-deep trailing field are refused before decoding', () => {
  const key = new Uint8Array([1, 2, 3]);
  const request = concat(encode([1, OpCode.get, key, null]).map((b, i) => (i === 0 ? 0x95 : b)), nested(3500));
  const header = new Uint8Array([0x92, FrameType.requests, 0xdc, 2000 >> 8, 2000 & 0xff]);
  const bytes = concat(header, ...Array.from({ length: 2000 }, () => request));
  assert.ok(bytes.byteLength <= DEFAULT_WIRE_LIMITS.maxFrameBytes);
  refusedBeforeDecoding(bytes, /nests deeper than 16 levels/);
});

test('a full batch of the largest legitimate requests still decodes', () => {
  const value = new Uint8Array(1000);
  const requests = Array.from({ length: DEFAULT_WIRE_LIMITS.maxBatchRequests }, (_, i) => ({
    op: 'set' as const, id: i + 1, key: new Uint8Array([i & 0xff, i >> 8]), value, ttlMs: 2 ** 40, consistency: 'quorum' as const,
  }));
  const frame = decodeClientFrame(encodeRequests(requests), DEFAULT_WIRE_LIMITS);
  assert.equal(frame.type === 'requests' && frame.requests.length, DEFAULT_WIRE_LIMITS.maxBatchRequests);
  // With room for fields a later version appends.
  const future = encode([FrameType.requests, [[1, OpCode.get, new Uint8Array(1), null, ...Array.from({ length: 11 }, () => ({}))]]]);
  assert.equal(decodeClientFrame(future, { ...DEFAULT_WIRE_LIMITS, maxBatchRequests: 1 }).type, 'requests');
});

test('a node handshake is scanned too', () => {
  assert.throws(() => decodeNodeHandshake(concat(new Uint8Array([0x95, 0x10, 2, 0xa1, 0x61, 0]), nested(1000))), /nests deeper than 16 levels/);
});
