// The SDK's built-in codecs (src/client/value-codec.ts): each takes only its own type, and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesCodec, msgpackCodec, stringCodec } from '../../src/client/value-codec.ts';

test('stringCodec stores strings only; anything else is a TypeError, not its String()', () => {
  assert.deepEqual(stringCodec.encode('héllo'), new TextEncoder().encode('héllo'));
  assert.equal(stringCodec.decode(stringCodec.encode('')), '');
  for (const value of [{ a: 1 }, undefined, null, 42, true, 5n, ['a'], new Uint8Array([1])]) {
    assert.throws(() => stringCodec.encode(value as unknown as string), { name: 'TypeError', message: /^stringCodec stores string values only, got / }, String(value));
  }
});

test('bytesCodec stores Uint8Array values only; msgpackCodec reports what it cannot encode', () => {
  assert.throws(() => bytesCodec.encode('text' as unknown as Uint8Array), TypeError);
  assert.throws(() => msgpackCodec.encode(() => 1), /Unrecognized object/);
});
