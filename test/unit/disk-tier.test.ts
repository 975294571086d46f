// The disk tier (src/store/disk) over a memory device: round trips, FIFO region reuse with
// reinsertion of hot entries, deletes and partition drops surviving recovery, expiry, the write
// budget, and corruption (flipped bits, truncation) giving misses, never a wrong value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiskTier, type DiskTierOptions, type RecoverySummary } from '../../src/store/disk/disk-tier.ts';
import { SimDisk } from '../../src/sim/disk.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { aesBlockSealer } from '../../src/security/block-sealer.ts';
import { keyIdOf, UNKEYED } from '../../src/security/sealed-file.ts';
import { decodeRecord, encodeRecord, LATEST_EXPIRY_MS, RecordKind } from '../../src/store/disk/record.ts';
import fc from 'fast-check';

/** A simulated device the test settles, and a clock the test moves. */
function rig(size: number, options: Partial<DiskTierOptions> = {}) {
  const device = new SimDisk(size, SeededRandom.mulberry32(size));
  const clock = { wall: 1_000_000, mono: 0, wallMs() { return this.wall; }, monoMs() { return this.mono; } };
  const sealer = aesBlockSealer({ primary: new Uint8Array(32).fill(7), all: [new Uint8Array(32).fill(7)] });
  const make = () => new DiskTier({ device, sealer, clock, regionBytes: 16 * 1024, writeBatchBytes: 4096, ...options });
  const drain = () => {
    device.settle();
    assert.equal(device.backlog, 0, 'the device settled');
  };
  return { device, clock, make, drain };
}

function value(key: string, length = 100): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (key.charCodeAt(i % key.length) + i) & 0xff;
  return bytes;
}

/** Reads a key back: 'absent' when the tier says it has none (no device read), else the value or undefined. */
function read(tier: DiskTier, key: string, drain: () => void): Uint8Array | undefined | 'absent' {
  let result: Uint8Array | undefined | 'absent' = 'absent';
  let answered = false;
  const asked = tier.get(key, (v) => {
    result = v;
    answered = true;
  });
  if (!asked) return 'absent';
  drain();
  assert.ok(answered, `get(${key}) answered`);
  return result;
}

test('values written to the disk tier read back before and after they reach the device; unknown keys cost no read', () => {
  const { make, drain } = rig(256 * 1024);
  const tier = make();
  tier.put('pending', value('pending'), 1);
  assert.deepEqual(read(tier, 'pending', drain), value('pending'), 'served from memory before the write');
  for (let i = 0; i < 200; i++) tier.put(`k${i}`, value(`k${i}`), i % 8);
  tier.flush();
  drain();
  for (let i = 0; i < 200; i++) assert.deepEqual(read(tier, `k${i}`, drain), value(`k${i}`));
  const reads = tier.stats().deviceReads;
  assert.equal(read(tier, 'never-written', drain), 'absent');
  assert.equal(tier.stats().deviceReads, reads, 'a key not on disk costs no device read');
  const stats = tier.stats();
  assert.ok(stats.deviceBytesWritten / stats.appBytes < 1.25, `write amplification ${(stats.deviceBytesWritten / stats.appBytes).toFixed(2)} for 100-byte values`);
});

test('regions are reused in FIFO order; entries read since written are reinserted, cold ones leave', () => {
  const { make, drain } = rig(64 * 1024);
  const tier = make();
  // 4 regions of 16 KiB; each entry ~130 bytes on disk: the device holds ~450 of them.
  for (let i = 0; i < 100; i++) tier.put(`hot${i}`, value(`hot${i}`), 0);
  for (let i = 0; i < 100; i++) tier.put(`cold${i}`, value(`cold${i}`), 0);
  tier.flush();
  drain();
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 100; i++) assert.notEqual(read(tier, `hot${i}`, drain), undefined);
    for (let i = 0; i < 150; i++) {
      tier.put(`filler${round}-${i}`, value(`f${i}`), 0);
      drain();
    }
    tier.flush();
    drain();
  }
  const stats = tier.stats();
  assert.ok(stats.regionsReclaimed >= 4, `regions were reclaimed (${stats.regionsReclaimed})`);
  assert.ok(stats.reinserted > 0 && stats.evicted > 0);
  for (let i = 0; i < 100; i++) assert.deepEqual(read(tier, `hot${i}`, drain), value(`hot${i}`), `hot${i} survived`);
  for (let i = 0; i < 100; i++) assert.equal(read(tier, `cold${i}`, drain), 'absent', `cold${i} left`);
});

