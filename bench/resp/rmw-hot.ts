/**
 * Read-modify-write on hot keys (docs/REDIS.md, "Read-modify-write throughput"): what group commit
 * (docs/REPLICATION.md) is for. Against 3 compiled nodes, N=3 W=2 (bench:resp's shoal-3-n3), and
 * redis-server for reference:
 *
 * - `incr -P 1` / `incr -P 16`: redis-benchmark INCR on ONE key (no -r), 50 clients;
 * - `pipeline-order`: one connection sends 20,000 interleaved SET/GET/INCR/APPEND on 3 keys of one
 *   slot in one write and reads the replies; every reply is checked against the Redis semantics
 *   computed here, so a reordering would show as mismatches.
 *
 * Per row: throughput, p50, and the CPU time the server processes used (from /proc), per operation,
 * which is what to compare on a loaded machine.
 *
 *   npm run build && node --import tsx bench/resp/rmw-hot.ts [--requests 20000] [--commands 20000] [--no-redis] [--profile]
 *
 * --profile runs the first Shoal node under --cpu-prof and prints its top self-time functions.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { benchArgs, positive } from '../help.ts';
import { startRedis, startShoal, type Endpoint, type RunningServers } from './processes.ts';
import { runRedisBenchmark } from './redis-benchmark.ts';
import { formatProfile, readProfile, summariseProfile } from './profile-summary.ts';

const flags = benchArgs('node --import tsx bench/resp/rmw-hot.ts', {
  requests: { kind: 'integer', value: 'N', description: 'requests of each redis-benchmark INCR run', default: 20_000, check: positive },
  commands: { kind: 'integer', value: 'N', description: 'commands of the pipelined read-modify-write run', default: 20_000, check: positive },
  'no-redis': { kind: 'boolean', description: 'skip redis-server, the reference' },
  profile: { kind: 'boolean', description: "write a CPU profile of each node and print where its time went" },
});
const REQUESTS = Number(flags.requests);
const COMMANDS = Number(flags.commands);
const CLIENTS = 50;
const withRedis = flags['no-redis'] !== true;
const profileDir = flags.profile === true ? mkdtempSync(join(tmpdir(), 'shoal-rmw-hot-profile-')) : null;

/** User plus system CPU milliseconds the processes used so far (Linux /proc; clock ticks are 10 ms). */
function cpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}

interface Row {
  target: string;
  test: string;
  ops: number;
  rps: number;
  p50Ms: number | null;
  wallMs: number;
  cpuMsPerKOp: number;
  mismatches?: number;
}

/** One RESP command as bytes. */
function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** The pipeline and the replies Redis gives it: keys {po}k0..2 cycle, each taking SET 1, GET, INCR, APPEND 0 in turn. */
function pipeline(n: number): { text: string; expected: string[] } {
  const values = new Map<string, string>();
  const parts: string[] = [];
  const expected: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `{po}k${i % 3}`;
    const current = values.get(key) ?? null;
    switch (Math.floor(i / 3) % 4) {
      case 0:
        parts.push(command('SET', key, '1'));
        values.set(key, '1');
        expected.push('+OK');
        break;
      case 1:
        parts.push(command('GET', key));
        expected.push(current === null ? '$-1' : `$${current}`);
        break;
      case 2: {
        parts.push(command('INCR', key));
        const next = String(BigInt(current ?? '0') + 1n);
        values.set(key, next);
        expected.push(`:${next}`);
        break;
      }
      default: {
        parts.push(command('APPEND', key, '0'));
        const next = `${current ?? ''}0`;
        values.set(key, next);
        expected.push(`:${next.length}`);
      }
    }
  }
  return { text: parts.join(''), expected };
}

/** Reads `count` RESP replies (simple, error, integer, bulk) from `endpoint` after writing `text`, as short strings. */
function exchange(endpoint: Endpoint, text: string, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(endpoint.port, endpoint.host);
    const replies: string[] = [];
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let at = 0;
      for (;;) {
        const end = buffer.indexOf('\r\n', at);
        if (end < 0) break;
        const line = buffer.slice(at, end);
        if (line[0] === '$' && line !== '$-1') {
          const length = Number(line.slice(1));
          if (buffer.length < end + 2 + length + 2) break;
          replies.push(`$${buffer.slice(end + 2, end + 2 + length)}`);
          at = end + 2 + length + 2;
        } else {
          replies.push(line);
          at = end + 2;
        }
      }
      buffer = buffer.slice(at);
      if (replies.length >= count) {
        socket.end();
        resolve(replies);
      }
    });
  });
}

/** The node that serves slot {po} itself (others answer MOVED). */
async function ownerOf(servers: RunningServers): Promise<Endpoint> {
  for (const endpoint of servers.resp) {
    const [reply] = await exchange(endpoint, command('GET', '{po}k0'), 1);
    if (!reply!.startsWith('-MOVED')) return endpoint;
  }
  throw new Error('no node serves slot {po}');
}

async function measure(target: string, servers: RunningServers, cluster: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  for (const pipelineDepth of [1, 16]) {
    const cpuBefore = cpuMs(servers.pids);
    const started = Date.now();
    const [result] = await runRedisBenchmark(servers.resp[0]!, { tests: ['incr'], clients: CLIENTS, pipeline: pipelineDepth, requests: REQUESTS, valueBytes: 100, keyspace: 0, cluster });
    const cpu = cpuMs(servers.pids) - cpuBefore;
    rows.push({ target, test: `incr one key -P ${pipelineDepth}`, ops: REQUESTS, rps: result!.rps, p50Ms: result!.p50Ms, wallMs: Date.now() - started, cpuMsPerKOp: (cpu * 1000) / REQUESTS });
  }
  const { text, expected } = pipeline(COMMANDS);
  const endpoint = cluster ? await ownerOf(servers) : servers.resp[0]!;
  // A first key of each kind, so the measured run starts from the same state as the model (none).
  await exchange(endpoint, command('DEL', '{po}k0', '{po}k1', '{po}k2'), 1);
  const cpuBefore = cpuMs(servers.pids);
  const started = Date.now();
  const replies = await exchange(endpoint, text, COMMANDS);
  const wallMs = Date.now() - started;
  const cpu = cpuMs(servers.pids) - cpuBefore;
  const mismatches = replies.filter((r, i) => r !== expected[i]).length;
  rows.push({ target, test: `pipeline-order ${COMMANDS} on 3 keys`, ops: COMMANDS, rps: Math.round((COMMANDS * 1000) / wallMs), p50Ms: null, wallMs, cpuMsPerKOp: (cpu * 1000) / COMMANDS, mismatches });
  return rows;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  if (withRedis) {
    const redis = await startRedis();
    try {
      rows.push(...(await measure('redis-server', redis, false)));
    } finally {
      await redis.stop();
    }
  }
  const shoal = await startShoal({ nodes: 3, replicas: 3, writeQuorum: 2, readQuorum: 2, ...(profileDir === null ? {} : { cpuProfileDir: profileDir }) });
  try {
    rows.push(...(await measure('shoal 3 nodes N=3 W=2', shoal, true)));
  } finally {
    await shoal.stop();
  }
  if (profileDir !== null) {
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) console.log(`profile of one node (whole run, top self time):\n${formatProfile(summariseProfile(readProfile(join(profileDir, file)), 25))}`);
    rmSync(profileDir, { recursive: true, force: true });
  }
  console.table(rows);
  console.log(JSON.stringify({ benchmark: 'rmw-hot', date: new Date().toISOString(), requests: REQUESTS, commands: COMMANDS, clients: CLIENTS, rows }));
}

await main();
