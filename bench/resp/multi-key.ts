/**
 * What multi-key commands cost: MGET, EXISTS and DEL of many keys at once against a 3-node cluster
 * (N=3, R=W=2) and against redis-server, in one run on one machine. Keys `key:<i>` (spread over
 * every slot, so every partition), 100-byte values, loaded before each measure; each command
 * carries `--per-command` keys and is sent alone (no pipelining), one after another, until
 * `--keys` keys were covered. Reported per command: wall ms per command, and the servers' CPU per
 * key (utime + stime from /proc, all three nodes summed), with ratios to redis-server and, with
 * `--baseline`, to another build (both clusters up at once, taking turns measure by measure, so
 * the machine's load weighs on both alike).
 *
 *   node --import tsx bench/resp/multi-key.ts [--keys 100000] [--per-command 10000] [--rounds 2]
 *     [--commands MGET,EXISTS,DEL] [--baseline /other/checkout/packages/server/bin/shoal.js] [--first-port 42000]
 *
 * `--first-port P`: this build's nodes on P..P+8, the baseline's on P+9..P+17, redis-server on
 * P+18. A command of more than 19,999 keys needs the nodes' `--resp-max-arguments` raised: the
 * benchmark does it. Linux only (/proc). Builds nothing: run `npm run build` first (and in the
 * baseline's checkout). Prints one JSON line, then a table.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { benchArgs, namesFrom, positive } from '../help.ts';
import { compiledShoalMissing, startRedis, startShoal, type Endpoint, type RunningServers } from './processes.ts';

const KNOWN_COMMANDS = ['MGET', 'EXISTS', 'DEL'] as const;
type Command = (typeof KNOWN_COMMANDS)[number];
const flags = benchArgs('node --import tsx bench/resp/multi-key.ts', {
  keys: { kind: 'integer', value: 'N', description: 'keys loaded, and covered by each measure', default: 100_000, check: positive },
  'per-command': { kind: 'integer', value: 'N', description: 'keys each command carries (at most --keys)', default: 10_000, check: positive },
  rounds: { kind: 'integer', value: 'N', description: 'rounds of every measure', default: 2, check: positive },
  commands: { kind: 'string', value: 'MGET,EXISTS,DEL', description: 'comma-separated commands to measure', default: KNOWN_COMMANDS.join(','), check: (v) => namesFrom(KNOWN_COMMANDS)(String(v).toUpperCase()) },
  baseline: { kind: 'string', value: 'OTHER/packages/server/bin/shoal.js', description: "another checkout's compiled shoal, measured beside this one" },
  'first-port': { kind: 'integer', value: 'PORT', description: 'the lowest port the servers take (else free ones)', check: positive },
});
const KEYS = Number(flags.keys);
const PER_COMMAND = Math.min(KEYS, Number(flags['per-command']));
const ROUNDS = Number(flags.rounds);
const BASELINE = flags.baseline as string | undefined;
const FIRST_PORT = flags['first-port'] as number | undefined;
const COMMANDS = String(flags.commands).toUpperCase().split(',') as Command[];
const VALUE = 'v'.repeat(100);
/** Pairs per MSET while loading. */
const LOAD_CHUNK = 500;

/** A process's CPU time so far, in ms (utime + stime, fields 14 and 15 of /proc/PID/stat; 100 ticks a second). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const serversCpuMs = (servers: RunningServers): number => servers.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);

function connect(endpoint: Endpoint): Redis {
  // Commands of 100,000 keys take seconds on a loaded machine: no client-side timeout.
  return new Redis({ host: endpoint.host, port: endpoint.port, maxRetriesPerRequest: 0, enableOfflineQueue: true });
}

const keyName = (i: number): string => `key:${i}`;

/** The keys of command `c` of a pass: PER_COMMAND consecutive ones. */
function commandKeys(c: number): string[] {
  const from = c * PER_COMMAND;
  return Array.from({ length: Math.min(PER_COMMAND, KEYS - from) }, (_, i) => keyName(from + i));
}

async function load(client: Redis): Promise<void> {
  for (let from = 0; from < KEYS; from += LOAD_CHUNK) {
    const pairs: string[] = [];
    for (let i = from; i < Math.min(KEYS, from + LOAD_CHUNK); i++) pairs.push(keyName(i), VALUE);
    await client.call('MSET', ...pairs);
  }
}

/** Runs one pass of `command` over every key; checks every answer says each key is there (a wrong answer must not pass for a fast one). */
async function pass(client: Redis, command: Command): Promise<number> {
  const commands = Math.ceil(KEYS / PER_COMMAND);
  for (let c = 0; c < commands; c++) {
    const keys = commandKeys(c);
    const reply = await client.call(command, ...keys);
    const ok = command === 'MGET' ? Array.isArray(reply) && reply.length === keys.length && reply.every((v) => v === VALUE) : reply === keys.length;
    if (!ok) throw new Error(`${command} of ${keys.length} keys answered ${Array.isArray(reply) ? `${reply.filter((v) => v === VALUE).length} of ${keys.length} values` : String(reply)}`);
  }
  return commands;
}

interface Spent {
  cpuMs: number;
  wallMs: number;
  commands: number;
  keys: number;
}

