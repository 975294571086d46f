/**
 * The SDK's read-modify-write helpers (src/client/rmw.ts): request ids, amounts, counters parsed
 * as Redis's string2ll does, and the errors results map to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkRequestId, int64Argument, newRequestId, parseDecimalInt64, rmwError } from '../../src/client/rmw.ts';
import { NotIntegerError, OverflowError, ProtocolError, ShoalError, TooLargeError } from '../../src/client/errors.ts';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

test('request ids are 128 random bits in hex, fresh for every call', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newRequestId(Math.random)));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
});

test("a caller's request id must be 1 to 128 characters", () => {
  assert.equal(checkRequestId('incr', 'order-17'), 'order-17');
  assert.equal(checkRequestId('incr', 'x'.repeat(128)), 'x'.repeat(128));
  for (const bad of ['', 'x'.repeat(129), 17, null]) assert.throws(() => checkRequestId('incr', bad), TypeError);
});

test('amounts: safe integers and 64-bit bigints only', () => {
  assert.equal(int64Argument('incrBy', 5), 5n);
  assert.equal(int64Argument('incrBy', -(2n ** 63n)), -(2n ** 63n));
  for (const bad of [1.5, Number.NaN, Infinity, 2 ** 53, 2n ** 63n, '1' as unknown as number]) {
    assert.throws(() => int64Argument('incrBy', bad), TypeError, String(bad));
  }
});

test('counters parse as Redis does: no plus, no leading zeros, no spaces, within 64 bits', () => {
  const cases: [string, bigint | null][] = [
    ['0', 0n],
    ['42', 42n],
    ['-7', -7n],
    ['9223372036854775807', 2n ** 63n - 1n],
    ['-9223372036854775808', -(2n ** 63n)],
    ['9223372036854775808', null],
    ['-0', null],
    ['+1', null],
    ['007', null],
    [' 1', null],
    ['1 ', null],
    ['1.0', null],
    ['', null],
    ['abc', null],
  ];
  for (const [text, expected] of cases) assert.equal(parseDecimalInt64(ascii(text)), expected, JSON.stringify(text));
  assert.equal(parseDecimalInt64(new Uint8Array([0x92, 0x01, 0x02])), null, 'msgpack bytes are not a counter');
});

test('every 64-bit integer written as decimal text reads back', () => {
  fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => parseDecimalInt64(ascii(n.toString())) === n));
});

test('results map to typed errors', () => {
  assert.ok(rmwError({ kind: 'error', code: 'not-integer' }, 'incr("k")') instanceof NotIntegerError);
  assert.ok(rmwError({ kind: 'error', code: 'overflow' }, 'incr("k")') instanceof OverflowError);
  const tooLarge = rmwError({ kind: 'error', code: 'too-large' }, 'append("k")');
  assert.ok(tooLarge instanceof TooLargeError);
  assert.equal(tooLarge.code, 'too-large');
  const unknown = rmwError({ kind: 'error', code: 'unknown', number: 99 }, 'incr("k")');
  assert.ok(unknown instanceof ProtocolError);
  assert.match(unknown.message, /99/);
  const other = rmwError({ kind: 'error', code: 'no-such-key' }, 'x');
  assert.ok(other instanceof ShoalError);
  assert.equal(other.code, 'no-such-key');
});
