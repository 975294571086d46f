import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PARTITION_COUNT,
  InvalidPartitionCountError,
  PartitionCountMismatchError,
  checkPartitionCount,
  murmur3,
  murmur3String,
  partitionOf,
} from '../../src/ring/index.ts';

test('murmur3 matches published MurmurHash3 x86_32 vectors (the SDK contract)', () => {
  const vectors: [string, number, number][] = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['ab', 0x9747b28c, 0x74875592],
    ['abc', 0, 0xb3dd93fa],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['hello', 0, 0x248bfa47],
    ['Hello, world!', 1234, 0xfaf6cdb3],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ];
  for (const [input, seed, expected] of vectors) assert.equal(murmur3String(input, seed), expected, JSON.stringify(input));
  assert.equal(murmur3(new Uint8Array([0xff, 0xff, 0xff, 0xff])), 0x76293b50);
});

test('a string key and its UTF-8 bytes land on the same partition', () => {
  for (const key of ['', 'k', 'user:42', 'é', '日本語のキー', '🦈 shoal', 'x'.repeat(1000)]) {
    assert.equal(partitionOf(key), partitionOf(new TextEncoder().encode(key)), key);
  }
});

test('keys spread evenly over the default partition count', () => {
  const counts = new Array<number>(DEFAULT_PARTITION_COUNT).fill(0);
  const keys = 200 * DEFAULT_PARTITION_COUNT;
  for (let i = 0; i < keys; i++) counts[partitionOf(`key-${i}`)]!++;
  // Poisson(200): sd ~14; +-40% is > 5 sd, so a failure means a real skew, not bad luck.
  assert.ok(Math.max(...counts) < 280, `max ${Math.max(...counts)}`);
  assert.ok(Math.min(...counts) > 120, `min ${Math.min(...counts)}`);
});

test('an invalid partition count is rejected', () => {
  for (const bad of [0, -1, 1.5, Number.NaN, 16385, 2 ** 21]) {
    assert.throws(() => partitionOf('k', bad), InvalidPartitionCountError);
  }
});

test('a node with a different partition count is refused with a clear error', () => {
  checkPartitionCount('n2', 1024, 1024);
  assert.throws(
    () => checkPartitionCount('n2', 1024, 512),
    (err: unknown) =>
      err instanceof PartitionCountMismatchError &&
      err.name === 'PartitionCountMismatchError' &&
      err.expected === 1024 &&
      err.actual === 512 &&
      /n2.*512.*1024/.test(err.message),
  );
});
