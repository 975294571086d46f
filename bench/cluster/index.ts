/**
 * `npm run bench` (bench/cluster): the SDK against one Shoal node, against 3 nodes with N=1 and
 * with N=3, and ioredis against a redis-server started here, on the same machine in one run.
 * Prints one table with ratios to redis and writes JSON to bench/results/. bench/README.md says how
 * to read it. The security rows (issue 14) are one node again with TLS on every port
 * (shoal-1-tls), with the default user off and the SDK authenticated as a user with a password and
 * a key pattern (shoal-1-acl), and with both (shoal-1-tls-acl); the metrics row (issue 15) is one
 * node with its admin port on and /metrics scraped every second (shoal-1-metrics). Each of those
 * rows shows its ratio to shoal-1. shoal-1 and shoal-1-metrics run paired (paired.ts): both nodes
 * up at once, measured back to back in alternating order for --metrics-rounds rounds; their rows
 * are each one's median round, and the metrics overhead is the median of the per-round ratios. The
 * near-cache row (issue 17, shoal-3-near) reads 90% of the time from 1% of the keys, by the SDK
 * without and with its near cache on the same cluster:
 *
 *   node --import tsx bench/cluster/index.ts [--seconds 3] [--concurrency 256] [--only redis,shoal-1] [--json]
 *   npm run bench -- --only shoal-1,shoal-1-tls,shoal-1-acl,shoal-1-tls-acl
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { bytesCodec, connect } from '../../src/client/index.ts';
import { benchArgs, namesFrom, type BenchOptions } from '../help.ts';
import { SCRAPE_INTERVAL_MS, startRedis, startShoal, type Security, type ShoalCluster } from './processes.ts';
import { measurePaired, type PairedResult } from './paired.ts';
import { formatNearCacheRow, measureNearCache, type NearCacheRow } from './near-cache.ts';
import { DEFAULT_WORKLOAD, runOp, type OpResult, type Target, type WorkloadOptions } from './workload.ts';

const TARGET_IDS = ['redis', 'shoal-1', 'shoal-1-tls', 'shoal-1-acl', 'shoal-1-tls-acl', 'shoal-1-metrics', 'shoal-3-n1', 'shoal-3-n3', 'shoal-3-near'];

const FLAGS: BenchOptions = {
  seconds: { kind: 'number', description: 'seconds per phase (two phases per operation and target)', default: DEFAULT_WORKLOAD.seconds },
  concurrency: { kind: 'number', description: 'calls outstanding in the max-throughput phase', default: DEFAULT_WORKLOAD.concurrency },
  only: { kind: 'string', value: 'redis,shoal-1', description: `comma-separated targets to run (${TARGET_IDS.join(', ')}), for quick comparisons; writes no JSON. Default: all`, check: namesFrom(TARGET_IDS) },
  'metrics-rounds': { kind: 'number', description: 'rounds of the paired shoal-1 / shoal-1-metrics measurement (the overhead is the median ratio)', default: 5 },
  json: { kind: 'boolean', description: 'print only the JSON result' },
};

/**
 * The rows compared with shoal-1: TLS and ACLs (issue 14: at most 15% below it), and metrics on
 * with a scrape every second (issue 15: under 5% below it).
 */
const SECURED: Record<string, Security> = { 'shoal-1-tls': { tls: true }, 'shoal-1-acl': { acl: true }, 'shoal-1-tls-acl': { tls: true, acl: true }, 'shoal-1-metrics': { metrics: true } };

interface Column {
  name: string;
  describe: string;
  result: { set: OpResult; get: OpResult } | { skipped: string };
}

async function shoalTarget(cluster: ShoalCluster): Promise<Target> {
  const client = await connect({ seeds: cluster.addresses, ...cluster.connectOptions, codec: bytesCodec, commandTimeoutMs: 30_000, maxOfflineQueue: 1_000_000 });
  await client.topology();
  return { set: (k, v) => client.set(k, v), get: (k) => client.get(k), close: () => client.close() };
}

