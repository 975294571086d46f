// COPY is a read-modify-write (`{ op: 'copy' }`, src/replication/rmw.ts) that travels to the
// partition's primary in the `x` message: every owner must end up holding the source's value and
// expiry under the destination, the source untouched, also when the primary changes between two
// copies (the new primary claims, reads the records at a quorum, and copies what it read), and a
// repeat of a request id must not copy again over a newer destination. Virtual time only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RmwOp, RmwResult } from '../../src/replication/api.ts';
import { decodeRecord, keyToStoreKey } from '../../src/replication/record.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';
import { allSettled } from './drive-cluster.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const SOURCE = enc.encode('{copy}source');
const DESTINATION = enc.encode('{copy}destination');

test('COPY through the simulator: every owner holds the copy with its expiry, across a primary crash, and a repeated id copies once', () => {
  const cluster = new KvCluster({ seed: 11, nodes: 4, partitions: 16, replication: {}, network: {}, trace: new EventTrace() });
  const { sim } = cluster;
  sim.runUntil(10_000, () => allSettled(cluster, 4));
  assert.ok(allSettled(cluster, 4), 'the cluster formed');
  const placement = sim.process(0)!.placement();
  const partition = placement.partitionOfKey(SOURCE);
  assert.equal(placement.partitionOfKey(DESTINATION), partition, 'one hash tag, one partition');
  const owners = placement.owners(partition).map((name) => sim.indexOf(name)!);
  const outsider = [0, 1, 2, 3].find((i) => !owners.includes(i))!;

  /** Runs one operation through node `via` and returns its answer. */
  const rmw = (via: number, keys: Uint8Array[], op: RmwOp, requestId?: string): RmwResult | string => {
    let answer: RmwResult | string | null = null;
    sim.process(via)!.keyspace.rmw(keys, op, { consistency: 'quorum', ...(requestId ? { requestId } : {}) }, (error, result) => (answer = error?.code ?? result ?? 'none'));
    sim.runUntil(sim.now + 30_000, () => answer !== null);
    assert.notEqual(answer, null, 'answered');
    return answer!;
  };
  /** What each live owner holds for `key`: value and expiry, or null. */
  const held = (key: Uint8Array): (string | null)[] =>
    owners
      .filter((i) => sim.process(i) != null)
      .map((i) => {
        const raw = sim.process(i)!.heldPartitions().get(partition)?.peek(keyToStoreKey(key)) ?? null;
        if (raw === null) return null;
        const record = decodeRecord(raw);
        return record.tombstone ? null : `${dec.decode(record.value)}@${record.expiresAtMs}`;
      });

  const expiresAtMs = sim.nodes[outsider]!.clock.wallMs() + 3_600_000;
  assert.deepEqual(rmw(outsider, [SOURCE], { op: 'set', value: enc.encode('v1'), expiry: { kind: 'at', atMs: expiresAtMs }, condition: 'always', get: false }), { kind: 'ok' });
  // From a node that owns nothing of the partition: the operation goes to the primary.
  assert.deepEqual(rmw(outsider, [SOURCE, DESTINATION], { op: 'copy', replace: false }), { kind: 'integer', value: 1n });
  sim.runUntil(sim.now + 2_000);
  assert.deepEqual(held(DESTINATION), owners.map(() => `v1@${expiresAtMs}`), 'every owner holds the copy with the source expiry');
  assert.deepEqual(held(SOURCE), owners.map(() => `v1@${expiresAtMs}`), 'the source is untouched');
  assert.deepEqual(rmw(owners[1]!, [SOURCE, DESTINATION], { op: 'copy', replace: false }), { kind: 'integer', value: 0n }, 'without REPLACE an existing destination stays');

  // The primary crashes; the source changes (no expiry now) through the next primary, which copies it over.
  sim.crash(owners[0]!);
  sim.runUntil(sim.now + 15_000);
  assert.deepEqual(rmw(outsider, [SOURCE], { op: 'set', value: enc.encode('v2'), expiry: { kind: 'none' }, condition: 'always', get: false }), { kind: 'ok' });
  assert.deepEqual(rmw(outsider, [SOURCE, DESTINATION], { op: 'copy', replace: true }, 'copy-2'), { kind: 'integer', value: 1n });
  sim.runUntil(sim.now + 2_000);
  assert.deepEqual(held(DESTINATION), owners.slice(1).map(() => 'v2@0'), 'the live owners hold the new copy, without an expiry');

  // The destination changes; a repeat of the copy's request id answers its first result and copies nothing.
  assert.deepEqual(rmw(outsider, [DESTINATION], { op: 'set', value: enc.encode('later'), expiry: { kind: 'keep' }, condition: 'always', get: false }), { kind: 'ok' });
  assert.deepEqual(rmw(owners[2]!, [SOURCE, DESTINATION], { op: 'copy', replace: true }, 'copy-2'), { kind: 'integer', value: 1n });
  sim.runUntil(sim.now + 2_000);
  assert.deepEqual(held(DESTINATION), owners.slice(1).map(() => 'later@0'), 'the repeat did not copy again');

  // No source: nothing written, the destination kept.
  assert.deepEqual(rmw(outsider, [enc.encode('{copy}none'), DESTINATION], { op: 'copy', replace: true }), { kind: 'bulk', value: null });
  assert.deepEqual(held(DESTINATION), owners.slice(1).map(() => 'later@0'));
});
