// A peek (GetOptions.peek, what OBJECT's lookups use, as Redis's LOOKUP_NOTOUCH) counts no use of
// the key on any replica it reaches: no frequency (OBJECT FREQ would answer more each time), no
// store hit or miss, no coordinator read or miss. And the mark of a value APPEND or SETRANGE built
// in place (OBJECT ENCODING answers `raw` for it, as Redis) travels with the record to every replica,
// is kept by writes that keep the value, and is cleared by writes that replace it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ShoalNode } from '../../src/node/node.ts';
import type { GetOptions, GetResult } from '../../src/replication/api.ts';
import { decodeRecord, keyToStoreKey, type WrittenAs } from '../../src/replication/record.ts';
import type { RmwOp } from '../../src/replication/rmw.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled } from './drive-cluster.ts';

const enc = new TextEncoder();

function cluster(seed: number): { nodes: ShoalNode[]; call: <T>(start: (done: (error: unknown, result?: T) => void) => void) => () => T } {
  const kv = new KvCluster({ seed, nodes: 3, partitions: 16, replication: {}, network: {}, trace: new EventTrace(), nodeConfig: () => ({ evictionPolicy: 'lfu' }) });
  const { sim } = kv;
  sim.runUntil(10_000, () => allSettled(kv, 3));
  assert.ok(allSettled(kv, 3), 'the cluster formed');
  const nodes = [0, 1, 2].map((i) => sim.process(i)!);
  let pending = 0;
  const settle = (): void => {
    sim.runUntil(sim.now + 5_000, () => pending === 0);
    assert.equal(pending, 0);
  };
  /** Starts a call; the returned function settles the simulation and gives its result. */
  const call = <T>(start: (done: (error: unknown, result?: T) => void) => void): (() => T) => {
    pending++;
    let answer: T | undefined;
    start((error, result) => {
      assert.equal(error, null);
      answer = result;
      pending--;
    });
    return () => {
      settle();
      return answer as T;
    };
  };
  return { nodes, call };
}

test('a peek counts no use of the key on any replica: frequency, store hits and misses, coordinator reads and misses stay as they were', () => {
  const { nodes, call } = cluster(31);
  const key = enc.encode('peeked');
  const missing = enc.encode('never-written');
  call((done) => nodes[0]!.kv.set(key, enc.encode('v'), { consistency: 'all' }, done))();
  /** What counts a use, on every node. */
  const uses = () =>
    nodes.map((node) => ({
      frequency: node.keyFrequency(key),
      storeHits: node.store.stats().hits,
      storeMisses: node.store.stats().misses,
      coordinatorReads: node.kv.stats.reads,
      coordinatorMisses: node.kv.stats.missAbsent,
    }));
  const get = (from: ShoalNode, k: Uint8Array, options: GetOptions): GetResult => call<GetResult>((done) => from.keyspace.get(k, { consistency: 'all', ...options }, done))();

  const before = uses();
  assert.ok(before.every((u) => u.frequency !== null), 'every node holds a replica and counts frequency (lfu)');
  for (let i = 0; i < 5; i++) {
    for (const from of nodes) {
      assert.equal(new TextDecoder().decode(get(from, key, { peek: true }).value!), 'v');
      assert.equal(get(from, missing, { peek: true }).value, null);
    }
  }
  assert.deepEqual(uses(), before, '15 peeks of a held key and 15 of a missing one, from every node');

  // The same reads without peek count: the figures above can move.
  get(nodes[1]!, key, {});
  get(nodes[1]!, missing, {});
  const after = uses();
  assert.ok(after.every((u, i) => u.frequency! > before[i]!.frequency! && u.storeHits > before[i]!.storeHits && u.storeMisses > before[i]!.storeMisses));
  assert.equal(after[1]!.coordinatorReads, before[1]!.coordinatorReads + 2);
  assert.equal(after[1]!.coordinatorMisses, before[1]!.coordinatorMisses + 1);
});