test('after a clean close, recovery rebuilds the index: overwrites, deletes and partition drops hold, values read back', () => {
  const { make, drain } = rig(256 * 1024);
  const first = make();
  for (let i = 0; i < 300; i++) first.put(`k${i}`, value(`k${i}`), i % 4);
  first.flush();
  drain();
  first.put('k1', value('k1-new', 50), 1);
  first.delete('k2');
  first.delete('k2-never');
  assert.equal(first.dropPartition(3), 75);
  let closed = false;
  first.close(() => (closed = true));
  drain();
  assert.ok(closed);

  const second = make();
  let summary: { entries: number } | undefined;
  second.recover((s) => (summary = s));
  drain();
  assert.equal(summary?.entries, 300 - 75 - 1);
  assert.deepEqual(read(second, 'k1', drain), value('k1-new', 50), 'the newest record of a key wins');
  assert.equal(read(second, 'k2', drain), 'absent', 'a tombstone keeps the deleted value from coming back');
  assert.equal(read(second, 'k3', drain), 'absent', 'the partition drop holds');
  assert.deepEqual(read(second, 'k4', drain), value('k4'));
  second.put('after', value('after'), 0);
  second.flush();
  drain();
  assert.deepEqual(read(second, 'after', drain), value('after'), 'the recovered tier keeps writing');
});

test('expired entries are never served, in memory, on the device or after recovery', () => {
  const { make, drain, clock } = rig(128 * 1024);
  const tier = make();
  tier.put('short', value('short'), 0, clock.wall + 1000);
  tier.put('long', value('long'), 0, clock.wall + 60_000);
  tier.flush();
  drain();
  clock.wall += 1000;
  assert.equal(read(tier, 'short', drain), 'absent');
  assert.deepEqual(read(tier, 'long', drain), value('long'));
  let closed = false;
  tier.close(() => (closed = true));
  drain();
  assert.ok(closed);
  clock.wall += 60_000;
  const again = make();
  again.recover(() => {});
  drain();
  assert.equal(read(again, 'long', drain), 'absent');
});

test('an expiry past the 48-bit field (up to a record\'s 2^53 - 1 ms) is taken, served and recovered as live', () => {
  const { make, drain } = rig(128 * 1024);
  const tier = make();
  assert.ok(tier.put('far', value('far'), 0, Number.MAX_SAFE_INTEGER));
  assert.ok(tier.put('past-field', value('past-field'), 0, LATEST_EXPIRY_MS + 1));
  tier.flush();
  drain();
  assert.deepEqual(read(tier, 'far', drain), value('far'));
  let closed = false;
  tier.close(() => (closed = true));
  drain();
  assert.ok(closed);
  const again = make();
  let summary: { entries: number } | undefined;
  again.recover((s) => (summary = s));
  drain();
  assert.equal(summary?.entries, 2);
  assert.deepEqual(read(again, 'far', drain), value('far'));
  assert.deepEqual(read(again, 'past-field', drain), value('past-field'));
});

test('the write budget refuses puts once spent and refills with time', () => {
  const { make, clock } = rig(128 * 1024, { writeBudgetBytesPerSecond: 2000 });
  const tier = make();
  let taken = 0;
  for (let i = 0; i < 100; i++) if (tier.put(`k${i}`, value(`k${i}`), 0)) taken++;
  assert.ok(taken > 0 && taken < 20, `${taken} puts fit a 2000-byte budget`);
  assert.equal(tier.stats().rejectedBudget, 100 - taken);
  clock.mono += 1000;
  assert.ok(tier.put('later', value('later'), 0), 'the budget refilled');
});

test('a spill (a stop for a restart) is taken outside the spent write budget, says busy when the device lags, and refuses what never fits', () => {
  const { make, drain } = rig(128 * 1024, { writeBudgetBytesPerSecond: 2000 });
  const tier = make();
  for (let i = 0; i < 30; i++) tier.put(`k${i}`, value(`k${i}`), 0);
  assert.ok(tier.stats().rejectedBudget > 0, 'the budget is spent');
  assert.equal(tier.spill('spilled', value('spilled'), 0, 0), 'taken');
  assert.deepEqual(read(tier, 'spilled', drain), value('spilled'));
  let outcome: string = 'taken';
  let taken = 0;
  for (let i = 0; i < 2000 && outcome === 'taken'; i++) if ((outcome = tier.spill(`s${i}`, value(`s${i}`, 200), 0, 0)) === 'taken') taken++;
  assert.equal(outcome, 'busy', `busy after ${taken} values waiting for the device`);
  drain();
  assert.equal(tier.spill('after', value('after'), 0, 0), 'taken', 'taken again once the device caught up');
  assert.equal(tier.spill('huge', value('huge', 20 * 1024), 0, 0), 'refused', 'larger than a region');
  assert.equal(tier.spillRoomBytes(), (8 - 3) * 16 * 1024, 'every region but three');
});

