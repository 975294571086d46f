// A replica's read from its disk tier (src/replication/partition-replica.ts) serves a record only
// if no newer version of its key is known here: after a restart, a failed write or a lost delete,
// the disk may hold an older value than one the node has seen (the eviction shadow keeps it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Version } from '../../src/replication/hlc.ts';
import { EvictionShadow, MIN_EVICTION_SHADOW_ENTRIES } from '../../src/replication/eviction-shadow.ts';
import { makeRecord, PartitionReplica } from '../../src/replication/partition-replica.ts';
import { versionOfEncoded } from '../../src/replication/record.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { aesBlockSealer } from '../../src/security/block-sealer.ts';
import { SimDisk } from '../../src/sim/disk.ts';
import { DiskTier, Store } from '../../src/store/index.ts';

const PARTITION = 3;
const v = (wallMs: number): Version => ({ wallMs, logical: 0, node: 1 });
const bytes = (s: string) => new TextEncoder().encode(s);
const key = new Uint8Array(32).fill(7);

function setup() {
  const clock = { wallMs: () => 1_000_000, monoMs: () => 0 };
  const store = new Store({ maxMemory: 1024 * 1024, clock, seed: 1 });
  const shadow = new EvictionShadow(MIN_EVICTION_SHADOW_ENTRIES);
  const device = new SimDisk(64 * 1024, SeededRandom.mulberry32(1));
  const disk = new DiskTier({ device, sealer: aesBlockSealer({ primary: key, all: [key] }), clock, regionBytes: 16 * 1024, versionOf: versionOfEncoded });
  const replica = new PartitionReplica(PARTITION, store, clock, 10_000, shadow, disk);
  /** Reads `k` through the replica as ReplicaHost does: from disk, then promoted; the record answered. */
  const readBack = (k: string): Uint8Array | null | 'not on disk' => {
    let answer: Uint8Array | null | undefined;
    if (!replica.readFromDisk(k, (found) => (answer = found))) return 'not on disk';
    device.settle();
    assert.notEqual(answer, undefined, 'the read was answered');
    if (answer !== null) replica.promote(k, answer!);
    return answer!;
  };
  return { store, shadow, disk, device, readBack };
}

test('a disk record as new as the newest version known is served and promoted', () => {
  const { store, shadow, disk, device, readBack } = setup();
  const record = makeRecord(v(10), bytes('current'), 0);
  disk.put('k', record, PARTITION);
  disk.flush();
  device.settle();
  shadow.record(PARTITION, 'k', v(10));
  assert.deepEqual(readBack('k'), record);
  assert.ok(store.has('k'), 'promoted back into memory');
  assert.ok(disk.has('k'), 'the disk keeps its copy');
});

test('a disk record older than a version known here is a miss, and leaves the disk', () => {
  const { store, shadow, disk, device, readBack } = setup();
  disk.put('k', makeRecord(v(10), bytes('older'), 0), PARTITION);
  disk.flush();
  device.settle();
  // The node saw v12 and evicted it; the disk's delete of v10 was lost (a failed write, a crash).
  shadow.record(PARTITION, 'k', v(12));
  assert.equal(readBack('k'), null);
  assert.ok(!store.has('k'), 'nothing older is promoted');
  assert.ok(!disk.has('k'), 'the stale copy is dropped');
  assert.deepEqual(shadow.versionOf(PARTITION, 'k'), v(12));
  assert.equal(readBack('k'), 'not on disk');
});

test('the keys a scan lists are the store\'s and the disk\'s live ones, each once, of this partition only', () => {
  const { store, disk, device } = setup();
  const replica = new PartitionReplica(PARTITION, store, { wallMs: () => 1_000_000, monoMs: () => 0 }, 10_000, new EvictionShadow(MIN_EVICTION_SHADOW_ENTRIES), disk);
  store.set('in-memory', makeRecord(v(10), bytes('m'), 0), { partition: PARTITION });
  store.set('both', makeRecord(v(10), bytes('b'), 0), { partition: PARTITION });
  disk.put('both', makeRecord(v(10), bytes('b'), 0), PARTITION);
  disk.put('on-disk', makeRecord(v(10), bytes('d'), 0), PARTITION, 2_000_000);
  disk.put('expired-on-disk', makeRecord(v(10), bytes('x'), 0), PARTITION, 1_000_000);
  disk.put('other-partition', makeRecord(v(10), bytes('o'), 0), PARTITION + 1);
  disk.put('deleted', makeRecord(v(10), bytes('gone'), 0), PARTITION);
  disk.delete('deleted');
  disk.flush();
  device.settle();
  const listed: string[] = [];
  replica.forEachLiveKey(1_000_000, (k) => listed.push(k));
  assert.deepEqual(listed.sort(), ['both', 'in-memory', 'on-disk']);
});
