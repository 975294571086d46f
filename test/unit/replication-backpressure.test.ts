// Partition actors' bounded mailboxes: a full mailbox refuses work, the replica answers busy, and
// the coordinator turns busy replicas into an `overloaded` error once the consistency level is out of reach.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KvError } from '../../src/replication/api.ts';
import { Coordinator } from '../../src/replication/coordinator.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock } from '../../src/replication/hlc.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { Store } from '../../src/store/index.ts';
import { context, fakeEnv } from './replication-fakes.ts';

test('a full partition mailbox refuses the job, and a replica write is answered busy', () => {
  const { env } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const ctx = context(env, sent);
  const hints = new HintStore(10, 10_000, 60_000);
  const host = new ReplicaHost(ctx, new Store({ maxMemory: 1 << 20, clock: env.clock, seed: 1 }), hints, new HybridLogicalClock(env.clock, 1), 1);
  const record = makeRecord({ wallMs: 1, logical: 0, node: 1 }, new Uint8Array([1]), 0);
  host.run(1, () => {
    // Inside the actor's turn: the next job queues (depth 1 = the bound), the write after it is refused.
    assert.equal(host.run(1, () => {}), true);
    host.onMessage('n2', { t: 'w', id: 7, p: 1, k: 'k', r: record });
  });
  assert.deepEqual(sent, [['n2', { t: 'nb', id: 7 }]]);
  assert.equal(host.stats.busy, 1);
  assert.equal(host.mailboxStats().rejected, 1);
  assert.ok(host.mailboxStats().peakDepth <= host.mailboxStats().capacity);
});

test('busy replicas make a quorum write fail with overloaded, and are hinted', () => {
  const { env, flush } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const ctx = context(env, sent);
  const hints = new HintStore(10, 10_000, 60_000);
  const coordinator = new Coordinator(ctx, new HybridLogicalClock(env.clock, 1), hints, () => {
    throw new Error('unused');
  });
  let error: KvError | null = null;
  coordinator.set(new Uint8Array([1]), new Uint8Array([2]), {}, (e) => (error = e));
  const ids = sent.map(([, m]) => (m as { id: number }).id);
  coordinator.onReply('n2', { t: 'nb', id: ids[0]! });
  assert.equal(error, null, 'two replicas can still make the quorum');
  coordinator.onReply('n3', { t: 'nb', id: ids[0]! });
  assert.equal((error as KvError | null)?.code, 'overloaded');
  assert.equal(hints.count, 2);
  assert.equal(coordinator.stats.replicasBusy, 2);
  flush(10_000);
});

test('busy replicas make a quorum read fail with overloaded', () => {
  const { env } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const coordinator = new Coordinator(context(env, sent), new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  let error: KvError | null = null;
  coordinator.get(new Uint8Array([1]), {}, (e) => (error = e));
  const id = (sent[0]![1] as { id: number }).id;
  coordinator.onReply('n1', { t: 'nb', id });
  coordinator.onReply('n2', { t: 'nb', id });
  assert.equal((error as KvError | null)?.code, 'overloaded');
});
