/**
 * What a request costs a cluster of 3 nodes N=3 W=2 (R=2) in CPU: the nodes' own CPU time (utime +
 * stime from /proc, summed over the three), divided by the requests redis-benchmark sent, for
 * SET and GET at pipelining 1 and 16, MSET (10 keys) at pipelining 16 and INCR at pipelining 1;
 * 50 connections, 100-byte values over 100,000 keys, --cluster (as bench:resp runs it: every key
 * in the `{tag}` slot, one node coordinating). CPU per request is what a loaded, shared machine does not inflate the way it
 * inflates wall time and throughput.
 *
 *   node --import tsx bench/resp/cpu-per-request.ts [--rounds 3] [--warm-up 1] [--node-args '...'] [--baseline /other/checkout/packages/server/bin/shoal.js] [--measures 'SET P16,GET P16'] [--first-port 42000]
 *
 * `--node-args '--max-semi-space-size=32 ...'`: node options for this build's nodes only (not the
 * baseline's): with --baseline set to this same build, what a node flag changes.
 *
 * `--warm-up N` (default 1): N unmeasured runs of every measure, a quarter of its requests each,
 * before the first round. A node's first requests run code V8 has not compiled yet (cold, and
 * compiled on its helper threads as it goes): a cold first SET P1 run cost the nodes 2-3x what
 * the runs after it did (perf37), so rounds without a warm-up mostly measured the compiler.
 * `--warm-up 0` measures from cold, as this benchmark did before.
 *
 * With --baseline, a second cluster runs that build, both clusters up at once and taking turns
 * measure by measure, so the machine's load weighs on both alike; `x base` is this build's CPU
 * per request over the baseline's. `--first-port P`: this build's nodes on ports P.. P+8, the
 * baseline's on P+9.. P+17 (a machine whose users share out port ranges). Linux only (/proc). Builds nothing: run `npm run build` first
 * (and in the baseline's checkout).
 */
import { readFileSync } from 'node:fs';
import { benchArgs, namesFrom, positive } from '../help.ts';
import { compiledShoalMissing, startShoal, type RunningServers } from './processes.ts';
import { runRedisBenchmark, type BenchmarkSettings } from './redis-benchmark.ts';

const CONNECTIONS = 50;
const ALL_MEASURES = [
  { name: 'SET P1', test: 'set', pipeline: 1, requests: 10_000 },
  { name: 'GET P1', test: 'get', pipeline: 1, requests: 10_000 },
  { name: 'SET P16', test: 'set', pipeline: 16, requests: 40_000 },
  { name: 'GET P16', test: 'get', pipeline: 16, requests: 40_000 },
  { name: 'MSET P16', test: 'mset', pipeline: 16, requests: 4_000 },
  // Every INCR of a run on a key not read since its primary's claim: a claim, then the write.
  { name: 'INCR P1', test: 'incr', pipeline: 1, requests: 3_000 },
  // Not run by default: long enough for the {tag} partition to fill up (about 86,000 of the 100,000
  // keys), which is where anti-entropy of one large partition shows (docs/REPLICATION.md).
  { name: 'SET P16 200k', test: 'set', pipeline: 16, requests: 200_000 },
] as const;
const flags = benchArgs('node --import tsx bench/resp/cpu-per-request.ts', {
  rounds: { kind: 'integer', value: 'N', description: 'measured rounds of every measure', default: 3, check: positive },
  'warm-up': { kind: 'integer', value: 'N', description: 'unmeasured rounds before them', default: 1, check: (n) => (Number(n) >= 0 ? undefined : `must be 0 or more, not ${String(n)}`) },
  'node-args': { kind: 'string', value: "'...'", description: "more arguments of every node's shoal start, space-separated" },
  baseline: { kind: 'string', value: 'OTHER/packages/server/bin/shoal.js', description: "another checkout's compiled shoal, measured beside this one" },
  measures: { kind: 'string', value: "'SET P16,GET P16'", description: "comma-separated measures (default: all but 'SET P16 200k')", check: namesFrom(ALL_MEASURES.map((m) => m.name)) },
  'first-port': { kind: 'integer', value: 'PORT', description: 'the lowest port the nodes take (else free ones)', check: (n) => (Number(n) > 1024 && Number(n) < 65_500 ? undefined : `takes a port from 1025 to 65499, not ${String(n)}`) },
});
const ROUNDS = Number(flags.rounds);
const NODE_ARGS = (flags['node-args'] as string | undefined)?.split(' ').filter((a) => a !== '');
const WARM_UPS = Number(flags['warm-up']);
const BASELINE = flags.baseline as string | undefined;
const FIRST_PORT = flags['first-port'] as number | undefined;
const onlyMeasures = (flags.measures as string | undefined)?.split(',');
const MEASURES = onlyMeasures === undefined ? ALL_MEASURES.filter((m) => m.name !== 'SET P16 200k') : ALL_MEASURES.filter((m) => onlyMeasures.includes(m.name));
if (MEASURES.length === 0) throw new Error(`--measures: none of ${onlyMeasures!.join(', ')} (known: ${ALL_MEASURES.map((m) => m.name).join(', ')})`);

