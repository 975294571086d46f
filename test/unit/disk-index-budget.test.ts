// The disk tier's index is memory the node spends to hold data on disk: ReplicaHost counts it
// against --max-memory through Store.reserveBytes (docs/STORE.md, "Disk tier").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { versionOfEncoded } from '../../src/replication/record.ts';
import { aesBlockSealer } from '../../src/security/block-sealer.ts';
import { SimDisk } from '../../src/sim/disk.ts';
import { DiskTier, Store } from '../../src/store/index.ts';

const BUDGET = 256 * 1024;
const clock = { wallMs: () => 1_000_000, monoMs: () => 0 };
const value = new Uint8Array(200).fill(1);

function fill(store: Store, from: number, count: number): void {
  for (let i = from; i < from + count; i++) store.set(`key:${i}`, value, { partition: 0 });
}

test('bytes reserved for the disk index shrink what the store holds, from its next write on', () => {
  const store = new Store({ maxMemory: BUDGET, clock, seed: 1 });
  fill(store, 0, 4000);
  assert.ok(store.stats().bytes > 0.9 * BUDGET, 'full before the reserve');
  store.reserveBytes(BUDGET / 4);
  fill(store, 4000, 10);
  assert.ok(store.stats().bytes <= BUDGET - BUDGET / 4, `store holds ${store.stats().bytes} of ${BUDGET - BUDGET / 4}`);
});

test('the reserve takes at most half the budget, and a smaller one gives the room back', () => {
  const store = new Store({ maxMemory: BUDGET, clock, seed: 1 });
  store.reserveBytes(10 * BUDGET);
  fill(store, 0, 4000);
  const held = store.stats().bytes;
  assert.ok(held <= BUDGET / 2 && held > 0.4 * BUDGET, `store holds ${held}, about half of ${BUDGET}`);
  store.reserveBytes(0);
  fill(store, 4000, 4000);
  assert.ok(store.stats().bytes > 0.9 * BUDGET, 'the whole budget again');
});

test('the tier reports its index bytes, growing with its entries', () => {
  const device = new SimDisk(64 * 1024, SeededRandom.mulberry32(1));
  const disk = new DiskTier({ device, sealer: aesBlockSealer({ primary: new Uint8Array(32), all: [new Uint8Array(32)] }), clock, regionBytes: 16 * 1024, versionOf: versionOfEncoded });
  assert.equal(disk.indexBytes(), 0);
  for (let i = 0; i < 10; i++) disk.put(`key:${i}`, value, 0);
  const ten = disk.indexBytes();
  assert.ok(ten >= 10 * 58, 'at least the rows the index holds per entry');
  for (let i = 10; i < 20; i++) disk.put(`key:${i}`, value, 0);
  assert.equal(disk.indexBytes(), 2 * ten);
});
