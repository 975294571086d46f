// A replica whose store refuses a write for its budget (--eviction-policy noeviction) answers `wo`,
// and the coordinator fails the write with `out-of-memory` (RESP's OOM) once the consistency level
// is out of reach, without retrying or hinting it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KvError } from '../../src/replication/api.ts';
import { Coordinator } from '../../src/replication/coordinator.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock } from '../../src/replication/hlc.ts';
import { decodeKvMessage, encodeKvMessage, type KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { Store } from '../../src/store/index.ts';
import { context, fakeEnv } from './replication-fakes.ts';

test('a replica whose noeviction store is full answers wo, keeps the older value, and acknowledges once there is room', () => {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const store = new Store({ maxEntries: 1, policy: 'noeviction', clock: env.clock, seed: 1 });
  const host = new ReplicaHost(context(env, sent), store, new HintStore(10, 10_000, 60_000), new HybridLogicalClock(env.clock, 1), 1);
  const record = (wallMs: number) => makeRecord({ wallMs, logical: 0, node: 1 }, new Uint8Array([wallMs]), 0);
  host.onMessage('n2', { t: 'w', id: 1, p: 1, k: 'a', r: record(1) });
  host.onMessage('n2', { t: 'w', id: 2, p: 1, k: 'b', r: record(2) });
  flush(now() + 10);
  assert.deepEqual(sent, [['n2', { t: 'wa', id: 1 }], ['n2', { t: 'wo', id: 2 }]]);
  assert.equal(store.has('a'), true);
  assert.equal(store.has('b'), false);
  assert.equal(store.stats().refusedOverBudget, 1);
  store.delete('a');
  host.onMessage('n2', { t: 'w', id: 3, p: 1, k: 'b', r: record(2) });
  flush(now() + 10);
  assert.deepEqual(sent[2], ['n2', { t: 'wa', id: 3 }]);
  // `wo` travels between nodes like every other message.
  assert.deepEqual(decodeKvMessage(encodeKvMessage({ t: 'wo', id: 9 })), { t: 'wo', id: 9 });
});

function write(sent: [string, KvMessage][]) {
  const { env, flush, now } = fakeEnv();
  const hints = new HintStore(10, 10_000, 60_000);
  const coordinator = new Coordinator(context(env, sent), new HybridLogicalClock(env.clock, 1), hints, () => {
    throw new Error('unused');
  });
  let result: { error: KvError | null } | null = null;
  coordinator.set(new Uint8Array([1]), new Uint8Array([2]), {}, (error) => (result = { error }));
  const id = (sent[0]![1] as { id: number }).id;
  return { coordinator, id, hints, flush, now, result: () => result };
}

test('replicas refusing for memory fail the write with out-of-memory once its level is out of reach, and leave no hint', () => {
  const sent: [string, KvMessage][] = [];
  const w = write(sent);
  const owners = sent.filter(([, m]) => m.t === 'w').map(([to]) => to);
  assert.deepEqual(owners, ['n1', 'n2', 'n3'], 'a quorum write (2 of 3)');
  w.coordinator.onReply('n2', { t: 'wo', id: w.id });
  assert.equal(w.result(), null, 'two replicas can still take it');
  w.coordinator.onReply('n3', { t: 'wo', id: w.id });
  assert.equal(w.result()?.error?.code, 'out-of-memory');
  assert.match(w.result()!.error!.message, /refused the write: its store is full/);
  const before = sent.length;
  w.coordinator.onReply('n1', { t: 'wa', id: w.id });
  w.flush(w.now() + 10_000);
  assert.equal(sent.slice(before).filter(([, m]) => m.t === 'w').length, 0, 'not retried');
  assert.equal(w.hints.count, 0);
});

test('a write still reaches its level when a replica that refused for memory is not needed', () => {
  const sent: [string, KvMessage][] = [];
  const w = write(sent);
  w.coordinator.onReply('n2', { t: 'wo', id: w.id });
  w.coordinator.onReply('n1', { t: 'wa', id: w.id });
  w.coordinator.onReply('n3', { t: 'wa', id: w.id });
  assert.equal(w.result()?.error, null);
  w.flush(w.now() + 10_000);
  assert.equal(w.hints.count, 0);
});
