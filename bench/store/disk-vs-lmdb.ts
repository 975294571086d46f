/**
 * Issue 20's comparison: our disk tier (src/store/disk, a region log) against LMDB (the `lmdb`
 * package, prebuilt binaries, a devDependency for this benchmark only) on the same workload.
 *
 *   node --expose-gc --import tsx bench/store/disk-vs-lmdb.ts [--json] [--reads N]
 *
 * For 100 B and 4 KiB values, each store in its own process (so RSS is its own):
 * 1. puts of 2 x 48 MiB of key + value (what a node's evictions send down) into a store of fixed
 *    size, 256 per turn of the event loop, timed until the store is closed (every byte handed to the
 *    OS; neither side calls fsync: LMDB runs with noSync, as a cache needs no durability). Ours is a
 *    64 MiB file reused in FIFO order; LMDB holds 48 MiB of entries: past that, every put deletes
 *    the oldest key (FIFO too), since LMDB itself never evicts;
 * 2. reopen (ours reads its regions back to rebuild the index; LMDB maps the file);
 * 3. N random gets, one at a time, half of keys present (the newest 24 MiB) and half never written.
 * Encryption: ours seals 4 KiB blocks with AES-256-GCM; `lmdb+gcm` seals every value with the same
 * sealer (src/security/block-sealer.ts, the key as authenticated data) before the put and opens it
 * after the get, so both pay for encryption; `lmdb` is the plain store (what encryption costs it).
 * Write amplification = bytes the process wrote (/proc/self/io wchar) / key and value bytes.
 * Memory = RSS and live (heap + external) after a full GC, minus the same before the puts (LMDB's
 * RSS includes the file pages it has mapped and touched, which the OS can drop).
 * Event-loop lag = monitorEventLoopDelay p99 / max over the puts, and again over the gets (not over
 * the reopen, whose time is its own column).
 */
import { spawnSync } from 'node:child_process';
import { benchCommandLine, namesFrom, positive } from '../help.ts';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { open as openLmdb } from 'lmdb';
import { FileDevice } from '../../src/daemon/disk-device.ts';
import { aesBlockSealer } from '../../src/security/block-sealer.ts';
import { UNKEYED } from '../../src/security/sealed-file.ts';
import { DiskTier } from '../../src/store/disk/disk-tier.ts';

const STORES = ['shoal', 'lmdb+gcm', 'lmdb'] as const;
type StoreName = (typeof STORES)[number];
const VALUE_SIZES = [100, 4096];
const FILE_BYTES = 64 << 20;
const APP_BYTES = 48 << 20;
/** Puts per entry the store holds: it is full and evicting for half of the puts. */
const PUTS_PER_ENTRY = 2;
const PUTS_PER_TURN = 256;
const GETS_PER_TURN = 64;
const realClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };
const yieldToIo = () => new Promise((resolve) => setImmediate(resolve));

interface Row {
  store: StoreName; valueBytes: number; entries: number;
  putsPerSecond: number; reopenMs: number;
  hitP50Us: number; hitP99Us: number; missP50Us: number; missP99Us: number; wrongReads: number;
  writeAmplification: number; fileBytes: number;
  rssGrowthMiB: number; liveGrowthMiB: number;
  putLagP99Ms: number; putLagMaxMs: number; getLagP99Ms: number; getLagMaxMs: number;
}

