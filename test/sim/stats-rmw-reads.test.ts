// Read-modify-writes count store lookups as Redis counts keyspace hits and misses: DEL and UNLINK
// none (Redis deletes without a lookup: keyspace_hits and keyspace_misses stay as they were), every
// other operation one per key on its primary. Before, the primary counted its own answer to its
// claim as a read too (two per key under a new claim). The group commit's share is in
// test/unit/replication-rmw-batch.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import type { RmwOp } from '../../src/replication/rmw.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Simulation } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const KEYS = 8;

test('DEL and UNLINK count no store lookup, other read-modify-writes one per key, under a new claim and a held one', () => {
  const sim = new Simulation<ShoalNode>({
    seed: 23,
    nodes: 1,
    trace: new EventTrace(),
    factory: (env: Env) => createNode({ env, config: { partitions: 64, replicas: 1, gossipProfile: 'local' } }),
  });
  sim.runUntil(10_000, () => sim.upNodes().every((n) => n.process!.settled()));
  const node = sim.process(0)!;
  let pending = 0;
  const call = (start: (done: (error: unknown) => void) => void): void => {
    pending++;
    start((error) => {
      assert.equal(error, null);
      pending--;
    });
  };
  const settle = (): void => {
    sim.runUntil(sim.now + 5_000, () => pending === 0);
    assert.equal(pending, 0);
  };
  const setAll = (keys: string[]): void => {
    for (const key of keys) call((done) => node.kv.set(enc.encode(key), enc.encode('1'), {}, done));
    settle();
  };
  /** Store hits and misses counted while `op` runs on each key, one after the other. */
  const lookups = (keys: string[], op: RmwOp): { hits: number; misses: number } => {
    const before = node.store.stats();
    for (const key of keys) {
      call((done) => node.keyspace.rmw([enc.encode(key)], op, {}, done));
      settle();
    }
    const after = node.store.stats();
    return { hits: after.hits - before.hits, misses: after.misses - before.misses };
  };
  const seen: Record<string, { hits: number; misses: number }> = {};
  // Keys of distinct partitions, each claimed for the first time by the operation measured.
  const claimed = (prefix: string) => Array.from({ length: KEYS }, (_, i) => `${prefix}:${i}`);

  setAll(claimed('del'));
  seen['DEL of live keys, new claims'] = lookups(claimed('del'), { op: 'del' });
  seen['DEL of missing keys, held claims'] = lookups(claimed('del'), { op: 'del' });
  setAll(claimed('del'));
  seen['DEL of live keys, held claims'] = lookups(claimed('del'), { op: 'del' });
  seen['INCR of missing keys, new claims'] = lookups(claimed('incr'), { op: 'incrby', by: 1n });
  seen['INCR of live keys, held claims'] = lookups(claimed('incr'), { op: 'incrby', by: 1n });
  setAll(claimed('getdel'));
  seen['GETDEL of live keys, new claims'] = lookups(claimed('getdel'), { op: 'getdel' });

  const none = { hits: 0, misses: 0 };
  assert.deepEqual(seen, {
    'DEL of live keys, new claims': none,
    'DEL of missing keys, held claims': none,
    'DEL of live keys, held claims': none,
    'INCR of missing keys, new claims': { hits: 0, misses: KEYS },
    'INCR of live keys, held claims': { hits: KEYS, misses: 0 },
    'GETDEL of live keys, new claims': { hits: KEYS, misses: 0 },
  });
});
