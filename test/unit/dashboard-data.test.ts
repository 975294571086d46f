// The dashboard's numbers (src/admin/dashboard-data.ts): latency quantiles from the
// metrics' request histogram, and the collector's rates, hit ratio, member states, events and
// alerts from scripted samples (no sockets: members are read through an injected fetch).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DashboardCollector, type DashboardNodeView, type DashboardSources, type NodeSample } from '../../src/admin/dashboard-data.ts';
import { LATENCY_BUCKETS, latencyQuantileMs, RequestTimer } from '../../src/admin/metrics.ts';

test('the dashboard reads p50/p99 from the metrics request histogram: each request counted once, quantiles as histogram_quantile', () => {
  const timer = new RequestTimer();
  for (let i = 0; i < 98; i++) timer.request('get', 'quorum', 'hit', 0.0003);
  timer.request('set', 'one', 'ok', 0.04);
  timer.request('rmw', 'quorum', 'ok', 9); // above the largest bound
  const counts = timer.latencyCounts();
  assert.equal(counts.length, LATENCY_BUCKETS.length + 1);
  assert.equal(counts.reduce((a, b) => a + b, 0), 100, 'one count per request, whatever its op and level');
  assert.equal(counts.at(-1), 1);
  // 0.3 ms lies in (0.25, 0.5]: the median interpolates inside that bucket, as Prometheus does.
  const p50 = latencyQuantileMs(counts, 0.5)!;
  assert.ok(p50 > 0.25 && p50 <= 0.5, `p50 ${p50}`);
  assert.ok(Math.abs(latencyQuantileMs(counts, 0.99)! - 50) < 1e-9, 'the 99th request (40 ms) is in the (25, 50] ms bucket, at its top');
  assert.equal(latencyQuantileMs(counts, 1), LATENCY_BUCKETS.at(-1)! * 1000, 'slower than every bound: the largest bound');
  assert.equal(latencyQuantileMs(new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), 0.5), null);
});

function view(name: string, states: Record<string, string>, reads: number, misses: number): DashboardNodeView {
  return {
    name,
    zone: 'z',
    joined: true,
    leaving: false,
    ring: { version: 'v1', partitions: 4, replicas: 2 },
    members: Object.entries(states).map(([n, state], i) => ({ name: n, zone: 'z', state, incarnation: 1, clientAddress: `127.0.0.1:${7400 + 10 * i}`, adminPort: 7403 + 10 * i, leaving: false, inRing: true, partitionsOwned: 4, primaries: 2 })),
    partitionsHeld: 4,
    handoff: { partitionsCatchingUp: 0, partitionsToHandOff: 0, keysToHandOff: 0, partitionsHandedOff: 0, keysHandedOff: 0 },
    hints: { held: 0, heldBytes: 0, stored: 0, delivered: 0, droppedForRoom: 0, expired: 0 },
    store: { entries: 10, bytes: 1000, maxMemory: 100_000, evictions: { size: 0, expired: 0, explicit: 0 } },
    coordinator: { reads, writes: 0, missAbsent: misses, missDeleted: 0, missExpired: 0, missEvicted: 0, readRepairs: 0, unavailable: 0, overloaded: 0 },
  };
}

test('the collector turns members\' counters into rates, hit ratio and events, and shows a member that stops answering', async () => {
  let uptime = 10_000;
  let states: Record<string, string> = { a: 'alive', b: 'alive' };
  let reads = 0;
  let misses = 0;
  let peerReads = 0;
  let peerDown = false;
  let asked = 0;
  let raise: ((alert: { kind: string; message: string }) => void) | null = null;
  const sources: DashboardSources = {
    version: 't',
    node: () => view('a', states, reads, misses),
    topology: () => ({ version: 'v1', partitions: 4, replicas: 2, nodes: [{ name: 'a', clientAddress: '', zone: 'z' }, { name: 'b', clientAddress: '', zone: 'z' }], owners: [['a', 'b'], ['b', 'a'], ['a', 'b'], ['b', 'a']] }),
    hotKeys: () => [{ key: 'k', rate: 50 }],
    clientConnections: () => 1,
    uptimeMs: () => uptime,
    latency: null,
    peerSamples: async () => {
      asked++;
      if (peerDown) return [{ name: 'b', sample: null, error: 'no answer within 800 ms' }];
      const own: NodeSample = collector.sample();
      return [{ name: 'b', sample: { ...own, node: 'b', uptimeMs: uptime + 5, counters: { ...own.counters, reads: peerReads, hits: peerReads, misses: 0 }, alerts: [] }, error: null }];
    },
    subscribeAlerts: (listener) => {
      raise = listener;
      return () => (raise = null);
    },
  };
  const collector: DashboardCollector = new DashboardCollector(sources);
  {
    const first = await collector.snapshot(0);
    assert.deepEqual(first.members.map((m) => [m.name, m.state, m.reachable]), [['a', 'alive', true], ['b', 'alive', true]]);
    assert.equal(asked, 1, 'the other members are asked once per snapshot');
    assert.equal(first.point.ops, 0, 'no rate before two samples');
    assert.deepEqual(first.ring.primaries, [0, 1, 0, 1]);
    assert.equal(first.hotKeys[0]!.key, 'k');
    assert.equal(first.hotKeys[0]!.rate, 50, "the rate at the key's busiest node, as shoal hotkeys merges (not a sum over replicas)");
    assert.deepEqual(first.hotKeys[0]!.nodes, ['a', 'b']);
  }
  uptime += 1000;
  reads += 100;
  misses += 25;
  peerReads += 300;
  const second = await collector.snapshot(0);
  assert.equal(second.point.ops, 400, '100 + 300 reads in one second');
  assert.equal(second.point.hitRatio, 375 / 400);
  assert.equal(second.members.find((m) => m.name === 'a')!.ops, 100);
  assert.equal(second.history!.length, 2);

  states = { a: 'alive', b: 'suspect' };
  peerDown = true;
  raise!({ kind: 'hot-key', message: 'key k over 1000 ops/s' });
  uptime += 1000;
  const third = await collector.snapshot(0);
  const b = third.members.find((m) => m.name === 'b')!;
  assert.equal(b.state, 'suspect');
  assert.equal(b.reachable, false);
  assert.match(b.error!, /no answer/);
  const kinds = third.events.map((e) => e.kind);
  assert.ok(kinds.includes('suspect'), kinds.join());
  assert.ok(kinds.includes('unreachable'), kinds.join());
  assert.ok(kinds.includes('alert:hot-key'), kinds.join());
  assert.equal(third.cluster.alive, 1);

  // The same alert is not shown twice.
  uptime += 1000;
  const fourth = await collector.snapshot(0);
  assert.equal(fourth.events.filter((e) => e.kind === 'alert:hot-key').length, 1);
  collector.close();
  assert.equal(raise, null, 'close unsubscribes from alerts');
});

