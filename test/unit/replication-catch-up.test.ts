// Catch-up under memory pressure (src/replication/sync.ts): a restarted replica finishes catching
// up in a bounded number of rounds even when its sources evicted keys or some partitions keep
// differing, learns the versions its sources evicted, and logs its progress.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicationConfig, type ReplicationConfig } from '../../src/replication/config.ts';
import type { Placement, ReplicationContext } from '../../src/replication/context.ts';
import { HintStore } from '../../src/replication/hints.ts';
import { HybridLogicalClock, nodeIdOf, type Version } from '../../src/replication/hlc.ts';
import { decodeKvMessage, encodeKvMessage, type KvMessage } from '../../src/replication/messages.ts';
import { makeRecord } from '../../src/replication/partition-replica.ts';
import { ReplicaHost } from '../../src/replication/replica-host.ts';
import { CATCH_UP_LOG_INTERVAL_MS, PartitionSync } from '../../src/replication/sync.ts';
import { HUNT_ANSWER_BYTES } from '../../src/replication/value-hunts.ts';
import { emptyPlacement } from '../../src/node/ring-placement.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Store } from '../../src/store/index.ts';
import { fakeEnv } from './replication-fakes.ts';

const NAMES = ['n1', 'n2', 'n3'];

function placementOf(partitions: number): Placement {
  return {
    version: 'v',
    partitions,
    width: 3,
    members: NAMES.map((name) => ({ name, zone: '' })),
    owners: () => NAMES,
    ranking: () => NAMES,
    partitionOfKey: () => 0,
  };
}

interface TestNode {
  host: ReplicaHost;
  sync: PartitionSync;
  store: Store;
  logs: string[];
}

/**
 * Three replicas of every partition, wired through encoded messages delivered 1 ms later on one
 * hand-cranked clock. `drop` loses the messages it matches. n2 and n3 start caught up; n1 starts
 * empty and catches up from both, as after a restart.
 */
function cluster(partitions: number, config: Partial<ReplicationConfig>, drop: (from: string, to: string, m: KvMessage) => boolean = () => false, n1HasRing = true, storeBytes = 1 << 20) {
  const { env: base, flush, now } = fakeEnv();
  let placement = placementOf(partitions);
  // Until `joinN1`, n1 (when `n1HasRing` is false) is a restarted node settling into its first ring.
  let n1Placement = n1HasRing ? placement : emptyPlacement(partitions);
  const nodes = new Map<string, TestNode>();
  for (const name of NAMES) {
    const logs: string[] = [];
    const env: Env = { ...base, address: name, log: { ...base.log, info: (_obj, msg) => void logs.push(msg ?? '') } };
    const ctx: ReplicationContext = {
      env,
      config: replicationConfig(config),
      selfName: name,
      placement: () => (name === 'n1' ? n1Placement : placement),
      isAlive: () => true,
      ringConfirmed: () => true,
      send: (to, m) => {
        if (drop(name, to, m)) return;
        const bytes = encodeKvMessage(m);
        base.timers.setTimer(1, () => {
          const target = nodes.get(to)!;
          const message = decodeKvMessage(bytes);
          if (!target.host.onMessage(name, message)) target.sync.onMessage(name, message);
        });
      },
    };
    // Every access counted by the hot-key tracker (no sampling), so what it saw is exact.
    const store = new Store({ maxMemory: storeBytes, clock: env.clock, seed: 1, hotKeys: { sampleInterval: 1 } });
    const host = new ReplicaHost(ctx, store, new HintStore(10, 10_000, 60_000), new HybridLogicalClock(env.clock, nodeIdOf(name)), 64);
    const sync = new PartitionSync(ctx, host);
    nodes.set(name, { host, sync, store, logs });
  }
  for (const [name, node] of nodes) {
    if (name === 'n1' && !n1HasRing) continue;
    node.sync.onPlacement(null, placement);
    if (name !== 'n1') for (const actor of node.host.partitions.values()) for (const source of [...actor.pendingSources]) actor.sourceDone(source);
  }
  const put = (name: string, p: number, key: string, version: Version) => {
    assert.ok(nodes.get(name)!.host.run(p, (actor) => assert.equal(actor.replica.apply(key, makeRecord(version, new Uint8Array(8), 0)), 'applied')));
    flush();
  };
  const start = () => {
    for (const [name, node] of nodes) if (name !== 'n1' || n1Placement === placement) node.sync.start();
  };
  const joinN1 = () => {
    n1Placement = placement;
    const n1 = nodes.get('n1')!;
    n1.sync.onPlacement(null, placement);
    n1.sync.start();
  };
  /** Every node moves to ring `next` (n1 included). */
  const reRing = (next: Placement) => {
    const previous = placement;
    placement = next;
    n1Placement = next;
    for (const node of nodes.values()) node.sync.onPlacement(previous, next);
  };
  return { nodes, flush, now, put, start, joinN1, reRing };
}

