// An INCR on a counter its primary's store evicted long ago (more evictions since than the
// eviction shadow remembers) must still count from the value the other owners hold: the primary's
// claim said the key was fresh, its store no longer has it, and nothing on the node remembers the
// eviction any more. Virtual time: nothing here is a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { nodeAddress } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled, drive } from './drive-cluster.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const PRIMARY = 0;

test('INCR on a counter its primary evicted past the shadow counts on from the owners\' value', () => {
  const cluster = new KvCluster({
    seed: 5,
    nodes: 3,
    partitions: 16,
    replication: { replicas: 3 },
    network: {},
    trace: new EventTrace(),
    nodeConfig: ({ index }) => ({ maxMemory: index === PRIMARY ? 2 * 2 ** 20 : 256 * 2 ** 20, evictionPolicy: 'lru' }),
  });
  const sim = cluster.sim;
  sim.runUntil(30_000, () => allSettled(cluster, 3));
  const placement = sim.process(PRIMARY)!.placement();
  let name = '';
  for (let i = 0; name === ''; i++) if (placement.owners(placement.partitionOfKey(enc.encode(`c${i}`)))[0] === nodeAddress(PRIMARY)) name = `c${i}`;
  const key = [enc.encode(name)];
  const incr = (via: number): bigint => {
    let result: unknown = null;
    sim.process(via)!.keyspace.rmw(key, { op: 'incrby', by: 1n }, { consistency: 'quorum' }, (error, r) => (result = error ?? r));
    sim.runUntil(sim.now + 10_000, () => result !== null);
    const r = result as { kind?: string; value?: bigint } | null;
    assert.equal(r?.kind, 'integer', `INCR answered ${String(r && (r as { message?: string }).message)}`);
    return r!.value!;
  };
  for (let i = 1; i <= 5; i++) assert.equal(incr(1), BigInt(i));
  const filler = new Uint8Array(200);
  for (let batch = 0; batch < 16; batch++) {
    assert.deepEqual(drive(cluster, 1000, 4, (i, done) => sim.process(PRIMARY)!.kv.set(enc.encode(`f${batch}-${i}`), filler, { consistency: 'one' }, (error) => done(error))), []);
    sim.runUntil(sim.now + 2_000);
  }
  const primary = sim.process(PRIMARY)!;
  const evictions = primary.stats().store.size;
  assert.ok(evictions > 4_096 + 5_000, `the primary evicted ${evictions} entries: more than its shadow remembers`);
  let held: unknown = 'unread';
  primary.kv.get(key[0]!, { consistency: 'one' }, (_e, r) => (held = r?.value ? dec.decode(r.value) : null));
  assert.equal(incr(1), 6n, `the counter was 5 on every owner (${name}; primary's own read: ${String(held)})`);
});
