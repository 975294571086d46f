import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmix32 as mix32, rehash, unitHashBytes as hashBytes, unitHashString as hashString } from '../../src/protocol/hash.ts';

test('hashString is deterministic and agrees with hashBytes on latin1 keys', () => {
  const bytes = Uint8Array.from([0, 1, 127, 128, 200, 255, 42]);
  const key = Buffer.from(bytes).toString('latin1');
  assert.equal(hashString(key), hashBytes(bytes));
  assert.equal(hashString('user:1'), hashString('user:1'));
  assert.notEqual(hashString('user:1'), hashString('user:1', 7));
});

test('sequential keys spread evenly over buckets (collision-heavy input)', () => {
  const buckets = new Uint32Array(1024);
  const n = 200_000;
  for (let i = 0; i < n; i++) buckets[hashString(`key:${i}`) & 1023]!++;
  const expected = n / 1024;
  let chi2 = 0;
  for (const b of buckets) chi2 += (b - expected) ** 2 / expected;
  // 1023 degrees of freedom: mean 1023, sd ~45; a poorly mixed hash lands far above.
  assert.ok(chi2 < 1300, `chi-square ${chi2.toFixed(0)} too high for a uniform spread`);
});

test('keys differing in one character differ in about half the output bits (avalanche)', () => {
  let total = 0;
  const trials = 2000;
  for (let i = 0; i < trials; i++) {
    const a = hashString(`prefix-${i}-a`);
    const b = hashString(`prefix-${i}-b`);
    let x = (a ^ b) >>> 0;
    while (x) {
      total += x & 1;
      x >>>= 1;
    }
  }
  const mean = total / trials;
  assert.ok(mean > 14 && mean < 18, `mean flipped bits ${mean}`);
});

test('few collisions on 100k numeric-string keys', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 100_000; i++) seen.add(hashString(String(i)));
  // Birthday bound for 1e5 keys in 2^32: about 1.2 expected collisions.
  assert.ok(100_000 - seen.size <= 6, `${100_000 - seen.size} collisions`);
});

test('mix32 and rehash are well defined unsigned 32-bit functions', () => {
  assert.equal(mix32(0), 0);
  assert.ok(mix32(1) > 0 && mix32(1) <= 0xffffffff);
  assert.notEqual(rehash(12345), 12345);
});