/** The two operations the workload needs, on either store. */
interface KeyValueFile {
  /** false: refused for now (ours, while it reclaims a region); offered again after a turn. */
  put(key: string, value: Uint8Array): boolean;
  /** The store is full: the oldest key leaves (LMDB must delete it; our log reuses its oldest region by itself). */
  evictOldest(key: string): void;
  get(key: string): Promise<Uint8Array | undefined>;
  /** Hands every put to the OS and closes. */
  closeWrites(): Promise<void>;
  /** Opens again for reads, as after a restart. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

const sealer = aesBlockSealer(UNKEYED);

function shoalFile(dir: string): KeyValueFile {
  const device = FileDevice.open(join(dir, 'tier'), FILE_BYTES);
  const newTier = () => new DiskTier({ device, sealer, clock: realClock, writeBudgetBytesPerSecond: 1 << 30 });
  let tier = newTier();
  let partition = 0;
  return {
    put: (key, value) => tier.put(key, value, partition++ & 1023),
    evictOldest: () => {},
    get: (key) => new Promise((resolve) => {
      if (!tier.get(key, resolve)) resolve(undefined);
    }),
    closeWrites: () => new Promise<void>((resolve) => tier.close(resolve)),
    reopen: async () => {
      tier = newTier();
      await new Promise((resolve) => tier.recover(resolve));
    },
    close: () => new Promise<void>((resolve) => tier.close(resolve)).then(() => device.close()),
  };
}

function lmdbFile(dir: string, encrypted: boolean): KeyValueFile {
  const options = { path: join(dir, 'lmdb'), noSync: true, compression: false, encoding: 'binary' as const, mapSize: 2 * FILE_BYTES };
  let db = openLmdb<Uint8Array, string>(options);
  let last: Promise<unknown> = Promise.resolve();
  const encoder = new TextEncoder();
  return {
    put: (key, value) => {
      last = db.put(key, encrypted ? sealer.seal(encoder.encode(key), value) : value);
      return true;
    },
    evictOldest: (key) => {
      last = db.remove(key);
    },
    get: (key) => {
      const stored = db.get(key);
      if (stored === undefined) return Promise.resolve(undefined);
      return Promise.resolve(encrypted ? (sealer.open(encoder.encode(key), stored) ?? undefined) : stored);
    },
    closeWrites: async () => {
      await last;
      await db.close();
    },
    reopen: async () => {
      db = openLmdb<Uint8Array, string>(options);
    },
    close: () => db.close(),
  };
}

function bytesWrittenByProcess(): number {
  return Number(/wchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

function memory(): { rss: number; live: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return { rss: usage.rss, live: usage.heapUsed + usage.external };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(store: StoreName, valueBytes: number, reads: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-disk-vs-lmdb-'));
  try {
    const file = store === 'shoal' ? shoalFile(dir) : lmdbFile(dir, store === 'lmdb+gcm');
    const entries = Math.floor(APP_BYTES / (valueBytes + 16));
    const values = Array.from({ length: 64 }, (_, i) => new Uint8Array(valueBytes).map((_, j) => (i * 31 + j * 7) & 255));
    const before = memory();
    const written = bytesWrittenByProcess();
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const putStart = performance.now();
    for (let i = 0; i < PUTS_PER_ENTRY * entries; i++) {
      while (!file.put(`key:${i}`, values[i & 63]!)) await yieldToIo();
      if (i >= entries) file.evictOldest(`key:${i - entries}`);
      if (i % PUTS_PER_TURN === 0) await yieldToIo();
    }
    await file.closeWrites();
    const putMs = performance.now() - putStart;
    lag.disable();
    const putLag = { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
    const reopenStart = performance.now();
    await file.reopen();
    const reopenMs = performance.now() - reopenStart;
    lag.reset();
    lag.enable();
    const hits: number[] = [];
    const misses: number[] = [];
    let wrongReads = 0;
    let state = 12345;
    for (let n = 0; n < reads; n++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const present = (n & 1) === 0;
      // Present: the newest half of what the store holds (ours keeps about 48 MiB of the 64 at least).
      const i = PUTS_PER_ENTRY * entries - (entries >> 1) + (state % (entries >> 1));
      const start = performance.now();
      const value = await file.get(present ? `key:${i}` : `absent:${i}`);
      (present ? hits : misses).push((performance.now() - start) * 1000);
      if (present ? value === undefined || Buffer.compare(value, values[i & 63]!) !== 0 : value !== undefined) wrongReads++;
      if (n % GETS_PER_TURN === 0) await yieldToIo();
    }
    lag.disable();
    const after = memory();
    const appBytes = PUTS_PER_ENTRY * entries * (`key:${entries}`.length + valueBytes);
    const writeAmplification = (bytesWrittenByProcess() - written) / appBytes;
    await file.close();
    const fileBytes = store === 'shoal' ? statSync(join(dir, 'tier')).size : statSync(join(dir, 'lmdb', 'data.mdb')).size;
    hits.sort((a, b) => a - b);
    misses.sort((a, b) => a - b);
    return {
      store, valueBytes, entries, putsPerSecond: entries / (putMs / 1000), reopenMs,
      hitP50Us: percentile(hits, 50), hitP99Us: percentile(hits, 99), missP50Us: percentile(misses, 50), missP99Us: percentile(misses, 99), wrongReads,
      writeAmplification, fileBytes,
      rssGrowthMiB: (after.rss - before.rss) / 2 ** 20, liveGrowthMiB: (after.live - before.live) / 2 ** 20,
      putLagP99Ms: putLag.p99, putLagMaxMs: putLag.max, getLagP99Ms: lag.percentile(99) / 1e6, getLagMaxMs: lag.max / 1e6,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { flags, positionals } = benchCommandLine(
  'node --expose-gc --import tsx bench/store/disk-vs-lmdb.ts',
  {
    json: { kind: 'boolean', description: 'print the rows as JSON too' },
    reads: { kind: 'integer', value: 'N', description: 'timed reads of hits and of misses', default: 10_000, check: positive },
    child: { kind: 'boolean', description: 'measure STORE at VALUE_BYTES in this process and print its row (what the run does once per store and size)' },
  },
  [
    { name: 'STORE', description: `with --child: ${STORES.join(' or ')}`, optional: true, check: namesFrom(STORES) },
    { name: 'VALUE_BYTES', description: `with --child: ${VALUE_SIZES.join(' or ')}`, optional: true, check: namesFrom(VALUE_SIZES.map(String)) },
  ],
);
const reads = Number(flags.reads);
if (flags.child === true) {
  console.log(JSON.stringify(await measure(positionals[0] as StoreName, Number(positionals[1]), reads)));
} else {
  const rows: Row[] = [];
  for (const valueBytes of VALUE_SIZES) {
    for (const store of STORES) {
      const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', store, String(valueBytes), '--reads', String(reads)], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${store} ${valueBytes} B failed: ${child.stderr}`);
      rows.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Row);
    }
  }
  const ours = (r: Row) => rows.find((o) => o.store === 'shoal' && o.valueBytes === r.valueBytes)!;
  console.log('Disk tier (shoal) against LMDB, same workload, each in its own process; ratios are LMDB / ours:');
  console.table(rows.map((r) => ({
    store: r.store, value: r.valueBytes, entries: r.entries,
    'puts/s': Math.round(r.putsPerSecond), 'puts x': (r.putsPerSecond / ours(r).putsPerSecond).toFixed(2),
    'reopen ms': r.reopenMs.toFixed(0),
    'hit p50 us': r.hitP50Us.toFixed(1), 'hit p99 us': r.hitP99Us.toFixed(1), 'hit p50 x': (r.hitP50Us / ours(r).hitP50Us).toFixed(2),
    'miss p50 us': r.missP50Us.toFixed(1), 'miss p99 us': r.missP99Us.toFixed(1),
    'write amp': r.writeAmplification.toFixed(3), 'file MiB': (r.fileBytes / 2 ** 20).toFixed(1),
    'RSS MiB': r.rssGrowthMiB.toFixed(1), 'live MiB': r.liveGrowthMiB.toFixed(1),
    'put lag p99/max ms': `${r.putLagP99Ms.toFixed(0)}/${r.putLagMaxMs.toFixed(0)}`, 'get lag p99/max ms': `${r.getLagP99Ms.toFixed(0)}/${r.getLagMaxMs.toFixed(0)}`,
    wrong: r.wrongReads,
  })));
  if (flags.json === true) console.log(JSON.stringify({ rows }));
}