test('flipped bits and truncation give misses, never a wrong value', () => {
  const { make, drain, device } = rig(128 * 1024);
  const tier = make();
  const keys = Array.from({ length: 400 }, (_, i) => `key${i}`);
  for (const key of keys) tier.put(key, value(key, 60), 0);
  tier.close(() => {});
  drain();
  const used = device.bytes.findLastIndex((b) => b !== 0) + 1;
  let wrong = 0;
  let misses = 0;
  // One bit at a time, at 97 places spread over the written bytes, each through a fresh recovery.
  for (let n = 0; n < 97; n++) {
    const at = Math.floor((n * used) / 97);
    const bit = 1 << n % 8;
    device.bytes[at]! ^= bit;
    const again = make();
    again.recover(() => {});
    drain();
    for (const key of keys) {
      const got = read(again, key, drain);
      if (got === 'absent' || got === undefined) misses++;
      else if (Buffer.compare(Buffer.from(got), Buffer.from(value(key, 60))) !== 0) wrong++;
    }
    device.bytes[at]! ^= bit;
  }
  assert.equal(wrong, 0);
  assert.ok(misses > 0, 'some flips hit data');
  device.visibleBytes = Math.floor(used / 2);
  const cut = make();
  let summary: { entries: number; corruptRegions: number } | undefined;
  cut.recover((s) => (summary = s));
  drain();
  assert.ok(summary!.entries < keys.length && summary!.entries > 0, `${summary!.entries} entries survive a file cut in half`);
  for (const key of keys) {
    const got = read(cut, key, drain);
    if (got !== 'absent' && got !== undefined) assert.deepEqual(got, value(key, 60));
  }
});

test('with the unkeyed sealer, a block sealed under a key the node lacks does not open', () => {
  const { make, drain, device, clock } = rig(64 * 1024);
  const tier = make();
  tier.put('secret', value('secret'), 0);
  tier.close(() => {});
  drain();
  const other = new DiskTier({ device, sealer: aesBlockSealer(UNKEYED), clock, regionBytes: 16 * 1024 });
  let summary: { entries: number } | undefined;
  other.recover((s) => (summary = s));
  drain();
  assert.equal(summary?.entries, 0);
});

test('recovery reports regions by the key that sealed them: the primary, an older key still held, or a key the node lacks (dropped, not corrupt)', () => {
  const { make, drain, device, clock } = rig(64 * 1024);
  const tier = make();
  tier.put('k', value('k'), 0);
  tier.close(() => {});
  drain();
  const old = new Uint8Array(32).fill(7);
  const fresh = new Uint8Array(32).fill(9);
  const recover = (keys: { primary: Uint8Array; all: Uint8Array[] }): RecoverySummary => {
    let summary: RecoverySummary | undefined;
    new DiskTier({ device, sealer: aesBlockSealer(keys), clock, regionBytes: 16 * 1024 }).recover((s) => (summary = s));
    drain();
    return summary!;
  };
  const [oldId, freshId] = [old, fresh].map((k) => Buffer.from(keyIdOf(k)).toString('hex'));
  const same = recover({ primary: old, all: [old] });
  assert.deepEqual(same.regionsByKey, [{ keyId: oldId, regions: 1, key: 'primary' }]);
  const rotating = recover({ primary: fresh, all: [fresh, old] });
  assert.deepEqual([rotating.entries, rotating.corruptRegions, rotating.regionsByKey], [1, 0, [{ keyId: oldId, regions: 1, key: 'older' }]]);
  assert.deepEqual(rotating.keyIds, { primary: freshId, all: [freshId, oldId] });
  const without = recover({ primary: fresh, all: [fresh] });
  assert.deepEqual([without.entries, without.corruptRegions, without.regionsByKey], [0, 0, [{ keyId: oldId, regions: 1, key: 'missing' }]]);
});

