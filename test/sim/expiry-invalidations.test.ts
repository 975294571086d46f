// Expiries on the invalidation streams (src/replication/expiry-watch.ts), in the simulator: three
// nodes holding every partition, their wall clocks apart. A subscriber that asks for expiries (as
// Redis client-side caching does) hears of every value it could have cached once that value has
// expired, on the clock of the node it subscribed to, never before, also for values written
// before it subscribed; a value overwritten without an expiry or deleted first is not announced
// again. While only near caches subscribe (they keep each entry's own deadline) an expiry sends
// nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import type { InvalidationBatch } from '../../src/protocol/frames.ts';
import { EXPIRY_SWEEP_INTERVAL_MS } from '../../src/replication/expiry-watch.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Simulation, nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const PARTITIONS = 64;
const ALL = new Uint8Array(PARTITIONS / 8).fill(0xff);
/** The wall-clock error of each node (ms). */
const OFFSETS = [0, 400, -300];

interface Heard {
  key: string;
  /** The wall time of the subscribed node when the batch was delivered. */
  atWallMs: number;
  /** Virtual time then. */
  atMs: number;
}

function cluster() {
  const seeds = [0, 1, 2].map((i) => nodeAddress(i));
  const sim = new Simulation<ShoalNode>({
    seed: 11,
    nodes: 3,
    trace: new EventTrace(),
    factory: (env: Env) => createNode({ env, config: { seeds, partitions: PARTITIONS, replicas: 3, gossipProfile: 'local', writeQuorum: 'all', readQuorum: 'quorum' } }),
  });
  sim.nodes.forEach((n, i) => n.clock.setOffset(OFFSETS[i]!));
  sim.runUntil(10_000, () => sim.upNodes().every((n) => n.process!.settled()));
  assert.ok(sim.upNodes().every((n) => n.process!.joined), 'the cluster formed');
  return sim;
}

/** Subscribes to every partition of node `i`; the keys it hears, with that node's wall time. */
function listen(sim: Simulation<ShoalNode>, i: number, expiries: boolean): Heard[] {
  const heard: Heard[] = [];
  const subscription = sim.process(i)!.invalidations.subscribe((batch: InvalidationBatch) => {
    for (const entry of batch.partitions) for (const { key } of entry.keys) heard.push({ key, atWallMs: sim.nodes[i]!.clock.wallMs(), atMs: sim.now });
  }, { expiries });
  subscription.update(ALL, []);
  return heard;
}

/** Writes through node 0 (every replica acknowledges); returns each key's absolute expiry. */
function write(sim: Simulation<ShoalNode>, entries: [key: string, ttlMs: number | null][]): Map<string, number> {
  const via = sim.process(0)!;
  const expiries = new Map<string, number>();
  let acked = 0;
  for (const [key, ttlMs] of entries) {
    // The coordinator makes a TTL absolute on its own clock as it takes the write.
    if (ttlMs) expiries.set(key, sim.nodes[0]!.clock.wallMs() + ttlMs);
    const done = (error: unknown) => {
      assert.equal(error, null);
      acked++;
    };
    if (ttlMs === null) via.kv.delete(enc.encode(key), {}, done);
    else via.kv.set(enc.encode(key), enc.encode('v'), ttlMs === 0 ? {} : { ttlMs }, done);
  }
  sim.runUntil(sim.now + 5_000, () => acked === entries.length);
  assert.equal(acked, entries.length);
  return expiries;
}

test('expiry invalidations: a subscriber asking for expiries hears of each expired value on its node\'s clock, never before; near caches alone make none', () => {
  const sim = cluster();
  const nearOnly = listen(sim, 0, false);
  // Written while only a near cache listens: `early:*` expire then, `late:*` after the others subscribe.
  const early = write(sim, Array.from({ length: 20 }, (_, i): [string, number] => [`early:${i}`, 200 + i * 50]));
  sim.runUntil(sim.now + 3_000);
  const writesHeard = nearOnly.length;
  assert.ok(writesHeard >= early.size, 'the writes were heard');
  assert.ok([...early.values()].every((at) => at < sim.nodes[0]!.clock.wallMs()), 'every early key has expired');
  sim.runUntil(sim.now + 3_000);
  assert.equal(nearOnly.length, writesHeard, 'expiries made no message while no subscriber asked for them');

  const late = write(sim, Array.from({ length: 30 }, (_, i): [string, number] => [`late:${i}`, 2_000 + i * 37]));
  const heard = [0, 1, 2].map((i) => listen(sim, i, true));
  const more = write(sim, [
    ...Array.from({ length: 30 }, (_, i): [string, number] => [`after:${i}`, 300 + i * 53]),
    ['rewritten', 1_000], ['deleted', 1_000], ['forever', 0],
  ]);
  // Overwritten without an expiry and deleted before they expire: those changes are the last news of them.
  write(sim, [['rewritten', 0], ['deleted', null]]);
  const changedAt = sim.now;
  sim.runUntil(sim.now + 6_000);

  const expiring = new Map([...late, ...more].filter(([key]) => key !== 'rewritten' && key !== 'deleted'));
  heard.forEach((list, i) => {
    for (const [key, expiresAtMs] of expiring) {
      const about = list.filter((h) => h.key === key);
      const after = about.filter((h) => h.atWallMs >= expiresAtMs);
      assert.equal(after.length, 1, `node ${i} announced ${key}'s expiry once (heard: ${JSON.stringify(about)})`);
      assert.ok(about.length - after.length <= (late.has(key) ? 0 : 1), `node ${i}: nothing but the write before ${key} expired (heard: ${JSON.stringify(about)})`);
      // Within a sweep interval and a turn of its expiry, on that node's clock.
      assert.ok(after[0]!.atWallMs <= expiresAtMs + EXPIRY_SWEEP_INTERVAL_MS + 50, `node ${i}: ${key} announced ${after[0]!.atWallMs - expiresAtMs} ms after it expired`);
    }
    for (const key of ['rewritten', 'deleted', 'forever']) {
      assert.deepEqual(list.filter((h) => h.key === key && h.atMs > changedAt), [], `node ${i}: nothing more about ${key}`);
    }
    assert.ok(!list.some((h) => h.key.startsWith('early:')), `node ${i}: keys that expired before it subscribed are not announced`);
  });
});