const n1CatchingUp = (c: ReturnType<typeof cluster>) => c.nodes.get('n1')!.sync.progress().partitionsCatchingUp;

type SyncData = Extract<KvMessage, { t: 'sd' }>;

/** Sync data lost on its way to n1: `lost` picks which. */
function learnsEvictedVersions(lost: (m: SyncData) => boolean): void {
  const c = cluster(2, {}, (_from, to, m) => to === 'n1' && m.t === 'sd' && lost(m));
  const kept: Version = { wallMs: 100, logical: 0, node: 2 };
  const evicted: Version = { wallMs: 200, logical: 0, node: 2 };
  for (const source of ['n2', 'n3']) {
    c.put(source, 0, 'kept', kept);
    // Both sources' stores evicted `gone` (the shadow is what the store's eviction hook fills).
    c.nodes.get(source)!.host.shadow.record(0, 'gone', evicted);
  }
  // n1 still holds an older copy of `gone` (from before the restart, say, or a late hint).
  c.put('n1', 0, 'gone', { wallMs: 150, logical: 0, node: 1 });
  c.start();
  for (let i = 0; i < 100 && n1CatchingUp(c) > 0; i++) c.flush(c.now() + 100);
  assert.equal(n1CatchingUp(c), 0);
  const n1 = c.nodes.get('n1')!;
  assert.deepEqual(n1.host.shadow.versionOf(0, 'gone'), evicted, 'n1 keeps the version its sources evicted');
  assert.equal(n1.host.partitions.get(0)!.peek('gone'), null, 'the older copy it held is superseded');
  assert.equal(n1.sync.catchUpProgress().keysEvictedAtSource, 1);
  // An older copy arriving later is old news, as on the sources.
  n1.host.run(0, (actor) => assert.equal(actor.replica.apply('gone', makeRecord({ wallMs: 180, logical: 0, node: 3 }, new Uint8Array(8), 0)), 'stale'));
  // Anti-entropy then finds nothing to exchange: equal digests everywhere.
  const digests = (name: string) => {
    let d = 0;
    c.nodes.get(name)!.host.run(0, (actor) => void (d = actor.replica.digest));
    return d;
  };
  assert.equal(digests('n1'), digests('n2'));
  assert.equal(digests('n1'), digests('n3'));
}

// Both ways data reaches a catching-up replica carry evicted versions.
test('a restarted replica learns the versions its sources evicted from the answers to its wants, and its digests then match theirs', () => {
  learnsEvictedVersions((m) => !m.last && m.h === undefined); // the sources' pushes are lost (not the answers to wants or value hunts)
});

test('a value hunt answer carries at most HUNT_ANSWER_BYTES of records, and the hunt asks for the rest until every value is back', () => {
  // n2 evicted 24 values of 128 KiB (3 MiB) that n3 holds. n1, restarted, learns them from n2 and
  // hunts them from n3. Its list wants to n3 are lost, so the values come by the hunt alone.
  const answers: number[] = [];
  let answering = 0;
  const c = cluster(1, {}, (from, to, m) => {
    if (from === 'n1' && to === 'n3' && m.t === 'sw' && m.h === undefined) return true;
    if (from === 'n3' && to === 'n1' && m.t === 'sd') {
      for (let i = 0; i < m.k.length; i++) answering += m.k[i]!.length + m.r[i]!.length;
      if (m.h !== undefined) answers.push(answering);
      if (m.h !== undefined || m.last) answering = 0;
    }
    return false;
  }, true, 64 << 20);
  const version: Version = { wallMs: 200, logical: 0, node: 3 };
  const keys = Array.from({ length: 24 }, (_, i) => `big${i}`);
  for (const key of keys) {
    assert.ok(c.nodes.get('n3')!.host.run(0, (actor) => assert.equal(actor.replica.apply(key, makeRecord(version, new Uint8Array(128 * 1024), 0)), 'applied')));
    c.nodes.get('n2')!.host.shadow.record(0, key, version);
  }
  c.flush();
  c.start();
  for (let i = 0; i < 200 && n1CatchingUp(c) > 0; i++) c.flush(c.now() + 100);
  assert.equal(n1CatchingUp(c), 0, 'n1 caught up');
  const n1 = c.nodes.get('n1')!;
  assert.deepEqual(keys.filter((key) => n1.host.partitions.get(0)!.peek(key) === null), [], 'n1 holds every value again');
  assert.ok(answers.length >= 3, `the values came in several answers (${answers.length})`);
  assert.ok(Math.max(...answers) <= HUNT_ANSWER_BYTES, `the largest answer carried ${Math.max(...answers)} bytes`);
});

