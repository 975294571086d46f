/**
 * The disk tier under load (issue 20's targets), run by bench/store/disk.ts:
 *
 * 1. RSS: a store with a 16 MiB budget over a tier of 10x that (a real file, AES-256-GCM blocks),
 *    filled with 1 KiB values until the tier holds about 9x memory, closed and recovered (as after a
 *    restart), against the same store with no tier; each in its own process (`node --expose-gc
 *    --import tsx bench/store/disk-load.ts rss memory|disk`): RSS and live memory (heap + external)
 *    after a full GC minus the same before the fill, over the budget. The tier's index (key strings
 *    and typed-array rows) is not counted against --max-memory: this is what it adds.
 * 2. Event-loop lag: the filled store and tier serve 20,000 ops/s (80% reads, half of them of keys
 *    only the disk holds, which are promoted back; 20% writes of 1 KiB) for a few seconds, paced
 *    against the clock; `monitorEventLoopDelay` p99 and max, and the disk reads' latency p99.
 *    Side by side, the same ops on the same store alone (the reads meant for the disk miss).
 *    In-process, without the network: the tier's own share of the loop. `node --import tsx
 *    bench/store/disk-load.ts lag [OPS_PER_SECOND] [SECONDS]` prints this row alone.
 */
import { spawnSync } from 'node:child_process';
import { benchCommandLine } from '../help.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FileDevice } from '../../src/daemon/disk-device.ts';
import { aesBlockSealer } from '../../src/security/block-sealer.ts';
import { UNKEYED } from '../../src/security/sealed-file.ts';
import { DiskTier } from '../../src/store/disk/disk-tier.ts';
import { Store } from '../../src/store/store.ts';

const MEMORY = 16 << 20;
const DISK = 10 * MEMORY;
const VALUE = new Uint8Array(1024).fill(7);
const realClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };
const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));

interface Tiered {
  store: Store;
  tier: DiskTier | null;
  /** Keys written, in order; the oldest are on disk only once the fill is done. */
  keys: number;
  close(): void;
}

/** A store of MEMORY bytes over a tier of DISK bytes (or none), filled until the tier holds ~9x memory (or with as many keys). */
async function filled(withDisk: boolean): Promise<Tiered> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-disk-load-'));
  const device = withDisk ? FileDevice.open(join(dir, 'tier'), DISK) : null;
  const openTier = () => (device === null ? null : new DiskTier({ device, sealer: aesBlockSealer(UNKEYED), clock: realClock, writeBudgetBytesPerSecond: 1 << 30 }));
  let tier = openTier();
  const store = new Store({ maxMemory: MEMORY, clock: realClock, hotKeys: false, analytics: false });
  // As ReplicaHost does: an evicted entry goes to disk unless the disk holds it already. While the
  // fill outruns the device the tier refuses puts (busy); those are offered again once it caught
  // up, so that the disk fills to 10x memory.
  let refused: Array<[string, Uint8Array, number]> = [];
  store.onEviction((key, value, partition) => {
    if (tier !== null && !tier.has(key) && !tier.put(key, value, partition)) refused.push([key, value.slice(), partition]);
  });
  const keys = Math.floor((10 * MEMORY) / (VALUE.length + 64));
  for (let i = 0; i < keys; i++) {
    store.set(`key:${i}`, VALUE, { partition: i & 1023 });
    if (i % 256 === 0) {
      do {
        tier?.flush();
        await yieldToIo();
        refused = refused.filter(([key, value, partition]) => !tier!.put(key, value, partition));
      } while (refused.length > 0);
    }
  }
  // Closed and reopened, as after a restart: the index is the one recovery rebuilds.
  if (tier !== null) {
    const closing = tier;
    await new Promise<void>((resolve) => closing.close(resolve));
    tier = openTier()!;
    const reopened = tier;
    await new Promise((resolve) => reopened.recover(resolve));
  }
  return {
    store, tier, keys,
    close: () => {
      device?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function afterGc(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage();
}

/** In a child process: RSS growth of a filled store (with or without its tier), as one JSON line. */
async function rssProbe(withDisk: boolean): Promise<void> {
  const before = afterGc();
  const t = await filled(withDisk);
  const after = afterGc();
  process.stdout.write(`${JSON.stringify({
    disk: withDisk, memoryBudget: MEMORY, diskEntries: t.tier?.stats().entries ?? 0, memoryEntries: t.store.size,
    rssGrowth: after.rss - before.rss, liveGrowth: after.heapUsed + after.external - before.heapUsed - before.external,
  })}\n`);
  t.close();
}

export interface RssRow { tier: string; memoryEntries: number; diskEntries: number; rssGrowthMiB: number; rssOverBudget: number; liveGrowthMiB: number; liveOverBudget: number }

export function rssRows(): RssRow[] {
  return ['memory', 'disk'].map((which) => {
    const out = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'rss', which], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`rss probe (${which}) failed: ${out.stderr}`);
    const r = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { memoryEntries: number; diskEntries: number; rssGrowth: number; liveGrowth: number };
    return {
      tier: which === 'memory' ? 'memory 16 MiB' : 'memory 16 MiB + disk 160 MiB', memoryEntries: r.memoryEntries, diskEntries: r.diskEntries,
      rssGrowthMiB: r.rssGrowth / 2 ** 20, rssOverBudget: r.rssGrowth / MEMORY, liveGrowthMiB: r.liveGrowth / 2 ** 20, liveOverBudget: r.liveGrowth / MEMORY,
    };
  });
}

