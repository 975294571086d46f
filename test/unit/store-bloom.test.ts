import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BloomConfigError, BloomFilter, RotatingBloomFilter } from '../../src/store/bloom.ts';
import { unitHashString as hashString } from '../../src/protocol/hash.ts';

test('never a false negative', () => {
  const filter = new BloomFilter({ expectedInsertions: 5000, falsePositiveRate: 0.01 });
  for (let i = 0; i < 5000; i++) filter.add(hashString(`in:${i}`));
  for (let i = 0; i < 5000; i++) assert.ok(filter.mightContain(hashString(`in:${i}`)));
});

for (const target of [0.01, 0.05]) {
  test(`measured false-positive rate is near the ${target} target at capacity`, () => {
    const n = 20_000;
    const filter = new BloomFilter({ expectedInsertions: n, falsePositiveRate: target });
    for (let i = 0; i < n; i++) filter.add(hashString(`in:${i}`));
    let fp = 0;
    const probes = 100_000;
    for (let i = 0; i < probes; i++) if (filter.mightContain(hashString(`out:${i}`))) fp++;
    const rate = fp / probes;
    assert.ok(rate > target * 0.5 && rate < target * 1.5, `measured ${rate} for target ${target}`);
  });
}

test('rejects nonsense configuration with a clear error', () => {
  assert.throws(() => new BloomFilter({ expectedInsertions: 10, falsePositiveRate: 1 }), BloomConfigError);
  assert.throws(() => new BloomFilter({ expectedInsertions: -1 }), BloomConfigError);
});

test('rotating filter keeps two generations and forgets older ones', () => {
  const filter = new RotatingBloomFilter({ expectedInsertions: 1000, falsePositiveRate: 0.01 });
  for (let i = 0; i < 999; i++) filter.add(hashString(`old:${i}`));
  assert.equal(filter.rotations, 0);
  filter.add(hashString('old:999'));
  assert.equal(filter.rotations, 1, 'filling the current generation rotates');
  for (let i = 0; i < 1000; i++) assert.ok(filter.mightContain(hashString(`old:${i}`)), 'previous generation still answers');
  for (let i = 0; i < 1000; i++) filter.add(hashString(`new:${i}`));
  assert.equal(filter.rotations, 2);
  let remembered = 0;
  for (let i = 0; i < 1000; i++) if (filter.mightContain(hashString(`old:${i}`))) remembered++;
  assert.ok(remembered < 50, `${remembered} keys from two generations ago still present`);
  let fp = 0;
  for (let i = 0; i < 10_000; i++) if (filter.mightContain(hashString(`never:${i}`))) fp++;
  assert.ok(fp / 10_000 < 0.03, 'false positives stay near target across rotations');
});
