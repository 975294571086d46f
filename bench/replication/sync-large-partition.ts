/**
 * What one anti-entropy round costs for one large partition under a trickle of writes: the
 * redis-benchmark `--cluster` shape, where every key carries the same `{tag}` and so one partition
 * holds them all, and writes in flight keep its replicas' digests differing every round.
 *
 *   node --import tsx bench/replication/sync-large-partition.ts [--keys 100000] [--rounds 20] [--in-flight 4] [--value-bytes 3]
 *
 * Two replicas (n1, n2) of one partition start with the same `--keys` records. Each round, n2
 * takes `--in-flight` writes n1 has not seen yet (and n1 gets the previous round's, as a write
 * finishing late would), then n1 runs one sync round with n2 and every message is delivered.
 * Counted per round: the bytes of every replication message sent (as encoded), the (key, version)
 * entries listed, and the CPU time of the round (process.cpuUsage, both replicas and the codec:
 * they run in this process). Runs both protocols in one process, alternating: `full` (the peer
 * announces protocol 1: whole (key, version) lists, the pre-bucket form) and `buckets`.
 * Deterministic apart from CPU time: a hand-cranked clock, no real timers or sockets.
 */
import { benchArgs, positive } from '../help.ts';
import type { Version } from '../../src/replication/hlc.ts';
import { listedEntries, PAIR, syncPair } from '../../test/unit/replication-sync-pair.ts';

const flags = benchArgs('node --import tsx bench/replication/sync-large-partition.ts', {
  keys: { kind: 'integer', value: 'N', description: 'keys in the one large partition', default: 100_000, check: positive },
  rounds: { kind: 'integer', value: 'N', description: 'anti-entropy rounds per run, the first 2 dropped (they warm the JIT)', default: 20, check: (n) => (Number(n) > 2 ? undefined : `must be 3 or more (the first 2 rounds warm the JIT and are dropped), not ${String(n)}`) },
  'in-flight': { kind: 'integer', value: 'N', description: 'writes in flight each round, keeping the digests differing', default: 4, check: positive },
  'value-bytes': { kind: 'integer', value: 'N', description: 'bytes of each value', default: 3, check: positive },
  json: { kind: 'boolean', description: 'print the result as JSON' },
});
const KEYS = Number(flags.keys);
const ROUNDS = Number(flags.rounds);
const IN_FLIGHT = Number(flags['in-flight']);
const VALUE_BYTES = Number(flags['value-bytes']);

const SYNC_INTERVAL_MS = 1_000;

interface RoundFigures {
  bytes: number;
  entries: number;
  messages: number;
  cpuMs: number;
}

function run(protocol: number): RoundFigures[] {
  let round: RoundFigures = { bytes: 0, entries: 0, messages: 0, cpuMs: 0 };
  const { nodes, put: putOn, flush, now } = syncPair({
    config: { syncIntervalMs: SYNC_INTERVAL_MS },
    protocolOf: () => protocol,
    maxMemory: 1 << 30,
    // The clock this bench started from before it shared the rig: its byte counts stay comparable.
    startMs: 1_000_000,
    onSend: (m, bytes) => {
      round.bytes += bytes;
      round.messages++;
      round.entries += listedEntries(m);
    },
  });
  const value = new Uint8Array(VALUE_BYTES).fill(120);
  let wall = now();
  const put = (name: string, key: string, version: Version): void => putOn(name, key, version, value);
  for (let i = 0; i < KEYS; i++) {
    const version: Version = { wallMs: wall, logical: i, node: 2 };
    for (const name of PAIR) put(name, `{tag}key:${String(i).padStart(12, '0')}`, version);
  }
  flush(now());
  nodes.get('n1')!.sync.start();
  const figures: RoundFigures[] = [];
  let late: [string, Version][] = [];
  let next = 0;
  for (let r = 0; r < ROUNDS; r++) {
    // Last round's writes reach n1 now; this round's are on n2 only while n1 syncs with it.
    for (const [key, version] of late) put('n1', key, version);
    late = [];
    wall += 100;
    for (let i = 0; i < IN_FLIGHT; i++) {
      const key = `{tag}key:${String((next = (next + 7919) % KEYS)).padStart(12, '0')}`;
      const version: Version = { wallMs: wall, logical: i, node: 2 };
      put('n2', key, version);
      late.push([key, version]);
    }
    flush(now());
    round = { bytes: 0, entries: 0, messages: 0, cpuMs: 0 };
    const cpu = process.cpuUsage();
    flush(now() + SYNC_INTERVAL_MS);
    const used = process.cpuUsage(cpu);
    round.cpuMs = (used.user + used.system) / 1000;
    figures.push(round);
  }
  for (const { sync } of nodes.values()) sync.stop();
  return figures;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const rows: { form: string; bytes: number; entries: number; messages: number; cpuMs: number }[] = [];
const results = new Map<string, RoundFigures[]>([['full', []], ['buckets', []]]);
// Alternating, twice each, so a machine busy in one half does not favour one form.
for (const form of ['full', 'buckets', 'full', 'buckets']) {
  // The first rounds warm the JIT: dropped.
  results.get(form)!.push(...run(form === 'full' ? 1 : 2).slice(2));
}
for (const [form, rs] of results) {
  rows.push({ form, bytes: median(rs.map((r) => r.bytes)), entries: median(rs.map((r) => r.entries)), messages: median(rs.map((r) => r.messages)), cpuMs: median(rs.map((r) => r.cpuMs)) });
}
const [full, buckets] = rows as [(typeof rows)[0], (typeof rows)[0]];
if (flags.json === true) {
  console.log(JSON.stringify({ keys: KEYS, rounds: ROUNDS, inFlight: IN_FLIGHT, rows, ratio: { bytes: full.bytes / buckets.bytes, cpu: full.cpuMs / buckets.cpuMs } }));
} else {
  console.log(`one partition of ${KEYS} keys, ${IN_FLIGHT} writes in flight per round; medians per sync round over ${2 * (ROUNDS - 2)} rounds each`);
  console.log('form      bytes sent   entries listed   messages   cpu ms');
  for (const r of rows) console.log(`${r.form.padEnd(9)} ${String(r.bytes).padStart(10)}   ${String(r.entries).padStart(14)}   ${String(r.messages).padStart(8)}   ${r.cpuMs.toFixed(1).padStart(6)}`);
  console.log(`full / buckets: bytes x${(full.bytes / buckets.bytes).toFixed(1)}, cpu x${(full.cpuMs / buckets.cpuMs).toFixed(1)}`);
}
