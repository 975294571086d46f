/**
 * What TLS and ACLs cost the node in CPU, measured as the node's own CPU time (utime + stime from
 * /proc), which other processes' load does not inflate the way it inflates wall time and
 * throughput (bench:resp's ratios swing 2x and more on a shared machine). One node per row, the
 * rows taking turns round by round. Two measures:
 *
 * - per connection: redis-benchmark opening 50 connections that each (with ACLs) AUTH with a
 *   password and send one GET; a password AUTH costs one scrypt unless the node has verified that
 *   login before (src/security/verified-logins.ts), and TLS a handshake;
 * - per request: 50 connections sending GETs (pipelining 1, then 16), the connecting amortised
 *   over REQUESTS requests: what each request costs with TLS records and the ACL check.
 *
 *   node --import tsx bench/resp/security-cost.ts [--rounds 4]
 *
 * Linux only (/proc). Builds nothing: run `npm run build` first.
 */
import { readFileSync } from 'node:fs';
import { benchArgs, positive } from '../help.ts';
import { compiledShoalMissing, startShoal, type RunningServers } from './processes.ts';
import { runRedisBenchmark } from './redis-benchmark.ts';

const ROWS = {
  'shoal-1': {},
  'shoal-1-tls': { tls: true },
  'shoal-1-acl': { acl: true },
  'shoal-1-tls-acl': { tls: true, acl: true },
} as const;
type RowName = keyof typeof ROWS;

const flags = benchArgs('node --import tsx bench/resp/security-cost.ts', {
  rounds: { kind: 'integer', value: 'N', description: 'rounds, the rows taking turns in each', default: 4, check: positive },
});
const ROUNDS = Number(flags.rounds);
const CONNECTIONS = 50;
const REQUESTS = 20_000;
const MEASURES = [
  { name: 'connection', pipeline: 1, requests: CONNECTIONS, per: CONNECTIONS },
  { name: 'request P1', pipeline: 1, requests: REQUESTS, per: REQUESTS },
  { name: 'request P16', pipeline: 16, requests: REQUESTS, per: REQUESTS },
] as const;
type MeasureName = (typeof MEASURES)[number]['name'];

/** The process's CPU time so far, in ms (utime + stime, fields 14 and 15 of /proc/PID/stat). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Clock ticks: 100 per second on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const missing = compiledShoalMissing();
  if (missing) throw new Error(missing);
  const servers = new Map<RowName, RunningServers>();
  /** CPU ms and wall ms spent per row and measure. */
  const spent = new Map<string, { cpuMs: number; wallMs: number }>();
  try {
    for (const name of Object.keys(ROWS) as RowName[]) {
      process.stderr.write(`${name}: starting\n`);
      servers.set(name, await startShoal({ nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, ...ROWS[name] }));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const measure of MEASURES) {
        for (const [name, running] of servers) {
          const pid = running.pids[0]!;
          const cpuBefore = cpuMs(pid);
          const wallBefore = performance.now();
          await runRedisBenchmark(running.resp[0]!, { tests: ['get'], clients: CONNECTIONS, pipeline: measure.pipeline, requests: measure.requests, valueBytes: 100, keyspace: 100, cluster: false });
          const s = spent.get(`${name} ${measure.name}`) ?? { cpuMs: 0, wallMs: 0 };
          s.cpuMs += cpuMs(pid) - cpuBefore;
          s.wallMs += performance.now() - wallBefore;
          spent.set(`${name} ${measure.name}`, s);
        }
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    }
  } finally {
    for (const running of servers.values()) await running.stop();
  }
  const cpuPer = (row: RowName, measure: MeasureName): number => spent.get(`${row} ${measure}`)!.cpuMs / (ROUNDS * MEASURES.find((m) => m.name === measure)!.per);
  const rows = (Object.keys(ROWS) as RowName[]).flatMap((row) =>
    MEASURES.map((m) => ({
      row,
      measure: m.name,
      nodeCpuUsPer: Math.round(cpuPer(row, m.name) * 1000 * 10) / 10,
      xShoal1: round3(cpuPer(row, m.name) / cpuPer('shoal-1', m.name)),
      wallMsPerRun: round3(spent.get(`${row} ${m.name}`)!.wallMs / ROUNDS),
    })),
  );
  const header = ['row', 'node CPU per', 'us', 'x shoal-1', 'wall ms/run'];
  const lines = [header, ...rows.map((r) => [r.row, r.measure, r.nodeCpuUsPer.toFixed(1), r.xShoal1.toFixed(2), r.wallMsPerRun.toFixed(1)])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  process.stdout.write(`${JSON.stringify({ benchmark: 'resp-security-cost', rounds: ROUNDS, connections: CONNECTIONS, requests: REQUESTS, rows })}\n\n`);
  process.stdout.write(`${lines.map((l) => l.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n`);
  process.stdout.write('\nx shoal-1 is CPU, not throughput: 1.00 costs nothing; 1.18 uses 18% more CPU per connection or request (at most ~15% less throughput when the node is the bottleneck).\n');
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

await main();
