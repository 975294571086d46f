// How many times Shoal copies a value on its way through an N=3 write: coordinator, two remote
// owners and its own replica, in the simulator (the same node code as production). Every copy in
// Shoal's code is a typed array's `set` or `slice`; both are spied on while one write runs, and
// each call whose source (or result) holds the value counts, with the line it came from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WriteResult } from '../../src/replication/api.ts';
import { KvCluster } from '../../src/sim/scenarios/kv-cluster.ts';
import { EventTrace } from '../../src/sim/trace.ts';

/** Large enough that no other message of the run (gossip, sync digests) can hold it. */
const VALUE_BYTES = 16 * 1024;

/** A value no other buffer in the run can contain by chance. */
function distinctValue(): Uint8Array {
  const value = new Uint8Array(VALUE_BYTES);
  let x = 0x2545f491;
  for (let i = 0; i < value.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    value[i] = x & 0xff;
  }
  return value;
}

/** Runs `run` with typed-array copies spied on; returns the call site of each copy of `value`. */
function valueCopies(value: Uint8Array, run: () => void): string[] {
  const head = Buffer.from(value.buffer, value.byteOffset, 64);
  const holdsValue = (bytes: unknown): boolean =>
    bytes instanceof Uint8Array && bytes.byteLength >= value.byteLength && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(head) >= 0;
  const sites: string[] = [];
  // Line 0 is the message, 1 this function, 2 the spy, 3 the code that copied.
  const site = (): string => new Error().stack!.split('\n')[3]!.trim().replace(/\(.*\/(src|test)\//, '($1/');
  const proto = Uint8Array.prototype as unknown as { set: (source: ArrayLike<number>, offset?: number) => void; slice: (start?: number, end?: number) => Uint8Array };
  const { set, slice } = proto;
  // Own properties of Uint8Array.prototype shadow %TypedArray%.prototype's (Buffers included);
  // deleting them restores the originals.
  Object.defineProperty(proto, 'set', {
    configurable: true,
    writable: true,
    value(this: Uint8Array, source: ArrayLike<number>, offset?: number) {
      if (holdsValue(source)) sites.push(site());
      return set.call(this, source, offset);
    },
  });
  Object.defineProperty(proto, 'slice', {
    configurable: true,
    writable: true,
    value(this: Uint8Array, start?: number, end?: number) {
      const out = slice.call(this, start, end);
      if (holdsValue(out)) sites.push(site());
      return out;
    },
  });
  try {
    run();
  } finally {
    delete (proto as Partial<typeof proto>).set;
    delete (proto as Partial<typeof proto>).slice;
  }
  return sites;
}

test('an N=3 write copies its value 7 times: record, one encoding for both remote owners, one send copy per remote owner, one store copy per replica', () => {
  const c = new KvCluster({ seed: 1, nodes: 3, partitions: 16, replication: { replicas: 3 }, network: {}, trace: new EventTrace() });
  const formed = (): boolean => c.sim.upNodes().every((n) => n.process!.settled());
  c.sim.runUntil(10_000, formed);
  assert.ok(formed(), 'the cluster should have formed');
  const coordinator = c.sim.process(0)!;
  const key = new TextEncoder().encode('copied');
  assert.equal(coordinator.placement().owners(coordinator.placement().partitionOfKey(key)).length, 3);

  const value = distinctValue();
  let answer: { error: unknown; result?: WriteResult } | null = null;
  const sites = valueCopies(value, () => {
    coordinator.kv.set(key, value, { consistency: 'quorum' }, (error, result) => (answer = { error, result }));
    // Until every owner acknowledged (the write is finished), not just the quorum.
    c.sim.runUntil(c.sim.now + 5_000, () => answer !== null && coordinator.kv.pendingCount === 0);
  });
  assert.deepEqual(answer, { error: null, result: { acks: 2, version: (answer as unknown as { result: WriteResult }).result.version } });
  assert.equal(coordinator.kv.pendingCount, 0, 'every owner should have acknowledged');
  for (const node of c.sim.upNodes()) assert.equal(node.process!.store.has('copied'), true, `${node.address} should hold the value`);

  // Where they are, so a regression names its line. The simulated network's copy of each
  // datagram stands where the real transport's copy into its batch is (node-frames.ts).
  const where = sites.map((s) => s.replace(/:\d+:\d+\)$/, ')'));
  const count = (pattern: RegExp): number => where.filter((s) => pattern.test(s)).length;
  const explain = `copies made:\n  ${where.join('\n  ')}`;
  assert.equal(count(/encodeRecord/), 1, `the record is built once\n${explain}`);
  assert.equal(count(/encodeKvMessage/), 1, `the replica write is encoded once for both remote owners\n${explain}`);
  assert.equal(count(/sim\/network|datagram\.ts/), 2, `the network copies it once per remote owner\n${explain}`);
  assert.equal(count(/value-arena/), 3, `each replica's store copies it once\n${explain}`);
  assert.equal(sites.length, 7, explain);
});