async function measure(target: Target, options: WorkloadOptions): Promise<{ set: OpResult; get: OpResult }> {
  try {
    const set = await runOp(target, 'set', options);
    const get = await runOp(target, 'get', options);
    return { set, get };
  } finally {
    await target.close();
  }
}

async function main(): Promise<void> {
  const flags = benchArgs('npm run bench --', FLAGS);
  const options: WorkloadOptions = { ...DEFAULT_WORKLOAD, seconds: Number(flags.seconds), concurrency: Number(flags.concurrency) };
  const say = (line: string): void => {
    if (!flags.json) process.stderr.write(`${line}\n`);
  };
  const only = flags.only === undefined ? null : new Set(String(flags.only).split(','));
  const wanted = (id: string): boolean => only === null || only.has(id);
  const columns: Column[] = [];

  if (wanted('redis')) {
    say('redis-server + ioredis (auto-pipelining)...');
    const redis = await startRedis();
    if ('skipped' in redis) {
      say(`  skipped: ${redis.skipped}`);
      columns.push({ name: 'redis', describe: 'ioredis -> redis-server', result: redis });
    } else {
      const client = new Redis({ ...redis.address, enableAutoPipelining: true, maxRetriesPerRequest: 1 });
      const target: Target = { set: (k, v) => client.set(k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)), get: (k) => client.getBuffer(k), close: async () => void client.disconnect() };
      try {
        columns.push({ name: 'redis', describe: `ioredis -> redis-server ${redis.version}`, result: await measure(target, options) });
      } finally {
        await redis.stop();
      }
    }
  }

  const describeShoal = (nodes: number, replicas: number, on: string): string => `Shoal SDK -> ${nodes} node${nodes === 1 ? '' : 's'}, N=${replicas}, R=W=${Math.floor(replicas / 2) + 1}${on ? `, ${on}` : ''}`;
  let metricsOverhead: PairedResult | null = null;
  if (wanted('shoal-1-metrics')) {
    const rounds = Math.max(1, Math.round(Number(flags['metrics-rounds'])));
    const on = `metrics scraped every ${SCRAPE_INTERVAL_MS / 1000} s`;
    say(`shoal-1 and shoal-1-metrics (${on}), paired: ${rounds} rounds in alternating order...`);
    const plain = await startShoal(1, 1, {});
    const scraped = await startShoal(1, 1, { metrics: true });
    try {
      metricsOverhead = await measurePaired(rounds, async () => measure(await shoalTarget(plain), options), async () => measure(await shoalTarget(scraped), options), say);
    } finally {
      await Promise.all([plain.stop(), scraped.stop()]);
    }
    columns.push({ name: 'shoal-1', describe: `${describeShoal(1, 1, '')} (median of ${rounds} paired rounds)`, result: metricsOverhead.first });
  }
  const shapes = [['shoal-1', 'shoal-1', 1, 1], ...Object.keys(SECURED).map((id) => [id, id, 1, 1] as const), ['shoal-3-n1', 'shoal-3 N=1', 3, 1], ['shoal-3-n3', 'shoal-3 N=3', 3, 3]] as const;
  for (const [id, name, nodes, replicas] of shapes) {
    if (!wanted(id)) continue;
    if (metricsOverhead !== null && id === 'shoal-1') continue; // measured with the metrics row, paired
    if (id === 'shoal-1-metrics') {
      columns.push({ name, describe: `${describeShoal(1, 1, `metrics scraped every ${SCRAPE_INTERVAL_MS / 1000} s`)} (median of ${metricsOverhead!.rounds} paired rounds)`, result: metricsOverhead!.second });
      continue;
    }
    const security = SECURED[id] ?? {};
    const on = [security.tls ? 'TLS' : '', security.acl ? 'ACL user' : '', security.metrics ? `metrics scraped every ${SCRAPE_INTERVAL_MS / 1000} s` : ''].filter(Boolean).join(' + ');
    say(`${name}: ${nodes} node${nodes === 1 ? '' : 's'}, N=${replicas}${on ? `, ${on}` : ''}...`);
    const cluster = await startShoal(nodes, replicas, security);
    try {
      columns.push({ name, describe: describeShoal(nodes, replicas, on), result: await measure(await shoalTarget(cluster), options) });
    } finally {
      await cluster.stop();
    }
  }

  // The near-cache row (issue 17): skewed reads without and with the SDK's near cache, side by side.
  let nearCache: NearCacheRow | null = null;
  if (wanted('shoal-3-near')) {
    say('shoal-3 N=3, skewed reads without and with the near cache...');
    const cluster = await startShoal(3, 3);
    try {
      nearCache = await measureNearCache(cluster, options);
    } finally {
      await cluster.stop();
    }
  }

  const report = {
    benchmark: 'cluster',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    workload: options,
    columns,
    // shoal-1-metrics / shoal-1 max ops/s per paired round (issue 15: the cost of metrics, target under 5%).
    metricsOverhead,
    nearCache,
  };
  // A partial run (--only) is for quick comparisons: it must not overwrite the day's full result.
  let file: URL | null = null;
  if (only === null) {
    mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
    file = new URL(`../results/cluster-${report.date.slice(0, 10)}.json`, import.meta.url);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  if (columns.length > 0) process.stdout.write(formatTable(columns));
  if (metricsOverhead !== null) {
    const line = (op: 'set' | 'get'): string => {
      const r = metricsOverhead![op];
      return `${op} ${r.median.toFixed(3)} (rounds ${r.ratios.map((x) => x.toFixed(3)).join(', ')}; range ${r.min.toFixed(3)}-${r.max.toFixed(3)})`;
    };
    process.stdout.write(`
metrics overhead: shoal-1-metrics / shoal-1 max ops/s, median of ${metricsOverhead.rounds} paired rounds: ${line('set')}; ${line('get')}
`);
  }
  if (nearCache) process.stdout.write(formatNearCacheRow(nearCache));
  if (file) process.stdout.write(`\nJSON: ${file.pathname}\n`);
}