test('the written-as mark of APPEND, SETRANGE and INCRBYFLOAT reaches every replica, stays through EXPIRE, PERSIST, GETEX, RENAME and COPY, and goes with SET and INCR', () => {
  const { nodes, call } = cluster(32);
  const rmw = (keys: string[], op: RmwOp): void => {
    call((done) => nodes[0]!.keyspace.rmw(keys.map((k) => enc.encode(k)), op, { consistency: 'all' }, done))();
  };
  const set = (key: string, value: string): void => {
    call((done) => nodes[0]!.kv.set(enc.encode(key), enc.encode(value), { consistency: 'all' }, done))();
  };
  /** The mark in each node's replica of `key`, and as each node answers a read of it: all must agree. */
  const marked = (key: string): WrittenAs | undefined => {
    const bytes = enc.encode(key);
    const partition = nodes[0]!.placement().partitionOfKey(bytes);
    const held = nodes.map((node) => decodeRecord(node.heldPartitions().get(partition)!.peek(keyToStoreKey(bytes))!).writtenAs);
    const answered = nodes.map((node) => call<GetResult>((done) => node.keyspace.get(bytes, { peek: true }, done))().writtenAs);
    const seen = [...held, ...answered];
    assert.ok(seen.every((m) => m === seen[0]), `${key}: held ${held.join(', ')}; answered ${answered.join(', ')}`);
    return seen[0];
  };
  const far = 4_000_000_000_000;

  set('{a}x', 'abc');
  assert.equal(marked('{a}x'), undefined, 'SET');
  rmw(['{a}x'], { op: 'append', value: enc.encode('d') });
  assert.equal(marked('{a}x'), 'in-place', 'APPEND to a held key');
  rmw(['{a}x'], { op: 'expire', atMs: far, condition: 'always' });
  assert.equal(marked('{a}x'), 'in-place', 'EXPIRE');
  rmw(['{a}x'], { op: 'persist' });
  assert.equal(marked('{a}x'), 'in-place', 'PERSIST');
  rmw(['{a}x'], { op: 'getex', expiry: { kind: 'at', atMs: far } });
  assert.equal(marked('{a}x'), 'in-place', 'GETEX EXAT');
  rmw(['{a}x', '{a}y'], { op: 'rename', nx: false });
  assert.equal(marked('{a}y'), 'in-place', 'RENAME');
  rmw(['{a}y', '{a}z'], { op: 'copy', replace: false });
  assert.equal(marked('{a}z'), 'in-place', 'COPY');
  set('{a}y', 'abc');
  assert.equal(marked('{a}y'), undefined, 'SET after APPEND');

  rmw(['new'], { op: 'append', value: enc.encode('xy') });
  assert.equal(marked('new'), undefined, 'APPEND to a missing key stores its argument as SET does');
  rmw(['range'], { op: 'setrange', offset: 0, value: enc.encode('12') });
  assert.equal(marked('range'), 'in-place', 'SETRANGE of a missing key');
  rmw(['range'], { op: 'incrby', by: 1n });
  assert.equal(marked('range'), undefined, 'INCR replaces the value');
  rmw(['range'], { op: 'incrbyfloat', by: '0' });
  assert.equal(marked('range'), 'float', 'INCRBYFLOAT');
  rmw(['range'], { op: 'expire', atMs: far, condition: 'always' });
  assert.equal(marked('range'), 'float', 'EXPIRE after INCRBYFLOAT');
  rmw(['range'], { op: 'append', value: enc.encode('5') });
  assert.equal(marked('range'), 'in-place', 'APPEND after INCRBYFLOAT');
  rmw(['range'], { op: 'incrbyfloat', by: '1' });
  assert.equal(marked('range'), 'float', 'INCRBYFLOAT after APPEND');
  rmw(['range'], { op: 'incrby', by: 1n });
  assert.equal(marked('range'), undefined, 'INCR after INCRBYFLOAT');
});
