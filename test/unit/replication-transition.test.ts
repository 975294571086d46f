// Requests while the ring changes: a write also meets its consistency level among the previous
// ring's owners while readers may still use that ring (kv-join seed 40), and a replica that has
// moved past the ring a request was routed by refuses it; the request adopts the replica's ring.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GetResult, KvError, WriteResult } from '../../src/replication/api.ts';
import { Coordinator } from '../../src/replication/coordinator.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock } from '../../src/replication/hlc.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import type { KvMessage } from '../../src/replication/messages.ts';
import type { ReplicationContext } from '../../src/replication/context.ts';
import { replicationConfig, type ReplicationBugs } from '../../src/replication/config.ts';
import { context, fakeEnv } from './replication-fakes.ts';

/** One write of one key through a fresh coordinator on `ctx`: its outcome so far and its request id. */
function startWrite(ctx: ReplicationContext, sent: [string, KvMessage][], consistency: 'all' | 'quorum') {
  const coordinator = new Coordinator(ctx, new HybridLogicalClock(ctx.env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  const outcome: { error: KvError | null; result: WriteResult | null } = { error: null, result: null };
  coordinator.set(new Uint8Array([1]), new Uint8Array([2]), { consistency }, (e, r) => {
    outcome.error = e;
    outcome.result = r ?? null;
  });
  const id = (sent[0]![1] as { id: number }).id;
  return { coordinator, outcome, id };
}

function writeDuringChange(previous: readonly string[] | null, consistency: 'all' | 'quorum', movedPast: string[] = []) {
  const { env, flush } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const peersPast: [string, string][] = [];
  const previousRings = () => (previous ? [{ version: 'u', owners: previous, movedPast: new Set(movedPast) }] : []);
  const ctx = context(env, sent, { previousRings, peerMovedPast: (name, version) => void peersPast.push([name, version]) });
  const { coordinator, outcome, id } = startWrite(ctx, sent, consistency);
  const ack = (from: string) => coordinator.onReply(from, { t: 'wa', id });
  const refuse = (from: string, v: string, o: string[]) => coordinator.onReply(from, { t: 'ns', id, rv: (sent.find(([to]) => to === from)![1] as { v: string }).v, v, o });
  return { sent, ack, refuse, outcome, peersPast, coordinator, flush };
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

test('each copy is routed by its ring: the current owners by the current ring, the previous-only owners by the previous one', () => {
  const { sent } = writeDuringChange(['n1', 'n2', 'n4'], 'all');
  const routes = Object.fromEntries(sent.map(([to, m]) => [to, (m as { v?: string }).v]));
  assert.deepEqual(routes, { n1: 'v', n2: 'v', n3: 'v', n4: 'u' });
});

test('a previous owner that has moved past the previous ring counts as acknowledged there, and is reported', () => {
  const { ack, refuse, outcome, peersPast } = writeDuringChange(['n1', 'n2', 'n4'], 'all');
  ack('n1');
  ack('n2');
  ack('n3');
  assert.equal(outcome.result, null);
  refuse('n4', 'v', ['n1', 'n2', 'n3']);
  assert.ok(outcome.result, 'n4 refuses every request routed by the previous ring: no reader there can miss the write');
  assert.deepEqual(peersPast, [['n4', 'u']]);
});

test('a previous owner already known to have moved past is not sent the write at all', () => {
  const { sent, ack, outcome } = writeDuringChange(['n1', 'n2', 'n4'], 'all', ['n4']);
  assert.deepEqual(sent.map(([to]) => to).sort(), ['n1', 'n2', 'n3']);
  ack('n1');
  ack('n2');
  ack('n3');
  assert.ok(outcome.result);
});

test('the old-ring coordinator: a replica on a newer ring refuses, the write adopts that ring and waits for its new owner', () => {
  // The coordinator is on ring v (owners n1, n2, n3); n3 has moved to ring w (owners n1, n2, n4),
  // so n4 may already serve reads of the partition: acknowledging with n1..n3 could lose the write.
  const { sent, ack, refuse, outcome, coordinator, peersPast } = writeDuringChange(null, 'all');
  ack('n1');
  ack('n2');
  refuse('n3', 'w', ['n1', 'n2', 'n4']);
  assert.equal(outcome.result, null, 'n4, an owner in the newer ring, has not acknowledged');
  const retry = sent.find(([to]) => to === 'n4');
  assert.ok(retry, 'the write went on to the new owner');
  assert.equal((retry[1] as { v?: string }).v, 'w', 'routed by the adopted ring, so n4 accepts it');
  assert.deepEqual(peersPast, [['n3', 'v']]);
  ack('n4');
  assert.equal(outcome.error, null);
  assert.equal((outcome.result as WriteResult | null)?.acks, 3);
  assert.equal(coordinator.stats.ringsAdopted, 1);
});

test('a write whose adopted ring does not answer fails at its deadline, never acknowledged on the old ring alone', () => {
  const { ack, refuse, outcome, flush } = writeDuringChange(null, 'quorum');
  refuse('n1', 'w', ['n4', 'n5', 'n6']);
  ack('n2');
  ack('n3');
  assert.equal(outcome.result, null, 'a quorum of ring v, none of ring w');
  flush(60_000);
  assert.equal(outcome.error?.code, 'unavailable');
});

// Blue-green seed 300224: the coordinator is on ring v (n1, n2, n3), the ring before it was u (n3, n2,
// n4: n4 has left and stopped). n2, an owner of both, gets one copy routed by v and refuses it
// (it is on w already); the write adopts w and meets w and v, but u has only n3. n2 would refuse u
// as well: it is asked, routed by u, and its refusal counts there. Before, the write failed at its deadline.
function writeWhoseOwnerRefusedTheNewerRing(bugs: ReplicationBugs = {}) {
  const { env, flush } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const previousRings = () => [{ version: 'u', owners: ['n3', 'n2', 'n4'], movedPast: new Set<string>() }];
  const { coordinator, outcome, id } = startWrite(context(env, sent, { previousRings, config: replicationConfig({ bugs }) }), sent, 'quorum');
  coordinator.onReply('n1', { t: 'wa', id });
  coordinator.onReply('n2', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n3', 'n5'] });
  coordinator.onReply('n3', { t: 'wa', id });
  coordinator.onReply('n5', { t: 'wa', id });
  return { sent, coordinator, outcome, id, flush };
}

test('an owner of an older ring a write must meet that refused the newer ring is asked again, routed by the older one', () => {
  const { sent, coordinator, outcome, id } = writeWhoseOwnerRefusedTheNewerRing();
  assert.deepEqual(sent.filter(([to]) => to === 'n2').map(([, m]) => (m as { v: string }).v), ['v', 'u'], 'n2 asked again, routed by u');
  assert.equal(outcome.result, null, 'a quorum of w and of v, but of u only n3');
  coordinator.onReply('n2', { t: 'ns', id, rv: 'u', v: 'w', o: ['n1', 'n3', 'n5'] });
  assert.equal(outcome.error, null);
  assert.ok(outcome.result, 'n2 refused u too: it serves no read routed by u, so u has its quorum');
});

test('with bugs.jointIgnoresRefusers (blue-green seed 300224 re-injected) that owner counts for nothing in the older ring and the write fails', () => {
  const { sent, outcome, flush } = writeWhoseOwnerRefusedTheNewerRing({ jointIgnoresRefusers: true });
  assert.deepEqual(sent.filter(([to]) => to === 'n2').map(([, m]) => (m as { v: string }).v), ['v']);
  flush(60_000);
  assert.equal(outcome.error?.code, 'unavailable');
});

/** A QUORUM read of one key through a fresh coordinator: what it sent, its outcome so far, its request id. */
function startQuorumRead() {
  const { env, flush } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const coordinator = new Coordinator(context(env, sent), new HybridLogicalClock(env.clock, 1), new HintStore(10, 10_000, 60_000), () => {
    throw new Error('unused');
  });
  const outcome: { error: KvError | null; result: GetResult | null } = { error: null, result: null };
  coordinator.get(new Uint8Array([1]), { consistency: 'quorum' }, (e, r) => {
    outcome.error = e;
    outcome.result = r ?? null;
  });
  const id = (sent[0]![1] as { id: number }).id;
  return { flush, sent, coordinator, outcome, id };
}

test('a read refused by a replica on a newer ring asks that ring\'s owners and counts only their answers', () => {
  const { sent, coordinator, outcome, id } = startQuorumRead();
  assert.ok(sent.every(([, m]) => (m as { v?: string }).v === 'v'));
  const old = makeRecord({ wallMs: 1, logical: 0, node: 1 }, new Uint8Array([1]), 0);
  const fresh = makeRecord({ wallMs: 2, logical: 0, node: 2 }, new Uint8Array([2]), 0);
  coordinator.onReply('n3', { t: 'ra', id, r: old, ready: true });
  coordinator.onReply('n2', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n4', 'n5'] });
  assert.deepEqual(sent.slice(3).map(([to, m]) => [to, (m as { v?: string }).v]).sort(), [['n4', 'w'], ['n5', 'w']]);
  coordinator.onReply('n1', { t: 'ra', id, r: old, ready: true });
  assert.equal(outcome.result, null, 'n3 is no owner in ring w: only n1 counts so far');
  coordinator.onReply('n4', { t: 'ra', id, r: fresh, ready: true });
  assert.deepEqual([...((outcome.result as GetResult | null)?.value ?? [])], [2]);
});

test('a read refused by an owner still handing the partition off takes the record sent with the refusal, without counting it (kv-drain seed 400229)', () => {
  const { coordinator, outcome, id } = startQuorumRead();
  const old = makeRecord({ wallMs: 1, logical: 0, node: 1 }, new Uint8Array([1]), 0);
  const handedOffLate = makeRecord({ wallMs: 2, logical: 0, node: 2 }, new Uint8Array([2]), 0);
  // n2 left the partition (ring w: n1, n3, n4) but has not handed its newer record off yet.
  coordinator.onReply('n2', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n3', 'n4'], r: handedOffLate });
  coordinator.onReply('n1', { t: 'ra', id, r: old, ready: true });
  assert.equal(outcome.result, null, "the refuser's record counts towards no level");
  coordinator.onReply('n3', { t: 'ra', id, r: old, ready: true });
  assert.deepEqual([...((outcome.result as GetResult | null)?.value ?? [])], [2], "the answer is the refuser's newer record");
});

// A ring that comes back: ring versions are digests of the members, so a node leaving and
// rejoining (a rolling restart) brings ring v back after w. An owner still on w takes the request
// routed by v for one that is behind and refuses it, naming w, which the request adopted and left
// already. It is one ring change behind (rolling-restart seeds 2 and 5): ask it again.
function readAcrossRingThatCameBack() {
  const { flush, sent, coordinator, outcome, id } = startQuorumRead();
  const record = makeRecord({ wallMs: 1, logical: 0, node: 1 }, new Uint8Array([7]), 0);
  // Ring v: owners n1, n2, n3 (n3 just rejoined and is catching up). Ring w, without n3: n1, n2, n4.
  coordinator.onReply('n3', { t: 'ra', id, r: null, ready: false });
  coordinator.onReply('n1', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n2', 'n4'] });
  coordinator.onReply('n4', { t: 'ns', id, rv: 'w', v: 'v', o: ['n1', 'n2', 'n3'] });
  coordinator.onReply('n1', { t: 'ns', id, rv: 'w', v: 'v', o: ['n1', 'n2', 'n3'] });
  const before = sent.length;
  // n2 is still on w: it refuses v, naming w, which the request has adopted and left already.
  coordinator.onReply('n2', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n2', 'n4'] });
  coordinator.onReply('n1', { t: 'ra', id, r: record, ready: true });
  return { coordinator, sent, before, id, outcome, flush, record };
}

test('a read refused with a ring it already adopted asks that owner again, routed by the same ring', () => {
  const { coordinator, sent, before, id, outcome, flush, record } = readAcrossRingThatCameBack();
  assert.equal(outcome.error, null, 'n2 is one ring change behind, not gone: the read waits for it');
  assert.equal(outcome.result, null);
  flush(1_100);
  const again = sent.slice(before).filter(([to]) => to === 'n2');
  assert.deepEqual(again.map(([, m]) => (m as { v?: string }).v), ['v'], 'asked again once, routed by ring v');
  coordinator.onReply('n2', { t: 'ra', id, r: record, ready: true });
  assert.deepEqual([...((outcome.result as GetResult | null)?.value ?? [])], [7]);
});

test('an owner that keeps refusing is asked again only while the deadline allows, then the read fails', () => {
  const { coordinator, sent, before, id, outcome, flush } = readAcrossRingThatCameBack();
  for (let i = 0; i < 100 && outcome.error === null; i++) {
    flush();
    const last = sent.length;
    flush(1_000 + (i + 1) * 20);
    for (const [to, m] of sent.slice(last)) if (to === 'n2') coordinator.onReply('n2', { t: 'ns', id, rv: (m as { v: string }).v, v: 'w', o: ['n1', 'n2', 'n4'] });
  }
  flush(60_000);
  assert.equal(outcome.error?.code, 'unavailable');
  const retries = sent.slice(before).filter(([to]) => to === 'n2').length;
  assert.ok(retries >= 2 && retries < 20, `a bounded number of retries (${retries})`);
});

test('a write refused with a ring it already adopted sends that owner the write again and counts its ack', () => {
  const { sent, ack, refuse, outcome, flush, coordinator } = writeDuringChange(null, 'all');
  const id = (sent[0]![1] as { id: number }).id;
  refuse('n3', 'w', ['n1', 'n2', 'n4']);
  coordinator.onReply('n4', { t: 'ns', id, rv: 'w', v: 'v', o: ['n1', 'n2', 'n3'] });
  ack('n1');
  ack('n3');
  const before = sent.length;
  // n2 is still on w: it refuses v, naming w, which the write adopted and left already.
  coordinator.onReply('n2', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n2', 'n4'] });
  assert.equal(outcome.error, null);
  flush(1_100);
  const again = sent.slice(before).filter(([to]) => to === 'n2');
  assert.deepEqual(again.map(([, m]) => (m as { v?: string }).v), ['v'], 'sent again, routed by ring v');
  ack('n2');
  assert.equal(outcome.error, null);
  assert.ok(outcome.result, 'acknowledged by every owner of ring v');
});

// A coordinator behind: it is still on ring v (a node has left) while the owners move to ring w
// (the node is back). The write adopts w from an owner ahead, then v again from an owner still
// behind (v is the coordinator's own ring). Once the coordinator reaches w itself, a refusal
// naming w moves the write back to w, though it was routed by w before: before, it could never
// adopt w again and every owner refused v until the deadline (rolling-restart seed 100023).
test('a write returns to a ring it left once that is its coordinator\'s own ring, and never to one that is not', () => {
  const { env, flush } = fakeEnv();
  const sent: [string, KvMessage][] = [];
  const own = { version: 'v' };
  const base = context(env, sent).placement();
  const { coordinator, outcome, id } = startWrite(context(env, sent, { placement: () => ({ ...base, version: own.version }) }), sent, 'quorum');
  const lastRouteTo = (name: string) => (sent.findLast(([to]) => to === name)![1] as { v: string }).v;
  coordinator.onReply('n1', { t: 'wa', id });
  coordinator.onReply('n3', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n2', 'n4'] });
  assert.equal(lastRouteTo('n4'), 'w', 'adopted w from n3, which is ahead');
  coordinator.onReply('n4', { t: 'ns', id, rv: 'w', v: 'v', o: ['n1', 'n2', 'n3'] });
  assert.equal(lastRouteTo('n2'), 'v', 'back to v, the coordinator\'s own ring, from n4, which is behind');
  // n2 is on w now and refuses v; the coordinator, still on v, takes n2 for one behind and asks again.
  coordinator.onReply('n2', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n2', 'n4'] });
  const before = sent.length;
  flush(1_200);
  assert.deepEqual(sent.slice(before).map(([to, m]) => [to, (m as { v: string }).v]), [['n2', 'v']], 'w was left and is not the coordinator\'s ring: n2 is asked again by v');
  own.version = 'w';
  coordinator.onReply('n2', { t: 'ns', id, rv: 'v', v: 'w', o: ['n1', 'n2', 'n4'] });
  assert.equal(lastRouteTo('n2'), 'w', 'the coordinator reached w: the write is routed by it again');
  assert.equal(outcome.result, null);
  coordinator.onReply('n2', { t: 'wa', id });
  assert.equal(outcome.error, null);
  assert.ok(outcome.result, 'n1 and n2: a quorum of w, and of v');
});

// Blue-green seed 100199: every owner answered, one caught up of the two needed; another owner
// finished catching up milliseconds later. The read asks those that were catching up again while
// its deadline allows, instead of failing as soon as all had answered.
test('a read short of its level asks the owners that answered while catching up again, and fails only at its deadline', () => {
  const { sent, coordinator, outcome, id, flush } = startQuorumRead();
  const record = makeRecord({ wallMs: 1, logical: 0, node: 1 }, new Uint8Array([5]), 0);
  coordinator.onReply('n1', { t: 'ra', id, r: record, ready: true });
  coordinator.onReply('n2', { t: 'ra', id, r: null, ready: false });
  coordinator.onReply('n3', { t: 'ra', id, r: null, ready: false });
  assert.equal(outcome.error, null, 'not failed while the owners catching up may still count');
  const before = sent.length;
  flush(1_050);
  assert.deepEqual(sent.slice(before).map(([to]) => to).sort(), ['n2', 'n3'], 'both asked again');
  coordinator.onReply('n3', { t: 'ra', id, r: record, ready: true });
  assert.deepEqual([...((outcome.result as GetResult | null)?.value ?? [])], [5]);
});

test('owners that stay catching up are asked again a bounded number of times, then the read fails', () => {
  const { sent, coordinator, outcome, id, flush } = startQuorumRead();
  coordinator.onReply('n1', { t: 'ra', id, r: null, ready: true });
  const before = sent.length;
  for (let i = 0; i < 100 && outcome.error === null; i++) {
    const last = sent.length;
    coordinator.onReply('n2', { t: 'ra', id, r: null, ready: false });
    coordinator.onReply('n3', { t: 'ra', id, r: null, ready: false });
    flush(1_000 + (i + 1) * 20);
    if (sent.length === last) flush(60_000);
  }
  assert.equal(outcome.error?.code, 'unavailable');
  const again = sent.slice(before).length;
  assert.ok(again >= 4 && again < 40, `a bounded number of retries (${again})`);
});
