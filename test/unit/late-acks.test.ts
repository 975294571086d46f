import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LATE_ACKS_WATCHED, LateAcks } from '../../src/replication/late-acks.ts';

test('a failed write reaches its level late once enough of its silent owners acknowledge, each counted once', () => {
  const late = new LateAcks();
  late.watch(1, 0, 2, ['a', 'b', 'c'], 1_000);
  assert.equal(late.ack(1, 'a', 1_100), null, 'one of the two needed');
  assert.equal(late.ack(1, 'a', 1_150), null, 'a duplicate ack counts nothing');
  assert.equal(late.ack(1, 'x', 1_150), null, 'nor one from a node it did not await');
  assert.equal(late.ack(1, 'b', 1_250), 250, 'the second reaches the level, 250 ms after the failure');
  assert.equal(late.ack(1, 'c', 1_300), null, 'reported once');
});

test('a write whose silent owners could not reach its level is not watched, and the oldest watched are forgotten past the bound', () => {
  const late = new LateAcks();
  late.watch(1, 0, 2, ['a'], 0);
  assert.equal(late.ack(1, 'a', 10), null);
  for (let id = 10; id < 10 + LATE_ACKS_WATCHED + 1; id++) late.watch(id, 1, 2, ['a'], 0);
  assert.equal(late.ack(10, 'a', 10), null, 'the oldest was forgotten');
  assert.equal(late.ack(11, 'a', 10), 10);
  assert.equal(late.ack(10 + LATE_ACKS_WATCHED, 'a', 10), 10);
});
