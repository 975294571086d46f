// Hot-key alerts (--hot-key-alert-rate, src/node/hot-key-alerts.ts) in virtual time: a key driven
// over the threshold raises an alert on its replicas within 2 s of the crossing, and the alert
// clears within 2 s of its rate falling under the hysteresis line. Every figure is in simulated
// time; the run is deterministic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HotKeyAlert } from '../../src/node/hot-key-alerts.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { KV_SIM_PARTITIONS, KV_WORKLOAD_START_MS } from '../../src/sim/scenarios/kv.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const THRESHOLD = 500;

function run(): { events: { node: number; at: number; alert: HotKeyAlert }[]; hotFrom: number; coolFrom: number; stats: number[]; active: number[]; top: string[] } {
  const cluster = new KvCluster({
    seed: 15,
    nodes: 3,
    partitions: KV_SIM_PARTITIONS,
    replication: {},
    network: {},
    trace: new EventTrace(),
    nodeConfig: () => ({ hotKeyAlertRate: THRESHOLD }),
  });
  const { sim } = cluster;
  sim.runUntil(KV_WORKLOAD_START_MS);
  const events: { node: number; at: number; alert: HotKeyAlert }[] = [];
  for (let n = 0; n < 3; n++) sim.process(n)!.onHotKeyAlert((alert) => events.push({ node: n, at: sim.now, alert }));
  const enc = new TextEncoder();
  const hot = enc.encode('hot:item');
  const value = enc.encode('v');
  // Background: 200 writes/s over 50 other keys, far under the threshold each.
  // The hot key: 1000 writes/s (every write reaches all 3 replicas' stores) from hotFrom to coolFrom, then 100/s.
  const hotFrom = sim.now + 3_000;
  const coolFrom = hotFrom + 6_000;
  const end = coolFrom + 6_000;
  let i = 0;
  for (let t = sim.now; t < end; t++) {
    const hotNow = t >= hotFrom && (t < coolFrom ? true : t % 10 === 0);
    sim.at(t, () => {
      const node = sim.process(i++ % 3)!;
      if (hotNow) node.kv.set(hot, value, {}, () => {});
      if (t % 5 === 0) node.kv.set(enc.encode(`cold:${(t / 5) % 50}`), value, {}, () => {});
    });
  }
  let top: string[] = [];
  sim.at(coolFrom - 1, () => (top = sim.process(0)!.hotKeys(3).keys.map((k) => k.key)));
  sim.runUntil(end + 3_000);
  return {
    events,
    hotFrom,
    coolFrom,
    stats: [0, 1, 2].map((n) => sim.process(n)!.stats().hotKeyAlerts),
    active: [0, 1, 2].map((n) => sim.process(n)!.activeHotKeyAlerts().length),
    top,
  };
}

test('a key over --hot-key-alert-rate raises an alert within 2 s of virtual time on each replica, and it clears within 2 s once the rate falls', () => {
  const { events, hotFrom, coolFrom, stats, active, top } = run();
  assert.equal(top[0], 'hot:item', 'the hot key leads hotKeys()');
  for (let n = 0; n < 3; n++) {
    const mine = events.filter((e) => e.node === n);
    assert.deepEqual(
      mine.map((e) => [e.alert.key, e.alert.cleared]),
      [
        ['hot:item', false],
        ['hot:item', true],
      ],
      `node ${n}: one alert and one clearing, nothing for the cold keys`,
    );
    const [fired, cleared] = mine;
    assert.ok(fired!.at > hotFrom && fired!.at <= hotFrom + 2_000, `node ${n} fired ${fired!.at - hotFrom} ms after the crossing`);
    assert.ok(fired!.alert.rate >= THRESHOLD && fired!.alert.threshold === THRESHOLD);
    assert.ok(cleared!.at > coolFrom && cleared!.at <= coolFrom + 2_000, `node ${n} cleared ${cleared!.at - coolFrom} ms after the fall`);
    assert.ok(cleared!.alert.rate < THRESHOLD * 0.75);
  }
  assert.deepEqual(stats, [1, 1, 1], 'NodeStats.hotKeyAlerts counts one alert per node');
  assert.deepEqual(active, [0, 0, 0], 'no alert left in force');
});

test('hot-key alerts replay exactly (virtual time, seeded sampler)', () => {
  const a = run().events.map((e) => [e.node, e.at, e.alert.rate, e.alert.cleared]);
  const b = run().events.map((e) => [e.node, e.at, e.alert.rate, e.alert.cleared]);
  assert.deepEqual(a, b);
});
