// Flush floors (src/replication/flush-floors.ts) on one replica: raising the floor deletes every
// record at or below it (and the evicted versions the shadow kept), refuses anything at or below it
// from then on (writes, hints, sync, evicted versions), keeps what is newer, and the digest follows.
// And on the wire: a read answer carrying a floor, which a reader that predates floors reads as a miss.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EvictionShadow, MIN_EVICTION_SHADOW_ENTRIES } from '../../src/replication/eviction-shadow.ts';
import { FlushFloors, flattenFloors, unflattenFloors } from '../../src/replication/flush-floors.ts';
import type { Version } from '../../src/replication/hlc.ts';
import { decodeKvMessage, encodeKvMessage } from '../../src/replication/messages.ts';
import { entryHash, makeRecord, PartitionReplica } from '../../src/replication/partition-replica.ts';
import { Store } from '../../src/store/index.ts';

const v = (wallMs: number, logical = 0, node = 1): Version => ({ wallMs, logical, node });
const bytes = (s: string) => new TextEncoder().encode(s);
const P = 3;

function setup() {
  const clock = { wallMs: () => 1_000_000, monoMs: () => 1_000_000 };
  const store = new Store({ maxMemory: 1024 * 1024, clock, seed: 1 });
  const shadow = new EvictionShadow(MIN_EVICTION_SHADOW_ENTRIES);
  const floors = new FlushFloors(8);
  const flushed: string[] = [];
  const replica = new PartitionReplica(P, store, clock, 10_000, shadow, null, () => floors.of(P));
  replica.onFlushed = (key) => flushed.push(key);
  return { store, shadow, floors, replica, flushed };
}

test('a floor deletes what it flushes, refuses anything at or below it, and keeps what is newer', () => {
  const { shadow, floors, replica, flushed } = setup();
  assert.equal(replica.apply('old', makeRecord(v(10), bytes('a'), 0)), 'applied');
  assert.equal(replica.apply('same-ms', makeRecord(v(20, 7, 9), bytes('b'), 0)), 'applied');
  assert.equal(replica.apply('new', makeRecord(v(21), bytes('c'), 0)), 'applied');
  shadow.record(P, 'evicted-old', v(5));
  shadow.record(P, 'evicted-new', v(30));

  // A flush in ms 20: its floor orders after every version of that millisecond.
  assert.equal(floors.raise(P, v(20, 0xffff_ffff, 0xffff_ffff)), true);
  assert.equal(floors.raise(P, v(19)), false, 'floors only grow');
  assert.deepEqual(replica.entries(), [['new', v(21)]]);
  assert.deepEqual(flushed.sort(), ['old', 'same-ms'], 'near caches are told of each key deleted');
  assert.equal(shadow.versionOf(P, 'evicted-old'), undefined, 'the floor now says what the evicted version said');
  assert.deepEqual(shadow.versionOf(P, 'evicted-new'), v(30));
  assert.equal(replica.digest, entryHash('new', v(21)) ^ entryHash('evicted-new', v(30)));

  // A late hint, a sync copy or a repair of a flushed version is stale; an evicted one is ignored.
  assert.equal(replica.apply('old', makeRecord(v(10), bytes('a'), 0)), 'stale');
  assert.equal(replica.apply('other', makeRecord(v(20, 9, 2), bytes('x'), 0)), 'stale');
  assert.equal(replica.noteEvicted('other', v(15)), false);
  assert.equal(replica.read('old'), null);
  assert.equal(replica.apply('after', makeRecord(v(21, 1), bytes('d'), 0)), 'applied');
  assert.deepEqual(replica.versionOf('after'), v(21, 1));
});

test('floors on the wire: flat lists, and a read answer carrying one', () => {
  const floor = v(1767225601010, 0xffff_ffff, 0xffff_ffff);
  assert.deepEqual(unflattenFloors(flattenFloors([[0, floor], [5, v(1)]])), [[0, floor], [5, v(1)]]);
  const answer = decodeKvMessage(encodeKvMessage({ t: 'ra', id: 4, r: null, ready: true, f: floor }));
  assert.deepEqual(answer, { t: 'ra', id: 4, r: null, ready: true, f: floor });
  // A record answered wins over the floor (it is newer: the replica deleted anything older), and
  // an evicted version too: the floor is left out, so a reader that predates floors reads both as before.
  const record = makeRecord(v(1767225601011), bytes('v'), 0);
  assert.deepEqual(decodeKvMessage(encodeKvMessage({ t: 'ra', id: 5, r: record, ready: true, f: floor })), { t: 'ra', id: 5, r: record, ready: true });
  assert.deepEqual(decodeKvMessage(encodeKvMessage({ t: 'ra', id: 6, r: null, ready: false, e: v(7), f: floor })), { t: 'ra', id: 6, r: null, ready: false, e: v(7) });
  // The layout an older reader decodes: flag bit 3 it does not know, no record, no evicted bit: a miss.
  const bytesOnWire = encodeKvMessage({ t: 'ra', id: 4, r: null, ready: true, f: floor });
  assert.equal(bytesOnWire[9]! & 0b0110, 0, 'neither the record bit nor the evicted bit is set');
});