test('records round-trip through their encoding, and a cut record does not decode', () => {
  fc.assert(fc.property(
    fc.constantFrom(RecordKind.Value, RecordKind.Tombstone, RecordKind.PartitionDrop), fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 20_000 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 1, max: 2 ** 48 - 1 }),
    (kind, key, value, partition, expiresAtMs, seq) => {
      const bytes = encodeRecord({ kind, key, value, partition, expiresAtMs, seq });
      const decoded = decodeRecord(bytes, 0);
      assert.deepEqual(decoded?.record, { kind, key, value: bytes.subarray(bytes.length - value.length), partition, expiresAtMs, seq });
      assert.deepEqual(decoded.record.value, value);
      assert.equal(decoded.next, bytes.length);
      assert.equal(decodeRecord(bytes.subarray(0, bytes.length - 1), 0), null);
    },
  ), { numRuns: 300 });
});

test('while recovering, puts are refused and deletes and drops asked for are applied when recovery ends; recovered values keep their versions', () => {
  // A value's "version" here: its first two bytes and its length (replication passes its record header's).
  const versionOf = (v: Uint8Array) => ({ wallMs: v.length, logical: v[0]!, node: v[1]! });
  const { make, drain } = rig(128 * 1024, { versionOf });
  const first = make();
  for (let i = 0; i < 40; i++) first.put(`k${i}`, value(`k${i}`), i % 4);
  first.close(() => {});
  drain();
  const second = make();
  let summary: { entries: number } | undefined;
  second.recover((s) => (summary = s));
  assert.equal(second.put('early', value('early'), 0), false, 'a put during recovery is refused');
  assert.ok(second.delete('k1'));
  assert.equal(second.dropPartition(2), 0);
  drain();
  assert.deepEqual(second.versionOf('k3'), versionOf(value('k3')), 'the index knows a recovered value\'s version without a device read');
  assert.equal(second.versionOf('k1'), undefined);
  const listed: string[] = [];
  second.forEachVersion(3, (key, v) => {
    assert.deepEqual(v, versionOf(value(key)));
    listed.push(key);
  });
  assert.equal(listed.length, 10, 'partition 3\'s keys, each with its version');
  assert.equal(summary?.entries, 40 - 1 - 10, 'the summary counts what is left after them');
  assert.equal(read(second, 'k1', drain), 'absent');
  assert.equal(read(second, 'k2', drain), 'absent');
  assert.deepEqual(read(second, 'k3', drain), value('k3'));
  assert.equal(second.stats().entries, 40 - 1 - 10);
  second.close(() => {});
  drain();
  const third = make();
  third.recover(() => {});
  drain();
  assert.equal(third.stats().entries, 29, 'the late delete and drop reached the device');
});

test('a device slower than the puts does not grow memory: past two regions of unwritten bytes, puts are refused as busy', () => {
  const { make, drain } = rig(256 * 1024);
  const tier = make();
  let taken = 0;
  // Nothing reaches the device until drained: without the bound every put would be kept in memory.
  for (let i = 0; i < 2000; i++) if (tier.put(`k${i}`, value(`k${i}`, 200), 0)) taken++;
  const stats = tier.stats();
  assert.ok(taken < 2000 && stats.rejectedBusy === 2000 - taken, `${taken} taken, ${stats.rejectedBusy} refused as busy`);
  assert.ok(taken * 200 <= 3 * 16 * 1024, `${taken} values of 200 bytes wait for the device, more than two regions' worth`);
  drain();
  assert.ok(tier.put('after', value('after'), 0), 'once the device caught up, puts are taken again');
});

test('each partition\'s list of keys follows puts, moves between partitions, deletes and drops', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.constantFrom('put', 'put', 'put', 'delete', 'drop'), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 3 })), { maxLength: 200 }),
    (ops) => {
      const { make } = rig(1024 * 1024);
      const tier = make();
      const model = new Map<string, number>();
      for (const [op, k, partition] of ops) {
        const key = `k${k}`;
        if (op === 'put') {
          if (tier.put(key, value(key, 10), partition)) model.set(key, partition);
          else model.delete(key);
        } else if (op === 'delete') {
          tier.delete(key);
          model.delete(key);
        } else {
          tier.dropPartition(partition);
          for (const [mk, mp] of model) if (mp === partition) model.delete(mk);
        }
      }
      for (let p = 0; p <= 3; p++) {
        const listed: string[] = [];
        tier.forEachLiveKey(p, 0, (key) => listed.push(key));
        const expected = [...model].filter(([, mp]) => mp === p).map(([mk]) => mk);
        assert.deepEqual(listed.sort(), expected.sort(), `partition ${p}`);
      }
    },
  ), { numRuns: 200 });
});