test('a restarted replica learns the versions its sources evicted from their pushes, and finishes on equal digests', () => {
  learnsEvictedVersions((m) => m.last); // the answers to its wants are lost
});

test('partitions that cannot finish do not starve the others: each round lists the least recently answered first', () => {
  // A budget of 2 entries: each answer covers one partition of 3 keys. Data for partition 0 never
  // arrives (its want answers are lost), so it stays behind, and keeps differing. The sources'
  // pushes are lost too, so n1 gets data only by asking.
  const partitions = 8;
  const c = cluster(partitions, { syncBatch: 2 }, (_from, to, m) => to === 'n1' && m.t === 'sd' && (m.p === 0 || !m.last));
  for (const source of ['n2', 'n3']) {
    for (let p = 0; p < partitions; p++) for (let k = 0; k < 3; k++) c.put(source, p, `p${p}-k${k}`, { wallMs: 100 + k, logical: 0, node: 2 });
  }
  c.start();
  // One partition per answer, two sources, a round every 75-125 ms: bounded by partitions x sources rounds (and then some).
  for (let i = 0; i < 4 * partitions * 2 && n1CatchingUp(c) > 1; i++) c.flush(c.now() + 125);
  const n1 = c.nodes.get('n1')!;
  assert.deepEqual([...n1.host.partitions.values()].filter((h) => !h.ready).map((h) => h.partition), [0], 'only the partition whose data is lost is left');
  const progress = n1.sync.catchUpProgress();
  assert.equal(progress.partitionsLeft, 1);
  assert.equal(progress.partitions, partitions);
  // From whichever source answered first; the other's digest then matches.
  assert.equal(progress.keysReceived, (partitions - 1) * 3, 'every key of the other partitions');
  assert.ok(progress.bytesReceived > progress.keysReceived * 8);
});

test('catch-up logs its start, its progress at most every interval, and its end', () => {
  let lose = true;
  const c = cluster(4, {}, (_from, to, m) => lose && to === 'n1' && m.t === 'sd' && m.p === 0);
  c.put('n2', 0, 'k', { wallMs: 100, logical: 0, node: 2 });
  c.start();
  const n1 = c.nodes.get('n1')!;
  const startedAt = c.now();
  c.flush(startedAt + 6 * CATCH_UP_LOG_INTERVAL_MS);
  assert.equal(n1CatchingUp(c), 1, 'partition 0 waits for the lost data');
  assert.match(n1.logs[0]!, /^catching up 4 partitions from n2 \(4\), n3 \(4\)/);
  const progressLines = n1.logs.filter((l) => l.startsWith('catching up:'));
  assert.ok(progressLines.length >= 5 && progressLines.length <= 6, `one progress line per interval, got ${progressLines.length}`);
  assert.match(progressLines.at(-1)!, /^catching up: 1 of 4 partitions left after \d+\.\d s, 0 keys \(0 bytes\) received, 0 evicted at their source .*; waiting on n\d \(1\)/);
  lose = false;
  for (let i = 0; i < 50 && n1CatchingUp(c) > 0; i++) c.flush(c.now() + 100);
  assert.match(n1.logs.at(-1)!, /^caught up 4 partitions in \d+\.\d s: 1 key \(\d+ bytes\) received/);
  assert.equal(n1.sync.catchUpProgress().partitionsLeft, 0);
});

test('keys pushed to a restarted node before its first ring count in the catch-up that ring starts', () => {
  // A restarted node answers its peers' sync rounds while it settles into its first ring; their
  // pushes can bring all its data back first, and its catch-up then ends on equal digests. The
  // log and status said "0 keys received" (a loaded CI run caught it).
  const partitions = 4;
  const c = cluster(partitions, {}, () => false, false);
  for (const source of ['n2', 'n3']) for (let p = 0; p < partitions; p++) c.put(source, p, `p${p}`, { wallMs: 100, logical: 0, node: 2 });
  c.start();
  const n1 = c.nodes.get('n1')!;
  const held = () => [...n1.host.partitions.values()].reduce((sum, actor) => sum + actor.size, 0);
  for (let i = 0; i < 100 && held() < partitions; i++) c.flush(c.now() + 100);
  assert.equal(held(), partitions, 'the sources pushed every key before n1 had a ring');
  assert.equal(n1.sync.catchUpProgress().partitions, 0, 'no catch-up before the first ring');
  c.joinN1();
  for (let i = 0; i < 100 && n1CatchingUp(c) > 0; i++) c.flush(c.now() + 100);
  assert.equal(n1CatchingUp(c), 0);
  assert.ok(n1.sync.catchUpProgress().keysReceived >= partitions, JSON.stringify(n1.sync.catchUpProgress()));
  assert.match(n1.logs.at(-1)!, /^caught up 4 partitions in \d+\.\d s: [1-9]\d* keys/);
});

