// `shoal stats` counts a read as the client saw it (probe-cli F3): in the simulator, one node that
// holds a deleted key's tombstone and an expired value through the tombstone grace answers both as
// misses, and its access analytics (hits, misses, the time buckets, the prefix table) count them
// as misses too, as its store's hit and miss counters do, not as the hits of finding a record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../../src/node/create-node.ts';
import type { ShoalNode } from '../../src/node/node.ts';
import type { GetResult } from '../../src/replication/api.ts';
import type { Env } from '../../src/runtime/env.ts';
import { Simulation } from '../../src/sim/simulation.ts';
import { EventTrace } from '../../src/sim/trace.ts';

const enc = new TextEncoder();
const KEYS = 16;

test('reads of deleted, expired and never-written keys count as misses in the access analytics and the store counters', () => {
  const sim = new Simulation<ShoalNode>({
    seed: 19,
    nodes: 1,
    trace: new EventTrace(),
    // Every read reaches the prefix table (readSample 1), so its counts are exact here.
    factory: (env: Env) => createNode({ env, config: { partitions: 64, replicas: 1, gossipProfile: 'local', analytics: { readSample: 1 } } }),
  });
  sim.runUntil(10_000, () => sim.upNodes().every((n) => n.process!.settled()));
  const node = sim.process(0)!;
  let pending = 0;
  const results: GetResult[] = [];
  const call = <T>(start: (done: (error: unknown, result?: T) => void) => void, onResult?: (result: T) => void): void => {
    pending++;
    start((error, result) => {
      assert.equal(error, null);
      if (result !== undefined) onResult?.(result);
      pending--;
    });
  };
  const settle = (): void => {
    sim.runUntil(sim.now + 5_000, () => pending === 0);
    assert.equal(pending, 0);
  };
  for (let i = 0; i < KEYS; i++) {
    call((done) => node.kv.set(enc.encode(`exp:${i}`), enc.encode('v'), { ttlMs: 1_000 }, done));
    call((done) => node.kv.set(enc.encode(`del:${i}`), enc.encode('v'), {}, done));
    call((done) => node.kv.set(enc.encode(`live:${i}`), enc.encode('v'), {}, done));
  }
  settle();
  for (let i = 0; i < KEYS; i++) call((done) => node.kv.delete(enc.encode(`del:${i}`), {}, done));
  settle();
  sim.runUntil(sim.now + 2_000);
  const before = node.analytics()!;
  const storeBefore = node.store.stats();
  for (const prefix of ['exp:', 'del:', 'none:', 'live:']) for (let i = 0; i < KEYS; i++) call<GetResult>((done) => node.kv.get(enc.encode(`${prefix}${i}`), {}, done), (r) => results.push(r));
  settle();
  assert.deepEqual(results.map((r) => r.value === null), [...Array(3 * KEYS).fill(true), ...Array(KEYS).fill(false)], 'every read but the live keys answered nil');

  const after = node.analytics()!;
  const store = node.store.stats();
  const reads = { hits: after.totals.hits - before.totals.hits, misses: after.totals.misses - before.totals.misses };
  assert.deepEqual(reads, { hits: KEYS, misses: 3 * KEYS }, 'one store read per get: the live keys hit, the rest missed');
  assert.deepEqual({ hits: store.hits - storeBefore.hits, misses: store.misses - storeBefore.misses }, reads, 'the store counts them the same way');
  const buckets = (a: typeof after) => a.hitRatio.reduce((n, b) => ({ hits: n.hits + b.hits, misses: n.misses + b.misses }), { hits: 0, misses: 0 });
  assert.deepEqual(buckets(after), { hits: after.totals.hits, misses: after.totals.misses }, 'the time buckets hold the same counts');
  const prefix = (p: string) => after.prefixes.find((x) => x.prefix === p);
  for (const p of ['exp:', 'del:']) assert.deepEqual([prefix(p)?.hits, prefix(p)?.misses], [0, KEYS], `${p} reads are misses in the prefix table`);
  assert.deepEqual([prefix('live:')?.hits, prefix('live:')?.misses], [KEYS, 0]);
});
