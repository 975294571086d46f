import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CountMinSketch, MAX_COUNT } from '../../src/store/count-min.ts';
import { unitHashString as hashString } from '../../src/protocol/hash.ts';

test('counts occurrences and saturates at 15', () => {
  const sketch = new CountMinSketch({ expectedEntries: 1000 });
  const h = hashString('hot');
  assert.equal(sketch.frequency(h), 0);
  for (let i = 0; i < 5; i++) sketch.increment(h);
  assert.equal(sketch.frequency(h), 5);
  for (let i = 0; i < 40; i++) sketch.increment(h);
  assert.equal(sketch.frequency(h), MAX_COUNT);
});

test('aging halves every counter after sampleSize increments', () => {
  const sketch = new CountMinSketch({ expectedEntries: 100 });
  const hot = hashString('hot');
  for (let i = 0; i < 12; i++) sketch.increment(hot);
  assert.equal(sketch.frequency(hot), 12);
  sketch.age();
  assert.equal(sketch.frequency(hot), 6);
  // Drive the automatic aging with distinct keys.
  const before = sketch.agingCount;
  let aged = false;
  for (let i = 0; i < sketch.sampleSize * 2 && !aged; i++) aged = sketch.increment(hashString(`k${i}`));
  assert.ok(aged, 'an increment reported the aging');
  assert.equal(sketch.agingCount, before + 1);
  assert.equal(sketch.frequency(hot), 3);
});

test('collision-heavy load: heavy hitters stay accurate, absent keys stay low', () => {
  const sketch = new CountMinSketch({ expectedEntries: 512 });
  // 2,000 distinct keys, 4x the expected entry count, once each: many counter collisions.
  for (let i = 0; i < 2000; i++) sketch.increment(hashString(`user:${i}`));
  const hot = hashString('user:hot');
  for (let i = 0; i < 10; i++) sketch.increment(hot);
  assert.ok(sketch.frequency(hot) >= 10, 'count-min never underestimates');
  assert.ok(sketch.frequency(hot) <= 12);
  let sum = 0;
  for (let i = 0; i < 1000; i++) sum += sketch.frequency(hashString(`absent:${i}`));
  assert.ok(sum / 1000 < 0.5, `absent keys estimated at ${sum / 1000} on average`);
});

test('growing the table keeps every key estimate; the grown table then counts keys apart that collided', () => {
  const sketch = new CountMinSketch({ expectedEntries: 1000 });
  const hashes = Array.from({ length: 3000 }, (_, i) => hashString(`k${i}`));
  hashes.forEach((h, i) => {
    for (let n = 0; n < i % 7; n++) sketch.increment(h);
  });
  const before = hashes.map((h) => sketch.frequency(h));
  const bytes = sketch.byteSize;
  sketch.ensureCapacity(20_000);
  assert.ok(sketch.byteSize >= 16 * bytes, `the table grew: ${bytes} -> ${sketch.byteSize} bytes`);
  assert.deepEqual(hashes.map((h) => sketch.frequency(h)), before, 'every estimate is what it was');
  // Counting on, a key's increments land in its new block only: keys that shared an old block no longer share counts.
  const fresh = hashes.map(() => 0);
  hashes.forEach((h, i) => {
    if (i % 2 === 0) {
      sketch.increment(h);
      fresh[i] = 1;
    }
  });
  const unchanged = hashes.filter((h, i) => fresh[i] === 0 && sketch.frequency(h) === before[i]).length;
  assert.ok(unchanged >= 0.95 * (hashes.length / 2), `${unchanged} of ${hashes.length / 2} keys not counted since kept their estimate`);
});