const settings = (measure: (typeof ALL_MEASURES)[number]): BenchmarkSettings => ({ tests: [measure.test], clients: CONNECTIONS, pipeline: measure.pipeline, requests: measure.requests, valueBytes: 100, keyspace: 100_000, cluster: true });

/** The process's CPU time so far, in ms (utime + stime, fields 14 and 15 of /proc/PID/stat; 100 ticks a second). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const clusterCpuMs = (servers: RunningServers): number => servers.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);

async function main(): Promise<void> {
  const missing = compiledShoalMissing();
  if (missing) throw new Error(missing);
  const builds: [string, string | undefined][] = [['this', undefined], ...(BASELINE === undefined ? [] : [['base', BASELINE] as [string, string]])];
  const clusters = new Map<string, RunningServers>();
  const spent = new Map<string, { cpuMs: number; requests: number; wallMs: number }>();
  const failures: string[] = [];
  try {
    for (const [name, bin] of builds) {
      process.stderr.write(`${name}: starting 3 nodes N=3 W=2\n`);
      const firstPort = FIRST_PORT === undefined ? {} : { firstPort: FIRST_PORT + 9 * clusters.size };
      const nodeArgs = name === 'this' && NODE_ARGS !== undefined ? { nodeArgs: NODE_ARGS } : {};
      clusters.set(name, await startShoal({ nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2, ...(bin === undefined ? {} : { bin }), ...firstPort, ...nodeArgs }));
    }
    for (let warmUp = 0; warmUp < WARM_UPS; warmUp++) {
      for (const measure of MEASURES) {
        for (const [name, servers] of clusters) {
          await runRedisBenchmark(servers.resp[0]!, { ...settings(measure), requests: Math.ceil(measure.requests / 4) }).catch(() => process.stderr.write(`${name} ${measure.name}: warm-up failed\n`));
        }
      }
      process.stderr.write(`warm-up ${warmUp + 1}/${WARM_UPS}\n`);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const measure of MEASURES) {
        for (const [name, servers] of clusters) {
          const before = clusterCpuMs(servers);
          const wallBefore = performance.now();
          try {
            await runRedisBenchmark(servers.resp[0]!, settings(measure));
          } catch (error) {
            // A run that stalls (redis-benchmark --cluster sleeps 1 s per CLUSTERDOWN) is reported, not averaged in.
            failures.push(`${name} ${measure.name} round ${round + 1}: ${(error as Error).message.slice(0, 200)}`);
            process.stderr.write(`${name} ${measure.name}: failed\n`);
            continue;
          }
          const s = spent.get(`${name} ${measure.name}`) ?? { cpuMs: 0, requests: 0, wallMs: 0 };
          s.cpuMs += clusterCpuMs(servers) - before;
          s.requests += measure.requests;
          s.wallMs += performance.now() - wallBefore;
          spent.set(`${name} ${measure.name}`, s);
        }
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    }
  } finally {
    for (const servers of clusters.values()) await servers.stop();
  }
  const usPer = (name: string, measure: string): number => {
    const s = spent.get(`${name} ${measure}`);
    return s === undefined ? NaN : (s.cpuMs * 1000) / s.requests;
  };
  const rate = (name: string, measure: string): number => {
    const s = spent.get(`${name} ${measure}`);
    return s === undefined ? NaN : Math.round(s.requests / (s.wallMs / 1000));
  };
  const rows = MEASURES.map((m) => ({
    measure: m.name,
    clusterCpuUsPerRequest: Math.round(usPer('this', m.name) * 10) / 10,
    ...(BASELINE === undefined ? {} : { baseCpuUsPerRequest: Math.round(usPer('base', m.name) * 10) / 10, xBase: Math.round((usPer('this', m.name) / usPer('base', m.name)) * 100) / 100 }),
    rps: rate('this', m.name),
    ...(BASELINE === undefined ? {} : { baseRps: rate('base', m.name) }),
  }));
  process.stdout.write(`${JSON.stringify({ benchmark: 'resp-cpu-per-request', rounds: ROUNDS, warmUps: WARM_UPS, nodeArgs: NODE_ARGS ?? null, connections: CONNECTIONS, baseline: BASELINE ?? null, rows, failures })}\n\n`);
  const header = ['measure', 'CPU us/request', ...(BASELINE === undefined ? [] : ['base us', 'x base']), 'rps', ...(BASELINE === undefined ? [] : ['base rps'])];
  const lines = [header, ...rows.map((r) => [r.measure, r.clusterCpuUsPerRequest.toFixed(1), ...(BASELINE === undefined ? [] : [r.baseCpuUsPerRequest!.toFixed(1), r.xBase!.toFixed(2)]), String(r.rps), ...(BASELINE === undefined ? [] : [String(r.baseRps)])])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  process.stdout.write(`${lines.map((l) => l.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n`);
  process.stdout.write('\nCPU of all three nodes per request sent (us); rps is wall-clock and moves with the machine\'s load.\n');
  for (const failure of failures) process.stdout.write(`FAILED ${failure}\n`);
}

await main();
