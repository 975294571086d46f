import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueArena } from '../../src/store/value-arena.ts';

const { MAX_CHUNK_BYTES, MAX_POOLED_COPY_BYTES } = ValueArena;

function bytes(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (seed * 31 + i * 7) & 0xff;
  return out;
}

test('copy returns exactly the stored bytes at every length, small (word loop), pooled and large', () => {
  const arena = new ValueArena();
  const lengths = [...Array.from({ length: 300 }, (_, i) => i), MAX_POOLED_COPY_BYTES, MAX_POOLED_COPY_BYTES + 1, MAX_CHUNK_BYTES, MAX_CHUNK_BYTES + 1];
  const handles = lengths.map((len) => arena.store(bytes(len, len)));
  const copies = lengths.map((len, i) => arena.copy(handles[i]!, len));
  lengths.forEach((len, i) => assert.deepEqual(copies[i], bytes(len, len), `length ${len}`));
  // Writing into one copy changes neither the store nor the copies next to it in the pool.
  for (const copy of copies) copy.fill(0xee);
  lengths.forEach((len, i) => assert.deepEqual(arena.copy(handles[i]!, len), bytes(len, len), `length ${len} after writes to copies`));
});

test('a copy\'s 8-byte padding is zero, not the stale tail of an older value in the same chunk', () => {
  const arena = new ValueArena();
  for (let len = 1; len <= 7; len++) {
    const old = arena.store(new Uint8Array(8).fill(0xff));
    arena.release(old, 8);
    const handle = arena.store(bytes(len, 1));
    assert.equal(handle, old, 'the freed chunk is reused');
    const copy = arena.copy(handle, len);
    assert.deepEqual(copy, bytes(len, 1));
    const pool = new Uint8Array(copy.buffer, copy.byteOffset, (len + 7) & ~7);
    assert.deepEqual([...pool.subarray(len)], new Array(pool.length - len).fill(0), `length ${len}`);
  }
});

test('copies stay bit for bit once the copy loop is optimised, whatever the bytes (64-bit words that read as NaN included)', () => {
  const arena = new ValueArena();
  // Words a float view may rewrite by the spec: NaNs with payloads, negative zero, all ones. V8 on
  // x64 happens to keep a NaN's bits through a Float64Array too (a copy loop over one passes this
  // test), so what this guards is the optimised loop itself: its bounds, its words and its padding
  // (a loop one word short fails it); BigInt64Array is chosen for what the spec promises.
  const patterns = [
    [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80],
    [0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0xff],
  ];
  const values = Array.from({ length: 64 }, (_, v) => {
    const out = new Uint8Array(8 + (v % 120));
    for (let i = 0; i < out.length; i++) out[i] = patterns[v % patterns.length]![i % 8]! ^ (i >= 8 ? (v * 13 + i) & 0xff : 0);
    return out;
  });
  const handles = values.map((value) => arena.store(value));
  // Enough calls for V8 to optimise copy(); a wrong byte at any point fails the test.
  for (let round = 0; round < 2000; round++) {
    const v = round % values.length;
    const copy = arena.copy(handles[v]!, values[v]!.length);
    if (!copy.every((byte, i) => byte === values[v]![i])) assert.fail(`value ${v} differs in round ${round}`);
  }
});
