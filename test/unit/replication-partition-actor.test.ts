// The partition actor (src/replication/partition-actor.ts): the one home of a partition's state.
// Its mailbox queues under load and refuses past its bound, which reaches the coordinator as
// `overloaded`; read-modify-writes are serialised; every applied write bumps the invalidation
// sequence; the epoch only grows; the sync phase follows catch-up and handoff.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KvError, WriteResult } from '../../src/replication/api.ts';
import { replicationConfig } from '../../src/replication/config.ts';
import type { Placement } from '../../src/replication/context.ts';
import { Coordinator } from '../../src/replication/coordinator.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock, type Version } from '../../src/replication/hlc.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import type { PartitionActor } from '../../src/replication/partition-actor.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { decodeRecord } from '../../src/replication/record.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { Store } from '../../src/store/index.ts';
import { context, fakeEnv } from './replication-fakes.ts';

const SOLO: Placement = {
  version: 'v',
  partitions: 4,
  width: 1,
  members: [{ name: 'n1', zone: '' }],
  owners: () => ['n1'],
  ranking: () => ['n1'],
  partitionOfKey: () => 1,
};

/**
 * One node owning every partition: its coordinator and its replica host, wired as the node wires
 * them (local messages one zero-delay timer later). `pacing` slows the partition actors.
 */
