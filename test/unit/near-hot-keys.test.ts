import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HotNearKeys } from '../../src/store/near-hot-keys.ts';

test('a hot key stays hot for the hold after its last alert; a repeat alert extends it and is not new', () => {
  const hot = new HotNearKeys(1_000, 4);
  assert.equal(hot.add('a', 0), true, 'new');
  assert.equal(hot.add('a', 500), false, 'already hot');
  assert.equal(hot.has('a', 1_400), true, 'extended by the second alert');
  assert.equal(hot.has('a', 1_500), false);
  assert.deepEqual(hot.keys(1_500), []);
  assert.equal(hot.add('a', 1_500), true, 'hot again after its hold ran out');
});

test('at most `max` hot keys: the oldest alert goes first', () => {
  const hot = new HotNearKeys(10_000, 2);
  hot.add('a', 0);
  hot.add('b', 1);
  hot.add('a', 2);
  hot.add('c', 3);
  assert.deepEqual(hot.keys(4), ['a', 'c']);
  assert.equal(hot.size, 2);
});
