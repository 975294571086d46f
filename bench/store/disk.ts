/**
 * The disk tier's benchmark (issue 20): what a second tier under memory buys and costs.
 *
 *   npm run bench:disk -- [--json] [--reads N] [--no-traces] [--no-load]
 *
 * 1. Disk-hit latency, p50/p99, for 100 B, 4 KiB and 64 KiB values: a tier on a real file in the
 *    temp directory (FileDevice, AES-256-GCM blocks) is filled with about 48 MiB, then random keys
 *    are read one at a time, timed from `get` to its callback. The file is as fresh as the run, so
 *    most reads come from the OS page cache: the figure is the tier's own cost plus a page-cache
 *    read, not a cold SSD read. Write amplification = device bytes written / key and value bytes.
 * 2. Hit ratio on the shared traces with memory alone and with memory + disk at 2x, 5x and 10x the
 *    memory's entry count: every entry the memory tier lets go is offered to the disk; a memory miss
 *    that the disk holds counts as a hit and is promoted back to memory.
 *
 * 3. Under load (bench/store/disk-load.ts): RSS growth with the disk at 10x memory against memory
 *    alone, and event-loop lag at 20,000 ops/s with half the reads from disk (`--no-load` skips).
 *
 * Prints a table, then one JSON object with --json.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileDevice } from '../../src/daemon/disk-device.ts';
import { aesBlockSealer } from '../../src/security/block-sealer.ts';
import { UNKEYED } from '../../src/security/sealed-file.ts';
import { DiskTier } from '../../src/store/disk/disk-tier.ts';
import { SimDisk } from '../../src/sim/disk.ts';
import { SeededRandom } from '../../src/runtime/seeded-random.ts';
import { Store } from '../../src/store/store.ts';
import { parseTrace, type TraceFormat } from '../../src/store/trace/parse.ts';
import { TRACES_DIR } from '../hitratio/reference.ts';
import { lagRow, rssRows } from './disk-load.ts';
import { benchArgs } from '../help.ts';

const flags = benchArgs('npm run bench:disk --', {
  json: { kind: 'boolean', description: 'print one JSON object after the tables' },
  reads: { kind: 'number', value: 'N', description: 'random reads timed per value size', default: 5000 },
  'no-traces': { kind: 'boolean', description: 'skip the hit ratios on the cache traces' },
  'no-load': { kind: 'boolean', description: 'skip RSS and event-loop lag under load' },
});
const json = flags.json === true;
const READS = Number(flags.reads);
const realClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };
const sealer = aesBlockSealer(UNKEYED);

interface LatencyRow { valueBytes: number; entries: number; p50Us: number; p99Us: number; maxUs: number; writeAmplification: number }

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latency(valueBytes: number): Promise<LatencyRow> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-disk-bench-'));
  const device = FileDevice.open(join(dir, 'tier'), 64 << 20);
  try {
    const tier = new DiskTier({ device, sealer, clock: realClock });
    const entries = Math.floor((48 << 20) / (valueBytes + 40));
    const value = new Uint8Array(valueBytes).fill(7);
    for (let i = 0; i < entries; i++) {
      if (!tier.put(`key:${i}`, value, i % 1024)) {
        // The tier is reclaiming its next region: let the device catch up.
        await new Promise((resolve) => setImmediate(resolve));
        i--;
      }
    }
    await new Promise<void>((resolve) => tier.close(resolve));
    const reader = new DiskTier({ device, sealer, clock: realClock });
    await new Promise((resolve) => reader.recover(resolve));
    const times: number[] = [];
    let state = 12345;
    for (let n = 0; n < READS; n++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const key = `key:${state % entries}`;
      const start = performance.now();
      await new Promise<void>((resolve, reject) => {
        if (!reader.get(key, (v) => (v?.length === valueBytes ? resolve() : reject(new Error(`${key} did not read back`))))) resolve();
      });
      times.push((performance.now() - start) * 1000);
    }
    times.sort((a, b) => a - b);
    const stats = tier.stats();
    return {
      valueBytes, entries: reader.stats().entries, p50Us: percentile(times, 50), p99Us: percentile(times, 99), maxUs: times.at(-1)!,
      writeAmplification: stats.deviceBytesWritten / stats.appBytes,
    };
  } finally {
    device.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface TraceSpec { name: string; file: string; format: TraceFormat; memory: number }
const TRACES: TraceSpec[] = [
  { name: 'gli', file: 'gli.trace.gz', format: 'lirs', memory: 250 },
  { name: 'multi3', file: 'multi3.trace.gz', format: 'lirs', memory: 500 },
  { name: 'sprite', file: 'sprite.trace.gz', format: 'lirs', memory: 250 },
  { name: 'web12', file: 'web12.trace.gz', format: 'u32be', memory: 1000 },
  { name: 'corda', file: 'corda-vaultservice.trace.gz', format: 'u64be', memory: 5000 },
  { name: 'zigzag', file: 'zigzag.trace.gz', format: 'lirs', memory: 250 },
];
const DISK_MULTIPLES = [0, 2, 5, 10];
/** What one trace entry weighs on disk with its 100-byte value (record header, key, block share). */
const DISK_BYTES_PER_ENTRY = 140;
const TRACE_VALUE = new Uint8Array(100);

