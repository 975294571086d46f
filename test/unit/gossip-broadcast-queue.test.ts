import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BroadcastQueue, retransmitLimit } from '../../src/gossip/broadcast-queue.ts';

const bytes = (tag: number, size = 10) => new Uint8Array(size).fill(tag);

test('retransmit limit is retransmitMult * ceil(log10(n + 1))', () => {
  assert.equal(retransmitLimit(4, 1), 4);
  assert.equal(retransmitLimit(4, 9), 4);
  assert.equal(retransmitLimit(4, 10), 8);
  assert.equal(retransmitLimit(4, 1000), 16);
});

test('each update is sent exactly `limit` times, then leaves the queue', () => {
  const q = new BroadcastQueue();
  q.queue('a', bytes(1));
  let sent = 0;
  for (let i = 0; i < 10; i++) sent += q.take(1000, 3).length;
  assert.equal(sent, 3);
  assert.equal(q.size, 0);
});

test('least-sent first, newest first among equals', () => {
  const q = new BroadcastQueue();
  q.queue('a', bytes(1));
  q.take(1000, 5); // a sent once
  q.queue('b', bytes(2));
  q.queue('c', bytes(3));
  const order = q.take(25, 5).map((b) => b[0]);
  assert.deepEqual(order, [3, 2], 'c (newest, unsent), then b; a does not fit the budget');
  assert.deepEqual(q.take(1000, 5).map((b) => b[0]), [3, 2, 1], 'all sent once now: newest first');
});

test('a newer update about the same member replaces the queued one', () => {
  const q = new BroadcastQueue();
  q.queue('a', bytes(1));
  q.queue('a', bytes(9));
  assert.equal(q.size, 1);
  assert.deepEqual(q.take(1000, 5).map((b) => b[0]), [9]);
});

test('the byte budget is respected and skip leaves a member out', () => {
  const q = new BroadcastQueue();
  for (let i = 0; i < 20; i++) q.queue(`m${i}`, bytes(i, 100));
  const taken = q.take(450, 5, 'm19');
  assert.equal(taken.length, 4);
  assert.ok(!taken.some((b) => b[0] === 19));
  assert.equal(q.peek('m19')!.transmits, 0);
});

test('a shrinking limit drops updates already sent that often', () => {
  const q = new BroadcastQueue();
  q.queue('a', bytes(1));
  q.take(1000, 8);
  q.take(1000, 8);
  assert.equal(q.take(1000, 2).length, 0);
  assert.equal(q.size, 0);
});

test('countTransmit charges a transmission sent outside take', () => {
  const q = new BroadcastQueue();
  q.queue('a', bytes(1));
  q.countTransmit('a', 2);
  assert.equal(q.peek('a')!.transmits, 1);
  q.countTransmit('a', 2);
  assert.equal(q.size, 0);
});