test('sync counts the bytes of the records it sends and receives: every byte sent arrives, and a catch-up is part of them', () => {
  const partitions = 4;
  const c = cluster(partitions, {});
  for (const source of ['n2', 'n3']) for (let p = 0; p < partitions; p++) c.put(source, p, `p${p}`, { wallMs: 100, logical: 0, node: 2 });
  c.start();
  for (let i = 0; i < 100 && n1CatchingUp(c) > 0; i++) c.flush(c.now() + 100);
  c.flush(c.now() + 10); // messages still on their way
  const stats = [...c.nodes.values()].map((n) => n.sync.stats);
  const sent = stats.reduce((sum, s) => sum + s.bytesSent, 0);
  const received = stats.reduce((sum, s) => sum + s.bytesReceived, 0);
  assert.equal(sent, received, 'nothing is lost, so the totals agree');
  const n1 = c.nodes.get('n1')!;
  const caughtUp = n1.sync.catchUpProgress().bytesReceived;
  assert.ok(caughtUp > 0);
  assert.ok(n1.sync.stats.bytesReceived >= caughtUp, `${n1.sync.stats.bytesReceived} received, ${caughtUp} of them by the catch-up`);
  assert.equal(stats.reduce((sum, s) => sum + s.handoffBytesSent, 0), 0, 'every node owns every partition: nothing is handed off');
});

test('a partition handed off to its new owners counts the bytes sent for it', () => {
  const c = cluster(2, {});
  for (const name of NAMES) for (let k = 0; k < 3; k++) c.put(name, 1, `p1-k${k}`, { wallMs: 100, logical: 0, node: 2 });
  c.put('n1', 0, 'only-n1-has-it', { wallMs: 100, logical: 0, node: 1 });
  c.start();
  // Partition 0 moves away from n1: n2 and n3 own it now, and n1 hands its record over.
  c.reRing({ ...placementOf(2), version: 'v2', owners: (p) => (p === 0 ? ['n2', 'n3'] : NAMES) });
  const n1 = c.nodes.get('n1')!;
  for (let i = 0; i < 100 && n1.host.partitions.has(0); i++) c.flush(c.now() + 100);
  assert.equal(n1.host.partitions.has(0), false, 'n1 dropped partition 0 once its new owners held it');
  assert.equal(n1.sync.stats.partitionsHandedOff, 1);
  assert.ok(n1.sync.stats.handoffBytesSent >= 'only-n1-has-it'.length + 8, `${n1.sync.stats.handoffBytesSent} handoff bytes`);
  assert.ok(n1.sync.stats.bytesSent >= n1.sync.stats.handoffBytesSent);
});

test('a node handing a partition off pushes it to new owners that say they are pulling it, and drops it only once they hold it', () => {
  // The owners left catch the partition up from the node that leaves it (a shrinking owner set:
  // sync.ts gateOnDeparted), so their sync answers say they are pulling it (`u`), which withholds
  // a source's pushes; a node handing off must push regardless: only its pushes let it drop the
  // partition (markSynced), and withheld ones would drop it with its data nowhere else.
  const c = cluster(2, {});
  const said: string[] = [];
  for (const name of NAMES) c.nodes.get(name)!.sync.onMessage = ((inner) => (from: string, m: KvMessage) => {
    if (name === 'n1' && m.t === 'sr' && m.u?.includes(0)) said.push(from);
    return inner(from, m);
  })(c.nodes.get(name)!.sync.onMessage.bind(c.nodes.get(name)!.sync));
  c.put('n1', 0, 'only-n1-has-it', { wallMs: 100, logical: 0, node: 1 });
  c.start();
  c.reRing({ ...placementOf(2), version: 'v2', owners: (p) => (p === 0 ? ['n2', 'n3'] : NAMES) });
  const n1 = c.nodes.get('n1')!;
  const holds = (name: string) => {
    let held = false;
    c.nodes.get(name)!.host.run(0, (actor) => void (held = actor.peek('only-n1-has-it') !== null));
    return held;
  };
  for (let i = 0; i < 1_000 && n1.host.partitions.has(0); i++) {
    c.flush(c.now() + 1);
    if (!n1.host.partitions.has(0)) assert.ok(holds('n2') && holds('n3'), 'n1 dropped partition 0 only once both new owners held its key');
  }
  assert.equal(n1.host.partitions.has(0), false, 'n1 handed partition 0 off');
  assert.ok(said.length > 0, 'an owner told n1 it was pulling partition 0');
  assert.ok(n1.sync.stats.handoffBytesSent > 0, 'n1 pushed what it handed off');
});