interface HitRatioRow { trace: string; memoryEntries: number; byMultiple: Record<string, number> }

function hitRatio(spec: TraceSpec): HitRatioRow {
  const trace = parseTrace(readFileSync(join(TRACES_DIR, spec.file)), spec.format);
  const keys = Array.from({ length: trace.uniqueKeys }, (_, id) => String(id));
  const clock = { wallMs: () => 0, monoMs: () => 0 };
  const byMultiple: Record<string, number> = {};
  for (const multiple of DISK_MULTIPLES) {
    const store = new Store({ maxEntries: spec.memory, clock, hotKeys: false, analytics: false });
    const device = new SimDisk(Math.max(64 * 1024, multiple * spec.memory * DISK_BYTES_PER_ENTRY), SeededRandom.mulberry32(1));
    const tier = multiple === 0 ? null : new DiskTier({ device, sealer, clock, regionBytes: 16 * 1024 });
    const drain = () => device.settle();
    // Inclusive tiers: a promoted entry keeps its disk copy, so an eviction of an entry already on disk writes nothing.
    store.onEviction((key, _value, partition) => {
      if (tier !== null && !tier.has(key)) tier.put(key, TRACE_VALUE, partition);
    });
    let hits = 0;
    for (let i = 0; i < trace.ids.length; i++) {
      const key = keys[trace.ids[i]!]!;
      if (store.getView(key) !== undefined) {
        hits++;
        continue;
      }
      let fromDisk = false;
      if (tier !== null && tier.get(key, (v) => (fromDisk = v !== undefined))) drain();
      if (fromDisk) hits++;
      store.set(key, TRACE_VALUE, { partition: 0 });
      if (i % 256 === 0) {
        tier?.flush();
        drain();
      }
    }
    byMultiple[multiple === 0 ? 'memory' : `+disk ${multiple}x`] = (100 * hits) / trace.ids.length;
  }
  return { trace: spec.name, memoryEntries: spec.memory, byMultiple };
}

const latencyRows: LatencyRow[] = [];
for (const size of [100, 4096, 65536]) latencyRows.push(await latency(size));
console.log('Disk hit latency (file in the temp directory; page cache warm), one read at a time:');
console.table(latencyRows.map((r) => ({
  value: r.valueBytes, entries: r.entries, 'p50 us': r.p50Us.toFixed(1), 'p99 us': r.p99Us.toFixed(1), 'max us': r.maxUs.toFixed(0),
  'write amp': r.writeAmplification.toFixed(3),
})));
const hitRows = flags['no-traces'] ? [] : TRACES.map(hitRatio);
if (hitRows.length > 0) {
  console.log('Hit ratio (%), memory alone and with a disk tier holding k times the memory\'s entries:');
  console.table(hitRows.map((r) => ({ trace: r.trace, memory: r.memoryEntries, ...Object.fromEntries(Object.entries(r.byMultiple).map(([k, v]) => [k, v.toFixed(2)])) })));
}
const load = flags['no-load'] ? null : { rss: rssRows(), lag: [await lagRow(5, 20_000, false), await lagRow(5, 20_000, true)] };
if (load !== null) {
  console.log('Growth of RSS and of live memory (heap + external) after a full GC, filling 1 KiB values, over the 16 MiB budget:');
  console.table(load.rss.map((r) => ({
    tier: r.tier, 'memory entries': r.memoryEntries, 'disk entries': r.diskEntries,
    'RSS MiB': r.rssGrowthMiB.toFixed(1), 'RSS / budget': r.rssOverBudget.toFixed(2), 'live MiB': r.liveGrowthMiB.toFixed(1), 'live / budget': r.liveOverBudget.toFixed(2),
  })));
  console.log('Event loop at 20,000 ops/s for 5 s (80% reads, half of them of keys only the disk holds; 20% writes of 1 KiB):');
  console.table(load.lag.map((l) => ({
    tier: l.tier, ops: l.ops, 'disk reads': l.diskReads, 'disk hits': l.diskHits,
    'lag p99 ms': l.lagP99Ms.toFixed(2), 'lag max ms': l.lagMaxMs.toFixed(2), 'disk read p99 ms': l.diskReadP99Ms.toFixed(2),
  })));
}
if (json) console.log(JSON.stringify({ latency: latencyRows, hitRatio: hitRows, ...(load === null ? {} : { load }) }));
