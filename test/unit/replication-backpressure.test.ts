// Partition actors' bounded mailboxes: a full mailbox refuses work, the replica answers busy, and
// the coordinator turns busy replicas into an `overloaded` error once the consistency level is out of reach.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KvError } from '../../src/replication/api.ts';
import { Coordinator } from '../../src/replication/coordinator.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock } from '../../src/replication/hlc.ts';
import { replicationConfig } from '../../src/replication/config.ts';
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

/** Answers every request sent since the last call from `names` busy (`nb`); returns how many. */
function busyReplicas(sent: [string, KvMessage][], coordinator: Coordinator, names: string[]) {
  let seen = 0;
  return () => {
    let answered = 0;
    for (; seen < sent.length; seen++) {
      const [to, m] = sent[seen]!;
      if (names.includes(to) && (m.t === 'w' || m.t === 'r')) {
        coordinator.onReply(to, { t: 'nb', id: m.id });
        answered++;
      }
    }
    return answered;
  };
}

test('a busy replica is asked again within the deadline, and the write succeeds once it takes it', () => {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const hints = new HintStore(10, 10_000, 60_000);
  const coordinator = new Coordinator(context(env, sent), new HybridLogicalClock(env.clock, 1), hints, () => {
    throw new Error('unused');
  });
  let result: { error: KvError | null; acks?: number } | null = null;
  coordinator.set(new Uint8Array([1]), new Uint8Array([2]), {}, (error, r) => (result = { error, ...(r ? { acks: r.acks } : {}) }));
  const id = (sent[0]![1] as { id: number }).id;
  coordinator.onReply('n2', { t: 'nb', id });
  coordinator.onReply('n3', { t: 'nb', id });
  assert.equal(result, null, 'busy is not an answer yet');
  const before = sent.length;
  flush(now() + 50);
  const again = sent.slice(before).map(([to, m]) => `${to}:${m.t}`).sort();
  assert.deepEqual(again, ['n2:w', 'n3:w'], 'both asked again');
  coordinator.onReply('n2', { t: 'wa', id });
  coordinator.onReply('n3', { t: 'wa', id });
  assert.deepEqual(result, { error: null, acks: 2 });
  assert.equal(hints.count, 0);
  flush(now() + 10_000);
});

test('replicas busy until the deadline make a quorum write fail with overloaded, and are hinted', () => {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const hints = new HintStore(10, 10_000, 60_000);
  const coordinator = new Coordinator(context(env, sent), new HybridLogicalClock(env.clock, 1), hints, () => {
    throw new Error('unused');
  });
  const busy = busyReplicas(sent, coordinator, ['n2', 'n3']);
  let error: KvError | null = null;
  coordinator.set(new Uint8Array([1]), new Uint8Array([2]), {}, (e) => (error = e));
  let asked = 0;
  // Bounded: the deadline is 500 ms of fake time, the backoff at least 2.5 ms.
  for (let i = 0; i < 1_000 && error === null; i++) {
    asked += busy();
    flush(now() + 5);
  }
  assert.equal((error as KvError | null)?.code, 'overloaded');
  assert.ok(asked > 2, `the busy replicas were asked again (${asked} busy answers)`);
  assert.equal(hints.count, 2);
  assert.equal(coordinator.stats.overloaded, 1);
  flush(now() + 10_000);
});

test('replicas busy until the deadline make a quorum read fail with overloaded', () => {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const coordinator = new Coordinator(context(env, sent), new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  const busy = busyReplicas(sent, coordinator, ['n1', 'n2']);
  let error: KvError | null = null;
  coordinator.get(new Uint8Array([1]), {}, (e) => (error = e));
  for (let i = 0; i < 1_000 && error === null; i++) {
    busy();
    flush(now() + 5);
  }
  assert.equal((error as KvError | null)?.code, 'overloaded');
});

test('a duplicate refusal from an owner that answered busy for good leaves the read waiting for the owner still to answer', () => {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const coordinator = new Coordinator(context(env, sent), new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  let result: { error: KvError | null; acks?: number } | null = null;
  coordinator.get(new Uint8Array([1]), { consistency: 'quorum' }, (error, r) => (result = { error, ...(r ? { acks: r.acks } : {}) }));
  const id = (sent[0]![1] as { id: number }).id;
  const busy = busyReplicas(sent, coordinator, ['n2']);
  // n2 answers busy every time it is asked, up to the deadline: its last busy answer comes when no retry fits.
  const deadline = now() + replicationConfig().requestTimeoutMs;
  while (now() < deadline - 1) {
    busy();
    flush(now() + 1);
  }
  assert.equal(busy(), 0, 'nothing was sent to n2 in its last millisecond');
  // A copy of a request n2 answered busy, delivered after n2 moved to a ring without it.
  coordinator.onReply('n2', { t: 'ns', id, rv: 'v', v: 'v2', o: ['n1', 'n3'] });
  coordinator.onReply('n1', { t: 'ra', id, r: null, ready: true });
  assert.equal(result, null, 'n3 has not answered yet: the read goes on');
  coordinator.onReply('n3', { t: 'ra', id, r: null, ready: true });
  assert.deepEqual(result, { error: null, acks: 2 });
  flush(now() + 10_000);
});