export interface LagRow { tier: string; opsPerSecond: number; seconds: number; ops: number; diskReads: number; diskHits: number; lagP99Ms: number; lagMaxMs: number; diskReadP99Ms: number }

/**
 * `opsPerSecond` for `seconds` on a filled store and tier, paced against the clock; without the
 * tier (the alternative), the same ops, and the reads meant for the disk miss.
 */
export async function lagRow(seconds = 5, opsPerSecond = 20_000, withDisk = true): Promise<LagRow> {
  const t = await filled(withDisk);
  const { store, tier } = t;
  let state = 99;
  const random = (n: number) => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % n);
  // Keys on disk only: the oldest; in memory: the newest.
  const onDisk: string[] = [];
  for (let i = 0; i < t.keys && onDisk.length < 50_000; i++) if ((tier === null || tier.has(`key:${i}`)) && !store.has(`key:${i}`)) onDisk.push(`key:${i}`);
  const inMemory: string[] = [];
  for (let i = t.keys - 1; i >= 0 && inMemory.length < 5_000; i--) if (store.has(`key:${i}`)) inMemory.push(`key:${i}`);
  const diskTimes: number[] = [];
  let ops = 0;
  let diskReads = 0;
  let diskHits = 0;
  let written = t.keys;
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * opsPerSecond);
    for (; ops < due; ops++) {
      const r = random(10);
      if (r < 4) {
        const key = onDisk[random(onDisk.length)]!;
        if (store.getView(key) !== undefined || tier === null) continue;
        const sent = performance.now();
        diskReads++;
        tier.get(key, (value) => {
          diskTimes.push(performance.now() - sent);
          if (value === undefined) return;
          diskHits++;
          if (!store.has(key)) store.set(key, value, { partition: 0 });
        });
      } else if (r < 8) {
        store.getView(inMemory[random(inMemory.length)]!);
      } else {
        store.set(`key:${written++}`, VALUE, { partition: written & 1023 });
      }
    }
    tier?.flush();
    await yieldToIo();
  }
  lag.disable();
  if (tier !== null) await new Promise<void>((resolve) => tier.close(resolve));
  t.close();
  diskTimes.sort((a, b) => a - b);
  return {
    tier: withDisk ? 'memory + disk' : 'memory alone', opsPerSecond, seconds, ops, diskReads, diskHits,
    lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6,
    diskReadP99Ms: diskTimes[Math.min(diskTimes.length - 1, Math.floor(0.99 * diskTimes.length))] ?? 0,
  };
}

if (process.argv[1]?.endsWith('/store/disk-load.ts')) {
  const { positionals } = benchCommandLine('node --expose-gc --import tsx bench/store/disk-load.ts', {}, [
    { name: 'rss|lag', description: "rss: one store's RSS probe, as bench:disk runs it; lag: the event-loop lag rows alone", check: (t) => (t === 'rss' || t === 'lag' ? undefined : `is rss or lag, not "${t}"`) },
    { name: 'memory|disk|OPS_PER_SECOND', description: 'rss: the store alone or with its disk tier (default memory); lag: ops per second (default 20000)', optional: true, check: (t) => (/^(memory|disk|[1-9]\d*)$/.test(t) ? undefined : `is memory, disk or a number of ops per second, not "${t}"`) },
    { name: 'SECONDS', description: 'lag: seconds of load (default 5)', optional: true, check: (t) => (/^[1-9]\d*$/.test(t) ? undefined : `is a whole number of seconds, not "${t}"`) },
  ]);
  const [mode, second, seconds] = positionals;
  if (mode === 'rss') await rssProbe(second === 'disk');
  else for (const withDisk of [false, true]) console.log(JSON.stringify(await lagRow(Number(seconds ?? 5), Number(second ?? 20_000), withDisk)));
}
