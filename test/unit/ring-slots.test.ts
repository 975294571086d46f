import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PARTITION_COUNT,
  InvalidPartitionCountError,
  MAX_PARTITION_COUNT,
  SLOT_COUNT,
  crc16,
  hashTagRange,
  keySlot,
  partitionOf,
  partitionSlotRange,
  slotToPartition,
} from '../../src/ring/index.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('crc16 is CRC-16/XMODEM, as Redis crc16.c', () => {
  assert.equal(crc16(utf8('123456789')), 0x31c3); // the check value of the XMODEM variant (and Redis's own test)
  assert.equal(crc16(utf8('')), 0);
  assert.equal(crc16(utf8('xx123456789yy'), 2, 11), 0x31c3);
});

test('key slots equal redis-server 7.0 CLUSTER KEYSLOT', () => {
  // Each value was asked of a cluster-enabled redis-server 7.0.15 with CLUSTER KEYSLOT.
  const vectors: [string, number][] = [
    ['123456789', 12739],
    ['', 0],
    ['foo', 12182],
    ['bar', 5061],
    ['hello', 866],
    ['user:1000', 1649],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['user1000', 3443],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
    ['{}', 15257],
    ['{', 4092],
    ['}{a}', 15495],
    ['é', 10180],
  ];
  for (const [key, slot] of vectors) {
    assert.equal(keySlot(key), slot, JSON.stringify(key));
    assert.equal(keySlot(utf8(key)), slot, `${JSON.stringify(key)} as bytes`);
  }
});

test('the hash tag is the bytes between the first { and the first } after it, when not empty', () => {
  assert.deepEqual(hashTagRange(utf8('abc')), [0, 3]);
  assert.deepEqual(hashTagRange(utf8('{ab}c')), [1, 3]);
  assert.deepEqual(hashTagRange(utf8('x{}{y}')), [0, 6]); // empty first tag: the whole key
  assert.deepEqual(hashTagRange(utf8('x{{y}}')), [2, 4]); // the tag is "{y"
  assert.deepEqual(hashTagRange(utf8('x{y')), [0, 3]); // no closing brace
  assert.deepEqual(hashTagRange(utf8('x}{y}')), [3, 4]);
  // Only the first `length` bytes count (a reused scratch buffer may hold more).
  assert.deepEqual(hashTagRange(utf8('ab{c}'), 3), [0, 3]);
});

test('keys with one hash tag share a slot, hence a partition, for every partition count', () => {
  for (let i = 0; i < 200; i++) {
    const tag = `t${i}`;
    const slot = keySlot(`{${tag}}`);
    for (const key of [`{${tag}}:a`, `x{${tag}}y`, `${'z'.repeat(i % 7)}{${tag}}{other}`]) {
      assert.equal(keySlot(key), slot, key);
      for (const q of [1, 3, 1000, 1024, 16384]) assert.equal(partitionOf(key, q), partitionOf(`{${tag}}`, q));
    }
  }
});

test('with the default 1024 partitions a partition is slot >> 4', () => {
  assert.equal(DEFAULT_PARTITION_COUNT, 1024);
  for (let slot = 0; slot < SLOT_COUNT; slot++) assert.equal(slotToPartition(slot, 1024), slot >> 4);
  for (const key of ['123456789', 'foo', 'user:1000', '{a}b']) assert.equal(partitionOf(key), keySlot(key) >> 4);
});

test('every partition holds one contiguous, non-empty run of slots, and the runs cover all slots', () => {
  for (const q of [1, 2, 3, 7, 1000, 1024, 5000, 16383, 16384]) {
    let next = 0;
    for (let p = 0; p < q; p++) {
      const [first, last] = partitionSlotRange(p, q);
      assert.equal(first, next, `q=${q} p=${p}`);
      assert.ok(last >= first, `q=${q} p=${p} is empty`);
      assert.equal(slotToPartition(first, q), p);
      assert.equal(slotToPartition(last, q), p);
      next = last + 1;
    }
    assert.equal(next, SLOT_COUNT, `q=${q}`);
  }
});

test('more partitions than slots is refused with a clear error', () => {
  assert.equal(MAX_PARTITION_COUNT, 16384);
  assert.equal(partitionOf('k', 16384), keySlot('k'));
  assert.throws(
    () => partitionOf('k', 16385),
    (err: unknown) => err instanceof InvalidPartitionCountError && /1 to 16384.*slot.*16385/.test(err.message),
  );
});
