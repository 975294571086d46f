/**
 * `npm run bench:metrics`: what Prometheus metrics cost a node (issue 15).
 *
 * 1. Scrape cost: one real node in this process (1024 partitions, its own ring), scraped with an
 *    empty store and with 1,000,000 keys in it: the whole scrape's CPU time, the longest the event
 *    loop was held in one slice (the scrape yields between slices: src/admin/metrics.ts), and the
 *    same text built in one go by prom-client's `registry.metrics()` for comparison.
 * 2. Request overhead of the latency hooks: the node's coordinator driven in-process (no network,
 *    so the hook's share is as large as it can be) in a closed loop, rounds with and without the
 *    observers interleaved in one run.
 *
 *   node --import tsx bench/metrics/index.ts [--keys 1000000] [--ops 200000] [--rounds 3] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchArgs, type BenchOptions } from '../help.ts';
import { resolveConfig } from '../../src/daemon/config.ts';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.ts';
import { RequestTimer } from '../../src/admin/metrics.ts';
import { nodeMetrics } from '../../src/daemon/metrics-source.ts';
import { observed } from '../../src/replication/observer.ts';
import { AdmissionGate } from '../../src/replication/admission-gate.ts';
import { freePorts } from '../../src/daemon/ports.ts';
import { createLogger } from '../../src/runtime/real.ts';

const FLAGS: BenchOptions = {
  keys: { kind: 'number', description: 'keys in the store for the second scrape measurement', default: 1_000_000 },
  ops: { kind: 'number', description: 'requests per throughput round', default: 30_000 },
  rounds: { kind: 'number', description: 'throughput rounds per side (with / without hooks, interleaved)', default: 3 },
  scrapes: { kind: 'number', description: 'scrapes per measurement (the median and the worst are reported)', default: 30 },
  json: { kind: 'boolean', description: 'print only the JSON result' },
};

interface ScrapeResult {
  keys: number;
  partitions: number;
  families: number;
  lines: number;
  bytes: number;
  /** Median and worst CPU time of one scrape (every slice summed), ms. */
  scrapeMsMedian: number;
  scrapeMsMax: number;
  /** The longest the event loop was held by one slice: median over the scrapes, and the worst, ms. */
  longestSliceMsMedian: number;
  longestSliceMsMax: number;
  /** The most CPU time the process spent in one slice: median over the scrapes, and the worst, ms (a descheduled slice is long in wall time, not in CPU). */
  longestSliceCpuMsMedian: number;
  longestSliceCpuMsMax: number;
  /** Process CPU time of one scrape (median), ms: unlike wall time, not inflated by other processes. */
  cpuMsMedian: number;
  slicesMedian: number;
  /** prom-client's registry.metrics() (one unsliced pass), median ms. */
  unslicedMsMedian: number;
}

