// The disk tier against a model under disk faults: seeded runs of puts, gets, deletes, partition
// drops, expiry, failed and torn writes, rotting bits, completions out of order, crashes and clean
// restarts. The tier may forget anything (it is a cache); what it serves must be right:
// - while the process lives, a value served is the latest one put for that key, not expired, and a
//   deleted or dropped key is never served again;
// - after a crash, a key not written since may come back with any value once put for it (the
//   replication layer checks versions against the cluster), never with bytes nobody put;
// - after a clean close, the rules of a living process hold again, unless the device was damaged
//   in the life before it (a write failed, a bit rotted): then, as after a crash, a tombstone or a
//   newer value may be lost and an older value may come back (docs/STORE.md, "Disk tier").
//
// DISK_TIER_SEEDS=N runs more seeds by hand (1,500 passed when this was written).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { aesBlockSealer } from '../../src/security/block-sealer.ts';
import { SimDisk } from '../../src/sim/disk.ts';
import { DiskTier } from '../../src/store/disk/disk-tier.ts';

const SEEDS = Number(process.env.DISK_TIER_SEEDS ?? 60);
const OPS = 400;
const KEYS = 30;
const PARTITIONS = 4;
const sealer = aesBlockSealer({ primary: new Uint8Array(32).fill(3), all: [new Uint8Array(32).fill(3)] });

interface Latest { value: string; expiresAtMs: number; partition: number }

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

function run(seed: number, faults: boolean): { served: number; strictServed: number; wrong: string[]; stats: ReturnType<DiskTier['stats']>; disk: SimDisk['counts'] } {
  const random = SeededRandom.mulberry32(seed);
  const disk = new SimDisk(96 * 1024, SeededRandom.mulberry32(seed ^ 0x5151), faults ? { writeError: 0.02, tornWrite: 0.02 } : { writeError: 0, tornWrite: 0 });
  const clock = { wall: 1_000_000, mono: 0, wallMs() { return this.wall; }, monoMs() { return this.mono; } };
  const make = () => new DiskTier({ device: disk, sealer, clock, regionBytes: 8 * 1024, blockBytes: 1024, writeBatchBytes: 2048 });
  let tier = make();
  // What a living process may serve per key (undefined: nothing), and every value ever put per key.
  const latest = new Map<string, Latest | undefined>();
  const ever = new Map<string, Set<string>>();
  // Keys not written since the last crash: any value ever put for them may come back.
  const loose = new Set<string>();
  const wrong: string[] = [];
  let served = 0;
  let strictServed = 0;
  let damaged = false;
  let writeFailuresBefore = 0;
  const allLoose = () => {
    for (let k = 0; k < KEYS; k++) loose.add(`k${k}`);
  };
  const partitionOf = (key: string) => Number(key.slice(1)) % PARTITIONS;

  const check = (key: string, askedAtMs: number) => (value: Uint8Array | undefined) => {
    if (value === undefined) return;
    served++;
    const got = hex(value);
    const model = latest.get(key);
    if (loose.has(key)) {
      if (!ever.get(key)?.has(got)) wrong.push(`seed ${seed}: ${key} served bytes never put for it`);
      return;
    }
    strictServed++;
    if (model === undefined) wrong.push(`seed ${seed}: ${key} served after it was deleted or dropped`);
    else if (model.value !== got) wrong.push(`seed ${seed}: ${key} served an older value`);
    else if (model.expiresAtMs !== 0 && model.expiresAtMs <= askedAtMs) wrong.push(`seed ${seed}: ${key} served expired`);
  };

  for (let op = 0; op < OPS; op++) {
    const key = `k${random.int(KEYS)}`;
    const roll = random.next();
    if (roll < 0.35) {
      const value = new Uint8Array(random.int(1500));
      for (let i = 0; i < value.length; i++) value[i] = random.int(256);
      const expiresAtMs = random.next() < 0.2 ? clock.wall + random.int(5000) : 0;
      const partition = partitionOf(key);
      if (tier.put(key, value, partition, expiresAtMs)) latest.set(key, { value: hex(value), expiresAtMs, partition });
      else latest.set(key, undefined);
      if (!ever.has(key)) ever.set(key, new Set());
      ever.get(key)!.add(hex(value));
      loose.delete(key);
    } else if (roll < 0.65) {
      tier.get(key, check(key, clock.wall));
    } else if (roll < 0.7) {
      tier.delete(key);
      latest.set(key, undefined);
      loose.delete(key);
    } else if (roll < 0.72) {
      const partition = random.int(PARTITIONS);
      tier.dropPartition(partition);
      for (let k = 0; k < KEYS; k++) {
        if (partitionOf(`k${k}`) !== partition) continue;
        latest.set(`k${k}`, undefined);
        loose.delete(`k${k}`);
      }
    } else if (roll < 0.8) {
      disk.step(1 + random.int(8));
    } else if (roll < 0.85) {
      tier.flush();
    } else if (roll < 0.88) {
      clock.wall += random.int(2000);
      clock.mono += random.int(2000);
    } else if (roll < 0.9 && faults) {
      disk.rot(disk.size);
      damaged = true;
    } else if (roll < 0.91 && faults) {
      disk.crash();
      allLoose();
      damaged = false;
      writeFailuresBefore = disk.counts.writeErrors + disk.counts.tornWrites;
      tier = make();
      tier.recover(() => {});
      disk.settle();
    } else if (roll < 0.92) {
      let closed = false;
      tier.close(() => (closed = true));
      disk.settle();
      assert.ok(closed, `seed ${seed}: close finished`);
      if (damaged || disk.counts.writeErrors + disk.counts.tornWrites > writeFailuresBefore) allLoose();
      damaged = false;
      writeFailuresBefore = disk.counts.writeErrors + disk.counts.tornWrites;
      tier = make();
      tier.recover(() => {});
      disk.settle();
    }
  }
  disk.settle();
  return { served, strictServed, wrong, stats: tier.stats(), disk: disk.counts };
}

test(`disk tier model check: ${SEEDS} seeds without faults serve only the latest values, and serve some`, () => {
  let served = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const result = run(seed, false);
    assert.deepEqual(result.wrong, []);
    served += result.served;
  }
  assert.ok(served > SEEDS * 20, `${served} values served`);
});

test(`disk tier model check: ${SEEDS} seeds with failed and torn writes, rotting bits and crashes serve no wrong value`, () => {
  const totals = { served: 0, strictServed: 0, writeErrors: 0, tornWrites: 0, bitsRotted: 0, crashes: 0, corrupt: 0, regionsReclaimed: 0 };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const result = run(seed, true);
    assert.deepEqual(result.wrong, []);
    totals.served += result.served;
    totals.strictServed += result.strictServed;
    totals.writeErrors += result.disk.writeErrors;
    totals.tornWrites += result.disk.tornWrites;
    totals.bitsRotted += result.disk.bitsRotted;
    totals.crashes += result.disk.crashes;
    totals.corrupt += result.stats.corrupt;
    totals.regionsReclaimed += result.stats.regionsReclaimed;
  }
  process.stdout.write(`disk tier under faults, ${SEEDS} seeds: ${JSON.stringify(totals)}\n`);
  // The faults happened and reached the reads: the check above means something.
  for (const name of ['writeErrors', 'tornWrites', 'bitsRotted', 'crashes', 'regionsReclaimed'] as const) assert.ok(totals[name] > 0, `${name}: ${totals[name]}`);
  assert.ok(totals.strictServed > SEEDS * 10, `${totals.strictServed} values served under the strict rule`);
});