async function main(): Promise<void> {
  const missing = compiledShoalMissing();
  if (missing) throw new Error(missing);
  const maxArguments = ['--resp-max-arguments', String(Math.max(20_000, PER_COMMAND + 1))];
  const servers = new Map<string, RunningServers>();
  const spent = new Map<string, Spent>();
  const failures: string[] = [];
  try {
    const builds: [string, string | undefined][] = [['this', undefined], ...(BASELINE === undefined ? [] : [['base', BASELINE] as [string, string]])];
    for (const [name, bin] of builds) {
      process.stderr.write(`${name}: starting 3 nodes N=3 R=W=2\n`);
      const firstPort = FIRST_PORT === undefined ? {} : { firstPort: FIRST_PORT + 9 * servers.size };
      servers.set(name, await startShoal({ nodes: 3, replicas: 3, readQuorum: 2, writeQuorum: 2, extraArgs: maxArguments, ...(bin === undefined ? {} : { bin }), ...firstPort }));
    }
    servers.set('redis', await startRedis(FIRST_PORT === undefined ? undefined : FIRST_PORT + 18));
    const clients = new Map([...servers].map(([name, s]) => [name, connect(s.resp[0]!)]));
    try {
      for (const client of clients.values()) await load(client);
      for (let round = 0; round < ROUNDS; round++) {
        for (const command of COMMANDS) {
          for (const [name, server] of servers) {
            const client = clients.get(name)!;
            const cpuBefore = serversCpuMs(server);
            const wallBefore = performance.now();
            try {
              const commands = await pass(client, command);
              const s = spent.get(`${name} ${command}`) ?? { cpuMs: 0, wallMs: 0, commands: 0, keys: 0 };
              s.cpuMs += serversCpuMs(server) - cpuBefore;
              s.wallMs += performance.now() - wallBefore;
              s.commands += commands;
              s.keys += KEYS;
              spent.set(`${name} ${command}`, s);
            } catch (error) {
              failures.push(`${name} ${command} round ${round + 1}: ${(error as Error).message.slice(0, 300)}`);
              process.stderr.write(`${name} ${command}: failed: ${(error as Error).message.slice(0, 300)}\n`);
            }
            // DEL emptied the keyspace: load it again, unmeasured, for the next pass.
            if (command === 'DEL') await load(client);
          }
          process.stderr.write(`round ${round + 1}/${ROUNDS}: ${command} done\n`);
        }
      }
    } finally {
      for (const client of clients.values()) client.disconnect();
    }
  } finally {
    for (const s of servers.values()) await s.stop();
  }
  report(spent, failures);
}

function report(spent: Map<string, Spent>, failures: string[]): void {
  const round1 = (x: number): number => Math.round(x * 10) / 10;
  // null when the denominator is 0 (redis-server's CPU for a small run is under the clock's tick).
  const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
  const shown = (x: number | null): string => (x === null ? '-' : x.toFixed(2));
  const per = (name: string, command: Command): { usPerKey: number; msPerCommand: number } => {
    const s = spent.get(`${name} ${command}`);
    return s === undefined ? { usPerKey: NaN, msPerCommand: NaN } : { usPerKey: (s.cpuMs * 1000) / s.keys, msPerCommand: s.wallMs / s.commands };
  };
  const withBase = BASELINE !== undefined;
  const rows = COMMANDS.map((command) => {
    const shoal = per('this', command);
    const redis = per('redis', command);
    const base = per('base', command);
    return {
      command: `${command} ${PER_COMMAND}`,
      cpuUsPerKey: round1(shoal.usPerKey),
      msPerCommand: round1(shoal.msPerCommand),
      redisCpuUsPerKey: round1(redis.usPerKey),
      redisMsPerCommand: round1(redis.msPerCommand),
      xRedisCpu: ratio(shoal.usPerKey, redis.usPerKey),
      xRedisWall: ratio(shoal.msPerCommand, redis.msPerCommand),
      ...(withBase ? { baseCpuUsPerKey: round1(base.usPerKey), baseMsPerCommand: round1(base.msPerCommand), xBaseCpu: ratio(shoal.usPerKey, base.usPerKey), xBaseWall: ratio(shoal.msPerCommand, base.msPerCommand) } : {}),
    };
  });
  process.stdout.write(`${JSON.stringify({ benchmark: 'resp-multi-key', keys: KEYS, perCommand: PER_COMMAND, rounds: ROUNDS, baseline: BASELINE ?? null, rows, failures })}\n\n`);
  const header = ['command (keys)', 'CPU us/key', 'ms/command', 'redis us/key', 'redis ms', 'x redis CPU', 'x redis wall', ...(withBase ? ['base us/key', 'base ms', 'x base CPU', 'x base wall'] : [])];
  const lines = [
    header,
    ...rows.map((r) => [
      r.command,
      r.cpuUsPerKey.toFixed(1),
      r.msPerCommand.toFixed(1),
      r.redisCpuUsPerKey.toFixed(2),
      r.redisMsPerCommand.toFixed(1),
      shown(r.xRedisCpu),
      shown(r.xRedisWall),
      ...(withBase ? [r.baseCpuUsPerKey!.toFixed(1), r.baseMsPerCommand!.toFixed(1), shown(r.xBaseCpu!), shown(r.xBaseWall!)] : []),
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  process.stdout.write(`${lines.map((l) => l.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n')}\n`);
  process.stdout.write('\nCPU of the server processes (all three nodes) per key; ms/command is wall-clock and moves with the machine\'s load.\n');
  for (const failure of failures) process.stdout.write(`FAILED ${failure}\n`);
}

await main();
