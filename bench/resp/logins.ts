/**
 * What a connection costs the node to open, with and without TLS and ACLs: rounds of
 * redis-benchmark opening 50 connections that each (with ACLs) AUTH with a password and send one
 * GET, against one node per row, the rows taking turns round by round so that a busy machine
 * weighs on each alike. Measured as the node's own CPU time (utime + stime from /proc) per
 * connection, which other processes' load does not inflate the way it inflates wall time.
 *
 *   node --import tsx bench/resp/logins.ts [--rounds 10]
 *
 * This is the connect-time part of `npm run bench:resp`'s TLS and ACL rows (redis-benchmark's
 * clock includes it): a password AUTH costs one scrypt unless the node has verified that login
 * before (src/security/verified-logins.ts). Linux only (/proc). Builds nothing: run
 * `npm run build` first.
 */
import { readFileSync } from 'node:fs';
import { compiledShoalMissing, startShoal, type RunningServers } from './processes.ts';
import { runRedisBenchmark } from './redis-benchmark.ts';

const ROWS = {
  'shoal-1': {},
  'shoal-1-tls': { tls: true },
  'shoal-1-acl': { acl: true },
  'shoal-1-tls-acl': { tls: true, acl: true },
} as const;
type RowName = keyof typeof ROWS;

const argv = process.argv.slice(2);
const roundsAt = argv.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 10;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds takes a whole number >= 1');
const CONNECTIONS = 50;

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
  const spent = new Map<RowName, { cpuMs: number; wallMs: number; first: number }>();
  try {
    for (const name of Object.keys(ROWS) as RowName[]) {
      process.stderr.write(`${name}: starting\n`);
      servers.set(name, await startShoal({ nodes: 1, replicas: 1, readQuorum: 1, writeQuorum: 1, ...ROWS[name] }));
      spent.set(name, { cpuMs: 0, wallMs: 0, first: 0 });
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, running] of servers) {
        const pid = running.pids[0]!;
        const cpuBefore = cpuMs(pid);
        const wallBefore = performance.now();
        await runRedisBenchmark(running.resp[0]!, { tests: ['get'], clients: CONNECTIONS, pipeline: 1, requests: CONNECTIONS, valueBytes: 100, keyspace: 100, cluster: false });
        const s = spent.get(name)!;
        const cpu = cpuMs(pid) - cpuBefore;
        if (round === 0) s.first = cpu;
        s.cpuMs += cpu;
        s.wallMs += performance.now() - wallBefore;
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
    }
  } finally {
    for (const running of servers.values()) await running.stop();
  }
  const connections = ROUNDS * CONNECTIONS;
  const plain = spent.get('shoal-1')!;
  const rows = [...spent].map(([name, s]) => ({
    row: name,
    connections,
    nodeCpuMsPerConnection: round3(s.cpuMs / connections),
    firstRoundCpuMsPerConnection: round3(s.first / CONNECTIONS),
    xPlainCpu: round3(s.cpuMs / Math.max(1, plain.cpuMs)),
    wallMsPerRound: round3(s.wallMs / ROUNDS),
  }));
  const header = ['row', 'node CPU ms/connection', 'first round', 'x shoal-1', 'wall ms/round'];
  const lines = [header, ...rows.map((r) => [r.row, r.nodeCpuMsPerConnection.toFixed(3), r.firstRoundCpuMsPerConnection.toFixed(3), r.xPlainCpu.toFixed(2), r.wallMsPerRound.toFixed(1)])];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  process.stdout.write(`${JSON.stringify({ benchmark: 'resp-logins', rounds: ROUNDS, connectionsPerRound: CONNECTIONS, rows })}\n\n`);
  process.stdout.write(`${lines.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n`);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

await main();
