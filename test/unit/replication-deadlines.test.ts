// The coordinator's deadlines: this node's own replica is not timed out like a remote one, the
// replica timeout grows with the bytes in flight, and a miss says why (src/replication/coordinator.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GetResult, KvError, MissReason } from '../../src/replication/api.ts';
import { replicationConfig, type ReplicationConfig } from '../../src/replication/config.ts';
import type { Placement } from '../../src/replication/context.ts';
import { Coordinator } from '../../src/replication/coordinator.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock, type Version } from '../../src/replication/hlc.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { context, fakeEnv } from './replication-fakes.ts';

const enc = new TextEncoder();

/** A coordinator on node n1 whose partitions are owned by `owners`. */
function coordinatorFor(owners: string[], config: Partial<ReplicationConfig> = {}) {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const placement: Placement = {
    version: 'v',
    partitions: 4,
    width: owners.length,
    members: owners.map((name) => ({ name, zone: '' })),
    owners: () => owners,
    ranking: () => owners,
    partitionOfKey: () => 1,
  };
  const ctx = context(env, sent, { placement: () => placement, config: replicationConfig(config) });
  const coordinator = new Coordinator(ctx, new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  return { coordinator, sent, flush, now, timeoutMs: ctx.config.requestTimeoutMs };
}

function read(coordinator: Coordinator, sent: [string, KvMessage][]): { id: number; out: { error: KvError | null; result: GetResult | null } | null } {
  const box: { id: number; out: { error: KvError | null; result: GetResult | null } | null } = { id: 0, out: null };
  coordinator.get(enc.encode('k'), {}, (error, result) => (box.out = { error, result: result ?? null }));
  box.id = (sent.at(-1)![1] as { id: number }).id;
  return box;
}

test('a read waiting on this node\'s own replica is not failed by a deadline timer that fires first', () => {
  const { coordinator, sent, flush, now, timeoutMs } = coordinatorFor(['n1']);
  const r = read(coordinator, sent);
  assert.deepEqual(sent.map(([to]) => to), ['n1']);
  // The node was busy (a long turn, a slow timer): the deadline fires before the local answer is delivered.
  flush(now() + timeoutMs + 1);
  assert.equal(r.out, null, `the read must not fail while its local replica has not answered: ${JSON.stringify(r.out)}`);
  assert.equal(coordinator.stats.localWaits, 1);
  coordinator.onReply('n1', { t: 'ra', id: r.id, r: makeRecord({ wallMs: 1, logical: 0, node: 1 }, enc.encode('v'), 0), ready: true });
  assert.equal(r.out!.error, null);
  assert.equal(new TextDecoder().decode(r.out!.result!.value!), 'v');
  assert.equal(coordinator.stats.unavailable, 0);
  assert.equal(coordinator.pendingCount, 0);
});

test('a write waiting on this node\'s own replica is not failed by a deadline timer that fires first', () => {
  const { coordinator, sent, flush, now, timeoutMs } = coordinatorFor(['n1']);
  let out: { error: KvError | null } | null = null;
  coordinator.set(enc.encode('k'), enc.encode('v'), {}, (error) => (out = { error }));
  const id = (sent[0]![1] as { id: number }).id;
  flush(now() + timeoutMs + 1);
  assert.equal(out, null);
  coordinator.onReply('n1', { t: 'wa', id });
  assert.deepEqual(out, { error: null });
});

test('this node standing in for a down owner (sloppy quorum) is not timed out either', () => {
  const { env, flush, now } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const placement: Placement = {
    version: 'v',
    partitions: 4,
    width: 3,
    members: ['n1', 'n2', 'n3', 'n4'].map((name) => ({ name, zone: '' })),
    owners: () => ['n2', 'n3', 'n4'],
    ranking: () => ['n2', 'n3', 'n4', 'n1'],
    partitionOfKey: () => 1,
  };
  const ctx = context(env, sent, { placement: () => placement, isAlive: (name) => name !== 'n4' });
  const coordinator = new Coordinator(ctx, new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  let out: { error: KvError | null } | null = null;
  coordinator.set(enc.encode('k'), enc.encode('v'), { consistency: 'all', sloppy: true }, (error) => (out = { error }));
  assert.deepEqual(sent.map(([to, m]) => [to, m.t]), [['n2', 'w'], ['n3', 'w'], ['n1', 'w']]);
  const id = (sent[0]![1] as { id: number }).id;
  coordinator.onReply('n2', { t: 'wa', id });
  coordinator.onReply('n3', { t: 'wa', id });
  flush(now() + ctx.config.requestTimeoutMs + 1);
  assert.equal(out, null, 'the fallback is this node: its ack is coming');
  coordinator.onReply('n1', { t: 'wa', id });
  assert.deepEqual(out, { error: null });
});

test('the own replica gets one more timeout, no more: a local job that was lost still fails the read', () => {
  const { coordinator, sent, flush, now, timeoutMs } = coordinatorFor(['n1']);
  const r = read(coordinator, sent);
  flush(now() + timeoutMs + 1);
  assert.equal(r.out, null);
  flush(now() + timeoutMs + 1);
  assert.equal((r.out as { error: KvError | null } | null)?.error?.code, 'unavailable');
  assert.equal(coordinator.pendingCount, 0);
});

test('a silent remote replica is timed out as before, while the local one answered', () => {
  const { coordinator, sent, flush, now, timeoutMs } = coordinatorFor(['n1', 'n2', 'n3']);
  const start = now();
  let error: KvError | null = null;
  let answeredAt = 0;
  coordinator.get(enc.encode('k'), { consistency: 'all' }, (e) => {
    error = e;
    answeredAt = now();
  });
  const id = (sent[0]![1] as { id: number }).id;
  coordinator.onReply('n1', { t: 'ra', id, r: null, ready: true });
  coordinator.onReply('n2', { t: 'ra', id, r: null, ready: true });
  flush(start + 10 * timeoutMs);
  assert.equal((error as KvError | null)?.code, 'unavailable');
  assert.equal(answeredAt, start + timeoutMs);
  assert.equal(coordinator.stats.localWaits, 0);
});

test('the replica timeout grows with the bytes in flight, up to ten timeouts', () => {
  const MiB = 1024 * 1024;
  // Remote owners only, none of which answers: both writes fail at their deadlines.
  const { coordinator, flush, now, timeoutMs } = coordinatorFor(['n2', 'n3', 'n4'], { replicaBytesPerSecond: MiB / 2 });
  const start = now();
  const failedAt: number[] = [];
  coordinator.set(enc.encode('a'), new Uint8Array(MiB / 4), {}, (e) => failedAt.push(e ? now() : -1));
  coordinator.set(enc.encode('b'), new Uint8Array(MiB), {}, (e) => failedAt.push(e ? now() : -1));
  flush(start + 100 * timeoutMs);
  // (1/4 MiB + a 25-byte header) to 3 replicas at 1/2 MiB/s: 1.5 s more. The second write waits
  // behind 3.75 MiB, 7.5 s: more than ten timeouts' worth, so capped.
  assert.deepEqual(failedAt, [start + timeoutMs + 1_500, start + 10 * timeoutMs]);
});

function missOf(answers: (id: number) => KvMessage[], wallMs = 1_000): { reason: MissReason | undefined; stats: Coordinator['stats'] } {
  const { coordinator, sent, flush } = coordinatorFor(['n1', 'n2', 'n3']);
  const r = read(coordinator, sent);
  answers(r.id).forEach((m, i) => coordinator.onReply(`n${i + 1}`, m));
  flush(wallMs);
  assert.equal(r.out?.error, null);
  assert.equal(r.out!.result!.value, null);
  return { reason: r.out!.result!.miss, stats: coordinator.stats };
}

test('a miss says why: absent, deleted, expired or evicted, and each is counted', () => {
  const v = (wallMs: number): Version => ({ wallMs, logical: 0, node: 2 });
  const absent = missOf((id) => [{ t: 'ra', id, r: null, ready: true }, { t: 'ra', id, r: null, ready: true }]);
  assert.equal(absent.reason, 'absent');
  assert.equal(absent.stats.missAbsent, 1);
  const deleted = missOf((id) => [{ t: 'ra', id, r: makeRecord(v(10), null, 0), ready: true }, { t: 'ra', id, r: null, ready: true }]);
  assert.equal(deleted.reason, 'deleted');
  assert.equal(deleted.stats.missDeleted, 1);
  // fakeEnv's wall clock starts at 1,000 ms: a value that expired at 500 ms.
  const expired = missOf((id) => [{ t: 'ra', id, r: makeRecord(v(10), enc.encode('x'), 500), ready: true }, { t: 'ra', id, r: null, ready: true }]);
  assert.equal(expired.reason, 'expired');
  assert.equal(expired.stats.missExpired, 1);
  // An acknowledged value one replica evicted, the others never got: not "absent". (Made with no
  // copy beside the eviction, the read waits for the third owner, which might hold it.)
  const evicted = missOf((id) => [{ t: 'ra', id, r: null, ready: true, e: v(10) }, { t: 'ra', id, r: null, ready: true }, { t: 'ra', id, r: null, ready: true }]);
  assert.equal(evicted.reason, 'evicted');
  assert.equal(evicted.stats.missEvicted, 1);
  const hit = coordinatorFor(['n1', 'n2', 'n3']);
  const r = read(hit.coordinator, hit.sent);
  hit.coordinator.onReply('n1', { t: 'ra', id: r.id, r: makeRecord(v(10), enc.encode('x'), 0), ready: true });
  hit.coordinator.onReply('n2', { t: 'ra', id: r.id, r: null, ready: true });
  assert.equal(r.out!.result!.miss, undefined, 'a hit has no miss reason');
});
