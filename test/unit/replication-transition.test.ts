// Writes while the ring changes: until every node has moved on, a write must also meet its
// consistency level among the previous ring's owners (kv-join seed 40).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KvError, WriteResult } from '../../src/replication/api.ts';
import { Coordinator } from '../../src/replication/coordinator.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock } from '../../src/replication/hlc.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import { context, fakeEnv } from './replication-fakes.ts';

function writeDuringChange(previous: readonly string[] | null, consistency: 'all' | 'quorum') {
  const { env } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const coordinator = new Coordinator(context(env, sent, { previousOwners: () => previous }), new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  const outcome: { error: KvError | null; result: WriteResult | null } = { error: null, result: null };
  coordinator.set(new Uint8Array([1]), new Uint8Array([2]), { consistency }, (e, r) => {
    outcome.error = e;
    outcome.result = r ?? null;
  });
  const id = (sent[0]![1] as { id: number }).id;
  const ack = (from: string) => coordinator.onReply(from, { t: 'wa', id });
  return { sent, ack, outcome };
}

test('an ALL write during a ring change also goes to, and waits for, the previous owners outside the new list', () => {
  // Current owners n1, n2, n3 (replication-fakes); the previous ring had n1, n2, n4.
  const { sent, ack, outcome } = writeDuringChange(['n1', 'n2', 'n4'], 'all');
  assert.deepEqual(sent.map(([to]) => to).sort(), ['n1', 'n2', 'n3', 'n4']);
  ack('n1');
  ack('n2');
  ack('n3');
  assert.equal(outcome.result, null, 'all current owners acked, but n4 (a previous owner a reader may still use) has not');
  ack('n4');
  assert.equal(outcome.error, null);
  assert.equal((outcome.result as WriteResult | null)?.acks, 3);
});

test('a QUORUM write during a ring change needs a quorum of each ring', () => {
  const { ack, outcome } = writeDuringChange(['n4', 'n5', 'n3'], 'quorum');
  ack('n1');
  ack('n2');
  assert.equal(outcome.result, null, 'a quorum of the new ring, none of the old');
  ack('n4');
  assert.equal(outcome.result, null, 'one of the old ring');
  ack('n3');
  assert.ok(outcome.result, 'n3 is in both rings: now a quorum of each');
});

test('without a ring change a write goes to the current owners only', () => {
  const { sent, ack, outcome } = writeDuringChange(null, 'all');
  assert.deepEqual(sent.map(([to]) => to).sort(), ['n1', 'n2', 'n3']);
  ack('n1');
  ack('n2');
  ack('n3');
  assert.ok(outcome.result);
});