async function main(): Promise<void> {
  const flags = benchArgs('npm run bench:metrics --', FLAGS);
  const keys = Number(flags['keys']);
  const ops = Number(flags['ops']);
  const rounds = Number(flags['rounds']);
  const scrapes = Number(flags['scrapes']);
  const dataDir = mkdtempSync(join(tmpdir(), 'shoal-bench-metrics-'));
  const [port, peerPort] = await freePorts(2);
  const config = resolveConfig({
    flags: { name: 'bench-metrics', port: String(port), 'peer-port': String(peerPort), 'resp-port': '0', 'admin-port': '0', 'max-memory': '2gb', 'log-level': 'warn', 'log-format': 'json', 'data-dir': dataDir, replicas: '1', 'read-quorum': '1', 'write-quorum': '1' },
    env: {},
  });
  const daemon = await startDaemon({ config, log: createLogger({ level: 'warn', pretty: false, name: 'bench-metrics' }), version: 'bench' });
  try {
    await waitJoined(daemon);
    const scrape: ScrapeResult[] = [];
    scrape.push(await measureScrapes(daemon, 0, scrapes));
    const t0 = performance.now();
    fill(daemon, keys);
    if (!flags['json']) console.error(`filled ${keys} keys in ${Math.round(performance.now() - t0)} ms`);
    scrape.push(await measureScrapes(daemon, keys, scrapes));
    const overhead = await measureOverhead(daemon, ops, rounds);
    const hooks = hookCost();
    const report = { hooks, node: process.version, loadAverage: loadavg().map((x) => round(x)), cpus: cpus().length, scrape, overhead };
    if (!flags['json']) {
      console.log('Scrape cost (one node, 1024 partitions; times in ms)');
      console.table(scrape);
      console.log(`Request overhead of the latency hooks (in-process coordinator, ${ops} requests per round, ${rounds} rounds each, interleaved)`);
      console.table(overhead.rows);
      console.log(`overhead: ${overhead.overheadPercent}% of throughput (median with hooks vs median without; noisy on a loaded machine)`);
      console.log('Cost of the hooks themselves (tight loop, median of 5 interleaved rounds)');
      console.table([hooks]);
    }
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await daemon.shutdown('bench done');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function waitJoined(daemon: Daemon): Promise<void> {
  for (let i = 0; i < 200 && !daemon.node.joined(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!daemon.node.joined()) throw new Error('the bench node did not join its own cluster in 10 s');
}

/** Puts `keys` entries straight into the node's store (a scrape must not care how they came). */
function fill(daemon: Daemon, keys: number): void {
  const store = daemon.node.shoal.store;
  const partitions = daemon.node.shoal.partitions;
  const value = new Uint8Array(16).fill(7);
  for (let i = 0; i < keys; i++) store.set(`bench:key:${i}`, value, { partition: i % partitions });
  // Some traffic for the hot-key tracker, so the rate gauge has ranks to show.
  for (let i = 0; i < 20_000; i++) store.get(`bench:key:${i % 50}`);
}

async function measureScrapes(daemon: Daemon, keys: number, count: number): Promise<ScrapeResult> {
  const metrics = nodeMetrics({ node: daemon.node, server: () => null, resp: () => null, admission: new AdmissionGate({ nowMs: () => 0 }), authGuard: { failures: 0, refused: 0 } as never }, { timings: false });
  try {
    const times: number[] = [];
    const unsliced: number[] = [];
    const slices: number[] = [];
    const longest: number[] = [];
    const longestCpu: number[] = [];
    const cpu: number[] = [];
    let text = '';
    for (let i = 0; i < 5; i++) await metrics.scrape(); // warm-up (JIT)
    for (let i = 0; i < count; i++) {
      const cpu0 = process.cpuUsage();
      const result = await metrics.scrape();
      const cpuUsed = process.cpuUsage(cpu0);
      cpu.push((cpuUsed.user + cpuUsed.system) / 1000);
      text = result.text;
      longest.push(result.longestSliceMs);
      longestCpu.push(result.longestSliceCpuMs);
      times.push(result.busyMs);
      slices.push(result.slices);
      const t0 = performance.now();
      await metrics.registry.metrics();
      unsliced.push(performance.now() - t0);
    }
    return {
      keys,
      partitions: daemon.node.shoal.partitions,
      families: metrics.registry.getMetricsAsArray().length,
      lines: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
      bytes: Buffer.byteLength(text),
      scrapeMsMedian: round(median(times)),
      scrapeMsMax: round(Math.max(...times)),
      longestSliceMsMedian: round(median(longest)),
      longestSliceMsMax: round(Math.max(...longest)),
      longestSliceCpuMsMedian: round(median(longestCpu)),
      longestSliceCpuMsMax: round(Math.max(...longestCpu)),
      cpuMsMedian: round(median(cpu)),
      slicesMedian: median(slices),
      unslicedMsMedian: round(median(unsliced)),
    };
  } finally {
    metrics.close();
  }
}

/** Closed loop of set/get pairs through the node's coordinator; returns requests per second. */
async function closedLoop(daemon: Daemon, ops: number, concurrency = 256): Promise<number> {
  const kv = daemon.node.kv;
  const value = new TextEncoder().encode('x'.repeat(100));
  const keys = Array.from({ length: 10_000 }, (_, i) => new TextEncoder().encode(`loop:${i}`));
  let issued = 0;
  let done = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const next = (): void => {
      if (issued >= ops) {
        if (done === ops) resolve();
        return;
      }
      const i = issued++;
      const finish = (): void => {
        done++;
        next();
      };
      if (i % 2 === 0) kv.set(keys[i % keys.length]!, value, {}, finish);
      else kv.get(keys[i % keys.length]!, {}, finish);
    };
    for (let c = 0; c < concurrency; c++) next();
  });
  return ops / ((performance.now() - start) / 1000);
}

async function measureOverhead(daemon: Daemon, ops: number, rounds: number): Promise<{ rows: { round: number; hooks: string; opsPerSec: number }[]; overheadPercent: number }> {
  const metrics = nodeMetrics({ node: daemon.node, server: () => null, resp: () => null, admission: new AdmissionGate({ nowMs: () => 0 }), authGuard: { failures: 0, refused: 0 } as never }, { timings: false, process: false });
  const rows: { round: number; hooks: string; opsPerSec: number }[] = [];
  try {
    await closedLoop(daemon, ops); // warm-up
    for (let r = 1; r <= rounds; r++) {
      for (const on of r % 2 === 1 ? [false, true] : [true, false]) {
        daemon.node.shoal.observe(on ? metrics.timer.request : null, on ? metrics.timer.replica : null);
        rows.push({ round: r, hooks: on ? 'on' : 'off', opsPerSec: Math.round(await closedLoop(daemon, ops)) });
      }
    }
  } finally {
    daemon.node.shoal.observe(null, null);
    metrics.close();
  }
  const off = median(rows.filter((x) => x.hooks === 'off').map((x) => x.opsPerSec));
  const on = median(rows.filter((x) => x.hooks === 'on').map((x) => x.opsPerSec));
  return { rows, overheadPercent: round(((off - on) / off) * 100) };
}

/**
 * Nanoseconds of CPU the hooks add: a coordinator request (the `observed` wrapper: a closure, two clock
 * reads, histogram and outcome counts) and a replica job (two clock reads and a histogram count),
 * against calling the completion directly. `percentOfCoreAt100kRps`: the share of one core the
 * coordinator hook plus N=3 replica hooks take at 100,000 requests per second.
 */
function hookCost(n = 1_000_000): { coordinatorNs: number; replicaNs: number; percentOfCoreAt100kRps: number } {
  const timer = new RequestTimer();
  const clock = { monoMs: () => performance.now(), wallMs: () => Date.now() };
  const result = { value: null, expiresAtMs: null, acks: 1 };
  let sink = 0;
  const done = (): void => {
    sink++;
  };
  const plain = (): number => {
    const t = cpuMs();
    for (let i = 0; i < n; i++) done();
    return cpuMs() - t;
  };
  const coordinator = (): number => {
    const t = cpuMs();
    for (let i = 0; i < n; i++) observed(timer.request, clock, 'get', 'quorum', done)(null, result);
    return cpuMs() - t;
  };
  const replica = (): number => {
    const t = cpuMs();
    for (let i = 0; i < n; i++) {
      const start = clock.monoMs();
      done();
      timer.replica('read', (clock.monoMs() - start) / 1000);
    }
    return cpuMs() - t;
  };
  const base: number[] = [];
  const c: number[] = [];
  const r: number[] = [];
  for (let round = 0; round < 6; round++) {
    const b = plain();
    const x = coordinator();
    const y = replica();
    if (round === 0) continue; // warm-up
    base.push(b);
    c.push(x);
    r.push(y);
  }
  if (sink === 0) throw new Error('unreachable');
  const coordinatorNs = ((median(c) - median(base)) / n) * 1e6;
  const replicaNs = ((median(r) - median(base)) / n) * 1e6;
  return { coordinatorNs: round(coordinatorNs), replicaNs: round(replicaNs), percentOfCoreAt100kRps: round(((coordinatorNs + 3 * replicaNs) * 100_000) / 1e7) };
}

/** Process CPU time in ms: unlike wall time, not inflated when other processes take the cores. */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

await main();