function formatTable(columns: Column[]): string {
  const redis = columns.find((c) => c.name === 'redis');
  const redisResult = redis && !('skipped' in redis.result) ? redis.result : null;
  const plain = columns.find((c) => c.name === 'shoal-1');
  const plainResult = plain && !('skipped' in plain.result) ? plain.result : null;
  const rows: string[][] = [['target', 'op', 'max ops/s', 'x redis', 'x shoal-1', 'half-load ops/s', 'p50 us', 'p99 us', 'p99.9 us', 'errors']];
  for (const c of columns) {
    if ('skipped' in c.result) {
      rows.push([c.name, '-', `skipped: ${c.result.skipped}`, '', '', '', '', '', '', '']);
      continue;
    }
    for (const op of ['set', 'get'] as const) {
      const r = c.result[op];
      const ratio = redisResult ? (r.max.opsPerSec / redisResult[op].max.opsPerSec).toFixed(2) : 'n/a';
      const secured = plainResult && Object.hasOwn(SECURED, c.name) ? (r.max.opsPerSec / plainResult[op].max.opsPerSec).toFixed(2) : '';
      rows.push([c.name, op, String(r.max.opsPerSec), ratio, secured, String(r.half.opsPerSec), String(r.half.p50Us), String(r.half.p99Us), String(r.half.p999Us), String(r.max.errors + r.half.errors)]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  return `${lines[0]}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${lines.slice(1).join('\n')}\n` +
    `\nmax: closed loop, ${DEFAULT_WORKLOAD.concurrency} calls outstanding by default; latencies: open loop at half of max, measured from when each call was due.\n`;
}

await main();