function soloNode(mailboxCapacity: number, pacing: { partitionJobsPerTurn: number; partitionTurnDelayMs: number }) {
  const { env, flush, now } = fakeEnv();
  const hlc = new HybridLogicalClock(env.clock, 1);
  const hints = new HintStore(100, 1 << 20, 60_000);
  const wired: { host?: ReplicaHost; coordinator?: Coordinator } = {};
  const send = (_to: string, m: KvMessage) =>
    void env.timers.setTimer(0, () => {
      if (!wired.host!.onMessage('n1', m)) wired.coordinator!.onReply('n1', m);
    });
  const ctx = context(env, [], { config: replicationConfig(pacing), placement: () => SOLO, send });
  const host = (wired.host = new ReplicaHost(ctx, new Store({ maxMemory: 1 << 20, clock: env.clock, seed: 1 }), hints, hlc, mailboxCapacity));
  const coordinator = (wired.coordinator = new Coordinator(ctx, hlc, hints, () => {
    throw new Error('unused');
  }));
  host.hold(1);
  return { host, coordinator, hints, flush, now, timers: env.timers, actor: host.partitions.get(1)! };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const version = (wallMs: number): Version => ({ wallMs, logical: 0, node: 1 });

test('under load a slow partition actor queues up to its bound, refuses the rest, and the coordinator answers those overloaded', () => {
  // One job per turn, a turn every second: far slower than the 500 ms replica timeout.
  const node = soloNode(2, { partitionJobsPerTurn: 1, partitionTurnDelayMs: 1_000 });
  const outcomes: (KvError | WriteResult)[] = [];
  for (let i = 0; i < 6; i++) node.coordinator.set(bytes('k'), bytes(`v${i}`), {}, (error, result) => outcomes.push(error ?? result!));
  node.flush(node.now());
  assert.equal(node.actor.queued, 2, 'two writes wait in the mailbox');
  assert.equal(node.host.mailboxStats().queued, 2);
  assert.equal(node.host.stats.busy, 4, 'four were refused');
  // The refused ones are asked again until the deadline, then answered overloaded.
  node.flush(node.now() + 600);
  const overloaded = outcomes.filter((o) => 'code' in o && o.code === 'overloaded');
  assert.equal(overloaded.length, 4, JSON.stringify(outcomes));
  assert.ok(node.coordinator.stats.replicasBusy > 4, 'busy replicas were asked again before giving up');
  assert.equal(node.hints.count, 1, 'the refused writes are hinted to the replica (one hint per key: the newest)');
  // The queued ones are applied in their turns, in order.
  node.flush(node.now() + 5_000);
  assert.equal(node.actor.queued, 0);
  assert.equal(node.actor.invalidationSeq, 2);
  assert.equal(new TextDecoder().decode(decodeRecord(node.actor.peek('k')!).value), 'v1');
  assert.ok(node.host.mailboxStats().peakDepth <= 2);
});

test('read-modify-writes on a partition run one at a time, even when each waits on something slow', () => {
  const node = soloNode(2, { partitionJobsPerTurn: 1024, partitionTurnDelayMs: 0 });
  let wall = 100;
  // INCR: read the counter, then write it back after a round trip (a timer stands in for the replicas' acks).
  const incr = (done: () => void) => (actor: PartitionActor) => {
    const held = actor.peek('counter');
    const n = held ? Number(new TextDecoder().decode(decodeRecord(held).value)) : 0;
    node.timers.setTimer(10, () => {
      actor.tell((a) => {
        const record = makeRecord(version(++wall), bytes(String(n + 1)), 0);
        a.apply('counter', record, decodeRecord(record));
        done();
      });
    });
  };
  const accepted = [0, 1, 2].map(() => node.actor.serialise((actor, done) => incr(done)(actor)));
  assert.deepEqual(accepted, [true, true, true]);
  assert.equal(node.actor.serialisedWaiting, 2);
  assert.equal(node.actor.serialise(() => {}), false, 'the queue is full: the caller answers overloaded');
  node.flush(node.now() + 1_000);
  assert.equal(new TextDecoder().decode(decodeRecord(node.actor.peek('counter')!).value), '3', 'no increment lost');
  assert.equal(node.actor.serialisedWaiting, 0);
});

test('a read-modify-write that throws does not hold up the ones behind it', () => {
  const node = soloNode(4, { partitionJobsPerTurn: 1024, partitionTurnDelayMs: 0 });
  const ran: string[] = [];
  node.host.run(1, (a) => {
    a.serialise(() => {
      throw new Error('boom');
    });
    a.serialise((_actor, done) => {
      ran.push('next');
      done();
    });
  });
  assert.deepEqual(ran, ['next']);
  assert.equal(node.actor.counts.failures, 1);
});

test('read-modify-writes waiting when the partition is handed off are dropped, and their owners told', () => {
  const node = soloNode(4, { partitionJobsPerTurn: 1024, partitionTurnDelayMs: 0 });
  const dropped: number[] = [];
  node.actor.serialise(() => {}, () => dropped.push(0)); // runs, never finishes
  node.actor.serialise(() => {}, () => dropped.push(1));
  node.host.release(1);
  assert.deepEqual(dropped, [1]);
  assert.equal(node.actor.serialise(() => {}), false);
});

test('the invalidation sequence counts applied writes only, and never goes back when the partition is held again', () => {
  const node = soloNode(4, { partitionJobsPerTurn: 1024, partitionTurnDelayMs: 0 });
  const apply = (actor: PartitionActor, wallMs: number) => {
    let outcome = '';
    node.host.run(1, (a) => void (outcome = node.host.apply(a, 'k', makeRecord(version(wallMs), bytes('v'), 0))));
    assert.equal(actor.queued, 0);
    return outcome;
  };
  assert.equal(node.actor.invalidationSeq, 0);
  assert.equal(apply(node.actor, 200), 'applied');
  assert.equal(apply(node.actor, 100), 'stale');
  assert.equal(apply(node.actor, 300), 'applied');
  assert.equal(node.actor.invalidationSeq, 2);
  node.host.release(1);
  const again = node.host.hold(1);
  assert.notEqual(again, node.actor);
  assert.equal(again.invalidationSeq, 2);
  assert.equal(apply(again, 400), 'applied');
  assert.equal(again.invalidationSeq, 3);
});

test('the ownership epoch only grows', () => {
  const { actor } = soloNode(4, { partitionJobsPerTurn: 1024, partitionTurnDelayMs: 0 });
  assert.equal(actor.epoch, 0);
  actor.setEpoch(3);
  actor.setEpoch(3);
  assert.equal(actor.epoch, 3);
  assert.throws(() => actor.setEpoch(2), /epoch 2/);
  assert.throws(() => actor.setEpoch(3.5), RangeError);
  assert.equal(actor.epoch, 3);
});

test('the host gives new and held actors the epoch of the current ring', () => {
  const { host, actor } = soloNode(4, { partitionJobsPerTurn: 1024, partitionTurnDelayMs: 0 });
  let ring = 1;
  host.epochOf = (p) => ring * 10 + p;
  host.applyEpochs();
  assert.equal(actor.epoch, 11);
  ring = 2;
  assert.equal(host.hold(2).epoch, 22, 'a new actor starts at the current epoch');
  host.applyEpochs();
  assert.equal(actor.epoch, 21);
});

test('a job that throws is counted and logged, and the actor goes on with the next', () => {
  const { host, actor } = soloNode(4, { partitionJobsPerTurn: 1024, partitionTurnDelayMs: 0 });
  const ran: string[] = [];
  host.run(1, (a) => {
    a.tell(() => {
      throw new Error('boom');
    });
    a.tell(() => void ran.push('after'));
  });
  assert.deepEqual(ran, ['after']);
  assert.equal(actor.counts.failures, 1);
});

test('jobs still queued when a partition is handed off are dropped, and a batch over several partitions still finishes', () => {
  const node = soloNode(4, { partitionJobsPerTurn: 1, partitionTurnDelayMs: 10 });
  node.host.hold(2);
  const visited: number[] = [];
  let finished = false;
  node.host.runEach([1, 2], (a) => void visited.push(a.partition), () => (finished = true));
  node.host.release(1);
  node.flush(node.now() + 100);
  assert.deepEqual(visited, [2]);
  assert.equal(finished, true);
});

test('the sync phase: catching up until every source is done, handing off after the ring moved the partition, coverage voided by a write', () => {
  const node = soloNode(4, { partitionJobsPerTurn: 1024, partitionTurnDelayMs: 0 });
  const actor = node.actor;
  assert.equal(actor.syncPhase, 'ready');
  actor.catchUpFrom(['n2', 'n3']);
  assert.equal(actor.syncPhase, 'catching-up');
  assert.equal(actor.sourceDone('n2'), false);
  assert.equal(actor.sourceDone('n3'), true, 'the last source makes it ready');
  assert.equal(actor.syncPhase, 'ready');
  actor.catchUpFrom(['n2']);
  actor.startHandoff();
  assert.equal(actor.syncPhase, 'handing-off');
  assert.equal(actor.ready, true, 'a replica handing off waits on no source');
  assert.deepEqual([...actor.coveredBy('n2')!], ['n2']);
  node.host.run(1, (a) => node.host.apply(a, 'k', makeRecord(version(500), bytes('v'), 0)));
  assert.deepEqual([...actor.coveredBy('n3')!], ['n3'], 'n2 may lack the write just applied');
  actor.catchUpFrom([]);
  assert.equal(actor.syncPhase, 'ready', 'owned again: no handoff');
  assert.equal(actor.coveredBy('n2'), null);
});