test('records a replica gets by catch-up are neither client writes in its analytics nor accesses for its hot keys', () => {
  // F11/F16: a restarted node's `shoal stats` showed its catch-up as tens of thousands of writes,
  // and `shoal hotkeys` / the dashboard its caught-up keys as hot, with no client traffic at all.
  const partitions = 4;
  const c = cluster(partitions, {});
  for (const source of ['n2', 'n3']) for (let p = 0; p < partitions; p++) for (let k = 0; k < 5; k++) c.put(source, p, `p${p}-k${k}`, { wallMs: 100 + k, logical: 0, node: 2 });
  c.start();
  for (let i = 0; i < 100 && n1CatchingUp(c) > 0; i++) c.flush(c.now() + 100);
  assert.equal(n1CatchingUp(c), 0);
  const n1 = c.nodes.get('n1')!;
  assert.equal(n1.sync.catchUpProgress().keysReceived, partitions * 5, 'n1 caught up every key');
  assert.equal(n1.store.stats().entries, partitions * 5);
  assert.equal(n1.store.analyticsSnapshot()!.totals.writes, 0, 'no client wrote to n1');
  assert.deepEqual(n1.store.hotKeys(), [], 'no client touched a key on n1');
  // The writes the sources took from their clients (put) do count there.
  const n2 = c.nodes.get('n2')!;
  assert.equal(n2.store.analyticsSnapshot()!.totals.writes, partitions * 5);
  assert.equal(n2.store.hotKeys().length, partitions * 5);
});

test('a restarted replica presses on with its sources round trip after round trip, never with more than one round and its wants unanswered per source', () => {
  // Before (sync.ts pressOn), a catch-up ran one round with one source per catchUpSyncIntervalMs
  // (100 ms here), each answer listing at most syncBatch entries: one partition of 40 keys per
  // round, so 16 partitions took 18 rounds, 1.8 s, and 32 keys came twice. Now each round with a source that moved a
  // good share of a batch is followed by the next as soon as it, and the wants it led to, are
  // answered. Flow control, checked at every round n1 starts: nothing is still unanswered by that
  // source, neither a round (`sq` until its `sr`) nor a whole want (`sw` until its `last` data).
  const partitions = 16;
  const keys = 40;
  const open = new Map<string, { rounds: number; wants: number }>();
  const violations: string[] = [];
  const watch = (from: string, to: string, m: KvMessage): boolean => {
    const peer = from === 'n1' ? to : to === 'n1' ? from : null;
    if (peer === null) return false;
    const o = open.get(peer) ?? { rounds: 0, wants: 0 };
    open.set(peer, o);
    if (from === 'n1' && m.t === 'sq') {
      if (o.rounds > 0 || o.wants > 0) violations.push(`a round to ${peer} with ${o.rounds} rounds and ${o.wants} wants unanswered`);
      o.rounds++;
    } else if (from === 'n1' && m.t === 'sw' && m.n !== true) o.wants++;
    else if (to === 'n1' && m.t === 'sr') o.rounds = Math.max(0, o.rounds - 1);
    else if (to === 'n1' && m.t === 'sd' && m.last) o.wants = Math.max(0, o.wants - 1);
    return false;
  };
  const c = cluster(partitions, { syncBatch: 16, syncBucketsAbove: 1_000 }, watch);
  for (const source of ['n2', 'n3']) for (let p = 0; p < partitions; p++) for (let k = 0; k < keys; k++) c.put(source, p, `p${p}-k${k}`, { wallMs: 100 + k, logical: 0, node: 2 });
  const n1 = c.nodes.get('n1')!;
  c.start();
  const startedMs = c.now();
  // Three ticks of the round timer (100 ms each; the first round goes at the first): the old pace took 18.
  c.flush(startedMs + 300);
  assert.equal(n1CatchingUp(c), 0, `caught up within three ticks: ${n1CatchingUp(c)} partitions left`);
  assert.deepEqual(violations, []);
  assert.equal(n1.sync.catchUpProgress().keysReceived, partitions * keys, 'every key once: no key is wanted from both sources');
});
