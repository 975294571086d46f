// A near cache whose connection drops flushes that stream's partitions, and remembers the most read
// of the entries it dropped (its store's hot-key tracker) to read again once reconnected, most read
// first (src/client/near.ts, takeRefetch). Driven by hand: two streams per partition, reads counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientNearCache } from '../../src/client/near.ts';
import type { InvalidationBatch } from '../../src/protocol/index.ts';
import { partitionOf } from '../../src/ring/partition.ts';
import { HotNearKeys } from '../../src/store/near-hot-keys.ts';

const PARTITIONS = 8;
const enc = new TextEncoder();
const heartbeat = (): InvalidationBatch => ({ heartbeat: true, partitions: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, epoch: 1, seq: 0, count: 0, keys: [] })) });

test('after a lost connection, the dropped entries read most are handed out for a refetch, most read first, once', () => {
  const near = new ClientNearCache({ maxEntries: 100 }, new Uint8Array(0), () => {}, new HotNearKeys());
  near.onTopology({ version: 'v1', partitions: PARTITIONS, replicas: 3, nodes: [], owners: [] });
  for (const address of ['a', 'b']) {
    near.connectionReady(address);
    near.receive(address, heartbeat());
  }
  const keys = ['k1', 'k2', 'k3', 'k4'].map((k) => enc.encode(k));
  for (const key of keys) {
    const token = near.beginFill(key)!;
    near.completeFill(token, enc.encode('v'), null);
  }
  // Read counts: k3 most, then k1, then k4; k2 never after its fill.
  for (const [i, n] of [[3, 30], [1, 5], [4, 2]] as const) for (let r = 0; r < n; r++) assert.ok(near.lookup(keys[i - 1]!), `k${i} held`);
  assert.equal(near.refetchPending, false, 'nothing to refetch before a loss');

  near.connectionLost('a');
  // The flush dropped every partition stream 'a' carried: all four keys.
  for (const key of keys) assert.equal(near.lookup(key), undefined, `${new TextDecoder().decode(key)} (partition ${partitionOf(key, PARTITIONS)}) flushed`);
  assert.equal(near.refetchPending, true);
  const again = near.takeRefetch().map((k) => new TextDecoder().decode(k));
  assert.deepEqual(again.slice(0, 3), ['k3', 'k1', 'k4'], `most read first: ${again.join(', ')}`);
  assert.equal(near.refetchPending, false, 'handed out once');
  assert.deepEqual(near.takeRefetch(), []);
});
