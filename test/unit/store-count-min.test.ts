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