test('events read in time order across members; an unreachable member is named for the channel it is asked on, and its return is an event; drained and degraded members show', async () => {
  // F4: members' alerts were appended member by member, each with its own earlier time, and the list
  // showed append order; F9: nothing on the dashboard read drain or health.
  let now = 1_000_000;
  let bDown = false;
  let aDrain = { state: 'serving', partitionsLeft: 0 };
  let degraded: { name: string; state: string; score: number }[] = [];
  const states = { a: 'alive', b: 'alive', c: 'alive' };
  let uptime = 10_000;
  const peerAlerts: Record<string, NodeSample['alerts']> = { b: [], c: [] };
  const sources: DashboardSources = {
    version: 't',
    node: () => ({ ...view('a', states, 0, 0), drain: aDrain, health: { members: degraded } }),
    topology: () => ({ version: 'v1', partitions: 4, replicas: 2, nodes: [], owners: [[], [], [], []] }),
    hotKeys: () => [],
    clientConnections: () => 0,
    uptimeMs: () => uptime,
    latency: null,
    peerSamples: async () =>
      ['b', 'c'].map((name) => {
        if (name === 'b' && bDown) return { name, sample: null, error: 'no answer within 800 ms' };
        const own = collector.sample();
        return { name, sample: { ...own, node: name, drain: { state: 'serving', partitionsLeft: 0 }, alerts: peerAlerts[name]! }, error: null };
      }),
  };
  const collector = new DashboardCollector(sources);
  const realNow = Date.now;
  Date.now = () => now;
  try {
    await collector.snapshot(0);
    // Both members raised alerts since, interleaved in time; they arrive member by member.
    peerAlerts.b = [{ seq: 1, atMs: now + 100, kind: 'hot-key', message: 'b first' }, { seq: 2, atMs: now + 300, kind: 'hot-key', message: 'b third' }];
    peerAlerts.c = [{ seq: 1, atMs: now + 200, kind: 'hot-key', message: 'c second' }, { seq: 2, atMs: now + 400, kind: 'hot-key', message: 'c fourth' }];
    now += 1000;
    uptime += 1000;
    const second = await collector.snapshot(0);
    const times = second.events.map((e) => e.atMs);
    assert.deepEqual(times, [...times].sort((x, y) => y - x), 'newest first, across members');
    assert.deepEqual(second.events.filter((e) => e.kind === 'alert:hot-key').map((e) => e.message.split(': ')[1]), ['c fourth', 'b third', 'c second', 'b first']);

    bDown = true;
    now += 1000;
    uptime += 1000;
    const third = await collector.snapshot(0);
    const lost = third.events.find((e) => e.kind === 'unreachable')!;
    assert.match(lost.message, /^b does not answer .*node-to-node channel.*no answer within 800 ms/);
    assert.doesNotMatch(lost.message, /admin port/, 'members are not asked on their admin port');

    bDown = false;
    aDrain = { state: 'drained', partitionsLeft: 0 };
    degraded = [{ name: 'c', state: 'degraded', score: 0.25 }];
    now += 1000;
    uptime += 1000;
    const fourth = await collector.snapshot(0);
    assert.equal(fourth.events[0]!.atMs, now);
    const kinds = fourth.events.filter((e) => e.atMs === now).map((e) => `${e.kind} ${e.message}`);
    assert.ok(kinds.includes('reachable b answers again'), kinds.join(' | '));
    assert.ok(kinds.includes('drain a: serving → drained'), kinds.join(' | '));
    assert.ok(kinds.includes('degraded c is degraded: health score 0.25'), kinds.join(' | '));
    const member = (name: string) => fourth.members.find((m) => m.name === name)!;
    assert.deepEqual([member('a').drain, member('a').degraded], ['drained', false]);
    assert.deepEqual([member('c').drain, member('c').degraded, member('c').healthScore], ['serving', true, 0.25]);

    degraded = [];
    aDrain = { state: 'serving', partitionsLeft: 0 };
    now += 1000;
    uptime += 1000;
    const fifth = await collector.snapshot(0);
    const back = fifth.events.filter((e) => e.atMs === now).map((e) => e.kind);
    assert.deepEqual(back.sort(), ['healthy', 'undrain']);
  } finally {
    Date.now = realNow;
    collector.close();
  }
});
